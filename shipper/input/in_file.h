/* in_file.h: the shipper's file input. It finds the files that `paths`
 * names, follows them through rotation, and hands out their bytes in
 * chunks, in order per file, when the daemon's loop asks (issue 12).
 *
 * The loop drives it with the shape of sl_redis.h (WAVE2.md):
 *
 *   n = in_file_fill_pollfds(in, pfds, cap);     the inotify fd, or none
 *   t = in_file_timeout_ms(in, now);             rescan, timers
 *   poll(...);
 *   in_file_process(in, pfds, n, now);           events, rescans, timers
 *   while (outbox has room && in_file_read(in, room, now, &c) == 1)
 *       ... frame c.data (line_reader per c.src), or flush c.src ...
 *
 * Backpressure is not reading: in_file never reads a byte the caller did
 * not ask for; a file waits in the filesystem until the caller has room.
 * Memory is one read buffer (read_size) and a small record per file.
 *
 * Chunks. in_file_read() returns the next chunk of some file with data,
 * round-robin between files (one read of at most min(budget, read_size)
 * bytes each, so a busy file never starves the others), or a DONE notice.
 * Per file, chunks come in offset order without gaps or overlaps, each
 * byte once. A chunk names its file (c.src: path, key, a slot for the
 * caller's framing state) and carries the identity to acknowledge it
 * with: once Redis holds the lines up to offset X of that file, the
 * caller calls registry_ack(reg, &c.id, c.src->key, NULL, X, wall_s, err)
 * with the id of the chunk that contained byte X - 1 (or a later one).
 * A late ack for a file replaced since returns 0 and changes nothing.
 *
 * DONE. A file whose bytes are over (renamed away or deleted and drained,
 * truncated, replaced on its inode, gone while closed) is announced once
 * with kind IN_FILE_DONE and no data: no chunk of that src follows, and
 * the src is freed at the next in_file call. The caller then ends its
 * framing of that file: a last line without its newline is emitted as it
 * is (as Filebeat does when it closes a file), unless the file was
 * truncated (c.truncated): then its rest is in the copy, and the bytes
 * read of it are half a line. DONE for a rotated file
 * comes only after it was read to its end and nothing was appended for
 * rotate_wait, the time a writer needs to reopen its log; a file that
 * shrank (copytruncate) is announced once its copy took its src->user
 * (below), or once no copy can (the next scan found none: rotate_wait at
 * most). A file still at its path never gets DONE while it stays there: its
 * unterminated last line waits for its newline, across close_inactive
 * (the descriptor is closed, the record and its offset kept).
 *
 * Order across a rotation: when a path names a new file (rename-and-
 * create), the new file is held back until the old one has been read to
 * its end, so the lines of a rotated log come out old first; only the old
 * file's unterminated last line, if any, waits for its DONE, which may come
 * after the new file's first chunks. A copy that goes on where a
 * truncated file was read to, under its key (copytruncate, below), takes
 * that file's src->user (when it has none), and the file's DONE comes
 * with user NULL: the caller's framing goes on with the copy's bytes, so
 * a line or an event that the truncation cut (its start read from the
 * original, its end only in the copy) is finished whole
 * (in_file_carry.c). A caller ends nothing at a DONE whose user is NULL.
 *
 * The registry (borrowed, owned by the daemon): a file seen for the first
 * time gets a random 64-bit key and its entry (registry_add) before any of
 * its bytes is handed out; a file already in the registry resumes at its
 * acknowledged offset with its key. Every scan touches the entries of the
 * files it finds, and updates their paths after a rename. in_file never
 * acks: the caller does, after Redis.
 *
 * Rotation, each kind (in_file_rotate.c has the rules):
 *  - rename-and-create: the renamed file is read to its end through the
 *    descriptor already open (or, after a restart, found again by its inode
 *    in its old directory), then DONE; the new file at the path follows.
 *  - copytruncate: a file that shrank below its read offset, or whose first
 *    bytes changed, starts over from 0 as a new file (new key). The lines
 *    written between the last read and the truncation survive only in the
 *    copy: when the copy's name matches `paths` too, it is recognised by its
 *    fingerprint as the file already read up to X and read from X under the
 *    original's key, so nothing is sent twice. A copy found before the
 *    truncation (its first 1 KiB is a live file's) is held, without a
 *    descriptor, until the original is truncated or done, then read past
 *    where the original ended. A file as long as what was read of the live
 *    file whose KiB before that offset differs is no copy: read at once as
 *    a file of its own. When the original is neither while the copy
 *    stays unchanged for rotate_wait (or within a minute), it was no copy
 *    but a file that begins alike (a banner, a header): it is read from
 *    its start under a key of its own. The copy's registry entry starts at the
 *    original's acknowledged offset (or just past the copy's last newline
 *    when it does not hold those bytes yet: being written, or ending
 *    early): after a crash the lines in between are
 *    read again under the same key, so with the same ids (no duplicate in
 *    Elasticsearch). Acks that name the original move the copy's entry
 *    (and the ghost's) too, those of batches in flight at the truncation
 *    included (in_file_shared.c): after a stop, nothing is read again.
 *    A file gone while closed (truncated and deleted before a look at it,
 *    or while it waited for a descriptor) leaves a ghost of its entry's
 *    bytes too. When the copy does not match `paths`, those lines are
 *    lost: copytruncate's limit, logged as a warning.
 *  - delete: drained, then released; a file that cannot be drained (the
 *    caller has no room) is released after delete_timeout anyway, with a
 *    warning of how many bytes were not read, so disk space comes back.
 *  - inode reuse: a new file on an old inode has other first bytes; it is
 *    read from 0 under a new key.
 *  - while stopped: at the first scan, each registry entry of this input
 *    whose file is no longer at a matched path is looked for by its inode
 *    in its directory; found and unchanged, it is read from its offset to
 *    its end before the file now at its path.
 *
 * Limits: at most max_open_files descriptors of files are held; other files
 * wait, and an open file that reached its end is closed when others wait
 * (the one at its end longest first, whenever a file starts waiting).
 * A file at its end for close_inactive is closed and reopened when it
 * grows. A path that cannot be read (a directory, a FIFO, a permission
 * error, a component that is not a directory) is logged once with the path
 * and what to do, and tried again at every scan; it never stops the others.
 *
 * Event ids: a file's key goes to sl_event_id_source_init() as its 8 bytes
 * little-endian, with the offset of each event's first line as pos.
 *
 * Truncation is seen by size (shorter than the offset read) at every end
 * of a file's bytes and every scan, and by the first bytes and the tail
 * (the KiB before the offset read: file_identity.h) at every scan, every
 * reopen, every restart, the first read past an offset that was set, not
 * read to (no tail there: a resume, a copy let go), an end reached when the
 * file was written since the last read and is no longer (written over in
 * place: cp onto an older copy of the same size) and, while the
 * fingerprint is short, at every read.
 * A file truncated and written past its old offset between two scans,
 * whose first KiB and KiB before the old offset did not change, cannot be
 * told from a file that grew.
 *
 * Two inputs, one file: a file is read by one input only, the first in the
 * config whose paths match its path (and whose exclude does not leave it
 * out): with inputs[0] on every .log file of /var/log and inputs[1] on
 * /var/log/app.log with a multiline preset, app.log is read as inputs[0]
 * says, without the preset. Each later input that matches it says so once,
 * as a warning with what to do (an exclude in the first, or narrower paths
 * in the later one), and again only after the file left its paths and came
 * back. A file reached by another path (a link) is read by the input that
 * found it first, a rotated file by the input that drains it. The registry
 * keys files (by device and inode), not inputs: the input that reads a file
 * owns its entry, and after a restart the same rule picks the same input, so
 * the file resumes where it was acknowledged. Needs in_file_set_peers().
 *
 * Copytruncate across inputs: a copy that only another input matches is
 * known by the original's ghost (its input's) once the truncation was seen,
 * and held, as a copy of a live file is, when found before that while its
 * original is live in another input: read from where the original was,
 * under its key, by the input that matches the copy (its format,
 * multiline and processors for those lines).
 *
 * Not handled: when max_open_files files all keep having bytes, a waiting
 * file waits until one of them reaches its end (as Filebeat's
 * harvester_limit).
 *
 * Time: the caller's monotonic clock in ms (`now`), so tests drive time.
 * Wall-clock seconds for the registry's `seen` come from time(). One
 * thread. */
