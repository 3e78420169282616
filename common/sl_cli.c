/* sl_cli.c: argv against a table of subcommands (sl_cli.h).
 *
 * Every usage error names what was typed and ends with where to look
 * ("see 'sluice-indexer --help'"), and a misspelt subcommand gets the
 * closest one (edit distance at most 2) as a suggestion. The parser keeps
 * pointers into argv and allocates nothing. */
#include "sl_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "sl_suggest.h"

#define MAX_WORDS 2
#define WORD_MAX  32 /* longer commands are never suggested */

static int usage_error(const struct sl_cli_spec *spec, struct sl_err *err,
                       const char *what)
{
    return sl_err_set(err, SL_EINVAL, "%s; see '%s --help'", what, spec->prog);
}

/* The length of the first word of a command's name. */
static size_t first_len(const char *name)
{
    return strcspn(name, " ");
}

static bool first_is(const char *name, const char *word)
{
    size_t n = first_len(name);
    return strlen(word) == n && strncmp(name, word, n) == 0;
}

/* The first word of the command closest to word, or NULL; into buf. */
static const char *suggest(const struct sl_cli_spec *spec, const char *word,
                           char *buf, size_t size)
{
    size_t best = 3;
    const char *found = NULL;
    for (const struct sl_cli_command *c = spec->commands; c->name; c++) {
        char first[WORD_MAX];
        size_t n = first_len(c->name);
        if (n >= sizeof first)
            continue;
        memcpy(first, c->name, n);
        first[n] = '\0';
        size_t d = sl_edit_distance(word, strlen(word), first, n);
        if (d < best) {
            best = d;
            found = c->name;
        }
    }
    if (found == NULL)
        return NULL;
    snprintf(buf, size, "%.*s", (int)first_len(found), found);
    return buf;
}

/* "'list' or 'replay'": the second words of the commands starting with
 * word. Empty when there are none. */
static void second_words(const struct sl_cli_spec *spec, const char *word,
                         char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const struct sl_cli_command *c = spec->commands; c->name; c++) {
        if (!first_is(c->name, word) || c->name[first_len(c->name)] != ' ')
            continue;
        int n = snprintf(buf + len, size - len, "%s'%s'", len ? " or " : "",
                         c->name + first_len(c->name) + 1);
        if (n < 0 || (size_t)n >= size - len)
            return;
        len += (size_t)n;
    }
}

static const struct sl_cli_command *find(const struct sl_cli_spec *spec,
                                         const char *w0, const char *w1)
{
    for (const struct sl_cli_command *c = spec->commands; c->name; c++) {
        size_t n = first_len(c->name);
        if (!first_is(c->name, w0))
            continue;
        if (w1 == NULL && c->name[n] == '\0')
            return c;
        if (w1 != NULL && c->name[n] == ' ' && strcmp(c->name + n + 1, w1) == 0)
            return c;
    }
    return NULL;
}

/* The command the words name, or NULL with the usage error set. */
static const struct sl_cli_command *match(const struct sl_cli_spec *spec,
                                          const char *const words[], size_t n,
                                          struct sl_err *err)
{
    char msg[256], seconds[128], hint[WORD_MAX];
    if (n == 0)
        return spec->commands;
    const struct sl_cli_command *c = find(spec, words[0], n > 1 ? words[1] : 0);
    if (c != NULL)
        return c;
    second_words(spec, words[0], seconds, sizeof seconds);
    if (seconds[0] != '\0' && n == 1)
        snprintf(msg, sizeof msg, "'%s' needs one of %s", words[0], seconds);
    else if (seconds[0] != '\0')
        snprintf(msg, sizeof msg, "unknown command '%s %s', expected %s",
                 words[0], words[1], seconds);
    else if (n > 1 && find(spec, words[0], NULL) != NULL)
        snprintf(msg, sizeof msg, "unexpected argument '%s' after '%s'",
                 words[1], words[0]);
    else if (suggest(spec, words[0], hint, sizeof hint) != NULL)
        snprintf(msg, sizeof msg, "unknown command '%s' (did you mean '%s'?)",
                 words[0], hint);
    else
        snprintf(msg, sizeof msg, "unknown command '%s'", words[0]);
    usage_error(spec, err, msg);
    return NULL;
}

/* The known option nearest a mistyped one ("--conifg=x" is "--config"),
 * or NULL when none is within two edits. */
static const char *suggest_option(const char *a)
{
    static const char *const known[] = {"--config", "--once",    "--force",
                                        "--help",   "--version", NULL};
    size_t len = strcspn(a, "="), best = 3;
    const char *found = NULL;
    for (size_t i = 0; known[i] != NULL; i++) {
        size_t d = sl_edit_distance(a, len, known[i], strlen(known[i]));
        if (d < best) {
            best = d;
            found = known[i];
        }
    }
    return found;
}

