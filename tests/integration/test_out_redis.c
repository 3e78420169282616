/* test_out_redis.c: the shipper's Redis output (shipper/output/) against
 * real redis-server processes the test starts itself (redis-server on
 * PATH; the test fails and says so when there is none), on free loopback
 * ports, so it can stop, restart and reconfigure them. The output is
 * driven by a small poll loop, pump(), until a condition holds or a
 * deadline passes; nothing waits by sleeping.
 *
 * Covered: stream entries read back with the sl_batch reader equal what
 * was appended, in order, with ids and times, acknowledgements in order
 * with the right marks, exact counters; Redis killed mid-run (with an
 * append-only file, so what it accepted survives) and restarted: nothing
 * lost, no room while it is down, the outbox capped; a wrong password
 * logged once, held, and fixed with CONFIG SET requirepass; maxmemory with
 * noeviction: OOM held, logged once, nothing lost, going on once
 * maxmemory is raised; the pending limit (XLEN) holding until entries are
 * deleted; list mode read back as Logstash would (LRANGE, one JSON event
 * per element) and its LLEN limit; an ACL user and a database in the URL,
 * NOPERM held until the ACL allows XADD; a server stalled past
 * command_timeout (resent: duplicates possible, never a loss); the byte
 * limit (MEMORY USAGE), and a user that may not run MEMORY. TEST_FILTER
 * picks tests by name; TEST_SHOW_LOG=1 prints each test's log. */
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
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "output.h"
#include "redis_server.h"
#include "sl_arena.h"
#include "sl_batch.h"
#include "sl_event_id.h"
#include "sl_file.h"
#include "sl_log.h"
#include "sl_redis_conn.h"

#define WAIT_MS 20000 /* the longest any condition may take */
#define TS0     1764806400000LL

/* ---- redis-server processes ---- */

struct server {
    pid_t pid;
    int port;
    char dir[64]; /* its working directory (append-only file) */
    const char *password;
    const char *extra[8];
    int nextra;
};

static redisContext *admin(const struct server *s)
{
    return redis_server_connect(s->port, s->password);
}

static void start_server(struct server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[32] = {
        "redis-server", "--port",        port,      "--bind",
        "127.0.0.1",    "--save",        "",        "--dir",
        s->dir,         "--loglevel",    "warning", "--appendonly",
        "yes",          "--appendfsync", "always"};
    int argc = 15;
    for (int i = 0; i < s->nextra; i++)
        argv[argc++] = s->extra[i];
    argv[argc] = NULL;
    char why[200];
    if (redis_server_spawn(argv, s->port, s->password, WAIT_MS, &s->pid, why,
                           sizeof why) < 0)
        fail_msg("%s", why);
}

static void stop_server(struct server *s)
{
    redis_server_stop(&s->pid, SIGKILL);
}

/* A command on a plain connection; the reply is the caller's to free. */
static redisReply *admin_cmd(struct server *s, const char *fmt, ...)
{
    redisContext *c = admin(s);
    assert_non_null(c);
    if (c->err != 0)
        fail_msg("admin connection to port %d: %s", s->port, c->errstr);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        fail_msg("admin '%s': %s", fmt, r != NULL ? r->str : c->errstr);
    redisFree(c);
    return r;
}

