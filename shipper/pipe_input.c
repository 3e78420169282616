/* pipe_input.c: what the sources of one inputs[] element share (see
 * pipeline.h): the format, the multiline settings (the `multiline` table
 * below, and the grok library its pattern may refer to), the event base
 * (the input's `fields` go there, once: the chain gets none, so they are
 * set once and in event_base's order) and the processor chain.
 *
 * Built once at start, and also by `check`, so that `check` refuses what
 * `run` would. */
#include "pipeline_priv.h"

#include <stdlib.h>
#include <string.h>

static const char *const match_words[] = {"after", "before", NULL};
static const char *const preset_words[] = {"python", "java", "go", NULL};

#define F(m) SL_OPT_FIELD(struct pipe_multiline_opts, m)
static const struct sl_opt multiline_opts[] = {
    {"preset", SL_OPT_STRING, F(preset),
     .help = "`python`, `java` or `go`: tracebacks, stack traces and "
             "panics joined to the "
             "line above; not with `pattern`"},
    {"pattern", SL_OPT_STRING, F(pattern),
     .help = "a grok expression (`^%{TIMESTAMP_ISO8601} `) that decides which "
             "lines join; not with `preset`"},
    {"negate", SL_OPT_BOOL, F(negate), .def = "false",
     .help = "pattern mode: the lines that do NOT match join"},
    {"match", SL_OPT_ENUM, F(match), .def = "after", .words = match_words,
     .help = "pattern mode: `after`, a joining line goes with the line above; "
             "`before`, with the line below"},
    {"max_lines", SL_OPT_INT, F(max_lines), .def = "500", .min = 1,
     .max = 1000000,
     .help = "lines in one event, at most: past it the event is cut "
             "(`_truncated`) and the rest goes on in the next event "
             "(`_multiline_continued`)"},
    {"max_bytes", SL_OPT_SIZE, F(max_bytes), .def = "1MiB", .min = 1,
     .max = 4 * 1024 * 1024,
     .help = "bytes of one event, at most (4MiB: a batch takes 8MiB of JSON "
             "an event): cut as max_lines, a longer line cut to it"},
    {"timeout", SL_OPT_DURATION, F(timeout_ms), .def = "5s", .min = 0,
     .max = 3600 * 1000,
     .help = "an event with no new line for this long is complete (not "
             "while a line is half written: it counts from the line's last "
             "bytes; not "
             "while its file has bytes the shipper has not read, as when "
             "Redis is down: it counts from when reading caught up with the "
             "file's end); 0: never"},
    SL_OPT_END};

static int multiline_check(const struct sl_config_node *obj, void *out,
                           struct sl_err *err)
{
    const struct pipe_multiline_opts *o = out;
    if (obj == NULL)
        return 0;
    if ((o->preset == NULL) == (o->pattern == NULL))
        return sl_config_error(obj, err,
                               "give exactly one of 'preset' and "
                               "'pattern'");
    if (o->preset != NULL) {
        /* match and negate have defaults: only one written beside a
         * preset is a mistake worth saying */
        const char *const only_pattern[] = {"negate", "match"};
        for (size_t i = 0; i < 2; i++) {
            const struct sl_config_node *k =
                sl_config_get(obj, only_pattern[i]);
            if (k != NULL)
                return sl_config_error(k, err,
                                       "'%s' goes with 'pattern', not with "
                                       "'preset'; remove it",
                                       only_pattern[i]);
        }
        int ok = 0;
        for (size_t i = 0; preset_words[i] != NULL; i++)
            ok |= strcmp(o->preset, preset_words[i]) == 0;
        if (!ok)
            return sl_config_error_expected(sl_config_get(obj, "preset"), err,
                                            "\"python\", \"java\" or \"go\"");
    }
    return 0;
}

const struct sl_config_table pipe_multiline_table = {
    "inputs[].multiline", sizeof(struct pipe_multiline_opts), multiline_opts,
    multiline_check};

/* The joiner's error at the key it is about. Its "multiline: " is the key
 * path's last word already, and grok's advice for an unknown pattern names
 * sluice-grok's --patterns-dir, which a multiline pattern has no key for. */
