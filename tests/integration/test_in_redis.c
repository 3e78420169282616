/* test_in_redis.c: the indexer's Redis input (indexer/input/) and its
 * dead-letter stream (indexer/deadletter.c) against a real redis-server.
 *
 * The test starts its own redis-server (found on PATH) on a free loopback
 * port, with appendonly and appendfsync always in a temporary directory,
 * so one test can kill it with SIGKILL and start it again with its data;
 * it kills only the pid it started, and the server dies with the test
 * (PR_SET_PDEATHSIG). Batches are written as the shipper writes them
 * (sl_batch_writer, XADD through a plain hiredis connection); list events
 * are RPUSHed as Logstash does. The input runs in a small poll loop, pump(),
 * with a stand-in for the bulk side that takes every event handed out and
 * resolves it (done, or dead for the events a test names), until a
 * condition on the input's own counters holds or a deadline passes:
 * nothing waits by sleeping. Each test uses its own keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "deadletter.h"
#include "input.h"
#include "redis_server.h"
#include "sl_batch.h"
#include "sl_date.h"
#include "sl_event_id.h"
#include "sl_log.h"

#define WAIT_MS 15000 /* the longest any condition may take */
#define MAX_EV  4096  /* events one test follows */

/* ---- the server ---- */

static pid_t server_pid;
static int server_port;
static char server_dir[64];

static redisContext *admin(void)
{
    return redis_server_connect(server_port, NULL);
}

static int start_server(void)
{
    char port[16], why[200];
    snprintf(port, sizeof port, "%d", server_port);
    const char *argv[] = {"redis-server", "--port",      port,
                          "--bind",       "127.0.0.1",   "--dir",
                          server_dir,     "--save",      "",
                          "--appendonly", "yes",         "--appendfsync",
                          "always",       "--daemonize", "no",
                          "--loglevel",   "warning",     NULL};
    if (redis_server_spawn(argv, server_port, NULL, WAIT_MS, &server_pid, why,
                           sizeof why) == 0)
        return 0;
    print_error("%s\n", why);
    return -1;
}

