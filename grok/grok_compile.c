/* grok_compile.c: compiling grok expressions with PCRE2 and JIT, and the
 * life of struct grok.
 *
 * Flags: PCRE2_MULTILINE always (Ruby's ^ and $ match at line breaks; Logstash
 * users match multi-line events with them), PCRE2_DOTALL always (Logstash's
 * grok compiles with Regexp::MULTILINE, Ruby's name for dot-all, so
 * GREEDYDATA takes a whole multi-line traceback), PCRE2_UTF with
 * PCRE2_MATCH_INVALID_UTF when asked (invalid bytes never fail a match).
 * When PCRE2 rejects the expanded regex, the error offset points into text
 * the user never wrote; we compile the expansion of each referenced pattern
 * alone, innermost first, and blame the first that fails by itself, so the
 * message names the pattern, its file and line. When none does, the error is
 * in the expression's own text, and the offset is mapped back into it
 * (grok_expansion_source). */
#include "grok_expand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MATCH_LIMIT 1000000u
#define DEFAULT_JIT_STACK   (1u << 20)
#define REGEX_ADVICE                                                           \
    "a literal ( ) [ ] { } * + ? | or \\ needs a backslash before it"

static uint32_t compile_flags(const struct grok_options *o)
{
    uint32_t f = PCRE2_MULTILINE | PCRE2_DOTALL;
    if (o->utf)
        f |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    return f;
}

/* True unless the pattern turned UTF on itself ("(*UTF)") without
 * PCRE2_MATCH_INVALID_UTF: pcre2_jit_match does not check the subject's
 * UTF-8 (pcre2_match does), so it is taken only when the JIT code copes
 * with invalid sequences itself, or there is no UTF at all. */
static bool checks_own_utf(const pcre2_code *code)
{
    uint32_t opts = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) != 0)
        return false;
    return !(opts & PCRE2_UTF) || (opts & PCRE2_MATCH_INVALID_UTF);
}

/* Compiles re[0..len); on failure writes PCRE2's reason and offset. */
static pcre2_code *try_compile(const char *re, size_t len, uint32_t flags,
                               char *why, size_t whysz, size_t *off)
{
    int code;
    PCRE2_SIZE eoff;
    pcre2_code *c =
        pcre2_compile((PCRE2_SPTR)re, len, flags, &code, &eoff, NULL);
    if (c == NULL) {
        pcre2_get_error_message(code, (PCRE2_UCHAR *)why, whysz);
        *off = eoff;
    }
    return c;
}

/* The offset of the last '(' of text that no ')' closes, skipping escapes,
 * character classes and %{...} references; SIZE_MAX if there is none (or
 * groups nest too deep to say). PCRE2 only reports the end of the regex. */
static size_t unclosed_paren(const char *text)
{
    size_t open[64], n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        } else if (*p == '%' && p[1] == '{' && strchr(p, '}') != NULL) {
            p = strchr(p, '}');
        } else if (*p == '[') {
            const char *q = p + 1 + (p[1] == '^');
            q += *q == ']'; /* a ']' first is literal */
            while (*q != '\0' && *q != ']')
                q += *q == '\\' && q[1] != '\0' ? 2 : 1;
            if (*q == '\0')
                return SIZE_MAX;
            p = q;
        } else if (*p == '(') {
            if (n == sizeof open / sizeof *open)
                return SIZE_MAX;
            open[n++] = (size_t)(p - text);
        } else if (*p == ')' && n > 0) {
            n--;
        }
    }
    return n > 0 ? open[n - 1] : SIZE_MAX;
}

