/* test_config_table.c: filling structs from config tables: defaults, every
 * type, every message a user can get, release after a failure, the table
 * checks, and the Markdown reference, asserted exactly. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_config_table.h"

struct item {
    const char *name;
    long long weight;
};

struct nested {
    bool on;
    long long port;
};

struct all {
    bool flag;
    long long count, max_size, interval;
    const char *name, *token;
    int color;
    struct sl_opt_strings tags;
    struct nested nested;
    bool has_nested;
    struct sl_opt_objects items;
    const struct sl_config_node *raw;
};

static const char *const colors[] = {"red", "green", "blue", NULL};

#define ITEM(m) SL_OPT_FIELD(struct item, m)
static const struct sl_opt item_opts[] = {
    {"name", SL_OPT_STRING, ITEM(name), .flags = SL_OPT_REQUIRED,
     .help = "the item's name"},
    {"weight", SL_OPT_INT, ITEM(weight), .def = "1", .min = 1, .max = 100,
     .help = "how heavy"},
    SL_OPT_END};
static const struct sl_config_table item_table = {"item", sizeof(struct item),
                                                  item_opts, NULL};

/* A rule between keys: on needs a port below 1024... as an example. */
static int check_nested(const struct sl_config_node *obj, void *out,
                        struct sl_err *err)
{
    const struct nested *n = out;
    if (n->on && n->port >= 1024)
        return sl_config_error(obj, err, "'on' needs a port below 1024");
    return 0;
}

#define NESTED(m) SL_OPT_FIELD(struct nested, m)
static const struct sl_opt nested_opts[] = {
    {"on", SL_OPT_BOOL, NESTED(on), .def = "false", .help = "switch"},
    {"port", SL_OPT_INT, NESTED(port), .def = "80", .min = 1, .max = 65535,
     .help = "a port"},
    SL_OPT_END};
static const struct sl_config_table nested_table = {
    "nested", sizeof(struct nested), nested_opts, check_nested};

#define ALL(m) SL_OPT_FIELD(struct all, m)
static const struct sl_opt all_opts[] = {
    {"flag", SL_OPT_BOOL, ALL(flag), .def = "true", .help = "a flag"},
    {"count", SL_OPT_INT, ALL(count), .def = "10", .min = 1, .max = 10000,
     .help = "a count"},
    {"max_size", SL_OPT_SIZE, ALL(max_size), .def = "1MiB", .min = 1024,
     .max = 1LL << 30, .help = "a size"},
    {"interval", SL_OPT_DURATION, ALL(interval), .def = "500ms", .min = 1,
     .max = 3600000, .help = "a duration"},
    {"name", SL_OPT_STRING, ALL(name), .def = "x", .help = "a | name"},
    {"token", SL_OPT_STRING, ALL(token), .flags = SL_OPT_SECRET,
     .help = "a secret"},
    {"color", SL_OPT_ENUM, ALL(color), .def = "green", .words = colors,
     .help = "an enum"},
    {"tags", SL_OPT_STRINGS, ALL(tags), .def = "t0", .max = 3,
     .help = "strings"},
    {"nested", SL_OPT_OBJECT, ALL(nested), .sub = &nested_table,
     .present = SL_OPT_PRESENT(struct all, has_nested), .help = "an object"},
    {"items", SL_OPT_OBJECTS, ALL(items), .sub = &item_table, .max = 4,
     .help = "objects"},
    {"raw", SL_OPT_RAW, ALL(raw), .doc_type = "anything", .help = "raw"},
    SL_OPT_END};
static const struct sl_config_table all_table = {"all", sizeof(struct all),
                                                 all_opts, NULL};

static struct sl_config *load(const char *text)
{
    struct sl_err err = {0};
    struct sl_config *c =
        sl_config_load_buffer("t.json", text, strlen(text), &err);
    if (c == NULL)
        fail_msg("load failed: %s", err.msg);
    return c;
}