static int multiline_error(const struct sl_config_node *node,
                           const struct sl_err *e, struct sl_err *err)
{
    const char *msg = e->msg;
    if (strncmp(msg, "multiline: ", 11) == 0)
        msg += 11;
    const struct sl_config_node *at = sl_config_get(node, "pattern");
    const char *advice = strstr(msg, "; add --patterns-dir or check the "
                                     "spelling");
    if (advice != NULL)
        return sl_config_error(at != NULL ? at : node, err,
                               "%.*s; check the spelling (a multiline "
                               "pattern knows the built-in patterns: "
                               "sluice-grok --list shows them)",
                               (int)(advice - msg), msg);
    return sl_config_error(at != NULL ? at : node, err, "%s", msg);
}

/* The multiline config of the input, checked by building one joiner
 * (a bad regex says so with the key's position). */
static int read_multiline(struct pipe_input *pi,
                          const struct sl_config_node *node, struct sl_err *err)
{
    struct pipe_multiline_opts o;
    const char *s;
    /* "multiline": "python", a preset's name where its object goes */
    if (sl_config_type(node) == SL_CONFIG_STRING &&
        sl_config_string(node, NULL, NULL, &s, err) == 0 &&
        (strcmp(s, "python") == 0 || strcmp(s, "java") == 0))
        return sl_config_error_expected(node, err,
                                        "an object: write {\"preset\": "
                                        "\"%s\"}",
                                        s);
    if (sl_config_table_fill(&pipe_multiline_table, node, &o, err) < 0)
        return -1;
    multiline_config_init(&pi->ml);
    pi->ml.preset = o.preset;
    pi->ml.pattern = o.pattern;
    /* pattern mode only: a preset brings its own rules, and the joiner
     * refuses a preset with a match or negate beside it */
    pi->ml.negate = o.pattern != NULL && o.negate;
    pi->ml.match = o.pattern != NULL ? match_words[o.match] : NULL;
    pi->ml.max_lines = (uint32_t)o.max_lines;
    pi->ml.max_bytes = (size_t)o.max_bytes;
    pi->ml.timeout_ms = (uint64_t)o.timeout_ms;
    sl_config_table_release(&pipe_multiline_table, &o);
    if (o.pattern != NULL) {
        char dir[GROK_DIR_MAX];
        pi->patterns = grok_library_new();
        if (pi->patterns == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        if (grok_builtin_dir("v1", dir, sizeof dir, err) < 0 ||
            grok_library_load_dir(pi->patterns, dir, err) < 0)
            return -1;
        pi->ml.patterns = pi->patterns;
    }
    struct sl_err e = {0};
    pi->ml_rules = multiline_rules_new(&pi->ml, &e);
    if (pi->ml_rules == NULL)
        return multiline_error(node, &e, err);
    return 0;
}

struct pipe_input *pipe_input_new(const char *host,
                                  const struct sl_config_node *format,
                                  const struct sl_config_node *multiline,
                                  const struct sl_config_node *processors,
                                  const struct sl_config_node *fields,
                                  const char *name, struct proc_metrics *pm,
                                  struct sl_err *err)
{
    struct pipe_input *pi = calloc(1, sizeof *pi);
    if (pi == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(pi->name, sizeof pi->name, "%s", name);
    pi->max_line = CONTAINER_LOG_DEFAULT_MAX_BYTES;
    struct proc_env env = {.metrics = pm};
    if (container_log_format_read(format, &pi->format, err) < 0 ||
        (multiline != NULL && read_multiline(pi, multiline, err) < 0))
        goto fail;
    pi->base = event_base_new(host, fields, err);
    if (pi->base == NULL)
        goto fail;
    /* fields go to the base only: set once, in its order */
    pi->chain = proc_chain_new(processors, NULL, &env, err);
    if (pi->chain == NULL)
        goto fail;
    return pi;
fail:
    pipe_input_free(pi);
    return NULL;
}

void pipe_input_set_max_line(struct pipe_input *pi, size_t max)
{
    pi->max_line = max;
}

void pipe_input_free(struct pipe_input *pi)
{
    if (pi == NULL)
        return;
    proc_chain_free(pi->chain);
    event_base_free(pi->base);
    multiline_rules_free(pi->ml_rules);
    grok_library_free(pi->patterns);
    free(pi);
}
