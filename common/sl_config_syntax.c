/* sl_config_syntax.c: a JSON syntax error said the way a person who edits
 * the file can act on it.
 *
 * yajl names what it expected at the byte where it stopped; for the
 * mistakes people make most in a hand-written config that byte is often
 * not where the mistake is, and its words do not say what to write:
 *   - a comma after the last member (`"a": 1,` then `}`): yajl stops at
 *     the `}`, maybe lines below; we point at the comma;
 *   - a backslash of a regular expression (`"^\d+"`): yajl says "'\'
 *     occurs before a character which it may not"; we say `\\d`;
 *   - a string not closed on its line: yajl stops at the line break, or
 *     inside the next line; we point at the string's start;
 *   - the end of the file inside a string, a comment or an object: yajl
 *     says "premature EOF"; we say which one is open, and where it opened;
 *   - single quotes, as in Python or JavaScript;
 *   - a string in Latin-1 or another encoding: yajl stops after the bad
 *     byte, at the closing quote; we point at the byte.
 * Anything else keeps yajl's words (sl_config.c cleans them up). */
#include <stdio.h>
#include <string.h>

#include "sl_config_priv.h"

/* The first offset at or after i that is neither white space nor a
 * comment, nor one ',' or ':' between tokens. */
static size_t next_token(const struct sl_config_syntax *s, size_t i)
{
    i = sl_config_skip_space(s->buf, s->len, i);
    if (i < s->len && (s->buf[i] == ',' || s->buf[i] == ':'))
        i = sl_config_skip_space(s->buf, s->len, i + 1);
    return i;
}

static bool starts_comment(const struct sl_config_syntax *s, size_t i)
{
    return i + 1 < s->len && s->buf[i] == '/' && s->buf[i + 1] == '*';
}

/* The end of the file inside a comment, a string or a container. */
static bool at_end(const struct sl_config_syntax *s,
                   struct sl_config_explained *e)
{
    size_t t = next_token(s, s->last);
    if (t < s->len && starts_comment(s, t)) {
        e->at = t;
        snprintf(e->reason, sizeof e->reason,
                 "the comment that starts here is not closed; end it with "
                 "'*/'");
        return true;
    }
    if (t < s->len && s->buf[t] == '"') {
        e->at = t;
        snprintf(e->reason, sizeof e->reason,
                 "the string that starts here is not closed; end it with "
                 "'\"'");
        return true;
    }
    if (s->open == NULL)
        return false;
    bool obj = s->open->type == SL_CONFIG_OBJECT;
    e->at = s->len;
    snprintf(e->reason, sizeof e->reason,
             "the file ends inside the %s that starts at %u:%u; a '%c' is "
             "missing (or the file was cut short)",
             obj ? "object" : "array", s->open->line, s->open->col,
             obj ? '}' : ']');
    return true;
}

/* `,` then `}` or `]`: JSON allows no comma after the last member. */
static bool trailing_comma(const struct sl_config_syntax *s,
                           struct sl_config_explained *e)
{
    if (s->open == NULL || s->off >= s->len ||
        (s->buf[s->off] != '}' && s->buf[s->off] != ']'))
        return false;
    size_t c = sl_config_skip_space(s->buf, s->len, s->last);
    if (c >= s->off || s->buf[c] != ',' ||
        sl_config_skip_space(s->buf, s->len, c + 1) != s->off)
        return false;
    e->at = c;
    snprintf(e->reason, sizeof e->reason,
             "a ',' after the last %s; remove it (JSON allows no comma "
             "before '%c')",
             s->open->type == SL_CONFIG_OBJECT ? "member of an object"
                                               : "element of an array",
             s->buf[s->off]);
    return true;
}

/* A backslash before a letter JSON has no escape for: most often a regular
 * expression's \d, \s, \w or \. written as it is. */
static bool bad_escape(const struct sl_config_syntax *s,
                       struct sl_config_explained *e)
{
    size_t b = s->off;
    if (b + 1 >= s->len || s->buf[b] != '\\')
        return false;
    unsigned char c = (unsigned char)s->buf[b + 1];
    if (c <= ' ' || c >= 0x7F)
        return false;
    e->at = b;
    snprintf(e->reason, sizeof e->reason,
             "'\\%c' is not an escape JSON knows; write '\\\\%c' (in JSON "
             "a backslash is written twice: a regular expression's \\d is "
             "\"\\\\d\")",
             c, c);
    return true;
}