static void kill_server(void)
{
    redis_server_stop(&server_pid, SIGKILL);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(server_dir, sizeof server_dir, "/tmp/sluice-in-redis-XXXXXX");
    if (mkdtemp(server_dir) == NULL ||
        (server_port = redis_server_free_port()) < 0)
        return -1;
    if (start_server() < 0) {
        print_error("redis-server did not start (is it on PATH? Debian "
                    "package redis-server)\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kill_server();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", server_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a command on a plain connection; returns the reply (free it). */
static redisReply *adminv(int argc, const char **argv, const size_t *lens)
{
    redisContext *c = admin();
    assert_non_null(c);
    if (c->err != 0)
        fail_msg("admin connection: %s", c->errstr);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (r == NULL)
        fail_msg("admin %s: %s", argv[0], c->errstr);
    redisFree(c);
    return r;
}

#define ADMIN(...)                                                             \
    adminv(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *),             \
           (const char *[]){__VA_ARGS__}, NULL)

static long long admin_int(redisReply *r)
{
    if (r->type != REDIS_REPLY_INTEGER)
        fail_msg("expected an integer reply, got type %d (%s)", r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* ---- the input, its loop and a stand-in bulk side ---- */

struct seen {
    char id[SL_BATCH_ID_MAX + 1];
    int64_t ts;
    char *json;
    int times;
};

struct fixture {
    char key[64], dead[64], group[32];
    struct sl_redis *cmd;
    struct deadletter *dl;
    struct input *in[2];
    struct sl_metrics *metrics; /* the first input's and the letters' */
    bool metrics_taken;
    bool resolve; /* the bulk stand-in resolves what it takes */
    size_t pull;  /* the events it asks for (input_pull); 0: 1000 */
    /* events whose json contains this are refused (dead) */
    const char *kill_marker;
    struct seen ev[MAX_EV];
    size_t nev;
    size_t taken;
};

static struct seen *find_seen(struct fixture *f, struct sl_slice id)
{
    for (size_t i = 0; i < f->nev; i++)
        if (strlen(f->ev[i].id) == id.len &&
            memcmp(f->ev[i].id, id.ptr, id.len) == 0)
            return &f->ev[i];
    return NULL;
}

static void take(struct fixture *f, struct input *in)
{
    struct input_event ev;
    input_pull(in, f->pull ? f->pull : 1000);
    while (input_next(in, &ev) == 1) {
        f->taken++;
        struct seen *s = find_seen(f, ev.id);
        if (s == NULL) {
            assert_true(f->nev < MAX_EV);
            s = &f->ev[f->nev++];
            memcpy(s->id, ev.id.ptr, ev.id.len);
            s->id[ev.id.len] = '\0';
            s->ts = ev.ts_ms;
            s->json = strndup(ev.json.ptr, ev.json.len);
        }
        s->times++;
        if (!f->resolve)
            continue;
        if (f->kill_marker != NULL && strstr(s->json, f->kill_marker)) {
            struct sl_err err;
            struct input_dead_reason why = {
                SL_SLICE_LIT("mapper_parsing_exception"),
                SL_SLICE_LIT("failed to parse field [n] of type [long]"),
                SL_SLICE_LIT("sluice-2025.11.23"), 400};
            assert_int_equal(input_event_dead(in, &ev, &why, &err), 0);
        } else {
            input_event_done(in, &ev);
        }
    }
}

typedef bool (*cond_fn)(struct fixture *f, void *arg);

static void pump(struct fixture *f, cond_fn cond, void *arg, const char *what)
{
    int64_t end = sl_redis_now_ms() + WAIT_MS;
    while (!cond(f, arg)) {
        struct pollfd p[8];
        size_t n = sl_redis_fill_pollfds(f->cmd, p, 8);
        int t = sl_redis_timeout_ms(f->cmd);
        int d = deadletter_timeout_ms(f->dl);
        if (d >= 0 && (t < 0 || d < t))
            t = d;
        size_t at[2];
        for (int i = 0; i < 2; i++) {
            at[i] = n;
            if (f->in[i] == NULL)
                continue;
            n += input_fill_pollfds(f->in[i], p + n, 8 - n);
            int it = input_timeout_ms(f->in[i]);
            if (it >= 0 && (t < 0 || it < t))
                t = it;
        }
        int64_t left = end - sl_redis_now_ms();
        if (left <= 0)
            fail_msg("waited %d ms for %s", WAIT_MS, what);
        if (t < 0 || t > left)
            t = (int)left;
        poll(p, n, t);
        size_t ncmd = at[0];
        sl_redis_process(f->cmd, p, ncmd);
        deadletter_process(f->dl);
        for (int i = 0; i < 2; i++) {
            if (f->in[i] == NULL)
                continue;
            size_t stop = i == 0 ? (f->in[1] != NULL ? at[1] : n) : n;
            input_process(f->in[i], p + at[i], stop - at[i]);
            take(f, f->in[i]);
        }
    }
}

static struct indexer_redis_config rc;
static long long claim_idle_ms = 300; /* the tests' claim_idle */

static void open_input(struct fixture *f, int i, const char *consumer,
                       enum sl_redis_mode mode)
{
    static char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", server_port);
    memset(&rc, 0, sizeof rc);
    rc.url = url;
    rc.mode = mode;
    rc.key = f->key;
    rc.group = f->group;
    rc.consumer = consumer;
    rc.dead_key = f->dead;
    rc.read_count = mode == SL_REDIS_STREAM ? 3 : 8;
    rc.block_ms = 200;
    rc.claim_idle_ms = claim_idle_ms;
    rc.max_in_flight = mode == SL_REDIS_STREAM ? 8 : 64;
    rc.dead_warn = 100;
    struct sl_err err;
    /* the metrics of the first input opened (a registry takes a name once) */
    f->in[i] = input_new(&rc, f->cmd, f->dl,
                         f->metrics_taken ? NULL : f->metrics, &err);
    f->metrics_taken = true;
    if (f->in[i] == NULL)
        fail_msg("input_new: %s", err.msg);
}

static int setup(void **state)
{
    static struct fixture f;
    static int n;
    for (size_t i = 0; i < f.nev; i++)
        free(f.ev[i].json);
    memset(&f, 0, sizeof f);
    n++;
    snprintf(f.key, sizeof f.key, "test:%d:events", n);
    snprintf(f.dead, sizeof f.dead, "test:%d:dead", n);
    snprintf(f.group, sizeof f.group, "g%d", n);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", server_port);
    struct sl_redis_config cfg = {.url = url,
                                  .conn = {.component = "test:cmd",
                                           .backoff_min_ms = 20,
                                           .backoff_max_ms = 200}};
    struct sl_err err;
    f.cmd = sl_redis_new(&cfg, &err);
    f.metrics = sl_metrics_new();
    struct deadletter_config dc = {f.dead, 1, NULL, 100};
    f.dl = f.cmd != NULL && f.metrics != NULL
               ? deadletter_new(&dc, f.cmd, f.metrics, &err)
               : NULL;
    if (f.dl == NULL) {
        print_error("%s\n", err.msg);
        return -1;
    }
    f.resolve = true;
    claim_idle_ms = 300;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    input_free(f->in[0]);
    input_free(f->in[1]);
    deadletter_free(f->dl);
    sl_redis_free(f->cmd);
    sl_metrics_free(f->metrics);
    return 0;
}

/* ---- writing batches as the shipper does ---- */

/* Writes one batch of n events "{"b":B,"e":E}" with ids "b<B>e<E>" and
 * times 1763856000000 + B * 1000 + E; returns the entry id. */
static void write_batch(struct fixture *f, int b, int n, enum sl_codec codec)
{
    struct sl_err err;
    struct sl_batch_writer *w =
        sl_batch_writer_new("web-1", codec, 0, 1 << 20, &err);
    assert_non_null(w);
    for (int e = 0; e < n; e++) {
        char id[32], json[128];
        int idn = snprintf(id, sizeof id, "b%de%d", b, e);
        int jn = snprintf(json, sizeof json, "{\"b\":%d,\"e\":%d%s}", b, e,
                          e == 1 && b == 99 ? ",\"kill\":1" : "");
        assert_int_equal(sl_batch_writer_add(w, id, (size_t)idn,
                                             1763856000000LL + b * 1000 + e,
                                             json, (size_t)jn, &err),
                         0);
    }
    const char **fv;
    const size_t *fl;
    assert_int_equal(sl_batch_writer_seal(w, &fv, &fl, &err), 0);
    const char *argv[3 + SL_BATCH_ARGC] = {"XADD", f->key, "*"};
    size_t lens[3 + SL_BATCH_ARGC] = {4, strlen(f->key), 1};
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        argv[3 + i] = fv[i];
        lens[3 + i] = fl[i];
    }
    redisReply *r = adminv(3 + SL_BATCH_ARGC, argv, lens);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    sl_batch_writer_free(w);
}

static bool acked(struct fixture *f, void *arg)
{
    uint64_t want = *(uint64_t *)arg, got = 0;
    struct input_stats st;
    for (int i = 0; i < 2; i++)
        if (f->in[i] != NULL) {
            input_get_stats(f->in[i], &st);
            got += st.acked;
        }
    return got >= want;
}

static bool taken_at_least(struct fixture *f, void *arg)
{
    return f->taken >= *(size_t *)arg;
}

static void assert_drained(struct fixture *f)
{
    assert_int_equal(admin_int(ADMIN("XLEN", f->key)), 0);
    redisReply *r = ADMIN("XPENDING", f->key, f->group);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[0]->integer, 0);
    freeReplyObject(r);
}

/* Every event of batches 0..nb-1 (n each) seen, with its time and JSON. */
static void assert_all_seen(struct fixture *f, int nb, int n, int times)
{
    assert_int_equal(f->nev, (size_t)(nb * n));
    for (int b = 0; b < nb; b++)
        for (int e = 0; e < n; e++) {
            char id[32], json[64];
            int idn = snprintf(id, sizeof id, "b%de%d", b, e);
            snprintf(json, sizeof json, "{\"b\":%d,\"e\":%d}", b, e);
            struct seen *s = find_seen(f, (struct sl_slice){id, (size_t)idn});
            if (s == NULL)
                fail_msg("event %s never seen", id);
            assert_int_equal(s->ts, 1763856000000LL + b * 1000 + e);
            assert_string_equal(s->json, json);
            if (times > 0 && s->times != times)
                fail_msg("event %s seen %d times, expected %d", id, s->times,
                         times);
        }
}

/* ---- stream mode ---- */

static void stream_read_resolve_drain(void **state)
{
    struct fixture *f = *state;
    static const enum sl_codec codecs[] = {SL_CODEC_NONE, SL_CODEC_LZ4,
                                           SL_CODEC_ZSTD};
    for (int b = 0; b < 9; b++)
        write_batch(f, b, 5, codecs[b % 3]);
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t want = 9;
    pump(f, acked, &want, "9 entries acked");
    assert_all_seen(f, 9, 5, 1);
    /* in order: batch by batch, event by event */
    for (size_t i = 0; i < f->nev; i++) {
        char id[32];
        snprintf(id, sizeof id, "b%zue%zu", i / 5, i % 5);
        assert_string_equal(f->ev[i].id, id);
    }
    assert_drained(f);
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 9);
    assert_int_equal(st.events_read, 45);
    assert_int_equal(st.acked, 9);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.in_flight, 0);
    assert_true(input_ready(f->in[0]));
    /* a batch written later is read by the blocked read */
    write_batch(f, 9, 2, SL_CODEC_NONE);
    want = 10;
    pump(f, acked, &want, "the late batch");
    assert_int_equal(f->nev, 47);
    assert_drained(f);
}