#ifndef IN_FILE_H
#define IN_FILE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file_identity.h"
#include "registry.h"
#include "sl_config.h"
#include "sl_config_table.h"
#include "sl_err.h"
#include "sl_metrics.h"

enum in_file_start { IN_FILE_START_BEGINNING, IN_FILE_START_END };

/* One `inputs[]` element of type file (in_file_config_table). */
struct in_file_config {
    const char *type;              /* "file" (the daemon dispatches on it) */
    struct sl_opt_strings paths;   /* globs, ** included; at least one */
    struct sl_opt_strings exclude; /* globs; see in_file_scan.c */
    int start_at;                  /* enum in_file_start */
    /* the other modules' keys, read by them */
    const struct sl_config_node *format, *multiline, *processors, *fields;
    long long scan_interval_ms;  /* rescan for new files */
    long long poll_interval_ms;  /* growth checks without inotify */
    long long close_inactive_ms; /* close a file idle at its end */
    long long rotate_wait_ms;    /* a rotated file idle this long is done */
    long long delete_timeout_ms; /* a deleted file is released by then */
    long long max_open_files;
    long long read_size;      /* bytes per read, at most */
    long long max_line_bytes; /* longer lines are cut (the pipeline's) */
    bool inotify;             /* false: polling only */
};

