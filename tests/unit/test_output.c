/* test_output.c: the output's front (batches, seals, the outbox, marks and
 * acknowledgements in order) through the stdout sink, on a pipe the test
 * reads: what comes out, and when, is exact. Redis is covered by
 * tests/integration/test_out_redis.c. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "sl_log.h"
#include "sl_redis_conn.h"

struct fx {
    int pipe[2];
    struct output *o;
    struct output_config cfg;
    char got[1 << 20]; /* what was read from the pipe */
    size_t got_len;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(pipe(f->pipe), 0);
    output_config_defaults(&f->cfg);
    f->cfg.kind = OUTPUT_STDOUT;
    f->cfg.fd = f->pipe[1];
    f->cfg.host = "h";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    output_free(f->o);
    if (f->pipe[0] >= 0)
        close(f->pipe[0]);
    close(f->pipe[1]);
    free(f);
    return 0;
}

static void open_output(struct fx *f)
{
    struct sl_err err = {0};
    f->o = output_new(&f->cfg, NULL, &err);
    if (f->o == NULL)
        fail_msg("%s", err.msg);
}

static void add(struct fx *f, int n, uint32_t source, uint64_t offset)
{
    struct sl_err err = {0};
    char id[32];
    snprintf(id, sizeof id, "id%d", n);
    assert_true(output_has_room(f->o));
    struct sl_buf *b = output_begin(f->o, id, strlen(id), 1000 + n, &err);
    if (b == NULL)
        fail_msg("%s", err.msg);
    char json[64];
    snprintf(json, sizeof json, "{\"n\":%d}", n);
    assert_int_equal(sl_buf_append(b, json, strlen(json), &err), 0);
    struct output_mark m = {source, offset};
    if (output_commit(f->o, &m, &err) < 0)
        fail_msg("%s", err.msg);
}

/* Reads what the pipe holds now (non-blocking read end). */
static void drain(struct fx *f)
{
    fcntl(f->pipe[0], F_SETFL, O_NONBLOCK);
    for (;;) {
        ssize_t n = read(f->pipe[0], f->got + f->got_len,
                         sizeof f->got - 1 - f->got_len);
        if (n <= 0)
            break;
        f->got_len += (size_t)n;
    }
    f->got[f->got_len] = '\0';
}

/* One pass of the loop, waiting at most max_ms. */
static void pass(struct fx *f, int max_ms)
{
    struct pollfd p[OUTPUT_MAX_POLLFDS];
    size_t n = output_fill_pollfds(f->o, p, OUTPUT_MAX_POLLFDS);
    int t = output_timeout_ms(f->o);
    poll(p, n, t < 0 || t > max_ms ? max_ms : t);
    output_process(f->o, p, n);
}

static void every_event_in_order_with_marks(void **state)
{
    struct fx *f = *state;
    open_output(f);
    assert_true(output_idle(f->o));
    add(f, 1, 7, 10);
    add(f, 2, 8, 20);
    add(f, 3, 7, 30);
    assert_false(output_idle(f->o));
    struct output_ack ack;
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    output_flush(f->o);
    drain(f);
    assert_string_equal(f->got, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.events, 3);
    assert_int_equal(ack.nmarks, 2);
    assert_int_equal(ack.marks[0].source, 7);
    assert_int_equal(ack.marks[0].offset, 30); /* the last of source 7 */
    assert_int_equal(ack.marks[1].source, 8);
    assert_int_equal(ack.marks[1].offset, 20);
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    assert_true(output_idle(f->o));
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.bytes, 24); /* "{"n":1}\n" x 3: as written */
    assert_int_equal(st.retries, 0);
}

