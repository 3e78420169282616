/* multiline.c: the joiner. Lines go in, events come out through a callback.
 *
 * Invariants:
 *   - at most one event is open; its bytes are text, text.len <= max_bytes,
 *     lines <= max_lines; `full` once either limit cut it (later
 *     continuation lines are counted in `dropped`, not stored)
 *   - held lines (presets only) exist only while an event is open; they
 *     follow the open event in the stream and are in no event yet
 *   - done_offset() is the open event's first offset, else the end of the
 *     last line pushed, so it never passes a line not yet emitted
 *
 * Pattern mode follows Filebeat's multiline (and Logstash's codec): with
 * match=after a continuation line joins the event above, so an event is
 * complete only when the next non-continuation line (or the timeout, or the
 * end) comes; with match=before a continuation line says that the *next*
 * line joins it, so an event is complete as soon as a non-continuation line
 * ends it: it is emitted at once rather than on the next line, as Filebeat
 * does, for the same events with less delay. At the end of input an event
 * still waiting for its next line is emitted as it is.
 *
 * Held lines (see multiline_preset.c) sit in `hold` until a later line
 * decides. Joined: they are appended like any line. Rejected: the open event
 * is emitted and the held lines are decided again, in order, as new input
 * (hold and replay buffers swap, so no copy and no allocation). A rejection
 * while replaying rewinds the replay to the first line held in it; each
 * round starts with no event open, so its first line is never held again and
 * the loop ends.
 *
 * Not done here: reading, time, the registry. The caller owns the clock. */
#include "multiline.h"

#include <stdlib.h>
#include <string.h>

#include "multiline_preset.h"
#include "sl_buf.h"

enum mode { MODE_PATTERN, MODE_PYTHON, MODE_JAVA };

struct held {
    uint64_t offset, end;
    size_t pos, len; /* bytes in the lines buffer */
    bool cut;
};

/* Lines kept back, bytes and where each starts; bytes <= max_bytes. */
struct lines {
    struct sl_buf bytes;
    struct held line[MULTILINE_HOLD_MAX];
    size_t n;
};

struct multiline {
    enum mode mode;
    bool negate, before;
    uint32_t max_lines;
    size_t max_bytes;
    uint64_t timeout_ms;
    struct grok *re; /* pattern mode */
    multiline_emit_fn emit;
    void *ctx;

    /* the open event */
    bool open, full;
    struct sl_buf text;        /* its lines joined, at most max_bytes */
    struct multiline_event ev; /* offset, end, lines, dropped, truncated */
    enum ml_state st;
    uint64_t last_ms; /* when its last line (joined or held) came */

