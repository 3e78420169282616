/* indexer_config.h: indexer.json's sections whose names DESIGN.md fixes,
 * read through tables (sl_config_table.h): redis, elasticsearch (the
 * connection), kibana, http, log. Their reference is in the README,
 * generated from indexer_config_table. */
#ifndef INDEXER_CONFIG_H
#define INDEXER_CONFIG_H

#include <stdbool.h>

#include "sl_config.h"
#include "sl_config_sections.h"
#include "sl_config_table.h"
#include "sl_err.h"

struct indexer_redis_config {
    const char *url;
    enum sl_redis_mode mode;
    const char *key;      /* default: sl_redis_default_key(mode) */
    const char *group;    /* stream mode: the consumer group */
    const char *consumer; /* stream mode: this indexer's name in the group */
    const char *dead_key; /* the dead-letter stream */
    /* Entries (stream) or elements (list) asked for per read; the default
     * depends on the mode (INDEXER_READ_COUNT_*). */
    long long read_count;
    long long block_ms;       /* how long a read waits for new work */
    long long claim_idle_ms;  /* stream: claim others' entries idle this long */
    long long forget_idle_ms; /* stream: remove consumers holding nothing,
                                 idle this long (consumer_sweep.h) */
    /* Entries (stream) or elements (list) read and not yet acknowledged:
     * the input stops reading at this many (INDEXER_IN_FLIGHT_*). */
    long long max_in_flight;
    long long dead_warn; /* warn when the dead-letter stream is longer */
    /* Holds the default consumer name; consumer then points here, so the
     * struct must not be copied. */
    char hostname[SL_HOSTNAME_MAX];
};

#define INDEXER_READ_COUNT_STREAM 16
#define INDEXER_READ_COUNT_LIST   256
#define INDEXER_IN_FLIGHT_STREAM  64
#define INDEXER_IN_FLIGHT_LIST    8192

#define INDEXER_API_KEY_MAX 1024 /* an "id:api_key" in base64, and its NUL */

struct indexer_es_config {
    struct sl_opt_strings hosts; /* at least one http:// or https:// URL */
    const char *index;           /* with %{+yyyy.MM.dd} for daily indices */
    const char *index_fallback;  /* a missing %{field} of index: this */
    const char *template_name;   /* `setup`: _index_template/<this> */
    long long retention_days;    /* 0: off; else days of indices kept */
    const char *username;        /* with password, or neither */
    const char *password;        /* secret */
    const char *api_key;         /* secret; not with username; base64 */
    const char *ca_file;         /* NULL: the system's CAs */
    bool tls_verify;             /* check the nodes' certificates */
    /* The bulk sender's (es_sender.h); durations in ms. */
    long long flush_bytes, flush_count, flush_age_ms;
    long long max_in_flight, request_timeout_ms;
    long long retry_min_ms, retry_max_ms;
    bool gzip;
    /* `run` with retention_days: between two retention runs, in ms. */
    long long retention_interval_ms;
    /* An api_key given as Logstash takes it, "id:api_key", in the base64
     * form Elasticsearch's header needs; api_key then points here, so the
     * struct must not be copied. */
    char api_key_buf[INDEXER_API_KEY_MAX];
};

struct indexer_kibana_config {
    const char *url; /* NULL: `setup` installs no Kibana objects */
};

struct indexer_config {
    struct indexer_redis_config redis;
    struct indexer_es_config elasticsearch;
    struct indexer_kibana_config kibana;
    struct sl_http_section http;
    struct sl_log_section log;
};

extern const struct sl_config_table indexer_config_table;

/* Fills ic from the root of a loaded indexer.json. Strings point into the
 * config: keep it until the indexer stops. Release frees the host list. */
SL_MUST_CHECK int indexer_config_read(struct indexer_config *ic,
                                      const struct sl_config_node *root,
                                      struct sl_err *err);
void indexer_config_release(struct indexer_config *ic);

#endif
