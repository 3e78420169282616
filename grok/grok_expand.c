/* grok_expand.c: grok expression -> PCRE2 regex.
 *
 * One pass over the text copies regex syntax through and rewrites:
 *   %{NAME}              -> (?:<expansion of NAME>)
 *   %{NAME:field[:type]} -> (?<gN><expansion of NAME>)   and records capture N
 *                           (text after these, up to '}', is ignored, as
 *                           Logstash ignores it; see expand_reference)
 *   (?<field>re)         -> (?<gN>re)  also (?'field're) and (?P<field>re):
 *                           PCRE2 names are [A-Za-z0-9_]{1,32}, field names
 *                           are not, so every capture gets a generated name
 *   \k<field>            -> \k<gN> of the latest capture with that name
 *   (?m) (?mi) (?m:...)  -> (?s)... Ruby's m is PCRE2's dot-all; Ruby's ^ and
 *                           $ always match at line breaks, so the regex is
 *                           compiled with PCRE2_MULTILINE instead
 *   \h  \H               -> [0-9a-fA-F] [^0-9a-fA-F]   (Ruby: hex digit and
 *                           not one, also in a class; PCRE2: horizontal space
 *                           and not one); in a class [:xdigit:] [:^xdigit:],
 *                           so [\H], [^\h] and [a\Hb] keep Ruby's meaning
 *   {,n}                 -> {0,n}      (PCRE2 10.42 reads {,n} literally)
 *   \S \D \W             -> [^\s] [^\d] [^\w]  (a PCRE2 10.42 JIT bug in UTF
 *                           mode, see expand_escape)
 * Character classes are tracked: inside [...] only \h and \H are rewritten
 * (as above); the other rewrites would break a class.
 *
 * Recursion (A -> B -> A) is detected with the stack of names being
 * expanded; the expansion is capped at GROK_EXPANDED_MAX bytes so a pattern
 * that doubles at every level cannot eat memory. Each reference's expansion
 * is recorded (grok_compile.c compiles them one by one to find which pattern
 * a regex error belongs to). */
#include "grok_expand.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ascii.h"

#define GROK_EXPANDED_MAX (4u << 20)
#define GROK_DEPTH_MAX    64

struct frame {
    const char *name; /* NULL for the top-level expression */
    const struct grok_def *def;
};

struct expander {
    const struct grok_library *lib;
    struct grok_expansion *x;
    struct frame stack[GROK_DEPTH_MAX];
    size_t depth;
    struct sl_err *err;
};

/* "pattern 'NAME' (file:line)" or "expression '...'" into err's prefix. */
static int fail(struct expander *ex, enum sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct expander *ex, enum sl_status st, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const struct frame *f = &ex->stack[ex->depth - 1];
    if (f->def != NULL)
        return sl_err_set(ex->err, st, "grok: pattern '%s' (%s:%u): %s",
                          f->name, f->def->origin, f->def->line, msg);
    return sl_err_set(ex->err, st, "grok: expression '%.200s': %s", ex->x->text,
                      msg);
}

static int emit(struct expander *ex, const char *s, size_t n)
{
    if (sl_buf_append(&ex->x->out, s, n, NULL) < 0)
        return fail(ex, SL_ELIMIT,
                    "expands to more than %u bytes of regex; a pattern "
                    "probably refers to itself through others",
                    GROK_EXPANDED_MAX);
    return 0;
}

static int emit_str(struct expander *ex, const char *s)
{
    return emit(ex, s, strlen(s));
}

/* Writes open, name, close: a group header such as "(?<" "g3" ">". */
static int emit_group(struct expander *ex, const char *open, const char *name,
                      const char *close)
{
    if (emit_str(ex, open) < 0 || emit_str(ex, name) < 0 ||
        emit_str(ex, close) < 0)
        return -1;
    return 0;
}

/* arr (n elements used of *cap, each size bytes) with room for one more,
 * doubling from first; NULL when out of memory (arr is then unchanged). */
static void *room_for_one(void *arr, size_t n, size_t *cap, size_t size,
                          size_t first)
{
    if (n < *cap)
        return arr;
    size_t want = *cap ? *cap * 2 : first;
    void *grown = realloc(arr, want * size);
    if (grown != NULL)
        *cap = want;
    return grown;
}

