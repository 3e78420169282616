/* test_buf.c: sl_buf's debug checks. A buffer used as the header says
 * passes them through every function; one whose invariants were broken by
 * its caller stops the process at the next call (an assert, in Debug, Asan
 * and Fuzz builds; Release defines NDEBUG). Each misuse runs in a child
 * process, which must die of SIGABRT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_buf.h"

static void proper_use_passes_every_check(void **state)
{
    (void)state;
    struct sl_err err;
    struct sl_buf b = SL_BUF_INIT(8);
    assert_true(sl_buf_valid(&b));
    assert_int_equal(sl_buf_append(&b, "abc", 3, &err), 0);
    assert_int_equal(sl_buf_printf(&b, &err, "%d", 42), 0);
    assert_int_equal(sl_buf_append_char(&b, '!', &err), 0);
    assert_string_equal(b.ptr, "abc42!");
    assert_true(b.cap - 1 <= b.max && sl_buf_valid(&b));
    assert_int_equal(sl_buf_append(&b, "xyz", 3, &err), -1); /* 9 > 8 */
    assert_true(sl_buf_valid(&b));
    /* a writer into reserved room that stores its NUL */
    sl_buf_reset(&b);
    assert_int_equal(sl_buf_reserve(&b, 2, &err), 0);
    memcpy(b.ptr, "hi", 2);
    b.len = 2;
    b.ptr[b.len] = '\0';
    assert_int_equal(sl_buf_append_str(&b, "!", &err), 0);
    char *p = sl_buf_take(&b);
    assert_string_equal(p, "hi!");
    free(p);
    /* taken or released, the buffer is empty and usable again */
    assert_true(sl_buf_valid(&b));
    assert_int_equal(sl_buf_append_str(&b, "again", &err), 0);
    sl_buf_release(&b);
    assert_true(sl_buf_valid(&b));
    sl_buf_release(&b);
}

enum misuse { NO_NUL, LEN_PAST_CAP, CAP_PAST_MAX, GARBAGE };

static void misuse(enum misuse m)
{
    struct sl_err err;
    struct sl_buf b = SL_BUF_INIT(100);
    SL_IGNORE_RESULT(sl_buf_append_str(&b, "abc", &err));
    switch (m) {
    case NO_NUL: /* wrote into reserved room, moved len, no NUL */
        SL_IGNORE_RESULT(sl_buf_reserve(&b, 10, &err));
        memset(b.ptr + b.len, 'x', 10);
        b.len += 5;
        break;
    case LEN_PAST_CAP:
        b.len = b.cap;
        break;
    case CAP_PAST_MAX: /* max lowered under a grown buffer */
        b.max = 2;
        break;
    case GARBAGE: /* never initialised */
        memset(&b, 0x5a, sizeof b);
        b.ptr = (char *)&b;
        break;
    }
    SL_IGNORE_RESULT(sl_buf_append_str(&b, "d", &err));
    _exit(0); /* not stopped: the check is missing */
}

static void expect_stopped(enum misuse m)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        misuse(m);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
    (void)status; /* Release: no checks to see */
#else
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("misuse %d was not stopped (status %d)", (int)m, status);
#endif
}

static void misuse_stops_at_the_next_call(void **state)
{
    (void)state;
    expect_stopped(NO_NUL);
    expect_stopped(LEN_PAST_CAP);
    expect_stopped(CAP_PAST_MAX);
    expect_stopped(GARBAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proper_use_passes_every_check),
        cmocka_unit_test(misuse_stops_at_the_next_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
