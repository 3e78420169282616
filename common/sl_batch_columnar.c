/* sl_batch_columnar.c: the columnar codec (format in the header).
 *
 * Encoder: each event's shape is written (sl_event_write_shape) and looked
 * up, first as the previous event's, then in a small hash table of the
 * batch's shapes (a miss adds the shape again: a duplicate costs bytes,
 * never correctness); its values go to their columns as they come. A value
 * equal to the column's previous one is a tag; one whose bytes lie inside
 * the event's message (grok captures point there) a span, when that is
 * shorter than the bytes; anything else a literal. Each column remembers
 * its previous value by offset into the buffer holding its bytes (its own,
 * or the origins), as the event's memory is gone by the next event. An
 * append reserves the room of all its values first, and then writes them
 * without a check that can fail: when the room cannot be had, the event's
 * record is taken back and no column has changed.
 *
 * Decoder: one LZ4_decompress_safe into a buffer of exactly T bytes, the
 * shapes split once per entry at their markers, then a walk over the
 * events with a cursor per section and per column, every read checked
 * against its section's end and every write against dst's. */
#include "sl_batch_columnar.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "sl_batch.h"
#include "sl_json.h"

/* Every buffer's maximum: SL_COLUMNAR_MAX of the largest payload. */
#define BUF_MAX     SL_COLUMNAR_MAX(SL_BATCH_RAW_MAX)
#define HASH_SIZE   1024u
#define VARINT_MAX  10
#define ORIGIN_CARE 64

enum value_kind { V_SAME = 0, V_SPAN = 1, V_LIT = 2 };
#define TAG_PLAIN 4u

/* ---- varints -------------------------------------------------------- */

static size_t put_varint(unsigned char *o, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (unsigned char)v;
    return n;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline int append_varint(struct sl_buf *b, uint64_t v,
                                struct sl_err *err)
{
    if (sl_buf_reserve(b, VARINT_MAX, err) < 0)
        return -1;
    b->len += put_varint((unsigned char *)b->ptr + b->len, v);
    b->ptr[b->len] = '\0';
    return 0;
}

/* varint n, then n bytes */
static int append_counted(struct sl_buf *b, const void *p, size_t n,
                          struct sl_err *err)
{
    if (append_varint(b, n, err) < 0)
        return -1;
    return sl_buf_append(b, p, n, err);
}

/* ---- encoder -------------------------------------------------------- */

struct col {
    struct sl_buf b;
    size_t prev_off; /* the previous value's bytes, in the column or in */
    size_t prev_len; /* the origins (prev_origin) */
    bool has_prev, prev_origin;
};

struct shape_ent {
    size_t off, len; /* the text, in shapes */
    size_t nval;
};

struct sl_columnar_enc {
    struct sl_event_shape sh; /* the prepared event */
    /* each value's length escaped, and where it is in the origin
     * (SIZE_MAX: not a span of it) */
    struct val_info {
        size_t esc, off;
        bool same; /* the bytes of its column's previous value */
    } * info;
    size_t info_cap;
    struct sl_slice origin; /* the prepared event's message, or NULL */
    /* the origin is stored as its JSON (an ASCII origin that needs
     * escaping), origin_esc bytes: spans of it are the values' JSON */
    bool origin_escaped;
    size_t origin_esc;
    /* the origin's bytes that need escaping (an ASCII origin with at most
     * ORIGIN_CARE of them: norigin_care; else SIZE_MAX) */
    size_t norigin_care;
    uint32_t care_at[ORIGIN_CARE];
    uint8_t care_extra[ORIGIN_CARE];
    bool prepared;
    struct sl_buf shapes; /* varint n + text, for each shape */
    struct shape_ent *tab;
    size_t nshapes, tab_cap;
    uint32_t hash[HASH_SIZE]; /* 1 + a shape's index; 0: none */
    size_t last_shape;        /* the previous event's, when count > 0 */
    struct sl_buf sids, times, ids, origins;
    struct col col[SL_COLUMNAR_COLS];
    int64_t prev_ts;
    size_t count;
    struct sl_buf flat; /* the transposed buffer, at seal */
};

struct sl_columnar_enc *sl_columnar_enc_new(struct sl_err *err)
{
    struct sl_columnar_enc *e = calloc(1, sizeof *e);
    if (e == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for a columnar encoder");
        return NULL;
    }
    sl_event_shape_init(&e->sh, BUF_MAX);
    sl_buf_init(&e->shapes, BUF_MAX);
    sl_buf_init(&e->sids, BUF_MAX);
    sl_buf_init(&e->times, BUF_MAX);
    sl_buf_init(&e->ids, BUF_MAX);
    sl_buf_init(&e->origins, BUF_MAX);
    sl_buf_init(&e->flat, BUF_MAX);
    for (int i = 0; i < SL_COLUMNAR_COLS; i++)
        sl_buf_init(&e->col[i].b, BUF_MAX);
    return e;
}

void sl_columnar_enc_free(struct sl_columnar_enc *e)
{
    if (e == NULL)
        return;
    sl_event_shape_release(&e->sh);
    free(e->info);
    free(e->tab);
    sl_buf_release(&e->shapes);
    sl_buf_release(&e->sids);
    sl_buf_release(&e->times);
    sl_buf_release(&e->ids);
    sl_buf_release(&e->origins);
    sl_buf_release(&e->flat);
    for (int i = 0; i < SL_COLUMNAR_COLS; i++)
        sl_buf_release(&e->col[i].b);
    free(e);
}

void sl_columnar_enc_reset(struct sl_columnar_enc *e)
{
    sl_buf_reset(&e->shapes);
    sl_buf_reset(&e->sids);
    sl_buf_reset(&e->times);
    sl_buf_reset(&e->ids);
    sl_buf_reset(&e->origins);
    sl_buf_reset(&e->flat);
    for (int i = 0; i < SL_COLUMNAR_COLS; i++) {
        sl_buf_reset(&e->col[i].b);
        e->col[i].has_prev = false;
    }
    memset(e->hash, 0, sizeof e->hash);
    e->nshapes = 0;
    e->count = 0;
    e->prev_ts = 0;
    e->prepared = false;
}

/* The top-level "message" string, the event's origin. */
static struct sl_slice find_origin(const struct sl_event *ev)
{
    for (const struct sl_value *v = ev->root.first; v != NULL; v = v->next)
        if (v->key.len == 7 && memcmp(v->key.ptr, "message", 7) == 0)
            return v->type == SL_VALUE_STRING ? v->text
                                              : (struct sl_slice){NULL, 0};
    return (struct sl_slice){NULL, 0};
}

/* Where p[0..n) lies in the origin, or SIZE_MAX. */
static size_t origin_offset(const struct sl_columnar_enc *e, const char *p,
                            size_t n)
{
    uintptr_t o = (uintptr_t)e->origin.ptr, at = (uintptr_t)p;
    if (e->origin.ptr == NULL || at < o || at - o > e->origin.len ||
        n > e->origin.len - (at - o))
        return SIZE_MAX;
    return (size_t)(at - o);
}

/* p[0..n) == q[0..n): a call only for the long ones (the messages) */
static inline bool same_bytes(const char *p, const char *q, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        memcpy(&c, q, 8);
        memcpy(&d, q + n - 8, 8);
        return ((a ^ c) | (b ^ d)) == 0;
    }
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (p[i] != q[i])
                return false;
        return true;
    }
    return memcmp(p, q, n) == 0;
}

