/* index_name.c: the index pattern's compiler, its per-event formatter and
 * the reader of names back into dates (for retention).
 *
 * A compiled pattern is a list of items (literal text, a date, a field);
 * a date is a list of tokens (a letter with its run length, or literal
 * text). All of it lives in fixed arrays inside the struct, so formatting
 * never allocates; the field lookup is index_name_json.c.
 *
 * The compile proves the names valid (index_name.h): the pattern's own
 * bytes are checked once, dates write only digits and lower-case month
 * names, and field values are sanitised as they are read. It also bounds
 * the name: the longest the text and dates can write (fixed_max) plus one
 * byte per field must fit in INDEX_NAME_MAX, so each field can be cut to
 * leave room for what follows it (tail_max) and a name never overflows.
 *
 * The date cache: the dates of a name change only when the pattern's
 * finest letter does (a day for yyyy.MM.dd, an hour with HH), so the
 * rendered dates are kept with the period they hold for; one compare per
 * event while the period lasts.
 *
 * Reading a name back (index_name_parse) matches items left to right,
 * trying each length for a field and each width for a number; the time
 * it reads is then formatted again and must give the name byte for byte,
 * which is the only proof that counts: a name that merely looks similar
 * ("sluice-2026.1.01", "sluice-2026.02.30") is not the pattern's and
 * retention leaves it. The search goes on past the first reading: a name
 * that reads back as two periods (adjacent numbers such as "ssxxx") says
 * no date, and is left too. */
#include "index_name.h"

#include <stdlib.h>
#include <string.h>

#include "index_name_priv.h"
#include "sl_text.h"
#include "sl_tz.h"

#define ITEMS_MAX 32
#define TOKS_MAX  64
#define DAY_MS    86400000LL
#define TS_MIN    (-62135596800000LL) /* 0001-01-01T00:00:00Z */
#define TS_MAX    253402300799999LL   /* 9999-12-31T23:59:59.999Z */
#define COUNT_MAX 9                   /* longest run of one letter */
/* Steps of index_name_parse over field lengths before it gives up. */
#define PARSE_STEPS_MAX 20000

enum item_kind { IT_LIT, IT_DATE, IT_FIELD };

struct item {
    enum item_kind kind;
    unsigned short off, len; /* IT_LIT: bytes of lit; IT_DATE: toks */
    unsigned short field;    /* IT_FIELD: index in fields */
    unsigned short tail_max; /* most bytes the items after it write */
};

struct tok {
    char letter; /* 0: literal bytes lit[off..off+len) */
    unsigned char count;
    unsigned short off, len;
};

/* What a date reads or writes, one field per letter. */
struct civil {
    int64_t year, weekyear;
    int month, day, doy, week, hour, min, sec;
};

/* The dates of a name, rendered: item k's at text[off[k]..+len[k]). */
struct rendered {
    char text[INDEX_NAME_MAX];
    unsigned short off[ITEMS_MAX], len[ITEMS_MAX];
};

enum period { P_NONE, P_YMD, P_YD, P_MONTH, P_YEAR, P_WEEK };

struct index_name {
    char lit[INDEX_NAME_PATTERN_MAX];
    size_t nlit;
    struct item items[ITEMS_MAX];
    unsigned nitems;
    struct tok toks[TOKS_MAX];
    unsigned ntoks;
    struct sl_fieldpath fields[INDEX_NAME_FIELDS_MAX];
    unsigned nfields;
    char fallback[INDEX_NAME_MAX + 1];
    size_t fallback_len;
    size_t fixed_max;
    uint64_t letters; /* bit (letter - 'A'): the letter appears */
    bool year4, weekyear4;
    int64_t gran_ms; /* the finest letter's period; 0: no dates */
    /* cache: dates rendered for [cache_lo, cache_lo + gran_ms) */
    int64_t cache_lo;
    bool cached;
    /* without fields: the name of the cached period, in name[] */
    bool name_cached;
    struct sl_slice last;
    struct rendered dates;
    struct index_name_value vals[INDEX_NAME_FIELDS_MAX];
    char name[INDEX_NAME_MAX + 1];
    struct index_name_json json;
};

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

/* ---- compile ------------------------------------------------------------ */

