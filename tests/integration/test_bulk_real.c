/* test_bulk_real.c: the bulk builder and answer parser against a real
 * Elasticsearch or OpenSearch.
 *
 * Bodies are built with bulk_request, sent with es_http, and the real
 * answers are fed to bulk_response in fragments of 1, 7 and 4096 bytes (as
 * curl delivers them). Pinned per server: good events are DONE (an all-ok
 * answer takes the fast path); a replayed _id is DUPLICATE; a non-numeric
 * string in a long field and an unknown field under "dynamic":"strict" are
 * DEAD with a reason naming the field, and so is an event that is not JSON
 * (which Elasticsearch 8.15 answers with a 500); items to an index with a write
 * block (index.blocks.write, then index.blocks.read_only_allow_delete) are
 * RETRY with cluster_block_exception, next to a DONE item of the same
 * request; with action.auto_create_index off for one index name (not for
 * all: tests beside this one may rely on it), an item to that missing index
 * is NO_INDEX (the setting is restored in the test and in teardown); a
 * body the server cannot parse is a whole-request SL_EREMOTE with the
 * server's error type in the message; a gzip-encoded body (bulk_gzip, with
 * Content-Encoding: gzip) is accepted and its events are searchable. Each
 * answer's status and error type are printed, so the log shows what each
 * server returned.
 *
 * If SLUICE_BULK_CAPTURE_DIR is set, every answer is also written there as
 * SERVER-NAME.json (how tests/fuzz/corpus/fuzz_bulk_response/ was seeded).
 *
 * Usage: test_bulk_real ENV_VAR (SLUICE_TEST_ES_URL, SLUICE_TEST_ES9_URL,
 * SLUICE_TEST_OS_URL, SLUICE_TEST_OS3_URL); tests/run sets all four. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulk_gzip.h"
#include "bulk_request.h"
#include "bulk_response.h"
#include "es_http.h"

struct fixture {
    struct es_http http;
    struct bulk_request *rq;
    struct bulk_response *rs;
    char good[96];    /* sluice-bulk-PID-TIME */
    char blocked[96]; /* ...-blocked: gets a write block */
    char missing[96]; /* ...-missing: never created */
};

static const char *url_var; /* argv[1] */

static const char mapping[] =
    "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},"
    "\"mappings\":{\"dynamic\":\"strict\",\"properties\":{"
    "\"message\":{\"type\":\"text\"},"
    "\"n\":{\"type\":\"long\"}}}}";

static long put_index(struct es_http *h, const char *index)
{
    char path[128];
    snprintf(path, sizeof path, "/%s", index);
    return es_http_request(h, "PUT", path, "application/json", mapping);
}

static int setup(void **state)
{
    static struct fixture f;
    struct es_http *h = &f.http;
    long pid = (long)getpid(), now = (long)time(NULL);

    if (es_http_init(h, url_var, 60) != 0)
        return -1;
    snprintf(f.good, sizeof f.good, "sluice-bulk-%ld-%ld", pid, now);
    snprintf(f.blocked, sizeof f.blocked, "sluice-bulk-%ld-%ld-blocked", pid,
             now);
    snprintf(f.missing, sizeof f.missing, "sluice-bulk-%ld-%ld-missing", pid,
             now);
    f.rq = bulk_request_new(1 << 20, 64, NULL);
    f.rs = bulk_response_new(64, BULK_REASON_MAX_DEFAULT, 1 << 20, NULL);
    if (f.rq == NULL || f.rs == NULL || put_index(h, f.good) != 200 ||
        put_index(h, f.blocked) != 200) {
        print_error("PUT %s/%s (create the test indexes): %s%.500s\n", h->url,
                    f.good, h->errbuf, es_http_body(h));
        print_error("is %s=%s a running cluster? tests/run starts one\n",
                    h->var, h->url);
        bulk_request_free(f.rq);
        bulk_response_free(f.rs);
        es_http_free(h);
        return -1;
    }
    *state = &f;
    return 0;
}

