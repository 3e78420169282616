/* loop.c: the daemon's poll loop (see loop.h).
 *
 * A turn: signals, acknowledgements (the registry), the registry saver,
 * then the sources' framing drained and the inputs read while the output
 * has room, then poll on every descriptor until the earliest deadline.
 * At most READ_CHUNKS chunks are read a turn, so signals and acks are
 * looked at between them however fast the files grow. */
#include "loop_priv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "sl_clock.h"
#include "sl_log.h"

#define READ_BUDGET     (64 * 1024) /* bytes of one chunk, at most */
#define READ_CHUNKS     64          /* chunks a turn, at most */
#define SAVE_EVERY_MS   1000        /* registry snapshots, at most */
#define EXPIRE_EVERY_MS (3600 * 1000)
#define MAX_PFDS        (2 + SL_HTTP_MAX_POLLFDS + OUTPUT_MAX_POLLFDS + 64)
#define COMP            "shipper"

struct loop *loop_new(const struct shipper_config *sc, bool once,
                      struct sl_err *err)
{
    struct loop *l = calloc(1, sizeof *l);
    if (l == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    l->sc = sc;
    l->once = once;
    l->sigfd = -1;
    l->lock_fd = -1;
    if (loop_setup(l, err) < 0) {
        loop_free(l);
        return NULL;
    }
    int64_t now = sl_clock_mono_ms();
    l->next_expire = now + EXPIRE_EVERY_MS;
    /* the cuts loaded are on disk; a cut made from now on waits for a
     * save */
    l->cuts_on_disk = registry_cuts_added(l->reg);
    pipeline_set_cuts_saved(l->pipe, l->cuts_on_disk);
    return l;
}

void loop_free(struct loop *l)
{
    if (l == NULL)
        return;
    loop_teardown(l);
    free(l);
}

/* ---- signals, acks, saves --------------------------------------------- */

/* stdin's stream is over for the shipper: at its EOF, or at a stop, since
 * a pipe cannot be read again (what was read goes out now or never). Its
 * unterminated last line is an event, its open events are completed, and
 * it is drained into the output (the pipeline frees it once drained, if
 * the output is full now). 0, 1 the output is full, -1 on SL_ENOMEM. */
static int end_stdin(struct loop_input *li, int64_t now, struct sl_err *err)
{
    struct pipe_src *s = li->stdin_src;
    li->stdin_src = NULL;
    pipe_src_end(s);
    int rc = pipe_src_drain(s, now, err);
    if (rc == 0 && pipe_src_finished(s))
        pipe_src_free(s);
    return rc;
}

/* The first signal stops the reading and gives the batches in flight the
 * grace period; a second one ends it at once (the registry is saved all
 * the same: what Redis did not acknowledge is read again at the start).
 * What stdin gave is shipped in that grace: the event a multiline joiner
 * holds and a last line without its newline were dropped. */
static void stop(struct loop *l, const char *why)
{
    if (l->phase == LOOP_STOPPING) {
        if (!l->stop_now)
            SL_WARN(COMP,
                    "%s again: stopping now; the batches not acknowledged "
                    "yet are read again at the next start",
                    why);
        l->stop_now = true;
        l->stop_at = sl_clock_mono_ms();
        return;
    }
    SL_INFO(COMP, "%s: stopping; batches in flight get %d s", why,
            LOOP_GRACE_MS / 1000);
    if (l->once && l->phase == LOOP_READING)
        l->cut_short = why;
    l->phase = LOOP_STOPPING;
    l->stop_at = sl_clock_mono_ms() + LOOP_GRACE_MS;
    for (size_t i = 0; i < l->nin; i++) {
        struct sl_err err = {0};
        if (l->in[i].stdin_src != NULL &&
            end_stdin(&l->in[i], sl_clock_mono_ms(), &err) != 0)
            SL_WARN(l->in[i].name,
                    "%s: the last events read from stdin are not shipped "
                    "(%s)",
                    why, err.msg[0] ? err.msg : "the output has no room");
    }
    output_flush(l->out);
}

static void take_signals(struct loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            struct sl_err err = {0};
            if (sl_log_reopen(&err) < 0)
                SL_WARN(COMP, "SIGHUP: %s; logging on to the file as it was",
                        err.msg);
            else
                SL_INFO(COMP, "SIGHUP: log reopened; rescanning the inputs");
            for (size_t i = 0; i < l->nin; i++)
                if (l->in[i].file != NULL)
                    in_file_rescan(l->in[i].file);
        } else {
            stop(l, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        }
    }
}

