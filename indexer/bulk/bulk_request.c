/* bulk_request.c: `_bulk` bodies built in one reused buffer.
 *
 * Invariants: items[0..n) are in body order, item i's bytes run from
 * items[i].off to items[i].ev_off + items[i].ev_len + 1 (the event's "\n")
 * and the next item starts there; the body is exactly the concatenation of
 * the items. Borrowed, the buffer holds the action lines: item i's runs
 * from off to ev_off, the next item's starts there, and its event is
 * items[i].ev (ev_len bytes, then a "\n" that exists only when read);
 * ev_bytes is the sum of ev_len + 1, so the body's size is body.len +
 * ev_bytes (0 when copied). Every failed add or copy restores these by
 * truncating the body to where it was (add) or emptying the request
 * (copy), so a request is never left half-written.
 *
 * Not done here: gzip (libcurl never compresses a request body, so
 * bulk_gzip.c encodes the finished body when configured), choosing the
 * index name from the event's timestamp (the caller passes it). */
#include "bulk_request.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"

/* Index names up to this long get their action head kept (Elasticsearch's
 * own limit is 255 bytes). */
#define HEAD_INDEX_MAX 255
#define HEAD_OPEN      "{\"create\":{\"_index\":"
#define HEAD_ID        ",\"_id\":"

struct bulk_request {
    struct sl_buf body;
    struct bulk_req_item *items;
    size_t n, max_items;
    bool one_line;   /* the caller vouches: no "\n" in its events */
    bool borrowed;   /* events are the caller's: body holds action lines */
    size_t ev_bytes; /* borrowed: the events' bytes, each "\n" included */
    /* The action line up to the _id's value, as written for the index of
     * an earlier add (most events of a request share their index): then
     * the next one with that index copies it instead of escaping the name
     * again. head_len 0: none kept. */
    char head_index[HEAD_INDEX_MAX];
    size_t head_index_len, head_len;
    char head[sizeof HEAD_OPEN - 1 + 6 * HEAD_INDEX_MAX + 2 + sizeof HEAD_ID];
};

struct bulk_request *bulk_request_new(size_t max_bytes, size_t max_items,
                                      struct sl_err *err)
{
    struct bulk_request *rq;

    if (max_bytes == 0 || max_items == 0 || max_items > ((size_t)1 << 24)) {
        sl_err_set(err, SL_EINVAL,
                   "bulk request: max_bytes %zu or max_items %zu out of range",
                   max_bytes, max_items);
        return NULL;
    }
    rq = calloc(1, sizeof *rq);
    if (rq != NULL)
        rq->items = calloc(max_items, sizeof *rq->items);
    if (rq == NULL || rq->items == NULL) {
        free(rq);
        sl_err_set(err, SL_ENOMEM, "bulk request: out of memory");
        return NULL;
    }
    sl_buf_init(&rq->body, max_bytes);
    rq->max_items = max_items;
    return rq;
}

void bulk_request_free(struct bulk_request *rq)
{
    if (rq == NULL)
        return;
    sl_buf_release(&rq->body);
    free(rq->items);
    free(rq);
}

void bulk_request_reset(struct bulk_request *rq)
{
    sl_buf_reset(&rq->body);
    rq->n = 0;
    rq->ev_bytes = 0;
}

void bulk_request_set_one_line(struct bulk_request *rq, bool vouched)
{
    rq->one_line = vouched;
}

void bulk_request_set_borrowed(struct bulk_request *rq, bool borrowed)
{
    assert(rq->n == 0);
    if (rq->n == 0)
        rq->borrowed = borrowed;
}

bool bulk_request_borrowed(const struct bulk_request *rq)
{
    return rq->borrowed;
}

static void truncate_body(struct sl_buf *b, size_t len)
{
    b->len = len;
    if (b->cap > 0)
        b->ptr[len] = '\0';
}

static int full(const struct bulk_request *rq, struct sl_err *err)
{
    if (rq->n == rq->max_items)
        return sl_err_set(err, SL_ELIMIT, "bulk request full: %zu items",
                          rq->max_items);
    return sl_err_set(err, SL_ELIMIT,
                      "bulk request full: the item would pass %zu bytes",
                      rq->body.max);
}

/* Borrowed: the event ev (ev_len, then its "\n") after the action line
 * just written from start; SL_ELIMIT past max_bytes. */
static int borrow_event(struct bulk_request *rq, size_t start, const char *ev,
                        size_t ev_len, struct sl_err *err)
{
    size_t size = rq->body.len + rq->ev_bytes;
    if (size > rq->body.max || rq->body.max - size < ev_len + 1)
        return sl_err_set(err, SL_ELIMIT, "bulk request full");
    rq->items[rq->n].off = start;
    rq->items[rq->n].ev_off = rq->body.len;
    rq->items[rq->n].ev = ev;
    rq->ev_bytes += ev_len + 1;
    return 0;
}

