/* retention.h: deletes the old indices of the index pattern, as Curator or
 * ILM would for most log users; off unless elasticsearch.retention_days
 * is set.
 *
 * Which indices: those that elasticsearch.index writes, and only those. The
 * existing indices under the pattern's literal prefix are listed
 * (GET _cat/indices/<prefix>*?format=json&h=index), and each name is read
 * back with the pattern (index_name_parse): a name the pattern would not
 * write byte for byte ("sluice-2026.12.01-old", "sluice-2026.1.01",
 * "sluice-old", another prefix) is never touched. A name read back covers a
 * period (a day, a week, a month); it is deleted when the period's last
 * UTC day is more than `days` days before today (UTC): with 7, on
 * December 10 the indices of December 2 and before go, December 3 to 10
 * stay, so every event is kept at least `days` full days. One DELETE per
 * index, each logged; a 404 (another indexer deleted it first) is fine.
 *
 * Blocking (admin_http.h): the daemon runs it on a thread of its own
 * (retention_worker.h), about once an hour; it is idempotent.
 * retention_plan() is the pure part: which names of a listing go. */
#ifndef RETENTION_H
#define RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "admin_http.h"
#include "index_name.h"
#include "sl_err.h"

#define RETENTION_LIST_MAX 100000 /* indices listed in one run */

/* Names to delete, each with the last day it covers. */
struct retention_plan {
    struct retention_index {
        char name[INDEX_NAME_MAX + 1];
        int64_t last_day; /* days since 1970-01-01 */
    } * v;
    size_t n, cap;
    size_t listed; /* entries the listings held */
};

/* Reads a _cat/indices JSON answer (an array of objects with "index";
 * body[len] must be '\0'), and appends to plan, sorted by name, the indices of
 * pattern in whose last day is more than days (>= 1) UTC days before now_ms's
 * day. -1 with err for an answer that is not such an array (SL_EPARSE), more
 * than RETENTION_LIST_MAX entries, or no memory. */
SL_MUST_CHECK int retention_plan(const struct index_name *in, long long days,
                                 int64_t now_ms, const char *body, size_t len,
                                 struct retention_plan *plan,
                                 struct sl_err *err);
void retention_plan_release(struct retention_plan *plan);

struct retention_result {
    size_t listed;  /* indices under the prefix */
    size_t deleted; /* DELETEs answered 200 (or 404: already gone) */
};

/* Lists the pattern's indices at base (an Elasticsearch or OpenSearch URL)
 * and deletes those retention_plan() chooses, logging each. Stops at the
 * first failure, with the URL and what to fix (a 403 names the
 * delete_index privilege). days >= 1; the pattern must be dated with a
 * literal prefix (indexer_config checks it), else SL_EINVAL. */
SL_MUST_CHECK int retention_run(struct admin_http *h, const char *base,
                                const struct index_name *in, long long days,
                                int64_t now_ms, struct retention_result *r,
                                struct sl_err *err);

#endif