/* Finds the innermost referenced pattern whose expansion fails alone. */
static int blame_pattern(const struct grok_expansion *x, uint32_t flags,
                         const char *why_all, size_t off_all,
                         struct sl_err *err)
{
    char why[256];
    size_t off;
    for (size_t i = 0; i < x->nrefs; i++) {
        const struct grok_ref *r = &x->refs[i];
        size_t len = r->end - 1 - r->body;
        pcre2_code *c = try_compile(x->out.ptr + r->body, len, flags, why,
                                    sizeof why, &off);
        if (c != NULL) {
            pcre2_code_free(c);
            continue;
        }
        return sl_err_set(err, SL_EINVAL,
                          "grok: pattern '%s' (%s:%u): invalid regex: %s at "
                          "offset %zu of its expansion '%.*s'",
                          r->def->name, r->def->origin, r->def->line, why, off,
                          (int)(len < 60 ? len : 60), x->out.ptr + r->body);
    }
    /* The error is in the expression's own text, or in how it joins the
     * patterns: point into what the user wrote. */
    size_t src = grok_expansion_source(x, off_all);
    size_t paren = strstr(why_all, "missing closing parenthesis") != NULL
                       ? unclosed_paren(x->text)
                       : SIZE_MAX;
    if (x->text[src] == '\0' && paren != SIZE_MAX)
        return sl_err_set(err, SL_EINVAL,
                          "grok: expression '%.200s': invalid regex: %s at "
                          "its end: the '(' at offset %zu, at '%.20s', is not "
                          "closed; %s",
                          x->text, why_all, paren, x->text + paren,
                          REGEX_ADVICE);
    if (x->text[src] == '\0')
        return sl_err_set(err, SL_EINVAL,
                          "grok: expression '%.200s': invalid regex: %s at "
                          "its end; %s",
                          x->text, why_all, REGEX_ADVICE);
    return sl_err_set(err, SL_EINVAL,
                      "grok: expression '%.200s': invalid regex: %s at "
                      "offset %zu, at '%.20s'; %s",
                      x->text, why_all, src, x->text + src, REGEX_ADVICE);
}

/* Resolves each capture's PCRE2 group number from the name we gave it. */
static int number_groups(struct grok_expr *e, struct sl_err *err)
{
    for (size_t i = 0; i < e->ncaps; i++) {
        int n = pcre2_substring_number_from_name(e->code,
                                                 (PCRE2_SPTR)e->caps[i].gname);
        if (n < 0)
            return sl_err_set(err, SL_EINVAL,
                              "grok: capture '%s' lost in compilation",
                              e->caps[i].path.text);
        e->caps[i].group = (uint32_t)n;
    }
    return 0;
}

