/* in_file_peers.c: the daemon's other file inputs, so that a file two
 * inputs' paths match is read by one of them (in_file.h:
 * in_file_set_peers). The first input in the config whose paths match a
 * path (and whose exclude does not leave it out) owns the file at that
 * path; the others skip it, each saying so once. A file reached under
 * another path (a link, a rotated file an input still drains) is
 * skipped by an input while another input's record holds its inode, or
 * after that input drained it (renamed away: IN_FILE_DRAINED_MAX). */
#include <stdlib.h>
#include <string.h>

#include "in_file_priv.h"
#include "sl_log.h"

int in_file_set_peers(struct in_file *in, struct in_file *const *inputs,
                      size_t n, size_t self, struct sl_err *err)
{
    size_t k = 0, was = in->nearlier;
    struct in_file **v = calloc(n ? n : 1, sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "file input: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (i == self)
            in->nearlier = k;
        if (i != self && inputs[i] != NULL)
            v[k++] = inputs[i];
    }
    if (self >= n)
        in->nearlier = k;
    free(in->peers);
    in->peers = v;
    in->npeers = k;
    /* the registry entries an earlier input owns are not this one's to
     * look for after a restart (none before it, as before: the list is
     * the same, and 100,000 entries' globs are a tenth of a restart) */
    if (in->scanned_once || (was == 0 && in->nearlier == 0))
        return 0;
    return in_file_collect_startup(in, err);
}

const struct in_file *in_file_owner(const struct in_file *in, const char *path)
{
    for (size_t i = 0; i < in->nearlier; i++)
        if (in_file_path_matches(in->peers[i], path))
            return in->peers[i];
    return NULL;
}

bool in_file_owns(const struct in_file *in, const char *path)
{
    return in_file_path_matches(in, path) && in_file_owner(in, path) == NULL;
}

const struct in_file *in_file_holder(const struct in_file *in, uint64_t dev,
                                     uint64_t ino, bool *rotated)
{
    for (size_t i = 0; i < in->npeers; i++) {
        const struct in_file *p = in->peers[i];
        const struct rec *r = in_file_rec_find(p, dev, ino);
        if (r != NULL) {
            *rotated = r->state != REC_LIVE;
            return p;
        }
        size_t n = p->ndrained < IN_FILE_DRAINED_MAX ? p->ndrained
                                                     : IN_FILE_DRAINED_MAX;
        for (size_t j = 0; j < n; j++)
            if (p->drained[j].dev == dev && p->drained[j].ino == ino) {
                *rotated = true;
                return p;
            }
    }
    return NULL;
}

void in_file_note_drained(struct in_file *in, const struct rec *r)
{
    size_t at = in->ndrained++ % IN_FILE_DRAINED_MAX;
    in->drained[at].dev = r->dev;
    in->drained[at].ino = r->ino;
}

/* Whether path was said already (and marks it seen by this scan). */
static int noted(struct in_file *in, const char *path)
{
    for (size_t i = 0; i < in->nnotes; i++)
        if (strcmp(in->notes[i].path, path) == 0) {
            in->notes[i].seen = true;
            return 1;
        }
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (p == NULL)
        return -1;
    memcpy(p, path, len + 1);
    if (in->nnotes == in->capnotes) {
        size_t cap = in->capnotes ? in->capnotes * 2 : 8;
        struct bad_path *v = realloc(in->notes, cap * sizeof *v);
        if (v == NULL) {
            free(p);
            return -1;
        }
        in->capnotes = cap;
        in->notes = v;
    }
    in->notes[in->nnotes++] = (struct bad_path){.path = p, .seen = true};
    return 0;
}

void in_file_note_other(struct in_file *in, const char *path,
                        const struct in_file *other, bool by_path)
{
    if (noted(in, path) != 0)
        return; /* said once (or no memory to remember it: not said) */
    if (by_path)
        SL_WARN(in->comp,
                "'%s' is matched by %s too, which comes first in inputs: "
                "only %s reads it (with its format, multiline and "
                "processors), this input does not; to read it here, add it "
                "to the exclude of %s, else narrow the paths of this input "
                "or add it to this input's exclude",
                path, other->name, other->name, other->name);
    else
        SL_WARN(in->comp,
                "'%s' is a file %s already reads (under another path: a "
                "link, or a hard link): only %s reads it; give each file "
                "one input (narrow the paths, or add an exclude)",
                path, other->name, other->name);
}

void in_file_notes_end_scan(struct in_file *in)
{
    for (size_t i = 0; i < in->nnotes;)
        if (!in->notes[i].seen) {
            free(in->notes[i].path);
            in->notes[i] = in->notes[--in->nnotes];
        } else {
            in->notes[i++].seen = false;
        }
}

void in_file_notes_free(struct in_file *in)
{
    for (size_t i = 0; i < in->nnotes; i++)
        free(in->notes[i].path);
    free(in->notes);
    free(in->peers);
}
