/* loop.c: the indexer's poll loop (loop.h says what it does and when it
 * stops). One pass: feed the sender from the input while it has room,
 * check whether --once is done or a stop has drained, then one poll over
 * every module's descriptors and the earliest of their deadlines, then each
 * module's process step. Outcomes come back through on_outcome(), from
 * es_sender_process() or from inside es_sender_add(). */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "consumer_sweep.h"
#include "deadletter.h"
#include "es_sender.h"
#include "index_name.h"
#include "input.h"
#include "redis_durability.h"
#include "retention_worker.h"
#include "sl_clock.h"
#include "sl_http_server.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_redis.h"

#define COMP           "indexer"
#define TICK_MS        1000  /* sl_log_tick */
#define RETENTION_WAIT 60000 /* the first run, unless the interval is less */

struct loop {
    const struct indexer_config *ic;
    bool once;
    struct sl_metrics *metrics;
    struct sl_redis *cmd;
    struct redis_durability durability;
    struct deadletter *dl;
    struct consumer_sweep *sweep; /* stream mode only */
    struct input *in;
    struct index_name *names;
    struct es_sender *es;
    struct sl_http_server *http;
    struct retention_worker *rw;
    int sigfd;
    struct pollfd *pfds;
    size_t max_pfds;
    /* tags: the events in the sender, by tag; free[0..nfree) the tags not
     * in use. A stack of indices, not a list threaded through tags: taking
     * one reads the top of a small hot array instead of chasing a pointer
     * into the table (a cache miss an event, 6% of the indexer's CPU). */
    struct input_event *tags;
    uint32_t *free;
    size_t ntags, nfree, used_tags;
    struct sl_gauge *g_events, *g_entries, *g_redis_up;
    bool stopping, fatal;
    bool giving_up; /* --once: Elasticsearch or Redis failed too long */
    int64_t redis_down_since; /* --once: when `cmd` was last seen ready */
    int64_t stop_at, started_ms;
    char reason[DEADLETTER_REASON_MAX];
};

/* ---- tags: an event in the sender ---- */

static int tag_take(struct loop *l, size_t *tag)
{
    if (l->nfree == 0) {
        size_t n = l->ntags ? l->ntags * 2 : 1024;
        struct input_event *t;
        uint32_t *f;
        if (n > UINT32_MAX)
            return -1;
        if ((t = realloc(l->tags, n * sizeof *t)) == NULL)
            return -1;
        l->tags = t;
        if ((f = realloc(l->free, n * sizeof *f)) == NULL)
            return -1;
        l->free = f;
        /* the lowest on top: taken first */
        for (size_t i = l->ntags; i < n; i++)
            f[l->nfree++] = (uint32_t)(n - 1 - (i - l->ntags));
        l->ntags = n;
    }
    *tag = l->free[--l->nfree];
    l->used_tags++;
    return 0;
}

static void tag_put(struct loop *l, size_t tag)
{
    l->free[l->nfree++] = (uint32_t)tag;
    l->used_tags--;
}

/* ---- outcomes ---- */

/* The dead letter's reason: Elasticsearch's, with its cause when it gives
 * one (the cause says which value did not parse). */
static struct sl_slice dead_reason(struct loop *l, const struct es_dead *d)
{
    int n;
    if (d->cause_type.len == 0 && d->cause_reason.len == 0)
        return d->reason;
    n = snprintf(l->reason, sizeof l->reason, "%.*s (caused by %.*s: %.*s)",
                 (int)d->reason.len, d->reason.ptr, (int)d->cause_type.len,
                 d->cause_type.ptr, (int)d->cause_reason.len,
                 d->cause_reason.ptr);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof l->reason)
        n = (int)sizeof l->reason - 1;
    return (struct sl_slice){l->reason, (size_t)n};
}

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *dead)
{
    struct loop *l = ctx;
    struct input_event ev = l->tags[tag];
    tag_put(l, (size_t)tag);
    if (o != ES_OUTCOME_DEAD) {
        input_event_done(l->in, &ev);
        return;
    }
    struct input_dead_reason why = {dead->type, dead_reason(l, dead),
                                    dead->index, dead->status};
    struct sl_err err = {0};
    if (input_event_dead(l->in, &ev, &why, &err) < 0) {
        SL_ERROR(COMP,
                 "%s; stopping: the entry stays pending in Redis and "
                 "is read again at the next start",
                 err.msg);
        l->fatal = true;
    }
}

/* ---- feeding the sender ---- */