/* Whether v has the bytes of the previous value of column k (one of
 * its own, not the shared last), and so needs no escaping: that value
 * was stored as it is written. Nothing of this event is in the column
 * yet. */
static bool same_as_before(const struct sl_columnar_enc *e, size_t k,
                           const struct sl_value *v)
{
    const struct col *c = &e->col[k];
    return c->has_prev && c->prev_len == v->text.len &&
           same_bytes((c->prev_origin ? e->origins.ptr : c->b.ptr) +
                          c->prev_off,
                      v->text.ptr, v->text.len);
}

/* The escaped length of v, a span of the origin at *off when that is
 * not SIZE_MAX: counted from the origin's list when it has one, which
 * also moves *off to where the span is in the escaped origin. */
static size_t escaped_len(const struct sl_columnar_enc *e,
                          const struct sl_value *v, size_t *off)
{
    if (*off == SIZE_MAX || e->norigin_care == SIZE_MAX)
        /* a number is JSON as it is: nothing in it needs escaping */
        return v->type == SL_VALUE_NUMBER
                   ? v->text.len
                   : sl_json_escaped_len(v->text.ptr, v->text.len);
    size_t n = v->text.len, end = *off + n, before = 0;
    for (size_t i = 0; i < e->norigin_care && e->care_at[i] < end; i++) {
        if (e->care_at[i] >= *off)
            n += e->care_extra[i];
        else
            before += e->care_extra[i];
    }
    *off += before;
    return n;
}

