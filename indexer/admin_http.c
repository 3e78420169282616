/* admin_http.c: the blocking HTTP of `setup` and retention (see header).
 *
 * One easy handle, reused, so a run of requests to one node keeps its
 * connection. Options that hold for every request (TLS, auth, timeouts,
 * the body callback) are set once; each request resets only the method,
 * the body and the headers. Credentials go through CURLOPT_USERNAME and
 * CURLOPT_PASSWORD or one header, never into a URL, and the URL a message
 * shows has any user:password@ from the config cut out. Redirects are not
 * followed: Elasticsearch and Kibana do not send them to API clients, and
 * following one would send the credentials elsewhere. */
#include "admin_http.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "sl_text.h"

#define TIMEOUT_DEFAULT_MS 30000L
#define CONNECT_MAX_MS     10000L
#define REASON_SHOWN       300

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct admin_http *h = ctx;
    if (sl_buf_append(&h->body, p, size * n, NULL) < 0)
        return 0; /* over the maximum: curl fails with a write error */
    return size * n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    const atomic_bool *cancel = ctx;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(cancel) ? 1 : 0;
}

int admin_http_init(struct admin_http *h, const struct admin_http_opts *opts,
                    struct sl_err *err)
{
    memset(h, 0, sizeof *h);
    h->opts = *opts;
    if (h->opts.timeout_ms <= 0)
        h->opts.timeout_ms = TIMEOUT_DEFAULT_MS;
    sl_buf_init(&h->body, ADMIN_HTTP_BODY_MAX);
    h->curl = curl_easy_init();
    if (h->curl == NULL)
        return sl_err_set(err, SL_ENOMEM, "cannot start libcurl");
    CURL *c = h->curl;
    long connect = h->opts.timeout_ms < CONNECT_MAX_MS ? h->opts.timeout_ms
                                                       : CONNECT_MAX_MS;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->opts.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (h->opts.ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->opts.ca_file);
    if (h->opts.no_tls_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (h->opts.cancel != NULL) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)h->opts.cancel);
    }
    if (h->opts.username != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->opts.username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->opts.password);
    }
    return 0;
}

void admin_http_release(struct admin_http *h)
{
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
    sl_buf_release(&h->body);
}

const char *admin_http_show_url(char *buf, size_t size, const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    const char *at = NULL;
    for (const char *p = host; *p != '\0' && *p != '/'; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        snprintf(buf, size, "%s", url);
    else
        snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
    return buf;
}

/* The transport failure, in words and with what to do. */
static int transport_error(struct admin_http *h, CURLcode rc,
                           const char *method, const char *url,
                           struct sl_err *err)
{
    char shown[512];
    const char *sec = h->opts.section ? h->opts.section : "elasticsearch";
    const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
    admin_http_show_url(shown, sizeof shown, url);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return sl_err_set(err, SL_EIO,
                          "%s %s: cannot connect (%s); is the server running, "
                          "and is %s%s right?",
                          method, shown, detail, sec,
                          strcmp(sec, "kibana") == 0 ? ".url" : ".hosts");
    case CURLE_OPERATION_TIMEDOUT:
        return sl_err_set(err, SL_EIO,
                          "%s %s: no answer within %ld ms (%s); is %s%s "
                          "right (something there takes the connection and "
                          "never answers), and is the server up and not "
                          "overloaded?",
                          method, shown, h->opts.timeout_ms, detail, sec,
                          strcmp(sec, "kibana") == 0 ? ".url" : ".hosts");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        return sl_err_set(err, SL_EIO,
                          "%s %s: TLS failed (%s); set elasticsearch.ca_file "
                          "to the PEM file of the CA that signed the "
                          "server's certificate",
                          method, shown, detail);
    case CURLE_ABORTED_BY_CALLBACK:
        return sl_err_set(err, SL_EIO, "%s %s: stopped", method, shown);
    case CURLE_WRITE_ERROR:
        return sl_err_set(err, SL_ELIMIT,
                          "%s %s: the answer is larger than %u bytes", method,
                          shown, ADMIN_HTTP_BODY_MAX);
    default:
        return sl_err_set(err, SL_EIO, "%s %s: %s", method, shown, detail);
    }
}

