/* output_priv.h: what output.c (batches, the outbox, acknowledgements in
 * order) shares with the sinks that send the batches (out_redis.c with
 * its two modes, out_stdout.c). Not for the pipeline: output.h is.
 *
 * A sealed batch lives in an outbox slot from its seal until the pipeline
 * takes its acknowledgement. output.c hands it to the sink once (take), in
 * seal order; the sink sends it, resends it as often as needed, and calls
 * output_batch_done() exactly once, when the batch is safe. It may do so
 * out of order; output.c gives the acknowledgements back in order. */
#ifndef OUTPUT_PRIV_H
#define OUTPUT_PRIV_H

#include "output.h"

#include "sl_slice.h"

#include <sys/uio.h>

/* Commands one batch may take (list mode: RPUSH of OUTPUT_LIST_CHUNK events
 * each, more per command when a batch holds more than 64 of those). */
#define OUTPUT_CHUNKS_MAX 64

struct output_batch;

/* One command of a batch, and the reply callback's context. */
struct output_chunk {
    struct output_batch *batch;
    void *sink;
    unsigned index;
    unsigned tries; /* times sent */
    bool in_flight; /* sent (or queued in the client), no answer yet */
    bool done;      /* accepted */
    size_t at;      /* list: payload offset of its first event */
    size_t events;  /* list: events in it */
};

struct output_batch {
    uint64_t seq;
    bool done; /* output_batch_done() ran */
    size_t events;
    size_t bytes; /* the entry's payload as sent */
    /* The entry, as sl_batch_writer_seal() gave it, copied: the values one
     * after the other in data; argv points into data. */
    struct sl_buf data;
    const char *argv[SL_BATCH_ARGC];
    size_t argvlen[SL_BATCH_ARGC];
    /* The payload (argv[SL_BATCH_ARGC - 1]), writable: plain "TS ID JSON"
     * lines for list (its codec is none). stdout: "JSON" lines, copied
     * so by the seal, and argv empty. */
    char *payload;
    size_t payload_len;
    size_t nmarks;
    struct output_mark marks[OUTPUT_MARKS_MAX];
    /* The sink's. */
    unsigned nchunks;
    struct output_chunk chunks[OUTPUT_CHUNKS_MAX];
    size_t written;            /* stdout: bytes of payload written */
    struct output_batch *next; /* the sink's queue */
};

/* Why Redis refused a batch: the error reply's first word. */
enum output_reason {
    OUTPUT_OOM,
    OUTPUT_NOAUTH,
    OUTPUT_WRONGPASS,
    OUTPUT_NOPERM,
    OUTPUT_READONLY,
    OUTPUT_MISCONF,
    OUTPUT_LOADING,
    OUTPUT_BUSY,
    OUTPUT_MASTERDOWN,
    OUTPUT_WRONGTYPE,
    OUTPUT_OTHER,
    OUTPUT_NREASONS
};
/* "oom", "noauth", ...: the label values of the error counter. */
extern const char *const output_reason_names[OUTPUT_NREASONS + 1];

/* The counters both sides keep; registered by output.c. */
struct output_counters {
    struct sl_counter *events, *batches, *bytes, *retries, *holds,
        *pending_holds, *disconnects;
    struct sl_counter *errors[OUTPUT_NREASONS]; /* {reason} */
    struct sl_gauge *pending, *pending_bytes, *outbox;
};

struct output_sink_ops {
    const char *name;
    void (*free)(void *s);
    size_t (*fill_pollfds)(const void *s, struct pollfd *pfds, size_t n);
    int (*timeout_ms)(const void *s);
    void (*process)(void *s, const struct pollfd *pfds, size_t n);
    bool (*has_room)(const void *s);
    /* A sealed batch, in seal order; the sink keeps it until done. */
    void (*take)(void *s, struct output_batch *b);
    bool (*broken)(const void *s);
    bool (*ready)(const void *s);
};

/* The sink says b is safe (Redis accepted all of it, or it was written). */
void output_batch_done(struct output *o, struct output_batch *b);

extern const struct output_sink_ops out_redis_ops;
extern const struct output_sink_ops out_stdout_ops;

void *out_redis_new(struct output *o, const struct output_config *cfg,
                    struct output_counters *c, struct sl_err *err);
/* output_stats' unanswered, from the Redis sink's client. */
uint64_t out_redis_unanswered(const void *sink);
/* output_redis_said's texts, kept by the Redis sink. */
void out_redis_said(const void *sink, const char **refused, const char **down);
void *out_stdout_new(struct output *o, const struct output_config *cfg,
                     struct sl_err *err);
/* Writes what the descriptor takes at once of iov[0..n), when no batch is
 * queued before them and the sink is not broken: the bytes written (0 when
 * it wrote nothing). An error other than EAGAIN breaks the sink (logged).
 * output.c writes a batch's lines this way at its seal, and hands the sink
 * only the rest. */
size_t out_stdout_write_now(void *sink, const struct iovec *iov, int n);

/* Redis mode: how a batch becomes commands, and how long the key is. */
struct out_redis_mode {
    const char *name;    /* "stream", "list" */
    const char *len_cmd; /* "XLEN", "LLEN" */
    /* Sets b->nchunks and the chunks' ranges. */
    void (*split)(struct output_batch *b);
    /* The argv of chunk i: fills argv/lens (room for argv_max entries)
     * and returns argc. */
    int (*build)(const struct output_batch *b, unsigned i, const char *key,
                 const char **argv, size_t *lens);
    /* The reply of an accepted command has this type. */
    int reply_type;
    /* What an accepted chunk adds to the key's length. */
    long long (*added)(const struct output_batch *b, unsigned i);
};
extern const struct out_redis_mode out_redis_stream_mode;
extern const struct out_redis_mode out_redis_list_mode;

/* argv entries the list mode needs for a batch of batch_events events. */
size_t out_redis_list_argv_max(size_t batch_events);

/* A payload line "TS ID JSON\n" from at: where its JSON starts and the
 * offset just past its newline. The batch writer checked the format. */
void output_line_json(const char *payload, size_t len, size_t at, size_t *json,
                      size_t *end);

#endif
