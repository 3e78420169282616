/* test_retention.c: which indices of a listing retention deletes: exactly
 * the pattern's own names whose last day is more than N UTC days back,
 * for daily, weekly and monthly patterns, at the edge day; never a decoy;
 * and what a bad listing says. The deletion itself runs against real
 * servers in tests/integration/test_setup_real.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention.h"

/* 2026-12-10T12:00:00Z, a Thursday */
#define NOW_MS 1796904000000LL

static void plan_is(const char *pattern, long long days, const char *listing,
                    const char *const *want, size_t nwant)
{
    struct sl_err err = {0};
    struct index_name *in = index_name_new(pattern, NULL, &err);
    assert_non_null(in);
    struct retention_plan p = {0};
    if (retention_plan(in, days, NOW_MS, listing, strlen(listing), &p, &err) <
        0)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < p.n && i < nwant; i++)
        assert_string_equal(p.v[i].name, want[i]);
    assert_int_equal(p.n, nwant);
    retention_plan_release(&p);
    index_name_free(in);
}

static void test_daily(void **state)
{
    (void)state;
    const char *listing =
        "[{\"index\":\"sluice-2026.12.10\"},{\"index\":\"sluice-2026.12.03\"},"
        "{\"index\":\"sluice-2026.12.02\"},{\"index\":\"sluice-2025.01.01\"},"
        "{\"index\":\"sluice-2026.11.30\"},{\"index\":\"sluice-2026.11.01-"
        "old\"},"
        "{\"index\":\"sluice-old\"},{\"index\":\"sluice-2026.1.01\"},"
        "{\"index\":\"sluice-x-2026.11.01\"},{\"index\":\"other-2026.11.01\"},"
        "{\"index\":\"sluice-2026.02.30\"},{\"idx\":\"sluice-2026.01.01\"},"
        "{\"index\":7},\"sluice-2026.01.02\",{\"index\":\"sluice-2027.01.01\"}"
        "]";
    const char *want[] = {"sluice-2025.01.01", "sluice-2026.11.30",
                          "sluice-2026.12.02"};
    plan_is("sluice-%{+yyyy.MM.dd}", 7, listing, want, 3);
    const char *want1[] = {"sluice-2025.01.01", "sluice-2026.11.30",
                           "sluice-2026.12.02", "sluice-2026.12.03"};
    plan_is("sluice-%{+yyyy.MM.dd}", 1, listing, want1, 4);
    plan_is("sluice-%{+yyyy.MM.dd}", 36500, listing, NULL, 0);
    plan_is("sluice-%{+yyyy.MM.dd}", 7, "[]", NULL, 0);
}

static void test_weekly_monthly(void **state)
{
    (void)state;
    /* Week 49 of 2026 ends Sunday Dec 6 (4 days ago), week 48 on Nov 29
     * (11 days ago). */
    const char *weeks = "[{\"index\":\"w-2026.49\"},{\"index\":\"w-2026.48\"},"
                        "{\"index\":\"w-2026.50\"},{\"index\":\"w-2026.54\"}]";
    const char *w7[] = {"w-2026.48"};
    plan_is("w-%{+xxxx.ww}", 7, weeks, w7, 1);
    const char *w3[] = {"w-2026.48", "w-2026.49"};
    plan_is("w-%{+xxxx.ww}", 3, weeks, w3, 2);
    /* November ended 10 days ago. */
    const char *months = "[{\"index\":\"m-2026.11\"},{\"index\":\"m-2026.12\"},"
                         "{\"index\":\"m-2026.10\"}]";
    const char *m9[] = {"m-2026.10", "m-2026.11"};
    plan_is("m-%{+yyyy.MM}", 9, months, m9, 2);
    const char *m10[] = {"m-2026.10"};
    plan_is("m-%{+yyyy.MM}", 10, months, m10, 1);
    /* Hourly indices go by their day. */
    const char *hours = "[{\"index\":\"h-2026.12.02.23\"},"
                        "{\"index\":\"h-2026.12.03.00\"}]";
    const char *h7[] = {"h-2026.12.02.23"};
    plan_is("h-%{+yyyy.MM.dd.HH}", 7, hours, h7, 1);
}

static void test_bad_listing(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct index_name *in = index_name_new("s-%{+yyyy}", NULL, &err);
    struct retention_plan p = {0};
    assert_int_equal(retention_plan(in, 1, NOW_MS, "{}", 2, &p, &err), -1);
    assert_string_equal(err.msg, "the index listing is not a JSON array");
    assert_int_equal(retention_plan(in, 1, NOW_MS, "[", 1, &p, &err), -1);
    assert_string_equal(err.msg, "the index listing is not a JSON array");
    assert_int_equal(retention_plan(in, 1, NOW_MS, "[]\0x", 4, &p, &err), -1);
    assert_string_equal(err.msg, "the index listing holds a NUL");
    assert_int_equal(p.n, 0);
    retention_plan_release(&p);
    index_name_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_weekly_monthly),
        cmocka_unit_test(test_bad_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
