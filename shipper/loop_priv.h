/* loop_priv.h: the daemon's state, shared by loop_setup.c (built from the
 * config) and loop.c (run). */
#ifndef LOOP_PRIV_H
#define LOOP_PRIV_H

#include <limits.h>

#include "in_file.h"
#include "in_stdin.h"
#include "loop.h"
#include "output.h"
#include "pipeline.h"
#include "process.h"
#include "registry.h"
#include "registry_saver.h"
#include "sl_http_server.h"
#include "sl_metrics.h"

struct loop_input {
    char name[32]; /* "inputs[0]" */
    bool is_stdin;
    struct in_file_config fcfg;
    struct in_stdin_config scfg;
    struct in_file *file;
    struct in_stdin *sin;
    struct pipe_src *stdin_src; /* until its EOF (then the pipeline's) */
    struct pipe_input *pi;
    bool match_said; /* loop_say_unmatched looked at its first scan */
};

enum loop_phase {
    LOOP_READING,  /* the normal run */
    LOOP_FLUSHING, /* --once: open events completed, last batch sealed */
    LOOP_STOPPING  /* a signal: batches in flight get the grace period */
};

struct loop {
    const struct shipper_config *sc;
    bool once;
    enum loop_phase phase;
    int64_t stop_at; /* LOOP_STOPPING: the grace period's end */
    bool stop_now;   /* a second signal: no more grace */
    /* --once stopped by a signal (named here) before every line was
     * shipped: exit 1, so a batch job does not take its files for done */
    const char *cut_short;
    /* --once and Redis (loop_once.c): since when it fails (0: it does
     * not), and the output's counts at the last batch accepted */
    int64_t once_stalled_since;
    uint64_t once_batches, once_errors, once_retries, once_unanswered;
    int sigfd;
    int lock_fd; /* data_dir/lock, flocked: one shipper per data_dir */
    struct sl_metrics *m;
    struct proc_metrics *pm;
    struct in_file_metrics fm;
    struct registry *reg;
    struct registry_saver *saver;
    char reg_path[PATH_MAX];
    char data_dir_real[PATH_MAX]; /* realpath, for the inputs (loop_own.c) */
    bool reg_dirty;       /* acks since the last snapshot (or it failed) */
    size_t reg_count;     /* entries at the last snapshot: an input's
                             forget (a deleted file) dirties it too */
    unsigned save_failed; /* saves that failed in a row */
    struct sl_counter *save_failures;
    /* New keys (registry_keys_added) are saved at once, and a file is read
     * only once its key is on disk: the snapshots in flight, oldest first,
     * with the count of keys each holds. */
    uint64_t keys_submitted;
    uint64_t keys_on_disk; /* registry_keys_added() at the last good save */
    /* Cuts (registry_cuts_added) are saved at once too: their events wait
     * for them (pipeline_set_cuts_saved). */
    uint64_t cuts_submitted;
    uint64_t cuts_on_disk; /* registry_cuts_added() at the last good save */
    struct loop_snap {
        uint64_t seq, keys, cuts;
    } snaps[8];
    size_t nsnaps;
    bool save_busy;      /* a snapshot submitted, its outcome not in */
    int64_t next_save;   /* monotonic ms */
    int64_t next_expire; /* monotonic ms */
    bool expired_once;   /* the first expiry (inputs at rest) ran */
    int64_t rest_check;  /* monotonic ms: next look for inputs at rest */
    struct output *out;
    struct pipeline *pipe;
    struct loop_input *in;
    size_t nin;
    struct sl_http_server *http;
};

/* Fits the file inputs' max_open_files (their configs read) to the
 * process's descriptor limit (loop_limits.c): raises the soft
 * RLIMIT_NOFILE up to the hard one when they need more, else lowers each
 * input's max_open_files in proportion; says so once. */
void loop_fit_descriptors(struct loop *l);

/* Warns once of each file input whose paths match nothing at its first
 * scan (loop_unmatched.c). */
void loop_say_unmatched(struct loop *l);

/* Tells every file input the file the stdout output writes to, if it is
 * one, and data_dir, so that none reads them (loop_own.c). */
void loop_note_own_output(struct loop *l);

/* --once with a Redis output, each turn: true once Redis has been
 * unreachable, or refused every batch, for output.redis.command_timeout
 * with no batch accepted (said, in one line, with what to check): the
 * run stops, exit 1 (loop_once.c). The daemon never gives up. */
bool loop_once_check(struct loop *l, int64_t now);
/* When loop_once_check gives up if nothing changes (monotonic ms), -1
 * none: the poll wakes up for it. */
int64_t loop_once_deadline(const struct loop *l);

/* Builds and frees everything but the run state (loop_setup.c). */
SL_MUST_CHECK int loop_setup(struct loop *l, struct sl_err *err);
void loop_teardown(struct loop *l);

#endif
