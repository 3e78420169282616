/* test_indexer_run.c: the sluice-indexer binary end to end: batches written
 * into Redis as the shipper writes them (sl_batch_writer, XADD), then
 * `run --once`, `run` killed with -9, `setup`, `dlq list` and `dlq replay`,
 * each checked against the real Elasticsearch (argv[1] names the variable
 * with its URL) and Redis: counts exact, the batch ids as _id, the stream
 * empty with nothing pending, dead letters where they belong.
 *
 * The test starts its own redis-server (on PATH) on a free loopback port
 * and kills only that pid. Every test has its own keys and index prefix
 * (sluicetest-idx-PID-N-), and installs through `setup` a copy of the
 * template whose index_patterns is this run's prefix (template name
 * sluicetest-idx-PID, priority above the real one), so it never touches
 * another test's objects. Processes are waited on with a deadline and
 * killed past it: every test is bounded.
 *
 * With SLUICE_TEST_ES_TLS_URL (Elasticsearch with security on, from
 * tests/run's es_tls) only the TLS case runs: `setup` and `run --once` with
 * ca_file, username and password in the config, everything indexed, and
 * the password in no output of the binary; then the same with an API key
 * that has only the privileges the indexer needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "es_http.h"
#include "proc.h"
#include "redis_server.h"
#include "sl_batch.h"
#include "sl_clock.h"
#include "sl_file.h"

#define RUN_MS  60000 /* the longest one command may take */
#define MAX_IDS 20000
#define BASE_TS 1763856000000LL /* 2025-11-23 */

static const char *es_var;
static bool tls; /* es_var is SLUICE_TEST_ES_TLS_URL */
static pid_t redis_pid;
static int redis_port;
static char dir[64];    /* temporary files */
static char prefix[64]; /* sluicetest-idx-PID */
static char tmpl_path[128];

/* The es_tls server's CA file and elastic's password (tests/run). */
static const char *tls_ca(void)
{
    return getenv("SLUICE_TEST_ES_TLS_CA");
}

static const char *tls_password(void)
{
    return getenv("SLUICE_TEST_ES_TLS_PASSWORD");
}

/* es_http_init(), with the CA and credentials when tls. */
static int es_open(struct es_http *h)
{
    if (es_http_init(h, es_var, 30) < 0)
        return -1;
    if (tls) {
        if (tls_ca() == NULL || tls_password() == NULL) {
            print_error("SLUICE_TEST_ES_TLS_CA or _PASSWORD is not set: run "
                        "through tests/run\n");
            es_http_free(h);
            return -1;
        }
        es_http_set_auth(h, tls_ca(), "elastic", tls_password());
    }
    return 0;
}

/* ---- the fixture: keys, index prefix, config ---- */

struct fx {
    int n;
    char key[96], dead[96], index[96], config[128], out[128], err[128];
    struct es_http es;
    char *ids[MAX_IDS];
    size_t nids;
};

/* extra: more keys of the elasticsearch section; http: the http section's
 * listen address, or NULL. */
