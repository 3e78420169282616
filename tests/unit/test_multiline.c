/* test_multiline.c: the multiline joiner as the shipper relies on it.
 *
 * Pattern mode: the four negate/match combinations with exact events and
 * offsets, a grok pattern, max_lines and max_bytes cuts, the cut flag of
 * line_reader, CRLF, the timeout through the passed clock, the end-of-input
 * flush, done_offset. Presets: the rules one case at a time, then real-looking
 * logs in tests/shipper/multiline/ (NAME.log, NAME.expected.jsonl, one JSON
 * line {"offset","lines","text"} per event) fed in fragments of every size.
 *
 * Pulling: every test drains through the same consumer, which checks at
 * each step that done_offset never goes back and never passes the event
 * peeked; the real logs and a timed run go through lazy consumers too (one
 * event per refused push, a drain every N pushes) and must give the same
 * events; and the contract of push, peek and pop while an event waits. */
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

#define MAX_EVENTS 256

struct got {
    struct multiline_event ev[MAX_EVENTS]; /* text points into texts */
    char *texts[MAX_EVENTS];
    size_t n;
    uint64_t done; /* the last done_offset seen: it never goes back */
};

/* How the test consumer pulls: after every push (as the old callback
 * did), only one event each time a push is refused, or everything every
 * `every` pushes (and one event per refusal in between). */
enum pull { PULL_EAGER, PULL_ONE, PULL_EVERY };

static struct {
    struct got *g; /* where the joiner made last by make() delivers */
    enum pull pull;
    unsigned every, pushes;
    bool trim; /* multiline_trim after every drain and every push */
} sink = {NULL, PULL_EAGER, 1, 0, false};

static void see_done(struct multiline *ml, struct got *g)
{
    uint64_t d = multiline_done_offset(ml);
    assert_true(d >= g->done);
    g->done = d;
}

static void collect(struct got *g, const struct multiline_event *ev)
{
    assert_non_null(ev->text.ptr);
    assert_true(g->n < MAX_EVENTS);
    char *t = malloc(ev->text.len + 1);
    assert_non_null(t);
    memcpy(t, ev->text.ptr, ev->text.len);
    t[ev->text.len] = '\0';
    g->ev[g->n] = *ev;
    g->ev[g->n].text.ptr = t;
    g->texts[g->n++] = t;
}

/* Pulls one event; false when none is left. done_offset is at most the
 * event's first line while it is not popped. */
static bool pull_one(struct multiline *ml, struct got *g)
{
    struct multiline_event ev;
    see_done(ml, g);
    if (!multiline_peek(ml, &ev))
        return false;
    see_done(ml, g);
    assert_true(g->done <= ev.offset);
    collect(g, &ev);
    multiline_pop(ml);
    see_done(ml, g);
    return true;
}

static void drain(struct multiline *ml)
{
    while (pull_one(ml, sink.g))
        ;
    if (sink.trim)
        multiline_trim(ml);
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

/* The consumers every log goes through; the first is the reference. */
static const struct {
    enum pull pull;
    unsigned every;
} consumers[] = {
    {PULL_EAGER, 1}, {PULL_ONE, 1}, {PULL_EVERY, 2}, {PULL_EVERY, 7}};
#define NCONSUMERS (sizeof consumers / sizeof consumers[0])

static void use_consumer(size_t i)
{
    sink.pull = consumers[i].pull;
    sink.every = consumers[i].every;
}

/* The same events, in the same order, with the same offsets and flags. */
static void assert_same_events(const struct got *want, const struct got *got,
                               const char *what)
{
    if (got->n != want->n)
        fail_msg("%s: %zu events, want %zu", what, got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const struct multiline_event *a = &got->ev[i], *b = &want->ev[i];
        if (a->offset != b->offset || a->end != b->end ||
            a->lines != b->lines || a->dropped != b->dropped ||
            a->truncated != b->truncated || a->continued != b->continued ||
            a->cut != b->cut || strcmp(got->texts[i], want->texts[i]) != 0)
            fail_msg("%s: event %zu at %llu differs from the eager one at "
                     "%llu",
                     what, i, (unsigned long long)a->offset,
                     (unsigned long long)b->offset);
    }
}

/* ---- making joiners and feeding them ---------------------------------- */

static struct multiline *make(struct multiline_config *cfg, struct got *g)
{
    struct sl_err err = {0};
    struct multiline *ml = multiline_new(cfg, &err);
    if (ml == NULL)
        fail_msg("multiline_new: %s", err.msg);
    sink.g = g;
    sink.pushes = 0;
    g->done = 0;
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

/* Pushes a line as the consumer in `sink` would. A push is refused only
 * while an event waits, and a refused push takes nothing. done_offset never
 * passes the end of the line pushed. */
static void push_line(struct multiline *ml, const struct multiline_line *line,
                      uint64_t now)
{
    struct got *g = sink.g;
    const struct multiline_stats *st = multiline_stats(ml);
    for (;;) {
        see_done(ml, g);
        uint64_t lines = st->lines;
        if (multiline_push(ml, line, now))
            break;
        /* the eager consumer drains after each push: never refused */
        assert_int_not_equal(sink.pull, PULL_EAGER);
        assert_int_equal(st->lines, lines);
        assert_true(pull_one(ml, g));
    }
    if (sink.trim) /* work may wait for a peek: then it changes nothing */
        multiline_trim(ml);
    see_done(ml, g);
    assert_true(g->done <= line->end);
    sink.pushes++;
    if (sink.pull == PULL_EAGER ||
        (sink.pull == PULL_EVERY && sink.pushes % sink.every == 0))
        drain(ml);
}

/* The clock, then what the consumer does after it (eager: drain). */
static void tick(struct multiline *ml, uint64_t now)
{
    multiline_tick(ml, now);
    if (sink.pull == PULL_EAGER)
        drain(ml);
}

/* End of input: every consumer drains. */
static void flush(struct multiline *ml)
{
    multiline_flush(ml);
    drain(ml);
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
}

static void push_read(struct multiline *ml, const struct line_reader *lr,
                      struct sl_slice l, bool cut, uint64_t now)
{
    struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                  line_reader_line_end(lr), cut};
    push_line(ml, &line, now);
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
    push_line(ml, &l, now);
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
    flush(ml);
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
    flush(ml);
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
    flush(ml);
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
    flush(ml);
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
    flush(ml);
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
    flush(ml);
    assert_int_equal(g.n, 2);
    assert_event(&g, 0, 0, 2, "2026-11-23T10:00:01Z a\nmore");
    assert_event(&g, 1, 28, 1, "2026-11-23 10:00:02,5 b");
    multiline_free(ml);
    got_free(&g);
}

/* ---- limits ----------------------------------------------------------- */

static void max_lines_splits_and_goes_on_in_the_next_event(void **state)
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
    flush(ml);
    assert_int_equal(g.n, 3);
    assert_event(&g, 0, 0, 3, "a\n 1\n 2");
    assert_true(g.ev[0].truncated);
    assert_false(g.ev[0].continued);
    assert_int_equal(g.ev[0].end, 8);
    /* the lines past the limit: the next event, flagged continued */
    assert_event(&g, 1, 8, 2, " 3\n 4");
    assert_false(g.ev[1].truncated);
    assert_true(g.ev[1].continued);
    assert_int_equal(g.ev[1].end, 14);
    assert_event(&g, 2, 14, 2, "b\n 5");
    assert_false(g.ev[2].truncated || g.ev[2].continued);
    const struct multiline_stats *st = multiline_stats(ml);
    assert_int_equal(st->lines, 7);
    assert_int_equal(st->dropped, 0);
    assert_int_equal(st->truncated, 1);
    assert_int_equal(st->splits, 1);
    multiline_free(ml);
    got_free(&g);
}

