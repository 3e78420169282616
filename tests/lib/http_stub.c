/* http_stub.c: see http_stub.h. One accept thread, one thread per
 * connection (joined at stop); a pipe written at stop wakes every poll. */
#include "http_stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_CONN 256
#define HEAD_MAX 65536

struct http_stub {
    int lfd, stop_pipe[2];
    uint16_t port;
    const char *forward;
    pthread_t acceptor;
    pthread_mutex_t mu;
    enum stub_action script[HTTP_STUB_MAX_SCRIPT], then;
    size_t nscript, max_body, nreq;
    int delay_ms;
    int64_t req_ms[HTTP_STUB_MAX_REQUESTS];
    size_t req_len[HTTP_STUB_MAX_REQUESTS];
    pthread_t conns[MAX_CONN];
    size_t nconns;
};

struct conn {
    struct http_stub *st;
    int fd;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
    fprintf(stderr, "http_stub: ");
    perror(what);
    abort();
}

/* Waits until fd is readable or the stub stops; false on stop. */
static bool wait_readable(struct http_stub *st, int fd)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {st->stop_pipe[0], POLLIN, 0}};
    while (poll(p, 2, -1) < 0)
        if (errno != EINTR)
            return false;
    return p[1].revents == 0;
}

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        len -= (size_t)k;
    }
}

static void answer(int fd, int status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d Stub\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static const char *header(const char *head, const char *name, char *out,
                          size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL;
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, outsz, "%.*s", (int)(e - v), v);
            return out;
        }
    }
    return NULL;
}

struct sink {
    char *p;
    size_t len;
};

static size_t sink_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    char *np = realloc(s->p, s->len + size * n + 1);
    if (np == NULL)
        return 0;
    memcpy(np + s->len, ptr, size * n);
    s->p = np;
    s->len += size * n;
    s->p[s->len] = '\0';
    return size * n;
}