    struct lines hold, replay;
    bool hold_head;
    size_t replay_i, hold_from; /* replay position; where hold began in it */

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
        else
            return sl_err_set(err, SL_EINVAL,
                              "multiline: unknown preset '%s'; use 'python' "
                              "or 'java', or a pattern",
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
                              "regular expression) or 'preset' ('python' or "
                              "'java')");
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

struct multiline *multiline_new(const struct multiline_config *cfg,
                                multiline_emit_fn emit, void *ctx,
                                struct sl_err *err)
{
    enum mode mode = MODE_PATTERN;
    bool before = false;
    if (check_config(cfg, &mode, &before, err) < 0)
        return NULL;
    struct multiline *ml = calloc(1, sizeof *ml);
    if (ml == NULL) {
        sl_err_set(err, SL_ENOMEM, "multiline: out of memory");
        return NULL;
    }
    ml->mode = mode;
    ml->negate = cfg->negate;
    ml->before = before;
    ml->max_lines = cfg->max_lines;
    ml->max_bytes = cfg->max_bytes;
    ml->timeout_ms = cfg->timeout_ms;
    ml->emit = emit;
    ml->ctx = ctx;
    sl_buf_init(&ml->text, cfg->max_bytes);
    sl_buf_init(&ml->hold.bytes, cfg->max_bytes);
    sl_buf_init(&ml->replay.bytes, cfg->max_bytes);
    if (mode == MODE_PATTERN && (ml->re = compile_pattern(cfg, err)) == NULL) {
        free(ml);
        return NULL;
    }
    return ml;
}

void multiline_free(struct multiline *ml)
{
    if (ml == NULL)
        return;
    grok_free(ml->re);
    sl_buf_release(&ml->text);
    sl_buf_release(&ml->hold.bytes);
    sl_buf_release(&ml->replay.bytes);
    free(ml);
}

/* ---- the event buffer ------------------------------------------------- */

static void drop(struct multiline *ml, uint64_t end)
{
    ml->ev.dropped++;
    ml->ev.end = end;
    ml->stats.dropped++;
}

/* Adds a line to the open event, cutting it at the limits. */
static void append(struct multiline *ml, const char *s, size_t n, uint64_t end,
                   bool cut)
{
    if (ml->full || ml->ev.lines >= ml->max_lines) {
        ml->full = ml->ev.truncated = true;
        drop(ml, end);
        return;
    }
    size_t sep = ml->ev.lines > 0;
    size_t room = ml->max_bytes - ml->text.len;
    if (sep + n > room) {
        ml->full = ml->ev.truncated = true;
        if (room <= sep) {
            drop(ml, end);
            return;
        }
        n = room - sep;
    }
    if (sl_buf_reserve(&ml->text, sep + n, NULL) < 0) {
        ml->full = ml->ev.truncated = true; /* out of memory: cut here */
        drop(ml, end);
        return;
    }
    /* reserved: neither append can fail */
    if (sep)
        sl_buf_append_char(&ml->text, '\n', NULL);
    sl_buf_append(&ml->text, s, n, NULL);
    ml->ev.lines++;
    ml->ev.end = end;
    ml->ev.truncated |= cut;
}

static void emit_open(struct multiline *ml)
{
    if (!ml->open)
        return;
    /* never a NULL pointer, even for an empty first line and no buffer */
    ml->ev.text =
        (struct sl_slice){ml->text.len > 0 ? ml->text.ptr : "", ml->text.len};
    ml->stats.events++;
    ml->stats.truncated += ml->ev.truncated;
    ml->open = false;
    ml->st = ML_ST_NONE;
    ml->emit(ml->ctx, &ml->ev);
    sl_buf_reset(&ml->text);
}

static void start(struct multiline *ml, const char *s, size_t n,
                  uint64_t offset, uint64_t end, bool cut)
{
    emit_open(ml);
    memset(&ml->ev, 0, sizeof ml->ev);
    ml->ev.offset = offset;
    ml->open = true;
    ml->full = false;
    append(ml, s, n, end, cut);
}

/* ---- pattern mode ----------------------------------------------------- */

static void push_pattern(struct multiline *ml, const struct multiline_line *l)
{
    /* GROK_TIMEOUT counts as no match: the line is still placed */
    bool cont =
        (grok_match(ml->re, l->ptr, l->len) == GROK_MATCH) != ml->negate;
    if (ml->open && (ml->before || cont))
        append(ml, l->ptr, l->len, l->end, l->cut);
    else
        start(ml, l->ptr, l->len, l->offset, l->end, l->cut);
    if (ml->before && !cont)
        emit_open(ml);
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
    ml->hold.n = 0;
    sl_buf_reset(&ml->hold.bytes);
    ml->hold_head = false;
}

/* The held lines join the open event. */
static void hold_join(struct multiline *ml)
{
    for (size_t i = 0; i < ml->hold.n; i++) {
        const struct held *x = &ml->hold.line[i];
        append(ml, held_bytes(&ml->hold, x), x->len, x->end, x->cut);
    }
    hold_clear(ml);
}

static struct ml_verdict decide(const struct multiline *ml, const char *s,
                                size_t n)
{
    struct ml_view v = {ml->open, ml->open ? ml->st : ML_ST_NONE,
                        ml->hold.n > 0, ml->hold_head};
    return ml->mode == MODE_PYTHON ? multiline_python_decide(v, s, n)
                                   : multiline_java_decide(v, s, n);
}

/* Places one line; false (nothing done) when the held lines must be
 * decided again first. */
static bool step(struct multiline *ml, const struct multiline_line *l)
{
    struct ml_verdict v = decide(ml, l->ptr, l->len);
    bool holding = ml->hold.n > 0;
    if (holding && (v.dec == ML_START || v.dec == ML_DROP ||
                    (v.dec == ML_HOLD && !hold_fits(ml, l->len))))
        return false;
    switch (v.dec) {
    case ML_DROP:
        ml->stats.dropped++;
        break;
    case ML_HOLD:
        hold_add(ml, l, v.head);
        break;
    case ML_CONT:
        hold_join(ml);
        append(ml, l->ptr, l->len, l->end, l->cut);
        ml->st = v.st;
        break;
    case ML_START:
        start(ml, l->ptr, l->len, l->offset, l->end, l->cut);
        ml->st = v.st;
        break;
    }
    return true;
}

/* The held lines do not belong to the open event: emits it and decides the
 * held lines again as new input. */
static void hold_reject(struct multiline *ml)
{
    struct lines tmp = ml->replay;
    ml->replay = ml->hold;
    ml->hold = tmp;
    hold_clear(ml);
    emit_open(ml);
    ml->replay_i = 0;
    while (ml->replay_i < ml->replay.n) {
        const struct held *x = &ml->replay.line[ml->replay_i];
        struct multiline_line l = {held_bytes(&ml->replay, x), x->len,
                                   x->offset, x->end, x->cut};
        if (step(ml, &l)) {
            ml->replay_i++;
            continue;
        }
        /* the lines held during this replay are replay[hold_from..i) */
        emit_open(ml);
        ml->replay_i = ml->hold_from;
        hold_clear(ml);
    }
    ml->replay_i = 0;
}

static void push_preset(struct multiline *ml, const struct multiline_line *l)
{
    while (!step(ml, l))
        hold_reject(ml);
}

/* ---- the public verbs ------------------------------------------------- */

static void flush_all(struct multiline *ml)
{
    while (ml->open) {
        if (ml->hold.n > 0)
            hold_reject(ml);
        else
            emit_open(ml);
    }
}

uint64_t multiline_next_deadline(const struct multiline *ml)
{
    if (!ml->open || ml->timeout_ms == 0)
        return UINT64_MAX;
    uint64_t d = ml->last_ms + ml->timeout_ms;
    return d < ml->last_ms ? UINT64_MAX - 1 : d;
}

void multiline_tick(struct multiline *ml, uint64_t now_ms)
{
    if (now_ms < multiline_next_deadline(ml))
        return;
    uint64_t before = ml->stats.events;
    flush_all(ml);
    ml->stats.timeouts += ml->stats.events - before;
}

void multiline_push(struct multiline *ml, const struct multiline_line *line,
                    uint64_t now_ms)
{
    multiline_tick(ml, now_ms);
    ml->stats.lines++;
    ml->last_ms = now_ms;
    ml->last_end = line->end;
    if (ml->mode == MODE_PATTERN)
        push_pattern(ml, line);
    else
        push_preset(ml, line);
}

void multiline_flush(struct multiline *ml)
{
    flush_all(ml);
}

uint64_t multiline_done_offset(const struct multiline *ml)
{
    return ml->open ? ml->ev.offset : ml->last_end;
}

const struct multiline_stats *multiline_stats(const struct multiline *ml)
{
    return &ml->stats;
}
