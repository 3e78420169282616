/* bench_multiline.c: lines per second through the multiline joiner
 * (shipper/framing/multiline) on a Python application log of 1M lines in
 * which 5% of the records carry a traceback (a simple one, or a chained one
 * with "During handling ..."), made in memory by a seeded generator.
 *
 *   cmake --build build/release --target sluice_shipper_core
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -Igrok \
 *       -Ishipper/framing bench/bench_multiline.c \
 *       build/release/shipper/libsluice_shipper_core.a \
 *       build/release/grok/libsluice_grok.a \
 *       build/release/common/libsluice_common.a \
 *       -lpcre2-8 -lyajl -llz4 -lzstd -lm -o bench/out/bin/bench-multiline
 *   bench/out/bin/bench-multiline [--lines N] [--runs N] [--trim 1]
 *
 * The log is cut into lines (offsets) before timing; each run times, with
 * the process CPU clock, multiline_push of every line plus the final flush,
 * with a consumer that drains (multiline_peek, multiline_pop) after each
 * push and only counts. Configurations: the python
 * preset; pattern mode `^%{TIMESTAMP_ISO8601} ` with negate (what a user
 * would write instead, one PCRE2 JIT match per line); pattern `\\$` with
 * match before (no line ends in a backslash: each line is an event,
 * complete at once); and a loop that only walks the lines, for scale.
 * --trim 1 calls multiline_trim after every drain, as the shipper does
 * once a drain: a drain per line is its worst case (with `\\$ before`,
 * nothing is open after any line, so every buffer is freed and grown
 * again each line). Prints the median of the runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "multiline.h"

struct text {
    char *buf;
    size_t len, cap;
    size_t *off; /* line starts */
    size_t *end; /* line lengths */
    size_t n, ncap;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap || t->n == t->ncap) {
        t->cap = t->cap * 2 + n + 4096;
        t->ncap = t->ncap * 2 + 1024;
        t->buf = realloc(t->buf, t->cap);
        t->off = realloc(t->off, t->ncap * sizeof *t->off);
        t->end = realloc(t->end, t->ncap * sizeof *t->end);
        if (t->buf == NULL || t->off == NULL || t->end == NULL) {
            fprintf(stderr, "bench-multiline: out of memory\n");
            exit(1);
        }
    }
    t->off[t->n] = t->len;
    t->end[t->n++] = n;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len++] = '\n';
}

static void traceback(struct text *t, const char *exc)
{
    char line[256];
    add(t, "Traceback (most recent call last):");
    for (uint32_t i = 0, n = 2 + rnd(4); i < n; i++) {
        snprintf(line, sizeof line,
                 "  File \"/srv/app/module%u.py\", line %u, in handler_%u",
                 rnd(40), 1 + rnd(900), rnd(100));
        add(t, line);
        snprintf(line, sizeof line, "    result = service.call(request, %u)",
                 rnd(1000));
        add(t, line);
    }
    add(t, exc);
}

static void generate(struct text *t, size_t lines)
{
    static const char *const level[] = {"INFO", "INFO", "INFO", "WARNING",
                                        "DEBUG"};
    char line[256];
    unsigned s = 0;
    while (t->n < lines) {
        bool tb = rnd(100) < 5;
        s++;
        snprintf(line, sizeof line,
                 "2026-11-23 %02u:%02u:%02u,%03u %s app.worker%u: processed "
                 "request %u in %u ms",
                 s / 3600 % 24, s / 60 % 60, s % 60, rnd(1000),
                 tb ? "ERROR" : level[rnd(5)], rnd(8), rnd(1000000), rnd(500));
        add(t, line);
        if (!tb)
            continue;
        if (rnd(4) == 0) {
            traceback(t, "ConnectionResetError: [Errno 104] Connection "
                         "reset by peer");
            add(t, "");
            add(t, "During handling of the above exception, another "
                   "exception occurred:");
            add(t, "");
        }
        traceback(t, "app.errors.ServiceError: upstream failed");
    }
}

static uint64_t events;
static bool trim;

static void drain(struct multiline *ml)
{
    struct multiline_event ev;
    while (multiline_peek(ml, &ev)) {
        events++;
        multiline_pop(ml);
    }
    if (trim)
        multiline_trim(ml);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One timed pass; NULL cfg: only walk the lines. */
static double run(const struct text *t, const struct multiline_config *cfg)
{
    struct sl_err err = {0};
    struct multiline *ml = NULL;
    if (cfg != NULL && (ml = multiline_new(cfg, &err)) == NULL) {
        fprintf(stderr, "bench-multiline: %s\n", err.msg);
        exit(1);
    }
    events = 0;
    volatile size_t sink = 0;
    double t0 = bench_cpu_seconds();
    for (size_t i = 0; i < t->n; i++) {
        struct multiline_line l = {t->buf + t->off[i], t->end[i], t->off[i],
                                   t->off[i] + t->end[i] + 1, false};
        if (ml != NULL) {
            if (!multiline_push(ml, &l, i / 1000))
                abort(); /* drained after each push: never refused */
            drain(ml);
        } else {
            sink += l.len;
        }
    }
    if (ml != NULL) {
        multiline_flush(ml);
        drain(ml);
    }
    double dt = bench_cpu_seconds() - t0;
    multiline_free(ml);
    return dt;
}

int main(int argc, char **argv)
{
    size_t lines = 1000000;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--lines") == 0)
            lines = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--trim") == 0)
            trim = strcmp(argv[i + 1], "0") != 0;
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    struct text t = {0};
    generate(&t, lines);

    struct sl_err err = {0};
    char dir[GROK_DIR_MAX];
    struct grok_library *lib = grok_library_new();
    if (grok_builtin_dir("v1", dir, sizeof dir, &err) < 0 || lib == NULL ||
        grok_library_load_dir(lib, dir, &err) < 0) {
        fprintf(stderr, "bench-multiline: %s\n", err.msg);
        return 1;
    }
    struct multiline_config py, pat, each;
    multiline_config_init(&py);
    py.preset = "python";
    multiline_config_init(&pat);
    pat.pattern = "^%{TIMESTAMP_ISO8601} ";
    pat.negate = true;
    pat.patterns = lib;
    multiline_config_init(&each);
    each.pattern = "\\\\$";
    each.match = "before";
    struct {
        const char *name;
        const struct multiline_config *cfg;
    } cases[] = {{"walk the lines only", NULL},
                 {"preset python", &py},
                 {"pattern ^%{TIMESTAMP_ISO8601} negate", &pat},
                 {"pattern \\\\$ before (a line an event)", &each}};

    printf("%zu lines, %.1f MB%s\n", t.n, (double)t.len / 1e6,
           trim ? ", multiline_trim after every drain" : "");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double dt[99];
        for (int r = 0; r < runs; r++)
            dt[r] = run(&t, cases[c].cfg);
        qsort(dt, (size_t)runs, sizeof dt[0], cmp);
        double med = dt[runs / 2];
        printf("%-40s %8.3f s  %6.1f M lines/s  %6.1f ns/line  %llu events\n",
               cases[c].name, med, (double)t.n / med / 1e6,
               med * 1e9 / (double)t.n, (unsigned long long)events);
    }
    grok_library_free(lib);
    free(t.buf);
    free(t.off);
    free(t.end);
    return 0;
}
