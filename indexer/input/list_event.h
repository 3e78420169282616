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
 * ISO8601, what Logstash writes: "2025-11-23T02:46:00.123Z"), or a number,
 * milliseconds since the epoch (Elasticsearch's epoch_millis: the index
 * follows the time the document gets). Without one, or when it does not
 * parse, the time read (now_ms) is used: such an event
 * replayed on another day lands in that day's index, a duplicate. Only the
 * top level counts: an "@timestamp" inside a nested object or a string is
 * not the event's. An element with no top-level "@timestamp" key at all
 * gets one, the time read, as Logstash gives an event that lacks it
 * (list_event_copy_line_ts): else the document would have no time and no
 * time-filtered view (Kibana's) would ever show it; one whose
 * "@timestamp" is null gets the time read in its place, as Logstash
 * does (a LIST_EVENT_FIX_MAX fix, stamp). One whose
 * "@timestamp" does not parse is sent as it is: Elasticsearch refuses it
 * with the reason, for the dead letters.
 *
 * Logstash's own fields, without ECS compatibility (Logstash 7's default):
 * its file, syslog, tcp, udp and http inputs set "host" to a string (the
 * machine's name or the peer's address), and the legacy grok patterns
 * capture "agent" (COMBINEDAPACHELOG's user agent), "error" or "url" as
 * strings; the index template maps those names as objects (ECS), so
 * Elasticsearch refuses every such event ("object mapping for [host]
 * tried to parse field [host] as object, but found a concrete value"), and
 * a whole fleet's events would go to the dead letters. So, in the bulk
 * line only (the id and the dead letter keep the element's bytes): a
 * top-level "host" whose value is a string becomes {"name": that string}
 * (ECS's host.name, what Logstash's ECS mode writes, what Kibana groups
 * by); any other top-level key the template maps as an object
 * (list_event_object_keys) holding a string, a number, a boolean or an
 * array is renamed "_<key>", as the shipper's json processor does
 * ("source" to "_source_": "_source" is Elasticsearch's own). Only keys
 * spelled without escapes, and at most LIST_EVENT_FIX_MAX per element.
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

#define LIST_EVENT_FIX_MAX 8

/* A top-level key to change in the bulk line (offsets into the element):
 * wrap, "host": its string value [val, end) becomes {"name":...}; else
 * the key whose opening quote is at key is renamed "_<key>", and with
 * suffix ("source") "_<key>_", its closing quote at close. */
struct list_event_fix {
    size_t key, val, end, close;
    bool wrap, suffix;
    bool stamp; /* a top-level "@timestamp" null [val, end): the time read */
};

struct list_event {
    char id[SL_EVENT_ID_LEN + 1];
    int64_t ts_ms;
    bool has_ts;   /* ts_ms is the element's @timestamp, not now_ms */
    bool newlines; /* the element holds "\n" or "\r" (between tokens) */
    bool ts_key;   /* it has a top-level "@timestamp" key, parsed or not */
    size_t nfix;   /* fix[0..nfix), in the order of the element's bytes */
    struct list_event_fix fix[LIST_EVENT_FIX_MAX];
};

/* The top-level names the index template maps as objects, sorted
 * (tests/e2e/test_pipeline_logstash.py checks them against
 * conf/elasticsearch/sluice-template.json), and their number. */
extern const char *const list_event_object_keys[];
extern const size_t list_event_object_nkeys;

/* What list_event_copy_line_ts() adds at most: "@timestamp":"...", */
#define LIST_EVENT_TS_EXTRA                                                    \
    (sizeof "\"@timestamp\":\"\"," + SL_DATE_ISO8601_SIZE)

/* iso: sl_date_compile of {"ISO8601"}. 0, or -1 with SL_EPARSE and err a
 * short reason ("not JSON: ...", "a JSON array, expected an object"),
 * or SL_ENOMEM. */
SL_MUST_CHECK int list_event_parse(struct sl_date *iso, const char *p,
                                   size_t len, int64_t now_ms,
                                   struct list_event *out, struct sl_err *err);

/* The bulk line of an element list_event_parse() accepted into le, as
 * Elasticsearch gets it: the element's bytes with "\n" and "\r" turned
 * into spaces, "@timestamp" added first when le has no such key (the time
 * read, as list_event_copy_line_ts), and le's fixes made. 0 when the
 * element's own bytes are that line (nothing to change). */
size_t list_event_line_size(const struct list_event *le, size_t len);
/* Writes that line to dst, of list_event_line_size() bytes: its length. */
size_t list_event_copy_fixed(const struct list_event *le, char *dst,
                             const char *p, size_t len);

/* Copies len bytes of p to dst with "\n" and "\r" turned into spaces. */
void list_event_copy_line(char *dst, const char *p, size_t len);
/* The same for an element list_event_parse() accepted without ts_key,
 * with "@timestamp":"<ts_ms as ISO 8601, UTC, ms>" first in its object;
 * dst has room for len + LIST_EVENT_TS_EXTRA bytes. Its length. */
size_t list_event_copy_line_ts(char *dst, const char *p, size_t len,
                               int64_t ts_ms);

#endif
