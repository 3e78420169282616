/* status_table.c: `status`'s table of the files the running daemon knows,
 * from the "files" rows of its /status (status_files.h):
 *
 *   files from the daemon at 127.0.0.1:5066, newer than the registry: 2
 *   FILE              ACKED     READ     SIZE      LAG  LAST READ  STATE
 *   /var/log/app.log  1.2 MiB  1.3 MiB  1.3 MiB  100 KiB         4s  reading
 *   /var/log/new.log        -        -    4 KiB        -          -  waiting
 *
 * ACKED is in Redis (the registry's offset in the daemon's memory, ahead
 * of the file by up to the save interval), READ is what the daemon has
 * read, LAG what is not acknowledged yet (SIZE - ACKED). What the rows
 * hold comes from outside the process: a row that is not an object with a
 * path is skipped, a number that is not one prints as "-". */
#include "shipper_cli.h"

#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "sl_cli.h"
#include "sl_cli_table.h"

#define PATH_COLUMN 48
#define STATE_MAX   96

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

int shipper_status_files(struct yajl_val_s *root, const char *listen, FILE *out,
                         struct sl_err *err)
{
    static const char *const head[] = {"FILE", "ACKED",     "READ", "SIZE",
                                       "LAG",  "LAST READ", "STATE"};
    const char *files_key[] = {"files", NULL},
               *omitted_key[] = {"files_omitted", NULL};
    yajl_val files = yajl_tree_get(root, files_key, yajl_t_array);
    yajl_val omitted = yajl_tree_get(root, omitted_key, yajl_t_number);
    struct sl_cli_table t;
    int rc = -1;
    if (files == NULL)
        return 0;
    long long left = omitted != NULL && YAJL_IS_INTEGER(omitted)
                         ? YAJL_GET_INTEGER(omitted)
                         : 0;
    sl_cli_table_init(&t, 7, head, "lrrrrrl");
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < files->u.array.len; i++)
        if (YAJL_IS_OBJECT(files->u.array.values[i]) &&
            add_row(&t, files->u.array.values[i], now, err) < 0)
            goto done;
    fprintf(out, "files from the daemon at %s, newer than the registry: %zu",
            listen, t.nrows);
    if (left > 0)
        fprintf(out,
                " (and %lld more not shown: /status sends 768 KiB of "
                "rows at most)",
                left);
    fputc('\n', out);
    if (t.nrows > 0)
        sl_cli_table_print(&t, out);
    rc = 1;
done:
    sl_cli_table_free(&t);
    return rc;
}
