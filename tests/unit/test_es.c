/* test_es.c: indexer/es without a server: the node list's turns and
 * set-aside rule, URLs shown without credentials, and the sender's bounds
 * (has_room, events that can never be sent) before any I/O. The sender's
 * life against servers is tests/integration/test_es_sender.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <curl/curl.h>

#include "es_nodes.h"
#include "es_sender.h"

static void expect_shown(const char *url, const char *want)
{
    char out[128];
    es_url_shown(url, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_url_shown(void **state)
{
    char small[12];
    (void)state;
    expect_shown("http://127.0.0.1:9200", "http://127.0.0.1:9200");
    expect_shown("https://elastic:s3cret@es:9200/", "https://es:9200/");
    expect_shown("http://a@b@es:9200/x", "http://es:9200/x");
    expect_shown("http://es:9200/path@x?q=@", "http://es:9200/path@x?q=@");
    expect_shown("elastic:s3cret@es:9200", "es:9200");
    es_url_shown("https://u:p@es.example:9200", small, sizeof small);
    assert_string_equal(small, "https://es.");
}

static struct es_nodes *three(void)
{
    static const char *const urls[] = {"http://a:9200/", "http://u:pw@b:9200",
                                       "https://c:9200//"};
    struct sl_err err = {0};
    struct es_nodes *ns =
        es_nodes_new(urls, 3, "/_bulk?timeout=5ms", 100, 1000, &err);
    if (ns == NULL)
        fail_msg("es_nodes_new: %s", err.msg);
    return ns;
}

static void test_nodes_strings(void **state)
{
    struct es_nodes *ns = three();
    static const char *const bad[] = {"http://a:9200", "elastic:pw@b:9200"};
    struct sl_err err = {0};
    (void)state;
    assert_int_equal(es_nodes_count(ns), 3);
    assert_string_equal(es_nodes_url(ns, 0), "http://a:9200");
    assert_string_equal(es_nodes_bulk(ns, 0),
                        "http://a:9200/_bulk?timeout=5ms");
    assert_string_equal(es_nodes_url(ns, 1), "http://u:pw@b:9200");
    assert_string_equal(es_nodes_shown(ns, 1), "http://b:9200");
    assert_string_equal(es_nodes_bulk(ns, 2),
                        "https://c:9200/_bulk?timeout=5ms");
    es_nodes_free(ns);

    assert_null(es_nodes_new(bad, 2, "/_bulk", 1, 2, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "elasticsearch: node URL \"b:9200\" has no "
                                 "http:// or https://; write the scheme");
    assert_null(es_nodes_new(bad, 0, "/_bulk", 1, 2, &err));
    assert_string_equal(err.msg, "elasticsearch: no node URL");
}

static void test_nodes_turns(void **state)
{
    struct es_nodes *ns = three();
    int64_t wait = 0, now = 1000000;
    int d1, d2;
    (void)state;

    assert_int_equal(es_nodes_next(ns, now, &wait), 0);
    assert_int_equal(es_nodes_next(ns, now, &wait), 1);
    assert_int_equal(es_nodes_next(ns, now, &wait), 2);
    assert_int_equal(es_nodes_next(ns, now, &wait), 0);
    /* node 1 refuses: skipped until its time is up */
    d1 = es_nodes_set_aside(ns, 1, now);
    assert_true(d1 >= 50 && d1 <= 100);
    assert_true(es_nodes_is_aside(ns, 1, now));
    assert_int_equal(es_nodes_next(ns, now, &wait), 2);
    assert_int_equal(es_nodes_next(ns, now, &wait), 0);
    assert_int_equal(es_nodes_next(ns, now, &wait), 2);
    assert_int_equal(es_nodes_next(ns, now + d1, &wait), 0);
    assert_int_equal(es_nodes_next(ns, now + d1, &wait), 1);
    /* refused again: the backoff doubles */
    d2 = es_nodes_set_aside(ns, 1, now);
    assert_true(d2 >= 100 && d2 <= 200);
    /* all aside: -1 and the time until the first comes back */
    assert_true(es_nodes_set_aside(ns, 0, now) <= 100);
    assert_true(es_nodes_set_aside(ns, 2, now) <= 100);
    assert_int_equal(es_nodes_next(ns, now, &wait), -1);
    assert_true(wait >= 50 && wait <= 100);
    /* refusals in a row are counted from the first, for the log to say a
     * node is down once and when it is back */
    assert_int_equal(es_nodes_refusals(ns, 1), 2);
    assert_int_equal(es_nodes_refusals(ns, 0), 1);
    unsigned long refused = 0;
    assert_true(es_nodes_ok(ns, 0, &refused) == now);
    assert_int_equal(refused, 1);
    assert_int_equal(es_nodes_refusals(ns, 0), 0);
    assert_true(es_nodes_ok(ns, 0, &refused) == 0);
    assert_int_equal(refused, 0);
    /* an answer resets a node's backoff */
    assert_true(es_nodes_ok(ns, 1, NULL) == now);
    assert_int_equal(es_nodes_refusals(ns, 1), 0);
    assert_false(es_nodes_is_aside(ns, 1, now));
    assert_true(es_nodes_set_aside(ns, 1, now) <= 100);
    es_nodes_free(ns);
}

