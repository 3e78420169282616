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

/* "paths": a glob, or a list of globs that is not empty. */
static int check_paths(const struct sl_config_node *in, struct sl_err *err)
{
    const struct sl_config_node *p = sl_config_require(in, "paths", err);
    const char *s;
    if (p == NULL)
        return -1;
    if (sl_config_type(p) != SL_CONFIG_ARRAY) {
        if (sl_config_string(p, NULL, NULL, &s, err) < 0)
            return -1;
        if (s[0] == '\0')
            return sl_config_error_expected(p, err, "a file name or glob");
        return 0;
    }
    if (sl_config_len(p) == 0)
        return sl_config_error_expected(p, err, "at least one path");
    for (size_t i = 0; i < sl_config_len(p); i++) {
        const struct sl_config_node *e = sl_config_at(p, i);
        if (sl_config_string(e, NULL, NULL, &s, err) < 0)
            return -1;
        if (s[0] == '\0')
            return sl_config_error_expected(e, err, "a file name or glob");
    }
    return 0;
}

static int check_input(const struct sl_config_node *in, struct sl_err *err)
{
    const struct sl_config_node *obj;
    int type;
    if (sl_config_object(in, NULL, &obj, err) < 0)
        return -1;
    /* no "type": a file input, as the reference says */
    if (sl_config_enum(in, "type", input_types, INPUT_FILE, &type, err) < 0)
        return -1;
    /* without paths, the table says why: a misspelt key ('pathh') first */
    if (type == INPUT_FILE && sl_config_get(in, "paths") != NULL &&
        check_paths(in, err) < 0)
        return -1;
    if (type == INPUT_FILE) {
        struct in_file_config fc;
        int rc = in_file_config_read(&fc, in, err);
        in_file_config_release(&fc);
        return rc;
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
    for (size_t i = 0; i < sl_config_len(inputs); i++)
        if (check_input(sl_config_at(inputs, i), err) < 0)
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
