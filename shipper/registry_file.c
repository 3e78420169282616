/* registry_file.c: the registry's file, registry.json (the format, the
 * atomic save and its outcomes are described in registry.h), and the
 * snapshot a save can be made from later, on another thread.
 *
 * JSON, one entry per line, written through a 64 KiB buffer (the shipper's
 * memory does not grow with the registry's file size) and read with yajl's
 * callback parser in 64 KiB chunks for the same reason. The reader accepts
 * exactly what the writer writes (keys in any order inside an entry,
 * "version" first at the top): a registry is not edited by hand often, and
 * when it is, an error with a position beats a guess. Numbers are taken as
 * raw text (yajl_number) so 64-bit inodes above LLONG_MAX load. Entries
 * reach the table through registry_insert (registry_priv.h). */
#include "registry.h"
#include "sl_ascii.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "registry_priv.h"
#include "sl_file.h"
#include "sl_json.h"

#define IO_CHUNK (64 * 1024)

/* ---- writing ------------------------------------------------------------ */

/* Where the text goes: a buffer, flushed to fd (if >= 0) past IO_CHUNK. */
struct sink {
    struct sl_buf *b;
    int fd;
    const char *name;
};

static int sink_flush(struct sink *s, struct sl_err *err)
{
    if (sl_file_write_all(s->fd, s->b->ptr, s->b->len) < 0)
        return sl_err_set(err, SL_EIO, "cannot write '%s': %s", s->name,
                          sl_strerror(errno));
    sl_buf_reset(s->b);
    return 0;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Copies a string literal (its length is known at compile time). */
#define PUT_LIT(p, lit)                                                        \
    (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* The cuts of one entry: those of its key past its offset. */
struct cut_run {
    const struct registry_cut *c;
    size_t n;
};

static int write_entry(struct sl_buf *b, const struct registry_entry *e,
                       struct cut_run cuts, struct sl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    if (sl_buf_reserve(b, 384 + cuts.n * 22, err) < 0)
        return -1;
    char *p = b->ptr + b->len;
    p = put_u64(PUT_LIT(p, "{\"dev\":"), e->id.dev);
    p = put_u64(PUT_LIT(p, ",\"ino\":"), e->id.ino);
    p = PUT_LIT(p, ",\"fp\":\"");
    for (int sh = 60; sh >= 0; sh -= 4)
        *p++ = hex[(e->id.fp >> sh) & 15];
    p = put_u64(PUT_LIT(p, "\",\"fp_len\":"), e->id.fp_len);
    if (e->id.tail_len > 0) {
        p = PUT_LIT(p, ",\"tail\":\"");
        for (int sh = 60; sh >= 0; sh -= 4)
            *p++ = hex[(e->id.tail >> sh) & 15];
        p = put_u64(PUT_LIT(p, "\",\"tail_len\":"), e->id.tail_len);
        p = put_u64(PUT_LIT(p, ",\"tail_at\":"), e->id.tail_at);
    }
    p = PUT_LIT(p, ",\"key\":\"");
    for (int sh = 60; sh >= 0; sh -= 4)
        *p++ = hex[(e->key >> sh) & 15];
    p = PUT_LIT(p, "\",\"offset\":");
    p = put_u64(p, e->offset);
    for (size_t i = 0; i < cuts.n; i++)
        p = put_u64(i == 0 ? PUT_LIT(p, ",\"cuts\":[") : PUT_LIT(p, ","),
                    cuts.c[i].at);
    if (cuts.n > 0)
        *p++ = ']';
    p = PUT_LIT(p, ",\"seen\":");
    if (e->seen < 0)
        *p++ = '-';
    p = put_u64(p, e->seen < 0 ? 0 - (uint64_t)e->seen : (uint64_t)e->seen);
    p = PUT_LIT(p, ",\"path\":");
    b->len = (size_t)(p - b->ptr);
    b->ptr[b->len] = '\0'; /* sl_buf's invariant (asserted in Debug) */
    if (sl_json_write_string(b, e->path, strlen(e->path), err) < 0)
        return -1;
    return sl_buf_append_char(b, '}', err);
}

/* A copy of the entries (registry.h): paths packed, each with its NUL. */
struct snap_entry {
    struct file_identity id;
    uint64_t key;
    uint64_t offset;
    int64_t seen;
    size_t path_off; /* in paths */
};

struct registry_snapshot {
    size_t count;
    struct snap_entry *entries;
    struct sl_buf paths;
    struct registry_cut *cuts; /* ncuts, as the registry's (sorted) */
    size_t ncuts;
};

/* What is written: the table itself, or else a snapshot of it. */
struct source {
    const struct registry *r;
    const struct registry_snapshot *snap;
};

/* The next entry of src (tmp holds a snapshot's), or NULL at the end. */
static const struct registry_entry *
source_next(const struct source *src, size_t *cur, struct registry_entry *tmp)
{
    if (src->r != NULL)
        return registry_next(src->r, cur);
    if (*cur >= src->snap->count)
        return NULL;
    const struct snap_entry *se = &src->snap->entries[(*cur)++];
    tmp->id = se->id;
    tmp->key = se->key;
    tmp->offset = se->offset;
    tmp->seen = se->seen;
    tmp->path = src->snap->paths.ptr + se->path_off;
    return tmp;
}

/* The cuts e's line carries. */
static struct cut_run entry_cuts(const struct source *src,
                                 const struct registry_entry *e)
{
    size_t n;
    const struct registry_cut *all =
        src->r != NULL ? registry_cut_list(src->r, &n) : src->snap->cuts;
    if (src->r == NULL)
        n = src->snap->ncuts;
    struct cut_run run = {NULL, 0};
    if (n == 0)
        return run;
    size_t i = registry_cut_find(all, n, e->key, e->offset);
    run.c = all + i;
    while (i + run.n < n && all[i + run.n].key == e->key)
        run.n++;
    return run;
}

static int write_all(const struct source *src, struct sink *s,
                     struct sl_err *err)
{
    if (sl_buf_append_str(s->b, "{\"version\":1,\"entries\":[", err) < 0)
        return -1;
    const char *sep = "\n";
    size_t cur = 0;
    struct registry_entry tmp;
    const struct registry_entry *e;
    while ((e = source_next(src, &cur, &tmp)) != NULL) {
        if (sl_buf_append_str(s->b, sep, err) < 0 ||
            write_entry(s->b, e, entry_cuts(src, e), err) < 0)
            return -1;
        sep = ",\n";
        if (s->fd >= 0 && s->b->len >= IO_CHUNK && sink_flush(s, err) < 0)
            return -1;
    }
    if (sl_buf_append_str(s->b, "\n]}\n", err) < 0)
        return -1;
    return s->fd >= 0 ? sink_flush(s, err) : 0;
}

int registry_write(const struct registry *r, struct sl_buf *out,
                   struct sl_err *err)
{
    struct sink s = {out, -1, "registry"};
    struct source src = {r, NULL};
    return write_all(&src, &s, err);
}

struct registry_snapshot *registry_snapshot_take(const struct registry *r,
                                                 struct sl_err *err)
{
    size_t n = registry_count(r);
    struct registry_snapshot *snap = calloc(1, sizeof *snap);
    if (snap == NULL)
        goto nomem;
    sl_buf_init(&snap->paths, SIZE_MAX / 4);
    snap->entries = malloc((n > 0 ? n : 1) * sizeof *snap->entries);
    if (snap->entries == NULL)
        goto nomem;
    /* room for typical paths up front: one allocation, not log2(n) */
    if (sl_buf_reserve(&snap->paths, n * 48, err) < 0)
        goto fail;
    size_t cur = 0;
    const struct registry_entry *e;
    while ((e = registry_next(r, &cur)) != NULL) {
        struct snap_entry *se = &snap->entries[snap->count++];
        se->id = e->id;
        se->key = e->key;
        se->offset = e->offset;
        se->seen = e->seen;
        se->path_off = snap->paths.len;
        if (sl_buf_append(&snap->paths, e->path, strlen(e->path) + 1, err) < 0)
            goto fail;
    }
    size_t ncuts;
    const struct registry_cut *cuts = registry_cut_list(r, &ncuts);
    if (ncuts > 0) {
        snap->cuts = malloc(ncuts * sizeof *snap->cuts);
        if (snap->cuts == NULL)
            goto nomem;
        memcpy(snap->cuts, cuts, ncuts * sizeof *snap->cuts);
        snap->ncuts = ncuts;
    }
    return snap;
nomem:
    sl_err_set(err, SL_ENOMEM, "registry: out of memory");
fail:
    registry_snapshot_free(snap);
    return NULL;
}

void registry_snapshot_free(struct registry_snapshot *snap)
{
    if (snap == NULL)
        return;
    free(snap->entries);
    free(snap->cuts);
    sl_buf_release(&snap->paths);
    free(snap);
}

/* ---- saving ------------------------------------------------------------- */

static registry_fsync_fn fsync_hook; /* tests only: registry_priv.h */

void registry_set_fsync(registry_fsync_fn fn)
{
    fsync_hook = fn;
}

static int sync_fd(int fd, bool dir)
{
    return fsync_hook != NULL ? fsync_hook(fd, dir) : fsync(fd);
}

/* fsyncs the directory holding path, so the rename itself is durable. */
static int sync_dir(const char *path, struct sl_err *err)
{
    const char *slash = strrchr(path, '/');
    char dir[REGISTRY_MAX_PATH + 8];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || sync_fd(fd, true) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sl_err_set(err, SL_EIO,
                          "registry '%s' saved, but syncing its directory "
                          "'%s' failed: %s; a power loss may bring back the "
                          "previous save (lines acknowledged since are then "
                          "shipped again, without duplicates); check the "
                          "file system (dmesg)",
                          path, dir, sl_strerror(e));
    }
    close(fd);
    return 0;
}

/* Writes src to path.tmp through a 64 KiB buffer, fsyncs it, renames it
 * over path and fsyncs the directory. Everything before the rename is
 * REGISTRY_NOT_SAVED, with the .tmp removed; only the directory fsync comes
 * after it. */
static enum registry_save_result
commit(const char *path, const struct source *src, struct sl_err *err)
{
    struct sl_buf b = SL_BUF_INIT(2 * IO_CHUNK);
    char tmp[REGISTRY_MAX_PATH + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        sl_err_set(err, SL_EINVAL, "registry path too long: '%s'", path);
        return REGISTRY_NOT_SAVED;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        sl_err_set(err, SL_EIO, "cannot create '%s': %s", tmp,
                   sl_strerror(errno));
        goto fail;
    }
    struct sink s = {&b, fd, tmp};
    if (write_all(src, &s, err) < 0)
        goto fail;
    sl_buf_release(&b);
    if (sync_fd(fd, false) < 0) {
        sl_err_set(err, SL_EIO, "cannot sync '%s': %s", tmp,
                   sl_strerror(errno));
        goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc < 0) {
        sl_err_set(err, SL_EIO, "cannot write '%s': %s", tmp,
                   sl_strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        sl_err_set(err, SL_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                   sl_strerror(errno));
        goto fail;
    }
    /* the point of no return: path is the new registry */
    return sync_dir(path, err) < 0 ? REGISTRY_SAVED_UNSYNCED : REGISTRY_SAVED;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    sl_buf_release(&b);
    sl_err_prefix(err, "registry not saved, '%s' is as it was", path);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n,
             "; check free space and permissions in its directory");
    return REGISTRY_NOT_SAVED;
}

enum registry_save_result registry_save(const struct registry *r,
                                        const char *path, struct sl_err *err)
{
    struct source src = {r, NULL};
    return commit(path, &src, err);
}

enum registry_save_result
registry_snapshot_save(const struct registry_snapshot *snap, const char *path,
                       struct sl_err *err)
{
    struct source src = {NULL, snap};
    return commit(path, &src, err);
}

/* ---- reading ------------------------------------------------------------ */

enum pstate {
    P_START,   /* before the top-level object */
    P_TOP,     /* in the top object, expecting a key */
    P_VERSION, /* expecting the version number */
    P_LIST,    /* after "entries": expecting [ */
    P_ENTRIES, /* in the entries array */
    P_ENTRY,   /* in an entry, expecting a key */
    P_FIELD,   /* expecting the value of field `field` */
    P_CUTS,    /* in an entry's "cuts" array */
    P_DONE     /* after the top-level object */
};

enum field {
    F_DEV,
    F_INO,
    F_FP,
    F_FP_LEN,
    F_KEY,
    F_OFFSET,
    F_SEEN,
    F_PATH,
    F_TAIL, /* the tail (file_identity.h): optional, all three or none */
    F_TAIL_LEN,
    F_TAIL_AT,
    F_CUTS, /* optional: registry.h, cuts */
    F_N
};

#define TAIL_FIELDS (7u << F_TAIL)

static const char *const field_names[F_N] = {
    "dev",  "ino",  "fp",   "fp_len",   "key",     "offset",
    "seen", "path", "tail", "tail_len", "tail_at", "cuts"};
static const size_t field_len[F_N] = {3, 3, 2, 6, 3, 6, 4, 4, 4, 8, 7, 4};

struct parser {
    const char *name;
    struct registry *r;
    yajl_handle h;
    enum pstate st;
    bool have_version, have_entries;
    enum field field;
    unsigned fields; /* bit per field seen in the current entry */
    struct registry_entry cur;
    uint64_t *cuts; /* the current entry's, ncuts (cap_cuts allocated) */
    size_t ncuts, cap_cuts;
    /* positions: the chunk being parsed and the lines before it */
    const char *chunk;
    size_t chunk_len;
    uint64_t base;       /* file offset of chunk[0] */
    unsigned line;       /* 1-based line of chunk[0] */
    uint64_t line_start; /* file offset where that line starts */
    uint64_t prev_end;   /* file offset just past the last good token */
    /* the first error */
    bool failed;
    bool damaged; /* suffix: fix or move aside */
    bool aside;   /* suffix: how to move it aside */
    enum sl_status status;
    uint64_t err_off;
    char msg[256];
};

static int fail_at(struct parser *p, uint64_t off, enum sl_status st,
                   bool damaged, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(struct parser *p, uint64_t off, enum sl_status st,
                   bool damaged, const char *fmt, ...)
{
    if (p->failed)
        return 0;
    p->failed = true;
    p->status = st;
    p->damaged = damaged;
    p->err_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return 0; /* yajl callbacks: stop */
}

/* Inside a callback: the offset just past the token yajl reported. */
static uint64_t here(const struct parser *p)
{
    return p->base + yajl_get_bytes_consumed(p->h);
}

/* Where the offending token starts: the first byte after the last good
 * token that is not space (nor the , or : before it), so messages point at
 * the token, not past it. Only the current chunk is looked at. */
static uint64_t token_start(const struct parser *p, uint64_t consumed)
{
    uint64_t i = p->prev_end > p->base ? p->prev_end : p->base;
    uint64_t end = p->base + p->chunk_len;
    bool punct = false;
    while (i < end && i < consumed) {
        char c = p->chunk[i - p->base];
        if ((c == ',' || c == ':') && !punct && consumed > i + 1)
            punct = true;
        else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        i++;
    }
    return i < consumed ? i : consumed;
}

/* A callback that accepted its token. */
static int good(struct parser *p)
{
    p->prev_end = here(p);
    return 1;
}

#define BAD(p, ...)                                                            \
    fail_at((p), token_start((p), here(p)), SL_EPARSE, true, __VA_ARGS__)

static const char *expected(const struct parser *p)
{
    switch (p->st) {
    case P_START:
        return "an object";
    case P_VERSION:
        return "the version number";
    case P_LIST:
        return "an array of entries";
    case P_ENTRIES:
        return "an entry (an object) or ]";
    case P_CUTS:
        return "an offset (an integer) or ]";
    case P_FIELD:
        return p->field == F_CUTS ? "an array of offsets"
               : p->field == F_FP || p->field == F_KEY || p->field == F_TAIL
                   ? "16 hex digits in a string"
               : p->field == F_PATH ? "a string"
                                    : "an integer";
    default:
        return "a key";
    }
}

static int unexpected(struct parser *p, const char *found)
{
    return BAD(p, "found %s, expected %s", found, expected(p));
}

static int on_null(void *ctx)
{
    return unexpected(ctx, "null");
}

static int on_bool(void *ctx, int v)
{
    return unexpected(ctx, v ? "true" : "false");
}

/* A decimal integer as JSON writes it, into [-INT64_MAX, UINT64_MAX]. */
static bool parse_int(const char *s, size_t len, bool *neg, uint64_t *out)
{
    *neg = len > 0 && s[0] == '-';
    size_t i = *neg ? 1 : 0;
    if (i == len)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (*neg && v > (uint64_t)INT64_MAX)
        return false;
    *out = v;
    return true;
}

static int on_version(struct parser *p, bool neg, uint64_t v)
{
    if (neg || v != REGISTRY_VERSION) {
        p->aside = !p->failed;
        return fail_at(p, token_start(p, here(p)), SL_EPARSE, false,
                       "registry format version %s%llu, this sluice-shipper "
                       "reads version %d; run the sluice-shipper that wrote "
                       "it, or move the file aside to start over",
                       neg ? "-" : "", (unsigned long long)v, REGISTRY_VERSION);
    }
    p->have_version = true;
    p->st = P_TOP;
    return good(p);
}

/* One offset of an entry's "cuts": after 0 and the one before it. */
static int on_cut(struct parser *p, bool ok, uint64_t v, const char *s,
                  size_t len)
{
    if (!ok || v == 0 || (p->ncuts > 0 && v <= p->cuts[p->ncuts - 1]))
        return BAD(p, "\"cuts\": %.*s is not an offset past the one before it",
                   (int)(len > 40 ? 40 : len), s);
    if (p->ncuts == REGISTRY_MAX_CUTS)
        return fail_at(p, here(p), SL_ELIMIT, true, "more than %d cuts",
                       REGISTRY_MAX_CUTS);
    if (p->ncuts == p->cap_cuts) {
        size_t ncap = p->cap_cuts ? p->cap_cuts * 2 : 8;
        uint64_t *nc = realloc(p->cuts, ncap * sizeof *nc);
        if (nc == NULL)
            return fail_at(p, here(p), SL_ENOMEM, false, "out of memory");
        p->cuts = nc;
        p->cap_cuts = ncap;
    }
    p->cuts[p->ncuts++] = v;
    return good(p);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    struct parser *p = ctx;
    bool neg = false;
    uint64_t v = 0;
    bool ok = parse_int(s, len, &neg, &v);
    if (p->st == P_VERSION)
        return ok ? on_version(p, neg, v)
                  : BAD(p, "the version must be an integer");
    if (p->st == P_CUTS)
        return on_cut(p, ok && !neg, v, s, len);
    if (p->st != P_FIELD || p->field == F_CUTS || p->field == F_FP ||
        p->field == F_KEY || p->field == F_PATH || p->field == F_TAIL)
        return unexpected(p, "a number");
    if (!ok || (neg && p->field != F_SEEN) ||
        (p->field == F_SEEN && !neg && v > (uint64_t)INT64_MAX) ||
        (p->field == F_FP_LEN && v > FILE_IDENTITY_MAX_BYTES) ||
        (p->field == F_TAIL_LEN && (v < 1 || v > FILE_IDENTITY_TAIL_BYTES)))
        return BAD(p, "\"%s\": %.*s is out of range", field_names[p->field],
                   (int)(len > 40 ? 40 : len), s);
    switch (p->field) {
    case F_DEV:
        p->cur.id.dev = v;
        break;
    case F_INO:
        p->cur.id.ino = v;
        break;
    case F_FP_LEN:
        p->cur.id.fp_len = (uint32_t)v;
        break;
    case F_OFFSET:
        p->cur.offset = v;
        break;
    case F_TAIL_LEN:
        p->cur.id.tail_len = (uint32_t)v;
        break;
    case F_TAIL_AT:
        p->cur.id.tail_at = v;
        break;
    default: /* F_SEEN */
        p->cur.seen = neg ? -(int64_t)v : (int64_t)v;
        break;
    }
    p->st = P_ENTRY;
    return good(p);
}

/* yajl lets \\uD800 through as bytes that are not UTF-8; the writer
 * would turn them into U+FFFD, so such a path would not survive a save. */
static bool valid_utf8(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = s[i] < 0x80 ? 1 : sl_utf8_seq_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct parser *p = ctx;
    if (p->st != P_FIELD || (p->field != F_FP && p->field != F_KEY &&
                             p->field != F_PATH && p->field != F_TAIL))
        return unexpected(p, "a string");
    if (p->field == F_FP || p->field == F_KEY || p->field == F_TAIL) {
        uint64_t v = 0;
        for (size_t i = 0; i < len && len == 16; i++) {
            int d = sl_ascii_hex_value(s[i]);
            if (d < 0)
                len = 0;
            v = v << 4 | (uint64_t)(d & 15);
        }
        if (len != 16)
            return BAD(p, "\"%s\": expected 16 hex digits",
                       field_names[p->field]);
        if (p->field == F_FP)
            p->cur.id.fp = v;
        else if (p->field == F_TAIL)
            p->cur.id.tail = v;
        else
            p->cur.key = v;
    } else {
        if (len == 0 || len > REGISTRY_MAX_PATH || memchr(s, '\0', len))
            return BAD(p, "\"path\": expected 1 to %d bytes and no NUL",
                       REGISTRY_MAX_PATH);
        if (!valid_utf8(s, len))
            return BAD(p, "\"path\": not valid UTF-8 (a lone surrogate?)");
        char *path = malloc(len + 1);
        if (path == NULL)
            return fail_at(p, here(p), SL_ENOMEM, false, "out of memory");
        memcpy(path, s, len);
        path[len] = '\0';
        p->cur.path = path;
    }
    p->st = P_ENTRY;
    return good(p);
}

static int on_start_map(void *ctx)
{
    struct parser *p = ctx;
    if (p->st == P_START) {
        p->st = P_TOP;
        return good(p);
    }
    if (p->st != P_ENTRIES)
        return unexpected(p, "an object");
    if (registry_count(p->r) >= REGISTRY_MAX_ENTRIES)
        return fail_at(p, here(p), SL_ELIMIT, true, "more than %d entries",
                       REGISTRY_MAX_ENTRIES);
    memset(&p->cur, 0, sizeof p->cur);
    p->fields = 0;
    p->ncuts = 0;
    p->st = P_ENTRY;
    return good(p);
}

static int on_key(void *ctx, const unsigned char *k, size_t len)
{
    struct parser *p = ctx;
    const char *what = p->st == P_TOP ? "" : "entry ";
    if (p->st == P_TOP) {
        bool ver = len == 7 && memcmp(k, "version", 7) == 0;
        bool ent = len == 7 && memcmp(k, "entries", 7) == 0;
        if ((ver && p->have_version) || (ent && p->have_entries))
            return BAD(p, "duplicate key \"%.*s\"", (int)len, k);
        if (ver) {
            p->st = P_VERSION;
            return good(p);
        }
        if (ent && !p->have_version)
            return BAD(p, "expected \"version\" before \"entries\"");
        if (ent) {
            p->have_entries = true;
            p->st = P_LIST;
            return good(p);
        }
    } else {
        for (int f = 0; f < F_N; f++) {
            if (field_len[f] != len || memcmp(field_names[f], k, len) != 0)
                continue;
            if (p->fields & (1u << f))
                return BAD(p, "duplicate key \"%s\"", field_names[f]);
            p->fields |= 1u << f;
            p->field = (enum field)f;
            p->st = P_FIELD;
            return good(p);
        }
    }
    return BAD(p, "unknown %skey \"%.*s\"", what, (int)(len > 40 ? 40 : len),
               k);
}

static int end_entry(struct parser *p)
{
    for (int f = 0; f < F_TAIL; f++)
        if (!(p->fields & (1u << f)))
            return BAD(p, "entry without \"%s\"", field_names[f]);
    unsigned tail = p->fields & TAIL_FIELDS;
    if (tail != 0 && tail != TAIL_FIELDS)
        return BAD(p, "\"tail\", \"tail_len\" and \"tail_at\" go together");
    if (tail != 0 && p->cur.id.tail_at < p->cur.id.tail_len)
        return BAD(p, "\"tail_at\" is less than \"tail_len\"");
    if (registry_get(p->r, p->cur.id.dev, p->cur.id.ino) != NULL)
        return BAD(p, "a second entry for device %llu inode %llu",
                   (unsigned long long)p->cur.id.dev,
                   (unsigned long long)p->cur.id.ino);
    if (p->ncuts > 0 && p->cuts[0] <= p->cur.offset)
        return BAD(p, "\"cuts\": %llu is not past the offset",
                   (unsigned long long)p->cuts[0]);
    struct sl_err e;
    if (registry_insert(p->r, &p->cur, &e) < 0)
        return fail_at(p, here(p), SL_ENOMEM, false, "out of memory");
    p->cur.path = NULL; /* the table has it */
    for (size_t i = 0; i < p->ncuts; i++)
        if (registry_cut_insert(p->r, p->cur.key, p->cuts[i], 0, &e) < 0)
            return fail_at(p, here(p), e.status, e.status == SL_ELIMIT, "%s",
                           e.msg);
    p->st = P_ENTRIES;
    return good(p);
}

static int on_end_map(void *ctx)
{
    struct parser *p = ctx;
    if (p->st == P_ENTRY)
        return end_entry(p);
    /* P_TOP: yajl only calls this where a key could be */
    if (!p->have_entries)
        return BAD(p, "no \"%s\" key", p->have_version ? "entries" : "version");
    p->st = P_DONE;
    return good(p);
}

static int on_start_array(void *ctx)
{
    struct parser *p = ctx;
    if (p->st == P_FIELD && p->field == F_CUTS) {
        p->st = P_CUTS;
        return good(p);
    }
    if (p->st != P_LIST)
        return unexpected(p, "an array");
    p->st = P_ENTRIES;
    return good(p);
}

static int on_end_array(void *ctx)
{
    struct parser *p = ctx; /* only P_ENTRIES and P_CUTS open one */
    p->st = p->st == P_CUTS ? P_ENTRY : P_TOP;
    return good(p);
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,       NULL,           on_number,   on_string,
    on_start_map, on_key,  on_end_map, on_start_array, on_end_array};

/* Line and column (1-based, in bytes) of file offset off, which is in the
 * current chunk or just past it. */
static void line_col(const struct parser *p, uint64_t off, unsigned *line,
                     unsigned *col)
{
    unsigned l = p->line;
    uint64_t start = p->line_start;
    for (uint64_t i = p->base; i < off && i - p->base < p->chunk_len; i++)
        if (p->chunk[i - p->base] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (unsigned)(off - start + 1);
}

/* Moves the position past the chunk parsed completely. */
static void advance(struct parser *p)
{
    line_col(p, p->base + p->chunk_len, &p->line, &(unsigned){0});
    const char *nl = NULL;
    for (size_t i = p->chunk_len; i > 0 && nl == NULL; i--)
        if (p->chunk[i - 1] == '\n')
            nl = p->chunk + i - 1;
    if (nl != NULL)
        p->line_start = p->base + (uint64_t)(nl - p->chunk) + 1;
    p->base += p->chunk_len;
    p->chunk_len = 0;
}

/* A syntax error from yajl itself, at the byte where it stopped. */
static void syntax_error(struct parser *p)
{
    unsigned char *m = yajl_get_error(p->h, 0, NULL, 0);
    const char *s = m != NULL ? (const char *)m : "syntax error";
    size_t n = strcspn(s, "\n");
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (strncmp(s, "parse error: ", 13) == 0 && n >= 13) {
        s += 13;
        n -= 13;
    }
    bool lexical = strncmp(s, "lexical error: ", 15) == 0 && n >= 15;
    if (lexical) { /* "lexical error: invalid char in json text." */
        s += 15;
        n -= 15;
    }
    while (n > 0 && s[n - 1] == '.')
        n--;
    fail_at(p, token_start(p, here(p)), SL_EPARSE, true, "%s%.*s%s",
            lexical ? "not JSON (" : "", (int)n, s, lexical ? ")" : "");
    if (m != NULL)
        yajl_free_error(p->h, m);
}

static int feed(struct parser *p, const char *buf, size_t len)
{
    p->chunk = buf;
    p->chunk_len = len;
    yajl_status st = yajl_parse(p->h, (const unsigned char *)buf, len);
    if (st == yajl_status_error && !p->failed)
        syntax_error(p);
    if (p->failed)
        return -1;
    advance(p);
    return 0;
}

static int finish(struct parser *p)
{
    yajl_status st = yajl_complete_parse(p->h);
    if (p->failed)
        return -1;
    if (st == yajl_status_ok && p->st == P_DONE)
        return 0;
    fail_at(p, p->base, SL_EPARSE, true, "%s",
            p->base == 0 ? "the file is empty"
                         : "the file ends early (truncated?)");
    return -1;
}

static int parser_init(struct parser *p, const char *name,
                       const struct registry_config *cfg, struct sl_err *err)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->line = 1;
    p->r = registry_new(cfg, err);
    if (p->r == NULL)
        return -1;
    p->h = yajl_alloc(&callbacks, NULL, p);
    if (p->h == NULL) {
        registry_free(p->r);
        return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
    }
    return 0;
}

/* Frees the parser; returns the registry, or NULL with err set from the
 * first failure. */
static struct registry *parser_done(struct parser *p, bool ok,
                                    struct sl_err *err)
{
    struct registry *r = p->r;
    free(p->cur.path);
    free(p->cuts);
    if (!ok && p->failed) {
        unsigned line, col;
        line_col(p, p->err_off, &line, &col);
        if (p->damaged || p->aside)
            sl_err_set(err, p->status,
                       "%s:%u:%u: %s%s: mv %s %s.damaged (every file is then "
                       "new to the shipper: read from its start, or its end "
                       "with start_at \"end\")",
                       p->name, line, col, p->msg,
                       p->damaged ? "; the registry is damaged: fix it, or "
                                    "move it aside to start over"
                                  : "",
                       p->name, p->name);
        else
            sl_err_set(err, p->status, "%s:%u:%u: %s", p->name, line, col,
                       p->msg);
    }
    yajl_free(p->h);
    if (!ok) {
        registry_free(r);
        return NULL;
    }
    return r;
}

struct registry *registry_load_buffer(const char *name, const char *buf,
                                      size_t len,
                                      const struct registry_config *cfg,
                                      struct sl_err *err)
{
    struct parser p;
    if (parser_init(&p, name, cfg, err) < 0)
        return NULL;
    bool ok = feed(&p, buf, len) == 0 && finish(&p) == 0;
    return parser_done(&p, ok, err);
}

struct registry *registry_load(const char *path,
                               const struct registry_config *cfg, bool *created,
                               struct sl_err *err)
{
    char tmp[REGISTRY_MAX_PATH + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        sl_err_set(err, SL_EINVAL, "registry path too long: '%s'", path);
        return NULL;
    }
    /* A .tmp is a save that did not reach its rename: never the truth. */
    unlink(tmp);
    if (created != NULL)
        *created = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (created != NULL)
            *created = true;
        return registry_new(cfg, err);
    }
    if (fd < 0) {
        sl_err_set(err, SL_EIO, "cannot open registry '%s': %s", path,
                   sl_strerror(errno));
        return NULL;
    }
    struct parser p;
    char *buf = malloc(IO_CHUNK);
    if (buf == NULL || parser_init(&p, path, cfg, err) < 0) {
        if (buf == NULL)
            sl_err_set(err, SL_ENOMEM, "registry: out of memory");
        free(buf);
        close(fd);
        return NULL;
    }
    bool ok = true;
    for (;;) {
        ssize_t n = sl_file_read_full(fd, buf, IO_CHUNK);
        if (n < 0) {
            fail_at(&p, p.base, SL_EIO, false, "cannot read: %s",
                    sl_strerror(errno));
            ok = false;
            break;
        }
        if (n == 0 || feed(&p, buf, (size_t)n) < 0) {
            ok = n == 0 && finish(&p) == 0;
            break;
        }
    }
    close(fd);
    struct registry *r = parser_done(&p, ok, err); /* reads buf */
    free(buf);
    return r;
}
