/* sl_redis_connect.c: from DOWN to READY: the host name looked up (a
 * numeric address or a unix socket needs none), a non-blocking connect to
 * the next address of the lookup (a refused one passes to the next at
 * once; after the last, the next attempt looks the name up again, as
 * after losing a READY connection), then the handshake pipelined in
 * front of the waiting commands and each of its replies read. A failure
 * names what failed and, when the user can fix it (a password, a
 * database number), what to do; sl_redis_conn_fail() does the rest. */
#include "sl_redis_conn_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_log.h"

static void become_ready(struct sl_redis_conn *c)
{
    c->phase = P_READY;
    c->stats.ready++;
    sl_backoff_reset(&c->backoff);
    if (c->failed > 0 || c->stats.ready > 1)
        SL_INFO(
            c->component, "%s: ready again after %.1f s, %u attempt%s failed",
            c->url.shown, (double)(sl_redis_now_ms() - c->down_since) / 1000.0,
            c->failed, c->failed == 1 ? "" : "s");
    else
        SL_INFO(c->component, "%s: ready", c->url.shown);
    c->failed = 0;
    c->down_since = 0;
    c->said[0] = '\0';
    sl_redis_conn_report(c, SL_REDIS_READY, NULL);
}

/* ---- the handshake ---- */

static void push_front(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k)
{
    k->prev = NULL;
    k->next = c->head;
    if (c->head != NULL)
        c->head->prev = k;
    else
        c->tail = k;
    c->head = k;
    c->wnext = k;
}

/* Queues the handshake in front of the waiting commands, last first. */
static int queue_handshake(struct sl_redis_conn *c)
{
    char db[16];
    snprintf(db, sizeof db, "%d", c->url.db);
    const char *argv[4][3] = {
        {"PING"},
        {"CLIENT", "SETNAME", c->client_name},
        {"SELECT", db},
        {"AUTH", c->url.user, c->url.password},
    };
    const char *auth[2] = {"AUTH", c->url.password};
    const int argc[4] = {1, 3, 2, c->url.user[0] != '\0' ? 3 : 2};
    const enum sl_redis_step step[4] = {S_PING, S_SETNAME, S_SELECT, S_AUTH};
    const bool want[4] = {true, c->client_name[0] != '\0', c->url.db != 0,
                          c->url.password[0] != '\0'};
    for (int i = 0; i < 4; i++) {
        if (!want[i])
            continue;
        const char **av = step[i] == S_AUTH && argc[i] == 2 ? auth : argv[i];
        struct sl_redis_cmd_entry *k = sl_redis_cmd_new(argc[i], av, NULL);
        if (k == NULL)
            return -1;
        k->step = step[i];
        k->deadline = INT64_MAX;
        push_front(c, k);
    }
    return 0;
}

/* A server's error text, its first sentence (MISCONF's runs to 330
 * bytes; cut at a fixed size it ended mid-word, "because th"), cut at
 * size, control bytes as '?'. */
