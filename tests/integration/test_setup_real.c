/* test_setup_real.c: `setup`'s template step and retention against a real
 * Elasticsearch or OpenSearch (argv[1] names the URL variable).
 *
 * Template: a copy of conf/elasticsearch/sluice-template.json under a name
 * and index pattern of this run's own (so it never meets the template the
 * other tests install on sluice-*) is installed, found up to date on a
 * second run with nothing sent, replaced when an older version was put
 * there by hand, kept when a newer one was (and replaced with force), and
 * an index created afterwards has its mapping.
 *
 * Retention: indices named like the pattern for several days around a
 * fixed "now", one of them closed, and decoys (extra text, a non-date, a
 * month without its zero, another prefix): exactly the old pattern
 * indices go, and a second run deletes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <yajl/yajl_tree.h>

#include "es_http.h"
#include "retention.h"
#include "setup.h"
#include "sl_buf.h"
#include "sl_file.h"

static const char *url_var;
static const char *template_path;

struct fixture {
    struct es_http http;
    char tname[64];     /* the template's name */
    char tprefix[64];   /* its indices' prefix, "sluicesetup<pid>-" */
    char rprefix[64];   /* retention's, "sluiceret<pid>-" */
    char files[3][128]; /* the template with versions 2, 1 and 99 */
    char dir[64];
};

/* The template file with our index pattern and the given version. */
static int write_copy(const char *path, const char *prefix, int version)
{
    struct sl_buf b = SL_BUF_INIT(16u << 20), out = SL_BUF_INIT(16u << 20);
    struct sl_err err;
    int rc = -1;
    if (sl_file_read(template_path, NULL, 16u << 20, &b, &err) < 0)
        goto done;
    const char *pat = strstr(b.ptr, "\"sluice-*\"");
    const char *ver = strstr(b.ptr, "\"version\": 3,");
    const char *tv = strstr(b.ptr, "\"template_version\": 3");
    if (pat == NULL || ver == NULL || tv == NULL || !(pat < ver && ver < tv))
        goto done;
    if (sl_buf_printf(&out, &err,
                      "%.*s\"%s*\"%.*s\"version\": %d,%.*s\"template_version\""
                      ": %d%s",
                      (int)(pat - b.ptr), b.ptr, prefix, (int)(ver - pat - 10),
                      pat + 10, version, (int)(tv - ver - 13), ver + 13,
                      version, tv + 21) < 0)
        goto done;
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        goto done;
    rc = fwrite(out.ptr, 1, out.len, f) == out.len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
done:
    sl_buf_release(&b);
    sl_buf_release(&out);
    return rc;
}

static int setup(void **state)
{
    static struct fixture f;
    long pid = (long)getpid();
    static const int versions[3] = {2, 1, 99};
    if (es_http_init(&f.http, url_var, 60) != 0)
        return -1;
    snprintf(f.tname, sizeof f.tname, "sluice-setup-test-%ld", pid);
    snprintf(f.tprefix, sizeof f.tprefix, "sluicesetup%ld-", pid);
    snprintf(f.rprefix, sizeof f.rprefix, "sluiceret%ld-", pid);
    snprintf(f.dir, sizeof f.dir, "/tmp/sluice-setup-real-XXXXXX");
    if (mkdtemp(f.dir) == NULL)
        return -1;
    for (int i = 0; i < 3; i++) {
        snprintf(f.files[i], sizeof f.files[i], "%s/v%d.json", f.dir,
                 versions[i]);
        if (write_copy(f.files[i], f.tprefix, versions[i]) < 0) {
            fprintf(stderr, "cannot write %s from %s\n", f.files[i],
                    template_path);
            return -1;
        }
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[256];
    if (f == NULL)
        return 0;
    snprintf(path, sizeof path, "/_index_template/%s", f->tname);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);
    snprintf(path, sizeof path, "/%s*,othret*?expand_wildcards=all",
             f->tprefix);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);
    snprintf(path, sizeof path, "/%s*?expand_wildcards=all", f->rprefix);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);
    for (int i = 0; i < 3; i++)
        unlink(f->files[i]);
    rmdir(f->dir);
    es_http_free(&f->http);
    return 0;
}

