/* multiline.c: the joiner. Lines go in, events come out one at a time.
 *
 * Invariants:
 *   - at most one event is open; its bytes are text, text.len <= max_bytes,
 *     lines <= max_lines; a line that would pass either limit splits it:
 *     the event is complete (truncated) and the line opens its
 *     continuation (continued), so no line is dropped
 *   - at most one complete event waits (`ready`, its bytes in `out`); the
 *     work that completes the next one is done only once it is popped
 *   - what is owed, in stream order: the waiting event, the open event, the
 *     held lines, the replay lines not yet placed, the pending pushed line;
 *     done_offset() is the first line of the first of them, else the end of
 *     the last line pushed, so it never passes a line not yet popped
 *   - held lines (presets only) exist only while an event is open; they
 *     follow the open event in the stream and are in no event yet
 *
 * Pattern mode follows Filebeat's multiline (and Logstash's codec): with
 * match=after a continuation line joins the event above, so an event is
 * complete only when the next non-continuation line (or the timeout, or the
 * end) comes; with match=before a continuation line says that the *next*
 * line joins it, so an event is complete as soon as a non-continuation line
 * ends it: it is completed at once rather than on the next line, as
 * Filebeat does, for the same events with less delay. At the end of input
 * an event still waiting for its next line is completed as it is.
 *
 * Held lines (see multiline_preset.c) sit in `hold` until a later line
 * decides. Joined: they are appended like any line. Rejected: the open event
 * is completed and the held lines are decided again, in order, as new input
 * (hold and replay buffers swap, so no copy and no allocation). A rejection
 * while replaying rewinds the replay to the first line held in it; each
 * round starts with no event open, so its first line is never held again and
 * the replay ends.
 *
 * One event at a time: the work is cut into pieces (decide one replayed
 * line; complete the open event for a timeout or a flush; place the pushed
 * line; act on a tick or flush asked for while busy), each of which
 * completes at most one event. work() does the first piece left in that
 * order, which is stream order, and run() calls it only while no event
 * waits. Completing moves the open event into `out` by swapping buffers, so
 * the line that starts the next event goes straight into `text`: no copy on
 * the common path, where a record line completes the record before it. A
 * pushed line is copied (into `pend_buf`) only when the push stops before
 * placing it, after a timeout or a rejection of held lines.
 *
 * Splits: a limit completes an event where a line does not fit, so one
 * line can complete an event inside a piece of work that completes
 * another (held lines joining, a match=before line that ends its event).
 * Such a piece stops where the second would be completed: the held lines
 * not joined yet stay held with the line's verdict kept (joining), or
 * the event's end is left to a CLOSE_CUT closing, and it is done after
 * the pop, as the rest of the work is.
 *
 * Not done here: reading, time, the registry. The caller owns the clock. */
#include "multiline.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "multiline_preset.h"
#include "sl_ansi.h"
#include "sl_buf.h"

enum mode { MODE_PATTERN, MODE_PYTHON, MODE_JAVA, MODE_GO };

/* Why open events are being completed, until none is open. CLOSE_CUT: a
 * line of match=before ended the event while the event it split off
 * still waited (see push_pattern). CLOSE_END: the caller's records said
 * the event ended (multiline_end): like CLOSE_CUT, not a cut of the
 * clock's, so its events carry none. */
enum closing { CLOSE_NONE, CLOSE_TIMEOUT, CLOSE_FLUSH, CLOSE_CUT, CLOSE_END };

/* What placing a line did. */
enum placed {
    PLACED, /* the line is in the event, held, or dropped */
    REJECT, /* not placed: the held lines must be decided again first */
    WAIT    /* not placed: it joins, but an event split off by a limit
               waits to be popped first; placed again with the same
               verdict (the joiner keeps it) */
};

struct held {
    uint64_t offset, end;
    size_t pos, len; /* bytes in the lines buffer */
    bool cut;
};

