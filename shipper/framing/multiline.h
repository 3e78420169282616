/* multiline.h: joins the lines of one record (a log line and the stack trace
 * under it) into one event, before codecs and processors see it.
 *
 * A pure module: no I/O, no timers, no threads. The caller pushes lines in
 * stream order (from common/line_reader, "\r\n" already cut to "\n" and the
 * terminator removed), passes its monotonic clock in milliseconds, and pulls
 * complete events with multiline_peek() and multiline_pop(). Two ways to say
 * what belongs together:
 *
 *   pattern  a regex (a grok expression, so %{TIMESTAMP_ISO8601} works) with
 *            Filebeat's negate + match, four combinations:
 *              negate=false after:  a line that matches joins the event above
 *              negate=true  after:  a line that does not match joins above
 *              negate=false before: a line that matches joins the line below
 *              negate=true  before: a line that does not match joins below
 *   preset   "python", "java" or "go": small state machines that know
 *            tracebacks, stack traces and panics
 *            (see multiline.c for exactly which lines join and why).
 *
 * Pulling, so the caller can stop at any moment (its outbox is full) and go
 * on later with nothing lost or reordered:
 *
 *   for (;;) {
 *       while (multiline_peek(ml, &ev)) {
 *           if (!batch_take(&ev))      // full, and no room for another
 *               return;                // ev stays first; peek again later
 *           multiline_pop(ml);
 *           batch_offset = multiline_done_offset(ml);
 *       }
 *       if (!next_line(&line))         // nothing waits: push one line
 *           break;
 *       multiline_push(ml, &line, now_ms);  // true: peek returned false
 *   }
 *
 * One line can complete many events (the timeout closes one, and rejected
 * held lines may each become one), so the joiner completes them one at a
 * time: at most one complete event waits, and the work that makes the next
 * one runs inside the next multiline_peek(). Hence:
 *
 *   - multiline_push() takes a line only when no event waits to be popped,
 *     which is so once multiline_peek() has returned false (and after a
 *     push that completed nothing). It first does the work a peek would
 *     do; if that leaves an event waiting (or one was), it returns false
 *     without taking the line (not counted, the clock not read): pull, then
 *     push the same line again. The line is used during the call only.
 *   - multiline_tick() and multiline_flush() may be called at any time; they
 *     apply after every line already pushed, and their events come out of
 *     the next peeks. Each takes effect in the order of the calls.
 *   - the event multiline_peek() hands out stays the first one (peek returns
 *     it again) until multiline_pop(); its text stays valid and unchanged
 *     until that pop or multiline_free(), whatever else is called meanwhile.
 *
 * Offsets: an event's offset is the stream offset of its first line
 * (log.offset). multiline_done_offset() is where a restart must resume:
 * every byte before it is in a popped event or was dropped. It is the first
 * line of the oldest event not yet popped (waiting, being built, or still to
 * be made from lines pushed but not yet placed), else the end of the last
 * line pushed; it never decreases. Read it right after popping the last
 * event of a batch: that is the offset the registry may take once the batch
 * is acknowledged. An event peeked but not popped is not done.
 *
 * Limits: an event keeps at most max_lines lines and max_bytes bytes (lines
 * joined with "\n"). A line that would pass either limit splits the event
 * there, as Logstash's multiline codec does: the event is complete, flagged
 * truncated, and the line starts the next event, flagged continued, which
 * goes on with the record (its later lines join it as they would have
 * joined the first part; it may be split again). No line is dropped: a
 * Python traceback cut at max_lines still ships its exception line, in the
 * last part. A line is judged and kept on its first max_bytes bytes, the
 * only ones any event can keep (the rest of a line longer than max_bytes
 * is cut, as a line over the reader's max_line is), so a line decided at
 * once and a line decided after waiting get the same answer. An event that gets
 * no new line for timeout_ms is completed by multiline_tick() (or by the next
 * push, which checks the clock first); a line after that starts a new event.
 *
 * Memory: five buffers of at most max_bytes each, grown on demand (the
 * event being built, the event waiting, the lines a preset holds back, the
 * lines it decides again, one pushed line that had to wait; pattern mode
 * uses three), and two arrays of MULTILINE_HOLD_MAX held lines, made when a
 * preset first holds a line. They are kept between lines: no allocation per
 * line once they have grown; a failed growth cuts the event as max_bytes
 * would (a line a preset cannot hold starts an event). multiline_trim()
 * gives back what holds nothing, so a source that is quiet keeps only its
 * open event's text (10,000 quiet files with a preset held 51 MiB). The
 * compiled pattern is in the rules, which the joiners of one input share
 * (multiline_rules_new); a match keeps nothing past the call, so sharing is
 * safe in one thread.
 *
 * Not taken: a multiline_next() that hands out an event and takes it off
 * at once. done_offset would pass the event before the caller has placed
 * it; when the batch then turns out full, the caller must keep the event
 * itself, and a batch sealed meanwhile would carry an offset past an event
 * it does not hold. With peek/pop the event stays here until it is placed.
 * Nor a callback that may say "stop" (the previous API, plus a resume
 * verb): the same resumable state inside, the caller's code split between
 * a callback and a loop that resumes it, and an event the callback cannot
 * take needs a way to refuse it, which is peek/pop again. Nor a queue of
 * every event a line completes: up to MULTILINE_HOLD_MAX + 2 copies of
 * event text, where completing one at a time needs one. */
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
/* The tag of an event that goes on with the record of the event before it
 * (flagged continued): a limit split the record. */
