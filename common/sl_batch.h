/* sl_batch.h: one Redis stream entry = one batch of events (format 2).
 *
 * The shipper encodes a batch with a writer and XADDs it to `sluice:events`;
 * the indexer reads entries with XREADGROUP and decodes them with a reader.
 * Neither does any I/O here: the writer hands out field name/value/length
 * arrays for redisCommandArgv, the reader takes the arrays of an XRANGE or
 * XREADGROUP reply, so both are testable and fuzzable without a server.
 *
 * The fields of one entry, in this order (all values are byte strings):
 *
 *   v       "2", the format version
 *   host    the shipper's host.name (any bytes, may be empty)
 *   count   number of events, decimal, at least 1
 *   codec   "none", "lz4" (LZ4 block format), "zstd" (one zstd frame,
 *           with its content size and a checksum) or "columnar" (the
 *           lines transposed into columns, then one LZ4 block:
 *           sl_batch_columnar.h; it decodes to the same lines)
 *   raw     byte length of the uncompressed payload, decimal
 *   events  the payload: one line per event, every line ending in "\n";
 *           compressed with the codec unless it is "none"
 *
 * One line of the payload is
 *
 *   TS " " ID " " JSON "\n"
 *   1763856000123 u5eyVdF8ej-arHKGN-65yQ {"@timestamp":"2025-11-23T...",...}
 *
 *   TS    the time that decides the event's index, UTC milliseconds since
 *         the epoch, in plain decimal: an optional "-", no "+", no leading
 *         zero, from SL_BATCH_TS_MIN to SL_BATCH_TS_MAX (years 1 to 9999)
 *   ID    the event's _id (sl_event_id.h): 1 to SL_BATCH_ID_MAX characters
 *         of A-Z a-z 0-9 - _ (safe in JSON and URLs, never escaped)
 *   JSON  the event, at least one byte, no "\n"
 *
 * so the indexer builds `{"create":{"_index":...,"_id":ID}}` from the
 * prefix alone, formatting any index pattern (daily, hourly) from TS,
 * without parsing the event. The shipper must give a replayed event the
 * same ID and TS (DESIGN.md): TS is @timestamp, parsed from the line or the
 * read time it keeps with the offset.
 *
 * Why a prefix on each line, and the time first (bench/bench_batch.c, 1M
 * Apache events, 2000 per entry; bench/RESULTS.md, "format 2"): a line
 * stays one whole event, the writer keeps one buffer that max_raw bounds
 * exactly and seals it without a copy, and the reader walks it once. The
 * layout not taken, every id in one block and every time in another before
 * the events, compresses 2.5 B per event better with zstd 1 (80.3 against
 * 82.8 B; 1 to 1.5% with lz4 and zstd -1) for about the same CPU, but
 * needs three buffers joined at seal and a reader with three cursors that
 * must agree. With the id first the lines compressed 3.2 B per event worse:
 * the time after the newline matches the previous line's time, a random id
 * there breaks that. Ids and times cost 22 to 24 B per event after zstd
 * either way (the 16 random bytes of an id do not compress).
 *
 * Readers ignore fields they do not know (so a later format 2 writer may add
 * some), and refuse, with one line saying which field, what was found and
 * what to do: a missing or repeated field, any version but 2 (format 1 had
 * no ids and was never written by a released shipper), a number that is
 * not plain decimal, count 0, a count that does not match the lines, a
 * payload not ending in "\n", a line whose TS, ID or JSON is not as above,
 * a `raw` above the reader's limit (checked before anything is allocated,
 * so a forged entry cannot make the indexer allocate gigabytes), and a
 * payload that does not decompress to exactly `raw` bytes. Every line is
 * checked before the first event is handed out, so an entry is taken whole
 * or refused whole. A refused entry leaves the reader usable for the next
 * one.
 *
 * An empty batch is never an entry: sealing one fails with SL_EINVAL, and a
 * reader refuses count 0. Callers flush only when count > 0.
 *
 * Memory: a writer owns two buffers (the payload, bounded by max_raw, and
 * the compressed copy, bounded by the codec's bound of max_raw) and at most
 * one zstd context, and for codec columnar its columns instead of the
 * payload (about the batch's size; debug builds keep the payload too, to
 * check each sealed entry); a reader owns one buffer (bounded by its limit)
 * and at most one zstd context, and for columnar entries the transposed
 * buffer (at most SL_COLUMNAR_MAX(raw), 4 times the limit). All of them
 * grow to the largest batch seen and are kept: no allocation per event,
 * none per batch once warm. */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_err.h"
#include "sl_event.h"
#include "sl_slice.h"

#define SL_BATCH_VERSION 2
/* An event's id: at most this many characters. */
#define SL_BATCH_ID_MAX 64
/* Whether id[0..len) is a valid ID: 1 to SL_BATCH_ID_MAX of A-Z a-z 0-9 -
 * _ (the columnar decoder checks its ids with it). */