/* Registers a capture of field (with type) and writes "(?<gN>". */
static int open_capture(struct expander *ex, const char *field, size_t flen,
                        enum grok_type type)
{
    struct grok_expansion *x = ex->x;
    struct grok_capture *c =
        room_for_one(x->caps, x->ncaps, &x->capcap, sizeof *c, 16);
    if (c == NULL)
        return fail(ex, SL_ENOMEM, "out of memory");
    x->caps = c;
    c = &x->caps[x->ncaps];
    memset(c, 0, sizeof *c);
    struct sl_err perr;
    if (sl_fieldpath_parse(&c->path, field, flen, &perr) < 0)
        return fail(ex, SL_EINVAL, "%s", perr.msg);
    c->type = type;
    snprintf(c->gname, sizeof c->gname, "g%zu", x->ncaps + 1);
    x->ncaps++;
    return emit_group(ex, "(?<", c->gname, ">");
}

static int expand_text(struct expander *ex, const char *text);

/* The capture to which \k<name> refers: the latest one with that name. */
static const struct grok_capture *capture_named(struct expander *ex,
                                                const char *name, size_t n)
{
    for (size_t i = ex->x->ncaps; i-- > 0;)
        if (strlen(ex->x->caps[i].path.text) == n &&
            memcmp(ex->x->caps[i].path.text, name, n) == 0)
            return &ex->x->caps[i];
    return NULL;
}

static int parse_type(struct expander *ex, const char *t, size_t n,
                      const char *ref, size_t reflen, enum grok_type *type)
{
    /* long and double: the names Elasticsearch's ingest grok also takes
     * (Filebeat's pipelines use them), for the same two conversions */
    if ((n == 3 && memcmp(t, "int", 3) == 0) ||
        (n == 4 && memcmp(t, "long", 4) == 0))
        *type = GROK_TYPE_INT;
    else if ((n == 5 && memcmp(t, "float", 5) == 0) ||
             (n == 6 && memcmp(t, "double", 6) == 0))
        *type = GROK_TYPE_FLOAT;
    else
        return fail(ex, SL_EINVAL,
                    "at %%{%.*s}: unknown type '%.*s'; expected int, long, "
                    "float or double",
                    (int)reflen, ref, (int)n, t);
    return 0;
}

static int push_pattern(struct expander *ex, const char *name, size_t n,
                        const char *ref, size_t reflen,
                        const struct grok_def **def)
{
    *def = grok_library_find(ex->lib, name, n);
    if (*def == NULL) {
        const char *near = grok_library_closest(ex->lib, name, n);
        return fail(ex, SL_EINVAL,
                    "at %%{%.*s}: unknown pattern '%.*s'%s%s%s; add "
                    "--patterns-dir or check the spelling",
                    (int)reflen, ref, (int)n, name,
                    near ? " (did you mean '" : "", near ? near : "",
                    near ? "'?)" : "");
    }
    for (size_t i = 1; i < ex->depth; i++) {
        if (ex->stack[i].def == *def) {
            char chain[256] = "";
            size_t used = 0;
            for (size_t j = i; j < ex->depth && used < sizeof chain; j++)
                used += (size_t)snprintf(chain + used, sizeof chain - used,
                                         "%s -> ", ex->stack[j].name);
            return fail(ex, SL_EINVAL,
                        "pattern refers to itself: %s%.*s; remove the cycle",
                        chain, (int)n, name);
        }
    }
    if (ex->depth == GROK_DEPTH_MAX)
        return fail(ex, SL_ELIMIT,
                    "at %%{%.*s}: patterns nested more than %d deep",
                    (int)reflen, ref, GROK_DEPTH_MAX);
    ex->stack[ex->depth].name = (*def)->name;
    ex->stack[ex->depth].def = *def;
    ex->depth++;
    return 0;
}

/* %{NAME}, %{NAME:field}, %{NAME:field:type} at *p (just after "%{"). */
/* The characters of jls-grok's (Logstash's) %{NAME:SUBNAME}: NAME is
 * [A-z0-9]+, and Ruby's A-z also takes [ \ ] ^ _ and `; SUBNAME (field and
 * type) is [@\[\]A-z0-9_:.-]+. */
