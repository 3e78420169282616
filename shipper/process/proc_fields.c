/* proc_fields.c: the small processors that edit fields, after Filebeat's:
 *
 *   add_fields  {"fields": {"service.name": "shop", "env": {"tier": 1}},
 *                "target": ""}     sets each field (dotted names nest;
 *                                  objects nest), overwriting
 *   add_tags    {"tags": ["web"]}  appends tags, once each
 *   rename      {"fields": [{"from": "a", "to": "b.c"}]}  moves a value
 *                                  (an object with its members), in order;
 *                                  a missing "from" is skipped
 *   remove      {"fields": ["a", "b.c"]}  removes fields; missing is fine
 *   drop        {}                 discards the event (with `when`: those
 *                                  that meet it, such as health checks)
 *
 * Values of add_fields are the config's bytes (numbers formatted once), so
 * events borrow from the chain, which lives as long as the config. A field
 * that cannot be set (its parent holds a string) tags the event
 * _fieldfailure; rename then leaves the value where it was. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_priv.h"
#include "sl_json.h"

/* ---- add_fields --------------------------------------------------------- */

struct add_item {
    struct sl_fieldpath path;
    enum sl_value_type type;
    const char *text;
    size_t len;
    char num[64]; /* a number's text */
};

struct add_fields {
    struct add_item *items;
    size_t n, cap;
};

struct add_fields_opts {
    const struct sl_config_node *when, *fields;
    const char *target;
};

#define AF(m) SL_OPT_FIELD(struct add_fields_opts, m)
static const struct sl_opt add_fields_opts[] = {
    PROC_WHEN_OPT(struct add_fields_opts),
    {"fields", SL_OPT_RAW, AF(fields), .flags = SL_OPT_REQUIRED,
     .doc_type = "an object",
     .help = "the fields to set and their values (strings, numbers, "
             "booleans, objects); dotted names nest"},
    {"target", SL_OPT_STRING, AF(target), .def = "",
     .help = "an object to put the fields under; \"\": the top level"},
    SL_OPT_END};
static const struct sl_config_table add_fields_table = {
    "add_fields", sizeof(struct add_fields_opts), add_fields_opts, NULL};

static struct add_item *add_item_new(struct add_fields *af, struct sl_err *err)
{
    if (af->n == af->cap) {
        size_t cap = af->cap ? af->cap * 2 : 8;
        struct add_item *p = realloc(af->items, cap * sizeof *p);
        if (p == NULL) {
            sl_err_set(err, SL_ENOMEM, "out of memory");
            return NULL;
        }
        af->items = p;
        af->cap = cap;
    }
    struct add_item *it = &af->items[af->n];
    memset(it, 0, sizeof *it);
    return it;
}

/* The value of member m into an item (or, for an object, its members). */
static int add_value(struct add_fields *af, const char *prefix,
                     const struct sl_config_node *m, struct sl_err *err)
{
    char name[512];
    int w = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "",
                     sl_config_key(m));
    if (w < 0 || (size_t)w >= sizeof name)
        return sl_config_error(m, err, "field name longer than %zu bytes",
                               sizeof name - 1);
    enum sl_config_type t = sl_config_type(m);
    if (t == SL_CONFIG_OBJECT) {
        for (size_t i = 0; i < sl_config_len(m); i++)
            if (add_value(af, name, sl_config_at(m, i), err) < 0)
                return -1;
        return 0;
    }
    struct add_item *it = add_item_new(af, err);
    if (it == NULL || proc_fieldpath(&it->path, m, name, err) < 0)
        return -1;
    af->n++; /* from here the item is released with the others */
    long long ll;
    double d;
    bool b;
    switch (t) {
    case SL_CONFIG_STRING:
        it->type = SL_VALUE_STRING;
        return sl_config_string(m, NULL, NULL, &it->text, err) < 0
                   ? -1
                   : (it->len = strlen(it->text), 0);
    case SL_CONFIG_INT:
        if (sl_config_int(m, NULL, 0, LLONG_MIN, LLONG_MAX, &ll, err) < 0)
            return -1;
        it->len = (size_t)snprintf(it->num, sizeof it->num, "%lld", ll);
        break;
    case SL_CONFIG_DOUBLE:
        if (sl_config_double(m, NULL, 0, -1e308, 1e308, &d, err) < 0)
            return -1;
        it->len = sl_json_format_double(d, it->num, sizeof it->num);
        break;
    case SL_CONFIG_BOOL:
        if (sl_config_bool(m, NULL, false, &b, err) < 0)
            return -1;
        it->type = SL_VALUE_BOOL;
        it->text = b ? "true" : "false";
        it->len = strlen(it->text);
        return 0;
    default:
        return sl_config_error_expected(m, err,
                                        "a string, number, boolean or "
                                        "object");
    }
    it->type = SL_VALUE_NUMBER;
    it->text = it->num;
    return 0;
}