/* Filling text must fail with exactly msg (and leak nothing: ASan). */
static void assert_fill_fails(const char *text, const char *msg)
{
    struct sl_config *c = load(text);
    struct all a;
    struct sl_err err = {0};
    memset(&a, 0x5a, sizeof a); /* the fill must not read what was there */
    assert_int_equal(
        sl_config_table_fill(&all_table, sl_config_root(c), &a, &err), -1);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.status, SL_EINVAL);
    sl_config_table_release(&all_table, &a);
    sl_config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct sl_config *c = load("{}");
    struct all a;
    struct sl_err err = {0};
    memset(&a, 0x5a, sizeof a);
    assert_int_equal(
        sl_config_table_fill(&all_table, sl_config_root(c), &a, &err), 0);
    assert_true(a.flag);
    assert_int_equal(a.count, 10);
    assert_int_equal(a.max_size, 1 << 20);
    assert_int_equal(a.interval, 500);
    assert_string_equal(a.name, "x");
    assert_null(a.token);
    assert_int_equal(a.color, 1);
    assert_int_equal(a.tags.n, 1);
    assert_string_equal(a.tags.v[0], "t0");
    assert_false(a.nested.on);
    assert_int_equal(a.nested.port, 80);
    assert_false(a.has_nested);
    assert_int_equal(a.items.n, 0);
    assert_null(a.items.v);
    assert_null(a.raw);
    sl_config_table_release(&all_table, &a);
    /* An absent section (NULL): the same defaults. */
    assert_int_equal(sl_config_table_fill(&all_table, NULL, &a, &err), 0);
    assert_int_equal(a.count, 10);
    assert_string_equal(a.tags.v[0], "t0");
    sl_config_table_release(&all_table, &a);
    sl_config_free(c);
}

static void test_values(void **state)
{
    (void)state;
    setenv("SL_TEST_TOKEN", "s3cret", 1);
    struct sl_config *c = load(
        "{\"flag\": false, \"count\": \"42\", \"max_size\": \"64KiB\","
        " \"interval\": \"5s\", \"name\": \"n\", \"token\": "
        "\"${SL_TEST_TOKEN}\", \"color\": \"blue\", \"tags\": [\"a\", \"b\"],"
        " \"nested\": {\"on\": true, \"port\": 443},"
        " \"items\": [{\"name\": \"i0\"}, {\"name\": \"i1\", \"weight\": 7}],"
        " \"raw\": [1, {\"x\": 2}]}");
    struct all a;
    struct sl_err err = {0};
    assert_int_equal(
        sl_config_table_fill(&all_table, sl_config_root(c), &a, &err), 0);
    assert_false(a.flag);
    assert_int_equal(a.count, 42);
    assert_int_equal(a.max_size, 65536);
    assert_int_equal(a.interval, 5000);
    assert_string_equal(a.name, "n");
    assert_string_equal(a.token, "s3cret");
    assert_int_equal(a.color, 2);
    assert_int_equal(a.tags.n, 2);
    assert_string_equal(a.tags.v[0], "a");
    assert_string_equal(a.tags.v[1], "b");
    assert_true(a.nested.on);
    assert_int_equal(a.nested.port, 443);
    assert_true(a.has_nested);
    assert_int_equal(a.items.n, 2);
    const struct item *it = a.items.v;
    assert_string_equal(it[0].name, "i0");
    assert_int_equal(it[0].weight, 1);
    assert_string_equal(it[1].name, "i1");
    assert_int_equal(it[1].weight, 7);
    assert_int_equal(sl_config_type(a.raw), SL_CONFIG_ARRAY);
    assert_int_equal(sl_config_len(a.raw), 2);
    sl_config_table_release(&all_table, &a);
    assert_null(a.tags.v);
    assert_null(a.items.v);
    sl_config_free(c);
}

static void test_lists(void **state)
{
    (void)state;
    /* One string is a list of one; [] is empty, not the default. */
    struct sl_config *c = load("{\"tags\": \"solo\", \"items\": []}");
    struct all a;
    struct sl_err err = {0};
    assert_int_equal(
        sl_config_table_fill(&all_table, sl_config_root(c), &a, &err), 0);
    assert_int_equal(a.tags.n, 1);
    assert_string_equal(a.tags.v[0], "solo");
    assert_int_equal(a.items.n, 0);
    sl_config_table_release(&all_table, &a);
    sl_config_free(c);
    c = load("{\"tags\": []}");
    assert_int_equal(
        sl_config_table_fill(&all_table, sl_config_root(c), &a, &err), 0);
    assert_int_equal(a.tags.n, 0);
    assert_null(a.tags.v);
    sl_config_table_release(&all_table, &a);
    sl_config_free(c);
}

