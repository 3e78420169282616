/* grok_expand.h: the expansion of one grok expression into a PCRE2 regex
 * (grok_expand.c). Internal to the grok library. */
#ifndef GROK_EXPAND_H
#define GROK_EXPAND_H

#include "grok_internal.h"
#include "sl_buf.h"
#include "sl_err.h"

/* Where the expansion of one %{NAME...} reference landed in out:
 * [start, end) is the whole group, [body, end - 1) the pattern's own regex. */
struct grok_ref {
    const struct grok_def *def;
    size_t start, body, end;
};

/* Where a step of the expression's own text (not of a pattern it refers
 * to) landed in out: the bytes of a plain run map one to one (linear), a
 * construct (%{...}, a group, a class, an escape) maps to where it began. */
struct grok_srcmap {
    size_t out, src;
    bool linear;
};

struct grok_expansion {
    const char *text;  /* in: the expression, borrowed */
    struct sl_buf out; /* the regex */
    struct grok_capture *caps;
    size_t ncaps, capcap;
    struct grok_ref *refs; /* in the order their expansion finished */
    size_t nrefs, refcap;
    struct grok_srcmap *map; /* in order of out */
    size_t nmap, mapcap;
};

/* Fills x->out, x->caps and x->refs from x->text. On error, x still needs
 * grok_expansion_release(). */
SL_MUST_CHECK int grok_expansion_run(const struct grok_library *lib,
                                     struct grok_expansion *x,
                                     struct sl_err *err);
SL_MUST_CHECK int grok_expansion_record(struct grok_expansion *x,
                                        const struct grok_def *def,
                                        size_t start, size_t body, size_t end);
/* The offset in x->text of the text that became out[off] (an offset PCRE2
 * reported); strlen(x->text) for the end of out. */
size_t grok_expansion_source(const struct grok_expansion *x, size_t off);
void grok_expansion_release(struct grok_expansion *x);

#endif
