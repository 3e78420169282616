/* in_file_rotate.c: what a change on disk means for a file the input
 * follows, and where each file starts (in_file.h lists the kinds).
 *
 * The decisions, in one place:
 *  - first open (identify): a registry entry whose fingerprint still
 *    matches and whose offset the file still reaches resumes there, under
 *    its key. Otherwise the entry's file is gone from that inode (reuse or
 *    truncation while stopped): the entry is forgotten and kept as a ghost.
 *    A file without an entry is a copy when its first bytes (and tail, if
 *    it is long enough to have one: file_identity.h) are a ghost's (the
 *    original was truncated) or a live file's (all of its fingerprint, or,
 *    for a file shorter than that, as many of its first bytes; a live file
 *    this process first read only when the new one changed since a second
 *    before the start: bytes all there before hold no copy of them): it
 *    starts where the original's acknowledged offset was, under its key, so
 *    the lines read again carry the ids they had and Elasticsearch takes
 *    them as replays. Any other file starts at 0, or at its end for
 *    start_at "end" when the first scan found it. A copy of a live file
 *    is held until its original is truncated or done (done whole, renamed
 *    away or deleted with its bytes all there: no copy); if neither comes
 *    while the copy stays unchanged for rotate_wait (a copier has
 *    finished), or within IN_FILE_COPY_HOLD_MAX_MS, the two files merely
 *    begin alike: the "copy" starts over as a file of its own. A file
 *    that was empty when identified is decided again at its first bytes
 *    (a copier creates the copy empty), and a copy that ends before the
 *    offset its original was read to (the writer went on while it was
 *    copied) starts at its end: it holds nothing new.
 *  - every open and every end of the bytes (check_open): a file shorter
 *    than the offset read was truncated; one whose first bytes (or those
 *    before the offset read: the tail, file_identity.h) changed was
 *    truncated and rewritten. Its old bytes are over (DONE, a ghost for its
 *    copy); the new content is a new file on the same descriptor.
 *  - gone from every matched path (lost): an open file is drained (renamed
 *    or deleted); a closed one is looked for by its inode in its directory,
 *    so a file renamed while closed is still finished.
 *  - timers: a rotated file at its end, idle and rotated for rotate_wait
 *    (from the later of the two: its writer's last lines) is done; a
 *    deleted one is released after delete_timeout even if not drained; a
 *    live file idle at its end for close_inactive is closed; a held copy
 *    over its time is not a copy (above).
 *
 * Why a key is shared only with a ghost or a held copy: its first owner
 * will write no new bytes under it (a truncated file gets a new key), and
 * a file that merely begins as a live one (short files often do: a banner,
 * a header) is read as a file of its own once that one is not truncated
 * in time. Two unrelated files that begin alike would otherwise get equal
 * ids for different lines, and one of them would be lost. */
#include "in_file_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_log.h"

/* A ghost's entry on disk, under an inode with the top bit set (no file
 * has such an inode): a kill before the copy is decided leaves the
 * restart the ghost to know the copy by (startup_resolve makes it a
 * ghost again, the entry kept: ghost_resume). Dropped once the ghost is
 * used or expires. The other 63 bits hash the file's inode with the key
 * of the bytes the ghost stands for: a file truncated twice before the
 * first copy was found (copytruncate, a few lines, copytruncate) has two
 * ghosts, and one entry per inode kept only the second on disk (after a
 * kill, the first copy was read from 0 under a new key). */
#define GHOST_INO_BIT FILE_IDENTITY_GHOST_INO_BIT

/* A ghost loaded from disk has its entry's inode already. */
uint64_t in_file_ghost_ino(const struct file_identity *id, uint64_t key)
{
    if ((id->ino & GHOST_INO_BIT) != 0)
        return id->ino;
    uint64_t h =
        file_identity_hash(FILE_IDENTITY_FNV_BASIS, &id->ino, sizeof id->ino);
    return file_identity_hash(h, &key, sizeof key) | GHOST_INO_BIT;
}

static void ghost_keep(struct in_file *in, const struct file_identity *id,
                       uint64_t acked, uint64_t key, const char *path)
{
    if (id->fp_len == 0 || (id->ino & GHOST_INO_BIT) != 0)
        return;
    struct file_identity g = *id;
    g.ino = in_file_ghost_ino(id, key);
    struct sl_err err;
    registry_forget(in->reg, g.dev, g.ino);
    if (registry_add(in->reg, &g, key, path, acked, in_file_wall_s(), &err) < 0)
        SL_DEBUG(path, "its ghost not kept on disk: %s", err.msg);
}

static void ghost_drop(struct in_file *in, const struct ghost *g)
{
    registry_forget(in->reg, g->id.dev, in_file_ghost_ino(&g->id, g->key));
}

/* Room for one more ghost: false at the most (IN_FILE_GHOSTS_MAX and one
 * a file) or without memory; then the oldest goes. A fixed 256 lost the
 * ghosts of all but the last 256 files of a copytruncate of 1,000 at
 * once, whose copies were then read from their start: every line twice. */
static bool ghosts_grow(struct in_file *in)
{
    size_t most = IN_FILE_GHOSTS_MAX + in->nrecs;
    if (in->cap_ghosts >= most)
        return false;
    size_t cap = in->cap_ghosts == 0 ? 16 : in->cap_ghosts * 2;
    if (cap > most)
        cap = most;
    struct ghost *g = realloc(in->ghosts, cap * sizeof *g);
    if (g == NULL)
        return false;
    in->ghosts = g;
    in->cap_ghosts = cap;
    return true;
}

void in_file_ghost_add(struct in_file *in, const struct file_identity *id,
                       uint64_t offset, uint64_t acked, uint64_t key,
                       int64_t now)
{
    if (id->fp_len == 0)
        return; /* an empty file's bytes match every file */
    for (size_t i = 0; i < in->nghosts; i++)
        if (in->ghosts[i].key == key && in->ghosts[i].id.ino == id->ino &&
            in->ghosts[i].id.dev == id->dev)
            return; /* told already (in_file_settle_known) */
    if (in->nghosts == in->cap_ghosts && !ghosts_grow(in)) {
        if (in->nghosts == 0)
            return;                     /* no memory for one */
        ghost_drop(in, &in->ghosts[0]); /* the oldest, or about */
        memmove(in->ghosts, in->ghosts + 1,
                (in->nghosts - 1) * sizeof in->ghosts[0]);
        in->nghosts--;
    }
    struct ghost *g = &in->ghosts[in->nghosts++];
    g->id = *id;
    g->offset = offset;
    g->acked = acked < offset ? acked : offset;
    g->key = key;
    g->until = now + IN_FILE_GHOST_MS;
}

/* Whether fd (identity now, size bytes) begins with the bytes `old`
 * fingerprinted, and holds old's tail where it is long enough to: a copy
 * may end before the offset its original was read to (its writer went on
 * while the copier copied), and then only its first bytes can tell. pre:
 * fd's first bytes hashed at every length (file_identity_compute_prefix),
 * or NULL (read). */
static int same_start(const struct file_identity *old,
                      const struct file_identity *now, const uint64_t *pre,
                      uint64_t size, int fd, bool *same, struct sl_err *err)
{
    *same = false;
    if (now->fp_len < old->fp_len)
        return 0;
    struct file_identity k = *old;
    k.dev = now->dev;
    k.ino = now->ino;
    if (size < k.tail_at)
        k.tail_len = 0; /* no tail to check */
    enum file_id_match m;
    if (file_identity_compare_prefix(&k, now, pre, fd, &m, err) < 0)
        return -1;
    *same = m == FILE_ID_SAME;
    return 0;
}

