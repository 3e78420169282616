/* sl_backoff.h: exponential backoff with jitter, for reconnects and
 * retries.
 *
 * The n-th delay (from 0, since the last reset) is drawn uniformly from
 * [cap/2, cap] where cap = min(min_ms * 2^n, max_ms): it doubles up to
 * the maximum, never drops below half of it (so a failing peer is never
 * retried in a tight loop), and the random half spreads many clients that
 * lost the same server so they do not come back in step ("equal jitter").
 * Each backoff has its own random state, seeded at init. */
#ifndef SL_BACKOFF_H
#define SL_BACKOFF_H

#include "sl_err.h"
#include <stdint.h>

struct sl_backoff {
    int min_ms;
    int max_ms;
    int cap_ms; /* the cap of the next delay */
    uint64_t rng;
};

/* min_ms >= 1 and max_ms >= min_ms (values out of range are raised to
 * them); seed 0 picks one from the clock and the object's address. */
void sl_backoff_init(struct sl_backoff *b, int min_ms, int max_ms,
                     uint64_t seed);
/* The next delay in milliseconds; doubles the cap for the one after. */
SL_MUST_CHECK int sl_backoff_next(struct sl_backoff *b);
/* After a success: the next delay is drawn from [min_ms/2, min_ms]. */
void sl_backoff_reset(struct sl_backoff *b);

#endif
