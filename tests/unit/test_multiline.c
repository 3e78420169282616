/* test_multiline.c: the multiline joiner as the shipper relies on it.
 *
 * Pattern mode: the four negate/match combinations with exact events and
 * offsets, a grok pattern, max_lines and max_bytes cuts, the cut flag of
 * line_reader, CRLF, the timeout through the passed clock, the end-of-input
 * flush, done_offset. Presets: the rules one case at a time, then real-looking
 * logs in tests/shipper/multiline/ (NAME.log, NAME.expected.jsonl, one JSON
 * line {"offset","lines","text"} per event) fed in fragments of every size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line_reader.h"
#include "multiline.h"

/* ---- collecting events ------------------------------------------------ */

#define MAX_EVENTS 64

struct got {
    struct multiline_event ev[MAX_EVENTS]; /* text points into texts */
    char *texts[MAX_EVENTS];
    size_t n;
};

/* done_offset before the push that is running: no event emitted by it may
 * start before (that would mean done_offset passed an unemitted line). */
static uint64_t done_before;

static void collect(void *ctx, const struct multiline_event *ev)
{
    struct got *g = ctx;
    assert_true(g->n < MAX_EVENTS);
    assert_true(ev->offset >= done_before);
    assert_non_null(ev->text.ptr);
    char *t = malloc(ev->text.len + 1);
    assert_non_null(t);
    memcpy(t, ev->text.ptr, ev->text.len);
    t[ev->text.len] = '\0';
    g->ev[g->n] = *ev;
    g->ev[g->n].text.ptr = t;
    g->texts[g->n++] = t;
}

static void got_free(struct got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->texts[i]);
    g->n = 0;
}

#define assert_event(g, i, off, nlines, txt)                                   \
    do {                                                                       \
        assert_true((i) < (g)->n);                                             \
        assert_int_equal((g)->ev[i].offset, (off));                            \
        assert_int_equal((g)->ev[i].lines, (nlines));                          \
        assert_string_equal((g)->texts[i], (txt));                             \
    } while (0)

/* ---- making joiners and feeding them ---------------------------------- */

static struct multiline *make(struct multiline_config *cfg, struct got *g)
{
    struct sl_err err = {0};
    struct multiline *ml = multiline_new(cfg, collect, g, &err);
    if (ml == NULL)
        fail_msg("multiline_new: %s", err.msg);
    return ml;
}

static struct multiline *make_pattern(const char *re, bool negate,
                                      const char *match, struct got *g)
{
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = re;
    cfg.negate = negate;
    cfg.match = match;
    return make(&cfg, g);
}

static struct multiline *make_preset(const char *preset, struct got *g)
{
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.preset = preset;
    return make(&cfg, g);
}

/* Pushes the line line_reader returned, checking done_offset on the way:
 * it never goes back and never passes a line not yet emitted. */
static void push_read(struct multiline *ml, const struct line_reader *lr,
                      struct sl_slice l, bool cut, uint64_t now)
{
    uint64_t before = done_before = multiline_done_offset(ml);
    uint64_t off = line_reader_line_offset(lr);
    struct multiline_line line = {l.ptr, l.len, off, line_reader_line_end(lr),
                                  cut};
    multiline_push(ml, &line, now);
    uint64_t d = multiline_done_offset(ml);
    assert_true(d >= before);
    assert_true(d <= line.end);
    done_before = 0;
}

/* Cuts s into lines with a line_reader of max_line, fed step bytes at a
 * time, and pushes each line at clock now. Does not flush. */
static void feed_n(struct multiline *ml, const char *s, size_t size,
                   size_t max_line, size_t step, uint64_t now)
{
    struct line_reader *lr = line_reader_new(max_line);
    assert_non_null(lr);
    struct sl_slice l;
    bool cut;
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        assert_int_equal(line_reader_feed(lr, s + i, n, NULL), 0);
        while (line_reader_next(lr, &l, &cut))
            push_read(ml, lr, l, cut, now);
    }
    if (line_reader_finish(lr, &l, &cut))
        push_read(ml, lr, l, cut, now);
    line_reader_free(lr);
}

static void feed(struct multiline *ml, const char *s)
{
    feed_n(ml, s, strlen(s), 1 << 20, strlen(s) + 1, 0);
}

