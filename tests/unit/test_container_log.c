/* test_container_log.c: Docker json-file and CRI logs turned back into the
 * container's lines, as the shipper relies on it.
 *
 * Every case is a whole file (bytes as the runtime writes them) and the
 * exact records it must give: text, offsets, time, stream, parts, flags.
 * Each runs through line_reader fed in chunks of 1, 2, 3, 7, 64 bytes and
 * whole, with a consumer that pulls after each push and one that pulls only
 * when a push is refused, checking at every step that done_offset never
 * goes back and never passes the record peeked. Then the pieces alone:
 * RFC 3339 times, the line limit, the push contract, records as
 * multiline's input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container_log.h"
#include "line_reader.h"
#include "multiline.h"
#include "record_meta.h"
#include "sl_rfc3339.h"

#define T1   1796403632123LL /* 2026-12-04T17:00:32.123Z */
#define NONE CONTAINER_LOG_NO_TIME
#define OUT  CONTAINER_LOG_STREAM_STDOUT
#define ERR  CONTAINER_LOG_STREAM_STDERR
#define NOS  CONTAINER_LOG_STREAM_NONE

#define MAX_RECS 64

struct rec {
    const char *text;
    size_t len; /* 0: strlen(text) */
    uint64_t offset, end;
    int64_t time_ms;
    enum container_log_stream stream;
    uint32_t parts;
    bool truncated, invalid;
};

struct got {
    struct container_log_record r[MAX_RECS];
    char *texts[MAX_RECS];
    size_t n;
    uint64_t done;
};

static void see_done(struct container_log *cl, struct got *g)
{
    uint64_t d = container_log_done_offset(cl);
    assert_true(d >= g->done);
    g->done = d;
}

static bool pull_one(struct container_log *cl, struct got *g)
{
    struct container_log_record r, again;
    see_done(cl, g);
    if (!container_log_peek(cl, &r))
        return false;
    see_done(cl, g);
    assert_true(g->done <= r.offset);
    assert_true(container_log_peek(cl, &again));
    assert_ptr_equal(again.text.ptr, r.text.ptr);
    assert_true(g->n < MAX_RECS);
    char *t = malloc(r.text.len + 1);
    assert_non_null(t);
    memcpy(t, r.text.ptr, r.text.len);
    t[r.text.len] = '\0';
    g->r[g->n] = r;
    g->r[g->n].text.ptr = t;
    g->texts[g->n++] = t;
    container_log_pop(cl);
    see_done(cl, g);
    return true;
}

static void push(struct container_log *cl, struct got *g,
                 const struct line_reader *lr, struct sl_slice l, bool cut,
                 bool lazy)
{
    struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                  line_reader_line_end(lr), cut};
    bool none = false;
    while (!container_log_push(cl, &line)) {
        assert_false(none); /* once peek said none, the push is taken */
        none = !pull_one(cl, g);
    }
    if (!lazy)
        while (pull_one(cl, g))
            ;
}

/* The whole input through line_reader in chunks, then the flush. */
static void run(enum container_log_format fmt, size_t max_bytes, const char *in,
                size_t in_len, size_t chunk, bool lazy, struct got *g,
                struct container_log_stats *st)
{
    memset(g, 0, sizeof *g);
    struct container_log *cl = container_log_new(fmt, max_bytes, NULL);
    struct line_reader *lr =
        line_reader_new(container_log_line_limit(fmt, max_bytes));
    assert_non_null(cl);
    assert_non_null(lr);
    struct sl_slice l;
    bool cut;
    for (size_t pos = 0; pos < in_len; pos += chunk) {
        size_t n = in_len - pos < chunk ? in_len - pos : chunk;
        assert_int_equal(line_reader_feed(lr, in + pos, n, NULL), 0);
        while (line_reader_next(lr, &l, &cut))
            push(cl, g, lr, l, cut, lazy);
    }
    if (line_reader_finish(lr, &l, &cut))
        push(cl, g, lr, l, cut, lazy);
    container_log_flush(cl);
    while (pull_one(cl, g))
        ;
    assert_int_equal(container_log_done_offset(cl), in_len);
    *st = *container_log_stats(cl);
    container_log_free(cl);
    line_reader_free(lr);
}

static void release(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->texts[i]);
}

