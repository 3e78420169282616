/* status_files.h: the daemon's /status body: its counters
 * (sl_metrics_render_json, unchanged, so what read them before still
 * does) and, after them, the files its file inputs know, one object each:
 *
 *   {"process_resident_memory_bytes":3276800, ...,
 *    "files":[{"path":"/var/log/app.log","state":"reading","acked":4096,
 *              "read":8192,"size":9000,"last_read":1764893000},
 *             {"path":"/var/log/x.log","state":"error",
 *              "reason":"permission denied","acked":null,"read":null,
 *              "size":null,"last_read":null}],
 *    "files_known":2,"files_omitted":0}
 *
 * acked: the registry's offset (in Redis up to there), null when the file
 * has no entry yet; read: the next byte the input hands out, null until
 * the file was first opened; size: at the input's last stat of the file
 * (never one per request), at least read, null for a path that cannot be
 * read; last_read: wall-clock seconds of the last byte read (or of
 * opening), null with read; state: a word of in_file.h's in_file_row,
 * "reason" only with "error" and "skipped".
 * Rows are sorted by path (bytes) across inputs and come in pages, so
 * any number of files can be listed in bounded memory: a body holds at
 * most STATUS_FILES_PAGE_ROWS rows and stops before their text passes
 * max_bytes (a first row always goes in). When rows are left after the
 * page, "files_next" is the target that asks for the next one,
 * "/status?after=PATH" (PATH percent-encoded: the last row's path; rows
 * sharing a path are never split across pages); at the last page there is
 * no "files_next". files_omitted counts the rows not in this body.
 *
 * "output_full":true comes before "files" while the output has no room
 * (nothing is read then: `status` says so above its table).
 *
 * "waiting" (in_file.h) is shown as one of its two causes: waiting-output
 * (the output has no room: Redis down, refusing writes, max_pending
 * reached, or every batch slot in flight; nothing is read until it has)
 * or waiting-max-open (every one
 * of max_open_files descriptors holds a file with bytes to read). */
#ifndef STATUS_FILES_H
#define STATUS_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "in_file.h"
#include "sl_buf.h"
#include "sl_err.h"
#include "sl_metrics.h"

/* A page's rows at most, and their text at most: 1,000 rows of 65-byte
 * paths take about 150 KB, so a body stays far below the 1 MiB `status`
 * reads, and a request holds at most 1,001 rows in memory whatever the
 * number of files. */
#define STATUS_FILES_PAGE_ROWS 1000
#define STATUS_FILES_MAX_BYTES (512u << 10)

/* Which page of the rows, and what the words of a row depend on. */
struct status_files_page {
    const char *after;   /* rows whose path sorts after it; NULL: the first */
    size_t max_bytes;    /* the rows' text at most (a first row goes in) */
    bool output_full;    /* the output has no room: waiting-output */
    int64_t mono_now;    /* the two clocks now (sl_clock.h), to turn a */
    int64_t wall_now_ms; /* row's monotonic last_read into wall seconds */
};

/* Appends a /status body to body: m's JSON object (may be NULL: no
 * counters) with "files", "files_known", "files_omitted" and, when rows
 * are left, "files_next" added, from the n inputs (NULL entries skipped:
 * stdin inputs). -1 with err (out of memory, or body's max). */
SL_MUST_CHECK int
status_files_render_page(struct sl_metrics *m, struct in_file *const *inputs,
                         size_t n, const struct status_files_page *pg,
                         struct sl_buf *body, struct sl_err *err);

/* The "after" of a /status query ("after=%2Fvar%2Flog%2Fa.log", other
 * parameters ignored), decoded into out (NUL-terminated, at most size - 1
 * bytes): 1 found, 0 none, -1 malformed (a bad escape, a NUL, too long). */
SL_MUST_CHECK int status_files_query_after(const char *q, size_t len, char *out,
                                           size_t size);

/* The first page with the output not full (status_files_render_page). */
SL_MUST_CHECK int status_files_render(struct sl_metrics *m,
                                      struct in_file *const *inputs, size_t n,
                                      int64_t mono_now, int64_t wall_now_ms,
                                      size_t max_bytes, struct sl_buf *body,
                                      struct sl_err *err);

#endif
