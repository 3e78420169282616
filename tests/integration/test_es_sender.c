/* test_es_sender.c: indexer/es (es_sender over es_client and es_nodes)
 * against a real Elasticsearch or OpenSearch, with local stubs for what a
 * real node cannot be made to do on demand.
 *
 * Real node: events land and are searchable (DONE, once each); the same
 * events again are all DUPLICATE and add no document; gzip bodies land;
 * a mapping conflict makes exactly those events DEAD with index, status,
 * type and a reason naming the field, the rest DONE; an index with
 * index.blocks.read_only_allow_delete keeps its events (no outcome, retried,
 * a plain log line saying how to lift the block) until the block is lifted,
 * then DONE; an index missing with auto-create off the same until it is
 * created; two hosts, one a closed port: all DONE through the other, the
 * closed one set aside once; one closed port alone: nothing reported, the
 * URL in the log.
 * Stub (tests/lib/http_stub.c) in front of the real node: a 413 over a
 * size splits requests until they fit (all DONE, searchable) and an event
 * alone over it is DEAD with status 413; a request forwarded and never
 * answered is resent after the client's timeout and its events come back
 * DUPLICATE (indexed once), and so are those of a 200 answer cut short;
 * a whole-request 503 (no master) then 429 hold
 * every request off with growing backoff, without cycling at once to the
 * other node.
 * TLS stub (tests/lib/tls_stub.py, python3 ssl, a CA made with openssl):
 * basic auth, an API key, and credentials in the URL are DONE over HTTPS
 * with ca_file; wrong credentials and a CA that does not verify keep the
 * events with a message naming the URL and what to fix, and never the
 * secret. The stub also covers what the real es_tls server cannot show
 * (credentials in the URL); test_es_tls.c runs the rest, real API keys
 * included, against Elasticsearch with security on.
 *
 * Usage: test_es_sender ENV_VAR (SLUICE_TEST_ES_URL, SLUICE_TEST_ES9_URL,
 * SLUICE_TEST_OS_URL, SLUICE_TEST_OS3_URL); needs python3 and openssl on
 * PATH for the TLS cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "es_http.h"
#include "es_sender.h"
#include "http_stub.h"
#include "sl_clock.h"
#include "sl_log.h"

#define MAX_EV 1200

struct rec {
    int calls;
    enum es_outcome o;
    int status;
    char type[64], reason[512], index[128];
};

struct fixture {
    struct es_http http;
    char prefix[64]; /* sluice-sender-PID-TIME */
    char log_path[64];
    int log_fd;
    struct rec recs[MAX_EV];
    char tls_dir[64];
    pid_t tls_pid;
    int tls_stdin;
    int tls_port;
};

static const char *url_var; /* argv[1] */
static struct fixture fx;

static const char mapping[] =
    "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},"
    "\"mappings\":{\"properties\":{\"message\":{\"type\":\"text\"},"
    "\"n\":{\"type\":\"long\"}}}}";

/* ---- helpers ------------------------------------------------------- */

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *d)
{
    struct fixture *f = ctx;
    struct rec *r;

    if (tag >= MAX_EV) {
        fprintf(stderr, "outcome for tag %llu past MAX_EV\n",
                (unsigned long long)tag);
        abort();
    }
    r = &f->recs[tag];
    r->calls++;
    r->o = o;
    if (d != NULL) {
        r->status = d->status;
        snprintf(r->type, sizeof r->type, "%.*s", (int)d->type.len,
                 d->type.ptr);
        snprintf(r->reason, sizeof r->reason, "%.*s", (int)d->reason.len,
                 d->reason.ptr);
        snprintf(r->index, sizeof r->index, "%.*s", (int)d->index.len,
                 d->index.ptr);
    }
}

static struct es_sender_config base_cfg(struct fixture *f,
                                        const char *const *hosts, size_t n)
{
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = n,
                                 .tls_verify = true,
                                 .flush_bytes = 1 << 20,
                                 .flush_count = 100,
                                 .flush_age_ms = 50,
                                 .max_in_flight = 2,
                                 .request_timeout_ms = 20000,
                                 .retry_min_ms = 100,
                                 .retry_max_ms = 1000,
                                 .on_outcome = on_outcome,
                                 .ctx = f};
    memset(f->recs, 0, sizeof f->recs);
    return c;
}

