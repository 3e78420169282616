/* in_file_carry.c: a truncated file's framing state carried to its copy
 * (copytruncate), so that an event being read when the file was emptied
 * stays one event.
 *
 * The caller's state of a file (src->user: its line reader and multiline
 * joiner) holds what it read and has not shipped: an unterminated last
 * line, an event whose next line has not come. When copytruncate empties
 * the file, its next bytes are in the copy, at the same offsets, under the
 * same key (in_file_rotate.c). Ended at the original's DONE, the joiner
 * shipped its part of the event alone and the copy's rest came as another
 * event. Carried, the copy's bytes go on in the same state: the event is
 * joined whole, with the id of its first line (the original's key and
 * offset), as it would have been without the rotation. Its registry marks
 * are as before: the first line of the event not shipped, under the key
 * the copy's entry shares.
 *
 * Either way round the copy is found:
 *  - before the truncation, held (copy_of): when its original is over
 *    (in_file_copies_go) the copy takes the state if it is read from
 *    where the original was read to;
 *  - after it, by the original's ghost: the original's DONE is held back
 *    (parked) with its state until a copy matched to that ghost takes it
 *    (adopt), or until no copy can come any more: a scan ran since the
 *    truncation and each file it found is identified (a copy that does
 *    not match `paths`, or ends before the offset, never takes it), or
 *    rotate_wait passed. Then the DONE ends the state as before.
 *
 * The state's clocks are held meanwhile (in_file_set_user_hold), from
 * the park, or the carry to a copy held before the truncation, to the
 * copy's first read: the event's next lines are written, in the copy,
 * only not read yet, and the hand-over takes a scan, the copy's key on
 * disk (a registry save: a file's key must be there before its bytes
 * are read, or a kill -9 reads them again under another key), maybe a
 * descriptor. multiline.timeout ran on through it and, short (1 s),
 * shipped the event's head alone, its rest from the copy as a second
 * event. Not taken: reading the copy before its key is saved (the ids of
 * a crash's replay), or shortening that wait (a save is an fsync: it
 * cannot be bounded). */
#include "in_file_priv.h"

/* r's state held (a copytruncate's hand-over) or let go at now. */
static void hold(struct in_file *in, struct rec *r, bool on, int64_t now)
{
    if (r->handover == on)
        return;
    r->handover = on;
    if (in->user_hold != NULL && r->pub.user != NULL)
        in->user_hold(r->pub.user, on, now);
}

void in_file_carry(struct in_file *in, struct rec *orig, struct rec *c)
{
    if (orig->pub.user == NULL || c->pub.user != NULL ||
        c->offset != orig->offset || c->pub.key != orig->pub.key)
        return;
    c->pub.user = orig->pub.user;
    orig->pub.user = NULL;
    c->handover = orig->handover; /* held since the park, if parked */
    orig->handover = false;
    hold(in, c, true, 0);
}

void in_file_handover_end(struct in_file *in, struct rec *r, int64_t now)
{
    hold(in, r, false, now);
}

void in_file_park(struct in_file *in, struct rec *r, int64_t now)
{
    if (r->pub.user == NULL || r->id.fp_len == 0 || r->state != REC_DONE)
        return; /* nothing held, or no copy can be known by a ghost */
    in_file_done_hold(in, r);
    r->parked_at = now;
    r->park_scan = in->scans;
    in->scan_due = true; /* the copy may be new */
    hold(in, r, true, now);
}

struct rec *in_file_parked(const struct in_file *in,
                           const struct file_identity *id, uint64_t key,
                           uint64_t offset)
{
    for (struct rec *r = in->parked.head; r != NULL; r = r->rnext)
        if (r->pub.key == key && r->offset == offset && r->dev == id->dev &&
            r->ino == id->ino)
            return r;
    return NULL;
}

/* Whether a file this input found is still to be identified (or, seen
 * empty, decided at its first bytes): it may be p's copy. Not one shorter
 * than p was read at a scan since the truncation (its size_seen): a copy
 * is made whole before its original is truncated, and one that ends
 * before p's offset never takes p's state. An empty file that stays empty
 * kept a parked DONE, and `run --once`, waiting for rotate_wait. */
static bool copy_may_come(const struct in_file *in, const struct rec *p)
{
    if (in->scans == p->park_scan)
        return true; /* no scan since the truncation */
    for (size_t i = 0; i < in->nrecs; i++) {
        const struct rec *r = in->recs[i];
        if (r->dev == p->dev && r->ino == p->ino)
            continue; /* the truncated file's new content */
        if ((!r->identified || (r->empty_new && r->offset == 0)) &&
            r->size_seen >= p->offset)
            return true;
    }
    return false;
}

void in_file_parked_timers(struct in_file *in, int64_t now, int64_t *next)
{
    for (struct rec *r = in->parked.head, *n; r != NULL; r = n) {
        n = r->rnext;
        int64_t end = r->parked_at + in->cfg.rotate_wait_ms;
        if (r->pub.user != NULL && now < end && copy_may_come(in, r)) {
            int64_t t = now + in->tick_ms < end ? now + in->tick_ms : end;
            *next = t < *next ? t : *next;
            continue;
        }
        hold(in, r, false, now);     /* no copy took it */
        in_file_done_release(in, r); /* its DONE, at the next read */
    }
}
