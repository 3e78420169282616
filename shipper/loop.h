/* loop.h: sluice-shipper's daemon: one thread, one poll loop (DESIGN.md
 * "Inside each daemon") over a signalfd, each file input's inotify fd,
 * stdin, the output's Redis connection (or stdout), the registry saver's
 * pipe and the HTTP endpoint, waiting on the earliest deadline (rescans
 * and file timers, multiline timeouts, batch age, Redis deadlines, the
 * next registry save).
 *
 * Each turn: signals; acknowledged batches move the registry (saved off
 * the loop at most once a second, registry_saver.h); the sources' framing
 * is drained into the output; then inputs are read while the output has
 * room (backpressure is not reading). SIGTERM or SIGINT: reading stops,
 * the batches in flight get a grace period to be acknowledged, the
 * registry is saved on this thread, exit 0. SIGHUP reopens the log
 * (log.file, or the file stderr appends to) and asks for a rescan.
 *
 * --once: once every matched file was read to its end (in_file_stats'
 * idle after a rescan) and stdin reached EOF, open events are completed
 * (an unterminated last line of a live file waits), the last batch is
 * sealed and acknowledged, the registry saved, exit 0. With Redis
 * unreachable, or refusing every batch, for output.redis.command_timeout
 * with no batch accepted, it gives up (loop_once.c): the registry saved
 * with what Redis acknowledged, exit 1. The daemon waits for ever. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>

#include "shipper_config.h"
#include "sl_err.h"

#define LOOP_GRACE_MS 10000 /* shutdown: batches in flight, at most */

struct loop;

/* Everything made from sc (kept by the caller until loop_free): the
 * registry loaded from data_dir (created when missing), the inputs, the
 * output, the endpoint. NULL with err: SL_EINVAL for what the config
 * says wrong (exit 2), another status for what failed (exit 1). */
struct loop *loop_new(const struct shipper_config *sc, bool once,
                      struct sl_err *err);
/* Runs until stopped or, with once, done. The exit status: 0, or 1 when
 * the shipper could not go on (logged). */
SL_MUST_CHECK int loop_run(struct loop *l);
void loop_free(struct loop *l); /* NULL is fine */

#endif