static long long admin_int(struct server *s, const char *fmt, const char *a)
{
    redisReply *r = admin_cmd(s, fmt, a);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* ---- the output, the events, the loop ---- */

struct fx {
    struct server srv;
    struct output_config cfg;
    struct output *o;
    struct sl_event_id_source src;
    int total;   /* events to hand over */
    int next;    /* the next one to hand over */
    int acked;   /* events acknowledged */
    int batches; /* acknowledgements */
    uint64_t last_offset;
    int log_fd;
    char log_path[96];
};

static void event_id(const struct fx *f, int n, char id[SL_EVENT_ID_LEN + 1])
{
    sl_event_id_make(&f->src, (uint64_t)n * 100, id);
}

/* Event n: a JSON text that compresses like a log line, not like zeros. */
static int event_json(int n, char *buf, size_t size)
{
    return snprintf(buf, size,
                    "{\"@timestamp\":\"2025-12-04T00:00:%02d.%03dZ\","
                    "\"message\":\"GET /item/%d?q=%x HTTP/1.1 200 %d\","
                    "\"host\":{\"name\":\"web-1\"},\"log\":{\"offset\":%d}}",
                    n / 1000 % 60, n % 1000, n, n * 2654435761u, n % 9973,
                    n * 100);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->srv.port = redis_server_free_port();
    snprintf(f->srv.dir, sizeof f->srv.dir, "/tmp/sluice-out-redis-XXXXXX");
    assert_non_null(mkdtemp(f->srv.dir));
    output_config_defaults(&f->cfg);
    f->cfg.kind = OUTPUT_REDIS_STREAM;
    f->cfg.host = "web-1";
    f->cfg.key = "sluice:events";
    f->cfg.retry_min_ms = 20;
    f->cfg.retry_max_ms = 200;
    f->cfg.connect_timeout_ms = 2000;
    sl_event_id_source_init(&f->src, "web-1", 5, "file-key", 8);
    snprintf(f->log_path, sizeof f->log_path, "%s/log", f->srv.dir);
    f->log_fd = open(f->log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(f->log_fd >= 0);
    sl_log_set_fd(f->log_fd);
    *state = f;
    return 0;
}

static char *read_log(struct fx *f);

static int teardown(void **state)
{
    struct fx *f = *state;
    output_free(f->o);
    stop_server(&f->srv);
    if (getenv("TEST_SHOW_LOG") != NULL) { /* for a person debugging */
        char *log = read_log(f);
        fputs(log, stderr);
        free(log);
    }
    sl_log_flush();
    sl_log_set_fd(2);
    close(f->log_fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->srv.dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", f->srv.dir);
    free(f);
    return 0;
}

static void open_output_db(struct fx *f, const char *userinfo, int db)
{
    static char url[128];
    snprintf(url, sizeof url, "redis://%s127.0.0.1:%d/%d", userinfo,
             f->srv.port, db);
    f->cfg.url = url;
    struct sl_err err = {0};
    f->o = output_new(&f->cfg, NULL, &err);
    if (f->o == NULL)
        fail_msg("%s", err.msg);
}

static void open_output(struct fx *f, const char *userinfo)
{
    open_output_db(f, userinfo, 0);
}

/* Event n as a tree whose JSON is event_json(n)'s, handed over with
 * output_add_event (codec columnar takes trees, never JSON text). */
static void hand_over_tree(struct fx *f, int n)
{
    static struct sl_arena *arena;
    char id[SL_EVENT_ID_LEN + 1], ts[32], msg[96], off[24];
    struct sl_err err = {0};
    struct sl_event ev;
    if (arena == NULL)
        arena = sl_arena_new(4096);
    sl_arena_reset(arena);
    sl_event_init(&ev, arena);
    event_id(f, n, id);
    snprintf(ts, sizeof ts, "2025-12-04T00:00:%02d.%03dZ", n / 1000 % 60,
             n % 1000);
    snprintf(msg, sizeof msg, "GET /item/%d?q=%x HTTP/1.1 200 %d", n,
             n * 2654435761u, n % 9973);
    snprintf(off, sizeof off, "%d", n * 100);
    struct sl_value *root = &ev.root, *v;
    v = sl_event_append(&ev, root, SL_SLICE_LIT("@timestamp"), true);
    sl_value_set(v, SL_VALUE_STRING, ts, strlen(ts));
    v = sl_event_append(&ev, root, SL_SLICE_LIT("message"), true);
    sl_value_set(v, SL_VALUE_STRING, msg, strlen(msg));
    struct sl_value *o = sl_event_append(&ev, root, SL_SLICE_LIT("host"), true);
    sl_value_set(o, SL_VALUE_OBJECT, NULL, 0);
    v = sl_event_append(&ev, o, SL_SLICE_LIT("name"), true);
    sl_value_set(v, SL_VALUE_STRING, "web-1", 5);
    o = sl_event_append(&ev, root, SL_SLICE_LIT("log"), true);
    sl_value_set(o, SL_VALUE_OBJECT, NULL, 0);
    v = sl_event_append(&ev, o, SL_SLICE_LIT("offset"), true);
    sl_value_set(v, SL_VALUE_NUMBER, off, strlen(off));
    if (output_add_event(f->o, id, SL_EVENT_ID_LEN, TS0 + n, &ev, &err) < 0)
        fail_msg("event %d: %s", n, err.msg);
    struct output_mark m = {1, (uint64_t)(n + 1) * 100};
    if (output_commit(f->o, &m, &err) < 0)
        fail_msg("event %d: %s", n, err.msg);
}

static void hand_over(struct fx *f, int n)
{
    char id[SL_EVENT_ID_LEN + 1], json[256];
    struct sl_err err = {0};
    if (f->cfg.codec == SL_CODEC_COLUMNAR) {
        hand_over_tree(f, n);
        return;
    }
    event_id(f, n, id);
    struct sl_buf *b = output_begin(f->o, id, SL_EVENT_ID_LEN, TS0 + n, &err);
    if (b == NULL)
        fail_msg("event %d: %s", n, err.msg);
    int len = event_json(n, json, sizeof json);
    assert_int_equal(sl_buf_append(b, json, (size_t)len, &err), 0);
    struct output_mark m = {1, (uint64_t)(n + 1) * 100};
    if (output_commit(f->o, &m, &err) < 0)
        fail_msg("event %d: %s", n, err.msg);
}

/* One pass of the daemon's loop: acks, events while there is room, poll,
 * process. Acks must come in order: the marks only grow. */
static void pass(struct fx *f, int max_ms)
{
    struct output_ack ack;
    while (output_next_ack(f->o, &ack) == 1) {
        assert_int_equal(ack.nmarks, 1);
        assert_int_equal(ack.marks[0].source, 1);
        assert_true(ack.marks[0].offset > f->last_offset);
        f->last_offset = ack.marks[0].offset;
        f->acked += (int)ack.events;
        f->batches++;
        assert_int_equal(f->last_offset, (uint64_t)f->acked * 100);
    }
    while (f->next < f->total && output_has_room(f->o))
        hand_over(f, f->next++);
    if (f->next == f->total)
        output_flush(f->o);
    struct pollfd p[OUTPUT_MAX_POLLFDS];
    size_t n = output_fill_pollfds(f->o, p, OUTPUT_MAX_POLLFDS);
    int t = output_timeout_ms(f->o);
    poll(p, n, t < 0 || t > max_ms ? max_ms : t);
    output_process(f->o, p, n);
}

typedef bool (*cond_fn)(struct fx *f);

static void pump(struct fx *f, cond_fn cond, const char *what)
{
    int64_t end = sl_redis_now_ms() + WAIT_MS;
    while (!cond(f)) {
        if (sl_redis_now_ms() > end)
            fail_msg("waited %d ms for %s (%d of %d acknowledged)", WAIT_MS,
                     what, f->acked, f->total);
        pass(f, 50);
    }
}

static bool all_acked(struct fx *f)
{
    return f->acked == f->total && output_idle(f->o);
}

static bool down(struct fx *f)
{
    struct output_stats st;
    output_stats(f->o, &st);
    return !st.ready;
}

static bool has_room(struct fx *f)
{
    return output_has_room(f->o);
}

/* The log so far, for counting lines. */
static char *read_log(struct fx *f)
{
    sl_log_flush();
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    struct sl_err err = {0};
    if (sl_file_read(f->log_path, "the log", 1 << 20, &b, &err) < 0)
        fail_msg("%s", err.msg);
    return b.ptr != NULL ? b.ptr : strdup("");
}

/* Lines that hold needle, but for sl_log's "(repeated N times)" summary
 * of folded repeats: those are still logged once. */
static int count_lines(const char *log, const char *needle)
{
    int n = 0;
    for (const char *p = log; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        char line[4200];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        n += strstr(line, needle) != NULL && strstr(line, "(repeated") == NULL;
        p += len + (p[len] == '\n');
    }
    return n;
}

/* Reads the stream back: every event, in order, each id once. Returns the
 * number of entries. */
static int check_stream(struct fx *f, bool in_order, uint64_t *bytes)
{
    redisReply *r = admin_cmd(&f->srv, "XRANGE %s - +", f->cfg.key);
    struct sl_err err = {0};
    struct sl_batch_reader *rd = sl_batch_reader_new(0, &err);
    assert_non_null(rd);
    char *seen = calloc((size_t)f->total, 1);
    int n = 0, entries = (int)r->elements;
    *bytes = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *fields = r->element[i]->element[1];
        const char *argv[32];
        size_t lens[32];
        for (size_t k = 0; k < fields->elements && k < 32; k++) {
            argv[k] = fields->element[k]->str;
            lens[k] = fields->element[k]->len;
        }
        if (sl_batch_reader_decode(rd, fields->elements, argv, lens, &err) < 0)
            fail_msg("entry %zu: %s", i, err.msg);
        assert_int_equal(sl_batch_reader_codec(rd), f->cfg.codec);
        *bytes += lens[11];
        struct sl_batch_event ev;
        while (sl_batch_reader_next(rd, &ev) == 1) {
            int e = (int)(ev.ts_ms - TS0);
            assert_in_range(e, 0, f->total - 1);
            if (in_order)
                assert_int_equal(e, n);
            char id[SL_EVENT_ID_LEN + 1], json[256];
            event_id(f, e, id);
            assert_int_equal(ev.id.len, SL_EVENT_ID_LEN);
            assert_memory_equal(ev.id.ptr, id, SL_EVENT_ID_LEN);
            int len = event_json(e, json, sizeof json);
            assert_int_equal(ev.json.len, len);
            assert_memory_equal(ev.json.ptr, json, (size_t)len);
            seen[e] = 1;
            n++;
        }
    }
    for (int e = 0; e < f->total; e++)
        if (!seen[e])
            fail_msg("event %d is not in the stream", e);
    if (in_order)
        assert_int_equal(n, f->total);
    free(seen);
    sl_batch_reader_free(rd);
    freeReplyObject(r);
    return entries;
}

/* ---- the tests ---- */

static void stream_round_trip(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    f->cfg.batch_events = 1000;
    f->total = 4500;
    open_output(f, "");
    assert_false(output_has_room(f->o)); /* not connected yet */
    pump(f, all_acked, "every event acknowledged");
    assert_int_equal(f->batches, 5);
    uint64_t bytes;
    assert_int_equal(check_stream(f, true, &bytes), 5);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.events, 4500);
    assert_int_equal(st.batches, 5);
    assert_int_equal(st.bytes, bytes);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.error_replies, 0);
    assert_int_equal(st.holds, 0);
    assert_int_equal(st.disconnects, 0);
    char *log = read_log(f);
    assert_int_equal(count_lines(log, ""), 1);
    assert_int_equal(count_lines(log, ": ready"), 1);
    free(log);
}