static int send_event(struct loop *l, const struct input_event *ev)
{
    size_t tag;
    struct sl_err err; /* not zeroed: 516 bytes an event */
    if (tag_take(l, &tag) < 0) {
        SL_ERROR(COMP, "out of memory for the events in flight; stopping");
        return -1;
    }
    l->tags[tag] = *ev;
    struct sl_slice name = index_name_format(l->names, ev->ts_ms, ev->json);
    /* on_outcome may run inside add (an event that can never be sent), and
     * then has put the tag back already. */
    if (es_sender_add(l->es, name.ptr, name.len, ev->id.ptr, ev->id.len,
                      ev->json.ptr, ev->json.len, tag, &err) < 0) {
        tag_put(l, tag);
        SL_ERROR(COMP, "%s; stopping: the entry stays pending in Redis",
                 err.msg);
        return -1;
    }
    return 0;
}

static void feed(struct loop *l)
{
    struct input_event ev;
    size_t taken = 0;
    bool drained = false; /* the input had nothing more ready */
    /* Read from Redis only once what was read is all in the sender, so
     * the input holds one read ahead of what Elasticsearch takes, not
     * max_in_flight entries decompressed (with 2,000-event batches peak
     * RSS went from 117 to about 70 MiB on 1M events: bench/RESULTS.md). */
    while (!l->fatal && es_sender_has_room(l->es)) {
        if (input_next(l->in, &ev) != 1) {
            input_pull(l->in, (size_t)l->ic->elasticsearch.flush_count);
            drained = true;
            break;
        }
        if (send_event(l, &ev) < 0) {
            l->fatal = true;
            return;
        }
        taken++;
    }
    /* --once: what is open goes out now rather than after flush_age. */
    if (l->once && taken == 0 && es_sender_pending(l->es) > 0)
        es_sender_flush(l->es);
    /* Caught up with Redis and nothing on the wire: the open request goes
     * now rather than after flush_age, which the shipper's batch_age
     * already spent once. While requests are in flight, events gather
     * into the open one (the next flush by bytes, count or age), so this
     * costs small requests only when Elasticsearch has nothing else to do:
     * a line is searchable about a second sooner at low rates. */
    else if (drained && es_sender_pending(l->es) > 0 && !es_sender_busy(l->es))
        es_sender_flush(l->es);
}

static bool once_done(const struct loop *l)
{
    struct deadletter_stats ds;
    deadletter_get_stats(l->dl, &ds);
    return input_idle(l->in) && es_sender_pending(l->es) == 0 &&
           ds.pending == 0 && l->used_tags == 0;
}

static bool stop_drained(const struct loop *l)
{
    struct deadletter_stats ds;
    deadletter_get_stats(l->dl, &ds);
    /* an answer just taken leaves acks due, sent at the next pass; giving
     * up, what the sender holds is not waited for (it stays pending) */
    return (l->giving_up || es_sender_pending(l->es) == 0) && ds.pending == 0 &&
           input_acks_due(l->in) == 0 && input_acks_in_flight(l->in) == 0;
}

/* --once while every request fails (loop.h): after request_timeout of
 * failures in a row, stop as a signal would, without waiting for the
 * requests that cannot end: what is resolved is acknowledged, the rest
 * stays pending in Redis. */
static void give_up_es(struct loop *l, int64_t now)
{
    const char *why;
    int64_t since = es_sender_failing_since(l->es, &why);
    if (since == 0 || es_sender_pending(l->es) == 0 ||
        now - since < l->ic->elasticsearch.request_timeout_ms)
        return;
    SL_ERROR(COMP,
             "--once gives up: Elasticsearch has failed every request for "
             "%.1f s (elasticsearch.request_timeout), the last: %s; nothing "
             "it did not index is acknowledged: the events wait in Redis for "
             "the next run; make the node answer (is it running? "
             "elasticsearch.hosts, its credentials and ca_file), then run "
             "again",
             (double)(now - since) / 1000.0, why);
    l->giving_up = true;
    l->stopping = true;
    l->stop_at = now + LOOP_STOP_GRACE_MS;
}

/* The same when Redis does not answer, or answers and refuses what the
 * input needs to start (XGROUP CREATE or the read-back of its pending
 * entries: an ACL user without the key, a key of another type): nothing
 * can be read or acknowledged, so it stops at once; entries read stay
 * pending there. Once started, a read refused (WRONGTYPE in list mode)
 * is waited on, as before: it may be a moment's mix-up. */
