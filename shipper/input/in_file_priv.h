/* in_file_priv.h: what the file input's files share (in_file.c: the set of
 * files and the reading; in_file_scan.c: globs, inotify; in_file_rotate.c:
 * what a change on disk means). Nothing else includes it but the tests. */
#ifndef IN_FILE_PRIV_H
#define IN_FILE_PRIV_H

#include <sys/stat.h>

#include "in_file.h"

/* A file the input knows: one per device + inode. */
enum rec_state {
    REC_LIVE,    /* at a matched path (as of the last scan) */
    REC_ROTATED, /* no longer at a matched path: drained, then DONE */
    REC_DONE     /* announced (or to be): freed after the next call */
};

struct rec {
    struct in_file_src pub;
    char *path;        /* owned; pub.path points here */
    char *old_path;    /* the path before a rename this scan saw, or NULL */
    char *home;        /* owned: the matched path of a file renamed away
                          before it was first opened, or NULL; its registry
                          entry is made under this name, so a restart looks
                          for it from there */
    uint64_t dev, ino; /* from stat, before the identity is known */
    struct file_identity id; /* valid when identified */
    uint64_t key_gen;        /* registry_keys_added() once this input made its
                                entry; not read before a save covers it (0: the
                                entry came from disk) */
    enum rec_state state;
    int fd; /* -1 when closed */
    /* one bit each (100,000 records: a record is about 250 bytes) */
    bool identified : 1; /* opened once: id, key, offset decided */
    bool first_scan : 1; /* found by the first scan (start_at applies) */
    bool seen : 1;       /* found by the current scan */
    bool ready : 1;      /* in the ready list: may have bytes */
    bool waiting : 1;    /* in the wait list: closed, wants a descriptor */
    bool idle : 1;       /* in the idle list: open, live, at its end */
    bool deleted : 1;    /* rotated: nlink was 0 */
    bool at_eof : 1;     /* the last read found the end */
    bool has_entry : 1;  /* the registry had an entry at creation */
    bool empty_new : 1;  /* identified empty as a file of its own: its
                            first bytes may show it is a copy after all
                            (one being written: a copier creates it empty) */
    bool shares_key : 1; /* a copy: its key is its original's, whose acks
                            move its entry too (in_file_shared.c), until
                            share_end */
    bool at_known : 1;   /* found by the first scan at a path a registry
                            entry of this input names: it took the place of
                            a file read before (rotated while stopped), so
                            it is read from 0 whatever start_at says */
    bool deferred : 1;   /* its identification waited once for an original
                            not identified yet (in_file_identify) */
    bool wait_known : 1; /* in the wait list, counted in in->wait_known */
    bool handover : 1;   /* pub.user's clock held (in_file_carry.c): its
                            file was truncated, its next bytes are in a
                            copy not read yet */
    bool truncated : 1;  /* over because it was truncated (copytruncate):
                            its unterminated last line's rest is in a
                            copy, so it is no line (in_file_chunk) */
    uint32_t slot;       /* index in in->recs */
    uint64_t offset;     /* next byte to hand out */
    uint64_t size_seen;  /* st_size at the last stat */
    int64_t mtime_seen;  /* st_mtim (ns) at the last scan */
    int64_t mtime_read;  /* st_mtim (ns) after the last read, or when the
                            first bytes were last checked: written since
                            and no longer, it was written over in place */
    int64_t last_data;   /* ms of the last byte read (or of opening) */
    int64_t rotated_at;  /* ms when it left its path */
    int64_t share_end;   /* ms: shares_key ends (IN_FILE_GHOST_MS) */
    uint32_t share_slot; /* index in in->shared while shares_key */
    struct rec *succ;    /* the file now at our old path: waits for our end */
    struct rec *pred;    /* we wait for it */
    struct rec *copy_of; /* a copy of this live file: held until it is
                            truncated or done, then read past its offset */
    int64_t held_at;     /* ms: held since (copy_of set) */
    int64_t parked_at;   /* ms: truncated, its DONE waits for its copy */
    uint64_t park_scan;  /* in->scans then (in_file_carry.c) */
    int64_t held_grew;   /* ms: the copy last grew (a copy being written) */
    uint64_t held_size;  /* its size then */
    uint64_t own_start;  /* where it starts if it is not a copy after all */
    int64_t refused_at;  /* st_ctim (ns) when open() was refused (EACCES,
                            EPERM): not tried again until it changes */
    struct rec *rnext, *rprev; /* ready, wait, idle or done list */
    struct rec *hino;          /* hash chain by dev + ino */
    struct rec *fps_next;      /* chain by fingerprint (in_file_fps.c) */
    struct rec **fps_pprev;    /* what points to it in its chain */
    uint64_t fps_fp;           /* the fingerprint it is filed under */
    uint32_t fps_len;          /* and its length; 0: not filed */
};

