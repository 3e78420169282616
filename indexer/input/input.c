/* input.c: the part of the input both modes share (input.h has the
 * contract): the entries held, the events handed out from them in the
 * order read, resolution, dead letters, and when an entry is due for its
 * acknowledgement. How entries are read and acknowledged is the readers'
 * (in_redis_stream.c, in_redis_list.c).
 *
 * Entries live on one list in the order read; each is one allocation (its
 * event slots and the bytes they point into), made when it is read and
 * freed when Redis confirmed its acknowledgement (its block kept for the
 * next read: input_priv.h's spare): no allocation per event.
 * Acknowledgements are gathered and sent from input_process(), so the
 * entries resolved by one bulk answer go out in one pipeline.
 *
 * Lifetime: `cmd` is the caller's, and its callbacks may run after
 * input_free() (until the caller frees it, which ends them with ECLOSED).
 * So input_free() frees the entries and marks the input closing; the last
 * outstanding callback frees the shell. */
#include "input_priv.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"

/* The smallest spare block's index (nspare > 0). */
static size_t smallest_spare(const struct input *in)
{
    size_t k = 0;
    for (size_t i = 1; i < in->nspare; i++)
        if (in->spare[i]->size < in->spare[k]->size)
            k = i;
    return k;
}

/* A spare block of at least need bytes, taken out of the spares; NULL for
 * none, and then the smallest spare is freed: the entries read now are
 * larger, and a block that fits none of them would only be held. */
static struct input_entry *take_spare(struct input *in, size_t need)
{
    size_t k;
    for (size_t i = 0; i < in->nspare; i++) {
        struct input_entry *e = in->spare[i];
        if (e->size >= need) {
            in->spare[i] = in->spare[--in->nspare];
            return e;
        }
    }
    if (in->nspare > 0) {
        k = smallest_spare(in);
        free(in->spare[k]);
        in->spare[k] = in->spare[--in->nspare];
    }
    return NULL;
}

struct input_entry *input_entry_alloc(struct input *in, size_t nevents,
                                      size_t bytes)
{
    /* Only the header and the slots are zeroed: the bytes (a whole
     * decompressed batch, 1.4 MB for 2,000 events) are written over at
     * once, and zeroing them cost a memset or fresh pages each time. */
    size_t head =
        sizeof(struct input_entry) + nevents * sizeof(struct input_slot);
    size_t size = head + bytes;
    struct input_entry *e = NULL;

    /* blocks that may be kept are rounded up to INPUT_SPARE_MIN, so that
     * batches of about the same size take each other's */
    if (size >= INPUT_SPARE_MIN && size <= INPUT_SPARE_MAX) {
        size = (size + INPUT_SPARE_MIN - 1) & ~(INPUT_SPARE_MIN - 1);
        e = take_spare(in, size);
    }
    if (e != NULL) {
        size = e->size;
    } else if ((e = malloc(size)) == NULL) {
        return NULL;
    }
    memset(e, 0, head);
    e->size = size;
    e->nevents = nevents;
    e->unresolved = nevents;
    e->ev = (struct input_slot *)(void *)e->data;
    return e;
}

void input_entry_free(struct input *in, struct input_entry *e)
{
    if (e->size < INPUT_SPARE_MIN || e->size > INPUT_SPARE_MAX) {
        free(e);
        return;
    }
    if (in->nspare == INPUT_SPARE_N) {
        /* keep the larger blocks: they fit any entry the smaller fit */
        size_t k = smallest_spare(in);
        if (in->spare[k]->size >= e->size) {
            free(e);
            return;
        }
        free(in->spare[k]);
        in->spare[k] = e;
        return;
    }
    in->spare[in->nspare++] = e;
}

void input_spare_drop(struct input *in)
{
    while (in->nspare > 0)
        free(in->spare[--in->nspare]);
}

static void due_if_resolved(struct input *in, struct input_entry *e)
{
    if (e->unresolved == 0 && !e->ack_due && !e->acking) {
        e->ack_due = true;
        in->acks_due++;
    }
}

void input_entry_add(struct input *in, struct input_entry *e)
{
    e->prev = in->tail;
    if (in->tail != NULL)
        in->tail->next = e;
    else
        in->head = e;
    in->tail = e;
    if (in->cursor == NULL)
        in->cursor = e;
    in->in_flight++;
    in->st.in_flight = in->in_flight;
    in->taken++;
    in->group_drained = false;
    due_if_resolved(in, e);
}

void input_entry_release(struct input *in, struct input_entry *e)
{
    if (in->cursor == e)
        in->cursor = e->next;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        in->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        in->tail = e->prev;
    in->in_flight--;
    in->st.in_flight = in->in_flight;
    in->st.acked++;
    if (in->m_acked != NULL)
        sl_counter_inc(in->m_acked);
    input_entry_free(in, e);
}

