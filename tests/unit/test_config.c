/* test_config.c: the config loader and getters, and every message a user can
 * get from a bad config, asserted exactly as printed. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl_config.h"
#include "sl_config_priv.h" /* position_work */

static struct sl_config *load(const char *text, struct sl_err *err)
{
    return sl_config_load_buffer("t.json", text, strlen(text), err);
}

/* Loading text must fail with exactly msg. */
static void assert_load_fails(const char *text, enum sl_status st,
                              const char *msg)
{
    struct sl_err err = {0};
    struct sl_config *c = load(text, &err);
    assert_null(c);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.status, st);
}

static struct sl_config *must_load(const char *text)
{
    struct sl_err err = {0};
    struct sl_config *c = load(text, &err);
    if (c == NULL)
        fail_msg("load failed: %s", err.msg);
    return c;
}

static void test_good_config_with_comments(void **state)
{
    (void)state;
    struct sl_config *c = must_load(
        "// shipper\n"
        "{\n"
        "  /* inputs */ \"inputs\": [\n"
        "    {\"path\": \"/var/log/a.log\", \"tail\": true},\n"
        "    {\"path\": \"/var/log/b.log\"} // second\n"
        "  ],\n"
        "  \"redis\": {\"port\": 6379, \"ratio\": 0.5, \"none\": null}\n"
        "}\n");
    const struct sl_config_node *r = sl_config_root(c), *inputs, *redis;
    struct sl_err err = {0};
    assert_int_equal(sl_config_array(r, "inputs", &inputs, &err), 0);
    assert_int_equal(sl_config_len(inputs), 2);
    const char *path;
    bool tail;
    assert_int_equal(
        sl_config_string(sl_config_at(inputs, 1), "path", NULL, &path, &err),
        0);
    assert_string_equal(path, "/var/log/b.log");
    assert_int_equal(
        sl_config_bool(sl_config_at(inputs, 0), "tail", false, &tail, &err), 0);
    assert_true(tail);
    assert_int_equal(
        sl_config_bool(sl_config_at(inputs, 1), "tail", false, &tail, &err), 0);
    assert_false(tail);
    assert_int_equal(sl_config_object(r, "redis", &redis, &err), 0);
    long long port;
    double ratio;
    assert_int_equal(sl_config_int(redis, "port", 1, 1, 65535, &port, &err), 0);
    assert_int_equal(port, 6379);
    assert_int_equal(sl_config_double(redis, "ratio", 1, 0, 1, &ratio, &err),
                     0);
    assert_true(ratio == 0.5);
    assert_int_equal(sl_config_type(sl_config_get(redis, "none")),
                     SL_CONFIG_NULL);
    assert_string_equal(sl_config_key(sl_config_at(redis, 1)), "ratio");
    char p[64];
    sl_config_path(sl_config_get(sl_config_at(inputs, 1), "path"), p, sizeof p);
    assert_string_equal(p, "inputs[1].path");
    sl_config_free(c);
}

static void test_positions_after_comments(void **state)
{
    (void)state;
    struct sl_config *c = must_load("{\n"
                                    "  // a comment, \"with\": [quotes]\n"
                                    "  \"a\": /* x */ 12,\n"
                                    "\t\"b\":\n"
                                    "      [true,\n"
                                    "   /* multi\n"
                                    "      line */  \"s\"],\n"
                                    "  \"\xc3\xa9t\xc3\xa9\": \"x\"}\n");
    const struct sl_config_node *r = sl_config_root(c);
    const struct sl_config_node *a = sl_config_get(r, "a");
    const struct sl_config_node *b = sl_config_get(r, "b");
    assert_int_equal(sl_config_line(r), 1);
    assert_int_equal(sl_config_column(r), 1);
    assert_int_equal(sl_config_line(a), 3);
    assert_int_equal(sl_config_column(a), 16);
    assert_int_equal(sl_config_line(b), 5);
    assert_int_equal(sl_config_column(b), 7);
    assert_int_equal(sl_config_line(sl_config_at(b, 0)), 5);
    assert_int_equal(sl_config_column(sl_config_at(b, 0)), 8);
    assert_int_equal(sl_config_line(sl_config_at(b, 1)), 7);
    assert_int_equal(sl_config_column(sl_config_at(b, 1)), 16);
    /* Columns count characters: "été" is 3 columns, not 5 bytes. */
    const struct sl_config_node *e = sl_config_get(r, "\xc3\xa9t\xc3\xa9");
    assert_int_equal(sl_config_line(e), 8);
    assert_int_equal(sl_config_column(e), 10);
    struct sl_err err = {0};
    const char *s;
    assert_int_equal(sl_config_string(r, "a", NULL, &s, &err), -1);
    assert_string_equal(err.msg, "t.json:3:16: a: found an integer 12, "
                                 "expected a string");
    assert_int_equal(sl_config_string(b, NULL, NULL, &s, &err), -1);
    assert_string_equal(err.msg, "t.json:5:7: b: found an array, "
                                 "expected a string");
    sl_config_free(c);
}

