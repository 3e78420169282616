/* test_batch.c: the stream entry format (2) as the shipper and indexer rely
 * on it: every codec gives back the same events, ids and times byte for
 * byte (1 event, 500, events near 1 MiB, every byte value but "\n", ids of
 * every length and times at both ends of the range); the writer's begin,
 * commit, rollback, limit and refusals; sealing; reuse of writer and reader
 * across batches and codecs; and every way a reader refuses an entry or a
 * line, with the message an operator reads in the dead-letter stream.
 *
 * Entries are copied out of the writer into separately allocated values
 * before decoding, as a Redis reply holds them, so a reader that leaned on
 * the writer's memory would fail here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_batch.h"

/* ---- helpers ------------------------------------------------------- */

#define ENTRY_MAX 24

/* An entry as a reply holds it: interleaved names and values, each in its
 * own allocation. */
struct entry {
    size_t argc;
    char *argv[ENTRY_MAX];
    size_t len[ENTRY_MAX];
};

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    assert_non_null(d);
    if (n > 0)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static void entry_free(struct entry *e)
{
    for (size_t i = 0; i < e->argc; i++)
        free(e->argv[i]);
    e->argc = 0;
}

static void entry_seal(struct sl_batch_writer *w, struct entry *e)
{
    struct sl_err err = {0};
    const char **argv;
    const size_t *len;
    if (sl_batch_writer_seal(w, &argv, &len, &err) < 0)
        fail_msg("seal: %s", err.msg);
    e->argc = SL_BATCH_ARGC;
    for (size_t i = 0; i < e->argc; i++) {
        e->argv[i] = dup_bytes(argv[i], len[i]);
        e->len[i] = len[i];
    }
}

/* Sets field name to value (appended when absent). */
static void entry_set(struct entry *e, const char *name, const char *value,
                      size_t n)
{
    for (size_t i = 0; i < e->argc; i += 2) {
        if (strcmp(e->argv[i], name) == 0) {
            free(e->argv[i + 1]);
            e->argv[i + 1] = dup_bytes(value, n);
            e->len[i + 1] = n;
            return;
        }
    }
    assert_true(e->argc + 2 <= ENTRY_MAX);
    e->argv[e->argc] = dup_bytes(name, strlen(name));
    e->len[e->argc++] = strlen(name);
    e->argv[e->argc] = dup_bytes(value, n);
    e->len[e->argc++] = n;
}

#define SET(e, name, lit) entry_set((e), (name), (lit), sizeof(lit) - 1)

/* The writer's calls for tests that do not care about the id and time: id
 * "id", time 1, so each line is "1 id " (5 bytes), the JSON and "\n". */
#define ADD(w, lit, err)                                                       \
    sl_batch_writer_add((w), "id", 2, 1, (lit), sizeof(lit) - 1, (err))
#define BEGIN(w, err) sl_batch_writer_begin((w), "id", 2, 1, (err))

static void entry_drop(struct entry *e, const char *name)
{
    for (size_t i = 0; i < e->argc; i += 2) {
        if (strcmp(e->argv[i], name) == 0) {
            free(e->argv[i]);
            free(e->argv[i + 1]);
            memmove(e->argv + i, e->argv + i + 2,
                    (e->argc - i - 2) * sizeof e->argv[0]);
            memmove(e->len + i, e->len + i + 2,
                    (e->argc - i - 2) * sizeof e->len[0]);
            e->argc -= 2;
            return;
        }
    }
    fail_msg("no field '%s'", name);
}

static const char *value_of(const struct entry *e, const char *name, size_t *n)
{
    for (size_t i = 0; i < e->argc; i += 2) {
        if (strcmp(e->argv[i], name) == 0) {
            *n = e->len[i + 1];
            return e->argv[i + 1];
        }
    }
    fail_msg("no field '%s'", name);
    return NULL;
}

static int decode(struct sl_batch_reader *r, const struct entry *e,
                  struct sl_err *err)
{
    return sl_batch_reader_decode(r, e->argc, (const char *const *)e->argv,
                                  e->len, err);
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* Event i of n bytes: a JSON-looking prefix, then every byte value except
 * "\n" (NUL and 0xff included), runs of text among them so the codecs have
 * something to find. The format promises binary safety; JSON is ours. */
static char *make_event(size_t i, size_t n)
{
    char *ev = malloc(n + 1);
    assert_non_null(ev);
    int k = snprintf(ev, n + 1, "{\"seq\":%zu,\"message\":\"", i);
    for (size_t j = (size_t)k < n ? (size_t)k : n; j < n; j++) {
        unsigned char c = (rnd() % 4 == 0) ? (unsigned char)rnd()
                                           : (unsigned char)"GET /a/b"[j % 8];
        ev[j] = c == '\n' ? '\0' : (char)c;
    }
    return ev;
}

static const char id_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                               "opqrstuvwxyz0123456789-_";

/* Event i's id (1 to 64 characters, every one of them over the events) and
 * time (both ends of the range, 0, -1, and random ones). */
static void make_id(size_t i, char *id, size_t *len, int64_t *ts)
{
    static const int64_t edges[] = {SL_BATCH_TS_MIN, SL_BATCH_TS_MAX, 0, -1,
                                    1763856000123};
    *len = 1 + (i * 7 + rnd()) % SL_BATCH_ID_MAX;
    for (size_t j = 0; j < *len; j++)
        id[j] = id_chars[rnd() % 64];
    if (i < 5)
        *ts = edges[i];
    else
        *ts = (int64_t)(((uint64_t)rnd() << 32 | rnd()) %
                        (uint64_t)(SL_BATCH_TS_MAX - SL_BATCH_TS_MIN)) +
              SL_BATCH_TS_MIN;
}

/* The bytes of "ID TS " for id_len and ts. */
static size_t prefix_len(size_t id_len, int64_t ts)
{
    char t[32];
    return id_len + 2 + (size_t)snprintf(t, sizeof t, "%lld", (long long)ts);
}

/* Writes events of the given sizes with codec (size 0: the rest of the
 * batch, exactly), reads them back through a copied entry, and checks
 * every byte of event, id and time, the header and the accessors. */
static void round_trip(enum sl_codec codec, int level, const size_t *sizes,
                       size_t n, size_t max_raw)
{
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("web-01", codec, level, max_raw, &err);
    assert_non_null(w);
    struct sl_batch_reader *r = sl_batch_reader_new(max_raw, &err);
    assert_non_null(r);
    char **evs = calloc(n, sizeof *evs);
    char(*ids)[SL_BATCH_ID_MAX] = calloc(n, sizeof *ids);
    size_t *id_lens = calloc(n, sizeof *id_lens);
    size_t *lens = calloc(n, sizeof *lens);
    int64_t *ts = calloc(n, sizeof *ts);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        make_id(i, ids[i], &id_lens[i], &ts[i]);
        size_t pre = prefix_len(id_lens[i], ts[i]);
        lens[i] = sizes[i] ? sizes[i] : max_raw - total - pre - 1;
        evs[i] = make_event(i, lens[i]);
        if (sl_batch_writer_add(w, ids[i], id_lens[i], ts[i], evs[i], lens[i],
                                &err) < 0)
            fail_msg("add %zu: %s", i, err.msg);
        total += pre + lens[i] + 1;
    }
    assert_int_equal(sl_batch_writer_count(w), n);
    assert_int_equal(sl_batch_writer_bytes(w), total);
    struct entry e = {0};
    entry_seal(w, &e);
    sl_batch_writer_free(w); /* the entry must not need the writer */
    size_t vn;
    const char *codec_v = value_of(&e, "codec", &vn);
    assert_string_equal(codec_v, sl_codec_name(codec));
    if (decode(r, &e, &err) < 0)
        fail_msg("decode %s: %s", sl_codec_name(codec), err.msg);
    assert_int_equal(sl_batch_reader_count(r), n);
    assert_int_equal(sl_batch_reader_codec(r), codec);
    struct sl_slice host = sl_batch_reader_host(r);
    assert_true(sl_slice_eq(host, "web-01", 6));
    for (int pass = 0; pass < 2; pass++) {
        struct sl_batch_event ev;
        size_t i = 0;
        while (sl_batch_reader_next(r, &ev)) {
            assert_true(i < n);
            assert_true(sl_slice_eq(ev.id, ids[i], id_lens[i]));
            assert_int_equal(ev.ts_ms, ts[i]);
            assert_int_equal(ev.json.len, lens[i]);
            assert_memory_equal(ev.json.ptr, evs[i], lens[i]);
            i++;
        }
        assert_int_equal(i, n);
        sl_batch_reader_rewind(r);
    }
    for (size_t i = 0; i < n; i++)
        free(evs[i]);
    free(evs);
    free(ids);
    free(id_lens);
    free(lens);
    free(ts);
    entry_free(&e);
    sl_batch_reader_free(r);
}

