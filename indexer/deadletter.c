/* deadletter.c: the dead-letter writer (deadletter.h has the entry's
 * fields, the contract `dlq` reads).
 *
 * Each letter is one allocation: its argv, lengths and bytes together, so
 * a resend re-queues the same arrays. Letters wait on one list, in the
 * order added; a letter is either queued (due at due_ms) or sent (its XADD
 * outstanding). A failed XADD puts it back with a backoff shared by all
 * letters (a Redis that refuses one refuses the next too).
 *
 * Lifetime: the connection is borrowed, and its callbacks may come after
 * deadletter_free() (until the caller frees the connection, which ends them
 * with ECLOSED). So free only marks the writer closing and drops what is
 * not outstanding; the last callback frees the rest. */
#include "deadletter.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_backoff.h"
#include "sl_log.h"

/* One letter per event: KEYS[1] the stream, KEYS[2] the event's seen key
 * (the id of its letter), ARGV[1] the seen key's TTL, ARGV[2..] the
 * letter's fields. 0: the letter is still in the stream (nothing written,
 * the TTL renewed); 1: written. An XRANGE of one id is O(log n). A seen
 * key that is damaged (not a string, not an entry id) counts as none, so
 * it can never stop the letter (pcall); SET replaces it. */
#define SEEN_SCRIPT                                                            \
    "local had = redis.pcall('GET', KEYS[2])\n"                                \
    "if type(had) == 'string' then\n"                                          \
    "  local r = redis.pcall('XRANGE', KEYS[1], had, had)\n"                   \
    "  if type(r) == 'table' and r.err == nil and #r > 0 then\n"               \
    "    redis.call('EXPIRE', KEYS[2], ARGV[1])\n"                             \
    "    return 0\n"                                                           \
    "  end\n"                                                                  \
    "end\n"                                                                    \
    "local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))\n"           \
    "redis.call('SET', KEYS[2], id, 'EX', ARGV[1])\n"                          \
    "return 1\n"

struct letter {
    struct letter *next;
    struct deadletter *dl;
    deadletter_done_fn done;
    void *ctx, *tag;
    bool sent;
    int64_t due_ms;
    int argc, key_at; /* argv[key_at]: the stream */
    const char **argv;
    size_t *lens;
};

struct deadletter {
    char *key;
    char component[96];
    long long warn_at;
    int check_ms;
    struct sl_redis *r;
    struct letter *head, **tail;
    size_t outstanding; /* commands whose callback has not run */
    bool closing;
    bool over;       /* the length was past warn_at at the last check */
    bool no_scripts; /* Redis refused EVAL: plain XADDs */
    bool xlen_sent;
    int64_t next_check_ms;
    int64_t retry_at_ms; /* no send before this (backoff); 0: none */
    struct sl_backoff backoff;
    struct deadletter_stats st;
    struct sl_counter *m_written, *m_repeated;
    struct sl_gauge *m_length;
};

static void maybe_free(struct deadletter *dl)
{
    if (dl->closing && dl->outstanding == 0) {
        free(dl->key);
        free(dl);
    }
}

static void unlink_letter(struct deadletter *dl, struct letter *l)
{
    struct letter **pp = &dl->head;
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    if (dl->tail == &l->next)
        dl->tail = pp;
    dl->st.pending--;
}

/* Redis refuses the script itself (an ACL user without +eval, EVAL
 * renamed away): the stream must still take every letter, so they are
 * written with a plain XADD from then on, one per refusal. */
static bool scripts_refused(const struct letter *l,
                            const struct sl_redis_result *res)
{
    if (l->key_at != 3 || res->status != SL_REDIS_EREPLY)
        return false;
    const char *s = res->reply->str;
    return strncmp(s, "NOPERM", 6) == 0 ||
           strncmp(s, "ERR unknown command", 19) == 0;
}

/* EVAL SCRIPT 2 KEY SEEN TTL FIELDS... becomes XADD KEY * FIELDS... in
 * place. */
static void to_xadd(struct letter *l)
{
    const char *key = l->argv[3];
    size_t key_len = l->lens[3];
    l->argv += 3;
    l->lens += 3;
    l->argc -= 3;
    l->key_at = 1;
    l->argv[0] = "XADD";
    l->lens[0] = 4;
    l->argv[1] = key;
    l->lens[1] = key_len;
    l->argv[2] = "*";
    l->lens[2] = 1;
}

