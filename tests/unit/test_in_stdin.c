/* test_in_stdin.c: the stdin input on real pipes: chunks and their
 * offsets, bounds, the fd polled only after a read found nothing, EOF once,
 * a failed read, and a whole run: a pipe through line_reader, cri framing
 * and the event base to exact JSON, ended by the writer closing. Waits are
 * poll() on the pipe with a deadline, never sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "container_log.h"
#include "event_base.h"
#include "in_stdin.h"
#include "line_reader.h"

#define T1 1796403632123LL /* 2026-12-04T17:00:32.123Z */

static void write_all(int fd, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
}

/* The loop's wait: poll what the input asks for, up to 5 s. */
static void wait_loop(struct in_stdin *in)
{
    struct pollfd p[2];
    size_t n = in_stdin_fill_pollfds(in, p, 2);
    assert_int_equal(n, 1);
    assert_int_equal(in_stdin_timeout_ms(in), -1);
    assert_int_equal(poll(p, n, 5000), 1);
    in_stdin_process(in, p, n);
}

static void test_chunks_and_eof(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct in_stdin *in = in_stdin_new(fds[0], 4096, T1, NULL);
    assert_non_null(in);
    assert_true(in_stdin_start_ms(in) == T1);
    struct in_stdin_chunk c;
    struct pollfd p[1];
    /* nothing written: nothing read, and now the fd is polled */
    assert_int_equal(in_stdin_fill_pollfds(in, p, 1), 0);
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 0);
    assert_int_equal(in_stdin_fill_pollfds(in, p, 1), 1);
    assert_int_equal(p[0].fd, fds[0]);
    assert_int_equal(p[0].events, POLLIN);
    assert_int_equal(in_stdin_fill_pollfds(in, p, 0), 0);
    write_all(fds[1], "a\nb\n");
    wait_loop(in);
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 1);
    assert_int_equal(c.kind, IN_STDIN_DATA);
    assert_int_equal(c.len, 4);
    assert_memory_equal(c.data, "a\nb\n", 4);
    assert_int_equal(c.offset, 0);
    /* data came: not polled until a read finds nothing again */
    assert_int_equal(in_stdin_fill_pollfds(in, p, 1), 0);
    /* the budget bounds a chunk; no wait by the loop needed */
    write_all(fds[1], "cdefgh");
    assert_int_equal(in_stdin_read(in, 2, &c, NULL), 1);
    assert_int_equal(c.len, 2);
    assert_memory_equal(c.data, "cd", 2);
    assert_int_equal(c.offset, 4);
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 1);
    assert_int_equal(c.len, 4);
    assert_int_equal(c.offset, 6);
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 0);
    /* the writer closes: the EOF notice, once, with the stream's size */
    close(fds[1]);
    wait_loop(in);
    assert_false(in_stdin_eof(in));
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 1);
    assert_int_equal(c.kind, IN_STDIN_EOF);
    assert_int_equal(c.offset, 10);
    assert_true(in_stdin_eof(in));
    assert_int_equal(in_stdin_read(in, 100, &c, NULL), 0);
    assert_int_equal(in_stdin_fill_pollfds(in, p, 1), 0);
    const struct in_stdin_stats *st = in_stdin_stats(in);
    assert_int_equal(st->bytes, 10);
    assert_int_equal(st->reads, 3);
    assert_int_equal(st->waits, 2);
    in_stdin_free(in);
    in_stdin_free(NULL);
    close(fds[0]);
}

/* read_size bounds a chunk whatever the budget; bytes nobody asked for
 * stay in the pipe, whose writer then blocks (here: EAGAIN). */
static void test_bounded_and_backpressure(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
    static char block[4096];
    memset(block, 'x', sizeof block);
    size_t written = 0;
    for (;;) {
        ssize_t n = write(fds[1], block, sizeof block);
        if (n < 0) {
            assert_true(errno == EAGAIN);
            break;
        }
        written += (size_t)n;
    }
    struct in_stdin *in = in_stdin_new(fds[0], 1024, 0, NULL);
    assert_non_null(in);
    struct in_stdin_chunk c;
    size_t got = 0;
    while (got < written) {
        assert_int_equal(in_stdin_read(in, SIZE_MAX, &c, NULL), 1);
        assert_int_equal(c.kind, IN_STDIN_DATA);
        assert_true(c.len >= 1 && c.len <= 1024);
        assert_int_equal(c.offset, got);
        got += c.len;
    }
    assert_int_equal(in_stdin_read(in, SIZE_MAX, &c, NULL), 0);
    /* read: the writer has room again */
    assert_int_equal(write(fds[1], "y", 1), 1);
    in_stdin_free(in);
    close(fds[0]);
    close(fds[1]);
}

