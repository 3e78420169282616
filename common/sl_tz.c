/* sl_tz.c: see sl_tz.h.
 *
 * A TZif file (RFC 8536) is read once, whole, and turned into two arrays:
 * transition times (UTC seconds, strictly increasing) and the offset in
 * effect after each. Before the first transition, time type 0 applies; after
 * the last, the footer's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), so
 * dates past 2037 in Debian's "fat" files, or past the last listed change in
 * "slim" ones, still follow the zone's daylight-saving rule. Version 1 files
 * (no footer, 32-bit times) are read too; the last offset then holds forever.
 *
 * The rule is evaluated on demand: the transitions of the year of t and of
 * the years either side, six instants, sorted. That costs a little on every
 * lookup past the table, and saves expanding the rule into a table up to a
 * year nobody asked for.
 *
 * Local to UTC walks the offset segments that cover the UTC instants a local
 * time could denote (local -+ 26 h) in time order and takes the first whose
 * offset maps the local time into it: the earliest instant, as Joda-Time
 * chooses in an overlap; none means a gap. The walk is capped, so a crafted
 * file with a transition every second cannot make it long.
 *
 * Not here: leap seconds (the "right/" zones are refused), zone
 * abbreviations (EST, CEST: ambiguous, and not needed to compute an
 * instant), and zone aliases beyond what tzdata ships as files. */
#include "sl_tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_ascii.h"
#include "sl_file.h"

#define FILE_MAX  (256 * 1024) /* the largest tzdata file is about 4 KiB */
#define TRANS_MAX (1 << 16)
#define WALK_MAX  64
#define RULE_T_MAX                                                             \
    ((int64_t)1 << 43) /* ~278,000 years: keeps rule math exact */

/* A POSIX TZ rule date: Jn (1..365, Feb 29 never counted), n (0..365), or
 * Mm.w.d (weekday d of week w of month m; w 5 is the last). */
struct rule_date {
    char kind; /* 'J', 'N' or 'M' */
    int m, w, d;
    int32_t time; /* seconds after local midnight; may be < 0 or > 24 h */
};

struct rule {
    int32_t std_off, dst_off; /* seconds east */
    bool has_dst;
    struct rule_date start, end; /* start in standard time, end in DST */
};

struct sl_tz {
    char name[SL_TZ_NAME_MAX + 1];
    bool fixed;
    int32_t off; /* the fixed offset, or the offset before trans[0] */
    size_t ntrans;
    int64_t *trans;     /* UTC seconds, strictly increasing */
    int32_t *trans_off; /* offset from trans[i] on */
    bool has_rule;      /* the footer rule applies from trans[ntrans-1] on */
    struct rule rule;
};

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Two digits at s[i], at most max. */
static bool read2(const char *s, size_t len, size_t i, int max, int *v)
{
    if (i + 2 > len || !sl_ascii_digit(s[i]) || !sl_ascii_digit(s[i + 1]))
        return false;
    *v = two_digits(s + i);
    return *v <= max;
}

size_t sl_tz_parse_offset(const char *s, size_t len, int32_t *off)
{
    int h, m = 0, sec = 0;
    if (len >= 1 && (s[0] == 'Z' || s[0] == 'z')) {
        *off = 0;
        return 1;
    }
    if (len < 3 || (s[0] != '+' && s[0] != '-') || !read2(s, len, 1, 23, &h))
        return 0;
    size_t i = 3;
    if (i < len && (s[i] == ':' || sl_ascii_digit(s[i]))) {
        bool sep = s[i] == ':';
        i += sep;
        if (!read2(s, len, i, 59, &m))
            return 0;
        i += 2;
        if (i < len && (sep ? s[i] == ':' : sl_ascii_digit(s[i]))) {
            i += sep;
            if (!read2(s, len, i, 59, &sec))
                return 0;
            i += 2;
        }
    }
    int32_t v = h * 3600 + m * 60 + sec;
    *off = s[0] == '-' ? -v : v;
    return i;
}

/* ---- the footer rule ------------------------------------------------- */

struct pcur {
    const char *p, *end;
};

