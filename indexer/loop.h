/* loop.h: `sluice-indexer run`: the daemon's one thread and one poll loop
 * (DESIGN.md, "Inside each daemon"), wiring the modules:
 *
 *   Redis (input.h) -> index name (index_name.h) -> es_sender.h
 *        ^                                              |
 *        +--- done: input_event_done  <----- outcome ---+
 *             dead: input_event_dead -> deadletter.h (sluice:dead)
 *
 * plus the signalfd, the optional /metrics and /status endpoint
 * (sl_http_server.h) and, when retention_days > 0 and not --once, the
 * retention thread (retention_worker.h).
 *
 * Backpressure: the loop takes an event from the input only while the
 * sender has room, and asks the input to read only then, so when
 * Elasticsearch is slow or down nothing more is pulled from Redis.
 *
 * Each event handed to the sender gets a tag, an index into a table of
 * the input events in the sender, so its outcome finds its event again.
 * The table grows to the most events the sender holds at once (bounded by
 * the sender: one open request, one sealed, max_in_flight on the wire) and
 * is kept.
 *
 * Stopping: SIGTERM or SIGINT stops pulling, flushes the open request and
 * lets what is in flight end (outcomes reported, dead letters written,
 * acknowledgements answered) for at most LOOP_STOP_GRACE_MS; a second
 * signal stops at once. What is not resolved then stays pending in Redis:
 * the next start reads its own pending entries first, and the event ids
 * turn the resend into 409s. SIGHUP reopens nothing yet but the log
 * (sl_log_reopen). SIGPIPE must be ignored by the caller.
 *
 * --once: as run, and returns 0 once the input is idle (nothing
 * unacknowledged in the group, the last read found nothing new), the
 * sender holds nothing and no dead letter waits to be written. Stopped by
 * a signal before that, it returns 1. It also returns 1 when Elasticsearch
 * has failed every request for elasticsearch.request_timeout (60 s by
 * default) since the first failure while events wait (es_sender_failing_
 * since: down, unreachable, hung, TLS, 401, 403, a whole-request 5xx; not
 * 429s, per item or whole, nor blocks: a cluster that answers keeps --once
 * going): said with the last failure and what to do, the events resolved
 * so far acknowledged, the others left pending for the next run, as a
 * signal would. Why that budget: it is the time the indexer already
 * grants one request to answer, so a hung node is given two of them and a
 * refusing one a dozen attempts (the set-aside backoff is at most 5 s),
 * and a user who raised it for a slow cluster gets a longer wait too.
 * Redis unreachable as long (its command connection not ready), or
 * answering and refusing what the input needs to start (the group's
 * creation, its pending entries read back: an ACL user without the key),
 * ends --once too, with 1, at once: nothing can be acknowledged then.
 * One budget for both servers: a batch job has one wait to tune, and the
 * message names the key. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>

#include "indexer_config.h"
#include "sl_err.h"

#define LOOP_STOP_GRACE_MS 10000

/* Runs until stopped (or, once, until nothing is left). The caller has
 * blocked SIGTERM, SIGINT and SIGHUP (the loop reads them from a
 * signalfd), ignored SIGPIPE, run curl_global_init and set up the log.
 * Returns the exit status: 0 stopped cleanly or finished, 1 a failure at
 * start (Redis URL, listen address in use ...) or out of memory. */
SL_MUST_CHECK int indexer_loop_run(const struct indexer_config *ic, bool once);

#endif
