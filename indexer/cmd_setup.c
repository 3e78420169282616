/* cmd_setup.c: `sluice-indexer setup` (setup.h does the work). What it
 * installs is found, first that exists:
 *   the template  $SLUICE_TEMPLATE_FILE, else
 *                 SLUICE_SHARE_DIR/elasticsearch/sluice-template.json (the
 *                 installed copy: PREFIX/share/sluice) when it exists, else
 *                 the source tree's conf/elasticsearch/sluice-template.json
 *                 (a build run from its tree);
 *   Kibana's      $SLUICE_KIBANA_DIR, else SLUICE_SHARE_DIR/kibana when
 *   objects       it exists, else the source tree's conf/kibana.
 * One line per step goes to the log; the outcome is printed on stdout. */
#include "indexer_cli.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "setup.h"
#include "sl_cli.h"
#include "sl_log.h"

#ifndef SLUICE_SHARE_DIR
#define SLUICE_SHARE_DIR "/usr/share/sluice"
#endif
#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

#define TEMPLATE_REL "elasticsearch/sluice-template.json"

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The first that exists of env's value, SLUICE_SHARE_DIR/rel and
 * SLUICE_SOURCE_DIR/conf/rel; the installed path when none does (setup's
 * message then names it). */
static const char *find_file(const char *env, const char *rel, char *buf,
                             size_t size)
{
    const char *v = getenv(env);
    if (v != NULL && v[0] != '\0')
        return v;
    snprintf(buf, size, "%s/conf/%s", SLUICE_SOURCE_DIR, rel);
    if (exists(buf)) {
        char installed[4096];
        snprintf(installed, sizeof installed, "%s/%s", SLUICE_SHARE_DIR, rel);
        if (!exists(installed))
            return buf;
    }
    snprintf(buf, size, "%s/%s", SLUICE_SHARE_DIR, rel);
    return buf;
}

static void print_result(const struct indexer_config *ic,
                         const struct setup_result *r)
{
    static const char *const said[] = {
        [SETUP_TEMPLATE_INSTALLED] = "installed",
        [SETUP_TEMPLATE_UPDATED] = "updated",
        [SETUP_TEMPLATE_UP_TO_DATE] = "already up to date",
        [SETUP_TEMPLATE_NEWER_KEPT] = "a newer version is installed: kept",
        [SETUP_TEMPLATE_REPLACED] = "replaced"};
    printf("%s: index template '%s' version %lld: %s\n", r->server,
           ic->elasticsearch.template_name, r->file_version, said[r->template]);
    if (r->kibana_skipped)
        printf("kibana: skipped (%s)\n",
               r->opensearch ? "OpenSearch" : "no kibana.url");
    else
        printf("kibana: %u files, %lu objects imported\n", r->kibana_files,
               r->kibana_objects);
}

int indexer_cmd_setup(const struct sl_cli *cli)
{
    struct indexer_loaded l;
    struct sl_err err = {0};
    char tpath[4096], kpath[4096];
    if (indexer_cli_load(cli->config, &l, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": %s\n", err.msg);
        return err.status == SL_ENOMEM ? SL_CLI_EXIT_FAIL : SL_CLI_EXIT_USAGE;
    }
    sl_log_init(l.ic.log.level, l.ic.log.format);
    struct setup_options o = {
        .es = &l.ic.elasticsearch,
        .kibana_url = l.ic.kibana.url,
        .template_path = find_file("SLUICE_TEMPLATE_FILE", TEMPLATE_REL, tpath,
                                   sizeof tpath),
        .kibana_dir =
            find_file("SLUICE_KIBANA_DIR", "kibana", kpath, sizeof kpath),
        .force = cli->force};
    struct setup_result r = {0};
    int rc = SL_CLI_EXIT_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, INDEXER_PROG ": libcurl did not initialise\n");
        rc = SL_CLI_EXIT_FAIL;
    } else if (setup_run(&o, &r, &err) < 0) {
        fprintf(stderr, INDEXER_PROG ": setup: %s\n", err.msg);
        rc = SL_CLI_EXIT_FAIL;
    } else {
        print_result(&l.ic, &r);
    }
    curl_global_cleanup();
    indexer_cli_unload(&l);
    return rc;
}
