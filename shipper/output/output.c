/* output.c: the output's front (output.h): events into the batch being
 * filled, seals by count, bytes, sources and age, the outbox of sealed
 * batches, and acknowledgements handed back in seal order.
 *
 * The outbox is a ring of max_in_flight slots: head is the oldest batch
 * whose acknowledgement the pipeline has not taken, used the number of
 * sealed batches. A slot is handed to the sink at its seal and comes back
 * through output_batch_done(), in any order; output_next_ack() only ever
 * gives out the head, so the marks come back in seal order.
 *
 * One batch writer (sl_batch) is filled; a seal copies the entry it makes
 * (compressed in stream mode: a sixth to a tenth of the payload) into the
 * slot and resets the writer. So memory is one writer's payload plus the
 * entries as sent, not max_in_flight payloads. The copy costs about 20 us
 * per 2000-event batch, against 1.5 ms of compression.
 *
 * output_begin() refuses when there is no room, so a commit that fills the
 * batch always finds a free slot to seal into (begin saw one, nothing took
 * it since). The age seal needs a free slot too: a batch that is due while
 * the outbox is full waits for one. */
#include "output_priv.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "shipper_config.h"
#include "sl_log.h"
#include "sl_redis_conn.h"

struct output {
    struct output_config cfg;
    char component[64];
    struct sl_batch_writer *w;
    /* stdout: where each committed event's JSON starts and its line ends
     * in the writer's payload (batch_events of them), so the seal copies
     * the JSON lines without looking for them */
    struct span {
        size_t json, end;
    } * spans;
    size_t json_at; /* of the open event */
    bool open;      /* an event between begin and commit */
    bool added;     /* the open event is in the writer's batch already */
    bool flushing;  /* seal the batch as soon as a slot is free */
    bool held;      /* output_hold: no seal until output_release */
    int64_t first_at;
    size_t nmarks;
    struct output_mark marks[OUTPUT_MARKS_MAX];
    struct output_batch *slots;
    size_t nslots, head, used;
    uint64_t seq;
    const struct output_sink_ops *ops;
    void *sink;
    struct sl_metrics *own; /* when the caller gave no registry */
    struct output_counters c;
};

void output_config_defaults(struct output_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->batch_events = 2000;
    cfg->batch_bytes = (size_t)2 << 20;
    cfg->batch_age_ms = 1000;
    cfg->max_in_flight = 4;
    cfg->codec = SL_CODEC_LZ4;
    cfg->codec_level = 0;
    cfg->command_timeout_ms = 10000;
    cfg->max_pending = 0;
    cfg->max_pending_bytes = 0;
    cfg->pending_check_ms = 1000;
    cfg->retry_min_ms = 100;
    cfg->retry_max_ms = 5000;
}

void output_config_from(struct output_config *cfg,
                        const struct shipper_config *sc)
{
    const struct shipper_redis_output *r = &sc->output.redis;
    output_config_defaults(cfg);
    cfg->host = sc->host.name;
    cfg->fd = 1;
    if (!sc->output.has_redis) {
        cfg->kind = OUTPUT_STDOUT;
        cfg->batch_bytes = OUTPUT_STDOUT_BATCH_BYTES;
        return;
    }
    cfg->kind =
        r->mode == SL_REDIS_LIST ? OUTPUT_REDIS_LIST : OUTPUT_REDIS_STREAM;
    cfg->url = r->url;
    cfg->key = r->key;
    cfg->batch_events = (size_t)r->batch_events;
    cfg->batch_bytes = (size_t)r->batch_bytes;
    cfg->batch_age_ms = (int)r->batch_age_ms;
    cfg->codec = (enum sl_codec)r->codec;
    cfg->max_in_flight = (size_t)r->max_in_flight;
    cfg->command_timeout_ms = (int)r->command_timeout_ms;
    cfg->max_pending = r->max_pending;
    cfg->max_pending_bytes = r->max_pending_bytes;
}

