/* test_suggest.c: sl_edit_distance, the one rule behind every "did you
 * mean" (config keys and values, subcommands, grok pattern names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sl_suggest.h"

static size_t dist(const char *a, const char *b)
{
    return sl_edit_distance(a, strlen(a), b, strlen(b));
}

static void counts_each_kind_of_typo_as_one_edit(void **state)
{
    (void)state;
    assert_int_equal(dist("stream", "stream"), 0);
    assert_int_equal(dist("strem", "stream"), 1);   /* a letter missing */
    assert_int_equal(dist("streamm", "stream"), 1); /* one too many */
    assert_int_equal(dist("straem", "stream"), 1);  /* neighbours swapped */
    assert_int_equal(dist("strean", "stream"), 1);  /* one wrong */
    assert_int_equal(dist("", "list"), 4);
    assert_int_equal(dist("redis", "stdout"), 5);
}

static void ignores_case(void **state)
{
    (void)state;
    assert_int_equal(dist("INFO", "info"), 0);
    assert_int_equal(dist("Docker", "docker"), 0);
    assert_int_equal(dist("HTTPD_COMBINEDLOG", "httpd_combindelog"), 1);
}

static void never_compares_words_longer_than_the_bound(void **state)
{
    (void)state;
    char a[SL_SUGGEST_MAX + 2], b[SL_SUGGEST_MAX + 2];
    memset(a, 'a', sizeof a);
    memset(b, 'a', sizeof b);
    assert_int_equal(sl_edit_distance(a, SL_SUGGEST_MAX, b, SL_SUGGEST_MAX), 0);
    assert_int_equal(sl_edit_distance(a, SL_SUGGEST_MAX + 1, b, 1),
                     SL_SUGGEST_FAR);
    assert_int_equal(sl_edit_distance(a, 1, b, SL_SUGGEST_MAX + 1),
                     SL_SUGGEST_FAR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_each_kind_of_typo_as_one_edit),
        cmocka_unit_test(ignores_case),
        cmocka_unit_test(never_compares_words_longer_than_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
