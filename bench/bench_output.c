/* bench_output.c: what the shipper's Redis output (shipper/output/) costs
 * the shipper and the Redis server per 1M small events, in stream mode,
 * with the default batch settings, per codec.
 *
 *   cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
 *   cmake --build build/release --target sluice_shipper_core
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       -Ishipper -Ishipper/output bench/bench_output.c \
 *       build/release/shipper/libsluice_shipper_core.a \
 *       build/release/grok/libsluice_grok.a \
 *       build/release/common/libsluice_common.a \
 *       -lhiredis -llz4 -lzstd -lyajl -lpcre2-8 -lz -lm -lpthread \
 *       -o bench/out/bin/bench-output
 *   redis-server --port 16392 --bind 127.0.0.1 --save '' --appendonly no &
 *   bench/out/bin/bench-output --redis 127.0.0.1:16392 [--events N]
 *       [--runs N] [--codec none|lz4|zstd]
 *
 * Events: 4096 JSON texts of about 190 bytes (an access-log-like message,
 * @timestamp, host.name, log.offset), made before timing and handed over
 * in turn, each with the id sl_event_id gives its offset and its own time.
 * Each run is a child process (its peak RSS is its own) that drives the
 * output as the daemon's loop will: take the acknowledgements, hand over
 * events while output_has_room(), poll, process, until every event is
 * acknowledged. Timed with the process CPU clock and the wall clock:
 *   shipper  everything above, ids included: CPU-s per 1M events
 *   base     the same ids and the same copies of the JSON into a buffer,
 *            without the output: what a pipeline pays anyway
 *   Redis    used_cpu_user + used_cpu_sys from INFO, before and after
 * The defaults are the shipper's (batch_events 2000, batch_bytes 2MiB,
 * batch_age 1s, max_in_flight 4, max_pending 2000, checked by XLEN once a
 * second); the stream is deleted after each run. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bench_clock.h"
#include "output.h"
#include "sl_event_id.h"
#include "sl_log.h"

#define NJSON 4096
#define TS0   1764806400000LL

static char *json[NJSON];
static size_t json_len[NJSON];

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-output: %s: %s\n", what, why);
    exit(1);
}

static void make_events(void)
{
    static const char *const paths[] = {"/", "/index.html", "/api/v1/items",
                                        "/static/app.js", "/login"};
    for (int i = 0; i < NJSON; i++) {
        char buf[512];
        int n = snprintf(
            buf, sizeof buf,
            "{\"@timestamp\":\"2025-12-04T00:%02d:%02d.%03dZ\",\"message\":"
            "\"10.0.%d.%d - - GET %s?id=%d HTTP/1.1 %d %d\",\"host\":"
            "{\"name\":\"bench-host\"},\"log\":{\"offset\":%d}}",
            i / 60 % 60, i % 60, i % 1000, i % 256, i * 7 % 256, paths[i % 5],
            i * 31, i % 17 == 0 ? 404 : 200, 100 + i * 13 % 9000, i * 190);
        json[i] = strdup(buf);
        json_len[i] = (size_t)n;
    }
}

static double redis_cpu(redisContext *c, double *mem)
{
    redisReply *r = redisCommand(c, "INFO");
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        die("INFO", c->errstr[0] ? c->errstr : "unexpected reply");
    double user = 0, sys = 0;
    const char *p = strstr(r->str, "used_cpu_user:");
    const char *q = strstr(r->str, "used_cpu_sys:");
    const char *m = strstr(r->str, "used_memory:");
    if (p == NULL || q == NULL || m == NULL)
        die("INFO", "no used_cpu_user, used_cpu_sys or used_memory");
    user = strtod(p + 14, NULL);
    sys = strtod(q + 13, NULL);
    *mem = strtod(m + 12, NULL);
    freeReplyObject(r);
    return user + sys;
}

/* What the pipeline pays anyway: ids and the JSON copied into a buffer. */
static double base_cpu(long events)
{
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "bench-host", 10, "filekey1", 8);
    static char buf[1 << 16];
    size_t at = 0;
    unsigned long sum = 0;
    double t0 = bench_cpu_seconds();
    for (long i = 0; i < events; i++) {
        char id[SL_EVENT_ID_LEN + 1];
        sl_event_id_make(&src, (uint64_t)i * 190, id);
        size_t k = (size_t)i % NJSON;
        if (at + json_len[k] + 64 > sizeof buf)
            at = 0;
        memcpy(buf + at, id, SL_EVENT_ID_LEN);
        memcpy(buf + at + SL_EVENT_ID_LEN, json[k], json_len[k]);
        at += SL_EVENT_ID_LEN + json_len[k];
        sum += (unsigned char)buf[at - 1];
    }
    double t = bench_cpu_seconds() - t0;
    if (sum == 42)
        printf(" ");
    return t;
}

struct result {
    double cpu, wall, redis, base, mem, payload;
    long entries, rss_kib;
};

static void hand_over(struct output *o, struct sl_event_id_source *src, long i)
{
    struct sl_err err = {0};
    char id[SL_EVENT_ID_LEN + 1];
    sl_event_id_make(src, (uint64_t)i * 190, id);
    struct sl_buf *b = output_begin(o, id, SL_EVENT_ID_LEN, TS0 + i, &err);
    size_t k = (size_t)i % NJSON;
    if (b == NULL || sl_buf_append(b, json[k], json_len[k], &err) < 0)
        die("begin", err.msg);
    struct output_mark m = {1, (uint64_t)(i + 1) * 190};
    if (output_commit(o, &m, &err) < 0)
        die("commit", err.msg);
}

