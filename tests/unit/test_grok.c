/* test_grok.c: the grok engine with a small library defined in the test:
 * expansion and translation, captures and types, Logstash's capture rules,
 * every compile error a user can meet, and the timeout path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grok.h"
#include "sl_arena.h"
#include "sl_event.h"

static const char LIBRARY[] =
    "# test library\n"
    "INT [+-]?[0-9]+\n"
    "NUMBER [+-]?[0-9]+(?:\\.[0-9]+)?\n"
    "WORD \\b\\w+\\b\n"
    "\n"
    "IP [0-9]{1,3}(?:\\.[0-9]{1,3}){3}\n"
    "PAIR %{WORD:[pair][key]}=%{INT:[pair][value]:int}\n"
    "LOOP_A x%{LOOP_B}\n"
    "LOOP_B y%{LOOP_A}\n"
    "BROKEN (abc\n"
    "USES_BROKEN x%{BROKEN}y\n"
    "DOUBLE1 %{WORD}%{WORD}\n"
    "DOUBLE2 %{DOUBLE1}%{DOUBLE1}%{DOUBLE1}%{DOUBLE1}\n"
    "DOUBLE3 %{DOUBLE2}%{DOUBLE2}%{DOUBLE2}%{DOUBLE2}\n"
    "DOUBLE4 %{DOUBLE3}%{DOUBLE3}%{DOUBLE3}%{DOUBLE3}\n"
    "DOUBLE5 %{DOUBLE4}%{DOUBLE4}%{DOUBLE4}%{DOUBLE4}\n"
    "DOUBLE6 %{DOUBLE5}%{DOUBLE5}%{DOUBLE5}%{DOUBLE5}\n"
    "DOUBLE7 %{DOUBLE6}%{DOUBLE6}%{DOUBLE6}%{DOUBLE6}\n"
    "DOUBLE8 %{DOUBLE7}%{DOUBLE7}%{DOUBLE7}%{DOUBLE7}\n"
    "DOUBLE9 %{DOUBLE8}%{DOUBLE8}%{DOUBLE8}%{DOUBLE8}\n"
    "DOUBLE10 %{DOUBLE9}%{DOUBLE9}%{DOUBLE9}%{DOUBLE9}\n";

struct fixture {
    struct grok_library *lib;
    struct sl_arena *arena;
    struct sl_event ev;
    struct sl_buf out;
    struct grok *g;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct sl_err err;
    f->lib = grok_library_new();
    assert_int_equal(grok_library_load_text(f->lib, "test.grok", LIBRARY,
                                            strlen(LIBRARY), &err),
                     0);
    f->arena = sl_arena_new(4096);
    sl_event_init(&f->ev, f->arena);
    sl_buf_init(&f->out, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    grok_free(f->g);
    grok_library_free(f->lib);
    sl_arena_free(f->arena);
    sl_buf_release(&f->out);
    free(f);
    return 0;
}

/* Compiles expr, matches line, returns the event JSON (captures only). */
static const char *grok_json(struct fixture *f, const char *expr,
                             const char *line)
{
    struct sl_err err = {0};
    grok_free(f->g);
    f->g = grok_compile(f->lib, &expr, 1, NULL, &err);
    if (f->g == NULL)
        fail_msg("compile failed: %s", err.msg);
    sl_event_reset(&f->ev);
    sl_buf_reset(&f->out);
    enum grok_result r = grok_match(f->g, line, strlen(line));
    if (r != GROK_MATCH)
        return r == GROK_TIMEOUT ? "TIMEOUT" : "NOMATCH";
    assert_int_equal(grok_capture_into(f->g, &f->ev, &err), 0);
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, &err), 0);
    return f->out.ptr;
}

static const char *compile_error(struct fixture *f, const char *expr)
{
    static struct sl_err err;
    struct grok *g = grok_compile(f->lib, &expr, 1, NULL, &err);
    if (g != NULL) {
        grok_free(g);
        return "(compiled)";
    }
    return err.msg;
}

