/* test_pipeline.c: a source's way from bytes to the output (pipeline.h),
 * through the stdout sink on a pipe with one batch of 3 events in flight,
 * so the drain stops with the outbox full again and again: fed one byte
 * at a time, multiline events come out whole, in order, with the file
 * offsets of their first lines; the registry moves to the marks of the
 * acknowledged batches only, past trailing dropped events once what came
 * before is acknowledged; a slot freed before its acks still acks its own
 * file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"
#include "sl_config.h"
#include "sl_log.h"

struct fx {
    int pipe[2];
    struct output *o;
    struct registry *reg;
    struct pipeline *p;
    struct sl_config *cfg;
    struct pipe_input *pi;
    char got[1 << 16];
    size_t got_len;
    size_t acks;
};

static const struct file_identity file_a = {
    .dev = 1, .ino = 2, .fp = 0xabc, .fp_len = 1024};
static const struct file_identity file_b = {
    .dev = 1, .ino = 3, .fp = 0xdef, .fp_len = 1024};
#define MTIME 1000000000000 /* 2001-09-09T01:46:40Z */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct sl_err err = {0};
    assert_non_null(f);
    assert_int_equal(pipe(f->pipe), 0);
    fcntl(f->pipe[0], F_SETFL, O_NONBLOCK);
    struct output_config oc;
    output_config_defaults(&oc);
    oc.kind = OUTPUT_STDOUT;
    oc.fd = f->pipe[1];
    oc.host = "h";
    oc.batch_events = 3;
    oc.max_in_flight = 1;
    f->o = output_new(&oc, NULL, &err);
    struct registry_config rc;
    registry_config_init(&rc);
    f->reg = registry_new(&rc, &err);
    assert_non_null(f->o);
    assert_non_null(f->reg);
    assert_int_equal(registry_add(f->reg, &file_a, 7, "/a.log", 100, 1, &err),
                     0);
    assert_int_equal(registry_add(f->reg, &file_b, 8, "/b.log", 0, 1, &err), 0);
    f->p = pipeline_new(f->o, f->reg, NULL, &err);
    assert_non_null(f->p);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pipeline_free(f->p);
    pipe_input_free(f->pi);
    sl_config_free(f->cfg);
    output_free(f->o);
    registry_free(f->reg);
    close(f->pipe[0]);
    close(f->pipe[1]);
    free(f);
    return 0;
}

/* The input of one inputs[] element written as JSON. */
static void input(struct fx *f, const char *json)
{
    struct sl_err err = {0};
    f->cfg = sl_config_load_buffer("t.json", json, strlen(json), &err);
    if (f->cfg == NULL)
        fail_msg("%s", err.msg);
    const struct sl_config_node *in = sl_config_root(f->cfg);
    f->pi = pipe_input_new("h", NULL, sl_config_get(in, "multiline"),
                           sl_config_get(in, "processors"), NULL, "inputs[0]",
                           NULL, &err);
    if (f->pi == NULL)
        fail_msg("%s", err.msg);
}

/* What the loop does when the output is full: let it write, read the
 * pipe, take the acks into the registry. */
static void turn(struct fx *f)
{
    struct output_ack ack;
    output_process(f->o, NULL, 0);
    for (;;) {
        ssize_t n = read(f->pipe[0], f->got + f->got_len,
                         sizeof f->got - 1 - f->got_len);
        if (n <= 0)
            break;
        f->got_len += (size_t)n;
    }
    f->got[f->got_len] = '\0';
    while (output_next_ack(f->o, &ack) == 1) {
        pipeline_ack(f->p, &ack, 2);
        f->acks++;
    }
    pipeline_settle(f->p, 2);
}

static void drain(struct fx *f, struct pipe_src *s)
{
    struct sl_err err = {0};
    int rc;
    for (int i = 0; (rc = pipe_src_drain(s, 0, &err)) == 1; i++) {
        assert_true(i < 1000);
        turn(f);
    }
    assert_int_equal(rc, 0);
}

static void finish(struct fx *f)
{
    for (int i = 0; !output_idle(f->o); i++) {
        assert_true(i < 1000);
        output_flush(f->o);
        turn(f);
    }
    turn(f);
}

static uint64_t offset_of(struct fx *f, const struct file_identity *id)
{
    const struct registry_entry *e = registry_get(f->reg, id->dev, id->ino);
    assert_non_null(e);
    return e->offset;
}

