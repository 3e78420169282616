/* es_client.h: HTTP POSTs to Elasticsearch on libcurl's multi interface,
 * driven by the daemon's one poll loop: no thread per request, no call
 * that blocks.
 *
 *   struct es_client *c = es_client_new(&cfg, &err);
 *   es_client_post(c, slot, url, body, len, gzip, on_body, on_done, ctx,
 *                  &err);
 *   loop: n = es_client_fill_pollfds(c, pfds, ES_CLIENT_MAX_POLLFDS(c));
 *         poll(.., min(own, es_client_timeout_ms(c)));
 *         es_client_process(c, pfds, n);  (calls on_body, then on_done)
 *
 * Why the socket interface (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION) and
 * not curl_multi_poll(): the indexer's loop also waits on Redis, the HTTP
 * endpoint and a signalfd, each module giving its fds and deadline in the
 * same shape (fill_pollfds / timeout_ms / process). curl_multi_poll would
 * make curl own the wait and every other module pass its fds to it as
 * extra fds; with the socket callbacks curl is one module like the others:
 * it tells us which sockets to watch and when its next timeout is, and one
 * poll() in loop.c waits on everything. The cost is a table of sockets
 * (bounded: see ES_CLIENT_MAX_POLLFDS).
 *
 * Transfers: one easy handle per slot (0 .. max_transfers-1), made at _new
 * and reused, so connections stay open between requests (keep-alive:
 * curl's connection cache keeps one per node and slot). A slot runs at most
 * one transfer. Every transfer has the configured total timeout
 * (CURLOPT_TIMEOUT_MS, mandatory: a node without a master was seen to hang
 * for minutes past its own ?timeout) and connect timeout; no redirects;
 * only http and https.
 *
 * Security: TLS peer and host verification are on unless tls_verify is
 * false; ca_file is CURLOPT_CAINFO. Basic authentication goes through
 * CURLOPT_USERNAME/PASSWORD, an API key as "Authorization: ApiKey KEY":
 * neither ever appears in a message of this module, and URLs in messages
 * are shown without userinfo (es_url_shown). */
#ifndef ES_CLIENT_H
#define ES_CLIENT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

/* How a transfer ended, as the sender's rules need it. */
enum es_xfer_status {
    ES_XFER_ANSWERED, /* a whole HTTP answer came: see http_status */
    ES_XFER_REFUSED,  /* no connection: refused, unreachable, or the connect
                         timed out: set the node aside, try the next */
    ES_XFER_RESOLVE,  /* the host name did not resolve */
    ES_XFER_TIMEOUT,  /* connected, but no whole answer within the timeout:
                         the request may or may not have been indexed */
    ES_XFER_LOST,     /* the connection broke before the whole answer */
    ES_XFER_TLS,      /* TLS failed: certificate not verified, handshake */
    ES_XFER_ABORTED,  /* on_body refused the answer's bytes */
    ES_XFER_OTHER     /* anything else curl reports */
};

struct es_xfer_result {
    enum es_xfer_status status;
    long http_status; /* ES_XFER_ANSWERED: the status line; else 0 */
    char msg[256];    /* curl's words when not answered; "" otherwise */
};

/* The answer's bytes as they arrive; false stops the transfer
 * (ES_XFER_ABORTED). */
typedef bool (*es_body_fn)(void *ctx, const char *buf, size_t len);
/* The end of a transfer, once; the slot is free again when it runs (a new
 * post on the same slot from here is fine). */
typedef void (*es_done_fn)(void *ctx, const struct es_xfer_result *r);

struct es_client_config {
    size_t max_transfers;    /* slots, 1 .. ES_CLIENT_MAX_TRANSFERS */
    long timeout_ms;         /* whole transfer, >= 1 (mandatory) */
    long connect_timeout_ms; /* 0: min(timeout_ms, 10 s) */
    const char *username;    /* basic auth with password; NULL: none */
    const char *password;    /* secret */
    const char *api_key;     /* secret; "Authorization: ApiKey KEY" */
    const char *ca_file;     /* PEM; NULL: the system's CAs */
    bool tls_verify;         /* false: no peer or host check (tests only) */
};

#define ES_CLIENT_MAX_TRANSFERS 64
/* The most fds fill_pollfds writes: a transfer uses one socket, two for a
 * moment while connecting to a name with IPv4 and IPv6 addresses. */
#define ES_CLIENT_MAX_POLLFDS(max_transfers) (2 * (max_transfers) + 4)

struct es_client;

/* curl_global_init must have run. NULL with SL_EINVAL (a value out of
 * range) or SL_ENOMEM. Copies what it keeps of cfg. */
struct es_client *es_client_new(const struct es_client_config *cfg,
                                struct sl_err *err);
/* Ends every transfer without calling on_done. NULL is fine. */
void es_client_free(struct es_client *c);

/* POSTs body[0..len) (Content-Type application/x-ndjson; Content-Encoding
 * gzip when gzip) to url on slot. The client keeps body, url and ctx until
 * on_done: they must not change before. -1 with SL_EINVAL if the slot is
 * out of range or busy, SL_ENOMEM. */
SL_MUST_CHECK int es_client_post(struct es_client *c, size_t slot,
                                 const char *url, const char *body, size_t len,
                                 bool gzip, es_body_fn on_body,
                                 es_done_fn on_done, void *ctx,
                                 struct sl_err *err);

/* The body as a scatter list: read writes its next bytes into buf[0..cap)
 * and says how many (0: the end); rewind starts it again (curl sends a
 * request again on a keep-alive connection the server had closed). */
typedef size_t (*es_read_fn)(void *ctx, char *buf, size_t cap);
typedef void (*es_rewind_fn)(void *ctx);

/* As es_client_post, the body of len bytes read from read (never gzip):
 * written straight into curl's upload buffer, not held whole anywhere.
 * The source must give the same len bytes from each rewind until
 * on_done. */
SL_MUST_CHECK int es_client_post_read(struct es_client *c, size_t slot,
                                      const char *url, size_t len,
                                      es_read_fn read, es_rewind_fn rewind,
                                      es_body_fn on_body, es_done_fn on_done,
                                      void *ctx, struct sl_err *err);
bool es_client_busy(const struct es_client *c, size_t slot);
/* Transfers running. */
size_t es_client_running(const struct es_client *c);

size_t es_client_fill_pollfds(const struct es_client *c, struct pollfd *pfds,
                              size_t n);
/* ms until curl wants to be called, 0: now, -1: no transfer. */
SL_MUST_CHECK int es_client_timeout_ms(const struct es_client *c);
/* Does the I/O that pfds[0..n) say is ready (matched by fd), and curl's
 * timeouts when due; calls on_body and on_done. Never blocks. */
void es_client_process(struct es_client *c, const struct pollfd *pfds,
                       size_t n);

#endif
