/* fuzz_index_name.c: the index pattern from the input, compiled, then
 * formatted for events that are also from the input. Layout: the pattern
 * up to the first '\n' (at most 1 KiB), then records of 8 bytes of time
 * (little-endian int64, any value: the formatter clamps) and a JSON text up
 * to the next NUL, at most 16 of them. A pattern that does not compile
 * must say why. Every name must be a valid index name (1 to 255 bytes,
 * NUL after it, no upper case, none of \ / * ? " < > | , # : space or
 * control bytes, ASCII, not starting with - _ + ., not "." or ".."), the
 * same as a fresh compile gives (so the date cache never differs from a
 * render), and, when the pattern is dated and has no field and the name
 * reads back, to a period that holds the event's day. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX 16
#define DAY_MS      86400000LL
#define TS_MIN      (-62135596800000LL)
#define TS_MAX      253402300799999LL

static void check_name(struct sl_slice s)
{
    if (s.len == 0 || s.len > INDEX_NAME_MAX || s.ptr[s.len] != '\0')
        abort();
    if (strchr("-_+.", s.ptr[0]) != NULL)
        abort();
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c >= 'A' && c <= 'Z') || c <= ' ' || c >= 0x7f ||
            strchr("\\/*?\"<>|,#:", c) != NULL)
            abort();
    }
}

static int64_t floor_day(int64_t ts)
{
    ts = ts < TS_MIN ? TS_MIN : ts > TS_MAX ? TS_MAX : ts;
    return ts / DAY_MS - (ts % DAY_MS < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 1024 ? size : 1024);
    if (nl == NULL)
        return 0;
    char pattern[1025];
    size_t plen = (size_t)(nl - data);
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    struct sl_err err = {0};
    struct index_name *in = index_name_new(pattern, NULL, &err);
    if (in == NULL) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    const uint8_t *p = nl + 1, *end = data + size;
    for (int r = 0; r < RECORDS_MAX && end - p >= 8; r++) {
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | p[i];
        int64_t ts = (int64_t)u;
        p += 8;
        const uint8_t *z = memchr(p, '\0', (size_t)(end - p));
        size_t jlen = z ? (size_t)(z - p) : (size_t)(end - p);
        struct sl_slice json = {(const char *)p, jlen};
        p += jlen + (z != NULL);

        struct sl_slice s = index_name_format(in, ts, json);
        check_name(s);
        struct index_name *fresh = index_name_new(pattern, NULL, NULL);
        if (fresh == NULL)
            abort();
        struct sl_slice f = index_name_format(fresh, ts, json);
        if (f.len != s.len || memcmp(f.ptr, s.ptr, s.len) != 0)
            abort();
        int64_t last;
        if (!index_name_uses_fields(in) && index_name_dated(in)) {
            /* 0 when the name reads as two periods ("ssxxx") */
            if (index_name_parse(in, s.ptr, s.len, &last) == 1 &&
                (last < floor_day(ts) || last - floor_day(ts) > 366))
                abort();
        }
        index_name_free(fresh);
    }
    index_name_free(in);
    return 0;
}
