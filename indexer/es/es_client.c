/* es_client.c: libcurl's multi interface under one poll loop.
 *
 * Invariants: socks[0..nsocks) are the sockets curl asked us to watch, each
 * once, with the events it wants (CURLMOPT_SOCKETFUNCTION keeps the table;
 * REMOVE takes a socket out by moving the last one into its place);
 * timer_at is the monotonic ms of curl's next timeout, or -1 (TIMERFUNCTION).
 * xfers[i].busy is true from es_client_post until its on_done is called,
 * which happens after the easy handle has left the multi handle, so the
 * slot can be posted again from on_done.
 *
 * Not done here: what an answer means (the sender), retries, node choice.
 * Curl's error buffer holds host and port at most, never credentials: they
 * are not in the URL curl prints (CURLOPT_USERNAME/PASSWORD, a header). */
#include "es_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sl_clock.h"

struct xfer {
    struct es_client *c;
    CURL *easy;
    bool busy;
    es_body_fn on_body;
    es_done_fn on_done;
    es_read_fn read; /* es_client_post_read; NULL: CURLOPT_POSTFIELDS */
    es_rewind_fn rewind;
    void *ctx;
    char errbuf[CURL_ERROR_SIZE];
};

struct sock {
    curl_socket_t fd;
    short events;
};

struct es_client {
    CURLM *multi;
    struct xfer *xfers;
    size_t nxfers, running;
    struct sock *socks;
    size_t nsocks, maxsocks;
    int64_t timer_at;
    struct curl_slist *headers, *headers_gzip;
    char *api_key_header; /* "Authorization: ApiKey ..." (secret) */
};

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    struct es_client *c = userp;
    size_t i;

    (void)easy;
    (void)socketp;
    for (i = 0; i < c->nsocks && c->socks[i].fd != fd; i++)
        ;
    if (what == CURL_POLL_REMOVE) {
        if (i < c->nsocks)
            c->socks[i] = c->socks[--c->nsocks];
        return 0;
    }
    if (i == c->nsocks) {
        if (c->nsocks == c->maxsocks)
            return -1; /* curl fails the transfer: never expected */
        c->socks[c->nsocks++].fd = fd;
    }
    c->socks[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) |
                                 (what & CURL_POLL_OUT ? POLLOUT : 0));
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct es_client *c = userp;
    (void)multi;
    c->timer_at = timeout_ms < 0 ? -1 : sl_clock_mono_ms() + timeout_ms;
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t len = size * nmemb;
    return x->on_body(x->ctx, ptr, len) ? len : 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct xfer *x = userdata;
    return x->read != NULL ? x->read(x->ctx, buf, size * nitems) : 0;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
    struct xfer *x = userdata;
    if (x->read == NULL || offset != 0 || origin != SEEK_SET)
        return CURL_SEEKFUNC_CANTSEEK;
    x->rewind(x->ctx);
    return CURL_SEEKFUNC_OK;
}

static int setup_easy(struct es_client *c, struct xfer *x,
                      const struct es_client_config *cfg)
{
    CURL *e = x->easy = curl_easy_init();
    long connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
                      : cfg->timeout_ms < 10000   ? cfg->timeout_ms
                                                  : 10000;
    CURLcode rc = CURLE_OK;

    if (e == NULL)
        return -1;
    x->c = c;
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(e, opt, val);                                \
    } while (0)
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, x);
    SET(CURLOPT_SEEKFUNCTION, on_seek);
    SET(CURLOPT_SEEKDATA, x);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* a 5 MiB body goes out in 10 sends, not 80 of the default 64 KiB:
     * 1.23-1.30 -> 1.06-1.10 CPU-s per 1M events into a sink (sys 0.47 ->
     * 0.31), the same peak RSS (bench/RESULTS.md) */
    SET(CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_SSL_VERIFYPEER, cfg->tls_verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, cfg->tls_verify ? 2L : 0L);
    if (cfg->ca_file != NULL)
        SET(CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->username != NULL) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, cfg->username);
        SET(CURLOPT_PASSWORD, cfg->password != NULL ? cfg->password : "");
    }
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