static void seals_by_count_bytes_sources_and_age(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_events = 3;
    f->cfg.batch_bytes = 60; /* "1003 id3 {"n":3}\n" is 17 bytes */
    f->cfg.batch_age_ms = 50;
    f->cfg.max_in_flight = 100;
    open_output(f);
    struct output_ack ack;
    output_flush(f->o); /* nothing to flush: changes nothing after */
    add(f, 1, 1, 1);
    add(f, 2, 1, 2);
    pass(f, 0);
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    add(f, 3, 1, 3); /* count */
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.events, 3);
    add(f, 10, 1, 4);
    add(f, 11, 1, 5);
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    add(f, 12, 2, 6); /* 3 events (57 bytes): count again */
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.nmarks, 2);
    /* age: one event, sealed about 50 ms later, not before */
    int64_t t0 = sl_redis_now_ms();
    add(f, 20, 3, 7);
    int t = output_timeout_ms(f->o);
    assert_true(t > 0 && t <= 50);
    while (output_next_ack(f->o, &ack) == 0) {
        assert_true(sl_redis_now_ms() - t0 < 5000);
        pass(f, 100);
    }
    assert_true(sl_redis_now_ms() - t0 >= 50);
    assert_int_equal(ack.events, 1);
    assert_int_equal(ack.marks[0].offset, 7);
    assert_int_equal(output_timeout_ms(f->o), -1);
    drain(f);
    assert_string_equal(f->got, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":10}\n"
                                "{\"n\":11}\n{\"n\":12}\n{\"n\":20}\n");
}

static void seals_by_bytes_and_sources(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_bytes = 40;
    f->cfg.max_in_flight = 100;
    open_output(f);
    struct output_ack ack;
    add(f, 1, 1, 1); /* 17 bytes */
    add(f, 2, 1, 2); /* 34 */
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    add(f, 3, 1, 3); /* 51 >= 40 */
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.events, 3);
    /* sources: the 64th seals */
    f->cfg.batch_bytes = 1 << 20;
    output_free(f->o);
    open_output(f);
    for (int i = 0; i < OUTPUT_MARKS_MAX - 1; i++)
        add(f, i, (uint32_t)i, (uint64_t)i + 100);
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    add(f, 99, OUTPUT_MARKS_MAX - 1, 5);
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.nmarks, OUTPUT_MARKS_MAX);
    assert_int_equal(ack.marks[0].offset, 100);
    assert_int_equal(ack.marks[OUTPUT_MARKS_MAX - 1].offset, 5);
}

/* A reader that does not keep up: the pipe fills, the outbox fills, there
 * is no room, memory stays at max_in_flight batches; reading the pipe
 * lets everything through, in order. */
static void full_pipe_is_backpressure(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_events = 1000; /* about 10 KB a batch, the pipe 4 KiB */
    f->cfg.max_in_flight = 2;
    assert_true(fcntl(f->pipe[1], F_SETPIPE_SZ, 4096) >= 4096);
    open_output(f);
    /* the write end is non-blocking now */
    assert_true(fcntl(f->pipe[1], F_GETFL) & O_NONBLOCK);
    int n = 0;
    while (output_has_room(f->o)) {
        add(f, n, 1, (uint64_t)n + 1);
        n++;
    }
    /* 2 batches of 1000 in the outbox, the first partly written */
    assert_int_equal(n, 2000);
    struct sl_err err = {0};
    assert_null(output_begin(f->o, "x", 1, 1, &err));
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "output: no room for an event; ask "
                                 "output_has_room() before reading");
    struct pollfd p[1];
    assert_int_equal(output_fill_pollfds(f->o, p, 1), 1);
    assert_int_equal(p[0].fd, f->pipe[1]);
    assert_int_equal(p[0].events, POLLOUT);
    assert_int_equal(output_timeout_ms(f->o), -1); /* no busy loop */
    struct output_ack ack;
    int acked = 0;
    for (int i = 0; i < 1000 && acked < 2; i++) {
        drain(f);
        pass(f, 100);
        while (output_next_ack(f->o, &ack) == 1) {
            assert_int_equal(ack.marks[0].offset, (uint64_t)(acked + 1) * 1000);
            acked++;
        }
    }
    assert_int_equal(acked, 2);
    drain(f);
    size_t at = 0;
    for (int i = 0; i < 2000; i++) {
        char want[32];
        int len = snprintf(want, sizeof want, "{\"n\":%d}\n", i);
        assert_memory_equal(f->got + at, want, (size_t)len);
        at += (size_t)len;
    }
    assert_int_equal(at, f->got_len);
    assert_true(output_idle(f->o));
    output_free(f->o);
    f->o = NULL;
    /* the flags are back as they were */
    assert_false(fcntl(f->pipe[1], F_GETFL) & O_NONBLOCK);
}