static bool name_char(char c)
{
    return sl_ascii_digit(c) || sl_ascii_alpha(c) || (c >= '[' && c <= '`');
}

static bool subname_char(char c)
{
    return name_char(c) || c == '@' || c == ':' || c == '.' || c == '-';
}

static size_t span(const char *s, const char *end, bool (*ok)(char))
{
    size_t n = 0;
    while (s + n < end && ok(s[n]))
        n++;
    return n;
}

/* %{NAME}, %{NAME:field} or %{NAME:field:type} at *p (after "%{"). As in
 * jls-grok, whatever follows them up to the '}' is ignored, so Logstash's
 * own %{NAGIOSLOGLINE - CURRENT HOST STATE} is %{NAGIOSLOGLINE}; an inline
 * definition (%{NAME=regex}), which jls-grok would honour, is refused rather
 * than ignored. */
static int expand_reference(struct expander *ex, const char **p)
{
    const char *ref = *p;
    const char *end = strchr(ref, '}');
    if (end == NULL)
        return fail(ex, SL_EPARSE, "'%%{' at '%.20s' has no closing '}'",
                    ref - 2);
    size_t reflen = (size_t)(end - ref);
    size_t namelen = span(ref, end, name_char);
    const char *c1 = ref[namelen] == ':' ? ref + namelen : NULL;
    const char *stop =
        c1 ? c1 + 1 + span(c1 + 1, end, subname_char) : ref + namelen;
    if (namelen == 0)
        return fail(ex, SL_EINVAL,
                    "at %%{%.*s}: expected a pattern name (letters, digits, "
                    "'_') after '%%{'",
                    (int)reflen, ref);
    if (*stop == '=')
        return fail(ex, SL_EINVAL,
                    "at %%{%.*s}: inline definitions (%%{NAME=regex}) are not "
                    "supported; define the pattern with -D or in a patterns "
                    "file",
                    (int)reflen, ref);
    const char *field = NULL;
    size_t flen = 0;
    enum grok_type type = GROK_TYPE_STRING;
    if (c1 != NULL) {
        field = c1 + 1;
        flen = (size_t)(stop - field);
        const char *c2 = memchr(field, ':', flen);
        if (c2 != NULL) {
            if (parse_type(ex, c2 + 1, (size_t)(stop - c2 - 1), ref, reflen,
                           &type) < 0)
                return -1;
            flen = (size_t)(c2 - field);
        }
        if (flen == 0)
            return fail(ex, SL_EINVAL, "at %%{%.*s}: empty field name",
                        (int)reflen, ref);
    }
    /* The capture is opened before the pattern is entered, so an error in
     * the field name is reported against the expression that wrote it. */
    size_t start = ex->x->out.len;
    if ((field ? open_capture(ex, field, flen, type) : emit_str(ex, "(?:")) < 0)
        return -1;
    size_t body = ex->x->out.len;
    const struct grok_def *def;
    if (push_pattern(ex, ref, namelen, ref, reflen, &def) < 0)
        return -1;
    int rc = expand_text(ex, def->regex);
    if (rc == 0)
        rc = emit_str(ex, ")");
    ex->depth--;
    if (rc == 0 &&
        grok_expansion_record(ex->x, def, start, body, ex->x->out.len) < 0)
        rc = fail(ex, SL_ENOMEM, "out of memory");
    *p = end + 1;
    return rc;
}

/* (?<name>  (?'name'  (?P<name>  at *p (pointing at '('). 0: not a named
 * group, nothing consumed; 1: handled; -1: error. */
static int expand_named_group(struct expander *ex, const char **p)
{
    const char *s = *p + 2; /* after "(?" */
    char close;
    if (s[0] == '<' && s[1] != '=' && s[1] != '!') {
        s += 1;
        close = '>';
    } else if (s[0] == 'P' && s[1] == '<') {
        s += 2;
        close = '>';
    } else if (s[0] == '\'') {
        s += 1;
        close = '\'';
    } else {
        return 0;
    }
    const char *end = strchr(s, close);
    if (end == NULL || end == s)
        return fail(ex, SL_EPARSE,
                    "named group at '%.20s' has no name or no "
                    "closing '%c'",
                    *p, close);
    if (open_capture(ex, s, (size_t)(end - s), GROK_TYPE_STRING) < 0)
        return -1;
    *p = end + 1;
    return 1;
}

