/* cmd_dlq.c: `sluice-indexer dlq list`: what failed and why, as a table a
 * person reads. The whole dead-letter stream is read in pages (dlq.h) and
 * its letters grouped by error type and reason, the reason with what
 * differs from one event to the next taken out (a leading "[1:15] "
 * position, every 'quoted value'), so a million letters of one mapping
 * error are one row:
 *
 *   dead letters in sluice:dead: 3 (oldest 2h ago, newest 5m ago)
 *   COUNT  STATUS  TYPE                        REASON          EXAMPLE
 *       2     400  document_parsing_exception  failed to ...
 * sluice-2025.11.23/u5ey...
 *
 * At most DLQ_GROUPS rows are kept; letters of further reasons are
 * counted in one last row. Memory: one page and the groups. */
#include "indexer_cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "dlq.h"
#include "sl_cli.h"
#include "sl_cli_table.h"

#define DLQ_GROUPS   200
#define REASON_SHOWN 120
#define NORMAL_MAX   512

struct group {
    char *key; /* type "\n" normalised reason */
    size_t type_len;
    unsigned long long count;
    int status;
    char example[300];
};

struct listing {
    struct group g[DLQ_GROUPS];
    size_t n;
    unsigned long long total, other;
    long long oldest_ms, newest_ms;
};

/* The reason without the parts that name one event: a leading "[L:C] "
 * and the text between single quotes (ids, values), each then "'…'". */
static size_t normalise(struct sl_slice r, char *out, size_t size)
{
    size_t i = 0, o = 0;
    if (r.len > 0 && r.ptr[0] == '[') {
        size_t j = 1;
        while (j < r.len &&
               (r.ptr[j] == ':' || (r.ptr[j] >= '0' && r.ptr[j] <= '9')))
            j++;
        if (j + 1 < r.len && r.ptr[j] == ']' && r.ptr[j + 1] == ' ')
            i = j + 2;
    }
    for (; i < r.len && o + 4 < size; i++) {
        out[o++] = r.ptr[i];
        if (r.ptr[i] != '\'')
            continue;
        const char *end = memchr(r.ptr + i + 1, '\'', r.len - i - 1);
        if (end == NULL)
            continue;
        memcpy(out + o, "...'", 4);
        o += 4;
        i = (size_t)(end - r.ptr);
    }
    out[o] = '\0';
    return o;
}

static int add_letter(struct listing *ls, const struct dlq_letter *l)
{
    char key[NORMAL_MAX + 128];
    int tn = snprintf(key, sizeof key, "%.*s\n", (int)l->type.len, l->type.ptr);
    if (tn < 0 || (size_t)tn >= sizeof key)
        tn = (int)sizeof key - 1;
    normalise(l->reason, key + tn, sizeof key - (size_t)tn);
    ls->total++;
    if (ls->oldest_ms == 0 || l->entry_ms < ls->oldest_ms)
        ls->oldest_ms = l->entry_ms;
    if (l->entry_ms > ls->newest_ms)
        ls->newest_ms = l->entry_ms;
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->g[i].key, key) == 0) {
            ls->g[i].count++;
            return 0;
        }
    if (ls->n == DLQ_GROUPS) {
        ls->other++;
        return 0;
    }
    struct group *g = &ls->g[ls->n];
    if ((g->key = strdup(key)) == NULL)
        return -1;
    ls->n++;
    g->type_len = (size_t)tn - 1;
    g->count = 1;
    g->status = l->status;
    if (l->id.len > 0)
        snprintf(g->example, sizeof g->example, "%.*s/%.*s", (int)l->index.len,
                 l->index.ptr, (int)l->id.len, l->id.ptr);
    else
        snprintf(g->example, sizeof g->example, "%.*s", (int)l->source.len,
                 l->source.ptr);
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int print_listing(struct listing *ls, const char *key,
                         struct sl_err *err)
{
    char a1[32], a2[32], status[16], reason[REASON_SHOWN * 4], count[24];
    long long now = now_ms();
    if (ls->total == 0) {
        printf("no dead letters in %s\n", key);
        return 0;
    }
    printf("dead letters in %s: %llu (oldest %s ago, newest %s ago)\n", key,
           ls->total, sl_cli_age(a1, sizeof a1, (now - ls->oldest_ms) / 1000),
           sl_cli_age(a2, sizeof a2, (now - ls->newest_ms) / 1000));
    qsort(ls->g, ls->n, sizeof ls->g[0], by_count);
    struct sl_cli_table t;
    sl_cli_table_init(
        &t, 5, (const char *[]){"COUNT", "STATUS", "TYPE", "REASON", "EXAMPLE"},
        "rrlll");
    int rc = 0;
    for (size_t i = 0; i < ls->n && rc == 0; i++) {
        struct group *g = &ls->g[i];
        g->key[g->type_len] = '\0';
        snprintf(count, sizeof count, "%llu", g->count);
        snprintf(status, sizeof status, "%d", g->status);
        sl_cli_cut(reason, sizeof reason, g->key + g->type_len + 1,
                   REASON_SHOWN);
        rc = sl_cli_table_row(&t, err, count, status, g->key, reason,
                              g->example);
    }
    if (rc == 0 && ls->other > 0) {
        snprintf(count, sizeof count, "%llu", ls->other);
        rc = sl_cli_table_row(&t, err, count, "", "", "(other reasons)", "");
    }
    if (rc == 0)
        sl_cli_table_print(&t, stdout);
    sl_cli_table_free(&t);
    printf("send them again, once the cause is fixed: " INDEXER_PROG
           " dlq replay\n");
    return rc;
}

static int list_all(redisContext *c, const char *key, struct sl_err *err)
{
    struct listing *ls = calloc(1, sizeof *ls);
    struct dlq_page p = {0};
    char after[DLQ_ID_MAX] = "";
    int rc = ls == NULL ? sl_err_set(err, SL_ENOMEM, "out of memory") : 0;
    while (rc == 0 &&
           (rc = dlq_page_read(c, key, after, DLQ_PAGE, &p, err)) == 0 &&
           p.n > 0) {
        for (size_t i = 0; i < p.n && rc == 0; i++)
            if (add_letter(ls, &p.letters[i]) < 0)
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        snprintf(after, sizeof after, "%s", p.letters[p.n - 1].entry_id);
    }
    dlq_page_free(&p);
    if (rc == 0)
        rc = print_listing(ls, key, err);
    for (size_t i = 0; ls != NULL && i < ls->n; i++)
        free(ls->g[i].key);
    free(ls);
    return rc;
}

int indexer_cmd_dlq_list(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    redisContext *c = dlq_connect(l.ic.redis.url, &err);
    int rc = c != NULL ? list_all(c, l.ic.redis.dead_key, &err) : -1;
    if (rc < 0)
        fprintf(stderr, INDEXER_PROG ": dlq list: %s\n", err.msg);
    redisFree(c);
    indexer_cli_unload(&l);
    return rc < 0 ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_OK;
}
