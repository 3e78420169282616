/* test_es_tls.c: indexer/es (the bulk sender) against a real
 * Elasticsearch 8 with security on (tests/run's es_tls: HTTPS with a
 * certificate signed by a CA made for the run, the user elastic with a
 * random password).
 *
 * ca_file with username and password: every event DONE, counted in the
 * index. A wrong password: no outcome at all (the events stay in the
 * sender, neither lost nor dead), nothing indexed, the log names the URL,
 * the 401 and what to fix. No ca_file with verification on: the same,
 * with a TLS message naming elasticsearch.ca_file. An API key the server
 * does not know: a 401 from its API key realm, events kept. A real API key
 * (made by elastic, limited to creating documents in these indices): every
 * event DONE, counted; the same once invalidated: a 401, events kept. No
 * secret (the password, the wrong one, the API key or its secret part)
 * ever appears in the log. The real keys need the .security index, which
 * needs the test analysis plugin scripts/setup installs into the node's
 * home (tests/lib/es-test-analysis/: the integ-test-zip lacks the
 * analysis-common module).
 *
 * Reads SLUICE_TEST_ES_TLS_URL, SLUICE_TEST_ES_TLS_CA and
 * SLUICE_TEST_ES_TLS_PASSWORD (tests/lib/services.sh). */
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
#include <time.h>
#include <unistd.h>

#include "es_http.h"
#include "es_sender.h"
#include "sl_clock.h"
#include "sl_log.h"

#define URL_VAR "SLUICE_TEST_ES_TLS_URL"
#define NEV     300

struct fixture {
    struct es_http http;
    const char *ca, *password;
    char index[96];
    char log_path[64];
    int log_fd;
    int calls[NEV];
    enum es_outcome o[NEV];
    char api_key[256]; /* base64 id:key, once made */
};

static struct fixture fx;

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *d)
{
    struct fixture *f = ctx;
    (void)d;
    if (tag >= NEV)
        abort();
    f->calls[tag]++;
    f->o[tag] = o;
}

static struct es_sender_config base_cfg(struct fixture *f,
                                        const char *const *hosts)
{
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = 1,
                                 .tls_verify = true,
                                 .flush_bytes = 1 << 20,
                                 .flush_count = 100,
                                 .flush_age_ms = 50,
                                 .max_in_flight = 2,
                                 .request_timeout_ms = 20000,
                                 .retry_min_ms = 100,
                                 .retry_max_ms = 500,
                                 .on_outcome = on_outcome,
                                 .ctx = f};
    memset(f->calls, 0, sizeof f->calls);
    return c;
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

/* Adds NEV events and turns the loop until all are reported or ms pass;
 * returns the sender (the caller frees it) and whether it drained. */
static bool send_all(struct fixture *f, const struct es_sender_config *c,
                     int64_t ms)
{
    struct sl_err err = {0};
    struct es_sender *s = es_sender_new(c, &err);
    char id[32], json[96];
    int64_t end = sl_clock_mono_ms() + ms;
    bool drained;

    if (s == NULL)
        fail_msg("es_sender_new: %s", err.msg);
    for (size_t t = 0; t < NEV; t++) {
        while (!es_sender_has_room(s) && sl_clock_mono_ms() < end)
            turn(s, 50);
        snprintf(id, sizeof id, "tls-%zu", t);
        snprintf(json, sizeof json, "{\"message\":\"event %zu\",\"n\":%zu}", t,
                 t);
        if (!es_sender_has_room(s))
            break; /* held off: the rest would find no room either */
        if (es_sender_add(s, f->index, strlen(f->index), id, strlen(id), json,
                          strlen(json), t, &err) < 0)
            fail_msg("es_sender_add: %s", err.msg);
    }
    es_sender_flush(s);
    while (es_sender_pending(s) > 0 && sl_clock_mono_ms() < end)
        turn(s, 50);
    drained = es_sender_pending(s) == 0;
    if (!drained)
        assert_true(es_sender_pending(s) > 0); /* kept, not dropped */
    es_sender_free(s);
    return drained;
}

static void expect_all(struct fixture *f, enum es_outcome o)
{
    for (size_t t = 0; t < NEV; t++)
        if (f->calls[t] != 1 || f->o[t] != o)
            fail_msg("event %zu: %d outcomes (last %d), want exactly one %d", t,
                     f->calls[t], f->o[t], o);
}

static void expect_none(struct fixture *f)
{
    for (size_t t = 0; t < NEV; t++)
        if (f->calls[t] != 0)
            fail_msg("event %zu: outcome %d while it cannot be sent", t,
                     f->o[t]);
}

