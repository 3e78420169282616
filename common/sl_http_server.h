/* sl_http_server.h: a tiny HTTP/1.1 server for /metrics and /status, driven
 * by the caller's poll loop (no thread, no blocking call).
 *
 *   struct sl_http_server_config cfg = {.address = "127.0.0.1:9600"};
 *   struct sl_http_server *s = sl_http_server_new(&cfg, &err);
 *   sl_http_server_route(s, "/metrics", render_metrics, m, &err);
 *   for (;;) {
 *       size_t n = sl_http_server_fill_pollfds(s, pfds, SL_HTTP_MAX_POLLFDS);
 *       ...add the loop's own fds after pfds[n]...
 *       poll(pfds, total, min(own_timeout, sl_http_server_timeout_ms(s)));
 *       sl_http_server_handle(s, pfds, n);
 *   }
 *
 * What it answers: GET and HEAD on a registered path (the query string is
 * ignored for routing); 404 on another path, 405 with "Allow: GET, HEAD" on
 * another method, 400 on a malformed request, 414 when the request line
 * alone passes SL_HTTP_MAX_HEADER bytes, 431 when the request head does, 500
 * when a handler fails, and 503 at once to a connection that arrives while
 * max_clients are open. Every response carries Content-Length and
 * "Connection: close", and the connection closes after it (no keep-alive,
 * no pipelining: a scrape every few seconds does not need them). A client
 * that has not sent its whole request head within idle_timeout_ms of
 * connecting, or not read its whole response within idle_timeout_ms of
 * the first byte, is closed without more ado.
 *
 * Memory is bounded: max_clients slots of SL_HTTP_MAX_HEADER bytes each,
 * plus each response (at most SL_HTTP_MAX_RESPONSE bytes) while it is being
 * sent. Writes use MSG_NOSIGNAL, so a client that goes away never raises
 * SIGPIPE. Not thread-safe: one loop owns a server. */
#ifndef SL_HTTP_SERVER_H
#define SL_HTTP_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_err.h"
#include "sl_http_request.h"
#include "sl_slice.h"

#define SL_HTTP_MAX_HEADER   8192 /* request line + headers + blank line */
#define SL_HTTP_MAX_RESPONSE (16 << 20)
#define SL_HTTP_MAX_CLIENTS  64 /* upper bound of max_clients */
#define SL_HTTP_MAX_POLLFDS  (SL_HTTP_MAX_CLIENTS + 1)
#define SL_HTTP_MAX_ROUTES   16

struct sl_http_server_config {
    /* "127.0.0.1:9600", "[::1]:9600" or "localhost:9600" (= 127.0.0.1; no
     * resolver is asked). Port 0 picks a free port: see
     * sl_http_server_port(). */
    const char *address;
    /* The counters are not meant to be public: an address that is not
     * loopback (127.0.0.0/8, ::1) is refused unless this is set. */
    bool allow_non_loopback;
    int max_clients;     /* 0: 8; at most SL_HTTP_MAX_CLIENTS */
    int idle_timeout_ms; /* 0: 10000 */
};

/* Fills body (empty, with max SL_HTTP_MAX_RESPONSE) and sets
 * *content_type to a static string. Returns 0, or -1 with err set: the
 * client gets a 500 and the message is logged as a warning. The server
 * keeps ctx until it is freed. */
typedef int (*sl_http_handler_fn)(void *ctx, struct sl_buf *body,
                                  const char **content_type,
                                  struct sl_err *err);

struct sl_http_server;

/* Binds and listens. Fails with SL_EINVAL for an address that does not
 * parse or is not loopback (unless allowed), SL_EIO when the address is in
 * use or cannot be bound; the message names the address and what to do. */
struct sl_http_server *
sl_http_server_new(const struct sl_http_server_config *cfg, struct sl_err *err);
/* The address checks of sl_http_server_new() alone, without binding: for
 * a config's `check`. 0, or -1 with SL_EINVAL and the same message. */
SL_MUST_CHECK int sl_http_server_check_address(const char *address,
                                               bool allow_non_loopback,
                                               struct sl_err *err);
/* Closes the listener and every client. NULL is fine. */
void sl_http_server_free(struct sl_http_server *s);

/* Routes GET and HEAD on path (exact match, copied) to fn. */
SL_MUST_CHECK int sl_http_server_route(struct sl_http_server *s,
                                       const char *path, sl_http_handler_fn fn,
                                       void *ctx, struct sl_err *err);

/* The query of the request being answered ("after=x" of "/status?after=x",
 * up to a '#'; raw, not decoded; empty when it has none), for a handler
 * to read while it runs: it points into the request, gone after. */
struct sl_slice sl_http_server_query(const struct sl_http_server *s);

/* The bound port (the chosen one when the address asked for port 0). */
uint16_t sl_http_server_port(const struct sl_http_server *s);
/* Open client connections. */
size_t sl_http_server_clients(const struct sl_http_server *s);

/* Writes the server's fds and the events it waits for into pfds[0..n),
 * returns how many it wrote (1 + open clients, never more than n; pass
 * SL_HTTP_MAX_POLLFDS to be sure everything fits). */
size_t sl_http_server_fill_pollfds(const struct sl_http_server *s,
                                   struct pollfd *pfds, size_t n);
/* Milliseconds until the next client deadline, or -1 when no client is
 * open: use it to bound the poll timeout so idle clients are closed on
 * time. */
SL_MUST_CHECK int sl_http_server_timeout_ms(const struct sl_http_server *s);
/* After poll(): serves the entries of pfds[0..n) that are ready (matched by
 * fd, so the caller may pass back exactly what fill_pollfds wrote), accepts
 * new clients and closes those past their deadline. Never blocks. */
void sl_http_server_handle(struct sl_http_server *s, const struct pollfd *pfds,
                           size_t n);

#endif