static void check_recs(const struct got *g, const struct rec *want, size_t n)
{
    assert_int_equal(g->n, n);
    for (size_t i = 0; i < n; i++) {
        const struct container_log_record *r = &g->r[i];
        size_t len = want[i].len ? want[i].len : strlen(want[i].text);
        assert_int_equal(r->text.len, len);
        assert_memory_equal(r->text.ptr, want[i].text, len);
        assert_int_equal(r->offset, want[i].offset);
        assert_int_equal(r->end, want[i].end);
        assert_true(r->time_ms == want[i].time_ms);
        assert_int_equal(r->stream, want[i].stream);
        assert_int_equal(r->parts, want[i].parts);
        assert_int_equal(r->truncated, want[i].truncated);
        assert_int_equal(r->invalid, want[i].invalid);
    }
}

/* Every chunking, both consumers: the same records and counters. */
static void check_all(enum container_log_format fmt, size_t max_bytes,
                      const char *in, size_t in_len, const struct rec *want,
                      size_t n, struct container_log_stats *st)
{
    static const size_t chunks[] = {1, 2, 3, 7, 64, SIZE_MAX};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        for (int lazy = 0; lazy < 2; lazy++) {
            struct got g;
            struct container_log_stats s;
            size_t chunk = chunks[c] == SIZE_MAX ? in_len + 1 : chunks[c];
            run(fmt, max_bytes, in, in_len, chunk, lazy, &g, &s);
            check_recs(&g, want, n);
            if (c > 0 || lazy)
                assert_memory_equal(&s, st, sizeof s);
            *st = s;
            release(&g);
        }
    }
}

#define CHECK(fmt, max, in, want, st)                                          \
    check_all(fmt, max, in, sizeof(in) - 1, want,                              \
              sizeof(want) / sizeof(want[0]), st)

/* ---- docker ------------------------------------------------------------ */

#define DT "\"time\":\"2026-12-04T17:00:32.123456789Z\"}\n"

static void test_docker_escapes(void **state)
{
    (void)state;
    static const char in[] =
        "{\"log\":\"say \\\"hi\\\" \\\\ \\/ a\\u0000b caf\\u00e9 "
        "\\ud83d\\ude00 \\u003chtml\\u003e \\u2028\\t\\n\",\"stream\":"
        "\"stdout\"," DT "{\"log\":\"plain\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"crlf\\r\\n\",\"stream\":\"stdout\"," DT
        "{\"log\":\"\\n\",\"stream\":\"stdout\"," DT
        "{\"log\":\"lone \\ud800 \\udc00!\\u000A\",\"stream\":\"stdout\","
        "\"attrs\":{\"tag\":\"web\",\"n\":[1,-2.5e3,true,null,{}]}," DT;
    static const char t0[] = "say \"hi\" \\ / a\0b caf\xc3\xa9 \xf0\x9f\x98\x80"
                             " <html> \xe2\x80\xa8\t";
    const size_t l0 = 145, l1 = 76, l2 = 77, l3 = 71, l4 = 144;
    struct rec want[] = {
        {t0, sizeof t0 - 1, 0, l0, T1, OUT, 1, false, false},
        {"plain", 0, l0, l0 + l1, T1, ERR, 1, false, false},
        {"crlf", 0, l0 + l1, l0 + l1 + l2, T1, OUT, 1, false, false},
        {"", 0, l0 + l1 + l2, l0 + l1 + l2 + l3, T1, OUT, 1, false, false},
        {"lone \xef\xbf\xbd \xef\xbf\xbd!", 0, l0 + l1 + l2 + l3,
         l0 + l1 + l2 + l3 + l4, T1, OUT, 1, false, false},
    };
    assert_int_equal(sizeof in - 1, l0 + l1 + l2 + l3 + l4);
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_DOCKER, 1 << 20, in, want, &st);
    assert_int_equal(st.lines, 5);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.invalid, 0);
}

/* Docker splits a line every 16 KiB: the parts without "\n" join the next
 * of their stream, and the record is as long as the container's line. */
static void test_docker_partial_16k(void **state)
{
    (void)state;
    const size_t k16 = 16384;
    struct sl_buf in = SL_BUF_INIT(1 << 20), text = SL_BUF_INIT(1 << 20);
    for (int part = 0; part < 3; part++) {
        assert_int_equal(sl_buf_append_str(&in, "{\"log\":\"", NULL), 0);
        for (size_t i = 0; i < (part < 2 ? k16 : 5); i++) {
            char c = (char)('a' + (part * 7 + i) % 26);
            assert_int_equal(sl_buf_append_char(&in, c, NULL), 0);
            assert_int_equal(sl_buf_append_char(&text, c, NULL), 0);
        }
        assert_int_equal(
            sl_buf_append_str(&in, part < 2 ? "\"" : "\\n\"", NULL), 0);
        assert_int_equal(
            sl_buf_append_str(&in, ",\"stream\":\"stdout\"," DT, NULL), 0);
    }
    assert_int_equal(
        sl_buf_append_str(&in, "{\"log\":\"next\\n\",\"stream\":\"stdout\"," DT,
                          NULL),
        0);
    size_t first_end = in.len - 75;
    struct rec want[] = {
        {text.ptr, text.len, 0, first_end, T1, OUT, 3, false, false},
        {"next", 0, first_end, in.len, T1, OUT, 1, false, false},
    };
    struct container_log_stats st;
    check_all(CONTAINER_LOG_DOCKER, 1 << 20, in.ptr, in.len, want, 2, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.interleaved, 0);
    sl_buf_release(&in);
    sl_buf_release(&text);
}

