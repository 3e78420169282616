/* registry.h: the shipper's acknowledged offsets, one entry per file,
 * kept across restarts (DESIGN.md guarantees 1, 3 and 5).
 *
 * An entry says: every byte of file `id` before `offset` is in a batch that
 * Redis accepted. The caller acks only after Redis accepted the batch, and
 * saves (rate-limited) after acks; a restart resumes each file at its
 * offset, so a line is never lost and, because the offset only moves after
 * Redis has the line, never shipped twice by the registry's doing.
 *
 * Entries are keyed by device + inode (two files on disk never share both),
 * in a hash table: lookup, ack and touch are O(1). The fingerprint in the
 * entry's identity tells whether the file now at that inode is still the
 * one the entry describes (file_identity_compare); when it is not, the
 * caller forgets the entry and starts the file at 0.
 *
 * Invariants, refused with SL_EINVAL (a caller bug, never outside input):
 *  - an offset only moves forward for the same identity;
 *  - an identity with the same fp_len but another fp is another file: it
 *    needs registry_forget() first;
 *  - an offset never passes id->fp_len unless the fingerprint is full
 *    (fp_len >= the configured fp_bytes): compute the identity again after
 *    reading, so every acknowledged byte up to N is fingerprinted.
 *
 * Keys: each entry carries the file's event-id key (sl_event_id.h), 64 bits
 * the input chose when it first saw the file and recorded with
 * registry_add() before any byte of the file was shipped, so an event read
 * again after a crash gets the same id even while the fingerprint is still
 * growing. The key stays with the entry across renames and acks; a new file
 * on the inode (reuse, copytruncate) is a new entry with a new key. Acks
 * name the key, so a late ack for a file that the input has since replaced
 * (forget + add) changes nothing.
 *
 * Expiry: an entry not seen (acked or touched) for ttl_s seconds is dropped
 * by registry_expire(). The caller touches every file it still finds on disk
 * on each scan, so "not seen" is "gone from disk"; the registry stays as
 * small as the set of files that exist, and 100,000 rotations over a year
 * leave only those still there.
 *
 * The file (registry.json) is JSON, one entry per line, readable by people
 * and `status`:
 *
 *   {"version":1,"entries":[
 *   {"dev":2049,"ino":131,"fp":"9d1f0c7e2a5b4d33","fp_len":1024,
 *    "key":"5be0cd19137e2179","offset":52311,"seen":1763870000,
 *    "path":"/var/log/app.log"},
 *   ...
 *   ]}
 *
 * (an entry is on one line in the file). An entry of a file read past its
 * start also has the identity's tail (file_identity.h: the hash of the up
 * to 1 KiB before an offset read), written after "fp_len":
 *
 *   "tail":"0b8e5e1d3c2a4f67","tail_len":1024,"tail_at":52311,
 *
 * All three or none: an entry without them (written by a shipper before
 * tails existed, or of a file not read yet) loads and is matched on its
 * first bytes alone until its next ack adds them; the version stays 1. A
 * shipper older than tails refuses a registry that has them (an unknown
 * key): going back means moving the registry aside. The path is informational
 * (status, messages): entries are keyed by device and inode, so a path that is
 * not UTF-8 is written with U+FFFD for its bad bytes, as every Sluice JSON
 * writer does, and comes back so.
 *
 * Cuts: multiline events completed by the clock (a timeout) or a flush,
 * and container records a flush completed (a split line's rest not come
 * in time: container_log.h), end where they end because of when the
 * lines came, not what they say;
 * a restart that reads the same bytes again from the first line of such
 * an event (its batch was in Redis, the ack not saved) would join the
 * lines written since into it, under its id, and Elasticsearch would keep
 * the event it has and refuse the whole one (create: 409): the rest lost.
 * So the pipeline records each such cut (the file's key and the offset of
 * the cut: registry_cut_add) and ships the event only once a save put the
 * cut on disk; a restart repeats the cuts of a file past where it resumes
 * (registry_cuts; multiline_cut, container_log_flush). A cut is a bound
 * no event crosses in either stage: a container record cut there also
 * ends the multiline event it goes into. An ack of the key at or past a cut
 * drops it: a restart resumes past it. In the file, a cut is in the line of
 * each entry with its key whose offset is before it, after "offset":
 *
 *   "offset":52311,"cuts":[52400,52988],
 *
 * ascending, each past the offset. Optional, as the tail: a registry
 * without cuts is written exactly as before them, so a shipper older than
 * cuts reads it; one with cuts it refuses (an unknown key), as for tails.
 *
 * Saving writes registry.json.tmp in the same directory, fsyncs it, renames
 * it over registry.json and fsyncs the directory: after a crash at any point
 * the file is the old or the new registry, complete. A .tmp left by a crash
 * is never read, only removed. A save can be split in two halves: the
 * snapshot (registry_snapshot_take: a copy of the entries, a few ms for
 * 100,000, on the caller's loop) and the durable write of that copy
 * (registry_snapshot_save: the text, the write and two fsyncs, bounded by
 * nothing but the disk, so a daemon runs it off its loop: registry_saver.h).
 * The outcome is one of three (enum registry_save_result): the rename is
 * the point of no return, so a failure after it is a warning, not a failed
 * save.
 *
 * Loading is strict: anything that is not exactly this format is refused
 * with FILE:LINE:COLUMN, what is wrong, and the choice to fix the file or
 * move it aside (which ships every file again). A damaged registry is never
 * replaced by an empty one silently. A missing file is an empty registry
 * (the first start); registry_load says so through *created. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_identity.h"
#include "sl_buf.h"
#include "sl_err.h"

#define REGISTRY_VERSION       1
#define REGISTRY_DEFAULT_TTL_S (7 * 24 * 3600)
#define REGISTRY_MAX_PATH      4096     /* bytes of a path, as PATH_MAX */
#define REGISTRY_MAX_ENTRIES   10000000 /* a file with more is refused */
#define REGISTRY_MAX_CUTS      4096     /* cuts not acked yet, all files */

