/* test_setup.c: `setup` against a local stub server (tests/lib/
 * http_stub.py) that answers as Elasticsearch, OpenSearch or Kibana would
 * and records each request: the template sent byte for byte only when the
 * installed version says so, Kibana's import request exactly (method, path,
 * kbn-xsrf, credentials, a well-formed multipart body holding the file's
 * bytes), files in name order, none said plainly, OpenSearch skipping
 * Kibana, and each failure's message (401, 403, Kibana's own errors, an
 * unreachable host), with the password never in one. The real servers'
 * side is tests/integration/test_setup_real.c. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "retention_worker.h"
#include "setup.h"
#include "sl_buf.h"
#include "sl_file.h"
#include "sl_log.h"

#define TEMPLATE SLUICE_SOURCE_DIR "/conf/elasticsearch/sluice-template.json"
#define STUB     SLUICE_SOURCE_DIR "/tests/lib/http_stub.py"
#define PASSWORD "s3cret-pw"

static struct stub {
    char dir[64], routes[96], record[96], kibana[96], log[96];
    char url[64];
    pid_t pid;
    int in_fd;  /* the stub's stdin: closing it stops it */
    int out_fd; /* its stdout */
} S;

static struct indexer_es_config es_config(const char *const *hosts, size_t n)
{
    struct indexer_es_config es = {0};
    es.hosts.v = hosts;
    es.hosts.n = n;
    es.index = "sluice-%{+yyyy.MM.dd}";
    es.index_fallback = "unknown";
    es.template_name = "sluice";
    es.username = "elastic";
    es.password = PASSWORD;
    return es;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void routes(const char *json)
{
    write_file(S.routes, json, strlen(json));
    write_file(S.record, "", 0);
    write_file(S.log, "", 0);
}

/* The recorded requests, parsed; n of them. */
static size_t records(yajl_val *out, size_t max)
{
    struct sl_buf b = SL_BUF_INIT(1 << 24);
    struct sl_err err;
    size_t n = 0;
    assert_int_equal(sl_file_read(S.record, NULL, 1 << 24, &b, &err), 0);
    for (char *line = b.ptr, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        assert_true(n < max);
        out[n] = yajl_tree_parse(line, NULL, 0);
        assert_non_null(out[n++]);
    }
    sl_buf_release(&b);
    return n;
}

static void free_records(yajl_val *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(r[i]);
}

static const char *str_at(yajl_val v, const char *a, const char *b)
{
    const char *path[] = {a, b, NULL};
    yajl_val s = yajl_tree_get(v, path, yajl_t_any);
    if (s == NULL || YAJL_IS_NULL(s))
        return NULL;
    assert_true(YAJL_IS_STRING(s));
    return YAJL_GET_STRING(s);
}

/* base64 of "elastic:s3cret-pw" */
#define BASIC "Basic ZWxhc3RpYzpzM2NyZXQtcHc="

static void assert_request(yajl_val r, const char *method, const char *path)
{
    assert_string_equal(str_at(r, "method", NULL), method);
    assert_string_equal(str_at(r, "path", NULL), path);
    assert_string_equal(str_at(r, "headers", "authorization"), BASIC);
}

static char *b64_decode(const char *s, size_t *len)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *out = malloc(n / 4 * 3 + 1);
    unsigned acc = 0, bits = 0;
    *len = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        const char *p = strchr(tbl, s[i]);
        assert_non_null(p);
        acc = acc << 6 | (unsigned)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*len)++] = (char)(acc >> bits & 0xff);
        }
    }
    return out;
}

static void assert_b64_is_file(const char *b64, const char *path)
{
    struct sl_buf want = SL_BUF_INIT(1 << 24);
    struct sl_err err;
    size_t len;
    assert_int_equal(sl_file_read(path, NULL, 1 << 24, &want, &err), 0);
    char *got = b64_decode(b64, &len);
    assert_int_equal(len, want.len);
    assert_memory_equal(got, want.ptr, len);
    free(got);
    sl_buf_release(&want);
}

