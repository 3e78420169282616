/* bench_date.c: sl_date against strptime + timegm, the C library's way of
 * turning a log date into an instant, on 1M dates in one program.
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_date.c common/sl_date.c common/sl_tz.c \
 *       common/sl_file.c common/sl_buf.c common/sl_err.c -lm \
 *       -o bench/out/bin/bench-date
 *   bench/out/bin/bench-date [--runs N]
 *
 * Four sets of 1M dates, made up front so making them is not measured:
 *   apache, log order     "23/Nov/2026:02:46:00 +0100" over one day, gaps
 *                         drawn as bench/gen_apache.py draws them (about 12
 *                         lines a second), and 2% of lines 1-30 s older (a
 *                         slow request is logged when it ends, dated when it
 *                         began)
 *   apache, all distinct  every line a second of its own
 *   iso, log order        "2026-11-23T02:46:00.123+01:00", the same instants
 *                         with milliseconds, so no two texts are equal
 *   iso, all distinct
 * Each set is parsed by sl_date (dd/MMM/yyyy:HH:mm:ss Z, or ISO8601) and by
 * the baseline (strptime %d/%b/%Y:%H:%M:%S %z, or %Y-%m-%dT%H:%M:%S plus the
 * fraction by hand and %z; then timegm minus tm_gmtoff), and both must give
 * the same milliseconds for every line before anything is timed. Each
 * measurement is the median of N runs (default 5), interleaved; it prints ns
 * per date by wall time and CPU-seconds (user+sys of this process) per 1M.
 * The sl_date object is compiled afresh for each run, so its cache starts
 * cold every time. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "sl_date.h"

#define N        1000000
#define TEXT_MAX 40

struct set {
    const char *name;
    char *text; /* N texts of TEXT_MAX bytes, NUL-terminated */
    size_t *len;
    int64_t *want;
};

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double next_unit(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Instants (ms) for a set: log order or all distinct. */
static void instants(int64_t *ms, int distinct)
{
    const int64_t start = 1795388400LL; /* 2026-11-23T00:00:00+01:00 */
    double t = 0;
    for (size_t i = 0; i < N; i++) {
        int64_t s;
        if (distinct) {
            s = start + (int64_t)i * 2 + (int64_t)(next_unit() * 2);
        } else {
            /* exponential gaps, mean 86400/N s, as gen_apache.py draws */
            double u = next_unit();
            t += -(86400.0 / N) * log(1.0 - u);
            s = start + (int64_t)t;
            if (next_unit() < 0.02)
                s -= 1 + (int64_t)(next_unit() * 30);
        }
        ms[i] = s * 1000 + (int64_t)(next_unit() * 1000);
    }
}

static void make_set(struct set *st, const char *name, int iso, int distinct)
{
    st->name = name;
    st->text = malloc((size_t)N * TEXT_MAX);
    st->len = malloc(N * sizeof *st->len);
    st->want = malloc(N * sizeof *st->want);
    if (st->text == NULL || st->len == NULL || st->want == NULL) {
        fprintf(stderr, "bench-date: out of memory\n");
        exit(1);
    }
    instants(st->want, distinct);
    for (size_t i = 0; i < N; i++) {
        int64_t ms = st->want[i];
        time_t local = (time_t)(ms / 1000 + 3600); /* at +01:00 */
        struct tm tm;
        gmtime_r(&local, &tm);
        char *p = st->text + i * TEXT_MAX;
        int n;
        if (iso) {
            n = snprintf(p, TEXT_MAX,
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03d+01:00",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        } else {
            n = snprintf(p, TEXT_MAX, "%02d/%s/%04d:%02d:%02d:%02d +0100",
                         tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
            st->want[i] = ms / 1000 * 1000; /* whole seconds */
        }
        st->len[i] = (size_t)n;
    }
}

/* strptime + timegm, and for ISO the fraction by hand. */
static int baseline(const char *s, int iso, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p =
        strptime(s, iso ? "%Y-%m-%dT%H:%M:%S" : "%d/%b/%Y:%H:%M:%S %z", &tm);
    if (p == NULL)
        return -1;
    int ms = 0;
    if (iso) {
        if (*p == '.' || *p == ',') {
            int n = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, n++)
                if (n < 3)
                    ms = ms * 10 + (*p - '0');
            for (; n < 3; n++)
                ms *= 10;
        }
        p = strptime(p, "%z", &tm);
        if (p == NULL)
            return -1;
    }
    if (*p != '\0')
        return -1;
    long off = tm.tm_gmtoff;
    *out = ((int64_t)timegm(&tm) - off) * 1000 + ms;
    return 0;
}

static volatile int64_t sink;

/* One pass; wall and CPU seconds. */
static void run(const struct set *st, int iso, int which, double *wall,
                double *cpu)
{
    const char *fmt[1] = {iso ? "ISO8601" : "dd/MMM/yyyy:HH:mm:ss Z"};
    struct sl_err err;
    struct sl_date *d = which ? sl_date_compile(fmt, 1, NULL, &err) : NULL;
    if (which && d == NULL) {
        fprintf(stderr, "bench-date: %s\n", err.msg);
        exit(1);
    }
    int64_t sum = 0, v = 0;
    double w0 = bench_seconds(CLOCK_MONOTONIC),
           c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < N; i++) {
        const char *s = st->text + i * TEXT_MAX;
        int rc =
            which ? sl_date_parse(d, s, st->len[i], &v) : baseline(s, iso, &v);
        sum += rc == 0 ? v : 1;
    }
    *cpu = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *wall = bench_seconds(CLOCK_MONOTONIC) - w0;
    sink = sum;
    sl_date_free(d);
}

static void check(const struct set *st, int iso)
{
    const char *fmt[1] = {iso ? "ISO8601" : "dd/MMM/yyyy:HH:mm:ss Z"};
    struct sl_date *d = sl_date_compile(fmt, 1, NULL, NULL);
    for (size_t i = 0; i < N; i++) {
        const char *s = st->text + i * TEXT_MAX;
        int64_t a = -1, b = -2;
        if (sl_date_parse(d, s, st->len[i], &a) != 0 ||
            baseline(s, iso, &b) != 0 || a != b || a != st->want[i]) {
            fprintf(stderr,
                    "bench-date: '%s': sl_date %lld, baseline %lld, want "
                    "%lld\n",
                    s, (long long)a, (long long)b, (long long)st->want[i]);
            exit(1);
        }
    }
    struct sl_date_stats stats;
    sl_date_get_stats(d, &stats);
    printf("%-22s checked: %d dates agree; sl_date cache hits %.1f%%\n",
           st->name, N, 100.0 * (double)stats.cache_hits / N);
    sl_date_free(d);
}

int main(int argc, char **argv)
{
    int runs = 5;
    if (argc == 3 && strcmp(argv[1], "--runs") == 0)
        runs = (int)strtol(argv[2], NULL, 10);
    if (runs < 1 || runs > 100) {
        fprintf(stderr, "usage: bench-date [--runs 1..100]\n");
        return 2;
    }
    struct set sets[4];
    make_set(&sets[0], "apache, log order", 0, 0);
    make_set(&sets[1], "apache, all distinct", 0, 1);
    make_set(&sets[2], "iso, log order", 1, 0);
    make_set(&sets[3], "iso, all distinct", 1, 1);
    for (int k = 0; k < 4; k++)
        check(&sets[k], k >= 2);
    printf("\n%-22s %-10s %10s %14s\n", "set", "parser", "ns/date",
           "CPU-s per 1M");
    for (int k = 0; k < 4; k++) {
        double wall[2][100], cpu[2][100];
        for (int r = 0; r < runs; r++)
            for (int which = 0; which < 2; which++)
                run(&sets[k], k >= 2, which, &wall[which][r], &cpu[which][r]);
        for (int which = 1; which >= 0; which--) {
            qsort(wall[which], (size_t)runs, sizeof(double), bench_cmp_double);
            qsort(cpu[which], (size_t)runs, sizeof(double), bench_cmp_double);
            printf("%-22s %-10s %10.1f %14.3f\n", sets[k].name,
                   which ? "sl_date" : "strptime",
                   wall[which][runs / 2] * 1e9 / N,
                   cpu[which][runs / 2] * 1e6 / N);
        }
    }
    for (int k = 0; k < 4; k++) {
        free(sets[k].text);
        free(sets[k].len);
        free(sets[k].want);
    }
    return 0;
}