static int compile_expr(const struct grok_library *lib, struct grok_expr *e,
                        const char *text, const struct grok_options *o,
                        struct sl_err *err)
{
    struct grok_expansion x = {.text = text};
    char why[256];
    size_t off;
    int rc = -1;
    e->text = strdup(text);
    if (e->text == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    if (grok_expansion_run(lib, &x, err) < 0)
        goto done;
    uint32_t flags = compile_flags(o);
    e->code = try_compile(x.out.ptr, x.out.len, flags, why, sizeof why, &off);
    if (e->code == NULL) {
        blame_pattern(&x, flags, why, off, err);
        goto done;
    }
    /* JIT is an optimisation: without it (no JIT on this CPU) we still
     * match, with the interpreter. */
    e->jit = pcre2_jit_compile(e->code, PCRE2_JIT_COMPLETE) == 0 &&
             checks_own_utf(e->code);
    e->md = pcre2_match_data_create_from_pattern(e->code, NULL);
    if (e->md == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    e->caps = x.caps;
    e->ncaps = x.ncaps;
    x.caps = NULL;
    x.ncaps = 0;
    e->expanded = sl_buf_take(&x.out);
    if (e->expanded == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    rc = number_groups(e, err);
done:
    grok_expansion_release(&x);
    return rc;
}

/* Points equal segments of all capture paths at the same bytes, so that
 * the event builder finds a member by comparing pointers (sl_event.c). The
 * bytes stay owned by the path that parsed them; all are freed together. */
static void share_segments(struct grok *g)
{
    struct sl_slice *seen[256];
    size_t nseen = 0;
    for (size_t i = 0; i < g->nexprs; i++) {
        struct grok_expr *e = &g->exprs[i];
        for (size_t j = 0; j < e->ncaps; j++) {
            struct sl_fieldpath *p = &e->caps[j].path;
            for (unsigned k = 0; k < p->nseg; k++) {
                struct sl_slice *s = &p->seg[k];
                size_t m = 0;
                while (m < nseen && !sl_slice_eq(*seen[m], s->ptr, s->len))
                    m++;
                if (m < nseen)
                    s->ptr = seen[m]->ptr;
                else if (nseen < sizeof seen / sizeof *seen)
                    seen[nseen++] = s;
            }
        }
    }
}

/* Numbers the distinct first segments of each expression's captures, in
 * the order they first appear (grok_capture_into). A path into tags
 * ([tags][x], set at [_tags][x]) gets none: sl_event_add adds it. */
static void number_tops(struct grok_expr *e)
{
    uint32_t ntops = 0;
    for (size_t j = 0; j < e->ncaps; j++) {
        struct grok_capture *c = &e->caps[j];
        struct sl_slice first = c->path.seg[0];
        c->top = GROK_TOP_NONE;
        c->top_bit = sl_event_key_bit(first);
        if (c->path.nseg > 1 && sl_slice_eq(first, "tags", 4))
            continue;
        for (size_t k = 0; k < j && c->top == GROK_TOP_NONE; k++)
            if (e->caps[k].top != GROK_TOP_NONE &&
                sl_slice_eq(e->caps[k].path.seg[0], first.ptr, first.len))
                c->top = e->caps[k].top;
        if (c->top == GROK_TOP_NONE && ntops < GROK_MAX_TOPS)
            c->top = ntops++;
    }
    e->ntops = ntops;
}

static int make_match_context(struct grok *g, const struct grok_options *o,
                              struct sl_err *err)
{
    g->mctx = pcre2_match_context_create(NULL);
    size_t stack_max = o->jit_stack_max ? o->jit_stack_max : DEFAULT_JIT_STACK;
    g->jit_stack = pcre2_jit_stack_create(32 * 1024, stack_max, NULL);
    if (g->mctx == NULL || g->jit_stack == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    pcre2_set_match_limit(g->mctx, o->match_limit ? o->match_limit
                                                  : DEFAULT_MATCH_LIMIT);
    if (o->depth_limit)
        pcre2_set_depth_limit(g->mctx, o->depth_limit);
    pcre2_jit_stack_assign(g->mctx, NULL, g->jit_stack);
    return 0;
}

struct grok *grok_compile(const struct grok_library *lib,
                          const char *const *exprs, size_t n,
                          const struct grok_options *opts, struct sl_err *err)
{
    static const struct grok_options defaults = {0};
    const struct grok_options *o = opts ? opts : &defaults;
    if (n == 0) {
        sl_err_set(err, SL_EINVAL, "grok: no expression given");
        return NULL;
    }
    struct grok *g = calloc(1, sizeof *g);
    if (g == NULL || (g->exprs = calloc(n, sizeof *g->exprs)) == NULL) {
        free(g);
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    g->nexprs = n;
    g->matched = -1;
    for (size_t i = 0; i < n; i++)
        if (compile_expr(lib, &g->exprs[i], exprs[i], o, err) < 0)
            goto fail;
    if (make_match_context(g, o, err) < 0)
        goto fail;
    share_segments(g);
    for (size_t i = 0; i < n; i++)
        number_tops(&g->exprs[i]);
    return g;
fail:
    grok_free(g);
    return NULL;
}

void grok_free(struct grok *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->nexprs; i++) {
        struct grok_expr *e = &g->exprs[i];
        free(e->text);
        free(e->expanded);
        pcre2_code_free(e->code);
        pcre2_match_data_free(e->md);
        for (size_t j = 0; j < e->ncaps; j++)
            sl_fieldpath_release(&e->caps[j].path);
        free(e->caps);
    }
    free(g->exprs);
    pcre2_match_context_free(g->mctx);
    pcre2_jit_stack_free(g->jit_stack);
    free(g);
}

size_t grok_expr_count(const struct grok *g)
{
    return g->nexprs;
}

const char *grok_expanded(const struct grok *g, size_t i)
{
    return i < g->nexprs ? g->exprs[i].expanded : NULL;
}

size_t grok_expr_capture_count(const struct grok *g, size_t i)
{
    return i < g->nexprs ? g->exprs[i].ncaps : 0;
}

const char *grok_expr_capture(const struct grok *g, size_t i, size_t j,
                              enum grok_type *type)
{
    if (i >= g->nexprs || j >= g->exprs[i].ncaps)
        return NULL;
    *type = g->exprs[i].caps[j].type;
    return g->exprs[i].caps[j].path.text;
}

const char *grok_expr_text(const struct grok *g, size_t i)
{
    return i < g->nexprs ? g->exprs[i].text : NULL;
}

void grok_expr_stats(const struct grok *g, size_t i, struct grok_stats *out)
{
    memset(out, 0, sizeof *out);
    if (i >= g->nexprs)
        return;
    const struct grok_expr *e = &g->exprs[i];
    uint64_t calls = e->stats.matches + e->stats.failures + e->stats.timeouts;
    *out = e->stats;
    /* The timed calls stand for all of them. */
    if (e->timed > 0)
        out->ns =
            (uint64_t)((double)e->timed_ns * (double)calls / (double)e->timed);
}
