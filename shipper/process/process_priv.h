/* process_priv.h: what the processor files share with the chain
 * (process.c): the ops table each processor fills, the `when` conditions
 * (proc_when.c) and the event helpers (proc_event.c). Nothing outside
 * shipper/process/ includes it, but the unit tests. */
#ifndef PROCESS_PRIV_H
#define PROCESS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "process.h"
#include "sl_config_table.h"

/* What a processor's run gets. */
struct proc_ctx {
    struct sl_event *ev;
    int64_t *ts_ms; /* @timestamp; on entry to the chain, the read time */
    int64_t now_ms; /* the read time, for year-less dates */
};

/* A processor's outcome for one event. */
enum proc_result {
    PROC_OK,     /* done, or nothing to do */
    PROC_FAILED, /* tagged the event (or tried to): counted as a failure */
    PROC_DROPPED /* drop: the chain stops, the event is discarded */
};

struct proc;

struct proc_ops {
    const char *name; /* the key in the processors list: "grok" */
    const struct sl_config_table *table; /* its options, for the reference */
    /* Reads cfg (the processor's object; its "when" is the chain's) and
     * sets p->state. Messages through sl_config_error() on cfg or a member
     * of it. */
    int (*init)(struct proc *p, const struct sl_config_node *cfg,
                const struct proc_env *env, struct sl_err *err);
    enum proc_result (*run)(struct proc *p, const struct proc_ctx *cx);
    void (*fini)(struct proc *p); /* frees p->state; may be NULL */
    /* May put a "@timestamp" (json, add_fields, rename): the chain reads
     * it after the processor runs, so a later date processor wins. */
    bool may_put_timestamp;
};

struct proc_when;
struct proc;

/* add_fields' state from a fields object (an input's "fields"), with the
 * messages add_fields gives. */
int proc_add_fields_from(struct proc *p, const struct sl_config_node *fields,
                         const char *target, struct sl_err *err);

struct proc {
    const struct proc_ops *ops;
    struct proc_when *when; /* NULL: always */
    void *state;
    char label[PROC_LABEL_MAX];
    struct sl_counter *failures, *dropped; /* never NULL (a dummy) */
    struct proc_metrics *metrics;          /* NULL: none */
    bool reads_timestamp; /* its options name "@timestamp" (process.c) */
};

extern const struct proc_ops proc_grok_ops, proc_date_ops, proc_json_ops,
    proc_traceback_ops, proc_add_fields_ops, proc_add_tags_ops, proc_rename_ops,
    proc_remove_ops, proc_drop_ops, proc_charset_ops;

/* Every processor's table has the "when" key, which the chain reads: */
#define PROC_WHEN_OPT(type)                                                    \
    {                                                                          \
        "when", SL_OPT_RAW, SL_OPT_FIELD(type, when),                          \
            .doc_type = "condition",                                           \
            .help =                                                            \
                "run only on events that meet this condition (has_fields, "    \
                "equals, contains, regexp, and, or, not)"                      \
    }

/* The counter of pattern i of a grok processor (NULL without metrics). */
struct sl_counter *proc_metrics_grok(struct proc_metrics *pm, const char *label,
                                     const char *pattern, int which,
                                     struct sl_err *err);
enum { PROC_GROK_MATCHES, PROC_GROK_FAILURES, PROC_GROK_TIMEOUTS };

/* ---- conditions (proc_when.c) ----------------------------------------- */

/* Filebeat's conditions: an object whose keys all must hold:
 *   has_fields: ["a", "b.c"]       every field is present
 *   equals:   {"field": value}     a string, number or bool, equal
 *   contains: {"field": "text"}    the string value contains text
 *   regexp:   {"field": "regex"}   PCRE2, unanchored, on the string value
 *   and: [cond, ...]  or: [cond, ...]  not: cond
 * A field holding an array meets equals, contains or regexp when one of
 * its elements does. */
struct proc_when *proc_when_new(const struct sl_config_node *cond,
                                struct sl_err *err);
void proc_when_free(struct proc_when *w);
bool proc_when_eval(struct proc_when *w, const struct sl_event *ev);

/* ---- event helpers (proc_event.c) ------------------------------------- */

/* Takes the value at path out of the event (NULL if absent); its members
 * stay attached to it. */
struct sl_value *proc_event_detach(struct sl_event *ev,
                                   const struct sl_fieldpath *path);
/* Sets path to v's content (type, text, members), creating the objects
 * along the path, overwriting what was there. */
