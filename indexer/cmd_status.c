/* cmd_status.c: `sluice-indexer status`: Redis and Elasticsearch as the
 * indexer sees them, at a glance:
 *
 *   redis redis://127.0.0.1:6379/0: stream sluice:events, group sluice
 *     length        1200 entries
 *     pending       200, oldest 4s ago
 *     unread        1000, oldest 6s ago
 *     dead letters  0 in sluice:dead
 *   CONSUMER  PENDING  IDLE
 *   idx-1         200    1s
 *
 * then the Elasticsearch part (status_es.c). Lag is time: the age of the
 * oldest pending entry (XPENDING's smallest id) and of the oldest entry
 * not yet delivered to the group (the first after its last-delivered-id);
 * ages are measured on the Redis server's clock (TIME), which made the ids.
 *
 * hiredis blocking with a timeout: a one-shot command needs no loop. The
 * URL goes through sl_redis_url_parse, so it means what the daemon reads,
 * and only its shown form (password "***") is ever printed. Exit 1 when
 * Redis does not answer, or refuses a command of the report (an ACL
 * user's NOPERM, said with what to allow; TIME alone is not needed, this
 * host's clock stands in); Elasticsearch down is reported, not a
 * failure. */
#include "indexer_cli.h"

#include <ctype.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "sl_cli.h"
#include "sl_cli_table.h"
#include "sl_clock.h"
#include "sl_redis_url.h"

#define REDIS_TIMEOUT_MS 3000