void input_ack_failed(struct input *in, struct input_entry *const *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        e[i]->acking = false;
        due_if_resolved(in, e[i]);
    }
    input_backoff(in);
}

bool input_holds(const struct input *in, const char *sid, size_t len)
{
    for (const struct input_entry *e = in->head; e != NULL; e = e->next)
        if (strlen(e->sid) == len && memcmp(e->sid, sid, len) == 0)
            return true;
    return false;
}

size_t input_room(const struct input *in)
{
    size_t used = in->in_flight + in->reserved + in->claim_reserved;
    return used >= in->max_in_flight ? 0 : in->max_in_flight - used;
}

void input_backoff(struct input *in)
{
    int64_t at = sl_redis_now_ms() + sl_backoff_next(&in->backoff);
    if (at > in->retry_at_ms)
        in->retry_at_ms = at;
}

void input_count_read(struct input *in, size_t entries, size_t events)
{
    in->st.entries_read += entries;
    in->st.events_read += events;
    if (in->m_entries != NULL) {
        sl_counter_add(in->m_entries, entries);
        sl_counter_add(in->m_events, events);
    }
}

/* A dead letter was written: its event (or whole entry) is resolved. */
static void on_letter(void *ctx, void *tag)
{
    struct input *in = ctx;
    struct input_entry *e = tag;
    assert(e->unresolved > 0);
    e->unresolved--;
    due_if_resolved(in, e);
}

struct input_entry *input_add_bad(struct input *in, const char *sid,
                                  const char *type, const char *reason,
                                  struct sl_slice source, struct sl_slice raw,
                                  size_t nfields, const char *const *fields,
                                  const size_t *lens)
{
    struct input_entry *e = input_entry_alloc(in, 0, raw.len);
    struct sl_err err;
    if (e == NULL) {
        input_backoff(in); /* not held: read again after the backoff */
        return NULL;
    }
    snprintf(e->sid, sizeof e->sid, "%s", sid);
    if (raw.len > 0)
        memcpy(e->data, raw.ptr, raw.len);
    e->raw = (struct sl_slice){e->data, raw.len};
    in->st.malformed++;
    if (in->m_malformed != NULL)
        sl_counter_inc(in->m_malformed);
    /* One warning per 10 s at most: a list full of bad elements is bad
     * events, and the log is never per event above debug. */
    int64_t now = sl_redis_now_ms();
    if (in->bad_logged_ms == 0 || now - in->bad_logged_ms >= 10000) {
        char more[80] = "";
        if (in->bad_quiet > 0)
            snprintf(more, sizeof more,
                     " (and %llu more since the last such "
                     "message)",
                     (unsigned long long)in->bad_quiet);
        SL_WARN(in->component, "%.*s: %s; sent to the dead letters%s",
                (int)source.len, source.ptr, reason, more);
        in->bad_logged_ms = now;
        in->bad_quiet = 0;
    } else {
        in->bad_quiet++;
        SL_DEBUG(in->component, "%.*s: %s; sent to the dead letters",
                 (int)source.len, source.ptr, reason);
    }
    struct deadletter_letter l = {.error_type = sl_slice_from(type),
                                  .reason = sl_slice_from(reason),
                                  .source = source,
                                  .event = raw,
                                  .nfields = nfields,
                                  .fields = fields,
                                  .field_lens = lens};
    e->unresolved = 1;
    if (deadletter_add(in->dl, &l, on_letter, in, e, &err) < 0) {
        input_entry_free(in, e);
        input_backoff(in);
        return NULL;
    }
    input_entry_add(in, e);
    return e;
}

