/* in_redis_stream.c: the stream mode of the input (input.h): batches from
 * sluice-shipper, read in a consumer group.
 *
 * Start: XGROUP CREATE KEY GROUP 0 MKSTREAM (BUSYGROUP means it is there),
 * so a new group starts at the stream's first entry. Then the own pending
 * entries (the history: XREADGROUP ... STREAMS KEY <id>, from 0, without
 * BLOCK, which Redis ignores for history anyway) until a read returns
 * none, so a restarted indexer first finishes what it held; then new
 * entries (`>`, with BLOCK). A `>` read whose answer was lost (timeout,
 * connection dropped) may have moved entries into our pending list without
 * our seeing them, so the history is read again from 0; entries already
 * held are skipped by id. NOGROUP (the stream was deleted, or Redis came
 * back empty) makes the group again.
 *
 * Claims: every claim_idle / 2, XAUTOCLAIM walks the group's pending list
 * for entries idle at least claim_idle, whoever holds them (an indexer
 * that died; or ourselves, after a lost answer: those are skipped when
 * held, and taken back when not). Reads and claims reserve their COUNT in
 * the room, so the input never holds more than max_in_flight entries.
 *
 * Acknowledgement: XACK then XDEL of every due entry, as two pipelined
 * commands on `cmd`; both must succeed, else both are sent again (each is
 * idempotent). XDEL is what brings Redis's memory back to near zero; it
 * assumes the stream is read by this one group (a second group on the same
 * stream would lose the entries this one deleted).
 *
 * Touch: an entry held for long (Elasticsearch slow or down, so the bulk
 * side holds it) must not look dead to the other indexers. Every
 * claim_idle / 4 the held entries are claimed again by their holder
 * (XCLAIM ... JUSTID, which resets the idle time and not the delivery
 * count), with a minimum idle time of claim_idle / 8 so an entry another
 * indexer took over a moment ago is left to it. If one is taken anyway,
 * both index it; the ids make the second time 409s. */
#include "input_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_text.h"

#define FIELDS_MAX 64 /* names and values of one entry */
#define ACKS_MAX   512

int stream_init(struct input *in, struct sl_err *err)
{
    in->reader = sl_batch_reader_new(0, err);
    if (in->reader == NULL)
        return -1;
    in->history = true;
    snprintf(in->history_id, sizeof in->history_id, "0");
    snprintf(in->claim_cursor, sizeof in->claim_cursor, "0-0");
    return 0;
}

void stream_fini(struct input *in)
{
    sl_batch_reader_free(in->reader);
    in->reader = NULL;
}

/* Reads the own pending entries again from the first: after an answer
 * was lost, or an entry read could not be held. */
static void restart_history(struct input *in)
{
    in->history = true;
    snprintf(in->history_id, sizeof in->history_id, "0");
}

/* Decodes the entry's fields into a new entry: its payload is decompressed
 * straight into the entry's bytes and the slots point there, so the events
 * are written once (not decompressed into the reader, then copied) and
 * their lines walked once (the reader's check, which keeps where each line
 * is for the slots).
 * NULL with err set: SL_ENOMEM (read again later), or the entry is not a
 * valid batch. */
static struct input_entry *decode_entry(struct input *in, size_t nf,
                                        const char *const *f, const size_t *fl,
                                        struct sl_err *err)
{
    size_t raw;
    if (sl_batch_reader_decode_header(in->reader, nf, f, fl, &raw, err) < 0)
        return NULL;
    size_t n = sl_batch_reader_count(in->reader);
    struct sl_slice host = sl_batch_reader_host(in->reader);
    struct input_entry *e = input_entry_alloc(in, n, host.len + raw);
    if (e == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for an entry");
        return NULL;
    }
    char *p = (char *)(e->ev + n);
    if (host.len > 0)
        memcpy(p, host.ptr, host.len);
    e->host = (struct sl_slice){p, host.len};
    if (sl_batch_reader_decode_payload(in->reader, p + host.len, err) < 0) {
        input_entry_free(in, e);
        return NULL;
    }
    struct sl_batch_event bev;
    for (size_t i = 0; sl_batch_reader_next(in->reader, &bev) == 1; i++) {
        e->ev[i].id = bev.id;
        e->ev[i].json = bev.json;
        e->ev[i].ts_ms = bev.ts_ms;
    }
    return e;
}

