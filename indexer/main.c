/* main.c: sluice-indexer's command line, a dispatcher: sl_cli parses argv
 * against the table below, and each subcommand is a function of its own
 * file (cmd_run.c, cmd_check.c, cmd_status.c, cmd_setup.c, cmd_dlq.c). */
#include "indexer_cli.h"
#include "sl_cli.h"

#ifndef SLUICE_SHARE_DIR
#define SLUICE_SHARE_DIR "/usr/share/sluice"
#endif

static const struct sl_cli_command commands[] = {
    {"run", true, "index what Redis holds; --once: until nothing is left",
     indexer_cmd_run, false},
    {"check", false, "validate the config; silent when it is good",
     indexer_cmd_check, false},
    {"status", false,
     "stream length, pending, lag, dead letters; Elasticsearch health",
     indexer_cmd_status, false},
    {"setup", false,
     "install the index template (and Kibana objects); --force: replace a "
     "newer one",
     indexer_cmd_setup, true},
    {"dlq list", false, "show the dead letters", indexer_cmd_dlq_list, false},
    {"dlq replay", false, "send the dead letters to Elasticsearch again",
     indexer_cmd_dlq_replay, false},
    {NULL, false, NULL, NULL, false}};

static const struct sl_cli_spec spec = {
    INDEXER_PROG,
    "Reads batches of events from Redis and indexes them into "
    "Elasticsearch.\n\n"
    "`setup` installs $SLUICE_TEMPLATE_FILE, else " SLUICE_SHARE_DIR
    "/elasticsearch/sluice-template.json\nwhen installed, else the source "
    "tree's conf/elasticsearch/sluice-template.json;\nit imports the .ndjson "
    "files of $SLUICE_KIBANA_DIR, else " SLUICE_SHARE_DIR "/kibana,\nelse "
    "the source tree's conf/kibana.",
    "/etc/sluice/indexer.json", commands};

int main(int argc, char **argv)
{
    return sl_cli_main(&spec, argc, argv);
}
