/* main.c: sluice-shipper's command line, a dispatcher: sl_cli parses argv
 * against the table below, and each subcommand is a function of its own
 * file (cmd_run.c, cmd_check.c, cmd_status.c). */
#include "shipper_cli.h"
#include "sl_cli.h"

static const struct sl_cli_command commands[] = {
    {"run", true,
     "tail the inputs, ship their events; --once: until all is shipped",
     shipper_cmd_run, false},
    {"check", false, "validate the config; silent when it is good",
     shipper_cmd_check, false},
    {"status", false, "files, offsets, sizes and lag; the daemon's counters",
     shipper_cmd_status, false},
    {NULL, false, NULL, NULL, false}};

static const struct sl_cli_spec spec = {
    SHIPPER_PROG,
    "Tails log files (or stdin), parses lines into JSON events and ships "
    "them\nto Redis in batches.",
    "/etc/sluice/shipper.json", commands};

int main(int argc, char **argv)
{
    return sl_cli_main(&spec, argc, argv);
}
