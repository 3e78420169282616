/* bulk_response.h: the answer to one `_bulk` request, item by item.
 *
 * A streaming parser (yajl's event API, not its tree: the answer to 5,000
 * items is megabytes) fed the body as curl delivers it, in fragments of any
 * size. No I/O here, so it is tested with hand-written bodies, real bodies
 * captured from Elasticsearch 8/9 and OpenSearch 2/3, and fuzzed.
 *
 * Use, per request:
 *
 *   bulk_response_reset(r, nitems);         nitems = items in the request
 *   bulk_response_feed(r, buf, len);        as often as bytes arrive
 *   if (bulk_response_finish(r, http_status, &err) < 0)
 *       whole request failed: err.status says what to do (below)
 *   else
 *       bulk_response_count(r) == nitems; read bulk_response_item(r, i)
 *
 * Item i of the answer is item i of the request (Elasticsearch answers in
 * request order). Each item gets one class (enum bulk_class).
 *
 * A whole request fails, with one line in err, when:
 *   SL_ERETRY   HTTP 200 but the body is not JSON, is cut short, has no
 *               "items", an item without a status, or a number of items
 *               other than the request's; HTTP 408, 429, 5xx, or a
 *               top-level cluster_block_exception: send it all again later
 *   SL_ELIMIT   HTTP 413: the body is over the server's
 *               http.max_content_length: split the request in two
 *   SL_EREMOTE  any other status (400, 401, 403 security, 404 ...): a
 *               person must fix the server or the configuration; the line
 *               has the status, the error type and reason and a hint
 *
 * Fast path: when the top-level "errors" is false and comes before "items"
 * (Elasticsearch 8.15 and 9.1 send errors, took, items; OpenSearch 2.17
 * and 3.0 took, errors, items), no _id is copied, so an all-ok answer copies no
 * string at all (error strings exist only in failed items, and are always
 * kept). Correctness does not depend on the order: every item is classified
 * from its own status and error type either way, and counted. Faster still:
 * the answer es_sender's filter_path gets when every create worked,
 * {"errors":false,"items":[{"create":{"status":201}},...]} byte for byte, is
 * matched without yajl (a whole item is one memcmp); at the first byte that
 * differs yajl is given what was matched and reads on, so any other answer
 * gets yajl's outcome. Its items read as done, create, 201.
 *
 * Memory: the item array (max_items) is allocated once by _new; strings
 * (_id, error type and reason, caused_by type and reason, each cut at
 * reason_max bytes on a UTF-8 boundary) go into one arena reset per
 * response and bounded by max_items times the per-item maximum; the body
 * fed is bounded by max_body (an answer larger than that is refused as
 * SL_ELIMIT). Nothing is allocated per item once warm. */
#ifndef BULK_RESPONSE_H
#define BULK_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_err.h"
#include "sl_slice.h"

enum bulk_class {
    BULK_DONE,      /* 2xx: indexed */
    BULK_DUPLICATE, /* 409 version_conflict_engine_exception on `create`: the
                       _id is already indexed (a replay); done, counted apart */
    BULK_RETRY,     /* 408, 429, 5xx, es_rejected_execution_exception, or a
                       cluster_block_exception (e.g. index read-only after the
                       disk flood-stage watermark): not the document's fault;
                       retry with backoff and log the reason plainly */
    BULK_DEAD,      /* mapper_parsing_exception, document_parsing_exception,
                       strict_dynamic_mapping_exception, not_x_content_exception
                       whatever the status, and any other status not above
                       (400 illegal_argument_exception ...): retrying cannot
                       fix it; to the dead-letter stream with type and reason */
    BULK_NO_INDEX   /* 404 index_not_found_exception (auto-create is off):
                       log the index and how to fix it; do not dead-letter */
};
#define BULK_NCLASS 5

/* The action the server answered for (the key of each item). */
enum bulk_op {
    BULK_OP_OTHER,
    BULK_OP_CREATE,
    BULK_OP_INDEX,
    BULK_OP_UPDATE,
    BULK_OP_DELETE
};

/* One item of the answer. The slices point into the parser's arena and stay
 * valid until the next bulk_response_reset(); empty when absent (and always
 * empty on the fast path). */
struct bulk_item {
    enum bulk_class cls;
    enum bulk_op op;
    int status;
    struct sl_slice id;
    struct sl_slice type;         /* error.type */
    struct sl_slice reason;       /* error.reason */
    struct sl_slice cause_type;   /* error.caused_by.type */
    struct sl_slice cause_reason; /* error.caused_by.reason */
};

struct bulk_response;

#define BULK_REASON_MAX_DEFAULT 1024

/* max_items: the most items of a request (1 ..); reason_max: cut for each
 * string kept (16 ..); max_body: the largest answer accepted, in bytes. */
struct bulk_response *bulk_response_new(size_t max_items, size_t reason_max,
                                        size_t max_body, struct sl_err *err);
void bulk_response_free(struct bulk_response *r); /* NULL is fine */

/* Starts a new answer for a request of nitems items (1 .. max_items; a
 * larger count fails at finish). Forgets the previous answer. */
void bulk_response_reset(struct bulk_response *r, size_t nitems);

/* Parses the next bytes. 0, or -1 once the body is known to be bad (the
 * reason comes from finish; further feeds are ignored), so a curl write
 * callback may stop the transfer early. The only function here whose
 * result may be ignored: finish reports the same failure. */
int bulk_response_feed(struct bulk_response *r, const void *buf, size_t len);

/* Ends the answer; http_status is the response's status line. 0 when the
 * status is 200 and every item of the request was answered; else -1 with
 * err as above. */
SL_MUST_CHECK int bulk_response_finish(struct bulk_response *r,
                                       long http_status, struct sl_err *err);

/* After a successful finish: the number of items (== nitems); item i into
 * *out (false if there is no such item or finish failed); how many items
 * fell in class c; whether the fast path was taken. */
size_t bulk_response_count(const struct bulk_response *r);
bool bulk_response_item(const struct bulk_response *r, size_t i,
                        struct bulk_item *out);
size_t bulk_response_class_count(const struct bulk_response *r,
                                 enum bulk_class c);
bool bulk_response_fast_path(const struct bulk_response *r);

/* The class of an item from its action, status and error.type: the one
 * table of the rules above, public so the tests can walk it. */
enum bulk_class bulk_classify(enum bulk_op op, int status,
                              struct sl_slice type);

/* "done", "duplicate", "retry", "dead", "no-index". */
const char *bulk_class_name(enum bulk_class c);

#endif
