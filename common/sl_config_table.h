/* sl_config_table.h: one static table per config section, from which come
 * the parsing, the defaults, the range checks, the unknown-key check with
 * "did you mean", `check`, and the configuration reference in the README.
 *
 * A table lists a section's keys; each entry says the key, its type, where
 * its value goes in the caller's struct (SL_OPT_FIELD), its default as a user
 * would write it ("5s", "1MiB", "info", "true"), its range, whether it is
 * required or secret, and one line of help:
 *
 *   struct sl_log_section { enum sl_log_level level; ... };
 *   #define F(m) SL_OPT_FIELD(struct sl_log_section, m)
 *   static const struct sl_opt log_opts[] = {
 *       {"level", SL_OPT_ENUM, F(level), .def = "info",
 *        .words = sl_log_level_names, .help = "the lowest level written"},
 *       SL_OPT_END};
 *   const struct sl_config_table sl_log_section_table = {
 *       "log", sizeof(struct sl_log_section), log_opts, NULL};
 *
 * sl_config_table_fill() gives every key its default, then reads each key
 * present through the getters of sl_config.h, so the messages are theirs:
 *
 *   shipper.json:9:16: log.level: found a string "verbos", expected one of
 *     "error", "warn", "info", "debug" (did you mean "debug"?)
 *
 * A key the table does not list is refused ("unknown key 'levle' (did you
 * mean 'level'?)"). A nested object is a sub-table whose struct is embedded
 * in the parent's; an array of objects is a sub-table per element, in an
 * array the fill allocates; what a table cannot describe (a list of
 * processors, each its own shape) stays a raw node for the caller to read.
 *
 * Ranges: min and max bound an integer, a size or a duration, and the number
 * of elements of a list. Both 0 (the zero initialiser) means unbounded: an
 * option whose only value is 0 makes no sense.
 *
 * Secrets: a SL_OPT_SECRET value is never shown, neither in a message (a
 * wrong type says "found an integer", not which) nor in the reference. A
 * ${VAR} is never shown by any message anyway (sl_config.h).
 *
 * Lifetimes: strings and raw nodes in the filled struct point into the
 * config and live until sl_config_free(); lists of strings and arrays of
 * objects are allocated by the fill and freed by sl_config_table_release(),
 * which is safe on a struct whose fill failed (the fill releases before
 * failing) and on a zeroed one. */
#ifndef SL_CONFIG_TABLE_H
#define SL_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_err.h"

enum sl_opt_type {
    SL_OPT_BOOL,     /* bool */
    SL_OPT_INT,      /* long long, from min to max */
    SL_OPT_SIZE,     /* long long bytes, "64KiB", "1MiB"; from min to max */
    SL_OPT_DURATION, /* long long milliseconds, "500ms", "5s"; min to max */
    SL_OPT_STRING,   /* const char *; NULL when absent without a default */
    SL_OPT_ENUM,     /* int (or an enum): the value's index in words */
    SL_OPT_STRINGS,  /* struct sl_opt_strings; min to max elements; a single
                        string in the file is a list of one */
    SL_OPT_OBJECT,   /* the struct that table sub fills, embedded at offset */
    SL_OPT_OBJECTS,  /* struct sl_opt_objects: an array of objects, each
                        filled by sub; min to max elements */
    SL_OPT_RAW       /* const struct sl_config_node *; NULL when absent */
};

/* Absent from its object: "missing required key 'url'". An absent section
 * is not checked for its required keys (it is off, or all defaults); a
 * section that must be there is itself required. */
#define SL_OPT_REQUIRED 1u
#define SL_OPT_SECRET   2u /* SL_OPT_STRING only: never shown */

/* A list of strings; v points into the config or at the table's default. */
struct sl_opt_strings {
    const char *const *v;
    size_t n;
};

/* n elements of sub->size bytes each, allocated by the fill. */
struct sl_opt_objects {
    void *v;
    size_t n;
};

struct sl_config_table;

struct sl_opt {
    const char *key; /* NULL ends the table */
    enum sl_opt_type type;
    size_t offset, size; /* where and how big: SL_OPT_FIELD(struct, member) */
    const char *def;     /* default as written in a file; NULL: none */
    long long min, max;  /* see "Ranges" above */
    const char *const *words;          /* SL_OPT_ENUM: NULL-terminated */
    const struct sl_config_table *sub; /* SL_OPT_OBJECT, SL_OPT_OBJECTS */
    unsigned flags;                    /* SL_OPT_REQUIRED | SL_OPT_SECRET */
    size_t present; /* SL_OPT_PRESENT(struct, bool member): set to whether
                       the key is in the file; 0: not recorded */
    const char *doc_default; /* the reference's default when the table's
                                check computes it ("the machine's name") */
    const char *doc_type;    /* the reference's type for a SL_OPT_RAW */
    const char *help;        /* one line for the reference */
};

/* The last entry of every table. */
#define SL_OPT_END                                                             \
    {                                                                          \
        .key = NULL                                                            \
    }

#define SL_OPT_FIELD(type, member)                                             \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define SL_OPT_PRESENT(type, member) (offsetof(type, member) + 1)

/* Checks what one key cannot say about itself ("exactly one of", a default
 * computed from another key). Runs after the section's keys are filled,
 * also when the section is absent (obj NULL). 0, or -1 with err set: use
 * sl_config_error() on obj or one of its members, as the fill does. */
typedef int (*sl_config_check_fn)(const struct sl_config_node *obj, void *out,
                                  struct sl_err *err);

struct sl_config_table {
    const char *name;          /* in the reference and sl_config_table_verify */
    size_t size;               /* of the struct the table fills */
    const struct sl_opt *opts; /* ends with SL_OPT_END */
    sl_config_check_fn check;  /* may be NULL */
};

#define SL_CONFIG_TABLE_MAX_KEYS 64

/* Fills out (a struct of t->size bytes) from obj, an object or NULL (an
 * absent section: defaults only). Every key of the table is set: its value,
 * else its default, else zero (NULL, false, 0, an empty list). On failure
 * (SL_EINVAL; SL_ENOMEM) what the fill allocated is released, and err says
 * "FILE:L:C: KEY.PATH: ..." as the getters do. */
SL_MUST_CHECK int sl_config_table_fill(const struct sl_config_table *t,
                                       const struct sl_config_node *obj,
                                       void *out, struct sl_err *err);

/* Frees what the fill allocated in out (lists, arrays of objects, also
 * inside them) and zeroes those fields. A zeroed struct is fine. */
void sl_config_table_release(const struct sl_config_table *t, void *out);

/* For tests: the table is consistent. Keys are unique and at most
 * SL_CONFIG_TABLE_MAX_KEYS; each field has the size its type writes; each
 * default parses and is in range; an enum has words and a default (or is
 * required); a required key has no default; only strings are secret and a
 * secret has no default; sub-tables are present and consistent. */
SL_MUST_CHECK int sl_config_table_verify(const struct sl_config_table *t,
                                         struct sl_err *err);

/* Appends the reference of t as a Markdown table to out: one row per key,
 * nested keys as "output.redis.url" and "inputs[].paths", with the type and
 * range in the words of the error messages, the default, and the help.
 * prefix goes before every key ("" or "output."). */
SL_MUST_CHECK int
sl_config_table_write_markdown(const struct sl_config_table *t,
                               const char *prefix, struct sl_buf *out,
                               struct sl_err *err);

#endif
