/* bench_decode.c: what the indexer pays to decode the shipper's stream
 * entries, per codec: every entry of a Redis stream (as the shipper wrote
 * it) read once with XRANGE and kept in memory, then decoded as the
 * indexer does (sl_batch_reader_decode_header, _payload into memory of
 * its own, every line checked) and iterated, five rounds; prints the
 * median CPU-s per 1M events, the events and the bytes of the entries.
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_decode.c build/release/common/libsluice_common.a \
 *       -lhiredis -llz4 -lzstd -lyajl -lm -lpthread -o
 * bench/out/bin/bench-decode bench-decode PORT KEY     (bench/RESULTS.md,
 * "columnar") */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "sl_batch.h"

struct kept {
    size_t argc;
    char **argv;
    size_t *len;
};

static size_t load(redisContext *c, const char *key, struct kept **out,
                   size_t *bytes)
{
    size_t n = 0, cap = 0;
    char start[64] = "-";
    *bytes = 0;
    for (;;) {
        redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT 100", key, start);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            exit(1);
        if (r->elements == 0) {
            freeReplyObject(r);
            return n;
        }
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *e = r->element[i], *f = e->element[1];
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                *out = realloc(*out, cap * sizeof **out);
            }
            struct kept *k = &(*out)[n++];
            k->argc = f->elements;
            k->argv = malloc(f->elements * sizeof *k->argv);
            k->len = malloc(f->elements * sizeof *k->len);
            for (size_t j = 0; j < f->elements; j++) {
                k->len[j] = f->element[j]->len;
                k->argv[j] = malloc(k->len[j] + 1);
                memcpy(k->argv[j], f->element[j]->str, k->len[j]);
                *bytes += k->len[j];
            }
            snprintf(start, sizeof start, "(%s", e->element[0]->str);
        }
        freeReplyObject(r);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-decode PORT KEY\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) {
        fprintf(stderr, "bench-decode: bad port %s\n", argv[1]);
        return 2;
    }
    redisContext *c = redisConnect("127.0.0.1", (int)port);
    if (c == NULL || c->err)
        return 1;
    struct kept *e = NULL;
    size_t bytes, n = load(c, argv[2], &e, &bytes), events = 0;
    struct sl_batch_reader *r = sl_batch_reader_new(0, NULL);
    char *dst = malloc(SL_BATCH_RAW_DEFAULT);
    double t[5];
    const char *codec = "?";
    for (int round = 0; round < 5; round++) {
        double t0 = bench_cpu_seconds();
        events = 0;
        for (size_t i = 0; i < n; i++) {
            struct sl_err err;
            size_t raw;
            struct sl_batch_event ev;
            if (sl_batch_reader_decode_header(r, e[i].argc,
                                              (const char *const *)e[i].argv,
                                              e[i].len, &raw, &err) < 0 ||
                sl_batch_reader_decode_payload(r, dst, &err) < 0) {
                fprintf(stderr, "entry %zu: %s\n", i, err.msg);
                return 1;
            }
            codec = sl_codec_name(sl_batch_reader_codec(r));
            while (sl_batch_reader_next(r, &ev) == 1)
                events++;
        }
        t[round] = bench_cpu_seconds() - t0;
    }
    /* columnar: the transposed buffers' size, the varint that starts each
     * entry's events (after the 2 bytes of a version from 2 on) */
    size_t flat = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)e[i].argv[11];
        size_t v = 0, len = e[i].len[11];
        if (len > 2 && p[0] == 0) {
            p += 2;
            len -= 2;
        }
        for (unsigned sh = 0; sh < 64 && len > sh / 7; sh += 7) {
            v |= (size_t)(p[sh / 7] & 0x7f) << sh;
            if (p[sh / 7] < 0x80)
                break;
        }
        flat += v;
    }
    qsort(t, 5, sizeof t[0], bench_cmp_double);
    printf("%s: %zu entries, %zu events, %.1f MB as stored; decode %.3f "
           "(%.3f-%.3f) CPU-s per 1M events",
           codec, n, events, (double)bytes / 1e6, t[2] * 1e6 / (double)events,
           t[0] * 1e6 / (double)events, t[4] * 1e6 / (double)events);
    if (strcmp(codec, "columnar") == 0)
        printf("; transposed %.0f B an event", (double)flat / (double)events);
    printf("\n");
    return 0;
}