static void test_value_errors(void **state)
{
    (void)state;
    assert_fill_fails("{\"count\": 0}",
                      "t.json:1:11: count: found an integer 0, expected an "
                      "integer from 1 to 10000");
    assert_fill_fails("{\"flag\": \"yes\"}",
                      "t.json:1:10: flag: found a string \"yes\", expected "
                      "true or false");
    assert_fill_fails("{\"max_size\": \"2GiB\"}",
                      "t.json:1:14: max_size: found a string \"2GiB\", "
                      "expected a size from 1KiB to 1GiB (such as \"512KiB\", "
                      "\"1MiB\", \"10MB\" or a number of bytes)");
    assert_fill_fails("{\"interval\": \"soon\"}",
                      "t.json:1:14: interval: found a string \"soon\", "
                      "expected a duration from 1ms to 1h (such as \"250ms\", "
                      "\"5s\", \"2m\", \"1h\" or a number of seconds)");
    assert_fill_fails("{\"color\": \"gren\"}",
                      "t.json:1:11: color: found a string \"gren\", expected "
                      "one of \"red\", \"green\", \"blue\" (did you mean "
                      "\"green\"?)");
    assert_fill_fails("{\"name\": 5}", "t.json:1:10: name: found an integer "
                                       "5, expected a string");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    assert_fill_fails("{\"colour\": \"red\"}",
                      "t.json:1:2: unknown key 'colour' (did you mean "
                      "'color'?)");
    assert_fill_fails("{\"nested\": {\"prot\": 1}}",
                      "t.json:1:13: nested: unknown key 'prot' (did you mean "
                      "'port'?)");
    assert_fill_fails("{\"items\": [{\"name\": \"a\"},\n {\"nmae\": \"b\"}]}",
                      "t.json:2:3: items[1]: unknown key 'nmae' (did you mean "
                      "'name'?)");
}

static void test_structure_errors(void **state)
{
    (void)state;
    assert_fill_fails("{\"items\": [{\"weight\": 2}]}",
                      "t.json:1:12: items[0]: missing required key 'name'");
    assert_fill_fails("{\"items\": [{\"name\": \"a\", \"weight\": 101}]}",
                      "t.json:1:36: items[0].weight: found an integer 101, "
                      "expected an integer from 1 to 100");
    assert_fill_fails("{\"items\": {\"name\": \"a\"}}",
                      "t.json:1:11: items: found an object, expected a list "
                      "of objects (at most 4)");
    assert_fill_fails("{\"items\": [{\"name\": \"a\"}, 3]}",
                      "t.json:1:27: items[1]: found an integer 3, expected an "
                      "object");
    assert_fill_fails("{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"},"
                      " {\"name\": \"c\"}, {\"name\": \"d\"}, {\"name\": \"e\"}"
                      "]}",
                      "t.json:1:11: items: found 5 elements, expected a list "
                      "of objects (at most 4)");
    assert_fill_fails("{\"tags\": [\"a\", \"b\", \"c\", \"d\"]}",
                      "t.json:1:10: tags: found 4 elements, expected a list "
                      "of strings (at most 3)");
    assert_fill_fails("{\"tags\": [\"a\", 2]}",
                      "t.json:1:16: tags[1]: found an integer 2, expected a "
                      "string");
    assert_fill_fails("{\"tags\": true}",
                      "t.json:1:10: tags: found a boolean true, expected a "
                      "list of strings (at most 3)");
    assert_fill_fails("{\"nested\": [1]}",
                      "t.json:1:12: nested: found an array, expected an "
                      "object");
    assert_fill_fails("{\"nested\": {\"on\": true, \"port\": 8080}}",
                      "t.json:1:12: nested: 'on' needs a port below 1024");
}

static void test_secret_never_shown(void **state)
{
    (void)state;
    assert_fill_fails("{\"token\": 123456}",
                      "t.json:1:11: token: found an integer, expected a "
                      "string");
    assert_fill_fails("{\"token\": [\"hunter2\"]}",
                      "t.json:1:11: token: found an array, expected a string");
    assert_fill_fails("{\"token\": \"a\\u0000b\"}",
                      "t.json:1:11: token: found a string, expected a string "
                      "without \\u0000");
}

/* A failure after lists were allocated frees them (ASan sees a leak). */
static void test_release_after_failure(void **state)
{
    (void)state;
    assert_fill_fails("{\"tags\": [\"a\"], \"items\": [{\"name\": \"a\","
                      " \"weight\": 2}, {\"name\": 1}]}",
                      "t.json:1:64: items[1].name: found an integer 1, "
                      "expected a string");
    struct all a = {0};
    sl_config_table_release(&all_table, &a); /* zeroed: fine */
}

struct bad {
    int small;
    long long big;
};

static void assert_verify_fails(const struct sl_opt *opts, const char *msg)
{
    struct sl_config_table t = {"bad", sizeof(struct bad), opts, NULL};
    struct sl_err err = {0};
    assert_int_equal(sl_config_table_verify(&t, &err), -1);
    assert_string_equal(err.msg, msg);
}

