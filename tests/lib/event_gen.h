/* event_gen.h: event trees built from a stream of bytes, for the columnar
 * codec's round trips (tests/unit/test_batch_columnar.c takes the bytes
 * from a seeded generator, tests/fuzz/fuzz_batch_columnar.c from its
 * input).
 *
 * Each event has a message (a string of the bytes that need care: quotes,
 * backslashes, control bytes, NUL, invalid and valid UTF-8) or none, or
 * one that is not a string; members with keys plain and not, @metadata,
 * every value type, strings that are spans of the message (grok's
 * captures; now and then, of an ASCII message, spans that cover most of
 * it, so the codec stores it as a template) and strings that are not, numbers
 * in and out of it, arrays, objects three deep, a rendered value (the shipper's
 * host and agent) as rendered and changed after, and now and then more values
 * than the codec has columns. When the bytes run out every choice is 0. */
#ifndef EVENT_GEN_H
#define EVENT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "sl_event.h"

struct event_gen {
    const uint8_t *p, *end;
    struct sl_arena *arena;
    struct sl_value shape;         /* the rendered value's tree */
    struct sl_value_json rendered; /* and its JSON */
    struct sl_buf rendered_json;
};

/* The arena holds every event's nodes and bytes; reset it between
 * events as the shipper does. */
void event_gen_init(struct event_gen *g, struct sl_arena *arena);
void event_gen_release(struct event_gen *g);
/* Takes bytes from p[0..n) for the events built next. */
void event_gen_feed(struct event_gen *g, const uint8_t *p, size_t n);
/* Builds one event into ev (initialised on g's arena); -1 out of memory. */
int event_gen_build(struct event_gen *g, struct sl_event *ev);

#endif
