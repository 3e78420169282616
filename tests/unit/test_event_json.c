/* test_event_json.c: the JSON writer's escaping (control characters, NUL,
 * invalid UTF-8 -> U+FFFD, valid multi-byte kept; the 8-byte fast path and
 * the checked path near a buffer's limit, against a byte-at-a-time
 * reference), number formatting, the event tree (nesting, Logstash's array
 * promotion, tags, conflicts, limits, paths sharing prefixes),
 * and the arena under it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_reference.h"
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

/* Random strings from an alphabet rich in bytes that need care, at every
 * length around the 8-byte words: the fast path, the word at the end of the
 * string, and the checked path (a buffer whose maximum is the exact size,
 * then one byte less) all give the reference's bytes, or a clean error. */
static void string_writer_matches_reference(void **state)
{
    static const unsigned char alphabet[] = {
        'a',  'z',  ' ',  '"',  '\\', '\n', 1,    0,    0x7f, 0xc3,
        0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc0};
    unsigned char in[48];
    char want[48 * 6 + 2];
    uint64_t x = 0x9e3779b97f4a7c15u;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)round % sizeof in;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Mostly plain bytes, so 8-byte runs happen. */
            in[i] = x % 4 ? (unsigned char)('a' + x % 26)
                          : alphabet[(x >> 8) % sizeof alphabet];
        }
        size_t n = json_reference_string(in, len, want);
        struct sl_buf fast = SL_BUF_INIT(1 << 20);
        struct sl_buf exact = SL_BUF_INIT(n);
        struct sl_buf short_by_one = SL_BUF_INIT(n - 1);
        struct sl_err err;
        assert_int_equal(
            sl_json_write_string(&fast, (const char *)in, len, NULL), 0);
        assert_int_equal(fast.len, n);
        assert_memory_equal(fast.ptr, want, n);
        assert_int_equal(
            sl_json_write_string(&exact, (const char *)in, len, NULL), 0);
        assert_int_equal(exact.len, n);
        assert_memory_equal(exact.ptr, want, n);
        assert_int_equal(
            sl_json_write_string(&short_by_one, (const char *)in, len, &err),
            -1);
        assert_int_equal(err.status, SL_ELIMIT);
        sl_buf_release(&fast);
        sl_buf_release(&exact);
        sl_buf_release(&short_by_one);
    }
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
    assert_int_equal(
        sl_event_put_top(&f->ev, "message", SL_VALUE_STRING, "m", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_NUMBER, "200", 3, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "GET", 3, NULL), 0);
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[2], SL_VALUE_STRING, "t", 1, NULL), 0);
    assert_string_equal(written(f),
                        "{\"message\":\"m\",\"http\":{\"response\":{\"status_"
                        "code\":200},\"request\":{\"method\":\"GET\"}},"
                        "\"@timestamp\":\"t\"}");
}

static void add_promotes_to_array_and_put_overwrites(void **state)
{
    struct fx *f = *state;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "x", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "a", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_NUMBER, "2", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "c", 1, NULL), 0);
    assert_string_equal(written(f), "{\"x\":[\"a\",2,\"c\"]}");
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_BOOL, "true", 4, NULL), 0);
    assert_string_equal(written(f), "{\"x\":true}");
}

static void conflicts_fail_and_change_nothing(void **state)
{
    struct fx *f = *state;
    struct sl_err err;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "a", 1, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "a.b", 3, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "v", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "w", 1, &err), -1);
    assert_string_equal(err.msg, "field 'a' holds a value, not an object, so "
                                 "'a.b' cannot be set");
    assert_string_equal(written(f), "{\"a\":\"v\"}");
}

/* Paths sharing prefixes meet in the same objects, in first-set order; a
 * value where an object is needed, or the reverse, fails and says where,
 * also after a top-level overwrite. */