static bool input_idle_cond(struct fixture *f, void *arg)
{
    (void)arg;
    return input_idle(f->in[0]);
}

static void stream_idle_when_empty(void **state)
{
    struct fixture *f = *state;
    write_batch(f, 0, 1, SL_CODEC_NONE);
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    pump(f, input_idle_cond, NULL, "idle");
    assert_int_equal(f->nev, 1);
    assert_drained(f);
}

/* Reads the dead-letter stream: entry i's fields as "name=value\n" lines
 * (binary values as their length). */
static char *dead_letter(struct fixture *f, size_t i)
{
    redisReply *r = ADMIN("XRANGE", f->dead, "-", "+");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    if (i >= r->elements)
        fail_msg("dead letter %zu of %zu", i, r->elements);
    redisReply *fields = r->element[i]->element[1];
    size_t size = 64;
    for (size_t k = 0; k < fields->elements; k++)
        size += fields->element[k]->len + 2;
    char *out = malloc(size);
    size_t at = 0;
    for (size_t k = 0; k + 1 < fields->elements; k += 2) {
        const redisReply *v = fields->element[k + 1];
        if (strlen(v->str) == v->len)
            at += (size_t)snprintf(out + at, size - at, "%s=%s\n",
                                   fields->element[k]->str, v->str);
        else
            at += (size_t)snprintf(out + at, size - at, "%s=<%zu bytes>\n",
                                   fields->element[k]->str, v->len);
    }
    freeReplyObject(r);
    return out;
}

