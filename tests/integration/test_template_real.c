/* test_template_real.c: Sluice's index template against a real Elasticsearch
 * or OpenSearch.
 *
 * Installs conf/elasticsearch/sluice-template.json as a composable template,
 * then bulk-indexes every expected event of the ecs-v1 grok case files (each
 * is what sluice-grok prints for a real log line: {"message": line,
 * ...captures}) and a few shipper-shaped events, and asserts that every one
 * of them is indexed with no field dropped, that the mapping the server made
 * holds the ECS types Sluice relies on, and that a terms aggregation on a
 * number, a range query on @timestamp and a CIDR query on an ip work.
 *
 * Events of cases that name their own captures (%{INT:n:int}, as a user's
 * grok would) go to a second index, NAME-adhoc: their throwaway names (n, p,
 * f) hold a number in one case and a string in another, which one index
 * cannot map, so there the test only asks that every event is indexed
 * (ignore_malformed, set on every number, ip and date field and on the
 * dynamic templates for numbers, drops a value that does not fit, never the
 * event) and
 * prints the fields dropped.
 *
 * The template is installed under a name of its own, sluice-test-TIME-PID,
 * with index_patterns and priority swapped for that name: ctest runs tests in
 * parallel, and a template on sluice-* would also shape the index of
 * test_es_real (and its ignore_malformed would defeat that test's mapping
 * error). Everything else is the file as shipped. Leftovers of a run killed
 * more than STALE_SECONDS ago are deleted at the start, everything this run
 * made at the end.
 *
 * usage: test_template_real ENV_VAR TEMPLATE_JSON CASES_DIR, where ENV_VAR
 * names the variable holding the base URL (SLUICE_TEST_ES_URL,
 * SLUICE_TEST_OS_URL, ...). A missing variable fails, never skips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "es_http.h"
#include "sl_err.h"

#define FILE_MAX       (4 * 1024 * 1024)  /* the template, one case file */
#define BULK_MAX       (32 * 1024 * 1024) /* the one bulk request */
#define STALE_SECONDS  600
#define MAX_CASE_FILES 256

/* A growable buffer with a fixed maximum (STYLE.md). */
struct buf {
    char *p; /* NUL-terminated once anything is appended */
    size_t len;
    size_t max;
};

static int buf_append(struct buf *b, const char *s, size_t n)
{
    char *p;

    if (n > b->max - b->len) {
        return -1;
    }
    p = realloc(b->p, b->len + n + 1);
    if (p == NULL) {
        return -1;
    }
    memcpy(p + b->len, s, n);
    b->p = p;
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

struct fixture {
    struct es_http http;
    char name[64];       /* sluice-test-TIME-PID: template and main index */
    char adhoc[80];      /* NAME-adhoc: events with their own capture names */
    char *template_body; /* the file, index_patterns and priority swapped */
    struct buf bulk;     /* NDJSON: every event, one create each */
    size_t nmain;        /* events sent to NAME */
    size_t nadhoc;       /* events sent to NAME-adhoc */
};

static const char *url_var;       /* argv[1] */
static const char *template_path; /* argv[2] */
static const char *cases_dir;     /* argv[3] */

/* Reads a whole file, NUL-terminated; NULL with a message on error. */
static char *read_file(const char *path)
{
    struct buf b = {NULL, 0, FILE_MAX};
    char chunk[8192];
    size_t n;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        print_error("open '%s': %s\n", path, sl_strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            print_error("'%s' is over %d bytes\n", path, FILE_MAX);
            break;
        }
    }
    if (ferror(fp)) {
        print_error("read '%s': %s\n", path, sl_strerror(errno));
    }
    if (ferror(fp) || n > 0) {
        buf_free(&b);
    } else if (b.p == NULL) {
        b.p = calloc(1, 1); /* an empty file is an empty string */
    }
    fclose(fp);
    return b.p;
}

/* Replaces the only occurrence of `from` in *s with `to`; -1 if `from` does
 * not occur exactly once (the template's layout changed: fix the test). */
static int replace_once(char **s, const char *from, const char *to)
{
    char *hit = strstr(*s, from), *out;
    size_t pre, flen = strlen(from), tlen = strlen(to), rest;

    if (hit == NULL || strstr(hit + 1, from) != NULL) {
        print_error("%s: expected exactly one '%s'\n", template_path, from);
        return -1;
    }
    pre = (size_t)(hit - *s);
    rest = strlen(hit + flen);
    out = malloc(pre + tlen + rest + 1);
    if (out == NULL) {
        return -1;
    }
    memcpy(out, *s, pre);
    memcpy(out + pre, to, tlen);
    memcpy(out + pre + tlen, hit + flen, rest + 1);
    free(*s);
    *s = out;
    return 0;
}

