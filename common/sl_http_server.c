/* sl_http_server.c: see sl_http_server.h.
 *
 * A client slot goes READ -> WRITE -> LINGER -> free:
 *   READ    bytes land in the slot's fixed buffer (SL_HTTP_MAX_HEADER), and
 *           the whole head is parsed again after each read; parsing is
 *           linear and the head is small, so keeping parser state between
 *           reads is not worth its complexity.
 *   WRITE   the response, built whole in `out` before the first byte goes,
 *           is sent as the socket takes it.
 *   LINGER  after the response, our side is shut down and what the client
 *           still sends is read and dropped until it closes (nginx's
 *           lingering close): closing with unread bytes in the socket would
 *           send a RST, and the client could lose the response it has not
 *           read yet, e.g. the 431 to a head too large to read whole.
 * Every slot has one deadline, set when it enters READ (idle_timeout_ms
 * for the whole request, so a client sending one byte a second cannot
 * keep a slot), WRITE (idle_timeout_ms) and LINGER (at most 2 s).
 *
 * Not done: keep-alive, pipelining, request bodies, chunked encoding, TLS,
 * the absolute form of the target. A scraper needs none of them. */
#include "sl_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"

#define LINGER_MS       2000
#define LINGER_MAX      (64 * 1024)
#define ACCEPTS_PER_RUN 16
#define TEXT_PLAIN      "text/plain; charset=utf-8"

enum client_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct client {
    int fd;
    enum client_state state;
    int64_t deadline; /* monotonic ms */
    size_t inlen;     /* READ: bytes in `in`; LINGER: bytes dropped */
    char in[SL_HTTP_MAX_HEADER];
    struct sl_buf out;
    size_t sent;
};

struct route {
    char *path;
    sl_http_handler_fn fn;
    void *ctx;
};

struct sl_http_server {
    int lfd;
    uint16_t port;
    int max_clients;
    int idle_ms;
    size_t nclients;
    struct client *clients; /* max_clients slots */
    struct route routes[SL_HTTP_MAX_ROUTES];
    size_t nroutes;
    struct sl_buf body;    /* handlers write here; copied into a client's out */
    struct sl_slice query; /* the request's, while its handler runs */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* A numeric host (IPv6 when it was in brackets) and port to a socket
 * address; *loopback says whether it is 127.0.0.0/8 or ::1. */
static int to_sockaddr(const char *host, bool bracketed, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *sslen,
                       bool *loopback)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
    if (!bracketed && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *sslen = sizeof *v4;
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (bracketed && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *sslen = sizeof *v6;
        *loopback = memcmp(&v6->sin6_addr, &in6addr_loopback,
                           sizeof in6addr_loopback) == 0;
        return 0;
    }
    return -1;
}

/* "127.0.0.1:9600", "[::1]:9600", "localhost:9600" -> a socket address. */
static int parse_address(const char *addr, bool allow_non_loopback,
                         struct sockaddr_storage *ss, socklen_t *sslen,
                         struct sl_err *err)
{
    char host[64];
    const char *colon, *h = addr;
    size_t hlen;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (rb == NULL || rb[1] != ':')
            goto bad_form;
        h = addr + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            goto bad_form;
        hlen = (size_t)(colon - addr);
        if (memchr(addr, ':', hlen) != NULL)
            return sl_err_set(err, SL_EINVAL,
                              "metrics address '%s': write an IPv6 address "
                              "in brackets, as in [::1]:9600",
                              addr);
    }
    if (hlen == 0 || hlen >= sizeof host)
        goto bad_form;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *p = colon + 1;
    unsigned long port = 0;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 5 || p[digits] != '\0' ||
        (port = strtoul(p, NULL, 10)) > 65535)
        return sl_err_set(err, SL_EINVAL,
                          "metrics address '%s': port '%s' is not a number "
                          "from 0 to 65535",
                          addr, p);
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", sizeof "127.0.0.1");
    bool loopback;
    if (to_sockaddr(host, addr[0] == '[', (uint16_t)port, ss, sslen,
                    &loopback) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "metrics address '%s': '%s' is not an IP address; "
                          "use 127.0.0.1, [::1] or localhost",
                          addr, host);
    if (!loopback && !allow_non_loopback)
        return sl_err_set(err, SL_EINVAL,
                          "metrics address '%s' is not a loopback address, "
                          "and the counters are not meant to be public; "
                          "listen on 127.0.0.1, [::1] or localhost",
                          addr);
    return 0;
bad_form:
    return sl_err_set(err, SL_EINVAL,
                      "metrics address '%s' is not HOST:PORT; write "
                      "127.0.0.1:9600, [::1]:9600 or localhost:9600",
                      addr);
}

