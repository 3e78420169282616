/* output.h: where the shipper's events go: a Redis stream (batches in the
 * sl_batch format, for sluice-indexer), a Redis list (one JSON event per
 * element, for Logstash's redis input), or stdout (JSON lines).
 *
 * The pipeline hands events over one at a time, each with a mark it wants
 * back once the event is safe; the output batches them, sends the batches
 * and gives the marks back in order, batch by batch:
 *
 *   struct output *o = output_new(&cfg, metrics, &err);
 *   loop:
 *     n = output_fill_pollfds(o, pfds, OUTPUT_MAX_POLLFDS);
 *     poll(..., min(other timeouts, output_timeout_ms(o)));
 *     output_process(o, pfds, n);
 *     while (output_next_ack(o, &ack))          marks -> the registry
 *         for each ack.marks[i]: registry moves source to offset
 *     while (have an event && output_has_room(o)) {
 *         output_add_event(o, id, SL_EVENT_ID_LEN, ts, ev, &err);
 *           (or output_begin, sl_event_write_json, else output_rollback)
 *         output_commit(o, &(struct output_mark){source, offset}, &err);
 *     }
 *   at the end of input (run --once) or at shutdown: output_flush(o), then
 *   loop until output_idle(o) (or the grace period ends).
 *
 * Guarantee 1 (DESIGN.md): a mark comes back from output_next_ack() only
 * once Redis has accepted every event of its batch (XADD answered an id;
 * every RPUSH of the batch answered its length) or, for stdout, once the
 * batch's bytes were written. Marks come back strictly in the order their
 * batches were sealed, so the registry only ever moves forward, even when
 * a batch must be resent and a later one was accepted first.
 *
 * Marks: opaque to the output. A batch keeps, for each source, the mark
 * of the last event committed from it (for a file read forward, the
 * highest offset); at most OUTPUT_MARKS_MAX sources per batch: the commit
 * that brings the batch to that many seals it. A source handle must keep
 * naming the same source (registry entry) until the acknowledgements of
 * every batch that carried it were taken; give a truncated or replaced
 * file a new handle.
 *
 * Batches are sealed when they reach batch_events events, batch_bytes of
 * payload, OUTPUT_MARKS_MAX sources, batch_age_ms after their first event
 * (output_timeout_ms() says when), or on output_flush(). At most
 * max_in_flight sealed batches wait for their acknowledgement: that is the
 * outbox, and what bounds memory (each holds its entry as sent, at most
 * batch_bytes + OUTPUT_EVENT_MAX compressed, plus the batch being filled).
 *
 * Backpressure: output_has_room() is false while the outbox is full, while
 * Redis is not connected, while Redis refuses batches with an error reply
 * (OOM, NOAUTH, WRONGPASS, NOPERM, READONLY, MISCONF, LOADING, ...), and
 * while the key holds max_pending entries or more (XLEN in stream mode,
 * LLEN in list mode) or uses max_pending_bytes or more (MEMORY USAGE).
 * The pipeline then stops reading: the files are the buffer. Each of these
 * is logged once when it starts, in plain words with what to do, once
 * when it ends, and counted (output_stats, /metrics); the pending limit
 * reached again within 5 minutes of the last time it was said is counted
 * only (a shipper keeping pace with its consumers reaches it every few
 * batches). A Redis that cannot
 * be reached is logged by the client itself (sl_redis_conn.h: each failed
 * attempt the same words, which sl_log folds) and counted here once per
 * outage (disconnects).
 *
 * Retries: a batch that Redis did not accept (connection lost, no reply by
 * command_timeout_ms, an error reply) is sent again by the output, with
 * backoff, the same bytes (so the same event ids: a reply lost after Redis
 * wrote the entry makes a duplicate entry whose events the indexer's
 * `create` with their _id absorbs). It is never dropped. In list mode a
 * batch goes out as several RPUSH commands of at most OUTPUT_LIST_CHUNK
 * events, and only the commands not acknowledged are resent; Logstash has
 * no event ids, so a lost reply there may duplicate up to one command's
 * events (at least once).
 *
 * Pending check (Redis): about every pending_check_ms (every 100 ms while
 * over the limit, so a fast consumer is followed) the output asks the
 * key's length (XLEN: sluice-indexer deletes the entries it acknowledged,
 * XACK then XDEL, so the length is what waits for the indexers; LLEN:
 * Logstash pops what it read) and, with max_pending_bytes, its MEMORY
 * USAGE. Between answers it adds what it sent itself, so the key passes a
 * limit by at most the batches in flight. A user that may not run MEMORY
 * is told once, and the byte limit is then left unchecked.
 *
 * stdout: the batch's events as JSON lines (without the id and time
 * prefix), to the fd given (1). A pipe or socket is set non-blocking (and
 * restored at output_free): a full pipe is backpressure, the loop waits on
 * POLLOUT. A terminal or a regular file is written blocking. EPIPE or any
 * other write error is logged once and ends the output: output_broken()
 * turns true (the daemon must ignore SIGPIPE).
 *
 * One thread: every function here runs on the daemon's loop. */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_err.h"
