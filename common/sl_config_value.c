/* sl_config_value.c: the typed getters and the unknown-key check.
 *
 * Each getter finds its node (or gives the default), converts it, checks the
 * range, and otherwise fails through sl_config_error_expected() with a
 * description of what it accepts. Durations and sizes are parsed with exact
 * integer arithmetic ("1.5KiB" is 1536 bytes, "0.5ms" is refused rather
 * than rounded) and refuse anything that would overflow long long. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_config_priv.h"
#include "sl_suggest.h"

struct unit {
    const char *name;
    long long mult;
};

static const struct unit duration_units[] = {
    {"ms", 1},      {"s", 1000},       {"m", 60000},
    {"h", 3600000}, {"d", 86400000LL}, {NULL, 0},
};

static const struct unit size_units[] = {
    {"b", 1},
    {"kb", 1000LL},
    {"mb", 1000000LL},
    {"gb", 1000000000LL},
    {"tb", 1000000000000LL},
    {"kib", 1LL << 10},
    {"mib", 1LL << 20},
    {"gib", 1LL << 30},
    {"tib", 1LL << 40},
    {NULL, 0},
};

/* The member named key (or obj itself when key is NULL). Sets *n to NULL for
 * an absent member; fails when obj is something other than an object. */
static int lookup(const struct sl_config_node *obj, const char *key,
                  const struct sl_config_node **n, struct sl_err *err)
{
    *n = NULL;
    if (obj == NULL)
        return 0;
    if (key == NULL) {
        *n = obj;
        return 0;
    }
    if (obj->type != SL_CONFIG_OBJECT)
        return sl_config_error_expected(obj, err, "an object");
    *n = sl_config_get(obj, key);
    return 0;
}

/* A whole string that is a decimal integer, no spaces, no overflow. */
static bool parse_ll(const char *s, long long *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* digits[.digits]unit, exactly: "1.5s" with ms units is 1500. */
static bool parse_scaled(const char *s, const struct unit *units,
                         long long plain, long long *out)
{
    long long ip = 0, frac = 0, scale = 1;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if (__builtin_mul_overflow(ip, 10, &ip) ||
            __builtin_add_overflow(ip, *p - '0', &ip))
            return false;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale >= 1000000000LL)
                return false;
            frac = frac * 10 + (*p - '0');
            scale *= 10;
        }
    }
    long long mult = 0;
    if (*p == '\0')
        mult = plain;
    for (const struct unit *u = units; mult == 0 && u->name != NULL; u++)
        if (strcasecmp(p, u->name) == 0)
            mult = u->mult;
    long long v, f;
    if (mult == 0 || __builtin_mul_overflow(ip, mult, &v) ||
        __builtin_mul_overflow(frac, mult, &f) || f % scale != 0 ||
        __builtin_add_overflow(v, f / scale, &v))
        return false;
    *out = v;
    return true;
}

/* "1h", "1500ms": the largest unit that divides v exactly. */
static void render_scaled(char *buf, size_t size, long long v,
                          const struct unit *units, const char *const *shown)
{
    int best = 0;
    for (int i = 0; units[i].name != NULL; i++)
        if (shown[i] != NULL && v != 0 && v % units[i].mult == 0 &&
            units[i].mult > units[best].mult)
            best = i;
    snprintf(buf, size, "%lld%s", v / units[best].mult, shown[best]);
}

static const char *const duration_names[] = {"ms", "s", "m", "h", "d"};
static const char *const size_names[] = {"",    NULL,  NULL,  NULL, NULL,
                                         "KiB", "MiB", "GiB", "TiB"};

/* " from 1s to 1h", " of at least 1", "" for an unbounded range. */
static void range_text(char *buf, size_t size, long long min, long long max,
                       long long lowest, const struct unit *units,
                       const char *const *shown)
{
    char a[32], b[32];
    if (units != NULL) {
        render_scaled(a, sizeof a, min, units, shown);
        render_scaled(b, sizeof b, max, units, shown);
    } else {
        snprintf(a, sizeof a, "%lld", min);
        snprintf(b, sizeof b, "%lld", max);
    }
    if (min <= lowest && max == LLONG_MAX)
        buf[0] = '\0';
    else if (max == LLONG_MAX)
        snprintf(buf, size, " of at least %s", a);
    else if (min <= lowest)
        snprintf(buf, size, " of at most %s", b);
    else
        snprintf(buf, size, " from %s to %s", a, b);
}

void sl_config_expected_text(char *buf, size_t size, enum sl_config_kind kind,
                             long long min, long long max)
{
    char range[96];
    if (kind == SL_CONFIG_KIND_INT)
        range_text(range, sizeof range, min, max, LLONG_MIN, NULL, NULL);
    else if (kind == SL_CONFIG_KIND_DURATION)
        range_text(range, sizeof range, min, max, 0, duration_units,
                   duration_names);
    else
        range_text(range, sizeof range, min, max, 0, size_units, size_names);
    static const char *const what[] = {"an integer", "a duration", "a size"};
    snprintf(buf, size, "%s%s", what[kind], range);
}