static int load_template(struct fixture *f)
{
    char patterns[128];

    f->template_body = read_file(template_path);
    if (f->template_body == NULL) {
        return -1;
    }
    snprintf(patterns, sizeof(patterns), "\"index_patterns\": [\"%s*\"]",
             f->name);
    /* Above any real "sluice" template (priority 200): templates of one
     * priority may not overlap. */
    if (replace_once(&f->template_body, "\"index_patterns\": [\"sluice-*\"]",
                     patterns) != 0 ||
        replace_once(&f->template_body, "\"priority\": 200,",
                     "\"priority\": 1000,") != 0) {
        return -1;
    }
    return 0;
}

/* 1 if a capture name is neither an ECS reference ("[a][b]") nor one of the
 * two bare names the library itself uses. */
static int own_name(const char *name, size_t len)
{
    if (len > 0 && name[0] == '[') {
        return 0;
    }
    if ((len == 9 && memcmp(name, "timestamp", 9) == 0) ||
        (len == 7 && memcmp(name, "message", 7) == 0)) {
        return 0;
    }
    return 1;
}

/* 1 if a case's pattern names its own captures (%{INT:n:int}, (?<x>...)),
 * as check_template.py's adhoc_case() decides. */
static int adhoc_case(const char *pattern)
{
    const char *p, *end, *colon, *name;

    for (p = pattern; (p = strstr(p, "%{")) != NULL; p += 2) {
        end = strchr(p, '}');
        colon = strchr(p, ':');
        if (end == NULL) {
            break;
        }
        if (colon != NULL && colon < end) {
            name = colon + 1;
            if (own_name(name, strcspn(name, ":}"))) {
                return 1;
            }
        }
    }
    for (p = pattern; (p = strstr(p, "(?<")) != NULL; p += 3) {
        if (p[3] != '=' && p[3] != '!' &&
            own_name(p + 3, strcspn(p + 3, ">"))) {
            return 1;
        }
    }
    return 0;
}

/* Writes v to g as it came: numbers as their original text (3.25 stays
 * 3.25), so the server sees the bytes sluice-grok printed. Case lines and
 * captures hold no NUL (one appears only in an "input"), so C strings do. */
static void gen_value(yajl_gen g, yajl_val v)
{
    size_t i;

    if (YAJL_IS_STRING(v)) {
        yajl_gen_string(g, (const unsigned char *)v->u.string,
                        strlen(v->u.string));
    } else if (YAJL_IS_NUMBER(v)) {
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (i = 0; i < v->u.object.len; i++) {
            yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i],
                            strlen(v->u.object.keys[i]));
            gen_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (i = 0; i < v->u.array.len; i++) {
            gen_value(g, v->u.array.values[i]);
        }
        yajl_gen_array_close(g);
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    } else {
        yajl_gen_null(g);
    }
}

static int add_create(struct fixture *f, const char *index, const char *id,
                      const char *doc, size_t len)
{
    char action[256];
    int n = snprintf(action, sizeof(action),
                     "{\"create\":{\"_index\":\"%s\",\"_id\":\"%s\"}}\n", index,
                     id);

    if (n < 0 || (size_t)n >= sizeof(action) ||
        buf_append(&f->bulk, action, (size_t)n) != 0 ||
        buf_append(&f->bulk, doc, len) != 0 ||
        buf_append(&f->bulk, "\n", 1) != 0) {
        print_error("bulk body over %d bytes\n", BULK_MAX);
        return -1;
    }
    return 0;
}

/* Appends the event a case expects, {"message": line, ...expect} as
 * run_cases.py defines it, with _id FILE:LINE so a failure names its case.
 * A case that must not match adds nothing. */
