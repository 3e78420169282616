/* record_meta.c: see record_meta.h. A ring of cap entries; an entry is a
 * record, or after merges a run of records from `offset` to `last` (the
 * offset of its last record), so a take keeps an entry that reaches past
 * the event's end: the next event may start inside it. */
#include "record_meta.h"

#include <stdlib.h>

struct entry {
    struct record_meta m;
    uint64_t last;
};

struct record_meta_queue {
    struct entry *e;
    size_t cap, head, len;
    uint64_t merges;
};

struct record_meta_queue *record_meta_queue_new(size_t cap, struct sl_err *err)
{
    struct record_meta_queue *q = calloc(1, sizeof *q);
    if (cap < 2)
        cap = 2;
    if (q == NULL || (q->e = calloc(cap, sizeof *q->e)) == NULL) {
        free(q);
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    q->cap = cap;
    return q;
}

void record_meta_queue_free(struct record_meta_queue *q)
{
    if (q == NULL)
        return;
    free(q->e);
    free(q);
}

static struct entry *at(struct record_meta_queue *q, size_t i)
{
    return &q->e[(q->head + i) % q->cap];
}

void record_meta_push(struct record_meta_queue *q,
                      const struct container_log_record *r)
{
    if (q->len == q->cap) {
        /* the two newest become one; the record pushed keeps its own */
        struct entry *older = at(q, q->len - 2), *newer = at(q, q->len - 1);
        older->m.invalid |= newer->m.invalid;
        older->last = newer->last;
        q->len--;
        q->merges++;
    }
    struct entry *e = at(q, q->len++);
    e->m = (struct record_meta){r->offset, r->time_ms, r->stream, r->invalid};
    e->last = r->offset;
}

void record_meta_take(struct record_meta_queue *q, uint64_t offset,
                      uint64_t end, struct record_meta *m)
{
    *m = (struct record_meta){offset, CONTAINER_LOG_NO_TIME,
                              CONTAINER_LOG_STREAM_NONE, false};
    /* entries wholly before the event's first record: dropped lines */
    while (q->len > 1 && at(q, 1)->m.offset <= offset) {
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    if (q->len == 0 || at(q, 0)->m.offset >= end)
        return;
    m->time_ms = at(q, 0)->m.time_ms;
    m->stream = at(q, 0)->m.stream;
    while (q->len > 0 && at(q, 0)->m.offset < end) {
        struct entry *e = at(q, 0);
        m->invalid |= e->m.invalid;
        if (e->last >= end) /* reaches into what follows: keep it */
            break;
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
}

size_t record_meta_queue_len(const struct record_meta_queue *q)
{
    return q->len;
}

uint64_t record_meta_queue_merges(const struct record_meta_queue *q)
{
    return q->merges;
}