static void write_config_http(struct fx *f, const char *hosts,
                              const char *extra, const char *http)
{
    char url[64], text[2048], hs[96] = "";
    if (http != NULL)
        snprintf(hs, sizeof hs, " \"http\": {\"listen\": \"%s\"},\n", http);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", redis_port);
    int n = snprintf(
        text, sizeof text,
        "{\"redis\": {\"url\": \"%s\", \"key\": \"%s\", \"dead_key\": "
        "\"%s\", \"group\": \"g\", \"consumer\": \"c1\", \"block\": "
        "\"200ms\"},\n \"elasticsearch\": {\"hosts\": [\"%s\"], \"index\": "
        "\"%s-%%{+yyyy.MM.dd}\", \"template_name\": \"%s\", "
        "\"request_timeout\": \"10s\", \"retry_max\": \"1s\"%s},\n"
        "%s"
        " \"log\": {\"level\": \"info\"}}\n",
        url, f->key, f->dead, hosts, f->index, prefix, extra, hs);
    assert_true(n > 0 && (size_t)n < sizeof text);
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void write_config(struct fx *f, const char *hosts, const char *extra)
{
    write_config_http(f, hosts, extra, NULL);
}

static int fx_setup(void **state)
{
    static struct fx f;
    static int n;
    es_http_free(&f.es);
    for (size_t i = 0; i < f.nids; i++)
        free(f.ids[i]);
    memset(&f, 0, sizeof f);
    f.n = ++n;
    snprintf(f.key, sizeof f.key, "%s:%d:events", prefix, n);
    snprintf(f.dead, sizeof f.dead, "%s:%d:dead", prefix, n);
    snprintf(f.index, sizeof f.index, "%s-%d", prefix, n);
    snprintf(f.config, sizeof f.config, "%s/indexer-%d.json", dir, n);
    snprintf(f.out, sizeof f.out, "%s/out-%d", dir, n);
    snprintf(f.err, sizeof f.err, "%s/err-%d", dir, n);
    if (es_open(&f.es) < 0)
        return -1;
    *state = &f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "/%s-*", f->index);
    es_http_request(&f->es, "DELETE", path, NULL, NULL);
    return 0;
}

/* ---- running the binary ---- */

/* Runs sluice-indexer -c CONFIG ARGS... and returns its exit status. */
static int indexer(struct fx *f, const char *a1, const char *a2)
{
    const char *argv[] = {SLUICE_INDEXER_BIN, "-c", f->config, a1, a2, NULL};
    const char *env[] = {"SLUICE_TEMPLATE_FILE", tmpl_path, NULL};
    return proc_wait(proc_spawn(argv, f->out, f->err, env), RUN_MS);
}

/* Waits ms for pid, then sends SIGTERM (as `timeout` does) and waits for
 * the stop's grace period; its exit status. */
static int wait_for_or_term(pid_t pid, int64_t ms)
{
    int st;
    int64_t end = sl_clock_mono_ms() + ms;
    while (sl_clock_mono_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        poll(NULL, 0, 20); /* a retry interval, bounded by `end` */
    }
    kill(pid, SIGTERM);
    return proc_wait(pid, 20000);
}

/* ---- Redis and Elasticsearch ---- */

static long long pending(struct fx *f)
{
    return proc_redis_int(redis_port, "XPENDING", f->key, "g");
}

/* Writes nb batches of n events, ids "bBeE" (remembered for the _id
 * check); an event whose (b, e) `bad` says gets "@timestamp":"nope". */
static void write_batches(struct fx *f, int nb, int n,
                          bool (*bad)(int b, int e))
{
    struct sl_err err;
    redisContext *c = proc_redis(redis_port);
    for (int b = 0; b < nb; b++) {
        struct sl_batch_writer *w =
            sl_batch_writer_new("web-1", SL_CODEC_LZ4, 0, 8u << 20, &err);
        assert_non_null(w);
        for (int e = 0; e < n; e++) {
            char id[32], json[256];
            int64_t ts = BASE_TS + b * 1000 + e;
            int il = snprintf(id, sizeof id, "b%de%d", b, e);
            int jl = snprintf(
                json, sizeof json,
                "{\"@timestamp\":\"%s\",\"message\":\"event %d of batch "
                "%d\",\"host\":{\"name\":\"web-1\"}}",
                bad && bad(b, e) ? "nope" : "2025-11-23T00:00:00.000Z", e, b);
            assert_int_equal(sl_batch_writer_add(w, id, (size_t)il, ts, json,
                                                 (size_t)jl, &err),
                             0);
            /* written in order: a repeat of earlier batches adds none */
            if (f->nids < MAX_IDS && f->nids == (size_t)(b * n + e))
                f->ids[f->nids++] = strdup(id);
        }
        const char **fv;
        const size_t *fl;
        assert_int_equal(sl_batch_writer_seal(w, &fv, &fl, &err), 0);
        proc_redis_xadd_batch(c, f->key, fv, fl);
        sl_batch_writer_free(w);
    }
    redisFree(c);
}

