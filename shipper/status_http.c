/* status_http.c: `status` asks the running shipper for its /status JSON
 * (sl_http_server.c serves it) over a plain loopback socket.
 *
 * A plain socket, not libcurl: the shipper links no HTTP client, and one
 * GET to loopback with HTTP/1.0 and a read to EOF needs none (the server
 * closes after every answer). Every step shares one deadline, so a daemon
 * that accepts and then hangs costs `status` timeout_ms, not more. */
#include "shipper_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_http_server.h"

#define HOST_MAX 64
#define HEAD_MAX 8192 /* the answer's status line and headers */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits "host:port" or "[v6]:port"; a wildcard or "localhost" becomes the
 * loopback address the daemon also listens on. */
static int split(const char *listen, char *host, char *port, struct sl_err *err)
{
    const char *colon = strrchr(listen, ':');
    const char *h = listen, *hend = colon;
    if (listen[0] == '[') {
        h = listen + 1;
        hend = strchr(listen, ']');
        if (hend == NULL || hend[1] != ':')
            hend = NULL;
    }
    if (colon == NULL || hend == NULL || hend - h >= HOST_MAX ||
        strlen(colon + 1) > 5)
        return sl_err_set(err, SL_EINVAL, "http.listen '%s' is not host:port",
                          listen);
    snprintf(host, HOST_MAX, "%.*s", (int)(hend - h), h);
    snprintf(port, 8, "%s", colon + 1);
    if (!strcmp(host, "localhost") || !strcmp(host, "0.0.0.0") ||
        host[0] == '\0')
        snprintf(host, HOST_MAX, "127.0.0.1");
    else if (!strcmp(host, "::"))
        snprintf(host, HOST_MAX, "::1");
    return 0;
}

/* Waits for events on fd until the deadline: 0, or -1 on a timeout. */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {fd, events, 0};
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const char *listen, long long deadline,
                      struct sl_err *err)
{
    char host[HOST_MAX], port[8];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
                    *ai;
    if (split(listen, host, port, err) < 0)
        return -1;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return sl_err_set(err, SL_EINVAL,
                          "http.listen '%s' is not a numeric address", listen);
    int fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    int e = errno, so = 0;
    socklen_t len = sizeof so;
    if (rc < 0 && fd >= 0 && e == EINPROGRESS) {
        if (wait_fd(fd, POLLOUT, deadline) < 0)
            so = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) < 0)
            so = errno;
        rc = so ? -1 : 0;
        e = so;
    }
    if (rc == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return sl_err_set(err, SL_EIO, "cannot connect to %s: %s", listen,
                      sl_strerror(e));
}

static int exchange(int fd, const char *listen, const char *target,
                    long long deadline, struct sl_buf *in, struct sl_err *err)
{
    char req[SL_HTTP_MAX_HEADER], chunk[4096];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
    if (len < 0 || (size_t)len >= sizeof req)
        return sl_err_set(err, SL_EINVAL, "%.64s...: too long to ask for",
                          target);
    if (wait_fd(fd, POLLOUT, deadline) < 0 ||
        send(fd, req, (size_t)len, MSG_NOSIGNAL) != (ssize_t)len)
        return sl_err_set(err, SL_EIO, "cannot send to %s", listen);
    for (;;) {
        if (wait_fd(fd, POLLIN, deadline) < 0)
            return sl_err_set(err, SL_EIO, "no answer from %s in time", listen);
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n == 0)
            return 0;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return sl_err_set(err, SL_EIO, "cannot read from %s: %s", listen,
                              sl_strerror(errno));
        if (n > 0 && sl_buf_append(in, chunk, (size_t)n, err) < 0)
            return -1;
    }
}

int shipper_status_answer(const char *in, size_t len, long *code,
                          size_t *body_at)
{
    static const char end[] = "\r\n\r\n";
    size_t i = 0;
    while (i + 4 <= len && memcmp(in + i, end, 4) != 0)
        i++;
    /* "HTTP/1.1 200" and a space or the line's end, then the blank line. */
    if (i + 4 > len || i < 12 || memcmp(in, "HTTP/1.", 7) != 0 || in[7] < '0' ||
        in[7] > '9' || in[8] != ' ' || (in[12] != ' ' && in[12] != '\r'))
        return -1;
    long c = 0;
    for (int k = 9; k < 12; k++) {
        if (in[k] < '0' || in[k] > '9')
            return -1;
        c = c * 10 + (in[k] - '0');
    }
    *code = c;
    *body_at = i + 4;
    return 0;
}

int shipper_status_fetch(const char *listen, const char *target, int timeout_ms,
                         struct sl_buf *body, struct sl_err *err)
{
    long long deadline = now_ms() + timeout_ms;
    struct sl_buf in = SL_BUF_INIT(body->max + HEAD_MAX);
    int fd = connect_to(listen, deadline, err), rc = -1;
    if (fd < 0)
        return -1;
    if (exchange(fd, listen, target, deadline, &in, err) < 0)
        goto done;
    long code;
    size_t at;
    if (shipper_status_answer(in.ptr ? in.ptr : "", in.len, &code, &at) < 0) {
        sl_err_set(err, SL_EREMOTE, "%s did not answer in HTTP", listen);
        goto done;
    }
    if (code != 200) {
        sl_err_set(err, SL_EREMOTE, "%s answered %ld to GET %.200s", listen,
                   code, target);
        goto done;
    }
    rc = sl_buf_append(body, in.ptr + at, in.len - at, err);
done:
    close(fd);
    sl_buf_release(&in);
    return rc;
}
