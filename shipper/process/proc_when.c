/* proc_when.c: Filebeat's `when` conditions on an event, compiled once
 * from the config into a small tree and evaluated per event.
 *
 * Conditions (process_priv.h): has_fields, equals, contains, regexp, and,
 * or, not. An object with several keys, or equals/contains/regexp with
 * several fields, needs all of them, as in Filebeat. Regexes are PCRE2
 * (not Go's RE2: no backreferences there, but a PCRE2 regex is a superset
 * for what people write), matched with a match limit so that a bad one
 * costs bounded time: a limit hit is "does not match".
 *
 * equals compares a number in the config with a number in the event, or
 * with a string that reads as the same number (grok captures are strings
 * unless typed: "status": "200" equals 200); a string with a string
 * byte for byte; a bool with a bool. Not done: Filebeat's range and
 * network conditions. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_priv.h"

enum kind { W_ALL, W_ANY, W_NOT, W_HAS, W_EQUALS, W_CONTAINS, W_REGEXP };

struct proc_when {
    enum kind kind;
    struct proc_when *kids; /* W_ALL, W_ANY, W_NOT */
    size_t nkids;
    struct sl_fieldpath path; /* the leaf kinds */
    enum sl_config_type vtype;
    const char *text; /* equals, contains: the config's string */
    size_t len;
    double num;
    bool b;
    pcre2_code *re;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

static const char *const cond_names[] = {
    "has_fields", "equals", "contains", "regexp", "and", "or", "not", NULL};

static int build(struct proc_when *w, const struct sl_config_node *n,
                 struct sl_err *err);

static void release(struct proc_when *w)
{
    for (size_t i = 0; i < w->nkids; i++)
        release(&w->kids[i]);
    free(w->kids);
    sl_fieldpath_release(&w->path);
    pcre2_match_data_free(w->md);
    pcre2_match_context_free(w->mctx);
    pcre2_code_free(w->re);
}