static void reader_gone_is_broken(void **state)
{
    struct fx *f = *state;
    signal(SIGPIPE, SIG_IGN);
    open_output(f);
    close(f->pipe[0]);
    f->pipe[0] = -1;
    add(f, 1, 1, 1);
    assert_false(output_broken(f->o));
    output_flush(f->o);
    assert_true(output_broken(f->o));
    assert_false(output_has_room(f->o));
    struct output_ack ack;
    assert_int_equal(output_next_ack(f->o, &ack), 0);
}

static void bad_events_are_refused_and_rolled_back(void **state)
{
    struct fx *f = *state;
    open_output(f);
    struct sl_err err = {0};
    assert_null(output_begin(f->o, "bad id", 6, 1, &err));
    assert_int_equal(err.status, SL_EINVAL);
    struct sl_buf *b = output_begin(f->o, "a", 1, 1, &err);
    assert_non_null(b);
    assert_null(output_begin(f->o, "b", 1, 1, &err));
    assert_string_equal(err.msg, "output: an event is already open; commit "
                                 "or roll it back first");
    struct output_mark m = {1, 1}; /* nothing appended: empty */
    assert_int_equal(output_commit(f->o, &m, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(output_commit(f->o, &m, &err), -1);
    assert_string_equal(err.msg,
                        "output: no event to commit; call output_begin()");
    b = output_begin(f->o, "c", 1, 1, &err);
    assert_int_equal(sl_buf_append(b, "{\"x\"", 4, &err), 0);
    output_rollback(f->o);
    assert_true(output_idle(f->o));
    add(f, 5, 1, 9);
    output_flush(f->o);
    drain(f);
    assert_string_equal(f->got, "{\"n\":5}\n");
}

/* A regular file is written blocking: run --once's flush, then idle. */
static void regular_file_is_written_at_once(void **state)
{
    struct fx *f = *state;
    char path[] = "/tmp/test_output_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    f->cfg.fd = fd;
    open_output(f);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    for (int i = 0; i < 2500; i++)
        add(f, i, 1, (uint64_t)i + 1);
    output_flush(f->o);
    struct pollfd p[1];
    assert_int_equal(output_fill_pollfds(f->o, p, 1), 0);
    struct output_ack ack;
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.events, 2000);
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.events, 500);
    assert_int_equal(ack.marks[0].offset, 2500);
    assert_true(output_idle(f->o));
    off_t size = lseek(fd, 0, SEEK_END);
    size_t want = 0;
    for (int i = 0; i < 2500; i++)
        want += (size_t)snprintf(NULL, 0, "{\"n\":%d}\n", i);
    assert_int_equal(size, want);
    close(fd);
}

/* An event larger than OUTPUT_EVENT_MAX: the caller's append fails, the
 * rollback leaves the batch as it was. */