int proc_event_graft(struct sl_event *ev, const struct sl_fieldpath *path,
                     const struct sl_value *v, struct sl_err *err);
/* The text of a string or number at path (a bool too): true and *out set;
 * false when absent or an object, array or null. proc_value_text: the
 * same of a value already found (v may be NULL). */
bool proc_value_text(const struct sl_value *v, struct sl_slice *out);
bool proc_event_text(const struct sl_event *ev, const struct sl_fieldpath *path,
                     struct sl_slice *out);
/* Adds tag; an event that cannot take it (out of memory) goes on without. */
void proc_event_tag(struct sl_event *ev, const char *tag);
/* Parses a field name from the config (a member value or key), with the
 * config's position on error. */
int proc_fieldpath(struct sl_fieldpath *p, const struct sl_config_node *n,
                   const char *text, struct sl_err *err);

/* proc_json.c: the paths the index template maps as objects, sorted; a
 * line's value there that is no object goes to "_<key>". */
extern const char *const proc_json_object_paths[];
extern const size_t proc_json_nobject_paths;
/* proc_json.c: obj's member named key (NULL: none); a new member of
 * obj, last, its key plain (key and text borrowed; -1 when out of
 * memory). */
struct sl_value *proc_json_member(struct sl_value *obj, struct sl_slice key);
/* proc_json.c: the member named key of obj when obj is an object, else
 * NULL, so that lookups chain: proc_json_child(proc_json_child(line,
 * "context"), "exception"). */
struct sl_value *proc_json_child(struct sl_value *obj, const char *key);
int proc_json_link_new(struct sl_event *ev, struct sl_value *obj,
                       enum sl_value_type type, struct sl_slice key,
                       struct sl_slice text);
/* proc_json.c: takes obj's first member named key out of it, if there is
 * one. */
void proc_json_unlink_key(struct sl_value *obj, struct sl_slice key);
/* proc_json.c: a caller's "path:line" ("main.go:42"): its path and its
 * line (digits, no leading zero, at most 9); false for any other text. */
bool proc_json_path_line(struct sl_slice t, struct sl_slice *path,
                         struct sl_slice *line);
/* proc_json.c: key with "_" before its last segment ("log" "_log",
 * "log.origin" "log._origin"; "source" "_source_"), in the event's
 * arena; {NULL, 0} when out of memory. */
struct sl_slice proc_json_aside_key(struct sl_event *ev, struct sl_slice key);
/* proc_json_arrays.c: the arrays of a parsed line v that Elasticsearch
 * refuses made indexable: one that mixes objects and scalars becomes its
 * JSON text under "_<key>", booleans among other scalars become strings.
 * top: v is the line merged at the top, its "tags" left to the merge.
 * -1 when out of memory. */
int proc_json_arrays(struct sl_event *ev, struct sl_value *v, bool top);
/* An array that mixes objects and scalars becomes its JSON text (a
 * string); any other is left alone. -1 when out of memory. */
int proc_json_mixed_as_text(struct sl_event *ev, struct sl_value *a);
/* proc_json_journald.c: a line of the journal's JSON (journalctl -o json):
 * its fields renamed to Filebeat's and ECS's names, @timestamp from
 * __REALTIME_TIMESTAMP, byte arrays as strings. Nothing for other lines.
 * -1 when out of memory. */
int proc_json_journald(struct sl_event *ev, struct sl_value *line);
/* proc_json_clef.c: a Serilog compact JSON line (its "@mt" or "@m"): its
 * "message" rendered from the template and the properties, the template
 * to labels.MessageTemplate. Nothing for other lines, or one with a
 * "message". -1 when out of memory. */
int proc_json_clef(struct sl_event *ev, struct sl_value *line);
/* proc_json_loguru.c: a line of loguru's serialized JSON ("text" and
 * "record"): the record's fields to ECS's names, @timestamp from its
 * time, the text to error.stack_trace (with an exception) or
 * event.original. Nothing for other lines. -1 when out of memory. */
int proc_json_loguru(struct sl_event *ev, struct sl_value *line);
/* proc_json_monolog.c: a Monolog line's exception (context.exception):
 * its class, message and file to error.type, error.message and
 * log.origin.file.*. Nothing for other lines. -1 when out of memory. */
int proc_json_monolog(struct sl_event *ev, struct sl_value *line);
/* proc_json_leaves.c: the paths it maps as leaves, sorted; an object
 * there goes to "_<key>". */
extern const char *const proc_json_leaf_paths[];
extern const size_t proc_json_nleaf_paths;

#endif
