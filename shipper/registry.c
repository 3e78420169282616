/* registry.c: acknowledged offsets per file identity, in memory and on disk
 * (the contract is in registry.h).
 *
 * In memory: an open-addressing hash table keyed by device + inode, linear
 * probing, at most 3/4 full, with backward-shift deletion (no tombstones, so
 * a year of expiries never slows lookups). A slot is free when its path is
 * NULL: every entry has a path.
 *
 * On disk: JSON, one entry per line, written through a 64 KiB buffer (the
 * shipper's memory does not grow with the registry's file size) and read
 * with yajl's callback parser in 64 KiB chunks for the same reason. The
 * reader accepts exactly what the writer writes (keys in any order inside
 * an entry, "version" first at the top): a registry is not edited by hand
 * often, and when it is, an error with a position beats a guess. Numbers are
 * taken as raw text (yajl_number) so 64-bit inodes above LLONG_MAX load.
 *
 * Not done here: deciding whether a file on disk is an entry's file
 * (input/file_identity), when to save (the caller rate-limits), locking
 * against a second shipper on the same registry (the daemon's job). */
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "sl_json.h"

#define IO_CHUNK (64 * 1024)

struct registry {
    struct registry_config cfg;
    struct registry_entry *slots; /* cap slots; free when path == NULL */
    size_t cap;                   /* a power of two, or 0 */
    size_t count;
};

/* ---- the table ---------------------------------------------------------- */

static uint64_t key_hash(uint64_t dev, uint64_t ino)
{
    /* splitmix64's finalizer: inodes are often sequential */
    uint64_t z = ino ^ (dev * 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The slot of dev + ino, or the free slot where it would go. cap > 0. */
static size_t find_slot(const struct registry *r, uint64_t dev, uint64_t ino)
{
    size_t mask = r->cap - 1;
    size_t i = (size_t)key_hash(dev, ino) & mask;
    while (r->slots[i].path != NULL &&
           (r->slots[i].id.dev != dev || r->slots[i].id.ino != ino))
        i = (i + 1) & mask;
    return i;
}

static int grow(struct registry *r, struct sl_err *err)
{
    size_t ncap = r->cap ? r->cap * 2 : 64;
    struct registry_entry *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
    struct registry_entry *old = r->slots;
    size_t ocap = r->cap;
    r->slots = ns;
    r->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].path != NULL)
            r->slots[find_slot(r, old[i].id.dev, old[i].id.ino)] = old[i];
    free(old);
    return 0;
}

/* Inserts e (not present; the table takes its path). */
static int insert(struct registry *r, const struct registry_entry *e,
                  struct sl_err *err)
{
    if ((r->count + 1) * 4 > r->cap * 3 && grow(r, err) < 0)
        return -1;
    r->slots[find_slot(r, e->id.dev, e->id.ino)] = *e;
    r->count++;
    return 0;
}

