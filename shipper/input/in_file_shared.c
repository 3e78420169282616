/* in_file_shared.c: the acks of a key that more than one registry entry
 * holds (registry.h, "Shared keys").
 *
 * A copytruncate's copy is read under its original's key, from where the
 * original was read, and its entry starts at the original's acknowledged
 * offset (in_file_rotate.c): the bytes are the same at the same offsets,
 * so one ack stands for both. But the acks name the original, and they
 * keep coming after the copy's entry was made: for the batches in flight
 * when the truncation was seen (the original's entry has a new key by
 * then: those acks find nothing), and while a copy found before the
 * truncation is held (they move the original's entry only). Left there,
 * the copy's entry and the ghost that finds it stay behind, and a restart
 * (after a SIGTERM too) reads the copy again from there: every line
 * between sent a second time. So each ack of a key also moves:
 *  - this input's ghosts of that key (what a copy not found yet starts
 *    at), in memory and their entries on disk, up to where the original
 *    was read when it was truncated;
 *  - the entries of the copies that took the key (shares_key), when the
 *    copy holds the bytes up to the ack's offset (a copy being written,
 *    or one that ends before it, is left as it is: an offset moved to its
 *    end would be in the middle of a line, read as a line of its own
 *    after a kill), and once more when a held copy is let go, to where
 *    its original was acknowledged;
 * never past a short fingerprint (the registry's rule). A copy shares its
 * original's acks for IN_FILE_GHOST_MS after it was found, as long as a
 * ghost is kept: acks come seconds after the reads. */
#include "in_file_priv.h"

#include <stdlib.h>

#include "sl_log.h"

/* Moves the entry of dev + ino, if it has key, forward to offset (within
 * its fingerprint): whether it moved. */
static bool move_entry(struct in_file *in, uint64_t dev, uint64_t ino,
                       uint64_t key, uint64_t offset, int64_t now)
{
    const struct registry_entry *e = registry_get(in->reg, dev, ino);
    if (e == NULL || e->key != key)
        return false;
    struct file_identity id = e->id;
    if (id.fp_len < in->fp_bytes && offset > id.fp_len)
        offset = id.fp_len;
    if (offset <= e->offset)
        return false;
    struct sl_err err = {0};
    int rc = registry_ack(in->reg, &id, key, NULL, offset, now, &err);
    if (rc < 0)
        SL_DEBUG(in->comp, "a shared key's ack not recorded: %s", err.msg);
    return rc > 0;
}

bool in_file_shared_ack(void *ctx, const struct file_identity *id, uint64_t key,
                        uint64_t offset, int64_t now)
{
    struct in_file *in = ctx;
    bool moved = false;
    for (size_t i = 0; i < in->nghosts; i++) {
        struct ghost *g = &in->ghosts[i];
        if (g->key != key)
            continue;
        if (offset > g->offset || offset <= g->acked)
            continue;
        g->acked = offset;
        moved |= move_entry(in, g->id.dev, in_file_ghost_ino(&g->id, key), key,
                            offset, now);
    }
    /* the copies that share keys (all records if one could not be
     * listed, out of memory) */
    bool all = in->shared_all && in->nshared > 0;
    size_t n = all ? in->nrecs : in->nshared;
    for (size_t i = 0; i < n; i++) {
        const struct rec *c = all ? in->recs[i] : in->shared[i];
        if (!c->shares_key || c->pub.key != key ||
            (c->dev == id->dev && c->ino == id->ino))
            continue;
        uint64_t has = c->copy_of != NULL ? c->held_size : c->offset;
        if (c->size_seen > has)
            has = c->size_seen;
        if (offset <= has)
            moved |= move_entry(in, c->dev, c->ino, key, offset, now);
    }
    return moved;
}

void in_file_copy_acked(struct in_file *in, const struct rec *c, uint64_t acked,
                        uint64_t size)
{
    if (c->shares_key && acked <= size)
        (void)move_entry(in, c->dev, c->ino, c->pub.key, acked,
                         in_file_wall_s());
}

void in_file_share_key(struct in_file *in, struct rec *r, int64_t now)
{
    if (!r->shares_key && in->nshared == in->capshared) {
        size_t cap = in->capshared == 0 ? 8 : in->capshared * 2;
        struct rec **a = realloc(in->shared, cap * sizeof *a);
        if (a != NULL) {
            in->shared = a;
            in->capshared = cap;
        }
    }
    if (!r->shares_key && in->nshared < in->capshared) {
        r->share_slot = (uint32_t)in->nshared;
        in->shared[in->nshared] = r;
    } else if (!r->shares_key) {
        r->share_slot = UINT32_MAX; /* not listed: acks walk every file */
        in->shared_all = true;
    }
    if (!r->shares_key)
        in->nshared++;
    r->shares_key = true;
    r->share_end = now + IN_FILE_GHOST_MS;
}

void in_file_unshare_key(struct in_file *in, struct rec *r)
{
    if (!r->shares_key)
        return;
    r->shares_key = false;
    in->nshared--;
    if (r->share_slot < in->nshared && !in->shared_all) {
        in->shared[r->share_slot] = in->shared[in->nshared];
        in->shared[r->share_slot]->share_slot = r->share_slot;
    }
    if (in->nshared == 0)
        in->shared_all = false; /* none left: listed again from here */
}