static void max_bytes_splits_events_and_cuts_lines(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^ ";
    cfg.max_bytes = 10;
    struct multiline *ml = make(&cfg, &g);
    /* 6 + "\n" + 6 > 10: " 12345" goes on in the next event, with " x";
     * a line longer than max_bytes is cut; exactly max_bytes is not */
    feed(ml, "abcdef\n 12345\n x\n0123456789ABC\nabcd\n 1234\nok\n");
    flush(ml);
    assert_int_equal(g.n, 5);
    assert_event(&g, 0, 0, 1, "abcdef");
    assert_true(g.ev[0].truncated);
    assert_event(&g, 1, 7, 2, " 12345\n x");
    assert_true(g.ev[1].continued);
    assert_false(g.ev[1].truncated);
    assert_event(&g, 2, 17, 1, "0123456789");
    assert_true(g.ev[2].truncated);
    assert_false(g.ev[2].continued);
    assert_event(&g, 3, 31, 2, "abcd\n 1234");
    assert_false(g.ev[3].truncated);
    assert_event(&g, 4, 42, 1, "ok");
    multiline_free(ml);
    got_free(&g);

    /* a line is judged on the bytes an event can keep: "cdefZ" cut to
     * "cdef" does not end in Z, so it does not join; "xyZ" joins it, past
     * the limit: its own part */
    cfg.pattern = "Z$";
    cfg.max_bytes = 4;
    ml = make(&cfg, &g);
    feed(ml, "ab\ncdefZ\nxyZ\n");
    flush(ml);
    assert_int_equal(g.n, 3);
    assert_event(&g, 0, 0, 1, "ab");
    assert_false(g.ev[0].truncated);
    assert_event(&g, 1, 3, 1, "cdef");
    assert_true(g.ev[1].truncated);
    assert_event(&g, 2, 9, 1, "xyZ");
    assert_true(g.ev[2].continued);
    assert_int_equal(multiline_stats(ml)->dropped, 0);
    multiline_free(ml);
    got_free(&g);
}

/* 100000 continuation lines of 100 bytes: every event stays within
 * max_bytes (ASan and the allocator see the buffers: they never grow past
 * it), and every line is in one. */
static void memory_bounded_on_endless_event(void **state)
{
    (void)state;
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.preset = "java";
    cfg.max_bytes = 4096;
    struct sl_err err = {0};
    struct multiline *ml = multiline_new(&cfg, &err);
    assert_non_null(ml);
    char frame[101];
    memset(frame, 'x', sizeof frame - 1);
    memcpy(frame, "\tat ", 4);
    frame[100] = '\0';
    struct multiline_line l = {"record", 6, 0, 7, false};
    uint64_t lines = 0, events = 0;
    struct multiline_event ev;
    for (uint64_t i = 0; i <= 100000; i++) {
        while (!multiline_push(ml, &l, 0)) {
            assert_true(multiline_peek(ml, &ev));
            assert_true(ev.text.len <= 4096);
            assert_int_equal(ev.continued, events > 0);
            assert_true(ev.truncated);
            lines += ev.lines;
            events++;
            multiline_pop(ml);
        }
        l = (struct multiline_line){frame, 100, 7 + i * 101, 7 + i * 101 + 101,
                                    false};
        assert_true(multiline_memory(ml) <= 5 * (4096 + 2 * SL_BUF_SLACK));
    }
    multiline_flush(ml);
    while (multiline_peek(ml, &ev)) {
        assert_true(ev.continued);
        lines += ev.lines;
        events++;
        multiline_pop(ml);
    }
    /* the record and 40 frames fit 4096, then 40 frames a part */
    assert_int_equal(lines, 100001);
    assert_int_equal(events, 2500);
    assert_int_equal(multiline_stats(ml)->dropped, 0);
    multiline_free(ml);
}

/* Joins the events' texts with "\n": the lines that went in, when no
 * blank line was dropped. */
static void assert_lossless(const struct got *g, const char *lines)
{
    size_t n = 0, at = 0;
    for (size_t i = 0; i < g->n; i++)
        n += strlen(g->texts[i]) + 1;
    char *all = malloc(n + 1);
    assert_non_null(all);
    for (size_t i = 0; i < g->n; i++) {
        size_t len = strlen(g->texts[i]);
        memcpy(all + at, g->texts[i], len);
        all[at + len] = '\n';
        at += len + 1;
    }
    all[at] = '\0';
    assert_string_equal(all, lines);
    free(all);
}

/* log through a joiner of the preset and max_lines, flushed, into g. */
static struct multiline *split_run(const char *preset, uint32_t max_lines,
                                   const char *log, struct got *g)
{
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.preset = preset;
    cfg.max_lines = max_lines;
    struct multiline *ml = make(&cfg, g);
    feed(ml, log);
    flush(ml);
    return ml;
}

/* log through split_run() by every consumer: check's events, lossless. */
static void split_by_each_consumer(const char *preset, uint32_t max_lines,
                                   const char *log,
                                   void (*check)(const struct got *g))
{
    for (size_t c = 0; c < NCONSUMERS; c++) {
        use_consumer(c);
        struct got g = {0};
        struct multiline *ml = split_run(preset, max_lines, log, &g);
        check(&g);
        assert_lossless(&g, log);
        multiline_free(ml);
        got_free(&g);
    }
    use_consumer(0);
}

/* A Python traceback longer than max_lines: the parts that go on carry
 * the rest, the exception line (the one that says what failed) last;
 * what follows is decided as it would have been in one event. */
static void python_traceback_past_max_lines_check(const struct got *g)
{
    assert_int_equal(g->n, 4);
    assert_true(g->ev[0].truncated && !g->ev[0].continued);
    assert_true(g->ev[1].truncated && g->ev[1].continued);
    assert_event(g, 2, 229, 2,
                 "ValueError: bad\nDETAIL:  a message line of the "
                 "exception");
    assert_true(g->ev[2].continued && !g->ev[2].truncated);
    assert_event(g, 3, 286, 1, "2026-12-05 09:00:01 INFO app: next");
}

static void python_traceback_past_max_lines_keeps_its_exception(void **state)
{
    (void)state;
    static const char log[] = "2026-12-05 09:00:00 ERROR app: failed\n"
                              "Traceback (most recent call last):\n"
                              "  File \"/app/a.py\", line 1, in main\n"
                              "    run()\n"
                              "  File \"/app/b.py\", line 2, in run\n"
                              "    step()\n"
                              "  File \"/app/c.py\", line 3, in step\n"
                              "    raise ValueError(\"bad\")\n"
                              "ValueError: bad\n"
                              "DETAIL:  a message line of the exception\n"
                              "2026-12-05 09:00:01 INFO app: next\n";
    split_by_each_consumer("python", 4, log,
                           python_traceback_past_max_lines_check);
}

/* Java: held lines (an exception line and its message, waiting for the
 * first frame) join past the limit more than once in one step; every
 * part comes out, in order, with nothing lost, through every consumer. */
static void java_held_lines_split_more_than_once(void **state)
{
    (void)state;
    static const char log[] = "2026-12-05 09:00:00 ERROR c.e.Svc - failed\n"
                              "com.example.BadThing: first line\n"
                              "second line of the message\n"
                              "third line of the message\n"
                              "\tat com.example.Svc.run(Svc.java:10)\n"
                              "\t... 12 more\n"
                              "Caused by: java.io.IOException: disk\n"
                              "\tat java.io.F.w(F.java:1)\n"
                              "\t... 3 more\n"
                              "2026-12-05 09:00:01 INFO c.e.Svc - next\n";
    for (size_t c = 0; c < NCONSUMERS; c++) {
        use_consumer(c);
        struct got g = {0};
        struct multiline *ml = split_run("java", 2, log, &g);
        assert_int_equal(g.n, 6);
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(g.ev[i].lines, i < 4 ? 2 : 1);
            assert_int_equal(g.ev[i].continued, i > 0);
            assert_int_equal(g.ev[i].truncated, i < 4);
        }
        assert_string_equal(g.texts[3], "Caused by: java.io.IOException: "
                                        "disk\n\tat java.io.F.w(F.java:1)");
        assert_lossless(&g, log);
        assert_int_equal(multiline_stats(ml)->splits, 4);
        multiline_free(ml);
        got_free(&g);
    }
    use_consumer(0);

    /* by bytes: a continuation longer than the room left */
    struct got g = {0};
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.preset = "java";
    cfg.max_bytes = 60;
    struct multiline *ml = make(&cfg, &g);
    feed(ml, log);
    flush(ml);
    assert_lossless(&g, log);
    for (size_t i = 0; i < g.n; i++)
        assert_true(strlen(g.texts[i]) <= 60);
    multiline_free(ml);
    got_free(&g);
}

/* match=before: the line that ends an event past the limit ends its
 * last part, after the first part is popped. */
