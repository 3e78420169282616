/* pipeline.h: the way of a source's bytes to the output, for `run`: a
 * line_reader, the input's format (container_log.h), multiline when the
 * input sets it (with record_meta.h), the fields every event has
 * (event_base.h), the input's processors (process.h), and output_begin /
 * sl_event_write_json / output_commit (output.h).
 *
 * One pipe_input per `inputs[]` element holds what its sources share (the
 * format, the multiline settings and their grok library, the event base,
 * the processor chain). One pipe_src per file (or the stdin stream) holds
 * its framing state: the loop makes it at the file's first chunk, hangs it
 * on in_file's src->user, feeds it each chunk, and ends it at DONE.
 *
 * Pull, so backpressure is not reading: pipe_src_drain() moves lines
 * through the stages only while output_has_room(); when the outbox is full
 * it stops with everything in place (a line waiting, an event peeked but
 * not popped) and goes on at the next drain. The caller feeds a source
 * only once its drain returned 0 (every line it holds has gone through),
 * so a source holds at most one chunk.
 *
 * Marks and the registry: each event is committed with the mark {the
 * source's slot, the framing's done offset after the event} (multiline's
 * done offset with multiline, else container_log's), which never passes
 * the first line of an event not yet committed; pipeline_ack() moves the
 * registry to the offsets of a batch Redis accepted, with the identity of
 * the source's newest chunk (it covers every byte before the offset). A
 * slot is reused only once every event committed under it was
 * acknowledged, so a late ack always finds its own file's key. An event a
 * `drop` discards commits nothing: its offset is taken by the source's
 * next committed event, or, when none follows, by pipeline_settle() once
 * every event committed before it was acknowledged.
 *
 * Cuts: a multiline event that the clock or a flush completed ends where
 * it does because of when its lines came; its batch is sent only once the
 * registry has the cut on disk, and a restart repeats it, so a read again
 * makes the same events with the same ids (pipeline_set_cuts_saved).
 *
 * The time read: an event with no time of its own (no date processor
 * matched, `lines` format) gets the wall clock when it was framed, bounded
 * by the file's mtime after the read of its newest chunk (no byte of it
 * was written later). A file not written since is framed again after a
 * crash with the same times, so the same index; a file still written gets
 * a later time on replay, which near midnight UTC may be the next day
 * (README: Guarantees).
 *
 * One thread. */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_identity.h"
#include "output.h"
#include "process.h"
#include "registry.h"
#include "sl_config.h"
#include "sl_config_table.h"
#include "sl_err.h"
#include "sl_metrics.h"

/* An input's `multiline` object (pipe_multiline_table). */
struct pipe_multiline_opts {
    const char *preset;  /* "python", "java" */
    const char *pattern; /* a grok expression */
    bool negate;
    int match; /* 0 after, 1 before */
    long long max_lines, max_bytes, timeout_ms;
};
extern const struct sl_config_table pipe_multiline_table;

struct pipe_input;

/* What one inputs[] element says about its events: host.name (copied),
 * the nodes of its format, multiline, processors and fields (each NULL
 * when absent; the config must outlive the input), its name for logs
 * ("inputs[0]"), the processors' counters (may be NULL). NULL with a
 * config error (FILE:L:C:, exit 2) or SL_ENOMEM. */
struct pipe_input *pipe_input_new(const char *host,
                                  const struct sl_config_node *format,
                                  const struct sl_config_node *multiline,
                                  const struct sl_config_node *processors,
                                  const struct sl_config_node *fields,
                                  const char *name, struct proc_metrics *pm,
                                  struct sl_err *err);
void pipe_input_free(struct pipe_input *pi); /* NULL is fine */
/* A line (a container record's text) longer than max bytes is cut there
 * and tagged _truncated (default: CONTAINER_LOG_DEFAULT_MAX_BYTES); for
 * the sources made after the call. */
void pipe_input_set_max_line(struct pipe_input *pi, size_t max);

struct pipeline;

/* The shared half: the output (borrowed), the registry (borrowed; NULL:
 * no file sources), the event arena, the sources' slots, the counters
 * (registered in m, which may be NULL). */
struct pipeline *pipeline_new(struct output *o, struct registry *reg,
                              struct sl_metrics *m, struct sl_err *err);
/* Frees every source still alive. */
void pipeline_free(struct pipeline *p);

struct pipe_src;

/* A file's source: its registry key, its path (copied) and the file
 * offset of its first chunk (where it resumes: line_reader counts from
 * there). With multiline, it copies the registry's cuts of key past that
 * offset, to repeat each before the first line at or past it (above:
 * cuts). NULL when out of memory. */
struct pipe_src *pipe_src_new_file(struct pipeline *p, struct pipe_input *pi,
                                   uint64_t key, const char *path,
                                   uint64_t base, struct sl_err *err);