/* NULL: c may be in an index name; else why not. */
static const char *bad_char(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return "index names are lower case";
    if (c < 0x20 || c == 0x7f || c == ' ')
        return "index names have no spaces or control characters";
    if (strchr("\\/*?\"<>|,#:", c) != NULL)
        return "index names cannot hold \\ / * ? \" < > | , # :";
    if (c >= 0x80)
        return "Sluice keeps index names ASCII";
    return NULL;
}

static bool value_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static int add_lit(struct index_name *in, const char *s, size_t len,
                   const char *pattern, struct sl_err *err)
{
    for (size_t i = 0; i < len; i++) {
        const char *why = bad_char((unsigned char)s[i]);
        if (why != NULL) {
            char q[64];
            return sl_err_set(err, SL_EINVAL,
                              "%s at byte %zu of the pattern: %s",
                              sl_text_quote(q, sizeof q, s + i, 1, '\''),
                              (size_t)(s + i - pattern) + 1, why);
        }
    }
    if (len > sizeof in->lit - in->nlit)
        return sl_err_set(err, SL_ELIMIT, "the pattern is too long");
    memcpy(in->lit + in->nlit, s, len);
    in->nlit += len;
    return 0;
}

static int add_tok(struct index_name *in, char letter, size_t count, size_t off,
                   size_t len, struct sl_err *err)
{
    if (in->ntoks == TOKS_MAX)
        return sl_err_set(err, SL_ELIMIT,
                          "more than %d parts in the pattern's dates",
                          TOKS_MAX);
    in->toks[in->ntoks++] = (struct tok){
        letter, (unsigned char)count, (unsigned short)off, (unsigned short)len};
    return 0;
}

/* The most bytes a token writes. */
static size_t tok_max(const struct tok *t)
{
    size_t natural = 2;
    switch (t->letter) {
    case 0:
        return t->len;
    case 'y':
    case 'Y':
    case 'x':
        if (t->count == 2)
            return 2;
        natural = 4;
        break;
    case 'D':
        natural = 3;
        break;
    case 'M':
        if (t->count == 3)
            return 3;
        if (t->count >= 4)
            return 9;
        break;
    default:
        break;
    }
    return t->count > natural ? t->count : natural;
}

static int64_t letter_gran(char c)
{
    switch (c) {
    case 'H':
        return 3600000;
    case 'm':
        return 60000;
    case 's':
        return 1000;
    default:
        return DAY_MS;
    }
}

/* One quoted run of a date format at f[*i] (the opening quote). */
static int compile_quote(struct index_name *in, const char *f, size_t n,
                         size_t *i, const char *pattern, struct sl_err *err)
{
    size_t j = *i + 1;
    if (j < n && f[j] == '\'') { /* '' is a quote */
        size_t off = in->nlit;
        *i = j + 1;
        if (add_lit(in, f + j, 1, pattern, err) < 0)
            return -1;
        return add_tok(in, 0, 0, off, 1, err);
    }
    for (;;) {
        size_t start = j, off = in->nlit;
        while (j < n && f[j] != '\'')
            j++;
        if (j == n)
            return sl_err_set(err, SL_EINVAL, "unclosed quote in \"%%{+%.*s}\"",
                              (int)n, f);
        if (add_lit(in, f + start, j - start, pattern, err) < 0 ||
            (j > start && add_tok(in, 0, 0, off, j - start, err) < 0))
            return -1;
        if (j + 1 < n && f[j + 1] == '\'') { /* '' inside: a quote */
            off = in->nlit;
            if (add_lit(in, f + j, 1, pattern, err) < 0 ||
                add_tok(in, 0, 0, off, 1, err) < 0)
                return -1;
            j += 2;
            continue;
        }
        *i = j + 1;
        return 0;
    }
}

