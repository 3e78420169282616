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
 * base URL: SLUICE_TEST_ES_URL / SLUICE_TEST_ES9_URL (Elasticsearch 8 / 9) or
 * SLUICE_TEST_OS_URL / SLUICE_TEST_OS3_URL (OpenSearch 2 / 3); tests/run sets
 * all four, and this file passes unchanged on each.
 * A missing variable fails the test, it never skips. Every response that an
 * assertion depends on is parsed with yajl's tree API, never searched as a
 * string. The index name carries the pid and is deleted at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "es_http.h"

struct fixture {
    struct es_http http;
    char index[96]; /* sluice-it-PID-TIME */
};

static const char *url_var; /* argv[1] */

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
    struct es_http *h = &f.http;
    char path[128];
    long st;

    if (es_http_init(h, url_var, 60) != 0) {
        return -1;
    }
    snprintf(f.index, sizeof(f.index), "sluice-it-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    snprintf(path, sizeof(path), "/%s", f.index);
    st = es_http_request(h, "PUT", path, "application/json", mapping);
    if (st != 200) {
        print_error("PUT %s%s (create the test index): %s%.500s\n", h->url,
                    path, st < 0 ? h->errbuf : "", es_http_body(h));
        print_error("is %s=%s a running cluster? tests/run starts one\n",
                    h->var, h->url);
        es_http_free(h);
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
    st = es_http_request(&f->http, "DELETE", path, NULL, NULL);
    if (st != 200) {
        print_error("DELETE %s%s: %s%.500s\n", f->http.url, path,
                    st < 0 ? f->http.errbuf : "", es_http_body(&f->http));
        rc = -1;
    }
    es_http_free(&f->http);
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
    es_json_assert_string(&f->http, path, type);
}

static void test_mapping_types(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof(path), "/%s/_mapping", f->index);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
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
    /* ES 8 and 9 reject a body here, even "{}". */
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "_shards.failed", 0);
}

static void test_bulk_create_then_search(void **state)
{
    struct fixture *f = *state;
    char body[2048] = "", path[160];

    bulk_create_line(body, sizeof(body), f->index, "evt-1", doc1);
    es_http_call(&f->http, "POST", "/_bulk", "application/x-ndjson", body, 200);
    es_json_assert_bool(&f->http, "errors", 0);
    es_json_assert_int(&f->http, "items.0.create.status", 201);
    es_json_assert_string(&f->http, "items.0.create._id", "evt-1");
    es_json_assert_string(&f->http, "items.0.create.result", "created");

    refresh(f);

    snprintf(path, sizeof(path), "/%s/_search", f->index);
    es_http_call(&f->http, "POST", path, "application/json",
                 "{\"query\":{\"term\":{\"host.name\":\"web-1\"}}}", 200);
    es_json_assert_int(&f->http, "hits.total.value", 1);
    es_json_assert_string(&f->http, "hits.hits.0._id", "evt-1");
    es_json_assert_string(&f->http, "hits.hits.0._source.@timestamp",
                          "2025-11-21T20:56:01.123Z");
    es_json_assert_string(&f->http, "hits.hits.0._source.message",
                          "GET /index.html 200");
    es_json_assert_string(&f->http, "hits.hits.0._source.host.name", "web-1");
    es_json_assert_string(&f->http, "hits.hits.0._source.source.address",
                          "192.0.2.10");
    es_json_assert_int(&f->http, "hits.hits.0._source.log.offset", 1234);

    /* source.address really is an ip: a CIDR term matches it. */
    snprintf(path, sizeof(path), "/%s/_count", f->index);
    es_http_call(&f->http, "POST", path, "application/json",
                 "{\"query\":{\"term\":{\"source.address\":\"192.0.2.0/24\"}}}",
                 200);
    es_json_assert_int(&f->http, "count", 1);
}

/* A replay creates the same _id again: 409 on that item, and still one
 * document. */
static void test_bulk_create_replay_is_409(void **state)
{
    struct fixture *f = *state;
    char body[2048] = "", path[160];

    bulk_create_line(body, sizeof(body), f->index, "evt-2", doc1);
    es_http_call(&f->http, "POST", "/_bulk", "application/x-ndjson", body, 200);
    es_json_assert_bool(&f->http, "errors", 0);
    es_json_assert_int(&f->http, "items.0.create.status", 201);

    es_http_call(&f->http, "POST", "/_bulk", "application/x-ndjson", body, 200);
    es_json_assert_bool(&f->http, "errors", 1);
    es_json_assert_int(&f->http, "items.0.create.status", 409);
    es_json_assert_string(&f->http, "items.0.create._id", "evt-2");
    es_json_assert_string(&f->http, "items.0.create.error.type",
                          "version_conflict_engine_exception");

    refresh(f);
    snprintf(path, sizeof(path), "/%s/_count", f->index);
    es_http_call(&f->http, "POST", path, "application/json",
                 "{\"query\":{\"ids\":{\"values\":[\"evt-2\"]}}}", 200);
    es_json_assert_int(&f->http, "count", 1);
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
    es_http_call(&f->http, "POST", "/_bulk", "application/x-ndjson", body, 200);
    es_json_assert_bool(&f->http, "errors", 1);
    es_json_assert_int(&f->http, "items.0.create.status", 201);
    es_json_assert_int(&f->http, "items.1.create.status", 400);
    es_json_assert_string(&f->http, "items.1.create._id", "evt-4");

    /* Elasticsearch 8 and 9 say document_parsing_exception; OpenSearch 2
     * and 3 (and older Elasticsearch) mapper_parsing_exception. */
    v = es_json_at(f->http.json, "items.1.create.error.type");
    type = YAJL_GET_STRING(v);
    assert_non_null(type);
    if (strcmp(type, "document_parsing_exception") != 0 &&
        strcmp(type, "mapper_parsing_exception") != 0) {
        fail_msg("items.1.create.error.type: expected a parsing exception, "
                 "got \"%s\"",
                 type);
    }
    v = es_json_at(f->http.json, "items.1.create.error.reason");
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

    if (argc != 2) {
        fprintf(stderr, "usage: %s SLUICE_TEST_{ES,ES9,OS,OS3}_URL\n", argv[0]);
        return 2;
    }
    url_var = argv[1];
    return ES_HTTP_RUN_GROUP(url_var, tests, setup, teardown);
}