static struct setup_result run_setup(struct fixture *f, const char *file,
                                     bool force)
{
    const char *hosts[] = {f->http.url};
    char index[96];
    snprintf(index, sizeof index, "%s%%{+yyyy.MM.dd}", f->tprefix);
    struct indexer_es_config es = {.hosts = {hosts, 1},
                                   .index = index,
                                   .index_fallback = "unknown",
                                   .template_name = f->tname};
    struct setup_options o = {&es, NULL, file, "/nonexistent", 30000, force};
    struct setup_result r;
    struct sl_err err = {0};
    if (setup_run(&o, &r, &err) < 0)
        fail_msg("setup: %s", err.msg);
    assert_true(r.template_matches);
    return r;
}

static void put_by_hand(struct fixture *f, const char *file)
{
    struct sl_buf b = SL_BUF_INIT(16u << 20);
    struct sl_err err;
    char path[128];
    assert_int_equal(sl_file_read(file, NULL, 16u << 20, &b, &err), 0);
    snprintf(path, sizeof path, "/_index_template/%s", f->tname);
    es_http_call(&f->http, "PUT", path, "application/json", b.ptr, 200);
    sl_buf_release(&b);
}

static void assert_installed(struct fixture *f, long long version)
{
    char path[128];
    snprintf(path, sizeof path, "/_index_template/%s", f->tname);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "index_templates.0.index_template.version",
                       version);
    es_json_assert_int(&f->http,
                       "index_templates.0.index_template._meta.template_"
                       "version",
                       version);
}

static void test_template(void **state)
{
    struct fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "/_index_template/%s", f->tname);
    es_http_request(&f->http, "DELETE", path, NULL, NULL);

    struct setup_result r = run_setup(f, f->files[0], false);
    assert_int_equal(r.template, SETUP_TEMPLATE_INSTALLED);
    assert_int_equal(r.installed_version, -1);
    assert_int_equal(r.file_version, 2);
    assert_installed(f, 2);
    char want[160];
    snprintf(want, sizeof want, "%s*", f->tprefix);
    es_json_assert_string(
        &f->http, "index_templates.0.index_template.index_patterns.0", want);

    r = run_setup(f, f->files[0], false);
    assert_int_equal(r.template, SETUP_TEMPLATE_UP_TO_DATE);
    assert_int_equal(r.installed_version, 2);

    put_by_hand(f, f->files[1]);
    r = run_setup(f, f->files[0], false);
    assert_int_equal(r.template, SETUP_TEMPLATE_UPDATED);
    assert_int_equal(r.installed_version, 1);
    assert_installed(f, 2);

    put_by_hand(f, f->files[2]);
    r = run_setup(f, f->files[0], false);
    assert_int_equal(r.template, SETUP_TEMPLATE_NEWER_KEPT);
    assert_int_equal(r.installed_version, 99);
    assert_installed(f, 99);
    r = run_setup(f, f->files[0], true);
    assert_int_equal(r.template, SETUP_TEMPLATE_REPLACED);
    assert_installed(f, 2);

    /* An index created now gets the template's mapping. */
    snprintf(path, sizeof path, "/%s2026.12.04", f->tprefix);
    es_http_call(&f->http, "PUT", path, NULL, NULL, 200);
    snprintf(path, sizeof path,
             "/%s2026.12.04/_mapping/field/http.response.status_code",
             f->tprefix);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    /* The keys hold dots: walked with yajl, not es_json_at. */
    const char *p1[] = {NULL,      "mappings",    "http.response.status_code",
                        "mapping", "status_code", "type",
                        NULL};
    char idx[96];
    snprintf(idx, sizeof idx, "%s2026.12.04", f->tprefix);
    p1[0] = idx;
    yajl_val t = yajl_tree_get(f->http.json, p1, yajl_t_string);
    if (t == NULL)
        fail_msg("no mapping for http.response.status_code: %s",
                 es_http_body(&f->http));
    assert_string_equal(YAJL_GET_STRING(t), "long");
}