static void bad_entry(struct input *in, const char *sid, const char *why,
                      size_t nf, const char *const *f, const size_t *fl)
{
    char source[INPUT_SID_MAX + 300];
    int n = snprintf(source, sizeof source, "stream %s %s", in->key, sid);
    struct sl_slice src = {source, n < (int)sizeof source ? (size_t)n
                                                          : sizeof source - 1};
    input_add_bad(in, sid, DEADLETTER_TYPE_ENTRY, why, src,
                  (struct sl_slice){"", 0}, nf, f, fl);
}

/* One [id, [field, value, ...]] of a reply. 1: a new entry is held; 0: it
 * was held already or not an entry. */
static int take_entry(struct input *in, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[0]->len >= INPUT_SID_MAX)
        return 0;
    const char *sid = r->element[0]->str;
    size_t sid_len = r->element[0]->len;
    if (input_holds(in, sid, sid_len))
        return 0;
    const redisReply *fr = r->element[1];
    if (fr->type != REDIS_REPLY_ARRAY) {
        /* Deleted while pending: nothing to index, only to acknowledge. */
        struct input_entry *e = input_entry_alloc(in, 0, 0);
        if (e == NULL)
            return 0;
        memcpy(e->sid, sid, sid_len);
        input_entry_add(in, e);
        return 1;
    }
    const char *f[FIELDS_MAX];
    size_t fl[FIELDS_MAX];
    size_t nf = fr->elements < FIELDS_MAX ? fr->elements : FIELDS_MAX;
    for (size_t i = 0; i < nf; i++) {
        bool s = fr->element[i]->type == REDIS_REPLY_STRING;
        f[i] = s ? fr->element[i]->str : "";
        fl[i] = s ? fr->element[i]->len : 0;
    }
    struct sl_err err;
    if (fr->elements > FIELDS_MAX || nf % 2 != 0) {
        bad_entry(in, sid, "more fields than a batch has, or an odd number",
                  nf - nf % 2, f, fl);
        return 1;
    }
    struct input_entry *e = decode_entry(in, nf, f, fl, &err);
    if (e == NULL) {
        if (err.status == SL_ENOMEM) {
            input_backoff(in); /* it stays pending: read again later */
            restart_history(in);
            return 0;
        }
        bad_entry(in, sid, err.msg, nf, f, fl);
        return 1;
    }
    memcpy(e->sid, sid, sid_len);
    input_count_read(in, 1, e->nevents);
    input_entry_add(in, e);
    return 1;
}

/* The entries of [[key, [entry...]]]; *last gets the last entry's id. */
static size_t take_streams(struct input *in, const redisReply *r,
                           char last[INPUT_SID_MAX], size_t *seen)
{
    size_t taken = 0;
    *seen = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return 0;
    const redisReply *s = r->element[0];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
        s->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    const redisReply *entries = s->element[1];
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        taken += (size_t)take_entry(in, e);
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
            e->element[0]->type == REDIS_REPLY_STRING &&
            e->element[0]->len < INPUT_SID_MAX) {
            memcpy(last, e->element[0]->str, e->element[0]->len);
            last[e->element[0]->len] = '\0';
        }
    }
    *seen = entries->elements;
    return taken;
}

static bool is_error(const struct sl_redis_result *res, const char *code)
{
    return res->status == SL_REDIS_EREPLY &&
           strncmp(res->reply->str, code, strlen(code)) == 0;
}

static void read_failed(struct input *in, const struct sl_redis_result *res,
                        const char *what)
{
    if (is_error(res, "NOGROUP")) {
        SL_WARN(in->component,
                "%s: group %s of %s is gone: Redis lost the stream "
                "(restarted without persistence, or the key was deleted); "
                "the entries no indexer had read are lost with it (README: "
                "Redis restarts); making the group again",
                what, in->group, in->key);
        in->group_state = 0;
        restart_history(in);
        return;
    }
    if (res->status == SL_REDIS_EREPLY) {
        SL_ERROR(in->component, "%s on %s: %s", what, in->key, res->reply->str);
        input_backoff(in);
        return;
    }
    /* Lost or late: the answer may have moved entries into our pending
     * list; read it again from the start. */
    restart_history(in);
}

