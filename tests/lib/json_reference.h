/* json_reference.h: the JSON string writer's contract, written a byte at a
 * time, for tests and fuzz targets to compare sl_json_write_string with:
 * '"' and '\\' escaped, \n \r \t \b \f by name, other bytes below 0x20
 * as \u00XX, valid UTF-8 (sl_utf8_seq_len) kept, every other byte at or
 * above 0x80 replaced by U+FFFD. */
#ifndef JSON_REFERENCE_H
#define JSON_REFERENCE_H

#include <stddef.h>

/* Writes s as a quoted JSON string to out (room for 6 * len + 2 bytes);
 * returns the length written. */
size_t json_reference_string(const unsigned char *s, size_t len, char *out);

#endif
