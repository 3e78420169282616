/* es_nodes.c: the node list and its set-aside rule.
 *
 * Invariant: nodes[i].back_at is 0 for a node in use, or the monotonic ms
 * at which a node set aside is tried again; `last` is the index next()
 * returned last (or n - 1 before the first call, so node 0 comes first).
 *
 * Not done here: health checks or sniffing the cluster's node list (a
 * request is the probe; the configured list is the list), and anything a
 * whole-request answer says about the cluster (the sender's rules). */
#include "es_nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_backoff.h"

struct es_node {
    char *url, *shown, *bulk;
    int64_t back_at;
    int64_t down_since;     /* first refusal of those in a row, or 0 */
    unsigned long refusals; /* in a row, since the node last answered */
    struct sl_backoff backoff;
};

struct es_nodes {
    struct es_node *nodes;
    size_t n, last;
};

void es_url_shown(const char *url, char *out, size_t outsz)
{
    const char *auth = strstr(url, "://");
    const char *end, *at = NULL;

    if (outsz == 0)
        return;
    /* without a scheme the URL starts with its authority: a user who wrote
     * "elastic:pw@host:9200" must not see the password in the error */
    auth = auth != NULL ? auth + 3 : url;
    end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        snprintf(out, outsz, "%s", url);
    else
        snprintf(out, outsz, "%.*s%s", (int)(auth - url), url, at + 1);
}

static char *dup_trimmed(const char *url)
{
    size_t len = strlen(url);
    char *s;

    while (len > 0 && url[len - 1] == '/')
        len--;
    s = malloc(len + 1);
    if (s != NULL) {
        memcpy(s, url, len);
        s[len] = '\0';
    }
    return s;
}

static int fill_node(struct es_node *nd, const char *url, const char *path,
                     int min_ms, int max_ms)
{
    size_t len;

    nd->url = dup_trimmed(url);
    if (nd->url == NULL)
        return -1;
    len = strlen(nd->url) + 1;
    nd->shown = malloc(len);
    nd->bulk = malloc(len + strlen(path));
    if (nd->shown == NULL || nd->bulk == NULL)
        return -1;
    es_url_shown(nd->url, nd->shown, len);
    memcpy(nd->bulk, nd->url, len - 1);
    memcpy(nd->bulk + len - 1, path, strlen(path) + 1);
    sl_backoff_init(&nd->backoff, min_ms, max_ms, 0);
    return 0;
}

struct es_nodes *es_nodes_new(const char *const *urls, size_t n,
                              const char *path, int aside_min_ms,
                              int aside_max_ms, struct sl_err *err)
{
    struct es_nodes *ns;

    if (n == 0)
        return sl_err_set(err, SL_EINVAL, "elasticsearch: no node URL"), NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(urls[i], "http://", 7) != 0 &&
            strncmp(urls[i], "https://", 8) != 0) {
            char shown[256];
            es_url_shown(urls[i], shown, sizeof shown);
            sl_err_set(err, SL_EINVAL,
                       "elasticsearch: node URL \"%s\" has no http:// or "
                       "https://; write the scheme",
                       shown);
            return NULL;
        }
    ns = calloc(1, sizeof *ns);
    if (ns == NULL || (ns->nodes = calloc(n, sizeof *ns->nodes)) == NULL) {
        free(ns);
        return sl_err_set(err, SL_ENOMEM, "elasticsearch: out of memory"), NULL;
    }
    ns->n = n;
    ns->last = n - 1;
    for (size_t i = 0; i < n; i++)
        if (fill_node(&ns->nodes[i], urls[i], path, aside_min_ms,
                      aside_max_ms) < 0) {
            es_nodes_free(ns);
            return sl_err_set(err, SL_ENOMEM, "elasticsearch: out of memory"),
                   NULL;
        }
    return ns;
}

void es_nodes_free(struct es_nodes *ns)
{
    if (ns == NULL)
        return;
    for (size_t i = 0; i < ns->n; i++) {
        free(ns->nodes[i].url);
        free(ns->nodes[i].shown);
        free(ns->nodes[i].bulk);
    }
    free(ns->nodes);
    free(ns);
}

size_t es_nodes_count(const struct es_nodes *ns)
{
    return ns->n;
}

const char *es_nodes_url(const struct es_nodes *ns, size_t i)
{
    return ns->nodes[i].url;
}

const char *es_nodes_shown(const struct es_nodes *ns, size_t i)
{
    return ns->nodes[i].shown;
}

const char *es_nodes_bulk(const struct es_nodes *ns, size_t i)
{
    return ns->nodes[i].bulk;
}

bool es_nodes_is_aside(const struct es_nodes *ns, size_t i, int64_t now_ms)
{
    return ns->nodes[i].back_at > now_ms;
}

int es_nodes_next(struct es_nodes *ns, int64_t now_ms, int64_t *wait_ms)
{
    int64_t first = INT64_MAX;

    for (size_t k = 1; k <= ns->n; k++) {
        size_t i = (ns->last + k) % ns->n;
        if (!es_nodes_is_aside(ns, i, now_ms)) {
            ns->last = i;
            return (int)i;
        }
        if (ns->nodes[i].back_at < first)
            first = ns->nodes[i].back_at;
    }
    *wait_ms = first - now_ms > 0 ? first - now_ms : 1;
    return -1;
}

int es_nodes_set_aside(struct es_nodes *ns, size_t i, int64_t now_ms)
{
    struct es_node *nd = &ns->nodes[i];
    int delay = sl_backoff_next(&nd->backoff);
    nd->back_at = now_ms + delay;
    if (nd->refusals++ == 0)
        nd->down_since = now_ms;
    return delay;
}

unsigned long es_nodes_refusals(const struct es_nodes *ns, size_t i)
{
    return ns->nodes[i].refusals;
}

int64_t es_nodes_ok(struct es_nodes *ns, size_t i, unsigned long *refusals)
{
    struct es_node *nd = &ns->nodes[i];
    int64_t since = nd->refusals > 0 ? nd->down_since : 0;
    if (refusals != NULL)
        *refusals = nd->refusals;
    sl_backoff_reset(&nd->backoff);
    nd->back_at = 0;
    nd->refusals = 0;
    nd->down_since = 0;
    return since;
}