/* A command; NULL with err set when Redis fails or answers an error. */
static redisReply *ask(redisContext *c, struct sl_err *err, int argc,
                       const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r == NULL) {
        sl_err_set(err, SL_EIO, "%s", c->errstr[0] ? c->errstr : "no answer");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        sl_err_set(err, SL_EREMOTE, "%s: %.200s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* A command whose answer is only "OK": 0, or -1 with err set. */
static int ask_ok(redisContext *c, struct sl_err *err, int argc,
                  const char **argv)
{
    redisReply *r = ask(c, err, argc, argv);
    freeReplyObject(r);
    return r != NULL ? 0 : -1;
}

struct redis_status {
    redisContext *c;
    const struct indexer_redis_config *cfg;
    long long now_ms; /* the server's clock */
    FILE *out;
    unsigned refused; /* commands the ACL refused: said, and exit 1 */
    char allow[256];  /* " +type +xinfo|groups": what to allow them */
};

/* A command of the report: as ask(), but a refusal of the user's ACL
 * (NOPERM) is noted, with the ACL name to allow ("+type",
 * "+xinfo|groups"), for one line on stderr at the end: the part of the
 * table it would fill says "unknown", where it read "does not exist yet"
 * or "length -1". Other errors (no such key...) stay quiet. */
static redisReply *query(struct redis_status *s, int argc, const char **argv)
{
    struct sl_err e = {0};
    redisReply *r = ask(s->c, &e, argc, argv);
    if (r == NULL && strstr(e.msg, "NOPERM") != NULL) {
        char acl[48];
        bool sub = argc > 1 && strcmp(argv[0], "XINFO") == 0;
        snprintf(acl, sizeof acl, " +%.20s%s%.20s", argv[0], sub ? "|" : "",
                 sub ? argv[1] : "");
        for (char *p = acl; *p != '\0'; p++)
            *p = (char)tolower((unsigned char)*p);
        size_t n = strlen(s->allow);
        if (strstr(s->allow, acl) == NULL && n + strlen(acl) < sizeof s->allow)
            memcpy(s->allow + n, acl, strlen(acl) + 1);
        s->refused++;
    }
    return r;
}

/* v as text, "unknown" for -1 (a command refused or failed). */
static const char *count_text(char *buf, size_t size, long long v)
{
    if (v < 0)
        return "unknown";
    snprintf(buf, size, "%lld", v);
    return buf;
}

/* An integer answer, or -1. */
static long long ask_int(struct redis_status *s, const char *cmd,
                         const char *key)
{
    const char *argv[] = {cmd, key};
    redisReply *r = query(s, 2, argv);
    long long v = r != NULL && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/* The value after name in a flat map reply (XINFO's RESP2 form). */
static const redisReply *map_get(const redisReply *m, const char *name)
{
    for (size_t i = 0; m->type == REDIS_REPLY_ARRAY && i + 1 < m->elements;
         i += 2)
        if (m->element[i]->type == REDIS_REPLY_STATUS ||
            m->element[i]->type == REDIS_REPLY_STRING)
            if (strcmp(m->element[i]->str, name) == 0)
                return m->element[i + 1];
    return NULL;
}

static long long map_int(const redisReply *m, const char *name)
{
    const redisReply *v = map_get(m, name);
    return v != NULL && v->type == REDIS_REPLY_INTEGER ? v->integer : -1;
}

/* The millisecond part of a stream id ("1700000000000-0"). */
static long long id_ms(const char *id)
{
    return id != NULL ? strtoll(id, NULL, 10) : -1;
}

static const char *age_ms(char *buf, size_t size, long long now, long long then)
{
    if (then < 0)
        return snprintf(buf, size, "-"), buf;
    return sl_cli_age(buf, size, (now - then) / 1000);
}

static int connect_redis(struct redis_status *s, const struct sl_redis_url *u,
                         struct sl_err *err)
{
    struct timeval tv = {REDIS_TIMEOUT_MS / 1000, 0};
    s->c = u->unix_socket ? redisConnectUnixWithTimeout(u->host, tv)
                          : redisConnectWithTimeout(u->host, u->port, tv);
    if (s->c == NULL || s->c->err)
        return sl_err_set(err, SL_EIO, "%s", s->c ? s->c->errstr : "no memory");
    if (redisSetTimeout(s->c, tv) != REDIS_OK)
        return sl_err_set(err, SL_EIO, "cannot set a timeout");
    char db[16];
    snprintf(db, sizeof db, "%d", u->db);
    const char *auth[] = {"AUTH", u->user[0] ? u->user : u->password,
                          u->password};
    const char *sel[] = {"SELECT", db}, *time_argv[] = {"TIME"};
    redisReply *r;
    if (u->password[0] && ask_ok(s->c, err, u->user[0] ? 3 : 2, auth) < 0)
        return -1;
    if (u->db != 0 && ask_ok(s->c, err, 2, sel) < 0)
        return -1;
    if ((r = ask(s->c, err, 1, time_argv)) == NULL) {
        if (strstr(err->msg, "NOPERM") == NULL)
            return -1;
        /* an ACL without +time: ages on this host's clock, near enough */
        *err = (struct sl_err){0};
        s->now_ms = sl_clock_wall_ms();
        return 0;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        s->now_ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
                    strtoll(r->element[1]->str, NULL, 10) / 1000;
    freeReplyObject(r);
    return 0;
}

/* The first entry after the group's last-delivered-id: its id's ms, or -1
 * when the group has read everything. */
static long long oldest_unread(struct redis_status *s, const char *last)
{
    const char *argv[] = {"XRANGE", s->cfg->key, last, "+", "COUNT", "2"};
    redisReply *r = query(s, 6, argv);
    long long ms = -1;
    for (size_t i = 0;
         r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements && ms < 0;
         i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
            strcmp(e->element[0]->str, last) != 0)
            ms = id_ms(e->element[0]->str);
    }
    freeReplyObject(r);
    return ms;
}

/* Pending count and the ms of the oldest pending id (XPENDING summary). */
static void pending(struct redis_status *s, long long *count, long long *ms)
{
    const char *argv[] = {"XPENDING", s->cfg->key, s->cfg->group};
    redisReply *r = query(s, 3, argv);
    *count = -1;
    *ms = -1;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
        *count = r->element[0]->integer;
        if (r->element[1]->type == REDIS_REPLY_STRING)
            *ms = id_ms(r->element[1]->str);
    }
    freeReplyObject(r);
}

static void print_consumers(struct redis_status *s)
{
    static const char *const head[] = {"CONSUMER", "PENDING", "IDLE"};
    const char *argv[] = {"XINFO", "CONSUMERS", s->cfg->key, s->cfg->group};
    unsigned refused = s->refused;
    redisReply *r = query(s, 4, argv);
    struct sl_cli_table t;
    char n[32], idle[SL_CLI_SHOWN_MAX];
    if (r == NULL && s->refused > refused)
        return; /* said on stderr */
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        fprintf(s->out, "  no consumers in group %s yet\n", s->cfg->group);
        freeReplyObject(r);
        return;
    }
    sl_cli_table_init(&t, 3, head, "lrr");
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *name = map_get(r->element[i], "name");
        long long ms = map_int(r->element[i], "idle");
        snprintf(n, sizeof n, "%lld", map_int(r->element[i], "pending"));
        /* Out of memory for a row: that consumer is missing, no more. */
        SL_IGNORE_RESULT(sl_cli_table_row(
            &t, NULL, name != NULL ? name->str : "?", n,
            ms < 0 ? "-" : sl_cli_age(idle, sizeof idle, ms / 1000)));
    }
    sl_cli_table_print(&t, s->out);
    sl_cli_table_free(&t);
    freeReplyObject(r);
}

