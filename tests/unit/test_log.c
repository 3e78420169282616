/* test_log.c: the daemons' log lines, byte for byte, with a fake clock; the
 * real clock only for the timestamp's shape. Output goes to a temp file that
 * each test reads back and empties. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_file.h"
#include "sl_log.h"

static int log_fd = -1;
static char log_path[64];
static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

/* What was logged since the last call. */
static const char *take(void)
{
    static char buf[65536];
    ssize_t n = pread(log_fd, buf, sizeof buf - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_int_equal(ftruncate(log_fd, 0), 0);
    assert_int_equal(lseek(log_fd, 0, SEEK_SET), 0);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    snprintf(log_path, sizeof log_path, "/tmp/sl_test_log_XXXXXX");
    log_fd = mkstemp(log_path);
    if (log_fd < 0)
        return -1;
    sl_log_set_fd(log_fd);
    sl_log_set_clock(fake_clock);
    fake_now = 1763758561123; /* 2025-11-21T20:56:01.123Z */
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
    take();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_log_flush();
    sl_log_close();
    sl_log_set_clock(NULL);
    close(log_fd);
    unlink(log_path);
    return 0;
}

static void test_text_format(void **state)
{
    (void)state;
    sl_log(SL_LOG_WARN, "input:file:/var/log/app.log",
           "file shrank from %d to %d bytes", 1048576, 0);
    SL_ERROR("output:es:node-1", "3 of %d events rejected", 500);
    SL_INFO(NULL, "started");
    assert_string_equal(take(),
                        "2025-11-21T20:56:01.123Z warn  "
                        "[input:file:/var/log/app.log] file shrank from "
                        "1048576 to 0 bytes\n"
                        "2025-11-21T20:56:01.123Z error [output:es:node-1] 3 "
                        "of 500 events rejected\n"
                        "2025-11-21T20:56:01.123Z info  started\n");
}

static void test_json_format(void **state)
{
    (void)state;
    sl_log_init(SL_LOG_DEBUG, SL_LOG_JSON);
    SL_DEBUG("indexer", "batch of %d", 500);
    SL_INFO(NULL, "started");
    assert_string_equal(take(),
                        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                        "\"log.level\":\"debug\",\"component\":\"indexer\","
                        "\"message\":\"batch of 500\"}\n"
                        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                        "\"log.level\":\"info\",\"message\":\"started\"}\n");
}

static void test_json_escaping(void **state)
{
    (void)state;
    sl_log_init(SL_LOG_INFO, SL_LOG_JSON);
    SL_INFO("c\"1", "q\" b\\ nl\n tab\t cr\r ctl\x01\x1f del\x7f");
    SL_INFO("c", "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* Bad byte, cut sequence, overlong, surrogate, above U+10FFFF. */
    SL_INFO("c", "a\xff"
                 "b\xe2\x82"
                 "c\xc0\xaf"
                 "d\xed\xa0\x80"
                 "e\xf4\x90\x80\x80");
    assert_string_equal(
        take(),
        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\",\"log.level\":\"info\","
        "\"component\":\"c\\\"1\",\"message\":\"q\\\" b\\\\ nl\\n tab\\t "
        "cr\\r ctl\\u0001\\u001f del\\u007f\"}\n"
        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\",\"log.level\":\"info\","
        "\"component\":\"c\",\"message\":\"ok \xc3\xa9 \xe2\x82\xac "
        "\xf0\x9f\x98\x80\"}\n"
        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\",\"log.level\":\"info\","
        "\"component\":\"c\",\"message\":\"a\xef\xbf\xbd"
        "b\xef\xbf\xbd\xef\xbf\xbd"
        "c\xef\xbf\xbd\xef\xbf\xbd"
        "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
        "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}\n");
}

static void test_text_keeps_one_line(void **state)
{
    (void)state;
    SL_WARN("x", "two\nlines\tand \x1b[31mred\x1b[0m \xff");
    assert_string_equal(take(), "2025-11-21T20:56:01.123Z warn  [x] "
                                "two\\nlines\\tand \\x1b[31mred\\x1b[0m "
                                "\xef\xbf\xbd\n");
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void test_level_filter(void **state)
{
    (void)state;
    sl_log_init(SL_LOG_WARN, SL_LOG_TEXT);
    SL_INFO("x", "hidden");
    SL_DEBUG("x", "hidden %d", side_effect());
    SL_WARN("x", "shown");
    SL_ERROR("x", "shown too");
    assert_int_equal(evaluated, 0);
    assert_false(sl_log_enabled(SL_LOG_INFO));
    assert_true(sl_log_enabled(SL_LOG_ERROR));
    assert_string_equal(take(), "2025-11-21T20:56:01.123Z warn  [x] shown\n"
                                "2025-11-21T20:56:01.123Z error [x] shown "
                                "too\n");
}

static void test_fold_until_different(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        SL_WARN("out", "redis down");
        fake_now += 1500;
    }
    assert_string_equal(take(),
                        "2025-11-21T20:56:01.123Z warn  [out] redis down\n");
    SL_WARN("in", "redis down"); /* another component: another message */
    assert_string_equal(take(), "2025-11-21T20:56:05.623Z warn  [out] redis "
                                "down (repeated 3 times in 5s)\n"
                                "2025-11-21T20:56:07.123Z warn  [in] redis "
                                "down\n");
    SL_ERROR("in", "redis down"); /* another level */
    SL_ERROR("in", "redis down");
    sl_log_flush();
    assert_string_equal(take(), "2025-11-21T20:56:07.123Z error [in] redis "
                                "down\n"
                                "2025-11-21T20:56:07.123Z error [in] redis "
                                "down (repeated 1 time in 1s)\n");
    sl_log_flush(); /* nothing pending */
    assert_string_equal(take(), "");
}

static void test_fold_window_ends(void **state)
{
    (void)state;
    SL_WARN("x", "slow");
    fake_now += 4000;
    SL_WARN("x", "slow");
    fake_now += 5999;
    SL_WARN("x", "slow"); /* 9.999s after the first: still folded */
    sl_log_tick();        /* window not over */
    assert_string_equal(take(), "2025-11-21T20:56:01.123Z warn  [x] slow\n");
    fake_now += 1;
    SL_WARN("x", "slow"); /* 10s: the count comes out, a new window starts */
    assert_string_equal(take(), "2025-11-21T20:56:11.122Z warn  [x] slow "
                                "(repeated 2 times in 10s)\n"
                                "2025-11-21T20:56:11.123Z warn  [x] slow\n");
    fake_now += 2000;
    SL_WARN("x", "slow");
    fake_now += 9000;
    sl_log_tick(); /* the window ended with no new message */
    assert_string_equal(take(), "2025-11-21T20:56:13.123Z warn  [x] slow "
                                "(repeated 1 time in 2s)\n");
    SL_WARN("x", "slow"); /* after a tick: printed again */
    assert_string_equal(take(), "2025-11-21T20:56:22.123Z warn  [x] slow\n");
}

static void test_fold_json(void **state)
{
    (void)state;
    sl_log_init(SL_LOG_INFO, SL_LOG_JSON);
    SL_INFO("x", "a\"b");
    SL_INFO("x", "a\"b");
    SL_INFO("x", "c");
    assert_string_equal(take(),
                        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                        "\"log.level\":\"info\",\"component\":\"x\","
                        "\"message\":\"a\\\"b\"}\n"
                        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                        "\"log.level\":\"info\",\"component\":\"x\","
                        "\"message\":\"a\\\"b (repeated 1 time in 1s)\"}\n"
                        "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
                        "\"log.level\":\"info\",\"component\":\"x\","
                        "\"message\":\"c\"}\n");
}

static void test_timestamps(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {951868800000, "2000-03-01T00:00:00.000Z"},
        {1709251199999, "2024-02-29T23:59:59.999Z"},
        {4133939696789, "2100-12-31T12:34:56.789Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_now = cases[i].ms;
        SL_INFO(NULL, "t%zu", i);
        char want[64];
        snprintf(want, sizeof want, "%s info  t%zu\n", cases[i].text, i);
        assert_string_equal(take(), want);
    }
}

/* 2025-11-21T20:56:01.123Z: digits where digits go, within sane bounds. */
static void assert_timestamp_shape(const char *s)
{
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd')
            assert_true(s[i] >= '0' && s[i] <= '9');
        else
            assert_int_equal(s[i], shape[i]);
    }
    assert_true(strncmp(s, "2024", 4) >= 0);
}

static void test_real_clock_and_fatal(void **state)
{
    (void)state;
    sl_log_set_clock(NULL);
    SL_INFO("main", "hello");
    const char *out = take();
    assert_timestamp_shape(out);
    assert_string_equal(out + 24, " info  [main] hello\n");
    sl_log_fatal_signal("caught SIGSEGV; exiting");
    out = take();
    assert_timestamp_shape(out);
    assert_string_equal(out + 24, " error [signal] caught SIGSEGV; exiting\n");
    sl_log_init(SL_LOG_INFO, SL_LOG_JSON);
    sl_log_fatal_signal("caught \"SIGBUS\"");
    out = take();
    assert_memory_equal(out, "{\"@timestamp\":\"", 15);
    assert_timestamp_shape(out + 15);
    assert_string_equal(out + 39, "\",\"log.level\":\"error\",\"component\":"
                                  "\"signal\",\"message\":\"caught "
                                  "\\\"SIGBUS\\\"\"}\n");
    sl_log_set_clock(fake_clock);
}

static void test_long_message_is_cut(void **state)
{
    (void)state;
    char big[SL_LOG_MSG_MAX + 100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    SL_INFO(NULL, "%s", big);
    const char *out = take();
    /* timestamp, " info  ", SL_LOG_MSG_MAX - 1 bytes, newline */
    assert_int_equal(strlen(out), 24 + 7 + SL_LOG_MSG_MAX - 1 + 1);
}

static void test_parse_names(void **state)
{
    (void)state;
    struct sl_err err = {0};
    enum sl_log_level lv;
    enum sl_log_format fmt;
    assert_int_equal(sl_log_level_parse("debug", &lv, &err), 0);
    assert_int_equal(lv, SL_LOG_DEBUG);
    assert_int_equal(sl_log_level_parse("warn", &lv, &err), 0);
    assert_int_equal(lv, SL_LOG_WARN);
    assert_int_equal(sl_log_level_parse("verbose", &lv, &err), -1);
    assert_string_equal(err.msg, "unknown log level 'verbose'; expected one "
                                 "of: error, warn, info, debug");
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(sl_log_format_parse("json", &fmt, &err), 0);
    assert_int_equal(fmt, SL_LOG_JSON);
    assert_int_equal(sl_log_format_parse("xml", &fmt, &err), -1);
    assert_string_equal(err.msg,
                        "unknown log format 'xml'; expected text or json");
    assert_string_equal(sl_log_level_names[SL_LOG_INFO], "info");
    assert_string_equal(sl_log_format_names[SL_LOG_TEXT], "text");
}

static void test_open_and_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/sl_test_logdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], rotated[128];
    snprintf(path, sizeof path, "%s/sluice.log", dir);
    snprintf(rotated, sizeof rotated, "%s/sluice.log.1", dir);
    struct sl_err err = {0};
    assert_int_equal(sl_log_open(path, &err), 0);
    SL_INFO(NULL, "one");
    assert_int_equal(rename(path, rotated), 0);
    SL_INFO(NULL, "two"); /* still the old file */
    assert_int_equal(sl_log_reopen(&err), 0);
    SL_INFO(NULL, "three");
    sl_log_set_fd(log_fd); /* closes the file */
    char buf[256];
    FILE *f = fopen(rotated, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, "2025-11-21T20:56:01.123Z info  one\n"
                             "2025-11-21T20:56:01.123Z info  two\n");
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, "2025-11-21T20:56:01.123Z info  three\n");
    unlink(path);
    unlink(rotated);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/none/x.log", dir);
    assert_int_equal(sl_log_open(path, &err), -1);
    char want[200];
    snprintf(want, sizeof want,
             "cannot open log file '%s': No such file or directory", path);
    assert_string_equal(err.msg, want);
    assert_string_equal(take(), "");
}

