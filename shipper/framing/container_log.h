/* container_log.h: the log files of container runtimes, turned back into
 * the lines the container wrote (an input's `format`).
 *
 *   lines   (default) each line is a record, as it is
 *   docker  Docker's json-file driver, one JSON object a line:
 *             {"log":"GET / 200\n","stream":"stdout","time":"2026-12-04T
 *             17:00:32.123456789Z"}
 *           `log` is the text, unescaped; it ends with "\n" when the
 *           container ended its line, and without when Docker split a long
 *           line (every 16 KiB): the parts up to the one with "\n" are one
 *           record. Other members ("attrs") are skipped.
 *   cri     the Kubernetes CRI format (containerd, CRI-O):
 *             2026-12-04T17:00:32.123456789+01:00 stderr F text
 *           time, stream, tags (':'-separated; "P" partial, "F" full),
 *           text; the P parts up to the next F are one record.
 *
 * A pure module: no I/O, no clock. The caller pushes lines as line_reader
 * gives them (terminator removed, with their stream offsets) and pulls
 * records with the pull shape of multiline.h, so it can stop at any record
 * (its outbox is full) and go on later with nothing lost or reordered:
 *
 *   while (container_log_peek(cl, &rec)) {
 *       if (!take(&rec))                 // rec stays first; peek again later
 *           return;
 *       container_log_pop(cl);
 *   }
 *   if (line_reader_next(lr, &l, &cut))  // nothing waits: push one line
 *       container_log_push(cl, &line);   // true: peek had returned false
 *
 * A record is what the next stage wants: its text (the `log` value
 * unescaped, or the CRI text, parts joined, the final "\n" and a "\r"
 * before it removed), its time in UTC ms (Docker's `time`, CRI's first
 * field; none for `lines`), its stream (stdout or stderr), the offset of
 * its first physical line and the end of its last. {text, offset, end,
 * truncated} is a struct multiline_line: multiline runs on records as it
 * runs on lines (container_log_as_line()).
 *
 * Offsets: records come out in the order of their first line, so offsets
 * never decrease (multiline and the registry need that).
 * container_log_done_offset() is where a restart must resume: the first
 * line of the oldest record not yet popped (waiting, or being joined, or
 * the line pushed but not yet placed), else the end of the last line
 * pushed; it never decreases. With multiline after this module, the
 * registry takes multiline_done_offset(), which is never past this one
 * (multiline only holds records this module has handed out).
 *
 * Interleaved streams: Docker and the CRI runtimes copy a container's
 * stdout and stderr into one file, each in its own goroutine, so a line of
 * one stream may fall between the parts of the other's split line. Parts
 * join only within a stream; a line of the other stream (or one that is
 * not the format) completes the open record as it is (counted in
 * `interleaved`) and the later parts start a new one. Not taken: a joiner
 * per stream (Fluent Bit's stream groups), which would hand out the other
 * stream's records before the open one (offsets going back) or hold an
 * unbounded number of them behind it.
 *
 * A UTF-8 byte order mark at offset 0 (the first line of a file, or of
 * stdin) is not part of the line's text.
 *
 * Bad input is never dropped: a line that is not the format (not a JSON
 * object with a string `log`, a `stream` of "stdout" or "stderr" and an
 * RFC 3339 `time`; not `TIME STREAM TAGS TEXT` with such a time and
 * stream and tags of capital letters and ':') becomes a record of its own, its
 * raw bytes as text, flagged `invalid` (the event is tagged
 * CONTAINER_LOG_TAG_PARSEFAILURE). Filebeat drops such lines with an
 * error log; Fluent Bit passes them on unparsed. A line line_reader cut
 * is in a docker file a JSON object without its end: invalid and
 * truncated. Keep line_reader's limit at container_log_line_limit().
 *
 * Limits: a record keeps at most max_bytes bytes of text; past that it is
 * cut, flagged truncated, and the rest of its parts are consumed without
 * being kept (counted in `dropped_parts`) up to its last part.
 *
 * Lifetimes: a pushed line is used during the call only. The text of the
 * record peek hands out stays valid and unchanged until it is popped.
 *
 * Memory: two buffers of at most max_bytes (the record being joined and
 * the record waiting) and one of at most container_log_line_limit() (a
 * line pushed that had to wait for a pop), grown on demand and kept: no
 * allocation per line once they have grown. Each record's text is copied
 * once (a docker value unescaped on the way). */
#ifndef CONTAINER_LOG_H
#define CONTAINER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "multiline.h"
#include "sl_config.h"
#include "sl_err.h"
#include "sl_slice.h"

enum container_log_format {
    CONTAINER_LOG_LINES,
    CONTAINER_LOG_DOCKER,
    CONTAINER_LOG_CRI
};

/* "lines", "docker", "cri", NULL: the words of the input's `format` key
 * (SL_OPT_ENUM), in the order of the enum. */