static struct es_sender *new_sender(const struct es_sender_config *c)
{
    struct sl_err err = {0};
    struct es_sender *s = es_sender_new(c, &err);
    if (s == NULL)
        fail_msg("es_sender_new: %s", err.msg);
    return s;
}

/* One round of the poll loop, at most max_ms long. */
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

/* Turns the loop until nothing is pending or ms pass; true if drained. */
static bool run(struct es_sender *s, int64_t ms)
{
    int64_t end = sl_clock_mono_ms() + ms;
    es_sender_flush(s);
    while (es_sender_pending(s) > 0 && sl_clock_mono_ms() < end)
        turn(s, 50);
    return es_sender_pending(s) == 0;
}

/* Turns the loop for ms, whatever happens. */
static void run_for(struct es_sender *s, int64_t ms)
{
    int64_t end = sl_clock_mono_ms() + ms;
    while (sl_clock_mono_ms() < end)
        turn(s, 20);
}

static void add_one(struct es_sender *s, const char *index, const char *id,
                    const char *json, uint64_t tag)
{
    struct sl_err err = {0};
    int64_t end = sl_clock_mono_ms() + 30000;

    while (!es_sender_has_room(s)) {
        if (sl_clock_mono_ms() > end)
            fail_msg("no room for 30 s");
        turn(s, 50);
    }
    if (es_sender_add(s, index, strlen(index), id, strlen(id), json,
                      strlen(json), tag, &err) < 0)
        fail_msg("es_sender_add %s/%s: %s", index, id, err.msg);
}

/* Events tags from..from+n-1: id "e-TAG", {"message":"event TAG","n":TAG}
 * (or "n":"bad" when bad(tag)). */
static void add_events(struct es_sender *s, const char *index, size_t from,
                       size_t n, bool (*bad)(size_t))
{
    char id[32], json[128];
    for (size_t t = from; t < from + n; t++) {
        snprintf(id, sizeof id, "e-%zu", t);
        if (bad != NULL && bad(t))
            snprintf(json, sizeof json,
                     "{\"message\":\"event %zu\",\"n\":\"bad\"}", t);
        else
            snprintf(json, sizeof json, "{\"message\":\"event %zu\",\"n\":%zu}",
                     t, t);
        add_one(s, index, id, json, t);
    }
}

static void expect_outcomes(struct fixture *f, size_t from, size_t n,
                            enum es_outcome o)
{
    for (size_t t = from; t < from + n; t++) {
        if (f->recs[t].calls != 1)
            fail_msg("event %zu: %d outcomes, want exactly 1", t,
                     f->recs[t].calls);
        if (f->recs[t].o != o)
            fail_msg("event %zu: outcome %d, want %d (%d %s: %s)", t,
                     f->recs[t].o, o, f->recs[t].status, f->recs[t].type,
                     f->recs[t].reason);
    }
}

static void expect_no_outcome(struct fixture *f, size_t from, size_t n)
{
    for (size_t t = from; t < from + n; t++)
        if (f->recs[t].calls != 0)
            fail_msg("event %zu: an outcome (%d) while it cannot be indexed", t,
                     f->recs[t].o);
}

static void index_name(struct fixture *f, char *out, size_t outsz,
                       const char *what)
{
    snprintf(out, outsz, "%s-%s", f->prefix, what);
}

static void create_index(struct fixture *f, const char *index)
{
    char path[160];
    snprintf(path, sizeof path, "/%s", index);
    es_http_call(&f->http, "PUT", path, "application/json", mapping, 200);
}

static void delete_index(struct fixture *f, const char *index)
{
    char path[160];
    snprintf(path, sizeof path, "/%s", index);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);
}

