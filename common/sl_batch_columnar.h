/* sl_batch_columnar.h: codec "columnar" of the stream entry (sl_batch.h,
 * format 2): the batch's NDJSON payload, transposed into columns, then one
 * LZ4 block. sl_batch's writer and reader use it; nothing else needs to.
 *
 * It compresses exactly the payload the other codecs carry: decoding an
 * entry gives, byte for byte, the `TS ID JSON\n` lines the writer would
 * have sent with codec "none" (JSON as sl_event_write_json writes it), and
 * `raw` is that payload's length. What changes is how the bytes are
 * stored: lz4 over the lines costs about 30 ns per match, and a line of
 * JSON is 22 matches (keys and values alternate); here the keys and
 * punctuation of each kind of event (its shape, sl_event_write_shape) are
 * stored once per batch, each grok capture as a span of the message it was
 * cut from, and lz4 runs over columns of like values (bench/RESULTS.md,
 * "columnar"). From version 2, a message made of grok's captures is stored
 * as a template (the bytes between them, kept once per batch) and the
 * captures as values, so lz4 reads the message's bytes once, in columns,
 * and the decoder puts the message back together.
 *
 * The `events` field (version 2, what the encoder writes):
 *
 *   byte 0, byte 2   the version (a version-1 entry has no such bytes: it
 *                    starts with varint T, whose first byte is never 0)
 *   varint T         the length of the transposed buffer, at most
 *                    SL_COLUMNAR_MAX(raw)
 *   block            one LZ4 block that decompresses to exactly T bytes
 *
 * A varint is an unsigned LEB128: 7 bits a byte, the low ones first, the
 * high bit set on every byte but the last, at most 10 bytes. The transposed
 * buffer, in this order, with nothing after it:
 *
 *   varint count      the entry's count
 *   varint nshapes    then nshapes times: varint n and n bytes of a shape,
 *                     JSON text where the byte 0x01 stands for a string
 *                     value and 0x02 for a number (SL_SHAPE_STRING,
 *                     SL_SHAPE_NUMBER)
 *   varint ntpl       then ntpl times: varint n and n bytes of a message's
 *                     template: JSON text (a message's, between its
 *                     quotes) where the byte SL_TPL_REF and a varint k
 *                     stand for the JSON of the event's k-th value (from
 *                     0, in its shape's order; not empty, not the message)
 *   four sections, each a varint n and n bytes, each with one record per
 *   event, in the events' order:
 *     shapes    varint: the event's shape, 0 .. nshapes-1
 *     times     varint: the event's TS minus the previous event's (the
 *               first event's minus 0), zigzag coded (0, -1, 1, -2 as 0,
 *               1, 2, 3)
 *     ids       one byte k, the bytes ID shares with the previous event's
 *               (the first event's: 0), one byte m and the m other bytes
 *               of ID; k + m from 1 to SL_BATCH_ID_MAX
 *     origins   varint: 0, the event has no origin; 1, its message is
 *               rebuilt from a template: varint, the template
 *               (0 .. ntpl-1); else n + 2 and the n bytes of its origin:
 *               its top-level "message" when that is a string, as the
 *               JSON writes it between its quotes when it is ASCII
 *               (escaped: a span of it is then a value's JSON, copied as
 *               it is), else its raw bytes
 *   varint ncols      0 .. SL_COLUMNAR_COLS, then ncols columns, each a
 *                     varint n and n bytes of values
 *
 * Version 1 (entries written before it) is the same without the version
 * bytes, the templates (ntpl and what follows it) and origins of 1: there
 * an origin is n + 1 and n bytes, and an id one byte n (1 ..
 * SL_BATCH_ID_MAX) and its n bytes.
 *
 * The k-th marker of an event's shape (from 0) takes the next value of
 * column k, or of the last column (SL_COLUMNAR_COLS - 1) for k at or past
 * it. A value is a varint tag, then:
 *
 *   tag 0              nothing: the same bytes as the previous value of the
 *                      column (there must be one in this entry, and not a
 *                      message rebuilt)
 *   tag 3              (version 2) the event's message, rebuilt from its
 *                      template, quoted; only under a string marker of an
 *                      event whose origin is a template
 *   tag & 3 == 1       a span: varint offset; the value is the event's
 *                      origin from offset, tag >> 3 bytes, which must lie
 *                      inside it
 *   tag & 3 == 2       a literal: tag >> 3 bytes
 *
 * and bit 2 of the tag says the bytes are written as they are (they need
 * no escaping, or are a span of an escaped origin). A line is the
 * event's TS in plain decimal, a space, its ID, a space, its shape with
 * each 0x01 replaced by '"', the value escaped as sl_json_escape_into does
 * (as is when bit 2 says so), '"', and each 0x02 by the value as is,
 * then "\n". A value the same as before takes the bit of the one it
 * repeats.
 *
 * The decoder trusts nothing: every length, varint, shape number, span
 * and column is checked against what holds it, T against the bound before
 * anything grows, and the lines are written into exactly raw bytes: one
 * that would pass them, or lines that end short of them, refuse the entry.
 * sl_batch's reader then checks the lines as for any codec.
 *
 * Memory: the encoder keeps its columns (about the batch's size) and the
 * decoder the transposed buffer (at most SL_COLUMNAR_MAX(raw)); both grow
 * to the largest batch and are kept. */
