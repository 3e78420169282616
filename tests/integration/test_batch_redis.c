/* test_batch_redis.c: sl_batch through a real redis-server.
 *
 * The shipper's path and the indexer's, with hiredis as they will use it:
 * sealed batches of every codec (columnar: of event trees, against codec
 * none's payload) XADDed with redisCommandArgv (compressed
 * payloads are binary: NULs, 0xff, anything), read back with XRANGE and
 * with XREADGROUP in a consumer group, decoded, and every event, id and
 * time compared byte for byte with what was written; XACK then empties the
 * pending list. An entry with a field this version does not know still
 * decodes.
 *
 * The server comes from tests/run through SLUICE_TEST_REDIS_URL
 * (redis://HOST:PORT); without it the test fails and says how to run it,
 * it never skips. Keys carry the pid and are deleted at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "event_gen.h"
#include "sl_arena.h"
#include "sl_batch.h"
#include "sl_event_id.h"

#define NBATCH  6 /* two batches of each codec */
#define MAX_RAW ((size_t)4 << 20)

struct written {
    enum sl_codec codec;
    size_t n;
    char **ev;
    size_t *len;
    char (*id)[SL_EVENT_ID_LEN + 1];
    int64_t *ts;
};

struct fixture {
    redisContext *c;
    char key[64];
    struct written batch[NBATCH];
};

static uint64_t rng = 7;

