/* loop_unmatched.c: a file input whose paths match nothing at its first
 * scan is said once (loop_priv.h).
 *
 * A path with a typo (apache for apache2 in a path), a directory
 * that does not exist on this host, a glob of the wrong case: the shipper
 * ran, read nothing and said nothing, and `run --once` exited 0 as if all
 * had been read. Logs that appear later (a service not started yet) are
 * read as soon as they do, so it is a warning, not a refusal. A path that
 * matched but could not be read has a row of its own and its own warning,
 * and one another input reads is said by the overlap's warning: only an
 * input with neither is said. */
#include "loop_priv.h"

#include <stdio.h>
#include <string.h>

#include "sl_log.h"

/* paths as a JSON-ish list for the message, cut to fit. */
static void paths_text(const struct in_file_config *c, char *buf, size_t size)
{
    size_t at = 0;
    for (size_t i = 0; i < c->paths.n && at + 8 < size; i++) {
        int n = snprintf(buf + at, size - at, "%s\"%s\"", i ? ", " : "",
                         c->paths.v[i]);
        if (n < 0 || (size_t)n >= size - at) {
            snprintf(buf + size - 5, 5, "...");
            return;
        }
        at += (size_t)n;
    }
}

void loop_say_unmatched(struct loop *l)
{
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        struct in_file_stats st;
        struct in_file_row row;
        size_t cursor = 0;
        if (li->file == NULL || li->match_said)
            continue;
        in_file_stats(li->file, &st);
        if (st.scans == 0)
            continue;
        li->match_said = true;
        if (st.files > 0 || st.others > 0 ||
            in_file_next_row(li->file, &cursor, &row))
            continue;
        char paths[512], comp[48];
        paths_text(&li->fcfg, paths, sizeof paths);
        snprintf(comp, sizeof comp, "input:file:%s", li->name);
        SL_WARN(comp,
                "no file matches paths [%s]%s; a file that appears there "
                "later is read from its start; if none is meant to, fix "
                "paths",
                paths, li->fcfg.exclude.n > 0 ? " (after exclude)" : "");
    }
}
