/* bench_fill.c: fills a Redis stream with batches as sluice-shipper writes
 * them by default (common/sl_batch format 2, lz4, 2,000 events an entry),
 * from events as JSON, one per line: the input of bench_indexer.sh.
 *
 *   cmake --build build/release --target sluice_common
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_fill.c build/release/common/libsluice_common.a \
 *       -lhiredis -llz4 -lzstd -lm -o bench/out/bin/bench-fill
 *   bench/out/bin/bench-fill --redis 127.0.0.1:PORT [--key sluice:events]
 *       [--events N] [--batch 2000] [--codec lz4] FILE.ndjson
 *
 * Each event gets the id sl_event_id gives its line's offset in FILE (as
 * the shipper does for a file), and a time that starts at
 * 2025-11-21T00:00:00Z and steps 80 ms a line, so 1M events fall on one
 * UTC day (one daily index). XADDs are pipelined, 64 at a time. Prints
 * entries, events, raw and stream bytes. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_batch.h"
#include "sl_err.h"
#include "sl_event_id.h"

#define TS_START 1763683200000LL /* 2025-11-21T00:00:00Z */
#define TS_STEP  80
#define PIPE     64

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-fill: %s: %s\n", what, why);
    exit(1);
}

static void drain(redisContext *rc, int *queued)
{
    for (; *queued > 0; (*queued)--) {
        redisReply *rep = NULL;
        if (redisGetReply(rc, (void **)&rep) != REDIS_OK)
            die("XADD", rc->errstr);
        if (rep->type == REDIS_REPLY_ERROR)
            die("XADD", rep->str);
        freeReplyObject(rep);
    }
}

static void send_batch(redisContext *rc, struct sl_batch_writer *w,
                       const char *key, int *queued, size_t *bytes)
{
    const char **argv;
    const size_t *argvlen;
    struct sl_err err = {0};
    if (sl_batch_writer_seal(w, &argv, &argvlen, &err) < 0)
        die("seal", err.msg);
    const char *xa[3 + SL_BATCH_ARGC] = {"XADD", key, "*"};
    size_t xl[3 + SL_BATCH_ARGC] = {4, strlen(key), 1};
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        xa[3 + i] = argv[i];
        xl[3 + i] = argvlen[i];
        *bytes += argvlen[i];
    }
    if (redisAppendCommandArgv(rc, 3 + SL_BATCH_ARGC, xa, xl) != REDIS_OK)
        die("XADD", rc->errstr);
    sl_batch_writer_reset(w);
    if (++*queued >= PIPE)
        drain(rc, queued);
}

int main(int argc, char **argv)
{
    const char *redis = NULL, *key = "sluice:events", *codec_name = "lz4";
    const char *path = NULL;
    size_t max_events = SIZE_MAX, batch = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--redis") && i + 1 < argc)
            redis = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            key = argv[++i];
        else if (!strcmp(argv[i], "--codec") && i + 1 < argc)
            codec_name = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            max_events = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && path == NULL)
            path = argv[i];
        else
            die("usage", "--redis HOST:PORT [--key K] [--events N] "
                         "[--batch N] [--codec C] FILE.ndjson");
    }
    if (redis == NULL || path == NULL || batch == 0)
        die("usage", "--redis HOST:PORT and FILE.ndjson are needed");
    char host[256];
    snprintf(host, sizeof host, "%s", redis);
    char *colon = strrchr(host, ':');
    if (colon == NULL)
        die(redis, "expected HOST:PORT");
    *colon = '\0';
    redisContext *rc = redisConnect(host, (int)strtol(colon + 1, NULL, 10));
    if (rc == NULL || rc->err)
        die(redis, rc ? rc->errstr : "out of memory");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path, sl_strerror(errno));

    struct sl_err err = {0};
    enum sl_codec codec;
    if (sl_codec_from_name(codec_name, &codec, &err) < 0)
        die("--codec", err.msg);
    struct sl_batch_writer *w =
        sl_batch_writer_new("bench-host", codec, 0, SL_BATCH_RAW_MAX, &err);
    if (w == NULL)
        die("writer", err.msg);
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "bench-host", 10, path, strlen(path));

    char *line = NULL;
    size_t cap = 0, events = 0, entries = 0, raw = 0, bytes = 0;
    uint64_t off = 0;
    ssize_t n;
    int queued = 0;
    while (events < max_events && (n = getline(&line, &cap, f)) > 0) {
        size_t whole = (size_t)n;
        if (line[n - 1] == '\n')
            n--;
        char id[SL_EVENT_ID_LEN + 1];
        sl_event_id_make(&src, off, id);
        int64_t ts = TS_START + (int64_t)events * TS_STEP;
        if (sl_batch_writer_add(w, id, SL_EVENT_ID_LEN, ts, line, (size_t)n,
                                &err) < 0)
            die("add", err.msg);
        off += whole;
        events++;
        if (sl_batch_writer_count(w) == batch) {
            raw += sl_batch_writer_bytes(w);
            send_batch(rc, w, key, &queued, &bytes);
            entries++;
        }
    }
    if (sl_batch_writer_count(w) > 0) {
        raw += sl_batch_writer_bytes(w);
        send_batch(rc, w, key, &queued, &bytes);
        entries++;
    }
    drain(rc, &queued);
    printf("entries %zu events %zu raw_bytes %zu stream_bytes %zu\n", entries,
           events, raw, bytes);
    free(line);
    fclose(f);
    sl_batch_writer_free(w);
    redisFree(rc);
    return 0;
}
