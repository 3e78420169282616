/* sl_date.c: see sl_date.h.
 *
 * A pattern compiles to a list of items (literal bytes, or a field with the
 * most digits it reads) that parsing walks once, left to right, without
 * backtracking, as Joda-Time's parser does: each item takes what it can at
 * its position, and the text must end where the last item does. The fields
 * land in a struct fields; resolve() turns them into UTC seconds (year
 * guessing, day-of-month check, hour from h and a, then the zone).
 *
 * The cache. Within one format, the result for a text depends only on its
 * bytes and, for formats that guess a year or read yy, on the month of
 * "now". Each format keeps CACHE_WAYS entries: the bytes before the
 * fraction, the bytes after it, the UTC second, and the now-window the
 * result holds for. A text hits when its bytes before the fraction are the
 * same, the fraction scanned as the parser would scan it (digits, at most
 * the item's width) ends exactly where the same bytes after it begin, and
 * now lies in the window. That gives what a full parse would, provided no
 * item before the fraction looked past its bytes, so a format is cached only
 * when its fraction follows a literal ending in a byte no field reads on
 * (not a letter, digit, '_', '/', '+' or '-'): "ss.SSS" and "ss,SSS" are,
 * "ssSSS" is not. Texts without a fraction are keyed whole. Caches belong
 * to one format of one sl_date, so another format or default zone never sees
 * them, and a zone in the text is part of the key. Entries are replaced in
 * turn; the one that hit last is tried first, since log lines come in time
 * order with a few stragglers.
 *
 * Formats are tried in order on every text (a cache hit of a later format
 * does not skip an earlier one), because the first format that parses
 * decides, and an earlier format may parse a text that differs only in the
 * fraction. Failures are not cached: they would need the whole text as key.
 *
 * Not done here: locales other than English, the Joda letters listed in
 * sl_date.h as unsupported, zone abbreviations. */
#include "sl_date.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sl_ascii.h"
#include "sl_tz.h"

#define CACHE_WAYS 4  /* a power of two */
#define KEY_MAX    64 /* longer texts are parsed, not cached */
#define NO_NOW     INT64_MIN
#define NOW_LIMIT  ((int64_t)1 << 53) /* ms: 285,000 years */

enum item_kind {
    IT_LITERAL,
    IT_YEAR,
    IT_YEAR2, /* yy */
    IT_MONTH,
    IT_MONTH_NAME,
    IT_DAY,
    IT_HOUR,      /* H: 0..23 */
    IT_CLOCKHOUR, /* h: 1..12 */
    IT_HALFDAY,   /* a */
    IT_MINUTE,
    IT_SECOND,
    IT_FRACTION,
    IT_OFFSET,  /* Z, ZZ */
    IT_ZONE,    /* ZZZ */
    IT_DAY_NAME /* E */
};

struct item {
    unsigned char kind;
    unsigned char max;     /* most digits a number reads */
    unsigned char letters; /* how many letters the field was written with */
    bool strict;           /* a number field follows (Joda's look-ahead) */
    unsigned short lit, lit_len; /* literal bytes in fmt->lits */
};

enum fmt_kind { FMT_PATTERN, FMT_ISO8601, FMT_UNIX, FMT_UNIX_MS, FMT_TAI64N };

struct centry {
    int64_t epoch_s;
    int64_t now_lo, now_hi; /* valid for now in [now_lo, now_hi) */
    unsigned char pre, suf; /* key = pre bytes before the fraction, suf after */
    bool frac;              /* false: the whole text is key[0..pre) */
    bool used;
    char key[KEY_MAX];
};

struct fmt {
    enum fmt_kind kind;
    struct item *items;
    size_t nitems;
    char *lits;
    unsigned frac_max; /* digits the fraction reads; 0: any number */
    bool needs_now;    /* guesses the year, or reads yy */
    bool cacheable;
    unsigned last, next; /* cache entry that hit last; entry to replace */
    struct centry cache[CACHE_WAYS];
};

struct zone_slot {
    bool used;
    unsigned char len;
    char name[SL_TZ_NAME_MAX];
    struct sl_tz *tz; /* NULL: no such zone */
};

struct sl_date {
    struct sl_tz *tz; /* default zone */
    size_t nfmt;
    struct fmt *fmt;
    struct zone_slot zones[SL_DATE_ZONES_MAX];
    unsigned zone_next;
    struct sl_date_stats stats;
};