struct registry_config {
    int64_t ttl_s;     /* >= 1; registry_config_init: 7 days */
    uint32_t fp_bytes; /* the N identities are computed with; 1024 */
};

struct registry_entry {
    struct file_identity id;
    uint64_t key;    /* the file's event-id key (below); any 64 bits */
    uint64_t offset; /* acknowledged: every byte before it is in Redis */
    int64_t seen;    /* wall clock seconds of the last ack or touch */
    char *path;      /* last known path; owned by the registry */
};

struct registry;

void registry_config_init(struct registry_config *cfg);

/* An empty registry. NULL on error (SL_EINVAL for a bad config). */
struct registry *registry_new(const struct registry_config *cfg,
                              struct sl_err *err);
void registry_free(struct registry *r); /* NULL is fine */

/* Reads the registry at path. A missing file gives an empty registry with
 * *created set (created may be NULL); a leftover path.tmp is removed. NULL
 * on error: SL_EIO (cannot read), SL_EPARSE (damaged, wrong version),
 * SL_ENOMEM. */
struct registry *registry_load(const char *path,
                               const struct registry_config *cfg, bool *created,
                               struct sl_err *err);
/* The same on bytes in memory; name is used in messages. */
struct registry *registry_load_buffer(const char *name, const char *buf,
                                      size_t len,
                                      const struct registry_config *cfg,
                                      struct sl_err *err);

/* What a save did. The rename of the .tmp over the file divides the
 * outcomes: before it, nothing changed; after it, the new file IS the
 * registry, whatever fails next. */
enum registry_save_result {
    REGISTRY_SAVED = 0,      /* the new file is the registry, durably */
    REGISTRY_SAVED_UNSYNCED, /* the new file is the registry (renamed), but
                                the directory fsync failed: after a power
                                loss the previous save may come back, and
                                the lines acknowledged since then are
                                shipped again (same ids, so no duplicate).
                                err says why: log it as a warning; the next
                                save syncs again */
    REGISTRY_NOT_SAVED = -1, /* nothing changed: the previous file (if any)
                                is intact and the .tmp removed; err says
                                why and what to check */
};

/* Writes the registry atomically, on the calling thread (a shutdown's last
 * save, `--once`, tools). The text streams through a 64 KiB buffer, so
 * memory does not grow with the file. err is set unless REGISTRY_SAVED. */
enum registry_save_result registry_save(const struct registry *r,
                                        const char *path, struct sl_err *err);
/* Appends the file's contents to out (tests, fuzzing, `status`). */
SL_MUST_CHECK int registry_write(const struct registry *r, struct sl_buf *out,
                                 struct sl_err *err);

/* A copy of the entries as they are now, for saving later or elsewhere:
 * about 130 bytes an entry with its path (the text is 230 with a tail),
 * one pass over the table, no formatting; with 100,000 entries about 3 ms
 * (bench/RESULTS.md). It shares nothing with r, which may change or be
 * freed at once. NULL with SL_ENOMEM. */
struct registry_snapshot;
struct registry_snapshot *registry_snapshot_take(const struct registry *r,
                                                 struct sl_err *err);
void registry_snapshot_free(struct registry_snapshot *snap); /* NULL is fine */
/* The durable half: saves snap to path exactly as registry_save would have
 * saved the registry when snap was taken. Touches only snap (reading),
 * path and path.tmp: safe on any thread, one at a time per path. err is
 * set unless REGISTRY_SAVED. */
enum registry_save_result
registry_snapshot_save(const struct registry_snapshot *snap, const char *path,
                       struct sl_err *err);