static long long count_docs(struct fixture *f, const char *index)
{
    char path[160];
    yajl_val v;
    snprintf(path, sizeof path, "/%s/_refresh", index);
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    snprintf(path, sizeof path, "/%s/_count", index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    v = es_json_at(f->http.json, "count");
    if (v == NULL || !YAJL_IS_INTEGER(v))
        fail_msg("GET %s: no count in %.300s", path, es_http_body(&f->http));
    return YAJL_GET_INTEGER(v);
}

/* The log written since the last call (sl_log goes to log_fd). */
static char *log_text(struct fixture *f)
{
    static char buf[1 << 16];
    ssize_t k;
    sl_log_flush();
    k = pread(f->log_fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = '\0';
    if (ftruncate(f->log_fd, 0) != 0)
        fail_msg("ftruncate of the log failed");
    printf("---- log ----\n%s-------------\n", buf);
    return buf;
}

static void expect_in_log(const char *log, const char *needle)
{
    if (strstr(log, needle) == NULL)
        fail_msg("the log does not say \"%s\":\n%s", needle, log);
}

/* A loopback port with nothing listening (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
        fail_msg("cannot find a free port");
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void stub_url(char *out, size_t outsz, struct http_stub *st)
{
    snprintf(out, outsz, "http://127.0.0.1:%u", http_stub_port(st));
}

/* A sender's way through one stub to the real node, on an index of its
 * own (f->prefix-WHAT, created); c is the config to start the sender with
 * (base_cfg's, to the stub). */
struct stubbed {
    struct http_stub *stub;
    char url[64], ix[128];
    const char *hosts[1];
    struct es_sender_config c;
};

/* The stub plays script (n actions; none: it forwards all), then forwards
 * every request. */
static void stubbed_start(struct fixture *f, struct stubbed *t,
                          const char *what, const enum stub_action *script,
                          size_t n)
{
    t->stub = http_stub_start(f->http.url);
    stub_url(t->url, sizeof t->url, t->stub);
    t->hosts[0] = t->url;
    t->c = base_cfg(f, t->hosts, 1);
    if (n > 0)
        http_stub_script(t->stub, script, n, STUB_FORWARD);
    index_name(f, t->ix, sizeof t->ix, what);
    create_index(f, t->ix);
}

static void stubbed_end(struct fixture *f, struct stubbed *t,
                        struct es_sender *s)
{
    es_sender_free(s);
    http_stub_stop(t->stub);
    delete_index(f, t->ix);
}

/* One whole request was sent again (its answer lost or cut): the events
 * from..from+n-1 came back DUPLICATE, the stub saw `requests`, the index
 * holds `docs` and the log says `why`. */
/* Returns the log it read (log_text's buffer), for more checks. */
static const char *expect_resent(struct fixture *f, struct stubbed *t,
                                 struct es_sender *s, size_t from, size_t n,
                                 size_t requests, long long docs,
                                 const char *why)
{
    struct es_sender_stats st;
    const char *log;
    expect_outcomes(f, from, n, ES_OUTCOME_DUPLICATE);
    es_sender_stats(s, &st);
    assert_int_equal(st.resent, 1);
    assert_int_equal(http_stub_requests(t->stub), requests);
    assert_int_equal(count_docs(f, t->ix), docs);
    log = log_text(f);
    expect_in_log(log, why);
    return log;
}

/* ---- tests against the real node ----------------------------------- */

static void test_land_then_replay(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender_stats st;
    struct es_sender *s;
    char ix[128];

    index_name(f, ix, sizeof ix, "land");
    create_index(f, ix);
    s = new_sender(&c);
    add_events(s, ix, 0, 350, NULL);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 350, ES_OUTCOME_DONE);
    es_sender_stats(s, &st);
    assert_int_equal(st.done, 350);
    assert_true(st.requests >= 4); /* 100 events a request at most */
    assert_int_equal(count_docs(f, ix), 350);

    memset(f->recs, 0, sizeof f->recs);
    add_events(s, ix, 0, 350, NULL); /* a replay: same ids, same index */
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 350, ES_OUTCOME_DUPLICATE);
    es_sender_stats(s, &st);
    assert_int_equal(st.duplicate, 350);
    assert_int_equal(count_docs(f, ix), 350);
    es_sender_free(s);
    delete_index(f, ix);
}

static void test_gzip(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender_stats st;
    struct es_sender *s;
    char ix[128];

    index_name(f, ix, sizeof ix, "gzip");
    create_index(f, ix);
    c.gzip = true;
    s = new_sender(&c);
    add_events(s, ix, 0, 200, NULL);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 200, ES_OUTCOME_DONE);
    es_sender_stats(s, &st);
    /* 200 events are about 18 KB of body as text */
    assert_true(st.bytes < 9000);
    assert_int_equal(count_docs(f, ix), 200);
    es_sender_free(s);
    delete_index(f, ix);
}

