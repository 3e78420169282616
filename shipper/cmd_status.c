/* cmd_status.c: `sluice-shipper status`: what the shipper has done, read
 * from outside the daemon, at a glance:
 *
 *   registry /var/lib/sluice-shipper/registry.json: 2 files, saved 4s ago
 *   FILE                  OFFSET     SIZE      LAG  SEEN  STATE
 *   /var/log/app.log      1.2 MiB  1.3 MiB  100 KiB    4s  reading
 *   /var/log/app.log.1     12 KiB       -        -    2h  rotated
 *
 * The registry is read, never locked or changed: the daemon saves it by
 * renaming a complete file over it, so any read sees a whole registry. That
 * is also why it is read with registry_load_buffer and not registry_load,
 * which removes a leftover registry.json.tmp: here that .tmp may be the
 * daemon's save in progress.
 *
 * Each entry's path is stat()ed now: the same device and inode is the
 * file (reading while its size passes the offset, done at it, truncated
 * below it); another inode at the path means the file was rotated away;
 * no file means gone. A ghost's entry (a copytruncated file's first
 * bytes, kept up to 5 minutes to recognise its copy: file_identity.h) is
 * no file: it gets no row (its odd inode and the path of the live file
 * only confused), only a count on a line of its own. The daemon's /status
 * (http.listen) adds its memory, uptime and counters, and its own table of
 * files (status_table.c), which then replaces the registry's: it is newer (the
 * registry is saved every few seconds) and has the files not acknowledged yet
 * (Redis down since the start). A daemon that does not answer is one plain
 * line, not a failure: the registry's table is shown, as it is. */
#include "shipper_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "registry.h"
#include "sl_cli.h"
#include "sl_cli_table.h"
#include "sl_file.h"

#define PATH_COLUMN       48
#define REGISTRY_FILE_MAX (2ull << 30)
#define STATUS_BODY_MAX   (1u << 20)
#define STATUS_TIMEOUT_MS 2000
#define MAX_COUNTERS      40 /* the daemon has 20: lines and events come last */
#define JSON_DEPTH_MAX    16 /* /status nests 3 deep */

/* A double from outside as a count: 0 when negative or NaN, capped. */
static uint64_t count_of(double v)
{
    return v >= 0 ? v < 1.8e19 ? (uint64_t)v : UINT64_MAX : 0;
}

static int by_path(const void *a, const void *b)
{
    const struct registry_entry *x = *(const struct registry_entry *const *)a;
    const struct registry_entry *y = *(const struct registry_entry *const *)b;
    return strcmp(x->path, y->path);
}

static int add_entry(struct sl_cli_table *t, const struct registry_entry *e,
                     int64_t now, struct sl_err *err)
{
    char path[PATH_COLUMN * 4 + 8], off[SL_CLI_SHOWN_MAX];
    char size[SL_CLI_SHOWN_MAX], lag[SL_CLI_SHOWN_MAX], seen[SL_CLI_SHOWN_MAX];
    struct stat st;
    const char *state, *sz = NULL, *lg = NULL;
    if (stat(e->path, &st) < 0) {
        state = "gone";
    } else if ((uint64_t)st.st_dev != e->id.dev ||
               (uint64_t)st.st_ino != e->id.ino) {
        state = "rotated";
    } else {
        uint64_t n = (uint64_t)st.st_size;
        sz = sl_cli_bytes(size, sizeof size, n);
        state = n > e->offset    ? "reading"
                : n == e->offset ? "done"
                                 : "truncated";
        if (n >= e->offset)
            lg = sl_cli_bytes(lag, sizeof lag, n - e->offset);
    }
    return sl_cli_table_row(
        t, err, sl_cli_cut(path, sizeof path, e->path, PATH_COLUMN),
        sl_cli_bytes(off, sizeof off, e->offset), sz, lg,
        sl_cli_age(seen, sizeof seen, now - e->seen), state);
}

static int print_entries(const struct registry *r, FILE *out,
                         struct sl_err *err)
{
    static const char *const head[] = {"FILE", "OFFSET", "SIZE",
                                       "LAG",  "SEEN",   "STATE"};
    size_t n = registry_count(r), cursor = 0, i = 0;
    const struct registry_entry **v = calloc(n ? n : 1, sizeof *v);
    struct sl_cli_table t;
    int rc = -1;
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for the registry");
    for (const struct registry_entry *e; (e = registry_next(r, &cursor));)
        if (!file_identity_ino_is_ghost(e->id.ino))
            v[i++] = e;
    n = i;
    qsort(v, n, sizeof *v, by_path);
    sl_cli_table_init(&t, 6, head, "lrrrrl");
    int64_t now = (int64_t)time(NULL);
    for (i = 0; i < n; i++)
        if (add_entry(&t, v[i], now, err) < 0)
            goto done;
    sl_cli_table_print(&t, out);
    rc = 0;
done:
    sl_cli_table_free(&t);
    free(v);
    return rc;
}

