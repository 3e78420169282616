/* bench_batch.c: the cost of the stream entry format (common/sl_batch,
 * format 2) per codec, on real events: what one batch costs to encode in
 * the shipper and to decode in the indexer, how much smaller it gets, and,
 * given a Redis, what XADDing it costs the server. Beside it, a prototype
 * of the layout format 2 did not take, to compare the two.
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_batch.c common/sl_batch.c common/sl_event_id.c \
 *       common/sl_buf.c common/sl_err.c common/sl_text.c common/sl_json.c \
 *       -llz4 -lzstd -lhiredis -lm -o bench/out/bin/bench-batch
 *   bench/out/bin/bench-batch [--events FILE] [--batch N] [--redis HOST:PORT]
 *
 * FILE (default bench/out/batch_events.ndjson) holds one JSON event per
 * line, e.g. the 1M Apache lines through sluice-grok '%{HTTPD_COMBINEDLOG}'
 * (bench/README.md). Each event gets the id sl_event_id gives the file
 * offset of its line (host "bench-host", an 8-byte file key) and a time
 * that walks one day, 86 ms apart, from 2025-11-20T23:00:00Z (the day of
 * the generated lines); the ids are made in a timed loop per batch, after
 * the lines are staged. Each configuration (codec none, lz4, zstd -1, 1,
 * 3, times two layouts) runs in a child process of its own, so its peak RSS
 * is its own; the child streams the file, N events (default 2000) at a
 * time, into a staging buffer, then times with the process CPU clock:
 *   id      sl_event_id_make for each event (the shipper, per event)
 *   encode  adding each event with its id and time, seal, reset
 *   decode  decoding the sealed fields and a walk over every event's id,
 *           time and JSON (the indexer)
 * and afterwards, untimed, checks every decoded event, id and time against
 * the staged ones.
 *
 * Layouts:
 *   prefix    format 2 as written: "ID TS JSON\n" per event (sl_batch)
 *   parallel  a prototype, here only: the ids in one block ("ID ID ..."),
 *             the times in another ("TS TS ..."), then the NDJSON, joined
 *             and compressed as one payload; its reader checks the blocks
 *             as strictly as sl_batch checks the prefixes, then walks three
 *             cursors. Same header, so its size compares as is.
 *
 * With --redis, each sealed entry (of either layout: the parallel one with
 * the same header) is also XADDed (redisCommandArgv) to a scratch stream, and
 * the server's used_cpu_user + used_cpu_sys and used_memory from INFO before
 * and after give its CPU per 1M events and the memory the stream holds; the
 * stream is deleted at the end. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <lz4.h>
#include <zstd.h>

#include "bench_clock.h"
#include "sl_batch.h"
#include "sl_event_id.h"

#define TS_START 1763679600000LL /* 2025-11-20T23:00:00Z */
#define TS_STEP  86

enum layout { PREFIX, PARALLEL };

struct config {
    const char *label;
    enum sl_codec codec;
    int level;
    enum layout layout;
};

