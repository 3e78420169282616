/* cmd_check.c: `sluice-shipper check`: the config is loaded and read as
 * `run` would, then nothing else happens. A good file prints nothing and
 * exits 0 (DESIGN.md); a bad one prints its one-line message and exits 2.
 * Nothing is opened but the config: check runs where the logs or Redis are
 * not (a CI job, a config management dry run). */
#include "shipper_cli.h"

#include "sl_cli.h"

int shipper_cmd_check(const struct sl_cli *cli)
{
    struct shipper_loaded l;
    struct sl_err err = {0};
    if (shipper_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, SHIPPER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    shipper_cli_unload(&l);
    return SL_CLI_EXIT_OK;
}