/* The entries that are ghosts (file_identity.h): no file of their own,
 * so no row; the registry's line counts them apart. */
static size_t count_ghosts(const struct registry *r)
{
    size_t cursor = 0, n = 0;
    for (const struct registry_entry *e; (e = registry_next(r, &cursor));)
        n += file_identity_ino_is_ghost(e->id.ino);
    return n;
}

/* sl_file_read failed with errno: what to do, for the causes a user meets
 * (status run as another user, a data_dir that is a file, a registry that
 * is a directory). -1. */
static int registry_unreadable(const char *data_dir, const char *path,
                               struct sl_err *err)
{
    int e = errno;
    char msg[SL_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err != NULL ? err->msg : "");
    if (e == EACCES)
        return sl_err_set(
            err, SL_EIO, "%s; run status as the shipper's user (or root)", msg);
    if (e == ENOTDIR)
        return sl_err_set(err, SL_EIO,
                          "data_dir '%s' is not a directory; set data_dir "
                          "to the shipper's (its registry is kept there)",
                          data_dir);
    if (e == EISDIR || e == EINVAL)
        return sl_err_set(err, SL_EIO,
                          "%s; move it aside: mv %s %s.damaged (every file "
                          "is then new to the shipper)",
                          msg, path, path);
    return -1;
}

/* 0 shown, 1 no registry yet, -1 with err (unreadable, damaged). table:
 * its files too (else its line alone: the daemon's table is newer). */
static int show_registry(const char *data_dir, bool table, FILE *out,
                         struct sl_err *err)
{
    char path[REGISTRY_MAX_PATH + 32], age[SL_CLI_SHOWN_MAX];
    struct sl_buf b = SL_BUF_INIT(REGISTRY_FILE_MAX);
    struct registry_config cfg;
    struct stat st;
    snprintf(path, sizeof path, "%s/registry.json", data_dir);
    if (stat(path, &st) < 0 && errno == ENOENT) {
        fprintf(out,
                "registry %s: none yet (the shipper has not "
                "acknowledged anything)\n",
                path);
        return 1;
    }
    if (sl_file_read(path, "the registry", REGISTRY_FILE_MAX, &b, err) < 0)
        return registry_unreadable(data_dir, path, err);
    registry_config_init(&cfg);
    struct registry *r = registry_load_buffer(path, b.ptr, b.len, &cfg, err);
    sl_buf_release(&b);
    if (r == NULL)
        return -1;
    size_t n = registry_count(r), ghosts = count_ghosts(r);
    n -= ghosts;
    fprintf(out, "registry %s: %zu file%s, saved %s ago\n", path, n,
            n == 1 ? "" : "s",
            sl_cli_age(age, sizeof age, (int64_t)time(NULL) - st.st_mtime));
    if (ghosts > 0)
        fprintf(out,
                "registry %s: and the first bytes of %zu copytruncated "
                "file%s, kept to recognise %s copy (at most 5 minutes)\n",
                path, ghosts, ghosts == 1 ? "" : "s",
                ghosts == 1 ? "its" : "their");
    int rc = n > 0 && table ? print_entries(r, out, err) : 0;
    registry_free(r);
    return rc;
}

/* A number of /status: a plain value, or the sum of a labelled family. */
static double value_of(yajl_val v)
{
    if (YAJL_IS_NUMBER(v))
        return YAJL_GET_DOUBLE(v);
    double sum = 0;
    for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
        const char *key[] = {"value", NULL};
        yajl_val x = yajl_tree_get(v->u.array.values[i], key, yajl_t_number);
        sum += x != NULL ? YAJL_GET_DOUBLE(x) : 0;
    }
    return sum;
}

static double field(yajl_val root, const char *name)
{
    const char *key[] = {name, NULL};
    yajl_val v = yajl_tree_get(root, key, yajl_t_any);
    return v != NULL ? value_of(v) : 0;
}

