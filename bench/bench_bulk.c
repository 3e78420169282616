/* bench_bulk.c: what indexer/bulk costs per event: building `_bulk` bodies
 * (bulk_request) and parsing their answers (bulk_response).
 *
 *   cmake --build build/release --target sluice_indexer_core
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       -Iindexer/bulk bench/bench_bulk.c \
 *       build/release/indexer/libsluice_indexer_core.a \
 *       build/release/common/libsluice_common.a \
 *       -lyajl -llz4 -lzstd -lz -lm -o bench/out/bin/bench-bulk
 *   bench/out/bin/bench-bulk [--runs N] [--events FILE]
 *
 * Everything is generated in memory before timing, so the numbers are CPU
 * alone (CLOCK_PROCESS_CPUTIME_ID), median of N runs (default 5):
 *   build   1M events of about 500 bytes (a grok'ed Apache line's shape;
 *           4,096 distinct ones in turn), each with an index name and a
 *           39-byte _id, into requests of at most 5,000 items and 16 MiB,
 *           reset after each (as sent)
 *   ok      the answer to 5,000 creates, all 201, as Elasticsearch 8/9 sends
 *           it (errors first, so the fast path), parsed 200 times = 1M items
 *   mixed   the same with 1 item in 10 failed (409, 400 mapper_parsing with
 *           caused_by, 429): no fast path, strings kept for the failed ones
 *   floor   the ok answer through yajl with no callbacks: what any streaming
 *           JSON read of it costs, the floor of the parser
 *   gzip    the bodies of build, each gzip-encoded by bulk_gzip at level 1
 *           (the default) and 6 (zlib's default); only the encoding is
 *           timed, and the ratio is reported. The generated events repeat
 *           too much for a fair ratio: --events FILE (NDJSON, the first 1M
 *           lines, in turn if fewer) puts real ones in these bodies
 * The answers are fed in 16 KiB pieces, as curl delivers them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>

#include "bench_clock.h"
#include "bulk_gzip.h"
#include "bulk_request.h"
#include "bulk_response.h"
#include "sl_buf.h"
#include "sl_file.h"

#define EVENTS   1000000
#define ITEMS    5000
#define PARSES   (EVENTS / ITEMS)
#define PIECE    16384
#define RUNS_MAX 21

static void die(const char *what, const struct sl_err *err)
{
    fprintf(stderr, "bench-bulk: %s: %s\n", what, err != NULL ? err->msg : "");
    exit(1);
}

/* ---- build ---------------------------------------------------------- */

/* Events and ids made before timing: STAGED distinct ones, used in turn. */
#define STAGED 4096
static char *ev_text[STAGED], *id_text[STAGED];
static size_t ev_len[STAGED], id_len[STAGED];

static void stage_events(void)
{
    char ev[1024], id[64];
    for (long i = 0; i < STAGED; i++) {
        int n = snprintf(
            ev, sizeof ev,
            "{\"@timestamp\":\"2025-11-21T20:56:%02ld.123Z\",\"message\":"
            "\"192.0.2.%ld - - [21/Nov/2025:20:56:01 +0100] \\\"GET "
            "/index.html?q=%ld HTTP/1.1\\\" 200 %ld \\\"-\\\" \\\"Mozilla/5.0 "
            "(X11; Linux "
            "x86_64)\\\"\",\"source\":{\"address\":\"192.0.2.%ld\"},"
            "\"http\":{\"request\":{\"method\":\"GET\"},\"response\":{"
            "\"status_code\":200,\"body\":{\"bytes\":%ld}}},\"url\":{"
            "\"original\":\"/index.html?q=%ld\"},\"host\":{\"name\":\"web-1\"},"
            "\"log\":{\"file\":{\"path\":\"/var/log/nginx/access.log\"},"
            "\"offset\":%ld},\"event\":{\"original\":\"x\"}}",
            i % 60, i % 250, i, i % 9999, i % 250, i % 9999, i, i * 230);
        int m = snprintf(id, sizeof id, "web-1:9f86d081884c7d65:%016lx",
                         (unsigned long)i);
        ev_len[i] = (size_t)n;
        id_len[i] = (size_t)m;
        ev_text[i] = malloc(ev_len[i] + 1);
        id_text[i] = malloc(id_len[i] + 1);
        if (ev_text[i] == NULL || id_text[i] == NULL)
            die("out of memory", NULL);
        memcpy(ev_text[i], ev, ev_len[i] + 1);
        memcpy(id_text[i], id, id_len[i] + 1);
    }
}