/* The option at argv[*i]: 0, or -1 with the usage error set. */
static int option(const struct sl_cli_spec *spec, int argc, char *const argv[],
                  int *i, struct sl_cli *out, struct sl_err *err)
{
    const char *a = argv[*i];
    char msg[256];
    if (!strcmp(a, "-h") || !strcmp(a, "--help"))
        return out->action = SL_CLI_HELP, 0;
    if (!strcmp(a, "-V") || !strcmp(a, "--version"))
        return out->action = SL_CLI_VERSION, 0;
    if (!strcmp(a, "--once"))
        return out->once = true, 0;
    if (!strcmp(a, "--force"))
        return out->force = true, 0;
    const char *v = NULL;
    if (!strncmp(a, "--config=", 9))
        v = a + 9;
    else if (!strncmp(a, "-c", 2) && a[2] != '\0') /* getopt's -cFILE */
        v = a + 2;
    else if (!strcmp(a, "-c") || !strcmp(a, "--config"))
        v = *i + 1 < argc ? argv[++*i] : "";
    if (v != NULL && v[0] != '\0')
        return out->config = v, 0;
    const char *near = v == NULL ? suggest_option(a) : NULL;
    if (v != NULL)
        snprintf(msg, sizeof msg, "option '%s' needs a file name", a);
    else if (near != NULL)
        snprintf(msg, sizeof msg, "unknown option '%.64s' (did you mean '%s'?)",
                 a, near);
    else
        snprintf(msg, sizeof msg, "unknown option '%.64s'", a);
    return usage_error(spec, err, msg);
}

int sl_cli_parse(const struct sl_cli_spec *spec, int argc, char *const argv[],
                 struct sl_cli *out, struct sl_err *err)
{
    const char *words[MAX_WORDS];
    size_t nwords = 0;
    bool dashdash = false;
    char msg[256];
    *out = (struct sl_cli){.action = SL_CLI_COMMAND,
                           .config = spec->default_config};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && !strcmp(a, "--")) {
            dashdash = true;
        } else if (!dashdash && a[0] == '-' && a[1] != '\0') {
            if (option(spec, argc, argv, &i, out, err) < 0)
                return -1;
            if (out->action != SL_CLI_COMMAND)
                return 0; /* --help and --version win over the rest */
        } else if (nwords < MAX_WORDS) {
            words[nwords++] = a;
        } else {
            snprintf(msg, sizeof msg, "unexpected argument '%.64s'", a);
            return usage_error(spec, err, msg);
        }
    }
    out->command = match(spec, words, nwords, err);
    if (out->command == NULL)
        return -1;
    if ((out->once && !out->command->once) ||
        (out->force && !out->command->force)) {
        snprintf(msg, sizeof msg, "option '%s' does not go with '%s'",
                 out->once && !out->command->once ? "--once" : "--force",
                 out->command->name);
        return usage_error(spec, err, msg);
    }
    return 0;
}

void sl_cli_usage(const struct sl_cli_spec *spec, FILE *f)
{
    fprintf(f, "usage: %s [-c FILE] [COMMAND]\n%s\n\ncommands:\n", spec->prog,
            spec->what);
    for (const struct sl_cli_command *c = spec->commands; c->name; c++) {
        char name[40];
        snprintf(name, sizeof name, "%s%s%s", c->name,
                 c->once ? " [--once]" : "", c->force ? " [--force]" : "");
        fprintf(f, "  %-20s %s\n", name, c->help);
    }
    fprintf(f, "without a command: %s\n", spec->commands[0].name);
    fprintf(f,
            "\noptions:\n"
            "  -c, --config FILE    the config to read (default: %s)\n"
            "  -h, --help           print this help and exit\n"
            "  -V, --version        print the version and exit\n"
            "\nexit status: 0 done, 1 the command failed, "
            "2 a usage or config error\n",
            spec->default_config);
}

void sl_cli_version(const struct sl_cli_spec *spec, FILE *f)
{
    fprintf(f, "%s %s\n", spec->prog, SLUICE_VERSION);
}

/* A daemon started with a standard descriptor closed (some supervisors,
 * `<&-` in a script) got it back from its first open(): `run --once`
 * with a stdin input read the signalfd as stdin and never ended, and
 * events or logs would go into whatever took 1 or 2. Each closed one is
 * opened on /dev/null first (the lowest free descriptor is the one), and
 * remembered for sl_cli_std_fds_closed(). */
static unsigned std_fds_closed;

static void std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            std_fds_closed |= 1u << fd;
            SL_IGNORE_RESULT(open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY));
        }
}

unsigned sl_cli_std_fds_closed(void)
{
    return std_fds_closed;
}

int sl_cli_main(const struct sl_cli_spec *spec, int argc, char *const argv[])
{
    struct sl_cli cli;
    struct sl_err err = {0};
    std_fds_open();
    if (sl_cli_parse(spec, argc, argv, &cli, &err) < 0) {
        fprintf(stderr, "%s: %s\n", spec->prog, err.msg);
        return SL_CLI_EXIT_USAGE;
    }
    if (cli.action == SL_CLI_HELP) {
        sl_cli_usage(spec, stdout);
        return SL_CLI_EXIT_OK;
    }
    if (cli.action == SL_CLI_VERSION) {
        sl_cli_version(spec, stdout);
        return SL_CLI_EXIT_OK;
    }
    if (cli.command->fn == NULL) {
        fprintf(stderr, "%s: '%s' is not in this build yet\n", spec->prog,
                cli.command->name);
        return SL_CLI_EXIT_FAIL;
    }
    return cli.command->fn(&cli);
}
