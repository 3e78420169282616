/* in_stdin.h: the shipper's stdin input (`"type": "stdin"`). It hands out
 * the bytes of a descriptor (0, or a pipe in tests) in bounded chunks when
 * the daemon's loop asks, and says when the stream has ended, so that
 * `run --once` ends when stdin closes.
 *
 * The loop drives it with the shape of WAVE2.md:
 *
 *   n = in_stdin_fill_pollfds(in, pfds, cap);  the fd, while it waits
 *   t = in_stdin_timeout_ms(in);               -1: no timers
 *   poll(...);
 *   in_stdin_process(in, pfds, n);
 *   while (outbox has room && in_stdin_read(in, room, &c, err) == 1)
 *       ... frame c.data (line_reader, then container_log), or end the
 *           framing at IN_STDIN_EOF ...
 *
 * Backpressure is not reading: in_stdin_read() is the only place that
 * reads, at most min(budget, read_size) bytes, and only when called; the
 * descriptor is polled only after a call found nothing to read, so a loop
 * that stops asking (its outbox is full) is not woken by stdin. The writer
 * on the other side then blocks on a full pipe: stdin has no file to be
 * the buffer, and nothing is lost.
 *
 * Never blocking, without O_NONBLOCK: that flag lives on the open file
 * description, which stdin shares with the shell (a terminal left
 * non-blocking breaks it after the shipper exits, or after a kill -9).
 * Instead a read is made only when poll says the fd is readable (a poll
 * with timeout 0 when the loop did not just say so): a read after POLLIN
 * returns at once on pipes, terminals, sockets and files.
 *
 * Offsets count the bytes of the stream from its start; the event id of a
 * stdin event uses the stream's start time (in_stdin_start_ms, given at
 * creation) and its offset (event_base.h). Nothing is saved in the
 * registry: stdin cannot be read again. */
#ifndef IN_STDIN_H
#define IN_STDIN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_config.h"
#include "sl_config_table.h"
#include "sl_err.h"

/* One `inputs[]` element of type stdin (in_stdin_config_table). */
struct in_stdin_config {
    const char *type; /* "stdin" */
    /* the other modules' keys, read by them */
    const struct sl_config_node *format, *multiline, *processors, *fields;
    long long max_line_bytes; /* a line is cut past this */
    long long read_size;      /* bytes per read, at most */
};

extern const struct sl_config_table in_stdin_config_table;

SL_MUST_CHECK int in_stdin_config_read(struct in_stdin_config *cfg,
                                       const struct sl_config_node *obj,
                                       struct sl_err *err);
void in_stdin_config_release(struct in_stdin_config *cfg);

struct in_stdin;

/* Reads fd (not owned: never closed here), read_size bytes at most a read
 * (>= 1), the stream started at start_ms (UTC ms). NULL on SL_ENOMEM. */
struct in_stdin *in_stdin_new(int fd, size_t read_size, int64_t start_ms,
                              struct sl_err *err);
void in_stdin_free(struct in_stdin *in); /* NULL is fine */

size_t in_stdin_fill_pollfds(struct in_stdin *in, struct pollfd *pfds,
                             size_t n);
SL_MUST_CHECK int
in_stdin_timeout_ms(const struct in_stdin *in); /* always -1 */
void in_stdin_process(struct in_stdin *in, const struct pollfd *pfds, size_t n);

enum in_stdin_kind {
    IN_STDIN_DATA, /* data, len, offset are set */
    IN_STDIN_EOF   /* the stream ended (once): end the framing */
};

struct in_stdin_chunk {
    enum in_stdin_kind kind;
    const char *data; /* valid until the next call */
    size_t len;
    uint64_t offset; /* stream offset of data[0]; at EOF, the stream's size */
};

/* 1: *c is the next chunk (at most budget bytes, budget >= 1) or the EOF
 * notice; 0: nothing to read now (the fd is polled from now on), or
 * nothing ever again after EOF; -1: the read failed (SL_EIO, err says
 * why): the stream is over, the next call gives the EOF notice. */
SL_MUST_CHECK int in_stdin_read(struct in_stdin *in, size_t budget,
                                struct in_stdin_chunk *c, struct sl_err *err);

bool in_stdin_eof(const struct in_stdin *in); /* EOF notice given */
int64_t in_stdin_start_ms(const struct in_stdin *in);

struct in_stdin_stats {
    uint64_t bytes; /* read */
    uint64_t reads; /* read() calls that returned data */
    uint64_t waits; /* calls that found nothing to read */
};

const struct in_stdin_stats *in_stdin_stats(const struct in_stdin *in);

#endif
