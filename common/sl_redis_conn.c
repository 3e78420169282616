/* sl_redis_conn.c: see sl_redis_conn.h.
 *
 * Every command lives on one list, in the order it was queued; on it,
 * the commands already written (fully or in part) come first, and
 * `wnext` points at the first one with bytes left to write. Replies come
 * in the order commands were written, so a reply always belongs to the
 * head of the list. When the connection drops, every written command is
 * taken off the list and ended; what stays is only never-written
 * commands, so the next connection starts with wnext = head. The
 * handshake's commands (cb == NULL) are put in front of those, and while
 * the connection is not READY only handshake commands are written.
 *
 * Getting to READY is sl_redis_connect.c's; the phases are described in
 * sl_redis_conn_priv.h.
 *
 * Callbacks may queue commands (they land at the tail, never written
 * during the same pass over the list); the code that ends commands first
 * takes them off the list, then calls back, so the list is never walked
 * while a callback can change it. */
#include "sl_redis_conn_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"

/* At most READS_PER_PASS reads of READ_CHUNK (1 MiB) per pass, so one
 * busy server cannot starve the rest of the loop. */
#define READ_CHUNK     (64 * 1024)
#define READS_PER_PASS 16
#define WRITE_IOV      64

int64_t sl_redis_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the command list ---- */

static void unlink_cmd(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k)
{
    if (c->wnext == k)
        c->wnext = k->next;
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        c->head = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    else
        c->tail = k->prev;
    k->prev = k->next = NULL;
    if (k->cb != NULL)
        c->ncmds--;
}

/* Frees a command's buffer, or keeps it as the spare (a command's, not
 * the handshake's: AUTH carries the password, and is zeroed). */
static void drop_buf(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k)
{
    if (k->cb != NULL)
        c->queued_bytes -= k->len;
    else
        memset(k->buf, 0, k->len);
    if (k->cb != NULL && k->cap >= SL_REDIS_SPARE_MIN &&
        k->cap > c->spare_cap) {
        free(c->spare);
        c->spare = k->buf;
        c->spare_cap = k->cap;
    } else {
        free(k->buf);
    }
    k->buf = NULL;
}

static void free_cmd(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k)
{
    if (k->buf != NULL)
        drop_buf(c, k);
    free(k);
}

static void append_cmd(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k)
{
    k->prev = c->tail;
    k->next = NULL;
    if (c->tail != NULL)
        c->tail->next = k;
    else
        c->head = k;
    c->tail = k;
    if (c->wnext == NULL)
        c->wnext = k;
    if (k->cb != NULL)
        c->ncmds++;
}

static void end_cmd(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k,
                    enum sl_redis_status st, const redisReply *reply,
                    const char *why)
{
    struct sl_redis_result r = {st, reply, k->sent, why};
    if (k->cb != NULL)
        k->cb(k->ctx, &r);
    free_cmd(c, k);
}

/* Ends every command of the detached list `k` (linked by next). */
static void end_list(struct sl_redis_conn *c, struct sl_redis_cmd_entry *k,
                     enum sl_redis_status st, const char *why)
{
    while (k != NULL) {
        struct sl_redis_cmd_entry *next = k->next;
        end_cmd(c, k, st, NULL, why);
        k = next;
    }
}