/* What a parse found, before it becomes an instant. */
struct fields {
    int64_t year;
    int month, day, hour, clockhour, minute, second, ms;
    int pm; /* -1: no a field */
    bool has_year, has_hour, has_off;
    int32_t off;
    const struct sl_tz *zone;
    const char *frac, *frac_end; /* the fraction's digits in the text */
};

/* "Now" as the parse of one format needs it. */
struct now {
    int64_t ms;
    int64_t year;
    int month;
    int64_t lo, hi; /* the UTC month of ms, as ms */
};

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
static const char *const day_names[7] = {"monday",   "tuesday", "wednesday",
                                         "thursday", "friday",  "saturday",
                                         "sunday"};

/* A byte that some field reads on: a literal ending in one cannot be the
 * boundary of a cache key (see the top of the file). */
static bool is_field_byte(char c)
{
    return sl_ascii_alpha(c) || sl_ascii_digit(c) || c == '_' || c == '/' ||
           c == '+' || c == '-';
}

/* ---- compiling -------------------------------------------------------- */

#define LETTERS                                                                \
    "the letters are y M d H h a m s S Z E (quote other text: 'T'), or "       \
    "use ISO8601, UNIX, UNIX_MS or TAI64N"

static bool is_number_item(unsigned char k)
{
    return k == IT_YEAR || k == IT_YEAR2 || k == IT_MONTH || k == IT_DAY ||
           k == IT_HOUR || k == IT_CLOCKHOUR || k == IT_MINUTE ||
           k == IT_SECOND || k == IT_FRACTION;
}

/* The item for a run of n letters c at column col. */
static int field_item(const char *src, char c, size_t n, size_t col,
                      struct item *it, struct sl_err *err)
{
    unsigned char width = n > 2 ? (unsigned char)n : 2;
    switch (c) {
    case 'y':
    case 'Y':
        it->kind = n == 2 ? IT_YEAR2 : IT_YEAR;
        width = 9;
        break;
    case 'M':
        it->kind = n >= 3 ? IT_MONTH_NAME : IT_MONTH;
        break;
    case 'd':
        it->kind = IT_DAY;
        break;
    case 'H':
        it->kind = IT_HOUR;
        break;
    case 'h':
        it->kind = IT_CLOCKHOUR;
        break;
    case 'a':
        it->kind = IT_HALFDAY;
        break;
    case 'm':
        it->kind = IT_MINUTE;
        break;
    case 's':
        it->kind = IT_SECOND;
        break;
    case 'S':
        it->kind = IT_FRACTION;
        if (n > 9)
            return sl_err_set(err, SL_EINVAL,
                              "date format '%s': %zu fraction digits at "
                              "column %zu; at most 9 (S to SSSSSSSSS)",
                              src, n, col);
        width = (unsigned char)n;
        break;
    case 'Z':
        it->kind = n >= 3 ? IT_ZONE : IT_OFFSET;
        break;
    case 'E':
        it->kind = IT_DAY_NAME;
        break;
    default:
        return sl_err_set(err, SL_EINVAL,
                          "date format '%s': unknown field letter '%c' at "
                          "column %zu; " LETTERS,
                          src, c, col);
    }
    if (n > 9 && is_number_item(it->kind))
        return sl_err_set(err, SL_EINVAL,
                          "date format '%s': field '%c' at column %zu has %zu "
                          "letters; a number field has at most 9",
                          src, c, col, n);
    it->max = width;
    it->letters = (unsigned char)(n < 255 ? n : 255);
    return 0;
}

/* Appends the literal run at src[*i] (plain bytes and 'quoted text'). */
static int literal_item(const char *src, size_t len, size_t *i, struct fmt *f,
                        size_t *nlits, struct sl_err *err)
{
    struct item *it = &f->items[f->nitems++];
    it->kind = IT_LITERAL;
    it->lit = (unsigned short)*nlits;
    while (*i < len && !sl_ascii_alpha(src[*i])) {
        if (src[*i] != '\'') {
            f->lits[(*nlits)++] = src[(*i)++];
            continue;
        }
        if (*i + 1 < len && src[*i + 1] == '\'') { /* '' is a quote */
            f->lits[(*nlits)++] = '\'';
            *i += 2;
            continue;
        }
        size_t open = *i;
        for (++*i;; ++*i) {
            if (*i == len)
                return sl_err_set(err, SL_EINVAL,
                                  "date format '%s': quoted text opened at "
                                  "column %zu is not closed; write '' for a "
                                  "quote",
                                  src, open + 1);
            if (src[*i] != '\'') {
                f->lits[(*nlits)++] = src[*i];
            } else if (*i + 1 < len && src[*i + 1] == '\'') {
                f->lits[(*nlits)++] = '\'';
                ++*i;
            } else {
                ++*i;
                break;
            }
        }
    }
    it->lit_len = (unsigned short)(*nlits - it->lit);
    return 0;
}

