/* registry_priv.h: what registry_file.c (the file) needs of registry.c (the
 * table) beyond registry.h. Nothing else includes it. */
#ifndef REGISTRY_PRIV_H
#define REGISTRY_PRIV_H

#include "registry.h"

/* Inserts e, whose dev + ino is not in r yet; the table takes e->path (no
 * copy, no check of the invariants: a loaded entry is taken as it is).
 * -1 with SL_ENOMEM. */
int registry_insert(struct registry *r, const struct registry_entry *e,
                    struct sl_err *err);

#endif
