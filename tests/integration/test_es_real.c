/* test_es_real.c: libcurl against a real Elasticsearch or OpenSearch.
 *
 * Pins the server behaviour the indexer relies on: an index with an explicit
 * mapping (keyword, ip, date, long); `_bulk` with the `create` action and a
 * known _id, answered per item; `create` of an _id that exists answered with
 * 409 (how Sluice absorbs replays after a crash, DESIGN.md); a mapping error
 * rejected per item with a type and reason (what goes to the dead-letter
 * stream), while the other items of the same request are indexed.
 *
 * Usage: test_es_real ENV_VAR, where ENV_VAR names the variable holding the
 * base URL (SLUICE_TEST_ES_URL or SLUICE_TEST_OS_URL); tests/run sets both.
 * A missing variable fails the test, it never skips. Every response that an
 * assertion depends on is parsed with yajl's tree API, never searched as a
 * string. The index name carries the pid and is deleted at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

/* Responses here are small; the cap keeps a misbehaving server from growing
 * the buffer without end (STYLE.md: every growable buffer has a maximum). */
#define BODY_MAX (1024 * 1024)

struct fixture {
    CURL *curl;
    const char *var; /* name of the URL variable, for messages */
    const char *url; /* base URL, no trailing slash */
    char index[96];  /* sluice-it-PID-TIME */
    long status;     /* of the last request */
    char *body;      /* of the last request, NUL-terminated */
    size_t len;
    yajl_val json; /* parsed body of the last request, or NULL */
    char errbuf[CURL_ERROR_SIZE];
};

static const char *url_var; /* argv[1] */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct fixture *f = ud;
    size_t add = size * n;
    char *p;

    if (add > BODY_MAX - f->len) {
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    }
    p = realloc(f->body, f->len + add + 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p + f->len, data, add);
    f->body = p;
    f->len += add;
    f->body[f->len] = '\0';
    return add;
}

static void reset_response(struct fixture *f)
{
    yajl_tree_free(f->json);
    f->json = NULL;
    free(f->body);
    f->body = NULL;
    f->len = 0;
    f->status = 0;
}

/* METHOD url/PATH with an optional body; returns the HTTP status and leaves
 * the body in f->body. A transport error (refused, timeout) is returned as
 * -1 with f->errbuf set, so setup can report it without cmocka's longjmp. */
