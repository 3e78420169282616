/* test_index_name.c: the index pattern, by exact names: dates in UTC at
 * the edges of days, weeks and years, field values sanitised or replaced
 * by the fallback, names cut to 255 bytes, each compile error's message,
 * and names read back (only the pattern's own, exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_name.h"
#include "sl_tz.h"

#define T_2026_12_04_17H 1796403600000LL /* a Friday, ISO 2026-W49 */
#define T_2027_01_01     1798761600000LL /* ISO 2026-W53 */
#define DAY              86400000LL

static struct index_name *compile(const char *pattern, const char *fallback)
{
    struct sl_err err = {0};
    struct index_name *in = index_name_new(pattern, fallback, &err);
    if (in == NULL)
        fail_msg("%s: %s", pattern, err.msg);
    return in;
}

/* The name for one event. */
static void check(const char *pattern, int64_t ts, const char *json,
                  const char *want)
{
    struct index_name *in = compile(pattern, NULL);
    struct sl_slice s = index_name_format(in, ts, sl_slice_from(json));
    assert_int_equal(s.ptr[s.len], '\0');
    assert_string_equal(s.ptr, want);
    index_name_free(in);
}

static void check_error(const char *pattern, const char *fallback,
                        const char *msg)
{
    struct sl_err err = {0};
    assert_null(index_name_new(pattern, fallback, &err));
    assert_string_equal(err.msg, msg);
}

static void test_default_daily(void **state)
{
    (void)state;
    struct index_name *in = compile("sluice-%{+yyyy.MM.dd}", NULL);
    int64_t midnight = 20792 * DAY; /* 2026-12-05T00:00:00Z */
    assert_false(index_name_uses_fields(in));
    assert_true(index_name_uses_date(in));
    assert_string_equal(
        index_name_format(in, midnight - 1, (struct sl_slice){0}).ptr,
        "sluice-2026.12.04");
    assert_string_equal(
        index_name_format(in, midnight, (struct sl_slice){0}).ptr,
        "sluice-2026.12.05");
    /* Back in time: the cache must not answer for the later day. */
    assert_string_equal(
        index_name_format(in, T_2026_12_04_17H, (struct sl_slice){0}).ptr,
        "sluice-2026.12.04");
    assert_string_equal(index_name_format(in, -1, (struct sl_slice){0}).ptr,
                        "sluice-1969.12.31");
    /* Clamped to years 1..9999. */
    assert_string_equal(
        index_name_format(in, INT64_MIN, (struct sl_slice){0}).ptr,
        "sluice-0001.01.01");
    assert_string_equal(
        index_name_format(in, INT64_MAX, (struct sl_slice){0}).ptr,
        "sluice-9999.12.31");
    assert_int_equal(index_name_prefix(in).len, 7);
    index_name_free(in);
}

static void test_date_letters(void **state)
{
    (void)state;
    check("w-%{+xxxx.ww}", T_2027_01_01, "", "w-2026.53");
    check("w-%{+xxxx.ww}", T_2026_12_04_17H, "", "w-2026.49");
    check("w-%{+YYYY.MM}", T_2027_01_01, "", "w-2027.01");
    check("h-%{+yyyy.MM.dd.HH}", T_2026_12_04_17H + 3599999, "",
          "h-2026.12.04.17");
    check("h-%{+yyyy.MM.dd.HH}", T_2026_12_04_17H + 3600000, "",
          "h-2026.12.04.18");
    check("m-%{+yyyy-MMM}-%{+MMMM}", T_2026_12_04_17H, "",
          "m-2026-dec-december");
    check("d-%{+yy.D.DDDD.d.M.H.m.s}", T_2027_01_01 + 61000, "",
          "d-27.1.0001.1.1.0.1.1");
    check("q-%{+yyyy'w'ww''}", T_2026_12_04_17H, "", "q-2026w49'");
    check("plain", T_2026_12_04_17H, "", "plain");
    check("y-%{+y}", 0, "", "y-1970");
}

static const char *FIELD_PATTERN = "sluice-%{[service][name]}-%{+yyyy.MM.dd}";

static void check_field(const char *json, const char *want)
{
    check(FIELD_PATTERN, T_2026_12_04_17H, json, want);
}

