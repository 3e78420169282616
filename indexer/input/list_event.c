/* list_event.c: a list element as an event (list_event.h): yajl's parser
 * checks the JSON and, through callbacks that track the depth, finds the
 * top-level "@timestamp" and the top-level keys to fix; nothing is built.
 * The first value decides whether the element is an object; the parser
 * stops there if not. A key's and a string's place in the element is
 * yajl_get_bytes_consumed() in their callback: the offset just past the
 * token (the whole element is parsed in one call). */
#include "list_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "sl_slice.h"

const char *const list_event_object_keys[] = {
    "agent",      "apache",      "aws",       "bacula", "bind",      "cisco",
    "client",     "destination", "dns",       "error",  "event",     "exim",
    "file",       "haproxy",     "host",      "http",   "iptables",  "java",
    "juniper",    "log",         "mongodb",   "nagios", "netscreen", "network",
    "observer",   "postgresql",  "process",   "rails",  "redis",     "rule",
    "server",     "service",     "shorewall", "source", "span",      "squid",
    "suse",       "system",      "tls",       "trace",  "url",       "user",
    "user_agent", "zeek"};
const size_t list_event_object_nkeys =
    sizeof list_event_object_keys / sizeof list_event_object_keys[0];

#define WRAP_OPEN  "{\"name\":"
#define WRAP_CLOSE "}"

struct scan {
    struct sl_date *iso;
    yajl_handle h;
    const char *p;
    int depth;
    bool started; /* the first value was seen */
    bool not_object;
    bool ts_next;              /* the last key at depth 1 was "@timestamp" */
    bool ts_seen;              /* the first top-level "@timestamp" was met */
    bool fix_next;             /* the last key at depth 1 is one to fix */
    bool fix_host;             /* ... and it is "host" */
    bool fix_source;           /* ... and it is "source" */
    size_t fix_key, fix_after; /* its opening quote; just past its end */
    bool has_ts;
    int64_t ts_ms;
    size_t nfix;
    struct list_event_fix fix[LIST_EVENT_FIX_MAX];
};

static int key_cmp(const void *k, const void *name)
{
    const struct sl_slice *key = k;
    const char *n = *(const char *const *)name;
    size_t nlen = strlen(n);
    int c = memcmp(key->ptr, n, key->len < nlen ? key->len : nlen);
    return c != 0 ? c : (key->len > nlen) - (key->len < nlen);
}

/* A top-level key: one to fix when the template maps it as an object and
 * the element spells it without escapes (the raw bytes are the key). */
static void fix_key(struct scan *s, const unsigned char *key, size_t len)
{
    struct sl_slice k = {(const char *)key, len};
    size_t after = yajl_get_bytes_consumed(s->h);
    s->fix_next = s->nfix < LIST_EVENT_FIX_MAX && after >= len + 2 &&
                  s->p[after - len - 2] == '"' &&
                  memcmp(s->p + after - len - 1, key, len) == 0 &&
                  bsearch(&k, list_event_object_keys, list_event_object_nkeys,
                          sizeof list_event_object_keys[0], key_cmp) != NULL;
    s->fix_host = len == 4 && memcmp(key, "host", 4) == 0;
    s->fix_source = len == 6 && memcmp(key, "source", 6) == 0;
    s->fix_key = after - len - 2;
    s->fix_after = after;
}

/* The value of a key to fix, not an object and not null: a string under
 * "host" is wrapped (wrap: it is a string), anything else renamed. */
static void fix_value(struct scan *s, bool string)
{
    if (!s->fix_next)
        return;
    struct list_event_fix *f = &s->fix[s->nfix++];
    *f = (struct list_event_fix){.key = s->fix_key};
    if (s->fix_source) { /* "_source" is Elasticsearch's own */
        f->suffix = true;
        f->close = s->fix_after - 1;
    }
    if (string && s->fix_host) {
        size_t v = s->fix_after;
        while (s->p[v] != '"') /* blanks and the ':' */
            v++;
        f->wrap = true;
        f->val = v;
        f->end = yajl_get_bytes_consumed(s->h);
    }
}

/* A value at the current depth: a scalar, or the start of a container. */
static int value(struct scan *s)
{
    if (!s->started) {
        s->started = true;
        s->not_object = true; /* a scalar or an array at the top */
        return 0;             /* cancel: the reason is ours */
    }
    s->ts_next = false;
    s->fix_next = false;
    return 1;
}

/* A top-level "@timestamp": null is the time read, as Logstash makes it:
 * the bulk line gets that time in its place (else the document has no
 * time, and no time-filtered view shows it). */