static const char auto_create_default[] =
    "{\"persistent\":{\"action.auto_create_index\":null}}";

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[256];
    int rc = 0;

    if (f == NULL)
        return 0; /* cmocka 1.1 runs it even when setup failed */
    /* restored here too, in case a failed assert skipped the test's own */
    if (es_http_request(&f->http, "PUT", "/_cluster/settings",
                        "application/json", auto_create_default) != 200)
        rc = -1;
    snprintf(path, sizeof path, "/%s/_settings", f->blocked);
    es_http_request(&f->http, "PUT", path, "application/json",
                    "{\"index.blocks.read_only_allow_delete\":null}");
    es_http_request(&f->http, "PUT", path, "application/json",
                    "{\"index.blocks.write\":null}");
    snprintf(path, sizeof path, "/%s,%s", f->good, f->blocked);
    if (es_http_request(&f->http, "DELETE", path, NULL, NULL) != 200) {
        print_error("DELETE %s%s: %s%.500s\n", f->http.url, path,
                    f->http.errbuf, es_http_body(&f->http));
        rc = -1;
    }
    bulk_request_free(f->rq);
    bulk_response_free(f->rs);
    es_http_free(&f->http);
    return rc;
}

/* ---- helpers ------------------------------------------------------- */

static void add(struct fixture *f, const char *index, const char *id,
                const char *ev)
{
    struct sl_err err = {0};
    if (bulk_request_add(f->rq, index, strlen(index), id, strlen(id), ev,
                         strlen(ev), bulk_request_count(f->rq), &err) < 0)
        fail_msg("bulk_request_add %s/%s: %s", index, id, err.msg);
}

static void capture(const struct fixture *f, const char *name)
{
    const char *dir = getenv("SLUICE_BULK_CAPTURE_DIR");
    char path[512];
    FILE *out;

    if (dir == NULL || dir[0] == '\0')
        return;
    snprintf(path, sizeof path, "%s/%s-%s.json", dir, url_var, name);
    out = fopen(path, "wb");
    if (out == NULL)
        fail_msg("capture: cannot write '%s'", path);
    fwrite(f->http.body, 1, f->http.len, out);
    fclose(out);
}

/* Sends the request and parses the answer three times, in fragments of
 * 1, 7 and 4096 bytes; every parse must agree. Returns finish's result of
 * the last parse, with err set. */
static int send_and_parse(struct fixture *f, const char *name,
                          struct sl_err *err)
{
    static const size_t chunks[] = {1, 7, 4096};
    size_t n = bulk_request_count(f->rq);
    long st;
    int rc = 0;

    st = es_http_request(&f->http, "POST", "/_bulk", "application/x-ndjson",
                         bulk_request_body(f->rq).ptr);
    if (st < 0)
        fail_msg("POST %s/_bulk: %s", f->http.url, f->http.errbuf);
    capture(f, name);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        bulk_response_reset(f->rs, n);
        for (size_t off = 0; off < f->http.len; off += chunks[c]) {
            size_t len = f->http.len - off;
            bulk_response_feed(f->rs, f->http.body + off,
                               len < chunks[c] ? len : chunks[c]);
        }
        int r = bulk_response_finish(f->rs, st, err);
        if (c > 0 && r != rc)
            fail_msg("%s: chunks of %zu gave %d, others %d", name, chunks[c], r,
                     rc);
        rc = r;
    }
    if (rc == 0 && bulk_response_count(f->rs) != n)
        fail_msg("%s: %zu items for %zu", name, bulk_response_count(f->rs), n);
    return rc;
}

static int contains(struct sl_slice s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= s.len; i++) {
        if (memcmp(s.ptr + i, needle, n) == 0)
            return 1;
    }
    return 0;
}

/* Asserts item i's class, and prints what the server said about it. */
static void expect(struct fixture *f, const char *name, size_t i,
                   enum bulk_class want, struct bulk_item *it)
{
    if (!bulk_response_item(f->rs, i, it))
        fail_msg("%s: no item %zu", name, i);
    printf("%s %s item %zu: %d %.*s -> %s; %.*s\n", url_var, name, i,
           it->status, (int)it->type.len, it->type.ptr,
           bulk_class_name(it->cls), (int)it->reason.len, it->reason.ptr);
    if (it->cls != want)
        fail_msg("%s item %zu: class %s, want %s (status %d, %.*s: %.*s)", name,
                 i, bulk_class_name(it->cls), bulk_class_name(want), it->status,
                 (int)it->type.len, it->type.ptr, (int)it->reason.len,
                 it->reason.ptr);
}

static void set_index(struct fixture *f, const char *index, const char *body)
{
    char path[160];
    snprintf(path, sizeof path, "/%s/_settings", index);
    es_http_call(&f->http, "PUT", path, "application/json", body, 200);
}

/* ---- tests --------------------------------------------------------- */