/* The FORMAT of %{+FORMAT}: f[0..n). */
static int compile_date(struct index_name *in, const char *f, size_t n,
                        const char *pattern, struct sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_EINVAL,
                          "empty date \"%%{+}\"; write e.g. %%{+yyyy.MM.dd}");
    for (size_t i = 0; i < n;) {
        char c = f[i];
        if (c == '\'') {
            if (compile_quote(in, f, n, &i, pattern, err) < 0)
                return -1;
            continue;
        }
        size_t j = i + 1;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            size_t off = in->nlit;
            if (add_lit(in, f + i, 1, pattern, err) < 0 ||
                add_tok(in, 0, 0, off, 1, err) < 0)
                return -1;
            i = j;
            continue;
        }
        if (strchr("yYxwMdDHms", c) == NULL)
            return sl_err_set(err, SL_EINVAL,
                              "unsupported letter '%c' in \"%%{+%.*s}\"; use "
                              "y Y x w M d D H m s, and quote text ('T')",
                              c, (int)n, f);
        while (j < n && f[j] == c)
            j++;
        if (j - i > COUNT_MAX)
            return sl_err_set(err, SL_EINVAL,
                              "more than %d '%c' in a row in \"%%{+%.*s}\"",
                              COUNT_MAX, c, (int)n, f);
        if (add_tok(in, c, j - i, 0, 0, err) < 0)
            return -1;
        in->letters |= 1ull << (c - 'A');
        if ((c == 'y' || c == 'Y') && j - i != 2)
            in->year4 = true;
        if (c == 'x' && j - i != 2)
            in->weekyear4 = true;
        if (in->gran_ms == 0 || letter_gran(c) < in->gran_ms)
            in->gran_ms = letter_gran(c);
        i = j;
    }
    return 0;
}

static int add_item(struct index_name *in, struct item it, struct sl_err *err)
{
    if (in->nitems == ITEMS_MAX)
        return sl_err_set(err, SL_ELIMIT, "more than %d parts in the pattern",
                          ITEMS_MAX);
    in->items[in->nitems++] = it;
    return 0;
}

/* %{REF}: REF is r[0..n). */
static int compile_ref(struct index_name *in, const char *r, size_t n,
                       const char *pattern, struct sl_err *err)
{
    if (n > 0 && r[0] == '+') {
        unsigned short first = (unsigned short)in->ntoks;
        if (compile_date(in, r + 1, n - 1, pattern, err) < 0)
            return -1;
        return add_item(in,
                        (struct item){IT_DATE, first,
                                      (unsigned short)(in->ntoks - first), 0,
                                      0},
                        err);
    }
    if (in->nfields == INDEX_NAME_FIELDS_MAX)
        return sl_err_set(err, SL_ELIMIT, "more than %d fields in the pattern",
                          INDEX_NAME_FIELDS_MAX);
    if (sl_fieldpath_parse(&in->fields[in->nfields], r, n, err) < 0) {
        sl_err_prefix(err, "field \"%%{%.*s}\"", (int)n, r);
        return -1;
    }
    in->nfields++;
    return add_item(
        in, (struct item){IT_FIELD, 0, 0, (unsigned short)(in->nfields - 1), 0},
        err);
}

static int compile_pattern(struct index_name *in, const char *p,
                           struct sl_err *err)
{
    size_t n = strlen(p), i = 0;
    if (n == 0)
        return sl_err_set(err, SL_EINVAL, "the pattern is empty");
    if (n > INDEX_NAME_PATTERN_MAX)
        return sl_err_set(err, SL_ELIMIT, "the pattern is longer than %d bytes",
                          INDEX_NAME_PATTERN_MAX);
    while (i < n) {
        const char *ref = strstr(p + i, "%{");
        size_t stop = ref ? (size_t)(ref - p) : n, off = in->nlit;
        if (stop > i) {
            if (add_lit(in, p + i, stop - i, p, err) < 0 ||
                add_item(in,
                         (struct item){IT_LIT, (unsigned short)off,
                                       (unsigned short)(stop - i), 0, 0},
                         err) < 0)
                return -1;
        }
        if (ref == NULL)
            break;
        const char *close = strchr(ref + 2, '}');
        if (close == NULL)
            return sl_err_set(err, SL_EINVAL,
                              "\"%%{\" at byte %zu of the pattern has no \"}\"",
                              stop + 1);
        if (compile_ref(in, ref + 2, (size_t)(close - ref - 2), p, err) < 0)
            return -1;
        i = (size_t)(close - p) + 1;
    }
    return 0;
}

int index_name_check_fallback(const char *fb, struct sl_err *err)
{
    size_t n = strlen(fb);
    char q[64];
    if (n == 0 || n > INDEX_NAME_MAX)
        return sl_err_set(err, SL_EINVAL,
                          "the fallback must have 1 to %d characters",
                          INDEX_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!value_char((unsigned char)fb[i]) ||
            (i == 0 && strchr("._-", fb[0]) != NULL))
            return sl_err_set(err, SL_EINVAL,
                              "fallback %s: expected a-z 0-9 . _ - only, not "
                              "starting with . _ -",
                              sl_text_quote(q, sizeof q, fb, n, '"'));
    return 0;
}