static void before_split_then_end(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONSUMERS; c++) {
        use_consumer(c);
        struct got g = {0};
        struct multiline_config cfg;
        multiline_config_init(&cfg);
        cfg.pattern = "\\\\$";
        cfg.match = "before";
        cfg.max_lines = 2;
        struct multiline *ml = make(&cfg, &g);
        feed(ml, "a \\\nb \\\nc\nd\n");
        flush(ml);
        assert_int_equal(g.n, 3);
        assert_event(&g, 0, 0, 2, "a \\\nb \\");
        assert_event(&g, 1, 8, 1, "c");
        assert_true(g.ev[1].continued);
        assert_event(&g, 2, 10, 1, "d");
        assert_false(g.ev[2].continued);
        multiline_free(ml);
        got_free(&g);
    }
    use_consumer(0);
}

static void cut_lines_from_line_reader_are_truncated(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    const char *in = "short\nthis line is long\n continuation\nend\n";
    feed_n(ml, in, strlen(in), 8, 3, 0);
    flush(ml);
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
    flush(ml);
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
    tick(ml, 6999);
    assert_int_equal(g.n, 0);
    assert_int_equal(multiline_done_offset(ml), 0);
    tick(ml, 7000);
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
    flush(ml);
    assert_event(&g, 2, 8, 1, " d");
    assert_int_equal(multiline_stats(ml)->timeouts, 2);
    multiline_free(ml);
    got_free(&g);
}

/* A touch (a line of the event may be being written, or a copytruncate's
 * copy is being handed over) starts the open event's timeout again, never
 * back: a tick at the old deadline and a push after it join, where without
 * it the event would have timed out first. */
static void a_touch_starts_the_timeout_again(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    multiline_touch(ml, 3000); /* no event open: nothing to do */
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
    push(ml, "a", 0, 1000);
    multiline_touch(ml, 500); /* the clock does not go back */
    assert_int_equal(multiline_next_deadline(ml), 6000);
    multiline_touch(ml, 9000);
    assert_int_equal(multiline_next_deadline(ml), 14000);
    tick(ml, 6000);
    push(ml, " b", 2, 10000);
    assert_int_equal(g.n, 0);
    flush(ml);
    assert_event(&g, 0, 0, 2, "a\n b");
    assert_int_equal(multiline_stats(ml)->timeouts, 0);
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
    tick(ml, UINT64_MAX - 1);
    push(ml, " b", 2, UINT64_MAX - 1);
    assert_int_equal(g.n, 0);
    flush(ml);
    assert_event(&g, 0, 0, 2, "a\n b");
    flush(ml); /* twice: nothing more */
    assert_int_equal(g.n, 1);
    multiline_free(ml);
    got_free(&g);
}

/* ---- configuration errors --------------------------------------------- */