extern const char *const container_log_format_names[];
#define CONTAINER_LOG_FORMAT_HELP                                              \
    "`lines`: each line is a message; `docker`: Docker's json-file logs; "     \
    "`cri`: Kubernetes container logs (containerd, CRI-O); split lines are "   \
    "joined, and the runtime's time and stream kept"

/* Reads the input's `format` (node: its value, or NULL when absent:
 * lines). -1 with FILE:L:C: and the words it takes. */
SL_MUST_CHECK int container_log_format_read(const struct sl_config_node *node,
                                            enum container_log_format *format,
                                            struct sl_err *err);

enum container_log_stream {
    CONTAINER_LOG_STREAM_NONE, /* lines, or an invalid line */
    CONTAINER_LOG_STREAM_STDOUT,
    CONTAINER_LOG_STREAM_STDERR
};

/* The tag of an event made from a line that is not its input's format. */
#define CONTAINER_LOG_TAG_PARSEFAILURE "_containerparsefailure"

#define CONTAINER_LOG_NO_TIME           INT64_MIN /* a record without a time */
#define CONTAINER_LOG_DEFAULT_MAX_BYTES ((size_t)1024 * 1024)

struct container_log_record {
    struct sl_slice text; /* valid until the pop */
    uint64_t offset;      /* stream offset of its first physical line */
    uint64_t end;         /* just past its last physical line */
    int64_t time_ms;      /* UTC ms of its first part; CONTAINER_LOG_NO_TIME */
    enum container_log_stream stream;
    uint32_t parts; /* physical lines in it */
    bool truncated; /* cut at max_bytes, or a line line_reader cut */
    bool invalid;   /* not the format: text is the raw line */
    /* Completed by container_log_flush (the caller's wait for a split
     * line's rest, or the end), not by its parts: its end, the end of
     * the last line pushed; 0: completed by its last part or by the line
     * after it. A read of the same bytes again (a restart) makes the same
     * records only if it flushes there too, since the rest may have come
     * since: multiline.h's cut, and the registry keeps it the same way. */
    uint64_t cut;
};

struct container_log_stats {
    uint64_t lines;         /* pushed (taken) */
    uint64_t records;       /* completed (waiting or popped) */
    uint64_t invalid;       /* lines that were not the format */
    uint64_t truncated;     /* records completed truncated */
    uint64_t dropped_parts; /* parts past a cut, not kept */
    uint64_t interleaved;   /* records completed early by the other stream */
};

struct container_log;

/* format, max_bytes >= 1 (the text of a record). NULL only when out of
 * memory (err says so). */
struct container_log *container_log_new(enum container_log_format format,
                                        size_t max_bytes, struct sl_err *err);
void container_log_free(struct container_log *cl); /* NULL is fine */

/* The max_line to give line_reader for this format: a physical line must
 * come whole, or a docker line is not JSON. Docker writes at most 16 KiB
 * of text a line, up to 6 bytes each once escaped, plus its members. */
size_t container_log_line_limit(enum container_log_format format,
                                size_t max_bytes);

/* Pushes the next line (a struct multiline_line: bytes without the
 * terminator, offset, end, cut as line_reader gives them). true: taken.
 * false: a record waits or a line is still to place; nothing is taken:
 * pull until peek returns false, then push it again. Offsets must not
 * decrease from one push to the next. */
bool container_log_push(struct container_log *cl,
                        const struct multiline_line *line);
/* true and *rec: the oldest complete record, the same one until popped
 * (peek places a line left waiting). false: none; the next push is taken. */
bool container_log_peek(struct container_log *cl,
                        struct container_log_record *rec);
/* Takes off the record peek hands out; nothing when none waits. */
void container_log_pop(struct container_log *cl);
/* End of input, or a split line whose rest is not coming (the caller's
 * wait after container_log_open()): the record being joined is completed
 * as it is (after the lines already pushed), and comes out of the next
 * peeks, with its cut set. A file that is only at its end for now is not
 * flushed at once: its next part may come. A read again of bytes that a
 * flush cut before a crash calls it before pushing the first line at or
 * past that record's cut (when container_log_open()), and makes the
 * records the first read made. */
void container_log_flush(struct container_log *cl);
/* A record is being joined: its last part so far was partial. The caller
 * decides, by its clock, when the rest is not coming (container_log_flush
 * then completes it). */
bool container_log_open(const struct container_log *cl);
/* Where a restart must resume (see above); 0 before any push. */
uint64_t container_log_done_offset(const struct container_log *cl);

/* The record as multiline's input line. */
static inline struct multiline_line
container_log_as_line(const struct container_log_record *rec)
{
    struct multiline_line l = {rec->text.ptr, rec->text.len, rec->offset,
                               rec->end, rec->truncated};
    return l;
}

const struct container_log_stats *
container_log_stats(const struct container_log *cl);

#endif
