/* cli_load.c: an indexer.json loaded and read through its tables, as
 * every subcommand (`check`, `run`, `status`, `setup`, `dlq list`, `dlq
 * replay`) needs it, and the files it names opened, so a path mistake is
 * a config error at start (curl read elasticsearch.ca_file only at each
 * request: `run` retried every batch for ever) and every subcommand judges
 * one config alike: `check` says what `run` would, and `status` no longer
 * showed each https:// node as "no answer: error setting certificate
 * file" (exit 0) for a config `check` and `run` refuse.
 *
 * elasticsearch.ca_file is read by curl for https:// only. A CA file that
 * cannot be read is an error (exit 2) when a node of elasticsearch.hosts
 * or kibana.url is https://: every request would fail. When every URL is
 * http:// it is not used: a warning, and the command goes on. Why not an
 * error there too: the installed /etc/sluice/indexer.json names the CA to
 * copy for the day security is turned on, with an http:// node until
 * then, and must run as installed; and why not silence: a user who meant
 * https:// learns it from `check`. */
#include "indexer_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https://", 8) == 0;
}

/* A URL that curl reaches with elasticsearch.ca_file: an https:// node,
 * or an https:// Kibana (setup checks its certificate against it too). */
static bool ca_file_used(const struct indexer_config *ic)
{
    for (size_t i = 0; i < ic->elasticsearch.hosts.n; i++)
        if (is_https(ic->elasticsearch.hosts.v[i]))
            return true;
    return is_https(ic->kibana.url);
}

/* elasticsearch.ca_file, when given, is a file this process can read; if
 * not, an error when it is used, else a warning on stderr. */
static int check_ca_file(const struct indexer_loaded *l, struct sl_err *err)
{
    const char *path = l->ic.elasticsearch.ca_file;
    if (path == NULL)
        return 0;
    const struct sl_config_node *n = sl_config_get(
        sl_config_get(sl_config_root(l->cfg), "elasticsearch"), "ca_file");
    bool used = ca_file_used(&l->ic);
    const char *what = used ? ""
                            : "; it is not used while every URL is "
                              "http://: copy the CA there before "
                              "switching to https://, or remove ca_file";
    struct sl_err e = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sl_config_error(n, &e,
                        "cannot read \"%s\": %s; expected the PEM file of "
                        "the CA that signed the nodes' certificates%s",
                        path, sl_strerror(errno), what);
    } else {
        struct stat st;
        bool file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        if (file)
            return 0;
        sl_config_error(n, &e,
                        "\"%s\" is not a file; expected the PEM file of the "
                        "CA that signed the nodes' certificates%s",
                        path, what);
    }
    if (used)
        return sl_err_set(err, SL_EINVAL, "%s", e.msg);
    fprintf(stderr, INDEXER_PROG ": warning: %s\n", e.msg);
    return 0;
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
    if (indexer_config_read(&l->ic, sl_config_root(l->cfg), err) < 0 ||
        check_ca_file(l, err) < 0) {
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
