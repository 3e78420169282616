/* sl_http_request.c: see sl_http_request.h.
 *
 * The head is parsed from its first byte on every call: it is small and
 * the parser linear, so no state is kept between calls. */
#include "sl_http_request.h"

#include <stdbool.h>
#include <string.h>

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The request line line[0..n) (no line end): METHOD SP /target SP
 * HTTP/1.d. Returns 0 and fills req, or -1. */
static int parse_request_line(const char *line, size_t n,
                              struct sl_http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ' ')
        return -1;
    req->method = (struct sl_slice){line, i};
    size_t t = ++i;
    while (i < n && (unsigned char)line[i] > ' ' &&
           (unsigned char)line[i] < 0x7f)
        i++;
    if (i == t || line[t] != '/' || i >= n || line[i] != ' ')
        return -1;
    req->target = (struct sl_slice){line + t, i - t};
    size_t p = t;
    while (p < i && line[p] != '?' && line[p] != '#')
        p++;
    req->path = (struct sl_slice){line + t, p - t};
    i++;
    if (n - i != 8 || memcmp(line + i, "HTTP/1.", 7) != 0 ||
        line[i + 7] < '0' || line[i + 7] > '9')
        return -1;
    req->minor_version = line[i + 7] - '0';
    return 0;
}

/* Whether the method seen so far (no SP yet) can still become a token. */
static bool method_prefix_ok(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == ' ')
            return i > 0;
        if (!is_tchar((unsigned char)buf[i]))
            return false;
    }
    return true;
}

/* A header line [0..n) (no line end): name ":" value, with no NUL or CR in
 * it and no leading whitespace (obsolete line folding). */
static bool header_line_ok(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ':')
        return false;
    return memchr(line, '\0', n) == NULL && memchr(line, '\r', n) == NULL;
}

/* The line at buf[from..end): its length without "\r\n" or "\n" in *n,
 * and the offset after its end, or 0 when no '\n' comes before end. */
static size_t next_line(const char *buf, size_t from, size_t end, size_t *n)
{
    const char *nl = memchr(buf + from, '\n', end - from);
    if (nl == NULL)
        return 0;
    size_t k = (size_t)(nl - (buf + from));
    if (k > 0 && buf[from + k - 1] == '\r')
        k--;
    *n = k;
    return (size_t)(nl - buf) + 1;
}

enum sl_http_parse sl_http_parse_request(const char *buf, size_t len,
                                         size_t max,
                                         struct sl_http_request *req)
{
    size_t end = len < max ? len : max, n;
    memset(req, 0, sizeof *req);
    size_t pos = next_line(buf, 0, end, &n);
    if (pos == 0) {
        if (!method_prefix_ok(buf, end))
            return SL_HTTP_PARSE_BAD;
        return len >= max ? SL_HTTP_PARSE_URI_TOO_LONG
                          : SL_HTTP_PARSE_INCOMPLETE;
    }
    if (parse_request_line(buf, n, req) < 0)
        return SL_HTTP_PARSE_BAD;
    for (;;) {
        size_t from = pos;
        pos = next_line(buf, from, end, &n);
        if (pos == 0)
            return len >= max ? SL_HTTP_PARSE_HEADERS_TOO_LARGE
                              : SL_HTTP_PARSE_INCOMPLETE;
        if (n == 0) {
            req->head_len = pos;
            return SL_HTTP_PARSE_DONE;
        }
        if (!header_line_ok(buf + from, n))
            return SL_HTTP_PARSE_BAD;
    }
}
