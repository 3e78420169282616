/* sl_fieldpath.h: field references, parsed once, used per event.
 *
 * Accepted forms (Logstash's field references plus dotted names):
 *   name          -> [name]
 *   [a][b][c]     -> [a, b, c]
 *   a.b.c         -> [a, b, c]   (dotted names nest, as Elasticsearch reads
 *                                 them; Logstash would keep "a.b.c" literal)
 *   @timestamp    -> [@timestamp]
 * Rejected with a reason: empty names or segments ("[]", "a..b"), unbalanced
 * brackets, a mix such as "a[b]", more than SL_FIELDPATH_MAX_SEGS segments.
 * Segments point into `text`, which the path keeps (it owns a copy). */
#ifndef SL_FIELDPATH_H
#define SL_FIELDPATH_H

#include "sl_err.h"
#include "sl_slice.h"

#define SL_FIELDPATH_MAX_SEGS 16

struct sl_fieldpath {
    char *text; /* the reference as written, NUL-terminated, owned */
    char *buf;  /* segment bytes, owned */
    unsigned nseg;
    unsigned plain; /* bit i: seg[i] is written in JSON as is (no escaping) */
    struct sl_slice seg[SL_FIELDPATH_MAX_SEGS];
};

/* Parses ref[0..len) into p. On error p is left empty (safe to release). */
SL_MUST_CHECK int sl_fieldpath_parse(struct sl_fieldpath *p, const char *ref,
                                     size_t len, struct sl_err *err);
void sl_fieldpath_release(struct sl_fieldpath *p);

#endif
