/* loop_limits.c: the descriptors the file inputs may hold, fitted to the
 * process's RLIMIT_NOFILE before any input opens a file (loop_priv.h).
 *
 * Each file input holds up to its max_open_files (512 by default), and the
 * shipper needs its own besides. Past the soft limit, open() fails with
 * EMFILE: a file reads as unreadable, and the registry's save (a temporary
 * file) fails, so nothing moves. The soft limit is raised as far as the
 * hard one allows (what a process may do unprivileged); what still does
 * not fit lowers every input's max_open_files in proportion, which the
 * inputs then hold as any limit (files wait their turn). */
#include "loop_priv.h"

#include <sys/resource.h>

#include "sl_log.h"

/* The shipper's own, at most: stdio, the log, the signalfd, the data_dir
 * lock, a registry save and its directory, the saver's thread, Redis, the
 * HTTP listener and its 8 clients, an inotify per input (counted apart),
 * a scan's open directories, the resolver. */
#define OWN_FDS 64
#define COMP    "shipper"

static size_t first_file(const struct loop *l)
{
    size_t i = 0;
    while (i < l->nin && l->in[i].is_stdin)
        i++;
    return i;
}

static unsigned long long wanted(const struct loop *l, size_t *inputs)
{
    unsigned long long sum = OWN_FDS;
    *inputs = 0;
    for (size_t i = 0; i < l->nin; i++)
        if (!l->in[i].is_stdin) {
            sum += (unsigned long long)l->in[i].fcfg.max_open_files + 1;
            (*inputs)++;
        }
    return sum;
}

/* Lowers each input's max_open_files so they all fit in limit. */
static void lower(struct loop *l, unsigned long long need,
                  unsigned long long limit, size_t inputs)
{
    unsigned long long room = limit > OWN_FDS + inputs
                                  ? limit - OWN_FDS - inputs
                                  : inputs; /* one file each, at least */
    unsigned long long files = need - OWN_FDS - inputs;
    for (size_t i = 0; i < l->nin; i++) {
        struct in_file_config *c = &l->in[i].fcfg;
        if (l->in[i].is_stdin)
            continue;
        long long fit =
            (long long)((unsigned long long)c->max_open_files * room / files);
        c->max_open_files = fit > 0 ? fit : 1;
    }
}

void loop_fit_descriptors(struct loop *l)
{
    struct rlimit rl;
    size_t inputs;
    unsigned long long need = wanted(l, &inputs);
    if (inputs == 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
        rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
        return;
    unsigned long long was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || need <= rl.rlim_max
                      ? need
                      : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        rl.rlim_cur = was;
    if (need <= rl.rlim_cur) {
        SL_INFO(COMP,
                "raised the descriptor limit (RLIMIT_NOFILE) from %llu to "
                "%llu: the inputs' max_open_files and the shipper's own "
                "need that many",
                was, need);
        return;
    }
    lower(l, need, rl.rlim_cur, inputs);
    SL_WARN(COMP,
            "the inputs' max_open_files and the shipper's own need %llu "
            "descriptors, more than its limit (RLIMIT_NOFILE %llu, hard "
            "limit included): each input's max_open_files is lowered in "
            "proportion (inputs[%zu]: %lld); raise the limit (ulimit -n, "
            "LimitNOFILE= in systemd) or lower max_open_files",
            need, (unsigned long long)rl.rlim_cur, first_file(l),
            l->in[first_file(l)].fcfg.max_open_files);
}