static int add_case(struct fixture *f, const char *fname, int lineno,
                    const char *text)
{
    char err[256], id[128];
    yajl_val c, pattern, line, expect;
    yajl_gen g;
    const unsigned char *out;
    size_t len, i;
    int adhoc, rc = -1;

    c = yajl_tree_parse(text, err, sizeof(err));
    if (c == NULL) {
        print_error("%s/%s:%d: not JSON: %s\n", cases_dir, fname, lineno, err);
        return -1;
    }
    pattern = es_json_at(c, "pattern");
    line = es_json_at(c, "line");
    expect = es_json_at(c, "expect");
    if (!YAJL_IS_STRING(pattern) || !YAJL_IS_STRING(line) ||
        !(YAJL_IS_NULL(expect) || YAJL_IS_OBJECT(expect))) {
        print_error("%s/%s:%d: a case needs pattern, line and expect\n",
                    cases_dir, fname, lineno);
        goto done;
    }
    if (YAJL_IS_NULL(expect)) {
        rc = 0;
        goto done;
    }
    adhoc = adhoc_case(pattern->u.string);
    g = yajl_gen_alloc(NULL);
    if (g == NULL) {
        goto done;
    }
    yajl_gen_map_open(g);
    if (es_json_at(expect, "message") == NULL) {
        yajl_gen_string(g, (const unsigned char *)"message", 7);
        gen_value(g, line);
    }
    for (i = 0; i < expect->u.object.len; i++) {
        yajl_gen_string(g, (const unsigned char *)expect->u.object.keys[i],
                        strlen(expect->u.object.keys[i]));
        gen_value(g, expect->u.object.values[i]);
    }
    if (yajl_gen_map_close(g) != yajl_gen_status_ok ||
        yajl_gen_get_buf(g, &out, &len) != yajl_gen_status_ok) {
        print_error("%s/%s:%d: cannot re-encode the expected event\n",
                    cases_dir, fname, lineno);
    } else {
        snprintf(id, sizeof(id), "%s:%d", fname, lineno);
        rc = add_create(f, adhoc ? f->adhoc : f->name, id, (const char *)out,
                        len);
        if (rc == 0 && adhoc) {
            f->nadhoc++;
        } else if (rc == 0) {
            f->nmain++;
        }
    }
    yajl_gen_free(g);
done:
    yajl_tree_free(c);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.jsonl of the cases dir, in name order: the order decides how the
 * adhoc index maps a name that two cases give different types. */
static int load_case_file(struct fixture *f, const char *fname)
{
    char path[1024], *text, *line, *next, *end;
    int lineno = 0, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", cases_dir, fname);
    text = read_file(path);
    if (text == NULL) {
        return -1;
    }
    for (line = text; line != NULL && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\r')) {
            *--end = '\0';
        }
        line += strspn(line, " \t");
        if (*line != '\0' && *line != '#') {
            rc = add_case(f, fname, lineno, line);
        }
    }
    free(text);
    return rc;
}

