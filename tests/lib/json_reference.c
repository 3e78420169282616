/* json_reference.c: see json_reference.h. Deliberately the plainest code:
 * one byte at a time, no tables, no words. */
#include "json_reference.h"

#include <string.h>

#include "sl_json.h"

size_t json_reference_string(const unsigned char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = c >= 0x80 ? sl_utf8_seq_len(s + i, len - i) : 0;
        if (n > 0) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
            continue;
        }
        i++;
        if (c >= 0x80) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            const char *named = c == '\n'   ? "n"
                                : c == '\r' ? "r"
                                : c == '\t' ? "t"
                                : c == '\b' ? "b"
                                : c == '\f' ? "f"
                                            : NULL;
            out[o++] = '\\';
            if (named != NULL) {
                out[o++] = named[0];
            } else {
                memcpy(out + o, "u00", 3);
                out[o + 3] = hex[c >> 4];
                out[o + 4] = hex[c & 15];
                o += 5;
            }
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}