/* How many batches came back. */
static size_t take_acks(struct loop *l)
{
    struct output_ack ack;
    size_t n = 0;
    for (; output_next_ack(l->out, &ack) == 1; n++)
        if (pipeline_ack(l->pipe, &ack, (int64_t)time(NULL)) > 0)
            l->reg_dirty = true;
    if (pipeline_settle(l->pipe, (int64_t)time(NULL)) > 0)
        l->reg_dirty = true;
    return n;
}

/* A save that failed (a full disk, a permission taken away) leaves the
 * registry dirty, so it is tried again every SAVE_EVERY_MS even when no
 * new acknowledgement comes: the failure is said once, the end of it once,
 * each attempt counted. Shipping goes on meanwhile; a restart before the
 * disk has room again reads from the last saved offsets (guarantee 1 still
 * holds: sent again, with the same ids). */
/* The keys on disk once the snapshot seq is: the newest of the snapshots
 * submitted up to it (a snapshot that waited was replaced by a newer one,
 * which holds its keys too). */
static void keys_saved(struct loop *l, uint64_t seq)
{
    size_t n = 0;
    while (n < l->nsnaps && l->snaps[n].seq <= seq)
        n++;
    if (n == 0)
        return;
    l->keys_on_disk = l->snaps[n - 1].keys;
    l->cuts_on_disk = l->snaps[n - 1].cuts;
    pipeline_set_cuts_saved(l->pipe, l->cuts_on_disk);
    for (size_t i = 0; i < l->nin; i++)
        if (l->in[i].file != NULL)
            in_file_set_keys_saved(l->in[i].file, l->snaps[n - 1].keys);
    l->nsnaps -= n;
    memmove(l->snaps, l->snaps + n, l->nsnaps * sizeof *l->snaps);
}

static void snap_submitted(struct loop *l, uint64_t seq)
{
    size_t max = sizeof l->snaps / sizeof l->snaps[0];
    if (l->nsnaps == max) { /* the oldest: a newer one covers its keys */
        l->nsnaps--;
        memmove(l->snaps, l->snaps + 1, l->nsnaps * sizeof *l->snaps);
    }
    l->keys_submitted = registry_keys_added(l->reg);
    l->cuts_submitted = registry_cuts_added(l->reg);
    l->snaps[l->nsnaps++] =
        (struct loop_snap){seq, l->keys_submitted, l->cuts_submitted};
}

static void save_outcome(struct loop *l, const struct registry_save_outcome *o)
{
    if (o->result == REGISTRY_NOT_SAVED) {
        l->reg_dirty = true;
        sl_counter_inc(l->save_failures);
        /* a file new to the registry waits for its key on disk (its
         * events' ids), a batch with a cut event for the cut: "shipping
         * goes on" was not so for them */
        bool waiting = registry_keys_added(l->reg) > l->keys_on_disk;
        bool cuts = registry_cuts_added(l->reg) > l->cuts_on_disk;
        if (l->save_failed++ == 0)
            SL_ERROR("registry",
                     "%s; %s, and the registry is saved again every %d s "
                     "until it works",
                     o->err.msg,
                     waiting ? "files new to it wait until it is saved (the "
                               "ids of their events need their keys on "
                               "disk), the others are shipped meanwhile"
                     : cuts  ? "the batch with an event completed by "
                               "multiline.timeout, a flush or the wait for a "
                               "split container line's rest waits until it "
                               "is saved (a restart must complete it there "
                               "too), and shipping with it"
                             : "shipping goes on",
                     SAVE_EVERY_MS / 1000);
        else
            SL_DEBUG("registry", "%s", o->err.msg);
        return;
    }
    if (o->result == REGISTRY_SAVED_UNSYNCED)
        SL_WARN("registry", "%s", o->err.msg);
    keys_saved(l, o->seq);
    if (l->save_failed > 0)
        SL_INFO("registry", "saved again after %u failed attempts",
                l->save_failed);
    l->save_failed = 0;
}

