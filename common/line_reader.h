/* line_reader.h: cuts a byte stream into lines.
 *
 * hiredis's reader shape: feed bytes, pull lines, no I/O inside, so it is
 * fuzzable and testable with fragments of any size. Lines end at "\n"; a
 * "\r" right before it is dropped too. A line longer than max_line comes out
 * cut to max_line bytes with *truncated set; the rest of it is skipped up to
 * the next newline, and the cut line comes out once that newline has
 * arrived, so that its end is known. Memory stays bounded by max_line plus
 * one fed chunk; once next() returned 0, by 4 KiB or the unterminated line
 * it holds (a reader per idle file keeps no chunk). An unterminated last line,
 * cut or not, stays inside until its newline arrives, or until
 * line_reader_finish() at the end of the stream.
 *
 * Records (line_reader_new_records): the same, but a record ends at a NUL
 * byte or at the end of the stream, newlines inside it are kept, and one
 * "\n" or "\r\n" that ends it is dropped (sluice-grok -z feeds a whole
 * multi-line event this way).
 *
 * Contract: call line_reader_next() until it returns 0 before feeding again.
 * Lives in common/ because both the shipper's framing and sluice-grok use it.
 */
#ifndef LINE_READER_H
#define LINE_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_slice.h"

struct line_reader;

struct line_reader *line_reader_new(size_t max_line);
/* A reader of NUL-separated records (see above); max_line bounds a record. */
struct line_reader *line_reader_new_records(size_t max_line);
void line_reader_free(struct line_reader *lr); /* NULL is fine */
/* Copies buf in. -1 only when out of memory (nothing is kept then). */
SL_MUST_CHECK int line_reader_feed(struct line_reader *lr, const char *buf,
                                   size_t len, struct sl_err *err);
/* 1: *line is set, valid until the next call; 0: needs more bytes. */
SL_MUST_CHECK int line_reader_next(struct line_reader *lr,
                                   struct sl_slice *line, bool *truncated);
/* At the end of the stream: 1 and the unterminated last line, if any. */
SL_MUST_CHECK int line_reader_finish(struct line_reader *lr,
                                     struct sl_slice *line, bool *truncated);
/* true while the bytes of an unterminated line are held: its writer is
 * inside it (the bytes so far, or a cut line's skipped tail). */
bool line_reader_in_line(const struct line_reader *lr);
/* Holes: a run of at least LINE_READER_HOLE_MIN NUL bytes at the start of
 * a line is skipped (and the rest of that run in later chunks), not made
 * a line: it is what a file truncated under a writer that kept its offset
 * reads as (copytruncate, a writer not in append mode: the bytes before
 * its next write are a hole of zeros). Without this, the zeros made one
 * line cut at max_line and tagged, and the first real line after them,
 * the rest of that "line", was skipped: lost. A shorter run of NULs stays
 * in its line, as any other byte. The next line's offset is then past the
 * hole (line_reader_line_end() of the line before is not). Off unless
 * asked for; not for records. */
#define LINE_READER_HOLE_MIN 4096
void line_reader_skip_holes(struct line_reader *lr);
/* NUL bytes skipped as holes so far. */
uint64_t line_reader_hole_bytes(const struct line_reader *lr);
/* Stream offset of the first byte of the line last returned. */
uint64_t line_reader_line_offset(const struct line_reader *lr);
/* Stream offset just past the line last returned: past its separator (and,
 * for a cut line, its skipped tail), or the end of the stream for the last
 * line. It is always the next line's offset: a restart that resumes here
 * reads the next line, neither the line again nor a piece of it. */
uint64_t line_reader_line_end(const struct line_reader *lr);

#endif