/* The acknowledged offset of r's entry (r's own read offset when the entry
 * is not r's): where a copy of r must start so that nothing is skipped. */
static uint64_t acked_offset(const struct in_file *in, const struct rec *r)
{
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    if (e != NULL && e->key == r->pub.key && e->offset <= r->offset)
        return e->offset;
    return r->offset;
}

/* Whether path and other are in the same directory. */
static bool same_dir(const char *path, const char *other)
{
    const char *a = strrchr(path, '/'), *b = strrchr(other, '/');
    size_t la = a == NULL ? 0 : (size_t)(a - path);
    size_t lb = b == NULL ? 0 : (size_t)(b - other);
    return la == lb && memcmp(path, other, la) == 0;
}

/* Whether the live file l begins with the n first bytes of a new file
 * (their hash fp), read from l now. */
static bool live_begins_with(struct in_file *in, const struct rec *r,
                             const struct rec *l, uint32_t n, uint64_t fp)
{
    int fd = l->fd >= 0 ? l->fd : in_file_probe_open(in, l->path, r);
    if (fd < 0)
        return false;
    struct file_identity id;
    struct sl_err e2;
    bool same = file_identity_compute(fd, n, &id, &e2) == 0 &&
                id.dev == l->dev && id.ino == l->ino && id.fp_len == n &&
                id.fp == fp;
    if (fd != l->fd)
        in_file_probe_close(in, fd);
    return same;
}

/* Whether r's file (identity now, size bytes) begins as the live file l,
 * so may be its copy (held until l is truncated, which tells):
 *  - as long as l's fingerprint or longer: it holds l's first bytes as l's
 *    identity knows them, and l's tail if it is long enough to (a longer
 *    file that differs there merely begins alike; a shorter one may be a
 *    copy still being written);
 *  - shorter (a copy of a short file that ends before where l was read,
 *    its writer having gone on; a copy still being written): its bytes are
 *    l's first ones now. A pread of l each, so only for a file found after
 *    the first scan and l in its directory, where copiers put copies. */
static int begins_as_live(struct in_file *in, const struct rec *r,
                          const struct rec *l, const struct file_identity *now,
                          const uint64_t *pre, uint64_t size, bool *same,
                          struct sl_err *err)
{
    *same = false;
    if (now->fp_len == 0)
        return 0; /* an empty file begins as every file */
    if (now->fp_len > l->id.fp_len ||
        (now->fp_len == l->id.fp_len && now->fp == l->id.fp))
        return same_start(&l->id, now, pre, size, r->fd, same, err);
    if (now->fp_len < l->id.fp_len && !r->first_scan &&
        same_dir(r->path, l->path))
        *same = live_begins_with(in, r, l, now->fp_len, now->fp);
    return 0;
}

/* Where a copy of size bytes starts, or its entry, when its original was
 * read (or acknowledged) to offset: there, or at the copy's end when it is
 * shorter. A copy ends where the copier stopped, and the original may
 * have been read past that before it was truncated (its writer went on
 * during the copy): such a copy holds nothing new, and must not look
 * truncated (shorter than its offset or its entry's), which would read it
 * again from 0, nor get an entry past a short fingerprint (the registry
 * refuses one). The one rule for a copy matched to a truncated original's
 * bytes (find_original) and for one held while its original lived, at
 * its match and when it is let go (in_file_copies_go). */
static uint64_t copy_start(uint64_t offset, uint64_t size)
{
    return offset < size ? offset : size;
}

/* Where a copy's registry entry starts when its original was acknowledged
 * to acked: there when the copy holds those bytes; else (a copy still
 * being written, or one that ends early) just past its last newline, so
 * that a restart resumes at the start of a line, reading acknowledged
 * lines again under the same key (the same ids), never in the middle of
 * one, whose rest went out as a line of its own (killed while cp wrote
 * the copy: an event with half a line). 0 when no newline is found. */
static uint64_t copy_entry_at(int fd, uint64_t acked, uint64_t size)
{
    if (acked <= size)
        return acked;
    char buf[4096];
    for (uint64_t end = size; end > 0;) {
        size_t n = end < sizeof buf ? (size_t)end : sizeof buf;
        if (pread(fd, buf, n, (off_t)(end - n)) != (ssize_t)n)
            return 0;
        for (size_t i = n; i-- > 0;)
            if (buf[i] == '\n')
                return end - n + i + 1;
        end -= n;
    }
    return 0;
}

/* What a new file is a copy of: a ghost (the original's bytes are gone) or
 * a live file it begins as (begins_as_live). */
struct original {
    uint64_t offset; /* read: the copy starts here */
    uint64_t acked;  /* the copy's registry offset: a crash re-reads from
                        here, under the same key, so with the same ids */
    uint64_t key;
    struct rec *live; /* the live original, or NULL */
    bool shared;      /* a copy: the key is the original's */
    /* the truncated original whose framing state the copy goes on with
     * (in_file_carry.c), or NULL */
    struct rec *parked;
};

/* Whether the live file l may be the original of r, a file without an
 * entry of its own, before their bytes are compared. Not l itself, one
 * not identified or empty, a held copy, or one not read yet (offset 0)
 * unless read before a restart (its lines may have been sent, their acks
 * not saved). Nor, when r's bytes were all there before this process
 * started (old_bytes), a file whose bytes only this process read (no
 * registry entry when found): r cannot hold a copy of bytes read after it
 * was written. Such files merely begin alike (per-job logs that begin
 * with the same line); held as copies, each waited rotate_wait, and one
 * whose "original" was deleted meanwhile was read from that one's offset,
 * its first lines lost. */
static bool may_be_original(const struct rec *r, const struct rec *l,
                            bool old_bytes)
{
    return l != r && l->identified && l->id.fp_len != 0 &&
           (l->offset != 0 || l->has_entry) && l->copy_of == NULL &&
           (l->has_entry || !old_bytes);
}

/* The live original r's file (identity now, its first bytes hashed at pre,
 * size bytes) is a copy of, in input li, into *found (NULL: none). A file
 * of the first scan can only begin as a file with a fingerprint as long
 * as its own or shorter (begins_as_live): those are looked up by their
 * fingerprints (in_file_fps.c), a few look-ups however many files are
 * known. Any other file may begin as a longer one in its directory: all
 * are looked at, as before, with no read but of those. */
static int find_live(struct in_file *in, struct in_file *li,
                     const struct rec *r, const struct file_identity *now,
                     const uint64_t *pre, uint64_t size, bool old_bytes,
                     struct rec **found, struct sl_err *err)
{
    *found = NULL;
    bool indexed = r->first_scan && pre != NULL;
    if (indexed && in_file_fps_match(li, now->fp_len, pre, old_bytes) < 0)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    size_t n = indexed ? li->fps.nfound : li->nrecs;
    for (size_t i = 0; i < n; i++) {
        struct rec *l = indexed ? li->fps.found[i] : li->recs[i];
        if (!may_be_original(r, l, old_bytes))
            continue;
        bool same;
        if (begins_as_live(in, r, l, now, pre, size, &same, err) < 0)
            return -1;
        if (same) {
            *found = l;
            return 0;
        }
    }
    return 0;
}

