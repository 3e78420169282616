/* bulk_response.c: the `_bulk` answer parsed as a stream of yajl events.
 *
 * The parser keeps a small stack of the containers it cares about (the top
 * object, "items", one item, the action object under it, its "error" and
 * that error's "caused_by"; and the top-level "error" of a failed request).
 * Everything else (_shards, root_cause, deeper caused_by ...) is skipped by
 * counting depth, so a body of any shape costs no memory beyond yajl's own
 * token buffer, which max_body bounds.
 *
 * Strings are copied into one arena as (offset, length) spans, because the
 * arena may move while it grows; slices are made only when an item is read.
 * Each string is cut at its maximum on a UTF-8 boundary and only its first
 * occurrence is kept, so an item never takes more than ITEM_BYTES_MAX of the
 * arena, whose maximum is therefore never reached by a well-formed count of
 * items. A body that shows more items than the request had is refused as
 * soon as the extra item starts, so the item array is never overrun.
 *
 * Not done here: matching answered _ids against the request (the position
 * is the contract Elasticsearch documents), and any logging or retrying. */
#include "bulk_response.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "sl_buf.h"

#define ID_MAX             512 /* Elasticsearch refuses longer _ids */
#define TYPE_MAX           128
#define SNIPPET_MAX        120 /* of a body that is not JSON, for the message */
#define STACK_MAX          8
#define ITEM_SPANS         5
#define ITEM_BYTES_MAX(rm) (ID_MAX + 2 * TYPE_MAX + 2 * (rm))

enum ctx {
    C_TOP,
    C_TOP_ERROR,
    C_TOP_CAUSE,
    C_ITEMS,
    C_ITEM,
    C_BODY,
    C_ERROR,
    C_CAUSE
};
/* Where the scan of the canonical answer is: in its head, in an item, after
 * an item, after the items' "]", after the final "}", or given up (yajl
 * reads the rest). */
enum canon { CS_HEAD, CS_ITEM, CS_SEP, CS_TAIL, CS_END, CS_OFF };
enum key {
    K_OTHER,
    K_ERRORS,
    K_ITEMS,
    K_ERROR,
    K_STATUS,
    K_ID,
    K_TYPE,
    K_REASON,
    K_CAUSED_BY
};
enum span_ix { S_ID, S_TYPE, S_REASON, S_CTYPE, S_CREASON };

struct span {
    uint32_t off;
    uint32_t len;
    bool set;
};

struct item_rec {
    enum bulk_class cls;
    enum bulk_op op;
    int status;
    struct span s[ITEM_SPANS];
};

struct bulk_response {
    size_t max_items, reason_max, max_body;
    struct item_rec *items;
    struct sl_buf arena;
    yajl_handle yh;
    /* per answer */
    size_t nitems; /* of the request */
    size_t n;      /* items completed */
    size_t fed;
    enum ctx stack[STACK_MAX];
    size_t sp;
    size_t skip; /* depth inside an ignored container, 0 if none */
    enum key key;
    int errors; /* top-level "errors": -1 not seen, 0, 1 */
    bool fast, seen_items, has_body, has_status, bad, done, too_big;
    long top_status;
    struct span top[ITEM_SPANS]; /* top-level error, same indexes */
    struct item_rec cur;
    char why[200];
    char snippet[SNIPPET_MAX];
    size_t snippet_len;
    size_t counts[BULK_NCLASS];
    /* the canonical all-ok answer, read without yajl (below) */
    enum canon cs;
    size_t cpos;     /* bytes of the current literal matched */
    size_t citems;   /* items matched whole */
    bool canon_read; /* the whole answer was canonical: yajl saw nothing */
};

/* ---- classification ------------------------------------------------ */

static bool slice_is(struct sl_slice s, const char *lit)
{
    return sl_slice_eq(s, lit, strlen(lit));
}