static void test_defaults_when_absent(void **state)
{
    (void)state;
    struct sl_config *c = must_load("{}");
    const struct sl_config_node *r = sl_config_root(c), *arr = r;
    struct sl_err err = {0};
    const char *s;
    long long v;
    double d;
    bool b;
    int e;
    static const char *const words[] = {"text", "json", NULL};
    assert_int_equal(sl_config_string(r, "x", "dflt", &s, &err), 0);
    assert_string_equal(s, "dflt");
    assert_int_equal(sl_config_int(r, "x", 7, 1, 5, &v, &err), 0);
    assert_int_equal(v, 7); /* defaults are the program's, not checked */
    assert_int_equal(sl_config_double(r, "x", 2.5, 0, 10, &d, &err), 0);
    assert_true(d == 2.5);
    assert_int_equal(sl_config_bool(r, "x", true, &b, &err), 0);
    assert_true(b);
    assert_int_equal(sl_config_duration_ms(r, "x", 250, 0, 1000, &v, &err), 0);
    assert_int_equal(v, 250);
    assert_int_equal(sl_config_bytes(r, "x", 4096, 0, 1 << 20, &v, &err), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(sl_config_enum(r, "x", words, 1, &e, &err), 0);
    assert_int_equal(e, 1);
    assert_int_equal(sl_config_array(r, "x", &arr, &err), 0);
    assert_null(arr);
    assert_int_equal(sl_config_len(arr), 0);
    /* A NULL section gives defaults too. */
    assert_int_equal(sl_config_int(NULL, "x", 3, 1, 5, &v, &err), 0);
    assert_int_equal(v, 3);
    assert_int_equal(sl_config_check_keys(NULL, words, &err), 0);
    assert_null(sl_config_require(r, "url", &err));
    assert_string_equal(err.msg, "t.json:1:1: missing required key 'url'");
    sl_config_free(c);
}

static void test_int_getter(void **state)
{
    (void)state;
    struct sl_config *c =
        must_load("{\"a\": 10000, \"b\": 10001, \"c\": \"42\","
                  " \"d\": -3, \"e\": 1.5, \"f\": \"4x\","
                  " \"g\": 9223372036854775807, \"h\": 1e3}");
    const struct sl_config_node *r = sl_config_root(c);
    struct sl_err err = {0};
    long long v;
    assert_int_equal(sl_config_int(r, "a", 0, 1, 10000, &v, &err), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(sl_config_int(r, "b", 0, 1, 10000, &v, &err), -1);
    assert_string_equal(err.msg, "t.json:1:19: b: found an integer 10001, "
                                 "expected an integer from 1 to 10000");
    assert_int_equal(err.status, SL_EINVAL);
    assert_int_equal(sl_config_int(r, "c", 0, 1, 100, &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(sl_config_int(r, "d", 0, 0, LLONG_MAX, &v, &err), -1);
    assert_string_equal(err.msg, "t.json:1:42: d: found an integer -3, "
                                 "expected an integer of at least 0");
    assert_int_equal(sl_config_int(r, "e", 0, LLONG_MIN, LLONG_MAX, &v, &err),
                     -1);
    assert_string_equal(err.msg, "t.json:1:51: e: found a number 1.5, "
                                 "expected an integer");
    assert_int_equal(sl_config_int(r, "f", 0, LLONG_MIN, 5, &v, &err), -1);
    assert_string_equal(err.msg, "t.json:1:61: f: found a string \"4x\", "
                                 "expected an integer of at most 5");
    assert_int_equal(sl_config_int(r, "g", 0, LLONG_MIN, LLONG_MAX, &v, &err),
                     0);
    assert_true(v == LLONG_MAX);
    /* a whole number written with an exponent is named as written, not as
     * "1000", which would read as an integer */
    assert_int_equal(sl_config_int(r, "h", 0, 0, LLONG_MAX, &v, &err), -1);
    assert_string_equal(err.msg, "t.json:1:98: h: found a number 1e3, "
                                 "expected an integer of at least 0");
    sl_config_free(c);
}

static void test_integer_overflow(void **state)
{
    (void)state;
    assert_load_fails("{\"limits\": {\n  \"max\": 9223372036854775808}}",
                      SL_EINVAL,
                      "t.json:2:10: limits.max: number 9223372036854775808 is "
                      "out of range (integers go from -9223372036854775808 to "
                      "9223372036854775807)");
    assert_load_fails("{\"min\": -9223372036854775809}", SL_EINVAL,
                      "t.json:1:9: min: number -9223372036854775809 is out of "
                      "range (integers go from -9223372036854775808 to "
                      "9223372036854775807)");
    assert_load_fails("{\"d\": 1e999}", SL_EINVAL,
                      "t.json:1:7: d: number 1e999 is out of range");
    struct sl_config *c = must_load("{\"min\": -9223372036854775808}");
    long long v;
    assert_int_equal(sl_config_int(sl_config_root(c), "min", 0, LLONG_MIN,
                                   LLONG_MAX, &v, NULL),
                     0);
    assert_true(v == LLONG_MIN);
    sl_config_free(c);
}

static void test_double_bool_enum(void **state)
{
    (void)state;
    struct sl_config *c = must_load(
        "{\"r\": 2, \"s\": \"0.25\", \"t\": 1.5, \"b\": \"false\","
        " \"n\": 1, \"f\": \"json\", \"g\": \"jsno\", \"h\": \"xml\"}");
    const struct sl_config_node *r = sl_config_root(c);
    struct sl_err err = {0};
    double d;
    bool b;
    int e;
    static const char *const formats[] = {"text", "json", NULL};
    assert_int_equal(sl_config_double(r, "r", 0, 0, 10, &d, &err), 0);
    assert_true(d == 2.0);
    assert_int_equal(sl_config_double(r, "s", 0, 0, 10, &d, &err), 0);
    assert_true(d == 0.25);
    assert_int_equal(sl_config_double(r, "t", 0, 0, 1, &d, &err), -1);
    assert_string_equal(err.msg, "t.json:1:28: t: found a number 1.5, "
                                 "expected a number from 0 to 1");
    assert_int_equal(sl_config_bool(r, "b", true, &b, &err), 0);
    assert_false(b);
    assert_int_equal(sl_config_bool(r, "n", true, &b, &err), -1);
    assert_string_equal(err.msg, "t.json:1:52: n: found an integer 1, "
                                 "expected true or false");
    assert_int_equal(sl_config_enum(r, "f", formats, 0, &e, &err), 0);
    assert_int_equal(e, 1);
    assert_int_equal(sl_config_enum(r, "g", formats, 0, &e, &err), -1);
    assert_string_equal(err.msg, "t.json:1:73: g: found a string \"jsno\", "
                                 "expected one of \"text\", \"json\" (did you "
                                 "mean \"json\"?)");
    assert_int_equal(sl_config_enum(r, "h", formats, 0, &e, &err), -1);
    assert_string_equal(err.msg, "t.json:1:86: h: found a string \"xml\", "
                                 "expected one of \"text\", \"json\"");
    sl_config_free(c);
}

static void test_durations(void **state)
{
    (void)state;
    struct sl_config *c = must_load(
        "{\"a\": \"5s\", \"b\": \"250ms\", \"c\": \"2m\", \"d\": \"1h\","
        " \"e\": 30, \"f\": \"1.5s\", \"g\": 0.25, \"h\": \"7\","
        " \"x\": \"0.5ms\", \"y\": \"5 s\", \"z\": \"2h\"}");
    const struct sl_config_node *r = sl_config_root(c);
    static const struct {
        const char *key;
        long long ms;
    } good[] = {{"a", 5000},  {"b", 250},  {"c", 120000}, {"d", 3600000},
                {"e", 30000}, {"f", 1500}, {"g", 250},    {"h", 7000}};
    struct sl_err err = {0};
    long long v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(
            sl_config_duration_ms(r, good[i].key, 0, 0, LLONG_MAX, &v, &err),
            0);
        assert_int_equal(v, good[i].ms);
    }
    assert_int_equal(sl_config_duration_ms(r, "x", 0, 0, LLONG_MAX, &v, &err),
                     -1);
    assert_string_equal(err.msg,
                        "t.json:1:97: x: found a string \"0.5ms\", expected a "
                        "duration (such as \"250ms\", \"5s\", \"2m\", \"1h\" "
                        "or a number of seconds)");
    assert_int_equal(sl_config_duration_ms(r, "y", 0, 0, LLONG_MAX, &v, &err),
                     -1);
    assert_int_equal(sl_config_duration_ms(r, "z", 0, 100, 3600000, &v, &err),
                     -1);
    assert_string_equal(err.msg,
                        "t.json:1:123: z: found a string \"2h\", expected a "
                        "duration from 100ms to 1h (such as \"250ms\", \"5s\", "
                        "\"2m\", \"1h\" or a number of seconds)");
    sl_config_free(c);
}

static void test_sizes(void **state)
{
    (void)state;
    struct sl_config *c = must_load(
        "{\"a\": \"1MiB\", \"b\": \"512KiB\", \"c\": \"10MB\", \"d\": 100,"
        " \"e\": \"1.5kib\", \"f\": \"7\", \"x\": \"1.5\", \"y\": -1,"
        " \"z\": \"9999999TiB\"}");
    const struct sl_config_node *r = sl_config_root(c);
    static const struct {
        const char *key;
        long long bytes;
    } good[] = {{"a", 1048576}, {"b", 524288}, {"c", 10000000},
                {"d", 100},     {"e", 1536},   {"f", 7}};
    struct sl_err err = {0};
    long long v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(
            sl_config_bytes(r, good[i].key, 0, 0, LLONG_MAX, &v, &err), 0);
        assert_int_equal(v, good[i].bytes);
    }
    assert_int_equal(sl_config_bytes(r, "x", 0, 0, LLONG_MAX, &v, &err), -1);
    assert_int_equal(sl_config_bytes(r, "y", 0, 1024, 1 << 30, &v, &err), -1);
    assert_string_equal(err.msg,
                        "t.json:1:95: y: found an integer -1, expected a size "
                        "from 1KiB to 1GiB (such as \"512KiB\", \"1MiB\", "
                        "\"10MB\" or a number of bytes)");
    assert_int_equal(sl_config_bytes(r, "z", 0, 0, LLONG_MAX, &v, &err), -1);
    sl_config_free(c);
}

static void test_env_substitution(void **state)
{
    (void)state;
    setenv("SL_TEST_HOST", "redis.local", 1);
    setenv("SL_TEST_PORT", "6380", 1);
    setenv("SL_TEST_EMPTY", "", 1);
    setenv("SL_TEST_TRICK", "\", \"x\": \"", 1);
    unsetenv("SL_TEST_UNSET");
    struct sl_config *c =
        must_load("{\"url\": \"redis://${SL_TEST_HOST}:${SL_TEST_PORT}/0\","
                  " \"port\": \"${SL_TEST_PORT}\","
                  " \"dflt\": \"${SL_TEST_UNSET:-6379}\","
                  " \"empty\": \"${SL_TEST_EMPTY:-fallback}\","
                  " \"plain_empty\": \"a${SL_TEST_EMPTY}b\","
                  " \"esc\": \"$${SL_TEST_HOST} costs $5\","
                  " \"trick\": \"${SL_TEST_TRICK}\","
                  " \"bad\": \"${SL_TEST_HOST}\"}");
    const struct sl_config_node *r = sl_config_root(c);
    struct sl_err err = {0};
    const char *s;
    long long v;
    assert_int_equal(sl_config_string(r, "url", NULL, &s, &err), 0);
    assert_string_equal(s, "redis://redis.local:6380/0");
    assert_int_equal(sl_config_int(r, "port", 0, 1, 65535, &v, &err), 0);
    assert_int_equal(v, 6380);
    assert_int_equal(sl_config_int(r, "dflt", 0, 1, 65535, &v, &err), 0);
    assert_int_equal(v, 6379);
    assert_int_equal(sl_config_string(r, "empty", NULL, &s, &err), 0);
    assert_string_equal(s, "fallback");
    assert_int_equal(sl_config_string(r, "plain_empty", NULL, &s, &err), 0);
    assert_string_equal(s, "ab");
    assert_int_equal(sl_config_string(r, "esc", NULL, &s, &err), 0);
    assert_string_equal(s, "${SL_TEST_HOST} costs $5");
    assert_int_equal(sl_config_string(r, "trick", NULL, &s, &err), 0);
    assert_string_equal(s, "\", \"x\": \"");
    assert_int_equal(sl_config_len(r), 8);
    /* The substituted value never appears in a message. */
    assert_int_equal(sl_config_int(r, "bad", 0, 1, 65535, &v, &err), -1);
    assert_string_equal(
        err.msg, "t.json:1:263: bad: found a string \"${SL_TEST_HOST}\", "
                 "expected an integer from 1 to 65535");
    assert_null(strstr(err.msg, "redis.local"));
    sl_config_free(c);
}

static void test_env_hostname_without_the_variable(void **state)
{
    (void)state;
    char host[256] = {0}, *saved = NULL;
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    if (getenv("HOSTNAME") != NULL)
        saved = strdup(getenv("HOSTNAME"));
    /* a shell's HOSTNAME is not exported: the machine's name stands in */
    unsetenv("HOSTNAME");
    struct sl_config *c = must_load("{\"consumer\": \"idx-${HOSTNAME}\"}");
    struct sl_err err = {0};
    const char *s;
    char want[300];
    snprintf(want, sizeof want, "idx-%s", host);
    assert_int_equal(
        sl_config_string(sl_config_root(c), "consumer", NULL, &s, &err), 0);
    assert_string_equal(s, want);
    sl_config_free(c);
    /* a set one wins */
    setenv("HOSTNAME", "from-env", 1);
    c = must_load("{\"consumer\": \"${HOSTNAME}\"}");
    assert_int_equal(
        sl_config_string(sl_config_root(c), "consumer", NULL, &s, &err), 0);
    assert_string_equal(s, "from-env");
    sl_config_free(c);
    if (saved != NULL)
        setenv("HOSTNAME", saved, 1);
    else
        unsetenv("HOSTNAME");
    free(saved);
}

static void test_env_errors(void **state)
{
    (void)state;
    unsetenv("SL_TEST_UNSET");
    assert_load_fails("{\"outputs\": [{\"redis\": {\n"
                      "    \"password\": \"${SL_TEST_UNSET}\"}}]}",
                      SL_EINVAL,
                      "t.json:2:17: outputs[0].redis.password: environment "
                      "variable 'SL_TEST_UNSET' is not set; set it or write "
                      "${SL_TEST_UNSET:-default}");
    assert_load_fails("{\"a\": \"${1X}\"}", SL_EINVAL,
                      "t.json:1:7: a: bad variable reference in \"${1X}\"; "
                      "write ${NAME} or ${NAME:-default}, or $${ for a "
                      "literal ${");
    assert_load_fails("{\"a\": \"${HOME\"}", SL_EINVAL,
                      "t.json:1:7: a: bad variable reference in \"${HOME\"; "
                      "write ${NAME} or ${NAME:-default}, or $${ for a "
                      "literal ${");
    assert_load_fails("{\"a\": \"${X:-oops\"}", SL_EINVAL,
                      "t.json:1:7: a: bad variable reference in "
                      "\"${X:-oops\"; write ${NAME} or ${NAME:-default}, or "
                      "$${ for a literal ${");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    struct sl_config *c = must_load("{\"inputs\": [{\n"
                                    "  \"pathh\": \"/x\"}],\n"
                                    " \"zzz\": 1}");
    const struct sl_config_node *r = sl_config_root(c);
    static const char *const top[] = {"inputs", "outputs", NULL};
    static const char *const input[] = {"path", "encoding", NULL};
    struct sl_err err = {0};
    const struct sl_config_node *in0 =
        sl_config_at(sl_config_get(r, "inputs"), 0);
    assert_int_equal(sl_config_check_keys(in0, input, &err), -1);
    assert_string_equal(err.msg, "t.json:2:3: inputs[0]: unknown key 'pathh' "
                                 "(did you mean 'path'?)");
    assert_int_equal(sl_config_check_keys(r, top, &err), -1);
    assert_string_equal(err.msg, "t.json:3:2: unknown key 'zzz' (known keys: "
                                 "'inputs', 'outputs')");
    static const char *const all[] = {"inputs", "zzz", NULL};
    assert_int_equal(sl_config_check_keys(r, all, &err), 0);
    sl_config_free(c);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_load_fails("{\n  \"a\": 1,\n  \"b\" 2\n}", SL_EPARSE,
                      "t.json:3:7: expected ':' after the key, found '2'");
    assert_load_fails("{\"a\": 1,\n /* c */ }", SL_EPARSE,
                      "t.json:1:8: a ',' after the last member of an object; "
                      "remove it (JSON allows no comma before '}')");
    assert_load_fails("{\"a\": [1, 2,]}", SL_EPARSE,
                      "t.json:1:12: a ',' after the last element of an array; "
                      "remove it (JSON allows no comma before ']')");
    assert_load_fails("{\"a\": tru}", SL_EPARSE,
                      "t.json:1:7: expected a value (an object, array, string, "
                      "number, true, false or null), found 't'");
    assert_load_fails("{\"a\": 1}\n{", SL_EPARSE,
                      "t.json:2:1: unexpected text after the top-level object, "
                      "found '{'");
    assert_load_fails("{\"a\": 1 2}", SL_EPARSE,
                      "t.json:1:9: expected ',' or '}' after a value in an "
                      "object, found '2'");
    assert_load_fails("{\"a\": [1 2]}", SL_EPARSE,
                      "t.json:1:10: expected ',' or ']' after an element of an "
                      "array, found '2'");
    assert_load_fails("{\"a\": \"\xff\"}", SL_EPARSE,
                      "t.json:1:8: invalid UTF-8 in a string, found byte 0xFF; "
                      "save the file as UTF-8");
    /* Latin-1: yajl stops after the byte, at the closing quote */
    assert_load_fails("{\"a\": \"caf\xe9\"}", SL_EPARSE,
                      "t.json:1:11: invalid UTF-8 in a string, found byte "
                      "0xE9; save the file as UTF-8");
    assert_load_fails("{\"a\": {\"b\": 1}\n", SL_EPARSE,
                      "t.json:2:1: the file ends inside the object that starts "
                      "at 1:1; a '}' is missing (or the file was cut short)");
    assert_load_fails("{\"a\": 1 /* open", SL_EPARSE,
                      "t.json:1:9: the comment that starts here is not closed; "
                      "end it with '*/'");
    assert_load_fails("{a: 1}", SL_EPARSE,
                      "t.json:1:2: invalid character, found 'a'");
}

/* The mistakes people make by hand, said with what to write and where: a
 * regular expression's backslash, a string left open, a tab, single
 * quotes, a file cut short inside an array. yajl's words for these ("'\\'
 * occurs before a character which it may not", "premature EOF", a '}'
 * lines below the comma) said neither. */
static void test_syntax_errors_said_with_what_to_write(void **state)
{
    (void)state;
    assert_load_fails("{\"p\": \"^\\d+ %{WORD}\"}", SL_EPARSE,
                      "t.json:1:9: '\\d' is not an escape JSON knows; write "
                      "'\\\\d' (in JSON a backslash is written twice: a "
                      "regular expression's \\d is \"\\\\d\")");
    assert_load_fails("{\"a\": 1,\n \"b\": \"open,\n \"c\": 2}", SL_EPARSE,
                      "t.json:2:7: the string that starts here is not closed "
                      "on its line; end it with '\"' (a line break inside a "
                      "string is written \\n)");
    assert_load_fails("{\"a\": \"x\ty\"}", SL_EPARSE,
                      "t.json:1:9: a control character (byte 0x09, a tab) "
                      "inside a string; write it as \\t");
    assert_load_fails("{\"a\": \"open", SL_EPARSE,
                      "t.json:1:7: the string that starts here is not closed; "
                      "end it with '\"'");
    assert_load_fails("{\"a\": 'b'}", SL_EPARSE,
                      "t.json:1:7: found ''', expected '\"': JSON writes "
                      "strings and keys in double quotes");
    assert_load_fails("{\"a\": {\"b\": [1,\n2", SL_EPARSE,
                      "t.json:2:2: the file ends inside the array that starts "
                      "at 1:13; a ']' is missing (or the file was cut short)");
    assert_load_fails("{\"a\": 1,,}", SL_EPARSE,
                      "t.json:1:9: expected a key in quotes, found ','");
}

/* Logstash's and Filebeat's redis keys in a "redis" object: said where they
 * go in url, not "unknown key (known keys: ...)". Elsewhere, as any key. */
static void test_redis_keys_of_other_tools_say_they_go_in_url(void **state)
{
    (void)state;
    struct sl_config *c = must_load("{\"redis\": {\"url\": \"redis://h\",\n"
                                    "  \"password\": \"x\"},\n"
                                    " \"other\": {\"password\": \"x\"}}");
    const struct sl_config_node *r = sl_config_root(c);
    static const char *const keys[] = {"url", "mode", NULL};
    struct sl_err err = {0};
    assert_int_equal(
        sl_config_check_keys(sl_config_get(r, "redis"), keys, &err), -1);
    assert_string_equal(err.msg,
                        "t.json:2:3: redis: unknown key 'password': the "
                        "password goes in url: redis://:PASSWORD@HOST:PORT "
                        "(USER:PASSWORD@ for an ACL user), the password from "
                        "the environment: ${REDIS_PASSWORD}");
    assert_int_equal(
        sl_config_check_keys(sl_config_get(r, "other"), keys, &err), -1);
    assert_string_equal(err.msg, "t.json:3:12: other: unknown key 'password' "
                                 "(known keys: 'url', 'mode')");
    sl_config_free(c);
}

static void test_structure_errors(void **state)
{
    (void)state;
    assert_load_fails("", SL_EINVAL,
                      "t.json:1:1: file is empty, expected an object");
    assert_load_fails("  // only a comment\n\n", SL_EINVAL,
                      "t.json:1:1: file is empty, expected an object");
    assert_load_fails("\n  [1, 2]", SL_EINVAL,
                      "t.json:2:3: found an array, expected an object at the "
                      "top level");
    assert_load_fails("42", SL_EINVAL,
                      "t.json:1:1: found an integer, expected an object at the "
                      "top level");
    assert_load_fails("{\"inputs\": [{\"path\": \"a\",\n"
                      "              \"path\": \"b\"}]}",
                      SL_EPARSE,
                      "t.json:2:15: inputs[0]: duplicate key 'path' (first at "
                      "1:14)");
    assert_load_fails("{\"b\": 1, \"a\": 1, \"c\": 1, \"a\": 2, \"b\": 3}",
                      SL_EPARSE,
                      "t.json:1:26: duplicate key 'a' (first at 1:10)");
}

/* {"a": [[[...]]]}: the object is level 1, so 63 arrays are allowed. */
static char *nested(int arrays)
{
    static char text[512];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"a\":");
    for (int i = 0; i < arrays; i++)
        text[o++] = '[';
    for (int i = 0; i < arrays; i++)
        text[o++] = ']';
    text[o++] = '}';
    text[o] = '\0';
    return text;
}

static void test_depth_limit(void **state)
{
    (void)state;
    sl_config_free(must_load(nested(63)));
    char want[400];
    size_t o = (size_t)snprintf(want, sizeof want, "t.json:1:69: a");
    for (int i = 0; i < 63; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "[0]");
    snprintf(want + o, sizeof want - o, ": nested deeper than 64 levels");
    assert_load_fails(nested(64), SL_ELIMIT, want);
    assert_load_fails(nested(200), SL_ELIMIT, want);
}

static void test_size_limit(void **state)
{
    (void)state;
    size_t len = SL_CONFIG_MAX_FILE + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    struct sl_err err = {0};
    assert_null(sl_config_load_buffer("big.json", big, len, &err));
    assert_string_equal(err.msg, "big.json: file is larger than 16 MiB");
    assert_int_equal(err.status, SL_ELIMIT);
    big[len - 2] = '}'; /* exactly at the limit: loads */
    struct sl_config *c = sl_config_load_buffer("big.json", big, len - 1, &err);
    assert_non_null(c);
    sl_config_free(c);
    free(big);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sl_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\n  \"port\": \"x\"\n}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct sl_err err = {0};
    struct sl_config *c = sl_config_load_file(path, &err);
    assert_non_null(c);
    long long v;
    assert_int_equal(
        sl_config_int(sl_config_root(c), "port", 0, 1, 65535, &v, &err), -1);
    char want[200];
    snprintf(want, sizeof want,
             "%s:2:11: port: found a string \"x\", expected an integer from 1 "
             "to 65535",
             path);
    assert_string_equal(err.msg, want);
    sl_config_free(c);
    unlink(path);
    assert_null(sl_config_load_file(path, &err));
    snprintf(want, sizeof want, "cannot open '%s': No such file or directory",
             path);
    assert_string_equal(err.msg, want);
    assert_int_equal(err.status, SL_EIO);
}

static void test_caller_errors(void **state)
{
    (void)state;
    struct sl_config *c =
        must_load("{\"multiline\": {\"pattern\": \"(\", \"x\": {}}}");
    const struct sl_config_node *m =
        sl_config_get(sl_config_root(c), "multiline");
    struct sl_err err = {0};
    assert_int_equal(sl_config_error_expected(sl_config_get(m, "pattern"), &err,
                                              "a regular expression: missing "
                                              "\")\" at offset %d",
                                              1),
                     -1);
    assert_string_equal(err.msg, "t.json:1:27: multiline.pattern: found a "
                                 "string \"(\", expected a regular expression: "
                                 "missing \")\" at offset 1");
    long long v;
    /* A getter on a non-object section says so. */
    assert_int_equal(
        sl_config_int(sl_config_get(m, "pattern"), "x", 0, 0, 1, &v, &err), -1);
    assert_string_equal(err.msg, "t.json:1:27: multiline.pattern: found a "
                                 "string \"(\", expected an object");
    const char *s;
    assert_int_equal(sl_config_string(m, "x", NULL, &s, &err), -1);
    assert_string_equal(err.msg, "t.json:1:37: multiline.x: found an object, "
                                 "expected a string");
    sl_config_free(c);
}

static void test_long_values_are_cut_in_messages(void **state)
{
    (void)state;
    struct sl_config *c =
        must_load("{\"k\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                  "\xa9zzzz\\n\"}");
    struct sl_err err = {0};
    long long v;
    assert_int_equal(sl_config_int(sl_config_root(c), "k", 0, 0, 1, &v, &err),
                     -1);
    assert_string_equal(err.msg, "t.json:1:7: k: found a string \""
                                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"
                                 "\xc3\xa9\xc3\xa9...\", expected an integer "
                                 "from 0 to 1");
    sl_config_free(c);
}

/* Columns on a 320 KB line: the cursor walks each byte once. Counting the
 * column again from the line's start for every token walked about 10^10
 * bytes here (and took seconds); position_work sees that without a clock. */
static void test_long_line_is_linear(void **state)
{
    (void)state;
    const size_t size = 320 * 1024;
    char *text = malloc(size + 64);
    assert_non_null(text);
    size_t o = (size_t)snprintf(text, 64, "{\"a\": [");
    size_t chars = o, last_col = 0, n = 0;
    while (o < size) { /* 1, "é", 1, "é", ...: columns count characters */
        last_col = chars + 1;
        if (n++ % 2 == 0) {
            memcpy(text + o, "1, ", 3);
            o += 3, chars += 3;
        } else {
            memcpy(text + o, "\"\xc3\xa9\", ", 6);
            o += 6, chars += 5;
        }
    }
    o -= 2, chars -= 2; /* the last ", " */
    memcpy(text + o, "]}", 3);
    size_t len = o + 2;
    struct sl_err err = {0};
    struct sl_config *c = sl_config_load_buffer("t.json", text, len, &err);
    if (c == NULL)
        fail_msg("load failed: %s", err.msg);
    const struct sl_config_node *a = sl_config_get(sl_config_root(c), "a");
    assert_int_equal(sl_config_len(a), n);
    const struct sl_config_node *last = sl_config_at(a, n - 1);
    assert_int_equal(sl_config_line(last), 1);
    assert_int_equal(sl_config_column(last), last_col);
    assert_true(c->position_work <= len);
    sl_config_free(c);
    /* A syntax error at the end of the line: the same cursor, same column. */
    memcpy(text + o, "]x", 2);
    assert_null(sl_config_load_buffer("t.json", text, len, &err));
    char want[120];
    snprintf(want, sizeof want, "t.json:1:%zu: invalid character, found 'x'",
             chars + 2);
    assert_string_equal(err.msg, want);
    free(text);
}

/* A UTF-8 byte order mark is skipped, positions counted after it; UTF-16
 * (either order) is refused by name. */
static void test_byte_order_mark(void **state)
{
    (void)state;
    struct sl_config *c = must_load("\xEF\xBB\xBF{\"a\": 1}");
    assert_int_equal(sl_config_type(sl_config_get(sl_config_root(c), "a")),
                     SL_CONFIG_INT);
    sl_config_free(c);
    assert_load_fails("\xEF\xBB\xBF{\"a\": }", SL_EPARSE,
                      "t.json:1:7: unexpected token, found '}'");
    assert_load_fails("\xFF\xFE{\0}\0", SL_EPARSE,
                      "t.json:1:1: the file is in UTF-16 (it starts with the "
                      "bytes 0xFF 0xFE); save it as UTF-8");
    assert_load_fails("\xFE\xFF\0{", SL_EPARSE,
                      "t.json:1:1: the file is in UTF-16 (it starts with the "
                      "bytes 0xFE 0xFF); save it as UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_config_with_comments),
        cmocka_unit_test(test_positions_after_comments),
        cmocka_unit_test(test_defaults_when_absent),
        cmocka_unit_test(test_int_getter),
        cmocka_unit_test(test_integer_overflow),
        cmocka_unit_test(test_double_bool_enum),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_env_substitution),
        cmocka_unit_test(test_env_hostname_without_the_variable),
        cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_caller_errors),
        cmocka_unit_test(test_long_values_are_cut_in_messages),
        cmocka_unit_test(test_long_line_is_linear),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_syntax_errors_said_with_what_to_write),
        cmocka_unit_test(test_redis_keys_of_other_tools_say_they_go_in_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
