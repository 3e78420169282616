/* in_file_rows.c: the file input's files as rows of a status page
 * (in_file.h: in_file_next_row). Read only: what the records already hold,
 * the registry's offset by one hash lookup, never a stat. */
#include <errno.h>
#include <string.h>

#include "in_file_priv.h"

static const struct bad_path *bad_of(const struct in_file *in, const char *path)
{
    for (size_t i = 0; i < in->nbad; i++)
        if (strcmp(in->bad[i].path, path) == 0)
            return &in->bad[i];
    return NULL;
}

static const char *reason_of(int reason)
{
    switch (reason) {
    case -1:
        return "a directory";
    case -2:
        return "not a regular file";
    case -3:
        return "the shipper's own output";
    case -4:
        return "the shipper's own file";
    case EACCES:
        return "permission denied";
    case ENOTDIR:
        return "a path component is not a directory";
    default:
        return sl_strerror(reason);
    }
}

static const char *state_of(const struct in_file *in, const struct rec *r)
{
    if (r->state == REC_DONE)
        return "done";
    if (r->state == REC_ROTATED)
        return r->deleted ? "deleted" : "rotated";
    if (r->copy_of != NULL)
        return "held-copy";
    if (r->pred != NULL)
        return "queued";
    if (r->identified && r->key_gen > in->keys_saved)
        return "waiting-key";
    if (r->waiting)
        return "waiting";
    if (!r->identified)
        return "new";
    if (r->fd < 0)
        return "closed";
    return r->ready ? "reading" : "idle";
}

static void rec_row(const struct in_file *in, const struct rec *r,
                    const struct bad_path *b, struct in_file_row *row)
{
    memset(row, 0, sizeof *row);
    row->path = r->path;
    row->state = b == NULL         ? state_of(in, r)
                 : b->reason == -1 ? "skipped"
                                   : "error";
    row->reason = b != NULL ? reason_of(b->reason) : NULL;
    if (r->identified) {
        const struct registry_entry *e = registry_get(in->reg, r->dev, r->ino);
        if (e != NULL && e->key == r->pub.key) {
            row->has_acked = true;
            row->acked = e->offset;
        }
    }
    row->has_read = r->identified;
    row->has_size = true;
    row->read = r->offset;
    row->size = r->size_seen > r->offset ? r->size_seen : r->offset;
    row->last_read = r->last_data;
}

/* A path that cannot be read and that a record also holds is that
 * record's row; only paths without one get their own. The walk is over
 * the unreadable paths times the records: a handful times the files. */
static bool has_rec(const struct in_file *in, const char *path)
{
    for (size_t i = 0; i < in->nrecs; i++)
        if (!in->recs[i]->identified && strcmp(in->recs[i]->path, path) == 0)
            return true;
    return false;
}

bool in_file_next_row(const struct in_file *in, size_t *cursor,
                      struct in_file_row *row)
{
    if (*cursor < in->nrecs) {
        const struct rec *r = in->recs[(*cursor)++];
        const struct bad_path *b =
            !r->identified && r->fd < 0 && !r->waiting && in->nbad > 0
                ? bad_of(in, r->path)
                : NULL;
        rec_row(in, r, b, row);
        return true;
    }
    while (*cursor < in->nrecs + in->nbad) {
        const struct bad_path *b = &in->bad[(*cursor)++ - in->nrecs];
        if (has_rec(in, b->path))
            continue;
        memset(row, 0, sizeof *row);
        row->path = b->path;
        row->state = b->reason == -1 ? "skipped" : "error";
        row->reason = reason_of(b->reason);
        return true;
    }
    return false;
}
