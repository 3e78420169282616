/* sl_rfc3339.h: RFC 3339 timestamps, as container runtimes write them.
 *
 * Docker's json-file driver writes "2026-12-04T17:00:32.123456789Z" (Go's
 * RFC3339Nano: UTC, trailing zeros of the fraction trimmed); containerd and
 * CRI-O write the same shape in the host's zone ("...789+01:00", CRI-O with
 * all nine digits). sl_date's ISO8601 reads these too, but also much that
 * RFC 3339 refuses (no seconds, no zone, a zone taken from the config); a
 * container log line with such a time is not the format, so this reads
 * exactly RFC 3339's date-time:
 *
 *   YYYY-MM-DD ("T" | "t") hh:mm:ss [ "." 1*DIGIT ] ("Z" | "z" | ("+"|"-")
 * hh:mm)
 *
 * Seconds 00..59 (a leap second, 60, is refused as Go refuses it), days
 * checked against the month and leap years, the fraction of any length cut
 * to milliseconds (never rounded: the same instant in any precision gives
 * the same ms), offsets up to 23:59. The instant must lie in sl_date's
 * range (SL_DATE_MIN_MS..SL_DATE_MAX_MS: year 0000, or a year-1 or year-9999
 * time that its offset moves out, is refused). No allocation, no locale, no
 * table: about 20 ns. */
#ifndef SL_RFC3339_H
#define SL_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

/* Parses s[0..len) (no NUL needed), the whole of it: 0 and *epoch_ms (UTC
 * milliseconds since 1970), or -1 (*epoch_ms unchanged). */
SL_MUST_CHECK int sl_rfc3339_parse_ms(const char *s, size_t len,
                                      int64_t *epoch_ms);

#endif
