/* es_sender.c: the life of a `_bulk` request: built, sealed, sent to a
 * node, its answer read item by item, the items that need it sent again,
 * split on 413, and each event's outcome reported once.
 *
 * Invariants:
 *   - open holds fewer than flush_count events and fewer than flush_bytes
 *     bytes whenever has_room() is true; it is sealed as soon as it reaches
 *     either, if sealed is free, so at most one sealed request waits;
 *   - a slot is IDLE (no work), SENDING (a transfer of stack[depth-1] is on
 *     the wire, or its answer is being handled) or WAITING (stack[depth-1]
 *     goes out at send_at). stack[0..depth) are the parts of one sealed
 *     request still to send: a 413 replaces the top by its two halves, so
 *     depth stays below log2(flush_count) + 2;
 *   - every event taken by add is in exactly one request (open, sealed or a
 *     slot's stack) until its outcome is reported, and pending counts them.
 *
 * Retry timing: items that failed (429, 5xx, blocks, missing index) wait
 * with the slot's own backoff, reset when its request is done; whole
 * requests that failed for the cluster's reasons (a whole-request 503,
 * 401, TLS) hold every slot until hold_until, with one backoff for the
 * sender, reset by any answered request. A refused node costs no wait: the
 * next node is tried at once.
 *
 * Not done here: choosing the index from the event (the caller passes it),
 * writing dead letters and acknowledging Redis (the caller, from the
 * outcomes), reading the answer's bytes (bulk_response.c). */
#include "es_sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_gzip.h"
#include "bulk_request.h"
#include "bulk_response.h"
#include "es_client.h"
#include "es_nodes.h"
#include "indexer_config.h"
#include "sl_backoff.h"
#include "sl_clock.h"
#include "sl_log.h"

#define COMP        "output:es"
#define SPLIT_DEPTH 32
#define ACTION_HEAD 21 /* strlen("{\"create\":{\"_index\":\"") */

enum slot_state { SLOT_IDLE, SLOT_SENDING, SLOT_WAITING };

struct slot {
    struct es_sender *s;
    size_t idx;
    enum slot_state state;
    struct bulk_request *stack[SPLIT_DEPTH];
    size_t depth;
    struct bulk_response *rs;
    struct bulk_gzip *gz;     /* NULL unless cfg.gzip */
    int node;                 /* of the transfer on the wire */
    int64_t send_at;          /* WAITING */
    int64_t sent_ms;          /* SENDING: when it went out */
    struct bulk_read_pos pos; /* SENDING a borrowing request: read so far */
    struct sl_backoff backoff;
};

enum counter_id {
    C_REQUESTS,
    C_BYTES,
    C_DONE,
    C_DUPLICATE,
    C_DEAD,
    C_RETRIED,
    C_RESENT,
    C_SPLITS,
    C_REFUSED,
    C_LATENCY_MS,
    C_N
};

struct es_sender {
    struct es_sender_config cfg;
    struct es_nodes *nodes;
    struct es_client *client;
    struct slot *slots;
    size_t nslots;
    struct bulk_request *open, *sealed;
    int64_t open_since;
    bool flush_wanted;
    struct bulk_request **spare; /* requests kept for reuse */
    size_t nspare, spare_cap;
    size_t *which; /* scratch: the items of an answer to retry */
    size_t max_bytes, pending;
    int64_t refused_logged_ms; /* the last warning of dead_at_add() */
    uint64_t refused_quiet;    /* refused since, not logged */
    int64_t hold_until;
    struct sl_backoff hold;
    int64_t failing_since; /* es_sender_failing_since(); 0: answered */
    char failure[768];     /* the last failure, "POST URL/_bulk: why" */
    struct sl_counter own[C_N];
    struct sl_counter *c[C_N];
};

static void slot_send(struct slot *sl, int64_t now);
static void dispatch(struct es_sender *s, int64_t now);

/* ---- requests kept for reuse --------------------------------------- */

static struct bulk_request *get_rq(struct es_sender *s, struct sl_err *err)
{
    struct bulk_request *rq;
    if (s->nspare > 0)
        return s->spare[--s->nspare];
    rq = bulk_request_new(s->max_bytes, s->cfg.flush_count, err);
    if (rq != NULL) {
        bulk_request_set_one_line(rq, s->cfg.one_line);
        bulk_request_set_borrowed(rq, s->cfg.borrow && !s->cfg.gzip);
    }
    return rq;
}

static void put_rq(struct es_sender *s, struct bulk_request *rq)
{
    if (rq == NULL)
        return;
    bulk_request_reset(rq);
    if (s->nspare < s->spare_cap)
        s->spare[s->nspare++] = rq;
    else
        bulk_request_free(rq);
}

/* ---- outcomes ------------------------------------------------------ */

/* The index of item i, from its action line (we wrote it: a JSON string
 * right after ACTION_HEAD). */
static struct sl_slice action_index(const struct bulk_request *rq, size_t i)
{
    struct sl_slice body = bulk_request_body(rq);
    const struct bulk_req_item *it = bulk_request_item(rq, i);
    const char *p = body.ptr + it->off + ACTION_HEAD, *q = p;
    const char *end = body.ptr + it->ev_off;

