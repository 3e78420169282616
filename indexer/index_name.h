/* index_name.h: the `elasticsearch.index` pattern, compiled once, formatted
 * per event into the name of the index the event goes to.
 *
 * A pattern is literal text with references, as Logstash's sprintf reads
 * them:
 *   %{+FORMAT}   the event's time (the batch line's TS, UTC) in Joda-Time
 *                letters: y Y (year; yy: two digits), x (ISO week-year),
 *                w (ISO week), M (month; MMM, MMMM: English names, written
 *                in lower case), d (day of month), D (day of year), H, m, s;
 *                a run of one letter is one field, padded with zeros to the
 *                run's length; other characters are literal, 'quoted' text
 *                too ('' is a quote)
 *   %{[a][b]}    a field of the event (also %{a.b} or %{name}), read from
 *                the event's JSON only when the pattern has such references
 * Examples: "sluice-%{+yyyy.MM.dd}" (the default: daily indices),
 * "sluice-%{+xxxx.ww}" (weekly), "sluice-%{[service][name]}-%{+yyyy.MM.dd}".
 *
 * Names are valid Elasticsearch index names, whatever the event holds:
 *   - the pattern's own text must already be valid (lower case, none of
 *     \ / * ? " < > | , # : or space, not starting with - _ + or .), or the
 *     compile fails saying which character;
 *   - a field's value (a string, a number or a boolean, as written in the
 *     JSON) is lowered, and each byte outside a-z 0-9 . _ - becomes '_'
 *     ("Web Shop/EU" -> "web_shop_eu"; UTF-8 bytes too, so a name is always
 *     ASCII); a field that is missing, null, an object, an array or empty
 *     takes the fallback value (`elasticsearch.index_fallback`, default
 *     "unknown"), which must itself be made of those characters;
 *   - a name that would start with - _ + or . loses those leading bytes
 *     (only a field at the start can cause it); a name left empty is the
 *     fallback;
 *   - at most INDEX_NAME_MAX bytes: field values are cut so that the rest
 *     of the pattern always fits (the compile refuses a pattern whose own
 *     text and dates could exceed it).
 * Only the nested form of a field is found ({"service":{"name":"shop"}},
 * what the shipper writes), not a key with a dot in it, nor inside arrays;
 * the first of duplicate keys wins.
 *
 * Cost: the date parts are cached for the current period of the pattern's
 * finest letter (a day for yyyy.MM.dd), and so is the whole name of a
 * date-only pattern: a compare per event, one build per period; with fields,
 * one yajl pass over the event that stops once the fields are found. Nothing is
 * allocated per event (yajl works in a pool inside the struct, up to
 * INDEX_NAME_POOL bytes; an event that needs more, through deep nesting or long
 * escaped strings, falls back to malloc).
 *
 * Threads: a struct index_name is used by one thread at a time (it holds
 * the cache and the name it returns). */
#ifndef INDEX_NAME_H
#define INDEX_NAME_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_slice.h"

#define INDEX_NAME_MAX         255  /* bytes: Elasticsearch's limit */
#define INDEX_NAME_PATTERN_MAX 1024 /* bytes of a pattern */
#define INDEX_NAME_FIELDS_MAX  4    /* field references in a pattern */
#define INDEX_NAME_FALLBACK    "unknown"
#define INDEX_NAME_POOL        16384 /* bytes of yajl's pool */

struct index_name;

/* Compiles pattern (NUL-terminated) with fallback (NULL: "unknown"). NULL
 * with err set (SL_EINVAL and a short reason, for the config layer to put
 * after the key's location; SL_ENOMEM). */
struct index_name *index_name_new(const char *pattern, const char *fallback,
                                  struct sl_err *err);
void index_name_free(struct index_name *in); /* NULL is fine */

/* Checks a fallback value alone, with index_name_new's message. */
SL_MUST_CHECK int index_name_check_fallback(const char *fallback,
                                            struct sl_err *err);

/* True when the pattern has field references, i.e. when format reads the
 * event's JSON; false: json may be empty. */
bool index_name_uses_fields(const struct index_name *in);
/* True when the pattern has a date reference. */
bool index_name_uses_date(const struct index_name *in);

/* The index for an event of time ts_ms (UTC ms, clamped to years 1..9999,
 * the range sl_batch guarantees) and JSON text json (any bytes: invalid
 * JSON finds no field). Never fails. The name (ptr[len] is '\0') is
 * valid until the next call on in. */
struct sl_slice index_name_format(struct index_name *in, int64_t ts_ms,
                                  struct sl_slice json);

/* The reverse, for retention: reads name back as this pattern would have
 * written it. 1: it does, exactly (formatting the time read, with the same
 * field values, gives name byte for byte), and *last_day is the last UTC
 * day (days since 1970-01-01) of the period the name covers: that day for
 * a daily or hourly pattern, the Sunday for xxxx.ww, the month's last day
 * for yyyy.MM, Dec 31 for yyyy. 0: name is not one of the pattern's, it
 * reads back as two periods (adjacent numbers of a strange pattern), or
 * the pattern's dates cannot say a period (index_name_dated is false). */
SL_MUST_CHECK int index_name_parse(const struct index_name *in,
                                   const char *name, size_t len,
                                   int64_t *last_day);

/* True when index_name_parse can find the period of a name: the pattern's
 * dates hold a full year (y, Y, not only yy) with a month and day, or a day
 * of year; or a full year, alone or with a month, and no week letters; or
 * a full ISO week-year (x) and week, and no calendar letters (y M d D). */
bool index_name_dated(const struct index_name *in);

/* The pattern's literal text before its first reference ("sluice-" for the
 * default), which every name of the pattern starts with. */
struct sl_slice index_name_prefix(const struct index_name *in);

#endif
