/* registry_saver.c: the writer thread behind registry_saver.h.
 *
 * The loop and the thread meet in struct registry_saver, under `lock`:
 * `waiting` (the next snapshot), `outcome` (the last save's end, until
 * collected) and `stopping`. The thread sleeps on `wake` until there is a
 * snapshot or a stop, takes the snapshot out of the struct, writes it
 * without the lock, publishes the outcome, and then writes one byte to the
 * pipe so a poll loop wakes. The byte comes after the outcome: a loop that
 * wakes always finds it (or a newer one). A full pipe is fine: it is
 * readable already.
 *
 * A pipe, not an eventfd: the same code on every POSIX system, and the loop
 * only needs "readable". Not done here: when to save (the caller
 * rate-limits) and retrying a failed save (the caller submits again). */
#include "registry_saver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct registry_saver {
    char *path;   /* fixed at birth; the thread reads it */
    int rd, wr;   /* the pipe: the thread writes, the loop polls */
    uint64_t seq; /* loop only: the last number given by submit */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled on a new snapshot and on stop */
    /* under lock */
    struct registry_snapshot *waiting; /* NULL: none */
    uint64_t waiting_seq;
    bool stopping;
    bool has_outcome;
    struct registry_save_outcome outcome;
};

static void notify(struct registry_saver *s)
{
    char one = 1;
    ssize_t n;
    do
        n = write(s->wr, &one, 1);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full, so readable already */
}

static void *writer_main(void *arg)
{
    struct registry_saver *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->waiting == NULL && !s->stopping)
            pthread_cond_wait(&s->wake, &s->lock);
        if (s->waiting == NULL) /* stopping: stop drops what waits */
            break;
        struct registry_snapshot *snap = s->waiting;
        struct registry_save_outcome o = {
            s->waiting_seq, REGISTRY_SAVED, {SL_OK, ""}};
        s->waiting = NULL;
        pthread_mutex_unlock(&s->lock);

        o.result = registry_snapshot_save(snap, s->path, &o.err);
        registry_snapshot_free(snap);

        pthread_mutex_lock(&s->lock);
        s->outcome = o;
        s->has_outcome = true;
        pthread_mutex_unlock(&s->lock);
        notify(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int open_pipe(struct registry_saver *s, struct sl_err *err)
{
    int fds[2];
    if (pipe(fds) < 0)
        return sl_err_set(err, SL_EIO,
                          "registry saver: cannot create a pipe: %s",
                          sl_strerror(errno));
    s->rd = fds[0];
    s->wr = fds[1];
    for (int i = 0; i < 2; i++)
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
            return sl_err_set(err, SL_EIO, "registry saver: fcntl: %s",
                              sl_strerror(errno));
    return 0;
}

/* Starts the thread with every signal blocked (it inherits the mask). */
static int start_thread(struct registry_saver *s, struct sl_err *err)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return sl_err_set(err, SL_EIO,
                          "registry saver for '%s': cannot start a thread: %s",
                          s->path, sl_strerror(rc));
    return 0;
}

struct registry_saver *registry_saver_new(const char *path, struct sl_err *err)
{
    size_t len = path != NULL ? strlen(path) : 0;
    if (len == 0 || len > REGISTRY_MAX_PATH) {
        sl_err_set(err, SL_EINVAL,
                   "registry saver: the path must have 1 to "
                   "%d bytes",
                   REGISTRY_MAX_PATH);
        return NULL;
    }
    struct registry_saver *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = malloc(len + 1)) == NULL) {
        free(s);
        sl_err_set(err, SL_ENOMEM, "registry saver: out of memory");
        return NULL;
    }
    memcpy(s->path, path, len + 1);
    s->rd = s->wr = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (open_pipe(s, err) < 0 || start_thread(s, err) < 0)
        goto fail;
    return s;
fail:
    if (s->rd >= 0)
        close(s->rd);
    if (s->wr >= 0)
        close(s->wr);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
    return NULL;
}

void registry_saver_stop(struct registry_saver *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    registry_snapshot_free(s->waiting);
    s->waiting = NULL;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void registry_saver_free(struct registry_saver *s)
{
    if (s == NULL)
        return;
    registry_saver_stop(s);
    pthread_join(s->thread, NULL);
    close(s->rd);
    close(s->wr);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

int registry_saver_fd(const struct registry_saver *s)
{
    return s->rd;
}

int registry_saver_submit(struct registry_saver *s, const struct registry *r,
                          uint64_t *seq, struct sl_err *err)
{
    /* Free the waiting snapshot first: it is stale, and this keeps memory
     * at two snapshots (the one in flight and this one). */
    pthread_mutex_lock(&s->lock);
    bool stopping = s->stopping;
    struct registry_snapshot *stale = s->waiting;
    s->waiting = NULL;
    pthread_mutex_unlock(&s->lock);
    registry_snapshot_free(stale);
    if (stopping)
        return sl_err_set(err, SL_EINVAL,
                          "registry saver for '%s' is stopped; save with "
                          "registry_save",
                          s->path);
    struct registry_snapshot *snap = registry_snapshot_take(r, err);
    if (snap == NULL) {
        sl_err_prefix(err, "registry '%s' not saved", s->path);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    s->waiting = snap;
    s->waiting_seq = ++s->seq;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (seq != NULL)
        *seq = s->seq;
    return 0;
}

int registry_saver_collect(struct registry_saver *s,
                           struct registry_save_outcome *out)
{
    char drain[64];
    while (read(s->rd, drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&s->lock);
    int got = s->has_outcome;
    if (got) {
        *out = s->outcome;
        s->has_outcome = false;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}
