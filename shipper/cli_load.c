/* cli_load.c: a shipper.json loaded, read through its tables and its
 * inputs checked, as `check`, `status` and (later) `run` need it.
 *
 * Each input is checked first for what every input module relies on
 * (type, and paths for files), then through its module's own table
 * (in_file's or in_stdin's) and its events' setup (format, multiline,
 * fields, processors: pipe_input_new, which compiles the grok patterns),
 * so `check` refuses every bad key `run` would. */
#include "shipper_cli.h"

#include "in_file.h"
#include "in_stdin.h"
#include "pipeline.h"

#include <stdio.h>
#include <string.h>

static const char *const input_types[] = {"file", "stdin", NULL};
enum { INPUT_FILE, INPUT_STDIN };

/* One glob of "paths": not empty, and naming files: one that ends in '/'
 * names directories only, which the file input never reads, and one that
 * starts with the shell's '~' names a directory '~' here: either would
 * match nothing, silently, for ever. */
static int check_glob(const struct sl_config_node *g, struct sl_err *err)
{
    const char *s;
    size_t len;
    if (sl_config_string(g, NULL, NULL, &s, err) < 0)
        return -1;
    if (s[0] == '\0')
        return sl_config_error_expected(g, err, "a file name or glob");
    len = strlen(s);
    if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
        return sl_config_error_expected(
            g, err,
            "a path without white space at its start or end (a copy and "
            "paste?); remove it");
    if (s[0] == '~')
        return sl_config_error_expected(
            g, err,
            "a path without '~' (a shell's, not expanded here): write "
            "${HOME}%.200s, or the whole path",
            s + 1);
    if (s[len - 1] == '/')
        return sl_config_error_expected(
            g, err,
            "a glob of files, not a directory: name its files, such as "
            "%.200s*.log",
            s);
    return 0;
}

/* "paths": a glob, or a list of globs that is not empty. */
static int check_paths(const struct sl_config_node *in, struct sl_err *err)
{
    const struct sl_config_node *p = sl_config_require(in, "paths", err);
    if (p == NULL)
        return -1;
    if (sl_config_type(p) != SL_CONFIG_ARRAY)
        return check_glob(p, err);
    if (sl_config_len(p) == 0)
        return sl_config_error_expected(p, err, "at least one path");
    for (size_t i = 0; i < sl_config_len(p); i++)
        if (check_glob(sl_config_at(p, i), err) < 0)
            return -1;
    return 0;
}

/* "exclude" (its types checked by in_file's table): a glob ending in '/'
 * excludes nothing (no file's path ends so), where a directory's files
 * were meant. */
static int check_excludes(const struct sl_config_node *in, struct sl_err *err)
{
    const struct sl_config_node *x = sl_config_get(in, "exclude");
    size_t n = sl_config_type(x) == SL_CONFIG_ARRAY ? sl_config_len(x) : 1;
    for (size_t i = 0; x != NULL && i < n; i++) {
        const struct sl_config_node *g =
            sl_config_type(x) == SL_CONFIG_ARRAY ? sl_config_at(x, i) : x;
        const char *s;
        if (sl_config_string(g, NULL, NULL, &s, err) < 0)
            return -1;
        size_t len = strlen(s);
        if (len > 0 && s[len - 1] == '/')
            return sl_config_error_expected(
                g, err,
                "a glob of files (one ending in '/' excludes nothing): "
                "write %s%.200s** for every file under it",
                s[0] == '/' ? "" : "**/", s);
    }
    return 0;
}

/* *stdin_at: the index of the first stdin input so far, or -1; a second
 * one is refused: stdin is one stream, read by one input. */
static int check_input(const struct sl_config_node *in, size_t i,
                       long *stdin_at, struct sl_err *err)
{
    const struct sl_config_node *obj;
    int type;
    if (sl_config_object(in, NULL, &obj, err) < 0)
        return -1;
    /* no "type": a file input, as the reference says */
    if (sl_config_enum(in, "type", input_types, INPUT_FILE, &type, err) < 0)
        return -1;
    if (type == INPUT_STDIN && *stdin_at >= 0)
        return sl_config_error(sl_config_get(in, "type"), err,
                               "inputs[%ld] reads stdin already, and stdin "
                               "is read by one input only; keep one (a "
                               "processor's `when` can treat its lines "
                               "apart)",
                               *stdin_at);
    if (type == INPUT_STDIN)
        *stdin_at = (long)i;
    /* without paths, the table says why: a misspelt key ('pathh') first */
    if (type == INPUT_FILE && sl_config_get(in, "paths") != NULL &&
        check_paths(in, err) < 0)
        return -1;
    if (type == INPUT_FILE) {
        struct in_file_config fc;
        int rc = in_file_config_read(&fc, in, err);
        in_file_config_release(&fc);
        return rc < 0 ? -1 : check_excludes(in, err);
    }
    struct in_stdin_config sc;
    int rc = in_stdin_config_read(&sc, in, err);
    in_stdin_config_release(&sc);
    return rc;
}

/* What run builds of each input's events, built once and freed. */
static int check_events(const struct shipper_config *c, struct sl_err *err)
{
    for (size_t i = 0; i < sl_config_len(c->inputs); i++) {
        const struct sl_config_node *in = sl_config_at(c->inputs, i);
        char name[32];
        snprintf(name, sizeof name, "inputs[%zu]", i);
        struct pipe_input *pi = pipe_input_new(
            c->host.name, sl_config_get(in, "format"),
            sl_config_get(in, "multiline"), sl_config_get(in, "processors"),
            sl_config_get(in, "fields"), name, NULL, err);
        if (pi == NULL)
            return -1;
        pipe_input_free(pi);
    }
    return 0;
}

int shipper_inputs_check(const struct sl_config_node *inputs,
                         struct sl_err *err)
{
    long stdin_at = -1;
    for (size_t i = 0; i < sl_config_len(inputs); i++)
        if (check_input(sl_config_at(inputs, i), i, &stdin_at, err) < 0)
            return -1;
    return 0;
}

int shipper_cli_load(const char *path, struct shipper_loaded *l,
                     struct sl_err *err)
{
    memset(l, 0, sizeof *l);
    l->cfg = sl_config_load_file(path, err);
    if (l->cfg == NULL) {
        if (err != NULL && err->status == SL_EIO) {
            char msg[SL_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            sl_err_set(err, SL_EIO, "%s; -c FILE reads another config", msg);
        }
        return -1;
    }
    if (shipper_config_read(&l->sc, sl_config_root(l->cfg), err) < 0 ||
        shipper_inputs_check(l->sc.inputs, err) < 0 ||
        check_events(&l->sc, err) < 0) {
        shipper_cli_unload(l);
        return -1;
    }
    return 0;
}

void shipper_cli_unload(struct shipper_loaded *l)
{
    if (l->cfg != NULL)
        shipper_config_release(&l->sc);
    sl_config_free(l->cfg);
    memset(l, 0, sizeof *l);
}
