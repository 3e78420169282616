/* out_redis.c: the Redis sink of the output, both modes: sending batches
 * pipelined, resending what failed, holding the pipeline while Redis
 * refuses or the key is over its pending limit. What a batch becomes on
 * the wire is the mode's (out_redis_stream.c, out_redis_list.c).
 *
 * Every batch the front hands over stays on `queue`, in seal order, until
 * all its commands (chunks) are accepted. A chunk is sent when the
 * connection is READY and no retry backoff runs; all chunks of all queued
 * batches go out at once, pipelined (at most max_in_flight batches exist).
 * A chunk that fails goes back to unsent:
 *   - connection lost or no reply in time (ELOST, ETIMEOUT): resent once
 *     the client is READY again (its own reconnect has the backoff);
 *   - an error reply (EREPLY): the output holds (has_room false), the
 *     reason is logged once with what to do and counted, and every unsent
 *     chunk waits for a backoff (retry_min_ms doubling to retry_max_ms,
 *     jittered) before it goes again; the first accepted chunk ends the
 *     hold, which is logged once too.
 * A resend is the same bytes, so the same event ids. Nothing is dropped.
 *
 * Nothing is queued in the client while it is not READY, so the client's
 * own limits (max_commands, max_queued_bytes) are sized to hold every
 * chunk of a full outbox; SL_ELIMIT from it would only mean "later".
 *
 * The pending check: the mode's length command (XLEN, LLEN) and, with a
 * byte limit, MEMORY USAGE, about every pending_check_ms while READY and
 * batches wait or the key is over its limit, and at once after each
 * (re)connection (not at rest: check_wanted); between answers, what this
 * shipper added is counted in, so the limit is passed by at most what is
 * in flight. Until the first answer the output has no room: a shipper
 * restarted against a full stream sends nothing. */
#include "output_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_backoff.h"
#include "sl_log.h"
#include "sl_redis.h"

struct out_redis {
    struct output *o;
    const struct out_redis_mode *mode;
    struct output_counters *c;
    struct sl_redis *r;
    char *key;
    const char *component;
    int command_ms;
    struct output_batch *head, *tail; /* batches not yet accepted */
    const char **argv;
    size_t *lens;
    bool closing;
    bool blocked; /* the client refused a command (its limits): wait */
    bool down;    /* counted as a disconnect, not READY since */
    /* error replies */
    struct sl_backoff backoff;
    int64_t retry_at;
    enum output_reason held; /* OUTPUT_NREASONS: not held */
    int64_t held_since;
    /* holds said: the last one's reason and time, how many since; and
     * whether this one was said (its end is said then) */
    enum output_reason held_said_why;
    int64_t held_said_at;
    uint64_t held_unsaid;
    bool held_said;
    /* what Redis last said against the shipper (output_redis_said): its
     * error reply to a batch, and why the connection last went down */
    char refused[160], down_why[320];
    /* pending limit */
    long long max_pending, max_bytes;
    int check_ms;
    int64_t next_check;
    int checks_out;
    bool checked, over, bytes_off, len_warned;
    long long pending, pending_bytes;
    /* the limit's holds said: when last, and how many since */
    bool over_said;
    int64_t over_said_at;
    uint64_t over_unsaid;
};

/* While over the pending limit the key is asked this often: consumers
 * that drain it fast (a Logstash popping 125 at a time) no longer leave
 * the shipper waiting out a whole pending_check_ms each time it passes
 * the limit (about max_pending events a second, whatever they could
 * take). */
#define OVER_CHECK_MS 100
/* A hold that starts again within this long of the last one said goes to
 * debug (counted all the same): a shipper that keeps catching up with
 * its consumers said "at its limit" and "below again" every second. */
#define OVER_SAY_MS (5 * 60 * 1000)

/* ---- error replies ---- */

