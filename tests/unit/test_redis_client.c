/* test_redis_client.c: the Redis client's parts that need no server: the
 * URL parser (every form, every error, never the password in a message),
 * key slots (vectors from the cluster spec and from CLUSTER KEYSLOT of
 * redis-server 7.0), MOVED/ASK parsing, backoff bounds, the resolver
 * thread, and a connection to a port nobody listens on (refused, retried
 * with backoff, commands ending by their deadline, limits, free), and a
 * fake server checking large commands formatted into the buffer of one
 * written before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_backoff.h"
#include "sl_log.h"
#include "sl_redis.h"
#include "sl_redis_conn_priv.h" /* next_address_at_once */
#include "sl_resolve.h"

/* ---- URLs ---- */

static struct sl_redis_url parse_ok(const char *s)
{
    struct sl_redis_url u;
    struct sl_err err = {0};
    if (sl_redis_url_parse(s, &u, &err) < 0)
        fail_msg("'%s': %s", s, err.msg);
    return u;
}

static void url_forms(void **state)
{
    (void)state;
    struct sl_redis_url u = parse_ok("redis://127.0.0.1:6379/0");
    assert_false(u.unix_socket);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    assert_string_equal(u.shown, "redis://127.0.0.1:6379/0");

    u = parse_ok("redis://:hunter2@127.0.0.1:6380/3");
    assert_string_equal(u.password, "hunter2");
    assert_string_equal(u.user, "");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.shown, "redis://:***@127.0.0.1:6380/3");

    u = parse_ok("redis://alice:s%40cr%3at%25@redis.example.com");
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "s@cr:t%");
    assert_string_equal(u.host, "redis.example.com");
    assert_int_equal(u.port, 6379);
    assert_string_equal(u.shown, "redis://alice:***@redis.example.com");

    /* the last '@' ends the userinfo: '@', '/', '#' unencoded */
    u = parse_ok("redis://:p@ss/w#rd@10.0.0.1:6379/15");
    assert_string_equal(u.password, "p@ss/w#rd");
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.db, 15);
    assert_string_equal(u.shown, "redis://:***@10.0.0.1:6379/15");

    u = parse_ok("redis://[::1]:7000/2");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 2);
}

static void url_forms_more(void **state)
{
    (void)state;
    struct sl_redis_url u = parse_ok("redis://[::1]");
    assert_int_equal(u.port, 6379);
    u = parse_ok("redis://localhost/");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.db, 0);
    u = parse_ok("redis://my_redis-1.internal:1");
    assert_int_equal(u.port, 1);
    u = parse_ok("redis://h:65535/999999999");
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.db, 999999999);
    /* an empty ${REDIS_PASSWORD}: no AUTH */
    u = parse_ok("redis://:@127.0.0.1:6379/0");
    assert_string_equal(u.password, "");
    assert_string_equal(u.shown, "redis://:***@127.0.0.1:6379/0");

    u = parse_ok("unix:///run/redis/redis.sock");
    assert_true(u.unix_socket);
    assert_string_equal(u.host, "/run/redis/redis.sock");
    assert_int_equal(u.db, 0);
    u = parse_ok("redis+unix://bob:pw@/tmp/r.sock?db=4");
    assert_true(u.unix_socket);
    assert_string_equal(u.host, "/tmp/r.sock");
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.db, 4);
    assert_string_equal(u.shown, "redis+unix://bob:***@/tmp/r.sock?db=4");
}

#define PW "hunter2"