/* The group's entry in XINFO GROUPS, or NULL (printed why). */
static const redisReply *find_group(struct redis_status *s,
                                    const redisReply *groups)
{
    for (size_t i = 0; i < groups->elements; i++) {
        const redisReply *name = map_get(groups->element[i], "name");
        if (name != NULL && strcmp(name->str, s->cfg->group) == 0)
            return groups->element[i];
    }
    fprintf(s->out,
            "  group %s does not exist yet (the indexer creates it "
            "when it starts)\n",
            s->cfg->group);
    return NULL;
}

/* "  pending       200, oldest 4s ago", or without the age when there is
 * no such entry. */
static void print_count(struct redis_status *s, const char *label,
                        const char *count, long long ms)
{
    char age[SL_CLI_SHOWN_MAX];
    if (ms < 0)
        fprintf(s->out, "  %-13s %s\n", label, count);
    else
        fprintf(s->out, "  %-13s %s, oldest %s ago\n", label, count,
                age_ms(age, sizeof age, s->now_ms, ms));
}

static void show_group(struct redis_status *s, const redisReply *g)
{
    char n[32];
    long long count, ms;
    pending(s, &count, &ms);
    print_count(s, "pending", count_text(n, sizeof n, count), ms);
    const redisReply *last = map_get(g, "last-delivered-id");
    long long unread_ms =
        last != NULL && last->str ? oldest_unread(s, last->str) : -1;
    long long lag = map_int(g, "lag"); /* Redis 7; nil when unknown */
    if (lag >= 0)
        snprintf(n, sizeof n, "%lld", lag);
    else
        snprintf(n, sizeof n, unread_ms < 0 ? "0" : "unknown number");
    print_count(s, "unread", n, unread_ms);
}

/* Whether key is of type want, or not there yet; else says what it holds
 * (an XLEN or LLEN of it answers an error: "length -1 entries"). */
static bool key_is(struct redis_status *s, const char *key, const char *want,
                   const char *fix)
{
    const char *argv[] = {"TYPE", key};
    redisReply *r = query(s, 2, argv);
    bool ok = r == NULL || r->type != REDIS_REPLY_STATUS ||
              strcmp(r->str, want) == 0 || strcmp(r->str, "none") == 0;
    if (!ok)
        fprintf(s->out, "  %s holds a %s, not a %s: %s\n", key, r->str, want,
                fix);
    freeReplyObject(r);
    return ok;
}

/* The dead-letter stream's length, with a warning past redis.dead_warn
 * (the threshold the daemon warns at too). */
static void show_dead(struct redis_status *s)
{
    if (!key_is(s, s->cfg->dead_key, "stream",
                "no dead letter can be written there; check redis.dead_key"))
        return;
    long long dead = ask_int(s, "XLEN", s->cfg->dead_key);
    char n[32];
    fprintf(s->out, "  dead letters  %s in %s", count_text(n, sizeof n, dead),
            s->cfg->dead_key);
    if (dead > s->cfg->dead_warn)
        fprintf(s->out,
                "  WARNING: more than %lld (redis.dead_warn); see "
                "'sluice-indexer dlq list'",
                s->cfg->dead_warn);
    fputc('\n', s->out);
}

static void show_stream(struct redis_status *s)
{
    const char *argv[] = {"XINFO", "GROUPS", s->cfg->key};
    long long len = ask_int(s, "XLEN", s->cfg->key);
    char n[32];
    fprintf(s->out, "  length        %s entr%s\n", count_text(n, sizeof n, len),
            len == 1 ? "y" : "ies");
    unsigned refused = s->refused;
    redisReply *groups = query(s, 3, argv);
    const redisReply *g = NULL;
    if (groups == NULL && s->refused > refused)
        fprintf(s->out, "  groups        unknown\n");
    else if (groups == NULL)
        fprintf(s->out, "  stream %s does not exist yet (nothing shipped)\n",
                s->cfg->key);
    else if (groups->type == REDIS_REPLY_ARRAY)
        g = find_group(s, groups);
    if (g != NULL)
        show_group(s, g);
    show_dead(s);
    if (g != NULL)
        print_consumers(s);
    freeReplyObject(groups);
}

#define MAX_PROCESSING 64 /* processing lists shown */