static void test_field_values(void **state)
{
    (void)state;
    check_field("{\"service\":{\"name\":\"Web Shop/EU\"}}",
                "sluice-web_shop_eu-2026.12.04");
    check_field("{\"service\":{\"name\":\"caf\xc3\xa9\"}}",
                "sluice-caf__-2026.12.04");
    check_field("{\"service\":{\"name\":42.5}}", "sluice-42.5-2026.12.04");
    check_field("{\"service\":{\"name\":true}}", "sluice-true-2026.12.04");
    check_field("{\"serv\\u0069ce\":{\"name\":\"esc\"}}",
                "sluice-esc-2026.12.04");
    check_field("{\"x\":{\"service\":{\"name\":\"no\"}},"
                "\"service\":{\"name\":\"yes\"}}",
                "sluice-yes-2026.12.04");
    check_field("{\"service\":{\"name\":\"first\",\"name\":\"second\"}}",
                "sluice-first-2026.12.04");
    check_field("{\"service\":{\"id\":[1,{\"name\":\"in-array\"}],"
                "\"name\":\"after\"}}",
                "sluice-after-2026.12.04");
    /* Missing: the fallback. */
    check_field("{\"service\":{\"id\":\"a\"}}", "sluice-unknown-2026.12.04");
    check_field("{\"service\":{\"name\":null}}", "sluice-unknown-2026.12.04");
    check_field("{\"service\":{\"name\":\"\"}}", "sluice-unknown-2026.12.04");
    check_field("{\"service\":{\"name\":{\"x\":1}}}",
                "sluice-unknown-2026.12.04");
    check_field("{\"service\":{\"name\":[\"a\"]}}",
                "sluice-unknown-2026.12.04");
    check_field("{\"service\":\"shop\"}", "sluice-unknown-2026.12.04");
    check_field("{\"service.name\":\"dotted\"}", "sluice-unknown-2026.12.04");
    check_field("[{\"service\":{\"name\":\"a\"}}]",
                "sluice-unknown-2026.12.04");
    check_field("not json", "sluice-unknown-2026.12.04");
    check_field("", "sluice-unknown-2026.12.04");
    /* Found before the JSON breaks: kept. */
    check_field("{\"service\":{\"name\":\"shop\"}, oops",
                "sluice-shop-2026.12.04");
}

static void test_two_fields_and_fallback(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct index_name *in =
        index_name_new("logs-%{service.name}-%{[host][name]}", "none", &err);
    assert_non_null(in);
    assert_true(index_name_uses_fields(in));
    assert_false(index_name_uses_date(in));
    const char *json = "{\"host\":{\"name\":\"WEB-1\"},\"a\":[[[{}]]],"
                       "\"service\":{\"name\":\"shop\"}}";
    assert_string_equal(index_name_format(in, 0, sl_slice_from(json)).ptr,
                        "logs-shop-web-1");
    assert_string_equal(
        index_name_format(in, 0, sl_slice_from("{\"host\":{}}")).ptr,
        "logs-none-none");
    index_name_free(in);
}

static void test_leading_bytes_and_length(void **state)
{
    (void)state;
    check("%{a}-%{+yyyy}", 0, "{\"a\":\"--_x\"}", "x-1970");
    check("%{a}-%{+yyyy}", 0, "{\"a\":\"\"}", "unknown-1970");
    check("%{a}", 0, "{\"a\":\"...\"}", "unknown");
    check("%{a}", 0, "{\"a\":\".Hidden\"}", "hidden");
    char json[400], want[256];
    memcpy(json, "{\"a\":\"", 6);
    memset(json + 6, 'v', 300);
    memcpy(json + 306, "\"}", 3);
    /* 255 bytes: "s-", 242 v's, "-2026.12.04". */
    memcpy(want, "s-", 2);
    memset(want + 2, 'v', 242);
    memcpy(want + 244, "-2026.12.04", 12);
    check("s-%{a}-%{+yyyy.MM.dd}", T_2026_12_04_17H, json, want);
    assert_int_equal(strlen(want), 255);
}

