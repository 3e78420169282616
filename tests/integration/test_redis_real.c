/* test_redis_real.c: hiredis against a real redis-server.
 *
 * Checks the Redis behaviour Sluice is built on, exactly as the shipper and
 * indexer use it: one stream entry per batch (binary-safe payload), a
 * consumer group read with XREADGROUP, XACK, XPENDING back to zero, XAUTOCLAIM
 * of an entry a dead indexer left pending, XDEL; and RPUSH/LPOP for list
 * mode (Logstash). It does not test Sluice code: it pins the server contract
 * so a Redis upgrade that changes it fails here, not in production.
 *
 * The server comes from tests/run (tests/lib/services.sh) through
 * SLUICE_TEST_REDIS_URL=redis://127.0.0.1:PORT. Without it the test fails:
 * it never skips. Keys carry the pid so parallel runs do not collide, and are
 * deleted at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

struct fixture {
    redisContext *c;
    char stream[64]; /* sluice:it:PID:events */
    char list[64];   /* sluice:it:PID:logstash */
};

static const char *reply_type_str(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING:
        return "string";
    case REDIS_REPLY_ARRAY:
        return "array";
    case REDIS_REPLY_INTEGER:
        return "integer";
    case REDIS_REPLY_NIL:
        return "nil";
    case REDIS_REPLY_STATUS:
        return "status";
    case REDIS_REPLY_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

/* Fails the test, with the server's error text, unless r has type `type`. */
static void expect_type(const redisReply *r, int type, const char *what)
{
    if (r == NULL) {
        fail_msg("%s: no reply (connection lost?)", what);
    }
    if (r->type != type) {
        fail_msg("%s: expected a %s reply, got %s%s%s", what,
                 reply_type_str(type), reply_type_str(r->type),
                 r->type == REDIS_REPLY_ERROR ? ": " : "",
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    }
}

static redisReply *command(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(f->c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        fail_msg("redis command '%s' failed: %s", fmt, f->c->errstr);
    }
    return r;
}

/* Parses redis://HOST:PORT (what tests/run exports). */
static int parse_url(const char *url, char *host, size_t hostsz, int *port)
{
    const char *p, *colon;
    char *end;
    long v;

    if (strncmp(url, "redis://", 8) != 0) {
        return -1;
    }
    p = url + 8;
    colon = strrchr(p, ':');
    if (colon == NULL || (size_t)(colon - p) >= hostsz || colon == p) {
        return -1;
    }
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    errno = 0;
    v = strtol(colon + 1, &end, 10);
    if (errno != 0 || (*end != '\0' && *end != '/') || v <= 0 || v > 65535) {
        return -1;
    }
    *port = (int)v;
    return 0;
}

static int setup(void **state)
{
    static struct fixture f;
    const char *url = getenv("SLUICE_TEST_REDIS_URL");
    struct timeval tv = {5, 0};
    char host[256];
    int port;

    if (url == NULL || url[0] == '\0') {
        print_error("SLUICE_TEST_REDIS_URL is not set: run the integration "
                    "tests through tests/run (it starts redis-server), e.g. "
                    "tests/run build/debug -- -L integration\n");
        return -1;
    }
    if (parse_url(url, host, sizeof(host), &port) != 0) {
        print_error("SLUICE_TEST_REDIS_URL='%s': expected redis://HOST:PORT\n",
                    url);
        return -1;
    }
    f.c = redisConnectWithTimeout(host, port, tv);
    if (f.c == NULL || f.c->err) {
        print_error("connect to %s: %s\n", url,
                    f.c ? f.c->errstr : "out of memory");
        redisFree(f.c);
        return -1;
    }
    /* Bounds every command: a hung server fails the test, not the run. */
    redisSetTimeout(f.c, tv);
    snprintf(f.stream, sizeof(f.stream), "sluice:it:%ld:events",
             (long)getpid());
    snprintf(f.list, sizeof(f.list), "sluice:it:%ld:logstash", (long)getpid());
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    redisReply *r;

    if (f == NULL) {
        return 0; /* cmocka 1.1 runs it even when setup failed */
    }
    r = redisCommand(f->c, "DEL %s %s", f->stream, f->list);
    freeReplyObject(r);
    redisFree(f->c);
    return 0;
}

static void test_ping(void **state)
{
    struct fixture *f = *state;
    redisReply *r = command(f, "PING");

    expect_type(r, REDIS_REPLY_STATUS, "PING");
    assert_string_equal(r->str, "PONG");
    freeReplyObject(r);
}

/* Asserts that e is one stream entry [id, [k1, v1, ...]] with the given id
 * and the fields of the batch written by test_stream_round_trip. */
static void expect_batch_entry(const redisReply *e, const char *id,
                               const char *payload, size_t payload_len)
{
    const redisReply *kv;

    expect_type(e, REDIS_REPLY_ARRAY, "stream entry");
    assert_int_equal(e->elements, 2);
    expect_type(e->element[0], REDIS_REPLY_STRING, "entry id");
    assert_string_equal(e->element[0]->str, id);
    kv = e->element[1];
    expect_type(kv, REDIS_REPLY_ARRAY, "entry fields");
    assert_int_equal(kv->elements, 8);
    assert_string_equal(kv->element[0]->str, "v");
    assert_string_equal(kv->element[1]->str, "1");
    assert_string_equal(kv->element[2]->str, "n");
    assert_string_equal(kv->element[3]->str, "3");
    assert_string_equal(kv->element[4]->str, "host");
    assert_string_equal(kv->element[5]->str, "web-1");
    assert_string_equal(kv->element[6]->str, "b");
    /* Compressed batches are binary: the payload must come back byte for
     * byte, NUL and 0xff included. */
    assert_int_equal(kv->element[7]->len, payload_len);
    assert_memory_equal(kv->element[7]->str, payload, payload_len);
}

static void test_stream_round_trip(void **state)
{
    struct fixture *f = *state;
    static const char payload[] = "{\"message\":\"a\"}\n"
                                  "{\"message\":\"b\\u0000\"}\n"
                                  "\x00\xff{\"message\":\"c\"}\n";
    const size_t payload_len = sizeof(payload) - 1;
    redisReply *r, *id_reply;
    const redisReply *streams, *entries;

    /* The indexer creates its group before any shipper has written. */
    r = command(f, "XGROUP CREATE %s indexers 0 MKSTREAM", f->stream);
    expect_type(r, REDIS_REPLY_STATUS, "XGROUP CREATE MKSTREAM");
    assert_string_equal(r->str, "OK");
    freeReplyObject(r);

    id_reply = command(f, "XADD %s * v 1 n 3 host web-1 b %b", f->stream,
                       payload, payload_len);
    expect_type(id_reply, REDIS_REPLY_STRING, "XADD");
    assert_non_null(strchr(id_reply->str, '-')); /* "ms-seq" */

    r = command(f, "XREADGROUP GROUP indexers idx-1 COUNT 10 STREAMS %s >",
                f->stream);
    expect_type(r, REDIS_REPLY_ARRAY, "XREADGROUP");
    assert_int_equal(r->elements, 1);
    streams = r->element[0];
    expect_type(streams, REDIS_REPLY_ARRAY, "XREADGROUP stream");
    assert_string_equal(streams->element[0]->str, f->stream);
    entries = streams->element[1];
    expect_type(entries, REDIS_REPLY_ARRAY, "XREADGROUP entries");
    assert_int_equal(entries->elements, 1);
    expect_batch_entry(entries->element[0], id_reply->str, payload,
                       payload_len);
    freeReplyObject(r);

    /* Summary form: [count, smallest id, greatest id, [[consumer, n]]]. */
    r = command(f, "XPENDING %s indexers", f->stream);
    expect_type(r, REDIS_REPLY_ARRAY, "XPENDING");
    assert_int_equal(r->element[0]->integer, 1);
    assert_string_equal(r->element[1]->str, id_reply->str);
    assert_string_equal(r->element[3]->element[0]->element[0]->str, "idx-1");
    assert_string_equal(r->element[3]->element[0]->element[1]->str, "1");
    freeReplyObject(r);

    r = command(f, "XACK %s indexers %s", f->stream, id_reply->str);
    expect_type(r, REDIS_REPLY_INTEGER, "XACK");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);

    r = command(f, "XPENDING %s indexers", f->stream);
    expect_type(r, REDIS_REPLY_ARRAY, "XPENDING after XACK");
    assert_int_equal(r->element[0]->integer, 0);
    assert_int_equal(r->element[1]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);

    /* Memory returns to zero once everything is indexed (DESIGN.md). */
    r = command(f, "XDEL %s %s", f->stream, id_reply->str);
    expect_type(r, REDIS_REPLY_INTEGER, "XDEL");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);

    r = command(f, "XLEN %s", f->stream);
    expect_type(r, REDIS_REPLY_INTEGER, "XLEN");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    freeReplyObject(id_reply);
}

