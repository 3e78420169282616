/* setup.c: `sluice-indexer setup`'s first two steps, the server and the
 * index template (setup.h); Kibana's step is setup_kibana.c.
 *
 * The template's "version" decides, not its bytes: a version is what a
 * release bumps when it changes the file (conf/elasticsearch/README.md),
 * and comparing bytes would fail on the server's own rewriting of the
 * JSON. An installed template is never downgraded silently: a newer one
 * means a newer Sluice runs somewhere, and its indexers need its mapping. */
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "index_name.h"
#include "sl_file.h"
#include "sl_log.h"

#define COMP         "setup"
#define TEMPLATE_MAX (16u * 1024 * 1024)
#define URL_MAX      2048

/* The string of a yajl string node; "" for anything else. */
static const char *str_of(yajl_val v)
{
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    return s ? s : "";
}

/* base (trailing slashes dropped) + path, into out. */
static int make_url(char *out, size_t size, const char *base, const char *path,
                    struct sl_err *err)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    int w = snprintf(out, size, "%.*s%s", (int)n, base, path);
    if (w < 0 || (size_t)w >= size)
        return sl_err_set(err, SL_ELIMIT, "URL longer than %zu bytes: %.*s%s",
                          size - 1, (int)n, base, path);
    return 0;
}

/* A node that answers GET / with 405 (Elasticsearch's integ-test-zip,
 * which the tests run): the version from GET /_nodes/_local instead.
 * OpenSearch always answers GET /, so this is Elasticsearch. */
static int find_version_by_nodes(struct admin_http *h, const char *host,
                                 const char **base, struct setup_result *r,
                                 struct sl_err *err)
{
    static const char *nodes[] = {"nodes", NULL};
    static const char *ver[] = {"version", NULL};
    char url[URL_MAX];
    if (make_url(url, sizeof url, host,
                 "/_nodes/_local?filter_path=nodes.*.version", err) < 0 ||
        admin_http_request(h, "GET", url, NULL, NULL, 0, NULL, err) < 0)
        return -1;
    if (h->status != 200)
        return admin_http_status_error(h, "GET", url, "monitor", err);
    yajl_val root = yajl_tree_parse(h->body.ptr, NULL, 0);
    yajl_val n = yajl_tree_get(root, nodes, yajl_t_object);
    yajl_val v =
        n != NULL && YAJL_GET_OBJECT(n)->len > 0
            ? yajl_tree_get(YAJL_GET_OBJECT(n)->values[0], ver, yajl_t_string)
            : NULL;
    r->opensearch = false;
    snprintf(r->server, sizeof r->server, "Elasticsearch %s",
             v ? str_of(v) : "(version unknown)");
    yajl_tree_free(root);
    if (v == NULL)
        return sl_err_set(err, SL_EREMOTE,
                          "GET %s: the answer has no node version; is this "
                          "Elasticsearch?",
                          url);
    *base = host;
    SL_INFO(COMP, "connected to %s", r->server);
    return 0;
}

/* GET / on each host until one answers; *base is that host. */
static int find_server(struct admin_http *h, const struct indexer_es_config *es,
                       const char **base, struct setup_result *r,
                       struct sl_err *err)
{
    static const char *number[] = {"version", "number", NULL};
    static const char *dist[] = {"version", "distribution", NULL};
    char url[URL_MAX];
    for (size_t i = 0; i < es->hosts.n; i++) {
        if (make_url(url, sizeof url, es->hosts.v[i], "/", err) < 0)
            return -1;
        if (admin_http_request(h, "GET", url, NULL, NULL, 0, NULL, err) < 0) {
            if (i + 1 < es->hosts.n)
                SL_WARN(COMP, "%s; trying the next host", err->msg);
            continue;
        }
        if (h->status == 405)
            return find_version_by_nodes(h, es->hosts.v[i], base, r, err);
        if (h->status != 200)
            return admin_http_status_error(h, "GET", url, "monitor", err);
        yajl_val root = yajl_tree_parse(h->body.ptr, NULL, 0);
        yajl_val v = yajl_tree_get(root, number, yajl_t_string);
        yajl_val d = yajl_tree_get(root, dist, yajl_t_string);
        r->opensearch = strcmp(str_of(d), "opensearch") == 0;
        snprintf(r->server, sizeof r->server, "%s %s",
                 r->opensearch ? "OpenSearch" : "Elasticsearch",
                 v ? str_of(v) : "(version unknown)");
        yajl_tree_free(root);
        if (v == NULL)
            return sl_err_set(err, SL_EREMOTE,
                              "GET %s: the answer has no version.number; is "
                              "this Elasticsearch or OpenSearch?",
                              url);
        *base = es->hosts.v[i];
        SL_INFO(COMP, "connected to %s", r->server);
        return 0;
    }
    return -1;
}

