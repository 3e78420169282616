/* indexer_cli.h: the subcommands of sluice-indexer that need no run loop,
 * which main.c dispatches to. Each returns the process's exit status
 * (SL_CLI_EXIT_* of sl_cli.h) and prints its own messages: nothing on
 * stdout but what the command is for, errors on stderr as one line
 * "sluice-indexer: ...". */
#ifndef INDEXER_CLI_H
#define INDEXER_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "indexer_config.h"
#include "sl_config.h"
#include "sl_err.h"

#define INDEXER_PROG "sluice-indexer"

/* A config loaded and read: cfg owns the strings ic points to. */
struct indexer_loaded {
    struct sl_config *cfg;
    struct indexer_config ic;
};

/* Loads path and fills the tables, then opens the files the config
 * names (elasticsearch.ca_file), alike for every subcommand. -1 with the
 * one-line message (file:line:column, key path, found, expected; for a
 * missing file, which path and that -c picks another). A CA file that
 * cannot be read is a config error (SL_EINVAL) when an https:// URL would
 * use it, else a warning on stderr (cli_load.c says why). */
SL_MUST_CHECK int indexer_cli_load(const char *path, struct indexer_loaded *l,
                                   struct sl_err *err);
void indexer_cli_unload(struct indexer_loaded *l); /* zeroed is fine */

/* status's Elasticsearch part (status_es.c): each node of es->hosts
 * reachable or not, and the cluster's health, as lines on out. Returns
 * how many nodes answered. */
size_t indexer_status_es(const struct indexer_es_config *es, FILE *out);

/* Writes url with any user:password@ replaced by "***@"; returns buf. */
const char *indexer_url_redact(const char *url, char *buf, size_t size);

struct sl_cli;

/* check: silent and 0 on a good config, the message and 2 on a bad one. */
SL_MUST_CHECK int indexer_cmd_check(const struct sl_cli *cli);

/* run: the daemon (loop.h); with --once until nothing is left. 0 when
 * stopped by a signal or done, 1 on a failure, 2 on a bad config. */
SL_MUST_CHECK int indexer_cmd_run(const struct sl_cli *cli);

/* setup: the index template and Kibana's objects (setup.h); 0 done, 1
 * failed (the message says what to fix), 2 a bad config. */
SL_MUST_CHECK int indexer_cmd_setup(const struct sl_cli *cli);

/* dlq list: the dead letters grouped by reason, a table on stdout; 0, or
 * 1 when Redis does not answer. */
SL_MUST_CHECK int indexer_cmd_dlq_list(const struct sl_cli *cli);

/* dlq replay: each dead letter's event sent again (cmd_dlq_replay.c); a
 * letter is deleted once its event is indexed (or 409), the others stay.
 * 0 when every letter was tried, 1 when Redis or Elasticsearch failed. */
SL_MUST_CHECK int indexer_cmd_dlq_replay(const struct sl_cli *cli);

/* status: Redis (stream or list) and Elasticsearch as tables on stdout.
 * 0 when it could report, 1 when Redis does not answer. */
SL_MUST_CHECK int indexer_cmd_status(const struct sl_cli *cli);

#endif
