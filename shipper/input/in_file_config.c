/* in_file_config.c: the keys of an `inputs[]` element of type file
 * (in_file.h). DESIGN.md fixes `paths`, `exclude` and `start_at`; the rest
 * are the file input's own. The keys other modules read (`format`,
 * `multiline`, `processors`, `fields`) are raw nodes here, so the
 * unknown-key check still sees the whole element.
 *
 * Defaults: what Filebeat and Fluent Bit users expect where they agree (a
 * rescan every 10 s, inactive files closed after 5 min, 5 s for a writer to
 * let go of a rotated file), and a descriptor limit of 512, half the usual
 * soft RLIMIT_NOFILE of 1024, so the shipper keeps room for its sockets. */
#include "in_file.h"

#include <limits.h>
#include <string.h>

static const char *const start_words[] = {"beginning", "end", NULL};

/* A glob that is empty, or a NUL inside one, names nothing. */
static int check_globs(const struct sl_config_node *obj, const char *key,
                       const struct sl_opt_strings *l, struct sl_err *err)
{
    const struct sl_config_node *list = sl_config_get(obj, key);
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i][0] == '\0')
            return sl_config_error_expected(
                sl_config_type(list) == SL_CONFIG_ARRAY ? sl_config_at(list, i)
                                                        : list,
                err, "a glob that is not empty");
    return 0;
}

static int check_file(const struct sl_config_node *obj, void *out,
                      struct sl_err *err)
{
    const struct in_file_config *cfg = out;
    if (obj == NULL)
        return 0;
    if (check_globs(obj, "paths", &cfg->paths, err) < 0 ||
        check_globs(obj, "exclude", &cfg->exclude, err) < 0)
        return -1;
    return 0;
}

#define F(m) SL_OPT_FIELD(struct in_file_config, m)
static const struct sl_opt file_opts[] = {
    {"type", SL_OPT_STRING, F(type), .def = "file",
     .help = "`file` or `stdin`: which input reads this element"},
    {"paths", SL_OPT_STRINGS, F(paths), .min = 1, .max = 4096,
     .flags = SL_OPT_REQUIRED,
     .help = "globs of the files to read: `*`, `?`, `[...]` within a "
             "directory, `**` for any number of directories"},
    {"exclude", SL_OPT_STRINGS, F(exclude), .max = 4096,
     .help = "globs of files not to read: without a `/` matched against the "
             "file's name (`*.log.1`), with one against the whole path; "
             "compressed files (named `.gz`, `.bz2`, `.xz`, `.zst`, `.lz4`, "
             "`.zip`, `.Z`) are never read, excluded or not"},
    {"start_at", SL_OPT_ENUM, F(start_at), .def = "beginning",
     .words = start_words,
     .help = "where a file found at startup and not in the registry starts "
             "(one at a path the registry names took the place of a file "
             "read before: read from its start); files created later are "
             "always read from their start"},
    {"format", SL_OPT_RAW, F(format), .doc_type = "a string",
     .doc_default = "`lines`",
     .help = "`lines`, `docker` or `cri`: how lines are framed"},
    {"multiline", SL_OPT_RAW, F(multiline), .doc_type = "an object",
     .doc_default = "off",
     .help = "joins the lines of one event (a preset or a pattern)"},
    {"processors", SL_OPT_RAW, F(processors), .doc_type = "a list of objects",
     .doc_default = "none",
     .help = "grok, date, fields... applied to each event in order"},
    {"fields", SL_OPT_RAW, F(fields), .doc_type = "an object",
     .doc_default = "none",
     .help = "fields added to every event of this input"},
    {"scan_interval", SL_OPT_DURATION, F(scan_interval_ms), .def = "10s",
     .min = 10, .max = 3600000,
     .help = "how often the globs are walked again for new, renamed and "
             "deleted files (inotify finds most changes at once)"},
    {"poll_interval", SL_OPT_DURATION, F(poll_interval_ms), .def = "1s",
     .min = 10, .max = 3600000,
     .help = "without inotify (or past its watch limit): how often open "
             "files are looked at for new bytes"},
    {"close_inactive", SL_OPT_DURATION, F(close_inactive_ms), .def = "5m",
     .min = 10, .max = LLONG_MAX,
     .help = "a file read to its end and not written for this long is "
             "closed; it is opened again when it grows"},
    {"rotate_wait", SL_OPT_DURATION, F(rotate_wait_ms), .def = "5s", .min = 10,
     .max = 86400000,
     .help = "a renamed or deleted file stays open this long after its last "
             "byte or its rotation, whichever is later, for its writer's "
             "last lines"},
    {"delete_timeout", SL_OPT_DURATION, F(delete_timeout_ms), .def = "5m",
     .min = 10, .max = LLONG_MAX,
     .help = "a deleted file not read to its end by then (the output had no "
             "room) is released anyway, with a warning, so its disk space "
             "comes back"},
    {"max_open_files", SL_OPT_INT, F(max_open_files), .def = "512", .min = 1,
     .max = 1000000,
     .help = "files held open at most; the others wait their turn"},
    {"read_size", SL_OPT_SIZE, F(read_size), .def = "64KiB", .min = 1024,
     .max = 16 * 1024 * 1024,
     .help = "bytes read from a file at a time before the next file's turn"},
    {"max_line_bytes", SL_OPT_SIZE, F(max_line_bytes), .def = "1MiB",
     .min = 1024, .max = 4 * 1024 * 1024,
     .help = "a line longer than this is cut to it and tagged `_truncated`, "
             "the rest of it skipped (`docker`, `cri`: a joined record's "
             "text); with `multiline`, its `max_bytes` bounds the event"},
    {"inotify", SL_OPT_BOOL, F(inotify), .def = "true",
     .help = "watch directories with inotify; `false`: find changes by "
             "polling only (network file systems)"},
    SL_OPT_END};

const struct sl_config_table in_file_config_table = {
    "inputs[] (file)", sizeof(struct in_file_config), file_opts, check_file};

int in_file_config_read(struct in_file_config *cfg,
                        const struct sl_config_node *obj, struct sl_err *err)
{
    return sl_config_table_fill(&in_file_config_table, obj, cfg, err);
}

void in_file_config_release(struct in_file_config *cfg)
{
    sl_config_table_release(&in_file_config_table, cfg);
}

void in_file_config_defaults(struct in_file_config *cfg,
                             const char *const *paths, size_t npaths)
{
    struct sl_err err;
    memset(cfg, 0, sizeof *cfg);
    /* the table's defaults; an absent section allocates nothing */
    if (sl_config_table_fill(&in_file_config_table, NULL, cfg, &err) < 0)
        memset(cfg, 0, sizeof *cfg);
    cfg->paths.v = paths;
    cfg->paths.n = npaths;
}
