/* out_stdout.c: the stdout sink: each batch's events as JSON lines, to try
 * a config without Redis (`run --once` prints every event and exits).
 *
 * At a batch's seal, output.c first offers its JSON lines to
 * out_stdout_write_now(), which writes them straight from the batch being
 * sealed (writev, no copy) when no batch is queued before them; the batch
 * handed over then holds only the "JSON\n" bytes the descriptor did not
 * take (none, for a file or /dev/null). It is written from where the last
 * write stopped, and is done once its last byte is written.
 *
 * Blocking: a pipe or a socket is made non-blocking, so a reader that
 * does not keep up fills the pipe, writes stop with EAGAIN, the outbox
 * fills and the pipeline stops reading; the loop waits for POLLOUT. The
 * descriptor's flags are put back at free (the other end of a pipe may
 * be shared with a shell). A terminal or a regular file stays blocking:
 * setting O_NONBLOCK on a terminal changes it for the shell too, and a
 * regular file never says EAGAIN; such writes are short. Any other error
 * (EPIPE: the reader went away) is logged once and ends the sink. */
#include "output_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sl_log.h"

struct out_stdout {
    struct output *o;
    int fd;
    int flags;     /* as found, restored at free */
    bool nonblock; /* writes may say EAGAIN: wait for POLLOUT */
    bool changed;  /* we set O_NONBLOCK */
    bool broken;
    const char *component;
    struct output_batch *head, *tail;
};

static void broke(struct out_stdout *s, int e)
{
    s->broken = true;
    SL_ERROR(s->component,
             "cannot write to fd %d: %s; the output stops (what reads the "
             "shipper's output went away?)",
             s->fd, sl_strerror(e));
}

size_t out_stdout_write_now(void *sink, const struct iovec *iov, int n)
{
    struct out_stdout *s = sink;
    size_t total = 0;
    if (s->head != NULL || s->broken)
        return 0;
    while (n > 0) {
        ssize_t w = writev(s->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            broke(s, errno);
        if (w <= 0)
            return total;
        total += (size_t)w;
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0 && left > 0)
            return total; /* a short write: the rest is copied */
    }
    return total;
}

static void write_some(struct out_stdout *s)
{
    while (s->head != NULL && !s->broken) {
        struct output_batch *b = s->head;
        ssize_t n =
            write(s->fd, b->payload + b->written, b->payload_len - b->written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            broke(s, errno);
            return;
        }
        b->written += (size_t)n;
        if (b->written < b->payload_len)
            continue;
        s->head = b->next;
        if (s->head == NULL)
            s->tail = NULL;
        b->next = NULL;
        output_batch_done(s->o, b);
    }
}

static void take(void *sink, struct output_batch *b)
{
    struct out_stdout *s = sink;
    if (b->payload_len == 0) { /* written through at the seal */
        output_batch_done(s->o, b);
        return;
    }
    b->next = NULL;
    if (s->tail != NULL)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    write_some(s);
}

static size_t fill_pollfds(const void *sink, struct pollfd *pfds, size_t n)
{
    const struct out_stdout *s = sink;
    if (n == 0 || !s->nonblock || s->head == NULL || s->broken)
        return 0;
    pfds[0].fd = s->fd;
    pfds[0].events = POLLOUT;
    pfds[0].revents = 0;
    return 1;
}

static int timeout_ms(const void *sink)
{
    const struct out_stdout *s = sink;
    return !s->nonblock && s->head != NULL && !s->broken ? 0 : -1;
}

static void process(void *sink, const struct pollfd *pfds, size_t n)
{
    (void)pfds;
    (void)n;
    write_some(sink);
}

static bool has_room(const void *sink)
{
    return !((const struct out_stdout *)sink)->broken;
}

static bool broken(const void *sink)
{
    return ((const struct out_stdout *)sink)->broken;
}

static bool ready(const void *sink)
{
    return !broken(sink);
}

static void sink_free(void *sink)
{
    struct out_stdout *s = sink;
    if (s == NULL)
        return;
    if (s->changed)
        (void)fcntl(s->fd, F_SETFL, s->flags);
    free(s);
}

const struct output_sink_ops out_stdout_ops = {.name = "stdout",
                                               .free = sink_free,
                                               .fill_pollfds = fill_pollfds,
                                               .timeout_ms = timeout_ms,
                                               .process = process,
                                               .has_room = has_room,
                                               .take = take,
                                               .broken = broken,
                                               .ready = ready};

void *out_stdout_new(struct output *o, const struct output_config *cfg,
                     struct sl_err *err)
{
    struct stat st;
    int flags = fcntl(cfg->fd, F_GETFL);
    if (flags < 0 || fstat(cfg->fd, &st) < 0) {
        sl_err_set(err, SL_EIO, "output: fd %d is not open: %s", cfg->fd,
                   sl_strerror(errno));
        return NULL;
    }
    struct out_stdout *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sl_err_set(err, SL_ENOMEM, "output: out of memory");
        return NULL;
    }
    s->o = o;
    s->fd = cfg->fd;
    s->flags = flags;
    s->component = cfg->component;
    s->nonblock = (flags & O_NONBLOCK) != 0;
    if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
        !(flags & O_NONBLOCK)) {
        if (fcntl(cfg->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            sl_err_set(err, SL_EIO,
                       "output: cannot make fd %d non-blocking: "
                       "%s",
                       cfg->fd, sl_strerror(errno));
            free(s);
            return NULL;
        }
        s->nonblock = s->changed = true;
    }
    return s;
}