/* 2026-12-10T12:00:00Z */
#define NOW_MS 1796904000000LL

static void create_index(struct fixture *f, const char *name)
{
    char path[300]; /* "/" + a name of up to 256 bytes */
    snprintf(path, sizeof path, "/%s", name);
    es_http_call(&f->http, "PUT", path, "application/json",
                 "{\"settings\":{\"number_of_shards\":1,"
                 "\"number_of_replicas\":0}}",
                 200);
}

static void test_retention(void **state)
{
    struct fixture *f = *state;
    static const char *const days[] = {
        "2026.12.10", "2026.12.03", /* kept: 0 and 7 days ago */
        "2026.12.02", "2026.11.01", "2025.12.31", "2026.10.01", /* go */
    };
    static const char *const decoys[] = {"2026.11.01-old", "old", "2026.1.01",
                                         "x-2026.11.01"};
    char name[256], other[64], pattern[96];
    for (size_t i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "%s%s", f->rprefix, days[i]);
        create_index(f, name);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s%s", f->rprefix, decoys[i]);
        create_index(f, name);
    }
    snprintf(other, sizeof other, "othret%ld-2026.11.01", (long)getpid());
    create_index(f, other);
    snprintf(name, sizeof name, "/%s2026.10.01/_close", f->rprefix);
    es_http_call(&f->http, "POST", name, NULL, NULL, 200);

    snprintf(pattern, sizeof pattern, "%s%%{+yyyy.MM.dd}", f->rprefix);
    struct sl_err err = {0};
    struct index_name *in = index_name_new(pattern, NULL, &err);
    assert_non_null(in);
    struct admin_http h;
    struct admin_http_opts ho = {.timeout_ms = 30000,
                                 .section = "elasticsearch"};
    assert_int_equal(admin_http_init(&h, &ho, &err), 0);
    struct retention_result r;
    if (retention_run(&h, f->http.url, in, 7, NOW_MS, &r, &err) < 0)
        fail_msg("retention: %s", err.msg);
    assert_int_equal(r.listed, 10);
    assert_int_equal(r.deleted, 4);

    /* What is left, by name. */
    snprintf(name, sizeof name,
             "/_cat/indices/%s*,othret%ld-*?format=json&h=index&s=index&"
             "expand_wildcards=all",
             f->rprefix, (long)getpid());
    es_http_call(&f->http, "GET", name, NULL, NULL, 200);
    const char *left[] = {"2026.1.01",  "2026.11.01-old",
                          "2026.12.03", "2026.12.10",
                          "old",        "x-2026.11.01"};
    yajl_val arr = f->http.json;
    assert_true(YAJL_IS_ARRAY(arr));
    assert_int_equal(YAJL_GET_ARRAY(arr)->len, 7);
    es_json_assert_string(&f->http, "0.index", other); /* 'o' < 's' */
    for (size_t i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "%zu.index", i + 1);
        char want[128];
        snprintf(want, sizeof want, "%s%s", f->rprefix, left[i]);
        es_json_assert_string(&f->http, name, want);
    }

    /* Again: nothing to do. */
    if (retention_run(&h, f->http.url, in, 7, NOW_MS, &r, &err) < 0)
        fail_msg("retention: %s", err.msg);
    assert_int_equal(r.listed, 6);
    assert_int_equal(r.deleted, 0);
    admin_http_release(&h);
    index_name_free(in);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_retention),
    };
    if (argc != 3) {
        fprintf(stderr,
                "usage: %s SLUICE_TEST_{ES,ES9,OS,OS3}_URL TEMPLATE.json\n",
                argv[0]);
        return 2;
    }
    url_var = argv[1];
    template_path = argv[2];
    return ES_HTTP_RUN_GROUP(url_var, tests, setup, teardown);
}