static int load_cases(struct fixture *f)
{
    char *names[MAX_CASE_FILES];
    size_t n = 0, i, len;
    struct dirent *de;
    DIR *d = opendir(cases_dir);
    int rc = 0;

    if (d == NULL) {
        print_error("open '%s': %s\n", cases_dir, sl_strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL && n < MAX_CASE_FILES) {
        len = strlen(de->d_name);
        if (len > 6 && strcmp(de->d_name + len - 6, ".jsonl") == 0) {
            names[n] = strdup(de->d_name);
            n += names[n] != NULL;
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (i = 0; i < n; i++) {
        if (rc == 0) {
            rc = load_case_file(f, names[i]);
        }
        free(names[i]);
    }
    if (rc == 0 && f->nmain == 0) {
        print_error("%s: no expected event in any *.jsonl\n", cases_dir);
        rc = -1;
    }
    return rc;
}

/* Shaped as the shipper sends them (DESIGN.md "The event"): an access log
 * line parsed by grok (two in 192.0.2.0/24, one IPv6), and a Python
 * traceback folded by multiline with the traceback processor's fields and a
 * failed grok. Three fall on 2025-11-21, the traceback on the 22nd. */
static const char *const shipper_events[] = {
    "{\"@timestamp\":\"2025-11-21T20:56:01.123Z\","
    "\"message\":\"192.0.2.10 - - [21/Nov/2025:20:56:01 +0000] \\\"GET "
    "/index.html HTTP/1.1\\\" 200 5120 \\\"-\\\" \\\"curl/8.0\\\"\","
    "\"host\":{\"name\":\"it-shipper-1\"},"
    "\"agent\":{\"type\":\"sluice-shipper\",\"version\":\"0.1.0\"},"
    "\"log\":{\"file\":{\"path\":\"/var/log/nginx/access.log\"},\"offset\":0},"
    "\"source\":{\"address\":\"192.0.2.10\",\"ip\":\"192.0.2.10\"},"
    "\"http\":{\"request\":{\"method\":\"GET\"},\"version\":\"1.1\","
    "\"response\":{\"status_code\":200,\"body\":{\"bytes\":5120}}},"
    "\"url\":{\"original\":\"/index.html\"},"
    "\"user_agent\":{\"original\":\"curl/8.0\"},"
    "\"timestamp\":\"21/Nov/2025:20:56:01 +0000\"}",

    "{\"@timestamp\":\"2025-11-21T20:56:02.000Z\","
    "\"message\":\"192.0.2.11 - - [21/Nov/2025:20:56:02 +0000] \\\"GET "
    "/missing HTTP/1.1\\\" 404 153 \\\"-\\\" \\\"curl/8.0\\\"\","
    "\"host\":{\"name\":\"it-shipper-1\"},"
    "\"agent\":{\"type\":\"sluice-shipper\",\"version\":\"0.1.0\"},"
    "\"log\":{\"file\":{\"path\":\"/var/log/nginx/access.log\"},"
    "\"offset\":98},"
    "\"source\":{\"address\":\"192.0.2.11\",\"ip\":\"192.0.2.11\"},"
    "\"http\":{\"request\":{\"method\":\"GET\"},\"version\":\"1.1\","
    "\"response\":{\"status_code\":404,\"body\":{\"bytes\":153}}},"
    "\"url\":{\"original\":\"/missing\"},"
    "\"user_agent\":{\"original\":\"curl/8.0\"}}",

    "{\"@timestamp\":\"2025-11-21T23:59:59.999Z\","
    "\"message\":\"2001:db8::7 - - [21/Nov/2025:23:59:59 +0000] \\\"POST "
    "/api HTTP/2.0\\\" 200 2 \\\"-\\\" \\\"app/1\\\"\","
    "\"host\":{\"name\":\"it-shipper-1\"},"
    "\"agent\":{\"type\":\"sluice-shipper\",\"version\":\"0.1.0\"},"
    "\"log\":{\"file\":{\"path\":\"/var/log/nginx/access.log\"},"
    "\"offset\":9007199254740993},"
    "\"source\":{\"address\":\"2001:db8::7\",\"ip\":\"2001:db8::7\"},"
    "\"http\":{\"request\":{\"method\":\"POST\"},\"version\":\"2.0\","
    "\"response\":{\"status_code\":200,\"body\":{\"bytes\":2}}},"
    "\"url\":{\"original\":\"/api\"},"
    "\"user_agent\":{\"original\":\"app/1\"},"
    "\"tags\":[\"_dateparsefailure\"]}",

    "{\"@timestamp\":\"2025-11-22T00:00:00.000Z\","
    "\"message\":\"Traceback (most recent call last):\\n  File "
    "\\\"/srv/app/app.py\\\", line 42, in handle\\n    "
    "int(value)\\nValueError: invalid literal for int() with base 10: "
    "'x'\","
    "\"event\":{\"original\":\"Traceback (most recent call last):\"},"
    "\"host\":{\"name\":\"it-shipper-1\"},"
    "\"agent\":{\"type\":\"sluice-shipper\",\"version\":\"0.1.0\"},"
    "\"log\":{\"file\":{\"path\":\"/var/log/app/app.log\"},\"offset\":4096,"
    "\"origin\":{\"file\":{\"name\":\"/srv/app/app.py\",\"line\":42},"
    "\"function\":\"handle\"}},"
    "\"error\":{\"type\":\"ValueError\","
    "\"message\":\"invalid literal for int() with base 10: 'x'\","
    "\"stack_trace\":\"Traceback (most recent call last):\\n  File "
    "\\\"/srv/app/app.py\\\", line 42, in handle\\n    int(value)\"},"
    "\"tags\":[\"_grokparsefailure\"]}",
};

#define NSHIPPER (sizeof(shipper_events) / sizeof(shipper_events[0]))

static int add_shipper_events(struct fixture *f)
{
    char id[32];
    size_t i;

    for (i = 0; i < NSHIPPER; i++) {
        snprintf(id, sizeof(id), "shipper-%zu", i);
        if (add_create(f, f->name, id, shipper_events[i],
                       strlen(shipper_events[i])) != 0) {
            return -1;
        }
        f->nmain++;
    }
    return 0;
}

/* Deletes `path` (an index or a template); 404 is fine, it is gone. */
static int delete_quietly(struct fixture *f, const char *path)
{
    long st = es_http_request(&f->http, "DELETE", path, NULL, NULL);

    if (st != 200 && st != 404) {
        print_error("DELETE %s%s: %s%.500s\n", f->http.url, path,
                    st < 0 ? f->http.errbuf : "", es_http_body(&f->http));
        return -1;
    }
    return 0;
}

/* 1 if name is sluice-test-TIME-... with TIME older than STALE_SECONDS: a
 * run killed before its teardown, never one still running. */
static int stale(const char *name)
{
    const char *prefix = "sluice-test-";
    char *end;
    long long t;

    if (strncmp(name, prefix, strlen(prefix)) != 0) {
        return 0;
    }
    errno = 0;
    t = strtoll(name + strlen(prefix), &end, 10);
    return errno == 0 && *end == '-' &&
           t < (long long)time(NULL) - STALE_SECONDS;
}

/* Collects the names at `key` ("index" of each _cat row, "name" of each
 * template) under `list` in f->http.json, then deletes the stale ones. */
static int delete_stale(struct fixture *f, const char *list, const char *key,
                        const char *prefix)
{
    char names[64][128], path[160];
    size_t n = 0, i;
    yajl_val arr = list[0] ? es_json_at(f->http.json, list) : f->http.json, v;

    for (i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len && n < 64; i++) {
        v = es_json_at(arr->u.array.values[i], key);
        if (YAJL_IS_STRING(v) && stale(v->u.string)) {
            snprintf(names[n++], sizeof(names[0]), "%s", v->u.string);
        }
    }
    for (i = 0; i < n; i++) {
        print_message("deleting the leftover %s%s\n", prefix, names[i]);
        snprintf(path, sizeof(path), "%s%.127s", prefix, names[i]);
        if (delete_quietly(f, path) != 0) {
            return -1;
        }
    }
    return 0;
}

static int delete_leftovers(struct fixture *f)
{
    char err[256];
    long st;

    st = es_http_request(&f->http, "GET",
                         "/_cat/indices/sluice-test-*?format=json&h=index",
                         NULL, NULL);
    if (st != 200 || es_http_parse(&f->http, err, sizeof(err)) != 0 ||
        delete_stale(f, "", "index", "/") != 0) {
        print_error("GET %s/_cat/indices/sluice-test-*: %s%.500s\n",
                    f->http.url, st < 0 ? f->http.errbuf : "",
                    es_http_body(&f->http));
        return -1;
    }
    st = es_http_request(&f->http, "GET", "/_index_template/sluice-test-*",
                         NULL, NULL);
    if (st == 404) {
        return 0;
    }
    if (st != 200 || es_http_parse(&f->http, err, sizeof(err)) != 0 ||
        delete_stale(f, "index_templates", "name", "/_index_template/") != 0) {
        print_error("GET %s/_index_template/sluice-test-*: %s%.500s\n",
                    f->http.url, st < 0 ? f->http.errbuf : "",
                    es_http_body(&f->http));
        return -1;
    }
    return 0;
}

static void fixture_free(struct fixture *f)
{
    es_http_free(&f->http);
    buf_free(&f->bulk);
    free(f->template_body);
    f->template_body = NULL;
}

static int setup(void **state)
{
    static struct fixture f;

    if (es_http_init(&f.http, url_var, 120) != 0) {
        return -1;
    }
    snprintf(f.name, sizeof(f.name), "sluice-test-%lld-%ld",
             (long long)time(NULL), (long)getpid());
    snprintf(f.adhoc, sizeof(f.adhoc), "%s-adhoc", f.name);
    f.bulk.max = BULK_MAX;
    if (load_template(&f) != 0 || load_cases(&f) != 0 ||
        add_shipper_events(&f) != 0) {
        goto fail;
    }
    if (delete_leftovers(&f) != 0) {
        print_error("is %s=%s a running cluster? tests/run starts one\n",
                    f.http.var, f.http.url);
        goto fail;
    }
    *state = &f;
    return 0;
fail:
    fixture_free(&f);
    return -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[160];
    int rc = 0;

    if (f == NULL) {
        return 0; /* cmocka 1.1 runs it even when setup failed */
    }
    snprintf(path, sizeof(path), "/%s", f->name);
    rc |= delete_quietly(f, path);
    snprintf(path, sizeof(path), "/%s", f->adhoc);
    rc |= delete_quietly(f, path);
    snprintf(path, sizeof(path), "/_index_template/%s", f->name);
    rc |= delete_quietly(f, path);
    fixture_free(f);
    return rc;
}

/* The file is accepted as a composable template, and comes back with its
 * _meta. */
static void test_install_template(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof(path), "/_index_template/%s", f->name);
    es_http_call(&f->http, "PUT", path, "application/json", f->template_body,
                 200);
    es_json_assert_bool(&f->http, "acknowledged", 1);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_string(&f->http, "index_templates.0.name", f->name);
    es_json_assert_string(&f->http,
                          "index_templates.0.index_template._meta.managed_by",
                          "sluice");
    es_json_assert_int(&f->http, "index_templates.0.index_template.priority",
                       1000);
}

static const char *str_or(yajl_val v, const char *dflt)
{
    return YAJL_IS_STRING(v) ? v->u.string : dflt;
}

/* Prints each failed item of the last bulk response: its case (the _id is
 * FILE:LINE), status, error type and reason; returns how many failed. */
static size_t print_bulk_failures(const struct fixture *f)
{
    yajl_val items = es_json_at(f->http.json, "items"), it;
    const char *id, *type, *reason, *cause;
    size_t i, failed = 0;

    for (i = 0; YAJL_IS_ARRAY(items) && i < items->u.array.len; i++) {
        it = es_json_at(items->u.array.values[i], "create");
        if (es_json_at(it, "error") == NULL) {
            continue;
        }
        id = YAJL_GET_STRING(es_json_at(it, "_id"));
        type = YAJL_GET_STRING(es_json_at(it, "error.type"));
        reason = YAJL_GET_STRING(es_json_at(it, "error.reason"));
        cause = YAJL_GET_STRING(es_json_at(it, "error.caused_by.reason"));
        print_error("%s: %s: %s%s%s\n", id ? id : "?", type ? type : "?",
                    reason ? reason : "?", cause ? "; caused by: " : "",
                    cause ? cause : "");
        failed++;
    }
    return failed;
}

/* Prints the _id and _ignored of each document of index that lost a field
 * to ignore_malformed (or ignore_above); returns how many did. */
static long long print_ignored(struct fixture *f, const char *index)
{
    char path[160];
    yajl_val hits, ign, total;
    size_t i, j;

    snprintf(path, sizeof(path), "/%s/_search", index);
    es_http_call(&f->http, "POST", path, "application/json",
                 "{\"size\":50,\"_source\":false,\"track_total_hits\":true,"
                 "\"query\":{\"exists\":{\"field\":\"_ignored\"}}}",
                 200);
    hits = es_json_at(f->http.json, "hits.hits");
    for (i = 0; YAJL_IS_ARRAY(hits) && i < hits->u.array.len; i++) {
        ign = es_json_at(hits->u.array.values[i], "_ignored");
        print_message("%s: %s dropped:",
                      str_or(es_json_at(hits->u.array.values[i], "_id"), "?"),
                      index);
        for (j = 0; YAJL_IS_ARRAY(ign) && j < ign->u.array.len; j++) {
            print_message(" %s", str_or(ign->u.array.values[j], "?"));
        }
        print_message("\n");
    }
    total = es_json_at(f->http.json, "hits.total.value");
    if (!YAJL_IS_INTEGER(total)) {
        fail_msg("%s: no hits.total.value in: %.1000s", path,
                 es_http_body(&f->http));
    }
    return YAJL_GET_INTEGER(total);
}

static void assert_count(struct fixture *f, const char *index,
                         const char *query, long long want)
{
    char path[160];

    snprintf(path, sizeof(path), "/%s/_count", index);
    es_http_call(&f->http, "POST", path, "application/json", query, 200);
    es_json_assert_int(&f->http, "count", want);
}

/* Every event is created in one bulk request with no item failing, and no
 * value of a library field is dropped as malformed. */
static void test_bulk_every_event(void **state)
{
    struct fixture *f = *state;
    char path[200];
    size_t failed;
    long long dropped;

    print_message("%zu events to %s, %zu to %s (%zu bytes)\n", f->nmain,
                  f->name, f->nadhoc, f->adhoc, f->bulk.len);
    es_http_call(&f->http, "POST",
                 "/_bulk?filter_path=errors,items.*._id,items.*.status,"
                 "items.*.error",
                 "application/x-ndjson", f->bulk.p, 200);
    failed = print_bulk_failures(f);
    if (failed > 0) {
        fail_msg("%zu of %zu events rejected (listed above)", failed,
                 f->nmain + f->nadhoc);
    }
    if (!YAJL_IS_FALSE(es_json_at(f->http.json, "errors"))) {
        fail_msg("bulk: errors is not false: %.1000s", es_http_body(&f->http));
    }
    snprintf(path, sizeof(path), "/%s,%s/_refresh", f->name, f->adhoc);
    es_http_call(&f->http, "POST", path, NULL, NULL, 200);
    es_json_assert_int(&f->http, "_shards.failed", 0);
    assert_count(f, f->name, "{\"query\":{\"match_all\":{}}}",
                 (long long)f->nmain);
    assert_count(f, f->adhoc, "{\"query\":{\"match_all\":{}}}",
                 (long long)f->nadhoc);

    /* Cases naming their own captures may reuse a name with another type
     * (n is -42 in one, "Mär" in another): the value is dropped, the event
     * kept. Shown, not asserted. */
    dropped = print_ignored(f, f->adhoc);
    print_message("%s: %lld events kept with a value dropped\n", f->adhoc,
                  dropped);
    dropped = print_ignored(f, f->name);
    if (dropped != 0) {
        fail_msg("%lld events of %s lost a field to ignore_malformed or "
                 "ignore_above (listed above): the template does not fit",
                 dropped, f->name);
    }
}

static void assert_field_type(const struct fixture *f, const char *index,
                              const char *field, const char *type)
{
    char path[512], seg[128], *s, *save = NULL;
    size_t len;

    /* a.b.c -> INDEX.mappings.properties.a.properties.b.properties.c.type */
    len = (size_t)snprintf(path, sizeof(path), "%s.mappings", index);
    snprintf(seg, sizeof(seg), "%s", field);
    for (s = strtok_r(seg, ".", &save); s != NULL;
         s = strtok_r(NULL, ".", &save)) {
        len += (size_t)snprintf(path + len, sizeof(path) - len,
                                ".properties.%s", s);
    }
    snprintf(path + len, sizeof(path) - len, ".type");
    es_json_assert_string(&f->http, path, type);
}

/* The mapping the server made from the template and the events. */
static void test_mapping_types(void **state)
{
    struct fixture *f = *state;
    char path[160];
    static const char *const want[][2] = {
        {"@timestamp", "date"},
        {"message", "text"},
        {"tags", "keyword"},
        {"host.name", "keyword"},
        {"log.offset", "long"},
        {"log.file.path", "keyword"},
        {"log.origin.file.line", "long"},
        {"source.ip", "ip"},
        {"source.address", "keyword"},
        {"destination.ip", "ip"},
        {"client.ip", "ip"},
        {"source.port", "long"},
        {"http.response.status_code", "long"},
        {"http.response.body.bytes", "long"},
        {"url.original", "keyword"},
        {"user_agent.original", "keyword"},
        {"error.message", "text"},
        {"error.stack_trace", "text"},
        {"event.original", "keyword"},
        {"rails.request.duration.total", "double"},
        {"timestamp", "keyword"},
        {"dns.id", "keyword"},
    };
    size_t i;

    snprintf(path, sizeof(path), "/%s/_mapping", f->name);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_field_type(f, f->name, want[i][0], want[i][1]);
    }
    snprintf(path, sizeof(path),
             "%s.mappings.properties.url.properties.original.fields.text.type",
             f->name);
    es_json_assert_string(&f->http, path, "text");

    /* Through the dynamic templates: an ISO 8601 string stays a keyword
     * (no date detection), a float becomes a double, not a float. */
    snprintf(path, sizeof(path), "/%s/_mapping", f->adhoc);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    assert_field_type(f, f->adhoc, "ts", "keyword");
    assert_field_type(f, f->adhoc, "g", "keyword");
    assert_field_type(f, f->adhoc, "f", "keyword"); /* "**" came first */
    assert_field_type(f, f->adhoc, "n", "long");    /* -42 came first */
}

/* The settings a single node and production both live with. */
static void test_settings(void **state)
{
    struct fixture *f = *state;
    char path[160], key[200];

    snprintf(path, sizeof(path), "/%s/_settings", f->name);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
#define SETTING(k, v)                                                          \
    snprintf(key, sizeof(key), "%s.settings.index.%s", f->name, k);            \
    es_json_assert_string(&f->http, key, v)
    SETTING("number_of_shards", "1");
    SETTING("auto_expand_replicas", "0-1");
    SETTING("number_of_replicas", "0"); /* one node: expanded to 0 */
    SETTING("refresh_interval", "5s");
    SETTING("mapping.total_fields.limit", "2000");
#undef SETTING
    /* So the single test node is green, not yellow. */
    snprintf(path, sizeof(path),
             "/_cluster/health/%s?wait_for_status=green&timeout=30s", f->name);
    es_http_call(&f->http, "GET", path, NULL, NULL, 200);
    es_json_assert_string(&f->http, "status", "green");
}

#define SHIPPER_HOST "{\"term\":{\"host.name\":\"it-shipper-1\"}}"

/* The types at work: a terms aggregation on a number (numeric keys), a
 * range on @timestamp, a CIDR on an ip, a long beyond 2^53 kept exact, a
 * full-text match on message. */
static void test_queries(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof(path), "/%s/_search", f->name);
    es_http_call(&f->http, "POST", path, "application/json",
                 "{\"size\":0,\"query\":" SHIPPER_HOST ","
                 "\"aggs\":{\"codes\":{\"terms\":"
                 "{\"field\":\"http.response.status_code\"}}}}",
                 200);
    es_json_assert_int(&f->http, "aggregations.codes.buckets.0.key", 200);
    es_json_assert_int(&f->http, "aggregations.codes.buckets.0.doc_count", 2);
    es_json_assert_int(&f->http, "aggregations.codes.buckets.1.key", 404);
    es_json_assert_int(&f->http, "aggregations.codes.buckets.1.doc_count", 1);
    if (es_json_at(f->http.json, "aggregations.codes.buckets.2") != NULL) {
        fail_msg("more than two status codes: %.1000s", es_http_body(&f->http));
    }

    /* The grok case events carry no @timestamp: only the shipper's count. */
    assert_count(f, f->name,
                 "{\"query\":{\"range\":{\"@timestamp\":{"
                 "\"gte\":\"2025-11-21T00:00:00Z\","
                 "\"lt\":\"2025-11-22T00:00:00Z\"}}}}",
                 3);
    assert_count(f, f->name,
                 "{\"query\":{\"bool\":{\"filter\":[" SHIPPER_HOST ","
                 "{\"term\":{\"source.ip\":\"192.0.2.0/24\"}}]}}}",
                 2);
    assert_count(f, f->name,
                 "{\"query\":{\"term\":{\"log.offset\":9007199254740993}}}", 1);
    assert_count(f, f->name,
                 "{\"query\":{\"bool\":{\"filter\":[" SHIPPER_HOST ","
                 "{\"match\":{\"message\":\"traceback\"}}]}}}",
                 1);
    assert_count(f, f->name,
                 "{\"query\":{\"term\":{\"tags\":\"_grokparsefailure\"}}}", 1);
}

