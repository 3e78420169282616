/* sl_redis.h: the Redis client the daemons use: a URL in, commands with
 * deadlines out, one poll loop, reconnects by itself.
 *
 *   struct sl_redis_config cfg = {.url = "redis://:pw@127.0.0.1:6379/0",
 *                                 .conn = {.component = "output:redis"}};
 *   struct sl_redis *r = sl_redis_new(&cfg, &err);
 *   const char *argv[] = {"XADD", "sluice:events", "*", "batch", payload};
 *   size_t lens[] = {4, 13, 1, 5, payload_len};
 *   struct sl_redis_cmd cmd = {5, argv, lens, 1, 0};  (key: argv[1])
 *   sl_redis_command(r, &cmd, on_reply, ctx, &err);
 *   loop: sl_redis_fill_pollfds, poll(.., sl_redis_timeout_ms(r)),
 *         sl_redis_process (sl_redis_conn.h says what each does)
 *
 * The layer routes a command to a node connection (sl_redis_conn.h says
 * what a connection guarantees: deadlines, reconnects, backpressure,
 * the callback's statuses). Today there is one node: the URL's server.
 *
 * Redis Cluster, later, without changing the callers: that is why each
 * command names its key (the argv index, -1 for none). The cluster layer
 * keeps a slot map (16384 entries -> node) filled from CLUSTER SLOTS
 * asked of any node, and one sl_redis_conn per master, all made from the
 * same parsed URL with host and port replaced (same credentials, db 0).
 * A command goes to the node of sl_redis_key_slot(argv[key]); its reply
 * callback is wrapped: an EREPLY that sl_redis_redirect_parse() reads as
 * MOVED updates the map and resends to the named node; ASK sends ASKING
 * then the command to the named node, once, without touching the map;
 * CLUSTERDOWN, TRYAGAIN, a refused or lost connection refresh the map
 * from another node and resend after a backoff. Every resend keeps the
 * caller's original deadline (what is left of it), so the caller still
 * gets exactly one callback by its deadline. For that, the wrapper keeps
 * a copy of the command until it ends, which only cluster mode pays.
 * Keyless commands go to any node (PING) or are refused (a cluster has
 * no single answer to DBSIZE). The statuses a caller sees do not change. */
#ifndef SL_REDIS_H
#define SL_REDIS_H

#include "sl_err.h"
#include "sl_redis_conn.h"
#include "sl_redis_slot.h"
#include "sl_redis_url.h"

#define SL_REDIS_MAX_POLLFDS 1 /* one node; a cluster needs one per master */

struct sl_redis_config {
    const char *url; /* parsed by sl_redis_url_parse */
    /* Everything but .url; .component defaults to "redis". */
    struct sl_redis_conn_config conn;
};

struct sl_redis_cmd {
    int argc;
    const char **argv;
    const size_t *argvlen; /* NULL: C strings */
    int key;               /* index of the key in argv; -1: no key */
    int timeout_ms;        /* 0: the configured default */
};

struct sl_redis;

/* Parses the URL (an error quotes it with the password hidden); no I/O
 * yet. */
struct sl_redis *sl_redis_new(const struct sl_redis_config *cfg,
                              struct sl_err *err);
/* Ends every command with ECLOSED. NULL is fine. */
void sl_redis_free(struct sl_redis *r);

/* As sl_redis_conn_command; SL_EINVAL also for a key index outside argv. */
SL_MUST_CHECK int sl_redis_command(struct sl_redis *r,
                                   const struct sl_redis_cmd *cmd,
                                   sl_redis_reply_fn cb, void *ctx,
                                   struct sl_err *err);

size_t sl_redis_fill_pollfds(const struct sl_redis *r, struct pollfd *pfds,
                             size_t n);
SL_MUST_CHECK int sl_redis_timeout_ms(const struct sl_redis *r);
void sl_redis_process(struct sl_redis *r, const struct pollfd *pfds, size_t n);

/* READY when commands can go out now. */
enum sl_redis_state sl_redis_state(const struct sl_redis *r);
size_t sl_redis_pending(const struct sl_redis *r);
/* Summed over the node connections. */
void sl_redis_stats(const struct sl_redis *r, struct sl_redis_stats *out);
const char *sl_redis_shown(const struct sl_redis *r);

#endif
