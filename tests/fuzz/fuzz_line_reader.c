/* fuzz_line_reader.c: a byte stream cut into lines (or NUL-separated
 * records), fed in chunks; the first byte picks the chunk size and the
 * mode. Checks the reader's promises: no line longer than max_line, no
 * separator inside a line, offsets that point at the line's bytes in the
 * stream, each line's end past its bytes and exactly at the next line's
 * start, and no more lines than separators allow. With holes skipped
 * (0x40 of the first byte, lines only), what lies between a line's end
 * and the next one's start is NUL bytes, as many as the reader says it
 * skipped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 64

/* *prev_end: the end of the line before, where this one must start once
 * the holes skipped since (*holes: line_reader_hole_bytes() then) are
 * passed. */
static void check_line(const uint8_t *stream, size_t size,
                       const struct line_reader *lr, struct sl_slice line,
                       char sep, uint64_t *prev_end, uint64_t *holes)
{
    uint64_t skipped = line_reader_hole_bytes(lr) - *holes;
    for (uint64_t i = 0; i < skipped; i++)
        if (*prev_end + i >= size || stream[*prev_end + i] != 0)
            abort();
    *prev_end += skipped;
    *holes += skipped;
    if (line.len > MAX_LINE)
        abort();
    uint64_t off = line_reader_line_offset(lr);
    uint64_t end = line_reader_line_end(lr);
    if (off + line.len > size || memcmp(stream + off, line.ptr, line.len) != 0)
        abort();
    if (memchr(line.ptr, sep, line.len) != NULL)
        abort();
    if (off != *prev_end || end < off + line.len || end > size)
        abort();
    *prev_end = end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    size_t chunk = (size_t)data[0] % 17 + 1;
    char sep = data[0] & 0x80 ? '\0' : '\n';
    const uint8_t *stream = data + 1;
    size -= 1;
    struct line_reader *lr = sep == '\n' ? line_reader_new(MAX_LINE)
                                         : line_reader_new_records(MAX_LINE);
    if (data[0] & 0x40)
        line_reader_skip_holes(lr);
    struct sl_slice line;
    bool trunc;
    size_t lines = 0, newlines = 0;
    uint64_t prev_end = 0, holes = 0;
    for (size_t i = 0; i < size; i++)
        newlines += stream[i] == (uint8_t)sep;
    for (size_t pos = 0; pos < size; pos += chunk) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        if (line_reader_feed(lr, (const char *)stream + pos, n, NULL) < 0)
            abort();
        while (line_reader_next(lr, &line, &trunc)) {
            check_line(stream, size, lr, line, sep, &prev_end, &holes);
            lines++;
        }
    }
    if (line_reader_finish(lr, &line, &trunc)) {
        check_line(stream, size, lr, line, sep, &prev_end, &holes);
        lines++;
    }
    /* Every separator ends exactly one line, except those that end the cut
     * tail of a line already emitted: lines can never exceed newlines + 1
     * plus one cut line per MAX_LINE bytes. */
    if (lines > newlines + 1 + size / MAX_LINE)
        abort();
    line_reader_free(lr);
    return 0;
}