    while (q < end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    return (struct sl_slice){p, (size_t)(q > end ? end - p : q - p)};
}

static void report(struct es_sender *s, uint64_t tag, enum es_outcome o,
                   const struct es_dead *dead)
{
    static const enum counter_id ids[] = {C_DONE, C_DUPLICATE, C_DEAD};
    sl_counter_inc(s->c[ids[o]]);
    s->pending--;
    s->cfg.on_outcome(s->cfg.ctx, tag, o, dead);
}

static void report_dead(struct es_sender *s, const struct bulk_request *rq,
                        size_t i, const struct bulk_item *it)
{
    struct es_dead d = {.index = action_index(rq, i),
                        .status = it->status,
                        .type = it->type,
                        .reason = it->reason,
                        .cause_type = it->cause_type,
                        .cause_reason = it->cause_reason,
                        .event = bulk_request_event(rq, i)};
    report(s, bulk_request_item(rq, i)->tag, ES_OUTCOME_DEAD, &d);
}

/* An event refused before any request: reported DEAD with status 0. */
static void dead_at_add(struct es_sender *s, const char *index,
                        size_t index_len, const char *json, size_t json_len,
                        uint64_t tag, const char *type, const char *why)
{
    struct es_dead d = {.index = {index, index_len},
                        .type = {type, strlen(type)},
                        .reason = {why, strlen(why)},
                        .cause_type = {"", 0},
                        .cause_reason = {"", 0},
                        .event = {json, json_len}};
    s->pending++;
    /* One warning per 10 s at most (never per event above debug): only
     * "N to the dead letters" said an event was never sent, not why. */
    int64_t now = sl_clock_mono_ms();
    if (s->refused_logged_ms == 0 || now - s->refused_logged_ms >= 10000) {
        char more[80] = "";
        if (s->refused_quiet > 0)
            snprintf(more, sizeof more,
                     " (and %llu more since the last such message)",
                     (unsigned long long)s->refused_quiet);
        SL_WARN(COMP,
                "an event for index \"%.*s\" is not sent: %s; to the "
                "dead letters%s",
                (int)(index_len < 256 ? index_len : 256), index, why, more);
        s->refused_logged_ms = now;
        s->refused_quiet = 0;
    } else {
        s->refused_quiet++;
        SL_DEBUG(COMP, "event refused before sending: %s", why);
    }
    report(s, tag, ES_OUTCOME_DEAD, &d);
}

/* ---- failing in a row (es_sender_failing_since) --------------------- */

/* A request failed without an answer that resolves its items: the first
 * such failure since the last answer starts the count. */
static void note_failure(struct es_sender *s, int64_t now, const char *url,
                         const char *why)
{
    if (s->failing_since == 0)
        s->failing_since = now > 0 ? now : 1;
    snprintf(s->failure, sizeof s->failure, "POST %.200s/_bulk: %.500s", url,
             why);
}

/* ---- waiting ------------------------------------------------------- */

static void slot_wait(struct slot *sl, int64_t at)
{
    sl->state = SLOT_WAITING;
    sl->send_at = at;
}

/* A cluster-wide reason: every slot holds off until hold_until. Slots that
 * fail together while a hold is on do not lengthen it. */
static int64_t hold(struct es_sender *s, int64_t now)
{
    if (s->hold_until <= now)
        s->hold_until = now + sl_backoff_next(&s->hold);
    return s->hold_until;
}

/* The top request of sl is finished: the next part of the stack, or the
 * slot is free for the sealed request. */
static void slot_pop(struct slot *sl, int64_t now)
{
    put_rq(sl->s, sl->stack[--sl->depth]);
    sl->stack[sl->depth] = NULL;
    if (sl->depth > 0) {
        slot_send(sl, now);
        return;
    }
    sl_backoff_reset(&sl->backoff);
    sl->state = SLOT_IDLE;
    dispatch(sl->s, now);
}

/* ---- answers ------------------------------------------------------- */

/* The setting that lifts the block a cluster_block_exception names
 * (Elasticsearch's words in the reason, e.g. "index has
 * read-only-allow-delete block", "index write (api)"). */
static const char *block_setting(struct sl_slice reason)
{
    if (sl_slice_has(reason, "read-only-allow-delete"))
        return "read_only_allow_delete";
    if (sl_slice_has(reason, "index write"))
        return "write";
    if (sl_slice_has(reason, "index read-only"))
        return "read_only";
    return NULL;
}

static void log_blocked(const char *url, size_t n, size_t total,
                        struct sl_slice ix, struct sl_slice reason, int max_ms)
{
    const char *setting = block_setting(reason);
    bool flood =
        setting != NULL && strcmp(setting, "read_only_allow_delete") == 0;