static bool every_fifth(size_t t)
{
    return t % 5 == 2;
}

static void test_mapping_conflict_dead(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender *s;
    char ix[128];

    index_name(f, ix, sizeof ix, "mapping");
    create_index(f, ix);
    c.flush_age_ms = 10000; /* one request, sent by run()'s flush */
    s = new_sender(&c);
    add_events(s, ix, 0, 40, every_fifth);
    assert_true(run(s, 30000));
    for (size_t t = 0; t < 40; t++) {
        struct rec *r = &f->recs[t];
        if (!every_fifth(t)) {
            expect_outcomes(f, t, 1, ES_OUTCOME_DONE);
            continue;
        }
        expect_outcomes(f, t, 1, ES_OUTCOME_DEAD);
        assert_int_equal(r->status, 400);
        assert_string_equal(r->index, ix);
        if (strcmp(r->type, "document_parsing_exception") != 0 &&
            strcmp(r->type, "mapper_parsing_exception") != 0)
            fail_msg("event %zu: type %s", t, r->type);
        if (strstr(r->reason, "[n]") == NULL)
            fail_msg("event %zu: the reason does not name [n]: %s", t,
                     r->reason);
    }
    assert_int_equal(count_docs(f, ix), 32);
    expect_in_log(log_text(f), "8 of 40 events refused");
    es_sender_free(s);
    delete_index(f, ix);
}

static void set_block(struct fixture *f, const char *ix, const char *value)
{
    char path[160], body[128];
    snprintf(path, sizeof path, "/%s/_settings", ix);
    snprintf(body, sizeof body, "{\"index.blocks.read_only_allow_delete\":%s}",
             value);
    es_http_call(&f->http, "PUT", path, "application/json", body, 200);
}

static void test_read_only_then_lifted(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender_stats st;
    struct es_sender *s;
    char ix[128], hint[300], *log;

    index_name(f, ix, sizeof ix, "readonly");
    create_index(f, ix);
    set_block(f, ix, "true");
    s = new_sender(&c);
    add_events(s, ix, 0, 30, NULL);
    run_for(s, 1500);
    expect_no_outcome(f, 0, 30);
    assert_int_equal(es_sender_pending(s), 30);
    es_sender_stats(s, &st);
    assert_true(st.retried >= 60); /* sent at least three times */
    log = log_text(f);
    expect_in_log(log, "is blocked");
    snprintf(hint, sizeof hint,
             "free disk space below the flood-stage watermark, then lift the "
             "block: PUT /%s/_settings "
             "{\"index.blocks.read_only_allow_delete\":null}",
             ix);
    expect_in_log(log, hint);
    set_block(f, ix, "null");
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 30, ES_OUTCOME_DONE);
    assert_int_equal(count_docs(f, ix), 30);
    es_sender_free(s);
    set_block(f, ix, "null");
    delete_index(f, ix);
}

static void set_auto_create(struct fixture *f, const char *value)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"persistent\":{\"action.auto_create_index\":%s}}", value);
    es_http_call(&f->http, "PUT", "/_cluster/settings", "application/json",
                 body, 200);
}

static void test_missing_index_then_created(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender *s;
    char ix[128], rule[200], *log;

    index_name(f, ix, sizeof ix, "missing");
    snprintf(rule, sizeof rule, "\"-%s,+*\"", ix);
    set_auto_create(f, rule);
    s = new_sender(&c);
    add_events(s, ix, 0, 10, NULL);
    run_for(s, 1000);
    expect_no_outcome(f, 0, 10);
    log = log_text(f);
    expect_in_log(log, "does not exist");
    expect_in_log(log, "action.auto_create_index");
    expect_in_log(log, f->http.url);
    create_index(f, ix);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 10, ES_OUTCOME_DONE);
    set_auto_create(f, "null");
    es_sender_free(s);
    delete_index(f, ix);
}