/* 1 with *o set when fd (identity now, its first bytes hashed at every
 * length in pre, or NULL; size bytes, st_ctim ctime_ns) is a copy. */
static int find_original(struct in_file *in, const struct rec *r,
                         const struct file_identity *now, const uint64_t *pre,
                         uint64_t size, int64_t ctime_ns, struct original *o,
                         struct sl_err *err)
{
    bool full = now->fp_len >= in->fp_bytes;
    /* this input's ghosts, then the other inputs' (a copy only this one
     * matches of a file another reads: in_file_peers.c) */
    for (size_t p = 0; p <= in->npeers; p++) {
        struct in_file *gi = p == 0 ? in : in->peers[p - 1];
        for (size_t i = gi->nghosts; i-- > 0;) {
            struct ghost *g = &gi->ghosts[i];
            if ((g->id.dev == now->dev && g->id.ino == now->ino) ||
                (!full && g->acked > size))
                continue;
            bool same;
            if (same_start(&g->id, now, pre, size, r->fd, &same, err) < 0)
                return -1;
            if (!same)
                continue;
            *o =
                (struct original){.offset = copy_start(g->offset, size),
                                  .acked = copy_entry_at(r->fd, g->acked, size),
                                  .key = g->key,
                                  .shared = true};
            if (gi == in)
                o->parked = in_file_parked(in, &g->id, g->key, o->offset);
            ghost_drop(gi, g);
            gi->ghosts[i] = gi->ghosts[--gi->nghosts]; /* one copy a ghost */
            return 1;
        }
    }
    if (now->fp_len == 0)
        return 0; /* an empty file begins as every file */
    /* unchanged since a second before the start (st_ctim: the clock the
     * kernel stamps with may lag a tick; a copy written then is held, as
     * before) */
    bool old_bytes = ctime_ns + 1000000000 < in->started_ns;
    /* a live file, this input's or another's (held for it: a copy only
     * this input matches, found before the other saw the truncation) */
    for (size_t p = 0; p <= in->npeers; p++) {
        struct in_file *li = p == 0 ? in : in->peers[p - 1];
        struct rec *l;
        if (find_live(in, li, r, now, pre, size, old_bytes, &l, err) < 0)
            return -1;
        if (l == NULL)
            continue;
        /* held: where it is read from is decided when it is let go */
        *o = (struct original){
            .offset = l->offset,
            .acked = copy_entry_at(r->fd, acked_offset(in, l), size),
            .key = l->pub.key,
            .live = l,
            .shared = true};
        return 1;
    }
    return 0;
}

/* The input whose record o is: in or one of its peers (a copy is held for
 * another input's file: find_original). */
static struct in_file *input_of(struct in_file *in, const struct rec *o)
{
    for (size_t p = 0; p < in->npeers; p++)
        if (in_file_rec_find(in->peers[p], o->dev, o->ino) == o)
            return in->peers[p];
    return in;
}

/* The size of the held copy c now; UINT64_MAX when it is not at its path
 * any more (the scans see where it went; its offset stays as it was). */
static uint64_t copy_size(const struct rec *c)
{
    struct stat st;
    if (stat(c->path, &st) == 0 && (uint64_t)st.st_dev == c->dev &&
        (uint64_t)st.st_ino == c->ino)
        return (uint64_t)st.st_size;
    return UINT64_MAX;
}

/* The copies held for orig: orig's bytes end here (truncated, done), so
 * they are read from where orig was. */
/* Where orig's bytes were acknowledged: its entry, or (truncated: the
 * entry has a new key) its ghost's. */
static uint64_t orig_acked(const struct in_file *in, const struct rec *orig)
{
    const struct registry_entry *e =
        registry_get(in->reg, orig->dev, orig->ino);
    if (e != NULL && e->key == orig->pub.key)
        return e->offset;
    for (size_t i = 0; i < in->nghosts; i++)
        if (in->ghosts[i].key == orig->pub.key)
            return in->ghosts[i].acked;
    return 0;
}

static int own_file(struct in_file *in, struct rec *r, struct sl_err *err);

void in_file_copies_go(struct in_file *in, struct rec *orig, bool whole)
{
    for (size_t p = 0; p <= in->npeers; p++) {
        struct in_file *ci = p == 0 ? in : in->peers[p - 1];
        for (size_t i = 0; i < ci->nrecs; i++) {
            struct rec *c = ci->recs[i];
            if (c->copy_of != orig)
                continue;
            if (whole) {
                SL_INFO(c->path,
                        "began as '%s' does, but that file ended whole (%s, "
                        "its bytes all there): not a copy of it; reading it "
                        "as a file of its own from offset %llu",
                        orig->path, orig->deleted ? "deleted" : "renamed away",
                        (unsigned long long)c->own_start);
                struct sl_err err = {0};
                if (own_file(ci, c, &err) < 0)
                    SL_ERROR(c->path, "%s", err.msg);
                continue;
            }
            c->copy_of = NULL;
            in_file_count_rotation(ci, ROT_COPYTRUNCATE);
            uint64_t size = copy_size(c);
            c->offset = copy_start(
                orig->offset > c->offset ? orig->offset : c->offset, size);
            in_file_copy_acked(ci, c, orig_acked(in, orig),
                               size != UINT64_MAX ? size : c->held_size);
            if (ci == in)
                in_file_carry(in, orig, c);
            in_file_want_open(ci, c);
        }
    }
}

static void say_copy(struct in_file *in, const struct rec *r,
                     const struct file_identity *now, const struct original *o)
{
    SL_INFO(r->path,
            "a copy of a file read before (its first %u bytes are the "
            "same); reading it from offset %llu, where the original %s",
            now->fp_len, (unsigned long long)o->offset,
            o->live ? "is (held until the original is truncated or gone)"
                    : "was");
    if (o->live == NULL) /* a held copy counts once the original goes */
        in_file_count_rotation(in, ROT_COPYTRUNCATE);
}

/* A copy of a live file waits for its original's end, closed. */
static void hold_copy(struct in_file *in, struct rec *r, uint64_t size,
                      int64_t now)
{
    in_file_rec_close(in, r); /* held: no descriptor meanwhile */
    r->held_at = r->held_grew = now;
    r->held_size = size;
}

/* r's entry (identity id) made with o's key and acknowledged offset, and r
 * set to read from o's offset: 1, or 0 when the entry could not be made
 * (logged), -1 out of memory. */
static int adopt(struct in_file *in, struct rec *r,
                 const struct file_identity *id, const struct original *o,
                 int64_t now, struct sl_err *err)
{
    const char *home = r->home != NULL ? r->home : r->path;
    if (registry_add(in->reg, id, o->key, home, o->acked, in_file_wall_s(),
                     err) < 0) {
        if (err->status == SL_ENOMEM)
            return -1;
        /* a caller bug (another input's entry?), never outside input */
        SL_ERROR(r->path, "%s; the file waits for the next scan", err->msg);
        in_file_count_error(in);
        return 0;
    }
    r->key_gen = registry_keys_added(in->reg);
    r->offset = o->offset;
    r->pub.key = o->key;
    r->copy_of = o->live;
    if (o->shared)
        in_file_share_key(in, r, now);
    if (o->parked != NULL)
        in_file_carry(in, o->parked, r);
    return 1;
}

