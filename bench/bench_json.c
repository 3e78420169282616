/* bench_json.c: the event JSON writer (common/sl_json + sl_event_write_json)
 * against libyajl's generator (yajl_gen) writing the same event trees.
 *
 *   cmake --build build/release --target sluice_common
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
 *       bench/bench_json.c build/release/common/libsluice_common.a \
 *       -lyajl -llz4 -lzstd -lm -o bench/out/bin/bench-json
 *   bench/out/bin/bench-json [--runs N] [--show N]
 *
 * The events are what the shipper will hold after grok '%{HTTPD_COMBINEDLOG}'
 * (ECS v1) on an Apache combined line, plus what it adds: message (the line,
 * so every event has \" to escape), @timestamp, source.address, user.name
 * (some), http.request.method/referrer, http.version,
 * http.response.status_code and body.bytes (numbers), url.original,
 * user_agent.original, log.file.path, log.offset, host.name: 12 to 14
 * values in 9 to 11 objects, 4 levels deep, about 700 bytes of JSON (the
 * message is half of it). Mixed in, as in
 * bench/gen_apache.py: 1 in 20 user agents carry an escaped \" (a backslash
 * and a quote to escape), 1 in 25 URLs and 1 in 40 user agents non-ASCII
 * UTF-8 (é, 日本語, emoji), 1 in 100 user agents a tab. 4,096 distinct events
 * are built in one arena before timing; each measurement writes 1M of them
 * in turn, one per line, into a buffer emptied every 500 events (a batch).
 *
 * Three writers walk the same trees:
 *   sl_event   sl_event_write_json: what the shipper runs
 *   yajl       yajl_gen with its defaults (no UTF-8 check: invalid bytes
 *              would go out as they came, giving invalid JSON)
 *   yajl+utf8  yajl_gen_validate_utf8 on, the nearest to what sl_json does
 *              (sl_json replaces invalid bytes; yajl stops with an error)
 * Before timing, the three must write byte-identical text for every staged
 * event (the inputs avoid the one spelling they differ in: \u00XX for
 * control characters other than \b \f \n \r \t, lower case in sl_json).
 * Prints, per writer, the median over N runs (default 5, interleaved) of
 * CPU-seconds (user+sys of this process) per 1M events, bytes per event, and
 * the ratio to sl_event. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "bench_clock.h"
#include "sl_arena.h"
#include "sl_buf.h"
#include "sl_event.h"

#define STAGED   4096
#define EVENTS   1000000
#define BATCH    500
#define RUNS_MAX 21

static struct sl_event events[STAGED];

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-json: %s: %s\n", what, why);
    exit(1);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static const char *pick(const char *const *v, size_t n)
{
    return v[next_rand() % n];
}

#define PICK(v) pick(v, sizeof v / sizeof v[0])

static const char *const methods[] = {"GET",  "GET",  "GET", "GET",
                                      "POST", "HEAD", "PUT", "DELETE"};
static const char *const paths[] = {"/",
                                    "/index.html",
                                    "/shop/item.php",
                                    "/api/v2/orders",
                                    "/static/app.js",
                                    "/images/logo.png",
                                    "/search",
                                    "/wp-login.php",
                                    "/blog/2026/11/notes"};
static const char *const queries[] = {
    "",
    "",
    "?id=123&ref=home",
    "?q=red+shoes&page=2",
    "?utm_source=mail",
    "?session=8f14e45fceea167a5a36dedd4bea2543"};
static const char *const referrers[] = {
    "-", "https://www.example.com/start", "https://www.google.com/",
    "https://news.example.org/article?id=77", "http://localhost:8080/"};
static const char *const agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 "
    "Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/"
    "605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "curl/7.88.1", "Googlebot/2.1 (+http://www.google.com/bot.html)"};
static const char *const statuses[] = {"200", "200", "200", "200", "200",
                                       "304", "301", "404", "500", "206"};
static const char *const users[] = {"-", "-", "-", "frank", "alice"};
static const char *const hosts[] = {"web-01", "web-02", "web-03"};

/* Copies a formatted string into the event's arena. */
static const char *keep(struct sl_event *ev, const char *s, size_t *len)
{
    *len = strlen(s);
    const char *p = sl_event_strdup(ev, s, *len);
    if (p == NULL)
        die("staging", "out of memory");
    return p;
}

