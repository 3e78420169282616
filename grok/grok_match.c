/* grok_match.c: matching lines, reading captures, typed conversion, counters.
 *
 * The hot path is grok_match() + grok_capture_into(): no allocation (match
 * data is per expression and made at compile time; converted numbers go to
 * the event's arena). Time spent is sampled: CLOCK_MONOTONIC around one
 * pcre2_match call in 64, scaled, because reading the clock costs 20-70 ns
 * (bench/RESULTS.md), a tenth of a whole match. A JIT-compiled expression
 * is matched with pcre2_jit_match, which skips pcre2_match's checks of its
 * arguments (5-8 ns a line; grok_compile.c says when it is safe). */
#include "grok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_ascii.h"
#include "sl_json.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool is_limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* A group repeated once per character (Filebeat's GREEDYMULTILINE,
 * (.|\n)*) fills the JIT's 1 MiB stack past some 30,000 of them: the line
 * is matched again on a stack of BIG_JIT_STACK, made for it and unmapped
 * after, so the memory comes back (the match limit still holds). */
#define BIG_JIT_STACK (32u << 20)

static int match_on_big_stack(struct grok *g, struct grok_expr *e,
                              const char *s, size_t len)
{
    pcre2_jit_stack *big =
        pcre2_jit_stack_create(1u << 20, BIG_JIT_STACK, NULL);
    if (big == NULL)
        return PCRE2_ERROR_JIT_STACKLIMIT;
    pcre2_jit_stack_assign(g->mctx, NULL, big);
    int rc = pcre2_jit_match(e->code, (PCRE2_SPTR)s, len, 0, 0, e->md, g->mctx);
    pcre2_jit_stack_assign(g->mctx, NULL, g->jit_stack);
    pcre2_jit_stack_free(big);
    return rc;
}

enum grok_result grok_match(struct grok *g, const char *s, size_t len)
{
    g->matched = -1;
    g->subject = s;
    for (size_t i = 0; i < g->nexprs; i++) {
        struct grok_expr *e = &g->exprs[i];
        /* Reading the clock costs 20-70 ns (70 in a KVM guest), as much
         * as a fifth of a match: time one call in 64, and let the timed
         * calls stand for all (grok_expr_stats). */
        uint64_t calls =
            e->stats.matches + e->stats.failures + e->stats.timeouts;
        bool timed = calls % 64 == 0;
        uint64_t t0 = timed ? now_ns() : 0;
        int rc = e->jit ? pcre2_jit_match(e->code, (PCRE2_SPTR)s, len, 0, 0,
                                          e->md, g->mctx)
                        : pcre2_match(e->code, (PCRE2_SPTR)s, len, 0, 0, e->md,
                                      g->mctx);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = match_on_big_stack(g, e, s, len);
        if (timed) {
            e->timed_ns += now_ns() - t0;
            e->timed++;
        }
        if (rc >= 0) {
            e->stats.matches++;
            g->matched = (long)i;
            return GROK_MATCH;
        }
        if (is_limit_error(rc)) {
            e->stats.timeouts++;
            return GROK_TIMEOUT;
        }
        e->stats.failures++;
    }
    return GROK_NOMATCH;
}

long grok_last_expr(const struct grok *g)
{
    return g->matched;
}

size_t grok_capture_count(const struct grok *g)
{
    return g->matched < 0 ? 0 : g->exprs[g->matched].ncaps;
}

/* The groups of the last match: PCRE2's offsets, read once per event. */
struct groups {
    const char *subject;
    const PCRE2_SIZE *ov;
    uint32_t n;
};

static struct groups groups_of(const struct grok *g, const struct grok_expr *e)
{
    return (struct groups){g->subject, pcre2_get_ovector_pointer(e->md),
                           pcre2_get_ovector_count(e->md)};
}

/* The bytes of capture c: 1, or 0 when its group took no part in the
 * match. */
static int capture_bytes(const struct groups *m, const struct grok_capture *c,
                         const char **value, size_t *len)
{
    if (c->group >= m->n || m->ov[2 * c->group] == PCRE2_UNSET)
        return 0;
    *value = m->subject + m->ov[2 * c->group];
    *len = m->ov[2 * c->group + 1] - m->ov[2 * c->group];
    return 1;
}

int grok_capture_get(const struct grok *g, size_t i,
                     const struct sl_fieldpath **field, enum grok_type *type,
                     const char **value, size_t *len)
{
    if (g->matched < 0)
        return 0;
    const struct grok_expr *e = &g->exprs[g->matched];
    struct groups m = groups_of(g, e);
    if (i >= e->ncaps || !capture_bytes(&m, &e->caps[i], value, len))
        return 0;
    *field = &e->caps[i].path;
    *type = e->caps[i].type;
    return 1;
}

/* True when Ruby's to_i would give back s itself: digits, no leading zero.
 * Such a capture (a status code, a byte count) is used as is. */
static bool is_plain_int(const char *s, size_t len)
{
    if (len == 0 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!sl_ascii_digit(s[i]))
            return false;
    return true;
}

/* Capture c's bytes, converted to its type: a number is formatted into
 * ev's arena unless the capture is one already (*v and *len are then
 * replaced); NULL when out of memory. */
