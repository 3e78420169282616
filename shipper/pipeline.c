/* pipeline.c: a source's framing and its events' way to the output (see
 * pipeline.h).
 *
 * A source's stages, pulled from the output's end: the event multiline
 * (or container_log) hands out is built, processed, written and committed
 * while the output has room; then a record waiting in container_log goes
 * into multiline; then the line held from line_reader goes into
 * container_log; then the next line is taken from line_reader. Each stage
 * keeps what it holds until the next accepts it, so a drain can stop
 * anywhere and resume. At the end of a source's bytes the line_reader's
 * last line, container_log's open record and multiline's open event are
 * completed, in that order, each after the stage before it is empty.
 *
 * Slots: the mark's source handle is an index into an array of slots
 * (key, newest identity), reused only once every event committed under
 * it was acknowledged: events are numbered as they commit, batches are
 * acknowledged in seal order, so the acknowledged count is the number of
 * the last acknowledged event.
 *
 * Cuts (registry.h): a file's multiline event completed by the clock or
 * a flush, or its container record a flush completed (a split line whose
 * rest did not come in PARTIAL_WAIT_MS, or the end), is recorded in the
 * registry (its key, the cut's offset) when it is first peeked, and goes
 * into the batch being filled (a record: into multiline, whose event is
 * then cut there too, so that one offset list says where both stages
 * cut; a multiline cut is where a record ended, so repeating it in
 * container_log changes nothing), which the output
 * then holds unsealed, so unsent, with every later batch (output_hold),
 * until the loop says a save put the cut on disk (pipeline_set_cuts_saved
 * releases it). Reading goes on meanwhile; only the sending waits, one
 * save (a few ms; about 35 ms with 100,000 entries) per quiet period of a
 * file whose last event was open. The way not taken: the event held in
 * its joiner until the save, the drain saying "full"; a source that holds
 * a chunk cannot be fed another and in_file may hand out that file's next
 * one, so no file could be read meanwhile. That is still the way when a
 * cut cannot be recorded (REGISTRY_MAX_CUTS wait for their acks). A
 * source made for a file resumes with the cuts its key has past where it
 * starts, and repeats each before the first line at or past it: in
 * container_log (container_log_flush, when a record is open) and in
 * multiline (multiline_cut). */
#include "pipeline_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"
#include "record_meta.h"
#include "sl_clock.h"
#include "sl_log.h"

#define EVENT_ARENA_BLOCK (64 * 1024)
#define EVENT_ARENA_MAX   ((size_t)64 << 20) /* one event, at most */
#define META_CAP          64
#define NO_SLOT           UINT32_MAX
/* A split container line whose next part has not come for this long is
 * complete as it is: the runtime writes a line's parts at once, so the
 * rest is never coming (a container that stopped mid-line: Docker's last
 * "log" without "\n", a CRI "P" with no "F"). */
#define PARTIAL_WAIT_MS 5000

struct slot {
    uint64_t key;
    struct file_identity id;
    bool file;     /* acks go to the registry */
    bool has_id;   /* a chunk was fed */
    uint64_t last; /* number of the last event committed under it */
    /* the done offset after a dropped event no later event carries: the
     * registry takes it once every event before it is acknowledged */
    uint64_t drop_off;
};

struct pipeline {
    struct output *out;
    struct registry *reg;
    struct sl_arena *arena;
    struct sl_event ev;
    struct slot *slots;
    size_t nslots, capslots;
    /* released slots in the order they were released (a queue from
     * freed[freed_head]): the oldest is the first whose events are all
     * acknowledged, so a new source takes it or a new slot, in O(1). A
     * walk of every slot for a free one cost a first start over 20,000
     * files a quarter of its CPU. */
    uint32_t *freed;
    size_t nfreed, freed_head, capfreed;
    uint64_t committed, acked; /* events, numbered from 1 */
    size_t ndrops;             /* slots with a drop_off */
    int64_t read_ms;           /* the time read: the wall clock at a drain */
    struct pipe_src *head;     /* every live source */
    size_t nsrcs;
    /* the sources with something to drain, oldest first: a drain visits
     * them, not every source (10,000 files, a few of them written) */
    struct pipe_src *work_head, *work_tail;
    /* the sources whose multiline event waits for its timeout: the
     * deadline and the tick visit them, not every source (10,000 quiet
     * files with a preset spent 76 CPU-s an hour walking them) */
    struct pipe_src *timed;
    struct sl_counter *lines, *events, *dropped, *rejected, *truncated,
        *invalid, *cuts_full_n, *halves;
    struct sl_counter own[8]; /* the counters when no registry is given */
    /* cuts up to this number are on disk; until the loop first says so
     * (cuts_durable), cuts are neither recorded nor waited for. The output
     * is held while a cut up to hold_seq is not. */
    uint64_t cuts_saved, hold_seq;
    bool cuts_durable;
    bool cuts_full; /* REGISTRY_MAX_CUTS wait for acks: said, not again */
};