enum bulk_class bulk_classify(enum bulk_op op, int status, struct sl_slice type)
{
    if (status >= 200 && status <= 299)
        return BULK_DONE;
    if (status == 409 && op == BULK_OP_CREATE &&
        slice_is(type, "version_conflict_engine_exception"))
        return BULK_DUPLICATE;
    /* the document's fault whatever the status: Elasticsearch 8.15 answers
     * an event that is not JSON with 500 not_x_content_exception, which a
     * retry would send again forever */
    if (slice_is(type, "mapper_parsing_exception") ||
        slice_is(type, "document_parsing_exception") ||
        slice_is(type, "strict_dynamic_mapping_exception") ||
        slice_is(type, "not_x_content_exception"))
        return BULK_DEAD;
    if (slice_is(type, "es_rejected_execution_exception") ||
        slice_is(type, "cluster_block_exception"))
        return BULK_RETRY;
    if (status == 408 || status == 429 || (status >= 500 && status <= 599))
        return BULK_RETRY;
    if (status == 404 && slice_is(type, "index_not_found_exception"))
        return BULK_NO_INDEX;
    /* every other 4xx, and statuses no server sends (1xx, 3xx, 6xx): the
     * dead-letter stream keeps the event, a retry would loop forever */
    return BULK_DEAD;
}

const char *bulk_class_name(enum bulk_class c)
{
    static const char *const names[BULK_NCLASS] = {"done", "duplicate", "retry",
                                                   "dead", "no-index"};
    return (unsigned)c < BULK_NCLASS ? names[c] : "?";
}

/* ---- parser state -------------------------------------------------- */

static int fail(struct bulk_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct bulk_response *r, const char *fmt, ...)
{
    va_list ap;
    if (!r->bad) {
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
        r->bad = true;
    }
    return 0; /* the yajl callback result: stop parsing */
}

/* yajl's message, without the newline it ends with. */
static void fail_yajl(struct bulk_response *r, const char *prefix,
                      const unsigned char *e)
{
    const char *m = e != NULL ? (const char *)e : "not JSON";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    fail(r, "%s%.*s", prefix, (int)n, m);
}

static int push(struct bulk_response *r, enum ctx c)
{
    if (r->sp == STACK_MAX)
        return fail(r, "nesting deeper than expected");
    r->stack[r->sp++] = c;
    return 1;
}

static enum ctx top(const struct bulk_response *r)
{
    return r->stack[r->sp - 1];
}

/* Keeps the first occurrence of a string, cut at max on a UTF-8 boundary. */
static int keep(struct bulk_response *r, struct span *sp,
                const unsigned char *s, size_t len, size_t max)
{
    if (sp->set)
        return 1;
    if (len > max) {
        len = max;
        while (len > 0 && (s[len] & 0xc0) == 0x80)
            len--;
    }
    sp->off = (uint32_t)r->arena.len;
    sp->len = (uint32_t)len;
    sp->set = true;
    if (sl_buf_append(&r->arena, s, len, NULL) < 0)
        return fail(r, "out of memory keeping an error reason");
    return 1;
}

static struct sl_slice slice_of(const struct bulk_response *r,
                                const struct span *sp)
{
    struct sl_slice s = {"", 0};
    if (sp->set && sp->len > 0) {
        s.ptr = r->arena.ptr + sp->off;
        s.len = sp->len;
    }
    return s;
}

/* ---- yajl callbacks ------------------------------------------------ */

static bool key_is(const unsigned char *k, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(k, lit, len) == 0;
}

static int on_key(void *ctx, const unsigned char *k, size_t len)
{
    struct bulk_response *r = ctx;
    /* lengths first: an item of an ok answer has a dozen keys, and this
     * runs for each (about a third of the parser's own time before) */
    static const struct {
        const char *name;
        size_t len;
        enum key key;
    } keys[] = {{"errors", 6, K_ERRORS}, {"items", 5, K_ITEMS},
                {"error", 5, K_ERROR},   {"status", 6, K_STATUS},
                {"_id", 3, K_ID},        {"type", 4, K_TYPE},
                {"reason", 6, K_REASON}, {"caused_by", 9, K_CAUSED_BY}};

    if (r->skip > 0)
        return 1;
    if (top(r) == C_ITEM) { /* the action: create, index, ... */
        if (r->has_body)
            return 1;
        r->cur.op = key_is(k, len, "create")   ? BULK_OP_CREATE
                    : key_is(k, len, "index")  ? BULK_OP_INDEX
                    : key_is(k, len, "update") ? BULK_OP_UPDATE
                    : key_is(k, len, "delete") ? BULK_OP_DELETE
                                               : BULK_OP_OTHER;
        return 1;
    }
    r->key = K_OTHER;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (len == keys[i].len && memcmp(k, keys[i].name, len) == 0) {
            r->key = keys[i].key;
            break;
        }
    }
    return 1;
}

