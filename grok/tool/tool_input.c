/* tool_input.c: sluice-grok's inputs (tool_input.h). */
#include "tool_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_err.h"

/* Reads the next chunk of in into chunk: its length, 0 at the end, or -1
 * (with a message) on an error. */
ssize_t input_read(struct input *in, char *chunk, size_t size)
{
    for (;;) {
        if (in->gz != NULL) {
            /* a file cut short ends with Z_BUF_ERROR, not with -1 */
            int n = gzread(in->gz, chunk, (unsigned)size);
            int zerr = Z_OK;
            const char *why = n <= 0 ? gzerror(in->gz, &zerr) : NULL;
            if (n > 0 || (n == 0 && zerr == Z_OK))
                return n;
            if (zerr == Z_ERRNO && errno == EINTR)
                continue;
            /* zlib names a gzdopen()ed file "<fd:N>": drop that */
            const char *after = strstr(why, ">: ");
            if (why[0] == '<' && after != NULL)
                why = after + 3;
            fprintf(stderr, "sluice-grok: cannot read '%s' (gzip): %s\n",
                    in->name, zerr == Z_ERRNO ? sl_strerror(errno) : why);
            return -1;
        }
        ssize_t n = read(in->fd, chunk, size);
        if (n >= 0)
            return n;
        if (errno != EINTR) {
            fprintf(stderr, "sluice-grok: cannot read '%s': %s\n", in->name,
                    sl_strerror(errno));
            return -1;
        }
    }
}

/* The compressor other than gzip whose magic bytes start head (n >= 4), or
 * NULL: logrotate's compresscmd may be one of them. */
static const char *compressed_by(const unsigned char *head, size_t n)
{
    if (n >= 6 && memcmp(head,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0)
        return "xz";
    if (n >= 6 && memcmp(head, "BZh", 3) == 0 && head[3] >= '1' &&
        head[3] <= '9' && head[4] == 0x31 && head[5] == 0x41)
        return "bzip2";
    if (memcmp(head, "\x28\xb5\x2f\xfd", 4) == 0)
        return "zstd";
    if (memcmp(head, "\x04\x22\x4d\x18", 4) == 0)
        return "lz4";
    return NULL;
}

/* Opens a named file (stdin for "-"); a regular file that starts with
 * gzip's magic bytes is read decompressed; one of another compressor is
 * refused, with what to do. -1 with a message on error. */
int input_open(struct input *in, const char *name)
{
    unsigned char magic[6];
    *in = (struct input){.fd = 0, .name = name};
    if (strcmp(name, "-") == 0)
        return 0;
    in->fd = open(name, O_RDONLY);
    if (in->fd < 0) {
        fprintf(stderr, "sluice-grok: cannot open '%s': %s\n", name,
                sl_strerror(errno));
        return -1;
    }
    ssize_t got = pread(in->fd, magic, sizeof magic, 0);
    const char *packer = got < 4 ? NULL : compressed_by(magic, (size_t)got);
    if (packer != NULL) { /* xzcat, zstdcat, lz4cat; bzip2's is bzcat */
        fprintf(stderr,
                "sluice-grok: cannot read '%s': it is %s-compressed; "
                "decompress it first: %.*scat '%s' | sluice-grok PATTERN\n",
                name, packer, strcmp(packer, "bzip2") ? (int)strlen(packer) : 2,
                packer, name);
        close(in->fd);
        return -1;
    }
    if (got < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return 0;
    in->gz = gzdopen(in->fd, "rb");
    if (in->gz == NULL) {
        fprintf(stderr, "sluice-grok: cannot read '%s': out of memory\n", name);
        close(in->fd);
        return -1;
    }
    gzbuffer(in->gz, 1 << 16);
    return 0;
}

void input_close(struct input *in)
{
    if (in->gz != NULL)
        gzclose(in->gz); /* closes fd too */
    else if (in->fd != 0)
        close(in->fd);
}
