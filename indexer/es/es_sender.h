/* es_sender.h: events in, `_bulk` requests out, and each event's final
 * outcome reported exactly once: the indexer's side of Elasticsearch.
 *
 *   struct es_sender *s = es_sender_new(&cfg, &err);
 *   loop:
 *     while (have an event && es_sender_has_room(s))
 *         es_sender_add(s, index, ilen, id, idlen, json, jlen, tag, &err);
 *     n = es_sender_fill_pollfds(s, pfds, es_sender_max_pollfds(s));
 *     poll(.., min(own, es_sender_timeout_ms(s)));
 *     es_sender_process(s, pfds, n);     -> cfg.on_outcome(ctx, tag, ..)
 *
 * Flow. Events go into the open request (bulk_request.h: `create` with the
 * event's _id). It is sealed when it reaches flush_bytes or flush_count,
 * when its first event is flush_age_ms old, or on es_sender_flush(); a
 * sealed request goes to a free slot, one of max_in_flight, each a request
 * on the wire or waiting to be sent again. While every slot is busy one
 * sealed request waits, and has_room() is false until a slot frees: that
 * is the backpressure (the caller stops pulling from Redis) and the bound
 * on memory: one open request, one sealed, and the slots' requests.
 *
 * Outcomes, one per event added, never "lost": DONE (2xx), DUPLICATE (409
 * on our own _id: already indexed, by a replay or a resend; done), DEAD
 * (the caller writes it to the dead-letter stream, with struct es_dead).
 * Everything else is retried inside, so an event is never reported before
 * its fate is final:
 *   - items 429, 5xx, write blocks (cluster_block_exception: the
 *     flood-stage read-only block), and 404 index_not_found (auto-create
 *     off): only those items are sent again, after exponential backoff with
 *     jitter (retry_min_ms .. retry_max_ms); a read-only index and a
 *     missing index are logged plainly with what to do;
 *   - mapping and parse errors (any status not above): DEAD, with index,
 *     status, error type and reason;
 *   - a whole-request 413: the request is split in two, each half sent;
 *     one event alone too large: DEAD (status 413);
 *   - refused connection, unresolvable name, connect timeout: the node is
 *     set aside with backoff and the request goes to the next node at once
 *     (es_nodes.h);
 *   - no answer within request_timeout_ms, a connection lost, an answer
 *     cut or not parseable: the whole request is sent again (409s then
 *     count as DUPLICATE);
 *   - a whole-request 429/5xx (503 with no master) or block, 401, 403,
 *     another 4xx, a TLS failure: cluster-wide, every slot holds off
 *     with backoff (no cycling through the nodes), logged with the URL and
 *     what to fix (credentials, CA file...), and sent again.
 * The callback runs from es_sender_process(), and from es_sender_add()
 * for an event that can never be sent (not one line of JSON, unless
 * cfg.one_line vouches for every event; an empty id or index, larger than a
 * request may be): DEAD at once, status 0. es_sender_free() with events still
 * inside reports nothing for them: the caller has not acknowledged them, so
 * Redis gives them again.
 *
 * Requests: POST {node}/_bulk?timeout={request_timeout_ms/2}ms&filter_path=
 * ES_SENDER_FILTER_PATH (the answer with only errors and each item's status
 * and error) with
 * Content-Type application/x-ndjson (gzip-encoded with Content-Encoding:
 * gzip when cfg.gzip), keep-alive, nodes in turn. Logs: component
 * "output:es", per request or rarer, never per event above debug, never a
 * secret (URLs without userinfo). Not thread-safe: one loop owns it. The
 * process must ignore SIGPIPE (curl runs with CURLOPT_NOSIGNAL, and a TLS
 * write to a node that closed raises it). */
#ifndef ES_SENDER_H
#define ES_SENDER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_metrics.h"
#include "sl_slice.h"

enum es_outcome {
    ES_OUTCOME_DONE,      /* indexed (2xx) */
    ES_OUTCOME_DUPLICATE, /* 409 on our own _id: already indexed; done */
    ES_OUTCOME_DEAD       /* refused for good: to the dead-letter stream */
};

/* Why an event is dead. Slices valid during the callback only. */
struct es_dead {
    struct sl_slice index;  /* as in the action line (JSON-escaped; index
                               names Elasticsearch accepts need no escape) */
    int status;             /* the item's HTTP status; 413: too large for
                               the server; 0: never sent (see above) */
    struct sl_slice type;   /* error.type ("mapper_parsing_exception") */
    struct sl_slice reason; /* error.reason */
    struct sl_slice cause_type, cause_reason; /* error.caused_by, or empty */
    struct sl_slice event;                    /* the event as added */
};

/* dead is NULL unless o is ES_OUTCOME_DEAD. */
typedef void (*es_outcome_fn)(void *ctx, uint64_t tag, enum es_outcome o,
                              const struct es_dead *dead);