static const struct {
    const char *url, *msg;
} url_errors[] = {
    {"rediss://:" PW "@h",
     "redis url 'rediss://:***@h': TLS (rediss://) is not supported (hiredis "
     "0.14 has none); use redis:// through a TLS tunnel such as stunnel"},
    {"http://" PW "@h", "redis url 'http://***@h': expected "
                        "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
                        "unix://[[USER]:PASSWORD@]/PATH[?db=DB]"},
    {PW "@127.0.0.1:6379", "redis url '***@127.0.0.1:6379': expected "
                           "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
                           "unix://[[USER]:PASSWORD@]/PATH[?db=DB]"},
    {"redis://" PW "@h",
     "redis url 'redis://***@h': the part before '@' has no ':'; write "
     ":PASSWORD@ for the default user or USER:PASSWORD@ for an ACL user"},
    {"redis://bob:@h",
     "redis url 'redis://bob:***@h': user 'bob' has an empty password; write "
     "USER:PASSWORD@ (is the variable that holds it set?)"},
    {"redis://:" PW "%4@h",
     "redis url 'redis://:***@h': the password has a '%' not followed by two "
     "hex digits; write %25 for a '%'"},
    {"redis://b%zzob:" PW "@h",
     "redis url 'redis://b%zzob:***@h': the user has a '%' not followed by "
     "two hex digits; write %25 for a '%'"},
    {"redis://:" PW "%00@h",
     "redis url 'redis://:***@h': the password holds a NUL byte (%00), which "
     "Redis cannot take"},
    {"redis://:" PW "@h:0",
     "redis url 'redis://:***@h:0': port '0' is not a number from 1 to "
     "65535"},
    {"redis://:" PW "@h:65536/1",
     "redis url 'redis://:***@h:65536/1': port '65536' is not a number from "
     "1 to 65535"},
    {"redis://:" PW "@h:",
     "redis url 'redis://:***@h:': port '' is not a number from 1 to 65535"},
    {"redis://:" PW "@h:6x",
     "redis url 'redis://:***@h:6x': port '6x' is not a number from 1 to "
     "65535"},
    {"redis://:" PW "@h/abc",
     "redis url 'redis://:***@h/abc': database 'abc' is not a number from 0 "
     "to 999999999"},
    {"redis://:" PW "@h/1000000000",
     "redis url 'redis://:***@h/1000000000': database '1000000000' is not a "
     "number from 0 to 999999999"},
    {"redis://:" PW "@", "redis url 'redis://:***@': no host; expected "
                         "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"},
    {"redis://", "redis url 'redis://': no host; expected "
                 "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"},
    {"redis://:" PW "@[::1",
     "redis url 'redis://:***@[::1': '[' without ']'; write an IPv6 address "
     "as [::1]"},
    {"redis://:" PW "@[zz]:1",
     "redis url 'redis://:***@[zz]:1': 'zz' is not a host name or IPv6 "
     "address"},
    {"redis://:" PW "@[::1]x",
     "redis url 'redis://:***@[::1]x': expected ':PORT' or '/DB' after the "
     "host"},
    {"redis://:" PW "@::1:6379",
     "redis url 'redis://:***@::1:6379': write an IPv6 address in brackets, "
     "as in redis://[::1]:6379"},
    {"redis://:" PW "@ho st",
     "redis url 'redis://:***@ho st': 'ho st' is not a host name or IPv4 "
     "address (write IPv6 in brackets)"},
    {"redis://:" PW "@h?db=1",
     "redis url 'redis://:***@h?db=1': query strings and fragments are not "
     "supported; expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"},
    {"redis://:" PW "@h/0#x",
     "redis url 'redis://:***@h/0#x': query strings and fragments are not "
     "supported; expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"},
    {"unix://:" PW "@relative.sock",
     "redis url 'unix://:***@relative.sock': expected an absolute socket "
     "path, as in unix://[[USER]:PASSWORD@]/PATH[?db=DB]"},
    {"unix://:" PW "@/p?x=1",
     "redis url 'unix://:***@/p?x=1': the only query parameter is ?db=DB"},
    {"unix:///p?db=-1", "redis url 'unix:///p?db=-1': database '-1' is not a "
                        "number from 0 to 999999999"},
    {"redis://:" PW "\n@h\x01",
     "redis url 'redis://:***@h?': 'h\\x01' is not a host name or IPv4 "
     "address (write IPv6 in brackets)"},
};

static void url_errors_say_what_to_fix_and_hide_the_password(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof url_errors / sizeof url_errors[0]; i++) {
        struct sl_redis_url u;
        struct sl_err err = {0};
        if (sl_redis_url_parse(url_errors[i].url, &u, &err) == 0)
            fail_msg("'%s' parsed", url_errors[i].url);
        assert_int_equal(err.status, SL_EINVAL);
        assert_string_equal(err.msg, url_errors[i].msg);
        assert_null(strstr(err.msg, PW));
        assert_null(strstr(u.shown, PW));
        assert_string_equal(u.password, ""); /* wiped on failure */
    }
}