static int listen_error(const char *addr, unsigned port, int e,
                        struct sl_err *err)
{
    if (e == EADDRINUSE)
        return sl_err_set(err, SL_EIO,
                          "metrics address %s is in use; pick another port "
                          "or stop the other process (ss -ltnp 'sport = "
                          ":%u' shows it)",
                          addr, port);
    if (e == EADDRNOTAVAIL)
        return sl_err_set(err, SL_EIO,
                          "metrics address %s is not available on this host "
                          "(no such local address, or IPv6 is off); use "
                          "127.0.0.1",
                          addr);
    if (e == EACCES)
        return sl_err_set(err, SL_EIO,
                          "metrics address %s: port %u needs privileges; "
                          "pick a port above 1023",
                          addr, port);
    return sl_err_set(err, SL_EIO, "cannot listen on metrics address %s: %s",
                      addr, sl_strerror(e));
}

static int open_listener(struct sl_http_server *s, const char *addr,
                         const struct sockaddr_storage *ss, socklen_t sslen,
                         struct sl_err *err)
{
    int one = 1;
    const struct sockaddr_in *v4 = (const void *)ss;
    unsigned port = ntohs(v4->sin_port); /* same offset in sockaddr_in6 */
    s->lfd = socket(ss->ss_family, SOCK_STREAM, 0);
    if (s->lfd < 0)
        return listen_error(addr, port, errno, err);
    /* SO_REUSEADDR lets a restart bind while old connections sit in
     * TIME_WAIT; on Linux it does not let two servers share a port. */
    if (set_nonblock_cloexec(s->lfd) < 0 ||
        setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        bind(s->lfd, (const struct sockaddr *)ss, sslen) < 0 ||
        listen(s->lfd, 16) < 0)
        return listen_error(addr, port, errno, err);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(s->lfd, (struct sockaddr *)&bound, &blen) < 0)
        return listen_error(addr, port, errno, err);
    s->port = ntohs(((const struct sockaddr_in *)(void *)&bound)->sin_port);
    return 0;
}

int sl_http_server_check_address(const char *address, bool allow_non_loopback,
                                 struct sl_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    return parse_address(address != NULL ? address : "", allow_non_loopback,
                         &ss, &sslen, err);
}

struct sl_http_server *
sl_http_server_new(const struct sl_http_server_config *cfg, struct sl_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    const char *addr = cfg->address != NULL ? cfg->address : "";
    if (cfg->max_clients < 0 || cfg->max_clients > SL_HTTP_MAX_CLIENTS ||
        cfg->idle_timeout_ms < 0) {
        sl_err_set(err, SL_EINVAL,
                   "metrics server: max_clients must be from 0 (for 8) to "
                   "%d, and the idle timeout not negative",
                   SL_HTTP_MAX_CLIENTS);
        return NULL;
    }
    if (parse_address(addr, cfg->allow_non_loopback, &ss, &sslen, err) < 0)
        return NULL;
    struct sl_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto nomem;
    s->lfd = -1;
    s->max_clients = cfg->max_clients ? cfg->max_clients : 8;
    s->idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : 10000;
    sl_buf_init(&s->body, SL_HTTP_MAX_RESPONSE);
    s->clients = calloc((size_t)s->max_clients, sizeof *s->clients);
    if (s->clients == NULL)
        goto nomem;
    for (int i = 0; i < s->max_clients; i++)
        s->clients[i].fd = -1;
    if (open_listener(s, addr, &ss, sslen, err) < 0)
        goto fail;
    return s;
nomem:
    sl_err_set(err, SL_ENOMEM, "out of memory starting the metrics server");
fail:
    sl_http_server_free(s);
    return NULL;
}

static void close_client(struct sl_http_server *s, struct client *c)
{
    close(c->fd);
    c->fd = -1;
    c->state = C_FREE;
    c->inlen = 0;
    c->sent = 0;
    sl_buf_release(&c->out);
    s->nclients--;
}

void sl_http_server_free(struct sl_http_server *s)
{
    if (s == NULL)
        return;
    for (int i = 0; s->clients != NULL && i < s->max_clients; i++)
        if (s->clients[i].state != C_FREE)
            close_client(s, &s->clients[i]);
    if (s->lfd >= 0)
        close(s->lfd);
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].path);
    sl_buf_release(&s->body);
    free(s->clients);
    free(s);
}

