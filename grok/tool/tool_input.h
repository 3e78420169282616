/* tool_input.h: the inputs of sluice-grok (tool_input.c): a file or stdin
 * read as it is, a gzip file read through zlib, and a file of another
 * compressor refused with the command that reads it. */
#ifndef TOOL_INPUT_H
#define TOOL_INPUT_H

#include <stddef.h>
#include <sys/types.h>
#include <zlib.h>

/* An input: a plain descriptor, or a gzip file read through zlib
 * (logrotate's access.log.2.gz, which a shell glob takes with the rest). */
struct input {
    int fd;
    gzFile gz; /* NULL: read fd as it is */
    const char *name;
};

/* Opens a named file (stdin for "-"); a regular file that starts with
 * gzip's magic bytes is read decompressed; one of another compressor is
 * refused, with what to do. -1 with a message on stderr on error. */
int input_open(struct input *in, const char *name);
/* Reads the next chunk of in into chunk: its length, 0 at the end, or -1
 * (with a message on stderr) on an error. */
ssize_t input_read(struct input *in, char *chunk, size_t size);
void input_close(struct input *in);

#endif