static void test_compile_errors(void **state)
{
    (void)state;
    check_error("Sluice-%{+yyyy}", NULL,
                "'S' at byte 1 of the pattern: index names are lower case");
    check_error("a b", NULL,
                "' ' at byte 2 of the pattern: index names have no spaces or "
                "control characters");
    check_error("a-%{+yyyy.MM.dd HH:mm}", NULL,
                "' ' at byte 16 of the pattern: index names have no spaces or "
                "control characters");
    check_error("a-%{+HH:mm}", NULL,
                "':' at byte 8 of the pattern: index names cannot hold \\ / * "
                "? \" < > | , # :");
    check_error("a*", NULL,
                "'*' at byte 2 of the pattern: index names cannot hold \\ / * "
                "? \" < > | , # :");
    check_error("-x-%{+yyyy}", NULL,
                "the pattern starts with '-': index names cannot");
    check_error("%{+'_'yyyy}", NULL,
                "the pattern starts with '_': index names cannot");
    check_error("x-%{+EEE}", NULL,
                "unsupported letter 'E' in \"%{+EEE}\"; use y Y x w M d D H m "
                "s, and quote text ('T')");
    check_error("x-%{+yyyy", NULL,
                "\"%{\" at byte 3 of the pattern has no \"}\"");
    check_error("x-%{+}", NULL,
                "empty date \"%{+}\"; write e.g. %{+yyyy.MM.dd}");
    check_error("x-%{+'abc}", NULL, "unclosed quote in \"%{+'abc}\"");
    check_error("x-%{+yyyyyyyyyy}", NULL,
                "more than 9 'y' in a row in \"%{+yyyyyyyyyy}\"");
    check_error("x-%{a..b}", NULL,
                "field \"%{a..b}\": field reference 'a..b' has an empty name");
    check_error("x-%{a}%{b}%{c}%{d}%{e}", NULL,
                "more than 4 fields in the pattern");
    check_error("", NULL, "the pattern is empty");
    check_error("x-%{a}", "Bad",
                "fallback \"Bad\": expected a-z 0-9 . _ - only, not starting "
                "with . _ -");
    check_error("x-%{a}", "_x",
                "fallback \"_x\": expected a-z 0-9 . _ - only, not starting "
                "with . _ -");
    check_error("x-%{a}", "", "the fallback must have 1 to 255 characters");
    char longp[300];
    memset(longp, 'a', 250);
    memcpy(longp + 250, "%{+MMMM}", 9);
    check_error(longp, NULL,
                "the pattern's names can be longer than the 255 bytes of an "
                "index name");
    /* 254 bytes of text and one of field: fits exactly. */
    memset(longp, 'a', 254);
    memcpy(longp + 254, "%{f}", 5);
    struct index_name *in = compile(longp, NULL);
    assert_int_equal(
        index_name_format(in, 0, sl_slice_from("{\"f\":\"xyz\"}")).len, 255);
    index_name_free(in);
}

static int parse(const char *pattern, const char *name, int64_t *last)
{
    struct index_name *in = compile(pattern, NULL);
    int r = index_name_parse(in, name, strlen(name), last);
    index_name_free(in);
    return r;
}

static void test_parse_back(void **state)
{
    (void)state;
    const char *daily = "sluice-%{+yyyy.MM.dd}";
    int64_t last = -1;
    assert_int_equal(parse(daily, "sluice-2026.12.04", &last), 1);
    assert_int_equal(last, 20791);
    const char *not_ours[] = {
        "sluice-2026.1.04",     "sluice-2026.02.30",  "sluice-2026.12.04-old",
        "other-2026.12.04",     "sluice-2026.12",     "sluice-20261.12.04",
        "sluice-2026.12.04.01", "sluice-abcd.12.04",  "sluice-2026.13.01",
        "sluice-0000.01.01",    "xsluice-2026.12.04", "",
    };
    for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++)
        if (parse(daily, not_ours[i], &last) != 0)
            fail_msg("%s read back", not_ours[i]);
    assert_int_equal(parse("sluice-%{+xxxx.ww}", "sluice-2026.53", &last), 1);
    assert_int_equal(last, 20821); /* Sunday 2027-01-03 */
    assert_int_equal(parse("sluice-%{+xxxx.ww}", "sluice-2025.53", &last), 0);
    assert_int_equal(parse("sluice-%{+yyyy.MM}", "sluice-2026.02", &last), 1);
    assert_int_equal(last, 20512);
    assert_int_equal(parse("s-%{+yyyy.MMM}", "s-2026.feb", &last), 1);
    assert_int_equal(last, 20512);
    assert_int_equal(parse("s-%{+yyyy.MM.dd.HH}", "s-2026.02.28.23", &last), 1);
    assert_int_equal(last, 20512);
    assert_int_equal(parse("s-%{+yyyy.MM.dd.HH}", "s-2026.02.28.24", &last), 0);
    assert_int_equal(parse(FIELD_PATTERN, "sluice-web-shop-2026.12.04", &last),
                     1);
    assert_int_equal(last, 20791);
    assert_int_equal(parse(FIELD_PATTERN, "sluice--2026.12.04", &last), 0);
    assert_int_equal(parse(FIELD_PATTERN, "sluice-Web-2026.12.04", &last), 0);
    assert_int_equal(parse(FIELD_PATTERN, "sluice-a b-2026.12.04", &last), 0);
    /* Adjacent numbers that split two ways, both formatting back ("51" s
     * and week-year 970, or "5" and 1970): no date, left alone. */
    assert_int_equal(parse("q-%{+sxxx.ww}", "q-51970.05", &last), 0);
    assert_int_equal(parse("q-%{+sxxx.ww}", "q-599999.52", &last), 1);
    /* yyyyDDD splits one way only. */
    assert_int_equal(parse("c-%{+yyyyDDD}", "c-2026338", &last), 1);
    assert_int_equal(last, 20791);
}

