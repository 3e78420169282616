/* sl_redis.c: see sl_redis.h. Standalone mode: every command goes to the
 * one connection; the key is checked, not used, so callers that name it
 * wrongly fail now rather than when cluster mode comes. */
#include "sl_redis.h"

#include <stdlib.h>
#include <string.h>

struct sl_redis {
    struct sl_redis_conn *node;
};

struct sl_redis *sl_redis_new(const struct sl_redis_config *cfg,
                              struct sl_err *err)
{
    struct sl_redis_url url;
    struct sl_redis *r = NULL;
    if (sl_redis_url_parse(cfg->url != NULL ? cfg->url : "", &url, err) < 0)
        goto fail;
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        sl_err_set(err, SL_ENOMEM, "%s: out of memory", url.shown);
        goto fail;
    }
    struct sl_redis_conn_config cc = cfg->conn;
    cc.url = &url;
    r->node = sl_redis_conn_new(&cc, err);
    if (r->node == NULL)
        goto fail;
    memset(url.password, 0, sizeof url.password);
    return r;
fail:
    memset(url.password, 0, sizeof url.password);
    free(r);
    return NULL;
}

void sl_redis_free(struct sl_redis *r)
{
    if (r == NULL)
        return;
    sl_redis_conn_free(r->node);
    free(r);
}

int sl_redis_command(struct sl_redis *r, const struct sl_redis_cmd *cmd,
                     sl_redis_reply_fn cb, void *ctx, struct sl_err *err)
{
    if (cmd->key < -1 || cmd->key == 0 || cmd->key >= cmd->argc)
        return sl_err_set(err, SL_EINVAL,
                          "%s: key index %d is not an argument of a %d-word "
                          "command",
                          sl_redis_conn_shown(r->node), cmd->key, cmd->argc);
    return sl_redis_conn_command(r->node, cmd->argc, cmd->argv, cmd->argvlen,
                                 cmd->timeout_ms, cb, ctx, err);
}

size_t sl_redis_fill_pollfds(const struct sl_redis *r, struct pollfd *pfds,
                             size_t n)
{
    return sl_redis_conn_fill_pollfds(r->node, pfds, n);
}

int sl_redis_timeout_ms(const struct sl_redis *r)
{
    return sl_redis_conn_timeout_ms(r->node);
}

void sl_redis_process(struct sl_redis *r, const struct pollfd *pfds, size_t n)
{
    sl_redis_conn_process(r->node, pfds, n);
}

enum sl_redis_state sl_redis_state(const struct sl_redis *r)
{
    return sl_redis_conn_state(r->node);
}

size_t sl_redis_pending(const struct sl_redis *r)
{
    return sl_redis_conn_pending(r->node);
}

void sl_redis_stats(const struct sl_redis *r, struct sl_redis_stats *out)
{
    sl_redis_conn_stats(r->node, out);
}

const char *sl_redis_shown(const struct sl_redis *r)
{
    return sl_redis_conn_shown(r->node);
}