static void test_refused_node_set_aside(void **state)
{
    struct fixture *f = *state;
    char dead[64];
    const char *hosts[] = {dead, f->http.url};
    struct es_sender_config c = base_cfg(f, hosts, 2);
    struct es_sender_stats st;
    struct es_sender *s;
    char ix[128];

    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", closed_port());
    index_name(f, ix, sizeof ix, "twohosts");
    create_index(f, ix);
    c.flush_count = 50;
    c.flush_age_ms = 10000; /* only full requests: exactly 10 */
    c.retry_min_ms = 20000; /* the node stays aside 10 s at least */
    c.retry_max_ms = 40000;
    s = new_sender(&c);
    add_events(s, ix, 0, 500, NULL);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 500, ES_OUTCOME_DONE);
    es_sender_stats(s, &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.requests, 11); /* 10 requests, one refused */
    assert_int_equal(count_docs(f, ix), 500);
    expect_in_log(log_text(f), dead);
    es_sender_free(s);
    delete_index(f, ix);
}

static void test_unreachable_keeps_events(void **state)
{
    struct fixture *f = *state;
    char dead[64];
    const char *hosts[] = {dead};
    struct es_sender_config c = base_cfg(f, hosts, 1);
    struct es_sender *s;
    char *log;

    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", closed_port());
    s = new_sender(&c);
    add_events(s, "sluice-unreachable", 0, 5, NULL);
    run_for(s, 1000);
    expect_no_outcome(f, 0, 5);
    assert_int_equal(es_sender_pending(s), 5);
    log = log_text(f);
    expect_in_log(log, dead);
    expect_in_log(log, "set aside");
    expect_in_log(log, "check that the node runs and listens there, or fix "
                       "elasticsearch.hosts");
    /* tried again and again, said once: a node down for hours is not a
     * line every few seconds */
    struct es_sender_stats st;
    es_sender_stats(s, &st);
    assert_true(st.refused >= 3);
    const char *p = strstr(log, "node set aside");
    assert_non_null(p);
    if (strstr(p + 1, "node set aside") != NULL)
        fail_msg("the refusals said more than once:\n%s", log);
    es_sender_free(s);
}

/* ---- tests with the stub in front of the real node ----------------- */

static void test_413_splits(void **state)
{
    struct fixture *f = *state;
    struct stubbed t;
    char big[5000], why[160];
    struct es_sender_stats st;
    struct es_sender *s;

    stubbed_start(f, &t, "split", NULL, 0);
    http_stub_max_body(t.stub, 3000); /* about 30 events */
    t.c.flush_age_ms = 10000;
    s = new_sender(&t.c);
    add_events(s, t.ix, 0, 99, NULL);
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"message\":\"", 12);
    memcpy(big + sizeof big - 3, "\"}", 3);
    add_one(s, t.ix, "too-big", big, 99); /* the 100th: seals the request */
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 99, ES_OUTCOME_DONE);
    expect_outcomes(f, 99, 1, ES_OUTCOME_DEAD);
    assert_int_equal(f->recs[99].status, 413);
    assert_string_equal(f->recs[99].type, "request_entity_too_large");
    /* the action line, the event and its newline */
    snprintf(why, sizeof why,
             "the event alone (%zu bytes with its action line) is over the "
             "server's http.max_content_length",
             strlen("{\"create\":{\"_index\":\"\",\"_id\":\"too-big\"}}\n") +
                 strlen(t.ix) + strlen(big) + 1);
    assert_string_equal(f->recs[99].reason, why);
    es_sender_stats(s, &st);
    assert_true(st.splits >= 3);
    for (size_t i = 0; i < http_stub_requests(t.stub); i++)
        printf("request %zu: %zu bytes\n", i, http_stub_request_len(t.stub, i));
    assert_int_equal(count_docs(f, t.ix), 99);
    stubbed_end(f, &t, s);
}

static void test_timeout_resent_no_duplicate(void **state)
{
    struct fixture *f = *state;
    static const enum stub_action script[] = {STUB_FORWARD_HANG};
    struct stubbed t;
    struct es_sender *s;
    int64_t t0 = sl_clock_mono_ms();

    stubbed_start(f, &t, "timeout", script, 1);
    t.c.request_timeout_ms = 1500;
    s = new_sender(&t.c);
    add_events(s, t.ix, 0, 30, NULL);
    assert_true(run(s, 30000));
    assert_true(sl_clock_mono_ms() - t0 >= 1500);
    /* the first request was indexed, its answer lost: the resend's 409s */
    expect_resent(f, &t, s, 0, 30, 2, 30, "sending the whole request again");
    stubbed_end(f, &t, s);
}

