/* setup_kibana.c: `setup`'s Kibana step: the data view and dashboards of
 * conf/kibana/ imported through the saved-objects API (setup.h).
 *
 * Files are imported one request each, in name order, so a data view in
 * "00-data-view.ndjson" would exist before dashboards in a later file that
 * refer to it (the shipped sluice.ndjson holds all its objects, which
 * Kibana resolves within the one request);
 * `overwrite=true` replaces objects with the same ids, which makes a second
 * run harmless. Kibana answers 200 even when objects fail (success false,
 * errors[]), so the body is read, not only the status. Kibana checks the
 * part's file name ends in .ndjson; ours always do. */
#include "setup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "sl_file.h"
#include "sl_log.h"

#define COMP      "setup"
#define FILES_MAX 64
#define FILE_MAX  (64u * 1024 * 1024)
#define IMPORT    "/api/saved_objects/_import?overwrite=true"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_ndjson(const char *name)
{
    size_t n = strlen(name);
    return n > 7 && name[0] != '.' && strcmp(name + n - 7, ".ndjson") == 0;
}

/* The .ndjson names of dir, sorted, into names (freed by the caller). A
 * missing directory has none. */
static int list_files(const char *dir, char **names, size_t *n,
                      struct sl_err *err)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        return sl_err_set(err, SL_EIO, "cannot open directory '%s': %s", dir,
                          sl_strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_ndjson(e->d_name))
            continue;
        if (*n == FILES_MAX) {
            closedir(d);
            return sl_err_set(err, SL_ELIMIT,
                              "more than %d .ndjson files in '%s'", FILES_MAX,
                              dir);
        }
        size_t len = strlen(e->d_name);
        if ((names[*n] = malloc(len + 1)) == NULL) {
            closedir(d);
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        }
        memcpy(names[(*n)++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, *n, sizeof names[0], by_name);
    return 0;
}

/* Reads Kibana's answer: the count imported, or the first error. */
static int import_result(const struct admin_http *h, const char *file,
                         unsigned long *count, struct sl_err *err)
{
    static const char *ok[] = {"success", NULL};
    static const char *cnt[] = {"successCount", NULL};
    static const char *errs[] = {"errors", NULL};
    static const char *id[] = {"id", NULL};
    static const char *type[] = {"type", NULL};
    static const char *etype[] = {"error", "type", NULL};
    yajl_val root = yajl_tree_parse(h->body.ptr, NULL, 0);
    yajl_val s = yajl_tree_get(root, ok, yajl_t_any);
    yajl_val c = yajl_tree_get(root, cnt, yajl_t_number);
    int rc = 0;
    if (s == NULL || !(YAJL_IS_TRUE(s) || YAJL_IS_FALSE(s))) {
        rc = sl_err_set(err, SL_EREMOTE,
                        "importing '%s' into Kibana: the answer has no "
                        "\"success\"; is kibana.url a Kibana?",
                        file);
    } else if (YAJL_IS_FALSE(s)) {
        yajl_val l = yajl_tree_get(root, errs, yajl_t_array);
        yajl_val e0 =
            l && YAJL_GET_ARRAY(l)->len ? YAJL_GET_ARRAY(l)->values[0] : NULL;
        yajl_val i = yajl_tree_get(e0, id, yajl_t_string);
        yajl_val t = yajl_tree_get(e0, type, yajl_t_string);
        yajl_val et = yajl_tree_get(e0, etype, yajl_t_string);
        rc = sl_err_set(err, SL_EREMOTE,
                        "importing '%s' into Kibana: %zu objects failed; the "
                        "first, %s '%s': %s",
                        file, l ? YAJL_GET_ARRAY(l)->len : 0,
                        t ? YAJL_GET_STRING(t) : "?",
                        i ? YAJL_GET_STRING(i) : "?",
                        et ? YAJL_GET_STRING(et) : "unknown error");
    } else if (c != NULL && YAJL_IS_INTEGER(c) && YAJL_GET_INTEGER(c) >= 0) {
        *count = (unsigned long)YAJL_GET_INTEGER(c);
    }
    yajl_tree_free(root);
    return rc;
}

static int import_file(struct admin_http *h, const char *url, const char *dir,
                       const char *name, struct setup_result *r,
                       struct sl_err *err)
{
    struct sl_buf data = SL_BUF_INIT(FILE_MAX);
    char xsrf_line[] = "kbn-xsrf: true";
    struct curl_slist xsrf = {xsrf_line, NULL};
    char path[4096];
    unsigned long count = 0;
    int rc = -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sl_file_read(path, "Kibana objects", FILE_MAX, &data, err) < 0)
        goto done;
    if (admin_http_post_file(h, url, "file", name, "application/ndjson",
                             data.ptr, data.len, &xsrf, err) < 0)
        goto done;
    if (h->status != 200) {
        admin_http_status_error(h, "POST", url,
                                "the Kibana privilege to "
                                "manage saved objects",
                                err);
        sl_err_prefix(err, "importing '%s'", path);
        goto done;
    }
    if (import_result(h, path, &count, err) < 0)
        goto done;
    r->kibana_files++;
    r->kibana_objects += count;
    SL_INFO(COMP,
            "Kibana: %lu objects of '%s' imported (existing ones "
            "replaced)",
            count, path);
    rc = 0;
done:
    sl_buf_release(&data);
    return rc;
}

int setup_kibana_import(struct admin_http *h, const char *url, const char *dir,
                        struct setup_result *r, struct sl_err *err)
{
    char *names[FILES_MAX], full[2048];
    size_t n = 0, len = strlen(url);
    int rc = 0;
    while (len > 0 && url[len - 1] == '/')
        len--;
    if (len + sizeof IMPORT > sizeof full)
        return sl_err_set(err, SL_ELIMIT, "kibana.url is too long");
    memcpy(full, url, len);
    memcpy(full + len, IMPORT, sizeof IMPORT);
    if (list_files(dir, names, &n, err) < 0)
        rc = -1;
    else if (n == 0)
        SL_INFO(COMP,
                "no Kibana objects to import: '%s' has no .ndjson files; "
                "nothing sent to Kibana",
                dir);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = import_file(h, full, dir, names[i], r, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