static void add_fields_fini(struct proc *p)
{
    struct add_fields *af = p->state;
    if (af == NULL)
        return;
    for (size_t i = 0; i < af->n; i++)
        sl_fieldpath_release(&af->items[i].path);
    free(af->items);
    free(af);
}

int proc_add_fields_from(struct proc *p, const struct sl_config_node *fields,
                         const char *target, struct sl_err *err)
{
    struct add_fields *af = calloc(1, sizeof *af);
    if (af == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    p->state = af;
    if (sl_config_type(fields) != SL_CONFIG_OBJECT ||
        sl_config_len(fields) == 0) {
        sl_config_error_expected(fields, err,
                                 "an object of fields and values, such as "
                                 "{\"service.name\": \"shop\"}");
        goto fail;
    }
    for (size_t i = 0; i < sl_config_len(fields); i++)
        if (add_value(af, target, sl_config_at(fields, i), err) < 0)
            goto fail;
    /* Items are stable now: point numbers' text at their own buffer. */
    for (size_t i = 0; i < af->n; i++)
        if (af->items[i].type == SL_VALUE_NUMBER)
            af->items[i].text = af->items[i].num;
    return 0;
fail:
    add_fields_fini(p);
    p->state = NULL;
    return -1;
}

static int add_fields_init(struct proc *p, const struct sl_config_node *cfg,
                           const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct add_fields_opts o;
    if (sl_config_table_fill(&add_fields_table, cfg, &o, err) < 0)
        return -1;
    return proc_add_fields_from(p, o.fields, o.target, err);
}

static enum proc_result add_fields_run(struct proc *p,
                                       const struct proc_ctx *cx)
{
    struct add_fields *af = p->state;
    enum proc_result r = PROC_OK;
    struct sl_err err;
    for (size_t i = 0; i < af->n; i++) {
        const struct add_item *it = &af->items[i];
        if (sl_event_put(cx->ev, &it->path, it->type, it->text, it->len, &err) <
            0)
            r = PROC_FAILED;
    }
    if (r == PROC_FAILED)
        proc_event_tag(cx->ev, PROC_TAG_FIELDFAILURE);
    return r;
}

const struct proc_ops proc_add_fields_ops = {.name = "add_fields",
                                             .table = &add_fields_table,
                                             .init = add_fields_init,
                                             .run = add_fields_run,
                                             .fini = add_fields_fini,
                                             .may_put_timestamp = true};

/* ---- add_tags ----------------------------------------------------------- */

struct add_tags_opts {
    const struct sl_config_node *when;
    struct sl_opt_strings tags;
};

#define AT(m) SL_OPT_FIELD(struct add_tags_opts, m)
static const struct sl_opt add_tags_opts[] = {
    PROC_WHEN_OPT(struct add_tags_opts),
    {"tags", SL_OPT_STRINGS, AT(tags), .flags = SL_OPT_REQUIRED, .min = 1,
     .max = 64, .help = "tags to add to \"tags\", once each"},
    SL_OPT_END};
static const struct sl_config_table add_tags_table = {
    "add_tags", sizeof(struct add_tags_opts), add_tags_opts, NULL};

static void add_tags_fini(struct proc *p)
{
    if (p->state != NULL)
        sl_config_table_release(&add_tags_table, p->state);
    free(p->state);
}

static int add_tags_init(struct proc *p, const struct sl_config_node *cfg,
                         const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct add_tags_opts *o = calloc(1, sizeof *o);
    if (o == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (sl_config_table_fill(&add_tags_table, cfg, o, err) < 0) {
        free(o);
        return -1;
    }
    p->state = o;
    return 0;
}

static enum proc_result add_tags_run(struct proc *p, const struct proc_ctx *cx)
{
    const struct add_tags_opts *o = p->state;
    for (size_t i = 0; i < o->tags.n; i++)
        proc_event_tag(cx->ev, o->tags.v[i]);
    return PROC_OK;
}

const struct proc_ops proc_add_tags_ops = {.name = "add_tags",
                                           .table = &add_tags_table,
                                           .init = add_tags_init,
                                           .run = add_tags_run,
                                           .fini = add_tags_fini};

/* ---- rename ------------------------------------------------------------- */

struct rename_pair_opts {
    const char *from, *to;
};
struct rename_opts {
    const struct sl_config_node *when;
    struct sl_opt_objects fields;
};
struct rename {
    struct sl_fieldpath *from, *to;
    size_t n;
};

#define RP(m) SL_OPT_FIELD(struct rename_pair_opts, m)
static const struct sl_opt rename_pair_opts[] = {
    {"from", SL_OPT_STRING, RP(from), .flags = SL_OPT_REQUIRED,
     .help = "the field to move"},
    {"to", SL_OPT_STRING, RP(to), .flags = SL_OPT_REQUIRED,
     .help = "its new name"},
    SL_OPT_END};
static const struct sl_config_table rename_pair_table = {
    "rename.fields", sizeof(struct rename_pair_opts), rename_pair_opts, NULL};
#define RN(m) SL_OPT_FIELD(struct rename_opts, m)
static const struct sl_opt rename_opts[] = {
    PROC_WHEN_OPT(struct rename_opts),
    {"fields", SL_OPT_OBJECTS, RN(fields), .sub = &rename_pair_table,
     .flags = SL_OPT_REQUIRED, .min = 1, .max = 64,
     .help = "the fields to move, in order: {\"from\": ..., \"to\": ...}"},
    SL_OPT_END};
static const struct sl_config_table rename_table = {
    "rename", sizeof(struct rename_opts), rename_opts, NULL};

static void rename_fini(struct proc *p)
{
    struct rename *rn = p->state;
    if (rn == NULL)
        return;
    for (size_t i = 0; i < rn->n; i++) {
        sl_fieldpath_release(&rn->from[i]);
        sl_fieldpath_release(&rn->to[i]);
    }
    free(rn->from);
    free(rn->to);
    free(rn);
}

static int rename_init(struct proc *p, const struct sl_config_node *cfg,
                       const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct rename_opts o;
    if (sl_config_table_fill(&rename_table, cfg, &o, err) < 0)
        return -1;
    struct rename *rn = calloc(1, sizeof *rn);
    int rc = -1;
    if (rn == NULL ||
        (rn->from = calloc(o.fields.n, sizeof *rn->from)) == NULL ||
        (rn->to = calloc(o.fields.n, sizeof *rn->to)) == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    p->state = rn;
    const struct sl_config_node *list = sl_config_get(cfg, "fields");
    for (size_t i = 0; i < o.fields.n; i++) {
        const struct rename_pair_opts *pair =
            &((const struct rename_pair_opts *)o.fields.v)[i];
        const struct sl_config_node *e = sl_config_at(list, i);
        rn->n = i + 1;
        if (proc_fieldpath(&rn->from[i], sl_config_get(e, "from"), pair->from,
                           err) < 0 ||
            proc_fieldpath(&rn->to[i], sl_config_get(e, "to"), pair->to, err) <
                0)
            goto done;
    }
    rc = 0;
done:
    sl_config_table_release(&rename_table, &o);
    if (rc < 0) {
        p->state = rn;
        rename_fini(p);
        p->state = NULL;
    }
    return rc;
}

static enum proc_result rename_run(struct proc *p, const struct proc_ctx *cx)
{
    struct rename *rn = p->state;
    enum proc_result r = PROC_OK;
    struct sl_err err;
    for (size_t i = 0; i < rn->n; i++) {
        struct sl_value *v = proc_event_detach(cx->ev, &rn->from[i]);
        if (v == NULL)
            continue;
        if (proc_event_graft(cx->ev, &rn->to[i], v, &err) < 0) {
            r = PROC_FAILED; /* put it back where it was */
            SL_IGNORE_RESULT(proc_event_graft(cx->ev, &rn->from[i], v, &err));
        }
    }
    if (r == PROC_FAILED)
        proc_event_tag(cx->ev, PROC_TAG_FIELDFAILURE);
    return r;
}

const struct proc_ops proc_rename_ops = {.name = "rename",
                                         .table = &rename_table,
                                         .init = rename_init,
                                         .run = rename_run,
                                         .fini = rename_fini,
                                         .may_put_timestamp = true};

/* ---- remove ------------------------------------------------------------- */

struct remove_opts {
    const struct sl_config_node *when;
    struct sl_opt_strings fields;
};
struct remove {
    struct sl_fieldpath *paths;
    size_t n;
};

#define RM(m) SL_OPT_FIELD(struct remove_opts, m)
static const struct sl_opt remove_opts[] = {
    PROC_WHEN_OPT(struct remove_opts),
    {"fields", SL_OPT_STRINGS, RM(fields), .flags = SL_OPT_REQUIRED, .min = 1,
     .max = 64, .help = "the fields to remove; a missing one is fine"},
    SL_OPT_END};
static const struct sl_config_table remove_table = {
    "remove", sizeof(struct remove_opts), remove_opts, NULL};

static void remove_fini(struct proc *p)
{
    struct remove *rm = p->state;
    if (rm == NULL)
        return;
    for (size_t i = 0; i < rm->n; i++)
        sl_fieldpath_release(&rm->paths[i]);
    free(rm->paths);
    free(rm);
}

static int remove_init(struct proc *p, const struct sl_config_node *cfg,
                       const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct remove_opts o;
    if (sl_config_table_fill(&remove_table, cfg, &o, err) < 0)
        return -1;
    int rc = -1;
    struct remove *rm = calloc(1, sizeof *rm);
    if (rm == NULL ||
        (rm->paths = calloc(o.fields.n, sizeof *rm->paths)) == NULL) {
        free(rm);
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    p->state = rm;
    const struct sl_config_node *list = sl_config_get(cfg, "fields");
    for (size_t i = 0; i < o.fields.n; i++) {
        const struct sl_config_node *e = sl_config_type(list) == SL_CONFIG_ARRAY
                                             ? sl_config_at(list, i)
                                             : list;
        rm->n = i + 1;
        if (proc_fieldpath(&rm->paths[i], e, o.fields.v[i], err) < 0)
            goto done;
    }
    rc = 0;
done:
    sl_config_table_release(&remove_table, &o);
    if (rc < 0 && p->state != NULL) {
        remove_fini(p);
        p->state = NULL;
    }
    return rc;
}

static enum proc_result remove_run(struct proc *p, const struct proc_ctx *cx)
{
    struct remove *rm = p->state;
    for (size_t i = 0; i < rm->n; i++)
        proc_event_detach(cx->ev, &rm->paths[i]);
    return PROC_OK;
}

const struct proc_ops proc_remove_ops = {.name = "remove",
                                         .table = &remove_table,
                                         .init = remove_init,
                                         .run = remove_run,
                                         .fini = remove_fini};

/* ---- drop --------------------------------------------------------------- */

struct drop_opts {
    const struct sl_config_node *when;
};
static const struct sl_opt drop_opts[] = {PROC_WHEN_OPT(struct drop_opts),
                                          SL_OPT_END};
static const struct sl_config_table drop_table = {
    "drop", sizeof(struct drop_opts), drop_opts, NULL};

static int drop_init(struct proc *p, const struct sl_config_node *cfg,
                     const struct proc_env *env, struct sl_err *err)
{
    (void)p;
    (void)env;
    struct drop_opts o;
    return sl_config_table_fill(&drop_table, cfg, &o, err);
}

static enum proc_result drop_run(struct proc *p, const struct proc_ctx *cx)
{
    (void)p;
    (void)cx;
    return PROC_DROPPED;
}

const struct proc_ops proc_drop_ops = {
    .name = "drop", .table = &drop_table, .init = drop_init, .run = drop_run};