static bool same_head(const struct bulk_request *rq, const char *index,
                      size_t len)
{
    return rq->head_len > 0 && len == rq->head_index_len &&
           memcmp(index, rq->head_index, len) == 0;
}

static void keep_head(struct bulk_request *rq, const char *index, size_t len,
                      const char *head, size_t head_len)
{
    rq->head_len = 0;
    if (len > HEAD_INDEX_MAX || head_len > sizeof rq->head)
        return;
    memcpy(rq->head_index, index, len);
    rq->head_index_len = len;
    memcpy(rq->head, head, head_len);
    rq->head_len = head_len;
}

int bulk_request_add(struct bulk_request *rq, const char *index,
                     size_t index_len, const char *id, size_t id_len,
                     const char *ev, size_t ev_len, uint64_t tag,
                     struct sl_err *err)
{
    struct sl_buf *b = &rq->body;
    size_t start = b->len, ev_off;

    if (ev_len == 0 || index_len == 0 || id_len == 0)
        return sl_err_set(err, SL_EINVAL, "bulk request: empty %s",
                          ev_len == 0      ? "event"
                          : index_len == 0 ? "index"
                                           : "_id");
    assert(!rq->one_line || memchr(ev, '\n', ev_len) == NULL);
    if (!rq->one_line && memchr(ev, '\n', ev_len) != NULL)
        return sl_err_set(err, SL_EINVAL,
                          "bulk request: the event holds a newline; events "
                          "must be one line of JSON");
    if (rq->n == rq->max_items)
        return full(rq, err);
    if (same_head(rq, index, index_len)) {
        if (sl_buf_append(b, rq->head, rq->head_len, err) < 0)
            goto fail;
    } else if (sl_buf_append(b, HEAD_OPEN, sizeof HEAD_OPEN - 1, err) < 0 ||
               sl_json_write_string(b, index, index_len, err) < 0 ||
               sl_buf_append(b, HEAD_ID, sizeof HEAD_ID - 1, err) < 0) {
        goto fail;
    } else {
        keep_head(rq, index, index_len, b->ptr + start, b->len - start);
    }
    if (sl_json_write_string(b, id, id_len, err) < 0 ||
        sl_buf_append(b, "}}\n", 3, err) < 0)
        goto fail;
    if (rq->borrowed) {
        if (borrow_event(rq, start, ev, ev_len, err) < 0)
            goto fail;
    } else {
        ev_off = b->len;
        if (sl_buf_append(b, ev, ev_len, err) < 0 ||
            sl_buf_append_char(b, '\n', err) < 0)
            goto fail;
        rq->items[rq->n].off = start;
        rq->items[rq->n].ev_off = ev_off;
        rq->items[rq->n].ev = NULL;
    }
    rq->items[rq->n].tag = tag;
    rq->items[rq->n].ev_len = ev_len;
    rq->n++;
    return 0;
fail:
    truncate_body(b, start);
    if (err != NULL && err->status == SL_ELIMIT)
        return full(rq, err);
    return -1;
}

struct sl_slice bulk_request_body(const struct bulk_request *rq)
{
    struct sl_slice s = {rq->body.len > 0 ? rq->body.ptr : "", rq->body.len};
    return s;
}

size_t bulk_request_size(const struct bulk_request *rq)
{
    return rq->body.len + rq->ev_bytes;
}

size_t bulk_request_count(const struct bulk_request *rq)
{
    return rq->n;
}

/* Copies what is left of part[0..len) from *at, as much as fits buf[0..cap):
 * how many bytes; *at moves past them. */
static size_t read_part(const char *part, size_t len, size_t *at, char *buf,
                        size_t cap)
{
    size_t n = len - *at < cap ? len - *at : cap;
    memcpy(buf, part + *at, n);
    *at += n;
    return n;
}

/* Borrowed: item i's three parts (action line, event, "\n") read from
 * pos->at within the item. */
static size_t read_item(const struct bulk_request *rq,
                        struct bulk_read_pos *pos, char *buf, size_t cap)
{
    const struct bulk_req_item *it = &rq->items[pos->item];
    size_t act = it->ev_off - it->off, done = 0, at;

    if (pos->at < act) {
        at = pos->at;
        done += read_part(rq->body.ptr + it->off, act, &at, buf, cap);
        pos->at = at;
    }
    if (pos->at >= act && pos->at < act + it->ev_len && done < cap) {
        at = pos->at - act;
        done += read_part(it->ev, it->ev_len, &at, buf + done, cap - done);
        pos->at = act + at;
    }
    if (pos->at == act + it->ev_len && done < cap) {
        buf[done++] = '\n';
        pos->at = 0;
        pos->item++;
    }
    return done;
}