static void stream_bad_entries_to_dead_letters(void **state)
{
    struct fixture *f = *state;
    write_batch(f, 0, 2, SL_CODEC_NONE);
    redisReply *r = ADMIN("XADD", f->key, "*", "message", "hello");
    freeReplyObject(r);
    r = ADMIN("XADD", f->key, "*", "v", "1", "host", "h", "count", "1", "codec",
              "none", "raw", "2", "events", "x\n");
    freeReplyObject(r);
    write_batch(f, 1, 2, SL_CODEC_NONE);
    redisReply *ids = ADMIN("XRANGE", f->key, "-", "+");
    assert_int_equal(ids->elements, 4);
    char id1[48], id2[48];
    snprintf(id1, sizeof id1, "%s", ids->element[1]->element[0]->str);
    snprintf(id2, sizeof id2, "%s", ids->element[2]->element[0]->str);
    freeReplyObject(ids);
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t want = 4;
    pump(f, acked, &want, "4 entries acked");
    assert_all_seen(f, 2, 2, 1);
    assert_drained(f);
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 2);
    char want1[512], want2[512];
    snprintf(want1, sizeof want1,
             "v=1\nerror.type=sluice_bad_entry\n"
             "error.reason=stream entry has no field 'v' (format version); "
             "it was not written by sluice-shipper\n"
             "status=0\nindex=\nid=\nts=\nsource=stream %s %s\nhost=\n"
             "event=\nentry.message=hello\n",
             f->key, id1);
    char *got = dead_letter(f, 0);
    assert_string_equal(got, want1);
    free(got);
    snprintf(want2, sizeof want2,
             "v=1\nerror.type=sluice_bad_entry\n"
             "error.reason=stream entry format version 1 (events without "
             "ids) is not read by this sluice-indexer, which reads format 2; "
             "upgrade sluice-shipper\n"
             "status=0\nindex=\nid=\nts=\nsource=stream %s %s\nhost=\n"
             "event=\nentry.v=1\nentry.host=h\nentry.count=1\n"
             "entry.codec=none\nentry.raw=2\nentry.events=x\n\n",
             f->key, id2);
    got = dead_letter(f, 1);
    assert_string_equal(got, want2);
    free(got);
}

static bool dead_length_is_one(struct fixture *f, void *arg)
{
    (void)arg;
    struct deadletter_stats st;
    deadletter_get_stats(f->dl, &st);
    return st.length == 1;
}

static void stream_dead_event_letter(void **state)
{
    struct fixture *f = *state;
    write_batch(f, 99, 3, SL_CODEC_ZSTD);
    redisReply *ids = ADMIN("XRANGE", f->key, "-", "+");
    char sid[48];
    snprintf(sid, sizeof sid, "%s", ids->element[0]->element[0]->str);
    freeReplyObject(ids);
    f->kill_marker = "\"kill\"";
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t want = 1;
    pump(f, acked, &want, "the entry acked");
    assert_drained(f);
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.dead_events, 1);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 1);
    char want1[512];
    snprintf(want1, sizeof want1,
             "v=1\nerror.type=mapper_parsing_exception\n"
             "error.reason=failed to parse field [n] of type [long]\n"
             "status=400\nindex=sluice-2025.11.23\nid=b99e1\n"
             "ts=1763856099001\nsource=stream %s %s\nhost=web-1\n"
             "event={\"b\":99,\"e\":1,\"kill\":1}\n",
             f->key, sid);
    char *got = dead_letter(f, 0);
    assert_string_equal(got, want1);
    free(got);
    pump(f, dead_length_is_one, NULL, "the dead letters counted");
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, 1 << 16);
    assert_int_equal(sl_metrics_render_json(f->metrics, &b, &err), 0);
    assert_string_equal(b.ptr, "{\"sluice_dead_letters_written_total\":1,"
                               "\"sluice_dead_letters_repeated_total\":0,"
                               "\"sluice_dead_letters\":1,"
                               "\"sluice_input_entries_total\":1,"
                               "\"sluice_input_events_total\":3,"
                               "\"sluice_input_acked_total\":1,"
                               "\"sluice_input_claimed_total\":0,"
                               "\"sluice_input_dead_events_total\":1,"
                               "\"sluice_input_malformed_total\":0}");
    sl_buf_release(&b);
}

static bool pending_is(struct fixture *f, void *arg)
{
    redisReply *r = ADMIN("XPENDING", f->key, f->group);
    long long n = r->element[0]->integer;
    freeReplyObject(r);
    return n == *(long long *)arg;
}

static bool retried(struct fixture *f, void *arg)
{
    struct deadletter_stats st;
    deadletter_get_stats(f->dl, &st);
    return st.retries >= *(uint64_t *)arg;
}

/* The dead-letter stream refuses (here: its key holds a string): the entry
 * stays pending while the letter is tried again, and is acknowledged once
 * the letter is in. */
static void stream_ack_waits_for_dead_letter(void **state)
{
    struct fixture *f = *state;
    freeReplyObject(ADMIN("SET", f->dead, "in the way"));
    write_batch(f, 99, 3, SL_CODEC_NONE);
    f->kill_marker = "\"kill\"";
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t tries = 2;
    pump(f, retried, &tries, "the letter refused twice");
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.acked, 0);
    long long one = 1;
    assert_true(pending_is(f, &one));
    assert_int_equal(admin_int(ADMIN("XLEN", f->key)), 1);
    freeReplyObject(ADMIN("DEL", f->dead));
    uint64_t acks = 1;
    pump(f, acked, &acks, "the entry acked after its letter");
    assert_drained(f);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 1);
}

static bool time_passed(struct fixture *f, void *arg)
{
    (void)f;
    return sl_redis_now_ms() >= *(int64_t *)arg;
}

