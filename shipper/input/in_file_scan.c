/* in_file_scan.c: finding the files `paths` names, and hearing about
 * changes (inotify), for the file input (in_file.h).
 *
 * Globs are matched a path component at a time with fnmatch(3): `*`, `?`
 * and `[...]` never cross a `/`, a leading dot must be matched by a dot
 * (FNM_PERIOD, as the shell does), and a component that is exactly `**`
 * matches zero or more directories (`/var/log/` then `**` then `*.log`).
 * Directories reached through a symbolic link are not entered by `**` (a link
 * loop would never end); a file that is a symbolic link is followed to the file
 * it names, and that file's device + inode is what the input follows. Exclude
 * globs without a `/` are matched against the file's name (`*.gz`), with a `/`
 * against the whole path (`**` allowed).
 *
 * A scan walks every pattern, stats every candidate, and reconciles what
 * it found with the records: a known inode at a new path is a rename among
 * matched names (the path follows, the key stays); a new inode is a new
 * record; a record found at no path was rotated away (in_file_rotate.c). A
 * new file at a path an older file held waits for the older one's end.
 *
 * inotify watches each directory a scan looked into. An event that may
 * change the set of files (create, delete, move, attrib, overflow) asks for
 * a scan; a modify event wakes the one file it names (a stat of dir/name,
 * so no path index is kept). Without inotify, or past the kernel's watch
 * limit (both logged once), the periodic scan finds new files and open
 * files are read every poll_interval. */
#define _DEFAULT_SOURCE /* readdir's d_type constants (DT_DIR...) */
#include "in_file_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sl_log.h"

#define MAX_DEPTH 32 /* directories below a `**` */
#define PATH_CAP  4096

/* ---- matching a whole path (exclude, registry entries) ------------------ */

/* Whether path matches pat, component by component, `**` spanning any
 * number of them. Both start after their leading '/'. */
static bool match_from(const char *pat, const char *path)
{
    for (;;) {
        if (*pat == '\0')
            return *path == '\0';
        const char *pe = strchr(pat, '/');
        size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
        if (pl == 2 && pat[0] == '*' && pat[1] == '*') {
            const char *rest = pe ? pe + 1 : pat + pl;
            for (const char *p = path;;) {
                if (match_from(rest, p))
                    return true;
                const char *s = strchr(p, '/');
                if (s == NULL)
                    return *rest == '\0';
                p = s + 1;
            }
        }
        const char *se = strchr(path, '/');
        size_t sl = se ? (size_t)(se - path) : strlen(path);
        char pc[PATH_CAP], sc[PATH_CAP];
        if (pl >= sizeof pc || sl >= sizeof sc || (pe == NULL) != (se == NULL))
            return false;
        memcpy(pc, pat, pl);
        pc[pl] = '\0';
        memcpy(sc, path, sl);
        sc[sl] = '\0';
        if (fnmatch(pc, sc, FNM_PERIOD) != 0)
            return false;
        if (pe == NULL)
            return true;
        pat = pe + 1;
        path = se + 1;
    }
}

static const char *base_name(const char *path)
{
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

static bool user_excluded(const struct in_file *in, const char *path)
{
    const char *base = base_name(path);
    for (size_t i = 0; i < in->cfg.exclude.n; i++) {
        const char *x = in->cfg.exclude.v[i];
        if (strchr(x, '/') == NULL
                ? fnmatch(x, base, 0) == 0
                : match_from(x + (x[0] == '/'), path + (path[0] == '/')))
            return true;
    }
    return false;
}

/* Whether path's name is a compressed file's: logrotate's `compress`
 * (app.log.2.gz, or .bz2, .xz, .zst with compresscmd) and kubelet's older
 * container logs (0.log.20261205-215700.gz) sit beside the logs, where
 * `paths` such as app.log* match them; their bytes are no lines, and each
 * read them as garbage events. Never read, as if excluded. */
bool in_file_compressed_name(const char *path)
{
    static const char *const ext[] = {".gz",  ".bz2", ".xz", ".zst",
                                      ".lz4", ".zip", ".Z"};
    const char *base = base_name(path);
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);
        if (n > k && strcmp(base + n - k, ext[i]) == 0)
            return true;
    }
    return false;
}