static void byte_at_a_time_with_a_full_outbox(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true}}");
    char text[4096], want[64][128];
    size_t len = 0, nwant = 0;
    uint64_t offs[64];
    for (int i = 0; i < 20; i++) {
        offs[nwant] = 100 + len;
        int w = snprintf(want[nwant++], sizeof want[0],
                         "\"message\":\"x%d head", i);
        len += (size_t)snprintf(text + len, sizeof text - len, "x%d head\n", i);
        for (int j = 0; j < i % 3; j++) {
            w += snprintf(want[nwant - 1] + w, sizeof want[0] - (size_t)w,
                          "\\n  c%d.%d", i, j);
            len += (size_t)snprintf(text + len, sizeof text - len, "  c%d.%d\n",
                                    i, j);
        }
        snprintf(want[nwant - 1] + w, sizeof want[0] - (size_t)w, "\"");
    }
    struct pipe_src *s = pipe_src_new_file(f->p, f->pi, 7, "/a.log", 100, &err);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(
            pipe_src_feed(s, text + i, 1, &file_a, NULL, INT64_MAX, &err), 0);
        drain(f, s);
    }
    /* the last event is open: only what is before it may be acked */
    finish(f);
    assert_int_equal(offset_of(f, &file_a), offs[nwant - 1]);
    pipe_src_end(s);
    drain(f, s);
    assert_true(pipe_src_finished(s));
    finish(f);
    assert_int_equal(offset_of(f, &file_a), 100 + len);
    /* every event once, in order, with its first line's offset */
    char *line = f->got;
    for (size_t i = 0; i < nwant; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char off[32];
        snprintf(off, sizeof off, "\"offset\":%llu",
                 (unsigned long long)offs[i]);
        if (strstr(line, want[i]) == NULL || strstr(line, off) == NULL)
            fail_msg("event %zu: %s; want %s and %s", i, line, want[i], off);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    pipe_src_free(s);
}

static void trailing_drops_move_the_registry_once_acked(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    input(f, "{\"processors\": [{\"drop\": {\"when\": {\"contains\": "
             "{\"message\": \"debug\"}}}}]}");
    static const char text[] = "keep 1\ndebug 2\nkeep 3\ndebug 4\ndebug 5\n";
    struct pipe_src *s = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(s);
    assert_int_equal(
        pipe_src_feed(s, text, sizeof text - 1, &file_b, NULL, INT64_MAX, &err),
        0);
    drain(f, s);
    /* nothing acknowledged yet: the drops wait behind "keep 3" */
    turn(f);
    assert_int_equal(offset_of(f, &file_b), 0);
    finish(f);
    assert_int_equal(offset_of(f, &file_b), sizeof text - 1);
    assert_int_equal(f->acks, 1);
    pipe_src_free(s);
}

static void a_freed_slot_acks_its_own_file(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    input(f, "{}");
    struct pipe_src *a = pipe_src_new_file(f->p, f->pi, 7, "/a.log", 100, &err);
    assert_non_null(a);
    assert_int_equal(
        pipe_src_feed(a, "one\ntwo\n", 8, &file_a, NULL, MTIME, &err), 0);
    drain(f, a);
    pipe_src_free(a); /* its two events are not acknowledged yet */
    struct pipe_src *b = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(b);
    assert_int_equal(pipe_src_feed(b, "three\n", 6, &file_b, NULL, MTIME, &err),
                     0);
    drain(f, b);
    finish(f);
    assert_int_equal(offset_of(f, &file_a), 108);
    assert_int_equal(offset_of(f, &file_b), 6);
    /* no date in the lines: the time read, bounded by the files' mtime */
    const char *t = f->got;
    int n = 0;
    while ((t = strstr(t, "{\"@timestamp\":\"2001-09-09T01:46:40.000Z\"")))
        n++, t++;
    assert_int_equal(n, 3);
    pipe_src_free(b);
}

/* Every event a drain or a tick lets out, then the output flushed. */
static size_t events_out(struct fx *f, int64_t now)
{
    struct sl_err err = {0};
    int rc;
    for (int i = 0; (rc = pipeline_drain(f->p, now, &err)) == 1; i++) {
        assert_true(i < 1000);
        turn(f);
    }
    assert_int_equal(rc, 0);
    finish(f);
    size_t n = 0;
    for (const char *c = f->got; (c = strchr(c, '\n')) != NULL; c++)
        n++;
    return n;
}

