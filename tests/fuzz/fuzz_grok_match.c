/* fuzz_grok_match.c: outside lines against real built-in patterns (ECS v1),
 * with the captures written as JSON, which must always parse. Compiled once;
 * every input is one line. The event's root holds some fields before the
 * captures (chosen by the line's first byte: an object, a value, a tag where
 * captures go), and grok_capture_into must build what adding each capture
 * with sl_event_add builds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "grok.h"
#include "sl_arena.h"
#include "sl_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct grok *g;
static struct sl_arena *arena;

static void init(void)
{
    struct sl_err err;
    struct grok_library *lib = grok_library_new();
    char dir[GROK_DIR_MAX];
    if (grok_builtin_dir("v1", dir, sizeof dir, &err) < 0 ||
        grok_library_load_dir(lib, dir, &err) < 0) {
        fprintf(stderr, "fuzz_grok_match: %s\n", err.msg);
        abort();
    }
    const char *exprs[] = {"%{HTTPD_COMBINEDLOG}", "%{SYSLOGLINE}",
                           "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:lvl} "
                           "%{GREEDYDATA:msg}",
                           "%{IP:ip} %{NUMBER:n:float} %{INT:i:int} "
                           "%{QS:q} %{URI:u}",
                           "%{WORD:tags} %{WORD:[tags][x]} %{WORD:[a][b]} "
                           "%{WORD:a} %{WORD:[_tags][y]} %{WORD:[a][c]:int} "
                           "%{WORD:[http][version]} %{WORD:tags}"};
    struct grok_options o = {.match_limit = 200000};
    g = grok_compile(lib, exprs, sizeof exprs / sizeof exprs[0], &o, &err);
    if (g == NULL) {
        fprintf(stderr, "fuzz_grok_match: %s\n", err.msg);
        abort();
    }
    grok_library_free(lib);
    arena = sl_arena_new(4096);
}

/* The root before the captures: message, and some of http (an object),
 * source (a value), tags and _tags, as bits of the line's first byte say. */
static void fill_root(struct sl_event *ev, const uint8_t *data, size_t size)
{
    static struct sl_fieldpath http, source, utags;
    if (http.nseg == 0 &&
        (sl_fieldpath_parse(&http, "http.request.x", 14, NULL) < 0 ||
         sl_fieldpath_parse(&source, "source", 6, NULL) < 0 ||
         sl_fieldpath_parse(&utags, "_tags", 5, NULL) < 0))
        abort();
    unsigned bits = size > 0 ? data[0] : 0;
    SL_IGNORE_RESULT(sl_event_put_top(ev, "message", SL_VALUE_STRING,
                                      (const char *)data, size, NULL));
    if (bits & 1)
        SL_IGNORE_RESULT(
            sl_event_put(ev, &http, SL_VALUE_STRING, "p", 1, NULL));
    if (bits & 2)
        SL_IGNORE_RESULT(
            sl_event_put(ev, &source, SL_VALUE_NUMBER, "1", 1, NULL));
    if (bits & 4)
        SL_IGNORE_RESULT(sl_event_add_tag(ev, "_t", NULL));
    if (bits & 8)
        SL_IGNORE_RESULT(
            sl_event_put(ev, &utags, SL_VALUE_STRING, "u", 1, NULL));
}

/* What grok_capture_into must build: each capture added with sl_event_add. */
static int add_one_by_one(struct sl_event *ev)
{
    int rc = 0;
    for (size_t i = 0; i < grok_capture_count(g); i++) {
        const struct sl_fieldpath *f;
        enum grok_type type;
        const char *v;
        size_t len;
        if (!grok_capture_get(g, i, &f, &type, &v, &len) || len == 0)
            continue;
        enum sl_value_type t = SL_VALUE_NUMBER;
        char *num = sl_arena_alloc(arena, len + 64);
        if (num == NULL)
            abort();
        if (type == GROK_TYPE_STRING)
            t = SL_VALUE_STRING;
        else if (type == GROK_TYPE_INT)
            len = grok_convert_int(v, len, num, len + 64), v = num;
        else
            len = grok_convert_float(v, len, num, len + 64), v = num;
        if (sl_event_add(ev, f, t, v, len, NULL) < 0)
            rc = -1;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g == NULL)
        init();
    if (size > 65536)
        return 0;
    struct sl_event ev, ref;
    struct sl_err err;
    struct sl_buf out = SL_BUF_INIT(1 << 24), want = SL_BUF_INIT(1 << 24);
    sl_arena_reset(arena);
    sl_event_init(&ev, arena);
    sl_event_init(&ref, arena);
    fill_root(&ev, data, size);
    fill_root(&ref, data, size);
    if (grok_match(g, (const char *)data, size) == GROK_MATCH &&
        grok_capture_into(g, &ev, &err) != add_one_by_one(&ref)) {
        fprintf(stderr, "grok_capture_into and sl_event_add disagree\n");
        abort();
    }
    if (sl_event_write_json(&ev, &out, &err) == 0) {
        char ebuf[256];
        yajl_val v = yajl_tree_parse(out.ptr, ebuf, sizeof ebuf);
        if (v == NULL) {
            fprintf(stderr, "invalid JSON written: %s\n%s\n", ebuf, out.ptr);
            abort();
        }
        yajl_tree_free(v);
        if (sl_event_write_json(&ref, &want, &err) < 0 ||
            strcmp(out.ptr, want.ptr) != 0) {
            fprintf(stderr, "grok_capture_into built\n%s\nsl_event_add\n%s\n",
                    out.ptr, want.ptr);
            abort();
        }
    }
    sl_buf_release(&out);
    sl_buf_release(&want);
    return 0;
}
