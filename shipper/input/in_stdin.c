/* in_stdin.c: see in_stdin.h.
 *
 * States, in order: reading (a read is tried when asked, after a poll
 * with timeout 0 unless the loop's poll said readable; nothing there sets
 * `waiting`, which puts the fd in the loop's poll); ended (read gave 0, or
 * failed: the EOF notice is owed); eof (notice given: nothing more). One
 * buffer of read_size bytes, allocated once.
 *
 * Not done here: framing (the caller's line_reader, as for files), the
 * clock (the start time is given), the registry (stdin cannot be read
 * again, so there is nothing to resume). */
#include "in_stdin.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define F(m) SL_OPT_FIELD(struct in_stdin_config, m)
static const struct sl_opt stdin_opts[] = {
    {"type", SL_OPT_STRING, F(type), .def = "stdin",
     .help = "`file` or `stdin`: which input reads this element"},
    {"format", SL_OPT_RAW, F(format), .doc_type = "a string",
     .help = "`lines`, `docker` or `cri`: how lines are framed"},
    {"multiline", SL_OPT_RAW, F(multiline), .doc_type = "an object",
     .help = "joins the lines of one event (a preset or a pattern)"},
    {"processors", SL_OPT_RAW, F(processors), .doc_type = "a list of objects",
     .help = "grok, date, fields... applied to each event in order"},
    {"fields", SL_OPT_RAW, F(fields), .doc_type = "an object",
     .help = "fields added to every event of this input"},
    {"read_size", SL_OPT_SIZE, F(read_size), .def = "64KiB", .min = 1024,
     .max = 16 * 1024 * 1024,
     .help = "bytes read from stdin at a time, at most"},
    {"max_line_bytes", SL_OPT_SIZE, F(max_line_bytes), .def = "1MiB",
     .min = 1024, .max = 4 * 1024 * 1024,
     .help = "a line longer than this is cut to it and tagged `_truncated`, "
             "the rest of it skipped (`docker`, `cri`: a joined record's "
             "text); with `multiline`, its `max_bytes` bounds the event"},
    SL_OPT_END};

const struct sl_config_table in_stdin_config_table = {
    "inputs[] (stdin)", sizeof(struct in_stdin_config), stdin_opts, NULL};

int in_stdin_config_read(struct in_stdin_config *cfg,
                         const struct sl_config_node *obj, struct sl_err *err)
{
    return sl_config_table_fill(&in_stdin_config_table, obj, cfg, err);
}

void in_stdin_config_release(struct in_stdin_config *cfg)
{
    sl_config_table_release(&in_stdin_config_table, cfg);
}

struct in_stdin {
    int fd;
    size_t read_size;
    int64_t start_ms;
    char *buf;
    bool waiting;  /* a read found nothing: the loop polls the fd */
    bool readable; /* the loop's poll said so */
    bool ended;    /* read gave 0 or failed: the EOF notice is owed */
    bool eof;      /* the notice was given */
    uint64_t offset;
    struct in_stdin_stats stats;
};

struct in_stdin *in_stdin_new(int fd, size_t read_size, int64_t start_ms,
                              struct sl_err *err)
{
    struct in_stdin *in = calloc(1, sizeof *in);
    if (in == NULL || (in->buf = malloc(read_size ? read_size : 1)) == NULL) {
        free(in);
        sl_err_set(err, SL_ENOMEM, "stdin: out of memory");
        return NULL;
    }
    in->fd = fd;
    in->read_size = read_size ? read_size : 1;
    in->start_ms = start_ms;
    return in;
}

void in_stdin_free(struct in_stdin *in)
{
    if (in == NULL)
        return;
    free(in->buf);
    free(in);
}

size_t in_stdin_fill_pollfds(struct in_stdin *in, struct pollfd *pfds, size_t n)
{
    if (n == 0 || !in->waiting || in->ended || in->eof)
        return 0;
    pfds[0] = (struct pollfd){.fd = in->fd, .events = POLLIN};
    return 1;
}

int in_stdin_timeout_ms(const struct in_stdin *in)
{
    (void)in;
    return -1;
}

void in_stdin_process(struct in_stdin *in, const struct pollfd *pfds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pfds[i].fd == in->fd &&
            (pfds[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
            in->readable = true;
}

/* Whether a read would return at once: the loop said so, or a poll now. */
static bool ready(struct in_stdin *in)
{
    if (in->readable)
        return true;
    struct pollfd p = {.fd = in->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static int end_with(struct in_stdin *in, struct in_stdin_chunk *c)
{
    in->ended = false;
    in->eof = true;
    in->waiting = false;
    *c = (struct in_stdin_chunk){IN_STDIN_EOF, NULL, 0, in->offset};
    return 1;
}

int in_stdin_read(struct in_stdin *in, size_t budget, struct in_stdin_chunk *c,
                  struct sl_err *err)
{
    if (in->eof)
        return 0;
    if (in->ended)
        return end_with(in, c);
    if (!ready(in)) {
        in->waiting = true;
        in->stats.waits++;
        return 0;
    }
    in->readable = false;
    size_t want = budget < in->read_size ? budget : in->read_size;
    ssize_t n = read(in->fd, in->buf, want > 0 ? want : 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
        in->waiting = true;
        in->stats.waits++;
        return 0;
    }
    if (n < 0) {
        in->ended = true;
        return sl_err_set(err, SL_EIO,
                          "stdin: read failed after %llu bytes: %s; the "
                          "input ends here",
                          (unsigned long long)in->offset, sl_strerror(errno));
    }
    if (n == 0)
        return end_with(in, c);
    *c = (struct in_stdin_chunk){IN_STDIN_DATA, in->buf, (size_t)n, in->offset};
    in->offset += (uint64_t)n;
    in->waiting = false;
    in->stats.bytes += (uint64_t)n;
    in->stats.reads++;
    return 1;
}

bool in_stdin_eof(const struct in_stdin *in)
{
    return in->eof;
}

int64_t in_stdin_start_ms(const struct in_stdin *in)
{
    return in->start_ms;
}

const struct in_stdin_stats *in_stdin_stats(const struct in_stdin *in)
{
    return &in->stats;
}
