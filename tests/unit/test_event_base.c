/* test_event_base.c: the fields every event has, as exact JSON; the id
 * and batch time; the input's `fields` and their errors at setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "event_base.h"
#include "sl_date.h"

#define T1 1796403632123LL /* 2026-12-04T17:00:32.123Z */
#define AGENT                                                                  \
    "\"agent\":{\"type\":\"sluice-shipper\",\"version\":\"" SLUICE_VERSION "\"}"

struct fixture {
    struct sl_arena *arena;
    struct sl_event ev;
    struct sl_buf out;
    struct sl_config *cfg;
};

static struct fixture *fx_new(void)
{
    static struct fixture f;
    f.arena = sl_arena_new(4096);
    assert_non_null(f.arena);
    sl_event_init(&f.ev, f.arena);
    sl_buf_init(&f.out, 1 << 20);
    f.cfg = NULL;
    return &f;
}

static void fx_free(struct fixture *f)
{
    sl_arena_free(f->arena);
    sl_buf_release(&f->out);
    sl_config_free(f->cfg);
}

/* The `fields` of a config text (NULL when the text has none). */
static const struct sl_config_node *fields_of(struct fixture *f,
                                              const char *json)
{
    struct sl_err err;
    f->cfg = sl_config_load_buffer("shipper.json", json, strlen(json), &err);
    if (f->cfg == NULL)
        fail_msg("%s", err.msg);
    return sl_config_get(sl_config_root(f->cfg), "fields");
}

static void assert_json(struct fixture *f, const char *want)
{
    sl_buf_reset(&f->out);
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, NULL), 0);
    assert_string_equal(f->out.ptr, want);
}

static void le64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void test_file_line(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("web-1", NULL, &err);
    assert_non_null(b);
    struct event_source src;
    event_source_file(&src, b, 0x1234, "/var/log/app.log");
    struct event_base_record r = {SL_SLICE_LIT("GET / 200"),
                                  1234,
                                  CONTAINER_LOG_NO_TIME,
                                  CONTAINER_LOG_STREAM_NONE,
                                  false,
                                  false,
                                  false};
    struct event_meta meta;
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err), 0);
    assert_json(f,
                "{\"@timestamp\":\"2026-12-04T17:00:32.123Z\","
                "\"message\":\"GET / 200\",\"host\":{\"name\":\"web-1\"}," AGENT
                ",\"log\":{\"file\":{\"path\":\"/var/log/app.log\"},"
                "\"offset\":1234}}");
    assert_true(meta.ts_ms == T1);
    uint8_t key[8];
    char id[SL_EVENT_ID_LEN + 1];
    le64(key, 0x1234);
    struct sl_event_id_source want;
    sl_event_id_source_init(&want, "web-1", 5, key, 8);
    sl_event_id_make(&want, 1234, id);
    assert_string_equal(meta.id, id);
    /* the same record gives the same event and id, whenever it is read */
    struct event_meta again;
    assert_int_equal(
        event_base_build(b, &src, &r, T1 + 86400000, &f->ev, &again, &err), 0);
    assert_string_equal(again.id, meta.id);
    assert_true(again.ts_ms == T1 + 86400000);
    /* another offset, another id */
    r.offset = 1235;
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &again, &err),
                     0);
    assert_string_not_equal(again.id, meta.id);
    event_base_free(b);
    event_base_free(NULL);
    fx_free(f);
}

/* A docker record: the runtime's time, its stream, both tags, the fields
 * at their paths after the base fields. */
