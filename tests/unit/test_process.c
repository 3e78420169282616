/* test_process.c: the shipper's processors and their chain.
 *
 * Cases as data: tests/shipper/process/cases.jsonl, one case a line:
 *   {"name": "...", "processors": [...], "message": "...",
 *    "event": {...},            optional: the event before the chain
 *                               (default {"message": message})
 *    "fields": {...},           optional: the input's "fields"
 *    "now": "2026-11-23T10:00:00.000Z",   the read time (default that)
 *    "expect": {...} | "drop"}  the event after the chain, exactly, in
 *                               order, @timestamp first
 * Each case runs through a fresh chain with an arena per event; the
 * expected object is built into an event the same way and both are written
 * with sl_event_write_json, so the comparison is byte for byte. The driver
 * also checks that *ts_ms and the written @timestamp agree.
 *
 * In C: every config error's exact message; the counters; the real
 * multi-line logs of tests/shipper/multiline/ through the traceback
 * processor; the traceback parser's results on each kind of frame; a
 * failure in each processor tags and keeps the event; the arena cap. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proc_traceback.h"
#include "process.h"
#include "process_priv.h"
#include "sl_arena.h"
#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_config.h"
#include "sl_date.h"
#include "sl_file.h"
#include "sl_json.h"

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must be defined"
#endif

#define NOW_DEFAULT 1795428000000LL /* 2026-11-23T10:00:00.000Z */

/* ---- building events from config nodes -------------------------------- */

static struct sl_value *node_value(struct sl_arena *a,
                                   const struct sl_config_node *n);

static void append(struct sl_value *parent, struct sl_value *v)
{
    if (parent->last != NULL)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
}

static void fill_value(struct sl_arena *a, struct sl_value *v,
                       const struct sl_config_node *n)
{
    char *buf = sl_arena_alloc(a, 64);
    assert_non_null(buf);
    long long ll;
    double d;
    bool b;
    switch (sl_config_type(n)) {
    case SL_CONFIG_NULL:
        v->type = SL_VALUE_NULL;
        v->text = SL_SLICE_LIT("null");
        break;
    case SL_CONFIG_BOOL:
        assert_int_equal(sl_config_bool(n, NULL, false, &b, NULL), 0);
        v->type = SL_VALUE_BOOL;
        v->text = sl_slice_from(b ? "true" : "false");
        break;
    case SL_CONFIG_INT:
        assert_int_equal(
            sl_config_int(n, NULL, 0, LLONG_MIN, LLONG_MAX, &ll, NULL), 0);
        v->type = SL_VALUE_NUMBER;
        v->text = (struct sl_slice){buf, (size_t)snprintf(buf, 64, "%lld", ll)};
        break;
    case SL_CONFIG_DOUBLE:
        assert_int_equal(sl_config_double(n, NULL, 0, -1e308, 1e308, &d, NULL),
                         0);
        v->type = SL_VALUE_NUMBER;
        v->text = (struct sl_slice){buf, sl_json_format_double(d, buf, 64)};
        break;
    case SL_CONFIG_STRING: {
        const char *s;
        assert_int_equal(sl_config_string(n, NULL, NULL, &s, NULL), 0);
        v->type = SL_VALUE_STRING;
        v->text = sl_slice_from(s);
        break;
    }
    case SL_CONFIG_ARRAY:
    case SL_CONFIG_OBJECT:
        v->type = sl_config_type(n) == SL_CONFIG_ARRAY ? SL_VALUE_ARRAY
                                                       : SL_VALUE_OBJECT;
        for (size_t i = 0; i < sl_config_len(n); i++)
            append(v, node_value(a, sl_config_at(n, i)));
        break;
    }
}

static struct sl_value *node_value(struct sl_arena *a,
                                   const struct sl_config_node *n)
{
    struct sl_value *v = sl_arena_calloc(a, sizeof *v);
    assert_non_null(v);
    const char *k = sl_config_key(n);
    if (k != NULL)
        v->key = sl_slice_from(k);
    fill_value(a, v, n);
    return v;
}

/* ev := the object n (members appended after what ev has). */
static void event_from(struct sl_event *ev, const struct sl_config_node *n)
{
    assert_int_equal(sl_config_type(n), SL_CONFIG_OBJECT);
    for (size_t i = 0; i < sl_config_len(n); i++)
        append(&ev->root, node_value(ev->arena, sl_config_at(n, i)));
}

/* Codec columnar (sl_batch_columnar.h) gives back json for ev, its JSON:
 * every case's events go through it too. */
static void columnar_gives(const struct sl_event *ev, const char *json,
                           size_t len)
{
    struct sl_err err;
    const char **argv;
    const size_t *argvlen;
    struct sl_batch_event e;
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_COLUMNAR, 0, 1 << 22, &err);
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    assert_non_null(w);
    assert_non_null(r);
    assert_int_equal(sl_batch_writer_add_event(w, "a", 1, 0, ev, &err), 0);
    assert_int_equal(sl_batch_writer_seal(w, &argv, &argvlen, &err), 0);
    assert_int_equal(
        sl_batch_reader_decode(r, SL_BATCH_ARGC, argv, argvlen, &err), 0);
    assert_int_equal(sl_batch_reader_next(r, &e), 1);
    assert_int_equal(e.json.len, len);
    assert_memory_equal(e.json.ptr, json, len);
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

static char *event_json(const struct sl_event *ev)
{
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(sl_event_write_json(ev, &b, &err), 0);
    columnar_gives(ev, b.ptr, b.len);
    return sl_buf_take(&b);
}

/* ---- running cases ------------------------------------------------------ */

struct outcome {
    enum proc_verdict verdict;
    int64_t ts;
    char *json; /* malloc'd */
};

static int64_t ms_of(const char *iso)
{
    const char *f = "ISO8601";
    struct sl_err err;
    struct sl_date *d = sl_date_compile(&f, 1, NULL, &err);
    int64_t ms = 0;
    assert_non_null(d);
    assert_int_equal(sl_date_parse(d, iso, strlen(iso), &ms), 0);
    sl_date_free(d);
    return ms;
}

/* Runs the chain of `processors` on an event of `init` (or message). */
static struct outcome run_chain(struct proc_chain *c,
                                const struct sl_config_node *init,
                                const char *message, int64_t now)
{
    struct sl_arena *a = sl_arena_new(4096);
    struct sl_event ev;
    struct sl_err err;
    struct outcome o;
    assert_non_null(a);
    sl_event_init(&ev, a);
    assert_int_equal(
        sl_event_put_top(&ev, "@timestamp", SL_VALUE_STRING, "", 0, &err), 0);
    if (init != NULL)
        event_from(&ev, init);
    else
        assert_int_equal(sl_event_put_top(&ev, "message", SL_VALUE_STRING,
                                          message, strlen(message), &err),
                         0);
    o.ts = now;
    o.verdict = proc_chain_run(c, &ev, &o.ts);
    o.json = event_json(&ev);
    sl_arena_free(a);
    return o;
}

