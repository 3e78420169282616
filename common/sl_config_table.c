/* sl_config_table.c: filling a struct from a config object through a table
 * of options, and writing the table's reference in Markdown.
 *
 * A fill runs in two passes over the table. The first gives every field its
 * default and allocates nothing, so that whatever fails later, every field
 * holds something sl_config_table_release() can free (a list that still
 * points at the table's default is recognised and left alone). The second
 * reads the keys present through the getters of sl_config_value.c, whose
 * messages are the ones users see everywhere; this file adds only what they
 * cannot say: a missing required key, a secret of the wrong type (shown
 * without its value), a list with too few elements.
 *
 * Defaults are strings as a user writes them and are parsed by the same
 * getters, through a node made on the stack: "5s" in a table means what
 * "5s" in a file means, and the reference prints the table's text as is.
 * sl_config_table_verify() parses every default once, in the tests, so a
 * bad one never reaches a user.
 *
 * This file does not know any section: the tables live beside the code that
 * uses them (common/sl_config_sections.c, shipper/, indexer/). */
#include "sl_config_table.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config_priv.h"

static int fill_table(const struct sl_config_table *t,
                      const struct sl_config_node *obj, void *out,
                      struct sl_err *err);

static void *field(void *out, const struct sl_opt *o)
{
    return (char *)out + o->offset;
}

static void store(void *out, const struct sl_opt *o, const void *v, size_t n)
{
    memcpy(field(out, o), v, n);
}

static void bounds(const struct sl_opt *o, long long *lo, long long *hi)
{
    *lo = o->min;
    *hi = o->max;
    if (o->min == 0 && o->max == 0) {
        *lo = o->type == SL_OPT_INT ? LLONG_MIN : 0;
        *hi = LLONG_MAX;
    }
}

static const char *article(enum sl_config_type t)
{
    static const char *const names[] = {"null",     "a boolean", "an integer",
                                        "a number", "a string",  "an array",
                                        "an object"};
    return names[t];
}

/* "a list of strings (at least 1)", as messages and the reference say. */
static void list_text(const struct sl_opt *o, const char *what, char *buf,
                      size_t size)
{
    long long lo, hi;
    bounds(o, &lo, &hi);
    if (lo <= 0 && hi == LLONG_MAX)
        snprintf(buf, size, "a list of %s", what);
    else if (hi == LLONG_MAX)
        snprintf(buf, size, "a list of %s (at least %lld)", what, lo);
    else if (lo <= 0)
        snprintf(buf, size, "a list of %s (at most %lld)", what, hi);
    else
        snprintf(buf, size, "a list of %s (%lld to %lld)", what, lo, hi);
}

static int count_ok(const struct sl_opt *o, const struct sl_config_node *n,
                    size_t count, const char *what, struct sl_err *err)
{
    long long lo, hi;
    bounds(o, &lo, &hi);
    if ((long long)count >= lo &&
        (unsigned long long)count <= (unsigned long long)hi)
        return 0;
    char text[96];
    list_text(o, what, text, sizeof text);
    return sl_config_error(n, err, "found %zu element%s, expected %s", count,
                           count == 1 ? "" : "s", text);
}