static void test_read_error(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    /* a write end read from: EBADF */
    struct in_stdin *in = in_stdin_new(fds[1], 64, 0, NULL);
    assert_non_null(in);
    struct in_stdin_chunk c;
    struct sl_err err;
    struct pollfd p = {.fd = fds[1], .revents = POLLIN};
    in_stdin_process(in, &p, 1);
    assert_int_equal(in_stdin_read(in, 64, &c, &err), -1);
    assert_int_equal(err.status, SL_EIO);
    assert_string_equal(err.msg, "stdin: read failed after 0 bytes: Bad file "
                                 "descriptor; the input ends here");
    assert_int_equal(in_stdin_read(in, 64, &c, &err), 1);
    assert_int_equal(c.kind, IN_STDIN_EOF);
    assert_int_equal(in_stdin_read(in, 64, &c, &err), 0);
    in_stdin_free(in);
    close(fds[0]);
    close(fds[1]);
}

/* Frames what in_stdin hands out into events; true at EOF. */
static bool frame(struct in_stdin *in, struct line_reader *lr,
                  struct container_log *cl, struct event_base *b,
                  const struct event_source *src, struct sl_event *ev,
                  struct sl_buf *out)
{
    struct in_stdin_chunk c;
    struct sl_slice l;
    bool cut, eof = false;
    struct container_log_record r;
    int rc;
    while ((rc = in_stdin_read(in, 7, &c, NULL)) == 1) {
        if (c.kind == IN_STDIN_EOF) {
            eof = true;
            if (line_reader_finish(lr, &l, &cut) == 1) {
                struct multiline_line ml = {l.ptr, l.len,
                                            line_reader_line_offset(lr),
                                            line_reader_line_end(lr), cut};
                assert_true(container_log_push(cl, &ml));
            }
            container_log_flush(cl);
        } else {
            assert_int_equal(line_reader_feed(lr, c.data, c.len, NULL), 0);
        }
        for (;;) {
            while (container_log_peek(cl, &r)) {
                struct event_base_record er = event_base_record_from(&r);
                struct event_meta meta;
                assert_int_equal(
                    event_base_build(b, src, &er, T1, ev, &meta, NULL), 0);
                assert_int_equal(sl_buf_printf(out, NULL, "%s ", meta.id), 0);
                assert_int_equal(sl_event_write_json(ev, out, NULL), 0);
                assert_int_equal(sl_buf_append_char(out, '\n', NULL), 0);
                container_log_pop(cl);
            }
            if (eof || !line_reader_next(lr, &l, &cut))
                break;
            struct multiline_line ml = {l.ptr, l.len,
                                        line_reader_line_offset(lr),
                                        line_reader_line_end(lr), cut};
            assert_true(container_log_push(cl, &ml));
        }
    }
    assert_int_equal(rc, 0);
    return eof;
}

/* A whole run on a pipe, as `run --once` reads stdin: CRI lines in pieces,
 * the writer closes, the run ends with every event out. */