void output_line_json(const char *payload, size_t len, size_t at, size_t *json,
                      size_t *end)
{
    const char *stop = payload + len;
    const char *p = memchr(payload + at, ' ', (size_t)(stop - payload) - at);
    p = memchr(p + 1, ' ', (size_t)(stop - p - 1));
    *json = (size_t)(p + 1 - payload);
    const char *nl = memchr(p + 1, '\n', (size_t)(stop - p - 1));
    *end = (size_t)(nl + 1 - payload);
}

const char *const output_reason_names[OUTPUT_NREASONS + 1] = {
    "oom",     "noauth", "wrongpass",  "noperm",    "readonly", "misconf",
    "loading", "busy",   "masterdown", "wrongtype", "other",    NULL};

static int check_config(const struct output_config *c, struct sl_err *err)
{
    if (c->batch_events < 1 || c->batch_events > 1000000 ||
        c->batch_bytes < 1 || c->batch_bytes > SL_BATCH_RAW_MAX / 2 ||
        c->batch_age_ms < 1 || c->max_in_flight < 1 ||
        c->max_in_flight > 1024 || c->max_pending < 0 ||
        c->max_pending_bytes < 0 || c->command_timeout_ms < 0 ||
        c->pending_check_ms < 0 || c->retry_min_ms < 0 || c->retry_max_ms < 0)
        return sl_err_set(err, SL_EINVAL,
                          "output: a batch setting or limit is out of range "
                          "(events 1..1000000, bytes 1..512MiB, age and "
                          "in-flight at least 1)");
    if (c->kind != OUTPUT_STDOUT &&
        (c->url == NULL || c->key == NULL || c->key[0] == '\0'))
        return sl_err_set(err, SL_EINVAL,
                          "output: Redis needs a url and a key");
    return 0;
}

static int register_counters(struct output *o, struct sl_metrics *m,
                             struct sl_err *err)
{
    static const char *const reason[] = {"reason", NULL};
    struct output_counters *c = &o->c;
#define COUNTER(f, name, help)                                                 \
    if ((c->f = sl_metrics_counter(m, name, help, err)) == NULL)               \
        return -1;
#define GAUGE(f, name, help)                                                   \
    if ((c->f = sl_metrics_gauge(m, name, help, err)) == NULL)                 \
        return -1;
    COUNTER(events, "sluice_output_events_total",
            "events the output delivered (Redis accepted them, or they were "
            "written)")
    COUNTER(batches, "sluice_output_batches_total",
            "batches the output delivered")
    COUNTER(bytes, "sluice_output_bytes_total",
            "payload bytes of the delivered batches, as sent (compressed)")
    COUNTER(retries, "sluice_output_retries_total",
            "Redis commands of batches sent again after a failure")
    COUNTER(holds, "sluice_output_holds_total",
            "times Redis refused batches with an error reply and reading "
            "stopped until it accepted them")
    COUNTER(pending_holds, "sluice_output_pending_holds_total",
            "times the key reached max_pending or max_pending_bytes and "
            "reading stopped")
    COUNTER(disconnects, "sluice_output_disconnects_total",
            "times Redis could not be reached (lost, refused, login "
            "refused) and reading stopped until it could")
    GAUGE(pending, "sluice_output_pending",
          "entries (stream) or events (list) in the key at the last check; "
          "-1 before the first, and always when max_pending and "
          "max_pending_bytes are 0 (not checked)")
    GAUGE(pending_bytes, "sluice_output_pending_bytes",
          "bytes the key uses in Redis at the last check (MEMORY USAGE); "
          "-1 before the first, and always when max_pending_bytes is 0 "
          "(not checked)")
    GAUGE(outbox, "sluice_output_outbox_batches",
          "sealed batches not yet acknowledged")
#undef COUNTER
#undef GAUGE
    struct sl_metric_family *f = sl_metrics_family(
        m, SL_METRIC_COUNTER, "sluice_output_error_replies_total",
        "error replies Redis gave to batches or to the login, by reason "
        "(oom, noauth, wrongpass, readonly, misconf, ...)",
        reason, err);
    if (f == NULL)
        return -1;
    for (int i = 0; i < OUTPUT_NREASONS; i++) {
        const char *v[] = {output_reason_names[i]};
        if ((c->errors[i] = sl_family_counter(f, v, err)) == NULL)
            return -1;
    }
    sl_gauge_set(c->pending, -1);
    sl_gauge_set(c->pending_bytes, -1);
    return 0;
}

