/* fuzz_grok_compile.c: pattern-library text and a grok expression from
 * outside input. Layout: library text, a NUL byte, the expression. Anything
 * may fail to compile; nothing may crash, leak or hang. Whatever compiles is
 * matched once against the input itself; whatever does not is expanded
 * alone (grok_expand, as --explain does then). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t liblen = strlen(buf);
    const char *expr = liblen < size ? buf + liblen + 1 : "%{A}";
    struct grok_library *lib = grok_library_new();
    struct sl_err err;
    SL_IGNORE_RESULT(grok_library_load_text(lib, "fuzz", buf, liblen, &err));
    struct grok_options o = {.match_limit = 100000};
    o.utf = size > 0 && (data[0] & 1);
    struct grok *g = grok_compile(lib, &expr, 1, &o, &err);
    if (g != NULL) {
        grok_match(g, (const char *)data, size);
        grok_free(g);
    } else {
        free(grok_expand(lib, expr, &err));
    }
    grok_library_free(lib);
    free(buf);
    return 0;
}
