/* grok.h: Logstash-compatible grok expressions on PCRE2 (JIT).
 *
 * A grok expression is a regular expression in Logstash's dialect (Oniguruma,
 * Ruby syntax) with references to named patterns:
 *
 *   %{SYNTAX}                 the pattern SYNTAX, captures nothing
 *   %{SYNTAX:field}           captures into field ("name", "[a][b]", "a.b")
 *   %{SYNTAX:field:int}       ... converted like Ruby's to_i (or :float, to_f)
 *   (?<field>regex)           inline named capture, same field names
 *
 * Use: load a library of named patterns (files of `NAME regex` lines), compile
 * one or more expressions against it (first match wins, unanchored search),
 * then match lines. Compiling expands every reference, translates the
 * constructs where Oniguruma and PCRE2 differ, and compiles with PCRE2 JIT.
 * Matching allocates nothing: match data is kept in the compiled object, so a
 * struct grok is used by one thread at a time.
 *
 * Every match is bounded by a match limit and the JIT stack: a pattern that
 * would backtrack for ever returns GROK_TIMEOUT, and the caller tags the event
 * `_groktimeout` and goes on.
 *
 * Errors say which pattern, where it was defined (file:line), and what to do:
 *   grok: pattern 'APACHE_LOG' (my.grok:3) at %{HTTPDAT:timestamp}: unknown
 *   pattern 'HTTPDAT'; add --patterns-dir or check the spelling */
#ifndef GROK_H
#define GROK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"
#include "sl_event.h"
#include "sl_fieldpath.h"

/* ---- the pattern library ---------------------------------------------- */

struct grok_library;

struct grok_library *grok_library_new(void);
void grok_library_free(struct grok_library *lib); /* NULL is fine */

/* Defines (or redefines: the later definition wins, as in Logstash) name.
 * origin and line say where it came from, for error messages. */
SL_MUST_CHECK int grok_library_add(struct grok_library *lib, const char *name,
                                   const char *regex, const char *origin,
                                   unsigned line, struct sl_err *err);
/* Reads `NAME regex` lines; blank lines and lines starting with '#' are
 * skipped. A malformed line is an error naming file:line. */
SL_MUST_CHECK int grok_library_load_file(struct grok_library *lib,
                                         const char *path, struct sl_err *err);
/* Loads every regular file of dir (not starting with '.'), sorted by name. */
SL_MUST_CHECK int grok_library_load_dir(struct grok_library *lib,
                                        const char *dir, struct sl_err *err);
/* Loads inline definitions: the same format as a file, from a string. */
SL_MUST_CHECK int grok_library_load_text(struct grok_library *lib,
                                         const char *origin, const char *text,
                                         size_t len, struct sl_err *err);

size_t grok_library_count(const struct grok_library *lib);
/* The i-th defined name in definition order (i < count). */
const char *grok_library_name(const struct grok_library *lib, size_t i);
/* The regex of name, or NULL if undefined. */
const char *grok_library_lookup(const struct grok_library *lib,
                                const char *name);

/* Writes into buf (size bytes, GROK_DIR_MAX is enough) the directory of the
 * built-in patterns for a flavour: "v1" -> ecs-v1, "disabled" -> legacy.
 * Looks in $SLUICE_PATTERNS_DIR, then PREFIX/share/sluice/patterns beside
 * the running program when it is PREFIX/bin/NAME (a relocated or DESTDIR
 * install), then the configured install location, then the source tree.
 * -1 (err set, buf an empty string) if the flavour is unknown, no location
 * has it, or the path does not fit in buf. The result is the caller's:
 * a second call does not touch the first one's buffer. */
#define GROK_DIR_MAX 4096
SL_MUST_CHECK int grok_builtin_dir(const char *ecs_flavour, char *buf,
                                   size_t size, struct sl_err *err);

/* ---- compiling -------------------------------------------------------- */

enum grok_type {
    GROK_TYPE_STRING = 0,
    GROK_TYPE_INT,  /* Ruby to_i: leading integer, 0 if none */
    GROK_TYPE_FLOAT /* Ruby to_f: leading decimal, 0.0 if none */
};