static long request(struct fixture *f, const char *method, const char *path,
                    const char *ctype, const char *body)
{
    struct curl_slist *hdrs = NULL;
    char url[512], ct[96];
    CURLcode rc;

    reset_response(f);
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    curl_easy_reset(f->curl);
    curl_easy_setopt(f->curl, CURLOPT_URL, url);
    curl_easy_setopt(f->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(f->curl, CURLOPT_TIMEOUT, 60L);
    /* No 100-continue round trip on bigger bodies. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (body != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, hdrs);
    f->errbuf[0] = '\0';
    rc = curl_easy_perform(f->curl);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        if (f->errbuf[0] == '\0') {
            snprintf(f->errbuf, sizeof(f->errbuf), "%s",
                     curl_easy_strerror(rc));
        }
        return -1;
    }
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
    return f->status;
}

/* Like request(), but fails the test unless the status is `want`, then
 * parses the body as JSON into f->json. */
static void call(struct fixture *f, const char *method, const char *path,
                 const char *ctype, const char *body, long want)
{
    char err[256];
    long st = request(f, method, path, ctype, body);

    if (st < 0) {
        fail_msg("%s %s%s: %s", method, f->url, path, f->errbuf);
    }
    if (st != want) {
        fail_msg("%s %s%s: expected HTTP %ld, got %ld: %.500s", method, f->url,
                 path, want, st, f->body ? f->body : "");
    }
    f->json = yajl_tree_parse(f->body ? f->body : "", err, sizeof(err));
    if (f->json == NULL) {
        fail_msg("%s %s%s: response is not JSON (%s): %.500s", method, f->url,
                 path, err, f->body ? f->body : "");
    }
}

/* The node at a dotted path in v; a segment of digits indexes an array.
 * "items.0.create.status". NULL if there is no such node. Keys containing
 * dots are not reachable this way (none are used here). */
static yajl_val at(yajl_val v, const char *dotted)
{
    char buf[256], *seg, *save = NULL, *end;
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

static void assert_json_string(const struct fixture *f, const char *path,
                               const char *want)
{
    yajl_val v = at(f->json, path);
    const char *got = YAJL_IS_STRING(v) ? v->u.string : NULL;

    if (got == NULL) {
        fail_msg("%s: expected the string \"%s\", found %s in: %.500s", path,
                 want, v ? "another type" : "nothing", f->body);
        return;
    }
    if (strcmp(got, want) != 0) {
        fail_msg("%s: expected \"%s\", got \"%s\" in: %.500s", path, want, got,
                 f->body);
    }
}

static void assert_json_int(const struct fixture *f, const char *path,
                            long long want)
{
    yajl_val v = at(f->json, path);

    if (!YAJL_IS_INTEGER(v)) {
        fail_msg("%s: expected the integer %lld, found %s in: %.500s", path,
                 want, v ? "another type" : "nothing", f->body);
        return;
    }
    if (YAJL_GET_INTEGER(v) != want) {
        fail_msg("%s: expected %lld, got %lld in: %.500s", path, want,
                 YAJL_GET_INTEGER(v), f->body);
    }
}

static void assert_json_bool(const struct fixture *f, const char *path,
                             int want)
{
    yajl_val v = at(f->json, path);

    if (want ? !YAJL_IS_TRUE(v) : !YAJL_IS_FALSE(v)) {
        fail_msg("%s: expected %s in: %.500s", path, want ? "true" : "false",
                 f->body);
    }
}

static const char mapping[] =
    "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},"
    "\"mappings\":{\"dynamic\":\"strict\",\"properties\":{"
    "\"@timestamp\":{\"type\":\"date\"},"
    "\"message\":{\"type\":\"text\"},"
    "\"host\":{\"properties\":{\"name\":{\"type\":\"keyword\"}}},"
    "\"source\":{\"properties\":{\"address\":{\"type\":\"ip\"}}},"
    "\"log\":{\"properties\":{\"offset\":{\"type\":\"long\"}}}}}}";

static int setup(void **state)
{
    static struct fixture f;
    char path[128];
    long st;

    f.var = url_var;
    f.url = getenv(url_var);
    if (f.url == NULL || f.url[0] == '\0') {
        print_error("%s is not set: run the integration tests through "
                    "tests/run (it starts Elasticsearch and OpenSearch), e.g. "
                    "tests/run build/debug -- -L integration\n",
                    url_var);
        return -1;
    }
    f.curl = curl_easy_init();
    if (f.curl == NULL) {
        print_error("curl_easy_init failed\n");
        return -1;
    }
    snprintf(f.index, sizeof(f.index), "sluice-it-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    snprintf(path, sizeof(path), "/%s", f.index);
    st = request(&f, "PUT", path, "application/json", mapping);
    if (st != 200) {
        print_error("PUT %s%s (create the test index): %s%.500s\n", f.url, path,
                    st < 0 ? f.errbuf : "", f.body ? f.body : "");
        print_error("is %s=%s a running cluster? tests/run starts one\n", f.var,
                    f.url);
        reset_response(&f);
        curl_easy_cleanup(f.curl);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];
    long st;
    int rc = 0;

    if (f == NULL) {
        return 0; /* cmocka 1.1 runs it even when setup failed */
    }
    snprintf(path, sizeof(path), "/%s", f->index);
    st = request(f, "DELETE", path, NULL, NULL);
    if (st != 200) {
        print_error("DELETE %s%s: %s%.500s\n", f->url, path,
                    st < 0 ? f->errbuf : "", f->body ? f->body : "");
        rc = -1;
    }
    reset_response(f);
    curl_easy_cleanup(f->curl);
    return rc;
}

/* The mapping came back as sent: the types Sluice's template relies on. */
static void assert_field_type(const struct fixture *f, const char *field,
                              const char *type)
{
    char path[256];

    /* {"INDEX":{"mappings":{"properties":{...}}}}; index names have no dots. */
    snprintf(path, sizeof(path), "%s.mappings.properties.%s.type", f->index,
             field);
    assert_json_string(f, path, type);
}

static void test_mapping_types(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof(path), "/%s/_mapping", f->index);
    call(f, "GET", path, NULL, NULL, 200);
    assert_field_type(f, "@timestamp", "date");
    assert_field_type(f, "host.properties.name", "keyword");
    assert_field_type(f, "source.properties.address", "ip");
    assert_field_type(f, "log.properties.offset", "long");
}

/* Builds the NDJSON of one `create` of doc under id. */
static void bulk_create_line(char *buf, size_t size, const char *index,
                             const char *id, const char *doc)
{
    size_t used = strlen(buf);

    snprintf(buf + used, size - used,
             "{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\"}}\n%s\n", index, id,
             doc);
}

static const char doc1[] = "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                           "\"message\":\"GET /index.html 200\","
                           "\"host\":{\"name\":\"web-1\"},"
                           "\"source\":{\"address\":\"192.0.2.10\"},"
                           "\"log\":{\"offset\":1234}}";

static void refresh(struct fixture *f)
{
    char path[160];

    snprintf(path, sizeof(path), "/%s/_refresh", f->index);
    /* ES 8 rejects a body here, even "{}". */
    call(f, "POST", path, NULL, NULL, 200);
    assert_json_int(f, "_shards.failed", 0);
}

static void test_bulk_create_then_search(void **state)
{
    struct fixture *f = *state;
    char body[2048] = "", path[160];

    bulk_create_line(body, sizeof(body), f->index, "evt-1", doc1);
    call(f, "POST", "/_bulk", "application/x-ndjson", body, 200);
    assert_json_bool(f, "errors", 0);
    assert_json_int(f, "items.0.create.status", 201);
    assert_json_string(f, "items.0.create._id", "evt-1");
    assert_json_string(f, "items.0.create.result", "created");

    refresh(f);

    snprintf(path, sizeof(path), "/%s/_search", f->index);
    call(f, "POST", path, "application/json",
         "{\"query\":{\"term\":{\"host.name\":\"web-1\"}}}", 200);
    assert_json_int(f, "hits.total.value", 1);
    assert_json_string(f, "hits.hits.0._id", "evt-1");
    assert_json_string(f, "hits.hits.0._source.@timestamp",
                       "2025-11-21T20:56:01.123Z");
    assert_json_string(f, "hits.hits.0._source.message", "GET /index.html 200");
    assert_json_string(f, "hits.hits.0._source.host.name", "web-1");
    assert_json_string(f, "hits.hits.0._source.source.address", "192.0.2.10");
    assert_json_int(f, "hits.hits.0._source.log.offset", 1234);

    /* source.address really is an ip: a CIDR term matches it. */
    snprintf(path, sizeof(path), "/%s/_count", f->index);
    call(f, "POST", path, "application/json",
         "{\"query\":{\"term\":{\"source.address\":\"192.0.2.0/24\"}}}", 200);
    assert_json_int(f, "count", 1);
}

/* A replay creates the same _id again: 409 on that item, and still one
 * document. */
static void test_bulk_create_replay_is_409(void **state)
{
    struct fixture *f = *state;
    char body[2048] = "", path[160];

    bulk_create_line(body, sizeof(body), f->index, "evt-2", doc1);
    call(f, "POST", "/_bulk", "application/x-ndjson", body, 200);
    assert_json_bool(f, "errors", 0);
    assert_json_int(f, "items.0.create.status", 201);

    call(f, "POST", "/_bulk", "application/x-ndjson", body, 200);
    assert_json_bool(f, "errors", 1);
    assert_json_int(f, "items.0.create.status", 409);
    assert_json_string(f, "items.0.create._id", "evt-2");
    assert_json_string(f, "items.0.create.error.type",
                       "version_conflict_engine_exception");

    refresh(f);
    snprintf(path, sizeof(path), "/%s/_count", f->index);
    call(f, "POST", path, "application/json",
         "{\"query\":{\"ids\":{\"values\":[\"evt-2\"]}}}", 200);
    assert_json_int(f, "count", 1);
}

/* A mapping error rejects only its own item, with a type and a reason; the
 * other item of the request is indexed. */
static void test_bulk_mapping_error_is_per_item(void **state)
{
    struct fixture *f = *state;
    char body[4096] = "";
    const char *type;
    yajl_val v;

    bulk_create_line(body, sizeof(body), f->index, "evt-3", doc1);
    bulk_create_line(body, sizeof(body), f->index, "evt-4",
                     "{\"@timestamp\":\"2025-11-21T20:56:02.000Z\","
                     "\"source\":{\"address\":\"not-an-ip\"}}");
    call(f, "POST", "/_bulk", "application/x-ndjson", body, 200);
    assert_json_bool(f, "errors", 1);
    assert_json_int(f, "items.0.create.status", 201);
    assert_json_int(f, "items.1.create.status", 400);
    assert_json_string(f, "items.1.create._id", "evt-4");

    /* Elasticsearch 8.x says document_parsing_exception, OpenSearch and
     * older Elasticsearch mapper_parsing_exception. */
    v = at(f->json, "items.1.create.error.type");
    type = YAJL_GET_STRING(v);
    assert_non_null(type);
    if (strcmp(type, "document_parsing_exception") != 0 &&
        strcmp(type, "mapper_parsing_exception") != 0) {
        fail_msg("items.1.create.error.type: expected a parsing exception, "
                 "got \"%s\"",
                 type);
    }
    v = at(f->json, "items.1.create.error.reason");
    assert_true(YAJL_IS_STRING(v) && YAJL_GET_STRING(v)[0] != '\0');
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_types),
        cmocka_unit_test(test_bulk_create_then_search),
        cmocka_unit_test(test_bulk_create_replay_is_409),
        cmocka_unit_test(test_bulk_mapping_error_is_per_item),
    };
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s SLUICE_TEST_ES_URL|SLUICE_TEST_OS_URL\n",
                argv[0]);
        return 2;
    }
    url_var = argv[1];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    rc = cmocka_run_group_tests_name(url_var, tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