static void redis_down_and_back(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    f->cfg.batch_events = 200;
    f->cfg.max_in_flight = 3;
    f->total = 20000;
    open_output(f, "");
    pump(f, has_room, "connected");
    while (f->acked < 2000)
        pass(f, 50);
    stop_server(&f->srv);
    /* down: the pipeline stops with at most the outbox in memory */
    pump(f, down, "the connection seen down");
    assert_false(output_has_room(f->o));
    pass(f, 0); /* the acks of what Redis answered before it died */
    int handed = f->next, acked = f->acked;
    int64_t until = sl_redis_now_ms() + 2000;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->acked, acked); /* nothing acked that Redis lacks */
    assert_true(f->next == handed);
    assert_true(f->next - f->acked <= 4 * 200); /* outbox + writer */
    start_server(&f->srv); /* the same dir: what was accepted is back */
    pump(f, all_acked, "every event after the restart");
    uint64_t bytes;
    int entries = check_stream(f, false, &bytes);
    assert_true(entries >= 100); /* a lost reply may add a duplicate */
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.events, 20000);
    assert_int_equal(st.batches, 100);
    assert_true(entries <= 100 + (int)st.retries);
    assert_int_equal(st.disconnects, 1);
}

static void wrong_password_then_fixed(void **state)
{
    struct fx *f = *state;
    f->srv.extra[f->srv.nextra++] = "--requirepass";
    f->srv.extra[f->srv.nextra++] = "right-pass";
    f->srv.password = "right-pass";
    start_server(&f->srv);
    f->total = 300;
    open_output(f, ":s3cr3t-wrong@");
    int64_t until = sl_redis_now_ms() + 1000;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->next, 0);
    freeReplyObject(
        admin_cmd(&f->srv, "CONFIG SET requirepass %s", "s3cr3t-wrong"));
    f->srv.password = "s3cr3t-wrong";
    pump(f, all_acked, "every event once the password is right");
    uint64_t bytes;
    assert_int_equal(check_stream(f, true, &bytes), 1);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.disconnects, 1); /* however many attempts */
    char *log = read_log(f);
    assert_int_equal(count_lines(log, "login refused: WRONGPASS"), 1);
    assert_null(strstr(log, "s3cr3t"));
    free(log);
}