/* A control byte inside the string at t: a line break (the string was not
 * closed on its line), or a tab or other byte that must be escaped. */
static bool control_in_string(const struct sl_config_syntax *s,
                              struct sl_config_explained *e)
{
    size_t t = next_token(s, s->last);
    if (t >= s->len || s->buf[t] != '"')
        return false;
    size_t k = t + 1;
    while (k < s->len && s->buf[k] != '"' && (unsigned char)s->buf[k] >= 0x20)
        k += s->buf[k] == '\\' ? 2 : 1;
    if (k >= s->len || s->buf[k] == '"')
        return false;
    unsigned char c = (unsigned char)s->buf[k];
    if (c == '\n' || c == '\r') {
        e->at = t;
        snprintf(e->reason, sizeof e->reason,
                 "the string that starts here is not closed on its line; end "
                 "it with '\"' (a line break inside a string is written "
                 "\\n)");
    } else {
        e->at = k;
        snprintf(e->reason, sizeof e->reason,
                 "a control character (byte 0x%02X%s) inside a string; write "
                 "it as %s",
                 c, c == '\t' ? ", a tab" : "", c == '\t' ? "\\t" : "\\u00XX");
    }
    return true;
}

/* Length of the valid UTF-8 sequence at b[0..n), or 0. */
static size_t utf8_len(const unsigned char *b, size_t n)
{
    size_t len = b[0] < 0x80                    ? 1
                 : b[0] >= 0xC2 && b[0] <= 0xDF ? 2
                 : b[0] >= 0xE0 && b[0] <= 0xEF ? 3
                 : b[0] >= 0xF0 && b[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((b[i] & 0xC0) != 0x80)
            return 0;
    if ((b[0] == 0xE0 && b[1] < 0xA0) || (b[0] == 0xED && b[1] > 0x9F) ||
        (b[0] == 0xF0 && b[1] < 0x90) || (b[0] == 0xF4 && b[1] > 0x8F))
        return 0; /* overlong, a surrogate, past U+10FFFF */
    return len;
}

/* The first byte of the string at the error that is not UTF-8: yajl
 * stops after it, at a byte that may be the closing quote. */
static bool bad_utf8(const struct sl_config_syntax *s,
                     struct sl_config_explained *e)
{
    size_t t = next_token(s, s->last);
    if (t >= s->len || s->buf[t] != '"')
        return false;
    const unsigned char *b = (const unsigned char *)s->buf;
    for (size_t k = t + 1; k < s->len && b[k] != '"';) {
        size_t n = b[k] == '\\' ? 2 : utf8_len(b + k, s->len - k);
        if (n == 0) {
            e->at = k;
            snprintf(e->reason, sizeof e->reason,
                     "invalid UTF-8 in a string, found byte 0x%02X; save "
                     "the file as UTF-8",
                     b[k]);
            return true;
        }
        k += n;
    }
    return false;
}

static bool single_quote(const struct sl_config_syntax *s,
                         struct sl_config_explained *e)
{
    if (s->off >= s->len || s->buf[s->off] != '\'')
        return false;
    e->at = s->off;
    snprintf(e->reason, sizeof e->reason,
             "found ''', expected '\"': JSON writes strings and keys in "
             "double quotes");
    return true;
}

bool sl_config_syntax_explain(const struct sl_config_syntax *s,
                              struct sl_config_explained *e)
{
    if (s->at_end)
        return at_end(s, e);
    if (strstr(s->yajl, "before a character which it may not") != NULL)
        return bad_escape(s, e);
    if (strstr(s->yajl, "invalid character inside string") != NULL)
        return control_in_string(s, e);
    if (strstr(s->yajl, "invalid bytes in UTF8 string") != NULL)
        return bad_utf8(s, e);
    return trailing_comma(s, e) || single_quote(s, e);
}