/* Documents in the test's indices (refreshed first; 0 while the first one
 * is being created). */
static long long es_count(struct fx *f)
{
    char target[160];
    snprintf(target, sizeof target, "%s-*", f->index);
    return es_http_count(&f->es, target);
}

/* Documents whose _id is one of the batch ids written: all of them. */
static void assert_ids_indexed(struct fx *f, long long want)
{
    size_t cap = f->nids * 40 + 128, o = 0;
    char *body = malloc(cap), path[160];
    assert_non_null(body);
    o += (size_t)snprintf(body, cap, "{\"query\":{\"ids\":{\"values\":[");
    for (size_t i = 0; i < f->nids; i++)
        o += (size_t)snprintf(body + o, cap - o, "%s\"%s\"", i ? "," : "",
                              f->ids[i]);
    snprintf(body + o, cap - o, "]}}}");
    snprintf(path, sizeof path, "/%s-*/_count", f->index);
    es_http_call(&f->es, "POST", path, "application/json", body, 200);
    es_json_assert_int(&f->es, "count", want);
    free(body);
}

static void assert_drained(struct fx *f)
{
    assert_int_equal(proc_redis_int(redis_port, "XLEN", f->key, NULL), 0);
    assert_int_equal(pending(f), 0);
}

/* ---- tests ---- */

static void test_setup_twice(void **state)
{
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "/_index_template/%s", prefix);
    es_http_request(&f->es, "DELETE", path, NULL, NULL);
    write_config(f, f->es.url, "");
    assert_int_equal(indexer(f, "setup", NULL), 0);
    proc_assert_contains(f->out, "version 3: installed");
    assert_int_equal(indexer(f, "setup", NULL), 0);
    proc_assert_contains(f->out, "version 3: already up to date");
    proc_assert_contains(f->err, "already up to date");
}

static void test_once_exactly_once(void **state)
{
    struct fx *f = *state;
    write_config(f, f->es.url, "");
    assert_int_equal(indexer(f, "setup", NULL), 0);
    write_batches(f, 5, 300, NULL);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err, "1500 events read, 1500 indexed, 0 already");
    assert_int_equal(es_count(f), 1500);
    assert_ids_indexed(f, 1500);
    assert_drained(f);
    /* again: nothing to read, nothing changes */
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err, "0 events read");
    assert_int_equal(es_count(f), 1500);
    /* the same batches written twice: 409s, still once */
    write_batches(f, 5, 300, NULL);
    write_batches(f, 5, 300, NULL);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err,
                         "3000 events read, 0 indexed, 3000 already there");
    assert_int_equal(es_count(f), 1500);
    assert_ids_indexed(f, 1500);
    assert_drained(f);
}

/* Security on: `setup` and `run --once` over HTTPS with the CA and basic
 * auth from the config; the password is in none of their output. */
static void test_tls_setup_once(void **state)
{
    struct fx *f = *state;
    char extra[512];
    const char *outs[] = {f->out, f->err};
    snprintf(extra, sizeof extra,
             ", \"ca_file\": \"%s\", \"username\": \"elastic\", "
             "\"password\": \"%s\"",
             tls_ca(), tls_password());
    write_config(f, f->es.url, extra);
    assert_int_equal(indexer(f, "setup", NULL), 0);
    proc_assert_contains(f->out, "version 3: installed");
    for (size_t i = 0; i < 2; i++) {
        char *text = proc_slurp(outs[i]);
        if (strstr(text, tls_password()) != NULL)
            fail_msg("setup printed the password in %s", outs[i]);
        free(text);
    }
    write_batches(f, 4, 250, NULL);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err, "1000 events read, 1000 indexed, 0 already");
    for (size_t i = 0; i < 2; i++) {
        char *text = proc_slurp(outs[i]);
        if (strstr(text, tls_password()) != NULL)
            fail_msg("run --once printed the password in %s", outs[i]);
        free(text);
    }
    assert_int_equal(es_count(f), 1000);
    assert_ids_indexed(f, 1000);
    assert_drained(f);
}