static void test_verify(void **state)
{
    (void)state;
    struct sl_err err = {0};
    assert_int_equal(sl_config_table_verify(&all_table, &err), 0);
#define BAD(m) SL_OPT_FIELD(struct bad, m)
    const struct sl_opt wrong_size[] = {
        {"a", SL_OPT_INT, BAD(small), .help = "h"}, SL_OPT_END};
    assert_verify_fails(wrong_size, "table 'bad': key 'a' its field's size "
                                    "does not match its type");
    const struct sl_opt bad_default[] = {
        {"a", SL_OPT_DURATION, BAD(big), .def = "5 s", .help = "h"},
        SL_OPT_END};
    assert_verify_fails(bad_default,
                        "table 'bad': key 'a': default: (default):0:0: found "
                        "a string \"5 s\", expected a duration (such as "
                        "\"250ms\", \"5s\", \"2m\", \"1h\" or a number of "
                        "seconds)");
    const struct sl_opt out_of_range[] = {{"a", SL_OPT_INT, BAD(big),
                                           .def = "0", .min = 1, .max = 9,
                                           .help = "h"},
                                          SL_OPT_END};
    assert_verify_fails(out_of_range,
                        "table 'bad': key 'a': default: (default):0:0: found "
                        "a string \"0\", expected an integer from 1 to 9");
    const struct sl_opt twice[] = {{"a", SL_OPT_INT, BAD(big), .help = "h"},
                                   {"a", SL_OPT_ENUM, BAD(small), .def = "red",
                                    .words = colors, .help = "h"},
                                   SL_OPT_END};
    assert_verify_fails(twice, "table 'bad': key 'a' is listed twice");
    const struct sl_opt no_default[] = {
        {"a", SL_OPT_ENUM, BAD(small), .words = colors, .help = "h"},
        SL_OPT_END};
    assert_verify_fails(no_default, "table 'bad': key 'a' is an enum with "
                                    "neither a default nor SL_OPT_REQUIRED");
    const struct sl_opt secret_int[] = {
        {"a", SL_OPT_INT, BAD(big), .flags = SL_OPT_SECRET, .help = "h"},
        SL_OPT_END};
    assert_verify_fails(secret_int, "table 'bad': key 'a' is secret but not a "
                                    "string without a default");
    const struct sl_opt required_default[] = {
        {"a", SL_OPT_INT, BAD(big), .def = "1", .flags = SL_OPT_REQUIRED,
         .help = "h"},
        SL_OPT_END};
    assert_verify_fails(required_default,
                        "table 'bad': key 'a' is required and has a default");
    const struct sl_opt no_help[] = {{"a", SL_OPT_INT, BAD(big)}, SL_OPT_END};
    assert_verify_fails(no_help, "table 'bad': key 'a' has no help");
}

static void test_markdown(void **state)
{
    (void)state;
    struct sl_buf b = SL_BUF_INIT(1 << 16);
    struct sl_err err = {0};
    assert_int_equal(sl_config_table_write_markdown(&all_table, "", &b, &err),
                     0);
    assert_string_equal(
        b.ptr,
        "| key | value | default | meaning |\n"
        "| --- | --- | --- | --- |\n"
        "| `flag` | true or false | `true` | a flag |\n"
        "| `count` | an integer from 1 to 10000 | `10` | a count |\n"
        "| `max_size` | a size from 1KiB to 1GiB | `\"1MiB\"` | a size |\n"
        "| `interval` | a duration from 1ms to 1h | `\"500ms\"` | a duration "
        "|\n"
        "| `name` | a string | `\"x\"` | a \\| name |\n"
        "| `token` | a string (secret: never shown) | none | a secret |\n"
        "| `color` | one of `red`, `green`, `blue` | `\"green\"` | an enum |\n"
        "| `tags` | a list of strings (at most 3) | `[\"t0\"]` | strings |\n"
        "| `nested` | an object |  | an object |\n"
        "| `nested.on` | true or false | `false` | switch |\n"
        "| `nested.port` | an integer from 1 to 65535 | `80` | a port |\n"
        "| `items` | a list of objects (at most 4) | none | objects |\n"
        "| `items[].name` | a string | required | the item's name |\n"
        "| `items[].weight` | an integer from 1 to 100 | `1` | how heavy |\n"
        "| `raw` | anything |  | raw |\n");
    sl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_secret_never_shown),
        cmocka_unit_test(test_release_after_failure),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