/* Multiline timeouts among many sources: the deadline is the earliest of
 * the open events', a tick lets out those due and no other, and a source
 * freed with its event open is no deadline any more (the deadline and the
 * tick visit only the sources that wait: bench/RESULTS.md). */
static void multiline_timeouts_among_many_quiet_sources(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true, "
             "\"timeout\": \"100ms\"}}");
    struct pipe_src *s[50];
    for (int i = 0; i < 50; i++) {
        s[i] = pipe_src_new_file(f->p, f->pi, 100 + (uint64_t)i, "/q.log", 0,
                                 &err);
        assert_non_null(s[i]);
        assert_int_equal(pipe_src_feed(s[i], "y\n", 2, NULL, NULL, MTIME, &err),
                         0);
        assert_int_equal(pipe_src_drain(s[i], 0, &err), 0);
    }
    /* each quiet source's "y" is an event of its own, open: ticked out */
    assert_int_equal(pipeline_deadline(f->p), 100);
    pipeline_tick(f->p, 100);
    assert_int_equal(events_out(f, 100), 50);
    assert_int_equal(pipeline_deadline(f->p), INT64_MAX);
    for (int i = 0; i < 3; i++) { /* three open events, 10 ms apart */
        assert_int_equal(
            pipe_src_feed(s[i * 10], "x head\n", 7, NULL, NULL, MTIME, &err),
            0);
        assert_int_equal(pipe_src_drain(s[i * 10], 1000 + i * 10, &err), 0);
    }
    assert_int_equal(pipeline_deadline(f->p), 1100);
    pipeline_tick(f->p, 1099);
    assert_int_equal(events_out(f, 1099), 50);
    pipeline_tick(f->p, 1100);
    assert_int_equal(events_out(f, 1100), 51);
    assert_int_equal(pipeline_deadline(f->p), 1110);
    pipe_src_free(s[10]); /* freed with its event open */
    s[10] = NULL;
    assert_int_equal(pipeline_deadline(f->p), 1120);
    pipeline_tick(f->p, 5000);
    assert_int_equal(events_out(f, 5000), 52);
    assert_int_equal(pipeline_deadline(f->p), INT64_MAX);
    for (int i = 0; i < 50; i++)
        pipe_src_free(s[i]);
}

/* A file's source whose events begin with "x", with a 100 ms timeout. */
static struct pipe_src *x_source(struct fx *f)
{
    struct sl_err err = {0};
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true, "
             "\"timeout\": \"100ms\"}}");
    struct pipe_src *s = pipe_src_new_file(f->p, f->pi, 200, "/m.log", 0, &err);
    assert_non_null(s);
    return s;
}

/* A drained source gives its joiner's buffers back (10,000 quiet files
 * with a preset held 69 MiB before, bench/RESULTS.md): nothing once its
 * events are out, only the open event's while one waits. */
static void a_drained_source_holds_no_multiline_buffers(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    struct pipe_src *s = x_source(f);
    assert_int_equal(
        pipe_src_feed(s, "x one\n two\nx three\n", 19, NULL, NULL, MTIME, &err),
        0);
    assert_int_equal(pipe_src_drain(s, 0, &err), 0);
    size_t open = pipe_src_multiline_memory(s);
    assert_true(open > 0); /* "x three" waits for its timeout */
    pipeline_tick(f->p, 100);
    assert_int_equal(events_out(f, 100), 2);
    assert_int_equal(pipe_src_drain(s, 100, &err), 0);
    assert_int_equal(pipe_src_multiline_memory(s), 0);
    pipe_src_free(s);
}

/* The messages of the events out so far, each followed by "|". */
static void messages(struct fx *f, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *m = f->got; (m = strstr(m, "\"message\":\"")) != NULL;) {
        m += strlen("\"message\":\"");
        const char *end = strchr(m, '"');
        assert_non_null(end);
        n += (size_t)snprintf(out + n, size - n, "%.*s|", (int)(end - m), m);
        m = end;
    }
}