struct seen {
    int calls;
    uint64_t tag;
    enum es_outcome o;
    int status;
    char type[64], index[64], event[64], reason[256];
};

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *d)
{
    struct seen *s = ctx;
    s->calls++;
    s->tag = tag;
    s->o = o;
    s->status = d->status;
    snprintf(s->type, sizeof s->type, "%.*s", (int)d->type.len, d->type.ptr);
    snprintf(s->index, sizeof s->index, "%.*s", (int)d->index.len,
             d->index.ptr);
    snprintf(s->event, sizeof s->event, "%.*s", (int)d->event.len,
             d->event.ptr);
    snprintf(s->reason, sizeof s->reason, "%.*s", (int)d->reason.len,
             d->reason.ptr);
}

static struct es_sender *sender(struct seen *seen)
{
    static const char *const hosts[] = {"http://127.0.0.1:1"};
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = 1,
                                 .tls_verify = true,
                                 .flush_bytes = 4096,
                                 .flush_count = 10,
                                 .flush_age_ms = 60000,
                                 .max_in_flight = 1,
                                 .request_timeout_ms = 1000,
                                 .retry_min_ms = 10,
                                 .retry_max_ms = 100,
                                 .on_outcome = on_outcome,
                                 .ctx = seen};
    struct sl_err err = {0};
    struct es_sender *s = es_sender_new(&c, &err);
    if (s == NULL)
        fail_msg("es_sender_new: %s", err.msg);
    return s;
}

/* Room for one request in flight, one sealed and one open, then none;
 * nothing is reported while no process() runs. */
static void test_sender_room(void **state)
{
    struct seen seen = {0};
    struct es_sender *s = sender(&seen);
    struct sl_err err = {0};
    size_t added = 0;
    (void)state;

    while (es_sender_has_room(s)) {
        assert_int_equal(
            es_sender_add(s, "ix", 2, "id", 2, "{}", 2, added, &err), 0);
        added++;
    }
    assert_int_equal(added, 30);
    assert_int_equal(es_sender_pending(s), 30);
    assert_int_equal(es_sender_add(s, "ix", 2, "id", 2, "{}", 2, 99, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(seen.calls, 0);
    /* curl has a transfer to start: it wants to be called now */
    assert_int_equal(es_sender_timeout_ms(s), 0);
    es_sender_free(s);
}

/* Events that can never be sent are DEAD at once, with status 0. */
static void test_sender_dead_at_add(void **state)
{
    struct seen seen = {0};
    struct es_sender *s = sender(&seen);
    struct sl_err err = {0};
    static char big[ES_SENDER_EVENT_MAX + 10];
    (void)state;

    assert_int_equal(es_sender_add(s, "ix", 2, "id", 2, "{\n}", 3, 7, &err), 0);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.tag, 7);
    assert_int_equal(seen.o, ES_OUTCOME_DEAD);
    assert_int_equal(seen.status, 0);
    assert_string_equal(seen.type, "sluice_invalid_event");
    assert_string_equal(seen.index, "ix");
    assert_string_equal(seen.event, "{\n}");

    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    assert_int_equal(
        es_sender_add(s, "ix", 2, "id2", 3, big, sizeof big, 8, &err), 0);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.tag, 8);
    assert_string_equal(seen.type, "sluice_event_too_large");
    /* the reason says what to do (it said "over the largest an item may
     * be (8388608, 4096, 4096)") */
    assert_string_equal(seen.reason,
                        "event of 8388618 bytes, above the 8388608 bytes an "
                        "event may be; cut it where it is made (the "
                        "shipper's max_line_bytes, Logstash's truncate "
                        "filter)");
    assert_int_equal(es_sender_pending(s), 0);
    assert_true(es_sender_has_room(s));
    es_sender_free(s);
}

