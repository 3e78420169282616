/* input_priv.h: what input.c (the entries, the events, resolution and
 * acknowledgement bookkeeping, the dead letters) shares with the two
 * readers, in_redis_stream.c and in_redis_list.c. Not for other modules. */
#ifndef INPUT_PRIV_H
#define INPUT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input.h"
#include "sl_backoff.h"
#include "sl_batch.h"
#include "sl_date.h"

#define INPUT_SID_MAX 48 /* a stream entry id: two 20-digit numbers and "-" */

/* Entries' memory kept for the next ones (input_entry_alloc): at most this
 * many blocks, each of INPUT_SPARE_MIN .. INPUT_SPARE_MAX bytes (a batch
 * of 2,000 events is about 1.4 MB). Smaller blocks are malloc's business;
 * larger ones are too rare to keep. */
#define INPUT_SPARE_N   16
#define INPUT_SPARE_MIN ((size_t)64 << 10)
#define INPUT_SPARE_MAX ((size_t)8 << 20)

struct input_slot {
    struct sl_slice id;
    int64_t ts_ms;
    struct sl_slice json;
    bool resolved;
};

/* One entry read and not yet acknowledged. Invariants: unresolved counts
 * the events neither done nor dead-and-written, plus 1 while a whole-entry
 * dead letter is being written; ack_due is set when it reaches 0 and
 * cleared when the acknowledgement is sent (acking). */
struct input_entry {
    struct input_entry *next, *prev; /* in->head..tail, the order read */
    size_t nevents, handed, unresolved;
    bool ack_due, acking;
    bool recovered; /* list: read back from the processing list */
    char sid[INPUT_SID_MAX];
    struct input_slot *ev;
    struct sl_slice host;
    struct sl_slice raw; /* list: the element as in Redis, for LREM */
    size_t size;         /* of the allocation, header included */
    char data[];         /* the copied bytes the slices point into */
};

struct input {
    enum sl_redis_mode mode;
    char *key, *group, *consumer, *proc_key;
    char component[160];
    size_t read_count, max_in_flight;
    size_t want_events; /* the last input_pull's max_events */
    int block_ms, claim_idle_ms;
    struct sl_redis *rd;  /* owned: the blocking reads */
    struct sl_redis *cmd; /* borrowed: everything else */
    struct deadletter *dl;

    struct input_entry *head, *tail, *cursor; /* cursor: next to hand out */
    /* Freed entries' blocks, reused by the next reads: each read of 1.4 MB
     * entries otherwise took fresh pages from the kernel (malloc gave the
     * last ones back), a page fault every 4 KiB. Dropped when a read finds
     * nothing, so an idle indexer holds none. */
    struct input_entry *spare[INPUT_SPARE_N];
    size_t nspare;
    size_t in_flight;      /* entries in the list */
    size_t reserved;       /* entries asked for by the read in flight */
    size_t claim_reserved; /* and by the claim in flight */
    size_t acks_due;

    bool reading;    /* a read is in flight on rd */
    bool last_empty; /* the last read found nothing new */
    bool ready;
    bool closing;
    size_t outstanding; /* commands on cmd whose callback has not run */
    int64_t retry_at_ms;
    struct sl_backoff backoff;
    int64_t bad_logged_ms; /* the last warning about a bad entry */
    uint64_t bad_quiet;    /* bad entries not warned about since */

    /* stream */
    struct sl_batch_reader *reader;
    int group_state; /* 0: not made, 1: being made, 2: there */
    bool history;
    char history_id[INPUT_SID_MAX];
    bool claiming;
    char claim_cursor[INPUT_SID_MAX];
    int64_t next_claim_ms;
    bool touching;
    int64_t next_touch_ms;
    /* run --once: the group's pending entries, asked with XPENDING once
     * this input holds nothing; drained when the last answer, sent after
     * the last entry was taken, said 0 */
    bool once, pending_asking, group_drained, waiting_said;
    int64_t next_pending_ms;
    uint64_t taken, pending_taken; /* entries taken: now, when asked */

    /* list */
    struct sl_date *date;
    bool recovering;   /* reading the processing list back */
    bool need_recover; /* a move's answer was lost: recover once drained */
    bool full;         /* the last read brought all it asked for */

    struct input_stats st;
    struct sl_counter *m_entries, *m_events, *m_acked, *m_claimed, *m_dead,
        *m_malformed;
};

/* input.c, for the readers. */
/* Entries to ask for in a stream read: enough for want_events at the mean
 * size of the entries read so far (read_count before the first), at least
 * one, at most read_count and the room left. */
size_t input_read_entries(const struct input *in);
/* An entry for nevents events and bytes of data, from in's spare blocks
 * when one is large enough; NULL when out of memory. */
struct input_entry *input_entry_alloc(struct input *in, size_t nevents,
                                      size_t bytes);
/* An entry never added (or released): its block kept spare or freed. */
void input_entry_free(struct input *in, struct input_entry *e);
/* Frees the spare blocks (the input has nothing to read now). */
void input_spare_drop(struct input *in);
/* Appends a filled entry: its events become available to input_next. */
void input_entry_add(struct input *in, struct input_entry *e);
/* The entry was acknowledged in Redis: frees it. */
void input_entry_release(struct input *in, struct input_entry *e);
/* The entry holds id already (a claim or a re-read of our own). */
bool input_holds(const struct input *in, const char *sid, size_t len);
/* Adds an entry that is not valid and sends it whole to the dead letters;
 * it is acknowledged once the letter is written. type: DEADLETTER_TYPE_*.
 * raw (list mode: the element) is kept for the LREM and is the letter's
 * event; a stream entry passes its fields instead. NULL when it could not
 * be held (out of memory: a backoff is set). */
struct input_entry *input_add_bad(struct input *in, const char *sid,
                                  const char *type, const char *reason,
                                  struct sl_slice source, struct sl_slice raw,
                                  size_t nfields, const char *const *fields,
                                  const size_t *lens);
/* For callbacks on cmd: true when the input is being freed (the callback
 * must then touch nothing but in->outstanding, already decremented); the
 * last one frees the input. */
bool input_closing_done(struct input *in);
/* Room for more entries, reads and claims in flight counted. */
size_t input_room(const struct input *in);
/* Schedules the next attempt after a failure. */
void input_backoff(struct input *in);
void input_count_read(struct input *in, size_t entries, size_t events);
/* An acknowledgement failed: its entries are due again. */
void input_ack_failed(struct input *in, struct input_entry *const *e, size_t n);

/* in_redis_stream.c */
int stream_init(struct input *in, struct sl_err *err);
void stream_fini(struct input *in);
void stream_pull(struct input *in);
void stream_tick(struct input *in, int64_t now);
int64_t stream_due(const struct input *in);
void stream_send_acks(struct input *in);

/* in_redis_list.c */
int list_init(struct input *in, struct sl_err *err);
void list_fini(struct input *in);
void list_pull(struct input *in);
void list_tick(struct input *in, int64_t now);
void list_send_acks(struct input *in);

#endif