    SL_ERROR(
        COMP,
        "POST %s/_bulk: %zu of %zu events not indexed: index \"%.*s\" "
        "is blocked (%.*s): %slift the block: PUT /%.*s/_settings "
        "{\"index.blocks.%s\":null}; retrying (backoff up to %d ms)",
        url, n, total, (int)ix.len, ix.ptr, (int)reason.len, reason.ptr,
        flood ? "free disk space below the flood-stage watermark, then " : "",
        (int)ix.len, ix.ptr, setting != NULL ? setting : "<the block>", max_ms);
}

static void log_retry(struct slot *sl, const struct bulk_request *rq, size_t i,
                      const struct bulk_item *it, size_t n, int max_ms)
{
    struct sl_slice ix = action_index(rq, i);
    const char *url = es_nodes_shown(sl->s->nodes, (size_t)sl->node);
    size_t total = bulk_request_count(rq);

    if (it->cls == BULK_NO_INDEX)
        SL_ERROR(COMP,
                 "POST %s/_bulk: %zu of %zu events not indexed: index "
                 "\"%.*s\" does not exist and the cluster does not create it "
                 "(action.auto_create_index): create it, or let its name be "
                 "created (sluice-indexer setup installs the template); "
                 "retrying (backoff up to %d ms)",
                 url, n, total, (int)ix.len, ix.ptr, max_ms);
    else if (sl_slice_eq(it->type, "cluster_block_exception", 23) &&
             block_setting(it->reason) != NULL)
        log_blocked(url, n, total, ix, it->reason, max_ms);
    else /* and blocks of the cluster's own that pass: "no master" while it
          * elects one (seen with the master killed) */
        SL_WARN(COMP,
                "POST %s/_bulk: %zu of %zu events to send again (backoff up "
                "to %d ms): status %d %.*s: %.*s",
                url, n, total, max_ms, it->status, (int)it->type.len,
                it->type.ptr, (int)it->reason.len, it->reason.ptr);
}

static void log_dead(struct slot *sl, const struct bulk_request *rq, size_t i,
                     const struct bulk_item *it, size_t n)
{
    const char *url = es_nodes_shown(sl->s->nodes, (size_t)sl->node);
    size_t total = bulk_request_count(rq);
    struct sl_slice ix = action_index(rq, i);

    /* a closed index answers 400 with reason "closed" only: name it and
     * say how to get the events in once it is open */
    if (sl_slice_eq(it->type, "index_closed_exception", 22))
        SL_ERROR(COMP,
                 "POST %s/_bulk: %zu of %zu events refused: index \"%.*s\" "
                 "is closed (index_closed_exception); to the dead-letter "
                 "stream: open it (POST /%.*s/_open), then run "
                 "`sluice-indexer dlq replay`",
                 url, n, total, (int)ix.len, ix.ptr, (int)ix.len, ix.ptr);
    else
        SL_ERROR(COMP,
                 "POST %s/_bulk: %zu of %zu events refused: %.*s \"%.*s\" "
                 "(index \"%.*s\"); to the dead-letter stream",
                 url, n, total, (int)it->type.len, it->type.ptr,
                 (int)it->reason.len, it->reason.ptr, (int)ix.len, ix.ptr);
}

/* Reports the final items of an answered request; the others go into
 * s->which. Returns how many are to send again; *first_retry and
 * *first_dead get the index of the first of each (or SIZE_MAX). */
static size_t sort_items(struct slot *sl, size_t *first_retry,
                         size_t *first_dead, size_t *ndead)
{
    struct es_sender *s = sl->s;
    const struct bulk_request *rq = sl->stack[sl->depth - 1];
    size_t n = 0, count = bulk_request_count(rq);
    struct bulk_item it;

    *first_retry = *first_dead = SIZE_MAX;
    *ndead = 0;
    if (bulk_response_class_count(sl->rs, BULK_DONE) == count) {
        /* all created (the usual answer): no item to look at */
        for (size_t i = 0; i < count; i++)
            report(s, bulk_request_item(rq, i)->tag, ES_OUTCOME_DONE, NULL);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (!bulk_response_item(sl->rs, i, &it))
            continue; /* finish succeeded: every item is there */
        if (it.cls == BULK_DONE || it.cls == BULK_DUPLICATE) {
            report(s, bulk_request_item(rq, i)->tag,
                   it.cls == BULK_DONE ? ES_OUTCOME_DONE : ES_OUTCOME_DUPLICATE,
                   NULL);
        } else if (it.cls == BULK_DEAD) {
            if ((*ndead)++ == 0)
                *first_dead = i;
            report_dead(s, rq, i, &it);
        } else {
            if (n == 0)
                *first_retry = i;
            s->which[n++] = i;
        }
    }
    return n;
}

/* The n items of rq to send again (s->which) join the retry another slot
 * is waiting to send, when they fit there: items refused for a while (a
 * blocked index, 429s) then wait in one slot instead of one slot per
 * request, and the other slots go on sending what can be indexed; with
 * every slot waiting, nothing else would be sent until the block is
 * lifted. */
static bool join_waiting_retry(struct slot *sl, const struct bulk_request *rq,
                               size_t n)
{
    struct es_sender *s = sl->s;
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *w = &s->slots[i];
        if (w == sl || w->state != SLOT_WAITING || w->depth != 1)
            continue;
        if (bulk_request_append_items(w->stack[0], rq, s->which, n, NULL) == 0)
            return true;
    }
    return false;
}

static void items_answered(struct slot *sl, int64_t now)
{
    struct es_sender *s = sl->s;
    struct bulk_request *rq = sl->stack[sl->depth - 1], *again;
    size_t first_retry, first_dead, ndead, n;
    struct bulk_item it;
    struct sl_err err;
    int delay;

    /* Before any outcome: with nowhere to put the items to retry, nothing
     * is reported and the whole request goes again (its 409s are done). */
    again = get_rq(s, &err);
    if (again == NULL) {
        SL_ERROR(COMP, "cannot keep the items to retry: %s", err.msg);
        slot_wait(sl, now + sl_backoff_next(&sl->backoff));
        return;
    }
    n = sort_items(sl, &first_retry, &first_dead, &ndead);
    if (ndead > 0 && bulk_response_item(sl->rs, first_dead, &it))
        log_dead(sl, rq, first_dead, &it, ndead);
    if (n == 0) {
        put_rq(s, again);
        slot_pop(sl, now);
        return;
    }
    if (bulk_response_item(sl->rs, first_retry, &it))
        log_retry(sl, rq, first_retry, &it, n, s->cfg.retry_max_ms);
    sl_counter_add(s->c[C_RETRIED], n);
    if (join_waiting_retry(sl, rq, n)) {
        put_rq(s, again);
        slot_pop(sl, now); /* the slot takes new events again */
        return;
    }
    delay = sl_backoff_next(&sl->backoff);
    /* Cannot fail: a subset of a request fits a request of the same
     * bounds, and s->which holds indices of rq. */
    if (bulk_request_copy_items(again, rq, s->which, n, &err) < 0)
        SL_ERROR(COMP, "retry request: %s", err.msg);
    put_rq(s, rq);
    sl->stack[sl->depth - 1] = again;
    slot_wait(sl, now + delay);
}