static bool p_name(struct pcur *c)
{
    const char *start = c->p;
    if (c->p < c->end && *c->p == '<') {
        c->p++;
        while (c->p < c->end &&
               (sl_ascii_alpha(*c->p) || sl_ascii_digit(*c->p) ||
                *c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p == c->end || *c->p != '>' || c->p - start < 2)
            return false;
        c->p++;
        return true;
    }
    while (c->p < c->end && sl_ascii_alpha(*c->p))
        c->p++;
    return c->p - start >= 3;
}

/* [+-]h[h[h]][:mm[:ss]], hours at most max_h; seconds in *v (sign kept). */
static bool p_hms(struct pcur *c, int max_h, int32_t *v)
{
    int sign = 1;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
        sign = *c->p++ == '-' ? -1 : 1;
    int h = 0, n = 0;
    while (c->p < c->end && sl_ascii_digit(*c->p) && n < 3) {
        h = h * 10 + (*c->p++ - '0');
        n++;
    }
    if (n == 0 || h > max_h)
        return false;
    int32_t t = h * 3600;
    for (int part = 0; part < 2; part++) {
        int x;
        if (c->p >= c->end || *c->p != ':')
            break;
        if (!read2(c->p, (size_t)(c->end - c->p), 1, 59, &x))
            return false;
        t += part == 0 ? x * 60 : x;
        c->p += 3;
    }
    *v = sign * t;
    return true;
}

static bool p_num(struct pcur *c, int lo, int hi, int *v)
{
    int x = 0, n = 0;
    while (c->p < c->end && sl_ascii_digit(*c->p) && n < 4) {
        x = x * 10 + (*c->p++ - '0');
        n++;
    }
    *v = x;
    return n > 0 && x >= lo && x <= hi;
}

static bool p_rule_date(struct pcur *c, struct rule_date *r)
{
    if (c->p >= c->end)
        return false;
    if (*c->p == 'J') {
        c->p++;
        r->kind = 'J';
        if (!p_num(c, 1, 365, &r->d))
            return false;
    } else if (*c->p == 'M') {
        c->p++;
        r->kind = 'M';
        if (!p_num(c, 1, 12, &r->m) || c->p >= c->end || *c->p++ != '.' ||
            !p_num(c, 1, 5, &r->w) || c->p >= c->end || *c->p++ != '.' ||
            !p_num(c, 0, 6, &r->d))
            return false;
    } else {
        r->kind = 'N';
        if (!p_num(c, 0, 365, &r->d))
            return false;
    }
    r->time = 7200;
    if (c->p < c->end && *c->p == '/') {
        c->p++;
        return p_hms(c, 167, &r->time); /* RFC 8536 extends POSIX to 167 */
    }
    return true;
}

/* "std offset [dst [offset] ,start[/time],end[/time]]". DST without rules
 * is refused (tzdata always writes them). */
static bool parse_rule(const char *s, size_t len, struct rule *r)
{
    struct pcur c = {s, s + len};
    int32_t v;
    memset(r, 0, sizeof *r);
    if (!p_name(&c) || !p_hms(&c, 24, &v))
        return false;
    r->std_off = -v;
    if (c.p == c.end)
        return true;
    if (!p_name(&c))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (c.p < c.end && *c.p != ',') {
        if (!p_hms(&c, 24, &v))
            return false;
        r->dst_off = -v;
    }
    if (c.p == c.end || *c.p++ != ',' || !p_rule_date(&c, &r->start) ||
        c.p == c.end || *c.p++ != ',' || !p_rule_date(&c, &r->end))
        return false;
    return c.p == c.end;
}

/* Local seconds at which rule date r falls in year y. */
static int64_t rule_local(int64_t y, const struct rule_date *r)
{
    int64_t jan1 = sl_days_from_civil(y, 1, 1), day;
    if (r->kind == 'J') {
        day = jan1 + r->d - 1 + (sl_is_leap(y) && r->d >= 60);
    } else if (r->kind == 'N') {
        day = jan1 + r->d;
    } else {
        int64_t first = sl_days_from_civil(y, r->m, 1);
        int64_t wd = (first + 4) % 7; /* 1970-01-01 was a Thursday */
        if (wd < 0)
            wd += 7;
        day = first + (r->d - wd + 7) % 7 + 7 * (r->w - 1);
        while (day >= first + sl_days_in_month(y, r->m))
            day -= 7;
    }
    return day * 86400 + r->time;
}

struct rule_tr {
    int64_t t;
    int32_t off;
    int dst; /* at equal instants the change to DST sorts last and wins */
};

static int32_t rule_offset(const struct rule *r, int64_t t, int64_t *next)
{
    *next = INT64_MAX;
    if (!r->has_dst)
        return r->std_off;
    if (t > RULE_T_MAX)
        t = RULE_T_MAX;
    if (t < -RULE_T_MAX)
        t = -RULE_T_MAX;
    int64_t y;
    int m, d;
    sl_civil_from_days(sl_floor_div(t, 86400), &y, &m, &d);
    struct rule_tr tr[6];
    int n = 0;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        tr[n++] = (struct rule_tr){rule_local(yy, &r->start) - r->std_off,
                                   r->dst_off, 1};
        tr[n++] = (struct rule_tr){rule_local(yy, &r->end) - r->dst_off,
                                   r->std_off, 0};
    }
    for (int i = 1; i < n; i++) {
        struct rule_tr x = tr[i];
        int j = i;
        while (j > 0 && (tr[j - 1].t > x.t ||
                         (tr[j - 1].t == x.t && tr[j - 1].dst > x.dst))) {
            tr[j] = tr[j - 1];
            j--;
        }
        tr[j] = x;
    }
    int32_t off = tr[0].dst ? r->std_off : r->dst_off;
    for (int i = 0; i < n; i++) {
        if (tr[i].t > t) {
            *next = tr[i].t;
            break;
        }
        off = tr[i].off;
    }
    return off;
}