static int make_slots(struct output *o, struct sl_err *err)
{
    o->nslots = o->cfg.max_in_flight;
    o->slots = calloc(o->nslots, sizeof *o->slots);
    if (o->slots == NULL)
        return sl_err_set(err, SL_ENOMEM, "output: out of memory");
    size_t max = o->cfg.batch_bytes + OUTPUT_EVENT_MAX + 4096;
    for (size_t i = 0; i < o->nslots; i++)
        sl_buf_init(&o->slots[i].data, max);
    return 0;
}

struct output *output_new(const struct output_config *cfg, struct sl_metrics *m,
                          struct sl_err *err)
{
    if (check_config(cfg, err) < 0)
        return NULL;
    struct output *o = calloc(1, sizeof *o);
    if (o == NULL) {
        sl_err_set(err, SL_ENOMEM, "output: out of memory");
        return NULL;
    }
    o->cfg = *cfg;
    bool redis = cfg->kind != OUTPUT_STDOUT;
    snprintf(o->component, sizeof o->component, "%s",
             cfg->component != NULL ? cfg->component
             : redis                ? "output:redis"
                                    : "output:stdout");
    o->cfg.component = o->component;
    if (m == NULL && (m = o->own = sl_metrics_new()) == NULL) {
        sl_err_set(err, SL_ENOMEM, "output: out of memory");
        goto fail;
    }
    if (register_counters(o, m, err) < 0 || make_slots(o, err) < 0)
        goto fail;
    if (!redis &&
        (o->spans = calloc(cfg->batch_events, sizeof *o->spans)) == NULL) {
        sl_err_set(err, SL_ENOMEM, "output: out of memory");
        goto fail;
    }
    bool stream = cfg->kind == OUTPUT_REDIS_STREAM;
    /* zstd 1, not zstd's 3: 1% larger for 25% less CPU (bench/RESULTS.md) */
    int level = cfg->codec == SL_CODEC_ZSTD && cfg->codec_level == 0
                    ? 1
                    : cfg->codec_level;
    o->w = sl_batch_writer_new(
        cfg->host != NULL ? cfg->host : "", stream ? cfg->codec : SL_CODEC_NONE,
        stream ? level : 0, cfg->batch_bytes + OUTPUT_EVENT_MAX, err);
    if (o->w == NULL)
        goto fail;
    o->ops = redis ? &out_redis_ops : &out_stdout_ops;
    o->sink = redis ? out_redis_new(o, &o->cfg, &o->c, err)
                    : out_stdout_new(o, &o->cfg, err);
    if (o->sink == NULL)
        goto fail;
    return o;
fail:
    output_free(o);
    return NULL;
}

void output_free(struct output *o)
{
    if (o == NULL)
        return;
    if (o->sink != NULL)
        o->ops->free(o->sink);
    for (size_t i = 0; o->slots != NULL && i < o->nslots; i++)
        sl_buf_release(&o->slots[i].data);
    free(o->slots);
    free(o->spans);
    sl_batch_writer_free(o->w);
    sl_metrics_free(o->own);
    free(o);
}

static bool batch_full(const struct output *o);

bool output_has_room(const struct output *o)
{
    return o->used < o->nslots && !(o->held && batch_full(o)) &&
           o->ops->has_room(o->sink);
}

static bool batch_full(const struct output *o)
{
    return sl_batch_writer_count(o->w) >= o->cfg.batch_events ||
           sl_batch_writer_bytes(o->w) >= o->cfg.batch_bytes ||
           o->nmarks == OUTPUT_MARKS_MAX;
}

