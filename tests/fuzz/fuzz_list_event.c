/* fuzz_list_event.c: a list-mode element from anywhere (what another
 * program pushed to the list) read as an event: list_event_parse() must
 * accept or refuse without crashing, leaking or looping, and agree with an
 * independent reading.
 *
 * The oracle is yajl's tree parser on a NUL-terminated copy (so inputs
 * with a NUL or a "\u0000", whose C strings end early, and with "/"
 * because the tree parser allows comments, are only checked not to crash): an
 * element is accepted exactly when the tree is an object; its time is the first
 * top-level "@timestamp" when that is a string sl_date reads as ISO 8601, or
 * epoch milliseconds (an integer, or a string of one), else the given now; its
 * id is sl_event_id over the bytes; its one-line copy has the same length, no
 * "\n" or "\r", and the other bytes unchanged; its bulk line
 * (list_event_copy_fixed) has the same keys, none of the template's objects
 * holding anything but an object or null. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "list_event.h"

#define NOW_MS 1763856000123LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sl_date *iso;

/* A NUL-terminated copy, for yajl's tree parser. */
static char *nul_copy(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* yajl's tree of p (NULL when it does not parse); it copies what it
 * keeps. */
static yajl_val tree(const char *p, size_t len)
{
    char *s = nul_copy(p, len);
    yajl_val v = yajl_tree_parse(s, NULL, 0);
    free(s);
    return v;
}

/* Epoch milliseconds as Elasticsearch's epoch_millis reads them, within
 * sl_date's years: an optional "-" and 1 to 15 digits. */
static bool epoch_ms(const char *s, int64_t *ms)
{
    char *end;
    size_t digits = strspn(s + (s[0] == '-'), "0123456789");
    if (digits == 0 || digits > 15 || s[(s[0] == '-') + digits] != '\0')
        return false;
    long long v = strtoll(s, &end, 10);
    if (v < SL_DATE_MIN_MS || v > SL_DATE_MAX_MS)
        return false;
    *ms = v;
    return true;
}

static void check_tree(const char *p, size_t len, int rc,
                       const struct list_event *le)
{
    char *s = nul_copy(p, len);
    yajl_val v = yajl_tree_parse(s, NULL, 0);
    bool object = v != NULL && YAJL_IS_OBJECT(v);
    if ((rc == 0) != object)
        abort();
    if (object) {
        int64_t want = NOW_MS;
        bool has = false;
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (strcmp(v->u.object.keys[i], "@timestamp") != 0)
                continue;
            yajl_val t = v->u.object.values[i];
            int64_t ms;
            if ((YAJL_IS_STRING(t) &&
                 (sl_date_parse(iso, t->u.string, strlen(t->u.string), &ms) ==
                      0 ||
                  epoch_ms(t->u.string, &ms))) ||
                (YAJL_IS_NUMBER(t) && epoch_ms(t->u.number.r, &ms))) {
                want = ms;
                has = true;
            }
            break;
        }
        if (le->ts_ms != want || le->has_ts != has)
            abort();
    }
    yajl_tree_free(v);
    free(s);
}

/* An element without "@timestamp": its line with the time added is one
 * line, the element's bytes around an inserted "@timestamp" member, and
 * (when the tree can tell) the element's object with "@timestamp" first. */
static void check_line_ts(const char *p, size_t len)
{
    char *line = malloc(len + LIST_EVENT_TS_EXTRA);
    if (line == NULL)
        abort();
    size_t n = list_event_copy_line_ts(line, p, len, NOW_MS);
    const char ts[] = "\"@timestamp\":\"2025-11-23T00:00:00.123Z\"";
    size_t b = 0; /* the blanks before the object */
    while (b < n && line[b] != '\0' && strchr(" \t\f\v", line[b]) != NULL)
        b++;
    if (n > len + LIST_EVENT_TS_EXTRA || b + 1 + sizeof ts > n ||
        line[b] != '{' || memcmp(line + b + 1, ts, sizeof ts - 1) != 0 ||
        memchr(line, '\n', n) != NULL || memchr(line, '\r', n) != NULL)
        abort();
    if (memchr(p, '\0', len) == NULL && memchr(p, '/', len) == NULL) {
        yajl_val ev = tree(p, len), v = tree(line, n);
        if (ev != NULL && YAJL_IS_OBJECT(ev) &&
            (v == NULL || !YAJL_IS_OBJECT(v) ||
             v->u.object.len != ev->u.object.len + 1 ||
             strcmp(v->u.object.keys[0], "@timestamp") != 0))
            abort();
        yajl_tree_free(ev);
        yajl_tree_free(v);
    }
    free(line);
}