bool sl_batch_id_ok(const char *id, size_t len);
/* An event's time, UTC ms: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z,
 * the range of sl_date. */
#define SL_BATCH_TS_MIN (-62135596800000LL)
#define SL_BATCH_TS_MAX 253402300799999LL
/* Names and values interleaved, as XADD takes them and XRANGE returns them. */
#define SL_BATCH_NFIELDS 6
#define SL_BATCH_ARGC    (2 * SL_BATCH_NFIELDS)
/* The reader's default limit on `raw`, and the largest any limit may be. */
#define SL_BATCH_RAW_DEFAULT ((size_t)64 << 20)
#define SL_BATCH_RAW_MAX     ((size_t)1 << 30)

enum sl_codec {
    SL_CODEC_NONE,
    SL_CODEC_LZ4,  /* LZ4 block; level is the acceleration, 1 (default) up */
    SL_CODEC_ZSTD, /* one frame; level as zstd's, 0 means zstd's default (3) */
    /* the lines transposed into columns, then one LZ4 block
     * (sl_batch_columnar.h); level is lz4's acceleration. Only for events
     * added with sl_batch_writer_add_event. */
    SL_CODEC_COLUMNAR
};

/* "none", "lz4", "zstd", "columnar". */
const char *sl_codec_name(enum sl_codec codec);
/* Parses a codec name from the config; the error lists the valid names. */
SL_MUST_CHECK int sl_codec_from_name(const char *name, enum sl_codec *codec,
                                     struct sl_err *err);

/* ---- writer (shipper) ---------------------------------------------- */

struct sl_batch_writer;

/* host is copied. max_raw (1 .. SL_BATCH_RAW_MAX) bounds the uncompressed
 * payload, whole lines included. level: see enum sl_codec; 0 is the default. */
struct sl_batch_writer *sl_batch_writer_new(const char *host,
                                            enum sl_codec codec, int level,
                                            size_t max_raw, struct sl_err *err);
void sl_batch_writer_free(struct sl_batch_writer *w); /* NULL is fine */
/* Changes the codec for the next batch; only on an empty batch. */
SL_MUST_CHECK int sl_batch_writer_set_codec(struct sl_batch_writer *w,
                                            enum sl_codec codec, int level,
                                            struct sl_err *err);

/* Adding an event without a copy: begin checks the event's id and time,
 * writes them as the line's prefix and returns the batch's payload buffer;
 * the caller appends the event's JSON to it (sl_event_write_json, no
 * newline), then calls commit, or rollback to forget it. The caller must
 * not touch the bytes before the ones it appended.
 *
 * begin returns NULL, with err set and the batch as before, on a sealed
 * batch (SL_EINVAL: reset it first), an id that is empty, longer than
 * SL_BATCH_ID_MAX or holds a byte outside A-Z a-z 0-9 - _ (SL_EINVAL), a
 * time outside SL_BATCH_TS_MIN..SL_BATCH_TS_MAX (SL_EINVAL), and a prefix
 * that does not fit in max_raw (SL_ELIMIT).
 *
 * commit checks the event and ends its line. It fails, and rolls the event
 * back, when the event is empty or holds a "\n" (SL_EINVAL; it would break
 * the framing) or when its newline does not fit in max_raw (SL_ELIMIT).
 * Any append that failed with SL_ELIMIT is followed by rollback: the batch
 * is then exactly as before begin. SL_ELIMIT with count 0 means the event
 * alone is larger than max_raw; otherwise, flush and add it again. */
/* A columnar writer refuses begin and add (SL_EINVAL): it takes events. */
struct sl_buf *sl_batch_writer_begin(struct sl_batch_writer *w, const char *id,
                                     size_t id_len, int64_t ts_ms,
                                     struct sl_err *err);
SL_MUST_CHECK int sl_batch_writer_commit(struct sl_batch_writer *w,
                                         struct sl_err *err);
/* commit for JSON that cannot hold a "\n": what sl_event_write_json wrote
 * (it escapes every control character in keys and strings, and numbers
 * and booleans are checked text; fuzz_event_json holds it to that). The
 * newline check, a memchr over every event (1.2% of the shipper's
 * instructions), is then an assert, made in debug builds only. */
SL_MUST_CHECK int sl_batch_writer_commit_json(struct sl_batch_writer *w,
                                              struct sl_err *err);
void sl_batch_writer_rollback(struct sl_batch_writer *w);
/* Adds the event ev (its JSON is sl_event_write_json's) with its id and
 * time: begin, the JSON, commit_json for codecs none, lz4 and zstd; for
 * columnar, the event's values go to the batch's columns and its JSON is
 * never written, but the batch counts its line's bytes exactly as the
 * others do (sl_batch_writer_bytes, `raw`). The errors of begin and
 * commit, the JSON writer's (the batch's max: SL_ELIMIT), and for
 * columnar SL_ENOMEM; on failure the batch is as before. ev's bytes need
 * to live only until it returns. In debug builds a columnar writer also
 * writes the lines and its seal checks that the entry decodes to them. */
