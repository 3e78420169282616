/* sl_text.c: see sl_text.h. */
#include "sl_text.h"

#include <stdio.h>
#include <string.h>

#include "sl_json.h"

const char *sl_text_quote(char *buf, size_t size, const char *s, size_t len,
                          char quote)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    if (size < 16) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = quote;
    /* Room is kept for the longest piece (4 bytes of UTF-8, or "\xNN"),
     * "...", the closing quote and the NUL. */
    while (i < len && i < SL_TEXT_SHOWN && o + 9 < size) {
        unsigned char c = u[i];
        size_t seq = c >= 0x80 ? sl_utf8_seq_len(u + i, len - i) : 1;
        if (c == (unsigned char)quote || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F || seq == 0) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
            seq = 1;
        } else {
            memcpy(buf + o, u + i, seq);
            o += seq;
        }
        i += seq;
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = quote;
    buf[o] = '\0';
    return buf;
}