static void url_lengths(void **state)
{
    (void)state;
    char url[2048], pw[600];
    struct sl_redis_url u;
    struct sl_err err;
    memset(pw, 'p', sizeof pw);
    snprintf(url, sizeof url, "redis://:%.*s@h", SL_REDIS_PASSWORD_MAX - 1, pw);
    assert_int_equal(sl_redis_url_parse(url, &u, &err), 0);
    assert_int_equal(strlen(u.password), SL_REDIS_PASSWORD_MAX - 1);
    snprintf(url, sizeof url, "redis://:%.*s@h", SL_REDIS_PASSWORD_MAX, pw);
    assert_int_equal(sl_redis_url_parse(url, &u, &err), -1);
    assert_string_equal(err.msg, "redis url 'redis://:***@h': the password is "
                                 "longer than 511 bytes");
    char host[700];
    memset(host, 'a', sizeof host);
    snprintf(url, sizeof url, "redis://%.*s", 255, host);
    assert_int_equal(sl_redis_url_parse(url, &u, &err), 0);
    snprintf(url, sizeof url, "redis://%.*s:1", 256, host);
    assert_int_equal(sl_redis_url_parse(url, &u, &err), -1);
    assert_non_null(strstr(err.msg, "host name longer than 255 bytes"));
    /* a URL longer than `shown` is cut with "...", still NUL-terminated */
    snprintf(url, sizeof url, "redis://:%.*s@%.*s", 500, pw, 255, host);
    assert_int_equal(sl_redis_url_parse(url, &u, &err), 0);
    assert_int_equal(strlen(u.shown), 8 + 4 + 1 + 255);
    snprintf(url, sizeof url, "unix://%.*s", 600, host);
    url[7] = '/';
    assert_int_equal(sl_redis_url_parse(url, &u, &err), -1);
    assert_int_equal(strlen(u.shown), SL_REDIS_SHOWN_MAX - 1);
    assert_memory_equal(u.shown + SL_REDIS_SHOWN_MAX - 4, "...", 3);
}

/* ---- slots and redirections ---- */

static void key_slots(void **state)
{
    (void)state;
    /* the cluster spec's CRC16 check value */
    assert_int_equal(sl_redis_crc16("123456789", 9), 0x31C3);
    /* CLUSTER KEYSLOT of redis-server 7.0.15 */
    static const struct {
        const char *key;
        unsigned slot;
    } v[] = {
        {"123456789", 12739},
        {"foo", 12182},
        {"bar", 5061},
        {"hello", 866},
        {"somekey", 11058},
        {"{user1000}.following", 3443},
        {"{user1000}.followers", 3443},
        {"foo{}{bar}", 8363},
        {"foo{{bar}}zap", 4015},
        {"foo{bar}{zap}", 5061},
        {"{}", 15257},
        {"a{b", 13340},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(sl_redis_key_slot(v[i].key, strlen(v[i].key)),
                         v[i].slot);
    assert_int_equal(sl_redis_key_slot("", 0), 0);
}

static void redirections(void **state)
{
    (void)state;
    struct sl_redis_redirect r;
    struct sl_err err = {0};
    const char *m = "MOVED 3999 127.0.0.1:6381";
    assert_int_equal(sl_redis_redirect_parse(m, strlen(m), &r, &err), 1);
    assert_int_equal(r.kind, SL_REDIS_MOVED);
    assert_int_equal(r.slot, 3999);
    assert_string_equal(r.host, "127.0.0.1");
    assert_int_equal(r.port, 6381);
    m = "ASK 16383 ::1:6380";
    assert_int_equal(sl_redis_redirect_parse(m, strlen(m), &r, &err), 1);
    assert_int_equal(r.kind, SL_REDIS_ASK);
    assert_int_equal(r.slot, 16383);
    assert_string_equal(r.host, "::1");
    assert_int_equal(r.port, 6380);
    m = "MOVED 0 :7000";
    assert_int_equal(sl_redis_redirect_parse(m, strlen(m), &r, &err), 1);
    assert_string_equal(r.host, "");
    assert_int_equal(r.port, 7000);
    /* not redirections */
    const char *other[] = {"CLUSTERDOWN The cluster is down", "ASKING", "MOVED",
                           "OOM command not allowed", ""};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_int_equal(
            sl_redis_redirect_parse(other[i], strlen(other[i]), &r, &err), 0);
    const char *bad[] = {"MOVED 16384 h:1", "MOVED x h:1",     "MOVED 1 h",
                         "MOVED 1 h:0",     "MOVED 1 h:65536", "ASK 1",
                         "MOVED 1 h h:1",   "MOVED  h:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            sl_redis_redirect_parse(bad[i], strlen(bad[i]), &r, &err), -1);
        assert_int_equal(err.status, SL_EPARSE);
    }
    assert_string_equal(err.msg, "redirection 'MOVED  h:1' is not 'MOVED|ASK "
                                 "SLOT HOST:PORT'");
}

/* ---- backoff ---- */

static void backoff_doubles_within_bounds(void **state)
{
    (void)state;
    const int caps[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (uint64_t seed = 1; seed <= 500; seed++) {
        struct sl_backoff b;
        sl_backoff_init(&b, 100, 5000, seed);
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
                int d = sl_backoff_next(&b);
                if (d < caps[i] / 2 || d > caps[i])
                    fail_msg("seed %lu delay %zu: %d not in [%d, %d]",
                             (unsigned long)seed, i, d, caps[i] / 2, caps[i]);
            }
            sl_backoff_reset(&b);
        }
    }
    /* jitter: 100 clients do not all wait the same */
    int seen_low = 0, seen_high = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct sl_backoff b;
        sl_backoff_init(&b, 1000, 1000, seed);
        int d = sl_backoff_next(&b);
        seen_low += d < 750;
        seen_high += d >= 750;
    }
    assert_true(seen_low > 20 && seen_high > 20);
    struct sl_backoff b; /* bad settings are raised, not trusted */
    sl_backoff_init(&b, 0, -5, 0);
    assert_int_equal(b.min_ms, 1);
    assert_int_equal(b.max_ms, 1);
    assert_in_range(sl_backoff_next(&b), 0, 1);
}