static void captures_nest_and_convert(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(
        grok_json(f,
                  "%{IP:[source][address]} %{INT:[http][status]:int} "
                  "%{NUMBER:took:float} %{WORD:user.name}",
                  "10.0.0.1 404 0.25 alice"),
        "{\"source\":{\"address\":\"10.0.0.1\"},\"http\":{\"status\":404},"
        "\"took\":0.25,\"user\":{\"name\":\"alice\"}}");
}

/* Elasticsearch's ingest grok (Filebeat's module pipelines, where many
 * nginx and Apache patterns are copied from) also names long and double:
 * numbers as :int and :float. */
static void long_and_double_convert_as_int_and_float(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(
        grok_json(f,
                  "%{INT:[process][pid]:long}#%{INT:[process][thread][id]:"
                  "long} %{NUMBER:took:double}",
                  "123#0 0.5"),
        "{\"process\":{\"pid\":123,\"thread\":{\"id\":0}},\"took\":0.5}");
}

/* Filebeat's GREEDYMULTILINE, (.|\n|\t)*, repeats a group once per
 * character: past some 30,000 of them the JIT's 1 MiB stack is full. The
 * line is matched again by the interpreter, whose frames are on the heap
 * (its limits still hold), so a long message matches. */
static void a_group_repeated_past_the_jit_stack_still_matches(void **state)
{
    struct fixture *f = *state;
    size_t n = 100000;
    char *line = malloc(n + 1);
    memset(line, 'x', n);
    line[n] = '\0';
    const char *expr = "^(?<m>(?:.|\n|\t)*)$";
    struct sl_err err;
    struct grok *g = grok_compile(f->lib, &expr, 1, NULL, &err);
    assert_non_null(g);
    assert_int_equal(grok_match(g, line, n), GROK_MATCH);
    const struct sl_fieldpath *field;
    enum grok_type type;
    const char *value;
    size_t len;
    assert_int_equal(grok_capture_get(g, 0, &field, &type, &value, &len), 1);
    assert_int_equal(len, n);
    /* a runaway pattern on that line still ends, as a timeout */
    const char *runaway = "^(\\w+\\s?)*$";
    line[n - 1] = '!';
    grok_free(g);
    g = grok_compile(f->lib, &runaway, 1, NULL, &err);
    assert_non_null(g);
    assert_int_equal(grok_match(g, line, n), GROK_TIMEOUT);
    grok_free(g);
    free(line);
}

static void unnamed_reference_captures_nothing(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "%{IP} %{WORD:w}", "1.2.3.4 x"),
                        "{\"w\":\"x\"}");
}

static void nested_pattern_captures_come_through(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "^%{PAIR}$", "retries=07"),
                        "{\"pair\":{\"key\":\"retries\",\"value\":7}}");
}

static void inline_named_captures_with_field_refs(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(
        grok_json(f, "(?<[event][code]>[A-Z]{3})-(?'id'\\d+)-(?P<tail>.)",
                  "ERR-42-z"),
        "{\"event\":{\"code\":\"ERR\"},\"id\":\"42\",\"tail\":\"z\"}");
}

static void empty_and_unset_captures_are_dropped(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "a(?<x>b?)c(?:(?<y>z)|-)", "ac-"), "{}");
}

static void same_field_twice_becomes_array(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(
        grok_json(f, "%{WORD:w} %{WORD:w} %{INT:w:int}", "a b 3"),
        "{\"w\":[\"a\",\"b\",3]}");
}

static void search_is_unanchored(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "%{INT:n:int}", "abc -12 def"),
                        "{\"n\":-12}");
}

