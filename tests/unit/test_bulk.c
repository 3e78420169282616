/* test_bulk.c: indexer/bulk: the `_bulk` body builder and the answer parser.
 *
 * Builder: the exact bytes of a body (escaping of index and _id), the byte
 * and item bounds at their boundary, refusals, copying a subset of items
 * for a retry and splitting in two for a 413, byte for byte.
 *
 * Parser: the real answers of Elasticsearch 8/9 (errors, took, items) and
 * OpenSearch 2/3 (took, errors, items), read from the fuzz corpus where
 * tests/integration/test_bulk_real.c captured them
 * (tests/fuzz/corpus/fuzz_bulk_response/real-*.json, SLUICE_BULK_CORPUS:
 * one copy, not one here too), each with the classes the real-server test
 * pins; a hand-made answer with every class in it; and every way an answer
 * is refused as a whole, with the line an operator reads. Every answer is
 * also fed in fragments of every size from 1 byte to its length, and each
 * must give the same result: the parser streams, as curl delivers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulk_request.h"
#include "bulk_response.h"
#include "sl_file.h"

/* ---- helpers ------------------------------------------------------- */

#define S(lit) lit, sizeof(lit) - 1

static void add_ok(struct bulk_request *rq, const char *index, const char *id,
                   const char *ev, uint64_t tag)
{
    struct sl_err err = {0};
    if (bulk_request_add(rq, index, strlen(index), id, strlen(id), ev,
                         strlen(ev), tag, &err) < 0)
        fail_msg("add %s/%s: %s", index, id, err.msg);
}

static void assert_slice(struct sl_slice s, const char *want)
{
    if (!sl_slice_eq(s, want, strlen(want)))
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.ptr, want);
}

static struct bulk_request *new_request(size_t max_bytes, size_t max_items)
{
    struct bulk_request *rq = bulk_request_new(max_bytes, max_items, NULL);
    assert_non_null(rq);
    return rq;
}

/* The body of item i as its own string (action line + event + "\n"). */
static struct sl_slice item_bytes(const struct bulk_request *rq, size_t i)
{
    const struct bulk_req_item *it = bulk_request_item(rq, i);
    struct sl_slice s = {bulk_request_body(rq).ptr + it->off,
                         it->ev_off + it->ev_len + 1 - it->off};
    return s;
}

/* ---- builder ------------------------------------------------------- */

static void test_body_exact(void **state)
{
    (void)state;
    struct bulk_request *rq = new_request(1 << 20, 8);

    add_ok(rq, "logs-2025.11.21", "h1:/var/log/a.log:0", "{\"m\":1}", 7);
    /* quote, backslash, control byte and invalid UTF-8 in the id */
    add_ok(rq, "l\"x", "a\"b\\c\x01\xff", "{\"m\":\"\\n\"}", 9);
    assert_slice(bulk_request_body(rq),
                 "{\"create\":{\"_index\":\"logs-2025.11.21\","
                 "\"_id\":\"h1:/var/log/a.log:0\"}}\n"
                 "{\"m\":1}\n"
                 "{\"create\":{\"_index\":\"l\\\"x\","
                 "\"_id\":\"a\\\"b\\\\c\\u0001\xef\xbf\xbd\"}}\n"
                 "{\"m\":\"\\n\"}\n");
    assert_int_equal(bulk_request_count(rq), 2);
    assert_int_equal(bulk_request_item(rq, 0)->tag, 7);
    assert_int_equal(bulk_request_item(rq, 1)->tag, 9);
    assert_int_equal(bulk_request_item(rq, 0)->off, 0);
    assert_slice(bulk_request_event(rq, 0), "{\"m\":1}");
    assert_slice(bulk_request_event(rq, 1), "{\"m\":\"\\n\"}");
    assert_null(bulk_request_item(rq, 2));
    assert_int_equal(bulk_request_event(rq, 2).len, 0);

    bulk_request_reset(rq);
    assert_int_equal(bulk_request_count(rq), 0);
    assert_int_equal(bulk_request_body(rq).len, 0);
    add_ok(rq, "i", "1", "{}", 0);
    assert_slice(bulk_request_body(rq),
                 "{\"create\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{}\n");
    bulk_request_free(rq);
    bulk_request_free(NULL);
}

/* One item is 45 bytes: {"create":{"_index":"i","_id":"N"}}\n{"m":1}\n */
#define ITEM_LEN 45

