/* bulk_gzip.c: zlib's deflate with a gzip wrapper (windowBits 15 + 16),
 * into one kept buffer.
 *
 * The buffer is sized to deflateBound(len) (capped at max_bytes) before
 * deflating, so one deflate(Z_FINISH) call does the whole body: no output
 * loop, no copy. zlib counts in uInt (32 bits), so a body over 4 GiB would
 * go in pieces; the loop below does that, though bulk bodies stay far below
 * (http.max_content_length is 100 MB by default).
 *
 * Not done here: choosing whether to compress (configuration), the
 * Content-Encoding header (the HTTP client), and compressing answers (curl's
 * CURLOPT_ACCEPT_ENCODING asks for them). */
#include "bulk_gzip.h"

#include <limits.h>
#include <stdlib.h>

#define ZLIB_CONST /* next_in is const: the body is only read */
#include <zlib.h>

#include "sl_buf.h"

#define GZIP_WINDOW (15 + 16) /* 32 KiB window, gzip header and trailer */
#define MEM_LEVEL   8         /* zlib's default: 128 KiB of hash chains */

struct bulk_gzip {
    z_stream zs;
    struct sl_buf out;
};

struct bulk_gzip *bulk_gzip_new(int level, size_t max_bytes, struct sl_err *err)
{
    if (level < 1 || level > 9 || max_bytes == 0) {
        sl_err_set(err, SL_EINVAL,
                   "gzip: level %d or max_bytes %zu out of range (level 1 "
                   "to 9)",
                   level, max_bytes);
        return NULL;
    }
    struct bulk_gzip *gz = calloc(1, sizeof *gz);
    if (gz == NULL) {
        sl_err_set(err, SL_ENOMEM, "gzip: out of memory");
        return NULL;
    }
    /* zalloc, zfree, opaque NULL (calloc): zlib's own allocator */
    int rc = deflateInit2(&gz->zs, level, Z_DEFLATED, GZIP_WINDOW, MEM_LEVEL,
                          Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        sl_err_set(err, rc == Z_MEM_ERROR ? SL_ENOMEM : SL_EINVAL,
                   "gzip: deflateInit2: %s", zError(rc));
        free(gz);
        return NULL;
    }
    sl_buf_init(&gz->out, max_bytes);
    return gz;
}

void bulk_gzip_free(struct bulk_gzip *gz)
{
    if (gz == NULL)
        return;
    deflateEnd(&gz->zs);
    sl_buf_release(&gz->out);
    free(gz);
}

/* Feeds all of body and finishes the stream; Z_STREAM_END, or Z_OK /
 * Z_BUF_ERROR when the output ran out of room first. */
static int deflate_all(z_stream *zs, const char *body, size_t len, char *dst,
                       size_t room)
{
    size_t in_left = len, out_left = room;
    zs->next_in = (const Bytef *)body;
    zs->next_out = (Bytef *)dst;
    for (;;) {
        uInt in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        zs->avail_in = in;
        zs->avail_out = out;
        int rc = deflate(zs, in_left == in ? Z_FINISH : Z_NO_FLUSH);
        in_left -= in - zs->avail_in;
        out_left -= out - zs->avail_out;
        if (rc == Z_STREAM_END || rc == Z_STREAM_ERROR)
            return rc;
        if (out_left == 0 || (rc == Z_BUF_ERROR && zs->avail_out != 0))
            return Z_BUF_ERROR;
    }
}

int bulk_gzip_encode(struct bulk_gzip *gz, const char *body, size_t len,
                     struct sl_slice *out, struct sl_err *err)
{
    size_t bound = deflateBound(&gz->zs, (uLong)len);
    if (bound > gz->out.max)
        bound = gz->out.max;
    sl_buf_reset(&gz->out);
    if (sl_buf_reserve(&gz->out, bound, err) < 0) {
        sl_err_prefix(err, "gzip");
        return -1;
    }
    int rc = deflate_all(&gz->zs, body, len, gz->out.ptr, bound);
    size_t n = rc == Z_STREAM_END ? (size_t)gz->zs.total_out : 0;
    deflateReset(&gz->zs);
    gz->out.len = n;
    gz->out.ptr[n] = '\0'; /* sl_buf's invariant; n < cap by the reserve */
    if (rc == Z_BUF_ERROR)
        return sl_err_set(err, SL_ELIMIT,
                          "gzip: a body of %zu bytes encodes to more than %zu "
                          "bytes",
                          len, gz->out.max);
    if (rc != Z_STREAM_END)
        return sl_err_set(err, SL_EINVAL, "gzip: deflate: %s", zError(rc));
    out->ptr = gz->out.ptr;
    out->len = n;
    return 0;
}