/* Whether every file input is idle (scanned, every file found read to
 * its end): each file still on disk has been identified and its entry
 * touched, so what expiry drops is gone from disk. A file input that
 * never rests waits for the hourly expiry. */
static bool inputs_at_rest(const struct loop *l)
{
    for (size_t i = 0; i < l->nin; i++) {
        struct in_file_stats st;
        if (l->in[i].file == NULL)
            continue;
        in_file_stats(l->in[i].file, &st);
        if (!st.idle)
            return false;
    }
    return true;
}

/* A key or a cut not in any save yet: what waits for it waits for a
 * save, so it is submitted at once. */
static bool save_now(const struct loop *l)
{
    return registry_keys_added(l->reg) > l->keys_submitted ||
           registry_cuts_added(l->reg) > l->cuts_submitted;
}

static void save_registry(struct loop *l, int64_t now)
{
    struct registry_save_outcome o;
    if (registry_saver_collect(l->saver, &o) == 1) {
        l->save_busy = false;
        save_outcome(l, &o);
    }
    /* the first expiry once the inputs first rest, then hourly: a
     * restart, and every `run --once`, drops the entries of files gone
     * for the ttl, not only a daemon that has run for an hour */
    if (!l->expired_once && now >= l->rest_check) {
        l->rest_check = now + 1000; /* in_file_stats walks every file */
        if (inputs_at_rest(l)) {
            l->expired_once = true;
            l->next_expire = now;
        }
    }
    if (now >= l->next_expire) {
        l->next_expire = now + EXPIRE_EVERY_MS;
        if (registry_expire(l->reg, (int64_t)time(NULL)) > 0)
            l->reg_dirty = true;
    }
    if (registry_count(l->reg) != l->reg_count)
        l->reg_dirty = true;
    /* a new file's key is saved at once: its bytes wait for it; and a
     * cut: its event waits for it */
    bool keys = save_now(l);
    if (!keys && (!l->reg_dirty || now < l->next_save))
        return;
    /* one snapshot at a time: what changes while it is written goes in
     * the next, taken as soon as this one's outcome is in. New keys wait
     * no longer (the snapshot that waited was written only after the one
     * in flight too), and the loop no longer copied every entry at each
     * turn that added a key, to replace the one waiting: a first start
     * over 100,000 new files spent a sixth of its CPU doing it */
    if (l->save_busy)
        return;
    struct sl_err err = {0};
    uint64_t seq;
    if (registry_saver_submit(l->saver, l->reg, &seq, &err) < 0) {
        SL_ERROR("registry", "%s", err.msg);
        l->reg_dirty = true; /* tried again at next_save, even when only a
                                new key or a cut asked for this save */
        l->keys_submitted = registry_keys_added(l->reg);
        l->cuts_submitted = registry_cuts_added(l->reg);
    } else {
        l->reg_dirty = false;
        l->reg_count = registry_count(l->reg);
        l->save_busy = true;
        snap_submitted(l, seq);
    }
    l->next_save = now + SAVE_EVERY_MS;
}

/* The last save, on this thread, once the saver's thread has ended. A
 * failure is 1 for `run --once` (a batch job is told: its next run ships
 * again what this one did) and 0 for a daemon a signal stopped: nothing is
 * lost, what Redis acknowledged since the last good save is shipped again
 * at the next start with the same ids, and the log says so plainly. */
