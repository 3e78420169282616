/* sl_config_priv.h: the node tree shared by sl_config.c (parsing),
 * sl_config_subst.c (${VAR}) and sl_config_get.c (getters and messages).
 * sl_config_table.c reads nodes through it too. Nothing else includes it,
 * but the unit test that checks position_work.
 *
 * Every node and string lives in the config's arena, freed at once by
 * sl_config_free(). Containers keep their children in an array built when
 * the container closes (`items`, `n`); while parsing they are chained through
 * `next`. */
#ifndef SL_CONFIG_PRIV_H
#define SL_CONFIG_PRIV_H

#include "sl_arena.h"
#include "sl_config.h"
#include "sl_text.h"

struct sl_config_node {
    enum sl_config_type type;
    unsigned line, col;         /* where the value starts */
    unsigned key_line, key_col; /* where its key starts, in an object */
    const char *file;           /* the config's name */
    const struct sl_config_node *parent;
    const char *key; /* NUL-terminated; NULL unless parent is an object */
    size_t key_len;  /* a key may hold \u0000 */
    size_t index;    /* position in parent */
    struct sl_config_node *next;
    const char *number; /* a number as written (1e3 for 1000.0); else NULL */
    union {
        bool b;
        long long i;
        double d;
        struct {
            char *s;         /* NUL-terminated, after substitution */
            size_t len;      /* may be > strlen(s) if it holds \u0000 */
            const char *raw; /* before substitution; NULL if none applied */
            size_t raw_len;
        } str;
        struct {
            struct sl_config_node **items;
            size_t n;
            struct sl_config_node *first, *last; /* while parsing */
        } kids;
    } u;
};

struct sl_config {
    struct sl_arena *arena;
    const char *name;
    struct sl_config_node *root;
    size_t position_work; /* bytes walked to find positions (tests) */
};

/* Replaces ${VAR} in every string value under n. */
int sl_config_subst_tree(struct sl_config *c, struct sl_config_node *n,
                         struct sl_err *err);

/* Like sl_config_error, with a status and optionally at the key. */
int sl_config_error_at(const struct sl_config_node *n, bool at_key,
                       enum sl_status st, struct sl_err *err, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));

/* What a getter accepts, in its messages' words, without the examples:
 * "an integer from 1 to 65535", "a duration of at least 1s", "a size". */
enum sl_config_kind {
    SL_CONFIG_KIND_INT,
    SL_CONFIG_KIND_DURATION,
    SL_CONFIG_KIND_SIZE
};
void sl_config_expected_text(char *buf, size_t size, enum sl_config_kind kind,
                             long long min, long long max);

/* The first offset at or after i that is not white space or a comment (an
 * unterminated comment stops it at the comment's start). */
size_t sl_config_skip_space(const char *b, size_t len, size_t i);

/* A syntax error as the parser saw it (sl_config_syntax.c). */
struct sl_config_syntax {
    const char *buf;
    size_t len;
    size_t last;      /* offset just after the last good token */
    size_t off;       /* where yajl stopped */
    bool at_end;      /* the file ended early */
    const char *yajl; /* yajl's message */
    const struct sl_config_node *open; /* innermost open container, or NULL */
};
struct sl_config_explained {
    size_t at; /* the offset to report */
    char reason[240];
};
/* Better words and place for the errors people make most by hand
 * (trailing comma, \d in a string, a string or object left open...):
 * true with e filled, false to keep yajl's. */
bool sl_config_syntax_explain(const struct sl_config_syntax *s,
                              struct sl_config_explained *e);

#endif