static bool refused(struct fx *f)
{
    struct output_stats st;
    output_stats(f->o, &st);
    return st.error_replies > 0 && !output_has_room(f->o);
}

static void out_of_memory_held_then_resumed(void **state)
{
    struct fx *f = *state;
    f->srv.extra[f->srv.nextra++] = "--maxmemory";
    f->srv.extra[f->srv.nextra++] = "1mb";
    f->srv.extra[f->srv.nextra++] = "--maxmemory-policy";
    f->srv.extra[f->srv.nextra++] = "noeviction";
    start_server(&f->srv);
    f->cfg.batch_events = 500;
    f->cfg.codec = SL_CODEC_NONE; /* so that 1 MB fills fast */
    f->total = 20000;
    open_output(f, "");
    pump(f, refused, "an OOM reply");
    /* what was acknowledged is in Redis, and nothing else */
    assert_int_equal(admin_int(&f->srv, "XLEN %s", f->cfg.key), f->batches);
    int handed = f->next;
    int64_t until = sl_redis_now_ms() + 500;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->next, handed); /* held: nothing more read */
    assert_int_equal(admin_int(&f->srv, "XLEN %s", f->cfg.key), f->batches);
    /* resent with backoff (20 ms doubling to 200), not in a tight loop:
     * in 500 ms at most about 6 rounds of the 4 batches */
    struct output_stats st;
    output_stats(f->o, &st);
    assert_in_range(st.error_replies, 1, 40);
    freeReplyObject(admin_cmd(&f->srv, "CONFIG SET maxmemory %s", "0"));
    pump(f, all_acked, "every event once maxmemory is raised");
    uint64_t bytes;
    assert_int_equal(check_stream(f, false, &bytes), 40);
    output_stats(f->o, &st);
    assert_int_equal(st.events, 20000);
    assert_int_equal(st.batches, 40);
    assert_int_equal(st.bytes, bytes);
    assert_int_equal(st.holds, 1);
    assert_true(st.error_replies > 0);
    assert_int_equal(st.retries, st.error_replies); /* each resent once */
    char *log = read_log(f);
    assert_int_equal(count_lines(log, "Redis refused a batch: OOM"), 1);
    assert_int_equal(count_lines(log, "Redis accepts batches again"), 1);
    free(log);
}