SL_MUST_CHECK int sl_batch_writer_add_event(struct sl_batch_writer *w,
                                            const char *id, size_t id_len,
                                            int64_t ts_ms,
                                            const struct sl_event *ev,
                                            struct sl_err *err);
/* begin + append a copy of json + commit, for callers that have the text. */
SL_MUST_CHECK int sl_batch_writer_add(struct sl_batch_writer *w, const char *id,
                                      size_t id_len, int64_t ts_ms,
                                      const char *json, size_t len,
                                      struct sl_err *err);

/* Committed events, and their payload bytes (ids, times, spaces and
 * newlines included), so the caller can flush by count, by bytes or by
 * time. */
size_t sl_batch_writer_count(const struct sl_batch_writer *w);
size_t sl_batch_writer_bytes(const struct sl_batch_writer *w);

/* Compresses the batch and points argv/argvlen (SL_BATCH_ARGC entries,
 * names and values interleaved) at the entry's fields, for
 * `XADD key id argv...` through redisCommandArgv. The pointers stay valid
 * until reset or free; sealing again returns the same entry (a retry after
 * Redis refused it re-sends it as is). Fails on an empty batch (SL_EINVAL)
 * and when the compressor fails (SL_EIO). */
SL_MUST_CHECK int sl_batch_writer_seal(struct sl_batch_writer *w,
                                       const char ***argv,
                                       const size_t **argvlen,
                                       struct sl_err *err);
/* Empties the batch once Redis accepted it; the memory is kept. */
void sl_batch_writer_reset(struct sl_batch_writer *w);

/* ---- reader (indexer) ---------------------------------------------- */

struct sl_batch_reader;

/* max_raw (1 .. SL_BATCH_RAW_MAX; 0 means SL_BATCH_RAW_DEFAULT) is the
 * largest uncompressed payload this reader accepts. */
struct sl_batch_reader *sl_batch_reader_new(size_t max_raw, struct sl_err *err);
void sl_batch_reader_free(struct sl_batch_reader *r); /* NULL is fine */

/* Decodes one entry from argc interleaved names and values (the element
 * array of one XRANGE/XREADGROUP entry: str and len of each). Forgets the
 * previous entry. The host, and for codec "none" the events, point into
 * the values, so the caller keeps the reply alive while it uses them;
 * compressed payloads are decompressed into the reader's buffer. -1: the entry
 * is refused (SL_EPARSE for a malformed entry, SL_ELIMIT for `raw` above the
 * limit, SL_ENOMEM), err says why, and the reader holds no entry. */
SL_MUST_CHECK int sl_batch_reader_decode(struct sl_batch_reader *r, size_t argc,
                                         const char *const *argv,
                                         const size_t *argvlen,
                                         struct sl_err *err);
/* Decoding into memory the caller keeps, in two steps, which saves the
 * copy of a caller that holds the events past the next decode (the indexer
 * holds each entry until its events are indexed). decode_header checks
 * everything decode checks before the payload, forgets the previous entry
 * and sets *raw to the payload's size; count and host can be read from
 * then on. decode_payload decompresses the payload into dst[0..raw) (codec
 * none: copies it there) and checks its lines, as decode does; the events
 * then point into dst, which the caller keeps as long as it uses them.
 * The entry's values must stay alive between the two calls. Each refusal
 * is as decode's, and leaves the reader holding no entry; decode_payload
 * without a successful decode_header before it fails with SL_EINVAL.
 *
 * decode_header refuses a count above raw / 6 (the shortest line is
 * "0 a b\n"; with decode's message for the lines), so memory sized by count
 * before the lines are checked is bounded by raw, which the limit bounds. */
SL_MUST_CHECK int
sl_batch_reader_decode_header(struct sl_batch_reader *r, size_t argc,
                              const char *const *argv, const size_t *argvlen,
                              size_t *raw, struct sl_err *err);
SL_MUST_CHECK int sl_batch_reader_decode_payload(struct sl_batch_reader *r,
                                                 char *dst, struct sl_err *err);

/* One event of a decoded entry: slices of the payload, valid until the
 * next decode. */
struct sl_batch_event {
    struct sl_slice id;   /* the _id, checked as the format says */
    int64_t ts_ms;        /* the time that decides the index */
    struct sl_slice json; /* the event, without its newline */
};

/* 1: *ev is the next event; 0: no more. Never fails: decode checked every
 * line. */
SL_MUST_CHECK int sl_batch_reader_next(struct sl_batch_reader *r,
                                       struct sl_batch_event *ev);
/* Starts the iteration over from the first event. */
void sl_batch_reader_rewind(struct sl_batch_reader *r);

/* The decoded entry's header (count 0 and an empty host when none). */
size_t sl_batch_reader_count(const struct sl_batch_reader *r);
struct sl_slice sl_batch_reader_host(const struct sl_batch_reader *r);
enum sl_codec sl_batch_reader_codec(const struct sl_batch_reader *r);

#endif
