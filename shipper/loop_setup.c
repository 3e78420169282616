/* loop_setup.c: the daemon's parts built from shipper.json, in the order
 * they depend on each other: the signals (blocked before the registry
 * saver's thread starts, so they reach only the signalfd), the counters,
 * the registry from data_dir, the output, the pipeline, each input with
 * its pipe_input, the HTTP endpoint. Torn down in the reverse order. */
#include "loop_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_clock.h"
#include "sl_log.h"
#include "status_files.h"

static int setup_signals(struct loop *l, struct sl_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is output_broken() */
    /* past RLIMIT_FSIZE, write() fails with EFBIG: the registry's save
     * says so and is tried again, as on a full disk, instead of the
     * signal's default (the process killed, without a word) */
    signal(SIGXFSZ, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        return sl_err_set(err, SL_EIO, "cannot set up signals: %s",
                          sl_strerror(errno));
    return 0;
}

/* One shipper per data_dir: an flock on data_dir/lock, held until exit
 * (the kernel lets go of it even after a kill -9), with the holder's pid
 * in it for the message. A second shipper would read every file again and
 * save its offsets over the first's registry. A lock file that cannot be
 * made (a read-only or full data_dir) only costs that check: said, and
 * the shipper goes on, as it does when the registry cannot be saved. */
/* flock, waiting up to DATA_DIR_LOCK_WAIT_MS for a holder that is on its
 * way out: a shipper killed with -9, or stopped, and started again at once
 * (a supervisor, a script) would otherwise find the old process's lock
 * for the few milliseconds the kernel takes to end it. */
#define DATA_DIR_LOCK_WAIT_MS 3000
static int lock_wait(int fd)
{
    int64_t deadline = sl_clock_mono_ms() + DATA_DIR_LOCK_WAIT_MS;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || sl_clock_mono_ms() >= deadline)
            return -1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int lock_data_dir(struct loop *l, const char *dir, struct sl_err *err)
{
    char path[PATH_MAX], pid[32] = "";
    if (snprintf(path, sizeof path, "%s/lock", dir) >= (int)sizeof path)
        return sl_err_set(err, SL_EINVAL, "data_dir '%s' is too long", dir);
    l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (l->lock_fd < 0) {
        SL_WARN("registry",
                "cannot open %s: %s; give the shipper's user write access "
                "to data_dir (the registry is saved there too); meanwhile a "
                "second shipper on this data_dir would not be refused",
                path, sl_strerror(errno));
        return 0;
    }
    if (lock_wait(l->lock_fd) < 0) {
        int e = errno;
        ssize_t n = e == EWOULDBLOCK ? pread(l->lock_fd, pid, 20, 0) : -1;
        pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
        if (e != EWOULDBLOCK)
            return sl_err_set(err, SL_EIO, "cannot lock %s: %s", path,
                              sl_strerror(e));
        return sl_err_set(err, SL_EIO,
                          "data_dir '%s' is in use by another sluice-shipper "
                          "(pid %s): stop it, or give this one its own "
                          "data_dir",
                          dir, pid[0] ? pid : "unknown");
    }
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(l->lock_fd, 0) < 0 ||
        pwrite(l->lock_fd, pid, (size_t)n, 0) != n)
        SL_DEBUG("registry", "cannot write the pid into %s", path);
    return 0;
}

/* mkdir -p: dir and the parents it lacks, each 0750; errno set on
 * failure (ENOTDIR: a file in the way). */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0750) < 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    return 0;
}

/* data_dir must take the registry's saves: on a read-only file system,
 * or not writable by this user, `run` went on with a warning about the
 * lock and an error at each save, shipping nothing of the files new to
 * the registry (their keys must be on disk first), for ever. e: the
 * errno of access(W_OK) on the directory there, or of its creation
 * (exists: false). */
static int unwritable(const char *dir, int e, bool exists, struct sl_err *err)
{
    if (e == EROFS)
        return sl_err_set(err, SL_EIO,
                          "data_dir '%s' is on a read-only file system, and "
                          "the registry is saved there; remount it "
                          "read-write, or set data_dir to a directory the "
                          "shipper may write",
                          dir);
    if (e == EACCES && exists)
        return sl_err_set(err, SL_EIO,
                          "data_dir '%s' is not writable by the shipper's "
                          "user (uid %u), and the registry is saved there; "
                          "give that user write access to it (chown), or "
                          "set data_dir to a directory it may write",
                          dir, (unsigned)geteuid());
    return sl_err_set(err, SL_EIO,
                      "cannot create data_dir '%s': %s; create it with "
                      "write access for the shipper, or set data_dir",
                      dir, sl_strerror(e));
}