static int perform(struct admin_http *h, const char *method, const char *url,
                   struct curl_slist *headers, struct sl_err *err)
{
    CURL *c = h->curl;
    h->status = 0;
    h->errbuf[0] = '\0';
    sl_buf_reset(&h->body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return transport_error(h, rc, method, url, err);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    if (sl_buf_append(&h->body, "", 0, err) < 0) /* a NUL even when empty */
        return -1;
    return 0;
}

/* The headers of a request: extra's, the API key, Content-Type. */
static struct curl_slist *headers_for(const struct admin_http *h,
                                      const char *ctype,
                                      const struct curl_slist *extra)
{
    struct curl_slist *l = NULL, *n;
    char line[1024];
    for (; extra != NULL; extra = extra->next)
        if ((n = curl_slist_append(l, extra->data)) == NULL)
            goto fail;
        else
            l = n;
    if (h->opts.api_key != NULL) {
        snprintf(line, sizeof line, "Authorization: ApiKey %s",
                 h->opts.api_key);
        if ((n = curl_slist_append(l, line)) == NULL)
            goto fail;
        l = n;
    }
    if (ctype != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        if ((n = curl_slist_append(l, line)) == NULL)
            goto fail;
        l = n;
    }
    /* Not "Expect: 100-continue": one round trip less, and some proxies
     * in front of Kibana answer it wrongly. */
    if ((n = curl_slist_append(l, "Expect:")) == NULL)
        goto fail;
    return n;
fail:
    curl_slist_free_all(l);
    return NULL;
}

int admin_http_request(struct admin_http *h, const char *method,
                       const char *url, const char *ctype, const void *body,
                       size_t len, const struct curl_slist *extra,
                       struct sl_err *err)
{
    CURL *c = h->curl;
    struct curl_slist *headers = headers_for(h, body ? ctype : NULL, extra);
    if (headers == NULL)
        return sl_err_set(err, SL_ENOMEM, "%s %s: out of memory", method, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                     strcmp(method, "GET") == 0 ? NULL : method);
    int rc = perform(h, method, url, headers, err);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return rc;
}

int admin_http_post_file(struct admin_http *h, const char *url,
                         const char *field, const char *filename,
                         const char *ctype, const void *data, size_t len,
                         const struct curl_slist *extra, struct sl_err *err)
{
    CURL *c = h->curl;
    int rc = -1;
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    struct curl_slist *headers = headers_for(h, NULL, extra);
    if (part == NULL || headers == NULL ||
        curl_mime_name(part, field) != CURLE_OK ||
        curl_mime_filename(part, filename) != CURLE_OK ||
        curl_mime_type(part, ctype) != CURLE_OK ||
        curl_mime_data(part, data, len) != CURLE_OK) {
        sl_err_set(err, SL_ENOMEM, "POST %s: out of memory", url);
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    rc = perform(h, "POST", url, headers, err);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
done:
    curl_slist_free_all(headers);
    curl_mime_free(mime);
    return rc;
}

/* The server's own reason: Elasticsearch's error.reason (or error as a
 * string), Kibana's message; one line, cut. */
static void reason_of(const struct admin_http *h, char *out, size_t size)
{
    static const char *es_path[] = {"error", "reason", NULL};
    static const char *es_str[] = {"error", NULL};
    static const char *kb_path[] = {"message", NULL};
    out[0] = '\0';
    yajl_val root = yajl_tree_parse(h->body.ptr ? h->body.ptr : "", NULL, 0);
    const char *s = NULL;
    if (root != NULL) {
        yajl_val v = yajl_tree_get(root, es_path, yajl_t_string);
        if (v == NULL)
            v = yajl_tree_get(root, kb_path, yajl_t_string);
        if (v == NULL)
            v = yajl_tree_get(root, es_str, yajl_t_string);
        s = v ? YAJL_GET_STRING(v) : NULL;
    }
    if (s == NULL)
        s = h->body.ptr ? h->body.ptr : "";
    size_t n = 0;
    for (; s[n] != '\0' && n < REASON_SHOWN && n + 1 < size; n++)
        out[n] = (unsigned char)s[n] < 0x20 ? ' ' : s[n];
    out[n] = '\0';
    if (root != NULL)
        yajl_tree_free(root);
}

int admin_http_status_error(const struct admin_http *h, const char *method,
                            const char *url, const char *what_for,
                            struct sl_err *err)
{
    char shown[512], reason[REASON_SHOWN + 1];
    const char *sec = h->opts.section ? h->opts.section : "elasticsearch";
    admin_http_show_url(shown, sizeof shown, url);
    if (h->status == 401)
        return sl_err_set(err, SL_EREMOTE,
                          "%s %s: 401 Unauthorized; check elasticsearch."
                          "username and password, or api_key (not shown)%s",
                          method, shown,
                          strcmp(sec, "kibana") == 0
                              ? ", which setup also uses for Kibana"
                              : "");
    if (h->status == 403)
        return sl_err_set(err, SL_EREMOTE,
                          "%s %s: 403 Forbidden: the user lacks %s; grant it "
                          "in a role, or use a user who has it",
                          method, shown, what_for ? what_for : "a privilege");
    reason_of(h, reason, sizeof reason);
    /* Elasticsearch's (and OpenSearch's) answer to a path it does not
     * serve: kibana.url names the cluster, a common slip (9200 for 5601) */
    bool es_at_kibana = strcmp(sec, "kibana") == 0 && h->body.ptr != NULL &&
                        strstr(h->body.ptr, "no handler found for uri") != NULL;
    return sl_err_set(err, SL_EREMOTE, "%s %s: %ld%s%s%s", method, shown,
                      h->status, reason[0] ? ": " : "", reason,
                      es_at_kibana ? "; this is Elasticsearch's answer, not "
                                     "Kibana's: set kibana.url to Kibana "
                                     "(port 5601 by default)"
                                   : "");
}