/* A string, or an array of strings; the array of pointers is allocated. */
static int read_strings(const struct sl_opt *o, const struct sl_config_node *n,
                        struct sl_opt_strings *dst, struct sl_err *err)
{
    bool one = sl_config_type(n) == SL_CONFIG_STRING;
    if (!one && sl_config_type(n) != SL_CONFIG_ARRAY) {
        char text[96];
        list_text(o, "strings", text, sizeof text);
        return sl_config_error_expected(n, err, "%s", text);
    }
    size_t count = one ? 1 : sl_config_len(n);
    dst->v = NULL; /* [] is an empty list, not the default */
    dst->n = 0;
    if (count_ok(o, n, count, "strings", err) < 0)
        return -1;
    if (count == 0)
        return 0;
    const char **v = calloc(count, sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    dst->v = v; /* owned from here: release frees it */
    dst->n = count;
    for (size_t i = 0; i < count; i++)
        if (sl_config_string(one ? n : sl_config_at(n, i), NULL, NULL, &v[i],
                             err) < 0)
            return -1;
    return 0;
}

static int read_objects(const struct sl_opt *o, const struct sl_config_node *n,
                        struct sl_opt_objects *dst, struct sl_err *err)
{
    if (sl_config_type(n) != SL_CONFIG_ARRAY) {
        char text[96];
        list_text(o, "objects", text, sizeof text);
        return sl_config_error_expected(n, err, "%s", text);
    }
    size_t count = sl_config_len(n);
    if (count_ok(o, n, count, "objects", err) < 0)
        return -1;
    if (count == 0)
        return 0;
    char *v = calloc(count, o->sub->size);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    dst->v = v;
    dst->n = count;
    /* Elements not filled yet are zeroed, which release accepts. */
    for (size_t i = 0; i < count; i++) {
        if (fill_table(o->sub, sl_config_at(n, i), v + i * o->sub->size, err) <
            0)
            return -1;
    }
    return 0;
}

static int read_secret(const struct sl_config_node *n, const char **dst,
                       struct sl_err *err)
{
    if (sl_config_type(n) != SL_CONFIG_STRING ||
        strlen(n->u.str.s) != n->u.str.len)
        return sl_config_error(
            n, err, "found %s, expected a string%s", article(sl_config_type(n)),
            sl_config_type(n) == SL_CONFIG_STRING ? " without \\u0000" : "");
    *dst = n->u.str.s;
    return 0;
}

/* Reads n, a node of the file or a default, into o's field of out. */
static int read_value(const struct sl_opt *o, const struct sl_config_node *n,
                      void *out, struct sl_err *err)
{
    long long lo, hi, v = 0;
    const char *s = NULL;
    bool b = false;
    int e = 0, rc = 0;
    bounds(o, &lo, &hi);
    switch (o->type) {
    case SL_OPT_BOOL:
        if ((rc = sl_config_bool(n, NULL, false, &b, err)) == 0)
            store(out, o, &b, sizeof b);
        return rc;
    case SL_OPT_INT:
        rc = sl_config_int(n, NULL, 0, lo, hi, &v, err);
        break;
    case SL_OPT_SIZE:
        rc = sl_config_bytes(n, NULL, 0, lo, hi, &v, err);
        break;
    case SL_OPT_DURATION:
        rc = sl_config_duration_ms(n, NULL, 0, lo, hi, &v, err);
        break;
    case SL_OPT_STRING:
        rc = o->flags & SL_OPT_SECRET
                 ? read_secret(n, &s, err)
                 : sl_config_string(n, NULL, NULL, &s, err);
        if (rc == 0)
            store(out, o, &s, sizeof s);
        return rc;
    case SL_OPT_ENUM:
        if ((rc = sl_config_enum(n, NULL, o->words, 0, &e, err)) == 0)
            store(out, o, &e, sizeof e);
        return rc;
    case SL_OPT_STRINGS:
        return read_strings(o, n, field(out, o), err);
    case SL_OPT_OBJECT:
        return fill_table(o->sub, n, field(out, o), err);
    case SL_OPT_OBJECTS:
        return read_objects(o, n, field(out, o), err);
    case SL_OPT_RAW:
        store(out, o, &n, sizeof n);
        return 0;
    }
    if (rc == 0)
        store(out, o, &v, sizeof v);
    return rc;
}

/* A default, parsed as if it were written in a file. */
static int read_default(const struct sl_opt *o, void *out, struct sl_err *err)
{
    struct sl_config_node d = {.type = SL_CONFIG_STRING, .file = "(default)"};
    d.u.str.s = (char *)o->def;
    d.u.str.len = strlen(o->def);
    return read_value(o, &d, out, err);
}

/* Pass one: every field gets its default; nothing is allocated. All are
 * zeroed first, so that a default that fails (only in a table that
 * sl_config_table_verify() would refuse) leaves nothing to free. */
static int set_defaults(const struct sl_config_table *t, void *out,
                        struct sl_err *err)
{
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++) {
        memset(field(out, o), 0, o->size);
        if (o->present != 0)
            memset((char *)out + o->present - 1, 0, sizeof(bool));
    }
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++) {
        if (o->type == SL_OPT_OBJECT) {
            if (set_defaults(o->sub, field(out, o), err) < 0)
                return -1;
        } else if (o->def == NULL) {
            continue;
        } else if (o->type == SL_OPT_STRING) {
            store(out, o, &o->def, sizeof o->def);
        } else if (o->type == SL_OPT_STRINGS) {
            struct sl_opt_strings one = {&o->def, 1};
            store(out, o, &one, sizeof one);
        } else if (read_default(o, out, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int check_keys(const struct sl_config_table *t,
                      const struct sl_config_node *obj, struct sl_err *err)
{
    const char *known[SL_CONFIG_TABLE_MAX_KEYS + 1];
    size_t k = 0;
    for (const struct sl_opt *o = t->opts;
         o->key != NULL && k < SL_CONFIG_TABLE_MAX_KEYS; o++)
        known[k++] = o->key;
    known[k] = NULL;
    return sl_config_check_keys(obj, known, err);
}

/* a, b and c into buf; a key path too long for it is cut, which only makes
 * a row of the reference less precise. */
static void join(char *buf, size_t size, const char *a, const char *b,
                 const char *c)
{
    if (snprintf(buf, size, "%s%s%s", a, b, c) >= (int)size)
        buf[size - 1] = '\0';
}

/* Required means required in an object that is there: an absent section
 * is off, or all defaults, and its own check still runs (it may compute a
 * default). A section that must be there is itself required. */
static int fill_table(const struct sl_config_table *t,
                      const struct sl_config_node *obj, void *out,
                      struct sl_err *err)
{
    if (set_defaults(t, out, err) < 0 || check_keys(t, obj, err) < 0)
        return -1;
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++) {
        const struct sl_config_node *n = sl_config_get(obj, o->key);
        if (o->present != 0) {
            bool is = n != NULL;
            memcpy((char *)out + o->present - 1, &is, sizeof is);
        }
        int rc = 0;
        if (n != NULL)
            rc = read_value(o, n, out, err);
        else if (obj != NULL && (o->flags & SL_OPT_REQUIRED))
            rc = sl_config_error(obj, err, "missing required key '%s'", o->key);
        else if (o->type == SL_OPT_OBJECT)
            rc = fill_table(o->sub, NULL, field(out, o), err);
        if (rc < 0)
            return -1;
    }
    return t->check != NULL ? t->check(obj, out, err) : 0;
}

int sl_config_table_fill(const struct sl_config_table *t,
                         const struct sl_config_node *obj, void *out,
                         struct sl_err *err)
{
    if (fill_table(t, obj, out, err) < 0) {
        sl_config_table_release(t, out);
        return -1;
    }
    return 0;
}

void sl_config_table_release(const struct sl_config_table *t, void *out)
{
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++) {
        if (o->type == SL_OPT_OBJECT) {
            sl_config_table_release(o->sub, field(out, o));
        } else if (o->type == SL_OPT_STRINGS) {
            struct sl_opt_strings *l = field(out, o);
            if (l->v != &o->def)
                free((void *)l->v);
            l->v = NULL;
            l->n = 0;
        } else if (o->type == SL_OPT_OBJECTS) {
            struct sl_opt_objects *l = field(out, o);
            for (size_t i = 0; i < l->n; i++)
                sl_config_table_release(o->sub,
                                        (char *)l->v + i * o->sub->size);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
    }
}

static size_t type_size(const struct sl_opt *o)
{
    switch (o->type) {
    case SL_OPT_BOOL:
        return sizeof(bool);
    case SL_OPT_INT:
    case SL_OPT_SIZE:
    case SL_OPT_DURATION:
        return sizeof(long long);
    case SL_OPT_STRING:
        return sizeof(const char *);
    case SL_OPT_ENUM:
        return sizeof(int);
    case SL_OPT_STRINGS:
        return sizeof(struct sl_opt_strings);
    case SL_OPT_OBJECT:
        return o->sub != NULL ? o->sub->size : 0;
    case SL_OPT_OBJECTS:
        return sizeof(struct sl_opt_objects);
    case SL_OPT_RAW:
        return sizeof(const struct sl_config_node *);
    }
    return 0;
}

/* What is wrong with o on its own, or NULL. */
static const char *opt_fault(const struct sl_config_table *t,
                             const struct sl_opt *o)
{
    bool nested = o->type == SL_OPT_OBJECT || o->type == SL_OPT_OBJECTS;
    if (nested != (o->sub != NULL))
        return nested ? "has no sub-table" : "has a sub-table";
    if (o->size != type_size(o))
        return "its field's size does not match its type";
    if (o->offset + o->size > t->size ||
        (o->present != 0 && o->present - 1 + sizeof(bool) > t->size))
        return "its field lies outside the struct";
    if ((o->flags & SL_OPT_REQUIRED) && o->def != NULL)
        return "is required and has a default";
    if ((o->flags & SL_OPT_SECRET) &&
        (o->type != SL_OPT_STRING || o->def != NULL))
        return "is secret but not a string without a default";
    if (o->def != NULL && (nested || o->type == SL_OPT_RAW))
        return "cannot have a default";
    if (o->type == SL_OPT_ENUM && (o->words == NULL || o->words[0] == NULL))
        return "is an enum without words";
    if (o->type == SL_OPT_ENUM && o->def == NULL &&
        !(o->flags & SL_OPT_REQUIRED))
        return "is an enum with neither a default nor SL_OPT_REQUIRED";
    if (o->min > o->max)
        return "has min above max";
    if (o->help == NULL || o->help[0] == '\0')
        return "has no help";
    return NULL;
}

int sl_config_table_verify(const struct sl_config_table *t, struct sl_err *err)
{
    size_t count = 0;
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++, count++) {
        const char *fault = opt_fault(t, o);
        for (const struct sl_opt *p = t->opts; fault == NULL && p < o; p++)
            if (strcmp(p->key, o->key) == 0)
                fault = "is listed twice";
        if (fault == NULL && count >= SL_CONFIG_TABLE_MAX_KEYS)
            fault = "is one key too many";
        if (fault != NULL)
            return sl_err_set(err, SL_EINVAL, "table '%s': key '%s' %s",
                              t->name, o->key, fault);
        if (o->def != NULL && o->type != SL_OPT_STRING &&
            o->type != SL_OPT_STRINGS) {
            struct sl_opt at0 = *o; /* parsed into tmp, not a struct */
            long long tmp[2];
            at0.offset = 0;
            if (read_default(&at0, tmp, err) < 0) {
                sl_err_prefix(err, "table '%s': key '%s': default", t->name,
                              o->key);
                return -1;
            }
        }
        if (o->sub != NULL && sl_config_table_verify(o->sub, err) < 0)
            return -1;
    }
    return 0;
}

/* Appends s with '|' escaped, so it stays in its cell. */
static int cell(struct sl_buf *b, const char *s, struct sl_err *err)
{
    for (; *s != '\0'; s++) {
        if (*s == '|' && sl_buf_append_char(b, '\\', err) < 0)
            return -1;
        if (sl_buf_append_char(b, *s == '\n' ? ' ' : *s, err) < 0)
            return -1;
    }
    return 0;
}

static void type_text(const struct sl_opt *o, char *buf, size_t size)
{
    long long lo, hi;
    bounds(o, &lo, &hi);
    size_t n = 0;
    switch (o->type) {
    case SL_OPT_BOOL:
        snprintf(buf, size, "true or false");
        break;
    case SL_OPT_INT:
        sl_config_expected_text(buf, size, SL_CONFIG_KIND_INT, lo, hi);
        break;
    case SL_OPT_SIZE:
        sl_config_expected_text(buf, size, SL_CONFIG_KIND_SIZE, lo, hi);
        break;
    case SL_OPT_DURATION:
        sl_config_expected_text(buf, size, SL_CONFIG_KIND_DURATION, lo, hi);
        break;
    case SL_OPT_STRING:
        snprintf(buf, size, "a string%s",
                 o->flags & SL_OPT_SECRET ? " (secret: never shown)" : "");
        break;
    case SL_OPT_ENUM:
        n = (size_t)snprintf(buf, size, "one of");
        for (size_t i = 0; o->words[i] != NULL && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s `%s`",
                                  i > 0 ? "," : "", o->words[i]);
        break;
    case SL_OPT_STRINGS:
        list_text(o, "strings", buf, size);
        break;
    case SL_OPT_OBJECT:
        snprintf(buf, size, "an object");
        break;
    case SL_OPT_OBJECTS:
        list_text(o, "objects", buf, size);
        break;
    case SL_OPT_RAW:
        snprintf(buf, size, "%s", o->doc_type != NULL ? o->doc_type : "any");
        break;
    }
}

static void default_text(const struct sl_opt *o, char *buf, size_t size)
{
    if (o->flags & SL_OPT_REQUIRED)
        snprintf(buf, size, "required");
    else if (o->doc_default != NULL)
        snprintf(buf, size, "%s", o->doc_default);
    else if (o->def == NULL)
        snprintf(buf, size, "%s",
                 o->type == SL_OPT_OBJECT || o->type == SL_OPT_RAW ? ""
                                                                   : "none");
    else if (o->type == SL_OPT_BOOL || o->type == SL_OPT_INT)
        snprintf(buf, size, "`%s`", o->def);
    else if (o->type == SL_OPT_STRINGS)
        snprintf(buf, size, "`[\"%s\"]`", o->def);
    else
        snprintf(buf, size, "`\"%s\"`", o->def);
}

static int rows(const struct sl_config_table *t, const char *prefix,
                struct sl_buf *out, struct sl_err *err)
{
    for (const struct sl_opt *o = t->opts; o->key != NULL; o++) {
        char key[256], type[512], def[256];
        join(key, sizeof key, prefix, o->key, "");
        type_text(o, type, sizeof type);
        default_text(o, def, sizeof def);
        if (sl_buf_printf(out, err, "| `%s` | ", key) < 0 ||
            cell(out, type, err) < 0 || sl_buf_append_str(out, " | ", err) ||
            cell(out, def, err) < 0 || sl_buf_append_str(out, " | ", err) ||
            cell(out, o->help, err) < 0 ||
            sl_buf_append_str(out, " |\n", err) < 0)
            return -1;
        if (o->sub == NULL)
            continue;
        char sub[300];
        join(sub, sizeof sub, key, o->type == SL_OPT_OBJECTS ? "[]." : ".", "");
        if (rows(o->sub, sub, out, err) < 0)
            return -1;
    }
    return 0;
}

int sl_config_table_write_markdown(const struct sl_config_table *t,
                                   const char *prefix, struct sl_buf *out,
                                   struct sl_err *err)
{
    if (sl_buf_append_str(out,
                          "| key | value | default | meaning |\n"
                          "| --- | --- | --- | --- |\n",
                          err) < 0)
        return -1;
    return rows(t, prefix, out, err);
}