static bool log_has(const char *text)
{
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    struct sl_err err;
    sl_log_flush();
    assert_int_equal(sl_file_read(S.log, NULL, 1 << 20, &b, &err), 0);
    bool has = strstr(b.ptr, text) != NULL;
    if (strstr(b.ptr, PASSWORD) != NULL)
        fail_msg("the password is in the log: %s", b.ptr);
    sl_buf_release(&b);
    return has;
}

/* ---- the stub ------------------------------------------------------------ */

static int stub_start(void **state)
{
    (void)state;
    int out[2], in[2];
    char port[16] = {0};
    snprintf(S.dir, sizeof S.dir, "/tmp/sluice-setup-XXXXXX");
    if (mkdtemp(S.dir) == NULL || pipe(out) < 0 || pipe(in) < 0)
        return -1;
    snprintf(S.routes, sizeof S.routes, "%s/routes.json", S.dir);
    snprintf(S.record, sizeof S.record, "%s/record.jsonl", S.dir);
    snprintf(S.kibana, sizeof S.kibana, "%s/kibana", S.dir);
    snprintf(S.log, sizeof S.log, "%s/log", S.dir);
    write_file(S.routes, "{}", 2);
    write_file(S.record, "", 0);
    S.pid = fork();
    if (S.pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(in[1]);
        execlp("python3", "python3", STUB, S.routes, S.record, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    S.in_fd = in[1];
    /* The stub prints its port once it listens: the read is the wait. Its
     * stdout stays open until it ends, so no late write of it can fail. */
    size_t got = 0;
    while (got < sizeof port - 1 && memchr(port, '\n', got) == NULL) {
        ssize_t n = read(out[0], port + got, sizeof port - 1 - got);
        if (n <= 0) {
            fprintf(stderr, "test_setup: the stub %s did not start\n", STUB);
            return -1;
        }
        got += (size_t)n;
    }
    S.out_fd = out[0];
    snprintf(S.url, sizeof S.url, "http://127.0.0.1:%ld",
             strtol(port, NULL, 10));
    int fd = open(S.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    sl_log_set_fd(fd);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int stub_stop(void **state)
{
    (void)state;
    int status;
    close(S.in_fd);
    waitpid(S.pid, &status, 0);
    close(S.out_fd);
    sl_log_flush();
    sl_log_set_fd(2);
    curl_global_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", S.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests --------------------------------------------------------------- */

#define ES_ROOT "\"GET /\": [200, {\"version\": {\"number\": \"8.15.0\"}}]"
#define OS_ROOT                                                                \
    "\"GET /\": [200, {\"version\": {\"number\": \"2.17.0\", "                 \
    "\"distribution\": \"opensearch\"}}]"
#define TEMPLATE_404 "\"GET /_index_template/sluice\": [404, {}]"
#define TEMPLATE_AT(v)                                                         \
    "\"GET /_index_template/sluice\": [200, {\"index_templates\": "            \
    "[{\"name\": \"sluice\", \"index_template\": {\"version\": " v "}}]}]"
#define PUT_OK                                                                 \
    "\"PUT /_index_template/sluice\": [200, {\"acknowledged\": true}]"
#define IMPORT_OK(n)                                                           \
    "\"POST /api/saved_objects/_import?overwrite=true\": [200, "               \
    "{\"success\": true, \"successCount\": " n "}]"

static int run(const struct setup_options *o, struct setup_result *r,
               struct sl_err *err)
{
    memset(err, 0, sizeof *err);
    return setup_run(o, r, err);
}

static void test_template_installed_then_up_to_date(void **state)
{
    (void)state;
    const char *hosts[] = {S.url};
    struct indexer_es_config es = es_config(hosts, 1);
    struct setup_options o = {&es, NULL, TEMPLATE, S.kibana, 5000, false};
    struct setup_result r;
    struct sl_err err;
    yajl_val rec[8];

    routes("{" ES_ROOT ", " TEMPLATE_404 ", " PUT_OK "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_string_equal(r.server, "Elasticsearch 8.15.0");
    assert_false(r.opensearch);
    assert_int_equal(r.template, SETUP_TEMPLATE_INSTALLED);
    assert_int_equal(r.file_version, 3);
    assert_int_equal(r.installed_version, -1);
    assert_true(r.template_matches);
    assert_true(r.kibana_skipped);
    size_t n = records(rec, 8);
    assert_int_equal(n, 3);
    assert_request(rec[0], "GET", "/");
    assert_request(rec[1], "GET", "/_index_template/sluice");
    assert_request(rec[2], "PUT", "/_index_template/sluice");
    assert_string_equal(str_at(rec[2], "headers", "content-type"),
                        "application/json");
    assert_b64_is_file(str_at(rec[2], "body_b64", NULL), TEMPLATE);
    free_records(rec, n);
    assert_true(log_has("index template 'sluice' version 3 installed"));
    assert_true(log_has("no kibana.url: no data view or dashboards imported"));

    /* Installed at the file's version: nothing sent. */
    routes("{" ES_ROOT ", " TEMPLATE_AT("3") "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_int_equal(r.template, SETUP_TEMPLATE_UP_TO_DATE);
    assert_int_equal(r.installed_version, 3);
    n = records(rec, 8);
    assert_int_equal(n, 2);
    free_records(rec, n);
    assert_true(
        log_has("index template 'sluice' version 3: already up to date"));
}

static void test_template_older_newer(void **state)
{
    (void)state;
    const char *hosts[] = {S.url};
    struct indexer_es_config es = es_config(hosts, 1);
    struct setup_options o = {&es, NULL, TEMPLATE, S.kibana, 5000, false};
    struct setup_result r;
    struct sl_err err;
    yajl_val rec[8];

    routes("{" ES_ROOT ", " TEMPLATE_AT("1") ", " PUT_OK "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_int_equal(r.template, SETUP_TEMPLATE_UPDATED);
    assert_int_equal(r.installed_version, 1);
    size_t n = records(rec, 8);
    assert_int_equal(n, 3);
    assert_request(rec[2], "PUT", "/_index_template/sluice");
    free_records(rec, n);
    assert_true(log_has("index template 'sluice': version 1 replaced by 3"));

    routes("{" ES_ROOT ", " TEMPLATE_AT("99") ", " PUT_OK "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_int_equal(r.template, SETUP_TEMPLATE_NEWER_KEPT);
    n = records(rec, 8);
    assert_int_equal(n, 2);
    free_records(rec, n);
    assert_true(log_has("the installed version 99 is newer than this "
                        "Sluice's 3 (a newer Sluice installed it); left as "
                        "it is (setup --force replaces it)"));

    o.force = true;
    routes("{" ES_ROOT ", " TEMPLATE_AT("99") ", " PUT_OK "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_int_equal(r.template, SETUP_TEMPLATE_REPLACED);
    n = records(rec, 8);
    assert_int_equal(n, 3);
    free_records(rec, n);

    /* A template of that name without a version: replaced. */
    o.force = false;
    routes("{" ES_ROOT ", " TEMPLATE_AT("null") ", " PUT_OK "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_int_equal(r.template, SETUP_TEMPLATE_UPDATED);
    assert_int_equal(r.installed_version, -1);
}

static void test_template_mismatch_warns(void **state)
{
    (void)state;
    const char *hosts[] = {S.url};
    struct indexer_es_config es = es_config(hosts, 1);
    es.index = "logs-%{+yyyy.MM}";
    struct setup_options o = {&es, NULL, TEMPLATE, S.kibana, 5000, false};
    struct setup_result r;
    struct sl_err err;
    routes("{" ES_ROOT ", " TEMPLATE_AT("3") "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_false(r.template_matches);
    assert_true(log_has("the template's index_patterns do not match \"logs-"));
}

static void kibana_files(void)
{
    char path[160];
    mkdir(S.kibana, 0755);
    snprintf(path, sizeof path, "%s/b-dashboards.ndjson", S.kibana);
    write_file(path, "{\"type\":\"dashboard\",\"id\":\"d\"}\n", 30);
    snprintf(path, sizeof path, "%s/a-data-view.ndjson", S.kibana);
    /* bytes a multipart body must carry as they are */
    write_file(path, "{\"t\":\"caf\xc3\xa9\"}\r\n--x\r\n\0\n", 22);
    snprintf(path, sizeof path, "%s/notes.json", S.kibana);
    write_file(path, "{}", 2);
}

static void assert_import(yajl_val r, const char *file)
{
    char path[160];
    const char *p[] = {"parts", NULL};
    assert_request(r, "POST", "/api/saved_objects/_import?overwrite=true");
    assert_string_equal(str_at(r, "headers", "kbn-xsrf"), "true");
    assert_null(str_at(r, "multipart_error", NULL));
    assert_true(strncmp(str_at(r, "headers", "content-type"),
                        "multipart/form-data; boundary=", 30) == 0);
    yajl_val parts = yajl_tree_get(r, p, yajl_t_array);
    assert_non_null(parts);
    assert_int_equal(YAJL_GET_ARRAY(parts)->len, 1);
    yajl_val part = YAJL_GET_ARRAY(parts)->values[0];
    assert_string_equal(str_at(part, "name", NULL), "file");
    assert_string_equal(str_at(part, "filename", NULL), file);
    assert_string_equal(str_at(part, "content_type", NULL),
                        "application/ndjson");
    snprintf(path, sizeof path, "%s/%s", S.kibana, file);
    assert_b64_is_file(str_at(part, "data_b64", NULL), path);
}

static void test_kibana_import(void **state)
{
    (void)state;
    const char *hosts[] = {S.url};
    struct indexer_es_config es = es_config(hosts, 1);
    struct setup_options o = {&es, S.url, TEMPLATE, S.kibana, 5000, false};
    struct setup_result r;
    struct sl_err err;
    yajl_val rec[8];

    kibana_files();
    routes("{" ES_ROOT ", " TEMPLATE_AT("3") ", " IMPORT_OK("3") "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_false(r.kibana_skipped);
    assert_int_equal(r.kibana_files, 2);
    assert_int_equal(r.kibana_objects, 6);
    size_t n = records(rec, 8);
    assert_int_equal(n, 4);
    assert_import(rec[2], "a-data-view.ndjson");
    assert_import(rec[3], "b-dashboards.ndjson");
    free_records(rec, n);
    assert_true(log_has("Kibana: 3 objects of '"));

    /* OpenSearch: Kibana skipped, said, nothing sent. */
    routes("{" OS_ROOT ", " TEMPLATE_AT("3") ", " IMPORT_OK("3") "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_true(r.opensearch);
    assert_string_equal(r.server, "OpenSearch 2.17.0");
    assert_true(r.kibana_skipped);
    n = records(rec, 8);
    assert_int_equal(n, 2);
    free_records(rec, n);
    assert_true(log_has("kibana.url is set, but the server is OpenSearch "
                        "2.17.0: Sluice imports its objects into Kibana only "
                        "(OpenSearch Dashboards has another API); skipped"));
}

static void test_kibana_none_and_errors(void **state)
{
    (void)state;
    struct admin_http h;
    struct admin_http_opts ho = {"elastic", PASSWORD, NULL, NULL,
                                 5000,      "kibana", NULL, false};
    struct setup_result r = {0};
    struct sl_err err = {0};
    char empty[128];
    snprintf(empty, sizeof empty, "%s/none", S.dir);
    assert_int_equal(admin_http_init(&h, &ho, &err), 0);

    routes("{" IMPORT_OK("1") "}");
    assert_int_equal(setup_kibana_import(&h, S.url, empty, &r, &err), 0);
    assert_int_equal(r.kibana_files, 0);
    yajl_val rec[4];
    assert_int_equal(records(rec, 4), 0);
    assert_true(log_has("no Kibana objects to import: '"));

    kibana_files();
    routes("{\"POST /api/saved_objects/_import?overwrite=true\": [200, "
           "{\"success\": false, \"successCount\": 0, \"errors\": [{\"id\": "
           "\"d1\", \"type\": \"dashboard\", \"error\": {\"type\": "
           "\"missing_references\"}}, {\"id\": \"d2\"}]}]}");
    assert_int_equal(setup_kibana_import(&h, S.url, S.kibana, &r, &err), -1);
    char want[512];
    snprintf(want, sizeof want,
             "importing '%s/a-data-view.ndjson' into Kibana: 2 objects "
             "failed; the first, dashboard 'd1': missing_references",
             S.kibana);
    assert_string_equal(err.msg, want);

    routes("{\"POST /api/saved_objects/_import?overwrite=true\": [401, "
           "{\"statusCode\": 401}]}");
    assert_int_equal(setup_kibana_import(&h, S.url, S.kibana, &r, &err), -1);
    snprintf(want, sizeof want,
             "importing '%s/a-data-view.ndjson': POST "
             "%s/api/saved_objects/_import?overwrite=true: 401 Unauthorized; "
             "check elasticsearch.username and password, or api_key (not "
             "shown), which setup also uses for Kibana",
             S.kibana, S.url);
    assert_string_equal(err.msg, want);
    admin_http_release(&h);
}

/* kibana.url on a port that takes connections and never answers (a
 * wrong port, a hung server): setup said only "no answer within 30000
 * ms", not which key to check. */
static void test_kibana_never_answers(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0); /* never accepted, never answered */
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    char url[64], want[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    struct admin_http h;
    struct admin_http_opts ho = {NULL, NULL,     NULL, NULL,
                                 300,  "kibana", NULL, false};
    struct setup_result r = {0};
    struct sl_err err = {0};
    assert_int_equal(admin_http_init(&h, &ho, &err), 0);
    kibana_files();
    assert_int_equal(setup_kibana_import(&h, url, S.kibana, &r, &err), -1);
    snprintf(want, sizeof want,
             "%s/api/saved_objects/_import?overwrite=true: no answer within "
             "300 ms (",
             url);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, "); is kibana.url right (something "
                                    "there takes the connection and never "
                                    "answers), and is the server up and not "
                                    "overloaded?"));
    admin_http_release(&h);
    close(fd);
}

/* kibana.url given Elasticsearch's URL (9200 for 5601): setup said
 * "400: no handler found for uri [...]", not that the URL is the
 * cluster's. */
static void test_kibana_url_of_elasticsearch(void **state)
{
    (void)state;
    struct admin_http h;
    struct admin_http_opts ho = {NULL, NULL,     NULL, NULL,
                                 5000, "kibana", NULL, false};
    struct setup_result r = {0};
    struct sl_err err = {0};
    char want[512];
    assert_int_equal(admin_http_init(&h, &ho, &err), 0);
    kibana_files();
    routes("{\"POST /api/saved_objects/_import?overwrite=true\": [400, "
           "{\"error\": \"no handler found for uri "
           "[/api/saved_objects/_import?overwrite=true] and method [POST]\", "
           "\"status\": 400}]}");
    assert_int_equal(setup_kibana_import(&h, S.url, S.kibana, &r, &err), -1);
    admin_http_release(&h);
    /* the answer as it was, then what to do */
    snprintf(want, sizeof want,
             "/api/saved_objects/_import?overwrite=true: 400: no handler "
             "found for uri [/api/saved_objects/_import?overwrite=true] and "
             "method [POST]; this is Elasticsearch's answer, not Kibana's: "
             "set kibana.url to Kibana (port 5601 by default)");
    size_t got = strlen(err.msg), tail = strlen(want);
    assert_true(got > tail);
    assert_string_equal(err.msg + got - tail, want);
}

static void test_es_errors(void **state)
{
    (void)state;
    char dead[64], want[512];
    /* A port nothing listens on: the stub's, once it is bound elsewhere,
     * is unknown, so port 1 (privileged, never ours). */
    snprintf(dead, sizeof dead, "http://user:%s@127.0.0.1:1", PASSWORD);
    const char *hosts[] = {dead, S.url};
    struct indexer_es_config es = es_config(hosts, 2);
    struct setup_options o = {&es, NULL, TEMPLATE, S.kibana, 5000, false};
    struct setup_result r;
    struct sl_err err;

    /* The first host refuses: the second answers. */
    routes("{" ES_ROOT ", " TEMPLATE_AT("3") "}");
    assert_int_equal(run(&o, &r, &err), 0);
    assert_true(log_has("GET http://127.0.0.1:1/: cannot connect ("));
    assert_true(log_has("); is the server running, and is "
                        "elasticsearch.hosts right?; trying the next host"));

    es.hosts.n = 1;
    assert_int_equal(run(&o, &r, &err), -1);
    assert_true(
        strncmp(err.msg, "GET http://127.0.0.1:1/: cannot connect (", 41) == 0);
    assert_null(strstr(err.msg, PASSWORD));

    hosts[0] = S.url;
    routes("{\"GET /\": [401, {}]}");
    assert_int_equal(run(&o, &r, &err), -1);
    snprintf(want, sizeof want,
             "GET %s/: 401 Unauthorized; check elasticsearch.username and "
             "password, or api_key (not shown)",
             S.url);
    assert_string_equal(err.msg, want);

    routes("{" ES_ROOT ", " TEMPLATE_404 ", \"PUT /_index_template/sluice\": "
           "[403, {}]}");
    assert_int_equal(run(&o, &r, &err), -1);
    snprintf(want, sizeof want,
             "PUT %s/_index_template/sluice: 403 Forbidden: the user lacks "
             "manage_index_templates; grant it in a role, or use a user who "
             "has it",
             S.url);
    assert_string_equal(err.msg, want);

    routes(
        "{" ES_ROOT ", " TEMPLATE_404 ", \"PUT /_index_template/sluice\": "
        "[400, {\"error\": {\"type\": \"x\", \"reason\": \"bad\\nmapping\"}, "
        "\"status\": 400}]}");
    assert_int_equal(run(&o, &r, &err), -1);
    snprintf(want, sizeof want,
             "PUT %s/_index_template/sluice: 400: bad mapping", S.url);
    assert_string_equal(err.msg, want);

    o.template_path = SLUICE_SOURCE_DIR "/README.md";
    routes("{" ES_ROOT ", " TEMPLATE_404 "}");
    assert_int_equal(run(&o, &r, &err), -1);
    assert_true(strncmp(err.msg,
                        "index template '" SLUICE_SOURCE_DIR
                        "/README.md': not JSON: ",
                        strlen("index template '" SLUICE_SOURCE_DIR
                               "/README.md': not JSON: ")) == 0);
}

/* Retention on its thread: a run soon after start, the old index of the
 * listing deleted and nothing else, and free returns at once while the
 * thread waits for its next run. */
static void test_retention_worker(void **state)
{
    (void)state;
    const char *hosts[] = {S.url};
    struct indexer_es_config es = es_config(hosts, 1);
    es.retention_days = 30;
    routes(
        "{\"GET /_cat/indices/sluice-*?format=json&h=index&expand_"
        "wildcards=open,closed\": [200, [{\"index\": \"sluice-2020.01.01\"}, "
        "{\"index\": \"sluice-2020.01.01-x\"}, {\"index\": "
        "\"sluice-9999.01.01\"}]], \"DELETE /sluice-2020.01.01\": [200, "
        "{\"acknowledged\": true}]}");
    struct sl_err err = {0};
    struct retention_worker *w =
        retention_worker_new(&es, 0, 3600000, 5000, &err);
    if (w == NULL)
        fail_msg("%s", err.msg);
    struct retention_worker_stats st = {0};
    for (int i = 0; i < 1000 && st.runs == 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL); /* polled with a deadline of 10 s */
        retention_worker_stats(w, &st);
    }
    assert_int_equal(st.runs, 1);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.deleted, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    retention_worker_free(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    yajl_val rec[4];
    size_t n = records(rec, 4);
    assert_int_equal(n, 2);
    assert_request(rec[0], "GET",
                   "/_cat/indices/sluice-*?format=json&h=index&expand_"
                   "wildcards=open,closed");
    assert_request(rec[1], "DELETE", "/sluice-2020.01.01");
    free_records(rec, n);
    assert_true(log_has("deleted index 'sluice-2020.01.01': its last day, "
                        "2020-01-01, is "));

    es.retention_days = 0;
    assert_null(retention_worker_new(&es, 0, 3600000, 5000, &err));
    assert_string_equal(err.msg, "retention is off (retention_days 0)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_installed_then_up_to_date),
        cmocka_unit_test(test_template_older_newer),
        cmocka_unit_test(test_template_mismatch_warns),
        cmocka_unit_test(test_kibana_import),
        cmocka_unit_test(test_kibana_none_and_errors),
        cmocka_unit_test(test_kibana_never_answers),
        cmocka_unit_test(test_kibana_url_of_elasticsearch),
        cmocka_unit_test(test_es_errors),
        cmocka_unit_test(test_retention_worker),
    };
    return cmocka_run_group_tests(tests, stub_start, stub_stop);
}