static double run_build(size_t *bodies, size_t *bytes)
{
    struct sl_err err;
    struct bulk_request *rq = bulk_request_new(16 << 20, ITEMS, &err);
    double t0;

    if (rq == NULL)
        die("new request", &err);
    *bodies = *bytes = 0;
    t0 = bench_cpu_seconds();
    for (long i = 0; i < EVENTS; i++) {
        size_t k = (size_t)i % STAGED;
        if (bulk_request_add(rq, "sluice-2025.11.21", 17, id_text[k], id_len[k],
                             ev_text[k], ev_len[k], (uint64_t)i, &err) < 0) {
            if (err.status != SL_ELIMIT || bulk_request_count(rq) == 0)
                die("add", &err);
            *bytes += bulk_request_body(rq).len;
            (*bodies)++;
            bulk_request_reset(rq);
            i--;
        }
    }
    *bytes += bulk_request_body(rq).len;
    (*bodies)++;
    double t = bench_cpu_seconds() - t0;
    bulk_request_free(rq);
    return t;
}

/* Real events for the gzip phase (--events FILE, one JSON event a line,
 * such as sluice-grok's output on bench/out/apache_combined.log): their
 * variety, not the generated ones' repeats, sets the ratio and the cost. */
static struct sl_buf file_events = SL_BUF_INIT((size_t)1 << 30);
static const char **fev;
static size_t *fev_len, nfev;

static void load_events(const char *path)
{
    struct sl_err err;
    if (sl_file_read(path, NULL, (size_t)1 << 30, &file_events, &err) < 0)
        die("--events", &err);
    fev = malloc(EVENTS * sizeof *fev);
    fev_len = malloc(EVENTS * sizeof *fev_len);
    if (fev == NULL || fev_len == NULL)
        die("out of memory", NULL);
    const char *p = file_events.ptr, *end = p + file_events.len;
    while (nfev < EVENTS && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0) {
            fev[nfev] = p;
            fev_len[nfev++] = n;
        }
        p += n + 1;
    }
    if (nfev == 0)
        die("--events: no events in the file", NULL);
}

/* The same bodies as run_build (or of the --events ones), each encoded as
 * it fills; only the encoding counts. *in_bytes, *out_bytes: the totals. */
static double run_gzip(int level, size_t *in_bytes, size_t *out_bytes)
{
    struct sl_err err;
    struct bulk_request *rq = bulk_request_new(16 << 20, ITEMS, &err);
    struct bulk_gzip *gz = bulk_gzip_new(level, 16 << 20, &err);
    struct sl_slice out;
    double t = 0;

    if (rq == NULL || gz == NULL)
        die("new request or encoder", &err);
    *in_bytes = *out_bytes = 0;
    for (long i = 0; i <= EVENTS; i++) {
        size_t k = (size_t)i % STAGED;
        const char *ev = nfev ? fev[(size_t)i % nfev] : ev_text[k];
        size_t len = nfev ? fev_len[(size_t)i % nfev] : ev_len[k];
        if (i < EVENTS &&
            bulk_request_add(rq, "sluice-2025.11.21", 17, id_text[k], id_len[k],
                             ev, len, (uint64_t)i, &err) == 0)
            continue;
        if (i < EVENTS && (err.status != SL_ELIMIT || !bulk_request_count(rq)))
            die("add", &err);
        struct sl_slice body = bulk_request_body(rq);
        double t0 = bench_cpu_seconds();
        if (bulk_gzip_encode(gz, body.ptr, body.len, &out, &err) < 0)
            die("gzip", &err);
        t += bench_cpu_seconds() - t0;
        *in_bytes += body.len;
        *out_bytes += out.len;
        bulk_request_reset(rq);
        if (i < EVENTS)
            i--;
    }
    bulk_gzip_free(gz);
    bulk_request_free(rq);
    return t;
}

