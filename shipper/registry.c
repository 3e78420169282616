/* registry.c: acknowledged offsets per file identity, in memory (the
 * contract is in registry.h; the file, registry.json, is registry_file.c).
 *
 * The entries sit in one dense array (no free slots: 100,000 entries take
 * 100,000 places, grown by doubling) and an open-addressing index of
 * 32-bit positions in it, keyed by device + inode, linear probing, at most
 * 3/4 full, with backward-shift deletion (no tombstones, so a year of
 * expiries never slows lookups). An index slot holds position + 1; 0 is
 * free. Removing an entry moves the last one into its place (one index
 * slot updated), so iteration is a walk of the array. With 100,000
 * entries: 8 MiB of entries and 1 MiB of index, where a table of entries
 * at 3/4 load took 21 MiB.
 *
 * Cuts (registry.h) sit apart from the entries, in one array sorted by key
 * and offset: a file has one only between a timeout cut and the ack past
 * it, so most registries hold none, and a field in every entry would have
 * cost 8 bytes each (100,000 entries: 800 KiB) for nothing. Each ack of a
 * key looks at its cuts with a binary search; an entry removed may leave
 * its key's cuts without an entry (a copytruncate forgets the original
 * before its copy takes the key), so orphans are dropped only at an expiry
 * and when the array is full, and a save writes a cut only in the line of
 * an entry of its key.
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
    struct registry_entry *ents; /* count used, cap_ents allocated */
    size_t count, cap_ents;
    uint32_t *index; /* icap slots: position + 1, 0 free */
    size_t icap;     /* a power of two, or 0 */
    uint64_t added;  /* registry_add() calls: new keys */
    struct hook {
        registry_ack_hook fn;
        void *ctx;
    } * hooks;
    size_t nhooks;
    bool in_hook;              /* a hook's acks call no hook */
    struct registry_cut *cuts; /* ncuts, sorted by key then at */
    size_t ncuts, cap_cuts;
    uint64_t cuts_added; /* registry_cut_add() calls that made one */
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

static size_t home_of(const struct registry *r, const struct registry_entry *e)
{
    return (size_t)key_hash(e->id.dev, e->id.ino) & (r->icap - 1);
}

/* The index slot of dev + ino, or the free slot where it would go. */
static size_t find_slot(const struct registry *r, uint64_t dev, uint64_t ino)
{
    size_t mask = r->icap - 1;
    size_t i = (size_t)key_hash(dev, ino) & mask;
    for (; r->index[i] != 0; i = (i + 1) & mask) {
        const struct registry_entry *e = &r->ents[r->index[i] - 1];
        if (e->id.dev == dev && e->id.ino == ino)
            break;
    }
    return i;
}

/* The entry of dev + ino, or NULL. */
static struct registry_entry *find(const struct registry *r, uint64_t dev,
                                   uint64_t ino)
{
    if (r->count == 0)
        return NULL;
    uint32_t pos = r->index[find_slot(r, dev, ino)];
    return pos != 0 ? &r->ents[pos - 1] : NULL;
}

static int grow_index(struct registry *r, struct sl_err *err)
{
    size_t ncap = r->icap ? r->icap * 2 : 64;
    uint32_t *ni = calloc(ncap, sizeof *ni);
    if (ni == NULL)
        return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
    free(r->index);
    r->index = ni;
    r->icap = ncap;
    for (size_t k = 0; k < r->count; k++)
        r->index[find_slot(r, r->ents[k].id.dev, r->ents[k].id.ino)] =
            (uint32_t)(k + 1);
    return 0;
}

/* Inserts e (not present; the table takes its path): registry_priv.h. */
int registry_insert(struct registry *r, const struct registry_entry *e,
                    struct sl_err *err)
{
    if (r->count == r->cap_ents) {
        size_t ncap = r->cap_ents ? r->cap_ents * 2 : 32;
        struct registry_entry *ne = realloc(r->ents, ncap * sizeof *ne);
        if (ne == NULL)
            return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
        r->ents = ne;
        r->cap_ents = ncap;
    }
    if ((r->count + 1) * 4 > r->icap * 3 && grow_index(r, err) < 0)
        return -1;
    r->ents[r->count] = *e;
    r->index[find_slot(r, e->id.dev, e->id.ino)] = (uint32_t)(r->count + 1);
    r->count++;
    return 0;
}

/* Empties index slot i (backward shift: later slots of a probe run move
 * back so every one stays reachable from its home). */