static void on_read(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    if (res->status == SL_REDIS_ECLOSED)
        return;
    in->reading = false;
    in->reserved = 0;
    bool history = in->history;
    if (res->status != SL_REDIS_OK) {
        read_failed(in, res, "XREADGROUP");
        return;
    }
    sl_backoff_reset(&in->backoff);
    char last[INPUT_SID_MAX] = "";
    size_t seen = 0;
    if (res->reply->type != REDIS_REPLY_NIL)
        take_streams(in, res->reply, last, &seen);
    if (!history) {
        in->last_empty = seen == 0;
        if (seen == 0)
            input_spare_drop(in); /* idle: hold no spare memory */
        return;
    }
    if (seen > 0 && last[0] != '\0') {
        snprintf(in->history_id, sizeof in->history_id, "%s", last);
        return;
    }
    in->history = false;
    if (!in->ready) {
        in->ready = true;
        SL_INFO(in->component,
                "reading %s as %s in group %s (%zu own "
                "pending entries taken back)",
                in->key, in->consumer, in->group, in->in_flight);
    }
}

void stream_pull(struct input *in)
{
    if (in->group_state != 2)
        return;
    size_t count = input_read_entries(in);
    char cnt[24], block[24];
    snprintf(cnt, sizeof cnt, "%zu", count);
    snprintf(block, sizeof block, "%d", in->block_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", in->group,     in->consumer,
                          "COUNT",      cnt,     "BLOCK",       block,
                          "STREAMS",    in->key, in->history_id};
    if (in->history) {
        argv[6] = "STREAMS";
        argv[7] = in->key;
        argv[8] = in->history_id;
    } else {
        argv[10] = ">";
    }
    struct sl_redis_cmd cmd = {in->history ? 9 : 11, argv, NULL,
                               in->history ? 7 : 9, 0};
    struct sl_err err;
    if (sl_redis_command(in->rd, &cmd, on_read, in, &err) < 0) {
        input_backoff(in);
        return;
    }
    in->reading = true;
    in->reserved = count;
}

static void on_group(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    in->outstanding--;
    if (input_closing_done(in))
        return;
    if (res->status == SL_REDIS_OK || is_error(res, "BUSYGROUP")) {
        in->group_state = 2;
        return;
    }
    in->group_state = 0;
    if (res->status == SL_REDIS_EREPLY)
        SL_ERROR(in->component, "XGROUP CREATE %s %s: %s; %s", in->key,
                 in->group, res->reply->str,
                 is_error(res, "NOPERM")
                     ? "redis.url's user may not do it: give it the keys and "
                       "commands README lists (a Redis ACL user)"
                     : "is the key a stream?");
    input_backoff(in);
}

static void make_group(struct input *in)
{
    const char *argv[] = {"XGROUP",  "CREATE", in->key,
                          in->group, "0",      "MKSTREAM"};
    struct sl_redis_cmd cmd = {6, argv, NULL, 2, 0};
    struct sl_err err;
    if (sl_redis_command(in->cmd, &cmd, on_group, in, &err) < 0) {
        input_backoff(in);
        return;
    }
    in->outstanding++;
    in->group_state = 1;
}

struct claim {
    struct input *in;
    size_t count;
};

static void on_claim(void *ctx, const struct sl_redis_result *res)
{
    struct claim *c = ctx;
    struct input *in = c->in;
    in->outstanding--;
    in->claim_reserved -= c->count;
    free(c);
    if (input_closing_done(in))
        return;
    in->claiming = false;
    int64_t now = sl_redis_now_ms();
    in->next_claim_ms = now + in->claim_idle_ms / 2;
    const redisReply *r = res->reply;
    if (res->status != SL_REDIS_OK || r->type != REDIS_REPLY_ARRAY ||
        r->elements < 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        if (res->status != SL_REDIS_OK)
            read_failed(in, res, "XAUTOCLAIM");
        return;
    }
    size_t taken = 0;
    for (size_t i = 0; i < r->element[1]->elements; i++)
        taken += (size_t)take_entry(in, r->element[1]->element[i]);
    if (taken > 0) {
        in->st.claimed += taken;
        if (in->m_claimed != NULL)
            sl_counter_add(in->m_claimed, taken);
        SL_INFO(in->component, "claimed %zu entries idle for %d ms or more",
                taken, in->claim_idle_ms);
    }
    snprintf(in->claim_cursor, sizeof in->claim_cursor, "%.*s",
             (int)r->element[0]->len, r->element[0]->str);
    if (strcmp(in->claim_cursor, "0-0") != 0)
        in->next_claim_ms = now; /* more to walk */
}

