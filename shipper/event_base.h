/* event_base.h: the fields every event of the shipper has (DESIGN.md, "The
 * event"), its id and the time its batch line carries.
 *
 * Before the processors see an event, the shipper gives it:
 *
 *   @timestamp      UTC, "2026-12-04T17:00:32.123Z": the record's time for
 *                   docker and cri (the runtime's), else the time read; a
 *                   date processor may replace it later
 *   message         the record's text (multiline's event)
 *   host.name       the shipper's host.name
 *   agent.type      "sluice-shipper"
 *   agent.version   SLUICE_VERSION
 *   log.file.path   files only: the path the file was read from
 *   log.offset      files only: byte offset of the event's first line
 *   stream          docker and cri: "stdout" or "stderr", the field
 *                   Filebeat's container input writes (ECS has none; the
 *                   OpenTelemetry name, log.iostream, is experimental)
 *   <fields>        the input's `fields`, each at its path: "service.name"
 *                   is {"service":{"name":...}}, as Elasticsearch reads it
 *   tags            "_truncated" for a cut line or event,
 *                   "_containerparsefailure" for a line that was not the
 *                   input's format (container_log.h)
 *
 * in this order, so the JSON is the same for the same record. A field of
 * `fields` that names one of the fields above replaces it (the input's
 * word wins, as Filebeat's fields_under_root does); "tags" in `fields` is
 * refused at setup (tags are the shipper's).
 *
 * The event id (sl_event_id.h, sl_event_id_make: the source's hash, then
 * the position), which the indexer uses as _id: for a file,
 * host.name, the file's key from the registry (8 bytes little-endian) and
 * the offset of the event's first line; for stdin, host.name, the stream's
 * start ("stdin" and the start time in ms, 8 bytes little-endian: 13
 * bytes, never the length of a file's key) and the event's position in
 * the stream. The position is its byte offset: unique and increasing like
 * a sequence number, with no counter to keep in step with a batch that
 * refuses an event and gets it again.
 *
 * Ownership (sl_event.h): the message, the path and the host are
 * BORROWED, kept alive by the caller until the event is written (the
 * multiline event until its pop, the path until the file's DONE); the
 * timestamp and offset texts go into the event's arena; names and tags
 * are static. Nothing is allocated per event but arena bytes: the paths
 * are parsed once, by event_base_new. */
#ifndef EVENT_BASE_H
#define EVENT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container_log.h"
#include "multiline.h"
#include "record_meta.h"
#include "sl_config.h"
#include "sl_err.h"
#include "sl_event.h"
#include "sl_event_id.h"

#define EVENT_BASE_AGENT_TYPE "sluice-shipper"
#define SL_TAG_TRUNCATED      "_truncated"
/* The longest host.name (as SL_HOSTNAME_MAX). */
#define EVENT_BASE_HOST_MAX 255

#define EVENT_BASE_FIELDS_HELP                                                 \
    "added to every event of this input: `{\"service.name\": \"shop\"}`; a "   \
    "dotted key or a nested object is a path, values are strings, numbers, "   \
    "booleans or arrays of them"

struct event_base;

/* host is copied. fields: the input's `fields` object, or NULL; its
 * strings are copied. NULL on error: SL_EINVAL with FILE:L:C: and the key
 * path ("inputs[0].fields.tags: ..."), SL_ENOMEM. */
struct event_base *event_base_new(const char *host,
                                  const struct sl_config_node *fields,
                                  struct sl_err *err);
void event_base_free(struct event_base *b); /* NULL is fine */

/* Where an event's id comes from: one per file (or stdin stream). Plain
 * data. path is borrowed (NULL for stdin). */
struct event_source {
    struct sl_event_id_source id;
    const char *path;
    size_t path_len;
};

void event_source_file(struct event_source *src, const struct event_base *b,
                       uint64_t key, const char *path);
void event_source_stdin(struct event_source *src, const struct event_base *b,
                        int64_t start_ms);

/* What the framing hands out, as the base needs it. */
struct event_base_record {
    struct sl_slice message; /* borrowed */
    uint64_t offset;         /* of its first line in the file or stream */
    int64_t time_ms;         /* CONTAINER_LOG_NO_TIME: the time read */
    enum container_log_stream stream;
    bool truncated, invalid;
    bool continued; /* multiline: goes on with the event before (a limit
                       split the record): tagged MULTILINE_TAG_CONTINUED */
};

/* What the batch line needs besides the JSON (sl_batch.h). */
struct event_meta {
    char id[SL_EVENT_ID_LEN + 1];
    int64_t ts_ms; /* @timestamp as UTC ms; a date processor updates both */
};

/* Resets ev and sets the fields above from r, read at read_ms (UTC ms,
 * used when the record has no time). -1 on SL_ENOMEM (the arena), or
 * SL_EINVAL for a time outside years 1..9999 (sl_date's range); the event
 * is then incomplete, and the caller drops it from its batch. */
SL_MUST_CHECK int event_base_build(const struct event_base *b,
                                   const struct event_source *src,
                                   const struct event_base_record *r,
                                   int64_t read_ms, struct sl_event *ev,
                                   struct event_meta *meta, struct sl_err *err);

/* A record of container_log, as event_base_build takes it. */
static inline struct event_base_record
event_base_record_from(const struct container_log_record *r)
{
    struct event_base_record e = {r->text,   r->offset,    r->time_ms,
                                  r->stream, r->truncated, r->invalid,
                                  false};
    return e;
}

/* A multiline event made of records, with the meta record_meta_take()
 * gave for it (its first record's time and stream, invalid if any was). */
static inline struct event_base_record
event_base_record_joined(const struct multiline_event *ev,
                         const struct record_meta *m)
{
    struct event_base_record e = {ev->text,     ev->offset,    m->time_ms,
                                  m->stream,    ev->truncated, m->invalid,
                                  ev->continued};
    return e;
}

#endif