static size_t udigits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static size_t resp_len(int argc, const char **argv, const size_t *argvlen)
{
    size_t total = 3 + udigits((size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
        total += 5 + udigits(n) + n;
    }
    return total;
}

static char *put_header(char *p, char type, size_t v)
{
    size_t n = udigits(v);
    *p++ = type;
    for (size_t i = n; i > 0; i--, v /= 10)
        p[i - 1] = (char)('0' + v % 10);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* RESP at buf (room: resp_len): *argc, then $len and the bytes for each
 * argument. */
static void put_cmd(char *buf, int argc, const char **argv,
                    const size_t *argvlen)
{
    char *p = put_header(buf, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
        p = put_header(p, '$', n);
        if (n > 0)
            memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
}

/* A command formatted into c's spare when it is large and the spare holds
 * it, else into new memory; c NULL: always new memory. */
static struct sl_redis_cmd_entry *cmd_new(struct sl_redis_conn *c, int argc,
                                          const char **argv,
                                          const size_t *argvlen)
{
    struct sl_redis_cmd_entry *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->len = k->cap = resp_len(argc, argv, argvlen);
    if (c != NULL && k->len >= SL_REDIS_SPARE_MIN && c->spare_cap >= k->len) {
        k->buf = c->spare;
        k->cap = c->spare_cap;
        c->spare = NULL;
        c->spare_cap = 0;
    } else {
        k->buf = malloc(k->len);
    }
    if (k->buf == NULL) {
        free(k);
        return NULL;
    }
    put_cmd(k->buf, argc, argv, argvlen);
    return k;
}

struct sl_redis_cmd_entry *sl_redis_cmd_new(int argc, const char **argv,
                                            const size_t *argvlen)
{
    return cmd_new(NULL, argc, argv, argvlen);
}

/* ---- state changes ---- */

void sl_redis_conn_report(struct sl_redis_conn *c, enum sl_redis_state st,
                          const char *why)
{
    if (c->on_state != NULL)
        c->on_state(c->state_ctx, st, why);
}

/* Closes the socket (or leaves the lookup running, to be picked up by
 * the next attempt), takes every written command off the list and
 * returns them. */
static struct sl_redis_cmd_entry *close_socket(struct sl_redis_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->reader != NULL)
        redisReaderFree(c->reader);
    c->reader = NULL;
    c->reply_bytes = 0;
    struct sl_redis_cmd_entry *gone = NULL, *last = NULL;
    while (c->head != NULL && (c->head->sent || c->head->cb == NULL)) {
        struct sl_redis_cmd_entry *k = c->head;
        unlink_cmd(c, k);
        if (k->cb == NULL) {
            free_cmd(c, k);
            continue;
        }
        if (last != NULL)
            last->next = k;
        else
            gone = k;
        last = k;
    }
    c->wnext = c->head;
    return gone;
}

/* Whether a failed attempt is news to the user: the first of an outage,
 * or one that asks for something (a fix) not asked yet. An attempt that
 * fails again, for the reason said or for another without a fix, is not:
 * behind a tunnel (stunnel) a server that is down ends each attempt with
 * a FIN or a RST as the timing goes, and each change of wording was a new
 * warning, all through one outage. */
static bool news(const struct sl_redis_conn *c, const char *fix)
{
    if (c->said[0] == '\0')
        return true;
    return fix != NULL && strcmp(c->said, c->why) != 0;
}

/* The attempt failed or the connection was lost: log, schedule the next
 * attempt, end the written commands with ELOST. `fix` is what the user
 * should do, or NULL; it is logged at error, the rest at warn. An outage
 * is said once (news()): the attempts that fail after it go to debug
 * (sl_log's folding alone would say it again every SL_LOG_FOLD_MS for as
 * long as the server stays away), and its end says how long it took. */
static void go_down(struct sl_redis_conn *c, const char *fix)
{
    bool was_ready = c->phase == P_READY;
    struct sl_redis_cmd_entry *gone = close_socket(c);
    int delay = sl_backoff_next(&c->backoff);
    int64_t now = sl_redis_now_ms();
    if (was_ready) { /* the name may point elsewhere now */
        c->naddrs = c->next_addr = 0;
        c->stats.lost++;
        c->said[0] = '\0';
    } else {
        c->failed++;
    }
    if (c->down_since == 0)
        c->down_since = now;
    c->phase = P_DOWN;
    c->at = now + delay;
    enum sl_log_level lv = !was_ready && !news(c, fix) ? SL_LOG_DEBUG
                           : fix != NULL               ? SL_LOG_ERROR
                                                       : SL_LOG_WARN;
    if (!was_ready && lv != SL_LOG_DEBUG)
        snprintf(c->said, sizeof c->said, "%s", c->why);
    if (was_ready)
        SL_WARN(c->component, "%s: connection lost: %s; reconnecting",
                c->url.shown, c->why);
    else if (fix != NULL)
        sl_log(lv, c->component, "%s: %s; %s; retrying with backoff",
               c->url.shown, c->why, fix);
    else
        sl_log(lv, c->component,
               "%s: %s; retrying with backoff (at most %d ms); nothing is "
               "lost meanwhile: check that Redis runs there and that %s "
               "names it",
               c->url.shown, c->why, c->backoff.max_ms, c->url_key);
    sl_redis_conn_report(c, SL_REDIS_DOWN, c->why);
    end_list(c, gone, SL_REDIS_ELOST, c->why);
}

void sl_redis_conn_fail(struct sl_redis_conn *c, const char *fix,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    go_down(c, fix);
}

/* ---- I/O ---- */

static bool may_write(const struct sl_redis_conn *c,
                      const struct sl_redis_cmd_entry *k)
{
    return k != NULL &&
           (c->phase == P_READY || (c->phase == P_HANDSHAKE && k->cb == NULL));
}

static void advance(struct sl_redis_conn *c, size_t w)
{
    while (w > 0) {
        struct sl_redis_cmd_entry *k = c->wnext;
        size_t t = k->len - k->off < w ? k->len - k->off : w;
        k->sent = true;
        k->off += t;
        w -= t;
        if (k->off < k->len)
            continue;
        drop_buf(c, k);
        c->wnext = k->next;
    }
}

static void do_write(struct sl_redis_conn *c)
{
    while (may_write(c, c->wnext)) {
        struct iovec iov[WRITE_IOV];
        struct msghdr mh;
        size_t n = 0;
        for (struct sl_redis_cmd_entry *k = c->wnext;
             n < WRITE_IOV && may_write(c, k); k = k->next) {
            iov[n].iov_base = k->buf + k->off;
            iov[n].iov_len = k->len - k->off;
            n++;
        }
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = n;
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w < 0) {
            sl_redis_conn_fail(c, NULL, "cannot write: %s", sl_strerror(errno));
            return;
        }
        c->stats.bytes_out += (uint64_t)w;
        advance(c, (size_t)w);
    }
}

/* Gives a reply to the head of the list. -1 when the connection went
 * down meanwhile (the reader is then gone). */
static int on_reply(struct sl_redis_conn *c, const redisReply *r)
{
    struct sl_redis_cmd_entry *k = c->head;
    if (k == NULL || k->buf != NULL) {
        sl_redis_conn_fail(c, NULL, "the server sent a reply to no command");
        return -1;
    }
    unlink_cmd(c, k);
    if (k->cb == NULL) {
        sl_redis_handshake_reply(c, k, r);
        free_cmd(c, k);
        return c->phase == P_DOWN ? -1 : 0;
    }
    bool error = r->type == REDIS_REPLY_ERROR;
    c->stats.replies++;
    c->stats.errors += error;
    end_cmd(c, k, error ? SL_REDIS_EREPLY : SL_REDIS_OK, r, NULL);
    return 0;
}

static int drain(struct sl_redis_conn *c)
{
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            sl_redis_conn_fail(c, NULL,
                               "the server's answer does not parse: %s",
                               c->reader->errstr);
            return -1;
        }
        if (reply == NULL)
            break;
        c->reply_bytes = c->reader->len - c->reader->pos;
        int rc = on_reply(c, reply);
        freeReplyObject(reply);
        if (rc < 0)
            return -1;
    }
    if (c->reply_bytes > c->max_reply) {
        sl_redis_conn_fail(
            c, NULL,
            "a reply is larger than %zu bytes (max_reply_bytes); ask for "
            "less at a time",
            c->max_reply);
        return -1;
    }
    return 0;
}