static uint32_t rnd(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

/* A JSON-looking event with every byte value but "\n" in it, sometimes
 * large (200 KiB), so compressed payloads hold every byte too. */
static char *make_event(size_t *len)
{
    size_t n = rnd() % 50 == 0 ? 200 * 1024 : 1 + rnd() % 1500;
    char *ev = malloc(n);
    assert_non_null(ev);
    for (size_t i = 0; i < n; i++) {
        char c = rnd() % 3 == 0 ? (char)rnd() : "{\"msg\":\"GET /x\"}"[i % 16];
        ev[i] = c == '\n' ? '\0' : c;
    }
    *len = n;
    return ev;
}

/* Parses redis://HOST:PORT[/...]. */
static int split_url(const char *url, char *host, size_t size, int *port)
{
    const char *p = url + strlen("redis://");
    if (strncmp(url, "redis://", 8) != 0)
        return -1;
    const char *colon = strrchr(p, ':');
    if (colon == NULL || colon == p || (size_t)(colon - p) >= size)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if ((*end != '\0' && *end != '/') || v <= 0 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

static int setup(void **state)
{
    static struct fixture f;
    const char *url = getenv("SLUICE_TEST_REDIS_URL");
    char host[256];
    int port;
    struct timeval tv = {10, 0};

    if (url == NULL || *url == '\0') {
        print_error("SLUICE_TEST_REDIS_URL is not set; this test needs a "
                    "real redis-server: run it through tests/run, e.g. "
                    "tests/run build/debug -- -R batch\n");
        return -1;
    }
    if (split_url(url, host, sizeof host, &port) < 0) {
        print_error("SLUICE_TEST_REDIS_URL='%s': expected redis://HOST:PORT\n",
                    url);
        return -1;
    }
    f.c = redisConnectWithTimeout(host, port, tv);
    if (f.c == NULL || f.c->err) {
        print_error("cannot connect to %s: %s\n", url,
                    f.c ? f.c->errstr : "out of memory");
        redisFree(f.c);
        return -1;
    }
    redisSetTimeout(f.c, tv); /* a hung server fails the test, not the run */
    snprintf(f.key, sizeof f.key, "sluice:it:%ld:batch", (long)getpid());
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f == NULL) /* setup failed and said why */
        return 0;
    freeReplyObject(redisCommand(f->c, "DEL %s", f->key));
    for (int b = 0; b < NBATCH; b++) {
        for (size_t i = 0; i < f->batch[b].n; i++)
            free(f->batch[b].ev[i]);
        free(f->batch[b].ev);
        free(f->batch[b].len);
        free(f->batch[b].id);
        free(f->batch[b].ts);
    }
    redisFree(f->c);
    return 0;
}

static redisReply *run(struct fixture *f, int type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(f->c, fmt, ap);
    va_end(ap);
    if (r == NULL)
        fail_msg("'%s': %s", fmt, f->c->errstr);
    if (r->type != type)
        fail_msg("'%s': reply type %d, expected %d%s%s", fmt, r->type, type,
                 r->type == REDIS_REPLY_ERROR ? ": " : "",
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    return r;
}

/* Writes batch b with codec and XADDs it, with an extra field "trace" on
 * the odd ones (a newer format 2 writer may add fields). Event i of batch b
 * has the id of offset 1000 * i in a file of key b, and a time near now. */
static void xadd_batch(struct fixture *f, int b, enum sl_codec codec)
{
    struct sl_err err = {0};
    struct written *wb = &f->batch[b];
    struct sl_batch_writer *w =
        sl_batch_writer_new("web-01.example", codec, 0, MAX_RAW, &err);
    assert_non_null(w);
    wb->codec = codec;
    wb->n = 1 + rnd() % 500;
    wb->ev = calloc(wb->n, sizeof *wb->ev);
    wb->len = calloc(wb->n, sizeof *wb->len);
    wb->id = calloc(wb->n, sizeof *wb->id);
    wb->ts = calloc(wb->n, sizeof *wb->ts);
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "web-01.example", 14, &b, sizeof b);
    for (size_t i = 0; i < wb->n; i++) {
        wb->ev[i] = make_event(&wb->len[i]);
        sl_event_id_make(&src, 1000 * i, wb->id[i]);
        wb->ts[i] = 1763856000000 + (int64_t)(rnd() % 86400000);
        if (sl_batch_writer_add(w, wb->id[i], SL_EVENT_ID_LEN, wb->ts[i],
                                wb->ev[i], wb->len[i], &err) < 0) {
            if (err.status != SL_ELIMIT || i == 0)
                fail_msg("add: %s", err.msg);
            free(wb->ev[i]); /* the batch is full: it ends here */
            wb->n = i;
            break;
        }
    }
    const char **fields;
    const size_t *flen;
    if (sl_batch_writer_seal(w, &fields, &flen, &err) < 0)
        fail_msg("seal: %s", err.msg);
    const char *argv[3 + SL_BATCH_ARGC + 2] = {"XADD", f->key, "*"};
    size_t argvlen[3 + SL_BATCH_ARGC + 2] = {4, strlen(f->key), 1};
    memcpy(argv + 3, fields, SL_BATCH_ARGC * sizeof *argv);
    memcpy(argvlen + 3, flen, SL_BATCH_ARGC * sizeof *argvlen);
    int argc = 3 + SL_BATCH_ARGC;
    if (b % 2 == 1) {
        argv[argc] = "trace";
        argvlen[argc++] = 5;
        argv[argc] = "\x00\xff";
        argvlen[argc++] = 2;
    }
    redisReply *r = redisCommandArgv(f->c, argc, argv, argvlen);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        fail_msg("XADD %s batch: %s", sl_codec_name(codec),
                 r ? r->str : f->c->errstr);
    freeReplyObject(r);
    sl_batch_writer_free(w);
}

/* Decodes one [id, [field, value, ...]] entry and checks it is batch b. */
static void expect_batch(struct sl_batch_reader *rd, const redisReply *entry,
                         const struct written *wb)
{
    struct sl_err err = {0};
    assert_int_equal(entry->type, REDIS_REPLY_ARRAY);
    assert_int_equal(entry->elements, 2);
    const redisReply *kv = entry->element[1];
    assert_int_equal(kv->type, REDIS_REPLY_ARRAY);
    const char *argv[32];
    size_t len[32];
    assert_true(kv->elements <= 32);
    for (size_t i = 0; i < kv->elements; i++) {
        argv[i] = kv->element[i]->str;
        len[i] = kv->element[i]->len;
    }
    if (sl_batch_reader_decode(rd, kv->elements, argv, len, &err) < 0)
        fail_msg("decode entry %s: %s", entry->element[0]->str, err.msg);
    assert_int_equal(sl_batch_reader_codec(rd), wb->codec);
    assert_int_equal(sl_batch_reader_count(rd), wb->n);
    struct sl_slice host = sl_batch_reader_host(rd);
    assert_true(sl_slice_eq(host, "web-01.example", 14));
    struct sl_batch_event ev;
    size_t i = 0;
    while (sl_batch_reader_next(rd, &ev)) {
        assert_true(i < wb->n);
        if (!sl_slice_eq(ev.json, wb->ev[i], wb->len[i]))
            fail_msg("%s batch, event %zu: %zu bytes differ from the %zu "
                     "written",
                     sl_codec_name(wb->codec), i, ev.json.len, wb->len[i]);
        if (!sl_slice_eq(ev.id, wb->id[i], SL_EVENT_ID_LEN) ||
            ev.ts_ms != wb->ts[i])
            fail_msg("%s batch, event %zu: id %.*s time %lld, written %s "
                     "%lld",
                     sl_codec_name(wb->codec), i, (int)ev.id.len, ev.id.ptr,
                     (long long)ev.ts_ms, wb->id[i], (long long)wb->ts[i]);
        i++;
    }
    assert_int_equal(i, wb->n);
}

static void xadd_then_xrange_every_codec(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    const enum sl_codec codecs[] = {SL_CODEC_NONE, SL_CODEC_LZ4, SL_CODEC_ZSTD};
    redisReply *r = run(f, REDIS_REPLY_STATUS,
                        "XGROUP CREATE %s indexers $ MKSTREAM", f->key);
    freeReplyObject(r);
    for (int b = 0; b < NBATCH; b++)
        xadd_batch(f, b, codecs[b % 3]);

    struct sl_batch_reader *rd = sl_batch_reader_new(MAX_RAW, &err);
    r = run(f, REDIS_REPLY_ARRAY, "XRANGE %s - +", f->key);
    assert_int_equal(r->elements, NBATCH);
    for (int b = 0; b < NBATCH; b++)
        expect_batch(rd, r->element[b], &f->batch[b]);
    freeReplyObject(r);
    sl_batch_reader_free(rd);
}

/* The indexer's way: a consumer group, a read of new entries, XACK. */
static void xreadgroup_decode_and_ack(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct sl_batch_reader *rd = sl_batch_reader_new(0, &err);
    redisReply *r =
        run(f, REDIS_REPLY_ARRAY,
            "XREADGROUP GROUP indexers idx-1 COUNT 100 STREAMS %s >", f->key);
    assert_int_equal(r->elements, 1);
    const redisReply *entries = r->element[0]->element[1];
    assert_int_equal(entries->elements, NBATCH);
    for (int b = 0; b < NBATCH; b++) {
        expect_batch(rd, entries->element[b], &f->batch[b]);
        redisReply *ack = run(f, REDIS_REPLY_INTEGER, "XACK %s indexers %s",
                              f->key, entries->element[b]->element[0]->str);
        assert_int_equal(ack->integer, 1);
        freeReplyObject(ack);
    }
    freeReplyObject(r);
    r = run(f, REDIS_REPLY_ARRAY, "XPENDING %s indexers", f->key);
    assert_int_equal(r->element[0]->integer, 0);
    freeReplyObject(r);
    sl_batch_reader_free(rd);
}

/* Seals both writers, XADDs col's entry to key, reads it back with
 * XREADGROUP (group indexers) and decodes it with rd to exactly none's
 * payload. */
static void send_and_compare(struct fixture *f, const char *key,
                             struct sl_batch_writer *col,
                             struct sl_batch_writer *none,
                             struct sl_batch_reader *rd)
{
    struct sl_err err = {0};
    const char **fields, **want;
    const size_t *flen, *wlen;
    if (sl_batch_writer_seal(col, &fields, &flen, &err) < 0 ||
        sl_batch_writer_seal(none, &want, &wlen, &err) < 0)
        fail_msg("seal: %s", err.msg);
    const char *argv[3 + SL_BATCH_ARGC] = {"XADD", key, "*"};
    size_t argvlen[3 + SL_BATCH_ARGC] = {4, strlen(key), 1};
    memcpy(argv + 3, fields, SL_BATCH_ARGC * sizeof *argv);
    memcpy(argvlen + 3, flen, SL_BATCH_ARGC * sizeof *argvlen);
    redisReply *r = redisCommandArgv(f->c, 3 + SL_BATCH_ARGC, argv, argvlen);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    r = run(f, REDIS_REPLY_ARRAY,
            "XREADGROUP GROUP indexers idx-1 COUNT 1 STREAMS %s >", key);
    const redisReply *kv = r->element[0]->element[1]->element[0]->element[1];
    const char *av[32];
    size_t al[32], raw;
    assert_true(kv->elements <= 32);
    for (size_t i = 0; i < kv->elements; i++) {
        av[i] = kv->element[i]->str;
        al[i] = kv->element[i]->len;
    }
    if (sl_batch_reader_decode_header(rd, kv->elements, av, al, &raw, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(sl_batch_reader_codec(rd), SL_CODEC_COLUMNAR);
    assert_int_equal(raw, wlen[SL_BATCH_ARGC - 1]);
    char *out = malloc(raw);
    assert_non_null(out);
    if (sl_batch_reader_decode_payload(rd, out, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_memory_equal(out, want[SL_BATCH_ARGC - 1], raw);
    free(out);
    freeReplyObject(r);
}

/* Codec columnar through Redis: batches of event trees (event_gen.h:
 * every byte, every value type, spans of the message), written by a
 * columnar writer and a none writer alike, the columnar entry XADDed and
 * read back with XREADGROUP, decoded to exactly none's payload. */
static void columnar_entries_through_redis(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    char key[80];
    snprintf(key, sizeof key, "%s:columnar", f->key);
    freeReplyObject(run(f, REDIS_REPLY_STATUS,
                        "XGROUP CREATE %s indexers $ MKSTREAM", key));
    struct sl_arena *arena = sl_arena_new(1 << 16);
    struct event_gen g;
    struct sl_event ev;
    event_gen_init(&g, arena);
    sl_event_init(&ev, arena);
    struct sl_batch_reader *rd = sl_batch_reader_new(MAX_RAW, &err);
    assert_non_null(rd);
    uint8_t bytes[2048];
    for (int b = 0; b < 4; b++) {
        struct sl_batch_writer *none =
            sl_batch_writer_new("h", SL_CODEC_NONE, 0, MAX_RAW, &err);
        struct sl_batch_writer *col =
            sl_batch_writer_new("h", SL_CODEC_COLUMNAR, 0, MAX_RAW, &err);
        assert_non_null(none);
        assert_non_null(col);
        for (size_t i = 0, n = 1 + rnd() % 300; i < n; i++) {
            for (size_t k = 0; k < sizeof bytes; k++)
                bytes[k] = (uint8_t)rnd();
            sl_arena_reset(arena);
            event_gen_feed(&g, bytes, sizeof bytes);
            assert_int_equal(event_gen_build(&g, &ev), 0);
            char id[48];
            snprintf(id, sizeof id, "c%d-%zu", b, i);
            int64_t ts = 1763856000000 + (int64_t)(rnd() % 5000);
            assert_int_equal(
                sl_batch_writer_add_event(none, id, strlen(id), ts, &ev, &err),
                0);
            assert_int_equal(
                sl_batch_writer_add_event(col, id, strlen(id), ts, &ev, &err),
                0);
        }
        send_and_compare(f, key, col, none, rd);
        sl_batch_writer_free(none);
        sl_batch_writer_free(col);
    }
    freeReplyObject(run(f, REDIS_REPLY_INTEGER, "DEL %s", key));
    sl_batch_reader_free(rd);
    event_gen_release(&g);
    sl_arena_free(arena);
}

/* Version 2 of codec columnar through Redis: Apache lines as the shipper
 * makes them (grok's captures pointing into the message, which is then
 * stored as a template), with and without a referrer, one of them with a
 * capture changed after grok, and lines that are not ASCII (stored as
 * they are): the entry says version 2, is below 40% of lz4's for the same
 * events, and decodes to exactly codec none's payload. */
static void columnar_templates_through_redis(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    char key[80], line[512];
    snprintf(key, sizeof key, "%s:templates", f->key);
    freeReplyObject(run(f, REDIS_REPLY_STATUS,
                        "XGROUP CREATE %s indexers $ MKSTREAM", key));
    struct sl_arena *arena = sl_arena_new(1 << 16);
    struct sl_event ev;
    sl_event_init(&ev, arena);
    struct sl_batch_reader *rd = sl_batch_reader_new(MAX_RAW, &err);
    struct sl_batch_writer *none =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, MAX_RAW, &err);
    struct sl_batch_writer *col =
        sl_batch_writer_new("h", SL_CODEC_COLUMNAR, 0, MAX_RAW, &err);
    struct sl_batch_writer *lz4 =
        sl_batch_writer_new("h", SL_CODEC_LZ4, 0, MAX_RAW, &err);
    assert_non_null(rd);
    assert_non_null(none);
    assert_non_null(col);
    assert_non_null(lz4);
    static const char *const agents[] = {"curl/8.5.0", "Mozilla/5.0 (X11)",
                                         "Wget/1.21 \"x\""};
    for (int i = 0; i < 500; i++) {
        int n = snprintf(
            line, sizeof line,
            "10.0.%d.%d - - [23/Nov/2026:09:%02d:07 +0100] \"GET /p/%d "
            "HTTP/1.1\" %d %d \"%s\" \"%s\"%s",
            i % 7, i % 250, i % 60, i * 37, i % 5 ? 200 : 404, i * 13,
            i % 3 ? "-" : "https://example.com/", agents[i % 3],
            i % 50 == 0 ? " \xc3\xa9" : "");
        sl_arena_reset(arena);
        sl_event_reset(&ev);
        char *msg = sl_event_strdup(&ev, line, (size_t)n);
        assert_non_null(msg);
        assert_int_equal(sl_event_put_top(&ev, "message", SL_VALUE_STRING, msg,
                                          (size_t)n, &err),
                         0);
        /* the captures: each run between the separators, in order */
        const char *p = msg, *end = msg + n;
        for (int k = 0; p < end; k++) {
            size_t len = strcspn(p, " []\"");
            if (len > (size_t)(end - p))
                len = (size_t)(end - p);
            if (len > 0) {
                char name[16];
                snprintf(name, sizeof name, "f%d", k);
                struct sl_value *v = sl_event_append(
                    &ev, &ev.root,
                    (struct sl_slice){sl_event_strdup(&ev, name, strlen(name)),
                                      strlen(name)},
                    true);
                assert_non_null(v);
                bool num = strspn(p, "0123456789") == len;
                /* one converted after grok: not the message's bytes */
                if (k == 9 && i % 4 == 0)
                    sl_value_set(v, SL_VALUE_NUMBER, "7", 1);
                else
                    sl_value_set(v, num ? SL_VALUE_NUMBER : SL_VALUE_STRING, p,
                                 len);
            }
            p += len + 1;
        }
        char id[32];
        snprintf(id, sizeof id, "t-%d", i);
        int64_t ts = 1763856000000 + i;
        assert_int_equal(
            sl_batch_writer_add_event(none, id, strlen(id), ts, &ev, &err), 0);
        assert_int_equal(
            sl_batch_writer_add_event(col, id, strlen(id), ts, &ev, &err), 0);
        assert_int_equal(
            sl_batch_writer_add_event(lz4, id, strlen(id), ts, &ev, &err), 0);
    }
    const char **fields = NULL, **lfields = NULL;
    const size_t *flen = NULL, *llen = NULL;
    if (sl_batch_writer_seal(col, &fields, &flen, &err) < 0 ||
        sl_batch_writer_seal(lz4, &lfields, &llen, &err) < 0)
        fail_msg("seal: %s", err.msg);
    assert_memory_equal(fields[SL_BATCH_ARGC - 1], "\0\2", 2);
    /* 38% of lz4's here; 48% with the messages stored as they are */
    assert_true(10 * flen[SL_BATCH_ARGC - 1] < 4 * llen[SL_BATCH_ARGC - 1]);
    send_and_compare(f, key, col, none, rd);
    freeReplyObject(run(f, REDIS_REPLY_INTEGER, "DEL %s", key));
    sl_batch_writer_free(none);
    sl_batch_writer_free(col);
    sl_batch_writer_free(lz4);
    sl_batch_reader_free(rd);
    sl_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xadd_then_xrange_every_codec),
        cmocka_unit_test(xreadgroup_decode_and_ack),
        cmocka_unit_test(columnar_entries_through_redis),
        cmocka_unit_test(columnar_templates_through_redis),
    };
    return cmocka_run_group_tests_name("integration_batch_redis", tests, setup,
                                       teardown);
}