static void test_byte_bound(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *rq = new_request(1 << 20, 8);

    add_ok(rq, "i", "1", "{\"m\":12}", 0);
    assert_int_equal(bulk_request_body(rq).len, ITEM_LEN);
    bulk_request_free(rq);

    /* exactly two items fit 2 * ITEM_LEN bytes ... */
    rq = new_request(2 * ITEM_LEN, 8);
    add_ok(rq, "i", "1", "{\"m\":12}", 0);
    add_ok(rq, "i", "2", "{\"m\":12}", 1);
    assert_int_equal(bulk_request_add(rq, S("i"), S("3"), S("{}"), 2, &err),
                     -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg,
                        "bulk request full: the item would pass 90 bytes");
    assert_int_equal(bulk_request_count(rq), 2);
    assert_int_equal(bulk_request_body(rq).len, 2 * ITEM_LEN);
    assert_int_equal(bulk_request_body(rq).ptr[2 * ITEM_LEN], '\0');
    bulk_request_free(rq);

    /* ... and one byte less takes only one; the refused add leaves it as it
     * was, whether the action line or the event passed the limit */
    rq = new_request(2 * ITEM_LEN - 1, 8);
    add_ok(rq, "i", "1", "{\"m\":12}", 0);
    assert_int_equal(
        bulk_request_add(rq, S("i"), S("2"), S("{\"m\":12}"), 1, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(
        bulk_request_add(rq, S("iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii"),
                         S("2"), S("{}"), 1, &err),
        -1);
    assert_int_equal(bulk_request_count(rq), 1);
    assert_int_equal(bulk_request_body(rq).len, ITEM_LEN);
    assert_slice(bulk_request_body(rq),
                 "{\"create\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{\"m\":12}\n");
    bulk_request_reset(rq);
    add_ok(rq, "i", "2", "{\"m\":12}", 1);
    bulk_request_free(rq);

    /* an item larger than an empty request never fits */
    rq = new_request(ITEM_LEN - 1, 8);
    assert_int_equal(
        bulk_request_add(rq, S("i"), S("1"), S("{\"m\":12}"), 0, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(bulk_request_count(rq), 0);
    assert_int_equal(bulk_request_body(rq).len, 0);
    bulk_request_free(rq);
}

static void test_item_bound_and_refusals(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *rq = new_request(1 << 20, 2);

    add_ok(rq, "i", "1", "{}", 0);
    add_ok(rq, "i", "2", "{}", 1);
    assert_int_equal(bulk_request_add(rq, S("i"), S("3"), S("{}"), 2, &err),
                     -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "bulk request full: 2 items");
    bulk_request_reset(rq);

    assert_int_equal(
        bulk_request_add(rq, S("i"), S("1"), S("{\"a\":\n1}"), 0, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "bulk request: the event holds a newline; "
                                 "events must be one line of JSON");
    assert_int_equal(bulk_request_add(rq, S("i"), S("1"), "", 0, 0, &err), -1);
    assert_string_equal(err.msg, "bulk request: empty event");
    assert_int_equal(bulk_request_add(rq, "", 0, S("1"), S("{}"), 0, &err), -1);
    assert_string_equal(err.msg, "bulk request: empty index");
    assert_int_equal(bulk_request_add(rq, S("i"), "", 0, S("{}"), 0, &err), -1);
    assert_string_equal(err.msg, "bulk request: empty _id");
    assert_int_equal(bulk_request_count(rq), 0);
    assert_int_equal(bulk_request_body(rq).len, 0);

    assert_null(bulk_request_new(0, 1, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_null(bulk_request_new(1, 0, NULL));
    bulk_request_free(rq);
}

static void fill5(struct bulk_request *rq)
{
    add_ok(rq, "a", "id-0", "{\"n\":0}", 100);
    add_ok(rq, "bb", "id-1", "{\"n\":11}", 101);
    add_ok(rq, "a", "i\"d-2", "{\"n\":222}", 102);
    add_ok(rq, "ccc", "id-3", "{\"n\":3333}", 103);
    add_ok(rq, "a", "id-4", "{\"n\":44444}", 104);
}

/* Retries of two requests joined in one: all items appended after what
 * dst holds, or none when they do not fit (dst unchanged). */
static void test_append_items(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *src = new_request(1 << 20, 8);
    struct bulk_request *dst = new_request(1 << 20, 4);
    struct bulk_request *ref = new_request(1 << 20, 8);
    const size_t first[] = {3}, more[] = {0, 2}, three[] = {0, 1, 2};

    fill5(src);
    assert_int_equal(bulk_request_copy_items(dst, src, first, 1, &err), 0);
    assert_int_equal(bulk_request_append_items(dst, src, more, 2, &err), 0);
    add_ok(ref, "ccc", "id-3", "{\"n\":3333}", 103);
    add_ok(ref, "a", "id-0", "{\"n\":0}", 100);
    add_ok(ref, "a", "i\"d-2", "{\"n\":222}", 102);
    assert_int_equal(bulk_request_count(dst), 3);
    assert_int_equal(bulk_request_body(dst).len, bulk_request_body(ref).len);
    assert_memory_equal(bulk_request_body(dst).ptr, bulk_request_body(ref).ptr,
                        bulk_request_body(ref).len);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(bulk_request_item(dst, i)->ev_off,
                         bulk_request_item(ref, i)->ev_off);
    /* three more do not fit a request of 4: none is added */
    size_t len = bulk_request_body(dst).len;
    assert_int_equal(bulk_request_append_items(dst, src, three, 3, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(bulk_request_count(dst), 3);
    assert_int_equal(bulk_request_body(dst).len, len);
    assert_memory_equal(bulk_request_body(dst).ptr, bulk_request_body(ref).ptr,
                        len);
    bulk_request_free(src);
    bulk_request_free(dst);
    bulk_request_free(ref);
}

static void test_copy_items(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *src = new_request(1 << 20, 8);
    struct bulk_request *dst = new_request(1 << 20, 8);
    struct bulk_request *ref = new_request(1 << 20, 8);
    const size_t which[] = {3, 0, 2};

    fill5(src);
    add_ok(dst, "old", "old", "{}", 1); /* copy resets it first */
    assert_int_equal(bulk_request_copy_items(dst, src, which, 3, &err), 0);
    /* the same bytes as building those three afresh */
    add_ok(ref, "ccc", "id-3", "{\"n\":3333}", 103);
    add_ok(ref, "a", "id-0", "{\"n\":0}", 100);
    add_ok(ref, "a", "i\"d-2", "{\"n\":222}", 102);
    assert_int_equal(bulk_request_body(dst).len, bulk_request_body(ref).len);
    assert_memory_equal(bulk_request_body(dst).ptr, bulk_request_body(ref).ptr,
                        bulk_request_body(ref).len);
    assert_int_equal(bulk_request_count(dst), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(bulk_request_item(dst, i)->tag, 100 + which[i]);
        assert_int_equal(bulk_request_item(dst, i)->off,
                         bulk_request_item(ref, i)->off);
        assert_int_equal(bulk_request_item(dst, i)->ev_off,
                         bulk_request_item(ref, i)->ev_off);
    }
    assert_slice(bulk_request_event(dst, 0), "{\"n\":3333}");
    /* a copy of a copy, as a second retry makes */
    const size_t last[] = {2};
    assert_int_equal(bulk_request_copy_items(ref, dst, last, 1, &err), 0);
    assert_slice(bulk_request_body(ref),
                 "{\"create\":{\"_index\":\"a\",\"_id\":\"i\\\"d-2\"}}\n"
                 "{\"n\":222}\n");

    const size_t bad[] = {1, 5};
    assert_int_equal(bulk_request_copy_items(dst, src, bad, 2, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "bulk request: item 5 of a request of 5");
    assert_int_equal(bulk_request_count(dst), 0);
    assert_int_equal(bulk_request_body(dst).len, 0);
    assert_int_equal(bulk_request_copy_items(src, src, which, 1, &err), -1);
    assert_int_equal(bulk_request_count(src), 5);

    /* a destination too small: refused, left empty */
    struct bulk_request *small = new_request(60, 8);
    assert_int_equal(bulk_request_copy_items(small, src, which, 3, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_int_equal(bulk_request_count(small), 0);
    assert_int_equal(bulk_request_body(small).len, 0);

    bulk_request_free(small);
    bulk_request_free(src);
    bulk_request_free(dst);
    bulk_request_free(ref);
}

static void test_split(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *src = new_request(1 << 20, 8);
    struct bulk_request *a = new_request(1 << 20, 8);
    struct bulk_request *b = new_request(1 << 20, 8);

    fill5(src);
    assert_int_equal(bulk_request_split(src, a, b, &err), 0);
    assert_int_equal(bulk_request_count(a), 2);
    assert_int_equal(bulk_request_count(b), 3);
    struct sl_slice sa = bulk_request_body(a), sb = bulk_request_body(b);
    struct sl_slice ss = bulk_request_body(src);
    assert_int_equal(sa.len + sb.len, ss.len);
    assert_memory_equal(sa.ptr, ss.ptr, sa.len);
    assert_memory_equal(sb.ptr, ss.ptr + sa.len, sb.len);
    assert_int_equal(bulk_request_item(a, 1)->tag, 101);
    assert_int_equal(bulk_request_item(b, 0)->tag, 102);
    assert_int_equal(bulk_request_item(b, 0)->off, 0);
    assert_slice(bulk_request_event(b, 2), "{\"n\":44444}");
    struct sl_slice first = item_bytes(b, 0);
    assert_memory_equal(first.ptr, item_bytes(src, 2).ptr, first.len);

    /* halves of halves, down to one item that cannot be split */
    assert_int_equal(bulk_request_split(a, src, b, &err), 0);
    assert_int_equal(bulk_request_count(src), 1);
    assert_int_equal(bulk_request_split(src, a, b, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "bulk request: one item of 47 bytes is too "
                                 "large for the server; it cannot be split");
    assert_int_equal(bulk_request_split(src, src, b, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    bulk_request_free(src);
    bulk_request_free(a);
    bulk_request_free(b);
}

/* ---- parser helpers ------------------------------------------------ */

static struct bulk_response *new_parser(void)
{
    struct bulk_response *r =
        bulk_response_new(64, BULK_REASON_MAX_DEFAULT, 1 << 20, NULL);
    assert_non_null(r);
    return r;
}

static int parse_in(struct bulk_response *r, const char *body, size_t len,
                    size_t nitems, long status, size_t chunk,
                    struct sl_err *err)
{
    bulk_response_reset(r, nitems);
    for (size_t off = 0; off < len; off += chunk)
        bulk_response_feed(r, body + off,
                           len - off < chunk ? len - off : chunk);
    return bulk_response_finish(r, status, err);
}

/* What one parse gave, to compare parses in different fragments. */
struct outcome {
    int rc;
    struct sl_err err;
    char items[8192];
};

static void outcome_of(struct bulk_response *r, int rc,
                       const struct sl_err *err, struct outcome *o)
{
    size_t used = 0;
    struct bulk_item it;

    o->rc = rc;
    o->err = *err;
    o->items[0] = '\0';
    for (size_t i = 0; bulk_response_item(r, i, &it); i++) {
        used += (size_t)snprintf(
            o->items + used, sizeof o->items - used,
            "%d %d %d %.*s|%.*s|%.*s|%.*s|%.*s\n", (int)it.cls, (int)it.op,
            it.status, (int)it.id.len, it.id.ptr, (int)it.type.len, it.type.ptr,
            (int)it.reason.len, it.reason.ptr, (int)it.cause_type.len,
            it.cause_type.ptr, (int)it.cause_reason.len, it.cause_reason.ptr);
        assert_true(used < sizeof o->items);
    }
}

/* Parses body whole, then in fragments of every size from 1 byte up; every
 * parse must give the same result as the whole one. Returns finish's
 * result; r holds the last parse (whole, again) and err its error. */
static int parse(struct bulk_response *r, const char *body, size_t nitems,
                 long status, struct sl_err *err)
{
    static struct outcome whole, part;
    size_t len = strlen(body);
    int rc = parse_in(r, body, len, nitems, status, len + 1, err);

    outcome_of(r, rc, err, &whole);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        struct sl_err e = {0};
        int prc = parse_in(r, body, len, nitems, status, chunk, &e);
        outcome_of(r, prc, &e, &part);
        if (part.rc != whole.rc || strcmp(part.items, whole.items) != 0 ||
            (prc < 0 && (e.status != err->status ||
                         /* yajl's message may differ by where it stopped */
                         strncmp(e.msg, err->msg, 20) != 0)))
            fail_msg("fragments of %zu differ from the whole:\n%d %s\n%s"
                     "whole:\n%d %s\n%s",
                     chunk, part.rc, e.msg, part.items, whole.rc, err->msg,
                     whole.items);
    }
    return parse_in(r, body, len, nitems, status, len + 1, err);
}

static void expect_item(struct bulk_response *r, size_t i, enum bulk_class cls,
                        int status, const char *type)
{
    struct bulk_item it;
    if (!bulk_response_item(r, i, &it))
        fail_msg("no item %zu", i);
    if (it.cls != cls || it.status != status ||
        !sl_slice_eq(it.type, type, strlen(type)))
        fail_msg("item %zu: %s %d \"%.*s\", want %s %d \"%s\"", i,
                 bulk_class_name(it.cls), it.status, (int)it.type.len,
                 it.type.ptr, bulk_class_name(cls), status, type);
}

/* ---- answers ------------------------------------------------------- */

/* A corpus file: 3 bytes of fuzz input (a seed, the request's item count,
 * the HTTP status; see tests/fuzz/fuzz_bulk_response.c), then the answer. */
struct answer {
    struct sl_buf file;
    const char *body; /* NUL-terminated */
    size_t nitems;
    long status;
};

static void load_answer(struct answer *a, const char *name)
{
    static const long statuses[16] = {200, 200, 200, 200, 400, 401, 403, 404,
                                      413, 429, 500, 503, 201, 0,   302, 599};
    char path[512];
    struct sl_err err;
    snprintf(path, sizeof path, "%s/%s", SLUICE_BULK_CORPUS, name);
    sl_buf_init(&a->file, 1 << 16);
    if (sl_file_read(path, "corpus file", 1 << 16, &a->file, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(a->file.len > 3);
    const unsigned char *u = (const unsigned char *)a->file.ptr;
    a->nitems = 1 + u[1] % 64;
    a->status = statuses[u[2] % 16];
    a->body = a->file.ptr + 3;
}

/* The all-ok answers of Elasticsearch 8.15 and OpenSearch 2.17, for the
 * tests of refusals below (loaded by the group setup). */
static struct answer es_all_ok, os_all_ok;
static const char *es_ok, *os_ok;

static int load_ok_answers(void **state)
{
    (void)state;
    load_answer(&es_all_ok, "real-es-all-ok.json");
    load_answer(&os_all_ok, "real-os-all-ok.json");
    es_ok = es_all_ok.body;
    os_ok = os_all_ok.body;
    return 0;
}

static int free_ok_answers(void **state)
{
    (void)state;
    sl_buf_release(&es_all_ok.file);
    sl_buf_release(&os_all_ok.file);
    return 0;
}

/* Each server's real answers, with what test_bulk_real pins for them:
 * the class of each item in order, or a refusal of the whole answer. */
static void test_real_answers(void **state)
{
    (void)state;
    static const char *const servers[] = {"es", "es9", "os", "os3"};
    static const struct {
        const char *name;
        const char *classes; /* D done, P duplicate, X dead, R retry,
                                N no index; "" refused as a whole */
    } cases[] = {
        {"all-ok", "D"},         {"mixed", "DPXXDX"},
        {"blocks-write", "RDR"}, {"blocks-read-only-allow-delete", "RDR"},
        {"unblocked", "D"},      {"missing-index", "ND"},
        {"whole-400", ""},
    };
    static const char letters[] = "DPXRN";
    static const enum bulk_class cls[] = {BULK_DONE, BULK_DUPLICATE, BULK_DEAD,
                                          BULK_RETRY, BULK_NO_INDEX};
    struct bulk_response *r = new_parser();
    for (size_t s = 0; s < 4; s++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char name[96];
            struct answer a;
            struct sl_err err = {0};
            struct bulk_item it;
            snprintf(name, sizeof name, "real-%s-%s.json", servers[s],
                     cases[c].name);
            load_answer(&a, name);
            size_t n = strlen(cases[c].classes);
            int rc = parse(r, a.body, a.nitems, a.status, &err);
            if (n == 0) {
                assert_int_equal(rc, -1);
                assert_int_equal(a.status, 400);
                assert_int_equal(err.status, SL_EREMOTE);
                if (strncmp(err.msg, "bulk: HTTP 400: ", 16) != 0)
                    fail_msg("%s: %s", name, err.msg);
            } else if (rc != 0 || a.nitems != n) {
                fail_msg("%s: %d for %zu items: %s", name, rc, a.nitems,
                         err.msg);
            }
            for (size_t i = 0; i < n; i++) {
                assert_true(bulk_response_item(r, i, &it));
                size_t k =
                    (size_t)(strchr(letters, cases[c].classes[i]) - letters);
                if (it.cls != cls[k])
                    fail_msg("%s item %zu: %s, want %s", name, i,
                             bulk_class_name(it.cls), bulk_class_name(cls[k]));
            }
            if (strcmp(cases[c].name, "all-ok") == 0)
                assert_true(bulk_response_fast_path(r));
            sl_buf_release(&a.file);
        }
    }
    bulk_response_free(r);
}

static void test_all_ok_fast_path(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_response *r = new_parser();
    struct bulk_item it;

    assert_int_equal(parse(r, es_ok, 1, 200, &err), 0);
    assert_true(bulk_response_fast_path(r));
    assert_int_equal(bulk_response_count(r), 1);
    assert_int_equal(bulk_response_class_count(r, BULK_DONE), 1);
    expect_item(r, 0, BULK_DONE, 201, "");
    assert_true(bulk_response_item(r, 0, &it));
    assert_int_equal(it.op, BULK_OP_CREATE);
    assert_int_equal(it.id.len, 0); /* not copied on the fast path */
    assert_false(bulk_response_item(r, 1, &it));

    assert_int_equal(parse(r, os_ok, 1, 200, &err), 0);
    assert_true(bulk_response_fast_path(r));
    expect_item(r, 0, BULK_DONE, 201, "");

    /* an index (not create) that updated: 200, done */
    assert_int_equal(parse(r,
                           "{\"errors\":false,\"items\":[{\"create\":{"
                           "\"status\":201}},{\"index\":{\"_id\":\"c\","
                           "\"result\":\"updated\",\"status\":200}}]}",
                           2, 200, &err),
                     0);
    assert_true(bulk_response_fast_path(r));
    expect_item(r, 1, BULK_DONE, 200, "");
    assert_true(bulk_response_item(r, 1, &it));
    assert_int_equal(it.op, BULK_OP_INDEX);

    /* "errors" after "items": no fast path, the same verdict */
    assert_int_equal(
        parse(r,
              "{\"items\":[{\"create\":{\"_id\":\"x\",\"status\":201}}],"
              "\"took\":1,\"errors\":false}",
              1, 200, &err),
        0);
    assert_false(bulk_response_fast_path(r));
    assert_true(bulk_response_item(r, 0, &it));
    assert_slice(it.id, "x");
    assert_int_equal(it.cls, BULK_DONE);

    /* "errors": false but an item failed: the item's own status wins */
    assert_int_equal(parse(r,
                           "{\"errors\":false,\"items\":[{\"create\":{"
                           "\"status\":429,\"error\":{\"type\":"
                           "\"es_rejected_execution_exception\"}}}]}",
                           1, 200, &err),
                     0);
    expect_item(r, 0, BULK_RETRY, 429, "es_rejected_execution_exception");
    bulk_response_free(r);
    bulk_response_free(NULL);
}

/* Every class in one answer: hand-made from pieces of the four servers'
 * answers (no real answer has them all). */
static const char mixed[] =
    "{\"took\":7,\"errors\":true,\"items\":["
    /* 0 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"ok-2\",\"_version\":1,"
    "\"result\":\"created\",\"status\":201}},"
    /* 1 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"dup-1\",\"status\":409,"
    "\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":"
    "\"[dup-1]: version conflict, document already exists (current version "
    "[1])\",\"index\":\"logs\",\"shard\":\"0\",\"index_uuid\":\"CJJY\"}}},"
    /* 2 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"bad-n\",\"status\":400,"
    "\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to "
    "parse field [n] of type [long] in document with id 'bad-n'. Preview of "
    "field's value: 'not-a-number'\",\"caused_by\":{\"type\":"
    "\"illegal_argument_exception\",\"reason\":\"For input string: "
    "\\\"not-a-number\\\"\",\"caused_by\":{\"type\":\"deeper\","
    "\"reason\":\"ignored\"}}}}},"
    /* 3 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"r\",\"status\":429,\"error\":"
    "{\"type\":\"es_rejected_execution_exception\",\"reason\":\"rejected "
    "execution of coordinating operation\"}}},"
    /* 4 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"u\",\"status\":503,\"error\":"
    "{\"type\":\"unavailable_shards_exception\",\"reason\":\"[logs][0] "
    "primary shard is not active\"}}},"
    /* 5 */
    "{\"create\":{\"_index\":\"ro\",\"_id\":\"b-1\",\"status\":403,\"error\":"
    "{\"type\":\"cluster_block_exception\",\"reason\":\"index [ro] blocked "
    "by: [FORBIDDEN/8/index write (api)];\"}}},"
    /* 6 */
    "{\"create\":{\"_index\":\"ro\",\"_id\":\"b-2\",\"status\":429,\"error\":"
    "{\"type\":\"cluster_block_exception\",\"reason\":\"index [ro] blocked "
    "by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, "
    "index has read-only-allow-delete block];\"}}},"
    /* 7 */
    "{\"create\":{\"_index\":\"nope\",\"_id\":\"m-1\",\"status\":404,"
    "\"error\":{\"type\":\"index_not_found_exception\",\"reason\":\"no such "
    "index [nope] and [action.auto_create_index] is [false]\","
    "\"index_uuid\":\"_na_\",\"index\":\"nope\"}}},"
    /* 8 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"x\",\"status\":500,\"error\":"
    "{\"type\":\"not_x_content_exception\",\"reason\":\"Compressor "
    "detection can only be called on some xcontent bytes or compressed "
    "xcontent bytes\"}}},"
    /* 9 */
    "{\"index\":{\"_index\":\"logs\",\"_id\":\"v\",\"status\":409,\"error\":"
    "{\"type\":\"version_conflict_engine_exception\",\"reason\":\"v\"}}},"
    /* 10 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"s\",\"status\":400,\"error\":"
    "{\"type\":\"strict_dynamic_mapping_exception\",\"reason\":\"mapping "
    "set to strict, dynamic introduction of [unknown_field] within [_doc] "
    "is not allowed\"}}},"
    /* 11 */
    "{\"create\":{\"_index\":\"logs\",\"_id\":\"d\",\"status\":400,\"error\":"
    "{\"type\":\"document_parsing_exception\",\"reason\":\"[1:22] failed "
    "to parse field [n] of type [long]\",\"caused_by\":{\"type\":"
    "\"illegal_argument_exception\",\"reason\":\"For input string\"}}}}"
    "]}";

static void test_mixed(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_response *r = new_parser();
    struct bulk_item it;

    assert_int_equal(parse(r, mixed, 12, 200, &err), 0);
    assert_false(bulk_response_fast_path(r));
    assert_int_equal(bulk_response_count(r), 12);
    expect_item(r, 0, BULK_DONE, 201, "");
    expect_item(r, 1, BULK_DUPLICATE, 409, "version_conflict_engine_exception");
    expect_item(r, 2, BULK_DEAD, 400, "mapper_parsing_exception");
    expect_item(r, 3, BULK_RETRY, 429, "es_rejected_execution_exception");
    expect_item(r, 4, BULK_RETRY, 503, "unavailable_shards_exception");
    expect_item(r, 5, BULK_RETRY, 403, "cluster_block_exception");
    expect_item(r, 6, BULK_RETRY, 429, "cluster_block_exception");
    expect_item(r, 7, BULK_NO_INDEX, 404, "index_not_found_exception");
    expect_item(r, 8, BULK_DEAD, 500, "not_x_content_exception");
    expect_item(r, 9, BULK_DEAD, 409, "version_conflict_engine_exception");
    expect_item(r, 10, BULK_DEAD, 400, "strict_dynamic_mapping_exception");
    expect_item(r, 11, BULK_DEAD, 400, "document_parsing_exception");
    assert_int_equal(bulk_response_class_count(r, BULK_DONE), 1);
    assert_int_equal(bulk_response_class_count(r, BULK_DUPLICATE), 1);
    assert_int_equal(bulk_response_class_count(r, BULK_RETRY), 4);
    assert_int_equal(bulk_response_class_count(r, BULK_DEAD), 5);
    assert_int_equal(bulk_response_class_count(r, BULK_NO_INDEX), 1);

    assert_true(bulk_response_item(r, 2, &it));
    assert_int_equal(it.op, BULK_OP_CREATE);
    assert_slice(it.id, "bad-n");
    assert_slice(it.reason,
                 "failed to parse field [n] of type [long] in document with "
                 "id 'bad-n'. Preview of field's value: 'not-a-number'");
    assert_slice(it.cause_type, "illegal_argument_exception");
    assert_slice(it.cause_reason, "For input string: \"not-a-number\"");
    assert_true(bulk_response_item(r, 7, &it));
    assert_slice(it.reason, "no such index [nope] and "
                            "[action.auto_create_index] is [false]");
    assert_int_equal(it.cause_type.len, 0);
    assert_true(bulk_response_item(r, 9, &it));
    assert_int_equal(it.op, BULK_OP_INDEX);

    /* the parser is reused: the next answer replaces this one */
    assert_int_equal(parse(r, os_ok, 1, 200, &err), 0);
    assert_int_equal(bulk_response_class_count(r, BULK_DEAD), 0);
    assert_false(bulk_response_item(r, 1, &it));
    bulk_response_free(r);
}

static void test_classify_table(void **state)
{
    (void)state;
    static const struct {
        enum bulk_op op;
        int status;
        const char *type;
        enum bulk_class want;
    } cases[] = {
        {BULK_OP_CREATE, 200, "", BULK_DONE},
        {BULK_OP_CREATE, 201, "", BULK_DONE},
        {BULK_OP_CREATE, 299, "", BULK_DONE},
        {BULK_OP_CREATE, 409, "version_conflict_engine_exception",
         BULK_DUPLICATE},
        {BULK_OP_INDEX, 409, "version_conflict_engine_exception", BULK_DEAD},
        {BULK_OP_CREATE, 409, "other", BULK_DEAD},
        {BULK_OP_CREATE, 429, "es_rejected_execution_exception", BULK_RETRY},
        {BULK_OP_CREATE, 500, "es_rejected_execution_exception", BULK_RETRY},
        {BULK_OP_CREATE, 429, "", BULK_RETRY},
        {BULK_OP_CREATE, 408, "", BULK_RETRY},
        {BULK_OP_CREATE, 500, "", BULK_RETRY},
        {BULK_OP_CREATE, 503, "unavailable_shards_exception", BULK_RETRY},
        {BULK_OP_CREATE, 599, "", BULK_RETRY},
        {BULK_OP_CREATE, 403, "cluster_block_exception", BULK_RETRY},
        {BULK_OP_CREATE, 429, "cluster_block_exception", BULK_RETRY},
        {BULK_OP_CREATE, 403, "security_exception", BULK_DEAD},
        {BULK_OP_CREATE, 404, "index_not_found_exception", BULK_NO_INDEX},
        {BULK_OP_CREATE, 404, "", BULK_DEAD},
        {BULK_OP_CREATE, 400, "mapper_parsing_exception", BULK_DEAD},
        {BULK_OP_CREATE, 400, "document_parsing_exception", BULK_DEAD},
        {BULK_OP_CREATE, 400, "illegal_argument_exception", BULK_DEAD},
        {BULK_OP_CREATE, 400, "strict_dynamic_mapping_exception", BULK_DEAD},
        {BULK_OP_CREATE, 500, "not_x_content_exception", BULK_DEAD},
        {BULK_OP_CREATE, 500, "mapper_parsing_exception", BULK_DEAD},
        {BULK_OP_CREATE, 400, "index_closed_exception", BULK_DEAD},
        {BULK_OP_CREATE, 600, "", BULK_DEAD},
        {BULK_OP_CREATE, 302, "", BULK_DEAD},
        {BULK_OP_CREATE, 0, "", BULK_DEAD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum bulk_class got = bulk_classify(cases[i].op, cases[i].status,
                                            sl_slice_from(cases[i].type));
        if (got != cases[i].want)
            fail_msg("%d \"%s\": %s, want %s", cases[i].status, cases[i].type,
                     bulk_class_name(got), bulk_class_name(cases[i].want));
    }
    assert_string_equal(bulk_class_name(BULK_NO_INDEX), "no-index");
    assert_string_equal(bulk_class_name((enum bulk_class)9), "?");
}

static void expect_whole(const char *body, size_t nitems, long status,
                         enum sl_status st, const char *msg)
{
    struct sl_err err = {0};
    struct bulk_response *r = new_parser();
    struct bulk_item it;

    assert_int_equal(parse(r, body, nitems, status, &err), -1);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.status, st);
    assert_int_equal(bulk_response_count(r), 0);
    assert_false(bulk_response_item(r, 0, &it));
    bulk_response_free(r);
}

static void test_count_mismatch(void **state)
{
    (void)state;
    expect_whole(es_ok, 4, 200, SL_ERETRY,
                 "bulk: answer: 1 items answered for a request of 4; "
                 "sending the request again");
    expect_whole("{\"errors\":false,\"items\":[{\"create\":{\"status\":"
                 "201}},{\"create\":{\"status\":201}},{\"create\":{"
                 "\"status\":201}}]}",
                 2, 200, SL_ERETRY,
                 "bulk: answer: more items than the 2 of the request; "
                 "sending the request again");
    expect_whole("{\"took\":1,\"errors\":false,\"items\":[]}", 1, 200,
                 SL_ERETRY,
                 "bulk: answer: 0 items answered for a request of 1; "
                 "sending the request again");
    expect_whole("{\"took\":1,\"errors\":false}", 1, 200, SL_ERETRY,
                 "bulk: answer: no \"items\" array in the answer; sending "
                 "the request again");
    expect_whole(os_ok, 65, 200, SL_ERETRY,
                 "bulk: answer: a request of 65 items (1 to 64 expected); "
                 "sending the request again");
}

static void test_malformed(void **state)
{
    (void)state;
    expect_whole("[]", 1, 200, SL_ERETRY,
                 "bulk: answer: the body is an array, not an object; sending "
                 "the request again");
    expect_whole("42", 1, 200, SL_ERETRY,
                 "bulk: answer: the body is not a JSON object; sending the "
                 "request again");
    expect_whole("{\"items\":{}}", 1, 200, SL_ERETRY,
                 "bulk: answer: \"items\" is not an array; sending the "
                 "request again");
    expect_whole("{\"items\":7}", 1, 200, SL_ERETRY,
                 "bulk: answer: \"items\" is not an array; sending the "
                 "request again");
    expect_whole("{\"items\":[{\"create\":{\"status\":201}},3]}", 2, 200,
                 SL_ERETRY,
                 "bulk: answer: item 1 is not an object; sending the "
                 "request again");
    expect_whole("{\"items\":[[]]}", 1, 200, SL_ERETRY,
                 "bulk: answer: item 0 is an array, not an object; sending "
                 "the request again");
    expect_whole("{\"items\":[{\"create\":\"x\"}]}", 1, 200, SL_ERETRY,
                 "bulk: answer: item 0: the action is not an object; sending "
                 "the request again");
    expect_whole("{\"items\":[{}]}", 1, 200, SL_ERETRY,
                 "bulk: answer: item 0 has no action object; sending the "
                 "request again");
    expect_whole("{\"items\":[{\"create\":{\"status\":\"201\"}}]}", 1, 200,
                 SL_ERETRY,
                 "bulk: answer: item 0 has no integer \"status\"; sending the "
                 "request again");
    expect_whole("{\"items\":[{\"create\":{\"status\":1000}}]}", 1, 200,
                 SL_ERETRY,
                 "bulk: answer: item 0: status 1000; sending the request "
                 "again");
    expect_whole("{\"items\":[],\"items\":[]}", 1, 200, SL_ERETRY,
                 "bulk: answer: \"items\" appears twice; sending the request "
                 "again");
    expect_whole("<html><body>oops</body></html>", 1, 200, SL_ERETRY,
                 "bulk: answer: lexical error: invalid char in json text.; "
                 "sending the request again");
    expect_whole("", 1, 200, SL_ERETRY,
                 "bulk: answer: cut short or not JSON after 0 bytes: "
                 "parse error: premature EOF; sending the request again");
}

/* Every prefix of a good answer is refused as a whole: cut short. */
static void test_truncated(void **state)
{
    (void)state;
    struct bulk_response *r = new_parser();
    size_t len = strlen(mixed);

    for (size_t cut = 0; cut < len; cut++) {
        struct sl_err err = {0};
        if (parse_in(r, mixed, cut, 12, 200, 1 + cut % 13, &err) != -1)
            fail_msg("a prefix of %zu bytes was accepted", cut);
        assert_int_equal(err.status, SL_ERETRY);
        assert_int_equal(bulk_response_count(r), 0);
    }
    struct sl_err err = {0};
    assert_int_equal(parse_in(r, mixed, len - 1, 12, 200, 100, &err), -1);
    assert_string_equal(err.msg, "bulk: answer: cut short or not JSON after "
                                 "2397 bytes: parse error: premature EOF; "
                                 "sending the request again");
    /* and trailing bytes after the answer are not JSON either */
    bulk_response_reset(r, 1);
    bulk_response_feed(r, os_ok, strlen(os_ok));
    assert_int_equal(bulk_response_feed(r, "{}", 2), -1);
    assert_int_equal(bulk_response_finish(r, 200, &err), -1);
    bulk_response_free(r);
}

static void test_top_level_errors(void **state)
{
    (void)state;
    expect_whole("{\"error\":{\"root_cause\":[{\"type\":\"security_exception\","
                 "\"reason\":\"missing authentication credentials for REST "
                 "request [/_bulk]\"}],\"type\":\"security_exception\","
                 "\"reason\":\"missing authentication credentials for REST "
                 "request [/_bulk]\",\"header\":{\"WWW-Authenticate\":"
                 "\"Basic realm=\\\"security\\\"\"}},\"status\":401}",
                 1, 401, SL_EREMOTE,
                 "bulk: HTTP 401: security_exception: missing authentication "
                 "credentials for REST request [/_bulk]; check the user and "
                 "password or API key of the indexer");
    expect_whole("{\"error\":{\"type\":\"security_exception\",\"reason\":"
                 "\"action [indices:data/write/bulk[s]] is unauthorized for "
                 "user [sluice]\"},\"status\":403}",
                 1, 403, SL_EREMOTE,
                 "bulk: HTTP 403: security_exception: action "
                 "[indices:data/write/bulk[s]] is unauthorized for user "
                 "[sluice]; the indexer's user lacks a privilege (create_doc "
                 "on the index)");
    expect_whole("{\"error\":{\"type\":\"cluster_block_exception\",\"reason\":"
                 "\"blocked by: [FORBIDDEN/6/cluster read-only (api)];\"},"
                 "\"status\":403}",
                 1, 403, SL_ERETRY,
                 "bulk: HTTP 403: cluster_block_exception: blocked by: "
                 "[FORBIDDEN/6/cluster read-only (api)];; writes are blocked "
                 "(disk watermark or index.blocks.*): free disk or lift the "
                 "block");
    expect_whole("{\"error\":{\"type\":\"es_rejected_execution_exception\","
                 "\"reason\":\"rejected\"},\"status\":429}",
                 5, 429, SL_ERETRY,
                 "bulk: HTTP 429: es_rejected_execution_exception: rejected; "
                 "retrying later");
    /* the 400 every server sent for an unknown action, with a newline and a
     * caused_by added: still one line */
    expect_whole("{\"error\":{\"root_cause\":[],\"type\":"
                 "\"illegal_argument_exception\",\"reason\":\"Malformed "
                 "action/metadata line [1]\\nexpected [create]\","
                 "\"caused_by\":{\"type\":\"json_e_o_f_exception\","
                 "\"reason\":\"Unexpected end-of-input\"}},\"status\":400}",
                 1, 400, SL_EREMOTE,
                 "bulk: HTTP 400: illegal_argument_exception: Malformed "
                 "action/metadata line [1] expected [create]; caused by "
                 "json_e_o_f_exception: Unexpected end-of-input");
    expect_whole("{\"error\":\"Incorrect HTTP method for uri [/_bulk]\","
                 "\"status\":405}",
                 1, 405, SL_EREMOTE,
                 "bulk: HTTP 405: Incorrect HTTP method for uri [/_bulk]");
    expect_whole("{\"error\":{\"type\":\"index_not_found_exception\","
                 "\"reason\":\"no such index [x]\"},\"status\":404}",
                 1, 404, SL_EREMOTE,
                 "bulk: HTTP 404: index_not_found_exception: no such index "
                 "[x]; check the URL of the server");
    /* 413 from a proxy: HTML, or nothing at all */
    expect_whole("<html>\r\n<head><title>413 Request Entity Too Large</title>"
                 "</head>\r\n<body>\r\n<center><h1>413 Request Entity Too "
                 "Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
                 "</body>\r\n</html>\r\n",
                 100, 413, SL_ELIMIT,
                 "bulk: HTTP 413: body not a JSON error: \"<html>  "
                 "<head><title>413 Request Entity Too Large</title></head>  "
                 "<body>  <cente...\"; the request is over the server's "
                 "http.max_content_length: split it");
    /* a JSON error is quoted even for a request larger than the parser's
     * max_items (64 here) */
    expect_whole("{\"error\":{\"type\":\"content_too_long_exception\","
                 "\"reason\":\"too big\"},\"status\":413}",
                 100, 413, SL_ELIMIT,
                 "bulk: HTTP 413: content_too_long_exception: too big; the "
                 "request is over the server's http.max_content_length: "
                 "split it");
    expect_whole("", 100, 413, SL_ELIMIT,
                 "bulk: HTTP 413: empty body; the request is over the "
                 "server's http.max_content_length: split it");
    expect_whole("Service Unavailable", 1, 503, SL_ERETRY,
                 "bulk: HTTP 503: body not a JSON error: \"Service "
                 "Unavailable\"; retrying later");
    /* a non-2xx status with a body of items is still a failed request */
    expect_whole(os_ok, 1, 500, SL_ERETRY,
                 "bulk: HTTP 500: body not a JSON error: \"{\"took\":52,"
                 "\"errors\":false,\"items\":[{\"create\":{\"_index\":"
                 "\"sluice-bulk-7811-1795412...\"; retrying later");
}

/* Reasons are cut at the limit on a UTF-8 boundary; the first of repeated
 * keys is kept; the arena is bounded by max_items whatever the answer. */
static void test_reason_bounds(void **state)
{
    (void)state;
    static char body[8192];
    struct bulk_response *r = bulk_response_new(2, 16, 1 << 20, NULL);
    struct sl_err err = {0};
    struct bulk_item it;
    size_t used;

    assert_non_null(r);
    used = (size_t)snprintf(body, sizeof body,
                            "{\"items\":[{\"create\":{\"status\":400,"
                            "\"error\":{\"type\":\"t1\",\"type\":\"t2\","
                            "\"reason\":\"abcdefghijklmno");
    for (int i = 0; i < 1000; i++)
        used += (size_t)snprintf(body + used, sizeof body - used, "\xc3\xa9");
    snprintf(body + used, sizeof body - used, "\"}}}]}");
    assert_int_equal(parse(r, body, 1, 200, &err), 0);
    assert_true(bulk_response_item(r, 0, &it));
    assert_slice(it.type, "t1");
    /* 16 bytes would cut the first e-acute in two */
    assert_slice(it.reason, "abcdefghijklmno");
    bulk_response_free(r);

    assert_null(bulk_response_new(0, 1024, 1024, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_null(bulk_response_new(1, 15, 1024, NULL));
    assert_null(bulk_response_new(1, 1024, 0, NULL));
}

static void test_max_body(void **state)
{
    (void)state;
    struct bulk_response *r = bulk_response_new(4, 64, 100, NULL);
    struct sl_err err = {0};

    assert_non_null(r);
    bulk_response_reset(r, 3);
    assert_int_equal(bulk_response_feed(r, es_ok, 60), 0);
    assert_int_equal(bulk_response_feed(r, es_ok + 60, 41), -1);
    assert_int_equal(bulk_response_feed(r, "x", 1), -1);
    assert_int_equal(bulk_response_finish(r, 200, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "bulk: answer: answer larger than 100 bytes");
    /* usable again for the next answer */
    bulk_response_reset(r, 1);
    assert_int_equal(
        bulk_response_feed(r, S("{\"items\":[{\"create\":{\"status\":201}}]}")),
        0);
    assert_int_equal(bulk_response_finish(r, 200, &err), 0);
    assert_int_equal(bulk_response_count(r), 1);
    bulk_response_free(r);
}

/* The action head kept for the last index: the same bytes whether an index
 * repeats, alternates, needs escaping, or is too long to keep (300
 * bytes), across a reset. */
static void test_body_exact_with_kept_heads(void **state)
{
    (void)state;
    struct bulk_request *rq = new_request(1 << 20, 16);
    char longi[301];
    memset(longi, 'x', 300);
    longi[300] = '\0';
    const char *idx[] = {"a", "a", "b", "a", "l\"x", "l\"x", longi, longi, "a"};
    struct sl_buf want;
    sl_buf_init(&want, 1 << 20);
    for (size_t round = 0; round < 2; round++) {
        sl_buf_reset(&want);
        for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
            char id[8];
            snprintf(id, sizeof id, "%zu", i);
            add_ok(rq, idx[i], id, "{}", i);
            const char *esc = strcmp(idx[i], "l\"x") == 0 ? "l\\\"x" : idx[i];
            assert_int_equal(
                sl_buf_printf(&want, NULL,
                              "{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\"}}"
                              "\n{}\n",
                              esc, id),
                0);
        }
        assert_slice(bulk_request_body(rq), want.ptr);
        bulk_request_reset(rq);
    }
    sl_buf_release(&want);
    bulk_request_free(rq);
}

/* A request whose caller vouches for one-line events builds the same
 * bytes and items as one that checks; the vouch survives a reset and can
 * be taken back, and a request that checks still refuses a "\n". */
static void test_one_line_vouched(void **state)
{
    (void)state;
    struct bulk_request *checked = new_request(1 << 20, 8);
    struct bulk_request *vouched = new_request(1 << 20, 8);
    struct sl_err err = {0};
    bulk_request_set_one_line(vouched, true);
    for (int round = 0; round < 2; round++) {
        add_ok(checked, "a", "1", "{\"m\":\"x\"}", 1);
        add_ok(vouched, "a", "1", "{\"m\":\"x\"}", 1);
        add_ok(checked, "b", "2", "{}", 2);
        add_ok(vouched, "b", "2", "{}", 2);
        struct sl_slice c = bulk_request_body(checked);
        struct sl_slice v = bulk_request_body(vouched);
        assert_int_equal(v.len, c.len);
        assert_memory_equal(v.ptr, c.ptr, c.len);
        assert_int_equal(bulk_request_count(vouched), 2);
        assert_int_equal(bulk_request_item(vouched, 1)->ev_off,
                         bulk_request_item(checked, 1)->ev_off);
        bulk_request_reset(checked);
        bulk_request_reset(vouched);
    }
    assert_int_equal(
        bulk_request_add(checked, S("a"), S("1"), S("{\n}"), 3, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    bulk_request_set_one_line(vouched, false);
    assert_int_equal(
        bulk_request_add(vouched, S("a"), S("1"), S("{\n}"), 3, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(bulk_request_count(vouched), 0);
    bulk_request_free(checked);
    bulk_request_free(vouched);
}

#define CANON_ITEM_T "{\"create\":{\"status\":201}}"

/* The answer filtered as es_sender asks, all created: read without yajl;
 * cut anywhere, followed by bytes, or differing late, it gives what yajl
 * gives. parse() also feeds it in fragments of every size. */
static void test_canonical_answer(void **state)
{
    (void)state;
    struct bulk_response *r = new_parser();
    struct sl_err err = {0};
    const char *three = "{\"errors\":false,\"items\":[" CANON_ITEM_T
                        "," CANON_ITEM_T "," CANON_ITEM_T "]}";
    size_t len = strlen(three);

    assert_int_equal(parse(r, three, 3, 200, &err), 0);
    assert_int_equal(bulk_response_count(r), 3);
    for (size_t i = 0; i < 3; i++)
        expect_item(r, i, BULK_DONE, 201, "");
    struct bulk_item it;
    assert_true(bulk_response_item(r, 2, &it));
    assert_int_equal(it.op, BULK_OP_CREATE);
    assert_int_equal(it.id.len, 0);
    assert_int_equal(bulk_response_class_count(r, BULK_DONE), 3);
    assert_true(bulk_response_fast_path(r));

    for (size_t cut = 0; cut < len; cut++) {
        if (parse_in(r, three, cut, 3, 200, 1 + cut % 7, &err) != -1)
            fail_msg("a prefix of %zu bytes was accepted", cut);
        assert_int_equal(err.status, SL_ERETRY);
        assert_int_equal(bulk_response_count(r), 0);
    }
    assert_int_equal(parse_in(r, three, len - 1, 3, 200, 5, &err), -1);
    assert_string_equal(err.msg, "bulk: answer: cut short or not JSON after "
                                 "103 bytes: parse error: premature EOF; "
                                 "sending the request again");
    /* a newline after it is fine, more JSON is not */
    char buf[512];
    snprintf(buf, sizeof buf, "%s\n", three);
    assert_int_equal(parse(r, buf, 3, 200, &err), 0);
    assert_int_equal(bulk_response_count(r), 3);
    snprintf(buf, sizeof buf, "%s{}", three);
    assert_int_equal(parse_in(r, buf, strlen(buf), 3, 200, 1000, &err), -1);
    assert_int_equal(err.status, SL_ERETRY);
    /* differing after two canonical items: each item as it says */
    assert_int_equal(
        parse(r,
              "{\"errors\":false,\"items\":[" CANON_ITEM_T "," CANON_ITEM_T
              ",{\"create\":{\"status\":409,\"error\":{\"type\":"
              "\"version_conflict_engine_exception\",\"reason\":\"x\"}}},"
              "{\"create\":{\"status\":200}}]}",
              4, 200, &err),
        0);
    expect_item(r, 0, BULK_DONE, 201, "");
    expect_item(r, 1, BULK_DONE, 201, "");
    expect_item(r, 2, BULK_DUPLICATE, 409, "version_conflict_engine_exception");
    expect_item(r, 3, BULK_DONE, 200, "");
    /* errors true from the start */
    assert_int_equal(parse(r, "{\"errors\":true,\"items\":[" CANON_ITEM_T "]}",
                           1, 200, &err),
                     0);
    expect_item(r, 0, BULK_DONE, 201, "");
    assert_false(bulk_response_fast_path(r));
    /* a non-2xx status with a canonical body is still a failed request */
    assert_int_equal(parse_in(r, three, len, 3, 503, 1000, &err), -1);
    assert_int_equal(err.status, SL_ERETRY);
    bulk_response_free(r);
}

/* A whole-request 503 without a master (Elasticsearch 8.15 with two of
 * three nodes killed; OpenSearch says "cluster-manager") is retried and
 * says what is wrong: not a block to lift, nor disk to free. */
static void test_no_master_whole_request(void **state)
{
    (void)state;
    const char *es = "{\"error\":{\"root_cause\":[{\"type\":"
                     "\"cluster_block_exception\",\"reason\":\"blocked by: "
                     "[SERVICE_UNAVAILABLE/2/no master];\"}],\"type\":"
                     "\"cluster_block_exception\",\"reason\":\"blocked by: "
                     "[SERVICE_UNAVAILABLE/2/no master];\"},\"status\":503}";
    expect_whole(es, 3, 503, SL_ERETRY,
                 "bulk: HTTP 503: cluster_block_exception: blocked by: "
                 "[SERVICE_UNAVAILABLE/2/no master];; the cluster has no "
                 "elected master (or is still starting): a majority of its "
                 "master-eligible nodes must run; retrying later");
    expect_whole("{\"error\":{\"type\":\"cluster_block_exception\","
                 "\"reason\":\"blocked by: [SERVICE_UNAVAILABLE/2/no "
                 "cluster-manager];\"},\"status\":503}",
                 1, 503, SL_ERETRY,
                 "bulk: HTTP 503: cluster_block_exception: blocked by: "
                 "[SERVICE_UNAVAILABLE/2/no cluster-manager];; the cluster "
                 "has no elected master (or is still starting): a majority "
                 "of its master-eligible nodes must run; retrying later");
}

/* ---- borrowed events: the body as a scatter list ------------------- */

/* The whole body of rq read in pieces of `step` bytes (pos from its start),
 * into out (cap bytes); its length. */
static size_t read_all(const struct bulk_request *rq, size_t step, char *out,
                       size_t cap)
{
    struct bulk_read_pos pos = {0};
    size_t len = 0, n;
    while ((n = bulk_request_read(rq, &pos, out + len,
                                  step < cap - len ? step : cap - len)) > 0)
        len += n;
    return len;
}

static void assert_same_body(const struct bulk_request *borrowed,
                             const struct bulk_request *copied)
{
    struct sl_slice want = bulk_request_body(copied);
    static char got[4096];
    assert_true(want.len < sizeof got);
    assert_int_equal(bulk_request_size(borrowed), want.len);
    assert_int_equal(bulk_request_size(copied), want.len);
    assert_int_equal(bulk_request_count(borrowed), bulk_request_count(copied));
    for (size_t step = 1; step <= want.len + 1; step++) {
        assert_int_equal(read_all(borrowed, step, got, sizeof got), want.len);
        assert_memory_equal(got, want.ptr, want.len);
        assert_int_equal(read_all(copied, step, got, sizeof got), want.len);
        assert_memory_equal(got, want.ptr, want.len);
    }
    for (size_t i = 0; i < bulk_request_count(copied); i++) {
        struct sl_slice a = bulk_request_event(borrowed, i);
        struct sl_slice b = bulk_request_event(copied, i);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.ptr, b.ptr, b.len);
        assert_int_equal(bulk_request_item(borrowed, i)->tag,
                         bulk_request_item(copied, i)->tag);
    }
}

static const char *const BORROW_IX[] = {"a", "a", "l\"x", "a", "b", "b"};
static const char *const BORROW_EV[] = {"{}",
                                        "{\"m\":1}",
                                        "{\"m\":\"\\n\"}",
                                        "{\"x\":[1,2,3]}",
                                        "{\"y\":\"z\"}",
                                        "{\"n\":0}"};
#define BORROW_N (sizeof BORROW_EV / sizeof BORROW_EV[0])

static void add_both(struct bulk_request *b, struct bulk_request *c, size_t i)
{
    char id[8];
    snprintf(id, sizeof id, "id%zu", i);
    add_ok(b, BORROW_IX[i], id, BORROW_EV[i], 100 + i);
    add_ok(c, BORROW_IX[i], id, BORROW_EV[i], 100 + i);
}

/* A borrowing request reads, in pieces of every size, exactly the body a
 * copying one holds; its events are the caller's bytes, not copies; it
 * holds the action lines only; a reset empties it and keeps the mode. */
static void test_borrowed_body(void **state)
{
    (void)state;
    struct bulk_request *b = new_request(1 << 20, 16);
    struct bulk_request *c = new_request(1 << 20, 16);
    char buf[8];
    bulk_request_set_borrowed(b, true);
    assert_true(bulk_request_borrowed(b));
    assert_false(bulk_request_borrowed(c));
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < BORROW_N; i++)
            add_both(b, c, i);
        assert_same_body(b, c);
        for (size_t i = 0; i < BORROW_N; i++)
            assert_ptr_equal(bulk_request_event(b, i).ptr, BORROW_EV[i]);
        assert_true(bulk_request_body(b).len < bulk_request_body(c).len);
        assert_slice((struct sl_slice){bulk_request_body(b).ptr,
                                       bulk_request_item(b, 1)->off},
                     "{\"create\":{\"_index\":\"a\",\"_id\":\"id0\"}}\n");
        bulk_request_reset(b);
        bulk_request_reset(c);
        assert_int_equal(bulk_request_size(b), 0);
        assert_int_equal(read_all(b, 3, buf, sizeof buf), 0);
        assert_true(bulk_request_borrowed(b));
    }
    bulk_request_free(b);
    bulk_request_free(c);
}

/* max_bytes and max_items bind a borrowing request at the same item as a
 * copying one, and a refused add leaves it as it was. */
static void test_borrowed_bounds(void **state)
{
    (void)state;
    struct bulk_request *c = new_request(1 << 20, 16);
    struct sl_err err = {0};
    for (size_t i = 0; i < 3; i++)
        add_ok(c, BORROW_IX[i], "id", BORROW_EV[i], i);
    size_t three = bulk_request_size(c);
    for (size_t max = three - 1; max <= three; max++) {
        struct bulk_request *b = new_request(max, 16);
        struct bulk_request *k = new_request(max, 16);
        bulk_request_set_borrowed(b, true);
        for (size_t i = 0; i < 3; i++) {
            struct bulk_request *rq[] = {b, k};
            int want = i < 2 || max == three ? 0 : -1;
            for (size_t r = 0; r < 2; r++) {
                size_t size = bulk_request_size(rq[r]);
                int got = bulk_request_add(
                    rq[r], BORROW_IX[i], strlen(BORROW_IX[i]), S("id"),
                    BORROW_EV[i], strlen(BORROW_EV[i]), i, &err);
                assert_int_equal(got, want);
                if (got < 0) {
                    assert_int_equal(err.status, SL_ELIMIT);
                    assert_int_equal(bulk_request_size(rq[r]), size);
                    assert_int_equal(bulk_request_count(rq[r]), 2);
                }
            }
        }
        bulk_request_free(b);
        bulk_request_free(k);
    }
    struct bulk_request *one = new_request(1 << 20, 1);
    bulk_request_set_borrowed(one, true);
    add_ok(one, "a", "1", "{}", 1);
    assert_int_equal(bulk_request_add(one, S("a"), S("2"), S("{}"), 2, &err),
                     -1);
    assert_int_equal(err.status, SL_ELIMIT);
    bulk_request_free(one);
    bulk_request_free(c);
}

/* Retries and 413 halves of a borrowing request: the same bytes as the
 * copying ones; copying between the two kinds is refused. */
static void test_borrowed_copy_split(void **state)
{
    (void)state;
    struct bulk_request *b = new_request(1 << 20, 16);
    struct bulk_request *c = new_request(1 << 20, 16);
    struct bulk_request *bd = new_request(1 << 20, 16);
    struct bulk_request *cd = new_request(1 << 20, 16);
    struct bulk_request *b2 = new_request(1 << 20, 16);
    struct bulk_request *c2 = new_request(1 << 20, 16);
    struct sl_err err = {0};
    const size_t which[] = {4, 0, 2};
    bulk_request_set_borrowed(b, true);
    bulk_request_set_borrowed(bd, true);
    bulk_request_set_borrowed(b2, true);
    for (size_t i = 0; i < BORROW_N; i++)
        add_both(b, c, i);
    assert_int_equal(bulk_request_copy_items(bd, b, which, 3, &err), 0);
    assert_int_equal(bulk_request_copy_items(cd, c, which, 3, &err), 0);
    assert_same_body(bd, cd);
    assert_ptr_equal(bulk_request_event(bd, 0).ptr, BORROW_EV[4]);
    assert_int_equal(bulk_request_append_items(bd, b, which, 2, &err), 0);
    assert_int_equal(bulk_request_append_items(cd, c, which, 2, &err), 0);
    assert_same_body(bd, cd);
    assert_int_equal(bulk_request_split(b, bd, b2, &err), 0);
    assert_int_equal(bulk_request_split(c, cd, c2, &err), 0);
    assert_same_body(bd, cd);
    assert_same_body(b2, c2);
    assert_int_equal(bulk_request_copy_items(cd, b, which, 3, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(bulk_request_count(cd), 0);
    assert_int_equal(bulk_request_split(b, cd, c2, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    struct bulk_request *rqs[] = {b, c, bd, cd, b2, c2};
    for (size_t i = 0; i < 6; i++)
        bulk_request_free(rqs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_exact),
        cmocka_unit_test(test_body_exact_with_kept_heads),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_item_bound_and_refusals),
        cmocka_unit_test(test_append_items),
        cmocka_unit_test(test_copy_items),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_all_ok_fast_path),
        cmocka_unit_test(test_canonical_answer),
        cmocka_unit_test(test_real_answers),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_count_mismatch),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_top_level_errors),
        cmocka_unit_test(test_reason_bounds),
        cmocka_unit_test(test_max_body),
        cmocka_unit_test(test_one_line_vouched),
        cmocka_unit_test(test_no_master_whole_request),
        cmocka_unit_test(test_borrowed_body),
        cmocka_unit_test(test_borrowed_bounds),
        cmocka_unit_test(test_borrowed_copy_split),
    };
    return cmocka_run_group_tests(tests, load_ok_answers, free_ok_answers);
}