static const enum sl_codec all_codecs[] = {SL_CODEC_NONE, SL_CODEC_LZ4,
                                           SL_CODEC_ZSTD};

/* ---- round trips --------------------------------------------------- */

static void round_trip_every_codec_and_size(void **state)
{
    (void)state;
    static size_t sizes[500];
    rng_state = 42;
    for (size_t c = 0; c < 3; c++) {
        size_t one = 1;
        round_trip(all_codecs[c], 0, &one, 1, 1 << 20);
        size_t small = 300;
        round_trip(all_codecs[c], 0, &small, 1, 1 << 20);
        for (size_t i = 0; i < 500; i++)
            sizes[i] = 1 + rnd() % 700;
        round_trip(all_codecs[c], 0, sizes, 500, 1 << 20);
        /* events near 1 MiB: one exactly as large as the batch allows */
        size_t big[] = {0, 1, 1 << 19};
        round_trip(all_codecs[c], 0, big, 1, 1 << 20);
        size_t big3[] = {1 << 20, 1, 0};
        round_trip(all_codecs[c], 0, big3, 3, 3 << 20);
    }
    /* other levels: fastest lz4, negative and high zstd */
    for (size_t i = 0; i < 500; i++)
        sizes[i] = 1 + rnd() % 400;
    round_trip(SL_CODEC_LZ4, 100, sizes, 500, 1 << 20);
    round_trip(SL_CODEC_ZSTD, -5, sizes, 500, 1 << 20);
    round_trip(SL_CODEC_ZSTD, 19, sizes, 500, 1 << 20);
}

/* The point of a codec: Apache-like JSON shrinks several times. */
static void codecs_shrink_json(void **state)
{
    (void)state;
    struct sl_err err = {0};
    for (size_t c = 1; c < 3; c++) {
        struct sl_batch_writer *w =
            sl_batch_writer_new("h", all_codecs[c], 0, 1 << 20, &err);
        char ev[256];
        for (int i = 0; i < 500; i++) {
            int n = snprintf(ev, sizeof ev,
                             "{\"message\":\"10.0.0.%d - - GET /shop/item/%d "
                             "HTTP/1.1 200 %d\",\"host\":{\"name\":\"h\"}}",
                             i % 200, i * 7, i * 13);
            char id[16];
            int idn = snprintf(id, sizeof id, "e%d", i);
            assert_int_equal(sl_batch_writer_add(w, id, (size_t)idn,
                                                 1763856000000 + i * 10, ev,
                                                 (size_t)n, &err),
                             0);
        }
        const char **argv;
        const size_t *len;
        assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), 0);
        size_t raw = sl_batch_writer_bytes(w);
        if (len[11] * 4 > raw)
            fail_msg("%s: %zu bytes packed to %zu, expected at least 4x",
                     sl_codec_name(all_codecs[c]), raw, len[11]);
        sl_batch_writer_free(w);
    }
}

/* The fields in the documented order, with their exact values. */
static void entry_fields_in_order(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("host-α", SL_CODEC_NONE, 0, 1024, &err);
    assert_int_equal(sl_batch_writer_add(w, "u5eyVdF8ej-arHKGN-65yQ", 22,
                                         1763856000123, "{\"a\":1}", 7, &err),
                     0);
    assert_int_equal(sl_batch_writer_add(w, "-_", 2, -1, "{}", 2, &err), 0);
    const char **argv;
    const size_t *len;
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), 0);
    const char *want[] = {"v",
                          "2",
                          "host",
                          "host-α",
                          "count",
                          "2",
                          "codec",
                          "none",
                          "raw",
                          "54",
                          "events",
                          ("1763856000123 u5eyVdF8ej-arHKGN-65yQ "
                           "{\"a\":1}\n-1 -_ {}\n")};
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        assert_int_equal(len[i], strlen(want[i]));
        assert_memory_equal(argv[i], want[i], len[i]);
    }
    sl_batch_writer_free(w);
}

/* ---- writer -------------------------------------------------------- */

