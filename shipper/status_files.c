/* status_files.c: the /status body (status_files.h): the counters' JSON
 * object, reopened to add a page of the files the inputs know. One pass
 * over the inputs' records keeping the page's rows (the smallest paths
 * after the cursor, in a heap of STATUS_FILES_PAGE_ROWS + 1), one sort of
 * those, one pass writing, and no system call: 10,000 files cost the
 * daemon a few ms of CPU a page, and the memory of 1,001 rows. */
#include "status_files.h"

#include <stdlib.h>
#include <string.h>

#include "sl_json.h"

/* The page's candidates: the cap smallest paths after the cursor, a
 * max-heap by path while collecting, sorted after. */
struct rows {
    struct in_file_row *v;
    size_t n, cap;
    size_t total; /* every row of the inputs */
};

static int cmp_path(const struct in_file_row *x, const struct in_file_row *y)
{
    return strcmp(x->path, y->path);
}

static void swap_rows(struct in_file_row *a, struct in_file_row *b)
{
    struct in_file_row t = *a;
    *a = *b;
    *b = t;
}

static void heap_down(struct rows *rs, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < rs->n && cmp_path(&rs->v[l], &rs->v[big]) > 0)
            big = l;
        if (r < rs->n && cmp_path(&rs->v[r], &rs->v[big]) > 0)
            big = r;
        if (big == i)
            return;
        swap_rows(&rs->v[i], &rs->v[big]);
        i = big;
    }
}

/* Keeps row when it is among the cap smallest seen so far. */
static void heap_offer(struct rows *rs, const struct in_file_row *row)
{
    if (rs->n < rs->cap) {
        size_t i = rs->n++;
        rs->v[i] = *row;
        while (i > 0 && cmp_path(&rs->v[(i - 1) / 2], &rs->v[i]) < 0) {
            swap_rows(&rs->v[(i - 1) / 2], &rs->v[i]);
            i = (i - 1) / 2;
        }
    } else if (cmp_path(row, &rs->v[0]) < 0) {
        rs->v[0] = *row;
        heap_down(rs, 0);
    }
}

static int by_path(const void *a, const void *b)
{
    return cmp_path(a, b);
}

/* The rows after the cursor that may go in the page, sorted; one more
 * than a page holds, so the page knows the row after its last. */
static int rows_collect(struct rows *rs, struct in_file *const *inputs,
                        size_t n, const char *after, struct sl_err *err)
{
    struct in_file_row row;
    rs->cap = STATUS_FILES_PAGE_ROWS + 1;
    rs->v = malloc(rs->cap * sizeof *rs->v);
    if (rs->v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for /status");
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0;
             inputs[i] != NULL && in_file_next_row(inputs[i], &c, &row);) {
            rs->total++;
            if (after == NULL || strcmp(row.path, after) > 0)
                heap_offer(rs, &row);
        }
    if (rs->n > 1)
        qsort(rs->v, rs->n, sizeof *rs->v, by_path);
    return 0;
}

static int write_num(struct sl_buf *b, const char *key, bool known, long long v,
                     struct sl_err *err)
{
    if (sl_buf_printf(b, err, ",\"%s\":", key) < 0)
        return -1;
    return known ? sl_json_write_int(b, v, err)
                 : sl_buf_append_str(b, "null", err);
}

static long long clamp(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (long long)v;
}

static const char *state_word(const struct in_file_row *r,
                              const struct status_files_page *pg)
{
    if (strcmp(r->state, "waiting") != 0)
        return r->state;
    return pg->output_full ? "waiting-output" : "waiting-max-open";
}

static int write_row(struct sl_buf *b, const struct in_file_row *r,
                     const struct status_files_page *pg, struct sl_err *err)
{
    long long last = (pg->wall_now_ms - (pg->mono_now - r->last_read)) / 1000;
    if (sl_buf_append_str(b, "{\"path\":", err) < 0 ||
        sl_json_write_string(b, r->path, strlen(r->path), err) < 0 ||
        sl_buf_printf(b, err, ",\"state\":\"%s\"", state_word(r, pg)) < 0)
        return -1;
    if (r->reason != NULL &&
        (sl_buf_append_str(b, ",\"reason\":", err) < 0 ||
         sl_json_write_string(b, r->reason, strlen(r->reason), err) < 0))
        return -1;
    if (write_num(b, "acked", r->has_acked, clamp(r->acked), err) < 0 ||
        write_num(b, "read", r->has_read, clamp(r->read), err) < 0 ||
        write_num(b, "size", r->has_size, clamp(r->size), err) < 0 ||
        write_num(b, "last_read", r->has_read, last, err) < 0)
        return -1;
    return sl_buf_append_char(b, '}', err);
}