/* Keys borrow the path's bytes, so the paths live as long as the events. */
#define NPATHS 32
static struct sl_fieldpath paths_parsed[NPATHS];
static size_t npaths;

static const struct sl_fieldpath *path_of(const char *ref)
{
    struct sl_err err;
    for (size_t i = 0; i < npaths; i++)
        if (strcmp(paths_parsed[i].text, ref) == 0)
            return &paths_parsed[i];
    if (npaths == NPATHS ||
        sl_fieldpath_parse(&paths_parsed[npaths], ref, strlen(ref), &err) < 0)
        die(ref, npaths == NPATHS ? "too many paths" : err.msg);
    return &paths_parsed[npaths++];
}

static void put(struct sl_event *ev, const char *path, enum sl_value_type type,
                const char *text)
{
    struct sl_err err;
    size_t len;
    const char *v = keep(ev, text, &len);
    if (sl_event_put(ev, path_of(path), type, v, len, &err) < 0)
        die(path, err.msg);
}

static void make_agent(char *ua, size_t size, long i)
{
    const char *base = PICK(agents);
    if (i % 20 == 3)
        snprintf(ua, size, "%s \\\"quoted\\\" build", base);
    else if (i % 40 == 7)
        snprintf(ua, size, "%s (ja-JP; 日本語) ✓", base);
    else if (i % 100 == 11)
        snprintf(ua, size, "%s\textra", base);
    else
        snprintf(ua, size, "%s", base);
}

static void make_event(struct sl_event *ev, long i)
{
    char ip[48], url[256], ua[512], line[1400], ts[40], when[40], off[24];
    if (i % 10 == 9)
        snprintf(ip, sizeof ip, "2001:db8:%x::%x", next_rand() % 65536,
                 next_rand() % 65536);
    else
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", 1 + next_rand() % 223,
                 next_rand() % 256, next_rand() % 256, 1 + next_rand() % 254);
    snprintf(url, sizeof url, "%s%s%s", PICK(paths),
             i % 25 == 5 ? "/caf\xc3\xa9-\xf0\x9f\x8d\xb0" : "", PICK(queries));
    make_agent(ua, sizeof ua, i);
    const char *method = PICK(methods), *status = PICK(statuses);
    const char *ref = PICK(referrers), *user = PICK(users);
    unsigned secs = (unsigned)(i * 7 % 86400);
    char bytes[16];
    snprintf(bytes, sizeof bytes, "%u", 200 + next_rand() % 60000);
    snprintf(when, sizeof when, "23/Nov/2026:%02u:%02u:%02u +0100", secs / 3600,
             secs / 60 % 60, secs % 60);
    snprintf(ts, sizeof ts, "2026-11-23T%02u:%02u:%02u.000Z",
             (secs / 3600 + 23) % 24, secs / 60 % 60, secs % 60);
    snprintf(line, sizeof line,
             "%s - %s [%s] \"%s %s HTTP/1.1\" %s %s \"%s\" \"%s\"", ip, user,
             when, method, url, status, bytes, ref, ua);
    snprintf(off, sizeof off, "%ld", i * 231);

    put(ev, "message", SL_VALUE_STRING, line);
    put(ev, "@timestamp", SL_VALUE_STRING, ts);
    put(ev, "[source][address]", SL_VALUE_STRING, ip);
    if (strcmp(user, "-") != 0)
        put(ev, "[user][name]", SL_VALUE_STRING, user);
    put(ev, "[http][request][method]", SL_VALUE_STRING, method);
    if (strcmp(ref, "-") != 0)
        put(ev, "[http][request][referrer]", SL_VALUE_STRING, ref);
    put(ev, "[http][version]", SL_VALUE_STRING, "1.1");
    put(ev, "[http][response][status_code]", SL_VALUE_NUMBER, status);
    put(ev, "[http][response][body][bytes]", SL_VALUE_NUMBER, bytes);
    put(ev, "[url][original]", SL_VALUE_STRING, url);
    put(ev, "[user_agent][original]", SL_VALUE_STRING, ua);
    put(ev, "[log][file][path]", SL_VALUE_STRING,
        "/var/log/apache2/access.log");
    put(ev, "[log][offset]", SL_VALUE_NUMBER, off);
    put(ev, "[host][name]", SL_VALUE_STRING, PICK(hosts));
}