/* multiline.timeout measures a writer's pause, not the shipper's: while
 * a reason holds the source's clock (PIPE_HOLD_UNREAD: its file has
 * bytes not read; PIPE_HOLD_HANDOVER) the open event has no deadline and
 * no tick completes it, however late; a line read after that joins it;
 * once the last reason lets go (the reader caught up) the timeout counts
 * from then. Letting go of a reason that did not hold moves nothing. */
static void a_held_source_does_not_time_out(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    struct pipe_src *s = x_source(f);
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, true, 0); /* a chunk read */
    assert_int_equal(
        pipe_src_feed(s, "x one\n two\n", 11, NULL, NULL, MTIME, &err), 0);
    assert_int_equal(pipe_src_drain(s, 0, &err), 0);
    assert_int_equal(pipeline_deadline(f->p), INT64_MAX);
    pipeline_tick(f->p, 5000); /* reading stopped: no pause of the writer */
    assert_int_equal(events_out(f, 5000), 0);
    /* read again: the line joins the open event */
    assert_int_equal(pipe_src_feed(s, " three\n", 7, NULL, NULL, MTIME, &err),
                     0);
    assert_int_equal(pipe_src_drain(s, 6000, &err), 0);
    assert_int_equal(events_out(f, 6000), 0);
    /* the reader caught up at 6050: 100 ms from then */
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, false, 6050);
    assert_int_equal(pipeline_deadline(f->p), 6150);
    pipeline_tick(f->p, 6149);
    assert_int_equal(events_out(f, 6149), 0);
    pipeline_tick(f->p, 6150);
    assert_int_equal(events_out(f, 6150), 1);
    char got[256];
    messages(f, got, sizeof got);
    assert_string_equal(got, "x one\\n two\\n three|");
    /* not held: letting go moves nothing; two reasons: the last one */
    assert_int_equal(pipe_src_feed(s, "x four\n", 7, NULL, NULL, MTIME, &err),
                     0);
    assert_int_equal(pipe_src_drain(s, 7000, &err), 0);
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, false, 7050);
    assert_int_equal(pipeline_deadline(f->p), 7100);
    pipe_src_hold_clock(s, PIPE_HOLD_HANDOVER, true, 7060);
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, true, 7060);
    pipe_src_hold_clock(s, PIPE_HOLD_HANDOVER, false, 7200);
    assert_int_equal(pipeline_deadline(f->p), INT64_MAX);
    pipe_src_hold_clock(s, PIPE_HOLD_UNREAD, false, 7300);
    assert_int_equal(pipeline_deadline(f->p), 7400);
    pipeline_tick(f->p, 7400);
    assert_int_equal(events_out(f, 7400), 2);
    pipe_src_free(s);
}

/* Cuts (pipeline.h): an event the timeout (or the end) completed is
 * recorded as a cut in the registry, and its batch is held unsent until
 * the cut is said to be on disk; its ack drops the cut. A source made
 * later for a file with a cut past its start repeats it: "  two" would
 * have joined "x one" without it. */
static void a_timeout_cut_waits_for_its_save_and_is_repeated(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    char got[256];
    uint64_t cuts[4];
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true, "
             "\"timeout\": \"100ms\"}}");
    pipeline_set_cuts_saved(f->p, 0);
    struct pipe_src *a = pipe_src_new_file(f->p, f->pi, 7, "/a.log", 100, &err);
    assert_non_null(a);
    assert_int_equal(
        pipe_src_feed(a, "x head\n  c1\n", 12, &file_a, NULL, MTIME, &err), 0);
    assert_int_equal(pipe_src_drain(a, 0, &err), 0);
    pipeline_tick(f->p, 100);
    assert_int_equal(pipeline_drain(f->p, 100, &err), 0);
    for (int i = 0; i < 3; i++) { /* held, however often it is flushed */
        output_flush(f->o);
        turn(f);
    }
    assert_int_equal(f->got_len, 0);
    assert_false(output_idle(f->o));
    assert_int_equal(registry_cuts_added(f->reg), 1);
    assert_int_equal(registry_cuts(f->reg, 7, 100, cuts, 4), 1);
    assert_int_equal(cuts[0], 112);
    pipeline_set_cuts_saved(f->p, 1);
    assert_int_equal(events_out(f, 100), 1);
    messages(f, got, sizeof got);
    assert_string_equal(got, "x head\\n  c1|");
    assert_int_equal(offset_of(f, &file_a), 112);
    assert_int_equal(registry_cuts(f->reg, 7, 0, cuts, 4), 0); /* acked */
    pipe_src_free(a);

    /* a restart: b's cut at 6 was on disk when it was read before */
    uint64_t seq;
    assert_int_equal(registry_cut_add(f->reg, 8, 6, &seq, &err), 0);
    pipeline_set_cuts_saved(f->p, seq);
    f->got_len = 0;
    struct pipe_src *b = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(b);
    assert_int_equal(pipe_src_feed(b, "x one\n  two\nx three\n", 20, &file_b,
                                   NULL, MTIME, &err),
                     0);
    drain(f, b);
    /* the end of its bytes completes "x three": a cut too (a copytruncate
     * after it would have the copy repeat it), whose batch is held */
    pipe_src_end(b);
    drain(f, b);
    assert_int_equal(registry_cuts_added(f->reg), seq + 1);
    output_flush(f->o);
    turn(f);
    assert_false(output_idle(f->o));
    pipeline_set_cuts_saved(f->p, seq + 1);
    finish(f);
    messages(f, got, sizeof got);
    assert_string_equal(got, "x one|  two|x three|");
    assert_int_equal(offset_of(f, &file_b), 20);
    assert_int_equal(registry_cuts(f->reg, 8, 0, cuts, 4), 0);
    pipe_src_free(b);
}

