/* proc_grok.c: the grok processor, Logstash's grok filter on grok/grok.h.
 *
 *   {"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}", "%{COMMONAPACHELOG}"],
 *             "field": "message", "patterns_dir": ["/etc/sluice/patterns"],
 *             "pattern_definitions": {"MYAPP": "%{WORD:app.name}"},
 *             "ecs": "v1", "overwrite": ["message"]}}
 *
 * Expressions are tried in order and the first that matches wins; its
 * captures go to their field paths. No match: _grokparsefailure; the match
 * limit hit: _groktimeout; a capture that cannot be set (its parent holds
 * a string): _grokfieldconflict, the other captures kept. A missing field is
 * a failure too, as in Logstash; an array is matched element by element,
 * as Logstash does, and fails when no element matches. A capture into a
 * field the event has already joins it into an array, as in Logstash,
 * except for the fields of `overwrite`, which it replaces (%{SYSLOGLINE}
 * and %{PYTHON_LOG} capture the text after their header into "message").
 *
 * The library: the built-in patterns of the flavour (ecs, else the
 * environment's), then the environment's pattern directories, then the
 * processor's patterns_dir, then pattern_definitions: a later definition
 * of a name wins. Each processor loads its own: a few ms and about 100 KiB
 * at start, against a cache shared by processors that would have to be
 * keyed by all of those.
 *
 * Counters per expression: matches, failures (tried, no match), timeouts,
 * from which expression matched (grok_last_expr) and the grok library's
 * own per-expression counts for timeouts. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process_priv.h"

struct grok_opts {
    const struct sl_config_node *when;
    const char *field;
    struct sl_opt_strings patterns;
    struct sl_opt_strings patterns_dir;
    const struct sl_config_node *definitions;
    const char *ecs;
    struct sl_opt_strings overwrite;
};

#define G(m) SL_OPT_FIELD(struct grok_opts, m)
static const struct sl_opt grok_opts[] = {
    PROC_WHEN_OPT(struct grok_opts),
    {"patterns", SL_OPT_STRINGS, G(patterns), .flags = SL_OPT_REQUIRED,
     .min = 1, .max = 64,
     .help = "grok expressions, tried in order; the first that matches wins"},
    {"field", SL_OPT_STRING, G(field), .def = "message",
     .help = "the field to match"},
    {"patterns_dir", SL_OPT_STRINGS, G(patterns_dir), .max = 64,
     .help = "directories (or files) of `NAME regex` lines, loaded after the "
             "built-in patterns"},
    {"pattern_definitions", SL_OPT_RAW, G(definitions), .doc_type = "an object",
     .help = "patterns defined inline, {\"NAME\": \"regex\"}; they win over "
             "files"},
    {"ecs", SL_OPT_STRING, G(ecs), .doc_default = "\"v1\"",
     .help = "built-in pattern flavour: \"v1\" (ECS field names) or "
             "\"disabled\" (Logstash's legacy names)"},
    {"overwrite", SL_OPT_STRINGS, G(overwrite), .max = 64,
     .help = "fields a capture replaces instead of joining the value there "
             "into an array, as Logstash's overwrite: [\"message\"] with "
             "%{SYSLOGLINE}"},
    SL_OPT_END};
static const struct sl_config_table grok_table = {
    "grok", sizeof(struct grok_opts), grok_opts, NULL};

struct grok_proc {
    struct grok *g;
    struct sl_fieldpath field;
    size_t n;
    /* per expression: matches, failures, timeouts (NULL: no metrics) */
    struct sl_counter **counters;
    uint64_t *timeouts_seen; /* grok's own count, to find which timed out */
    struct sl_fieldpath *overwrite;
    size_t noverwrite;
};

static int load_path(struct grok_library *lib, const char *path,
                     struct sl_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        close(fd);
        return grok_library_load_dir(lib, path, err);
    }
    return grok_library_load_file(lib, path, err);
}

static int load_definitions(struct grok_library *lib,
                            const struct sl_config_node *defs,
                            struct sl_err *err)
{
    if (defs == NULL)
        return 0;
    if (sl_config_type(defs) != SL_CONFIG_OBJECT)
        return sl_config_error_expected(
            defs, err,
            "an object of names and regexes, "
            "such as {\"MYID\": \"[a-z]+-\\\\d+\"}");
    for (size_t i = 0; i < sl_config_len(defs); i++) {
        const struct sl_config_node *d = sl_config_at(defs, i);
        const char *re;
        struct sl_err e;
        if (sl_config_string(d, NULL, NULL, &re, err) < 0)
            return -1;
        if (grok_library_add(lib, sl_config_key(d), re, "pattern_definitions",
                             sl_config_line(d), &e) < 0)
            return sl_config_error(d, err, "%s", e.msg);
    }
    return 0;
}

