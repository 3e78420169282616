/* test_es_cluster.c: the bulk sender (indexer/es) against a real 3-node
 * Elasticsearch 8 cluster on loopback (tests/lib/services.sh's es_cluster),
 * with one node killed with -9 while events flow.
 *
 * The sender has the three node URLs in hosts; the index has 3 shards and
 * number_of_replicas 1, so a dead node loses no acknowledged write. After
 * NKILL of NEV events are DONE, the process group of one node (not the
 * elected master, not the node this test reads through) is killed with
 * SIGKILL, and the rest of the events are added. Then: every event has
 * exactly one outcome, DONE or DUPLICATE (none DEAD, none lost), the
 * index's count after a refresh is exactly NEV, and the killed node's URL
 * was set aside (the sender's `refused` stat and its metric
 * sluice_es_nodes_set_aside_total, and the log line naming the URL).
 *
 * Reads SLUICE_TEST_ES_CLUSTER_URLS (three URLs, space-separated) and
 * SLUICE_TEST_ES_CLUSTER_PIDS (the nodes' process group ids, same order).
 * It kills a node, so it runs once per cluster: a second run finds a node
 * gone and fails saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "es_http.h"
#include "es_sender.h"
#include "sl_buf.h"
#include "sl_clock.h"
#include "sl_log.h"
#include "sl_metrics.h"

#define NEV       6000
#define NKILL     2000
#define ADMIN_VAR "SLUICE_TEST_ES_CLUSTER_ADMIN_URL" /* set from URLS */
#define NODES     3
#define DRAIN_MS  120000

struct fixture {
    struct es_http http; /* to node 1, which is never killed */
    char urls[NODES][64];
    long pgids[NODES];
    char index[96];
    char log_path[64];
    int log_fd;
    int calls[NEV];
    enum es_outcome o[NEV];
    size_t reported;
};

static struct fixture fx;

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *d)
{
    struct fixture *f = ctx;
    if (tag >= NEV)
        abort();
    if (d != NULL)
        printf("event %llu DEAD: %d %.*s: %.*s\n", (unsigned long long)tag,
               d->status, (int)d->type.len, d->type.ptr, (int)d->reason.len,
               d->reason.ptr);
    f->calls[tag]++;
    f->o[tag] = o;
    f->reported++;
}

static void turn(struct es_sender *s, int max_ms)
{
    struct pollfd pfds[64];
    size_t n = es_sender_fill_pollfds(s, pfds, 64);
    int t = es_sender_timeout_ms(s);
    if (t < 0 || t > max_ms)
        t = max_ms;
    if (poll(pfds, n, t) < 0)
        fail_msg("poll failed");
    es_sender_process(s, pfds, n);
}

/* The node (0 .. NODES-1) to kill: not node 0 (this test's admin node),
 * not the elected master, so the cluster keeps its master. */
static int victim(struct fixture *f)
{
    char want[32];
    const char *master = NULL;
    yajl_val v;
    es_http_call(&f->http, "GET", "/_cat/master?format=json", NULL, NULL, 200);
    v = es_json_at(f->http.json, "0.node");
    if (v != NULL && YAJL_IS_STRING(v))
        master = YAJL_GET_STRING(v);
    if (master == NULL)
        fail_msg("GET /_cat/master: no node in %.300s", es_http_body(&f->http));
    for (int i = 1; i < NODES; i++) {
        snprintf(want, sizeof want, "es_cluster-n%d-", i + 1);
        if (strncmp(master, want, strlen(want)) != 0)
            return i;
    }
    fail_msg("no node to kill");
    return -1;
}

static long long count_docs(struct fixture *f)
{
    char path[160];
    yajl_val v;
    snprintf(path, sizeof path,
             "/_cluster/health/%s?wait_for_status=yellow&timeout=30s",
             f->index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    snprintf(path, sizeof path, "/%s/_refresh", f->index);
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "_shards.failed", 0);
    snprintf(path, sizeof path, "/%s/_count", f->index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "_shards.failed", 0);
    v = es_json_at(f->http.json, "count");
    if (v == NULL || !YAJL_IS_INTEGER(v))
        fail_msg("GET %s: no count in %.300s", path, es_http_body(&f->http));
    return YAJL_GET_INTEGER(v);
}

