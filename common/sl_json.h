/* sl_json.h: a minimal JSON writer into an sl_buf.
 *
 * Faster than a generator with a state machine (libyajl's generator costs
 * 4.4x this writer per Apache-shaped event, 5.4x with its UTF-8 check:
 * bench/bench_json.c) because the caller already knows the structure; it
 * only escapes. Whatever bytes come in, what
 * comes out is valid JSON text: invalid UTF-8 becomes U+FFFD (one per bad
 * byte, as the WHATWG decoder does), control characters and NUL become \u
 * escapes. Every function returns 0, or -1 when the buffer hits its maximum
 * (err says so). Parsing JSON is not done here: config parsing uses libyajl. */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_err.h"

/* Appends "..." with s escaped. */
SL_MUST_CHECK int sl_json_write_string(struct sl_buf *b, const char *s,
                                       size_t len, struct sl_err *err);
/* For a writer that reserves room for a whole member at once (the event
 * writer): writes s[0..len) escaped, without quotes, at o and returns the
 * end of what it wrote. The caller provides room for the worst case,
 * SL_JSON_ESCAPED_MAX(len) bytes, plus 8 past them that may be stored to
 * and not counted (SL_BUF_SLACK gives those at the end of an sl_buf). */
#define SL_JSON_ESCAPED_MAX(len) (6 * (len))
char *sl_json_escape_into(char *o, const char *s, size_t len);
/* Writes the escape of c, an ASCII byte that needs one (below 0x20, '"',
 * '\\'), at o as sl_json_escape_into does; returns its end (2 or 6 bytes
 * on). */
char *sl_json_escape_ascii(char *o, unsigned char c);
/* The length of what sl_json_escape_into writes for s[0..len), without
 * writing it; equal to len exactly when the escaped text is s itself. */
size_t sl_json_escaped_len(const char *s, size_t len);
/* For an ASCII string: the positions of the bytes that need escaping
 * (at) and how many bytes each adds escaped (extra), at most max of them;
 * how many there are, or SIZE_MAX when s holds a byte >= 0x80 or more than
 * max. A piece of s is then escaped to its length plus the extra of the
 * positions inside it (the columnar codec measures grok's captures of a
 * message this way, without a scan of each). */
size_t sl_json_care_list(const char *s, size_t len, uint32_t *at,
                         uint8_t *extra, size_t max);
/* Appends a double as a JSON number (null when not finite); integral values
 * keep a ".0" so readers see a float, as Logstash prints them. */
SL_MUST_CHECK int sl_json_write_double(struct sl_buf *b, double v,
                                       struct sl_err *err);
/* Formats v as sl_json_write_double does into out (outsz >= 32); returns the
 * length. */
size_t sl_json_format_double(double v, char *out, size_t outsz);
SL_MUST_CHECK int sl_json_write_int(struct sl_buf *b, long long v,
                                    struct sl_err *err);

/* Length of the longest prefix of s that is valid UTF-8 with no byte that
 * needs escaping, i.e. what the writer copies unchanged (tests and fuzzing
 * use it as their oracle). */
size_t sl_json_plain_prefix(const char *s, size_t len);
/* Length (2..4) of the valid multi-byte UTF-8 sequence at s, or 0 if the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). The one validator of the project: the logger uses it too. */
size_t sl_utf8_seq_len(const unsigned char *s, size_t avail);

#endif
