/* test_text.c: sl_text_quote, how every message shows outside bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sl_text.h"

static const char *q(char *buf, size_t size, const char *s, size_t len)
{
    return sl_text_quote(buf, size, s, len, '"');
}

static void escapes_what_would_break_a_line_and_keeps_utf8(void **state)
{
    (void)state;
    char buf[200];
    assert_string_equal(q(buf, sizeof buf, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    assert_string_equal(q(buf, sizeof buf, "1\0\n\x7f", 4),
                        "\"1\\x00\\x0A\\x7F\"");
    assert_string_equal(q(buf, sizeof buf, "caf\xc3\xa9", 5),
                        "\"caf\xc3\xa9\"");
    /* not UTF-8: a lone continuation byte, an overlong, a cut sequence */
    assert_string_equal(q(buf, sizeof buf, "\x80\xc0\xaf\xe2\x82", 5),
                        "\"\\x80\\xC0\\xAF\\xE2\\x82\"");
    assert_string_equal(sl_text_quote(buf, sizeof buf, "it's", 4, '\''),
                        "'it\\'s'");
}

static void cuts_between_characters_after_forty_bytes(void **state)
{
    (void)state;
    char buf[200], in[100];
    memset(in, 'x', sizeof in);
    q(buf, sizeof buf, in, 40);
    assert_int_equal(strlen(buf), 42); /* all 40, no "..." */
    q(buf, sizeof buf, in, 41);
    assert_int_equal(strlen(buf), 45);
    assert_memory_equal(buf + 41, "...\"", 4);
    /* 39 bytes then a 2-byte character: kept whole, then cut */
    memcpy(in + 39, "\xc3\xa9", 2);
    q(buf, sizeof buf, in, 60);
    assert_memory_equal(buf + 40, "\xc3\xa9...\"", 6);
}

/* Any bytes, any buffer size from 16 up: never past the buffer. */
static void never_overflows(void **state)
{
    (void)state;
    char in[300];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (char)(0x80 + i % 3);
    for (size_t size = 16; size < 64; size++) {
        char buf[80];
        memset(buf, 'Z', sizeof buf);
        q(buf, size, in, sizeof in);
        assert_true(strlen(buf) < size);
        assert_int_equal(buf[size], 'Z');
    }
    char tiny[8];
    assert_string_equal(q(tiny, sizeof tiny, "abc", 3), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_what_would_break_a_line_and_keeps_utf8),
        cmocka_unit_test(cuts_between_characters_after_forty_bytes),
        cmocka_unit_test(never_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