static long long count_docs(struct fixture *f)
{
    char path[160];
    yajl_val v;
    snprintf(path, sizeof path, "/%s/_refresh", f->index);
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    snprintf(path, sizeof path, "/%s/_count", f->index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    v = es_json_at(f->http.json, "count");
    if (v == NULL || !YAJL_IS_INTEGER(v))
        fail_msg("GET %s: no count in %.300s", path, es_http_body(&f->http));
    return YAJL_GET_INTEGER(v);
}

static void new_index(struct fixture *f, const char *what)
{
    char path[128];
    snprintf(f->index, sizeof f->index, "sluice-tls-%ld-%s", (long)getpid(),
             what);
    snprintf(path, sizeof path, "/%s", f->index);
    es_http_call(&f->http, "PUT", path, "application/json",
                 "{\"settings\":{\"number_of_shards\":1,"
                 "\"number_of_replicas\":0}}",
                 200);
}

/* The log since the last call, printed (it holds no secret: checked). */
static char *log_text(struct fixture *f)
{
    static char buf[1 << 16];
    ssize_t k;
    sl_log_flush();
    k = pread(f->log_fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = '\0';
    if (ftruncate(f->log_fd, 0) != 0)
        fail_msg("ftruncate of the log failed");
    return buf;
}

static void expect_no_secret(struct fixture *f, const char *log,
                             const char *extra)
{
    if (strstr(log, f->password) != NULL ||
        (extra != NULL && strstr(log, extra) != NULL) ||
        (f->api_key[0] != '\0' && strstr(log, f->api_key) != NULL))
        fail_msg("the log shows a secret (not printed here)");
    printf("---- log ----\n%s-------------\n", log);
}

static void expect_in_log(const char *log, const char *needle)
{
    if (strstr(log, needle) == NULL)
        fail_msg("the log does not say \"%s\":\n%s", needle, log);
}

/* Sends the NEV events with c: each one DONE, exactly NEV documents in
 * the index, no secret (nor extra) in the log. */
static void expect_indexed(struct fixture *f, const struct es_sender_config *c,
                           const char *extra)
{
    log_text(f);
    assert_true(send_all(f, c, 30000));
    expect_all(f, ES_OUTCOME_DONE);
    assert_int_equal(count_docs(f), NEV);
    expect_no_secret(f, log_text(f), extra);
}

/* Sends the NEV events with c, which the server refuses, for 2 s: no
 * outcome (the events stay in the sender), nothing indexed, no secret
 * (nor extra) in the log, which names the URL and says nothing is lost.
 * Returns the log, for the caller's checks. */
static char *expect_kept(struct fixture *f, const struct es_sender_config *c,
                         const char *extra)
{
    char *log;
    log_text(f);
    assert_false(send_all(f, c, 2000));
    expect_none(f);
    assert_int_equal(count_docs(f), 0);
    log = log_text(f);
    expect_no_secret(f, log, extra);
    expect_in_log(log, f->http.url);
    expect_in_log(log, "nothing is lost");
    return log;
}

/* expect_kept() for a 401 whose server reason is `reason`. */
static void expect_refused(struct fixture *f, const struct es_sender_config *c,
                           const char *extra, const char *reason)
{
    char *log = expect_kept(f, c, extra);
    expect_in_log(log, "HTTP 401");
    expect_in_log(log, reason);
    expect_in_log(log, "check the user and password or API key");
}

/* ---- tests ---------------------------------------------------------- */

static void test_password_indexed(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);

    new_index(f, "basic");
    c.ca_file = f->ca;
    c.username = "elastic";
    c.password = f->password;
    expect_indexed(f, &c, NULL);
}

static void test_wrong_password_kept(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);
    char wrong[128];

    new_index(f, "wrong");
    snprintf(wrong, sizeof wrong, "%s-wrong", f->password);
    c.ca_file = f->ca;
    c.username = "elastic";
    c.password = wrong;
    expect_refused(f, &c, wrong, "unable to authenticate user [elastic]");
}

static void test_no_ca_tls_message(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);
    char *log;

    new_index(f, "noca");
    c.username = "elastic"; /* no ca_file: the system's CAs refuse it */
    c.password = f->password;
    log = expect_kept(f, &c, NULL);
    expect_in_log(log, "TLS");
    expect_in_log(log, "certificate");
    expect_in_log(log, "set elasticsearch.ca_file to the CA");
}

/* A key the server never made (an id it does not know): the sender's
 * "Authorization: ApiKey" reaches the API key realm, which answers 401,
 * and the events are kept. Real keys: test_api_key_indexed and
 * test_api_key_invalidated_kept. */
static void test_api_key_refused_kept(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);

    /* base64 of "sluice-test-id:sluice-test-key-not-known" */
    snprintf(f->api_key, sizeof f->api_key, "%s",
             "c2x1aWNlLXRlc3QtaWQ6c2x1aWNlLXRlc3Qta2V5LW5vdC1rbm93bg==");
    new_index(f, "apikey");
    c.ca_file = f->ca;
    c.api_key = f->api_key;
    expect_refused(f, &c, NULL,
                   "unable to authenticate with provided credentials");
}