static void commit_serialised_in_place_and_rollback(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_LZ4, 0, 64, &err);
    struct sl_buf *b = sl_batch_writer_begin(w, "n1", 2, 1000, &err);
    assert_non_null(b);
    assert_int_equal(sl_buf_append_str(b, "{\"n\":", &err), 0);
    assert_int_equal(sl_buf_append_str(b, "1}", &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), 0);
    /* "1000 n1 {"n":1}\n" */
    assert_int_equal(sl_batch_writer_bytes(w), 16);
    /* an event half written, then given up */
    b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append_str(b, "{\"half", &err), 0);
    sl_batch_writer_rollback(w);
    assert_int_equal(sl_batch_writer_count(w), 1);
    assert_int_equal(sl_batch_writer_bytes(w), 16);
    /* an event that hits the limit midway: SL_ELIMIT, rollback, as before */
    b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append_str(b, "{\"x\":\"", &err), 0);
    char big[80];
    memset(big, 'y', sizeof big);
    assert_int_equal(sl_buf_append(b, big, sizeof big, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    sl_batch_writer_rollback(w);
    assert_int_equal(sl_batch_writer_count(w), 1);
    assert_int_equal(sl_batch_writer_bytes(w), 16);
    /* begin twice forgets the first attempt, id and time included */
    b = sl_batch_writer_begin(w, "junk", 4, 7, &err);
    assert_int_equal(sl_buf_append_str(b, "junk", &err), 0);
    b = sl_batch_writer_begin(w, "n2", 2, -2000, &err);
    assert_int_equal(sl_buf_append_str(b, "{\"n\":2}", &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), 0);
    /* commit without begin */
    assert_int_equal(sl_batch_writer_commit(w, &err), -1);
    assert_string_equal(err.msg,
                        "no event to commit; call sl_batch_writer_begin");

    struct entry e = {0};
    entry_seal(w, &e);
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    assert_int_equal(decode(r, &e, &err), 0);
    struct sl_batch_event ev;
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_true(sl_slice_eq(ev.id, "n1", 2));
    assert_int_equal(ev.ts_ms, 1000);
    assert_true(sl_slice_eq(ev.json, "{\"n\":1}", 7));
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_true(sl_slice_eq(ev.id, "n2", 2));
    assert_int_equal(ev.ts_ms, -2000);
    assert_true(sl_slice_eq(ev.json, "{\"n\":2}", 7));
    assert_int_equal(sl_batch_reader_next(r, &ev), 0);
    entry_free(&e);
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

/* begin refuses what the reader would refuse, and leaves the batch as it
 * was: ids empty, too long or with a byte outside the set, times out of
 * range, a prefix that does not fit. */
static void begin_refuses_bad_ids_and_times(void **state)
{
    (void)state;
    struct sl_err err = {0};
    char id[SL_BATCH_ID_MAX + 1];
    memset(id, 'a', sizeof id);
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, 90, &err);
    assert_int_equal(ADD(w, "{}", &err), 0);
    static const struct {
        const char *id;
        size_t len;
        const char *msg;
    } bad[] = {
        {"", 0,
         "refusing an event id of 0 bytes, \"\": expected 1 to 64 characters "
         "of A-Z a-z 0-9 - _"},
        {"a b", 3,
         "refusing an event id of 3 bytes, \"a b\": expected 1 to 64 "
         "characters of A-Z a-z 0-9 - _"},
        {"a\"", 2,
         "refusing an event id of 2 bytes, \"a\\\"\": expected 1 to 64 "
         "characters of A-Z a-z 0-9 - _"},
        {"a.b", 3,
         "refusing an event id of 3 bytes, \"a.b\": expected 1 to 64 "
         "characters of A-Z a-z 0-9 - _"},
        {"a\x00", 2,
         "refusing an event id of 2 bytes, \"a\\x00\": expected 1 to 64 "
         "characters of A-Z a-z 0-9 - _"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(sl_batch_writer_begin(w, bad[i].id, bad[i].len, 0, &err));
        assert_int_equal(err.status, SL_EINVAL);
        assert_string_equal(err.msg, bad[i].msg);
    }
    assert_null(sl_batch_writer_begin(w, id, SL_BATCH_ID_MAX + 1, 0, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_non_null(strstr(err.msg, "refusing an event id of 65 bytes"));
    const int64_t bad_ts[] = {SL_BATCH_TS_MIN - 1, SL_BATCH_TS_MAX + 1,
                              INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "refusing an event time of %lld ms: expected "
                 "-62135596800000 to 253402300799999 (years 1 to 9999)",
                 (long long)bad_ts[i]);
        assert_int_equal(
            sl_batch_writer_add(w, "a", 1, bad_ts[i], "{}", 2, &err), -1);
        assert_int_equal(err.status, SL_EINVAL);
        assert_string_equal(err.msg, msg);
    }
    /* "1 id {}\n" uses 8 bytes; 64 + 1 + 15 + 1 of prefix and 2 of JSON
     * are 83 more, 1 too many */
    assert_int_equal(sl_batch_writer_add(w, id, SL_BATCH_ID_MAX,
                                         SL_BATCH_TS_MAX, "{}", 2, &err),
                     -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "event of 83 bytes with its id and time "
                                 "does not fit in the batch (8 of 90 bytes "
                                 "used); flush the batch and add it again");
    /* the limits themselves are fine */
    sl_batch_writer_reset(w);
    assert_int_equal(sl_batch_writer_add(w, id, SL_BATCH_ID_MAX,
                                         SL_BATCH_TS_MIN, "{}", 2, &err),
                     0);
    assert_int_equal(sl_batch_writer_bytes(w), 64 + 1 + 15 + 1 + 2 + 1);
    /* nothing refused left a trace */
    assert_int_equal(sl_batch_writer_count(w), 1);
    sl_batch_writer_free(w);
}

static void refuses_newline_and_empty_events(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, 1024, &err);
    assert_int_equal(ADD(w, "{\"a\":1}", &err), 0);
    assert_int_equal(ADD(w, "{\"a\":\"x\ny\"}", &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg,
                        "refusing an event with a newline at byte 7 of 11: "
                        "it would split the event in two; escape it as \\n "
                        "in the JSON");
    struct sl_buf *b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append(b, "{}\n", 3, &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(ADD(w, "", &err), -1);
    assert_string_equal(err.msg, "refusing an empty event");
    /* the refused events left nothing behind */
    assert_int_equal(sl_batch_writer_count(w), 1);
    assert_int_equal(sl_batch_writer_bytes(w), 13);
    const char **argv;
    const size_t *len;
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), 0);
    assert_int_equal(len[11], 13);
    assert_memory_equal(argv[11], "1 id {\"a\":1}\n", 13);
    sl_batch_writer_free(w);
}

/* max_raw counts whole lines: "1 id " (5 bytes), the JSON and the newline;
 * an event of max_raw - 6 bytes fits alone. */
static void writer_limit_is_exact(void **state)
{
    (void)state;
    struct sl_err err = {0};
    char ev[32];
    memset(ev, 'e', sizeof ev);
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_ZSTD, 0, 20, &err);
    assert_int_equal(sl_batch_writer_add(w, "id", 2, 1, ev, 15, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "event of 20 bytes with its id and time does "
                                 "not fit in the batch (0 of 20 bytes used); "
                                 "it is larger than a whole batch");
    /* 14 bytes + prefix + newline: exactly full, copied or serialised */
    struct sl_buf *b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append(b, ev, 14, &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), 0);
    assert_int_equal(sl_batch_writer_bytes(w), 20);
    /* now even the prefix does not fit: begin says so */
    assert_null(BEGIN(w, &err));
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "event of 5 bytes with its id and time does "
                                 "not fit in the batch (20 of 20 bytes used); "
                                 "flush the batch and add it again");
    assert_int_equal(sl_batch_writer_add(w, "id", 2, 1, ev, 1, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(sl_batch_writer_count(w), 1);
    sl_batch_writer_reset(w);
    /* 8 + 6 = 14 bytes; then the prefix and 1 byte of JSON make 20 and the
     * newline does not fit */
    b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append(b, ev, 8, &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), 0);
    b = BEGIN(w, &err);
    assert_non_null(b);
    assert_int_equal(sl_buf_append(b, ev, 1, &err), 0);
    assert_int_equal(sl_batch_writer_commit(w, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "event of 6 bytes with its id and time does "
                                 "not fit in the batch (14 of 20 bytes used); "
                                 "flush the batch and add it again");
    assert_int_equal(sl_batch_writer_count(w), 1);
    assert_int_equal(sl_batch_writer_bytes(w), 14);
    sl_batch_writer_free(w);
}

/* Empty batches are never entries; a sealed batch is frozen until reset,
 * and sealing again (a retry) gives the very same entry. */
static void seal_rules(void **state)
{
    (void)state;
    struct sl_err err = {0};
    const char **argv, **argv2;
    const size_t *len, *len2;
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_ZSTD, 1, 1024, &err);
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "nothing to seal: the batch is empty; flush "
                                 "only a batch that holds events");
    BEGIN(w, &err);
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), -1);
    assert_string_equal(err.msg, "an event is still open; commit or roll it "
                                 "back before sealing the batch");
    sl_batch_writer_rollback(w);
    assert_int_equal(ADD(w, "{}", &err), 0);
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), 0);
    char *first = dup_bytes(argv[11], len[11]);
    size_t first_len = len[11];
    assert_null(BEGIN(w, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "the batch is sealed; reset it after Redis "
                                 "accepted it");
    assert_int_equal(ADD(w, "{}", &err), -1);
    assert_string_equal(err.msg, "the batch is sealed; reset it after Redis "
                                 "accepted it");
    assert_int_equal(sl_batch_writer_set_codec(w, SL_CODEC_NONE, 0, &err), -1);
    assert_int_equal(sl_batch_writer_seal(w, &argv2, &len2, &err), 0);
    assert_int_equal(len2[11], first_len);
    assert_memory_equal(argv2[11], first, first_len);
    assert_int_equal(sl_batch_writer_count(w), 1);
    sl_batch_writer_reset(w);
    assert_int_equal(sl_batch_writer_count(w), 0);
    assert_int_equal(sl_batch_writer_bytes(w), 0);
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), -1);
    free(first);
    sl_batch_writer_free(w);
}