static void paths_sharing_a_prefix_build_the_same_tree(void **state)
{
    struct fx *f = *state;
    struct sl_fieldpath q[4];
    struct sl_err err;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "[a][b][c]", 9, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "a.b.d", 5, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[2], "a.e", 3, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[3], "x", 1, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&q[0], "a.b", 3, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&q[1], "a.b.c", 5, NULL),
                     0); /* other bytes, same path */
    assert_int_equal(sl_fieldpath_parse(&q[2], "a.b.f", 5, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&q[3], "[a][b][f][g]", 12, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "1", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "2", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[2], SL_VALUE_STRING, "3", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[3], SL_VALUE_STRING, "4", 1, NULL), 0);
    assert_int_equal(sl_event_add(&f->ev, &q[1], SL_VALUE_STRING, "5", 1, NULL),
                     0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "6", 1, NULL), 0);
    assert_string_equal(written(f), "{\"a\":{\"b\":{\"c\":[\"1\",\"5\",\"6\"],"
                                    "\"d\":\"2\"},\"e\":\"3\"},\"x\":\"4\"}");
    /* a.b is an object: adding a value to it fails, as from the root. */
    assert_int_equal(sl_event_add(&f->ev, &q[0], SL_VALUE_STRING, "7", 1, &err),
                     -1);
    assert_string_equal(err.msg, "field 'a.b' holds an object; a value "
                                 "cannot be added to it");
    /* A leaf of the last path becomes an object's parent... */
    assert_int_equal(sl_event_add(&f->ev, &q[2], SL_VALUE_STRING, "8", 1, NULL),
                     0);
    assert_int_equal(sl_event_add(&f->ev, &q[3], SL_VALUE_STRING, "9", 1, &err),
                     -1);
    assert_string_equal(err.msg, "field 'f' holds a value, not an object, so "
                                 "'[a][b][f][g]' cannot be set");
    /* ...and a top-level overwrite drops what the last path went through. */
    assert_int_equal(
        sl_event_add(&f->ev, &q[1], SL_VALUE_STRING, "10", 2, NULL), 0);
    assert_int_equal(
        sl_event_put_top(&f->ev, "a", SL_VALUE_STRING, "flat", 4, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &q[2], SL_VALUE_STRING, "11", 2, &err), -1);
    assert_string_equal(err.msg, "field 'a' holds a value, not an object, so "
                                 "'a.b.f' cannot be set");
    assert_string_equal(written(f), "{\"a\":\"flat\",\"x\":\"4\"}");
    for (int i = 0; i < 4; i++)
        sl_fieldpath_release(&q[i]);
}

/* Keys that need escaping are escaped; plain keys are copied. */
static void keys_are_escaped_when_they_need_it(void **state)
{
    struct fx *f = *state;
    static const char ref[] = "[a\"b][\xc3\xa9][\x01]";
    assert_int_equal(sl_fieldpath_parse(&f->p[0], ref, sizeof ref - 1, NULL),
                     0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "v", 1, NULL), 0);
    assert_int_equal(
        sl_event_put_top(&f->ev, "t\tab", SL_VALUE_NUMBER, "1", 1, NULL), 0);
    assert_string_equal(written(f), "{\"a\\\"b\":{\"\xc3\xa9\":{\"\\u0001\":"
                                    "\"v\"}},\"t\\tab\":1}");
}

/* Allocations are aligned, survive a block change, a request larger than a
 * block gets its own, and a reset keeps one block for reuse. */
static void arena_allocates_aligned_across_blocks(void **state)
{
    struct sl_arena *a = sl_arena_new(256);
    char *p[64];
    (void)state;
    for (int i = 0; i < 64; i++) {
        p[i] = sl_arena_alloc(a, (size_t)i + 1);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % SL_ARENA_ALIGN, 0);
        memset(p[i], i, (size_t)i + 1);
    }
    char *big = sl_arena_alloc(a, 10000);
    assert_non_null(big);
    memset(big, 0xab, 10000);
    char *after = sl_arena_calloc(a, 40);
    assert_non_null(after);
    for (int i = 0; i < 40; i++)
        assert_int_equal(after[i], 0);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j <= i; j++)
            assert_int_equal(p[i][j], i);
    assert_true(sl_arena_footprint(a) > 10000);
    sl_arena_reset(a);
    assert_true(sl_arena_footprint(a) < 1024);
    char *again = sl_arena_strndup(a, "abc", 3);
    assert_string_equal(again, "abc");
    assert_non_null(sl_arena_alloc(a, 0));
    sl_arena_free(a);
}