/* A 200 whose body is cut: the items cannot be known, the whole request
 * goes again, and what the first one indexed comes back DUPLICATE. */
static void test_cut_answer_resent(void **state)
{
    struct fixture *f = *state;
    static const enum stub_action script[] = {STUB_FORWARD_CUT};
    struct stubbed t;
    struct es_sender *s;

    stubbed_start(f, &t, "cut", script, 1);
    s = new_sender(&t.c);
    add_events(s, t.ix, 0, 30, NULL);
    assert_true(run(s, 30000));
    expect_resent(f, &t, s, 0, 30, 2, 30, "cut short or not JSON");
    stubbed_end(f, &t, s);
}

static void test_no_master_holds_off(void **state)
{
    struct fixture *f = *state;
    struct http_stub *a = http_stub_start(f->http.url);
    struct http_stub *b = http_stub_start(f->http.url);
    static const enum stub_action no_master[] = {STUB_503_NO_MASTER};
    static const enum stub_action busy[] = {STUB_429};
    char ua[64], ub[64], ix[128], *log;
    const char *hosts[] = {ua, ub};
    struct es_sender_config c = base_cfg(f, hosts, 2);
    struct es_sender *s;
    int64_t a0, b0, a1;

    stub_url(ua, sizeof ua, a);
    stub_url(ub, sizeof ub, b);
    http_stub_script(a, no_master, 1, STUB_FORWARD);
    http_stub_script(b, busy, 1, STUB_FORWARD);
    index_name(f, ix, sizeof ix, "nomaster");
    create_index(f, ix);
    c.retry_min_ms = 400;
    c.retry_max_ms = 5000;
    s = new_sender(&c);
    add_events(s, ix, 0, 10, NULL);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 10, ES_OUTCOME_DONE);
    assert_int_equal(http_stub_requests(a), 2);
    assert_int_equal(http_stub_requests(b), 1);
    a0 = http_stub_request_ms(a, 0);
    b0 = http_stub_request_ms(b, 0);
    a1 = http_stub_request_ms(a, 1);
    /* held off [200, 400] ms before the other node, then [400, 800] */
    printf("503 at 0, 429 at +%lld ms, sent again at +%lld ms\n",
           (long long)(b0 - a0), (long long)(a1 - a0));
    assert_true(b0 - a0 >= 190);
    assert_true(a1 - b0 >= 390);
    log = log_text(f);
    expect_in_log(log, "master_not_discovered_exception");
    expect_in_log(log, "es_rejected_execution_exception");
    es_sender_free(s);
    http_stub_stop(a);
    http_stub_stop(b);
    delete_index(f, ix);
}

/* ---- TLS and credentials, against tests/lib/tls_stub.py ------------ */

#define PASSWORD "s3cret-pw"
#define API_KEY  "a2V5OnNlY3JldA=="

static void stop_tls_stub(struct fixture *f)
{
    char cmd[128];
    if (f->tls_pid <= 0)
        return;
    close(f->tls_stdin);
    kill(f->tls_pid, SIGTERM);
    waitpid(f->tls_pid, NULL, 0);
    f->tls_pid = 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tls_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->tls_dir);
}