static void expect_error(struct multiline_config *cfg, const char *msg)
{
    struct sl_err err = {0};
    assert_null(multiline_new(cfg, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void errors_say_what_to_do(void **state)
{
    (void)state;
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    expect_error(&cfg, "multiline: no pattern; set 'pattern' (a regular "
                       "expression) or 'preset' ('python', 'java' or 'go')");
    cfg.preset = "pyton";
    expect_error(&cfg, "multiline: unknown preset 'pyton'; use 'python', "
                       "'java' or 'go', or a pattern");
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
    assert_null(multiline_new(&cfg, &err));
    assert_string_equal(err.msg,
                        "multiline: grok: expression '^(unclosed': invalid "
                        "regex: missing closing parenthesis at its end: the "
                        "'(' at offset 1, at '(unclosed', is not closed; a "
                        "literal ( ) [ ] { } * + ? | or \\ needs a "
                        "backslash before it");
    cfg.pattern = "^%{NOSUCH} ";
    assert_null(multiline_new(&cfg, &err));
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
    flush(ml);
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
    tick(ml, 5000);
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
    flush(ml);
    assert_int_equal(g.n, 2 + MULTILINE_HOLD_MAX);
    assert_event(&g, g.n - 1, off - 8, 1, "line 31");
    assert_int_equal(multiline_stats(ml)->lines, 2 + 2 + MULTILINE_HOLD_MAX);
    multiline_free(ml);
    got_free(&g);
}

/* ---- forced cuts ------------------------------------------------------ */

/* Pushes lines[from, to) one after the other from offset *off at clock
 * now; *off moves past them. */
static void push_range(struct multiline *ml, const char *const *lines,
                       size_t from, size_t to, uint64_t *off, uint64_t now)
{
    for (size_t i = from; i < to; i++) {
        push(ml, lines[i], *off, now);
        *off += strlen(lines[i]) + 1;
    }
}

/* A traceback whose writer paused after its second line for longer than
 * the timeout: the first read cut it there (the head an event of its own,
 * carrying the cut), and a read of the same lines again that is told to
 * cut there (a restart: no pause this time) makes the same events, cut
 * included; without the cut the lines make one event. */
static void forced_cut_repeats_a_timeout(void **state)
{
    (void)state;
    static const char *const tb[] = {
        "Traceback (most recent call last):", "  File \"a.py\", line 1",
        "    f()", "ValueError: boom", "next"};
    struct got first = {0}, again = {0}, whole = {0};
    uint64_t off = 0;
    struct multiline *ml = make_preset("python", &first);
    push_range(ml, tb, 0, 2, &off, 1000);
    uint64_t cut = off;
    tick(ml, 1000 + MULTILINE_DEFAULT_TIMEOUT_MS);
    assert_int_equal(first.n, 1);
    assert_int_equal(first.ev[0].cut, cut);
    push_range(ml, tb, 2, 5, &off, 90000);
    flush(ml);
    /* the rest: "    f()", "ValueError: boom" and "next", which the
     * preset held to the end, so the flush completed them */
    assert_int_equal(first.n, 4);
    assert_event(&first, 0, 0, 2,
                 "Traceback (most recent call last):\n"
                 "  File \"a.py\", line 1");
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(first.ev[i].cut, off);
    multiline_free(ml);

    off = 0;
    ml = make_preset("python", &again);
    push_range(ml, tb, 0, 2, &off, 1000);
    multiline_cut(ml); /* the next line is at the cut */
    drain(ml);
    push_range(ml, tb, 2, 5, &off, 1000);
    flush(ml);
    assert_same_events(&first, &again, "forced cut");
    assert_int_equal(multiline_stats(ml)->timeouts, 1);
    multiline_free(ml);

    off = 0;
    ml = make_preset("python", &whole);
    push_range(ml, tb, 0, 5, &off, 1000);
    flush(ml);
    assert_int_equal(whole.n, 2);
    assert_int_equal(whole.ev[0].lines, 4);
    assert_int_equal(whole.ev[0].cut, 0); /* completed by "next" */
    multiline_free(ml);
    got_free(&first);
    got_free(&again);
    got_free(&whole);
}

/* Held lines (java: a class line before its first frame) are completed
 * by a timeout as events of their own, each carrying the cut; a forced
 * cut makes the same ones, and so does a cut asked while work waits for
 * a peek (it applies after that work). A cut with nothing open, or after
 * a flush, does nothing. */
static void forced_cut_releases_held_lines_as_the_timeout(void **state)
{
    (void)state;
    static const char *const tr[] = {"R", "x.Y: m", "\tat a.b(C.java:1)", "S"};
    struct got first = {0}, again = {0}, lazy = {0};
    uint64_t off = 0;
    struct multiline *ml = make_preset("java", &first);
    push_range(ml, tr, 0, 2, &off, 0);
    tick(ml, MULTILINE_DEFAULT_TIMEOUT_MS);
    push_range(ml, tr, 2, 4, &off, 60000);
    flush(ml);
    assert_int_equal(first.n, 4);
    assert_int_equal(first.ev[0].cut, 9);
    assert_int_equal(first.ev[1].cut, 9);
    assert_event(&first, 1, 2, 1, "x.Y: m");
    multiline_free(ml);

    off = 0;
    ml = make_preset("java", &again);
    multiline_cut(ml); /* nothing open: nothing */
    push_range(ml, tr, 0, 2, &off, 0);
    multiline_cut(ml);
    drain(ml);
    push_range(ml, tr, 2, 4, &off, 0);
    flush(ml);
    assert_same_events(&first, &again, "forced cut");
    multiline_free(ml);

    /* a lazy consumer: the cut is asked while an event waits */
    off = 0;
    use_consumer(1); /* PULL_ONE */
    ml = make_preset("java", &lazy);
    push_range(ml, tr, 0, 1, &off, 0);
    push(ml, "S", off, 0); /* R is complete: it waits, S is open */
    off += 2;
    multiline_cut(ml);
    multiline_flush(ml); /* after the cut: finds nothing more to do */
    multiline_cut(ml);   /* after a flush: nothing */
    drain(ml);
    assert_int_equal(lazy.n, 2);
    assert_int_equal(lazy.ev[0].cut, 0);
    assert_event(&lazy, 1, 2, 1, "S");
    assert_int_equal(lazy.ev[1].cut, off);
    assert_int_equal(multiline_stats(ml)->timeouts, 1);
    use_consumer(0);
    multiline_free(ml);
    got_free(&first);
    got_free(&again);
    got_free(&lazy);
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
    /* every fragment size, and without the final newline, through every
     * consumer: the eager one gives the expected events, the lazy ones the
     * same as the eager one */
    size_t steps[] = {1, 2, 3, 7, 64, 4096, len + 1};
    static struct got eager, g;
    for (size_t v = 0; v < 2 * sizeof steps / sizeof steps[0]; v++) {
        size_t step = steps[v / 2];
        size_t size = v % 2 ? len - 1 : len;
        for (size_t c = 0; c < NCONSUMERS; c++) {
            use_consumer(c);
            struct got *gc = c == 0 ? &eager : &g;
            struct multiline *ml = make_preset(preset, gc);
            feed_n(ml, log, size, 1 << 20, step, 0);
            flush(ml);
            assert_int_equal(multiline_done_offset(ml), size);
            uint64_t sum = 0;
            for (size_t i = 0; i < gc->n; i++)
                sum += gc->ev[i].lines;
            const struct multiline_stats *st = multiline_stats(ml);
            assert_int_equal(sum + st->dropped, st->lines);
            assert_int_equal(st->events, gc->n);
            multiline_free(ml);
            if (c > 0) {
                assert_same_events(&eager, &g, name);
                got_free(&g);
            }
        }
        size_t used = 0;
        for (size_t i = 0; i < eager.n; i++)
            used += json_event(out + used, cap - used, &eager.ev[i],
                               eager.texts[i]);
        if (strcmp(out, want) != 0)
            fail_msg("%s (step %zu, %zu bytes): got\n%s\nwant\n%s", name, step,
                     size, out, want);
        got_free(&eager);
    }
    use_consumer(0);
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

/* Messages over several lines (psycopg2, SQLAlchemy, pydantic) join their
 * traceback in logs whose records open with a timestamp or '['; a plain
 * line after one (a "\n" in a message, or another writer's) does not. */
static void python_messages_log(void **state)
{
    (void)state;
    check_log("python_messages", "python");
}

static void java_logback_log(void **state)
{
    (void)state;
    check_log("java_logback", "java");
}

/* ---- pulling ---------------------------------------------------------- */

/* While an event waits, push refuses and changes nothing, peek returns the
 * same event, and its text stays as it was whatever else is called. */
static void push_refused_while_an_event_waits(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_pattern("^ ", false, NULL, &g);
    struct multiline_event ev, again;
    assert_false(multiline_peek(ml, &ev));
    struct multiline_line a = {"a", 1, 0, 2, false};
    struct multiline_line x = {" x", 2, 2, 5, false};
    struct multiline_line b = {"b", 1, 5, 7, false};
    struct multiline_line y = {" y", 2, 7, 10, false};
    /* nothing completed: the joiner stays idle, pushes go on */
    assert_true(multiline_push(ml, &a, 0));
    assert_true(multiline_push(ml, &x, 0));
    assert_true(multiline_push(ml, &b, 1000));
    assert_int_equal(multiline_done_offset(ml), 0);
    assert_false(multiline_push(ml, &y, 1000));
    assert_int_equal(multiline_stats(ml)->lines, 3);
    assert_int_equal(multiline_next_deadline(ml), UINT64_MAX);
    assert_true(multiline_peek(ml, &ev));
    assert_string_equal(ev.text.ptr, "a\n x");
    assert_int_equal(ev.end, 5);
    /* tick and flush wait behind it; its text does not move */
    multiline_tick(ml, 999999);
    multiline_flush(ml);
    assert_false(multiline_push(ml, &y, 1000));
    assert_true(multiline_peek(ml, &again));
    assert_ptr_equal(again.text.ptr, ev.text.ptr);
    assert_int_equal(again.text.len, 4);
    assert_memory_equal(ev.text.ptr, "a\n x", 4);
    assert_int_equal(multiline_done_offset(ml), 0); /* peeked, not popped */
    multiline_pop(ml);
    assert_int_equal(multiline_done_offset(ml), 5);
    /* the tick (b timed out: it counts as a timeout), then the flush */
    assert_true(multiline_peek(ml, &ev));
    assert_string_equal(ev.text.ptr, "b");
    assert_int_equal(multiline_stats(ml)->timeouts, 1);
    multiline_pop(ml);
    multiline_pop(ml); /* nothing waits: nothing happens */
    assert_int_equal(multiline_done_offset(ml), 7);
    assert_false(multiline_peek(ml, &ev));
    /* after the flush " y" has nothing to join */
    assert_true(multiline_push(ml, &y, 1000));
    assert_int_equal(multiline_next_deadline(ml), 6000);
    assert_int_equal(multiline_done_offset(ml), 7);
    multiline_flush(ml);
    assert_true(multiline_peek(ml, &ev));
    assert_string_equal(ev.text.ptr, " y");
    multiline_pop(ml);
    assert_false(multiline_peek(ml, &ev));
    assert_int_equal(multiline_done_offset(ml), 10);
    const struct multiline_stats *st = multiline_stats(ml);
    assert_int_equal(st->lines, 4);
    assert_int_equal(st->events, 3);
    assert_int_equal(st->timeouts, 1);
    multiline_free(ml);
}

/* One push completes MULTILINE_HOLD_MAX + 1 events (java releases its held
 * lines, and each becomes an event); popped one at a time, done_offset is
 * always the first line of the next event, never past it. */
static void done_offset_walks_event_by_event(void **state)
{
    (void)state;
    enum { N = MULTILINE_HOLD_MAX + 2 }; /* R, then held lines, then one */
    struct got g = {0};
    struct multiline *ml = make_preset("java", &g);
    uint64_t off[N];
    char line[32];
    uint64_t pos = 0;
    for (int i = 0; i < N; i++) {
        const char *s = i == 0 ? "R" : i == 1 ? "x.Y: m" : line;
        snprintf(line, sizeof line, "line %02d", i);
        off[i] = pos;
        struct multiline_line l = {s, strlen(s), pos, pos + strlen(s) + 1,
                                   false};
        assert_true(multiline_push(ml, &l, 0));
        pos = l.end;
    }
    /* the last push released them: R waits, the rest is still to do */
    assert_int_equal(multiline_stats(ml)->events, 1);
    struct multiline_line more = {"z", 1, pos, pos + 2, false};
    assert_false(multiline_push(ml, &more, 0));
    struct multiline_event ev;
    for (int i = 0; i < N - 1; i++) {
        assert_int_equal(multiline_done_offset(ml), off[i]);
        assert_true(multiline_peek(ml, &ev));
        assert_int_equal(ev.offset, off[i]);
        assert_int_equal(ev.lines, 1);
        assert_int_equal(multiline_done_offset(ml), off[i]);
        multiline_pop(ml);
        assert_int_equal(multiline_done_offset(ml), off[i + 1]);
    }
    assert_int_equal(multiline_stats(ml)->events, N - 1);
    /* the line that released them is open */
    assert_false(multiline_peek(ml, &ev));
    assert_int_equal(multiline_done_offset(ml), off[N - 1]);
    flush(ml);
    assert_int_equal(g.n, 1);
    assert_event(&g, 0, off[N - 1], 1, "line 33");
    assert_int_equal(multiline_done_offset(ml), pos);
    multiline_free(ml);
    got_free(&g);
}

/* Pushes a line from a buffer freed right after the push (ASan sees a
 * joiner that kept the caller's pointer). */
static bool push_copy(struct multiline *ml, const char *s, uint64_t off,
                      uint64_t now)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n + 1);
    struct multiline_line l = {p, n, off, off + n + 1, false};
    bool taken = multiline_push(ml, &l, now);
    memset(p, 'X', n);
    free(p);
    return taken;
}

/* A push that completes an event before it can place its line keeps the
 * line; a tick asked for meanwhile applies after that line, as it would
 * have if the consumer had drained at once. */
static void tick_while_busy_applies_after_the_waiting_line(void **state)
{
    (void)state;
    struct got g = {0};
    for (int lazy = 0; lazy < 2; lazy++) {
        struct multiline *ml = make_preset("java", &g);
        assert_true(push_copy(ml, "R", 0, 0));
        assert_true(push_copy(ml, "x.Y: m", 2, 0));
        /* a second exception line: R is complete, "a.B: n" must wait
         * while "x.Y: m" is decided again */
        assert_true(push_copy(ml, "a.B: n", 9, 0));
        assert_int_equal(multiline_done_offset(ml), 0);
        if (!lazy)
            drain(ml);
        multiline_tick(ml, 5000);
        drain(ml);
        /* x.Y: m, then a.B: n held behind it, both timed out */
        assert_int_equal(g.n, 3);
        assert_event(&g, 0, 0, 1, "R");
        assert_event(&g, 1, 2, 1, "x.Y: m");
        assert_event(&g, 2, 9, 1, "a.B: n");
        assert_int_equal(multiline_stats(ml)->timeouts, 2);
        assert_int_equal(multiline_done_offset(ml), 16);
        multiline_free(ml);
        got_free(&g);
    }
}

/* A log fed with a clock that jumps past the timeout now and then and ticks
 * in between, with tight limits: every consumer gets the eager one's events
 * and counters. Also the pushed line that must wait (kept in the joiner). */
static void run_timed(const struct multiline_config *cfg, const char *log,
                      size_t len, struct got *g, struct multiline_stats *st)
{
    struct multiline_config c = *cfg;
    struct multiline *ml = make(&c, g);
    struct line_reader *lr = line_reader_new(1 << 20);
    assert_non_null(lr);
    assert_int_equal(line_reader_feed(lr, log, len, NULL), 0);
    struct sl_slice l;
    bool cut;
    uint64_t now = 0;
    for (unsigned i = 0; line_reader_next(lr, &l, &cut); i++) {
        now += i % 7 == 3 ? 6000 : i % 5 == 0 ? 2500 : 100;
        if (i % 4 == 1)
            tick(ml, now - 50);
        push_read(ml, lr, l, cut, now);
    }
    tick(ml, now + 4000);
    flush(ml);
    *st = *multiline_stats(ml);
    line_reader_free(lr);
    multiline_free(ml);
}

/* The real logs through every consumer (with trim: multiline_trim after
 * every drain and push, from the eager one on) give the eager consumer's
 * events, in every mode, with the clock. */
static void consumers_match_eager(bool trim)
{
    char path[4096];
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dir = slash ? (int)(slash - file) : 1;
    const char *logs[] = {"python_app", "java_logback"};
    struct multiline_config cfg[6];
    for (size_t k = 0; k < 6; k++) {
        multiline_config_init(&cfg[k]);
        cfg[k].max_lines = 6;
        cfg[k].max_bytes = 180;
    }
    cfg[0].preset = "python";
    cfg[1].preset = "java";
    cfg[2].pattern = "^[0-9]{4}-";
    cfg[2].negate = true;
    cfg[3].pattern = "^[ \\t]";
    cfg[3].match = "before";
    cfg[4].pattern = ":$";
    cfg[4].match = "before";
    cfg[5].preset = "java";
    cfg[5].timeout_ms = 0;
    static struct got eager, g;
    for (size_t f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "%.*s/../shipper/multiline/%s.log", dir,
                 slash ? file : ".", logs[f]);
        size_t len;
        char *log = slurp(path, &len);
        for (size_t k = 0; k < 6; k++) {
            struct multiline_stats want, st;
            use_consumer(0);
            run_timed(&cfg[k], log, len, &eager, &want);
            assert_true(want.events > 5);
            for (size_t c = trim ? 0 : 1; c < NCONSUMERS; c++) {
                use_consumer(c);
                sink.trim = trim;
                run_timed(&cfg[k], log, len, &g, &st);
                sink.trim = false;
                assert_same_events(&eager, &g, logs[f]);
                assert_memory_equal(&st, &want, sizeof st);
                got_free(&g);
            }
            got_free(&eager);
        }
        free(log);
    }
    use_consumer(0);
}

static void lazy_consumers_match_eager_with_the_clock(void **state)
{
    (void)state;
    consumers_match_eager(false);
}

/* ---- memory: trim and shared rules ------------------------------------ */

/* Pushes lines by hand from offset *off on, advancing it. */
static void push_lines(struct multiline *ml, const char *const *lines, size_t n,
                       uint64_t *off, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        push(ml, lines[i], *off, now);
        *off += strlen(lines[i]) + 1;
    }
}