/* One writer and one reader for many batches and codecs; after a reset the
 * writer keeps its memory (the buffer does not move for a smaller batch). */
static void reuse_across_batches_and_codecs(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, 1 << 16, &err);
    struct sl_batch_reader *r = sl_batch_reader_new(1 << 16, &err);
    const enum sl_codec order[] = {SL_CODEC_ZSTD, SL_CODEC_LZ4,  SL_CODEC_NONE,
                                   SL_CODEC_ZSTD, SL_CODEC_NONE, SL_CODEC_LZ4,
                                   SL_CODEC_LZ4,  SL_CODEC_ZSTD};
    char *kept = NULL;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        assert_int_equal(sl_batch_writer_set_codec(w, order[k], 0, &err), 0);
        size_t n = 40 - k * 3;
        char ev[64];
        for (size_t i = 0; i < n; i++) {
            int len =
                snprintf(ev, sizeof ev, "{\"batch\":%zu,\"i\":%zu}", k, i);
            assert_int_equal(sl_batch_writer_add(w, "r", 1, (int64_t)(k * i),
                                                 ev, (size_t)len, &err),
                             0);
        }
        struct sl_buf *b = BEGIN(w, &err);
        if (kept == NULL)
            kept = b->ptr;
        assert_ptr_equal(b->ptr, kept);
        sl_batch_writer_rollback(w);
        if (k == 0)
            assert_int_equal(
                sl_batch_writer_set_codec(w, SL_CODEC_LZ4, 0, &err), -1);
        struct entry e = {0};
        entry_seal(w, &e);
        sl_batch_writer_reset(w);
        assert_int_equal(decode(r, &e, &err), 0);
        assert_int_equal(sl_batch_reader_codec(r), order[k]);
        assert_int_equal(sl_batch_reader_count(r), n);
        struct sl_batch_event got;
        size_t i = 0;
        while (sl_batch_reader_next(r, &got)) {
            int len =
                snprintf(ev, sizeof ev, "{\"batch\":%zu,\"i\":%zu}", k, i);
            assert_true(sl_slice_eq(got.json, ev, (size_t)len));
            assert_true(sl_slice_eq(got.id, "r", 1));
            assert_int_equal(got.ts_ms, (int64_t)(k * i));
            i++;
        }
        assert_int_equal(i, n);
        entry_free(&e);
    }
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