/* Lines kept back, bytes and where each starts; bytes <= max_bytes. The
 * array (MULTILINE_HOLD_MAX lines) is allocated when a line is first kept
 * and freed by multiline_trim: most joiners never hold a line. */
struct lines {
    struct sl_buf bytes;
    struct held *line;
    size_t n;
};

/* The checked configuration and the compiled pattern; the joiners of one
 * input share it (see multiline_rules_new). */
struct multiline_rules {
    enum mode mode;
    bool negate, before;
    uint32_t max_lines;
    size_t max_bytes;
    uint64_t timeout_ms;
    struct grok *re; /* pattern mode */
};

struct multiline {
    enum mode mode;
    bool negate, before;
    uint32_t max_lines;
    size_t max_bytes;
    uint64_t timeout_ms;
    struct grok *re;             /* pattern mode: the rules' */
    struct multiline_rules *own; /* multiline_new's rules, else NULL */

    /* the open event */
    bool open;
    struct sl_buf text;        /* its lines joined, at most max_bytes */
    struct multiline_event ev; /* offset, end, lines, dropped, flags */
    enum ml_state st;
    char lead;        /* the first byte of its record (a split keeps it) */
    uint64_t last_ms; /* when its last line (joined or held) came */

    /* the complete event waiting to be popped; its text is in out */
    bool ready;
    struct sl_buf out;
    struct multiline_event ready_ev;

    struct lines hold, replay;
    bool hold_head;
    size_t replay_i, hold_from; /* replay position; where hold began in it */
    /* a line that joins, held lines first, stopped by a split (WAIT):
     * hold_joined of the held lines are in the event; the line's state;
     * join_after: the line starts the next event once they are in */
    bool joining, join_after;
    size_t hold_joined;
    enum ml_state join_st;

    /* work left: the pushed line not yet placed (its bytes in pend_buf
     * once the push has returned); events being closed; a tick (at
     * tick_ms) and a flush asked for while the joiner was not idle */
    bool has_pend;
    struct multiline_line pend;
    struct sl_buf pend_buf;
    enum closing closing;
    bool tick_wanted, flush_wanted, cut_wanted, end_wanted;
    uint64_t tick_ms;
    /* the closing's cut (CLOSE_TIMEOUT, CLOSE_FLUSH): last_end when it
     * began, which the events it completes carry (multiline_event.cut) */
    uint64_t cut_end;

    uint64_t last_end; /* end of the last line pushed */
    struct multiline_stats stats;
};

void multiline_config_init(struct multiline_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_lines = MULTILINE_DEFAULT_MAX_LINES;
    cfg->max_bytes = MULTILINE_DEFAULT_MAX_BYTES;
    cfg->timeout_ms = MULTILINE_DEFAULT_TIMEOUT_MS;
}

/* ---- configuration ---------------------------------------------------- */

static int check_config(const struct multiline_config *cfg, enum mode *mode,
                        bool *before, struct sl_err *err)
{
    if (cfg->preset != NULL) {
        if (strcmp(cfg->preset, "python") == 0)
            *mode = MODE_PYTHON;
        else if (strcmp(cfg->preset, "java") == 0)
            *mode = MODE_JAVA;
        else if (strcmp(cfg->preset, "go") == 0)
            *mode = MODE_GO;
        else
            return sl_err_set(err, SL_EINVAL,
                              "multiline: unknown preset '%s'; use 'python', "
                              "'java' or 'go', or a pattern",
                              cfg->preset);
        if (cfg->pattern != NULL || cfg->negate || cfg->match != NULL)
            return sl_err_set(err, SL_EINVAL,
                              "multiline: preset '%s' cannot be combined with "
                              "pattern, negate or match; remove them or the "
                              "preset",
                              cfg->preset);
    } else {
        *mode = MODE_PATTERN;
        if (cfg->pattern == NULL || cfg->pattern[0] == '\0')
            return sl_err_set(err, SL_EINVAL,
                              "multiline: no pattern; set 'pattern' (a "
                              "regular expression) or 'preset' ('python', "
                              "'java' or 'go')");
    }
    *before = false;
    if (cfg->match != NULL && strcmp(cfg->match, "before") == 0)
        *before = true;
    else if (cfg->match != NULL && strcmp(cfg->match, "after") != 0)
        return sl_err_set(err, SL_EINVAL,
                          "multiline: match is '%s'; use 'after' or 'before'",
                          cfg->match);
    if (cfg->max_lines == 0 || cfg->max_bytes == 0)
        return sl_err_set(err, SL_EINVAL,
                          "multiline: max_lines and max_bytes must be at "
                          "least 1");
    return 0;
}