static const char *const py_error[] = {
    "2024-05-01 10:00:00 ERROR boom",
    "Traceback (most recent call last):",
    "  File \"app.py\", line 3, in <module>",
    "    main()",
    "ValueError: bad",
    "", /* held, then dropped: a record follows */
    "2024-05-01 10:00:01 INFO next",
};

static void trim_after_drain_releases_and_joins_again(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_preset("python", &g);
    assert_int_equal(multiline_memory(ml), 0);
    uint64_t off = 0;
    push_lines(ml, py_error, 7, &off, 0);
    assert_int_equal(g.n, 1);
    assert_event(&g, 0, 0, 5,
                 "2024-05-01 10:00:00 ERROR boom\n"
                 "Traceback (most recent call last):\n"
                 "  File \"app.py\", line 3, in <module>\n"
                 "    main()\n"
                 "ValueError: bad");
    /* the blank line was held (the hold array), the record after it
     * waited in pend_buf: both empty now, and freed */
    size_t before = multiline_memory(ml);
    assert_true(before > 32 * sizeof(uint64_t));
    uint64_t done = multiline_done_offset(ml);
    multiline_trim(ml);
    /* "next" waits for its timeout: its text (64 bytes + 8 of slack) and
     * out, the first event's buffer (129 bytes: 256 + 8), are kept */
    assert_int_equal(multiline_memory(ml), 72 + 264);
    assert_int_equal(multiline_done_offset(ml), done);
    assert_int_equal(multiline_next_deadline(ml), 5000);
    tick(ml, 5000);
    assert_int_equal(g.n, 2);
    assert_event(&g, 1, done, 1, "2024-05-01 10:00:01 INFO next");
    multiline_trim(ml); /* nothing open: everything goes */
    assert_int_equal(multiline_memory(ml), 0);
    assert_int_equal(multiline_done_offset(ml), off);
    /* and the same lines join the same way again */
    uint64_t again = off;
    push_lines(ml, py_error, 7, &off, 6000);
    multiline_trim(ml);
    flush(ml);
    assert_int_equal(g.n, 4);
    assert_event(&g, 2, again, 5, g.texts[0]);
    assert_event(&g, 3, again + (done - 0), 1, g.texts[1]);
    multiline_trim(ml);
    assert_int_equal(multiline_memory(ml), 0);
    assert_int_equal(multiline_stats(ml)->events, 4);
    assert_int_equal(multiline_stats(ml)->dropped, 2);
    multiline_free(ml);
    got_free(&g);
}

/* A trim while an event waits for its timeout, and while a preset holds
 * lines back, keeps them: the event completes with every line. */
static void trim_keeps_an_event_waiting_and_held_lines(void **state)
{
    (void)state;
    struct got g = {0};
    struct multiline *ml = make_preset("python", &g);
    uint64_t off = 0;
    push_lines(ml, py_error, 3, &off, 0);
    multiline_trim(ml);
    assert_int_equal(g.n, 0);
    push_lines(ml, py_error + 3, 2, &off, 100);
    multiline_trim(ml);
    assert_int_equal(multiline_next_deadline(ml), 5100);
    tick(ml, 5100);
    multiline_trim(ml);
    assert_int_equal(g.n, 1);
    assert_event(&g, 0, 0, 5, g.texts[0]);
    assert_int_equal(strlen(g.texts[0]), 129);
    assert_int_equal(multiline_stats(ml)->timeouts, 1);
    multiline_free(ml);
    got_free(&g);

    /* java: the exception line is held until its first frame */
    ml = make_preset("java", &g);
    off = 0;
    static const char *const java[] = {
        "2024-05-01 10:00:00 ERROR failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.x.Svc.run(Svc.java:10)",
    };
    push_lines(ml, java, 2, &off, 0);
    multiline_trim(ml);
    assert_true(multiline_memory(ml) >= 32 * sizeof(uint64_t)); /* held */
    push_lines(ml, java + 2, 1, &off, 10);
    multiline_trim(ml);
    flush(ml);
    assert_int_equal(g.n, 1);
    assert_event(&g, 0, 0, 3,
                 "2024-05-01 10:00:00 ERROR failed\n"
                 "java.lang.IllegalStateException: boom\n"
                 "\tat com.x.Svc.run(Svc.java:10)");
    multiline_trim(ml);
    assert_int_equal(multiline_memory(ml), 0);
    multiline_free(ml);
    got_free(&g);
}