static char *log_text(struct fixture *f)
{
    static char buf[1 << 18];
    ssize_t k;
    sl_log_flush();
    k = pread(f->log_fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = '\0';
    return buf;
}

/* The metric line "name value" is in the Prometheus text. */
static void expect_metric(const struct sl_buf *text, const char *name,
                          unsigned long long value)
{
    char line[160];
    snprintf(line, sizeof line, "\n%s %llu\n", name, value);
    if (strstr(text->ptr, line) == NULL)
        fail_msg("the metrics do not say%s:\n%s", line, text->ptr);
}

static void test_node_killed_nothing_lost(void **state)
{
    struct fixture *f = *state;
    const char *hosts[NODES] = {f->urls[0], f->urls[1], f->urls[2]};
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = NODES,
                                 .tls_verify = true,
                                 .flush_bytes = 1 << 20,
                                 .flush_count = 100,
                                 .flush_age_ms = 20,
                                 .max_in_flight = 4,
                                 .request_timeout_ms = 20000,
                                 .retry_min_ms = 100,
                                 .retry_max_ms = 2000,
                                 .on_outcome = on_outcome,
                                 .ctx = f};
    struct es_sender_stats st;
    struct sl_metrics *m = sl_metrics_new();
    struct sl_buf text;
    struct es_sender *s;
    struct sl_err err = {0};
    char path[160], id[32], json[128], aside[160], *log;
    int64_t end, t_kill = 0;
    int kill_i = -1;
    size_t next = 0;

    snprintf(f->index, sizeof f->index, "sluice-cluster-%ld", (long)getpid());
    snprintf(path, sizeof path, "/%s", f->index);
    es_http_call(&f->http, "PUT", path, "application/json",
                 "{\"settings\":{\"number_of_shards\":3,"
                 "\"number_of_replicas\":1}}",
                 200);
    snprintf(path, sizeof path,
             "/_cluster/health/%s?wait_for_status=green&timeout=60s", f->index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_string(&f->http, "status", "green");

    assert_non_null(m);
    c.metrics = m;
    if ((s = es_sender_new(&c, &err)) == NULL)
        fail_msg("es_sender_new: %s", err.msg);
    end = sl_clock_mono_ms() + DRAIN_MS;
    while ((next < NEV || es_sender_pending(s) > 0) &&
           sl_clock_mono_ms() < end) {
        /* a steady flow: at most 200 events a turn */
        for (int k = 0; k < 200 && next < NEV && es_sender_has_room(s); k++) {
            snprintf(id, sizeof id, "c-%zu", next);
            snprintf(json, sizeof json, "{\"message\":\"event %zu\",\"n\":%zu}",
                     next, next);
            if (es_sender_add(s, f->index, strlen(f->index), id, strlen(id),
                              json, strlen(json), next, &err) < 0)
                fail_msg("es_sender_add: %s", err.msg);
            next++;
        }
        if (next == NEV)
            es_sender_flush(s);
        if (kill_i < 0 && f->reported >= NKILL) {
            kill_i = victim(f);
            if (kill(-(pid_t)f->pgids[kill_i], SIGKILL) != 0)
                fail_msg("kill -9 of node %d's process group %ld failed",
                         kill_i + 1, f->pgids[kill_i]);
            t_kill = sl_clock_mono_ms();
            printf("killed node %d (%s, pgid %ld) with %zu events reported, "
                   "%zu added\n",
                   kill_i + 1, f->urls[kill_i], f->pgids[kill_i], f->reported,
                   next);
        }
        turn(s, 20);
    }
    printf("%zu events reported %.1f s after the kill\n", f->reported,
           (double)(sl_clock_mono_ms() - t_kill) / 1000.0);
    assert_true(kill_i > 0);
    assert_int_equal(next, NEV);
    assert_int_equal(es_sender_pending(s), 0);
    es_sender_stats(s, &st);
    sl_buf_init(&text, 1 << 20);
    if (sl_metrics_render_prometheus(m, &text, &err) < 0 ||
        sl_buf_append(&text, "", 1, &err) < 0) /* NUL-terminated */
        fail_msg("metrics: %s", err.msg);
    es_sender_free(s);
    printf("stats: %llu requests, %llu done, %llu duplicate, %llu dead, "
           "%llu retried, %llu resent, %llu refused\n",
           (unsigned long long)st.requests, (unsigned long long)st.done,
           (unsigned long long)st.duplicate, (unsigned long long)st.dead,
           (unsigned long long)st.retried, (unsigned long long)st.resent,
           (unsigned long long)st.refused);
    for (size_t t = 0; t < NEV; t++)
        if (f->calls[t] != 1 || f->o[t] == ES_OUTCOME_DEAD)
            fail_msg("event %zu: %d outcomes (last %d), want one DONE or "
                     "DUPLICATE",
                     t, f->calls[t], f->o[t]);
    assert_int_equal(st.dead, 0);
    assert_int_equal(st.done + st.duplicate, NEV);
    assert_true(st.refused >= 1);
    expect_metric(&text, "sluice_es_nodes_set_aside_total", st.refused);
    expect_metric(&text, "sluice_es_events_total{outcome=\"dead\"}", 0);
    expect_metric(&text, "sluice_es_events_total{outcome=\"done\"}", st.done);
    sl_buf_release(&text);
    sl_metrics_free(m);
    log = log_text(f);
    snprintf(aside, sizeof aside, "POST %s/_bulk: ", f->urls[kill_i]);
    if (strstr(log, aside) == NULL || strstr(log, "node set aside") == NULL)
        fail_msg("the log does not say %s... node set aside:\n%s", aside, log);
    assert_int_equal(count_docs(f), NEV);
}

/* ---- fixture -------------------------------------------------------- */

/* Splits the space-separated list into NODES words of at most outsz - 1
 * bytes each; 0 when there are exactly NODES. */
static int split3(const char *list, char out[NODES][64])
{
    char copy[512], *save = NULL, *w;
    int n = 0;
    snprintf(copy, sizeof copy, "%s", list);
    for (w = strtok_r(copy, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save)) {
        if (n == NODES || strlen(w) >= 64)
            return -1;
        snprintf(out[n++], 64, "%s", w);
    }
    return n == NODES ? 0 : -1;
}

static int parse_env(struct fixture *f)
{
    const char *urls = getenv("SLUICE_TEST_ES_CLUSTER_URLS");
    const char *pids = getenv("SLUICE_TEST_ES_CLUSTER_PIDS");
    char words[NODES][64], *end;
    int n = 0, bad = urls == NULL || pids == NULL || split3(urls, f->urls) ||
                     split3(pids, words);

    for (int i = 0; !bad && i < NODES; i++) {
        f->pgids[i] = strtol(words[i], &end, 10);
        bad = *end != '\0' || f->pgids[i] <= 1;
    }
    if (bad) {
        print_error("SLUICE_TEST_ES_CLUSTER_URLS and SLUICE_TEST_ES_CLUSTER_"
                    "PIDS must each hold three values: run through "
                    "`make test-cluster` (tests/run with SLUICE_TEST_CLUSTER)"
                    "\n");
        return -1;
    }
    for (int i = 0; i < NODES; i++)
        n += kill(-(pid_t)f->pgids[i], 0) == 0;
    if (n != NODES) {
        print_error("only %d of the 3 nodes' process groups (%s) are alive: "
                    "this test kills one, so it runs once per cluster; start "
                    "a new one\n",
                    n, pids);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = &fx;

    if (parse_env(f) < 0 || setenv(ADMIN_VAR, f->urls[0], 1) != 0 ||
        es_http_init(&f->http, ADMIN_VAR, 90) != 0)
        return -1;
    snprintf(f->log_path, sizeof f->log_path, "/tmp/sluice-cluster-XXXXXX");
    f->log_fd = mkstemp(f->log_path);
    if (f->log_fd < 0 || fcntl(f->log_fd, F_SETFL, O_APPEND) < 0) {
        es_http_free(&f->http);
        return -1;
    }
    unlink(f->log_path);
    sl_log_set_fd(f->log_fd);
    if (es_http_request(&f->http, "GET",
                        "/_cluster/health?wait_for_nodes=3&timeout=30s", NULL,
                        NULL) != 200) {
        print_error("GET %s/_cluster/health: %s (HTTP %ld); tests/run starts "
                    "es_cluster with SLUICE_TEST_CLUSTER=1\n",
                    f->http.url, f->http.errbuf, f->http.status);
        es_http_free(&f->http);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];
    if (f == NULL)
        return 0;
    if (f->index[0] != '\0') {
        snprintf(path, sizeof path, "/%s", f->index);
        es_http_request(&f->http, "DELETE", path, NULL, NULL);
    }
    sl_log_set_fd(2);
    printf("---- log ----\n%s-------------\n", log_text(f));
    close(f->log_fd);
    es_http_free(&f->http);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_killed_nothing_lost),
    };
    signal(SIGPIPE, SIG_IGN);
    return ES_HTTP_RUN_GROUP("es_cluster", tests, setup, teardown);
}
