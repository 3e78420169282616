/* bench_registry.c: the cost of the shipper's registry with 100,000 entries
 * (shipper/registry.c): a restart (load), a save (the atomic write with its
 * two fsyncs, as after every acknowledged batch, rate-limited), the
 * serialisation alone, and the file size. A save split as a daemon does it
 * (shipper/registry_saver.h): what its loop pays (registry_snapshot_take,
 * alone and through registry_saver_submit), what the writer thread pays
 * (registry_snapshot_save: the text, the write and the two fsyncs), and the
 * time until the loop collects the outcome. For scale: reading the file and
 * counting its lines (the floor of any text format) and yajl with empty
 * callbacks (the floor of any JSON reader). Each figure is the median of
 * --runs runs, in a mkdtemp directory under --dir (default /tmp).
 *
 * Entries look like a year of hourly rotation across many services:
 * "/var/log/<service>/<service>.log.<n>", 64-bit inodes, full 1024-byte
 * fingerprints, offsets of a few MB, seen times spread over a week.
 *
 * Build (from the repository root, after building build/release):
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -Igrok \
 *       -Ishipper -Ishipper/input bench/bench_registry.c \
 *       build/release/shipper/libsluice_shipper_core.a \
 *       build/release/grok/libsluice_grok.a \
 *       build/release/common/libsluice_common.a \
 *       -lpcre2-8 -lyajl -llz4 -lzstd -lm -lpthread \
 *       -o bench/out/bin/bench-registry
 *   bench/out/bin/bench-registry --entries 100000 --runs 7
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "bench_clock.h"
#include "registry.h"
#include "registry_saver.h"

static void die(const char *what, const struct sl_err *err)
{
    fprintf(stderr, "bench-registry: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static struct registry *fill(size_t entries)
{
    static const char *const services[] = {"nginx",    "app",   "payments",
                                           "auth",     "cron",  "worker",
                                           "frontend", "kafka", "postgres"};
    struct registry_config cfg;
    registry_config_init(&cfg);
    struct sl_err err = {0};
    struct registry *r = registry_new(&cfg, &err);
    if (r == NULL)
        die("registry_new", &err);
    uint64_t x = 88172645463325252ull;
    char path[256];
    for (size_t i = 0; i < entries; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *svc = services[i % 9];
        snprintf(path, sizeof path, "/var/log/%s/%s.log.%zu", svc, svc, i / 9);
        /* a file read past its first KiB: a full fingerprint and a tail */
        struct file_identity id = {.dev = 2049,
                                   .ino = (1ull << 32) + i * 2654435761ull,
                                   .fp = x,
                                   .fp_len = 1024,
                                   .tail_len = 1024,
                                   .tail_at = 1024 + x % 50000000,
                                   .tail = x * 31};
        if (registry_add(r, &id, x * 0x9e3779b97f4a7c15ull, path, x % 50000000,
                         1763870000 + (int64_t)(x % 604800), &err) < 0)
            die("registry_add", &err);
    }
    return r;
}

