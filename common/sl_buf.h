/* sl_buf.h: a growable byte buffer with a maximum (curl's dynbuf rule).
 *
 * Invariants: len <= cap <= max; when cap > 0, ptr[len] == '\0' (one byte
 * beyond len is always reserved), so the contents can be used as a C string
 * when they hold no NUL. A buffer starts empty with SL_BUF_INIT(max) and
 * grows by doubling; an append that would pass max fails with SL_ELIMIT and
 * leaves the buffer unchanged, so memory stays bounded by max + 1 +
 * SL_BUF_SLACK.
 *
 * The memory always extends SL_BUF_SLACK bytes past cap: a writer that has
 * reserved room may store a whole 8-byte word at its last position (the JSON
 * escaper does) without a bounds check per byte. Those bytes never count.
 *
 * Precisely, as sl_buf_valid() checks: an empty buffer with no memory has
 * ptr NULL and len = cap = 0; otherwise len < cap <= max + 1 (cap counts the
 * NUL's byte) and ptr[len] == '\0'. A caller that writes into reserved room
 * itself must store the NUL when it moves len (reset and release, which end
 * a use of the bytes, need only the sizes). In Debug, Asan and Fuzz builds
 * every function asserts this on entry, so a caller that broke it (or a
 * struct never initialised) stops at the next call, not at a later
 * overflow; Release defines NDEBUG and the checks cost nothing. */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sl_err.h"

#define SL_BUF_SLACK 8

struct sl_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

#define SL_BUF_INIT(maxbytes)                                                  \
    {                                                                          \
        NULL, 0, 0, (maxbytes)                                                 \
    }

/* The sizes of the invariants above: all that sl_buf_reset() and
 * sl_buf_release() need, as they end a use of the bytes (a codec that wrote
 * into reserved room and failed leaves no NUL behind). */
static inline bool sl_buf_sized(const struct sl_buf *b)
{
    if (b->ptr == NULL)
        return b->len == 0 && b->cap == 0;
    return b->len < b->cap && b->cap - 1 <= b->max;
}

/* All the invariants above; for assert() in the functions that keep or use
 * the contents. */
static inline bool sl_buf_valid(const struct sl_buf *b)
{
    return sl_buf_sized(b) && (b->ptr == NULL || b->ptr[b->len] == '\0');
}

void sl_buf_init(struct sl_buf *b, size_t max);
/* Frees the memory; the buffer is empty and usable again. */
void sl_buf_release(struct sl_buf *b);
/* Empties the buffer, keeps the memory. */
void sl_buf_reset(struct sl_buf *b);
/* The slow path of sl_buf_reserve: grows the memory (or fails at max). */
SL_MUST_CHECK int sl_buf_grow(struct sl_buf *b, size_t n, struct sl_err *err);
/* Makes room for n more bytes. -1 with SL_ELIMIT past max, SL_ENOMEM.
 * Inline: the JSON writer reserves once per key and string (1.7% of the
 * shipper's time as a call). */
SL_MUST_CHECK static inline int sl_buf_reserve(struct sl_buf *b, size_t n,
                                               struct sl_err *err)
{
    assert(sl_buf_valid(b));
    return n < b->cap - b->len ? 0 : sl_buf_grow(b, n, err);
}
SL_MUST_CHECK int sl_buf_append_str(struct sl_buf *b, const char *s,
                                    struct sl_err *err);
SL_MUST_CHECK int sl_buf_printf(struct sl_buf *b, struct sl_err *err,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The hot path (the JSON writer calls these tens of times per event) is
 * inline: one compare and a store when there is room, which is nearly
 * always once the buffer has grown to a batch. */
SL_MUST_CHECK static inline int sl_buf_append(struct sl_buf *b, const void *p,
                                              size_t n, struct sl_err *err)
{
    assert(sl_buf_valid(b));
    if (n >= b->cap - b->len && sl_buf_grow(b, n, err) < 0)
        return -1;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

SL_MUST_CHECK static inline int sl_buf_append_char(struct sl_buf *b, char c,
                                                   struct sl_err *err)
{
    assert(sl_buf_valid(b));
    if (b->cap - b->len < 2 && sl_buf_grow(b, 1, err) < 0)
        return -1;
    b->ptr[b->len++] = c;
    b->ptr[b->len] = '\0';
    return 0;
}
/* Hands the memory to the caller (free() it) and leaves b empty. Returns an
 * allocated empty string for an empty buffer; NULL only when out of memory. */
char *sl_buf_take(struct sl_buf *b);

#endif