/* What the items decide together. Joda's look-ahead: a year followed by a
 * number field reads at most as many digits as it has letters (yy: exactly
 * two), so "yyyyMMdd" works. Whether "now" matters (no year, or yy), and
 * whether the cache may key on the bytes around the fraction (see the top
 * of the file). */
static void finish_pattern(struct fmt *f)
{
    bool has_year = false;
    size_t nfrac = 0, frac_at = 0;
    for (size_t k = 0; k < f->nitems; k++) {
        struct item *it = &f->items[k];
        bool number_next =
            k + 1 < f->nitems && is_number_item(f->items[k + 1].kind);
        if (it->kind == IT_YEAR || it->kind == IT_YEAR2) {
            has_year = true;
            if (it->kind == IT_YEAR2)
                f->needs_now = true;
            if (number_next) {
                it->strict = true;
                it->max = it->kind == IT_YEAR2 ? 2 : it->letters;
            }
        }
        if (it->kind == IT_FRACTION) {
            nfrac++;
            frac_at = k;
            f->frac_max = it->max;
        }
    }
    if (!has_year)
        f->needs_now = true;
    if (nfrac == 0) {
        f->cacheable = true;
    } else if (nfrac == 1 && frac_at > 0) {
        const struct item *prev = &f->items[frac_at - 1];
        f->cacheable = prev->kind == IT_LITERAL &&
                       !is_field_byte(f->lits[prev->lit + prev->lit_len - 1]);
    }
}

static int compile_pattern(struct fmt *f, const char *src, struct sl_err *err)
{
    size_t len = strlen(src);
    if (len == 0)
        return sl_err_set(err, SL_EINVAL,
                          "date format '': empty; give a pattern such as "
                          "yyyy-MM-dd HH:mm:ss, or ISO8601, UNIX, UNIX_MS or "
                          "TAI64N");
    if (len > 1024)
        return sl_err_set(err, SL_EINVAL,
                          "date format '%.40s...': longer than 1024 bytes",
                          src);
    f->items = calloc(len, sizeof *f->items);
    f->lits = malloc(len);
    if (f->items == NULL || f->lits == NULL)
        return sl_err_set(err, SL_ENOMEM, "date format '%s': out of memory",
                          src);
    size_t i = 0, nlits = 0;
    while (i < len) {
        if (!sl_ascii_alpha(src[i])) {
            if (literal_item(src, len, &i, f, &nlits, err) < 0)
                return -1;
            continue;
        }
        size_t j = i;
        while (j < len && src[j] == src[i])
            j++;
        if (field_item(src, src[i], j - i, i + 1, &f->items[f->nitems], err) <
            0)
            return -1;
        f->nitems++;
        i = j;
    }
    finish_pattern(f);
    return 0;
}

static int compile_one(struct fmt *f, const char *src, struct sl_err *err)
{
    static const struct {
        const char *name;
        enum fmt_kind kind;
    } keywords[] = {{"ISO8601", FMT_ISO8601},
                    {"UNIX", FMT_UNIX},
                    {"UNIX_MS", FMT_UNIX_MS},
                    {"TAI64N", FMT_TAI64N}};
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        if (strcmp(src, keywords[k].name) == 0) {
            f->kind = keywords[k].kind;
            f->cacheable = f->kind == FMT_ISO8601;
            return 0;
        }
        if (strcasecmp(src, keywords[k].name) == 0) /* "iso8601", "unix" */
            return sl_err_set(err, SL_EINVAL,
                              "date format '%s': write %s, in capitals (as "
                              "Logstash's date filter)",
                              src, keywords[k].name);
    }
    f->kind = FMT_PATTERN;
    return compile_pattern(f, src, err);
}

