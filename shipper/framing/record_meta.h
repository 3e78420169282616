/* record_meta.h: what multiline does not carry from container records to
 * events: the time, the stream and the invalid flag.
 *
 * multiline joins records by text, offset and end (its struct
 * multiline_line); the event it hands out has the offset of its first
 * line. A docker or cri event needs the time and stream of that first
 * record, and its `_containerparsefailure` tag when any record in it was
 * not the format. The caller pushes each record's meta here as it pushes
 * the record into multiline, and takes the event's meta by the event's
 * offset and end when it pops the event:
 *
 *   multiline_push(ml, &line, now)  ->  record_meta_push(q, &rec)
 *   multiline_peek(ml, &ev)         ->  record_meta_take(q, ev.offset,
 *                                                         ev.end, &m)
 *
 * Both see the records in the same order (offsets increasing), and events
 * come out in that order too, so this is a queue: a take drops the records
 * before the event (multiline dropped them) and those inside it.
 *
 * Bounded: at most `cap` records wait; past that the two newest are
 * merged into one (the older's time and stream kept, the flags or-ed), so
 * the record pushed, which may start the next event, keeps its own. An
 * event whose first record was merged away gets the meta of the nearest
 * record before it. How exact a small cap is: in pattern mode an event
 * starts only when the one before it is complete, and that one is taken
 * before the next push (multiline refuses pushes while an event waits), so
 * only continuation records are ever merged: exact for any cap. A preset
 * holds back up to MULTILINE_HOLD_MAX lines that may each start an event;
 * those are exact while the open event and its held lines fit in cap. A
 * cap of 64 costs 2 KiB a file. */
#ifndef RECORD_META_H
#define RECORD_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container_log.h"
#include "sl_err.h"

struct record_meta {
    uint64_t offset; /* of the record (or the first of merged ones) */
    int64_t time_ms; /* CONTAINER_LOG_NO_TIME when none */
    enum container_log_stream stream;
    bool invalid; /* a record in it was not the format */
};

struct record_meta_queue;

/* cap >= 2. NULL when out of memory. */
struct record_meta_queue *record_meta_queue_new(size_t cap, struct sl_err *err);
void record_meta_queue_free(struct record_meta_queue *q); /* NULL is fine */

/* The record pushed into multiline. */
void record_meta_push(struct record_meta_queue *q,
                      const struct container_log_record *r);
/* The meta of the event [offset, end) multiline hands out: its first
 * record's time and stream, invalid if any of its records was. Records
 * before end are forgotten. With nothing known (no record pushed before
 * end): no time, no stream, not invalid. */
void record_meta_take(struct record_meta_queue *q, uint64_t offset,
                      uint64_t end, struct record_meta *m);
/* Records waiting, and merges made (a counter for the daemon's debug). */
size_t record_meta_queue_len(const struct record_meta_queue *q);
uint64_t record_meta_queue_merges(const struct record_meta_queue *q);

#endif
