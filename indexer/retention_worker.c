/* retention_worker.c: retention on a thread of its own (header).
 *
 * The wait between runs is a condition variable on the monotonic clock,
 * so a change of the wall clock neither skips nor repeats runs; the day
 * retention compares against is the wall clock's (UTC), read at each run.
 * Stopping sets the flag first (which admin_http's progress callback
 * reads, so a request in flight ends), then signals the condition; the
 * join is then bounded by about a second. */
#include "retention_worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_http.h"
#include "index_name.h"
#include "retention.h"
#include "sl_log.h"

#define COMP "retention"

struct retention_worker {
    const struct indexer_es_config *es;
    struct index_name *in;
    int64_t first_delay_ms, interval_ms;
    long timeout_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    atomic_bool stop;
    atomic_uint_fast64_t runs, failures, deleted;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One run: the first host that answers does the work. */
static void run_once(struct retention_worker *w)
{
    const struct indexer_es_config *es = w->es;
    struct admin_http_opts ho = {es->username, es->password,   es->api_key,
                                 es->ca_file,  w->timeout_ms,  "elasticsearch",
                                 &w->stop,     !es->tls_verify};
    struct admin_http h;
    struct retention_result r = {0};
    struct sl_err err = {0};
    int rc = admin_http_init(&h, &ho, &err);
    for (size_t i = 0; rc == 0 && i < es->hosts.n; i++) {
        rc = retention_run(&h, es->hosts.v[i], w->in, es->retention_days,
                           wall_ms(), &r, &err);
        if (rc == 0 || err.status != SL_EIO || atomic_load(&w->stop) ||
            i + 1 == es->hosts.n)
            break;
        SL_WARN(COMP, "%s; trying the next host", err.msg);
        rc = 0; /* unreachable: the next host is tried */
    }
    admin_http_release(&h);
    atomic_fetch_add(&w->deleted, r.deleted);
    if (rc < 0) {
        atomic_fetch_add(&w->failures, 1);
        if (!atomic_load(&w->stop))
            SL_WARN(COMP, "%s; retention tries again in %lld s", err.msg,
                    (long long)(w->interval_ms / 1000));
    }
    atomic_fetch_add(&w->runs, 1);
}

static void *thread_main(void *arg)
{
    struct retention_worker *w = arg;
    int64_t next = mono_ms() + w->first_delay_ms;
    pthread_mutex_lock(&w->mu);
    while (!atomic_load(&w->stop)) {
        int64_t now = mono_ms();
        if (now < next) {
            int64_t t = next;
            struct timespec ts = {(time_t)(t / 1000),
                                  (long)(t % 1000) * 1000000};
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        run_once(w);
        pthread_mutex_lock(&w->mu);
        next = mono_ms() + w->interval_ms;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int start(struct retention_worker *w, struct sl_err *err)
{
    pthread_condattr_t ca;
    sigset_t all, old;
    if (pthread_condattr_init(&ca) != 0 ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&w->cv, &ca) != 0)
        return sl_err_set(err, SL_EIO, "retention: cannot make a condition");
    pthread_condattr_destroy(&ca);
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        pthread_cond_destroy(&w->cv);
        return sl_err_set(err, SL_EIO, "retention: cannot make a mutex");
    }
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, thread_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        return sl_err_set(err, SL_EIO, "retention: cannot start a thread: %s",
                          sl_strerror(rc));
    }
    return 0;
}

struct retention_worker *
retention_worker_new(const struct indexer_es_config *es, int64_t first_delay_ms,
                     int64_t interval_ms, long timeout_ms, struct sl_err *err)
{
    struct retention_worker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for retention");
        return NULL;
    }
    w->es = es;
    w->first_delay_ms = first_delay_ms < 0 ? 0 : first_delay_ms;
    w->interval_ms = interval_ms < 1000 ? 1000 : interval_ms;
    w->timeout_ms = timeout_ms;
    atomic_init(&w->stop, false);
    atomic_init(&w->runs, 0);
    atomic_init(&w->failures, 0);
    atomic_init(&w->deleted, 0);
    if (es->retention_days < 1) {
        sl_err_set(err, SL_EINVAL, "retention is off (retention_days 0)");
        goto fail;
    }
    if ((w->in = index_name_new(es->index, es->index_fallback, err)) == NULL)
        goto fail;
    if (!index_name_dated(w->in) || index_name_prefix(w->in).len == 0) {
        sl_err_set(err, SL_EINVAL,
                   "retention: the index pattern \"%s\" needs text first and "
                   "a full date",
                   es->index);
        goto fail;
    }
    if (start(w, err) < 0)
        goto fail;
    return w;
fail:
    index_name_free(w->in);
    free(w);
    return NULL;
}

void retention_worker_free(struct retention_worker *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    pthread_mutex_lock(&w->mu);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    index_name_free(w->in);
    free(w);
}

void retention_worker_stats(const struct retention_worker *w,
                            struct retention_worker_stats *out)
{
    out->runs = atomic_load(&w->runs);
    out->failures = atomic_load(&w->failures);
    out->deleted = atomic_load(&w->deleted);
}