static void run_case(const char *name, const char *text, size_t len)
{
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer(name, text, len, &err);
    if (cfg == NULL)
        fail_msg("%s: %s", name, err.msg);
    const struct sl_config_node *root = sl_config_root(cfg);
    const char *cname, *message, *now_s;
    assert_int_equal(sl_config_string(root, "name", "", &cname, &err), 0);
    assert_int_equal(sl_config_string(root, "message", "", &message, &err), 0);
    assert_int_equal(sl_config_string(root, "now", NULL, &now_s, &err), 0);
    struct proc_chain *c =
        proc_chain_new(sl_config_get(root, "processors"),
                       sl_config_get(root, "fields"), NULL, &err);
    if (c == NULL)
        fail_msg("%s (%s): %s", name, cname, err.msg);
    int64_t now = now_s ? ms_of(now_s) : NOW_DEFAULT;
    struct outcome o = run_chain(c, sl_config_get(root, "event"), message, now);
    const struct sl_config_node *want = sl_config_get(root, "expect");
    if (sl_config_type(want) == SL_CONFIG_STRING) {
        if (o.verdict != PROC_DROP)
            fail_msg("%s (%s): kept, expected a drop: %s", name, cname, o.json);
    } else {
        struct sl_arena *a = sl_arena_new(4096);
        struct sl_event ev;
        sl_event_init(&ev, a);
        event_from(&ev, want);
        char *w = event_json(&ev);
        if (o.verdict != PROC_KEEP || strcmp(o.json, w) != 0)
            fail_msg("%s (%s):\n  got    %s\n  wanted %s", name, cname,
                     o.verdict == PROC_KEEP ? o.json : "(dropped)", w);
        /* the written @timestamp is the time the caller gets */
        char iso[SL_DATE_ISO8601_SIZE], head[64];
        assert_int_equal(sl_date_format_iso8601_ms(o.ts, iso), 0);
        snprintf(head, sizeof head, "{\"@timestamp\":\"%s\"", iso);
        if (strncmp(o.json, head, strlen(head)) != 0)
            fail_msg("%s (%s): time %s, event %s", name, cname, iso, o.json);
        free(w);
        sl_arena_free(a);
    }
    free(o.json);
    proc_chain_free(c);
    sl_config_free(cfg);
}

static void cases_from_file(void **state)
{
    (void)state;
    const char *path = SLUICE_SOURCE_DIR "/tests/shipper/process/cases.jsonl";
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, 16 << 20);
    if (sl_file_read(path, "cases", 16 << 20, &b, &err) < 0)
        fail_msg("%s", err.msg);
    size_t n = 0, lineno = 0;
    for (const char *p = b.ptr, *end = b.ptr + b.len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (len > 0 && p[0] != '#') {
            char name[64];
            snprintf(name, sizeof name, "cases.jsonl:%zu", lineno);
            run_case(name, p, len);
            n++;
        }
        p += len + 1;
    }
    assert_true(n >= 40);
    sl_buf_release(&b);
}

/* ---- config errors ------------------------------------------------------ */

/* The message proc_chain_new gives for {"processors": <text>}. */
static void expect_error(const char *processors, const char *msg)
{
    char doc[2048];
    struct sl_err err;
    snprintf(doc, sizeof doc, "{\"processors\": %s}", processors);
    struct sl_config *cfg =
        sl_config_load_buffer("shipper.json", doc, strlen(doc), &err);
    if (cfg == NULL)
        fail_msg("%s: %s", processors, err.msg);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "processors"), NULL, NULL, &err);
    if (c != NULL)
        fail_msg("%s: built, expected \"%s\"", processors, msg);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.status, SL_EINVAL);
    sl_config_free(cfg);
}

/* An input's "fields" are checked as add_fields' are, at their place. */
static void input_fields_errors(void **state)
{
    (void)state;
    static const char doc[] = "{\"inputs\": [{\"fields\": {\"a\": null}},"
                              " {\"fields\": \"x\"}]}";
    struct sl_err err;
    struct sl_config *cfg =
        sl_config_load_buffer("shipper.json", doc, strlen(doc), &err);
    const struct sl_config_node *in =
        sl_config_get(sl_config_root(cfg), "inputs");
    assert_null(proc_chain_new(
        NULL, sl_config_get(sl_config_at(in, 0), "fields"), NULL, &err));
    assert_string_equal(err.msg, "shipper.json:1:30: inputs[0].fields.a: found "
                                 "null, expected a string, number, boolean "
                                 "or object");
    assert_null(proc_chain_new(
        NULL, sl_config_get(sl_config_at(in, 1), "fields"), NULL, &err));
    assert_string_equal(err.msg, "shipper.json:1:49: inputs[1].fields: found a "
                                 "string \"x\", expected an object of fields "
                                 "and values, such as {\"service.name\": "
                                 "\"shop\"}");
    sl_config_free(cfg);
}

static void config_errors(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{}", "shipper.json:1:16: processors: found an object, expected a "
               "list of processors"},
        {"[1]", "shipper.json:1:17: processors[0]: found an integer 1, "
                "expected an object with one processor, such as {\"grok\": "
                "{...}}"},
        {"[{}]", "shipper.json:1:17: processors[0]: found an object, expected "
                 "an object with one processor, such as {\"grok\": {...}}"},
        {"[{\"grk\": {}}]",
         "shipper.json:1:18: processors[0]: unknown key 'grk' (did you "
         "mean 'grok'?)"},
        {"[{\"grok\": {\"patterns\": [\"x\"]}, \"date\": {}}]",
         "shipper.json:1:55: processors[0].date: one processor per "
         "entry: 'grok' and 'date' are in the same object; give each "
         "its own {...} in the list"},
        {"[{\"drop\": true}]",
         "shipper.json:1:26: processors[0].drop: found a boolean true, "
         "expected an object of options ({} for none)"},
        {"[{\"grok\": {}}]",
         "shipper.json:1:26: processors[0].grok: missing required key "
         "'patterns'"},
        {"[{\"grok\": {\"patterns\": [\"%{NOSUCH}\"]}}]",
         "shipper.json:1:39: processors[0].grok.patterns: grok: "
         "expression '%{NOSUCH}': at %{NOSUCH}: unknown pattern "
         "'NOSUCH'; add patterns_dir or check the spelling"},
        {"[{\"grok\": {\"patterns\": [\"x\"], \"ecs\": \"v2\"}}]",
         "shipper.json:1:53: processors[0].grok.ecs: found a string "
         "\"v2\", expected \"v1\" or \"disabled\""},
        {"[{\"grok\": {\"patterns\": [\"x\"], \"overwrite\": [\"a\", "
         "\"b..c\"]}}]",
         "shipper.json:1:65: processors[0].grok.overwrite[1]: field "
         "reference 'b..c' has an empty name"},
        {"[{\"grok\": {\"patterns\": [\"x\"], \"patern_definitions\": "
         "{}}}]",
         "shipper.json:1:46: processors[0].grok: unknown key "
         "'patern_definitions' (did you mean 'pattern_definitions'?)"},
        {"[{\"date\": {\"formats\": [\"yyyy-MM-dd HH:mm:sz\"]}}]",
         "shipper.json:1:38: processors[0].date.formats: date format "
         "'yyyy-MM-dd HH:mm:sz': unknown field letter 'z' at column 19; "
         "the letters are y M d H h a m s S Z E (quote other text: "
         "'T'), or use ISO8601, UNIX, UNIX_MS or TAI64N"},
        {"[{\"date\": {\"formats\": [\"ISO8601\"], \"timezone\": "
         "\"Mars/Base\"}}]",
         "shipper.json:1:63: processors[0].date.timezone: time zone "
         "'Mars/Base': no such zone in /usr/share/zoneinfo; use an IANA "
         "name such as Europe/Berlin, UTC, or an offset such as +01:00"},
        {"[{\"json\": {\"max_depth\": 0}}]",
         "shipper.json:1:40: processors[0].json.max_depth: found an "
         "integer 0, expected an integer from 1 to 64"},
        {"[{\"rename\": {\"fields\": [{\"from\": \"a\"}]}}]",
         "shipper.json:1:40: processors[0].rename.fields[0]: missing "
         "required key 'to'"},
        {"[{\"remove\": {\"fields\": [\"a..b\"]}}]",
         "shipper.json:1:40: processors[0].remove.fields[0]: field "
         "reference 'a..b' has an empty name"},
        {"[{\"add_fields\": {\"fields\": {\"x[\": 1}}}]",
         "shipper.json:1:50: processors[0].add_fields.fields[\"x[\"]: field "
         "reference 'x[' mixes names and brackets; write [a][b] or a.b"},
        {"[{\"add_fields\": {\"fields\": {\"a\": [1]}}}]",
         "shipper.json:1:49: processors[0].add_fields.fields.a: found "
         "an array, expected a string, number, boolean or object"},
        {"[{\"add_tags\": {\"tags\": []}}]",
         "shipper.json:1:39: processors[0].add_tags.tags: found 0 "
         "elements, expected a list of strings (1 to 64)"},
        {"[{\"drop\": {\"when\": {\"equal\": {\"a\": 1}}}}]",
         "shipper.json:1:36: processors[0].drop.when: unknown key "
         "'equal' (did you mean 'equals'?)"},
        {"[{\"drop\": {\"when\": {\"regexp\": {\"url.path\": \"(\"}}}}]",
         "shipper.json:1:59: "
         "processors[0].drop.when.regexp[\"url.path\"]: found a string "
         "\"(\", expected a regular expression: missing closing "
         "parenthesis at offset 1"},
        {"[{\"drop\": {\"when\": {\"equals\": {\"a\": null}}}}]",
         "shipper.json:1:52: processors[0].drop.when.equals.a: found "
         "null, expected a string, number or boolean"},
        {"[{\"drop\": {\"when\": {\"and\": {}}}}]",
         "shipper.json:1:43: processors[0].drop.when.and: found an "
         "object, expected a list of conditions"},
        {"[{\"traceback\": {\"field\": 3}}]",
         "shipper.json:1:41: processors[0].traceback.field: found an "
         "integer 3, expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i][0], cases[i][1]);
}