static void test_container_record_with_fields(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    const struct sl_config_node *fields = fields_of(
        f, "{\"fields\": {\"service.name\": \"shop\", \"env\": \"prod\", "
           "\"labels\": [\"a\", 2], \"team\": {\"id\": 7, \"on\": true, "
           "\"ratio\": 0.5, \"x.y\": -1e300}, \"host.ip\": \"10.0.0.1\"}}");
    struct sl_err err;
    struct event_base *b = event_base_new("node-2", fields, &err);
    if (b == NULL)
        fail_msg("%s", err.msg);
    struct event_source src;
    event_source_file(&src, b, 7, "/var/log/containers/web.log");
    struct container_log_record cr = {.text = SL_SLICE_LIT("boom \"x\""),
                                      .offset = 99,
                                      .end = 180,
                                      .time_ms = T1 - 3600000,
                                      .stream = CONTAINER_LOG_STREAM_STDERR,
                                      .parts = 2,
                                      .truncated = true,
                                      .invalid = false};
    struct event_base_record r = event_base_record_from(&cr);
    struct event_meta meta;
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err), 0);
    assert_json(
        f,
        "{\"@timestamp\":\"2026-12-04T16:00:32.123Z\","
        "\"message\":\"boom \\\"x\\\"\","
        "\"host\":{\"name\":\"node-2\",\"ip\":\"10.0.0.1\"}," AGENT ","
        "\"log\":{\"file\":{\"path\":\"/var/log/containers/web.log\"},"
        "\"offset\":99},\"stream\":\"stderr\","
        "\"service\":{\"name\":\"shop\"},\"env\":\"prod\","
        "\"labels\":[\"a\",2],"
        "\"team\":{\"id\":7,\"on\":true,\"ratio\":0.5,\"x\":{\"y\":-1e+300}},"
        "\"tags\":[\"_truncated\"]}");
    assert_true(meta.ts_ms == T1 - 3600000);
    /* a line that was not the format: raw text, tagged, the time read */
    cr = (struct container_log_record){.text = SL_SLICE_LIT("not json"),
                                       .offset = 180,
                                       .time_ms = CONTAINER_LOG_NO_TIME,
                                       .invalid = true};
    r = event_base_record_from(&cr);
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err), 0);
    assert_json(
        f,
        "{\"@timestamp\":\"2026-12-04T17:00:32.123Z\","
        "\"message\":\"not json\","
        "\"host\":{\"name\":\"node-2\",\"ip\":\"10.0.0.1\"}," AGENT ","
        "\"log\":{\"file\":{\"path\":\"/var/log/containers/web.log\"},"
        "\"offset\":180},"
        "\"service\":{\"name\":\"shop\"},\"env\":\"prod\","
        "\"labels\":[\"a\",2],"
        "\"team\":{\"id\":7,\"on\":true,\"ratio\":0.5,\"x\":{\"y\":-1e+300}},"
        "\"tags\":[\"_containerparsefailure\"]}");
    event_base_free(b);
    fx_free(f);
}

static void test_stdin(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("web-1", NULL, &err);
    assert_non_null(b);
    struct event_source src;
    event_source_stdin(&src, b, T1);
    struct event_base_record r = {SL_SLICE_LIT("hello"),
                                  42,
                                  CONTAINER_LOG_NO_TIME,
                                  CONTAINER_LOG_STREAM_NONE,
                                  false,
                                  false,
                                  false};
    struct event_meta meta;
    assert_int_equal(event_base_build(b, &src, &r, T1 + 5, &f->ev, &meta, &err),
                     0);
    assert_json(f, "{\"@timestamp\":\"2026-12-04T17:00:32.128Z\","
                   "\"message\":\"hello\",\"host\":{\"name\":\"web-1\"}," AGENT
                   "}");
    uint8_t key[13] = {'s', 't', 'd', 'i', 'n'};
    le64(key + 5, (uint64_t)T1);
    char id[SL_EVENT_ID_LEN + 1];
    struct sl_event_id_source want;
    sl_event_id_source_init(&want, "web-1", 5, key, sizeof key);
    sl_event_id_make(&want, 42, id);
    assert_string_equal(meta.id, id);
    /* never the id of a file whose key has the same bytes */
    struct event_source file;
    event_source_file(&file, b, (uint64_t)T1, "/x");
    struct event_meta fm;
    assert_int_equal(event_base_build(b, &file, &r, T1, &f->ev, &fm, &err), 0);
    assert_string_not_equal(fm.id, meta.id);
    event_base_free(b);
    fx_free(f);
}

