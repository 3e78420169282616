/* dlq.c: the dead-letter stream read back (dlq.h). Fields are taken by
 * name, unknown ones ignored, as deadletter.h asks of a reader. */
#include "dlq.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "deadletter.h"
#include "sl_redis_url.h"

static int ask_ok(redisContext *c, int argc, const char **argv,
                  const char *shown, struct sl_err *err)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    int rc = 0;
    if (r == NULL)
        rc = sl_err_set(err, SL_EIO, "redis %s: %s", shown, c->errstr);
    else if (r->type == REDIS_REPLY_ERROR) /* AUTH or SELECT refused */
        rc = sl_err_set(err, SL_EREMOTE,
                        "redis %s: %s: %.200s; check the user, password and "
                        "database in redis.url",
                        shown, argv[0], r->str);
    freeReplyObject(r);
    return rc;
}

redisContext *dlq_connect(const char *url, struct sl_err *err)
{
    struct sl_redis_url u;
    struct timeval tv = {DLQ_TIMEOUT_MS / 1000, 0};
    char db[16];
    if (sl_redis_url_parse(url, &u, err) < 0)
        return NULL;
    redisContext *c = u.unix_socket
                          ? redisConnectUnixWithTimeout(u.host, tv)
                          : redisConnectWithTimeout(u.host, u.port, tv);
    if (c == NULL || c->err) {
        sl_err_set(err, SL_EIO,
                   "redis %s: %s; is Redis running, and is redis.url right?",
                   u.shown, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    snprintf(db, sizeof db, "%d", u.db);
    const char *auth[] = {"AUTH", u.user[0] ? u.user : u.password, u.password};
    const char *sel[] = {"SELECT", db};
    if (redisSetTimeout(c, tv) != REDIS_OK ||
        (u.password[0] &&
         ask_ok(c, u.user[0] ? 3 : 2, auth, u.shown, err) < 0) ||
        (u.db != 0 && ask_ok(c, 2, sel, u.shown, err) < 0)) {
        redisFree(c);
        return NULL;
    }
    memset(u.password, 0, sizeof u.password);
    return c;
}

static struct sl_slice str_slice(const redisReply *r)
{
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        return (struct sl_slice){"", 0};
    return (struct sl_slice){r->str, r->len};
}

static bool name_is(const redisReply *r, const char *name)
{
    size_t n = strlen(name);
    return r->type == REDIS_REPLY_STRING && r->len == n &&
           memcmp(r->str, name, n) == 0;
}

/* One XRANGE entry [id, [name, value, ...]] into l; false when it is not
 * shaped so. */
static bool take_letter(const redisReply *e, struct dlq_letter *l)
{
    memset(l, 0, sizeof *l);
    l->type = l->reason = l->index = l->id = l->ts = l->source = l->host =
        l->event = (struct sl_slice){"", 0};
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[0]->len >= DLQ_ID_MAX ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return false;
    memcpy(l->entry_id, e->element[0]->str, e->element[0]->len);
    l->entry_ms = strtoll(l->entry_id, NULL, 10);
    const redisReply *f = e->element[1];
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"error.type", offsetof(struct dlq_letter, type)},
        {"error.reason", offsetof(struct dlq_letter, reason)},
        {"index", offsetof(struct dlq_letter, index)},
        {"id", offsetof(struct dlq_letter, id)},
        {"ts", offsetof(struct dlq_letter, ts)},
        {"source", offsetof(struct dlq_letter, source)},
        {"host", offsetof(struct dlq_letter, host)},
        {"event", offsetof(struct dlq_letter, event)},
    };
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if (name_is(f->element[i], fields[k].name))
                *(struct sl_slice *)(void *)((char *)l + fields[k].off) =
                    str_slice(f->element[i + 1]);
        if (name_is(f->element[i], "status"))
            l->status = (int)strtol(str_slice(f->element[i + 1]).ptr, NULL, 10);
    }
    return true;
}

int dlq_page_read(redisContext *c, const char *key, const char *after,
                  size_t count, struct dlq_page *p, struct sl_err *err)
{
    char start[DLQ_ID_MAX + 1], cnt[24];
    dlq_page_free(p);
    snprintf(start, sizeof start, "%s%s", after[0] ? "(" : "-", after);
    snprintf(cnt, sizeof cnt, "%zu", count);
    const char *argv[] = {"XRANGE", key, start, "+", "COUNT", cnt};
    p->reply = redisCommandArgv(c, 6, argv, NULL);
    if (p->reply == NULL)
        return sl_err_set(err, SL_EIO, "XRANGE %s: %s", key, c->errstr);
    if (p->reply->type != REDIS_REPLY_ARRAY) {
        sl_err_set(err, SL_EREMOTE, "XRANGE %s: %.200s", key,
                   p->reply->type == REDIS_REPLY_ERROR ? p->reply->str
                                                       : "not an array");
        dlq_page_free(p);
        return -1;
    }
    p->letters = calloc(p->reply->elements + 1, sizeof *p->letters);
    if (p->letters == NULL) {
        dlq_page_free(p);
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->reply->elements; i++)
        if (take_letter(p->reply->element[i], &p->letters[p->n]))
            p->n++;
    return 0;
}

void dlq_page_free(struct dlq_page *p)
{
    freeReplyObject(p->reply);
    free(p->letters);
    memset(p, 0, sizeof *p);
}

bool dlq_replayable(const struct dlq_letter *l)
{
    return l->id.len > 0 && l->ts.len > 0 && l->event.len > 0 &&
           !sl_slice_eq(l->type, DEADLETTER_TYPE_EVENT,
                        strlen(DEADLETTER_TYPE_EVENT));
}