/* An indexer that holds entries for long (Elasticsearch down) keeps them:
 * another consumer of the group claims none of them. */
static void stream_held_entries_not_claimed(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 3; b++)
        write_batch(f, b, 3, SL_CODEC_NONE);
    f->resolve = false;
    open_input(f, 0, "slow", SL_REDIS_STREAM);
    size_t want = 9;
    pump(f, taken_at_least, &want, "9 events taken");
    open_input(f, 1, "other", SL_REDIS_STREAM);
    int64_t until = sl_redis_now_ms() + 5 * claim_idle_ms;
    pump(f, time_passed, &until, "5 claim idle times");
    struct input_stats st;
    input_get_stats(f->in[1], &st);
    assert_int_equal(st.claimed, 0);
    assert_int_equal(f->taken, 9);
}

/* Elasticsearch down: nothing is resolved, so the input stops reading at
 * max_in_flight (8 here) entries however many wait; then it goes on. */
static void stream_backpressure(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 20; b++)
        write_batch(f, b, 2, SL_CODEC_NONE);
    f->resolve = false;
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    size_t want = 16;
    pump(f, taken_at_least, &want, "8 entries taken");
    int64_t until = sl_redis_now_ms() + 1000;
    pump(f, time_passed, &until, "1 s more");
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 8);
    assert_int_equal(st.in_flight, 8);
    assert_int_equal(f->taken, 16);
    long long eight = 8;
    assert_true(pending_is(f, &eight));
    /* Elasticsearch is back, after a restart of the indexer: everything
     * is read and acknowledged, each event once */
    f->resolve = true;
    for (size_t i = 0; i < f->nev; i++)
        f->ev[i].times = 0;
    input_free(f->in[0]); /* restarted: its events are handed out again */
    f->in[0] = NULL;
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t acks = 20;
    pump(f, acked, &acks, "20 entries acked");
    assert_all_seen(f, 20, 2, 1);
    assert_drained(f);
}

/* A read asks for the entries that hold about the events pulled for, by
 * the mean entry size so far: the first read takes read_count (3) entries
 * of 4 events, the next one, pulled for 5 events, 2 entries (not 3: with
 * 2,000-event batches a whole read_count held 22 MiB more). */
static void stream_read_sized_by_mean(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 10; b++)
        write_batch(f, b, 4, SL_CODEC_LZ4);
    f->resolve = false;
    f->pull = 5;
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    size_t want = 12;
    pump(f, taken_at_least, &want, "the first read's 3 entries");
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 3);
    want = 13;
    pump(f, taken_at_least, &want, "the second read");
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 5);
    assert_int_equal(f->taken, 20);
}

static bool ready_cond(struct fixture *f, void *arg)
{
    return input_ready(f->in[*(int *)arg]);
}

static void stream_restart_own_pending_first(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 4; b++)
        write_batch(f, b, 3, SL_CODEC_LZ4);
    f->resolve = false;
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    size_t want = 12;
    pump(f, taken_at_least, &want, "12 events taken");
    input_free(f->in[0]); /* killed: nothing acknowledged */
    f->in[0] = NULL;
    redisReply *r = ADMIN("XPENDING", f->key, f->group);
    assert_int_equal(r->element[0]->integer, 4);
    freeReplyObject(r);
    write_batch(f, 4, 3, SL_CODEC_LZ4);
    f->resolve = true;
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    int which = 0;
    pump(f, ready_cond, &which, "the pending entries read back");
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 4); /* its own, before anything new */
    uint64_t acks = 5;
    pump(f, acked, &acks, "5 entries acked");
    assert_drained(f);
    assert_int_equal(f->nev, 15);
    for (size_t i = 0; i < f->nev; i++)
        assert_int_equal(f->ev[i].times, i < 12 ? 2 : 1);
}

static void stream_claim_from_dead_consumer(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 3; b++)
        write_batch(f, b, 3, SL_CODEC_NONE);
    f->resolve = false;
    open_input(f, 0, "dead-one", SL_REDIS_STREAM);
    size_t want = 9;
    pump(f, taken_at_least, &want, "9 events taken");
    int64_t read_at = sl_redis_now_ms();
    input_free(f->in[0]); /* its indexer died and never comes back */
    f->in[0] = NULL;
    f->resolve = true;
    open_input(f, 1, "heir", SL_REDIS_STREAM);
    uint64_t acks = 3;
    pump(f, acked, &acks, "3 entries claimed and acked");
    assert_true(sl_redis_now_ms() - read_at >= 300);
    struct input_stats st;
    input_get_stats(f->in[1], &st);
    assert_int_equal(st.claimed, 3);
    assert_int_equal(st.entries_read, 3);
    assert_drained(f);
    assert_all_seen(f, 3, 3, 2);
}

static void stream_two_consumers_share(void **state)
{
    struct fixture *f = *state;
    claim_idle_ms = 60000; /* no claims: each entry read once */
    for (int b = 0; b < 30; b++)
        write_batch(f, b, 4, b % 2 ? SL_CODEC_ZSTD : SL_CODEC_NONE);
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    open_input(f, 1, "c2", SL_REDIS_STREAM);
    uint64_t acks = 30;
    pump(f, acked, &acks, "30 entries acked by two consumers");
    assert_all_seen(f, 30, 4, 1);
    struct input_stats a, b;
    input_get_stats(f->in[0], &a);
    input_get_stats(f->in[1], &b);
    assert_int_equal(a.entries_read + b.entries_read, 30);
    assert_true(a.entries_read > 0 && b.entries_read > 0);
    assert_drained(f);
}