/* Fails the test if one of the binary's outputs holds `secret`. */
static void assert_not_printed(struct fx *f, const char *secret,
                               const char *what)
{
    const char *outs[] = {f->out, f->err};
    for (size_t i = 0; i < 2; i++) {
        char *text = proc_slurp(outs[i]);
        bool shown = strstr(text, secret) != NULL;
        free(text);
        if (shown)
            fail_msg("%s printed the API key in %s", what, outs[i]);
    }
}

/* Security on, with an API key instead of a password: one that elastic
 * makes with only what the indexer needs (cluster monitor and
 * manage_index_templates for `setup`; create_doc and create_index on this
 * run's indices), given as elasticsearch.api_key (the "encoded" field:
 * base64 of id:api_key). `setup` installs the template, `run --once`
 * indexes every event once, and neither the key nor its secret part is in
 * their output. (The .security index needs the plugin scripts/setup installs,
 * tests/lib/es-test-analysis/.) */
static void test_tls_api_key_once(void **state)
{
    struct fx *f = *state;
    char body[512], extra[512];
    struct es_api_key key;

    snprintf(body, sizeof body,
             "{\"name\":\"%s-%d\",\"expiration\":\"1h\",\"role_descriptors\":"
             "{\"sluice-indexer\":{\"cluster\":[\"monitor\","
             "\"manage_index_templates\"],\"index\":[{\"names\":[\"%s-*\"],"
             "\"privileges\":[\"create_doc\",\"create_index\"]}]}}}",
             prefix, f->n, prefix);
    es_http_api_key(&f->es, body, &key);
    snprintf(extra, sizeof extra, ", \"ca_file\": \"%s\", \"api_key\": \"%s\"",
             tls_ca(), key.encoded);
    write_config(f, f->es.url, extra);
    snprintf(body, sizeof body, "/_index_template/%s", prefix);
    es_http_request(&f->es, "DELETE", body, NULL, NULL); /* PUT it again */
    assert_int_equal(indexer(f, "setup", NULL), 0);
    proc_assert_contains(f->out, "version 3: installed");
    assert_not_printed(f, key.encoded, "setup");
    assert_not_printed(f, key.secret, "setup");
    write_batches(f, 4, 250, NULL);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err, "1000 events read, 1000 indexed, 0 already");
    assert_not_printed(f, key.encoded, "run --once");
    assert_not_printed(f, key.secret, "run --once");
    assert_int_equal(es_count(f), 1000);
    assert_ids_indexed(f, 1000);
    assert_drained(f);
}

static bool bad_timestamp(int b, int e)
{
    return b == 1 && (e == 3 || e == 50 || e == 99);
}

/* Rewrites every dead letter with its event's "nope" made a date: what an
 * operator does by hand (XADD the fixed letter, XDEL the old one). */
static void doctor_letters(struct fx *f)
{
    redisContext *c = proc_redis(redis_port);
    redisReply *r = redisCommand(c, "XRANGE %s - +", f->dead);
    assert_true(r != NULL && r->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i], *fl = e->element[1];
        const char *argv[64];
        size_t lens[64], n = 0;
        char fixed[512];
        argv[n] = "XADD", lens[n++] = 4;
        argv[n] = f->dead, lens[n++] = strlen(f->dead);
        argv[n] = "*", lens[n++] = 1;
        for (size_t k = 0; k < fl->elements && n < 62; k++) {
            argv[n] = fl->element[k]->str;
            lens[n] = fl->element[k]->len;
            if (k % 2 == 1 && strcmp(fl->element[k - 1]->str, "event") == 0) {
                const char *p = strstr(fl->element[k]->str, "\"nope\"");
                assert_non_null(p);
                int w = snprintf(fixed, sizeof fixed, "%.*s\"%s\"%s",
                                 (int)(p - fl->element[k]->str),
                                 fl->element[k]->str,
                                 "2025-11-23T00:00:01.000Z", p + 6);
                argv[n] = fixed;
                lens[n] = (size_t)w;
            }
            n++;
        }
        freeReplyObject(redisCommandArgv(c, (int)n, argv, lens));
        freeReplyObject(
            redisCommand(c, "XDEL %s %s", f->dead, e->element[0]->str));
    }
    freeReplyObject(r);
    redisFree(c);
}

