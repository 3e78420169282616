/* test_redis_client_real.c: sl_redis against real redis-server processes.
 *
 * Each test starts its own redis-server (found on PATH; the test fails
 * and says so when there is none) on a free loopback port, so it can
 * kill, restart and reconfigure it; it kills only the pids it started,
 * and the servers die with the test (PR_SET_PDEATHSIG). The client is
 * driven by a small poll loop, pump(), until a condition holds or a
 * deadline passes: nothing waits by sleeping. Covered: round trips and
 * pipelines (binary values, 2000 commands at once, 4 MiB values), error
 * replies on a healthy connection, a server killed and restarted, a slow
 * server (DEBUG SLEEP) past a command's deadline, wrong and missing
 * passwords and ACL users (refused, retried with backoff, accepted once
 * fixed, never a password in the log), SELECT, maxmemory, a unix socket
 * and a host name to resolve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_server.h"
#include "sl_log.h"
#include "sl_redis.h"

#define WAIT_MS 10000 /* the longest any condition may take */

/* ---- redis-server processes ---- */

struct server {
    pid_t pid;
    int port;
    const char *password; /* for admin connections */
    char sock[128];       /* unix socket path */
    char extra[8][64];
    int nextra;
};

static redisContext *admin(const struct server *s)
{
    return redis_server_connect(s->port, s->password);
}

/* Starts the server and waits until it answers PING. */
static void start_server(struct server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[32] = {
        "redis-server", "--port",      port,     "--bind",
        "127.0.0.1",    "--save",      "",       "--appendonly",
        "no",           "--daemonize", "no",     "--enable-debug-command",
        "yes",          "--loglevel",  "warning"};
    int argc = 15;
    if (s->sock[0] != '\0') {
        argv[argc++] = "--unixsocket";
        argv[argc++] = s->sock;
    }
    for (int i = 0; i < s->nextra; i++)
        argv[argc++] = s->extra[i];
    argv[argc] = NULL;
    char why[200];
    if (redis_server_spawn(argv, s->port, s->password, WAIT_MS, &s->pid, why,
                           sizeof why) < 0)
        fail_msg("%s", why);
}

static void stop_server(struct server *s, int sig)
{
    redis_server_stop(&s->pid, sig);
}

