/* file_identity.c: device + inode + a hash of the first bytes (see the
 * header for the rules).
 *
 * The hash is FNV-1a 64, written from its published description: ten
 * lines, byte at a time, so a prefix read in pieces hashes like one buffer,
 * and at 1 KiB per file open or rotation check its speed does not matter
 * (about a microsecond). It is not collision-resistant against someone who
 * crafts content, but a collision only matters together with the same
 * device and inode. Keeping the raw bytes instead would make every registry
 * entry 1 KiB larger (100 MB for 100,000 entries) for no gain in practice.
 *
 * No seek: pread() only, so the caller's reading position is untouched. */
#include "file_identity.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV_PRIME 0x100000001b3ull

uint64_t file_identity_hash(uint64_t h, const void *p, size_t len)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t reads; /* file_identity_reads() */

uint64_t file_identity_reads(void)
{
    return reads;
}

/* Hashes the first `want` bytes of fd (fewer if the file ends first);
 * *got says how many there were. pre (room for want + 1), if not NULL,
 * gets the hash of the first k bytes at pre[k] for every k up to *got. */
static int hash_prefix(int fd, uint32_t want, uint64_t *hash, uint32_t *got,
                       uint64_t *pre, struct sl_err *err)
{
    char buf[4096];
    uint64_t h = FILE_IDENTITY_FNV_BASIS;
    uint32_t off = 0;
    reads++;
    if (pre != NULL)
        pre[0] = h;
    while (off < want) {
        size_t chunk = want - off < sizeof buf ? want - off : sizeof buf;
        ssize_t n = pread(fd, buf, chunk, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl_err_set(err, SL_EIO, "cannot read the first bytes: %s",
                              sl_strerror(errno));
        if (n == 0)
            break;
        if (pre == NULL) {
            h = file_identity_hash(h, buf, (size_t)n);
        } else {
            for (size_t i = 0; i < (size_t)n; i++)
                pre[off + i + 1] = h = file_identity_hash(h, buf + i, 1);
        }
        off += (uint32_t)n;
    }
    *hash = h;
    *got = off;
    return 0;
}

int file_identity_compute(int fd, uint32_t n, struct file_identity *out,
                          struct sl_err *err)
{
    return file_identity_compute_prefix(fd, n, out, NULL, err);
}

int file_identity_compute_prefix(int fd, uint32_t n, struct file_identity *out,
                                 uint64_t *pre, struct sl_err *err)
{
    if (n < 1 || n > FILE_IDENTITY_MAX_BYTES)
        return sl_err_set(err, SL_EINVAL,
                          "fingerprint size %u out of range 1..%u", n,
                          (unsigned)FILE_IDENTITY_MAX_BYTES);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return sl_err_set(err, SL_EIO, "fstat: %s", sl_strerror(errno));
    memset(out, 0, sizeof *out);
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    return hash_prefix(fd, n, &out->fp, &out->fp_len, pre, err);
}

/* Whether fd still holds known's tail bytes at known->tail_at. */
static int tail_same(const struct file_identity *known, int fd, bool *same,
                     struct sl_err *err)
{
    char buf[FILE_IDENTITY_TAIL_BYTES];
    *same = true;
    if (known->tail_len == 0)
        return 0;
    if (known->tail_len > sizeof buf || known->tail_at < known->tail_len) {
        *same = false; /* not one this code sets: not checkable */
        return 0;
    }
    size_t got = 0;
    off_t at = (off_t)(known->tail_at - known->tail_len);
    reads++;
    while (got < known->tail_len) {
        ssize_t n =
            pread(fd, buf + got, known->tail_len - got, at + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sl_err_set(err, SL_EIO, "cannot read at offset %llu: %s",
                              (unsigned long long)at, sl_strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *same =
        got == known->tail_len &&
        file_identity_hash(FILE_IDENTITY_FNV_BASIS, buf, got) == known->tail;
    return 0;
}

int file_identity_compare_prefix(const struct file_identity *known,
                                 const struct file_identity *now,
                                 const uint64_t *pre, int fd,
                                 enum file_id_match *match, struct sl_err *err)
{
    if (known->dev != now->dev || known->ino != now->ino) {
        *match = FILE_ID_OTHER;
        return 0;
    }
    uint64_t h = now->fp;
    uint32_t got = now->fp_len;
    if (known->fp_len < now->fp_len && pre != NULL) {
        h = pre[known->fp_len];
        got = known->fp_len;
    } else if (known->fp_len != now->fp_len &&
               hash_prefix(fd, known->fp_len, &h, &got, NULL, err) < 0) {
        return -1;
    }
    if (got != known->fp_len || h != known->fp) {
        *match = FILE_ID_CHANGED;
        return 0;
    }
    bool same;
    if (tail_same(known, fd, &same, err) < 0)
        return -1;
    *match = same ? FILE_ID_SAME : FILE_ID_REWRITTEN;
    return 0;
}

int file_identity_compare(const struct file_identity *known,
                          const struct file_identity *now, int fd,
                          enum file_id_match *match, struct sl_err *err)
{
    return file_identity_compare_prefix(known, now, NULL, fd, match, err);
}

void file_identity_set_tail(struct file_identity *id, uint64_t end,
                            const void *p, size_t len)
{
    if (len == 0 || len > end)
        return;
    size_t n = len < FILE_IDENTITY_TAIL_BYTES ? len : FILE_IDENTITY_TAIL_BYTES;
    id->tail_len = (uint32_t)n;
    id->tail_at = end;
    id->tail = file_identity_hash(FILE_IDENTITY_FNV_BASIS,
                                  (const char *)p + (len - n), n);
}

void file_identity_keep_tail(struct file_identity *id,
                             const struct file_identity *from)
{
    id->tail_len = from->tail_len;
    id->tail_at = from->tail_at;
    id->tail = from->tail;
}

uint64_t file_identity_resume(enum file_id_match match, uint64_t acked,
                              uint64_t size)
{
    return match == FILE_ID_SAME && size >= acked ? acked : 0;
}
