/* fuzz_proc_json.c: the json processor on outside bytes (a log line). Byte
 * 0 picks the options: merge at the top or under a target, ecs_keys on or
 * off, max_depth 1, 4 or 64, and whether the charset processor (from
 * ISO-8859-1 or Windows-1252) runs before it; the rest is the line, in the
 * event's "message", with an arena capped at 16 MiB (room for any line
 * here). Checks: the event is kept; what it writes is one valid JSON
 * object, as yajl's tree parser reads it; the charset processor leaves a
 * valid UTF-8 line as it is and makes any other valid UTF-8, each byte one
 * character (ISO-8859-1's byte b U+00b); a line tagged _jsonparsefailure
 * keeps its message, the same bytes (after the charset processor); a
 * message that is valid UTF-8 without NUL and that yajl's tree parser
 * reads as a value the options take (an object, or anything under a
 * target, no deeper than max_depth) is not tagged (unless it may hold a
 * comment, which yajl's tree parser allows and JSON does not).
 * Lines are bounded to 64 KiB, so findings are bugs, not slowness. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "process.h"
#include "sl_config.h"
#include "sl_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_MAX_BYTES (64 * 1024)

static int depth_of(const yajl_val v)
{
    int d = 0;
    if (YAJL_IS_OBJECT(v))
        for (size_t i = 0; i < v->u.object.len; i++) {
            int k = depth_of(v->u.object.values[i]);
            d = k > d ? k : d;
        }
    else if (YAJL_IS_ARRAY(v))
        for (size_t i = 0; i < v->u.array.len; i++) {
            int k = depth_of(v->u.array.values[i]);
            d = k > d ? k : d;
        }
    else
        return 0;
    return d + 1;
}

/* Valid UTF-8, and without NUL when nul is false; *chars its characters. */
static bool utf8_text(const uint8_t *s, size_t n, bool nul, size_t *chars)
{
    *chars = 0;
    for (size_t i = 0; i < n; ++*chars) {
        if (s[i] == 0 && !nul)
            return false;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sl_utf8_seq_len(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static bool plain_utf8(const uint8_t *s, size_t n)
{
    size_t chars;
    return utf8_text(s, n, false, &chars);
}

/* What the charset processor must make of line[0..len) (not valid UTF-8):
 * valid UTF-8 of len characters, from ISO-8859-1 each byte's code point. */
static void check_charset(const uint8_t *line, size_t len, bool latin1,
                          const struct sl_value *m)
{
    const uint8_t *t = (const uint8_t *)m->text.ptr;
    size_t chars, o = 0;
    if (!utf8_text(t, m->text.len, true, &chars) || chars != len)
        abort();
    for (size_t i = 0; latin1 && i < len; i++) {
        if (line[i] < 0x80 ? t[o] != line[i]
                           : t[o] != (0xC0 | (line[i] >> 6)) ||
                                 t[o + 1] != (0x80 | (line[i] & 0x3F)))
            abort();
        o += line[i] < 0x80 ? 1 : 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int depths[4] = {64, 1, 4, 64};
    if (size < 1 || size > LINE_MAX_BYTES + 1)
        return 0;
    uint8_t opt = data[0];
    int max_depth = depths[opt & 3];
    bool target = opt & 4, ecs = !(opt & 8), charset = opt & 16,
         latin1 = opt & 32;
    char doc[256];
    snprintf(doc, sizeof doc,
             "{\"p\": [%s{\"json\": {\"max_depth\": %d, \"ecs_keys\": %s%s}}]}",
             !charset ? ""
             : latin1 ? "{\"charset\": {\"from\": \"latin1\"}}, "
                      : "{\"charset\": {}}, ",
             max_depth, ecs ? "true" : "false",
             target ? ", \"target\": \"j\"" : "");
    struct sl_err err;
    struct sl_config *cfg = sl_config_load_buffer("f", doc, strlen(doc), &err);
    struct proc_chain *c =
        cfg ? proc_chain_new(sl_config_get(sl_config_root(cfg), "p"), NULL,
                             NULL, &err)
            : NULL;
    if (c == NULL)
        abort();
    const char *line = (const char *)data + 1;
    size_t len = size - 1, chars;
    bool valid = utf8_text(data + 1, len, true, &chars);
    struct sl_arena *a = sl_arena_new(4096);
    sl_arena_set_limit(a, 16 << 20);
    struct sl_event ev;
    sl_event_init(&ev, a);
    if (sl_event_put_top(&ev, "@timestamp", SL_VALUE_STRING, "", 0, &err) < 0 ||
        sl_event_put_top(&ev, "message", SL_VALUE_STRING, line, len, &err) < 0)
        abort();
    int64_t ts = 1795428000000LL;
    if (proc_chain_run(c, &ev, &ts) != PROC_KEEP)
        abort();
    bool failed = sl_event_has_tag(&ev, "_jsonparsefailure");
    struct sl_buf out;
    sl_buf_init(&out, 64 << 20);
    if (sl_event_write_json(&ev, &out, &err) < 0)
        abort();
    char ebuf[128];
    yajl_val tree = yajl_tree_parse(out.ptr, ebuf, sizeof ebuf);
    if (tree == NULL || !YAJL_IS_OBJECT(tree))
        abort(); /* the writer must always give one JSON object */
    yajl_tree_free(tree);
    if (failed) {
        const struct sl_value *m = ev.root.first->next;
        if (m == NULL || !sl_slice_eq(m->key, "message", 7))
            abort(); /* a failure keeps the line */
        if (charset && !valid) {
            check_charset(data + 1, len, latin1, m);
            line = m->text.ptr; /* the text the json processor read */
            len = m->text.len;
        } else if (m->text.ptr != line || m->text.len != len) {
            abort();
        }
    }
    /* yajl_tree_parse allows comments, which JSON logs never hold and the
     * processor refuses: no oracle for a line that may have one. */
    bool comment = false;
    for (size_t i = 0; i + 1 < len; i++)
        comment |= line[i] == '/' && (line[i + 1] == '/' || line[i + 1] == '*');
    if (failed && !comment && plain_utf8((const uint8_t *)line, len)) {
        char *copy = malloc(len + 1);
        if (copy == NULL)
            abort();
        memcpy(copy, line, len);
        copy[len] = '\0';
        yajl_val in = yajl_tree_parse(copy, ebuf, sizeof ebuf);
        /* yajl's tree parser agrees the line is no object we take */
        if (in != NULL && depth_of(in) <= max_depth &&
            (target || YAJL_IS_OBJECT(in)))
            abort();
        yajl_tree_free(in);
        free(copy);
    }
    sl_buf_release(&out);
    sl_arena_free(a);
    proc_chain_free(c);
    sl_config_free(cfg);
    return 0;
}
