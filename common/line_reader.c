/* line_reader.c: see line_reader.h.
 *
 * Invariant between calls: buf[pos..len) holds bytes not yet returned, at
 * most max_line of them once next() has returned 0, plus the one or two
 * bytes of an ending that may still be dropped. `base` is the stream offset
 * of buf[0]. Compaction (memmove of the unread tail to the front) happens on
 * feed, so returned slices stay valid until the next call.
 *
 * A line longer than max_line is cut: its first max_line bytes stay at
 * buf[pos..gap_at) (`cut_pending`), the rest of it is skipped up to its
 * separator (`skipping`) and counted in `gap`, and the line is returned only
 * once that separator has been seen (or the stream ends), so that its end
 * offset is known. The bytes after buf[gap_at] sit `gap` bytes further on
 * in the stream than their index says; compaction folds the gap into base
 * once the cut line has been returned.
 *
 * Between chunks a reader keeps only what it must: when next() has nothing
 * more to return, its buffer goes (nothing is left), or back to IDLE_CAP
 * bytes if it grew past them (an unterminated line is left).
 * A reader per file otherwise keeps a chunk's worth for good: the shipper
 * following 1,000 files read in 64 KiB chunks held 64 MiB. The cost is one
 * malloc and free a chunk. */
#include "line_reader.h"

#include <stdlib.h>
#include <string.h>

#define IDLE_CAP 4096

struct line_reader {
    char *buf;
    size_t len, pos, cap;
    size_t max_line;
    char sep;             /* '\n', or '\0' for records */
    bool skipping;        /* dropping the rest of a cut line */
    bool cut_pending;     /* a cut line waits at buf[pos..gap_at) */
    size_t gap_at;        /* index where the skipped bytes were */
    uint64_t gap;         /* how many bytes were skipped there */
    uint64_t base;        /* stream offset of buf[0] */
    uint64_t line_offset; /* of the line last returned */
    uint64_t line_end;    /* just past what that line consumed */
    bool skip_holes;      /* line_reader_skip_holes() */
    bool in_hole;         /* the last chunk ended inside a skipped hole */
    uint64_t hole_bytes;  /* skipped so far */
};

/* Stream offset of buf[i]. */
static uint64_t stream_offset(const struct line_reader *lr, size_t i)
{
    return lr->base + i + (i >= lr->gap_at ? lr->gap : 0);
}

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

/* Moves the unread bytes to the front of buf; folds the gap into base once
 * the cut line before it has been returned. */
static void compact(struct line_reader *lr)
{
    if (lr->pos == 0)
        return;
    memmove(lr->buf, lr->buf + lr->pos, lr->len - lr->pos);
    if (lr->pos >= lr->gap_at) {
        lr->base += lr->gap;
        lr->gap = 0;
        lr->gap_at = 0;
    } else {
        lr->gap_at -= lr->pos;
    }
    lr->base += lr->pos;
    lr->len -= lr->pos;
    lr->pos = 0;
}

/* At a 0 from next(), no slice is out: give back a buffer grown for a
 * chunk (the unterminated line, if any, is compacted first). */
static void shrink(struct line_reader *lr)
{
    if (lr->cap == 0 || lr->cut_pending || lr->len - lr->pos > IDLE_CAP)
        return;
    compact(lr);
    if (lr->len == 0) {
        free(lr->buf);
        lr->buf = NULL;
        lr->cap = 0;
        return;
    }
    if (lr->cap <= IDLE_CAP)
        return;
    char *p = realloc(lr->buf, IDLE_CAP);
    if (p != NULL) { /* else the larger one stays: harmless */
        lr->buf = p;
        lr->cap = IDLE_CAP;
    }
}