static int setup_registry(struct loop *l, struct sl_err *err)
{
    const char *dir = l->sc->data_dir;
    struct stat st;
    if (make_dirs(dir) < 0)
        return unwritable(dir, errno, false, err);
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return sl_err_set(err, SL_EIO,
                          "data_dir '%s' is not a directory; set data_dir to "
                          "a directory the shipper may write (its registry "
                          "is kept there), or move the file away",
                          dir);
    if (stat(dir, &st) == 0 && access(dir, W_OK | X_OK) != 0)
        return unwritable(dir, errno, true, err);
    if (lock_data_dir(l, dir, err) < 0)
        return -1;
    int n = snprintf(l->reg_path, sizeof l->reg_path, "%s/registry.json", dir);
    if (n < 0 || (size_t)n >= sizeof l->reg_path)
        return sl_err_set(err, SL_EINVAL, "data_dir '%s' is too long", dir);
    struct registry_config rc;
    registry_config_init(&rc);
    bool created = false;
    l->reg = registry_load(l->reg_path, &rc, &created, err);
    if (l->reg == NULL)
        return -1;
    if (created)
        SL_INFO("registry", "no registry at %s yet: every file is new",
                l->reg_path);
    else
        SL_INFO("registry", "%zu files in %s", registry_count(l->reg),
                l->reg_path);
    l->saver = registry_saver_new(l->reg_path, err);
    return l->saver == NULL ? -1 : 0;
}

/* in_file's src->user is the file's pipe_src. */
static void src_free(void *user)
{
    pipe_src_free(user);
}

/* ... and its clocks held through a copytruncate's hand-over, */
static void src_hold(void *user, bool hold, int64_t now)
{
    pipe_src_hold_clock(user, PIPE_HOLD_HANDOVER, hold, now);
}

/* ... and while its file has bytes not read yet. */
static void src_unread(void *user, bool unread, int64_t now)
{
    pipe_src_hold_clock(user, PIPE_HOLD_UNREAD, unread, now);
}

static int setup_file(struct loop *l, struct loop_input *li, struct sl_err *err)
{
    li->pi = pipe_input_new(l->sc->host.name, li->fcfg.format,
                            li->fcfg.multiline, li->fcfg.processors,
                            li->fcfg.fields, li->name, l->pm, err);
    if (li->pi == NULL)
        return -1;
    pipe_input_set_max_line(li->pi, (size_t)li->fcfg.max_line_bytes);
    li->file = in_file_new(&li->fcfg, l->reg, li->name, &l->fm, err);
    if (li->file == NULL)
        return -1;
    in_file_set_user_free(li->file, src_free);
    in_file_set_user_hold(li->file, src_hold);
    in_file_set_user_unread(li->file, src_unread);
    /* what the registry holds now came from disk; a new file's key is
     * read once a save put it there (loop.c) */
    in_file_set_keys_saved(li->file, registry_keys_added(l->reg));
    return 0;
}

static int setup_stdin(struct loop *l, struct loop_input *li,
                       struct sl_err *err)
{
    li->pi = pipe_input_new(l->sc->host.name, li->scfg.format,
                            li->scfg.multiline, li->scfg.processors,
                            li->scfg.fields, li->name, l->pm, err);
    if (li->pi == NULL)
        return -1;
    pipe_input_set_max_line(li->pi, (size_t)li->scfg.max_line_bytes);
    int64_t start = sl_clock_wall_ms();
    li->sin = in_stdin_new(0, (size_t)li->scfg.read_size, start, err);
    if (li->sin == NULL)
        return -1;
    li->stdin_src = pipe_src_new_stdin(l->pipe, li->pi, start, err);
    return li->stdin_src == NULL ? -1 : 0;
}

/* Each file input knows the others: a file two match is the first's. */
static int setup_peers(struct loop *l, size_t n, struct sl_err *err)
{
    struct in_file **v = calloc(n ? n : 1, sizeof *v);
    int rc = 0;
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = l->in[i].file;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (v[i] != NULL)
            rc = in_file_set_peers(v[i], v, n, i, err);
    free(v);
    return rc;
}

/* Every input's config first, so the file inputs' descriptor limits are
 * fitted to the process's together (loop_limits.c), then the inputs. */
static int setup_inputs(struct loop *l, struct sl_err *err)
{
    size_t n = sl_config_len(l->sc->inputs);
    l->in = calloc(n, sizeof *l->in);
    if (l->in == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct loop_input *li = &l->in[i];
        const struct sl_config_node *node = sl_config_at(l->sc->inputs, i);
        const struct sl_config_node *t = sl_config_get(node, "type");
        const char *type = "file";
        l->nin = i + 1;
        snprintf(li->name, sizeof li->name, "inputs[%zu]", i);
        if (t != NULL && sl_config_string(t, NULL, NULL, &type, err) < 0)
            return -1;
        li->is_stdin = strcmp(type, "stdin") == 0;
        int rc = li->is_stdin ? in_stdin_config_read(&li->scfg, node, err)
                              : in_file_config_read(&li->fcfg, node, err);
        if (rc < 0)
            return -1;
    }
    loop_fit_descriptors(l);
    for (size_t i = 0; i < n; i++) {
        struct loop_input *li = &l->in[i];
        int rc =
            li->is_stdin ? setup_stdin(l, li, err) : setup_file(l, li, err);
        if (rc < 0)
            return -1;
    }
    loop_note_own_output(l);
    return setup_peers(l, n, err);
}