/* A value that does not fit its field costs the field, not the event
 * (ignore_malformed), except @timestamp: an event without a usable time
 * would vanish from every time-filtered view, so it is refused, with a
 * reason for the dead-letter stream. */
static void test_bad_timestamp_is_refused_bad_ip_is_not(void **state)
{
    struct fixture *f = *state;
    char path[160];

    snprintf(path, sizeof(path), "/%s/_doc/bad-ip?refresh=true", f->name);
    es_http_call(&f->http, "PUT", path, "application/json",
                 "{\"@timestamp\":\"2025-11-21T10:00:00Z\","
                 "\"source\":{\"ip\":\"not-an-ip\"}}",
                 201);
    snprintf(path, sizeof(path), "/%s/_doc/bad-time", f->name);
    long st = es_http_request(&f->http, "PUT", path, "application/json",
                              "{\"@timestamp\":\"yesterday-ish\"}");
    if (st != 400) {
        fail_msg("a bad @timestamp was answered %ld, not 400: %.1000s", st,
                 es_http_body(&f->http));
    }
    if (strstr(es_http_body(&f->http), "@timestamp") == NULL) {
        fail_msg("the refusal does not name @timestamp: %.1000s",
                 es_http_body(&f->http));
    }
    snprintf(path, sizeof(path), "/%s/_doc/bad-ip", f->name);
    es_http_call(&f->http, "DELETE", path, NULL, NULL, 200);
}

int main(int argc, char **argv)
{
    /* In this order: each test builds on the one before. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_template),
        cmocka_unit_test(test_bulk_every_event),
        cmocka_unit_test(test_mapping_types),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_bad_timestamp_is_refused_bad_ip_is_not),
    };

    if (argc != 4) {
        fprintf(stderr,
                "usage: %s SLUICE_TEST_ES_URL|SLUICE_TEST_OS_URL "
                "TEMPLATE_JSON CASES_DIR\n",
                argv[0]);
        return 2;
    }
    url_var = argv[1];
    template_path = argv[2];
    cases_dir = argv[3];
    return ES_HTTP_RUN_GROUP(url_var, tests, setup, teardown);
}