static void test_mapping_conflict_dead_letters(void **state)
{
    struct fx *f = *state;
    write_config(f, f->es.url, "");
    assert_int_equal(indexer(f, "setup", NULL), 0);
    write_batches(f, 3, 100, bad_timestamp);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    assert_int_equal(es_count(f), 297);
    assert_drained(f);
    assert_int_equal(proc_redis_int(redis_port, "XLEN", f->dead, NULL), 3);
    /* each letter says why */
    redisContext *c = proc_redis(redis_port);
    redisReply *r = redisCommand(c, "XRANGE %s - +", f->dead);
    assert_int_equal(r->elements, 3);
    for (size_t i = 0; i < 3; i++) {
        redisReply *fl = r->element[i]->element[1];
        assert_string_equal(fl->element[2]->str, "error.type");
        assert_non_null(strstr(fl->element[3]->str, "parsing_exception"));
        assert_non_null(strstr(fl->element[5]->str, "[@timestamp]"));
        assert_string_equal(fl->element[7]->str, "400");
    }
    freeReplyObject(r);
    redisFree(c);
    /* dlq list: one row of three */
    assert_int_equal(indexer(f, "dlq", "list"), 0);
    proc_assert_contains(f->out, ": 3 (oldest");
    /* document_parsing_exception (Elasticsearch 8.x), or
     * mapper_parsing_exception (OpenSearch) */
    proc_assert_contains(f->out, "    3     400  ");
    proc_assert_contains(f->out, "parsing_exception  ");
    proc_assert_contains(f->out, "failed to parse field [@timestamp]");
    /* replay with the cause still there: every letter kept */
    assert_int_equal(indexer(f, "dlq", "replay"), 0);
    proc_assert_contains(f->out,
                         "0 indexed, 0 already there (409), 3 failed again");
    assert_int_equal(proc_redis_int(redis_port, "XLEN", f->dead, NULL), 3);
    /* the cause removed: indexed, the dead stream empty */
    doctor_letters(f);
    assert_int_equal(indexer(f, "dlq", "replay"), 0);
    proc_assert_contains(f->out, "3 dead letters in");
    proc_assert_contains(f->out, "3 indexed, 0 already there (409), 0 failed");
    assert_int_equal(proc_redis_int(redis_port, "XLEN", f->dead, NULL), 0);
    assert_int_equal(es_count(f), 300);
    assert_ids_indexed(f, 300);
    assert_int_equal(indexer(f, "dlq", "list"), 0);
    proc_assert_contains(f->out, "no dead letters in");
}

static void test_kill9_then_once(void **state)
{
    struct fx *f = *state;
    /* small requests, one at a time: the kill lands mid-run */
    write_config(f, f->es.url, ", \"flush_count\": 100, \"max_in_flight\": 1");
    assert_int_equal(indexer(f, "setup", NULL), 0);
    write_batches(f, 20, 500, NULL);
    const char *argv[] = {SLUICE_INDEXER_BIN, "-c", f->config, "run", NULL};
    pid_t pid = proc_spawn(argv, f->out, f->err, NULL);
    int64_t end = sl_clock_mono_ms() + RUN_MS;
    long long n = 0;
    while ((n = es_count(f)) < 1000 && sl_clock_mono_ms() < end)
        poll(NULL, 0, 20); /* a retry interval, bounded by `end` */
    kill(pid, SIGKILL);
    assert_int_equal(proc_wait(pid, 5000), 128 + SIGKILL);
    n = es_count(f);
    print_message("killed with %lld of 10000 indexed, %lld entries pending\n",
                  n, pending(f));
    assert_true(n >= 1000 && n < 10000);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    assert_int_equal(es_count(f), 10000);
    assert_ids_indexed(f, 10000);
    assert_drained(f);
}

