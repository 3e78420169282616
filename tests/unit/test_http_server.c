/* test_http_server.c: the metrics endpoint as a scraper, curl and a
 * misbehaving client see it, over real sockets on 127.0.0.1 and ::1. The
 * test drives the server from its own poll loop (pump()), as the daemons
 * will: server fds plus the client's socket, every wait bounded by a
 * deadline. Also the request parser on its own, byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_http_server.h"
#include "sl_metrics.h"

extern char **environ;

#define DEADLINE_MS 5000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a server with /metrics and /status over a small registry ---- */

struct fixture {
    struct sl_metrics *m;
    struct sl_http_server *s;
    int fail_status; /* /status fails when set: the 500 path */
};

static int metrics_handler(void *ctx, struct sl_buf *body,
                           const char **content_type, struct sl_err *err)
{
    struct fixture *fx = ctx;
    *content_type = SL_METRICS_PROMETHEUS_TYPE;
    return sl_metrics_render_prometheus(fx->m, body, err);
}

static int status_handler(void *ctx, struct sl_buf *body,
                          const char **content_type, struct sl_err *err)
{
    struct fixture *fx = ctx;
    if (fx->fail_status)
        return sl_err_set(err, SL_EIO, "redis is down");
    *content_type = "application/json";
    return sl_metrics_render_json(fx->m, body, err);
}

static int big_handler(void *ctx, struct sl_buf *body,
                       const char **content_type, struct sl_err *err)
{
    (void)ctx;
    (void)content_type;
    if (sl_buf_reserve(body, 8u << 20, err) < 0)
        return -1;
    memset(body->ptr, 'x', 8u << 20);
    body->len = 8u << 20;
    return 0;
}

/* The request's query, as the handler sees it, in brackets. */
static int echo_handler(void *ctx, struct sl_buf *body,
                        const char **content_type, struct sl_err *err)
{
    struct fixture *fx = ctx;
    struct sl_slice q = sl_http_server_query(fx->s);
    (void)content_type;
    return sl_buf_printf(body, err, "[%.*s]", (int)q.len, q.ptr);
}

static struct fixture *start(const char *addr, int max_clients, int idle_ms)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct sl_err err = {0};
    fx->m = sl_metrics_new();
    sl_counter_add(sl_metrics_counter(fx->m, "sluice_lines_read_total",
                                      "Lines read.", &err),
                   42);
    struct sl_http_server_config cfg = {.address = addr,
                                        .max_clients = max_clients,
                                        .idle_timeout_ms = idle_ms};
    fx->s = sl_http_server_new(&cfg, &err);
    if (fx->s == NULL)
        fail_msg("cannot start the server on %s: %s", addr, err.msg);
    assert_int_equal(
        sl_http_server_route(fx->s, "/metrics", metrics_handler, fx, &err), 0);
    assert_int_equal(
        sl_http_server_route(fx->s, "/status", status_handler, fx, &err), 0);
    assert_int_equal(sl_http_server_route(fx->s, "/big", big_handler, fx, &err),
                     0);
    assert_true(sl_http_server_port(fx->s) > 0);
    return fx;
}

static void stop(struct fixture *fx)
{
    sl_http_server_free(fx->s);
    sl_metrics_free(fx->m);
    free(fx);
}

/* ---- the test's poll loop ---- */

/* One round of the loop: polls the server's fds and, if fd >= 0, the
 * client's socket; serves the server; appends what the client got to
 * out. Returns 1 when the client's socket reached EOF, else 0. */
static int pump_once(struct sl_http_server *s, int fd, struct sl_buf *out,
                     int max_wait_ms)
{
    struct pollfd pfds[SL_HTTP_MAX_POLLFDS + 1];
    size_t n = sl_http_server_fill_pollfds(s, pfds, SL_HTTP_MAX_POLLFDS);
    size_t total = n;
    if (fd >= 0)
        pfds[total++] = (struct pollfd){fd, POLLIN, 0};
    int t = sl_http_server_timeout_ms(s);
    if (t < 0 || t > max_wait_ms)
        t = max_wait_ms;
    int rc = poll(pfds, total, t);
    assert_true(rc >= 0 || errno == EINTR);
    sl_http_server_handle(s, pfds, n);
    if (fd < 0 || pfds[n].revents == 0)
        return 0;
    char buf[65536];
    ssize_t got = read(fd, buf, sizeof buf); /* a socket or a pipe */
    if (got > 0) {
        assert_int_equal(sl_buf_append(out, buf, (size_t)got, NULL), 0);
        return 0;
    }
    return got == 0 || errno == ECONNRESET ? 1 : 0;
}