static void do_read(struct sl_redis_conn *c)
{
    char buf[READ_CHUNK];
    for (int i = 0; i < READS_PER_PASS; i++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            sl_redis_conn_fail(c, NULL, "%s",
                               n == 0 ? "the server closed the connection"
                                      : sl_strerror(errno));
            return;
        }
        if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
            sl_redis_conn_fail(c, NULL, "out of memory");
            return;
        }
        c->reply_bytes += (size_t)n;
        c->stats.bytes_in += (uint64_t)n;
        if (drain(c) < 0 || (size_t)n < sizeof buf)
            return;
    }
}

/* ---- deadlines ---- */

static void expire(struct sl_redis_conn *c, int64_t now)
{
    if (now < c->min_deadline)
        return;
    struct sl_redis_cmd_entry *timed = NULL, *last = NULL, *next;
    int64_t min = INT64_MAX;
    bool sent = false;
    for (struct sl_redis_cmd_entry *k = c->head; k != NULL; k = next) {
        next = k->next;
        if (k->cb == NULL || k->deadline > now) {
            min = k->deadline < min ? k->deadline : min;
            continue;
        }
        sent = sent || k->sent;
        unlink_cmd(c, k);
        if (last != NULL)
            last->next = k;
        else
            timed = k;
        last = k;
    }
    c->min_deadline = min;
    if (timed == NULL)
        return;
    if (sent)
        sl_redis_conn_fail(
            c, NULL,
            "a command got no reply by its deadline; closing the "
            "connection so that a late reply cannot be taken for another's");
    /* Not READY: the last failure says why, even mid-attempt. */
    char unsent[WHY_MAX + 64];
    snprintf(unsent, sizeof unsent, "not sent by the deadline%s%s",
             c->phase == P_READY ? "" : ": ",
             c->phase == P_READY ? ""
             : c->why[0] != '\0' ? c->why
                                 : "not connected yet");
    while (timed != NULL) {
        struct sl_redis_cmd_entry *k = timed;
        timed = k->next;
        c->stats.timeouts++;
        c->stats.unanswered += k->sent;
        end_cmd(c, k, SL_REDIS_ETIMEOUT, NULL,
                k->sent ? "no reply by the deadline" : unsent);
    }
}

