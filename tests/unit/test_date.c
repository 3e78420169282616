/* test_date.c: the date parser (sl_date) and its zones (sl_tz): every
 * pattern letter and keyword at its edges, zones fixed and named across
 * their DST switches (Berlin, New York, Lord Howe's 30 minutes) and past the
 * last transition in the file, leap days, year guessing for year-less
 * formats, compile errors word for word, and the cache (a different
 * fraction, another sl_date, another format, another "now", a zone in the
 * text). Then cross-checks against the C library: thousands of random
 * instants against gmtime_r/timegm, and named zones and POSIX TZ rules
 * against localtime_r/mktime in a child process that sets TZ (the library
 * itself never reads TZ). */
#define _DEFAULT_SOURCE /* timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_date.h"
#include "sl_tz.h"

#define FAIL "FAIL"

/* 2026-11-23T02:46:40Z, and other "nows" as UTC milliseconds. */
#define NOW           1795402000000LL
#define NOW_2026_06   1781481600000LL /* 2026-06-15T00:00:00Z */
#define NOW_2026_12   1797033600000LL /* 2026-12-20T00:00:00Z */
#define NOW_2027_01   1799020800000LL /* 2027-01-04T00:00:00Z */
#define NOW_2027_03   1803945600000LL /* 2027-03-02T00:00:00Z */
#define NOW_2028_03   1835481600000LL /* 2028-03-02T00:00:00Z */
#define NOW_2027_12   1828569600000LL /* 2027-12-20T00:00:00Z */
#define NOW_2080      3471292800000LL /* 2080-01-01T00:00:00Z */
#define NOW_2150      5680281600000LL /* 2150-01-01T00:00:00Z */
#define NOW_2026_1231 1798758000000LL /* 2026-12-31T23:00:00Z */

struct case_ {
    const char *fmt, *tz, *text, *want;
};

static struct sl_date *compile1(const char *fmt, const char *tz)
{
    struct sl_err err;
    const char *f[1] = {fmt};
    struct sl_date *d = sl_date_compile(f, 1, tz, &err);
    if (d == NULL)
        fail_msg("compiling '%s' (zone %s): %s", fmt, tz ? tz : "UTC", err.msg);
    return d;
}

/* The ISO 8601 text of what d makes of text at now, or FAIL. */
static const char *parse_str(struct sl_date *d, const char *text, int64_t now)
{
    static char out[SL_DATE_ISO8601_SIZE];
    int64_t ms = 42;
    if (sl_date_parse_at(d, text, strlen(text), now, &ms) != 0) {
        assert_int_equal(ms, 42); /* unchanged on failure */
        return FAIL;
    }
    assert_int_equal(sl_date_format_iso8601_ms(ms, out), 0);
    return out;
}

/* Each case twice on one sl_date (the second may come from the cache),
 * with the case in the message when it fails. */
static void run_cases(const struct case_ *c, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        struct sl_date *d = compile1(c[i].fmt, c[i].tz);
        for (int round = 0; round < 2; round++) {
            const char *got = parse_str(d, c[i].text, now);
            if (strcmp(got, c[i].want) != 0)
                fail_msg("format '%s' zone %s text '%s' (round %d): got %s, "
                         "want %s",
                         c[i].fmt, c[i].tz ? c[i].tz : "UTC", c[i].text, round,
                         got, c[i].want);
        }
        sl_date_free(d);
    }
}

#define RUN(cases, now) run_cases(cases, sizeof cases / sizeof cases[0], now)