static bool over_limit(struct fx *f)
{
    return !output_has_room(f->o) && f->acked >= 300;
}

static void pending_limit_holds_until_deleted(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    f->cfg.batch_events = 100;
    f->cfg.max_in_flight = 2;
    f->cfg.max_pending = 3;
    f->cfg.pending_check_ms = 50;
    f->total = 500;
    open_output(f, "");
    pump(f, over_limit, "the pending limit");
    /* held: a second passes, nothing more is read */
    int handed = f->next;
    int64_t until = sl_redis_now_ms() + 1000;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->next, handed);
    long long len = admin_int(&f->srv, "XLEN %s", f->cfg.key);
    assert_in_range(len, 3, 3 + 2);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.pending, len);
    assert_int_equal(st.pending_holds, 1);
    /* what an indexer does once it indexed them: XACK, XDEL */
    freeReplyObject(admin_cmd(&f->srv, "XTRIM %s MAXLEN 0", f->cfg.key));
    pump(f, all_acked, "every event after the deletion");
    output_stats(f->o, &st);
    assert_int_equal(st.pending_holds, 1);
    char *log = read_log(f);
    assert_int_equal(count_lines(log, "at its limit"), 1);
    assert_int_equal(count_lines(log, "below its pending limit again"), 1);
    free(log);
}