#include "sl_metrics.h"

/* Sources one batch may carry; the commit that reaches it seals. */
#define OUTPUT_MARKS_MAX 64
/* An event's JSON (with its id and time prefix) may take at most this much
 * on top of batch_bytes; a larger one is refused by output_commit() or by
 * the caller's append (SL_ELIMIT): the caller cuts it and tags it. */
#define OUTPUT_EVENT_MAX ((size_t)8 << 20)
/* stdout: payload bytes that seal a batch. Each write is one batch, and the
 * outbox holds max_in_flight of them: 2 MiB batches (Redis's default) made
 * the process 12 MiB, these about 4, for the same CPU. */
#define OUTPUT_STDOUT_BATCH_BYTES ((size_t)256 << 10)
/* List mode: events per RPUSH command. */
#define OUTPUT_LIST_CHUNK 500
/* Descriptors output_fill_pollfds() may fill. */
#define OUTPUT_MAX_POLLFDS 1

enum output_kind { OUTPUT_REDIS_STREAM, OUTPUT_REDIS_LIST, OUTPUT_STDOUT };

struct output_config {
    enum output_kind kind;
    const char *host;      /* host.name, in each stream entry's header */
    const char *component; /* log component; NULL: "output:redis" or
                              "output:stdout" */
    /* Batching (all kinds). */
    size_t batch_events;  /* 1 .. 1000000 */
    size_t batch_bytes;   /* payload bytes that seal a batch; >= 1 */
    int batch_age_ms;     /* >= 1 */
    size_t max_in_flight; /* sealed batches not yet acknowledged, 1 .. 1024 */
    enum sl_codec codec;  /* stream only; list and stdout write plain JSON */
    int codec_level;      /* 0: lz4 1, zstd 1 (not zstd's 3) */
    /* Redis. */
    const char *url;
    const char *key;
    int command_timeout_ms;      /* 0: 10000 */
    long long max_pending;       /* entries or elements; 0: no limit */
    long long max_pending_bytes; /* MEMORY USAGE; 0: not checked */
    int pending_check_ms;        /* 0: 1000 */
    int retry_min_ms;            /* backoff after an error reply; 0: 100 */
    int retry_max_ms;            /* 0: 5000 */
    int connect_timeout_ms;      /* 0: sl_redis's default */
    /* stdout. */
    int fd;
};

/* What came back for one batch, in seal order. */
struct output_ack {
    size_t events;
    size_t nmarks;
    struct output_mark {
        uint32_t source; /* the pipeline's handle of the source */
        uint64_t offset; /* where to resume once this is safe */
    } marks[OUTPUT_MARKS_MAX];
};

/* Totals since output_new(), the same numbers /metrics shows. */
struct output_stats {
    uint64_t events;        /* acknowledged */
    uint64_t batches;       /* acknowledged */
    uint64_t bytes;         /* entries' payload bytes as sent, acknowledged */
    uint64_t retries;       /* commands sent again after a failure */
    uint64_t error_replies; /* error replies to batches and to logins
                               (WRONGPASS, a PING answered MISCONF), all
                               reasons */
    uint64_t holds;         /* times the output held the pipeline for an
                               error reply */
    uint64_t pending_holds; /* times the pending limit held it */
    uint64_t disconnects;   /* times Redis could not be reached */
    uint64_t unanswered;    /* commands sent that got no reply by
                               command_timeout (a Redis hung or paused) */
    long long pending;      /* the key's length at the last check, -1: none */
    bool ready;             /* Redis is connected (stdout: not broken) */
};

struct output;

/* Checks cfg, registers the counters in m (NULL: kept private, still read
 * by output_stats), opens no connection yet (the first output_process()
 * does). Copies what it keeps of cfg (its strings need not outlive it).
 * SL_EINVAL for a setting out of range or a bad URL. */
