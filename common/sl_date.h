/* sl_date.h: the date in a log line, as UTC milliseconds, with the semantics
 * of Logstash's date filter (its `match` formats and `timezone` option), for
 * the shipper's `date` processor and @timestamp.
 *
 * Compile a list of formats once, then parse many texts. Formats are tried
 * in order and the first that parses the WHOLE text wins, as in Logstash; a
 * text that no format parses gets -1, and the processor tags the event
 * _dateparsefailure. A format is a keyword or a Joda-Time pattern:
 *
 *   ISO8601   yyyy-MM-dd, optionally followed by 'T', 't' or a space and
 *             HH:mm, HH:mm:ss, or HH:mm:ss with '.' or ',' and a fraction of
 *             any length (cut to ms), then optionally a zone: Z, z, +hh,
 *             +hhmm, +hh:mm (or with seconds). No zone: the default zone.
 *   UNIX      seconds since 1970, optionally signed, optionally with '.' and
 *             a fraction (cut to ms): 1326149001, 1326149001.132, -1.5
 *   UNIX_MS   milliseconds since 1970, optionally signed: 1366125117000
 *   TAI64N    '@' (optional) and 24 hex digits: @4000000037c219bf2ef02e94
 *
 * Pattern letters (a run of one letter is one field; other characters match
 * themselves, ASCII letters case-insensitively; 'text' in single quotes is
 * literal, '' is a quote):
 *
 *   y yyy yyyy  year: 1 to 9 digits, '+' allowed; at most as many digits
 *               as letters when a number field follows ("yyyyMMdd")
 *   yy          two digits: the year within the 100 years that start 80
 *               years before the current one; other lengths are read as
 *               they are ("2026"), unless a number field follows (then
 *               exactly two)
 *   Y...        the same as y (year of era: equal for the years supported)
 *   MMM MMMM    month name in English, short or full, in any case
 *   M MM        month 1..12       M d H h m s: 1 or 2 digits, or up to as
 *   d dd        day of month      many as letters when more than 2 ("d"
 *   H HH        hour 0..23        reads "5" and "05"; "dd" reads "5" too)
 *   h hh        hour 1..12
 *   m mm        minute
 *   s ss        second 0..59 (no leap seconds)
 *   a           AM or PM, in any case (h without a is AM)
 *   S...        fraction of a second: 1 up to as many digits as letters
 *               (at most 9), cut to milliseconds; SSS reads "5" as 500 ms
 *   Z ZZ        offset: Z, +hh, +hhmm or +hh:mm (both letters read all)
 *   ZZZ         zone id: Europe/Berlin, America/New_York, UTC, Etc/GMT+1
 *   E EEE EEEE  day name, English, short or full: read and ignored
 *
 * The time zone: an offset or zone id in the text, else default_tz (NULL:
 * UTC). A local time that happens twice (clocks going back) is the earlier
 * instant; a local time that does not exist (clocks going forward) does not
 * parse. Both are what Joda-Time, and so Logstash, does.
 *
 * A pattern without a year (syslog's "MMM dd HH:mm:ss") takes the current
 * year, except that a December date read in January belongs to the year
 * before, and a January date read in December to the year after (Logstash's
 * rule). Missing fields default to the start of their range (month 1, day 1,
 * 00:00:00.000). "Now" is the clock, or now_ms in sl_date_parse_at().
 *
 * Results lie in 0001-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z;
 * anything outside does not parse (and could not be written as ISO 8601 in
 * 24 characters). Where Sluice differs from Logstash (Joda-Time), it is on
 * purpose:
 *   - Feb 29 in a guessed non-leap year fails (Joda moves it to Feb 28);
 *   - a day name that does not fit the date is ignored (Joda moves the date
 *     within its week);
 *   - UNIX has no 2038 limit, and -1.5 is -1500 ms (Logstash: -500 ms);
 *     TAI64N labels must lie in 2^62..2^63-1 (Logstash masks other bits);
 *   - names match in any case (Joda: as written, lower or upper case);
 *   - ISO8601 takes a space for 'T' with or without seconds and fraction,
 *     and fractions of more than 9 digits (Logstash: a space only before
 *     HH:mm:ss.SSS), but no ordinal or week dates, no hour without minutes,
 *     and no year or year-month alone;
 *   - ZZZ takes the whole run of letters, digits, '_', '/', '+' and '-',
 *     which must name a zone (Joda: the longest known zone id);
 *   - an unclosed quote is a compile error (Joda reads to the end).
 * Not supported: the letters G C x w e D k K z (zone names: ambiguous), and
 * locales other than English.
 *
 * Speed: each format keeps a small cache of the texts it parsed, keyed by
 * the bytes before and after the fraction (so the seconds and the zone are
 * in the key), so the lines of one second cost a compare and the fraction's
 * digits. A cached result is only used when a full parse of the same format
 * would give it, for the same "now" (year guessing depends on the month).
 *
 * Threads and memory: a struct sl_date holds those caches, so parsing
 * changes it: give each thread its own. Nothing is global, and the TZ
 * environment variable is never read. Parsing allocates nothing, except the
 * first time a ZZZ zone is met, when its file is read: up to
 * SL_DATE_ZONES_MAX zones (found or not) are kept per sl_date, and the
 * oldest is dropped to make room. */
#ifndef SL_DATE_H
#define SL_DATE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

#define SL_DATE_FORMATS_MAX  32
#define SL_DATE_ZONES_MAX    8
#define SL_DATE_ISO8601_SIZE 25 /* "2026-11-23T02:46:00.123Z" and a NUL */
#define SL_DATE_MIN_MS       (-62135596800000LL) /* 0001-01-01T00:00:00Z */
#define SL_DATE_MAX_MS       253402300799999LL   /* 9999-12-31T23:59:59.999Z */

struct sl_date;

/* Compiles n formats (1..SL_DATE_FORMATS_MAX) and loads default_tz (NULL
 * for UTC; a zone name or offset, see sl_tz_load()). On error, NULL and a
 * message that quotes the format and says what is supported:
 *   date format 'yyyy-MM-dd HH:mm:sz': unknown field letter 'z' at column
 *   19; ... */
struct sl_date *sl_date_compile(const char *const *formats, size_t n,
                                const char *default_tz, struct sl_err *err);
void sl_date_free(struct sl_date *d); /* NULL is fine */

/* Parses s[0..len) (no NUL needed) into *epoch_ms: 0, or -1 when no format
 * parses the whole text (*epoch_ms is then unchanged). */
SL_MUST_CHECK int sl_date_parse(struct sl_date *d, const char *s, size_t len,
                                int64_t *epoch_ms);
/* The same with "now" given, for the year of year-less formats and yy. */
SL_MUST_CHECK int sl_date_parse_at(struct sl_date *d, const char *s, size_t len,
                                   int64_t now_ms, int64_t *epoch_ms);

/* Writes "2026-11-23T02:46:00.123Z" and a NUL: 0, or -1 (and "") when
 * epoch_ms is outside SL_DATE_MIN_MS..SL_DATE_MAX_MS. */
SL_MUST_CHECK int sl_date_format_iso8601_ms(int64_t epoch_ms,
                                            char out[SL_DATE_ISO8601_SIZE]);

struct sl_date_stats {
    uint64_t parsed;       /* texts parsed */
    uint64_t failed;       /* texts no format parsed */
    uint64_t cache_hits;   /* of parsed: answered from a cache */
    uint64_t zones_loaded; /* ZZZ names new to the zone table: loaded */
};

void sl_date_get_stats(const struct sl_date *d, struct sl_date_stats *st);

#endif
