/* grok_internal.h: structures shared by the grok library's files. Not part
 * of the public API (grok.h). */
#ifndef GROK_INTERNAL_H
#define GROK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "grok.h"

struct grok_def {
    char *name;
    char *regex;
    char *origin; /* file it came from, or "inline" */
    unsigned line;
};

/* Invariants: defs[0..ndefs) are distinct names; index has index_cap slots
 * (a power of two, at least twice ndefs); a slot holds 0 (empty) or the
 * 1-based position of a def. */
struct grok_library {
    struct grok_def *defs;
    size_t ndefs, cap;
    uint32_t *index;
    size_t index_cap;
};

const struct grok_def *grok_library_find(const struct grok_library *lib,
                                         const char *name, size_t n);

/* The known name closest to name[0..n) when it is one a typo away (letters'
 * case ignored; one edit for names of 3 to 5 characters, two from 6; a
 * swap of neighbours is one), to suggest after "unknown pattern"; NULL if
 * none is. */
const char *grok_library_closest(const struct grok_library *lib,
                                 const char *name, size_t n);

struct grok_capture {
    struct sl_fieldpath path;
    enum grok_type type;
    uint32_t group; /* PCRE2 group number, known after compiling */
    char gname[16]; /* the PCRE2 group name we gave it: g<N> */
    /* Index of path's first segment among the expression's distinct ones
     * (grok_capture_into finds each once per event), GROK_TOP_NONE past
     * GROK_MAX_TOPS; top_bit: sl_event_key_bit of that segment. */
    uint32_t top;
    uint64_t top_bit;
};

#define GROK_MAX_TOPS 32
#define GROK_TOP_NONE UINT32_MAX

struct grok_expr {
    char *text;     /* as written */
    char *expanded; /* the PCRE2 regex */
    pcre2_code *code;
    pcre2_match_data *md;
    bool jit; /* JIT-compiled: matched with pcre2_jit_match */
    struct grok_capture *caps;
    size_t ncaps;
    size_t ntops; /* distinct first segments of the captures' paths */
    struct grok_stats stats; /* ns unused: see timed_ns */
    uint64_t timed_ns;       /* time of the calls that were timed */
    uint64_t timed;          /* how many calls were timed */
};

struct grok {
    struct grok_expr *exprs;
    size_t nexprs;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    long matched;        /* expression of the last match, or -1 */
    const char *subject; /* of the last match */
};

#endif
