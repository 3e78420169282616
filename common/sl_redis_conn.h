/* sl_redis_conn.h: one connection to one Redis server, driven by the
 * caller's poll loop: it never blocks, and it reconnects by itself.
 *
 *   struct sl_redis_conn_config cfg = {.url = &url, .component =
 * "output:redis"}; struct sl_redis_conn *c = sl_redis_conn_new(&cfg, &err);
 *   sl_redis_conn_command(c, 3, argv, lens, 0, on_reply, ctx, &err);
 *   for (;;) {
 *       size_t n = sl_redis_conn_fill_pollfds(c, pfds, 1);
 *       poll(pfds, n, min(own_timeout, sl_redis_conn_timeout_ms(c)));
 *       sl_redis_conn_process(c, pfds, n);
 *   }
 *
 * Why not hiredis's own connection code: Debian 12's hiredis 0.14 has no
 * poll adapter, no timer hook and no command timeout, and its connect
 * calls getaddrinfo, which blocks. So this owns the socket and uses only
 * hiredis's reply reader (redisReader: feed bytes, pull replies, no I/O),
 * which gives full control over connect timeouts, deadlines and
 * reconnects. Names resolve in sl_resolve's thread; numeric addresses and
 * unix sockets connect at once.
 *
 * Life of a connection: DOWN -> CONNECTING (resolve, connect, handshake)
 * -> READY -> DOWN ... The first attempt starts at the first
 * sl_redis_conn_process(). The handshake pipelines AUTH (USER) PASSWORD
 * when the URL has a password, SELECT DB when DB is not 0, CLIENT SETNAME
 * when a client name is set, and PING; the connection is READY when PING
 * answers. Resolve + connect + handshake must finish within
 * connect_timeout_ms. A failed attempt or a lost connection is retried
 * after sl_backoff's delay (backoff_min_ms doubling to backoff_max_ms,
 * jittered; reset once READY), so a wrong password or a server that is
 * down is never retried in a tight loop. Every state change goes to
 * on_state and to the log (component `component`): "ready" at info, a
 * lost connection or failed attempt at warn, a refused login at error,
 * each saying what to fix, with the URL as `shown` (password hidden).
 * An outage is said once: the attempts that fail after it go to debug,
 * whatever their wording (a FIN or a RST), unless one asks for a fix not
 * asked yet (a refused login), and its end says how long it took and how
 * many attempts failed ("ready again after 20.4 s, 8 attempts failed").
 *
 * Commands: sl_redis_conn_command() queues a command (argv, binary safe)
 * with a deadline; it goes out once the connection is READY, pipelined
 * with whatever else is queued. Its callback runs exactly once, never
 * from inside sl_redis_conn_command():
 *   - with the reply, when it comes (status OK, or EREPLY for an error
 *     reply such as OOM or WRONGTYPE: the server answered, the
 *     connection is fine);
 *   - ETIMEOUT when the deadline passes first. If the command was sent,
 *     the connection is closed and reconnected, so a late reply can never
 *     be taken for the answer to a later command; the other sent
 *     commands then end with ELOST;
 *   - ELOST when the connection drops after the command was sent (it may
 *     or may not have run);
 *   - ECLOSED from sl_redis_conn_free().
 * Commands not yet sent stay queued across reconnects until their
 * deadline. A blocking command (XREADGROUP ... BLOCK 5000, BLPOP) needs a
 * deadline longer than the time it may block. The connection never
 * resends a command by itself: the caller knows whether resending is safe
 * (XADD of a batch with event ids is; the shipper decides). res->sent
 * says whether any byte of it left.
 *
 * Memory is bounded: at most max_commands commands queued or in flight,
 * at most max_queued_bytes of commands not yet written (a command's bytes
 * are freed once written), and a reply larger than max_reply_bytes closes
 * the connection. Checking deadlines costs O(commands) only when the
 * earliest one is due.
 *
 * A Redis Cluster layer sits above this (see sl_redis.h): one connection
 * per node, each of which is this object. Not thread-safe; callbacks must
 * not free the connection. */
#ifndef SL_REDIS_CONN_H
#define SL_REDIS_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "sl_err.h"
#include "sl_redis_url.h"

enum sl_redis_state {
    SL_REDIS_DOWN,       /* not connected; the next attempt is scheduled */
    SL_REDIS_CONNECTING, /* resolving, connecting or logging in */
    SL_REDIS_READY       /* logged in; commands go out */
};

enum sl_redis_status {
    SL_REDIS_OK,       /* reply is set and is not an error reply */
    SL_REDIS_EREPLY,   /* reply is an error reply (reply->str says which) */
    SL_REDIS_ETIMEOUT, /* the deadline passed before the reply */
    SL_REDIS_ELOST,    /* the connection dropped after the command was sent */
    SL_REDIS_ECLOSED   /* the connection was freed */
};

