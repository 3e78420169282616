/* in_redis_list.c: the list mode of the input (input.h): one JSON event per
 * element, as Logstash's redis output (and Sluice's shipper in list mode)
 * RPUSH them; list_event.h says how an element becomes an event.
 *
 * At least once: an element is moved atomically from the list's head to
 * this indexer's processing list, PROC (LMOVE KEY PROC LEFT RIGHT), and
 * removed from there (LREM PROC 1 ELEMENT) only once resolved. PROC is
 * `{KEY}:processing:CONSUMER`, or `KEY:processing:CONSUMER` when KEY holds
 * a {hash tag} already, so both keys share a Redis Cluster slot (LMOVE
 * and the scripts below need that). An indexer killed in between leaves it in
 * PROC, where the same indexer finds it at its next start: it first reads PROC
 * back (LRANGE PROC 0 N-1) and only then moves new elements. Two indexers
 * must have two consumer names (each its own PROC); an indexer that never
 * comes back leaves its PROC for an operator (or an indexer started with
 * its name) to drain.
 *
 * Reads: while the last read brought all it asked for, a script moves up
 * to read_count elements in one command; once the list ran dry, one BLMOVE
 * waits up to the block time. Removals go the same way: one script call
 * removes the elements of every entry resolved since the last one. Why
 * scripts: with appendfsync always (DESIGN.md, guarantee 3) Redis fsyncs
 * once per batch of commands it reads (16 KiB), so 100,000 events moved
 * and removed by pipelined LMOVE and LREM took 25 s here (2,900 round
 * trips, each an fsync), against 0.5 s with appendfsync everysec. A move whose
 * answer was lost (timeout, connection dropped) may have moved an element we
 * never saw: the input then stops moving, lets everything it holds resolve and
 * be removed, and reads PROC back, where only such elements remain.
 *
 * Recovery reads PROC from index 0 one page at a time, and the next page
 * only once the previous one is resolved and removed: removals shift the
 * indexes, so reading on by offset would skip elements. In normal running
 * PROC holds at most max_in_flight elements, so one page is the rule.
 *
 * LREM removes the first element equal to ours: when two elements are
 * byte-equal either may go, which is the same (they have one _id). */
#include "input_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list_event.h"
#include "sl_log.h"

int list_init(struct input *in, struct sl_err *err)
{
    const char *iso[] = {"ISO8601"};
    in->date = sl_date_compile(iso, 1, NULL, err);
    if (in->date == NULL)
        return -1;
    in->recovering = true;
    return 0;
}