/* Runs one command on the server through a separate plain connection. */
static void admin_cmd(struct server *s, const char *fmt, ...)
{
    redisContext *c = admin(s);
    assert_non_null(c);
    if (c->err != 0)
        fail_msg("admin connection to port %d: %s", s->port, c->errstr);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("admin '%s': %s", fmt, r != NULL ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
}

/* ---- the client and the loop ---- */

struct fixture {
    struct server srv;
    struct sl_redis *r;
    int states[3];       /* how often each state was reported */
    char last_down[400]; /* the last DOWN reason */
};

static void on_state(void *ctx, enum sl_redis_state st, const char *why)
{
    struct fixture *f = ctx;
    f->states[st]++;
    if (st == SL_REDIS_DOWN)
        snprintf(f->last_down, sizeof f->last_down, "%s", why);
}

/* One command's outcome, kept for the test to look at. */
struct call {
    int calls;
    enum sl_redis_status status;
    bool sent;
    int type;
    long long integer;
    char str[256];
    size_t len;
    int64_t at;
};

static void on_reply(void *ctx, const struct sl_redis_result *res)
{
    struct call *c = ctx;
    c->calls++;
    c->status = res->status;
    c->sent = res->sent;
    c->at = sl_redis_now_ms();
    if (res->reply != NULL) {
        c->type = res->reply->type;
        c->integer = res->reply->integer;
        c->len = res->reply->len;
        size_t n = res->reply->len < 255 ? res->reply->len : 255;
        if (res->reply->str != NULL)
            memcpy(c->str, res->reply->str, n);
        c->str[n] = '\0';
    } else {
        snprintf(c->str, sizeof c->str, "%s", res->why);
    }
}

static size_t max_reply; /* 0: the default */

static void open_client(struct fixture *f, const char *url, int backoff_max)
{
    struct sl_err err = {0};
    struct sl_redis_config cfg = {.url = url,
                                  .conn = {.component = "test:redis",
                                           .client_name = "sluice-test",
                                           .connect_timeout_ms = 3000,
                                           .backoff_min_ms = 50,
                                           .backoff_max_ms = backoff_max,
                                           .max_reply_bytes = max_reply,
                                           .on_state = on_state,
                                           .state_ctx = f}};
    f->r = sl_redis_new(&cfg, &err);
    if (f->r == NULL)
        fail_msg("%s", err.msg);
}

typedef bool (*cond_fn)(struct fixture *f, void *arg);

/* Runs the loop until cond holds; fails past WAIT_MS. */
static void pump(struct fixture *f, cond_fn cond, void *arg, const char *what)
{
    int64_t end = sl_redis_now_ms() + WAIT_MS;
    while (!cond(f, arg)) {
        struct pollfd p[SL_REDIS_MAX_POLLFDS];
        size_t n = sl_redis_fill_pollfds(f->r, p, SL_REDIS_MAX_POLLFDS);
        int64_t left = end - sl_redis_now_ms();
        if (left <= 0)
            fail_msg("waited %d ms for %s (last down: %s)", WAIT_MS, what,
                     f->last_down);
        int t = sl_redis_timeout_ms(f->r);
        poll(p, n, t < 0 || t > left ? (int)left : t);
        sl_redis_process(f->r, p, n);
    }
}

static bool is_ready(struct fixture *f, void *arg)
{
    (void)arg;
    return sl_redis_state(f->r) == SL_REDIS_READY;
}

static bool answered(struct fixture *f, void *arg)
{
    (void)f;
    return ((struct call *)arg)->calls > 0;
}

static bool none_pending(struct fixture *f, void *arg)
{
    (void)arg;
    return sl_redis_pending(f->r) == 0;
}

static void send_argv(struct fixture *f, int argc, const char **argv,
                      const size_t *lens, int timeout_ms, struct call *c)
{
    struct sl_err err = {0};
    struct sl_redis_cmd cmd = {argc, argv, lens, argc > 1 ? 1 : -1, timeout_ms};
    memset(c, 0, sizeof *c);
    if (sl_redis_command(f->r, &cmd, on_reply, c, &err) < 0)
        fail_msg("%s", err.msg);
}

#define SEND(f, c, timeout, ...)                                               \
    do {                                                                       \
        const char *argv_[] = {__VA_ARGS__};                                   \
        send_argv((f), sizeof argv_ / sizeof argv_[0], argv_, NULL, (timeout), \
                  (c));                                                        \
    } while (0)

/* Sends and waits for the answer. */
#define RUN(f, c, ...)                                                         \
    do {                                                                       \
        SEND(f, c, 0, __VA_ARGS__);                                            \
        pump((f), answered, (c), #__VA_ARGS__);                                \
    } while (0)

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    max_reply = 0;
    f.srv.port = redis_server_free_port();
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sl_redis_free(f->r);
    f->r = NULL;
    stop_server(&f->srv, SIGKILL);
    if (f->srv.sock[0] != '\0')
        unlink(f->srv.sock);
    return 0;
}

static void client_on(struct fixture *f, const char *userinfo, int db)
{
    char url[256];
    snprintf(url, sizeof url, "redis://%s127.0.0.1:%d/%d", userinfo,
             f->srv.port, db);
    open_client(f, url, 200);
}

/* ---- the tests ---- */

static struct call calls[1024];

static void round_trips_and_pipelines(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    client_on(f, "", 0);
    RUN(f, &c, "PING");
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_true(c.sent);
    assert_string_equal(c.str, "PONG");

    const char bin[] = {'a', 0, 'b', '\r', '\n', (char)0xff};
    const char *set[] = {"SET", "k:bin", bin};
    const size_t setlen[] = {3, 5, sizeof bin};
    send_argv(f, 3, set, setlen, 0, &c);
    pump(f, answered, &c, "SET k:bin");
    assert_int_equal(c.status, SL_REDIS_OK);
    RUN(f, &c, "GET", "k:bin");
    assert_int_equal(c.type, REDIS_REPLY_STRING);
    assert_int_equal(c.len, sizeof bin);
    assert_memory_equal(c.str, bin, sizeof bin);

    /* 1024 at once (the default limit); the 1025th is refused */
    for (int i = 0; i < 1024; i++)
        SEND(f, &calls[i], 0, "INCR", "k:n");
    struct sl_err err = {0};
    const char *incr[] = {"INCR", "k:n"};
    struct sl_redis_cmd cmd = {2, incr, NULL, 1, 0};
    assert_int_equal(sl_redis_command(f->r, &cmd, on_reply, &c, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    char want[200];
    snprintf(want, sizeof want,
             "redis://127.0.0.1:%d/0: 1024 commands queued or waiting for "
             "replies (the limit); wait for replies",
             f->srv.port);
    assert_string_equal(err.msg, want);
    pump(f, none_pending, NULL, "1024 INCRs");
    for (int i = 0; i < 1024; i++) {
        assert_int_equal(calls[i].calls, 1);
        assert_int_equal(calls[i].integer, i + 1);
    }
    struct sl_redis_stats s;
    sl_redis_stats(f->r, &s);
    assert_int_equal(s.commands, 1027);
    assert_int_equal(s.replies, 1027);
    assert_int_equal(s.errors, 0);
    /* handshake: CLIENT SETNAME sluice-test (47 bytes) and PING (14);
     * then PING, SET k:bin (36), GET k:bin (24), 1024 INCR k:n (23) */
    assert_int_equal(s.bytes_out, 47 + 14 + 14 + 36 + 24 + 1024 * 23);
    assert_true(s.bytes_in > 1024 * 4);
}

static void big_values_and_error_replies(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    client_on(f, "", 0);
    size_t big = 4u << 20;
    char *v = malloc(big);
    assert_non_null(v);
    for (size_t i = 0; i < big; i++)
        v[i] = (char)(i * 7);
    const char *set[] = {"SET", "k:big", v};
    const size_t setlen[] = {3, 5, big};
    send_argv(f, 3, set, setlen, 0, &c);
    pump(f, answered, &c, "SET k:big");
    free(v);
    assert_int_equal(c.status, SL_REDIS_OK);
    RUN(f, &c, "GET", "k:big");
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_int_equal(c.len, big);
    /* an error reply: the server answered, the connection stays */
    RUN(f, &c, "LPUSH", "k:big", "x");
    assert_int_equal(c.status, SL_REDIS_EREPLY);
    assert_int_equal(c.type, REDIS_REPLY_ERROR);
    assert_string_equal(c.str, "WRONGTYPE Operation against a key holding "
                               "the wrong kind of value");
    RUN(f, &c, "PING");
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_int_equal(f->states[SL_REDIS_DOWN], 0);
    assert_int_equal(f->states[SL_REDIS_READY], 1);
    /* a reply over max_reply_bytes: the connection goes, memory stays */
    sl_redis_free(f->r);
    max_reply = 1u << 20;
    client_on(f, "", 0);
    RUN(f, &c, "GET", "k:big");
    assert_int_equal(c.status, SL_REDIS_ELOST);
    assert_string_equal(c.str, "a reply is larger than 1048576 bytes "
                               "(max_reply_bytes); ask for less at a time");
    RUN(f, &c, "STRLEN", "k:big");
    assert_int_equal(c.integer, big);
}

static bool server_blocked(struct fixture *f, void *arg)
{
    (void)arg;
    redisContext *a = admin(&f->srv);
    redisReply *r = redisCommand(a, "CLIENT LIST");
    bool yes = r != NULL && r->str != NULL && strstr(r->str, "cmd=blpop");
    freeReplyObject(r);
    redisFree(a);
    return yes;
}

static bool downs_at_least(struct fixture *f, void *arg)
{
    return f->states[SL_REDIS_DOWN] >= *(int *)arg;
}

static void server_killed_and_restarted(void **state)
{
    struct fixture *f = *state;
    static struct call blocked, after, c;
    start_server(&f->srv);
    client_on(f, "", 0);
    pump(f, is_ready, NULL, "ready");
    SEND(f, &blocked, 30000, "BLPOP", "k:list", "20");
    pump(f, server_blocked, NULL, "BLPOP on the server");
    stop_server(&f->srv, SIGKILL);
    pump(f, answered, &blocked, "BLPOP to fail");
    assert_int_equal(blocked.status, SL_REDIS_ELOST);
    assert_true(blocked.sent);
    assert_string_equal(blocked.str, "the server closed the connection");
    assert_int_equal(f->states[SL_REDIS_DOWN], 1);

    /* queued while down: waits, is not sent, and goes once it is back */
    SEND(f, &after, 20000, "SET", "k:after", "v");
    int downs = 3;
    pump(f, downs_at_least, &downs, "two refused attempts");
    char want[100];
    snprintf(want, sizeof want,
             "cannot connect to 127.0.0.1:%d: Connection "
             "refused",
             f->srv.port);
    assert_string_equal(f->last_down, want);
    assert_int_equal(after.calls, 0);
    start_server(&f->srv);
    pump(f, answered, &after, "SET after the restart");
    assert_int_equal(after.status, SL_REDIS_OK);
    assert_int_equal(f->states[SL_REDIS_READY], 2);
    RUN(f, &c, "GET", "k:after");
    assert_string_equal(c.str, "v");
    struct sl_redis_stats s;
    sl_redis_stats(f->r, &s);
    assert_int_equal(s.ready, 2);
    assert_int_equal(s.lost, 1);
    assert_int_equal(s.attempts, (uint64_t)f->states[SL_REDIS_CONNECTING]);
    assert_true(s.attempts >= 4); /* 2 ready, at least 2 refused */
    assert_int_equal(s.commands, 3);
    assert_int_equal(s.replies, 2); /* BLPOP was lost */
}

static void slow_server_past_the_deadline(void **state)
{
    struct fixture *f = *state;
    static struct call slow, next, a, b;
    start_server(&f->srv);
    client_on(f, "", 0);
    pump(f, is_ready, NULL, "ready");
    int64_t t0 = sl_redis_now_ms();
    SEND(f, &slow, 500, "DEBUG", "SLEEP", "2");
    pump(f, answered, &slow, "DEBUG SLEEP to time out");
    assert_int_equal(slow.status, SL_REDIS_ETIMEOUT);
    assert_true(slow.sent);
    assert_in_range(slow.at - t0, 490, 1900); /* before the sleep ends */
    assert_string_equal(slow.str, "no reply by the deadline");
    /* the late +OK must not become ECHO's answer */
    SEND(f, &next, 5000, "ECHO", "next");
    pump(f, answered, &next, "ECHO next");
    assert_int_equal(next.status, SL_REDIS_OK);
    assert_string_equal(next.str, "next");
    assert_string_equal(f->last_down,
                        "a command got no reply by its deadline; closing the "
                        "connection so that a late reply cannot be taken for "
                        "another's");
    assert_int_equal(f->states[SL_REDIS_READY], 2);

    /* a quick command stuck behind a slow one: it times out, and the slow
     * one, sent on the same connection, is lost with it */
    SEND(f, &a, 10000, "DEBUG", "SLEEP", "1");
    SEND(f, &b, 300, "ECHO", "b");
    pump(f, answered, &a, "DEBUG SLEEP 1 to be lost");
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, SL_REDIS_ETIMEOUT);
    assert_int_equal(a.status, SL_REDIS_ELOST);
    RUN(f, &next, "ECHO", "c");
    assert_string_equal(next.str, "c");
    struct sl_redis_stats s;
    sl_redis_stats(f->r, &s);
    assert_int_equal(s.timeouts, 2);
    assert_int_equal(s.unanswered, 2); /* both sent */
    assert_int_equal(s.lost, 2);
    assert_int_equal(s.replies, 2); /* ECHO next, ECHO c */
}

/* Reads what the client logged into a file. */
static char *read_log(int fd)
{
    static char buf[65536];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static int log_to_tmpfile(void)
{
    char path[] = "/tmp/sluice-redis-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    sl_log_set_fd(fd);
    return fd;
}

static void wrong_password_then_fixed(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    snprintf(f->srv.extra[0], sizeof f->srv.extra[0], "--requirepass");
    snprintf(f->srv.extra[1], sizeof f->srv.extra[1], "right-pw");
    f->srv.nextra = 2;
    f->srv.password = "right-pw";
    start_server(&f->srv);
    int logfd = log_to_tmpfile();
    client_on(f, ":wrong-pw@", 0);
    int64_t t0 = sl_redis_now_ms();
    int downs = 4;
    pump(f, downs_at_least, &downs, "four refused logins");
    /* retried with backoff (at least 25 ms each), not in a tight loop */
    assert_true(sl_redis_now_ms() - t0 >= 3 * 25);
    assert_string_equal(f->last_down, "login refused: WRONGPASS invalid "
                                      "username-password pair or user is "
                                      "disabled");
    /* fixed on the server's side: the client gets in by itself */
    admin_cmd(&f->srv, "CONFIG SET requirepass wrong-pw");
    f->srv.password = "wrong-pw";
    pump(f, is_ready, NULL, "ready with the password fixed");
    RUN(f, &c, "PING");
    assert_string_equal(c.str, "PONG");
    sl_log_flush();
    sl_log_set_fd(2);
    char *log = read_log(logfd);
    close(logfd);
    char want[300];
    snprintf(want, sizeof want,
             "error [test:redis] redis://:***@127.0.0.1:%d/0: login refused: "
             "WRONGPASS invalid username-password pair or user is disabled; "
             "check the user and password in the url; retrying with backoff",
             f->srv.port);
    if (strstr(log, want) == NULL || strstr(log, "pw@") != NULL ||
        strstr(log, "ready") == NULL)
        fail_msg("log:\n%s", log);
}

static void missing_password(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    snprintf(f->srv.extra[0], sizeof f->srv.extra[0], "--requirepass");
    snprintf(f->srv.extra[1], sizeof f->srv.extra[1], "pw");
    f->srv.nextra = 2;
    f->srv.password = "pw";
    start_server(&f->srv);
    client_on(f, "", 2); /* SELECT is the first to hear NOAUTH */
    int downs = 1;
    pump(f, downs_at_least, &downs, "NOAUTH");
    assert_string_equal(f->last_down, "the server wants a password: NOAUTH "
                                      "Authentication required");
    admin_cmd(&f->srv, "CONFIG SET requirepass %s", "");
    f->srv.password = NULL;
    pump(f, is_ready, NULL, "ready without a password");
    RUN(f, &c, "PING");
    assert_string_equal(c.str, "PONG");
}

static void acl_user(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    admin_cmd(&f->srv, "ACL SETUSER shipper on >pw-1 ~sluice:* +@all");
    client_on(f, "shipper:pw-2@", 0);
    int downs = 2;
    pump(f, downs_at_least, &downs, "two refused logins");
    assert_string_equal(f->last_down, "login refused: WRONGPASS invalid "
                                      "username-password pair or user is "
                                      "disabled");
    admin_cmd(&f->srv, "ACL SETUSER shipper >pw-2");
    pump(f, is_ready, NULL, "ready as shipper");
    RUN(f, &c, "ACL", "WHOAMI");
    assert_string_equal(c.str, "shipper");
    /* a key outside the user's pattern: an error reply, not a lost link */
    RUN(f, &c, "SET", "other:k", "v");
    assert_int_equal(c.status, SL_REDIS_EREPLY);
    assert_string_equal(c.str, "NOPERM this user has no permissions to "
                               "access one of the keys used as arguments");
    RUN(f, &c, "SET", "sluice:k", "v");
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_int_equal(f->states[SL_REDIS_READY], 1);
    /* a user who may not SELECT: said plainly, with the ACL to add */
    sl_redis_free(f->r);
    admin_cmd(&f->srv, "ACL SETUSER reader on >pw-3 ~* +@all -select");
    client_on(f, "reader:pw-3@", 3);
    downs = f->states[SL_REDIS_DOWN] + 1;
    pump(f, downs_at_least, &downs, "SELECT refused");
    assert_string_equal(f->last_down, "SELECT refused: NOPERM this user has "
                                      "no permissions to run the 'select' "
                                      "command");
}

/* A user given only what it writes (+xadd +select), as an operator keeping
 * to least privilege makes it: CLIENT SETNAME and PING are refused with
 * NOPERM, and the client is READY all the same (PING answered: the login
 * and SELECT before it are done). It never was: every attempt failed. */
static void user_without_setname_or_ping(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    admin_cmd(&f->srv, "ACL SETUSER writer on >pw-4 ~sluice:* +xadd +select");
    client_on(f, "writer:pw-4@", 2);
    pump(f, is_ready, NULL, "ready as writer");
    assert_int_equal(f->states[SL_REDIS_DOWN], 0);
    RUN(f, &c, "XADD", "sluice:s", "*", "f", "v");
    assert_int_equal(c.status, SL_REDIS_OK);
    redisContext *a = admin(&f->srv);
    freeReplyObject(redisCommand(a, "SELECT 2"));
    redisReply *r = redisCommand(a, "XLEN sluice:s");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    redisFree(a);
}

static void select_db(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    client_on(f, "", 5);
    RUN(f, &c, "SET", "k:db", "five");
    assert_int_equal(c.status, SL_REDIS_OK);
    RUN(f, &c, "CLIENT", "INFO");
    assert_non_null(strstr(c.str, " db=5 "));
    assert_non_null(strstr(c.str, " name=sluice-test "));
    redisContext *a = admin(&f->srv);
    redisReply *r = redisCommand(a, "EXISTS k:db");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    freeReplyObject(redisCommand(a, "SELECT 5"));
    r = redisCommand(a, "GET k:db");
    assert_string_equal(r->str, "five");
    freeReplyObject(r);
    redisFree(a);
    sl_redis_free(f->r);
    /* a database the server does not have */
    client_on(f, "", 99);
    int downs = 1;
    pump(f, downs_at_least, &downs, "SELECT 99 refused");
    assert_string_equal(f->last_down,
                        "SELECT 99 refused: ERR DB index is out of range");
}

static void maxmemory_is_an_error_reply(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    admin_cmd(&f->srv, "CONFIG SET maxmemory-policy noeviction");
    admin_cmd(&f->srv, "CONFIG SET maxmemory 1mb");
    client_on(f, "", 0);
    static char v[100 * 1024];
    memset(v, 'x', sizeof v);
    const size_t lens[] = {3, 8, sizeof v};
    char key[16];
    const char *argv[] = {"SET", key, v};
    int i;
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k:%06d", i);
        send_argv(f, 3, argv, lens, 0, &c);
        pump(f, answered, &c, "SET");
        if (c.status != SL_REDIS_OK)
            break;
    }
    assert_true(i < 100);
    assert_int_equal(c.status, SL_REDIS_EREPLY);
    assert_string_equal(c.str, "OOM command not allowed when used memory > "
                               "'maxmemory'.");
    assert_int_equal(sl_redis_state(f->r), SL_REDIS_READY);
    assert_int_equal(f->states[SL_REDIS_DOWN], 0);
    RUN(f, &c, "DBSIZE"); /* reads still work */
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_int_equal(c.integer, i);
}

static void unix_socket(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    snprintf(f->srv.sock, sizeof f->srv.sock, "/tmp/sluice-redis-%d-%d.sock",
             (int)getpid(), f->srv.port);
    start_server(&f->srv);
    char url[200];
    snprintf(url, sizeof url, "unix://%s?db=1", f->srv.sock);
    open_client(f, url, 200);
    RUN(f, &c, "CLIENT", "INFO");
    assert_int_equal(c.status, SL_REDIS_OK);
    assert_non_null(strstr(c.str, " db=1 "));
}

static void host_name(void **state)
{
    struct fixture *f = *state;
    static struct call c;
    start_server(&f->srv);
    char url[200];
    snprintf(url, sizeof url, "redis://localhost:%d", f->srv.port);
    open_client(f, url, 200);
    /* localhost may be ::1 first, where nothing listens: the client moves
     * on to the next address */
    RUN(f, &c, "PING");
    assert_int_equal(c.status, SL_REDIS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trips_and_pipelines, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(big_values_and_error_replies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(server_killed_and_restarted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(slow_server_past_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wrong_password_then_fixed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_password, setup, teardown),
        cmocka_unit_test_setup_teardown(acl_user, setup, teardown),
        cmocka_unit_test_setup_teardown(user_without_setname_or_ping, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(select_db, setup, teardown),
        cmocka_unit_test_setup_teardown(maxmemory_is_an_error_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unix_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(host_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