/* (?imx-imx) or (?imx-imx: at *p: copies with m -> s. 0 if not an option
 * group. */
static int expand_options(struct expander *ex, const char **p)
{
    const char *s = *p + 2;
    const char *q = s;
    while (*q == 'i' || *q == 'm' || *q == 'x' || *q == '-')
        q++;
    if (q == s || (*q != ')' && *q != ':'))
        return 0;
    if (emit_str(ex, "(?") < 0)
        return -1;
    for (const char *c = s; c <= q; c++)
        if (emit(ex, *c == 'm' ? "s" : c, 1) < 0)
            return -1;
    *p = q + 1;
    return 1;
}

/* A backslash escape at *p, inside a class or not. */
static int expand_escape(struct expander *ex, const char **p, bool in_class)
{
    const char *s = *p;
    if (s[1] == '\0') {
        *p = s + 1;
        return emit(ex, s, 1);
    }
    *p = s + 2;
    /* Without PCRE2_UCP, [:xdigit:] is exactly [0-9A-Fa-f], and the POSIX
     * form is the one way to put "not a hex digit" inside a class. */
    if (s[1] == 'h')
        return emit_str(ex, in_class ? "[:xdigit:]" : "[0-9a-fA-F]");
    if (s[1] == 'H')
        return emit_str(ex, in_class ? "[:^xdigit:]" : "[^0-9a-fA-F]");
    /* PCRE2 10.42's JIT with MATCH_INVALID_UTF lets \S, \D and \W outside a
     * class miss non-ASCII characters; the class forms are equivalent and
     * work. */
    if ((s[1] == 'S' || s[1] == 'D' || s[1] == 'W') && !in_class) {
        char cls[6] = {'[', '^', '\\', (char)(s[1] - 'A' + 'a'), ']', '\0'};
        return emit_str(ex, cls);
    }
    if (s[1] == 'k' && s[2] == '<' && !in_class) {
        const char *end = strchr(s + 3, '>');
        if (end != NULL) {
            const struct grok_capture *c =
                capture_named(ex, s + 3, (size_t)(end - s - 3));
            if (c == NULL)
                return fail(ex, SL_EINVAL,
                            "back-reference '%.*s' names no capture before it",
                            (int)(end - s + 1), s);
            *p = end + 1;
            return emit_group(ex, "\\k<", c->gname, ">");
        }
    }
    return emit(ex, s, 2);
}

/* Copies a character class starting at *p ('[') up to its closing ']'. */
static int copy_class(struct expander *ex, const char **p)
{
    const char *s = *p;
    size_t i = 1;
    if (s[i] == '^')
        i++;
    if (s[i] == ']')
        i++; /* a leading ']' is literal */
    if (emit(ex, s, i) < 0)
        return -1;
    s += i;
    while (*s != '\0' && *s != ']') {
        if (*s == '\\') {
            if (expand_escape(ex, &s, true) < 0)
                return -1;
        } else if (s[0] == '[' && s[1] == ':') {
            const char *end = strstr(s, ":]");
            size_t n = end ? (size_t)(end - s) + 2 : 1;
            if (emit(ex, s, n) < 0)
                return -1;
            s += n;
        } else {
            if (emit(ex, s, 1) < 0)
                return -1;
            s++;
        }
    }
    if (*s == ']') {
        if (emit(ex, s, 1) < 0)
            return -1;
        s++;
    }
    *p = s;
    return 0;
}

/* {,n} -> {0,n}. 1 if rewritten. */
static int expand_brace(struct expander *ex, const char **p)
{
    const char *s = *p;
    if (s[1] != ',')
        return 0;
    size_t i = 2;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == 2 || s[i] != '}')
        return 0;
    if (emit_str(ex, "{0") < 0 || emit(ex, s + 1, i) < 0)
        return -1;
    *p = s + i + 1;
    return 1;
}

