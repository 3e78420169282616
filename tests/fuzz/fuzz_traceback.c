/* fuzz_traceback.c: finding a traceback in outside bytes (a multi-line
 * event), tb_parse(), tb_parse_frameless() and the traceback processor. Checks:
 * every slice lies inside the input; a found traceback has a type of name
 * characters (and Python's "<locals>"; Go's "panic", "fatal error" or a
 * signal's name; faulthandler's "Fatal Python error"; none for a Go stack with
 * no header), a line of digits, and a
 * stack trace that ends where the input's last non-blank byte does;
 * parsing twice gives the same; the processor, alone and after the json
 * processor (a JSON log's stacks, arrays of frames too), keeps the event
 * and what it writes is valid JSON. Inputs are bounded to 64 KiB, so findings
 * are bugs, not slowness (the parser walks the lines at most three times). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "proc_traceback.h"
#include "process.h"
#include "sl_ascii.h"
#include "sl_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct sl_slice s, const char *base, size_t size)
{
    if (s.len == 0)
        return;
    if (s.ptr < base || s.ptr + s.len > base + size)
        abort();
}

static void check(int (*parse)(const char *, size_t, struct tb_result *),
                  const char *s, size_t size)
{
    struct tb_result r, again;
    int rc = parse(s, size, &r);
    if (rc != parse(s, size, &again) || memcmp(&r, &again, sizeof r))
        abort();
    if (rc < -1 || rc > 1)
        abort();
    if (rc != 1)
        return;
    struct sl_slice all[] = {r.type, r.message, r.stack,
                             r.file, r.line,    r.function};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        inside(all[i], s, size);
    /* a Go stack with no header names no type */
    if ((r.type.len == 0) != (r.lang == TB_GO_STACK) || r.stack.len == 0)
        abort();
    for (size_t i = 0; i < r.line.len; i++)
        if (!sl_ascii_digit(r.line.ptr[i]))
            abort();
    if (r.lang == TB_GO && !sl_slice_eq(r.type, "panic", 5) &&
        !sl_slice_eq(r.type, "fatal error", 11) &&
        !(r.type.len > 3 && memcmp(r.type.ptr, "SIG", 3) == 0))
        abort();
    /* faulthandler's crash: Python's only type with spaces */
    bool fatal =
        r.lang == TB_PYTHON && sl_slice_eq(r.type, "Fatal Python error", 18);
    for (size_t i = 0; r.lang != TB_GO && !fatal && i < r.type.len; i++) {
        char c = r.type.ptr[i];
        if (!(sl_ascii_alpha(c) || sl_ascii_digit(c) || c == '_' || c == '$' ||
              c == '.' || c == '<' || c == '>'))
            abort();
    }
    const char *end = s + size;
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
                       end[-1] == '\t'))
        end--;
    if (r.stack.ptr + r.stack.len != end)
        abort();
}

/* The processors of doc on the input as the event's message: the event is
 * kept and what it writes is valid JSON. */
static void run_chain(const char *doc, const char *s, size_t size)
{
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("f", doc, strlen(doc), &err);
    struct proc_chain *c =
        cfg ? proc_chain_new(sl_config_get(sl_config_root(cfg), "p"), NULL,
                             NULL, &err)
            : NULL;
    if (c == NULL)
        abort();
    struct sl_arena *a = sl_arena_new(4096);
    struct sl_event ev;
    sl_event_init(&ev, a);
    if (sl_event_put_top(&ev, "message", SL_VALUE_STRING, s, size, &err) < 0)
        abort();
    int64_t ts = 1795428000000LL;
    if (proc_chain_run(c, &ev, &ts) != PROC_KEEP)
        abort();
    struct sl_buf out;
    sl_buf_init(&out, 16 << 20);
    if (sl_event_write_json(&ev, &out, &err) < 0)
        abort();
    char ebuf[128];
    yajl_val tree = yajl_tree_parse(out.ptr, ebuf, sizeof ebuf);
    if (tree == NULL)
        abort();
    yajl_tree_free(tree);
    sl_buf_release(&out);
    sl_arena_free(a);
    proc_chain_free(c);
    sl_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const char *s = (const char *)data;
    check(tb_parse, s, size);
    check(tb_parse_frameless, s, size);
    run_chain("{\"p\": [{\"traceback\": {}}]}", s, size);
    /* a JSON log's stacks: strings, and the arrays of zerolog's and
     * structlog's frames (proc_traceback_frames.c) */
    run_chain("{\"p\": [{\"json\": {}}, {\"traceback\": {}}]}", s, size);
    return 0;
}