static void seal_if_due(struct output *o, bool full);

/* Whether an event may start: none open, room, a batch not full. */
static int can_start(struct output *o, struct sl_err *err)
{
    if (o->open)
        return sl_err_set(err, SL_EINVAL,
                          "output: an event is already open; commit or roll "
                          "it back first");
    if (!output_has_room(o))
        return sl_err_set(err, SL_ELIMIT,
                          "output: no room for an event; ask "
                          "output_has_room() before reading");
    if (batch_full(o)) { /* its seal failed at the commit: once more */
        seal_if_due(o, true);
        if (batch_full(o))
            return sl_err_set(err, SL_ENOMEM,
                              "output: the full batch could not be sealed "
                              "(out of memory); try again later");
    }
    return 0;
}

struct sl_buf *output_begin(struct output *o, const char *id, size_t id_len,
                            int64_t ts_ms, struct sl_err *err)
{
    if (can_start(o, err) < 0)
        return NULL;
    struct sl_buf *b = sl_batch_writer_begin(o->w, id, id_len, ts_ms, err);
    o->open = b != NULL;
    if (b != NULL)
        o->json_at = b->len;
    return b;
}

int output_add_event(struct output *o, const char *id, size_t id_len,
                     int64_t ts_ms, const struct sl_event *ev,
                     struct sl_err *err)
{
    if (o->cfg.kind != OUTPUT_REDIS_STREAM) {
        struct sl_buf *b = output_begin(o, id, id_len, ts_ms, err);
        if (b == NULL)
            return -1;
        if (sl_event_write_json(ev, b, err) < 0) {
            output_rollback(o);
            return -1;
        }
        return 0;
    }
    if (can_start(o, err) < 0 ||
        sl_batch_writer_add_event(o->w, id, id_len, ts_ms, ev, err) < 0)
        return -1;
    o->open = true;
    o->added = true;
    return 0;
}

void output_rollback(struct output *o)
{
    /* an event added whole stays: output_add_event's contract is a commit
     * after it */
    assert(!o->added);
    if (o->open && !o->added)
        sl_batch_writer_rollback(o->w);
    o->open = o->added;
}

static void keep_mark(struct output *o, const struct output_mark *mark)
{
    for (size_t i = o->nmarks; i > 0; i--)
        if (o->marks[i - 1].source == mark->source) {
            o->marks[i - 1].offset = mark->offset;
            return;
        }
    o->marks[o->nmarks++] = *mark;
}

/* stdout: the batch's JSON lines written from the writer's payload
 * straight away (writev of the spans) when nothing is queued before them;
 * the bytes written. A regular file, a terminal or /dev/null takes them
 * all, and the batch needs no copy. */
static size_t write_through(struct output *o, const char *p, size_t count)
{
    struct iovec iov[256];
    size_t total = 0;
    for (size_t i = 0; i < count;) {
        int n = 0;
        size_t want = 0;
        for (; i < count && n < 256; i++, n++) {
            const struct span *sp = &o->spans[i];
            iov[n].iov_base = (void *)(p + sp->json);
            iov[n].iov_len = sp->end - sp->json;
            want += iov[n].iov_len;
        }
        size_t w = out_stdout_write_now(o->sink, iov, n);
        total += w;
        if (w < want)
            break;
    }
    return total;
}

/* stdout: the payload's "TS ID JSON\n" lines as "JSON\n" lines, those the
 * descriptor did not take at once copied into the slot (the prefixes left
 * out, the lines found by their spans, not searched for); the bytes of
 * all of them in *all. The entry's other values are not needed: argv stays
 * empty. Room is reserved before anything is written, so a batch is never
 * written twice. */