/* 413: the top request becomes its two halves, the first sent at once; a
 * single event too large for the server is dead. */
static void split(struct slot *sl, int64_t now)
{
    struct es_sender *s = sl->s;
    struct bulk_request *rq = sl->stack[sl->depth - 1], *a, *b = NULL;
    struct sl_err err;

    sl_counter_inc(s->c[C_SPLITS]);
    if (bulk_request_count(rq) == 1) {
        char why[160];
        int len = snprintf(why, sizeof why,
                           "the event alone (%zu bytes with its action "
                           "line) is over the server's "
                           "http.max_content_length",
                           bulk_request_size(rq));
        struct bulk_item it = {.status = 413,
                               .type = {"request_entity_too_large", 24},
                               .reason = {why, (size_t)len},
                               .cause_type = {"", 0},
                               .cause_reason = {"", 0}};
        SL_ERROR(COMP, "POST %s/_bulk: %s; to the dead-letter stream",
                 es_nodes_shown(s->nodes, (size_t)sl->node), why);
        report_dead(s, rq, 0, &it);
        slot_pop(sl, now);
        return;
    }
    a = get_rq(s, &err);
    if (a != NULL)
        b = get_rq(s, &err);
    if (b == NULL || sl->depth == SPLIT_DEPTH ||
        bulk_request_split(rq, a, b, &err) < 0) {
        SL_ERROR(COMP, "cannot split a request after a 413: %s", err.msg);
        put_rq(s, a);
        put_rq(s, b);
        slot_wait(sl, now + sl_backoff_next(&sl->backoff));
        return;
    }
    SL_WARN(COMP,
            "POST %s/_bulk: a request of %zu bytes is over the server's "
            "http.max_content_length: sent again in two halves; lower "
            "elasticsearch.flush_bytes",
            es_nodes_shown(s->nodes, (size_t)sl->node), bulk_request_size(rq));
    put_rq(s, rq);
    sl->stack[sl->depth - 1] = b;
    sl->stack[sl->depth++] = a;
    slot_send(sl, now);
}

/* The answer came but does not resolve the items: err says why. */
static void request_failed(struct slot *sl, long http, const struct sl_err *e,
                           int64_t now)
{
    struct es_sender *s = sl->s;
    const char *url = es_nodes_shown(s->nodes, (size_t)sl->node);

    if (http == 413) {
        s->failing_since = 0; /* it answers: the halves will do */
        split(sl, now);
        return;
    }
    /* it answers, busy (429) or blocked (a whole-request block below 500,
     * the flood stage's 429 or a 403): not down */
    if (http == 429 ||
        (e->status == SL_ERETRY && http >= 400 && http < 500 && http != 408))
        s->failing_since = 0;
    else
        note_failure(s, now, url, e->msg);
    sl_counter_inc(s->c[C_RESENT]);
    if (http >= 200 && http <= 299) {
        /* cut or unreadable: resend it all; its 409s count as done */
        int delay = sl_backoff_next(&sl->backoff);
        SL_WARN(COMP, "POST %s/_bulk: %s", url, e->msg);
        slot_wait(sl, now + delay);
        return;
    }
    slot_wait(sl, hold(s, now));
    /* the same words each time (no delay in them), so sl_log folds the
     * repeats of a failure that lasts */
    if (e->status == SL_ERETRY)
        SL_WARN(COMP,
                "POST %s/_bulk: %s; every request holds off (backoff up to "
                "%d ms)",
                url, e->msg, s->cfg.retry_max_ms);
    else
        SL_ERROR(COMP,
                 "POST %s/_bulk: %s; nothing is lost: retrying (backoff up "
                 "to %d ms)",
                 url, e->msg, s->cfg.retry_max_ms);
}

static bool on_body(void *ctx, const char *buf, size_t len)
{
    struct slot *sl = ctx;
    /* a body that is not a bulk answer (a 413 page) is judged by finish */
    SL_IGNORE_RESULT(bulk_response_feed(sl->rs, buf, len));
    return true;
}

/* A node answered: if it had been refusing, say once that it is back (its
 * refusals were said once, at the first). */
static void node_answered(struct es_sender *s, size_t node, int64_t now)
{
    unsigned long refusals;
    int64_t since = es_nodes_ok(s->nodes, node, &refusals);
    if (refusals > 0)
        SL_INFO(COMP,
                "%s answers again, after %.1f s and %lu refused "
                "attempts",
                es_nodes_shown(s->nodes, node), (double)(now - since) / 1000,
                refusals);
}

