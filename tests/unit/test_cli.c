/* test_cli.c: the daemons' argument parsing (sl_cli) and status's
 * formatting (sl_cli_table): every usage error's exact words, the default
 * command and config, --once only where it goes, sizes, ages, cut paths and
 * aligned columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl_cli.h"
#include "sl_cli_table.h"

static int fake(const struct sl_cli *cli)
{
    return cli->once ? 7 : 0;
}

static const struct sl_cli_command commands[] = {
    {"run", true, "run", fake, false},
    {"check", false, "check", fake, false},
    {"status", false, "status", fake, false},
    {"setup", false, "setup", NULL, false},
    {"dlq list", false, "list", fake, false},
    {"dlq replay", false, "replay", fake, false},
    {NULL, false, NULL, NULL, false}};

static const struct sl_cli_spec spec = {"sluice-x", "does x",
                                        "/etc/sluice/x.json", commands};

/* Parses a space-separated command line (argv[0] included). */
static int parse(const char *line, struct sl_cli *out, struct sl_err *err)
{
    static char buf[256];
    char *argv[16];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save, *w = strtok_r(buf, " ", &save); w && argc < 16;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    sl_err_clear(err);
    return sl_cli_parse(&spec, argc, argv, out, err);
}

static void expect_error(const char *line, const char *msg)
{
    struct sl_cli cli;
    struct sl_err err;
    assert_int_equal(parse(line, &cli, &err), -1);
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, msg);
}

