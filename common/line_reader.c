/* line_reader.c: see line_reader.h.
 *
 * Invariant between calls: buf[pos..len) holds bytes not yet returned, at
 * most max_line of them once next() has returned 0, plus the one or two
 * bytes of an ending that may still be dropped (a longer partial line is
 * emitted cut and the reader switches to skipping). `base` is the stream
 * offset of buf[0]. Compaction (memmove of the unread tail to the front)
 * happens on feed, so returned slices stay valid until the next call. */
#include "line_reader.h"

#include <stdlib.h>
#include <string.h>

struct line_reader {
    char *buf;
    size_t len, pos, cap;
    size_t max_line;
    char sep;             /* '\n', or '\0' for records */
    bool skipping;        /* dropping the rest of a cut line */
    uint64_t base;        /* stream offset of buf[0] */
    uint64_t line_offset; /* of the line last returned */
};

static struct line_reader *new_reader(size_t max_line, char sep)
{
    struct line_reader *lr = calloc(1, sizeof *lr);
    if (lr != NULL) {
        lr->max_line = max_line > 0 ? max_line : 1;
        lr->sep = sep;
    }
    return lr;
}

struct line_reader *line_reader_new(size_t max_line)
{
    return new_reader(max_line, '\n');
}

struct line_reader *line_reader_new_records(size_t max_line)
{
    return new_reader(max_line, '\0');
}

void line_reader_free(struct line_reader *lr)
{
    if (lr == NULL)
        return;
    free(lr->buf);
    free(lr);
}

/* The length of s[0..n) without the ending it may carry: the "\r" of a
 * "\r\n" line end, or a record's final "\n" or "\r\n". */
static size_t without_ending(const struct line_reader *lr, const char *s,
                             size_t n)
{
    bool newline = lr->sep == '\n'; /* the separator was the newline */
    if (!newline && n > 0 && s[n - 1] == '\n') {
        n--;
        newline = true;
    }
    if (newline && n > 0 && s[n - 1] == '\r')
        n--;
    return n;
}

/* Whether the k bytes at t, past max_line and with no separator yet, may
 * still turn out to be the ending that without_ending() drops. */
static bool may_be_ending(const struct line_reader *lr, const char *t, size_t k)
{
    if (k == 1 && t[0] == '\r')
        return true;
    return lr->sep != '\n' && ((k == 1 && t[0] == '\n') ||
                               (k == 2 && t[0] == '\r' && t[1] == '\n'));
}

/* While skipping the rest of a cut line: drops bytes up to and including
 * the next separator. Returns how many bytes of data were consumed. */
static size_t skip_rest(struct line_reader *lr, const char *data, size_t len)
{
    const char *nl = memchr(data, lr->sep, len);
    if (nl == NULL)
        return len;
    lr->skipping = false;
    return (size_t)(nl - data) + 1;
}

int line_reader_feed(struct line_reader *lr, const char *data, size_t len,
                     struct sl_err *err)
{
    if (lr->pos > 0) {
        memmove(lr->buf, lr->buf + lr->pos, lr->len - lr->pos);
        lr->base += lr->pos;
        lr->len -= lr->pos;
        lr->pos = 0;
    }
    if (lr->skipping) {
        size_t n = skip_rest(lr, data, len);
        lr->base += n;
        data += n;
        len -= n;
    }
    if (len == 0)
        return 0;
    if (lr->len + len > lr->cap) {
        size_t cap = lr->cap ? lr->cap : 4096;
        while (cap < lr->len + len)
            cap *= 2;
        char *p = realloc(lr->buf, cap);
        if (p == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory reading lines");
        lr->buf = p;
        lr->cap = cap;
    }
    memcpy(lr->buf + lr->len, data, len);
    lr->len += len;
    return 0;
}

int line_reader_next(struct line_reader *lr, struct sl_slice *line,
                     bool *truncated)
{
    size_t avail = lr->len - lr->pos;
    char *start = lr->buf + lr->pos;
    char *nl = avail ? memchr(start, lr->sep, avail) : NULL;
    lr->line_offset = lr->base + lr->pos;
    if (nl != NULL) {
        size_t n = (size_t)(nl - start);
        lr->pos += n + 1;
        n = without_ending(lr, start, n);
        *truncated = n > lr->max_line;
        line->ptr = start;
        line->len = *truncated ? lr->max_line : n;
        return 1;
    }
    /* No separator within max_line bytes: cut, skip the rest, unless what
     * lies past max_line may still be the ending that is dropped. */
    if (avail > lr->max_line &&
        !may_be_ending(lr, start + lr->max_line, avail - lr->max_line)) {
        line->ptr = start;
        line->len = lr->max_line;
        *truncated = true;
        lr->skipping = true;
        lr->pos = lr->len;
        return 1;
    }
    return 0;
}

int line_reader_finish(struct line_reader *lr, struct sl_slice *line,
                       bool *truncated)
{
    if (lr->pos >= lr->len)
        return 0;
    line->ptr = lr->buf + lr->pos;
    line->len = lr->len - lr->pos;
    lr->line_offset = lr->base + lr->pos;
    lr->pos = lr->len;
    /* The end of the stream ends a record as a NUL would, so its ending is
     * dropped. A line's last "\r" had no "\n" after it: it is the line's
     * own byte ("ab\r" stays so), and cut when it is one byte too many. */
    if (lr->sep != '\n')
        line->len = without_ending(lr, line->ptr, line->len);
    *truncated = line->len > lr->max_line;
    if (*truncated)
        line->len = lr->max_line;
    return 1;
}

uint64_t line_reader_line_offset(const struct line_reader *lr)
{
    return lr->line_offset;
}
