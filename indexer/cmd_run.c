/* cmd_run.c: `sluice-indexer run [--once]`: the config loaded, the log set
 * up as it says, the process made ready for the loop (SIGTERM, SIGINT and
 * SIGHUP blocked for its signalfd, SIGPIPE ignored, curl initialised
 * before any thread starts), then loop.c until it ends. */
#include "indexer_cli.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>

#include "loop.h"
#include "sl_cli.h"
#include "sl_log.h"

int indexer_cmd_run(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    sigset_t set;
    struct sigaction ign = {.sa_handler = SIG_IGN};

    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    if (sl_log_section_apply(
            &l.ic.log, sl_config_get(sl_config_root(l.cfg), "log"), &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        indexer_cli_unload(&l);
        return SL_CLI_EXIT_FAIL;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, INDEXER_PROG ": libcurl did not initialise\n");
        indexer_cli_unload(&l);
        return SL_CLI_EXIT_FAIL;
    }
    int rc = indexer_loop_run(&l.ic, cli->once);
    curl_global_cleanup();
    indexer_cli_unload(&l);
    return rc;
}