static void test_time_out_of_range(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("h", NULL, &err);
    assert_non_null(b);
    struct event_source src;
    event_source_stdin(&src, b, 0);
    struct event_base_record r = {SL_SLICE_LIT("x"),
                                  0,
                                  SL_DATE_MAX_MS + 1,
                                  CONTAINER_LOG_STREAM_NONE,
                                  false,
                                  false,
                                  false};
    struct event_meta meta;
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err),
                     -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "event time 253402300800000 ms is outside "
                                 "years 1 to 9999");
    r.time_ms = SL_DATE_MAX_MS;
    assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err), 0);
    event_base_free(b);
    fx_free(f);
}

/* The arena is all an event costs: building the same event again after a
 * reset takes no new block. */
static void test_no_growth(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new(
        "web-1", fields_of(f, "{\"fields\":{\"a.b\":\"c\"}}"), &err);
    assert_non_null(b);
    struct event_source src;
    event_source_file(&src, b, 1, "/p");
    struct event_base_record r = {SL_SLICE_LIT("m"),
                                  1,
                                  T1,
                                  CONTAINER_LOG_STREAM_STDOUT,
                                  true,
                                  true,
                                  false};
    struct event_meta meta;
    size_t fp = 0;
    for (int i = 0; i < 1000; i++) {
        sl_arena_reset(f->arena);
        assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err),
                         0);
        if (i == 0)
            fp = sl_arena_footprint(f->arena);
        assert_int_equal(sl_arena_footprint(f->arena), fp);
    }
    event_base_free(b);
    fx_free(f);
}

/* docker records through multiline: the event has the first record's
 * time and stream, and the parse failure of a record inside it. */
static void test_joined_event(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("h", NULL, &err);
    struct record_meta_queue *q = record_meta_queue_new(16, &err);
    assert_non_null(b);
    assert_non_null(q);
    struct container_log_record first = {.text = SL_SLICE_LIT("boom"),
                                         .offset = 0,
                                         .end = 80,
                                         .time_ms = T1,
                                         .stream = CONTAINER_LOG_STREAM_STDERR};
    struct container_log_record bad = {.text = SL_SLICE_LIT("\tat {"),
                                       .offset = 80,
                                       .end = 90,
                                       .time_ms = CONTAINER_LOG_NO_TIME,
                                       .invalid = true};
    record_meta_push(q, &first);
    record_meta_push(q, &bad);
    struct multiline_event ev = {.text = SL_SLICE_LIT("boom\n\tat {"),
                                 .offset = 0,
                                 .end = 90,
                                 .lines = 2};
    struct record_meta m;
    record_meta_take(q, ev.offset, ev.end, &m);
    struct event_base_record r = event_base_record_joined(&ev, &m);
    struct event_source src;
    event_source_stdin(&src, b, 0);
    struct event_meta meta;
    assert_int_equal(event_base_build(b, &src, &r, T1 + 9, &f->ev, &meta, &err),
                     0);
    assert_json(
        f, "{\"@timestamp\":\"2026-12-04T17:00:32.123Z\","
           "\"message\":\"boom\\n\\tat {\",\"host\":{\"name\":\"h\"}," AGENT
           ",\"stream\":\"stderr\","
           "\"tags\":[\"_containerparsefailure\"]}");
    assert_true(meta.ts_ms == T1);
    record_meta_queue_free(q);
    event_base_free(b);
    fx_free(f);
}

static void check_fields_error(const char *json, const char *want)
{
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("h", fields_of(f, json), &err);
    assert_null(b);
    assert_string_equal(err.msg, want);
    fx_free(f);
}

