/* bench_batch.c: the cost of the stream entry format (common/sl_batch) per
 * codec, on real events: what one batch costs to encode in the shipper and
 * to decode in the indexer, how much smaller it gets, and, given a Redis,
 * what XADDing it costs the server.
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_batch.c common/sl_batch.c common/sl_buf.c \
 *       common/sl_err.c -llz4 -lzstd -lhiredis -o bench/out/bin/bench-batch
 *   bench/out/bin/bench-batch [--events FILE] [--batch N] [--redis HOST:PORT]
 *
 * FILE (default bench/out/batch_events.ndjson) holds one JSON event per
 * line, e.g. the 1M Apache lines through sluice-grok '%{HTTPD_COMBINEDLOG}'
 * (bench/README.md). Each configuration (none, lz4, zstd -1, 1, 3) runs in
 * a child process of its own, so its peak RSS is its own; the child streams
 * the file, N events (default 500) at a time, into a staging buffer (not
 * timed), then times with the process CPU clock:
 *   encode  sl_batch_writer_add of each event, seal, reset (the shipper)
 *   decode  sl_batch_reader_decode of the sealed fields and a walk over
 *           every event (the indexer)
 * and afterwards, untimed, checks every decoded event against the staged
 * one. With --redis, each sealed entry is also XADDed (redisCommandArgv) to
 * a scratch stream, and the server's used_cpu_user + used_cpu_sys and
 * used_memory from INFO before and after give its CPU per 1M events and the
 * memory the stream holds; the stream is deleted at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bench_clock.h"
#include "sl_batch.h"

struct config {
    const char *label;
    enum sl_codec codec;
    int level;
};

struct stats {
    size_t events, batches;
    size_t raw_bytes, payload_bytes, entry_bytes;
    double enc_s, dec_s;
    double redis_cpu_s;
    long long redis_mem;
};

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench-batch: %s: %s\n", what, msg);
    exit(1);
}

/* A number from the INFO reply: "name:value\r\n". */
static double info_field(redisContext *c, const char *section, const char *name)
{
    redisReply *r = redisCommand(c, "INFO %s", section);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        die("INFO", c->errstr[0] ? c->errstr : "unexpected reply");
    char key[64];
    snprintf(key, sizeof key, "\n%s:", name);
    const char *p = strstr(r->str, key);
    double v = p ? strtod(p + strlen(key), NULL) : -1;
    freeReplyObject(r);
    if (p == NULL)
        die("INFO", name);
    return v;
}

static double redis_cpu(redisContext *c)
{
    return info_field(c, "cpu", "used_cpu_user") +
           info_field(c, "cpu", "used_cpu_sys");
}

/* Staged events: the bytes of up to `batch` lines and where each starts. */
struct stage {
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t n;
};

