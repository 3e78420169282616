/* test_batch_columnar.c: codec "columnar" (sl_batch_columnar.h) gives back
 * exactly the lines codec none carries for the same events: random event
 * trees (tests/lib/event_gen.h) in batches of every size, the shipper's
 * Apache event, and the cases by name (quotes, backslashes, control bytes,
 * NUL, invalid UTF-8, empty strings, long values, arrays, nested objects,
 * more values than columns, shapes mixed in one batch, the message absent,
 * not a string or overwritten by a capture, @metadata, rendered values,
 * spans and literals); the batch's byte count is the lines' exactly; an
 * event too large leaves the batch as it was; and a reader refuses every
 * entry cut short, with a wrong count or raw, or with any byte changed
 * that breaks it, without reading or writing out of bounds (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event_gen.h"
#include <lz4.h>

#include "sl_arena.h"
#include "sl_batch.h"
#include "sl_batch_columnar.h"
#include "sl_event.h"
#include "sl_json.h"

/* An entry copied out of the writer, as a Redis reply holds it. */
struct entry {
    char *argv[SL_BATCH_ARGC];
    size_t len[SL_BATCH_ARGC];
};

static void entry_take(struct sl_batch_writer *w, struct entry *e)
{
    struct sl_err err = {0};
    const char **argv;
    const size_t *len;
    if (sl_batch_writer_seal(w, &argv, &len, &err) < 0)
        fail_msg("seal: %s", err.msg);
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        e->argv[i] = malloc(len[i] + 1);
        assert_non_null(e->argv[i]);
        memcpy(e->argv[i], argv[i], len[i]);
        e->argv[i][len[i]] = '\0';
        e->len[i] = len[i];
    }
}

static void entry_free(struct entry *e)
{
    for (int i = 0; i < SL_BATCH_ARGC; i++)
        free(e->argv[i]);
}

/* Decodes e into memory of its own; 0 or -1 with err. *out (malloc'd) and
 * *n: the payload. */