static int set_fallback(struct index_name *in, const char *fb,
                        struct sl_err *err)
{
    if (index_name_check_fallback(fb, err) < 0)
        return -1;
    in->fallback_len = strlen(fb);
    memcpy(in->fallback, fb, in->fallback_len + 1);
    return 0;
}

/* Sizes: fixed_max and each item's tail_max; the name's first byte. */
static int check_sizes(struct index_name *in, struct sl_err *err)
{
    size_t tail = 0;
    for (unsigned k = in->nitems; k-- > 0;) {
        struct item *it = &in->items[k];
        it->tail_max = (unsigned short)tail;
        if (it->kind == IT_LIT)
            tail += it->len;
        else if (it->kind == IT_FIELD)
            tail += 1;
        for (unsigned t = 0; it->kind == IT_DATE && t < it->len; t++)
            tail += tok_max(&in->toks[it->off + t]);
        if (tail > INDEX_NAME_MAX)
            return sl_err_set(err, SL_ELIMIT,
                              "the pattern's names can be longer than the "
                              "%d bytes of an index name",
                              INDEX_NAME_MAX);
    }
    in->fixed_max = tail - in->nfields;
    const struct item *first = &in->items[0];
    const char *lead = NULL;
    if (first->kind == IT_LIT)
        lead = in->lit + first->off;
    else if (first->kind == IT_DATE && first->len > 0 &&
             in->toks[first->off].letter == 0)
        lead = in->lit + in->toks[first->off].off;
    if (lead != NULL && strchr("-_+.", *lead) != NULL)
        return sl_err_set(err, SL_EINVAL,
                          "the pattern starts with '%c': index names cannot",
                          *lead);
    return 0;
}

struct index_name *index_name_new(const char *pattern, const char *fallback,
                                  struct sl_err *err)
{
    struct index_name *in = calloc(1, sizeof *in);
    if (in == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for the index pattern");
        return NULL;
    }
    if (compile_pattern(in, pattern, err) < 0 ||
        set_fallback(in, fallback ? fallback : INDEX_NAME_FALLBACK, err) < 0 ||
        check_sizes(in, err) < 0) {
        index_name_free(in);
        return NULL;
    }
    in->json.paths = in->fields;
    in->json.npaths = in->nfields;
    in->json.vals = in->vals;
    return in;
}

void index_name_free(struct index_name *in)
{
    if (in == NULL)
        return;
    for (unsigned f = 0; f < in->nfields; f++)
        sl_fieldpath_release(&in->fields[f]);
    free(in);
}

bool index_name_uses_fields(const struct index_name *in)
{
    return in->nfields > 0;
}

bool index_name_uses_date(const struct index_name *in)
{
    return in->gran_ms > 0;
}

struct sl_slice index_name_prefix(const struct index_name *in)
{
    struct sl_slice s = {in->lit, 0};
    if (in->items[0].kind == IT_LIT)
        s.len = in->items[0].len;
    return s;
}

/* ---- render ------------------------------------------------------------- */

static void civil_of(int64_t ts, struct civil *c)
{
    int64_t days = sl_floor_div(ts, DAY_MS), ms = ts - days * DAY_MS;
    sl_civil_from_days(days, &c->year, &c->month, &c->day);
    c->doy = (int)(days - sl_days_from_civil(c->year, 1, 1)) + 1;
    int wd = (int)(days + 3 - sl_floor_div(days + 3, 7) * 7) + 1; /* Mon 1 */
    int64_t thu = days - (wd - 4), ty;
    int tm, td;
    sl_civil_from_days(thu, &ty, &tm, &td);
    c->weekyear = ty;
    c->week = (int)((thu - sl_days_from_civil(ty, 1, 1)) / 7) + 1;
    c->hour = (int)(ms / 3600000);
    c->min = (int)(ms / 60000 % 60);
    c->sec = (int)(ms / 1000 % 60);
}