static void test_dated(void **state)
{
    (void)state;
    const char *yes[] = {"s-%{+yyyy.MM.dd}", "s-%{+xxxx.ww}", "s-%{+yyyy.MM}",
                         "s-%{+yyyy}", "s-%{+yyyy.DDD}"};
    const char *no[] = {"s-%{+yy.MM.dd}", "s-%{+HH}",        "s",
                        "s-%{+yyyy.ww}",  "s-%{+yyyy.dd}",   "s-%{+yyyy.MM.x}",
                        "s-%{+yyyy.x}",   "s-%{+xxxx.ww.y}", "s-%{+xxxx.MM}"};
    for (size_t i = 0; i < 9; i++) {
        struct index_name *in;
        if (i < 5) {
            in = compile(yes[i], NULL);
            if (!index_name_dated(in))
                fail_msg("%s is not dated", yes[i]);
            index_name_free(in);
        }
        in = compile(no[i], NULL);
        if (index_name_dated(in))
            fail_msg("%s is dated", no[i]);
        int64_t last;
        assert_int_equal(index_name_parse(in, "s", 1, &last), 0);
        index_name_free(in);
    }
}

/* Every day of 30 years, formatted and read back, gives its own period. */
static void test_round_trip(void **state)
{
    (void)state;
    struct index_name *daily = compile("a-%{+yyyy.MM.dd}", NULL);
    struct index_name *weekly = compile("b-%{+xxxx.ww}", NULL);
    struct index_name *yday = compile("c-%{+yyyyDDD}", NULL);
    for (int64_t day = 9000; day < 9000 + 30 * 366; day++) {
        int64_t ts = day * DAY + 43200000, last = 0;
        struct sl_slice s = index_name_format(daily, ts, (struct sl_slice){0});
        assert_int_equal(index_name_parse(daily, s.ptr, s.len, &last), 1);
        assert_int_equal(last, day);
        s = index_name_format(yday, ts, (struct sl_slice){0});
        assert_int_equal(index_name_parse(yday, s.ptr, s.len, &last), 1);
        assert_int_equal(last, day);
        s = index_name_format(weekly, ts, (struct sl_slice){0});
        assert_int_equal(index_name_parse(weekly, s.ptr, s.len, &last), 1);
        /* the week's Sunday: 1970-01-04 was one */
        assert_int_equal((last - 3) % 7, 0);
        assert_true(last >= day && last - day < 7);
    }
    index_name_free(daily);
    index_name_free(weekly);
    index_name_free(yday);
}

/* One instance over many events: a date-only name is kept for its period
 * (and a name without dates for good), a name with fields never is. */
static void test_name_kept_per_period(void **state)
{
    (void)state;
    struct sl_slice none = {0};
    struct index_name *in = compile("logs", NULL);
    assert_string_equal(index_name_format(in, 0, none).ptr, "logs");
    assert_string_equal(index_name_format(in, T_2027_01_01, none).ptr, "logs");
    index_name_free(in);
    in = compile("h-%{+yyyy.MM.dd.HH}", NULL);
    assert_string_equal(index_name_format(in, T_2026_12_04_17H, none).ptr,
                        "h-2026.12.04.17");
    assert_string_equal(
        index_name_format(in, T_2026_12_04_17H + 3599999, none).ptr,
        "h-2026.12.04.17");
    assert_string_equal(
        index_name_format(in, T_2026_12_04_17H + 3600000, none).ptr,
        "h-2026.12.04.18");
    assert_string_equal(index_name_format(in, T_2026_12_04_17H, none).ptr,
                        "h-2026.12.04.17");
    index_name_free(in);
    in = compile("s-%{a}-%{+yyyy}", NULL);
    assert_string_equal(
        index_name_format(in, 0, sl_slice_from("{\"a\":\"x\"}")).ptr,
        "s-x-1970");
    assert_string_equal(
        index_name_format(in, 0, sl_slice_from("{\"a\":\"y\"}")).ptr,
        "s-y-1970");
    assert_string_equal(index_name_format(in, 0, sl_slice_from("{}")).ptr,
                        "s-unknown-1970");
    index_name_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_daily),
        cmocka_unit_test(test_date_letters),
        cmocka_unit_test(test_field_values),
        cmocka_unit_test(test_two_fields_and_fallback),
        cmocka_unit_test(test_leading_bytes_and_length),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_parse_back),
        cmocka_unit_test(test_dated),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_name_kept_per_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