static const struct {
    const char *word;
    const char *fix;
} reasons[OUTPUT_NREASONS] = {
    [OUTPUT_OOM] = {"OOM", "Redis is at its maxmemory and may not evict: "
                           "make sure sluice-indexer runs and drains the "
                           "key, raise maxmemory, or set "
                           "output.redis.max_pending_bytes below it"},
    [OUTPUT_NOAUTH] = {"NOAUTH", "Redis wants a password: write it in "
                                 "output.redis.url "
                                 "(redis://:${REDIS_PASSWORD}@host)"},
    [OUTPUT_WRONGPASS] = {"WRONGPASS", "check the user and password in "
                                       "output.redis.url"},
    [OUTPUT_NOPERM] = {"NOPERM", "give the Redis user the right to write "
                                 "the key: ACL SETUSER USER ~KEY +xadd "
                                 "+rpush +xlen +llen"},
    [OUTPUT_READONLY] = {"READONLY", "this Redis is a read-only replica: "
                                     "point output.redis.url at the master"},
    [OUTPUT_MISCONF] = {"MISCONF", "Redis cannot write its snapshot and "
                                   "refuses writes: see the Redis log (disk "
                                   "full? permissions?)"},
    [OUTPUT_LOADING] = {"LOADING", "Redis is loading its data; it accepts "
                                   "writes when it is done"},
    [OUTPUT_BUSY] = {"BUSY", "a script keeps Redis busy: wait, or "
                             "SCRIPT KILL"},
    [OUTPUT_MASTERDOWN] = {"MASTERDOWN", "the replica lost its master: "
                                         "point output.redis.url at the "
                                         "master"},
    [OUTPUT_WRONGTYPE] = {"WRONGTYPE", "the key holds another type: check "
                                       "output.redis.mode and "
                                       "output.redis.key, or delete the key"},
    [OUTPUT_OTHER] = {"", "see the Redis reply; the batch is sent again "
                          "until it is accepted"},
};

static const char *reply_text(const char *str, char *buf, size_t size);

static enum output_reason classify(const char *text)
{
    for (int i = 0; i < OUTPUT_OTHER; i++) {
        size_t n = strlen(reasons[i].word);
        if (strncmp(text, reasons[i].word, n) == 0 &&
            (text[n] == ' ' || text[n] == '\0'))
            return (enum output_reason)i;
    }
    return OUTPUT_OTHER;
}

static void hold(struct out_redis *s, const char *text)
{
    enum output_reason why = classify(text);
    int64_t now = sl_redis_now_ms();
    sl_counter_inc(s->c->errors[why]);
    s->retry_at = now + sl_backoff_next(&s->backoff);
    reply_text(text, s->refused, sizeof s->refused);
    if (s->held == why)
        return;
    if (s->held == OUTPUT_NREASONS) {
        sl_counter_inc(s->c->holds);
        s->held_since = now;
    }
    s->held = why;
    char again[96] = "";
    const char *shown = s->refused;
    /* Redis at maxmemory with an indexer draining it refuses and accepts
     * by turns, several times a second: the same reason within
     * OVER_SAY_MS of the last time it was said is counted only */
    s->held_said = why != s->held_said_why || s->held_said_at == 0 ||
                   now - s->held_said_at >= OVER_SAY_MS;
    if (!s->held_said) {
        s->held_unsaid++;
        SL_DEBUG(s->component, "%s: key '%s': Redis refused a batch: %s",
                 sl_redis_shown(s->r), s->key, shown);
        return;
    }
    if (s->held_unsaid > 0 && why == s->held_said_why)
        snprintf(again, sizeof again,
                 " (refused so %llu times more since this was last said)",
                 (unsigned long long)s->held_unsaid);
    s->held_said_why = why;
    s->held_said_at = now;
    s->held_unsaid = 0;
    SL_ERROR(s->component,
             "%s: key '%s': Redis refused a batch: %s%s; reading stops "
             "(nothing is lost) and the batch is sent again with backoff; %s",
             sl_redis_shown(s->r), s->key, shown, again, reasons[why].fix);
}

static void unhold(struct out_redis *s)
{
    sl_backoff_reset(&s->backoff);
    s->retry_at = 0;
    if (s->held == OUTPUT_NREASONS)
        return;
    sl_log(s->held_said ? SL_LOG_INFO : SL_LOG_DEBUG, s->component,
           "%s: key '%s': Redis accepts batches again after %.1f s; reading "
           "resumes",
           sl_redis_shown(s->r), s->key,
           (double)(sl_redis_now_ms() - s->held_since) / 1000.0);
    s->held = OUTPUT_NREASONS;
}

/* ---- the pending limit ---- */