/* A stderr line between two parts of a stdout line completes the stdout
 * record as it is; its last part becomes a record of its own. Records stay
 * in the order of their first line. */
static void test_docker_interleaved(void **state)
{
    (void)state;
    static const char in[] =
        "{\"log\":\"out-1 \",\"stream\":\"stdout\"," DT
        "{\"log\":\"err\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"out-2\\n\",\"stream\":\"stdout\"," DT
        "{\"log\":\"e1 \",\"stream\":\"stderr\"," DT
        "{\"log\":\"e2\\n\",\"stream\":\"stderr\"," DT
        /* the line that completes the open record is a part itself */
        "{\"log\":\"o1 \",\"stream\":\"stdout\"," DT
        "{\"log\":\"e3 \",\"stream\":\"stderr\"," DT
        "{\"log\":\"e4\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"o2\\n\",\"stream\":\"stdout\"," DT;
    struct rec want[] = {
        {"out-1 ", 0, 0, 75, T1, OUT, 1, false, false},
        {"err", 0, 75, 149, T1, ERR, 1, false, false},
        {"out-2", 0, 149, 225, T1, OUT, 1, false, false},
        {"e1 e2", 0, 225, 370, T1, ERR, 2, false, false},
        {"o1 ", 0, 370, 442, T1, OUT, 1, false, false},
        {"e3 e4", 0, 442, 587, T1, ERR, 2, false, false},
        {"o2", 0, 587, 660, T1, OUT, 1, false, false},
    };
    assert_int_equal(sizeof in - 1, 660);
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_DOCKER, 1 << 20, in, want, &st);
    assert_int_equal(st.interleaved, 2);
}

/* Past max_bytes the record is cut and the rest of its parts consumed; a
 * line line_reader cut is a JSON object without its end: invalid. */
static void test_docker_truncated(void **state)
{
    (void)state;
    static const char in[] =
        "{\"log\":\"0123456\",\"stream\":\"stdout\"," DT
        "{\"log\":\"7\\u00e9abc\",\"stream\":\"stdout\"," DT
        "{\"log\":\"def\\n\",\"stream\":\"stdout\"," DT
        "{\"log\":\"0123456789AB\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\n\","
        "\"stream\":\"stderr\"," DT;
    struct rec want[] = {
        {"01234567\xc3\xa9"
         "a",
         0, 0, 229, T1, OUT, 3, true, false},
        {"0123456789A", 0, 229, 312, T1, ERR, 1, true, false},
        /* never half an escape's character */
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 0, 312, 419, T1, ERR, 1,
         true, false},
    };
    assert_int_equal(sizeof in - 1, 419);
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_DOCKER, 11, in, want, &st);
    assert_int_equal(st.truncated, 3);
    assert_int_equal(st.dropped_parts, 1);
}

static void test_docker_invalid(void **state)
{
    (void)state;
    static const char in[] =
        "not json\n"           /* 0..9 */
        "{\"log\":\"x\\n\"}\n" /* 9..23 */
        "{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}\n"
        "{\"log\":\"open \",\"stream\":\"stdout\"," DT /* 74..148 */
        "{\"log\":\"tab\tinside\\n\",\"stream\":\"stdout\"," DT
        "{\"log\":\"x\\n\",\"stream\":\"stdout\"," DT "\n"; /* trailing */
    struct rec want[] = {
        {"not json", 0, 0, 9, NONE, NOS, 1, false, true},
        {"{\"log\":\"x\\n\"}", 0, 9, 23, NONE, NOS, 1, false, true},
        {"{\"log\":\"x\\n\",\"stream\":\"stdout\",\"time\":\"yesterday\"}", 0,
         23, 74, NONE, NOS, 1, false, true},
        {"open ", 0, 74, 148, T1, OUT, 1, false, false},
        {"{\"log\":\"tab\tinside\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-"
         "04T17:00:32.123456789Z\"}",
         0, 148, 229, NONE, NOS, 1, false, true},
        {"x", 0, 229, 301, T1, OUT, 1, false, false},
        {"", 0, 301, 302, NONE, NOS, 1, false, true},
    };
    assert_int_equal(sizeof in - 1, 302);
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_DOCKER, 1 << 20, in, want, &st);
    assert_int_equal(st.invalid, 5);
    assert_int_equal(st.interleaved, 1);
}

