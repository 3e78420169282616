/* in_file_fps.c: the input's identified files by fingerprint, so that a new
 * file finds the live files it may be a copy of (find_original in
 * in_file_rotate.c) in a few look-ups, not by comparing itself with every
 * file known.
 *
 * A new file is the copy of a live file l when its first l->id.fp_len
 * bytes hash to l->id.fp (and l's tail is there: checked on each match).
 * The new file's first bytes are read once, hashed at every length
 * (file_identity_compute_prefix); for each fingerprint length some file
 * here has, up to the new file's own, the files of that length and hash
 * are one chain of a hash table. The lengths in use are a bitmap: a
 * thousand one-line files hold a few dozen lengths.
 *
 * Before, each known file shorter than the new one cost a pread of the
 * new one's first bytes: 20,000 one-line files took 17 s to start, 10.7
 * of it in the kernel.
 *
 * The table keys a file by (fp_len, fp, has_entry): a file whose bytes
 * were all there before this process started can only be a copy of bytes
 * read before it, a file the registry had an entry for (find_original),
 * and looks up those only: a thousand per-job logs that begin with the
 * same line are not a thousand-long chain for each. Each record keeps the
 * key it is filed under, so that a change of its identity files it again
 * (in_file_fps_update after each). */
#include "in_file_priv.h"

#include <stdlib.h>
#include <string.h>

static size_t fps_slot(const struct in_file *in, uint32_t len, uint64_t fp,
                       bool entry)
{
    uint64_t h = fp ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull) ^ (uint64_t)entry;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)(h & (in->fps.cap - 1));
}

static void fps_link(struct in_file *in, struct rec *r)
{
    size_t s = fps_slot(in, r->fps_len, r->fps_fp, r->has_entry);
    r->fps_next = in->fps.table[s];
    if (r->fps_next != NULL)
        r->fps_next->fps_pprev = &r->fps_next;
    in->fps.table[s] = r;
    r->fps_pprev = &in->fps.table[s];
}

/* Room for one more: the table at most as many records as slots. */
static int fps_grow(struct in_file *in)
{
    size_t words = ((size_t)in->fp_bytes + 64) / 64;
    if (in->fps.lens == NULL)
        in->fps.lens = calloc((size_t)in->fp_bytes + 1, sizeof *in->fps.lens);
    if (in->fps.bits == NULL)
        in->fps.bits = calloc(words, sizeof *in->fps.bits);
    if (in->fps.pre == NULL)
        in->fps.pre = malloc(((size_t)in->fp_bytes + 1) * sizeof *in->fps.pre);
    if (in->fps.lens == NULL || in->fps.bits == NULL || in->fps.pre == NULL)
        return -1;
    if (in->fps.n < in->fps.cap)
        return 0;
    size_t cap = in->fps.cap == 0 ? 256 : in->fps.cap * 2;
    struct rec **t = calloc(cap, sizeof *t);
    if (t == NULL)
        return -1;
    struct rec **old = in->fps.table;
    size_t ocap = in->fps.cap;
    in->fps.table = t;
    in->fps.cap = cap;
    for (size_t i = 0; i < ocap; i++)
        for (struct rec *r = old[i], *next; r != NULL; r = next) {
            next = r->fps_next;
            fps_link(in, r);
        }
    free(old);
    return 0;
}

void in_file_fps_remove(struct in_file *in, struct rec *r)
{
    if (r->fps_len == 0)
        return;
    /* unlinked where it is, not found by a walk of its chain: files that
     * begin alike (per-job logs with one banner) share a chain, and
     * deleting 20,000 of them walked it for each (a third of the CPU) */
    *r->fps_pprev = r->fps_next;
    if (r->fps_next != NULL)
        r->fps_next->fps_pprev = r->fps_pprev;
    if (--in->fps.lens[r->fps_len] == 0)
        in->fps.bits[r->fps_len / 64] &= ~(1ull << (r->fps_len % 64));
    in->fps.n--;
    r->fps_len = 0;
    r->fps_next = NULL;
    r->fps_pprev = NULL;
}

int in_file_fps_update(struct in_file *in, struct rec *r)
{
    bool want = r->identified && r->state != REC_DONE && r->id.fp_len > 0 &&
                r->id.fp_len <= in->fp_bytes;
    if (r->fps_len != 0 &&
        (!want || r->fps_len != r->id.fp_len || r->fps_fp != r->id.fp))
        in_file_fps_remove(in, r);
    if (!want || r->fps_len != 0)
        return 0;
    if (fps_grow(in) < 0)
        return -1;
    r->fps_len = r->id.fp_len;
    r->fps_fp = r->id.fp;
    fps_link(in, r);
    if (in->fps.lens[r->fps_len]++ == 0)
        in->fps.bits[r->fps_len / 64] |= 1ull << (r->fps_len % 64);
    in->fps.n++;
    return 0;
}

uint64_t *in_file_fps_prefix(struct in_file *in)
{
    return fps_grow(in) < 0 ? NULL : in->fps.pre;
}

static int by_slot(const void *a, const void *b)
{
    const struct rec *x = *(struct rec *const *)a;
    const struct rec *y = *(struct rec *const *)b;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* Appends the records of chain (len, hash, entry) to in->fps.found. */
static int fps_collect(struct in_file *in, uint32_t len, uint64_t hash,
                       bool entry)
{
    for (struct rec *l = in->fps.table[fps_slot(in, len, hash, entry)];
         l != NULL; l = l->fps_next) {
        if (l->fps_len != len || l->fps_fp != hash || l->has_entry != entry)
            continue;
        if (in->fps.nfound == in->fps.capfound) {
            size_t cap = in->fps.capfound == 0 ? 16 : in->fps.capfound * 2;
            struct rec **f = realloc(in->fps.found, cap * sizeof *f);
            if (f == NULL)
                return -1;
            in->fps.found = f;
            in->fps.capfound = cap;
        }
        in->fps.found[in->fps.nfound++] = l;
    }
    return 0;
}

int in_file_fps_match(struct in_file *in, uint32_t len, const uint64_t *pre,
                      bool entry_only)
{
    in->fps.nfound = 0;
    if (in->fps.n == 0 || len == 0)
        return 0;
    uint32_t top = len < in->fp_bytes ? len : in->fp_bytes;
    for (size_t w = 0; w <= top / 64; w++) {
        uint64_t bits = in->fps.bits[w];
        while (bits != 0) {
            uint32_t k = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (k > top)
                break;
            if ((!entry_only && fps_collect(in, k, pre[k], false) < 0) ||
                fps_collect(in, k, pre[k], true) < 0)
                return -1;
        }
    }
    if (in->fps.nfound > 1)
        qsort(in->fps.found, in->fps.nfound, sizeof *in->fps.found, by_slot);
    return 0;
}

void in_file_fps_free(struct in_file *in)
{
    free(in->fps.table);
    free(in->fps.lens);
    free(in->fps.bits);
    free(in->fps.pre);
    free(in->fps.found);
    memset(&in->fps, 0, sizeof in->fps);
}
