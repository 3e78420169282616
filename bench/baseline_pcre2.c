/* baseline_pcre2.c: what sluice-grok '%{HTTPD_COMBINEDLOG}' does, written by
 * hand on plain PCRE2 JIT, as the yardstick for the grok library's overhead.
 *
 *   baseline-pcre2 [--utf|--bytes] [--match-only] REGEX_FILE [FILE...]
 *
 * REGEX_FILE holds the regex that `sluice-grok --explain
 * '%{HTTPD_COMBINEDLOG}'` prints (its groups named g1..g11), so both programs
 * run the same regex; the benchmark script writes it. Compile flags are
 * sluice-grok's: PCRE2_MULTILINE | PCRE2_DOTALL, plus PCRE2_UTF |
 * PCRE2_MATCH_INVALID_UTF with --utf (--bytes is the default, as in
 * sluice-grok); the match context too (match limit 1,000,000, JIT stack 32
 * KiB..1 MiB).
 *
 * Output is byte for byte sluice-grok's: one JSON object per line, "message"
 * first, captures as nested objects in the order sluice-grok creates them,
 * status and bytes as numbers (Ruby to_i), empty captures dropped, tags for
 * lines that fail, time out or are cut. What it does NOT have is any
 * generality: the field layout of this one pattern is written out below, the
 * escaper writes straight into one big output buffer, input comes from read(2)
 * into a 4 MiB buffer and output leaves through write(2) in 1 MiB pieces. No
 * allocation per line, no event tree, no per-line clock reads.
 *
 * --match-only matches every line and writes nothing: the cost of PCRE2
 * alone, with line splitting. */
#define _POSIX_C_SOURCE       200809L
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE  ((size_t)1 << 20) /* sluice-grok's default --max-line */
#define IN_CAP    ((size_t)4 << 20) /* read buffer; > MAX_LINE */
#define OUT_FLUSH ((size_t)1 << 20) /* write(2) when this much is pending */
#define OUT_CAP   (OUT_FLUSH + 12 * MAX_LINE + 4096)
#define NGROUPS   11

/* The captures of HTTPD_COMBINEDLOG, in the order of the g<N> group names. */
enum cap {
    C_ADDR = 1, /* [source][address] */
    C_IDENT,    /* [apache][access][user][identity] */
    C_USER,     /* [user][name] */
    C_TS,       /* timestamp */
    C_METHOD,   /* [http][request][method] */
    C_URL,      /* [url][original] */
    C_VERSION,  /* [http][version] */
    C_STATUS,   /* [http][response][status_code]:int */
    C_BYTES,    /* [http][response][body][bytes]:int */
    C_REFERRER, /* [http][request][referrer] */
    C_UA        /* [user_agent][original] */
};

struct state {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint32_t group[NGROUPS + 1]; /* group number of g<i> */
    bool match_only;
    char *out;
    size_t olen;
    /* The current match: start and length of each capture, -1 if unset. */
    const char *subject;
    const char *cs[NGROUPS + 1];
    size_t cl[NGROUPS + 1];
    unsigned long long lines, matched;
};

/* 0: copy as is; 1: escape (ASCII) or check UTF-8 (>= 0x80). */
static unsigned char care[256];

/* strerror is banned in the tree (scripts/check-source): this program has
 * one thread, but stands alone, so it has its own sl_strerror (XSI
 * strerror_r, which _POSIX_C_SOURCE without _GNU_SOURCE gives). */
static const char *errtext(int e)
{
    static char buf[128];
    int rc = strerror_r(e, buf, sizeof buf);
    if (rc != 0)
        snprintf(buf, sizeof buf, "unknown error %d", e);
    return buf;
}