static void give_up_redis(struct loop *l, int64_t now)
{
    bool up = sl_redis_state(l->cmd) == SL_REDIS_READY;
    if (up && input_ready(l->in)) {
        l->redis_down_since = 0;
        return;
    }
    if (l->redis_down_since == 0)
        l->redis_down_since = now;
    if (now - l->redis_down_since < l->ic->elasticsearch.request_timeout_ms)
        return;
    SL_ERROR(COMP,
             "--once gives up: %s has %s for %.1f s "
             "(elasticsearch.request_timeout; the %s above says why); "
             "nothing is lost: what was read and not acknowledged stays "
             "pending in Redis; %s, then run again",
             sl_redis_shown(l->cmd),
             up ? "refused what the indexer asks" : "not been reachable",
             (double)(now - l->redis_down_since) / 1000.0,
             up ? "error" : "connection's message",
             up ? "give redis.url's user the keys and commands README lists "
                  "(a Redis ACL user), or fix redis.key"
                : "start redis-server or fix redis.url");
    l->giving_up = true;
    l->stopping = true;
    l->stop_at = now;
}

static void give_up(struct loop *l)
{
    int64_t now = sl_clock_mono_ms();
    give_up_es(l, now);
    if (!l->stopping)
        give_up_redis(l, now);
}

/* ---- signals ---- */

static void begin_stop(struct loop *l, const char *why)
{
    if (l->stopping) {
        SL_WARN(COMP, "%s again: stopping now", why);
        l->stop_at = sl_clock_mono_ms();
        return;
    }
    SL_INFO(COMP,
            "%s: stopping; no more reads, waiting up to %d s for the "
            "requests in flight",
            why, LOOP_STOP_GRACE_MS / 1000);
    l->stopping = true;
    l->stop_at = sl_clock_mono_ms() + LOOP_STOP_GRACE_MS;
    es_sender_flush(l->es);
}

static void read_signals(struct loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            struct sl_err err = {0};
            if (sl_log_reopen(&err) < 0)
                SL_WARN(COMP, "SIGHUP: %s", err.msg);
            else
                SL_INFO(COMP, "SIGHUP: log reopened");
        } else {
            begin_stop(l, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        }
    }
}

/* ---- one pass of poll ---- */

static int min_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

struct spans {
    size_t sig, http, cmd, in, es, end;
};

static int fill(struct loop *l, struct spans *s)
{
    struct pollfd *p = l->pfds;
    size_t n = 0, cap = l->max_pfds;
    int t = TICK_MS;
    p[n++] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
    s->http = n;
    if (l->http != NULL) {
        n += sl_http_server_fill_pollfds(l->http, p + n, cap - n);
        t = min_timeout(t, sl_http_server_timeout_ms(l->http));
    }
    s->cmd = n;
    n += sl_redis_fill_pollfds(l->cmd, p + n, cap - n);
    s->in = n;
    n += input_fill_pollfds(l->in, p + n, cap - n);
    s->es = n;
    n += es_sender_fill_pollfds(l->es, p + n, cap - n);
    s->end = n;
    t = min_timeout(t, sl_redis_timeout_ms(l->cmd));
    t = min_timeout(t, input_timeout_ms(l->in));
    t = min_timeout(t, deadletter_timeout_ms(l->dl));
    if (l->sweep != NULL)
        t = min_timeout(t, consumer_sweep_timeout_ms(l->sweep));
    t = min_timeout(t, es_sender_timeout_ms(l->es));
    if (l->stopping) {
        int64_t left = l->stop_at - sl_clock_mono_ms();
        t = min_timeout(t, left < 0 ? 0 : (int)left);
    }
    return t;
}

static void pass(struct loop *l)
{
    struct spans s;
    int t = fill(l, &s);
    if (poll(l->pfds, s.end, t) < 0 && errno != EINTR)
        SL_WARN(COMP, "poll: %s", sl_strerror(errno));
    if (l->pfds[0].revents & POLLIN)
        read_signals(l);
    if (l->http != NULL)
        sl_http_server_handle(l->http, l->pfds + s.http, s.cmd - s.http);
    sl_redis_process(l->cmd, l->pfds + s.cmd, s.in - s.cmd);
    redis_durability_poll(&l->durability);
    input_process(l->in, l->pfds + s.in, s.es - s.in);
    deadletter_process(l->dl);
    if (l->sweep != NULL)
        consumer_sweep_process(l->sweep);
    es_sender_process(l->es, l->pfds + s.es, s.end - s.es);
    sl_log_tick();
}

/* ---- start and end ---- */

static int start_http(struct loop *l, struct sl_err *err)
{
    if (l->ic->http.listen == NULL)
        return 0;
    struct sl_http_server_config hc = {.address = l->ic->http.listen};
    l->http = sl_http_server_new(&hc, err);
    if (l->http == NULL) {
        sl_err_prefix(err, "http.listen"); /* the key, as the shipper says */
        return -1;
    }
    SL_INFO(COMP, "/metrics and /status on http://%s (port %u)",
            l->ic->http.listen, (unsigned)sl_http_server_port(l->http));
    return 0;
}