static void test_sigterm_stops_cleanly(void **state)
{
    struct fx *f = *state;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", redis_server_free_port());
    write_config_http(f, f->es.url, "", listen);
    write_batches(f, 2, 50, NULL);
    const char *argv[] = {SLUICE_INDEXER_BIN, "-c", f->config, "run", NULL};
    pid_t pid = proc_spawn(argv, f->out, f->err, NULL);
    int64_t end = sl_clock_mono_ms() + RUN_MS;
    while (proc_redis_int(redis_port, "XLEN", f->key, NULL) > 0 &&
           sl_clock_mono_ms() < end)
        poll(NULL, 0, 20); /* a retry interval, bounded by `end` */
    /* the counters say so too */
    char *m = proc_http_get(listen, "/metrics");
    assert_non_null(m);
    assert_non_null(
        strstr(m, "\nsluice_es_events_total{outcome=\"done\"} 100\n"));
    assert_non_null(strstr(m, "\nsluice_input_acked_total 2\n"));
    assert_non_null(strstr(m, "\nsluice_indexer_entries_held 0\n"));
    free(m);
    m = proc_http_get(listen, "/status");
    assert_non_null(m);
    assert_non_null(strstr(m, "\"sluice_input_events_total\":100"));
    free(m);
    kill(pid, SIGTERM);
    assert_int_equal(proc_wait(pid, 15000), 0);
    proc_assert_contains(f->err, "SIGTERM: stopping");
    proc_assert_contains(f->err, "100 indexed");
    assert_int_equal(es_count(f), 100);
    assert_drained(f);
}

static void test_es_unreachable_loses_nothing(void **state)
{
    struct fx *f = *state;
    char closed[64];
    snprintf(closed, sizeof closed, "http://127.0.0.1:%d",
             redis_server_free_port());
    /* the sender holds at most 300 events (open, sealed, one slot of 100):
     * 6 entries of 50, plus the one read (16 entries) the input has out */
    write_config(f, closed, ", \"flush_count\": 100, \"max_in_flight\": 1");
    write_batches(f, 60, 50, NULL);
    const char *argv[] = {SLUICE_INDEXER_BIN, "-c", f->config, "run",
                          "--once",           NULL};
    pid_t pid = proc_spawn(argv, f->out, f->err, NULL);
    /* --once gives up only after request_timeout (60 s) of failures:
     * bounded here by a timeout, then SIGTERM */
    assert_int_equal(wait_for_or_term(pid, 3000), 1);
    proc_assert_contains(f->err, "Couldn't connect to server");
    proc_assert_contains(f->err,
                         "300 events were not indexed and 16 entries not "
                         "acknowledged: they stay pending in Redis");
    /* backpressure: it stopped reading; nothing lost */
    assert_int_equal(proc_redis_int(redis_port, "XLEN", f->key, NULL), 60);
    assert_int_equal(pending(f), 16);
    /* and once it is there, every event goes in */
    write_config(f, f->es.url, "");
    assert_int_equal(indexer(f, "run", "--once"), 0);
    assert_int_equal(es_count(f), 3000);
    assert_ids_indexed(f, 3000);
    assert_drained(f);
}

/* list mode (Logstash's): one JSON event per element, the _id derived from
 * its bytes, so elements pushed twice are indexed once. */