void list_fini(struct input *in)
{
    sl_date_free(in->date);
    in->date = NULL;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One element read (moved or recovered): held as a one-event entry, or
 * sent to the dead letters. */
static void take_element(struct input *in, const char *p, size_t len,
                         bool recovered)
{
    struct list_event le;
    struct sl_err err;
    char source[300];
    int sn = snprintf(source, sizeof source, "list %s", in->key);
    struct sl_slice src = {source, sn < (int)sizeof source ? (size_t)sn
                                                           : sizeof source - 1};
    if (list_event_parse(in->date, p, len, wall_ms(), &le, &err) < 0) {
        input_count_read(in, 1, 0);
        struct input_entry *e =
            input_add_bad(in, "", DEADLETTER_TYPE_EVENT, err.msg, src,
                          (struct sl_slice){p, len}, 0, NULL, NULL);
        if (e != NULL)
            e->recovered = recovered;
        else
            in->need_recover = true; /* it stays in PROC */
        return;
    }
    size_t idlen = SL_EVENT_ID_LEN;
    size_t line = list_event_line_size(&le, len); /* 0: the raw is it */
    struct input_entry *e = input_entry_alloc(in, 1, idlen + len + line);
    if (e == NULL) {
        in->need_recover = true; /* it stays in PROC */
        return;
    }
    char *d = (char *)(e->ev + 1);
    memcpy(d, le.id, idlen);
    e->ev[0].id = (struct sl_slice){d, idlen};
    d += idlen;
    memcpy(d, p, len);
    e->raw = (struct sl_slice){d, len};
    e->ev[0].json = e->raw;
    if (line > 0) /* a time added, as Logstash does; a line; ECS objects */
        e->ev[0].json = (struct sl_slice){
            d + len, list_event_copy_fixed(&le, d + len, p, len)};
    e->ev[0].ts_ms = le.ts_ms;
    e->recovered = recovered;
    input_count_read(in, 1, 1);
    input_entry_add(in, e);
}

static void on_range(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    if (res->status == SL_REDIS_ECLOSED)
        return;
    size_t asked = in->reserved;
    in->reading = false;
    in->reserved = 0;
    const redisReply *r = res->reply;
    if (res->status != SL_REDIS_OK || r->type != REDIS_REPLY_ARRAY) {
        if (res->status == SL_REDIS_EREPLY)
            SL_ERROR(in->component, "LRANGE %s: %s", in->proc_key, r->str);
        input_backoff(in);
        return;
    }
    sl_backoff_reset(&in->backoff);
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            take_element(in, r->element[i]->str, r->element[i]->len, true);
    if (r->elements >= asked)
        return; /* maybe more: the next page once these are removed */
    in->recovering = false;
    in->need_recover = false;
    if (!in->ready) {
        in->ready = true;
        SL_INFO(in->component,
                "reading %s through %s (%zu elements taken "
                "back)",
                in->key, in->proc_key, in->in_flight);
    }
}

static void recover(struct input *in)
{
    for (const struct input_entry *e = in->head; e != NULL; e = e->next)
        if (e->recovered)
            return; /* the previous page first */
    size_t room = input_room(in);
    char stop[24];
    snprintf(stop, sizeof stop, "%zu", room - 1);
    const char *argv[] = {"LRANGE", in->proc_key, "0", stop};
    struct sl_redis_cmd cmd = {4, argv, NULL, 1, 0};
    struct sl_err err;
    if (sl_redis_command(in->rd, &cmd, on_range, in, &err) < 0) {
        input_backoff(in);
        return;
    }
    in->reading = true;
    in->reserved = room;
}

/* Moves up to ARGV[1] elements in one command: one round trip and, with
 * appendfsync always, one fsync, where as many pipelined LMOVEs cost one
 * fsync per 16 KiB Redis reads of them. Atomic, as a script is. */
static const char move_script[] =
    "local out = {} "
    "for i = 1, tonumber(ARGV[1]) do "
    "local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') "
    "if not v then break end "
    "out[i] = v "
    "end "
    "return out";

static void on_move(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    if (res->status == SL_REDIS_ECLOSED)
        return;
    size_t asked = in->reserved;
    in->reserved = 0;
    in->reading = false;
    const redisReply *r = res->reply;
    in->full = false;
    if (res->status == SL_REDIS_OK && r->type == REDIS_REPLY_STRING) {
        take_element(in, r->str, r->len, false); /* BLMOVE */
        in->full = true;
    } else if (res->status == SL_REDIS_OK && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                take_element(in, r->element[i]->str, r->element[i]->len, false);
        in->full = r->elements == asked;
    }
    /* only an answer says the list ran dry: not an error (a key of
     * another type), nor a lost answer, so `run --once` goes on */
    if (res->status == SL_REDIS_OK)
        in->last_empty = !in->full;
    if (res->status == SL_REDIS_EREPLY) {
        SL_ERROR(in->component, "moving from %s to %s: %s", in->key,
                 in->proc_key, r->str);
        input_backoff(in);
    } else if (res->status != SL_REDIS_OK) {
        in->need_recover = true; /* it may have moved what we never saw */
    }
}

static void move(struct input *in)
{
    size_t room = input_room(in);
    size_t n = room < in->read_count ? room : in->read_count;
    char block[32], count[24];
    snprintf(block, sizeof block, "%d.%03d", in->block_ms / 1000,
             in->block_ms % 1000);
    snprintf(count, sizeof count, "%zu", n);
    const char *blmove[] = {"BLMOVE", in->key, in->proc_key,
                            "LEFT",   "RIGHT", block};
    const char *eval[] = {"EVAL",  move_script,  "2",
                          in->key, in->proc_key, count};
    struct sl_redis_cmd cmd = {6, in->full ? eval : blmove, NULL,
                               in->full ? 3 : 1, 0};
    struct sl_err err;
    if (sl_redis_command(in->rd, &cmd, on_move, in, &err) < 0) {
        input_backoff(in);
        return;
    }
    in->reading = true;
    in->reserved = in->full ? n : 1;
}

void list_pull(struct input *in)
{
    if (in->need_recover && in->in_flight == 0)
        in->recovering = true, in->need_recover = false;
    if (in->recovering)
        recover(in);
    else if (!in->need_recover)
        move(in);
}

void list_tick(struct input *in, int64_t now)
{
    (void)in;
    (void)now;
}

/* Removes one occurrence of each ARGV from KEYS[1]: the elements of many
 * entries in one command (one fsync), where a pipeline of LREMs costs one
 * per 16 KiB of them. */
static const char remove_script[] =
    "local n = 0 "
    "for i = 1, #ARGV do n = n + redis.call('LREM', KEYS[1], 1, ARGV[i]) end "
    "return n";

#define REMOVE_MAX 1024 /* entries per command */

struct lrem {
    struct input *in;
    size_t n;
    struct input_entry *e[];
};

static void on_lrem(void *ctx, const struct sl_redis_result *res)
{
    struct lrem *l = ctx;
    struct input *in = l->in;
    in->outstanding--;
    if (input_closing_done(in)) {
        free(l);
        return;
    }
    if (res->status == SL_REDIS_OK) {
        for (size_t i = 0; i < l->n; i++)
            input_entry_release(in, l->e[i]);
    } else {
        SL_WARN(in->component, "LREM from %s: %s; trying again", in->proc_key,
                res->status == SL_REDIS_EREPLY ? res->reply->str : res->why);
        input_ack_failed(in, l->e, l->n);
    }
    free(l);
}

void list_send_acks(struct input *in)
{
    size_t n = in->acks_due < REMOVE_MAX ? in->acks_due : REMOVE_MAX;
    struct lrem *l = malloc(sizeof *l + n * sizeof l->e[0]);
    const char **argv = malloc((n + 4) * sizeof *argv);
    size_t *lens = malloc((n + 4) * sizeof *lens);
    struct sl_err err;
    if (l == NULL || argv == NULL || lens == NULL)
        goto fail;
    l->in = in;
    l->n = 0;
    argv[0] = "EVAL";
    argv[1] = remove_script;
    argv[2] = "1";
    argv[3] = in->proc_key;
    for (int i = 0; i < 4; i++)
        lens[i] = strlen(argv[i]);
    for (struct input_entry *e = in->head; e != NULL && l->n < n; e = e->next) {
        if (!e->ack_due)
            continue;
        argv[4 + l->n] = e->raw.ptr;
        lens[4 + l->n] = e->raw.len;
        l->e[l->n++] = e;
    }
    struct sl_redis_cmd cmd = {(int)(4 + l->n), argv, lens, 3, 0};
    if (sl_redis_command(in->cmd, &cmd, on_lrem, l, &err) < 0)
        goto fail;
    in->outstanding++;
    for (size_t i = 0; i < l->n; i++) {
        l->e[i]->ack_due = false;
        l->e[i]->acking = true;
    }
    in->acks_due -= l->n;
    free(argv);
    free(lens);
    return;
fail:
    free(l);
    free(argv);
    free(lens);
    input_backoff(in);
}