/* ---- the public face ---- */

static const char *phase_name(enum sl_redis_phase p)
{
    return p == P_RESOLVING ? "resolving the host name" : "connecting";
}

void sl_redis_conn_process(struct sl_redis_conn *c, const struct pollfd *pfds,
                           size_t n)
{
    int fd = c->phase == P_RESOLVING ? sl_resolve_fd(c->res) : c->fd;
    short rev = 0;
    for (size_t i = 0; fd >= 0 && i < n; i++)
        if (pfds[i].fd == fd)
            rev |= pfds[i].revents;
    int64_t now = sl_redis_now_ms();
    if (c->phase == P_DOWN && now >= c->at)
        sl_redis_connect_start(c, now);
    else if (c->phase == P_RESOLVING)
        sl_redis_connect_resolved(c);
    else if (c->phase == P_CONNECTING && (rev & (POLLOUT | POLLERR | POLLHUP)))
        sl_redis_connect_done(c);
    else if ((c->phase == P_HANDSHAKE || c->phase == P_READY) &&
             (rev & (POLLIN | POLLERR | POLLHUP)))
        do_read(c);
    if (c->phase == P_HANDSHAKE || c->phase == P_READY)
        do_write(c);
    now = sl_redis_now_ms();
    if (c->phase == P_HANDSHAKE && now >= c->at)
        /* the kernel accepted, the server said nothing: a server stopped
         * (SIGSTOP), stuck, or not Redis at all */
        sl_redis_conn_fail(c, NULL,
                           "connected, but no answer to the login within %d "
                           "ms: is a Redis server listening there, and "
                           "running (not stopped or stuck)?",
                           c->connect_ms);
    else if (c->phase != P_DOWN && c->phase != P_READY && now >= c->at)
        sl_redis_conn_fail(c, NULL, "no connection within %d ms (still %s)",
                           c->connect_ms, phase_name(c->phase));
    expire(c, now);
}

size_t sl_redis_conn_fill_pollfds(const struct sl_redis_conn *c,
                                  struct pollfd *pfds, size_t n)
{
    if (n == 0 || c->phase == P_DOWN)
        return 0;
    pfds[0].revents = 0;
    if (c->phase == P_RESOLVING) {
        pfds[0].fd = sl_resolve_fd(c->res);
        pfds[0].events = POLLIN;
        return 1;
    }
    pfds[0].fd = c->fd;
    pfds[0].events = c->phase == P_CONNECTING ? POLLOUT : POLLIN;
    if (may_write(c, c->wnext))
        pfds[0].events |= POLLOUT;
    return 1;
}