static size_t count_in(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* REGISTRY_MAX_CUTS cuts waiting for their acks: the next cut event
 * waits in its joiner, the drain says "full" (no file is read), and the
 * user is told once in words, however often the drain tries again; the
 * acks that drop cuts let it go, said once too. */
static void the_cut_cap_is_said_once(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    uint64_t seq;
    FILE *log = tmpfile();
    assert_non_null(log);
    sl_log_set_fd(fileno(log));
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true, "
             "\"timeout\": \"100ms\"}}");
    for (uint64_t i = 1; i <= REGISTRY_MAX_CUTS; i++)
        assert_int_equal(registry_cut_add(f->reg, 7, 100 + i, &seq, &err), 0);
    pipeline_set_cuts_saved(f->p, seq);
    struct pipe_src *b = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(b);
    assert_int_equal(pipe_src_feed(b, "x b\n", 4, &file_b, NULL, MTIME, &err),
                     0);
    assert_int_equal(pipe_src_drain(b, 0, &err), 0);
    pipeline_tick(f->p, 100);
    for (int i = 0; i < 5; i++)
        assert_int_equal(pipeline_drain(f->p, 100 + i, &err), 1);
    assert_int_equal(registry_cuts_added(f->reg), REGISTRY_MAX_CUTS);
    /* a's acks past its cuts drop them: b's cut is recorded, its event
     * goes once saved */
    assert_int_equal(registry_ack(f->reg, &file_a, 7, NULL,
                                  100 + REGISTRY_MAX_CUTS, 2, &err),
                     1);
    assert_int_equal(pipeline_drain(f->p, 200, &err), 0);
    assert_int_equal(registry_cuts_added(f->reg), REGISTRY_MAX_CUTS + 1);
    pipeline_set_cuts_saved(f->p, REGISTRY_MAX_CUTS + 1);
    finish(f);
    char got[64];
    messages(f, got, sizeof got);
    assert_string_equal(got, "x b|");
    pipe_src_free(b);
    sl_log_flush();
    char text[4096];
    size_t n = (size_t)pread(fileno(log), text, sizeof text - 1, 0);
    text[n] = '\0';
    sl_log_set_fd(2);
    fclose(log);
    assert_int_equal(count_in(text, "4096 events completed by "
                                    "multiline.timeout, a flush or the wait "
                                    "for a split container line's rest are "
                                    "not acknowledged by Redis yet: no file "
                                    "is read until some are"),
                     1);
    assert_int_equal(count_in(text, "acknowledged again: reading goes on"), 1);
    assert_int_equal(count_in(text, "\n"), 2);
}

/* Several cuts before one save: two files' events cut by one tick are
 * held until a save covers both (one that covers the first only keeps the
 * hold); stdin's events are never held (no registry to repeat a cut). */