size_t bulk_request_read(const struct bulk_request *rq,
                         struct bulk_read_pos *pos, char *buf, size_t cap)
{
    size_t done = 0;

    if (!rq->borrowed) {
        if (pos->at >= rq->body.len)
            return 0;
        return read_part(rq->body.ptr, rq->body.len, &pos->at, buf, cap);
    }
    while (done < cap && pos->item < rq->n)
        done += read_item(rq, pos, buf + done, cap - done);
    return done;
}

const struct bulk_req_item *bulk_request_item(const struct bulk_request *rq,
                                              size_t i)
{
    return i < rq->n ? &rq->items[i] : NULL;
}

struct sl_slice bulk_request_event(const struct bulk_request *rq, size_t i)
{
    struct sl_slice s = {"", 0};
    if (i < rq->n) {
        s.ptr = rq->items[i].ev != NULL ? rq->items[i].ev
                                        : rq->body.ptr + rq->items[i].ev_off;
        s.len = rq->items[i].ev_len;
    }
    return s;
}

/* Appends src's item i to dst as it is, shifting its offsets. */
static int copy_one(struct bulk_request *dst, const struct bulk_request *src,
                    size_t i, struct sl_err *err)
{
    const struct bulk_req_item *it = &src->items[i];
    size_t len = it->ev_off - it->off + (it->ev != NULL ? 0 : it->ev_len + 1);
    size_t at = dst->body.len;

    if (dst->n == dst->max_items)
        return full(dst, err);
    if (sl_buf_append(&dst->body, src->body.ptr + it->off, len, err) < 0 ||
        (it->ev != NULL &&
         borrow_event(dst, at, it->ev, it->ev_len, err) < 0)) {
        truncate_body(&dst->body, at);
        return err != NULL && err->status == SL_ELIMIT ? full(dst, err) : -1;
    }
    dst->items[dst->n] = *it;
    dst->items[dst->n].off = at;
    dst->items[dst->n].ev_off = at + (it->ev_off - it->off);
    dst->n++;
    return 0;
}

int bulk_request_copy_items(struct bulk_request *dst,
                            const struct bulk_request *src, const size_t *which,
                            size_t n, struct sl_err *err)
{
    if (dst == src)
        return sl_err_set(err, SL_EINVAL, "bulk request: copy onto itself");
    bulk_request_reset(dst);
    return bulk_request_append_items(dst, src, which, n, err);
}

int bulk_request_append_items(struct bulk_request *dst,
                              const struct bulk_request *src,
                              const size_t *which, size_t n, struct sl_err *err)
{
    size_t n0 = dst->n, len0 = dst->body.len, ev0 = dst->ev_bytes;
    if (dst == src)
        return sl_err_set(err, SL_EINVAL, "bulk request: copy onto itself");
    if (dst->borrowed != src->borrowed)
        return sl_err_set(err, SL_EINVAL,
                          "bulk request: copy between a borrowing and a "
                          "copying request");
    for (size_t k = 0; k < n; k++) {
        if (which[k] >= src->n) {
            sl_err_set(err, SL_EINVAL,
                       "bulk request: item %zu of a request of %zu", which[k],
                       src->n);
            goto fail;
        }
        if (copy_one(dst, src, which[k], err) < 0)
            goto fail;
    }
    return 0;
fail:
    dst->n = n0;
    dst->ev_bytes = ev0;
    truncate_body(&dst->body, len0);
    return -1;
}

int bulk_request_split(const struct bulk_request *src, struct bulk_request *a,
                       struct bulk_request *b, struct sl_err *err)
{
    size_t half = src->n / 2;

    if (a == src || b == src || a == b)
        return sl_err_set(err, SL_EINVAL, "bulk request: split onto itself");
    if (a->borrowed != src->borrowed || b->borrowed != src->borrowed)
        return sl_err_set(err, SL_EINVAL,
                          "bulk request: split between a borrowing and a "
                          "copying request");
    bulk_request_reset(a);
    bulk_request_reset(b);
    if (src->n < 2)
        return sl_err_set(err, SL_ELIMIT,
                          "bulk request: one item of %zu bytes is too large "
                          "for the server; it cannot be split",
                          bulk_request_size(src));
    for (size_t i = 0; i < src->n; i++) {
        if (copy_one(i < half ? a : b, src, i, err) < 0) {
            bulk_request_reset(a);
            bulk_request_reset(b);
            return -1;
        }
    }
    return 0;
}