int line_reader_feed(struct line_reader *lr, const char *data, size_t len,
                     struct sl_err *err)
{
    compact(lr);
    if (lr->skipping) {
        size_t n = skip_rest(lr, data, len);
        lr->gap += n;
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

/* Returns the cut line waiting at buf[pos..gap_at): it ends where the
 * skipped bytes end. */
static int return_cut_line(struct line_reader *lr, struct sl_slice *line,
                           bool *truncated)
{
    line->ptr = lr->buf + lr->pos;
    line->len = lr->gap_at - lr->pos;
    *truncated = true;
    lr->line_offset = stream_offset(lr, lr->pos);
    lr->pos = lr->gap_at;
    lr->line_end = stream_offset(lr, lr->pos);
    lr->cut_pending = false;
    return 1;
}

void line_reader_skip_holes(struct line_reader *lr)
{
    lr->skip_holes = lr->sep == '\n';
}

uint64_t line_reader_hole_bytes(const struct line_reader *lr)
{
    return lr->hole_bytes;
}

/* At a line's start (pos): skips the NUL bytes there when they are a hole
 * (a run of LINE_READER_HOLE_MIN, or the rest of one). true when they are
 * all there is and too few to tell yet: wait for more (at most
 * LINE_READER_HOLE_MIN bytes held). */
static bool skip_hole(struct line_reader *lr)
{
    size_t avail = lr->len - lr->pos, k = 0;
    const char *s = lr->buf + lr->pos;
    while (k < avail && s[k] == '\0')
        k++;
    if (k > 0 && (lr->in_hole || k >= LINE_READER_HOLE_MIN)) {
        lr->pos += k;
        lr->hole_bytes += k;
        lr->in_hole = k == avail; /* it may go on in the next chunk */
        return false;
    }
    lr->in_hole = false;
    return k > 0 && k == avail;
}

int line_reader_next(struct line_reader *lr, struct sl_slice *line,
                     bool *truncated)
{
    if (lr->cut_pending)
        return lr->skipping ? 0 : return_cut_line(lr, line, truncated);
    if (lr->skip_holes && lr->pos < lr->len && skip_hole(lr)) {
        shrink(lr);
        return 0;
    }
    size_t avail = lr->len - lr->pos;
    if (avail == 0) {
        shrink(lr); /* buf may be NULL from here */
        return 0;
    }
    char *start = lr->buf + lr->pos;
    char *nl = memchr(start, lr->sep, avail);
    if (nl != NULL) {
        size_t n = (size_t)(nl - start);
        lr->line_offset = stream_offset(lr, lr->pos);
        lr->pos += n + 1;
        lr->line_end = stream_offset(lr, lr->pos);
        n = without_ending(lr, start, n);
        *truncated = n > lr->max_line;
        line->ptr = start;
        line->len = *truncated ? lr->max_line : n;
        return 1;
    }
    /* No separator within max_line bytes: cut, keep max_line bytes and skip
     * the rest up to the separator, unless what lies past max_line may still
     * be the ending that is dropped. The bytes past max_line hold no
     * separator: they are the first of the skipped ones. */
    if (avail > lr->max_line &&
        !may_be_ending(lr, start + lr->max_line, avail - lr->max_line)) {
        compact(lr); /* one gap at a time: fold an earlier one first */
        lr->gap_at = lr->max_line;
        lr->gap = avail - lr->max_line;
        lr->len = lr->max_line;
        lr->cut_pending = true;
        lr->skipping = true;
    }
    shrink(lr);
    return 0;
}

int line_reader_finish(struct line_reader *lr, struct sl_slice *line,
                       bool *truncated)
{
    if (lr->cut_pending) { /* the stream ended inside its skipped tail */
        lr->skipping = false;
        return return_cut_line(lr, line, truncated);
    }
    if (lr->pos >= lr->len)
        return 0;
    line->ptr = lr->buf + lr->pos;
    line->len = lr->len - lr->pos;
    lr->line_offset = stream_offset(lr, lr->pos);
    lr->pos = lr->len;
    lr->line_end = stream_offset(lr, lr->pos);
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

bool line_reader_in_line(const struct line_reader *lr)
{
    return lr->pos < lr->len || lr->skipping || lr->cut_pending;
}

uint64_t line_reader_line_offset(const struct line_reader *lr)
{
    return lr->line_offset;
}

uint64_t line_reader_line_end(const struct line_reader *lr)
{
    return lr->line_end;
}