static void drive(struct output *o, long events)
{
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "bench-host", 10, "filekey1", 8);
    long next = 0, acked = 0;
    for (;;) {
        struct output_ack ack;
        while (output_next_ack(o, &ack) == 1)
            acked += (long)ack.events;
        if (acked == events && output_idle(o))
            break;
        while (next < events && output_has_room(o))
            hand_over(o, &src, next++);
        if (next == events)
            output_flush(o);
        struct pollfd p[OUTPUT_MAX_POLLFDS];
        size_t n = output_fill_pollfds(o, p, OUTPUT_MAX_POLLFDS);
        poll(p, n, output_timeout_ms(o));
        output_process(o, p, n);
    }
}

static void run(const char *host, int port, enum sl_codec codec, long events,
                int fd)
{
    char url[300];
    snprintf(url, sizeof url, "redis://%s:%d/0", host, port);
    redisContext *c = redisConnect(host, port);
    if (c == NULL || c->err)
        die("connect", c != NULL ? c->errstr : "out of memory");
    struct output_config cfg;
    output_config_defaults(&cfg);
    cfg.kind = OUTPUT_REDIS_STREAM;
    cfg.url = url;
    cfg.key = "bench:output";
    cfg.host = "bench-host";
    cfg.codec = codec;
    cfg.max_pending = 2000;
    struct sl_err err = {0};
    struct output *o = output_new(&cfg, NULL, &err);
    if (o == NULL)
        die("output_new", err.msg);
    struct result res = {0};
    res.base = base_cpu(events);
    double mem0, mem1;
    double r0 = redis_cpu(c, &mem0);
    double w0 = bench_seconds(CLOCK_MONOTONIC), c0 = bench_cpu_seconds();
    drive(o, events);
    res.cpu = bench_cpu_seconds() - c0;
    res.wall = bench_seconds(CLOCK_MONOTONIC) - w0;
    res.redis = redis_cpu(c, &mem1) - r0;
    res.mem = mem1 - mem0;
    struct output_stats st;
    output_stats(o, &st);
    res.entries = (long)st.batches;
    res.payload = (double)st.bytes;
    output_free(o);
    freeReplyObject(redisCommand(c, "DEL bench:output"));
    redisFree(c);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    res.rss_kib = ru.ru_maxrss;
    if (write(fd, &res, sizeof res) != (ssize_t)sizeof res)
        die("write", "pipe");
}

static struct result run_child(const char *host, int port, enum sl_codec codec,
                               long events, long *rss_kib)
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe", "failed");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        run(host, port, codec, events, p[1]);
        _exit(0);
    }
    close(p[1]);
    struct result res;
    if (read(p[0], &res, sizeof res) != (ssize_t)sizeof res)
        die("child", "no result");
    close(p[0]);
    waitpid(pid, NULL, 0);
    *rss_kib = res.rss_kib;
    return res;
}

int main(int argc, char **argv)
{
    const char *redis = NULL, *only = NULL;
    long events = 1000000;
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--redis") == 0)
            redis = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--codec") == 0)
            only = argv[i + 1];
    }
    if (redis == NULL || strchr(redis, ':') == NULL || runs < 1 || runs > 15)
        die("usage", "--redis HOST:PORT [--events N] [--runs N] [--codec C]");
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(strchr(redis, ':') - redis),
             redis);
    int port = (int)strtol(strchr(redis, ':') + 1, NULL, 10);
    sl_log_init(getenv("BENCH_DEBUG") != NULL ? SL_LOG_DEBUG : SL_LOG_WARN,
                SL_LOG_TEXT);
    make_events();
    double scale = 1e6 / (double)events;
    printf("codec  shipper CPU-s/1M  base  output only  Redis CPU-s/1M  wall "
           "s/1M  entries  payload MB/1M  Redis MB/1M  peak RSS MiB\n");
    for (int k = SL_CODEC_NONE; k <= SL_CODEC_ZSTD; k++) {
        if (only != NULL && strcmp(only, sl_codec_name(k)) != 0)
            continue;
        double cpu[15], base[15], red[15], wall[15], mem[15], rss[15];
        struct result r = {0};
        for (int i = 0; i < runs; i++) {
            long kib;
            r = run_child(host, port, (enum sl_codec)k, events, &kib);
            cpu[i] = r.cpu * scale;
            base[i] = r.base * scale;
            red[i] = r.redis * scale;
            wall[i] = r.wall * scale;
            mem[i] = r.mem * scale / 1e6;
            rss[i] = (double)kib / 1024.0;
        }
        double c = bench_median(cpu, runs), b = bench_median(base, runs);
        printf("%-5s  %16.3f  %4.3f  %11.3f  %14.3f  %9.3f  %7ld  %13.1f  "
               "%11.1f  %12.1f\n",
               sl_codec_name(k), c, b, c - b, bench_median(red, runs),
               bench_median(wall, runs), r.entries, r.payload * scale / 1e6,
               bench_median(mem, runs), bench_median(rss, runs));
        fflush(stdout);
    }
    return 0;
}
