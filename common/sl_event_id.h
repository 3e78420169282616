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
 * Two algorithms, each fixed forever (ids live in Redis and in
 * Elasticsearch, so a change would make every replay a duplicate; a new
 * one needs a new name).
 *
 * Algorithm 1, `sl_event_id`: all hash, for an event that is its own key
 * (the indexer's ids of Logstash list elements: host "", key the element's
 * bytes, pos 0), where only 128 bits of hash make a collision unthinkable:
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
 * Algorithm 2, `sl_event_id_make` on a source's state: the source's hash,
 * then the position, for the events of a file or a stream:
 *
 *   M2 = M without its last field: le64(len(host)) || host || zeros ...
 *     || le64(len(key)) || key || zeros to a multiple of 8 bytes
 *   S  = SipHash-2-4-128 of M2 under the 16 ASCII bytes "sluice-event-id2"
 *   B  = S[0..8) || S[8..10) XOR be16(pos >> 48) || be48(pos mod 2^48):
 *        16 bytes
 *   id = B in base64url without padding: 22 characters
 *
 * le64 and be16/be48 are little- and big-endian integers. The lengths make
 * the fields unambiguous (host "a" + key "bc" and host "ab" + key "c" give
 * different M), and the padding keeps host and key on whole 8-byte blocks.
 * Test vectors in tests/unit/test_event_id.c pin SipHash (the reference
 * vectors) and the ids of both.
 *
 * Why two: within a source, algorithm 2 is exact (two positions never
 * share an id: B is a one-to-one function of pos for one S), and two
 * sources collide only when 80 bits of their hashes do (about 4e-13 a day
 * with a million files a day). Its ids compress: the events of one file
 * share their first 16 characters and the rest counts up, where a random
 * id costs 29-31 B an event after lz4 whatever its neighbours. That took
 * the shipper's entries of 2,000 Apache events with lz4 from 133 to 113 B
 * an event, Redis's memory for 1M events from 165 to 116 MB and its CPU
 * from 0.13 to 0.11 s, and the SipHash per event out of the shipper
 * (bench/RESULTS.md, "Shipper CPU to a Redis stream, fourth pass");
 * Elasticsearch's own generated ids share prefixes too (time-based,
 * "preferred ... as primary key" in Lucene over random ones, its UUIDs
 * javadoc says; not measured here for ours). An element that is its own
 * key has no position to count, so it keeps algorithm 1. 22 characters is
 * close to Elasticsearch's own generated ids (20), and base64url without
 * padding of 16 bytes is what Elasticsearch stores as the 16 decoded bytes.
 * SipHash is keyed, but the keys here are public: the hash only needs to
 * spread, not to resist an attacker, who could as well forge events. */
#ifndef SL_EVENT_ID_H
#define SL_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define SL_EVENT_ID_LEN 22 /* characters, without the NUL */

/* A source's (file's or stream's) first 10 bytes of B (S[0..10)), set up
 * once, then used for each event, with the id's first 10 characters (the
 * first 60 bits of S, which no position changes). Plain data; copy it
 * freely. */
struct sl_event_id_source {
    uint8_t s[10];
    char head[10];
};

void sl_event_id_source_init(struct sl_event_id_source *src, const char *host,
                             size_t host_len, const void *key, size_t key_len);

/* Writes the id (algorithm 2) of the source's event at pos:
 * SL_EVENT_ID_LEN characters and a NUL. */
void sl_event_id_make(const struct sl_event_id_source *src, uint64_t pos,
                      char out[SL_EVENT_ID_LEN + 1]);

/* The id of algorithm 1: not the id sl_event_id_make gives. */
void sl_event_id(const char *host, size_t host_len, const void *key,
                 size_t key_len, uint64_t pos, char out[SL_EVENT_ID_LEN + 1]);

/* SipHash-2-4, 128-bit output, of msg under key; out is the 16 bytes in
 * the reference's order. Exposed so its test vectors can pin it. */
void sl_siphash128(const uint8_t key[16], const void *msg, size_t len,
                   uint8_t out[16]);

#endif