/* A "tags" value captured from the line stays, as the first element. */
static void captured_tags_value_is_kept_when_tagging(void **state)
{
    struct fx *f = *state;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "tags", 4, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "web", 3, NULL), 0);
    assert_int_equal(sl_event_add_tag(&f->ev, "_grokparsefailure", NULL), 0);
    assert_string_equal(written(f),
                        "{\"tags\":[\"web\",\"_grokparsefailure\"]}");
    sl_event_reset(&f->ev);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_NUMBER, "7", 1, NULL), 0);
    assert_int_equal(sl_event_add_tag(&f->ev, "_truncated", NULL), 0);
    assert_string_equal(written(f), "{\"tags\":[7,\"_truncated\"]}");
}

/* A capture into [tags][x] goes to [_tags][x], with _tagsparsefailure, as
 * Logstash 8.7+ does; tagging such an event used to empty "tags" into []
 * and lose x. */
static void a_path_into_tags_goes_to_underscore_tags(void **state)
{
    struct fx *f = *state;
    struct sl_err err;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "[tags][x]", 9, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "abc", 3, NULL), 0);
    assert_string_equal(written(f), "{\"tags\":[\"_tagsparsefailure\"],"
                                    "\"_tags\":{\"x\":\"abc\"}}");
    assert_int_equal(sl_event_add_tag(&f->ev, "_truncated", NULL), 0);
    assert_true(sl_event_has_tag(&f->ev, "_truncated"));
    assert_string_equal(written(f),
                        "{\"tags\":[\"_tagsparsefailure\",\"_truncated\"],"
                        "\"_tags\":{\"x\":\"abc\"}}");

    /* "_tags" already holds a value: a conflict, and nothing is lost. */
    sl_event_reset(&f->ev);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "_tags", 5, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "old", 3, NULL), 0);
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_NUMBER, "1", 1, &err), -1);
    assert_string_equal(err.msg, "field '_tags' holds a value, not an object, "
                                 "so '[tags][x]' cannot be set");
    assert_string_equal(written(f), "{\"_tags\":\"old\",\"tags\":["
                                    "\"_tagsparsefailure\"]}");
}

/* A "tags" object made some other way (a decoder building the tree) is
 * moved to "_tags" when the event is tagged, appended if "_tags" is set. */
static void a_tags_object_moves_aside_when_tagging(void **state)
{
    struct fx *f = *state;
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "[t][x]", 6, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "t", 1, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[2], "_tags", 5, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[2], SL_VALUE_STRING, "old", 3, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "abc", 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->key = SL_SLICE_LIT("tags");
    assert_int_equal(sl_event_add_tag(&f->ev, "_truncated", NULL), 0);
    assert_string_equal(written(f),
                        "{\"_tags\":[\"old\",{\"x\":\"abc\"}],\"tags\":["
                        "\"_tagsparsefailure\",\"_truncated\"]}");
    sl_event_reset(&f->ev);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "abc", 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->key = SL_SLICE_LIT("tags");
    assert_int_equal(sl_event_add_tag(&f->ev, "_truncated", NULL), 0);
    assert_string_equal(written(f),
                        "{\"tags\":[\"_tagsparsefailure\",\"_truncated\"],"
                        "\"_tags\":{\"x\":\"abc\"}}");
}

