/* cli_load.c: an indexer.json loaded and read through its tables, as
 * `check`, `status`, `run`, `setup` and `dlq` need it; for the commands
 * that send to Elasticsearch, the files it names are opened too, so a
 * path mistake is a config error at start (curl read
 * elasticsearch.ca_file only at each request: `run` retried every batch
 * for ever). `check` does not open them: it checks the file's words, on
 * any machine (the examples name a CA that is not on this one). */
#include "indexer_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* elasticsearch.ca_file, when given, is a file this process can read. */
static int check_ca_file(const struct indexer_loaded *l, struct sl_err *err)
{
    const char *path = l->ic.elasticsearch.ca_file;
    if (path == NULL)
        return 0;
    const struct sl_config_node *n = sl_config_get(
        sl_config_get(sl_config_root(l->cfg), "elasticsearch"), "ca_file");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_config_error(n, err,
                               "cannot read \"%s\": %s; expected the PEM "
                               "file of the CA that signed the nodes' "
                               "certificates",
                               path, sl_strerror(errno));
    struct stat st;
    bool file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (file)
        return 0;
    return sl_config_error(n, err,
                           "\"%s\" is not a file; expected the PEM file of "
                           "the CA that signed the nodes' certificates",
                           path);
}

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

int indexer_cli_load_to_send(const char *path, struct indexer_loaded *l,
                             struct sl_err *err)
{
    if (indexer_cli_load(path, l, err) < 0)
        return -1;
    if (check_ca_file(l, err) < 0) {
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