static void on_xadd(void *ctx, const struct sl_redis_result *res)
{
    struct letter *l = ctx;
    struct deadletter *dl = l->dl;
    dl->outstanding--;
    if (dl->closing) {
        free(l);
        maybe_free(dl);
        return;
    }
    l->sent = false;
    if (res->status == SL_REDIS_OK) {
        /* EVAL's 0: the event's letter was there already */
        bool again =
            res->reply->type == REDIS_REPLY_INTEGER && res->reply->integer == 0;
        unlink_letter(dl, l);
        if (again)
            dl->st.repeated++;
        else
            dl->st.written++;
        if (dl->m_written != NULL)
            sl_counter_inc(again ? dl->m_repeated : dl->m_written);
        sl_backoff_reset(&dl->backoff);
        if (l->done != NULL)
            l->done(l->ctx, l->tag);
        free(l);
        return;
    }
    if (scripts_refused(l, res)) {
        if (!dl->no_scripts)
            SL_WARN(dl->component,
                    "EVAL on %s: %s; dead letters are written with XADD from "
                    "now on, one per refusal of an event: allow EVAL (and "
                    "GET, XRANGE, EXPIRE, SET) to the indexer's Redis user "
                    "to keep one per event",
                    dl->key, res->reply->str);
        dl->no_scripts = true;
        to_xadd(l);
        l->due_ms = 0;
        return;
    }
    int delay = sl_backoff_next(&dl->backoff);
    SL_WARN(dl->component, "XADD %s: %s; trying again in %d ms", dl->key,
            res->status == SL_REDIS_EREPLY ? res->reply->str : res->why, delay);
    l->due_ms = sl_redis_now_ms() + delay;
    dl->retry_at_ms = l->due_ms;
    dl->st.retries++;
}

static void send_due(struct deadletter *dl, int64_t now)
{
    if (dl->retry_at_ms > now)
        return;
    dl->retry_at_ms = 0;
    for (struct letter *l = dl->head; l != NULL; l = l->next) {
        if (l->sent || l->due_ms > now)
            continue;
        struct sl_redis_cmd cmd = {l->argc, l->argv, l->lens, l->key_at, 0};
        struct sl_err err;
        if (sl_redis_command(dl->r, &cmd, on_xadd, l, &err) < 0) {
            /* The queue is full (backpressure) or memory is short: the
             * next pass tries again. */
            l->due_ms = now + 100;
            continue;
        }
        l->sent = true;
        dl->outstanding++;
    }
}

static void on_xlen(void *ctx, const struct sl_redis_result *res)
{
    struct deadletter *dl = ctx;
    dl->outstanding--;
    dl->xlen_sent = false;
    if (dl->closing) {
        maybe_free(dl);
        return;
    }
    if (res->status != SL_REDIS_OK || res->reply->type != REDIS_REPLY_INTEGER)
        return;
    long long n = res->reply->integer;
    dl->st.length = n;
    if (dl->m_length != NULL)
        sl_gauge_set(dl->m_length, (double)n);
    if (n > dl->warn_at && !dl->over)
        SL_WARN(dl->component,
                "%s holds %lld dead letters (more than %lld): see "
                "`sluice-indexer dlq list`, fix the mapping or the events, "
                "then `dlq replay`",
                dl->key, n, dl->warn_at);
    else if (n <= dl->warn_at && dl->over)
        SL_INFO(dl->component, "%s holds %lld dead letters, back under %lld",
                dl->key, n, dl->warn_at);
    dl->over = n > dl->warn_at;
}

static void check_length(struct deadletter *dl, int64_t now)
{
    if (dl->xlen_sent || now < dl->next_check_ms)
        return;
    const char *argv[] = {"XLEN", dl->key};
    struct sl_redis_cmd cmd = {2, argv, NULL, 1, 0};
    struct sl_err err;
    dl->next_check_ms = now + dl->check_ms;
    if (sl_redis_command(dl->r, &cmd, on_xlen, dl, &err) < 0)
        return;
    dl->xlen_sent = true;
    dl->outstanding++;
}