static int copy_json_lines(struct output *o, struct output_batch *b,
                           const char *p, size_t len, size_t *all,
                           struct sl_err *err)
{
    if (sl_buf_reserve(&b->data, len, err) < 0)
        return -1;
    char *out = b->data.ptr;
    size_t n = 0, count = sl_batch_writer_count(o->w);
    size_t skip = write_through(o, p, count);
    *all = 0;
    for (size_t i = 0; i < count; i++) {
        const struct span *sp = &o->spans[i];
        size_t l = sp->end - sp->json, from = 0;
        *all += l;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        from = skip;
        skip = 0;
        memcpy(out + n, p + sp->json + from, l - from);
        n += l - from;
    }
    b->data.len = n;
    out[n] = '\0';
    memset(b->argv, 0, sizeof b->argv);
    memset(b->argvlen, 0, sizeof b->argvlen);
    b->payload = out;
    b->payload_len = n;
    return 0;
}

/* The entry's values one after the other in b->data; argv points there. */
static int copy_entry(struct output_batch *b, const char **argv,
                      const size_t *lens, struct sl_err *err)
{
    size_t at[SL_BATCH_ARGC];
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        at[i] = b->data.len;
        if (sl_buf_append(&b->data, argv[i], lens[i], err) < 0)
            return -1;
    }
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        b->argv[i] = b->data.ptr + at[i];
        b->argvlen[i] = lens[i];
    }
    b->payload = b->data.ptr + at[SL_BATCH_ARGC - 1];
    b->payload_len = lens[SL_BATCH_ARGC - 1];
    return 0;
}

/* Copies the sealed entry into the next free slot and hands it over. */
static int seal(struct output *o, struct sl_err *err)
{
    const char **argv;
    const size_t *lens;
    struct output_batch *b = &o->slots[(o->head + o->used) % o->nslots];
    if (sl_batch_writer_seal(o->w, &argv, &lens, err) < 0)
        return -1;
    sl_buf_reset(&b->data);
    const int last = SL_BATCH_ARGC - 1;
    size_t all = lens[last];
    if (o->cfg.kind == OUTPUT_STDOUT
            ? copy_json_lines(o, b, argv[last], lens[last], &all, err) < 0
            : copy_entry(b, argv, lens, err) < 0)
        return -1;
    b->bytes = all; /* stdout: the JSON lines, written now or later */
    b->events = sl_batch_writer_count(o->w);
    b->seq = o->seq++;
    b->done = false;
    b->nchunks = 0;
    b->written = 0;
    b->next = NULL;
    b->nmarks = o->nmarks;
    memcpy(b->marks, o->marks, o->nmarks * sizeof o->marks[0]);
    sl_batch_writer_reset(o->w);
    o->nmarks = 0;
    o->flushing = false;
    o->used++;
    sl_gauge_set(o->c.outbox, (double)o->used);
    SL_DEBUG(o->component, "batch %llu sealed: %zu events, %zu bytes",
             (unsigned long long)b->seq, b->events, b->bytes);
    o->ops->take(o->sink, b);
    return 0;
}

/* Seals when due and a slot is free; a failure (out of memory) is logged
 * and the batch kept, to be tried again at the next pass. */
static void seal_if_due(struct output *o, bool full)
{
    if (sl_batch_writer_count(o->w) == 0 || o->open || o->held ||
        o->used >= o->nslots)
        return;
    if (!full && !o->flushing &&
        sl_redis_now_ms() < o->first_at + o->cfg.batch_age_ms)
        return;
    struct sl_err err = {0};
    if (seal(o, &err) < 0)
        SL_ERROR(o->component, "cannot seal a batch: %s; trying again",
                 err.msg);
}

int output_commit(struct output *o, const struct output_mark *mark,
                  struct sl_err *err)
{
    if (!o->open)
        return sl_err_set(err, SL_EINVAL,
                          "output: no event to commit; call output_begin()");
    o->open = false;
    if (o->added)
        o->added = false;
    else if (sl_batch_writer_commit_json(o->w, err) < 0)
        return -1;
    size_t n = sl_batch_writer_count(o->w);
    assert(n <= o->cfg.batch_events); /* a full batch is sealed or refused */
    if (o->spans != NULL)
        o->spans[n - 1] =
            (struct span){o->json_at, sl_batch_writer_bytes(o->w)};
    if (n == 1)
        o->first_at = sl_redis_now_ms();
    keep_mark(o, mark);
    /* The age is checked here at every 64th event only (a clock read per
     * event was 2% of the shipper's time); output_process() checks it at
     * every pass of the loop, and a drain returns to the loop after each
     * chunk read. */
    bool full = batch_full(o);
    if (full || o->flushing || n % 64 == 0)
        seal_if_due(o, full);
    return 0;
}