static void list_mode_as_logstash_reads_it(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    f->cfg.kind = OUTPUT_REDIS_LIST;
    f->cfg.key = "logstash";
    f->cfg.batch_events = 600; /* RPUSH of 500, then of 100 */
    f->total = 1234;
    open_output(f, "");
    pump(f, all_acked, "every event acknowledged");
    assert_int_equal(f->batches, 3);
    redisReply *r = admin_cmd(&f->srv, "LRANGE %s 0 -1", f->cfg.key);
    assert_int_equal(r->elements, 1234);
    for (int e = 0; e < 1234; e++) {
        char json[256];
        int len = event_json(e, json, sizeof json);
        assert_int_equal(r->element[e]->len, len);
        assert_memory_equal(r->element[e]->str, json, (size_t)len);
    }
    freeReplyObject(r);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.events, 1234);
    assert_int_equal(st.batches, 3);
    assert_int_equal(st.retries, 0);
    /* the pending limit in list mode counts events (LLEN) */
    output_free(f->o);
    f->o = NULL;
    f->cfg.max_pending = 1000;
    f->acked = f->next = f->batches = 0;
    f->last_offset = 0;
    f->total = 10;
    open_output(f, "");
    int64_t until = sl_redis_now_ms() + 500;
    while (sl_redis_now_ms() < until)
        pass(f, 50);
    assert_int_equal(f->next, 0);
    output_stats(f->o, &st);
    assert_int_equal(st.pending, 1234);
    freeReplyObject(admin_cmd(&f->srv, "LTRIM %s 1000 -1", f->cfg.key));
    pump(f, all_acked, "every event after LTRIM");
    assert_int_equal(admin_int(&f->srv, "LLEN %s", f->cfg.key), 244);
    /* a batch of more than 64 x 500 events: 64 commands of 516 or less */
    output_free(f->o);
    f->o = NULL;
    freeReplyObject(admin_cmd(&f->srv, "DEL %s", f->cfg.key));
    f->cfg.max_pending = 0;
    f->cfg.batch_events = 33000;
    f->cfg.batch_bytes = (size_t)16 << 20;
    f->acked = f->next = f->batches = 0;
    f->last_offset = 0;
    f->total = 33000;
    freeReplyObject(admin_cmd(&f->srv, "CONFIG RESETSTAT"));
    open_output(f, "");
    pump(f, all_acked, "a batch of 33000 events");
    assert_int_equal(f->batches, 1);
    r = admin_cmd(&f->srv, "INFO commandstats");
    assert_non_null(strstr(r->str, "cmdstat_rpush:calls=64,"));
    freeReplyObject(r);
    r = admin_cmd(&f->srv, "LRANGE %s 0 -1", f->cfg.key);
    assert_int_equal(r->elements, 33000);
    for (int e = 0; e < 33000; e++) {
        char json[256];
        int len = event_json(e, json, sizeof json);
        assert_int_equal(r->element[e]->len, len);
        assert_memory_equal(r->element[e]->str, json, (size_t)len);
    }
    freeReplyObject(r);
}