static int register_metrics(struct input *in, struct sl_metrics *m,
                            struct sl_err *err)
{
    static const struct {
        size_t off;
        const char *name, *help;
    } c[] = {
        {offsetof(struct input, m_entries), "sluice_input_entries_total",
         "Redis entries (stream) or elements (list) read"},
        {offsetof(struct input, m_events), "sluice_input_events_total",
         "events read from Redis"},
        {offsetof(struct input, m_acked), "sluice_input_acked_total",
         "entries acknowledged and removed from Redis"},
        {offsetof(struct input, m_claimed), "sluice_input_claimed_total",
         "stream entries taken over from another consumer"},
        {offsetof(struct input, m_dead), "sluice_input_dead_events_total",
         "events sent to the dead-letter stream"},
        {offsetof(struct input, m_malformed), "sluice_input_malformed_total",
         "entries or elements that were not valid, sent whole to the dead "
         "letters"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct sl_counter **slot =
            (struct sl_counter **)(void *)((char *)in + c[i].off);
        *slot = sl_metrics_counter(m, c[i].name, c[i].help, err);
        if (*slot == NULL)
            return -1;
    }
    return 0;
}

static int copy_config(struct input *in, const struct indexer_redis_config *rc,
                       struct sl_err *err)
{
    in->mode = rc->mode;
    in->key = strdup(rc->key);
    in->group = strdup(rc->group);
    in->consumer = strdup(rc->consumer);
    size_t n = strlen(rc->key) + strlen(rc->consumer) + 18;
    in->proc_key = malloc(n);
    if (in->key == NULL || in->group == NULL || in->consumer == NULL ||
        in->proc_key == NULL)
        return sl_err_set(err, SL_ENOMEM, "input %s: out of memory", rc->key);
    /* The list mode's processing list: one per indexer, in the list's
     * Redis Cluster slot (in_redis_list.c). */
    const char *open = strchr(rc->key, '{');
    bool tagged = open != NULL && strchr(open + 1, '}') > open + 1;
    snprintf(in->proc_key, n,
             tagged ? "%s:processing:%s" : "{%s}:processing:%s", rc->key,
             rc->consumer);
    snprintf(in->component, sizeof in->component, "input:redis_%s:%s",
             rc->mode == SL_REDIS_STREAM ? "stream" : "list", rc->key);
    in->read_count = rc->read_count > 0 ? (size_t)rc->read_count : 1;
    in->max_in_flight = rc->max_in_flight > 0 ? (size_t)rc->max_in_flight : 1;
    in->block_ms = rc->block_ms > 0 ? (int)rc->block_ms : 1;
    in->claim_idle_ms = rc->claim_idle_ms > 0 ? (int)rc->claim_idle_ms : 1;
    return 0;
}

static void free_shell(struct input *in)
{
    free(in->key);
    free(in->group);
    free(in->consumer);
    free(in->proc_key);
    free(in);
}

struct input *input_new(const struct indexer_redis_config *rc,
                        struct sl_redis *cmd, struct deadletter *dl,
                        struct sl_metrics *metrics, struct sl_err *err)
{
    struct input *in = calloc(1, sizeof *in);
    if (in == NULL) {
        sl_err_set(err, SL_ENOMEM, "input %s: out of memory", rc->key);
        return NULL;
    }
    in->cmd = cmd;
    in->dl = dl;
    sl_backoff_init(&in->backoff, 100, 5000, 0);
    if (copy_config(in, rc, err) < 0)
        goto fail;
    /* The blocking reads' deadline: the block, plus the usual 10 s. */
    struct sl_redis_config c = {
        .url = rc->url,
        .conn = {.component = in->component,
                 .url_key = "redis.url",
                 .command_timeout_ms = in->block_ms + 10000}};
    in->rd = sl_redis_new(&c, err);
    if (in->rd == NULL)
        goto fail;
    if (metrics != NULL && register_metrics(in, metrics, err) < 0)
        goto fail;
    if ((in->mode == SL_REDIS_STREAM ? stream_init(in, err)
                                     : list_init(in, err)) < 0)
        goto fail;
    return in;
fail:
    sl_redis_free(in->rd);
    stream_fini(in);
    list_fini(in);
    free_shell(in);
    return NULL;
}

bool input_closing_done(struct input *in)
{
    if (!in->closing)
        return false;
    if (in->outstanding == 0)
        free_shell(in);
    return true;
}

void input_free(struct input *in)
{
    if (in == NULL)
        return;
    /* The own connection first: its callbacks (ECLOSED) still see a
     * whole input. */
    sl_redis_free(in->rd);
    in->rd = NULL;
    deadletter_forget(in->dl, in);
    struct input_entry *e = in->head, *next;
    for (; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    in->head = in->tail = in->cursor = NULL;
    input_spare_drop(in);
    stream_fini(in);
    list_fini(in);
    in->closing = true;
    if (in->outstanding == 0)
        free_shell(in);
}

size_t input_fill_pollfds(const struct input *in, struct pollfd *pfds, size_t n)
{
    return sl_redis_fill_pollfds(in->rd, pfds, n);
}

int input_timeout_ms(const struct input *in)
{
    int t = sl_redis_timeout_ms(in->rd);
    int64_t now = sl_redis_now_ms();
    int64_t due = in->retry_at_ms;
    if (in->mode == SL_REDIS_STREAM) {
        int64_t s = stream_due(in);
        if (s > 0 && (due == 0 || s < due))
            due = s;
    }
    if (in->acks_due > 0 && in->retry_at_ms <= now)
        return 0;
    if (due > 0) {
        int64_t left = due <= now ? 0 : due - now;
        if (left > 60000)
            left = 60000;
        if (t < 0 || left < t)
            t = (int)left;
    }
    return t;
}

void input_process(struct input *in, const struct pollfd *pfds, size_t n)
{
    sl_redis_process(in->rd, pfds, n);
    int64_t now = sl_redis_now_ms();
    if (in->retry_at_ms > now)
        return;
    in->retry_at_ms = 0;
    if (in->mode == SL_REDIS_STREAM) {
        stream_tick(in, now);
        if (in->acks_due > 0)
            stream_send_acks(in);
    } else {
        list_tick(in, now);
        if (in->acks_due > 0)
            list_send_acks(in);
    }
}

size_t input_read_entries(const struct input *in)
{
    size_t room = input_room(in);
    size_t n = room < in->read_count ? room : in->read_count;
    if (in->st.entries_read == 0 || in->want_events == 0)
        return n;
    /* Big batches: a read of read_count entries of 2,000 events held
     * 32,000 events decompressed (22 MiB) for a sender that takes 5,000 at
     * a time; sized by the mean, it holds about what was asked for. */
    uint64_t mean = in->st.events_read / in->st.entries_read;
    if (mean == 0)
        return n;
    uint64_t want = (in->want_events + mean - 1) / mean;
    return want < n ? (size_t)want : n;
}

void input_pull(struct input *in, size_t max_events)
{
    /* entries are read whole; room is counted in them */
    in->want_events = max_events;
    if (in->reading || in->retry_at_ms > sl_redis_now_ms() ||
        input_room(in) == 0)
        return;
    if (in->mode == SL_REDIS_STREAM)
        stream_pull(in);
    else
        list_pull(in);
}

int input_next(struct input *in, struct input_event *ev)
{
    struct input_entry *e = in->cursor;
    while (e != NULL && e->handed == e->nevents)
        e = e->next;
    in->cursor = e;
    if (e == NULL)
        return 0;
    const struct input_slot *s = &e->ev[e->handed];
    ev->id = s->id;
    ev->ts_ms = s->ts_ms;
    ev->json = s->json;
    ev->entry = e;
    ev->index = e->handed++;
    return 1;
}

void input_event_done(struct input *in, const struct input_event *ev)
{
    struct input_entry *e = ev->entry;
    assert(ev->index < e->handed && !e->ev[ev->index].resolved);
    e->ev[ev->index].resolved = true;
    e->unresolved--;
    due_if_resolved(in, e);
}

int input_event_dead(struct input *in, const struct input_event *ev,
                     const struct input_dead_reason *why, struct sl_err *err)
{
    struct input_entry *e = ev->entry;
    assert(ev->index < e->handed && !e->ev[ev->index].resolved);
    char source[INPUT_SID_MAX + 300];
    int n =
        in->mode == SL_REDIS_STREAM
            ? snprintf(source, sizeof source, "stream %s %s", in->key, e->sid)
            : snprintf(source, sizeof source, "list %s", in->key);
    struct deadletter_letter l = {.error_type = why->error_type,
                                  .reason = why->reason,
                                  .index = why->index,
                                  .status = why->status,
                                  .id = ev->id,
                                  .ts_ms = ev->ts_ms,
                                  .source = {source, n < (int)sizeof source
                                                         ? (size_t)n
                                                         : sizeof source - 1},
                                  .host = e->host,
                                  .event = ev->json};
    if (deadletter_add(in->dl, &l, on_letter, in, e, err) < 0)
        return -1;
    e->ev[ev->index].resolved = true; /* its letter now owns the count */
    in->st.dead_events++;
    if (in->m_dead != NULL)
        sl_counter_inc(in->m_dead);
    return 0;
}

bool input_idle(const struct input *in)
{
    /* a lost answer may have moved entries to us unseen: idle only once
     * they are read back (stream: the history; list: the processing list) */
    return in->ready && in->in_flight == 0 && in->last_empty && !in->claiming &&
           !in->history && !in->need_recover && !in->recovering &&
           (!in->once || in->mode != SL_REDIS_STREAM || in->group_drained);
}

size_t input_acks_due(const struct input *in)
{
    return in->acks_due;
}

void input_set_once(struct input *in)
{
    in->once = true;
}

size_t input_acks_in_flight(const struct input *in)
{
    size_t n = 0;
    for (const struct input_entry *e = in->head; e != NULL; e = e->next)
        n += e->acking;
    return n;
}

bool input_ready(const struct input *in)
{
    return in->ready;
}

void input_get_stats(const struct input *in, struct input_stats *st)
{
    *st = in->st;
}