/* An indexer that died holding an entry: another claims it with XAUTOCLAIM
 * (Redis 6.2+) and gets the same entry, fields and all. */
static void test_stream_autoclaim(void **state)
{
    struct fixture *f = *state;
    static const char payload[] = "{\"message\":\"claimed\"}\n";
    redisReply *r, *id_reply;

    r = command(f, "XGROUP CREATE %s claimers $ MKSTREAM", f->stream);
    expect_type(r, REDIS_REPLY_STATUS, "XGROUP CREATE");
    freeReplyObject(r);
    id_reply = command(f, "XADD %s * v 1 n 3 host web-1 b %b", f->stream,
                       payload, sizeof(payload) - 1);
    expect_type(id_reply, REDIS_REPLY_STRING, "XADD");

    r = command(f, "XREADGROUP GROUP claimers dead-1 COUNT 1 STREAMS %s >",
                f->stream);
    expect_type(r, REDIS_REPLY_ARRAY, "XREADGROUP by the doomed consumer");
    freeReplyObject(r);

    /* min-idle-time 0: claim at once; a real indexer waits a timeout. */
    r = command(f, "XAUTOCLAIM %s claimers idx-2 0 0-0 COUNT 10", f->stream);
    expect_type(r, REDIS_REPLY_ARRAY, "XAUTOCLAIM");
    assert_string_equal(r->element[0]->str, "0-0"); /* scan complete */
    expect_type(r->element[1], REDIS_REPLY_ARRAY, "XAUTOCLAIM entries");
    assert_int_equal(r->element[1]->elements, 1);
    expect_batch_entry(r->element[1]->element[0], id_reply->str, payload,
                       sizeof(payload) - 1);
    freeReplyObject(r);

    r = command(f, "XACK %s claimers %s", f->stream, id_reply->str);
    expect_type(r, REDIS_REPLY_INTEGER, "XACK by the claimer");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    r = command(f, "XDEL %s %s", f->stream, id_reply->str);
    freeReplyObject(r);
    freeReplyObject(id_reply);
}