/* A real API key, made by elastic (es_http_api_key), limited to creating
 * documents in this run's sluice-tls-* indices, as a deployment would give
 * the indexer; f->api_key is set to its encoded form. */
static void make_api_key(struct fixture *f, const char *name,
                         struct es_api_key *key)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"sluice-tls-%ld-%s\",\"expiration\":\"1h\","
             "\"role_descriptors\":{\"sluice-indexer\":{\"index\":[{"
             "\"names\":[\"sluice-tls-%ld-*\"],"
             "\"privileges\":[\"create_doc\",\"create_index\"]}]}}}",
             (long)getpid(), name, (long)getpid());
    es_http_api_key(&f->http, body, key);
    snprintf(f->api_key, sizeof f->api_key, "%s", key->encoded);
}

/* A real API key: every event DONE, exactly NEV documents in the index,
 * neither the key nor its secret part in the log. */
static void test_api_key_indexed(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);
    struct es_api_key key;

    make_api_key(f, "ok", &key);
    new_index(f, "keyok");
    c.ca_file = f->ca;
    c.api_key = f->api_key;
    expect_indexed(f, &c, key.secret);
}

/* A real key invalidated (DELETE /_security/api_key) before the sender
 * uses it: the 401 with the server's plain reason and what to fix, no
 * outcome (the events are kept), nothing indexed, no secret in the log. */
static void test_api_key_invalidated_kept(void **state)
{
    struct fixture *f = *state;
    const char *hosts[] = {f->http.url};
    struct es_sender_config c = base_cfg(f, hosts);
    struct es_api_key key;
    char body[192];

    make_api_key(f, "gone", &key);
    snprintf(body, sizeof body, "{\"ids\":[\"%s\"]}", key.id);
    es_http_call(&f->http, "DELETE", "/_security/api_key", "application/json",
                 body, 200);
    es_json_assert_string(&f->http, "invalidated_api_keys.0", key.id);
    es_json_assert_int(&f->http, "error_count", 0);
    new_index(f, "keygone");
    c.ca_file = f->ca;
    c.api_key = f->api_key;
    expect_refused(f, &c, key.secret,
                   "unable to authenticate with provided credentials");
}

/* ---- fixture -------------------------------------------------------- */

static int setup(void **state)
{
    struct fixture *f = &fx;

    f->ca = getenv("SLUICE_TEST_ES_TLS_CA");
    f->password = getenv("SLUICE_TEST_ES_TLS_PASSWORD");
    if (f->ca == NULL || f->password == NULL || f->password[0] == '\0') {
        print_error("SLUICE_TEST_ES_TLS_CA and SLUICE_TEST_ES_TLS_PASSWORD "
                    "are not set: run through tests/run, which starts "
                    "es_tls\n");
        return -1;
    }
    if (es_http_init(&f->http, URL_VAR, 60) != 0)
        return -1;
    es_http_set_auth(&f->http, f->ca, "elastic", f->password);
    snprintf(f->log_path, sizeof f->log_path, "/tmp/sluice-tls-log-XXXXXX");
    f->log_fd = mkstemp(f->log_path);
    if (f->log_fd < 0 || fcntl(f->log_fd, F_SETFL, O_APPEND) < 0) {
        es_http_free(&f->http);
        return -1;
    }
    unlink(f->log_path);
    sl_log_set_fd(f->log_fd);
    if (es_http_request(&f->http, "GET", "/_cluster/health", NULL, NULL) !=
        200) {
        print_error("GET %s/_cluster/health with the CA and elastic's "
                    "password: %s (HTTP %ld); tests/run starts es_tls\n",
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
    char path[256];
    if (f == NULL)
        return 0;
    long pid = (long)getpid();
    snprintf(path, sizeof path,
             "/sluice-tls-%ld-basic,sluice-tls-%ld-wrong,sluice-tls-%ld-noca,"
             "sluice-tls-%ld-apikey,sluice-tls-%ld-keyok,sluice-tls-%ld-keygone"
             "?ignore_unavailable=true",
             pid, pid, pid, pid, pid, pid);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);
    sl_log_set_fd(2);
    close(f->log_fd);
    es_http_free(&f->http);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_indexed),
        cmocka_unit_test(test_wrong_password_kept),
        cmocka_unit_test(test_no_ca_tls_message),
        cmocka_unit_test(test_api_key_refused_kept),
        cmocka_unit_test(test_api_key_indexed),
        cmocka_unit_test(test_api_key_invalidated_kept),
    };
    signal(SIGPIPE, SIG_IGN);
    return ES_HTTP_RUN_GROUP(URL_VAR, tests, setup, teardown);
}
