/* fuzz_batch_columnar.c: the columnar codec's round trip on event trees
 * from anywhere (tests/lib/event_gen.h builds them from the input).
 *
 * The first byte picks the batch's size limit (256 bytes, 4 KiB or 1 MiB)
 * and how many events a batch takes at most; the rest makes events until
 * it runs out. Each event goes to a writer of codec none and to one of
 * codec columnar: both must accept or refuse it alike, with the same byte
 * count. Each batch is sealed (columnar must never fail), its columnar
 * entry decoded by a reader, and the payload must be none's byte for
 * byte. (fuzz_batch_read feeds the reader broken columnar entries.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_gen.h"
#include "sl_arena.h"
#include "sl_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *payload(struct sl_batch_writer *w, size_t *n)
{
    const char **argv;
    const size_t *len;
    if (sl_batch_writer_seal(w, &argv, &len, NULL) < 0)
        abort();
    *n = len[SL_BATCH_ARGC - 1];
    return argv[SL_BATCH_ARGC - 1];
}

static void check(struct sl_batch_writer *none, struct sl_batch_writer *col,
                  struct sl_batch_reader *r)
{
    if (sl_batch_writer_count(none) == 0)
        return;
    const char **argv;
    const size_t *len;
    size_t n, raw;
    const char *want = payload(none, &n);
    if (sl_batch_writer_seal(col, &argv, &len, NULL) < 0 ||
        sl_batch_reader_decode_header(r, SL_BATCH_ARGC, argv, len, &raw, NULL) <
            0 ||
        raw != n)
        abort();
    char *got = malloc(raw);
    if (got == NULL || sl_batch_reader_decode_payload(r, got, NULL) < 0 ||
        memcmp(got, want, n) != 0 ||
        sl_batch_reader_count(r) != sl_batch_writer_count(none))
        abort();
    free(got);
    sl_batch_writer_reset(none);
    sl_batch_writer_reset(col);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    static const size_t limits[] = {256, 4096, 1 << 20, 1 << 20};
    size_t max_raw = limits[data[0] & 3], per_batch = 1 + (data[0] >> 2);
    struct sl_arena *arena = sl_arena_new(1 << 16);
    struct sl_batch_writer *none =
        sl_batch_writer_new("f", SL_CODEC_NONE, 0, max_raw, NULL);
    struct sl_batch_writer *col =
        sl_batch_writer_new("f", SL_CODEC_COLUMNAR, 0, max_raw, NULL);
    struct sl_batch_reader *r = sl_batch_reader_new(0, NULL);
    if (arena == NULL || none == NULL || col == NULL || r == NULL)
        abort();
    struct event_gen g;
    struct sl_event ev;
    event_gen_init(&g, arena);
    sl_event_init(&ev, arena);
    event_gen_feed(&g, data + 1, size - 1);
    int64_t ts = 1763856000000;
    for (size_t i = 0; g.p < g.end; i++) {
        sl_arena_reset(arena);
        if (event_gen_build(&g, &ev) < 0)
            abort();
        char id[48];
        snprintf(id, sizeof id, "e%zu", i);
        ts += (int64_t)(i % 3) - 1;
        struct sl_err e1, e2;
        int r1 = sl_batch_writer_add_event(none, id, strlen(id), ts, &ev, &e1);
        int r2 = sl_batch_writer_add_event(col, id, strlen(id), ts, &ev, &e2);
        if (r1 != r2 || (r1 < 0 && e1.status != e2.status) ||
            sl_batch_writer_bytes(none) != sl_batch_writer_bytes(col))
            abort();
        if (r1 < 0 && e1.status != SL_ELIMIT)
            abort();
        if (r1 < 0 || sl_batch_writer_count(none) >= per_batch)
            check(none, col, r);
    }
    check(none, col, r);
    event_gen_release(&g);
    sl_batch_reader_free(r);
    sl_batch_writer_free(none);
    sl_batch_writer_free(col);
    sl_arena_free(arena);
    return 0;
}