/* ---- counters ----------------------------------------------------------- */

static uint64_t counter(struct sl_metrics *m, const char *name,
                        const char *const *labels)
{
    /* The rendered text is the user's view: read the value there. */
    struct sl_buf b;
    struct sl_err err;
    char want[512];
    size_t n = (size_t)snprintf(want, sizeof want, "%s{processor=\"%s\"", name,
                                labels[0]);
    if (labels[1] != NULL)
        n = (size_t)snprintf(want, sizeof want,
                             "%s{processor=\"%s\",pattern=\"%s\"} ", name,
                             labels[0], labels[1]);
    else
        n = (size_t)snprintf(want, sizeof want, "%s{processor=\"%s\"} ", name,
                             labels[0]);
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(sl_metrics_render_prometheus(m, &b, &err), 0);
    const char *at = strstr(b.ptr, want);
    if (at == NULL)
        fail_msg("no %s in\n%s", want, b.ptr);
    uint64_t v = strtoull(at + n, NULL, 10);
    sl_buf_release(&b);
    return v;
}

static void counters(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"p\": [{\"grok\": {\"patterns\": [\"^GET %{URIPATH:url.path}\", "
        "\"^POST %{URIPATH:url.path}\"]}},"
        " {\"drop\": {\"when\": {\"equals\": {\"url.path\": \"/health\"}}}}]}";
    struct sl_err err;
    struct sl_metrics *m = sl_metrics_new();
    struct proc_metrics *pm = proc_metrics_new(m, &err);
    assert_non_null(pm);
    struct proc_env env = {.metrics = pm};
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    assert_non_null(cfg);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, &env, &err);
    if (c == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(proc_chain_label(c, 0), "p[0].grok");
    assert_string_equal(proc_chain_label(c, 1), "p[1].drop");
    assert_null(proc_chain_label(c, 2));
    static const char *const lines[] = {"GET /a", "POST /b", "PUT /c",
                                        "GET /health", "GET /health"};
    int dropped = 0;
    for (size_t i = 0; i < 5; i++) {
        struct outcome o = run_chain(c, NULL, lines[i], NOW_DEFAULT);
        dropped += o.verdict == PROC_DROP;
        free(o.json);
    }
    assert_int_equal(dropped, 2);
    const char *get[] = {"p[0].grok", "^GET %{URIPATH:url.path}"};
    const char *post[] = {"p[0].grok", "^POST %{URIPATH:url.path}"};
    const char *grok[] = {"p[0].grok", NULL}, *drop[] = {"p[1].drop", NULL};
    assert_int_equal(counter(m, "sluice_grok_matches_total", get), 3);
    assert_int_equal(counter(m, "sluice_grok_failures_total", get), 2);
    assert_int_equal(counter(m, "sluice_grok_matches_total", post), 1);
    assert_int_equal(counter(m, "sluice_grok_failures_total", post), 1);
    assert_int_equal(counter(m, "sluice_grok_timeouts_total", post), 0);
    assert_int_equal(counter(m, "sluice_processor_failures_total", grok), 1);
    assert_int_equal(counter(m, "sluice_processor_dropped_total", drop), 2);
    assert_int_equal(counter(m, "sluice_processor_failures_total", drop), 0);
    /* A second chain on the same registry: its own children. */
    struct proc_chain *c2 = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, &env, &err);
    assert_non_null(c2);
    proc_chain_free(c2);
    proc_chain_free(c);
    sl_config_free(cfg);
    proc_metrics_free(pm);
    sl_metrics_free(m);
}

/* @timestamp is written from the time, one second's text reused: the
 * milliseconds must still be each event's own. */
static void timestamps_in_turn(void **state)
{
    (void)state;
    static const int64_t times[] = {1795428000123LL,
                                    1795428000456LL,
                                    1795428000000LL,
                                    1795428061007LL,
                                    1795428000999LL,
                                    -1000LL,
                                    0LL,
                                    253402300799999LL};
    static const char *const want[] = {
        "2026-11-23T10:00:00.123Z", "2026-11-23T10:00:00.456Z",
        "2026-11-23T10:00:00.000Z", "2026-11-23T10:01:01.007Z",
        "2026-11-23T10:00:00.999Z", "1969-12-31T23:59:59.000Z",
        "1970-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"};
    struct sl_err err;
    struct proc_chain *c = proc_chain_new(NULL, NULL, NULL, &err);
    assert_non_null(c);
    assert_int_equal(proc_chain_len(c), 0);
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        struct outcome o = run_chain(c, NULL, "m", times[i]);
        char head[64];
        snprintf(head, sizeof head, "{\"@timestamp\":\"%s\",", want[i]);
        assert_int_equal(o.ts, times[i]);
        if (strncmp(o.json, head, strlen(head)) != 0)
            fail_msg("%zu: %s, wanted %s", i, o.json, want[i]);
        free(o.json);
    }
    proc_chain_free(c);
}

/* ---- grok timeouts ------------------------------------------------------ */

