/* cmd_run.c: `sluice-shipper run [--once]`: the config loaded as `check`
 * loads it (a bad one: its message and exit 2), the log set from its log
 * section (a log.file that cannot be opened: exit 1), then the daemon's loop
 * (loop.h) until a signal or, with --once, until everything was shipped. Exit 0
 * on a clean stop, 1 when the shipper could not start (data_dir, Redis URL, the
 * HTTP address) or go on (--once: Redis unreachable or refusing for
 * output.redis.command_timeout). */
#include "shipper_cli.h"

#include <string.h>

#include "loop.h"
#include "sl_cli.h"
#include "sl_log.h"

static bool reads_stdin(const struct shipper_config *sc)
{
    for (size_t i = 0; i < sl_config_len(sc->inputs); i++) {
        const char *type = NULL;
        const struct sl_config_node *t =
            sl_config_get(sl_config_at(sc->inputs, i), "type");
        if (t != NULL && sl_config_string(t, NULL, NULL, &type, NULL) == 0 &&
            strcmp(type, "stdin") == 0)
            return true;
    }
    return false;
}

/* With stdout closed the stdout output writes to nothing: refused, or
 * every event would be taken for shipped. Stdin closed: said. */
static int check_std_fds(unsigned closed, const struct shipper_config *sc)
{
    if ((closed & 2) && sc->output.stdout_node != NULL) {
        SL_ERROR("shipper", "stdout is closed, and output.stdout writes the "
                            "events there; start the shipper with stdout "
                            "open (a file, a pipe), or use output.redis");
        return -1;
    }
    if ((closed & 1) && reads_stdin(sc))
        SL_WARN("shipper", "stdin is closed: the stdin input reads nothing; "
                           "start the shipper with stdin open (a pipe, a "
                           "file)");
    return 0;
}

int shipper_cmd_run(const struct sl_cli *cli)
{
    struct shipper_loaded ld;
    struct sl_err err = {0};
    unsigned closed = sl_cli_std_fds_closed();
    if (shipper_cli_load(cli->config, &ld, &err) < 0) {
        fprintf(stderr, SHIPPER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    if (sl_log_section_apply(&ld.sc.log,
                             sl_config_get(sl_config_root(ld.cfg), "log"),
                             &err) < 0) {
        fprintf(stderr, SHIPPER_PROG ": %s\n", err.msg);
        shipper_cli_unload(&ld);
        return SL_CLI_EXIT_FAIL;
    }
    if (check_std_fds(closed, &ld.sc) < 0) {
        sl_log_flush();
        shipper_cli_unload(&ld);
        return SL_CLI_EXIT_FAIL;
    }
    struct loop *l = loop_new(&ld.sc, cli->once, &err);
    if (l == NULL) {
        SL_ERROR("shipper", "%s", err.msg);
        sl_log_flush();
        shipper_cli_unload(&ld);
        /* a setting the config got wrong: 2; a damaged registry, a
         * data_dir or address that cannot be used: 1 */
        return err.status == SL_EINVAL ? SL_CLI_EXIT_USAGE : SL_CLI_EXIT_FAIL;
    }
    int status = loop_run(l);
    loop_free(l);
    shipper_cli_unload(&ld);
    return status == 0 ? SL_CLI_EXIT_OK : SL_CLI_EXIT_FAIL;
}
