/* sl_tz.h: time zones for the date parser (sl_date.h): UTC, fixed offsets,
 * and IANA zones read from the TZif files under SL_TZ_DIR (Debian's tzdata),
 * plus the civil-calendar arithmetic both need.
 *
 * A zone is immutable once loaded: any number of threads may read one. The
 * loader never looks at the TZ environment variable, never calls tzset() or
 * the C library's local-time functions, and keeps no global state; a zone is
 * a plain value owned by whoever loaded it.
 *
 * Times are int64 seconds: "UTC seconds" count from 1970-01-01T00:00:00Z,
 * "local seconds" count the same way on the zone's wall clock. Offsets are
 * seconds east of Greenwich (+3600 for CET), the sign ISO 8601 uses, not
 * POSIX TZ's. */
#ifndef SL_TZ_H
#define SL_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

#ifndef SL_TZ_DIR
#define SL_TZ_DIR "/usr/share/zoneinfo"
#endif
#define SL_TZ_NAME_MAX 64    /* longest zone name accepted */
#define SL_TZ_OFF_MAX  93599 /* |offset| limit, 25:59:59 (RFC 8536) */

struct sl_tz;

/* Loads a zone by name: "UTC"; a fixed offset "+01:00", "-0500" or "+05";
 * or an IANA name ("Europe/Berlin", "Etc/GMT+1"), read from SL_TZ_DIR/name.
 * A name is letters, digits, '_', '-' and '+' in '/'-separated parts, each
 * starting with a letter, so no name reaches outside SL_TZ_DIR. Errors name
 * the zone and say what to write instead. Files with leap-second records
 * (the "right/" zones) are refused: log times count no leap seconds. */
struct sl_tz *sl_tz_load(const char *name, size_t len, struct sl_err *err);
void sl_tz_free(struct sl_tz *tz); /* NULL is fine */

/* The zone in TZif data (RFC 8536, versions 1 to 4) already in memory;
 * sl_tz_load() reads files through it, and tests feed it crafted data. */
struct sl_tz *sl_tz_from_tzif(const char *name, size_t name_len,
                              const void *data, size_t len, struct sl_err *err);

/* The name it was loaded by, NUL-terminated. */
const char *sl_tz_name(const struct sl_tz *tz);

/* True for UTC and fixed offsets, with the offset in *off. */
bool sl_tz_fixed(const struct sl_tz *tz, int32_t *off);

/* The offset in effect at UTC second t. */
int32_t sl_tz_offset_at(const struct sl_tz *tz, int64_t t);

/* The UTC second of local second `local`, as Joda-Time (and so Logstash)
 * resolves it: in an overlap (a local time that happens twice, when clocks
 * go back) the earlier instant, that is the offset in effect before the
 * change; in a gap (a local time skipped when clocks go forward) there is
 * none, and it returns -1. 0 otherwise. */
SL_MUST_CHECK int sl_tz_local_to_utc(const struct sl_tz *tz, int64_t local,
                                     int64_t *utc);

/* Reads an ISO 8601 / Joda offset at s: "Z" or "z" (zero), or a sign and
 * hh, hhmm, hhmmss, hh:mm or hh:mm:ss (hours 0..23, minutes and seconds
 * 0..59). What follows hh fixes the separator style; as in Joda, a ':' or
 * digit that starts a part must complete it ("+01:00:" and "+01001" are no
 * offsets, "+01:00 " reads 6 bytes). Returns the bytes read, or 0 when s
 * does not start with an offset. */
size_t sl_tz_parse_offset(const char *s, size_t len, int32_t *off);

/* Civil calendar (proleptic Gregorian), after Howard Hinnant's algorithms:
 * exact for any year an int64 day count can hold. */
static inline int64_t sl_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static inline bool sl_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

SL_MUST_CHECK static inline int sl_days_in_month(int64_t y, int m)
{
    static const unsigned char n[12] = {31, 28, 31, 30, 31, 30,
                                        31, 31, 30, 31, 30, 31};
    return m == 2 && sl_is_leap(y) ? 29 : n[m - 1];
}

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
static inline int64_t sl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline void sl_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

#endif
