/* sl_redis_slot.h: what a Redis Cluster layer needs to route a command:
 * the slot of a key, and the node a MOVED or ASK error points to.
 *
 * The slot is CRC16/XMODEM (polynomial 0x1021, initial value 0) of the key
 * modulo 16384, or of its hash tag: the bytes between the first '{' and
 * the first '}' after it, when there is at least one byte between them
 * ("{user1000}.following" and "{user1000}.followers" share a slot;
 * "foo{}{bar}" hashes whole). DESIGN.md's split stream keys
 * "sluice:events:{0}" ... rely on it. */
#ifndef SL_REDIS_SLOT_H
#define SL_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

#define SL_REDIS_SLOTS 16384

uint16_t sl_redis_crc16(const void *p, size_t len);
/* 0 .. SL_REDIS_SLOTS - 1. */
unsigned sl_redis_key_slot(const void *key, size_t len);

enum sl_redis_redirect_kind { SL_REDIS_MOVED, SL_REDIS_ASK };

/* From "MOVED 3999 127.0.0.1:6381" or "ASK 3999 10.0.0.2:6380". Redis
 * writes an IPv6 address without brackets ("MOVED 1 ::1:6381": the port
 * follows the last ':'), and leaves the host empty ("MOVED 1 :6381") when
 * it does not know the node's address: the client then uses the host it
 * sent the command to. */
struct sl_redis_redirect {
    enum sl_redis_redirect_kind kind;
    unsigned slot;
    char host[256]; /* "" when Redis left it out */
    uint16_t port;
};

/* Parses an error reply's text (reply->str, reply->len). Returns 1 and
 * fills *out for a well-formed MOVED or ASK; 0 when the error is another
 * one (CLUSTERDOWN, OOM, ...); -1 with SL_EPARSE when it starts with
 * "MOVED " or "ASK " but the rest does not parse. */
SL_MUST_CHECK int sl_redis_redirect_parse(const char *s, size_t len,
                                          struct sl_redis_redirect *out,
                                          struct sl_err *err);

#endif