/* Notes where the expression's own text at src lands in out (top level
 * only: the text of a referenced pattern maps to the reference). */
static int note_source(struct expander *ex, const char *text, const char *src,
                       bool linear)
{
    struct grok_expansion *x = ex->x;
    if (ex->depth != 1)
        return 0;
    struct grok_srcmap *m =
        room_for_one(x->map, x->nmap, &x->mapcap, sizeof *m, 16);
    if (m == NULL)
        return fail(ex, SL_ENOMEM, "out of memory");
    x->map = m;
    x->map[x->nmap++] =
        (struct grok_srcmap){x->out.len, (size_t)(src - text), linear};
    return 0;
}

static int expand_text(struct expander *ex, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        int rc = 0;
        const char *run = p;
        /* Copy ordinary bytes in one go. */
        while (*p && *p != '\\' && *p != '[' && *p != '%' && *p != '(' &&
               *p != '{')
            p++;
        if (p > run && (note_source(ex, text, run, true) < 0 ||
                        emit(ex, run, (size_t)(p - run)) < 0))
            return -1;
        if (*p == '\0')
            break;
        if (note_source(ex, text, p, false) < 0)
            return -1;
        if (*p == '\\') {
            rc = expand_escape(ex, &p, false);
        } else if (*p == '[') {
            rc = copy_class(ex, &p);
        } else if (p[0] == '%' && p[1] == '{') {
            p += 2;
            rc = expand_reference(ex, &p);
        } else if (p[0] == '(' && p[1] == '?') {
            rc = expand_named_group(ex, &p);
            if (rc == 0)
                rc = expand_options(ex, &p);
            if (rc == 0) {
                rc = emit(ex, p, 2);
                p += 2;
            }
        } else if (*p == '{') {
            rc = expand_brace(ex, &p);
            if (rc == 0) {
                rc = emit(ex, p, 1);
                p++;
            }
        } else {
            rc = emit(ex, p, 1);
            p++;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

int grok_expansion_run(const struct grok_library *lib, struct grok_expansion *x,
                       struct sl_err *err)
{
    struct expander ex = {.lib = lib, .x = x, .depth = 1, .err = err};
    ex.stack[0].name = NULL;
    ex.stack[0].def = NULL;
    sl_buf_init(&x->out, GROK_EXPANDED_MAX);
    if (expand_text(&ex, x->text) < 0)
        return -1;
    if (sl_buf_reserve(&x->out, 0, err) < 0) /* make ptr non-NULL */
        return -1;
    return 0;
}

char *grok_expand(const struct grok_library *lib, const char *expr,
                  struct sl_err *err)
{
    struct grok_expansion x = {.text = expr};
    char *re = NULL;
    if (grok_expansion_run(lib, &x, err) == 0 &&
        (re = sl_buf_take(&x.out)) == NULL)
        sl_err_set(err, SL_ENOMEM, "out of memory");
    grok_expansion_release(&x);
    return re;
}

int grok_expansion_record(struct grok_expansion *x, const struct grok_def *def,
                          size_t start, size_t body, size_t end)
{
    struct grok_ref *r =
        room_for_one(x->refs, x->nrefs, &x->refcap, sizeof *r, 32);
    if (r == NULL)
        return -1;
    x->refs = r;
    x->refs[x->nrefs++] = (struct grok_ref){def, start, body, end};
    return 0;
}

size_t grok_expansion_source(const struct grok_expansion *x, size_t off)
{
    size_t len = strlen(x->text), i = x->nmap;
    if (off >= x->out.len)
        return len;
    while (i > 0 && x->map[i - 1].out > off)
        i--;
    if (i == 0)
        return 0;
    const struct grok_srcmap *m = &x->map[i - 1];
    size_t src = m->linear ? m->src + (off - m->out) : m->src;
    return src < len ? src : len;
}

void grok_expansion_release(struct grok_expansion *x)
{
    sl_buf_release(&x->out);
    for (size_t i = 0; i < x->ncaps; i++)
        sl_fieldpath_release(&x->caps[i].path);
    free(x->caps);
    free(x->refs);
    free(x->map);
    memset(x, 0, sizeof *x);
}