static int save_final(struct loop *l)
{
    struct sl_err err = {0};
    registry_saver_free(l->saver);
    l->saver = NULL;
    enum registry_save_result r = registry_save(l->reg, l->reg_path, &err);
    if (r == REGISTRY_NOT_SAVED) {
        SL_ERROR("registry",
                 "not saved at the stop: %s; nothing is lost, but what was "
                 "shipped since its last save will be shipped again at the "
                 "next start (with the same event ids, so Elasticsearch "
                 "indexes it once); %s",
                 err.msg, l->once ? "exiting 1" : "exiting 0, as a stop does");
        return l->once ? 1 : 0;
    }
    if (r == REGISTRY_SAVED_UNSYNCED)
        SL_WARN("registry", "%s", err.msg);
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

static int file_chunk(struct loop *l, struct loop_input *li,
                      struct in_file_chunk *c, int64_t now, struct sl_err *err)
{
    struct pipe_src *s = c->src->user;
    if (c->kind == IN_FILE_DONE) {
        if (s == NULL)
            return 0;
        c->src->user = NULL; /* the pipeline frees it once drained */
        if (c->truncated)
            pipe_src_end_truncated(s);
        else
            pipe_src_end(s);
        int rc = pipe_src_drain(s, now, err);
        if (rc == 0 && pipe_src_finished(s))
            pipe_src_free(s);
        return rc;
    }
    if (s == NULL) {
        s = pipe_src_new_file(l->pipe, li->pi, c->src->key, c->src->path,
                              c->offset, err);
        if (s == NULL)
            return -1;
        c->src->user = s;
    }
    /* more may follow: its clocks wait until a read finds the file's end
     * (in_file_set_user_unread), however long reading stops meanwhile */
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, true, now);
    if (pipe_src_feed(s, c->data, c->len, &c->id, c->src->path, c->mtime_ms,
                      err) < 0)
        return -1;
    return pipe_src_drain(s, now, err);
}

static int stdin_chunk(struct loop_input *li, int64_t now, struct sl_err *err)
{
    struct in_stdin_chunk c;
    struct sl_err e = {0};
    int rc = in_stdin_read(li->sin, READ_BUDGET, &c, &e);
    if (rc < 0)
        SL_ERROR(li->name, "%s", e.msg);
    if (rc <= 0)
        return rc < 0 ? 1 : 0; /* the EOF notice comes at the next call */
    struct pipe_src *s = li->stdin_src;
    if (s == NULL)
        return 0;
    if (c.kind == IN_STDIN_EOF) {
        rc = end_stdin(li, now, err);
        return rc < 0 ? -1 : rc == 1 ? 2 : 1;
    }
    if (pipe_src_feed(s, c.data, c.len, NULL, NULL, INT64_MAX, err) < 0)
        return -1;
    rc = pipe_src_drain(s, now, err);
    return rc < 0 ? -1 : rc == 1 ? 2 : 1;
}

/* Reads chunks while the output has room: how many (-1: fatal). *full is
 * set when a source stopped with the output full. */
static int read_inputs(struct loop *l, int64_t now, bool *full,
                       struct sl_err *err)
{
    int n = 0;
    bool more = true;
    while (more && n < READ_CHUNKS && !*full && output_has_room(l->out)) {
        more = false;
        for (size_t i = 0; i < l->nin && !*full; i++) {
            struct loop_input *li = &l->in[i];
            int rc;
            if (li->file != NULL) {
                struct in_file_chunk c;
                rc = in_file_read(li->file, READ_BUDGET, now, &c, err);
                if (rc == 1)
                    rc = file_chunk(l, li, &c, now, err) == 1 ? 2 : 1;
            } else {
                rc = stdin_chunk(li, now, err);
            }
            if (rc < 0)
                return -1;
            *full = rc == 2;
            more |= rc > 0;
            n += rc > 0;
        }
    }
    return n;
}

/* --once: every file read to its end (asked after a rescan) and stdin
 * ended; the caller saw nothing to read and no source with work. *ready:
 * the rescan found files to read now. */
static bool inputs_idle(struct loop *l, int64_t now, bool *ready)
{
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        if (li->sin != NULL && !in_stdin_eof(li->sin))
            return false;
        if (li->file == NULL)
            continue;
        struct in_file_stats st;
        /* busy with what it knows (files to open, to read, a key to
         * save): no rescan yet, which walks every directory (with 40,000
         * new files a walk at each quiet turn made run --once quadratic) */
        in_file_stats(li->file, &st);
        if (!st.idle) {
            *ready |= st.ready + st.waiting > 0;
            return false;
        }
        in_file_rescan(li->file);
        in_file_process(li->file, NULL, 0, now);
        in_file_stats(li->file, &st);
        *ready |= st.ready + st.waiting > 0;
        if (!st.idle)
            return false;
    }
    return true;
}