/* ---- answers -------------------------------------------------------- */

static void make_answer(struct sl_buf *b, int mixed)
{
    struct sl_err err;
    sl_buf_reset(b);
    sl_buf_append_str(b, "{\"errors\":", &err);
    sl_buf_append_str(b, mixed ? "true" : "false", &err);
    sl_buf_append_str(b, ",\"took\":120,\"items\":[", &err);
    for (int i = 0; i < ITEMS; i++) {
        const char *sep = i > 0 ? "," : "";
        const char *ix = "sluice-2025.11.21";
        char id[64];
        snprintf(id, sizeof id, "web-1:9f86d081884c7d65:%016lx",
                 (unsigned long)i);
        if (!mixed || i % 10 != 9) {
            sl_buf_printf(b, &err,
                          "%s{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\","
                          "\"_version\":1,\"result\":\"created\",\"_shards\":"
                          "{\"total\":2,\"successful\":1,\"failed\":0},"
                          "\"_seq_no\":%d,\"_primary_term\":1,\"status\":201}}",
                          sep, ix, id, i);
        } else if (i % 30 == 9) {
            sl_buf_printf(b, &err,
                          "%s{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\","
                          "\"status\":409,\"error\":{\"type\":"
                          "\"version_conflict_engine_exception\",\"reason\":"
                          "\"[%s]: version conflict, document already exists "
                          "(current version [1])\",\"index_uuid\":\"CJJYNGHi\","
                          "\"shard\":\"0\",\"index\":\"%s\"}}}",
                          sep, ix, id, id, ix);
        } else if (i % 30 == 19) {
            sl_buf_printf(b, &err,
                          "%s{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\","
                          "\"status\":400,\"error\":{\"type\":"
                          "\"document_parsing_exception\",\"reason\":\"[1:22] "
                          "failed to parse field [http.response.body.bytes] of "
                          "type [long] in document with id '%s'. Preview of "
                          "field's value: 'abc'\",\"caused_by\":{\"type\":"
                          "\"illegal_argument_exception\",\"reason\":\"For "
                          "input string: \\\"abc\\\"\"}}}}",
                          sep, ix, id, id);
        } else {
            sl_buf_printf(b, &err,
                          "%s{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\","
                          "\"status\":429,\"error\":{\"type\":"
                          "\"es_rejected_execution_exception\",\"reason\":"
                          "\"rejected execution of coordinating operation "
                          "[coordinating_and_primary_bytes=0, replica_bytes=0, "
                          "all_bytes=0, coordinating_operation_bytes=2000000, "
                          "max_coordinating_and_primary_bytes=1000000]\"}}}",
                          sep, ix, id);
        }
    }
    sl_buf_append_str(b, "]}", &err);
}

static double run_parse(struct bulk_response *r, const struct sl_buf *b,
                        int want_fast)
{
    struct sl_err err;
    double t0 = bench_cpu_seconds();
    for (int k = 0; k < PARSES; k++) {
        bulk_response_reset(r, ITEMS);
        for (size_t off = 0; off < b->len; off += PIECE) {
            size_t n = b->len - off < PIECE ? b->len - off : PIECE;
            bulk_response_feed(r, b->ptr + off, n);
        }
        if (bulk_response_finish(r, 200, &err) < 0)
            die("parse", &err);
        if (bulk_response_fast_path(r) != want_fast)
            die("fast path not as expected", NULL);
    }
    return bench_cpu_seconds() - t0;
}

