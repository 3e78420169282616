/* sl_cli.h: the daemons' command lines, parsed the same way for both.
 *
 *   sluice-shipper [-c shipper.json] [run [--once] | check | status]
 *   sluice-indexer [-c indexer.json] [run [--once] | check | status
 *                                     | setup [--force] | dlq list
 *                                     | dlq replay]
 *
 * A program describes its subcommands in a table (struct sl_cli_spec);
 * sl_cli_parse() reads argv against it. Options may stand before or after
 * the subcommand: -c FILE (--config FILE, --config=FILE), -h/--help,
 * -V/--version, and --once (--force) for a subcommand that takes it. A
 * subcommand may be two words ("dlq list"). No subcommand means the first of
 * the table (run).
 *
 * Nothing is printed and nothing exits here: the caller prints the usage
 * (sl_cli_usage) or the error and picks the exit status, so the parsing is
 * testable as a function. A usage error (SL_EINVAL) reads
 *
 *   unknown command 'stauts' (did you mean 'status'?); see
 *     'sluice-shipper --help'
 *
 * and the caller prefixes the program's name and exits with
 * SL_CLI_EXIT_USAGE. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sl_err.h"

/* Exit statuses of both daemons. */
enum {
    SL_CLI_EXIT_OK = 0,
    SL_CLI_EXIT_FAIL = 1,  /* the command ran and failed (Redis down...) */
    SL_CLI_EXIT_USAGE = 2, /* a usage or config error: fix and run again */
};

#define SL_CLI_MAX_COMMANDS 8

struct sl_cli;

/* A subcommand: returns the exit status, prints its own messages. */
typedef int (*sl_cli_fn)(const struct sl_cli *cli);

struct sl_cli_command {
    const char *name; /* "run", "dlq list": one or two words */
    bool once;        /* takes --once */
    const char *help; /* one line for --help */
    sl_cli_fn fn;     /* NULL: not in this build yet (says so, exits 1) */
    bool force;       /* takes --force (last, so tables may leave it out) */
};

struct sl_cli_spec {
    const char *prog;           /* "sluice-shipper" */
    const char *what;           /* one line: what the program does */
    const char *default_config; /* "/etc/sluice/shipper.json" */
    /* At most SL_CLI_MAX_COMMANDS, NULL name last; the first is the
     * default. */
    const struct sl_cli_command *commands;
};

enum sl_cli_action {
    SL_CLI_COMMAND, /* run the command */
    SL_CLI_HELP,    /* print sl_cli_usage to stdout, exit 0 */
    SL_CLI_VERSION, /* print sl_cli_version to stdout, exit 0 */
};

struct sl_cli {
    enum sl_cli_action action;
    const struct sl_cli_command *command; /* an entry of the spec's table */
    const char *config; /* -c's argument (points into argv), else default */
    bool once;
    bool force;
};

/* Fills out from argv[1..argc). -1 with SL_EINVAL and the message (without
 * the program's name) on a usage error. */
SL_MUST_CHECK int sl_cli_parse(const struct sl_cli_spec *spec, int argc,
                               char *const argv[], struct sl_cli *out,
                               struct sl_err *err);

/* Writes the --help text: usage line, what, commands, options, the default
 * config path and the exit statuses. */
void sl_cli_usage(const struct sl_cli_spec *spec, FILE *f);

/* Writes "sluice-shipper 0.1.0\n". */
void sl_cli_version(const struct sl_cli_spec *spec, FILE *f);
/* The standard descriptors the process was started without (bit fd set:
 * fd was closed); sl_cli_main opened each on /dev/null before anything
 * else, so nothing the daemon opens lands on them. */
unsigned sl_cli_std_fds_closed(void);

/* A daemon's whole main(): parses, prints --help or --version, or runs the
 * command; a usage error is "PROG: message" on stderr and exit 2, a command
 * without fn "PROG: 'run' is not in this build yet" and exit 1. Returns
 * the exit status. */
SL_MUST_CHECK int sl_cli_main(const struct sl_cli_spec *spec, int argc,
                              char *const argv[]);

#endif