/* Lines that are almost the format, one by one. */
static void test_docker_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        bool ok;
    } cases[] = {
        {"{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\"}",
         true},
        {" { \"time\" : \"2026-12-04T17:00:32Z\" , \"stream\" : \"stderr\" "
         ", \"log\" : \"a\\n\" } ",
         true},
        {"{\"log\":\"a\",\"log\":\"b\\n\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\",\"x\":[[[]]]}",
         true},
        {"{\"log\":1,\"stream\":\"stdout\",\"time\":\"2026-12-04T17:00:32Z\"}",
         false},
        {"{\"log\":\"a\",\"stream\":\"stdin\",\"time\":"
         "\"2026-12-04T17:00:32Z\"}",
         false},
        {"{\"log\":\"a\\x\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\"}",
         false},
        {"{\"log\":\"a\\u12\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\"}",
         false},
        {"{\"log\":\"a\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\",}",
         false},
        {"{\"log\":\"a\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\",\"n\":01}",
         false},
        {"{\"log\":\"a\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\"}x",
         false},
        {"{\"log\":\"a\",\"stream\":\"stdout\",\"time\":"
         "\"2026-12-04T17:00:32Z\"",
         false},
        {"[]", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct container_log *cl =
            container_log_new(CONTAINER_LOG_DOCKER, 100, NULL);
        assert_non_null(cl);
        struct multiline_line l = {cases[i].line, strlen(cases[i].line), 0,
                                   strlen(cases[i].line) + 1, false};
        struct container_log_record r;
        assert_true(container_log_push(cl, &l));
        container_log_flush(cl);
        assert_true(container_log_peek(cl, &r));
        if (r.invalid == cases[i].ok)
            fail_msg("case %zu: %s", i, cases[i].line);
        container_log_free(cl);
    }
}

/* ---- cri --------------------------------------------------------------- */

static void test_cri(void **state)
{
    (void)state;
    static const char in[] =
        /* containerd: Go's RFC3339Nano, trailing zeros trimmed */
        "2026-12-04T17:00:32.1234Z stdout P part one, \n" /* 0..46 */
        "2026-12-04T17:00:32.1235Z stdout F part two\n"   /* ..90 */
        /* CRI-O: nine digits, the host's zone */
        "2026-12-04T18:00:32.123000000+01:00 stderr F boom\n" /* ..140 */
        "2026-12-04T17:00:32.123Z stdout F \n"                /* ..175 */
        "2026-12-04T17:00:32.123Z stdout F\n"                 /* ..209 */
        "2026-12-04T17:00:32.123Z stdout F  two  spaces \n"   /* ..257 */
        "2026-12-04T17:00:32.123Z stdout P:X a\n"             /* ..295 */
        "2026-12-04T17:00:32.123Z stderr F b\n"               /* ..331 */
        "2026-12-04T17:00:32.123Z stdout hello world\n"       /* ..375 */
        "2026-12-04T17:00:32.123Z stdin F x\n"                /* ..410 */
        "2026-12-04 17:00:32.123Z stdout F x\n"               /* ..446 */
        "2026-12-04T17:00:32.123Z stdout F x";                /* ..481 */
    struct rec want[] = {
        {"part one, part two", 0, 0, 90, T1, OUT, 2, false, false},
        {"boom", 0, 90, 140, T1, ERR, 1, false, false},
        {"", 0, 140, 175, T1, OUT, 1, false, false},
        {"", 0, 175, 209, T1, OUT, 1, false, false},
        {" two  spaces ", 0, 209, 257, T1, OUT, 1, false, false},
        {"a", 0, 257, 295, T1, OUT, 1, false, false},
        {"b", 0, 295, 331, T1, ERR, 1, false, false},
        {"2026-12-04T17:00:32.123Z stdout hello world", 0, 331, 375, NONE, NOS,
         1, false, true},
        {"2026-12-04T17:00:32.123Z stdin F x", 0, 375, 410, NONE, NOS, 1, false,
         true},
        {"2026-12-04 17:00:32.123Z stdout F x", 0, 410, 446, NONE, NOS, 1,
         false, true},
        {"x", 0, 446, 481, T1, OUT, 1, false, false},
    };
    assert_int_equal(sizeof in - 1, 481);
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_CRI, 1 << 20, in, want, &st);
    assert_int_equal(st.records, 11);
    assert_int_equal(st.invalid, 3);
    assert_int_equal(st.interleaved, 1);
}