/* Empties slot i and shifts the entries after it back into place. */
static void remove_at(struct registry *r, size_t i)
{
    size_t mask = r->cap - 1;
    free(r->slots[i].path);
    for (size_t j = (i + 1) & mask; r->slots[j].path != NULL;
         j = (j + 1) & mask) {
        size_t home =
            (size_t)key_hash(r->slots[j].id.dev, r->slots[j].id.ino) & mask;
        /* j may move to i only if its home is not in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            r->slots[i] = r->slots[j];
            i = j;
        }
    }
    memset(&r->slots[i], 0, sizeof r->slots[i]);
    r->count--;
}

void registry_config_init(struct registry_config *cfg)
{
    cfg->ttl_s = REGISTRY_DEFAULT_TTL_S;
    cfg->fp_bytes = FILE_IDENTITY_DEFAULT_BYTES;
}

struct registry *registry_new(const struct registry_config *cfg,
                              struct sl_err *err)
{
    if (cfg->ttl_s < 1 || cfg->fp_bytes < 1 ||
        cfg->fp_bytes > FILE_IDENTITY_MAX_BYTES) {
        sl_err_set(err, SL_EINVAL,
                   "registry: ttl must be at least 1 s and the fingerprint "
                   "1 to %u bytes",
                   (unsigned)FILE_IDENTITY_MAX_BYTES);
        return NULL;
    }
    struct registry *r = calloc(1, sizeof *r);
    if (r == NULL) {
        sl_err_set(err, SL_ENOMEM, "registry: out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    return r;
}

void registry_free(struct registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->cap; i++)
        free(r->slots[i].path);
    free(r->slots);
    free(r);
}

size_t registry_count(const struct registry *r)
{
    return r->count;
}

const struct registry_entry *registry_get(const struct registry *r,
                                          uint64_t dev, uint64_t ino)
{
    if (r->count == 0)
        return NULL;
    const struct registry_entry *e = &r->slots[find_slot(r, dev, ino)];
    return e->path != NULL ? e : NULL;
}

const struct registry_entry *registry_next(const struct registry *r,
                                           size_t *cursor)
{
    while (*cursor < r->cap) {
        const struct registry_entry *e = &r->slots[(*cursor)++];
        if (e->path != NULL)
            return e;
    }
    return NULL;
}

/* Points *slot at a copy of path unless it already holds it. */
static int set_path(char **slot, const char *path, struct sl_err *err)
{
    if (*slot != NULL && strcmp(*slot, path) == 0)
        return 0;
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (p == NULL)
        return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
    memcpy(p, path, n + 1);
    free(*slot);
    *slot = p;
    return 0;
}

int registry_ack(struct registry *r, const struct file_identity *id,
                 const char *path, uint64_t offset, int64_t now,
                 struct sl_err *err)
{
    size_t plen = path != NULL ? strlen(path) : 0;
    if (plen == 0 || plen > REGISTRY_MAX_PATH)
        return sl_err_set(err, SL_EINVAL,
                          "registry: ack needs a path of 1 to %d bytes",
                          REGISTRY_MAX_PATH);
    if (offset > id->fp_len && id->fp_len < r->cfg.fp_bytes)
        return sl_err_set(err, SL_EINVAL,
                          "registry: '%s': offset %llu passes the %u bytes "
                          "the identity covers; compute it again after "
                          "reading",
                          path, (unsigned long long)offset, id->fp_len);
    struct registry_entry *e =
        r->count > 0 ? &r->slots[find_slot(r, id->dev, id->ino)] : NULL;
    if (e != NULL && e->path != NULL) {
        if (e->id.fp_len == id->fp_len && e->id.fp != id->fp)
            return sl_err_set(err, SL_EINVAL,
                              "registry: '%s': another file has this inode "
                              "(fingerprint differs); forget the old entry "
                              "first",
                              path);
        if (offset < e->offset)
            return sl_err_set(err, SL_EINVAL,
                              "registry: '%s': offset would go back from "
                              "%llu to %llu",
                              path, (unsigned long long)e->offset,
                              (unsigned long long)offset);
        if (set_path(&e->path, path, err) < 0)
            return -1;
        e->id = *id;
        e->offset = offset;
        e->seen = now;
        return 0;
    }
    struct registry_entry ne = {*id, offset, now, NULL};
    if (set_path(&ne.path, path, err) < 0)
        return -1;
    if (insert(r, &ne, err) < 0) {
        free(ne.path);
        return -1;
    }
    return 0;
}

int registry_touch(struct registry *r, uint64_t dev, uint64_t ino,
                   const char *path, int64_t now, struct sl_err *err)
{
    if (r->count == 0)
        return 0;
    struct registry_entry *e = &r->slots[find_slot(r, dev, ino)];
    if (e->path == NULL)
        return 0;
    if (path != NULL && path[0] != '\0' && strlen(path) <= REGISTRY_MAX_PATH &&
        set_path(&e->path, path, err) < 0)
        return -1;
    e->seen = now;
    return 1;
}

void registry_forget(struct registry *r, uint64_t dev, uint64_t ino)
{
    if (r->count == 0)
        return;
    size_t i = find_slot(r, dev, ino);
    if (r->slots[i].path != NULL)
        remove_at(r, i);
}

size_t registry_expire(struct registry *r, int64_t now)
{
    if (now < INT64_MIN + r->cfg.ttl_s)
        return 0;
    int64_t oldest = now - r->cfg.ttl_s;
    size_t n = 0;
    /* remove_at() may shift a later entry into slot i: look at i again.
     * An entry shifted from the wrapped start to the end is looked at
     * twice, which is harmless. */
    for (size_t i = 0; i < r->cap;) {
        if (r->slots[i].path != NULL && r->slots[i].seen < oldest) {
            remove_at(r, i);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

/* ---- writing ------------------------------------------------------------ */

/* Where the text goes: a buffer, flushed to fd (if >= 0) past IO_CHUNK. */
struct sink {
    struct sl_buf *b;
    int fd;
    const char *name;
};

static int sink_flush(struct sink *s, struct sl_err *err)
{
    size_t off = 0;
    while (off < s->b->len) {
        ssize_t n = write(s->fd, s->b->ptr + off, s->b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl_err_set(err, SL_EIO, "cannot write '%s': %s", s->name,
                              strerror(errno));
        off += (size_t)n;
    }
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

static int write_entry(struct sl_buf *b, const struct registry_entry *e,
                       struct sl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    if (sl_buf_reserve(b, 200, err) < 0)
        return -1;
    char *p = b->ptr + b->len;
    p = put_u64(PUT_LIT(p, "{\"dev\":"), e->id.dev);
    p = put_u64(PUT_LIT(p, ",\"ino\":"), e->id.ino);
    p = PUT_LIT(p, ",\"fp\":\"");
    for (int sh = 60; sh >= 0; sh -= 4)
        *p++ = hex[(e->id.fp >> sh) & 15];
    p = put_u64(PUT_LIT(p, "\",\"fp_len\":"), e->id.fp_len);
    p = put_u64(PUT_LIT(p, ",\"offset\":"), e->offset);
    p = PUT_LIT(p, ",\"seen\":");
    if (e->seen < 0)
        *p++ = '-';
    p = put_u64(p, e->seen < 0 ? 0 - (uint64_t)e->seen : (uint64_t)e->seen);
    p = PUT_LIT(p, ",\"path\":");
    b->len = (size_t)(p - b->ptr);
    if (sl_json_write_string(b, e->path, strlen(e->path), err) < 0)
        return -1;
    return sl_buf_append_char(b, '}', err);
}

static int write_all(const struct registry *r, struct sink *s,
                     struct sl_err *err)
{
    if (sl_buf_append_str(s->b, "{\"version\":1,\"entries\":[", err) < 0)
        return -1;
    const char *sep = "\n";
    size_t cur = 0;
    const struct registry_entry *e;
    while ((e = registry_next(r, &cur)) != NULL) {
        if (sl_buf_append_str(s->b, sep, err) < 0 ||
            write_entry(s->b, e, err) < 0)
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
    return write_all(r, &s, err);
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
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return sl_err_set(err, SL_EIO, "cannot sync directory '%s': %s", dir,
                          strerror(e));
    }
    close(fd);
    return 0;
}

int registry_save(const struct registry *r, const char *path,
                  struct sl_err *err)
{
    char tmp[REGISTRY_MAX_PATH + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return sl_err_set(err, SL_EINVAL, "registry path too long: '%s'", path);
    struct sl_buf b = SL_BUF_INIT(2 * IO_CHUNK);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        sl_err_set(err, SL_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    struct sink s = {&b, fd, tmp};
    if (write_all(r, &s, err) < 0)
        goto fail;
    if (fsync(fd) < 0) {
        sl_err_set(err, SL_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc < 0) {
        sl_err_set(err, SL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        sl_err_set(err, SL_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                   strerror(errno));
        goto fail;
    }
    sl_buf_release(&b);
    return sync_dir(path, err);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    sl_buf_release(&b);
    return -1;
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
    P_DONE     /* after the top-level object */
};

enum field { F_DEV, F_INO, F_FP, F_FP_LEN, F_OFFSET, F_SEEN, F_PATH, F_N };

static const char *const field_names[F_N] = {"dev",    "ino",  "fp",  "fp_len",
                                             "offset", "seen", "path"};
static const size_t field_len[F_N] = {3, 3, 2, 6, 6, 4, 4};

struct parser {
    const char *name;
    struct registry *r;
    yajl_handle h;
    enum pstate st;
    bool have_version, have_entries;
    enum field field;
    unsigned fields; /* bit per field seen in the current entry */
    struct registry_entry cur;
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
    case P_FIELD:
        return p->field == F_FP     ? "16 hex digits in a string"
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
    if (neg || v != REGISTRY_VERSION)
        return fail_at(p, token_start(p, here(p)), SL_EPARSE, false,
                       "registry format version %s%llu, this sluice-shipper "
                       "reads version %d; run the sluice-shipper that wrote "
                       "it, or move the file aside to start over (every file "
                       "is then shipped again from its start)",
                       neg ? "-" : "", (unsigned long long)v, REGISTRY_VERSION);
    p->have_version = true;
    p->st = P_TOP;
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
    if (p->st != P_FIELD || p->field == F_FP || p->field == F_PATH)
        return unexpected(p, "a number");
    if (!ok || (neg && p->field != F_SEEN) ||
        (p->field == F_SEEN && !neg && v > (uint64_t)INT64_MAX) ||
        (p->field == F_FP_LEN && v > FILE_IDENTITY_MAX_BYTES))
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
    default: /* F_SEEN */
        p->cur.seen = neg ? -(int64_t)v : (int64_t)v;
        break;
    }
    p->st = P_ENTRY;
    return good(p);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
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
    if (p->st != P_FIELD || (p->field != F_FP && p->field != F_PATH))
        return unexpected(p, "a string");
    if (p->field == F_FP) {
        uint64_t v = 0;
        for (size_t i = 0; i < len && len == 16; i++) {
            int d = hex_digit(s[i]);
            if (d < 0)
                len = 0;
            v = v << 4 | (uint64_t)(d & 15);
        }
        if (len != 16)
            return BAD(p, "\"fp\": expected 16 hex digits");
        p->cur.id.fp = v;
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
    if (p->r->count >= REGISTRY_MAX_ENTRIES)
        return fail_at(p, here(p), SL_ELIMIT, true, "more than %d entries",
                       REGISTRY_MAX_ENTRIES);
    memset(&p->cur, 0, sizeof p->cur);
    p->fields = 0;
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
    for (int f = 0; f < F_N; f++)
        if (!(p->fields & (1u << f)))
            return BAD(p, "entry without \"%s\"", field_names[f]);
    if (registry_get(p->r, p->cur.id.dev, p->cur.id.ino) != NULL)
        return BAD(p, "a second entry for device %llu inode %llu",
                   (unsigned long long)p->cur.id.dev,
                   (unsigned long long)p->cur.id.ino);
    struct sl_err e;
    if (insert(p->r, &p->cur, &e) < 0)
        return fail_at(p, here(p), SL_ENOMEM, false, "out of memory");
    p->cur.path = NULL; /* the table has it */
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
    if (p->st != P_LIST)
        return unexpected(p, "an array");
    p->st = P_ENTRIES;
    return good(p);
}

static int on_end_array(void *ctx)
{
    struct parser *p = ctx; /* only P_ENTRIES: others never open one */
    p->st = P_TOP;
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
    fail_at(p, token_start(p, here(p)), SL_EPARSE, true, "%.*s", (int)n, s);
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
    if (!ok && p->failed) {
        unsigned line, col;
        line_col(p, p->err_off, &line, &col);
        sl_err_set(err, p->status, "%s:%u:%u: %s%s", p->name, line, col, p->msg,
                   p->damaged ? "; the registry is damaged: fix it, or move "
                                "it aside to start over (every file is then "
                                "shipped again from its start)"
                              : "");
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
                   strerror(errno));
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
        ssize_t n = read(fd, buf, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail_at(&p, p.base, SL_EIO, false, "cannot read: %s",
                    strerror(errno));
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
