/* file_identity.h: which file is this? The identity the registry keys
 * acknowledged offsets by, so that rotation (rename-and-create,
 * copytruncate, delete) and restarts neither lose nor duplicate a line.
 *
 * An identity is the device and inode of the file plus a fingerprint: a
 * 64-bit FNV-1a hash of its first fp_len bytes, where fp_len is the file's
 * size capped at N (FILE_IDENTITY_DEFAULT_BYTES, configurable). Device and
 * inode alone are not enough: a deleted file's inode is soon given to a new
 * file, and reading that one from the old offset would skip its first lines.
 *
 * Short files. A file shorter than N has a fingerprint of all it holds, and
 * fp_len says how much that is. The rule that decides a match is one rule
 * for every length:
 *
 *   a file is the one `known` describes when it has the same device and
 *   inode and its first known->fp_len bytes still hash to known->fp.
 *
 * So a file that grew (or N that grew in the config) still matches its
 * older, shorter identity; the caller then keeps the new, longer identity
 * (the upgrade). A file now shorter than known->fp_len does not match: it
 * was truncated or its inode went to another file, and either way it is
 * read from 0. The registry adds the rule that keeps short fingerprints
 * safe: an acknowledged offset never passes fp_len unless the fingerprint
 * is full (registry_ack), so every acknowledged byte up to N is checked.
 *
 * What is deliberately not the same file: another inode with the same
 * fingerprint (a copy, or a move across filesystems). Many log files begin
 * with the same bytes (a banner, a CSV header, an empty file), so matching
 * by fingerprint alone would skip lines of a new file. A file copied away is
 * read again; rename in place, which is what rotation does, keeps the inode.
 *
 * Copytruncate keeps the inode and restarts the content: the fingerprint
 * differs (FILE_ID_CHANGED), or, while the file is shorter than known's
 * fp_len, it cannot match. file_identity_resume() adds the size check
 * (size < acknowledged offset means truncated) for the case where new
 * content begins with the same bytes as the old.
 *
 * A file replaced by one that begins with the same first N bytes (a
 * header, a banner, a template) keeps neither inode nor content, yet the
 * first bytes alone would match when the inode is reused. So an identity
 * also carries a tail: the hash of the bytes just before an offset the
 * reader reached (up to FILE_IDENTITY_TAIL_BYTES, ending at tail_at), set
 * by the reader from the bytes it has (file_identity_set_tail).
 * file_identity_compare checks it too, with one pread, and says
 * FILE_ID_REWRITTEN when those bytes are no longer there: the file is
 * another one that begins alike, read from 0. An identity without a tail
 * (tail_len 0: nothing read yet, or a registry entry written before tails
 * existed) is matched on its first bytes alone.
 *
 * Reading uses pread(): the fd's file offset is never moved. */
#ifndef FILE_IDENTITY_H
#define FILE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

#define FILE_IDENTITY_DEFAULT_BYTES 1024

/* An inode with the top bit set names no file: the registry entry of a
 * copytruncated file's "ghost" (in_file_rotate.c), the first bytes of an
 * original kept until its copy is found or five minutes pass. Readers of
 * the registry that list files (`status`) leave such entries out. */
#define FILE_IDENTITY_GHOST_INO_BIT (1ull << 63)

static inline bool file_identity_ino_is_ghost(uint64_t ino)
{
    return (ino & FILE_IDENTITY_GHOST_INO_BIT) != 0;
}
#define FILE_IDENTITY_MAX_BYTES  (64 * 1024) /* largest N accepted */
#define FILE_IDENTITY_TAIL_BYTES 1024        /* bytes a tail hashes, at most */

struct file_identity {
    uint64_t dev;      /* st_dev */
    uint64_t ino;      /* st_ino */
    uint64_t fp;       /* FNV-1a 64 of the first fp_len bytes */
    uint32_t fp_len;   /* bytes hashed: min(size, N) when computed */
    uint32_t tail_len; /* bytes the tail hashes; 0: no tail */
    uint64_t tail_at;  /* file offset the tail ends at (>= tail_len) */
    uint64_t tail;     /* FNV-1a 64 of bytes [tail_at - tail_len, tail_at) */
};