/* Bytes of an old file that may live on in a copy (copytruncate): a copy
 * whose first id.fp_len bytes hash to id.fp is read from offset, under
 * key. */
struct ghost {
    struct file_identity id;
    uint64_t offset; /* read: where the copy starts */
    uint64_t acked;  /* acknowledged: the copy's registry offset */
    uint64_t key;
    int64_t until; /* ms */
};
/* Scans an inotify event asks for run at most this often (a directory
 * where files are created all the time would otherwise walk the globs for
 * each one). */
#define IN_FILE_SCAN_GAP_MS 100
#define IN_FILE_GHOSTS_MAX  256 /* ghosts: this and one a file at most */
#define IN_FILE_GHOST_MS    (5 * 60 * 1000)
/* A file held as a copy of a live file whose original is not truncated
 * while the copy stays unchanged for rotate_wait, or within this long at
 * most, is no copy: files that merely begin alike (a banner, a header). */
#define IN_FILE_COPY_HOLD_MAX_MS (60 * 1000)

/* A registry entry of this input at startup: found again or looked for
 * (its path is the entry's: no copy, 100,000 of them are megabytes). */
struct startup {
    uint64_t dev, ino;
};

struct rlist {
    struct rec *head, *tail;
    size_t n;
};

/* A path that could not be read, logged once per reason. */
struct bad_path {
    char *path;
    int reason; /* errno, or -1 not regular */
    bool seen;  /* in the current scan */
};

/* The files renamed away and drained an input remembers, so that another
 * input whose paths match their new names does not read them again (from
 * an offset whose last acks may not have come yet): a few rotations' worth;
 * an older one is read by that input from its acknowledged offset. */
#define IN_FILE_DRAINED_MAX 64

struct watch {
    int wd;
    char *dir;
};

struct in_file {
    struct in_file_config cfg;
    struct registry *reg;
    char *name;
    char comp[64]; /* "input:file" for logs about the input as a whole */
    uint32_t fp_bytes;
    uint64_t keys_saved; /* in_file_set_keys_saved() */
    /* the files */
    struct rec **recs;
    size_t nrecs, caprecs;
    struct rec **hash; /* by dev + ino; hcap a power of two */
    size_t hcap;
    struct rlist ready, wait, done;
    bool ready_blocked;  /* no ready file's key is on disk (next_ready) */
    size_t wait_known;   /* files in wait the registry knew, not identified */
    struct rlist parked; /* truncated, their DONE waiting for a copy to
                            take their state (in_file_carry.c) */
    struct rlist idle;   /* oldest first: closed first when files wait */
    struct rec *freeing; /* DONE handed out: freed at the next call */
    in_file_user_free_fn user_free;
    in_file_user_hold_fn user_hold;
    in_file_user_hold_fn user_unread;
    size_t open; /* descriptors held */
    char *buf;   /* read_size + FILE_IDENTITY_TAIL_BYTES bytes */
    /* scanning */
    bool scanned_once, scan_due, scan_now;
    int64_t next_scan, next_tick, next_poll, last_scan;
    int64_t tick_ms; /* in_file_tick_ms of cfg */
    struct bad_path *bad;
    size_t nbad, capbad;
    struct startup *startup;
    size_t nstartup;
    uint64_t *known_paths; /* sorted hashes of the startup entries' paths */
    /* the daemon's other file inputs (in_file_peers.c): peers[0..nearlier)
     * come before this one in the config */
    struct in_file **peers;
    size_t npeers, nearlier;
    struct bad_path *notes; /* paths said to be another input's */
    size_t nnotes, capnotes;
    struct {
        uint64_t dev, ino;
    } drained[IN_FILE_DRAINED_MAX]; /* renamed-away files read to their
                                       end, the latest: not the peers' */
    size_t ndrained;                /* ever: the ring's next is % MAX */
    struct ghost *ghosts; /* grown as needed, up to IN_FILE_GHOSTS_MAX and
                             one a file: a rotation of every file at once
                             (copytruncate of 1,000) keeps each one's */
    size_t nghosts, cap_ghosts;
    size_t nshared; /* live records with shares_key */
    /* them (an ack of a key moves its copies' entries: walking every
     * file for each ack cost a daemon with 100,000 files and one copy
     * 100,000 steps an ack for 5 minutes), capshared of room; shared_all:
     * one could not be listed (out of memory), the acks walk every file
     * until none shares a key */
    struct rec **shared;
    size_t capshared;
    bool shared_all;
    /* identified files by fingerprint (in_file_fps.c) */
    struct {
        struct rec **table; /* chains; cap a power of two */
        size_t cap, n;
        uint32_t *lens; /* files filed per fingerprint length, 0..fp_bytes */
        uint64_t *bits; /* bit k: lens[k] > 0 */
        uint64_t *pre;  /* fp_bytes + 1: a new file's prefix hashes */
        struct rec **found; /* in_file_fps_match's answer, by slot */
        size_t nfound, capfound;
    } fps;
    int64_t started_ns; /* wall clock (ns) when the input was made */
    bool hooked;        /* in_file_shared_ack is the registry's hook */
    /* inotify */
    int ifd;              /* -1: polling only */
    bool watch_full;      /* the watch limit was reached (logged once) */
    bool said_compressed; /* a compressed file skipped (logged once) */
    struct watch *watches;
    size_t nwatches, capwatches;
    uint64_t own_dev, own_ino; /* in_file_set_own_output; 0, 0: none */
    const char *own_dir[2];    /* in_file_set_own_dir; borrowed */
    uint32_t *watch_by_dir, *watch_by_wd; /* in_file_watches.c */
    size_t watch_slots;                   /* of each; a power of 2 */
    /* counters (NULL when not registered) */
    struct sl_gauge *m_open;
    struct sl_counter *m_seen, *m_bytes, *m_errors, *m_scans;
    uint64_t scans; /* in_file_stats */
    struct sl_counter *m_rot[5];
};