/* A P part left open at the end comes out at the flush; a cut is a cut. */
static void test_cri_truncated_and_flush(void **state)
{
    (void)state;
    static const char in[] =
        "2026-12-04T17:00:32.123Z stdout P abcdef\n" /* 0..41 */
        "2026-12-04T17:00:32.123Z stdout P ghijkl\n" /* ..82 */
        "2026-12-04T17:00:32.123Z stdout F mn\n"     /* ..119 */
        "2026-12-04T17:00:32.123Z stdout P open\n";  /* ..158 */
    struct rec want[] = {
        {"abcdefghij", 0, 0, 119, T1, OUT, 3, true, false},
        {"open", 0, 119, 158, T1, OUT, 1, false, false},
    };
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_CRI, 10, in, want, &st);
    assert_int_equal(st.dropped_parts, 1);
    assert_int_equal(st.truncated, 1);
}

/* ---- lines ------------------------------------------------------------- */

static void test_lines(void **state)
{
    (void)state;
    static const char in[] =
        "one\r\n{\"log\":\"x\"}\n\nthis line is too long\nend";
    struct rec want[] = {
        {"one", 0, 0, 5, NONE, NOS, 1, false, false},
        {"{\"log\":\"x\"}", 0, 5, 17, NONE, NOS, 1, false, false},
        {"", 0, 17, 18, NONE, NOS, 1, false, false},
        {"this line is too", 0, 18, 40, NONE, NOS, 1, true, false},
        {"end", 0, 40, 43, NONE, NOS, 1, false, false},
    };
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_LINES, 16, in, want, &st);
    assert_int_equal(st.truncated, 1);
}

/* ---- the contract ------------------------------------------------------ */

/* A byte order mark is no text, on the first line only. */
static void test_bom(void **state)
{
    (void)state;
    static const char in[] = "\xEF\xBB\xBF{\"a\":1}\r\n\xEF\xBB\xBF"
                             "second\n";
    struct rec want[] = {
        {"{\"a\":1}", 0, 0, 12, NONE, NOS, 1, false, false},
        {"\xEF\xBB\xBF"
         "second",
         0, 12, 22, NONE, NOS, 1, false, false},
    };
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_LINES, 64, in, want, &st);
    static const char cri[] = "\xEF\xBB\xBF"
                              "2026-12-04T17:00:32.123456789Z stdout F x\n";
    struct rec cwant[] = {{"x", 0, 0, 45, T1, OUT, 1, false, false}};
    CHECK(CONTAINER_LOG_CRI, 64, cri, cwant, &st);
    assert_int_equal(st.invalid, 0);
}

static void test_push_refused_while_waiting(void **state)
{
    (void)state;
    struct container_log *cl = container_log_new(CONTAINER_LOG_CRI, 64, NULL);
    assert_non_null(cl);
    const char *a = "2026-12-04T17:00:32.123Z stdout P a";
    const char *b = "2026-12-04T17:00:32.123Z stderr F b";
    struct multiline_line la = {a, strlen(a), 100, 136, false};
    struct multiline_line lb = {b, strlen(b), 136, 172, false};
    struct container_log_record r;
    assert_int_equal(container_log_done_offset(cl), 0);
    assert_false(container_log_peek(cl, &r));
    assert_false(container_log_open(cl));
    assert_true(container_log_push(cl, &la));
    assert_true(container_log_open(cl)); /* a's rest may come */
    assert_int_equal(container_log_done_offset(cl), 100);
    assert_false(container_log_peek(cl, &r));
    /* b completes a first, and waits itself */
    assert_true(container_log_push(cl, &lb));
    assert_false(container_log_open(cl));
    assert_false(container_log_push(cl, &lb));
    assert_int_equal(container_log_stats(cl)->lines, 2);
    assert_true(container_log_peek(cl, &r));
    assert_int_equal(r.offset, 100);
    assert_int_equal(r.end, 136);
    assert_int_equal(r.cut, 0); /* completed by b, not by the clock */
    assert_int_equal(container_log_done_offset(cl), 100);
    container_log_pop(cl);
    assert_int_equal(container_log_done_offset(cl), 136);
    assert_true(container_log_peek(cl, &r));
    assert_int_equal(r.offset, 136);
    assert_int_equal(r.stream, ERR);
    container_log_pop(cl);
    assert_int_equal(container_log_done_offset(cl), 172);
    assert_false(container_log_peek(cl, &r));
    container_log_pop(cl); /* nothing waits: nothing happens */
    /* a flush asked for refuses pushes until a peek applies it; one
     * asked while a record is open completes it (the caller's wait for a
     * rest that never came) */
    container_log_flush(cl);
    assert_false(container_log_push(cl, &la));
    assert_false(container_log_peek(cl, &r));
    struct multiline_line lc = {a, strlen(a), 172, 208, false};
    assert_true(container_log_push(cl, &lc));
    assert_true(container_log_open(cl));
    container_log_flush(cl);
    assert_true(container_log_peek(cl, &r));
    assert_false(container_log_open(cl));
    assert_int_equal(r.text.len, 1);
    assert_int_equal(r.offset, 172);
    assert_int_equal(r.cut, 208); /* a flush's cut: the end pushed */
    container_log_pop(cl);
    assert_false(container_log_peek(cl, &r));
    container_log_free(cl);
    container_log_free(NULL);
}