extern const struct sl_config_table in_file_config_table;

/* Fills cfg from one inputs[] element (an object). Lists are allocated:
 * in_file_config_release() frees them. -1 with FILE:L:C: in err. */
SL_MUST_CHECK int in_file_config_read(struct in_file_config *cfg,
                                      const struct sl_config_node *obj,
                                      struct sl_err *err);
void in_file_config_release(struct in_file_config *cfg);
/* The defaults with these paths (tests, tools); paths are borrowed. */
void in_file_config_defaults(struct in_file_config *cfg,
                             const char *const *paths, size_t npaths);

/* The counters, registered once per daemon (label "input": the name given
 * to in_file_new; rotations also by "kind"). */
struct in_file_metrics {
    struct sl_metric_family *open;      /* gauge: descriptors held */
    struct sl_metric_family *seen;      /* files found */
    struct sl_metric_family *bytes;     /* bytes handed out */
    struct sl_metric_family *rotations; /* kind: rename, copytruncate, ... */
    struct sl_metric_family *errors;    /* paths or reads that failed */
    struct sl_metric_family *scans;     /* walks of the globs' directories */
};
SL_MUST_CHECK int in_file_metrics_register(struct in_file_metrics *fm,
                                           struct sl_metrics *m,
                                           struct sl_err *err);

/* What the caller sees of a file. Stable from its first chunk until the
 * in_file call after its DONE. */
struct in_file_src {
    const char *path; /* where it was last found; valid until the next call */
    uint64_t key;     /* its event-id key (sl_event_id.h), as in the registry */
    void *user;       /* the caller's (its framing state); NULL at first */
};

enum in_file_kind {
    IN_FILE_DATA, /* offset, data, len, id are set */
    IN_FILE_DONE  /* the file is over: end its framing (above) */
};

struct in_file_chunk {
    enum in_file_kind kind;
    struct in_file_src *src;
    uint64_t offset;         /* file offset of data[0] */
    const char *data;        /* valid until the next in_file call */
    size_t len;              /* 1 .. budget */
    struct file_identity id; /* covers offset + len: ack with it */
    int64_t mtime_ms; /* the file's mtime after the read (UTC ms; INT64_MAX
                         unknown): no byte of data was written later */
    bool truncated;   /* DONE: the file was truncated (copytruncate) and no
                         copy took its src->user: an unterminated last line
                         is half a line (its rest is in a copy this input
                         does not read), to be dropped, not emitted */
};