static void init_care(void)
{
    for (int c = 0; c < 256; c++)
        care[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/* Length of the valid UTF-8 sequence at s (2..4), or 0 (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Writes "s" escaped at o; returns the new end. Needs 6 * n + 2 bytes. */
static char *put_string(char *o, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (!care[c]) {
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_len(s + i, n - i);
            if (k == 0) {
                memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD per bad byte */
                o += 3;
                i++;
            } else {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            }
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = hex[c >> 4], *o++ = hex[c & 15];
        }
        i++;
    }
    *o++ = '"';
    return o;
}

/* Ruby's to_i on what INT matched ([+-]?[0-9]+): sign, no leading zeros,
 * "-0" is 0. */
static char *put_int(char *o, const char *s, size_t n)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    while (i + 1 < n && s[i] == '0')
        i++;
    if (i >= n || (i + 1 == n && s[i] == '0')) {
        *o++ = '0';
        return o;
    }
    if (neg)
        *o++ = '-';
    memcpy(o, s + i, n - i);
    return o + (n - i);
}

#define PUT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

static bool has(const struct state *st, int c)
{
    return st->cs[c] != NULL;
}

/* The "request" object: method and referrer, in that order. */
static char *put_request(const struct state *st, char *o)
{
    o = PUT(o, "\"request\":{");
    if (has(st, C_METHOD)) {
        o = PUT(o, "\"method\":");
        o = put_string(o, st->cs[C_METHOD], st->cl[C_METHOD]);
    }
    if (has(st, C_REFERRER)) {
        if (has(st, C_METHOD))
            *o++ = ',';
        o = PUT(o, "\"referrer\":");
        o = put_string(o, st->cs[C_REFERRER], st->cl[C_REFERRER]);
    }
    *o++ = '}';
    return o;
}

static char *put_response(const struct state *st, char *o)
{
    o = PUT(o, "\"response\":{");
    if (has(st, C_STATUS)) {
        o = PUT(o, "\"status_code\":");
        o = put_int(o, st->cs[C_STATUS], st->cl[C_STATUS]);
    }
    if (has(st, C_BYTES)) {
        if (has(st, C_STATUS))
            *o++ = ',';
        o = PUT(o, "\"body\":{\"bytes\":");
        o = put_int(o, st->cs[C_BYTES], st->cl[C_BYTES]);
        *o++ = '}';
    }
    *o++ = '}';
    return o;
}

/* "http" holds request, version and response in the order they were first
 * set: request by method (5) or, without one, by referrer (10); version (7);
 * response by status (8) or bytes (9). */
static char *put_http(const struct state *st, char *o)
{
    int req = has(st, C_METHOD) ? 5 : has(st, C_REFERRER) ? 10 : 0;
    int ver = has(st, C_VERSION) ? 7 : 0;
    int resp = has(st, C_STATUS) ? 8 : has(st, C_BYTES) ? 9 : 0;
    bool first = true;
    o = PUT(o, ",\"http\":{");
    for (int t = 5; t <= 10; t++) {
        if (t != req && t != ver && t != resp)
            continue;
        if (!first)
            *o++ = ',';
        first = false;
        if (t == req) {
            o = put_request(st, o);
        } else if (t == ver) {
            o = PUT(o, "\"version\":");
            o = put_string(o, st->cs[C_VERSION], st->cl[C_VERSION]);
        } else {
            o = put_response(st, o);
        }
    }
    *o++ = '}';
    return o;
}

/* The top-level members after "message", in creation order: http comes
 * before url when it has a method (both set by the request line), and after
 * timestamp in any case, so the fixed order below is the creation order. */
static char *put_captures(const struct state *st, char *o)
{
    if (has(st, C_ADDR)) {
        o = PUT(o, ",\"source\":{\"address\":");
        o = put_string(o, st->cs[C_ADDR], st->cl[C_ADDR]);
        *o++ = '}';
    }
    if (has(st, C_IDENT)) {
        o = PUT(o, ",\"apache\":{\"access\":{\"user\":{\"identity\":");
        o = put_string(o, st->cs[C_IDENT], st->cl[C_IDENT]);
        o = PUT(o, "}}}");
    }
    if (has(st, C_USER)) {
        o = PUT(o, ",\"user\":{\"name\":");
        o = put_string(o, st->cs[C_USER], st->cl[C_USER]);
        *o++ = '}';
    }
    if (has(st, C_TS)) {
        o = PUT(o, ",\"timestamp\":");
        o = put_string(o, st->cs[C_TS], st->cl[C_TS]);
    }
    if (has(st, C_METHOD) || has(st, C_VERSION) || has(st, C_STATUS) ||
        has(st, C_BYTES) || has(st, C_REFERRER))
        o = put_http(st, o);
    if (has(st, C_URL)) {
        o = PUT(o, ",\"url\":{\"original\":");
        o = put_string(o, st->cs[C_URL], st->cl[C_URL]);
        *o++ = '}';
    }
    if (has(st, C_UA)) {
        o = PUT(o, ",\"user_agent\":{\"original\":");
        o = put_string(o, st->cs[C_UA], st->cl[C_UA]);
        *o++ = '}';
    }
    return o;
}