/* Pushes one line by hand (offsets given). */
static void push(struct multiline *ml, const char *s, uint64_t off,
                 uint64_t now)
{
    struct multiline_line l = {s, strlen(s), off, off + strlen(s) + 1, false};
    multiline_push(ml, &l, now);
}

/* ---- pattern mode: the four combinations ------------------------------ */

static void after_match_joins_above(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^[ \\t]", false, "after", &g);
    feed(ml, "a\n b\n c\nd\n e\nf\n");
    /* f waits: the next line could still join it */
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 3, "a\n b\n c");
    assert_event(&g, 1, 8, 2, "d\n e");
    assert_int_equal(g.ev[1].end, 13);
    assert_int_equal(multiline_done_offset(ml), 13);
    multiline_flush(ml);
    assert_event(&g, 2, 13, 1, "f");
    assert_int_equal(multiline_done_offset(ml), 15);
    multiline_free(ml);
    got_free(&g);
}

static void after_negate_joins_non_matching_above(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^\\[", true, NULL, &g);
    /* a first line that is a continuation has nothing above: it starts */
    feed(ml, "x\n[1] a\nx\ny\n[2] b\n[3] c\nz\n");
    multiline_flush(ml);
    assert_int_equal(g.n, 4);
    assert_event(&g, 0, 0, 1, "x");
    assert_event(&g, 1, 2, 3, "[1] a\nx\ny");
    assert_event(&g, 2, 12, 1, "[2] b");
    assert_event(&g, 3, 18, 2, "[3] c\nz");
    multiline_free(ml);
    got_free(&g);

    /* an empty line is a line: an empty event, with a valid pointer */
    ml = make_pattern("^ ", false, NULL, &g);
    feed(ml, "\n x\n\n");
    multiline_flush(ml);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 2, "\n x");
    assert_event(&g, 1, 4, 1, "");
    multiline_free(ml);
    got_free(&g);
}

static void before_match_joins_below(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("\\\\$", false, "before", &g);
    feed(ml, "a \\\nb \\\nc\nd\ne \\\n");
    /* a line that does not continue ends its event at once */
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 3, "a \\\nb \\\nc");
    assert_event(&g, 1, 10, 1, "d");
    /* e waits for a next line that never comes: emitted as it is */
    assert_int_equal(multiline_done_offset(ml), 12);
    multiline_flush(ml);
    assert_event(&g, 2, 12, 1, "e \\");
    assert_int_equal(multiline_done_offset(ml), 16);
    multiline_free(ml);
    got_free(&g);
}

static void before_negate_joins_non_matching_below(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern(";$", true, "before", &g);
    feed(ml, "SELECT a\nFROM t;\nDROP x;\nBEGIN\nEND;\ntail\n");
    assert_int_equal(g.n, 3);
    multiline_flush(ml);
    assert_int_equal(g.n, 4);
    assert_event(&g, 0, 0, 2, "SELECT a\nFROM t;");
    assert_event(&g, 1, 17, 1, "DROP x;");
    assert_event(&g, 2, 25, 2, "BEGIN\nEND;");
    assert_event(&g, 3, 36, 1, "tail");
    multiline_free(ml);
    got_free(&g);
}

static void grok_pattern_and_library(void **state)
{
    (void)state;
    struct sl_err err = {0};
    char dir[GROK_DIR_MAX];
    assert_int_equal(grok_builtin_dir("v1", dir, sizeof dir, &err), 0);
    struct grok_library *lib = grok_library_new();
    assert_int_equal(grok_library_load_dir(lib, dir, &err), 0);
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^%{TIMESTAMP_ISO8601} ";
    cfg.negate = true;
    cfg.patterns = lib;
    struct multiline *ml = make(&cfg, &g);
    grok_library_free(lib); /* not kept past multiline_new */
    feed(ml, "2026-11-23T10:00:01Z a\nmore\n2026-11-23 10:00:02,5 b\n");
    multiline_flush(ml);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 2, "2026-11-23T10:00:01Z a\nmore");
    assert_event(&g, 1, 28, 1, "2026-11-23 10:00:02,5 b");
    multiline_free(ml);
    got_free(&g);
}

/* ---- limits ----------------------------------------------------------- */