static int register_metrics(struct deadletter *dl, struct sl_metrics *m,
                            struct sl_err *err)
{
    dl->m_written = sl_metrics_counter(
        m, "sluice_dead_letters_written_total",
        "dead letters written to the dead-letter stream", err);
    if (dl->m_written == NULL)
        return -1;
    dl->m_repeated = sl_metrics_counter(
        m, "sluice_dead_letters_repeated_total",
        "dead letters not written again: their event's letter is still in "
        "the dead-letter stream",
        err);
    if (dl->m_repeated == NULL)
        return -1;
    dl->m_length = sl_metrics_gauge(
        m, "sluice_dead_letters",
        "entries in the dead-letter stream at the last check (-1: unknown)",
        err);
    if (dl->m_length == NULL)
        return -1;
    sl_gauge_set(dl->m_length, -1);
    return 0;
}

struct deadletter *deadletter_new(const struct deadletter_config *cfg,
                                  struct sl_redis *r,
                                  struct sl_metrics *metrics,
                                  struct sl_err *err)
{
    struct deadletter *dl = calloc(1, sizeof *dl);
    if (dl == NULL || (dl->key = strdup(cfg->key)) == NULL) {
        free(dl);
        sl_err_set(err, SL_ENOMEM, "dead letters: out of memory");
        return NULL;
    }
    snprintf(dl->component, sizeof dl->component, "%s",
             cfg->component != NULL ? cfg->component : "deadletter");
    dl->warn_at = cfg->warn_at;
    dl->check_ms = cfg->check_ms > 0 ? cfg->check_ms : DEADLETTER_CHECK_MS;
    dl->r = r;
    dl->tail = &dl->head;
    dl->st.length = -1;
    sl_backoff_init(&dl->backoff, 100, 5000, 0);
    if (metrics != NULL && register_metrics(dl, metrics, err) < 0) {
        free(dl->key);
        free(dl);
        return NULL;
    }
    return dl;
}

void deadletter_free(struct deadletter *dl)
{
    if (dl == NULL)
        return;
    struct letter *l = dl->head, *next;
    for (; l != NULL; l = next) {
        next = l->next;
        if (!l->sent)
            free(l); /* a sent one is freed by its callback */
    }
    dl->head = NULL;
    dl->closing = true;
    maybe_free(dl);
}

/* The decimal of v into buf, returned as a slice. */
static struct sl_slice decimal(char *buf, size_t size, long long v)
{
    int n = snprintf(buf, size, "%lld", v);
    return (struct sl_slice){buf, (size_t)n};
}