struct output *output_new(const struct output_config *cfg, struct sl_metrics *m,
                          struct sl_err *err);
/* Drops what is not acknowledged (it was never marked done: it will be
 * read again). NULL is fine. */
void output_free(struct output *o);

/* Zeroes cfg and sets the defaults: all but kind, url, key, host, fd. */
void output_config_defaults(struct output_config *cfg);
/* The defaults, then shipper.json's output section and host.name (fd 1
 * for stdout). The strings point into sc. */
struct shipper_config;
void output_config_from(struct output_config *cfg,
                        const struct shipper_config *sc);

/* May the pipeline hand over one more event? */
bool output_has_room(const struct output *o);

/* Starts an event: checks id and time (sl_batch_writer_begin's rules) and
 * returns the buffer the caller appends the event's JSON to, or NULL with
 * err: SL_ELIMIT when output_has_room() is false, SL_EINVAL for a bad id
 * or time or an event already open. */
struct sl_buf *output_begin(struct output *o, const char *id, size_t id_len,
                            int64_t ts_ms, struct sl_err *err);
/* Ends the event and records its mark; seals the batch when it is full.
 * The JSON is sl_event_write_json's, which holds no newline (only debug
 * builds check: sl_batch_writer_commit_json). On failure the event is
 * rolled back: SL_EINVAL (empty), SL_ELIMIT (larger than
 * OUTPUT_EVENT_MAX). */
SL_MUST_CHECK int output_commit(struct output *o,
                                const struct output_mark *mark,
                                struct sl_err *err);
/* Starts an event and adds it whole, ev's JSON as sl_event_write_json
 * writes it: for a Redis stream, sl_batch_writer_add_event (codec columnar
 * never writes the JSON); for a list and stdout, output_begin and the
 * JSON. output_commit must follow, with the event's mark (ev's bytes may
 * go before it); output_rollback may not. Errors as output_begin's, and
 * SL_ELIMIT for an event larger than the batch can take (as the JSON
 * writer's, on output_begin's buffer), after which the output is as
 * before. */
SL_MUST_CHECK int output_add_event(struct output *o, const char *id,
                                   size_t id_len, int64_t ts_ms,
                                   const struct sl_event *ev,
                                   struct sl_err *err);
/* Forgets the open event (after a failed append). */
void output_rollback(struct output *o);

/* Seals the batch being filled as soon as the outbox has room (now, if it
 * has): at the end of input and at shutdown. */
void output_flush(struct output *o);
/* Holds the batch being filled, and every later one, unsealed (so not
 * sent) until output_release: for an event that must not reach Redis
 * before something else is on disk (a multiline cut in the registry:
 * pipeline.h), called before that event is committed. Meanwhile a full
 * batch leaves no room (output_has_room) and no batch ages; the batches
 * sealed before are sent as usual. A hold twice is one hold. */
void output_hold(struct output *o);
/* Ends the hold: the batch is sealed now if it is due (full, flushed,
 * aged). */
void output_release(struct output *o);
/* Nothing is left: no event in a batch, no batch unacknowledged, no ack
 * not taken by output_next_ack(). */
bool output_idle(const struct output *o);
/* stdout only: a write failed for good (the reader went away). */
bool output_broken(const struct output *o);

/* 1: *ack is the oldest acknowledged batch not yet taken (copied out);
 * 0: none yet. */
SL_MUST_CHECK int output_next_ack(struct output *o, struct output_ack *ack);

size_t output_fill_pollfds(const struct output *o, struct pollfd *pfds,
                           size_t n);
/* ms until the earliest deadline (batch age, retry, pending check, Redis
 * commands and reconnects); 0 when due, -1 when none. */
SL_MUST_CHECK int output_timeout_ms(const struct output *o);
/* Does the I/O pfds allow and the work that is due. Never blocks (but for
 * stdout on a terminal or a regular file). */
void output_process(struct output *o, const struct pollfd *pfds, size_t n);

void output_stats(const struct output *o, struct output_stats *out);
/* What Redis last said against the shipper, "" when nothing (or stdout):
 * *refused its last error reply to a batch, as logged ("OOM command not
 * allowed when used memory > 'maxmemory'"); *down why the connection
 * last went down ("login refused: WRONGPASS ..."). Valid until the next
 * output_process(). */
void output_redis_said(const struct output *o, const char **refused,
                       const char **down);

#endif