static void stream_redis_restarted(void **state)
{
    struct fixture *f = *state;
    for (int b = 0; b < 20; b++)
        write_batch(f, b, 5, SL_CODEC_LZ4);
    open_input(f, 0, "c1", SL_REDIS_STREAM);
    uint64_t acks = 3;
    pump(f, acked, &acks, "3 entries acked");
    kill_server(); /* SIGKILL; appendfsync always keeps every write */
    assert_int_equal(start_server(), 0);
    acks = 20;
    pump(f, acked, &acks, "20 entries acked across the restart");
    assert_all_seen(f, 20, 5, 0);
    assert_drained(f);
}

/* ---- list mode ---- */

static char *proc_key(struct fixture *f, const char *consumer)
{
    static char k[128];
    snprintf(k, sizeof k, "{%s}:processing:%s", f->key, consumer);
    return k;
}

static int64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool dead_written(struct fixture *f, void *arg)
{
    struct deadletter_stats st;
    deadletter_get_stats(f->dl, &st);
    return st.written >= *(uint64_t *)arg;
}

/* An element without "@timestamp" goes out with the time read first in
 * its object (list_event.h); want is the element's one-line copy. */
static void assert_time_added(const char *got, const char *want)
{
    const char ts[] = "{\"@timestamp\":\"";
    size_t n = sizeof ts - 1 + SL_DATE_ISO8601_SIZE - 1;
    assert_true(strncmp(got, ts, sizeof ts - 1) == 0 && strlen(got) > n + 2);
    assert_memory_equal(got + n, "\",", 2);
    assert_string_equal(got + n + 2, want + 1);
}

static void list_move_resolve_recover(void **state)
{
    struct fixture *f = *state;
    char ev[12][160];
    for (int i = 0; i < 10; i++) {
        snprintf(ev[i], sizeof ev[i],
                 "{\"@timestamp\":\"2025-11-23T02:46:00.%03dZ\","
                 "\"message\":\"m%d\",\"nested\":{\"@timestamp\":\"x\"}}",
                 i, i);
        freeReplyObject(ADMIN("RPUSH", f->key, ev[i]));
    }
    snprintf(ev[10], sizeof ev[10], "{\n  \"message\": \"pretty\"\r\n}");
    snprintf(ev[11], sizeof ev[11], "not json");
    freeReplyObject(ADMIN("RPUSH", f->key, ev[10], ev[11]));
    f->resolve = false;
    int64_t before = wall_now();
    open_input(f, 0, "c1", SL_REDIS_LIST);
    size_t want = 11;
    pump(f, taken_at_least, &want, "11 events taken");
    int64_t after = wall_now();
    uint64_t acks = 1;
    pump(f, acked, &acks, "the bad element removed");
    assert_int_equal(admin_int(ADMIN("LLEN", f->key)), 0);
    assert_int_equal(admin_int(ADMIN("LLEN", proc_key(f, "c1"))), 11);
    for (int i = 0; i < 11; i++) {
        char id[SL_EVENT_ID_LEN + 1];
        sl_event_id("", 0, ev[i], strlen(ev[i]), 0, id);
        assert_string_equal(f->ev[i].id, id);
        if (i < 10) {
            assert_int_equal(f->ev[i].ts, 1763865960000LL + i);
            assert_string_equal(f->ev[i].json, ev[i]);
        }
    }
    assert_time_added(f->ev[10].json, "{   \"message\": \"pretty\"  }");
    assert_true(f->ev[10].ts >= before && f->ev[10].ts <= after);
    char *got = dead_letter(f, 0);
    char want1[512];
    snprintf(want1, sizeof want1,
             "v=1\nerror.type=sluice_bad_event\nerror.reason=not JSON: "
             "lexical error: invalid string in json text. near byte 1\n"
             "status=0\nindex=\nid=\nts=\nsource=list %s\nhost=\n"
             "event=not json\n",
             f->key);
    assert_string_equal(got, want1);
    free(got);

    input_free(f->in[0]); /* killed before anything was resolved */
    f->in[0] = NULL;
    f->resolve = true;
    open_input(f, 0, "c1", SL_REDIS_LIST);
    int which = 0;
    pump(f, ready_cond, &which, "the processing list read back");
    struct input_stats st;
    input_get_stats(f->in[0], &st);
    assert_int_equal(st.entries_read, 11);
    acks = 11;
    pump(f, acked, &acks, "11 elements removed");
    assert_int_equal(admin_int(ADMIN("LLEN", proc_key(f, "c1"))), 0);
    for (int i = 0; i < 11; i++)
        assert_int_equal(f->ev[i].times, 2);
    /* new elements after the recovery */
    freeReplyObject(ADMIN("RPUSH", f->key, "{\"a\":1}", "{\"a\":2}"));
    acks = 13;
    pump(f, acked, &acks, "2 new elements removed");
    assert_int_equal(f->nev, 13);
    assert_int_equal(admin_int(ADMIN("LLEN", f->key)), 0);
    assert_int_equal(admin_int(ADMIN("LLEN", proc_key(f, "c1"))), 0);
    uint64_t letters = 1;
    assert_true(dead_written(f, &letters));
}

