/* es_nodes.h: the Elasticsearch nodes a sender writes to, taken in turn,
 * and the one rule that belongs to a node rather than to the cluster
 * (DESIGN.md "Scaling out"): a node that refuses connections (or whose name
 * does not resolve, or that never completes a connect) is set aside, with
 * exponential backoff and jitter per node, and the request goes to the next
 * node at once. The rules that belong to the cluster (a whole-request 503
 * with no master: back off, do not cycle) live in the sender.
 *
 * Each node keeps three strings, built once:
 *   url    the configured URL without a trailing "/": what curl is given
 *          (it may hold user:password@, which curl then uses)
 *   shown  the same without userinfo: the only form in logs and errors
 *   bulk   url + the path given to _new ("/_bulk?timeout=30000ms")
 *
 * Round robin: next() returns the node after the one it returned last,
 * skipping nodes set aside; when every node is set aside it returns -1 and
 * the time until the first comes back. A node comes back when its time is
 * up (no probe: the next request is the probe), and a success resets its
 * backoff. Not thread-safe: one loop owns it. */
#ifndef ES_NODES_H
#define ES_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

struct es_nodes;

/* urls[0..n): http:// or https:// URLs (n >= 1); path is appended to each
 * for bulk(); aside_min_ms .. aside_max_ms bound the set-aside backoff.
 * NULL with SL_EINVAL (no node, a URL without a scheme) or SL_ENOMEM. */
struct es_nodes *es_nodes_new(const char *const *urls, size_t n,
                              const char *path, int aside_min_ms,
                              int aside_max_ms, struct sl_err *err);
void es_nodes_free(struct es_nodes *ns); /* NULL is fine */

size_t es_nodes_count(const struct es_nodes *ns);
const char *es_nodes_url(const struct es_nodes *ns, size_t i);
const char *es_nodes_shown(const struct es_nodes *ns, size_t i);
const char *es_nodes_bulk(const struct es_nodes *ns, size_t i);

/* The next node in turn not set aside at now_ms, or -1 when all are, with
 * *wait_ms set to the time until the first one is back (>= 1). */
SL_MUST_CHECK int es_nodes_next(struct es_nodes *ns, int64_t now_ms,
                                int64_t *wait_ms);

/* Sets node i aside from now_ms for its next backoff delay (returned, ms);
 * the delay doubles with each refusal in a row, up to aside_max_ms. */
SL_MUST_CHECK int es_nodes_set_aside(struct es_nodes *ns, size_t i,
                                     int64_t now_ms);
/* Refusals of node i in a row since it last answered (0: it is up), so a
 * caller can say a node is down once, not at every retry. */
unsigned long es_nodes_refusals(const struct es_nodes *ns, size_t i);
/* Node i answered: its backoff starts again from aside_min_ms. Returns
 * when the refusals in a row began (the now_ms of the first), or 0 if it
 * had none; *refusals (if not NULL) gets how many there were. */
int64_t es_nodes_ok(struct es_nodes *ns, size_t i, unsigned long *refusals);
bool es_nodes_is_aside(const struct es_nodes *ns, size_t i, int64_t now_ms);

/* Copies url into out (size outsz) without its userinfo ("user:pw@"), so
 * it can be shown; cut if out is too small. */
void es_url_shown(const char *url, char *out, size_t outsz);

#endif
