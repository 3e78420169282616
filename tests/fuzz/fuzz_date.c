/* fuzz_date.c: date formats and texts, both from the input. Byte 0 picks
 * the default zone and "now"; the formats follow, separated by '\n', up to
 * the first NUL; then texts, separated by NULs. A format list that does not
 * compile must say why. Each text is parsed twice: by the sl_date that has
 * seen the texts before it (its caches warm) and by one compiled afresh, and
 * both must agree, so a cache hit can never differ from a full parse; so
 * are texts one digit shorter or longer, which meet the cache entry the
 * text left behind. A text that parses must write as 24 characters of ISO
 * 8601 that ISO8601 reads back to the same millisecond. Inputs are bounded to 4
 * KiB and 16 texts, so findings are bugs, not slowness. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FORMATS_MAX   4
#define TEXTS_MAX     16
#define NEIGHBOUR_MAX 64

static const char *const zones[8] = {
    NULL,    "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
    "+0530", "-08:00",        "Asia/Kolkata",     "UTC"};

static const int64_t nows[4] = {
    1795402000000LL, /* 2026-11-23 */
    1799020800000LL, /* 2027-01-04 */
    1797033600000LL, /* 2026-12-20 */
    0,
};

static bool iso_shaped(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != 24)
        return false;
    for (size_t i = 0; i < 24; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    return true;
}

static void check_text(struct sl_date *warm, struct sl_date *iso,
                       const char *const *fmts, size_t nfmt, const char *tz,
                       int64_t now, const char *s, size_t len)
{
    int64_t a = 0, b = 0, c = 0;
    int ra = sl_date_parse_at(warm, s, len, now, &a);
    struct sl_date *cold = sl_date_compile(fmts, nfmt, tz, NULL);
    if (cold == NULL)
        abort();
    int rb = sl_date_parse_at(cold, s, len, now, &b);
    sl_date_free(cold);
    if (ra != rb || a != b)
        abort();
    if (ra != 0)
        return;
    char out[SL_DATE_ISO8601_SIZE];
    if (sl_date_format_iso8601_ms(a, out) != 0 || !iso_shaped(out))
        abort();
    if (sl_date_parse_at(iso, out, 24, now, &c) != 0 || c != a)
        abort();
}

/* Texts one digit shorter or longer than one just parsed, at its last two
 * digits: where a cache keyed on the bytes around a fraction would go wrong
 * if its key were cut in the wrong place. */
static void check_neighbours(struct sl_date *warm, struct sl_date *iso,
                             const char *const *fmts, size_t nfmt,
                             const char *tz, int64_t now, const char *s,
                             size_t len)
{
    char v[NEIGHBOUR_MAX + 1];
    int done = 0;
    if (len > NEIGHBOUR_MAX)
        return;
    for (size_t i = len; i-- > 0 && done < 2;) {
        if (s[i] < '0' || s[i] > '9')
            continue;
        done++;
        memcpy(v, s, i);
        memcpy(v + i, s + i + 1, len - i - 1);
        check_text(warm, iso, fmts, nfmt, tz, now, v, len - 1);
        memcpy(v, s, i + 1);
        memcpy(v + i + 1, s + i, len - i);
        check_text(warm, iso, fmts, nfmt, tz, now, v, len + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const char *tz = zones[data[0] & 7];
    int64_t now = nows[(data[0] >> 3) & 3];
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    size_t flen = (size_t)((nul != NULL ? nul : end) - p);

    char *buf = malloc(flen + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, p, flen);
    buf[flen] = '\0';
    const char *fmts[FORMATS_MAX];
    size_t nfmt = 0;
    for (char *f = buf; nfmt < FORMATS_MAX;) {
        fmts[nfmt++] = f;
        char *nl = strchr(f, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        f = nl + 1;
    }

    struct sl_err err;
    err.msg[0] = '\0';
    struct sl_date *warm = sl_date_compile(fmts, nfmt, tz, &err);
    if (warm == NULL) {
        if (err.msg[0] == '\0')
            abort();
        free(buf);
        return 0;
    }
    const char *iso_fmt[1] = {"ISO8601"};
    struct sl_date *iso = sl_date_compile(iso_fmt, 1, NULL, NULL);
    if (iso == NULL)
        abort();
    p = nul != NULL ? nul + 1 : end;
    for (int n = 0; n < TEXTS_MAX && p < end; n++) {
        const char *t = memchr(p, '\0', (size_t)(end - p));
        size_t len = (size_t)((t != NULL ? t : end) - p);
        check_text(warm, iso, fmts, nfmt, tz, now, p, len);
        check_neighbours(warm, iso, fmts, nfmt, tz, now, p, len);
        p += len + 1;
    }
    sl_date_free(iso);
    sl_date_free(warm);
    free(buf);
    return 0;
}