bool in_file_excluded(const struct in_file *in, const char *path)
{
    return in_file_compressed_name(path) || user_excluded(in, path);
}

bool in_file_path_matches(const struct in_file *in, const char *path)
{
    if (in_file_excluded(in, path))
        return false;
    for (size_t i = 0; i < in->cfg.paths.n; i++) {
        const char *p = in->cfg.paths.v[i];
        if ((p[0] == '/') == (path[0] == '/') &&
            match_from(p + (p[0] == '/'), path + (path[0] == '/')))
            return true;
    }
    return false;
}

/* ---- paths that cannot be read: logged once ----------------------------- */

static struct bad_path *bad_find(struct in_file *in, const char *path)
{
    for (size_t i = 0; i < in->nbad; i++)
        if (strcmp(in->bad[i].path, path) == 0)
            return &in->bad[i];
    return NULL;
}

void in_file_bad_path_clear(struct in_file *in, const char *path)
{
    struct bad_path *b = in->nbad ? bad_find(in, path) : NULL;
    if (b == NULL)
        return;
    free(b->path);
    *b = in->bad[--in->nbad];
}

/* reason: an errno, or -1 a directory, -2 another kind of file, -3 the
 * shipper's own output (in_file_set_own_output), -4 its registry or lock
 * in its data_dir (in_file_set_own_dir). literal:
 * the user named this exact path (a glob's match that is a directory is
 * only debug). */
void in_file_bad_path(struct in_file *in, const char *path, int reason,
                      bool literal)
{
    struct bad_path *b = bad_find(in, path);
    if (b != NULL && b->reason == reason) {
        b->seen = true;
        return;
    }
    if (reason == ENOENT)
        return; /* not there (yet): the scans look again */
    if (reason == -1 && !literal)
        SL_DEBUG(path, "a directory that a glob matches: skipped");
    else if (reason == -1)
        SL_WARN(path, "is a directory, not a file; name its files in "
                      "`paths` (a glob such as DIR/*.log); tried again at "
                      "every scan");
    else if (reason == -4)
        SL_WARN(path, "is the shipper's own file in its data_dir: not read "
                      "(its registry would come back as events, for ever); "
                      "keep data_dir out of `paths`");
    else if (reason == -3)
        SL_WARN(path, "is the shipper's own output (stdout): not read (each "
                      "event would come back as a new line, for ever); keep "
                      "it out of `paths` (an `exclude`, or write it "
                      "elsewhere)");
    else if (reason == -2)
        SL_WARN(path, "is not a regular file (a FIFO, socket or device); "
                      "the file input reads regular files only (for a pipe, "
                      "use the stdin input); tried again at every scan");
    else if (reason == ENOTDIR)
        SL_WARN(path, "cannot read: a component of the path is not a "
                      "directory; check `paths`; tried again at every scan");
    else if (reason == ELOOP)
        SL_WARN(path, "cannot read: a loop of symbolic links (or too many "
                      "in a row); point the link at the log file, or remove "
                      "it; tried again at every scan");
    else if (reason == EACCES)
        SL_WARN(path, "cannot read: Permission denied; give the shipper's "
                      "user read access (on Debian, the group adm); tried "
                      "again at every scan");
    else
        SL_WARN(path, "cannot read: %s; tried again at every scan",
                sl_strerror(reason));
    if (reason != -1 || literal)
        in_file_count_error(in);
    if (b == NULL) {
        if (in->nbad == in->capbad) {
            size_t ncap = in->capbad ? in->capbad * 2 : 8;
            struct bad_path *nb = realloc(in->bad, ncap * sizeof *nb);
            if (nb == NULL)
                return; /* logged again next time: harmless */
            in->bad = nb;
            in->capbad = ncap;
        }
        size_t n = strlen(path);
        char *p = malloc(n + 1);
        if (p == NULL)
            return;
        memcpy(p, path, n + 1);
        b = &in->bad[in->nbad++];
        b->path = p;
    }
    b->reason = reason;
    b->seen = true;
}

