/* multiline.h: joins the lines of one record (a log line and the stack trace
 * under it) into one event, before codecs and processors see it.
 *
 * A pure module: no I/O, no timers, no threads. The caller pushes lines in
 * stream order (from common/line_reader, "\r\n" already cut to "\n" and the
 * terminator removed), passes its monotonic clock in milliseconds, and gets
 * complete events through a callback. Two ways to say what belongs together:
 *
 *   pattern  a regex (a grok expression, so %{TIMESTAMP_ISO8601} works) with
 *            Filebeat's negate + match, four combinations:
 *              negate=false after:  a line that matches joins the event above
 *              negate=true  after:  a line that does not match joins above
 *              negate=false before: a line that matches joins the line below
 *              negate=true  before: a line that does not match joins below
 *   preset   "python" or "java": small state machines that know tracebacks
 *            (see multiline.c for exactly which lines join and why).
 *
 * Limits: an event keeps at most max_lines lines and max_bytes bytes (lines
 * joined with "\n"); past either it is cut, tagged truncated, and the rest of
 * its continuation lines are dropped (counted) until the next event starts.
 * Memory stays below 3 * max_bytes whatever the input. An event that gets no
 * new line for timeout_ms is emitted by multiline_tick() (or by the next
 * push, which checks the clock first); a line after that starts a new event.
 *
 * Offsets: an event's offset is the stream offset of its first line
 * (log.offset). multiline_done_offset() is where a restart must resume: every
 * byte before it is in an emitted event, or was dropped. It never passes the
 * first line of an event still being built, and never decreases.
 *
 * No allocation per line: one event buffer, grown up to max_bytes and reused
 * across events (a failed growth cuts the event as max_bytes would). */
#ifndef MULTILINE_H
#define MULTILINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grok.h"
#include "sl_err.h"
#include "sl_slice.h"

#define MULTILINE_DEFAULT_MAX_LINES  500
#define MULTILINE_DEFAULT_MAX_BYTES  (1024 * 1024) /* the line limit */
#define MULTILINE_DEFAULT_TIMEOUT_MS 5000
/* Lines a preset may hold back while it waits to see whether they belong to
 * the event above (java: an exception line and its message before the first
 * "\tat"; both: blank lines). Past this the held lines start new events. */
#define MULTILINE_HOLD_MAX 32

struct multiline_config {
    const char *preset;  /* "python", "java", or NULL for pattern mode */
    const char *pattern; /* pattern mode: a grok expression */
    bool negate;         /* pattern mode: invert the match */
    const char *match;   /* pattern mode: "after" (NULL) or "before" */
    uint32_t max_lines;  /* >= 1; multiline_config_init: 500 */
    size_t max_bytes;    /* >= 1; multiline_config_init: 1 MiB */
    uint64_t timeout_ms; /* 0: never; multiline_config_init: 5000 */
    /* pattern mode: the named patterns %{NAME} refers to (kept until
     * multiline_new returns); NULL: only plain regexes */
    const struct grok_library *patterns;
};

/* One line as line_reader gives it. */
struct multiline_line {
    const char *ptr; /* without its terminator; need not outlive the push */
    size_t len;
    uint64_t offset; /* stream offset of its first byte */
    uint64_t end;    /* stream offset just past what the line consumed:
                        line_reader_line_end() */
    bool cut;        /* line_reader cut it at its max_line */
};

struct multiline_event {
    struct sl_slice
        text;         /* lines joined with "\n"; valid during the callback */
    uint64_t offset;  /* stream offset of the first line */
    uint64_t end;     /* end of the last line consumed into the event */
    uint32_t lines;   /* lines in text (a line cut by the limit counts) */
    uint32_t dropped; /* continuation lines dropped after the cut */
    bool truncated;   /* cut by max_lines / max_bytes, or a cut line */
};

typedef void (*multiline_emit_fn)(void *ctx, const struct multiline_event *ev);

struct multiline_stats {
    uint64_t lines;     /* pushed */
    uint64_t events;    /* emitted */
    uint64_t dropped;   /* lines in no event: past a cut, or preset blanks */
    uint64_t truncated; /* events emitted truncated */
    uint64_t timeouts;  /* events emitted by the timeout */
};

struct multiline;

/* max_lines, max_bytes and timeout_ms to their defaults, the rest zero. */
void multiline_config_init(struct multiline_config *cfg);

/* Checks cfg, compiles the pattern; emit is called with ctx for each event,
 * in stream order, from inside push, tick and flush (it must copy what it
 * keeps and must not call back into this joiner).
 * NULL and err set (SL_EINVAL, one line saying what to change) on a bad
 * regex, an unknown preset or match, conflicting options or zero limits. */
struct multiline *multiline_new(const struct multiline_config *cfg,
                                multiline_emit_fn emit, void *ctx,
                                struct sl_err *err);
void multiline_free(struct multiline *ml); /* NULL is fine; emits nothing */

/* Pushes the next line of the stream at time now_ms. Emits the events it
 * completes (first one timed out by now_ms, if any). Offsets must not
 * decrease from one push to the next. */
void multiline_push(struct multiline *ml, const struct multiline_line *line,
                    uint64_t now_ms);
/* Emits everything that has had no new line for timeout_ms by now_ms. */
void multiline_tick(struct multiline *ml, uint64_t now_ms);
/* When multiline_tick has something to do: a clock value in ms, or
 * UINT64_MAX when nothing waits (no event open, or no timeout). */
uint64_t multiline_next_deadline(const struct multiline *ml);
/* End of input or shutdown: emits every event still open or held. */
void multiline_flush(struct multiline *ml);
/* Stream offset up to which everything pushed has been emitted or dropped:
 * the first line of the oldest event not yet emitted, else the end of the
 * last line pushed (0 before any). */
uint64_t multiline_done_offset(const struct multiline *ml);

const struct multiline_stats *multiline_stats(const struct multiline *ml);

#endif
