/* sl_ansi.h: the terminal colour codes around a log line.
 *
 * Loggers that colour their output (uvicorn's, colorlog, Spring Boot's
 * console pattern, winston's colorize, loguru to a terminal) write ANSI
 * control sequences (CSI: ESC '[', parameter bytes 0x30-0x3F, intermediate
 * bytes 0x20-0x2F, a final byte 0x40-0x7E; "\x1b[31m" red, "\x1b[0m"
 * reset) around a level or a whole line, and their output is often
 * redirected to a file as it is. The bytes stay in the event (nothing is
 * lost); what reads a line's shape (the multiline presets, the traceback
 * processor) looks at it without the sequences at its start and end. */
#ifndef SL_ANSI_H
#define SL_ANSI_H

#include <stddef.h>

#include "sl_slice.h"

/* Bytes of the CSI sequence at s[0..n), 0 when none is there. */
static inline size_t sl_ansi_csi_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != '\x1b' || s[1] != '[')
        return 0;
    size_t i = 2;
    while (i < n && s[i] >= 0x20 && s[i] <= 0x3F)
        i++;
    return i < n && s[i] >= 0x40 && s[i] <= 0x7E ? i + 1 : 0;
}

/* s[0..n) without the CSI sequences at its start and the colour ones
 * ("\x1b[...m") at its end. By value, so a caller's length stays in a
 * register: this runs on every line a preset decides. */
static inline struct sl_slice sl_ansi_plain(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '\x1b' && s[n - 1] != 'm'))
        return (struct sl_slice){s, n}; /* the common case */
    size_t k;
    while ((k = sl_ansi_csi_len(s, n)) > 0) {
        s += k;
        n -= k;
    }
    while (n >= 3 && s[n - 1] == 'm') {
        size_t i = n - 1;
        while (i > 0 &&
               ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == ';'))
            i--;
        if (i < 2 || s[i - 1] != '[' || s[i - 2] != '\x1b')
            break;
        n = i - 2;
    }
    return (struct sl_slice){s, n};
}

#endif