int sl_config_int(const struct sl_config_node *obj, const char *key,
                  long long def, long long min, long long max, long long *out,
                  struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    long long v = def;
    bool ok = true;
    if (n != NULL && n->type == SL_CONFIG_INT)
        v = n->u.i;
    else if (n != NULL && n->type == SL_CONFIG_STRING)
        ok = parse_ll(n->u.str.s, &v);
    else if (n != NULL)
        ok = false;
    if (!ok || (n != NULL && (v < min || v > max))) {
        char range[96];
        range_text(range, sizeof range, min, max, LLONG_MIN, NULL, NULL);
        return sl_config_error_expected(n, err, "an integer%s", range);
    }
    *out = v;
    return 0;
}

int sl_config_double(const struct sl_config_node *obj, const char *key,
                     double def, double min, double max, double *out,
                     struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    double v = def;
    bool ok = true;
    if (n != NULL && n->type == SL_CONFIG_INT) {
        v = (double)n->u.i;
    } else if (n != NULL && n->type == SL_CONFIG_DOUBLE) {
        v = n->u.d;
    } else if (n != NULL && n->type == SL_CONFIG_STRING) {
        char *end;
        errno = 0;
        v = strtod(n->u.str.s, &end);
        ok = n->u.str.s[0] != '\0' && *end == '\0' && errno == 0 && isfinite(v);
    } else if (n != NULL) {
        ok = false;
    }
    if (!ok || (n != NULL && !(v >= min && v <= max)))
        return sl_config_error_expected(n, err, "a number from %g to %g", min,
                                        max);
    *out = v;
    return 0;
}

int sl_config_bool(const struct sl_config_node *obj, const char *key, bool def,
                   bool *out, struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    if (n == NULL)
        *out = def;
    else if (n->type == SL_CONFIG_BOOL)
        *out = n->u.b;
    else if (n->type == SL_CONFIG_STRING && strcmp(n->u.str.s, "true") == 0)
        *out = true;
    else if (n->type == SL_CONFIG_STRING && strcmp(n->u.str.s, "false") == 0)
        *out = false;
    else
        return sl_config_error_expected(n, err, "true or false");
    return 0;
}

/* 0.25 seconds is 250ms; 0.0005 seconds is not a whole number of ms. */
static bool exact_double(double x, long long *out)
{
    if (!(x >= -9e18 && x <= 9e18) || fabs(x - nearbyint(x)) > 1e-6)
        return false;
    *out = llrint(x);
    return true;
}

/* Shared by durations and sizes: an integer, or a string with a unit. */
static int scaled(const struct sl_config_node *n, long long def, long long min,
                  long long max, long long *out, const struct unit *units,
                  long long plain, const char *const *shown, const char *what,
                  const char *examples, struct sl_err *err)
{
    long long v = def;
    bool ok = true;
    if (n != NULL && n->type == SL_CONFIG_INT)
        ok = !__builtin_mul_overflow(n->u.i, plain, &v);
    else if (n != NULL && n->type == SL_CONFIG_STRING)
        ok = parse_scaled(n->u.str.s, units, plain, &v);
    else if (n != NULL && n->type == SL_CONFIG_DOUBLE && plain > 1)
        ok = exact_double(n->u.d * (double)plain, &v);
    else if (n != NULL)
        ok = false;
    if (!ok || (n != NULL && (v < min || v > max))) {
        char range[96];
        range_text(range, sizeof range, min, max, 0, units, shown);
        return sl_config_error_expected(n, err, "%s%s (such as %s)", what,
                                        range, examples);
    }
    *out = v;
    return 0;
}

int sl_config_duration_ms(const struct sl_config_node *obj, const char *key,
                          long long def, long long min, long long max,
                          long long *out, struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    return scaled(n, def, min, max, out, duration_units, 1000, duration_names,
                  "a duration",
                  "\"250ms\", \"5s\", \"2m\", \"1h\" or a number of seconds",
                  err);
}

int sl_config_bytes(const struct sl_config_node *obj, const char *key,
                    long long def, long long min, long long max, long long *out,
                    struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    return scaled(n, def, min, max, out, size_units, 1, size_names, "a size",
                  "\"512KiB\", \"1MiB\", \"10MB\" or a number of bytes", err);
}

int sl_config_string(const struct sl_config_node *obj, const char *key,
                     const char *def, const char **out, struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    if (n == NULL) {
        *out = def;
        return 0;
    }
    if (n->type != SL_CONFIG_STRING || strlen(n->u.str.s) != n->u.str.len)
        return sl_config_error_expected(
            n, err, "a string%s",
            n->type == SL_CONFIG_STRING ? " without \\u0000" : "");
    *out = n->u.str.s;
    return 0;
}

/* The word closest to s if it is close enough to be a likely typo. */
static const char *suggest(const char *s, size_t len, const char *const words[])
{
    const char *best = NULL;
    size_t best_d = 8;
    for (size_t i = 0; words[i] != NULL; i++) {
        size_t wl = strlen(words[i]);
        size_t d = sl_edit_distance(s, len, words[i], wl);
        if (d < best_d && d * 3 <= (len > wl ? len : wl)) {
            best = words[i];
            best_d = d;
        }
    }
    return best;
}

