/* index_name_priv.h: what index_name.c and index_name_json.c share: the
 * field lookup over an event's JSON. Not for other modules. */
#ifndef INDEX_NAME_PRIV_H
#define INDEX_NAME_PRIV_H

#include <stddef.h>

#include "index_name.h"
#include "sl_fieldpath.h"

/* A field's value as it goes into a name, at most INDEX_NAME_MAX bytes. */
struct index_name_value {
    char text[INDEX_NAME_MAX];
    size_t len; /* 0: missing (the fallback applies) */
};

/* The lookup's memory: yajl's allocations come from pool (bump, reset per
 * event); past it, from malloc. */
struct index_name_json {
    const struct sl_fieldpath *paths;
    unsigned npaths;
    struct index_name_value *vals; /* npaths of them */
    unsigned found;                /* bit f: vals[f] is set (or refused) */
    unsigned pending;              /* fields the last key named */
    unsigned depth;                /* containers open */
    unsigned mask[SL_FIELDPATH_MAX_SEGS + 2];
    size_t used;
    _Alignas(16) unsigned char pool[INDEX_NAME_POOL];
};

/* Fills vals[0..npaths) from json: the sanitised value of each path, or
 * len 0. Never fails; allocation failure finds nothing. */
void index_name_json_lookup(struct index_name_json *j, const char *json,
                            size_t len);

/* Appends the sanitised form of s to v (lower case; bytes outside a-z 0-9
 * . _ - as '_'), up to INDEX_NAME_MAX bytes. */
void index_name_value_add(struct index_name_value *v, const char *s,
                          size_t len);

#endif