static int render_metrics(void *ctx, struct sl_buf *b, const char **type,
                          struct sl_err *err)
{
    *type = SL_METRICS_PROMETHEUS_TYPE;
    return sl_metrics_render_prometheus(ctx, b, err);
}

static int render_status(void *ctx, struct sl_buf *b, const char **type,
                         struct sl_err *err)
{
    *type = "application/json";
    return sl_metrics_render_json(ctx, b, err);
}

/* At each render (on the loop's thread: the endpoint is served there). */
static void collect(void *ctx)
{
    struct loop *l = ctx;
    struct input_stats st;
    input_get_stats(l->in, &st);
    sl_gauge_set(l->g_events, (double)es_sender_pending(l->es));
    sl_gauge_set(l->g_entries, (double)st.in_flight);
    sl_gauge_set(l->g_redis_up,
                 sl_redis_state(l->cmd) == SL_REDIS_READY ? 1.0 : 0.0);
}

static int add_gauges(struct loop *l, struct sl_err *err)
{
    struct sl_metrics *m = l->metrics;
    l->g_events = sl_metrics_gauge(
        m, "sluice_indexer_events_in_flight",
        "events handed to the bulk sender whose outcome is not known yet", err);
    l->g_entries = l->g_events == NULL
                       ? NULL
                       : sl_metrics_gauge(m, "sluice_indexer_entries_held",
                                          "Redis entries read and not yet "
                                          "acknowledged",
                                          err);
    l->g_redis_up = l->g_entries == NULL
                        ? NULL
                        : sl_metrics_gauge(m, "sluice_indexer_redis_up",
                                           "1 while the command connection "
                                           "to Redis is ready",
                                           err);
    if (l->g_redis_up == NULL)
        return -1;
    return sl_metrics_add_collector(m, collect, l, err);
}

static int start_redis(struct loop *l, struct sl_err *err)
{
    const struct indexer_config *ic = l->ic;
    struct sl_redis_config rc = {
        .url = ic->redis.url,
        .conn = {.component = "redis", .url_key = "redis.url"}};
    l->cmd = sl_redis_new(&rc, err);
    if (l->cmd == NULL)
        return -1;
    redis_durability_init(&l->durability, l->cmd, ic->redis.key);
    l->dl = deadletter_new(&(struct deadletter_config){ic->redis.dead_key,
                                                       ic->redis.dead_warn,
                                                       NULL, 0},
                           l->cmd, l->metrics, err);
    if (l->dl == NULL)
        return -1;
    if (ic->redis.mode == SL_REDIS_STREAM) {
        struct consumer_sweep_config sc = {ic->redis.key, ic->redis.group,
                                           ic->redis.consumer,
                                           ic->redis.forget_idle_ms, NULL};
        if ((l->sweep = consumer_sweep_new(&sc, l->cmd, err)) == NULL)
            return -1;
    }
    l->in = input_new(&ic->redis, l->cmd, l->dl, l->metrics, err);
    if (l->in != NULL && l->once)
        input_set_once(l->in);
    return l->in != NULL ? 0 : -1;
}

static int start_es(struct loop *l, struct sl_err *err)
{
    const struct indexer_es_config *ec = &l->ic->elasticsearch;
    struct es_sender_config sc;
    l->names = index_name_new(ec->index, ec->index_fallback, err);
    if (l->names == NULL) {
        sl_err_prefix(err, "elasticsearch.index");
        return -1;
    }
    es_sender_config_from(&sc, ec);
    sc.one_line = true; /* input.h: an event's json is one line */
    /* input.h: an event's slices stay valid until it is resolved, so the
     * requests point into the entries instead of copying every event (one
     * copy of the bodies less, and their memory: bench/RESULTS.md) */
    sc.borrow = true;
    sc.on_outcome = on_outcome;
    sc.ctx = l;
    sc.metrics = l->metrics;
    l->es = es_sender_new(&sc, err);
    if (l->es == NULL)
        return -1;
    if (ec->retention_days > 0 && !l->once) {
        int64_t every = ec->retention_interval_ms;
        l->rw = retention_worker_new(
            ec, every < RETENTION_WAIT ? every : RETENTION_WAIT, every, 0, err);
        if (l->rw == NULL)
            return -1;
    }
    return 0;
}