static void grok_timeout_tags(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"p\": [{\"grok\": {\"patterns\": [\"^(a|aa)+$\"]}}]}";
    struct sl_err err;
    struct proc_env env = {.grok = {.match_limit = 1000}};
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    assert_non_null(cfg);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, &env, &err);
    assert_non_null(c);
    char line[64];
    memset(line, 'a', 40);
    line[40] = 'b';
    line[41] = '\0';
    struct outcome o = run_chain(c, NULL, line, NOW_DEFAULT);
    assert_int_equal(o.verdict, PROC_KEEP);
    assert_non_null(strstr(o.json, "\"tags\":[\"_groktimeout\"]"));
    free(o.json);
    proc_chain_free(c);
    sl_config_free(cfg);
}

/* ---- tracebacks --------------------------------------------------------- */

static void tb(const char *text, int want_rc, const char *type,
               const char *message, const char *file, const char *line,
               const char *function)
{
    struct tb_result r;
    int rc = tb_parse(text, strlen(text), &r);
    assert_int_equal(rc, want_rc);
    if (rc != 1)
        return;
#define EQ(slice, s)                                                           \
    do {                                                                       \
        char b_[512];                                                          \
        snprintf(b_, sizeof b_, "%.*s", (int)(slice).len,                      \
                 (slice).ptr ? (slice).ptr : "");                              \
        assert_string_equal(b_, s);                                            \
    } while (0)
    EQ(r.type, type);
    EQ(r.message, message);
    EQ(r.file, file);
    EQ(r.line, line);
    EQ(r.function, function);
#undef EQ
}

/* Python messages over several lines: psycopg2's DETAIL and pydantic run
 * to the end of the event (blank lines inside kept, trailing ones not),
 * logging's stack_info after the traceback is no part of it, and a
 * message may begin on the next line. */
static const struct {
    const char *text, *type, *message, *file, *line, *function;
} messages[] = {
    {"2026-12-05 00:00:01,500 ERROR app.db: insert failed\n"
     "Traceback (most recent call last):\n"
     "  File \"/srv/app/db.py\", line 88, in insert\n"
     "    cur.execute(sql, params)\n"
     "psycopg2.errors.UniqueViolation: duplicate key value violates "
     "unique constraint \"users_email_key\"\n"
     "DETAIL:  Key (email)=(a@example.com) already exists.\n\n",
     "psycopg2.errors.UniqueViolation",
     "duplicate key value violates unique constraint \"users_email_key\"\n"
     "DETAIL:  Key (email)=(a@example.com) already exists.",
     "/srv/app/db.py", "88", "insert"},
    {"Traceback (most recent call last):\r\n"
     "  File \"/srv/app/forms.py\", line 5, in clean\r\n"
     "pydantic_core._pydantic_core.ValidationError: 1 validation error for "
     "Order\r\nqty\r\n\r\n"
     "  Input should be greater than 0 [type=greater_than]\r\n",
     "pydantic_core._pydantic_core.ValidationError",
     "1 validation error for Order\r\nqty\r\n\r\n  Input should be "
     "greater than 0 [type=greater_than]",
     "/srv/app/forms.py", "5", "clean"},
    {"ERROR:root:failed\nTraceback (most recent call last):\n"
     "  File \"/a.py\", line 3, in f\nValueError: bad\nmore\n"
     "Stack (most recent call last):\n"
     "  File \"/a.py\", line 9, in <module>\n"
     "    log.exception(\"failed\", stack_info=True)\n",
     "ValueError", "bad\nmore", "/a.py", "3", "f"},
    {"Traceback (most recent call last):\n  File \"/a.py\", line 1, in f\n"
     "ValueError: \non its own line\n",
     "ValueError", "on its own line", "/a.py", "1", "f"},
};

static void traceback_parser(void **state)
{
    (void)state;
    tb("2026-11-23 10:00:02,001 ERROR app: failed\n"
       "Traceback (most recent call last):\n"
       "  File \"/srv/app/handlers.py\", line 42, in get_order\n"
       "    order = repo.load(order_id)\n"
       "  File \"/srv/app/repo.py\", line 88, in load\n"
       "    raise KeyError(order_id)\n"
       "KeyError: 17",
       1, "KeyError", "17", "/srv/app/repo.py", "88", "load");
    /* no message; a note after; CRLF */
    tb("Traceback (most recent call last):\r\n"
       "  File \"<stdin>\", line 1, in <module>\r\n"
       "KeyboardInterrupt\r\n"
       "note: pressed twice\r\n",
       1, "KeyboardInterrupt", "", "<stdin>", "1", "<module>");
    /* cut before the exception line */
    tb("Traceback (most recent call last):\n"
       "  File \"/a.py\", line 1, in f\n",
       -1, NULL, NULL, NULL, NULL, NULL);
    /* an exception group: the group propagated, not its members */
    tb("ERROR app.batch: 2 jobs failed\n"
       "  + Exception Group Traceback (most recent call last):\n"
       "  |   File \"/srv/app/batch.py\", line 51, in run_all\n"
       "  |     async with asyncio.TaskGroup() as tg:\n"
       "  |   File \"/usr/lib/python3.11/asyncio/taskgroups.py\", line 135, "
       "in __aexit__\n"
       "  |     raise me from None\n"
       "  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)\n"
       "  +-+---------------- 1 ----------------\n"
       "    | Traceback (most recent call last):\n"
       "    |   File \"/srv/app/batch.py\", line 60, in job\n"
       "    | ValueError: job 3 has no input\n"
       "    +------------------------------------\n",
       1, "ExceptionGroup", "unhandled errors in a TaskGroup (1 sub-exception)",
       "/usr/lib/python3.11/asyncio/taskgroups.py", "135", "__aexit__");
    /* a SyntaxError's frame has no function; its caret lines are skipped */
    tb("Traceback (most recent call last):\n"
       "  File \"/srv/app/plugins.py\", line 22, in load\n"
       "  File \"/srv/app/plugins/report.py\", line 7\n"
       "    def render(self:\n"
       "              ^\n"
       "SyntaxError: '(' was never closed",
       1, "SyntaxError", "'(' was never closed", "/srv/app/plugins/report.py",
       "7", "");
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        tb(messages[i].text, 1, messages[i].type, messages[i].message,
           messages[i].file, messages[i].line, messages[i].function);
    /* "Traceback" alone is no header */
    tb("Traceback: 3 retries left", 0, NULL, NULL, NULL, NULL, NULL);
    tb("just a line", 0, NULL, NULL, NULL, NULL, NULL);
    tb("", 0, NULL, NULL, NULL, NULL, NULL);
    /* Java: module prefix, the top exception, not the causes */
    tb("2026-11-23 ERROR [main] x - failed\n"
       "java.lang.IllegalStateException: order 17\n"
       "\tat java.base/java.util.Objects.check(Objects.java:359)\n"
       "\tat com.example.Svc.load(Svc.java:88)\n"
       "Caused by: java.io.IOException: reset\n"
       "\tat x.Y.z(Y.java:1)\n",
       1, "java.lang.IllegalStateException", "order 17", "Objects.java", "359",
       "java.util.Objects.check");
    tb("Exception in thread \"main\" java.lang.RuntimeException\n"
       "\tat sun.nio.ch.Net.connect0(Native Method)\n",
       1, "java.lang.RuntimeException", "", "", "", "sun.nio.ch.Net.connect0");
    /* a message over two lines; a class loader prefix */
    tb("org.x.BadThing: first\nsecond\n"
       "\tat app//org.x.A.b(A.java)\n",
       1, "org.x.BadThing", "first\nsecond", "A.java", "", "org.x.A.b");
    /* Node.js */
    tb("TypeError: x is not a function\n"
       "    at handler (/app/src/h.js:10:5)\n"
       "    at /app/node_modules/x/y.js:1:2\n",
       1, "TypeError", "x is not a function", "/app/src/h.js", "10", "handler");
    /* frames with no exception above them */
    tb("hello\n\tat x.Y.z(Y.java:1)\n", -1, NULL, NULL, NULL, NULL, NULL);
}

