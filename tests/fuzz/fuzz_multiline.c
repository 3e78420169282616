/* fuzz_multiline.c: arbitrary bytes cut into lines by line_reader (fed in
 * chunks) and joined by multiline in each preset (python, java, go) and
 * pattern mode. Byte 0
 * picks the chunk size and the mode, byte 1 the limits and the timeout; each
 * line's first byte moves the clock, a line starting with '!' ticks before
 * its push, one ending with '!' ticks after it, past any timeout, one
 * starting with '%' forces a cut (multiline_cut) before its push, and one
 * starting (ending) with '&' ends what is open (multiline_end) before
 * (after) its push.
 *
 * The same input goes to two consumers making the same push, tick and flush
 * calls: an eager one that drains after each, and a lazy one that pulls at
 * times drawn from a generator seeded by the input (often nothing, one
 * event when a push is refused, sometimes everything) and calls
 * multiline_trim at random after half of its calls. Checks the joiner's
 * promises: both get the same events, in the same order, with the same
 * offsets, flags and counters; every line pushed is in exactly one event or
 * counted dropped; events start in stream order at the bytes of their first
 * line; no event exceeds max_lines or max_bytes; a push is refused only
 * while an event waits, and takes nothing then; done_offset never goes back,
 * never passes the end of the last line pushed nor the first line of an event
 * not yet popped (the eager run says which event that is); nothing is left
 * after the flush. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"
#include "multiline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 64

struct rec { /* an event as the eager consumer got it */
    uint64_t offset, end, cut;
    uint32_t lines, dropped;
    bool truncated, continued;
    size_t pos, len; /* its text in run.texts */
};

struct run {
    const uint8_t *stream;
    size_t size;
    size_t max_bytes;
    uint32_t max_lines;
    bool pattern; /* pattern mode: it drops no line */
    bool lazy;
    uint64_t rng;

    struct rec *ev; /* eager: what it got; lazy: what it must get */
    char *texts;
    size_t n, texts_len; /* events popped, text bytes */
    uint64_t lines;      /* sum of events' lines */
    uint64_t continued;  /* events flagged continued */
    uint64_t done;       /* the last done_offset seen */
};

static uint32_t rnd(struct run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (uint32_t)r->rng;
}

/* done_offset never goes back, and never passes the first line of the next
 * event to pop (known in the lazy run, from the eager one). */
static void check_done(struct multiline *ml, struct run *r)
{
    uint64_t d = multiline_done_offset(ml);
    if (d < r->done)
        abort();
    if (r->lazy && r->ev[r->n].len != SIZE_MAX && d > r->ev[r->n].offset)
        abort();
    r->done = d;
}

static void check_event(struct run *r, const struct multiline_event *ev)
{
    if (ev->text.ptr == NULL || ev->lines == 0 || ev->lines > r->max_lines ||
        ev->text.len > r->max_bytes)
        abort();
    if ((r->n > 0 && ev->offset <= r->ev[r->n - 1].offset) ||
        ev->offset < r->done)
        abort();
    /* the text starts with the bytes of the first line */
    const char *nl = memchr(ev->text.ptr, '\n', ev->text.len);
    size_t first = nl ? (size_t)(nl - ev->text.ptr) : ev->text.len;
    if (ev->offset + first > r->size ||
        memcmp(r->stream + ev->offset, ev->text.ptr, first) != 0)
        abort();
    if (ev->end <= ev->offset || ev->end > r->size)
        abort();
    /* a cut is at or past the event's end, at the end of a line pushed */
    if (ev->cut != 0 && (ev->cut < ev->end || ev->cut > r->size))
        abort();
    /* a continuation follows the event a limit split, right after it */
    if (ev->continued && (r->n == 0 || !r->ev[r->n - 1].truncated ||
                          r->ev[r->n - 1].end > ev->offset))
        abort();
}

/* Pulls one event: the eager run records it, the lazy run compares it. */
static bool pull_one(struct multiline *ml, struct run *r)
{
    struct multiline_event ev, again;
    check_done(ml, r);
    if (!multiline_peek(ml, &ev))
        return false;
    check_done(ml, r);
    check_event(r, &ev);
    /* peeking again hands out the same event */
    if (!multiline_peek(ml, &again) || again.text.ptr != ev.text.ptr ||
        again.offset != ev.offset)
        abort();
    struct rec *x = &r->ev[r->n];
    if (r->lazy) {
        if (x->len == SIZE_MAX || x->offset != ev.offset || x->end != ev.end ||
            x->lines != ev.lines || x->dropped != ev.dropped ||
            x->truncated != ev.truncated || x->continued != ev.continued ||
            x->cut != ev.cut || x->len != ev.text.len ||
            memcmp(r->texts + x->pos, ev.text.ptr, ev.text.len) != 0)
            abort();
    } else {
        *x = (struct rec){ev.offset,    ev.end,       ev.cut,
                          ev.lines,     ev.dropped,   ev.truncated,
                          ev.continued, r->texts_len, ev.text.len};
        memcpy(r->texts + r->texts_len, ev.text.ptr, ev.text.len);
        r->texts_len += ev.text.len;
        r->ev[r->n + 1].len = SIZE_MAX; /* none known after it yet */
    }
    r->n++;
    r->lines += ev.lines;
    r->continued += ev.continued;
    multiline_pop(ml);
    check_done(ml, r);
    return true;
}

static void drain(struct multiline *ml, struct run *r)
{
    while (pull_one(ml, r))
        ;
}