static struct grok *compile_pattern(const struct multiline_config *cfg,
                                    struct sl_err *err)
{
    struct grok_library *empty = NULL;
    const struct grok_library *lib = cfg->patterns;
    if (lib == NULL && (lib = empty = grok_library_new()) == NULL) {
        sl_err_set(err, SL_ENOMEM, "multiline: out of memory");
        return NULL;
    }
    struct grok *re = grok_compile(lib, &cfg->pattern, 1, NULL, err);
    grok_library_free(empty);
    if (re == NULL)
        sl_err_prefix(err, "multiline"); /* grok's message quotes it */
    return re;
}

struct multiline_rules *multiline_rules_new(const struct multiline_config *cfg,
                                            struct sl_err *err)
{
    enum mode mode = MODE_PATTERN;
    bool before = false;
    if (check_config(cfg, &mode, &before, err) < 0)
        return NULL;
    struct multiline_rules *r = calloc(1, sizeof *r);
    if (r == NULL) {
        sl_err_set(err, SL_ENOMEM, "multiline: out of memory");
        return NULL;
    }
    *r = (struct multiline_rules){
        mode,           cfg->negate,     before, cfg->max_lines,
        cfg->max_bytes, cfg->timeout_ms, NULL};
    if (mode == MODE_PATTERN && (r->re = compile_pattern(cfg, err)) == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

void multiline_rules_free(struct multiline_rules *r)
{
    if (r == NULL)
        return;
    grok_free(r->re);
    free(r);
}

struct multiline *multiline_new_shared(const struct multiline_rules *r,
                                       struct sl_err *err)
{
    struct multiline *ml = calloc(1, sizeof *ml);
    if (ml == NULL) {
        sl_err_set(err, SL_ENOMEM, "multiline: out of memory");
        return NULL;
    }
    ml->mode = r->mode;
    ml->negate = r->negate;
    ml->before = r->before;
    ml->max_lines = r->max_lines;
    ml->max_bytes = r->max_bytes;
    ml->timeout_ms = r->timeout_ms;
    ml->re = r->re;
    sl_buf_init(&ml->text, r->max_bytes);
    sl_buf_init(&ml->out, r->max_bytes);
    sl_buf_init(&ml->pend_buf, r->max_bytes);
    sl_buf_init(&ml->hold.bytes, r->max_bytes);
    sl_buf_init(&ml->replay.bytes, r->max_bytes);
    return ml;
}

struct multiline *multiline_new(const struct multiline_config *cfg,
                                struct sl_err *err)
{
    struct multiline_rules *r = multiline_rules_new(cfg, err);
    if (r == NULL)
        return NULL;
    struct multiline *ml = multiline_new_shared(r, err);
    if (ml == NULL) {
        multiline_rules_free(r);
        return NULL;
    }
    ml->own = r;
    return ml;
}

/* Frees b's memory, if any (a trim once a drain costs two tests then). */
static void buf_drop(struct sl_buf *b)
{
    if (b->ptr != NULL)
        sl_buf_release(b);
}

static void lines_release(struct lines *l)
{
    buf_drop(&l->bytes);
    if (l->line != NULL) {
        free(l->line);
        l->line = NULL;
    }
}

void multiline_free(struct multiline *ml)
{
    if (ml == NULL)
        return;
    multiline_rules_free(ml->own);
    sl_buf_release(&ml->text);
    sl_buf_release(&ml->out);
    sl_buf_release(&ml->pend_buf);
    lines_release(&ml->hold);
    lines_release(&ml->replay);
    free(ml);
}

/* ---- the event buffer ------------------------------------------------- */

static void drop(struct multiline *ml, uint64_t end)
{
    ml->ev.dropped++;
    ml->ev.end = end;
    ml->stats.dropped++;
}

/* A line of n bytes joins the open event without passing a limit. */
static bool fits(const struct multiline *ml, size_t n)
{
    size_t sep = ml->ev.lines > 0;
    return ml->ev.lines < ml->max_lines &&
           sep + n <= ml->max_bytes - ml->text.len;
}

/* The open event becomes the one waiting: its buffer is swapped into out,
 * and text takes out's memory (the popped event's). */
static void complete(struct multiline *ml)
{
    if (!ml->open)
        return;
    assert(!ml->ready); /* one step completes at most one event */
    struct sl_buf tmp = ml->out;
    ml->out = ml->text;
    ml->text = tmp;
    sl_buf_reset(&ml->text);
    ml->ready_ev = ml->ev;
    ml->ready_ev.cut =
        ml->closing == CLOSE_TIMEOUT || ml->closing == CLOSE_FLUSH ? ml->cut_end
                                                                   : 0;
    /* never a NULL pointer, even for an empty first line and no buffer */
    ml->ready_ev.text =
        (struct sl_slice){ml->out.len > 0 ? ml->out.ptr : "", ml->out.len};
    ml->ready = true;
    ml->stats.events++;
    ml->stats.truncated += ml->ev.truncated;
    ml->stats.timeouts += ml->closing == CLOSE_TIMEOUT;
    ml->open = false;
    ml->st = ML_ST_NONE;
}

/* Puts a line that fits into the open event; out of memory, it is
 * dropped (counted). */
static void put(struct multiline *ml, const char *s, size_t n, uint64_t end,
                bool cut)
{
    size_t sep = ml->ev.lines > 0;
    if (sl_buf_reserve(&ml->text, sep + n, NULL) < 0) {
        drop(ml, end);
        return;
    }
    /* reserved: neither append can fail */
    if (sep)
        SL_IGNORE_RESULT(sl_buf_append_char(&ml->text, '\n', NULL));
    SL_IGNORE_RESULT(sl_buf_append(&ml->text, s, n, NULL));
    ml->ev.lines++;
    ml->ev.end = end;
    ml->ev.truncated |= cut;
}

/* The line does not fit: the open event is complete, cut at the limit
 * (tagged truncated), and the line opens its continuation, which keeps
 * the record's state and first byte, so the preset decides the lines
 * after it as it would have in one event. Nothing is dropped. */
static void split(struct multiline *ml, const char *s, size_t n,
                  uint64_t offset, uint64_t end, bool cut)
{
    enum ml_state st = ml->st;
    ml->ev.truncated = true;
    complete(ml);
    memset(&ml->ev, 0, sizeof ml->ev);
    ml->ev.offset = offset;
    ml->ev.continued = true;
    ml->open = true;
    ml->st = st;
    ml->stats.splits++;
    put(ml, s, n, end, cut); /* n <= max_bytes: it fits */
}

/* Adds a line to the open event; one that does not fit splits it (no
 * event may wait then: callers check fits() while one does), and so does
 * a line no memory can hold, which then starts the next event. n <=
 * max_bytes. */
static void append(struct multiline *ml, const char *s, size_t n,
                   uint64_t offset, uint64_t end, bool cut)
{
    size_t sep = ml->ev.lines > 0;
    if (!fits(ml, n) || (sl_buf_reserve(&ml->text, sep + n, NULL) < 0 &&
                         ml->ev.lines > 0 && !ml->ready))
        split(ml, s, n, offset, end, cut);
    else
        put(ml, s, n, end, cut);
}

static void start(struct multiline *ml, const char *s, size_t n,
                  uint64_t offset, uint64_t end, bool cut)
{
    complete(ml);
    memset(&ml->ev, 0, sizeof ml->ev);
    ml->ev.offset = offset;
    ml->open = true;
    struct sl_slice plain = sl_ansi_plain(s, n); /* a coloured record's */
    ml->lead = plain.len > 0 ? plain.ptr[0] : '\0';
    append(ml, s, n, offset, end, cut);
}

/* ---- pattern mode ----------------------------------------------------- */

static void push_pattern(struct multiline *ml, const struct multiline_line *l)
{
    /* GROK_TIMEOUT counts as no match: the line is still placed */
    bool cont =
        (grok_match(ml->re, l->ptr, l->len) == GROK_MATCH) != ml->negate;
    if (ml->open && (ml->before || cont))
        append(ml, l->ptr, l->len, l->offset, l->end, l->cut);
    else
        start(ml, l->ptr, l->len, l->offset, l->end, l->cut);
    /* the line ends its event; when a limit split that event here, the
     * part before waits: this one is completed after it is popped */
    if (ml->before && !cont) {
        if (ml->ready)
            ml->closing = CLOSE_CUT;
        else
            complete(ml);
    }
}

/* ---- presets: deciding, holding, replaying ----------------------------- */

static bool hold_fits(const struct multiline *ml, size_t n)
{
    const struct lines *h = &ml->hold;
    return h->n == 0 ||
           (h->n < MULTILINE_HOLD_MAX && h->bytes.len + n <= ml->max_bytes);
}

static void hold_add(struct multiline *ml, const struct multiline_line *l,
                     bool head)
{
    struct lines *h = &ml->hold;
    struct held *x = &h->line[h->n];
    size_t n = l->len <= ml->max_bytes ? l->len : ml->max_bytes;
    size_t pos = h->bytes.len;
    if (sl_buf_append(&h->bytes, l->ptr, n, NULL) < 0)
        n = 0; /* out of memory: the line is kept as cut */
    *x = (struct held){l->offset, l->end, pos, n, l->cut || n < l->len};
    if (h->n++ == 0)
        ml->hold_from = ml->replay_i;
    ml->hold_head |= head;
}

/* The bytes of a held line (the buffer is NULL while only empty lines
 * were ever held). */
static const char *held_bytes(const struct lines *h, const struct held *x)
{
    return x->len > 0 ? h->bytes.ptr + x->pos : "";
}

static void hold_clear(struct multiline *ml)
{
    ml->hold.n = ml->hold_joined = 0;
    sl_buf_reset(&ml->hold.bytes);
    ml->hold_head = false;
}

/* The held lines join the open event: true. false: a limit split the
 * event while the part before it waits; the lines not joined yet stay
 * held (hold_joined says how many are in), for the next call. */
static bool hold_join(struct multiline *ml)
{
    for (; ml->hold_joined < ml->hold.n; ml->hold_joined++) {
        const struct held *x = &ml->hold.line[ml->hold_joined];
        if (ml->ready && !fits(ml, x->len))
            return false;
        append(ml, held_bytes(&ml->hold, x), x->len, x->offset, x->end, x->cut);
    }
    hold_clear(ml);
    return true;
}

/* The blank lines at the end of the hold are in no event (counted as
 * dropped), as a blank line with no event open: they end the event the
 * held lines join. */
static void hold_trim_blanks(struct multiline *ml)
{
    struct lines *h = &ml->hold;
    while (h->n > 0) {
        const struct held *x = &h->line[h->n - 1];
        if (sl_ansi_plain(held_bytes(h, x), x->len).len > 0)
            return;
        h->bytes.len = x->pos;
        h->n--;
        ml->stats.dropped++;
    }
}

static struct ml_verdict decide(const struct multiline *ml, const char *s,
                                size_t n)
{
    /* a continuation is never at its record's first line */
    struct ml_view v = {ml->open,
                        ml->open ? ml->st : ML_ST_NONE,
                        ml->hold.n > 0,
                        ml->hold_head,
                        ml->open ? ml->lead : '\0',
                        ml->open ? ml->ev.lines + ml->ev.continued : 0,
                        ml->text.len > 0 ? ml->text.ptr : "",
                        ml->open ? ml->text.len : 0};
    if (ml->mode == MODE_GO)
        return multiline_go_decide(v, s, n);
    return ml->mode == MODE_PYTHON ? multiline_python_decide(v, s, n)
                                   : multiline_java_decide(v, s, n);
}

/* Places one line (see enum placed). */
static enum placed step(struct multiline *ml, const struct multiline_line *l)
{
    struct ml_verdict v =
        ml->joining ? (struct ml_verdict){ml->join_after ? ML_AFTER : ML_CONT,
                                          ml->join_st, false}
                    : decide(ml, l->ptr, l->len);
    bool holding = ml->hold.n > 0 && !ml->joining;
    if (v.dec == ML_HOLD && ml->hold.line == NULL &&
        (ml->hold.line = malloc(MULTILINE_HOLD_MAX * sizeof(struct held))) ==
            NULL)
        v = (struct ml_verdict){ML_START, ML_ST_RECORD, false}; /* no memory
                                                    to wait: a record */
    if (holding && (v.dec == ML_START || v.dec == ML_DROP ||
                    (v.dec == ML_HOLD && !hold_fits(ml, l->len))))
        return REJECT;
    switch (v.dec) {
    case ML_DROP:
        ml->stats.dropped++;
        break;
    case ML_HOLD:
        hold_add(ml, l, v.head);
        break;
    case ML_CONT:
        if (!hold_join(ml) || (ml->ready && !fits(ml, l->len))) {
            ml->joining = true;
            ml->join_st = v.st;
            return WAIT;
        }
        ml->joining = false;
        append(ml, l->ptr, l->len, l->offset, l->end, l->cut);
        ml->st = v.st;
        break;
    case ML_AFTER:
        /* the held lines complete the open event, the line starts the
         * next: it waits while an event split off by them waits */
        if (!ml->joining)
            hold_trim_blanks(ml);
        if (!hold_join(ml) || ml->ready) {
            ml->joining = ml->join_after = true;
            ml->join_st = v.st;
            return WAIT;
        }
        ml->joining = ml->join_after = false;
        start(ml, l->ptr, l->len, l->offset, l->end, l->cut);
        ml->st = v.st;
        break;
    case ML_START:
        start(ml, l->ptr, l->len, l->offset, l->end, l->cut);
        ml->st = v.st;
        break;
    }
    return PLACED;
}

/* The held lines do not belong to the open event: completes it and queues
 * the held lines to be decided again as new input. Only once the replay of
 * the previous round is done (work() does the replay first). */
static void hold_reject(struct multiline *ml)
{
    assert(ml->replay.n == 0);
    struct lines tmp = ml->replay;
    ml->replay = ml->hold;
    ml->hold = tmp;
    hold_clear(ml);
    complete(ml);
    ml->replay_i = 0;
}

/* Decides the next line of the replay again. */
static void replay_one(struct multiline *ml)
{
    const struct held *x = &ml->replay.line[ml->replay_i];
    struct multiline_line l = {held_bytes(&ml->replay, x), x->len, x->offset,
                               x->end, x->cut};
    switch (step(ml, &l)) {
    case PLACED:
        ml->replay_i++;
        break;
    case WAIT: /* the same line again, after the pop */
        break;
    case REJECT:
        /* the lines held during this replay are replay[hold_from..i) */
        complete(ml);
        ml->replay_i = ml->hold_from;
        hold_clear(ml);
        break;
    }
    if (ml->replay_i == ml->replay.n) {
        ml->replay.n = ml->replay_i = 0;
        sl_buf_reset(&ml->replay.bytes);
    }
}

/* Places a pushed line: true. false: it must wait for the held lines,
 * rejected, to be decided again first, or for the event a limit split
 * off to be popped. */
static bool place(struct multiline *ml, const struct multiline_line *l)
{
    if (ml->mode == MODE_PATTERN) {
        push_pattern(ml, l);
        return true;
    }
    enum placed r = step(ml, l);
    if (r == REJECT)
        hold_reject(ml);
    return r == PLACED;
}

static bool expired(const struct multiline *ml, uint64_t now_ms);

/* Starts completing what is open (a timeout, a flush or a forced cut):
 * the events it completes carry where it began. */
static void close_for(struct multiline *ml, enum closing why)
{
    ml->closing = why;
    ml->cut_end = ml->last_end;
}

/* Does the next piece of work, which completes at most one event. false:
 * nothing was left to do. */
static bool work(struct multiline *ml)
{
    if (ml->replay_i < ml->replay.n) {
        replay_one(ml);
    } else if (ml->closing != CLOSE_NONE) {
        if (ml->hold.n > 0)
            hold_reject(ml);
        else if (ml->open)
            complete(ml);
        else
            ml->closing = CLOSE_NONE;
    } else if (ml->has_pend) {
        ml->has_pend = !place(ml, &ml->pend);
    } else if (ml->tick_wanted || ml->cut_wanted) {
        bool due = (ml->cut_wanted && ml->open) || expired(ml, ml->tick_ms);
        ml->tick_wanted = ml->cut_wanted = false;
        if (due)
            close_for(ml, CLOSE_TIMEOUT);
    } else if (ml->flush_wanted || ml->end_wanted) {
        close_for(ml, ml->flush_wanted ? CLOSE_FLUSH : CLOSE_END);
        ml->flush_wanted = ml->end_wanted = false;
    } else {
        return false;
    }
    return true;
}

/* Works until an event waits or nothing is left. */
static void run(struct multiline *ml)
{
    while (!ml->ready && work(ml))
        ;
}

static bool idle(const struct multiline *ml)
{
    return !ml->ready && ml->replay.n == 0 && ml->closing == CLOSE_NONE &&
           !ml->has_pend && !ml->tick_wanted && !ml->flush_wanted &&
           !ml->cut_wanted && !ml->end_wanted;
}

/* ---- the public verbs ------------------------------------------------- */

uint64_t multiline_next_deadline(const struct multiline *ml)
{
    if (!idle(ml) || !ml->open || ml->timeout_ms == 0)
        return UINT64_MAX;
    uint64_t d = ml->last_ms + ml->timeout_ms;
    return d < ml->last_ms ? UINT64_MAX - 1 : d;
}

static bool expired(const struct multiline *ml, uint64_t now_ms)
{
    if (!ml->open || ml->timeout_ms == 0)
        return false;
    uint64_t d = ml->last_ms + ml->timeout_ms;
    return now_ms >= (d < ml->last_ms ? UINT64_MAX - 1 : d);
}

void multiline_tick(struct multiline *ml, uint64_t now_ms)
{
    if (idle(ml)) {
        if (expired(ml, now_ms))
            close_for(ml, CLOSE_TIMEOUT);
    } else if (!ml->flush_wanted && !ml->end_wanted) {
        /* after a flush or an end a tick finds nothing */
        ml->tick_wanted = true;
        if (now_ms > ml->tick_ms)
            ml->tick_ms = now_ms;
    }
}

uint64_t multiline_timeout_ms(const struct multiline *ml)
{
    return ml->timeout_ms;
}

void multiline_touch(struct multiline *ml, uint64_t now_ms)
{
    if (ml->open && now_ms > ml->last_ms)
        ml->last_ms = now_ms;
}

void multiline_flush(struct multiline *ml)
{
    if (idle(ml)) {
        if (ml->open)
            close_for(ml, CLOSE_FLUSH);
    } else if (!ml->end_wanted) {
        /* after an end a flush finds nothing: no line came between, and
         * it would mark the end's events with a cut */
        ml->flush_wanted = true;
    }
}

void multiline_cut(struct multiline *ml)
{
    if (idle(ml)) {
        if (ml->open)
            close_for(ml, CLOSE_TIMEOUT);
    } else if (!ml->flush_wanted && !ml->end_wanted) {
        /* after a flush or an end a cut finds nothing: they complete
         * the same events */
        ml->cut_wanted = true;
    }
}

void multiline_end(struct multiline *ml)
{
    if (idle(ml)) {
        if (ml->open)
            close_for(ml, CLOSE_END);
    } else if (!ml->flush_wanted) { /* a flush asked completes as much */
        ml->end_wanted = true;
    }
}

/* Keeps the pushed line that could not be placed during the push. */
static void keep_pend(struct multiline *ml)
{
    struct multiline_line *l = &ml->pend;
    sl_buf_reset(&ml->pend_buf);
    if (sl_buf_append(&ml->pend_buf, l->ptr, l->len, NULL) < 0) {
        l->cut = l->cut || l->len > 0; /* out of memory: kept as cut */
        l->len = 0;
    }
    l->ptr = l->len > 0 ? ml->pend_buf.ptr : "";
}

bool multiline_push(struct multiline *ml, const struct multiline_line *line,
                    uint64_t now_ms)
{
    if (!idle(ml)) {
        run(ml); /* the work left, as a peek would do it */
        if (ml->ready)
            return false;
    }
    if (expired(ml, now_ms))
        close_for(ml, CLOSE_TIMEOUT);
    ml->stats.lines++;
    ml->last_ms = now_ms;
    ml->last_end = line->end;
    /* judged and kept on its first max_bytes bytes, whenever it is placed */
    struct multiline_line cut;
    if (line->len > ml->max_bytes) {
        cut = *line;
        cut.len = ml->max_bytes;
        cut.cut = true;
        line = &cut;
    }
    if (ml->closing == CLOSE_NONE && place(ml, line))
        return true; /* the common case: placed at once */
    ml->pend = *line;
    ml->has_pend = true;
    run(ml);
    if (ml->has_pend)
        keep_pend(ml);
    return true;
}

bool multiline_peek(struct multiline *ml, struct multiline_event *ev)
{
    if (idle(ml))
        return false;
    run(ml);
    if (!ml->ready)
        return false;
    *ev = ml->ready_ev;
    return true;
}

void multiline_pop(struct multiline *ml)
{
    ml->ready = false;
}

uint64_t multiline_done_offset(const struct multiline *ml)
{
    if (ml->ready)
        return ml->ready_ev.offset;
    if (ml->open) /* held lines, which follow it, exist only then */
        return ml->ev.offset;
    if (ml->replay_i < ml->replay.n)
        return ml->replay.line[ml->replay_i].offset;
    if (ml->has_pend)
        return ml->pend.offset;
    return ml->last_end;
}

const struct multiline_stats *multiline_stats(const struct multiline *ml)
{
    return &ml->stats;
}

/* ---- memory ----------------------------------------------------------- */

void multiline_trim(struct multiline *ml)
{
    if (!idle(ml))
        return; /* the pending line or the replay may be in these buffers */
    buf_drop(&ml->pend_buf);
    lines_release(&ml->replay);
    if (ml->hold.n == 0)
        lines_release(&ml->hold);
    if (!ml->open) { /* out too: the next event grows them again */
        buf_drop(&ml->text);
        buf_drop(&ml->out);
    }
}

static size_t buf_memory(const struct sl_buf *b)
{
    return b->ptr != NULL ? b->cap + SL_BUF_SLACK : 0;
}

size_t multiline_memory(const struct multiline *ml)
{
    size_t n = buf_memory(&ml->text) + buf_memory(&ml->out) +
               buf_memory(&ml->pend_buf) + buf_memory(&ml->hold.bytes) +
               buf_memory(&ml->replay.bytes);
    if (ml->hold.line != NULL)
        n += MULTILINE_HOLD_MAX * sizeof(struct held);
    if (ml->replay.line != NULL)
        n += MULTILINE_HOLD_MAX * sizeof(struct held);
    return n;
}