/* ---- threads: the level is read without the lock -------------------- */

#define THREADS 4
#define LINES   2000

static atomic_int finished;

static void *log_lines(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (long i = 0; i < LINES; i++) {
        SL_INFO("t", "thread %ld line %ld", id, i);
        SL_DEBUG("t", "thread %ld debug %ld", id, i);
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

/* "<prefix><id> <word> <n>\n" at *p: checks it, advances *p, returns the
 * line's id * LINES + n. */
static long parse_line(const char **p, const char *prefix, const char *word)
{
    size_t k = strlen(prefix);
    if (strncmp(*p, prefix, k) != 0)
        fail_msg("not a whole line: %.80s", *p);
    char *end;
    long id = strtol(*p + k, &end, 10);
    size_t w = strlen(word);
    assert_true(id >= 0 && id < THREADS && *end == ' ');
    assert_true(strncmp(end + 1, word, w) == 0 && end[1 + w] == ' ');
    long n = strtol(end + 2 + w, &end, 10);
    assert_true(n >= 0 && n < LINES && *end == '\n');
    *p = end + 1;
    return id * LINES + n;
}

/* Threads log while the main thread flips the level between info and
 * debug (sl_log_enabled reads it with no lock: an atomic, so ASan and TSan
 * builds see no race). Every info line comes out once and whole; debug
 * lines come out as the level allowed, each whole too. */
static void test_threads_while_the_level_changes(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    atomic_store(&finished, 0);
    for (long i = 0; i < THREADS; i++)
        assert_int_equal(
            pthread_create(&t[i], NULL, log_lines, (void *)(intptr_t)i), 0);
    for (int flip = 0; atomic_load(&finished) < THREADS; flip++)
        sl_log_init(flip % 2 ? SL_LOG_DEBUG : SL_LOG_INFO, SL_LOG_TEXT);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    sl_log_flush();

    struct sl_buf out = SL_BUF_INIT(16 << 20);
    struct sl_err err;
    if (sl_file_read(log_path, NULL, 16 << 20, &out, &err) < 0)
        fail_msg("%s", err.msg);
    static bool seen[THREADS * LINES];
    memset(seen, 0, sizeof seen);
    size_t info = 0, debug = 0;
    for (const char *p = out.ptr; *p != '\0';) {
        if (strncmp(p, "2025-11-21T20:56:01.123Z info  ", 31) == 0) {
            long k = parse_line(
                &p, "2025-11-21T20:56:01.123Z info  [t] thread ", "line");
            assert_false(seen[k]);
            seen[k] = true;
            info++;
        } else {
            parse_line(&p, "2025-11-21T20:56:01.123Z debug [t] thread ",
                       "debug");
            debug++;
        }
    }
    assert_int_equal(info, THREADS * LINES);
    assert_true(debug <= THREADS * LINES);
    sl_buf_release(&out);
    assert_int_equal(ftruncate(log_fd, 0), 0);
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
}

/* When a folded count waits, sl_log_tick_in_ms says how long until its
 * window ends (a loop sleeps that long, not a second at a time); -1 when
 * nothing waits. */
static void test_tick_deadline(void **state)
{
    (void)state;
    assert_int_equal(sl_log_tick_in_ms(), -1);
    SL_WARN("x", "slow");
    assert_int_equal(sl_log_tick_in_ms(), -1); /* printed: nothing folded */
    fake_now += 4000;
    SL_WARN("x", "slow");
    assert_int_equal(sl_log_tick_in_ms(), 6000);
    fake_now += 5999;
    assert_int_equal(sl_log_tick_in_ms(), 1);
    fake_now += 5;
    assert_int_equal(sl_log_tick_in_ms(), 0);
    sl_log_tick();
    assert_string_equal(take(), "2025-11-21T20:56:01.123Z warn  [x] slow\n"
                                "2025-11-21T20:56:05.123Z warn  [x] slow "
                                "(repeated 1 time in 4s)\n");
    assert_int_equal(sl_log_tick_in_ms(), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_keeps_one_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fold_until_different, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fold_window_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fold_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_clock_and_fatal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_message_is_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_parse_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_while_the_level_changes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_deadline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
