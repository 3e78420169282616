/* shipper_cli.h: the subcommands of sluice-shipper that need no run loop, which
 * main.c dispatches to. Each returns the process's exit status
 * (SL_CLI_EXIT_* of sl_cli.h) and prints its own messages: nothing on
 * stdout but what the command is for, errors on stderr as one line
 * "sluice-shipper: ...". */
#ifndef SHIPPER_CLI_H
#define SHIPPER_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "shipper_config.h"
#include "sl_buf.h"
#include "sl_config.h"
#include "sl_err.h"

#define SHIPPER_PROG "sluice-shipper"

/* A config loaded and read: cfg owns the strings sc points to. */
struct shipper_loaded {
    struct sl_config *cfg;
    struct shipper_config sc;
};

/* Loads path, fills the tables and checks each input (shipper_inputs_check).
 * -1 with the one-line message (file:line:column, key path, found,
 * expected; for a missing file, which path and that -c picks another). */
SL_MUST_CHECK int shipper_cli_load(const char *path, struct shipper_loaded *l,
                                   struct sl_err *err);
void shipper_cli_unload(struct shipper_loaded *l); /* zeroed is fine */

/* What the inputs[] elements must hold before any input module reads them:
 * each an object with "type" "file" or "stdin", a file input with "paths"
 * (a glob or a list of them, not empty). */
SL_MUST_CHECK int shipper_inputs_check(const struct sl_config_node *inputs,
                                       struct sl_err *err);

/* GETs target ("/status", or a page's "files_next") from the daemon's
 * http.listen address ("127.0.0.1:5066", "[::1]:5066", "localhost:5066"; a
 * wildcard address is asked on loopback) over a plain socket, within
 * timeout_ms. The body goes to body (its max bounds it). -1 with SL_EIO
 * (no answer: refused, timed out) or SL_EREMOTE (an answer that is not
 * 200). */
SL_MUST_CHECK int shipper_status_fetch(const char *listen, const char *target,
                                       int timeout_ms, struct sl_buf *body,
                                       struct sl_err *err);

struct yajl_val_s;

/* GETs target from the daemon (shipper_status_fetch) and parses it: 0
 * with *root its JSON object (NULL when the body is not one; the caller
 * frees it with yajl_tree_free), or -1 with err. */
SL_MUST_CHECK int shipper_status_ask(const char *listen, const char *target,
                                     struct yajl_val_s **root,
                                     struct sl_err *err);

/* Reads a raw HTTP answer in[0..len) (bytes from the network; need not
 * be NUL-terminated): its status code and where its body starts. -1 when
 * it does not begin "HTTP/1.x NNN" or has no blank line after its head. */
SL_MUST_CHECK int shipper_status_answer(const char *in, size_t len, long *code,
                                        size_t *body_at);

/* Writes the few lines status shows of a /status JSON body (json is
 * NUL-terminated; anything that is not a JSON object says so): the
 * daemon's memory, uptime and counters, then its files' table when the
 * body has "files" rows. 1 when it showed that table, else 0. */
int shipper_status_summarise(const char *json, const char *listen, FILE *out);

/* The table of /status's "files" rows (status_table.c), root a parsed
 * JSON object (yajl_tree.h's yajl_val). With follow, the pages after
 * root's ("files_next") are asked for and their rows added, so the table
 * has every file the daemon knows; without, root's rows alone, and a
 * count of the others. 1 shown, 0 when root has no "files" (a daemon
 * older than them), -1 with err (out of memory). */
SL_MUST_CHECK int shipper_status_files(struct yajl_val_s *root,
                                       const char *listen, bool follow,
                                       FILE *out, struct sl_err *err);

struct sl_cli;

/* run: the daemon (loop.h); with --once, until everything is shipped. */
SL_MUST_CHECK int shipper_cmd_run(const struct sl_cli *cli);

/* check: silent and 0 on a good config, the message and 2 on a bad one. */
SL_MUST_CHECK int shipper_cmd_check(const struct sl_cli *cli);

/* status: the files as a table on stdout: the running daemon's (its
 * /status, when http.listen is set and it answers with them), else the
 * registry's; and the daemon's counters. 0 when it could report. */
SL_MUST_CHECK int shipper_cmd_status(const struct sl_cli *cli);

#endif