static void summarise(yajl_val root, const char *listen, FILE *out)
{
    char up[SL_CLI_SHOWN_MAX] = "-", rss[SL_CLI_SHOWN_MAX];
    char peak[SL_CLI_SHOWN_MAX];
    double start = field(root, "process_start_time_seconds");
    if (start > 0 && start < 1e12)
        sl_cli_age(up, sizeof up, (int64_t)time(NULL) - (int64_t)start);
    sl_cli_bytes(rss, sizeof rss,
                 count_of(field(root, "process_resident_memory_bytes")));
    sl_cli_bytes(peak, sizeof peak,
                 count_of(field(root, "process_resident_memory_peak_bytes")));
    fprintf(out, "daemon at %s: up %s, memory %s (peak %s)\n", listen, up, rss,
            peak);
    const char *full_key[] = {"output_full", NULL};
    if (YAJL_IS_TRUE(yajl_tree_get(root, full_key, yajl_t_true)))
        fprintf(out,
                "daemon at %s: reading waits: the output has no room (Redis "
                "down, refusing writes or at max_pending, or busy: its log "
                "says which)\n",
                listen);
    size_t shown = 0;
    for (size_t i = 0; i < root->u.object.len && shown < MAX_COUNTERS; i++) {
        const char *k = root->u.object.keys[i];
        size_t len = strlen(k);
        if (len < 7 || strcmp(k + len - 6, "_total") != 0)
            continue;
        fprintf(out, "  %-40s %.0f\n", k, value_of(root->u.object.values[i]));
        shown++;
    }
}

/* The JSON of /status (a body of the 1 MiB at most fetched), parsed: an
 * object, or NULL. */
static yajl_val parse_status(const char *json)
{
    char why[128];
    yajl_val root = sl_cli_json_shallow(json, strlen(json), JSON_DEPTH_MAX)
                        ? yajl_tree_parse(json, why, sizeof why)
                        : NULL;
    if (root != NULL && !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return NULL;
    }
    return root;
}

/* 1 when the files' table was shown (with follow: every page of it). */
static int show_status(yajl_val root, const char *listen, bool follow,
                       FILE *out)
{
    struct sl_err err = {0};
    if (root == NULL) {
        fprintf(out, "daemon at %s: /status is not a JSON object\n", listen);
        return 0;
    }
    summarise(root, listen, out);
    int rc = shipper_status_files(root, listen, follow, out, &err);
    if (rc < 0)
        fprintf(out, "daemon at %s: its files not shown: %s\n", listen,
                err.msg);
    return rc > 0;
}

int shipper_status_summarise(const char *json, const char *listen, FILE *out)
{
    yajl_val root = parse_status(json);
    int rc = show_status(root, listen, false, out);
    yajl_tree_free(root);
    return rc;
}

int shipper_status_ask(const char *listen, const char *target,
                       struct yajl_val_s **root, struct sl_err *err)
{
    struct sl_buf body = SL_BUF_INIT(STATUS_BODY_MAX);
    int rc =
        shipper_status_fetch(listen, target, STATUS_TIMEOUT_MS, &body, err);
    if (rc == 0)
        *root = parse_status(body.ptr ? body.ptr : "");
    sl_buf_release(&body);
    return rc;
}

static void no_answer(const char *listen, const struct sl_err *err, FILE *out)
{
    if (err->status == SL_EREMOTE)
        fprintf(out, "daemon at %s: bad answer (%s)\n", listen, err->msg);
    else
        fprintf(out,
                "daemon at %s: no answer (%s); is sluice-shipper "
                "running?\n",
                listen, err->msg);
}

/* The daemon's rows when it answers with them (fresher, and with the
 * files not in the registry yet), else the registry's: the registry's
 * line comes first either way, the daemon's after it. */
int shipper_cmd_status(const struct sl_cli *cli)
{
    const char *files_key[] = {"files", NULL};
    struct shipper_loaded l;
    struct sl_err err = {0}, asked_err = {0};
    if (shipper_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, SHIPPER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    const char *listen = l.sc.http.listen;
    yajl_val root = NULL;
    int asked = listen != NULL
                    ? shipper_status_ask(listen, "/status", &root, &asked_err)
                    : -1;
    bool rows = root != NULL && yajl_tree_get(root, files_key, yajl_t_array);
    int rc = show_registry(l.sc.data_dir, !rows, stdout, &err);
    if (rc < 0)
        fprintf(stderr, SHIPPER_PROG ": %s\n", err.msg);
    if (asked == 0)
        show_status(root, listen, true, stdout);
    else if (listen != NULL)
        no_answer(listen, &asked_err, stdout);
    yajl_tree_free(root);
    shipper_cli_unload(&l);
    return rc < 0 ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_OK;
}
