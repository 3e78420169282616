/* list_event.c: a list element as an event (list_event.h): yajl's parser
 * checks the JSON and, through callbacks that track the depth, finds the
 * top-level "@timestamp"; nothing is built. The first value decides
 * whether the element is an object; the parser stops there if not. */
#include "list_event.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_parse.h>

struct scan {
    struct sl_date *iso;
    int depth;
    bool started; /* the first value was seen */
    bool not_object;
    bool ts_next; /* the last key at depth 1 was "@timestamp" */
    bool ts_seen; /* the first top-level "@timestamp" was met */
    bool has_ts;
    int64_t ts_ms;
};

/* A value at the current depth: a scalar, or the start of a container. */
static int value(struct scan *s)
{
    if (!s->started) {
        s->started = true;
        s->not_object = true; /* a scalar or an array at the top */
        return 0;             /* cancel: the reason is ours */
    }
    s->ts_next = false;
    return 1;
}

static int on_null(void *ctx)
{
    return value(ctx);
}

static int on_bool(void *ctx, int b)
{
    (void)b;
    return value(ctx);
}

static int on_number(void *ctx, const char *n, size_t len)
{
    (void)n;
    (void)len;
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
        }
    }
    return value(s);
}

static int on_start_map(void *ctx)
{
    struct scan *s = ctx;
    if (!s->started)
        s->started = true;
    else
        s->ts_next = false;
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
    struct scan s = {.iso = iso};
    yajl_handle h = yajl_alloc(&callbacks, NULL, &s);
    if (h == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
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
    return 0;
}

void list_event_copy_line(char *dst, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = p[i] == '\n' || p[i] == '\r' ? ' ' : p[i];
}

size_t list_event_copy_line_ts(char *dst, const char *p, size_t len,
                               int64_t ts_ms)
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
    list_event_copy_line(dst, p, brace + 1);
    int n = snprintf(dst + brace + 1, LIST_EVENT_TS_EXTRA,
                     "\"@timestamp\":\"%s\"%s", iso, empty ? "" : ",");
    size_t o = brace + 1 + (size_t)n;
    list_event_copy_line(dst + o, p + brace + 1, len - brace - 1);
    return o + len - brace - 1;
}