/* After a push or a tick: the eager consumer drains, the lazy one pulls
 * nothing most of the time, a few events or everything now and then, and
 * trims half of the time (whatever waits must survive it). */
static void after_call(struct multiline *ml, struct run *r)
{
    if (!r->lazy) {
        drain(ml, r);
        return;
    }
    uint32_t v = rnd(r), x = v % 16;
    if (x == 0)
        drain(ml, r);
    else if (x < 4)
        for (uint32_t i = 0; i < x && pull_one(ml, r); i++)
            ;
    if (v & 0x100)
        multiline_trim(ml);
}

static const char *const patterns[] = {"^[ \\t]", "^\\[", "\\\\$", ";$"};

static struct multiline *make(uint8_t b0, uint8_t b1, struct run *r)
{
    struct multiline_config cfg;
    multiline_config_init(&cfg);
    static const size_t bytes[] = {1, 16, 64, 300};
    static const uint32_t lines[] = {1, 2, 5, 500};
    cfg.max_bytes = r->max_bytes = bytes[b1 & 3];
    cfg.max_lines = r->max_lines = lines[(b1 >> 2) & 3];
    cfg.timeout_ms = (b1 >> 4) * 10u; /* 0: none */
    unsigned mode = (b0 >> 5) % 7;
    r->pattern = mode >= 2 && mode <= 5;
    if (mode == 0)
        cfg.preset = "python";
    else if (mode == 1)
        cfg.preset = "java";
    else if (mode == 6)
        cfg.preset = "go";
    else {
        cfg.pattern = patterns[mode - 2];
        cfg.negate = b0 & 0x10;
        cfg.match = b0 & 0x08 ? "before" : "after";
    }
    return multiline_new(&cfg, NULL);
}

static void push(struct multiline *ml, struct run *r,
                 const struct line_reader *lr, struct sl_slice l, bool cut,
                 uint64_t *now)
{
    struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                  line_reader_line_end(lr), cut};
    *now += l.len > 0 ? (uint8_t)l.ptr[0] % 8 : 0;
    if (l.len > 0 && l.ptr[0] == '!') {
        multiline_tick(ml, *now);
        after_call(ml, r);
    }
    if (l.len > 0 && l.ptr[0] == '%') {
        multiline_cut(ml);
        after_call(ml, r);
    }
    if (l.len > 0 && l.ptr[0] == '&') {
        multiline_end(ml);
        after_call(ml, r);
    }
    const struct multiline_stats *st = multiline_stats(ml);
    for (;;) {
        check_done(ml, r);
        uint64_t lines = st->lines;
        if (multiline_push(ml, &line, *now))
            break;
        /* refused: only when an event waits, and the line is not taken */
        if (!r->lazy || st->lines != lines || !pull_one(ml, r))
            abort();
    }
    check_done(ml, r);
    if (r->done > line.end)
        abort();
    after_call(ml, r);
    if (l.len > 0 && l.ptr[l.len - 1] == '!') {
        *now += 200; /* past any timeout */
        multiline_tick(ml, *now);
        after_call(ml, r);
    }
    if (l.len > 0 && l.ptr[l.len - 1] == '&') {
        multiline_end(ml);
        after_call(ml, r);
    }
}

/* One pass over the input; fills *st with the joiner's counters. */
static void run_once(const uint8_t *data, struct run *r,
                     struct multiline_stats *st)
{
    size_t chunk = (size_t)(data[0] & 7) * 5 + 1;
    struct multiline *ml = make(data[0], data[1], r);
    struct line_reader *lr = line_reader_new(MAX_LINE);
    if (ml == NULL || lr == NULL)
        abort();
    struct sl_slice l;
    bool cut;
    uint64_t now = 0, pushed = 0;
    for (size_t pos = 0; pos < r->size; pos += chunk) {
        size_t n = r->size - pos < chunk ? r->size - pos : chunk;
        if (line_reader_feed(lr, (const char *)r->stream + pos, n, NULL) < 0)
            abort();
        while (line_reader_next(lr, &l, &cut)) {
            push(ml, r, lr, l, cut, &now);
            pushed++;
        }
    }
    if (line_reader_finish(lr, &l, &cut)) {
        push(ml, r, lr, l, cut, &now);
        pushed++;
    }
    multiline_flush(ml);
    drain(ml, r);
    *st = *multiline_stats(ml);
    if (st->lines != pushed || r->lines + st->dropped != pushed ||
        st->events != r->n || st->splits != r->continued ||
        (r->pattern && st->dropped != 0))
        abort();
    if (multiline_next_deadline(ml) != UINT64_MAX ||
        (pushed > 0 && multiline_done_offset(ml) != r->size))
        abort();
    line_reader_free(lr);
    multiline_free(ml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 << 16)
        return 0;
    /* at most one event per line, lines at most one per byte, plus one */
    struct rec *ev = malloc((size + 2) * sizeof *ev);
    char *texts = malloc(2 * size + 1);
    if (ev == NULL || texts == NULL)
        abort();
    ev[0].len = SIZE_MAX;
    uint64_t seed = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001b3u;
    struct run eager = {
        .stream = data + 2, .size = size - 2, .ev = ev, .texts = texts};
    struct run lazy = eager;
    lazy.lazy = true;
    lazy.rng = seed | 1;
    struct multiline_stats a, b;
    run_once(data, &eager, &a);
    run_once(data, &lazy, &b);
    if (lazy.n != eager.n || memcmp(&a, &b, sizeof a) != 0)
        abort();
    free(texts);
    free(ev);
    return 0;
}