struct grok_options {
    uint32_t match_limit; /* PCRE2 match limit; 0 = default (1,000,000) */
    uint32_t depth_limit; /* PCRE2 depth limit (interpreter); 0 = default */
    size_t jit_stack_max; /* bytes; 0 = default (1 MiB) */
    /* false (default): match bytes, so '.' and [^ ] also take bytes of
     * invalid UTF-8 and a capture never stops short at one (the JSON writer
     * replaces them). true: match UTF-8 characters (PCRE2_UTF with
     * MATCH_INVALID_UTF): '.' is one character, but invalid sequences match
     * nothing. Delimited log formats parse the same either way. */
    bool utf;
};

struct grok;

/* Compiles exprs[0..n) (tried in order; first match wins). */
struct grok *grok_compile(const struct grok_library *lib,
                          const char *const *exprs, size_t n,
                          const struct grok_options *opts, struct sl_err *err);
void grok_free(struct grok *g); /* NULL is fine */

/* The PCRE2 regex expr expands to, malloc'd (the caller frees it), also
 * when PCRE2 would refuse it: what --explain shows of an expression that
 * does not compile. NULL (err set) if the expansion itself fails (an
 * unknown pattern, a cycle, a bad field name). */
char *grok_expand(const struct grok_library *lib, const char *expr,
                  struct sl_err *err);

size_t grok_expr_count(const struct grok *g);
/* The fully expanded PCRE2 regex of expression i, for debugging. */
const char *grok_expanded(const struct grok *g, size_t i);
/* Captures of expression i: how many, and the field and type of the j-th
 * (NULL when out of range). */
size_t grok_expr_capture_count(const struct grok *g, size_t i);
const char *grok_expr_capture(const struct grok *g, size_t i, size_t j,
                              enum grok_type *type);

/* ---- matching --------------------------------------------------------- */

enum grok_result {
    GROK_NOMATCH = 0,
    GROK_MATCH,
    GROK_TIMEOUT /* match or JIT stack limit hit: tag _groktimeout */
};

/* Tries each expression in order on s[0..len). On GROK_MATCH, the captures
 * stay readable until the next call. */
enum grok_result grok_match(struct grok *g, const char *s, size_t len);
/* The expression (0-based) that the last grok_match() matched with, or -1
 * when it returned GROK_NOMATCH or GROK_TIMEOUT. */
long grok_last_expr(const struct grok *g);

/* Adds the last match's non-empty captures to ev, converted to their types,
 * with Logstash's rules (a field captured twice becomes an array). Values
 * borrow s from grok_match: keep it alive until ev is written. Numbers are
 * formatted into ev's arena. -1 on a field conflict (SL_EINVAL: the other
 * captures are still added) or out of memory (SL_ENOMEM: stops there). */
SL_MUST_CHECK int grok_capture_into(const struct grok *g, struct sl_event *ev,
                                    struct sl_err *err);

/* Low-level access to the last match's captures, in capture order. */
size_t grok_capture_count(const struct grok *g);
/* 1: set (field, type, value); 0: capture i did not participate. */
SL_MUST_CHECK int grok_capture_get(const struct grok *g, size_t i,
                                   const struct sl_fieldpath **field,
                                   enum grok_type *type, const char **value,
                                   size_t *len);

/* ---- counters --------------------------------------------------------- */

struct grok_stats {
    uint64_t matches;
    uint64_t failures; /* tried and did not match */
    uint64_t timeouts;
    uint64_t ns; /* time spent in pcre2_match, nanoseconds: an estimate
                    from timing one call in 64 (exact up to 64 calls) */
};

/* Counters of expression i since compile. */
void grok_expr_stats(const struct grok *g, size_t i, struct grok_stats *out);
/* The expression as written. */
const char *grok_expr_text(const struct grok *g, size_t i);

/* Converts like Ruby's String#to_i / #to_f into JSON number text in out
 * (size >= 64 for floats; ints keep every digit: out must hold len + 2). */
size_t grok_convert_int(const char *s, size_t len, char *out, size_t outsz);
size_t grok_convert_float(const char *s, size_t len, char *out, size_t outsz);

#endif
