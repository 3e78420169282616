/* fuzz_batch_read.c: the stream entry reader on entries from anywhere, and
 * the writer-reader round trip on events from anywhere.
 *
 * The first byte picks the mode.
 *
 * Below 0xc0, decode: the rest is an entry, element after element, each a
 * 2-byte big-endian length and that many bytes (the last one cut short by
 * the end of the input). The reader must refuse or accept without crashing,
 * leaking or looping; when it accepts, every event must be as the format
 * says (a time in range whose canonical decimal starts the line, an id of
 * 1 to 64 id characters, a JSON of at least one byte without "\n"), the events
 * must follow each other without a gap and add up to count lines, and a second
 * decode of the same entry by the same reader must give the same events.
 *
 * From 0xc0, round trip: the rest is cut at "\n" into events, written with
 * the codec and level the first byte picks, into batches of at most 64 bytes
 * or 64 KiB; an empty event must be refused, a full batch is sealed, read
 * back and compared byte for byte (id, time, JSON), then reset and reused,
 * as the shipper flushes. An event's id is an sl_event_id and its time
 * runs over the whole range, except that an event starting with "#" names
 * its own id, up to its first space: the writer must refuse exactly the
 * ids the format forbids (SL_EINVAL) and keep the batch as it was. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_batch.h"
#include "sl_event_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ELEMS 64

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool id_ok(const char *p, size_t n)
{
    if (n == 0 || n > SL_BATCH_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_id_char(p[i]))
            return false;
    return true;
}

/* An event as the format says, right after the one before it (next);
 * returns where its line starts. */
static const char *check_event(const struct sl_batch_event *ev,
                               const char *next)
{
    char ts[32];
    int n = snprintf(ts, sizeof ts, "%lld ", (long long)ev->ts_ms);
    const char *line = ev->id.ptr - n;
    if (!id_ok(ev->id.ptr, ev->id.len) || ev->ts_ms < SL_BATCH_TS_MIN ||
        ev->ts_ms > SL_BATCH_TS_MAX || ev->json.len == 0 ||
        memchr(ev->json.ptr, '\n', ev->json.len) != NULL ||
        (next != NULL && line != next) || memcmp(line, ts, (size_t)n) != 0 ||
        ev->id.ptr + ev->id.len + 1 != ev->json.ptr ||
        ev->id.ptr[ev->id.len] != ' ' || ev->json.ptr[ev->json.len] != '\n')
        abort();
    return line;
}

/* decode_header + decode_payload into memory of our own agree with what
 * decode said of the same entry (r holds decode's result, or nothing):
 * refused with the same message, or the same events, in our memory. */
static void two_steps(struct sl_batch_reader *r, size_t argc,
                      const char *const *argv, const size_t *len)
{
    struct sl_batch_reader *r2 = sl_batch_reader_new(1 << 20, NULL);
    struct sl_err err, err2;
    size_t raw = 0;
    char *dst = NULL;
    if (r2 == NULL)
        abort();
    int ok = sl_batch_reader_decode(r, argc, argv, len, &err) == 0;
    int ok2 =
        sl_batch_reader_decode_header(r2, argc, argv, len, &raw, &err2) == 0;
    if (ok2) {
        if (raw > 1 << 20 || (dst = malloc(raw ? raw : 1)) == NULL)
            abort();
        ok2 = sl_batch_reader_decode_payload(r2, dst, &err2) == 0;
    }
    if (ok != ok2 || (!ok && strcmp(err.msg, err2.msg) != 0) ||
        sl_batch_reader_count(r) != sl_batch_reader_count(r2))
        abort();
    struct sl_batch_event a, b;
    while (ok && sl_batch_reader_next(r, &a)) {
        if (sl_batch_reader_next(r2, &b) != 1 || a.ts_ms != b.ts_ms ||
            !sl_slice_eq(b.id, a.id.ptr, a.id.len) ||
            !sl_slice_eq(b.json, a.json.ptr, a.json.len) || b.id.ptr < dst ||
            b.json.ptr + b.json.len >= dst + raw)
            abort();
    }
    if (ok && sl_batch_reader_next(r2, &b) != 0)
        abort();
    free(dst);
    sl_batch_reader_free(r2);
}

static void decode_mode(const uint8_t *p, size_t size)
{
    const char *argv[MAX_ELEMS];
    size_t len[MAX_ELEMS];
    size_t argc = 0;
    while (size >= 2 && argc < MAX_ELEMS) {
        size_t n = (size_t)p[0] << 8 | p[1];
        p += 2;
        size -= 2;
        if (n > size)
            n = size;
        argv[argc] = (const char *)p;
        len[argc++] = n;
        p += n;
        size -= n;
    }
    struct sl_batch_reader *r = sl_batch_reader_new(1 << 20, NULL);
    if (r == NULL)
        abort();
    for (int pass = 0; pass < 2; pass++) {
        struct sl_err err;
        if (sl_batch_reader_decode(r, argc, argv, len, &err) < 0) {
            if (pass == 1 || err.msg[0] == '\0' ||
                sl_batch_reader_count(r) != 0)
                abort();
            break;
        }
        struct sl_batch_event ev;
        size_t n = 0, bytes = 0;
        const char *next = NULL;
        while (sl_batch_reader_next(r, &ev)) {
            const char *line = check_event(&ev, next);
            next = ev.json.ptr + ev.json.len + 1;
            bytes += (size_t)(next - line);
            n++;
        }
        if (n != sl_batch_reader_count(r) || n == 0 || bytes > 1 << 20)
            abort();
    }
    two_steps(r, argc, argv, len);
    sl_batch_reader_free(r);
}