struct in_file;

/* A file input on registry reg (borrowed; its fp_bytes is the fingerprint
 * size). name labels logs and counters ("inputs[0]"); fm may be NULL. cfg
 * is copied (its strings must outlive the input). No I/O until the first
 * in_file_process(), which scans. NULL with err on a bad config or when
 * out of memory. */
struct in_file *in_file_new(const struct in_file_config *cfg,
                            struct registry *reg, const char *name,
                            const struct in_file_metrics *fm,
                            struct sl_err *err);
void in_file_free(struct in_file *in); /* NULL is fine; closes every fd */

size_t in_file_fill_pollfds(struct in_file *in, struct pollfd *pfds, size_t n);
/* ms until the next scan or timer, 0 when due; never -1. */
SL_MUST_CHECK int in_file_timeout_ms(const struct in_file *in, int64_t now);
/* Reads inotify events (pfds as filled), scans when due, runs timers. */
void in_file_process(struct in_file *in, const struct pollfd *pfds, size_t n,
                     int64_t now);
/* Called with each src->user that is not NULL when its src is freed: at
 * the in_file call after its DONE, and for every file at in_file_free. The
 * caller's framing state thus needs no list of its own. */
typedef void (*in_file_user_free_fn)(void *user);
void in_file_set_user_free(struct in_file *in, in_file_user_free_fn fn);
/* Called with a src->user that is not NULL when the bytes that follow
 * what it holds are known to be written but cannot be read yet, and
 * again once they are: hold true when copytruncate emptied its file and
 * its state waits for the copy (parked, then carried to it until the
 * copy's first read, which may wait for its key on disk, a descriptor or
 * the caller's room); hold false, with now, at that first read (data or
 * the copy's end) or when no copy took it. The caller's clocks for that
 * state (multiline.timeout, a split container line's wait) measure a
 * writer's pause, which this is not: held, they do not fire, and go on
 * from now (in_file_carry.c). */
typedef void (*in_file_user_hold_fn)(void *user, bool hold, int64_t now);
void in_file_set_user_hold(struct in_file *in, in_file_user_hold_fn fn);
/* Called with a src->user that is not NULL when its file has bytes not
 * read yet, as far as the input knows (unread true: it grew, or it waits
 * for a descriptor; a caller knows as much after each chunk of data it
 * gets), and when a read found its end (unread false, with now: the
 * reader caught up; not while a hand-over holds it). Between the two the
 * file may wait unread for a while (the caller has no room: backpressure;
 * other files hold the descriptors: max_open_files): the caller's clocks
 * that measure a writer's pause (multiline.timeout) do not fire then, and
 * count from the time the reader caught up, so a traceback whose rest
 * was in the file all along is not cut in two. A file at its end looked
 * at again only for a writer's last bytes (a rotated one, every tick)
 * says nothing. */
void in_file_set_user_unread(struct in_file *in, in_file_user_hold_fn fn);

/* Every key up to registry_keys_added() == keys is on disk. A file whose
 * entry this input made after that is not read until a save covers it:
 * its key must survive a crash, else its first lines, sent and then read
 * again after a kill -9, get other ids (DESIGN.md "The event"). So a
 * caller saves the registry at once when registry_keys_added() grows, and
 * calls this after each save that ended. Until the first call every file
 * is read at once (a caller that saves nothing: tests). */
void in_file_set_keys_saved(struct in_file *in, uint64_t keys);

/* The daemon's file inputs in config order (inputs[self] is in; NULL
 * entries skipped: stdin inputs), so that a file two of them match is
 * read by the first only (above). Call before the first
 * in_file_process(); the pointers are copied, and must outlive in. -1
 * with err when out of memory. */
SL_MUST_CHECK int in_file_set_peers(struct in_file *in,
                                    struct in_file *const *inputs, size_t n,
                                    size_t self, struct sl_err *err);

