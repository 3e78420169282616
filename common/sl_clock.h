/* sl_clock.h: the two clocks of Sluice, in milliseconds.
 *
 * sl_clock_mono_ms() for every deadline and timeout (CLOCK_MONOTONIC: it
 * never jumps when the wall clock is set); sl_clock_wall_ms() for what a
 * person or Elasticsearch reads (@timestamp, log lines). */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t sl_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t sl_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