/* yajl with no callbacks: what any JSON reader costs at least. */
static double yajl_only(const char *buf, size_t len)
{
    static const yajl_callbacks none;
    double t = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
    yajl_handle h = yajl_alloc(&none, NULL, NULL);
    if (yajl_parse(h, (const unsigned char *)buf, len) != yajl_status_ok ||
        yajl_complete_parse(h) != yajl_status_ok)
        die("yajl", NULL);
    yajl_free(h);
    return (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t;
}

/* read(2) and count lines: what any text format costs at least. */
static double read_only(const char *path, size_t *lines)
{
    double t = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
    int fd = open(path, O_RDONLY);
    static char buf[64 * 1024];
    ssize_t n;
    *lines = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
            (*lines)++;
    close(fd);
    return (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t;
}

/* One save through the writer thread: the time submit holds the loop, and
 * the time until the outcome is collected. */
static void saved_by_saver(struct registry_saver *saver,
                           const struct registry *r, double *submit_ms,
                           double *collect_ms)
{
    struct sl_err err = {0};
    uint64_t seq = 0;
    double t = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
    if (registry_saver_submit(saver, r, &seq, &err) < 0)
        die("registry_saver_submit", &err);
    *submit_ms = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t;
    struct registry_save_outcome o;
    for (;;) {
        struct pollfd pfd = {registry_saver_fd(saver), POLLIN, 0};
        if (poll(&pfd, 1, 10000) != 1)
            die("poll on the saver's fd", NULL);
        if (registry_saver_collect(saver, &o) == 1 && o.seq == seq)
            break;
    }
    if (o.result != REGISTRY_SAVED)
        die("saver", &o.err);
    *collect_ms = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t;
}

int main(int argc, char **argv)
{
    size_t entries = 100000;
    int runs = 7;
    const char *base = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--entries") == 0)
            entries = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
    }
    if (runs < 1 || runs > 100)
        runs = 7;
    char dir[512], path[600], tmp[610];
    snprintf(dir, sizeof dir, "%s/bench-registry.XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", NULL);
    snprintf(path, sizeof path, "%s/registry.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    double t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
    struct registry *r = fill(entries);
    double fill_ms = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;
    struct registry_config cfg;
    registry_config_init(&cfg);
    struct sl_err err = {0};
    double save[100], ser[100], load[100], yj[100], rd[100];
    double take[100], durable[100], submit[100], collect[100];
    struct registry_saver *saver = registry_saver_new(path, &err);
    if (saver == NULL)
        die("registry_saver_new", &err);
    size_t bytes = 0, lines = 0;
    for (int k = 0; k < runs; k++) {
        struct sl_buf b = SL_BUF_INIT((size_t)1 << 31);
        t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
        if (registry_write(r, &b, &err) < 0)
            die("registry_write", &err);
        ser[k] = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;
        bytes = b.len;
        yj[k] = yajl_only(b.ptr, b.len);
        sl_buf_release(&b);
        t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
        struct registry_snapshot *snap = registry_snapshot_take(r, &err);
        if (snap == NULL)
            die("registry_snapshot_take", &err);
        take[k] = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;
        t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
        if (registry_snapshot_save(snap, path, &err) != REGISTRY_SAVED)
            die("registry_snapshot_save", &err);
        durable[k] = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;
        registry_snapshot_free(snap);
        saved_by_saver(saver, r, &submit[k], &collect[k]);

        t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
        if (registry_save(r, path, &err) != REGISTRY_SAVED)
            die("registry_save", &err);
        save[k] = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;

        rd[k] = read_only(path, &lines);
        t0 = (bench_seconds(CLOCK_MONOTONIC) * 1e3);
        struct registry *back = registry_load(path, &cfg, NULL, &err);
        load[k] = (bench_seconds(CLOCK_MONOTONIC) * 1e3) - t0;
        if (back == NULL || registry_count(back) != registry_count(r))
            die("registry_load", &err);
        registry_free(back);
    }
    printf("entries            %zu (filled in %.1f ms)\n", registry_count(r),
           fill_ms);
    printf("file               %zu bytes (%.1f MB, %.0f bytes/entry), %zu "
           "lines\n",
           bytes, (double)bytes / 1e6, (double)bytes / (double)entries, lines);
    printf("load (restart)     %.1f ms\n", bench_median(load, runs));
    printf("save (atomic)      %.1f ms (registry_save, all on the caller)\n",
           bench_median(save, runs));
    printf("serialise only     %.2f ms (registry_write into memory)\n",
           bench_median(ser, runs));
    printf("snapshot (loop)    %.2f ms (registry_snapshot_take)\n",
           bench_median(take, runs));
    printf("durable (thread)   %.1f ms (registry_snapshot_save)\n",
           bench_median(durable, runs));
    printf("saver: loop pays   %.2f ms (registry_saver_submit)\n",
           bench_median(submit, runs));
    printf("saver: collected   %.1f ms after submit\n",
           bench_median(collect, runs));
    printf("yajl, no callbacks %.1f ms\n", bench_median(yj, runs));
    printf("read + count lines %.1f ms\n", bench_median(rd, runs));
    registry_saver_free(saver);
    registry_free(r);
    unlink(tmp);
    unlink(path);
    rmdir(dir);
    return 0;
}