/* Where a file without a (valid) entry starts, and its key: 1, or 0 when
 * its entry could not be made (logged), -1 out of memory. decide_later:
 * a file that is no copy of what is known now is asked again at its first
 * read (in_file_recheck_empty_new), as an empty one is: at a restart, its
 * original may be a file this scan has not identified yet. */
static int start_new(struct in_file *in, struct rec *r,
                     const struct file_identity *now, const uint64_t *pre,
                     const struct stat *st, bool decide_later, int64_t at,
                     struct sl_err *err)
{
    uint64_t size = (uint64_t)st->st_size;
    struct original o = {0, 0, 0, NULL, false, NULL};
    int rc =
        find_original(in, r, now, pre, size, in_file_ctime_ns(st), &o, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        say_copy(in, r, now, &o);
    r->empty_new = rc == 0 && (size == 0 || decide_later);
    /* start_at "end" is for files the shipper never followed: not one
     * whose entry no longer matches (truncated while stopped), nor one at
     * a path an entry names (the file there was rotated while stopped) */
    r->own_start = r->first_scan && in->cfg.start_at == IN_FILE_START_END &&
                           !r->has_entry && !r->at_known
                       ? size
                       : 0;
    if (rc == 0) {
        o.key = in_file_new_key();
        o.offset = o.acked = r->own_start;
    }
    return adopt(in, r, now, &o, at, err);
}

/* Whether r (identity now, size bytes), a file without an entry of its
 * own, begins with the bytes of the registry entry of a live file of this
 * input not identified yet, which waits for a descriptor (a restart under
 * max_open_files 1: cp app.log app.log.1, then a kill before the
 * truncation, app.log.1 opened first): r is then decided once that file
 * is, as its copy (held, under its key), not read from 0 under a new key,
 * each of its lines sent again with another id. Once per file: two files
 * each the other's copy do not wait for each other for ever. */
static int wait_for_original(struct in_file *in, struct rec *r,
                             const struct file_identity *now,
                             const uint64_t *pre, uint64_t size, bool *wait,
                             struct sl_err *err)
{
    *wait = false;
    if (r->deferred || now->fp_len == 0 || in->wait_known == 0)
        return 0;
    for (const struct rec *l = in->wait.head; l != NULL && !*wait;
         l = l->rnext) {
        /* renamed before its first open, it waits under its new name */
        if (l == r || !l->wait_known || l->identified || l->state == REC_DONE)
            continue;
        const struct registry_entry *e = registry_get(in->reg, l->dev, l->ino);
        if (e != NULL && e->id.fp_len > 0 &&
            same_start(&e->id, now, pre, size, r->fd, wait, err) < 0)
            return -1;
    }
    r->deferred = *wait;
    return 0;
}

int in_file_identify(struct in_file *in, struct rec *r, int64_t now,
                     struct sl_err *err)
{
    struct file_identity id;
    struct stat st;
    struct sl_err e2;
    uint64_t *pre = in_file_fps_prefix(in); /* NULL: each compare reads */
    if (fstat(r->fd, &st) < 0 ||
        file_identity_compute_prefix(r->fd, in->fp_bytes, &id, pre, &e2) < 0) {
        SL_ERROR(r->path,
                 "cannot read the first bytes: %s; tried again at "
                 "the next scan",
                 fstat(r->fd, &st) < 0 ? sl_strerror(errno) : e2.msg);
        in_file_count_error(in);
        in_file_rec_close(in, r);
        return 0;
    }
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    bool resumed = false, was_empty = false, replaced = false;
    if (e != NULL && e->id.fp_len == 0) {
        /* an entry of an empty file: nothing was shipped under its key
         * (bytes wait for the fingerprint on disk: in_file.c), and its
         * inode may hold any file now, a copy among them: decided anew,
         * once this scan has seen the others (a copytruncate's original
         * may come later in it) */
        registry_forget(in->reg, r->dev, r->ino);
        e = NULL;
        was_empty = true;
    }
    if (e != NULL) {
        enum file_id_match m;
        if (file_identity_compare(&e->id, &id, r->fd, &m, err) < 0)
            return -1;
        uint64_t size = (uint64_t)st.st_size;
        if (file_identity_resume(m, e->offset, size) == e->offset &&
            m == FILE_ID_SAME) {
            r->offset = e->offset;
            r->pub.key = e->key;
            file_identity_keep_tail(&id, &e->id); /* checked again later */
            resumed = true;
            /* a file renamed away keeps its matched path in the registry:
             * a restart looks for it by inode from there (collect_startup
             * takes only entries at paths this input matches) */
            if (registry_touch(in->reg, r->dev, r->ino,
                               r->state == REC_LIVE ? r->path : NULL,
                               in_file_wall_s(), err) < 0)
                return -1;
        } else {
            if (m == FILE_ID_REWRITTEN)
                SL_INFO(r->path,
                        "not the file the registry knew at this inode: its "
                        "first bytes are the same, but not the %u before "
                        "offset %llu (replaced while the shipper was "
                        "stopped?); reading it from the start",
                        e->id.tail_len, (unsigned long long)e->id.tail_at);
            else
                SL_WARN(r->path,
                        "not the file the registry knew at this inode (%s); "
                        "reading it from the start",
                        m == FILE_ID_SAME ? "it shrank"
                                          : "its first bytes differ");
            in_file_count_rotation(in, strcmp(e->path, r->path) == 0
                                           ? ROT_TRUNCATE
                                           : ROT_INODE_REUSE);
            in_file_ghost_add(in, &e->id, e->offset, e->offset, e->key, now);
            ghost_keep(in, &e->id, e->offset, e->key, e->path);
            registry_forget(in->reg, r->dev, r->ino);
            replaced = true;
        }
    }
    bool wait = false;
    if (!resumed && wait_for_original(in, r, &id, pre, (uint64_t)st.st_size,
                                      &wait, err) < 0)
        return -1;
    if (wait) {
        SL_DEBUG(r->path, "begins as a file not identified yet: decided "
                          "after it");
        in_file_rec_close(in, r);
        in_file_want_open(in, r); /* behind it in the wait list */
        return 0;
    }
    if (!resumed) {
        /* a restart's file on an inode whose entry is another file's (cp
         * of a copytruncate onto the inode compress just freed) is asked
         * again at its first read too: its original may come later in
         * this scan, its ghost with it */
        int rc = start_new(in, r, &id, pre, &st,
                           was_empty || (replaced && r->first_scan), now, err);
        if (rc <= 0) {
            if (rc == 0)
                in_file_rec_close(in, r);
            return rc;
        }
    }
    r->id = id;
    r->identified = true;
    if (in_file_fps_update(in, r) < 0)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    r->size_seen = (uint64_t)st.st_size;
    in_file_bad_path_clear(in, r->path);
    if (r->copy_of != NULL) {
        hold_copy(in, r, (uint64_t)st.st_size, now);
        return 0;
    }
    return 1;
}

int in_file_recheck_empty_new(struct in_file *in, struct rec *r, int64_t now,
                              struct sl_err *err)
{
    struct stat st;
    struct file_identity id;
    struct sl_err e2;
    uint64_t *pre = in_file_fps_prefix(in); /* NULL: each compare reads */
    if (fstat(r->fd, &st) < 0 || st.st_size == 0 ||
        file_identity_compute_prefix(r->fd, in->fp_bytes, &id, pre, &e2) < 0)
        return 1; /* nothing to decide yet, or the read says what is wrong */
    r->empty_new = false;
    struct original o;
    int rc = find_original(in, r, &id, pre, (uint64_t)st.st_size,
                           in_file_ctime_ns(&st), &o, err);
    if (rc <= 0)
        return rc < 0 ? -1 : 1; /* a file of its own, as it was started */
    say_copy(in, r, &id, &o);
    registry_forget(in->reg, r->dev, r->ino);
    rc = adopt(in, r, &id, &o, now, err);
    if (rc <= 0) {
        r->identified = false; /* the next open decides again */
        in_file_fps_remove(in, r);
        in_file_rec_close(in, r);
        return rc;
    }
    r->id = id;
    if (in_file_fps_update(in, r) < 0)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    if (r->copy_of != NULL) {
        hold_copy(in, r, (uint64_t)st.st_size, now);
        return 0;
    }
    return 1;
}

/* r was held as a copy of a live file that was neither truncated nor done
 * in time, or that ended whole: two files that begin alike. r is read as a
 * file of its own, from its start, under a new key; its entry (the
 * original's key and offset) is replaced. 0, or -1 out of memory. */
static int own_file(struct in_file *in, struct rec *r, struct sl_err *err)
{
    r->copy_of = NULL;
    in_file_unshare_key(in, r);
    registry_forget(in->reg, r->dev, r->ino);
    uint64_t key = in_file_new_key();
    if (registry_add(in->reg, &r->id, key, r->path, r->own_start,
                     in_file_wall_s(), err) < 0) {
        if (err->status == SL_ENOMEM)
            return -1;
        SL_ERROR(r->path, "%s; the file waits for the next scan", err->msg);
        in_file_count_error(in);
        r->identified = false; /* the next open decides again */
        in_file_fps_remove(in, r);
        return 0;
    }
    r->offset = r->own_start;
    r->pub.key = key;
    in_file_want_open(in, r);
    return 0;
}

int in_file_not_a_copy(struct in_file *in, struct rec *r, int64_t now,
                       struct sl_err *err)
{
    SL_INFO(r->path,
            "began as '%s' does, but that file was not truncated in %lld "
            "ms: not a copy of it (copytruncate); reading it as a file of "
            "its own from offset %llu",
            r->copy_of->path, (long long)(now - r->held_at),
            (unsigned long long)r->own_start);
    return own_file(in, r, err);
}

/* r's inode holds other bytes now (m: FILE_ID_CHANGED or _REWRITTEN, or
 * FILE_ID_SAME for a file that shrank): r is over, and the new content is
 * a new file on the same descriptor, read from 0. */
static int replace(struct in_file *in, struct rec *r, const struct stat *st,
                   enum file_id_match m, int64_t now, struct sl_err *err)
{
    char why[96];
    if (m == FILE_ID_SAME)
        snprintf(why, sizeof why, "file shrank from %llu to %llu bytes",
                 (unsigned long long)r->offset,
                 (unsigned long long)st->st_size);
    else if (m == FILE_ID_REWRITTEN)
        snprintf(why, sizeof why, "the file's bytes before offset %llu changed",
                 (unsigned long long)r->id.tail_at);
    else
        snprintf(why, sizeof why, "the file's first bytes changed");
    SL_WARN(r->path,
            "%s (copytruncate?); reading it from offset 0; lines written "
            "after offset %llu before the truncation are read from the copy "
            "if its name matches `paths`, else they are lost",
            why, (unsigned long long)r->offset);
    in_file_count_rotation(in, ROT_TRUNCATE);
    in_file_ghost_add(in, &r->id, r->offset, acked_offset(in, r), r->pub.key,
                      now);
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    if (e != NULL && e->key == r->pub.key) {
        ghost_keep(in, &r->id, e->offset, r->pub.key, e->path);
        registry_forget(in->reg, r->dev, r->ino);
    }
    int fd = r->fd;
    r->fd = -1; /* the descriptor goes to the new record, still counted */
    enum rec_state state = r->state;
    int64_t rotated_at = r->rotated_at;
    bool deleted = r->deleted;
    r->truncated = true;
    in_file_rec_done(in, r);
    in_file_park(in, r, now); /* its DONE waits for its copy */
    struct rec *n = in_file_rec_add(in, r->path, st, err);
    if (n == NULL) {
        close(fd);
        in->open--;
        return -1;
    }
    n->fd = fd;
    n->seen = true;
    n->last_data = now;
    n->state = state;
    n->rotated_at = rotated_at;
    n->deleted = deleted;
    int rc = in_file_identify(in, n, now, err);
    if (rc == 1)
        in_file_make_ready(in, n);
    return rc < 0 ? -1 : 0;
}

int in_file_check_open(struct in_file *in, struct rec *r, int64_t now,
                       bool deep, struct sl_err *err)
{
    struct stat st;
    if (fstat(r->fd, &st) < 0) {
        in_file_rec_close(in, r);
        return 0;
    }
    r->size_seen = (uint64_t)st.st_size;
    if ((uint64_t)st.st_size < r->offset)
        return replace(in, r, &st, FILE_ID_SAME, now, err);
    /* written since the last read, and no byte longer: written over in
     * place (cp onto an old copy of the same size), or touched */
    int64_t mtime = in_file_mtime_ns(&st);
    deep |= (uint64_t)st.st_size == r->offset && r->offset > 0 &&
            mtime != r->mtime_read;
    if (!deep)
        return 1;
    struct file_identity id;
    struct sl_err e2;
    if (file_identity_compute(r->fd, in->fp_bytes, &id, &e2) < 0)
        return 1; /* the next read says what is wrong */
    enum file_id_match m;
    if (file_identity_compare(&r->id, &id, r->fd, &m, &e2) < 0)
        return 1;
    if (m != FILE_ID_SAME)
        return replace(in, r, &st, m, now, err);
    r->mtime_read = mtime;
    if (id.fp_len > r->id.fp_len) {
        file_identity_keep_tail(&id, &r->id);
        r->id = id;
        if (in_file_fps_update(in, r) < 0)
            return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    }
    return 1;
}

/* The directory of path into dir: 0, or -1 when it does not fit. */
static int dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dl = slash == NULL ? snprintf(dir, cap, ".")
             : slash == path
                 ? snprintf(dir, cap, "/")
                 : snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    return dl < 0 || (size_t)dl >= cap ? -1 : 0;
}