static void test_sender_config_refused(void **state)
{
    static const char *const hosts[] = {"127.0.0.1:9200"};
    struct seen seen = {0};
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = 1,
                                 .flush_bytes = 4096,
                                 .flush_count = 10,
                                 .flush_age_ms = 1,
                                 .max_in_flight = 1,
                                 .request_timeout_ms = 1000,
                                 .retry_min_ms = 10,
                                 .retry_max_ms = 100,
                                 .on_outcome = on_outcome,
                                 .ctx = &seen};
    struct sl_err err = {0};
    (void)state;

    assert_null(es_sender_new(&c, &err));
    assert_string_equal(err.msg, "elasticsearch: node URL \"127.0.0.1:9200\" "
                                 "has no http:// or https://; write the "
                                 "scheme");
    c.hosts = (const char *const[]){"http://127.0.0.1:9200"};
    c.max_in_flight = 65;
    assert_null(es_sender_new(&c, &err));
    assert_string_equal(err.msg, "elasticsearch: 65 requests in flight, "
                                 "expected 1 to 64");
    c.max_in_flight = 1;
    c.retry_max_ms = 5;
    assert_null(es_sender_new(&c, &err));
    assert_string_equal(err.msg, "elasticsearch: retry backoff 10 .. 5 ms, "
                                 "expected 1 <= min <= max");
}

/* With a registry, the counters are registered at _new, under their names
 * (a DEAD at add is counted at once). */
static void test_sender_metrics(void **state)
{
    static const char *const hosts[] = {"http://127.0.0.1:1"};
    struct seen seen = {0};
    struct sl_metrics *m = sl_metrics_new();
    struct es_sender_config c = {.hosts = hosts,
                                 .nhosts = 1,
                                 .flush_bytes = 4096,
                                 .flush_count = 10,
                                 .flush_age_ms = 1000,
                                 .max_in_flight = 1,
                                 .request_timeout_ms = 1000,
                                 .retry_min_ms = 10,
                                 .retry_max_ms = 100,
                                 .on_outcome = on_outcome,
                                 .ctx = &seen,
                                 .metrics = m};
    struct sl_err err = {0};
    struct es_sender *s;
    struct es_sender_stats st;
    struct sl_buf b;
    (void)state;

    assert_non_null(m);
    s = es_sender_new(&c, &err);
    if (s == NULL)
        fail_msg("es_sender_new: %s", err.msg);
    assert_int_equal(es_sender_add(s, "ix", 2, "id", 2, "{\n}", 3, 1, &err), 0);
    es_sender_stats(s, &st);
    assert_int_equal(st.dead, 1);
    sl_buf_init(&b, 1 << 16);
    assert_int_equal(sl_metrics_render_prometheus(m, &b, &err), 0);
    assert_non_null(
        strstr(b.ptr, "sluice_es_events_total{outcome=\"dead\"} 1\n"));
    assert_non_null(
        strstr(b.ptr, "sluice_es_events_total{outcome=\"done\"} 0\n"));
    assert_non_null(strstr(b.ptr, "sluice_es_requests_total 0\n"));
    assert_non_null(strstr(b.ptr, "sluice_es_nodes_set_aside_total 0\n"));
    sl_buf_release(&b);
    es_sender_free(s);
    sl_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_shown),
        cmocka_unit_test(test_nodes_strings),
        cmocka_unit_test(test_nodes_turns),
        cmocka_unit_test(test_sender_room),
        cmocka_unit_test(test_sender_dead_at_add),
        cmocka_unit_test(test_sender_config_refused),
        cmocka_unit_test(test_sender_metrics),
    };
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