static void cuts_of_two_files_wait_for_the_save_of_both(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    char got[256];
    input(f, "{\"multiline\": {\"pattern\": \"^x\", \"negate\": true, "
             "\"timeout\": \"100ms\"}}");
    pipeline_set_cuts_saved(f->p, 0);
    struct pipe_src *a = pipe_src_new_file(f->p, f->pi, 7, "/a.log", 100, &err);
    struct pipe_src *b = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(pipe_src_feed(a, "x a\n", 4, &file_a, NULL, MTIME, &err),
                     0);
    assert_int_equal(pipe_src_feed(b, "x b\n", 4, &file_b, NULL, MTIME, &err),
                     0);
    assert_int_equal(pipeline_drain(f->p, 0, &err), 0);
    pipeline_tick(f->p, 100);
    assert_int_equal(pipeline_drain(f->p, 100, &err), 0);
    assert_int_equal(registry_cuts_added(f->reg), 2);
    pipeline_set_cuts_saved(f->p, 1);
    output_flush(f->o);
    turn(f);
    assert_int_equal(f->got_len, 0);
    pipeline_set_cuts_saved(f->p, 2);
    finish(f);
    messages(f, got, sizeof got); /* in the order the tick found them */
    assert_true(strcmp(got, "x a|x b|") == 0 || strcmp(got, "x b|x a|") == 0);
    pipe_src_free(a);
    pipe_src_free(b);

    f->got_len = 0;
    struct pipe_src *s = pipe_src_new_stdin(f->p, f->pi, 0, &err);
    assert_non_null(s);
    assert_int_equal(pipe_src_feed(s, "x in\n", 5, NULL, NULL, INT64_MAX, &err),
                     0);
    assert_int_equal(pipe_src_drain(s, 0, &err), 0);
    pipeline_tick(f->p, 100);
    assert_int_equal(pipeline_drain(f->p, 100, &err), 0);
    finish(f);
    messages(f, got, sizeof got);
    assert_string_equal(got, "x in|");
    assert_int_equal(registry_cuts_added(f->reg), 2);
    pipe_src_free(s);
}

/* A container log's record of the other stream ends the open event
 * (multiline_end): the bytes say so, so a read again ends it there too,
 * and it is no cut. Recorded as one (a flush), each stdout/stderr switch
 * of a busy pod cost a registry save before its batch could leave. */
static void a_stream_switch_is_not_a_cut(void **state)
{
    struct fx *f = *state;
    struct sl_err err = {0};
    char got[256];
    static const char cri[] = "2024-01-01T00:00:00.1Z stdout F x out\n"
                              "2024-01-01T00:00:00.2Z stdout F   more\n"
                              "2024-01-01T00:00:00.3Z stderr F x err\n";
    static const char json[] =
        "{\"format\": \"cri\", \"multiline\": {\"pattern\": \"^x\", "
        "\"negate\": true, \"timeout\": \"100ms\"}}";
    f->cfg = sl_config_load_buffer("t.json", json, sizeof json - 1, &err);
    assert_non_null(f->cfg);
    const struct sl_config_node *in = sl_config_root(f->cfg);
    f->pi = pipe_input_new("h", sl_config_get(in, "format"),
                           sl_config_get(in, "multiline"), NULL, NULL,
                           "inputs[0]", NULL, &err);
    assert_non_null(f->pi);
    pipeline_set_cuts_saved(f->p, 0);
    struct pipe_src *s = pipe_src_new_file(f->p, f->pi, 8, "/b.log", 0, &err);
    assert_non_null(s);
    assert_int_equal(
        pipe_src_feed(s, cri, sizeof cri - 1, &file_b, NULL, MTIME, &err), 0);
    drain(f, s);
    assert_int_equal(registry_cuts_added(f->reg), 0);
    output_flush(f->o);
    turn(f);
    messages(f, got, sizeof got); /* not held: "x err" is still open */
    assert_string_equal(got, "x out\\n  more|");
    pipe_src_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(byte_at_a_time_with_a_full_outbox,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            trailing_drops_move_the_registry_once_acked, setup, teardown),
        cmocka_unit_test_setup_teardown(a_freed_slot_acks_its_own_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            multiline_timeouts_among_many_quiet_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_drained_source_holds_no_multiline_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_timeout_cut_waits_for_its_save_and_is_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(
            cuts_of_two_files_wait_for_the_save_of_both, setup, teardown),
        cmocka_unit_test_setup_teardown(the_cut_cap_is_said_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_stream_switch_is_not_a_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_held_source_does_not_time_out, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
