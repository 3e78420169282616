/* deadletter.h: the dead-letter stream (`redis.dead_key`, "sluice:dead"):
 * every event Elasticsearch refused for good (a mapping or parse error),
 * and every entry the input could not read, with why, so nothing is lost
 * and `sluice-indexer dlq replay` can send the events again once the
 * mapping or the event is fixed (DESIGN.md, guarantee 2).
 *
 * One dead letter is one stream entry (XADD KEY * ...), with these fields,
 * in this order; every value is a byte string, numbers in plain decimal:
 *
 *   v             "1": the format of this entry
 *   error.type    Elasticsearch's error type ("mapper_parsing_exception"),
 *                 or the input's own: "sluice_bad_entry" (a stream entry
 *                 that is not a batch this indexer reads), "sluice_bad_event"
 *                 (a list element that is not one JSON object)
 *   error.reason  Elasticsearch's reason, or the input's message; at most
 *                 DEADLETTER_REASON_MAX bytes (cut there)
 *   status        the item's HTTP status ("400"); "0" when Elasticsearch
 *                 never saw it
 *   index         the index the event was sent to; "" when never sent
 *   id            the event's _id; "" for a whole entry
 *   ts            the event's time (UTC ms) that decides its index; "" for
 *                 a whole entry and when id is ""
 *   source        where it was read: "stream KEY ENTRY-ID" or "list KEY"
 *   host          the batch's host (stream mode); "" when none
 *   event         the event's JSON, one line, as it was read (for
 *                 sluice_bad_event: the element as it was); "" for a whole
 *                 entry
 *   entry.NAME    a whole entry only: each field of the entry as it was,
 *                 its name prefixed with "entry." (a compressed payload
 *                 stays compressed), so a damaged entry can be looked at
 *                 and repaired by hand
 *
 * A reader takes fields by name and ignores names it does not know, so a
 * later version 1 may add fields at the end.
 *
 * The stream is never trimmed by Sluice: dead letters leave it only through
 * `dlq replay` or an operator. Its length is read at start and every
 * DEADLETTER_CHECK_MS into the `sluice_dead_letters` gauge (and `status`);
 * past the configured threshold a warning is logged, once per crossing.
 *
 * One letter per event, however often the event is refused. The same
 * batches read again (a shipper whose registry was lost ships a file
 * twice) are refused again; each refusal would otherwise be a letter, and
 * `dlq list` would show 3 bad events as 9 letters. So an event's letter is
 * written by one Lua script (EVAL, one round trip, atomic):
 *
 *   GET the event's seen key ("{KEY}:seen:ID", deadletter_seen_key());
 *   if it names an entry still in the stream (XRANGE of that one id):
 *     renew its TTL, write nothing (counted as repeated);
 *   else XADD the letter and SET the seen key to its entry id, with a TTL
 *   of DEADLETTER_SEEN_TTL_S.
 *
 * Why this and not a letter per refusal that `dlq` groups by id: the
 * stream, its length gauge and warning, `dlq list` and `dlq replay` all
 * count events, and a re-shipped file does not grow the stream. Why the
 * check looks the entry up rather than trusting the key: a letter that
 * left the stream (replayed, deleted by an operator, the stream dropped)
 * must never hide the next refusal of its event, or that event would be
 * neither indexed nor in the stream; with the lookup, the worst a stale or
 * expired key does is let a second letter in, which `dlq replay` resolves
 * by _id (409). The TTL only bounds the memory of keys whose letters left
 * by hand; `dlq replay` deletes the keys of the letters it deletes. A
 * whole entry (no event id) is a plain XADD, every time. Cost: measured in
 * bench/RESULTS.md ("Dead letters once per event"); letters are rare.
 * Where Redis refuses the script itself (NOPERM: an ACL user without
 * +eval; EVAL renamed away), letters are written with XADD from then on,
 * one per refusal, after one warning: the stream never stops taking them.
 *
 * Writing never gives up: a letter whose XADD (or EVAL) fails (Redis down,
 * OOM, a lost reply) is sent again after a backoff until Redis takes it,
 * so the entry it came from stays unacknowledged (and the input stops
 * reading once max_in_flight entries wait): the stream never refuses a
 * letter, it only slows the indexer down. A reply lost after Redis ran the
 * script finds the letter there when sent again (repeated, not doubled);
 * a lost XADD of a whole entry makes it twice.
 *
 * The letter is copied by deadletter_add(); done(ctx, tag) runs once, from
 * deadletter_process() or the connection's callback, once Redis holds the
 * letter (written, or the event's found there). The connection is
 * borrowed: the caller polls it. */