struct es_sender_config {
    const char *const *hosts; /* node URLs, used in turn */
    size_t nhosts;
    const char *username, *password; /* basic auth, or both NULL */
    const char *api_key;             /* or this; secrets, never logged */
    const char *ca_file;             /* NULL: the system's CAs */
    bool tls_verify;                 /* verify the nodes' certificates */
    bool gzip;                       /* gzip request bodies */
    bool one_line;                   /* events vouched "\n"-free: unchecked */
    size_t flush_bytes;              /* seal the open request at this size */
    size_t flush_count;              /* ... or this many events */
    long flush_age_ms;               /* ... or when its first is this old */
    size_t max_in_flight;            /* requests on the wire, 1 .. 64 */
    long request_timeout_ms;         /* the client's own, per request */
    int retry_min_ms, retry_max_ms;  /* backoff of retries and hold-offs */
    /* The caller keeps each event's bytes unchanged until its outcome:
     * requests point at them and go out as scatter lists
     * (bulk_request_set_borrowed) instead of copying every event into a
     * body. Ignored with gzip. */
    bool borrow;
    es_outcome_fn on_outcome;
    void *ctx;
    struct sl_metrics *metrics; /* NULL: no counters registered */
};

struct indexer_es_config; /* indexer_config.h */

/* Fills every field of out but on_outcome, ctx and metrics from
 * indexer.json's elasticsearch section (strings borrowed from it: keep the
 * config until es_sender_free). */
void es_sender_config_from(struct es_sender_config *out,
                           const struct indexer_es_config *ec);

/* The largest event (its JSON), and the longest index name or id: a
 * request's body may pass flush_bytes by one item of these, so any event up
 * to them fits a request; a larger one is DEAD at add. */
/* What the `_bulk` answer keeps: all bulk_response.h reads. */
#define ES_SENDER_FILTER_PATH "errors,error,status,items.*.status,items.*.error"

/* The longest a node that refused a connection is set aside (Logstash
 * tries a dead node again every 5 s too). */
#define ES_SENDER_ASIDE_MAX_MS 5000

#define ES_SENDER_EVENT_MAX (8u << 20)
#define ES_SENDER_NAME_MAX  4096u

/* What the sender has done so far (also the counters, when registered). */
struct es_sender_stats {
    uint64_t requests;              /* HTTP requests sent (with resends) */
    uint64_t bytes;                 /* body bytes sent (after gzip) */
    uint64_t done, duplicate, dead; /* outcomes */
    uint64_t retried;               /* items sent again after an item failure */
    uint64_t resent;                /* whole requests sent again */
    uint64_t splits;                /* 413s */
    uint64_t refused;               /* nodes set aside */
};

struct es_sender;

/* Checks cfg (ranges, node URLs), sets up curl (curl_global_init must
 * have run); no I/O yet. NULL with SL_EINVAL or SL_ENOMEM. */
struct es_sender *es_sender_new(const struct es_sender_config *cfg,
                                struct sl_err *err);
void es_sender_free(struct es_sender *s); /* NULL is fine */

/* true when es_sender_add() will take one more event. */
bool es_sender_has_room(const struct es_sender *s);

/* Takes one event (json: one line) for index under id; tag comes back in
 * its outcome. index, id and json are copied (json is borrowed with
 * cfg.borrow). -1 with SL_ELIMIT when there is no room (has_room() was
 * false: the event is not taken), SL_ENOMEM. */
SL_MUST_CHECK int es_sender_add(struct es_sender *s, const char *index,
                                size_t index_len, const char *id, size_t id_len,
                                const char *json, size_t json_len, uint64_t tag,
                                struct sl_err *err);

/* Seals the open request now, to send it as soon as a slot is free (at
 * shutdown, for `run --once`). */
void es_sender_flush(struct es_sender *s);

/* Events taken and not yet reported; 0 when everything is final. */
size_t es_sender_pending(const struct es_sender *s);

/* A request is on the wire, waiting to be sent again, or sealed and
 * waiting for a slot: false when only the open request (if any) holds
 * events. */
bool es_sender_busy(const struct es_sender *s);

/* The poll loop's three calls (sl_http_server.h's shape). */
size_t es_sender_max_pollfds(const struct es_sender *s);
size_t es_sender_fill_pollfds(const struct es_sender *s, struct pollfd *pfds,
                              size_t n);
SL_MUST_CHECK int es_sender_timeout_ms(const struct es_sender *s);
void es_sender_process(struct es_sender *s, const struct pollfd *pfds,
                       size_t n);

void es_sender_stats(const struct es_sender *s, struct es_sender_stats *out);

/* Since when (sl_clock_mono_ms) every request has failed without an
 * answer that resolves its items: refused, unresolvable, timed out, lost,
 * TLS, or a whole-request error (401, 403, 5xx, a cut answer); 0 while the
 * last request ended in an answer (items, a 413, a whole-request 429 or
 * block: the cluster is there, only busy or blocked). *why (if not NULL) gets
 * the last failure, "POST URL/_bulk: why" (URL without userinfo), valid until
 * the next es_sender_process(). `run --once` gives up on it (loop.h). */
int64_t es_sender_failing_since(const struct es_sender *s, const char **why);

#endif
