/* process.c: the chain of processors of one input: built from the config's
 * "processors" array, run per event, and the counters of all chains.
 *
 * Each entry of the array is an object with exactly one key, the
 * processor's name, whose value is its options: { "grok": { ... } }. The
 * ops table below maps names to processors; each reads its own options
 * through an sl_config_table, so unknown keys and wrong types get the same
 * messages as the rest of the config. "when" is read here, for all.
 *
 * @timestamp: the chain owns it (process.h). After a processor that may
 * put one (a json merge, add_fields, rename), a "@timestamp" member is read
 * as ISO 8601 into the time, or moved to "_@timestamp" with a tag, and the
 * member is nulled; so the processors' order decides, as in Logstash. At the
 * end "@timestamp" is written from the time. A processor whose options name
 * "@timestamp" as something to read (rename's from, a condition, a field)
 * sees the time so far there: the member is written before it runs, and
 * read back (and nulled) after.
 *
 * Not done: processors that branch or loop (Logstash's if/else); a `when`
 * per processor covers the cases the issue names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_priv.h"
#include "sl_date.h"

static const struct proc_ops *const all_ops[] = {
    &proc_grok_ops,      &proc_date_ops,       &proc_json_ops,
    &proc_traceback_ops, &proc_add_fields_ops, &proc_add_tags_ops,
    &proc_rename_ops,    &proc_remove_ops,     &proc_drop_ops,
    &proc_charset_ops};
#define NOPS (sizeof all_ops / sizeof all_ops[0])

static const char *const op_names[] = {
    "grok",   "date",   "json", "traceback", "add_fields", "add_tags",
    "rename", "remove", "drop", "charset",   NULL};

struct proc_metrics {
    struct sl_metric_family *failures, *dropped;
    struct sl_metric_family *grok[3];
};

struct proc_chain {
    struct proc procs[PROC_MAX + 1]; /* the input's fields, then these */
    size_t n;
    struct sl_date *iso; /* reads a "@timestamp" string */
    int64_t iso_sec;     /* the second iso_text holds; -1: none */
    char iso_text[SL_DATE_ISO8601_SIZE];
    struct sl_counter dummy;
};

/* ---- counters ----------------------------------------------------------- */

