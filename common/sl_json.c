/* sl_json.c: escaping and number formatting for the JSON writer.
 *
 * The string writer reserves room for the worst case (6 output bytes per
 * input byte) and then writes without checks: it tests 16 input bytes at a
 * time (SSE2), then 8 (a word), for a byte that needs care and stores them
 * whole when none does; a string shorter than 8 bytes is tested as one word
 * put together from two overlapping loads. Multi-byte UTF-8 is validated per
 * RFC 3629 (no overlongs, no surrogates, max U+10FFFF); each byte of an invalid
 * sequence becomes U+FFFD, so nothing is dropped silently. Near the buffer's
 * maximum, where the worst case does not fit, a checked path appends piece by
 * piece. */
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

/* Writes the escape of ASCII byte c (< 0x20, '"' or '\\') at o: by name
 * where JSON has one, else \u00XX. */
static char *put_escape(char *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    static const char named[] = {
        ['"'] = '"',  ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r',
        ['\t'] = 't', ['\b'] = 'b',  ['\f'] = 'f'};
    o[0] = '\\';
    if (c < sizeof named && named[c] != 0) {
        o[1] = named[c];
        return o + 2;
    }
    memcpy(o + 1, "u00", 3);
    o[4] = hex[c >> 4];
    o[5] = hex[c & 15];
    return o + 6;
}

/* Where an escape leaves the output (o) and the input (i). Returned, not
 * passed by address: the loops keep both in registers. */
struct at {
    char *o;
    size_t i;
};

/* Writes what the byte at p[i] becomes, a byte that needs care: an escape,
 * the valid multi-byte sequence it starts (copied as is), or U+FFFD for a
 * byte that starts no valid sequence; at most 6 bytes per byte consumed. */
static struct at put_care(char *o, const unsigned char *p, size_t len, size_t i)
{
    unsigned char c = p[i];
    if (c < 0x80)
        return (struct at){put_escape(o, c), i + 1};
    size_t n = sl_utf8_seq_len(p + i, len - i);
    if (n > 0) {
        memcpy(o, p + i, n);
        return (struct at){o + n, i + n};
    }
    memcpy(o, "\xEF\xBF\xBD", 3);
    return (struct at){o + 3, i + 1};
}

/* put_care, with the escapes a log line has most (quotes, backslashes)
 * written here: no call. */
static inline struct at put_next(char *o, const unsigned char *p, size_t len,
                                 size_t i)
{
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
        o[0] = '\\';
        o[1] = (char)c;
        return (struct at){o + 2, i + 1};
    }
    return put_care(o, p, len, i);
}

/* Nonzero when one of the 8 bytes in v needs care: >= 0x80, < 0x20, '"' or
 * '\\' (the classic "has a zero byte" test, Hacker's Delight 6-1). A borrow
 * can flag a byte above a true hit, never one below: the lowest flag is
 * exact. */
static uint64_t swar_care(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return (v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
            ((bs - ones) & ~bs)) &
           high;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_JSON_SWAR 1

/* The last n (1..7) of the 8 bytes at p, as the low bytes of a word. */
static inline uint64_t last_bytes(const unsigned char *p, size_t n)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v >> (8 - n) * 8;
}

/* p[0..n), n 1..7, as the low bytes of a word, read without passing
 * p[n - 1]: two overlapping loads of 4 bytes, or three of one. */
static inline uint64_t short_word(const unsigned char *p, size_t n)
{
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (n - 4) * 8;
    }
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (n / 2 * 8) |
           (uint64_t)p[n - 1] << (n - 1) * 8;
}
#endif

#ifdef __SSE2__
#include <emmintrin.h>

/* One bit per byte of p[0..16) that needs care, lowest byte lowest bit.
 * The signed compare with 0x20 catches both the control bytes and every
 * byte >= 0x80 (negative as a signed char). Every x86-64 has SSE2; twice
 * the bytes of swar_care per step for fewer instructions: most strings
 * need no escaping, and the scan was 10% of the shipper's time. */
static unsigned sse2_care(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const void *)p);
    __m128i hit =
        _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* Writes p[0..len) escaped, without quotes, at o, and returns the end. The
 * caller guarantees room for the worst case, 6 bytes per input byte, plus
 * SL_BUF_SLACK: words of 8 bytes are stored whole, before it is known how
 * many of them count. */
