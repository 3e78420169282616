/* sl_buf.c: growable bounded buffer. Growth doubles, so appends are amortized
 * O(1); the max is checked before any allocation. Every entry asserts the
 * invariants of sl_buf.h (Debug, Asan and Fuzz builds; not Release, which
 * defines NDEBUG), as SQLite documents and checks its own. */
#include "sl_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_buf_init(struct sl_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sl_buf_release(struct sl_buf *b)
{
    assert(sl_buf_sized(b));
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void sl_buf_reset(struct sl_buf *b)
{
    assert(sl_buf_sized(b));
    b->len = 0;
    if (b->cap > 0)
        b->ptr[0] = '\0';
}

int sl_buf_grow(struct sl_buf *b, size_t n, struct sl_err *err)
{
    assert(sl_buf_valid(b));
    if (n > b->max || b->len > b->max - n)
        return sl_err_set(err, SL_ELIMIT,
                          "buffer would exceed its limit of %zu bytes", b->max);
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->ptr, cap + SL_BUF_SLACK);
    if (p == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory growing a buffer");
    if (b->ptr == NULL)
        p[0] = '\0'; /* first memory: the invariant holds from here */
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int sl_buf_append_str(struct sl_buf *b, const char *s, struct sl_err *err)
{
    assert(s != NULL);
    return sl_buf_append(b, s, strlen(s), err);
}

int sl_buf_printf(struct sl_buf *b, struct sl_err *err, const char *fmt, ...)
{
    assert(sl_buf_valid(b));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sl_err_set(err, SL_EINVAL, "bad format string");
    if (sl_buf_reserve(b, (size_t)n, err) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *sl_buf_take(struct sl_buf *b)
{
    assert(sl_buf_valid(b));
    char *p = b->ptr;
    if (p == NULL)
        p = calloc(1, 1);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
