/* sl_event.h: an event as a tree of JSON values, and its JSON text.
 *
 * Events borrow; batches own (STYLE.md 3.4). Every node lives in the arena
 * given at sl_event_init(); string and number bytes are BORROWED: the caller
 * keeps them alive until the event is written or reset (grok captures point
 * into the message, which lives in the batch's arena). Use sl_event_strdup()
 * for bytes that would not live long enough. Nothing here calls malloc: a
 * reset forgets the tree, and the owner resets the arena.
 *
 * Members keep insertion order, so output is deterministic. Setting a path
 * creates the objects along it; a path that runs through a value that is not
 * an object (setting "a.b" when "a" is a string) fails with SL_EINVAL and
 * changes nothing: the caller tags the event.
 *
 * "tags" holds strings (tag conditionals and the index mapping need it), as
 * in Logstash 8.7 and later (event_api.tags.illegal: rename, the default):
 * a path into it ([tags][x], from a grok capture) is set at [_tags][x]
 * instead, and the event is tagged SL_TAG_TAGSPARSEFAILURE. */
#ifndef SL_EVENT_H
#define SL_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_arena.h"
#include "sl_buf.h"
#include "sl_err.h"
#include "sl_fieldpath.h"

enum sl_value_type {
    SL_VALUE_NULL,
    SL_VALUE_BOOL,   /* text is "true" or "false" */
    SL_VALUE_STRING, /* text is raw bytes, escaped when written */
    SL_VALUE_NUMBER, /* text is a valid JSON number, written as is */
    SL_VALUE_OBJECT,
    SL_VALUE_ARRAY
};

struct sl_value {
    struct sl_slice key; /* member name; empty for array elements */
    enum sl_value_type type;
    bool key_plain; /* the key is written as is, without escaping */
    /* 1 + the index of its JSON in the event's table of rendered values
     * (sl_event_set_rendered); 0: none. Set only by the one who built the
     * value; the writer checks it before it trusts it. */
    uint8_t rendered;
    struct sl_slice text;
    struct sl_value *first, *last; /* members or elements */
    struct sl_value *next;         /* next sibling */
};

/* The JSON of a value that every event of a source has alike (the
 * shipper's host and agent objects), rendered once: the writer copies json
 * instead of walking and escaping the value, but only while the event's
 * value still matches shape node for node (the same types, the same
 * members in the same order, the same key and text pointers and lengths),
 * so a processor that changed, added or moved anything in it gets the walk
 * and no setter needs to know. The owner keeps shape, every byte its nodes
 * point to, and json alive and unchanged while events use the table. */
struct sl_value_json {
    const struct sl_value *shape;
    const char *json;
    size_t len;
};

struct sl_event {
    struct sl_arena *arena;               /* borrowed */
    struct sl_value root;                 /* an object */
    const struct sl_value_json *rendered; /* borrowed; NULL: none */
    size_t nrendered;
};

void sl_event_init(struct sl_event *ev, struct sl_arena *arena);
/* Empties the event; the arena is the owner's to reset. */
void sl_event_reset(struct sl_event *ev);

/* The value at path, or NULL. */
struct sl_value *sl_event_get(const struct sl_event *ev,
                              const struct sl_fieldpath *path);

/* Overwrites whatever is at path. type is SL_VALUE_STRING, _NUMBER or _BOOL;
 * text is borrowed. */
SL_MUST_CHECK int sl_event_put(struct sl_event *ev,
                               const struct sl_fieldpath *path,
                               enum sl_value_type type, const char *text,
                               size_t len, struct sl_err *err);
/* Logstash's rule for a capture: sets path if absent; if it holds a string
 * or number, turns it into an array [old, new]; if an array, appends. */
SL_MUST_CHECK int sl_event_add(struct sl_event *ev,
                               const struct sl_fieldpath *path,
                               enum sl_value_type type, const char *text,
                               size_t len, struct sl_err *err);
/* Adding many paths to one event (grok's captures: a dozen paths under a
 * few top-level names, into a root that already holds others) without a
 * search of the root's members for each path.
 *
 * sl_event_root_keys: for each member of the root, bit sl_event_key_bit of
 * its name is set. A name whose bit is clear is not in the root; a set bit
 * proves nothing (names share bits).
 *
 * sl_event_add_under: sl_event_add (the same rules, result and errors),
 * given the root's member named path->seg[0] in *top: NULL the first time
 * (it is then looked for, or made without a search when absent is true,
 * and stored in *top), the same member for every later path of that first
 * segment in this event. absent is a promise: the root holds no member of
 * that name (its bit was clear in sl_event_root_keys, and nothing has been
 * added to the root since but through this *top; note that a path into
 * "tags" adds "tags" and "_tags"). A path into "tags" is passed to
 * sl_event_add, *top untouched. */