/* Directory scans of every file input so far (the --once log line). */
static uint64_t scans(const struct loop *l)
{
    uint64_t n = 0;
    for (size_t i = 0; i < l->nin; i++) {
        struct in_file_stats st;
        if (l->in[i].file == NULL)
            continue;
        in_file_stats(l->in[i].file, &st);
        n += st.scans;
    }
    return n;
}

/* ---- one turn ----------------------------------------------------------- */

/* The work of a turn before the poll: 0 to go on, 1 when done (--once
 * finished, or stopped and drained), -1 fatal. *busy: poll without
 * waiting (more may be read at once). */
static int work(struct loop *l, int64_t now, bool *busy, struct sl_err *err)
{
    bool full = false;
    enum loop_phase was = l->phase; /* flushed events drain next turn */
    *busy = false;
    if (l->phase != LOOP_STOPPING) {
        int rc = pipeline_drain(l->pipe, now, err);
        if (rc < 0)
            return -1;
        full = rc == 1;
    }
    if (l->phase == LOOP_READING && !full) {
        loop_say_unmatched(l);
        int n = read_inputs(l, now, &full, err);
        if (n < 0)
            return -1;
        /* --once: a turn that read looks again at once, for the end */
        *busy = (n >= READ_CHUNKS || (l->once && n > 0)) && !full;
        /* no room in the output (Redis unreachable, or batches in
         * flight): nothing can be read, so the end is not asked for, and
         * a file waiting to be opened is no reason to spin */
        if (l->once && n == 0 && !full && output_has_room(l->out) &&
            inputs_idle(l, now, busy)) {
            SL_INFO(COMP,
                    "--once: every input read to its end (%llu directory "
                    "scans); finishing",
                    (unsigned long long)scans(l));
            if (!l->expired_once) { /* at rest: expire before the end */
                l->expired_once = true;
                l->next_expire = now;
            }
            l->phase = LOOP_FLUSHING;
            pipeline_flush(l->pipe);
            *busy = true;
        }
    }
    if (was == LOOP_FLUSHING && l->phase == LOOP_FLUSHING && !full)
        output_flush(l->out);
    if (output_broken(l->out)) {
        SL_ERROR(COMP, "the output is gone (stdout closed): stopping");
        return -1;
    }
    if (was != LOOP_READING && !full && output_idle(l->out))
        return 1;
    if (l->phase == LOOP_STOPPING && now >= l->stop_at) {
        if (l->once && l->cut_short == NULL)
            l->cut_short = "the signal";
        if (l->stop_now)
            return 1;
        SL_WARN(COMP,
                "batches not acknowledged after %d s: they will be "
                "read again at the next start",
                LOOP_GRACE_MS / 1000);
        return 1;
    }
    return 0;
}

static int min_timeout(int a, int64_t b_ms)
{
    if (b_ms < 0)
        return a;
    int b = b_ms > 60000 ? 60000 : (int)b_ms;
    return a < 0 || b < a ? b : a;
}

struct pfd_range {
    size_t at, n;
};