static void default_command_and_config(void **state)
{
    (void)state;
    struct sl_cli cli;
    struct sl_err err;
    assert_int_equal(parse("x", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_COMMAND);
    assert_string_equal(cli.command->name, "run");
    assert_string_equal(cli.config, "/etc/sluice/x.json");
    assert_false(cli.once);
}

static void options_before_and_after_the_command(void **state)
{
    (void)state;
    struct sl_cli cli;
    struct sl_err err;
    assert_int_equal(parse("x -c a.json status", &cli, &err), 0);
    assert_string_equal(cli.command->name, "status");
    assert_string_equal(cli.config, "a.json");
    assert_int_equal(parse("x run --once --config=b.json", &cli, &err), 0);
    assert_string_equal(cli.command->name, "run");
    assert_string_equal(cli.config, "b.json");
    assert_true(cli.once);
    assert_int_equal(parse("x --once", &cli, &err), 0); /* run is default */
    assert_true(cli.once);
    assert_int_equal(parse("x --config c.json dlq replay", &cli, &err), 0);
    assert_string_equal(cli.command->name, "dlq replay");
    assert_string_equal(cli.config, "c.json");
    assert_int_equal(parse("x -- -odd.json", &cli, &err), -1);
}

static void help_and_version_win(void **state)
{
    (void)state;
    struct sl_cli cli;
    struct sl_err err;
    assert_int_equal(parse("x bogus --help", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_HELP);
    assert_int_equal(parse("x --help bogus", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_HELP);
    assert_int_equal(parse("x -h", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_HELP);
    assert_int_equal(parse("x -V", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_VERSION);
    assert_int_equal(parse("x status --version", &cli, &err), 0);
    assert_int_equal(cli.action, SL_CLI_VERSION);
}

static void usage_errors(void **state)
{
    (void)state;
    expect_error("x stauts", "unknown command 'stauts' (did you mean "
                             "'status'?); see 'sluice-x --help'");
    expect_error("x frobnicate",
                 "unknown command 'frobnicate'; see 'sluice-x --help'");
    expect_error("x dlq", "'dlq' needs one of 'list' or 'replay'; see "
                          "'sluice-x --help'");
    expect_error("x dlq lst", "unknown command 'dlq lst', expected 'list' or "
                              "'replay'; see 'sluice-x --help'");
    expect_error("x check now", "unexpected argument 'now' after 'check'; "
                                "see 'sluice-x --help'");
    expect_error("x dlq list now",
                 "unexpected argument 'now'; see 'sluice-x --help'");
    expect_error("x -c", "option '-c' needs a file name; see 'sluice-x "
                         "--help'");
    expect_error("x --config=", "option '--config=' needs a file name; see "
                                "'sluice-x --help'");
    expect_error("x -q", "unknown option '-q'; see 'sluice-x --help'");
    expect_error("x status --once", "option '--once' does not go with "
                                    "'status'; see 'sluice-x --help'");
}

/* A mistyped option gets the known one it is nearest (as a mistyped
 * command does): "--conifg" said only "unknown option". */
static void mistyped_options_are_suggested(void **state)
{
    (void)state;
    expect_error("x --conifg a.json check",
                 "unknown option '--conifg' (did you mean '--config'?); see "
                 "'sluice-x --help'");
    expect_error("x --confg=a.json", "unknown option '--confg=a.json' (did "
                                     "you mean '--config'?); see 'sluice-x "
                                     "--help'");
    expect_error("x run --onec", "unknown option '--onec' (did you mean "
                                 "'--once'?); see 'sluice-x --help'");
    expect_error("x -version", "unknown option '-version' (did you mean "
                               "'--version'?); see 'sluice-x --help'");
    expect_error("x --frobnicate",
                 "unknown option '--frobnicate'; see 'sluice-x --help'");
}

static void sizes_ages_and_cuts(void **state)
{
    (void)state;
    char b[SL_CLI_SHOWN_MAX];
    assert_string_equal(sl_cli_bytes(b, sizeof b, 0), "0 B");
    assert_string_equal(sl_cli_bytes(b, sizeof b, 1023), "1023 B");
    assert_string_equal(sl_cli_bytes(b, sizeof b, 1024), "1.0 KiB");
    assert_string_equal(sl_cli_bytes(b, sizeof b, 1536), "1.5 KiB");
    assert_string_equal(sl_cli_bytes(b, sizeof b, 10240), "10 KiB");
    assert_string_equal(sl_cli_bytes(b, sizeof b, 5u << 20), "5.0 MiB");
    assert_string_equal(sl_cli_bytes(b, sizeof b, UINT64_MAX), "16 EiB");
    assert_string_equal(sl_cli_age(b, sizeof b, -1), "-");
    assert_string_equal(sl_cli_age(b, sizeof b, 59), "59s");
    assert_string_equal(sl_cli_age(b, sizeof b, 60), "1m");
    assert_string_equal(sl_cli_age(b, sizeof b, 7199), "1h");
    assert_string_equal(sl_cli_age(b, sizeof b, 86400 * 3), "3d");
    char p[128];
    assert_string_equal(sl_cli_cut(p, sizeof p, "/var/log/app.log", 16),
                        "/var/log/app.log");
    assert_string_equal(
        sl_cli_cut(p, sizeof p, "/var/log/nginx/access.log", 16),
        "/var...ccess.log");
    /* Whole characters: é (2 bytes) is kept or dropped, never split. */
    assert_string_equal(sl_cli_cut(p, sizeof p, "/éé/éééééé/x.log", 11),
                        "/é.../x.log");
}

static void table_aligns_by_characters(void **state)
{
    (void)state;
    static const char *const head[] = {"FILE", "SIZE", "STATE"};
    struct sl_cli_table t;
    struct sl_err err;
    char *text = NULL;
    size_t len = 0;
    sl_cli_table_init(&t, 3, head, "lrl");
    assert_int_equal(sl_cli_table_row(&t, &err, "/é.log", "1.0 KiB", "done"),
                     0);
    assert_int_equal(sl_cli_table_row(&t, &err, "/a/b.log", NULL, "gone"), 0);
    FILE *f = open_memstream(&text, &len);
    sl_cli_table_print(&t, f);
    fclose(f);
    assert_string_equal(text, "FILE         SIZE  STATE\n"
                              "/é.log    1.0 KiB  done\n"
                              "/a/b.log        -  gone\n");
    free(text);
    sl_cli_table_free(&t);
}

static void main_runs_the_command(void **state)
{
    (void)state;
    char x[] = "x", run[] = "run", once[] = "--once", setup[] = "setup",
         nope[] = "nope";
    char *a[] = {x, run, once, NULL}, *b[] = {x, setup, NULL},
         *c[] = {x, nope, NULL};
    assert_int_equal(sl_cli_main(&spec, 3, a), 7);
    assert_int_equal(sl_cli_main(&spec, 2, b), SL_CLI_EXIT_FAIL);
    assert_int_equal(sl_cli_main(&spec, 2, c), SL_CLI_EXIT_USAGE);
}

/* A cell never carries a control character or a byte that is not UTF-8
 * to the terminal: a file name with a newline keeps its row. */
static void table_escapes_control_characters(void **state)
{
    (void)state;
    static const char *const head[] = {"FILE", "STATE"};
    struct sl_cli_table t;
    struct sl_err err;
    char *text = NULL;
    size_t len = 0;
    sl_cli_table_init(&t, 2, head, "ll");
    assert_int_equal(sl_cli_table_row(&t, &err, "/a\nb\tc\rd.log", "done"), 0);
    assert_int_equal(
        sl_cli_table_row(&t, &err, "\x1b[2J\x7f\\\xff\xc2\x9b\xc3\xa9", "x"),
        0);
    FILE *f = open_memstream(&text, &len);
    sl_cli_table_print(&t, f);
    fclose(f);
    assert_string_equal(text, "FILE                        STATE\n"
                              "/a\\nb\\tc\\rd.log             done\n"
                              "\\x1b[2J\\x7f\\\\\\xff\\xc2\\x9b\xc3\xa9  x\n");
    free(text);
    sl_cli_table_free(&t);
}

/* setup --force (the message of a newer installed template tells users to
 * type it): taken by a command that says so, refused by the others, and
 * shown in --help with which command runs when none is given. */
static void force_only_where_it_goes(void **state)
{
    (void)state;
    static const struct sl_cli_command cmds[] = {
        {"run", true, "run", fake, false},
        {"setup", false, "set up", fake, true},
        {NULL, false, NULL, NULL, false}};
    static const struct sl_cli_spec fspec = {"sluice-y", "does y",
                                             "/etc/sluice/y.json", cmds};
    char x[] = "x", setup[] = "setup", force[] = "--force", run[] = "run";
    char *a[] = {x, setup, force, NULL}, *b[] = {x, force, run, NULL};
    struct sl_cli cli;
    struct sl_err err = {0};
    assert_int_equal(sl_cli_parse(&fspec, 3, a, &cli, &err), 0);
    assert_string_equal(cli.command->name, "setup");
    assert_true(cli.force);
    assert_false(cli.once);
    assert_int_equal(sl_cli_parse(&fspec, 3, b, &cli, &err), -1);
    assert_string_equal(err.msg, "option '--force' does not go with 'run'; "
                                 "see 'sluice-y --help'");
    expect_error("x status --force", "option '--force' does not go with "
                                     "'status'; see 'sluice-x --help'");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sl_cli_usage(&fspec, f);
    fclose(f);
    assert_non_null(strstr(text, "\n  run [--once]         run\n"
                                 "  setup [--force]      set up\n"
                                 "without a command: run\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_command_and_config),
        cmocka_unit_test(options_before_and_after_the_command),
        cmocka_unit_test(help_and_version_win),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(sizes_ages_and_cuts),
        cmocka_unit_test(table_aligns_by_characters),
        cmocka_unit_test(table_escapes_control_characters),
        cmocka_unit_test(main_runs_the_command),
        cmocka_unit_test(force_only_where_it_goes),
        cmocka_unit_test(mistyped_options_are_suggested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
