/* registry_priv.h: what registry_file.c (the file) needs of registry.c (the
 * table) beyond registry.h, and the test hook of the save. Nothing else
 * includes it but tests/unit/test_registry.c. */
#ifndef REGISTRY_PRIV_H
#define REGISTRY_PRIV_H

#include "registry.h"

/* Inserts e, whose dev + ino is not in r yet; the table takes e->path (no
 * copy, no check of the invariants: a loaded entry is taken as it is).
 * -1 with SL_ENOMEM. */
int registry_insert(struct registry *r, const struct registry_entry *e,
                    struct sl_err *err);

/* A cut (registry.h): the file of key was cut at offset at; seq is its
 * registry_cuts_added() number (0: loaded, so on disk). */
struct registry_cut {
    uint64_t key, at, seq;
};

/* Inserts the cut (key, at) with seq, unless it is there: 1 inserted, 0
 * there already, -1 with SL_ELIMIT (REGISTRY_MAX_CUTS) or SL_ENOMEM. */
int registry_cut_insert(struct registry *r, uint64_t key, uint64_t at,
                        uint64_t seq, struct sl_err *err);
/* Every cut, sorted by key then offset (valid until the next change). */
const struct registry_cut *registry_cut_list(const struct registry *r,
                                             size_t *n);
/* In cuts[0, n) sorted so: the first cut of key past offset after (n or
 * a cut of another key when there is none). */
size_t registry_cut_find(const struct registry_cut *cuts, size_t n,
                         uint64_t key, uint64_t after);

/* Tests only: the fsync(2) that saves call, on the .tmp (dir false) and on
 * its directory (dir true), to inject failures and to hold a save in
 * flight; NULL puts fsync(2) back. Not synchronised: set it while no save
 * runs (before registry_saver_new, after registry_saver_free). */
typedef int (*registry_fsync_fn)(int fd, bool dir);
void registry_set_fsync(registry_fsync_fn fn);

#endif
