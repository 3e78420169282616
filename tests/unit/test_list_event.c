/* test_list_event.c: a list-mode element as an event (list_event.h): the
 * id is the byte hash, pinned; the time is the first top-level @timestamp
 * or the time read; what is not one JSON object is refused with its exact
 * reason; newlines between tokens become spaces in the bulk line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "list_event.h"

#define NOW 1763856000999LL

static struct sl_date *iso;

static int setup(void **state)
{
    (void)state;
    const char *f[] = {"ISO8601"};
    struct sl_err err;
    iso = sl_date_compile(f, 1, NULL, &err);
    return iso == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_date_free(iso);
    return 0;
}

static void parse_ok(const char *s, struct list_event *le)
{
    struct sl_err err = {0};
    if (list_event_parse(iso, s, strlen(s), NOW, le, &err) < 0)
        fail_msg("refused %s: %s", s, err.msg);
}

static void refused(const char *s, size_t len, const char *why)
{
    struct list_event le;
    struct sl_err err = {0};
    assert_int_equal(list_event_parse(iso, s, len, NOW, &le, &err), -1);
    assert_int_equal(err.status, SL_EPARSE);
    assert_string_equal(err.msg, why);
}

static void test_logstash_event(void **state)
{
    (void)state;
    struct list_event le;
    const char *ev = "{\"@timestamp\":\"2025-11-23T02:46:00.123Z\","
                     "\"message\":\"GET /\",\"@version\":\"1\"}";
    parse_ok(ev, &le);
    assert_true(le.has_ts);
    assert_int_equal(le.ts_ms, 1763865960123LL);
    assert_false(le.newlines);
    /* the id is the byte hash, fixed forever */
    char id[SL_EVENT_ID_LEN + 1];
    sl_event_id("", 0, ev, strlen(ev), 0, id);
    assert_string_equal(le.id, id);
    assert_string_equal(le.id, "b9sQw8lRZMY7G2EXfUHidQ");
    /* one byte more is another event */
    parse_ok("{\"@timestamp\":\"2025-11-23T02:46:00.123Z\","
             "\"message\":\"GET /\",\"@version\":\"1\"} ",
             &le);
    assert_string_not_equal(le.id, id);
}

static void test_times(void **state)
{
    (void)state;
    struct list_event le;
    parse_ok("{\"message\":\"no time\"}", &le);
    assert_false(le.has_ts);
    assert_int_equal(le.ts_ms, NOW);
    parse_ok("{\"@timestamp\":\"yesterday\"}", &le);
    assert_false(le.has_ts);
    assert_int_equal(le.ts_ms, NOW);
    parse_ok("{\"@timestamp\":1763865960123}", &le);
    assert_true(le.has_ts); /* epoch_millis: see test_epoch_millis */
    /* nested or in a string: not the event's */
    parse_ok("{\"a\":{\"@timestamp\":\"2025-11-23T02:46:00Z\"},"
             "\"b\":[\"@timestamp\",\"2025-11-23T02:46:00Z\"],"
             "\"c\":\"@timestamp\"}",
             &le);
    assert_false(le.has_ts);
    /* after a nested object, and with an offset; the first one counts */
    parse_ok(
        "{\"a\":{\"b\":[1,{}]},\"@timestamp\":\"2025-11-23T03:46:00+01:00\","
        "\"@timestamp\":\"2026-01-01T00:00:00Z\"}",
        &le);
    assert_true(le.has_ts);
    assert_int_equal(le.ts_ms, 1763865960000LL);
    /* an escaped key is the same key */
    parse_ok("{\"@time\\u0073tamp\":\"2025-11-23T02:46:00.5Z\"}", &le);
    assert_int_equal(le.ts_ms, 1763865960500LL);
}

static void test_newlines(void **state)
{
    (void)state;
    struct list_event le;
    const char *ev = "{\n  \"a\": 1,\r\n  \"b\": \"x\"\n}";
    parse_ok(ev, &le);
    assert_true(le.newlines);
    char line[64];
    list_event_copy_line(line, ev, strlen(ev));
    line[strlen(ev)] = '\0';
    assert_string_equal(line, "{   \"a\": 1,    \"b\": \"x\" }");
}

static void test_refused(void **state)
{
    (void)state;
    refused("", 0, "empty, expected a JSON object");
    refused(" \n\t", 3, "empty, expected a JSON object");
    refused("[1,2]", 5, "a JSON array, expected a JSON object");
    refused("42", 2, "a JSON scalar, expected a JSON object");
    refused("\"s\"", 3, "a JSON scalar, expected a JSON object");
    refused("{\"a\":1}{\"b\":2}", 14,
            "not JSON: parse error: trailing garbage near byte 8");
    refused("{\"a\":1", 6, "not JSON: parse error: premature EOF near byte 6");
    refused("{\"a\":\"x\ny\"}", 11,
            "not JSON: lexical error: invalid character inside string. near "
            "byte 7");
    refused("{\"a\":\"\xff\"}", 9,
            "not JSON: lexical error: invalid bytes in UTF8 string. near byte "
            "7");
    refused("{\"a\":1}\0", 8,
            "not JSON: parse error: trailing garbage near byte 8");
    refused("{/*c*/\"a\":1}", 12,
            "not JSON: lexical error: probable comment found in input text, "
            "comments are not enabled. near byte 1");
}

