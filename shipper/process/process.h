/* process.h: an input's processors, in order, run on each event between
 * framing (multiline) and the batch: grok, date, json, traceback,
 * add_fields, add_tags, rename, remove, drop, each with an optional `when`.
 *
 * Built once from the input's "processors" array (a config node), run per
 * event. A failure never drops an event: the processor tags it
 * (_grokparsefailure, _groktimeout, _dateparsefailure, _jsonparsefailure,
 * _tracebackparsefailure, ...) and the chain goes on. Only `drop` drops.
 *
 *   struct proc_env env = {.metrics = pm};      // pm: proc_metrics_new()
 *   struct proc_chain *c = proc_chain_new(processors_node, &env, &err);
 *   ...per event, after message, host, log.* are set:
 *   int64_t ts = read_time_ms;                  // in: when the line was read
 *   if (proc_chain_run(c, &ev, &ts) == PROC_DROP) skip the event;
 *   else ts is @timestamp: the batch line's TS
 *
 * @timestamp belongs to the chain: a date processor (target "@timestamp")
 * sets *ts_ms; a "@timestamp" string another processor put in the event (a
 * JSON log's own, add_fields, rename) becomes *ts_ms when it reads as ISO
 * 8601, else it moves to "_@timestamp" and the event is tagged
 * _timestampparsefailure (Logstash's rule). A processor that names
 * "@timestamp" as a field to read (rename's from, a condition) finds the
 * time so far there, as ISO 8601. At the end the chain writes
 * "@timestamp" as "2026-11-23T10:00:02.118Z", so the event's @timestamp and
 * the batch prefix always agree. To keep "@timestamp" first in the JSON,
 * put any "@timestamp" value first when building the event: run overwrites
 * it in place. *ts_ms is also the "now" of year-less dates (syslog's
 * "MMM dd HH:mm:ss"): a December date read in January is last year's.
 *
 * Ownership: the chain keeps pointers into the config (add_fields' values,
 * field names): keep the config until proc_chain_free(). Events borrow as
 * usual (sl_event.h): what a processor adds lives in the event's arena or
 * in the chain; values borrow the event's message. Cap the arena
 * (sl_arena_set_limit) to bound what one event may take: past it a
 * processor fails as out of memory, tags the event when it still can, and
 * the chain goes on.
 *
 * Threads: a chain holds match data and date caches: one thread at a time.
 * Nothing is allocated per event once the arena has grown (the json
 * processor's parser allocates from the event's arena). */
#ifndef PROCESS_H
#define PROCESS_H

#include <stdint.h>

#include "grok.h"
#include "sl_config.h"
#include "sl_config_table.h"
#include "sl_err.h"
#include "sl_event.h"
#include "sl_metrics.h"

#define PROC_MAX       64 /* processors in one chain */
#define PROC_LABEL_MAX 96 /* "inputs[0].processors[1].grok" */

/* Tags the processors add. */
#define PROC_TAG_GROKPARSEFAILURE      "_grokparsefailure"
#define PROC_TAG_GROKTIMEOUT           "_groktimeout"
#define PROC_TAG_GROKFIELDCONFLICT     "_grokfieldconflict"
#define PROC_TAG_DATEPARSEFAILURE      "_dateparsefailure"
#define PROC_TAG_JSONPARSEFAILURE      "_jsonparsefailure"
#define PROC_TAG_TIMESTAMPPARSEFAILURE "_timestampparsefailure"
#define PROC_TAG_TRACEBACKPARSEFAILURE "_tracebackparsefailure"
#define PROC_TAG_FIELDFAILURE          "_fieldfailure" /* add/rename */

/* The counters of every chain, registered once per metrics registry:
 *   sluice_processor_failures_total{processor}  events a processor tagged
 *   sluice_processor_dropped_total{processor}   events `drop` discarded
 *   sluice_grok_matches_total{processor,pattern}
 *   sluice_grok_failures_total{processor,pattern}  tried, did not match
 *   sluice_grok_timeouts_total{processor,pattern}
 * processor is the label of the processor's config path
 * ("inputs[0].processors[1].grok"), pattern the expression as written. */
struct proc_metrics;

struct proc_metrics *proc_metrics_new(struct sl_metrics *m, struct sl_err *err);
void proc_metrics_free(struct proc_metrics *pm); /* NULL is fine */

struct proc_env {
    /* Grok's pattern flavour where a grok processor sets no "ecs": "v1"
     * (NULL: the default) or "disabled". */
    const char *ecs;
    /* Pattern directories (or files) loaded after the built-ins and before
     * a processor's own patterns_dir, for every grok processor. */
    const char *const *patterns_dirs;
    size_t npatterns_dirs;
    struct grok_options grok;     /* match limit, ...; zero: defaults */
    struct proc_metrics *metrics; /* NULL: no counters */
};

enum proc_verdict { PROC_KEEP, PROC_DROP };

struct proc_chain;

/* Builds the chain of an input from its "processors" array and its
 * "fields" object (either NULL: absent). The fields are set first, as an
 * add_fields would (so conditions and processors see them); then the
 * processors run in order. Both NULL: a chain that only writes @timestamp.
 * On error, NULL and one message with file:line:column and the key path,
 * as config errors have (exit 2):
 *   shipper.json:12:11: inputs[0].processors[0]: unknown key 'grk'
 *     (did you mean 'grok'?) */
struct proc_chain *proc_chain_new(const struct sl_config_node *processors,
                                  const struct sl_config_node *fields,
                                  const struct proc_env *env,
                                  struct sl_err *err);
void proc_chain_free(struct proc_chain *c); /* NULL is fine */

/* Runs every processor in order on ev (a processor whose `when` does not
 * hold is skipped). *ts_ms: in, the time the event was read; out, its
 * @timestamp. PROC_DROP: a `drop` ran; the event is to be discarded and
 * the chain stopped there. */
enum proc_verdict proc_chain_run(struct proc_chain *c, struct sl_event *ev,
                                 int64_t *ts_ms);

size_t proc_chain_len(const struct proc_chain *c);

/* The processors' option tables, for the configuration reference and
 * sl_config_table_verify: the i-th processor's table, and its name in
 * *name; NULL past the last. */
const struct sl_config_table *proc_table(size_t i, const char **name);
/* "inputs[0].processors[1].grok": the label of processor i (i < len). */
const char *proc_chain_label(const struct proc_chain *c, size_t i);

#endif
