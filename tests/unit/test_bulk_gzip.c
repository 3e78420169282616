/* test_bulk_gzip.c: gzip-encoded `_bulk` bodies (indexer/bulk/bulk_gzip),
 * checked by decoding them with zlib's inflate: byte for byte the body, one
 * gzip member, at every level; the encoder reused without leftovers of the
 * previous body; the output limit; the arguments refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "bulk_gzip.h"
#include "bulk_request.h"

/* Decodes one gzip member into a new buffer; fails the test unless it is
 * exactly one member that decodes to want. */
static void expect_decodes_to(struct sl_slice gz, const char *want,
                              size_t want_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK); /* gzip only */
    char *got = malloc(want_len + 64);
    assert_non_null(got);
    zs.next_in = (const Bytef *)gz.ptr;
    zs.avail_in = (uInt)gz.len;
    zs.next_out = (Bytef *)got;
    zs.avail_out = (uInt)(want_len + 64);
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.avail_in, 0); /* nothing after the member */
    assert_int_equal(zs.total_out, want_len);
    assert_memory_equal(got, want, want_len);
    inflateEnd(&zs);
    free(got);
}

/* A body of n events as the indexer builds it. */
static struct bulk_request *body_of(size_t n, const char *word)
{
    struct sl_err err = {0};
    struct bulk_request *rq = bulk_request_new(1 << 20, n, &err);
    assert_non_null(rq);
    for (size_t i = 0; i < n; i++) {
        char ev[200], id[32];
        int el = snprintf(ev, sizeof ev,
                          "{\"message\":\"%s %zu GET /index.html 200\","
                          "\"http\":{\"response\":{\"status_code\":200}}}",
                          word, i);
        int il = snprintf(id, sizeof id, "id-%zu", i);
        assert_int_equal(bulk_request_add(rq, "sluice-2026.12.04", 17, id,
                                          (size_t)il, ev, (size_t)el, i, &err),
                         0);
    }
    return rq;
}

static void round_trips_at_every_level(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *rq = body_of(200, "hello");
    struct sl_slice body = bulk_request_body(rq), out;
    for (int level = 1; level <= 9; level++) {
        struct bulk_gzip *gz = bulk_gzip_new(level, 1 << 20, &err);
        assert_non_null(gz);
        assert_int_equal(bulk_gzip_encode(gz, body.ptr, body.len, &out, &err),
                         0);
        /* RFC 1952: magic 1f 8b, method 8 (deflate) */
        assert_memory_equal(out.ptr, "\x1f\x8b\x08", 3);
        assert_true(out.len < body.len / 4); /* repetitive JSON shrinks */
        expect_decodes_to(out, body.ptr, body.len);
        bulk_gzip_free(gz);
    }
    bulk_request_free(rq);
}

static void reuses_the_encoder_and_its_buffer(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct bulk_request *a = body_of(100, "first"), *b = body_of(100, "other");
    struct sl_slice ba = bulk_request_body(a), bb = bulk_request_body(b), out;
    struct bulk_gzip *gz =
        bulk_gzip_new(BULK_GZIP_LEVEL_DEFAULT, 1 << 20, &err);
    assert_non_null(gz);
    assert_int_equal(bulk_gzip_encode(gz, ba.ptr, ba.len, &out, &err), 0);
    const char *warm = out.ptr;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bulk_gzip_encode(gz, bb.ptr, bb.len, &out, &err), 0);
        expect_decodes_to(out, bb.ptr, bb.len); /* nothing of a left */
        assert_ptr_equal(out.ptr, warm); /* same memory: nothing allocated */
        assert_int_equal(bulk_gzip_encode(gz, ba.ptr, ba.len, &out, &err), 0);
        expect_decodes_to(out, ba.ptr, ba.len);
    }
    /* an empty body is a valid empty member (header and trailer only) */
    assert_int_equal(bulk_gzip_encode(gz, "", 0, &out, &err), 0);
    assert_int_equal(out.len, 20);
    expect_decodes_to(out, "", 0);
    bulk_gzip_free(gz);
    bulk_request_free(a);
    bulk_request_free(b);
}

static void refuses_to_pass_its_limit_and_recovers(void **state)
{
    (void)state;
    struct sl_err err = {0};
    /* incompressible: gzip output is a little larger than the input */
    char noise[10000];
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (char)x;
    }
    struct bulk_gzip *gz = bulk_gzip_new(1, sizeof noise, &err);
    assert_non_null(gz);
    struct sl_slice out = {NULL, 0};
    assert_int_equal(bulk_gzip_encode(gz, noise, sizeof noise, &out, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "gzip: a body of 10000 bytes encodes to "
                                 "more than 10000 bytes");
    assert_null(out.ptr);
    /* the stream was reset: the next body encodes whole */
    assert_int_equal(bulk_gzip_encode(gz, noise, 9000, &out, &err), 0);
    assert_true(out.len > 9000 && out.len <= sizeof noise);
    expect_decodes_to(out, noise, 9000);
    bulk_gzip_free(gz);
}

static void refuses_bad_arguments(void **state)
{
    (void)state;
    struct sl_err err = {0};
    assert_null(bulk_gzip_new(0, 100, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, "gzip: level 0 or max_bytes 100 out of "
                                 "range (level 1 to 9)");
    assert_null(bulk_gzip_new(10, 100, &err));
    assert_null(bulk_gzip_new(1, 0, &err));
    bulk_gzip_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_at_every_level),
        cmocka_unit_test(reuses_the_encoder_and_its_buffer),
        cmocka_unit_test(refuses_to_pass_its_limit_and_recovers),
        cmocka_unit_test(refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