static int metrics_render(void *ctx, struct sl_buf *body, const char **type,
                          struct sl_err *err)
{
    *type = SL_METRICS_PROMETHEUS_TYPE;
    return sl_metrics_render_prometheus(ctx, body, err);
}

/* The counters and a page of the files the file inputs know
 * (status_files.h): the first, or the one after the query's "after". */
static int status_render(void *ctx, struct sl_buf *body, const char **type,
                         struct sl_err *err)
{
    struct loop *l = ctx;
    struct sl_slice q = sl_http_server_query(l->http);
    char after[PATH_MAX];
    int found = status_files_query_after(q.ptr, q.len, after, sizeof after);
    *type = "application/json";
    if (found < 0)
        return sl_err_set(err, SL_EINVAL,
                          "/status?%.*s: \"after\" is not a percent-encoded "
                          "path; follow the \"files_next\" a page gives",
                          (int)(q.len > 200 ? 200 : q.len), q.ptr);
    struct in_file **files = calloc(l->nin ? l->nin : 1, sizeof *files);
    if (files == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for /status");
    for (size_t i = 0; i < l->nin; i++)
        files[i] = l->in[i].file;
    struct status_files_page pg = {.after = found ? after : NULL,
                                   .max_bytes = STATUS_FILES_MAX_BYTES,
                                   .output_full = !output_has_room(l->out),
                                   .mono_now = sl_clock_mono_ms(),
                                   .wall_now_ms = sl_clock_wall_ms()};
    int rc = status_files_render_page(l->m, files, l->nin, &pg, body, err);
    free(files);
    return rc;
}

static int setup_http(struct loop *l, struct sl_err *err)
{
    if (l->sc->http.listen == NULL)
        return 0;
    struct sl_http_server_config hc = {.address = l->sc->http.listen};
    l->http = sl_http_server_new(&hc, err);
    if (l->http == NULL) { /* in use: the key to change */
        sl_err_prefix(err, "http.listen");
        return -1;
    }
    if (sl_http_server_route(l->http, "/metrics", metrics_render, l->m, err) <
            0 ||
        sl_http_server_route(l->http, "/status", status_render, l, err) < 0)
        return -1;
    SL_INFO("http", "serving /metrics and /status on %s", l->sc->http.listen);
    return 0;
}

/* What output.redis.codec "auto" chose (shipper_config.h), and why. */
static void say_codec(const struct shipper_config *sc)
{
    const struct shipper_redis_output *r = &sc->output.redis;
    if (!sc->output.has_redis || r->mode != SL_REDIS_STREAM || !r->codec_auto)
        return;
    if (r->codec == SL_CODEC_COLUMNAR)
        SL_INFO("output",
                "codec auto: columnar, as every input has a grok processor: "
                "its captures are stored as columns, for less shipper CPU "
                "and Redis memory than lz4; indexers older than this shipper "
                "cannot read it");
    else
        SL_INFO("output",
                "codec auto: lz4, as inputs[%zu] has no grok processor, and "
                "on lines grok does not cut columnar costs more than lz4; "
                "set output.redis.codec to \"columnar\" to use it anyway",
                r->codec_no_grok);
}

int loop_setup(struct loop *l, struct sl_err *err)
{
    struct output_config oc;
    if (setup_signals(l, err) < 0)
        return -1;
    l->m = sl_metrics_new();
    if (l->m == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (sl_metrics_add_process(l->m, err) < 0 ||
        in_file_metrics_register(&l->fm, l->m, err) < 0 ||
        (l->pm = proc_metrics_new(l->m, err)) == NULL ||
        (l->save_failures = sl_metrics_counter(
             l->m, "sluice_registry_save_failures_total",
             "registry saves that failed (disk full, permissions); "
             "retried every second",
             err)) == NULL ||
        setup_registry(l, err) < 0)
        return -1;
    output_config_from(&oc, l->sc);
    say_codec(l->sc);
    l->out = output_new(&oc, l->m, err);
    if (l->out == NULL)
        return -1;
    l->pipe = pipeline_new(l->out, l->reg, l->m, err);
    if (l->pipe == NULL || setup_inputs(l, err) < 0 || setup_http(l, err) < 0)
        return -1;
    return 0;
}

void loop_teardown(struct loop *l)
{
    sl_http_server_free(l->http);
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        in_file_free(li->file); /* frees its sources through user_free */
        in_stdin_free(li->sin);
    }
    pipeline_free(l->pipe); /* the sources left: stdin's, ended files' */
    for (size_t i = 0; i < l->nin; i++) {
        struct loop_input *li = &l->in[i];
        pipe_input_free(li->pi);
        if (li->is_stdin)
            in_stdin_config_release(&li->scfg);
        else
            in_file_config_release(&li->fcfg);
    }
    free(l->in);
    output_free(l->out);
    registry_saver_free(l->saver);
    registry_free(l->reg);
    proc_metrics_free(l->pm);
    sl_metrics_free(l->m);
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->lock_fd >= 0)
        close(l->lock_fd); /* the lock goes with it */
}
