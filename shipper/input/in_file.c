/* in_file.c: the file input's set of files and its reading (the contract is
 * in in_file.h; finding files is in_file_scan.c, what a change on disk
 * means is in_file_rotate.c).
 *
 * Each file is a record, keyed by device + inode in a chained hash, and on
 * at most one of four lists: ready (open, may have bytes: read round-robin,
 * a file that gave bytes goes to the tail), wait (closed, wants a
 * descriptor: opened in order as slots free up), idle (open, live, read to
 * its end: the one idle longest is closed when a file waits and no slot is
 * free, so files that arrive later never wait for close_inactive) and done
 * (to be announced).
 * Invariants: a record is in the hash unless it is REC_DONE; open counts
 * the records with fd >= 0 and never passes max_open_files; a record with
 * a pred is on no list until its pred reached its end, but the idle list
 * when it holds a descriptor (given up first when a file needs a slot).
 *
 * Reads use pread() at the record's offset, one read per call, into one
 * buffer of read_size bytes (and the up to 1 KiB before the offset, for
 * the identity's tail: file_identity.h): the chunk points into it until
 * the next call.
 * Not done here: framing (the caller's line_reader), acks (the caller,
 * after Redis), deciding what a shrunk or replaced file means (rotate). */
#include "in_file_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"

const char *const in_file_rot_names[] = {"rename", "copytruncate", "delete",
                                         "inode_reuse", "truncate"};

int in_file_metrics_register(struct in_file_metrics *fm, struct sl_metrics *m,
                             struct sl_err *err)
{
    static const char *const in[] = {"input", NULL};
    static const char *const kind[] = {"input", "kind", NULL};
    fm->open = sl_metrics_family(m, SL_METRIC_GAUGE, "sluice_input_files_open",
                                 "descriptors of files held open", in, err);
    fm->seen = fm->open
                   ? sl_metrics_family(m, SL_METRIC_COUNTER,
                                       "sluice_input_files_total",
                                       "files found by the file input", in, err)
                   : NULL;
    fm->bytes = fm->seen ? sl_metrics_family(m, SL_METRIC_COUNTER,
                                             "sluice_input_bytes_read_total",
                                             "bytes read from files", in, err)
                         : NULL;
    fm->rotations =
        fm->bytes ? sl_metrics_family(m, SL_METRIC_COUNTER,
                                      "sluice_input_rotations_total",
                                      "file rotations seen, by kind", kind, err)
                  : NULL;
    fm->errors = fm->rotations
                     ? sl_metrics_family(m, SL_METRIC_COUNTER,
                                         "sluice_input_file_errors_total",
                                         "paths or reads that failed", in, err)
                     : NULL;
    fm->scans = fm->errors
                    ? sl_metrics_family(
                          m, SL_METRIC_COUNTER, "sluice_shipper_scans_total",
                          "walks of the directories the file input's "
                          "paths name: every scan_interval, and when "
                          "inotify or the end of run --once asks",
                          in, err)
                    : NULL;
    return fm->scans != NULL ? 0 : -1;
}

static int metrics_children(struct in_file *in,
                            const struct in_file_metrics *fm,
                            struct sl_err *err)
{
    const char *v[] = {in->name, NULL};
    in->m_open = sl_family_gauge(fm->open, v, err);
    in->m_seen = sl_family_counter(fm->seen, v, err);
    in->m_bytes = sl_family_counter(fm->bytes, v, err);
    in->m_errors = sl_family_counter(fm->errors, v, err);
    in->m_scans = sl_family_counter(fm->scans, v, err);
    for (int k = 0; k < 5; k++) {
        const char *kv[] = {in->name, in_file_rot_names[k], NULL};
        in->m_rot[k] = sl_family_counter(fm->rotations, kv, err);
        if (in->m_rot[k] == NULL)
            return -1;
    }
    return in->m_open && in->m_seen && in->m_bytes && in->m_errors &&
                   in->m_scans
               ? 0
               : -1;
}

void in_file_count_rotation(struct in_file *in, enum rot_kind k)
{
    if (in->m_rot[k] != NULL)
        sl_counter_inc(in->m_rot[k]);
}

void in_file_count_error(struct in_file *in)
{
    if (in->m_errors != NULL)
        sl_counter_inc(in->m_errors);
}

/* How many files may be held open: max_open_files but one, the slot of a
 * look at a closed file (in_file_probe_open) while every other holds a
 * file with bytes left, so that the descriptors never pass the limit. */
static size_t hold_max(const struct in_file *in)
{
    size_t max = (size_t)in->cfg.max_open_files;
    return max > 1 ? max - 1 : max;
}