static void test_list_mode_once(void **state)
{
    struct fx *f = *state;
    char extra[160];
    write_config(f, f->es.url, "");
    /* the mode belongs to the redis section: rewrite the file with it */
    char *text = proc_slurp(f->config);
    snprintf(extra, sizeof extra, "{\"redis\": {\"mode\": \"list\", ");
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fprintf(fp, "%s%s", extra, text + strlen("{\"redis\": {"));
    fclose(fp);
    free(text);
    assert_int_equal(indexer(f, "setup", NULL), 0);
    redisContext *c = proc_redis(redis_port);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 250; i++) {
            char ev[128];
            snprintf(ev, sizeof ev,
                     "{\"@timestamp\":\"2025-11-23T00:00:00.%03dZ\","
                     "\"message\":\"list event %d\"}",
                     i % 1000, i);
            redisReply *r = redisCommand(c, "RPUSH %s %s", f->key, ev);
            assert_true(r != NULL && r->type == REDIS_REPLY_INTEGER);
            freeReplyObject(r);
        }
    redisFree(c);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err,
                         "500 events read, 250 indexed, 250 already there");
    assert_int_equal(es_count(f), 250);
    assert_int_equal(proc_redis_int(redis_port, "LLEN", f->key, NULL), 0);
    char proc[160];
    snprintf(proc, sizeof proc, "{%s}:processing:c1", f->key);
    assert_int_equal(proc_redis_int(redis_port, "EXISTS", proc, NULL), 0);
}

/* Caught up with Redis and no request on the wire: a batch goes to
 * Elasticsearch at once, not after flush_age (here 1 h), so a quiet
 * pipeline adds no second wait to the shipper's batch_age. */
static void test_caught_up_sends_without_waiting_for_flush_age(void **state)
{
    struct fx *f = *state;
    write_config(f, f->es.url, ", \"flush_age\": \"1h\"");
    const char *argv[] = {SLUICE_INDEXER_BIN, "-c", f->config, "run", NULL};
    pid_t pid = proc_spawn(argv, f->out, f->err, NULL);
    for (int round = 1; round <= 3; round++) {
        /* batches 0..round-1: only the last one is new, the others
         * answer 409 */
        write_batches(f, round, 10, NULL);
        int64_t end = sl_clock_mono_ms() + 20000; /* well under 1 h */
        while (es_count(f) < 10 * round && sl_clock_mono_ms() < end)
            poll(NULL, 0, 50); /* a retry interval, bounded by `end` */
        assert_int_equal(es_count(f), 10 * round);
    }
    kill(pid, SIGTERM);
    assert_int_equal(proc_wait(pid, 15000), 0);
    assert_drained(f);
}

static void test_bad_config_exit_2(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fputs("{\"elasticsearch\": {\"hosts\": [\"ftp://x\"]}}\n", fp);
    fclose(fp);
    assert_int_equal(indexer(f, "run", "--once"), 2);
    proc_assert_contains(f->err, "elasticsearch.hosts");
}

/* ---- main ---- */

/* An API key as Logstash's elasticsearch output takes it, "id:api_key"
 * (the README says the key is Logstash's): it was sent as it was, and
 * Elasticsearch answered 401 to every request, for ever. Now the events
 * are indexed, and with a wrong secret `run --once` ends (exit 1) after
 * request_timeout, saying 401 and what to check, the events left pending;
 * neither form of the key is printed. */