static void codec_names_and_levels(void **state)
{
    (void)state;
    struct sl_err err = {0};
    enum sl_codec c;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            sl_codec_from_name(sl_codec_name(all_codecs[i]), &c, &err), 0);
        assert_int_equal(c, all_codecs[i]);
    }
    assert_int_equal(sl_codec_from_name("LZ4", &c, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(
        err.msg, "unknown codec \"LZ4\"; expected none, lz4, zstd or columnar");
    assert_int_equal(sl_codec_from_name("", &c, &err), -1);
    assert_string_equal(
        err.msg, "unknown codec \"\"; expected none, lz4, zstd or columnar");
    assert_null(sl_batch_writer_new("h", SL_CODEC_LZ4, -1, 100, &err));
    assert_string_equal(err.msg, "lz4 level -1 is out of range; expected 1 to "
                                 "65537 (the acceleration: higher is faster "
                                 "and compresses less)");
    assert_null(sl_batch_writer_new("h", SL_CODEC_ZSTD, 99, 100, &err));
    assert_string_equal(err.msg, "zstd level 99 is out of range; expected "
                                 "-131072 to 22 (3 is the default)");
    assert_null(sl_batch_writer_new("h", SL_CODEC_NONE, 0, 0, &err));
    assert_string_equal(err.msg, "batch size limit of 0 bytes is out of "
                                 "range; expected 1 to 1073741824");
    assert_null(sl_batch_reader_new(((size_t)1 << 30) + 1, &err));
    assert_string_equal(err.msg, "batch size limit of 1073741825 bytes is out "
                                 "of range; expected 1 to 1073741824");
}

/* ---- reader errors ------------------------------------------------- */

/* A valid two-event entry with codec, to break one field at a time. */
static void good_entry(struct entry *e, enum sl_codec codec)
{
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", codec, 0, 1 << 16, &err);
    /* "1 a {"a":1}\n" "2 b {"b":2}\n": 24 bytes */
    assert_int_equal(sl_batch_writer_add(w, "a", 1, 1, "{\"a\":1}", 7, &err),
                     0);
    assert_int_equal(sl_batch_writer_add(w, "b", 1, 2, "{\"b\":2}", 7, &err),
                     0);
    entry_seal(w, e);
    sl_batch_writer_free(w);
}

/* Decoding e fails with status and exactly msg; the reader then holds no
 * entry, and still decodes a good one. */
static void expect_refused(struct sl_batch_reader *r, struct entry *e,
                           enum sl_status status, const char *msg)
{
    struct sl_err err = {0};
    struct sl_batch_event ev;
    if (decode(r, e, &err) == 0)
        fail_msg("decoded, expected: %s", msg);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.status, status);
    assert_int_equal(sl_batch_reader_count(r), 0);
    assert_int_equal(sl_batch_reader_next(r, &ev), 0);
    entry_free(e);
    struct entry good = {0};
    good_entry(&good, SL_CODEC_ZSTD);
    assert_int_equal(decode(r, &good, &err), 0);
    assert_int_equal(sl_batch_reader_count(r), 2);
    entry_free(&good);
}

static void reader_refuses_bad_headers(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(1000, &err);
    struct entry e = {0};

    good_entry(&e, SL_CODEC_NONE);
    free(e.argv[--e.argc]);
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry has 11 elements, not name-value pairs; it "
                   "was not written by sluice-shipper");
    good_entry(&e, SL_CODEC_NONE);
    entry_drop(&e, "v");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry has no field 'v' (format version); it was "
                   "not written by sluice-shipper");
    /* a newer version is named before anything else is looked at */
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "v", "3");
    entry_drop(&e, "count");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry format version 3 is newer than this "
                   "sluice-indexer understands (2); upgrade sluice-indexer");
    /* format 1, as the first writer made it: no ids, refused whole */
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "v", "1");
    SET(&e, "raw", "16");
    SET(&e, "events", "{\"a\":1}\n{\"b\":2}\n");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry format version 1 (events without ids) is "
                   "not read by this sluice-indexer, which reads format 2; "
                   "upgrade sluice-shipper");
    const char *versions[] = {"0", "2\x00", "02", "", "x"};
    const char *shown[] = {"0", "2\\x00", "02", "", "x"};
    size_t vlen[] = {1, 2, 2, 0, 1};
    for (size_t i = 0; i < 5; i++) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "stream entry field 'v': found \"%s\", expected format "
                 "version 2; it was not written by sluice-shipper",
                 shown[i]);
        good_entry(&e, SL_CODEC_NONE);
        entry_set(&e, "v", versions[i], vlen[i]);
        expect_refused(r, &e, SL_EPARSE, msg);
    }
    const char *fields[] = {"host", "count", "codec", "raw", "events"};
    for (size_t i = 0; i < 5; i++) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "stream entry has no field '%s'; it was not written by "
                 "sluice-shipper",
                 fields[i]);
        good_entry(&e, SL_CODEC_NONE);
        entry_drop(&e, fields[i]);
        expect_refused(r, &e, SL_EPARSE, msg);
    }
    good_entry(&e, SL_CODEC_NONE);
    entry_set(&e, "x", "", 0);
    e.argv[e.argc - 2][0] = 'v'; /* a second "v" */
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry has the field 'v' twice; it was not written "
                   "by sluice-shipper");
    const char *counts[] = {"12x", "", "-1", "+2", " 2", "0"};
    for (size_t i = 0; i < 6; i++) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "stream entry field 'count': found \"%s\", expected a "
                 "decimal number of events, at least 1",
                 counts[i]);
        good_entry(&e, SL_CODEC_NONE);
        entry_set(&e, "count", counts[i], strlen(counts[i]));
        expect_refused(r, &e, SL_EPARSE, msg);
    }
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "codec", "brotli");
    expect_refused(
        r, &e, SL_EPARSE,
        "stream entry field 'codec': found \"brotli\", expected "
        "none, lz4, zstd or columnar; upgrade sluice-indexer if the shipper "
        "is newer");
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "raw", "0x10");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'raw': found \"0x10\", expected the "
                   "decimal byte length of the payload");
    sl_batch_reader_free(r);
}

/* raw is checked against the limit before anything is allocated: the
 * default limit refuses 64 MiB + 1 and a number too large for size_t. */