static void set_open(struct in_file *in, long d)
{
    in->open = (size_t)((long)in->open + d);
    if (in->m_open != NULL)
        sl_gauge_set(in->m_open, (double)in->open);
}

uint64_t in_file_new_key(void)
{
    uint64_t k = 0;
    if (getrandom(&k, sizeof k, 0) != (ssize_t)sizeof k) {
        /* no entropy source: time and pid still differ per file */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        static uint64_t n;
        k = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
            (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid() ^ ++n << 40;
    }
    return k;
}

int64_t in_file_wall_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- lists and the hash ------------------------------------------------- */

static void list_push(struct rlist *l, struct rec *r)
{
    r->rnext = NULL;
    r->rprev = l->tail;
    if (l->tail != NULL)
        l->tail->rnext = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
}

static void list_remove(struct rlist *l, struct rec *r)
{
    if (r->rprev != NULL)
        r->rprev->rnext = r->rnext;
    else
        l->head = r->rnext;
    if (r->rnext != NULL)
        r->rnext->rprev = r->rprev;
    else
        l->tail = r->rprev;
    r->rnext = r->rprev = NULL;
    l->n--;
}

/* The wait list, counting its files the registry knew and not identified
 * yet (wait_for_original in in_file_rotate.c looks among them only when
 * there are some: a first start with 20,000 new files walked every file
 * for each one, +15% CPU). */
static void wait_push(struct in_file *in, struct rec *r)
{
    list_push(&in->wait, r);
    r->wait_known = r->has_entry && !r->identified;
    in->wait_known += r->wait_known;
}

static void wait_remove(struct in_file *in, struct rec *r)
{
    list_remove(&in->wait, r);
    in->wait_known -= r->wait_known;
    r->wait_known = false;
}

/* Takes r off whichever list it is on. */
void in_file_unlist(struct in_file *in, struct rec *r)
{
    if (r->ready)
        list_remove(&in->ready, r);
    if (r->waiting)
        wait_remove(in, r);
    if (r->idle)
        list_remove(&in->idle, r);
    r->ready = r->waiting = r->idle = false;
}

static size_t hslot(const struct in_file *in, uint64_t dev, uint64_t ino)
{
    uint64_t z = ino ^ (dev * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
    return (size_t)(z ^ (z >> 29)) & (in->hcap - 1);
}

struct rec *in_file_rec_find(const struct in_file *in, uint64_t dev,
                             uint64_t ino)
{
    if (in->hcap == 0)
        return NULL;
    for (struct rec *r = in->hash[hslot(in, dev, ino)]; r != NULL; r = r->hino)
        if (r->dev == dev && r->ino == ino)
            return r;
    return NULL;
}

static void hash_remove(struct in_file *in, struct rec *r)
{
    struct rec **p = &in->hash[hslot(in, r->dev, r->ino)];
    while (*p != NULL && *p != r)
        p = &(*p)->hino;
    if (*p == r)
        *p = r->hino;
    r->hino = NULL;
}

static int grow(struct in_file *in, struct sl_err *err)
{
    if (in->nrecs == in->caprecs) {
        size_t ncap = in->caprecs ? in->caprecs * 2 : 64;
        struct rec **n = realloc(in->recs, ncap * sizeof *n);
        if (n == NULL)
            return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
        in->recs = n;
        in->caprecs = ncap;
    }
    if (in->nrecs + 1 <= in->hcap)
        return 0;
    size_t ncap = in->hcap ? in->hcap * 2 : 64;
    struct rec **h = calloc(ncap, sizeof *h);
    if (h == NULL)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    free(in->hash);
    in->hash = h;
    in->hcap = ncap;
    for (size_t i = 0; i < in->nrecs; i++) {
        struct rec *r = in->recs[i];
        size_t s = hslot(in, r->dev, r->ino);
        r->hino = in->hash[s];
        in->hash[s] = r;
    }
    return 0;
}

int in_file_rec_set_path(struct rec *r, const char *path, struct sl_err *err)
{
    if (r->path != NULL && strcmp(r->path, path) == 0)
        return 0;
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (p == NULL)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    memcpy(p, path, n + 1);
    free(r->path);
    r->path = p;
    r->pub.path = p;
    return 0;
}

/* The hash in known_paths of a path. */
static uint64_t path_hash(const char *path)
{
    return file_identity_hash(FILE_IDENTITY_FNV_BASIS, path, strlen(path));
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether a startup entry names path (the first scan's files only). */
static bool known_path(const struct in_file *in, const char *path)
{
    if (in->known_paths == NULL)
        return false;
    uint64_t h = path_hash(path);
    return bsearch(&h, in->known_paths, in->nstartup, sizeof h, cmp_u64) !=
           NULL;
}

/* A record for the file st at path, not yet opened (wants a descriptor). */
struct rec *in_file_rec_add(struct in_file *in, const char *path,
                            const struct stat *st, struct sl_err *err)
{
    struct rec *r = calloc(1, sizeof *r);
    if (r == NULL || grow(in, err) < 0 ||
        in_file_rec_set_path(r, path, err) < 0) {
        if (r == NULL)
            sl_err_set(err, SL_ENOMEM, "file input: out of memory");
        free(r);
        return NULL;
    }
    r->dev = (uint64_t)st->st_dev;
    r->ino = (uint64_t)st->st_ino;
    r->size_seen = (uint64_t)st->st_size;
    r->mtime_seen = in_file_mtime_ns(st);
    r->fd = -1;
    r->first_scan = !in->scanned_once;
    r->at_known = r->first_scan && known_path(in, path);
    r->has_entry = registry_get(in->reg, r->dev, r->ino) != NULL;
    r->slot = (uint32_t)in->nrecs;
    in->recs[in->nrecs++] = r;
    size_t s = hslot(in, r->dev, r->ino);
    r->hino = in->hash[s];
    in->hash[s] = r;
    if (in->m_seen != NULL)
        sl_counter_inc(in->m_seen);
    return r;
}

void in_file_rec_close(struct in_file *in, struct rec *r)
{
    if (r->fd < 0)
        return;
    close(r->fd);
    r->fd = -1;
    set_open(in, -1);
    if (r->ready) {
        list_remove(&in->ready, r);
        r->ready = false;
    }
    if (r->idle) {
        list_remove(&in->idle, r);
        r->idle = false;
    }
}

/* A look at a closed file's first bytes takes a descriptor too, so it
 * counts in open: at max_open_files, the file idle longest gives its slot
 * first (reopened as it grows). Files held keep one slot free for it
 * (hold_max), so only max_open_files 1 can go one over, for the time of a
 * read, while its file has bytes left. keep (the file being looked at
 * with it, or NULL) keeps its descriptor. */
int in_file_probe_open(struct in_file *in, const char *path,
                       const struct rec *keep)
{
    struct rec *give = in->idle.head;
    if (give == keep && give != NULL)
        give = give->rnext;
    if (in->open >= (size_t)in->cfg.max_open_files && give != NULL)
        in_file_rec_close(in, give);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0)
        set_open(in, +1);
    return fd;
}

void in_file_probe_close(struct in_file *in, int fd)
{
    close(fd);
    set_open(in, -1);
}

/* Lets the file that waited for r's end go. */
static void release_succ(struct in_file *in, struct rec *r)
{
    struct rec *s = r->succ;
    if (s == NULL)
        return;
    r->succ = NULL;
    s->pred = NULL;
    in_file_want_open(in, s); /* live, or renamed away while it waited */
}

void in_file_forget_gone(struct in_file *in, const struct rec *r)
{
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    if (e != NULL && e->key == r->pub.key)
        registry_forget(in->reg, r->dev, r->ino);
}

/* r is over: closed, out of the hash and the table, queued for DONE. */
void in_file_rec_done(struct in_file *in, struct rec *r)
{
    if (r->state == REC_DONE)
        return;
    if (r->state == REC_ROTATED && !r->deleted)
        in_file_note_drained(in, r);
    if (r->state == REC_ROTATED && r->deleted)
        in_file_forget_gone(in, r);
    /* every byte read still there (renamed or deleted, not truncated: a
     * truncation seen in place comes here without its descriptor) */
    struct stat st;
    bool whole = r->fd >= 0 && fstat(r->fd, &st) == 0 &&
                 (uint64_t)st.st_size >= r->offset;
    in_file_rec_close(in, r);
    in_file_unlist(in, r);
    release_succ(in, r);
    if (r->pred != NULL) {
        r->pred->succ = NULL;
        r->pred = NULL;
    }
    hash_remove(in, r);
    in_file_fps_remove(in, r);
    in_file_unshare_key(in, r);
    in_file_copies_go(in, r, whole); /* copies of r held until now */
    in->recs[r->slot] = in->recs[--in->nrecs];
    in->recs[r->slot]->slot = r->slot;
    r->state = REC_DONE;
    list_push(&in->done, r);
}

void in_file_done_hold(struct in_file *in, struct rec *r)
{
    list_remove(&in->done, r);
    list_push(&in->parked, r);
}

void in_file_done_release(struct in_file *in, struct rec *r)
{
    list_remove(&in->parked, r);
    list_push(&in->done, r);
}

/* Tells r's user whether its file has bytes not read yet (unread, or
 * the reader caught up at now): in_file_set_user_unread. */
static void tell_unread(struct in_file *in, struct rec *r, bool unread,
                        int64_t now)
{
    if (in->user_unread != NULL && r->pub.user != NULL)
        in->user_unread(r->pub.user, unread, now);
}

static bool push_ready(struct in_file *in, struct rec *r)
{
    if (r->fd < 0 || r->ready || r->pred != NULL || r->copy_of != NULL ||
        r->state == REC_DONE)
        return false;
    if (r->idle) {
        list_remove(&in->idle, r);
        r->idle = false;
    }
    list_push(&in->ready, r);
    r->ready = true;
    in->ready_blocked = false;
    return true;
}

/* Already on the ready list, it is said too: a rotated file at its end is
 * put back there at every tick with nothing said (in_file_look_again), and
 * growth found then (an inotify event, a scan) said nothing either: with
 * the output full, the open multi-line event timed out over bytes on disk
 * and not read (the rest of a traceback read half-written, at a page
 * boundary between two of its lines: shipped as two events). */
void in_file_make_ready(struct in_file *in, struct rec *r)
{
    if (push_ready(in, r) || r->ready)
        tell_unread(in, r, true, 0);
}

void in_file_look_again(struct in_file *in, struct rec *r)
{
    r->at_eof = false;
    push_ready(in, r); /* nothing known to be unread: nothing said */
}

/* A file whose open() was refused is not queued again (and opened, and
 * refused, at every scan: `run --once` never ended, spinning on it) until
 * its inode changes: chmod, chown, setfacl and a write all move st_ctim. */
static bool still_refused(struct rec *r)
{
    struct stat st;
    if (r->refused_at == 0)
        return false;
    if (stat(r->path, &st) == 0 && in_file_ctime_ns(&st) == r->refused_at)
        return true;
    r->refused_at = 0;
    return false;
}

void in_file_want_open(struct in_file *in, struct rec *r)
{
    if (r->fd >= 0) {
        in_file_make_ready(in, r);
        return;
    }
    if (r->waiting || r->pred != NULL || r->copy_of != NULL ||
        r->state == REC_DONE || still_refused(r))
        return;
    wait_push(in, r);
    r->waiting = true;
    tell_unread(in, r, true, 0);
}

void in_file_link_succ(struct in_file *in, struct rec *o, struct rec *n)
{
    o->succ = n;
    n->pred = o;
    o->at_eof = false;
    in_file_want_open(in, o);
}

/* Its entry and key now, not when it is read: a file that waits may be
 * renamed away to a name paths does not match, and if the shipper is
 * killed before it read it, only a registry entry (under its matched path,
 * found again by inode) tells the restart it exists. Its descriptor is
 * kept while it waits (on the idle list: given up first when a file needs
 * a slot), so that it is read even when it is deleted before its
 * predecessor's end (a restart draining a rotated file, the output
 * holding reading: its lines were lost); one that cannot be opened now is
 * identified when read. */
int in_file_enroll(struct in_file *in, struct rec *r, int64_t now,
                   struct sl_err *err)
{
    return r->pred == NULL ? 0 : in_file_settle(in, r, now, err);
}

int in_file_settle(struct in_file *in, struct rec *r, int64_t now,
                   struct sl_err *err)
{
    if (r->identified || r->fd >= 0 || in->open >= hold_max(in))
        return 0;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != r->dev ||
        (uint64_t)st.st_ino != r->ino) {
        close(fd); /* another file took the path: the scan will see */
        return 0;
    }
    r->fd = fd;
    set_open(in, +1);
    r->last_data = now;
    int rc = in_file_identify(in, r, now, err);
    if (rc != 1 || r->pred == NULL) {
        in_file_rec_close(in, r);
    } else if (!r->idle) { /* a successor keeps it: in_file_enroll */
        list_push(&in->idle, r);
        r->idle = true;
    }
    return rc < 0 ? -1 : 0;
}

static void rec_free(struct in_file *in, struct rec *r)
{
    if (in->user_free != NULL && r->pub.user != NULL)
        in->user_free(r->pub.user);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->old_path);
    free(r->home);
    free(r);
}

/* ---- life --------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p != NULL)
        memcpy(p, s, n + 1);
    return p;
}

/* The registry entries whose paths this input matches: after the first
 * scan, those not found are looked for (rotation while stopped), and a
 * new file at one of their paths took a known file's place. */
int in_file_collect_startup(struct in_file *in, struct sl_err *err)
{
    size_t cur = 0, n = 0;
    const struct registry_entry *e;
    free(in->startup);
    free(in->known_paths);
    in->startup = NULL;
    in->known_paths = NULL;
    in->nstartup = 0;
    while ((e = registry_next(in->reg, &cur)) != NULL)
        n += in_file_owns(in, e->path);
    if (n == 0)
        return 0;
    in->startup = calloc(n, sizeof *in->startup);
    in->known_paths = calloc(n, sizeof *in->known_paths);
    if (in->startup == NULL || in->known_paths == NULL)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    cur = 0;
    while ((e = registry_next(in->reg, &cur)) != NULL) {
        if (!in_file_owns(in, e->path))
            continue;
        in->known_paths[in->nstartup] = path_hash(e->path);
        struct startup *s = &in->startup[in->nstartup++];
        s->dev = e->id.dev;
        s->ino = e->id.ino;
    }
    qsort(in->known_paths, in->nstartup, sizeof *in->known_paths, cmp_u64);
    return 0;
}

struct in_file *in_file_new(const struct in_file_config *cfg,
                            struct registry *reg, const char *name,
                            const struct in_file_metrics *fm,
                            struct sl_err *err)
{
    if (cfg->paths.n == 0 || cfg->max_open_files < 1 || cfg->read_size < 1 ||
        cfg->scan_interval_ms < 1 || cfg->poll_interval_ms < 1) {
        sl_err_set(err, SL_EINVAL,
                   "file input: needs paths, and limits and intervals of at "
                   "least 1");
        return NULL;
    }
    struct in_file *in = calloc(1, sizeof *in);
    if (in == NULL) {
        sl_err_set(err, SL_ENOMEM, "file input: out of memory");
        return NULL;
    }
    in->cfg = *cfg;
    in->reg = reg;
    in->ifd = -1;
    in->fp_bytes = registry_fp_bytes(reg);
    in->keys_saved = UINT64_MAX; /* until in_file_set_keys_saved() */
    in->scan_now = true;
    in->tick_ms = in_file_tick_ms(cfg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    in->started_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    in->name = dup_str(name != NULL ? name : "file");
    in->buf = malloc((size_t)cfg->read_size + FILE_IDENTITY_TAIL_BYTES);
    if (in->name == NULL || in->buf == NULL) {
        sl_err_set(err, SL_ENOMEM, "file input: out of memory");
        goto fail;
    }
    snprintf(in->comp, sizeof in->comp, "input:file:%s", in->name);
    if (fm != NULL && metrics_children(in, fm, err) < 0)
        goto fail;
    if (in_file_collect_startup(in, err) < 0)
        goto fail;
    if (registry_hook_add(reg, in_file_shared_ack, in, err) < 0)
        goto fail;
    in->hooked = true;
    if (cfg->inotify)
        (void)in_file_watch_init(in); /* logs and polls when it fails */
    return in;
fail:
    in_file_free(in);
    return NULL;
}

static void free_done(struct in_file *in)
{
    struct rec *r = in->freeing;
    while (r != NULL) {
        struct rec *next = r->rnext;
        rec_free(in, r);
        r = next;
    }
    in->freeing = NULL;
}

void in_file_free(struct in_file *in)
{
    if (in == NULL)
        return;
    if (in->hooked)
        registry_hook_remove(in->reg, in_file_shared_ack, in);
    free_done(in);
    for (size_t i = 0; i < in->nrecs; i++)
        rec_free(in, in->recs[i]);
    for (struct rec *r = in->done.head, *next; r != NULL; r = next) {
        next = r->rnext;
        rec_free(in, r);
    }
    for (struct rec *r = in->parked.head, *next; r != NULL; r = next) {
        next = r->rnext;
        rec_free(in, r);
    }
    for (size_t i = 0; i < in->nbad; i++)
        free(in->bad[i].path);
    in_file_watch_free(in);
    in_file_notes_free(in);
    free(in->startup);
    free(in->ghosts);
    in_file_fps_free(in);
    free(in->shared);
    free(in->known_paths);
    free(in->bad);
    free(in->recs);
    free(in->hash);
    free(in->buf);
    free(in->name);
    free(in);
}

/* ---- the loop's side ---------------------------------------------------- */

size_t in_file_fill_pollfds(struct in_file *in, struct pollfd *pfds, size_t n)
{
    if (in->ifd < 0 || n == 0)
        return 0;
    pfds[0].fd = in->ifd;
    pfds[0].events = POLLIN;
    pfds[0].revents = 0;
    return 1;
}

/* When a scan an event asked for may run. */
static int64_t scan_gap_end(const struct in_file *in)
{
    int64_t gap = in->cfg.scan_interval_ms < IN_FILE_SCAN_GAP_MS
                      ? in->cfg.scan_interval_ms
                      : IN_FILE_SCAN_GAP_MS;
    return in->last_scan + gap;
}

int in_file_timeout_ms(const struct in_file *in, int64_t now)
{
    /* DONE notices wait for in_file_read, like data: never a reason here */
    if (in->scan_now)
        return 0;
    int64_t t = in->next_scan < in->next_tick ? in->next_scan : in->next_tick;
    if (in->scan_due && scan_gap_end(in) < t)
        t = scan_gap_end(in);
    if (t <= now)
        return 0;
    return t - now > 60000 ? 60000 : (int)(t - now);
}

void in_file_set_user_free(struct in_file *in, in_file_user_free_fn fn)
{
    in->user_free = fn;
}

void in_file_set_user_hold(struct in_file *in, in_file_user_hold_fn fn)
{
    in->user_hold = fn;
}

void in_file_set_user_unread(struct in_file *in, in_file_user_hold_fn fn)
{
    in->user_unread = fn;
}

void in_file_set_keys_saved(struct in_file *in, uint64_t keys)
{
    if (keys != in->keys_saved)
        in->ready_blocked = false;
    in->keys_saved = keys;
}

void in_file_rescan(struct in_file *in)
{
    in->scan_now = true;
}

void in_file_process(struct in_file *in, const struct pollfd *pfds, size_t n,
                     int64_t now)
{
    free_done(in);
    for (size_t i = 0; i < n; i++)
        if (in->ifd >= 0 && pfds[i].fd == in->ifd && pfds[i].revents != 0)
            in_file_watch_read(in, now);
    if (in->scan_now || now >= in->next_scan ||
        (in->scan_due && now >= scan_gap_end(in))) {
        in_file_scan(in, now);
        in->scans++;
        if (in->m_scans != NULL)
            sl_counter_inc(in->m_scans);
        in->scan_due = in->scan_now = false;
        in->last_scan = now;
        in->next_scan = now + in->cfg.scan_interval_ms;
        in->next_tick = now; /* what it found may have deadlines */
    }
    if (now >= in->next_tick)
        in_file_timers(in, now);
}

void in_file_stats(const struct in_file *in, struct in_file_stats *st)
{
    st->files = in->nrecs;
    st->open = in->open;
    st->ready = in->ready.n;
    st->waiting = in->wait.n;
    st->others = in->nnotes;
    st->inotify = in->ifd >= 0 && !in->watch_full;
    st->scans = in->scans;
    st->idle = in->scanned_once && !in->scan_now && in->ready.n == 0 &&
               in->wait.n == 0 && in->done.n == 0 && in->parked.n == 0;
    /* and no copy waits for its original (rotate.c): looked for only then,
     * a walk of every record */
    for (size_t i = 0; st->idle && i < in->nrecs; i++)
        st->idle = in->recs[i]->copy_of == NULL;
}

/* ---- reading ------------------------------------------------------------ */

/* Opens waiting files while descriptors are free. A file that cannot be
 * opened is logged once and left for the next scan. */
/* r, waiting for its first open, is no longer at its path (ENOENT, or
 * another file there): one the registry knew and not identified yet is
 * followed now, by its inode (in_file_lost: renamed, it stays in the wait
 * list under its new name; gone, its entry's bytes become a ghost), not at
 * the next scan: a copy of it that the first scan found waits for it
 * (wait_for_original) and is then read from where it was. Taken off the
 * wait list until that scan, it let a restart's copy (copytruncate while
 * stopped, the original renamed a moment after the start) be read whole
 * again under a new key. True when r was followed. */
static bool follow_known(struct in_file *in, struct rec *r, int64_t now)
{
    if (r->state != REC_LIVE || r->identified || !r->has_entry)
        return false;
    in_file_lost(in, r, now);
    return true;
}

static int open_waiting(struct in_file *in, int64_t now, struct sl_err *err)
{
    while (in->wait.head != NULL) {
        if (in->open >= hold_max(in)) {
            if (in->idle.head == NULL)
                break; /* every open file has bytes: wait for one's end */
            in_file_rec_close(in, in->idle.head); /* reopened as it grows */
        }
        struct rec *r = in->wait.head;
        wait_remove(in, r);
        r->waiting = false;
        int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            int e = errno;
            struct stat st;
            if (e == ENOENT && follow_known(in, r, now))
                continue;
            if ((e == EACCES || e == EPERM) && stat(r->path, &st) == 0)
                r->refused_at = in_file_ctime_ns(&st);
            in_file_bad_path(in, r->path, e, true);
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != r->dev ||
            (uint64_t)st.st_ino != r->ino) {
            close(fd); /* another file took the path: the scan will see */
            in->scan_due = true;
            follow_known(in, r, now);
            continue;
        }
        r->fd = fd;
        set_open(in, +1);
        r->last_data = now;
        r->at_eof = false;
        int rc = r->identified ? in_file_check_open(in, r, now, true, err)
                               : in_file_identify(in, r, now, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            in_file_make_ready(in, r);
    }
    return 0;
}

/* Before bytes up to end are handed out: a short fingerprint grows with
 * the file, checked against the bytes it covered, and the back bytes read
 * before the offset (in->buf) must still be the tail the last read left
 * there: a file truncated and written again past the offset between two
 * reads (`>` of a shell, a log opened with O_TRUNC, faster than a look at
 * its size) shows only there. 0: r was replaced, the file changed under
 * us, and the bytes read belong to no file any more. */
static int upgrade_identity(struct in_file *in, struct rec *r, size_t back,
                            uint64_t end, int64_t now, struct sl_err *err)
{
    const struct file_identity *id = &r->id;
    if (id->tail_len > 0 && id->tail_at == r->offset && back >= id->tail_len &&
        file_identity_hash(FILE_IDENTITY_FNV_BASIS,
                           in->buf + (back - id->tail_len),
                           id->tail_len) != id->tail)
        return in_file_check_open(in, r, now, true, err);
    /* no tail at the offset (the offset was set, not read to: a resume, a
     * copy let go at its original's offset, start_at end): the file may
     * have been written over in place since (cp onto an old copy), and
     * the new bytes past the offset be another file's */
    if (r->offset > 0 && (id->tail_len == 0 || id->tail_at != r->offset))
        return in_file_check_open(in, r, now, true, err);
    /* bytes the fingerprint covers and not handed out yet: hashed when
     * the file was opened, or before a wait for a save (the file may have
     * been truncated and written again since: a copy of the old bytes
     * would then be taken for a copy of this file, and skipped) */
    if (r->offset < id->fp_len)
        return in_file_check_open(in, r, now, true, err);
    if (id->fp_len >= in->fp_bytes || end <= id->fp_len)
        return 1;
    return in_file_check_open(in, r, now, true, err);
}

/* The first bytes of a file seen empty are handed out only once its
 * registry entry on disk holds their fingerprint. An empty fingerprint
 * matches every file: after a kill, a file truncated and written again
 * while the shipper was down (logrotate's create makes the file empty,
 * the shipper sees it so) would resume under this key from offset 0, and
 * its new lines would take the ids of lines sent before (Elasticsearch
 * keeps the first: the new ones lost). Once the fingerprint holds some
 * bytes, growth needs no save: a registry on a full disk stalls only new
 * files. 1: go on; 0: the entry was renewed with r's fingerprint, the
 * bytes wait for its save; -1: out of memory. */
static int fp_on_disk(struct in_file *in, struct rec *r, uint64_t end,
                      struct sl_err *err)
{
    const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
    if (e == NULL || e->key != r->pub.key || e->id.fp_len != 0 || end == 0 ||
        r->id.fp_len == 0)
        return 1;
    char path[REGISTRY_MAX_PATH + 1];
    snprintf(path, sizeof path, "%s", e->path);
    struct file_identity id = r->id;
    file_identity_keep_tail(&id, &e->id); /* where the offset acked is */
    uint64_t offset = e->offset;
    registry_forget(in->reg, r->dev, r->ino);
    if (registry_add(in->reg, &id, r->pub.key, path, offset, in_file_wall_s(),
                     err) < 0)
        return -1;
    r->key_gen = registry_keys_added(in->reg);
    return 0;
}

/* At the end of r's bytes: what that means depends on its state. */
static int at_end(struct in_file *in, struct rec *r, int64_t now,
                  struct sl_err *err)
{
    list_remove(&in->ready, r);
    r->ready = false;
    r->at_eof = true;
    if (!r->handover) /* the reader caught up: its user's clocks go on */
        tell_unread(in, r, false, now);
    release_succ(in, r); /* a file that took our old path may go now */
    if (r->state == REC_ROTATED) {
        /* shorter than what was read: truncated before it left its path
         * (copytruncate, then deleted or renamed away before a look at
         * it): its new bytes are read from 0 and its copy goes on where it
         * was read, as for a live file (before, under max_open_files 1-2
         * its copy, found after its end, was read again from 0) */
        struct stat st;
        if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size < r->offset)
            return in_file_check_open(in, r, now, false, err) < 0 ? -1 : 0;
        return 0;
    }
    /* a file shorter than what was read was truncated */
    int rc = in_file_check_open(in, r, now, false, err);
    if (rc < 0)
        return -1;
    if (rc == 1 && r->state == REC_LIVE && in->wait.n > 0) {
        in_file_rec_close(in, r); /* let a waiting file have the slot */
    } else if (rc == 1 && r->state == REC_LIVE && r->fd >= 0 && !r->ready &&
               !r->idle) {
        list_push(&in->idle, r); /* a slot for a file that comes later */
        r->idle = true;
    }
    return 0;
}

static int read_one(struct in_file *in, struct rec *r, size_t budget,
                    int64_t now, struct in_file_chunk *c, struct sl_err *err)
{
    if (r->empty_new && r->offset == 0) {
        int rc = in_file_recheck_empty_new(in, r, now, err);
        if (rc <= 0)
            return rc; /* held as a copy, or closed: nothing read */
        if (r->key_gen > in->keys_saved)
            return 0; /* a copy, under its original's key: saved first */
    }
    size_t want =
        budget < (size_t)in->cfg.read_size ? budget : (size_t)in->cfg.read_size;
    /* the bytes before offset come along (read before, in the page cache):
     * the chunk's identity carries the hash of those just before its end */
    size_t back = r->offset < FILE_IDENTITY_TAIL_BYTES
                      ? (size_t)r->offset
                      : FILE_IDENTITY_TAIL_BYTES;
    ssize_t n;
    do
        n = pread(r->fd, in->buf, back + want, (off_t)(r->offset - back));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        SL_ERROR(r->path,
                 "cannot read at offset %llu: %s; closing the file, "
                 "it is tried again at the next scan",
                 (unsigned long long)r->offset, sl_strerror(errno));
        in_file_count_error(in);
        in_file_rec_close(in, r);
        return 0;
    }
    if (r->handover) /* a copy's first read: the state's clock goes on */
        in_file_handover_end(in, r, now);
    if ((size_t)n <= back) /* shorter than offset: at_end sees why */
        return at_end(in, r, now, err) < 0 ? -1 : 0;
    n -= (ssize_t)back;
    uint64_t start = r->offset;
    int rc = upgrade_identity(in, r, back, start + (uint64_t)n, now, err);
    if (rc <= 0)
        return rc; /* replaced: these bytes belong to no file any more */
    rc = fp_on_disk(in, r, start + (uint64_t)n, err);
    if (rc <= 0)
        return rc; /* read again once the registry is saved */
    r->offset += (uint64_t)n;
    file_identity_set_tail(&r->id, r->offset, in->buf, back + (size_t)n);
    r->last_data = now;
    r->at_eof = false;
    list_remove(&in->ready, r); /* round-robin: to the tail */
    list_push(&in->ready, r);
    if (in->m_bytes != NULL)
        sl_counter_add(in->m_bytes, (uint64_t)n);
    c->kind = IN_FILE_DATA;
    c->src = &r->pub;
    c->offset = start;
    c->data = in->buf + back;
    c->len = (size_t)n;
    c->id = r->id;
    struct stat st; /* after the read: no byte read is newer */
    bool stat_ok = fstat(r->fd, &st) == 0;
    c->mtime_ms = stat_ok ? (int64_t)st.st_mtim.tv_sec * 1000 +
                                st.st_mtim.tv_nsec / 1000000
                          : INT64_MAX;
    r->mtime_read = stat_ok ? in_file_mtime_ns(&st) : 0;
    return 1;
}