static int begin_item(struct bulk_response *r)
{
    if (r->n >= r->nitems || r->n >= r->max_items)
        return fail(r, "more items than the %zu of the request", r->nitems);
    memset(&r->cur, 0, sizeof r->cur);
    r->has_body = false;
    return push(r, C_ITEM);
}

static int on_start_map(void *ctx)
{
    struct bulk_response *r = ctx;
    enum ctx next = C_TOP;

    if (r->skip > 0) {
        r->skip++;
        return 1;
    }
    if (r->sp == 0)
        return push(r, C_TOP);
    switch (top(r)) {
    case C_TOP:
        if (r->key == K_ITEMS)
            return fail(r, "\"items\" is not an array");
        next = r->key == K_ERROR ? C_TOP_ERROR : C_TOP;
        break;
    case C_TOP_ERROR:
        next = r->key == K_CAUSED_BY ? C_TOP_CAUSE : C_TOP;
        break;
    case C_ITEMS:
        return begin_item(r);
    case C_ITEM:
        if (r->has_body)
            break; /* a second action in one item: ignored */
        r->has_body = true;
        r->has_status = false;
        return push(r, C_BODY);
    case C_BODY:
        next = r->key == K_ERROR ? C_ERROR : C_TOP;
        break;
    case C_ERROR:
        next = r->key == K_CAUSED_BY ? C_CAUSE : C_TOP;
        break;
    default:
        break;
    }
    if (next == C_TOP) { /* not a container we read */
        r->skip = 1;
        return 1;
    }
    return push(r, next);
}

static int on_start_array(void *ctx)
{
    struct bulk_response *r = ctx;

    if (r->skip > 0) {
        r->skip++;
        return 1;
    }
    if (r->sp == 0)
        return fail(r, "the body is an array, not an object");
    if (top(r) == C_TOP && r->key == K_ITEMS) {
        if (r->seen_items)
            return fail(r, "\"items\" appears twice");
        r->seen_items = true;
        r->fast = r->errors == 0;
        return push(r, C_ITEMS);
    }
    if (top(r) == C_ITEMS)
        return fail(r, "item %zu is an array, not an object", r->n);
    if (top(r) == C_ITEM && !r->has_body)
        return fail(r, "item %zu: the action is not an object", r->n);
    r->skip = 1;
    return 1;
}

static int end_body(struct bulk_response *r)
{
    if (!r->has_status)
        return fail(r, "item %zu has no integer \"status\"", r->n);
    r->cur.cls =
        bulk_classify(r->cur.op, r->cur.status, slice_of(r, &r->cur.s[S_TYPE]));
    return 1;
}

static int on_end(void *ctx)
{
    struct bulk_response *r = ctx;

    if (r->skip > 0) {
        r->skip--;
        return 1;
    }
    switch (r->stack[--r->sp]) {
    case C_BODY:
        return end_body(r);
    case C_ITEM:
        if (!r->has_body)
            return fail(r, "item %zu has no action object", r->n);
        r->items[r->n++] = r->cur;
        r->counts[r->cur.cls]++;
        return 1;
    default:
        return 1;
    }
}

/* A scalar where an item, or the action of an item, should be. */
static int scalar_misplaced(struct bulk_response *r)
{
    if (r->sp == 0)
        return fail(r, "the body is not a JSON object");
    if (top(r) == C_ITEMS)
        return fail(r, "item %zu is not an object", r->n);
    if (top(r) == C_ITEM && !r->has_body)
        return fail(r, "item %zu: the action is not an object", r->n);
    if (top(r) == C_TOP && r->key == K_ITEMS)
        return fail(r, "\"items\" is not an array");
    return 1;
}

static int on_null(void *ctx)
{
    struct bulk_response *r = ctx;
    return r->skip > 0 ? 1 : scalar_misplaced(r);
}

static int on_double(void *ctx, double d)
{
    (void)d;
    return on_null(ctx);
}

static int on_bool(void *ctx, int b)
{
    struct bulk_response *r = ctx;
    if (r->skip > 0)
        return 1;
    if (r->sp > 0 && top(r) == C_TOP && r->key == K_ERRORS) {
        r->errors = b != 0;
        return 1;
    }
    return scalar_misplaced(r);
}

