/* redis_durability.c: a Redis without an append-only file, said once at
 * start (redis_durability.h). */
#include "redis_durability.h"

#include <string.h>

#include "sl_log.h"

#define COMP "redis"

void redis_durability_init(struct redis_durability *d, struct sl_redis *r,
                           const char *key)
{
    *d = (struct redis_durability){.r = r, .key = key};
}

/* "aof_enabled:0" as a line of INFO's text (CRLF-separated). */
static bool aof_off(const char *info)
{
    const char *p = strstr(info, "aof_enabled:");
    return p != NULL && (p == info || p[-1] == '\n') &&
           p[strlen("aof_enabled:")] == '0';
}

static void on_info(void *ctx, const struct sl_redis_result *res)
{
    struct redis_durability *d = ctx;
    d->asking = false;
    if (res->status == SL_REDIS_ECLOSED || d->done)
        return;
    if (res->status == SL_REDIS_EREPLY) {
        SL_DEBUG(COMP, "INFO persistence: %s; not checked", res->reply->str);
        d->done = true;
        return;
    }
    if (res->status == SL_REDIS_ELOST)
        return; /* asked again once READY */
    if (res->status != SL_REDIS_OK) {
        /* no answer in time: not asked again, so a server that never
         * answers INFO costs one command, not one every deadline */
        SL_DEBUG(COMP, "INFO persistence: %s; not checked", res->why);
        d->done = true;
        return;
    }
    d->done = true;
    if (res->reply->type != REDIS_REPLY_STRING || !aof_off(res->reply->str))
        SL_DEBUG(COMP, "%s keeps an append-only file (or said nothing of it)",
                 sl_redis_shown(d->r));
    else
        SL_WARN(COMP,
                "%s keeps no append-only file (INFO persistence: "
                "aof_enabled:0): if Redis crashes, or stops without "
                "saving, the entries of %s that no indexer has read are "
                "lost, and no shipper sends them again (README: Redis "
                "restarts); 'appendonly yes' with 'appendfsync always' "
                "loses none",
                sl_redis_shown(d->r), d->key);
}

void redis_durability_poll(struct redis_durability *d)
{
    static const char *const argv[] = {"INFO", "persistence"};
    struct sl_redis_cmd cmd = {2, (const char **)argv, NULL, -1, 0};
    struct sl_err err = {0};
    if (d->done || d->asking || sl_redis_state(d->r) != SL_REDIS_READY)
        return;
    if (sl_redis_command(d->r, &cmd, on_info, d, &err) < 0) {
        SL_DEBUG(COMP, "INFO persistence: %s", err.msg);
        return; /* the queue is full: asked at a later pass */
    }
    d->asking = true;
}
