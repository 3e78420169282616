/* sl_file.c: the one read loop and the one write loop (policy in
 * sl_file.h), and a whole-file read on top of them.
 *
 * sl_file_read grows the buffer from the stat size: hint + 1 bytes are
 * asked for first, so a file that did not change reads in one allocation
 * and two read(2)s (the second sees the end). Past that it doubles. A file
 * of exactly max bytes costs one more read of one byte, into a local, to
 * tell "max bytes" from "longer": the buffer never needs room for max + 1.
 * The descriptor is O_CLOEXEC, so a thread that forks while we read does
 * not leak it. */
#include "sl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_STEP 4096 /* a /proc file (stat size 0) is usually smaller */

ssize_t sl_file_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int sl_file_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

#define NOT_REGULAR (-1) /* read_file's answer for a FIFO or a device */

/* Reads fd to its end into out. 0, or an errno value (EFBIG past max);
 * *said when err already holds the reason (out's own growth failed). */
static int read_body(int fd, size_t hint, size_t max, struct sl_buf *out,
                     struct sl_err *err, bool *said)
{
    size_t got = 0;
    size_t step = hint < FIRST_STEP ? FIRST_STEP : hint + 1;
    for (;;) {
        size_t want = max - got < step ? max - got : step;
        if (sl_buf_reserve(out, want, err) < 0) {
            *said = true;
            return err != NULL && err->status == SL_ENOMEM ? ENOMEM : EFBIG;
        }
        if (want == 0) {
            char probe;
            ssize_t n = sl_file_read_full(fd, &probe, 1);
            return n < 0 ? errno : n > 0 ? EFBIG : 0;
        }
        ssize_t n = sl_file_read_full(fd, out->ptr + out->len, want);
        if (n < 0)
            return errno;
        out->len += (size_t)n;
        out->ptr[out->len] = '\0'; /* sl_buf's invariant, for the next call */
        got += (size_t)n;
        if ((size_t)n < want)
            return 0;
        step = got;
    }
}

static int read_file(int fd, size_t max, struct sl_buf *out, struct sl_err *err,
                     bool *said)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (!S_ISREG(st.st_mode))
        return NOT_REGULAR;
    if ((uintmax_t)st.st_size > max)
        return EFBIG;
    return read_body(fd, (size_t)st.st_size, max, out, err, said);
}

/* Sets err for read_file's answer e. */
static void say(struct sl_err *err, int e, const char *w, const char *sp,
                const char *path, size_t max)
{
    if (e == EFBIG)
        sl_err_set(err, SL_ELIMIT, "%s%s'%s' is larger than %zu bytes", w, sp,
                   path, max);
    else if (e == NOT_REGULAR)
        sl_err_set(err, SL_EIO, "cannot read %s%s'%s': not a regular file", w,
                   sp, path);
    else
        sl_err_set(err, SL_EIO, "cannot read %s%s'%s': %s", w, sp, path,
                   sl_strerror(e));
}

int sl_file_read(const char *path, const char *what, size_t max,
                 struct sl_buf *out, struct sl_err *err)
{
    const char *w = what != NULL ? what : "", *sp = what != NULL ? " " : "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        sl_err_set(err, SL_EIO, "cannot open %s%s'%s': %s", w, sp, path,
                   sl_strerror(e));
        errno = e;
        return -1;
    }
    size_t start = out->len;
    bool said = false;
    int e = read_file(fd, max, out, err, &said);
    close(fd);
    if (e == 0)
        return 0;
    if (!said)
        say(err, e, w, sp, path, max);
    else
        sl_err_prefix(err, "cannot read %s%s'%s'", w, sp, path);
    out->len = start;
    if (out->cap > 0)
        out->ptr[start] = '\0';
    errno = e == NOT_REGULAR ? EINVAL : e;
    return -1;
}