/* "\u0000": the tree's C strings would end there. */
static bool has_nul_escape(const char *p, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(p + i, "\\u0000", 6) == 0)
            return true;
    return false;
}

/* Whether the tree's top-level key k is one the template maps as an
 * object (list_event_object_keys). */
static bool object_key(const char *k)
{
    for (size_t i = 0; i < list_event_object_nkeys; i++)
        if (strcmp(k, list_event_object_keys[i]) == 0)
            return true;
    return false;
}

/* The bulk line with the fixes made: one line of at most its size; when
 * the tree can tell (and the element has no escape, which may spell a key
 * the scan leaves alone), an object with the element's keys (and
 * "@timestamp" first when it had none), where no key of
 * list_event_object_keys holds a string, a number, a boolean or an array
 * any more, unless more than LIST_EVENT_FIX_MAX such keys were there. */
static void check_fixed(const char *p, size_t len, const struct list_event *le)
{
    size_t size = list_event_line_size(le, len);
    if (size == 0) {
        if (le->nfix != 0 || !le->ts_key || le->newlines)
            abort();
        return;
    }
    char *line = malloc(size);
    if (line == NULL)
        abort();
    size_t n = list_event_copy_fixed(le, line, p, len);
    if (n > size || memchr(line, '\n', n) != NULL ||
        memchr(line, '\r', n) != NULL)
        abort();
    if (memchr(p, '\0', len) == NULL && memchr(p, '/', len) == NULL &&
        memchr(p, '\\', len) == NULL) {
        yajl_val ev = tree(p, len), v = tree(line, n);
        if (ev != NULL && YAJL_IS_OBJECT(ev)) {
            if (v == NULL || !YAJL_IS_OBJECT(v) ||
                v->u.object.len != ev->u.object.len + !le->ts_key)
                abort();
            for (size_t i = 0;
                 le->nfix < LIST_EVENT_FIX_MAX && i < v->u.object.len; i++) {
                yajl_val x = v->u.object.values[i];
                if (object_key(v->u.object.keys[i]) && !YAJL_IS_OBJECT(x) &&
                    !YAJL_IS_NULL(x))
                    abort();
            }
        }
        yajl_tree_free(ev);
        yajl_tree_free(v);
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_err err;
    if (iso == NULL) {
        const char *f[] = {"ISO8601"};
        iso = sl_date_compile(f, 1, NULL, &err);
        if (iso == NULL)
            abort();
    }
    if (size > 65536)
        return 0;
    const char *p = (const char *)data;
    struct list_event le;
    memset(&le, 0, sizeof le);
    int rc = list_event_parse(iso, p, size, NOW_MS, &le, &err);
    if (rc < 0 && err.status != SL_EPARSE)
        abort();
    if (rc == 0) {
        char id[SL_EVENT_ID_LEN + 1];
        sl_event_id("", 0, p, size, 0, id);
        if (strcmp(id, le.id) != 0)
            abort();
        if (le.has_ts &&
            (le.ts_ms < SL_DATE_MIN_MS || le.ts_ms > SL_DATE_MAX_MS))
            abort();
        char *line = malloc(size + 1);
        if (line == NULL)
            abort();
        list_event_copy_line(line, p, size);
        for (size_t i = 0; i < size; i++)
            if (line[i] != p[i] &&
                !(line[i] == ' ' && (p[i] == '\n' || p[i] == '\r')))
                abort();
        if (memchr(line, '\n', size) != NULL || memchr(line, '\r', size))
            abort();
        free(line);
        if (!le.ts_key)
            check_line_ts(p, size);
        check_fixed(p, size, &le);
    }
    if (memchr(p, '\0', size) == NULL && memchr(p, '/', size) == NULL &&
        !has_nul_escape(p, size))
        check_tree(p, size, rc, &le);
    return 0;
}
