/* test_err.c: sl_strerror, the thread-safe errno text. (sl_err_set and
 * sl_err_prefix are exercised by every other test's messages.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sl_err.h"

static void gives_the_libc_text_and_keeps_errno(void **state)
{
    (void)state;
    errno = EPIPE;
    assert_string_equal(sl_strerror(ENOENT), "No such file or directory");
    assert_int_equal(errno, EPIPE);
    assert_string_equal(sl_strerror(EISDIR), "Is a directory");
    /* glibc names numbers it does not know; either way never NULL */
    assert_non_null(strstr(sl_strerror(98765), "98765"));
}

struct worker {
    int errnum;
    const char *want;
    int bad;
};

/* Each thread asks for its own text many times; with one shared buffer (as
 * strerror has for unknown numbers, and the contract allows for all) the
 * threads would read each other's text. */
static void *ask(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        const char *s = sl_strerror(w->errnum);
        if (strcmp(s, w->want) != 0)
            w->bad++;
    }
    return NULL;
}

static void each_thread_has_its_own_buffer(void **state)
{
    (void)state;
    static char want_a[128], want_b[128];
    snprintf(want_a, sizeof want_a, "%s", sl_strerror(12345));
    snprintf(want_b, sizeof want_b, "%s", sl_strerror(23456));
    struct worker a = {12345, want_a, 0}, b = {23456, want_b, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, ask, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, ask, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.bad, 0);
    assert_int_equal(b.bad, 0);
    /* and the buffer of this thread was not touched by theirs */
    const char *mine = sl_strerror(ENOENT);
    pthread_create(&ta, NULL, ask, &a);
    pthread_join(ta, NULL);
    assert_string_equal(mine, "No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gives_the_libc_text_and_keeps_errno),
        cmocka_unit_test(each_thread_has_its_own_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