/* '*' matches any run of bytes; nothing else is special. */
static bool glob_match(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '*')
        return glob_match(p + 1, s) || (*s != '\0' && glob_match(p, s + 1));
    return *p == *s && glob_match(p + 1, s + 1);
}

/* Would a name that index writes get this template? One sample name, for
 * now and with fallback fields, against each of index_patterns. */
static bool template_matches(yajl_val tmpl, const struct indexer_es_config *es,
                             char *sample, size_t size)
{
    static const char *pats[] = {"index_patterns", NULL};
    struct index_name *in = index_name_new(es->index, es->index_fallback, NULL);
    if (in == NULL)
        return false;
    struct sl_slice s =
        index_name_format(in, (int64_t)time(NULL) * 1000, SL_SLICE_LIT("{}"));
    snprintf(sample, size, "%s", s.ptr);
    index_name_free(in);
    yajl_val v = yajl_tree_get(tmpl, pats, yajl_t_any);
    if (YAJL_IS_STRING(v))
        return glob_match(str_of(v), sample);
    for (size_t i = 0; YAJL_IS_ARRAY(v) && i < YAJL_GET_ARRAY(v)->len; i++) {
        yajl_val p = YAJL_GET_ARRAY(v)->values[i];
        if (YAJL_IS_STRING(p) && glob_match(str_of(p), sample))
            return true;
    }
    return false;
}

/* The template file: its bytes in body, its version. */
static int read_template(const struct setup_options *o, struct sl_buf *body,
                         struct setup_result *r, struct sl_err *err)
{
    static const char *ver[] = {"version", NULL};
    char ebuf[256], sample[INDEX_NAME_MAX + 1];
    if (sl_file_read(o->template_path, "index template", TEMPLATE_MAX, body,
                     err) < 0)
        return -1;
    yajl_val root = yajl_tree_parse(body->ptr, ebuf, sizeof ebuf);
    if (root == NULL) {
        for (char *p = ebuf; *p; p++)
            *p = *p == '\n' ? ' ' : *p;
        return sl_err_set(err, SL_EPARSE, "index template '%s': not JSON: %s",
                          o->template_path, ebuf);
    }
    yajl_val v = yajl_tree_get(root, ver, yajl_t_number);
    if (v == NULL || !YAJL_IS_INTEGER(v)) {
        yajl_tree_free(root);
        return sl_err_set(err, SL_EINVAL,
                          "index template '%s' has no integer \"version\"; "
                          "add one, and raise it with every change",
                          o->template_path);
    }
    r->file_version = YAJL_GET_INTEGER(v);
    r->template_matches = template_matches(root, o->es, sample, sizeof sample);
    yajl_tree_free(root);
    if (!r->template_matches)
        SL_WARN(COMP,
                "the template's index_patterns do not match \"%s\", a name "
                "elasticsearch.index writes: those indices get no mapping; "
                "change index_patterns in '%s' or the index pattern",
                sample, o->template_path);
    return 0;
}

/* The installed template's version: -1 for none or none given;
 * *installed false when there is no template of that name. */
static int installed_version(struct admin_http *h, const char *url,
                             bool *installed, long long *version,
                             struct sl_err *err)
{
    static const char *ver[] = {"version", NULL};
    static const char *list[] = {"index_templates", NULL};
    *installed = false;
    *version = -1;
    if (admin_http_request(h, "GET", url, NULL, NULL, 0, NULL, err) < 0)
        return -1;
    if (h->status == 404)
        return 0;
    if (h->status != 200)
        return admin_http_status_error(h, "GET", url, "manage_index_templates",
                                       err);
    yajl_val root = yajl_tree_parse(h->body.ptr, NULL, 0);
    yajl_val l = yajl_tree_get(root, list, yajl_t_array);
    if (l != NULL && YAJL_GET_ARRAY(l)->len > 0) {
        static const char *it[] = {"index_template", NULL};
        yajl_val t =
            yajl_tree_get(YAJL_GET_ARRAY(l)->values[0], it, yajl_t_object);
        yajl_val v = yajl_tree_get(t, ver, yajl_t_number);
        *installed = true;
        if (v != NULL && YAJL_IS_INTEGER(v))
            *version = YAJL_GET_INTEGER(v);
    }
    yajl_tree_free(root);
    return 0;
}

