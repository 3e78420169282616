/* status_es.c: the Elasticsearch half of `sluice-indexer status`.
 *
 *   NODE                    ANSWER
 *   http://127.0.0.1:9200   200 in 4 ms
 *   http://127.0.0.1:9201   no answer: Couldn't connect to server
 *   cluster: green, 3 nodes, 0 unassigned shards
 *   indices: 3 named sluice-*, 1204 documents
 *
 * A node is reachable when it answers HTTP at all: Elasticsearch 9's
 * integration build answers 405 to GET /, an unauthorised request 401, and
 * both prove the node is there (the code is shown, so 401 reads as "check
 * the credentials"). The health comes from the first node whose
 * GET /_cluster/health answers 200, and so do the indices (GET
 * /_cat/indices/PREFIX* and /PREFIX*\/_count, PREFIX the pattern's text
 * before its first reference), so the documents can be held against the
 * indexer's counters.
 *
 * libcurl easy, one request at a time with a short timeout: a one-shot
 * command, not the daemon's client. Credentials go through libcurl's
 * options and an Authorization header, never into a URL that is printed;
 * printed URLs have their userinfo replaced by "***". */
#include "indexer_cli.h"

#include <curl/curl.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "index_name.h"
#include "sl_buf.h"
#include "sl_cli_table.h"

#define ES_TIMEOUT_MS  3000
#define ES_BODY_MAX    (256u << 10)
#define API_KEY_MAX    1024
#define SHOWN_URL_MAX  256
#define JSON_DEPTH_MAX 16 /* _cluster/health is flat */

const char *indexer_url_redact(const char *url, char *buf, size_t size)
{
    const char *auth = strstr(url, "://");
    auth = auth != NULL ? auth + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        snprintf(buf, size, "%s", url);
    else
        snprintf(buf, size, "%.*s***%s", (int)(auth - url), url, at);
    return buf;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct sl_buf *b = ctx;
    if (sl_buf_append(b, p, size * n, NULL) < 0)
        return 0; /* past ES_BODY_MAX: the transfer fails */
    return size * n;
}

struct answer {
    long code; /* 0: no HTTP answer */
    double ms; /* total time */
    char why[CURL_ERROR_SIZE];
    struct sl_buf body;
};

static void get(const struct indexer_es_config *es, const char *host,
                const char *path, struct answer *a)
{
    char url[2048], key[API_KEY_MAX + 32];
    struct curl_slist *headers = NULL;
    CURL *c = curl_easy_init();
    *a = (struct answer){.body = SL_BUF_INIT(ES_BODY_MAX)};
    if (c == NULL) {
        snprintf(a->why, sizeof a->why, "out of memory");
        return;
    }
    size_t hl = strlen(host);
    while (hl > 0 && host[hl - 1] == '/')
        hl--;
    snprintf(url, sizeof url, "%.*s%s", (int)hl, host, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ES_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->why);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->body);
    if (es->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, es->ca_file);
    if (!es->tls_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (es->username != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, es->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD,
                         es->password != NULL ? es->password : "");
    }
    if (es->api_key != NULL) {
        snprintf(key, sizeof key, "Authorization: ApiKey %s", es->api_key);
        headers = curl_slist_append(NULL, key);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &a->ms);
    a->ms *= 1000;
    if (a->why[0] == '\0')
        snprintf(a->why, sizeof a->why, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
}