static void reader_refuses_raw_above_limit(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    struct entry e = {0};
    for (size_t c = 0; c < 3; c++) {
        good_entry(&e, all_codecs[c]);
        SET(&e, "raw", "67108865");
        expect_refused(r, &e, SL_ELIMIT,
                       "stream entry field 'raw': a payload of 67108865 bytes "
                       "is above this reader's limit of 67108864 bytes; raise "
                       "the indexer's limit or make the shipper's batches "
                       "smaller");
    }
    good_entry(&e, SL_CODEC_LZ4);
    SET(&e, "raw", "999999999999999999999999999");
    expect_refused(r, &e, SL_ELIMIT,
                   "stream entry field 'raw': a payload of "
                   "99999999999999999999... bytes is above this reader's "
                   "limit of 67108864 bytes; raise the indexer's limit or "
                   "make the shipper's batches smaller");
    sl_batch_reader_free(r);
    /* the limit is inclusive */
    r = sl_batch_reader_new(24, &err);
    good_entry(&e, SL_CODEC_LZ4);
    assert_int_equal(decode(r, &e, &err), 0);
    entry_free(&e);
    sl_batch_reader_free(r);
    r = sl_batch_reader_new(23, &err);
    good_entry(&e, SL_CODEC_LZ4);
    assert_int_equal(decode(r, &e, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg,
                        "stream entry field 'raw': a payload of 24 bytes is "
                        "above this reader's limit of 23 bytes; raise the "
                        "indexer's limit or make the shipper's batches "
                        "smaller");
    entry_free(&e);
    sl_batch_reader_free(r);
}

static void reader_refuses_bad_payloads(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(1000, &err);
    struct entry e = {0};

    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "raw", "23");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'raw' says 23 bytes but the payload "
                   "(codec none) has 24; the entry is corrupt");
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "3");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'count' says 3 events but the payload "
                   "holds 2 lines; the entry is corrupt");
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "1");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'count' says 1 events but the payload "
                   "holds 2 lines; the entry is corrupt");
    /* counting stops one line past count: a forged count costs nothing */
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "1");
    SET(&e, "raw", "9");
    SET(&e, "events", "1 a {}\n\n\n");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'count' says 1 events but the payload "
                   "holds more than 2 lines; the entry is corrupt");
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "events", "1 a {\"a\":1}\n2 b {\"b\":2}x");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': the payload of 24 bytes does "
                   "not end with a newline (an event cut short?); the entry "
                   "is corrupt");
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "raw", "0");
    SET(&e, "events", "");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': the payload of 0 bytes does "
                   "not end with a newline (an event cut short?); the entry "
                   "is corrupt");

    /* compressed payloads: garbage, truncated, and a wrong raw either way */
    good_entry(&e, SL_CODEC_LZ4);
    SET(&e, "events", "\xff\xff\xff\xff garbage");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': lz4 payload of 12 bytes does "
                   "not decompress into the 24 bytes 'raw' gives; the entry "
                   "is corrupt");
    good_entry(&e, SL_CODEC_LZ4);
    SET(&e, "raw", "10");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': lz4 payload of 26 bytes does "
                   "not decompress into the 10 bytes 'raw' gives; the entry "
                   "is corrupt");
    good_entry(&e, SL_CODEC_LZ4);
    SET(&e, "raw", "25");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'raw' says 25 bytes but the lz4 "
                   "payload decompresses to 24; the entry is corrupt");
    good_entry(&e, SL_CODEC_ZSTD);
    SET(&e, "events", "not zstd at all");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': zstd payload of 15 bytes "
                   "does not decompress into the 24 bytes 'raw' gives "
                   "(Unknown frame descriptor); the entry is corrupt");
    good_entry(&e, SL_CODEC_ZSTD);
    SET(&e, "raw", "10");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': zstd payload of 37 bytes "
                   "does not decompress into the 10 bytes 'raw' gives "
                   "(Destination buffer is too small); the entry is corrupt");
    good_entry(&e, SL_CODEC_ZSTD);
    SET(&e, "raw", "25");
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'raw' says 25 bytes but the zstd "
                   "payload decompresses to 24; the entry is corrupt");
    /* a flipped payload byte: the frame checksum names it */
    good_entry(&e, SL_CODEC_ZSTD);
    size_t n;
    char *p = (char *)value_of(&e, "events", &n);
    p[n - 6] ^= 0x20;
    if (decode(r, &e, &err) == 0)
        fail_msg("a corrupt zstd payload decoded");
    assert_non_null(strstr(err.msg, "zstd payload of 37 bytes does not "
                                    "decompress"));
    entry_free(&e);
    /* a codec that does not match the payload */
    good_entry(&e, SL_CODEC_ZSTD);
    SET(&e, "codec", "lz4");
    if (decode(r, &e, &err) == 0)
        fail_msg("a zstd payload decoded as lz4");
    entry_free(&e);
    sl_batch_reader_free(r);
}

/* Every way a line can break "ID TS JSON", in the first line or the last,
 * each refused whole with the event's number and what was found. */
static void reader_refuses_bad_lines(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(1000, &err);
    struct entry e = {0};
    static const struct {
        const char *line; /* without its newline */
        const char *what;
    } bad[] = {
        {"{\"a\":1}", "its time is not plain decimal milliseconds"},
        {"", "the line does not start with a time"},
        {" 1 a {}", "the line does not start with a time"},
        {"x a {}", "its time is not plain decimal milliseconds"},
        {"1x a {}", "its time is not plain decimal milliseconds"},
        {"+1 a {}", "its time is not plain decimal milliseconds"},
        {"- a {}", "its time is not plain decimal milliseconds"},
        {"-0 a {}", "its time is not plain decimal milliseconds"},
        {"00 a {}", "its time is not plain decimal milliseconds"},
        {"01 a {}", "its time is not plain decimal milliseconds"},
        {"-01 a {}", "its time is not plain decimal milliseconds"},
        {"1.5 a {}", "its time is not plain decimal milliseconds"},
        {"0x10 a {}", "its time is not plain decimal milliseconds"},
        {"1\ta {}", "its time is not plain decimal milliseconds"},
        {"253402300800000 a {}",
         "its time is out of range (expected -62135596800000 to "
         "253402300799999 (years 1 to 9999))"},
        {"-62135596800001 a {}",
         "its time is out of range (expected -62135596800000 to "
         "253402300799999 (years 1 to 9999))"},
        {"99999999999999999999999 a {}",
         "its time is out of range (expected -62135596800000 to "
         "253402300799999 (years 1 to 9999))"},
        {"18446744073709551617 a {}",
         "its time is out of range (expected -62135596800000 to "
         "253402300799999 (years 1 to 9999))"},
        {"1", "no id after its time"},
        {"1 ", "no id after its time"},
        {"1  {}", "no id after its time"},
        {"1 .a {}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a.b {}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a\"b {}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a\tb {}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a\xc3\xa9 {}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a{}", "its id holds a byte other than A-Z a-z 0-9 - _"},
        {"1 a", "no JSON after its time and id"},
        {"1 a ", "no JSON after its time and id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int last = 0; last < 2; last++) {
            char payload[128], msg[400], q[80];
            int n = last ? snprintf(payload, sizeof payload, "1 a {}\n%s\n",
                                    bad[i].line)
                         : snprintf(payload, sizeof payload, "%s\n2 b {}\n",
                                    bad[i].line);
            char raw[16];
            snprintf(raw, sizeof raw, "%d", n);
            good_entry(&e, SL_CODEC_NONE);
            entry_set(&e, "raw", raw, strlen(raw));
            entry_set(&e, "events", payload, (size_t)n);
            /* the line as sl_text_quote shows it */
            size_t k = 0;
            for (const char *c = bad[i].line; *c; c++) {
                unsigned char u = (unsigned char)*c;
                if (u == '"')
                    k += (size_t)snprintf(q + k, sizeof q - k, "\\\"");
                else if (u < 0x20)
                    k += (size_t)snprintf(q + k, sizeof q - k, "\\x%02x", u);
                else
                    q[k++] = (char)u;
            }
            q[k] = '\0';
            snprintf(msg, sizeof msg,
                     "stream entry field 'events': event %d of 2: %s; found "
                     "\"%s\"; the entry is corrupt",
                     last + 1, bad[i].what, q);
            expect_refused(r, &e, SL_EPARSE, msg);
        }
    }
    /* an id of 65 characters; the message shows the first 40 */
    char line[128];
    memcpy(line, "1 ", 2);
    memset(line + 2, 'x', 65);
    memcpy(line + 67, " {}\n", 4);
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "1");
    SET(&e, "raw", "71");
    entry_set(&e, "events", line, 71);
    expect_refused(r, &e, SL_EPARSE,
                   "stream entry field 'events': event 1 of 1: its id is "
                   "longer than 64 characters; found \"1 xxxxxxxxxxxxxxxxxx"
                   "xxxxxxxxxxxxxxxxxxxx...\"; the entry is corrupt");
    /* the limits and the canonical spellings themselves are fine */
    const char ok[] =
        "253402300799999 "
        "0123456789012345678901234567890123456789012345678901234567890123 "
        "{}\n"
        "-62135596800000 -_ x\n"
        "0 Z \"\"\n"
        "-1 z  leading space and a \r are the event's own\n";
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "4");
    entry_set(&e, "events", ok, sizeof ok - 1);
    char raw[16];
    snprintf(raw, sizeof raw, "%zu", sizeof ok - 1);
    entry_set(&e, "raw", raw, strlen(raw));
    if (decode(r, &e, &err) < 0)
        fail_msg("decode: %s", err.msg);
    struct sl_batch_event ev;
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_int_equal(ev.id.len, 64);
    assert_int_equal(ev.ts_ms, SL_BATCH_TS_MAX);
    assert_true(sl_slice_eq(ev.json, "{}", 2));
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_true(sl_slice_eq(ev.id, "-_", 2));
    assert_int_equal(ev.ts_ms, SL_BATCH_TS_MIN);
    assert_true(sl_slice_eq(ev.json, "x", 1));
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_int_equal(ev.ts_ms, 0);
    assert_true(sl_slice_eq(ev.json, "\"\"", 2));
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_int_equal(ev.ts_ms, -1);
    assert_true(sl_slice_eq(ev.json,
                            " leading space and a \r are the "
                            "event's own",
                            42));
    assert_int_equal(sl_batch_reader_next(r, &ev), 0);
    entry_free(&e);
    sl_batch_reader_free(r);
}