static void update_over(struct out_redis *s)
{
    bool count = s->max_pending > 0 && s->pending >= s->max_pending;
    bool bytes =
        s->max_bytes > 0 && !s->bytes_off && s->pending_bytes >= s->max_bytes;
    const char *unit = s->mode == &out_redis_list_mode ? "events" : "entries";
    if ((count || bytes) == s->over)
        return;
    s->over = count || bytes;
    int64_t now = sl_redis_now_ms();
    if (!s->over) {
        sl_log(s->over_said ? SL_LOG_INFO : SL_LOG_DEBUG, s->component,
               "%s: key '%s' is below its pending limit again (%lld %s); "
               "reading resumes",
               sl_redis_shown(s->r), s->key, s->pending, unit);
        return;
    }
    sl_counter_inc(s->c->pending_holds);
    if (s->next_check > now + OVER_CHECK_MS)
        s->next_check = now + OVER_CHECK_MS;
    s->over_said = s->over_said_at == 0 || now - s->over_said_at >= OVER_SAY_MS;
    if (!s->over_said) {
        s->over_unsaid++;
        SL_DEBUG(s->component, "%s: key '%s' at its pending limit again",
                 sl_redis_shown(s->r), s->key);
        return;
    }
    char again[96] = "";
    if (s->over_unsaid > 0)
        snprintf(again, sizeof again,
                 " (reached %llu times more since this was last said)",
                 (unsigned long long)s->over_unsaid);
    s->over_said_at = now;
    s->over_unsaid = 0;
    if (count)
        SL_WARN(s->component,
                "%s: key '%s' holds %lld %s, at its limit "
                "(output.redis.max_pending %lld)%s; reading stops until the "
                "consumers catch up: check that they run, or raise the limit",
                sl_redis_shown(s->r), s->key, s->pending, unit, s->max_pending,
                again);
    else
        SL_WARN(s->component,
                "%s: key '%s' uses %lld bytes of Redis memory, at its limit "
                "(output.redis.max_pending_bytes %lld)%s; reading stops until "
                "the consumers catch up: check that they run, or raise the "
                "limit",
                sl_redis_shown(s->r), s->key, s->pending_bytes, s->max_bytes,
                again);
}

/* The server's error text, one line, its first sentence without the full
 * stop: MISCONF's 330 bytes cut at size ended mid-word ("because th"). */
static const char *reply_text(const char *str, char *buf, size_t size)
{
    size_t n = strcspn(str, "\r\n");
    const char *stop = strstr(str, ". ");
    if (stop != NULL && (size_t)(stop - str) < n)
        n = (size_t)(stop - str);
    if (n > 0 && str[n - 1] == '.')
        n--;
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), str);
    return buf;
}

/* An error reply to XLEN or LLEN: NOPERM turns the count limit off (said
 * once); another (WRONGTYPE: the batches will say it too) is said once and
 * the limit waits for a count. Either way the output does not wait for a
 * first count that will not come. */
static void len_refused(struct out_redis *s, const char *text)
{
    char t[160];
    bool noperm = strncmp(text, "NOPERM", 6) == 0;
    s->checked = true;
    if (noperm)
        s->max_pending = 0;
    if (s->len_warned && !noperm)
        return;
    s->len_warned = true;
    SL_WARN(s->component, "%s: %s %s answered: %s; %s", sl_redis_shown(s->r),
            s->mode->len_cmd, s->key, reply_text(text, t, sizeof t),
            noperm ? "output.redis.max_pending is not checked: allow the "
                     "user +xlen (stream) or +llen (list), or set "
                     "max_pending to 0"
                   : "the pending limit is checked again later");
    update_over(s);
}

static void on_len(void *ctx, const struct sl_redis_result *res)
{
    struct out_redis *s = ctx;
    if (s->closing)
        return;
    s->checks_out--;
    if (res->status == SL_REDIS_EREPLY) {
        len_refused(s, res->reply->str);
        return;
    }
    if (res->status != SL_REDIS_OK || res->reply->type != REDIS_REPLY_INTEGER)
        return;
    s->pending = res->reply->integer;
    s->checked = true;
    sl_gauge_set(s->c->pending, (double)s->pending);
    update_over(s);
}

