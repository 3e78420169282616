/* test_file.c: sl_file, the one read loop and the one write loop. Limits at
 * the byte, the refusals (directory, device, missing file), /proc files
 * whose stat size is 0, and reads and writes on a pipe cut short and
 * interrupted by a signal handler installed without SA_RESTART. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_file.h"

static char dir[] = "/tmp/sl_test_file_XXXXXX";

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    return rmdir(dir);
}

/* Writes n bytes of a pattern to dir/name; returns the path (static). */
static const char *make_file(const char *name, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    char *p = malloc(n + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    assert_int_equal(sl_file_write_all(fd, p, n), 0);
    free(p);
    assert_int_equal(close(fd), 0);
    return path;
}

static void expect_pattern(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (char)('a' + i % 26))
            fail_msg("byte %zu is '%c'", i, p[i]);
}

static void reads_a_file_of_exactly_max_and_refuses_one_byte_more(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    const char *path = make_file("limit", 5000);
    assert_int_equal(sl_file_read(path, NULL, 5000, &b, &err), 0);
    assert_int_equal(b.len, 5000);
    expect_pattern(b.ptr, 5000);
    assert_int_equal(b.ptr[5000], '\0');

    /* refused: the buffer holds what it held, errno and err say why */
    errno = 0;
    assert_int_equal(sl_file_read(path, "pattern file", 4999, &b, &err), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(err.status, SL_ELIMIT);
    char want[400];
    snprintf(want, sizeof want, "pattern file '%s' is larger than 4999 bytes",
             path);
    assert_string_equal(err.msg, want);
    assert_int_equal(b.len, 5000);
    assert_int_equal(b.ptr[5000], '\0');
    sl_buf_release(&b);
    unlink(path);
}

static void appends_and_reads_an_empty_file(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_buf b = SL_BUF_INIT(100);
    const char *path = make_file("empty", 0);
    assert_int_equal(sl_file_read(path, NULL, 0, &b, &err), 0);
    assert_non_null(b.ptr); /* even for nothing: callers use it as "" */
    assert_int_equal(b.len, 0);
    assert_string_equal(b.ptr, "");
    sl_buf_reset(&b);
    assert_int_equal(sl_buf_append_str(&b, "before:", &err), 0);
    path = make_file("four", 4);
    assert_int_equal(sl_file_read(path, NULL, 4, &b, &err), 0);
    assert_string_equal(b.ptr, "before:abcd");
    unlink(path);
    char empty[256];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    unlink(empty);
    sl_buf_release(&b);
}

static void refuses_a_directory_a_device_and_a_missing_file(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_buf b = SL_BUF_INIT(100);
    char want[400];
    assert_int_equal(sl_file_read(dir, NULL, 100, &b, &err), -1);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(err.status, SL_EIO);
    snprintf(want, sizeof want, "cannot read '%s': Is a directory", dir);
    assert_string_equal(err.msg, want);

    assert_int_equal(sl_file_read("/dev/null", "zone file", 100, &b, &err), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(
        err.msg, "cannot read zone file '/dev/null': not a regular file");

    assert_int_equal(
        sl_file_read("/nonexistent/x", "pattern file", 100, &b, &err), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(err.status, SL_EIO);
    assert_string_equal(err.msg, "cannot open pattern file '/nonexistent/x': "
                                 "No such file or directory");
    assert_int_equal(b.len, 0);
    sl_buf_release(&b);
}

static void stops_at_the_buffers_own_max(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_buf b = SL_BUF_INIT(10);
    const char *path = make_file("twenty", 20);
    assert_int_equal(sl_file_read(path, NULL, 100, &b, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    char want[400];
    snprintf(want, sizeof want,
             "cannot read '%s': buffer would exceed its limit of 10 bytes",
             path);
    assert_string_equal(err.msg, want);
    assert_int_equal(b.len, 0);
    sl_buf_release(&b);
    unlink(path);
}

/* /proc files say 0 in stat and have content: the end is where read says,
 * and the limit holds all the same. */
static void reads_proc_files_to_their_end(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    assert_int_equal(sl_file_read("/proc/self/status", NULL, 1 << 20, &b, &err),
                     0);
    assert_true(b.len > 100);
    assert_memory_equal(b.ptr, "Name:\t", 6);
    assert_non_null(strstr(b.ptr, "\nVmRSS:"));
    assert_int_equal(strlen(b.ptr), b.len);
    size_t len = b.len;
    assert_int_equal(sl_file_read("/proc/self/status", NULL, 16, &b, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(err.msg, "'/proc/self/status' is larger than 16 bytes");
    assert_int_equal(b.len, len);
    sl_buf_release(&b);

    char small[64];
    int fd = open("/proc/self/stat", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(sl_file_read_full(fd, small, sizeof small),
                     (ssize_t)sizeof small);
    close(fd);
}

/* ---- a pipe, read and written in pieces, under signals ----------------- */

#define PIPE_BYTES (1u << 20)

static atomic_int signals;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals, 1);
}

/* A handler without SA_RESTART: a read or write blocked on the pipe then
 * returns EINTR, or the count done so far. */
static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    signal(SIGPIPE, SIG_IGN);
    atomic_store(&signals, 0);
}

/* Signals t and waits for the handler to have run. The writer, blocked on
 * a full pipe, returns from write() with what it wrote so far, writes again
 * and blocks again (nobody reads meanwhile): the second signal then finds
 * it with nothing written in that call, which is EINTR. */
static void interrupt(pthread_t t, const atomic_bool *done)
{
    int before = atomic_load(&signals);
    pthread_kill(t, SIGUSR1);
    while (atomic_load(&signals) == before && !atomic_load(done))
        sched_yield();
}

struct pipe_end {
    int fd;
    char *data;
    int rc;
    pthread_t peer; /* the thread to interrupt */
    atomic_bool done;
};

static void *write_whole(void *arg)
{
    struct pipe_end *w = arg;
    w->rc = sl_file_write_all(w->fd, w->data, PIPE_BYTES);
    close(w->fd);
    atomic_store(&w->done, true);
    return NULL;
}

static char *pattern(void)
{
    char *p = malloc(PIPE_BYTES);
    assert_non_null(p);
    for (size_t i = 0; i < PIPE_BYTES; i++)
        p[i] = (char)(i * 7 + i / 4099);
    return p;
}

static void writes_all_through_short_and_interrupted_writes(void **state)
{
    (void)state;
    install_handler();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct pipe_end w = {fds[1], pattern(), -2, 0, false};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_whole, &w), 0);
    char *got = malloc(PIPE_BYTES);
    assert_non_null(got);
    size_t n = 0;
    for (;;) {
        interrupt(t, &w.done);
        interrupt(t, &w.done);
        ssize_t r = read(fds[0], got + n, 3000);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    pthread_join(t, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(n, PIPE_BYTES);
    assert_memory_equal(got, w.data, PIPE_BYTES);
    assert_true(atomic_load(&signals) > 0);
    close(fds[0]);
    free(got);
    free(w.data);
}

static void *write_pieces(void *arg)
{
    struct pipe_end *w = arg;
    for (size_t off = 0; off < PIPE_BYTES; off += 1000) {
        size_t n = PIPE_BYTES - off < 1000 ? PIPE_BYTES - off : 1000;
        /* the signal first: it finds the reader waiting on an empty pipe
         * (EINTR); the bytes then make its next read a short one */
        pthread_kill(w->peer, SIGUSR1);
        if (write(w->fd, w->data + off, n) != (ssize_t)n)
            w->rc = -1;
    }
    close(w->fd);
    return NULL;
}

static void reads_all_through_short_and_interrupted_reads(void **state)
{
    (void)state;
    install_handler();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct pipe_end w = {fds[1], pattern(), 0, pthread_self(), false};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_pieces, &w), 0);
    char *got = malloc(PIPE_BYTES + 1);
    assert_non_null(got);
    ssize_t n = sl_file_read_full(fds[0], got, PIPE_BYTES + 1);
    ssize_t end = n == PIPE_BYTES ? sl_file_read_full(fds[0], got, 10) : -1;
    close(fds[0]); /* a writer still writing gets EPIPE, so the join ends */
    pthread_join(t, NULL);
    assert_int_equal(n, PIPE_BYTES); /* short only at the end */
    assert_int_equal(end, 0);
    assert_int_equal(w.rc, 0);
    assert_memory_equal(got, w.data, PIPE_BYTES);
    assert_true(atomic_load(&signals) > 0);
    free(got);
    free(w.data);
}

static void write_errors_come_back_with_errno(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    assert_int_equal(sl_file_write_all(fds[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(fds[1]);
    assert_int_equal(sl_file_read_full(fds[1], (char[1]){0}, 1), -1);
    assert_int_equal(errno, EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_a_file_of_exactly_max_and_refuses_one_byte_more),
        cmocka_unit_test(appends_and_reads_an_empty_file),
        cmocka_unit_test(refuses_a_directory_a_device_and_a_missing_file),
        cmocka_unit_test(stops_at_the_buffers_own_max),
        cmocka_unit_test(reads_proc_files_to_their_end),
        cmocka_unit_test(writes_all_through_short_and_interrupted_writes),
        cmocka_unit_test(reads_all_through_short_and_interrupted_reads),
        cmocka_unit_test(write_errors_come_back_with_errno),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
