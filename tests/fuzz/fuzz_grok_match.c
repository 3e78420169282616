/* fuzz_grok_match.c: outside lines against real built-in patterns (ECS v1),
 * with the captures written as JSON, which must always parse. Compiled once;
 * every input is one line. */
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
                           "%{QS:q} %{URI:u}"};
    struct grok_options o = {.match_limit = 200000};
    g = grok_compile(lib, exprs, sizeof exprs / sizeof exprs[0], &o, &err);
    if (g == NULL) {
        fprintf(stderr, "fuzz_grok_match: %s\n", err.msg);
        abort();
    }
    grok_library_free(lib);
    arena = sl_arena_new(4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g == NULL)
        init();
    if (size > 65536)
        return 0;
    struct sl_event ev;
    struct sl_err err;
    struct sl_buf out = SL_BUF_INIT(1 << 24);
    sl_arena_reset(arena);
    sl_event_init(&ev, arena);
    SL_IGNORE_RESULT(sl_event_put_top(&ev, "message", SL_VALUE_STRING,
                                      (const char *)data, size, &err));
    if (grok_match(g, (const char *)data, size) == GROK_MATCH)
        SL_IGNORE_RESULT(grok_capture_into(g, &ev, &err));
    if (sl_event_write_json(&ev, &out, &err) == 0) {
        char ebuf[256];
        yajl_val v = yajl_tree_parse(out.ptr, ebuf, sizeof ebuf);
        if (v == NULL) {
            fprintf(stderr, "invalid JSON written: %s\n%s\n", ebuf, out.ptr);
            abort();
        }
        yajl_tree_free(v);
    }
    sl_buf_release(&out);
    return 0;
}