static int put_template(struct admin_http *h, const char *url,
                        const struct sl_buf *body, struct sl_err *err)
{
    if (admin_http_request(h, "PUT", url, "application/json", body->ptr,
                           body->len, NULL, err) < 0)
        return -1;
    if (h->status != 200)
        return admin_http_status_error(h, "PUT", url, "manage_index_templates",
                                       err);
    return 0;
}

/* Decides from the two versions; sends the file when it should. */
static int install_template(struct admin_http *h, const struct setup_options *o,
                            const char *base, struct setup_result *r,
                            struct sl_err *err)
{
    struct sl_buf body = SL_BUF_INIT(TEMPLATE_MAX);
    char path[512], url[URL_MAX];
    bool installed;
    int rc = -1;
    char *name = curl_easy_escape(h->curl, o->es->template_name, 0);
    if (name == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "/_index_template/%s", name);
    curl_free(name);
    if (read_template(o, &body, r, err) < 0 ||
        make_url(url, sizeof url, base, path, err) < 0 ||
        installed_version(h, url, &installed, &r->installed_version, err) < 0)
        goto done;
    long long have = r->installed_version, want = r->file_version;
    if (installed && have == want) {
        r->template = SETUP_TEMPLATE_UP_TO_DATE;
        SL_INFO(COMP, "index template '%s' version %lld: already up to date",
                o->es->template_name, want);
        rc = 0;
        goto done;
    }
    if (installed && have > want && !o->force) {
        r->template = SETUP_TEMPLATE_NEWER_KEPT;
        SL_WARN(COMP,
                "index template '%s': the installed version %lld is newer "
                "than this Sluice's %lld (a newer Sluice installed it); left "
                "as it is (setup --force replaces it)",
                o->es->template_name, have, want);
        rc = 0;
        goto done;
    }
    if (put_template(h, url, &body, err) < 0)
        goto done;
    if (!installed) {
        r->template = SETUP_TEMPLATE_INSTALLED;
        SL_INFO(COMP, "index template '%s' version %lld installed",
                o->es->template_name, want);
    } else {
        r->template =
            have > want ? SETUP_TEMPLATE_REPLACED : SETUP_TEMPLATE_UPDATED;
        SL_INFO(COMP, "index template '%s': version %lld replaced by %lld%s",
                o->es->template_name, have, want,
                have > want ? " (--force)" : "");
    }
    rc = 0;
done:
    sl_buf_release(&body);
    return rc;
}

static int kibana_step(const struct setup_options *o, struct setup_result *r,
                       struct sl_err *err)
{
    if (o->kibana_url == NULL) {
        SL_INFO(COMP, "no kibana.url: no data view or dashboards imported");
        return 0;
    }
    if (r->opensearch) {
        SL_WARN(COMP,
                "kibana.url is set, but the server is %s: Sluice imports "
                "its objects into Kibana only (OpenSearch Dashboards has "
                "another API); skipped",
                r->server);
        return 0;
    }
    struct admin_http h;
    struct admin_http_opts ho = {
        o->es->username, o->es->password, o->es->api_key, o->es->ca_file,
        o->timeout_ms,   "kibana",        NULL,           !o->es->tls_verify};
    if (admin_http_init(&h, &ho, err) < 0) {
        admin_http_release(&h);
        return -1;
    }
    r->kibana_skipped = false;
    int rc = setup_kibana_import(&h, o->kibana_url, o->kibana_dir, r, err);
    admin_http_release(&h);
    return rc;
}

int setup_run(const struct setup_options *o, struct setup_result *r,
              struct sl_err *err)
{
    struct admin_http h;
    struct admin_http_opts ho = {
        o->es->username, o->es->password, o->es->api_key, o->es->ca_file,
        o->timeout_ms,   "elasticsearch", NULL,           !o->es->tls_verify};
    const char *base = NULL;
    memset(r, 0, sizeof *r);
    r->installed_version = -1;
    r->kibana_skipped = true;
    int rc = admin_http_init(&h, &ho, err);
    if (rc == 0)
        rc = find_server(&h, o->es, &base, r, err);
    if (rc == 0)
        rc = install_template(&h, o, base, r, err);
    admin_http_release(&h);
    if (rc == 0)
        rc = kibana_step(o, r, err);
    return rc;
}