static void trimming_consumers_match_eager(void **state)
{
    (void)state;
    consumers_match_eager(true);
}

/* Two joiners on one rules object (one compiled pattern), pushed in turn,
 * make the events each would make alone. */
static void joiners_share_rules(void **state)
{
    (void)state;
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    cfg.pattern = "^[ \\t]";
    struct sl_err err = {0};
    struct multiline_rules *r = multiline_rules_new(&cfg, &err);
    assert_non_null(r);
    struct multiline *a = multiline_new_shared(r, &err);
    struct multiline *b = multiline_new_shared(r, &err);
    assert_non_null(a);
    assert_non_null(b);
    struct got ga = {0}, gb = {0};
    sink.g = &ga;
    push(a, "a1", 0, 0);
    sink.g = &gb;
    push(b, "b1", 0, 0);
    push(b, " b2", 3, 0);
    sink.g = &ga;
    push(a, " a2", 3, 0);
    push(a, "a3", 7, 0);
    sink.g = &gb;
    push(b, "b3", 7, 0);
    assert_int_equal(ga.n, 1);
    assert_event(&ga, 0, 0, 2, "a1\n a2");
    assert_int_equal(gb.n, 1);
    assert_event(&gb, 0, 0, 2, "b1\n b2");
    multiline_free(a);
    multiline_free(b);
    multiline_rules_free(r);
    got_free(&ga);
    got_free(&gb);

    cfg.pattern = "(";
    assert_null(multiline_rules_new(&cfg, &err));
    assert_int_equal(err.status, SL_EINVAL);
}

/* Logback's and Log4j 2's %rEx print the root cause first, each wrapper
 * after it as "Wrapped by: ": one event, its message lines held as after
 * "Caused by:". */
static void java_root_cause_first(void **state)
{
    (void)state;
    assert_preset("java",
                  "R\nx.Root: r\n\tat a\nWrapped by: x.Wrap: w\nmore\n"
                  "\tat b\n\t... 3 common frames omitted\nS\n",
                  "R\nx.Root: r\n\tat a\nWrapped by: x.Wrap: w\nmore\n\tat b"
                  "\n\t... 3 common frames omitted|S|");
}

/* The event, then a line after it: one event, then that line. */
static void assert_one_event(const char *preset, const char *event,
                             const char *after)
{
    char in[2048], want[2048];
    snprintf(in, sizeof in, "%s\n%s\n", event, after);
    snprintf(want, sizeof want, "%s|%s|", event, after);
    assert_preset(preset, in, want);
}

/* A cause printed with no traceback of its own after a record (`raise X
 * from Y()`; multiprocessing's RemoteTraceback, the worker's traceback in
 * its message) joins once the chain message comes; without one, the held
 * lines are records as before. */
static void python_cause_without_traceback(void **state)
{
    (void)state;
    assert_one_event("python",
                     "R\nValueError: y\n\nThe above exception was the direct "
                     "cause of the following exception:\n\nTraceback (most "
                     "recent call last):\n  File \"a\", line 1, in f\n"
                     "RuntimeError: x",
                     "S");
    assert_one_event("python",
                     "R\nmultiprocessing.pool.RemoteTraceback: \n\"\"\"\n"
                     "Traceback (most recent call last):\n  File \"w\", line "
                     "3, in f\n    1/0\nZeroDivisionError: division by zero\n"
                     "\"\"\"\n\nThe above exception was the direct cause of "
                     "the following exception:\n\nTraceback (most recent "
                     "call last):\n  File \"m\", line 6, in <module>\n"
                     "ZeroDivisionError: division by zero",
                     "S");
    /* no chain message: records, as before */
    assert_preset("python", "R\napp.db: connected\nS\n",
                  "R|app.db: connected|S|");
    assert_preset("python", "R\nValueError: y\n\nS\nT\n",
                  "R|ValueError: y|S|T|");
    assert_preset("python", "R\nValueError: y\n", "R|ValueError: y|");
    /* a plain word or an upper-case level is not held */
    assert_preset("python", "R\nDone\nINFO: x\n", "R|Done|INFO: x|");
}

/* java preset: an unqualified name that ends in "Error" or "Exception"
 * under a record (Node.js's "TypeError: x", Java's default package) is
 * held like a qualified one: it joins when frames follow. */
static void java_error_names_unqualified(void **state)
{
    (void)state;
    assert_preset("java", "R\nTypeError: x\n    at f (/a.js:1:2)\nS\n",
                  "R\nTypeError: x\n    at f (/a.js:1:2)|S|");
    assert_preset("java", "R\nMyException\n\tat a.b(C.java:1)\nS\n",
                  "R\nMyException\n\tat a.b(C.java:1)|S|");
    assert_preset("java", "R\nError: not a trace\nS\n",
                  "R|Error: not a trace|S|");
    assert_preset("java", "R\nTypeErrors: x\n\tat a\n",
                  "R|TypeErrors: x\n\tat a|");
}

/* A remote traceback in triple quotes joins however long it is (more
 * lines than can be held); quotes never closed end at the next line that
 * opens like the record. */
static void python_quoted_cause(void **state)
{
    (void)state;
    char in[8192], want[8192];
    size_t a = 0;
    a += (size_t)snprintf(in + a, sizeof in - a,
                          "2026 R\nx.RemoteTraceback: \n\"\"\"\n"
                          "Traceback (most recent call last):\n");
    for (int i = 0; i < 3 * MULTILINE_HOLD_MAX; i++)
        a += (size_t)snprintf(in + a, sizeof in - a,
                              "  File \"w.py\", line %d, in f\n", i);
    a += (size_t)snprintf(in + a, sizeof in - a,
                          "KeyError: 1\n\"\"\"\n\nThe above exception was the "
                          "direct cause of the following exception:\n\n"
                          "Traceback (most recent call last):\n"
                          "  File \"m.py\", line 1, in g\nKeyError: 1\n");
    memcpy(want, in, a - 1);
    snprintf(want + a - 1, sizeof want - (a - 1), "|2026 S|");
    snprintf(in + a, sizeof in - a, "2026 S\n");
    assert_preset("python", in, want);
    assert_preset("python",
                  "2026 R\nx.Remote: \n\"\"\"\nTraceback (most recent call "
                  "last):\n  File \"w\", line 1, in f\n2026 S\n2026 T\n",
                  "2026 R\nx.Remote: \n\"\"\"\nTraceback (most recent call "
                  "last):\n  File \"w\", line 1, in f|2026 S|2026 T|");
    /* after the closing quotes, no chain message: a record */
    assert_preset("python",
                  "2026 R\nx.Remote: \n\"\"\"\nE: 1\n\"\"\"\n\n2026 S\n",
                  "2026 R\nx.Remote: \n\"\"\"\nE: 1\n\"\"\"|2026 S|");
}

/* loguru: "> File" marks the frame that caught the exception, blank
 * lines part the frames and the exception line. */
static void python_loguru(void **state)
{
    (void)state;
    assert_one_event("python",
                     "2026 | ERROR | failed\nTraceback (most recent call "
                     "last):\n\n> File \"/a.py\", line 9, in <module>\n"
                     "    g(1)\n    \xe2\x94\x94 <function g>\n\n  File "
                     "\"/a.py\", line 5, in f\n    return 1 / x\n\n"
                     "ZeroDivisionError: division by zero",
                     "2026 | INFO | next");
}

/* java.util.logging's two-line records: the level line joins its
 * header, once; a level line under anything else is a record. */
