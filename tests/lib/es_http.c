/* es_http.c: see es_http.h. */
#include "es_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int es_http_init(struct es_http *h, const char *var, long timeout)
{
    memset(h, 0, sizeof(*h));
    h->var = var;
    h->url = getenv(var);
    h->timeout = timeout;
    if (h->url == NULL || h->url[0] == '\0') {
        print_error("%s is not set: run the integration tests through "
                    "tests/run (it starts Elasticsearch and OpenSearch), e.g. "
                    "tests/run build/debug -- -L integration\n",
                    var);
        return -1;
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        print_error("curl_easy_init failed\n");
        return -1;
    }
    return 0;
}

void es_http_free(struct es_http *h)
{
    es_http_reset(h);
    if (h->curl != NULL) {
        curl_easy_cleanup(h->curl);
        h->curl = NULL;
    }
}

void es_http_set_auth(struct es_http *h, const char *ca_file,
                      const char *username, const char *password)
{
    h->ca_file = ca_file;
    h->username = username;
    h->password = password;
}

void es_http_reset(struct es_http *h)
{
    yajl_tree_free(h->json);
    h->json = NULL;
    free(h->body);
    h->body = NULL;
    h->len = 0;
    h->status = 0;
}

const char *es_http_body(const struct es_http *h)
{
    return h->body != NULL ? h->body : "";
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct es_http *h = ud;
    size_t add = size * n;
    char *p;

    if (add > ES_HTTP_BODY_MAX - h->len) {
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    }
    p = realloc(h->body, h->len + add + 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p + h->len, data, add);
    h->body = p;
    h->len += add;
    h->body[h->len] = '\0';
    return add;
}

long es_http_request(struct es_http *h, const char *method, const char *path,
                     const char *ctype, const char *body)
{
    return es_http_request_raw(h, method, path, ctype, NULL, body,
                               body != NULL ? strlen(body) : 0);
}

long es_http_request_raw(struct es_http *h, const char *method,
                         const char *path, const char *ctype,
                         const char *header, const void *body, size_t len)
{
    struct curl_slist *hdrs = NULL;
    char url[512], ct[96];
    CURLcode rc;

    es_http_reset(h);
    snprintf(url, sizeof(url), "%s%s", h->url, path);
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout);
    if (h->ca_file != NULL)
        curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca_file);
    if (h->username != NULL) {
        curl_easy_setopt(h->curl, CURLOPT_USERNAME, h->username);
        curl_easy_setopt(h->curl, CURLOPT_PASSWORD, h->password);
    }
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue wait */
    if (body != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    }
    if (header != NULL)
        hdrs = curl_slist_append(hdrs, header);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
    h->errbuf[0] = '\0';
    rc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        if (h->errbuf[0] == '\0') {
            snprintf(h->errbuf, sizeof(h->errbuf), "%s",
                     curl_easy_strerror(rc));
        }
        return -1;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
    return h->status;
}

int es_http_parse(struct es_http *h, char *err, size_t errlen)
{
    yajl_tree_free(h->json);
    h->json = yajl_tree_parse(es_http_body(h), err, errlen);
    return h->json != NULL ? 0 : -1;
}

void es_http_call(struct es_http *h, const char *method, const char *path,
                  const char *ctype, const char *body, long want)
{
    char err[256];
    long st = es_http_request(h, method, path, ctype, body);

    if (st < 0) {
        fail_msg("%s %s%s: %s", method, h->url, path, h->errbuf);
    }
    if (st != want) {
        fail_msg("%s %s%s: expected HTTP %ld, got %ld: %.*s", method, h->url,
                 path, want, st, ES_HTTP_SHOW, es_http_body(h));
    }
    if (es_http_parse(h, err, sizeof(err)) != 0) {
        fail_msg("%s %s%s: response is not JSON (%s): %.*s", method, h->url,
                 path, err, ES_HTTP_SHOW, es_http_body(h));
    }
}

long long es_http_count(struct es_http *h, const char *target)
{
    char path[512], err[128];
    snprintf(path, sizeof path, "/%s/_refresh", target);
    es_http_request(h, "POST", path, NULL, NULL);
    snprintf(path, sizeof path, "/%s/_count", target);
    long st = es_http_request(h, "GET", path, NULL, NULL);
    if (st == 503)
        return 0;
    if (st != 200 || es_http_parse(h, err, sizeof err) != 0)
        fail_msg("GET %s%s: HTTP %ld: %.*s", h->url, path, st, ES_HTTP_SHOW,
                 es_http_body(h));
    yajl_val v = es_json_at(h->json, "count");
    if (v == NULL || !YAJL_IS_INTEGER(v))
        fail_msg("GET %s%s: no count in %.*s", h->url, path, ES_HTTP_SHOW,
                 es_http_body(h));
    return YAJL_GET_INTEGER(v);
}

