/* loop_once.c: `run --once` gives up on a Redis that does not take its
 * batches (loop_priv.h, loop_once_check).
 *
 * A batch job must end: `run --once` with Redis down, or answering and
 * refusing every batch (a wrong password, a db it does not have, an ACL
 * user without XADD or RPUSH, a read-only replica, OOM at maxmemory),
 * waited for ever, and cron piled the runs up. The budget is
 * output.redis.command_timeout: how long a batch may go unanswered before
 * it is sent again is also how long a run with no batch accepted goes on.
 *
 * Failing, from the output's counters (output_stats): Redis not connected
 * (unreachable, or the login or SELECT refused: the connection's own
 * warning says which), or, since the last batch accepted, an error reply,
 * a batch sent again (its connection lost), or a command sent and not
 * answered by command_timeout (a Redis hung or paused). That last is seen
 * only when the budget is already spent waiting for the reply, so the
 * failing counts from when the command was due, command_timeout before:
 * a Redis that hangs mid-run is given up on after one command_timeout,
 * not two (the first to see it, the second counted from then). Redis
 * connected and
 * answering without refusing is not failing: the pending limit
 * (max_pending, max_pending_bytes) holding the shipper while the
 * consumers catch up is progress. A batch accepted starts it over. The
 * daemon (`run`) never gives up: it retries for ever, said once. */
#include "loop_priv.h"

#include <stdio.h>

#include "sl_config_sections.h"
#include "sl_log.h"
#include "sl_redis_url.h"

static bool once_watched(const struct loop *l)
{
    return l->once && l->sc->output.has_redis && l->phase != LOOP_STOPPING;
}

/* What failed, in the line's words: what Redis did, why (in the
 * parentheses, with what Redis answered or the last attempt's failure:
 * say_give_up), and what to check. */
static const struct {
    const char *did, *why, *check;
} failed[] = {
    {"has refused every batch", "the error above quotes its answer",
     "check what it answered (NOPERM: the URL's user may not write the key; "
     "READONLY: the URL names a replica; OOM: Redis is at its maxmemory, "
     "are its consumers running?)"},
    {"has not answered the shipper's connection",
     "a Redis stopped or hung, or not Redis at that address",
     "check what listens there and output.redis.url"},
    {"has not let the shipper in", "down, or refusing the login or the SELECT",
     "check that Redis runs there and output.redis.url's host, port, "
     "password and db"},
    {"has answered no batch in time",
     "hung, paused, or slower than output.redis.command_timeout",
     "check Redis's latency (redis-cli --latency, SLOWLOG GET), or raise "
     "output.redis.command_timeout"},
};

/* Files: nothing, the registry says where the next run starts; stdin:
 * what Redis did not take, since a pipe is read once. */
static void what_is_lost(const struct loop *l, uint64_t events, char *buf,
                         size_t size)
{
    static const char pipe[] = "what stdin gave and Redis did not take is "
                               "not shipped (a pipe is read once)";
    bool files = false, in = false;
    for (size_t i = 0; i < l->nin; i++) {
        in |= l->in[i].is_stdin;
        files |= !l->in[i].is_stdin;
    }
    unsigned long long n = (unsigned long long)events;
    if (!files)
        snprintf(buf, size, "%s; Redis acknowledged %llu events this run", pipe,
                 n);
    else
        snprintf(buf, size,
                 "%s%snothing is lost: the registry holds only what Redis "
                 "acknowledged (%llu events this run) and the next run "
                 "ships the rest",
                 in ? pipe : "", in ? "; of the files, " : "", n);
}

static void say_give_up(const struct loop *l, const struct output_stats *st,
                        int64_t now)
{
    const struct shipper_redis_output *r = &l->sc->output.redis;
    char shown[256];
    sl_redis_url_redact(r->url, shown, sizeof shown);
    size_t k = st->unanswered != l->once_unanswered ? 3
               : !st->ready ? (st->disconnects == 0 ? 1 : 2)
               : st->error_replies != l->once_errors ? 0
                                                     : 3;
    const char *refused, *down;
    output_redis_said(l->out, &refused, &down);
    /* Redis's own words: its answer to the batches, or why the last
     * connection failed (a hung Redis has none) */
    char why[512];
    if (k == 0 && refused[0] != '\0')
        snprintf(why, sizeof why, "its last answer: \"%s\"", refused);
    else if (k != 0 && down[0] != '\0')
        snprintf(why, sizeof why, "%s; the last %s: %s", failed[k].why,
                 k == 3 ? "connection ended" : "attempt", down);
    else
        snprintf(why, sizeof why, "%s", failed[k].why);
    char lost[320];
    what_is_lost(l, st->events, lost, sizeof lost);
    SL_ERROR("shipper",
             "--once gives up: %s, key '%s': for %.1f s "
             "(output.redis.command_timeout) it %s (%s); %s; %s, then run "
             "again",
             shown, r->key != NULL ? r->key : sl_redis_default_key(r->mode),
             (double)(now - l->once_stalled_since) / 1000.0, failed[k].did, why,
             lost, failed[k].check);
}

bool loop_once_check(struct loop *l, int64_t now)
{
    if (!once_watched(l))
        return false;
    struct output_stats st;
    output_stats(l->out, &st);
    if (st.batches != l->once_batches) { /* progress */
        l->once_batches = st.batches;
        l->once_errors = st.error_replies;
        l->once_retries = st.retries;
        l->once_unanswered = st.unanswered;
    }
    bool silent = st.unanswered != l->once_unanswered;
    bool failing = !st.ready || st.error_replies != l->once_errors ||
                   st.retries != l->once_retries || silent;
    if (!failing) {
        l->once_stalled_since = 0;
        return false;
    }
    int64_t budget = l->sc->output.redis.command_timeout_ms;
    if (l->once_stalled_since == 0) /* silent: since the command was due */
        l->once_stalled_since = !silent            ? now
                                : now - budget > 0 ? now - budget
                                                   : 1;
    if (now - l->once_stalled_since < budget)
        return false;
    say_give_up(l, &st, now);
    return true;
}

int64_t loop_once_deadline(const struct loop *l)
{
    if (!once_watched(l) || l->once_stalled_since == 0)
        return -1;
    return l->once_stalled_since + l->sc->output.redis.command_timeout_ms;
}