static void answered(struct slot *sl, long http, int64_t now)
{
    struct es_sender *s = sl->s;
    struct sl_err err;

    node_answered(s, (size_t)sl->node, now);
    if (bulk_response_finish(sl->rs, http, &err) < 0) {
        request_failed(sl, http, &err, now);
        return;
    }
    sl_backoff_reset(&s->hold);
    s->failing_since = 0;
    SL_DEBUG(COMP, "POST %s/_bulk: %zu events answered (fast path: %s)",
             es_nodes_shown(s->nodes, (size_t)sl->node),
             bulk_response_count(sl->rs),
             bulk_response_fast_path(sl->rs) ? "yes" : "no");
    items_answered(sl, now);
}

/* A node that refuses connections costs nothing to try again: it is set
 * aside for at most ES_SENDER_ASIDE_MAX_MS (retry_max if lower), so a node
 * back from a restart gets requests within seconds, not retry_max. */
static int aside_max_ms(const struct es_sender *s)
{
    return s->cfg.retry_max_ms < ES_SENDER_ASIDE_MAX_MS
               ? s->cfg.retry_max_ms
               : ES_SENDER_ASIDE_MAX_MS;
}
static void not_answered(struct slot *sl, const struct es_xfer_result *r,
                         int64_t now)
{
    struct es_sender *s = sl->s;
    const char *url = es_nodes_shown(s->nodes, (size_t)sl->node);
    int delay;

    note_failure(s, now, url, r->msg);
    switch (r->status) {
    case ES_XFER_REFUSED:
    case ES_XFER_RESOLVE:
        sl_counter_inc(s->c[C_REFUSED]);
        delay = es_nodes_set_aside(s->nodes, (size_t)sl->node, now);
        SL_DEBUG(COMP, "%s set aside for %d ms", url, delay);
        /* one node: there is no next one to send to; say where the
         * events wait instead. Said at the first refusal, at debug after
         * (a node down for hours is tried every few seconds), and once
         * when it answers again (node_answered). */
        sl_log(
            es_nodes_refusals(s->nodes, (size_t)sl->node) > 1 ? SL_LOG_DEBUG
            : r->status == ES_XFER_RESOLVE                    ? SL_LOG_ERROR
                                                              : SL_LOG_WARN,
            COMP,
            "POST %s/_bulk: %s; node set aside (backoff up to %d ms), %s; %s"
            " (said once until it answers)",
            url, r->msg, aside_max_ms(s),
            es_nodes_count(s->nodes) > 1
                ? "sending to the next one"
                : "tried again then; nothing is lost: the events wait in Redis",
            r->status == ES_XFER_RESOLVE
                ? "check the host name in elasticsearch.hosts"
                : "check that the node runs and listens there, or fix "
                  "elasticsearch.hosts");
        slot_send(sl, now);
        return;
    case ES_XFER_TLS:
        slot_wait(sl, hold(s, now));
        SL_ERROR(COMP,
                 "POST %s/_bulk: TLS: %s; set elasticsearch.ca_file to the CA "
                 "that signed the node's certificate and use the host name "
                 "the certificate names; nothing is lost: retrying",
                 url, r->msg);
        return;
    default:
        sl_counter_inc(s->c[C_RESENT]);
        delay = sl_backoff_next(&sl->backoff);
        SL_WARN(COMP,
                "POST %s/_bulk: %s; sending the whole request again (events "
                "already indexed will answer 409: done)",
                url, r->msg);
        slot_wait(sl, now + delay);
    }
}

static void on_done(void *ctx, const struct es_xfer_result *r)
{
    struct slot *sl = ctx;
    int64_t now = sl_clock_mono_ms();

    sl_counter_add(sl->s->c[C_LATENCY_MS], (uint64_t)(now - sl->sent_ms));
    if (r->status == ES_XFER_ANSWERED)
        answered(sl, r->http_status, now);
    else
        not_answered(sl, r, now);
}

/* ---- sending ------------------------------------------------------- */

/* A borrowing request's body, read by curl into its upload buffer. */
static size_t read_body(void *ctx, char *buf, size_t cap)
{
    struct slot *sl = ctx;
    return bulk_request_read(sl->stack[sl->depth - 1], &sl->pos, buf, cap);
}

static void rewind_body(void *ctx)
{
    struct slot *sl = ctx;
    sl->pos = (struct bulk_read_pos){0};
}

/* Posts rq to node: a scatter list when it borrows its events, else its
 * body, gzip-encoded when configured. The bytes sent, or -1. */
static long long post(struct slot *sl, const struct bulk_request *rq, int node,
                      struct sl_err *err)
{
    struct es_sender *s = sl->s;
    const char *url = es_nodes_bulk(s->nodes, node);
    struct sl_slice body = bulk_request_body(rq), out = body;
    bool gz = false;

    if (bulk_request_borrowed(rq)) {
        sl->pos = (struct bulk_read_pos){0};
        if (es_client_post_read(s->client, sl->idx, url, bulk_request_size(rq),
                                read_body, rewind_body, on_body, on_done, sl,
                                err) < 0)
            return -1;
        return (long long)bulk_request_size(rq);
    }
    if (sl->gz != NULL)
        gz = bulk_gzip_encode(sl->gz, body.ptr, body.len, &out, err) == 0;
    if (sl->gz != NULL && !gz)
        out = body; /* incompressible past the bound: send it plain */
    if (es_client_post(s->client, sl->idx, url, out.ptr, out.len, gz, on_body,
                       on_done, sl, err) < 0)
        return -1;
    return (long long)out.len;
}

