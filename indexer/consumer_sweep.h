/* consumer_sweep.h: removes the consumers of the indexers' group that hold
 * nothing and have not been seen for redis.forget_idle (stream mode).
 *
 * Why: XREADGROUP creates a consumer the first time a name reads, and
 * nothing ever removes it; each indexer started under a new name (a
 * container's random host name, a `consumer` of a deploy's id) leaves one
 * behind for ever, and `status` and XINFO list them all.
 *
 * What is removed: a consumer other than this indexer's whose pending
 * count is 0, whose idle time (XINFO CONSUMERS "idle") is at least
 * forget_idle, and whose indexer is not running. Redis 7.0 counts "idle"
 * from the last read or claim that gave the consumer entries, not from
 * its last attempt, so a live indexer on a quiet stream looks as idle as
 * a dead one: each indexer therefore keeps a mark, the key
 * "{KEY}:alive:CONSUMER", set at each sweep to expire after forget_idle
 * (sweeps come at most forget_idle / 2 apart), and a consumer with a mark
 * is kept. A consumer that still holds
 * entries is never removed (XGROUP DELCONSUMER would drop its pending
 * entries from the group: they would never be read again): its entries
 * are first claimed by the live indexers after redis.claim_idle (input.h),
 * after which it holds nothing and goes at a later sweep. The check and
 * the removal are one Lua script (EVAL, atomic), so a consumer that reads
 * between them cannot lose what it read. A consumer removed while its
 * indexer runs after all (one of a version without marks, or out of touch
 * with Redis longer than forget_idle) is made again by its next read, and
 * nothing is lost: it held nothing.
 *
 * When: a sweep at start (it sets this indexer's mark before another
 * indexer's sweep can find its consumer idle: of two indexers started
 * together, each with its first sweep a second later, one could remove
 * the other's consumer), then every min(forget_idle / 2, 5 min)
 * (at least CONSUMER_SWEEP_MIN_MS). Removals are said at info, one line
 * per sweep with the names (the first CONSUMER_SWEEP_NAMES_SHOWN). A
 * group or stream not made yet is nothing to sweep. Where Redis refuses
 * the script (an ACL user without +eval, EVAL renamed away) or a command
 * in it (the script names which: NOPERM XGROUP DELCONSUMER refused ...),
 * sweeping stops, after one warning saying what to allow; other failures
 * (Redis down, a timeout) wait for the next sweep.
 *
 * The connection is borrowed (the caller polls it), as deadletter.h's. Not
 * thread-safe: one loop owns it. */
#ifndef CONSUMER_SWEEP_H
#define CONSUMER_SWEEP_H

#include <stdint.h>

#include "sl_err.h"
#include "sl_redis.h"

#define CONSUMER_SWEEP_MAX_MS      300000 /* sweeps are at most this apart */
#define CONSUMER_SWEEP_MIN_MS      500
#define CONSUMER_SWEEP_FIRST_MS    0 /* after start: our mark at once */
#define CONSUMER_SWEEP_NAMES_SHOWN 10

struct consumer_sweep_config {
    const char *key, *group, *consumer; /* copied; consumer: our own name */
    long long forget_idle_ms;           /* >= 1 */
    const char *component;              /* log component; NULL: "indexer" */
};

struct consumer_sweep;

/* No I/O yet: the first sweep is due CONSUMER_SWEEP_FIRST_MS after this.
 * NULL with SL_ENOMEM. */
struct consumer_sweep *consumer_sweep_new(const struct consumer_sweep_config *c,
                                          struct sl_redis *cmd,
                                          struct sl_err *err);
/* A sweep in flight ends with the connection (its callback frees what is
 * left). NULL is fine. */
void consumer_sweep_free(struct consumer_sweep *cs);

/* ms until the next sweep (0: due), -1 when it has stopped. */
SL_MUST_CHECK int consumer_sweep_timeout_ms(const struct consumer_sweep *cs);
/* Sends the sweep when due and none is in flight. */
void consumer_sweep_process(struct consumer_sweep *cs);

/* Consumers removed since it was made. */
uint64_t consumer_sweep_removed(const struct consumer_sweep *cs);

#endif