static const char *server_text(const redisReply *r, char *buf, size_t size)
{
    size_t n = r->len < size - 1 ? r->len : size - 1;
    for (size_t i = 0; i + 1 < n; i++)
        if (r->str[i] == '.' && r->str[i + 1] == ' ')
            n = i;
    if (n > 0 && n == r->len && r->str[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)r->str[i] < 0x20 ? '?' : r->str[i];
    buf[n] = '\0';
    return buf;
}

/* An error reply the handshake goes on after: NOPERM to CLIENT SETNAME
 * (the name only shows in CLIENT LIST) or to PING (the server answered
 * it, so the login and SELECT before it are done). An ACL user given only
 * what it writes (+xadd +xlen, say) then connects. */
static bool harmless(const struct sl_redis_cmd_entry *k, const char *t)
{
    return strncmp(t, "NOPERM", 6) == 0 &&
           (k->step == S_SETNAME || k->step == S_PING);
}

void sl_redis_handshake_reply(struct sl_redis_conn *c,
                              const struct sl_redis_cmd_entry *k,
                              const redisReply *r)
{
    static const char *const name[] = {"AUTH", "SELECT", "CLIENT SETNAME",
                                       "PING"};
    static const char *const allow[] = {
        "", "allow it: ACL SETUSER USER +select",
        "allow it: ACL SETUSER USER +client|setname, or set no client name",
        "allow it: ACL SETUSER USER +ping"};
    char t[200], fix[200];
    if (r->type == REDIS_REPLY_ERROR)
        server_text(r, t, sizeof t);
    if (r->type != REDIS_REPLY_ERROR || harmless(k, t)) {
        if (r->type == REDIS_REPLY_ERROR)
            SL_DEBUG(c->component, "%s: %s answered: %s; going on",
                     c->url.shown, name[k->step], t);
        if (k->step == S_PING)
            become_ready(c);
        return;
    }
    if (strncmp(t, "ERR max number of clients", 25) == 0)
        sl_redis_conn_fail(c, NULL, "the server turned the connection away: %s",
                           t);
    else if (strncmp(t, "NOAUTH", 6) == 0) {
        snprintf(fix, sizeof fix,
                 "write the password in %s: redis://:PASSWORD@HOST (or "
                 "USER:PASSWORD@ for an ACL user)",
                 c->url_key);
        sl_redis_conn_fail(c, fix, "the server wants a password: %s", t);
    } else if (k->step == S_AUTH) {
        snprintf(fix, sizeof fix, "check the user and password in %s",
                 c->url_key);
        sl_redis_conn_fail(c, fix, "login refused: %s", t);
    } else if (strncmp(t, "NOPERM", 6) == 0)
        sl_redis_conn_fail(c, allow[k->step], "%s refused: %s", name[k->step],
                           t);
    else if (strncmp(t, "MISCONF", 7) == 0)
        sl_redis_conn_fail(c,
                           "Redis refuses writes until it can save its "
                           "snapshot again (stop-writes-on-bgsave-error): "
                           "see its log (disk full? permissions?)",
                           "%s answered: %s", name[k->step], t);
    else if (strncmp(t, "LOADING", 7) == 0)
        sl_redis_conn_fail(c,
                           "it answers once its data is loaded; nothing is "
                           "lost meanwhile",
                           "%s answered: %s", name[k->step], t);
    else if (k->step == S_SELECT)
        sl_redis_conn_fail(
            c,
            "use a database number the server has (its 'databases' "
            "setting)",
            "SELECT %d refused: %s", c->url.db, t);
    else
        sl_redis_conn_fail(c, NULL, "%s answered: %s", name[k->step], t);
}

/* ---- connecting ---- */

static const char *addr_text(const struct sl_resolve_addr *a, char *buf,
                             size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr_in *v4 = (const void *)&a->ss;
    const struct sockaddr_in6 *v6 = (const void *)&a->ss;
    if (a->ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        snprintf(buf, size, "[%s]:%u", ip, ntohs(v6->sin6_port));
    } else {
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        snprintf(buf, size, "%s:%u", ip, ntohs(v4->sin_port));
    }
    return buf;
}

static void on_connected(struct sl_redis_conn *c)
{
    c->reader = redisReaderCreate();
    if (c->reader == NULL || queue_handshake(c) < 0) {
        sl_redis_conn_fail(c, NULL, "out of memory");
        return;
    }
    c->phase = P_HANDSHAKE;
}

static void connect_next(struct sl_redis_conn *c);

/* One address refused: the next one of the same lookup at once (a name
 * such as localhost may give ::1 before 127.0.0.1 and the server listen
 * on one of them only); after the last, the attempt has failed. */
static void connect_failed(struct sl_redis_conn *c, const char *name, int e)
{
    if (!c->url.unix_socket && c->next_addr < c->naddrs) {
        SL_DEBUG(c->component,
                 "%s: cannot connect to %s: %s; trying the "
                 "next address",
                 c->url.shown, name, sl_strerror(e));
        close(c->fd);
        c->fd = -1;
        connect_next(c);
        return;
    }
    sl_redis_conn_fail(c, NULL, "cannot connect to %s: %s", name,
                       sl_strerror(e));
}

static void open_socket(struct sl_redis_conn *c,
                        const struct sl_resolve_addr *a)
{
    char where[INET6_ADDRSTRLEN + 16];
    int fam = a->ss.ss_family, one = 1;
    const char *name =
        fam == AF_UNIX ? c->url.host : addr_text(a, where, sizeof where);
    c->fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        sl_redis_conn_fail(c, NULL, "cannot open a socket: %s",
                           sl_strerror(errno));
        return;
    }
    if (fam != AF_UNIX) {
        /* Commands are pipelined by us, not by Nagle; keepalive finds a
         * peer that vanished while the connection was idle. */
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    if (connect(c->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
        on_connected(c);
        return;
    }
    if (errno == EINPROGRESS) {
        c->phase = P_CONNECTING;
        return;
    }
    connect_failed(c, name, errno);
}

static void connect_next(struct sl_redis_conn *c)
{
    open_socket(c, &c->addrs[c->next_addr++]);
}

/* A numeric host needs no lookup. */
static bool numeric_addr(struct sl_redis_conn *c)
{
    struct sl_resolve_addr *a = &c->addrs[0];
    struct sockaddr_in *v4 = (void *)&a->ss;
    struct sockaddr_in6 *v6 = (void *)&a->ss;
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, c->url.host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(c->url.port);
        a->len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, c->url.host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(c->url.port);
        a->len = sizeof *v6;
        return true;
    }
    return false;
}

void sl_redis_connect_resolved(struct sl_redis_conn *c)
{
    struct sl_err err;
    int rc = sl_resolve_result(c->res, c->addrs, SL_RESOLVE_MAX_ADDRS,
                               &c->naddrs, &err);
    if (rc == 0)
        return;
    sl_resolve_free(c->res);
    c->res = NULL;
    c->next_addr = 0;
    if (rc < 0) {
        c->naddrs = 0;
        sl_redis_conn_fail(c, NULL, "%s", err.msg);
        return;
    }
    connect_next(c);
}

void sl_redis_connect_start(struct sl_redis_conn *c, int64_t now)
{
    c->at = now + c->connect_ms;
    c->phase = P_CONNECTING;
    c->stats.attempts++;
    sl_redis_conn_report(c, SL_REDIS_CONNECTING, NULL);
    SL_DEBUG(c->component, "%s: connecting", c->url.shown);
    if (c->url.unix_socket) {
        struct sl_resolve_addr a = {.len = sizeof(struct sockaddr_un)};
        struct sockaddr_un *un = (void *)&a.ss;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, c->url.host, strlen(c->url.host) + 1);
        open_socket(c, &a);
        return;
    }
    if (c->next_addr < c->naddrs) {
        connect_next(c);
        return;
    }
    c->naddrs = c->next_addr = 0;
    if (numeric_addr(c)) {
        c->naddrs = 1;
        connect_next(c);
        return;
    }
    /* A lookup left running by an attempt that timed out is reused. */
    struct sl_err err;
    if (c->res == NULL)
        c->res = sl_resolve_start(c->url.host, c->url.port, &err);
    if (c->res == NULL) {
        sl_redis_conn_fail(c, NULL, "%s", err.msg);
        return;
    }
    c->phase = P_RESOLVING;
    sl_redis_connect_resolved(c);
}

void sl_redis_connect_done(struct sl_redis_conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e == 0) {
        on_connected(c);
        return;
    }
    char where[INET6_ADDRSTRLEN + 16];
    connect_failed(
        c,
        c->url.unix_socket || c->next_addr == 0
            ? c->url.host
            : addr_text(&c->addrs[c->next_addr - 1], where, sizeof where),
        e);
}