static int decode(struct sl_batch_reader *r, const struct entry *e, char **out,
                  size_t *n, struct sl_err *err)
{
    size_t raw;
    *out = NULL;
    if (sl_batch_reader_decode_header(r, SL_BATCH_ARGC,
                                      (const char *const *)e->argv, e->len,
                                      &raw, err) < 0)
        return -1;
    *out = malloc(raw + 1);
    assert_non_null(*out);
    *n = raw;
    if (sl_batch_reader_decode_payload(r, *out, err) < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Two writers, one per codec, fed the same events. */
struct pair {
    struct sl_batch_writer *none, *col;
    struct sl_batch_reader *r;
    size_t events;
};

static void pair_init(struct pair *p, size_t max_raw)
{
    struct sl_err err = {0};
    p->none = sl_batch_writer_new("h", SL_CODEC_NONE, 0, max_raw, &err);
    p->col = sl_batch_writer_new("h", SL_CODEC_COLUMNAR, 0, max_raw, &err);
    p->r = sl_batch_reader_new(0, &err);
    assert_non_null(p->none);
    assert_non_null(p->col);
    assert_non_null(p->r);
    p->events = 0;
}

static void pair_free(struct pair *p)
{
    sl_batch_writer_free(p->none);
    sl_batch_writer_free(p->col);
    sl_batch_reader_free(p->r);
}

/* Seals both, decodes the columnar entry and compares it with none's
 * payload; resets both. */
static void pair_check(struct pair *p)
{
    if (sl_batch_writer_count(p->none) == 0)
        return;
    struct entry a, b;
    entry_take(p->none, &a);
    entry_take(p->col, &b);
    assert_memory_equal(b.argv[7], "columnar", 8);
    /* raw, count: the same numbers */
    assert_int_equal(a.len[9], b.len[9]);
    assert_memory_equal(a.argv[9], b.argv[9], a.len[9]);
    assert_memory_equal(a.argv[5], b.argv[5], a.len[5]);
    char *out;
    size_t n;
    struct sl_err err = {0};
    if (decode(p->r, &b, &out, &n, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(n, a.len[11]);
    assert_memory_equal(out, a.argv[11], n);
    free(out);
    entry_free(&a);
    entry_free(&b);
    sl_batch_writer_reset(p->none);
    sl_batch_writer_reset(p->col);
}

/* Adds ev to both: the same result, the same byte count. */
static int pair_add(struct pair *p, const struct sl_event *ev, int64_t ts)
{
    char id[32];
    snprintf(id, sizeof id, "id-%zu", p->events++);
    struct sl_err e1 = {0}, e2 = {0};
    int r1 = sl_batch_writer_add_event(p->none, id, strlen(id), ts, ev, &e1);
    int r2 = sl_batch_writer_add_event(p->col, id, strlen(id), ts, ev, &e2);
    assert_int_equal(r1, r2);
    if (r1 < 0)
        assert_int_equal(e1.status, e2.status);
    assert_int_equal(sl_batch_writer_count(p->none),
                     sl_batch_writer_count(p->col));
    assert_int_equal(sl_batch_writer_bytes(p->none),
                     sl_batch_writer_bytes(p->col));
    return r1;
}

static uint64_t rng_state = 88172645463325252u;

static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return rng_state >> 29;
}

static void random_events_round_trip(void **state)
{
    (void)state;
    struct sl_arena *arena = sl_arena_new(1 << 16);
    struct event_gen g;
    struct sl_event ev;
    uint8_t bytes[4096];
    event_gen_init(&g, arena);
    sl_event_init(&ev, arena);
    struct pair p;
    pair_init(&p, 1 << 20);
    int64_t ts = 1763856000000;
    for (int batch = 0; batch < 300; batch++) {
        size_t n = 1 + rng() % (batch % 10 == 0 ? 400 : 20);
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < sizeof bytes; k++)
                bytes[k] = (uint8_t)rng();
            sl_arena_reset(arena);
            event_gen_feed(&g, bytes, sizeof bytes);
            assert_int_equal(event_gen_build(&g, &ev), 0);
            /* times that repeat, step, and jump across the range */
            uint64_t t = rng() % 8;
            ts = t < 5   ? ts + (int64_t)t
                 : t < 7 ? SL_BATCH_TS_MIN + (int64_t)(rng() % 1000)
                         : SL_BATCH_TS_MAX - (int64_t)(rng() % 1000);
            /* a full batch (both refused it alike): flushed, then the
             * event again, unless it is larger than a batch alone */
            if (pair_add(&p, &ev, ts) < 0 &&
                sl_batch_writer_count(p.none) > 0) {
                pair_check(&p);
                (void)pair_add(&p, &ev, ts);
            }
        }
        pair_check(&p);
    }
    pair_free(&p);
    event_gen_release(&g);
    sl_arena_free(arena);
}

/* ---- named cases ---------------------------------------------------- */

struct build {
    struct sl_arena *arena;
    struct sl_event ev;
};

static struct sl_value *put(struct build *b, struct sl_value *obj,
                            const char *key, enum sl_value_type t,
                            const char *text, size_t len)
{
    struct sl_slice k = sl_slice_from(key);
    struct sl_value *v = sl_event_append(
        &b->ev, obj, k, sl_json_plain_prefix(key, k.len) == k.len);
    assert_non_null(v);
    sl_value_set(v, t, text, len);
    return v;
}

#define PUTS(b, obj, key, s) put(b, obj, key, SL_VALUE_STRING, s, strlen(s))

static const char apache[] =
    "192.0.2.44 - alice [23/Nov/2026:09:00:07 +0100] \"GET /admin?q=\\\"x\\\" "
    "HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"";

/* The shipper's event: the line as message, grok's captures pointing
 * into it, base fields, a rendered host. */
static void build_apache(struct build *b, const char *line)
{
    struct sl_value *root = &b->ev.root;
    sl_event_reset(&b->ev);
    PUTS(b, root, "@timestamp", "2026-11-23T08:00:07.000Z");
    put(b, root, "message", SL_VALUE_STRING, line, strlen(line));
    struct sl_value *log = put(b, root, "log", SL_VALUE_OBJECT, NULL, 0);
    struct sl_value *file = put(b, log, "file", SL_VALUE_OBJECT, NULL, 0);
    PUTS(b, file, "path", "/var/log/apache2/access.log");
    put(b, log, "offset", SL_VALUE_NUMBER, "123456", 6);
    const char *sp = strchr(line, ' ');
    put(b, root, "clientip", SL_VALUE_STRING, line, (size_t)(sp - line));
    put(b, root, "ident", SL_VALUE_STRING, sp + 1, 1);
    put(b, root, "auth", SL_VALUE_STRING, sp + 3, 5);
    const char *q = strchr(line, '"');
    put(b, root, "verb", SL_VALUE_STRING, q + 1, 3);
    put(b, root, "response", SL_VALUE_NUMBER, strstr(line, "200"), 3);
    PUTS(b, root, "bytes", "5120"); /* a copy: not a span */
    struct sl_value *tags = put(b, root, "tags", SL_VALUE_ARRAY, NULL, 0);
    put(b, tags, "", SL_VALUE_STRING, "_grokparsefailure", 17);
    struct sl_value *md = put(b, root, "@metadata", SL_VALUE_OBJECT, NULL, 0);
    PUTS(b, md, "secret", "never shipped");
}

/* An event to build and a pair of writers of 4 MiB batches. */
static void build_init(struct build *b, struct pair *p)
{
    b->arena = sl_arena_new(1 << 16);
    assert_non_null(b->arena);
    sl_event_init(&b->ev, b->arena);
    pair_init(p, 1 << 22);
}

static void named_cases_round_trip(void **state)
{
    (void)state;
    struct build b;
    struct pair p;
    build_init(&b, &p);
    struct sl_value *root = &b.ev.root;
    /* the Apache event, many of them, then one per case between them */
    for (int i = 0; i < 50; i++) {
        build_apache(&b, apache);
        assert_int_equal(pair_add(&p, &b.ev, 1763856000000 + i / 10), 0);
    }
    static const char nasty[] =
        "q\"b\\s\n\t\x01\x7f\0nul \xc3\xa9 \xff\xc0 end";
    const size_t nn = sizeof nasty - 1;
    char *longv = malloc(100000);
    assert_non_null(longv);
    for (size_t i = 0; i < 100000; i++)
        longv[i] = (char)(i % 7 == 0 ? '"' : 'a' + i % 26);
    for (int c = 0; c < 12; c++) {
        sl_event_reset(&b.ev);
        switch (c) {
        case 0: /* empty event */
            break;
        case 1: /* message alone, full of bytes that need care */
            put(&b, root, "message", SL_VALUE_STRING, nasty, nn);
            break;
        case 2: /* captures of a nasty message, and empty strings */
            put(&b, root, "message", SL_VALUE_STRING, nasty, nn);
            put(&b, root, "a", SL_VALUE_STRING, nasty + 1, 4);
            put(&b, root, "b", SL_VALUE_STRING, nasty + 10, 5);
            put(&b, root, "e", SL_VALUE_STRING, nasty, 0);
            put(&b, root, "k\"\x01", SL_VALUE_STRING, "", 0);
            break;
        case 3: /* message not a string */
            put(&b, root, "message", SL_VALUE_NUMBER, "42", 2);
            PUTS(&b, root, "x", "42");
            break;
        case 4: /* message overwritten by a capture of itself */
            put(&b, root, "message", SL_VALUE_STRING, apache + 20, 10);
            put(&b, root, "before", SL_VALUE_STRING, apache, 10);
            put(&b, root, "inside", SL_VALUE_STRING, apache + 22, 4);
            break;
        case 5: { /* more values than columns, arrays, nesting */
            struct sl_value *a = put(&b, root, "arr", SL_VALUE_ARRAY, NULL, 0);
            for (int i = 0; i < 150; i++)
                put(&b, a, "", i % 3 ? SL_VALUE_STRING : SL_VALUE_NUMBER,
                    i % 3 ? "v\"" : "17", 2);
            struct sl_value *o = put(&b, root, "o", SL_VALUE_OBJECT, NULL, 0);
            struct sl_value *o2 = put(&b, o, "p", SL_VALUE_OBJECT, NULL, 0);
            put(&b, o2, "q", SL_VALUE_ARRAY, NULL, 0);
            put(&b, o2, "r", SL_VALUE_OBJECT, NULL, 0);
            put(&b, o2, "t", SL_VALUE_BOOL, "true", 4);
            put(&b, o2, "n", SL_VALUE_NULL, NULL, 0);
            break;
        }
        case 6: /* a long value, literal and escaped */
            put(&b, root, "long", SL_VALUE_STRING, longv, 100000);
            break;
        case 7: /* a long message and a long span of it */
            put(&b, root, "message", SL_VALUE_STRING, longv, 100000);
            put(&b, root, "rest", SL_VALUE_STRING, longv + 7, 90000);
            break;
        case 8: /* only @metadata */
            put(&b, put(&b, root, "@metadata", SL_VALUE_OBJECT, NULL, 0), "x",
                SL_VALUE_STRING, "y", 1);
            break;
        case 9: /* a value equal to the column's previous: the same bytes,
                 * needing escapes */
            PUTS(&b, root, "@timestamp", "a\"b");
            break;
        case 10: /* the marker bytes inside values */
            PUTS(&b, root, "@timestamp", "\x01\x02");
            put(&b, root, "n", SL_VALUE_NUMBER, "1", 1);
            break;
        default: /* a key that needs escaping, duplicated */
            PUTS(&b, root, "k\\", "1");
            PUTS(&b, root, "k\\", "\xe2\x82\xac");
            break;
        }
        assert_int_equal(pair_add(&p, &b.ev, 1763856000000 + c), 0);
        build_apache(&b, apache);
        assert_int_equal(pair_add(&p, &b.ev, 1763856000000 + c), 0);
    }
    pair_check(&p);
    free(longv);
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* An event past the batch's room: SL_ELIMIT, the batch unchanged; alone,
 * "larger than a whole batch". */
static void event_too_large_leaves_the_batch(void **state)
{
    (void)state;
    struct build b = {.arena = sl_arena_new(1 << 16)};
    sl_event_init(&b.ev, b.arena);
    struct pair p;
    pair_init(&p, 1000);
    build_apache(&b, apache);
    struct sl_err err = {0};
    size_t before = 0;
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++) {
        before = sl_batch_writer_bytes(p.col);
        rc = pair_add(&p, &b.ev, 1763856000000);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(sl_batch_writer_bytes(p.col), before);
    pair_check(&p); /* what was in it decodes to the lines */
    char big[2000];
    memset(big, 'x', sizeof big);
    sl_event_reset(&b.ev);
    put(&b, &b.ev.root, "message", SL_VALUE_STRING, big, sizeof big);
    assert_int_equal(sl_batch_writer_add_event(p.col, "a", 1, 0, &b.ev, &err),
                     -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_non_null(strstr(err.msg, "larger than a whole batch"));
    assert_int_equal(sl_batch_writer_count(p.col), 0);
    /* bad ids and times: refused as by begin */
    assert_int_equal(sl_batch_writer_add_event(p.col, "a b", 3, 0, &b.ev, &err),
                     -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(sl_batch_writer_add_event(
                         p.col, "a", 1, SL_BATCH_TS_MAX + 1, &b.ev, &err),
                     -1);
    assert_null(sl_batch_writer_begin(p.col, "a", 1, 0, &err));
    assert_non_null(strstr(err.msg, "codec columnar takes events"));
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* ---- a reader refuses what is broken -------------------------------- */

static void expect_refused(struct sl_batch_reader *r, struct entry *e,
                           const char *msg)
{
    char *out;
    size_t n;
    struct sl_err err = {0};
    if (decode(r, e, &out, &n, &err) == 0)
        fail_msg("accepted a broken entry");
    assert_int_equal(err.status, SL_EPARSE);
    if (msg != NULL && strstr(err.msg, msg) == NULL)
        fail_msg("refused with '%s', expected '%s'", err.msg, msg);
}

static void set_value(struct entry *e, int i, const char *s)
{
    free(e->argv[i]);
    e->argv[i] = strdup(s);
    e->len[i] = strlen(s);
}

static void broken_entries_are_refused(void **state)
{
    (void)state;
    struct build b = {.arena = sl_arena_new(1 << 16)};
    sl_event_init(&b.ev, b.arena);
    struct pair p;
    pair_init(&p, 1 << 20);
    for (int i = 0; i < 5; i++) {
        build_apache(&b, apache);
        assert_int_equal(pair_add(&p, &b.ev, 1763856000000 + i), 0);
    }
    struct entry good;
    entry_take(p.col, &good);
    char rawtext[32];
    size_t raw = strtoul(good.argv[9], NULL, 10);
    /* raw one more, one less; count one more, one less */
    struct entry e;
    entry_take(p.col, &e);
    snprintf(rawtext, sizeof rawtext, "%zu", raw + 1);
    set_value(&e, 9, rawtext);
    expect_refused(p.r, &e, "decodes to fewer bytes than 'raw' says");
    snprintf(rawtext, sizeof rawtext, "%zu", raw - 1);
    set_value(&e, 9, rawtext);
    expect_refused(p.r, &e, "event 5 of 5 cut short or not as 'raw' says");
    set_value(&e, 9, good.argv[9]);
    set_value(&e, 5, "6");
    expect_refused(p.r, &e, "does not hold as many events as 'count' says");
    set_value(&e, 5, "4");
    expect_refused(p.r, &e, "does not hold as many events as 'count' says");
    entry_free(&e);
    /* the events cut at every length */
    for (size_t cut = 0; cut < good.len[11]; cut++) {
        entry_take(p.col, &e);
        e.len[11] = cut;
        expect_refused(p.r, &e, NULL);
        entry_free(&e);
    }
    /* every byte of a transposed buffer changed: refused, or lines that
     * pass the reader's checks; never out of bounds (ASan) */
    for (size_t i = 0; i < good.len[11]; i++) {
        for (int x = 1; x < 256; x <<= 2) {
            entry_take(p.col, &e);
            e.argv[11][i] = (char)(e.argv[11][i] ^ x);
            char *out;
            size_t n;
            struct sl_err err = {0};
            if (decode(p.r, &e, &out, &n, &err) == 0)
                free(out);
            else
                assert_int_equal(err.status, SL_EPARSE);
            entry_free(&e);
        }
    }
    entry_free(&good);
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* ---- version 2: the message as a template ---------------------------- */

/* ev alone through the encoder: whether its transposed buffer holds the
 * bytes text[0..n) (the message stored as it is), after checking that it
 * decodes to ev's line. */
static bool stored(const struct sl_event *ev, const char *text, size_t n)
{
    struct sl_err err = {0};
    struct sl_columnar_enc *e = sl_columnar_enc_new(&err);
    struct sl_columnar_dec *d = sl_columnar_dec_new(&err);
    struct sl_buf out, json;
    sl_buf_init(&out, 1 << 24);
    sl_buf_init(&json, 1 << 24);
    size_t json_len;
    assert_int_equal(sl_columnar_enc_prepare(e, ev, &json_len, &err), 0);
    assert_int_equal(sl_columnar_enc_append(e, "i", 1, 7, &err), 0);
    assert_int_equal(sl_buf_append(&json, "7 i ", 4, &err), 0);
    assert_int_equal(sl_event_write_json(ev, &json, &err), 0);
    assert_int_equal(sl_buf_append_char(&json, '\n', &err), 0);
    assert_int_equal(json.len, json_len + 5);
    assert_int_equal(sl_columnar_enc_seal(e, json.len, 1, &out, &err), 0);
    /* the version, then T and the block */
    assert_int_equal(out.ptr[0], 0);
    assert_int_equal(out.ptr[1], 2);
    char *line = malloc(json.len);
    bool checked = false;
    assert_non_null(line);
    if (sl_columnar_decode(d, out.ptr, out.len, 1, line, json.len, NULL,
                           &checked, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_true(checked);
    assert_memory_equal(line, json.ptr, json.len);
    size_t t = 0, i = 2;
    for (unsigned sh = 0;; sh += 7, i++) {
        t |= (size_t)(out.ptr[i] & 0x7f) << sh;
        if ((unsigned char)out.ptr[i] < 0x80)
            break;
    }
    char *flat = malloc(t + 1);
    assert_non_null(flat);
    assert_int_equal(LZ4_decompress_safe(out.ptr + i + 1, flat,
                                         (int)(out.len - i - 1), (int)t),
                     (int)t);
    bool found = false;
    for (size_t k = 0; n > 0 && k + n <= t && !found; k++)
        found = memcmp(flat + k, text, n) == 0;
    free(flat);
    free(line);
    sl_buf_release(&out);
    sl_buf_release(&json);
    sl_columnar_dec_free(d);
    sl_columnar_enc_free(e);
    return found;
}

/* The top-level "message". */
static struct sl_value *find_message(struct sl_event *ev)
{
    for (struct sl_value *v = ev->root.first; v != NULL; v = v->next)
        if (v->key.len == 7 && memcmp(v->key.ptr, "message", 7) == 0)
            return v;
    return NULL;
}

/* 12 bytes of the message across a capture's end and the bytes after it:
 * in the batch when the message is stored as it is, never when it is a
 * template (the capture is in its column, the bytes in the template). */
#define CROSS(s) (s) + 5, 12

static void message_is_a_template_or_itself(void **state)
{
    (void)state;
    struct build b = {.arena = sl_arena_new(1 << 16)};
    sl_event_init(&b.ev, b.arena);
    struct sl_value *root = &b.ev.root;
    struct pair p;
    pair_init(&p, 1 << 22);
    /* build_apache's event: its captures cover a fifth of the message,
     * which is stored as it is */
    static const char plain[] =
        "10.1.2.3 - - [23/Nov/2026:09:00:07 +0100] GET /index.html 200 512";
    const size_t pn = sizeof plain - 1;
    build_apache(&b, apache);
    assert_true(stored(&b.ev, apache, 40));
    assert_int_equal(pair_add(&p, &b.ev, 1), 0);
    char copy[16];
    for (int c = 0; c < 13; c++) {
        sl_event_reset(&b.ev);
        put(&b, root, "message", SL_VALUE_STRING, plain, pn);
        struct sl_value *ip = put(&b, root, "ip", SL_VALUE_STRING, plain, 8);
        put(&b, root, "time", SL_VALUE_STRING, plain + 14, 26);
        struct sl_value *path =
            put(&b, root, "path", SL_VALUE_STRING, plain + 46, 11);
        struct sl_value *status =
            put(&b, root, "status", SL_VALUE_NUMBER, plain + 58, 3);
        bool rebuilt = true;
        switch (c) {
        case 0: /* as grok leaves it */
            break;
        case 1: /* a capture converted: its text no longer the message's */
            memcpy(copy, "200.0", 5);
            sl_value_set(status, SL_VALUE_NUMBER, copy, 5);
            break;
        case 2: /* a field removed: its bytes stay in the template */
            sl_value_set(path, SL_VALUE_NULL, NULL, 0);
            break;
        case 3: /* renamed: the same bytes at another place */
            sl_value_set(ip, SL_VALUE_NULL, NULL, 0);
            put(&b, root, "source", SL_VALUE_STRING, plain, 8);
            break;
        case 4: /* changed by a later processor, same length */
            memcpy(copy, "/INDEX.HTML", 11);
            sl_value_set(path, SL_VALUE_STRING, copy, 11);
            break;
        case 5: /* no captures left (a grok failure): stored itself */
            sl_event_reset(&b.ev);
            put(&b, root, "message", SL_VALUE_STRING, plain, pn);
            rebuilt = false;
            break;
        case 6: /* captures that cover less than half of it */
            sl_event_reset(&b.ev);
            put(&b, root, "message", SL_VALUE_STRING, plain, pn);
            put(&b, root, "ip", SL_VALUE_STRING, plain, 8);
            rebuilt = false;
            break;
        case 7: { /* not ASCII: stored itself */
            static const char utf[] = "\xc3\xa9t\xc3\xa9 2026";
            sl_event_reset(&b.ev);
            put(&b, root, "message", SL_VALUE_STRING, utf, sizeof utf - 1);
            put(&b, root, "y", SL_VALUE_STRING, utf + 6, 4);
            assert_true(stored(&b.ev, utf, sizeof utf - 1));
            rebuilt = false;
            break;
        }
        case 8: /* overlapping captures, one the whole message, one twice */
            put(&b, root, "all", SL_VALUE_STRING, plain, pn);
            put(&b, root, "ip2", SL_VALUE_STRING, plain, 8);
            put(&b, root, "mid", SL_VALUE_STRING, plain + 4, 20);
            break;
        case 9: /* an empty capture, a capture at the very end */
            put(&b, root, "e", SL_VALUE_STRING, plain + 3, 0);
            put(&b, root, "end", SL_VALUE_NUMBER, plain + pn - 3, 3);
            break;
        case 10: { /* the message past the last column */
            sl_event_reset(&b.ev);
            struct sl_value *a = put(&b, root, "arr", SL_VALUE_ARRAY, NULL, 0);
            for (int i = 0; i < 80; i++)
                put(&b, a, "", SL_VALUE_STRING, plain + i % 9, 1);
            put(&b, root, "message", SL_VALUE_STRING, plain, pn);
            put(&b, root, "time", SL_VALUE_STRING, plain + 14, 26);
            put(&b, root, "rest", SL_VALUE_STRING, plain + 41, pn - 41);
            break;
        }
        case 11: /* the message overwritten by a capture of itself */
            sl_value_set(find_message(&b.ev), SL_VALUE_STRING, plain + 14, 26);
            put(&b, root, "day", SL_VALUE_STRING, plain + 15, 2);
            put(&b, root, "year", SL_VALUE_STRING, plain + 22, 4);
            break;
        default: { /* a message that needs escaping, in its gaps and in
                    * a capture */
            static const char esc[] = "a\"b\\c\td \"q\\\"x\" 404 \x01 end";
            sl_event_reset(&b.ev);
            put(&b, root, "message", SL_VALUE_STRING, esc, sizeof esc - 1);
            put(&b, root, "w", SL_VALUE_STRING, esc + 2, 6);
            put(&b, root, "q", SL_VALUE_STRING, esc + 9, 5);
            put(&b, root, "s", SL_VALUE_NUMBER, esc + 15, 3);
            assert_false(stored(&b.ev, "a\\\"b\\\\c\\td", 10));
            assert_true(stored(&b.ev, "a\\\"", 3)); /* in the template */
            break;
        }
        }
        /* 8 has a capture of the whole message, 11 a message that is
         * one capture: its bytes are in the batch as that value */
        if (c != 7 && c != 8 && c != 11 && c != 12)
            assert_int_equal(stored(&b.ev, CROSS(plain)), !rebuilt);
        assert_int_equal(pair_add(&p, &b.ev, 1 + c), 0);
    }
    pair_check(&p);
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* An entry of version 1 (written before templates: by main at a44a883,
 * three Apache events of build_apache and one without a message) still
 * decodes to its lines; a version this reader does not know is refused. */
static const char v1_events[] =
    "\xf3\x05\xf1\x0d\x04\x02\x8c\x01\x7b\x22\x40\x74\x69\x6d\x65\x73"
    "\x74\x61\x6d\x70\x22\x3a\x01\x2c\x22\x6d\x65\x73\x73\x61\x67\x65"
    "\x0c\x00\xb0\x6c\x6f\x67\x22\x3a\x7b\x22\x66\x69\x6c\x65\x08\x00"
    "\xf2\x0e\x70\x61\x74\x68\x22\x3a\x01\x7d\x2c\x22\x6f\x66\x66\x73"
    "\x65\x74\x22\x3a\x02\x7d\x2c\x22\x63\x6c\x69\x65\x6e\x74\x69\x3e"
    "\x00\x51\x69\x64\x65\x6e\x74\x3c\x00\x21\x61\x75\x2d\x00\x61\x2c"
    "\x22\x76\x65\x72\x62\x12\x00\xf1\x03\x72\x65\x73\x70\x6f\x6e\x73"
    "\x65\x22\x3a\x02\x2c\x22\x62\x79\x74\x65\x73\x17\x00\xbd\x74\x61"
    "\x67\x73\x22\x3a\x5b\x01\x5d\x7d\x16\x8d\x00\x10\x78\x6f\x00\xf0"
    "\x06\x04\x00\x00\x00\x01\x09\x80\x90\x95\xe0\xd5\x66\x02\x02\x02"
    "\x14\x04\x69\x64\x2d\x30\x05\x00\x10\x31\x05\x00\x10\x32\x05\x00"
    "\xff\x7c\x33\x99\x03\x87\x01\x31\x39\x32\x2e\x30\x2e\x32\x2e\x34"
    "\x34\x20\x2d\x20\x61\x6c\x69\x63\x65\x20\x5b\x32\x33\x2f\x4e\x6f"
    "\x76\x2f\x32\x30\x32\x36\x3a\x30\x39\x3a\x30\x30\x3a\x30\x37\x20"
    "\x2b\x30\x31\x30\x30\x5d\x20\x5c\x22\x47\x45\x54\x20\x2f\x61\x64"
    "\x6d\x69\x6e\x3f\x71\x3d\x5c\x5c\x5c\x22\x78\x5c\x5c\x5c\x22\x20"
    "\x48\x54\x54\x50\x2f\x31\x2e\x31\x5c\x22\x20\x32\x30\x30\x20\x35"
    "\x31\x32\x30\x20\x5c\x22\x2d\x5c\x22\x20\x5c\x22\x4d\x6f\x7a\x69"
    "\x6c\x6c\x61\x2f\x35\x2e\x30\x20\x28\x58\x31\x31\x3b\x20\x4c\x69"
    "\x6e\x75\x78\x20\x78\x38\x36\x5f\x36\x34\x29\x5c\x22\x88\x00\xfd"
    "\x50\x00\x0b\x1d\xc6\x01\x80\x01\x92\x2d\x31\x31\x2d\x32\x33\x54"
    "\x30\x38\x86\x01\xc2\x2e\x30\x30\x30\x5a\x00\x00\x00\x0c\xb5\x08"
    "\x00\x03\x00\xf0\x30\x12\x71\x22\x1f\xde\x01\x2f\x76\x61\x72\x2f"
    "\x6c\x6f\x67\x2f\x61\x70\x61\x63\x68\x65\x32\x2f\x61\x63\x63\x65"
    "\x73\x73\x2e\x6c\x6f\x67\x00\x00\x09\x36\x31\x32\x33\x34\x35\x36"
    "\x00\x00\x04\x55\x00\x00\x00\x04\x0e\x2d\x00\x00\x04\x2d\x0d\x00"
    "\x00\x04\x1d\x32\x05\x00\xf0\x12\x54\x00\x00\x07\x26\x35\x31\x32"
    "\x30\x00\x00\x15\x8e\x01\x5f\x67\x72\x6f\x6b\x70\x61\x72\x73\x65"
    "\x66\x61\x69\x6c\x75\x72\x65\x00\x00";

static void version_1_still_decodes(void **state)
{
    (void)state;
    struct build b = {.arena = sl_arena_new(1 << 16)};
    sl_event_init(&b.ev, b.arena);
    struct pair p;
    pair_init(&p, 1 << 20);
    for (int i = 0; i < 4; i++) {
        build_apache(&b, apache);
        if (i == 3) {
            sl_event_reset(&b.ev);
            PUTS(&b, &b.ev.root, "@timestamp", "2026-11-23T08:00:07.000Z");
            PUTS(&b, &b.ev.root, "x", "q\"");
        }
        assert_int_equal(pair_add(&p, &b.ev, 1763856000000 + i), 0);
    }
    struct entry none, col;
    entry_take(p.none, &none);
    entry_take(p.col, &col);
    assert_int_equal(col.argv[11][0], 0);
    free(col.argv[11]);
    col.len[11] = sizeof v1_events - 1;
    col.argv[11] = malloc(col.len[11]);
    assert_non_null(col.argv[11]);
    memcpy(col.argv[11], v1_events, col.len[11]);
    char *out;
    size_t n;
    struct sl_err err = {0};
    if (decode(p.r, &col, &out, &n, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(n, none.len[11]);
    assert_memory_equal(out, none.argv[11], n);
    free(out);
    /* version 3 */
    col.argv[11][0] = 0;
    col.argv[11][1] = 3;
    expect_refused(p.r, &col, "has a version this reader does not know");
    col.len[11] = 1;
    expect_refused(p.r, &col, "has a version this reader does not know");
    entry_free(&none);
    entry_free(&col);
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* Messages of one layout (their captures at the same offsets, of the
 * same lengths, the runs between them as long) and other bytes between
 * the captures: a recent template matches only a message with its bytes,
 * in a run of up to 8 bytes (compared as a word), a longer run and a
 * last run near the message's end (compared byte by byte). */
static void a_recent_template_matches_only_its_own_bytes(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "ip=10.0.0.1 path=/index/html/page st=200",
        "IP=10.0.0.1 PATH=/index/html/page ST=200",
        "ip=10.0.0.1 path=/index/html/page st=200",
        "ip=10.0.0.1 path=/index/html/page sT=200",
        "10.0.0.1 a-long-run-here-1 /index/html/page/more 200",
        "10.0.0.1 a-long-run-here-2 /index/html/page/more 200",
        "10.0.0.1 /index/html/page 200 ok",
        "10.0.0.1 /index/html/page 200 oK",
        "10.0.0.1-abcdefg/index/html/page 200",
        "10.0.0.1-abcdefh/index/html/page 200",
    };
    /* the captures of each message: ip, path, status */
    static const size_t at[][3] = {
        {3, 17, 37}, {3, 17, 37}, {3, 17, 37}, {3, 17, 37}, {0, 27, 49},
        {0, 27, 49}, {0, 9, 26},  {0, 9, 26},  {0, 16, 33}, {0, 16, 33}};
    static const size_t len[][3] = {
        {8, 16, 3}, {8, 16, 3}, {8, 16, 3}, {8, 16, 3}, {8, 21, 3},
        {8, 21, 3}, {8, 16, 3}, {8, 16, 3}, {8, 16, 3}, {8, 16, 3}};
    static const char *const keys[] = {"ip", "path", "status"};
    struct build b = {.arena = sl_arena_new(1 << 16)};
    sl_event_init(&b.ev, b.arena);
    struct sl_value *root = &b.ev.root;
    struct pair p;
    pair_init(&p, 1 << 22);
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
            const char *m = msgs[i];
            sl_event_reset(&b.ev);
            put(&b, root, "message", SL_VALUE_STRING, m, strlen(m));
            for (size_t k = 0; k < 3; k++) {
                assert_true(at[i][k] + len[i][k] <= strlen(m));
                put(&b, root, keys[k], SL_VALUE_STRING, m + at[i][k],
                    len[i][k]);
            }
            /* a template: no run of its bytes is in the batch as it is */
            assert_false(stored(&b.ev, m + at[i][0] + 4, 8));
            assert_int_equal(pair_add(&p, &b.ev, (int64_t)i), 0);
        }
    }
    pair_check(&p);
    pair_free(&p);
    sl_arena_free(b.arena);
}

/* ---- neighbours of other trees ---------------------------------------
 *
 * An encoder may take an event's shape from an earlier one's (the same
 * tree: its keys, types and order); each event here differs from the one
 * before it in one way such a shortcut could miss. Keys are copied into
 * the arena, reset before each event, so a key of the same length with
 * other bytes sits at the same address as the one before. */
enum { NB_VARIANTS = 17 };

static const char nb_host[] = "h1", nb_host2[] = "h2";
static const struct sl_value nb_host_name = {.key = {"name", 4},
                                             .type = SL_VALUE_STRING,
                                             .key_plain = true,
                                             .text = {nb_host, 2}};
static const struct sl_value nb_host_shape = {
    .type = SL_VALUE_OBJECT,
    .first = (struct sl_value *)&nb_host_name,
    .last = (struct sl_value *)&nb_host_name};
static const struct sl_value_json nb_table[] = {
    {&nb_host_shape, "{\"name\":\"h1\"}", 13}};
static const struct sl_value_json nb_table2[] = {
    {&nb_host_shape, "{\"name\":\"hX\"}", 13}};

/* A member of obj named key (copied into the arena). */
static struct sl_value *nb_put(struct build *b, struct sl_value *obj,
                               const char *key, bool plain,
                               enum sl_value_type t, const char *text)
{
    size_t n = strlen(key);
    char *k = sl_event_strdup(&b->ev, key, n);
    assert_non_null(k);
    struct sl_value *v =
        sl_event_append(&b->ev, obj, (struct sl_slice){k, n}, plain);
    assert_non_null(v);
    sl_value_set(v, t, text, text != NULL ? strlen(text) : 0);
    return v;
}

static void nb_build(struct build *b, int variant)
{
    sl_arena_reset(b->arena);
    sl_event_reset(&b->ev);
    sl_event_set_rendered(&b->ev, variant == 16 ? nb_table2 : nb_table, 1);
    struct sl_value *root = &b->ev.root;
    const enum sl_value_type S = SL_VALUE_STRING, N = SL_VALUE_NUMBER;
    /* "a" (or what stands for it), "b", in this order or the other */
    const char *a = variant == 5 ? "c" : "a";
    if (variant == 9)
        a = "a\"";
    else if (variant == 10)
        a = "a\\";
    bool plain = variant != 9 && variant != 10;
    if (variant == 1) {
        nb_put(b, root, "b", true, N, "1");
        nb_put(b, root, a, plain, S, "x");
    } else {
        if (variant == 3)
            nb_put(b, root, a, plain, N, "7");
        else if (variant == 4)
            nb_put(b, nb_put(b, root, a, plain, SL_VALUE_OBJECT, NULL), "z",
                   true, S, "x");
        else
            nb_put(b, root, a, plain, S, "x");
        if (variant != 2)
            nb_put(b, root, "b", true, N, "1");
    }
    struct sl_value *o =
        nb_put(b, root, "o", true,
               variant == 11 ? SL_VALUE_ARRAY : SL_VALUE_OBJECT, NULL);
    if (variant != 11 && variant != 12)
        nb_put(b, o, "p", true, S, "q");
    nb_put(b, root, "t", true, SL_VALUE_BOOL, variant == 6 ? "false" : "true");
    if (variant == 7)
        nb_put(b, root, "n", true, S, "null");
    else
        nb_put(b, root, "n", true, SL_VALUE_NULL, NULL);
    struct sl_value *arr = nb_put(b, root, "arr", true, SL_VALUE_ARRAY, NULL);
    nb_put(b, arr, "", true, S, "e1");
    nb_put(b, arr, "", true, N, "2");
    if (variant == 8)
        nb_put(b, arr, "", true, S, "e3");
    /* the root's @metadata is left out, a key of its length is not */
    nb_put(b,
           nb_put(b, root, variant == 13 ? "@metadatb" : "@metadata", true,
                  SL_VALUE_OBJECT, NULL),
           "k", true, S, "v");
    /* a rendered host: from the table while it is as rendered (the
     * shape's own key and text pointers), else walked */
    struct sl_value *h =
        sl_event_append(&b->ev, root, SL_SLICE_LIT("host"), true);
    assert_non_null(h);
    sl_value_set(h, SL_VALUE_OBJECT, NULL, 0);
    h->rendered = 1;
    struct sl_value *name = sl_event_append(&b->ev, h, nb_host_name.key, true);
    assert_non_null(name);
    sl_value_set(name, S, variant == 14 ? nb_host2 : nb_host, 2);
    if (variant == 15)
        h->rendered = 0;
}

static void neighbours_of_other_trees_round_trip(void **state)
{
    (void)state;
    struct build b;
    struct pair p;
    build_init(&b, &p);
    int64_t ts = 1763856000000;
    /* each variant after the base and after every other, twice (the
     * second time an earlier tree may be taken again), in batches of
     * every few events and one long one */
    for (int round = 0; round < 2; round++) {
        for (int v = 0; v < NB_VARIANTS; v++) {
            for (int w = 0; w < NB_VARIANTS; w++) {
                nb_build(&b, v);
                assert_int_equal(pair_add(&p, &b.ev, ts++), 0);
                nb_build(&b, w);
                assert_int_equal(pair_add(&p, &b.ev, ts++), 0);
                nb_build(&b, w);
                assert_int_equal(pair_add(&p, &b.ev, ts++), 0);
                if (round == 0 && (v + w) % 5 == 0)
                    pair_check(&p);
            }
        }
    }
    pair_check(&p);
    pair_free(&p);
    sl_arena_free(b.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_events_round_trip),
        cmocka_unit_test(named_cases_round_trip),
        cmocka_unit_test(event_too_large_leaves_the_batch),
        cmocka_unit_test(broken_entries_are_refused),
        cmocka_unit_test(message_is_a_template_or_itself),
        cmocka_unit_test(version_1_still_decodes),
        cmocka_unit_test(a_recent_template_matches_only_its_own_bytes),
        cmocka_unit_test(neighbours_of_other_trees_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