void in_file_set_own_output(struct in_file *in, uint64_t dev, uint64_t ino)
{
    in->own_dev = dev;
    in->own_ino = ino;
}

void in_file_set_own_dir(struct in_file *in, const char *dir, const char *real)
{
    in->own_dir[0] = dir;
    in->own_dir[1] = real;
}

/* Whether path is one of the files the shipper keeps in its data_dir
 * (registry.json, its .tmp and a .damaged copy moved aside, the lock),
 * named under data_dir as written or its realpath. Other files there are
 * logs like any (a test or a script may keep both in one directory). */
static bool in_own_file(const struct in_file *in, const char *path)
{
    for (int i = 0; i < 2; i++) {
        const char *d = in->own_dir[i];
        size_t n = d != NULL ? strlen(d) : 0;
        while (n > 1 && d[n - 1] == '/')
            n--;
        if (n == 0 || strncmp(path, d, n) != 0)
            continue;
        const char *name = path + n;
        if (!(n == 1 && d[0] == '/')) {
            if (*name != '/')
                continue;
            name++;
        }
        if (strchr(name, '/') == NULL &&
            (strcmp(name, "lock") == 0 ||
             strncmp(name, "registry.json", 13) == 0))
            return true;
    }
    return false;
}

/* ---- inotify ------------------------------------------------------------ */

int in_file_watch_init(struct in_file *in)
{
    in->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in->ifd < 0) {
        SL_WARN(in->comp,
                "cannot watch for changes with inotify: %s; new "
                "files are found by the scan every %lld ms and open "
                "files read every %lld ms",
                sl_strerror(errno), in->cfg.scan_interval_ms,
                in->cfg.poll_interval_ms);
        return -1;
    }
    return 0;
}

void in_file_watch_free(struct in_file *in)
{
    in_file_watches_free(in);
    if (in->ifd >= 0)
        close(in->ifd);
}

static void watch_dir(struct in_file *in, const char *dir)
{
    if (in->ifd < 0 || in->watch_full)
        return;
    if (in_file_watch_by_dir(in, dir) != NULL)
        return;
    int wd = inotify_add_watch(in->ifd, dir,
                               IN_MODIFY | IN_CREATE | IN_DELETE |
                                   IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |
                                   IN_DELETE_SELF | IN_MOVE_SELF);
    if (wd < 0 && errno == ENOSPC) {
        in->watch_full = true;
        SL_WARN(in->comp,
                "the inotify watch limit is reached "
                "(fs.inotify.max_user_watches); changes are found "
                "by polling from now on: the scan every %lld ms, "
                "open files every %lld ms",
                in->cfg.scan_interval_ms, in->cfg.poll_interval_ms);
        return;
    }
    if (wd < 0 || in_file_watch_by_wd(in, wd) != NULL)
        return;
    (void)in_file_watch_add(in, wd, dir); /* no memory: the scan finds it */
}

/* A modify event: the file dir/name, if the input follows it, has bytes. */
static void wake(struct in_file *in, const char *dir, const char *name)
{
    char path[PATH_CAP];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) < 0)
        return;
    struct rec *r =
        in_file_rec_find(in, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (r == NULL) {
        if (S_ISREG(st.st_mode) && in_file_owns(in, path))
            in->scan_due = true; /* not for another input's file */
        return;
    }
    r->at_eof = false;
    r->size_seen = (uint64_t)st.st_size;
    in_file_want_open(in, r);
}

/* Metadata of dir/name changed (name NULL: of dir itself). A file the
 * input knows is not news: reading it moves its atime, and a scan for
 * each such event would walk every directory again after every few reads
 * (40,000 new files: about 640 scans in one run --once). A directory, or
 * a file paths matches and no record holds (one unreadable until now),
 * may be: the next scan looks. */
static void attrib_changed(struct in_file *in, const char *dir,
                           const char *name)
{
    char path[PATH_CAP];
    struct stat st;
    if (name == NULL) {
        in->scan_due = true;
        return;
    }
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        in->scan_due = true;
        return;
    }
    if (in_file_rec_find(in, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ==
            NULL &&
        in_file_owns(in, path))
        in->scan_due = true;
}