size_t registry_count(const struct registry *r);
/* The fingerprint size identities are computed with (config fp_bytes). */
uint32_t registry_fp_bytes(const struct registry *r);
/* The entry for dev + ino, or NULL. Valid until the next change. */
const struct registry_entry *registry_get(const struct registry *r,
                                          uint64_t dev, uint64_t ino);
/* Iteration in table order: start with *cursor = 0; NULL at the end. */
const struct registry_entry *registry_next(const struct registry *r,
                                           size_t *cursor);

/* Creates the entry of a file seen for the first time (or again after
 * registry_forget): its identity, its event-id key, its path and the offset
 * it starts at (0, or the end for start_at "end", or where a copy's
 * original was), before any of its bytes is shipped. SL_EINVAL when dev +
 * ino already has an entry (forget it first), for a path that is empty or
 * longer than REGISTRY_MAX_PATH, or an offset past a short fingerprint. */
SL_MUST_CHECK int registry_add(struct registry *r,
                               const struct file_identity *id, uint64_t key,
                               const char *path, uint64_t offset, int64_t now,
                               struct sl_err *err);
/* How many entries registry_add() made since registry_new(): a count of
 * new keys. Taken when a snapshot is submitted, it tells which keys a
 * save that ended put on disk (in_file_set_keys_saved). */
uint64_t registry_keys_added(const struct registry *r);
/* Records that bytes [0, offset) of file id (at path), whose entry has this
 * key, are acknowledged, and that it was seen at now. Moves the entry
 * forward and takes id as its identity (the upgrade of a short
 * fingerprint) and path as its path (a rename; NULL keeps the entry's,
 * which the input updates itself through registry_touch). 1: recorded, here
 * or by a hook in an entry that shares the key. 0: there is no entry for
 * dev + ino with this key (the file was forgotten or replaced since it was
 * read: a late ack) and no hook moved one. Either way the key's cuts at
 * or before offset are dropped. The invariants above are refused with
 * SL_EINVAL (-1) and change nothing. */
SL_MUST_CHECK int registry_ack(struct registry *r,
                               const struct file_identity *id, uint64_t key,
                               const char *path, uint64_t offset, int64_t now,
                               struct sl_err *err);
/* Shared keys: a key's bytes may be in more than one entry at the same
 * offsets (a copytruncated file's ghost and its copy take the original's
 * key: in_file.h), and an ack names one file, which may have been replaced
 * since it was read (its entry has a new key: the ack finds nothing). So
 * registry_ack calls each hook after its own work, recorded or not, with
 * its arguments, and the file input moves the entries that share the key
 * (through registry_ack, which calls no hook while one runs). A hook
 * returns whether it moved an entry; registry_ack then returns 1 too.
 * Hooks run in the order added. -1 with SL_ENOMEM. */
typedef bool (*registry_ack_hook)(void *ctx, const struct file_identity *id,
                                  uint64_t key, uint64_t offset, int64_t now);
SL_MUST_CHECK int registry_hook_add(struct registry *r, registry_ack_hook fn,
                                    void *ctx, struct sl_err *err);
/* Removes the hook added with fn and ctx, if any. */
void registry_hook_remove(struct registry *r, registry_ack_hook fn, void *ctx);
/* Marks the entry of dev + ino seen at now, and its path if not NULL
 * (an empty or over-long path is left as it was). 1 if there is one, 0 if
 * not, -1 when out of memory. */
SL_MUST_CHECK int registry_touch(struct registry *r, uint64_t dev, uint64_t ino,
                                 const char *path, int64_t now,
                                 struct sl_err *err);
/* Drops the entry of dev + ino, if any. */
void registry_forget(struct registry *r, uint64_t dev, uint64_t ino);
/* Drops every entry not seen for more than ttl_s before now; returns how
 * many. Cuts of keys no entry has any more go too. */
size_t registry_expire(struct registry *r, int64_t now);

/* Records that the file of key (an entry's event-id key) had an event cut
 * at offset at (> 0) by the clock or a flush (above). *seq: the cut's
 * number, registry_cuts_added() when it was made, so every cut up to N is
 * on disk once a save that began with registry_cuts_added() >= N ended;
 * the same cut recorded again keeps its number (0: loaded from the file).
 * -1: SL_EINVAL (offset 0), SL_ELIMIT (REGISTRY_MAX_CUTS cuts wait for
 * their acks: try again after acks), SL_ENOMEM. */
SL_MUST_CHECK int registry_cut_add(struct registry *r, uint64_t key,
                                   uint64_t at, uint64_t *seq,
                                   struct sl_err *err);
/* How many cuts registry_cut_add() made since registry_new(). */
uint64_t registry_cuts_added(const struct registry *r);
/* The cuts of key past offset after, ascending: writes up to max of them
 * to out and returns how many there are. */
size_t registry_cuts(const struct registry *r, uint64_t key, uint64_t after,
                     uint64_t *out, size_t max);

#endif