static void tags_are_unique_and_ordered(void **state)
{
    struct fx *f = *state;
    assert_int_equal(sl_event_add_tag(&f->ev, "_grokparsefailure", NULL), 0);
    assert_int_equal(sl_event_add_tag(&f->ev, "_truncated", NULL), 0);
    assert_int_equal(sl_event_add_tag(&f->ev, "_grokparsefailure", NULL), 0);
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

/* A value marked rendered is written from the table only while it is node
 * for node the table's shape: the table's JSON here differs from the
 * value's on purpose, so the output shows which way was taken. */
static void rendered_values_are_used_only_while_unchanged(void **state)
{
    struct fx *f = *state;
    static const char web[] = "web", db[] = "db";
    struct sl_event shape;
    sl_event_init(&shape, f->arena);
    assert_int_equal(sl_fieldpath_parse(&f->p[0], "host.name", 9, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "host", 4, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[2], "host.ip", 7, NULL), 0);
    assert_int_equal(
        sl_event_put(&shape, &f->p[0], SL_VALUE_STRING, web, 3, NULL), 0);
    const struct sl_value_json table[1] = {
        {sl_event_get(&shape, &f->p[1]), "{\"name\":\"R\"}", 12}};
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_STRING, web, 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->rendered = 1;
    /* no table yet: the walk */
    assert_string_equal(written(f), "{\"host\":{\"name\":\"web\"}}");
    sl_event_set_rendered(&f->ev, table, 1);
    assert_string_equal(written(f), "{\"host\":{\"name\":\"R\"}}");
    /* the same bytes at another address: not trusted */
    char copy[] = "web";
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_STRING, copy, 3, NULL), 0);
    assert_string_equal(written(f), "{\"host\":{\"name\":\"web\"}}");
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_STRING, db, 2, NULL), 0);
    assert_string_equal(written(f), "{\"host\":{\"name\":\"db\"}}");
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_STRING, web, 3, NULL), 0);
    assert_string_equal(written(f), "{\"host\":{\"name\":\"R\"}}");
    /* a member more, or a scalar type in place of a string */
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[2], SL_VALUE_STRING, "1", 1, NULL), 0);
    assert_string_equal(written(f),
                        "{\"host\":{\"name\":\"web\",\"ip\":\"1\"}}");
    sl_event_reset(&f->ev);
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_NUMBER, web, 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->rendered = 1;
    assert_string_equal(written(f), "{\"host\":{\"name\":web}}");
    /* an index past the table */
    sl_event_reset(&f->ev);
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[0], SL_VALUE_STRING, web, 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->rendered = 2;
    assert_string_equal(written(f), "{\"host\":{\"name\":\"web\"}}");
    /* the whole value replaced by a scalar */
    assert_int_equal(
        sl_event_put(&f->ev, &f->p[1], SL_VALUE_STRING, web, 3, NULL), 0);
    sl_event_get(&f->ev, &f->p[1])->rendered = 1;
    assert_string_equal(written(f), "{\"host\":\"web\"}");
}

/* One step of add_under_builds_what_add_builds on both events. */
struct twin {
    struct sl_event *by_add, *by_under;
    struct sl_value **tops;
    uint64_t held;
};

static void add_both(struct twin *t, const struct sl_fieldpath *p, int top,
                     const char *v)
{
    struct sl_err e1 = {0}, e2 = {0};
    int r1 = sl_event_add(t->by_add, p, SL_VALUE_STRING, v, strlen(v), &e1);
    int r2;
    if (top < 0) {
        /* a path into tags: either way, and its *top stays untouched */
        struct sl_value *none = NULL;
        r2 = v[0] == 'v'
                 ? sl_event_add(t->by_under, p, SL_VALUE_STRING, v, strlen(v),
                                &e2)
                 : sl_event_add_under(t->by_under, &none, false, p,
                                      SL_VALUE_STRING, v, strlen(v), &e2);
        assert_null(none);
        t->held = ~UINT64_C(0);
    } else {
        r2 = sl_event_add_under(t->by_under, &t->tops[top],
                                (t->held & sl_event_key_bit(p->seg[0])) == 0, p,
                                SL_VALUE_STRING, v, strlen(v), &e2);
    }
    assert_int_equal(r1, r2);
    if (r1 < 0) {
        assert_int_equal(e1.status, e2.status);
        assert_string_equal(e1.msg, e2.msg);
    }
}

/* sl_event_add_under, used as grok uses it (one *top per first segment,
 * absent from sl_event_root_keys, a path into tags through sl_event_add
 * and every name unknown after it), builds the tree sl_event_add builds,
 * with the same results and messages: random paths over a few names, into
 * events whose root already holds some of them as values or objects. */
