/* sl_event_id.h: the deterministic id of an event (DESIGN.md, "The event").
 *
 * The indexer sends every event as `create` under this id, so a batch sent
 * again after a crash is a 409 per event, never a duplicate. That holds only
 * if the same event always gets the same id: the id is a function of where
 * the event was read, never of when or by which process.
 *
 * Inputs:
 *   host  the shipper's host.name (any bytes)
 *   key   the source's key, opaque bytes: for a file, a key the shipper
 *         keeps in its registry from before the file's first batch (so it
 *         survives a crash and a fingerprint that is still growing); for
 *         stdin, the stream's start. Two sources of one host must never
 *         share a key. A number is passed as its 8 bytes little-endian,
 *         so every platform makes the same id from it.
 *   pos   for a file, the byte offset of the event's first line; for stdin,
 *         the event's sequence number in the stream.
 *
 * The algorithm, fixed forever (ids live in Redis and in Elasticsearch, so
 * a change would make every replay a duplicate; a new one needs a new name):
 *
 *   M  = le64(len(host)) || host || zeros to a multiple of 8 bytes
 *     || le64(len(key))  || key  || zeros to a multiple of 8 bytes
 *     || le64(pos)
 *   K  = the 16 ASCII bytes "sluice-event-id1"
 *   H  = SipHash-2-4 with 128-bit output (Aumasson and Bernstein, the
 *        reference's "vectors_sip128" variant) of M under K: 16 bytes
 *   id = H in base64url (RFC 4648 section 5: A-Z a-z 0-9 - _), without
 *        padding: 22 characters
 *
 * le64 is a 64-bit little-endian integer. The lengths make the fields
 * unambiguous (host "a" + key "bc" and host "ab" + key "c" give different
 * M), and the padding keeps host and key on whole 8-byte blocks, so the
 * hash state after them is kept per source and each event costs one block
 * and the finalisation. Test vectors in tests/unit/test_event_id.c pin
 * both SipHash (the reference vectors) and the ids.
 *
 * Why this shape: 22 characters is close to Elasticsearch's own generated
 * ids (20), and base64url without padding of 16 bytes is what Elasticsearch
 * stores as the 16 decoded bytes. 128 bits make a collision between two
 * events of one index (which Elasticsearch would answer 409, and the
 * indexer would take for a replay: a lost event) unthinkable; 64 bits
 * would not be, over years of files. SipHash is keyed, but the key here is
 * public: the hash only needs to spread, not to resist an attacker, who
 * could as well forge events. */
#ifndef SL_EVENT_ID_H
#define SL_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define SL_EVENT_ID_LEN 22 /* characters, without the NUL */

/* The hash state after host and key: one per source (file or stream), set
 * up once, then used for each event. Plain data; copy it freely. */
struct sl_event_id_source {
    uint64_t v[4];
    uint64_t len; /* bytes of M absorbed so far, a multiple of 8 */
};

void sl_event_id_source_init(struct sl_event_id_source *src, const char *host,
                             size_t host_len, const void *key, size_t key_len);

/* Writes the id of the event at pos: SL_EVENT_ID_LEN characters and a NUL. */
void sl_event_id_make(const struct sl_event_id_source *src, uint64_t pos,
                      char out[SL_EVENT_ID_LEN + 1]);

/* Both at once, for a single event. */
void sl_event_id(const char *host, size_t host_len, const void *key,
                 size_t key_len, uint64_t pos, char out[SL_EVENT_ID_LEN + 1]);

/* SipHash-2-4, 128-bit output, of msg under key; out is the 16 bytes in
 * the reference's order. Exposed so its test vectors can pin it. */
void sl_siphash128(const uint8_t key[16], const void *msg, size_t len,
                   uint8_t out[16]);

#endif