struct proc_metrics *proc_metrics_new(struct sl_metrics *m, struct sl_err *err)
{
    static const char *const by_proc[] = {"processor", NULL};
    static const char *const by_pattern[] = {"processor", "pattern", NULL};
    static const char *const grok_names[3][2] = {
        {"sluice_grok_matches_total", "lines a grok expression matched"},
        {"sluice_grok_failures_total",
         "lines a grok expression was tried on and did not match"},
        {"sluice_grok_timeouts_total",
         "lines a grok expression gave up on at the match limit"}};
    struct proc_metrics *pm = calloc(1, sizeof *pm);
    if (pm == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    pm->failures = sl_metrics_family(
        m, SL_METRIC_COUNTER, "sluice_processor_failures_total",
        "events a processor could not process and tagged", by_proc, err);
    pm->dropped = sl_metrics_family(
        m, SL_METRIC_COUNTER, "sluice_processor_dropped_total",
        "events a drop processor discarded", by_proc, err);
    for (int i = 0; i < 3 && pm->dropped != NULL; i++) {
        pm->grok[i] = sl_metrics_family(m, SL_METRIC_COUNTER, grok_names[i][0],
                                        grok_names[i][1], by_pattern, err);
        if (pm->grok[i] == NULL)
            break;
    }
    if (pm->failures == NULL || pm->dropped == NULL || pm->grok[2] == NULL) {
        free(pm);
        return NULL;
    }
    return pm;
}

void proc_metrics_free(struct proc_metrics *pm)
{
    free(pm); /* the families belong to the registry */
}

struct sl_counter *proc_metrics_grok(struct proc_metrics *pm, const char *label,
                                     const char *pattern, int which,
                                     struct sl_err *err)
{
    if (pm == NULL)
        return NULL;
    const char *values[] = {label, pattern};
    return sl_family_counter(pm->grok[which], values, err);
}

/* ---- building ----------------------------------------------------------- */

static const struct proc_ops *ops_named(const char *name)
{
    for (size_t i = 0; i < NOPS; i++)
        if (strcmp(all_ops[i]->name, name) == 0)
            return all_ops[i];
    return NULL;
}

/* The one member of a processors entry: its name and options. */
static const struct sl_config_node *entry_member(const struct sl_config_node *e,
                                                 struct sl_err *err)
{
    if (sl_config_type(e) != SL_CONFIG_OBJECT || sl_config_len(e) == 0) {
        sl_config_error_expected(e, err,
                                 "an object with one processor, such as "
                                 "{\"grok\": {...}}");
        return NULL;
    }
    if (sl_config_check_keys(e, op_names, err) < 0)
        return NULL;
    if (sl_config_len(e) > 1) {
        sl_config_error(sl_config_at(e, 1), err,
                        "one processor per entry: '%s' and '%s' are in the "
                        "same object; give each its own {...} in the list",
                        sl_config_key(sl_config_at(e, 0)),
                        sl_config_key(sl_config_at(e, 1)));
        return NULL;
    }
    return sl_config_at(e, 0);
}

static int counters_of(struct proc *p, const struct proc_env *env,
                       struct sl_counter *dummy, struct sl_err *err)
{
    p->failures = p->dropped = dummy;
    p->metrics = env->metrics;
    if (env->metrics == NULL)
        return 0;
    const char *values[] = {p->label};
    p->failures = sl_family_counter(env->metrics->failures, values, err);
    p->dropped = sl_family_counter(env->metrics->dropped, values, err);
    return p->failures != NULL && p->dropped != NULL ? 0 : -1;
}

/* Whether a processor's options name "@timestamp" as a field to read: a
 * string or a key anywhere in them, but for the values of "target" and
 * "to", which name where results go. */
static bool names_timestamp(const struct sl_config_node *n)
{
    const char *key = sl_config_key(n), *s;
    struct sl_err err;
    if (key != NULL &&
        (strcmp(key, "@timestamp") == 0 || strcmp(key, "[@timestamp]") == 0))
        return true;
    if (sl_config_type(n) == SL_CONFIG_STRING) {
        if (key != NULL &&
            (strcmp(key, "target") == 0 || strcmp(key, "to") == 0))
            return false;
        return sl_config_string(n, NULL, NULL, &s, &err) == 0 &&
               (strcmp(s, "@timestamp") == 0 || strcmp(s, "[@timestamp]") == 0);
    }
    for (size_t i = 0; i < sl_config_len(n); i++)
        if (names_timestamp(sl_config_at(n, i)))
            return true;
    return false;
}

static int build_one(struct proc_chain *c, const struct sl_config_node *entry,
                     const struct proc_env *env, struct sl_err *err)
{
    const struct sl_config_node *cfg = entry_member(entry, err);
    if (cfg == NULL)
        return -1;
    struct proc *p = &c->procs[c->n];
    memset(p, 0, sizeof *p);
    p->ops = ops_named(sl_config_key(cfg));
    sl_config_path(cfg, p->label, sizeof p->label);
    if (sl_config_type(cfg) != SL_CONFIG_OBJECT)
        return sl_config_error_expected(cfg, err,
                                        "an object of options ({} for none)");
    const struct sl_config_node *when = sl_config_get(cfg, "when");
    if (when != NULL && (p->when = proc_when_new(when, err)) == NULL)
        return -1;
    if (counters_of(p, env, &c->dummy, err) < 0)
        goto fail;
    p->reads_timestamp = names_timestamp(cfg);
    if (p->ops->init(p, cfg, env, err) < 0)
        goto fail;
    c->n++;
    return 0;
fail:
    proc_when_free(p->when);
    p->when = NULL;
    return -1;
}

/* The input's "fields": an add_fields of its own, first. */
static int build_fields(struct proc_chain *c,
                        const struct sl_config_node *fields,
                        const struct proc_env *env, struct sl_err *err)
{
    struct proc *p = &c->procs[c->n];
    memset(p, 0, sizeof *p);
    p->ops = &proc_add_fields_ops;
    sl_config_path(fields, p->label, sizeof p->label);
    if (counters_of(p, env, &c->dummy, err) < 0 ||
        proc_add_fields_from(p, fields, "", err) < 0)
        return -1;
    c->n++;
    return 0;
}

struct proc_chain *proc_chain_new(const struct sl_config_node *processors,
                                  const struct sl_config_node *fields,
                                  const struct proc_env *env,
                                  struct sl_err *err)
{
    static const struct proc_env none;
    struct proc_chain *c = calloc(1, sizeof *c);
    if (c == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    if (env == NULL)
        env = &none;
    c->iso_sec = -1;
    const char *iso = "ISO8601";
    if ((c->iso = sl_date_compile(&iso, 1, NULL, err)) == NULL)
        goto fail;
    if (processors != NULL && sl_config_type(processors) != SL_CONFIG_ARRAY) {
        sl_config_error_expected(processors, err, "a list of processors");
        goto fail;
    }
    if (sl_config_len(processors) > PROC_MAX) {
        sl_config_error(processors, err,
                        "%zu processors, more than %d; split the work or "
                        "join expressions in one grok",
                        sl_config_len(processors), PROC_MAX);
        goto fail;
    }
    if (fields != NULL && build_fields(c, fields, env, err) < 0)
        goto fail;
    for (size_t i = 0; i < sl_config_len(processors); i++)
        if (build_one(c, sl_config_at(processors, i), env, err) < 0)
            goto fail;
    return c;
fail:
    proc_chain_free(c);
    return NULL;
}

void proc_chain_free(struct proc_chain *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->procs[i].ops->fini != NULL)
            c->procs[i].ops->fini(&c->procs[i]);
        proc_when_free(c->procs[i].when);
    }
    sl_date_free(c->iso);
    free(c);
}