static void add_under_builds_what_add_builds(void **state)
{
    static const char *const refs[] = {
        "a",       "a.b",   "a.b.c",     "a.d",         "b",
        "b.x",     "tags",  "[tags][x]", "_tags",       "_tags.y",
        "message", "c.d.e", "c",         "http.version"};
    enum { NREFS = sizeof refs / sizeof refs[0] };
    struct fieldpaths {
        struct sl_fieldpath p[NREFS];
        int top[NREFS];
    } fp;
    struct sl_arena *arena = sl_arena_new(4096);
    struct sl_event e1, e2;
    struct sl_buf b1 = SL_BUF_INIT(1 << 20), b2 = SL_BUF_INIT(1 << 20);
    uint64_t x = 0x2545f4914f6cdd1du;
    (void)state;
    int ntops = 0;
    for (int i = 0; i < NREFS; i++) {
        assert_int_equal(
            sl_fieldpath_parse(&fp.p[i], refs[i], strlen(refs[i]), NULL), 0);
        struct sl_slice first = fp.p[i].seg[0];
        fp.top[i] = -1;
        if (fp.p[i].nseg > 1 && sl_slice_eq(first, "tags", 4))
            continue;
        for (int j = 0; j < i && fp.top[i] < 0; j++)
            if (fp.top[j] >= 0 &&
                sl_slice_eq(fp.p[j].seg[0], first.ptr, first.len))
                fp.top[i] = fp.top[j];
        if (fp.top[i] < 0)
            fp.top[i] = ntops++;
    }
    for (int round = 0; round < 3000; round++) {
        struct sl_value *tops[NREFS] = {NULL};
        sl_arena_reset(arena);
        sl_event_init(&e1, arena);
        sl_event_init(&e2, arena);
        struct twin t = {&e1, &e2, tops, 0};
        /* the root before: a few members, set the usual way on both */
        for (int k = round % 4; k > 0; k--) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const struct sl_fieldpath *p = &fp.p[x % NREFS];
            assert_int_equal(sl_event_put(&e1, p, SL_VALUE_STRING, "r", 1,
                                          &(struct sl_err){0}) == 0,
                             sl_event_put(&e2, p, SL_VALUE_STRING, "r", 1,
                                          &(struct sl_err){0}) == 0);
            if (x % 7 == 0) {
                assert_int_equal(sl_event_add_tag(&e1, "_t", NULL), 0);
                assert_int_equal(sl_event_add_tag(&e2, "_t", NULL), 0);
            }
        }
        t.held = sl_event_root_keys(&e2);
        for (const struct sl_value *m = e2.root.first; m != NULL; m = m->next)
            assert_true(t.held & sl_event_key_bit(m->key));
        for (int k = 1 + round % 9; k > 0; k--) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int i = (int)(x % NREFS);
            add_both(&t, &fp.p[i], fp.top[i], k % 2 ? "v" : "w");
        }
        sl_buf_reset(&b1);
        sl_buf_reset(&b2);
        assert_int_equal(sl_event_write_json(&e1, &b1, NULL), 0);
        assert_int_equal(sl_event_write_json(&e2, &b2, NULL), 0);
        assert_string_equal(b1.ptr, b2.ptr);
    }
    for (int i = 0; i < NREFS; i++)
        sl_fieldpath_release(&fp.p[i]);
    sl_buf_release(&b1);
    sl_buf_release(&b2);
    sl_arena_free(arena);
}

/* An event written into a buffer of every maximum from 0 up: below its
 * length a clean SL_ELIMIT, from its length on the same bytes as into a
 * large buffer. Near the limit string members are written piece by piece
 * (their worst case does not fit), so this compares that way with the one
 * that reserves a whole member at once. */