/* ---- the resolver ---- */

static void resolver_answers_through_its_fd(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_resolve *r = sl_resolve_start("localhost", 6379, &err);
    assert_non_null(r);
    struct pollfd p = {sl_resolve_fd(r), POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    struct sl_resolve_addr a[SL_RESOLVE_MAX_ADDRS];
    size_t n = 0;
    assert_int_equal(sl_resolve_result(r, a, SL_RESOLVE_MAX_ADDRS, &n, &err),
                     1);
    assert_true(n >= 1);
    assert_true(a[0].ss.ss_family == AF_INET || a[0].ss.ss_family == AF_INET6);
    sl_resolve_free(r);
    /* abandoned while it runs: the thread frees it (ASan checks) */
    r = sl_resolve_start("localhost", 1, &err);
    assert_non_null(r);
    sl_resolve_free(r);
}

/* ---- a connection to a port where nothing listens ---- */

struct seen {
    int calls, downs, connecting, requeue_rc;
    int type; /* of the reply, when there is one */
    size_t len, elements;
    enum sl_redis_status status;
    bool sent;
    char why[300];
    struct sl_redis_conn *conn; /* set: the callback tries to queue more */
};

static void on_state(void *ctx, enum sl_redis_state st, const char *why)
{
    struct seen *s = ctx;
    s->downs += st == SL_REDIS_DOWN;
    s->connecting += st == SL_REDIS_CONNECTING;
    if (why != NULL)
        snprintf(s->why, sizeof s->why, "%s", why);
}

static void on_reply(void *ctx, const struct sl_redis_result *res)
{
    struct seen *s = ctx;
    s->calls++;
    s->status = res->status;
    s->sent = res->sent;
    snprintf(s->why, sizeof s->why, "%s", res->why != NULL ? res->why : "");
    if (res->reply != NULL) {
        s->type = res->reply->type;
        s->len = res->reply->len;
        s->elements = res->reply->elements;
        if (res->reply->str != NULL)
            snprintf(s->why, sizeof s->why, "%s", res->reply->str);
    }
    if (s->conn != NULL) {
        const char *argv[] = {"PING"};
        s->requeue_rc =
            sl_redis_conn_command(s->conn, 1, argv, NULL, 0, on_reply, s, NULL);
    }
}

static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static struct sl_redis_conn *refused_conn(struct seen *st, int port,
                                          size_t max_commands, size_t max_bytes)
{
    char s[100];
    struct sl_redis_url url;
    struct sl_err err = {0};
    snprintf(s, sizeof s, "redis://127.0.0.1:%d", port);
    assert_int_equal(sl_redis_url_parse(s, &url, &err), 0);
    struct sl_redis_conn_config cfg = {.url = &url,
                                       .backoff_min_ms = 20,
                                       .backoff_max_ms = 40,
                                       .max_commands = max_commands,
                                       .max_queued_bytes = max_bytes,
                                       .on_state = on_state,
                                       .state_ctx = st};
    struct sl_redis_conn *c = sl_redis_conn_new(&cfg, &err);
    if (c == NULL)
        fail_msg("%s", err.msg);
    return c;
}

static void refused_is_retried_and_commands_end_by_deadline(void **state)
{
    (void)state;
    static struct seen st, cmd;
    memset(&st, 0, sizeof st);
    memset(&cmd, 0, sizeof cmd);
    int port = closed_port();
    sl_log_init(SL_LOG_ERROR, SL_LOG_TEXT); /* the warnings are expected */
    struct sl_redis_conn *c = refused_conn(&st, port, 0, 0);
    const char *argv[] = {"SET", "k", "v"};
    struct sl_err err;
    int64_t t0 = sl_redis_now_ms();
    assert_int_equal(
        sl_redis_conn_command(c, 3, argv, NULL, 300, on_reply, &cmd, &err), 0);
    assert_int_equal(cmd.calls, 0); /* never from inside command() */
    while (cmd.calls == 0 && sl_redis_now_ms() - t0 < 5000) {
        struct pollfd p[1];
        size_t n = sl_redis_conn_fill_pollfds(c, p, 1);
        poll(p, n, sl_redis_conn_timeout_ms(c));
        sl_redis_conn_process(c, p, n);
    }
    int64_t took = sl_redis_now_ms() - t0;
    assert_int_equal(cmd.calls, 1);
    assert_int_equal(cmd.status, SL_REDIS_ETIMEOUT);
    assert_false(cmd.sent);
    assert_in_range(took, 300, 2000);
    char want[200];
    snprintf(want, sizeof want,
             "not sent by the deadline: cannot connect to 127.0.0.1:%d: "
             "Connection refused",
             port);
    assert_string_equal(cmd.why, want);
    struct sl_redis_stats rs;
    sl_redis_conn_stats(c, &rs);
    assert_int_equal(rs.timeouts, 1);
    assert_int_equal(rs.unanswered, 0); /* never sent */
    /* retried with backoff 10..40 ms: several attempts, no tight loop */
    assert_in_range(st.downs, 3, 31);
    /* the deadline may fall while an attempt is under way: a loaded
     * machine answers a non-blocking connect through poll, not at once */
    if (st.connecting == st.downs + 1) {
        assert_int_equal(sl_redis_conn_state(c), SL_REDIS_CONNECTING);
    } else {
        assert_int_equal(st.connecting, st.downs);
        assert_int_equal(sl_redis_conn_state(c), SL_REDIS_DOWN);
    }
    assert_int_equal(sl_redis_conn_pending(c), 0);
    sl_redis_conn_free(c);
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
}

static void limits_and_free(void **state)
{
    (void)state;
    static struct seen st, a, b, x;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct sl_redis_conn *c = refused_conn(&st, closed_port(), 2, 64);
    const char *argv[] = {"SET", "k", "v"};
    struct sl_err err = {0};
    assert_int_equal(
        sl_redis_conn_command(c, 3, argv, NULL, 0, on_reply, &a, &err), 0);
    assert_int_equal(
        sl_redis_conn_command(c, 3, argv, NULL, 0, on_reply, &b, &err), 0);
    assert_int_equal(
        sl_redis_conn_command(c, 3, argv, NULL, 0, on_reply, &x, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_non_null(strstr(err.msg, ": 2 commands queued or waiting for "
                                    "replies (the limit); wait for replies"));
    assert_int_equal(sl_redis_conn_pending(c), 2);
    sl_redis_conn_free(c);
    /* every callback once, with ECLOSED; queueing from it is refused */
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(x.calls, 0);
    assert_int_equal(a.status, SL_REDIS_ECLOSED);
    assert_false(a.sent);
    assert_string_equal(a.why, "the connection was closed");

    c = refused_conn(&st, closed_port(), 0, 64);
    /* SET k <36 bytes> is 63 bytes formatted: one fits, two do not */
    const char *big[] = {"SET", "k", "012345678901234567890123456789012345"};
    memset(&a, 0, sizeof a);
    a.conn = c;
    assert_int_equal(
        sl_redis_conn_command(c, 3, big, NULL, 0, on_reply, &a, &err), 0);
    assert_int_equal(
        sl_redis_conn_command(c, 3, big, NULL, 0, on_reply, &b, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_non_null(strstr(err.msg, ": a command of 63 bytes does not fit "
                                    "with the 63 bytes not yet written "
                                    "(max_queued_bytes 64)"));
    assert_int_equal(
        sl_redis_conn_command(c, 0, big, NULL, 0, on_reply, &b, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    sl_redis_conn_free(c);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.requeue_rc, -1);
}

static void key_index_is_checked(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_redis_config cfg = {.url = "redis://:pw@127.0.0.1:1/0"};
    struct sl_redis *r = sl_redis_new(&cfg, &err);
    assert_non_null(r);
    assert_string_equal(sl_redis_shown(r), "redis://:***@127.0.0.1:1/0");
    const char *argv[] = {"GET", "k"};
    struct sl_redis_cmd cmd = {2, argv, NULL, 2, 0};
    assert_int_equal(sl_redis_command(r, &cmd, on_reply, NULL, &err), -1);
    assert_string_equal(err.msg, "redis://:***@127.0.0.1:1/0: key index 2 is "
                                 "not an argument of a 2-word command");
    sl_redis_free(r);
    cfg.url = "redis://:pw@127.0.0.1:99999";
    assert_null(sl_redis_new(&cfg, &err));
    assert_string_equal(err.msg, "redis url 'redis://:***@127.0.0.1:99999': "
                                 "port '99999' is not a number from 1 to "
                                 "65535");
}

/* ---- a fake server that never answers, or answers nonsense ---- */

static int listener(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A connection (default settings) to a fake server listening on *lfd. */
static struct sl_redis_conn *conn_to_fake(int *lfd)
{
    int port;
    char s[100];
    struct sl_redis_url url;
    struct sl_err err = {0};
    *lfd = listener(&port);
    snprintf(s, sizeof s, "redis://127.0.0.1:%d", port);
    assert_int_equal(sl_redis_url_parse(s, &url, &err), 0);
    struct sl_redis_conn_config cfg = {.url = &url};
    struct sl_redis_conn *c = sl_redis_conn_new(&cfg, &err);
    if (c == NULL)
        fail_msg("%s", err.msg);
    return c;
}

/* One pass of a loop driving c beside a fake server: polls both, accepts
 * c's connection (non-blocking, no delay) on the first, lets c do its I/O. */
static void pass_with_fake(struct sl_redis_conn *c, int lfd, int *cfd)
{
    struct pollfd p[2];
    size_t n = sl_redis_conn_fill_pollfds(c, p, 1);
    p[n].fd = lfd;
    p[n].events = *cfd < 0 ? POLLIN : 0;
    p[n].revents = 0;
    poll(p, n + 1, *cfd >= 0 ? 1 : 100);
    if (p[n].revents & POLLIN) {
        int one = 1;
        *cfd = accept(lfd, NULL, NULL);
        fcntl(*cfd, F_SETFL, O_NONBLOCK);
        setsockopt(*cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    sl_redis_conn_process(c, p, n);
}

/* Drives c until st->downs reaches 1; when answer is set, the fake
 * server accepts and writes it. */
static void pump_fake(struct sl_redis_conn *c, struct seen *st, int lfd,
                      const char *answer)
{
    int cfd = -1;
    int64_t end = sl_redis_now_ms() + 5000;
    while (st->downs == 0 && sl_redis_now_ms() < end) {
        struct pollfd p[2];
        size_t n = sl_redis_conn_fill_pollfds(c, p, 1);
        p[n].fd = lfd;
        p[n].events = answer != NULL && cfd < 0 ? POLLIN : 0;
        p[n].revents = 0;
        poll(p, n + 1, sl_redis_conn_timeout_ms(c));
        if (p[n].revents & POLLIN) {
            cfd = accept(lfd, NULL, NULL);
            assert_int_equal(write(cfd, answer, strlen(answer)),
                             (ssize_t)strlen(answer));
        }
        sl_redis_conn_process(c, p, n);
    }
    if (cfd >= 0)
        close(cfd);
    assert_int_equal(st->downs, 1);
}

static void silent_or_garbled_server(void **state)
{
    (void)state;
    static struct seen st, cmd;
    int port, lfd = listener(&port);
    char s[100];
    struct sl_redis_url url;
    struct sl_err err = {0};
    snprintf(s, sizeof s, "redis://127.0.0.1:%d", port);
    assert_int_equal(sl_redis_url_parse(s, &url, &err), 0);
    struct sl_redis_conn_config cfg = {.url = &url,
                                       .connect_timeout_ms = 200,
                                       .on_state = on_state,
                                       .state_ctx = &st};
    sl_log_init(SL_LOG_ERROR, SL_LOG_TEXT);
    /* accepted by the kernel, never answered: the attempt's deadline */
    memset(&st, 0, sizeof st);
    struct sl_redis_conn *c = sl_redis_conn_new(&cfg, &err);
    const char *argv[] = {"PING"};
    assert_int_equal(
        sl_redis_conn_command(c, 1, argv, NULL, 0, on_reply, &cmd, &err), 0);
    int64_t t0 = sl_redis_now_ms();
    pump_fake(c, &st, lfd, NULL);
    assert_in_range(sl_redis_now_ms() - t0, 200, 2000);
    assert_string_equal(st.why,
                        "connected, but no answer to the login within 200 "
                        "ms: is a Redis server listening there, and running "
                        "(not stopped or stuck)?");
    assert_int_equal(cmd.calls, 0); /* never sent: still queued */
    sl_redis_conn_free(c);
    assert_int_equal(cmd.status, SL_REDIS_ECLOSED);
    close(lfd);

    /* an answer that is not RESP */
    lfd = listener(&port);
    snprintf(s, sizeof s, "redis://127.0.0.1:%d", port);
    assert_int_equal(sl_redis_url_parse(s, &url, &err), 0);
    memset(&st, 0, sizeof st);
    c = sl_redis_conn_new(&cfg, &err);
    pump_fake(c, &st, lfd, "!garbage\r\n");
    assert_string_equal(st.why, "the server's answer does not parse: "
                                "Protocol error, got \"!\" as reply type "
                                "byte");
    sl_redis_conn_free(c);
    close(lfd);
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
}

/* A server that answers one byte per pass of the loop: the handshake's
 * PONG, then a bulk string, an array and an error, each cut everywhere. */
static void replies_fed_one_byte_at_a_time(void **state)
{
    (void)state;
    static struct seen get, arr, bad;
    static const char answer[] = "+PONG\r\n$5\r\nhe\0lo\r\n*2\r\n:1\r\n"
                                 "$-1\r\n-ERR no\r\n";
    int lfd, cfd = -1;
    struct sl_err err = {0};
    struct sl_redis_conn *c = conn_to_fake(&lfd);
    const char *g[] = {"GET", "k"}, *l[] = {"LRANGE", "l", "0", "1"};
    assert_int_equal(
        sl_redis_conn_command(c, 2, g, NULL, 0, on_reply, &get, &err), 0);
    assert_int_equal(
        sl_redis_conn_command(c, 4, l, NULL, 0, on_reply, &arr, &err), 0);
    assert_int_equal(
        sl_redis_conn_command(c, 2, g, NULL, 0, on_reply, &bad, &err), 0);
    size_t at = 0, rx = 0; /* bytes written, bytes read by the server */
    int64_t end = sl_redis_now_ms() + 5000;
    while (bad.calls == 0 && sl_redis_now_ms() < end) {
        char in[256];
        ssize_t r = cfd >= 0 ? read(cfd, in, sizeof in) : -1;
        rx += r > 0 ? (size_t)r : 0;
        /* PONG at once; the rest once the three commands came: a server
         * answers a command only after reading it */
        if (cfd >= 0 && at < sizeof answer - 1 && (at < 7 || rx >= 91))
            assert_int_equal(write(cfd, answer + at++, 1), 1);
        pass_with_fake(c, lfd, &cfd);
    }
    assert_int_equal(get.calls, 1);
    assert_int_equal(get.status, SL_REDIS_OK);
    assert_int_equal(get.type, REDIS_REPLY_STRING);
    assert_int_equal(get.len, 5);
    assert_int_equal(arr.status, SL_REDIS_OK);
    assert_int_equal(arr.type, REDIS_REPLY_ARRAY);
    assert_int_equal(arr.elements, 2);
    assert_int_equal(bad.status, SL_REDIS_EREPLY);
    assert_string_equal(bad.why, "ERR no");
    assert_int_equal(sl_redis_conn_state(c), SL_REDIS_READY);
    sl_redis_conn_free(c);
    close(cfd);
    close(lfd);
}

/* A name with two addresses, the first refused: the second is tried at
 * once, within the same attempt. The lookup's answer is put in place by
 * hand (no name here resolves to two addresses). */
static void next_address_at_once(void **state)
{
    (void)state;
    static struct seen st;
    memset(&st, 0, sizeof st);
    int port, lfd = listener(&port), cfd = -1;
    struct sl_redis_url url;
    struct sl_err err = {0};
    assert_int_equal(sl_redis_url_parse("redis://two.invalid", &url, &err), 0);
    struct sl_redis_conn_config cfg = {
        .url = &url, .on_state = on_state, .state_ctx = &st};
    struct sl_redis_conn *c = sl_redis_conn_new(&cfg, &err);
    const int ports[2] = {closed_port(), port};
    for (int i = 0; i < 2; i++) {
        struct sockaddr_in *a = (void *)&c->addrs[i].ss;
        memset(&c->addrs[i], 0, sizeof c->addrs[i]);
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)ports[i]);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        c->addrs[i].len = sizeof *a;
    }
    c->naddrs = 2;
    int64_t end = sl_redis_now_ms() + 5000;
    while (cfd < 0 && sl_redis_now_ms() < end) {
        struct pollfd p[2];
        size_t n = sl_redis_conn_fill_pollfds(c, p, 1);
        p[n].fd = lfd;
        p[n].events = POLLIN;
        p[n].revents = 0;
        poll(p, n + 1, 100);
        if (p[n].revents & POLLIN)
            cfd = accept(lfd, NULL, NULL);
        sl_redis_conn_process(c, p, n);
    }
    assert_true(cfd >= 0);
    assert_int_equal(st.downs, 0);
    assert_int_equal(st.connecting, 1);
    assert_int_equal(c->next_addr, 2);
    sl_redis_conn_free(c);
    close(cfd);
    close(lfd);
}

/* The RESP of SET k <n bytes of ch> into out (room: n + 64); its length. */
static size_t set_resp(char *out, size_t n, char ch)
{
    int h = snprintf(out, 64, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", n);
    memset(out + h, ch, n);
    memcpy(out + h + n, "\r\n", 2);
    return (size_t)h + n + 2;
}

/* Large commands, each queued once the one before was answered, through a
 * fake server that checks every byte: a written command's buffer is kept
 * (the largest one) and the next command it holds is formatted into it;
 * one it cannot hold gets new memory. Sizes: 100, 70, 150, 120 KiB. */
static void large_commands_reuse_the_written_buffer(void **state)
{
    (void)state;
    static const size_t kib[] = {100, 70, 150, 120};
    static const char fill[] = "abcd";
    static struct seen rep;
    static char want[160 * 1024], got[160 * 1024], value[160 * 1024];
    memset(&rep, 0, sizeof rep);
    int lfd, cfd = -1;
    struct sl_err err = {0};
    struct sl_redis_conn *c = conn_to_fake(&lfd);
    size_t queued = 0, nwant = 0, ngot = 0, answered = 0;
    bool ponged = false, replied = false; /* to the last command queued */
    int64_t end = sl_redis_now_ms() + 10000;
    while (answered < 4 && sl_redis_now_ms() < end) {
        if (queued == answered && queued < 4) {
            size_t n = kib[queued] * 1024;
            memset(value, fill[queued], n);
            const char *argv[] = {"SET", "k", value};
            const size_t lens[] = {3, 1, n};
            bool spare_holds = c->spare != NULL && c->spare_cap >= n + 32;
            char *spare = c->spare;
            assert_int_equal(sl_redis_conn_command(c, 3, argv, lens, 0,
                                                   on_reply, &rep, &err),
                             0);
            /* 70 and 120 KiB fit the spare (of 100 and 150): taken */
            assert_int_equal(spare_holds, queued == 1 || queued == 3);
            if (spare_holds)
                assert_ptr_equal(c->tail->buf, spare);
            assert_null(spare_holds ? c->spare : NULL);
            nwant = set_resp(want, n, fill[queued]);
            ngot = 0;
            replied = false;
            queued++;
        }
        if (cfd >= 0 && !replied) {
            /* the handshake's PING (14 bytes), then the command */
            ssize_t r = read(cfd, got + ngot, (ponged ? nwant : 14) - ngot);
            ngot += r > 0 ? (size_t)r : 0;
            if (!ponged && ngot == 14) {
                assert_memory_equal(got, "*1\r\n$4\r\nPING\r\n", 14);
                assert_int_equal(write(cfd, "+PONG\r\n", 7), 7);
                ponged = true;
                ngot = 0;
            } else if (ponged && queued > answered && ngot == nwant) {
                assert_memory_equal(got, want, nwant);
                assert_int_equal(write(cfd, "+OK\r\n", 5), 5);
                replied = true;
            }
        }
        pass_with_fake(c, lfd, &cfd);
        if (rep.calls > (int)answered) {
            assert_int_equal(rep.status, SL_REDIS_OK);
            answered++;
            /* written: the largest buffer so far is the spare */
            size_t largest = answered > 2 ? 150 : 100;
            assert_non_null(c->spare);
            assert_true(c->spare_cap >= largest * 1024);
            assert_true(c->spare_cap < largest * 1024 + 64);
        }
    }
    assert_int_equal(answered, 4);
    sl_redis_conn_free(c);
    close(cfd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_forms),
        cmocka_unit_test(url_forms_more),
        cmocka_unit_test(url_errors_say_what_to_fix_and_hide_the_password),
        cmocka_unit_test(url_lengths),
        cmocka_unit_test(key_slots),
        cmocka_unit_test(redirections),
        cmocka_unit_test(backoff_doubles_within_bounds),
        cmocka_unit_test(resolver_answers_through_its_fd),
        cmocka_unit_test(refused_is_retried_and_commands_end_by_deadline),
        cmocka_unit_test(limits_and_free),
        cmocka_unit_test(key_index_is_checked),
        cmocka_unit_test(silent_or_garbled_server),
        cmocka_unit_test(replies_fed_one_byte_at_a_time),
        cmocka_unit_test(next_address_at_once),
        cmocka_unit_test(large_commands_reuse_the_written_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