static void claim(struct input *in)
{
    size_t room = input_room(in);
    size_t count = room < in->read_count ? room : in->read_count;
    struct claim *c = malloc(sizeof *c);
    if (c == NULL)
        return;
    c->in = in;
    c->count = count;
    char idle[24], cnt[24];
    snprintf(idle, sizeof idle, "%d", in->claim_idle_ms);
    snprintf(cnt, sizeof cnt, "%zu", count);
    const char *argv[] = {"XAUTOCLAIM", in->key, in->group,
                          in->consumer, idle,    in->claim_cursor,
                          "COUNT",      cnt};
    struct sl_redis_cmd cmd = {8, argv, NULL, 1, 0};
    struct sl_err err;
    if (sl_redis_command(in->cmd, &cmd, on_claim, c, &err) < 0) {
        free(c);
        return;
    }
    in->outstanding++;
    in->claim_reserved += count;
    in->claiming = true;
}

static void on_touch(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    in->outstanding--;
    if (input_closing_done(in))
        return;
    in->touching = false;
    if (res->status == SL_REDIS_EREPLY)
        SL_WARN(in->component, "XCLAIM (keeping held entries): %s",
                res->reply->str);
}

/* Resets the idle time of the entries held (see "Touch" above). */
static void touch(struct input *in, int64_t now)
{
    in->next_touch_ms = now + in->claim_idle_ms / 4;
    size_t n = 0;
    for (const struct input_entry *e = in->head; e != NULL; e = e->next)
        n += !e->acking && n < ACKS_MAX;
    if (n == 0)
        return;
    const char **argv = malloc((n + 6) * sizeof *argv);
    if (argv == NULL)
        return;
    char idle[24];
    snprintf(idle, sizeof idle, "%d", in->claim_idle_ms / 8);
    argv[0] = "XCLAIM";
    argv[1] = in->key;
    argv[2] = in->group;
    argv[3] = in->consumer;
    argv[4] = idle;
    size_t i = 5;
    for (const struct input_entry *e = in->head; e != NULL && i < n + 5;
         e = e->next)
        if (!e->acking)
            argv[i++] = e->sid;
    argv[i++] = "JUSTID";
    struct sl_redis_cmd cmd = {(int)i, argv, NULL, 1, 0};
    struct sl_err err;
    if (sl_redis_command(in->cmd, &cmd, on_touch, in, &err) == 0) {
        in->outstanding++;
        in->touching = true;
    }
    free(argv);
}

#define PENDING_EVERY_MS 200 /* --once: XPENDING while others hold entries */

static void on_pending(void *ctx, const struct sl_redis_result *res)
{
    struct input *in = ctx;
    in->outstanding--;
    if (input_closing_done(in))
        return;
    in->pending_asking = false;
    in->next_pending_ms = sl_redis_now_ms() + PENDING_EVERY_MS;
    const redisReply *r = res->reply;
    if (res->status != SL_REDIS_OK || r->type != REDIS_REPLY_ARRAY ||
        r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER)
        return; /* asked again later; a read says what is wrong */
    long long n = r->element[0]->integer;
    in->group_drained = n == 0 && in->pending_taken == in->taken;
    if (n > 0 && !in->waiting_said) {
        in->waiting_said = true;
        SL_INFO(in->component,
                "--once: %lld entries of %s are pending for other "
                "consumers of group %s: waiting until they are "
                "acknowledged, or idle for %d ms and claimed",
                n, in->key, in->group, in->claim_idle_ms);
    }
}

/* --once, holding nothing: how many entries the group still has pending
 * (XPENDING's summary), others' included. */
