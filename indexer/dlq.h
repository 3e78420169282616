/* dlq.h: the dead-letter stream read back, for `dlq list` and `dlq replay`
 * (cmd_dlq.c, cmd_dlq_replay.c): a blocking hiredis connection (a one-shot
 * command needs no loop) and the stream read in pages with XRANGE, each
 * entry taken apart by the field names deadletter.h fixes. */
#ifndef DLQ_H
#define DLQ_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "sl_err.h"
#include "sl_slice.h"

#define DLQ_PAGE       500 /* letters per XRANGE */
#define DLQ_ID_MAX     48  /* a stream entry id, "1700000000000-0" */
#define DLQ_TIMEOUT_MS 10000

/* One dead letter; slices point into the page's reply ("" when the field
 * is missing). */
struct dlq_letter {
    char entry_id[DLQ_ID_MAX]; /* the letter's own id in the stream */
    long long entry_ms;        /* when it was written (its id's time) */
    struct sl_slice type, reason, index, id, ts, source, host, event;
    int status;
};

struct dlq_page {
    redisReply *reply;
    struct dlq_letter *letters;
    size_t n;
};

/* Connects to url (sl_redis_url.h), logs in and selects the db. NULL with
 * err (the URL shown without its password) when Redis does not answer. */
redisContext *dlq_connect(const char *url, struct sl_err *err);

/* Reads up to count letters of key after the entry id `after` ("" from
 * the start) into p (freed and refilled). 0 and p->n == 0 at the end; -1
 * with err when Redis fails. */
SL_MUST_CHECK int dlq_page_read(redisContext *c, const char *key,
                                const char *after, size_t count,
                                struct dlq_page *p, struct sl_err *err);
void dlq_page_free(struct dlq_page *p); /* zeroed is fine */

/* A letter whose event can be sent again: it has an id, a time and an
 * event (not a whole bad entry, nor a list element that was not JSON). */
bool dlq_replayable(const struct dlq_letter *l);

#endif