static void list_many_pipelined(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 500; i++) {
        char e[64];
        snprintf(e, sizeof e, "{\"i\":%d}", i);
        freeReplyObject(ADMIN("RPUSH", f->key, e));
    }
    open_input(f, 0, "c1", SL_REDIS_LIST);
    uint64_t acks = 500;
    pump(f, acked, &acks, "500 elements removed");
    assert_int_equal(f->nev, 500);
    for (int i = 0; i < 500; i++) {
        char e[64];
        snprintf(e, sizeof e, "{\"i\":%d}", i);
        assert_time_added(f->ev[i].json, e); /* in order */
    }
    assert_int_equal(admin_int(ADMIN("LLEN", proc_key(f, "c1"))), 0);
    pump(f, input_idle_cond, NULL, "idle");
}

static void list_redis_restarted(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 300; i++) {
        char e[64];
        snprintf(e, sizeof e, "{\"i\":%d}", i);
        freeReplyObject(ADMIN("RPUSH", f->key, e));
    }
    open_input(f, 0, "c1", SL_REDIS_LIST);
    uint64_t acks = 20;
    pump(f, acked, &acks, "20 elements removed");
    kill_server(); /* SIGKILL; appendfsync always keeps every write */
    assert_int_equal(start_server(), 0);
    acks = 300;
    pump(f, acked, &acks, "300 elements removed across the restart");
    assert_int_equal(f->nev, 300);
    for (int i = 0; i < 300; i++) {
        char e[64];
        snprintf(e, sizeof e, "{\"i\":%d}", i);
        assert_time_added(f->ev[i].json, e);
    }
    assert_int_equal(admin_int(ADMIN("LLEN", f->key)), 0);
    assert_int_equal(admin_int(ADMIN("LLEN", proc_key(f, "c1"))), 0);
}

/* ---- one dead letter per event (deadletter.h) ---- */

static void count_done(void *ctx, void *tag)
{
    (void)tag;
    (*(int *)ctx)++;
}

static bool letters_settled(struct fixture *f, void *arg)
{
    (void)arg;
    struct deadletter_stats st;
    deadletter_get_stats(f->dl, &st);
    return st.pending == 0;
}

static void add_letter(struct fixture *f, const char *id, int *done)
{
    struct sl_err err;
    struct deadletter_letter l = {
        .error_type = SL_SLICE_LIT("mapper_parsing_exception"),
        .reason = SL_SLICE_LIT("failed to parse field [n] of type [long]"),
        .index = SL_SLICE_LIT("sluice-2025.11.23"),
        .id = sl_slice_from(id),
        .source = SL_SLICE_LIT("stream test 1-1"),
        .host = SL_SLICE_LIT("web-1"),
        .event = SL_SLICE_LIT("{\"n\":\"x\"}"),
        .status = 400,
        .ts_ms = 1763856000000LL};
    assert_int_equal(deadletter_add(f->dl, &l, count_done, done, NULL, &err),
                     0);
    pump(f, letters_settled, NULL, "the letter settled");
}

/* The same event refused three times is one letter (the others counted as
 * repeated, their done called all the same); its seen key names the letter
 * and expires; a letter that left the stream (deleted by hand) does not
 * hide the next refusal: it is written again. Whole entries are written
 * each time. */
static void dead_letter_once_per_event(void **state)
{
    struct fixture *f = *state;
    struct deadletter_stats st;
    char seen[DEADLETTER_SEEN_KEY_MAX];
    int done = 0;
    assert_true(deadletter_seen_key(f->dead, SL_SLICE_LIT("b1e1"), seen,
                                    sizeof seen) > 0);
    for (int i = 0; i < 3; i++)
        add_letter(f, "b1e1", &done);
    add_letter(f, "b1e2", &done);
    assert_int_equal(done, 4);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 2);
    deadletter_get_stats(f->dl, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.repeated, 2);
    redisReply *r = ADMIN("XRANGE", f->dead, "-", "+");
    redisReply *g = ADMIN("GET", seen);
    assert_string_equal(g->str, r->element[0]->element[0]->str);
    freeReplyObject(g);
    long long ttl = admin_int(ADMIN("TTL", seen));
    assert_true(ttl > DEADLETTER_SEEN_TTL_S - 60 &&
                ttl <= DEADLETTER_SEEN_TTL_S);
    /* deleted by hand: the next refusal writes it again */
    freeReplyObject(ADMIN("XDEL", f->dead, r->element[0]->element[0]->str));
    freeReplyObject(r);
    add_letter(f, "b1e1", &done);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 2);
    /* the stream dropped whole: the same */
    freeReplyObject(ADMIN("DEL", f->dead));
    add_letter(f, "b1e1", &done);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 1);
    deadletter_get_stats(f->dl, &st);
    assert_int_equal(st.written, 4);
    assert_int_equal(st.repeated, 2);
    assert_int_equal(done, 6);
    char *got = dead_letter(f, 0);
    assert_non_null(strstr(got, "\nid=b1e1\nts=1763856000000\n"));
    free(got);
    /* a whole entry has no id: a letter each time */
    struct sl_err err;
    const char *fv[] = {"message", "hello"};
    const size_t fl[] = {7, 5};
    struct deadletter_letter e = {.error_type =
                                      SL_SLICE_LIT(DEADLETTER_TYPE_ENTRY),
                                  .reason = SL_SLICE_LIT("no field 'v'"),
                                  .source = SL_SLICE_LIT("stream test 1-2"),
                                  .nfields = 2,
                                  .fields = fv,
                                  .field_lens = fl};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(deadletter_add(f->dl, &e, NULL, NULL, NULL, &err), 0);
        pump(f, letters_settled, NULL, "the entry's letter settled");
    }
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 3);
}