static void test_items_classified(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct bulk_item it;

    bulk_request_reset(f->rq);
    add(f, f->good, "dup-1", "{\"message\":\"first\",\"n\":1}");
    assert_int_equal(send_and_parse(f, "all-ok", &err), 0);
    assert_true(bulk_response_fast_path(f->rs));
    expect(f, "all-ok", 0, BULK_DONE, &it);
    assert_int_equal(it.status, 201);

    bulk_request_reset(f->rq);
    add(f, f->good, "ok-2", "{\"message\":\"second\",\"n\":2}");
    add(f, f->good, "dup-1", "{\"message\":\"first\",\"n\":1}");
    add(f, f->good, "bad-n", "{\"message\":\"bad\",\"n\":\"not-a-number\"}");
    add(f, f->good, "strict", "{\"message\":\"x\",\"unknown_field\":1}");
    add(f, f->good, "ok-3", "{\"message\":\"third\",\"n\":3}");
    add(f, f->good, "not-json", "not json");
    if (send_and_parse(f, "mixed", &err) != 0)
        fail_msg("mixed: %s", err.msg);
    assert_false(bulk_response_fast_path(f->rs));
    expect(f, "mixed", 0, BULK_DONE, &it);
    expect(f, "mixed", 1, BULK_DUPLICATE, &it);
    assert_int_equal(it.status, 409);
    assert_true(sl_slice_eq(it.id, "dup-1", 5));
    expect(f, "mixed", 2, BULK_DEAD, &it);
    assert_int_equal(it.status, 400);
    /* ES 8.15 and 9 say document_parsing_exception, OpenSearch
     * mapper_parsing_exception; both name the field */
    assert_true(sl_slice_eq(it.type, "document_parsing_exception", 26) ||
                sl_slice_eq(it.type, "mapper_parsing_exception", 24));
    assert_true(contains(it.reason, "[n]"));
    assert_true(it.cause_type.len > 0);
    expect(f, "mixed", 3, BULK_DEAD, &it);
    assert_true(sl_slice_eq(it.type, "strict_dynamic_mapping_exception", 32));
    assert_true(contains(it.reason, "unknown_field"));
    expect(f, "mixed", 4, BULK_DONE, &it);
    /* ES 8.15: 500 not_x_content_exception; the others 400 */
    expect(f, "mixed", 5, BULK_DEAD, &it);
    assert_int_equal(bulk_response_class_count(f->rs, BULK_DONE), 2);
    assert_int_equal(bulk_response_class_count(f->rs, BULK_DUPLICATE), 1);
    assert_int_equal(bulk_response_class_count(f->rs, BULK_DEAD), 3);
}

/* One item to a good index, two to a blocked one, under each kind of
 * block; the blocked ones are RETRY, not dead documents. */