static int on_integer(void *ctx, long long v)
{
    struct bulk_response *r = ctx;
    if (r->skip > 0)
        return 1;
    if (r->sp > 0 && r->key == K_STATUS) {
        if (top(r) == C_BODY) {
            if (v < 0 || v > 999)
                return fail(r, "item %zu: status %lld", r->n, v);
            r->cur.status = (int)v;
            r->has_status = true;
            return 1;
        }
        if (top(r) == C_TOP) {
            r->top_status = v;
            return 1;
        }
    }
    return scalar_misplaced(r);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct bulk_response *r = ctx;
    struct span *sp;
    size_t rm = r->reason_max;

    if (r->skip > 0)
        return 1;
    if (r->sp == 0)
        return scalar_misplaced(r);
    sp = top(r) == C_TOP_ERROR || top(r) == C_TOP_CAUSE || top(r) == C_TOP
             ? r->top
             : r->cur.s;
    switch (top(r) * 16 + r->key) {
    case C_BODY * 16 + K_ID:
        return r->fast ? 1 : keep(r, &sp[S_ID], s, len, ID_MAX);
    case C_BODY * 16 + K_ERROR: /* "error": "text" */
    case C_TOP * 16 + K_ERROR:
    case C_ERROR * 16 + K_REASON:
    case C_TOP_ERROR * 16 + K_REASON:
        return keep(r, &sp[S_REASON], s, len, rm);
    case C_ERROR * 16 + K_TYPE:
    case C_TOP_ERROR * 16 + K_TYPE:
        return keep(r, &sp[S_TYPE], s, len, TYPE_MAX);
    case C_CAUSE * 16 + K_TYPE:
    case C_TOP_CAUSE * 16 + K_TYPE:
        return keep(r, &sp[S_CTYPE], s, len, TYPE_MAX);
    case C_CAUSE * 16 + K_REASON:
    case C_TOP_CAUSE * 16 + K_REASON:
        return keep(r, &sp[S_CREASON], s, len, rm);
    default:
        return scalar_misplaced(r);
    }
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, on_integer, on_double,      NULL,  on_string,
    on_start_map, on_key,  on_end,     on_start_array, on_end};

/* ---- public -------------------------------------------------------- */

struct bulk_response *bulk_response_new(size_t max_items, size_t reason_max,
                                        size_t max_body, struct sl_err *err)
{
    struct bulk_response *r;

    if (max_items == 0 || max_items > (1u << 20) || reason_max < 16 ||
        reason_max > (1u << 20) || max_body == 0 || max_body > UINT32_MAX) {
        sl_err_set(err, SL_EINVAL,
                   "bulk response: max_items %zu, reason_max %zu or max_body "
                   "%zu out of range",
                   max_items, reason_max, max_body);
        return NULL;
    }
    r = calloc(1, sizeof *r);
    if (r != NULL)
        r->items = calloc(max_items, sizeof *r->items);
    if (r == NULL || r->items == NULL) {
        free(r);
        sl_err_set(err, SL_ENOMEM, "bulk response: out of memory");
        return NULL;
    }
    r->max_items = max_items;
    r->reason_max = reason_max;
    r->max_body = max_body;
    /* strings kept are cut from the body, so the arena never outgrows
     * max_body either, which keeps every offset within uint32_t */
    size_t arena_max = (max_items + 1) * ITEM_BYTES_MAX(reason_max);
    sl_buf_init(&r->arena, arena_max < max_body ? arena_max : max_body);
    bulk_response_reset(r, 1);
    return r;
}

void bulk_response_free(struct bulk_response *r)
{
    if (r == NULL)
        return;
    if (r->yh != NULL)
        yajl_free(r->yh);
    sl_buf_release(&r->arena);
    free(r->items);
    free(r);
}