/* pattern: key with glob characters escaped, then ":processing:*". */
static void processing_pattern(const char *key, char *buf, size_t size)
{
    size_t n = 0;
    for (; *key && n + 16 < size; key++) {
        if (strchr("*?[]\\", *key))
            buf[n++] = '\\';
        buf[n++] = *key;
    }
    snprintf(buf + n, size - n, ":processing:*");
}

/* Each indexer's processing list (KEY:processing:CONSUMER, where list mode
 * keeps what it took until it is indexed), found with SCAN. */
static void show_processing(struct redis_status *s)
{
    static const char *const head[] = {"PROCESSING LIST", "LENGTH"};
    char pattern[1024], cursor[32] = "0", n[32];
    struct sl_cli_table t;
    processing_pattern(s->cfg->key, pattern, sizeof pattern);
    sl_cli_table_init(&t, 2, head, "lr");
    do {
        const char *argv[] = {"SCAN",  cursor,  "MATCH",
                              pattern, "COUNT", "1000"};
        redisReply *r = query(s, 6, argv);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements && t.nrows < MAX_PROCESSING;
             i++) {
            snprintf(n, sizeof n, "%lld",
                     ask_int(s, "LLEN", keys->element[i]->str));
            SL_IGNORE_RESULT(
                sl_cli_table_row(&t, NULL, keys->element[i]->str, n));
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && t.nrows < MAX_PROCESSING);
    if (t.nrows > 0)
        sl_cli_table_print(&t, s->out);
    else
        fprintf(s->out, "  no processing lists (no indexer holds events)\n");
    sl_cli_table_free(&t);
}

static void show_list(struct redis_status *s)
{
    long long len = ask_int(s, "LLEN", s->cfg->key);
    char n[32];
    fprintf(s->out, "  length        %s event%s\n",
            count_text(n, sizeof n, len), len == 1 ? "" : "s");
    show_dead(s);
    show_processing(s);
}

/* 0 reported, 1 reported with a part missing (a command the user's ACL
 * refused, said on stderr), -1 Redis did not answer, or refused AUTH or
 * SELECT (SL_EREMOTE; err says why). */
static int show_redis(const struct indexer_redis_config *cfg, FILE *out,
                      struct sl_err *err)
{
    struct sl_redis_url u;
    struct redis_status s = {.cfg = cfg, .out = out};
    int rc = -1;
    if (sl_redis_url_parse(cfg->url, &u, err) < 0)
        return -1;
    if (connect_redis(&s, &u, err) < 0) {
        if (err->status == SL_EREMOTE) /* AUTH or SELECT refused */
            sl_err_prefix(err, "Redis at %s refused", u.shown);
        else
            sl_err_prefix(err, "Redis at %s does not answer", u.shown);
        goto done;
    }
    if (cfg->mode == SL_REDIS_STREAM)
        fprintf(out, "redis %s: stream %s, group %s\n", u.shown, cfg->key,
                cfg->group);
    else
        fprintf(out, "redis %s: list %s\n", u.shown, cfg->key);
    if (!key_is(&s, cfg->key, cfg->mode == SL_REDIS_STREAM ? "stream" : "list",
                "the indexer cannot read it; check redis.key and redis.mode"))
        show_dead(&s);
    else if (cfg->mode == SL_REDIS_STREAM)
        show_stream(&s);
    else
        show_list(&s);
    rc = 0;
    if (s.refused > 0) {
        fflush(out);
        fprintf(stderr,
                INDEXER_PROG ": status: Redis refused commands of this "
                             "report to redis.url's user (NOPERM), so parts "
                             "of it are unknown or missing; allow it%s "
                             "(README: a Redis ACL user)\n",
                s.allow);
        rc = 1;
    }
done:
    memset(u.password, 0, sizeof u.password);
    redisFree(s.c);
    return rc;
}

int indexer_cmd_status(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    int rc = SL_CLI_EXIT_OK, shown = show_redis(&l.ic.redis, stdout, &err);
    if (shown < 0) {
        fflush(stdout);
        fprintf(stderr, INDEXER_PROG ": %s; %s\n", err.msg,
                err.status == SL_EREMOTE
                    ? "check the user, password and database in redis.url"
                    : "is redis-server running?");
        rc = SL_CLI_EXIT_FAIL;
    }
    if (rc == SL_CLI_EXIT_OK)
        fputc('\n', stdout); /* between the two parts */
    if (shown > 0)
        rc = SL_CLI_EXIT_FAIL; /* a command refused: the report is short */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        indexer_status_es(&l.ic.elasticsearch, stdout);
        curl_global_cleanup();
    }
    indexer_cli_unload(&l);
    return rc;
}