/* An element without a top-level "@timestamp" key gets the time read as
 * one, first in its object, as Logstash gives it; one with the key keeps
 * it as it is, parsed or not (Elasticsearch says why, for the dead
 * letters). */
static void assert_line_ts(const char *ev, const char *want)
{
    struct list_event le;
    char line[256];
    parse_ok(ev, &le);
    assert_false(le.ts_key);
    assert_int_equal(le.ts_ms, NOW);
    size_t n = list_event_copy_line_ts(line, ev, strlen(ev), le.ts_ms);
    assert_true(n <= strlen(ev) + LIST_EVENT_TS_EXTRA);
    line[n] = '\0';
    assert_string_equal(line, want);
}

static void test_time_added_when_missing(void **state)
{
    (void)state;
    assert_line_ts("{\"message\":\"x\",\"@version\":\"1\"}",
                   "{\"@timestamp\":\"2025-11-23T00:00:00.999Z\","
                   "\"message\":\"x\",\"@version\":\"1\"}");
    assert_line_ts(" \n{ \r\n}\n",
                   "  {\"@timestamp\":\"2025-11-23T00:00:00.999Z\"   } ");
    assert_line_ts("{\"a\":{\"@timestamp\":\"2025-11-23T02:46:00Z\"}}",
                   "{\"@timestamp\":\"2025-11-23T00:00:00.999Z\","
                   "\"a\":{\"@timestamp\":\"2025-11-23T02:46:00Z\"}}");
    struct list_event le;
    parse_ok("{\"@timestamp\":\"yesterday\"}", &le);
    assert_true(le.ts_key);
    assert_false(le.has_ts);
    parse_ok("{\"@timestamp\":null}", &le);
    assert_true(le.ts_key);
    parse_ok("{\"@timestamp\":\"2025-11-23T02:46:00.5Z\"}", &le);
    assert_true(le.ts_key);
    assert_true(le.has_ts);
}

/* The bulk line of an element with Logstash's legacy fields: "host" as
 * a string becomes host.name; another key the template maps as an object,
 * holding a scalar or an array, is renamed "_<key>" ("source", Filebeat
 * 6's path, "_source_": "_source" is Elasticsearch's own); objects, null,
 * nested keys and escaped keys stay as they are. */
static void assert_fixed(const char *ev, const char *want)
{
    struct list_event le;
    char line[512];
    parse_ok(ev, &le);
    size_t size = list_event_line_size(&le, strlen(ev));
    assert_true(size < sizeof line);
    size_t n = list_event_copy_fixed(&le, line, ev, strlen(ev));
    assert_true(n <= size);
    line[n] = '\0';
    assert_string_equal(line, want);
}

static void test_legacy_fields(void **state)
{
    (void)state;
    assert_fixed("{\"@timestamp\":\"2025-11-23T02:46:00Z\",\"host\":\"web-1\","
                 "\"path\":\"/var/log/a.log\",\"message\":\"x\"}",
                 "{\"@timestamp\":\"2025-11-23T02:46:00Z\","
                 "\"host\":{\"name\":\"web-1\"},"
                 "\"path\":\"/var/log/a.log\",\"message\":\"x\"}");
    /* blanks, an escape in the value, the time added, a renamed agent,
     * an array and a number renamed, a newline between tokens */
    assert_fixed("{ \"host\" :\n \"a\\\"b\" , \"agent\":\"\\\"curl\\\"\","
                 "\"url\":[\"/a\"],\"error\":500,\"event\":true}",
                 "{\"@timestamp\":\"2025-11-23T00:00:00.999Z\", \"host\" :  "
                 "{\"name\":\"a\\\"b\"} , \"_agent\":\"\\\"curl\\\"\","
                 "\"_url\":[\"/a\"],\"_error\":500,\"_event\":true}");
    /* a number under host is renamed, not wrapped */
    assert_fixed("{\"@timestamp\":1,\"host\":5}",
                 "{\"@timestamp\":1,\"_host\":5}");
    /* source: "_source_", the rest of the line as it was */
    assert_fixed("{\"@timestamp\":1,\"source\" : \"/var/log/a\",\"agent\":1}",
                 "{\"@timestamp\":1,\"_source_\" : \"/var/log/a\","
                 "\"_agent\":1}");
    /* left alone: objects, null, nested, escaped, unknown keys */
    const char *alone[] = {
        "{\"@timestamp\":1,\"host\":{\"name\":\"h\"},\"agent\":null}",
        "{\"@timestamp\":1,\"a\":{\"host\":\"h\",\"b\":[{\"agent\":1}]}}",
        "{\"@timestamp\":1,\"ho\\u0073t\":\"h\"}",
        ("{\"@timestamp\":1,\"source\":{\"ip\":\"::1\"},\"hostname\":\"h\","
         "\"hos\":\"h\",\"zeekz\":1,\"a\":\"host\"}"),
    };
    for (size_t i = 0; i < sizeof alone / sizeof alone[0]; i++) {
        struct list_event le;
        parse_ok(alone[i], &le);
        assert_int_equal(le.nfix, 0);
        assert_int_equal(list_event_line_size(&le, strlen(alone[i])), 0);
    }
    /* at most LIST_EVENT_FIX_MAX; the id is always the element's bytes */
    char many[512];
    size_t at = (size_t)snprintf(many, sizeof many, "{\"@timestamp\":1");
    for (int i = 0; i < LIST_EVENT_FIX_MAX + 2; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, ",\"host\":\"h\"");
    snprintf(many + at, sizeof many - at, "}");
    struct list_event le;
    parse_ok(many, &le);
    assert_int_equal(le.nfix, LIST_EVENT_FIX_MAX);
    char id[SL_EVENT_ID_LEN + 1];
    sl_event_id("", 0, many, strlen(many), 0, id);
    assert_string_equal(le.id, id);
}

