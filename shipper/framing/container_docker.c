/* container_docker.c: one line of Docker's json-file driver.
 *
 * Docker writes {"log":"...","stream":"stdout","attrs":{...},"time":"..."}
 * (attrs only with the log-opt labels/env), escaping as Go's encoding/json
 * does: \" \\ \n \r \t, \u00XX for other control bytes, \u003c \u003e
 * \u0026 for < > &, \u2028 \u2029, and U+FFFD for invalid UTF-8. This
 * reads any JSON object, in any member order, whatever the escapes: the
 * three members it needs must be strings (the last one wins when a key
 * comes twice, as in Go), every other member is checked and skipped, and
 * nothing may follow the object but blanks. A line that fails any of that
 * is not the format.
 *
 * The parse keeps the `log` value escaped: one pass checks the line, the
 * caller then unescapes straight into the record (container_unescape), so
 * a split line's parts are copied once, and a value with no escape but its
 * final "\n" not at all. Not done: the keys' escapes ("\u006cog" is not
 * "log"; no writer spells keys so), and numbers' ranges (skipped values). */
#include "container_parse.h"

#include <string.h>

#include "sl_rfc3339.h"

#define MAX_DEPTH 32 /* nested values skipped inside a member */

struct scan {
    const char *p, *end;
};

static void blanks(struct scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static bool hex4(const char *p)
{
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* A string at s->p (its opening quote): its body in *body, *escaped when it
 * holds a backslash; s->p past the closing quote. -1 if not a string. */
static int string(struct scan *s, struct sl_slice *body, bool *escaped)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    const char *start = ++s->p;
    *escaped = false;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            body->ptr = start;
            body->len = (size_t)(s->p - start);
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            s->p++;
            continue;
        }
        *escaped = true;
        if (s->end - s->p < 2)
            return -1;
        char e = s->p[1];
        if (e == 'u') {
            if (s->end - s->p < 6 || !hex4(s->p + 2))
                return -1;
            s->p += 6;
        } else {
            switch (e) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                s->p += 2;
                break;
            default:
                return -1;
            }
        }
    }
    return -1;
}

static int digits(struct scan *s)
{
    const char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > from ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct scan *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (digits(s) < 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) < 0)
            return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (digits(s) < 0)
            return -1;
    }
    return 0;
}

static int literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

static int skip_value(struct scan *s, int depth);

/* An object or array at s->p, skipped; close is '}' or ']'. */
static int skip_container(struct scan *s, char close, int depth)
{
    struct sl_slice body;
    bool esc;
    s->p++;
    blanks(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (string(s, &body, &esc) < 0)
                return -1;
            blanks(s);
            if (s->p >= s->end || *s->p++ != ':')
                return -1;
            blanks(s);
        }
        if (skip_value(s, depth + 1) < 0)
            return -1;
        blanks(s);
        if (s->p >= s->end)
            return -1;
        char c = *s->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return -1;
        blanks(s);
    }
}

static int skip_value(struct scan *s, int depth)
{
    if (s->p >= s->end || depth > MAX_DEPTH)
        return -1;
    struct sl_slice body;
    bool esc;
    switch (*s->p) {
    case '"':
        return string(s, &body, &esc);
    case '{':
        return skip_container(s, '}', depth);
    case '[':
        return skip_container(s, ']', depth);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        return number(s);
    }
}

/* The escaped length (2 or 6) of the escape of c ('n' or 'r': "\n",
 * "\u000a") that ends v, after an even run of backslashes; 0 if none. */
static size_t escape_at_end(struct sl_slice v, char c)
{
    static const char hex[2][2] = {{'a', 'A'}, {'d', 'D'}};
    const char *h = hex[c == 'r'];
    size_t n = v.len, k;
    if (n >= 2 && v.ptr[n - 1] == c && v.ptr[n - 2] == '\\')
        k = 2;
    else if (n >= 6 && v.ptr[n - 6] == '\\' && v.ptr[n - 5] == 'u' &&
             memcmp(v.ptr + n - 4, "000", 3) == 0 &&
             (v.ptr[n - 1] == h[0] || v.ptr[n - 1] == h[1]))
        k = 6;
    else
        return 0;
    size_t run = 0; /* backslashes before the escape's own */
    while (run < n - k && v.ptr[n - k - 1 - run] == '\\')
        run++;
    return run % 2 == 0 ? k : 0;
}