static void slot_send(struct slot *sl, int64_t now)
{
    struct es_sender *s = sl->s;
    struct bulk_request *rq = sl->stack[sl->depth - 1];
    int64_t wait = 0;
    long long sent;
    struct sl_err err;
    int node;

    if (s->hold_until > now) {
        slot_wait(sl, s->hold_until);
        return;
    }
    if ((node = es_nodes_next(s->nodes, now, &wait)) < 0) {
        slot_wait(sl, now + wait);
        return;
    }
    bulk_response_reset(sl->rs, bulk_request_count(rq));
    sl->node = node;
    if ((sent = post(sl, rq, node, &err)) < 0) {
        SL_ERROR(COMP, "%s", err.msg);
        slot_wait(sl, now + sl_backoff_next(&sl->backoff));
        return;
    }
    sl->state = SLOT_SENDING;
    sl->sent_ms = now;
    sl_counter_inc(s->c[C_REQUESTS]);
    sl_counter_add(s->c[C_BYTES], (uint64_t)sent);
}

static bool open_due(const struct es_sender *s, int64_t now)
{
    size_t n = bulk_request_count(s->open);
    return n > 0 && (s->flush_wanted || n >= s->cfg.flush_count ||
                     bulk_request_size(s->open) >= s->cfg.flush_bytes ||
                     now - s->open_since >= s->cfg.flush_age_ms);
}

/* Seals the open request when due and a place is free. */
static void seal(struct es_sender *s, int64_t now)
{
    struct bulk_request *fresh;
    struct sl_err err;

    if (s->sealed != NULL || !open_due(s, now))
        return;
    if ((fresh = get_rq(s, &err)) == NULL) {
        SL_ERROR(COMP, "%s", err.msg); /* tried again at the next process */
        return;
    }
    s->sealed = s->open;
    s->open = fresh;
    s->flush_wanted = false;
}

static void dispatch(struct es_sender *s, int64_t now)
{
    seal(s, now);
    for (size_t i = 0; i < s->nslots && s->sealed != NULL; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state != SLOT_IDLE)
            continue;
        sl->stack[0] = s->sealed;
        sl->depth = 1;
        s->sealed = NULL;
        slot_send(sl, now);
        seal(s, now);
    }
}

/* ---- setup --------------------------------------------------------- */

static int check_config(const struct es_sender_config *cfg, struct sl_err *err)
{
    if (cfg->on_outcome == NULL)
        return sl_err_set(err, SL_EINVAL, "elasticsearch: no outcome callback");
    if (cfg->flush_bytes < 1 || cfg->flush_bytes > ((size_t)1 << 30) ||
        cfg->flush_count < 1 || cfg->flush_count > ((size_t)1 << 20) ||
        cfg->flush_age_ms < 1)
        return sl_err_set(err, SL_EINVAL,
                          "elasticsearch: flush bounds out of range (bytes "
                          "%zu, count %zu, age %ld ms)",
                          cfg->flush_bytes, cfg->flush_count,
                          cfg->flush_age_ms);
    if (cfg->retry_min_ms < 1 || cfg->retry_max_ms < cfg->retry_min_ms)
        return sl_err_set(err, SL_EINVAL,
                          "elasticsearch: retry backoff %d .. %d ms, expected "
                          "1 <= min <= max",
                          cfg->retry_min_ms, cfg->retry_max_ms);
    return 0;
}

static int register_metrics(struct es_sender *s, struct sl_metrics *m,
                            struct sl_err *err)
{
    static const struct {
        const char *name, *help;
    } plain[] = {
        [C_REQUESTS] = {"sluice_es_requests_total",
                        "bulk requests sent, resends included"},
        [C_BYTES] = {"sluice_es_request_bytes_total",
                     "bulk body bytes sent (after gzip)"},
        [C_RETRIED] = {"sluice_es_retried_events_total",
                       "events sent again after a 429, 5xx, block or "
                       "missing index"},
        [C_RESENT] = {"sluice_es_resent_requests_total",
                      "whole requests sent again (timeout, lost connection, "
                      "whole-request error)"},
        [C_SPLITS] = {"sluice_es_split_requests_total",
                      "requests split after a 413"},
        [C_REFUSED] = {"sluice_es_nodes_set_aside_total",
                       "times a node refusing connections was set aside"},
        [C_LATENCY_MS] = {"sluice_es_request_milliseconds_total",
                          "time from sending each bulk request to its end "
                          "(answered, timed out or lost), summed; over "
                          "sluice_es_requests_total: the mean latency"},
    };
    static const char *const labels[] = {"outcome", NULL};
    static const char *const outcomes[][1] = {
        {"done"}, {"duplicate"}, {"dead"}};
    struct sl_metric_family *f;

    for (size_t i = 0; i < C_N; i++)
        if (plain[i].name != NULL &&
            (s->c[i] = sl_metrics_counter(m, plain[i].name, plain[i].help,
                                          err)) == NULL)
            return -1;
    f = sl_metrics_family(m, SL_METRIC_COUNTER, "sluice_es_events_total",
                          "events whose outcome is final, by outcome", labels,
                          err);
    if (f == NULL ||
        (s->c[C_DONE] = sl_family_counter(f, outcomes[0], err)) == NULL ||
        (s->c[C_DUPLICATE] = sl_family_counter(f, outcomes[1], err)) == NULL ||
        (s->c[C_DEAD] = sl_family_counter(f, outcomes[2], err)) == NULL)
        return -1;
    return 0;
}

