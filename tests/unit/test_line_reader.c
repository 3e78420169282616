/* test_line_reader.c: framing as the shipper and sluice-grok rely on it:
 * \n and \r\n, fragments down to one byte, the max_line boundary (exactly
 * max and max + 1), an unterminated last line, offsets, and NUL-separated
 * records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line_reader.h"

struct collected {
    char text[4096]; /* lines joined with '|', cut ones marked with '~' */
    size_t n;
};

static void collect(struct line_reader *lr, struct collected *c, bool finish)
{
    struct sl_slice line;
    bool trunc;
    while (finish ? line_reader_finish(lr, &line, &trunc)
                  : line_reader_next(lr, &line, &trunc)) {
        size_t used = strlen(c->text);
        snprintf(c->text + used, sizeof c->text - used, "%s%.*s|",
                 trunc ? "~" : "", (int)line.len, line.ptr);
        c->n++;
        if (finish)
            break;
    }
}

/* Feeds s[0..len) in chunks of `step` bytes to a line reader, or a record
 * reader, and returns what came out. */
static struct collected run_n(const char *s, size_t len, size_t max,
                              size_t step, bool records)
{
    struct collected c = {{0}, 0};
    struct line_reader *lr =
        records ? line_reader_new_records(max) : line_reader_new(max);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        assert_int_equal(line_reader_feed(lr, s + i, n, NULL), 0);
        collect(lr, &c, false);
    }
    collect(lr, &c, true);
    line_reader_free(lr);
    return c;
}

static struct collected run(const char *s, size_t max, size_t step)
{
    return run_n(s, strlen(s), max, step, false);
}

#define RECORDS(lit, max, step) run_n(lit, sizeof lit - 1, max, step, true)

static void splits_lf_and_crlf_in_any_fragments(void **state)
{
    (void)state;
    const char *in = "one\ntwo\r\n\r\nthree\rx\nlast";
    for (size_t step = 1; step <= strlen(in); step++) {
        struct collected c = run(in, 100, step);
        assert_string_equal(c.text, "one|two||three\rx|last|");
    }
}

static void max_line_boundary(void **state)
{
    (void)state;
    /* exactly max: whole; max + 1: cut, the rest skipped */
    assert_string_equal(run("12345\n123456\nok\n", 5, 1).text,
                        "12345|~12345|ok|");
    assert_string_equal(run("12345\n123456\nok\n", 5, 64).text,
                        "12345|~12345|ok|");
    /* a CR before the newline is not counted against the limit */
    assert_string_equal(run("12345\r\nz\n", 5, 1).text, "12345|z|");
    /* a long line whose newline comes much later */
    assert_string_equal(run("abcdefghijklmnop\nq", 4, 3).text, "~abcd|q|");
    /* at the end of the input a CR is the line's own byte: kept when it
     * fits, and when it is one byte too many the line says it was cut */
    assert_string_equal(run("ab\r", 5, 1).text, "ab\r|");
    for (size_t step = 1; step <= 6; step++)
        assert_string_equal(run("12345\r", 5, step).text, "~12345|");
}

/* Records end at NUL or at the end of the stream, keep inner newlines and
 * drop one final "\n" or "\r\n"; the limit leaves room for that ending. */
static void records_end_at_nul_and_drop_one_final_newline(void **state)
{
    (void)state;
    static const char in[] = "a\nb\n\0c\r\n\0\0d\r\ne\n\n";
    for (size_t step = 1; step < sizeof in; step++)
        assert_string_equal(RECORDS(in, 100, step).text, "a\nb|c||d\r\ne\n|");
    for (size_t step = 1; step <= 9; step++) {
        assert_string_equal(RECORDS("12345\r\n\0z", 5, step).text, "12345|z|");
        assert_string_equal(RECORDS("123456\0z", 5, step).text, "~12345|z|");
        assert_string_equal(RECORDS("12345\nx\0z", 5, step).text, "~12345|z|");
        assert_string_equal(RECORDS("12345\r\n", 5, step).text, "12345|");
        assert_string_equal(RECORDS("12345\r", 5, step).text, "~12345|");
    }
}