/* The file the shipper writes its events to, when its stdout output is
 * redirected to one (`run > out.log`): never read, and said once when
 * paths match it: read, each event would come back as a new line, and
 * that one again, for ever, each time longer. dev 0 and ino 0: none. */
void in_file_set_own_output(struct in_file *in, uint64_t dev, uint64_t ino);
/* The shipper's data_dir, as written and as realpath(3) gives it (either
 * may be NULL; borrowed, they must outlive in): the shipper's own files
 * there (registry.json and its .tmp and .damaged, lock) are never read
 * (the registry, replaced at each save, would come back as new files, its
 * entries as events, for ever), each said once when paths match it; other
 * files in data_dir are read as any. */
void in_file_set_own_dir(struct in_file *in, const char *dir, const char *real);

/* Asks for a rescan at the next in_file_process (tests, SIGHUP). */
void in_file_rescan(struct in_file *in);

/* The next chunk (1), or nothing ready (0), or -1 with err (out of memory:
 * the input cannot go on). budget >= 1 bounds c->len. */
SL_MUST_CHECK int in_file_read(struct in_file *in, size_t budget, int64_t now,
                               struct in_file_chunk *c, struct sl_err *err);

/* What a status page shows. */
struct in_file_stats {
    size_t files;   /* records: files known */
    size_t open;    /* descriptors held */
    size_t ready;   /* files that may have bytes to read */
    size_t waiting; /* files waiting for a descriptor */
    size_t others;  /* files its paths match that another input reads */
    bool inotify;   /* watching (false: polling) */
    uint64_t scans; /* walks of the directories since in_file_new: the
                       periodic one, and those inotify, a rescan or a
                       replaced file asked for */
    bool idle;      /* scanned, and every file found read to its end with
                       no DONE left to hand out and no copy held: what
                       `run --once` waits for, asked after in_file_rescan() and
                       in_file_process() (a scan sees what inotify has not
                       said yet); a rotated file still open counts once at
                       its end */
};
void in_file_stats(const struct in_file *in, struct in_file_stats *st);

/* One file as a status page shows it (`sluice-shipper status`, /status):
 * what the input holds in memory, no system call, so 10,000 files cost a
 * walk of 10,000 records and as many registry lookups. state is a word:
 *   reading      open, with bytes to read (or reading them)
 *   idle         open, read to its end
 *   closed       at its path, descriptor closed (close_inactive, or given
 *                to a waiting file): reopened when it grows
 *   waiting      not opened yet: the output has no room (Redis down or
 *                full: backpressure), or max_open_files are held
 *   waiting-key  its registry entry is new and not saved yet: read once
 *                a save put its key on disk (in_file_set_keys_saved)
 *   queued       took the path of a rotated file: read after its end
 *   held-copy    a copy of a live file (copytruncate): held until the
 *                original is truncated or done
 *   rotated      left its path (renamed away): read to its end, then done
 *   deleted      deleted while known: drained, then released
 *   new          found at the last scan, not opened yet
 *   done         over: its last notice is being handed out
 *   error        cannot be read; reason says why in a few words
 *   skipped      a directory a glob matched (reason "a directory")
 * A path that cannot be read and has no record otherwise is a row of its
 * own (state error, no offsets). */
struct in_file_row {
    const char *path;   /* valid until the next in_file call */
    const char *state;  /* a static word, above */
    const char *reason; /* error, skipped: "permission denied"...; else
                           NULL */
    bool has_acked;     /* the registry has this file's entry */
    bool has_read;      /* opened once: read and last_read are known */
    bool has_size;      /* a record's (not a bare unreadable path's) */
    uint64_t acked;     /* the registry's offset: in Redis up to here */
    uint64_t read;      /* the next byte to hand out */
    uint64_t size;      /* at the last stat (scan, open, rotation check);
                           at least read */
    int64_t last_read;  /* monotonic ms of the last byte read (or opening) */
};
/* The next row (true), from *cursor (0 at first), or false at the end. */
bool in_file_next_row(const struct in_file *in, size_t *cursor,
                      struct in_file_row *row);

#endif