static void java_jul_records(void **state)
{
    (void)state;
    assert_preset("java",
                  "Dec 05, 2026 3:37:38 AM J main\nINFO: starting\n"
                  "Dec 05, 2026 3:37:38 AM J main\nSEVERE: failed\n"
                  "java.lang.NumberFormatException: x\n\tat J.main(J.java:8)"
                  "\n\nDec 05, 2026 3:37:39 AM J main\nWARNING: low\n",
                  "Dec 05, 2026 3:37:38 AM J main\nINFO: starting|"
                  "Dec 05, 2026 3:37:38 AM J main\nSEVERE: failed\n"
                  "java.lang.NumberFormatException: x\n\tat J.main(J.java:8)|"
                  "Dec 05, 2026 3:37:39 AM J main\nWARNING: low|");
    assert_preset("java", "INFO: a\nINFO: b\nR\nSEVERE: c\n",
                  "INFO: a|INFO: b|R|SEVERE: c|");
    assert_preset("java", "Dec 05, 2026 3:37:38 AM J main\nINFO: a\nINFO: b\n",
                  "Dec 05, 2026 3:37:38 AM J main\nINFO: a|INFO: b|");
    assert_preset("java", "Dec 5 2026 x\nINFO: a\n", "Dec 5 2026 x|INFO: a|");
}

static void java_without_frames_split_check(const struct got *g)
{
    assert_int_equal(g->n, 3);
    assert_event(g, 0, 0, 2,
                 "2026-12-05 09:00:00 ERROR c.e.J - failed\n"
                 "com.example.Bad: one");
    assert_true(g->ev[0].truncated && !g->ev[0].continued);
    assert_event(g, 1, 62, 2, "two\nthree");
    assert_true(g->ev[1].continued);
    assert_event(g, 2, 72, 1, "2026-12-05 09:00:01 INFO c.e.J - next");
    assert_false(g->ev[2].continued);
}

/* Java: an exception with no frames (the JVM's own once it has thrown one
 * often; a Throwable that fills in none) under its record, in a log whose
 * records open with a date or '[': the next record ends it, and it joins
 * its record, with the lines of its message; a "Caused by:" with no frames
 * likewise. Where records open with a letter it stays as it was. */
static void java_exception_without_frames(void **state)
{
    (void)state;
    assert_preset("java",
                  "2026-12-05 09:00:00 ERROR c.e.J - npe\n"
                  "java.lang.NullPointerException\n"
                  "2026-12-05 09:00:01 ERROR c.e.J - oom\n"
                  "java.lang.OutOfMemoryError: Java heap space\n"
                  "more of its message\n"
                  "2026-12-05 09:00:02 INFO c.e.J - next\n",
                  "2026-12-05 09:00:00 ERROR c.e.J - npe\n"
                  "java.lang.NullPointerException|"
                  "2026-12-05 09:00:01 ERROR c.e.J - oom\n"
                  "java.lang.OutOfMemoryError: Java heap space\n"
                  "more of its message|"
                  "2026-12-05 09:00:02 INFO c.e.J - next|");
    assert_preset(
        "java",
        "2026-12-05 09:00:00 ERROR c.e.J - x\nx.Y: a\n\tat A.a(A.java:1)"
        "\nCaused by: z.W\n2026-12-05 09:00:01 INFO c.e.J - next\n",
        "2026-12-05 09:00:00 ERROR c.e.J - x\nx.Y: a\n\tat A.a(A.java:1)"
        "\nCaused by: z.W|2026-12-05 09:00:01 INFO c.e.J - next|");
    assert_preset("java", "[main] ERROR x\nx.Y\n[main] INFO y\n",
                  "[main] ERROR x\nx.Y|[main] INFO y|");
    /* blank lines: kept inside its message, not after it */
    assert_preset("java", "[main] ERROR x\nx.Y: a\n\nb\n\n\n[main] INFO y\n",
                  "[main] ERROR x\nx.Y: a\n\nb|[main] INFO y|");
    assert_preset("java", "ERROR x\nx.Y\nINFO y\n", "ERROR x|x.Y|INFO y|");
    /* past max_lines: the held lines split the event, then the record
     * waits for the part before to be popped; nothing lost, in order */
    split_by_each_consumer("java", 2,
                           "2026-12-05 09:00:00 ERROR c.e.J - failed\n"
                           "com.example.Bad: one\ntwo\nthree\n"
                           "2026-12-05 09:00:01 INFO c.e.J - next\n",
                           java_without_frames_split_check);
}

/* Spring Boot's failure report, under a record with an empty message: one
 * event with it, up to the next record (its blank lines kept inside, the
 * last one dropped). A rule of asterisks under a record of a log whose
 * records open with a letter, or with no record above it, stays as it was:
 * a line of its own. */
static void java_spring_boot_failure_report(void **state)
{
    (void)state;
    assert_preset("java",
                  "2026-12-05T10:00:00.000Z ERROR 1 --- [main] o.s.b.d.R : \n"
                  "\n***************************\n"
                  "APPLICATION FAILED TO START\n"
                  "***************************\n\nDescription:\n\n"
                  "Port 8080 was already in use.\n\nAction:\n\n"
                  "Stop it.\n\n"
                  "2026-12-05T10:00:01.000Z INFO 1 --- [main] o.s.b.A : bye\n",
                  "2026-12-05T10:00:00.000Z ERROR 1 --- [main] o.s.b.d.R : \n"
                  "\n***************************\n"
                  "APPLICATION FAILED TO START\n"
                  "***************************\n\nDescription:\n\n"
                  "Port 8080 was already in use.\n\nAction:\n\n"
                  "Stop it.|"
                  "2026-12-05T10:00:01.000Z INFO 1 --- [main] o.s.b.A : bye|");
    assert_preset("java", "[main] ERROR x\n**********\nA\n[main] INFO y\n",
                  "[main] ERROR x\n**********\nA|[main] INFO y|");
    assert_preset("java", "ERROR x\n**********\nA\n", "ERROR x|**********|A|");
    assert_preset("java", "**********\nA\n", "**********|A|");
}

/* A SyntaxError that stops a program from starting has no "Traceback"
 * header: a crash loop prints one after the other, one event each. */
static void python_syntax_error_crash_loop(void **state)
{
    (void)state;
    assert_preset("python",
                  "  File \"/a.py\", line 2\n    def f(:\n          ^\n"
                  "SyntaxError: invalid syntax\n"
                  "  File \"/a.py\", line 2\n    def f(:\n          ^\n"
                  "SyntaxError: invalid syntax\n",
                  "  File \"/a.py\", line 2\n    def f(:\n          ^\n"
                  "SyntaxError: invalid syntax|"
                  "  File \"/a.py\", line 2\n    def f(:\n          ^\n"
                  "SyntaxError: invalid syntax|");
    /* a frame with a function after an exception line still joins */
    assert_preset("python",
                  "Traceback (most recent call last):\n  File \"a\", line 1, "
                  "in f\nE: x\n  File \"b\", line 2, in g\n",
                  "Traceback (most recent call last):\n  File \"a\", line 1, "
                  "in f\nE: x\n  File \"b\", line 2, in g|");
}

/* asyncio's exception handler: its context lines under the record, then
 * the traceback; only in a log whose records open with a digit or '['. */
static void python_asyncio_context(void **state)
{
    (void)state;
    assert_one_event("python",
                     "2026 ERROR asyncio: Task exception was never retrieved\n"
                     "future: <Task finished name='Task-2' coro=<f() done>>\n"
                     "Traceback (most recent call last):\n  File \"/a.py\", "
                     "line 3, in f\nValueError: boom",
                     "2026 ERROR app: after");
    assert_one_event("python",
                     "[2026] ERROR Exception in callback cb()\n"
                     "handle: <Handle cb()>\nTraceback (most recent call "
                     "last):\n  File \"/a.py\", line 9, in cb\nKeyError: 1",
                     "[2026] INFO next");
    assert_preset("python", "ERROR:asyncio:x\nfuture: <Task>\n",
                  "ERROR:asyncio:x|future: <Task>|");
    assert_preset("python", "2026 R\nfuture: not a repr\n",
                  "2026 R|future: not a repr|");
}

/* An exception class defined in a function: "f.<locals>.E". */
static void python_locals_class(void **state)
{
    (void)state;
    assert_one_event("python",
                     "2026 ERROR failed\nTraceback (most recent call last):\n"
                     "  File \"/a.py\", line 6, in f\nf.<locals>.E: inner",
                     "2026 ERROR after");
}

