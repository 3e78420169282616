/* sl_json.c: escaping and number formatting for the JSON writer.
 *
 * The string writer copies runs of plain ASCII in one memcpy and validates
 * multi-byte UTF-8 sequences per RFC 3629 (no overlongs, no surrogates, max
 * U+10FFFF). Each byte of an invalid sequence becomes U+FFFD, so nothing is
 * dropped silently and the output length stays bounded by 3x the input. */
#include "sl_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1: ASCII byte that needs escaping or a non-ASCII byte (slow path). */
static const unsigned char needs_care[256] = {
    ['\0'] = 1, [1] = 1,   [2] = 1,   [3] = 1,    [4] = 1,   [5] = 1,
    [6] = 1,    [7] = 1,   [8] = 1,   [9] = 1,    [10] = 1,  [11] = 1,
    [12] = 1,   [13] = 1,  [14] = 1,  [15] = 1,   [16] = 1,  [17] = 1,
    [18] = 1,   [19] = 1,  [20] = 1,  [21] = 1,   [22] = 1,  [23] = 1,
    [24] = 1,   [25] = 1,  [26] = 1,  [27] = 1,   [28] = 1,  [29] = 1,
    [30] = 1,   [31] = 1,  ['"'] = 1, ['\\'] = 1,
#define HI16(x)                                                                \
    [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1, [x + 4] = 1, [x + 5] = 1,  \
    [x + 6] = 1, [x + 7] = 1, [x + 8] = 1, [x + 9] = 1, [x + 10] = 1,          \
    [x + 11] = 1, [x + 12] = 1, [x + 13] = 1, [x + 14] = 1, [x + 15] = 1
    HI16(128),  HI16(144), HI16(160), HI16(176),  HI16(192), HI16(208),
    HI16(224),  HI16(240)
#undef HI16
};

size_t sl_utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* max U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

size_t sl_json_plain_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (!needs_care[p[i]]) {
            i++;
            continue;
        }
        if (p[i] < 0x80)
            break;
        size_t n = sl_utf8_seq_len(p + i, len - i);
        if (n == 0)
            break;
        i += n;
    }
    return i;
}

static int write_escape(struct sl_buf *b, unsigned char c, struct sl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '"':
        esc[1] = '"';
        break;
    case '\\':
        esc[1] = '\\';
        break;
    case '\n':
        esc[1] = 'n';
        break;
    case '\r':
        esc[1] = 'r';
        break;
    case '\t':
        esc[1] = 't';
        break;
    case '\b':
        esc[1] = 'b';
        break;
    case '\f':
        esc[1] = 'f';
        break;
    default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        n = 6;
    }
    return sl_buf_append(b, esc, n, err);
}

/* Nonzero when one of the 8 bytes in v needs care: >= 0x80, < 0x20, '"' or
 * '\\' (the classic "has a zero byte" test, Hacker's Delight 6-1). */
static uint64_t swar_care(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return (v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
            ((bs - ones) & ~bs)) &
           high;
}

/* One pass: plain bytes are copied while they are scanned, into room
 * reserved for the common case (no escapes: len + 2 bytes). The rare bytes
 * that need care go through sl_buf_append, which may grow the buffer, and
 * then room for the rest is reserved again. */
int sl_json_write_string(struct sl_buf *b, const char *s, size_t len,
                         struct sl_err *err)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *p = (const unsigned char *)s;
    if (sl_buf_reserve(b, len + 2, err) < 0)
        return -1;
    char *o = b->ptr + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        while (len - i >= 8) {
            uint64_t v;
            memcpy(&v, p + i, 8);
            if (swar_care(v))
                break;
            memcpy(o, &v, 8);
            o += 8;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = p[i];
        if (!needs_care[c]) {
            *o++ = (char)c;
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? sl_utf8_seq_len(p + i, len - i) : 0;
        if (n > 0) {
            memcpy(o, p + i, n); /* valid UTF-8: as long as the input */
            o += n;
            i += n;
            continue;
        }
        b->len = (size_t)(o - b->ptr);
        int rc = c < 0x80 ? write_escape(b, c, err)
                          : sl_buf_append(b, replacement, 3, err);
        if (rc < 0 || sl_buf_reserve(b, len - i + 1, err) < 0)
            return -1;
        o = b->ptr + b->len;
        i++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return 0;
}

size_t sl_json_format_double(double v, char *out, size_t outsz)
{
    int n = 0;
    if (!isfinite(v)) {
        n = snprintf(out, outsz, "null");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        n = snprintf(out, outsz, "%.1f", v);
    } else {
        /* Shortest of %.15g..%.17g that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(out, outsz, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
    return n < 0 ? 0 : ((size_t)n < outsz ? (size_t)n : outsz - 1);
}

int sl_json_write_double(struct sl_buf *b, double v, struct sl_err *err)
{
    char tmp[40];
    size_t n = sl_json_format_double(v, tmp, sizeof tmp);
    return sl_buf_append(b, tmp, n, err);
}

int sl_json_write_int(struct sl_buf *b, long long v, struct sl_err *err)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", v);
    return sl_buf_append(b, tmp, (size_t)n, err);
}
