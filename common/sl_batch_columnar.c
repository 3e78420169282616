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
 * The message (version 2): when it is ASCII and the event's values that
 * are spans of it (grok's captures point there) leave at most half of it
 * uncovered, it is stored as a template of the bytes between them and
 * those values are stored as literals; the decoder rebuilds it. A value
 * converted, replaced, removed or moved by a processor is either still
 * those very bytes (a span, then usable wherever it now is) or not a span
 * (its part of the message stays in the template), so the rebuild is exact
 * by construction; debug builds also decode every sealed batch
 * (sl_batch.c). A few recent templates are matched against the message
 * without being built (about a tenth of building one). Anything else (no
 * message, not ASCII, too many escapes, few captures) stores the message
 * as version 1 did.
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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sl_batch.h"
#include "sl_copy.h"
#include "sl_json.h"

/* Every buffer's maximum: SL_COLUMNAR_MAX of the largest payload. */
#define BUF_MAX     SL_COLUMNAR_MAX(SL_BATCH_RAW_MAX)
#define HASH_SIZE   1024u
#define VARINT_MAX  10
#define ORIGIN_CARE 64

/* The first bytes of a version-2 entry's `events` (a version-1 entry starts
 * with its varint T, never 0). */
#define VERSION_MARK 0
#define VERSION      2

/* An event's record in the origins section (version 2). */
enum origin_kind { ORIGIN_NONE = 0, ORIGIN_TEMPLATE = 1, ORIGIN_BYTES = 2 };

enum value_kind { V_SAME = 0, V_SPAN = 1, V_LIT = 2, V_MSG = 3 };
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

/* A batch's table of texts (the shapes, the messages' templates): each
 * stored once as a varint n and its n bytes, found again as the one found
 * last or through a small hash table; a miss adds the text again (a
 * duplicate costs bytes, never correctness). */
struct dict_ent {
    size_t off, len; /* the text, in text */
    size_t nval;
};

struct dict {
    struct sl_buf text;
    struct dict_ent *tab;
    size_t n, cap;
    uint32_t hash[HASH_SIZE]; /* 1 + an entry's index; 0: none */
    size_t last;              /* the entry found last, when has_last */
    bool has_last;
};

/* What dict_index changed, so an append that fails can take it back. */
struct dict_undo {
    size_t text_len, n, bucket, last;
    uint32_t old;
    bool has_last;
};

/* A value that is a span of the message: a candidate for its template. */
struct cand {
    size_t at, len, slot;
};

/* A recent template, to be matched without being built: most events of a
 * log have one of a few (an Apache line with a referrer or "-"). The raw
 * bytes between the references, and the references' slots, in order; the
 * template's text; its index in the batch of number gen. */
#define TPL_CACHE      4
#define TPL_CACHE_REFS 32
#define TPL_CACHE_RAW  256
#define TPL_CACHE_TEXT 1024
struct tpl_cache {
    size_t nref, len, nval; /* nval: the event's it was built for */
    size_t max_slot;        /* the highest of slot (0 when no ref) */
    uint32_t slot[TPL_CACHE_REFS];
    uint16_t gap[TPL_CACHE_REFS + 1];
    /* a gap of at most 8 bytes as a word (its first 8 raw bytes) and the
     * mask of its bytes, compared with one load of the message */
    uint64_t word[TPL_CACHE_REFS + 1], mask[TPL_CACHE_REFS + 1];
    char raw[TPL_CACHE_RAW + 8]; /* 8 more: same_gap's loads */
    char text[TPL_CACHE_TEXT];
    uint64_t gen;
    size_t idx;
};

struct sl_columnar_enc {
    struct sl_event_shape sh; /* the prepared event */
    /* each value's length escaped, and where it is in the origin
     * (SIZE_MAX: not a span of it) as stored (off) and in the raw
     * message (at) */
    struct val_info {
        size_t esc, off, at;
        size_t len; /* its text's */
        bool same;  /* the bytes of its column's previous value */
        bool ref;   /* it may stand in the message's template: a span, not
                     * the message, a number only as it is written */
    } * info;
    struct cand *cand;
    size_t info_cap;
    const struct sl_value *msg; /* the top-level "message" string, or NULL */
    struct sl_slice origin;     /* its text, or NULL */
    /* the origin is stored as its JSON (an ASCII origin that needs
     * escaping), origin_esc bytes: spans of it are the values' JSON */
    bool origin_escaped;
    size_t origin_esc;
    /* the origin's bytes that need escaping (an ASCII origin with at most
     * ORIGIN_CARE of them: norigin_care; else SIZE_MAX) */
    size_t norigin_care;
    uint32_t care_at[ORIGIN_CARE];
    uint8_t care_extra[ORIGIN_CARE];
    /* the message stored as a template (tpl_text, tpl_len: in tpl or in
     * a cache entry, hit), its values as literals; the message's slot */
    bool templated;
    const char *tpl_text;
    size_t tpl_len, msg_slot;
    struct sl_buf tpl;
    struct tpl_cache cache[TPL_CACHE], *hit;
    size_t cache_last, cache_next;
    uint64_t gen; /* the batch's number, for the cache's indexes */
    bool prepared;
    struct dict shapes, tpls;
    struct sl_buf sids, times, ids, origins;
    struct col col[SL_COLUMNAR_COLS];
    int64_t prev_ts;
    char prev_id[SL_BATCH_ID_MAX]; /* the previous event's id */
    size_t prev_id_len;
    size_t count;
    struct sl_buf flat; /* the transposed buffer, at seal */
};

static void dict_reset(struct dict *d)
{
    sl_buf_reset(&d->text);
    memset(d->hash, 0, sizeof d->hash);
    d->n = 0;
    d->has_last = false;
}

struct sl_columnar_enc *sl_columnar_enc_new(struct sl_err *err)
{
    struct sl_columnar_enc *e = calloc(1, sizeof *e);
    if (e == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for a columnar encoder");
        return NULL;
    }
    e->gen = 1; /* a cache entry of gen 0 has no index */
    sl_event_shape_init(&e->sh, BUF_MAX);
    sl_buf_init(&e->shapes.text, BUF_MAX);
    sl_buf_init(&e->tpls.text, BUF_MAX);
    sl_buf_init(&e->tpl, BUF_MAX);
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
    free(e->cand);
    free(e->shapes.tab);
    free(e->tpls.tab);
    sl_buf_release(&e->shapes.text);
    sl_buf_release(&e->tpls.text);
    sl_buf_release(&e->tpl);
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
    dict_reset(&e->shapes);
    dict_reset(&e->tpls);
    sl_buf_reset(&e->sids);
    sl_buf_reset(&e->times);
    sl_buf_reset(&e->ids);
    sl_buf_reset(&e->origins);
    sl_buf_reset(&e->flat);
    for (int i = 0; i < SL_COLUMNAR_COLS; i++) {
        sl_buf_reset(&e->col[i].b);
        e->col[i].has_prev = false;
    }
    e->count = 0;
    e->prev_ts = 0;
    e->prev_id_len = 0;
    e->prepared = false;
    e->gen++;
}

/* The top-level "message" string, whose text is the event's origin. */
static const struct sl_value *find_origin(const struct sl_event *ev)
{
    for (const struct sl_value *v = ev->root.first; v != NULL; v = v->next)
        if (v->key.len == 7 && memcmp(v->key.ptr, "message", 7) == 0)
            return v->type == SL_VALUE_STRING ? v : NULL;
    return NULL;
}

/* Where p[0..n) lies in origin, or SIZE_MAX. (The origin by value: a
 * copy the caller keeps in registers, where e->origin is reloaded after
 * each store to the values' info.) */
static size_t origin_offset(struct sl_slice origin, const char *p, size_t n)
{
    /* one compare for "before the origin" and "past it": p - origin
     * wraps to above its length when p is before it (an origin of NULL
     * has length 0, and a value's text is never NULL when n > 0) */
    size_t d = (size_t)((uintptr_t)p - (uintptr_t)origin.ptr);
    if (d > origin.len || n > origin.len - d)
        return SIZE_MAX;
    return d;
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

/* origin[a..b) as JSON at o (room reserved); *ci walks the care list
 * along with the gaps, which come in order. */
static char *put_gap(const struct sl_columnar_enc *e, char *o, size_t a,
                     size_t b, size_t *ci)
{
    const char *src = e->origin.ptr;
    while (*ci < e->norigin_care && e->care_at[*ci] < a)
        (*ci)++;
    for (; *ci < e->norigin_care && e->care_at[*ci] < b; (*ci)++) {
        size_t k = e->care_at[*ci];
        memcpy(o, src + a, k - a);
        o = sl_json_escape_ascii(o + (k - a), (unsigned char)src[k]);
        a = k + 1;
    }
    memcpy(o, src + a, b - a);
    return o + (b - a);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GAP_WORDS 1
#else
#define GAP_WORDS 0
#endif

/* Whether p holds c's gap j, whose raw bytes are q; avail: the bytes
 * readable at p (q is the cache entry's, padded). */
static inline bool same_gap(const struct tpl_cache *c, size_t j, const char *p,
                            const char *q, size_t avail)
{
    size_t n = c->gap[j];
    if (GAP_WORDS && n <= 8 && avail >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        return ((a ^ c->word[j]) & c->mask[j]) == 0;
    }
    if (n > 8)
        return memcmp(p, q, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return false;
    return true;
}

/* Whether the prepared message is c's template: each run of raw bytes
 * where c has it, each reference a value that is the span after it. */
static bool cache_match(const struct sl_columnar_enc *e,
                        const struct tpl_cache *c)
{
    const char *m = e->origin.ptr, *raw = c->raw;
    size_t cur = 0, len = e->origin.len;
    if (c->nref > 0 && c->max_slot >= e->sh.nval)
        return false;
    for (size_t j = 0; j < c->nref; j++) {
        size_t g = c->gap[j];
        const struct val_info *in = &e->info[c->slot[j]];
        if (in->at != cur + g || !in->ref ||
            !same_gap(c, j, m + cur, raw, len - cur))
            return false;
        raw += g;
        cur = in->at + in->len;
    }
    size_t j = c->nref;
    return len - cur == c->gap[j] && same_gap(c, j, m + cur, raw, len - cur);
}

/* Keeps the template just built (refs of e->cand's, raw gaps of gaps
 * bytes) in the cache, when it fits. */
static void cache_put(struct sl_columnar_enc *e, size_t nc, size_t refs,
                      size_t gaps)
{
    if (refs > TPL_CACHE_REFS || gaps > TPL_CACHE_RAW ||
        e->tpl.len > TPL_CACHE_TEXT)
        return;
    struct tpl_cache *c = &e->cache[e->cache_next];
    e->cache_last = e->cache_next;
    e->cache_next = (e->cache_next + 1) % TPL_CACHE;
    size_t cur = 0, j = 0;
    char *raw = c->raw;
    c->max_slot = 0;
    for (size_t i = 0; i < nc; i++) {
        const struct cand *k = &e->cand[i];
        if (k->at < cur)
            continue;
        c->gap[j] = (uint16_t)(k->at - cur);
        memcpy(raw, e->origin.ptr + cur, k->at - cur);
        raw += k->at - cur;
        c->slot[j++] = (uint32_t)k->slot;
        if (k->slot > c->max_slot)
            c->max_slot = k->slot;
        cur = k->at + k->len;
    }
    c->gap[j] = (uint16_t)(e->origin.len - cur);
    memcpy(raw, e->origin.ptr + cur, e->origin.len - cur);
    c->nref = j;
    /* each gap's word: its bytes, and what follows them in raw (the 8
     * bytes past TPL_CACHE_RAW are there), masked off */
    raw = c->raw;
    for (size_t g = 0; g <= j; raw += c->gap[g++]) {
        size_t n = c->gap[g];
        memcpy(&c->word[g], raw, 8);
        c->mask[g] = n >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
    }
    c->nval = e->sh.nval;
    c->len = e->tpl.len;
    memcpy(c->text, e->tpl.ptr, e->tpl.len);
    c->gen = 0; /* no index yet */
    e->hit = c;
}

/* The prepared event's values that are spans of its message and written
 * in it as they are in their own JSON, in e->cand by offset (the longer
 * first at one offset); how many. */
static size_t find_spans(struct sl_columnar_enc *e)
{
    size_t nc = 0;
    for (size_t i = 0; i < e->sh.nval; i++) {
        if (!e->info[i].ref)
            continue;
        struct cand c = {e->info[i].at, e->sh.val[i]->text.len, i};
        size_t j = nc++;
        for (; j > 0 &&
               (e->cand[j - 1].at > c.at ||
                (e->cand[j - 1].at == c.at && e->cand[j - 1].len < c.len));
             j--)
            e->cand[j] = e->cand[j - 1];
        e->cand[j] = c;
    }
    return nc;
}

/* The message as a template into e->tpl: the bytes between the spans of
 * it that the event's values are, as JSON, and for each span SL_TPL_REF
 * and the value's slot. Every byte it leaves to a value is that value's
 * own (the value's text points into the message's), so the decoder's
 * rebuild is exact by construction. 1: templated; 0: the message has no
 * such span, or the values leave more than half of it in the template
 * (a unique template per event would cost what the message does). */
static int make_template(struct sl_columnar_enc *e, struct sl_err *err)
{
    size_t nc = find_spans(e);
    if (nc == 0)
        return 0;
    sl_buf_reset(&e->tpl);
    if (sl_buf_reserve(&e->tpl, e->origin_esc + nc * (1 + VARINT_MAX), err) < 0)
        return -1;
    char *o = e->tpl.ptr;
    size_t cur = 0, ci = 0, gaps = 0, refs = 0;
    for (size_t i = 0; i < nc; i++) {
        const struct cand *c = &e->cand[i];
        if (c->at < cur)
            continue;
        o = put_gap(e, o, cur, c->at, &ci);
        gaps += c->at - cur;
        *o++ = SL_TPL_REF;
        o += put_varint((unsigned char *)o, c->slot);
        cur = c->at + c->len;
        refs++;
    }
    o = put_gap(e, o, cur, e->origin.len, &ci);
    gaps += e->origin.len - cur;
    if (refs == 0 || 2 * gaps > e->origin.len)
        return 0;
    e->tpl.len = (size_t)(o - e->tpl.ptr);
    e->tpl.ptr[e->tpl.len] = '\0';
    e->hit = NULL;
    cache_put(e, nc, refs, gaps);
    e->tpl_text = e->tpl.ptr;
    e->tpl_len = e->tpl.len;
    return 1;
}

/* The prepared message's template: a recent one that matches, or one
 * built. */
static int find_template(struct sl_columnar_enc *e, struct sl_err *err)
{
    /* first the ones built for an event of as many values (another kind
     * of event parts from this one late: a line with a referrer and one
     * without), the last one matched first */
    for (size_t i = 0; i < 2 * TPL_CACHE; i++) {
        size_t k = (e->cache_last + i) % TPL_CACHE;
        struct tpl_cache *c = &e->cache[k];
        if (c->len > 0 && (c->nval == e->sh.nval) == (i < TPL_CACHE) &&
            cache_match(e, c)) {
            e->cache_last = k;
            e->hit = c;
            e->tpl_text = c->text;
            e->tpl_len = c->len;
            return 1;
        }
    }
    return make_template(e, err);
}

/* e->info and e->cand for the prepared shape's values. */
static int grow_info(struct sl_columnar_enc *e, struct sl_err *err)
{
    if (e->sh.nval <= e->info_cap)
        return 0;
    struct val_info *a = realloc(e->info, e->sh.cap * sizeof *a);
    if (a == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for an event");
    e->info = a;
    struct cand *c = realloc(e->cand, e->sh.cap * sizeof *c);
    if (c == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for an event");
    e->cand = c;
    e->info_cap = e->sh.cap;
    return 0;
}

/* The origin and its list of bytes to escape. */
static void set_origin(struct sl_columnar_enc *e, const struct sl_event *ev)
{
    e->msg = find_origin(ev);
    e->origin = e->msg != NULL ? e->msg->text : (struct sl_slice){NULL, 0};
    e->norigin_care =
        e->origin.ptr == NULL
            ? SIZE_MAX
            : sl_json_care_list(e->origin.ptr, e->origin.len, e->care_at,
                                e->care_extra, ORIGIN_CARE);
    e->origin_escaped = e->norigin_care != SIZE_MAX && e->norigin_care > 0;
    e->origin_esc = e->origin.len;
    for (size_t i = 0; e->origin_escaped && i < e->norigin_care; i++)
        e->origin_esc += e->care_extra[i];
}

int sl_columnar_enc_prepare(struct sl_columnar_enc *e,
                            const struct sl_event *ev, size_t *json_len,
                            struct sl_err *err)
{
    e->prepared = false;
    if (sl_event_write_shape(ev, &e->sh, err) < 0 || grow_info(e, err) < 0)
        return -1;
    set_origin(e, ev);
    size_t len = e->sh.text.len - e->sh.nval;
    const struct sl_slice origin = e->origin;
    e->msg_slot = SIZE_MAX;
    for (size_t i = 0; i < e->sh.nval; i++) {
        /* for a number too: "same as before" takes the previous value's
         * flag, which may have been a string's */
        const struct sl_value *v = e->sh.val[i];
        struct val_info *in = &e->info[i];
        in->at = v->text.len > 0
                     ? origin_offset(origin, v->text.ptr, v->text.len)
                     : SIZE_MAX;
        in->len = v->text.len;
        if (v == e->msg)
            e->msg_slot = i;
        in->same = i < SL_COLUMNAR_COLS - 1 && same_as_before(e, i, v);
        if (in->same) { /* plain, as the value it repeats */
            in->esc = v->text.len;
            in->off = SIZE_MAX;
            in->ref = in->at != SIZE_MAX && v != e->msg;
            len += v->text.len + (v->type == SL_VALUE_STRING ? 2 : 0);
            continue;
        }
        in->off = in->at;
        in->esc = escaped_len(e, v, &in->off);
        in->ref = in->at != SIZE_MAX && v != e->msg &&
                  (v->type != SL_VALUE_NUMBER || in->esc == v->text.len);
        /* a number is written as it is, not as a span's JSON */
        if (e->origin_escaped && v->type == SL_VALUE_NUMBER &&
            in->esc != v->text.len)
            in->off = SIZE_MAX;
        /* a span only when shorter than the bytes */
        if (in->off != SIZE_MAX && varint_size(in->off) >= v->text.len)
            in->off = SIZE_MAX;
        len += v->type == SL_VALUE_STRING ? in->esc + 2 : v->text.len;
    }
    /* an ASCII message with a short list of escapes can be a template */
    int t = e->msg_slot != SIZE_MAX && e->norigin_care != SIZE_MAX
                ? find_template(e, err)
                : 0;
    if (t < 0)
        return -1;
    e->templated = t == 1;
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

static bool dict_is(const struct dict *d, size_t i, const char *p, size_t len,
                    size_t nval)
{
    const struct dict_ent *s = &d->tab[i];
    return s->len == len && s->nval == nval &&
           memcmp(d->text.ptr + s->off, p, len) == 0;
}

/* The index of the text p[0..len) (of nval markers) in d, added when new;
 * *u: what to restore for a rollback (dict_undo). */
static int dict_index(struct dict *d, const char *p, size_t len, size_t nval,
                      size_t *idx, struct dict_undo *u, struct sl_err *err)
{
    *u = (struct dict_undo){d->text.len, d->n, HASH_SIZE,
                            d->last,     0,    d->has_last};
    if (d->has_last && dict_is(d, d->last, p, len, nval)) {
        *idx = d->last;
        return 0;
    }
    size_t h = shape_hash(p, len, nval);
    if (d->hash[h] != 0 && dict_is(d, d->hash[h] - 1, p, len, nval)) {
        *idx = d->last = d->hash[h] - 1;
        d->has_last = true;
        return 0;
    }
    if (d->n == UINT32_MAX - 1)
        return sl_err_set(err, SL_ELIMIT, "too many shapes in a batch");
    if (d->n == d->cap) {
        size_t cap = d->cap > 0 ? 2 * d->cap : 64;
        struct dict_ent *t = realloc(d->tab, cap * sizeof *t);
        if (t == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for a batch");
        d->tab = t;
        d->cap = cap;
    }
    if (append_varint(&d->text, len, err) < 0)
        return -1;
    size_t off = d->text.len;
    if (sl_buf_append(&d->text, p, len, err) < 0)
        return -1;
    d->tab[d->n] = (struct dict_ent){off, len, nval};
    u->bucket = h;
    u->old = d->hash[h];
    d->hash[h] = (uint32_t)(d->n + 1);
    *idx = d->last = d->n++;
    d->has_last = true;
    return 0;
}

static void dict_undo(struct dict *d, const struct dict_undo *u)
{
    d->text.len = u->text_len;
    if (d->text.cap > 0)
        d->text.ptr[d->text.len] = '\0';
    d->n = u->n;
    d->last = u->last;
    d->has_last = u->has_last;
    if (u->bucket < HASH_SIZE)
        d->hash[u->bucket] = u->old;
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

/* One value into its column, whose room is reserved: the templated
 * message, the same as before, a span of the origin, or the bytes. */
static void put_value(struct sl_columnar_enc *e, struct col *c, bool shared,
                      const struct sl_value *v, const struct val_info *in,
                      bool message, size_t origin_at)
{
    const char *p = v->text.ptr;
    size_t n = v->text.len;
    bool plain = in->esc == n;
    unsigned char *o = (unsigned char *)c->b.ptr + c->b.len;
    if (message) { /* rebuilt from the template: nothing to repeat */
        *o++ = V_MSG;
        c->has_prev = false;
        c->b.len = (size_t)((char *)o - c->b.ptr);
        *o = '\0';
        return;
    }
    /* "the same" only between values stored as they are written, where
     * the bytes compared are the JSON's (in the shared last column, found
     * here: the values before it in this event change its previous) */
    if (in->same ||
        (shared && plain && c->has_prev && c->prev_len == n &&
         same_bytes((c->prev_origin ? e->origins.ptr : c->b.ptr) + c->prev_off,
                    p, n))) {
        *o++ = 0;
    } else if (in->off != SIZE_MAX && !e->templated) {
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
        sl_copy_short(o, p, n);
        o += n;
    }
    c->b.len = (size_t)((char *)o - c->b.ptr);
    *o = '\0';
}

/* The event's record: shape, time, id, origin (its template tpl, or
 * where its bytes start in *origin_at). */
static int put_record(struct sl_columnar_enc *e, size_t shape, size_t tpl,
                      const char *id, size_t id_len, int64_t ts_ms,
                      size_t *origin_at, struct sl_err *err)
{
    int64_t d = ts_ms - e->prev_ts;
    uint64_t zz = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
    /* the bytes it shares with the previous id, then the rest (the ids
     * of a file share their first 16 characters) */
    size_t k = 0, most = id_len < e->prev_id_len ? id_len : e->prev_id_len;
    if (most >= 16 && same_bytes(id, e->prev_id, 16))
        k = 16;
    while (k < most && id[k] == e->prev_id[k])
        k++;
    unsigned char km[2] = {(unsigned char)k, (unsigned char)(id_len - k)};
    if (append_varint(&e->sids, shape, err) < 0 ||
        append_varint(&e->times, zz, err) < 0 ||
        sl_buf_append(&e->ids, km, 2, err) < 0 ||
        sl_buf_append(&e->ids, id + k, id_len - k, err) < 0)
        return -1;
    if (e->origin.ptr == NULL)
        return append_varint(&e->origins, ORIGIN_NONE, err);
    if (e->templated) {
        if (append_varint(&e->origins, ORIGIN_TEMPLATE, err) < 0)
            return -1;
        return append_varint(&e->origins, tpl, err);
    }
    /* its bytes: as they are, or as the JSON has them (the runs between
     * the bytes the list names, and each of those escaped) */
    size_t len = e->origin_escaped ? e->origin_esc : e->origin.len;
    if (append_varint(&e->origins, (uint64_t)len + ORIGIN_BYTES, err) < 0 ||
        sl_buf_reserve(&e->origins, len + SL_BUF_SLACK, err) < 0)
        return -1;
    *origin_at = e->origins.len;
    char *o = e->origins.ptr + e->origins.len;
    size_t ci = 0;
    if (e->origin_escaped)
        put_gap(e, o, 0, e->origin.len, &ci);
    else
        memcpy(o, e->origin.ptr, len);
    e->origins.len += len;
    e->origins.ptr[e->origins.len] = '\0';
    return 0;
}

int sl_columnar_enc_append(struct sl_columnar_enc *e, const char *id,
                           size_t id_len, int64_t ts_ms, struct sl_err *err)
{
    if (!e->prepared)
        return sl_err_set(err, SL_EINVAL, "no event prepared");
    size_t lens[4] = {e->sids.len, e->times.len, e->ids.len, e->origins.len};
    struct dict_undo su, tu;
    size_t shape = 0, tpl = 0, origin_at = 0;
    bool tpl_added = false;
    struct tpl_cache *hit = e->templated ? e->hit : NULL;
    if (dict_index(&e->shapes, e->sh.text.ptr, e->sh.text.len, e->sh.nval,
                   &shape, &su, err) < 0)
        goto fail;
    if (hit != NULL && hit->gen == e->gen) {
        tpl = hit->idx;
    } else if (e->templated) {
        tpl_added = true;
        if (dict_index(&e->tpls, e->tpl_text, e->tpl_len, 0, &tpl, &tu, err) <
            0)
            goto fail;
    }
    if (put_record(e, shape, tpl, id, id_len, ts_ms, &origin_at, err) < 0 ||
        reserve_values(e, err) < 0)
        goto fail;
    size_t nval = e->sh.nval, m = e->templated ? e->msg_slot : SIZE_MAX;
    for (size_t k = 0; k < nval; k++) { /* one call: put_value inlined */
        bool shared = k >= SL_COLUMNAR_COLS - 1;
        put_value(e, &e->col[shared ? SL_COLUMNAR_COLS - 1 : k], shared,
                  e->sh.val[k], &e->info[k], k == m, origin_at);
    }
    if (hit != NULL) {
        hit->gen = e->gen;
        hit->idx = tpl;
    }
    e->prev_ts = ts_ms;
    memcpy(e->prev_id, id, id_len);
    e->prev_id_len = id_len;
    e->count++;
    e->prepared = false;
    return 0;
fail:
    e->sids.len = lens[0];
    e->times.len = lens[1];
    e->ids.len = lens[2];
    e->origins.len = lens[3];
    struct sl_buf *b[] = {&e->sids, &e->times, &e->ids, &e->origins};
    for (size_t i = 0; i < 4; i++)
        if (b[i]->cap > 0)
            b[i]->ptr[b[i]->len] = '\0';
    dict_undo(&e->shapes, &su);
    if (tpl_added)
        dict_undo(&e->tpls, &tu);
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
        append_varint(f, e->shapes.n, err) < 0 ||
        sl_buf_append(f, e->shapes.text.ptr, e->shapes.text.len, err) < 0 ||
        append_varint(f, e->tpls.n, err) < 0 ||
        sl_buf_append(f, e->tpls.text.ptr, e->tpls.text.len, err) < 0 ||
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
    if (sl_buf_reserve(out, 2 + VARINT_MAX + bound, err) < 0)
        return -1;
    out->ptr[0] = VERSION_MARK;
    out->ptr[1] = VERSION;
    size_t n = 2 + put_varint((unsigned char *)out->ptr + 2, t);
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
    size_t nval;  /* its markers */
};

/* A piece of a template: bytes, then the value of slot (TSEG_END: none,
 * the template's last piece). */
#define TSEG_END SIZE_MAX
struct tseg {
    const char *p;
    size_t len, slot;
};

/* A value of the event being decoded. */
struct val {
    const char *p;
    size_t len;
    bool plain; /* written as it is */
    bool msg;   /* the event's message, from its template */
};

struct sl_columnar_dec {
    struct sl_buf flat;
    struct sl_buf esc; /* an escaped value near dst's end */
    bool oom;          /* the decoding failed for memory */
    struct seg *seg;
    size_t seg_cap;
    struct shp *shp;
    size_t shp_cap;
    struct tseg *tseg;
    size_t tseg_cap;
    size_t *tpl; /* each template's first piece, in tseg */
    size_t tpl_cap;
    struct val *val; /* as many as the most markers of a shape */
    size_t val_cap;
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
    free(d->tseg);
    free(d->tpl);
    free(d->val);
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

/* A count of things of at least a byte each in c: *n. */
static int get_count(struct cur *c, size_t *n)
{
    uint64_t v;
    if (get_varint(c, &v) < 0 || v > (uint64_t)(c->end - c->p))
        return -1;
    *n = (size_t)v;
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

/* The first shape marker in q[0..end), or end. 16 bytes at a time: a
 * shape is mostly keys (a batch of JSON logs of many kinds holds
 * hundreds of shapes, and splitting them byte by byte was a fifth of the
 * decode); the loads read up to 15 bytes past end, which are d->flat's
 * (its OVER bytes, zeroed, past the last section). */
static inline unsigned char *next_marker(unsigned char *q,
                                         const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i s = _mm_set1_epi8(SL_SHAPE_STRING),
                  n = _mm_set1_epi8(SL_SHAPE_NUMBER);
    for (; q < end; q += 16) {
        __m128i v = _mm_loadu_si128((const void *)q);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, s), _mm_cmpeq_epi8(v, n)));
        if (m != 0) {
            q += __builtin_ctz(m);
            return q < end ? q : (unsigned char *)(uintptr_t)end;
        }
    }
    return (unsigned char *)(uintptr_t)end;
#else
    while (q < end && *q != SL_SHAPE_STRING && *q != SL_SHAPE_NUMBER)
        q++;
    return q;
#endif
}

/* The shapes, split at their markers into d->seg, and room for the values
 * of the one with the most; -1 corrupt, -2 out of memory. */
static int read_shapes(struct sl_columnar_dec *d, struct cur *c,
                       size_t *nshapes, bool *nl)
{
    if (get_count(c, nshapes) < 0)
        return -1;
    GROW(d->shp, d->shp_cap, *nshapes);
    size_t nseg = 0, most = 1;
    for (size_t i = 0; i < *nshapes; i++) {
        struct cur t;
        if (get_section(c, &t) < 0)
            return -1;
        const unsigned char *p = t.p;
        size_t len = (size_t)(t.end - t.p);
        if (len > 0 && memchr(p, '\n', len) != NULL)
            *nl = true;
        d->shp[i].first = nseg;
        /* a string's marker becomes its quotes: the end of the piece
         * before it and the start of the piece after it (the shapes are
         * in d->flat, the decoder's own memory) */
        unsigned char *q = (unsigned char *)(uintptr_t)p;
        const unsigned char *end = q + len, *lit = q;
        for (;; q++) {
            q = next_marker(q, end);
            GROW(d->seg, d->seg_cap, nseg + 1);
            int kind = q == end ? 0 : *q;
            if (kind == SL_SHAPE_STRING)
                *q = '"';
            d->seg[nseg++] = (struct seg){
                (const char *)lit,
                (size_t)(q - lit) + (kind == SL_SHAPE_STRING), kind};
            if (q == end)
                break;
            lit = kind == SL_SHAPE_STRING ? q : q + 1;
        }
        d->shp[i].nval = nseg - d->shp[i].first - 1;
        if (d->shp[i].nval > most)
            most = d->shp[i].nval;
    }
    GROW(d->val, d->val_cap, most);
    return 0;
}

/* The templates (version 2), split at their references into d->tseg; -1
 * corrupt, -2 out of memory. */
static int read_templates(struct sl_columnar_dec *d, struct cur *c,
                          size_t *ntpl, bool *nl)
{
    if (get_count(c, ntpl) < 0)
        return -1;
    GROW(d->tpl, d->tpl_cap, *ntpl);
    size_t nseg = 0;
    for (size_t i = 0; i < *ntpl; i++) {
        uint64_t slot;
        struct cur t;
        if (get_section(c, &t) < 0)
            return -1;
        d->tpl[i] = nseg;
        for (;;) {
            const unsigned char *lit = t.p;
            while (t.p < t.end && *t.p != SL_TPL_REF)
                *nl |= *t.p++ == '\n';
            GROW(d->tseg, d->tseg_cap, nseg + 1);
            struct tseg *g = &d->tseg[nseg++];
            *g =
                (struct tseg){(const char *)lit, (size_t)(t.p - lit), TSEG_END};
            if (t.p == t.end)
                break;
            t.p++;
            if (get_varint(&t, &slot) < 0 || slot >= TSEG_END)
                return -1;
            g->slot = (size_t)slot;
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

/* A string's JSON without its quotes, escaped; put_json's slow path. */
static char *put_escaped(struct sl_columnar_dec *d, char *o, const char *end,
                         const char *p, size_t n)
{
    /* room for the worst case (each byte a \u00XX) and the escaper's
     * stores past its end: escape at once */
    size_t room = (size_t)(end - o);
    if (n < room / 6 && room - 6 * n >= 16)
        return sl_json_escape_into(o, p, n);
    size_t need = sl_json_escaped_len(p, n);
    if (need > room)
        return NULL;
    /* near the end: the escaper stores words past what it writes */
    sl_buf_reset(&d->esc);
    if (sl_buf_reserve(&d->esc, need, NULL) < 0) {
        d->oom = true;
        return NULL;
    }
    sl_json_escape_into(d->esc.ptr, p, n);
    memcpy(o, d->esc.ptr, need);
    return o + need;
}

/* A string's JSON without its quotes (the shape's pieces have them):
 * escaped, or as it is when plain. NULL when it does not fit, and d->oom
 * set when memory failed. */
static inline char *put_json(struct sl_columnar_dec *d, char *o,
                             const char *end, const char *p, size_t n,
                             bool plain)
{
    return plain ? put(o, end, p, n) : put_escaped(d, o, end, p, n);
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
    size_t ncols, nshapes, ntpl;
    bool v2;
    const unsigned char *origin;
    size_t origin_len;
    size_t tpl; /* the event's template, or SIZE_MAX */
    /* the lines are proven well formed so far (sl_columnar_decode's
     * *checked); a column or the origins hold a newline byte somewhere
     * (then each value or origin from it is looked at) */
    bool checked, col_nl[SL_COLUMNAR_COLS], origins_nl;
    struct sl_columnar_line *at; /* NULL: not asked for */
    const char *dst;
    size_t id_len; /* the event's */
    int64_t ts;
    char *o, *end;   /* the output */
    int64_t text_ts; /* the time last formatted, in text[0..text_len) */
    size_t text_len;
    char text[24 + OVER];            /* put reads OVER bytes */
    char id[SL_BATCH_ID_MAX + OVER]; /* version 2: the previous id, */
    size_t id_prev;                  /* id_prev bytes of it */
};

/* The next value of column k into *v; -1 when there is none. */
static inline int get_value(struct walk *s, size_t k, struct val *v)
{
    if (k >= s->ncols)
        return -1;
    struct cur *c = &s->col[k];
    __builtin_prefetch(c->p + 192);
    uint64_t tag, off;
    const unsigned char *p;
    if (get_varint(c, &tag) < 0)
        return -1;
    struct prev *pv = &s->prev[k];
    if (tag == V_SAME) {
        if (!pv->set)
            return -1;
        *v = (struct val){pv->p, pv->len, pv->plain, false};
        return 0;
    }
    if (tag == V_MSG) {
        if (s->tpl == SIZE_MAX)
            return -1;
        pv->set = false;
        *v = (struct val){NULL, 0, false, true};
        return 0;
    }
    uint64_t n = tag >> 3;
    if ((tag & 3) == V_SPAN) {
        if (s->origin == NULL || get_varint(c, &off) < 0 ||
            off > s->origin_len || n > s->origin_len - off)
            return -1;
        p = s->origin + off;
    } else if ((tag & 3) != V_LIT || get_bytes(c, n, &p) < 0) {
        return -1;
    } else if (s->col_nl[k] && (tag & TAG_PLAIN) && n > 0 &&
               memchr(p, '\n', n) != NULL) {
        s->checked = false; /* a plain value with a newline: forged */
    }
    *pv =
        (struct prev){(const char *)p, (size_t)n, (tag & TAG_PLAIN) != 0, true};
    *v = (struct val){pv->p, pv->len, pv->plain, false};
    return 0;
}

/* The event's origin record. */
static int get_origin(struct walk *s)
{
    uint64_t x;
    s->origin = NULL;
    s->origin_len = 0;
    s->tpl = SIZE_MAX;
    if (get_varint(&s->origins, &x) < 0)
        return -1;
    if (s->v2 && x == ORIGIN_TEMPLATE) {
        if (get_varint(&s->origins, &x) < 0 || x >= s->ntpl)
            return -1;
        s->tpl = (size_t)x;
        return 0;
    }
    uint64_t skip = s->v2 ? ORIGIN_BYTES : 1;
    if (x == ORIGIN_NONE)
        return 0;
    if (x < skip || get_bytes(&s->origins, x - skip, &s->origin) < 0)
        return -1;
    s->origin_len = (size_t)(x - skip);
    if (s->origins_nl && s->origin_len > 0 &&
        memchr(s->origin, '\n', s->origin_len) != NULL)
        s->checked = false; /* spans of it may be written as they are */
    return 0;
}

/* The next id: *id, *n bytes (in the ids section, or in s->id). */
static int get_id(struct walk *s, const unsigned char **id, size_t *n)
{
    const unsigned char *b, *rest;
    if (!s->v2) {
        if (get_bytes(&s->ids, 1, &b) < 0 || *b == 0 || *b > SL_BATCH_ID_MAX ||
            get_bytes(&s->ids, *b, id) < 0)
            return -1;
        *n = *b;
        return 0;
    }
    /* the bytes shared with the previous id, then the rest */
    if (get_bytes(&s->ids, 2, &b) < 0 || b[0] > s->id_prev ||
        b[0] + b[1] == 0 || b[0] + b[1] > SL_BATCH_ID_MAX ||
        get_bytes(&s->ids, b[1], &rest) < 0)
        return -1;
    memcpy(s->id + b[0], rest, b[1]);
    s->id_prev = (size_t)b[0] + b[1];
    *id = (const unsigned char *)s->id;
    *n = s->id_prev;
    return 0;
}

/* The record of the next event and its line's prefix, at o; the event's
 * shape in *sid. */
static char *put_prefix(struct walk *s, char *o, size_t *sid)
{
    uint64_t shape, zz;
    const unsigned char *id;
    size_t n;
    if (get_varint(&s->sids, &shape) < 0 || shape >= s->nshapes ||
        get_varint(&s->times, &zz) < 0 || get_id(s, &id, &n) < 0 ||
        get_origin(s) < 0)
        return NULL;
    *sid = (size_t)shape;
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
    if (s->checked && !sl_batch_id_ok((const char *)id, n))
        s->checked = false;
    o = put(o, s->end, s->text, s->text_len);
    if (o != NULL)
        o = put(o, s->end, id, n);
    if (o == NULL || o == s->end)
        return NULL;
    s->id_len = n;
    *o++ = ' ';
    return o;
}

/* The event's message (between the quotes its shape has), from its
 * template and its nval values: each reference a value of the event that
 * is not the message and not empty (so the work is bounded by the
 * output). */
static char *put_message(struct sl_columnar_dec *d, const struct walk *s,
                         char *o, size_t nval)
{
    const char *end = s->end;
    for (const struct tseg *g = &d->tseg[d->tpl[s->tpl]];; g++) {
        o = put(o, end, g->p, g->len);
        if (o == NULL)
            return NULL;
        if (g->slot == TSEG_END)
            return o;
        if (g->slot >= nval)
            return NULL;
        const struct val *v = &d->val[g->slot];
        if (v->msg || v->len == 0)
            return NULL;
        o = put_json(d, o, end, v->p, v->len, v->plain);
        if (o == NULL)
            return NULL;
    }
}

/* One line; -1 when the entry is corrupt (or d->oom). Every value of the
 * event is read first: a message rebuilt from its template takes values
 * from after it. */
static int put_line(struct sl_columnar_dec *d, struct walk *s)
{
    size_t sid;
    const char *end = s->end;
    char *o = put_prefix(s, s->o, &sid), *json = o;
    if (o == NULL)
        return -1;
    size_t nval = d->shp[sid].nval;
    for (size_t k = 0; k < nval; k++)
        if (get_value(s, k < SL_COLUMNAR_COLS ? k : SL_COLUMNAR_COLS - 1,
                      &d->val[k]) < 0)
            return -1;
    const struct seg *g = &d->seg[d->shp[sid].first];
    for (const struct val *v = d->val;; v++, g++) {
        o = put(o, end, g->p, g->len);
        if (o == NULL)
            return -1;
        if (g->kind == 0)
            break;
        if (v->msg)
            o = g->kind == SL_SHAPE_STRING ? put_message(d, s, o, nval) : NULL;
        else if (g->kind == SL_SHAPE_STRING)
            o = put_json(d, o, end, v->p, v->len, v->plain);
        else
            o = put(o, end, v->p, v->len);
        if (o == NULL)
            return -1;
    }
    if (o == end)
        return -1;
    if (o == json)
        s->checked = false; /* an empty JSON */
    if (s->at != NULL) {
        size_t json_at = (size_t)(json - s->dst);
        *s->at++ = (struct sl_columnar_line){
            s->ts, (uint32_t)(json_at - 1 - s->id_len), (uint32_t)json_at,
            (uint32_t)(o - s->dst)};
    }
    *o++ = '\n';
    s->o = o;
    return 0;
}

static bool has_nl(const struct cur *c)
{
    return c->p < c->end && memchr(c->p, '\n', (size_t)(c->end - c->p));
}

/* Everything after the shapes and templates: the sections and columns. */
static int read_sections(struct walk *s, struct cur *c, size_t count)
{
    uint64_t ncols;
    if (get_section(c, &s->sids) < 0 || get_section(c, &s->times) < 0 ||
        get_section(c, &s->ids) < 0 || get_section(c, &s->origins) < 0 ||
        get_varint(c, &ncols) < 0 || ncols > SL_COLUMNAR_COLS)
        return -1;
    s->ncols = (size_t)ncols;
    for (size_t i = 0; i < s->ncols; i++) {
        if (get_section(c, &s->col[i]) < 0)
            return -1;
        s->col_nl[i] = has_nl(&s->col[i]);
    }
    s->origins_nl = has_nl(&s->origins);
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

/* The version, T and the block into d->flat. */
static int unpack_flat(struct sl_columnar_dec *d, const char *src, size_t len,
                       size_t raw, bool *v2, struct sl_err *err)
{
    struct cur c = {(const unsigned char *)src,
                    (const unsigned char *)src + len};
    uint64_t t;
    *v2 = len > 0 && src[0] == VERSION_MARK;
    if (*v2 && (len < 2 || src[1] != VERSION))
        return corrupt(err, "has a version this reader does not know; "
                            "upgrade the reader");
    if (*v2)
        c.p += 2;
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
    memset(d->flat.ptr + d->flat.len, 0, OVER);
    return 0;
}

/* The count, the shapes and templates, the sections; -2 out of memory. */
static int read_flat(struct sl_columnar_dec *d, struct walk *s, size_t count,
                     struct sl_err *err)
{
    struct cur c = {(const unsigned char *)d->flat.ptr,
                    (const unsigned char *)d->flat.ptr + d->flat.len};
    uint64_t n;
    if (get_varint(&c, &n) < 0 || n != count)
        return corrupt(err, "does not hold as many events as 'count' says");
    bool nl = false;
    int rc = read_shapes(d, &c, &s->nshapes, &nl);
    if (rc == 0 && s->v2)
        rc = read_templates(d, &c, &s->ntpl, &nl);
    if (nl)
        s->checked = false;
    if (rc == -2)
        return sl_err_set(err, SL_ENOMEM, "out of memory decoding a batch");
    if (rc < 0 || read_sections(s, &c, count) < 0)
        return corrupt(err, "has a shape or section cut short");
    return 0;
}

int sl_columnar_decode(struct sl_columnar_dec *d, const char *src, size_t len,
                       size_t count, char *dst, size_t raw,
                       struct sl_columnar_line *at, bool *checked,
                       struct sl_err *err)
{
    struct walk s = {
        .o = dst, .end = dst + raw, .dst = dst, .at = at, .checked = true};
    *checked = false;
    if (unpack_flat(d, src, len, raw, &s.v2, err) < 0 ||
        read_flat(d, &s, count, err) < 0)
        return -1;
    d->oom = false;
    for (size_t i = 0; i < count; i++) {
        int rc = put_line(d, &s);
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
    *checked = s.checked && raw <= UINT32_MAX;
    return 0;
}
