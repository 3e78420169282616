/* sl_backoff.c: see sl_backoff.h. The generator is xorshift64*: retries
 * need spread, not cryptographic quality. */
#include "sl_backoff.h"

#include <time.h>

void sl_backoff_init(struct sl_backoff *b, int min_ms, int max_ms,
                     uint64_t seed)
{
    b->min_ms = min_ms < 1 ? 1 : min_ms;
    b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
    b->cap_ms = b->min_ms;
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^
               (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)b;
    }
    b->rng = seed != 0 ? seed : 0x2545F4914F6CDD1DULL;
}

static uint64_t next_random(struct sl_backoff *b)
{
    uint64_t x = b->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    b->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int sl_backoff_next(struct sl_backoff *b)
{
    int cap = b->cap_ms;
    int half = cap / 2;
    int delay = half + (int)(next_random(b) % (uint64_t)(cap - half + 1));
    b->cap_ms = cap > b->max_ms / 2 ? b->max_ms : cap * 2;
    return delay;
}

void sl_backoff_reset(struct sl_backoff *b)
{
    b->cap_ms = b->min_ms;
}