/* The names are sorted (they are searched in halves) and unique. */
/* "@timestamp" as a number is epoch milliseconds, as Elasticsearch reads
 * it: the index is the document's day (it was the day read, so a replay
 * on another day was a second document, and retention kept it by the
 * wrong day). What epoch_millis may read otherwise, or no time in years
 * 1 to 9999, stays the time read. */
static void test_epoch_millis(void **state)
{
    (void)state;
    struct list_event le;
    parse_ok("{\"message\":\"x\",\"@timestamp\":1700000000123}", &le);
    assert_true(le.has_ts);
    assert_int_equal(le.ts_ms, 1700000000123LL);
    assert_int_equal(list_event_line_size(&le, 42), 0); /* sent as it is */
    parse_ok("{\"@timestamp\":-1000}", &le);
    assert_int_equal(le.ts_ms, -1000);
    parse_ok("{\"@timestamp\":0}", &le);
    assert_true(le.has_ts);
    assert_int_equal(le.ts_ms, 0);
    /* a string of digits too, as epoch_millis reads it */
    parse_ok("{\"@timestamp\":\"1700000000123\"}", &le);
    assert_true(le.has_ts);
    assert_int_equal(le.ts_ms, 1700000000123LL);
    const char *not_ms[] = {"{\"@timestamp\":1700000000123.5}",
                            "{\"@timestamp\":1.7e12}",
                            "{\"@timestamp\":1234567890123456}",
                            "{\"@timestamp\":253402300800000}",
                            "{\"a\":{\"@timestamp\":1700000000123}}",
                            "{\"n\":1700000000123}",
                            "{\"@timestamp\":\"17000000001x\"}",
                            "{\"@timestamp\":\"\"}"};
    for (size_t i = 0; i < sizeof not_ms / sizeof not_ms[0]; i++) {
        parse_ok(not_ms[i], &le);
        assert_false(le.has_ts);
        assert_int_equal(le.ts_ms, NOW);
    }
}

/* "@timestamp": null is the time read, in its place (the document had a
 * null time, and Kibana never showed it); nested nulls stay. */
static void test_null_time_is_the_time_read(void **state)
{
    (void)state;
    assert_fixed("{\"message\":\"x\",\"@timestamp\":null,\"b\":null}",
                 "{\"message\":\"x\",\"@timestamp\":"
                 "\"2025-11-23T00:00:00.999Z\",\"b\":null}");
    assert_fixed("{\"@timestamp\" :\nnull , \"host\":\"web1\"}",
                 "{\"@timestamp\" : \"2025-11-23T00:00:00.999Z\" , "
                 "\"host\":{\"name\":\"web1\"}}");
    assert_fixed("{\"a\":{\"@timestamp\":null}}",
                 "{\"@timestamp\":\"2025-11-23T00:00:00.999Z\","
                 "\"a\":{\"@timestamp\":null}}");
    /* only the first counts: a second one is Elasticsearch's to refuse */
    struct list_event le;
    parse_ok("{\"@timestamp\":\"2025-11-23T02:46:00Z\",\"@timestamp\":null}",
             &le);
    assert_int_equal(le.nfix, 0);
    assert_int_equal(list_event_line_size(&le, 50), 0);
    parse_ok("{\"@timestamp\":null}", &le);
    assert_false(le.has_ts);
    assert_int_equal(le.ts_ms, NOW);
}

static void test_object_keys_sorted(void **state)
{
    (void)state;
    assert_true(list_event_object_nkeys > 1);
    for (size_t i = 1; i < list_event_object_nkeys; i++)
        assert_true(strcmp(list_event_object_keys[i - 1],
                           list_event_object_keys[i]) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logstash_event),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_time_added_when_missing),
        cmocka_unit_test(test_legacy_fields),
        cmocka_unit_test(test_object_keys_sorted),
        cmocka_unit_test(test_epoch_millis),
        cmocka_unit_test(test_null_time_is_the_time_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
