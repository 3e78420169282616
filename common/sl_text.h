/* sl_text.h: outside bytes shown in a one-line message.
 *
 * Config values, stream entry fields, server answers: when a message has to
 * show what was found, it shows it through sl_text_quote, so every message
 * quotes the same way and none can be broken by the bytes it quotes. */
#ifndef SL_TEXT_H
#define SL_TEXT_H

#include <stddef.h>

/* Writes s[0..len) into buf as `quote`-quoted text: the quote character and
 * backslash escaped with a backslash, control bytes, DEL and bytes that are
 * not valid UTF-8 as \xNN, valid UTF-8 as it is. Cut between characters
 * after SL_TEXT_SHOWN bytes, or when buf runs out, with "..." before the
 * closing quote. Always NUL-terminated when size >= 16 (an empty string
 * otherwise). Returns buf, to be used inline in a format. */
#define SL_TEXT_SHOWN 40
const char *sl_text_quote(char *buf, size_t size, const char *s, size_t len,
                          char quote);

#endif
