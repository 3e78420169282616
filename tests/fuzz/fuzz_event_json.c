/* fuzz_event_json.c: arbitrary bytes as field names and values of an event;
 * the JSON written must parse, and a value that was valid UTF-8 must read
 * back byte for byte. The whole input as one string must come out as the
 * byte-at-a-time reference writes it (tests/lib/json_reference.c), through
 * the fast path and through the checked path of a buffer at its limit; the
 * event written into a buffer of exactly its size gives the same bytes,
 * and one byte less fails cleanly. Layout: segments separated by NUL bytes,
 * alternating field reference and value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "json_reference.h"
#include "sl_arena.h"
#include "sl_event.h"
#include "sl_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fast path (room for the worst case) and the checked path (a buffer
 * whose maximum is the exact size) both write what the reference writes. */
static void check_string_matches_reference(const char *s, size_t len)
{
    char *want = malloc(6 * len + 2);
    if (want == NULL)
        abort();
    size_t n = json_reference_string((const unsigned char *)s, len, want);
    struct sl_buf fast = SL_BUF_INIT(1 << 24), exact = SL_BUF_INIT(n);
    if (sl_json_write_string(&fast, s, len, NULL) < 0 ||
        sl_json_write_string(&exact, s, len, NULL) < 0 || fast.len != n ||
        exact.len != n || memcmp(fast.ptr, want, n) != 0 ||
        memcmp(exact.ptr, want, n) != 0)
        abort();
    sl_buf_release(&fast);
    sl_buf_release(&exact);
    free(want);
}

static void check_string_roundtrip(const char *s, size_t len)
{
    struct sl_buf b = SL_BUF_INIT(1 << 24);
    check_string_matches_reference(s, len);
    if (sl_json_write_string(&b, s, len, NULL) < 0)
        abort();
    char ebuf[128];
    yajl_val v = yajl_tree_parse(b.ptr, ebuf, sizeof ebuf);
    if (v == NULL || !YAJL_IS_STRING(v))
        abort();
    /* yajl stops strings at NUL; compare only inputs without NUL that were
     * entirely valid UTF-8 (then nothing was replaced). */
    if (memchr(s, '\0', len) == NULL && sl_json_plain_prefix(s, len) == len) {
        const char *got = YAJL_GET_STRING(v);
        if (strlen(got) != len || memcmp(got, s, len) != 0)
            abort();
    }
    yajl_tree_free(v);
    sl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    const char *s = (const char *)data;
    check_string_roundtrip(s, size);
    struct sl_arena *arena = sl_arena_new(4096);
    struct sl_event ev;
    sl_event_init(&ev, arena);
    struct sl_fieldpath paths[32];
    size_t npaths = 0, pos = 0;
    while (pos < size && npaths < 32) {
        const char *nul = memchr(s + pos, '\0', size - pos);
        size_t flen = nul ? (size_t)(nul - (s + pos)) : size - pos;
        size_t vstart = pos + flen + 1;
        const char *vend =
            vstart < size ? memchr(s + vstart, '\0', size - vstart) : NULL;
        size_t vlen = vstart < size ? (vend ? (size_t)(vend - (s + vstart))
                                            : size - vstart)
                                    : 0;
        if (sl_fieldpath_parse(&paths[npaths], s + pos, flen, NULL) == 0) {
            SL_IGNORE_RESULT(sl_event_add(&ev, &paths[npaths], SL_VALUE_STRING,
                                          vstart < size ? s + vstart : "", vlen,
                                          NULL));
            npaths++;
        }
        pos = vstart + vlen + 1;
    }
    SL_IGNORE_RESULT(sl_event_add_tag(&ev, "_fuzz", NULL));
    struct sl_buf out = SL_BUF_INIT(1 << 24);
    if (sl_event_write_json(&ev, &out, NULL) < 0)
        abort();
    char ebuf[256];
    yajl_val v = yajl_tree_parse(out.ptr, ebuf, sizeof ebuf);
    if (v == NULL) {
        fprintf(stderr, "invalid JSON: %s\n", ebuf);
        abort();
    }
    yajl_tree_free(v);
    /* At a buffer's limit (members then written piece by piece): the same
     * bytes at exactly its length, SL_ELIMIT one byte short. */
    struct sl_buf exact = SL_BUF_INIT(out.len), less = SL_BUF_INIT(out.len - 1);
    struct sl_err err;
    if (sl_event_write_json(&ev, &exact, NULL) < 0 || exact.len != out.len ||
        memcmp(exact.ptr, out.ptr, out.len) != 0 ||
        sl_event_write_json(&ev, &less, &err) == 0 || err.status != SL_ELIMIT)
        abort();
    sl_buf_release(&exact);
    sl_buf_release(&less);
    sl_buf_release(&out);
    for (size_t i = 0; i < npaths; i++)
        sl_fieldpath_release(&paths[i]);
    sl_arena_free(arena);
    return 0;
}