void bulk_response_reset(struct bulk_response *r, size_t nitems)
{
    if (r->yh != NULL)
        yajl_free(r->yh);
    /* yajl has no reset: one handle per answer, not per item */
    r->yh = yajl_alloc(&callbacks, NULL, r);
    sl_buf_reset(&r->arena);
    r->nitems = nitems;
    r->n = r->fed = r->sp = r->skip = r->snippet_len = 0;
    r->key = K_OTHER;
    r->errors = -1;
    r->fast = r->seen_items = r->has_body = r->has_status = false;
    r->bad = r->done = r->too_big = false;
    r->top_status = 0;
    memset(r->top, 0, sizeof r->top);
    memset(r->counts, 0, sizeof r->counts);
    r->cs = CS_HEAD;
    r->cpos = r->citems = 0;
    r->canon_read = false;
    r->why[0] = '\0';
    /* a count out of range is reported by finish, after the body is read:
     * a failed request's error body is still worth quoting */
    if (r->yh == NULL)
        fail(r, "out of memory starting the parser");
}

static void yajl_feed(struct bulk_response *r, const void *buf, size_t len)
{
    if (r->bad || len == 0)
        return;
    if (yajl_parse(r->yh, buf, len) == yajl_status_error) {
        unsigned char *e = yajl_get_error(r->yh, 0, buf, len);
        fail_yajl(r, "", e);
        if (e != NULL)
            yajl_free_error(r->yh, e);
    }
}

/* ---- the canonical answer ------------------------------------------ *
 *
 * What Elasticsearch (8 and 9) and OpenSearch answer to a request of
 * creates that all worked, with es_sender's filter_path, byte for byte:
 * the head, then one CANON_ITEM per event joined by ",", then "]}". Read
 * by matching those literals: yajl tokenised each 26-byte item at about
 * 1,600 instructions. At the first byte that differs (an error, another
 * status or action, spaces, an answer unfiltered) the bytes matched so far
 * are given to yajl as they were, then the rest: the outcome is the one
 * yajl alone would give, since it read the same bytes. */
static const char CANON_HEAD[] = "{\"errors\":false,\"items\":[";
static const char CANON_ITEM[] = "{\"create\":{\"status\":201}}";
#define CANON_HEAD_LEN (sizeof CANON_HEAD - 1)
#define CANON_ITEM_LEN (sizeof CANON_ITEM - 1)

/* Gives yajl what the scan matched, in the order it came. */
static void canon_replay(struct bulk_response *r)
{
    enum canon cs = r->cs;
    r->cs = CS_OFF;
    if (cs == CS_HEAD) {
        yajl_feed(r, CANON_HEAD, r->cpos);
        return;
    }
    yajl_feed(r, CANON_HEAD, CANON_HEAD_LEN);
    /* every item matched whole was followed by ",", but the last one when
     * the scan is past it (SEP, TAIL, END) */
    size_t whole = cs == CS_ITEM ? r->citems : r->citems - 1;
    for (size_t k = 0; k < whole; k++) {
        yajl_feed(r, CANON_ITEM, CANON_ITEM_LEN);
        yajl_feed(r, ",", 1);
    }
    if (cs == CS_ITEM) {
        yajl_feed(r, CANON_ITEM, r->cpos);
        return;
    }
    yajl_feed(r, CANON_ITEM, CANON_ITEM_LEN);
    if (cs == CS_TAIL || cs == CS_END)
        yajl_feed(r, "]", 1);
    if (cs == CS_END)
        yajl_feed(r, "}", 1);
}

/* Matches buf against the canonical answer; returns the bytes taken. When
 * a byte differs, hands what was matched to yajl (cs becomes CS_OFF) and
 * returns that byte's offset: the caller feeds yajl from there. */
static size_t canon_scan(struct bulk_response *r, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        switch (r->cs) {
        case CS_HEAD:
            if (c != CANON_HEAD[r->cpos])
                break;
            if (++r->cpos == CANON_HEAD_LEN) {
                r->cs = CS_ITEM;
                r->cpos = 0;
            }
            continue;
        case CS_ITEM:
            /* one more item than the request had: yajl says so */
            if (r->cpos == 0 &&
                (r->citems == r->nitems || r->citems == r->max_items))
                break;
            /* a whole item in this fragment: one compare */
            if (r->cpos == 0 && len - i >= CANON_ITEM_LEN &&
                memcmp(buf + i, CANON_ITEM, CANON_ITEM_LEN) == 0) {
                r->citems++;
                r->cs = CS_SEP;
                i += CANON_ITEM_LEN - 1;
                continue;
            }
            if (c != CANON_ITEM[r->cpos])
                break;
            if (++r->cpos == CANON_ITEM_LEN) {
                r->citems++;
                r->cs = CS_SEP;
            }
            continue;
        case CS_SEP:
            if (c != ',' && c != ']')
                break;
            r->cs = c == ',' ? CS_ITEM : CS_TAIL;
            r->cpos = 0;
            continue;
        case CS_TAIL:
            if (c != '}')
                break;
            r->cs = CS_END;
            continue;
        default:
            break;
        }
        canon_replay(r);
        return i;
    }
    return len;
}