static bool noperm(struct fx *f)
{
    struct output_stats st;
    output_stats(f->o, &st);
    return st.holds == 1 && !output_has_room(f->o);
}

/* An ACL user and a database in the URL; the user may not XADD at first:
 * NOPERM holds the pipeline, logged once, until the ACL allows it. */
static void acl_user_db_and_noperm(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    freeReplyObject(
        admin_cmd(&f->srv,
                  "ACL SETUSER shipper on >%s ~sluice:* resetchannels "
                  "+ping +select +client|setname +xlen",
                  "s3cr3t-pw"));
    f->total = 300;
    open_output_db(f, "shipper:s3cr3t-pw@", 3);
    pump(f, noperm, "a NOPERM reply");
    int handed = f->next;
    int64_t until = sl_redis_now_ms() + 300;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->next, handed);
    assert_int_equal(f->acked, 0);
    freeReplyObject(admin_cmd(&f->srv, "ACL SETUSER shipper %s", "+xadd"));
    pump(f, all_acked, "every event once XADD is allowed");
    redisContext *c = admin(&f->srv);
    freeReplyObject(redisCommand(c, "SELECT 3"));
    redisReply *r = redisCommand(c, "XLEN %s", f->cfg.key);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);
    assert_int_equal(admin_int(&f->srv, "XLEN %s", f->cfg.key), 0); /* db 0 */
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.holds, 1);
    assert_int_equal(st.retries, st.error_replies);
    char *log = read_log(f);
    assert_int_equal(count_lines(log, "Redis refused a batch: NOPERM"), 1);
    assert_int_equal(count_lines(log, "ACL SETUSER USER"), 1);
    assert_null(strstr(log, "s3cr3t"));
    free(log);
}

/* Whether the server is inside a DEBUG SLEEP: a PING on a connection of
 * its own gets no answer within 100 ms. */
static bool server_asleep(const struct server *s)
{
    redisContext *c = admin(s);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100 * 1000};
    assert_int_equal(redisSetTimeout(c, tv), REDIS_OK);
    redisReply *r = redisCommand(c, "PING");
    bool asleep = r == NULL;
    freeReplyObject(r);
    redisFree(c);
    return asleep;
}

/* Redis stalls past command_timeout: the client closes the connection, the
 * output resends on a new one. Redis may still have written the entry:
 * a duplicate, never a loss. The first 300 events are acknowledged before
 * the stall, the other 700 handed over only once the server sleeps, so
 * they are in flight during it whatever the machine's speed. */
static void stalled_redis_resent(void **state)
{
    struct fx *f = *state;
    f->srv.extra[f->srv.nextra++] = "--enable-debug-command";
    f->srv.extra[f->srv.nextra++] = "yes";
    start_server(&f->srv);
    f->cfg.command_timeout_ms = 300;
    f->cfg.batch_events = 100;
    f->total = 300;
    open_output(f, "");
    pump(f, all_acked, "the first 300 events");
    /* the server sleeps: what is sent now gets no reply in time */
    redisContext *c = admin(&f->srv);
    redisAppendCommand(c, "DEBUG SLEEP 1.5");
    int done = 0;
    while (!done)
        assert_int_equal(redisBufferWrite(c, &done), REDIS_OK);
    int64_t end = sl_redis_now_ms() + WAIT_MS;
    while (!server_asleep(&f->srv))
        if (sl_redis_now_ms() > end)
            fail_msg("the server never went to sleep");
    f->total = 1000;
    pump(f, all_acked, "every event after the stall");
    void *reply = NULL;
    assert_int_equal(redisGetReply(c, &reply), REDIS_OK);
    freeReplyObject(reply);
    redisFree(c);
    uint64_t bytes;
    int entries = check_stream(f, false, &bytes);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.batches, 10);
    assert_true(st.retries >= 1);
    assert_in_range(entries, 10, 10 + (int)st.retries);
    assert_int_equal(st.error_replies, 0);
}