/* Fills pfds; ranges say whose each entry is; the poll's timeout. */
static size_t fill(struct loop *l, struct pollfd *p, struct pfd_range *r,
                   int64_t now, int *timeout)
{
    size_t n = 0;
    p[n++] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
    p[n++] =
        (struct pollfd){.fd = registry_saver_fd(l->saver), .events = POLLIN};
    int t = min_timeout(-1, output_timeout_ms(l->out));
    r[0] = (struct pfd_range){n, output_fill_pollfds(l->out, p + n, 1)};
    n += r[0].n;
    r[1] = (struct pfd_range){n, 0};
    if (l->http != NULL) {
        r[1].n =
            sl_http_server_fill_pollfds(l->http, p + n, SL_HTTP_MAX_POLLFDS);
        t = min_timeout(t, sl_http_server_timeout_ms(l->http));
    }
    n += r[1].n;
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        size_t room = MAX_PFDS - n, k = 0;
        if (li->file != NULL) {
            k = room ? in_file_fill_pollfds(li->file, p + n, room) : 0;
            t = min_timeout(t, in_file_timeout_ms(li->file, now));
        } else if (room) {
            k = in_stdin_fill_pollfds(li->sin, p + n, room);
        }
        r[2 + i] = (struct pfd_range){n, k};
        n += k;
    }
    int64_t d = pipeline_deadline(l->pipe);
    if (d != INT64_MAX)
        t = min_timeout(t, d > now ? d - now : 0);
    /* while a save is written, its end (the saver's descriptor) wakes
     * the loop for the next */
    if (!l->save_busy && save_now(l))
        t = 0; /* a new key or cut to save: files or events wait for it */
    else if (!l->save_busy && l->reg_dirty)
        t = min_timeout(t, l->next_save > now ? l->next_save - now : 0);
    if (l->phase == LOOP_STOPPING)
        t = min_timeout(t, l->stop_at > now ? l->stop_at - now : 0);
    /* no tick when nothing is due: the log's folded repeats, the
     * registry's expiry (hourly, and the look for the inputs' first rest
     * before the first one) */
    t = min_timeout(t, sl_log_tick_in_ms());
    int64_t give_up = loop_once_deadline(l);
    if (give_up >= 0)
        t = min_timeout(t, give_up > now ? give_up - now : 0);
    int64_t due = l->next_expire;
    if (!l->expired_once && l->rest_check < due)
        due = l->rest_check;
    t = min_timeout(t, due > now ? due - now : 0);
    *timeout = t;
    return n;
}

static void dispatch(struct loop *l, struct pollfd *p, struct pfd_range *r,
                     int64_t now)
{
    if (p[0].revents)
        take_signals(l);
    output_process(l->out, p + r[0].at, r[0].n);
    if (l->http != NULL)
        sl_http_server_handle(l->http, p + r[1].at, r[1].n);
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        if (li->file != NULL)
            in_file_process(li->file, p + r[2 + i].at, r[2 + i].n, now);
        else
            in_stdin_process(li->sin, p + r[2 + i].at, r[2 + i].n);
    }
    pipeline_tick(l->pipe, now);
    sl_log_tick();
}

int loop_run(struct loop *l)
{
    struct pollfd pfds[MAX_PFDS];
    struct pfd_range *r = calloc(l->nin + 2, sizeof *r);
    struct sl_err err = {0};
    int status = 0;
    if (r == NULL) {
        SL_ERROR(COMP, "out of memory");
        return 1;
    }
    SL_INFO(COMP, "started%s: %zu inputs", l->once ? " (--once)" : "", l->nin);
    for (;;) {
        int64_t now = sl_clock_mono_ms();
        bool busy;
        take_acks(l);
        save_registry(l, now);
        if (l->once && l->save_failed > 0) {
            /* a batch job fails plainly rather than wait for room: a new
             * file's key must be on disk before its bytes are shipped */
            SL_ERROR(COMP, "--once: the registry cannot be saved; stopping");
            status = 1;
            break;
        }
        if (loop_once_check(l, now)) {
            status = 1;
            break;
        }
        int rc = work(l, now, &busy, &err);
        if (rc != 0) {
            if (rc < 0 && err.msg[0] != '\0')
                SL_ERROR(COMP, "%s", err.msg);
            status = rc < 0;
            break;
        }
        /* batches written during the turn (stdout) free their slots
         * only once taken: take them now, and go on without waiting */
        if (take_acks(l) > 0 && output_has_room(l->out))
            busy = true;
        int timeout;
        size_t n = fill(l, pfds, r, now, &timeout);
        if (poll(pfds, n, busy ? 0 : timeout) < 0 && errno != EINTR) {
            SL_ERROR(COMP, "poll failed: %s", sl_strerror(errno));
            status = 1;
            break;
        }
        dispatch(l, pfds, r, sl_clock_mono_ms());
    }
    free(r);
    take_acks(l);
    if (save_final(l) != 0)
        status = 1;
    if (l->cut_short != NULL) {
        SL_WARN(COMP,
                "--once: %s stopped it before every line was shipped; the "
                "next run ships the rest (exit 1)",
                l->cut_short);
        status = 1;
    }
    SL_INFO(COMP, "stopped");
    sl_log_flush();
    return status;
}
