/* retention.c: the old indices of the pattern, chosen from a listing and
 * deleted one by one (retention.h).
 *
 * Safety comes before anything: the only names deleted are those that
 * index_name_parse() reads back exactly, under the pattern's own literal
 * prefix, and whose period ended more than `days` days ago; everything
 * else in the listing is ignored. Names are sent percent-encoded, one per
 * DELETE, never as a wildcard or a list, so a DELETE can only ever remove
 * the index it names (Elasticsearch's action.destructive_requires_name is
 * respected too). */
#include "retention.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "sl_log.h"
#include "sl_tz.h"

#define COMP   "retention"
#define DAY_MS 86400000LL

static int add(struct retention_plan *p, const char *name, size_t len,
               int64_t last_day, struct sl_err *err)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct retention_index *v = realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for retention");
        p->v = v;
        p->cap = cap;
    }
    memcpy(p->v[p->n].name, name, len);
    p->v[p->n].name[len] = '\0';
    p->v[p->n++].last_day = last_day;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct retention_index *)a)->name,
                  ((const struct retention_index *)b)->name);
}

int retention_plan(const struct index_name *in, long long days, int64_t now_ms,
                   const char *body, size_t len, struct retention_plan *plan,
                   struct sl_err *err)
{
    static const char *index_key[] = {"index", NULL};
    char ebuf[128];
    int64_t today = sl_floor_div(now_ms, DAY_MS);
    if (body[len] != '\0' || strlen(body) != len)
        return sl_err_set(err, SL_EPARSE, "the index listing holds a NUL");
    yajl_val root = yajl_tree_parse(body, ebuf, sizeof ebuf);
    if (root == NULL || !YAJL_IS_ARRAY(root)) {
        yajl_tree_free(root);
        return sl_err_set(err, SL_EPARSE,
                          "the index listing is not a JSON array");
    }
    size_t n = YAJL_GET_ARRAY(root)->len, first = plan->n;
    int rc = 0;
    plan->listed += n;
    if (n > RETENTION_LIST_MAX)
        rc = sl_err_set(err, SL_ELIMIT,
                        "%zu indices listed, more than the %d retention reads "
                        "at once",
                        n, RETENTION_LIST_MAX);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        yajl_val e = YAJL_GET_ARRAY(root)->values[i];
        yajl_val v = yajl_tree_get(e, index_key, yajl_t_string);
        const char *name = v ? YAJL_GET_STRING(v) : NULL;
        int64_t last;
        if (name == NULL)
            continue;
        size_t nlen = strlen(name);
        if (index_name_parse(in, name, nlen, &last) != 1 ||
            today - last <= days)
            continue;
        rc = add(plan, name, nlen, last, err);
    }
    yajl_tree_free(root);
    if (plan->n > first)
        qsort(plan->v + first, plan->n - first, sizeof plan->v[0], by_name);
    return rc;
}

void retention_plan_release(struct retention_plan *plan)
{
    free(plan->v);
    memset(plan, 0, sizeof *plan);
}

/* base, path, the escaped name, then rest: into out. */
static int url_of(struct admin_http *h, char *out, size_t size,
                  const char *base, const char *path, const char *name,
                  size_t nlen, const char *rest, struct sl_err *err)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *esc = curl_easy_escape(h->curl, name, (int)nlen);
    if (esc == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    int w = snprintf(out, size, "%.*s%s%s%s", (int)n, base, path, esc, rest);
    curl_free(esc);
    if (w < 0 || (size_t)w >= size)
        return sl_err_set(err, SL_ELIMIT, "URL too long for %.*s", (int)n,
                          base);
    return 0;
}

static int list(struct admin_http *h, const char *base,
                const struct index_name *in, char *url, size_t size,
                struct sl_err *err)
{
    struct sl_slice prefix = index_name_prefix(in);
    if (url_of(h, url, size, base, "/_cat/indices/", prefix.ptr, prefix.len,
               "*?format=json&h=index&expand_wildcards=open,closed", err) < 0 ||
        admin_http_request(h, "GET", url, NULL, NULL, 0, NULL, err) < 0)
        return -1;
    if (h->status != 200)
        return admin_http_status_error(h, "GET", url,
                                       "monitor (to list indices)", err);
    return 0;
}

static int delete_one(struct admin_http *h, const char *base,
                      const struct retention_index *ix, int64_t today,
                      long long days, struct sl_err *err)
{
    char url[2048];
    int64_t y;
    int m, d;
    if (url_of(h, url, sizeof url, base, "/", ix->name, strlen(ix->name), "",
               err) < 0 ||
        admin_http_request(h, "DELETE", url, NULL, NULL, 0, NULL, err) < 0)
        return -1;
    if (h->status != 200 && h->status != 404)
        return admin_http_status_error(h, "DELETE", url, "delete_index", err);
    sl_civil_from_days(ix->last_day, &y, &m, &d);
    SL_INFO(COMP,
            "%s index '%s': its last day, %04lld-%02d-%02d, is %lld days "
            "ago (retention_days %lld)",
            h->status == 200 ? "deleted" : "already gone:", ix->name,
            (long long)y, m, d, (long long)(today - ix->last_day), days);
    return 0;
}

int retention_run(struct admin_http *h, const char *base,
                  const struct index_name *in, long long days, int64_t now_ms,
                  struct retention_result *r, struct sl_err *err)
{
    struct retention_plan plan = {0};
    char url[2048];
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (days < 1 || !index_name_dated(in) || index_name_prefix(in).len == 0)
        return sl_err_set(err, SL_EINVAL,
                          "retention needs days >= 1 and an index pattern "
                          "with text first and a full date");
    if (list(h, base, in, url, sizeof url, err) < 0)
        goto done;
    if (retention_plan(in, days, now_ms, h->body.ptr, h->body.len, &plan, err) <
        0) {
        sl_err_prefix(err, "GET %s", url);
        goto done;
    }
    r->listed = plan.listed;
    int64_t today = sl_floor_div(now_ms, DAY_MS);
    for (size_t i = 0; i < plan.n; i++) {
        if (delete_one(h, base, &plan.v[i], today, days, err) < 0)
            goto done;
        r->deleted++;
    }
    SL_DEBUG(COMP, "%zu indices listed, %zu deleted", r->listed, r->deleted);
    rc = 0;
done:
    retention_plan_release(&plan);
    return rc;
}
