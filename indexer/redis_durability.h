/* redis_durability.h: the indexer says once, when it first reaches Redis,
 * that the Redis it reads keeps no append-only file: a crash (or a stop
 * without saving) of such a Redis loses the entries of the stream that no
 * indexer has read, and no shipper sends them again, since their
 * registries moved on once Redis took them (README: Redis restarts).
 *
 *   struct redis_durability d;
 *   redis_durability_init(&d, cmd, "sluice:events");
 *   each pass of the loop: redis_durability_poll(&d);
 *
 * It asks `INFO persistence` once the connection is READY and warns when
 * it answers aof_enabled:0. A question lost with the connection is asked
 * again at the next READY; an error answer (an ACL user without INFO) is
 * logged at debug and not asked again. Nothing is kept but d. */
#ifndef REDIS_DURABILITY_H
#define REDIS_DURABILITY_H

#include <stdbool.h>

#include "sl_redis.h"

struct redis_durability {
    struct sl_redis *r;
    const char *key; /* the stream or list read: named in the warning */
    bool asking;     /* INFO on its way */
    bool done;       /* answered: nothing more to do */
};

void redis_durability_init(struct redis_durability *d, struct sl_redis *r,
                           const char *key);
void redis_durability_poll(struct redis_durability *d);

#endif
