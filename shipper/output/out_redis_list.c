/* out_redis_list.c: list mode, for Logstash: each event is one element,
 * its JSON exactly as the stream would carry it (without the id and time
 * prefix), appended with RPUSH, which is what Logstash's redis output
 * does and what its redis input (data_type "list", codec json) pops from
 * the head. A batch goes out as RPUSH commands of OUTPUT_LIST_CHUNK events
 * (more when a batch has more than OUTPUT_CHUNKS_MAX of those), pipelined;
 * each is accepted or resent on its own. The elements point into the
 * batch's payload: no copy until the client formats the command. The
 * pending length is LLEN: Logstash removes what it reads. */
#include "output_priv.h"

#include <string.h>

#include "sl_redis.h"

static size_t per_chunk(size_t events)
{
    size_t per = (events + OUTPUT_CHUNKS_MAX - 1) / OUTPUT_CHUNKS_MAX;
    return per > OUTPUT_LIST_CHUNK ? per : OUTPUT_LIST_CHUNK;
}

size_t out_redis_list_argv_max(size_t batch_events)
{
    return 2 + per_chunk(batch_events);
}

/* Also sets b->bytes to what the elements hold, the JSON alone: what
 * sluice_output_bytes_total counts once they are pushed. */
static void split(struct output_batch *b)
{
    size_t per = per_chunk(b->events), at = 0, json, end, bytes = 0;
    b->nchunks = 0;
    for (size_t e = 0; e < b->events; e++) {
        if (e % per == 0) {
            struct output_chunk *k = &b->chunks[b->nchunks++];
            k->at = at;
            k->events = 0;
        }
        b->chunks[b->nchunks - 1].events++;
        output_line_json(b->payload, b->payload_len, at, &json, &end);
        bytes += end - 1 - json;
        at = end;
    }
    b->bytes = bytes;
}

static int build(const struct output_batch *b, unsigned i, const char *key,
                 const char **argv, size_t *lens)
{
    const struct output_chunk *k = &b->chunks[i];
    size_t at = k->at, json, end;
    argv[0] = "RPUSH";
    lens[0] = 5;
    argv[1] = key;
    lens[1] = strlen(key);
    for (size_t e = 0; e < k->events; e++) {
        output_line_json(b->payload, b->payload_len, at, &json, &end);
        argv[2 + e] = b->payload + json;
        lens[2 + e] = end - 1 - json;
        at = end;
    }
    return (int)(2 + k->events);
}

static long long added(const struct output_batch *b, unsigned i)
{
    return (long long)b->chunks[i].events;
}

const struct out_redis_mode out_redis_list_mode = {
    "list", "LLEN", split, build, REDIS_REPLY_INTEGER, added};