/* The seen key shares the stream's Redis Cluster slot: the key in braces,
 * or as it is when it has a hash tag of its own. */
static void dead_letter_seen_key_slot(void **state)
{
    (void)state;
    char k[DEADLETTER_SEEN_KEY_MAX];
    const char *keys[] = {"sluice:dead", "{sluice}:dead", "a{b}c"};
    const char *want[] = {"{sluice:dead}:seen:x1", "{sluice}:dead:seen:x1",
                          "a{b}c:seen:x1"};
    for (size_t i = 0; i < 3; i++) {
        size_t n =
            deadletter_seen_key(keys[i], SL_SLICE_LIT("x1"), k, sizeof k);
        assert_int_equal(n, strlen(want[i]));
        assert_string_equal(k, want[i]);
        assert_int_equal(sl_redis_key_slot(k, n),
                         sl_redis_key_slot(keys[i], strlen(keys[i])));
    }
    char small[8];
    assert_int_equal(
        deadletter_seen_key("sluice:dead", SL_SLICE_LIT("x1"), small, 8), 0);
}

/* A Redis user that may not run scripts (ACL -eval): the letters are
 * written with XADD after all, one per refusal, and the entries behind
 * them resolved; nothing waits forever. */
static void dead_letter_without_scripts(void **state)
{
    struct fixture *f = *state;
    char url[96];
    struct sl_err err;
    struct deadletter_stats st;
    int done = 0;
    freeReplyObject(ADMIN("ACL", "SETUSER", "noscripts", "on", ">pw", "~*",
                          "&*", "+@all", "-eval", "-evalsha"));
    snprintf(url, sizeof url, "redis://noscripts:pw@127.0.0.1:%d/0",
             server_port);
    struct sl_redis_config cfg = {.url = url,
                                  .conn = {.component = "test:noscripts"}};
    struct deadletter_config dc = {f->dead, 1, NULL, 100};
    deadletter_free(f->dl);
    sl_redis_free(f->cmd);
    f->cmd = sl_redis_new(&cfg, &err);
    assert_non_null(f->cmd);
    f->dl = deadletter_new(&dc, f->cmd, NULL, &err);
    assert_non_null(f->dl);
    add_letter(f, "b1e1", &done);
    add_letter(f, "b1e1", &done);
    assert_int_equal(done, 2);
    deadletter_get_stats(f->dl, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.repeated, 0);
    assert_int_equal(st.retries, 0);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 2);
    char *got = dead_letter(f, 1);
    assert_non_null(strstr(got, "v=1\nerror.type=mapper_parsing_exception\n"));
    assert_non_null(strstr(got, "\nid=b1e1\nts=1763856000000\n"));
    free(got);
    freeReplyObject(ADMIN("ACL", "DELUSER", "noscripts"));
}

/* A seen key that is damaged (a string that is no entry id, a key of
 * another type) never stops the letter: it is written, and the key
 * replaced by its id. */
static void dead_letter_seen_key_damaged(void **state)
{
    struct fixture *f = *state;
    char seen[DEADLETTER_SEEN_KEY_MAX];
    int done = 0;
    assert_true(deadletter_seen_key(f->dead, SL_SLICE_LIT("b1e1"), seen,
                                    sizeof seen) > 0);
    freeReplyObject(ADMIN("SET", seen, "not an id"));
    add_letter(f, "b1e1", &done);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 1);
    add_letter(f, "b1e1", &done); /* the key names the letter now */
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 1);
    freeReplyObject(ADMIN("DEL", seen));
    freeReplyObject(ADMIN("RPUSH", seen, "a list"));
    add_letter(f, "b1e1", &done);
    assert_int_equal(admin_int(ADMIN("XLEN", f->dead)), 2);
    assert_int_equal(done, 3);
    struct deadletter_stats st;
    deadletter_get_stats(f->dl, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.repeated, 1);
    assert_int_equal(st.retries, 0);
}

int main(void)
{
    sl_log_init(SL_LOG_WARN, SL_LOG_TEXT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stream_read_resolve_drain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_idle_when_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_bad_entries_to_dead_letters,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stream_dead_event_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_ack_waits_for_dead_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_restart_own_pending_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_claim_from_dead_consumer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_read_sized_by_mean, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_held_entries_not_claimed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_two_consumers_share, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_redis_restarted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_move_resolve_recover, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_many_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(list_redis_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_letter_once_per_event, setup,
                                        teardown),
        cmocka_unit_test(dead_letter_seen_key_slot),
        cmocka_unit_test_setup_teardown(dead_letter_without_scripts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dead_letter_seen_key_damaged, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