enum rot_kind {
    ROT_RENAME,
    ROT_COPYTRUNCATE,
    ROT_DELETE,
    ROT_INODE_REUSE,
    ROT_TRUNCATE
};
extern const char *const in_file_rot_names[];

/* in_file.c */
struct rec *in_file_rec_find(const struct in_file *in, uint64_t dev,
                             uint64_t ino);
struct rec *in_file_rec_add(struct in_file *in, const char *path,
                            const struct stat *st, struct sl_err *err);
int in_file_rec_set_path(struct rec *r, const char *path, struct sl_err *err);
static inline int64_t in_file_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}
static inline int64_t in_file_ctime_ns(const struct stat *st)
{
    return (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}
void in_file_rec_close(struct in_file *in, struct rec *r);
/* A descriptor of path to look at (-1 when it cannot be opened), counted
 * in open and within max_open_files where an idle file other than keep
 * can give its slot; closed with in_file_probe_close. */
int in_file_probe_open(struct in_file *in, const char *path,
                       const struct rec *keep);
void in_file_probe_close(struct in_file *in, int fd);
void in_file_rec_done(struct in_file *in, struct rec *r);
/* r, DONE, from the done list to the parked one (its DONE waits), and
 * back (in_file_carry.c). */
void in_file_done_hold(struct in_file *in, struct rec *r);
void in_file_done_release(struct in_file *in, struct rec *r);
/* Drops r's registry entry (its key's): r is gone from disk, deleted
 * (no link left) or gone while closed, read to its end or not, so nothing
 * can read it again. Kept, each rotation's deleted file stayed until the
 * 7-day expiry (a file rotated every 5 s: 12 entries a minute). An ack
 * still in flight for it finds no entry and records nothing. */
void in_file_forget_gone(struct in_file *in, const struct rec *r);
/* r to the ready list (if open and free to be read), its user told it
 * has bytes to read (in_file_set_user_unread). */
void in_file_make_ready(struct in_file *in, struct rec *r);
/* r, open at its end, read once more for a writer's last bytes, its user
 * told nothing: none are known (a rotated file, every tick). */
void in_file_look_again(struct in_file *in, struct rec *r);
void in_file_unlist(struct in_file *in, struct rec *r);
void in_file_want_open(struct in_file *in, struct rec *r);
/* n waits for o's end (o took n's path before it): o is read once more,
 * opened if closed, so that reaching its end lets n go even when o was at
 * its end already; a predecessor renamed to a matched name is a live file,
 * which no timer ends. */
void in_file_link_succ(struct in_file *in, struct rec *o, struct rec *n);
/* A file that waits for its predecessor gets its registry entry now
 * (opened, identified, and kept open on the idle list while a slot is
 * free): renamed away and the shipper killed before it was read, it is
 * still found at the restart; deleted before it was read, it is read
 * through its descriptor. -1: out of memory. */
int in_file_enroll(struct in_file *in, struct rec *r, int64_t now,
                   struct sl_err *err);
/* r opened, identified and closed now (in_file_enroll's work, whatever r
 * waits for; one with a predecessor stays open, idle): 0, or -1 out of
 * memory. */
int in_file_settle(struct in_file *in, struct rec *r, int64_t now,
                   struct sl_err *err);
uint64_t in_file_new_key(void);
int64_t in_file_wall_s(void);
void in_file_count_rotation(struct in_file *in, enum rot_kind k);
void in_file_count_error(struct in_file *in);

/* in_file.c: the registry entries this input owns (in_file_owns), to
 * look for after the first scan; again when the peers are set. */
int in_file_collect_startup(struct in_file *in, struct sl_err *err);

/* in_file_peers.c */
/* The first input before this one whose paths match path, or NULL. */
const struct in_file *in_file_owner(const struct in_file *in, const char *path);
/* path matches this input's paths and no earlier input's. */
bool in_file_owns(const struct in_file *in, const char *path);
/* Another input whose record holds dev + ino (*rotated: not at a path of
 * its own any more, drained), or NULL. */
const struct in_file *in_file_holder(const struct in_file *in, uint64_t dev,
                                     uint64_t ino, bool *rotated);
/* Says once (until a scan no longer finds it) that path is other's. */
void in_file_note_other(struct in_file *in, const char *path,
                        const struct in_file *other, bool by_path);
void in_file_notes_end_scan(struct in_file *in);
/* r, renamed away, was read to its end (in_file_rec_done). */
void in_file_note_drained(struct in_file *in, const struct rec *r);
void in_file_notes_free(struct in_file *in);

/* in_file_scan.c */
void in_file_scan(struct in_file *in, int64_t now);
bool in_file_path_matches(const struct in_file *in, const char *path);
/* Whether an exclude glob names path (a rotated file found by its inode
 * under such a name is not followed there: `*.gz` is another file). */
bool in_file_excluded(const struct in_file *in, const char *path);
/* Whether path's name is a compressed file's (app.log.2.gz): excluded. */
bool in_file_compressed_name(const char *path);
int in_file_watch_init(struct in_file *in);
void in_file_watch_read(struct in_file *in, int64_t now);
void in_file_watch_free(struct in_file *in);

/* The watched directories, by name and by descriptor (in_file_watches.c):
 * NULL when not watched. add: -1 out of memory (the directory is then not
 * watched: the periodic scan still finds its changes). remove: w leaves
 * (the last watch takes its place). */
struct watch *in_file_watch_by_dir(struct in_file *in, const char *dir);
struct watch *in_file_watch_by_wd(struct in_file *in, int wd);
int in_file_watch_add(struct in_file *in, int wd, const char *dir);
void in_file_watch_remove(struct in_file *in, struct watch *w);
void in_file_watches_free(struct in_file *in);
void in_file_bad_path(struct in_file *in, const char *path, int reason,
                      bool literal);
void in_file_bad_path_clear(struct in_file *in, const char *path);

/* in_file_shared.c: acks of a key that copies share (registry.h's
 * hooks). The registry hook, added by in_file_new. */
bool in_file_shared_ack(void *ctx, const struct file_identity *id, uint64_t key,
                        uint64_t offset, int64_t now);
/* r, a copy, shares its original's key from now on (adopt). */
void in_file_share_key(struct in_file *in, struct rec *r, int64_t now);
/* c, a held copy of size bytes, let go: its entry to acked, where its
 * original was acknowledged, if it holds those bytes. */
void in_file_copy_acked(struct in_file *in, const struct rec *c, uint64_t acked,
                        uint64_t size);
/* r no longer shares it: over, or its time passed (timers). */
void in_file_unshare_key(struct in_file *in, struct rec *r);
/* The inode of the entry that keeps the ghost of id's bytes under key. */
uint64_t in_file_ghost_ino(const struct file_identity *id, uint64_t key);

/* in_file_carry.c: the caller's framing state (src->user) of a file
 * copytruncate emptied goes on in its copy, read from where the file was
 * read to, so that an event open at the truncation (its lines read from
 * the original, its next line not come yet) is finished from the copy,
 * whole. The same bytes at the same offsets under the same key: one
 * stream. */
/* c, a copy read from where orig was read to, under its key, takes orig's
 * state when it has none (orig's DONE then ends nothing); only within one
 * input (another input's framing is not this one's): the callers pass
 * two files of one input. */
void in_file_carry(struct in_file *in, struct rec *orig, struct rec *c);
/* r's first read since it took a held state (data or its end): the
 * state's clock goes on from now. */
void in_file_handover_end(struct in_file *in, struct rec *r, int64_t now);
/* r, truncated (replaced), is over with a state the caller holds: its
 * DONE waits (parked) until its copy took the state (in_file_carry) or
 * none can come any more (in_file_parked_timers). */
void in_file_park(struct in_file *in, struct rec *r, int64_t now);
/* The parked record of the bytes a ghost (id, key, offset) stands for,
 * or NULL. */
struct rec *in_file_parked(const struct in_file *in,
                           const struct file_identity *id, uint64_t key,
                           uint64_t offset);
/* Parked records no copy can take any more go to DONE: a scan ran since
 * the truncation and every file found is identified, or rotate_wait
 * passed. *next: their deadline, when earlier. */
void in_file_parked_timers(struct in_file *in, int64_t now, int64_t *next);

/* in_file_fps.c: the identified files by fingerprint, for find_original.
 * update: files r again after r's identity, identified flag or state
 * changed (out of the table when not identified, empty or DONE); -1 out
 * of memory (r then not filed). remove: r out of the table. */
int in_file_fps_update(struct in_file *in, struct rec *r);
void in_file_fps_remove(struct in_file *in, struct rec *r);
/* Room for fp_bytes + 1 prefix hashes (file_identity_compute_prefix), or
 * NULL out of memory. */
uint64_t *in_file_fps_prefix(struct in_file *in);
/* The files filed here whose fingerprint is the first bytes of a file of
 * len bytes hashed at every length in pre (pre[k]: the first k), into
 * in->fps.found (nfound), ordered by slot; only files the registry had an
 * entry for when entry_only. -1 out of memory. */
int in_file_fps_match(struct in_file *in, uint32_t len, const uint64_t *pre,
                      bool entry_only);
void in_file_fps_free(struct in_file *in);

/* in_file_rotate.c */
int in_file_identify(struct in_file *in, struct rec *r, int64_t now,
                     struct sl_err *err);
/* r was empty when identified as a file of its own (empty_new), or took
 * the inode of another file's entry at a restart, and is about to be read
 * from 0: with its first bytes it may turn out a copy being written
 * (copytruncate: the copier creates it empty) or one whose original this
 * scan identified later, read from its original's offset under its key,
 * or held while that is live.
 * 1: read on; 0: held or closed; -1: out of memory. */
int in_file_recheck_empty_new(struct in_file *in, struct rec *r, int64_t now,
                              struct sl_err *err);
/* 1: r goes on; 0: r was closed or replaced; -1: out of memory. deep
 * also compares the first bytes (a pread of up to fp_bytes). */
int in_file_check_open(struct in_file *in, struct rec *r, int64_t now,
                       bool deep, struct sl_err *err);
void in_file_lost(struct in_file *in, struct rec *r, int64_t now);
void in_file_startup_resolve(struct in_file *in, int64_t now);
/* The first scan's files at the paths their registry entries name, in the
 * directories of its other new files, identified before those: a file
 * truncated while stopped leaves its ghost first, so that its copy (any
 * new file, or one at a name a registry entry's inode had) is known as
 * one. 0, or -1 out of memory. */
int in_file_settle_known(struct in_file *in, struct rec **fresh, size_t n,
                         int64_t now, struct sl_err *err);
void in_file_ghost_add(struct in_file *in, const struct file_identity *id,
                       uint64_t offset, uint64_t acked, uint64_t key,
                       int64_t now);
/* orig is over: the files held as its copies are read from where it was
 * (truncated: they hold its bytes), or, when it ended whole (renamed away
 * or deleted with every byte read still there: not truncated), they are
 * none of its copies but files that begin alike, read as files of their
 * own. */
void in_file_copies_go(struct in_file *in, struct rec *orig, bool whole);
/* A held copy whose original was not truncated in time (timers). */
int in_file_not_a_copy(struct in_file *in, struct rec *r, int64_t now,
                       struct sl_err *err);
void in_file_timers(struct in_file *in, int64_t now);
/* The timers' look at most a tick apart while files change (a scan, a
 * read, an open), so that each new deadline is seen: at rest the loop
 * wakes for a real deadline only. */
void in_file_timers_soon(struct in_file *in, int64_t now);
/* How far apart the timers look at files that change: 1 s, or a quarter
 * of close_inactive or rotate_wait, or poll_interval if shorter (5 ms at
 * least). */
int64_t in_file_tick_ms(const struct in_file_config *cfg);

#endif