static void test_tls_api_key_as_logstash_takes_it(void **state)
{
    struct fx *f = *state;
    char body[512], extra[512], idkey[300];
    struct es_api_key key;

    snprintf(body, sizeof body,
             "{\"name\":\"%s-ls-%d\",\"expiration\":\"1h\","
             "\"role_descriptors\":{\"sluice-indexer\":{\"index\":[{"
             "\"names\":[\"%s-*\"],\"privileges\":[\"create_doc\","
             "\"create_index\"]}]}}}",
             prefix, f->n, prefix);
    es_http_api_key(&f->es, body, &key);
    snprintf(idkey, sizeof idkey, "%s:%s", key.id, key.secret);
    snprintf(extra, sizeof extra, ", \"ca_file\": \"%s\", \"api_key\": \"%s\"",
             tls_ca(), idkey);
    write_config(f, f->es.url, extra);
    write_batches(f, 2, 100, NULL);
    assert_int_equal(indexer(f, "run", "--once"), 0);
    proc_assert_contains(f->err, "200 events read, 200 indexed, 0 already");
    assert_not_printed(f, key.secret, "run --once");
    assert_not_printed(f, key.encoded, "run --once");
    assert_int_equal(es_count(f), 200);
    assert_drained(f);

    /* the same id with a wrong secret, and a request_timeout of 1 s */
    snprintf(idkey, sizeof idkey, "%s:not-%s", key.id, key.secret);
    snprintf(extra, sizeof extra,
             ", \"ca_file\": \"%s\", \"api_key\": \"%s\", \"flush_age\": "
             "\"1s\"",
             tls_ca(), idkey);
    write_config(f, f->es.url, extra);
    char *text = proc_slurp(f->config), *t = strstr(text, "\"10s\"");
    assert_non_null(t);
    memcpy(t, "\"1s\" ", 5);
    FILE *fp = fopen(f->config, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(text);
    write_batches(f, 1, 50, NULL);
    int64_t t0 = sl_clock_mono_ms();
    assert_int_equal(indexer(f, "run", "--once"), 1);
    assert_true(sl_clock_mono_ms() - t0 < 15000);
    proc_assert_contains(f->err, "--once gives up: Elasticsearch has failed "
                                 "every request for");
    proc_assert_contains(f->err, "bulk: HTTP 401: security_exception");
    proc_assert_contains(f->err, "check the user and password or API key");
    assert_not_printed(f, idkey, "run --once");
    assert_not_printed(f, key.secret, "run --once");
    assert_int_equal(pending(f), 1);
    assert_int_equal(es_count(f), 200);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sluice-idxrun-XXXXXX");
    snprintf(prefix, sizeof prefix, "sluicetest-idx-%d", (int)getpid());
    /* proc_redis_start says why it failed */
    if (mkdtemp(dir) == NULL || (redis_port = redis_server_free_port()) < 0 ||
        proc_redis_start(redis_port, &redis_pid) < 0)
        return -1;
    /* the template, for this run's indices only */
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, 16u << 20);
    if (sl_file_read(SLUICE_SOURCE_DIR
                     "/conf/elasticsearch/sluice-template.json",
                     NULL, 16u << 20, &b, &err) < 0)
        return -1;
    char *p = strstr((char *)b.ptr, "\"sluice-*\"");
    char *q = strstr((char *)b.ptr, "\"priority\": 200");
    if (p == NULL || q == NULL || q < p)
        return -1;
    snprintf(tmpl_path, sizeof tmpl_path, "%s/template.json", dir);
    FILE *fp = fopen(tmpl_path, "w");
    fprintf(fp, "%.*s\"%s-*\"%.*s\"priority\": 1200%s",
            (int)(p - (char *)b.ptr), (char *)b.ptr, prefix, (int)(q - p - 10),
            p + 10, q + 15);
    fclose(fp);
    sl_buf_release(&b);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct es_http h = {0};
    if (es_open(&h) == 0) {
        char path[160];
        snprintf(path, sizeof path, "/_index_template/%s", prefix);
        es_http_request(&h, "DELETE", path, NULL, NULL);
        es_http_free(&h);
    }
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL_VARIABLE\n", argv[0]);
        return 2;
    }
    es_var = argv[1];
    tls = strcmp(es_var, "SLUICE_TEST_ES_TLS_URL") == 0;
    const struct CMUnitTest tls_tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_setup_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_tls_api_key_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_tls_api_key_as_logstash_takes_it,
                                        fx_setup, fx_teardown),
    };
    if (tls)
        return ES_HTTP_RUN_GROUP(es_var, tls_tests, group_setup,
                                 group_teardown);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_config_exit_2, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_setup_twice, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_once_exactly_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_mapping_conflict_dead_letters,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_then_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_stops_cleanly, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_es_unreachable_loses_nothing,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_mode_once, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_caught_up_sends_without_waiting_for_flush_age, fx_setup,
            fx_teardown),
    };
    return ES_HTTP_RUN_GROUP(es_var, tests, group_setup, group_teardown);
}
