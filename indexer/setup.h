/* setup.h: `sluice-indexer setup`, as `filebeat setup` does it: installs
 * the index template, and with kibana.url imports the data view and
 * dashboards into Kibana. Blocking (admin_http.h): a subcommand, never
 * the daemon's loop.
 *
 * Steps, each said in the log under [setup]:
 *  1. GET / on the first of elasticsearch.hosts that answers: the server
 *     and its version (Elasticsearch 8/9, OpenSearch 2/3); a 401 or 403
 *     stops here with what to fix.
 *  2. The template file's "version" (an integer; a file without one is
 *     refused) against the installed template's (GET
 *     _index_template/<name>): none installed, or an older one or one
 *     without a version: PUT the file; the same version: nothing sent,
 *     "already up to date"; a newer one (a newer Sluice put it there):
 *     left alone with a warning, unless force. Also warns when the
 *     template's index_patterns do not match the names elasticsearch.index
 *     writes (those indices would get no mapping).
 *  3. With kibana.url: every `*.ndjson` file of kibana_dir, in name order,
 *     through Kibana's saved-objects import (POST
 *     /api/saved_objects/_import?overwrite=true, multipart/form-data with
 *     the file as part "file", header kbn-xsrf: true), with the same
 *     credentials and ca_file as Elasticsearch. Overwriting makes a second
 *     run harmless. No such files (or no directory) is said plainly and is
 *     no error. Against OpenSearch the step is skipped with a warning:
 *     OpenSearch Dashboards has another API, and Sluice does not ship
 *     objects for it.
 * Secrets are never logged; errors carry the URL and what to fix. */
#ifndef SETUP_H
#define SETUP_H

#include <stdbool.h>

#include "admin_http.h"
#include "indexer_config.h"
#include "sl_err.h"

struct setup_options {
    const struct indexer_es_config *es; /* hosts, index, credentials ... */
    const char *kibana_url;             /* NULL: no Kibana step */
    const char *template_path; /* conf/elasticsearch/sluice-template.json */
    const char *kibana_dir;    /* conf/kibana */
    long timeout_ms;           /* per request; 0: 30 s */
    bool force;                /* replace a newer installed template */
};

enum setup_template {
    SETUP_TEMPLATE_INSTALLED,  /* there was none */
    SETUP_TEMPLATE_UPDATED,    /* an older one (or one without a version) */
    SETUP_TEMPLATE_UP_TO_DATE, /* the same version: nothing sent */
    SETUP_TEMPLATE_NEWER_KEPT, /* a newer one: left as it is */
    SETUP_TEMPLATE_REPLACED    /* a newer one, replaced because of force */
};

struct setup_result {
    char server[64]; /* "Elasticsearch 8.15.0", "OpenSearch 2.17.0" */
    bool opensearch;
    enum setup_template template;
    long long file_version;       /* the template file's */
    long long installed_version;  /* found before; -1: none or no version */
    bool template_matches;        /* its index_patterns match our names */
    bool kibana_skipped;          /* no kibana.url, or OpenSearch */
    unsigned kibana_files;        /* .ndjson files imported */
    unsigned long kibana_objects; /* objects Kibana said it imported */
};

/* Runs the steps above. -1 with err set (the URL and what to fix) at the
 * first step that fails; r holds what was done before it. */
SL_MUST_CHECK int setup_run(const struct setup_options *o,
                            struct setup_result *r, struct sl_err *err);

/* Step 3 alone, with an open handle (section "kibana"): imports every
 * .ndjson file of dir into the Kibana at url. */
SL_MUST_CHECK int setup_kibana_import(struct admin_http *h, const char *url,
                                      const char *dir, struct setup_result *r,
                                      struct sl_err *err);

#endif