static void ruby_constructs_are_translated(void **state)
{
    struct fixture *f = *state;
    /* (?m) is dot-all in Ruby */
    assert_string_equal(grok_json(f, "(?m)a(?<x>.*)z", "a1\n2z"),
                        "{\"x\":\"1\\n2\"}");
    /* \h is a hex digit in Ruby */
    assert_string_equal(grok_json(f, "(?<x>\\h+)", "zz beef zz"),
                        "{\"x\":\"beef\"}");
    assert_string_equal(grok_json(f, "(?<x>[\\hx]+)", "--0xfF--"),
                        "{\"x\":\"0xfF\"}");
    /* \H is not a hex digit, in a class too, where PCRE2 would read
     * "not horizontal space" */
    assert_string_equal(grok_json(f, "(?<x>\\H+)", "beef zz"),
                        "{\"x\":\" zz\"}");
    assert_string_equal(grok_json(f, "(?<x>[\\h]+)", "zz beef zz"),
                        "{\"x\":\"beef\"}");
    assert_string_equal(grok_json(f, "(?<x>[^\\h]+)", "beef zz beef"),
                        "{\"x\":\" zz \"}");
    assert_string_equal(grok_json(f, "(?<x>[\\H]+)", "abc xyz"),
                        "{\"x\":\" xyz\"}");
    assert_string_equal(grok_json(f, "(?<x>[^\\H]+)", "zz beef"),
                        "{\"x\":\"beef\"}");
    assert_string_equal(grok_json(f, "(?<x>[a\\Hb]+)", "12 ab zz"),
                        "{\"x\":\" ab zz\"}");
    assert_string_equal(grok_json(f, "(?<x>[\\h\\s]+)", "zz 0a 1 zz"),
                        "{\"x\":\" 0a 1 \"}");
    /* {,n} means {0,n} */
    assert_string_equal(grok_json(f, "^(?<x>a{,2})", "aaa"), "{\"x\":\"aa\"}");
    /* ^ and $ match at line breaks, as in Ruby */
    assert_string_equal(grok_json(f, "^(?<x>second)$", "first\nsecond\n"),
                        "{\"x\":\"second\"}");
    /* \k<name> follows the renamed group */
    assert_string_equal(grok_json(f, "(?<q>['\"])(?<v>\\w+)\\k<q>", "'abc'"),
                        "{\"q\":\"'\",\"v\":\"abc\"}");
    assert_string_equal(grok_json(f, "(?<q>['\"])(?<v>\\w+)\\k<q>", "'abc\""),
                        "NOMATCH");
}

static void dot_matches_newline_as_in_logstash(void **state)
{
    struct fixture *f = *state;
    /* Logstash compiles with Regexp::MULTILINE (dot-all): a traceback is
     * captured whole. */
    assert_string_equal(
        grok_json(f, "^%{WORD:w} (?<rest>.*)$", "Traceback (most\n  File x"),
        "{\"w\":\"Traceback\",\"rest\":\"(most\\n  File "
        "x\"}");
}

static void utf_mode_nonspace_takes_non_ascii(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    const char *expr = "^a (?<x>\\S+) (?<d>\\D) (?<w>\\W)$";
    struct grok_options o = {.utf = true};
    f->g = grok_compile(f->lib, &expr, 1, &o, &err);
    assert_non_null(f->g);
    const char *line = "a \xc3\xbc\xc3\xa9 \xe2\x82\xac \xc3\xa9";
    assert_int_equal(grok_match(f->g, line, strlen(line)), GROK_MATCH);
    assert_int_equal(grok_capture_into(f->g, &f->ev, &err), 0);
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, &err), 0);
    assert_string_equal(f->out.ptr, "{\"x\":\"\xc3\xbc\xc3\xa9\",\"d\":"
                                    "\"\xe2\x82\xac\",\"w\":\"\xc3\xa9\"}");
}

