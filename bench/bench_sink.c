/* bench_sink.c: a stand-in for Elasticsearch that answers every `_bulk`
 * request at once with success, so that bench_indexer.sh measures the
 * indexer's own cost (and, with --save, keeps the bodies for the curl
 * replay against the real Elasticsearch).
 *
 *   gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       bench/bench_sink.c -o bench/out/bin/bench-sink
 *   bench/out/bin/bench-sink [--port N] [--save DIR] [--delay MS]
 *
 * One thread, one poll loop, HTTP/1.1 keep-alive, bodies with
 * Content-Length (what libcurl sends; no chunked, no Expect). A POST is
 * answered 200 with {"errors":false,"items":[...]}: one item per two lines
 * of the body (action and source), each shaped as Elasticsearch 8 answers a
 * `create` (about 190 bytes), errors first, as ES 8 orders them, so the
 * indexer's parser takes its real path; with filter_path in the URL, as
 * the filtered answer: {"create":{"status":201}}. Any other request (GET /)
 * gets a small ES-like root document. Prints "port N" on stdout once listening;
 * on SIGTERM or SIGINT prints requests, items, body bytes and its own
 * CPU-seconds on stderr, so a run can show the sink was not the limit.
 * --delay MS: each POST is answered MS ms after it came, one at a time (the
 * sink sleeps): a slow Elasticsearch, to see the indexer's memory when
 * every request it may have in flight is waiting. To drive the indexer's
 * retry and split paths (e.g. under ASan): --fail-every N answers every
 * Nth item it sees with a 429 (the indexer sends it again), --max-body B
 * answers 413 to a body over B bytes (the indexer splits it), --dead-every
 * N answers an item 400 mapper_parsing_exception (to the dead letters);
 * "items" then counts the items created (answered 201). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 128
#define BODY_MAX  ((size_t)256 << 20)

static const char ITEM[] =
    "{\"create\":{\"_index\":\"sluice-2025.11.21\",\"_id\":"
    "\"AbCdEfGhIjKlMnOpQrStUv\",\"_version\":1,\"result\":\"created\","
    "\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"_seq_no\":"
    "1234567,\"_primary_term\":1,\"status\":201}}";
/* with ?filter_path=errors,...,items.*.status,items.*.error */
static const char ITEM_FILTERED[] = "{\"create\":{\"status\":201}}";
static const char ITEM_429[] =
    "{\"create\":{\"status\":429,\"error\":{\"type\":"
    "\"es_rejected_execution_exception\",\"reason\":\"sink: try again\"}}}";
static const char ITEM_400[] =
    "{\"create\":{\"status\":400,\"error\":{\"type\":"
    "\"mapper_parsing_exception\",\"reason\":\"sink: refused\"}}}";
static const char ROOT[] =
    "{\"name\":\"sink\",\"cluster_name\":\"sink\",\"version\":{\"number\":"
    "\"8.15.0\",\"distribution\":\"elasticsearch\"},\"tagline\":\"You Know, "
    "for Search\"}";

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
};

static volatile sig_atomic_t stop;
static unsigned long long n_requests, n_items, n_bytes, n_saved;
static const char *save_dir;
static long delay_ms;
static unsigned long long fail_every, dead_every, max_body, n_seen, n_failed,
    n_dead, n_413;
static char *out;
static size_t out_cap;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-sink: %s: %s\n", what, why);
    exit(1);
}

