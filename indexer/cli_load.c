/* cli_load.c: an indexer.json loaded and read through its tables, as
 * `check`, `status` and (later) `run`, `setup` and `dlq` need it. */
#include "indexer_cli.h"

#include <stdio.h>
#include <string.h>

int indexer_cli_load(const char *path, struct indexer_loaded *l,
                     struct sl_err *err)
{
    memset(l, 0, sizeof *l);
    l->cfg = sl_config_load_file(path, err);
    if (l->cfg == NULL) {
        if (err != NULL && err->status == SL_EIO) {
            char msg[SL_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            sl_err_set(err, SL_EIO, "%s; -c FILE reads another config", msg);
        }
        return -1;
    }
    if (indexer_config_read(&l->ic, sl_config_root(l->cfg), err) < 0) {
        indexer_cli_unload(l);
        return -1;
    }
    return 0;
}

void indexer_cli_unload(struct indexer_loaded *l)
{
    if (l->cfg != NULL)
        indexer_config_release(&l->ic);
    sl_config_free(l->cfg);
    memset(l, 0, sizeof *l);
}