static void on_memory(void *ctx, const struct sl_redis_result *res)
{
    struct out_redis *s = ctx;
    if (s->closing)
        return;
    s->checks_out--;
    if (res->status == SL_REDIS_EREPLY && !s->bytes_off) {
        char t[160];
        s->bytes_off = true;
        SL_WARN(s->component,
                "%s: MEMORY USAGE %s answered: %s; "
                "output.redis.max_pending_bytes is not checked: allow the "
                "user +memory, or set max_pending_bytes to 0",
                sl_redis_shown(s->r), s->key,
                reply_text(res->reply->str, t, sizeof t));
        update_over(s);
        return;
    }
    if (res->status != SL_REDIS_OK)
        return;
    s->checked = true;
    s->pending_bytes = res->reply->type == REDIS_REPLY_INTEGER
                           ? res->reply->integer
                           : 0; /* nil: no such key */
    sl_gauge_set(s->c->pending_bytes, (double)s->pending_bytes);
    update_over(s);
}

/* Whether a limit is checked at all (a user that may not run the command
 * turns its limit off). */
static bool counting(const struct out_redis *s)
{
    return s->max_pending > 0;
}

static bool weighing(const struct out_redis *s)
{
    return s->max_bytes > 0 && !s->bytes_off;
}

/* Whether a check is worth its round trip: before the first answer and
 * after a reconnection, while over the limit (room comes back), and
 * while batches wait here. A shipper at rest (nothing to send, under the
 * limit) asks nothing: it woke the loop and Redis every pending_check_ms
 * for a count that no batch needed (the gauge keeps the last one). */
static bool check_wanted(const struct out_redis *s)
{
    return (counting(s) || weighing(s)) && s->checks_out == 0 &&
           (!s->checked || s->next_check == 0 || s->over || s->head != NULL);
}

static void check_pending(struct out_redis *s, int64_t now)
{
    if (!check_wanted(s) || now < s->next_check)
        return;
    struct sl_err err = {0};
    s->next_check =
        now +
        (s->over && s->check_ms > OVER_CHECK_MS ? OVER_CHECK_MS : s->check_ms);
    const char *len[] = {s->mode->len_cmd, s->key};
    struct sl_redis_cmd cmd = {2, len, NULL, 1, s->command_ms};
    if (counting(s) && sl_redis_command(s->r, &cmd, on_len, s, &err) == 0)
        s->checks_out++;
    const char *mem[] = {"MEMORY", "USAGE", s->key};
    struct sl_redis_cmd mcmd = {3, mem, NULL, 2, s->command_ms};
    if (weighing(s) && sl_redis_command(s->r, &mcmd, on_memory, s, &err) == 0)
        s->checks_out++;
}

/* ---- sending ---- */

static void unqueue(struct out_redis *s, struct output_batch *b)
{
    struct output_batch **p = &s->head, *prev = NULL;
    while (*p != b) {
        prev = *p;
        p = &(*p)->next;
    }
    *p = b->next;
    if (s->tail == b)
        s->tail = prev;
    b->next = NULL;
}

static void chunk_accepted(struct out_redis *s, struct output_chunk *k)
{
    struct output_batch *b = k->batch;
    k->done = true;
    s->pending += s->mode->added(b, k->index);
    if (s->mode == &out_redis_stream_mode)
        s->pending_bytes += (long long)b->bytes;
    else
        s->pending_bytes += (long long)(b->bytes * k->events / b->events);
    unhold(s);
    update_over(s);
    for (unsigned i = 0; i < b->nchunks; i++)
        if (!b->chunks[i].done)
            return;
    unqueue(s, b);
    output_batch_done(s->o, b);
}

static void on_chunk(void *ctx, const struct sl_redis_result *res)
{
    struct output_chunk *k = ctx;
    struct out_redis *s = k->sink;
    if (s->closing)
        return;
    k->in_flight = false;
    switch (res->status) {
    case SL_REDIS_OK:
        if (res->reply->type == s->mode->reply_type) {
            chunk_accepted(s, k);
            return;
        }
        hold(s, "an answer of an unexpected type");
        return;
    case SL_REDIS_EREPLY:
        hold(s, res->reply->str);
        return;
    default: /* lost or timed out: resent once READY */
        SL_DEBUG(s->component, "batch %llu: %s; sending it again",
                 (unsigned long long)k->batch->seq, res->why);
        return;
    }
}

