/* sl_rfc3339.c: see sl_rfc3339.h.
 *
 * Days from the civil date by the era arithmetic of Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms" (the proleptic Gregorian
 * calendar, no table, no timegm, which would read TZ and take a lock). */
#include "sl_rfc3339.h"

#include <stdbool.h>

#include "sl_date.h"

/* n digits at s as a number, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d (y >= 1). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = y / 400; /* y >= 0 here */
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The fraction at s[0..n) (n >= 1 digits) as milliseconds, or -1. */
static int fraction_ms(const char *s, size_t n)
{
    int ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (i < 3)
            ms = ms * 10 + (s[i] - '0');
    }
    for (size_t i = n; i < 3; i++)
        ms *= 10;
    return ms;
}

/* The zone at s[0..n): its offset east of UTC in minutes, or -1 (an offset
 * is never negative here: *west says the sign). */
static int zone_minutes(const char *s, size_t n, bool *west)
{
    *west = false;
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z'))
        return 0;
    if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return -1;
    int h = digits(s + 1, 2), m = digits(s + 4, 2);
    if (h < 0 || m < 0 || h > 23 || m > 59)
        return -1;
    *west = s[0] == '-';
    return h * 60 + m;
}

int sl_rfc3339_parse_ms(const char *s, size_t len, int64_t *epoch_ms)
{
    /* "YYYY-MM-DDThh:mm:ss" is 19 bytes, and a zone at least 1 */
    if (len < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59 || d > month_days(y, mo))
        return -1;
    size_t i = 19;
    int ms = 0;
    if (s[i] == '.') {
        size_t f = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f || (ms = fraction_ms(s + f, i - f)) < 0)
            return -1;
    }
    bool west;
    int zone = zone_minutes(s + i, len - i, &west);
    if (zone < 0)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t += west ? zone * 60 : -(int64_t)zone * 60;
    t = t * 1000 + ms;
    if (t < SL_DATE_MIN_MS || t > SL_DATE_MAX_MS) /* year 1 or 9999 shifted */
        return -1;
    *epoch_ms = t;
    return 0;
}
