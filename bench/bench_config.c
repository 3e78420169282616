/* bench_config.c: the cost of loading a config written on one long line
 * (common/sl_config.c), as a generator or a minifier writes it. Two shapes
 * of the same size: an object of string fields ("k00001": "value-00001", ...,
 * about 26 bytes a member, two tokens) and an array of small integers (about
 * 4 bytes a token, the most tokens per byte). Each figure is the median of
 * --runs loads, in CPU seconds; the same text with a newline after every
 * member is timed too, since a line's length, not the file's, was what made
 * loading quadratic (the column was recounted from the line's start for
 * every token).
 *
 * Build (from the repository root, after building build/release):
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_config.c build/release/common/libsluice_common.a \
 *       -lyajl -llz4 -lzstd -lm -o bench/out/bin/bench-config
 *   bench/out/bin/bench-config --bytes 327680 --runs 5
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "sl_config.h"

struct text {
    char *buf;
    size_t len, cap;
};

static void add(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (t->buf == NULL) {
            fprintf(stderr, "bench-config: out of memory\n");
            exit(1);
        }
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* {"fields": {"k00000": "value-00000", ...}} of about size bytes; sep goes
 * between members (" " for one line, "\n" for one member a line). */
static struct text fields(size_t size, const char *sep)
{
    struct text t = {0};
    char m[64];
    add(&t, "{\"fields\": {", 12);
    for (unsigned i = 0; t.len + 40 < size; i++) {
        int n = snprintf(m, sizeof m, "%s\"k%05u\": \"value-%05u\"",
                         i > 0 ? "," : "", i, i);
        add(&t, m, (size_t)n);
        add(&t, sep, strlen(sep));
    }
    add(&t, "}}", 2);
    return t;
}

/* {"a": [1, 2, ...]} of about size bytes. */
static struct text numbers(size_t size, const char *sep)
{
    struct text t = {0};
    char m[32];
    add(&t, "{\"a\": [", 7);
    for (unsigned i = 0; t.len + 16 < size; i++) {
        int n = snprintf(m, sizeof m, "%s%u", i > 0 ? "," : "", i % 100);
        add(&t, m, (size_t)n);
        add(&t, sep, strlen(sep));
    }
    add(&t, "]}", 2);
    return t;
}

static double time_load(const struct text *t, int runs)
{
    double v[64];
    for (int r = 0; r < runs; r++) {
        struct sl_err err;
        double t0 = bench_cpu_seconds();
        struct sl_config *c =
            sl_config_load_buffer("bench.json", t->buf, t->len, &err);
        v[r] = bench_cpu_seconds() - t0;
        if (c == NULL) {
            fprintf(stderr, "bench-config: %s\n", err.msg);
            exit(1);
        }
        sl_config_free(c);
    }
    return bench_median(v, runs);
}

int main(int argc, char **argv)
{
    size_t size = 320 * 1024;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bytes") == 0)
            size = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (runs < 1 || runs > 64) {
        fprintf(stderr, "bench-config: --runs goes from 1 to 64\n");
        return 2;
    }
    static const struct {
        const char *name;
        struct text (*make)(size_t, const char *);
    } shapes[] = {{"fields", fields}, {"numbers", numbers}};
    printf("%-8s %-16s %10s %10s\n", "shape", "layout", "bytes", "cpu-s");
    for (size_t s = 0; s < 2; s++) {
        for (int many = 0; many < 2; many++) {
            struct text t = shapes[s].make(size, many ? "\n" : " ");
            printf("%-8s %-16s %10zu %10.4f\n", shapes[s].name,
                   many ? "a line a member" : "one line", t.len,
                   time_load(&t, runs));
            free(t.buf);
        }
    }
    return 0;
}