static void event_written_at_every_buffer_limit(void **state)
{
    struct fx *f = *state;
    static const char msg[] =
        "1.2.3.4 - \"GET /a\\b HTTP/1.1\" \x01 caf\xc3\xa9 "
        "\xff end of a line longer than sixteen bytes";
    assert_int_equal(
        sl_fieldpath_parse(&f->p[0], "http.request.method", 19, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[1], "[a\"b]", 5, NULL), 0);
    assert_int_equal(
        sl_fieldpath_parse(&f->p[2], "user_agent.original", 19, NULL), 0);
    assert_int_equal(sl_event_put_top(&f->ev, "message", SL_VALUE_STRING, msg,
                                      sizeof msg - 1, NULL),
                     0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[0], SL_VALUE_STRING, "GET", 3, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[1], SL_VALUE_STRING, "q\"", 2, NULL), 0);
    assert_int_equal(sl_fieldpath_parse(&f->p[3], "e", 1, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[3], SL_VALUE_STRING, "", 0, NULL), 0);
    assert_int_equal(
        sl_event_add(&f->ev, &f->p[2], SL_VALUE_STRING, "Mozilla/", 8, NULL),
        0);
    assert_int_equal(sl_event_add_tag(&f->ev, "_x", NULL), 0);
    const char *want = written(f);
    size_t n = strlen(want);
    assert_string_equal(
        want,
        "{\"message\":\"1.2.3.4 - \\\"GET /a\\\\b HTTP/1.1\\\" \\u0001 "
        "caf\xc3\xa9 \xef\xbf\xbd end of a line longer than sixteen bytes\","
        "\"http\":{\"request\":{\"method\":\"GET\"}},\"a\\\"b\":\"q\\\"\","
        "\"e\":\"\",\"user_agent\":{\"original\":\"Mozilla/\"},"
        "\"tags\":[\"_x\"]}");
    for (size_t max = 0; max <= n + 8; max++) {
        struct sl_buf b = SL_BUF_INIT(max);
        struct sl_err err = {0};
        int rc = sl_event_write_json(&f->ev, &b, &err);
        if (max < n) {
            assert_int_equal(rc, -1);
            assert_int_equal(err.status, SL_ELIMIT);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(b.len, n);
            assert_memory_equal(b.ptr, want, n);
        }
        sl_buf_release(&b);
    }
}

/* sl_json_escaped_len and sl_json_care_list count what the escaper
 * writes: random strings of bytes that need care, at every length around
 * the 16-byte blocks, ASCII and not. */
static void escaped_lengths_match_the_escaper(void **state)
{
    static const unsigned char alphabet[] = {
        'a',  ' ',  '"',  '\\', '\n', '\b', 1,    0,    0x1f, 0x7f, 0xc3, 0xa9,
        0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 'z',  'q',  'x',  '/'};
    char in[80];
    uint32_t at[80];
    uint8_t extra[80];
    uint64_t r = 12345;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)round % 70;
        bool ascii = round % 3 != 0;
        for (size_t i = 0; i < len; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            unsigned k = (unsigned)(r >> 33) % sizeof alphabet;
            if (ascii && alphabet[k] >= 0x80)
                k = 0;
            /* mostly plain: runs of blocks with no escape */
            in[i] = (char)((r >> 50) % 4 == 0 ? alphabet[k] : 'm');
        }
        const char *json = json_string(in, len);
        size_t want = strlen(json) - 2;
        assert_int_equal(sl_json_escaped_len(in, len), want);
        size_t n = sl_json_care_list(in, len, at, extra, 80);
        if (n == SIZE_MAX) {
            bool hi = false;
            for (size_t i = 0; i < len; i++)
                hi |= (unsigned char)in[i] >= 0x80;
            assert_true(hi);
            continue;
        }
        size_t sum = len, j = 0;
        for (size_t i = 0; i < n; i++)
            sum += extra[i];
        assert_int_equal(sum, want);
        /* the list names each byte that needs care, in order */
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)in[i];
            if (c < 0x20 || c == '"' || c == '\\') {
                assert_true(j < n);
                assert_int_equal(at[j], i);
                assert_int_equal(extra[j], strlen(json_string(in + i, 1)) - 3);
                j++;
            }
        }
        assert_int_equal(j, n);
    }
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
        cmocka_unit_test_setup_teardown(
            a_path_into_tags_goes_to_underscore_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(a_tags_object_moves_aside_when_tagging,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(tags_are_unique_and_ordered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            captured_tags_value_is_kept_when_tagging, setup, teardown),
        cmocka_unit_test_setup_teardown(
            paths_sharing_a_prefix_build_the_same_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_are_escaped_when_they_need_it,
                                        setup, teardown),
        cmocka_unit_test(string_writer_matches_reference),
        cmocka_unit_test(arena_allocates_aligned_across_blocks),
        cmocka_unit_test(bad_field_references_are_rejected),
        cmocka_unit_test(buffer_limit_is_an_error_not_an_overflow),
        cmocka_unit_test_setup_teardown(
            rendered_values_are_used_only_while_unchanged, setup, teardown),
        cmocka_unit_test(add_under_builds_what_add_builds),
        cmocka_unit_test_setup_teardown(event_written_at_every_buffer_limit,
                                        setup, teardown),
        cmocka_unit_test(escaped_lengths_match_the_escaper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