void sl_date_free(struct sl_date *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nfmt; i++) {
        free(d->fmt[i].items);
        free(d->fmt[i].lits);
    }
    for (size_t i = 0; i < SL_DATE_ZONES_MAX; i++)
        sl_tz_free(d->zones[i].tz);
    sl_tz_free(d->tz);
    free(d->fmt);
    free(d);
}

struct sl_date *sl_date_compile(const char *const *formats, size_t n,
                                const char *default_tz, struct sl_err *err)
{
    if (n == 0) {
        sl_err_set(err, SL_EINVAL,
                   "no date formats; give at least one, such as ISO8601");
        return NULL;
    }
    if (n > SL_DATE_FORMATS_MAX) {
        sl_err_set(err, SL_EINVAL, "%zu date formats; at most %d", n,
                   SL_DATE_FORMATS_MAX);
        return NULL;
    }
    struct sl_date *d = calloc(1, sizeof *d);
    if (d == NULL || (d->fmt = calloc(n, sizeof *d->fmt)) == NULL) {
        free(d);
        sl_err_set(err, SL_ENOMEM, "date formats: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        d->nfmt++;
        if (formats[i] == NULL) {
            sl_err_set(err, SL_EINVAL, "date format %zu is missing", i + 1);
            goto fail;
        }
        if (compile_one(&d->fmt[i], formats[i], err) < 0)
            goto fail;
    }
    const char *tz = default_tz != NULL ? default_tz : "UTC";
    if ((d->tz = sl_tz_load(tz, strlen(tz), err)) == NULL)
        goto fail;
    return d;
fail:
    sl_date_free(d);
    return NULL;
}

/* ---- parsing one item ------------------------------------------------- */

/* Reads 1..max digits at *p into *v. */
static bool read_num(const char **p, const char *end, unsigned max, int *v)
{
    const char *s = *p;
    int x = 0;
    unsigned n = 0;
    while (s + n < end && n < max && sl_ascii_digit(s[n])) {
        x = x * 10 + (s[n] - '0');
        n++;
    }
    if (n == 0)
        return false;
    *p = s + n;
    *v = x;
    return true;
}

/* The longest English name at *p (full, or its first three letters), any
 * case; its index, or -1. */
static int read_name(const char **p, const char *end, const char *const *names,
                     int count)
{
    const char *s = *p;
    if (end - s < 3)
        return -1;
    char a = sl_ascii_lower(s[0]), b = sl_ascii_lower(s[1]),
         c = sl_ascii_lower(s[2]);
    for (int i = 0; i < count; i++) {
        const char *nm = names[i];
        if (nm[0] != a || nm[1] != b || nm[2] != c)
            continue;
        size_t k = 3;
        while (nm[k] != '\0' && s + k < end && sl_ascii_lower(s[k]) == nm[k])
            k++;
        *p = s + (nm[k] == '\0' ? k : 3);
        return i;
    }
    return -1;
}

static bool literal_eq(const char *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != lit[i] && sl_ascii_lower(s[i]) != sl_ascii_lower(lit[i]))
            return false;
    return true;
}

static const struct sl_tz *zone_by_name(struct sl_date *d, const char *name,
                                        size_t len)
{
    for (size_t i = 0; i < SL_DATE_ZONES_MAX; i++) {
        struct zone_slot *z = &d->zones[i];
        if (z->used && z->len == len && memcmp(z->name, name, len) == 0)
            return z->tz;
    }
    struct zone_slot *z = &d->zones[d->zone_next];
    d->zone_next = (d->zone_next + 1) % SL_DATE_ZONES_MAX;
    sl_tz_free(z->tz);
    z->tz = sl_tz_load(name, len, NULL);
    z->used = true;
    z->len = (unsigned char)len;
    memcpy(z->name, name, len);
    d->stats.zones_loaded++;
    return z->tz;
}

/* ZZZ: the run of zone-id bytes at *p, which must name a zone. */
static bool read_zone(struct sl_date *d, const char **p, const char *end,
                      struct fields *fl)
{
    const char *s = *p;
    size_t n = 0;
    while (s + n < end && n <= SL_TZ_NAME_MAX && is_field_byte(s[n]))
        n++;
    if (n == 0 || n > SL_TZ_NAME_MAX || !sl_ascii_alpha(s[0]))
        return false;
    const struct sl_tz *tz = zone_by_name(d, s, n);
    if (tz == NULL)
        return false;
    fl->zone = tz;
    *p = s + n;
    return true;
}

