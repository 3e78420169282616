/* container_log.c: the joiner of container log parts (see the header).
 *
 * Invariants:
 *   - at most one record is open (being joined): its text in `text` (at
 *     most max_bytes), its first part's offset, time and stream in `cur`;
 *     `full` once the limit cut it, and its later parts are only counted
 *   - at most one complete record waits (`ready`, `rec`), its text in `out`
 *   - what is owed, in stream order: the waiting record, the open one,
 *     the pushed line not yet placed (`pend`); done_offset() is the first
 *     line of the first of them, else the end of the last line pushed
 *
 * One record at a time: placing a line completes at most one record, but
 * a line that must first complete the open record (the other stream, or
 * not the format) is copied into `pend_buf` and placed by the peek after
 * the pop. Completing swaps `text` and `out`: no copy. A one-part record
 * is copied too (into `out`): handing out the caller's line would tie the
 * record to line_reader's buffer, which the caller's next feed moves.
 *
 * Not done here: reading, the clock (a split line's last part comes
 * within microseconds of the first; a part that is the last the runtime
 * writes, from a container that stopped mid-line, the pipeline completes
 * after a wait: container_log_open(), container_log_flush()),
 * the stream filter Filebeat has (a processor's job: drop by `stream`). */
#include "container_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "container_parse.h"
#include "sl_buf.h"

const char *const container_log_format_names[] = {"lines", "docker", "cri",
                                                  NULL};

int container_log_format_read(const struct sl_config_node *node,
                              enum container_log_format *format,
                              struct sl_err *err)
{
    int i = CONTAINER_LOG_LINES;
    if (sl_config_enum(node, NULL, container_log_format_names, i, &i, err) < 0)
        return -1;
    *format = (enum container_log_format)i;
    return 0;
}

struct container_log {
    enum container_log_format format;
    size_t max_bytes;

    bool open, full;
    struct sl_buf text;
    struct container_log_record cur; /* the open record, text aside */

    bool ready;
    struct sl_buf out;
    struct container_log_record rec;

    bool has_pend, flush_wanted;
    struct multiline_line pend; /* its bytes in pend_buf */
    struct sl_buf pend_buf;

    uint64_t last_end;
    struct container_log_stats stats;
};

struct container_log *container_log_new(enum container_log_format format,
                                        size_t max_bytes, struct sl_err *err)
{
    assert(format <= CONTAINER_LOG_CRI && max_bytes >= 1);
    struct container_log *cl = calloc(1, sizeof *cl);
    if (cl == NULL) {
        sl_err_set(err, SL_ENOMEM, "container log: out of memory");
        return NULL;
    }
    cl->format = format;
    cl->max_bytes = max_bytes;
    sl_buf_init(&cl->text, max_bytes);
    sl_buf_init(&cl->out, max_bytes);
    sl_buf_init(&cl->pend_buf, container_log_line_limit(format, max_bytes));
    return cl;
}

void container_log_free(struct container_log *cl)
{
    if (cl == NULL)
        return;
    sl_buf_release(&cl->text);
    sl_buf_release(&cl->out);
    sl_buf_release(&cl->pend_buf);
    free(cl);
}

size_t container_log_line_limit(enum container_log_format format,
                                size_t max_bytes)
{
    const size_t docker = (size_t)16 * 1024 * 6 + 64 * 1024;
    switch (format) {
    case CONTAINER_LOG_DOCKER:
        return max_bytes > docker ? max_bytes : docker;
    case CONTAINER_LOG_CRI: /* time, stream and tags before the text */
        return max_bytes + 128;
    default:
        return max_bytes;
    }
}

/* A record of its own, whose text is the line (cut at max_bytes). Memory
 * that cannot grow cuts it as the limit would. */
static void ready_from_line(struct container_log *cl,
                            const struct multiline_line *line,
                            struct sl_slice text, int64_t time_ms,
                            enum container_log_stream stream, bool invalid)
{
    bool cut = text.len > cl->max_bytes;
    if (cut)
        text.len = cl->max_bytes;
    sl_buf_reset(&cl->out);
    if (text.len > 0 && sl_buf_append(&cl->out, text.ptr, text.len, NULL) < 0)
        cut = true;
    cl->rec = (struct container_log_record){
        .text = {cl->out.ptr ? cl->out.ptr : "", cl->out.len},
        .offset = line->offset,
        .end = line->end,
        .time_ms = time_ms,
        .stream = stream,
        .parts = 1,
        .truncated = cut || line->cut,
        .invalid = invalid};
    cl->ready = true;
    cl->stats.records++;
    cl->stats.truncated += cl->rec.truncated;
}

/* The open record becomes the waiting one. */
static void complete(struct container_log *cl)
{
    struct sl_buf t = cl->out;
    cl->out = cl->text;
    cl->text = t;
    sl_buf_reset(&cl->text);
    cl->rec = cl->cur;
    cl->rec.text =
        (struct sl_slice){cl->out.ptr ? cl->out.ptr : "", cl->out.len};
    cl->open = cl->full = false;
    cl->ready = true;
    cl->stats.records++;
    cl->stats.truncated += cl->rec.truncated;
}

/* Appends a part's text to the open record, up to max_bytes. Memory that
 * cannot grow cuts the record as the limit would. */