static void check_blocked(struct fixture *f, const char *name,
                          const char *block, const char *lift)
{
    struct sl_err err = {0};
    struct bulk_item it;
    char id[128];

    set_index(f, f->blocked, block);
    bulk_request_reset(f->rq);
    snprintf(id, sizeof id, "ok-%s", name);
    add(f, f->blocked, "b-1", "{\"message\":\"blocked\",\"n\":1}");
    add(f, f->good, id, "{\"message\":\"not blocked\",\"n\":1}");
    add(f, f->blocked, "b-2", "{\"message\":\"blocked\",\"n\":2}");
    if (send_and_parse(f, name, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    for (size_t i = 0; i < 3; i += 2) {
        expect(f, name, i, BULK_RETRY, &it);
        assert_true(sl_slice_eq(it.type, "cluster_block_exception", 23));
        assert_true(it.status == 403 || it.status == 429);
    }
    expect(f, name, 1, BULK_DONE, &it);
    /* one setting at a time: OpenSearch 3 refuses any other settings change
     * while read_only_allow_delete is on */
    set_index(f, f->blocked, lift);
}

static void test_write_block_is_retry(void **state)
{
    struct fixture *f = *state;
    char id[32];

    check_blocked(f, "blocks-write", "{\"index.blocks.write\":true}",
                  "{\"index.blocks.write\":null}");
    check_blocked(f, "blocks-read-only-allow-delete",
                  "{\"index.blocks.read_only_allow_delete\":true}",
                  "{\"index.blocks.read_only_allow_delete\":null}");
    /* lifted: the same index takes writes again */
    bulk_request_reset(f->rq);
    snprintf(id, sizeof id, "after-%ld", (long)time(NULL));
    add(f, f->blocked, id, "{\"n\":3}");
    struct sl_err err = {0};
    assert_int_equal(send_and_parse(f, "unblocked", &err), 0);
    assert_int_equal(bulk_response_class_count(f->rs, BULK_DONE), 1);
}

static void test_missing_index_without_auto_create(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct bulk_item it;

    char off[256];

    /* off for this one index only: tests running beside this one on the
     * same server may rely on auto-create */
    snprintf(off, sizeof off,
             "{\"persistent\":{\"action.auto_create_index\":\"-%s,+*\"}}",
             f->missing);
    es_http_call(&f->http, "PUT", "/_cluster/settings", "application/json", off,
                 200);
    bulk_request_reset(f->rq);
    add(f, f->missing, "m-1", "{\"n\":1}");
    add(f, f->good, "m-ok", "{\"n\":2}");
    int rc = send_and_parse(f, "missing-index", &err);
    es_http_call(&f->http, "PUT", "/_cluster/settings", "application/json",
                 auto_create_default, 200);
    if (rc != 0)
        fail_msg("missing-index: %s", err.msg);
    expect(f, "missing-index", 0, BULK_NO_INDEX, &it);
    assert_int_equal(it.status, 404);
    assert_true(contains(it.reason, f->missing));
    expect(f, "missing-index", 1, BULK_DONE, &it);
}

/* A body the server cannot read at all (an unknown action): one error for
 * the whole request, with the server's status and type in the line. */
static void test_whole_request_error(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    long st;

    st = es_http_request(&f->http, "POST", "/_bulk", "application/x-ndjson",
                         "{\"frobnicate\":{\"_index\":\"x\"}}\n{}\n");
    capture(f, "whole-400");
    bulk_response_reset(f->rs, 1);
    bulk_response_feed(f->rs, f->http.body, f->http.len);
    assert_int_equal(bulk_response_finish(f->rs, st, &err), -1);
    printf("%s whole-400: %s\n", url_var, err.msg);
    assert_int_equal(st, 400);
    assert_int_equal(err.status, SL_EREMOTE);
    assert_non_null(strstr(err.msg, "bulk: HTTP 400: "));
    assert_null(strchr(err.msg, '\n'));
}

/* A gzip-encoded body (bulk_gzip, level 1, Content-Encoding: gzip) is
 * decoded by the server: every item DONE, and the events searchable with
 * their fields as sent. */
static void test_gzip_body_accepted(void **state)
{
    struct fixture *f = *state;
    struct sl_err err = {0};
    struct bulk_item it;
    struct sl_slice gz;
    char path[256], id[16], ev[96];

    bulk_request_reset(f->rq);
    for (int i = 1; i <= 3; i++) {
        snprintf(id, sizeof id, "gz-%d", i);
        snprintf(ev, sizeof ev, "{\"message\":\"gzipped event %d\",\"n\":%d}",
                 i, 100 + i);
        add(f, f->good, id, ev);
    }
    struct sl_slice body = bulk_request_body(f->rq);
    struct bulk_gzip *enc =
        bulk_gzip_new(BULK_GZIP_LEVEL_DEFAULT, 1 << 20, &err);
    if (enc == NULL || bulk_gzip_encode(enc, body.ptr, body.len, &gz, &err) < 0)
        fail_msg("gzip: %s", err.msg);
    printf("%s gzip: %zu bytes sent for %zu\n", url_var, gz.len, body.len);
    long st =
        es_http_request_raw(&f->http, "POST", "/_bulk", "application/x-ndjson",
                            "Content-Encoding: gzip", gz.ptr, gz.len);
    bulk_gzip_free(enc);
    if (st < 0)
        fail_msg("POST %s/_bulk (gzip): %s", f->http.url, f->http.errbuf);
    capture(f, "gzip");
    bulk_response_reset(f->rs, 3);
    bulk_response_feed(f->rs, f->http.body, f->http.len);
    if (bulk_response_finish(f->rs, st, &err) != 0)
        fail_msg("gzip: HTTP %ld: %s", st, err.msg);
    for (size_t i = 0; i < 3; i++)
        expect(f, "gzip", i, BULK_DONE, &it);

    snprintf(path, sizeof path, "/%s/_refresh", f->good);
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    snprintf(path, sizeof path, "/%s/_count?q=message:gzipped", f->good);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "count", 3);
    snprintf(path, sizeof path, "/%s/_doc/gz-2", f->good);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_string(&f->http, "_source.message", "gzipped event 2");
    es_json_assert_int(&f->http, "_source.n", 102);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_classified),
        cmocka_unit_test(test_write_block_is_retry),
        cmocka_unit_test(test_missing_index_without_auto_create),
        cmocka_unit_test(test_whole_request_error),
        cmocka_unit_test(test_gzip_body_accepted),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s SLUICE_TEST_{ES,ES9,OS,OS3}_URL\n", argv[0]);
        return 2;
    }
    url_var = argv[1];
    return ES_HTTP_RUN_GROUP(url_var, tests, setup, teardown);
}