int sl_http_server_route(struct sl_http_server *s, const char *path,
                         sl_http_handler_fn fn, void *ctx, struct sl_err *err)
{
    if (path[0] != '/')
        return sl_err_set(err, SL_EINVAL,
                          "metrics server: path '%s' must start with '/'",
                          path);
    if (s->nroutes == SL_HTTP_MAX_ROUTES)
        return sl_err_set(err, SL_ELIMIT, "metrics server: more than %d paths",
                          SL_HTTP_MAX_ROUTES);
    size_t n = strlen(path) + 1;
    char *p = malloc(n);
    if (p == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory adding a path");
    memcpy(p, path, n);
    s->routes[s->nroutes++] = (struct route){p, fn, ctx};
    return 0;
}

uint16_t sl_http_server_port(const struct sl_http_server *s)
{
    return s->port;
}

size_t sl_http_server_clients(const struct sl_http_server *s)
{
    return s->nclients;
}

size_t sl_http_server_fill_pollfds(const struct sl_http_server *s,
                                   struct pollfd *pfds, size_t n)
{
    size_t k = 0;
    if (k < n)
        pfds[k++] = (struct pollfd){s->lfd, POLLIN, 0};
    for (int i = 0; i < s->max_clients && k < n; i++) {
        const struct client *c = &s->clients[i];
        if (c->state != C_FREE)
            pfds[k++] = (struct pollfd){
                c->fd, c->state == C_WRITE ? POLLOUT : POLLIN, 0};
    }
    return k;
}

int sl_http_server_timeout_ms(const struct sl_http_server *s)
{
    int64_t now = now_ms(), best = -1;
    for (int i = 0; i < s->max_clients; i++) {
        const struct client *c = &s->clients[i];
        if (c->state == C_FREE)
            continue;
        int64_t left = c->deadline > now ? c->deadline - now : 0;
        if (best < 0 || left < best)
            best = left;
    }
    return best > 1000000 ? 1000000 : (int)best;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Sends what the socket takes of c->out; when all is sent, shuts our side
 * and lingers. */
static void write_some(struct sl_http_server *s, struct client *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.ptr + c->sent, c->out.len - c->sent,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close_client(s, c);
            return;
        }
        c->sent += (size_t)n;
    }
    sl_buf_release(&c->out);
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->inlen = 0;
    c->deadline = now_ms() + (s->idle_ms < LINGER_MS ? s->idle_ms : LINGER_MS);
}

/* Builds the whole response in c->out and starts sending it. */
static void respond(struct sl_http_server *s, struct client *c, int status,
                    const char *ctype, const char *extra, const char *body,
                    size_t blen, bool head)
{
    sl_buf_init(&c->out, SL_HTTP_MAX_RESPONSE + 1024);
    if (sl_buf_printf(&c->out, NULL,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                      status, reason(status), ctype, blen, extra) < 0 ||
        (!head && sl_buf_append(&c->out, body, blen, NULL) < 0)) {
        close_client(s, c); /* out of memory: nothing better to say */
        return;
    }
    c->state = C_WRITE;
    c->sent = 0;
    c->deadline = now_ms() + s->idle_ms;
    write_some(s, c);
}

static void respond_text(struct sl_http_server *s, struct client *c, int status,
                         const char *extra, const char *text, bool head)
{
    respond(s, c, status, TEXT_PLAIN, extra, text, strlen(text), head);
}

static void not_found(struct sl_http_server *s, struct client *c, bool head)
{
    char text[1024];
    size_t n =
        (size_t)snprintf(text, sizeof text, "not found; this server answers");
    for (size_t i = 0; i < s->nroutes && n < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s %s",
                              i == 0 ? "" : ",", s->routes[i].path);
    if (n < sizeof text)
        snprintf(text + n, sizeof text - n, "\n");
    respond_text(s, c, 404, "", text, head);
}

/* The target after "path?" up to a '#'; empty when it has none. */
static struct sl_slice query_of(const struct sl_http_request *req)
{
    const char *end = req->target.ptr + req->target.len;
    const char *q = req->path.ptr + req->path.len;
    if (q >= end || *q != '?')
        return (struct sl_slice){"", 0};
    const char *hash = memchr(q + 1, '#', (size_t)(end - q - 1));
    return (struct sl_slice){q + 1, (size_t)((hash ? hash : end) - q - 1)};
}

struct sl_slice sl_http_server_query(const struct sl_http_server *s)
{
    return s->query.ptr != NULL ? s->query : (struct sl_slice){"", 0};
}