static char *escape_into(char *o, const unsigned char *p, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    while (len - i >= 16) {
        unsigned care = sse2_care(p + i);
        _mm_storeu_si128((void *)o, _mm_loadu_si128((const void *)(p + i)));
        if (care == 0) {
            o += 16;
            i += 16;
            continue;
        }
        unsigned plain = (unsigned)__builtin_ctz(care);
        o += plain;
        i += plain;
        struct at a = put_next(o, p, len, i);
        o = a.o;
        i = a.i;
    }
#endif
#ifdef SL_JSON_SWAR
    while (len - i >= 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        uint64_t care = swar_care(v);
        memcpy(o, &v, 8);
        if (care == 0) {
            o += 8;
            i += 8;
            continue;
        }
        unsigned plain = (unsigned)__builtin_ctzll(care) / 8;
        o += plain;
        i += plain;
        struct at a = put_next(o, p, len, i);
        o = a.o;
        i = a.i;
    }
    if (i < len) {
        /* The last 1..7 bytes as the low bytes of a word (the zeros above
         * them are masked off; a borrow never flags a byte below a hit). */
        size_t rest = len - i;
        uint64_t v =
            len >= 8 ? last_bytes(p + len - 8, rest) : short_word(p, len);
        if ((swar_care(v) & ((UINT64_C(1) << (rest * 8)) - 1)) == 0) {
            memcpy(o, &v, 8);
            return o + rest;
        }
    }
#endif
    while (i < len) {
        if (!needs_care[p[i]]) {
            *o++ = (char)p[i++];
        } else {
            struct at a = put_care(o, p, len, i);
            o = a.o;
            i = a.i;
        }
    }
    return o;
}

char *sl_json_escape_ascii(char *o, unsigned char c)
{
    return put_escape(o, c);
}

char *sl_json_escape_into(char *o, const char *s, size_t len)
{
    return escape_into(o, (const unsigned char *)s, len);
}

/* How many bytes put_care writes for the byte that needs care at p[i],
 * and how many it consumes: the escaper's rule, counted. */
static size_t care_len(const unsigned char *p, size_t len, size_t i,
                       size_t *used)
{
    unsigned char c = p[i];
    *used = 1;
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
        c == '\b' || c == '\f')
        return 2;
    if (c < 0x80)
        return 6;
    size_t n = sl_utf8_seq_len(p + i, len - i);
    if (n > 0) {
        *used = n;
        return n;
    }
    return 3;
}

#ifdef __SSE2__
/* The bits set in x (16 bits): __builtin_popcount is a call without
 * -mpopcnt. */
static inline unsigned pop16(unsigned x)
{
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return (x + (x >> 8)) & 0x1fu;
}

/* What the bytes of v that mask selects add to their length when escaped,
 * all ASCII: a quote, a backslash or a control byte with a name 1, any
 * other control byte 5. *hi: one is >= 0x80, and nothing was counted. */
static unsigned sse2_extra(__m128i v, unsigned mask, bool *hi)
{
    if (((unsigned)_mm_movemask_epi8(v) & mask) != 0) {
        *hi = true;
        return 0;
    }
#define EQ(c) _mm_cmpeq_epi8(v, _mm_set1_epi8(c))
    unsigned ctl =
        (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20))) &
        mask;
    unsigned qb =
        (unsigned)_mm_movemask_epi8(_mm_or_si128(EQ('"'), EQ('\\'))) & mask;
    if ((ctl | qb) == 0)
        return 0;
    unsigned named = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(EQ('\n'), EQ('\r')),
                     _mm_or_si128(EQ('\t'), _mm_or_si128(EQ('\b'), EQ('\f')))));
#undef EQ
    return pop16(qb) + pop16(ctl) + 4 * pop16(ctl & ~named);
}
#endif

/* 16 bytes at a time while they are ASCII (the last 16 overlapping, a
 * string shorter than that copied out first), counting the escapes of
 * each block by its masks; from the first byte >= 0x80 on, byte by byte,
 * as put_care goes. */
size_t sl_json_escaped_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, out = len;
#ifdef __SSE2__
    bool hi = false;
    for (; len - i >= 16; i += 16) {
        out += sse2_extra(_mm_loadu_si128((const void *)(p + i)), 0xffffu, &hi);
        if (hi)
            break;
    }
    if (!hi && i < len) {
        size_t rest = len - i;
        __m128i v;
        unsigned mask;
        if (len >= 16) {
            v = _mm_loadu_si128((const void *)(p + len - 16));
            mask = (0xffffu << (16 - rest)) & 0xffffu;
        } else {
            unsigned char tmp[16] = {0};
            memcpy(tmp, p, len);
            v = _mm_loadu_si128((const void *)tmp);
            mask = (1u << rest) - 1;
        }
        out += sse2_extra(v, mask, &hi);
    }
    if (!hi)
        return out;