#ifndef SL_BATCH_COLUMNAR_H
#define SL_BATCH_COLUMNAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_err.h"
#include "sl_event.h"

/* Columns of values; slots from the last one on share it, so memory is
 * bounded whatever the events hold. */
#define SL_COLUMNAR_COLS 65
/* The largest transposed buffer of a payload of raw bytes: a shape, a
 * varint and a record per event cost at most 4 bytes for each byte of
 * the line they stand for. */
#define SL_COLUMNAR_MAX(raw) (4 * (size_t)(raw) + 64)

/* In a template (version 2), the byte before a reference to a value. */
#define SL_TPL_REF '\x01'

/* TS in plain decimal into out (at least 20 bytes); its length. */
size_t sl_batch_format_ts(char *out, int64_t ts);

struct sl_columnar_enc;

struct sl_columnar_enc *sl_columnar_enc_new(struct sl_err *err);
void sl_columnar_enc_free(struct sl_columnar_enc *e); /* NULL is fine */
/* Forgets the batch; the memory is kept. */
void sl_columnar_enc_reset(struct sl_columnar_enc *e);

/* Adding an event in two steps, so the caller can refuse one too large
 * before the batch changes. prepare takes ev's shape and values and sets
 * *json_len to the length of what sl_event_write_json writes for it; the
 * event's bytes must stay as they are until append. append adds the
 * prepared event with its id (checked by the caller) and time; on failure
 * (SL_ENOMEM) the batch is as before. */
SL_MUST_CHECK int sl_columnar_enc_prepare(struct sl_columnar_enc *e,
                                          const struct sl_event *ev,
                                          size_t *json_len, struct sl_err *err);
SL_MUST_CHECK int sl_columnar_enc_append(struct sl_columnar_enc *e,
                                         const char *id, size_t id_len,
                                         int64_t ts_ms, struct sl_err *err);

/* The `events` value of the batch (of raw payload bytes) into out,
 * replacing its contents: T and the LZ4 block, at lz4 acceleration accel
 * (1 and up). -1: SL_EIO (lz4 failed, or the bound above did not hold),
 * SL_ENOMEM. */
SL_MUST_CHECK int sl_columnar_enc_seal(struct sl_columnar_enc *e, size_t raw,
                                       int accel, struct sl_buf *out,
                                       struct sl_err *err);

struct sl_columnar_dec;

/* Where a decoded line's parts are: its time, and the offsets in the
 * payload of its ID, its JSON and its newline. */
struct sl_columnar_line {
    int64_t ts_ms;
    uint32_t id, json, nl;
};

struct sl_columnar_dec *sl_columnar_dec_new(struct sl_err *err);
void sl_columnar_dec_free(struct sl_columnar_dec *d); /* NULL is fine */
/* Decodes the `events` value src[0..len) of an entry of count events into
 * the lines of exactly raw bytes at dst. The lines are those sl_batch's
 * reader checks (`TS ID JSON\n`, an ID of id characters, a JSON without a
 * newline) when *checked is set: then, when at is not NULL (room for count
 * of them; raw below 4 GiB), at[i] says where line i's parts are. When
 * *checked is clear, some line may not be (a forged entry's): the caller
 * checks them. -1: SL_EPARSE (the entry is corrupt; err says where, in
 * one line), SL_ENOMEM. */
SL_MUST_CHECK int sl_columnar_decode(struct sl_columnar_dec *d, const char *src,
                                     size_t len, size_t count, char *dst,
                                     size_t raw, struct sl_columnar_line *at,
                                     bool *checked, struct sl_err *err);

#endif