struct stats {
    size_t events, batches;
    size_t raw_bytes, payload_bytes;
    double id_s, enc_s, dec_s;
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

/* Staged events: the bytes of up to `batch` lines, where each starts, and
 * each one's id and time. */
struct stage {
    char *buf;
    size_t len, cap;
    size_t *off;
    char (*id)[SL_EVENT_ID_LEN + 1];
    int64_t *ts;
    uint64_t *pos; /* the file offset of each line */
    size_t n;
    uint64_t file_off; /* of the next line */
    size_t line_no;
};

static int stage_fill(struct stage *st, FILE *f, size_t batch,
                      const struct sl_event_id_source *src, double *id_s)
{
    static char *line;
    static size_t linecap;
    ssize_t n;
    st->len = 0;
    st->n = 0;
    while (st->n < batch && (n = getline(&line, &linecap, f)) > 0) {
        size_t whole = (size_t)n;
        if (line[n - 1] == '\n')
            n--;
        if (st->len + (size_t)n > st->cap) {
            st->cap = (st->len + (size_t)n) * 2;
            st->buf = realloc(st->buf, st->cap);
            if (st->buf == NULL)
                die("staging", "out of memory");
        }
        memcpy(st->buf + st->len, line, (size_t)n);
        st->ts[st->n] = TS_START + (int64_t)st->line_no * TS_STEP;
        st->pos[st->n] = st->file_off;
        st->off[st->n++] = st->len;
        st->len += (size_t)n;
        st->file_off += whole;
        st->line_no++;
    }
    st->off[st->n] = st->len;
    double t0 = bench_cpu_seconds();
    for (size_t i = 0; i < st->n; i++)
        sl_event_id_make(src, st->pos[i], st->id[i]);
    *id_s += bench_cpu_seconds() - t0;
    return st->n > 0;
}

/* ---- the parallel layout (prototype) ------------------------------- */

struct par {
    enum sl_codec codec;
    int level;
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    char *ids, *ts, *json, *joined, *packed, *out;
    size_t ids_len, ts_len, json_len, joined_len, packed_len, out_len, cap;
    size_t count;
    const char *pi, *pt, *pj; /* reader cursors */
};

static void par_init(struct par *p, enum sl_codec codec, int level)
{
    memset(p, 0, sizeof *p);
    p->codec = codec;
    p->level = codec == SL_CODEC_LZ4 && level == 0 ? 1 : level;
    p->cap = SL_BATCH_RAW_DEFAULT;
    p->ids = malloc(p->cap);
    p->ts = malloc(p->cap);
    p->json = malloc(p->cap);
    p->joined = malloc(p->cap);
    p->packed = malloc(ZSTD_compressBound(p->cap));
    p->out = malloc(p->cap);
    p->zc = ZSTD_createCCtx();
    p->zd = ZSTD_createDCtx();
    if (!p->ids || !p->ts || !p->json || !p->joined || !p->packed || !p->out ||
        !p->zc || !p->zd)
        die("parallel", "out of memory");
    ZSTD_CCtx_setParameter(p->zc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(p->zc, ZSTD_c_checksumFlag, 1);
}

static void par_free(struct par *p)
{
    free(p->ids);
    free(p->ts);
    free(p->json);
    free(p->joined);
    free(p->packed);
    free(p->out);
    ZSTD_freeCCtx(p->zc);
    ZSTD_freeDCtx(p->zd);
}

static int id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static size_t put_ts(char *out, int64_t ts)
{
    char d[20];
    size_t n = 0, len = 0;
    uint64_t v = ts < 0 ? 0 - (uint64_t)ts : (uint64_t)ts;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (ts < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = d[--n];
    return len;
}

static void par_add(struct par *p, const char *id, size_t id_len, int64_t ts,
                    const char *json, size_t len)
{
    if (p->json_len + len + 1 > p->cap)
        die("parallel", "batch too large");
    /* the checks sl_batch_writer_begin and _commit make */
    for (size_t i = 0; i < id_len; i++)
        if (!id_char((unsigned char)id[i]))
            die("parallel", "bad id");
    if (id_len == 0 || id_len > SL_BATCH_ID_MAX || ts < SL_BATCH_TS_MIN ||
        ts > SL_BATCH_TS_MAX || len == 0 || memchr(json, '\n', len) != NULL)
        die("parallel", "bad event");
    memcpy(p->ids + p->ids_len, id, id_len);
    p->ids_len += id_len;
    p->ids[p->ids_len++] = ' ';
    p->ts_len += put_ts(p->ts + p->ts_len, ts);
    p->ts[p->ts_len++] = ' ';
    memcpy(p->json + p->json_len, json, len);
    p->json_len += len;
    p->json[p->json_len++] = '\n';
    p->count++;
}

/* ids "\n" times "\n" NDJSON, compressed as one payload. */
static void par_seal(struct par *p)
{
    char *j = p->joined;
    memcpy(j, p->ids, p->ids_len);
    j[p->ids_len] = '\n';
    memcpy(j + p->ids_len + 1, p->ts, p->ts_len);
    j[p->ids_len + 1 + p->ts_len] = '\n';
    memcpy(j + p->ids_len + p->ts_len + 2, p->json, p->json_len);
    p->joined_len = p->ids_len + p->ts_len + 2 + p->json_len;
    if (p->codec == SL_CODEC_NONE) {
        p->packed_len = p->joined_len;
        return;
    }
    if (p->codec == SL_CODEC_LZ4) {
        int r =
            LZ4_compress_fast(j, p->packed, (int)p->joined_len,
                              LZ4_compressBound((int)p->joined_len), p->level);
        if (r <= 0)
            die("parallel", "lz4 failed");
        p->packed_len = (size_t)r;
    } else {
        p->packed_len = ZSTD_compress2(
            p->zc, p->packed, ZSTD_compressBound(p->cap), j, p->joined_len);
        if (ZSTD_isError(p->packed_len))
            die("parallel", "zstd failed");
    }
}

static void par_reset(struct par *p)
{
    p->ids_len = p->ts_len = p->json_len = 0;
    p->count = 0;
}

/* One id, time and JSON from the three cursors; -1 if malformed. The same
 * checks as sl_batch's reader: id charset and length, canonical decimal in
 * range, a non-empty JSON line. */
static int par_take(struct par *p, const char *end, struct sl_batch_event *ev)
{
    const char *s = p->pi;
    size_t i = 0;
    while (s + i < end && i <= SL_BATCH_ID_MAX && id_char((unsigned char)s[i]))
        i++;
    if (i == 0 || i > SL_BATCH_ID_MAX || s + i >= end || s[i] != ' ')
        return -1;
    ev->id.ptr = s;
    ev->id.len = i;
    p->pi = s + i + 1;
    s = p->pt;
    int neg = s < end && s[0] == '-';
    size_t k = (size_t)neg, digits = 0;
    uint64_t v = 0;
    while (s + k < end && s[k] >= '0' && s[k] <= '9') {
        if (digits++ < 17)
            v = v * 10 + (uint64_t)(s[k] - '0');
        k++;
    }
    if (digits == 0 || s + k >= end || s[k] != ' ' ||
        (digits > 1 && s[neg] == '0') || (neg && v == 0) ||
        (neg ? v > (uint64_t)-SL_BATCH_TS_MIN : v > SL_BATCH_TS_MAX))
        return -1;
    ev->ts_ms = neg ? -(int64_t)v : (int64_t)v;
    p->pt = s + k + 1;
    const char *nl = memchr(p->pj, '\n', (size_t)(end - p->pj));
    if (nl == NULL || nl == p->pj)
        return -1;
    ev->json.ptr = p->pj;
    ev->json.len = (size_t)(nl - p->pj);
    p->pj = nl + 1;
    return 0;
}

/* Decompresses, then checks every event before the walk, as sl_batch. */
static const char *par_decode(struct par *p, size_t count, size_t raw)
{
    const char *src = p->joined;
    if (p->codec == SL_CODEC_LZ4) {
        if (LZ4_decompress_safe(p->packed, p->out, (int)p->packed_len,
                                (int)raw) != (int)raw)
            die("parallel", "lz4 decode");
        src = p->out;
    } else if (p->codec == SL_CODEC_ZSTD) {
        if (ZSTD_decompressDCtx(p->zd, p->out, raw, p->packed, p->packed_len) !=
            raw)
            die("parallel", "zstd decode");
        src = p->out;
    }
    const char *end = src + raw;
    const char *nl1 = memchr(src, '\n', raw);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : 0;
    if (nl2 == NULL || end[-1] != '\n')
        die("parallel", "bad blocks");
    p->pi = src;
    p->pt = nl1 + 1;
    p->pj = nl2 + 1;
    struct sl_batch_event ev;
    for (size_t i = 0; i < count; i++)
        if (par_take(p, end, &ev) < 0)
            die("parallel", "bad event");
    if (p->pi != nl1 || p->pt != nl2 || p->pj != end)
        die("parallel", "count mismatch");
    p->pi = src;
    p->pt = nl1 + 1;
    p->pj = nl2 + 1;
    return end;
}

/* ---- the runs ------------------------------------------------------ */

static int same_event(const struct sl_batch_event *ev, const struct stage *st,
                      size_t i)
{
    return sl_slice_eq(ev->json, st->buf + st->off[i],
                       st->off[i + 1] - st->off[i]) &&
           sl_slice_eq(ev->id, st->id[i], SL_EVENT_ID_LEN) &&
           ev->ts_ms == st->ts[i];
}

static void xadd(redisContext *rc, const char **argv, const size_t *argvlen)
{
    const char *xa[3 + SL_BATCH_ARGC] = {"XADD", "bench:batch", "*"};
    size_t xl[3 + SL_BATCH_ARGC] = {4, 11, 1};
    memcpy(xa + 3, argv, sizeof(char *) * SL_BATCH_ARGC);
    memcpy(xl + 3, argvlen, sizeof(size_t) * SL_BATCH_ARGC);
    redisReply *rep = redisCommandArgv(rc, 3 + SL_BATCH_ARGC, xa, xl);
    if (rep == NULL || rep->type != REDIS_REPLY_STRING)
        die("XADD", rep ? rep->str : rc->errstr);
    freeReplyObject(rep);
}

/* One batch in format 2: encode, decode, check. */
static void run_prefix(struct sl_batch_writer *w, struct sl_batch_reader *r,
                       const struct stage *st, redisContext *rc,
                       struct stats *s)
{
    struct sl_err err = {0};
    const char **argv;
    const size_t *argvlen;
    double t0 = bench_cpu_seconds();
    for (size_t i = 0; i < st->n; i++)
        if (sl_batch_writer_add(w, st->id[i], SL_EVENT_ID_LEN, st->ts[i],
                                st->buf + st->off[i],
                                st->off[i + 1] - st->off[i], &err) < 0)
            die("add", err.msg);
    if (sl_batch_writer_seal(w, &argv, &argvlen, &err) < 0)
        die("seal", err.msg);
    double t1 = bench_cpu_seconds();
    if (sl_batch_reader_decode(r, SL_BATCH_ARGC, argv, argvlen, &err) < 0)
        die("decode", err.msg);
    struct sl_batch_event ev;
    int64_t sum = 0;
    while (sl_batch_reader_next(r, &ev))
        sum += ev.ts_ms + (int64_t)ev.id.len + (int64_t)ev.json.len;
    double t2 = bench_cpu_seconds();
    s->enc_s += t1 - t0;
    s->dec_s += t2 - t1;
    if (sum == 0)
        die("check", "nothing decoded");
    sl_batch_reader_rewind(r);
    for (size_t i = 0; sl_batch_reader_next(r, &ev); i++)
        if (!same_event(&ev, st, i))
            die("check", "a decoded event differs from the written one");
    if (rc != NULL)
        xadd(rc, argv, argvlen);
    s->raw_bytes += sl_batch_writer_bytes(w);
    s->payload_bytes += argvlen[SL_BATCH_ARGC - 1];
    sl_batch_writer_reset(w);
}

/* One batch in the parallel layout. */
static void run_parallel(struct par *p, const struct stage *st,
                         redisContext *rc, struct stats *s)
{
    double t0 = bench_cpu_seconds();
    for (size_t i = 0; i < st->n; i++)
        par_add(p, st->id[i], SL_EVENT_ID_LEN, st->ts[i], st->buf + st->off[i],
                st->off[i + 1] - st->off[i]);
    par_seal(p);
    double t1 = bench_cpu_seconds();
    const char *end = par_decode(p, p->count, p->joined_len);
    struct sl_batch_event ev;
    int64_t sum = 0;
    for (size_t i = 0; i < p->count; i++) {
        par_take(p, end, &ev);
        sum += ev.ts_ms + (int64_t)ev.id.len + (int64_t)ev.json.len;
    }
    double t2 = bench_cpu_seconds();
    s->enc_s += t1 - t0;
    s->dec_s += t2 - t1;
    if (sum == 0)
        die("check", "nothing decoded");
    end = par_decode(p, p->count, p->joined_len);
    for (size_t i = 0; i < p->count; i++) {
        if (par_take(p, end, &ev) < 0 || !same_event(&ev, st, i))
            die("check", "a decoded event differs from the written one");
    }
    if (rc != NULL) {
        char count[24], raw[24];
        snprintf(count, sizeof count, "%zu", p->count);
        snprintf(raw, sizeof raw, "%zu", p->joined_len);
        const char *argv[SL_BATCH_ARGC] = {
            "v",      "2",
            "host",   "bench-host",
            "count",  count,
            "codec",  sl_codec_name(p->codec),
            "raw",    raw,
            "events", p->codec == SL_CODEC_NONE ? p->joined : p->packed};
        size_t len[SL_BATCH_ARGC];
        for (int i = 0; i < SL_BATCH_ARGC - 1; i++)
            len[i] = strlen(argv[i]);
        len[SL_BATCH_ARGC - 1] = p->packed_len;
        xadd(rc, argv, len);
    }
    s->raw_bytes += p->joined_len;
    s->payload_bytes += p->packed_len;
    par_reset(p);
}

static void run(const struct config *cf, const char *path, size_t batch,
                redisContext *rc, struct stats *s)
{
    struct sl_err err = {0};
    struct sl_batch_writer *w = NULL;
    struct sl_batch_reader *r = NULL;
    struct par par;
    if (cf->layout == PREFIX) {
        w = sl_batch_writer_new("bench-host", cf->codec, cf->level,
                                SL_BATCH_RAW_DEFAULT, &err);
        r = sl_batch_reader_new(0, &err);
        if (w == NULL || r == NULL)
            die("init", err.msg);
    } else {
        par_init(&par, cf->codec, cf->level);
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die(path, "cannot open (make it as bench/README.md says)");
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "bench-host", 10,
                            "\x01\x02\x03\x04\x05\x06"
                            "\x07\x08",
                            8);
    struct stage st = {0};
    st.off = malloc((batch + 1) * sizeof *st.off);
    st.id = malloc(batch * sizeof *st.id);
    st.ts = malloc(batch * sizeof *st.ts);
    st.pos = malloc(batch * sizeof *st.pos);
    double cpu0 = rc ? redis_cpu(rc) : 0;
    double mem0 = rc ? info_field(rc, "memory", "used_memory") : 0;
    while (stage_fill(&st, f, batch, &src, &s->id_s)) {
        if (cf->layout == PREFIX)
            run_prefix(w, r, &st, rc, s);
        else
            run_parallel(&par, &st, rc, s);
        s->events += st.n;
        s->batches++;
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
    free(st.id);
    free(st.ts);
    free(st.pos);
    if (cf->layout == PARALLEL)
        par_free(&par);
    sl_batch_reader_free(r);
    sl_batch_writer_free(w);
}

static void report(const struct config *cf, const struct stats *s, bool redis)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double per = 1e6 / (double)s->events;
    printf("%-7s %-8s %8zu %7zu %7.1f %7.1f %6.2f %6.3f %7.3f %7.3f %7.1f",
           cf->label, cf->layout == PREFIX ? "prefix" : "parallel", s->events,
           s->batches, (double)s->raw_bytes / 1e6,
           (double)s->payload_bytes / 1e6,
           (double)s->raw_bytes / (double)s->payload_bytes, s->id_s * per,
           s->enc_s * per, s->dec_s * per, (double)ru.ru_maxrss / 1024);
    if (redis)
        printf(" %8.3f %9.1f", s->redis_cpu_s * per,
               (double)s->redis_mem / 1e6);
    printf("\n");
    fflush(stdout);
}

static redisContext *connect_redis(const char *redis)
{
    char host[256];
    const char *colon = strrchr(redis, ':');
    if (colon == NULL || (size_t)(colon - redis) >= sizeof host)
        die("--redis", "expected HOST:PORT");
    memcpy(host, redis, (size_t)(colon - redis));
    host[colon - redis] = '\0';
    redisContext *rc = redisConnect(host, (int)strtol(colon + 1, NULL, 10));
    if (rc == NULL || rc->err)
        die(redis, rc ? rc->errstr : "out of memory");
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = "bench/out/batch_events.ndjson";
    const char *redis = NULL;
    size_t batch = 2000;
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
    static const struct config configs[] = {
        {"none", SL_CODEC_NONE, 0, PREFIX},
        {"none", SL_CODEC_NONE, 0, PARALLEL},
        {"lz4", SL_CODEC_LZ4, 1, PREFIX},
        {"lz4", SL_CODEC_LZ4, 1, PARALLEL},
        {"zstd-1", SL_CODEC_ZSTD, -1, PREFIX},
        {"zstd-1", SL_CODEC_ZSTD, -1, PARALLEL},
        {"zstd1", SL_CODEC_ZSTD, 1, PREFIX},
        {"zstd1", SL_CODEC_ZSTD, 1, PARALLEL},
        {"zstd3", SL_CODEC_ZSTD, 3, PREFIX},
        {"zstd3", SL_CODEC_ZSTD, 3, PARALLEL}};
    printf("%zu events per entry, from %s; CPU-seconds per 1M events\n", batch,
           path);
    printf("%-7s %-8s %8s %7s %7s %7s %6s %6s %7s %7s %7s%s\n", "codec",
           "layout", "events", "entries", "raw MB", "pay MB", "ratio", "id",
           "encode", "decode", "rss MiB", redis ? "  srv cpu  srv MB" : "");
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", "failed");
        if (pid == 0) {
            struct stats s = {0};
            redisContext *rc = NULL;
            if (redis != NULL)
                rc = connect_redis(redis);
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