/* The canonical answer was read whole: its items, as yajl would have
 * recorded them. */
static void canon_done(struct bulk_response *r)
{
    struct item_rec done = {
        .cls = BULK_DONE, .op = BULK_OP_CREATE, .status = 201};
    for (size_t i = 0; i < r->citems; i++)
        r->items[i] = done;
    r->n = r->citems;
    r->counts[BULK_DONE] = r->citems;
    r->errors = 0;
    r->fast = r->seen_items = true;
    r->cs = CS_OFF;
    r->canon_read = true;
}

int bulk_response_feed(struct bulk_response *r, const void *buf, size_t len)
{
    /* the start of the body is kept even once it is bad: the message about
     * a failed request quotes it */
    if (r->snippet_len < SNIPPET_MAX) {
        size_t n = SNIPPET_MAX - r->snippet_len;
        n = n < len ? n : len;
        memcpy(r->snippet + r->snippet_len, buf, n);
        r->snippet_len += n;
    }
    if (r->bad)
        return -1;
    if (len > r->max_body - r->fed) {
        r->too_big = true;
        fail(r, "answer larger than %zu bytes", r->max_body);
        return -1;
    }
    r->fed += len;
    if (r->cs != CS_OFF) {
        size_t used = canon_scan(r, buf, len);
        buf = (const char *)buf + used;
        len -= used;
        if (r->cs != CS_OFF || r->bad)
            return r->bad ? -1 : 0;
    }
    yajl_feed(r, buf, len);
    return r->bad ? -1 : 0;
}

/* Appends s to out (of size outsz, used so far *used) with control bytes
 * as spaces, so that a reason with newlines still makes one line. */