/* Year: '+' and 1..max digits; yy: see sl_date.h. */
static bool read_year(const struct item *it, const struct now *now,
                      const char **p, const char *end, struct fields *fl)
{
    const char *s = *p;
    bool yy = it->kind == IT_YEAR2;
    bool sign = s < end && *s == '+' && !(yy && it->strict);
    int v;
    if (sign)
        s++;
    const char *digits = s;
    if (!read_num(&s, end, it->max, &v))
        return false;
    fl->year = v;
    fl->has_year = true;
    if (yy && !sign && s - digits == 2) {
        int64_t low = now->year - 80; /* Joda: pivot now - 30, -50..+49 */
        int64_t base = low - sl_floor_div(low, 100) * 100;
        fl->year = low + (v - base + 100) % 100;
    } else if (yy && it->strict) {
        return false;
    }
    *p = s;
    return true;
}

static bool read_fraction(const struct item *it, const char **p,
                          const char *end, struct fields *fl)
{
    const char *s = *p;
    unsigned n = 0;
    int ms = 0;
    while (s + n < end && n < it->max && sl_ascii_digit(s[n])) {
        if (n < 3)
            ms = ms * 10 + (s[n] - '0');
        n++;
    }
    if (n == 0)
        return false;
    for (unsigned k = n; k < 3; k++)
        ms *= 10;
    fl->ms = ms;
    fl->frac = s;
    fl->frac_end = s + n;
    *p = s + n;
    return true;
}

static bool parse_item(struct sl_date *d, const struct fmt *f,
                       const struct item *it, const struct now *now,
                       const char **p, const char *end, struct fields *fl)
{
    int v;
    switch ((enum item_kind)it->kind) {
    case IT_LITERAL:
        if ((size_t)(end - *p) < it->lit_len ||
            !literal_eq(*p, f->lits + it->lit, it->lit_len))
            return false;
        *p += it->lit_len;
        return true;
    case IT_YEAR:
    case IT_YEAR2:
        return read_year(it, now, p, end, fl);
    case IT_MONTH:
        if (!read_num(p, end, it->max, &v) || v < 1 || v > 12)
            return false;
        fl->month = v;
        return true;
    case IT_MONTH_NAME:
        fl->month = read_name(p, end, month_names, 12) + 1;
        return fl->month > 0;
    case IT_DAY:
        if (!read_num(p, end, it->max, &v) || v < 1 || v > 31)
            return false;
        fl->day = v;
        return true;
    case IT_HOUR:
        fl->has_hour = true;
        return read_num(p, end, it->max, &fl->hour) && fl->hour <= 23;
    case IT_CLOCKHOUR:
        return read_num(p, end, it->max, &fl->clockhour) &&
               fl->clockhour >= 1 && fl->clockhour <= 12;
    case IT_HALFDAY:
        if (end - *p < 2 || sl_ascii_lower((*p)[1]) != 'm')
            return false;
        if (sl_ascii_lower(**p) != 'a' && sl_ascii_lower(**p) != 'p')
            return false;
        fl->pm = sl_ascii_lower(**p) == 'p';
        *p += 2;
        return true;
    case IT_MINUTE:
        return read_num(p, end, it->max, &fl->minute) && fl->minute <= 59;
    case IT_SECOND:
        return read_num(p, end, it->max, &fl->second) && fl->second <= 59;
    case IT_FRACTION:
        return read_fraction(it, p, end, fl);
    case IT_OFFSET: {
        size_t n = sl_tz_parse_offset(*p, (size_t)(end - *p), &fl->off);
        *p += n;
        fl->has_off = true;
        return n > 0;
    }
    case IT_ZONE:
        return read_zone(d, p, end, fl);
    case IT_DAY_NAME:
        return read_name(p, end, day_names, 7) >= 0;
    }
    return false;
}

/* ---- from fields to an instant ---------------------------------------- */

static void init_fields(struct fields *fl)
{
    memset(fl, 0, sizeof *fl);
    fl->month = 1;
    fl->day = 1;
    fl->pm = -1;
}