static long long number(yajl_val root, const char *name)
{
    const char *key[] = {name, NULL};
    yajl_val v = yajl_tree_get(root, key, yajl_t_number);
    return v != NULL && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* The answer's body as a tree (free with yajl_tree_free); NULL when it
 * is not JSON or nested deeper than an answer we read is. */
static yajl_val parse_body(const struct answer *a)
{
    char why[128];
    const char *body = a->body.ptr ? a->body.ptr : "";
    return sl_cli_json_shallow(body, a->body.len, JSON_DEPTH_MAX)
               ? yajl_tree_parse(body, why, sizeof why)
               : NULL;
}

/* The health line from a 200 answer of /_cluster/health. */
static void print_health(const struct answer *a, FILE *out)
{
    const char *status_key[] = {"status", NULL};
    yajl_val root = parse_body(a);
    yajl_val st = yajl_tree_get(root, status_key, yajl_t_string);
    if (st == NULL) {
        fprintf(out, "cluster: health answer without a status\n");
    } else {
        long long nodes = number(root, "number_of_nodes");
        long long shards = number(root, "unassigned_shards");
        fprintf(out, "cluster: %s, %lld node%s, %lld unassigned shard%s\n",
                YAJL_GET_STRING(st), nodes, nodes == 1 ? "" : "s", shards,
                shards == 1 ? "" : "s");
    }
    yajl_tree_free(root);
}

/* The number of elements of a _cat answer (a JSON array of objects) and
 * of those whose "status" is "close"; -1 when it is not one. */
static long long cat_count(const struct answer *a, long long *closed)
{
    const char *status_key[] = {"status", NULL};
    yajl_val root = parse_body(a);
    long long n = -1;
    *closed = 0;
    if (YAJL_IS_ARRAY(root)) {
        n = (long long)root->u.array.len;
        for (size_t i = 0; i < root->u.array.len; i++) {
            yajl_val st = yajl_tree_get(root->u.array.values[i], status_key,
                                        yajl_t_string);
            const char *v = st != NULL ? st->u.string : NULL;
            if (v != NULL && strcmp(v, "close") == 0)
                (*closed)++;
        }
    }
    yajl_tree_free(root);
    return n;
}

/* "indices: 3 named sluice-* (1 closed), 12345 documents": the indices
 * elasticsearch.index writes (its literal prefix, then anything) and the
 * documents of the open ones, so what the indexer counted can be held
 * against what Elasticsearch has. */
static void print_indices(const struct indexer_es_config *es, const char *host,
                          FILE *out)
{
    struct sl_err err = {0};
    struct index_name *in = index_name_new(es->index, es->index_fallback, &err);
    struct sl_slice pre = {NULL, 0};
    char path[512];
    struct answer a = {0}, c = {0};
    if (in != NULL)
        pre = index_name_prefix(in);
    long long n = -1, closed = 0, docs = -1;
    if (pre.len == 0 || pre.len > 200) {
        fprintf(out, "indices: not counted (elasticsearch.index does not "
                     "begin with a name)\n");
        goto done;
    }
    snprintf(path, sizeof path,
             "/_cat/indices/%.*s*?format=json&h=index,status"
             "&expand_wildcards=all",
             (int)pre.len, pre.ptr);
    get(es, host, path, &a);
    if (a.code == 200)
        n = cat_count(&a, &closed);
    if (n < 0) {
        fprintf(out, "indices: not counted (GET /_cat/indices: %ld%s%s)\n",
                a.code, a.code ? "" : ": ", a.code ? "" : a.why);
        goto done;
    }
    if (n == 0) {
        fprintf(out, "indices: none named %.*s* yet\n", (int)pre.len, pre.ptr);
        goto done;
    }
    snprintf(path, sizeof path, "/%.*s*/_count", (int)pre.len, pre.ptr);
    get(es, host, path, &c);
    if (c.code == 200) {
        yajl_val root = parse_body(&c);
        docs = number(root, "count");
        yajl_tree_free(root);
    }
    fprintf(out, "indices: %lld named %.*s*", n, (int)pre.len, pre.ptr);
    if (closed > 0)
        fprintf(out, " (%lld closed: %s not counted)", closed,
                closed == 1 ? "its documents" : "their documents");
    if (docs >= 0)
        fprintf(out, ", %lld document%s\n", docs, docs == 1 ? "" : "s");
    else
        fprintf(out, ", documents not counted (GET _count: %ld)\n", c.code);
done:
    sl_buf_release(&a.body);
    sl_buf_release(&c.body);
    index_name_free(in);
}

/* One row per node; 1 if it answered. */
static int probe(const struct indexer_es_config *es, const char *host,
                 struct sl_cli_table *t)
{
    char shown[SHOWN_URL_MAX], what[CURL_ERROR_SIZE + 32];
    struct answer a;
    get(es, host, "/", &a);
    if (a.code > 0)
        snprintf(what, sizeof what, "%ld in %.0f ms", a.code, a.ms);
    else
        snprintf(what, sizeof what, "no answer: %s", a.why);
    sl_buf_release(&a.body);
    /* Out of memory for a row: the row is missing, the count still right. */
    SL_IGNORE_RESULT(sl_cli_table_row(
        t, NULL, indexer_url_redact(host, shown, sizeof shown), what));
    return a.code > 0;
}

size_t indexer_status_es(const struct indexer_es_config *es, FILE *out)
{
    static const char *const head[] = {"NODE", "ANSWER"};
    struct sl_cli_table t;
    size_t answered = 0;
    sl_cli_table_init(&t, 2, head, "ll");
    for (size_t i = 0; i < es->hosts.n; i++)
        answered += (size_t)probe(es, es->hosts.v[i], &t);
    sl_cli_table_print(&t, out);
    sl_cli_table_free(&t);
    struct answer a = {0};
    const char *healthy = NULL;
    for (size_t i = 0; i < es->hosts.n && answered > 0; i++) {
        get(es, es->hosts.v[i], "/_cluster/health", &a);
        if (a.code == 200) {
            healthy = es->hosts.v[i];
            break;
        }
        sl_buf_release(&a.body);
    }
    if (answered == 0)
        fprintf(out, "cluster: no node answered; check elasticsearch.hosts "
                     "and that Elasticsearch runs\n");
    else if (a.code == 200)
        print_health(&a, out);
    else
        fprintf(out, "cluster: health not available (%ld%s%s)\n", a.code,
                a.code ? "" : ": ", a.code ? "" : a.why);
    sl_buf_release(&a.body);
    if (healthy != NULL)
        print_indices(es, healthy, out);
    return answered;
}