static size_t put_num(char *out, int64_t v, unsigned count)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < count)
        tmp[n++] = '0';
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Writes one date item; out has room for its tok_max sum. */
static size_t render_date(const struct index_name *in, const struct item *it,
                          const struct civil *c, char *out)
{
    size_t n = 0;
    for (unsigned k = 0; k < it->len; k++) {
        const struct tok *t = &in->toks[it->off + k];
        int64_t v = 0;
        switch (t->letter) {
        case 0:
            memcpy(out + n, in->lit + t->off, t->len);
            n += t->len;
            continue;
        case 'y':
        case 'Y':
        case 'x':
            v = t->letter == 'x' ? c->weekyear : c->year;
            if (t->count == 2)
                v %= 100;
            break;
        case 'M':
            if (t->count >= 3) {
                const char *name = month_names[c->month - 1];
                size_t len = t->count == 3 ? 3 : strlen(name);
                memcpy(out + n, name, len);
                n += len;
                continue;
            }
            v = c->month;
            break;
        case 'w':
            v = c->week;
            break;
        case 'd':
            v = c->day;
            break;
        case 'D':
            v = c->doy;
            break;
        case 'H':
            v = c->hour;
            break;
        case 'm':
            v = c->min;
            break;
        default:
            v = c->sec;
            break;
        }
        n += put_num(out + n, v, t->count);
    }
    return n;
}

static void render_all_dates(const struct index_name *in, int64_t ts,
                             struct rendered *r)
{
    struct civil c;
    size_t n = 0;
    civil_of(ts, &c);
    for (unsigned k = 0; k < in->nitems; k++) {
        if (in->items[k].kind != IT_DATE)
            continue;
        size_t len = render_date(in, &in->items[k], &c, r->text + n);
        r->off[k] = (unsigned short)n;
        r->len[k] = (unsigned short)len;
        n += len;
    }
}

/* Writes the name into out (INDEX_NAME_MAX + 1 bytes): dates from r,
 * fields from vals (the fallback for a missing one), each field cut to
 * leave room for what follows. Returns the length. */
