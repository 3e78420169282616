/* consumer_sweep.c: one EVAL per sweep (consumer_sweep.h says what and
 * when), its answer said in the log. */
#include "consumer_sweep.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"

/* KEYS[1] the stream, KEYS[2] our own mark; ARGV: the group, our
 * consumer, forget_idle in ms, the marks' prefix. Renews our mark, then
 * removes the others that hold nothing, are idle forget_idle and have no
 * mark. Returns name, idle, name, idle ... of those removed. A stream or
 * group not there yet is nothing to sweep. Each call is a pcall: an ACL
 * user's refusal inside a script is "ERR The user executing the script
 * can't run this command or subcommand", which names no command, so the
 * script answers "NOPERM <the command> refused: ..." itself (SET, EXISTS,
 * XINFO CONSUMERS or XGROUP DELCONSUMER), and the warning says which. */
#define SWEEP_SCRIPT                                                           \
    "local function call(what, ...)\n"                                         \
    "  local r = redis.pcall(...)\n"                                           \
    "  if type(r) ~= 'table' or not r.err then return r end\n"                 \
    "  local e = r.err\n"                                                      \
    "  if string.find(e, \"can't\", 1, true) or\n"                             \
    "     string.find(e, 'NOPERM', 1, true) or\n"                              \
    "     string.find(e, 'no permission', 1, true) then\n"                     \
    "    e = 'NOPERM ' .. what .. ' refused: ' .. e\n"                         \
    "  end\n"                                                                  \
    "  return nil, e\n"                                                        \
    "end\n"                                                                    \
    "local r, e = call('SET ' .. KEYS[2], 'SET', KEYS[2], '1', 'PX', "         \
    "ARGV[3])\n"                                                               \
    "if e then return redis.error_reply(e) end\n"                              \
    "local list\n"                                                             \
    "list, e = call('XINFO CONSUMERS', 'XINFO', 'CONSUMERS', KEYS[1], "        \
    "ARGV[1])\n"                                                               \
    "if e then\n"                                                              \
    "  if string.find(e, 'NOGROUP') or\n"                                      \
    "     string.find(e, 'no such key') then return {} end\n"                  \
    "  return redis.error_reply(e)\n"                                          \
    "end\n"                                                                    \
    "local out = {}\n"                                                         \
    "for _, c in ipairs(list) do\n"                                            \
    "  local f = {}\n"                                                         \
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"                           \
    "  if f['name'] ~= ARGV[2] and f['pending'] == 0 and\n"                    \
    "     f['idle'] >= tonumber(ARGV[3]) then\n"                               \
    "    local mark = ARGV[4] .. f['name']\n"                                  \
    "    local there\n"                                                        \
    "    there, e = call('EXISTS ' .. mark, 'EXISTS', mark)\n"                 \
    "    if e then return redis.error_reply(e) end\n"                          \
    "    if there == 0 then\n"                                                 \
    "      r, e = call('XGROUP DELCONSUMER', 'XGROUP', 'DELCONSUMER',\n"       \
    "                  KEYS[1], ARGV[1], f['name'])\n"                         \
    "      if e then return redis.error_reply(e) end\n"                        \
    "      out[#out + 1] = f['name']\n"                                        \
    "      out[#out + 1] = f['idle']\n"                                        \
    "    end\n"                                                                \
    "  end\n"                                                                  \
    "end\n"                                                                    \
    "return out\n"

struct consumer_sweep {
    struct sl_redis *r;
    char *key, *group, *consumer;
    char *mark, *mark_prefix; /* "{KEY}:alive:CONSUMER", "{KEY}:alive:" */
    char component[96];
    long long forget_idle_ms;
    int64_t every_ms, next_ms; /* next_ms -1: stopped */
    bool in_flight, closing;
    uint64_t removed;
};

static void sweep_free(struct consumer_sweep *cs)
{
    free(cs->key);
    free(cs->group);
    free(cs->consumer);
    free(cs->mark);
    free(cs->mark_prefix);
    free(cs);
}

/* Redis refuses the script itself: no sweep will ever pass. */
static bool scripts_refused(const struct sl_redis_result *res)
{
    if (res->status != SL_REDIS_EREPLY)
        return false;
    const char *s = res->reply->str;
    return strncmp(s, "NOPERM", 6) == 0 ||
           strncmp(s, "ERR unknown command", 19) == 0;
}

/* One line: how many were removed, and the first ones' names and idle
 * times. */
static void say_removed(const struct consumer_sweep *cs, const redisReply *r)
{
    char names[1024];
    size_t n = r->elements / 2, at = 0;
    names[0] = '\0';
    for (size_t i = 0; i < n && i < CONSUMER_SWEEP_NAMES_SHOWN; i++) {
        const redisReply *name = r->element[2 * i],
                         *idle = r->element[2 * i + 1];
        int w = snprintf(
            names + at, sizeof names - at, "%s\"%.*s\" (idle %lld s)",
            i > 0 ? ", " : "",
            name->type == REDIS_REPLY_STRING ? (int)name->len : 0,
            name->type == REDIS_REPLY_STRING ? name->str : "",
            idle->type == REDIS_REPLY_INTEGER ? idle->integer / 1000 : 0LL);
        if (w < 0 || (size_t)w >= sizeof names - at)
            break;
        at += (size_t)w;
    }
    SL_INFO(cs->component,
            "removed %zu consumer%s of group %s on %s that held nothing and "
            "were idle %lld s or more (redis.forget_idle): %s%s",
            n, n == 1 ? "" : "s", cs->group, cs->key, cs->forget_idle_ms / 1000,
            names, n > CONSUMER_SWEEP_NAMES_SHOWN ? " and more" : "");
}

static void on_sweep(void *ctx, const struct sl_redis_result *res)
{
    struct consumer_sweep *cs = ctx;
    cs->in_flight = false;
    if (cs->closing) {
        sweep_free(cs);
        return;
    }
    cs->next_ms = sl_redis_now_ms() + cs->every_ms;
    if (res->status == SL_REDIS_OK && res->reply->type == REDIS_REPLY_ARRAY) {
        if (res->reply->elements >= 2) {
            cs->removed += res->reply->elements / 2;
            say_removed(cs, res->reply);
        }
        return;
    }
    if (scripts_refused(res)) {
        SL_WARN(cs->component,
                "idle consumers of group %s on %s are not removed: EVAL: %s; "
                "give the indexer's Redis user +eval +set +exists "
                "+xinfo|consumers +xgroup|delconsumer and the keys "
                "{%s}:alive:* (README: a Redis ACL user), or remove them by "
                "hand (XGROUP DELCONSUMER); the indexer goes on without",
                cs->group, cs->key, res->reply->str, cs->key);
        cs->next_ms = -1;
        return;
    }
    /* Redis down or slow: said by the connection; an error reply (the key
     * is not a stream...) is said here, at each sweep */
    if (res->status == SL_REDIS_EREPLY)
        SL_WARN(cs->component,
                "removing idle consumers of group %s on %s: %s; tried again "
                "in %lld s",
                cs->group, cs->key, res->reply->str,
                (long long)(cs->every_ms / 1000));
    else
        SL_DEBUG(cs->component, "sweep of idle consumers on %s: %s", cs->key,
                 res->why);
}

void consumer_sweep_process(struct consumer_sweep *cs)
{
    int64_t now = sl_redis_now_ms();
    if (cs->in_flight || cs->next_ms < 0 || now < cs->next_ms)
        return;
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", cs->forget_idle_ms);
    const char *argv[] = {"EVAL",       SWEEP_SCRIPT, "2",
                          cs->key,      cs->mark,     cs->group,
                          cs->consumer, idle,         cs->mark_prefix};
    struct sl_redis_cmd cmd = {9, argv, NULL, 3, 0};
    struct sl_err err;
    if (sl_redis_command(cs->r, &cmd, on_sweep, cs, &err) < 0) {
        /* the queue is full or memory short: at the next sweep */
        cs->next_ms = now + cs->every_ms;
        return;
    }
    cs->in_flight = true;
}

int consumer_sweep_timeout_ms(const struct consumer_sweep *cs)
{
    if (cs->in_flight || cs->next_ms < 0)
        return -1;
    int64_t left = cs->next_ms - sl_redis_now_ms();
    return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

uint64_t consumer_sweep_removed(const struct consumer_sweep *cs)
{
    return cs->removed;
}

struct consumer_sweep *consumer_sweep_new(const struct consumer_sweep_config *c,
                                          struct sl_redis *cmd,
                                          struct sl_err *err)
{
    struct consumer_sweep *cs = calloc(1, sizeof *cs);
    if (cs == NULL)
        goto fail;
    cs->key = strdup(c->key);
    cs->group = strdup(c->group);
    cs->consumer = strdup(c->consumer);
    if (cs->key == NULL || cs->group == NULL || cs->consumer == NULL)
        goto fail;
    size_t n = strlen(c->key) + sizeof "{}:alive:";
    cs->mark_prefix = malloc(n);
    cs->mark = malloc(n + strlen(c->consumer));
    if (cs->mark_prefix == NULL || cs->mark == NULL)
        goto fail;
    snprintf(cs->mark_prefix, n, "{%s}:alive:", c->key);
    snprintf(cs->mark, n + strlen(c->consumer), "{%s}:alive:%s", c->key,
             c->consumer);
    snprintf(cs->component, sizeof cs->component, "%s",
             c->component != NULL ? c->component : "indexer");
    cs->r = cmd;
    cs->forget_idle_ms = c->forget_idle_ms;
    cs->every_ms = c->forget_idle_ms / 2;
    if (cs->every_ms > CONSUMER_SWEEP_MAX_MS)
        cs->every_ms = CONSUMER_SWEEP_MAX_MS;
    if (cs->every_ms < CONSUMER_SWEEP_MIN_MS)
        cs->every_ms = CONSUMER_SWEEP_MIN_MS;
    cs->next_ms = sl_redis_now_ms() + CONSUMER_SWEEP_FIRST_MS;
    return cs;
fail:
    if (cs != NULL)
        sweep_free(cs);
    sl_err_set(err, SL_ENOMEM, "out of memory");
    return NULL;
}

void consumer_sweep_free(struct consumer_sweep *cs)
{
    if (cs == NULL)
        return;
    if (cs->in_flight)
        cs->closing = true; /* on_sweep frees it, with ECLOSED at the latest */
    else
        sweep_free(cs);
}