static void max_lines_cuts_and_drops_until_next_event(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^ ";
    cfg.max_lines = 3;
    struct multiline *ml = make(&cfg, &g);
    feed(ml, "a\n 1\n 2\n 3\n 4\nb\n 5\n");
    assert_int_equal(multiline_done_offset(ml), 14); /* b is open */
    multiline_flush(ml);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 3, "a\n 1\n 2");
    assert_true(g.ev[0].truncated);
    assert_int_equal(g.ev[0].dropped, 2);
    assert_int_equal(g.ev[0].end, 14); /* the dropped lines are consumed */
    assert_event(&g, 1, 14, 2, "b\n 5");
    assert_false(g.ev[1].truncated);
    const struct multiline_stats *st = multiline_stats(ml);
    assert_int_equal(st->lines, 7);
    assert_int_equal(st->dropped, 2);
    assert_int_equal(st->truncated, 1);
    multiline_free(ml);
    got_free(&g);
}

static void max_bytes_cuts_line_and_event(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^ ";
    cfg.max_bytes = 10;
    struct multiline *ml = make(&cfg, &g);
    /* 6 + "\n" + 3 of " 12345" = 10; " x" dropped; a first line longer
     * than max_bytes is cut too; exactly max_bytes is not cut */
    feed(ml, "abcdef\n 12345\n x\n0123456789ABC\nabcd\n 1234\nok\n");
    multiline_flush(ml);
    assert_int_equal(g.n, 4);
    assert_event(&g, 0, 0, 2, "abcdef\n 12");
    assert_true(g.ev[0].truncated);
    assert_int_equal(g.ev[0].dropped, 1);
    assert_event(&g, 1, 17, 1, "0123456789");
    assert_true(g.ev[1].truncated);
    assert_event(&g, 2, 31, 2, "abcd\n 1234");
    assert_false(g.ev[2].truncated);
    assert_event(&g, 3, 42, 1, "ok");
    multiline_free(ml);
    got_free(&g);
}

/* 100000 continuation lines of 100 bytes: the event stays at max_bytes
 * (ASan and the allocator see the buffer: it never grows past it). */
static void memory_bounded_on_endless_event(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.preset = "java";
    cfg.max_bytes = 4096;
    struct multiline *ml = make(&cfg, &g);
    char frame[101];
    memset(frame, 'x', sizeof frame - 1);
    memcpy(frame, "\tat ", 4);
    frame[100] = '\0';
    push(ml, "record", 0, 0);
    for (uint64_t i = 0; i < 100000; i++)
        push(ml, frame, 7 + i * 101, 0);
    multiline_flush(ml);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.ev[0].text.len, 4096);
    assert_true(g.ev[0].truncated);
    assert_int_equal(g.ev[0].lines + g.ev[0].dropped, 100001);
    multiline_free(ml);
    got_free(&g);
}

static void cut_lines_from_line_reader_are_truncated(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    const char *in = "short\nthis line is long\n continuation\nend\n";
    feed_n(ml, in, strlen(in), 8, 3, 0);
    multiline_flush(ml);
    assert_int_equal(g.n, 3);
    assert_event(&g, 0, 0, 1, "short");
    assert_false(g.ev[0].truncated);
    assert_event(&g, 1, 6, 2, "this lin\n continu");
    assert_true(g.ev[1].truncated);
    assert_int_equal(g.ev[1].end, 38);
    assert_event(&g, 2, 38, 1, "end");
    assert_false(g.ev[2].truncated);
    multiline_free(ml);
    got_free(&g);
}

/* line_reader drops the "\r" of "\r\n": events never contain it, and
 * offsets count it. */
static void crlf_is_stripped_upstream(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    feed(ml, "a\r\n b\r\nc\r\n");
    multiline_flush(ml);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 2, "a\n b");
    assert_event(&g, 1, 7, 1, "c");
    assert_int_equal(multiline_done_offset(ml), 10);
    multiline_free(ml);
    got_free(&g);
}

/* ---- time ------------------------------------------------------------- */

