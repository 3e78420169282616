/* status_table.c: `status`'s table of the files the running daemon knows,
 * from the "files" rows of its /status (status_files.h):
 *
 *   files from the daemon at 127.0.0.1:5066, newer than the registry: 2
 *   FILE              ACKED     READ     SIZE      LAG  LAST READ  STATE
 *   /var/log/app.log  1.2 MiB  1.3 MiB  1.3 MiB  100 KiB         4s  reading
 *   /var/log/new.log        -        -    4 KiB        -          -
 * waiting-output
 *
 * ACKED is in Redis (the registry's offset in the daemon's memory, ahead
 * of the file by up to the save interval), READ is what the daemon has
 * read, LAG what is not acknowledged yet (SIZE - ACKED). What the rows
 * hold comes from outside the process: a row that is not an object with a
 * path is skipped, a number that is not one prints as "-". */
#include "shipper_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "sl_cli.h"
#include "sl_cli_table.h"

#define PATH_COLUMN 48
#define STATE_MAX   96
#define MAX_PAGES   100000 /* 1,000 rows each */

static const char *text_of(yajl_val row, const char *name)
{
    const char *key[] = {name, NULL};
    yajl_val v = yajl_tree_get(row, key, yajl_t_string);
    return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

/* A count of the row, when it is one (a number from 0 to 2^63). */
static bool count_of(yajl_val row, const char *name, uint64_t *n)
{
    const char *key[] = {name, NULL};
    yajl_val v = yajl_tree_get(row, key, yajl_t_number);
    if (v == NULL || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
        return false;
    *n = (uint64_t)YAJL_GET_INTEGER(v);
    return true;
}

static int add_row(struct sl_cli_table *t, yajl_val row, int64_t now,
                   struct sl_err *err)
{
    char path[PATH_COLUMN * 4 + 8], state[STATE_MAX];
    char acked[SL_CLI_SHOWN_MAX], read[SL_CLI_SHOWN_MAX];
    char size[SL_CLI_SHOWN_MAX], lag[SL_CLI_SHOWN_MAX], age[SL_CLI_SHOWN_MAX];
    const char *p = text_of(row, "path"), *s = text_of(row, "state");
    const char *why = text_of(row, "reason");
    const char *ac = NULL, *rd = NULL, *sz = NULL, *lg = NULL, *ag = NULL;
    uint64_t a, r, z, last;
    bool has_a = count_of(row, "acked", &a), has_z = count_of(row, "size", &z);
    if (p == NULL)
        return 0;
    if (has_a)
        ac = sl_cli_bytes(acked, sizeof acked, a);
    if (count_of(row, "read", &r))
        rd = sl_cli_bytes(read, sizeof read, r);
    if (has_z)
        sz = sl_cli_bytes(size, sizeof size, z);
    if (has_a && has_z && z >= a)
        lg = sl_cli_bytes(lag, sizeof lag, z - a);
    if (count_of(row, "last_read", &last) && last <= (uint64_t)INT64_MAX)
        ag = sl_cli_age(age, sizeof age, now - (int64_t)last);
    snprintf(state, sizeof state, "%s%s%s", s != NULL ? s : "-",
             why != NULL ? ": " : "", why != NULL ? why : "");
    return sl_cli_table_row(t, err,
                            sl_cli_cut(path, sizeof path, p, PATH_COLUMN), ac,
                            rd, sz, lg, ag, state);
}

/* Adds root's rows to t; *next: its "files_next" (a copy, to free), NULL
 * at the last page or when it is not a /status target; *known_out: its
 * "files_known" (unchanged without one). */
static int add_page(struct sl_cli_table *t, yajl_val root, char **next,
                    uint64_t *known_out, struct sl_err *err)
{
    const char *files_key[] = {"files", NULL};
    yajl_val files = yajl_tree_get(root, files_key, yajl_t_array);
    const char *n = text_of(root, "files_next");
    int64_t now = (int64_t)time(NULL);
    uint64_t known;
    *next = NULL;
    if (count_of(root, "files_known", &known))
        *known_out = known;
    for (size_t i = 0; files != NULL && i < files->u.array.len; i++)
        if (YAJL_IS_OBJECT(files->u.array.values[i]) &&
            add_row(t, files->u.array.values[i], now, err) < 0)
            return -1;
    if (n == NULL || strncmp(n, "/status?", 8) != 0 ||
        strcspn(n, " \r\n\t") != strlen(n))
        return 0;
    *next = strdup(n);
    return *next != NULL ? 0
                         : sl_err_set(err, SL_ENOMEM, "out of memory for rows");
}

/* The pages after the first (next, freed here), while they come: every
 * row into t; a page that could not be had says why in why. */
static int follow_pages(struct sl_cli_table *t, const char *listen, char *next,
                        uint64_t *known, struct sl_err *why, struct sl_err *err)
{
    size_t pages = 1;
    while (next != NULL && pages++ < MAX_PAGES) {
        yajl_val page = NULL;
        char *after = NULL;
        if (shipper_status_ask(listen, next, &page, why) < 0 || page == NULL) {
            if (page == NULL && why->msg[0] == '\0')
                sl_err_set(why, SL_EREMOTE, "%.200s is not a JSON object",
                           next);
            break;
        }
        int rc = add_page(t, page, &after, known, err);
        yajl_tree_free(page);
        if (rc < 0 || (after != NULL && strcmp(after, next) == 0)) {
            free(after); /* the same page again: no end to it */
            after = NULL;
        }
        free(next);
        next = after;
        if (rc < 0)
            return -1;
    }
    free(next);
    return 0;
}

int shipper_status_files(struct yajl_val_s *root, const char *listen,
                         bool follow, FILE *out, struct sl_err *err)
{
    static const char *const head[] = {"FILE", "ACKED",     "READ", "SIZE",
                                       "LAG",  "LAST READ", "STATE"};
    const char *files_key[] = {"files", NULL};
    struct sl_cli_table t;
    struct sl_err why = {0};
    char *next = NULL;
    uint64_t known = 0;
    int rc = -1;
    if (yajl_tree_get(root, files_key, yajl_t_array) == NULL)
        return 0;
    sl_cli_table_init(&t, 7, head, "lrrrrrl");
    if (add_page(&t, root, &next, &known, err) < 0) {
        free(next);
        goto done;
    }
    if (follow && follow_pages(&t, listen, next, &known, &why, err) < 0)
        goto done;
    if (!follow)
        free(next);
    /* every page had: the files came and went while they were asked */
    uint64_t left = known > t.nrows && (!follow || why.msg[0] != '\0')
                        ? known - t.nrows
                        : 0;
    fprintf(out, "files from the daemon at %s, newer than the registry: %zu",
            listen, t.nrows);
    if (left > 0 && why.msg[0] != '\0')
        fprintf(out, " (and %llu more not shown: %s)", (unsigned long long)left,
                why.msg);
    else if (left > 0)
        fprintf(out, " (and %llu more not shown)", (unsigned long long)left);
    fputc('\n', out);
    if (t.nrows > 0)
        sl_cli_table_print(&t, out);
    rc = 1;
done:
    sl_cli_table_free(&t);
    return rc;
}