/* The stdin stream's source, started at start_ms (UTC). */
struct pipe_src *pipe_src_new_stdin(struct pipeline *p, struct pipe_input *pi,
                                    int64_t start_ms, struct sl_err *err);
void pipe_src_free(struct pipe_src *s); /* NULL is fine */

/* Feeds a chunk (only after a drain returned 0). id: the chunk's
 * identity (files; NULL for stdin); path: where the file is now (NULL:
 * unchanged); mtime_ms: the file's mtime after the read (INT64_MAX: none,
 * stdin). -1 on SL_ENOMEM. */
SL_MUST_CHECK int pipe_src_feed(struct pipe_src *s, const char *data,
                                size_t len, const struct file_identity *id,
                                const char *path, int64_t mtime_ms,
                                struct sl_err *err);
/* The source's bytes are over (DONE, EOF): its unterminated last line is
 * an event, and every open event is completed. */
void pipe_src_end(struct pipe_src *s);
/* The same, for a file that was truncated (copytruncate) with no copy
 * going on from it: its unterminated last line is half a line, whose rest
 * is in a copy not read; its bytes are dropped (said in the log), the
 * complete lines of its open event still ship. A line cut at max_line
 * ships as it would have (its first max_line bytes, the rest skipped). */
void pipe_src_end_truncated(struct pipe_src *s);
/* run --once at the end: open events are completed, but an unterminated
 * last line waits (its writer may finish it). */
void pipe_src_flush(struct pipe_src *s);
/* Why a source's clocks (multiline.timeout, a split container line's
 * wait) are held: they measure a writer's pause, and while one of these
 * holds, a pause would be the shipper's, not the writer's. */
enum pipe_hold {
    /* the bytes after what s holds are written but cannot be read yet
     * (in_file_user_hold_fn: a copytruncate's hand-over) */
    PIPE_HOLD_HANDOVER,
    /* the bytes after what s holds are not read yet, or may not be: its
     * file is being read (a chunk came and its end was not found yet),
     * grew, or waits for a descriptor, while the shipper reads other
     * files or none (backpressure: Redis down or full, max_in_flight,
     * max_open_files; a stall). Let go when a read finds its end: the
     * reader caught up (in_file_user_unread) */
    PIPE_HOLD_UNREAD
};
/* Holds s's clocks for why (hold true), or lets go of why (false): they
 * do not fire while any reason holds them, and once the last one lets
 * go they count from now_ms (never back). Letting go of a reason that
 * did not hold changes nothing. */
void pipe_src_hold_clock(struct pipe_src *s, enum pipe_hold why, bool hold,
                         int64_t now_ms);

/* Moves what the source holds to the output while it has room: 0, all
 * of it went through; 1, the output is full; -1 on SL_ENOMEM. now_ms:
 * the monotonic clock (multiline's timeouts). */
SL_MUST_CHECK int pipe_src_drain(struct pipe_src *s, int64_t now_ms,
                                 struct sl_err *err);
/* Ended and drained: nothing more will come out. */
bool pipe_src_finished(const struct pipe_src *s);
/* Bytes the source's multiline joiner holds in its buffers (0 without
 * multiline): what a drain gives back (multiline_trim). For tests. */
size_t pipe_src_multiline_memory(const struct pipe_src *s);

/* Every source: drain those with work (1 when the output filled up),
 * flush them all (--once), the earliest multiline deadline (INT64_MAX:
 * none), and ticks the timeouts due by now_ms. */
SL_MUST_CHECK int pipeline_drain(struct pipeline *p, int64_t now_ms,
                                 struct sl_err *err);
void pipeline_flush(struct pipeline *p);
int64_t pipeline_deadline(const struct pipeline *p);
void pipeline_tick(struct pipeline *p, int64_t now_ms);
/* Sources that are not finished (framing state alive). */
size_t pipeline_sources(const struct pipeline *p);

/* Every cut up to registry_cuts_added() == cuts is on disk (registry.h,
 * cuts). From the first call on, a file's multiline event completed by
 * the clock or a flush is recorded as a cut, and the batch that carries it
 * (with every later one) is held unsent until a save covers it
 * (output_hold; this call releases it): so a caller saves at once when
 * registry_cuts_added() grows, and calls this after each save that ended
 * (and once at the start). Before the first call nothing is held (a
 * caller that saves nothing: tests). */
void pipeline_set_cuts_saved(struct pipeline *p, uint64_t cuts);

/* Moves the registry to the marks of an acknowledged batch; wall_s is
 * the `seen` time. Returns how many entries moved. */
size_t pipeline_ack(struct pipeline *p, const struct output_ack *a,
                    int64_t wall_s);
/* Moves the registry past dropped events no committed event followed,
 * once what came before them is acknowledged (after the acks of a turn).
 * Returns how many entries moved. */
size_t pipeline_settle(struct pipeline *p, int64_t wall_s);

#endif