static void timeout_flushes_through_the_passed_clock(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
    push(ml, "a", 0, 1000);
    push(ml, " b", 2, 2000);
    assert_int_equal(multiline_next_deadline(ml), 7000);
    multiline_tick(ml, 6999);
    assert_int_equal(g.n, 0);
    assert_int_equal(multiline_done_offset(ml), 0);
    multiline_tick(ml, 7000);
    assert_int_equal(g.n, 1);
    assert_event(&g, 0, 0, 2, "a\n b");
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
    assert_int_equal(multiline_done_offset(ml), 5);
    /* a continuation after the timeout starts a new event */
    push(ml, " c", 5, 8000);
    assert_int_equal(multiline_done_offset(ml), 5);
    /* a push late enough times the open event out first, with no tick */
    push(ml, " d", 8, 13000);
    assert_int_equal(g.n, 2);
    assert_event(&g, 1, 5, 1, " c");
    multiline_flush(ml);
    assert_event(&g, 2, 8, 1, " d");
    assert_int_equal(multiline_stats(ml)->timeouts, 2);
    multiline_free(ml);
    got_free(&g);
}

static void timeout_zero_never_expires(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^ ";
    cfg.timeout_ms = 0;
    struct multiline *ml = make(&cfg, &g);
    push(ml, "a", 0, 0);
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
    multiline_tick(ml, UINT64_MAX - 1);
    push(ml, " b", 2, UINT64_MAX - 1);
    assert_int_equal(g.n, 0);
    multiline_flush(ml);
    assert_event(&g, 0, 0, 2, "a\n b");
    multiline_flush(ml); /* twice: nothing more */
    assert_int_equal(g.n, 1);
    multiline_free(ml);
    got_free(&g);
}

/* ---- configuration errors --------------------------------------------- */