static void send_due(struct out_redis *s)
{
    if (sl_redis_state(s->r) != SL_REDIS_READY ||
        sl_redis_now_ms() < s->retry_at)
        return;
    s->blocked = false;
    for (struct output_batch *b = s->head; b != NULL; b = b->next)
        for (unsigned i = 0; i < b->nchunks; i++) {
            struct output_chunk *k = &b->chunks[i];
            if (k->done || k->in_flight)
                continue;
            int argc = s->mode->build(b, i, s->key, s->argv, s->lens);
            struct sl_redis_cmd cmd = {argc, s->argv, s->lens, 1,
                                       s->command_ms};
            struct sl_err err = {0};
            if (sl_redis_command(s->r, &cmd, on_chunk, k, &err) < 0) {
                s->blocked = true;
                SL_DEBUG(s->component, "%s", err.msg);
                return;
            }
            k->in_flight = true;
            if (k->tries++ > 0)
                sl_counter_inc(s->c->retries);
        }
}

static void take(void *sink, struct output_batch *b)
{
    struct out_redis *s = sink;
    s->mode->split(b);
    for (unsigned i = 0; i < b->nchunks; i++) {
        b->chunks[i].batch = b;
        b->chunks[i].sink = s;
        b->chunks[i].index = i;
        b->chunks[i].tries = 0;
        b->chunks[i].in_flight = b->chunks[i].done = false;
    }
    b->next = NULL;
    if (s->tail != NULL)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    send_due(s);
}

/* ---- the loop ---- */

/* A login the server refused (why ends with its reply: "login refused:
 * WRONGPASS ...", "PING answered: MISCONF ..."): counted with the error
 * replies to batches, by reason, so that a wrong password or a full disk
 * shows in the counter an alert watches, not as a disconnect only. */
static void count_refused_login(struct out_redis *s, const char *why)
{
    for (int i = 0; why != NULL && i < OUTPUT_OTHER; i++) {
        const char *w = reasons[i].word, *at = why;
        size_t n = strlen(w);
        while ((at = strstr(at, ": ")) != NULL) {
            at += 2;
            if (strncmp(at, w, n) == 0 && (at[n] == ' ' || at[n] == '\0')) {
                sl_counter_inc(s->c->errors[i]);
                return;
            }
        }
    }
}

static void on_state(void *ctx, enum sl_redis_state st, const char *why)
{
    struct out_redis *s = ctx;
    /* the client logged it, saying what to fix */
    if (st == SL_REDIS_DOWN && !s->closing) {
        count_refused_login(s, why);
        snprintf(s->down_why, sizeof s->down_why, "%s", why != NULL ? why : "");
    }
    if (st == SL_REDIS_READY) {
        s->next_check = 0; /* the key may have changed meanwhile */
        s->down = false;
    } else if (st == SL_REDIS_DOWN && !s->down && !s->closing) {
        s->down = true;
        sl_counter_inc(s->c->disconnects);
    }
}

static bool unsent(const struct out_redis *s)
{
    for (const struct output_batch *b = s->head; b != NULL; b = b->next)
        for (unsigned i = 0; i < b->nchunks; i++)
            if (!b->chunks[i].done && !b->chunks[i].in_flight)
                return true;
    return false;
}

static size_t fill_pollfds(const void *sink, struct pollfd *pfds, size_t n)
{
    return sl_redis_fill_pollfds(((const struct out_redis *)sink)->r, pfds, n);
}

static int min_ms(int a, int64_t b)
{
    int bb = b <= 0 ? 0 : b > INT32_MAX ? INT32_MAX : (int)b;
    return a < 0 || bb < a ? bb : a;
}

static int timeout_ms(const void *sink)
{
    const struct out_redis *s = sink;
    int t = sl_redis_timeout_ms(s->r);
    if (sl_redis_state(s->r) != SL_REDIS_READY)
        return t;
    int64_t now = sl_redis_now_ms();
    if (!s->blocked && unsent(s))
        t = min_ms(t, s->retry_at - now);
    if (check_wanted(s))
        t = min_ms(t, s->next_check - now);
    return t;
}