/* Every event of the sample logs with a traceback gets its error type and
 * crash site; the others are left alone. */
static void traceback_sample_logs(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *types[8];
    } logs[] = {
        {"python_app",
         {"KeyError", "app.errors.PaymentError", "app.config.ConfigError",
          "ExceptionGroup", "SyntaxError", "RuntimeError", NULL}},
        {"python_basic",
         {"ValueError", "KeyboardInterrupt", "SystemExit", NULL}},
        {"python_messages",
         {"psycopg2.errors.UniqueViolation", "sqlalchemy.exc.IntegrityError",
          "pydantic_core._pydantic_core.ValidationError", "ValueError", NULL}},
        {"java_logback",
         {"java.lang.IllegalStateException",
          "org.springframework.web.client.ResourceAccessException",
          "java.io.IOException", "com.example.shop.config.ConfigException",
          "java.util.concurrent.TimeoutException", "java.lang.OutOfMemoryError",
          NULL}},
    };
    static const char doc[] = "{\"p\": [{\"traceback\": {}}]}";
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, NULL, &err);
    assert_non_null(c);
    for (size_t l = 0; l < sizeof logs / sizeof logs[0]; l++) {
        char path[512];
        snprintf(path, sizeof path,
                 SLUICE_SOURCE_DIR "/tests/shipper/multiline/%s.expected.jsonl",
                 logs[l].file);
        struct sl_buf b;
        sl_buf_init(&b, 1 << 20);
        if (sl_file_read(path, "cases", 16 << 20, &b, &err) < 0)
            fail_msg("%s", err.msg);
        size_t found = 0;
        for (char *p = b.ptr; *p != '\0';) {
            char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            struct sl_config *ec = sl_config_load_buffer(path, p, len, &err);
            assert_non_null(ec);
            const char *text;
            assert_int_equal(
                sl_config_string(sl_config_root(ec), "text", NULL, &text, &err),
                0);
            struct outcome o = run_chain(c, NULL, text, NOW_DEFAULT);
            assert_null(strstr(o.json, "_tracebackparsefailure"));
            if (strstr(o.json, "\"error\":") != NULL) {
                char want[256];
                assert_non_null(logs[l].types[found]);
                snprintf(want, sizeof want, "\"error\":{\"type\":\"%s\"",
                         logs[l].types[found]);
                if (strstr(o.json, want) == NULL)
                    fail_msg("%s: no %s in %s", path, want, o.json);
                assert_non_null(strstr(o.json, "\"log\":{\"origin\":{"));
                found++;
            }
            free(o.json);
            sl_config_free(ec);
            p += len + (nl != NULL);
        }
        assert_null(logs[l].types[found]);
        sl_buf_release(&b);
    }
    proc_chain_free(c);
    sl_config_free(cfg);
}

/* Numbers keep the text the line had: no precision lost, no reformatting
 * (Elasticsearch reads them); the case file cannot say this, as its
 * expected events go through doubles. */
static void json_numbers_keep_their_text(void **state)
{
    (void)state;
    static const char doc[] = "{\"p\": [{\"json\": {\"target\": \"j\"}}]}";
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, NULL, &err);
    assert_non_null(c);
    struct outcome o = run_chain(
        c, NULL,
        "{\"n\":123456789012345678901234567890,\"f\":-1.50e-7,\"z\":0}",
        NOW_DEFAULT);
    assert_non_null(strstr(
        o.json, ",\"j\":{\"n\":123456789012345678901234567890,\"f\":-1.50e-7,"
                "\"z\":0}}"));
    free(o.json);
    proc_chain_free(c);
    sl_config_free(cfg);
}

/* ---- memory ------------------------------------------------------------- */

/* Past the arena's cap a processor fails like any other: the chain goes
 * on, and what the event had stays. */
static void arena_cap(void **state)
{
    (void)state;
    static const char doc[] = "{\"p\": [{\"json\": {}}, {\"add_tags\": "
                              "{\"tags\": [\"after\"]}}]}";
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, NULL, &err);
    assert_non_null(c);
    struct sl_buf line;
    sl_buf_init(&line, 1 << 20);
    assert_int_equal(sl_buf_append(&line, "{\"a\":[", 6, &err), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(sl_buf_append(&line, "\"xxxxxxxx\",", 11, &err), 0);
    assert_int_equal(sl_buf_append(&line, "1]}", 3, &err), 0);
    struct sl_arena *a = sl_arena_new(4096);
    sl_arena_set_limit(a, 256 * 1024);
    struct sl_event ev;
    sl_event_init(&ev, a);
    assert_int_equal(sl_event_put_top(&ev, "message", SL_VALUE_STRING, line.ptr,
                                      line.len, &err),
                     0);
    int64_t ts = NOW_DEFAULT;
    assert_int_equal(proc_chain_run(c, &ev, &ts), PROC_KEEP);
    assert_true(sl_event_has_tag(&ev, "_jsonparsefailure"));
    assert_true(sl_event_has_tag(&ev, "after"));
    struct sl_value *msg = ev.root.first; /* @timestamp was put first */
    while (msg != NULL && !sl_slice_eq(msg->key, "message", 7))
        msg = msg->next;
    assert_non_null(msg);
    assert_int_equal(msg->text.len, line.len);
    sl_arena_free(a);
    sl_buf_release(&line);
    proc_chain_free(c);
    sl_config_free(cfg);
}

/* The exception after the record's text on its line: winston's err.stack
 * behind a level, a Java logger's message then the exception; a name that
 * merely contains a colon or is not an error's is not taken, and a column-0
 * exception line above the frame still wins. */