enum file_id_match {
    FILE_ID_SAME,      /* same file: renamed or not, possibly grown */
    FILE_ID_OTHER,     /* another device or inode: not this entry's file */
    FILE_ID_CHANGED,   /* same device and inode, other content: the inode was
                          reused or the file truncated; read from 0 */
    FILE_ID_REWRITTEN, /* same device, inode and first bytes, but the bytes
                          before tail_at differ (or the file is shorter):
                          another file that begins alike; read from 0 */
};

/* Computes the identity of the open file fd with a fingerprint of up to n
 * bytes (1..FILE_IDENTITY_MAX_BYTES), without a tail. -1 with SL_EIO when fstat
 * or pread fails, SL_EINVAL for a bad n. */
SL_MUST_CHECK int file_identity_compute(int fd, uint32_t n,
                                        struct file_identity *out,
                                        struct sl_err *err);

/* file_identity_compute, and the hash of fd's first k bytes at pre[k] for
 * every k from 0 to out->fp_len (pre: room for n + 1 hashes), from the
 * same one read: a new file compared with many known ones (is it a copy
 * of one?) looks each known length up instead of reading its first bytes
 * again for each (file_identity_compare_prefix). */
SL_MUST_CHECK int file_identity_compute_prefix(int fd, uint32_t n,
                                               struct file_identity *out,
                                               uint64_t *pre,
                                               struct sl_err *err);

/* Whether fd is still the file `known` describes (the rule above). `now` is
 * fd's identity from file_identity_compute(); the first known->fp_len bytes
 * are read again only when the lengths differ, and known's tail (if any)
 * with one pread when they match. -1 with SL_EIO on a read error, else the
 * match. */
SL_MUST_CHECK int file_identity_compare(const struct file_identity *known,
                                        const struct file_identity *now, int fd,
                                        enum file_id_match *match,
                                        struct sl_err *err);

/* file_identity_compare with now's prefix hashes from
 * file_identity_compute_prefix (pre, or NULL): a known fingerprint shorter
 * than now's is looked up there, not read; only a tail is read. */
SL_MUST_CHECK int file_identity_compare_prefix(
    const struct file_identity *known, const struct file_identity *now,
    const uint64_t *pre, int fd, enum file_id_match *match, struct sl_err *err);

/* How many times this process read a file's first bytes or a tail here
 * (one read of up to N bytes each, in as many preads as it takes): for
 * tests, which check that finding a new file reads it a bounded number of
 * times, however many files are known. Not thread-safe: the inputs' thread
 * only. */
uint64_t file_identity_reads(void);

/* Sets id's tail from the len bytes at p, which are the file's bytes
 * ending at offset end (len <= end): the last FILE_IDENTITY_TAIL_BYTES of
 * them at most are hashed. len 0 leaves id as it was. */
void file_identity_set_tail(struct file_identity *id, uint64_t end,
                            const void *p, size_t len);
/* Copies from's tail into id (an identity computed again keeps the tail
 * the reader set). */
void file_identity_keep_tail(struct file_identity *id,
                             const struct file_identity *from);

/* Where to resume reading a file of `size` bytes whose acknowledged offset
 * is `acked`: acked when the file is the same and not shorter than acked,
 * 0 otherwise (a new file, a reused inode, or a truncation). */
uint64_t file_identity_resume(enum file_id_match match, uint64_t acked,
                              uint64_t size);

/* FNV-1a 64 (Fowler, Noll, Vo; offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3). Start with FILE_IDENTITY_FNV_BASIS; feeding a buffer in
 * pieces gives the hash of the whole. */
#define FILE_IDENTITY_FNV_BASIS 0xcbf29ce484222325ull
uint64_t file_identity_hash(uint64_t h, const void *p, size_t len);

#endif
