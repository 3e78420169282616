/* sl_resolve.h: a host name to addresses without blocking the loop.
 *
 * getaddrinfo() blocks for as long as DNS takes (seconds when a name
 * server is down), and Debian's hiredis 0.14 calls it even in its async
 * API. Here each lookup runs getaddrinfo in a detached thread of its own
 * and hands the answer back through a socket the loop polls: readable
 * means done. glibc's getaddrinfo_a was the other way; it signals
 * completion by a signal or a thread callback, not a descriptor, so the
 * loop would have to poll it on a timer, and an abandoned request cannot
 * always be cancelled.
 *
 * Abandoning a lookup (sl_resolve_free while it runs) never waits: the
 * thread finishes getaddrinfo, finds it is the last owner and frees what
 * is left. The thread blocks every signal, so a daemon's signalfd keeps
 * getting them. Numeric addresses need no lookup: use inet_pton first. */
#ifndef SL_RESOLVE_H
#define SL_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sl_err.h"

#define SL_RESOLVE_MAX_ADDRS 8

struct sl_resolve_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

struct sl_resolve;

/* Starts looking up host (TCP, IPv4 and IPv6) for port. SL_EIO when no
 * thread or socket can be made. */
struct sl_resolve *sl_resolve_start(const char *host, uint16_t port,
                                    struct sl_err *err);
/* Readable (POLLIN) once the answer is there. */
SL_MUST_CHECK int sl_resolve_fd(const struct sl_resolve *r);
/* 0 while running; 1 when done, with the first *n (at most max)
 * addresses in out; -1 with SL_EIO and the resolver's reason when the
 * name did not resolve. */
SL_MUST_CHECK int sl_resolve_result(struct sl_resolve *r,
                                    struct sl_resolve_addr *out, size_t max,
                                    size_t *n, struct sl_err *err);
/* Frees, or abandons a lookup still running. NULL is fine. */
void sl_resolve_free(struct sl_resolve *r);

#endif
