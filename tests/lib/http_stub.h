/* http_stub.h: a small HTTP/1.1 server on a loopback port, in threads of
 * the test process, for what a real Elasticsearch node cannot be made to do
 * on demand: answer 413 over a size, 503 with no master, 429, take a
 * request and never answer, or pass it on to the real node and then never
 * answer (the answer lost after the work was done).
 *
 * Each request gets the action scripted for its number (0, 1, ...), then
 * the default action. Every answer carries "Connection: close", so each
 * request is one connection and the stub never waits on an idle keep-alive
 * connection. STUB_FORWARD POSTs the request (path, body, Content-Type and
 * Content-Encoding) to the forward URL with libcurl and relays status and
 * body. A hang lasts until the client closes or the stub stops.
 * curl_global_init must have run. For tests only: errors abort. */
#ifndef HTTP_STUB_H
#define HTTP_STUB_H

#include <stddef.h>
#include <stdint.h>

enum stub_action {
    STUB_FORWARD,       /* to the real node, answer relayed */
    STUB_413,           /* 413 with Elasticsearch's empty body */
    STUB_503_NO_MASTER, /* 503 master_not_discovered_exception */
    STUB_429,           /* 429 es_rejected_execution_exception */
    STUB_HANG,          /* read the request, never answer */
    STUB_FORWARD_HANG,  /* forward it, drop the answer, never answer */
    STUB_FORWARD_CUT    /* forward it, answer 200 with the first half of
                           the answer (a whole HTTP message, cut JSON) */
};

#define HTTP_STUB_MAX_SCRIPT   16
#define HTTP_STUB_MAX_REQUESTS 1024

struct http_stub;

/* forward: the real node's base URL, or NULL (STUB_FORWARD then answers
 * 502). */
struct http_stub *http_stub_start(const char *forward);
/* Closes the listener, ends hangs, joins every thread, frees. */
void http_stub_stop(struct http_stub *st);
uint16_t http_stub_port(const struct http_stub *st);

/* Request i < n gets script[i]; later ones get then. Before any request. */
void http_stub_script(struct http_stub *st, const enum stub_action *script,
                      size_t n, enum stub_action then);
/* A body over max bytes gets 413 whatever the script (0: no limit). */
void http_stub_max_body(struct http_stub *st, size_t max);
/* A slow server: STUB_FORWARD holds each answer back ms after the real
 * node gave it (0: none; a stop ends the wait). */
void http_stub_delay(struct http_stub *st, int ms);

/* Requests received so far, and when request i arrived (monotonic ms),
 * and its body length. */
size_t http_stub_requests(struct http_stub *st);
int64_t http_stub_request_ms(struct http_stub *st, size_t i);
size_t http_stub_request_len(struct http_stub *st, size_t i);

#endif