#define MULTILINE_TAG_CONTINUED "_multiline_continued"

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
    struct sl_slice text; /* lines joined with "\n"; valid until the pop */
    uint64_t offset;      /* stream offset of the first line */
    uint64_t end;         /* end of the last line consumed into the event */
    uint32_t lines;       /* lines in text (a line cut by the limit counts) */
    uint32_t dropped;     /* lines dropped: only when out of memory */
    bool truncated;       /* split by max_lines / max_bytes, or a cut line */
    bool continued;       /* goes on with the record of the event before,
                             which a limit split */
    /* Completed by the clock or a flush (a timeout, multiline_flush,
     * multiline_cut), not by the lines: where that began, the end of the
     * last line pushed before it (every event it completed carries the
     * same one); 0: completed by a line or multiline_end. A read of the same
     * bytes again (a restart) makes the same events only if it cuts there too,
     * since the line after it could have joined: multiline_cut. */
    uint64_t cut;
};

struct multiline_stats {
    uint64_t lines;     /* pushed (taken) */
    uint64_t events;    /* completed (waiting or popped) */
    uint64_t dropped;   /* lines in no event: preset blanks (and lines
                           no memory could hold) */
    uint64_t truncated; /* events completed truncated */
    uint64_t splits;    /* events split by a limit */
    uint64_t timeouts;  /* events completed by the timeout */
};

struct multiline;
struct multiline_rules;

/* max_lines, max_bytes and timeout_ms to their defaults, the rest zero. */
void multiline_config_init(struct multiline_config *cfg);

/* Checks cfg, compiles the pattern: what every joiner made from cfg
 * shares. NULL and err set (SL_EINVAL, one line saying what to change) on
 * a bad regex, an unknown preset or match, conflicting options or zero
 * limits. */
struct multiline_rules *multiline_rules_new(const struct multiline_config *cfg,
                                            struct sl_err *err);
/* NULL is fine. After every joiner made from r is freed. */
void multiline_rules_free(struct multiline_rules *r);
/* A joiner that borrows r (kept until multiline_free); the joiners of one
 * rules object must be used from one thread. NULL (SL_ENOMEM) when out of
 * memory. */
struct multiline *multiline_new_shared(const struct multiline_rules *r,
                                       struct sl_err *err);
/* A joiner with rules of its own: multiline_rules_new's errors. */
struct multiline *multiline_new(const struct multiline_config *cfg,
                                struct sl_err *err);
/* NULL is fine. Whatever was pushed and not popped is forgotten. */
void multiline_free(struct multiline *ml);

/* Pushes the next line of the stream at time now_ms (see above): true, the
 * line is taken (the event open before it is completed first if it timed
 * out by now_ms). false: an event waits to be popped, the line is not
 * taken. Offsets must not decrease from one push to the next, nor now_ms. */
bool multiline_push(struct multiline *ml, const struct multiline_line *line,
                    uint64_t now_ms);
/* true and *ev: the oldest complete event, the same one until it is
 * popped (peek does the pending work that completes it). false: none; all
 * the work is done, the next push is taken. */
bool multiline_peek(struct multiline *ml, struct multiline_event *ev);
/* Takes off the event peek hands out, the oldest complete one (its text is
 * invalid from now on); does nothing when no event waits. */
void multiline_pop(struct multiline *ml);
/* Completes, after the lines already pushed, whatever has had no new line
 * for timeout_ms by now_ms. */
void multiline_tick(struct multiline *ml, uint64_t now_ms);
/* The open event's timeout counts from now_ms from now on (when later than
 * its last line's time; never back): the caller knows a line that may be
 * its next one is being written, not readable yet (its first bytes are
 * read, not its newline; or a copytruncate's copy is being handed over),
 * which is no pause of the writer. Nothing open: does nothing. */
void multiline_touch(struct multiline *ml, uint64_t now_ms);
/* The configured timeout_ms (0: never). */
uint64_t multiline_timeout_ms(const struct multiline *ml);
/* When multiline_tick has something to do: a clock value in ms, or
 * UINT64_MAX when nothing waits for the clock (no event open, no timeout)
 * and also while an event or work waits for a peek: pull until peek
 * returns false, then ask again. */
uint64_t multiline_next_deadline(const struct multiline *ml);
/* End of input or shutdown: completes, after the lines already pushed,
 * every event still open or held. */
void multiline_flush(struct multiline *ml);
/* Completes, after the lines already pushed, every event still open or
 * held, as the timeout does, whatever the clock says (its events carry
 * the cut): a read again of bytes that a timeout or a flush cut before a
 * crash calls it before pushing the first line at or past that event's
 * cut, and makes the same events the first read made. Nothing open: does
 * nothing. */
void multiline_cut(struct multiline *ml);
/* Completes, after the lines already pushed, every event still open or
 * held, as multiline_flush does, because the caller's records say it
 * ended (a container log's record of the other stream), not because of
 * when they came: its events carry no cut, since a read again of the
 * same bytes ends them there too. Nothing open: does nothing. */
void multiline_end(struct multiline *ml);
/* Stream offset up to which everything pushed is in a popped event or was
 * dropped (see above; 0 before any push). */
uint64_t multiline_done_offset(const struct multiline *ml);

const struct multiline_stats *multiline_stats(const struct multiline *ml);

/* Frees the memory of the buffers that hold nothing now: every one when no
 * event is open; with an event open (waiting for its next line or its
 * timeout), all but its text and the buffer the next event takes. Does
 * nothing while work waits for a peek. Nothing else changes: the next
 * pushes grow the buffers again. For a caller that has drained a source
 * (peek returned false): once a drain, never once a line. */
void multiline_trim(struct multiline *ml);
/* Bytes of memory the buffers and held-line arrays hold (not the joiner
 * itself nor its rules). */
size_t multiline_memory(const struct multiline *ml);

#endif