static inline uint64_t sl_event_key_bit(struct sl_slice key)
{
    if (key.len == 0)
        return 1;
    unsigned h = (unsigned)key.len * 5u + (unsigned char)key.ptr[0] +
                 (unsigned char)key.ptr[key.len - 1] * 3u;
    return UINT64_C(1) << (h & 63u);
}
uint64_t sl_event_root_keys(const struct sl_event *ev);
SL_MUST_CHECK int sl_event_add_under(struct sl_event *ev, struct sl_value **top,
                                     bool absent,
                                     const struct sl_fieldpath *path,
                                     enum sl_value_type type, const char *text,
                                     size_t len, struct sl_err *err);
/* Top-level string member by name (message, tags, ...), overwriting. */
SL_MUST_CHECK int sl_event_put_top(struct sl_event *ev, const char *key,
                                   enum sl_value_type type, const char *text,
                                   size_t len, struct sl_err *err);
/* Appends tag to the top-level "tags" array unless it is already there.
 * tag is borrowed (a string literal, usually). What the line put in "tags"
 * is never lost:
 * - a string, number or bool becomes the array's first element
 *   ({"tags":"web"} -> {"tags":["web","_truncated"]});
 * - an object (put there by something other than the setters above, which
 *   send [tags][x] to [_tags][x]) is moved to the top-level "_tags"
 *   (appended to it, made an array if needed, when "_tags" is already set),
 *   and the event is tagged SL_TAG_TAGSPARSEFAILURE before tag:
 *   {"tags":{"x":"abc"}} -> {"tags":["_tagsparsefailure","_truncated"],
 *   "_tags":{"x":"abc"}}, Logstash's rename rule again.
 * On failure (SL_ENOMEM) the event keeps every value it had. */
#define SL_TAG_TAGSPARSEFAILURE "_tagsparsefailure"
SL_MUST_CHECK int sl_event_add_tag(struct sl_event *ev, const char *tag,
                                   struct sl_err *err);
bool sl_event_has_tag(const struct sl_event *ev, const char *tag);

/* Building a fresh event without lookups: appends a member named key to
 * obj (the root, or an object made with these) without looking for one of
 * the same name, so the caller must know there is none (an event just
 * reset, each key once; the tree is then the one the setters above would
 * have made). key is borrowed; key_plain: it is written without escaping.
 * The member is null until set; NULL when out of memory. */
struct sl_value *sl_event_append(struct sl_event *ev, struct sl_value *obj,
                                 struct sl_slice key, bool key_plain);
/* Makes v the scalar type/text (borrowed), or an empty object with
 * SL_VALUE_OBJECT (text unused). */
void sl_value_set(struct sl_value *v, enum sl_value_type type, const char *text,
                  size_t len);

/* The table the values marked rendered (sl_value.rendered) index, until
 * the next call; sl_event_init starts with none. table is borrowed. */
void sl_event_set_rendered(struct sl_event *ev,
                           const struct sl_value_json *table, size_t n);

/* Appends v's JSON (its members, for an object; no key), as
 * sl_event_write_json writes it: what a table of rendered values holds. */
SL_MUST_CHECK int sl_value_write_json(const struct sl_value *v,
                                      struct sl_buf *out, struct sl_err *err);

/* Copies bytes into the event's arena (NULL when out of memory). */
char *sl_event_strdup(struct sl_event *ev, const char *s, size_t len);

/* Appends the event as one JSON object (no newline). The top-level
 * "@metadata" object is left out, as Logstash never ships it: processors may
 * use it, outputs never see it. */
SL_MUST_CHECK int sl_event_write_json(const struct sl_event *ev,
                                      struct sl_buf *out, struct sl_err *err);

/* An event's shape: its JSON as sl_event_write_json writes it, with each
 * string value (quotes included) replaced by the byte SL_SHAPE_STRING and
 * each number by SL_SHAPE_NUMBER, and those values, in order, in val. The
 * JSON is the shape with each marker replaced by its value (a string
 * escaped and quoted as the writer does, a number as is); keys, null,
 * booleans and rendered values (sl_value_json) stay in the text. Neither
 * byte appears in the rest of the text: keys are escaped or plain (the
 * caller's promise, sl_event_append), and no JSON text holds a control
 * byte. The columnar codec (sl_batch_columnar.h) stores one shape per
 * kind of event instead of every event's keys. */
#define SL_SHAPE_STRING '\x01'
#define SL_SHAPE_NUMBER '\x02'
struct sl_event_shape {
    struct sl_buf text;
    const struct sl_value **val; /* nval of them; cap allocated */
    size_t nval, cap;
};
/* max bounds the text. */
void sl_event_shape_init(struct sl_event_shape *sh, size_t max);
void sl_event_shape_release(struct sl_event_shape *sh);
/* Replaces sh's contents with ev's shape. -1: SL_ELIMIT (the text's max),
 * SL_ENOMEM. */
SL_MUST_CHECK int sl_event_write_shape(const struct sl_event *ev,
                                       struct sl_event_shape *sh,
                                       struct sl_err *err);

#endif