struct members {
    struct sl_slice log, stream, time;
    bool log_escaped, has_log, has_stream, has_time, stream_escaped,
        time_escaped;
};

/* One member: the three that matter are kept, the rest skipped. */
static int member(struct scan *s, struct members *m)
{
    struct sl_slice key;
    bool esc;
    if (string(s, &key, &esc) < 0)
        return -1;
    blanks(s);
    if (s->p >= s->end || *s->p++ != ':')
        return -1;
    blanks(s);
    if (!esc && sl_slice_eq(key, "log", 3)) {
        m->has_log = true;
        return string(s, &m->log, &m->log_escaped);
    }
    if (!esc && sl_slice_eq(key, "stream", 6)) {
        m->has_stream = true;
        return string(s, &m->stream, &m->stream_escaped);
    }
    if (!esc && sl_slice_eq(key, "time", 4)) {
        m->has_time = true;
        return string(s, &m->time, &m->time_escaped);
    }
    return skip_value(s, 1);
}

static int object(struct scan *s, struct members *m)
{
    blanks(s);
    if (s->p >= s->end || *s->p++ != '{')
        return -1;
    blanks(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (member(s, m) < 0)
            return -1;
        blanks(s);
        if (s->p >= s->end)
            return -1;
        char c = *s->p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return -1;
        blanks(s);
    }
}

int container_parse_docker(const char *line, size_t len,
                           struct container_part *part)
{
    struct scan s = {line, line + len};
    struct members m = {0};
    if (object(&s, &m) < 0)
        return -1;
    blanks(&s);
    if (s.p != s.end || !m.has_log || !m.has_stream || !m.has_time ||
        m.stream_escaped || m.time_escaped)
        return -1;
    if (sl_slice_eq(m.stream, "stdout", 6))
        part->stream = CONTAINER_LOG_STREAM_STDOUT;
    else if (sl_slice_eq(m.stream, "stderr", 6))
        part->stream = CONTAINER_LOG_STREAM_STDERR;
    else
        return -1;
    if (sl_rfc3339_parse_ms(m.time.ptr, m.time.len, &part->time_ms) < 0)
        return -1;
    /* a full line ends with "\n" (and "\r\n" loses its "\r" too, as
     * line_reader cuts "\r\n"); a part of a split line does not */
    part->text = m.log;
    size_t k = escape_at_end(part->text, 'n');
    part->partial = k == 0;
    part->text.len -= k;
    if (k > 0)
        part->text.len -= escape_at_end(part->text, 'r');
    /* "\n" was the only escape: the text is the bytes as they are */
    part->escaped =
        m.log_escaped && memchr(part->text.ptr, '\\', part->text.len) != NULL;
    return 0;
}

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    return (unsigned)((c | 0x20) - 'a' + 10);
}

static unsigned hex4val(const char *p)
{
    return hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 |
           hexval(p[3]);
}

static size_t utf8(unsigned cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The character of the escape at s[0..len) (s[0] is the backslash); *used
 * its escaped length. A high surrogate followed by a low one is one
 * character; any other surrogate is U+FFFD, as Go decodes it. */
static unsigned escape(const char *s, size_t len, size_t *used)
{
    *used = 2;
    switch (s[1]) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u':
        break;
    default: /* " \ / */
        return (unsigned char)s[1];
    }
    *used = 6;
    unsigned cp = hex4val(s + 2);
    if (cp < 0xD800 || cp > 0xDFFF)
        return cp;
    if (cp <= 0xDBFF && len >= 12 && s[6] == '\\' && s[7] == 'u' &&
        hex4(s + 8)) {
        unsigned lo = hex4val(s + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *used = 12;
            return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
    }
    return 0xFFFD;
}

size_t container_unescape(const char *s, size_t len, char *dst, size_t room,
                          bool *cut)
{
    size_t i = 0, o = 0;
    *cut = false;
    while (i < len) {
        const char *bs = memchr(s + i, '\\', len - i);
        size_t plain = (bs != NULL ? (size_t)(bs - s) : len) - i;
        if (plain > room - o) {
            memcpy(dst + o, s + i, room - o);
            *cut = true;
            return room;
        }
        memcpy(dst + o, s + i, plain);
        o += plain;
        i += plain;
        if (i == len)
            break;
        size_t used;
        char ch[4];
        size_t n = utf8(escape(s + i, len - i, &used), ch);
        if (n > room - o) {
            *cut = true;
            return o;
        }
        memcpy(dst + o, ch, n);
        o += n;
        i += used;
    }
    return o;
}