static int on_null(void *ctx)
{
    struct scan *s = ctx;
    if (s->started && s->depth == 1 && s->ts_next &&
        s->nfix < LIST_EVENT_FIX_MAX) {
        size_t end = yajl_get_bytes_consumed(s->h);
        s->fix[s->nfix++] =
            (struct list_event_fix){.stamp = true, .val = end - 4, .end = end};
    }
    return value(ctx);
}

/* A top-level "@timestamp" number, or a string of digits: milliseconds
 * since the epoch, as Elasticsearch's epoch_millis reads it (an integer;
 * a fraction or an exponent is left to Elasticsearch, and the time read
 * names the index). */
static void ts_number(struct scan *s, const char *n, size_t len)
{
    size_t i = len > 0 && n[0] == '-';
    if (len == i || len - i > 15)
        return;
    int64_t v = 0;
    for (; i < len; i++) {
        if (n[i] < '0' || n[i] > '9')
            return;
        v = v * 10 + (n[i] - '0');
    }
    v = n[0] == '-' ? -v : v;
    if (v < SL_DATE_MIN_MS || v > SL_DATE_MAX_MS)
        return;
    s->ts_ms = v;
    s->has_ts = true;
}

static int on_bool(void *ctx, int b)
{
    (void)b;
    fix_value(ctx, false);
    return value(ctx);
}

static int on_number(void *ctx, const char *n, size_t len)
{
    struct scan *s = ctx;
    if (s->started && s->depth == 1 && s->ts_next)
        ts_number(s, n, len);
    fix_value(ctx, false);
    return value(ctx);
}

static int on_string(void *ctx, const unsigned char *str, size_t len)
{
    struct scan *s = ctx;
    if (s->started && s->depth == 1 && s->ts_next) {
        int64_t ms;
        if (sl_date_parse(s->iso, (const char *)str, len, &ms) == 0) {
            s->ts_ms = ms;
            s->has_ts = true;
        } else {
            ts_number(s, (const char *)str, len); /* epoch_millis reads
                                                     "1700000000123" too */
        }
    }
    fix_value(s, true);
    return value(s);
}

static int on_start_map(void *ctx)
{
    struct scan *s = ctx;
    if (!s->started)
        s->started = true;
    else
        s->ts_next = s->fix_next = false;
    s->depth++;
    return 1;
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    struct scan *s = ctx;
    s->ts_next = s->depth == 1 && !s->ts_seen && len == 10 &&
                 memcmp(key, "@timestamp", 10) == 0;
    if (s->ts_next)
        s->ts_seen = true; /* only the first counts, as in a tree */
    s->fix_next = false;
    if (s->depth == 1)
        fix_key(s, key, len);
    return 1;
}

static int on_end(void *ctx)
{
    struct scan *s = ctx;
    s->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    struct scan *s = ctx;
    fix_value(s, false);
    if (value(s) == 0)
        return 0;
    s->depth++;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,  on_end, on_start_array, on_end};

/* yajl's own words for a parse error, without its trailing newline; at is
 * the byte offset (yajl_get_bytes_consumed() is that of the last call, so
 * after yajl_complete_parse() the caller passes the end). */
static int parse_error(yajl_handle h, const char *p, size_t len, size_t at,
                       struct sl_err *err)
{
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)p, len);
    size_t n = msg != NULL ? strcspn((const char *)msg, "\n") : 0;
    sl_err_set(err, SL_EPARSE, "not JSON: %.*s near byte %zu", (int)n,
               msg != NULL ? (const char *)msg : "", at);
    if (msg != NULL)
        yajl_free_error(h, msg);
    return -1;
}

int list_event_parse(struct sl_date *iso, const char *p, size_t len,
                     int64_t now_ms, struct list_event *out, struct sl_err *err)
{
    struct scan s = {.iso = iso, .p = p};
    yajl_handle h = yajl_alloc(&callbacks, NULL, &s);
    if (h == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    s.h = h;
    yajl_status st = yajl_parse(h, (const unsigned char *)p, len);
    size_t at = yajl_get_bytes_consumed(h);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        at = len;
    }
    size_t first = 0;
    while (first < len && (p[first] == ' ' || p[first] == '\t' ||
                           p[first] == '\r' || p[first] == '\n'))
        first++;
    int rc = 0;
    if (s.not_object)
        rc = sl_err_set(err, SL_EPARSE, "%s, expected a JSON object",
                        p[first] == '[' ? "a JSON array" : "a JSON scalar");
    else if (first == len)
        rc = sl_err_set(err, SL_EPARSE, "empty, expected a JSON object");
    else if (st != yajl_status_ok)
        rc = parse_error(h, p, len, at, err);
    yajl_free(h);
    if (rc < 0)
        return -1;
    sl_event_id("", 0, p, len, 0, out->id);
    out->has_ts = s.has_ts;
    out->ts_key = s.ts_seen;
    out->ts_ms = s.has_ts ? s.ts_ms : now_ms;
    out->newlines =
        memchr(p, '\n', len) != NULL || memchr(p, '\r', len) != NULL;
    out->nfix = s.nfix;
    memcpy(out->fix, s.fix, s.nfix * sizeof s.fix[0]);
    return 0;
}