/* Looks in dir for the file dev + ino; its path into out. */
static bool find_in(const char *dir, uint64_t dev, uint64_t ino, char *out,
                    size_t cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if ((uint64_t)de->d_ino != ino)
            continue;
        int n = snprintf(out, cap, "%s%s%s", strcmp(dir, "/") ? dir : "", "/",
                         de->d_name);
        struct stat st;
        found = n > 0 && (size_t)n < cap && stat(out, &st) == 0 &&
                S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev &&
                (uint64_t)st.st_ino == ino;
    }
    closedir(d);
    return found;
}

/* Looks in dir, then in each directory in it (logrotate's `olddir`, a
 * name such as old/ or archive/ next to the log: not entered through a
 * link). */
static bool find_below(const char *dir, uint64_t dev, uint64_t ino, char *out,
                       size_t cap)
{
    if (find_in(dir, dev, ino, out, cap))
        return true;
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    char sub[4096];
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        struct stat st;
        int n = snprintf(sub, sizeof sub, "%s/%s", strcmp(dir, "/") ? dir : "",
                         de->d_name);
        found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                n > 0 && (size_t)n < sizeof sub && lstat(sub, &st) == 0 &&
                S_ISDIR(st.st_mode) && find_in(sub, dev, ino, out, cap);
    }
    closedir(d);
    return found;
}

