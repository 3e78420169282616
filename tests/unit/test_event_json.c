/* test_event_json.c: the JSON writer's escaping (control characters, NUL,
 * invalid UTF-8 -> U+FFFD, valid multi-byte kept), number formatting, and the
 * event tree: nesting, Logstash's array promotion, tags, conflicts, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_arena.h"
#include "sl_event.h"
#include "sl_json.h"

static const char *json_string(const char *s, size_t len)
{
    static struct sl_buf b = SL_BUF_INIT(1 << 20);
    sl_buf_reset(&b);
    assert_int_equal(sl_json_write_string(&b, s, len, NULL), 0);
    return b.ptr;
}

static void strings_are_escaped(void **state)
{
    (void)state;
    assert_string_equal(json_string("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    assert_string_equal(json_string("\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
    assert_string_equal(json_string("\x01\x1f\x7f", 3),
                        "\"\\u0001\\u001f\x7f\"");
    assert_string_equal(json_string("a\0b", 3), "\"a\\u0000b\"");
}

static void utf8_is_kept_and_invalid_bytes_replaced(void **state)
{
    (void)state;
    /* é, €, 😀 kept as they are */
    assert_string_equal(json_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    /* lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF */
    assert_string_equal(json_string("\x80", 1), "\"\xef\xbf\xbd\"");
    assert_string_equal(json_string("\xe2\x82", 2),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(json_string("\xc0\xaf", 2),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(json_string("\xed\xa0\x80", 3),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(json_string("\xf4\x90\x80\x80", 4),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void doubles_format_shortest(void **state)
{
    char out[64];
    (void)state;
    sl_json_format_double(3.0, out, sizeof out);
    assert_string_equal(out, "3.0");
    sl_json_format_double(0.1, out, sizeof out);
    assert_string_equal(out, "0.1");
    sl_json_format_double(1e300, out, sizeof out);
    assert_string_equal(out, "1e+300");
    sl_json_format_double(1.0 / 0.0, out, sizeof out);
    assert_string_equal(out, "null");
}

struct fx {
    struct sl_arena *arena;
    struct sl_event ev;
    struct sl_buf out;
    struct sl_fieldpath p[4];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->arena = sl_arena_new(1024);
    sl_event_init(&f->ev, f->arena);
    sl_buf_init(&f->out, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 4; i++)
        sl_fieldpath_release(&f->p[i]);
    sl_arena_free(f->arena);
    sl_buf_release(&f->out);
    free(f);
    return 0;
}

static const char *written(struct fx *f)
{
    sl_buf_reset(&f->out);
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, NULL), 0);
    return f->out.ptr;
}

static void paths_nest_and_keep_order(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        sl_fieldpath_parse(&f->p[0], "[http][response][status_code]", 29, NULL),
        0);
    assert_int_equal(
        sl_fieldpath_parse(&f->p[1], "http.request.method", 19, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[2], "@timestamp", 10, NULL), 0);
    sl_event_put_top(&f->ev, "message", SL_VALUE_STRING, "m", 1, NULL);
    sl_event_add(&f->ev, &f->p[0], SL_VALUE_NUMBER, "200", 3, NULL);
    sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "GET", 3, NULL);
    sl_event_put(&f->ev, &f->p[2], SL_VALUE_STRING, "t", 1, NULL);
    assert_string_equal(written(f),
                        "{\"message\":\"m\",\"http\":{\"response\":{\"status_"
                        "code\":200},\"request\":{\"method\":\"GET\"}},"
                        "\"@timestamp\":\"t\"}");
}

static void add_promotes_to_array_and_put_overwrites(void **state)
{
    struct fx *f = *state;
    sl_fieldpath_parse(&f->p[0], "x", 1, NULL);
    sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "a", 1, NULL);
    sl_event_add(&f->ev, &f->p[0], SL_VALUE_NUMBER, "2", 1, NULL);
    sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "c", 1, NULL);
    assert_string_equal(written(f), "{\"x\":[\"a\",2,\"c\"]}");
    sl_event_put(&f->ev, &f->p[0], SL_VALUE_BOOL, "true", 4, NULL);
    assert_string_equal(written(f), "{\"x\":true}");
}

static void conflicts_fail_and_change_nothing(void **state)
{
    struct fx *f = *state;
    struct sl_err err;
    sl_fieldpath_parse(&f->p[0], "a", 1, NULL);
    sl_fieldpath_parse(&f->p[1], "a.b", 3, NULL);
    sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "v", 1, NULL);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "w", 1, &err), -1);
    assert_string_equal(err.msg, "field 'a' holds a value, not an object, so "
                                 "'a.b' cannot be set");
    assert_string_equal(written(f), "{\"a\":\"v\"}");
}

static void tags_are_unique_and_ordered(void **state)
{
    struct fx *f = *state;
    sl_event_add_tag(&f->ev, "_grokparsefailure", NULL);
    sl_event_add_tag(&f->ev, "_truncated", NULL);
    sl_event_add_tag(&f->ev, "_grokparsefailure", NULL);
    assert_true(sl_event_has_tag(&f->ev, "_truncated"));
    assert_false(sl_event_has_tag(&f->ev, "_dateparsefailure"));
    assert_string_equal(written(f),
                        "{\"tags\":[\"_grokparsefailure\",\"_truncated\"]}");
}

static void bad_field_references_are_rejected(void **state)
{
    struct sl_fieldpath p;
    struct sl_err err;
    (void)state;
    const char *bad[] = {"", "[]", "[a]b", "a..b", "a[b]", "[a][b", ".a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sl_fieldpath_parse(&p, bad[i], strlen(bad[i]), &err),
                         -1);
    assert_int_equal(sl_fieldpath_parse(&p, "a[b]", 4, &err), -1);
    assert_string_equal(err.msg, "field reference 'a[b]' mixes names and "
                                 "brackets; write [a][b] or a.b");
    assert_int_equal(sl_fieldpath_parse(&p, "[a][b][c]", 9, &err), 0);
    assert_int_equal(p.nseg, 3);
    sl_fieldpath_release(&p);
}

static void buffer_limit_is_an_error_not_an_overflow(void **state)
{
    struct sl_buf b = SL_BUF_INIT(8);
    struct sl_err err;
    (void)state;
    assert_int_equal(sl_json_write_string(&b, "abcdefghij", 10, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_true(b.len <= 8);
    sl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(utf8_is_kept_and_invalid_bytes_replaced),
        cmocka_unit_test(doubles_format_shortest),
        cmocka_unit_test_setup_teardown(paths_nest_and_keep_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            add_promotes_to_array_and_put_overwrites, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts_fail_and_change_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(tags_are_unique_and_ordered, setup,
                                        teardown),
        cmocka_unit_test(bad_field_references_are_rejected),
        cmocka_unit_test(buffer_limit_is_an_error_not_an_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