/* One stub at a time: a test that failed midway left its own running. */
static void start_tls_stub(struct fixture *f)
{
    int in[2], out[2];
    char line[32] = "";
    size_t used = 0;
    int64_t end = sl_clock_mono_ms() + 60000;

    stop_tls_stub(f);
    snprintf(f->tls_dir, sizeof f->tls_dir, "/tmp/sluice-tls-XXXXXX");
    if (mkdtemp(f->tls_dir) == NULL || pipe(in) < 0 || pipe(out) < 0)
        fail_msg("cannot make the TLS stub's directory or pipes");
    f->tls_pid = fork();
    if (f->tls_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", SLUICE_SOURCE_DIR "/tests/lib/tls_stub.py",
               f->tls_dir, "Basic ZWxhc3RpYzpzM2NyZXQtcHc=", "ApiKey " API_KEY,
               (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->tls_stdin = in[1];
    while (strchr(line, '\n') == NULL && sl_clock_mono_ms() < end) {
        struct pollfd p = {out[0], POLLIN, 0};
        ssize_t k;
        if (poll(&p, 1, 1000) <= 0)
            continue;
        if ((k = read(out[0], line + used, sizeof line - 1 - used)) <= 0)
            break;
        used += (size_t)k;
        line[used] = '\0';
    }
    close(out[0]);
    f->tls_port = (int)strtol(line, NULL, 10);
    if (f->tls_port <= 0)
        fail_msg("tests/lib/tls_stub.py did not start (python3 and openssl "
                 "on PATH?)");
}

/* Sends 20 events with c; returns whether all were DONE within 10 s. */
static bool tls_send(struct fixture *f, struct es_sender_config *c, int64_t ms)
{
    struct es_sender *s = new_sender(c);
    bool drained;
    add_events(s, "sluice-tls", 0, 20, NULL);
    drained = run(s, ms);
    if (!drained) {
        printf("not drained; the log says:\n");
        expect_no_outcome(f, 0, 20);
    }
    es_sender_free(s);
    return drained;
}

static void test_tls_credentials(void **state)
{
    struct fixture *f = *state;
    char url[64], userinfo_url[96], ca[96];
    const char *hosts[] = {url};
    struct es_sender_config c;

    start_tls_stub(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", f->tls_port);
    snprintf(ca, sizeof ca, "%s/ca.pem", f->tls_dir);

    c = base_cfg(f, hosts, 1);
    c.ca_file = ca;
    c.username = "elastic";
    c.password = PASSWORD;
    assert_true(tls_send(f, &c, 10000));
    expect_outcomes(f, 0, 20, ES_OUTCOME_DONE);

    c = base_cfg(f, hosts, 1);
    c.ca_file = ca;
    c.api_key = API_KEY;
    assert_true(tls_send(f, &c, 10000));
    expect_outcomes(f, 0, 20, ES_OUTCOME_DONE);

    /* credentials in the URL: curl uses them; they are never shown */
    snprintf(userinfo_url, sizeof userinfo_url,
             "https://elastic:" PASSWORD "@127.0.0.1:%d", f->tls_port);
    hosts[0] = userinfo_url;
    c = base_cfg(f, hosts, 1);
    c.ca_file = ca;
    if (!tls_send(f, &c, 10000))
        fail_msg("credentials in the URL: %s", log_text(f));
    expect_outcomes(f, 0, 20, ES_OUTCOME_DONE);

    /* tls_verify false: no CA needed (tests only) */
    hosts[0] = url;
    c = base_cfg(f, hosts, 1);
    c.tls_verify = false;
    c.api_key = API_KEY;
    assert_true(tls_send(f, &c, 10000));
    expect_outcomes(f, 0, 20, ES_OUTCOME_DONE);
    log_text(f);
    stop_tls_stub(f);
}

static void test_tls_failures_keep_events(void **state)
{
    struct fixture *f = *state;
    char url[64], ca[96], other[96], *log;
    const char *hosts[] = {url};
    struct es_sender_config c;

    start_tls_stub(f);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", f->tls_port);
    snprintf(ca, sizeof ca, "%s/ca.pem", f->tls_dir);
    snprintf(other, sizeof other, "%s/other-ca.pem", f->tls_dir);
    log_text(f);

    c = base_cfg(f, hosts, 1); /* wrong password */
    c.ca_file = ca;
    c.username = "elastic";
    c.password = "wr0ng-" PASSWORD;
    assert_false(tls_send(f, &c, 1000));
    log = log_text(f);
    expect_in_log(log, url);
    expect_in_log(log, "HTTP 401");
    expect_in_log(log, "check the user and password or API key");
    assert_null(strstr(log, PASSWORD));

    c = base_cfg(f, hosts, 1); /* a CA that did not sign the certificate */
    c.ca_file = other;
    c.api_key = API_KEY;
    assert_false(tls_send(f, &c, 1000));
    log = log_text(f);
    expect_in_log(log, url);
    expect_in_log(log, "TLS");
    expect_in_log(log, "elasticsearch.ca_file");
    assert_null(strstr(log, API_KEY));

    c = base_cfg(f, hosts, 1); /* no ca_file: the system's CAs refuse it */
    c.username = "elastic";
    c.password = PASSWORD;
    assert_false(tls_send(f, &c, 1000));
    expect_in_log(log_text(f), "TLS");
    stop_tls_stub(f);
}

/* ---- fixture ------------------------------------------------------- */

static int setup(void **state)
{
    struct fixture *f = &fx;

    if (es_http_init(&f->http, url_var, 60) != 0)
        return -1;
    snprintf(f->prefix, sizeof f->prefix, "sluice-sender-%ld-%ld",
             (long)getpid(), (long)time(NULL));
    snprintf(f->log_path, sizeof f->log_path, "/tmp/sluice-sender-log-XXXXXX");
    f->log_fd = mkstemp(f->log_path);
    /* appending: a write after log_text()'s truncation lands at 0 */
    if (f->log_fd < 0 || fcntl(f->log_fd, F_SETFL, O_APPEND) < 0) {
        es_http_free(&f->http);
        return -1;
    }
    unlink(f->log_path);
    sl_log_set_fd(f->log_fd);
    if (es_http_request(&f->http, "GET", "/_cluster/health", NULL, NULL) !=
        200) {
        print_error("GET %s/_cluster/health: %s; is %s a running cluster? "
                    "tests/run starts one\n",
                    f->http.url, f->http.errbuf, f->http.var);
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
    stop_tls_stub(f);
    es_http_request(&f->http, "PUT", "/_cluster/settings", "application/json",
                    "{\"persistent\":{\"action.auto_create_index\":null}}");
    /* in case a failed assert skipped the test's own cleanup */
    snprintf(path, sizeof path, "/%s-readonly/_settings", f->prefix);
    es_http_request(&f->http, "PUT", path, "application/json",
                    "{\"index.blocks.read_only_allow_delete\":null}");
    sl_log_set_fd(2);
    close(f->log_fd);
    es_http_free(&f->http);
    return 0;
}

/* A node that answered once, then holds a request past the client's
 * timeout (as one does while its cluster elects a master), is slow, not
 * dead: the request goes to it again, and it is not set aside (es_client.c
 * tells the two apart by whether the request went out, not by curl's
 * connect time alone). The stub closes each connection after an answer. */
static void test_timeout_on_reused_connection(void **state)
{
    struct fixture *f = *state;
    static const enum stub_action script[] = {STUB_FORWARD, STUB_FORWARD_HANG};
    struct stubbed t;
    struct es_sender_stats st;
    struct es_sender *s;

    stubbed_start(f, &t, "reused", script, 2);
    t.c.request_timeout_ms = 1500;
    t.c.max_in_flight = 1;
    s = new_sender(&t.c);
    add_events(s, t.ix, 0, 30, NULL);
    assert_true(run(s, 30000));
    add_events(s, t.ix, 30, 30, NULL);
    assert_true(run(s, 30000));
    expect_outcomes(f, 0, 30, ES_OUTCOME_DONE);
    es_sender_stats(s, &st);
    assert_int_equal(st.refused, 0);
    /* the log read once: a second log_text() would find it emptied */
    const char *log = expect_resent(f, &t, s, 30, 30, 3, 60,
                                    "sending the whole request again");
    if (strstr(log, "set aside") != NULL)
        fail_msg("a slow node was set aside:\n%s", log);
    stubbed_end(f, &t, s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_land_then_replay),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_mapping_conflict_dead),
        cmocka_unit_test(test_read_only_then_lifted),
        cmocka_unit_test(test_missing_index_then_created),
        cmocka_unit_test(test_refused_node_set_aside),
        cmocka_unit_test(test_unreachable_keeps_events),
        cmocka_unit_test(test_413_splits),
        cmocka_unit_test(test_timeout_resent_no_duplicate),
        cmocka_unit_test(test_cut_answer_resent),
        cmocka_unit_test(test_no_master_holds_off),
        cmocka_unit_test(test_tls_credentials),
        cmocka_unit_test(test_tls_failures_keep_events),
        cmocka_unit_test(test_timeout_on_reused_connection),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL_VARIABLE (e.g. SLUICE_TEST_ES_URL)\n",
                argv[0]);
        return 2;
    }
    url_var = argv[1];
    if (getenv("SLUICE_TEST_FILTER") != NULL) /* "test_gzip", "*tls*" */
        cmocka_set_test_filter(getenv("SLUICE_TEST_FILTER"));
    signal(SIGPIPE, SIG_IGN);
    return ES_HTTP_RUN_GROUP(url_var, tests, setup, teardown);
}