/* The pushes of lines[from, to), pulling each record into *r (the last
 * one pulled); how many were pulled. */
static size_t push_lines(struct container_log *cl,
                         const struct multiline_line *lines, size_t from,
                         size_t to, struct container_log_record *r, char *text,
                         size_t size)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        while (!container_log_push(cl, &lines[i])) {
            assert_true(container_log_peek(cl, r));
            snprintf(text, size, "%.*s", (int)r->text.len, r->text.ptr);
            container_log_pop(cl);
            n++;
        }
    return n;
}

/* A split line whose rest came after the caller's wait: the flush cuts
 * the record there (its cut, the end of the part); a read again of the
 * same bytes, the rest there by then, makes the same records only when it
 * flushes before the first line at or past that cut, which is what a
 * restart does with the cut the registry kept. */
static void test_flush_cut_read_again(void **state)
{
    (void)state;
    const char *p = "2026-12-04T17:00:32.123Z stdout P head ";
    const char *f = "2026-12-04T17:00:38.123Z stdout F rest";
    const char *g = "2026-12-04T17:00:39.123Z stdout F next";
    uint64_t pe = strlen(p) + 1, fe = pe + strlen(f) + 1;
    struct multiline_line l[] = {{p, strlen(p), 0, pe, false},
                                 {f, strlen(f), pe, fe, false},
                                 {g, strlen(g), fe, fe + strlen(g) + 1, false}};
    struct container_log_record r;
    char text[64];
    for (int again = 0; again < 2; again++) {
        struct container_log *cl =
            container_log_new(CONTAINER_LOG_CRI, 1024, NULL);
        assert_non_null(cl);
        assert_int_equal(push_lines(cl, l, 0, 1, &r, text, sizeof text), 0);
        assert_true(container_log_open(cl));
        container_log_flush(cl); /* the wait ran out, or the cut again */
        assert_true(container_log_peek(cl, &r));
        assert_int_equal(r.text.len, 5);
        assert_memory_equal(r.text.ptr, "head ", 5);
        assert_int_equal(r.offset, 0);
        assert_int_equal(r.cut, pe);
        container_log_pop(cl);
        assert_int_equal(push_lines(cl, l, 1, 3, &r, text, sizeof text), 1);
        assert_string_equal(text, "rest");
        assert_int_equal(r.offset, pe);
        assert_int_equal(r.cut, 0);
        container_log_free(cl);
    }
    /* not flushed there: one record, another event under the head's id */
    struct container_log *cl = container_log_new(CONTAINER_LOG_CRI, 1024, NULL);
    assert_non_null(cl);
    assert_int_equal(push_lines(cl, l, 0, 3, &r, text, sizeof text), 1);
    assert_string_equal(text, "head rest");
    assert_int_equal(r.offset, 0);
    assert_int_equal(r.cut, 0);
    container_log_free(cl);
}

/* Records go into multiline as its lines: a Java trace written to stderr,
 * its long first line split by Docker, becomes one event. */
