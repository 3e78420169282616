/* bulk_request.h: the body of one `_bulk` request, and what the caller needs
 * to resolve each item of the answer.
 *
 * For each event, two NDJSON lines:
 *
 *   {"create":{"_index":"INDEX","_id":"ID"}}\n
 *   EVENT\n
 *
 * with INDEX and ID escaped by sl_json (any bytes give valid JSON) and the
 * event copied as it is: it must be one line of JSON (the caller's events
 * come from the shipper's batches, which guarantee it). An event holding a
 * "\n" is refused, because it would shift every later item of the answer
 * onto the wrong event. `create` with a deterministic _id makes a replay a
 * 409 (DESIGN.md), never a duplicate.
 *
 * Bounds: a request holds at most max_items items and max_bytes bytes of
 * body. bulk_request_add() either adds the whole item or leaves the request
 * unchanged and says it is full (SL_ELIMIT): asking whether the next event
 * fits and adding it are one call, exact with escaping included. An item that
 * does not fit an empty request never will (the caller dead-letters it).
 *
 * Each item remembers the caller's tag (an index into its own arrays) and
 * its byte range in the body, so a retry rebuilds a request of some items
 * (bulk_request_copy_items) or halves one after a 413 (bulk_request_split)
 * by copying bytes, without serialising again. Item i of the request is
 * item i of the answer (bulk_response.h).
 *
 * Memory: the item array (max_items) is allocated by _new; the body buffer
 * grows to the largest request and is kept; reset empties both. No
 * allocation per event once warm.
 *
 * Borrowed events (bulk_request_set_borrowed): the body buffer holds the
 * action lines only, and each item points at the caller's event, which
 * must stay unchanged until the request is reset or freed (the indexer's
 * events live in their entry until resolved: input.h). The request is then
 * sent as a scatter list: bulk_request_read() writes the action lines and
 * events in body order into the sender's buffer (libcurl's upload buffer),
 * so each event is copied once, not twice, and a request holds about 70
 * bytes an event instead of the whole body. The bytes read are exactly the
 * body a copying request would hold; bounds, copies and splits are the
 * same. */
#ifndef BULK_REQUEST_H
#define BULK_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_slice.h"

struct bulk_request;

/* One item as the caller resolves it. */
struct bulk_req_item {
    uint64_t tag;   /* the caller's, given to add */
    size_t off;     /* of the action line in the body buffer */
    size_t ev_off;  /* of the event in the body buffer; borrowed: the end of
                       the action line */
    size_t ev_len;  /* of the event, without its "\n" */
    const char *ev; /* borrowed: the caller's event; NULL when copied */
};

/* max_bytes: body limit (keep it under the server's http.max_content_length,
 * 100 MB by default); max_items: 1 ..; both at least 1. */
struct bulk_request *bulk_request_new(size_t max_bytes, size_t max_items,
                                      struct sl_err *err);
void bulk_request_free(struct bulk_request *rq); /* NULL is fine */

/* Empties the request; keeps the memory. */
void bulk_request_reset(struct bulk_request *rq);

/* The caller vouches that every event it adds is one line (the indexer's
 * input splits batches at "\n" and gives list events theirs replaced):
 * add then skips its scan for "\n", a pass over every event's bytes (5% of
 * the indexer's CPU), and checks it only in debug builds (assert). Kept
 * across reset; false at _new. */
void bulk_request_set_one_line(struct bulk_request *rq, bool vouched);

/* Borrowed events from now on (see above); only on an empty request.
 * Kept across reset; false at _new. */
void bulk_request_set_borrowed(struct bulk_request *rq, bool borrowed);
bool bulk_request_borrowed(const struct bulk_request *rq);

/* Adds one `create` of event ev under index and id. 0 on success; -1 with
 * SL_ELIMIT when the item would pass max_bytes or max_items (the request is
 * unchanged: send it, reset, add again; on an empty request it can never
 * fit), SL_EINVAL for an empty event or one holding "\n" (unless the
 * caller vouched for its events: bulk_request_set_one_line) or an empty
 * index or id. */
SL_MUST_CHECK int bulk_request_add(struct bulk_request *rq, const char *index,
                                   size_t index_len, const char *id,
                                   size_t id_len, const char *ev, size_t ev_len,
                                   uint64_t tag, struct sl_err *err);

/* The body to send (Content-Type application/x-ndjson); valid until the
 * request changes. Borrowed: the action lines only (what items' off and
 * ev_off point into); send with bulk_request_read(). */
struct sl_slice bulk_request_body(const struct bulk_request *rq);
/* The bytes of the body to send, borrowed events included. */
size_t bulk_request_size(const struct bulk_request *rq);

/* Where a read of the body is: zeroed ({0}) for its start. */
struct bulk_read_pos {
    size_t item; /* borrowed: the item being read */
    size_t at;   /* copied: the body offset; borrowed: within the item */
};

/* Writes the next bytes of the body, from *pos, into buf[0..cap), and
 * moves *pos past them: how many (0 at the end). The request must not
 * change between reads of one body. */
size_t bulk_request_read(const struct bulk_request *rq,
                         struct bulk_read_pos *pos, char *buf, size_t cap);
size_t bulk_request_count(const struct bulk_request *rq);
/* Item i (< count); NULL past the end. */
const struct bulk_req_item *bulk_request_item(const struct bulk_request *rq,
                                              size_t i);
/* The event of item i, a slice of the body. */
struct sl_slice bulk_request_event(const struct bulk_request *rq, size_t i);

/* Resets dst and fills it with items which[0..n) of src, in that order,
 * copied byte for byte with their tags (the retry of the failed items).
 * dst and src must differ, and both borrow or both copy. -1 with SL_ELIMIT
 * if they do not fit dst, with SL_EINVAL for an index past src's count;
 * dst is then empty. */
/* As bulk_request_copy_items(), after what dst holds: all n items are
 * added, or none (-1, dst unchanged). */
SL_MUST_CHECK int bulk_request_append_items(struct bulk_request *dst,
                                            const struct bulk_request *src,
                                            const size_t *which, size_t n,
                                            struct sl_err *err);
SL_MUST_CHECK int bulk_request_copy_items(struct bulk_request *dst,
                                          const struct bulk_request *src,
                                          const size_t *which, size_t n,
                                          struct sl_err *err);

/* Splits src in two after a 413: its first half of items into a, the rest
 * into b (both reset first; neither may be src). -1 with SL_ELIMIT when src
 * has one item (it alone is too large: dead-letter it), or as copy_items. */
SL_MUST_CHECK int bulk_request_split(const struct bulk_request *src,
                                     struct bulk_request *a,
                                     struct bulk_request *b,
                                     struct sl_err *err);

#endif