static void letter_year(void **state)
{
    static const struct case_ c[] = {
        {"y-M-d", NULL, "2026-1-5", "2026-01-05T00:00:00.000Z"},
        {"y-M-d", NULL, "5-1-5", "0005-01-05T00:00:00.000Z"},
        {"yyyy", NULL, "2026", "2026-01-01T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "+2026-11-23", "2026-11-23T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "-2026-11-23", FAIL},
        {"yyyy-MM-dd", NULL, "0001-01-01", "0001-01-01T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "0000-12-31", FAIL},
        {"yyyy-MM-dd", NULL, "9999-12-31", "9999-12-31T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "10000-01-01", FAIL},
        {"yyyy-MM-dd", NULL, "1234567890-01-01", FAIL},
        {"yyyy-MM-dd", NULL, "20261-01-01", FAIL},
        {"YYYY-MM-dd", NULL, "2026-11-23", "2026-11-23T00:00:00.000Z"},
        /* a number field follows: at most as many digits as letters */
        {"yyyyMMdd", NULL, "20261123", "2026-11-23T00:00:00.000Z"},
        {"yyyyMMdd", NULL, "2026112", "2026-11-02T00:00:00.000Z"},
        {"yyyyMMdd", NULL, "202611234", FAIL},
        {"yyyyMMdd", NULL, "+20261123", "2026-11-23T00:00:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

static void letter_two_digit_year(void **state)
{
    static const struct case_ c[] = {
        /* now 2026: the window is 1946..2045 */
        {"yy-MM-dd", NULL, "26-11-23", "2026-11-23T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "45-01-01", "2045-01-01T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "46-01-01", "1946-01-01T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "99-12-31", "1999-12-31T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "00-01-01", "2000-01-01T00:00:00.000Z"},
        /* other lengths and a sign are years as written, as in Joda */
        {"yy-MM-dd", NULL, "2026-11-23", "2026-11-23T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "5-11-23", "0005-11-23T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "+26-11-23", "0026-11-23T00:00:00.000Z"},
        /* a number follows: exactly two digits */
        {"yyMMdd", NULL, "261123", "2026-11-23T00:00:00.000Z"},
        {"yyMMdd", NULL, "20261123", FAIL},
        {"yyMMdd", NULL, "+261123", FAIL},
        {"yyMMdd", NULL, "6112", FAIL},
    };
    static const struct case_ c2080[] = {
        {"yy-MM-dd", NULL, "99-01-01", "2099-01-01T00:00:00.000Z"},
        {"yy-MM-dd", NULL, "00-01-01", "2000-01-01T00:00:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
    RUN(c2080, NOW_2080);
}

static void letter_month(void **state)
{
    static const struct case_ c[] = {
        {"M/d/yyyy", NULL, "1/5/2026", "2026-01-05T00:00:00.000Z"},
        {"M/d/yyyy", NULL, "12/31/2026", "2026-12-31T00:00:00.000Z"},
        {"MM/dd/yyyy", NULL, "1/5/2026", "2026-01-05T00:00:00.000Z"},
        {"M/d/yyyy", NULL, "13/1/2026", FAIL},
        {"M/d/yyyy", NULL, "0/1/2026", FAIL},
        {"M/d/yyyy", NULL, "001/1/2026", FAIL},
        {"MMM d yyyy", NULL, "Nov 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMM d yyyy", NULL, "nov 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMM d yyyy", NULL, "NOV 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMM d yyyy", NULL, "November 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMM d yyyy", NULL, "NoVeMbEr 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMMM d yyyy", NULL, "Nov 5 2026", "2026-11-05T00:00:00.000Z"},
        {"MMMM d yyyy", NULL, "September 5 2026", "2026-09-05T00:00:00.000Z"},
        {"MMMMM d yyyy", NULL, "May 5 2026", "2026-05-05T00:00:00.000Z"},
        {"MMM d yyyy", NULL, "Sept 5 2026", FAIL},
        {"MMM d yyyy", NULL, "Nox 5 2026", FAIL},
        {"MMM d yyyy", NULL, "11 5 2026", FAIL},
        {"MMM d yyyy", NULL, "No 5 2026", FAIL},
        {"MMMyyyy", NULL, "Jun2026", "2026-06-01T00:00:00.000Z"},
        {"MMMyyyy", NULL, "June2026", "2026-06-01T00:00:00.000Z"},
    };
    static const char *const full[12] = {
        "January", "February", "March",     "April",   "May",      "June",
        "July",    "August",   "September", "October", "November", "December"};
    (void)state;
    RUN(c, NOW);
    struct sl_date *d = compile1("MMM yyyy", NULL);
    for (int m = 0; m < 12; m++) {
        char text[32], want[48], shrt[4] = {0};
        memcpy(shrt, full[m], 3);
        snprintf(want, sizeof want, "2026-%02d-01T00:00:00.000Z", m + 1);
        snprintf(text, sizeof text, "%s 2026", full[m]);
        assert_string_equal(parse_str(d, text, NOW), want);
        snprintf(text, sizeof text, "%s 2026", shrt);
        assert_string_equal(parse_str(d, text, NOW), want);
    }
    sl_date_free(d);
}

static void letter_day_hour_minute_second(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-d", NULL, "2026-11-5", "2026-11-05T00:00:00.000Z"},
        {"yyyy-MM-d", NULL, "2026-11-05", "2026-11-05T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "2026-11-5", "2026-11-05T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "2026-11-30", "2026-11-30T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "2026-11-31", FAIL},
        {"yyyy-MM-dd", NULL, "2026-12-32", FAIL},
        {"yyyy-MM-dd", NULL, "2026-11-00", FAIL},
        {"yyyy-MM-dd", NULL, "2026-11-005", FAIL},
        {"yyyy-MM-ddd", NULL, "2026-11-005", "2026-11-05T00:00:00.000Z"},
        {"yyyy-MM-dd H:m:s", NULL, "2026-11-23 2:4:6",
         "2026-11-23T02:04:06.000Z"},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 00:00:00",
         "2026-11-23T00:00:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 23:59:59",
         "2026-11-23T23:59:59.000Z"},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 24:00:00", FAIL},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 23:60:00", FAIL},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 23:59:60", FAIL},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 2:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 002:46:00", FAIL},
        {"yyyyMMddHHmmss", NULL, "20261123024600", "2026-11-23T02:46:00.000Z"},
        /* no date at all: Jan 1 of the guessed year, as Logstash does */
        {"HH:mm:ss", NULL, "23:59:59", "2026-01-01T23:59:59.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

static void letter_halfday(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 12:05 AM",
         "2026-11-23T00:05:00.000Z"},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 12:05 PM",
         "2026-11-23T12:05:00.000Z"},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 01:05 pm",
         "2026-11-23T13:05:00.000Z"},
        {"yyyy-MM-dd h:mm a", NULL, "2026-11-23 1:05 Am",
         "2026-11-23T01:05:00.000Z"},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 11:59 PM",
         "2026-11-23T23:59:00.000Z"},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 13:05 PM", FAIL},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 00:05 AM", FAIL},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 12:05 XM", FAIL},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 12:05 A", FAIL},
        {"yyyy-MM-dd hh:mm a", NULL, "2026-11-23 12:05 A.M.", FAIL},
        /* h without a is AM; H with a ignores a (Joda) */
        {"yyyy-MM-dd hh:mm", NULL, "2026-11-23 12:05",
         "2026-11-23T00:05:00.000Z"},
        {"yyyy-MM-dd HH:mm a", NULL, "2026-11-23 14:05 AM",
         "2026-11-23T14:05:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

/* S to SSSSSSSSS read 1 up to n digits, cut to ms; more digits fail. */
static void letter_fraction_1_to_9_digits(void **state)
{
    (void)state;
    for (int n = 1; n <= 9; n++) {
        char fmt[64], text[64], want[32];
        snprintf(fmt, sizeof fmt, "yyyy-MM-dd HH:mm:ss.%.*s", n, "SSSSSSSSS");
        struct sl_date *d = compile1(fmt, NULL);
        for (int k = 1; k <= n + 1; k++) {
            snprintf(text, sizeof text, "2026-11-23 02:46:00.%.*s", k,
                     "9876543210");
            int ms = k == 1 ? 900 : k == 2 ? 980 : 987;
            snprintf(want, sizeof want, "2026-11-23T02:46:00.%03dZ", ms);
            assert_string_equal(parse_str(d, text, NOW), k <= n ? want : FAIL);
        }
        assert_string_equal(parse_str(d, "2026-11-23 02:46:00.", NOW), FAIL);
        sl_date_free(d);
    }
    struct sl_date *iso = compile1("ISO8601", NULL);
    static const char *const want[] = {
        NULL,
        "2026-11-23T02:46:00.100Z",
        "2026-11-23T02:46:00.120Z",
        "2026-11-23T02:46:00.123Z",
    };
    for (int k = 1; k <= 12; k++) {
        char text[64];
        snprintf(text, sizeof text, "2026-11-23T02:46:00.%.*sZ", k,
                 "123456789012");
        assert_string_equal(parse_str(iso, text, NOW), want[k < 3 ? k : 3]);
    }
    sl_date_free(iso);
}

static void letter_offset(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +0100",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +01:00",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +01",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 Z",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 z",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 -0530",
         "2026-11-23T08:16:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 -00:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +01:00:30",
         "2026-11-23T01:45:30.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +013000",
         "2026-11-23T01:16:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +2300",
         "2026-11-22T03:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +2400", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +0160", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +1", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +010", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +01:0", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 +01:00:", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 UTC", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00 0100", FAIL},
        {"yyyy-MM-dd HH:mm:ss Z", NULL, "2026-11-23 02:46:00", FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZ", NULL, "2026-11-23 02:46:00 +01:00",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZ", NULL, "2026-11-23 02:46:00 -0800",
         "2026-11-23T10:46:00.000Z"},
        /* the offset in the text wins over the default zone */
        {"yyyy-MM-dd HH:mm:ss Z", "Europe/Berlin", "2026-07-01 12:00:00 +0000",
         "2026-07-01T12:00:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

static void letter_zone_id(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 Europe/Berlin",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-07-01 12:00:00 Europe/Berlin",
         "2026-07-01T10:00:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL,
         "2026-11-23 02:46:00 America/New_York", "2026-11-23T07:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZ", "Asia/Tokyo", "2026-11-23 02:46:00 UTC",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 Etc/GMT+1",
         "2026-11-23T03:46:00.000Z"},
        {"ZZZ yyyy-MM-dd HH:mm:ss", NULL,
         "America/Argentina/Buenos_Aires 2026-11-23 02:46:00",
         "2026-11-23T05:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZZ", NULL, "2026-11-23 02:46:00 Asia/Kolkata",
         "2026-11-22T21:16:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 Europe/Nowhere",
         FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 europe/berlin",
         FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 Europe", FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 ../etc/passwd",
         FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 /etc/passwd",
         FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 +01:00", FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 right/UTC",
         FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 zone.tab", FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 ", FAIL},
        {"yyyy-MM-dd HH:mm:ss ZZZ", NULL, "2026-11-23 02:46:00 Europe/Berlin ",
         FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

static void letter_day_name(void **state)
{
    static const struct case_ c[] = {
        {"EEE, dd MMM yyyy HH:mm:ss Z", NULL, "Mon, 23 Nov 2026 02:46:00 +0000",
         "2026-11-23T02:46:00.000Z"},
        {"EEE, dd MMM yyyy HH:mm:ss Z", NULL,
         "Monday, 23 Nov 2026 02:46:00 +0000", "2026-11-23T02:46:00.000Z"},
        {"EEEE dd MMMM yyyy", NULL, "SUNDAY 01 November 2026",
         "2026-11-01T00:00:00.000Z"},
        {"E dd MMM yyyy", NULL, "wed 01 Nov 2026", "2026-11-01T00:00:00.000Z"},
        /* read and ignored: a wrong day name does not move the date */
        {"EEE, dd MMM yyyy HH:mm:ss Z", NULL, "Fri, 23 Nov 2026 02:46:00 +0000",
         "2026-11-23T02:46:00.000Z"},
        {"EEE, dd MMM yyyy HH:mm:ss Z", NULL, "Mo, 23 Nov 2026 02:46:00 +0000",
         FAIL},
        {"EEE, dd MMM yyyy HH:mm:ss Z", NULL, "Mox, 23 Nov 2026 02:46:00 +0000",
         FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

static void literals_and_quotes(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd'T'HH:mm:ss", NULL, "2026-11-23T02:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd'T'HH:mm:ss", NULL, "2026-11-23t02:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd'T'HH:mm:ss", NULL, "2026-11-23 02:46:00", FAIL},
        {"'at' HH:mm 'on' yyyy-MM-dd", NULL, "AT 02:46 On 2026-11-23",
         "2026-11-23T02:46:00.000Z"},
        {"HH 'o''clock' yyyy-MM-dd", NULL, "02 o'clock 2026-11-23",
         "2026-11-23T02:00:00.000Z"},
        {"yyyy-MM-dd''HH", NULL, "2026-11-23'02", "2026-11-23T02:00:00.000Z"},
        {"[dd/MMM/yyyy:HH:mm:ss Z]", NULL, "[23/Nov/2026:02:46:00 +0100]",
         "2026-11-23T01:46:00.000Z"},
        {"yyyy\xe5\xb9\xb4"
         "MM\xe6\x9c\x88"
         "dd\xe6\x97\xa5",
         NULL,
         "2026\xe5\xb9\xb4"
         "11\xe6\x9c\x88"
         "23\xe6\x97\xa5",
         "2026-11-23T00:00:00.000Z"},
        /* literal spaces are exact: syslog needs its own pattern for " d" */
        {"MMM dd HH:mm:ss", NULL, "Nov  5 02:46:00", FAIL},
        {"MMM  d HH:mm:ss", NULL, "Nov  5 02:46:00",
         "2026-11-05T02:46:00.000Z"},
        {"MMM d HH:mm:ss", NULL, "Nov 15 02:46:00", "2026-11-15T02:46:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

static void keyword_iso8601(void **state)
{
    static const struct case_ c[] = {
        {"ISO8601", NULL, "2026-11-23T02:46:00Z", "2026-11-23T02:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00.123Z",
         "2026-11-23T02:46:00.123Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00,123Z",
         "2026-11-23T02:46:00.123Z"},
        {"ISO8601", NULL, "2026-11-23 02:46:00.123",
         "2026-11-23T02:46:00.123Z"},
        {"ISO8601", NULL, "2026-11-23t02:46:00z", "2026-11-23T02:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46Z", "2026-11-23T02:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46", "2026-11-23T02:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23", "2026-11-23T00:00:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00+01:00",
         "2026-11-23T01:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00+0100",
         "2026-11-23T01:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00+01", "2026-11-23T01:46:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00.5-05:00",
         "2026-11-23T07:46:00.500Z"},
        {"ISO8601", NULL, "2026-11-23 02:46:00,123+0530",
         "2026-11-22T21:16:00.123Z"},
        {"ISO8601", "Europe/Berlin", "2026-07-01T12:00:00",
         "2026-07-01T10:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2026-07-01T12:00:00Z",
         "2026-07-01T12:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2026-07-01", "2026-06-30T22:00:00.000Z"},
        {"ISO8601", NULL, "2026-11-23T02:46:00 Z", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:00.Z", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:00.", FAIL},
        {"ISO8601", NULL, "2026-11-23T2:46:00", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:0", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:6", FAIL},
        {"ISO8601", NULL, "2026-11-23T02", FAIL},
        {"ISO8601", NULL, "2026-11-23T", FAIL},
        {"ISO8601", NULL, "2026-11-23Z", FAIL},
        {"ISO8601", NULL, "2026-11", FAIL},
        {"ISO8601", NULL, "2026", FAIL},
        {"ISO8601", NULL, "20261123T024600Z", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:00+1", FAIL},
        {"ISO8601", NULL, "2026-11-23T24:00:00", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:60:00", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:60", FAIL},
        {"ISO8601", NULL, "2026-13-01", FAIL},
        {"ISO8601", NULL, "2026-00-01", FAIL},
        {"ISO8601", NULL, "2026-02-30", FAIL},
        {"ISO8601", NULL, "2026-11-32", FAIL},
        {"ISO8601", NULL, "+2026-11-23", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:00Zx", FAIL},
        {"ISO8601", NULL, "2026-11-23T02:46:00.123+01:00x", FAIL},
        {"ISO8601", NULL, "2026-W48-1", FAIL},
        {"ISO8601", NULL, "2026-327", FAIL},
        {"ISO8601", NULL, " 2026-11-23", FAIL},
        {"ISO8601", NULL, "2026-11-23 ", FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

static void keyword_unix(void **state)
{
    static const struct case_ c[] = {
        {"UNIX", NULL, "1326149001", "2012-01-09T22:43:21.000Z"},
        {"UNIX", NULL, "1326149001.132", "2012-01-09T22:43:21.132Z"},
        {"UNIX", NULL, "1326149001.1", "2012-01-09T22:43:21.100Z"},
        {"UNIX", NULL, "1326149001.13299", "2012-01-09T22:43:21.132Z"},
        {"UNIX", NULL, "1326149001.", "2012-01-09T22:43:21.000Z"},
        {"UNIX", NULL, "+1", "1970-01-01T00:00:01.000Z"},
        {"UNIX", NULL, "0", "1970-01-01T00:00:00.000Z"},
        {"UNIX", NULL, "-1", "1969-12-31T23:59:59.000Z"},
        {"UNIX", NULL, "-1.5", "1969-12-31T23:59:58.500Z"},
        {"UNIX", NULL, "-0.001", "1969-12-31T23:59:59.999Z"},
        {"UNIX", NULL, "4102444800", "2100-01-01T00:00:00.000Z"},
        {"UNIX", NULL, "253402300799.999", "9999-12-31T23:59:59.999Z"},
        {"UNIX", NULL, "253402300800", FAIL},
        {"UNIX", NULL, "-62135596800", "0001-01-01T00:00:00.000Z"},
        {"UNIX", NULL, "-62135596800.001", FAIL},
        {"UNIX", NULL, "99999999999999999999999", FAIL},
        {"UNIX", NULL, "", FAIL},
        {"UNIX", NULL, "-", FAIL},
        {"UNIX", NULL, "+", FAIL},
        {"UNIX", NULL, ".5", FAIL},
        {"UNIX", NULL, "1e9", FAIL},
        {"UNIX", NULL, " 1", FAIL},
        {"UNIX", NULL, "1 ", FAIL},
        {"UNIX", NULL, "0x10", FAIL},
        {"UNIX", NULL, "1.2.3", FAIL},
        {"UNIX", NULL, "1,5", FAIL},
        {"UNIX_MS", NULL, "1366125117000", "2013-04-16T15:11:57.000Z"},
        {"UNIX_MS", NULL, "1366125117123", "2013-04-16T15:11:57.123Z"},
        {"UNIX_MS", NULL, "-1", "1969-12-31T23:59:59.999Z"},
        {"UNIX_MS", NULL, "+1", "1970-01-01T00:00:00.001Z"},
        {"UNIX_MS", NULL, "253402300799999", "9999-12-31T23:59:59.999Z"},
        {"UNIX_MS", NULL, "253402300800000", FAIL},
        {"UNIX_MS", NULL, "1366125117000.5", FAIL},
        {"UNIX_MS", NULL, "", FAIL},
        {"UNIX_MS", NULL, "abc", FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

static void keyword_tai64n(void **state)
{
    static const struct case_ c[] = {
        {"TAI64N", NULL, "@4000000037c219bf2ef02e94",
         "1999-08-24T04:04:05.787Z"},
        {"TAI64N", NULL, "4000000037c219bf2ef02e94",
         "1999-08-24T04:04:05.787Z"},
        {"TAI64N", NULL, "@4000000037C219BF2EF02E94",
         "1999-08-24T04:04:05.787Z"},
        {"TAI64N", NULL, "@400000000000000a00000000",
         "1970-01-01T00:00:00.000Z"},
        {"TAI64N", NULL, "@400000000000000a3b9ac9ff",
         "1970-01-01T00:00:00.999Z"},
        {"TAI64N", NULL, "@400000000000000a3b9aca00", FAIL},
        {"TAI64N", NULL, "@3fffffffffffffff00000000", FAIL},
        {"TAI64N", NULL, "@8000000037c219bf2ef02e94", FAIL},
        {"TAI64N", NULL, "@4000000037c219bf", FAIL},
        {"TAI64N", NULL, "@4000000037c219bf2ef02e9", FAIL},
        {"TAI64N", NULL, "@4000000037c219bf2ef02e940", FAIL},
        {"TAI64N", NULL, "@4000000037c219bg2ef02e94", FAIL},
        {"TAI64N", NULL, "@@4000000037c219bf2ef02e9", FAIL},
        {"TAI64N", NULL, "", FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

static void zones_fixed_and_utc(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd HH:mm:ss", NULL, "2026-11-23 02:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "UTC", "2026-11-23 02:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "Etc/UTC", "2026-11-23 02:46:00",
         "2026-11-23T02:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "+05:30", "2026-11-23 02:46:00",
         "2026-11-22T21:16:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "-0800", "2026-11-23 02:46:00",
         "2026-11-23T10:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "+14", "2026-11-23 02:46:00",
         "2026-11-22T12:46:00.000Z"},
        {"yyyy-MM-dd HH:mm:ss", "-00:00", "2026-11-23 02:46:00",
         "2026-11-23T02:46:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

/* Last Sunday of March 2026 is the 29th, of October the 25th: 02:00 CET
 * jumps to 03:00 CEST, and 03:00 CEST falls back to 02:00 CET. */
static void zone_berlin_across_dst(void **state)
{
    static const struct case_ c[] = {
        {"ISO8601", "Europe/Berlin", "2026-03-29T01:59:59",
         "2026-03-29T00:59:59.000Z"},
        {"ISO8601", "Europe/Berlin", "2026-03-29T02:00:00", FAIL},
        {"ISO8601", "Europe/Berlin", "2026-03-29T02:30:00", FAIL},
        {"ISO8601", "Europe/Berlin", "2026-03-29T02:59:59", FAIL},
        {"ISO8601", "Europe/Berlin", "2026-03-29T03:00:00",
         "2026-03-29T01:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2026-10-25T01:59:59",
         "2026-10-24T23:59:59.000Z"},
        /* twice: the earlier, summer-time instant */
        {"ISO8601", "Europe/Berlin", "2026-10-25T02:00:00",
         "2026-10-25T00:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2026-10-25T02:59:59.999",
         "2026-10-25T00:59:59.999Z"},
        {"ISO8601", "Europe/Berlin", "2026-10-25T03:00:00",
         "2026-10-25T02:00:00.000Z"},
        /* an offset in the text is never in a gap */
        {"ISO8601", "Europe/Berlin", "2026-03-29T02:30:00+01:00",
         "2026-03-29T01:30:00.000Z"},
        {"dd/MMM/yyyy:HH:mm:ss", "Europe/Berlin", "29/Mar/2026:02:30:00", FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

/* Second Sunday of March 2026 is the 8th, first Sunday of November the 1st. */
static void zone_new_york_across_dst(void **state)
{
    static const struct case_ c[] = {
        {"ISO8601", "America/New_York", "2026-03-08T01:59:59",
         "2026-03-08T06:59:59.000Z"},
        {"ISO8601", "America/New_York", "2026-03-08T02:30:00", FAIL},
        {"ISO8601", "America/New_York", "2026-03-08T03:00:00",
         "2026-03-08T07:00:00.000Z"},
        {"ISO8601", "America/New_York", "2026-11-01T00:59:59",
         "2026-11-01T04:59:59.000Z"},
        {"ISO8601", "America/New_York", "2026-11-01T01:30:00",
         "2026-11-01T05:30:00.000Z"},
        {"ISO8601", "America/New_York", "2026-11-01T02:00:00",
         "2026-11-01T07:00:00.000Z"},
        {"ISO8601", "America/New_York", "2026-07-04T12:00:00",
         "2026-07-04T16:00:00.000Z"},
        {"ISO8601", "America/New_York", "2026-01-15T12:00:00",
         "2026-01-15T17:00:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

/* Lord Howe Island: +10:30 standard, +11 in summer, a 30-minute switch on
 * the first Sundays of October (2026-10-04) and April (2026-04-05). */
static void zone_lord_howe_half_hour_dst(void **state)
{
    static const struct case_ c[] = {
        {"ISO8601", "Australia/Lord_Howe", "2026-10-04T01:59:59",
         "2026-10-03T15:29:59.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2026-10-04T02:00:00", FAIL},
        {"ISO8601", "Australia/Lord_Howe", "2026-10-04T02:29:59", FAIL},
        {"ISO8601", "Australia/Lord_Howe", "2026-10-04T02:30:00",
         "2026-10-03T15:30:00.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2026-04-05T01:29:59",
         "2026-04-04T14:29:59.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2026-04-05T01:30:00",
         "2026-04-04T14:30:00.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2026-04-05T01:45:00",
         "2026-04-04T14:45:00.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2026-04-05T02:00:00",
         "2026-04-04T15:30:00.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

/* Debian's files list transitions up to 2037; later dates come from the
 * footer rule. Before the first transition, local mean time applies. */
static void zone_past_last_transition_and_before_first(void **state)
{
    static const struct case_ c[] = {
        {"ISO8601", "Europe/Berlin", "2040-07-01T12:00:00",
         "2040-07-01T10:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2040-01-15T12:00:00",
         "2040-01-15T11:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "2040-03-25T02:30:00", FAIL},
        {"ISO8601", "Europe/Berlin", "2040-10-28T02:30:00",
         "2040-10-28T00:30:00.000Z"},
        {"ISO8601", "America/New_York", "2100-07-04T12:00:00",
         "2100-07-04T16:00:00.000Z"},
        {"ISO8601", "America/New_York", "9999-12-31T12:00:00",
         "9999-12-31T17:00:00.000Z"},
        {"ISO8601", "Australia/Lord_Howe", "2050-10-02T02:15:00", FAIL},
        {"ISO8601", "Australia/Lord_Howe", "2050-01-01T00:00:00",
         "2049-12-31T13:00:00.000Z"},
        {"ISO8601", "Europe/Berlin", "1800-01-01T00:00:00",
         "1799-12-31T23:06:32.000Z"},
    };
    (void)state;
    RUN(c, NOW);
}

static void leap_days(void **state)
{
    static const struct case_ c[] = {
        {"yyyy-MM-dd", NULL, "2024-02-29", "2024-02-29T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "2026-02-29", FAIL},
        {"yyyy-MM-dd", NULL, "2000-02-29", "2000-02-29T00:00:00.000Z"},
        {"yyyy-MM-dd", NULL, "1900-02-29", FAIL},
        {"yyyy-MM-dd", NULL, "2400-02-29", "2400-02-29T00:00:00.000Z"},
        {"ISO8601", NULL, "2024-02-29T23:59:59.999Z",
         "2024-02-29T23:59:59.999Z"},
        {"ISO8601", NULL, "2024-03-01T00:00:00+01:00",
         "2024-02-29T23:00:00.000Z"},
        {"ISO8601", NULL, "2023-02-29T00:00:00Z", FAIL},
    };
    (void)state;
    RUN(c, NOW);
}

/* Logstash: a December date read in January is last year's, a January
 * date read in December next year's, anything else this year's (so a
 * November line read in January is taken as this coming November). */
static void yearless_formats_guess_the_year(void **state)
{
    static const struct case_ jan[] = {
        {"MMM dd HH:mm:ss", NULL, "Dec 31 23:59:59",
         "2026-12-31T23:59:59.000Z"},
        {"MMM dd HH:mm:ss", NULL, "Jan 01 00:00:01",
         "2027-01-01T00:00:01.000Z"},
        {"MMM dd HH:mm:ss", NULL, "Nov 30 12:00:00",
         "2027-11-30T12:00:00.000Z"},
    };
    static const struct case_ dec31[] = {
        {"MMM dd HH:mm:ss", NULL, "Jan 01 00:00:01",
         "2027-01-01T00:00:01.000Z"},
        {"MMM dd HH:mm:ss", NULL, "Dec 31 22:59:59",
         "2026-12-31T22:59:59.000Z"},
        {"MMM dd HH:mm:ss", "America/New_York", "Dec 31 18:00:00",
         "2026-12-31T23:00:00.000Z"},
    };
    static const struct case_ jun[] = {
        {"MMM dd HH:mm:ss", NULL, "Dec 31 23:59:59",
         "2026-12-31T23:59:59.000Z"},
        {"MMM dd HH:mm:ss", NULL, "Jan 01 00:00:00",
         "2026-01-01T00:00:00.000Z"},
        {"MMM dd HH:mm:ss", "Europe/Berlin", "Jun 15 12:00:00",
         "2026-06-15T10:00:00.000Z"},
        {"MMM dd HH:mm:ss Z", NULL, "Jun 15 12:00:00 -0200",
         "2026-06-15T14:00:00.000Z"},
    };
    static const struct case_ feb29_2027[] = {
        {"MMM dd HH:mm:ss", NULL, "Feb 29 12:00:00", FAIL},
    };
    static const struct case_ feb29_2028[] = {
        {"MMM dd HH:mm:ss", NULL, "Feb 29 12:00:00",
         "2028-02-29T12:00:00.000Z"},
    };
    (void)state;
    RUN(jan, NOW_2027_01);
    RUN(dec31, NOW_2026_1231);
    RUN(jun, NOW_2026_06);
    RUN(feb29_2027, NOW_2027_03);
    RUN(feb29_2028, NOW_2028_03);

    /* Without now_ms, the clock: the year is this one or next to it. */
    struct sl_date *d = compile1("MMM dd HH:mm:ss", NULL);
    int64_t ms, now = (int64_t)time(NULL) * 1000;
    assert_int_equal(sl_date_parse(d, "Jun 15 12:00:00", 15, &ms), 0);
    assert_true(ms > now - 366LL * 86400000 && ms < now + 366LL * 86400000);
    sl_date_free(d);
}

static void range_and_negative_epochs(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } c[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59.999Z", -1},
        {"1969-12-31T23:59:59Z", -1000},
        {"1900-01-01T00:00:00Z", -2208988800000LL},
        {"1600-02-29T12:00:00Z", -11670955200000LL},
        {"0001-01-01T00:00:00.000Z", SL_DATE_MIN_MS},
        {"9999-12-31T23:59:59.999Z", SL_DATE_MAX_MS},
        {"9999-12-31T23:59:59.999999Z", SL_DATE_MAX_MS},
        {"0001-01-01T01:00:00+01:00", SL_DATE_MIN_MS},
    };
    struct sl_date *d = compile1("ISO8601", NULL);
    (void)state;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int64_t ms = 0;
        assert_int_equal(
            sl_date_parse_at(d, c[i].text, strlen(c[i].text), NOW, &ms), 0);
        assert_int_equal(ms, c[i].ms);
    }
    assert_string_equal(parse_str(d, "0001-01-01T00:00:00+00:01", NOW), FAIL);
    assert_string_equal(parse_str(d, "9999-12-31T23:59:59.999-00:01", NOW),
                        FAIL);
    assert_string_equal(parse_str(d, "0000-12-31T23:59:59Z", NOW), FAIL);
    sl_date_free(d);
}

static void garbage_and_near_misses(void **state)
{
    static const char *const texts[] = {
        "",
        "x",
        "23/Nov/2026:02:46:00",
        "23/Nov/2026:02:46:00 +0100 ",
        " 23/Nov/2026:02:46:00 +0100",
        "23/Nov/2026:02:46:00 +0100]",
        "23/Nov/2026:02:46:00 +01000",
        "23/Nov/2026 02:46:00 +0100",
        "23/Nox/2026:02:46:00 +0100",
        "32/Nov/2026:02:46:00 +0100",
        "31/Nov/2026:02:46:00 +0100",
        "23/Nov/2026:24:00:00 +0100",
        "23/Nov/2026:02:46:00 +2500",
        "23/Nov/2026:02:46:00 Europe/Berlin",
        "23/Nov/20x6:02:46:00 +0100",
        "2026-11-23T02:46:00Z",
    };
    struct sl_date *d = compile1("dd/MMM/yyyy:HH:mm:ss Z", NULL);
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(parse_str(d, texts[i], NOW), FAIL) != 0)
            fail_msg("'%s' parsed", texts[i]);
    /* A NUL inside the text is a byte like any other. */
    int64_t ms;
    assert_int_equal(
        sl_date_parse_at(d, "23/Nov/2026:02:46:00 +0100\0", 27, NOW, &ms), -1);
    assert_int_equal(
        sl_date_parse_at(d, "23/Nov/2026\0:02:46:00 +0100", 27, NOW, &ms), -1);
    assert_int_equal(
        sl_date_parse_at(d, "23/Nov/2026:02:46:00 +0100", 26, NOW, &ms), 0);
    sl_date_free(d);

    /* A megabyte of digits is refused at once, by every kind of format. */
    size_t big = 1 << 20;
    char *s = malloc(big);
    memset(s, '9', big);
    const char *const fmts[] = {"UNIX", "UNIX_MS", "ISO8601", "TAI64N",
                                "yyyy-MM-dd"};
    struct sl_err err;
    struct sl_date *all = sl_date_compile(fmts, 5, NULL, &err);
    assert_non_null(all);
    assert_int_equal(sl_date_parse_at(all, s, big, NOW, &ms), -1);
    sl_date_free(all);
    free(s);
}

static void expect_compile_error(const char *const *fmts, size_t n,
                                 const char *tz, const char *want)
{
    struct sl_err err;
    sl_err_clear(&err);
    struct sl_date *d = sl_date_compile(fmts, n, tz, &err);
    if (d != NULL) {
        sl_date_free(d);
        fail_msg("'%s' compiled; want error: %s", n > 0 ? fmts[0] : "", want);
    }
    assert_string_equal(err.msg, want);
}

static void compile_errors_say_what_is_supported(void **state)
{
    static const struct {
        const char *fmt, *want;
    } c[] = {
        {"yyyy-MM-dd HH:mm:sz",
         "date format 'yyyy-MM-dd HH:mm:sz': unknown field letter 'z' at "
         "column 19; the letters are y M d H h a m s S Z E (quote other text: "
         "'T'), or use ISO8601, UNIX, UNIX_MS or TAI64N"},
        {"yyyy-MM-ddTHH:mm:ss",
         "date format 'yyyy-MM-ddTHH:mm:ss': unknown field letter 'T' at "
         "column 11; the letters are y M d H h a m s S Z E (quote other text: "
         "'T'), or use ISO8601, UNIX, UNIX_MS or TAI64N"},
        {"iso8601", "date format 'iso8601': write ISO8601, in capitals (as "
                    "Logstash's date filter)"},
        {"Unix_Ms", "date format 'Unix_Ms': write UNIX_MS, in capitals (as "
                    "Logstash's date filter)"},
        {"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSS",
         "date format 'yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSS': 10 fraction digits "
         "at column 23; at most 9 (S to SSSSSSSSS)"},
        {"HH 'o''clock",
         "date format 'HH 'o''clock': quoted text opened at column 4 is not "
         "closed; write '' for a quote"},
        {"'",
         "date format ''': quoted text opened at column 1 is not closed; write "
         "'' for a quote"},
        {"",
         "date format '': empty; give a pattern such as yyyy-MM-dd HH:mm:ss, "
         "or ISO8601, UNIX, UNIX_MS or TAI64N"},
        {"ddddddddddd",
         "date format 'ddddddddddd': field 'd' at column 1 has 11 letters; a "
         "number field has at most 9"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *f[1] = {c[i].fmt};
        expect_compile_error(f, 1, NULL, c[i].want);
    }
    const char *many[SL_DATE_FORMATS_MAX + 1];
    for (size_t i = 0; i <= SL_DATE_FORMATS_MAX; i++)
        many[i] = "ISO8601";
    expect_compile_error(many, 0, NULL,
                         "no date formats; give at least one, such as ISO8601");
    expect_compile_error(many, SL_DATE_FORMATS_MAX + 1, NULL,
                         "33 date formats; at most 32");
    const char *missing[2] = {"ISO8601", NULL};
    expect_compile_error(missing, 2, NULL, "date format 2 is missing");
    /* the second format is checked as much as the first */
    const char *second[2] = {"ISO8601", "yyyy-MM-dd qq"};
    expect_compile_error(
        second, 2, NULL,
        "date format 'yyyy-MM-dd qq': unknown field letter 'q' at column 12; "
        "the letters are y M d H h a m s S Z E (quote other text: 'T'), or "
        "use ISO8601, UNIX, UNIX_MS or TAI64N");
    struct sl_date *d = sl_date_compile(many, SL_DATE_FORMATS_MAX, NULL, NULL);
    assert_non_null(d);
    sl_date_free(d);
}

static void zone_errors_say_what_to_write(void **state)
{
    static const struct {
        const char *tz, *want;
    } c[] = {
        {"Europe/Berln", "time zone 'Europe/Berln': no such zone in "
                         "/usr/share/zoneinfo; use an IANA name such as "
                         "Europe/Berlin, UTC, or an offset such as +01:00"},
        {"Europe", "time zone 'Europe': no such zone in /usr/share/zoneinfo; "
                   "use an IANA name such as Europe/Berlin, UTC, or an offset "
                   "such as +01:00"},
        {"../etc/passwd",
         "time zone '../etc/passwd': not a zone name (letters, digits, '_', "
         "'-' and '+' in parts separated by '/'); use an IANA name such as "
         "Europe/Berlin, UTC, or an offset such as +01:00"},
        {"Europe//Berlin",
         "time zone 'Europe//Berlin': not a zone name (letters, digits, '_', "
         "'-' and '+' in parts separated by '/'); use an IANA name such as "
         "Europe/Berlin, UTC, or an offset such as +01:00"},
        {"utc", "time zone 'utc': write UTC, in capitals"},
        {"+25:00", "time zone '+25:00': not an offset; write +hh:mm, +hhmm or "
                   "+hh (hours up to 23), such as +01:00"},
        {"+01:00x", "time zone '+01:00x': not an offset; write +hh:mm, +hhmm "
                    "or +hh (hours up to 23), such as +01:00"},
        {"", "time zone '': empty; use an IANA name such as Europe/Berlin, "
             "UTC, or an offset such as +01:00"},
        {"leapseconds", "time zone 'leapseconds': "
                        "/usr/share/zoneinfo/leapseconds: not a TZif file"},
        {"right/UTC",
         "time zone 'right/UTC': /usr/share/zoneinfo/right/UTC: it has "
         "leap-second records; use the zone without the right/ prefix"},
        {"America/Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "time zone 'America/Aaaaaaaaaaaa...': longer than 64 bytes; use an "
         "IANA name such as Europe/Berlin, UTC, or an offset such as +01:00"},
    };
    const char *f[1] = {"ISO8601"};
    (void)state;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        expect_compile_error(f, 1, c[i].tz, c[i].want);
}

static void stats_of(struct sl_date *d, struct sl_date_stats *st)
{
    sl_date_get_stats(d, st);
}

static void expect(struct sl_date *d, const char *text, const char *want)
{
    const char *got = parse_str(d, text, NOW);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got %s, want %s", text, got, want);
}

static void cache_same_second_other_fraction(void **state)
{
    struct sl_date_stats st;
    struct sl_date *d = compile1("ISO8601", "Europe/Berlin");
    (void)state;
    expect(d, "2026-11-23T02:46:00.123Z", "2026-11-23T02:46:00.123Z");
    expect(d, "2026-11-23T02:46:00.456Z", "2026-11-23T02:46:00.456Z");
    expect(d, "2026-11-23T02:46:00.4Z", "2026-11-23T02:46:00.400Z");
    expect(d, "2026-11-23T02:46:00.4567891Z", "2026-11-23T02:46:00.456Z");
    stats_of(d, &st);
    assert_int_equal(st.parsed, 4);
    assert_int_equal(st.cache_hits, 3);
    /* not the same key: no fraction, another second, another zone */
    expect(d, "2026-11-23T02:46:00Z", "2026-11-23T02:46:00.000Z");
    expect(d, "2026-11-23T02:46:01.123Z", "2026-11-23T02:46:01.123Z");
    expect(d, "2026-11-23T02:46:00.123+01:00", "2026-11-23T01:46:00.123Z");
    expect(d, "2026-11-23T02:46:00.123", "2026-11-23T01:46:00.123Z");
    expect(d, "2026-11-23T02:46:00.123Zx", FAIL);
    expect(d, "2026-11-23T02:46:00.Z", FAIL);
    expect(d, "2026-11-23T02:46:00.12a3Z", FAIL);
    stats_of(d, &st);
    assert_int_equal(st.cache_hits, 3);
    assert_int_equal(st.failed, 3);
    /* the entries so far still answer (four ways) */
    expect(d, "2026-11-23T02:46:00.999+01:00", "2026-11-23T01:46:00.999Z");
    expect(d, "2026-11-23T02:46:01.5Z", "2026-11-23T02:46:01.500Z");
    stats_of(d, &st);
    assert_int_equal(st.cache_hits, 5);
    sl_date_free(d);

    /* A pattern: the fraction keeps its width even on a hit. */
    d = compile1("dd/MMM/yyyy:HH:mm:ss.SSS Z", NULL);
    expect(d, "23/Nov/2026:02:46:00.1 +0100", "2026-11-23T01:46:00.100Z");
    expect(d, "23/Nov/2026:02:46:00.12 +0100", "2026-11-23T01:46:00.120Z");
    expect(d, "23/Nov/2026:02:46:00.123 +0100", "2026-11-23T01:46:00.123Z");
    expect(d, "23/Nov/2026:02:46:00.1234 +0100", FAIL);
    expect(d, "23/Nov/2026:02:46:00. +0100", FAIL);
    expect(d, "23/Nov/2026:02:46:00.123 +0200", "2026-11-23T00:46:00.123Z");
    stats_of(d, &st);
    assert_int_equal(st.cache_hits, 2);
    sl_date_free(d);

    /* Apache dates without a fraction: the whole text is the key. */
    d = compile1("dd/MMM/yyyy:HH:mm:ss Z", NULL);
    for (int i = 0; i < 3; i++)
        expect(d, "23/Nov/2026:02:46:00 +0100", "2026-11-23T01:46:00.000Z");
    expect(d, "23/Nov/2026:02:46:00 +0000", "2026-11-23T02:46:00.000Z");
    expect(d, "23/Nov/2026:02:46:01 +0100", "2026-11-23T01:46:01.000Z");
    expect(d, "23/Nov/2026:02:46:00 +0100", "2026-11-23T01:46:00.000Z");
    stats_of(d, &st);
    assert_int_equal(st.cache_hits, 3);
    sl_date_free(d);
}

static void cache_is_per_sl_date(void **state)
{
    struct sl_date *berlin = compile1("yyyy-MM-dd HH:mm:ss", "Europe/Berlin");
    struct sl_date *ny = compile1("yyyy-MM-dd HH:mm:ss", "America/New_York");
    (void)state;
    for (int i = 0; i < 3; i++) {
        expect(berlin, "2026-07-01 12:00:00", "2026-07-01T10:00:00.000Z");
        expect(ny, "2026-07-01 12:00:00", "2026-07-01T16:00:00.000Z");
    }
    sl_date_free(berlin);
    sl_date_free(ny);
}

/* The first format that parses decides, even when a later one has the
 * same second cached with another fraction width. */
static void cache_never_skips_an_earlier_format(void **state)
{
    const char *f[2] = {"dd/MM/yyyy HH:mm:ss.S", "MM/dd/yyyy HH:mm:ss.SSS"};
    struct sl_err err;
    struct sl_date *d = sl_date_compile(f, 2, NULL, &err);
    (void)state;
    assert_non_null(d);
    for (int i = 0; i < 2; i++) {
        expect(d, "01/02/2026 10:00:00.123", "2026-01-02T10:00:00.123Z");
        expect(d, "01/02/2026 10:00:00.1", "2026-02-01T10:00:00.100Z");
        expect(d, "01/02/2026 10:00:00.456", "2026-01-02T10:00:00.456Z");
        expect(d, "01/02/2026 10:00:00.7", "2026-02-01T10:00:00.700Z");
    }
    sl_date_free(d);
}

/* A year guessed from "now" is cached for that month of "now" only. */
static void cache_follows_now(void **state)
{
    struct sl_date *d = compile1("MMM dd HH:mm:ss", NULL);
    (void)state;
    assert_string_equal(parse_str(d, "Jan 05 10:00:00", NOW_2026_12),
                        "2027-01-05T10:00:00.000Z");
    assert_string_equal(parse_str(d, "Jan 05 10:00:00", NOW_2026_06),
                        "2026-01-05T10:00:00.000Z");
    assert_string_equal(parse_str(d, "Jan 05 10:00:00", NOW_2027_12),
                        "2028-01-05T10:00:00.000Z");
    assert_string_equal(parse_str(d, "Jan 05 10:00:00", NOW_2026_12),
                        "2027-01-05T10:00:00.000Z");
    assert_string_equal(parse_str(d, "Jan 05 10:00:00", NOW_2026_12 + 1000),
                        "2027-01-05T10:00:00.000Z");
    struct sl_date_stats st;
    sl_date_get_stats(d, &st);
    assert_int_equal(st.cache_hits, 2);
    sl_date_free(d);

    d = compile1("yy-MM-dd", NULL);
    assert_string_equal(parse_str(d, "26-01-01", NOW),
                        "2026-01-01T00:00:00.000Z");
    assert_string_equal(parse_str(d, "26-01-01", NOW_2150),
                        "2126-01-01T00:00:00.000Z");
    assert_string_equal(parse_str(d, "26-01-01", NOW),
                        "2026-01-01T00:00:00.000Z");
    sl_date_free(d);
}

static void cache_keys_hold_the_zone_in_the_text(void **state)
{
    struct sl_date *d = compile1("yyyy-MM-dd HH:mm:ss.SSS ZZZ", NULL);
    (void)state;
    for (int i = 0; i < 2; i++) {
        expect(d, "2026-07-01 12:00:00.100 Europe/Berlin",
               "2026-07-01T10:00:00.100Z");
        expect(d, "2026-07-01 12:00:00.200 America/New_York",
               "2026-07-01T16:00:00.200Z");
        expect(d, "2026-07-01 12:00:00.300 Europe/Nowhere", FAIL);
    }
    sl_date_free(d);
}

/* A fraction right after digits cannot be split off safely: such formats
 * are parsed in full every time, and still right. */
static void formats_without_a_safe_key_are_not_cached(void **state)
{
    struct sl_date_stats st;
    struct sl_date *d = compile1("HHmmssSSS yyyy-MM-dd", NULL);
    (void)state;
    expect(d, "024600123 2026-11-23", "2026-11-23T02:46:00.123Z");
    expect(d, "024600456 2026-11-23", "2026-11-23T02:46:00.456Z");
    expect(d, "02460045 2026-11-23", "2026-11-23T02:46:00.450Z");
    sl_date_get_stats(d, &st);
    assert_int_equal(st.cache_hits, 0);
    sl_date_free(d);
    /* '-' may belong to a zone id, so it is no key boundary either */
    d = compile1("yyyy-MM-dd HH:mm:ss-SSS", NULL);
    expect(d, "2026-11-23 02:46:00-123", "2026-11-23T02:46:00.123Z");
    expect(d, "2026-11-23 02:46:00-456", "2026-11-23T02:46:00.456Z");
    sl_date_get_stats(d, &st);
    assert_int_equal(st.cache_hits, 0);
    sl_date_free(d);
}

static void zone_cache_is_bounded(void **state)
{
    static const char *const zones[10][2] = {
        {"Europe/Berlin", "2026-07-01T10:00:00.000Z"},
        {"Europe/London", "2026-07-01T11:00:00.000Z"},
        {"America/New_York", "2026-07-01T16:00:00.000Z"},
        {"America/Chicago", "2026-07-01T17:00:00.000Z"},
        {"Asia/Tokyo", "2026-07-01T03:00:00.000Z"},
        {"Asia/Kolkata", "2026-07-01T06:30:00.000Z"},
        {"Australia/Sydney", "2026-07-01T02:00:00.000Z"},
        {"Europe/Nowhere", FAIL},
        {"Africa/Nairobi", "2026-07-01T09:00:00.000Z"},
        {"America/Sao_Paulo", "2026-07-01T15:00:00.000Z"},
    };
    struct sl_date_stats st;
    struct sl_date *d = compile1("yyyy-MM-dd HH:mm:ss ZZZ", NULL);
    char text[64];
    (void)state;
    /* eight zones (one unknown) fit: each file is read once */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 8; i++) {
            snprintf(text, sizeof text, "2026-07-01 12:00:%02d %s", round,
                     zones[i][0]);
            char want[48];
            snprintf(want, sizeof want, "%.17s%02d.000Z", zones[i][1], round);
            expect(d, text, strcmp(zones[i][1], FAIL) == 0 ? FAIL : want);
        }
    }
    sl_date_get_stats(d, &st);
    assert_int_equal(st.zones_loaded, 8);
    /* ten do not: the oldest make room, and results stay right */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 10; i++) {
            snprintf(text, sizeof text, "2026-07-01 12:00:00 %s", zones[i][0]);
            expect(d, text, zones[i][1]);
        }
    sl_date_get_stats(d, &st);
    assert_true(st.zones_loaded > 8);
    sl_date_free(d);
}

static void iso8601_writer(void **state)
{
    char out[SL_DATE_ISO8601_SIZE];
    (void)state;
    assert_int_equal(sl_date_format_iso8601_ms(0, out), 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    assert_int_equal(sl_date_format_iso8601_ms(-1, out), 0);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(sl_date_format_iso8601_ms(1795401960123LL, out), 0);
    assert_string_equal(out, "2026-11-23T02:46:00.123Z");
    assert_int_equal(sl_date_format_iso8601_ms(SL_DATE_MIN_MS, out), 0);
    assert_string_equal(out, "0001-01-01T00:00:00.000Z");
    assert_int_equal(sl_date_format_iso8601_ms(SL_DATE_MAX_MS, out), 0);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    assert_int_equal(sl_date_format_iso8601_ms(SL_DATE_MIN_MS - 1, out), -1);
    assert_string_equal(out, "");
    assert_int_equal(sl_date_format_iso8601_ms(SL_DATE_MAX_MS + 1, out), -1);
    assert_int_equal(sl_date_format_iso8601_ms(INT64_MIN, out), -1);
    assert_int_equal(sl_date_format_iso8601_ms(INT64_MAX, out), -1);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t rand_between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next_rand() % (uint64_t)(hi - lo + 1));
}

/* Random instants over the whole range: our writer against gmtime_r, our
 * ISO8601 and a pattern with a random offset against the instant, and the
 * C library's timegm against the same fields. */
static void random_instants_match_the_c_library(void **state)
{
    struct sl_date *iso = compile1("ISO8601", NULL);
    struct sl_date *apache = compile1("dd/MMM/yyyy:HH:mm:ss.SSS Z", NULL);
    static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec"};
    (void)state;
    for (int i = 0; i < 5000; i++) {
        int64_t ms =
            rand_between(SL_DATE_MIN_MS + 86400000, SL_DATE_MAX_MS - 86400000);
        if (i % 2)
            ms = rand_between(-2208988800000LL, 4102444800000LL);
        int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        int frac = (int)(ms - secs * 1000);
        time_t t = (time_t)secs;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal((int64_t)timegm(&tm), secs);
        char want[64], got[SL_DATE_ISO8601_SIZE], text[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, frac);
        assert_int_equal(sl_date_format_iso8601_ms(ms, got), 0);
        assert_string_equal(got, want);
        int64_t back = 0;
        assert_int_equal(sl_date_parse_at(iso, want, strlen(want), NOW, &back),
                         0);
        assert_int_equal(back, ms);

        int off = (int)rand_between(-23 * 60 - 59, 23 * 60 + 59); /* min */
        time_t lt = (time_t)(secs + off * 60);
        assert_non_null(gmtime_r(&lt, &tm));
        int aoff = off < 0 ? -off : off;
        snprintf(text, sizeof text,
                 "%02d/%s/%04d:%02d:%02d:%02d.%03d %c%02d%02d", tm.tm_mday,
                 mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, frac, off < 0 ? '-' : '+', aoff / 60, aoff % 60);
        back = 0;
        if (sl_date_parse_at(apache, text, strlen(text), NOW, &back) != 0 ||
            back != ms)
            fail_msg("'%s': got %lld, want %lld", text, (long long)back,
                     (long long)ms);
    }
    sl_date_free(iso);
    sl_date_free(apache);
}

/* In a child: TZ set for the C library, our zone loaded by name. */
static int check_zone_against_libc(const char *zone)
{
    setenv("TZ", zone, 1);
    tzset();
    struct sl_date *d = compile1("yyyy-MM-dd HH:mm:ss", zone);
    int bad = 0;
    for (int i = 0; i < 3000 && bad < 5; i++) {
        /* an instant: its local time must parse back to it, or to an
         * earlier instant with the same local time (an overlap) */
        int64_t u = rand_between(-2208988800LL, 4102444800LL);
        if (i % 3 == 0)
            u = rand_between(1577836800LL, 2524608000LL); /* 2020..2050 */
        time_t t = (time_t)u;
        struct tm tm, tm2;
        localtime_r(&t, &tm);
        char text[64];
        snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        int64_t ms;
        if (sl_date_parse_at(d, text, strlen(text), NOW, &ms) != 0) {
            fprintf(stderr, "%s: '%s' (from %lld) does not parse\n", zone, text,
                    (long long)u);
            bad++;
            continue;
        }
        time_t r = (time_t)(ms / 1000);
        localtime_r(&r, &tm2);
        if (r > t || t - r > 26 * 3600 || tm2.tm_year != tm.tm_year ||
            tm2.tm_mon != tm.tm_mon || tm2.tm_mday != tm.tm_mday ||
            tm2.tm_hour != tm.tm_hour || tm2.tm_min != tm.tm_min ||
            tm2.tm_sec != tm.tm_sec) {
            fprintf(stderr, "%s: '%s' gives %lld, want %lld\n", zone, text,
                    (long long)r, (long long)u);
            bad++;
        }
        /* a local time: it parses exactly when mktime keeps it as is */
        struct tm want = {0};
        want.tm_year = (int)rand_between(0, 150);
        want.tm_mon = (int)rand_between(0, 11);
        want.tm_mday = (int)rand_between(1, 28);
        want.tm_hour = (int)rand_between(0, 23);
        want.tm_min = (int)rand_between(0, 59);
        want.tm_isdst = -1;
        tm2 = want;
        mktime(&tm2);
        bool exists = tm2.tm_mday == want.tm_mday &&
                      tm2.tm_hour == want.tm_hour && tm2.tm_min == want.tm_min;
        snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:00",
                 want.tm_year + 1900, want.tm_mon + 1, want.tm_mday,
                 want.tm_hour, want.tm_min);
        if ((sl_date_parse_at(d, text, strlen(text), NOW, &ms) == 0) !=
            exists) {
            fprintf(stderr, "%s: '%s' %s a gap for the C library\n", zone, text,
                    exists ? "is not" : "is");
            bad++;
        }
    }
    sl_date_free(d);
    return bad;
}

static void run_in_child(int (*check)(const char *), const char *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(check(arg) == 0 ? 0 : 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s disagrees with the C library (see above)", arg);
}

static void named_zones_match_the_c_library(void **state)
{
    static const char *const zones[] = {
        "Europe/Berlin",     "America/New_York",  "Australia/Lord_Howe",
        "America/Sao_Paulo", "Asia/Kolkata",      "Pacific/Chatham",
        "America/St_Johns",  "Africa/Casablanca", "Europe/Dublin",
        "Antarctica/Troll",  "Pacific/Apia",      "Asia/Gaza",
        "America/Santiago",  "Pacific/Kiritimati"};
    (void)state;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        run_in_child(check_zone_against_libc, zones[i]);
}

/* TZif data with no transitions and only a footer rule. */
static size_t tzif_with_footer(unsigned char *buf, const char *rule)
{
    static const unsigned char hdr[44] = {
        'T', 'Z', 'i', 'f', '2', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,   0,   0,   0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,   0,   0,   0,   0,   0, 0, 0, 0, 1, 0, 0, 0, 4};
    static const unsigned char data[10] = {0, 0, 0, 0, 0, 0, 'X', 'X', 'X', 0};
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        memcpy(buf + n, hdr, sizeof hdr);
        n += sizeof hdr;
        memcpy(buf + n, data, sizeof data);
        n += sizeof data;
    }
    buf[n++] = '\n';
    memcpy(buf + n, rule, strlen(rule));
    n += strlen(rule);
    buf[n++] = '\n';
    return n;
}

static int check_rule_against_libc(const char *rule)
{
    unsigned char buf[512];
    struct sl_err err;
    size_t n = tzif_with_footer(buf, rule);
    struct sl_tz *tz = sl_tz_from_tzif("test", 4, buf, n, &err);
    if (tz == NULL) {
        fprintf(stderr, "%s: %s\n", rule, err.msg);
        return 1;
    }
    setenv("TZ", rule, 1);
    tzset();
    int bad = 0;
    for (int i = 0; i < 20000 && bad < 5; i++) {
        int64_t u = rand_between(0, 4102444800LL);
        time_t t = (time_t)u;
        struct tm tm;
        localtime_r(&t, &tm);
        int64_t local =
            sl_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
                86400 +
            tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
        if (sl_tz_offset_at(tz, u) != local - u) {
            fprintf(stderr, "%s at %lld: offset %d, C library %lld\n", rule,
                    (long long)u, sl_tz_offset_at(tz, u),
                    (long long)(local - u));
            bad++;
        }
    }
    sl_tz_free(tz);
    return bad;
}

static void posix_rules_match_the_c_library(void **state)
{
    static const char *const rules[] = {
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "EST5EDT,M3.2.0,M11.1.0",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
        "IST-2IDT,M3.4.4/26,M10.5.0",
        "AAA3BBB,J60/2,J300/2",
        "AAA-5BBB-6,59,300",
        "NZST-12NZDT,M9.5.0,M4.1.0/3",
        "<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
        "<-01>1",
        "UTC0",
    };
    (void)state;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        run_in_child(check_rule_against_libc, rules[i]);

    /* DST all year, as tzfile(5) writes it: glibc gets the hours around
     * New Year wrong (standard time until 05:00 UTC), so check by hand. */
    unsigned char buf[512];
    struct sl_err err;
    size_t n = tzif_with_footer(buf, "EST5EDT,0/0,J365/25");
    struct sl_tz *tz = sl_tz_from_tzif("t", 1, buf, n, &err);
    assert_non_null(tz);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(sl_tz_offset_at(tz, rand_between(0, 4102444800LL)),
                         -4 * 3600);
    assert_int_equal(sl_tz_offset_at(tz, 1893474000LL), -4 * 3600);
    sl_tz_free(tz);
}

static void bad_tzif_data_is_refused(void **state)
{
    unsigned char buf[512];
    struct sl_err err;
    size_t n = tzif_with_footer(buf, "CET-1CEST,M3.5.0,M10.5.0/3");
    struct sl_tz *tz;
    (void)state;

    assert_null(sl_tz_from_tzif("t", 1, "hello", 5, &err));
    assert_string_equal(err.msg, "time zone 't': not a TZif file");
    assert_null(sl_tz_from_tzif("t", 1, buf, 50, &err));
    assert_string_equal(err.msg, "time zone 't': the file is cut short");
    assert_null(sl_tz_from_tzif("t", 1, buf, n - 1, &err));
    assert_string_equal(err.msg, "time zone 't': its footer is not a "
                                 "newline-enclosed TZ string");

    n = tzif_with_footer(buf, "CET-1CEST");
    assert_null(sl_tz_from_tzif("t", 1, buf, n, &err));
    assert_string_equal(err.msg,
                        "time zone 't': its footer TZ rule does not parse");
    n = tzif_with_footer(buf, "CET-1CEST,M13.5.0,M10.5.0");
    assert_null(sl_tz_from_tzif("t", 1, buf, n, &err));

    n = tzif_with_footer(buf, "CET-1");
    buf[54 + 28 + 3] = 1; /* leapcnt of the second header */
    assert_null(sl_tz_from_tzif("t", 1, buf, n, &err));

    n = tzif_with_footer(buf, "CET-1");
    buf[54 + 39] = 0; /* typecnt 0 */
    assert_null(sl_tz_from_tzif("t", 1, buf, n, &err));
    assert_string_equal(err.msg, "time zone 't': bad TZif header counts");

    /* no footer at all: the last offset holds; an empty one says the same */
    n = tzif_with_footer(buf, "");
    tz = sl_tz_from_tzif("t", 1, buf, n, &err);
    assert_non_null(tz);
    assert_int_equal(sl_tz_offset_at(tz, 4102444800LL), 0);
    sl_tz_free(tz);
    tz = sl_tz_from_tzif("t", 1, buf, n - 2, &err);
    assert_non_null(tz);
    sl_tz_free(tz);

    /* version 1: 32-bit transitions, no footer */
    static const unsigned char v1[] = {
        'T', 'Z', 'i',  'f',  0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0,
        0,   0,   0,    0,    0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0,
        0,   1,   0,    0,    0, 2, 0, 0, 0, 4, 0x40, 0, 0, 0, /* transition at
                                                                  2^30 s, to
                                                                  type 1 */
        1,   0,   0,    0,    0, 0, 0,                         /* type 0: +0 */
        0,   0,   0x0e, 0x10, 1, 0, /* type 1: +3600 */
        'X', 'X', 'X',  0};
    tz = sl_tz_from_tzif("v1", 2, v1, sizeof v1, &err);
    assert_non_null(tz);
    assert_int_equal(sl_tz_offset_at(tz, (1 << 30) - 1), 0);
    assert_int_equal(sl_tz_offset_at(tz, 1 << 30), 3600);
    assert_int_equal(sl_tz_offset_at(tz, INT64_MAX), 3600);
    int64_t utc;
    assert_int_equal(sl_tz_local_to_utc(tz, (1 << 30) + 1800, &utc), -1);
    assert_int_equal(sl_tz_local_to_utc(tz, (1 << 30) + 3600, &utc), 0);
    assert_int_equal(utc, 1 << 30);
    sl_tz_free(tz);

    unsigned char bad[sizeof v1];
    memcpy(bad, v1, sizeof v1);
    bad[48] = 2; /* a type that does not exist */
    assert_null(sl_tz_from_tzif("v1", 2, bad, sizeof bad, &err));
    assert_string_equal(err.msg,
                        "time zone 'v1': a transition names a missing time "
                        "type");
    memcpy(bad, v1, sizeof v1);
    bad[55] = 0x7f; /* +2130706432 s */
    assert_null(sl_tz_from_tzif("v1", 2, bad, sizeof bad, &err));
    assert_string_equal(err.msg,
                        "time zone 'v1': an offset is beyond 25:59:59");
}

/* The writer keeps the last two seconds' texts: two times alternating,
 * a third, then the first again (replaced by then), each exact. */
static void iso8601_writer_seconds_alternating(void **state)
{
    static const struct {
        int64_t ms;
        const char *want;
    } v[] = {
        {1795401960123LL, "2026-11-23T02:46:00.123Z"},
        {1764802800000LL, "2025-12-03T23:00:00.000Z"},
        {1795401960999LL, "2026-11-23T02:46:00.999Z"},
        {1764802800042LL, "2025-12-03T23:00:00.042Z"},
        {1795401961000LL, "2026-11-23T02:46:01.000Z"},
        {1764802800500LL, "2025-12-03T23:00:00.500Z"},
        {1795401960007LL, "2026-11-23T02:46:00.007Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {1795401961001LL, "2026-11-23T02:46:01.001Z"},
    };
    char out[SL_DATE_ISO8601_SIZE];
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(sl_date_format_iso8601_ms(v[i].ms, out), 0);
        assert_string_equal(out, v[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(letter_year),
        cmocka_unit_test(letter_two_digit_year),
        cmocka_unit_test(letter_month),
        cmocka_unit_test(letter_day_hour_minute_second),
        cmocka_unit_test(letter_halfday),
        cmocka_unit_test(letter_fraction_1_to_9_digits),
        cmocka_unit_test(letter_offset),
        cmocka_unit_test(letter_zone_id),
        cmocka_unit_test(letter_day_name),
        cmocka_unit_test(literals_and_quotes),
        cmocka_unit_test(keyword_iso8601),
        cmocka_unit_test(keyword_unix),
        cmocka_unit_test(keyword_tai64n),
        cmocka_unit_test(zones_fixed_and_utc),
        cmocka_unit_test(zone_berlin_across_dst),
        cmocka_unit_test(zone_new_york_across_dst),
        cmocka_unit_test(zone_lord_howe_half_hour_dst),
        cmocka_unit_test(zone_past_last_transition_and_before_first),
        cmocka_unit_test(leap_days),
        cmocka_unit_test(yearless_formats_guess_the_year),
        cmocka_unit_test(range_and_negative_epochs),
        cmocka_unit_test(garbage_and_near_misses),
        cmocka_unit_test(compile_errors_say_what_is_supported),
        cmocka_unit_test(zone_errors_say_what_to_write),
        cmocka_unit_test(cache_same_second_other_fraction),
        cmocka_unit_test(cache_is_per_sl_date),
        cmocka_unit_test(cache_never_skips_an_earlier_format),
        cmocka_unit_test(cache_follows_now),
        cmocka_unit_test(cache_keys_hold_the_zone_in_the_text),
        cmocka_unit_test(formats_without_a_safe_key_are_not_cached),
        cmocka_unit_test(zone_cache_is_bounded),
        cmocka_unit_test(iso8601_writer),
        cmocka_unit_test(random_instants_match_the_c_library),
        cmocka_unit_test(named_zones_match_the_c_library),
        cmocka_unit_test(posix_rules_match_the_c_library),
        cmocka_unit_test(bad_tzif_data_is_refused),
        cmocka_unit_test(iso8601_writer_seconds_alternating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