static int make_slots(struct es_sender *s, struct sl_err *err)
{
    size_t max_body = s->cfg.flush_count * (size_t)16384 + ((size_t)16 << 20);

    s->slots = calloc(s->nslots, sizeof *s->slots);
    if (s->slots == NULL)
        return sl_err_set(err, SL_ENOMEM, "elasticsearch: out of memory");
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        sl->s = s;
        sl->idx = i;
        sl_backoff_init(&sl->backoff, s->cfg.retry_min_ms, s->cfg.retry_max_ms,
                        0);
        sl->rs = bulk_response_new(s->cfg.flush_count, BULK_REASON_MAX_DEFAULT,
                                   max_body, err);
        if (sl->rs == NULL)
            return -1;
        if (s->cfg.gzip && (sl->gz = bulk_gzip_new(BULK_GZIP_LEVEL_DEFAULT,
                                                   s->max_bytes, err)) == NULL)
            return -1;
    }
    return 0;
}

static int make_client(struct es_sender *s, struct sl_err *err)
{
    struct es_client_config cc = {.max_transfers = s->nslots,
                                  .timeout_ms = s->cfg.request_timeout_ms,
                                  .username = s->cfg.username,
                                  .password = s->cfg.password,
                                  .api_key = s->cfg.api_key,
                                  .ca_file = s->cfg.ca_file,
                                  .tls_verify = s->cfg.tls_verify};
    char path[128];

    /* The server's own timeout first, well inside ours, so a healthy but
     * slow cluster answers (with per-item 503s) before we give up. The
     * answer keeps only what bulk_response.h reads (as Beats and Logstash
     * ask): an item is {"create":{"status":201}}, 26 bytes instead of about
     * 190, which was a fifth of the indexer's CPU. A failed request's own
     * error is never filtered by the server, and is kept anyway. */
    snprintf(path, sizeof path,
             "/_bulk?timeout=%ldms&filter_path=" ES_SENDER_FILTER_PATH,
             s->cfg.request_timeout_ms / 2 > 0 ? s->cfg.request_timeout_ms / 2
                                               : 1);
    s->nodes = es_nodes_new(s->cfg.hosts, s->cfg.nhosts, path,
                            s->cfg.retry_min_ms, aside_max_ms(s), err);
    if (s->nodes == NULL)
        return -1;
    s->client = es_client_new(&cc, err);
    return s->client == NULL ? -1 : 0;
}

struct es_sender *es_sender_new(const struct es_sender_config *cfg,
                                struct sl_err *err)
{
    struct es_sender *s;

    if (check_config(cfg, err) < 0)
        return NULL;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return sl_err_set(err, SL_ENOMEM, "elasticsearch: out of memory"), NULL;
    s->cfg = *cfg;
    s->nslots = cfg->max_in_flight;
    /* an item of the largest event, index and id, escaped (6 bytes for
     * \u00XX), fits whatever open holds below flush_bytes */
    s->max_bytes =
        cfg->flush_bytes + ES_SENDER_EVENT_MAX + 12 * ES_SENDER_NAME_MAX + 64;
    s->spare_cap = 2 + 2 * s->nslots;
    for (size_t i = 0; i < C_N; i++)
        s->c[i] = &s->own[i];
    sl_backoff_init(&s->hold, cfg->retry_min_ms, cfg->retry_max_ms, 0);
    if (make_client(s, err) < 0)
        goto fail;
    s->spare = calloc(s->spare_cap, sizeof *s->spare);
    s->which = calloc(cfg->flush_count, sizeof *s->which);
    if (s->spare == NULL || s->which == NULL) {
        sl_err_set(err, SL_ENOMEM, "elasticsearch: out of memory");
        goto fail;
    }
    if (make_slots(s, err) < 0 || (s->open = get_rq(s, err)) == NULL ||
        (cfg->metrics != NULL && register_metrics(s, cfg->metrics, err) < 0))
        goto fail;
    return s;
fail:
    es_sender_free(s);
    return NULL;
}

void es_sender_free(struct es_sender *s)
{
    if (s == NULL)
        return;
    es_client_free(s->client); /* first: no callback after this */
    for (size_t i = 0; s->slots != NULL && i < s->nslots; i++) {
        for (size_t k = 0; k < s->slots[i].depth; k++)
            bulk_request_free(s->slots[i].stack[k]);
        bulk_response_free(s->slots[i].rs);
        bulk_gzip_free(s->slots[i].gz);
    }
    for (size_t i = 0; i < s->nspare; i++)
        bulk_request_free(s->spare[i]);
    bulk_request_free(s->open);
    bulk_request_free(s->sealed);
    es_nodes_free(s->nodes);
    free(s->slots);
    free(s->spare);
    free(s->which);
    free(s);
}

void es_sender_config_from(struct es_sender_config *out,
                           const struct indexer_es_config *ec)
{
    *out = (struct es_sender_config){.hosts = ec->hosts.v,
                                     .nhosts = ec->hosts.n,
                                     .username = ec->username,
                                     .password = ec->password,
                                     .api_key = ec->api_key,
                                     .ca_file = ec->ca_file,
                                     .tls_verify = ec->tls_verify,
                                     .gzip = ec->gzip,
                                     .flush_bytes = (size_t)ec->flush_bytes,
                                     .flush_count = (size_t)ec->flush_count,
                                     .flush_age_ms = (long)ec->flush_age_ms,
                                     .max_in_flight = (size_t)ec->max_in_flight,
                                     .request_timeout_ms =
                                         (long)ec->request_timeout_ms,
                                     .retry_min_ms = (int)ec->retry_min_ms,
                                     .retry_max_ms = (int)ec->retry_max_ms};
}

