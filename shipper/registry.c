/* registry.c: acknowledged offsets per file identity, in memory (the
 * contract is in registry.h; the file, registry.json, is registry_file.c).
 *
 * An open-addressing hash table keyed by device + inode, linear probing, at
 * most 3/4 full, with backward-shift deletion (no tombstones, so a year of
 * expiries never slows lookups). A slot is free when its path is NULL:
 * every entry has a path.
 *
 * Not done here: deciding whether a file on disk is an entry's file
 * (input/file_identity), when to save (the caller rate-limits), locking
 * against a second shipper on the same registry (the daemon's job). */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "registry_priv.h"

struct registry {
    struct registry_config cfg;
    struct registry_entry *slots; /* cap slots; free when path == NULL */
    size_t cap;                   /* a power of two, or 0 */
    size_t count;
    uint64_t added; /* registry_add() calls: new keys */
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

/* Inserts e (not present; the table takes its path): registry_priv.h. */
int registry_insert(struct registry *r, const struct registry_entry *e,
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

uint32_t registry_fp_bytes(const struct registry *r)
{
    return r->cfg.fp_bytes;
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

/* The checks add and ack share: a path, and an offset the identity covers. */
static int check_ack(const struct registry *r, const struct file_identity *id,
                     const char *path, uint64_t offset, struct sl_err *err)
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
    return 0;
}

int registry_add(struct registry *r, const struct file_identity *id,
                 uint64_t key, const char *path, uint64_t offset, int64_t now,
                 struct sl_err *err)
{
    if (check_ack(r, id, path, offset, err) < 0)
        return -1;
    if (registry_get(r, id->dev, id->ino) != NULL)
        return sl_err_set(err, SL_EINVAL,
                          "registry: '%s': device %llu inode %llu already "
                          "has an entry; forget it first",
                          path, (unsigned long long)id->dev,
                          (unsigned long long)id->ino);
    struct registry_entry ne = {*id, key, offset, now, NULL};
    if (set_path(&ne.path, path, err) < 0)
        return -1;
    if (registry_insert(r, &ne, err) < 0) {
        free(ne.path);
        return -1;
    }
    r->added++;
    return 0;
}

uint64_t registry_keys_added(const struct registry *r)
{
    return r->added;
}

int registry_ack(struct registry *r, const struct file_identity *id,
                 uint64_t key, const char *path, uint64_t offset, int64_t now,
                 struct sl_err *err)
{
    if (check_ack(r, id, path != NULL ? path : "-", offset, err) < 0)
        return -1;
    struct registry_entry *e =
        r->count > 0 ? &r->slots[find_slot(r, id->dev, id->ino)] : NULL;
    if (e == NULL || e->path == NULL || e->key != key)
        return 0;
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
    if (path != NULL && set_path(&e->path, path, err) < 0)
        return -1;
    e->id = *id;
    e->offset = offset;
    e->seen = now;
    return 1;
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