size_t deadletter_seen_key(const char *key, struct sl_slice id, char *buf,
                           size_t size)
{
    bool tagged = strchr(key, '{') != NULL;
    int n = snprintf(buf, size, "%s%s%s:seen:%.*s", tagged ? "" : "{", key,
                     tagged ? "" : "}", (int)id.len, id.ptr);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Copies the slices of head, then of pairs, into one allocation. */
static struct letter *pack(const struct sl_slice *head, size_t nh,
                           const struct sl_slice *pairs, size_t np,
                           const struct deadletter_letter *in)
{
    size_t argc = nh + np + in->nfields, bytes = 0;
    for (size_t i = 0; i < nh; i++)
        bytes += head[i].len;
    for (size_t i = 0; i < np; i++)
        bytes += pairs[i].len;
    for (size_t i = 0; i < in->nfields; i++)
        bytes += in->field_lens[i] + (i % 2 == 0 ? 6 : 0); /* "entry." */
    struct letter *l =
        malloc(sizeof *l + argc * (sizeof(char *) + sizeof(size_t)) + bytes);
    if (l == NULL)
        return NULL;
    memset(l, 0, sizeof *l);
    l->argc = (int)argc;
    l->argv = (const char **)(l + 1);
    l->lens = (size_t *)(l->argv + argc);
    char *p = (char *)(l->lens + argc);
    for (size_t i = 0; i < argc; i++) {
        struct sl_slice v;
        l->argv[i] = p;
        if (i < nh)
            v = head[i];
        else if (i < nh + np)
            v = pairs[i - nh];
        else {
            size_t f = i - nh - np;
            if (f % 2 == 0) {
                memcpy(p, "entry.", 6);
                p += 6;
            }
            v = (struct sl_slice){in->fields[f], in->field_lens[f]};
        }
        if (v.len > 0)
            memcpy(p, v.ptr, v.len);
        p += v.len;
        l->lens[i] = (size_t)(p - l->argv[i]);
    }
    return l;
}

/* Builds the command: XADD KEY * FIELDS for a whole entry (no event id),
 * else EVAL of SEEN_SCRIPT with the stream, the seen key, the TTL and the
 * same FIELDS. */
static struct letter *build(const struct deadletter *dl,
                            const struct deadletter_letter *in)
{
    char status[24], ts[24], ttl[24], seen[DEADLETTER_SEEN_KEY_MAX];
    bool entry = in->nfields > 0;
    struct sl_slice reason = in->reason;
    if (reason.len > DEADLETTER_REASON_MAX)
        reason.len = DEADLETTER_REASON_MAX;
    size_t seen_len =
        entry || in->id.len == 0 || dl->no_scripts
            ? 0
            : deadletter_seen_key(dl->key, in->id, seen, sizeof seen);
    struct sl_slice xadd[] = {SL_SLICE_LIT("XADD"), sl_slice_from(dl->key),
                              SL_SLICE_LIT("*")};
    struct sl_slice eval[] = {
        SL_SLICE_LIT("EVAL"), SL_SLICE_LIT(SEEN_SCRIPT),
        SL_SLICE_LIT("2"),    sl_slice_from(dl->key),
        {seen, seen_len},     decimal(ttl, sizeof ttl, DEADLETTER_SEEN_TTL_S)};
    struct sl_slice v[] = {SL_SLICE_LIT("v"),
                           SL_SLICE_LIT(DEADLETTER_VERSION),
                           SL_SLICE_LIT("error.type"),
                           in->error_type,
                           SL_SLICE_LIT("error.reason"),
                           reason,
                           SL_SLICE_LIT("status"),
                           decimal(status, sizeof status, in->status),
                           SL_SLICE_LIT("index"),
                           in->index,
                           SL_SLICE_LIT("id"),
                           entry ? SL_SLICE_LIT("") : in->id,
                           SL_SLICE_LIT("ts"),
                           entry || in->id.len == 0
                               ? SL_SLICE_LIT("")
                               : decimal(ts, sizeof ts, in->ts_ms),
                           SL_SLICE_LIT("source"),
                           in->source,
                           SL_SLICE_LIT("host"),
                           in->host,
                           SL_SLICE_LIT("event"),
                           entry ? SL_SLICE_LIT("") : in->event};
    size_t nv = sizeof v / sizeof v[0];
    struct letter *l =
        seen_len > 0 ? pack(eval, sizeof eval / sizeof eval[0], v, nv, in)
                     : pack(xadd, sizeof xadd / sizeof xadd[0], v, nv, in);
    if (l != NULL)
        l->key_at = seen_len > 0 ? 3 : 1;
    return l;
}

int deadletter_add(struct deadletter *dl, const struct deadletter_letter *in,
                   deadletter_done_fn done, void *ctx, void *tag,
                   struct sl_err *err)
{
    assert(in->nfields % 2 == 0);
    struct letter *l = build(dl, in);
    if (l == NULL)
        return sl_err_set(err, SL_ENOMEM, "dead letter for %s: out of memory",
                          dl->key);
    l->dl = dl;
    l->done = done;
    l->ctx = ctx;
    l->tag = tag;
    *dl->tail = l;
    dl->tail = &l->next;
    dl->st.pending++;
    send_due(dl, sl_redis_now_ms());
    return 0;
}

void deadletter_forget(struct deadletter *dl, const void *ctx)
{
    for (struct letter *l = dl->head; l != NULL; l = l->next)
        if (l->ctx == ctx)
            l->done = NULL;
}

int deadletter_timeout_ms(const struct deadletter *dl)
{
    int64_t now = sl_redis_now_ms();
    int64_t due = dl->xlen_sent ? INT64_MAX : dl->next_check_ms;
    for (const struct letter *l = dl->head; l != NULL; l = l->next)
        if (!l->sent && l->due_ms < due)
            due = l->due_ms;
    if (dl->retry_at_ms > due)
        due = dl->retry_at_ms;
    if (due <= now)
        return 0;
    return due - now > 60000 ? 60000 : (int)(due - now);
}

void deadletter_process(struct deadletter *dl)
{
    int64_t now = sl_redis_now_ms();
    send_due(dl, now);
    check_length(dl, now);
}

void deadletter_get_stats(const struct deadletter *dl,
                          struct deadletter_stats *st)
{
    *st = dl->st;
}
