/* fuzz_status_answer.c: what `sluice-shipper status` reads from the
 * daemon's socket: the raw HTTP answer (shipper_status_answer) and, when it
 * says 200, the summary of its JSON body (shipper_status_summarise, through
 * sl_cli_json_shallow and yajl_tree). Checks: a parsed answer has a code
 * from 0 to 999 and a body inside the input, after its blank line; the
 * summary never crashes or leaks on any body, however nested, its "files"
 * rows included. The same bytes as the query of a /status request
 * (status_files_query_after, the daemon's side of paging): a found
 * "after" is NUL-terminated inside its buffer and holds no NUL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shipper_cli.h"
#include "status_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    const char *in = (const char *)data;
    long code;
    size_t at;
    char after[256];
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    int found = status_files_query_after(in, size, after, sizeof after);
    if (found == 1 && strnlen(after, sizeof after) == sizeof after)
        abort();
    if (size > (1u << 20) || shipper_status_answer(in, size, &code, &at) < 0)
        return 0;
    if (code < 0 || code > 999 || at < 16 || at > size ||
        memcmp(in + at - 4, "\r\n\r\n", 4) != 0)
        abort();
    if (code != 200)
        return 0;
    char *body = malloc(size - at + 1);
    if (body == NULL)
        return 0;
    memcpy(body, in + at, size - at);
    body[size - at] = '\0';
    shipper_status_summarise(body, "127.0.0.1:5066", sink);
    free(body);
    return 0;
}