/* The UTC second of the fields (and fl->ms), or -1: a day the month does
 * not have, a local time in a DST gap, or a result outside 0001..9999. */
static int resolve(const struct sl_date *d, struct fields *fl,
                   const struct now *now, int64_t *epoch_s)
{
    if (!fl->has_year) {
        fl->year = now->year;
        if (fl->month == 12 && now->month == 1)
            fl->year--;
        else if (fl->month == 1 && now->month == 12)
            fl->year++;
    }
    if (fl->year > 10000 || fl->day > sl_days_in_month(fl->year, fl->month))
        return -1;
    int hour = fl->hour;
    if (!fl->has_hour)
        hour = (fl->clockhour % 12) + (fl->pm == 1 ? 12 : 0);
    int64_t local = sl_days_from_civil(fl->year, fl->month, fl->day) * 86400 +
                    hour * 3600 + fl->minute * 60 + fl->second;
    int64_t utc;
    if (fl->has_off)
        utc = local - fl->off;
    else if (sl_tz_local_to_utc(fl->zone != NULL ? fl->zone : d->tz, local,
                                &utc) < 0)
        return -1;
    if (utc < SL_DATE_MIN_MS / 1000 || utc > SL_DATE_MAX_MS / 1000)
        return -1;
    *epoch_s = utc;
    return 0;
}

static bool two_at(const char *p, const char *end, int max, int *v)
{
    if (end - p < 2 || !sl_ascii_digit(p[0]) || !sl_ascii_digit(p[1]))
        return false;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return *v <= max;
}

/* ISO8601, see sl_date.h. */
static int parse_iso(const char *s, size_t len, struct fields *fl)
{
    const char *p, *end = s + len;
    int hi, lo;
    if (len < 10 || s[4] != '-' || s[7] != '-' || !two_at(s, end, 99, &hi) ||
        !two_at(s + 2, end, 99, &lo) || !two_at(s + 5, end, 12, &fl->month) ||
        !two_at(s + 8, end, 31, &fl->day) || fl->month < 1 || fl->day < 1)
        return -1;
    p = s + 10;
    fl->year = hi * 100 + lo;
    fl->has_year = true;
    if (p == end)
        return 0;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (!two_at(p, end, 23, &fl->hour) || end - p < 5 || p[2] != ':' ||
        !two_at(p + 3, end, 59, &fl->minute))
        return -1;
    fl->has_hour = true;
    p += 5;
    if (p < end && *p == ':') {
        if (!two_at(p + 1, end, 59, &fl->second))
            return -1;
        p += 3;
        if (p < end && (*p == '.' || *p == ',')) {
            struct item any = {.max = 255};
            p++;
            if (!read_fraction(&any, &p, end, fl))
                return -1;
            while (p < end && sl_ascii_digit(*p))
                p++;
            fl->frac_end = p;
        }
    }
    if (p < end) {
        size_t n = sl_tz_parse_offset(p, (size_t)(end - p), &fl->off);
        if (n == 0)
            return -1;
        fl->has_off = true;
        p += n;
    }
    return p == end ? 0 : -1;
}

static int in_range(int64_t ms, int64_t *out)
{
    if (ms < SL_DATE_MIN_MS || ms > SL_DATE_MAX_MS)
        return -1;
    *out = ms;
    return 0;
}

