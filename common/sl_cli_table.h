/* sl_cli_table.h: what `status` prints: aligned tables, sizes and ages a
 * person reads at a glance.
 *
 *   struct sl_cli_table t;
 *   sl_cli_table_init(&t, 3, (const char *[]){"FILE", "SIZE", "AGE"}, "lrr");
 *   sl_cli_table_row(&t, &err, "/var/log/app.log", "1.2 MiB", "5s");
 *   sl_cli_table_print(&t, stdout);
 *   sl_cli_table_free(&t);
 *
 * Cells are copied, escaped: a control character shows as \n, \t, \r or
 * \xNN, a byte that is not UTF-8 as \xNN and a backslash as \\, so a
 * file name with a newline keeps its row (and the terminal its state).
 * Widths count UTF-8 characters, so a path with é stays aligned. Columns
 * are separated by two spaces; the last column is not padded when it is
 * left-aligned. */
#ifndef SL_CLI_TABLE_H
#define SL_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_err.h"

#define SL_CLI_TABLE_MAX_COLS 8
#define SL_CLI_TABLE_MAX_ROWS 1000000 /* a registry's files, at most */

struct sl_cli_table {
    size_t ncols;
    const char *head[SL_CLI_TABLE_MAX_COLS]; /* kept, not copied */
    bool right[SL_CLI_TABLE_MAX_COLS];       /* right-aligned (numbers) */
    char **cells;                            /* nrows * ncols, copied */
    size_t nrows, cap;
};

/* align: one 'l' or 'r' per column. head is kept until the table is
 * freed. */
void sl_cli_table_init(struct sl_cli_table *t, size_t ncols,
                       const char *const head[], const char *align);
/* Appends a row of ncols strings (NULL prints as "-"). SL_ENOMEM,
 * SL_ELIMIT past SL_CLI_TABLE_MAX_ROWS. */
SL_MUST_CHECK int sl_cli_table_row(struct sl_cli_table *t, struct sl_err *err,
                                   ...);
void sl_cli_table_print(const struct sl_cli_table *t, FILE *f);
void sl_cli_table_free(struct sl_cli_table *t); /* zeroed is fine */

#define SL_CLI_SHOWN_MAX 32

/* 0 B, 512 B, 1.5 KiB, 12 MiB, 3.0 GiB: three digits at most, IEC units;
 * into buf (at least SL_CLI_SHOWN_MAX bytes); returns buf. */
const char *sl_cli_bytes(char *buf, size_t size, uint64_t n);
/* 0s, 59s, 12m, 5h, 3d for seconds; "-" for a negative age (a clock that
 * went back). Returns buf. */
const char *sl_cli_age(char *buf, size_t size, int64_t seconds);
/* s cut to width characters (at least 8) by replacing its middle with
 * "...", keeping the end, where a path's file name is:
 * "/var/log/...s/app.log". Into buf; returns buf. */
const char *sl_cli_cut(char *buf, size_t size, const char *s, size_t width);

/* Whether the JSON text s[0..len) nests objects and arrays at most max
 * deep (brackets inside strings do not count). `status` asks it before
 * yajl_tree_parse, whose tree is built and freed recursively: an answer
 * nested a million deep would overflow the stack. */
bool sl_cli_json_shallow(const char *s, size_t len, int max);

#endif