/* The offset at t, and in *next the next instant it may change. */
static int32_t offset_next(const struct sl_tz *tz, int64_t t, int64_t *next)
{
    size_t n = tz->ntrans;
    if (tz->fixed) {
        *next = INT64_MAX;
        return tz->off;
    }
    if (n == 0 && tz->has_rule)
        return rule_offset(&tz->rule, t, next);
    if (n == 0 || t < tz->trans[0]) {
        *next = n > 0 ? tz->trans[0] : INT64_MAX;
        return tz->off;
    }
    size_t lo = 0, hi = n; /* tz->trans[lo] <= t < tz->trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 < n) {
        *next = tz->trans[lo + 1];
        return tz->trans_off[lo];
    }
    if (tz->has_rule)
        return rule_offset(&tz->rule, t, next);
    *next = INT64_MAX;
    return tz->trans_off[n - 1];
}

int32_t sl_tz_offset_at(const struct sl_tz *tz, int64_t t)
{
    int64_t next;
    return offset_next(tz, t, &next);
}

int sl_tz_local_to_utc(const struct sl_tz *tz, int64_t local, int64_t *utc)
{
    if (tz->fixed) {
        *utc = local - tz->off;
        return 0;
    }
    if (local > RULE_T_MAX || local < -RULE_T_MAX)
        return -1;
    int64_t seg = local - SL_TZ_OFF_MAX, last = local + SL_TZ_OFF_MAX;
    int64_t next;
    int32_t off = offset_next(tz, seg, &next);
    for (int i = 0; i < WALK_MAX; i++) {
        int64_t cand = local - off;
        if (cand >= seg && cand < next) {
            *utc = cand;
            return 0;
        }
        if (next > last)
            break;
        seg = next;
        off = offset_next(tz, seg, &next);
    }
    return -1;
}

bool sl_tz_fixed(const struct sl_tz *tz, int32_t *off)
{
    *off = tz->off;
    return tz->fixed;
}

const char *sl_tz_name(const struct sl_tz *tz)
{
    return tz->name;
}

void sl_tz_free(struct sl_tz *tz)
{
    if (tz == NULL)
        return;
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}

/* ---- TZif ------------------------------------------------------------- */

struct tzif_hdr {
    char version; /* 0, '2', '3', '4' */
    uint64_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static const char *read_hdr(const unsigned char *p, size_t len,
                            struct tzif_hdr *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return "not a TZif file";
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > TRANS_MAX ||
        h->charcnt > 65536 || h->leapcnt > 65536 ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return "bad TZif header counts";
    return NULL;
}

static uint64_t block_size(const struct tzif_hdr *h, unsigned tsize)
{
    return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads the data block at p (times of tsize bytes) into tz. */
static const char *read_block(const unsigned char *p, const struct tzif_hdr *h,
                              unsigned tsize, struct sl_tz *tz)
{
    const unsigned char *times = p, *idx = p + h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt;
    int32_t offs[256];
    if (h->leapcnt > 0)
        return "it has leap-second records; use the zone without the "
               "right/ prefix";
    for (size_t i = 0; i < h->typecnt; i++) {
        int32_t o = (int32_t)be32(types + 6 * i);
        if (o < -SL_TZ_OFF_MAX || o > SL_TZ_OFF_MAX)
            return "an offset is beyond 25:59:59";
        offs[i] = o;
    }
    tz->ntrans = h->timecnt;
    tz->off = offs[0];
    if (h->timecnt == 0)
        return NULL;
    tz->trans = malloc(h->timecnt * sizeof *tz->trans);
    tz->trans_off = malloc(h->timecnt * sizeof *tz->trans_off);
    if (tz->trans == NULL || tz->trans_off == NULL)
        return "out of memory";
    for (size_t i = 0; i < h->timecnt; i++) {
        int64_t t = tsize == 8 ? be64(times + 8 * i)
                               : (int64_t)(int32_t)be32(times + 4 * i);
        if (idx[i] >= h->typecnt)
            return "a transition names a missing time type";
        if (i > 0 && t <= tz->trans[i - 1])
            return "transitions are out of order";
        tz->trans[i] = t;
        tz->trans_off[i] = offs[idx[i]];
    }
    return NULL;
}

static const char *parse_tzif(const unsigned char *p, size_t len,
                              struct sl_tz *tz)
{
    struct tzif_hdr h;
    const char *why = read_hdr(p, len, &h);
    if (why != NULL)
        return why;
    uint64_t size = block_size(&h, 4);
    if (size > len - 44)
        return "the file is cut short";
    if (h.version == 0)
        return read_block(p + 44, &h, 4, tz);
    p += 44 + size;
    len -= 44 + size;
    if ((why = read_hdr(p, len, &h)) != NULL)
        return why;
    size = block_size(&h, 8);
    if (size > len - 44)
        return "the file is cut short";
    if ((why = read_block(p + 44, &h, 8, tz)) != NULL)
        return why;
    const char *foot = (const char *)p + 44 + size;
    const char *end = (const char *)p + len;
    if (foot == end)
        return NULL; /* no footer: the last offset holds */
    const char *nl = foot + 1 < end
                         ? memchr(foot + 1, '\n', (size_t)(end - foot - 1))
                         : NULL;
    if (*foot != '\n' || nl == NULL)
        return "its footer is not a newline-enclosed TZ string";
    if (nl == foot + 1)
        return NULL;
    if (!parse_rule(foot + 1, (size_t)(nl - foot - 1), &tz->rule))
        return "its footer TZ rule does not parse";
    tz->has_rule = true;
    return NULL;
}

static bool valid_id(const char *s, size_t len)
{
    bool start = true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '/') {
            if (start)
                return false;
            start = true;
        } else if (start) {
            if (!sl_ascii_alpha(c))
                return false;
            start = false;
        } else if (!sl_ascii_alpha(c) && !sl_ascii_digit(c) && c != '_' &&
                   c != '-' && c != '+') {
            return false;
        }
    }
    return !start;
}

#define HINT                                                                   \
    "use an IANA name such as Europe/Berlin, UTC, or an offset such as "       \
    "+01:00"

static struct sl_tz *new_tz(const char *name, size_t len, struct sl_err *err)
{
    struct sl_tz *tz = calloc(1, sizeof *tz);
    if (tz == NULL)
        sl_err_set(err, SL_ENOMEM, "time zone '%.*s': out of memory", (int)len,
                   name);
    else
        memcpy(tz->name, name, len);
    return tz;
}

struct sl_tz *sl_tz_from_tzif(const char *name, size_t name_len,
                              const void *data, size_t len, struct sl_err *err)
{
    if (name_len > SL_TZ_NAME_MAX)
        name_len = SL_TZ_NAME_MAX;
    struct sl_tz *tz = new_tz(name, name_len, err);
    if (tz == NULL)
        return NULL;
    const char *why = parse_tzif(data, len, tz);
    if (why == NULL)
        return tz;
    sl_err_set(err, SL_EINVAL, "time zone '%s': %s", tz->name, why);
    sl_tz_free(tz);
    return NULL;
}

/* Not found, a directory (a zone group such as "America") or not a
 * regular file all mean: no such zone. */
static void say_unreadable(const char *name, size_t name_len, const char *path,
                           struct sl_err *err)
{
    int e = errno;
    if (e == ENOENT || e == ENOTDIR || e == EISDIR || e == EINVAL)
        sl_err_set(err, SL_EINVAL,
                   "time zone '%.*s': no such zone in %s; " HINT, (int)name_len,
                   name, SL_TZ_DIR);
    else if (e == EFBIG)
        sl_err_set(err, SL_EINVAL,
                   "time zone '%.*s': %s is larger than %d bytes, so not a "
                   "zone file",
                   (int)name_len, name, path, FILE_MAX);
    else
        sl_err_prefix(err, "time zone '%.*s'", (int)name_len, name);
}

static struct sl_tz *load_file(const char *name, size_t name_len,
                               struct sl_err *err)
{
    char path[sizeof SL_TZ_DIR + SL_TZ_NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%.*s", SL_TZ_DIR, (int)name_len, name);
    struct sl_buf b = SL_BUF_INIT(FILE_MAX);
    if (sl_file_read(path, NULL, FILE_MAX, &b, err) < 0) {
        say_unreadable(name, name_len, path, err);
        sl_buf_release(&b);
        return NULL;
    }
    struct sl_tz *tz = new_tz(name, name_len, err);
    const char *why =
        tz != NULL ? parse_tzif((const unsigned char *)b.ptr, b.len, tz) : NULL;
    sl_buf_release(&b);
    if (why != NULL) {
        sl_err_set(err, SL_EINVAL, "time zone '%s': %s: %s", tz->name, path,
                   why);
        sl_tz_free(tz);
        return NULL;
    }
    return tz;
}

struct sl_tz *sl_tz_load(const char *name, size_t len, struct sl_err *err)
{
    struct sl_tz *tz;
    if (len == 0) {
        sl_err_set(err, SL_EINVAL, "time zone '': empty; " HINT);
        return NULL;
    }
    if (len > SL_TZ_NAME_MAX) {
        sl_err_set(err, SL_EINVAL,
                   "time zone '%.*s...': longer than %d bytes; " HINT, 20, name,
                   SL_TZ_NAME_MAX);
        return NULL;
    }
    if (name[0] == '+' || name[0] == '-' ||
        (len == 3 && !memcmp(name, "UTC", 3))) {
        int32_t off = 0;
        if (name[0] != 'U' && sl_tz_parse_offset(name, len, &off) != len) {
            sl_err_set(err, SL_EINVAL,
                       "time zone '%.*s': not an offset; write +hh:mm, "
                       "+hhmm or +hh (hours up to 23), such as +01:00",
                       (int)len, name);
            return NULL;
        }
        if ((tz = new_tz(name, len, err)) != NULL) {
            tz->fixed = true;
            tz->off = off;
        }
        return tz;
    }
    if (len == 3 && strncasecmp(name, "UTC", 3) == 0) {
        sl_err_set(err, SL_EINVAL, "time zone '%.*s': write UTC, in capitals",
                   (int)len, name);
        return NULL;
    }
    if (!valid_id(name, len)) {
        sl_err_set(err, SL_EINVAL,
                   "time zone '%.*s': not a zone name (letters, digits, '_', "
                   "'-' and '+' in parts separated by '/'); " HINT,
                   (int)len, name);
        return NULL;
    }
    return load_file(name, len, err);
}