int sl_columnar_enc_prepare(struct sl_columnar_enc *e,
                            const struct sl_event *ev, size_t *json_len,
                            struct sl_err *err)
{
    e->prepared = false;
    if (sl_event_write_shape(ev, &e->sh, err) < 0)
        return -1;
    if (e->sh.nval > e->info_cap) {
        struct val_info *a = realloc(e->info, e->sh.cap * sizeof *a);
        if (a == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for an event");
        e->info = a;
        e->info_cap = e->sh.cap;
    }
    e->origin = find_origin(ev);
    e->norigin_care =
        e->origin.ptr == NULL
            ? SIZE_MAX
            : sl_json_care_list(e->origin.ptr, e->origin.len, e->care_at,
                                e->care_extra, ORIGIN_CARE);
    e->origin_escaped = e->norigin_care != SIZE_MAX && e->norigin_care > 0;
    e->origin_esc = e->origin.len;
    for (size_t i = 0; e->origin_escaped && i < e->norigin_care; i++)
        e->origin_esc += e->care_extra[i];
    size_t len = e->sh.text.len - e->sh.nval;
    for (size_t i = 0; i < e->sh.nval; i++) {
        /* for a number too: "same as before" takes the previous value's
         * flag, which may have been a string's */
        const struct sl_value *v = e->sh.val[i];
        struct val_info *in = &e->info[i];
        in->same = i < SL_COLUMNAR_COLS - 1 && same_as_before(e, i, v);
        if (in->same) { /* plain, as the value it repeats */
            in->esc = v->text.len;
            in->off = SIZE_MAX;
            len += v->text.len + (v->type == SL_VALUE_STRING ? 2 : 0);
            continue;
        }
        in->off = v->text.len > 0 ? origin_offset(e, v->text.ptr, v->text.len)
                                  : SIZE_MAX;
        in->esc = escaped_len(e, v, &in->off);
        /* a number is written as it is, not as a span's JSON */
        if (e->origin_escaped && v->type == SL_VALUE_NUMBER &&
            in->esc != v->text.len)
            in->off = SIZE_MAX;
        /* a span only when shorter than the bytes */
        if (in->off != SIZE_MAX && varint_size(in->off) >= v->text.len)
            in->off = SIZE_MAX;
        len += v->type == SL_VALUE_STRING ? in->esc + 2 : v->text.len;
    }
    e->prepared = true;
    *json_len = len;
    return 0;
}

static size_t shape_hash(const char *p, size_t len, size_t nval)
{
    uint64_t h = (uint64_t)len * 0x9E3779B97F4A7C15u ^ nval;
    if (len >= 8) {
        uint64_t a, b, c;
        memcpy(&a, p, 8);
        memcpy(&b, p + (len - 8) / 2, 8);
        memcpy(&c, p + len - 8, 8);
        h ^= (a * 0xff51afd7ed558ccdu) ^ (b * 0xc4ceb9fe1a85ec53u) ^ c;
    } else {
        for (size_t i = 0; i < len; i++)
            h = h * 31 + (unsigned char)p[i];
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9u;
    return (size_t)(h >> 32) & (HASH_SIZE - 1);
}

static bool shape_is(const struct sl_columnar_enc *e, size_t i)
{
    const struct shape_ent *s = &e->tab[i];
    return s->len == e->sh.text.len && s->nval == e->sh.nval &&
           memcmp(e->shapes.ptr + s->off, e->sh.text.ptr, s->len) == 0;
}

/* The prepared shape's index, added when new; *bucket, *old: the hash
 * entry it replaced, for a rollback. */
static int shape_index(struct sl_columnar_enc *e, size_t *idx, size_t *bucket,
                       uint32_t *old, struct sl_err *err)
{
    *bucket = HASH_SIZE;
    if (e->count > 0 && shape_is(e, e->last_shape)) {
        *idx = e->last_shape;
        return 0;
    }
    size_t h = shape_hash(e->sh.text.ptr, e->sh.text.len, e->sh.nval);
    if (e->hash[h] != 0 && shape_is(e, e->hash[h] - 1)) {
        *idx = e->hash[h] - 1;
        return 0;
    }
    if (e->nshapes == UINT32_MAX - 1)
        return sl_err_set(err, SL_ELIMIT, "too many shapes in a batch");
    if (e->nshapes == e->tab_cap) {
        size_t cap = e->tab_cap > 0 ? 2 * e->tab_cap : 64;
        struct shape_ent *t = realloc(e->tab, cap * sizeof *t);
        if (t == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for a batch");
        e->tab = t;
        e->tab_cap = cap;
    }
    if (append_varint(&e->shapes, e->sh.text.len, err) < 0)
        return -1;
    size_t off = e->shapes.len;
    if (sl_buf_append(&e->shapes, e->sh.text.ptr, e->sh.text.len, err) < 0)
        return -1;
    e->tab[e->nshapes] = (struct shape_ent){off, e->sh.text.len, e->sh.nval};
    *bucket = h;
    *old = e->hash[h];
    e->hash[h] = (uint32_t)(e->nshapes + 1);
    *idx = e->nshapes++;
    return 0;
}

/* The most one value takes in its column: a tag, an offset, its bytes. */
static inline size_t value_room(const struct sl_value *v)
{
    return 2 * VARINT_MAX + v->text.len;
}

/* Room for every value of the prepared event in its column (the values
 * from the last column on share it), before any is written. */
static int reserve_values(struct sl_columnar_enc *e, struct sl_err *err)
{
    size_t k = 0, nval = e->sh.nval, last = SL_COLUMNAR_COLS - 1;
    for (; k < nval && k < last; k++)
        if (sl_buf_reserve(&e->col[k].b, value_room(e->sh.val[k]), err) < 0)
            return -1;
    size_t need = 0;
    for (; k < nval; k++)
        need += value_room(e->sh.val[k]);
    return need > 0 ? sl_buf_reserve(&e->col[last].b, need, err) : 0;
}

/* One value into its column, whose room is reserved: the same as before,
 * a span of the origin, or the bytes. */
static void put_value(struct sl_columnar_enc *e, struct col *c, bool shared,
                      const struct sl_value *v, const struct val_info *in,
                      size_t origin_at)
{
    const char *p = v->text.ptr;
    size_t n = v->text.len;
    bool plain = in->esc == n;
    unsigned char *o = (unsigned char *)c->b.ptr + c->b.len;
    /* "the same" only between values stored as they are written, where
     * the bytes compared are the JSON's (in the shared last column, found
     * here: the values before it in this event change its previous) */
    if (in->same ||
        (shared && plain && c->has_prev && c->prev_len == n &&
         same_bytes((c->prev_origin ? e->origins.ptr : c->b.ptr) + c->prev_off,
                    p, n))) {
        *o++ = 0;
    } else if (in->off != SIZE_MAX) {
        /* a span of an escaped origin is the value's JSON: copied */
        size_t len = e->origin_escaped ? in->esc : n;
        uint64_t tag = (uint64_t)len << 3 |
                       (plain || e->origin_escaped ? TAG_PLAIN : 0) | V_SPAN;
        o += put_varint(o, tag);
        o += put_varint(o, in->off);
        c->prev_off = origin_at + in->off;
        c->prev_len = n;
        c->has_prev = plain;
        c->prev_origin = true;
    } else {
        o += put_varint(o, (uint64_t)n << 3 | (plain ? TAG_PLAIN : 0) | V_LIT);
        c->prev_off = (size_t)(o - (unsigned char *)c->b.ptr);
        c->prev_len = n;
        c->has_prev = plain;
        c->prev_origin = false;
        if (n > 0)
            memcpy(o, p, n);
        o += n;
    }
    c->b.len = (size_t)((char *)o - c->b.ptr);
    *o = '\0';
}

/* The event's record: shape, time, id, origin (where its bytes start in
 * *origin_at). */
static int put_record(struct sl_columnar_enc *e, size_t shape, const char *id,
                      size_t id_len, int64_t ts_ms, size_t *origin_at,
                      struct sl_err *err)
{
    int64_t d = ts_ms - e->prev_ts;
    uint64_t zz = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
    unsigned char n = (unsigned char)id_len;
    if (append_varint(&e->sids, shape, err) < 0 ||
        append_varint(&e->times, zz, err) < 0 ||
        sl_buf_append(&e->ids, &n, 1, err) < 0 ||
        sl_buf_append(&e->ids, id, id_len, err) < 0)
        return -1;
    if (e->origin.ptr == NULL)
        return append_varint(&e->origins, 0, err);
    if (!e->origin_escaped) {
        if (append_varint(&e->origins, (uint64_t)e->origin.len + 1, err) < 0)
            return -1;
        *origin_at = e->origins.len;
        return sl_buf_append(&e->origins, e->origin.ptr, e->origin.len, err);
    }
    /* as the JSON has it: the runs between the bytes the list names, and
     * each of those escaped */
    size_t len = e->origin_esc;
    if (append_varint(&e->origins, (uint64_t)len + 1, err) < 0 ||
        sl_buf_reserve(&e->origins, len + SL_BUF_SLACK, err) < 0)
        return -1;
    *origin_at = e->origins.len;
    char *o = e->origins.ptr + e->origins.len;
    const char *src = e->origin.ptr;
    size_t at = 0;
    for (size_t i = 0; i < e->norigin_care; i++) {
        size_t k = e->care_at[i];
        memcpy(o, src + at, k - at);
        o = sl_json_escape_ascii(o + (k - at), (unsigned char)src[k]);
        at = k + 1;
    }
    memcpy(o, src + at, e->origin.len - at);
    e->origins.len += len;
    e->origins.ptr[e->origins.len] = '\0';
    return 0;
}

int sl_columnar_enc_append(struct sl_columnar_enc *e, const char *id,
                           size_t id_len, int64_t ts_ms, struct sl_err *err)
{
    if (!e->prepared)
        return sl_err_set(err, SL_EINVAL, "no event prepared");
    size_t lens[5] = {e->shapes.len, e->sids.len, e->times.len, e->ids.len,
                      e->origins.len};
    size_t nshapes = e->nshapes, shape = 0, bucket = HASH_SIZE, origin_at = 0;
    uint32_t old = 0;
    if (shape_index(e, &shape, &bucket, &old, err) < 0 ||
        put_record(e, shape, id, id_len, ts_ms, &origin_at, err) < 0 ||
        reserve_values(e, err) < 0)
        goto fail;
    size_t k = 0, nval = e->sh.nval;
    for (; k < nval && k < SL_COLUMNAR_COLS - 1; k++)
        put_value(e, &e->col[k], false, e->sh.val[k], &e->info[k], origin_at);
    for (; k < nval; k++)
        put_value(e, &e->col[SL_COLUMNAR_COLS - 1], true, e->sh.val[k],
                  &e->info[k], origin_at);
    e->prev_ts = ts_ms;
    e->last_shape = shape;
    e->count++;
    e->prepared = false;
    return 0;
fail:
    e->shapes.len = lens[0];
    e->sids.len = lens[1];
    e->times.len = lens[2];
    e->ids.len = lens[3];
    e->origins.len = lens[4];
    struct sl_buf *b[] = {&e->shapes, &e->sids, &e->times, &e->ids,
                          &e->origins};
    for (size_t i = 0; i < 5; i++)
        if (b[i]->cap > 0)
            b[i]->ptr[b[i]->len] = '\0';
    e->nshapes = nshapes;
    if (bucket < HASH_SIZE)
        e->hash[bucket] = old;
    return -1;
}

/* The transposed buffer, into e->flat. */
static int flatten(struct sl_columnar_enc *e, struct sl_err *err)
{
    struct sl_buf *f = &e->flat;
    sl_buf_reset(f);
    int ncols = SL_COLUMNAR_COLS;
    while (ncols > 0 && e->col[ncols - 1].b.len == 0)
        ncols--;
    if (append_varint(f, e->count, err) < 0 ||
        append_varint(f, e->nshapes, err) < 0 ||
        sl_buf_append(f, e->shapes.ptr, e->shapes.len, err) < 0 ||
        append_counted(f, e->sids.ptr, e->sids.len, err) < 0 ||
        append_counted(f, e->times.ptr, e->times.len, err) < 0 ||
        append_counted(f, e->ids.ptr, e->ids.len, err) < 0 ||
        append_counted(f, e->origins.ptr, e->origins.len, err) < 0 ||
        append_varint(f, (uint64_t)ncols, err) < 0)
        return -1;
    for (int i = 0; i < ncols; i++)
        if (append_counted(f, e->col[i].b.ptr, e->col[i].b.len, err) < 0)
            return -1;
    return 0;
}

int sl_columnar_enc_seal(struct sl_columnar_enc *e, size_t raw, int accel,
                         struct sl_buf *out, struct sl_err *err)
{
    if (flatten(e, err) < 0)
        return -1;
    size_t t = e->flat.len;
    if (t > SL_COLUMNAR_MAX(raw) || t > LZ4_MAX_INPUT_SIZE)
        return sl_err_set(err, SL_EIO,
                          "columnar: a batch of %zu bytes transposed to %zu, "
                          "above the format's bound; use codec lz4",
                          raw, t);
    size_t bound = (size_t)LZ4_compressBound((int)t);
    sl_buf_reset(out);
    if (sl_buf_reserve(out, VARINT_MAX + bound, err) < 0)
        return -1;
    size_t n = put_varint((unsigned char *)out->ptr, t);
    int c =
        LZ4_compress_fast(e->flat.ptr, out->ptr + n, (int)t, (int)bound, accel);
    if (c <= 0)
        return sl_err_set(err, SL_EIO,
                          "lz4 failed to compress a batch of %zu bytes", t);
    out->len = n + (size_t)c;
    out->ptr[out->len] = '\0';
    return 0;
}

/* ---- decoder -------------------------------------------------------- */

struct seg {
    const char *p;
    size_t len;
    int kind; /* what follows: 0 the end, 1 a string, 2 a number */
};

struct shp {
    size_t first; /* in seg */
};

struct sl_columnar_dec {
    struct sl_buf flat;
    struct sl_buf esc; /* an escaped value near dst's end */
    bool oom;          /* the decoding failed for memory */
    struct seg *seg;
    size_t seg_cap;
    struct shp *shp;
    size_t shp_cap;
};

struct sl_columnar_dec *sl_columnar_dec_new(struct sl_err *err)
{
    struct sl_columnar_dec *d = calloc(1, sizeof *d);
    if (d == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for a columnar decoder");
        return NULL;
    }
    sl_buf_init(&d->flat, BUF_MAX);
    sl_buf_init(&d->esc, BUF_MAX);
    return d;
}

void sl_columnar_dec_free(struct sl_columnar_dec *d)
{
    if (d == NULL)
        return;
    sl_buf_release(&d->flat);
    sl_buf_release(&d->esc);
    free(d->seg);
    free(d->shp);
    free(d);
}

/* Bytes being read: p up to end. */
struct cur {
    const unsigned char *p, *end;
};

static inline int get_varint(struct cur *c, uint64_t *v)
{
    if (c->p < c->end && *c->p < 0x80) { /* most are one byte */
        *v = *c->p++;
        return 0;
    }
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p == c->end)
            return -1;
        unsigned char b = *c->p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* n bytes from c: *p; -1 when there are fewer. */
static int get_bytes(struct cur *c, uint64_t n, const unsigned char **p)
{
    if (n > (uint64_t)(c->end - c->p))
        return -1;
    *p = c->p;
    c->p += n;
    return 0;
}

/* A section: varint n, n bytes, as a cursor of its own. */
static int get_section(struct cur *c, struct cur *s)
{
    uint64_t n;
    const unsigned char *p;
    if (get_varint(c, &n) < 0 || get_bytes(c, n, &p) < 0)
        return -1;
    *s = (struct cur){p, p + n};
    return 0;
}

#define GROW(arr, cap, need)                                                   \
    do {                                                                       \
        if ((need) > (cap)) {                                                  \
            size_t c_ = (cap) > 0 ? (cap) : 64;                                \
            while (c_ < (need))                                                \
                c_ *= 2;                                                       \
            void *a_ = realloc((arr), c_ * sizeof *(arr));                     \
            if (a_ == NULL)                                                    \
                return -2;                                                     \
            (arr) = a_;                                                        \
            (cap) = c_;                                                        \
        }                                                                      \
    } while (0)

/* The shapes, split at their markers into d->seg; -1 corrupt, -2 out of
 * memory. */
static int read_shapes(struct sl_columnar_dec *d, struct cur *c,
                       size_t *nshapes)
{
    uint64_t n;
    if (get_varint(c, &n) < 0 || n > (uint64_t)(c->end - c->p))
        return -1;
    *nshapes = (size_t)n;
    GROW(d->shp, d->shp_cap, *nshapes);
    size_t nseg = 0;
    for (size_t i = 0; i < *nshapes; i++) {
        uint64_t len;
        const unsigned char *p;
        if (get_varint(c, &len) < 0 || get_bytes(c, len, &p) < 0)
            return -1;
        d->shp[i].first = nseg;
        const unsigned char *end = p + len, *lit = p;
        for (;; p++) {
            if (p < end && *p != SL_SHAPE_STRING && *p != SL_SHAPE_NUMBER)
                continue;
            GROW(d->seg, d->seg_cap, nseg + 1);
            d->seg[nseg++] = (struct seg){(const char *)lit, (size_t)(p - lit),
                                          p == end ? 0 : *p};
            if (p == end)
                break;
            lit = p + 1;
        }
    }
    return 0;
}

/* Bytes the decoder may read past any source (they are in d->flat's
 * memory) and write past o when that much room is left: a copy of up to
 * this many bytes is then two fixed moves, not a call. The writers below
 * take and return the output position, NULL when what they write does not
 * fit before end: a position kept in a register, where one in a struct is
 * reloaded after every byte stored (a char store may alias it). */
#define OVER 32

static inline char *put(char *o, const char *end, const void *p, size_t n)
{
    if (n <= OVER && end - o >= OVER) {
        memcpy(o, p, 16);
        memcpy(o + 16, (const char *)p + 16, 16);
        return o + n;
    }
    if (n > (size_t)(end - o))
        return NULL;
    if (n > 0)
        memcpy(o, p, n);
    return o + n;
}

/* A string value, quoted and escaped (as it is, when plain). NULL when it
 * does not fit, and d->oom set when memory failed. */
static char *put_string(struct sl_columnar_dec *d, char *o, const char *end,
                        const char *p, size_t n, bool plain)
{
    size_t room = (size_t)(end - o);
    if (room < 2)
        return NULL;
    if (plain) {
        *o++ = '"';
        o = put(o, end, p, n);
        if (o == NULL || o == end)
            return NULL;
        *o++ = '"';
        return o;
    }
    /* room for the worst case (each byte a \u00XX) and the escaper's
     * stores past its end: escape at once */
    if (n < room / 6 && room - 6 * n >= 16) {
        *o = '"';
        o = sl_json_escape_into(o + 1, p, n);
    } else {
        size_t need = sl_json_escaped_len(p, n);
        if (need > room - 2)
            return NULL;
        /* near the end: the escaper stores words past what it writes */
        sl_buf_reset(&d->esc);
        if (sl_buf_reserve(&d->esc, need, NULL) < 0) {
            d->oom = true;
            return NULL;
        }
        sl_json_escape_into(d->esc.ptr, p, n);
        *o = '"';
        memcpy(o + 1, d->esc.ptr, need);
        o += 1 + need;
    }
    if (o >= end)
        return NULL;
    *o++ = '"';
    return o;
}

/* The previous value of each column. */
struct prev {
    const char *p;
    size_t len;
    bool plain, set;
};

/* The decoding of one entry: the sections, the columns, the output. */
struct walk {
    struct cur sids, times, ids, origins;
    struct cur col[SL_COLUMNAR_COLS];
    struct prev prev[SL_COLUMNAR_COLS];
    size_t ncols, nshapes;
    const unsigned char *origin;
    size_t origin_len;
    int64_t ts;
    char *o, *end;   /* the output */
    int64_t text_ts; /* the time last formatted, in text[0..text_len) */
    size_t text_len;
    char text[24 + OVER]; /* put reads OVER bytes */
};

/* The next value of column k, or NULL. */
static inline const struct prev *get_value(struct walk *s, size_t k)
{
    if (k >= s->ncols)
        return NULL;
    struct cur *c = &s->col[k];
    __builtin_prefetch(c->p + 192);
    uint64_t tag, off;
    const unsigned char *p;
    if (get_varint(c, &tag) < 0)
        return NULL;
    if (tag == 0)
        return s->prev[k].set ? &s->prev[k] : NULL;
    uint64_t n = tag >> 3;
    if ((tag & 3) == V_SPAN) {
        if (s->origin == NULL || get_varint(c, &off) < 0 ||
            off > s->origin_len || n > s->origin_len - off)
            return NULL;
        p = s->origin + off;
    } else if ((tag & 3) != V_LIT || get_bytes(c, n, &p) < 0) {
        return NULL;
    }
    s->prev[k] =
        (struct prev){(const char *)p, (size_t)n, (tag & TAG_PLAIN) != 0, true};
    return &s->prev[k];
}

/* The record of the next event and its line's prefix, at o. */
static char *put_prefix(struct walk *s, char *o, const struct seg **first,
                        const struct sl_columnar_dec *d)
{
    uint64_t sid, zz, n_origin;
    const unsigned char *id, *n;
    if (get_varint(&s->sids, &sid) < 0 || sid >= s->nshapes ||
        get_varint(&s->times, &zz) < 0 || get_bytes(&s->ids, 1, &n) < 0 ||
        *n == 0 || *n > SL_BATCH_ID_MAX || get_bytes(&s->ids, *n, &id) < 0 ||
        get_varint(&s->origins, &n_origin) < 0)
        return NULL;
    s->origin = NULL;
    s->origin_len = 0;
    if (n_origin > 0 && get_bytes(&s->origins, n_origin - 1, &s->origin) < 0)
        return NULL;
    if (n_origin > 0)
        s->origin_len = (size_t)(n_origin - 1);
    /* the times are in range, so a step between two is below 2^49 */
    if (zz >> 50 != 0)
        return NULL;
    int64_t delta = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    s->ts += delta;
    if (s->ts < SL_BATCH_TS_MIN || s->ts > SL_BATCH_TS_MAX)
        return NULL;
    if (s->text_len == 0 || s->ts != s->text_ts) {
        s->text_len = sl_batch_format_ts(s->text, s->ts);
        s->text[s->text_len++] = ' ';
        s->text_ts = s->ts;
    }
    *first = &d->seg[d->shp[sid].first];
    o = put(o, s->end, s->text, s->text_len);
    if (o != NULL)
        o = put(o, s->end, id, *n);
    if (o == NULL || o == s->end)
        return NULL;
    *o++ = ' ';
    return o;
}

/* One line; -1 when the entry is corrupt (or d->oom). */
static int put_line(struct sl_columnar_dec *d, struct walk *s)
{
    const struct seg *g;
    const char *end = s->end;
    char *o = put_prefix(s, s->o, &g, d);
    if (o == NULL)
        return -1;
    for (size_t k = 0;; k++, g++) {
        o = put(o, end, g->p, g->len);
        if (o == NULL)
            return -1;
        if (g->kind == 0)
            break;
        const struct prev *v =
            get_value(s, k < SL_COLUMNAR_COLS ? k : SL_COLUMNAR_COLS - 1);
        if (v == NULL)
            return -1;
        o = g->kind == SL_SHAPE_STRING
                ? put_string(d, o, end, v->p, v->len, v->plain)
                : put(o, end, v->p, v->len);
        if (o == NULL)
            return -1;
    }
    if (o == end)
        return -1;
    *o++ = '\n';
    s->o = o;
    return 0;
}

/* Everything after the shapes: the sections and columns. */
static int read_sections(struct walk *s, struct cur *c, size_t count)
{
    uint64_t ncols;
    if (get_section(c, &s->sids) < 0 || get_section(c, &s->times) < 0 ||
        get_section(c, &s->ids) < 0 || get_section(c, &s->origins) < 0 ||
        get_varint(c, &ncols) < 0 || ncols > SL_COLUMNAR_COLS)
        return -1;
    s->ncols = (size_t)ncols;
    for (size_t i = 0; i < s->ncols; i++)
        if (get_section(c, &s->col[i]) < 0)
            return -1;
    /* each event has at least a byte in each of the first three */
    if (c->p != c->end || count > (size_t)(s->sids.end - s->sids.p))
        return -1;
    return 0;
}

static bool all_read(const struct walk *s)
{
    if (s->sids.p != s->sids.end || s->times.p != s->times.end ||
        s->ids.p != s->ids.end || s->origins.p != s->origins.end)
        return false;
    for (size_t i = 0; i < s->ncols; i++)
        if (s->col[i].p != s->col[i].end)
            return false;
    return true;
}

static int corrupt(struct sl_err *err, const char *what)
{
    return sl_err_set(err, SL_EPARSE,
                      "stream entry field 'events': the columnar payload %s; "
                      "the entry is corrupt",
                      what);
}

/* T and the block into d->flat. */
static int unpack_flat(struct sl_columnar_dec *d, const char *src, size_t len,
                       size_t raw, struct sl_err *err)
{
    struct cur c = {(const unsigned char *)src,
                    (const unsigned char *)src + len};
    uint64_t t;
    if (get_varint(&c, &t) < 0)
        return corrupt(err, "does not start with its length");
    if (t > SL_COLUMNAR_MAX(raw) || t > LZ4_MAX_INPUT_SIZE)
        return corrupt(err, "says it is larger than its payload can be");
    sl_buf_reset(&d->flat);
    if (sl_buf_reserve(&d->flat, (size_t)t + OVER, err) < 0)
        return -1;
    size_t in = (size_t)(c.end - c.p);
    int n = in > INT_MAX ? -1
                         : LZ4_decompress_safe((const char *)c.p, d->flat.ptr,
                                               (int)in, (int)t);
    if (n < 0 || (uint64_t)n != t)
        return corrupt(err, "does not decompress to the length it gives");
    d->flat.len = (size_t)n;
    d->flat.ptr[d->flat.len] = '\0';
    return 0;
}

int sl_columnar_decode(struct sl_columnar_dec *d, const char *src, size_t len,
                       size_t count, char *dst, size_t raw, struct sl_err *err)
{
    if (unpack_flat(d, src, len, raw, err) < 0)
        return -1;
    struct cur c = {(const unsigned char *)d->flat.ptr,
                    (const unsigned char *)d->flat.ptr + d->flat.len};
    struct walk s = {.o = dst, .end = dst + raw};
    d->oom = false;
    uint64_t n;
    if (get_varint(&c, &n) < 0 || n != count)
        return corrupt(err, "does not hold as many events as 'count' says");
    int rc = read_shapes(d, &c, &s.nshapes);
    if (rc == -2)
        return sl_err_set(err, SL_ENOMEM, "out of memory decoding a batch");
    if (rc < 0 || read_sections(&s, &c, count) < 0)
        return corrupt(err, "has a shape or section cut short");
    for (size_t i = 0; i < count; i++) {
        rc = put_line(d, &s);
        if (rc < 0 && d->oom)
            return sl_err_set(err, SL_ENOMEM, "out of memory decoding a batch");
        if (rc < 0) {
            char what[96];
            snprintf(what, sizeof what,
                     "has event %zu of %zu cut short or not as 'raw' says",
                     i + 1, count);
            return corrupt(err, what);
        }
    }
    if (!all_read(&s))
        return corrupt(err, "holds more than its events");
    if (s.o != s.end)
        return corrupt(err, "decodes to fewer bytes than 'raw' says");
    return 0;
}
