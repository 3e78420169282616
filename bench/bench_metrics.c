/* bench_metrics.c: what the daemons pay for counting (an increment on the
 * hot path) and for being scraped (rendering a registry of 100 metrics).
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_metrics.c common/sl_metrics.c common/sl_buf.c \
 *       common/sl_file.c common/sl_err.c common/sl_json.c -lm \
 *       -o bench/out/bin/bench-metrics
 *   bench/out/bin/bench-metrics [--runs N]
 *
 * Increments: 100M sl_counter_inc() (one writer: relaxed load and store),
 * the same with sl_counter_add_shared() (a locked add, for comparison) and
 * a plain uint64_t through a volatile pointer (the floor). Renders: a
 * registry of 60 counters, 20 gauges and one labelled counter with 20
 * children (100 samples, as a daemon with a few inputs and grok patterns
 * would have), rendered 10k times into a reused buffer, as Prometheus text
 * and as JSON, and once more with the process gauges registered (each
 * render then reads /proc/self/status). Each number is the median of N runs
 * (default 5) in ns by wall time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "sl_metrics.h"

#define INCS    100000000ULL
#define RENDERS 10000

/* The counter pointer comes through a volatile so the compiler cannot see
 * which counter it is and fold the loop. */
static struct sl_counter *volatile hot;

static double time_inc(int kind)
{
    struct sl_counter *c = hot;
    static volatile uint64_t plain;
    double t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e9);
    for (uint64_t i = 0; i < INCS; i++) {
        if (kind == 0)
            sl_counter_inc(c);
        else if (kind == 1)
            sl_counter_add_shared(c, 1);
        else
            plain = plain + 1;
    }
    return ((bench_seconds(CLOCK_MONOTONIC) * 1e9) - t0) / (double)INCS;
}

static struct sl_metrics *make_registry(int with_process)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_err err = {0};
    char name[64];
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "sluice_bench_counter_%d_total", i);
        sl_counter_add(sl_metrics_counter(m, name, "A counter.", &err),
                       (uint64_t)i * 123456789u);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "sluice_bench_gauge_%d", i);
        sl_gauge_set(sl_metrics_gauge(m, name, "A gauge.", &err), i * 0.37);
    }
    static const char *const labels[] = {"pattern", NULL};
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_COUNTER, "sluice_grok_failures_total",
                          "Lines no pattern matched.", labels, &err);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "PATTERN_%d", i);
        const char *values[] = {name, NULL};
        sl_counter_add(sl_family_counter(f, values, &err), (uint64_t)i);
    }
    if (with_process && sl_metrics_add_process(m, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return m;
}

static double time_render(struct sl_metrics *m, int json, size_t *bytes)
{
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    double t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e9);
    for (int i = 0; i < RENDERS; i++) {
        sl_buf_reset(&b);
        int rc = json ? sl_metrics_render_json(m, &b, NULL)
                      : sl_metrics_render_prometheus(m, &b, NULL);
        if (rc < 0)
            abort();
    }
    double t = ((bench_seconds(CLOCK_MONOTONIC) * 1e9) - t0) / RENDERS;
    *bytes = b.len;
    sl_buf_release(&b);
    return t;
}

int main(int argc, char **argv)
{
    int runs = argc == 3 && strcmp(argv[1], "--runs") == 0
                   ? (int)strtol(argv[2], NULL, 10)
                   : 5;
    if (runs < 1 || runs > 100)
        runs = 5;
    struct sl_metrics *plain = make_registry(0), *proc = make_registry(1);
    hot = sl_metrics_counter(plain, "sluice_hot_total", "Hot.", NULL);
    double inc[3][100], render[3][100];
    size_t bytes[3] = {0};
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 3; k++)
            inc[k][r] = time_inc(k);
        render[0][r] = time_render(plain, 0, &bytes[0]);
        render[1][r] = time_render(plain, 1, &bytes[1]);
        render[2][r] = time_render(proc, 0, &bytes[2]);
    }
    printf("increment, one writer (load+store)   %6.2f ns\n",
           bench_median(inc[0], runs));
    printf("increment, shared (locked add)       %6.2f ns\n",
           bench_median(inc[1], runs));
    printf("increment, plain volatile uint64_t   %6.2f ns\n",
           bench_median(inc[2], runs));
    printf("render 101 samples, prometheus       %6.2f us  (%zu bytes)\n",
           bench_median(render[0], runs) / 1000, bytes[0]);
    printf("render 101 samples, json             %6.2f us  (%zu bytes)\n",
           bench_median(render[1], runs) / 1000, bytes[1]);
    printf("render + process gauges, prometheus  %6.2f us  (%zu bytes)\n",
           bench_median(render[2], runs) / 1000, bytes[2]);
    sl_metrics_free(plain);
    sl_metrics_free(proc);
    return 0;
}