/* Coloured output redirected to a file (colorlog, uvicorn, Spring Boot's
 * console pattern): the presets read a line without the colour codes at
 * its start and end. Before, "\x1b[1mValueError: x\x1b[0m" was no
 * exception line, and the traceback was cut from its record. */
static void ansi_coloured_lines(void **state)
{
    (void)state;
    assert_one_event("python",
                     "\x1b[31m2026-12-05 09:00:00 ERROR\x1b[0m app: x\n"
                     "Traceback (most recent call last):\n"
                     "  File \"/a.py\", line 1, in f\n"
                     "\x1b[1mValueError: x\x1b[0m\n"
                     "\x1b[1mDETAIL:  more\x1b[0m",
                     "\x1b[32m2026-12-05 09:00:01 INFO\x1b[0m app: y");
    assert_one_event("java",
                     "\x1b[31m2026-12-05 ERROR\x1b[0m c.e.A - failed\n"
                     "\x1b[31mjava.lang.IllegalStateException: x\x1b[0m\n"
                     "\tat a.B.c(B.java:1)",
                     "\x1b[32m2026-12-05 INFO\x1b[0m c.e.A - ok");
}

/* go: a program's crash, as the runtime prints it on stderr, is one
 * event: the panic, its signal line, each goroutine's frames; records
 * around it are their own. */
static void go_panics(void **state)
{
    (void)state;
    assert_one_event(
        "go",
        "panic: runtime error: index out of range [5] with length 3\n\n"
        "goroutine 7 [running]:\nmain.(*Server).handle(0x0, {0x5c1e20, "
        "0xc000010000})\n\t/app/server.go:42 +0x1c\n"
        "created by main.main in goroutine 1\n\t/app/main.go:12 +0x85\n\n"
        "goroutine 1 [chan receive]:\nmain.main()\n\t/app/main.go:17 +0x85\n"
        "exit status 2",
        "2026/12/05 09:00:01 restarted");
    assert_one_event("go",
                     "panic: first [recovered]\n\tpanic: second\n"
                     "[signal SIGSEGV: segmentation violation code=0x1]\n\n"
                     "goroutine 1 [running]:\npanic({0x4b8e40?, 0xc0000a4000?})"
                     "\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\n"
                     "...additional frames elided...",
                     "fatal error: concurrent map writes");
    assert_one_event("go", "2026/12/05 09:00:00 request failed\n\twith detail",
                     "2026/12/05 09:00:00 next");
}

/* multiline_end completes what is open as a flush does, at once or
 * (an event waiting for its pop) after the pop, but its events carry no
 * cut: the caller's records ended them, and a read again ends them there
 * too. A flush asked in the same state marks its event with the cut. */
static void end_completes_without_a_cut(void **state)
{
    (void)state;
    for (int flushed = 0; flushed < 2; flushed++) {
        struct got g = {0};
        struct multiline *ml = make_pattern("^x", true, "after", &g);
        struct multiline_line a = {"x a", 3, 0, 4, false};
        struct multiline_line b = {"x b", 3, 4, 8, false};
        assert_true(multiline_push(ml, &a, 0));
        assert_true(multiline_push(ml, &b, 0)); /* "x a" waits for its pop */
        if (flushed)
            multiline_flush(ml);
        else
            multiline_end(ml);
        multiline_tick(ml, 60000); /* after an end, as a flush: nothing */
        drain(ml);
        assert_int_equal(g.n, 2);
        assert_event(&g, 0, 0, 1, "x a");
        assert_event(&g, 1, 4, 1, "x b");
        assert_int_equal(g.ev[0].cut, 0);
        assert_int_equal(g.ev[1].cut, flushed ? 8 : 0);
        assert_int_equal(multiline_stats(ml)->timeouts, 0);
        multiline_end(ml); /* nothing open */
        drain(ml);
        assert_int_equal(g.n, 2);
        struct multiline_line c = {"x c", 3, 8, 12, false};
        assert_true(multiline_push(ml, &c, 0));
        multiline_end(ml); /* idle: at once */
        drain(ml);
        assert_int_equal(g.n, 3);
        assert_event(&g, 2, 8, 1, "x c");
        assert_int_equal(g.ev[2].cut, 0);
        multiline_free(ml);
        got_free(&g);
    }
}

/* A flush right after an end finds nothing more to complete (no line
 * was pushed between), whether the end was done at once (nothing waited)
 * or waits for a pop: the events the end completes carry no cut either
 * way, as an eager and a lazy consumer must agree. */
static void flush_after_an_end_finds_nothing(void **state)
{
    (void)state;
    for (int lazy = 0; lazy < 2; lazy++) {
        struct got g = {0};
        struct multiline *ml = make_pattern("^x", true, "after", &g);
        struct multiline_line a = {"x a", 3, 0, 4, false};
        struct multiline_line b = {"x b", 3, 4, 8, false};
        assert_true(multiline_push(ml, &a, 0));
        assert_true(multiline_push(ml, &b, 0)); /* "x a" waits */
        if (!lazy)
            drain(ml); /* "x b" open, nothing waits */
        multiline_end(ml);
        multiline_flush(ml);
        drain(ml);
        assert_int_equal(g.n, 2);
        assert_event(&g, 1, 4, 1, "x b");
        assert_int_equal(g.ev[1].cut, 0);
        multiline_free(ml);
        got_free(&g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(after_match_joins_above),
        cmocka_unit_test(after_negate_joins_non_matching_above),
        cmocka_unit_test(before_match_joins_below),
        cmocka_unit_test(before_negate_joins_non_matching_below),
        cmocka_unit_test(grok_pattern_and_library),
        cmocka_unit_test(max_lines_splits_and_goes_on_in_the_next_event),
        cmocka_unit_test(max_bytes_splits_events_and_cuts_lines),
        cmocka_unit_test(memory_bounded_on_endless_event),
        cmocka_unit_test(python_traceback_past_max_lines_keeps_its_exception),
        cmocka_unit_test(java_held_lines_split_more_than_once),
        cmocka_unit_test(before_split_then_end),
        cmocka_unit_test(cut_lines_from_line_reader_are_truncated),
        cmocka_unit_test(crlf_is_stripped_upstream),
        cmocka_unit_test(timeout_flushes_through_the_passed_clock),
        cmocka_unit_test(timeout_zero_never_expires),
        cmocka_unit_test(a_touch_starts_the_timeout_again),
        cmocka_unit_test(errors_say_what_to_do),
        cmocka_unit_test(python_rules),
        cmocka_unit_test(java_rules),
        cmocka_unit_test(java_hold_released_by_limit_timeout_and_flush),
        cmocka_unit_test(python_app_log),
        cmocka_unit_test(python_basic_log),
        cmocka_unit_test(python_messages_log),
        cmocka_unit_test(java_logback_log),
        cmocka_unit_test(push_refused_while_an_event_waits),
        cmocka_unit_test(done_offset_walks_event_by_event),
        cmocka_unit_test(tick_while_busy_applies_after_the_waiting_line),
        cmocka_unit_test(lazy_consumers_match_eager_with_the_clock),
        cmocka_unit_test(trim_after_drain_releases_and_joins_again),
        cmocka_unit_test(trim_keeps_an_event_waiting_and_held_lines),
        cmocka_unit_test(trimming_consumers_match_eager),
        cmocka_unit_test(joiners_share_rules),
        cmocka_unit_test(java_root_cause_first),
        cmocka_unit_test(python_cause_without_traceback),
        cmocka_unit_test(java_error_names_unqualified),
        cmocka_unit_test(python_quoted_cause),
        cmocka_unit_test(python_loguru),
        cmocka_unit_test(java_jul_records),
        cmocka_unit_test(java_spring_boot_failure_report),
        cmocka_unit_test(java_exception_without_frames),
        cmocka_unit_test(python_syntax_error_crash_loop),
        cmocka_unit_test(python_asyncio_context),
        cmocka_unit_test(python_locals_class),
        cmocka_unit_test(ansi_coloured_lines),
        cmocka_unit_test(go_panics),
        cmocka_unit_test(forced_cut_repeats_a_timeout),
        cmocka_unit_test(forced_cut_releases_held_lines_as_the_timeout),
        cmocka_unit_test(end_completes_without_a_cut),
        cmocka_unit_test(flush_after_an_end_finds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