static void unterminated_line_waits_for_finish(void **state)
{
    (void)state;
    struct line_reader *lr = line_reader_new(100);
    struct sl_slice line;
    bool trunc;
    assert_false(line_reader_in_line(lr));
    assert_int_equal(line_reader_feed(lr, "partial", 7, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_true(line_reader_in_line(lr)); /* its writer is inside a line */
    assert_int_equal(line_reader_feed(lr, " more\n", 6, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_int_equal(line.len, 12);
    assert_memory_equal(line.ptr, "partial more", 12);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_false(line_reader_in_line(lr));
    assert_int_equal(line_reader_finish(lr, &line, &trunc), 0);
    line_reader_free(lr);
}

/* Each line's start, and its end: past its "\n" or "\r\n" (the cut line's
 * too, though fed a byte at a time it was cut long before its "\n"
 * arrived), or the end of the stream for the last line. Each end is the
 * next line's start. */
static void offsets_point_at_line_starts_and_ends(void **state)
{
    (void)state;
    const char *in = "ab\r\ncde\nf\n0123456789\ng";
    uint64_t want[] = {0, 4, 8, 10, 21};
    uint64_t want_end[] = {4, 8, 10, 21, 22};
    struct line_reader *lr = line_reader_new(4);
    struct sl_slice line;
    bool trunc;
    size_t k = 0;
    for (size_t i = 0; i < strlen(in); i++) {
        assert_int_equal(line_reader_feed(lr, in + i, 1, NULL), 0);
        while (line_reader_next(lr, &line, &trunc)) {
            assert_int_equal(line_reader_line_offset(lr), want[k]);
            assert_int_equal(line_reader_line_end(lr), want_end[k++]);
        }
    }
    assert_int_equal(line_reader_finish(lr, &line, &trunc), 1);
    assert_int_equal(line_reader_line_offset(lr), want[k]);
    assert_int_equal(line_reader_line_end(lr), want_end[k++]);
    assert_int_equal(k, 5);
    line_reader_free(lr);
}

/* A cut line comes out only once its newline is in (so its end is known),
 * and the lines after it keep their true offsets, even when two cut lines
 * follow each other inside one fed chunk; at the end of the stream a cut
 * line still being skipped comes out with the stream's end. */
static void a_cut_line_waits_for_its_newline(void **state)
{
    (void)state;
    struct line_reader *lr = line_reader_new(4);
    struct sl_slice line;
    bool trunc;
    assert_int_equal(line_reader_feed(lr, "0123456", 7, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_int_equal(
        line_reader_feed(lr, "89\nabcdefg\nxy\nlongtail", 22, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_true(trunc);
    assert_memory_equal(line.ptr, "0123", 4);
    assert_int_equal(line_reader_line_offset(lr), 0);
    assert_int_equal(line_reader_line_end(lr), 10);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_true(trunc);
    assert_memory_equal(line.ptr, "abcd", 4);
    assert_int_equal(line_reader_line_offset(lr), 10);
    assert_int_equal(line_reader_line_end(lr), 18);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_false(trunc);
    assert_memory_equal(line.ptr, "xy", 2);
    assert_int_equal(line_reader_line_offset(lr), 18);
    assert_int_equal(line_reader_line_end(lr), 21);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_true(line_reader_in_line(lr)); /* "longtail" */
    assert_int_equal(line_reader_feed(lr, "more", 4, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_true(line_reader_in_line(lr)); /* its tail, being skipped */
    assert_int_equal(line_reader_finish(lr, &line, &trunc), 1);
    assert_true(trunc);
    assert_memory_equal(line.ptr, "long", 4);
    assert_int_equal(line_reader_line_offset(lr), 21);
    assert_int_equal(line_reader_line_end(lr), 33);
    assert_int_equal(line_reader_finish(lr, &line, &trunc), 0);
    line_reader_free(lr);
}

static void one_mebibyte_line_is_kept_and_one_more_is_cut(void **state)
{
    (void)state;
    size_t max = 1 << 20;
    char *buf = malloc(max + 2);
    memset(buf, 'x', max + 1);
    buf[max + 1] = '\n';
    struct line_reader *lr = line_reader_new(max);
    struct sl_slice line;
    bool trunc;
    /* exactly 1 MiB */
    buf[max] = '\n';
    assert_int_equal(line_reader_feed(lr, buf, max + 1, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_int_equal(line.len, max);
    assert_false(trunc);
    /* 1 MiB + 1 */
    buf[max] = 'x';
    assert_int_equal(line_reader_feed(lr, buf, max + 2, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_int_equal(line.len, max);
    assert_true(trunc);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    line_reader_free(lr);
    free(buf);
}

/* Chunks larger than what a reader keeps between them (it gives a grown
 * buffer back once its lines are out): the unterminated line carried over,
 * short or long, empty, after a cut line, comes out whole with its
 * offsets. */
static void big_chunks_carry_their_unterminated_line(void **state)
{
    (void)state;
    enum { N = 20000 };
    char *buf = malloc(N);
    struct line_reader *lr = line_reader_new(8000);
    struct sl_slice line;
    bool trunc;
    uint64_t at = 0;
    size_t tails[] = {0, 1, 100, 4095, 4096, 4097, 6000};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        /* 99 lines of 99 bytes + newline, then a tail with no newline */
        memset(buf, 'a' + (int)t, N);
        for (size_t i = 0; i < 99; i++)
            buf[i * 100 + 99] = '\n';
        size_t len = 9900 + tails[t];
        assert_int_equal(line_reader_feed(lr, buf, len, NULL), 0);
        for (size_t i = 0; i < 99; i++) {
            assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
            assert_int_equal(line.len, 99);
            assert_int_equal(line_reader_line_offset(lr), at + i * 100);
        }
        assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
        assert_int_equal(line_reader_feed(lr, "!\n", 2, NULL), 0);
        assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
        assert_false(trunc);
        assert_int_equal(line.len, tails[t] + 1);
        assert_int_equal(line.ptr[line.len - 1], '!');
        if (tails[t] > 0)
            assert_int_equal(line.ptr[0], 'a' + (int)t);
        assert_int_equal(line_reader_line_offset(lr), at + 9900);
        at += len + 2;
        assert_int_equal(line_reader_line_end(lr), at);
        assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    }
    /* a cut line, its skipped tail, then a chunk of lines */
    memset(buf, 'z', N);
    buf[N - 1] = '\n';
    assert_int_equal(line_reader_feed(lr, buf, N, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_true(trunc);
    assert_int_equal(line.len, 8000);
    assert_int_equal(line_reader_line_end(lr), at + N);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_int_equal(line_reader_feed(lr, "p\nq", 3, NULL), 0);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 1);
    assert_int_equal(line_reader_line_offset(lr), at + N);
    assert_int_equal(line_reader_next(lr, &line, &trunc), 0);
    assert_int_equal(line_reader_finish(lr, &line, &trunc), 1);
    assert_memory_equal(line.ptr, "q", 1);
    assert_int_equal(line_reader_line_offset(lr), at + N + 2);
    line_reader_free(lr);
    free(buf);
}

/* Holes (line_reader_skip_holes): a file truncated under a writer that
 * kept its offset reads as zeros up to its next write. A run of 4096 NUL
 * bytes or more at a line's start is skipped, in any fragments, the next
 * line's offset past it; a shorter run stays in its line; a hole longer
 * than max_line no longer swallows the line after it (the zeros were one
 * cut line, and the real line their skipped tail). */
static void holes_are_skipped_and_the_line_after_them_kept(void **state)
{
    (void)state;
    size_t hole = 3 * LINE_READER_HOLE_MIN + 5;
    size_t len = 2 + hole + 6 + 100 + 6 + LINE_READER_HOLE_MIN;
    char *in = calloc(1, len);
    assert_non_null(in);
    memcpy(in, "a\n", 2);
    memcpy(in + 2 + hole, "after\n", 6);
    memcpy(in + 2 + hole + 6 + 100, "short\n", 6);
    size_t steps[] = {1, 7, 4096, len};
    for (size_t i = 0; i < 4; i++) {
        struct line_reader *lr = line_reader_new(1024);
        line_reader_skip_holes(lr);
        struct sl_slice line;
        bool trunc;
        char got[3][8] = {{0}};
        uint64_t off[3] = {0}, holes = 0;
        size_t k = 0;
        for (size_t at = 0; at < len; at += steps[i]) {
            size_t n = len - at < steps[i] ? len - at : steps[i];
            assert_int_equal(line_reader_feed(lr, in + at, n, NULL), 0);
            while (line_reader_next(lr, &line, &trunc)) {
                assert_true(k < 3);
                assert_false(trunc);
                off[k] = line_reader_line_offset(lr);
                /* the short run stays: its NULs, then "short" */
                snprintf(got[k++], 8, "%.*s",
                         (int)(line.len > 5 ? 5 : line.len),
                         line.ptr + (line.len > 5 ? line.len - 5 : 0));
                if (k == 3)
                    assert_int_equal(line.len, 105);
                if (k == 2)
                    holes = line_reader_hole_bytes(lr);
            }
        }
        assert_int_equal(line_reader_finish(lr, &line, &trunc), 0);
        assert_int_equal(k, 3);
        assert_string_equal(got[0], "a");
        assert_string_equal(got[1], "after");
        assert_string_equal(got[2], "short");
        assert_int_equal(off[0], 0);
        assert_int_equal(off[1], 2 + hole);
        assert_int_equal(off[2], 2 + hole + 6);
        assert_int_equal(holes, hole);
        assert_int_equal(line_reader_hole_bytes(lr),
                         hole + LINE_READER_HOLE_MIN);
        line_reader_free(lr);
    }
    /* off (sluice-grok): the zeros are a cut line, "after" its skipped
     * tail, the short run's line shows empty here (%.*s stops at a NUL),
     * and the last zeros an unterminated cut line */
    struct collected c = run_n(in, len, 1024, 4096, false);
    assert_string_equal(c.text, "a|~||~|");
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_lf_and_crlf_in_any_fragments),
        cmocka_unit_test(max_line_boundary),
        cmocka_unit_test(records_end_at_nul_and_drop_one_final_newline),
        cmocka_unit_test(unterminated_line_waits_for_finish),
        cmocka_unit_test(offsets_point_at_line_starts_and_ends),
        cmocka_unit_test(a_cut_line_waits_for_its_newline),
        cmocka_unit_test(one_mebibyte_line_is_kept_and_one_more_is_cut),
        cmocka_unit_test(big_chunks_carry_their_unterminated_line),
        cmocka_unit_test(holes_are_skipped_and_the_line_after_them_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