static int make_headers(struct es_client *c, const char *api_key)
{
    static const char *const base[] = {"Content-Type: application/x-ndjson",
                                       "Expect:", NULL};
    struct curl_slist **lists[] = {&c->headers, &c->headers_gzip};

    if (api_key != NULL) {
        size_t len = strlen("Authorization: ApiKey ") + strlen(api_key) + 1;
        c->api_key_header = malloc(len);
        if (c->api_key_header == NULL)
            return -1;
        snprintf(c->api_key_header, len, "Authorization: ApiKey %s", api_key);
    }
    for (size_t k = 0; k < 2; k++) {
        struct curl_slist *l = NULL, *t;
        for (size_t i = 0; base[i] != NULL; i++) {
            if ((t = curl_slist_append(l, base[i])) == NULL)
                goto fail;
            l = t;
        }
        if (c->api_key_header != NULL) {
            if ((t = curl_slist_append(l, c->api_key_header)) == NULL)
                goto fail;
            l = t;
        }
        if (k == 1) {
            if ((t = curl_slist_append(l, "Content-Encoding: gzip")) == NULL)
                goto fail;
            l = t;
        }
        *lists[k] = l;
        continue;
    fail:
        curl_slist_free_all(l);
        return -1;
    }
    return 0;
}

static int check_config(const struct es_client_config *cfg, struct sl_err *err)
{
    if (cfg->max_transfers < 1 || cfg->max_transfers > ES_CLIENT_MAX_TRANSFERS)
        return sl_err_set(err, SL_EINVAL,
                          "elasticsearch: %zu requests in flight, expected 1 "
                          "to %d",
                          cfg->max_transfers, ES_CLIENT_MAX_TRANSFERS);
    if (cfg->timeout_ms < 1)
        return sl_err_set(err, SL_EINVAL,
                          "elasticsearch: a request timeout of %ld ms, "
                          "expected at least 1",
                          cfg->timeout_ms);
    return 0;
}

struct es_client *es_client_new(const struct es_client_config *cfg,
                                struct sl_err *err)
{
    struct es_client *c;

    if (check_config(cfg, err) < 0)
        return NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto nomem;
    c->timer_at = -1;
    c->nxfers = cfg->max_transfers;
    c->maxsocks = ES_CLIENT_MAX_POLLFDS(cfg->max_transfers);
    c->xfers = calloc(c->nxfers, sizeof *c->xfers);
    c->socks = calloc(c->maxsocks, sizeof *c->socks);
    c->multi = curl_multi_init();
    if (c->xfers == NULL || c->socks == NULL || c->multi == NULL ||
        make_headers(c, cfg->api_key) < 0)
        goto nomem;
    for (size_t i = 0; i < c->nxfers; i++)
        if (setup_easy(c, &c->xfers[i], cfg) < 0)
            goto nomem;
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer) ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c))
        goto nomem;
    return c;
nomem:
    es_client_free(c);
    sl_err_set(err, SL_ENOMEM, "elasticsearch: cannot set up libcurl");
    return NULL;
}

void es_client_free(struct es_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->xfers != NULL && i < c->nxfers; i++) {
        if (c->xfers[i].busy)
            curl_multi_remove_handle(c->multi, c->xfers[i].easy);
        curl_easy_cleanup(c->xfers[i].easy);
    }
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->headers_gzip);
    if (c->api_key_header != NULL) {
        /* a secret: do not leave it in freed memory */
        volatile char *p = c->api_key_header;
        while (*p != '\0')
            *p++ = '\0';
        free(c->api_key_header);
    }
    free(c->xfers);
    free(c->socks);
    free(c);
}

/* Starts slot's transfer of url: body the POSTFIELDS, or NULL for
 * x->read. */