static void expect_error(struct multiline_config *cfg, const char *msg)
{
    struct sl_err err = {0};
    assert_null(multiline_new(cfg, collect, NULL, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void errors_say_what_to_do(void **state)
{
    (void)state;
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    expect_error(&cfg, "multiline: no pattern; set 'pattern' (a regular "
                       "expression) or 'preset' ('python' or 'java')");
    cfg.preset = "pyton";
    expect_error(&cfg, "multiline: unknown preset 'pyton'; use 'python' or "
                       "'java', or a pattern");
    cfg.preset = "python";
    cfg.match = "before";
    expect_error(&cfg, "multiline: preset 'python' cannot be combined with "
                       "pattern, negate or match; remove them or the preset");
    multiline_config_init(&cfg);
    cfg.pattern = "^ ";
    cfg.match = "previous";
    expect_error(&cfg, "multiline: match is 'previous'; use 'after' or "
                       "'before'");
    cfg.match = NULL;
    cfg.max_lines = 0;
    expect_error(&cfg, "multiline: max_lines and max_bytes must be at least 1");

    struct sl_err err = {0};
    multiline_config_init(&cfg);
    cfg.pattern = "^(unclosed";
    assert_null(multiline_new(&cfg, collect, NULL, &err));
    assert_string_equal(err.msg,
                        "multiline: grok: expression '^(unclosed': invalid "
                        "regex: missing closing parenthesis at offset 10 of "
                        "the expanded regex");
    cfg.pattern = "^%{NOSUCH} ";
    assert_null(multiline_new(&cfg, collect, NULL, &err));
    assert_non_null(strstr(err.msg, "unknown pattern 'NOSUCH'"));
    multiline_free(NULL);
}

/* ---- presets, rule by rule -------------------------------------------- */

/* Runs a preset over s and returns the events joined as "text|text|". */
static char *run_preset(const char *preset, const char *s)
{
    struct got g = {0};
    struct multiline *ml = make_preset(preset, &g);
    feed(ml, s);
    multiline_flush(ml);
    size_t cap = strlen(s) + 2 * g.n + 1, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < g.n; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s|", g.texts[i]);
    multiline_free(ml);
    got_free(&g);
    return out;
}

#define assert_preset(preset, in, want)                                        \
    do {                                                                       \
        char *got_ = run_preset(preset, in);                                   \
        assert_string_equal(got_, want);                                       \
        free(got_);                                                            \
    } while (0)

static void python_rules(void **state)
{
    (void)state;
    /* the exception line joins only right after frames */
    assert_preset("python", "R\nValueError: bad\n", "R|ValueError: bad|");
    assert_preset("python",
                  "R\nTraceback (most recent call last):\n  File \"x\", "
                  "line 1, in f\n    g()\nx.y.MyError: m\nS\n",
                  "R\nTraceback (most recent call last):\n  File \"x\", line "
                  "1, in f\n    g()\nx.y.MyError: m|S|");
    /* logging's default format is not an exception line */
    assert_preset("python",
                  "Traceback (most recent call last):\n  File \"x\", line 1\n"
                  "ERROR:root:next\n",
                  "Traceback (most recent call last):\n  File \"x\", line "
                  "1|ERROR:root:next|");
    /* a second traceback with no chain message is a new event */
    assert_preset("python",
                  "Traceback (most recent call last):\n  f\nA\n"
                  "Traceback (most recent call last):\n  g\nB\n",
                  "Traceback (most recent call last):\n  f\nA|"
                  "Traceback (most recent call last):\n  g\nB|");
    /* blank lines: kept inside a chain, dropped at the end and alone */
    assert_preset("python", "\nR\n  i\n\n\nS\n\n", "R\n  i|S|");
    assert_preset("python", "R\n\n  i\n", "R\n\n  i|");
    /* stack_info: frames, and no exception line to join after them */
    assert_preset("python",
                  "R\nStack (most recent call last):\n  File \"x\", line 1, "
                  "in <module>\nKeyError\n",
                  "R\nStack (most recent call last):\n  File \"x\", line "
                  "1, in <module>|KeyError|");
}

static void java_rules(void **state)
{
    (void)state;
    /* a class line joins only when frames follow */
    assert_preset("java", "R\nx.Y: m\n\tat a.b(C.java:1)\nS\n",
                  "R\nx.Y: m\n\tat a.b(C.java:1)|S|");
    assert_preset("java", "R\nx.Y: m\nS\n", "R|x.Y: m|S|");
    /* not qualified: a record */
    assert_preset("java", "R\nBoom: m\n\tat a.b(C.java:1)\n",
                  "R|Boom: m\n\tat a.b(C.java:1)|");
    /* a class line after a finished trace starts its own event */
    assert_preset("java", "R\n\tat a\nx.Y\n\tat b\n", "R\n\tat a|x.Y\n\tat b|");
    /* a second class line releases what was held before it */
    assert_preset("java", "R\na.B: x\nS\nc.D: y\n\tat f\n",
                  "R|a.B: x|S\nc.D: y\n\tat f|");
    /* message lines after "Caused by:" wait for its first frame */
    assert_preset("java", "R\n\tat a\nCaused by: x.Y: m\nmore\n\t... 3 more\n",
                  "R\n\tat a\nCaused by: x.Y: m\nmore\n\t... 3 more|");
    /* a trailing blank line is dropped */
    assert_preset("java", "R\n\tat a\n\nS\n", "R\n\tat a|S|");
}

static void java_hold_released_by_limit_timeout_and_flush(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_preset("java", &g);
    push(ml, "R", 0, 0);
    push(ml, "x.Y: m", 2, 0);
    /* held: R cannot be emitted yet, and nothing past it is done */
    assert_int_equal(g.n, 0);
    assert_int_equal(multiline_done_offset(ml), 0);
    multiline_tick(ml, 5000);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 1, "R");
    assert_event(&g, 1, 2, 1, "x.Y: m");
    assert_int_equal(multiline_done_offset(ml), 9);
    got_free(&g);

    /* MULTILINE_HOLD_MAX held lines: the next one releases them all */
    char line[32];
    uint64_t off = 100;
    push(ml, "R", off, 10000);
    off += 2;
    push(ml, "x.Y: m", off, 10000);
    off += 7;
    for (int i = 0; i < MULTILINE_HOLD_MAX; i++) {
        int n = snprintf(line, sizeof line, "line %02d", i);
        push(ml, line, off, 10000);
        off += (uint64_t)n + 1;
    }
    assert_true(g.n >= 2);
    assert_event(&g, 0, 100, 1, "R");
    assert_event(&g, 1, 102, 1, "x.Y: m");
    multiline_flush(ml);
    assert_int_equal(g.n, 2 + MULTILINE_HOLD_MAX);
    assert_event(&g, g.n - 1, off - 8, 1, "line 31");
    assert_int_equal(multiline_stats(ml)->lines, 2 + 2 + MULTILINE_HOLD_MAX);
    multiline_free(ml);
    got_free(&g);
}

/* ---- real-looking logs ------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open '%s'", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

/* Appends JSON for one event as Python's json.dumps(ensure_ascii=False,
 * separators=(",", ":")) writes it. */
static size_t json_event(char *out, size_t cap,
                         const struct multiline_event *ev, const char *text)
{
    size_t n =
        (size_t)snprintf(out, cap, "{\"offset\":%llu,\"lines\":%u,\"text\":\"",
                         (unsigned long long)ev->offset, ev->lines);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char esc[8] = {0};
        if (*p == '"' || *p == '\\')
            snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (*p < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", *p);
        else
            esc[0] = (char)*p;
        n += (size_t)snprintf(out + n, cap - n, "%s", esc);
    }
    n += (size_t)snprintf(out + n, cap - n, "\"}\n");
    assert_true(n < cap);
    return n;
}

static void check_log(const char *name, const char *preset)
{
    char path[4096];
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dir = slash ? (int)(slash - file) : 1;
    snprintf(path, sizeof path, "%.*s/../shipper/multiline/%s.log", dir,
             slash ? file : ".", name);
    size_t len, want_len;
    char *log = slurp(path, &len);
    snprintf(path, sizeof path, "%.*s/../shipper/multiline/%s.expected.jsonl",
             dir, slash ? file : ".", name);
    char *want = slurp(path, &want_len);
    size_t cap = 2 * want_len + 4096;
    char *out = malloc(cap);
    assert_non_null(out);
    /* every fragment size, and without the final newline */
    size_t steps[] = {1, 2, 3, 7, 64, 4096, len + 1};
    for (size_t v = 0; v < 2 * sizeof steps / sizeof steps[0]; v++) {
        size_t step = steps[v / 2];
        size_t size = v % 2 ? len - 1 : len;
        struct got g = {0};
        struct multiline *ml = make_preset(preset, &g);
        feed_n(ml, log, size, 1 << 20, step, 0);
        multiline_flush(ml);
        assert_int_equal(multiline_done_offset(ml), size);
        size_t used = 0;
        uint64_t sum = 0;
        for (size_t i = 0; i < g.n; i++) {
            used += json_event(out + used, cap - used, &g.ev[i], g.texts[i]);
            sum += g.ev[i].lines;
        }
        const struct multiline_stats *st = multiline_stats(ml);
        assert_int_equal(sum + st->dropped, st->lines);
        if (strcmp(out, want) != 0)
            fail_msg("%s (step %zu, %zu bytes): got\n%s\nwant\n%s", name, step,
                     size, out, want);
        multiline_free(ml);
        got_free(&g);
    }
    free(out);
    free(want);
    free(log);
}

static void python_app_log(void **state)
{
    (void)state;
    check_log("python_app", "python");
}

static void python_basic_log(void **state)
{
    (void)state;
    check_log("python_basic", "python");
}

static void java_logback_log(void **state)
{
    (void)state;
    check_log("java_logback", "java");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(after_match_joins_above),
        cmocka_unit_test(after_negate_joins_non_matching_above),
        cmocka_unit_test(before_match_joins_below),
        cmocka_unit_test(before_negate_joins_non_matching_below),
        cmocka_unit_test(grok_pattern_and_library),
        cmocka_unit_test(max_lines_cuts_and_drops_until_next_event),
        cmocka_unit_test(max_bytes_cuts_line_and_event),
        cmocka_unit_test(memory_bounded_on_endless_event),
        cmocka_unit_test(cut_lines_from_line_reader_are_truncated),
        cmocka_unit_test(crlf_is_stripped_upstream),
        cmocka_unit_test(timeout_flushes_through_the_passed_clock),
        cmocka_unit_test(timeout_zero_never_expires),
        cmocka_unit_test(errors_say_what_to_do),
        cmocka_unit_test(python_rules),
        cmocka_unit_test(java_rules),
        cmocka_unit_test(java_hold_released_by_limit_timeout_and_flush),
        cmocka_unit_test(python_app_log),
        cmocka_unit_test(python_basic_log),
        cmocka_unit_test(java_logback_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