/* UNIX and UNIX_MS: [+-]digits, and for UNIX an optional '.' fraction. */
static int parse_unix(const char *s, size_t len, bool millis, int64_t *out)
{
    const char *p = s, *end = s + len;
    bool neg = false;
    int64_t v = 0;
    int ms = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    const char *digits = p;
    while (p < end && sl_ascii_digit(*p)) {
        v = v * 10 + (*p++ - '0');
        if (v > SL_DATE_MAX_MS)
            return -1; /* and stays clear of overflow */
    }
    if (p == digits)
        return -1;
    if (!millis && p < end && *p == '.') {
        int n = 0;
        for (p++; p < end && sl_ascii_digit(*p); p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        for (; n < 3; n++)
            ms *= 10;
    }
    if (p != end || (!millis && v > SL_DATE_MAX_MS / 1000 + 1))
        return -1;
    int64_t t = millis ? v : v * 1000 + ms;
    return in_range(neg ? -t : t, out);
}

/* TAI64N: label 2^62 + 10 + seconds since 1970 (the 10 s TAI-UTC offset of
 * 1970, as daemontools and Logstash count it), then nanoseconds. */
static int parse_tai64n(const char *s, size_t len, int64_t *out)
{
    if (len > 0 && s[0] == '@') {
        s++;
        len--;
    }
    if (len != 24)
        return -1;
    uint64_t label = 0, nanos = 0;
    for (size_t i = 0; i < 24; i++) {
        int h = sl_ascii_hex_value(s[i]);
        if (h < 0)
            return -1;
        if (i < 16)
            label = label << 4 | (unsigned)h;
        else
            nanos = nanos << 4 | (unsigned)h;
    }
    if (label >> 62 != 1 || nanos > 999999999)
        return -1;
    int64_t secs = (int64_t)(label - ((uint64_t)1 << 62)) - 10;
    if (secs > SL_DATE_MAX_MS / 1000)
        return -1;
    return in_range(secs * 1000 + (int64_t)(nanos / 1000000), out);
}

/* ---- the cache -------------------------------------------------------- */

static bool cache_get(struct fmt *f, const char *s, size_t len, int64_t now_ms,
                      int64_t *out)
{
    for (unsigned k = 0; k < CACHE_WAYS; k++) {
        unsigned i = (f->last + k) & (CACHE_WAYS - 1);
        const struct centry *e = &f->cache[i];
        int ms = 0;
        if (!e->used)
            continue;
        if (!e->frac) {
            if (len != e->pre || memcmp(s, e->key, len) != 0)
                continue;
        } else {
            if (len < (size_t)e->pre + 1 + e->suf ||
                memcmp(s, e->key, e->pre) != 0)
                continue;
            const char *p = s + e->pre, *end = s + len;
            unsigned n = 0;
            while (p + n < end && sl_ascii_digit(p[n]) &&
                   (f->frac_max == 0 || n < f->frac_max)) {
                if (n < 3)
                    ms = ms * 10 + (p[n] - '0');
                n++;
            }
            if (n == 0 || (size_t)(end - (p + n)) != e->suf ||
                memcmp(p + n, e->key + e->pre, e->suf) != 0)
                continue;
            for (; n < 3; n++)
                ms *= 10;
        }
        if (now_ms < e->now_lo || now_ms >= e->now_hi)
            continue;
        f->last = i;
        *out = e->epoch_s * 1000 + ms;
        return true;
    }
    return false;
}

static void cache_put(struct fmt *f, const char *s, size_t len,
                      const struct fields *fl, const struct now *now,
                      int64_t epoch_s)
{
    size_t pre = len, suf = 0;
    if (fl->frac != NULL) {
        pre = (size_t)(fl->frac - s);
        suf = (size_t)(s + len - fl->frac_end);
    }
    if (!f->cacheable || pre + suf > KEY_MAX)
        return;
    struct centry *e = &f->cache[f->next];
    f->last = f->next;
    f->next = (f->next + 1) & (CACHE_WAYS - 1);
    e->used = true;
    e->frac = fl->frac != NULL;
    e->pre = (unsigned char)pre;
    e->suf = (unsigned char)suf;
    memcpy(e->key, s, pre);
    memcpy(e->key + pre, s + len - suf, suf);
    e->epoch_s = epoch_s;
    e->now_lo = f->needs_now ? now->lo : INT64_MIN;
    e->now_hi = f->needs_now ? now->hi : INT64_MAX;
}

/* ---- parsing ---------------------------------------------------------- */

static void now_of(int64_t now_ms, struct now *now)
{
    int64_t y;
    int m, dd;
    if (now_ms == NO_NOW) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (now_ms > NOW_LIMIT || now_ms < -NOW_LIMIT) /* keeps the math exact */
        now_ms = now_ms > 0 ? NOW_LIMIT : -NOW_LIMIT;
    sl_civil_from_days(sl_floor_div(now_ms, 86400000), &y, &m, &dd);
    now->ms = now_ms;
    now->year = y;
    now->month = m;
    now->lo = sl_days_from_civil(y, m, 1) * 86400000;
    now->hi = (m == 12 ? sl_days_from_civil(y + 1, 1, 1)
                       : sl_days_from_civil(y, m + 1, 1)) *
              86400000;
}

/* One format, fully: 0 and *out, or -1. */
static int parse_with(struct sl_date *d, struct fmt *f, const char *s,
                      size_t len, const struct now *now, int64_t *out)
{
    struct fields fl;
    int64_t epoch_s;
    init_fields(&fl);
    switch (f->kind) {
    case FMT_UNIX:
        return parse_unix(s, len, false, out);
    case FMT_UNIX_MS:
        return parse_unix(s, len, true, out);
    case FMT_TAI64N:
        return parse_tai64n(s, len, out);
    case FMT_ISO8601:
        if (parse_iso(s, len, &fl) < 0)
            return -1;
        break;
    case FMT_PATTERN: {
        const char *p = s, *end = s + len;
        for (size_t k = 0; k < f->nitems; k++)
            if (!parse_item(d, f, &f->items[k], now, &p, end, &fl))
                return -1;
        if (p != end)
            return -1;
        break;
    }
    }
    if (resolve(d, &fl, now, &epoch_s) < 0)
        return -1;
    cache_put(f, s, len, &fl, now, epoch_s);
    *out = epoch_s * 1000 + fl.ms;
    return 0;
}

int sl_date_parse_at(struct sl_date *d, const char *s, size_t len,
                     int64_t now_ms, int64_t *epoch_ms)
{
    struct now now = {NO_NOW, 0, 0, 0, 0};
    for (size_t i = 0; i < d->nfmt && len > 0; i++) {
        struct fmt *f = &d->fmt[i];
        if (f->needs_now && now.ms == NO_NOW)
            now_of(now_ms, &now);
        if (f->cacheable && cache_get(f, s, len, now.ms, epoch_ms)) {
            d->stats.parsed++;
            d->stats.cache_hits++;
            return 0;
        }
        if (parse_with(d, f, s, len, &now, epoch_ms) == 0) {
            d->stats.parsed++;
            return 0;
        }
    }
    d->stats.failed++;
    return -1;
}

int sl_date_parse(struct sl_date *d, const char *s, size_t len,
                  int64_t *epoch_ms)
{
    return sl_date_parse_at(d, s, len, NO_NOW, epoch_ms);
}

void sl_date_get_stats(const struct sl_date *d, struct sl_date_stats *st)
{
    *st = d->stats;
}

/* ---- writing ---------------------------------------------------------- */

static void put_num(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Events come in time order, many in one second: the texts of the last
 * two seconds formatted (per thread) are kept, so most calls are a copy
 * and three digits, not a calendar conversion (2.4% of the shipper's time
 * with grok and date, where every event formats its read time). Two: the
 * shipper formats the read time and then the event's own, and with one
 * each new second of the log's cost two conversions. */
static _Thread_local int64_t last_sec[2] = {INT64_MIN, INT64_MIN};
static _Thread_local char last_text[2][SL_DATE_ISO8601_SIZE];
static _Thread_local unsigned last_old; /* the entry to replace next */

int sl_date_format_iso8601_ms(int64_t epoch_ms, char out[SL_DATE_ISO8601_SIZE])
{
    if (epoch_ms < SL_DATE_MIN_MS || epoch_ms > SL_DATE_MAX_MS) {
        out[0] = '\0';
        return -1;
    }
    int64_t secs = sl_floor_div(epoch_ms, 1000);
    unsigned k = secs == last_sec[0] ? 0 : secs == last_sec[1] ? 1 : 2;
    if (k == 2) {
        k = last_old;
        char *t = last_text[k];
        int64_t days = sl_floor_div(secs, 86400);
        int sod = (int)(secs - days * 86400), m, dd;
        int64_t y;
        sl_civil_from_days(days, &y, &m, &dd);
        memcpy(t, "0000-00-00T00:00:00.000Z", SL_DATE_ISO8601_SIZE);
        put_num(t, (int)y, 4);
        put_num(t + 5, m, 2);
        put_num(t + 8, dd, 2);
        put_num(t + 11, sod / 3600, 2);
        put_num(t + 14, sod / 60 % 60, 2);
        put_num(t + 17, sod % 60, 2);
        last_sec[k] = secs;
    }
    last_old = k ^ 1u;
    memcpy(out, last_text[k], SL_DATE_ISO8601_SIZE);
    /* the milliseconds unsigned, unrolled (put_num's signed loop was
     * half of a call) */
    unsigned ms = (unsigned)(epoch_ms - secs * 1000);
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    return 0;
}