struct pending {
    const char *ev[4096];
    size_t len[4096];
    char id[4096][SL_BATCH_ID_MAX];
    size_t id_len[4096];
    int64_t ts[4096];
    size_t n;
};

/* Seals w, reads the entry back with r and compares it with want. */
static void check_batch(struct sl_batch_writer *w, struct sl_batch_reader *r,
                        struct pending *want)
{
    const char **argv;
    const size_t *len;
    struct sl_batch_event ev;
    if (want->n == 0)
        return;
    if (sl_batch_writer_seal(w, &argv, &len, NULL) < 0 ||
        sl_batch_reader_decode(r, SL_BATCH_ARGC, argv, len, NULL) < 0 ||
        sl_batch_reader_count(r) != want->n)
        abort();
    for (size_t i = 0; i < want->n; i++) {
        if (sl_batch_reader_next(r, &ev) != 1 ||
            !sl_slice_eq(ev.json, want->ev[i], want->len[i]) ||
            !sl_slice_eq(ev.id, want->id[i], want->id_len[i]) ||
            ev.ts_ms != want->ts[i])
            abort();
    }
    if (sl_batch_reader_next(r, &ev) != 0)
        abort();
    sl_batch_writer_reset(w);
    want->n = 0;
}

/* Event k's id and time, and where its JSON starts: "#ID JSON" names its
 * own id (any bytes up to the first space), anything else gets the id of
 * offset k (written into buf) and a time that walks the range. */
static int64_t id_and_time(size_t k, const struct sl_event_id_source *src,
                           char *buf, const char **id, size_t *id_len,
                           const char **s, size_t *n)
{
    uint64_t span = (uint64_t)(SL_BATCH_TS_MAX - SL_BATCH_TS_MIN);
    if (*n > 0 && (*s)[0] == '#') {
        const char *sp = memchr(*s, ' ', *n);
        *id = *s + 1;
        *id_len = sp ? (size_t)(sp - *s) - 1 : *n - 1;
        size_t used = sp ? *id_len + 2 : *n;
        *s += used;
        *n -= used;
    } else {
        sl_event_id_make(src, k, buf);
        *id = buf;
        *id_len = SL_EVENT_ID_LEN;
    }
    return SL_BATCH_TS_MIN + (int64_t)((k * 7919000123ULL) % (span + 1));
}

/* Adds one event, alternately copied and serialised in place. */
static int add(struct sl_batch_writer *w, const char *id, size_t id_len,
               int64_t ts, const char *ev, size_t n, struct sl_err *err)
{
    static unsigned turn;
    if (turn++ % 2)
        return sl_batch_writer_add(w, id, id_len, ts, ev, n, err);
    struct sl_buf *b = sl_batch_writer_begin(w, id, id_len, ts, err);
    if (b == NULL)
        return -1;
    if (sl_buf_append(b, ev, n, err) < 0) {
        sl_batch_writer_rollback(w);
        return -1;
    }
    return sl_batch_writer_commit(w, err);
}

static void round_trip_mode(uint8_t mode, const uint8_t *p, size_t size)
{
    static const enum sl_codec codecs[] = {SL_CODEC_NONE, SL_CODEC_LZ4,
                                           SL_CODEC_ZSTD, SL_CODEC_ZSTD};
    enum sl_codec codec = codecs[mode & 3];
    int level = codec == SL_CODEC_LZ4 ? 1 + (mode >> 2 & 3) * 7
                                      : (int)(mode >> 2 & 3) - 1;
    size_t max_raw = mode & 0x10 ? 64 : 1 << 16;
    struct sl_batch_writer *w =
        sl_batch_writer_new("fuzz", codec, level, max_raw, NULL);
    struct sl_batch_reader *r = sl_batch_reader_new(max_raw, NULL);
    struct sl_event_id_source src;
    static struct pending want;
    struct sl_err err;
    if (w == NULL || r == NULL)
        abort();
    sl_event_id_source_init(&src, "fuzz", 4, &mode, 1);
    want.n = 0;
    const char *s = (const char *)p, *end = s + size;
    while (s < end && want.n < 4096) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t line = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const char *ev = s, *id;
        size_t n = line, id_len;
        char buf[SL_EVENT_ID_LEN + 1], ts_text[32];
        int64_t ts = id_and_time(want.n, &src, buf, &id, &id_len, &ev, &n);
        size_t before = sl_batch_writer_bytes(w);
        bool valid = id_ok(id, id_len) && n > 0;
        size_t whole =
            id_len + n + 3 +
            (size_t)snprintf(ts_text, sizeof ts_text, "%lld", (long long)ts);
        if (add(w, id, id_len, ts, ev, n, &err) == 0) {
            if (!valid)
                abort();
            memcpy(want.id[want.n], id, id_len);
            want.id_len[want.n] = id_len;
            want.ts[want.n] = ts;
            want.ev[want.n] = ev;
            want.len[want.n++] = n;
        } else if (sl_batch_writer_bytes(w) != before) {
            abort(); /* a refusal changed the batch */
        } else if (!id_ok(id, id_len)) {
            if (err.status != SL_EINVAL)
                abort(); /* begin checks the id before anything else */
        } else if (n == 0 && err.status == SL_EINVAL) {
            /* an empty event; its prefix alone may not fit (SL_ELIMIT) */
        } else if (err.status == SL_ELIMIT) {
            if (n > 0 && whole <= max_raw && want.n == 0)
                abort(); /* it fits an empty batch */
            if (want.n > 0) {
                check_batch(w, r, &want);
                continue; /* again, into the empty batch */
            }
        } else {
            abort();
        }
        s += line + 1;
    }
    check_batch(w, r, &want);
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    if (data[0] < 0xc0)
        decode_mode(data + 1, size - 1);
    else
        round_trip_mode(data[0], data + 1, size - 1);
    return 0;
}