static void process(void *sink, const struct pollfd *pfds, size_t n)
{
    struct out_redis *s = sink;
    sl_redis_process(s->r, pfds, n);
    if (sl_redis_state(s->r) != SL_REDIS_READY)
        return;
    check_pending(s, sl_redis_now_ms());
    send_due(s);
}

static bool has_room(const void *sink)
{
    const struct out_redis *s = sink;
    return sl_redis_state(s->r) == SL_REDIS_READY &&
           s->held == OUTPUT_NREASONS && !s->over &&
           (s->checked || (!counting(s) && !weighing(s)));
}

static bool broken(const void *sink)
{
    (void)sink;
    return false;
}

static bool ready(const void *sink)
{
    return sl_redis_state(((const struct out_redis *)sink)->r) ==
           SL_REDIS_READY;
}

static void sink_free(void *sink)
{
    struct out_redis *s = sink;
    if (s == NULL)
        return;
    s->closing = true;
    sl_redis_free(s->r);
    free(s->argv);
    free(s->lens);
    free(s->key);
    free(s);
}

const struct output_sink_ops out_redis_ops = {.name = "redis",
                                              .free = sink_free,
                                              .fill_pollfds = fill_pollfds,
                                              .timeout_ms = timeout_ms,
                                              .process = process,
                                              .has_room = has_room,
                                              .take = take,
                                              .broken = broken,
                                              .ready = ready};

static int make_client(struct out_redis *s, const struct output_config *cfg,
                       struct sl_err *err)
{
    size_t chunks = cfg->kind == OUTPUT_REDIS_LIST ? OUTPUT_CHUNKS_MAX : 1;
    size_t entry = cfg->batch_bytes + OUTPUT_EVENT_MAX + 65536;
    struct sl_redis_config rc = {
        .url = cfg->url,
        .conn = {.component = cfg->component,
                 .client_name = "sluice-shipper",
                 .url_key = "output.redis.url",
                 .connect_timeout_ms = cfg->connect_timeout_ms,
                 .command_timeout_ms = s->command_ms,
                 .backoff_min_ms = cfg->retry_min_ms,
                 .backoff_max_ms = cfg->retry_max_ms,
                 .max_commands = cfg->max_in_flight * chunks + 16,
                 .max_queued_bytes = cfg->max_in_flight * entry * 2,
                 .on_state = on_state,
                 .state_ctx = s}};
    s->r = sl_redis_new(&rc, err);
    return s->r != NULL ? 0 : -1;
}

uint64_t out_redis_unanswered(const void *sink)
{
    struct sl_redis_stats st;
    sl_redis_stats(((const struct out_redis *)sink)->r, &st);
    return st.unanswered;
}

void out_redis_said(const void *sink, const char **refused, const char **down)
{
    const struct out_redis *s = sink;
    *refused = s->refused;
    *down = s->down_why;
}

void *out_redis_new(struct output *o, const struct output_config *cfg,
                    struct output_counters *c, struct sl_err *err)
{
    struct out_redis *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto nomem;
    s->o = o;
    s->c = c;
    s->component = cfg->component;
    s->mode = cfg->kind == OUTPUT_REDIS_LIST ? &out_redis_list_mode
                                             : &out_redis_stream_mode;
    s->command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : 10000;
    s->held = s->held_said_why = OUTPUT_NREASONS;
    s->max_pending = cfg->max_pending;
    s->max_bytes = cfg->max_pending_bytes;
    s->check_ms = cfg->pending_check_ms ? cfg->pending_check_ms : 1000;
    sl_backoff_init(&s->backoff, cfg->retry_min_ms ? cfg->retry_min_ms : 100,
                    cfg->retry_max_ms ? cfg->retry_max_ms : 5000, 0);
    size_t argv_max = cfg->kind == OUTPUT_REDIS_LIST
                          ? out_redis_list_argv_max(cfg->batch_events)
                          : 3 + SL_BATCH_ARGC;
    s->key = strdup(cfg->key);
    s->argv = calloc(argv_max, sizeof *s->argv);
    s->lens = calloc(argv_max, sizeof *s->lens);
    if (s->key == NULL || s->argv == NULL || s->lens == NULL)
        goto nomem;
    if (make_client(s, cfg, err) < 0)
        goto fail;
    return s;
nomem:
    sl_err_set(err, SL_ENOMEM, "output: out of memory");
fail:
    sink_free(s);
    return NULL;
}
