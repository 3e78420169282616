/* input.h: where the indexer's events come from: a Redis stream of batches
 * (in_redis_stream.c) or a Logstash-style list of events (in_redis_list.c),
 * behind one contract, with at-least-once delivery.
 *
 *   struct input *in = input_new(&ic.redis, cmd, dl, metrics, &err);
 *   loop:
 *       n = input_fill_pollfds(in, pfds, cap);  (its own read connection)
 *       poll(.., min(input_timeout_ms(in), ...));
 *       input_process(in, pfds, n);
 *       if (bulk has room for k events) input_pull(in, k);
 *       while (bulk has room && input_next(in, &ev) == 1) bulk_add(.., &ev);
 *       per item of a bulk answer:
 *           input_event_done(in, &ev)          2xx, or 409 on its own id
 *           input_event_dead(in, &ev, &why)    refused: to the dead letters
 *
 * The unit of work is an ENTRY: a stream entry (one batch, many events) or
 * a list element (one event). An entry is read, its events handed out in
 * order, and it is acknowledged once every one of its events is resolved:
 * done, or dead with its dead letter written (deadletter.h says when that
 * is). Entries resolve in any order; each is acknowledged on its own:
 *   stream: XACK and XDEL, pipelined (so Redis memory falls back to near
 *           zero once everything is indexed);
 *   list:   LREM of the element from this indexer's processing list.
 * Until then the entry stays in Redis, so an indexer killed at any moment
 * loses nothing: what it held is read again (by itself on restart, or
 * claimed by another) and the events' ids turn a replay into 409s.
 *
 * Backpressure: the input reads only inside input_pull(), and only while
 * fewer than max_in_flight entries are read and not acknowledged. The caller
 * pulls only while its bulk side has room, so when Elasticsearch is slow or
 * down the input stops reading and memory stays bounded: at most
 * max_in_flight entries, each at most the batch reader's limit (stream) or
 * the connection's reply limit (list).
 *
 * Events: input_next() hands out the events of the entries read, in the
 * order read. An event's slices point into the input's copy of its entry and
 * stay valid until the event is resolved (done or dead): the bulk side needs
 * no copy of its own. Resolving an event twice, or an event this input did
 * not hand out, is a bug (asserted in debug builds).
 *
 * An entry that is not a valid batch (another writer, a damaged entry, a
 * format this indexer does not read) or a list element that is not a JSON
 * object never stops or loops the input: it goes to the dead letters with
 * the reason, then is acknowledged.
 *
 * Connections: the input owns one connection for its reads, which block
 * (XREADGROUP BLOCK, BLMOVE) and so must not hold up other commands; its
 * fds and deadlines come through input_fill_pollfds/timeout_ms/process. Its
 * other commands (group creation, acknowledgements, claims, recovery) go
 * through `cmd`, a connection the caller owns, polls and shares with the
 * dead-letter writer. Both reconnect by themselves; a read whose answer was
 * lost is recovered (stream: read the own pending entries again; list: the
 * processing list), so nothing held in Redis is forgotten.
 *
 * Not thread-safe: one loop owns it. */
#ifndef INPUT_H
#define INPUT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deadletter.h"
#include "indexer_config.h"
#include "sl_err.h"
#include "sl_metrics.h"
#include "sl_redis.h"
#include "sl_slice.h"

/* Pollfds the input may fill: its read connection. */
#define INPUT_MAX_POLLFDS SL_REDIS_MAX_POLLFDS

struct input;
struct input_entry; /* opaque: the entry an event belongs to */

struct input_event {
    struct sl_slice id;   /* the _id: as the batch says, or (list) derived */
    int64_t ts_ms;        /* the time that decides the index */
    struct sl_slice json; /* the event, one line, no "\n" */
    struct input_entry *entry;
    size_t index; /* of the event in its entry, from 0 */
};

/* Why an event is dead, for its dead letter (deadletter.h's fields). The
 * bytes are copied before the call returns. */