struct pipe_src {
    struct pipeline *p;
    struct pipe_input *in;
    struct pipe_src *prev, *next;
    struct pipe_src *wprev, *wnext; /* in the work list, while work */
    struct pipe_src *tprev, *tnext; /* in the timed list, while timed */
    uint32_t slot;
    uint64_t base;    /* file offset of line_reader's offset 0 */
    int64_t mtime_ms; /* of the newest chunk; INT64_MAX: none */
    char *path;       /* files: the path events carry */
    struct event_source es;
    struct line_reader *lr;
    struct container_log *cl;
    struct multiline *ml; /* NULL: no multiline */
    struct record_meta_queue *rq;
    struct multiline_line line;          /* taken from lr, not yet in cl */
    enum container_log_stream ml_stream; /* of the last record in ml */
    bool held;
    unsigned holds;    /* pipe_src_hold_clock's reasons held: no deadline */
    bool work;         /* something may be drained: in the work list */
    bool timed;        /* a deadline (multiline's, or a split line's) */
    int64_t part_ms;   /* the open container record's last part came; or
                          INT64_MAX: none open, or flushed */
    bool ending, soft; /* end, flush asked */
    bool lr_done, cl_done, ml_done, over; /* end steps taken */
    bool half;    /* the end is a truncation's: a last line is half a line */
    bool in_line; /* the last drain left a line's first bytes in lr */
    bool fed;     /* bytes came since the last drain */
    uint64_t holes_said; /* line_reader_hole_bytes() last logged */
    /* the cuts to repeat (registry_cuts at the start: a restart): in
     * multiline from cuts[icut] on, in container_log from cuts[icut_cl]
     * on; NULL for most sources */
    uint64_t *cuts;
    uint32_t ncuts, icut, icut_cl; /* at most REGISTRY_MAX_CUTS */
    uint64_t cut_at, cut_seq;      /* the last cut recorded, and its number */
};

static void work_add(struct pipe_src *s)
{
    struct pipeline *p = s->p;
    if (s->work)
        return;
    s->work = true;
    s->wprev = p->work_tail;
    s->wnext = NULL;
    if (p->work_tail != NULL)
        p->work_tail->wnext = s;
    else
        p->work_head = s;
    p->work_tail = s;
}

static void work_remove(struct pipe_src *s)
{
    struct pipeline *p = s->p;
    if (!s->work)
        return;
    s->work = false;
    if (s->wprev != NULL)
        s->wprev->wnext = s->wnext;
    else
        p->work_head = s->wnext;
    if (s->wnext != NULL)
        s->wnext->wprev = s->wprev;
    else
        p->work_tail = s->wprev;
    s->wprev = s->wnext = NULL;
}

/* s into the timed list or out of it. */
static void timer_set(struct pipe_src *s, bool timed)
{
    struct pipeline *p = s->p;
    if (timed == s->timed)
        return;
    s->timed = timed;
    if (timed) {
        s->tprev = NULL;
        s->tnext = p->timed;
        if (p->timed != NULL)
            p->timed->tprev = s;
        p->timed = s;
        return;
    }
    if (s->tprev != NULL)
        s->tprev->tnext = s->tnext;
    else
        p->timed = s->tnext;
    if (s->tnext != NULL)
        s->tnext->tprev = s->tprev;
    s->tprev = s->tnext = NULL;
}

/* When the open multi-line event times out. While a line is being
 * written (the line reader holds its first bytes), its clock counts from
 * that line's last bytes (pipe_src_drain touches it): the line may be the
 * event's next one, as a traceback's exception line a block-buffered
 * stdout cut in two. Not for ever: a writer that died in the middle of a
 * line (killed, or a job that printed a prompt and hangs) leaves it
 * unfinished for good, and the event before it, often the last words
 * before a crash, goes out a timeout after those bytes, without them. */
static uint64_t ml_deadline(const struct pipe_src *s)
{
    return s->ml == NULL ? UINT64_MAX : multiline_next_deadline(s->ml);
}

/* The source's earliest deadline: its multiline's, or the one of its
 * open container record (PARTIAL_WAIT_MS after its last part); INT64_MAX
 * none. */
static int64_t src_deadline(const struct pipe_src *s)
{
    int64_t t = INT64_MAX;
    if (s->holds != 0)
        return t;
    if (s->part_ms != INT64_MAX && container_log_open(s->cl))
        t = s->part_ms + PARTIAL_WAIT_MS;
    uint64_t d = ml_deadline(s);
    if (d != UINT64_MAX && (int64_t)d < t)
        t = (int64_t)d;
    return t;
}

/* s in the timed list while it has a deadline. That moves only in a drain
 * (lines pushed, events popped, a flush) and after a tick (which asks for
 * a drain), so the end of each drain says. */
static void timer_update(struct pipe_src *s)
{
    timer_set(s, src_deadline(s) != INT64_MAX);
}