static void traceback_exception_within_a_line(void **state)
{
    (void)state;
    tb("2026-12-05T10:00:00.000Z error: TypeError: Cannot read properties "
       "of null (reading 'x')\n"
       "    at f (/srv/app/h.js:1:20)\n"
       "    at Object.<anonymous> (/srv/app/h.js:2:7)\n",
       1, "TypeError", "Cannot read properties of null (reading 'x')",
       "/srv/app/h.js", "1", "f");
    tb("2026-12-05 10:00:02,000 ERROR [exec-1] c.e.Ctl - request failed: "
       "java.lang.NumberFormatException: For input string: \"abc\"\n"
       "\tat java.base/java.lang.Integer.parseInt(Integer.java:652)\n",
       1, "java.lang.NumberFormatException", "For input string: \"abc\"",
       "Integer.java", "652", "java.lang.Integer.parseInt");
    /* a message over two lines after the name; no message */
    tb("W 12:00 app: UploadError: part 1\nof 2\n    at up (/a.js:3:1)\n", 1,
       "UploadError", "part 1\nof 2", "/a.js", "3", "up");
    tb("10:00 failed with IOException\n\tat x.Y.z(Y.java:1)\n", 1,
       "IOException", "", "Y.java", "1", "x.Y.z");
    /* upper-case ERROR, a dotted logger name, "key=Error": none is one */
    tb("2026 ERROR: c.e.Ctl: x=Error: boom\n\tat x.Y.z(Y.java:1)\n", -1, NULL,
       NULL, NULL, NULL, NULL);
    tb("2026 INFO c.e.Ctl - got TypeError: a\n"
       "java.lang.IllegalStateException: b\n\tat x.Y.z(Y.java:1)\n",
       1, "java.lang.IllegalStateException", "b", "Y.java", "1", "x.Y.z");
    struct tb_result r;
    static const char within[] =
        "t error: RangeError: big\n    at g (/b.js:2:3)";
    assert_int_equal(tb_parse(within, sizeof within - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, strstr(within, "RangeError"));
    assert_int_equal(r.stack.len, strlen(strstr(within, "RangeError")));
}

/* An exception without frames, on the first line or under its record:
 * its message runs to a "Caused by: " or the end; a name alone has none,
 * whatever follows. */
static void traceback_java_without_frames(void **state)
{
    (void)state;
    static const struct {
        const char *text, *type, *message;
    } cases[] = {
        {"java.lang.NullPointerException\n", "java.lang.NullPointerException",
         ""},
        {"2026 ERROR c.e.X - x\njava.lang.NullPointerException\nmore\n",
         "java.lang.NullPointerException", ""},
        {"R\nx.y.BadException: one\ntwo\nCaused by: a.b.CError: c\n",
         "x.y.BadException", "one\ntwo"},
        {"R\n\x1b[31mjava.io.IOException: disk\x1b[0m\n", "java.io.IOException",
         "disk"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tb_result r;
        const char *t = cases[i].text;
        assert_int_equal(tb_parse(t, strlen(t), &r), 0);
        assert_int_equal(tb_parse_frameless(t, strlen(t), &r), 1);
        assert_true(sl_slice_eq(r.type, cases[i].type, strlen(cases[i].type)));
        assert_true(
            sl_slice_eq(r.message, cases[i].message, strlen(cases[i].message)));
        assert_int_equal(r.file.len + r.line.len + r.function.len, 0);
    }
    /* not one: undotted, not named like an error, indented, third line */
    static const char *const none[] = {"ValueError: x\n", "R\ndb.primary: UP\n",
                                       "R\n\tjava.io.IOException\n",
                                       "R\nS\njava.io.IOException\n"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        struct tb_result r;
        assert_int_equal(tb_parse_frameless(none[i], strlen(none[i]), &r), 0);
    }
}

/* Tomcat's OneLineFormatter indents a whole stack trace by a tab: the
 * exception line is indented, less than the frames. A line indented as
 * deep as the frame is no exception line. */
static void traceback_indented_java(void **state)
{
    (void)state;
    tb("05-Dec-2026 10:00:00.000 SEVERE [main] o.a.c.s.Catalina.start "
       "Failed\n"
       "\torg.apache.catalina.LifecycleException: Protocol handler failed\n"
       "\t\tat org.apache.catalina.connector.Connector.initInternal("
       "Connector.java:1050)\n"
       "\tCaused by: java.net.BindException: Address already in use\n"
       "\t\tat java.base/sun.nio.ch.Net.bind0(Native Method)\n",
       1, "org.apache.catalina.LifecycleException", "Protocol handler failed",
       "Connector.java", "1050",
       "org.apache.catalina.connector.Connector.initInternal");
    tb("R\n\tx.y.Z: m\n\tat a.b(C.java:1)\n", -1, NULL, NULL, NULL, NULL, NULL);
    struct tb_result r;
    static const char t[] = "R\n  x.y.Z: m\n    at f (/a.js:1:2)";
    assert_int_equal(tb_parse(t, sizeof t - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, strstr(t, "x.y.Z"));
}

/* A cause printed with no traceback: the stack trace starts at it. */
static void traceback_cause_without_traceback(void **state)
{
    (void)state;
    static const char t[] =
        "2026-12-05 ERROR pool failed\n"
        "multiprocessing.pool.RemoteTraceback: \n\"\"\"\n"
        "Traceback (most recent call last):\n"
        "  File \"/w.py\", line 3, in f\nZeroDivisionError: division by "
        "zero\n\"\"\"\n\nThe above exception was the direct cause of the "
        "following exception:\n\nTraceback (most recent call last):\n"
        "  File \"/m.py\", line 6, in <module>\n"
        "ZeroDivisionError: division by zero";
    struct tb_result r;
    tb(t, 1, "ZeroDivisionError", "division by zero", "/m.py", "6", "<module>");
    assert_int_equal(tb_parse(t, sizeof t - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, strstr(t, "multiprocessing"));
    static const char u[] =
        "ValueError: y\n\nThe above exception was the direct cause of the "
        "following exception:\n\nTraceback (most recent call last):\n"
        "  File \"/a.py\", line 4, in <module>\nRuntimeError: x";
    assert_int_equal(tb_parse(u, sizeof u - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, u);
    /* a record named like a cause ("%(name)s: %(message)s") is not one */
    static const char w[] =
        "app.jobs: failed\nValueError: y\n\nThe above exception was the "
        "direct cause of the following exception:\n\nTraceback (most recent "
        "call last):\n  File \"/a.py\", line 4, in <module>\nRuntimeError: x";
    assert_int_equal(tb_parse(w, sizeof w - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, strstr(w, "ValueError"));
    /* no chain message: the header starts it */
    static const char v[] = "app.x: failed\nTraceback (most recent call "
                            "last):\n  File \"/a.py\", line 4, in g\nE: x";
    assert_int_equal(tb_parse(v, sizeof v - 1, &r), 1);
    assert_ptr_equal(r.stack.ptr, strstr(v, "Traceback"));
}

/* .NET frames: the file and line after " in ", never the parameters. */
static void traceback_dotnet_frames(void **state)
{
    (void)state;
    tb("System.ArgumentNullException: Value cannot be null. (Parameter "
       "'key')\n"
       "   at MyApp.Cache.Get(String key, Int32 n) in C:\\src\\Cache.cs:line "
       "7\n"
       "   at MyApp.Program.Main(String[] args) in /src/Program.cs:line 12\n",
       1, "System.ArgumentNullException",
       "Value cannot be null. (Parameter 'key')", "C:\\src\\Cache.cs", "7",
       "MyApp.Cache.Get");
    tb("System.InvalidOperationException: empty\n"
       "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n",
       1, "System.InvalidOperationException", "empty", "", "",
       "System.Linq.Enumerable.First[TSource]");
    /* Java's own, with a space in a file name's place: none */
    tb("x.Y: m\n\tat a.B.c(Unknown Source)\n", 1, "x.Y", "m", "", "", "a.B.c");
}

/* loguru's "> File" frame and blank lines between the blocks. */
static void traceback_loguru(void **state)
{
    (void)state;
    tb("2026 | ERROR | x\nTraceback (most recent call last):\n\n"
       "> File \"/a.py\", line 17, in <module>\n"
       "    raise ValueError('bad') from e\n\nValueError: bad",
       1, "ValueError", "bad", "/a.py", "17", "<module>");
    tb("Traceback (most recent call last):\n\n"
       "> File \"/a.py\", line 9, in <module>\n    g(1)\n\n"
       "  File \"/a.py\", line 5, in f\n    return 1 / x\n\n"
       "ZeroDivisionError: division by zero",
       1, "ZeroDivisionError", "division by zero", "/a.py", "5", "f");
}

/* A SyntaxError at start-up: a frame and no "Traceback" header. */
static void traceback_syntax_error_without_header(void **state)
{
    (void)state;
    tb("  File \"/app/main.py\", line 2\n    def f(:\n          ^\n"
       "SyntaxError: invalid syntax",
       1, "SyntaxError", "invalid syntax", "/app/main.py", "2", "");
    tb("2026 ERROR boot\n  File \"/app/m.py\", line 3\n    y=2\n"
       "IndentationError: unexpected indent\n",
       1, "IndentationError", "unexpected indent", "/app/m.py", "3", "");
    /* an exception class defined in a function */
    tb("Traceback (most recent call last):\n  File \"/a.py\", line 6, in f\n"
       "make.<locals>.RetryError: gave up",
       1, "make.<locals>.RetryError", "gave up", "/a.py", "6", "f");
    /* frames with no SyntaxError after them: nothing */
    tb("R\n  File \"/app/m.py\", line 3\nValueError: x\n", 0, NULL, NULL, NULL,
       NULL, NULL);
}

/* Coloured output: the colour codes around a line are no part of its
 * shape, nor of the exception's type and message. */
static void traceback_ansi_colours(void **state)
{
    (void)state;
    tb("\x1b[31m2026 ERROR\x1b[0m x\nTraceback (most recent call last):\n"
       "  File \"/a.py\", line 4, in f\n\x1b[1mKeyError\x1b[0m\n",
       1, "KeyError", "", "/a.py", "4", "f");
    tb("\x1b[31m2026 ERROR\x1b[0m x\n\x1b[1;31mjava.io.IOException: "
       "disk\x1b[0m\n\tat a.B.c(B.java:9)\n",
       1, "java.io.IOException", "disk", "B.java", "9", "a.B.c");
}

/* Go: a panic or the runtime's fatal error, the crash site the first
 * frame of the crashed goroutine outside the runtime. */
static void traceback_go_panics(void **state)
{
    (void)state;
    tb("2026/12/05 09:00:00 serving\npanic: runtime error: invalid memory "
       "address or nil pointer dereference\n[signal SIGSEGV: segmentation "
       "violation code=0x1 addr=0x0 pc=0x4a2b3c]\n\ngoroutine 1 [running]:\n"
       "main.(*Server).handle(0x0, {0x5c1e20, 0xc000010000})\n"
       "\t/app/server.go:42 +0x1c\nmain.main()\n\t/app/main.go:17 +0x85\n"
       "exit status 2\n",
       1, "panic",
       "runtime error: invalid memory address or nil pointer dereference",
       "/app/server.go", "42", "main.(*Server).handle");
    tb("panic: boom\n\ngoroutine 1 [running]:\npanic({0x4b8e40?, "
       "0xc0000a4000?})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\n"
       "main.f(...)\n\t/app/f.go:9\nmain.main()\n\t/app/main.go:3 +0x25\n",
       1, "panic", "boom", "/app/f.go", "9", "main.f");
    tb("fatal error: concurrent map writes\n\ngoroutine 5 [running]:\n"
       "runtime.throw({0x4c2f1e?, 0x0?})\n\t/usr/local/go/src/runtime/"
       "panic.go:1047 +0x5d\n",
       1, "fatal error", "concurrent map writes", "", "", "");
}

/* The charset processor on the bytes of a line in ISO-8859-1 or
 * Windows-1252 (before, each accented letter was written U+FFFD), and on
 * one that is UTF-8 already (kept). */
static void charset_reads_legacy_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *processors, *message, *want;
    } cases[] = {
        {"[{\"charset\": {\"from\": \"ISO-8859-1\"}}]", "caf\xe9 \x80 \xff",
         "\"message\":\"caf\xc3\xa9 \xc2\x80 \xc3\xbf\""},
        {"[{\"charset\": {}}]", "\x93quoted\x94 \x80 \x81",
         "\"message\":\"\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac "
         "\xc2\x81\""},
        {"[{\"charset\": {}}]", "d\xc3\xa9j\xc3\xa0 UTF-8",
         "\"message\":\"d\xc3\xa9j\xc3\xa0 UTF-8\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[512];
        struct sl_err err;
        snprintf(doc, sizeof doc, "{\"p\": %s}", cases[i].processors);
        struct sl_config *cfg =
            sl_config_load_buffer("c.json", doc, strlen(doc), &err);
        assert_non_null(cfg);
        struct proc_chain *c = proc_chain_new(
            sl_config_get(sl_config_root(cfg), "p"), NULL, NULL, &err);
        assert_non_null(c);
        struct outcome o = run_chain(c, NULL, cases[i].message, NOW_DEFAULT);
        if (strstr(o.json, cases[i].want) == NULL)
            fail_msg("case %zu: %s", i, o.json);
        free(o.json);
        proc_chain_free(c);
        sl_config_free(cfg);
    }
}

/* ---- the json processor's object paths against the template ----------- */

static bool json_object_listed(const char *path)
{
    for (size_t j = 0; j < proc_json_nobject_paths; j++)
        if (strcmp(proc_json_object_paths[j], path) == 0)
            return true;
    return false;
}

static bool json_leaf_listed(const char *path)
{
    for (size_t j = 0; j < proc_json_nleaf_paths; j++)
        if (strcmp(proc_json_leaf_paths[j], path) == 0)
            return true;
    return false;
}

/* The template's properties under prefix, each checked: an object is
 * listed in proc_json_object_paths, a leaf in proc_json_leaf_paths, and
 * neither in the other. The objects counted, and the leaves in *leaves. */
static size_t json_object_paths_under(const struct sl_config_node *props,
                                      const char *prefix, size_t *leaves)
{
    struct sl_err err;
    size_t n = 0;
    for (size_t i = 0; i < sl_config_len(props); i++) {
        const struct sl_config_node *f = sl_config_at(props, i);
        const char *type = NULL;
        assert_int_equal(sl_config_string(f, "type", "", &type, &err), 0);
        const struct sl_config_node *sub = sl_config_get(f, "properties");
        bool object = sub != NULL || strcmp(type, "object") == 0;
        char path[256];
        snprintf(path, sizeof path, "%s%s", prefix, sl_config_key(f));
        if (object != json_object_listed(path))
            fail_msg("\"%s\": %s in the template, %s proc_json_object_paths",
                     path, object ? "an object" : "a leaf",
                     object ? "but not in" : "but in");
        if (object == json_leaf_listed(path))
            fail_msg("\"%s\": %s in the template, %s proc_json_leaf_paths",
                     path, object ? "an object" : "a leaf",
                     object ? "but in" : "but not in");
        if (!object) {
            (*leaves)++;
            continue;
        }
        char sub_prefix[sizeof path + 1];
        snprintf(sub_prefix, sizeof sub_prefix, "%s.", path);
        n += 1 + json_object_paths_under(sub, sub_prefix, leaves);
    }
    return n;
}

/* proc_json_object_paths is exactly the set of paths that
 * conf/elasticsearch/sluice-template.json maps as objects, and
 * proc_json_leaf_paths the set it maps as leaves: a field the template
 * gains is guarded too, one it loses no longer is. */
static void json_object_paths_match_template(void **state)
{
    (void)state;
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_file(
        SLUICE_SOURCE_DIR "/conf/elasticsearch/sluice-template.json", &err);
    if (cfg == NULL)
        fail_msg("%s", err.msg);
    const struct sl_config_node *props = sl_config_get(
        sl_config_get(sl_config_get(sl_config_root(cfg), "template"),
                      "mappings"),
        "properties");
    assert_true(sl_config_len(props) > 0);
    size_t leaves = 0;
    assert_int_equal(json_object_paths_under(props, "", &leaves),
                     proc_json_nobject_paths);
    assert_int_equal(leaves, proc_json_nleaf_paths);
    for (size_t j = 1; j < proc_json_nobject_paths; j++)
        assert_true(strcmp(proc_json_object_paths[j - 1],
                           proc_json_object_paths[j]) < 0);
    for (size_t j = 1; j < proc_json_nleaf_paths; j++)
        assert_true(
            strcmp(proc_json_leaf_paths[j - 1], proc_json_leaf_paths[j]) < 0);
    sl_config_free(cfg);
}

/* ---- Serilog templates of outside lines --------------------------------- */

/* n members ",\"<prefix><i in hex>\":<value>" appended to line. */
static void append_members(struct sl_buf *line, const char *prefix,
                           const char *value, int n)
{
    struct sl_err err;
    for (int i = 0; i < n; i++) {
        char f[64];
        int k =
            snprintf(f, sizeof f, ",\"%s%x\":%s", prefix, (unsigned)i, value);
        assert_int_equal(sl_buf_append(line, f, (size_t)k, &err), 0);
    }
}

/* The event's top-level member of that key, or NULL. */
static const struct sl_value *top_member(const struct sl_event *ev,
                                         const char *key)
{
    const struct sl_value *v = ev->root.first;
    while (v != NULL && !sl_slice_eq(v->key, key, strlen(key)))
        v = v->next;
    return v;
}

/* Runs the json processor on line, outside bytes: the event it makes, and the
 * CPU seconds it took. */
static double json_cpu(struct sl_buf *line, struct sl_event *ev,
                       struct sl_arena *a)
{
    static const char doc[] = "{\"p\": [{\"json\": {}}]}";
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("c", doc, strlen(doc), &err);
    struct proc_chain *c = proc_chain_new(
        sl_config_get(sl_config_root(cfg), "p"), NULL, NULL, &err);
    assert_non_null(c);
    sl_event_init(ev, a);
    assert_int_equal(sl_event_put_top(ev, "message", SL_VALUE_STRING, line->ptr,
                                      line->len, &err),
                     0);
    int64_t ts = NOW_DEFAULT;
    clock_t t0 = clock();
    assert_int_equal(proc_chain_run(c, ev, &ts), PROC_KEEP);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_false(sl_event_has_tag(ev, "_jsonparsefailure"));
    proc_chain_free(c);
    sl_config_free(cfg);
    return cpu;
}

/* A template of many '{' and no '}' (a 1 MiB line of "{a") is kept as it
 * is, in time linear in its length: each '{' looked for the next '}' to
 * the end of the template, 4 s of CPU for that line (ASan build). */
static void clef_template_without_close_is_linear(void **state)
{
    (void)state;
    static const char head[] = "{\"@t\":\"2026-12-05T09:00:00Z\",\"@mt\":\"";
    size_t pairs = 512 * 1024;
    struct sl_err err;
    struct sl_buf line;
    sl_buf_init(&line, 2 << 20);
    assert_int_equal(sl_buf_append(&line, head, strlen(head), &err), 0);
    for (size_t i = 0; i < pairs; i++)
        assert_int_equal(sl_buf_append(&line, "{a", 2, &err), 0);
    assert_int_equal(sl_buf_append(&line, "\",\"a\":1}", 8, &err), 0);
    struct sl_arena *a = sl_arena_new(4096);
    struct sl_event ev;
    double cpu = json_cpu(&line, &ev, a);
    const struct sl_value *msg = top_member(&ev, "message");
    assert_non_null(msg);
    assert_int_equal(msg->text.len, 2 * pairs);
    assert_memory_equal(msg->text.ptr, line.ptr + strlen(head), 2 * pairs);
    if (cpu > 0.5)
        fail_msg("rendering a 1 MiB template took %.2f s of CPU", cpu);
    sl_arena_free(a);
    sl_buf_release(&line);
}

/* A journal line of 24,000 fields (more than journald stores) is left as
 * it is, in linear time: each field's new name was looked up among all
 * the others, 5 s of CPU for 256 KiB (ASan build), minutes for 1 MiB. */
static void journald_too_many_fields_is_linear(void **state)
{
    (void)state;
    struct sl_err err;
    struct sl_buf line;
    sl_buf_init(&line, 1 << 20);
    static const char head[] = "{\"__REALTIME_TIMESTAMP\":\"1764925200123456\"";
    assert_int_equal(sl_buf_append(&line, head, strlen(head), &err), 0);
    append_members(&line, "K", "\"\"", 24000);
    assert_int_equal(sl_buf_append(&line, "}", 1, &err), 0);
    struct sl_arena *a = sl_arena_new(4096);
    struct sl_event ev;
    double cpu = json_cpu(&line, &ev, a);
    /* not journald.custom.k0: not mapped */
    assert_non_null(top_member(&ev, "K0"));
    if (cpu > 0.5)
        fail_msg("a journal line of 24,000 fields took %.2f s of CPU", cpu);
    sl_arena_free(a);
    sl_buf_release(&line);
}

/* A Serilog template of 120,000 tokens among 50,000 properties is kept as
 * it is, in linear time: each token walked the properties. */
static void clef_too_many_tokens_is_linear(void **state)
{
    (void)state;
    struct sl_err err;
    struct sl_buf line;
    sl_buf_init(&line, 1 << 20);
    assert_int_equal(sl_buf_append(&line, "{\"@t\":\"x\"", 9, &err), 0);
    append_members(&line, "m", "1", 50000);
    assert_int_equal(sl_buf_append(&line, ",\"zz\":1,\"@mt\":\"", 15, &err), 0);
    size_t at = line.len, tokens = 120000;
    for (size_t i = 0; i < tokens; i++)
        assert_int_equal(sl_buf_append(&line, "{zz}", 4, &err), 0);
    assert_int_equal(sl_buf_append(&line, "\"}", 2, &err), 0);
    struct sl_arena *a = sl_arena_new(4096);
    struct sl_event ev;
    double cpu = json_cpu(&line, &ev, a);
    const struct sl_value *msg = top_member(&ev, "message");
    assert_non_null(msg);
    assert_int_equal(msg->text.len, 4 * tokens);
    assert_memory_equal(msg->text.ptr, line.ptr + at, 4 * tokens);
    if (cpu > 0.5)
        fail_msg("a template of 120,000 tokens took %.2f s of CPU", cpu);
    sl_arena_free(a);
    sl_buf_release(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cases_from_file),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(input_fields_errors),
        cmocka_unit_test(counters),
        cmocka_unit_test(timestamps_in_turn),
        cmocka_unit_test(grok_timeout_tags),
        cmocka_unit_test(traceback_parser),
        cmocka_unit_test(traceback_sample_logs),
        cmocka_unit_test(json_numbers_keep_their_text),
        cmocka_unit_test(arena_cap),
        cmocka_unit_test(traceback_exception_within_a_line),
        cmocka_unit_test(traceback_indented_java),
        cmocka_unit_test(traceback_java_without_frames),
        cmocka_unit_test(traceback_cause_without_traceback),
        cmocka_unit_test(traceback_dotnet_frames),
        cmocka_unit_test(traceback_loguru),
        cmocka_unit_test(traceback_syntax_error_without_header),
        cmocka_unit_test(traceback_ansi_colours),
        cmocka_unit_test(traceback_go_panics),
        cmocka_unit_test(charset_reads_legacy_bytes),
        cmocka_unit_test(json_object_paths_match_template),
        cmocka_unit_test(clef_template_without_close_is_linear),
        cmocka_unit_test(journald_too_many_fields_is_linear),
        cmocka_unit_test(clef_too_many_tokens_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
