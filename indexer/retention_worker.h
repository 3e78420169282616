/* retention_worker.h: retention (retention.h) on a thread of its own, so
 * the indexer's loop never waits on a listing or a DELETE (WAVE2: a module
 * that does I/O never blocks the loop).
 *
 * The thread runs retention first after first_delay_ms, then every
 * interval_ms, on the first of the hosts that answers (a refused
 * connection tries the next), and logs what it deletes and why it failed
 * ([retention], warn; the next run tries again). The loop has nothing to
 * poll: it creates the worker at start and frees it at exit.
 * retention_worker_free() sets a flag that ends a request in flight within
 * about a second, then joins. The thread runs with every signal blocked.
 *
 * Shared state: the stop flag and the counters (atomics), and a mutex and
 * condition variable for the wait between runs. The thread reads es
 * (hosts, credentials) and its own compiled pattern; es must outlive the
 * worker. */
#ifndef RETENTION_WORKER_H
#define RETENTION_WORKER_H

#include <stdint.h>

#include "indexer_config.h"
#include "sl_err.h"

struct retention_worker;

struct retention_worker_stats {
    uint64_t runs;     /* runs ended, failed ones included */
    uint64_t failures; /* runs that ended with an error */
    uint64_t deleted;  /* indices deleted, all runs */
};

/* Starts the thread for es->retention_days (>= 1) of es->index. NULL with
 * err: SL_EINVAL (retention off, or a pattern retention cannot read),
 * SL_ENOMEM, SL_EIO (no thread). timeout_ms bounds each request (0: 30 s). */
struct retention_worker *
retention_worker_new(const struct indexer_es_config *es, int64_t first_delay_ms,
                     int64_t interval_ms, long timeout_ms, struct sl_err *err);
/* Stops the thread (a request in flight ends) and frees. NULL is fine. */
void retention_worker_free(struct retention_worker *w);

void retention_worker_stats(const struct retention_worker *w,
                            struct retention_worker_stats *out);

#endif
