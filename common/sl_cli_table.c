/* sl_cli_table.c: aligned tables and human-readable numbers for `status`
 * (sl_cli_table.h). Memory grows with the rows, which `status` bounds by
 * what it reports (a registry's entries); nothing here is on a daemon's
 * hot path. */
#include "sl_cli_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sl_json.h"

void sl_cli_table_init(struct sl_cli_table *t, size_t ncols,
                       const char *const head[], const char *align)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols < SL_CLI_TABLE_MAX_COLS ? ncols : SL_CLI_TABLE_MAX_COLS;
    for (size_t i = 0; i < t->ncols; i++) {
        t->head[i] = head[i];
        t->right[i] = align[i] == 'r';
    }
}

/* The bytes of s as a cell shows them: control characters as \n, \t, \r
 * or \xNN (C1 controls, U+0080 to U+009F, byte by byte), a byte that is
 * not UTF-8 as \xNN, a backslash as \\, so a file name with a newline
 * stays on its row and means one thing. */
static char *cell_dup(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    char *out = malloc(len * 4 + 1); /* \xNN is the longest: 4 a byte */
    if (out == NULL)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < len;) {
        size_t n = u[i] < 0x80 ? 1 : sl_utf8_seq_len(u + i, len - i);
        unsigned char c = u[i];
        bool c1 = n == 2 && c == 0xC2 && u[i + 1] < 0xA0;
        if (n > 1 && !c1) {
            memcpy(p, u + i, n);
            p += n;
            i += n;
            continue;
        }
        i++;
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        if (c == '\\' || c == '\n' || c == '\t' || c == '\r') {
            *p++ = c == '\\' ? '\\' : c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            continue;
        }
        static const char hex[] = "0123456789abcdef";
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    *p = '\0';
    return out;
}

int sl_cli_table_row(struct sl_cli_table *t, struct sl_err *err, ...)
{
    if (t->nrows == SL_CLI_TABLE_MAX_ROWS)
        return sl_err_set(err, SL_ELIMIT, "more than %d rows to show",
                          SL_CLI_TABLE_MAX_ROWS);
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, cap * t->ncols * sizeof *cells);
        if (cells == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for the table");
        t->cells = cells;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    va_list ap;
    va_start(ap, err);
    size_t i = 0;
    for (; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        if ((row[i] = cell_dup(s != NULL ? s : "-")) == NULL)
            break;
    }
    va_end(ap);
    if (i < t->ncols) {
        while (i-- > 0)
            free(row[i]);
        return sl_err_set(err, SL_ENOMEM, "out of memory for the table");
    }
    t->nrows++;
    return 0;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void print_row(const struct sl_cli_table *t, const char *const *cells,
                      const size_t *w, FILE *f)
{
    for (size_t i = 0; i < t->ncols; i++) {
        size_t pad = w[i] - width(cells[i]);
        bool last = i + 1 == t->ncols;
        if (t->right[i])
            fprintf(f, "%*s", (int)pad, "");
        fputs(cells[i], f);
        if (!t->right[i] && !last)
            fprintf(f, "%*s", (int)pad, "");
        fputs(last ? "\n" : "  ", f);
    }
}

void sl_cli_table_print(const struct sl_cli_table *t, FILE *f)
{
    size_t w[SL_CLI_TABLE_MAX_COLS];
    for (size_t i = 0; i < t->ncols; i++) {
        w[i] = width(t->head[i]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t n = width(t->cells[r * t->ncols + i]);
            if (n > w[i])
                w[i] = n;
        }
    }
    print_row(t, t->head, w, f);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(t, (const char *const *)t->cells + r * t->ncols, w, f);
}

void sl_cli_table_free(struct sl_cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

const char *sl_cli_bytes(char *buf, size_t size, uint64_t n)
{
    static const char *const units[] = {"B",   "KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu B", (unsigned long long)n);
    else if (v < 9.95)
        snprintf(buf, size, "%.1f %s", v, units[u]);
    else
        snprintf(buf, size, "%.0f %s", v, units[u]);
    return buf;
}

const char *sl_cli_age(char *buf, size_t size, int64_t s)
{
    if (s < 0)
        snprintf(buf, size, "-");
    else if (s < 60)
        snprintf(buf, size, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    return buf;
}

const char *sl_cli_cut(char *buf, size_t size, const char *s, size_t w)
{
    size_t n = width(s);
    if (w < 8)
        w = 8;
    if (n <= w) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
    /* Keep the first third and the rest from the end, whole characters. */
    size_t head = (w - 3) / 3, tail = w - 3 - head, hb = 0, tb = strlen(s);
    for (size_t c = 0; c < head; c++)
        do
            hb++;
        while (((unsigned char)s[hb] & 0xC0) == 0x80);
    for (size_t c = 0; c < tail; c++)
        do
            tb--;
        while (((unsigned char)s[tb] & 0xC0) == 0x80);
    snprintf(buf, size, "%.*s...%s", (int)hb, s, s + tb);
    return buf;
}

bool sl_cli_json_shallow(const char *s, size_t len, int max)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if ((c == '[' || c == '{') && ++depth > max) {
            return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}
