/* sl_config_get.c: walking the tree, typed getters, and their messages.
 *
 * Every failure reads "FILE:LINE:COL: PATH: found X, expected Y". X is the
 * JSON type and a short rendering of the value; a string that went through
 * ${VAR} substitution is rendered as written in the file, so a secret never
 * reaches a message or a log. Y is what the getter would have accepted,
 * including the range, so the user can fix the file without the docs.
 *
 * Strings are accepted where numbers, booleans, durations and sizes are
 * expected, because ${PORT:-6379} can only produce a string. The reverse is
 * not true: 5 is not a string, so a typo'd type shows up at once. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config_priv.h"

enum sl_config_type sl_config_type(const struct sl_config_node *n)
{
    return n != NULL ? n->type : SL_CONFIG_NULL;
}

static bool is_container(const struct sl_config_node *n)
{
    return n != NULL &&
           (n->type == SL_CONFIG_OBJECT || n->type == SL_CONFIG_ARRAY);
}

size_t sl_config_len(const struct sl_config_node *n)
{
    return is_container(n) ? n->u.kids.n : 0;
}

const struct sl_config_node *sl_config_at(const struct sl_config_node *n,
                                          size_t i)
{
    return is_container(n) && i < n->u.kids.n ? n->u.kids.items[i] : NULL;
}

const struct sl_config_node *sl_config_get(const struct sl_config_node *obj,
                                           const char *key)
{
    if (obj == NULL || obj->type != SL_CONFIG_OBJECT || key == NULL)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < obj->u.kids.n; i++) {
        const struct sl_config_node *m = obj->u.kids.items[i];
        if (m->key_len == len && memcmp(m->key, key, len) == 0)
            return m;
    }
    return NULL;
}

const char *sl_config_key(const struct sl_config_node *n)
{
    return n != NULL ? n->key : NULL;
}

unsigned sl_config_line(const struct sl_config_node *n)
{
    return n != NULL ? n->line : 0;
}

unsigned sl_config_column(const struct sl_config_node *n)
{
    return n != NULL ? n->col : 0;
}

static bool plain_key(const char *k, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)k[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '@')
            return false;
    }
    return true;
}

/* Appends n's path to buf at *o; parents first. */
static void path_append(const struct sl_config_node *n, char *buf, size_t size,
                        size_t *o)
{
    if (n == NULL || n->parent == NULL)
        return;
    path_append(n->parent, buf, size, o);
    if (*o >= size)
        return;
    int w;
    if (n->parent->type == SL_CONFIG_ARRAY) {
        w = snprintf(buf + *o, size - *o, "[%zu]", n->index);
    } else if (plain_key(n->key, n->key_len)) {
        w = snprintf(buf + *o, size - *o, "%s%s", *o > 0 ? "." : "", n->key);
    } else {
        char k[200];
        sl_text_quote(k, sizeof k, n->key, n->key_len, '"');
        w = snprintf(buf + *o, size - *o, "[%s]", k);
    }
    *o += w > 0 ? (size_t)w : 0;
}

void sl_config_path(const struct sl_config_node *n, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    path_append(n, buf, size, &o);
}

static int verror(const struct sl_config_node *n, bool at_key,
                  enum sl_status st, struct sl_err *err, const char *fmt,
                  va_list ap) __attribute__((format(printf, 5, 0)));

static int verror(const struct sl_config_node *n, bool at_key,
                  enum sl_status st, struct sl_err *err, const char *fmt,
                  va_list ap)
{
    char what[SL_ERR_MSG_MAX], path[SL_ERR_MSG_MAX];
    vsnprintf(what, sizeof what, fmt, ap);
    if (n == NULL)
        return sl_err_set(err, st, "%s", what);
    /* At a key we name the object holding it: "inputs[0]: unknown key". */
    sl_config_path(at_key ? n->parent : n, path, sizeof path);
    return sl_err_set(
        err, st, "%s:%u:%u: %s%s%s", n->file, at_key ? n->key_line : n->line,
        at_key ? n->key_col : n->col, path, path[0] ? ": " : "", what);
}

int sl_config_error_at(const struct sl_config_node *n, bool at_key,
                       enum sl_status st, struct sl_err *err, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(n, at_key && n != NULL && n->key != NULL, st, err, fmt, ap);
    va_end(ap);
    return -1;
}

int sl_config_error(const struct sl_config_node *n, struct sl_err *err,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(n, false, SL_EINVAL, err, fmt, ap);
    va_end(ap);
    return -1;
}

/* "a string \"x\"", "an integer 5", "an object": what a node holds. */
static void describe(const struct sl_config_node *n, char *buf, size_t size)
{
    char text[200];
    switch (n->type) {
    case SL_CONFIG_NULL:
        snprintf(buf, size, "null");
        break;
    case SL_CONFIG_BOOL:
        snprintf(buf, size, "a boolean %s", n->u.b ? "true" : "false");
        break;
    case SL_CONFIG_INT:
        snprintf(buf, size, "an integer %lld", n->u.i);
        break;
    case SL_CONFIG_DOUBLE:
        if (n->number != NULL) /* as written: 1e3, not 1000 */
            snprintf(buf, size, "a number %.40s%s", n->number,
                     strlen(n->number) > 40 ? "..." : "");
        else
            snprintf(buf, size, "a number %g", n->u.d);
        break;
    case SL_CONFIG_STRING:
        if (n->u.str.raw != NULL)
            sl_text_quote(text, sizeof text, n->u.str.raw, n->u.str.raw_len,
                          '"');
        else
            sl_text_quote(text, sizeof text, n->u.str.s, n->u.str.len, '"');
        snprintf(buf, size, "a string %s", text);
        break;
    case SL_CONFIG_ARRAY:
        snprintf(buf, size, "an array");
        break;
    case SL_CONFIG_OBJECT:
        snprintf(buf, size, "an object");
        break;
    }
}

int sl_config_error_expected(const struct sl_config_node *n, struct sl_err *err,
                             const char *fmt, ...)
{
    char expected[SL_ERR_MSG_MAX], found[240] = "nothing";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(expected, sizeof expected, fmt, ap);
    va_end(ap);
    if (n != NULL)
        describe(n, found, sizeof found);
    return sl_config_error_at(n, false, SL_EINVAL, err, "found %s, expected %s",
                              found, expected);
}