static struct proc_when *kids_of(struct proc_when *w, size_t n,
                                 struct sl_err *err)
{
    w->kids = calloc(n ? n : 1, sizeof *w->kids);
    if (w->kids == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    return w->kids;
}

static int leaf_regexp(struct proc_when *w, const struct sl_config_node *v,
                       struct sl_err *err)
{
    const char *re;
    if (sl_config_string(v, NULL, NULL, &re, err) < 0)
        return -1;
    int code;
    PCRE2_SIZE off;
    w->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code, &off,
                          NULL);
    if (w->re == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return sl_config_error_expected(v, err,
                                        "a regular expression: %s at offset "
                                        "%zu",
                                        (const char *)msg, (size_t)off);
    }
    SL_IGNORE_RESULT(pcre2_jit_compile(w->re, PCRE2_JIT_COMPLETE));
    w->md = pcre2_match_data_create_from_pattern(w->re, NULL);
    w->mctx = pcre2_match_context_create(NULL);
    if (w->md == NULL || w->mctx == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    pcre2_set_match_limit(w->mctx, 100000);
    return 0;
}

/* One field: value of equals, contains or regexp. */
static int leaf(struct proc_when *w, enum kind k,
                const struct sl_config_node *v, struct sl_err *err)
{
    w->kind = k;
    if (proc_fieldpath(&w->path, v, sl_config_key(v), err) < 0)
        return -1;
    w->vtype = sl_config_type(v);
    if (k == W_REGEXP)
        return leaf_regexp(w, v, err);
    if (k == W_CONTAINS || w->vtype == SL_CONFIG_STRING) {
        if (sl_config_string(v, NULL, NULL, &w->text, err) < 0)
            return -1;
        w->len = strlen(w->text);
        return 0;
    }
    if (w->vtype == SL_CONFIG_BOOL)
        return sl_config_bool(v, NULL, false, &w->b, err);
    if (w->vtype == SL_CONFIG_INT || w->vtype == SL_CONFIG_DOUBLE)
        return sl_config_double(v, NULL, 0, -1e308, 1e308, &w->num, err);
    return sl_config_error_expected(v, err, "a string, number or boolean");
}

/* equals, contains, regexp: {"field": value, ...}, all must hold. */
static int fields_cond(struct proc_when *w, enum kind k,
                       const struct sl_config_node *n, struct sl_err *err)
{
    if (sl_config_type(n) != SL_CONFIG_OBJECT || sl_config_len(n) == 0)
        return sl_config_error_expected(n, err,
                                        "an object of fields and values, "
                                        "such as {\"url.path\": \"/health\"}");
    w->kind = W_ALL;
    w->nkids = sl_config_len(n);
    if (kids_of(w, w->nkids, err) == NULL)
        return -1;
    for (size_t i = 0; i < w->nkids; i++)
        if (leaf(&w->kids[i], k, sl_config_at(n, i), err) < 0)
            return -1;
    return 0;
}

static int has_fields(struct proc_when *w, const struct sl_config_node *n,
                      struct sl_err *err)
{
    const char *name;
    if (sl_config_type(n) == SL_CONFIG_STRING) { /* one field */
        w->kind = W_HAS;
        if (sl_config_string(n, NULL, NULL, &name, err) < 0)
            return -1;
        return proc_fieldpath(&w->path, n, name, err);
    }
    if (sl_config_type(n) != SL_CONFIG_ARRAY || sl_config_len(n) == 0)
        return sl_config_error_expected(n, err, "a list of field names");
    w->kind = W_ALL;
    w->nkids = sl_config_len(n);
    if (kids_of(w, w->nkids, err) == NULL)
        return -1;
    for (size_t i = 0; i < w->nkids; i++) {
        const struct sl_config_node *e = sl_config_at(n, i);
        w->kids[i].kind = W_HAS;
        if (sl_config_string(e, NULL, NULL, &name, err) < 0 ||
            proc_fieldpath(&w->kids[i].path, e, name, err) < 0)
            return -1;
    }
    return 0;
}

/* and, or: a list of conditions; not: one. */
static int logic(struct proc_when *w, enum kind k,
                 const struct sl_config_node *n, struct sl_err *err)
{
    w->kind = k;
    if (k == W_NOT) {
        w->nkids = 1;
        return kids_of(w, 1, err) == NULL ? -1 : build(w->kids, n, err);
    }
    if (sl_config_type(n) != SL_CONFIG_ARRAY || sl_config_len(n) == 0)
        return sl_config_error_expected(n, err, "a list of conditions");
    w->nkids = sl_config_len(n);
    if (kids_of(w, w->nkids, err) == NULL)
        return -1;
    for (size_t i = 0; i < w->nkids; i++)
        if (build(&w->kids[i], sl_config_at(n, i), err) < 0)
            return -1;
    return 0;
}

static int one(struct proc_when *w, const struct sl_config_node *m,
               struct sl_err *err)
{
    const char *k = sl_config_key(m);
    if (strcmp(k, "has_fields") == 0)
        return has_fields(w, m, err);
    if (strcmp(k, "equals") == 0)
        return fields_cond(w, W_EQUALS, m, err);
    if (strcmp(k, "contains") == 0)
        return fields_cond(w, W_CONTAINS, m, err);
    if (strcmp(k, "regexp") == 0)
        return fields_cond(w, W_REGEXP, m, err);
    return logic(w,
                 strcmp(k, "and") == 0  ? W_ALL
                 : strcmp(k, "or") == 0 ? W_ANY
                                        : W_NOT,
                 m, err);
}

static int build(struct proc_when *w, const struct sl_config_node *n,
                 struct sl_err *err)
{
    if (sl_config_type(n) != SL_CONFIG_OBJECT || sl_config_len(n) == 0)
        return sl_config_error_expected(n, err,
                                        "a condition, such as {\"equals\": "
                                        "{\"field\": \"value\"}}");
    if (sl_config_check_keys(n, cond_names, err) < 0)
        return -1;
    if (sl_config_len(n) == 1)
        return one(w, sl_config_at(n, 0), err);
    w->kind = W_ALL;
    w->nkids = sl_config_len(n);
    if (kids_of(w, w->nkids, err) == NULL)
        return -1;
    for (size_t i = 0; i < w->nkids; i++)
        if (one(&w->kids[i], sl_config_at(n, i), err) < 0)
            return -1;
    return 0;
}

struct proc_when *proc_when_new(const struct sl_config_node *cond,
                                struct sl_err *err)
{
    struct proc_when *w = calloc(1, sizeof *w);
    if (w == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    if (build(w, cond, err) < 0) {
        proc_when_free(w);
        return NULL;
    }
    return w;
}

void proc_when_free(struct proc_when *w)
{
    if (w == NULL)
        return;
    release(w);
    free(w);
}

/* ---- evaluating --------------------------------------------------------- */

static bool number_of(struct sl_slice t, double *out)
{
    char buf[64];
    if (t.len == 0 || t.len >= sizeof buf)
        return false;
    memcpy(buf, t.ptr, t.len);
    buf[t.len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0' && end != buf;
}

static bool scalar_meets(struct proc_when *w, const struct sl_value *v)
{
    double d;
    switch (w->kind) {
    case W_EQUALS:
        if (w->vtype == SL_CONFIG_STRING)
            return v->type == SL_VALUE_STRING &&
                   sl_slice_eq(v->text, w->text, w->len);
        if (w->vtype == SL_CONFIG_BOOL)
            return v->type == SL_VALUE_BOOL &&
                   sl_slice_eq(v->text, w->b ? "true" : "false", w->b ? 4 : 5);
        return (v->type == SL_VALUE_NUMBER || v->type == SL_VALUE_STRING) &&
               number_of(v->text, &d) && d == w->num;
    case W_CONTAINS:
        if (v->type != SL_VALUE_STRING)
            return false;
        if (w->len == 0)
            return true;
        for (size_t i = 0; i + w->len <= v->text.len; i++)
            if (memcmp(v->text.ptr + i, w->text, w->len) == 0)
                return true;
        return false;
    case W_REGEXP:
        if (v->type != SL_VALUE_STRING && v->type != SL_VALUE_NUMBER)
            return false;
        return pcre2_match(w->re, (PCRE2_SPTR)(v->text.len ? v->text.ptr : ""),
                           v->text.len, 0, 0, w->md, w->mctx) >= 0;
    default:
        return false;
    }
}

bool proc_when_eval(struct proc_when *w, const struct sl_event *ev)
{
    switch (w->kind) {
    case W_ALL:
        for (size_t i = 0; i < w->nkids; i++)
            if (!proc_when_eval(&w->kids[i], ev))
                return false;
        return true;
    case W_ANY:
        for (size_t i = 0; i < w->nkids; i++)
            if (proc_when_eval(&w->kids[i], ev))
                return true;
        return false;
    case W_NOT:
        return !proc_when_eval(w->kids, ev);
    case W_HAS:
        return sl_event_get(ev, &w->path) != NULL;
    default:
        break;
    }
    const struct sl_value *v = sl_event_get(ev, &w->path);
    if (v == NULL)
        return false;
    if (v->type != SL_VALUE_ARRAY)
        return scalar_meets(w, v);
    for (const struct sl_value *e = v->first; e != NULL; e = e->next)
        if (scalar_meets(w, e))
            return true;
    return false;
}