static void append(struct container_log *cl, const struct container_part *p)
{
    size_t room = cl->max_bytes - cl->text.len;
    size_t want = p->text.len < room ? p->text.len : room;
    if (want == 0) {
        if (p->text.len > 0)
            cl->full = cl->cur.truncated = true;
        return;
    }
    if (sl_buf_reserve(&cl->text, want, NULL) < 0) {
        cl->full = cl->cur.truncated = true;
        return;
    }
    bool cut = false;
    size_t n;
    if (p->escaped) {
        n = container_unescape(p->text.ptr, p->text.len,
                               cl->text.ptr + cl->text.len, want, &cut);
    } else {
        n = want;
        cut = want < p->text.len;
        memcpy(cl->text.ptr + cl->text.len, p->text.ptr, n);
    }
    cl->text.len += n;
    cl->text.ptr[cl->text.len] = '\0';
    if (cut)
        cl->full = cl->cur.truncated = true;
}

/* A part of the format: opens a record or joins the open one. */
static void place_part(struct container_log *cl,
                       const struct multiline_line *line,
                       const struct container_part *p)
{
    if (!cl->open) {
        cl->cur = (struct container_log_record){
            .offset = line->offset, .time_ms = p->time_ms, .stream = p->stream};
        cl->open = true;
    }
    cl->cur.parts++;
    cl->cur.end = line->end;
    if (line->cut)
        cl->cur.truncated = true;
    if (cl->full)
        cl->stats.dropped_parts++;
    else
        append(cl, p);
    if (!p->partial)
        complete(cl);
}

/* Keeps a copy of the line for the peek after the pop (a line longer than
 * any the format writes, or memory that cannot grow, is cut). */
static void keep_pending(struct container_log *cl,
                         const struct multiline_line *line)
{
    size_t n = line->len < cl->pend_buf.max ? line->len : cl->pend_buf.max;
    sl_buf_reset(&cl->pend_buf);
    if (n > 0 && sl_buf_append(&cl->pend_buf, line->ptr, n, NULL) < 0)
        n = 0;
    cl->pend = *line;
    cl->pend.ptr = cl->pend_buf.ptr ? cl->pend_buf.ptr : "";
    cl->pend.len = n;
    cl->pend.cut = line->cut || n < line->len;
    cl->has_pend = true;
}

/* Places one line; completes at most one record. A line that must first
 * complete the open record waits in pend. */
static void place(struct container_log *cl, const struct multiline_line *line)
{
    struct sl_slice raw = {line->ptr, line->len};
    /* A UTF-8 byte order mark opens the files of some writers (.NET's
     * and PowerShell's): it is no text, and a JSON line or a ^ pattern
     * would fail on it. */
    if (line->offset == 0 && raw.len >= 3 &&
        memcmp(raw.ptr, "\xEF\xBB\xBF", 3) == 0) {
        raw.ptr += 3;
        raw.len -= 3;
    }
    if (cl->format == CONTAINER_LOG_LINES) {
        ready_from_line(cl, line, raw, CONTAINER_LOG_NO_TIME,
                        CONTAINER_LOG_STREAM_NONE, false);
        return;
    }
    /* NUL bytes before a line: after a crash the file system may give a
     * file's unwritten end as zeros, and the runtime goes on writing after
     * them; the line is still the format. */
    struct sl_slice body = raw;
    while (body.len > 0 && body.ptr[0] == '\0') {
        body.ptr++;
        body.len--;
    }
    struct container_part p;
    int rc = cl->format == CONTAINER_LOG_DOCKER
                 ? container_parse_docker(body.ptr, body.len, &p)
                 : container_parse_cri(body.ptr, body.len, &p);
    if (cl->open && (rc < 0 || p.stream != cl->cur.stream)) {
        cl->stats.interleaved++;
        complete(cl);
        keep_pending(cl, line);
        return;
    }
    if (rc < 0) {
        cl->stats.invalid++;
        ready_from_line(cl, line, raw, CONTAINER_LOG_NO_TIME,
                        CONTAINER_LOG_STREAM_NONE, true);
        return;
    }
    place_part(cl, line, &p);
}

bool container_log_push(struct container_log *cl,
                        const struct multiline_line *line)
{
    if (cl->ready || cl->has_pend || cl->flush_wanted)
        return false;
    assert(line->offset >= cl->last_end || cl->stats.lines == 0);
    cl->stats.lines++;
    cl->last_end = line->end;
    place(cl, line);
    return true;
}

bool container_log_peek(struct container_log *cl,
                        struct container_log_record *rec)
{
    if (!cl->ready && cl->has_pend) {
        cl->has_pend = false;
        place(cl, &cl->pend);
    }
    if (!cl->ready && !cl->has_pend && cl->flush_wanted) {
        cl->flush_wanted = false;
        if (cl->open) {
            complete(cl);
            cl->rec.cut = cl->rec.end;
        }
    }
    if (!cl->ready)
        return false;
    *rec = cl->rec;
    return true;
}

void container_log_pop(struct container_log *cl)
{
    cl->ready = false;
}

void container_log_flush(struct container_log *cl)
{
    cl->flush_wanted = true;
}

bool container_log_open(const struct container_log *cl)
{
    return cl->open;
}

uint64_t container_log_done_offset(const struct container_log *cl)
{
    if (cl->ready)
        return cl->rec.offset;
    if (cl->open)
        return cl->cur.offset;
    if (cl->has_pend)
        return cl->pend.offset;
    return cl->last_end;
}

const struct container_log_stats *
container_log_stats(const struct container_log *cl)
{
    return &cl->stats;
}
