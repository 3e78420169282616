/* sl_slice.h: a borrowed run of bytes. Never owns what it points to; not
 * NUL-terminated unless the owner says so. */
#ifndef SL_SLICE_H
#define SL_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct sl_slice {
    const char *ptr;
    size_t len;
};

#define SL_SLICE_LIT(s) ((struct sl_slice){(s), sizeof(s) - 1})

static inline struct sl_slice sl_slice_from(const char *s)
{
    struct sl_slice sl = {s, s ? strlen(s) : 0};
    return sl;
}

static inline bool sl_slice_eq(struct sl_slice a, const char *b, size_t blen)
{
    return a.len == blen && (blen == 0 || memcmp(a.ptr, b, blen) == 0);
}

/* Whether word occurs in s. */
static inline bool sl_slice_has(struct sl_slice s, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= s.len; i++)
        if (memcmp(s.ptr + i, word, n) == 0)
            return true;
    return false;
}

#endif