static void an_event_too_large_is_refused(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_bytes = 1024;
    open_output(f);
    add(f, 1, 1, 1);
    struct sl_err err = {0};
    struct sl_buf *b = output_begin(f->o, "big", 3, 1, &err);
    assert_non_null(b);
    size_t n = OUTPUT_EVENT_MAX + 1024;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'x', n);
    assert_int_equal(sl_buf_append(b, big, n, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    free(big);
    output_rollback(f->o);
    add(f, 2, 1, 2);
    output_flush(f->o);
    drain(f);
    assert_string_equal(f->got, "{\"n\":1}\n{\"n\":2}\n");
}

/* A batch whose lines the pipe takes only in part at its seal (written
 * straight from the batch being sealed): the write stops inside a line,
 * and the rest of that line and the lines after it follow, once each. */
static void partial_write_at_seal_goes_on_inside_a_line(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_events = 300; /* 7.8 KB a batch, the pipe 4 KiB */
    assert_true(fcntl(f->pipe[1], F_SETPIPE_SZ, 4096) >= 4096);
    open_output(f);
    struct sl_err err = {0};
    char want[16384];
    size_t want_len = 0;
    for (int i = 0; i < 300; i++) {
        char id[16], json[64];
        snprintf(id, sizeof id, "id%d", i);
        int len =
            snprintf(json, sizeof json, "{\"n\":%03d,\"p\":\"abcdefgh\"}", i);
        struct sl_buf *b = output_begin(f->o, id, strlen(id), 1, &err);
        assert_non_null(b);
        assert_int_equal(sl_buf_append(b, json, (size_t)len, &err), 0);
        struct output_mark m = {1, (uint64_t)i + 1};
        assert_int_equal(output_commit(f->o, &m, &err), 0);
        memcpy(want + want_len, json, (size_t)len);
        want_len += (size_t)len;
        want[want_len++] = '\n';
    }
    /* sealed by count at the 300th: 4096 bytes written, 4096 % 26 != 0 */
    struct output_ack ack;
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    for (int i = 0; i < 1000 && output_next_ack(f->o, &ack) == 0; i++) {
        drain(f);
        pass(f, 100);
    }
    assert_int_equal(ack.events, 300);
    assert_int_equal(ack.marks[0].offset, 300);
    drain(f);
    assert_int_equal(f->got_len, want_len);
    assert_memory_equal(f->got, want, want_len);
    struct output_stats st;
    output_stats(f->o, &st);
    assert_int_equal(st.bytes, want_len);
}

/* output_hold: the batch being filled is not sealed, by count, age or a
 * flush, and a full one leaves no room, until output_release seals it;
 * batches sealed before the hold are sent meanwhile. */
static void a_held_batch_waits_for_its_release(void **state)
{
    struct fx *f = *state;
    f->cfg.batch_events = 2;
    f->cfg.batch_age_ms = 1;
    f->cfg.max_in_flight = 4;
    open_output(f);
    struct output_ack ack;
    add(f, 1, 1, 1);
    add(f, 2, 1, 2); /* sealed by count, before the hold */
    output_hold(f->o);
    output_hold(f->o); /* twice is once */
    add(f, 3, 1, 3);
    assert_int_equal(output_timeout_ms(f->o), -1); /* no age while held */
    add(f, 4, 1, 4);                               /* full: not sealed */
    assert_false(output_has_room(f->o));
    output_flush(f->o);
    pass(f, 5);
    drain(f);
    assert_string_equal(f->got, "{\"n\":1}\n{\"n\":2}\n");
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.marks[0].offset, 2);
    assert_int_equal(output_next_ack(f->o, &ack), 0);
    assert_false(output_idle(f->o));
    output_release(f->o);
    assert_true(output_has_room(f->o));
    drain(f);
    assert_string_equal(f->got, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n");
    assert_int_equal(output_next_ack(f->o, &ack), 1);
    assert_int_equal(ack.marks[0].offset, 4);
    output_release(f->o); /* not held: nothing */
    assert_true(output_idle(f->o));
}

int main(void)
{
    sl_log_init(SL_LOG_ERROR, SL_LOG_TEXT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_event_in_order_with_marks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(seals_by_count_bytes_sources_and_age,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(seals_by_bytes_and_sources, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(full_pipe_is_backpressure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reader_gone_is_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_events_are_refused_and_rolled_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(regular_file_is_written_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_event_too_large_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            partial_write_at_seal_goes_on_inside_a_line, setup, teardown),
        cmocka_unit_test_setup_teardown(a_held_batch_waits_for_its_release,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