#ifndef DEADLETTER_H
#define DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_metrics.h"
#include "sl_redis.h"
#include "sl_slice.h"

#define DEADLETTER_VERSION      "1"
#define DEADLETTER_REASON_MAX   4096
#define DEADLETTER_CHECK_MS     10000
#define DEADLETTER_TYPE_ENTRY   "sluice_bad_entry"
#define DEADLETTER_TYPE_EVENT   "sluice_bad_event"
#define DEADLETTER_SEEN_TTL_S   (30 * 86400)
#define DEADLETTER_SEEN_KEY_MAX 512

struct deadletter_config {
    const char *key;       /* the stream; copied */
    long long warn_at;     /* warn while longer than this */
    const char *component; /* log component; NULL: "deadletter" */
    int check_ms;          /* between length checks; 0: DEADLETTER_CHECK_MS */
};

/* One letter; every slice is copied by deadletter_add(). */
struct deadletter_letter {
    struct sl_slice error_type, reason, index, id, source, host, event;
    int status;
    int64_t ts_ms;
    /* A whole entry instead of an event: its nfields names and values,
     * interleaved (as XREADGROUP returns them); id, ts and event are then
     * written empty. */
    size_t nfields;
    const char *const *fields;
    const size_t *field_lens;
};

typedef void (*deadletter_done_fn)(void *ctx, void *tag);

struct deadletter_stats {
    uint64_t written;  /* letters Redis took */
    uint64_t repeated; /* letters not written: the event had one */
    uint64_t retries;  /* XADDs sent again */
    uint64_t pending;  /* letters not yet taken */
    int64_t length;    /* the stream's last known length; -1: not known */
};

struct deadletter;

/* No I/O yet. r is borrowed and must outlive the writer; metrics may be
 * NULL. */
struct deadletter *deadletter_new(const struct deadletter_config *cfg,
                                  struct sl_redis *r,
                                  struct sl_metrics *metrics,
                                  struct sl_err *err);
/* Letters not yet written are dropped (their entries were not acked, so
 * they come back). NULL is fine. */
void deadletter_free(struct deadletter *dl);

/* Copies the letter and queues its write. -1: SL_ENOMEM; done never runs. */
SL_MUST_CHECK int deadletter_add(struct deadletter *dl,
                                 const struct deadletter_letter *l,
                                 deadletter_done_fn done, void *ctx, void *tag,
                                 struct sl_err *err);
/* The letters queued with ctx are still written, but done is no longer
 * called for them (their owner is going away). */
void deadletter_forget(struct deadletter *dl, const void *ctx);

/* ms until the next resend or length check; 0 when due. */
SL_MUST_CHECK int deadletter_timeout_ms(const struct deadletter *dl);
/* Resends what is due, reads the stream's length when due. */
void deadletter_process(struct deadletter *dl);

/* The event's seen key into buf: "{KEY}:seen:ID", or "KEY:seen:ID" when
 * KEY has a '{' (a hash tag of its own), so the key and the stream share
 * a Redis Cluster slot and one script may touch both. Its length; 0 when
 * it does not fit in size (the letter is then written unchecked). */
size_t deadletter_seen_key(const char *key, struct sl_slice id, char *buf,
                           size_t size);

void deadletter_get_stats(const struct deadletter *dl,
                          struct deadletter_stats *st);

#endif