static void test_fields_errors(void **state)
{
    (void)state;
    check_fields_error("{\"fields\": [1]}",
                       "shipper.json:1:12: fields: found an array, expected "
                       "an object");
    check_fields_error("{\"fields\": {\"tags\": \"x\"}}",
                       "shipper.json:1:21: fields.tags: 'tags' is the "
                       "shipper's own; tags come from the processors");
    check_fields_error("{\"fields\": {\"@timestamp\": 1}}",
                       "shipper.json:1:27: fields.@timestamp: "
                       "'@timestamp' is the shipper's own; set it with a "
                       "date processor");
    check_fields_error("{\"fields\": {\"a\": null}}",
                       "shipper.json:1:18: fields.a: found null, expected a "
                       "string, number, boolean, object or array");
    check_fields_error("{\"fields\": {\"a\": [{\"b\": 1}]}}",
                       "shipper.json:1:19: fields.a[0]: found an object, "
                       "expected a string, number or boolean in an array");
    check_fields_error("{\"fields\": {\"host.name.first\": \"x\"}}",
                       "shipper.json:1:32: fields[\"host.name.first\"]: field "
                       "'name' holds a value, not an object, so "
                       "'host.name.first' cannot be set");
    check_fields_error("{\"fields\": {\"a\": 1, \"a.b\": 2}}",
                       "shipper.json:1:28: fields[\"a.b\"]: field 'a' holds a "
                       "value, not an object, so 'a.b' cannot be set");
    check_fields_error("{\"fields\": {\"a..b\": 1}}",
                       "shipper.json:1:21: fields[\"a..b\"]: 'a..b' is not a "
                       "field name: field reference 'a..b' has an empty name");
}

/* A line cut at its limit in the middle of a character keeps only whole
 * characters: its message is never longer than the limit (a split
 * character would have come out as a 3-byte U+FFFD). Whole characters,
 * ASCII, and lines that were not cut are kept as they are. */
static void test_cut_inside_a_character(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool truncated;
        const char *message;
    } cases[] = {
        {"ab\xc3", true, "ab"},             /* é cut after 1 of 2 */
        {"ab\xe2\x82", true, "ab"},         /* € cut after 2 of 3 */
        {"ab\xf0\x9f\x98", true, "ab"},     /* 😀 cut after 3 of 4 */
        {"ab\xc3\xa9", true, "ab\xc3\xa9"}, /* é whole */
        {"ab\xf0\x9f\x98\x80", true, "ab\xf0\x9f\x98\x80"},
        {"abc", true, "abc"},
        {"ab\xc3", false, "ab\xef\xbf\xbd"}, /* not cut: U+FFFD */
    };
    struct fixture *f = fx_new();
    struct sl_err err;
    struct event_base *b = event_base_new("h", NULL, &err);
    assert_non_null(b);
    struct event_source src;
    event_source_file(&src, b, 1, "/x");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct event_base_record r = {
            .message = {cases[i].text, strlen(cases[i].text)},
            .time_ms = CONTAINER_LOG_NO_TIME,
            .stream = CONTAINER_LOG_STREAM_NONE,
            .truncated = cases[i].truncated};
        struct event_meta meta;
        assert_int_equal(event_base_build(b, &src, &r, T1, &f->ev, &meta, &err),
                         0);
        sl_buf_reset(&f->out);
        assert_int_equal(sl_event_write_json(&f->ev, &f->out, NULL), 0);
        char want[64];
        snprintf(want, sizeof want, "\"message\":\"%s\"", cases[i].message);
        if (strstr(f->out.ptr, want) == NULL)
            fail_msg("case %zu: %s lacks %s", i, f->out.ptr, want);
    }
    event_base_free(b);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_line),
        cmocka_unit_test(test_container_record_with_fields),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_time_out_of_range),
        cmocka_unit_test(test_no_growth),
        cmocka_unit_test(test_joined_event),
        cmocka_unit_test(test_fields_errors),
        cmocka_unit_test(test_cut_inside_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