static int stage_fill(struct stage *st, FILE *f, size_t batch)
{
    static char *line;
    static size_t linecap;
    ssize_t n;
    st->len = 0;
    st->n = 0;
    while (st->n < batch && (n = getline(&line, &linecap, f)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        if (st->len + (size_t)n > st->cap) {
            st->cap = (st->len + (size_t)n) * 2;
            st->buf = realloc(st->buf, st->cap);
            if (st->buf == NULL)
                die("staging", "out of memory");
        }
        memcpy(st->buf + st->len, line, (size_t)n);
        st->off[st->n++] = st->len;
        st->len += (size_t)n;
    }
    st->off[st->n] = st->len;
    return st->n > 0;
}

static void run(const struct config *cf, const char *path, size_t batch,
                redisContext *rc, struct stats *s)
{
    struct sl_err err = {0};
    struct sl_batch_writer *w = sl_batch_writer_new(
        "bench-host", cf->codec, cf->level, SL_BATCH_RAW_DEFAULT, &err);
    struct sl_batch_reader *r = sl_batch_reader_new(0, &err);
    if (w == NULL || r == NULL)
        die("init", err.msg);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path, "cannot open (make it as bench/README.md says)");
    struct stage st = {0};
    st.off = malloc((batch + 1) * sizeof *st.off);
    double cpu0 = rc ? redis_cpu(rc) : 0;
    double mem0 = rc ? info_field(rc, "memory", "used_memory") : 0;
    while (stage_fill(&st, f, batch)) {
        const char **argv;
        const size_t *argvlen;
        double t0 = bench_cpu_seconds();
        for (size_t i = 0; i < st.n; i++)
            if (sl_batch_writer_add(w, st.buf + st.off[i],
                                    st.off[i + 1] - st.off[i], &err) < 0)
                die("add", err.msg);
        if (sl_batch_writer_seal(w, &argv, &argvlen, &err) < 0)
            die("seal", err.msg);
        double t1 = bench_cpu_seconds();
        if (sl_batch_reader_decode(r, SL_BATCH_ARGC, argv, argvlen, &err) < 0)
            die("decode", err.msg);
        struct sl_slice ev;
        size_t walked = 0;
        while (sl_batch_reader_next(r, &ev))
            walked += ev.len;
        double t2 = bench_cpu_seconds();
        s->enc_s += t1 - t0;
        s->dec_s += t2 - t1;
        if (walked + st.n != sl_batch_writer_bytes(w))
            die("check", "decoded bytes differ");
        sl_batch_reader_rewind(r);
        for (size_t i = 0; sl_batch_reader_next(r, &ev); i++)
            if (!sl_slice_eq(ev, st.buf + st.off[i], st.off[i + 1] - st.off[i]))
                die("check", "a decoded event differs from the written one");
        if (rc != NULL) {
            const char *xa[3 + SL_BATCH_ARGC] = {"XADD", "bench:batch", "*"};
            size_t xl[3 + SL_BATCH_ARGC] = {4, 11, 1};
            memcpy(xa + 3, argv, sizeof(char *) * SL_BATCH_ARGC);
            memcpy(xl + 3, argvlen, sizeof(size_t) * SL_BATCH_ARGC);
            redisReply *rep = redisCommandArgv(rc, 3 + SL_BATCH_ARGC, xa, xl);
            if (rep == NULL || rep->type != REDIS_REPLY_STRING)
                die("XADD", rep ? rep->str : rc->errstr);
            freeReplyObject(rep);
        }
        s->events += st.n;
        s->batches++;
        s->raw_bytes += sl_batch_writer_bytes(w);
        s->payload_bytes += argvlen[SL_BATCH_ARGC - 1];
        for (int i = 0; i < SL_BATCH_ARGC; i++)
            s->entry_bytes += argvlen[i];
        sl_batch_writer_reset(w);
    }
    if (rc != NULL) {
        s->redis_cpu_s = redis_cpu(rc) - cpu0;
        s->redis_mem =
            (long long)(info_field(rc, "memory", "used_memory") - mem0);
        freeReplyObject(redisCommand(rc, "DEL bench:batch"));
    }
    fclose(f);
    free(st.buf);
    free(st.off);
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

static void report(const struct config *cf, const struct stats *s, bool redis)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double per = 1e6 / (double)s->events;
    printf("%-8s %8zu %7zu %7.1f %7.1f %6.2f %8.3f %8.3f %7.1f", cf->label,
           s->events, s->batches, (double)s->raw_bytes / 1e6,
           (double)s->payload_bytes / 1e6,
           (double)s->raw_bytes / (double)s->payload_bytes, s->enc_s * per,
           s->dec_s * per, (double)ru.ru_maxrss / 1024);
    if (redis)
        printf(" %8.3f %9.1f", s->redis_cpu_s * per,
               (double)s->redis_mem / 1e6);
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *path = "bench/out/batch_events.ndjson";
    const char *redis = NULL;
    size_t batch = 500;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--redis") == 0 && i + 1 < argc)
            redis = argv[++i];
        else
            die("usage", "bench-batch [--events FILE] [--batch N] "
                         "[--redis HOST:PORT]");
    }
    if (batch == 0)
        die("--batch", "expected a number of events, at least 1");
    static const struct config configs[] = {{"none", SL_CODEC_NONE, 0},
                                            {"lz4", SL_CODEC_LZ4, 1},
                                            {"zstd-1", SL_CODEC_ZSTD, -1},
                                            {"zstd1", SL_CODEC_ZSTD, 1},
                                            {"zstd3", SL_CODEC_ZSTD, 3}};
    printf("%zu events per entry, from %s; CPU-seconds per 1M events\n", batch,
           path);
    printf("%-8s %8s %7s %7s %7s %6s %8s %8s %7s%s\n", "codec", "events",
           "entries", "raw MB", "pay MB", "ratio", "encode", "decode",
           "rss MiB", redis ? "  srv cpu  srv MB" : "");
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", "failed");
        if (pid == 0) {
            struct stats s = {0};
            redisContext *rc = NULL;
            if (redis != NULL) {
                char host[256];
                const char *colon = strrchr(redis, ':');
                if (colon == NULL || (size_t)(colon - redis) >= sizeof host)
                    die("--redis", "expected HOST:PORT");
                memcpy(host, redis, (size_t)(colon - redis));
                host[colon - redis] = '\0';
                rc = redisConnect(host, (int)strtol(colon + 1, NULL, 10));
                if (rc == NULL || rc->err)
                    die(redis, rc ? rc->errstr : "out of memory");
            }
            run(&configs[k], path, batch, rc, &s);
            report(&configs[k], &s, rc != NULL);
            redisFree(rc);
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            die(configs[k].label, "the run failed");
    }
    return 0;
}