/* Where the file dev + ino, once at path, is now: in path's directory or
 * one in it, and when path is a symbolic link, in those of the file the
 * link names (its target was rotated where it lives). */
static bool find_rotated(const char *path, uint64_t dev, uint64_t ino,
                         char *out, size_t cap)
{
    char dir[4096], target[4096], tdir[4096];
    if (dir_of(path, dir, sizeof dir) < 0)
        return false;
    if (find_below(dir, dev, ino, out, cap))
        return true;
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return false; /* not a link */
    target[n] = '\0';
    int tl = target[0] == '/'
                 ? snprintf(tdir, sizeof tdir, "%s", target)
                 : snprintf(tdir, sizeof tdir, "%s/%s", dir, target);
    if (tl < 0 || (size_t)tl >= sizeof tdir ||
        dir_of(tdir, target, sizeof target) < 0 || strcmp(target, dir) == 0)
        return false;
    return find_below(target, dev, ino, out, cap);
}

/* Whether the file at path is the one id describes (its inode may have
 * gone to another file in the same directory). */
static bool same_file_at(struct in_file *in, const char *path,
                         const struct file_identity *id)
{
    int fd = in_file_probe_open(in, path, NULL);
    if (fd < 0)
        return false;
    struct file_identity now;
    struct sl_err err;
    enum file_id_match m = FILE_ID_OTHER;
    bool same = file_identity_compute(fd, in->fp_bytes, &now, &err) == 0 &&
                file_identity_compare(id, &now, fd, &m, &err) == 0 &&
                m == FILE_ID_SAME;
    in_file_probe_close(in, fd);
    return same;
}

/* r was open and is at no matched path: renamed away or deleted. */
static void rotated_away(struct in_file *in, struct rec *r, int64_t now)
{
    struct stat st;
    r->deleted = fstat(r->fd, &st) == 0 && st.st_nlink == 0;
    r->state = REC_ROTATED;
    r->rotated_at = now;
    if (r->pred != NULL) {
        /* it keeps its descriptor (deleted, it is all that reaches the
         * bytes), so it is read now, before the file it waited for: that
         * one may be waiting for the very descriptor this one holds (under
         * max_open_files 2 nothing was read again) */
        in_file_unlist(in, r);
        r->pred->succ = NULL;
        r->pred = NULL;
    }
    in_file_count_rotation(in, r->deleted ? ROT_DELETE : ROT_RENAME);
    SL_INFO(r->path, "%s; reading it to its end (offset %llu now)",
            r->deleted ? "deleted" : "renamed away",
            (unsigned long long)r->offset);
    r->at_eof = false;
    in_file_make_ready(in, r);
}

/* r is closed and no longer at its path: found by its inode in its
 * directory (the same file, if it was ever opened), it takes the name it
 * has now. A file never opened (it waited for its predecessor, or for a
 * descriptor, while the output held reading) has had nothing read: its
 * inode is all there is to know it by, and it keeps its matched name as
 * `home` for its registry entry, so a restart looks for it from there. */
static bool renamed_while_closed(struct in_file *in, struct rec *r)
{
    char found[4096];
    struct sl_err err;
    struct stat st;
    if (!find_rotated(r->path, r->dev, r->ino, found, sizeof found) ||
        in_file_excluded(in, found))
        return false;
    if (r->identified)
        return same_file_at(in, found, &r->id) &&
               in_file_rec_set_path(r, found, &err) == 0;
    /* never read: a file that took its inode after it was deleted is as
     * likely; a renamed log is no shorter than it was seen */
    if (stat(found, &st) < 0 || (uint64_t)st.st_size < r->size_seen)
        return false;
    char *home = r->path;
    r->path = NULL;
    if (in_file_rec_set_path(r, found, &err) < 0) {
        r->path = home;
        return false;
    }
    free(r->home);
    r->home = home;
    return true;
}

/* r, closed, is gone from disk: copytruncated and deleted while it waited
 * for a descriptor (or idle), its bytes may live on in the copy, found
 * after this (cp, then truncate and rm: the scan saw only the end). Its
 * entry's bytes become a ghost, as a truncated file's do, so the copy is
 * read from its offset under its key, not whole again under a new one;
 * the ghost is kept on disk (a restart after a kill makes it again) and
 * the file's own entry goes, so the registry holds the files on disk and
 * the ghosts of the last IN_FILE_GHOST_MS only. */
static void lost_ghost(struct in_file *in, const struct rec *r, int64_t now)
{
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    if (e == NULL || (r->identified && e->key != r->pub.key))
        return;
    uint64_t read =
        r->identified && r->offset > e->offset ? r->offset : e->offset;
    in_file_ghost_add(in, &e->id, read, e->offset, e->key, now);
    ghost_keep(in, &e->id, e->offset, e->key, e->path);
    registry_forget(in->reg, r->dev, r->ino);
}

void in_file_lost(struct in_file *in, struct rec *r, int64_t now)
{
    if (r->fd >= 0) {
        rotated_away(in, r, now);
        return;
    }
    if (renamed_while_closed(in, r)) {
        /* renamed while closed: read to its end when a descriptor is free */
        r->state = REC_ROTATED;
        r->rotated_at = now;
        in_file_count_rotation(in, ROT_RENAME);
        SL_INFO(r->path,
                "renamed away while closed; reading it to its end "
                "(offset %llu now)",
                (unsigned long long)r->offset);
        in_file_want_open(in, r);
        return;
    }
    if (r->size_seen > r->offset)
        SL_WARN(r->path,
                "gone while closed, %llu bytes after offset %llu not "
                "read; raise close_inactive or max_open_files",
                (unsigned long long)(r->size_seen - r->offset),
                (unsigned long long)r->offset);
    lost_ghost(in, r, now);
    in_file_rec_done(in, r);
}

/* The live file at path that is not r: it waits for r's end. */
static void wait_for(struct in_file *in, struct rec *r, const char *path)
{
    for (size_t j = 0; j < in->nrecs; j++) {
        struct rec *n = in->recs[j];
        if (n == r || n->state != REC_LIVE || n->pred != NULL || n->has_entry ||
            strcmp(n->path, path) != 0)
            continue;
        in_file_unlist(in, n);
        in_file_link_succ(in, r, n);
        return;
    }
}

/* A ghost kept on disk for a copy not found before a stop is a ghost
 * again, for what is left of its time (its entry's `seen` is when it was
 * kept). Its entry stays until the ghost is used or expires, as it was
 * before the stop: the copy this first scan found is identified only when
 * opened, and a save before that (max_open_files, the output holding
 * reading) followed by a kill would leave the next start neither the
 * ghost nor the copy's entry: the copy read from 0 under a new key, each
 * of its lines sent again with another id. */