/* Runs the loop until the client's socket ends; fails after DEADLINE_MS. */
static void pump_until_eof(struct sl_http_server *s, int fd, struct sl_buf *out)
{
    int64_t end = now_ms() + DEADLINE_MS;
    while (!pump_once(s, fd, out, 50))
        if (now_ms() > end)
            fail_msg("no EOF from the server within %d ms", DEADLINE_MS);
}

static void pump_until_clients(struct sl_http_server *s, size_t want)
{
    struct sl_buf none = SL_BUF_INIT(0);
    int64_t end = now_ms() + DEADLINE_MS;
    while (sl_http_server_clients(s) != want) {
        pump_once(s, -1, &none, 20);
        if (now_ms() > end)
            fail_msg("server has %zu clients, expected %zu",
                     sl_http_server_clients(s), want);
    }
}

static int connect_to(int family, uint16_t port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* the kernel completes a loopback connect from the listen backlog,
     * before the server's accept() */
    assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

/* Sends raw over a new connection and returns the whole response. */
static char *exchange(struct fixture *fx, int family, const char *raw,
                      size_t len)
{
    struct sl_buf out = SL_BUF_INIT(16 << 20);
    size_t before = sl_http_server_clients(fx->s);
    int fd = connect_to(family, sl_http_server_port(fx->s));
    send_all(fd, raw, len);
    pump_until_eof(fx->s, fd, &out);
    close(fd);
    pump_until_clients(fx->s, before); /* the server saw the close */
    return sl_buf_take(&out);
}

static char *get(struct fixture *fx, const char *raw)
{
    return exchange(fx, AF_INET, raw, strlen(raw));
}

static char *prometheus_text(struct fixture *fx)
{
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    assert_int_equal(sl_metrics_render_prometheus(fx->m, &b, NULL), 0);
    return sl_buf_take(&b);
}

static void assert_response(const char *got, int status, const char *reason,
                            const char *ctype, const char *extra,
                            const char *body)
{
    char want[4096];
    snprintf(want, sizeof want,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "%sConnection: close\r\n\r\n%s",
             status, reason, ctype, strlen(body), extra, body);
    assert_string_equal(got, want);
}

#define TEXT "text/plain; charset=utf-8"

/* ---- what a scraper gets ---- */

static void get_metrics_on_ipv4(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    char *body = prometheus_text(fx);
    char *got = get(fx, "GET /metrics?debug=1 HTTP/1.1\r\nHost: x\r\n"
                        "User-Agent: Prometheus/2.45\r\n\r\n");
    assert_response(got, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                    "", body);
    assert_non_null(strstr(got, "\nsluice_lines_read_total 42\n"));
    free(got);
    free(body);
    stop(fx);
}

static void get_status_on_ipv6(void **state)
{
    (void)state;
    struct fixture *fx = start("[::1]:0", 0, 0);
    const char *req = "GET /status HTTP/1.0\n\n"; /* bare LF, HTTP/1.0 */
    char *got = exchange(fx, AF_INET6, req, strlen(req));
    assert_response(got, 200, "OK", "application/json", "",
                    "{\"sluice_lines_read_total\":42}");
    free(got);
    stop(fx);
}

static void head_has_the_length_but_no_body(void **state)
{
    (void)state;
    struct fixture *fx = start("localhost:0", 0, 0);
    char *body = prometheus_text(fx);
    char *got = get(fx, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    char want[256];
    snprintf(want, sizeof want,
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
             "charset=utf-8\r\nContent-Length: %zu\r\nConnection: "
             "close\r\n\r\n",
             strlen(body));
    assert_string_equal(got, want);
    free(got);
    free(body);
    stop(fx);
}

static void errors_have_status_and_a_reason(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    char *got = get(fx, "GET /metric HTTP/1.1\r\n\r\n");
    assert_response(got, 404, "Not Found", TEXT, "",
                    "not found; this server answers /metrics, /status, "
                    "/big\n");
    free(got);
    got = get(fx, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_response(got, 405, "Method Not Allowed", TEXT,
                    "Allow: GET, HEAD\r\n",
                    "method not allowed; use GET or HEAD\n");
    free(got);
    static const char *const bad[] = {
        "GET /metrics\r\n\r\n",           /* no version */
        "GET metrics HTTP/1.1\r\n\r\n",   /* not a path */
        "GET /metrics HTTP/2.0\r\n\r\n",  /* not HTTP/1.x */
        "GET  /metrics HTTP/1.1\r\n\r\n", /* two spaces */
        "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "\x16\x03\x01\x02\x00", /* a TLS hello: refused before any newline */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        got = get(fx, bad[i]);
        assert_response(got, 400, "Bad Request", TEXT, "", "bad request\n");
        free(got);
    }
    fx->fail_status = 1;
    got = get(fx, "GET /status HTTP/1.1\r\n\r\n");
    assert_response(got, 500, "Internal Server Error", TEXT, "",
                    "internal error; the daemon's log says why\n");
    free(got);
    stop(fx);
}

static void nine_kib_of_headers_get_431(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    struct sl_buf req = SL_BUF_INIT(1 << 16);
    assert_int_equal(sl_buf_append_str(&req, "GET /metrics HTTP/1.1\r\n", NULL),
                     0);
    while (req.len < 9 * 1024)
        assert_int_equal(
            sl_buf_append_str(
                &req, "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", NULL),
            0);
    assert_int_equal(sl_buf_append_str(&req, "\r\n", NULL), 0);
    char *got = exchange(fx, AF_INET, req.ptr, req.len);
    assert_response(got, 431, "Request Header Fields Too Large", TEXT, "",
                    "request header fields too large; the limit is 8192 "
                    "bytes\n");
    free(got);
    /* a request line of 9 KiB is a 414 */
    sl_buf_reset(&req);
    assert_int_equal(sl_buf_append_str(&req, "GET /", NULL), 0);
    while (req.len < 9 * 1024)
        assert_int_equal(sl_buf_append_char(&req, 'a', NULL), 0);
    assert_int_equal(sl_buf_append_str(&req, " HTTP/1.1\r\n\r\n", NULL), 0);
    got = exchange(fx, AF_INET, req.ptr, req.len);
    assert_response(got, 414, "URI Too Long", TEXT, "",
                    "request line too long\n");
    free(got);
    sl_buf_release(&req);
    stop(fx);
}

static void request_in_one_byte_writes(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    char *body = prometheus_text(fx);
    const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    struct sl_buf out = SL_BUF_INIT(1 << 20);
    int fd = connect_to(AF_INET, sl_http_server_port(fx->s));
    for (size_t i = 0; req[i] != '\0'; i++) {
        send_all(fd, req + i, 1);
        /* the server reads what has come, and waits for more */
        pump_once(fx->s, fd, &out, 5);
        if (req[i + 1] != '\0') {
            assert_int_equal(sl_http_server_clients(fx->s), 1);
            assert_int_equal(out.len, 0);
        }
    }
    pump_until_eof(fx->s, fd, &out);
    close(fd);
    assert_response(out.ptr, 200, "OK",
                    "text/plain; version=0.0.4; charset=utf-8", "", body);
    sl_buf_release(&out);
    free(body);
    stop(fx);
}

static void silent_client_is_closed_after_the_timeout(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 200);
    struct sl_buf out = SL_BUF_INIT(1 << 10);
    int fd = connect_to(AF_INET, sl_http_server_port(fx->s));
    int64_t t0 = now_ms();
    pump_until_clients(fx->s, 1);
    /* and one that sent half a request */
    int fd2 = connect_to(AF_INET, sl_http_server_port(fx->s));
    send_all(fd2, "GET /metrics HT", 15);
    pump_until_eof(fx->s, fd, &out);
    int64_t took = now_ms() - t0;
    assert_true(took >= 190 && took < 2000);
    assert_int_equal(out.len, 0); /* closed without an answer */
    pump_until_eof(fx->s, fd2, &out);
    assert_int_equal(out.len, 0);
    assert_int_equal(sl_http_server_clients(fx->s), 0);
    assert_int_equal(sl_http_server_timeout_ms(fx->s), -1);
    close(fd);
    close(fd2);
    stop(fx);
}

static void too_many_clients_get_503_then_service_recovers(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 2, 0);
    uint16_t port = sl_http_server_port(fx->s);
    int a = connect_to(AF_INET, port), b = connect_to(AF_INET, port);
    pump_until_clients(fx->s, 2);
    char *got = get(fx, "GET /metrics HTTP/1.1\r\n\r\n");
    assert_response(got, 503, "Service Unavailable", TEXT, "Retry-After: 1\r\n",
                    "too many connections; try again later\n");
    free(got);
    assert_int_equal(sl_http_server_clients(fx->s), 2);
    close(a);
    pump_until_clients(fx->s, 1);
    got = get(fx, "GET /status HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(got, "HTTP/1.1 200 OK\r\n"));
    free(got);
    close(b);
    pump_until_clients(fx->s, 0);
    stop(fx);
}

/* A client that asks for 8 MiB and leaves before the answer: its FIN puts
 * the server's socket in CLOSE_WAIT, so the RST that the first bytes of
 * the answer draw makes the next send fail with EPIPE, which without
 * MSG_NOSIGNAL raises SIGPIPE and ends this process. */
static void client_leaving_before_the_response_does_not_kill(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    for (int round = 0; round < 3; round++) {
        int fd = connect_to(AF_INET, sl_http_server_port(fx->s));
        send_all(fd, "GET /big HTTP/1.1\r\n\r\n", 21);
        close(fd);
        pump_until_clients(fx->s, 1);
        pump_until_clients(fx->s, 0);
    }
    char *got = get(fx, "GET /status HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(got, "HTTP/1.1 200 OK\r\n"));
    free(got);
    stop(fx);
}

/* Garbage over real sockets: random bytes, sometimes after a valid
 * request line, then the client's end of the stream. Every connection gets
 * one well-formed response or none (for a head that never completed), and
 * the server keeps serving. */
static void random_bytes_never_break_the_server(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    static const char *const prefixes[] = {"", "GET /metrics HTTP/1.1\r\n",
                                           "GET ", "HEAD /status HTTP/1.0\n"};
    static char junk[10000];
    uint32_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        size_t plen = strlen(prefixes[round % 4]), len;
        memcpy(junk, prefixes[round % 4], plen);
        seed = seed * 1103515245u + 12345u;
        len = plen + (seed >> 8) % (sizeof junk - plen);
        for (size_t i = plen; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            /* a third of the bytes from the characters HTTP uses most */
            junk[i] = (seed >> 24) % 3 == 0 ? "\r\n :/aG"[(seed >> 8) % 8]
                                            : (char)(seed >> 16);
        }
        struct sl_buf out = SL_BUF_INIT(1 << 20);
        int fd = connect_to(AF_INET, sl_http_server_port(fx->s));
        send_all(fd, junk, len);
        shutdown(fd, SHUT_WR);
        pump_until_eof(fx->s, fd, &out);
        close(fd);
        if (out.len > 0 && strncmp(out.ptr, "HTTP/1.1 ", 9) != 0)
            fail_msg("round %d: response starts with '%.20s'", round, out.ptr);
        sl_buf_release(&out);
    }
    pump_until_clients(fx->s, 0);
    char *got = get(fx, "GET /status HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(got, "HTTP/1.1 200 OK\r\n"));
    free(got);
    stop(fx);
}

/* ---- curl, the real client ---- */

static void curl_reads_metrics(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics",
             (unsigned)sl_http_server_port(fx->s));
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    const char *const args[] = {"curl",       "-sS", "--include",
                                "--max-time", "5",   "--noproxy",
                                "*",          url,   NULL};
    char *argv[sizeof args / sizeof args[0]];
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        argv[i] = (char *)args[i]; /* posix_spawn's type; not written */
    pid_t pid;
    int rc = posix_spawnp(&pid, "curl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    assert_int_equal(rc, 0);
    struct sl_buf out = SL_BUF_INIT(1 << 20);
    pump_until_eof(fx->s, pipefd[0], &out);
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *body = prometheus_text(fx);
    assert_response(out.ptr, 200, "OK",
                    "text/plain; version=0.0.4; charset=utf-8", "", body);
    free(body);
    sl_buf_release(&out);
    stop(fx);
}

/* ---- refusals at listen time ---- */

static void expect_listen_error(const char *addr, bool allow, const char *want)
{
    struct sl_err err = {0};
    struct sl_http_server_config cfg = {.address = addr,
                                        .allow_non_loopback = allow};
    assert_null(sl_http_server_new(&cfg, &err));
    assert_string_equal(err.msg, want);
}

static void non_loopback_and_bad_addresses_are_refused(void **state)
{
    (void)state;
    expect_listen_error(
        "0.0.0.0:9600", false,
        "metrics address '0.0.0.0:9600' is not a loopback address, and the "
        "counters are not meant to be public; listen on 127.0.0.1, [::1] or "
        "localhost");
    expect_listen_error(
        "[::]:9600", false,
        "metrics address '[::]:9600' is not a loopback address, and the "
        "counters are not meant to be public; listen on 127.0.0.1, [::1] or "
        "localhost");
    expect_listen_error(
        "10.1.2.3:0", false,
        "metrics address '10.1.2.3:0' is not a loopback address, and the "
        "counters are not meant to be public; listen on 127.0.0.1, [::1] or "
        "localhost");
    expect_listen_error("example.com:9600", false,
                        "metrics address 'example.com:9600': 'example.com' "
                        "is not an IP address; use 127.0.0.1, [::1] or "
                        "localhost");
    expect_listen_error("::1:9600", false,
                        "metrics address '::1:9600': write an IPv6 address "
                        "in brackets, as in [::1]:9600");
    expect_listen_error("127.0.0.1", false,
                        "metrics address '127.0.0.1' is not HOST:PORT; write "
                        "127.0.0.1:9600, [::1]:9600 or localhost:9600");
    expect_listen_error("127.0.0.1:65536", false,
                        "metrics address '127.0.0.1:65536': port '65536' is "
                        "not a number from 0 to 65535");
    expect_listen_error("127.0.0.1:", false,
                        "metrics address '127.0.0.1:': port '' is not a "
                        "number from 0 to 65535");
    /* 127.0.0.0/8 is all loopback; an allowed public address gets as far as
     * bind (TEST-NET-1 is not on this host) */
    struct sl_err err = {0};
    struct sl_http_server_config cfg = {.address = "127.0.0.2:0"};
    struct sl_http_server *s = sl_http_server_new(&cfg, &err);
    assert_non_null(s);
    sl_http_server_free(s);
    expect_listen_error("192.0.2.1:9600", true,
                        "metrics address 192.0.2.1:9600 is not available on "
                        "this host (no such local address, or IPv6 is off); "
                        "use 127.0.0.1");
}

static void port_in_use_says_what_to_do(void **state)
{
    (void)state;
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    char addr[64], want[256];
    unsigned port = sl_http_server_port(fx->s);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    snprintf(want, sizeof want,
             "metrics address 127.0.0.1:%u is in use; pick another port or "
             "stop the other process (ss -ltnp 'sport = :%u' shows it)",
             port, port);
    struct sl_err err = {0};
    struct sl_http_server_config cfg = {.address = addr};
    assert_null(sl_http_server_new(&cfg, &err));
    assert_int_equal(err.status, SL_EIO);
    assert_string_equal(err.msg, want);
    stop(fx);
}

/* ---- the parser alone ---- */

static void parser_waits_for_the_blank_line_at_every_prefix(void **state)
{
    (void)state;
    const char *req = "GET /a/b?x=1#f HTTP/1.1\r\nHost: h\r\nX:\r\n\r\nBODY";
    size_t head = strlen(req) - 4;
    struct sl_http_request r;
    for (size_t n = 0; n < head; n++)
        assert_int_equal(sl_http_parse_request(req, n, 8192, &r),
                         SL_HTTP_PARSE_INCOMPLETE);
    assert_int_equal(sl_http_parse_request(req, strlen(req), 8192, &r),
                     SL_HTTP_PARSE_DONE);
    assert_int_equal(r.head_len, head);
    assert_true(sl_slice_eq(r.method, "GET", 3));
    assert_true(sl_slice_eq(r.target, "/a/b?x=1#f", 10));
    assert_true(sl_slice_eq(r.path, "/a/b", 4));
    assert_int_equal(r.minor_version, 1);
    /* the limit counts the whole head, blank line included */
    assert_int_equal(sl_http_parse_request(req, strlen(req), head, &r),
                     SL_HTTP_PARSE_DONE);
    assert_int_equal(sl_http_parse_request(req, strlen(req), head - 1, &r),
                     SL_HTTP_PARSE_HEADERS_TOO_LARGE);
    /* a bad method is refused before its line ends */
    assert_int_equal(sl_http_parse_request("GE(", 3, 8192, &r),
                     SL_HTTP_PARSE_BAD);
    assert_int_equal(sl_http_parse_request(" GET", 4, 8192, &r),
                     SL_HTTP_PARSE_BAD);
    assert_int_equal(
        sl_http_parse_request("GET /\0 HTTP/1.1\n\n", 17, 8192, &r),
        SL_HTTP_PARSE_BAD);
    assert_int_equal(
        sl_http_parse_request("GET / HTTP/1.1\nA: \0\n\n", 21, 8192, &r),
        SL_HTTP_PARSE_BAD);
}

/* A handler reads the query: after '?', up to a '#', raw; empty without
 * one; and the route still matches on the path alone. */
static void handler_reads_the_query(void **state)
{
    (void)state;
    static const struct {
        const char *target, *want;
    } cases[] = {{"/echo", "[]"},
                 {"/echo?", "[]"},
                 {"/echo?after=%2Fvar%2Flog&x=1", "[after=%2Fvar%2Flog&x=1]"},
                 {"/echo?a=b#frag", "[a=b]"},
                 {"/echo#frag?a=b", "[]"}};
    struct fixture *fx = start("127.0.0.1:0", 0, 0);
    assert_int_equal(
        sl_http_server_route(fx->s, "/echo", echo_handler, fx, NULL), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", cases[i].target);
        char *got = get(fx, req);
        assert_response(got, 200, "OK", TEXT, "", cases[i].want);
        free(got);
    }
    struct sl_slice q = sl_http_server_query(fx->s);
    assert_int_equal(q.len, 0); /* none outside a handler */
    stop(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_metrics_on_ipv4),
        cmocka_unit_test(get_status_on_ipv6),
        cmocka_unit_test(head_has_the_length_but_no_body),
        cmocka_unit_test(errors_have_status_and_a_reason),
        cmocka_unit_test(nine_kib_of_headers_get_431),
        cmocka_unit_test(request_in_one_byte_writes),
        cmocka_unit_test(silent_client_is_closed_after_the_timeout),
        cmocka_unit_test(too_many_clients_get_503_then_service_recovers),
        cmocka_unit_test(client_leaving_before_the_response_does_not_kill),
        cmocka_unit_test(random_bytes_never_break_the_server),
        cmocka_unit_test(curl_reads_metrics),
        cmocka_unit_test(non_loopback_and_bad_addresses_are_refused),
        cmocka_unit_test(port_in_use_says_what_to_do),
        cmocka_unit_test(parser_waits_for_the_blank_line_at_every_prefix),
        cmocka_unit_test(handler_reads_the_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