static void ask_pending(struct input *in, int64_t now)
{
    const char *argv[] = {"XPENDING", in->key, in->group};
    struct sl_redis_cmd cmd = {3, argv, NULL, 1, 0};
    struct sl_err err;
    in->next_pending_ms = now + PENDING_EVERY_MS; /* if it cannot go out */
    if (sl_redis_command(in->cmd, &cmd, on_pending, in, &err) < 0)
        return;
    in->outstanding++;
    in->pending_asking = true;
    in->pending_taken = in->taken;
}

static bool pending_due(const struct input *in)
{
    return in->once && in->group_state == 2 && in->ready && !in->history &&
           in->in_flight == 0 && in->last_empty && !in->claiming &&
           !in->pending_asking;
}

void stream_tick(struct input *in, int64_t now)
{
    if (in->group_state == 0)
        make_group(in);
    if (in->group_state == 2 && in->ready && !in->touching &&
        now >= in->next_touch_ms)
        touch(in, now);
    if (in->group_state == 2 && in->ready && !in->claiming &&
        now >= in->next_claim_ms && input_room(in) > 0)
        claim(in);
    if (pending_due(in) && now >= in->next_pending_ms)
        ask_pending(in, now);
}

int64_t stream_due(const struct input *in)
{
    int64_t due = 0;
    if (in->group_state == 2 && in->ready && !in->claiming)
        due = in->next_claim_ms > 0 ? in->next_claim_ms : 1;
    if (in->group_state == 2 && in->ready && !in->touching &&
        in->head != NULL && (due == 0 || in->next_touch_ms < due))
        due = in->next_touch_ms > 0 ? in->next_touch_ms : 1;
    if (pending_due(in) && (due == 0 || in->next_pending_ms < due))
        due = in->next_pending_ms > 0 ? in->next_pending_ms : 1;
    return due;
}

struct ack {
    struct input *in;
    int calls;
    bool failed;
    size_t n;
    struct input_entry *e[];
};

static void on_ack(void *ctx, const struct sl_redis_result *res)
{
    struct ack *a = ctx;
    struct input *in = a->in;
    in->outstanding--;
    if (res->status != SL_REDIS_OK)
        a->failed = true;
    if (--a->calls > 0)
        return;
    if (!input_closing_done(in)) {
        if (a->failed) {
            SL_WARN(in->component,
                    "XACK/XDEL of %zu entries: %s; trying "
                    "again",
                    a->n,
                    res->status == SL_REDIS_EREPLY ? res->reply->str
                    : res->why != NULL             ? res->why
                                                   : "failed");
            input_ack_failed(in, a->e, a->n);
        } else {
            for (size_t i = 0; i < a->n; i++)
                input_entry_release(in, a->e[i]);
        }
    }
    free(a);
}

void stream_send_acks(struct input *in)
{
    size_t n = in->acks_due < ACKS_MAX ? in->acks_due : ACKS_MAX;
    struct ack *a = malloc(sizeof *a + n * sizeof a->e[0]);
    const char **argv = malloc((n + 3) * sizeof *argv);
    if (a == NULL || argv == NULL)
        goto fail;
    a->in = in;
    a->n = 0;
    a->failed = false;
    for (struct input_entry *e = in->head; e != NULL && a->n < n; e = e->next) {
        if (!e->ack_due)
            continue;
        e->ack_due = false;
        e->acking = true;
        a->e[a->n] = e;
        argv[3 + a->n++] = e->sid;
    }
    in->acks_due -= a->n;
    argv[0] = "XACK";
    argv[1] = in->key;
    argv[2] = in->group;
    struct sl_redis_cmd xack = {(int)(3 + a->n), argv, NULL, 1, 0};
    struct sl_err err;
    if (sl_redis_command(in->cmd, &xack, on_ack, a, &err) < 0) {
        input_ack_failed(in, a->e, a->n);
        goto fail;
    }
    in->outstanding++;
    a->calls = 1;
    argv[1] = "XDEL";
    argv[2] = in->key;
    struct sl_redis_cmd xdel = {(int)(2 + a->n), argv + 1, NULL, 1, 0};
    if (sl_redis_command(in->cmd, &xdel, on_ack, a, &err) < 0)
        a->failed = true; /* the XACK's answer sends both again */
    else {
        in->outstanding++;
        a->calls++;
    }
    free(argv);
    return;
fail:
    free(a);
    free(argv);
    input_backoff(in);
}
