/* shipper_config.h: shipper.json's sections whose names DESIGN.md fixes,
 * read through tables (sl_config_table.h): host, data_dir, output, http,
 * log. The inputs stay a raw node for the input code to read. Their
 * reference is in the README, generated from shipper_config_table. */
#ifndef SHIPPER_CONFIG_H
#define SHIPPER_CONFIG_H

#include <stdbool.h>

#include "sl_config.h"
#include "sl_config_sections.h"
#include "sl_config_table.h"
#include "sl_err.h"

struct shipper_host_config {
    const char *name; /* host.name of every event; never empty */
    /* Holds the default name when the file gives none; name then points
     * here, so the struct must not be copied. */
    char hostname[SL_HOSTNAME_MAX];
};

/* output.redis.max_pending when the file gives none: entries of up to
 * batch_events events (stream), or events (list). */
#define SHIPPER_MAX_PENDING_STREAM 2000
#define SHIPPER_MAX_PENDING_LIST   1000000

struct shipper_redis_output {
    const char *url;
    enum sl_redis_mode mode;
    const char *key; /* default: sl_redis_default_key(mode) */
    /* Batches and the outbox (shipper/output/output.h). */
    long long batch_events;
    long long batch_bytes;
    long long batch_age_ms;
    /* enum sl_codec; stream mode only. "auto" (SHIPPER_CODEC_AUTO) is
     * resolved by shipper_config_read: columnar when every input has a
     * grok processor, lz4 otherwise; codec_auto then says it was chosen,
     * codec_no_grok which input has no grok (the number of inputs when
     * every one has). */
    int codec;
    bool codec_auto;
    size_t codec_no_grok;
    long long max_in_flight;
    long long command_timeout_ms;
    /* The pending limit; the default depends on the mode. */
    long long max_pending;
    bool has_max_pending;
    long long max_pending_bytes;
};

/* Exactly one of the outputs is there. */
struct shipper_output_config {
    bool has_redis;
    struct shipper_redis_output redis;
    const struct sl_config_node *stdout_node; /* {} when there; no keys yet */
};

/* output.redis.codec's "auto": the word after enum sl_codec's values
 * (checked in shipper_config.c). */
#define SHIPPER_CODEC_AUTO 4

struct shipper_config {
    struct shipper_host_config host;
    const char *data_dir;                /* the registry lives here */
    const struct sl_config_node *inputs; /* an array of objects, not empty */
    struct shipper_output_config output;
    struct sl_http_section http;
    struct sl_log_section log;
};

extern const struct sl_config_table shipper_config_table;

/* Fills sc from the root of a loaded shipper.json, output.redis.codec
 * "auto" resolved. Strings point into the config: keep it until the
 * shipper stops. -1 with the message to print. */
SL_MUST_CHECK int shipper_config_read(struct shipper_config *sc,
                                      const struct sl_config_node *root,
                                      struct sl_err *err);
void shipper_config_release(struct shipper_config *sc);

/* Whether the input (an object of "inputs") has a grok processor in its
 * "processors", anywhere in the list, with a `when` or without. */
bool shipper_input_has_grok(const struct sl_config_node *input);

#endif
