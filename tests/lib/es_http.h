/* es_http.h: the HTTP and JSON plumbing of the tests against a real
 * Elasticsearch or OpenSearch (tests/integration/test_*_real.c).
 *
 * A fixture embeds a struct es_http: one curl handle, the server's base URL
 * and the last response. es_http_request() sends a request and keeps the
 * body; es_http_call() also fails the cmocka test unless the status is the
 * one wanted, and parses the body with yajl's tree API into h->json, which
 * the es_json_* asserts then read by dotted path ("items.0.create.status").
 * Responses are parsed, never searched as strings.
 *
 * The functions that fail a test (es_http_call, es_json_assert_*) may only
 * run inside a cmocka test; setup and teardown use es_http_request(), which
 * reports a transport error as -1 with h->errbuf set instead. */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

struct CMUnitTest; /* cmocka.h */

/* One response body at most; a longer one fails its request (STYLE.md:
 * every growable buffer has a maximum). */
#define ES_HTTP_BODY_MAX (4 * 1024 * 1024)
/* How much of a body a failure message shows. */
#define ES_HTTP_SHOW 1000

struct es_http {
    CURL *curl;
    const char *var; /* name of the URL variable, for messages */
    const char *url; /* base URL, no trailing slash */
    long timeout;    /* seconds for a whole request */
    long status;     /* of the last request; 0 before or on error */
    char *body;      /* of the last request, NUL-terminated, or NULL */
    size_t len;
    yajl_val json; /* parsed body of the last call, or NULL */
    char errbuf[CURL_ERROR_SIZE];
    /* For a server with security on (es_http_set_auth); NULL: none. */
    const char *ca_file, *username, *password;
};

/* Reads the base URL from the environment variable `var` (argv[1] of the
 * tests: SLUICE_TEST_ES_URL, ...) and opens the curl handle. An unset or
 * empty variable is an error that says to run through tests/run: an
 * integration test never skips. -1 with a message printed on error, with
 * nothing left to free. curl_global_init must have run. */
int es_http_init(struct es_http *h, const char *var, long timeout);

/* Every request from now on verifies the server's certificate with
 * ca_file and sends basic auth (strings borrowed: keep them). */
void es_http_set_auth(struct es_http *h, const char *ca_file,
                      const char *username, const char *password);

/* Frees the last response and the handle; h can be initialised again. */
void es_http_free(struct es_http *h);

/* Frees the last response (body and json). */
void es_http_reset(struct es_http *h);

/* The body of the last response, "" if there is none. */
const char *es_http_body(const struct es_http *h);

/* METHOD url PATH, with body (of Content-Type ctype) unless body is NULL.
 * Returns the HTTP status and keeps the body; a transport error (refused,
 * timeout, body over ES_HTTP_BODY_MAX) returns -1 with h->errbuf set. */
long es_http_request(struct es_http *h, const char *method, const char *path,
                     const char *ctype, const char *body);

/* As es_http_request(), with a body of len bytes (any bytes: a gzip-encoded
 * one) and one more header line ("Content-Encoding: gzip"), or NULL. */
long es_http_request_raw(struct es_http *h, const char *method,
                         const char *path, const char *ctype,
                         const char *header, const void *body, size_t len);

/* Parses the body of the last response into h->json; -1 with err set if it
 * is not JSON. */
int es_http_parse(struct es_http *h, char *err, size_t errlen);

/* es_http_request(), then fails the test unless the status is `want` and the
 * body is JSON, which is left parsed in h->json. */
void es_http_call(struct es_http *h, const char *method, const char *path,
                  const char *ctype, const char *body, long want);

/* Documents in the indices `target` names (a pattern: "prefix-*"), after
 * a refresh; 0 while an index of it has just been created and its shard
 * has not started (503), which a test that counts while an indexer runs
 * meets. The count is read from the one answer, never asked twice: an
 * index created in between would answer a second request with 503. Fails
 * the test on any other answer. */
long long es_http_count(struct es_http *h, const char *target);

/* An API key, from the answer to POST /_security/api_key. */
struct es_api_key {
    char id[128];
    char secret[128];  /* the "api_key" field */
    char encoded[256]; /* base64 of id:secret: what elasticsearch.api_key
                          and "Authorization: ApiKey" take */
};

/* POST /_security/api_key with body (JSON: name, role_descriptors, ...) as
 * the es_http_set_auth user, into *key; fails the test unless the answer
 * is a 200 with the three fields. Elasticsearch 8's integ-test zip needs
 * tests/lib/es-test-analysis/ for it (without: a 400 "Unknown filter type
 * [pattern_capture]"; the message then says to run scripts/setup). */
void es_http_api_key(struct es_http *h, const char *body,
                     struct es_api_key *key);

/* The node at a dotted path in v; a segment of digits indexes an array
 * ("items.0.create.status"). NULL if there is no such node, or v is NULL.
 * Keys containing dots are not reachable this way. */
yajl_val es_json_at(yajl_val v, const char *dotted);

/* Fail the test unless the node at path in h->json is the string, the
 * integer, or true (want != 0) / false (want == 0); the message shows the
 * path, what was found and the start of the body. */
void es_json_assert_string(const struct es_http *h, const char *path,
                           const char *want);
void es_json_assert_int(const struct es_http *h, const char *path,
                        long long want);
void es_json_assert_bool(const struct es_http *h, const char *path, int want);

/* The run of a test's main, once it has its arguments: curl_global_init,
 * the cmocka group named `name` (the URL variable), curl_global_cleanup.
 * Returns what main returns: cmocka's count of failures, or 1 if curl
 * cannot start. tests is an array, not a pointer. */
#define ES_HTTP_RUN_GROUP(name, tests, setup, teardown)                        \
    es_http_run_group((name), (tests), sizeof(tests) / sizeof((tests)[0]),     \
                      (setup), (teardown))
int es_http_run_group(const char *name, const struct CMUnitTest *tests,
                      size_t n, int (*setup)(void **state),
                      int (*teardown)(void **state));

#endif