void in_file_watch_read(struct in_file *in, int64_t now)
{
    (void)now;
    char buf[16384];
    for (;;) {
        ssize_t len = read(in->ifd, buf, sizeof buf);
        if (len <= 0)
            return; /* EAGAIN: all read */
        for (char *p = buf; p < buf + len;) {
            /* the kernel aligns each event, but a char pointer cannot say
             * so to -Wcast-align: copy the fixed part, point at the name */
            struct inotify_event hdr;
            memcpy(&hdr, p, sizeof hdr);
            const struct inotify_event *ev = &hdr;
            const char *name = p + sizeof hdr;
            p += sizeof hdr + hdr.len;
            if (ev->mask & IN_Q_OVERFLOW) {
                in->scan_due = true;
                continue;
            }
            struct watch *w = in_file_watch_by_wd(in, ev->wd);
            if (w == NULL)
                continue;
            if (ev->mask & IN_IGNORED) {
                in_file_watch_remove(in, w);
                in->scan_due = true;
                continue;
            }
            if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                            IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF))
                in->scan_due = true;
            else if (ev->mask & IN_ATTRIB)
                attrib_changed(in, w->dir, ev->len > 0 ? name : NULL);
            if ((ev->mask & IN_MODIFY) && ev->len > 0)
                wake(in, w->dir, name);
        }
    }
}

/* ---- walking the globs -------------------------------------------------- */

/* A walk reconciles each file as it finds it (found_one): nothing is kept
 * per file found but the records a scan makes (fresh), so a scan of
 * 100,000 files holds no list of 100,000 paths and stats. */
struct walk {
    struct in_file *in;
    char path[PATH_CAP];
    char *comps[256];
    size_t ncomps;
    struct rec **fresh; /* records this scan made */
    size_t nfresh, capfresh;
    size_t nold; /* records before the scan */
    int64_t now, wall;
    bool oom;     /* out of memory: err says so; the scan is incomplete */
    bool partial; /* a directory could not be read */
    struct sl_err err;
};

static int found_one(struct walk *w, const struct stat *st, const char *path);

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* A file reached through a symbolic link: the directory of the file it
 * names is watched too, so its writes wake it (one level of link; a chain
 * of links is found by the scans). */
static void watch_link_target(struct in_file *in, const char *path)
{
    struct stat lst;
    char target[PATH_CAP], dir[PATH_CAP];
    if (in->ifd < 0 || lstat(path, &lst) < 0 || !S_ISLNK(lst.st_mode))
        return;
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    char *slash = strrchr(target, '/');
    const char *lslash = strrchr(path, '/');
    int len;
    if (target[0] == '/')
        len = snprintf(dir, sizeof dir, "%.*s",
                       slash == target ? 1 : (int)(slash - target), target);
    else if (slash != NULL && lslash != NULL)
        len = snprintf(dir, sizeof dir, "%.*s/%.*s", (int)(lslash - path), path,
                       (int)(slash - target), target);
    else if (lslash != NULL)
        len = snprintf(dir, sizeof dir, "%.*s", (int)(lslash - path), path);
    else
        return;
    if (len > 0 && (size_t)len < sizeof dir)
        watch_dir(in, dir);
}

/* dtype: the entry's d_type from readdir, DT_UNKNOWN for a literal path;
 * a DT_REG entry is no link, so it costs one stat, not two. */
