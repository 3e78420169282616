/* sl_copy.h: a copy of a few bytes without a call. */
#ifndef SL_COPY_H
#define SL_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* p[0..n) to o (not overlapping). Most keys and values are short: up to
 * 16 bytes they are moved by two overlapping loads and stores that stay
 * inside p[0..n) and o[0..n), three bytes below 4; longer ones by memcpy.
 * (A memcpy call costs more than the copy for these.) */
static inline void sl_copy_short(void *o, const void *p, size_t n)
{
    unsigned char *d = o;
    const unsigned char *s = p;
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else if (n > 16) {
        memcpy(d, s, n);
    }
}

#endif
