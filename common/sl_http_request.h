/* sl_http_request.h: the HTTP/1.x request-head parser of sl_http_server:
 * pure, bytes in, no I/O (fuzzed). */
#ifndef SL_HTTP_REQUEST_H
#define SL_HTTP_REQUEST_H

#include <stddef.h>

#include "sl_slice.h"

enum sl_http_parse {
    SL_HTTP_PARSE_INCOMPLETE,       /* no blank line yet: read more */
    SL_HTTP_PARSE_DONE,             /* the head is complete: req is set */
    SL_HTTP_PARSE_BAD,              /* not HTTP/1.x: answer 400 */
    SL_HTTP_PARSE_URI_TOO_LONG,     /* request line > max: answer 414 */
    SL_HTTP_PARSE_HEADERS_TOO_LARGE /* head > max: answer 431 */
};

struct sl_http_request {
    struct sl_slice method; /* "GET"; a token, case-sensitive */
    struct sl_slice target; /* "/metrics?x=1", always starting with '/' */
    struct sl_slice path;   /* "/metrics": the target up to '?' or '#' */
    int minor_version;      /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
    size_t head_len;        /* bytes up to and including the blank line */
};

/* Parses the request head at buf[0..len), which holds everything received
 * so far. Accepts CRLF or bare LF line ends; refuses a malformed request
 * line as soon as it is seen (without waiting for the headers), header
 * lines without a name and colon, and obsolete line folding. Only the
 * origin form of the target ("/path") is accepted. With DONE, req points
 * into buf. max is the head limit (SL_HTTP_MAX_HEADER in the server). */
enum sl_http_parse sl_http_parse_request(const char *buf, size_t len,
                                         size_t max,
                                         struct sl_http_request *req);

#endif
