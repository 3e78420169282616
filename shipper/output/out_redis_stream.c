/* out_redis_stream.c: stream mode (the default): one batch is one stream
 * entry, `XADD KEY * v 2 host H count N codec C raw R events PAYLOAD`,
 * the sl_batch format sluice-indexer reads. One command per batch, so
 * Redis does one operation per 2000 events or so; the entry id is Redis's
 * (`*`): the events carry their own ids. The pending length is XLEN, as
 * sluice-indexer deletes what it acknowledged (XACK, then XDEL). */
#include "output_priv.h"

#include <string.h>

#include "sl_redis.h"

static void split(struct output_batch *b)
{
    b->nchunks = 1;
    b->chunks[0].at = 0;
    b->chunks[0].events = b->events;
}

static int build(const struct output_batch *b, unsigned i, const char *key,
                 const char **argv, size_t *lens)
{
    (void)i;
    argv[0] = "XADD";
    lens[0] = 4;
    argv[1] = key;
    lens[1] = strlen(key);
    argv[2] = "*";
    lens[2] = 1;
    for (int k = 0; k < SL_BATCH_ARGC; k++) {
        argv[3 + k] = b->argv[k];
        lens[3 + k] = b->argvlen[k];
    }
    return 3 + SL_BATCH_ARGC;
}

static long long added(const struct output_batch *b, unsigned i)
{
    (void)b;
    (void)i;
    return 1;
}

const struct out_redis_mode out_redis_stream_mode = {
    "stream", "XLEN", split, build, REDIS_REPLY_STRING, added};