void output_flush(struct output *o)
{
    /* on an empty batch, nothing to remember: the next batch fills as
     * usual */
    o->flushing = sl_batch_writer_count(o->w) > 0;
    seal_if_due(o, true);
}

void output_hold(struct output *o)
{
    o->held = true;
}

void output_release(struct output *o)
{
    if (!o->held)
        return;
    o->held = false;
    seal_if_due(o, batch_full(o)); /* full, flushed or aged meanwhile */
}

void output_batch_done(struct output *o, struct output_batch *b)
{
    b->done = true;
    sl_counter_add(o->c.events, b->events);
    sl_counter_inc(o->c.batches);
    sl_counter_add(o->c.bytes, b->bytes);
    SL_DEBUG(o->component, "batch %llu delivered", (unsigned long long)b->seq);
}

int output_next_ack(struct output *o, struct output_ack *ack)
{
    if (o->used == 0 || !o->slots[o->head].done)
        return 0;
    const struct output_batch *b = &o->slots[o->head];
    ack->events = b->events;
    ack->nmarks = b->nmarks;
    memcpy(ack->marks, b->marks, b->nmarks * sizeof b->marks[0]);
    o->head = (o->head + 1) % o->nslots;
    o->used--;
    sl_gauge_set(o->c.outbox, (double)o->used);
    /* a batch due while the outbox was full goes now */
    seal_if_due(o, false);
    return 1;
}

bool output_idle(const struct output *o)
{
    return !o->open && sl_batch_writer_count(o->w) == 0 && o->used == 0;
}

bool output_broken(const struct output *o)
{
    return o->ops->broken(o->sink);
}

size_t output_fill_pollfds(const struct output *o, struct pollfd *pfds,
                           size_t n)
{
    return o->ops->fill_pollfds(o->sink, pfds, n);
}

int output_timeout_ms(const struct output *o)
{
    int t = o->ops->timeout_ms(o->sink);
    if (sl_batch_writer_count(o->w) == 0 || o->open || o->held ||
        o->used >= o->nslots)
        return t;
    int64_t left =
        o->flushing ? 0 : o->first_at + o->cfg.batch_age_ms - sl_redis_now_ms();
    int mine = left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
    return t < 0 || mine < t ? mine : t;
}

void output_process(struct output *o, const struct pollfd *pfds, size_t n)
{
    seal_if_due(o, false);
    o->ops->process(o->sink, pfds, n);
}

void output_redis_said(const struct output *o, const char **refused,
                       const char **down)
{
    *refused = *down = "";
    if (o->cfg.kind != OUTPUT_STDOUT)
        out_redis_said(o->sink, refused, down);
}

void output_stats(const struct output *o, struct output_stats *out)
{
    memset(out, 0, sizeof *out);
    out->events = sl_counter_get(o->c.events);
    out->batches = sl_counter_get(o->c.batches);
    out->bytes = sl_counter_get(o->c.bytes);
    out->retries = sl_counter_get(o->c.retries);
    out->holds = sl_counter_get(o->c.holds);
    out->pending_holds = sl_counter_get(o->c.pending_holds);
    out->disconnects = sl_counter_get(o->c.disconnects);
    out->pending = (long long)sl_gauge_get(o->c.pending);
    out->ready = o->ops->ready(o->sink);
    if (o->cfg.kind != OUTPUT_STDOUT)
        out->unanswered = out_redis_unanswered(o->sink);
    for (int i = 0; i < OUTPUT_NREASONS; i++)
        out->error_replies += sl_counter_get(o->c.errors[i]);
}