/* Unknown fields, before, between and after the known ones, are skipped. */
static void reader_ignores_unknown_fields(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    struct entry e = {0}, mixed = {0};
    good_entry(&e, SL_CODEC_LZ4);
    const char *extra[][2] = {{"trace", "abc"}, {"V", "9"}, {"", ""}};
    mixed.argc = 0;
    for (size_t i = 0; i < e.argc; i += 2) {
        if (i / 2 < 3)
            entry_set(&mixed, extra[i / 2][0], extra[i / 2][1],
                      strlen(extra[i / 2][1]));
        entry_set(&mixed, e.argv[i], e.argv[i + 1], e.len[i + 1]);
    }
    SET(&mixed, "zz-later", "\x00\x01");
    assert_int_equal(mixed.argc, e.argc + 8);
    if (decode(r, &mixed, &err) < 0)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(sl_batch_reader_count(r), 2);
    struct sl_batch_event ev;
    assert_int_equal(sl_batch_reader_next(r, &ev), 1);
    assert_true(sl_slice_eq(ev.json, "{\"a\":1}", 7));
    assert_true(sl_slice_eq(ev.id, "a", 1));
    assert_int_equal(ev.ts_ms, 1);
    entry_free(&e);
    entry_free(&mixed);
    sl_batch_reader_free(r);
}

/* ---- decoding into the caller's memory ----------------------------- */

/* decode_header + decode_payload: the events land in the caller's bytes,
 * exactly as decode hands them out, for every codec. */
static void reader_decodes_into_caller_memory(void **state)
{
    (void)state;
    static const enum sl_codec codecs[] = {SL_CODEC_NONE, SL_CODEC_LZ4,
                                           SL_CODEC_ZSTD};
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    assert_non_null(r);
    for (size_t c = 0; c < 3; c++) {
        struct entry e = {0};
        good_entry(&e, codecs[c]);
        size_t raw = 0;
        assert_int_equal(
            sl_batch_reader_decode_header(
                r, e.argc, (const char *const *)e.argv, e.len, &raw, &err),
            0);
        assert_int_equal(raw, 24);
        assert_int_equal(sl_batch_reader_count(r), 2);
        assert_true(sl_slice_eq(sl_batch_reader_host(r), "h", 1));
        char *dst = malloc(raw);
        assert_non_null(dst);
        assert_int_equal(sl_batch_reader_decode_payload(r, dst, &err), 0);
        assert_memory_equal(dst, "1 a {\"a\":1}\n2 b {\"b\":2}\n", 24);
        struct sl_batch_event ev;
        assert_int_equal(sl_batch_reader_next(r, &ev), 1);
        assert_ptr_equal(ev.id.ptr, dst + 2);
        assert_ptr_equal(ev.json.ptr, dst + 4);
        assert_int_equal(ev.json.len, 7);
        assert_int_equal(ev.ts_ms, 1);
        assert_int_equal(sl_batch_reader_next(r, &ev), 1);
        assert_ptr_equal(ev.json.ptr, dst + 16);
        assert_int_equal(ev.ts_ms, 2);
        assert_int_equal(sl_batch_reader_next(r, &ev), 0);
        /* a second payload needs a header first */
        assert_int_equal(sl_batch_reader_decode_payload(r, dst, &err), -1);
        assert_int_equal(err.status, SL_EINVAL);
        assert_string_equal(err.msg, "batch reader: decode_payload without "
                                     "a header decoded first");
        assert_int_equal(sl_batch_reader_count(r), 0);
        free(dst);
        entry_free(&e);
    }
    sl_batch_reader_free(r);
}

/* A count the payload cannot hold is refused by decode_header (before the
 * caller sizes anything by it), with decode's message; a payload that does
 * not decompress is refused by decode_payload, with decode's message, and
 * the reader holds nothing. */