static void int_conversion_follows_ruby_to_i(void **state)
{
    char out[64];
    struct {
        const char *in, *want;
    } cases[] = {
        {"42", "42"},
        {"-7", "-7"},
        {"+5", "5"},
        {"007", "7"},
        {"-0", "0"},
        {"12abc", "12"},
        {"abc", "0"},
        {"  3", "3"},
        {"1_000", "1000"},
        {"1__0", "1"},
        {"", "0"},
        {"-", "0"},
        {"9223372036854775808", "9223372036854775808"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n =
            grok_convert_int(cases[i].in, strlen(cases[i].in), out, sizeof out);
        out[n] = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

static void float_conversion_follows_ruby_to_f(void **state)
{
    char out[64];
    struct {
        const char *in, *want;
    } cases[] = {
        {"0.25", "0.25"},  {"3", "3.0"},   {"-1.5e3", "-1500.0"},
        {"abc", "0.0"},    {"1.", "1.0"},  {"2e", "2.0"},
        {"1e400", "null"}, {"0.1", "0.1"}, {"12.5ms", "12.5"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = grok_convert_float(cases[i].in, strlen(cases[i].in), out,
                                      sizeof out);
        out[n] = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

/* As jls-grok (Logstash) reads %{...}: NAME, then :field[:type] of
 * [@[]A-Za-z0-9_:.-], then anything up to '}' ignored, as in Logstash's own
 * %{NAGIOSLOGLINE - CURRENT HOST STATE}. */
static void text_after_the_name_is_ignored(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "%{INT - CURRENT HOST STATE}", "a 12"),
                        "{}");
    assert_string_equal(grok_json(f, "%{INT:n - the count}", "a 12"),
                        "{\"n\":\"12\"}");
    assert_string_equal(grok_json(f, "%{INT:n:int (bytes)}", "a 12"),
                        "{\"n\":12}");
    assert_string_equal(
        grok_json(f, "%{INT:[a][b] x}=%{WORD:my field}", "12=ab"),
        "{\"a\":{\"b\":\"12\"},\"my\":\"ab\"}");
    assert_string_equal(compile_error(f, "%{ INT}"),
                        "grok: expression '%{ INT}': at %{ INT}: expected a "
                        "pattern name (letters, digits, '_') after '%{'");
    assert_string_equal(compile_error(f, "%{INT:n=[0-9]+}"),
                        "grok: expression '%{INT:n=[0-9]+}': at "
                        "%{INT:n=[0-9]+}: inline definitions (%{NAME=regex}) "
                        "are not supported; define the pattern with -D or in "
                        "a patterns file");
}

static void first_matching_expression_wins(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    const char *exprs[] = {"^%{INT:n:int}$", "^%{WORD:w}$", "^%{WORD:x}"};
    f->g = grok_compile(f->lib, exprs, 3, NULL, &err);
    assert_non_null(f->g);
    assert_int_equal(grok_match(f->g, "hello", 5), GROK_MATCH);
    assert_int_equal(grok_capture_into(f->g, &f->ev, &err), 0);
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, &err), 0);
    assert_string_equal(f->out.ptr, "{\"w\":\"hello\"}");
    struct grok_stats s;
    grok_expr_stats(f->g, 0, &s);
    assert_int_equal(s.failures, 1);
    grok_expr_stats(f->g, 1, &s);
    assert_int_equal(s.matches, 1);
    grok_expr_stats(f->g, 2, &s);
    assert_int_equal(s.matches + s.failures, 0);
}

static void error_unknown_pattern_names_it(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(compile_error(f, "%{IP:a} %{HTTPDAT:ts}"),
                        "grok: expression '%{IP:a} %{HTTPDAT:ts}': at "
                        "%{HTTPDAT:ts}: unknown pattern 'HTTPDAT'; add "
                        "--patterns-dir or check the spelling");
    assert_int_equal(grok_library_load_text(f->lib, "mine.grok",
                                            "X a\nY %{NOPE}\n", 14, NULL),
                     0);
    assert_string_equal(compile_error(f, "%{Y}"),
                        "grok: pattern 'Y' (mine.grok:2): at %{NOPE}: unknown "
                        "pattern 'NOPE'; add --patterns-dir or check the "
                        "spelling");
}

/* A name a typo or the wrong case away from a known one is suggested;
 * one no known name is close to gets the plain advice. */
static void error_unknown_pattern_suggests_the_closest_name(void **state)
{
    struct fixture *f = *state;
    static const char *const cases[][2] = {
        {"%{word:w}", "'word' (did you mean 'WORD'?)"},
        {"%{NUMBR}", "'NUMBR' (did you mean 'NUMBER'?)"},
        {"%{WROD}", "'WROD' (did you mean 'WORD'?)"},
        {"%{DOUBLE11}", "'DOUBLE11' (did you mean 'DOUBLE1'?)"},
        /* too far from every name: INT is 4 edits from INTEGER, IP 2 from X */
        {"%{INTEGER}", "'INTEGER'"},
        {"%{X}", "'X'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *expr = cases[i][0];
        char want[256];
        snprintf(want, sizeof want,
                 "grok: expression '%s': at %s: unknown pattern %s; add "
                 "--patterns-dir or check the spelling",
                 expr, expr, cases[i][1]);
        assert_string_equal(compile_error(f, expr), want);
    }
}

static void error_recursion_is_detected(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(compile_error(f, "%{LOOP_A}"),
                        "grok: pattern 'LOOP_B' (test.grok:9): pattern refers "
                        "to itself: LOOP_A -> LOOP_B -> LOOP_A; remove the "
                        "cycle");
}

static void error_regex_blames_the_pattern(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(compile_error(f, "%{USES_BROKEN}"),
                        "grok: pattern 'BROKEN' (test.grok:10): invalid "
                        "regex: missing closing parenthesis at offset 4 of "
                        "its expansion '(abc'");
    /* in the expression's own text: where the user wrote it; an unclosed
     * group is found in the text (PCRE2 only sees the end) */
    assert_string_equal(compile_error(f, "%{WORD:w} (x"),
                        "grok: expression '%{WORD:w} (x': invalid regex: "
                        "missing closing parenthesis at its end: the '(' at "
                        "offset 10, at '(x', is not closed; a literal ( ) [ "
                        "] { } * + ? | or \\ needs a backslash before it");
    assert_string_equal(
        compile_error(f, "(?<a>x) \\( [(] (?<ms>%{INT}(y) %{WORD}"),
        "grok: expression '(?<a>x) \\( [(] (?<ms>%{INT}(y) %{WORD}': "
        "invalid regex: missing closing parenthesis at its end: the '(' at "
        "offset 15, at '(?<ms>%{INT}(y) %{WO', is not closed; a literal ( ) "
        "[ ] { } * + ? | or \\ needs a backslash before it");
    assert_string_equal(compile_error(f, "%{WORD:w} x) %{INT:n}"),
                        "grok: expression '%{WORD:w} x) %{INT:n}': invalid "
                        "regex: unmatched closing parenthesis at offset 11, "
                        "at ') %{INT:n}'; a literal ( ) [ ] { } * + ? | or "
                        "\\ needs a backslash before it");
    assert_string_equal(compile_error(f, "(?<a>x)%{WORD}{2,1}"),
                        "grok: expression '(?<a>x)%{WORD}{2,1}': invalid "
                        "regex: numbers out of order in {} quantifier at "
                        "offset 18, at '}'; a literal ( ) [ ] { } * + ? | or "
                        "\\ needs a backslash before it");
}

static void error_bad_type_and_field(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(compile_error(f, "%{INT:n:integer}"),
                        "grok: expression '%{INT:n:integer}': at "
                        "%{INT:n:integer}: unknown type 'integer'; expected "
                        "int, long, float or double");
    assert_string_equal(compile_error(f, "%{INT:[a][}"),
                        "grok: expression '%{INT:[a][}': field reference "
                        "'[a][' is not of the form [a][b] (unbalanced or "
                        "empty brackets)");
    assert_string_equal(compile_error(f, "%{INT:x"),
                        "grok: expression '%{INT:x': '%{' at '%{INT:x' has "
                        "no closing '}'");
    assert_string_equal(compile_error(f, "%{INT::int}"),
                        "grok: expression '%{INT::int}': at %{INT::int}: "
                        "empty field name");
}

static void error_exponential_expansion_is_capped(void **state)
{
    struct fixture *f = *state;
    const char *msg = compile_error(f, "%{DOUBLE10}");
    assert_non_null(strstr(msg, "expands to more than 4194304 bytes"));
}

static void error_bad_library_lines(void **state)
{
    struct sl_err err;
    struct grok_library *lib = grok_library_new();
    (void)state;
    assert_int_equal(
        grok_library_load_text(lib, "p.grok", "OK x\nLONELY\n", 12, &err), -1);
    assert_string_equal(err.msg, "p.grok:2: pattern 'LONELY' has no regex; a "
                                 "line is NAME followed by a space and the "
                                 "regex");
    assert_int_equal(
        grok_library_load_text(lib, "p.grok", "BAD-NAME x\n", 11, &err), -1);
    assert_string_equal(err.msg, "p.grok:1: pattern name 'BAD-NAME' may only "
                                 "hold letters, digits and '_'");
    assert_int_equal(grok_library_load_file(lib, "/nonexistent/p", &err), -1);
    assert_string_equal(err.msg, "cannot open pattern file '/nonexistent/p': "
                                 "No such file or directory");
    grok_library_free(lib);
}

static void later_definition_overrides(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(grok_library_load_text(f->lib, "user.grok",
                                            "WORD [a-z]{2}\n", 14, NULL),
                     0);
    assert_string_equal(grok_json(f, "%{WORD:w}", "abcd"), "{\"w\":\"ab\"}");
    assert_string_equal(grok_library_lookup(f->lib, "WORD"), "[a-z]{2}");
}

static void runaway_backtracking_times_out(void **state)
{
    struct fixture *f = *state;
    struct sl_err err;
    const char *expr = "^(\\w+\\s?)*$";
    struct grok_options o = {.match_limit = 10000};
    f->g = grok_compile(f->lib, &expr, 1, &o, &err);
    assert_non_null(f->g);
    const char *line = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
    assert_int_equal(grok_match(f->g, line, strlen(line)), GROK_TIMEOUT);
    struct grok_stats s;
    grok_expr_stats(f->g, 0, &s);
    assert_int_equal(s.timeouts, 1);
    /* and the next line is matched normally */
    assert_int_equal(grok_match(f->g, "ok", 2), GROK_MATCH);
}

static void invalid_utf8_subject_still_matches(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(
        grok_json(f, "^%{WORD:a} (?<rest>.*)$", "ab \xff\xfe tail"),
        "{\"a\":\"ab\",\"rest\":\"\xef\xbf\xbd\xef\xbf\xbd tail\"}");
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Each call writes the caller's buffer: the second result does not
 * overwrite the first (it did when the function returned a static buffer). */
static void builtin_dir_results_are_independent(void **state)
{
    (void)state;
    struct sl_err err = {0};
    char v1[GROK_DIR_MAX], legacy[GROK_DIR_MAX], tiny[8];
    assert_int_equal(grok_builtin_dir("v1", v1, sizeof v1, &err), 0);
    assert_int_equal(grok_builtin_dir("disabled", legacy, sizeof legacy, &err),
                     0);
    assert_true(ends_with(v1, "/ecs-v1"));
    assert_true(ends_with(legacy, "/legacy"));
    assert_int_equal(grok_builtin_dir("v8", tiny, sizeof tiny, &err), -1);
    assert_string_equal(tiny, "");
    assert_string_equal(err.msg, "unknown ECS compatibility 'v8'; expected v1 "
                                 "or disabled");
    assert_int_equal(grok_builtin_dir("v1", tiny, sizeof tiny, &err), -1);
    assert_int_equal(err.status, SL_ELIMIT);
    assert_string_equal(tiny, "");
    assert_true(ends_with(v1, "/ecs-v1"));
}

/* Captures into a root that already holds fields (the shipper's base
 * fields): a name already there as an object is added to, one there as a
 * value is a conflict, a new one goes at the end; a path into tags makes
 * _tags, which a later capture into _tags then finds. */
static void captures_meet_the_fields_already_there(void **state)
{
    struct fixture *f = *state;
    struct sl_fieldpath p;
    struct sl_err err = {0};
    const char *expr = "%{WORD:[http][method]} %{WORD:[url][path]} "
                       "%{WORD:[tags][x]} %{WORD:[_tags][y]} "
                       "%{INT:[http][status]:int} %{WORD:[source][ip]} "
                       "%{WORD:log}";
    const char *line = "GET home a b 0200 ip z";
    f->g = grok_compile(f->lib, &expr, 1, NULL, &err);
    assert_non_null(f->g);
    assert_int_equal(sl_fieldpath_parse(&p, "http.version", 12, NULL), 0);
    assert_int_equal(sl_event_put(&f->ev, &p, SL_VALUE_STRING, "1.1", 3, NULL),
                     0);
    assert_int_equal(
        sl_event_put_top(&f->ev, "source", SL_VALUE_STRING, "s", 1, NULL), 0);
    assert_int_equal(grok_match(f->g, line, strlen(line)), GROK_MATCH);
    assert_int_equal(grok_capture_into(f->g, &f->ev, &err), -1);
    assert_string_equal(err.msg, "field 'source' holds a value, not an "
                                 "object, so '[source][ip]' cannot be set");
    assert_int_equal(sl_event_write_json(&f->ev, &f->out, NULL), 0);
    assert_string_equal(
        f->out.ptr,
        "{\"http\":{\"version\":\"1.1\",\"method\":\"GET\",\"status\":200},"
        "\"source\":\"s\",\"url\":{\"path\":\"home\"},"
        "\"tags\":[\"_tagsparsefailure\"],\"_tags\":{\"x\":\"a\",\"y\":\"b\"},"
        "\"log\":\"z\"}");
    sl_fieldpath_release(&p);
}

/* A pattern that turns UTF on itself, without PCRE2_MATCH_INVALID_UTF, is
 * matched with pcre2_match, which checks the subject's UTF-8 and refuses a
 * line that is not (pcre2_jit_match, which does not check, took 0xff as
 * the lead byte of a character and read past the line's end). A valid
 * line still matches. */
static void own_utf_pattern_refuses_invalid_utf8(void **state)
{
    struct fixture *f = *state;
    assert_string_equal(grok_json(f, "(*UTF)^(?<c>.)", "\xff\xfe"), "NOMATCH");
    assert_string_equal(grok_json(f, "(*UTF)^(?<c>.)", "\xc3\xa9"),
                        "{\"c\":\"\xc3\xa9\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(captures_nest_and_convert, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unnamed_reference_captures_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(nested_pattern_captures_come_through,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(inline_named_captures_with_field_refs,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(empty_and_unset_captures_are_dropped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(same_field_twice_becomes_array, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(search_is_unanchored, setup, teardown),
        cmocka_unit_test_setup_teardown(ruby_constructs_are_translated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(dot_matches_newline_as_in_logstash,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(utf_mode_nonspace_takes_non_ascii,
                                        setup, teardown),
        cmocka_unit_test(int_conversion_follows_ruby_to_i),
        cmocka_unit_test(float_conversion_follows_ruby_to_f),
        cmocka_unit_test_setup_teardown(text_after_the_name_is_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(first_matching_expression_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(error_unknown_pattern_names_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            error_unknown_pattern_suggests_the_closest_name, setup, teardown),
        cmocka_unit_test_setup_teardown(
            long_and_double_convert_as_int_and_float, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_group_repeated_past_the_jit_stack_still_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(error_recursion_is_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(error_regex_blames_the_pattern, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(error_bad_type_and_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(error_exponential_expansion_is_capped,
                                        setup, teardown),
        cmocka_unit_test(error_bad_library_lines),
        cmocka_unit_test_setup_teardown(later_definition_overrides, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(runaway_backtracking_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8_subject_still_matches,
                                        setup, teardown),
        cmocka_unit_test(builtin_dir_results_are_independent),
        cmocka_unit_test_setup_teardown(captures_meet_the_fields_already_there,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(own_utf_pattern_refuses_invalid_utf8,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
