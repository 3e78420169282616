/* fuzz_batch_read.c: the stream entry reader on entries from anywhere, and
 * the writer-reader round trip on events from anywhere.
 *
 * The first byte picks the mode.
 *
 * Below 0xc0, decode: the rest is an entry, element after element, each a
 * 2-byte big-endian length and that many bytes (the last one cut short by
 * the end of the input). The reader must refuse or accept without crashing,
 * leaking or looping; when it accepts, the events it hands out must add up
 * to exactly the payload (count lines, none holding "\n"), and a second
 * decode of the same entry by the same reader must give the same events.
 *
 * From 0xc0, round trip: the rest is cut at "\n" into events, written with
 * the codec and level the first byte picks, into batches of at most 64 bytes
 * or 64 KiB; an empty event must be refused, a full batch is sealed, read
 * back and compared byte for byte, then reset and reused, as the shipper
 * flushes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ELEMS 64

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
        struct sl_slice ev;
        size_t n = 0, bytes = 0;
        while (sl_batch_reader_next(r, &ev)) {
            if (memchr(ev.ptr, '\n', ev.len) != NULL)
                abort();
            bytes += ev.len + 1;
            n++;
        }
        if (n != sl_batch_reader_count(r) || n == 0 || bytes > 1 << 20)
            abort();
    }
    sl_batch_reader_free(r);
}

struct pending {
    const char *ev[4096];
    size_t len[4096];
    size_t n;
};

/* Seals w, reads the entry back with r and compares it with want. */
static void check_batch(struct sl_batch_writer *w, struct sl_batch_reader *r,
                        struct pending *want)
{
    const char **argv;
    const size_t *len;
    struct sl_slice ev;
    if (want->n == 0)
        return;
    if (sl_batch_writer_seal(w, &argv, &len, NULL) < 0 ||
        sl_batch_reader_decode(r, SL_BATCH_ARGC, argv, len, NULL) < 0 ||
        sl_batch_reader_count(r) != want->n)
        abort();
    for (size_t i = 0; i < want->n; i++) {
        if (sl_batch_reader_next(r, &ev) != 1 || ev.len != want->len[i] ||
            memcmp(ev.ptr, want->ev[i], ev.len) != 0)
            abort();
    }
    if (sl_batch_reader_next(r, &ev) != 0)
        abort();
    sl_batch_writer_reset(w);
    want->n = 0;
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
    static struct pending want;
    struct sl_err err;
    if (w == NULL || r == NULL)
        abort();
    want.n = 0;
    const char *s = (const char *)p, *end = s + size;
    while (s < end && want.n < 4096) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        /* alternately copied and serialised in place */
        struct sl_buf *b = sl_batch_writer_begin(w);
        int rc = want.n % 2 ? sl_batch_writer_add(w, s, n, &err)
                            : (sl_buf_append(b, s, n, &err) < 0
                                   ? (sl_batch_writer_rollback(w), -1)
                                   : sl_batch_writer_commit(w, &err));
        if (rc == 0) {
            want.ev[want.n] = s;
            want.len[want.n++] = n;
        } else if (n == 0) {
            if (err.status != SL_EINVAL)
                abort();
        } else if (err.status == SL_ELIMIT) {
            if (n + 1 <= max_raw && want.n == 0)
                abort(); /* it fits an empty batch */
            check_batch(w, r, &want);
            if (n + 1 > max_raw) {
                s += n + 1;
                continue;
            }
            continue; /* again, into the empty batch */
        } else {
            abort();
        }
        s += n + 1;
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