static void ghost_resume(struct in_file *in, const struct registry_entry *e,
                         int64_t now)
{
    int64_t age_ms = (in_file_wall_s() - e->seen) * 1000;
    if (age_ms < 0)
        age_ms = 0; /* the wall clock went back */
    if (age_ms >= IN_FILE_GHOST_MS) {
        registry_forget(in->reg, e->id.dev, e->id.ino);
        return;
    }
    in_file_ghost_add(in, &e->id, e->offset, e->offset, e->key, now - age_ms);
}

/* After the first scan: each registry entry of this input not found at its
 * path may have been rotated while the shipper was stopped. Found at
 * another matched path, or by its inode in its directory, it is read from
 * its offset, and the new file at its old path waits for its end. */
void in_file_startup_resolve(struct in_file *in, int64_t now)
{
    char found[4096];
    struct sl_err err;
    for (size_t i = 0; i < in->nstartup; i++) {
        struct startup *s = &in->startup[i];
        const struct registry_entry *e = registry_get(in->reg, s->dev, s->ino);
        if (e == NULL)
            continue;
        /* the entry's path as loaded (an entry the first scan's files
         * touched since is at the path its file was found at) */
        const char *was = e->path;
        if ((s->ino & GHOST_INO_BIT) != 0) {
            ghost_resume(in, e, now);
            continue;
        }
        struct rec *r = in_file_rec_find(in, s->dev, s->ino);
        if (r != NULL) {
            if (strcmp(r->path, was) != 0 && r->succ == NULL)
                wait_for(in, r, was); /* renamed to a matched name */
            continue;
        }
        struct stat st;
        if (!find_rotated(was, s->dev, s->ino, found, sizeof found) ||
            in_file_excluded(in, found) || !same_file_at(in, found, &e->id) ||
            stat(found, &st) < 0) {
            in_file_ghost_add(in, &e->id, e->offset, e->offset, e->key, now);
            continue;
        }
        r = in_file_rec_add(in, found, &st, &err);
        if (r == NULL) {
            SL_ERROR(in->comp, "%s", err.msg);
            continue;
        }
        r->state = REC_ROTATED;
        r->rotated_at = now;
        r->seen = true;
        in_file_count_rotation(in, ROT_RENAME);
        SL_INFO(found,
                "rotated from '%s' while the shipper was stopped; "
                "reading it to its end first",
                was);
        wait_for(in, r, was);
        in_file_want_open(in, r);
    }
}

/* r, not opened yet, has a registry entry: its ghost now if r no longer
 * holds the entry's bytes up to its offset (its identify adds no second).
 * An entry at offset 0 too: bytes sent under its key and not acknowledged
 * before a kill are in its copy, which must take that key (the file
 * renamed between this scan and its open, the copy was decided first and
 * read under a new key: each line sent again with another id). */
static void ghost_if_changed(struct in_file *in, const struct rec *r,
                             int64_t now)
{
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    int fd = e == NULL ? -1 : in_file_probe_open(in, r->path, r);
    if (fd < 0)
        return;
    struct stat st;
    struct file_identity id;
    struct sl_err err;
    enum file_id_match m = FILE_ID_OTHER;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == r->ino &&
        (uint64_t)st.st_dev == r->dev &&
        file_identity_compute(fd, in->fp_bytes, &id, &err) == 0 &&
        file_identity_compare(&e->id, &id, fd, &m, &err) == 0 &&
        (m != FILE_ID_SAME || (uint64_t)st.st_size < e->offset))
        in_file_ghost_add(in, &e->id, e->offset, e->offset, e->key, now);
    in_file_probe_close(in, fd);
}

/* Whether r's registry entry names r's path: the file known there. */
static bool known_here(const struct in_file *in, const struct rec *r)
{
    const struct registry_entry *e =
        r->has_entry ? registry_get(in->reg, r->dev, r->ino) : NULL;
    return e != NULL && strcmp(e->path, r->path) == 0;
}

static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? (size_t)(slash - path) : 0;
}

#define SETTLE_DIRS 8

static bool in_dirs(const char *const *dirs, const size_t *lens, size_t nd,
                    const char *path)
{
    size_t l = dir_len(path);
    for (size_t k = 0; k < nd; k++)
        if (lens[k] == l && memcmp(dirs[k], path, l) == 0)
            return true;
    return false;
}

int in_file_settle_known(struct in_file *in, struct rec **fresh, size_t n,
                         int64_t now, struct sl_err *err)
{
    const char *dirs[SETTLE_DIRS];
    size_t lens[SETTLE_DIRS], nd = 0;
    bool all = false; /* new files in more directories: settle every one */
    for (size_t i = 0; i < n && !all; i++) {
        const struct rec *c = fresh[i];
        if (c->identified || known_here(in, c) ||
            in_dirs(dirs, lens, nd, c->path))
            continue;
        all = nd == SETTLE_DIRS;
        if (!all) {
            dirs[nd] = c->path;
            lens[nd++] = dir_len(c->path);
        }
    }
    /* first, the ghosts of every file the registry knows by its inode
     * there that no longer holds its entry's bytes (truncated, renamed
     * while stopped, or a new file on the inode: cp over an old copy),
     * then the files at their entries' paths decided, copies included */
    for (size_t i = 0; i < n && (nd > 0 || all); i++) {
        struct rec *k = fresh[i];
        if (!k->identified && k->has_entry &&
            (all || in_dirs(dirs, lens, nd, k->path)))
            ghost_if_changed(in, k, now);
    }
    for (size_t i = 0; i < n && (nd > 0 || all); i++) {
        struct rec *k = fresh[i];
        if (!k->identified && known_here(in, k) &&
            (all || in_dirs(dirs, lens, nd, k->path)) &&
            in_file_settle(in, k, now, err) < 0)
            return -1;
    }
    return 0;
}

/* Whether the original of a held copy was truncated or rewritten without
 * the input seeing it yet (no inotify, a closed file, a scan far off): it
 * is looked at now, open, or opened to be, and its copies go with it. */
static bool original_changed(struct in_file *in, struct rec *o, int64_t now)
{
    if (o->fd >= 0) {
        struct sl_err err = {0};
        if (in_file_check_open(in, o, now, true, &err) < 0)
            SL_ERROR(o->path, "%s", err.msg);
        return false; /* replaced (copies released) or unchanged */
    }
    struct stat st;
    if (stat(o->path, &st) < 0 || (uint64_t)st.st_dev != o->dev ||
        (uint64_t)st.st_ino != o->ino) {
        /* gone from its path (truncated, then renamed or deleted, before
         * the input looked): a scan finds where it went, or that it is
         * gone, and lets its copies go; taken for no copy, the copy was
         * read from 0 under a new key, each line twice with other ids */
        in->scan_due = true;
        return true;
    }
    if ((uint64_t)st.st_size >= o->offset && same_file_at(in, o->path, &o->id))
        return false;
    in_file_want_open(in, o); /* its open sees the change, replaces it */
    return true;
}

/* Whether held file r is longer than its original now while that was
 * not truncated (it is the same file, as long as it was read): a copy is
 * no longer than its original was when copied, and an original only
 * grows until it is truncated, so r merely began as it (a header, a
 * banner: short files often do). */
static bool outgrew(struct in_file *in, const struct rec *r)
{
    const struct rec *o = r->copy_of;
    struct stat st;
    return stat(o->path, &st) == 0 && (uint64_t)st.st_dev == o->dev &&
           (uint64_t)st.st_ino == o->ino &&
           r->held_size > (uint64_t)st.st_size &&
           (uint64_t)st.st_size >= o->offset &&
           same_file_at(in, o->path, &o->id);
}