int sl_redis_conn_timeout_ms(const struct sl_redis_conn *c)
{
    int64_t t = c->min_deadline;
    if (c->phase != P_READY && c->at < t)
        t = c->at;
    if (t == INT64_MAX)
        return -1;
    int64_t left = t - sl_redis_now_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

int sl_redis_conn_command(struct sl_redis_conn *c, int argc, const char **argv,
                          const size_t *argvlen, int timeout_ms,
                          sl_redis_reply_fn cb, void *ctx, struct sl_err *err)
{
    if (argc < 1 || timeout_ms < 0 || cb == NULL || c->closing)
        return sl_err_set(err, SL_EINVAL,
                          "%s: a command needs a name, a callback and a "
                          "timeout not negative, on an open connection",
                          c->url.shown);
    if (c->ncmds >= c->max_commands)
        return sl_err_set(err, SL_ELIMIT,
                          "%s: %zu commands queued or waiting for replies "
                          "(the limit); wait for replies",
                          c->url.shown, c->ncmds);
    size_t len = resp_len(argc, argv, argvlen);
    if (len > c->max_queued - c->queued_bytes)
        return sl_err_set(err, SL_ELIMIT,
                          "%s: a command of %zu bytes does not fit with the "
                          "%zu bytes not yet written (max_queued_bytes %zu)",
                          c->url.shown, len, c->queued_bytes, c->max_queued);
    struct sl_redis_cmd_entry *k = cmd_new(c, argc, argv, argvlen);
    if (k == NULL)
        return sl_err_set(err, SL_ENOMEM, "%s: out of memory", c->url.shown);
    k->cb = cb;
    k->ctx = ctx;
    k->deadline =
        sl_redis_now_ms() + (timeout_ms != 0 ? timeout_ms : c->command_ms);
    if (k->deadline < c->min_deadline)
        c->min_deadline = k->deadline;
    c->queued_bytes += k->len;
    c->stats.commands++;
    append_cmd(c, k);
    return 0;
}

static void copy_name(char *dst, size_t size, const char *src, const char *dflt)
{
    snprintf(dst, size, "%s", src != NULL ? src : dflt);
}

struct sl_redis_conn *sl_redis_conn_new(const struct sl_redis_conn_config *cfg,
                                        struct sl_err *err)
{
    const char *name = cfg->client_name != NULL ? cfg->client_name : "";
    if (cfg->url == NULL || cfg->connect_timeout_ms < 0 ||
        cfg->command_timeout_ms < 0 || cfg->backoff_min_ms < 0 ||
        cfg->backoff_max_ms < 0 || strlen(name) >= 64 ||
        strpbrk(name, " \t\r\n") != NULL) {
        sl_err_set(err, SL_EINVAL,
                   "redis connection: a url is needed, timeouts and backoff "
                   "must not be negative, the client name at most 63 bytes "
                   "without spaces");
        return NULL;
    }
    struct sl_redis_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        sl_err_set(err, SL_ENOMEM, "redis connection: out of memory");
        return NULL;
    }
    c->url = *cfg->url;
    copy_name(c->component, sizeof c->component, cfg->component, "redis");
    copy_name(c->client_name, sizeof c->client_name, name, "");
    copy_name(c->url_key, sizeof c->url_key, cfg->url_key, "the url");
    c->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
    c->command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : 10000;
    c->max_commands = cfg->max_commands ? cfg->max_commands : 1024;
    c->max_queued = cfg->max_queued_bytes ? cfg->max_queued_bytes : 64 << 20;
    c->max_reply = cfg->max_reply_bytes ? cfg->max_reply_bytes : 256 << 20;
    c->on_state = cfg->on_state;
    c->state_ctx = cfg->state_ctx;
    sl_backoff_init(&c->backoff,
                    cfg->backoff_min_ms ? cfg->backoff_min_ms : 100,
                    cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000, 0);
    c->fd = -1;
    c->phase = P_DOWN;
    c->at = sl_redis_now_ms();
    c->min_deadline = INT64_MAX;
    return c;
}

void sl_redis_conn_free(struct sl_redis_conn *c)
{
    if (c == NULL)
        return;
    c->closing = true;
    struct sl_redis_cmd_entry *gone = close_socket(c);
    end_list(c, gone, SL_REDIS_ECLOSED, "the connection was closed");
    while (c->head != NULL) {
        struct sl_redis_cmd_entry *k = c->head;
        unlink_cmd(c, k);
        end_cmd(c, k, SL_REDIS_ECLOSED, NULL, "the connection was closed");
    }
    sl_resolve_free(c->res);
    memset(c->url.password, 0, sizeof c->url.password);
    free(c->spare);
    free(c);
}

enum sl_redis_state sl_redis_conn_state(const struct sl_redis_conn *c)
{
    return c->phase == P_READY  ? SL_REDIS_READY
           : c->phase == P_DOWN ? SL_REDIS_DOWN
                                : SL_REDIS_CONNECTING;
}

size_t sl_redis_conn_pending(const struct sl_redis_conn *c)
{
    return c->ncmds;
}

void sl_redis_conn_stats(const struct sl_redis_conn *c,
                         struct sl_redis_stats *out)
{
    *out = c->stats;
}

const char *sl_redis_conn_shown(const struct sl_redis_conn *c)
{
    return c->url.shown;
}