struct input_dead_reason {
    struct sl_slice error_type; /* mapper_parsing_exception */
    struct sl_slice reason;     /* failed to parse field [...] */
    struct sl_slice index;      /* the index it was sent to */
    int status;                 /* the item's HTTP status */
};

/* Counters since the input was made (also in the metrics registry). */
struct input_stats {
    uint64_t entries_read; /* entries read, claimed and recovered included */
    uint64_t events_read;  /* events of those entries */
    uint64_t acked;        /* entries acknowledged (and deleted/removed) */
    uint64_t claimed;      /* stream: entries taken over from others */
    uint64_t dead_events;  /* events sent to the dead letters */
    uint64_t malformed;    /* entries or elements that were not valid */
    uint64_t in_flight;    /* entries read and not yet acknowledged */
};

/* Reads rc's url, mode, key, group, consumer, read_count, block_ms,
 * claim_idle_ms and max_in_flight (copied). cmd and dl are borrowed and
 * must outlive the input; metrics may be NULL (no registration). No I/O
 * yet: the first input_process() starts (group creation, recovery). */
struct input *input_new(const struct indexer_redis_config *rc,
                        struct sl_redis *cmd, struct deadletter *dl,
                        struct sl_metrics *metrics, struct sl_err *err);
/* Frees everything; entries not acknowledged stay in Redis for the next
 * run (or another indexer). Events handed out become invalid. NULL is
 * fine. */
void input_free(struct input *in);

size_t input_fill_pollfds(const struct input *in, struct pollfd *pfds,
                          size_t n);
/* ms until the input's earliest deadline (its connection's, a retry, the
 * next claim scan); 0 when due, -1 for none. */
SL_MUST_CHECK int input_timeout_ms(const struct input *in);
/* I/O and due work; also sends the acknowledgements that became due. */
void input_process(struct input *in, const struct pollfd *pfds, size_t n);

/* Starts a read for about max_events more events (at least one entry) if
 * none is in flight and fewer than max_in_flight entries are held. Never
 * blocks: what it reads comes out of input_next() after later
 * input_process() calls. */
void input_pull(struct input *in, size_t max_events);

/* 1: *ev is the next event read; 0: none ready now. */
SL_MUST_CHECK int input_next(struct input *in, struct input_event *ev);

/* The event was indexed (or 409 on its own id). */
void input_event_done(struct input *in, const struct input_event *ev);
/* The event was refused: its dead letter is queued, and the event counts
 * as resolved once it is written. -1 only for SL_ENOMEM (the event stays
 * unresolved: call again later). */
SL_MUST_CHECK int input_event_dead(struct input *in,
                                   const struct input_event *ev,
                                   const struct input_dead_reason *why,
                                   struct sl_err *err);

/* Nothing held: no entry read and unacknowledged, no claim in flight, and
 * the last read that ended found nothing new (for `run --once`: the stream
 * or list held nothing more for us then; a read may be waiting again). A
 * read that failed (an error such as WRONGTYPE, or a lost answer, which
 * may have moved entries to us unseen) says nothing: not idle until a
 * read is answered and what may have moved is read back. */
bool input_idle(const struct input *in);
/* For `run --once`: in stream mode input_idle() also waits until the
 * group has no pending entry, another consumer's included (DESIGN.md: the
 * stream holds nothing unacknowledged): a live consumer acknowledges its
 * own, and those of a dead one are claimed once idle for claim_idle. */
void input_set_once(struct input *in);
/* Entries whose events are all resolved and whose acknowledgement has not
 * been handed to Redis yet (the next input_process() sends it): a stop
 * waits for these, or what was indexed is read and sent again. */
size_t input_acks_due(const struct input *in);
/* Entries whose acknowledgement was sent and not yet answered; a stop
 * waits for these too (other commands of `cmd`, such as a group creation
 * queued while Redis is down, are not worth waiting for). */
size_t input_acks_in_flight(const struct input *in);
/* Started: the group exists (stream) and the own pending entries or the
 * processing list were read back. */
bool input_ready(const struct input *in);
void input_get_stats(const struct input *in, struct input_stats *st);

#endif