static void die_errno(const char *what)
{
    char msg[256] = "unknown error";
    int e = errno;
    (void)strerror_r(e, msg, sizeof msg);
    die(what, msg);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void save_body(const char *body, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%06llu.ndjson", save_dir, n_saved++);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write_all(fd, body, len) < 0)
        die_errno(path);
    close(fd);
}

static size_t count_items(const char *body, size_t len)
{
    size_t lines = 0;
    const char *p = body, *end = body + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    if (len > 0 && body[len - 1] != '\n')
        lines++;
    return lines / 2;
}

static int answer(int fd, bool post, bool filtered, const char *body,
                  size_t len)
{
    const char *item = filtered ? ITEM_FILTERED : ITEM;
    size_t items = post ? count_items(body, len) : 0;
    size_t need = 128 + items * sizeof ITEM + sizeof ROOT;
    if (post && delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, delay_ms % 1000 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (need > out_cap) {
        out = realloc(out, need);
        if (out == NULL)
            die("answer", "out of memory");
        out_cap = need;
    }
    size_t n = 0;
    if (post && max_body > 0 && len > max_body) {
        n_413++;
        n_requests++;
        static const char too[] = "HTTP/1.1 413 Request Entity Too Large\r\n"
                                  "content-length: 0\r\n\r\n";
        return write_all(fd, too, sizeof too - 1);
    }
    if (post) {
        bool errors = fail_every > 0 || dead_every > 0;
        n = (size_t)snprintf(out, out_cap, "{\"errors\":%s,%s\"items\":[",
                             errors ? "true" : "false",
                             filtered ? "" : "\"took\":1,");
        for (size_t i = 0; i < items; i++) {
            bool fail = fail_every > 0 && ++n_seen % fail_every == 0;
            bool dead = !fail && dead_every > 0 && n_seen % dead_every == 1;
            const char *it = fail ? ITEM_429 : dead ? ITEM_400 : item;
            size_t it_len = strlen(it);
            if (i > 0)
                out[n++] = ',';
            memcpy(out + n, it, it_len);
            n += it_len;
            n_failed += fail;
            n_dead += dead;
            n_items += !fail && !dead;
        }
        out[n++] = ']';
        out[n++] = '}';
        n_bytes += len;
        if (save_dir != NULL)
            save_body(body, len);
    } else {
        memcpy(out, ROOT, sizeof ROOT - 1);
        n = sizeof ROOT - 1;
    }
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     "content-length: %zu\r\n\r\n",
                     n);
    n_requests++;
    return write_all(fd, head, (size_t)h) < 0 || write_all(fd, out, n) < 0 ? -1
                                                                           : 0;
}

/* Answers every whole request in c->buf; -1 to close. */
static int serve(struct conn *c)
{
    for (;;) {
        char *end = NULL;
        /* headers are short: never rescan a body that is arriving */
        size_t scan = c->len < 16384 ? c->len : 16384;
        for (size_t i = 0; i + 3 < scan; i++)
            if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
                end = c->buf + i + 4;
                break;
            }
        if (end == NULL)
            return c->len < 16384 ? 0 : -1;
        size_t head = (size_t)(end - c->buf), clen = 0;
        for (char *p = c->buf; p < end; p++)
            if ((p == c->buf || p[-1] == '\n') &&
                strncasecmp(p, "content-length:", 15) == 0)
                clen = strtoull(p + 15, NULL, 10);
        if (clen > BODY_MAX)
            return -1;
        if (c->len < head + clen)
            return 0;
        bool post = strncmp(c->buf, "POST ", 5) == 0;
        char *eol = memchr(c->buf, '\n', head);
        bool filtered = false;
        for (char *p = c->buf; eol != NULL && p + 12 < eol; p++)
            if (memcmp(p, "filter_path=", 12) == 0)
                filtered = true;
        if (answer(c->fd, post, filtered, end, clen) < 0)
            return -1;
        memmove(c->buf, c->buf + head + clen, c->len - head - clen);
        c->len -= head + clen;
    }
}

static int on_readable(struct conn *c)
{
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 1 << 20;
        char *b = realloc(c->buf, cap);
        if (b == NULL)
            die("read", "out of memory");
        c->buf = b;
        c->cap = cap;
    }
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    return serve(c);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
        die_errno("listen");
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--save") && i + 1 < argc)
            save_dir = argv[++i];
        else if (!strcmp(argv[i], "--delay") && i + 1 < argc)
            delay_ms = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--fail-every") && i + 1 < argc)
            fail_every = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dead-every") && i + 1 < argc)
            dead_every = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-body") && i + 1 < argc)
            max_body = strtoull(argv[++i], NULL, 10);
        else
            die("usage", "[--port N] [--save DIR] [--delay MS] "
                         "[--fail-every N] [--dead-every N] "
                         "[--max-body BYTES]");
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int lfd = listen_on(port);
    struct conn conns[MAX_CONNS];
    struct pollfd pfds[MAX_CONNS + 1];
    size_t n = 0;
    while (!stop) {
        pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pfds[1 + i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(pfds, 1 + n, 1000) < 0)
            continue;
        for (size_t i = n; i-- > 0;) {
            if (!(pfds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (on_readable(&conns[i]) < 0) {
                close(conns[i].fd);
                free(conns[i].buf);
                conns[i] = conns[--n];
            }
        }
        if ((pfds[0].revents & POLLIN) && n < MAX_CONNS) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0)
                conns[n++] = (struct conn){.fd = fd};
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "sink: %llu requests, %llu items, %llu body bytes, cpu %.3f s "
            "(user %.3f sys %.3f)\n",
            n_requests, n_items, n_bytes,
            (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    if (fail_every || dead_every || max_body)
        fprintf(stderr,
                "sink: %llu items answered 429, %llu 400, %llu requests "
                "413\n",
                n_failed, n_dead, n_413);
    return 0;
}
