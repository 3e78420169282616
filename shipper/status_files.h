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
 * Rows are sorted by path (bytes) across inputs. The body is bounded: rows
 * stop before their text passes max_bytes, and files_omitted says how many
 * were left out (`status` reads 1 MiB at most). */
#ifndef STATUS_FILES_H
#define STATUS_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "in_file.h"
#include "sl_buf.h"
#include "sl_err.h"
#include "sl_metrics.h"

/* The rows' text at most: about 5,700 files of 65-byte paths (measured:
 * 10,000 such files gave 5,744 rows, a body of 858 KB with the counters),
 * so the whole body stays below the 1 MiB `status` reads. */
#define STATUS_FILES_MAX_BYTES (768u << 10)

/* Appends the /status body to body: m's JSON object (may be NULL: no
 * counters) with "files", "files_known" and "files_omitted" added, from
 * the n inputs (NULL entries skipped: stdin inputs). mono_now and
 * wall_now_ms are the two clocks now (sl_clock.h), to turn a row's
 * monotonic last_read into wall-clock seconds. -1 with err (out of
 * memory, or body's max). */
SL_MUST_CHECK int status_files_render(struct sl_metrics *m,
                                      struct in_file *const *inputs, size_t n,
                                      int64_t mono_now, int64_t wall_now_ms,
                                      size_t max_bytes, struct sl_buf *body,
                                      struct sl_err *err);

#endif
