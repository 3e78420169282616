/* sl_file.h: reading a whole file up to a limit, and writing all of a
 * buffer, with one policy for what the kernel may do to a read or a write:
 *
 *   - EINTR (a signal handler installed without SA_RESTART) is retried;
 *   - a short read or write is continued, never taken for the end;
 *   - the end of a file is a read that returns 0, never st_size: files in
 *     /proc say 0 and have content, and a file may grow while it is read.
 *     st_size only rejects a file already too large before any read, and
 *     sizes the first allocation.
 *
 * Not here: streaming reads that must return what is available now (a
 * tailed file, stdin, a socket): sl_file_read_full() waits for all it was
 * asked, which is right for files and wrong for those. */
#ifndef SL_FILE_H
#define SL_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "sl_buf.h"
#include "sl_err.h"

/* Reads from fd until len bytes (len <= SSIZE_MAX) or the end of the file.
 * Returns the count read, less than len only at the end, or -1 with errno
 * set (the bytes already read are in buf, their count lost).
 * Async-signal-safe. */
ssize_t sl_file_read_full(int fd, void *buf, size_t len);

/* Writes all len bytes to fd. 0, or -1 with errno set (some bytes may have
 * been written; a write that returns 0 counts as EIO, so it never spins).
 * Async-signal-safe. */
SL_MUST_CHECK int sl_file_write_all(int fd, const void *buf, size_t len);

/* Appends the contents of the regular file at path to out, NUL-terminated;
 * on success out->ptr is never NULL, even for an empty file. A file larger
 * than max bytes is refused, whatever stat said. what is a noun for the
 * messages ("pattern file"), or NULL. On failure out holds what it held
 * before (its memory may have grown), errno says why, and err:
 *   SL_EIO    cannot open <what> '<path>': <errno text>       (ENOENT, ...)
 *             cannot read <what> '<path>': Is a directory      (EISDIR)
 *             cannot read <what> '<path>': not a regular file  (EINVAL)
 *             cannot read <what> '<path>': <errno text>
 *   SL_ELIMIT <what> '<path>' is larger than <max> bytes       (EFBIG)
 *   SL_ELIMIT cannot read <what> '<path>': buffer would exceed its limit
 *             of <out->max> bytes                              (EFBIG)
 *   SL_ENOMEM cannot read <what> '<path>': out of memory ...   (ENOMEM)
 * A FIFO or device is refused rather than read: opening a FIFO can block,
 * and no caller needs one. */
SL_MUST_CHECK int sl_file_read(const char *path, const char *what, size_t max,
                               struct sl_buf *out, struct sl_err *err);

#endif