/* ---- the caller's side --------------------------------------------- */

bool es_sender_has_room(const struct es_sender *s)
{
    return bulk_request_count(s->open) < s->cfg.flush_count &&
           bulk_request_size(s->open) < s->cfg.flush_bytes;
}

static void too_large(struct es_sender *s, const char *index, size_t index_len,
                      size_t id_len, const char *json, size_t json_len,
                      uint64_t tag)
{
    char msg[256];
    if (json_len > ES_SENDER_EVENT_MAX)
        snprintf(msg, sizeof msg,
                 "event of %zu bytes, above the %u bytes an event may be; "
                 "cut it where it is made (the shipper's max_line_bytes, "
                 "Logstash's truncate filter)",
                 json_len, ES_SENDER_EVENT_MAX);
    else
        snprintf(msg, sizeof msg,
                 "%s of %zu bytes, above the %u bytes it may be",
                 index_len > ES_SENDER_NAME_MAX ? "index name" : "id",
                 index_len > ES_SENDER_NAME_MAX ? index_len : id_len,
                 ES_SENDER_NAME_MAX);
    dead_at_add(s, index, index_len, json, json_len, tag,
                "sluice_event_too_large", msg);
}

int es_sender_add(struct es_sender *s, const char *index, size_t index_len,
                  const char *id, size_t id_len, const char *json,
                  size_t json_len, uint64_t tag, struct sl_err *err)
{
    int64_t now = sl_clock_mono_ms();
    struct sl_err why;

    if (!es_sender_has_room(s))
        return sl_err_set(err, SL_ELIMIT,
                          "elasticsearch: no room for the event: wait for "
                          "es_sender_has_room()");
    if (json_len > ES_SENDER_EVENT_MAX || index_len > ES_SENDER_NAME_MAX ||
        id_len > ES_SENDER_NAME_MAX) {
        too_large(s, index, index_len, id_len, json, json_len, tag);
        return 0;
    }
    if (bulk_request_add(s->open, index, index_len, id, id_len, json, json_len,
                         tag, &why) < 0) {
        if (why.status == SL_ENOMEM)
            return sl_err_set(err, SL_ENOMEM, "%s", why.msg);
        /* open is below flush_bytes and the item within the bounds above,
         * so it is never full here: only an event that is not one line,
         * or an empty index or id, which can never be sent */
        dead_at_add(s, index, index_len, json, json_len, tag,
                    why.status == SL_ELIMIT ? "sluice_event_too_large"
                                            : "sluice_invalid_event",
                    why.msg);
        return 0;
    }
    if (bulk_request_count(s->open) == 1)
        s->open_since = now;
    s->pending++;
    dispatch(s, now);
    return 0;
}

void es_sender_flush(struct es_sender *s)
{
    if (bulk_request_count(s->open) > 0)
        s->flush_wanted = true;
    dispatch(s, sl_clock_mono_ms());
}

size_t es_sender_pending(const struct es_sender *s)
{
    return s->pending;
}

bool es_sender_busy(const struct es_sender *s)
{
    if (s->sealed != NULL || s->flush_wanted)
        return true;
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].state != SLOT_IDLE)
            return true;
    return false;
}

size_t es_sender_max_pollfds(const struct es_sender *s)
{
    return ES_CLIENT_MAX_POLLFDS(s->nslots);
}

size_t es_sender_fill_pollfds(const struct es_sender *s, struct pollfd *pfds,
                              size_t n)
{
    return es_client_fill_pollfds(s->client, pfds, n);
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int es_sender_timeout_ms(const struct es_sender *s)
{
    int64_t now = sl_clock_mono_ms(), at = -1;
    int curl_ms = es_client_timeout_ms(s->client);

    if (curl_ms >= 0)
        at = now + curl_ms;
    for (size_t i = 0; i < s->nslots; i++)
        if (s->slots[i].state == SLOT_WAITING)
            at = earliest(at, s->slots[i].send_at);
    if (s->sealed == NULL && bulk_request_count(s->open) > 0)
        at = earliest(at, s->open_since + s->cfg.flush_age_ms);
    if (at < 0)
        return -1;
    return at <= now ? 0 : at - now > INT32_MAX ? INT32_MAX : (int)(at - now);
}

void es_sender_process(struct es_sender *s, const struct pollfd *pfds, size_t n)
{
    int64_t now;

    es_client_process(s->client, pfds, n);
    now = sl_clock_mono_ms();
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->state == SLOT_WAITING && sl->send_at <= now)
            slot_send(sl, now);
    }
    dispatch(s, now);
}

int64_t es_sender_failing_since(const struct es_sender *s, const char **why)
{
    if (why != NULL)
        *why = s->failing_since != 0 ? s->failure : "";
    return s->failing_since;
}

void es_sender_stats(const struct es_sender *s, struct es_sender_stats *out)
{
    out->requests = sl_counter_get(s->c[C_REQUESTS]);
    out->bytes = sl_counter_get(s->c[C_BYTES]);
    out->done = sl_counter_get(s->c[C_DONE]);
    out->duplicate = sl_counter_get(s->c[C_DUPLICATE]);
    out->dead = sl_counter_get(s->c[C_DEAD]);
    out->retried = sl_counter_get(s->c[C_RETRIED]);
    out->resent = sl_counter_get(s->c[C_RESENT]);
    out->splits = sl_counter_get(s->c[C_SPLITS]);
    out->refused = sl_counter_get(s->c[C_REFUSED]);
}
