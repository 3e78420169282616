/* cmd_dlq_replay.c: `sluice-indexer dlq replay`: every dead letter's event
 * sent to Elasticsearch again, with its own _id (so a letter written twice,
 * or an event indexed since, is a 409 and counts as done) and the index it
 * was sent to (recomputed from its time and event by elasticsearch.index
 * when the letter has none). The stream is read in pages (dlq.h); a page's
 * events go through the bulk sender (es_sender.h: retries, 413 splits, the
 * node list), and once every one of them has its outcome the letters whose
 * event is indexed or already there are deleted (XDEL, and their seen
 * keys, deadletter.h, with DEL), the others stay
 * as they are, so none is lost: those that fail again keep their letter,
 * and their new reason is printed. Letters of whole entries and of list
 * elements that were not JSON cannot be sent and stay too. A list
 * element's letter holds the element as it was read: it is sent as the
 * list input sends it (list_event.h: its time added when it has none,
 * Logstash's legacy "host" and "agent" fitted to the template), so the
 * letters an older indexer wrote for those fields can be replayed.
 *
 * A blocking command with a small poll loop of its own around the sender;
 * it gives up, keeping every letter not yet resolved, when no outcome came
 * for STALL_MS (Elasticsearch down). */
#include "indexer_cli.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "deadletter.h"
#include "dlq.h"
#include "es_sender.h"
#include "index_name.h"
#include "list_event.h"
#include "sl_cli.h"
#include "sl_clock.h"
#include "sl_log.h"

#define STALL_MIN_MS 30000
#define AGAIN_SHOWN  5
#define AGAIN_MAX    600

enum fate { F_PENDING, F_DONE, F_DUPLICATE, F_DEAD, F_SKIPPED };

struct replay {
    const struct indexer_config *ic;
    redisContext *c;
    struct es_sender *es;
    struct index_name *names;
    struct pollfd *pfds;
    size_t max_pfds;
    struct dlq_page page;
    enum fate *fate;
    char **lines; /* a list element's bulk line, per letter of the page */
    struct sl_date *iso;
    int64_t last_progress, stall_ms;
    unsigned long long n[F_SKIPPED + 1];
    char again[AGAIN_SHOWN][AGAIN_MAX];
    size_t nagain;
};

static void on_outcome(void *ctx, uint64_t tag, enum es_outcome o,
                       const struct es_dead *d)
{
    struct replay *r = ctx;
    r->last_progress = sl_clock_mono_ms();
    r->fate[tag] = o == ES_OUTCOME_DONE        ? F_DONE
                   : o == ES_OUTCOME_DUPLICATE ? F_DUPLICATE
                                               : F_DEAD;
    r->n[r->fate[tag]]++;
    if (o != ES_OUTCOME_DEAD)
        return;
    char line[AGAIN_MAX];
    if (d->cause_type.len > 0)
        snprintf(line, sizeof line, "%.*s: %.*s (caused by %.*s: %.*s)",
                 (int)d->type.len, d->type.ptr, (int)d->reason.len,
                 d->reason.ptr, (int)d->cause_type.len, d->cause_type.ptr,
                 (int)d->cause_reason.len, d->cause_reason.ptr);
    else
        snprintf(line, sizeof line, "%.*s: %.*s", (int)d->type.len, d->type.ptr,
                 (int)d->reason.len, d->reason.ptr);
    for (size_t i = 0; i < r->nagain; i++)
        if (strcmp(r->again[i], line) == 0)
            return;
    if (r->nagain < AGAIN_SHOWN)
        memcpy(r->again[r->nagain++], line, sizeof line);
}

/* One poll of the sender; -1 once nothing came back for stall_ms. */
static int pump(struct replay *r, struct sl_err *err)
{
    size_t n = es_sender_fill_pollfds(r->es, r->pfds, r->max_pfds);
    int t = es_sender_timeout_ms(r->es);
    if (t < 0 || t > 1000)
        t = 1000;
    poll(r->pfds, n, t);
    es_sender_process(r->es, r->pfds, n);
    if (sl_clock_mono_ms() - r->last_progress > r->stall_ms)
        return sl_err_set(err, SL_EIO,
                          "Elasticsearch gave no answer for %lld s (see the "
                          "log above); the letters not replayed stay in %s",
                          (long long)(r->stall_ms / 1000),
                          r->ic->redis.dead_key);
    return 0;
}