static int flush_out(struct state *st)
{
    size_t off = 0;
    while (off < st->olen) {
        ssize_t n = write(1, st->out + off, st->olen - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "baseline-pcre2: write: %s\n", errtext(errno));
            return -1;
        }
        off += (size_t)n;
    }
    st->olen = 0;
    return 0;
}

enum result { R_NOMATCH, R_MATCH, R_TIMEOUT };

static enum result match_line(struct state *st, const char *s, size_t len)
{
    int rc = pcre2_match(st->code, (PCRE2_SPTR)s, len, 0, 0, st->md, st->mctx);
    if (rc < 0)
        return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                       rc == PCRE2_ERROR_HEAPLIMIT ||
                       rc == PCRE2_ERROR_JIT_STACKLIMIT
                   ? R_TIMEOUT
                   : R_NOMATCH;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st->md);
    uint32_t nov = pcre2_get_ovector_count(st->md);
    for (int c = 1; c <= NGROUPS; c++) {
        uint32_t g = st->group[c];
        st->cs[c] = NULL;
        /* Unset and empty captures are dropped, as sluice-grok does. */
        if (g < nov && ov[2 * g] != PCRE2_UNSET && ov[2 * g + 1] > ov[2 * g]) {
            st->cs[c] = s + ov[2 * g];
            st->cl[c] = ov[2 * g + 1] - ov[2 * g];
        }
    }
    return R_MATCH;
}

static int do_line(struct state *st, const char *s, size_t len, bool cut)
{
    st->lines++;
    enum result r = match_line(st, s, len);
    st->matched += r == R_MATCH;
    if (st->match_only)
        return 0;
    if (st->olen + 12 * len + 4096 > OUT_CAP && flush_out(st) < 0)
        return -1;
    char *o = st->out + st->olen;
    o = PUT(o, "{\"message\":");
    o = put_string(o, s, len);
    if (r == R_MATCH)
        o = put_captures(st, o);
    if (r != R_MATCH || cut) {
        o = PUT(o, ",\"tags\":[");
        if (r == R_NOMATCH)
            o = PUT(o, "\"_grokparsefailure\"");
        else if (r == R_TIMEOUT)
            o = PUT(o, "\"_groktimeout\"");
        if (cut)
            o = r != R_MATCH ? PUT(o, ",\"_truncated\"")
                             : PUT(o, "\"_truncated\"");
        *o++ = ']';
    }
    o = PUT(o, "}\n");
    st->olen = (size_t)(o - st->out);
    return st->olen >= OUT_FLUSH ? flush_out(st) : 0;
}

/* Cuts buf into lines the way sluice-grok's line reader does: a trailing
 * "\r" is dropped, a line longer than MAX_LINE comes out cut (tagged) and
 * the rest of it is skipped, a last line without "\n" still counts. */