static void candidate(struct walk *w, size_t len, bool literal,
                      unsigned char dtype)
{
    const char *path = w->path;
    (void)len;
    if (user_excluded(w->in, path))
        return;
    if (in_file_compressed_name(path)) {
        if (!w->in->said_compressed)
            SL_INFO(path, "compressed (by its name): not read, nor any other "
                          "such file of this input; the shipper reads plain "
                          "text (an `exclude` such as \"*.gz\" says so)");
        w->in->said_compressed = true;
        return;
    }
    if (in_own_file(w->in, path)) {
        in_file_bad_path(w->in, path, -4, true);
        return;
    }
    const struct in_file *owner = in_file_owner(w->in, path);
    if (owner != NULL) {
        in_file_note_other(w->in, path, owner, true);
        return;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        in_file_bad_path(w->in, path, errno, literal);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        in_file_bad_path(w->in, path, S_ISDIR(st.st_mode) ? -1 : -2, literal);
        return;
    }
    if (w->in->own_ino != 0 && w->in->own_ino == st.st_ino &&
        w->in->own_dev == st.st_dev) {
        in_file_bad_path(w->in, path, -3, true);
        return;
    }
    if (dtype == DT_LNK || dtype == DT_UNKNOWN)
        watch_link_target(w->in, path);
    struct bad_path *b = w->in->nbad ? bad_find(w->in, path) : NULL;
    if (b != NULL)
        b->seen = true; /* still bad until it opens */
    if (found_one(w, &st, path) < 0)
        w->oom = true;
}

/* Appends "/name" (or "name" after a bare "/") to w->path at len. */
static size_t append(struct walk *w, size_t len, const char *name)
{
    bool slash = len > 0 && w->path[len - 1] != '/';
    size_t n = strlen(name);
    if (len + slash + n + 1 > sizeof w->path)
        return 0;
    if (slash)
        w->path[len++] = '/';
    memcpy(w->path + len, name, n + 1);
    return len + n;
}

static void walk(struct walk *w, size_t len, size_t i, int depth);

/* Every subdirectory of w->path (not through links), in turn. */
static void each_subdir(struct walk *w, size_t len, size_t i, int depth,
                        const char *pat)
{
    char dir[PATH_CAP];
    memcpy(dir, w->path, len + 1);
    DIR *d = opendir(len ? dir : ".");
    if (d == NULL) {
        if (errno != ENOENT && errno != ENOTDIR) {
            w->partial = true;
            in_file_bad_path(w->in, len ? dir : ".", errno, true);
        }
        return;
    }
    watch_dir(w->in, len ? dir : ".");
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (pat != NULL && fnmatch(pat, de->d_name, FNM_PERIOD) != 0)
            continue;
        memcpy(w->path, dir, len + 1);
        size_t nl = append(w, len, de->d_name);
        if (nl == 0)
            continue;
        /* under `**`: real directories only; d_type says which entries
         * are, without a stat each (the file system may not say) */
        if (pat == NULL && de->d_type != DT_DIR) {
            struct stat st;
            if (de->d_type != DT_UNKNOWN || lstat(w->path, &st) < 0 ||
                !S_ISDIR(st.st_mode))
                continue;
        }
        if (pat != NULL && i + 1 == w->ncomps)
            candidate(w, nl, false, de->d_type);
        else
            walk(w, nl, pat != NULL ? i + 1 : i, depth + (pat == NULL));
    }
    closedir(d);
    memcpy(w->path, dir, len + 1);
}

static void walk(struct walk *w, size_t len, size_t i, int depth)
{
    if (i == w->ncomps || depth > MAX_DEPTH || w->oom)
        return;
    const char *c = w->comps[i];
    bool last = i + 1 == w->ncomps;
    if (strcmp(c, "**") == 0) {
        walk(w, len, i + 1, depth);
        each_subdir(w, len, i, depth, NULL);
        return;
    }
    if (!has_glob(c)) {
        char save[PATH_CAP];
        memcpy(save, w->path, len + 1);
        size_t nl = append(w, len, c);
        if (nl != 0) {
            if (last) {
                watch_dir(w->in, len ? save : ".");
                candidate(w, nl, true, DT_UNKNOWN);
            } else {
                walk(w, nl, i + 1, depth);
            }
        }
        memcpy(w->path, save, len + 1);
        return;
    }
    each_subdir(w, len, i, depth, c);
}