static void test_records_into_multiline(void **state)
{
    (void)state;
    static const char in[] =
        "{\"log\":\"Exception in \",\"stream\":\"stderr\"," DT
        "{\"log\":\"thread main\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"\\tat A.b(A.java:1)\\n\",\"stream\":\"stderr\"," DT
        "{\"log\":\"next\\n\",\"stream\":\"stdout\"," DT;
    struct multiline_config mc;
    multiline_config_init(&mc);
    mc.pattern = "^\\s";
    struct multiline *ml = multiline_new(&mc, NULL);
    struct container_log *cl =
        container_log_new(CONTAINER_LOG_DOCKER, 1 << 20, NULL);
    struct line_reader *lr = line_reader_new(1 << 20);
    assert_non_null(ml);
    assert_non_null(cl);
    assert_non_null(lr);
    assert_int_equal(line_reader_feed(lr, in, sizeof in - 1, NULL), 0);
    struct sl_slice l;
    bool cut;
    struct container_log_record r;
    struct multiline_event ev;
    int events = 0;
    while (line_reader_next(lr, &l, &cut)) {
        struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                      line_reader_line_end(lr), cut};
        assert_true(container_log_push(cl, &line));
        while (container_log_peek(cl, &r)) {
            struct multiline_line rl = container_log_as_line(&r);
            assert_true(multiline_push(ml, &rl, 0));
            container_log_pop(cl);
            while (multiline_peek(ml, &ev)) {
                assert_int_equal(events, 0);
                assert_int_equal(ev.offset, 0);
                assert_int_equal(ev.lines, 2);
                assert_int_equal(ev.text.len, 42);
                assert_memory_equal(ev.text.ptr,
                                    "Exception in thread main\n\tat "
                                    "A.b(A.java:1)",
                                    42);
                events++;
                multiline_pop(ml);
            }
        }
    }
    assert_int_equal(events, 1);
    assert_int_equal(multiline_done_offset(ml), 253);
    line_reader_free(lr);
    container_log_free(cl);
    multiline_free(ml);
}

static struct container_log_record
meta_rec(uint64_t offset, int64_t t, enum container_log_stream s, bool invalid)
{
    struct container_log_record r = {.offset = offset,
                                     .end = offset + 1,
                                     .time_ms = t,
                                     .stream = s,
                                     .invalid = invalid};
    return r;
}

/* The time and stream of an event's first record, and its invalid flag,
 * across multiline; records multiline dropped are skipped. */
static void test_record_meta(void **state)
{
    (void)state;
    struct record_meta_queue *q = record_meta_queue_new(8, NULL);
    assert_non_null(q);
    struct container_log_record r;
    struct record_meta m;
    r = meta_rec(0, T1, ERR, false);
    record_meta_push(q, &r);
    r = meta_rec(10, T1 + 1, ERR, true);
    record_meta_push(q, &r);
    r = meta_rec(20, T1 + 2, ERR, false); /* dropped by multiline */
    record_meta_push(q, &r);
    r = meta_rec(30, T1 + 3, OUT, false);
    record_meta_push(q, &r);
    assert_int_equal(record_meta_queue_len(q), 4);
    record_meta_take(q, 0, 20, &m);
    assert_int_equal(m.offset, 0);
    assert_true(m.time_ms == T1);
    assert_int_equal(m.stream, ERR);
    assert_true(m.invalid);
    record_meta_take(q, 30, 31, &m);
    assert_int_equal(m.offset, 30);
    assert_true(m.time_ms == T1 + 3);
    assert_int_equal(m.stream, OUT);
    assert_false(m.invalid);
    assert_int_equal(record_meta_queue_len(q), 0);
    /* nothing known: no time, no stream */
    record_meta_take(q, 40, 50, &m);
    assert_true(m.time_ms == NONE);
    assert_int_equal(m.stream, NOS);
    record_meta_queue_free(q);
    record_meta_queue_free(NULL);
}

/* Past cap, the two newest merge: the event's first record and the newest
 * keep their own meta; a record merged away gives the one before it. */
static void test_record_meta_overflow(void **state)
{
    (void)state;
    struct record_meta_queue *q = record_meta_queue_new(4, NULL);
    assert_non_null(q);
    struct container_log_record r;
    struct record_meta m;
    for (uint64_t i = 0; i < 10; i++) {
        r = meta_rec(i, T1 + (int64_t)i, OUT, i == 5);
        record_meta_push(q, &r);
    }
    assert_int_equal(record_meta_queue_len(q), 4);
    assert_int_equal(record_meta_queue_merges(q), 6);
    record_meta_take(q, 0, 8, &m);
    assert_true(m.time_ms == T1);
    assert_true(m.invalid);
    /* record 8 was merged into the run that starts at 2 */
    record_meta_take(q, 8, 9, &m);
    assert_true(m.time_ms == T1 + 2);
    record_meta_take(q, 9, 10, &m);
    assert_true(m.time_ms == T1 + 9);
    assert_false(m.invalid);
    assert_int_equal(record_meta_queue_len(q), 0);
    record_meta_queue_free(q);
}

