/* sl_config.h: loading the daemons' JSON config files and reading typed
 * values out of them with errors a person can act on.
 *
 * A config is JSON with // and slash-star comments. Loading builds a tree of
 * nodes; every node knows its file, line and column (1-based, columns count
 * UTF-8 characters) and its key path (outputs[0].redis.url), so every error
 * reads
 *
 *   shipper.json:14:22: outputs[0].redis.port: found a string "x",
 *     expected an integer from 1 to 65535
 *
 * After parsing, string values (never keys) get ${VAR} and ${VAR:-default}
 * replaced from the environment ($${ is a literal ${). Substituted values may
 * be secrets: errors never show them, only the original ${...} text.
 *
 * Getters take an object and a key. An absent key gives the default and
 * returns 0; a key that is present must hold the right type or the getter
 * fails with SL_EINVAL. obj may be NULL (an absent optional section): every
 * getter then gives its default. key may be NULL: obj is then the value
 * itself, which is how array elements are read. JSON null is a wrong type,
 * not "absent". Numbers, booleans, durations and sizes are also accepted as
 * strings ("6379"), because ${VAR} only ever yields strings.
 *
 * The tree is read-only after loading and lives until sl_config_free();
 * strings returned by getters live as long. Loading is bounded: files up to
 * 16 MiB, nesting up to 64 levels. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_err.h"

struct sl_config;
struct sl_config_node;

enum sl_config_type {
    SL_CONFIG_NULL,
    SL_CONFIG_BOOL,
    SL_CONFIG_INT,
    SL_CONFIG_DOUBLE,
    SL_CONFIG_STRING,
    SL_CONFIG_ARRAY,
    SL_CONFIG_OBJECT
};

#define SL_CONFIG_MAX_FILE  (16u << 20) /* bytes */
#define SL_CONFIG_MAX_DEPTH 64          /* nested objects and arrays */

/* Loading. NULL on error: SL_EIO (cannot read), SL_EPARSE (not JSON, a
 * duplicate key), SL_ELIMIT (too big, too deep), SL_EINVAL (the top level is
 * not an object, an unset ${VAR}). name is used in messages ("shipper.json");
 * buf need not be NUL-terminated and is not kept. */
struct sl_config *sl_config_load_file(const char *path, struct sl_err *err);
struct sl_config *sl_config_load_buffer(const char *name, const char *buf,
                                        size_t len, struct sl_err *err);
void sl_config_free(struct sl_config *c); /* NULL is fine */
const struct sl_config_node *sl_config_root(const struct sl_config *c);

/* Walking. All accept NULL (len 0, at NULL, type NULL). */
enum sl_config_type sl_config_type(const struct sl_config_node *n);
/* The member of an object, or NULL if absent or obj is not an object. */
const struct sl_config_node *sl_config_get(const struct sl_config_node *obj,
                                           const char *key);
/* Members of an object or elements of an array, in file order. */
size_t sl_config_len(const struct sl_config_node *n);
const struct sl_config_node *sl_config_at(const struct sl_config_node *n,
                                          size_t i);
/* The key n sits under in its object; NULL for array elements and the root. */
const char *sl_config_key(const struct sl_config_node *n);
unsigned sl_config_line(const struct sl_config_node *n);
unsigned sl_config_column(const struct sl_config_node *n);
/* Writes the key path ("inputs[0].path", "" for the root), cut to fit. */
void sl_config_path(const struct sl_config_node *n, char *buf, size_t size);

/* Typed getters: 0 with *out set (to def if the key is absent), or -1. */
SL_MUST_CHECK int sl_config_string(const struct sl_config_node *obj,
                                   const char *key, const char *def,
                                   const char **out, struct sl_err *err);
SL_MUST_CHECK int sl_config_int(const struct sl_config_node *obj,
                                const char *key, long long def, long long min,
                                long long max, long long *out,
                                struct sl_err *err);
SL_MUST_CHECK int sl_config_double(const struct sl_config_node *obj,
                                   const char *key, double def, double min,
                                   double max, double *out, struct sl_err *err);
SL_MUST_CHECK int sl_config_bool(const struct sl_config_node *obj,
                                 const char *key, bool def, bool *out,
                                 struct sl_err *err);
/* "250ms", "5s", "1.5s", "2m", "1h", "1d", or a number of seconds. */
SL_MUST_CHECK int sl_config_duration_ms(const struct sl_config_node *obj,
                                        const char *key, long long def,
                                        long long min, long long max,
                                        long long *out, struct sl_err *err);
/* "512KiB", "1MiB", "10MB", "1GB" (units case-insensitive), or a number of
 * bytes. */
SL_MUST_CHECK int sl_config_bytes(const struct sl_config_node *obj,
                                  const char *key, long long def, long long min,
                                  long long max, long long *out,
                                  struct sl_err *err);
/* One of words (NULL-terminated); *out is its index. */
SL_MUST_CHECK int sl_config_enum(const struct sl_config_node *obj,
                                 const char *key, const char *const words[],
                                 int def, int *out, struct sl_err *err);
/* The member if it is an array (object); *out is NULL if absent. */
SL_MUST_CHECK int sl_config_array(const struct sl_config_node *obj,
                                  const char *key,
                                  const struct sl_config_node **out,
                                  struct sl_err *err);
SL_MUST_CHECK int sl_config_object(const struct sl_config_node *obj,
                                   const char *key,
                                   const struct sl_config_node **out,
                                   struct sl_err *err);
/* The member, or NULL with "missing required key 'url'". */
const struct sl_config_node *sl_config_require(const struct sl_config_node *obj,
                                               const char *key,
                                               struct sl_err *err);

/* Fails on the first key of obj not in known (NULL-terminated):
 * "unknown key 'pathh' (did you mean 'path'?)". obj NULL is fine. */
SL_MUST_CHECK int sl_config_check_keys(const struct sl_config_node *obj,
                                       const char *const known[],
                                       struct sl_err *err);

/* For checks the getters cannot make (a regex that does not compile). Both
 * set SL_EINVAL and return -1. sl_config_error: "FILE:L:C: PATH: <msg>".
 * sl_config_error_expected: "FILE:L:C: PATH: found <n>, expected <msg>",
 * where <n> renders the value as the getters do. */
int sl_config_error(const struct sl_config_node *n, struct sl_err *err,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sl_config_error_expected(const struct sl_config_node *n, struct sl_err *err,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
