/* sl_redis_slot.c: see sl_redis_slot.h.
 *
 * The CRC runs bit by bit: keys are a few dozen bytes, and a slot is
 * computed once per command at most, so a 512-byte table would buy
 * nothing measurable. */
#include "sl_redis_slot.h"

#include <string.h>

#include "sl_ascii.h"
#include "sl_text.h"

uint16_t sl_redis_crc16(const void *p, size_t len)
{
    const unsigned char *b = p;
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)b[i] << 8;
        for (int k = 0; k < 8; k++)
            crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
        crc &= 0xFFFF;
    }
    return (uint16_t)crc;
}

unsigned sl_redis_key_slot(const void *key, size_t len)
{
    const char *k = key;
    const char *open = memchr(k, '{', len);
    if (open != NULL) {
        size_t from = (size_t)(open - k) + 1;
        const char *close = memchr(open + 1, '}', len - from);
        if (close != NULL && close > open + 1)
            return sl_redis_crc16(open + 1, (size_t)(close - open - 1)) &
                   (SL_REDIS_SLOTS - 1);
    }
    return sl_redis_crc16(k, len) & (SL_REDIS_SLOTS - 1);
}

static int bad(const char *s, size_t len, struct sl_err *err)
{
    char q[80];
    return sl_err_set(err, SL_EPARSE,
                      "redirection %s is not 'MOVED|ASK SLOT HOST:PORT'",
                      sl_text_quote(q, sizeof q, s, len, '\''));
}

/* Digits in s[0..n) to a value at most max; -1 when not. */
static long digits(const char *s, size_t n, long max)
{
    long v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!sl_ascii_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

int sl_redis_redirect_parse(const char *s, size_t len,
                            struct sl_redis_redirect *out, struct sl_err *err)
{
    size_t skip;
    memset(out, 0, sizeof *out);
    if (len >= 6 && memcmp(s, "MOVED ", 6) == 0) {
        out->kind = SL_REDIS_MOVED;
        skip = 6;
    } else if (len >= 4 && memcmp(s, "ASK ", 4) == 0) {
        out->kind = SL_REDIS_ASK;
        skip = 4;
    } else {
        return 0;
    }
    const char *p = s + skip, *end = s + len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL)
        return bad(s, len, err);
    long slot = digits(p, (size_t)(sp - p), SL_REDIS_SLOTS - 1);
    const char *addr = sp + 1;
    const char *colon = NULL;
    for (const char *q = addr; q < end; q++)
        if (*q == ':')
            colon = q;
    if (slot < 0 || colon == NULL)
        return bad(s, len, err);
    size_t hlen = (size_t)(colon - addr);
    long port = digits(colon + 1, (size_t)(end - colon - 1), 65535);
    if (port <= 0 || hlen >= sizeof out->host ||
        memchr(addr, ' ', hlen) != NULL)
        return bad(s, len, err);
    memcpy(out->host, addr, hlen);
    out->host[hlen] = '\0';
    out->slot = (unsigned)slot;
    out->port = (uint16_t)port;
    return 1;
}
