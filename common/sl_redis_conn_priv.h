/* sl_redis_conn_priv.h: what the two files of a Redis connection share:
 * sl_redis_conn.c (commands, I/O, deadlines, the public face) and
 * sl_redis_connect.c (resolving, connecting, the handshake). Nothing
 * outside these files includes it. */
#ifndef SL_REDIS_CONN_PRIV_H
#define SL_REDIS_CONN_PRIV_H

#include "sl_backoff.h"
#include "sl_redis_conn.h"
#include "sl_resolve.h"

#define WHY_MAX            400
#define SL_REDIS_SPARE_MIN (64 * 1024)

/* P_DOWN: the next attempt is at `at`. P_RESOLVING: sl_resolve is at
 * work, no socket yet. P_CONNECTING: a non-blocking connect; POLLOUT says
 * it ended. P_HANDSHAKE: AUTH, SELECT, CLIENT SETNAME, PING on the wire.
 * In these three, `at` is the attempt's deadline. */
enum sl_redis_phase { P_DOWN, P_RESOLVING, P_CONNECTING, P_HANDSHAKE, P_READY };
/* The handshake's commands, in the order they go out. */
enum sl_redis_step { S_AUTH, S_SELECT, S_SETNAME, S_PING };

/* A command on the connection's list (see sl_redis_conn.c). */
struct sl_redis_cmd_entry {
    struct sl_redis_cmd_entry *prev, *next;
    int64_t deadline;
    sl_redis_reply_fn cb; /* NULL: a handshake command */
    void *ctx;
    enum sl_redis_step step;
    bool sent;
    char *buf; /* the formatted command; NULL once written */
    size_t len, off;
    size_t cap; /* buf's size, len or more (a spare's, see below) */
};

struct sl_redis_conn {
    struct sl_redis_url url;
    char component[64];
    char client_name[64];
    char url_key[64]; /* named in what to fix */
    int connect_ms, command_ms;
    size_t max_commands, max_queued, max_reply;
    sl_redis_state_fn on_state;
    void *state_ctx;

    enum sl_redis_phase phase;
    int64_t at;
    int fd;
    struct sl_resolve *res;
    struct sl_resolve_addr addrs[SL_RESOLVE_MAX_ADDRS];
    size_t naddrs, next_addr;
    redisReader *reader;
    size_t reply_bytes; /* fed to the reader since its last whole reply */
    struct sl_backoff backoff;

    struct sl_redis_cmd_entry *head, *tail, *wnext;
    size_t ncmds, queued_bytes;
    /* The largest buffer of a command of SL_REDIS_SPARE_MIN bytes or more
     * once written, for the next such command: the shipper's XADD of a
     * batch (about 230 KB) each took malloc's mmap and munmap, and their
     * page faults cost 2-3% of its CPU. NULL: none. */
    char *spare;
    size_t spare_cap;
    int64_t min_deadline; /* <= every command's deadline */
    bool closing;         /* in sl_redis_conn_free: refuse new commands */
    struct sl_redis_stats stats;
    char why[WHY_MAX];
    /* The outage (the time since the last READY, or since the start)
     * is said once: the failure said, attempts failed, since when. */
    char said[WHY_MAX];
    unsigned failed;
    int64_t down_since; /* 0: not down */
};

/* sl_redis_conn.c */

/* Sets c->why from fmt, closes the socket, ends the written commands with
 * ELOST, logs (at error with `fix`, what the user should do, else at
 * warn), reports DOWN and schedules the next attempt after a backoff. */
void sl_redis_conn_fail(struct sl_redis_conn *c, const char *fix,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_redis_conn_report(struct sl_redis_conn *c, enum sl_redis_state st,
                          const char *why);
/* A command formatted for the wire (RESP), not on any list; NULL when out
 * of memory. */
struct sl_redis_cmd_entry *sl_redis_cmd_new(int argc, const char **argv,
                                            const size_t *argvlen);

/* sl_redis_connect.c */

/* Starts an attempt: resolves, connects, or fails it. */
void sl_redis_connect_start(struct sl_redis_conn *c, int64_t now);
/* P_RESOLVING: connects once the lookup has answered. */
void sl_redis_connect_resolved(struct sl_redis_conn *c);
/* P_CONNECTING, the socket said it is done: handshake or fail. */
void sl_redis_connect_done(struct sl_redis_conn *c);
/* A reply to handshake command k: READY after PING, or a plain failure. */
void sl_redis_handshake_reply(struct sl_redis_conn *c,
                              const struct sl_redis_cmd_entry *k,
                              const redisReply *r);

#endif