static size_t assemble(const struct index_name *in, const struct rendered *r,
                       const struct index_name_value *vals, char *out)
{
    size_t n = 0;
    for (unsigned k = 0; k < in->nitems; k++) {
        const struct item *it = &in->items[k];
        const char *s;
        size_t len;
        if (it->kind == IT_LIT) {
            s = in->lit + it->off;
            len = it->len;
        } else if (it->kind == IT_DATE) {
            s = r->text + r->off[k];
            len = r->len[k];
        } else {
            const struct index_name_value *v = &vals[it->field];
            s = v->len ? v->text : in->fallback;
            len = v->len ? v->len : in->fallback_len;
            if (len > INDEX_NAME_MAX - n - it->tail_max)
                len = INDEX_NAME_MAX - n - it->tail_max;
        }
        memcpy(out + n, s, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

static struct sl_slice build_name(struct index_name *in)
{
    size_t n = assemble(in, &in->dates, in->vals, in->name), skip = 0;
    while (skip < n && strchr("-_+.", in->name[skip]) != NULL)
        skip++;
    if (skip == n) {
        memcpy(in->name, in->fallback, in->fallback_len + 1);
        return (struct sl_slice){in->name, in->fallback_len};
    }
    return (struct sl_slice){in->name + skip, n - skip};
}

struct sl_slice index_name_format(struct index_name *in, int64_t ts_ms,
                                  struct sl_slice json)
{
    if (in->gran_ms > 0) {
        ts_ms = ts_ms < TS_MIN ? TS_MIN : ts_ms > TS_MAX ? TS_MAX : ts_ms;
        if (!in->cached || ts_ms < in->cache_lo ||
            ts_ms - in->cache_lo >= in->gran_ms) {
            in->cache_lo = sl_floor_div(ts_ms, in->gran_ms) * in->gran_ms;
            in->cached = true;
            in->name_cached = false;
            render_all_dates(in, ts_ms, &in->dates);
        }
    }
    if (in->nfields > 0) {
        index_name_json_lookup(&in->json, json.ptr, json.len);
        return build_name(in);
    }
    /* Dates only: every event of the period gets the same name, built
     * once (a batch's events are mostly of one day). */
    if (!in->name_cached) {
        in->last = build_name(in);
        in->name_cached = true;
    }
    return in->last;
}

/* ---- read back ---------------------------------------------------------- */

static bool has(const struct index_name *in, char c)
{
    return (in->letters & (1ull << (c - 'A'))) != 0;
}

/* Which period a name of the pattern covers. The letters must say one
 * period and nothing that varies inside it, since a name is read back by
 * formatting the period's first day: a month with a week-year (January 1
 * may lie in the last week-year) is no period, nor a week with a calendar
 * year. */
static enum period period_of(const struct index_name *in)
{
    bool M = has(in, 'M'), d = has(in, 'd'), D = has(in, 'D');
    bool w = has(in, 'w'), x = has(in, 'x'), y = has(in, 'y') || has(in, 'Y');
    if (in->year4 && M && d)
        return P_YMD;
    if (in->year4 && D)
        return P_YD;
    if (in->year4 && M && !w && !x)
        return P_MONTH;
    if (in->year4 && !M && !d && !w && !x)
        return P_YEAR;
    if (in->weekyear4 && w && !M && !d && !D && !y)
        return P_WEEK;
    return P_NONE;
}

bool index_name_dated(const struct index_name *in)
{
    return period_of(in) != P_NONE;
}

/* What parse found so far; fields as slices of the name. */
struct parse {
    const struct index_name *in;
    const char *name;
    size_t len;
    struct civil c;
    struct sl_slice vals[INDEX_NAME_FIELDS_MAX];
    unsigned steps;
    int64_t last_day; /* of the last reading verified */
    int found;        /* readings verified: 0, 1, 2 (two periods) */
    int64_t first_last;
};

static bool parse_from(struct parse *ps, unsigned k, size_t pos);

/* Sets the civil field of letter to v (a two-digit year says no year). */
static void set_field(struct civil *c, const struct tok *t, int64_t v)
{
    switch (t->letter) {
    case 'y':
    case 'Y':
        c->year = t->count == 2 ? c->year : v;
        break;
    case 'x':
        c->weekyear = t->count == 2 ? c->weekyear : v;
        break;
    case 'M':
        c->month = (int)v;
        break;
    case 'w':
        c->week = (int)v;
        break;
    case 'd':
        c->day = (int)v;
        break;
    case 'D':
        c->doy = (int)v;
        break;
    case 'H':
        c->hour = (int)v;
        break;
    case 'm':
        c->min = (int)v;
        break;
    default:
        c->sec = (int)v;
        break;
    }
}

/* Reads token t of date item k at name[pos], then the rest of the name.
 * A number may have from count to tok_max digits; each width is tried,
 * widest first, since adjacent numbers ("yyyyDDD") only split one way
 * that formats back. */
static bool parse_tok(struct parse *ps, unsigned k, unsigned t, size_t pos)
{
    const struct index_name *in = ps->in;
    const struct item *it = &in->items[k];
    if (++ps->steps > PARSE_STEPS_MAX)
        return false;
    if (t == it->len)
        return parse_from(ps, k + 1, pos);
    const struct tok *tk = &in->toks[it->off + t];
    const char *s = ps->name + pos;
    size_t n = ps->len - pos;
    struct civil saved = ps->c;
    if (tk->letter == 0)
        return n >= tk->len && memcmp(s, in->lit + tk->off, tk->len) == 0 &&
               parse_tok(ps, k, t + 1, pos + tk->len);
    if (tk->letter == 'M' && tk->count >= 3) {
        for (int m = 0; m < 12; m++) {
            size_t l = tk->count == 3 ? 3 : strlen(month_names[m]);
            if (n < l || memcmp(s, month_names[m], l) != 0)
                continue;
            ps->c.month = m + 1;
            if (parse_tok(ps, k, t + 1, pos + l))
                return true;
            ps->c = saved;
        }
        return false;
    }
    size_t digits = 0, hi = tok_max(tk);
    while (digits < n && digits < hi && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    for (size_t w = digits; w >= tk->count && w > 0; w--) {
        int64_t v = 0;
        for (size_t i = 0; i < w; i++)
            v = v * 10 + (s[i] - '0');
        set_field(&ps->c, tk, v);
        if (parse_tok(ps, k, t + 1, pos + w))
            return true;
        ps->c = saved;
    }
    return false;
}

/* The first and last day of the period the fields read say; false if
 * they are out of range. */
static bool period_days(const struct index_name *in, const struct civil *c,
                        int64_t *first, int64_t *last)
{
    if (c->year < 1 || c->year > 9999 || c->month < 1 || c->month > 12 ||
        c->weekyear < 1 || c->weekyear > 9999)
        return false;
    switch (period_of(in)) {
    case P_YMD:
        if (c->day < 1 || c->day > sl_days_in_month(c->year, c->month))
            return false;
        *first = *last = sl_days_from_civil(c->year, c->month, c->day);
        return true;
    case P_YD:
        if (c->doy < 1 || c->doy > (sl_is_leap(c->year) ? 366 : 365))
            return false;
        *first = *last = sl_days_from_civil(c->year, 1, 1) + c->doy - 1;
        return true;
    case P_MONTH:
        *first = sl_days_from_civil(c->year, c->month, 1);
        *last = *first + sl_days_in_month(c->year, c->month) - 1;
        return true;
    case P_YEAR:
        *first = sl_days_from_civil(c->year, 1, 1);
        *last = sl_days_from_civil(c->year, 12, 31);
        return true;
    case P_WEEK: {
        if (c->week < 1 || c->week > 53)
            return false;
        int64_t jan4 = sl_days_from_civil(c->weekyear, 1, 4);
        int wd = (int)(jan4 + 3 - sl_floor_div(jan4 + 3, 7) * 7) + 1;
        *first = jan4 - (wd - 1) + 7 * (c->week - 1);
        *last = *first + 6;
        return true;
    }
    default:
        return false;
    }
}

/* The whole name is read: does the time it says write it again? */
static bool parse_verify(struct parse *ps)
{
    const struct index_name *in = ps->in;
    const struct civil *c = &ps->c;
    int64_t first, last;
    if (c->hour > 23 || c->min > 59 || c->sec > 59 ||
        !period_days(in, c, &first, &last))
        return false;
    int64_t ts = first * DAY_MS + c->hour * 3600000LL + c->min * 60000LL +
                 c->sec * 1000LL;
    struct rendered r;
    struct index_name_value vals[INDEX_NAME_FIELDS_MAX];
    char out[INDEX_NAME_MAX + 1];
    render_all_dates(in, ts, &r);
    for (unsigned f = 0; f < in->nfields; f++) {
        vals[f].len = 0;
        index_name_value_add(&vals[f], ps->vals[f].ptr, ps->vals[f].len);
    }
    size_t n = assemble(in, &r, vals, out);
    if (n != ps->len || memcmp(out, ps->name, n) != 0)
        return false;
    ps->last_day = last;
    return true;
}

static bool parse_from(struct parse *ps, unsigned k, size_t pos)
{
    const struct index_name *in = ps->in;
    if (++ps->steps > PARSE_STEPS_MAX)
        return false;
    if (k == in->nitems) {
        if (pos != ps->len || !parse_verify(ps))
            return false;
        if (ps->found == 0) {
            ps->found = 1;
            ps->first_last = ps->last_day;
            return false; /* go on: is there another reading? */
        }
        if (ps->last_day == ps->first_last)
            return false;
        ps->found = 2; /* two periods: ambiguous, stop */
        return true;
    }
    const struct item *it = &in->items[k];
    if (it->kind == IT_LIT) {
        if (ps->len - pos < it->len ||
            memcmp(ps->name + pos, in->lit + it->off, it->len) != 0)
            return false;
        return parse_from(ps, k + 1, pos + it->len);
    }
    if (it->kind == IT_DATE)
        return parse_tok(ps, k, 0, pos);
    for (size_t end = pos + 1; end <= ps->len; end++) {
        if (!value_char((unsigned char)ps->name[end - 1]))
            return false;
        ps->vals[it->field] = (struct sl_slice){ps->name + pos, end - pos};
        struct civil saved = ps->c;
        if (parse_from(ps, k + 1, end))
            return true;
        ps->c = saved;
    }
    return false;
}

int index_name_parse(const struct index_name *in, const char *name, size_t len,
                     int64_t *last_day)
{
    if (period_of(in) == P_NONE || len == 0 || len > INDEX_NAME_MAX)
        return 0;
    struct parse ps = {.in = in, .name = name, .len = len};
    ps.c = (struct civil){.year = 1970,
                          .weekyear = 1970,
                          .month = 1,
                          .day = 1,
                          .doy = 1,
                          .week = 1};
    parse_from(&ps, 0, 0);
    if (ps.found != 1 || ps.steps > PARSE_STEPS_MAX)
        return 0;
    *last_day = ps.first_last;
    return 1;
}