/* ---- yajl: the same walk sl_event_write_json does ------------------- */

static yajl_gen_status yajl_value(yajl_gen g, const struct sl_value *v)
{
    const unsigned char *t = (const unsigned char *)v->text.ptr;
    yajl_gen_status s = yajl_gen_status_ok;
    switch (v->type) {
    case SL_VALUE_NULL:
        return yajl_gen_null(g);
    case SL_VALUE_BOOL:
        return yajl_gen_bool(g, v->text.len == 4);
    case SL_VALUE_STRING:
        return yajl_gen_string(g, t, v->text.len);
    case SL_VALUE_NUMBER:
        return yajl_gen_number(g, v->text.ptr, v->text.len);
    case SL_VALUE_OBJECT:
        s = yajl_gen_map_open(g);
        for (const struct sl_value *c = v->first;
             c != NULL && s == yajl_gen_status_ok; c = c->next) {
            s = yajl_gen_string(g, (const unsigned char *)c->key.ptr,
                                c->key.len);
            if (s == yajl_gen_status_ok)
                s = yajl_value(g, c);
        }
        return s == yajl_gen_status_ok ? yajl_gen_map_close(g) : s;
    case SL_VALUE_ARRAY:
        s = yajl_gen_array_open(g);
        for (const struct sl_value *c = v->first;
             c != NULL && s == yajl_gen_status_ok; c = c->next)
            s = yajl_value(g, c);
        return s == yajl_gen_status_ok ? yajl_gen_array_close(g) : s;
    }
    return yajl_gen_invalid_string;
}

/* One event and its newline; the generator is reset for the next value. */
static void yajl_write(yajl_gen g, const struct sl_event *ev)
{
    if (yajl_value(g, &ev->root) != yajl_gen_status_ok)
        die("yajl_gen", "an event failed");
    yajl_gen_reset(g, "\n");
}

static yajl_gen new_yajl(int validate)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        die("yajl_gen_alloc", "out of memory");
    yajl_gen_config(g, yajl_gen_validate_utf8, validate);
    return g;
}

/* ---- checking and timing ------------------------------------------- */

static void check_same(void)
{
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, 1 << 20);
    for (int validate = 0; validate < 2; validate++) {
        yajl_gen g = new_yajl(validate);
        for (long i = 0; i < STAGED; i++) {
            const unsigned char *out;
            size_t len;
            sl_buf_reset(&b);
            yajl_gen_clear(g);
            if (sl_event_write_json(&events[i], &b, &err) < 0 ||
                sl_buf_append_char(&b, '\n', &err) < 0)
                die("sl_event_write_json", err.msg);
            yajl_write(g, &events[i]);
            yajl_gen_get_buf(g, &out, &len);
            if (len != b.len || memcmp(out, b.ptr, len) != 0) {
                fprintf(stderr, "sl:   %.*s\nyajl: %.*s\n", (int)b.len, b.ptr,
                        (int)len, (const char *)out);
                die("check", "the writers differ on the event above");
            }
        }
        yajl_gen_free(g);
    }
    sl_buf_release(&b);
}