static int convert(struct sl_event *ev, const struct grok_capture *c,
                   const char **v, size_t *len, struct sl_err *err)
{
    if (c->type == GROK_TYPE_INT && is_plain_int(*v, *len))
        return 0;
    size_t cap = c->type == GROK_TYPE_INT ? *len + 2 : 64;
    char *out = sl_arena_alloc(ev->arena, cap);
    if (out == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    *len = c->type == GROK_TYPE_INT ? grok_convert_int(*v, *len, out, cap)
                                    : grok_convert_float(*v, *len, out, cap);
    *v = out;
    return 0;
}

/* Adds capture c's bytes to the event, converted to its type. The root's
 * member for the path's first segment is found once per event (tops), and
 * made without a search when the root's key summary (held) says it is not
 * there: most are new (http, url...), and each search walked the shipper's
 * base fields. */
static int add_capture(struct sl_event *ev, const struct grok_capture *c,
                       const char *v, size_t len, struct sl_value **tops,
                       uint64_t *held, struct sl_err *err)
{
    enum sl_value_type type = SL_VALUE_STRING;
    if (c->type != GROK_TYPE_STRING) {
        type = SL_VALUE_NUMBER;
        if (convert(ev, c, &v, &len, err) < 0)
            return -1;
    }
    if (c->top != GROK_TOP_NONE)
        return sl_event_add_under(ev, &tops[c->top], (*held & c->top_bit) == 0,
                                  &c->path, type, v, len, err);
    *held = ~UINT64_C(0); /* a path into tags adds tags and _tags */
    return sl_event_add(ev, &c->path, type, v, len, err);
}

int grok_capture_into(const struct grok *g, struct sl_event *ev,
                      struct sl_err *err)
{
    if (g->matched < 0)
        return 0;
    const struct grok_expr *e = &g->exprs[g->matched];
    struct groups m = groups_of(g, e);
    struct sl_value *tops[GROK_MAX_TOPS];
    memset(tops, 0, e->ntops * sizeof *tops);
    uint64_t held = sl_event_root_keys(ev);
    int rc = 0;
    for (const struct grok_capture *c = e->caps; c < e->caps + e->ncaps; c++) {
        const char *v;
        size_t len;
        /* Unset and empty captures are dropped (Logstash's default,
         * keep_empty_captures => false). */
        if (!capture_bytes(&m, c, &v, &len) || len == 0)
            continue;
        if (add_capture(ev, c, v, len, tops, &held, err) < 0) {
            /* Out of memory ends the event; a conflict (a path through a
             * value) drops this capture and goes on, for the caller to tag. */
            if (err != NULL && err->status == SL_ENOMEM)
                return -1;
            rc = -1;
        }
    }
    return rc;
}

/* Copies the digits at s[*i..len) into out (skipping single '_' between
 * digits, as Ruby does); returns how many digits were copied. */
static size_t take_digits(const char *s, size_t len, size_t *i, char *out,
                          size_t *o, size_t outsz)
{
    size_t n = 0;
    while (*i < len) {
        if (sl_ascii_digit(s[*i])) {
            if (*o + 1 < outsz)
                out[(*o)++] = s[*i];
            n++;
            (*i)++;
        } else if (s[*i] == '_' && n > 0 && *i + 1 < len &&
                   sl_ascii_digit(s[*i + 1])) {
            (*i)++;
        } else {
            break;
        }
    }
    return n;
}

size_t grok_convert_int(const char *s, size_t len, char *out, size_t outsz)
{
    size_t i = 0, o = 0;
    while (i < len && sl_ascii_space(s[i]))
        i++;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (neg)
        out[o++] = '-';
    size_t first = o;
    take_digits(s, len, &i, out, &o, outsz);
    /* Strip leading zeros; no digits at all reads as 0. */
    size_t z = first;
    while (z + 1 < o && out[z] == '0')
        z++;
    if (z > first) {
        memmove(out + first, out + z, o - z);
        o -= z - first;
    }
    if (o == first || (o == first + 1 && out[first] == '0')) {
        out[0] = '0';
        return 1;
    }
    return o;
}

size_t grok_convert_float(const char *s, size_t len, char *out, size_t outsz)
{
    char num[512];
    size_t i = 0, o = 0;
    while (i < len && sl_ascii_space(s[i]))
        i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        num[o++] = s[i++];
    size_t intd = take_digits(s, len, &i, num, &o, sizeof num - 8);
    if (i + 1 < len && s[i] == '.' && sl_ascii_digit(s[i + 1])) {
        num[o++] = s[i++];
        take_digits(s, len, &i, num, &o, sizeof num - 8);
    } else if (intd == 0) {
        o = 0;
    }
    if (o > 0 && i + 1 < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1, save = o;
        num[o++] = 'e';
        if (j < len && (s[j] == '+' || s[j] == '-'))
            num[o++] = s[j++];
        if (take_digits(s, len, &j, num, &o, sizeof num - 1) == 0)
            o = save;
    }
    num[o] = '\0';
    double v = o > 0 ? strtod(num, NULL) : 0.0;
    return sl_json_format_double(v, out, outsz);
}