static double run_floor(const struct sl_buf *b)
{
    static const yajl_callbacks none;
    double t0 = bench_cpu_seconds();
    for (int k = 0; k < PARSES; k++) {
        yajl_handle h = yajl_alloc(&none, NULL, NULL);
        for (size_t off = 0; off < b->len; off += PIECE) {
            size_t n = b->len - off < PIECE ? b->len - off : PIECE;
            if (yajl_parse(h, (const unsigned char *)b->ptr + off, n) !=
                yajl_status_ok)
                die("floor parse", NULL);
        }
        if (yajl_complete_parse(h) != yajl_status_ok)
            die("floor parse", NULL);
        yajl_free(h);
    }
    return bench_cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    int runs = 5;
    double tb[RUNS_MAX], tok[RUNS_MAX], tmix[RUNS_MAX], tfl[RUNS_MAX];
    double tg1[RUNS_MAX], tg6[RUNS_MAX];
    struct sl_buf ok = SL_BUF_INIT(64 << 20), mixed = SL_BUF_INIT(64 << 20);
    struct sl_err err;
    size_t bodies = 0, bytes = 0, gzin = 0, gz1 = 0, gz6 = 0;

    for (int a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "--runs") == 0)
            runs = (int)strtol(argv[a + 1], NULL, 10);
        else if (strcmp(argv[a], "--events") == 0)
            load_events(argv[a + 1]);
        else
            runs = 0;
    }
    if (runs < 1 || runs > RUNS_MAX || argc % 2 == 0) {
        fprintf(stderr, "usage: bench-bulk [--runs 1..%d] [--events FILE]\n",
                RUNS_MAX);
        return 2;
    }
    struct bulk_response *r =
        bulk_response_new(ITEMS, BULK_REASON_MAX_DEFAULT, 64 << 20, &err);
    if (r == NULL)
        die("new response", &err);
    stage_events();
    make_answer(&ok, 0);
    make_answer(&mixed, 1);
    for (int i = 0; i < runs; i++) {
        tb[i] = run_build(&bodies, &bytes);
        tok[i] = run_parse(r, &ok, 1);
        tmix[i] = run_parse(r, &mixed, 0);
        tfl[i] = run_floor(&ok);
        tg1[i] = run_gzip(1, &gzin, &gz1);
        tg6[i] = run_gzip(6, &gzin, &gz6);
    }
    printf("build: 1M events into %zu bodies, %.1f MB: %.3f s CPU per 1M "
           "events (%.0f MB/s)\n",
           bodies, (double)bytes / 1e6, bench_median(tb, runs),
           (double)bytes / 1e6 / bench_median(tb, runs));
    printf("parse all-ok (%zu bytes per 5,000 items): %.3f s CPU per 1M items "
           "(%.0f MB/s)\n",
           ok.len, bench_median(tok, runs),
           (double)ok.len * PARSES / 1e6 / bench_median(tok, runs));
    printf("parse mixed, 10%% failed (%zu bytes per 5,000 items): %.3f s CPU "
           "per 1M items (%.0f MB/s)\n",
           mixed.len, bench_median(tmix, runs),
           (double)mixed.len * PARSES / 1e6 / bench_median(tmix, runs));
    printf("floor, yajl without callbacks on all-ok: %.3f s CPU per 1M items "
           "(%.0f MB/s)\n",
           bench_median(tfl, runs),
           (double)ok.len * PARSES / 1e6 / bench_median(tfl, runs));
    for (int level = 1; level <= 6; level += 5) {
        size_t out = level == 1 ? gz1 : gz6;
        double t = bench_median(level == 1 ? tg1 : tg6, runs);
        printf("gzip level %d, %s events: %.1f MB to %.1f MB (%.2fx): %.3f s "
               "CPU per 1M events (%.0f MB/s in)\n",
               level, nfev ? "--events FILE" : "generated", (double)gzin / 1e6,
               (double)out / 1e6, (double)gzin / (double)out, t,
               (double)gzin / 1e6 / t);
    }
    bulk_response_free(r);
    sl_buf_release(&ok);
    sl_buf_release(&file_events);
    free(fev);
    free(fev_len);
    sl_buf_release(&mixed);
    for (int i = 0; i < STAGED; i++) {
        free(ev_text[i]);
        free(id_text[i]);
    }
    return 0;
}