const struct sl_config_table *proc_table(size_t i, const char **name)
{
    if (i >= NOPS)
        return NULL;
    *name = all_ops[i]->name;
    return all_ops[i]->table;
}

size_t proc_chain_len(const struct proc_chain *c)
{
    return c->n;
}

const char *proc_chain_label(const struct proc_chain *c, size_t i)
{
    return i < c->n ? c->procs[i].label : NULL;
}

/* ---- running ------------------------------------------------------------ */

static const struct sl_slice timestamp_key = {"@timestamp", 10};

static struct sl_value *find_top(struct sl_event *ev, struct sl_slice key)
{
    struct sl_value *v = ev->root.first;
    while (v != NULL && !sl_slice_eq(v->key, key.ptr, key.len))
        v = v->next;
    return v;
}

/* A "@timestamp" a processor put (a null one is the caller's placeholder,
 * or means nothing): its time; or, when it is no ISO 8601 time, its value
 * goes to "_@timestamp" with a tag, as Logstash does, and the member is
 * left for put_timestamp. */
static void take_timestamp(struct proc_chain *c, struct sl_event *ev,
                           int64_t *ts_ms)
{
    struct sl_value *v = find_top(ev, timestamp_key);
    struct sl_err err;
    int64_t t;
    if (v == NULL || v->type == SL_VALUE_NULL)
        return;
    if (v->type == SL_VALUE_STRING &&
        sl_date_parse(c->iso, v->text.ptr, v->text.len, &t) == 0) {
        *ts_ms = t;
        v->type = SL_VALUE_NULL; /* read: the placeholder again */
        return;
    }
    if (sl_event_put_top(ev, "_@timestamp", SL_VALUE_STRING, "", 0, &err) ==
        0) {
        struct sl_value *aside =
            find_top(ev, (struct sl_slice){"_@timestamp", 11});
        aside->type = v->type;
        aside->text = v->text;
        aside->first = v->first;
        aside->last = v->last;
    }
    v->type = SL_VALUE_NULL;
    proc_event_tag(ev, PROC_TAG_TIMESTAMPPARSEFAILURE);
}

