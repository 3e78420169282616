/* bench_in_file.c: the cost of the shipper's file input
 * (shipper/input/in_file): N files of L access-log lines each in a mkdtemp
 * directory under --dir, read to their ends under a descriptor limit of
 * 512 (the default), every chunk acked at once as if Redis had answered.
 * It prints the CPU-seconds of the first scan (walk, stat, records), of
 * reading everything (open, identify, registry_add, pread, ack), of a
 * rescan that finds nothing new (stat of every file, the first bytes of
 * the open ones), and the peak RSS. Files are in the page cache: this is
 * the input's own cost, not the disk's.
 *
 * Build (from the repository root, after building build/release):
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -Igrok \
 *       -Ishipper -Ishipper/input bench/bench_in_file.c \
 *       build/release/shipper/libsluice_shipper_core.a \
 *       build/release/grok/libsluice_grok.a \
 *       build/release/common/libsluice_common.a \
 *       -lpcre2-8 -lyajl -llz4 -lzstd -lm -lpthread \
 *       -o bench/out/bin/bench-in-file
 *   bench/out/bin/bench-in-file --files 10000 --lines 10
 *   bench/out/bin/bench-in-file --files 1 --lines 1000000
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "in_file.h"
#include "registry.h"
#include "sl_file.h"

static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_in_file: %s: %s\n", what, why);
    exit(1);
}

/* Writes the files; returns their bytes. */
static size_t make_files(const char *dir, long files, long lines)
{
    char path[1024], line[256];
    size_t total = 0;
    for (long i = 0; i < files; i++) {
        snprintf(path, sizeof path, "%s/f%06ld.log", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            die("open", path);
        for (long j = 0; j < lines; j++) {
            int n = snprintf(line, sizeof line,
                             "127.0.0.1 - - [04/Dec/2026:17:00:00 +0000] "
                             "\"GET /x/%ld/%ld HTTP/1.1\" 200 512\n",
                             i, j);
            if (sl_file_write_all(fd, line, (size_t)n) < 0)
                die("write", path);
            total += (size_t)n;
        }
        close(fd);
    }
    return total;
}

static void remove_files(const char *dir, long files)
{
    char path[1024];
    for (long i = 0; i < files; i++) {
        snprintf(path, sizeof path, "%s/f%06ld.log", dir, i);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    long files = 10000, lines = 10;
    const char *base = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--files") == 0)
            files = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--lines") == 0)
            lines = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            base = argv[i + 1];
    }
    char dir[512], pat[600];
    snprintf(dir, sizeof dir, "%s/bench-in-file.XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", dir);
    size_t want = make_files(dir, files, lines);
    snprintf(pat, sizeof pat, "%s/*.log", dir);
    const char *paths[] = {pat};
    struct registry_config rc;
    registry_config_init(&rc);
    struct sl_err err = {0};
    struct registry *reg = registry_new(&rc, &err);
    struct in_file_config cfg;
    in_file_config_defaults(&cfg, paths, 1);
    struct in_file *in = in_file_new(&cfg, reg, "bench", NULL, &err);
    if (reg == NULL || in == NULL)
        die("setup", err.msg);
    double c0 = cpu_s();
    in_file_process(in, NULL, 0, mono_ms());
    double scan = cpu_s() - c0;
    size_t got = 0;
    struct in_file_chunk c;
    while (got < want) {
        in_file_process(in, NULL, 0, mono_ms());
        while (in_file_read(in, 1 << 20, mono_ms(), &c, &err) == 1) {
            if (c.kind != IN_FILE_DATA)
                continue;
            got += c.len;
            if (registry_ack(reg, &c.id, c.src->key, NULL, c.offset + c.len,
                             (int64_t)time(NULL), &err) < 0)
                die("registry_ack", err.msg);
        }
    }
    double all = cpu_s() - c0;
    double c1 = cpu_s();
    in_file_rescan(in);
    in_file_process(in, NULL, 0, mono_ms());
    double rescan = cpu_s() - c1;
    struct in_file_stats st;
    in_file_stats(in, &st);
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("%ld files, %zu bytes: first scan %.3f CPU-s, everything read "
           "%.3f CPU-s (%.0f MB/s), a rescan %.3f CPU-s; %zu descriptors "
           "held; peak RSS %ld KiB\n",
           files, want, scan, all, all > 0 ? (double)want / all / 1e6 : 0.0,
           rescan, st.open, u.ru_maxrss);
    in_file_free(in);
    registry_free(reg);
    remove_files(dir, files);
    return 0;
}