/* POSTs the request to the real node; the status, body in *out. */
static long forward(struct http_stub *st, const char *path, const char *head,
                    const char *body, size_t len, struct sink *out)
{
    char url[1024], v[256], h1[300], h2[300];
    struct curl_slist *hs = NULL;
    long status = 502;
    CURL *c;

    if (st->forward == NULL || (c = curl_easy_init()) == NULL)
        return 502;
    snprintf(url, sizeof url, "%s%s", st->forward, path);
    snprintf(h1, sizeof h1, "Content-Type: %s",
             header(head, "Content-Type", v, sizeof v) ? v : "");
    hs = curl_slist_append(hs, h1);
    if (header(head, "Content-Encoding", v, sizeof v) != NULL) {
        snprintf(h2, sizeof h2, "Content-Encoding: %s", v);
        hs = curl_slist_append(hs, h2);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return status;
}

/* Reads one request: head (NUL-terminated) and body; false on EOF/stop. */
static bool read_request(struct http_stub *st, int fd, char *head, char **body,
                         size_t *blen)
{
    size_t used = 0, cl = 0, have;
    char *end = NULL, v[64];

    while (end == NULL) {
        ssize_t k;
        if (used + 1 >= HEAD_MAX || !wait_readable(st, fd))
            return false;
        if ((k = recv(fd, head + used, HEAD_MAX - 1 - used, 0)) <= 0)
            return false;
        used += (size_t)k;
        head[used] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    if (header(head, "Content-Length", v, sizeof v) != NULL)
        cl = strtoul(v, NULL, 10);
    *body = malloc(cl + 1);
    have = used - (size_t)(end + 4 - head);
    memcpy(*body, end + 4, have);
    while (have < cl) {
        ssize_t k;
        if (!wait_readable(st, fd) ||
            (k = recv(fd, *body + have, cl - have, 0)) <= 0) {
            free(*body);
            return false;
        }
        have += (size_t)k;
    }
    end[2] = '\0'; /* the head keeps its last header's CRLF */
    *blen = cl;
    return true;
}

/* The target of the request line "POST /_bulk?x HTTP/1.1". */
static void request_path(const char *head, char *out, size_t outsz)
{
    const char *p = strchr(head, ' '), *e;
    p = p != NULL ? p + 1 : head;
    e = p + strcspn(p, " \r\n");
    snprintf(out, outsz, "%.*s", (int)(e - p), p);
}

static enum stub_action next_action(struct http_stub *st, size_t len)
{
    enum stub_action a;
    pthread_mutex_lock(&st->mu);
    a = st->nreq < st->nscript ? st->script[st->nreq] : st->then;
    if (st->max_body > 0 && len > st->max_body)
        a = STUB_413;
    if (st->nreq < HTTP_STUB_MAX_REQUESTS) {
        st->req_ms[st->nreq] = mono_ms();
        st->req_len[st->nreq] = len;
    }
    st->nreq++;
    pthread_mutex_unlock(&st->mu);
    return a;
}

/* The answer's delay (http_stub_delay): a poll on the stop pipe only. */
static void hold_back(struct http_stub *st)
{
    struct pollfd p = {st->stop_pipe[0], POLLIN, 0};
    int ms;
    pthread_mutex_lock(&st->mu);
    ms = st->delay_ms;
    pthread_mutex_unlock(&st->mu);
    if (ms > 0)
        poll(&p, 1, ms);
}

static const char no_master[] =
    "{\"error\":{\"root_cause\":[{\"type\":\"master_not_discovered_exception\","
    "\"reason\":null}],\"type\":\"master_not_discovered_exception\","
    "\"reason\":null},\"status\":503}";
static const char rejected[] =
    "{\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":"
    "\"rejected execution of coordinating operation\"},\"status\":429}";

static void *serve(void *arg)
{
    struct conn *cn = arg;
    struct http_stub *st = cn->st;
    char *head = malloc(HEAD_MAX), *body = NULL, path[1024];
    size_t blen = 0;
    struct sink out = {NULL, 0};

    if (head != NULL && read_request(st, cn->fd, head, &body, &blen)) {
        enum stub_action a = next_action(st, blen);
        request_path(head, path, sizeof path);
        if (a == STUB_FORWARD || a == STUB_FORWARD_HANG ||
            a == STUB_FORWARD_CUT) {
            long status = forward(st, path, head, body, blen, &out);
            if (a == STUB_FORWARD) {
                hold_back(st);
                answer(cn->fd, (int)status, out.p ? out.p : "", out.len);
            } else if (a == STUB_FORWARD_CUT)
                answer(cn->fd, 200, out.p ? out.p : "", out.len / 2);
        } else if (a == STUB_413) {
            answer(cn->fd, 413, "", 0);
        } else if (a == STUB_503_NO_MASTER) {
            answer(cn->fd, 503, no_master, sizeof no_master - 1);
        } else if (a == STUB_429) {
            answer(cn->fd, 429, rejected, sizeof rejected - 1);
        }
        if (a == STUB_HANG || a == STUB_FORWARD_HANG) {
            char sink[4096];
            while (wait_readable(st, cn->fd) &&
                   recv(cn->fd, sink, sizeof sink, 0) > 0)
                ; /* until the client gives up */
        }
    }
    free(out.p);
    free(body);
    free(head);
    close(cn->fd);
    free(cn);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct http_stub *st = arg;
    for (;;) {
        struct conn *cn;
        int fd;
        if (!wait_readable(st, st->lfd))
            return NULL;
        if ((fd = accept(st->lfd, NULL, NULL)) < 0)
            continue;
        cn = malloc(sizeof *cn);
        cn->st = st;
        cn->fd = fd;
        pthread_mutex_lock(&st->mu);
        if (st->nconns == MAX_CONN ||
            pthread_create(&st->conns[st->nconns], NULL, serve, cn) != 0) {
            close(fd);
            free(cn);
        } else {
            st->nconns++;
        }
        pthread_mutex_unlock(&st->mu);
    }
}

struct http_stub *http_stub_start(const char *fwd)
{
    struct http_stub *st = calloc(1, sizeof *st);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;

    if (st == NULL)
        die("calloc");
    st->forward = fwd;
    st->then = STUB_FORWARD;
    pthread_mutex_init(&st->mu, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((st->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(st->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(st->lfd, 64) < 0 ||
        getsockname(st->lfd, (struct sockaddr *)&a, &alen) < 0 ||
        pipe(st->stop_pipe) < 0)
        die("listen");
    st->port = ntohs(a.sin_port);
    if (pthread_create(&st->acceptor, NULL, accept_loop, st) != 0)
        die("pthread_create");
    return st;
}

void http_stub_stop(struct http_stub *st)
{
    if (st == NULL)
        return;
    if (write(st->stop_pipe[1], "x", 1) != 1)
        die("write");
    pthread_join(st->acceptor, NULL);
    for (size_t i = 0; i < st->nconns; i++)
        pthread_join(st->conns[i], NULL);
    close(st->lfd);
    close(st->stop_pipe[0]);
    close(st->stop_pipe[1]);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

uint16_t http_stub_port(const struct http_stub *st)
{
    return st->port;
}

void http_stub_script(struct http_stub *st, const enum stub_action *script,
                      size_t n, enum stub_action then)
{
    pthread_mutex_lock(&st->mu);
    st->nscript = n < HTTP_STUB_MAX_SCRIPT ? n : HTTP_STUB_MAX_SCRIPT;
    memcpy(st->script, script, st->nscript * sizeof *script);
    st->then = then;
    pthread_mutex_unlock(&st->mu);
}

void http_stub_max_body(struct http_stub *st, size_t max)
{
    pthread_mutex_lock(&st->mu);
    st->max_body = max;
    pthread_mutex_unlock(&st->mu);
}

void http_stub_delay(struct http_stub *st, int ms)
{
    pthread_mutex_lock(&st->mu);
    st->delay_ms = ms;
    pthread_mutex_unlock(&st->mu);
}

size_t http_stub_requests(struct http_stub *st)
{
    size_t n;
    pthread_mutex_lock(&st->mu);
    n = st->nreq;
    pthread_mutex_unlock(&st->mu);
    return n;
}

int64_t http_stub_request_ms(struct http_stub *st, size_t i)
{
    int64_t ms;
    pthread_mutex_lock(&st->mu);
    ms = i < st->nreq && i < HTTP_STUB_MAX_REQUESTS ? st->req_ms[i] : -1;
    pthread_mutex_unlock(&st->mu);
    return ms;
}

size_t http_stub_request_len(struct http_stub *st, size_t i)
{
    size_t len;
    pthread_mutex_lock(&st->mu);
    len = i < st->nreq && i < HTTP_STUB_MAX_REQUESTS ? st->req_len[i] : 0;
    pthread_mutex_unlock(&st->mu);
    return len;
}