static struct sl_counter *counter(struct sl_metrics *m, const char *name,
                                  const char *help, struct sl_counter *dflt,
                                  struct sl_err *err)
{
    if (m == NULL)
        return dflt;
    return sl_metrics_counter(m, name, help, err);
}

struct pipeline *pipeline_new(struct output *o, struct registry *reg,
                              struct sl_metrics *m, struct sl_err *err)
{
    struct pipeline *p = calloc(1, sizeof *p);
    if (p == NULL || (p->arena = sl_arena_new(EVENT_ARENA_BLOCK)) == NULL) {
        free(p);
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    sl_arena_set_limit(p->arena, EVENT_ARENA_MAX);
    sl_event_init(&p->ev, p->arena);
    p->out = o;
    p->reg = reg;
    struct sl_counter *c = p->own;
    if ((p->lines = counter(m, "sluice_shipper_lines_total",
                            "lines read from the inputs", &c[0], err)) ==
            NULL ||
        (p->events = counter(m, "sluice_shipper_events_total",
                             "events handed to the output", &c[1], err)) ==
            NULL ||
        (p->dropped = counter(m, "sluice_shipper_events_dropped_total",
                              "events a drop processor discarded", &c[2],
                              err)) == NULL ||
        (p->rejected =
             counter(m, "sluice_shipper_events_rejected_total",
                     "events that could not be built or were too large "
                     "for a batch (logged)",
                     &c[3], err)) == NULL ||
        (p->truncated = counter(m, "sluice_shipper_truncated_total",
                                "events cut at a line or event limit", &c[4],
                                err)) == NULL ||
        (p->invalid = counter(
             m, "sluice_shipper_container_parse_failures_total",
             "lines that were not the input's format", &c[5], err)) == NULL ||
        (p->cuts_full_n = counter(
             m, "sluice_shipper_cuts_full_total",
             "times reading stopped because 4096 events cut by a timeout "
             "or a flush waited for Redis's acks (logged)",
             &c[6], err)) == NULL ||
        (p->halves =
             counter(m, "sluice_shipper_half_lines_dropped_total",
                     "unfinished lines of files copytruncate emptied, dropped: "
                     "their rest is in a copy the input does not read (logged)",
                     &c[7], err)) == NULL) {
        pipeline_free(p);
        return NULL;
    }
    return p;
}

void pipeline_free(struct pipeline *p)
{
    if (p == NULL)
        return;
    while (p->head != NULL)
        pipe_src_free(p->head);
    sl_arena_free(p->arena);
    free(p->slots);
    free(p->freed);
    free(p);
}

/* ---- slots ---------------------------------------------------------- */

static uint32_t slot_take(struct pipeline *p, bool file, uint64_t key)
{
    size_t i = p->nslots;
    if (p->freed_head < p->nfreed &&
        p->slots[p->freed[p->freed_head]].last <= p->acked)
        i = p->freed[p->freed_head++];
    if (i == p->nslots) {
        if (p->nslots >= NO_SLOT - 1)
            return NO_SLOT;
        if (p->nslots == p->capslots) {
            size_t cap = p->capslots == 0 ? 16 : p->capslots * 2;
            struct slot *s = realloc(p->slots, cap * sizeof *s);
            if (s == NULL)
                return NO_SLOT;
            p->slots = s;
            p->capslots = cap;
        }
        p->nslots++;
    } else if (p->slots[i].drop_off != 0) {
        p->ndrops--; /* reused: its drop is moot, the file is gone */
    }
    memset(&p->slots[i], 0, sizeof p->slots[i]);
    p->slots[i].file = file;
    p->slots[i].key = key;
    return (uint32_t)i;
}

/* Queues slot i for reuse once its events are acknowledged (without
 * memory for the queue it is not reused: a slot's few bytes). */
static void slot_release(struct pipeline *p, uint32_t i)
{
    if (p->freed_head > 0 && p->freed_head * 2 >= p->nfreed) {
        memmove(p->freed, p->freed + p->freed_head,
                (p->nfreed - p->freed_head) * sizeof *p->freed);
        p->nfreed -= p->freed_head;
        p->freed_head = 0;
    }
    if (p->nfreed == p->capfreed) {
        size_t cap = p->capfreed == 0 ? 16 : p->capfreed * 2;
        uint32_t *f = realloc(p->freed, cap * sizeof *f);
        if (f == NULL)
            return;
        p->freed = f;
        p->capfreed = cap;
    }
    p->freed[p->nfreed++] = i;
}

static size_t ack_slot(struct pipeline *p, const struct slot *s,
                       uint64_t offset, int64_t wall_s)
{
    if (!s->file || !s->has_id || p->reg == NULL)
        return 0;
    struct sl_err err = {0};
    int rc = registry_ack(p->reg, &s->id, s->key, NULL, offset, wall_s, &err);
    if (rc < 0)
        SL_ERROR("registry", "%s", err.msg);
    return rc > 0 ? 1 : 0; /* 0: a late ack on a replaced file */
}

size_t pipeline_ack(struct pipeline *p, const struct output_ack *a,
                    int64_t wall_s)
{
    size_t moved = 0;
    p->acked += a->events;
    for (size_t i = 0; i < a->nmarks; i++)
        if (a->marks[i].source < p->nslots)
            moved += ack_slot(p, &p->slots[a->marks[i].source],
                              a->marks[i].offset, wall_s);
    return moved;
}

size_t pipeline_settle(struct pipeline *p, int64_t wall_s)
{
    size_t moved = 0;
    for (size_t i = 0; p->ndrops > 0 && i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        if (s->drop_off == 0 || s->last > p->acked)
            continue;
        moved += ack_slot(p, s, s->drop_off, wall_s);
        s->drop_off = 0;
        p->ndrops--;
    }
    return moved;
}

/* ---- sources -------------------------------------------------------- */

static struct pipe_src *src_new(struct pipeline *p, struct pipe_input *pi,
                                bool file, uint64_t key, struct sl_err *err)
{
    struct pipe_src *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto nomem;
    s->p = p;
    s->in = pi;
    s->slot = NO_SLOT;
    s->mtime_ms = INT64_MAX;
    s->part_ms = INT64_MAX;
    size_t max = pi->max_line;
    s->lr = line_reader_new(container_log_line_limit(pi->format, max));
    s->cl = container_log_new(pi->format, max, err);
    if (s->lr == NULL || s->cl == NULL)
        goto nomem;
    line_reader_skip_holes(s->lr);
    if (pi->ml_rules != NULL) {
        s->ml = multiline_new_shared(pi->ml_rules, err);
        if (s->ml == NULL)
            goto nomem;
    }
    /* plain lines carry no time, stream or invalid flag: no queue (2 KiB
     * a file), their events get record_meta_take's defaults */
    if (pi->ml_rules != NULL && pi->format != CONTAINER_LOG_LINES &&
        (s->rq = record_meta_queue_new(META_CAP, err)) == NULL)
        goto nomem;
    s->slot = slot_take(p, file, key);
    if (s->slot == NO_SLOT)
        goto nomem;
    s->next = p->head;
    if (p->head != NULL)
        p->head->prev = s;
    p->head = s;
    p->nsrcs++;
    return s;
nomem:
    pipe_src_free(s);
    sl_err_set(err, SL_ENOMEM, "out of memory starting a source");
    return NULL;
}

/* The cuts of key past base, to be repeated (a restart). */
static int src_cuts(struct pipe_src *s, uint64_t key, uint64_t base,
                    struct sl_err *err)
{
    size_t n = registry_cuts(s->p->reg, key, base, NULL, 0);
    if (n == 0)
        return 0;
    s->cuts = malloc(n * sizeof *s->cuts);
    if (s->cuts == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory starting a source");
    s->ncuts = (uint32_t)registry_cuts(s->p->reg, key, base, s->cuts, n);
    return 0;
}

struct pipe_src *pipe_src_new_file(struct pipeline *p, struct pipe_input *pi,
                                   uint64_t key, const char *path,
                                   uint64_t base, struct sl_err *err)
{
    struct pipe_src *s = src_new(p, pi, true, key, err);
    if (s == NULL)
        return NULL;
    s->base = base;
    s->path = strdup(path);
    if (s->path == NULL) {
        pipe_src_free(s);
        sl_err_set(err, SL_ENOMEM, "out of memory starting a source");
        return NULL;
    }
    event_source_file(&s->es, pi->base, key, s->path);
    bool cuts = s->ml != NULL || pi->format != CONTAINER_LOG_LINES;
    if (cuts && p->reg != NULL && src_cuts(s, key, base, err) < 0) {
        pipe_src_free(s);
        return NULL;
    }
    return s;
}

struct pipe_src *pipe_src_new_stdin(struct pipeline *p, struct pipe_input *pi,
                                    int64_t start_ms, struct sl_err *err)
{
    struct pipe_src *s = src_new(p, pi, false, 0, err);
    if (s != NULL)
        event_source_stdin(&s->es, pi->base, start_ms);
    return s;
}

void pipe_src_free(struct pipe_src *s)
{
    if (s == NULL)
        return;
    struct pipeline *p = s->p;
    if (s->slot != NO_SLOT) {
        slot_release(p, s->slot);
        if (s->prev != NULL)
            s->prev->next = s->next;
        else
            p->head = s->next;
        if (s->next != NULL)
            s->next->prev = s->prev;
        p->nsrcs--;
        work_remove(s);
        timer_set(s, false);
    }
    record_meta_queue_free(s->rq);
    free(s->cuts);
    multiline_free(s->ml);
    container_log_free(s->cl);
    line_reader_free(s->lr);
    free(s->path);
    free(s);
}

int pipe_src_feed(struct pipe_src *s, const char *data, size_t len,
                  const struct file_identity *id, const char *path,
                  int64_t mtime_ms, struct sl_err *err)
{
    s->mtime_ms = mtime_ms;
    struct slot *sl = &s->p->slots[s->slot];
    if (id != NULL) {
        sl->id = *id;
        sl->has_id = true;
    }
    if (path != NULL && s->path != NULL && strcmp(path, s->path) != 0) {
        char *copy = strdup(path); /* a rename: later events say so */
        if (copy == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        free(s->path);
        s->path = copy;
        s->es.path = copy;
        s->es.path_len = strlen(copy);
    }
    work_add(s);
    if (len > 0)
        s->fed = true;
    return line_reader_feed(s->lr, data, len, err);
}

void pipe_src_end(struct pipe_src *s)
{
    s->ending = true;
    work_add(s);
}

void pipe_src_end_truncated(struct pipe_src *s)
{
    s->half = true;
    pipe_src_end(s);
}

void pipe_src_flush(struct pipe_src *s)
{
    s->soft = true;
    work_add(s);
}

void pipe_src_hold_clock(struct pipe_src *s, enum pipe_hold why, bool hold,
                         int64_t now_ms)
{
    unsigned was = s->holds;
    if (hold)
        s->holds |= 1u << why;
    else
        s->holds &= ~(1u << why);
    if (was != 0 && s->holds == 0) { /* the last reason let go */
        if (s->ml != NULL && now_ms > 0)
            multiline_touch(s->ml, (uint64_t)now_ms);
        if (s->part_ms != INT64_MAX && now_ms > s->part_ms)
            s->part_ms = now_ms;
    }
    timer_update(s);
}

bool pipe_src_finished(const struct pipe_src *s)
{
    return s->over;
}

size_t pipe_src_multiline_memory(const struct pipe_src *s)
{
    return s->ml != NULL ? multiline_memory(s->ml) : 0;
}

/* ---- events --------------------------------------------------------- */

static uint64_t done_offset(const struct pipe_src *s)
{
    return s->ml != NULL ? multiline_done_offset(s->ml)
                         : container_log_done_offset(s->cl);
}

static void pop(struct pipe_src *s)
{
    if (s->ml != NULL)
        multiline_pop(s->ml);
    else
        container_log_pop(s->cl);
}

/* The log component of a source: "input:file:PATH", "input:stdin". */
static void src_component(const struct pipe_src *s, char *comp, size_t size)
{
    if (s->path != NULL)
        snprintf(comp, size, "input:file:%s", s->path);
    else
        snprintf(comp, size, "input:stdin");
}

/* An event that could not be shipped: said with its source and offset. */
static void refused(const struct pipe_src *s, uint64_t offset,
                    const struct sl_err *e)
{
    char comp[256];
    src_component(s, comp, sizeof comp);
    SL_WARN(comp, "the event at offset %" PRIu64 " was not shipped: %s", offset,
            e->msg);
    sl_counter_inc(s->p->rejected);
}

/* An event whose JSON does not fit a batch (OUTPUT_EVENT_MAX) is not
 * dropped: it is built again from the record with its message cut to
 * CUT_MESSAGE_MAX bytes (whose JSON, escapes and all, fits), without the
 * processors (their captures are what made it large), and tagged
 * _truncated. The same offset gives it the same id. 0, or -1 with e
 * set. */
#define CUT_MESSAGE_MAX ((size_t)1 << 20)

static int write_cut(struct pipe_src *s, const struct event_base_record *r,
                     int64_t *ts, struct sl_err *e)
{
    struct pipeline *p = s->p;
    struct event_base_record cut = *r;
    struct event_meta meta;
    if (cut.message.len > CUT_MESSAGE_MAX)
        cut.message.len = CUT_MESSAGE_MAX;
    cut.truncated = true;
    sl_arena_reset(p->arena);
    if (event_base_build(s->in->base, &s->es, &cut, p->read_ms, &p->ev, &meta,
                         e) < 0)
        return -1;
    *ts = meta.ts_ms;
    if (output_add_event(p->out, meta.id, SL_EVENT_ID_LEN, *ts, &p->ev, e) < 0)
        return -1;
    sl_counter_inc(p->truncated);
    return 0;
}

/* Builds, processes, writes and commits the event of r, then pops it
 * (its text is no longer needed once written). Events that cannot be
 * built or committed are logged and counted, and their offset passed. */
static int emit(struct pipe_src *s, const struct event_base_record *r,
                struct sl_err *err)
{
    struct pipeline *p = s->p;
    struct event_meta meta;
    struct sl_err e; /* not = {0}: zeroing its 512 bytes was 0.6% */
    e.status = SL_OK;
    e.msg[0] = '\0';
    sl_arena_reset(p->arena);
    if (event_base_build(s->in->base, &s->es, r, p->read_ms, &p->ev, &meta,
                         &e) < 0) {
        refused(s, r->offset, &e);
        pop(s);
        return 0;
    }
    if (r->truncated)
        sl_counter_inc(p->truncated);
    if (r->invalid)
        sl_counter_inc(p->invalid);
    int64_t ts = meta.ts_ms;
    if (proc_chain_run(s->in->chain, &p->ev, &ts) == PROC_DROP) {
        sl_counter_inc(p->dropped);
        pop(s);
        struct slot *sl = &p->slots[s->slot];
        p->ndrops += sl->drop_off == 0;
        sl->drop_off = done_offset(s); /* > 0: past the dropped event */
        return 0;
    }
    int rc = output_add_event(p->out, meta.id, SL_EVENT_ID_LEN, ts, &p->ev, &e);
    if (rc < 0 && e.status == SL_ELIMIT && output_has_room(p->out))
        rc = write_cut(s, r, &ts, &e);
    if (rc < 0) {
        refused(s, r->offset, &e);
        pop(s);
        return e.status == SL_ENOMEM ? sl_err_set(err, SL_ENOMEM, "%s", e.msg)
                                     : 0;
    }
    pop(s);
    struct output_mark mark = {s->slot, done_offset(s)};
    if (output_commit(p->out, &mark, &e) < 0) {
        refused(s, r->offset, &e);
        return 0;
    }
    struct slot *sl = &p->slots[s->slot];
    sl->last = ++p->committed;
    if (sl->drop_off != 0) { /* this event's mark carries it */
        sl->drop_off = 0;
        p->ndrops--;
    }
    sl_counter_inc(p->events);
    return 0;
}

/* A cut that could not be recorded: the event waits. The cap said once
 * (and counted) until a cut is recorded again, in words; other errors
 * (out of memory) each time. */
static void cut_refused(struct pipe_src *s, uint64_t at, const struct sl_err *e)
{
    struct pipeline *p = s->p;
    char comp[256];
    if (e->status != SL_ELIMIT) {
        src_component(s, comp, sizeof comp);
        SL_WARN(comp, "the event cut at offset %" PRIu64 " waits: %s", at,
                e->msg);
        return;
    }
    if (p->cuts_full)
        return;
    p->cuts_full = true;
    sl_counter_inc(p->cuts_full_n);
    SL_WARN("registry",
            "%d events completed by multiline.timeout, a flush or the wait "
            "for a split container line's rest are not acknowledged by "
            "Redis yet: no file is read until some are (each is kept in the "
            "registry until then, so a restart cuts there too); the "
            "output's or the registry's messages say why they wait",
            REGISTRY_MAX_CUTS);
}

/* Records the cut at of the event s is about to emit (once), and holds
 * the output until it is on disk. true: the event must wait, the cut
 * could not be recorded (REGISTRY_MAX_CUTS wait for acks); tried again at
 * the next drain. */
static bool cut_waits(struct pipe_src *s, uint64_t at)
{
    struct pipeline *p = s->p;
    const struct slot *sl = &p->slots[s->slot];
    if (!sl->file || p->reg == NULL || !p->cuts_durable)
        return false;
    if (s->cut_at != at) {
        struct sl_err e = {0};
        uint64_t seq;
        if (registry_cut_add(p->reg, sl->key, at, &seq, &e) < 0) {
            cut_refused(s, at, &e);
            return true;
        }
        if (p->cuts_full) {
            p->cuts_full = false;
            SL_INFO("registry", "events cut by a timeout or a flush are "
                                "acknowledged again: reading goes on");
        }
        s->cut_at = at;
        s->cut_seq = seq;
    }
    if (s->cut_seq > p->cuts_saved) {
        output_hold(p->out);
        if (s->cut_seq > p->hold_seq)
            p->hold_seq = s->cut_seq;
    }
    return false;
}

/* The last stage's events, while the output has room: 1 when it has none
 * left and an event waits (or its cut could not be recorded), 0 when none
 * waits. */
static int emit_ready(struct pipe_src *s, struct sl_err *err)
{
    struct output *o = s->p->out;
    if (s->ml != NULL) {
        struct multiline_event ev;
        while (multiline_peek(s->ml, &ev)) {
            if (!output_has_room(o) || (ev.cut != 0 && cut_waits(s, ev.cut)))
                return 1;
            struct record_meta m = {ev.offset, CONTAINER_LOG_NO_TIME,
                                    CONTAINER_LOG_STREAM_NONE, false};
            if (s->rq != NULL)
                record_meta_take(s->rq, ev.offset, ev.end, &m);
            struct event_base_record r = event_base_record_joined(&ev, &m);
            if (emit(s, &r, err) < 0)
                return -1;
        }
        return 0;
    }
    struct container_log_record rec;
    while (container_log_peek(s->cl, &rec)) {
        if (!output_has_room(o) || (rec.cut != 0 && cut_waits(s, rec.cut)))
            return 1;
        struct event_base_record r = event_base_record_from(&rec);
        if (emit(s, &r, err) < 0)
            return -1;
    }
    return 0;
}

/* NUL bytes line_reader skipped before the line just taken: said once a
 * hole, with what it usually means. */
static void hole_said(struct pipe_src *s)
{
    char comp[256];
    uint64_t n = line_reader_hole_bytes(s->lr) - s->holes_said;
    s->holes_said += n;
    src_component(s, comp, sizeof comp);
    SL_WARN(comp,
            "skipped %" PRIu64 " NUL bytes before offset %" PRIu64
            ": a hole, as a file truncated while its writer kept its "
            "offset reads (copytruncate, and a writer not in append "
            "mode: open its log with O_APPEND, or rotate by renaming); "
            "the lines after it are read",
            n, s->line.offset);
}

/* A source that starts with UTF-16's byte order mark (Windows tools,
 * PowerShell's redirections, some .NET writers): its lines are cut at
 * the byte "\n", so its events hold a NUL every other byte; said once
 * when its first line is read, with what to do. */
static void utf16_said(const struct pipe_src *s)
{
    const unsigned char *p = (const unsigned char *)s->line.ptr;
    if (s->line.offset != 0 || s->line.len < 2 ||
        !((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
        return;
    char comp[256];
    src_component(s, comp, sizeof comp);
    SL_WARN(comp,
            "it starts with a UTF-16 byte order mark: it is read as UTF-8, "
            "so its events hold NUL bytes and garbled text; convert it "
            "(iconv -f UTF-16 -t UTF-8) or have its writer write UTF-8");
}

/* The unterminated last line of a file copytruncate emptied, its rest in
 * a copy not read: dropped, said once. */
static void half_dropped(const struct pipe_src *s, size_t len)
{
    sl_counter_inc(s->p->halves);
    char comp[256];
    src_component(s, comp, sizeof comp);
    SL_WARN(comp,
            "dropped %zu bytes of an unfinished line at offset %" PRIu64
            ": the file was truncated (copytruncate) before its newline "
            "was written, and the line's rest is in the copy, which this "
            "input does not read; make `paths` match the rotated copies "
            "(app.log*) to have such lines read whole from the copy",
            len, s->base + line_reader_line_offset(s->lr));
}

/* The next line out of line_reader, held until container_log takes it. */
static bool take_line(struct pipe_src *s)
{
    struct sl_slice l;
    bool cut;
    if (line_reader_next(s->lr, &l, &cut) != 1) {
        if (!s->ending || s->lr_done)
            return false;
        s->lr_done = true;
        if (line_reader_finish(s->lr, &l, &cut) != 1)
            return false;
        if (s->half && !cut) {
            half_dropped(s, l.len);
            return false;
        }
    }
    s->line = (struct multiline_line){
        l.ptr, l.len, s->base + line_reader_line_offset(s->lr),
        s->base + line_reader_line_end(s->lr), cut};
    s->held = true;
    if (line_reader_hole_bytes(s->lr) != s->holes_said)
        hole_said(s);
    utf16_said(s);
    return true;
}

/* Whether s's file changed within multiline.timeout of now_ms (wall
 * clock; the newest chunk's mtime): a line left unfinished longer than
 * that is taken for abandoned. A source with no mtime (stdin): true. */
static bool written_lately(const struct pipe_src *s, int64_t now_ms)
{
    uint64_t t = multiline_timeout_ms(s->ml);
    if (s->mtime_ms == INT64_MAX || t == 0)
        return true;
    return now_ms - s->mtime_ms < (int64_t)t;
}

/* Nothing is left in line_reader: the end steps, one at a time. false
 * when there is none left to take (drained for now, or over). */
static bool end_step(struct pipe_src *s)
{
    if (!s->ending && !s->soft)
        return false;
    if (!s->cl_done) {
        s->cl_done = true;
        container_log_flush(s->cl);
        return true;
    }
    /* --once's end (soft) with a line still being written (its file
     * changed within multiline.timeout): the open multi-line event waits
     * for it, as that line does (the registry stops before the event),
     * since it may be the event's own next line: a traceback's exception
     * line without its newline yet. Flushed, the event went out without
     * it, tagged _tracebackparsefailure, and the line came as an event of
     * its own at the next run. A line left unfinished for longer is
     * taken for abandoned, as the daemon's timeout does (ml_deadline). */
    if (s->ml != NULL && !s->ml_done &&
        (s->ending || !line_reader_in_line(s->lr) ||
         !written_lately(s, sl_clock_wall_ms()))) {
        s->ml_done = true;
        multiline_flush(s->ml);
        return true;
    }
    if (s->ending)
        s->over = true;
    return false;
}

/* A restart's cut of container_log before the held line, as the first
 * read's flush made it (container_log.h): true when it flushed, so the
 * line waits for the record's pull. */
static bool cl_cut_again(struct pipe_src *s)
{
    if (s->icut_cl >= s->ncuts || s->line.offset < s->cuts[s->icut_cl])
        return false;
    while (s->icut_cl < s->ncuts && s->cuts[s->icut_cl] <= s->line.offset)
        s->icut_cl++;
    if (!container_log_open(s->cl))
        return false;
    container_log_flush(s->cl);
    return true;
}

static int drain(struct pipe_src *s, int64_t now_ms, struct sl_err *err)
{
    int64_t now = sl_clock_wall_ms(); /* one clock read a chunk */
    s->p->read_ms = s->mtime_ms < now ? s->mtime_ms : now;
    /* held: lines read before the hold, or read now that reading goes on
     * again (the time it stopped is no writer's pause: their push must
     * not find the open event timed out) */
    if (s->holds != 0 && s->ml != NULL)
        multiline_touch(s->ml, (uint64_t)now_ms);
    for (;;) {
        int rc = emit_ready(s, err);
        if (rc != 0)
            return rc;
        struct container_log_record rec;
        if (s->ml != NULL && container_log_peek(s->cl, &rec)) {
            /* a record of the other stream ends the open event: a stderr
             * traceback never joins the stdout line above it. Not a cut
             * (registry.h): a read again ends it there too */
            if (rec.stream != s->ml_stream) {
                multiline_end(s->ml);
                s->ml_stream = rec.stream;
            }
            struct multiline_line l = container_log_as_line(&rec);
            if (s->icut < s->ncuts && l.offset >= s->cuts[s->icut]) {
                multiline_cut(s->ml); /* as the first read did */
                while (s->icut < s->ncuts && s->cuts[s->icut] <= l.offset)
                    s->icut++;
                continue;
            }
            /* a record a flush cut is a cut of the events too (below) */
            if (rec.cut != 0 && cut_waits(s, rec.cut))
                return 1;
            if (multiline_push(s->ml, &l, (uint64_t)now_ms)) {
                if (s->rq != NULL)
                    record_meta_push(s->rq, &rec);
                container_log_pop(s->cl);
                if (rec.cut != 0)
                    multiline_cut(s->ml);
            }
            continue;
        }
        if (s->held || take_line(s)) {
            if (cl_cut_again(s))
                continue;
            if (container_log_push(s->cl, &s->line)) {
                s->part_ms = now_ms;
                s->held = false;
                sl_counter_inc(s->p->lines);
            }
            continue;
        }
        if (!end_step(s)) {
            work_remove(s);
            if (s->ml != NULL) /* drained: what is empty goes back */
                multiline_trim(s->ml);
            return 0;
        }
    }
}

int pipe_src_drain(struct pipe_src *s, int64_t now_ms, struct sl_err *err)
{
    bool fed = s->fed;
    s->fed = false;
    int rc = drain(s, now_ms, err);
    s->in_line = line_reader_in_line(s->lr);
    /* a line is being written and got bytes now: the open event's timeout
     * counts from them (ml_deadline) */
    if (s->in_line && fed && s->ml != NULL)
        multiline_touch(s->ml, (uint64_t)now_ms);
    timer_update(s);
    return rc;
}

/* ---- every source --------------------------------------------------- */

int pipeline_drain(struct pipeline *p, int64_t now_ms, struct sl_err *err)
{
    struct pipe_src *s = p->work_head, *next;
    for (; s != NULL; s = next) {
        next = s->wnext;
        int rc = pipe_src_drain(s, now_ms, err);
        if (rc != 0)
            return rc;
        if (s->over)
            pipe_src_free(s); /* ended: detached from its input */
    }
    return 0;
}

void pipeline_flush(struct pipeline *p)
{
    for (struct pipe_src *s = p->head; s != NULL; s = s->next)
        pipe_src_flush(s);
}

int64_t pipeline_deadline(const struct pipeline *p)
{
    int64_t t = INT64_MAX;
    for (const struct pipe_src *s = p->timed; s != NULL; s = s->tnext) {
        int64_t d = src_deadline(s);
        if (d < t)
            t = d;
    }
    return t;
}

void pipeline_tick(struct pipeline *p, int64_t now_ms)
{
    for (struct pipe_src *s = p->timed; s != NULL; s = s->tnext) {
        if (s->part_ms != INT64_MAX && container_log_open(s->cl) &&
            s->part_ms + PARTIAL_WAIT_MS <= now_ms) {
            s->part_ms = INT64_MAX; /* until the next part */
            container_log_flush(s->cl);
            work_add(s);
        }
        uint64_t d = ml_deadline(s);
        if (d != UINT64_MAX && (int64_t)d <= now_ms) {
            multiline_tick(s->ml, (uint64_t)now_ms);
            work_add(s);
        }
    }
}

size_t pipeline_sources(const struct pipeline *p)
{
    return p->nsrcs;
}

void pipeline_set_cuts_saved(struct pipeline *p, uint64_t cuts)
{
    p->cuts_durable = true;
    if (cuts > p->cuts_saved)
        p->cuts_saved = cuts;
    if (p->hold_seq != 0 && p->cuts_saved >= p->hold_seq) {
        p->hold_seq = 0;
        output_release(p->out);
    }
}
