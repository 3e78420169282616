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

/* Tests only: the fsync(2) that saves call, on the .tmp (dir false) and on
 * its directory (dir true), to inject failures and to hold a save in
 * flight; NULL puts fsync(2) back. Not synchronised: set it while no save
 * runs (before registry_saver_new, after registry_saver_free). */
typedef int (*registry_fsync_fn)(int fd, bool dir);
void registry_set_fsync(registry_fsync_fn fn);

#endif