/* How many of the sorted rows the page shows: those whose text stays
 * under max_bytes (a first one always), at most a page, never ending
 * inside a run of rows with one path while one row of it is left out
 * (unless the run alone fills the page: then it is cut). The rows are
 * written; the buffer is cut back to the end of the last one shown. */
static int write_rows(struct sl_buf *b, const struct rows *rs,
                      const struct status_files_page *pg, size_t *shown,
                      struct sl_err *err)
{
    size_t start = b->len, end = 0, limit = rs->n;
    bool over = false;
    size_t *at = malloc((rs->n + 1) * sizeof *at);
    if (at == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory for /status");
    if (limit > STATUS_FILES_PAGE_ROWS)
        limit = STATUS_FILES_PAGE_ROWS;
    for (; end < limit; end++) {
        at[end] = b->len;
        if ((end > 0 && sl_buf_append_char(b, ',', err) < 0) ||
            write_row(b, &rs->v[end], pg, err) < 0) {
            free(at);
            return -1;
        }
        if (end > 0 && b->len - start > pg->max_bytes) {
            over = true; /* this one and the rest are left out */
            break;
        }
    }
    if (!over)
        at[end] = b->len;
    size_t keep = end;
    while (keep > 0 && keep < rs->n &&
           cmp_path(&rs->v[keep - 1], &rs->v[keep]) == 0)
        keep--;
    if (keep == 0)
        keep = end;
    b->len = at[keep];
    b->ptr[b->len] = '\0';
    *shown = keep;
    free(at);
    return 0;
}

/* The path as a query value: unreserved bytes and '/' as they are,
 * every other byte %XX. */
static int write_next(struct sl_buf *b, const char *path, struct sl_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    if (sl_buf_append_str(b, ",\"files_next\":\"/status?after=", err) < 0)
        return -1;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL;
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if (plain ? sl_buf_append_char(b, (char)*p, err) < 0
                  : sl_buf_append(b, esc, 3, err) < 0)
            return -1;
    }
    return sl_buf_append_char(b, '"', err);
}

int status_files_render_page(struct sl_metrics *m,
                             struct in_file *const *inputs, size_t n,
                             const struct status_files_page *pg,
                             struct sl_buf *body, struct sl_err *err)
{
    struct rows rs = {0};
    size_t shown = 0, start = body->len;
    int rc = -1;
    if (m != NULL ? sl_metrics_render_json(m, body, err) < 0
                  : sl_buf_append_str(body, "{}", err) < 0)
        return -1;
    body->ptr[--body->len] = '\0'; /* the object's '}': reopened */
    if (rows_collect(&rs, inputs, n, pg->after, err) < 0)
        goto done;
    const char *sep = body->len - start > 1 ? "," : "";
    if ((pg->output_full &&
         sl_buf_printf(body, err, "%s\"output_full\":true", sep) < 0) ||
        sl_buf_printf(body, err, "%s\"files\":[", pg->output_full ? "," : sep) <
            0 ||
        write_rows(body, &rs, pg, &shown, err) < 0 ||
        sl_buf_printf(body, err, "],\"files_known\":%zu,\"files_omitted\":%zu",
                      rs.total, rs.total - shown) < 0)
        goto done;
    if (shown < rs.n && write_next(body, rs.v[shown - 1].path, err) < 0)
        goto done;
    rc = sl_buf_append_char(body, '}', err);
done:
    free(rs.v);
    return rc;
}

int status_files_render(struct sl_metrics *m, struct in_file *const *inputs,
                        size_t n, int64_t mono_now, int64_t wall_now_ms,
                        size_t max_bytes, struct sl_buf *body,
                        struct sl_err *err)
{
    struct status_files_page pg = {.max_bytes = max_bytes,
                                   .mono_now = mono_now,
                                   .wall_now_ms = wall_now_ms};
    return status_files_render_page(m, inputs, n, &pg, body, err);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes q[0..len) into out: 0, or -1 (bad escape, NUL, too long). */
static int decode(const char *q, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)q[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(q[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(q[i + 2]) : -1;
            if (lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= size)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int status_files_query_after(const char *q, size_t len, char *out, size_t size)
{
    static const char key[] = "after=";
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(q + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - q) : len;
        if (end - i >= sizeof key - 1 &&
            memcmp(q + i, key, sizeof key - 1) == 0)
            return decode(q + i + sizeof key - 1, end - i - (sizeof key - 1),
                          out, size) < 0
                       ? -1
                       : 1;
        i = end + 1;
    }
    return 0;
}