static void test_pipe_to_events(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct in_stdin *in = in_stdin_new(fds[0], 64, T1, NULL);
    struct line_reader *lr =
        line_reader_new(container_log_line_limit(CONTAINER_LOG_CRI, 1 << 20));
    struct container_log *cl =
        container_log_new(CONTAINER_LOG_CRI, 1 << 20, NULL);
    struct event_base *b = event_base_new("web-1", NULL, NULL);
    struct sl_arena *a = sl_arena_new(4096);
    assert_true(in && lr && cl && b && a);
    struct event_source src;
    event_source_stdin(&src, b, T1);
    struct sl_event ev;
    sl_event_init(&ev, a);
    struct sl_buf out = SL_BUF_INIT(1 << 20);
    static const char *const pieces[] = {
        "2026-12-04T17:00:32.123Z stdout P hel",
        "lo\n2026-12-04T17:00:33Z stdout F  world\n",
        "2026-12-04T17:00:34Z stderr F last"};
    assert_false(frame(in, lr, cl, b, &src, &ev, &out));
    for (size_t i = 0; i < 3; i++) {
        write_all(fds[1], pieces[i]);
        wait_loop(in);
        assert_false(frame(in, lr, cl, b, &src, &ev, &out));
    }
    close(fds[1]);
    wait_loop(in);
    assert_true(frame(in, lr, cl, b, &src, &ev, &out));
    char id0[SL_EVENT_ID_LEN + 1], id1[SL_EVENT_ID_LEN + 1];
    sl_event_id_make(&src.id, 0, id0);
    sl_event_id_make(&src.id, 77, id1);
    char want[1024];
    snprintf(want, sizeof want,
             "%s {\"@timestamp\":\"2026-12-04T17:00:32.123Z\","
             "\"message\":\"hello world\",\"host\":{\"name\":\"web-1\"},"
             "\"agent\":{\"type\":\"sluice-shipper\",\"version\":"
             "\"" SLUICE_VERSION "\"},\"stream\":\"stdout\"}\n"
             "%s {\"@timestamp\":\"2026-12-04T17:00:34.000Z\","
             "\"message\":\"last\",\"host\":{\"name\":\"web-1\"},"
             "\"agent\":{\"type\":\"sluice-shipper\",\"version\":"
             "\"" SLUICE_VERSION "\"},\"stream\":\"stderr\"}\n",
             id0, id1);
    assert_string_equal(out.ptr, want);
    assert_int_equal(container_log_done_offset(cl), 111);
    sl_buf_release(&out);
    sl_arena_free(a);
    event_base_free(b);
    container_log_free(cl);
    line_reader_free(lr);
    in_stdin_free(in);
    close(fds[0]);
}

static void test_config(void **state)
{
    (void)state;
    struct sl_err err;
    assert_int_equal(sl_config_table_verify(&in_stdin_config_table, &err), 0);
    const char *j = "{\"inputs\": [{\"type\": \"stdin\", \"format\": \"cri\", "
                    "\"fields\": {\"a\": 1}, \"read_size\": \"4KiB\"}]}";
    struct sl_config *c = sl_config_load_buffer("s.json", j, strlen(j), &err);
    assert_non_null(c);
    const struct sl_config_node *el =
        sl_config_at(sl_config_get(sl_config_root(c), "inputs"), 0);
    struct in_stdin_config sc;
    assert_int_equal(in_stdin_config_read(&sc, el, &err), 0);
    assert_string_equal(sc.type, "stdin");
    assert_int_equal(sc.read_size, 4096);
    assert_non_null(sc.fields);
    assert_null(sc.multiline);
    enum container_log_format fmt;
    assert_int_equal(container_log_format_read(sc.format, &fmt, &err), 0);
    assert_int_equal(fmt, CONTAINER_LOG_CRI);
    assert_int_equal(container_log_format_read(NULL, &fmt, &err), 0);
    assert_int_equal(fmt, CONTAINER_LOG_LINES);
    in_stdin_config_release(&sc);
    sl_config_free(c);
    j = "{\"type\": \"stdin\", \"format\": \"dockr\", \"read_siz\": 1}";
    c = sl_config_load_buffer("s.json", j, strlen(j), &err);
    assert_non_null(c);
    assert_int_equal(in_stdin_config_read(&sc, sl_config_root(c), &err), -1);
    assert_string_equal(err.msg, "s.json:1:38: unknown key 'read_siz' (did "
                                 "you mean 'read_size'?)");
    assert_int_equal(
        container_log_format_read(sl_config_get(sl_config_root(c), "format"),
                                  &fmt, &err),
        -1);
    assert_string_equal(err.msg, "s.json:1:29: format: found a string "
                                 "\"dockr\", expected one of \"lines\", "
                                 "\"docker\", \"cri\" (did you mean "
                                 "\"docker\"?)");
    sl_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_and_eof),
        cmocka_unit_test(test_bounded_and_backpressure),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_pipe_to_events),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