static void test_line_limit(void **state)
{
    (void)state;
    assert_int_equal(container_log_line_limit(CONTAINER_LOG_LINES, 1000), 1000);
    assert_int_equal(container_log_line_limit(CONTAINER_LOG_CRI, 1000), 1128);
    assert_int_equal(container_log_line_limit(CONTAINER_LOG_DOCKER, 1000),
                     16384 * 6 + 65536);
    assert_int_equal(container_log_line_limit(CONTAINER_LOG_DOCKER, 1 << 20),
                     1 << 20);
    assert_string_equal(container_log_format_names[CONTAINER_LOG_CRI], "cri");
    assert_null(container_log_format_names[3]);
}

/* ---- RFC 3339 ---------------------------------------------------------- */

static int64_t ms(const char *s)
{
    int64_t v = 42;
    return sl_rfc3339_parse_ms(s, strlen(s), &v) == 0 ? v : INT64_MIN;
}

static void test_rfc3339(void **state)
{
    (void)state;
    assert_true(ms("2026-12-04T17:00:32.123456789Z") == T1);
    assert_true(ms("2026-12-04t17:00:32.123z") == T1);
    assert_true(ms("2026-12-04T17:00:32.1239Z") == T1); /* cut, not round */
    assert_true(ms("2026-12-04T18:30:32.123+01:30") == T1);
    assert_true(ms("2026-12-04T16:00:32.123-01:00") == T1);
    assert_true(ms("2026-12-04T17:00:32.1Z") == T1 - 23);
    assert_true(ms("2026-12-04T17:00:32Z") == T1 - 123);
    assert_true(ms("1970-01-01T00:00:00Z") == 0);
    assert_true(ms("1969-12-31T23:59:59.999Z") == -1);
    assert_true(ms("2024-02-29T00:00:00Z") == 1709164800000LL);
    assert_true(ms("2000-02-29T00:00:00Z") == 951782400000LL);
    assert_true(ms("0001-01-01T00:00:00Z") == -62135596800000LL);
    assert_true(ms("9999-12-31T23:59:59.999999Z") == 253402300799999LL);
    static const char *const bad[] = {"2026-12-04T17:00:32",
                                      "2026-12-04 17:00:32Z",
                                      "2026-12-04T17:00Z",
                                      "2026-12-04T17:00:32.Z",
                                      "2026-12-04T17:00:60Z",
                                      "2026-12-04T24:00:00Z",
                                      "2026-13-04T17:00:32Z",
                                      "2026-02-29T17:00:32Z",
                                      "1900-02-29T17:00:32Z",
                                      "2026-04-31T17:00:32Z",
                                      "0000-01-01T00:00:00Z",
                                      "2026-12-04T17:00:32+0100",
                                      "2026-12-04T17:00:32+24:00",
                                      "2026-12-04T17:00:32.1Zx",
                                      "0001-01-01T00:00:00+00:01",
                                      "9999-12-31T23:59:59-00:01",
                                      "2026-12-04T17:00:3a.1Z",
                                      "+026-12-04T17:00:32Z",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ms(bad[i]) != INT64_MIN)
            fail_msg("'%s' parsed", bad[i]);
}

/* NUL bytes before a docker or CRI line (a file's end zeroed by a crash,
 * the runtime writing on after it): the line is still read as the format;
 * NULs alone stay a line that is not. */
static void test_nul_padding(void **state)
{
    (void)state;
    static const char in[] =
        "\0\0\0{\"log\":\"a\\n\",\"stream\":\"stdout\"," DT "\0\0\n";
    struct rec want[] = {
        {"a", 0, 0, 75, T1, OUT, 1, false, false},
        {"\0\0", 2, 75, 78, NONE, NOS, 1, false, true},
    };
    struct container_log_stats st;
    CHECK(CONTAINER_LOG_DOCKER, 64, in, want, &st);
    assert_int_equal(st.invalid, 1);
    static const char cri[] = "\0\0"
                              "2026-12-04T17:00:32.123456789Z stdout F x\n";
    struct rec cwant[] = {{"x", 0, 0, 44, T1, OUT, 1, false, false}};
    CHECK(CONTAINER_LOG_CRI, 64, cri, cwant, &st);
    assert_int_equal(st.invalid, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_escapes),
        cmocka_unit_test(test_docker_partial_16k),
        cmocka_unit_test(test_docker_interleaved),
        cmocka_unit_test(test_docker_truncated),
        cmocka_unit_test(test_docker_invalid),
        cmocka_unit_test(test_docker_shapes),
        cmocka_unit_test(test_cri),
        cmocka_unit_test(test_cri_truncated_and_flush),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_push_refused_while_waiting),
        cmocka_unit_test(test_records_into_multiline),
        cmocka_unit_test(test_record_meta),
        cmocka_unit_test(test_record_meta_overflow),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_nul_padding),
        cmocka_unit_test(test_flush_cut_read_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
