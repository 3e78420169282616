/* registry_saver.h: registry saves whose durable half runs off the caller's
 * loop (DESIGN.md: only work that cannot be bounded in time, an fsync, may
 * leave the loop).
 *
 * One writer thread per registry file. The loop calls
 * registry_saver_submit(), which takes a snapshot of the registry on the
 * loop (registry_snapshot_take: a copy of the entries; with 100,000 entries
 * about 9 MB and 3 ms, bench/RESULTS.md) and hands it to the thread, which
 * formats it, writes, fsyncs, renames and fsyncs the directory
 * (registry_snapshot_save). The loop polls registry_saver_fd() for
 * readability and then calls registry_saver_collect() for the outcome.
 *
 * At most one save is in flight. A snapshot submitted while one is in
 * flight waits; a newer one replaces a waiting one (coalescing: offsets
 * only move forward, so the newest snapshot holds everything an older one
 * would have saved). Outcomes coalesce the same way: collect returns the
 * outcome of the newest save that ended, with the seq of its snapshot, so
 * "snapshot N is on disk" is "collected seq >= N with REGISTRY_SAVED or
 * REGISTRY_SAVED_UNSYNCED". Memory: at most two snapshots (the one in
 * flight and the one waiting or being taken; submit frees the waiting one
 * before it takes the next) and the writer's 64 KiB buffer.
 *
 * Shared state, all of it under one mutex: the waiting snapshot, the
 * outcome not yet collected, the stop flag. The thread owns the snapshot it
 * writes and reads the path fixed at birth; it never sees the registry,
 * which the loop keeps changing while a save is in flight. It runs with
 * every signal blocked, so handlers run on the loop.
 *
 * Shutdown: registry_saver_stop() drops the waiting snapshot and lets the
 * thread end after the save in flight, without blocking; registry_saver_free()
 * stops and then waits for that save (an fsync cannot be interrupted). After
 * free nothing writes the file, and the shutdown's last save is
 * registry_save() on the caller's thread; before it, registry_save() on the
 * same path would race the thread for path.tmp. */
#ifndef REGISTRY_SAVER_H
#define REGISTRY_SAVER_H

#include <stdint.h>

#include "registry.h"
#include "sl_err.h"

struct registry_saver;

struct registry_save_outcome {
    uint64_t seq; /* the snapshot that save wrote (registry_saver_submit) */
    enum registry_save_result result;
    struct sl_err err; /* why, unless REGISTRY_SAVED */
};

/* A saver for the registry file at path (copied), its thread started. NULL
 * on error: SL_EINVAL (path empty or too long), SL_ENOMEM, SL_EIO (no pipe
 * or no thread). */
struct registry_saver *registry_saver_new(const char *path, struct sl_err *err);
/* Stops (as registry_saver_stop) and waits for the save in flight, then
 * frees. An outcome not collected is dropped. NULL is fine. */
void registry_saver_free(struct registry_saver *s);

/* Readable (POLLIN) once a save has ended and until registry_saver_collect()
 * is called. The loop must not read or close it. */
SL_MUST_CHECK int registry_saver_fd(const struct registry_saver *s);

/* Snapshots r on the calling thread and queues the copy for the writer,
 * replacing a snapshot still waiting. *seq (may be NULL) is its number: 1,
 * 2, ... in submit order. -1 when the snapshot cannot be built (SL_ENOMEM;
 * nothing waits then: submit again later) or after stop (SL_EINVAL). */
SL_MUST_CHECK int registry_saver_submit(struct registry_saver *s,
                                        const struct registry *r, uint64_t *seq,
                                        struct sl_err *err);

/* 1 with *out set to the outcome of the newest save that ended since the
 * last call; 0 when none has. Empties the fd. */
SL_MUST_CHECK int registry_saver_collect(struct registry_saver *s,
                                         struct registry_save_outcome *out);

/* Drops the waiting snapshot and refuses new ones; the save in flight, if
 * any, ends normally and its outcome can still be collected. Returns at
 * once. */
void registry_saver_stop(struct registry_saver *s);

#endif