/* Events of one second share all but the milliseconds: the text of the
 * last second is kept, so most events cost a copy, not a calendar
 * conversion (5% of a grok + date event's time before). */
static void put_timestamp(struct proc_chain *c, struct sl_event *ev,
                          int64_t ts_ms)
{
    struct sl_err err;
    int64_t sec = ts_ms >= 0 ? ts_ms / 1000 : -1;
    if (sec < 0 || sec != c->iso_sec) {
        if (sl_date_format_iso8601_ms(ts_ms, c->iso_text) < 0) {
            c->iso_sec = -1; /* a read time past 9999 */
            return;
        }
        c->iso_sec = sec;
    } else {
        int ms = (int)(ts_ms % 1000);
        c->iso_text[20] = (char)('0' + ms / 100);
        c->iso_text[21] = (char)('0' + ms / 10 % 10);
        c->iso_text[22] = (char)('0' + ms % 10);
    }
    char *s = sl_event_strdup(ev, c->iso_text, SL_DATE_ISO8601_SIZE - 1);
    if (s == NULL)
        return;
    /* The placeholder is there unless a processor removed it: set in place
     * (sl_event_put_top's strlen and memcmp were 1% of the shipper). */
    struct sl_value *v = find_top(ev, timestamp_key);
    if (v != NULL) {
        sl_value_set(v, SL_VALUE_STRING, s, SL_DATE_ISO8601_SIZE - 1);
        return;
    }
    /* Renamed or removed: a new member, moved first (process.h). */
    if (sl_event_put_top(ev, "@timestamp", SL_VALUE_STRING, s,
                         SL_DATE_ISO8601_SIZE - 1, &err) < 0)
        return;
    struct sl_value *head = ev->root.first, *last = ev->root.last;
    if (head == last)
        return;
    struct sl_value *before = head;
    while (before->next != last)
        before = before->next;
    before->next = NULL;
    ev->root.last = before;
    last->next = head;
    ev->root.first = last;
}

enum proc_verdict proc_chain_run(struct proc_chain *c, struct sl_event *ev,
                                 int64_t *ts_ms)
{
    /* The caller's placeholder for @timestamp is not a processor's: null
     * it, so take_timestamp sees only theirs (it is overwritten at the
     * end). */
    struct sl_value *first = ev->root.first;
    if (first != NULL && sl_slice_eq(first->key, "@timestamp", 10))
        first->type = SL_VALUE_NULL;
    struct proc_ctx cx = {ev, ts_ms, *ts_ms};
    for (size_t i = 0; i < c->n; i++) {
        struct proc *p = &c->procs[i];
        if (p->reads_timestamp)
            put_timestamp(c, ev, *ts_ms);
        if (p->when != NULL && !proc_when_eval(p->when, ev)) {
            if (p->reads_timestamp)
                take_timestamp(c, ev, ts_ms);
            continue;
        }
        enum proc_result r = p->ops->run(p, &cx);
        if (p->ops->may_put_timestamp || p->reads_timestamp)
            take_timestamp(c, ev, ts_ms);
        if (r == PROC_FAILED) {
            sl_counter_inc(p->failures);
        } else if (r == PROC_DROPPED) {
            sl_counter_inc(p->dropped);
            return PROC_DROP;
        }
    }
    put_timestamp(c, ev, *ts_ms);
    return PROC_KEEP;
}