static int start(struct loop *l, struct sl_err *err)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sigfd < 0)
        return sl_err_set(err, SL_EIO, "signalfd: %s", sl_strerror(errno));
    l->metrics = sl_metrics_new();
    if (l->metrics == NULL || sl_metrics_add_process(l->metrics, err) < 0)
        return l->metrics == NULL ? sl_err_set(err, SL_ENOMEM, "out of memory")
                                  : -1;
    if (start_redis(l, err) < 0 || start_es(l, err) < 0 ||
        add_gauges(l, err) < 0 || start_http(l, err) < 0)
        return -1;
    if (l->http != NULL &&
        (sl_http_server_route(l->http, "/metrics", render_metrics, l->metrics,
                              err) < 0 ||
         sl_http_server_route(l->http, "/status", render_status, l->metrics,
                              err) < 0))
        return -1;
    l->max_pfds = 1 + SL_HTTP_MAX_POLLFDS + SL_REDIS_MAX_POLLFDS +
                  INPUT_MAX_POLLFDS + es_sender_max_pollfds(l->es);
    l->pfds = calloc(l->max_pfds, sizeof *l->pfds);
    if (l->pfds == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return 0;
}

static void finish(struct loop *l)
{
    retention_worker_free(l->rw);
    sl_http_server_free(l->http);
    es_sender_free(l->es);
    input_free(l->in);
    deadletter_free(l->dl);
    consumer_sweep_free(l->sweep);
    sl_redis_free(l->cmd);
    index_name_free(l->names);
    sl_metrics_free(l->metrics);
    free(l->tags);
    free(l->free);
    free(l->pfds);
    if (l->sigfd >= 0)
        close(l->sigfd);
}

static void say_started(const struct loop *l)
{
    const struct indexer_config *ic = l->ic;
    SL_INFO(
        COMP, "started%s: %s %s %s%s%s -> %zu Elasticsearch node%s, index %s",
        l->once ? " (--once)" : "", sl_redis_shown(l->cmd),
        ic->redis.mode == SL_REDIS_STREAM ? "stream" : "list", ic->redis.key,
        ic->redis.mode == SL_REDIS_STREAM ? ", consumer " : "",
        ic->redis.mode == SL_REDIS_STREAM ? ic->redis.consumer : "",
        ic->elasticsearch.hosts.n, ic->elasticsearch.hosts.n == 1 ? "" : "s",
        ic->elasticsearch.index);
}

static void say_ended(const struct loop *l, bool done)
{
    struct es_sender_stats st;
    struct input_stats is;
    struct deadletter_stats ds;
    es_sender_stats(l->es, &st);
    input_get_stats(l->in, &is);
    deadletter_get_stats(l->dl, &ds);
    double secs = (double)(sl_clock_mono_ms() - l->started_ms) / 1000.0;
    SL_INFO(COMP,
            "%s after %.1f s: %llu events read, %llu indexed, %llu already "
            "there (409), %llu to the dead letters (%llu had one already), "
            "%llu entries acknowledged",
            done ? "nothing left to index" : "stopped", secs,
            (unsigned long long)is.events_read, (unsigned long long)st.done,
            (unsigned long long)st.duplicate,
            (unsigned long long)is.dead_events, (unsigned long long)ds.repeated,
            (unsigned long long)is.acked);
    if (is.malformed > 0)
        SL_WARN(COMP,
                "%llu entries were not valid (not a batch, or not a JSON "
                "event): each went whole to the dead letters (%s)",
                (unsigned long long)is.malformed, l->ic->redis.dead_key);
    if (!done && (es_sender_pending(l->es) > 0 || is.in_flight > 0))
        SL_WARN(COMP,
                "%zu events were not indexed and %llu entries not "
                "acknowledged: they stay pending in Redis and are read again "
                "at the next start",
                es_sender_pending(l->es), (unsigned long long)is.in_flight);
}

int indexer_loop_run(const struct indexer_config *ic, bool once)
{
    struct loop l = {.ic = ic, .once = once, .sigfd = -1};
    struct sl_err err = {0};
    bool done = false;
    if (start(&l, &err) < 0) {
        SL_ERROR(COMP, "%s", err.msg);
        finish(&l);
        return 1;
    }
    l.started_ms = sl_clock_mono_ms();
    say_started(&l);
    for (;;) {
        if (!l.stopping && !l.fatal)
            feed(&l);
        if (l.fatal)
            break;
        if (once && !l.stopping && once_done(&l)) {
            done = true;
            break;
        }
        if (once && !l.stopping)
            give_up(&l);
        if (l.stopping && (stop_drained(&l) || sl_clock_mono_ms() >= l.stop_at))
            break;
        pass(&l);
    }
    say_ended(&l, done);
    finish(&l);
    sl_log_flush();
    if (l.fatal)
        return 1;
    return once && !done ? 1 : 0;
}
