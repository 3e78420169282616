/* sl_metrics.h: the counters and gauges a daemon keeps about itself, and
 * their rendering for /metrics (Prometheus text format 0.0.4) and /status
 * (one JSON object).
 *
 * Everything is registered at setup: a family has a name, a help text, a
 * type and 0..SL_METRICS_MAX_LABELS label names; each child of a family is
 * one fixed set of label values (sluice_grok_failures_total{pattern="x"})
 * and is created at setup too, never per event. The hot path holds a
 * pointer to its child and adds to it: a relaxed load and store, no lookup,
 * no lock, no allocation.
 *
 * Threads: each counter or gauge has one writer thread (the daemons are one
 * event loop); any thread may read or render at any time, because values are
 * C11 atomics accessed with relaxed ordering (a reader sees a recent value,
 * never a torn one). Two writer threads on one child would lose updates: give
 * each its own child, or use sl_counter_add_shared(). A render writes too:
 * it runs the collectors and refreshes the process gauges, under a lock of
 * the registry, so renders on several threads take turns there and those
 * gauges have one writer at a time (set them only from a collector). A
 * collector runs on whichever thread renders: it must read only state that
 * thread may read. Registration and sl_metrics_free() are not thread-safe.
 *
 * Names follow Prometheus: metric names match [a-zA-Z_][a-zA-Z0-9_]*
 * (colons are left to recording rules), counters end in "_total" and gauges
 * do not, label names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with
 * "__". Registration fails with SL_EINVAL and a message saying which rule a
 * name breaks. Children, families and the registry are freed together by
 * sl_metrics_free(); pointers to children stay valid until then. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_err.h"

#define SL_METRICS_MAX_LABELS     4
#define SL_METRICS_MAX_COLLECTORS 8

enum sl_metric_type { SL_METRIC_COUNTER, SL_METRIC_GAUGE };

/* Monotonic: only ever goes up (until the process restarts). */
struct sl_counter {
    _Atomic uint64_t value;
};

/* A double, as every Prometheus sample is: lags in seconds and start times
 * need fractions, and an int64 gauge would force units (ms, KiB) that break
 * Prometheus's base-unit convention. Exact for integers up to 2^53. */
struct sl_gauge {
    _Atomic double value;
};

struct sl_metrics;
struct sl_metric_family;

static inline void sl_counter_add(struct sl_counter *c, uint64_t n)
{
    /* One writer per child: load + store compiles to a plain add, where
     * atomic_fetch_add would be a locked instruction on every event. */
    uint64_t v = atomic_load_explicit(&c->value, memory_order_relaxed);
    atomic_store_explicit(&c->value, v + n, memory_order_relaxed);
}

static inline void sl_counter_inc(struct sl_counter *c)
{
    sl_counter_add(c, 1);
}

/* For a child written from several threads: a locked add. */
static inline void sl_counter_add_shared(struct sl_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static inline uint64_t sl_counter_get(const struct sl_counter *c)
{
    return atomic_load_explicit(&((struct sl_counter *)c)->value,
                                memory_order_relaxed);
}

static inline void sl_gauge_set(struct sl_gauge *g, double v)
{
    atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

static inline void sl_gauge_add(struct sl_gauge *g, double d)
{
    double v = atomic_load_explicit(&g->value, memory_order_relaxed);
    atomic_store_explicit(&g->value, v + d, memory_order_relaxed);
}

static inline double sl_gauge_get(const struct sl_gauge *g)
{
    return atomic_load_explicit(&((struct sl_gauge *)g)->value,
                                memory_order_relaxed);
}

struct sl_metrics *sl_metrics_new(void);
void sl_metrics_free(struct sl_metrics *m); /* NULL is fine */

/* Registers a family. labels is NULL or a NULL-terminated list of up to
 * SL_METRICS_MAX_LABELS label names (copied). The name must be new in m.
 * Families render in the order they were registered. */
struct sl_metric_family *sl_metrics_family(struct sl_metrics *m,
                                           enum sl_metric_type type,
                                           const char *name, const char *help,
                                           const char *const *labels,
                                           struct sl_err *err);
/* The child of f with these label values (one per label name of f, in the
 * same order; any bytes, copied), created on first call; the same pointer
 * on later calls with equal values. The type must match the family's. */
struct sl_counter *sl_family_counter(struct sl_metric_family *f,
                                     const char *const *values,
                                     struct sl_err *err);
struct sl_gauge *sl_family_gauge(struct sl_metric_family *f,
                                 const char *const *values, struct sl_err *err);

/* Shorthands for a family without labels and its one child. */
struct sl_counter *sl_metrics_counter(struct sl_metrics *m, const char *name,
                                      const char *help, struct sl_err *err);
struct sl_gauge *sl_metrics_gauge(struct sl_metrics *m, const char *name,
                                  const char *help, struct sl_err *err);

/* Registers the process gauges, refreshed at every render from
 * /proc/self/status and /proc/self/stat:
 *   process_resident_memory_bytes       VmRSS
 *   process_resident_memory_peak_bytes  VmHWM, the high-water mark
 *   process_start_time_seconds          since the Unix epoch
 * Where /proc is missing the memory gauges stay 0. */
SL_MUST_CHECK int sl_metrics_add_process(struct sl_metrics *m,
                                         struct sl_err *err);

/* A function called at the start of every render, to set gauges that are
 * cheaper to compute when asked than to keep current (a stream's length).
 * At most SL_METRICS_MAX_COLLECTORS. */
typedef void (*sl_metrics_collect_fn)(void *ctx);
SL_MUST_CHECK int sl_metrics_add_collector(struct sl_metrics *m,
                                           sl_metrics_collect_fn fn, void *ctx,
                                           struct sl_err *err);

/* Appends the Prometheus text exposition (format 0.0.4; content type
 * SL_METRICS_PROMETHEUS_TYPE) of every family to b:
 *   # HELP name help       (backslash and newline escaped)
 *   # TYPE name counter
 *   name{label="value"} 42 (backslash, double quote and newline escaped)
 * -1 when b reaches its maximum. */
SL_MUST_CHECK int sl_metrics_render_prometheus(struct sl_metrics *m,
                                               struct sl_buf *b,
                                               struct sl_err *err);
#define SL_METRICS_PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends one JSON object for /status: a family without labels is
 * "name": value; a labelled one is "name": [{"labels": {"l": "v"},
 * "value": n}, ...]. Integral values print without a fraction; a gauge
 * that is not finite prints null. -1 when b reaches its maximum. */
SL_MUST_CHECK int sl_metrics_render_json(struct sl_metrics *m, struct sl_buf *b,
                                         struct sl_err *err);

#endif