/* "\"text\", \"json\"" into buf, cut to fit. */
static void list_words(char *buf, size_t size, const char *const words[],
                       char quote)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; words[i] != NULL && o < size; i++) {
        int w = snprintf(buf + o, size - o, "%s%c%s%c", i > 0 ? ", " : "",
                         quote, words[i], quote);
        o += w > 0 ? (size_t)w : 0;
    }
}

int sl_config_enum(const struct sl_config_node *obj, const char *key,
                   const char *const words[], int def, int *out,
                   struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    if (n == NULL) {
        *out = def;
        return 0;
    }
    if (n->type == SL_CONFIG_STRING) {
        for (int i = 0; words[i] != NULL; i++) {
            if (strcmp(n->u.str.s, words[i]) == 0) {
                *out = i;
                return 0;
            }
        }
    }
    char list[300], hint[96] = "";
    list_words(list, sizeof list, words, '"');
    const char *close = n->type == SL_CONFIG_STRING
                            ? suggest(n->u.str.s, n->u.str.len, words)
                            : NULL;
    if (close != NULL)
        snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", close);
    return sl_config_error_expected(n, err, "one of %s%s", list, hint);
}

static int container(const struct sl_config_node *obj, const char *key,
                     enum sl_config_type type,
                     const struct sl_config_node **out, struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return -1;
    if (n != NULL && n->type != type)
        return sl_config_error_expected(
            n, err, type == SL_CONFIG_ARRAY ? "an array" : "an object");
    *out = n;
    return 0;
}

int sl_config_array(const struct sl_config_node *obj, const char *key,
                    const struct sl_config_node **out, struct sl_err *err)
{
    return container(obj, key, SL_CONFIG_ARRAY, out, err);
}

int sl_config_object(const struct sl_config_node *obj, const char *key,
                     const struct sl_config_node **out, struct sl_err *err)
{
    return container(obj, key, SL_CONFIG_OBJECT, out, err);
}

const struct sl_config_node *sl_config_require(const struct sl_config_node *obj,
                                               const char *key,
                                               struct sl_err *err)
{
    const struct sl_config_node *n;
    if (lookup(obj, key, &n, err) < 0)
        return NULL;
    if (n == NULL) {
        if (obj == NULL)
            sl_err_set(err, SL_EINVAL, "missing required key '%s'", key);
        else
            sl_config_error(obj, err, "missing required key '%s'", key);
    }
    return n;
}

/* Keys Logstash's and Filebeat's redis sections take, met in a "redis"
 * object of ours, which has a url for them: what to write instead. NULL:
 * not one of them. */
static const char *url_part(const struct sl_config_node *obj,
                            const struct sl_config_node *m)
{
    static const struct {
        const char *key, *what;
    } parts[] = {
        {"password", "the password goes in url: redis://:PASSWORD@HOST:PORT "
                     "(USER:PASSWORD@ for an ACL user), the password from "
                     "the environment: ${REDIS_PASSWORD}"},
        {"username", "the user goes in url: redis://USER:PASSWORD@HOST:PORT"},
        {"host", "the address goes in url: redis://HOST:PORT/DB"},
        {"hosts", "the address goes in url: redis://HOST:PORT/DB"},
        {"port", "the address goes in url: redis://HOST:PORT/DB"},
        {"db", "the database goes in url: redis://HOST:PORT/DB"},
    };
    if (obj->key == NULL || strcmp(obj->key, "redis") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strlen(parts[i].key) == m->key_len &&
            memcmp(parts[i].key, m->key, m->key_len) == 0)
            return parts[i].what;
    return NULL;
}

int sl_config_check_keys(const struct sl_config_node *obj,
                         const char *const known[], struct sl_err *err)
{
    if (obj == NULL)
        return 0;
    if (obj->type != SL_CONFIG_OBJECT)
        return sl_config_error_expected(obj, err, "an object");
    for (size_t i = 0; i < obj->u.kids.n; i++) {
        const struct sl_config_node *m = obj->u.kids.items[i];
        size_t k = 0;
        while (known[k] != NULL && !(strlen(known[k]) == m->key_len &&
                                     memcmp(known[k], m->key, m->key_len) == 0))
            k++;
        if (known[k] != NULL)
            continue;
        char key[200], hint[300];
        sl_text_quote(key, sizeof key, m->key, m->key_len, '\'');
        const char *close = suggest(m->key, m->key_len, known);
        const char *part = url_part(obj, m);
        if (part != NULL)
            return sl_config_error_at(m, true, SL_EINVAL, err,
                                      "unknown key %s: %s", key, part);
        if (known[0] == NULL) {
            snprintf(hint, sizeof hint, "this object takes no keys");
        } else if (close != NULL) {
            snprintf(hint, sizeof hint, "did you mean '%s'?", close);
        } else {
            char list[280];
            list_words(list, sizeof list, known, '\'');
            snprintf(hint, sizeof hint, "known keys: %s", list);
        }
        return sl_config_error_at(m, true, SL_EINVAL, err,
                                  "unknown key %s (%s)", key, hint);
    }
    return 0;
}