void es_http_api_key(struct es_http *h, const char *body,
                     struct es_api_key *key)
{
    const char *fields[] = {"id", "api_key", "encoded"};
    char *out[] = {key->id, key->secret, key->encoded};
    size_t outlen[] = {sizeof key->id, sizeof key->secret, sizeof key->encoded};
    char err[128];
    long st = es_http_request(h, "POST", "/_security/api_key",
                              "application/json", body);

    if (st != 200 || es_http_parse(h, err, sizeof err) != 0)
        fail_msg("POST %s/_security/api_key: HTTP %ld: %s%.*s%s", h->url, st,
                 st < 0 ? h->errbuf : "", ES_HTTP_SHOW, es_http_body(h),
                 strstr(es_http_body(h), "Unknown filter type") != NULL
                     ? "; the node lacks tests/lib/es-test-analysis/: run "
                       "scripts/setup, which builds it into its home"
                     : "");
    for (size_t i = 0; i < 3; i++) {
        yajl_val v = es_json_at(h->json, fields[i]);
        const char *s = v != NULL ? YAJL_GET_STRING(v) : NULL;
        if (s == NULL || s[0] == '\0' || strlen(s) >= outlen[i])
            fail_msg("POST %s/_security/api_key: no usable \"%s\" in the "
                     "answer",
                     h->url, fields[i]);
        snprintf(out[i], outlen[i], "%s", s);
    }
}

yajl_val es_json_at(yajl_val v, const char *dotted)
{
    char buf[512], *seg, *save = NULL, *end;
    const char *path[2] = {NULL, NULL};
    long i;

    snprintf(buf, sizeof(buf), "%s", dotted);
    for (seg = strtok_r(buf, ".", &save); seg != NULL && v != NULL;
         seg = strtok_r(NULL, ".", &save)) {
        if (YAJL_IS_ARRAY(v)) {
            errno = 0;
            i = strtol(seg, &end, 10);
            if (errno != 0 || *end != '\0' || i < 0 ||
                (size_t)i >= v->u.array.len) {
                return NULL;
            }
            v = v->u.array.values[i];
        } else {
            path[0] = seg;
            v = yajl_tree_get(v, path, yajl_t_any);
        }
    }
    return v;
}

void es_json_assert_string(const struct es_http *h, const char *path,
                           const char *want)
{
    yajl_val v = es_json_at(h->json, path);
    const char *got = YAJL_IS_STRING(v) ? v->u.string : NULL;

    if (got == NULL) {
        fail_msg("%s: expected the string \"%s\", found %s in: %.*s", path,
                 want, v ? "another type" : "nothing", ES_HTTP_SHOW,
                 es_http_body(h));
        return;
    }
    if (strcmp(got, want) != 0) {
        fail_msg("%s: expected \"%s\", got \"%s\" in: %.*s", path, want, got,
                 ES_HTTP_SHOW, es_http_body(h));
    }
}

void es_json_assert_int(const struct es_http *h, const char *path,
                        long long want)
{
    yajl_val v = es_json_at(h->json, path);

    if (!YAJL_IS_INTEGER(v)) {
        fail_msg("%s: expected the integer %lld, found %s in: %.*s", path, want,
                 v ? "another type" : "nothing", ES_HTTP_SHOW, es_http_body(h));
        return;
    }
    if (YAJL_GET_INTEGER(v) != want) {
        fail_msg("%s: expected %lld, got %lld in: %.*s", path, want,
                 YAJL_GET_INTEGER(v), ES_HTTP_SHOW, es_http_body(h));
    }
}

void es_json_assert_bool(const struct es_http *h, const char *path, int want)
{
    yajl_val v = es_json_at(h->json, path);

    if (want ? !YAJL_IS_TRUE(v) : !YAJL_IS_FALSE(v)) {
        fail_msg("%s: expected %s in: %.*s", path, want ? "true" : "false",
                 ES_HTTP_SHOW, es_http_body(h));
    }
}

int es_http_run_group(const char *name, const struct CMUnitTest *tests,
                      size_t n, int (*setup)(void **state),
                      int (*teardown)(void **state))
{
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    /* What cmocka_run_group_tests_name() expands to, with the count passed
     * in: the macro needs the array itself. */
    rc = _cmocka_run_group_tests(name, tests, n, setup, teardown);
    curl_global_cleanup();
    return rc;
}