/* Letter i's event as the list input sends it, when it is a list
 * element's (source "list KEY"); else, or when it does not parse (sent as
 * it is: Elasticsearch says why), the event as it is. */
static int letter_json(struct replay *r, size_t i, struct sl_slice *json,
                       struct sl_err *err)
{
    const struct dlq_letter *l = &r->page.letters[i];
    struct list_event le;
    struct sl_err perr;
    *json = l->event;
    if (l->source.len < 5 || memcmp(l->source.ptr, "list ", 5) != 0 ||
        list_event_parse(r->iso, l->event.ptr, l->event.len,
                         strtoll(l->ts.ptr, NULL, 10), &le, &perr) < 0)
        return 0;
    size_t size = list_event_line_size(&le, l->event.len);
    if (size == 0)
        return 0;
    if ((r->lines[i] = malloc(size)) == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    *json = (struct sl_slice){
        r->lines[i],
        list_event_copy_fixed(&le, r->lines[i], l->event.ptr, l->event.len)};
    return 0;
}

static int send_letter(struct replay *r, size_t i, struct sl_err *err)
{
    const struct dlq_letter *l = &r->page.letters[i];
    struct sl_slice index = l->index, json;
    if (!dlq_replayable(l)) {
        r->fate[i] = F_SKIPPED;
        r->n[F_SKIPPED]++;
        return 0;
    }
    if (index.len == 0)
        index =
            index_name_format(r->names, strtoll(l->ts.ptr, NULL, 10), l->event);
    while (!es_sender_has_room(r->es))
        if (pump(r, err) < 0)
            return -1;
    if (letter_json(r, i, &json, err) < 0)
        return -1;
    r->fate[i] = F_PENDING;
    return es_sender_add(r->es, index.ptr, index.len, l->id.ptr, l->id.len,
                         json.ptr, json.len, i, err);
}

/* Whether letter i's event is in Elasticsearch now. */
static bool resolved(const struct replay *r, size_t i)
{
    return r->fate[i] == F_DONE || r->fate[i] == F_DUPLICATE;
}

/* DEL of the seen keys (deadletter.h) of the letters deleted: the keys
 * would expire anyway and no longer hide anything once their letter is
 * gone, so a failure here costs only memory until then. */
static void forget_seen(struct replay *r)
{
    char(*keys)[DEADLETTER_SEEN_KEY_MAX] = calloc(r->page.n, sizeof *keys);
    const char **argv = calloc(r->page.n + 1, sizeof *argv);
    int argc = 1;
    if (keys == NULL || argv == NULL)
        goto out;
    argv[0] = "DEL";
    for (size_t i = 0; i < r->page.n; i++)
        if (resolved(r, i) &&
            deadletter_seen_key(r->ic->redis.dead_key, r->page.letters[i].id,
                                keys[i], sizeof keys[i]) > 0)
            argv[argc++] = keys[i];
    if (argc > 1)
        freeReplyObject(redisCommandArgv(r->c, argc, argv, NULL));
out:
    free(argv);
    free(keys);
}

/* XDEL of the page's letters whose event is in Elasticsearch now. */
static int delete_done(struct replay *r, struct sl_err *err)
{
    const char **argv = calloc(r->page.n + 2, sizeof *argv);
    int argc = 2;
    if (argv == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    argv[0] = "XDEL";
    argv[1] = r->ic->redis.dead_key;
    for (size_t i = 0; i < r->page.n; i++)
        if (resolved(r, i))
            argv[argc++] = r->page.letters[i].entry_id;
    redisReply *rep =
        argc > 2 ? redisCommandArgv(r->c, argc, argv, NULL) : NULL;
    int rc = 0;
    if (argc > 2 && (rep == NULL || rep->type == REDIS_REPLY_ERROR))
        rc = sl_err_set(err, SL_EIO,
                        "XDEL %s: %s; those letters' events are indexed, "
                        "a replay again finds them there (409)",
                        r->ic->redis.dead_key, rep ? rep->str : r->c->errstr);
    else if (argc > 2)
        forget_seen(r);
    freeReplyObject(rep);
    free(argv);
    return rc;
}

static void free_lines(struct replay *r, size_t n)
{
    for (size_t i = 0; r->lines != NULL && i < n; i++)
        free(r->lines[i]);
    free(r->lines);
    r->lines = NULL;
}

static int replay_page(struct replay *r, struct sl_err *err)
{
    free(r->fate);
    r->fate = calloc(r->page.n, sizeof *r->fate);
    r->lines = calloc(r->page.n, sizeof *r->lines);
    if (r->fate == NULL || r->lines == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    r->last_progress = sl_clock_mono_ms();
    for (size_t i = 0; i < r->page.n; i++)
        if (send_letter(r, i, err) < 0)
            return -1;
    es_sender_flush(r->es);
    while (es_sender_pending(r->es) > 0)
        if (pump(r, err) < 0)
            return -1;
    return delete_done(r, err);
}

static int replay_all(struct replay *r, struct sl_err *err)
{
    char after[DLQ_ID_MAX] = "";
    for (;;) {
        if (dlq_page_read(r->c, r->ic->redis.dead_key, after, DLQ_PAGE,
                          &r->page, err) < 0)
            return -1;
        if (r->page.n == 0)
            return 0;
        if (replay_page(r, err) < 0)
            return -1; /* the lines go after the sender, which may hold them */
        free_lines(r, r->page.n);
        snprintf(after, sizeof after, "%s",
                 r->page.letters[r->page.n - 1].entry_id);
    }
}

static void print_summary(const struct replay *r)
{
    unsigned long long total =
        r->n[F_DONE] + r->n[F_DUPLICATE] + r->n[F_DEAD] + r->n[F_SKIPPED];
    printf("%llu dead letters in %s: %llu indexed, %llu already there "
           "(409), %llu failed again (kept), %llu not replayable (kept: "
           "whole entries, elements that are not JSON)\n",
           total, r->ic->redis.dead_key, r->n[F_DONE], r->n[F_DUPLICATE],
           r->n[F_DEAD], r->n[F_SKIPPED]);
    for (size_t i = 0; i < r->nagain; i++)
        printf("failed again: %s\n", r->again[i]);
}

static int start(struct replay *r, struct sl_err *err)
{
    const struct indexer_es_config *ec = &r->ic->elasticsearch;
    struct es_sender_config sc;
    const char *iso[] = {"ISO8601"};
    if ((r->c = dlq_connect(r->ic->redis.url, err)) == NULL ||
        (r->names = index_name_new(ec->index, ec->index_fallback, err)) ==
            NULL ||
        (r->iso = sl_date_compile(iso, 1, NULL, err)) == NULL)
        return -1;
    es_sender_config_from(&sc, ec);
    sc.on_outcome = on_outcome;
    sc.ctx = r;
    if ((r->es = es_sender_new(&sc, err)) == NULL)
        return -1;
    r->max_pfds = es_sender_max_pollfds(r->es);
    r->pfds = calloc(r->max_pfds + 1, sizeof *r->pfds);
    if (r->pfds == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    r->stall_ms = 2 * ec->request_timeout_ms;
    if (r->stall_ms < STALL_MIN_MS)
        r->stall_ms = STALL_MIN_MS;
    return 0;
}

static int replay_run(const struct indexer_config *ic, struct sl_err *err)
{
    struct replay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    r->ic = ic;
    int rc = start(r, err);
    if (rc == 0) {
        rc = replay_all(r, err);
        /* not before it started: "0 dead letters" would be a guess */
        print_summary(r);
    }
    es_sender_free(r->es);
    free_lines(r, r->page.n);
    index_name_free(r->names);
    sl_date_free(r->iso);
    dlq_page_free(&r->page);
    redisFree(r->c);
    free(r->fate);
    free(r->pfds);
    free(r);
    return rc;
}

int indexer_cmd_dlq_replay(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    struct sigaction ign = {.sa_handler = SIG_IGN};
    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    sl_log_init(l.ic.log.level, l.ic.log.format);
    sigaction(SIGPIPE, &ign, NULL);
    int rc = -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        sl_err_set(&err, SL_EIO, "libcurl did not initialise");
    else
        rc = replay_run(&l.ic, &err);
    if (rc < 0)
        fprintf(stderr, INDEXER_PROG ": dlq replay: %s\n", err.msg);
    curl_global_cleanup();
    indexer_cli_unload(&l);
    return rc < 0 ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_OK;
}