/* A held copy: still being written (by cp), or over its time. */
static void check_held(struct in_file *in, struct rec *r, int64_t now)
{
    struct stat st;
    if (stat(r->path, &st) == 0 && (uint64_t)st.st_size != r->held_size) {
        r->held_size = (uint64_t)st.st_size;
        r->held_grew = now;
    }
    bool over = now - r->held_at >= IN_FILE_COPY_HOLD_MAX_MS || outgrew(in, r);
    if (now - r->held_grew < in->cfg.rotate_wait_ms && !over)
        return;
    if (!over && (original_changed(input_of(in, r->copy_of), r->copy_of, now) ||
                  r->copy_of == NULL))
        return; /* a copy after all: released, or held until the original's
                   open sees its change */
    struct sl_err err = {0};
    if (in_file_not_a_copy(in, r, now, &err) < 0)
        SL_ERROR(r->path, "%s", err.msg);
}

/* Polling: whether an open file may have bytes to read, by one fstat: a
 * file at its end that kept its size is not read (a pread of the KiB
 * before the offset, a fstat, for each of them every poll_interval). A
 * file truncated to where it was read and written again shows at the
 * scan (its mtime), as with inotify. */
static bool poll_changed(const struct rec *r)
{
    struct stat st;
    if (!r->at_eof || fstat(r->fd, &st) < 0)
        return true; /* not at its end, or its read says what is wrong */
    return (uint64_t)st.st_size != r->offset;
}

/* A rotated file: released once drained (rotate_wait after its last
 * bytes), or deleted past delete_timeout; until then looked at again. */
/* A rotated file shorter than where it was read was truncated before it
 * left its path (copytruncate, then deleted or renamed away): its bytes
 * live on in a copy that may be found only after its end (waiting for a
 * descriptor under max_open_files), which its ghost tells where to start,
 * as for a truncation seen in place. Without it such a copy was read from
 * 0 under a new key: every line twice, with other ids. */
static void ghost_if_truncated(struct in_file *in, struct rec *r, int64_t now)
{
    struct stat st;
    if (r->fd >= 0 && fstat(r->fd, &st) == 0 &&
        (uint64_t)st.st_size < r->offset) {
        r->truncated = true;
        in_file_ghost_add(in, &r->id, r->offset, acked_offset(in, r),
                          r->pub.key, now);
    }
}

/* rotate_wait runs from the file's last byte or from its rotation,
 * whichever is later: a writer idle for longer than rotate_wait before
 * logrotate renamed (or deleted) its file writes its last lines there
 * after the rotation, before it reopens its log (postrotate's signal);
 * counted from the last byte alone, the file was done at the first tick
 * after the rotation was seen, and a line written 200 ms later (under
 * rotate_wait 300 ms) was lost. */
static int64_t rotated_idle_since(const struct rec *r)
{
    return r->last_data > r->rotated_at ? r->last_data : r->rotated_at;
}

static void rotated_timer(struct in_file *in, struct rec *r, int64_t now)
{
    if (r->fd < 0 && !r->waiting && r->pred == NULL) {
        in_file_rec_done(in, r);
    } else if (r->fd >= 0 && r->at_eof && !r->ready &&
               now - rotated_idle_since(r) >= in->cfg.rotate_wait_ms) {
        ghost_if_truncated(in, r, now);
        in_file_rec_done(in, r);
    } else if (r->fd >= 0 && r->deleted &&
               now - r->rotated_at >= in->cfg.delete_timeout_ms) {
        struct stat st;
        if (fstat(r->fd, &st) == 0)
            r->size_seen = (uint64_t)st.st_size;
        SL_WARN(r->path,
                "deleted and not read to its end after "
                "delete_timeout; releasing it at offset %llu of "
                "%llu: the rest is lost (the output had no room)",
                (unsigned long long)r->offset,
                (unsigned long long)r->size_seen);
        in_file_rec_done(in, r);
    } else if (r->fd >= 0 && r->at_eof && !r->ready) {
        in_file_look_again(in, r); /* for a writer's last bytes */
    }
}

static void ghost_timers(struct in_file *in, int64_t now, int64_t *next)
{
    for (size_t i = 0; i < in->nghosts;)
        if (in->ghosts[i].until <= now) {
            ghost_drop(in, &in->ghosts[i]);
            in->ghosts[i] = in->ghosts[--in->nghosts];
        } else {
            if (in->ghosts[i].until < *next)
                *next = in->ghosts[i].until;
            i++;
        }
    if (in->nghosts == 0 && in->cap_ghosts > IN_FILE_GHOSTS_MAX) {
        free(in->ghosts); /* a burst's room, given back once it is over */
        in->ghosts = NULL;
        in->cap_ghosts = 0;
    }
}

int64_t in_file_tick_ms(const struct in_file_config *cfg)
{
    int64_t tick = 1000;
    long long t[] = {cfg->close_inactive_ms / 4, cfg->rotate_wait_ms / 4,
                     cfg->poll_interval_ms};
    for (size_t k = 0; k < 3; k++)
        if (t[k] < tick)
            tick = t[k];
    return tick < 5 ? 5 : tick;
}

/* The next run is the earliest deadline of what the walk saw: a rotated
 * file or a held copy is looked at every tick while it lasts, an idle
 * file at its close_inactive, a shared key and a ghost at their end, open
 * files at the next poll; at rest with nothing due, never (the scans and
 * reads call in_file_timers_soon when they change something). */
void in_file_timers(struct in_file *in, int64_t now)
{
    bool polling = in->ifd < 0 || in->watch_full;
    bool poll = polling && now >= in->next_poll;
    int64_t tick = now + in->tick_ms, next = INT64_MAX;
    if (poll)
        in->next_poll = now + in->cfg.poll_interval_ms;
    for (size_t i = in->nrecs; i-- > 0;) {
        struct rec *r = in->recs[i];
        if (r->state == REC_ROTATED) {
            rotated_timer(in, r, now);
            if (r->state == REC_ROTATED)
                next = tick < next ? tick : next;
            continue;
        }
        if (r->shares_key && r->copy_of == NULL && now >= r->share_end)
            in_file_unshare_key(in, r);
        if (r->shares_key && r->copy_of == NULL && r->share_end < next)
            next = r->share_end;
        if (r->copy_of != NULL) {
            check_held(in, r, now);
            next = tick < next ? tick : next;
            continue;
        }
        if (r->fd < 0 || r->ready)
            continue;
        if (r->at_eof && now - r->last_data >= in->cfg.close_inactive_ms)
            in_file_rec_close(in, r);
        else if (poll && poll_changed(r))
            in_file_make_ready(in, r);
        if (r->fd >= 0 && r->at_eof &&
            r->last_data + in->cfg.close_inactive_ms < next)
            next = r->last_data + in->cfg.close_inactive_ms;
    }
    ghost_timers(in, now, &next);
    in_file_parked_timers(in, now, &next);
    if (polling && in->open > 0 && in->next_poll < next)
        next = in->next_poll;
    in->next_tick = next < now + 5 ? now + 5 : next;
}

void in_file_timers_soon(struct in_file *in, int64_t now)
{
    if (in->next_tick > now + in->tick_ms)
        in->next_tick = now + in->tick_ms;
}