static int start(struct es_client *c, struct xfer *x, const char *url,
                 const char *body, size_t len, bool gzip, struct sl_err *err)
{
    CURLcode rc;

    x->errbuf[0] = '\0';
    rc = curl_easy_setopt(x->easy, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER,
                              gzip ? c->headers_gzip : c->headers);
    if (rc != CURLE_OK || curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
        return sl_err_set(err, SL_ENOMEM,
                          "elasticsearch: cannot start a request: %s",
                          curl_easy_strerror(rc));
    x->busy = true;
    c->running++;
    return 0;
}

static struct xfer *free_slot(struct es_client *c, size_t slot,
                              struct sl_err *err)
{
    if (slot >= c->nxfers || c->xfers[slot].busy) {
        sl_err_set(err, SL_EINVAL,
                   "elasticsearch: slot %zu is busy or out of range", slot);
        return NULL;
    }
    return &c->xfers[slot];
}

/* Both posts: body the POSTFIELDS, or NULL for read. */
static int post(struct es_client *c, size_t slot, const char *url,
                const char *body, size_t len, bool gzip, es_read_fn read,
                es_rewind_fn rewind, es_body_fn on_body, es_done_fn on_done,
                void *ctx, struct sl_err *err)
{
    struct xfer *x = free_slot(c, slot, err);

    if (x == NULL)
        return -1;
    x->on_body = on_body;
    x->on_done = on_done;
    x->read = read;
    x->rewind = rewind;
    x->ctx = ctx;
    return start(c, x, url, body, len, gzip, err);
}

int es_client_post(struct es_client *c, size_t slot, const char *url,
                   const char *body, size_t len, bool gzip, es_body_fn on_body,
                   es_done_fn on_done, void *ctx, struct sl_err *err)
{
    return post(c, slot, url, body, len, gzip, NULL, NULL, on_body, on_done,
                ctx, err);
}

int es_client_post_read(struct es_client *c, size_t slot, const char *url,
                        size_t len, es_read_fn read, es_rewind_fn rewind,
                        es_body_fn on_body, es_done_fn on_done, void *ctx,
                        struct sl_err *err)
{
    return post(c, slot, url, NULL, len, false, read, rewind, on_body, on_done,
                ctx, err);
}

bool es_client_busy(const struct es_client *c, size_t slot)
{
    return slot < c->nxfers && c->xfers[slot].busy;
}

size_t es_client_running(const struct es_client *c)
{
    return c->running;
}

size_t es_client_fill_pollfds(const struct es_client *c, struct pollfd *pfds,
                              size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nsocks && k < n; i++) {
        pfds[k].fd = c->socks[i].fd;
        pfds[k].events = c->socks[i].events;
        pfds[k].revents = 0;
        k++;
    }
    return k;
}

int es_client_timeout_ms(const struct es_client *c)
{
    int64_t left;
    if (c->timer_at < 0)
        return -1;
    left = c->timer_at - sl_clock_mono_ms();
    return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

static enum es_xfer_status classify(CURL *e, CURLcode rc)
{
    curl_off_t connect_us = 0;
    long request_bytes = 0;

    switch (rc) {
    case CURLE_OK:
        return ES_XFER_ANSWERED;
    case CURLE_COULDNT_CONNECT:
        return ES_XFER_REFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return ES_XFER_RESOLVE;
    case CURLE_OPERATION_TIMEDOUT:
        /* never connected: the node is unreachable, not slow. The connect
         * time alone cannot say so: libcurl 7.88 (Debian 12) reports 0 for
         * a transfer that ended in an error (curl/curl#10670), so a live
         * node that held a request past our timeout while its cluster
         * elected a master was set aside as dead and the request sent on
         * to the next node at once (seen with the master killed). A
         * request whose headers went out was connected. */
        curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_bytes);
        return connect_us == 0 && request_bytes == 0 ? ES_XFER_REFUSED
                                                     : ES_XFER_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return ES_XFER_LOST;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return ES_XFER_TLS;
    case CURLE_WRITE_ERROR:
        return ES_XFER_ABORTED;
    default:
        return ES_XFER_OTHER;
    }
}

static void finish(struct es_client *c, CURL *e, CURLcode rc)
{
    struct xfer *x = NULL;
    struct es_xfer_result r = {0};

    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    r.status = classify(e, rc);
    if (r.status == ES_XFER_ANSWERED)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.http_status);
    else
        snprintf(r.msg, sizeof r.msg, "%s",
                 x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc));
    curl_multi_remove_handle(c->multi, e);
    x->busy = false;
    c->running--;
    x->on_done(x->ctx, &r);
}

static bool watched(const struct es_client *c, curl_socket_t fd)
{
    for (size_t i = 0; i < c->nsocks; i++)
        if (c->socks[i].fd == fd)
            return true;
    return false;
}

void es_client_process(struct es_client *c, const struct pollfd *pfds, size_t n)
{
    int still;
    CURLMsg *m;

    for (size_t i = 0; i < n; i++) {
        int mask = 0;
        if (pfds[i].revents == 0 || !watched(c, pfds[i].fd))
            continue;
        if (pfds[i].revents & (POLLIN | POLLHUP))
            mask |= CURL_CSELECT_IN;
        if (pfds[i].revents & POLLOUT)
            mask |= CURL_CSELECT_OUT;
        if (pfds[i].revents & (POLLERR | POLLNVAL))
            mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(c->multi, pfds[i].fd, mask, &still);
    }
    if (c->timer_at >= 0 && c->timer_at <= sl_clock_mono_ms()) {
        c->timer_at = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    }
    while ((m = curl_multi_info_read(c->multi, &still)) != NULL)
        if (m->msg == CURLMSG_DONE)
            finish(c, m->easy_handle, m->data.result);
}