#endif
    while (i < len) {
        if (!needs_care[p[i]]) {
            i++;
            continue;
        }
        size_t used;
        out += care_len(p, len, i, &used) - used;
        i += used;
    }
    return out;
}

/* What escaping adds to an ASCII byte that needs care: 1 for a quote, a
 * backslash or a control byte with a short name, 5 for the other control
 * bytes (\u00XX); care_len's rule, as a table. */
static const uint8_t ascii_extra[128] = {
    [0] = 5,    [1] = 5,    [2] = 5,    [3] = 5,    [4] = 5,    [5] = 5,
    [6] = 5,    [7] = 5,    ['\b'] = 1, ['\t'] = 1, ['\n'] = 1, [11] = 5,
    ['\f'] = 1, ['\r'] = 1, [14] = 5,   [15] = 5,   [16] = 5,   [17] = 5,
    [18] = 5,   [19] = 5,   [20] = 5,   [21] = 5,   [22] = 5,   [23] = 5,
    [24] = 5,   [25] = 5,   [26] = 5,   [27] = 5,   [28] = 5,   [29] = 5,
    [30] = 5,   [31] = 5,   ['"'] = 1,  ['\\'] = 1};

/* Records the byte at p[k], which needs care, as the n-th of the list; -1
 * when it is not ASCII or the list is full. */
static inline int list_care(const unsigned char *p, size_t k, uint32_t *at,
                            uint8_t *extra, size_t *n, size_t max)
{
    if (p[k] >= 0x80 || *n == max)
        return -1;
    at[*n] = (uint32_t)k;
    extra[(*n)++] = ascii_extra[p[k]];
    return 0;
}

size_t sl_json_care_list(const char *s, size_t len, uint32_t *at,
                         uint8_t *extra, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0, i = 0;
    if (len > UINT32_MAX)
        return SIZE_MAX;
#ifdef __SSE2__
    /* 16 bytes at a time, then the last 16 (overlapping, their bytes
     * before i masked off): a string of 16 bytes or more is never read
     * byte by byte */
    for (; len - i >= 16; i += 16)
        for (unsigned m = sse2_care(p + i); m != 0; m &= m - 1)
            if (list_care(p, i + (unsigned)__builtin_ctz(m), at, extra, &n,
                          max) < 0)
                return SIZE_MAX;
    if (i < len && len >= 16) {
        size_t b = len - 16;
        for (unsigned m = sse2_care(p + b) & (0xffffu << (i - b)); m != 0;
             m &= m - 1)
            if (list_care(p, b + (unsigned)__builtin_ctz(m), at, extra, &n,
                          max) < 0)
                return SIZE_MAX;
        i = len;
    }
#endif
    for (; i < len; i++)
        if (needs_care[p[i]] && list_care(p, i, at, extra, &n, max) < 0)
            return SIZE_MAX;
    return n;
}

/* Near the buffer's maximum, where room for the worst case cannot be had:
 * each run of plain bytes and each byte that needs care is appended with
 * its own check, so a string that fits is written whole. */
static int write_string_checked(struct sl_buf *b, const unsigned char *p,
                                size_t len, struct sl_err *err)
{
    if (sl_buf_append_char(b, '"', err) < 0)
        return -1;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && !needs_care[p[run]])
            run++;
        if (sl_buf_append(b, p + i, run - i, err) < 0)
            return -1;
        i = run;
        if (i < len) {
            char tmp[8];
            struct at a = put_care(tmp, p, len, i);
            i = a.i;
            if (sl_buf_append(b, tmp, (size_t)(a.o - tmp), err) < 0)
                return -1;
        }
    }
    return sl_buf_append_char(b, '"', err);
}

int sl_json_write_string(struct sl_buf *b, const char *s, size_t len,
                         struct sl_err *err)
{
    const unsigned char *p = (const unsigned char *)s;
    /* Reserving the worst case (every byte a \u00XX escape) up front lets
     * the loop write without a check per byte. That much room is nearly
     * always there in a batch buffer, and growth is amortized. */
    if (len > b->max / 6 || 6 * len + 2 > b->max - b->len)
        return write_string_checked(b, p, len, err);
    if (sl_buf_reserve(b, 6 * len + 2, err) < 0)
        return -1;
    char *o = b->ptr + b->len;
    *o++ = '"';
    o = escape_into(o, p, len);
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