static void dispatch(struct sl_http_server *s, struct client *c,
                     const struct sl_http_request *req)
{
    bool head = sl_slice_eq(req->method, "HEAD", 4);
    const struct route *r = NULL;
    for (size_t i = 0; i < s->nroutes && r == NULL; i++)
        if (sl_slice_eq(req->path, s->routes[i].path,
                        strlen(s->routes[i].path)))
            r = &s->routes[i];
    if (r == NULL) {
        not_found(s, c, head);
        return;
    }
    if (!head && !sl_slice_eq(req->method, "GET", 3)) {
        respond_text(s, c, 405, "Allow: GET, HEAD\r\n",
                     "method not allowed; use GET or HEAD\n", false);
        return;
    }
    const char *ctype = TEXT_PLAIN;
    struct sl_err err = {0};
    sl_buf_reset(&s->body);
    s->query = query_of(req);
    int rc = r->fn(r->ctx, &s->body, &ctype, &err);
    s->query = (struct sl_slice){"", 0};
    if (rc < 0) {
        SL_WARN("http", "GET %s failed: %s", r->path, err.msg);
        respond_text(s, c, 500, "",
                     "internal error; the daemon's log says why\n", head);
        return;
    }
    respond(s, c, 200, ctype, "", s->body.ptr != NULL ? s->body.ptr : "",
            s->body.len, head);
}

static void read_request(struct sl_http_server *s, struct client *c)
{
    ssize_t n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        close_client(s, c); /* gone before asking anything complete */
        return;
    }
    c->inlen += (size_t)n;
    struct sl_http_request req;
    switch (sl_http_parse_request(c->in, c->inlen, sizeof c->in, &req)) {
    case SL_HTTP_PARSE_INCOMPLETE:
        break;
    case SL_HTTP_PARSE_DONE:
        dispatch(s, c, &req);
        break;
    case SL_HTTP_PARSE_BAD:
        respond_text(s, c, 400, "", "bad request\n", false);
        break;
    case SL_HTTP_PARSE_URI_TOO_LONG:
        respond_text(s, c, 414, "", "request line too long\n", false);
        break;
    case SL_HTTP_PARSE_HEADERS_TOO_LARGE:
        respond_text(s, c, 431, "",
                     "request header fields too large; the limit is 8192 "
                     "bytes\n",
                     false);
        break;
    }
}

/* LINGER: drops what the client still sends, until it closes. */
static void drain(struct sl_http_server *s, struct client *c)
{
    ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    c->inlen += n > 0 ? (size_t)n : 0;
    if (n <= 0 || c->inlen > LINGER_MAX)
        close_client(s, c);
}

static struct client *find_client(struct sl_http_server *s, int fd)
{
    for (int i = 0; i < s->max_clients; i++)
        if (s->clients[i].state != C_FREE && s->clients[i].fd == fd)
            return &s->clients[i];
    return NULL;
}

/* No slot: answer 503 with what the socket takes at once, read what the
 * client already sent (so the close is a FIN, not a RST that could drop
 * our answer) and close. The busy client never costs a slot. */
static void refuse(int fd)
{
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: " TEXT_PLAIN "\r\nContent-Length: 38\r\n"
        "Retry-After: 1\r\nConnection: close\r\n\r\n"
        "too many connections; try again later\n";
    char sink[4096];
    if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL) > 0)
        shutdown(fd, SHUT_WR);
    for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, 0) > 0; i++)
        ;
    close(fd);
}

static void accept_clients(struct sl_http_server *s)
{
    for (int k = 0; k < ACCEPTS_PER_RUN; k++) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                SL_WARN("http", "accept on metrics port %u: %s",
                        (unsigned)s->port, sl_strerror(errno));
            return;
        }
        if (set_nonblock_cloexec(fd) < 0) {
            close(fd);
            continue;
        }
        if (s->nclients == (size_t)s->max_clients) {
            refuse(fd);
            continue;
        }
        struct client *c = NULL;
        for (int i = 0; c == NULL; i++)
            if (s->clients[i].state == C_FREE)
                c = &s->clients[i];
        c->fd = fd;
        c->state = C_READ;
        c->inlen = 0;
        c->deadline = now_ms() + s->idle_ms;
        s->nclients++;
    }
}

void sl_http_server_handle(struct sl_http_server *s, const struct pollfd *pfds,
                           size_t n)
{
    bool accept_ready = false;
    /* Clients first: a slot closed here may free its fd number, and an
     * accept() before the scan could hand that number to a new client
     * that would then take the old one's events. */
    for (size_t i = 0; i < n; i++) {
        if (pfds[i].fd == s->lfd) {
            accept_ready = pfds[i].revents != 0;
            continue;
        }
        struct client *c;
        if (pfds[i].revents == 0 || (c = find_client(s, pfds[i].fd)) == NULL)
            continue;
        if (c->state == C_READ)
            read_request(s, c);
        else if (c->state == C_WRITE)
            write_some(s, c);
        else if (c->state == C_LINGER)
            drain(s, c);
    }
    int64_t now = now_ms();
    for (int i = 0; i < s->max_clients; i++)
        if (s->clients[i].state != C_FREE && s->clients[i].deadline <= now)
            close_client(s, &s->clients[i]);
    if (accept_ready)
        accept_clients(s);
}
