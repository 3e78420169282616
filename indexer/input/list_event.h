/* list_event.h: one element of a Logstash-style Redis list (list mode) as
 * an event for the bulk side: checked, with an _id and a time.
 *
 * An element must be one JSON object (what Logstash's redis output and
 * json codec write); anything else (not JSON, an array, a number, two
 * values) is refused with a short reason, and the input sends it to the
 * dead letters. A "\n" or "\r" between tokens is legal JSON but would cut
 * the bulk body's line: the event's copy has them turned into spaces
 * (inside a string they are not legal JSON, so the element was refused).
 *
 * The _id: Logstash events carry none, so the id is derived from the
 * element's bytes: sl_event_id(host "", key = the element's bytes, pos 0),
 * 22 characters, fixed forever. So a replay of the same element (an
 * indexer killed before its LREM) is a 409, not a duplicate; but two
 * events whose bytes are equal are one document, and a Logstash shipper
 * that sends an event again with other bytes (another field order, a new
 * @timestamp) makes a second document. Only exact byte-equal replays dedup.
 *
 * The time: the top-level "@timestamp" string, as ISO 8601 (sl_date's
 * ISO8601, what Logstash writes: "2025-11-23T02:46:00.123Z"). Without one,
 * or when it does not parse, the time read (now_ms) is used: such an event
 * replayed on another day lands in that day's index, a duplicate. Only the
 * top level counts: an "@timestamp" inside a nested object or a string is
 * not the event's. An element with no top-level "@timestamp" key at all
 * gets one, the time read, as Logstash gives an event that lacks it
 * (list_event_copy_line_ts): else the document would have no time and no
 * time-filtered view (Kibana's) would ever show it. One whose
 * "@timestamp" does not parse is sent as it is: Elasticsearch refuses it
 * with the reason, for the dead letters.
 *
 * Cost: yajl's parser, allocated per element (yajl 2 has no reset); list
 * mode carries Logstash's throughput, batches are the fast path. */
#ifndef LIST_EVENT_H
#define LIST_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_date.h"
#include "sl_err.h"
#include "sl_event_id.h"

struct list_event {
    char id[SL_EVENT_ID_LEN + 1];
    int64_t ts_ms;
    bool has_ts;   /* ts_ms is the element's @timestamp, not now_ms */
    bool newlines; /* the element holds "\n" or "\r" (between tokens) */
    bool ts_key;   /* it has a top-level "@timestamp" key, parsed or not */
};

/* What list_event_copy_line_ts() adds at most: "@timestamp":"...", */
#define LIST_EVENT_TS_EXTRA                                                    \
    (sizeof "\"@timestamp\":\"\"," + SL_DATE_ISO8601_SIZE)

/* iso: sl_date_compile of {"ISO8601"}. 0, or -1 with SL_EPARSE and err a
 * short reason ("not JSON: ...", "a JSON array, expected an object"),
 * or SL_ENOMEM. */
SL_MUST_CHECK int list_event_parse(struct sl_date *iso, const char *p,
                                   size_t len, int64_t now_ms,
                                   struct list_event *out, struct sl_err *err);

/* Copies len bytes of p to dst with "\n" and "\r" turned into spaces. */
void list_event_copy_line(char *dst, const char *p, size_t len);
/* The same for an element list_event_parse() accepted without ts_key,
 * with "@timestamp":"<ts_ms as ISO 8601, UTC, ms>" first in its object;
 * dst has room for len + LIST_EVENT_TS_EXTRA bytes. Its length. */
size_t list_event_copy_line_ts(char *dst, const char *p, size_t len,
                               int64_t ts_ms);

#endif