static void walk_pattern(struct walk *w, const char *pat)
{
    char copy[PATH_CAP];
    size_t n = strlen(pat);
    if (n >= sizeof copy)
        return;
    memcpy(copy, pat, n + 1);
    w->ncomps = 0;
    for (char *s = copy, *e; *s != '\0' && w->ncomps < 256; s = e) {
        while (*s == '/')
            s++;
        if (*s == '\0')
            break;
        e = strchr(s, '/');
        if (e != NULL)
            *e++ = '\0';
        else
            e = s + strlen(s);
        w->comps[w->ncomps++] = s;
    }
    static char star[] = "*";
    if (w->ncomps > 0 && w->ncomps < 256 &&
        strcmp(w->comps[w->ncomps - 1], "**") == 0)
        w->comps[w->ncomps++] = star; /* a trailing `**`: every file below */
    size_t len = 0;
    if (pat[0] == '/') {
        w->path[0] = '/';
        w->path[1] = '\0';
        len = 1;
    } else {
        w->path[0] = '\0';
    }
    walk(w, len, 0, 0);
}

/* ---- reconciling -------------------------------------------------------- */

/* A file found at path (st: its stat): the record of its inode, told
 * where it is. -1 with w->err when out of memory. */
static int found_one(struct walk *w, const struct stat *st, const char *path)
{
    struct in_file *in = w->in;
    int64_t now = w->now;
    struct sl_err *err = &w->err;
    struct rec *r =
        in_file_rec_find(in, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    if (r != NULL && r->seen)
        return 0; /* a second path (a link) to a file already found */
    bool rotated = false;
    const struct in_file *holder =
        r == NULL ? in_file_holder(in, (uint64_t)st->st_dev,
                                   (uint64_t)st->st_ino, &rotated)
                  : NULL;
    if (holder != NULL) { /* another input reads it: a link, or drained */
        if (rotated)
            SL_DEBUG(path, "rotated, %s reads it to its end", holder->name);
        else
            in_file_note_other(in, path, holder, false);
        return 0;
    }
    if (r == NULL) {
        if (w->nfresh == w->capfresh) {
            size_t ncap = w->capfresh ? w->capfresh * 2 : 64;
            struct rec **nf = realloc(w->fresh, ncap * sizeof *nf);
            if (nf == NULL)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            w->fresh = nf;
            w->capfresh = ncap;
        }
        r = in_file_rec_add(in, path, st, err);
        if (r == NULL)
            return -1;
        r->seen = true;
        w->fresh[w->nfresh++] = r;
        return 0;
    }
    r->seen = true;
    if (strcmp(r->path, path) != 0) {
        SL_DEBUG(path, "renamed from '%s'", r->path);
        free(r->old_path);
        r->old_path = r->path; /* a new file there waits for this one */
        r->path = NULL;
        if (in_file_rec_set_path(r, path, err) < 0) {
            r->path = r->old_path;
            r->old_path = NULL;
            return -1;
        }
    }
    if (r->state == REC_ROTATED) {
        r->state = REC_LIVE; /* back at a matched path */
        /* open at its end, it is looked at as a live file: read to its
         * end, it goes to the idle list, or gives its descriptor to a
         * file that waits (left as it was, it held it until
         * close_inactive: under max_open_files 2 nothing else was read) */
        in_file_make_ready(in, r);
    }
    uint64_t size = (uint64_t)st->st_size;
    r->size_seen = size;
    /* written since the last scan: a closed file no longer than where it
     * was read may be another file on its inode (deleted, its inode
     * taken by a new file, as logrotate's rename and create do at once),
     * whose first line was lost when the size alone said nothing new */
    int64_t mtime = in_file_mtime_ns(st);
    bool written = mtime != r->mtime_seen;
    r->mtime_seen = mtime;
    if (r->fd >= 0) {
        /* its first bytes hashed again only when it changed: an open file
         * at rest costs this scan its stat, nothing more */
        bool look = r->identified && (written || size != r->offset);
        int rc = look ? in_file_check_open(in, r, now, true, err) : 1;
        if (rc <= 0)
            return rc; /* replaced: the new record is in place */
        if (size != r->offset)
            in_file_make_ready(in, r);
    } else if (!r->identified || size != r->offset || written) {
        in_file_want_open(in, r);
    }
    if (r->identified &&
        registry_touch(in->reg, r->dev, r->ino, r->path, w->wall, err) < 0)
        return -1;
    return 0;
}

/* A new file at a path an older file held: it waits for the older one. */
static void link_pred(struct in_file *in, struct rec *n, size_t nold)
{
    for (size_t j = 0; j < nold && j < in->nrecs; j++) {
        struct rec *o = in->recs[j];
        if (o == n || o->succ != NULL ||
            (o->fd < 0 && !(o->state == REC_ROTATED && o->waiting)))
            continue;
        bool moved = o->old_path != NULL && strcmp(o->old_path, n->path) == 0;
        if (!moved && (strcmp(o->path, n->path) != 0 ||
                       (o->state == REC_LIVE && o->seen)))
            continue; /* not the file that left this path */
        in_file_link_succ(in, o, n);
        return;
    }
}

/* Records found by this scan are marked seen as they are found. */
static void scan_begin(struct in_file *in)
{
    for (size_t i = 0; i < in->nrecs; i++) {
        in->recs[i]->seen = false;
        free(in->recs[i]->old_path);
        in->recs[i]->old_path = NULL;
    }
    for (size_t i = 0; i < in->nbad; i++)
        in->bad[i].seen = false;
}

/* After the walk (each file it found is reconciled with its record as it
 * is found: found_one), what was not found, and the new records. A walk
 * that could not read a directory (EMFILE, EACCES) proves nothing about
 * the files below it: no record is taken for rotated away then. */
static int reconcile(struct in_file *in, struct walk *w, int64_t now,
                     struct sl_err *err)
{
    size_t nold = w->nold, nfresh = w->nfresh;
    struct rec **fresh = w->fresh;
    for (size_t i = nold; i-- > 0 && !w->partial;)
        if (i < in->nrecs && !in->recs[i]->seen &&
            in->recs[i]->state == REC_LIVE)
            in_file_lost(in, in->recs[i], now);
    for (size_t i = 0; i < nfresh && nold > 0; i++)
        link_pred(in, fresh[i], in->nrecs);
    if (!in->scanned_once) {
        in_file_startup_resolve(in, now);
        if (in_file_settle_known(in, fresh, nfresh, now, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < nfresh; i++)
        if (in_file_enroll(in, fresh[i], now, err) < 0)
            return -1;
    /* files the registry knows first: their ghosts exist before a copy is
     * looked at */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nfresh; i++)
            if (fresh[i]->has_entry == (pass == 0))
                in_file_want_open(in, fresh[i]);
    return 0;
}

/* Paths no longer bad or no longer found are forgotten (logged again if
 * they break again); the startup list has served. */
static void scan_end(struct in_file *in)
{
    for (size_t i = 0; i < in->nbad;)
        if (!in->bad[i].seen) {
            free(in->bad[i].path);
            in->bad[i] = in->bad[--in->nbad];
        } else {
            i++;
        }
    in_file_notes_end_scan(in);
    free(in->startup);
    in->startup = NULL;
    free(in->known_paths);
    in->known_paths = NULL;
    in->nstartup = 0;
    in->scanned_once = true;
}

void in_file_scan(struct in_file *in, int64_t now)
{
    struct sl_err err = {0};
    struct walk *w = calloc(1, sizeof *w);
    if (w == NULL) {
        SL_ERROR(in->comp, "scan skipped: out of memory");
        return;
    }
    w->in = in;
    w->now = now;
    w->wall = in_file_wall_s();
    w->nold = in->nrecs;
    scan_begin(in);
    for (size_t i = 0; i < in->cfg.paths.n; i++)
        walk_pattern(w, in->cfg.paths.v[i]);
    if (w->oom)
        SL_ERROR(in->comp, "scan incomplete: %s",
                 w->err.msg[0] ? w->err.msg : "out of memory");
    else if (reconcile(in, w, now, &err) < 0)
        SL_ERROR(in->comp, "scan incomplete: %s", err.msg);
    else
        scan_end(in);
    free(w->fresh);
    free(w);
}