static int process_fd(struct state *st, int fd, char *buf)
{
    size_t len = 0;
    bool skipping = false;
    for (;;) {
        ssize_t n = read(fd, buf + len, IN_CAP - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "baseline-pcre2: read: %s\n", errtext(errno));
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        size_t pos = 0;
        for (;;) {
            char *start = buf + pos;
            char *nl = memchr(start, '\n', len - pos);
            if (nl == NULL)
                break;
            size_t ll = (size_t)(nl - start);
            pos += ll + 1;
            if (skipping) {
                skipping = false;
                continue;
            }
            if (ll > 0 && start[ll - 1] == '\r')
                ll--;
            bool cut = ll > MAX_LINE;
            if (do_line(st, start, cut ? MAX_LINE : ll, cut) < 0)
                return -1;
        }
        if (!skipping && len - pos > MAX_LINE) {
            if (do_line(st, buf + pos, MAX_LINE, true) < 0)
                return -1;
            skipping = true;
        }
        if (skipping)
            pos = len;
        memmove(buf, buf + pos, len - pos);
        len -= pos;
    }
    if (len > 0 && !skipping && do_line(st, buf, len, false) < 0)
        return -1;
    return 0;
}

static char *read_regex(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "baseline-pcre2: cannot open '%s': %s\n", path,
                errtext(errno));
        return NULL;
    }
    static char re[1 << 16];
    size_t n = fread(re, 1, sizeof re - 1, f);
    fclose(f);
    while (n > 0 && (re[n - 1] == '\n' || re[n - 1] == '\r'))
        n--;
    re[n] = '\0';
    return re;
}

static int setup(struct state *st, const char *re, bool utf)
{
    int code;
    PCRE2_SIZE off;
    uint32_t flags = PCRE2_MULTILINE | PCRE2_DOTALL;
    if (utf)
        flags |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    st->code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, flags,
                             &code, &off, NULL);
    if (st->code == NULL) {
        char why[256];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)why, sizeof why);
        fprintf(stderr, "baseline-pcre2: regex: %s at offset %zu\n", why,
                (size_t)off);
        return -1;
    }
    if (pcre2_jit_compile(st->code, PCRE2_JIT_COMPLETE) != 0) {
        fprintf(stderr, "baseline-pcre2: JIT compile failed\n");
        return -1;
    }
    for (int c = 1; c <= NGROUPS; c++) {
        char name[8];
        snprintf(name, sizeof name, "g%d", c);
        int g = pcre2_substring_number_from_name(st->code, (PCRE2_SPTR)name);
        if (g < 0) {
            fprintf(stderr, "baseline-pcre2: regex has no group '%s'\n", name);
            return -1;
        }
        st->group[c] = (uint32_t)g;
    }
    st->md = pcre2_match_data_create_from_pattern(st->code, NULL);
    st->mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack *js = pcre2_jit_stack_create(32 * 1024, 1 << 20, NULL);
    if (st->md == NULL || st->mctx == NULL || js == NULL)
        return -1;
    pcre2_set_match_limit(st->mctx, 1000000);
    pcre2_jit_stack_assign(st->mctx, NULL, js);
    return 0;
}

int main(int argc, char **argv)
{
    static struct state st;
    bool utf = false; /* sluice-grok's default: --bytes */
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--utf") || !strcmp(argv[i], "--bytes"))
            utf = !strcmp(argv[i], "--utf");
        else if (!strcmp(argv[i], "--match-only"))
            st.match_only = true;
        else
            break;
    }
    if (i >= argc) {
        fputs("usage: baseline-pcre2 [--utf|--bytes] [--match-only] "
              "REGEX_FILE [FILE...]\n",
              stderr);
        return 2;
    }
    const char *re = read_regex(argv[i++]);
    init_care();
    if (re == NULL || setup(&st, re, utf) < 0)
        return 2;
    char *buf = malloc(IN_CAP);
    st.out = malloc(OUT_CAP);
    if (buf == NULL || st.out == NULL)
        return 1;
    int rc = 0;
    if (i >= argc)
        rc = process_fd(&st, 0, buf);
    for (; i < argc && rc == 0; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "baseline-pcre2: cannot open '%s': %s\n", argv[i],
                    errtext(errno));
            return 1;
        }
        rc = process_fd(&st, fd, buf);
        close(fd);
    }
    if (rc == 0)
        rc = flush_out(&st);
    if (st.match_only)
        fprintf(stderr, "baseline-pcre2: %llu lines, %llu matched\n", st.lines,
                st.matched);
    free(buf);
    free(st.out);
    return rc == 0 ? 0 : 1;
}
