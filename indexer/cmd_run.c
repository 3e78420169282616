/* cmd_run.c: `sluice-indexer run [--once]`: the config loaded, the log set
 * up as it says, the process made ready for the loop (SIGTERM, SIGINT and
 * SIGHUP blocked for its signalfd, SIGPIPE ignored, curl initialised
 * before any thread starts, malloc told to keep what it frees), then
 * loop.c until it ends. */
#include "indexer_cli.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "loop.h"
#include "sl_cli.h"
#include "sl_log.h"

/* The loop frees and takes again, all the time, blocks of megabytes: an
 * entry's decompressed batch (1.4 MB at 2,000 events), Redis replies.
 * glibc's dynamic thresholds gave the top of the heap back to the kernel
 * between them, and each time the pages came back as faults the kernel
 * zeroed: 36,000-44,000 minor faults per 1M events, against 13,400 (the
 * peak RSS's pages) once freed memory up to 16 MiB stays in the heap and
 * blocks up to 4 MiB come from it. The peak RSS is the same (60 MiB into
 * the sink); system time per 1M events 0.30 -> 0.19-0.27 s
 * (bench/RESULTS.md). */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

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
    sl_log_init(l.ic.log.level, l.ic.log.format);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    keep_freed_memory();
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
