/* bulk_gzip.h: a finished `_bulk` body gzip-encoded, to send with
 * Content-Encoding: gzip.
 *
 * libcurl never compresses a request body (CURLOPT_ACCEPT_ENCODING is about
 * answers), so the indexer does, when configured to: a slow or metered link
 * to the cluster trades about 4.5 CPU-s per million events at level 1 (see
 * bench/RESULTS.md) for a body several times smaller. Elasticsearch and
 * OpenSearch decode such a request before reading it.
 *
 * One encoder per sender, reused for every request: the deflate state
 * (about 256 KiB, allocated by _new) is reset, not rebuilt, and the output
 * buffer grows to the largest body's bound and is kept, so encoding
 * allocates nothing per request once warm. The output never passes
 * max_bytes (the same limit as the plain body, the server's
 * http.max_content_length): a body that would is refused, which is rare
 * (deflate adds at most a few bytes per 16 KiB to incompressible input). */
#ifndef BULK_GZIP_H
#define BULK_GZIP_H

#include <stddef.h>

#include "sl_err.h"
#include "sl_slice.h"

#define BULK_GZIP_LEVEL_DEFAULT 1 /* most of the gain for the least CPU */

struct bulk_gzip;

/* level: 1 (fastest) to 9 (smallest); max_bytes: the largest encoded body,
 * at least 1. NULL with SL_EINVAL (out of range) or SL_ENOMEM. */
struct bulk_gzip *bulk_gzip_new(int level, size_t max_bytes,
                                struct sl_err *err);
void bulk_gzip_free(struct bulk_gzip *gz); /* NULL is fine */

/* Encodes body[0..len) as one gzip member (RFC 1952: header, deflate data,
 * CRC-32 and length) into *out, valid until the next call or _free.
 * -1 with SL_ELIMIT if it would pass max_bytes, SL_ENOMEM; the encoder is
 * usable again either way. */
SL_MUST_CHECK int bulk_gzip_encode(struct bulk_gzip *gz, const char *body,
                                   size_t len, struct sl_slice *out,
                                   struct sl_err *err);

#endif