/* Writes EVENTS events; returns CPU seconds, adds the bytes to *bytes. */
static double run_sl(struct sl_buf *b, size_t *bytes)
{
    struct sl_err err;
    double t0 = bench_cpu_seconds();
    for (long i = 0; i < EVENTS; i++) {
        if (sl_event_write_json(&events[i % STAGED], b, &err) < 0 ||
            sl_buf_append_char(b, '\n', &err) < 0)
            die("sl_event_write_json", err.msg);
        if (i % BATCH == BATCH - 1) {
            *bytes += b->len;
            sl_buf_reset(b);
        }
    }
    *bytes += b->len;
    sl_buf_reset(b);
    return bench_cpu_seconds() - t0;
}

static double run_yajl(yajl_gen g, size_t *bytes)
{
    const unsigned char *out;
    size_t len;
    double t0 = bench_cpu_seconds();
    for (long i = 0; i < EVENTS; i++) {
        yajl_write(g, &events[i % STAGED]);
        if (i % BATCH == BATCH - 1) {
            yajl_gen_get_buf(g, &out, &len);
            *bytes += len;
            yajl_gen_clear(g);
        }
    }
    yajl_gen_get_buf(g, &out, &len);
    *bytes += len;
    yajl_gen_clear(g);
    return bench_cpu_seconds() - t0;
}

int main(int argc, char **argv)
{
    int runs = 5;
    long show = 0;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--show") == 0)
            show = strtol(argv[i + 1], NULL, 10);
    if (runs < 1 || runs > RUNS_MAX)
        runs = 5;
    struct sl_arena *arena = sl_arena_new(1 << 20);
    if (arena == NULL)
        die("arena", "out of memory");
    for (long i = 0; i < STAGED; i++) {
        sl_event_init(&events[i], arena);
        make_event(&events[i], i);
    }
    check_same();
    if (show > 0) { /* the first N staged events, as written, then exit */
        struct sl_buf one;
        struct sl_err err;
        sl_buf_init(&one, 1 << 20);
        for (long i = 0; i < show && i < STAGED; i++)
            if (sl_event_write_json(&events[i], &one, &err) < 0 ||
                sl_buf_append_char(&one, '\n', &err) < 0)
                die("sl_event_write_json", err.msg);
        fwrite(one.ptr, 1, one.len, stdout);
        sl_buf_release(&one);
        return 0;
    }

    const char *names[3] = {"sl_event", "yajl", "yajl+utf8"};
    double cpu[3][RUNS_MAX];
    size_t bytes[3] = {0};
    struct sl_buf b;
    sl_buf_init(&b, 64 << 20);
    yajl_gen plain = new_yajl(0), utf8 = new_yajl(1);
    for (int r = 0; r < runs; r++) {
        size_t n[3] = {0};
        cpu[0][r] = run_sl(&b, &n[0]);
        cpu[1][r] = run_yajl(plain, &n[1]);
        cpu[2][r] = run_yajl(utf8, &n[2]);
        for (int w = 0; w < 3; w++)
            bytes[w] = n[w];
    }
    double med[3];
    for (int w = 0; w < 3; w++)
        med[w] = bench_median(cpu[w], runs);
    printf("%d runs of %d events (%d distinct), median CPU-s per 1M\n", runs,
           EVENTS, STAGED);
    printf("%-10s %12s %14s %10s\n", "writer", "CPU-s/1M", "bytes/event",
           "x sl");
    for (int w = 0; w < 3; w++)
        printf("%-10s %12.3f %14.1f %10.2f\n", names[w], med[w] * 1e6 / EVENTS,
               (double)bytes[w] / EVENTS, med[w] / med[0]);
    yajl_gen_free(plain);
    yajl_gen_free(utf8);
    sl_buf_release(&b);
    sl_arena_free(arena);
    for (size_t i = 0; i < npaths; i++)
        sl_fieldpath_release(&paths_parsed[i]);
    return 0;
}
