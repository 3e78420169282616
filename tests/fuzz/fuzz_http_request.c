/* fuzz_http_request.c: the request-head parser of the metrics endpoint, fed
 * as the server feeds it: the bytes received so far, growing by a chunk
 * whose size the first byte picks. Checks its promises: a verdict other
 * than INCOMPLETE never changes as more bytes arrive; DONE comes with a
 * head that fits the limit and ends in a blank line, a token method, a
 * target starting with '/' and a path that is its prefix without '?' or
 * '#'; INCOMPLETE never once the limit is reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEAD 512 /* small, so the limits are reached often */

static int inside(struct sl_slice s, const char *buf, size_t len)
{
    return s.ptr >= buf && s.len <= len && s.ptr + s.len <= buf + len;
}

static void check_done(const char *buf, size_t len,
                       const struct sl_http_request *r)
{
    if (r->head_len < 2 || r->head_len > len || r->head_len > MAX_HEAD)
        abort();
    if (buf[r->head_len - 1] != '\n')
        abort();
    if (!inside(r->method, buf, r->head_len) || r->method.len == 0 ||
        memchr(r->method.ptr, ' ', r->method.len) != NULL)
        abort();
    if (!inside(r->target, buf, r->head_len) || r->target.ptr[0] != '/')
        abort();
    if (r->path.ptr != r->target.ptr || r->path.len > r->target.len ||
        memchr(r->path.ptr, '?', r->path.len) != NULL ||
        memchr(r->path.ptr, '#', r->path.len) != NULL)
        abort();
    if (r->minor_version < 0 || r->minor_version > 9)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t chunk = (size_t)data[0] % 31 + 1;
    const char *buf = (const char *)data + 1;
    size -= 1;
    enum sl_http_parse first = SL_HTTP_PARSE_INCOMPLETE;
    size_t head = 0;
    for (size_t len = 0;; len = len + chunk < size ? len + chunk : size) {
        struct sl_http_request r;
        enum sl_http_parse v = sl_http_parse_request(buf, len, MAX_HEAD, &r);
        if (first != SL_HTTP_PARSE_INCOMPLETE && v != first)
            abort(); /* a verdict given is final */
        if (v == SL_HTTP_PARSE_INCOMPLETE && len >= MAX_HEAD)
            abort(); /* the server's buffer is full: it must decide */
        if (v == SL_HTTP_PARSE_DONE) {
            check_done(buf, len, &r);
            if (head != 0 && r.head_len != head)
                abort();
            head = r.head_len;
        }
        first = v;
        if (len == size)
            break;
    }
    return 0;
}