void list_event_copy_line(char *dst, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = p[i] == '\n' || p[i] == '\r' ? ' ' : p[i];
}

/* Where "@timestamp" goes in an accepted element (just past its "{"),
 * and the member to insert there, in ts (LIST_EVENT_TS_EXTRA bytes): its
 * length. */
static size_t ts_member(const char *p, size_t len, int64_t ts_ms, char *ts,
                        size_t *at)
{
    char iso[SL_DATE_ISO8601_SIZE];
    if (sl_date_format_iso8601_ms(ts_ms, iso) < 0)
        memcpy(iso, "1970-01-01T00:00:00.000Z", sizeof iso);
    /* accepted: blanks, then the object's "{" */
    size_t brace = 0;
    while (brace < len && p[brace] != '{')
        brace++;
    size_t rest = brace + 1;
    while (rest < len && strchr(" \t\r\n\f\v", p[rest]) != NULL &&
           p[rest] != '\0') /* yajl's blanks */
        rest++;
    bool empty = rest < len && p[rest] == '}';
    *at = brace + 1;
    int n = snprintf(ts, LIST_EVENT_TS_EXTRA, "\"@timestamp\":\"%s\"%s", iso,
                     empty ? "" : ",");
    return (size_t)n;
}

size_t list_event_copy_line_ts(char *dst, const char *p, size_t len,
                               int64_t ts_ms)
{
    struct list_event le = {.ts_ms = ts_ms};
    return list_event_copy_fixed(&le, dst, p, len);
}

size_t list_event_line_size(const struct list_event *le, size_t len)
{
    if (le->ts_key && !le->newlines && le->nfix == 0)
        return 0;
    size_t n = len + (le->ts_key ? 0 : LIST_EVENT_TS_EXTRA);
    for (size_t i = 0; i < le->nfix; i++) {
        if (le->fix[i].stamp) /* null (4 bytes) becomes "ISO" */
            n += SL_DATE_ISO8601_SIZE + 1 - 4;
        else
            n += le->fix[i].wrap ? sizeof WRAP_OPEN - 1 + sizeof WRAP_CLOSE - 1
                                 : (size_t)1 + le->fix[i].suffix;
    }
    return n;
}

/* ts_ms as a JSON string, "2025-11-23T02:46:00.123Z", in ts
 * (SL_DATE_ISO8601_SIZE + 2 bytes): its length. */
static size_t stamp(int64_t ts_ms, char *ts)
{
    char iso[SL_DATE_ISO8601_SIZE];
    if (sl_date_format_iso8601_ms(ts_ms, iso) < 0)
        memcpy(iso, "1970-01-01T00:00:00.000Z", sizeof iso);
    int n = snprintf(ts, SL_DATE_ISO8601_SIZE + 2, "\"%s\"", iso);
    return n > 0 ? (size_t)n : 0;
}

/* The element's bytes [*pos, to) as one line, then ins: the new end. */
static size_t put(char *dst, size_t o, const char *p, size_t *pos, size_t to,
                  const char *ins, size_t n)
{
    list_event_copy_line(dst + o, p + *pos, to - *pos);
    o += to - *pos;
    memcpy(dst + o, ins, n);
    *pos = to;
    return o + n;
}

size_t list_event_copy_fixed(const struct list_event *le, char *dst,
                             const char *p, size_t len)
{
    size_t o = 0, pos = 0;
    if (!le->ts_key) {
        char ts[LIST_EVENT_TS_EXTRA];
        size_t at, n = ts_member(p, len, le->ts_ms, ts, &at);
        o = put(dst, o, p, &pos, at, ts, n);
    }
    for (size_t i = 0; i < le->nfix; i++) {
        const struct list_event_fix *f = &le->fix[i];
        if (f->stamp) {
            char ts[SL_DATE_ISO8601_SIZE + 2];
            size_t n = stamp(le->ts_ms, ts);
            o = put(dst, o, p, &pos, f->val, ts, n);
            pos = f->end;
            continue;
        }
        if (!f->wrap) {
            o = put(dst, o, p, &pos, f->key + 1, "_", 1);
            if (f->suffix)
                o = put(dst, o, p, &pos, f->close, "_", 1);
            continue;
        }
        o = put(dst, o, p, &pos, f->val, WRAP_OPEN, sizeof WRAP_OPEN - 1);
        o = put(dst, o, p, &pos, f->end, WRAP_CLOSE, sizeof WRAP_CLOSE - 1);
    }
    return put(dst, o, p, &pos, len, "", 0);
}