static void index_remove(struct registry *r, size_t i)
{
    size_t mask = r->icap - 1;
    for (size_t j = (i + 1) & mask; r->index[j] != 0; j = (j + 1) & mask) {
        size_t home = home_of(r, &r->ents[r->index[j] - 1]);
        /* j may move to i only if its home is not in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            r->index[i] = r->index[j];
            i = j;
        }
    }
    r->index[i] = 0;
}

/* Removes the entry at index slot i; the last entry takes its place. */
static void remove_at(struct registry *r, size_t i)
{
    size_t pos = r->index[i] - 1;
    free(r->ents[pos].path);
    index_remove(r, i);
    size_t last = r->count - 1;
    if (pos != last) {
        r->ents[pos] = r->ents[last];
        r->index[find_slot(r, r->ents[pos].id.dev, r->ents[pos].id.ino)] =
            (uint32_t)(pos + 1);
    }
    memset(&r->ents[last], 0, sizeof r->ents[last]);
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
    for (size_t i = 0; i < r->count; i++)
        free(r->ents[i].path);
    free(r->ents);
    free(r->index);
    free(r->hooks);
    free(r->cuts);
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
    return find(r, dev, ino);
}

const struct registry_entry *registry_next(const struct registry *r,
                                           size_t *cursor)
{
    return *cursor < r->count ? &r->ents[(*cursor)++] : NULL;
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

int registry_hook_add(struct registry *r, registry_ack_hook fn, void *ctx,
                      struct sl_err *err)
{
    struct hook *h = realloc(r->hooks, (r->nhooks + 1) * sizeof *h);
    if (h == NULL)
        return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
    r->hooks = h;
    r->hooks[r->nhooks++] = (struct hook){fn, ctx};
    return 0;
}

void registry_hook_remove(struct registry *r, registry_ack_hook fn, void *ctx)
{
    for (size_t i = 0; i < r->nhooks; i++)
        if (r->hooks[i].fn == fn && r->hooks[i].ctx == ctx) {
            memmove(&r->hooks[i], &r->hooks[i + 1],
                    (r->nhooks - i - 1) * sizeof r->hooks[0]);
            r->nhooks--;
            return;
        }
}

/* ---- cuts --------------------------------------------------------------- */

/* The first cut at or after (key, at). */
static size_t cut_lower(const struct registry_cut *c, size_t n, uint64_t key,
                        uint64_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c[mid].key < key || (c[mid].key == key && c[mid].at < at))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t registry_cut_find(const struct registry_cut *cuts, size_t n,
                         uint64_t key, uint64_t after)
{
    if (after < UINT64_MAX)
        return cut_lower(cuts, n, key, after + 1);
    size_t i = cut_lower(cuts, n, key, after);
    while (i < n && cuts[i].key == key)
        i++;
    return i;
}

/* Drops the cuts of key at or before offset: the ack put them behind. */
static void cuts_ack(struct registry *r, uint64_t key, uint64_t offset)
{
    size_t from = cut_lower(r->cuts, r->ncuts, key, 0);
    size_t to = registry_cut_find(r->cuts, r->ncuts, key, offset);
    if (to == from)
        return;
    memmove(&r->cuts[from], &r->cuts[to], (r->ncuts - to) * sizeof r->cuts[0]);
    r->ncuts -= to - from;
}

/* Drops the cuts whose key no entry has: one pass over the entries. */
static void cuts_prune(struct registry *r)
{
    bool *live = calloc(r->ncuts, sizeof *live);
    if (live == NULL)
        return; /* tried again at the next expiry */
    for (size_t k = 0; k < r->count; k++) {
        uint64_t key = r->ents[k].key;
        for (size_t i = cut_lower(r->cuts, r->ncuts, key, 0);
             i < r->ncuts && r->cuts[i].key == key && !live[i]; i++)
            live[i] = true;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->ncuts; i++)
        if (live[i])
            r->cuts[n++] = r->cuts[i];
    r->ncuts = n;
    free(live);
}

int registry_cut_insert(struct registry *r, uint64_t key, uint64_t at,
                        uint64_t seq, struct sl_err *err)
{
    size_t i = cut_lower(r->cuts, r->ncuts, key, at);
    if (i < r->ncuts && r->cuts[i].key == key && r->cuts[i].at == at)
        return 0;
    if (r->ncuts >= REGISTRY_MAX_CUTS)
        return sl_err_set(err, SL_ELIMIT,
                          "registry: %d cuts wait for their acks already",
                          REGISTRY_MAX_CUTS);
    if (r->ncuts == r->cap_cuts) {
        size_t ncap = r->cap_cuts ? r->cap_cuts * 2 : 8;
        struct registry_cut *nc = realloc(r->cuts, ncap * sizeof *nc);
        if (nc == NULL)
            return sl_err_set(err, SL_ENOMEM, "registry: out of memory");
        r->cuts = nc;
        r->cap_cuts = ncap;
    }
    memmove(&r->cuts[i + 1], &r->cuts[i], (r->ncuts - i) * sizeof r->cuts[0]);
    r->cuts[i] = (struct registry_cut){key, at, seq};
    r->ncuts++;
    return 1;
}

int registry_cut_add(struct registry *r, uint64_t key, uint64_t at,
                     uint64_t *seq, struct sl_err *err)
{
    if (at == 0)
        return sl_err_set(err, SL_EINVAL, "registry: a cut at offset 0");
    size_t i = cut_lower(r->cuts, r->ncuts, key, at);
    if (i < r->ncuts && r->cuts[i].key == key && r->cuts[i].at == at) {
        *seq = r->cuts[i].seq;
        return 0;
    }
    if (r->ncuts >= REGISTRY_MAX_CUTS)
        cuts_prune(r);
    if (registry_cut_insert(r, key, at, r->cuts_added + 1, err) < 0)
        return -1;
    *seq = ++r->cuts_added;
    return 0;
}

uint64_t registry_cuts_added(const struct registry *r)
{
    return r->cuts_added;
}

size_t registry_cuts(const struct registry *r, uint64_t key, uint64_t after,
                     uint64_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = registry_cut_find(r->cuts, r->ncuts, key, after);
         i < r->ncuts && r->cuts[i].key == key; i++) {
        if (n < max)
            out[n] = r->cuts[i].at;
        n++;
    }
    return n;
}

const struct registry_cut *registry_cut_list(const struct registry *r,
                                             size_t *n)
{
    *n = r->ncuts;
    return r->cuts;
}

/* The ack of one entry (registry_ack without the hooks). */
static int ack_entry(struct registry *r, const struct file_identity *id,
                     uint64_t key, const char *path, uint64_t offset,
                     int64_t now, struct sl_err *err)
{
    struct registry_entry *e = find(r, id->dev, id->ino);
    if (e == NULL || e->key != key)
        return 0;
    const char *name = path != NULL ? path : e->path;
    if (e->id.fp_len == id->fp_len && e->id.fp != id->fp)
        return sl_err_set(err, SL_EINVAL,
                          "registry: '%s': another file has this inode "
                          "(fingerprint differs); forget the old entry "
                          "first",
                          name);
    if (offset < e->offset)
        return sl_err_set(err, SL_EINVAL,
                          "registry: '%s': offset would go back from "
                          "%llu to %llu",
                          name, (unsigned long long)e->offset,
                          (unsigned long long)offset);
    if (path != NULL && set_path(&e->path, path, err) < 0)
        return -1;
    e->id = *id;
    e->offset = offset;
    e->seen = now;
    return 1;
}

int registry_ack(struct registry *r, const struct file_identity *id,
                 uint64_t key, const char *path, uint64_t offset, int64_t now,
                 struct sl_err *err)
{
    if (check_ack(r, id, path != NULL ? path : "-", offset, err) < 0)
        return -1;
    int rc = ack_entry(r, id, key, path, offset, now, err);
    if (rc < 0)
        return rc;
    if (r->ncuts > 0)
        cuts_ack(r, key, offset);
    if (r->in_hook)
        return rc;
    r->in_hook = true;
    for (size_t i = 0; i < r->nhooks; i++)
        if (r->hooks[i].fn(r->hooks[i].ctx, id, key, offset, now))
            rc = 1;
    r->in_hook = false;
    return rc;
}

int registry_touch(struct registry *r, uint64_t dev, uint64_t ino,
                   const char *path, int64_t now, struct sl_err *err)
{
    struct registry_entry *e = find(r, dev, ino);
    if (e == NULL)
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
    if (r->index[i] != 0)
        remove_at(r, i);
}

size_t registry_expire(struct registry *r, int64_t now)
{
    if (now < INT64_MIN + r->cfg.ttl_s)
        return 0;
    int64_t oldest = now - r->cfg.ttl_s;
    size_t n = 0;
    if (r->ncuts > 0)
        cuts_prune(r);
    /* remove_at() moves the last entry into position k: look at k again */
    for (size_t k = 0; k < r->count;) {
        const struct registry_entry *e = &r->ents[k];
        if (e->seen < oldest) {
            remove_at(r, find_slot(r, e->id.dev, e->id.ino));
            n++;
        } else {
            k++;
        }
    }
    return n;
}