/* The first ready file whose key is on disk, or NULL. The others go to
 * the list's tail as they are passed, and a lap that found none is not
 * walked again until a file is made ready or more keys are saved: a first
 * start over 20,000 files, each waiting for the save of its new entry,
 * walked them all at each read (a fifth of its CPU). */
static struct rec *next_ready(struct in_file *in)
{
    if (in->ready_blocked)
        return NULL;
    for (size_t i = 0, n = in->ready.n; i < n; i++) {
        struct rec *r = in->ready.head;
        if (r->key_gen <= in->keys_saved)
            return r;
        list_remove(&in->ready, r); /* its key is not on disk yet */
        list_push(&in->ready, r);
    }
    in->ready_blocked = in->ready.n > 0;
    return NULL;
}

int in_file_read(struct in_file *in, size_t budget, int64_t now,
                 struct in_file_chunk *c, struct sl_err *err)
{
    free_done(in);
    if (budget == 0)
        return 0;
    if (in->ready.n + in->wait.n + in->done.n > 0)
        in_file_timers_soon(in, now); /* opens, reads, ends: deadlines */
    for (;;) {
        if (in->done.head != NULL) {
            struct rec *r = in->done.head;
            list_remove(&in->done, r);
            r->rnext = in->freeing;
            in->freeing = r;
            memset(c, 0, sizeof *c);
            c->kind = IN_FILE_DONE;
            c->src = &r->pub;
            c->truncated = r->truncated;
            return 1;
        }
        if (open_waiting(in, now, err) < 0)
            return -1;
        struct rec *r = next_ready(in);
        if (r == NULL)
            return 0;
        int rc = read_one(in, r, budget, now, c, err);
        if (rc != 0)
            return rc;
    }
}
