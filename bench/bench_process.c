/* bench_process.c: CPU per 1M lines through the shipper's processor chain
 * (shipper/process) as DESIGN.md's example config has it, grok
 * %{HTTPD_COMBINEDLOG} then date "dd/MMM/yyyy:HH:mm:ss Z", against grok
 * alone through the same chain, on the Apache corpus of gen_apache.py.
 *
 *   cmake --build build/release --target sluice_shipper_core sluice-grok
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon -Igrok \
 *       -Ishipper/process bench/bench_process.c \
 *       build/release/shipper/libsluice_shipper_core.a \
 *       build/release/grok/libsluice_grok.a \
 *       build/release/common/libsluice_common.a \
 *       -lpcre2-8 -lyajl -llz4 -lzstd -lm -lpthread -o
 * bench/out/bin/bench-process bench/out/bin/bench-process
 * bench/out/apache_combined.log [--runs N]
 *
 * The file is read into memory and cut into lines first. A run times, with
 * the process CPU clock, what the shipper will do per line: reset the
 * event (and the arena every 500 events, a batch), put "@timestamp" and
 * "message", run the chain, write the event's JSON into a 1 MiB buffer
 * emptied when full (sluice-grok writes its output to /dev/null in the
 * comparison: the same work but the write calls). Prints the median of the
 * runs. Compare with `sluice-grok '%{HTTPD_COMBINEDLOG}' FILE >/dev/null`
 * (user + sys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "process.h"
#include "sl_config.h"
#include "sl_file.h"

static const char *const configs[][2] = {
    {"none", "{\"p\": []}"},
    {"grok",
     "{\"p\": [{\"grok\": {\"patterns\": [\"%{HTTPD_COMBINEDLOG}\"]}}]}"},
    {"grok+date",
     "{\"p\": [{\"grok\": {\"patterns\": [\"%{HTTPD_COMBINEDLOG}\"]}},"
     " {\"date\": {\"field\": \"timestamp\", \"formats\": "
     "[\"dd/MMM/yyyy:HH:mm:ss Z\"]}}]}"},
};

static double run(struct proc_chain *c, const char *text, size_t len,
                  size_t *events, size_t *bytes)
{
    struct sl_arena *a = sl_arena_new(64 * 1024);
    struct sl_event ev;
    struct sl_buf out;
    struct sl_err err;
    sl_event_init(&ev, a);
    sl_buf_init(&out, 2 << 20);
    *events = *bytes = 0;
    double t0 = bench_cpu_seconds();
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (*events % 500 == 0)
            sl_arena_reset(a);
        sl_event_reset(&ev);
        int64_t ts = 1795428000000LL;
        if (sl_event_put_top(&ev, "@timestamp", SL_VALUE_STRING, "", 0, &err) <
                0 ||
            sl_event_put_top(&ev, "message", SL_VALUE_STRING, p, n, &err) < 0)
            abort();
        if (proc_chain_run(c, &ev, &ts) == PROC_KEEP) {
            if (out.len > (1 << 20)) {
                *bytes += out.len;
                sl_buf_reset(&out);
            }
            if (sl_event_write_json(&ev, &out, &err) < 0 ||
                sl_buf_append_char(&out, '\n', &err) < 0)
                abort();
        }
        (*events)++;
        p += n + 1;
    }
    double t = bench_cpu_seconds() - t0;
    *bytes += out.len;
    sl_buf_release(&out);
    sl_arena_free(a);
    return t;
}

int main(int argc, char **argv)
{
    int runs = 3;
    if (argc < 2) {
        fprintf(stderr, "usage: bench-process FILE [--runs N]\n");
        return 2;
    }
    if (argc == 4 && strcmp(argv[2], "--runs") == 0) {
        long r = strtol(argv[3], NULL, 10);
        runs = r > 0 && r <= 16 ? (int)r : 1;
    }
    struct sl_buf text;
    struct sl_err err;
    sl_buf_init(&text, (size_t)1 << 31);
    if (sl_file_read(argv[1], "corpus", (size_t)1 << 31, &text, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        const char *doc = configs[k][1];
        struct sl_config *cfg =
            sl_config_load_buffer("bench", doc, strlen(doc), &err);
        struct proc_chain *c =
            cfg ? proc_chain_new(sl_config_get(sl_config_root(cfg), "p"), NULL,
                                 NULL, &err)
                : NULL;
        if (c == NULL) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double t[16];
        size_t events = 0, bytes = 0;
        for (int r = 0; r < runs && r < 16; r++)
            t[r] = run(c, text.ptr, text.len, &events, &bytes);
        double med = bench_median(t, runs < 16 ? runs : 16);
        printf("%-10s %zu events, %.1f MB of JSON: %.3f CPU-s, %.3f per 1M "
               "lines\n",
               configs[k][0], events, (double)bytes / 1e6, med,
               med * 1e6 / (double)events);
        proc_chain_free(c);
        sl_config_free(cfg);
    }
    sl_buf_release(&text);
    return 0;
}