static struct grok_library *library_of(const struct grok_opts *o,
                                       const struct sl_config_node *cfg,
                                       const struct proc_env *env,
                                       struct sl_err *err)
{
    const char *ecs = o->ecs ? o->ecs : env->ecs ? env->ecs : "v1";
    if (strcmp(ecs, "v1") != 0 && strcmp(ecs, "disabled") != 0) {
        sl_config_error_expected(sl_config_get(cfg, "ecs"), err,
                                 "\"v1\" or \"disabled\"");
        return NULL;
    }
    struct grok_library *lib = grok_library_new();
    char dir[GROK_DIR_MAX];
    struct sl_err e;
    if (lib == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    if (grok_builtin_dir(ecs, dir, sizeof dir, err) < 0 ||
        grok_library_load_dir(lib, dir, err) < 0)
        goto fail;
    for (size_t i = 0; i < env->npatterns_dirs; i++)
        if (load_path(lib, env->patterns_dirs[i], err) < 0)
            goto fail;
    for (size_t i = 0; i < o->patterns_dir.n; i++)
        if (load_path(lib, o->patterns_dir.v[i], &e) < 0) {
            sl_config_error(sl_config_get(cfg, "patterns_dir"), err, "%s",
                            e.msg);
            goto fail;
        }
    if (load_definitions(lib, o->definitions, err) < 0)
        goto fail;
    return lib;
fail:
    grok_library_free(lib);
    return NULL;
}

static int counters_init(struct grok_proc *gp, struct proc *p,
                         struct sl_err *err)
{
    if (p->metrics == NULL)
        return 0;
    gp->counters = calloc(gp->n * 3, sizeof *gp->counters);
    gp->timeouts_seen = calloc(gp->n, sizeof *gp->timeouts_seen);
    if (gp->counters == NULL || gp->timeouts_seen == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < gp->n; i++)
        for (int k = 0; k < 3; k++)
            if ((gp->counters[i * 3 + k] = proc_metrics_grok(
                     p->metrics, p->label, grok_expr_text(gp->g, i), k, err)) ==
                NULL)
                return -1;
    return 0;
}

static int overwrite_init(struct grok_proc *gp, const struct grok_opts *o,
                          const struct sl_config_node *cfg, struct sl_err *err)
{
    if (o->overwrite.n == 0)
        return 0;
    gp->overwrite = calloc(o->overwrite.n, sizeof *gp->overwrite);
    if (gp->overwrite == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    const struct sl_config_node *list = sl_config_get(cfg, "overwrite");
    for (size_t i = 0; i < o->overwrite.n; i++) {
        const struct sl_config_node *e = sl_config_type(list) == SL_CONFIG_ARRAY
                                             ? sl_config_at(list, i)
                                             : list;
        gp->noverwrite = i + 1;
        if (proc_fieldpath(&gp->overwrite[i], e, o->overwrite.v[i], err) < 0)
            return -1;
    }
    return 0;
}

static void grok_fini(struct proc *p)
{
    struct grok_proc *gp = p->state;
    if (gp == NULL)
        return;
    grok_free(gp->g);
    sl_fieldpath_release(&gp->field);
    free(gp->counters);
    free(gp->timeouts_seen);
    for (size_t i = 0; i < gp->noverwrite; i++)
        sl_fieldpath_release(&gp->overwrite[i]);
    free(gp->overwrite);
    free(gp);
}

static int grok_init(struct proc *p, const struct sl_config_node *cfg,
                     const struct proc_env *env, struct sl_err *err)
{
    struct grok_opts o;
    struct grok_library *lib = NULL;
    struct sl_err e;
    int rc = -1;
    if (sl_config_table_fill(&grok_table, cfg, &o, err) < 0)
        return -1;
    struct grok_proc *gp = calloc(1, sizeof *gp);
    if (gp == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    p->state = gp;
    if (proc_fieldpath(&gp->field, cfg, o.field, err) < 0 ||
        (lib = library_of(&o, cfg, env, err)) == NULL)
        goto done;
    gp->g = grok_compile(lib, o.patterns.v, o.patterns.n, &env->grok, &e);
    if (gp->g == NULL) {
        /* grok's advice names sluice-grok's flag; here it is a key */
        char *flag = strstr(e.msg, "--patterns-dir");
        if (flag != NULL)
            memmove(flag, flag + 2, strlen(flag + 2) + 1), flag[8] = '_';
        sl_config_error(sl_config_get(cfg, "patterns"), err, "%s", e.msg);
        goto done;
    }
    gp->n = o.patterns.n;
    if (overwrite_init(gp, &o, cfg, err) < 0)
        goto done;
    rc = counters_init(gp, p, err);
done:
    grok_library_free(lib);
    sl_config_table_release(&grok_table, &o);
    if (rc < 0) {
        grok_fini(p);
        p->state = NULL;
    }
    return rc;
}

static bool same_path(const struct sl_fieldpath *a,
                      const struct sl_fieldpath *b)
{
    if (a->nseg != b->nseg)
        return false;
    for (unsigned i = 0; i < a->nseg; i++)
        if (a->seg[i].len != b->seg[i].len ||
            memcmp(a->seg[i].ptr, b->seg[i].ptr, a->seg[i].len) != 0)
            return false;
    return true;
}

/* The fields of `overwrite` that the match sets (a capture that took part
 * and is not empty) are taken out of the event first. */
static void overwrite(struct grok_proc *gp, struct sl_event *ev)
{
    size_t n = grok_capture_count(gp->g);
    for (size_t k = 0; k < gp->noverwrite; k++)
        for (size_t i = 0; i < n; i++) {
            const struct sl_fieldpath *f;
            enum grok_type t;
            const char *v;
            size_t len;
            if (grok_capture_get(gp->g, i, &f, &t, &v, &len) == 1 && len > 0 &&
                same_path(f, &gp->overwrite[k])) {
                proc_event_detach(ev, &gp->overwrite[k]);
                break;
            }
        }
}

/* Counts one line: expressions before the one that matched (or timed
 * out) failed; all failed when none matched. */
static void count(struct grok_proc *gp, enum grok_result m)
{
    size_t k = gp->n;
    if (m == GROK_MATCH) {
        k = (size_t)grok_last_expr(gp->g);
    } else if (m == GROK_TIMEOUT) {
        for (k = 0; k < gp->n; k++) { /* rare: find it from grok's counts */
            struct grok_stats st;
            grok_expr_stats(gp->g, k, &st);
            if (st.timeouts != gp->timeouts_seen[k]) {
                gp->timeouts_seen[k] = st.timeouts;
                break;
            }
        }
    }
    for (size_t i = 0; i < k && i < gp->n; i++)
        sl_counter_inc(gp->counters[i * 3 + PROC_GROK_FAILURES]);
    if (k < gp->n)
        sl_counter_inc(
            gp->counters[k * 3 + (m == GROK_MATCH ? PROC_GROK_MATCHES
                                                  : PROC_GROK_TIMEOUTS)]);
}

/* One text: GROK_MATCH with its captures in the event (*conflict set when
 * one could not be), or why not. */
static enum grok_result grok_one(struct grok_proc *gp, struct sl_event *ev,
                                 struct sl_slice s, bool *conflict)
{
    struct sl_err err;
    enum grok_result m = grok_match(gp->g, s.len ? s.ptr : "", s.len);
    if (gp->counters != NULL)
        count(gp, m);
    if (m != GROK_MATCH)
        return m;
    overwrite(gp, ev);
    if (grok_capture_into(gp->g, ev, &err) < 0)
        *conflict = true;
    return m;
}

/* An array is matched element by element, as Logstash does (a message
 * made an array by an earlier grok, a JSON list); the elements are taken
 * first, since captures may add to the array. A timeout ends it. */
static enum grok_result grok_array(struct grok_proc *gp, struct sl_event *ev,
                                   const struct sl_value *arr, bool *conflict)
{
    size_t n = 0, i = 0;
    for (const struct sl_value *e = arr->first; e != NULL; e = e->next)
        n++;
    const struct sl_value **elems =
        n ? sl_arena_alloc(ev->arena, n * sizeof *elems) : NULL;
    if (elems == NULL)
        return GROK_NOMATCH;
    for (const struct sl_value *e = arr->first; e != NULL; e = e->next)
        elems[i++] = e;
    enum grok_result r = GROK_NOMATCH;
    for (i = 0; i < n; i++) {
        if (elems[i]->type != SL_VALUE_STRING &&
            elems[i]->type != SL_VALUE_NUMBER &&
            elems[i]->type != SL_VALUE_BOOL)
            continue;
        enum grok_result m = grok_one(gp, ev, elems[i]->text, conflict);
        if (m == GROK_TIMEOUT)
            return m;
        if (m == GROK_MATCH)
            r = m;
    }
    return r;
}

static enum proc_result grok_run(struct proc *p, const struct proc_ctx *cx)
{
    struct grok_proc *gp = p->state;
    struct sl_slice s;
    bool conflict = false;
    enum grok_result m = GROK_NOMATCH;
    const struct sl_value *v = sl_event_get(cx->ev, &gp->field);
    if (v != NULL && v->type == SL_VALUE_ARRAY)
        m = grok_array(gp, cx->ev, v, &conflict);
    else if (proc_value_text(v, &s)) /* one lookup, not a second walk */
        m = grok_one(gp, cx->ev, s, &conflict);
    if (m == GROK_NOMATCH) {
        proc_event_tag(cx->ev, PROC_TAG_GROKPARSEFAILURE);
        return PROC_FAILED;
    }
    if (m == GROK_TIMEOUT) {
        proc_event_tag(cx->ev, PROC_TAG_GROKTIMEOUT);
        return PROC_FAILED;
    }
    if (conflict) {
        proc_event_tag(cx->ev, PROC_TAG_GROKFIELDCONFLICT);
        return PROC_FAILED;
    }
    return PROC_OK;
}

/* may put @timestamp: %{TIMESTAMP_ISO8601:@timestamp} */
const struct proc_ops proc_grok_ops = {.name = "grok",
                                       .table = &grok_table,
                                       .init = grok_init,
                                       .run = grok_run,
                                       .fini = grok_fini,
                                       .may_put_timestamp = true};