static bool bytes_over(struct fx *f)
{
    struct output_stats st;
    output_stats(f->o, &st);
    return st.pending_holds == 1 && !output_has_room(f->o);
}

/* max_pending_bytes: MEMORY USAGE of the key holds the pipeline until
 * entries go; a user that may not run MEMORY (or XLEN) is told once, and
 * that limit is then left unchecked: the pipeline is not held by it. */
static void pending_bytes_limit(void **state)
{
    struct fx *f = *state;
    start_server(&f->srv);
    f->cfg.batch_events = 100;
    f->cfg.codec = SL_CODEC_NONE; /* about 24 KB an entry */
    f->cfg.max_pending_bytes = 100000;
    f->cfg.pending_check_ms = 50;
    f->total = 1000;
    open_output(f, "");
    pump(f, bytes_over, "the byte limit");
    int handed = f->next;
    int64_t until = sl_redis_now_ms() + 300;
    while (sl_redis_now_ms() < until) {
        pass(f, 50);
        assert_false(output_has_room(f->o));
    }
    assert_int_equal(f->next, handed);
    long long len = admin_int(&f->srv, "XLEN %s", f->cfg.key);
    assert_in_range(len, 4, 4 + 4 + 1); /* 100 KB: 4 to 5 entries */
    freeReplyObject(admin_cmd(&f->srv, "XTRIM %s MAXLEN 0", f->cfg.key));
    /* whatever is left holds it again at most once more */
    pump(f, all_acked, "every event after the deletion");
    char *log = read_log(f);
    assert_true(count_lines(log, "at its limit") >= 1);
    assert_null(strstr(log, "MEMORY USAGE"));
    free(log);
    output_free(f->o);
    f->o = NULL;

    /* a user without +memory */
    freeReplyObject(
        admin_cmd(&f->srv, "ACL SETUSER shipper on >%s ~* +@all -memory -xlen",
                  "pw-123"));
    f->cfg.max_pending = 100;
    freeReplyObject(admin_cmd(&f->srv, "DEL %s", f->cfg.key));
    f->acked = f->next = f->batches = 0;
    f->last_offset = 0;
    open_output(f, "shipper:pw-123@");
    pump(f, all_acked, "every event without the byte limit");
    assert_int_equal(admin_int(&f->srv, "XLEN %s", f->cfg.key), 10);
    log = read_log(f);
    assert_int_equal(count_lines(log, "MEMORY USAGE sluice:events answered: "
                                      "NOPERM"),
                     1);
    assert_int_equal(count_lines(log, "XLEN sluice:events answered: NOPERM"),
                     1);
    assert_int_equal(count_lines(log, "max_pending is not checked"), 1);
    free(log);
}

/* Codec columnar: the events handed over as trees come out of the stream
 * as the JSON the other codecs carry, in order, each once. */
static void stream_round_trip_columnar(void **state)
{
    struct fx *f = *state;
    f->cfg.codec = SL_CODEC_COLUMNAR;
    stream_round_trip(state);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stream_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(redis_down_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_password_then_fixed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_held_then_resumed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pending_limit_holds_until_deleted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(list_mode_as_logstash_reads_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(acl_user_db_and_noperm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stalled_redis_resent, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_bytes_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_round_trip_columnar, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
