/* sl_ascii.h: character classes of ASCII, for parsers of log text. Unlike
 * <ctype.h> they do not depend on the locale and take a plain char. */
#ifndef SL_ASCII_H
#define SL_ASCII_H

#include <stdbool.h>

static inline bool sl_ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool sl_ascii_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ' ', \t, \n, \v, \f, \r: what C's isspace() and Ruby's to_i skip. */
static inline bool sl_ascii_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline char sl_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* The value of a hex digit (either case), or -1. */
static inline int sl_ascii_hex_value(char c)
{
    if (sl_ascii_digit(c))
        return c - '0';
    c = sl_ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
