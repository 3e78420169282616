/* fuzz_multiline.c: arbitrary bytes cut into lines by line_reader (fed in
 * chunks) and joined by multiline in each preset and pattern mode. Byte 0
 * picks the chunk size and the mode, byte 1 the limits and the timeout; each
 * line's first byte moves the clock. Checks the joiner's promises: every line
 * pushed is in exactly one event or counted dropped, events start in stream
 * order at the bytes of their first line, no event exceeds max_lines or
 * max_bytes, done_offset never goes back nor passes a line not yet emitted,
 * and nothing is left after the flush. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"
#include "multiline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 64

struct run {
    const uint8_t *stream;
    size_t size;
    size_t max_bytes;
    uint32_t max_lines;
    uint64_t lines;    /* sum of events' lines */
    uint64_t next_off; /* events start at or after this */
    bool any;
    uint64_t done; /* done_offset before the call that emits */
};

static void check_event(void *ctx, const struct multiline_event *ev)
{
    struct run *r = ctx;
    if (ev->text.ptr == NULL || ev->lines == 0 || ev->lines > r->max_lines ||
        ev->text.len > r->max_bytes)
        abort();
    if ((r->any && ev->offset < r->next_off) || ev->offset < r->done)
        abort();
    /* the text starts with the bytes of the first line */
    const char *nl = memchr(ev->text.ptr, '\n', ev->text.len);
    size_t first = nl ? (size_t)(nl - ev->text.ptr) : ev->text.len;
    if (ev->offset + first > r->size ||
        memcmp(r->stream + ev->offset, ev->text.ptr, first) != 0)
        abort();
    if (ev->end <= ev->offset || ev->end > r->size)
        abort();
    r->lines += ev->lines;
    r->next_off = ev->offset + 1;
    r->any = true;
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
    unsigned mode = (b0 >> 5) % 6;
    if (mode == 0)
        cfg.preset = "python";
    else if (mode == 1)
        cfg.preset = "java";
    else {
        cfg.pattern = patterns[mode - 2];
        cfg.negate = b0 & 0x10;
        cfg.match = b0 & 0x08 ? "before" : "after";
    }
    return multiline_new(&cfg, check_event, r, NULL);
}

static void push(struct multiline *ml, struct run *r,
                 const struct line_reader *lr, struct sl_slice l, bool cut,
                 uint64_t *now)
{
    struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                  line_reader_line_end(lr), cut};
    *now += l.len > 0 ? (uint8_t)l.ptr[0] % 8 : 0;
    r->done = multiline_done_offset(ml);
    if (l.len > 0 && l.ptr[0] == '!')
        multiline_tick(ml, *now);
    r->done = multiline_done_offset(ml);
    multiline_push(ml, &line, *now);
    uint64_t d = multiline_done_offset(ml);
    if (d < r->done || d > line.end)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 << 16)
        return 0;
    struct run r = {data + 2, size - 2, 0, 0, 0, 0, false, 0};
    size_t chunk = (size_t)(data[0] & 7) * 5 + 1;
    struct multiline *ml = make(data[0], data[1], &r);
    if (ml == NULL)
        abort();
    struct line_reader *lr = line_reader_new(MAX_LINE);
    struct sl_slice l;
    bool cut;
    uint64_t now = 0, pushed = 0;
    for (size_t pos = 0; pos < r.size; pos += chunk) {
        size_t n = r.size - pos < chunk ? r.size - pos : chunk;
        if (line_reader_feed(lr, (const char *)r.stream + pos, n, NULL) < 0)
            abort();
        while (line_reader_next(lr, &l, &cut)) {
            push(ml, &r, lr, l, cut, &now);
            pushed++;
        }
    }
    if (line_reader_finish(lr, &l, &cut)) {
        push(ml, &r, lr, l, cut, &now);
        pushed++;
    }
    r.done = multiline_done_offset(ml);
    multiline_flush(ml);
    const struct multiline_stats *st = multiline_stats(ml);
    if (st->lines != pushed || r.lines + st->dropped != pushed)
        abort();
    if (multiline_next_deadline(ml) != UINT64_MAX ||
        (pushed > 0 && multiline_done_offset(ml) != r.size))
        abort();
    line_reader_free(lr);
    multiline_free(ml);
    return 0;
}