/* List mode: one event per element, what Logstash's redis input pops. */
static void test_list_mode(void **state)
{
    struct fixture *f = *state;
    redisReply *r;

    r = command(f, "RPUSH %s %s %s", f->list, "{\"message\":\"first\"}",
                "{\"message\":\"second\"}");
    expect_type(r, REDIS_REPLY_INTEGER, "RPUSH");
    assert_int_equal(r->integer, 2);
    freeReplyObject(r);

    r = command(f, "LPOP %s", f->list);
    expect_type(r, REDIS_REPLY_STRING, "LPOP 1");
    assert_string_equal(r->str, "{\"message\":\"first\"}");
    freeReplyObject(r);
    r = command(f, "LPOP %s", f->list);
    expect_type(r, REDIS_REPLY_STRING, "LPOP 2");
    assert_string_equal(r->str, "{\"message\":\"second\"}");
    freeReplyObject(r);
    r = command(f, "LPOP %s", f->list);
    expect_type(r, REDIS_REPLY_NIL, "LPOP on the empty list");
    freeReplyObject(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_stream_round_trip),
        cmocka_unit_test(test_stream_autoclaim),
        cmocka_unit_test(test_list_mode),
    };

    return cmocka_run_group_tests_name("integration_redis", tests, setup,
                                       teardown);
}