static void reader_decode_into_refuses_as_decode(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    struct entry e = {0};
    size_t raw = 99;
    char dst[64];
    good_entry(&e, SL_CODEC_NONE);
    SET(&e, "count", "1000000000");
    assert_int_equal(sl_batch_reader_decode_header(r, e.argc,
                                                   (const char *const *)e.argv,
                                                   e.len, &raw, &err),
                     -1);
    assert_int_equal(err.status, SL_EPARSE);
    assert_string_equal(err.msg,
                        "stream entry field 'count' says 1000000000 events "
                        "but the payload holds 2 lines; the entry is corrupt");
    assert_int_equal(raw, 99);
    assert_int_equal(sl_batch_reader_count(r), 0);
    entry_free(&e);
    good_entry(&e, SL_CODEC_LZ4);
    SET(&e, "events", "\xff\xff\xff");
    assert_int_equal(sl_batch_reader_decode_header(r, e.argc,
                                                   (const char *const *)e.argv,
                                                   e.len, &raw, &err),
                     0);
    assert_int_equal(raw, 24);
    assert_int_equal(sl_batch_reader_decode_payload(r, dst, &err), -1);
    assert_int_equal(err.status, SL_EPARSE);
    assert_string_equal(err.msg,
                        "stream entry field 'events': lz4 payload of 3 bytes "
                        "does not decompress into the 24 bytes 'raw' gives; "
                        "the entry is corrupt");
    assert_int_equal(sl_batch_reader_count(r), 0);
    struct sl_batch_event ev;
    assert_int_equal(sl_batch_reader_next(r, &ev), 0);
    entry_free(&e);
    sl_batch_reader_free(r);
}

/* Ids of 16 bytes and more are checked 16 at a time: every byte value at
 * every position of ids of 1 to 64 bytes is refused exactly when it is not
 * one of A-Z a-z 0-9 - _. */
static void id_characters_checked_at_every_position(void **state)
{
    (void)state;
    struct sl_err err;
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, 4096, &err);
    assert_non_null(w);
    char id[SL_BATCH_ID_MAX];
    for (size_t len = 1; len <= SL_BATCH_ID_MAX; len++) {
        for (size_t at = 0; at < len; at++) {
            for (int c = 0; c < 256; c++) {
                memset(id, 'x', sizeof id);
                id[at] = (char)c;
                bool valid = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                             (c >= 'a' && c <= 'z') || c == '-' || c == '_';
                struct sl_buf *b = sl_batch_writer_begin(w, id, len, 0, &err);
                if (valid != (b != NULL))
                    fail_msg("id of %zu bytes with byte %d at %zu: %s", len, c,
                             at, valid ? err.msg : "accepted");
                sl_batch_writer_rollback(w);
            }
        }
    }
    sl_batch_writer_free(w);
}

/* The reader checks ids 16 bytes at a time too: every byte value at every
 * position of ids of the lengths around the vector's width is accepted
 * exactly when it is one of A-Z a-z 0-9 - _, else refused with the id's
 * message (a space ends the id early: the rest is the event; a newline
 * ends the line). */
static void reader_id_characters_checked_at_every_position(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 2, 15, 16, 17, 22, 31, 32, 33, 63, 64};
    struct sl_err err = {0};
    struct sl_batch_reader *r = sl_batch_reader_new(1000, &err);
    struct entry e = {0};
    char line[96];
    assert_non_null(r);
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        size_t len = lens[l];
        for (size_t at = 0; at < len; at++) {
            for (int c = 0; c < 256; c++) {
                if (c == ' ' || c == '\n')
                    continue;
                bool valid = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                             (c >= 'a' && c <= 'z') || c == '-' || c == '_';
                memcpy(line, "1 ", 2);
                memset(line + 2, 'x', len);
                line[2 + at] = (char)c;
                memcpy(line + 2 + len, " {}\n", 4);
                size_t n = len + 6;
                char raw[8];
                snprintf(raw, sizeof raw, "%zu", n);
                good_entry(&e, SL_CODEC_NONE);
                SET(&e, "count", "1");
                entry_set(&e, "raw", raw, strlen(raw));
                entry_set(&e, "events", line, n);
                int rc = decode(r, &e, &err);
                if (valid != (rc == 0))
                    fail_msg("id of %zu bytes with byte %d at %zu: %s", len, c,
                             at, rc == 0 ? "accepted" : err.msg);
                if (!valid &&
                    strstr(err.msg, "its id holds a byte other than") == NULL)
                    fail_msg("id of %zu bytes with byte %d at %zu: %s", len, c,
                             at, err.msg);
                entry_free(&e);
            }
        }
    }
    sl_batch_reader_free(r);
}

/* commit_json ends a line as commit does, and refuses what it refuses
 * but the newline (not looked for: the caller vouches); the batch is the
 * same bytes. */
static void commit_json_as_commit(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_batch_writer *w =
        sl_batch_writer_new("h", SL_CODEC_NONE, 0, 1024, &err);
    struct sl_buf *b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append(b, "{\"a\":1}", 7, &err), 0);
    assert_int_equal(sl_batch_writer_commit_json(w, &err), 0);
    b = BEGIN(w, &err);
    assert_int_equal(sl_batch_writer_commit_json(w, &err), -1);
    assert_string_equal(err.msg, "refusing an empty event");
    assert_int_equal(sl_batch_writer_commit_json(w, &err), -1);
    assert_string_equal(err.msg,
                        "no event to commit; call sl_batch_writer_begin");
    b = BEGIN(w, &err);
    assert_int_equal(sl_buf_append(b, "{}", 2, &err), 0);
    assert_int_equal(sl_batch_writer_commit_json(w, &err), 0);
    assert_int_equal(sl_batch_writer_count(w), 2);
    const char **argv;
    const size_t *len;
    assert_int_equal(sl_batch_writer_seal(w, &argv, &len, &err), 0);
    assert_int_equal(len[11], 21);
    assert_memory_equal(argv[11], "1 id {\"a\":1}\n1 id {}\n", 21);
    sl_batch_writer_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_every_codec_and_size),
        cmocka_unit_test(codecs_shrink_json),
        cmocka_unit_test(entry_fields_in_order),
        cmocka_unit_test(commit_serialised_in_place_and_rollback),
        cmocka_unit_test(begin_refuses_bad_ids_and_times),
        cmocka_unit_test(refuses_newline_and_empty_events),
        cmocka_unit_test(writer_limit_is_exact),
        cmocka_unit_test(seal_rules),
        cmocka_unit_test(reuse_across_batches_and_codecs),
        cmocka_unit_test(codec_names_and_levels),
        cmocka_unit_test(reader_refuses_bad_headers),
        cmocka_unit_test(reader_refuses_raw_above_limit),
        cmocka_unit_test(reader_refuses_bad_payloads),
        cmocka_unit_test(reader_refuses_bad_lines),
        cmocka_unit_test(reader_ignores_unknown_fields),
        cmocka_unit_test(reader_decodes_into_caller_memory),
        cmocka_unit_test(reader_decode_into_refuses_as_decode),
        cmocka_unit_test(id_characters_checked_at_every_position),
        cmocka_unit_test(reader_id_characters_checked_at_every_position),
        cmocka_unit_test(commit_json_as_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
