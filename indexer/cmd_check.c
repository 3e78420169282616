/* cmd_check.c: `sluice-indexer check`: the config is loaded and read as
 * `run` would, then nothing else happens. A good file prints nothing and
 * exits 0 (DESIGN.md); a bad one prints its one-line message and exits 2.
 * Neither Redis nor Elasticsearch is asked (`status` does that), but the
 * files the config names are opened, as `run` opens them: a CA file that
 * `run` would refuse is refused here too (indexer_cli.h). */
#include "indexer_cli.h"

#include <stdio.h>

#include "sl_cli.h"

int indexer_cmd_check(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    indexer_cli_unload(&l);
    return SL_CLI_EXIT_OK;
}