static void put_clean(char *out, size_t outsz, size_t *used, const char *s,
                      size_t len)
{
    for (size_t i = 0; i < len && *used + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        out[(*used)++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[*used] = '\0';
}

static void put_str(char *out, size_t outsz, size_t *used, const char *s)
{
    put_clean(out, outsz, used, s, strlen(s));
}

/* "TYPE: REASON; caused by TYPE: REASON" from the top-level error. */
static void put_error(const struct bulk_response *r, char *out, size_t outsz,
                      size_t *used)
{
    struct sl_slice t = slice_of(r, &r->top[S_TYPE]);
    struct sl_slice why = slice_of(r, &r->top[S_REASON]);
    struct sl_slice ct = slice_of(r, &r->top[S_CTYPE]);
    struct sl_slice cr = slice_of(r, &r->top[S_CREASON]);

    put_clean(out, outsz, used, t.ptr, t.len);
    if (t.len > 0 && why.len > 0)
        put_str(out, outsz, used, ": ");
    put_clean(out, outsz, used, why.ptr, why.len);
    if (ct.len > 0 || cr.len > 0) {
        put_str(out, outsz, used, "; caused by ");
        put_clean(out, outsz, used, ct.ptr, ct.len);
        if (ct.len > 0 && cr.len > 0)
            put_str(out, outsz, used, ": ");
        put_clean(out, outsz, used, cr.ptr, cr.len);
    }
}

/* A non-2xx answer: one line with the status, the server's error (or the
 * start of a body that is not one) and what to do. */
static int finish_failed(struct bulk_response *r, long status,
                         struct sl_err *err)
{
    char what[400];
    size_t used = 0;
    bool block =
        slice_is(slice_of(r, &r->top[S_TYPE]), "cluster_block_exception");
    /* "[SERVICE_UNAVAILABLE/2/no master]" (OpenSearch: "no
     * cluster-manager"), "[SERVICE_UNAVAILABLE/1/state not recovered]": the
     * cluster's own state, not a block to lift */
    bool unavailable = block && sl_slice_has(slice_of(r, &r->top[S_REASON]),
                                             "SERVICE_UNAVAILABLE");
    enum sl_status st = SL_EREMOTE;
    const char *hint = "";

    what[0] = '\0';
    if (!r->bad && (r->top[S_TYPE].set || r->top[S_REASON].set)) {
        put_error(r, what, sizeof what, &used);
    } else if (r->snippet_len == 0) {
        put_str(what, sizeof what, &used, "empty body");
    } else {
        put_str(what, sizeof what, &used, "body not a JSON error: \"");
        put_clean(what, sizeof what, &used, r->snippet,
                  r->snippet_len < 80 ? r->snippet_len : 80);
        put_str(what, sizeof what, &used, r->snippet_len > 80 ? "...\"" : "\"");
    }
    if (status == 413) {
        st = SL_ELIMIT;
        hint = "; the request is over the server's http.max_content_length: "
               "split it";
    } else if (status == 408 || status == 429 || status >= 500 || block) {
        st = SL_ERETRY;
        hint = unavailable
                   ? "; the cluster has no elected master (or is still "
                     "starting): a majority of its master-eligible nodes "
                     "must run; retrying later"
               : block ? "; writes are blocked (disk watermark or "
                         "index.blocks.*): free disk or lift the block"
                       : "; retrying later";
    } else if (status == 401) {
        hint = "; check the user and password or API key of the indexer";
    } else if (status == 403) {
        hint = "; the indexer's user lacks a privilege (create_doc on the "
               "index)";
    } else if (status == 404) {
        hint = "; check the URL of the server";
    }
    return sl_err_set(err, st, "bulk: HTTP %ld: %s%s", status, what, hint);
}

int bulk_response_finish(struct bulk_response *r, long http_status,
                         struct sl_err *err)
{
    if (r->cs == CS_END && !r->bad)
        canon_done(r);
    else if (r->cs != CS_OFF)
        canon_replay(r); /* cut short: yajl says where, below */
    if (r->cs == CS_OFF && !r->bad && !r->canon_read &&
        yajl_complete_parse(r->yh) == yajl_status_error) {
        unsigned char *e = yajl_get_error(r->yh, 0, NULL, 0);
        char prefix[64];
        snprintf(prefix, sizeof prefix,
                 "cut short or not JSON after %zu bytes: ", r->fed);
        fail_yajl(r, prefix, e);
        if (e != NULL)
            yajl_free_error(r->yh, e);
    }
    if (http_status < 200 || http_status > 299)
        return finish_failed(r, http_status, err);
    if (r->too_big)
        return sl_err_set(err, SL_ELIMIT, "bulk: answer: %s", r->why);
    if (r->nitems == 0 || r->nitems > r->max_items) {
        r->bad = false;
        fail(r, "a request of %zu items (1 to %zu expected)", r->nitems,
             r->max_items);
    }
    if (!r->bad && !r->seen_items)
        fail(r, "no \"items\" array in the answer");
    if (!r->bad && r->n != r->nitems)
        fail(r, "%zu items answered for a request of %zu", r->n, r->nitems);
    if (r->bad)
        return sl_err_set(err, SL_ERETRY,
                          "bulk: answer: %s; sending the request again",
                          r->why);
    r->done = true;
    return 0;
}

size_t bulk_response_count(const struct bulk_response *r)
{
    return r->done ? r->n : 0;
}

bool bulk_response_item(const struct bulk_response *r, size_t i,
                        struct bulk_item *out)
{
    const struct item_rec *it;

    if (!r->done || i >= r->n)
        return false;
    it = &r->items[i];
    out->cls = it->cls;
    out->op = it->op;
    out->status = it->status;
    out->id = slice_of(r, &it->s[S_ID]);
    out->type = slice_of(r, &it->s[S_TYPE]);
    out->reason = slice_of(r, &it->s[S_REASON]);
    out->cause_type = slice_of(r, &it->s[S_CTYPE]);
    out->cause_reason = slice_of(r, &it->s[S_CREASON]);
    return true;
}

size_t bulk_response_class_count(const struct bulk_response *r,
                                 enum bulk_class c)
{
    return r->done && (unsigned)c < BULK_NCLASS ? r->counts[c] : 0;
}

bool bulk_response_fast_path(const struct bulk_response *r)
{
    return r->fast;
}