struct sl_redis_result {
    enum sl_redis_status status;
    /* OK and EREPLY: the reply, valid during the callback only. */
    const redisReply *reply;
    /* Some of the command was written to the server: it may have run. */
    bool sent;
    /* Not OK: one line saying what happened, valid during the callback. */
    const char *why;
};

typedef void (*sl_redis_reply_fn)(void *ctx, const struct sl_redis_result *res);
/* why: NULL for READY and CONNECTING, the reason for DOWN. */
typedef void (*sl_redis_state_fn)(void *ctx, enum sl_redis_state state,
                                  const char *why);

struct sl_redis_conn_config {
    const struct sl_redis_url *url; /* copied */
    const char *component;          /* log component; NULL: "redis" */
    const char *client_name;        /* CLIENT SETNAME; NULL: none */
    int connect_timeout_ms;         /* 0: 5000 */
    int command_timeout_ms;         /* a command's default; 0: 10000 */
    int backoff_min_ms;             /* 0: 100 */
    int backoff_max_ms;             /* 0: 5000 */
    size_t max_commands;            /* 0: 1024 */
    size_t max_queued_bytes;        /* 0: 64 MiB */
    size_t max_reply_bytes;         /* 0: 256 MiB */
    sl_redis_state_fn on_state;     /* may be NULL */
    void *state_ctx;
    /* The setting the url comes from, named in what to fix
     * ("output.redis.url"); NULL: "the url". */
    const char *url_key;
};

/* Counters since the connection object was made, for /metrics. */
struct sl_redis_stats {
    uint64_t attempts;   /* connection attempts started */
    uint64_t ready;      /* times it became READY */
    uint64_t lost;       /* READY connections that dropped */
    uint64_t commands;   /* commands queued */
    uint64_t replies;    /* replies given to commands, error replies included */
    uint64_t errors;     /* error replies among them */
    uint64_t timeouts;   /* commands ended by their deadline */
    uint64_t unanswered; /* among them, those sent (no reply in time) */
    uint64_t bytes_out;  /* written to the socket, handshake included */
    uint64_t bytes_in;   /* read from it */
};

struct sl_redis_conn;

/* No I/O yet. SL_EINVAL for a negative setting or a client name with a
 * space (Redis refuses it). */
struct sl_redis_conn *sl_redis_conn_new(const struct sl_redis_conn_config *cfg,
                                        struct sl_err *err);
/* Closes the socket and ends every command with ECLOSED. NULL is fine. */
void sl_redis_conn_free(struct sl_redis_conn *c);

/* Queues argv[0..argc) (lengths in argvlen, or NULL for C strings; the
 * bytes are copied) with a deadline timeout_ms from now (0: the
 * configured default). cb(ctx, result) runs exactly once, later. Fails
 * with SL_ELIMIT when max_commands or max_queued_bytes would be passed
 * (wait for replies: that is backpressure), SL_ENOMEM, SL_EINVAL for
 * argc < 1 or a negative timeout; cb is then never called. */
SL_MUST_CHECK int sl_redis_conn_command(struct sl_redis_conn *c, int argc,
                                        const char **argv,
                                        const size_t *argvlen, int timeout_ms,
                                        sl_redis_reply_fn cb, void *ctx,
                                        struct sl_err *err);

/* Writes the connection's fd and the events it waits for into pfds[0..n):
 * 0 or 1 entries (the socket, or the resolver's while resolving). */
size_t sl_redis_conn_fill_pollfds(const struct sl_redis_conn *c,
                                  struct pollfd *pfds, size_t n);
/* Milliseconds until the earliest deadline (a command's, the connect
 * attempt's, the next attempt's): 0 when due, -1 when there is none. */
SL_MUST_CHECK int sl_redis_conn_timeout_ms(const struct sl_redis_conn *c);
/* After poll(): does the I/O the entries of pfds[0..n) allow (matched by
 * fd; pass what fill_pollfds wrote, or nothing), runs callbacks, ends
 * commands past their deadline, starts the next attempt when due. Call it
 * on every pass of the loop. Never blocks. */
void sl_redis_conn_process(struct sl_redis_conn *c, const struct pollfd *pfds,
                           size_t n);

enum sl_redis_state sl_redis_conn_state(const struct sl_redis_conn *c);
/* Commands queued or in flight. */
size_t sl_redis_conn_pending(const struct sl_redis_conn *c);
void sl_redis_conn_stats(const struct sl_redis_conn *c,
                         struct sl_redis_stats *out);
/* The URL with the password hidden, for messages. */
const char *sl_redis_conn_shown(const struct sl_redis_conn *c);

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline here. */
int64_t sl_redis_now_ms(void);

#endif
