/* proc_json_arrays.c: arrays of a JSON line that Elasticsearch refuses,
 * made indexable with nothing lost, for the json processor.
 *
 * Elasticsearch maps a field once, from the first value it meets (an
 * array's elements, nested arrays flattened, are values of one field): an
 * array that holds an object and a scalar ("tags": ["a", {"b": 1}], a
 * list of mixed values logged whole) is refused whichever comes first
 * ("object mapping ... tried to parse field as object, but found a
 * concrete value", or the reverse), and the indexer sends the event to
 * the dead letters. Such an array becomes its JSON text, a string, under
 * "_<key>" (proc_json_aside_key: "_items", "a._items"), as the json
 * processor sets aside other shapes Elasticsearch refuses. A boolean
 * among other scalars is refused likewise (a field mapped boolean takes
 * no number or string; [1, true] is refused too): those booleans become
 * the strings "true" and "false", which any mapping the array gets
 * takes (strings as keyword; a long field with ignore_malformed skips
 * them). null goes with anything. Objects in arrays are walked in
 * turn. */
#include <string.h>

#include "process_priv.h"
#include "sl_buf.h"

#define ARRAY_JSON_MAX ((size_t)16 << 20)

struct kinds {
    bool object, boolean, other; /* other: a string or a number */
};

static void kinds_of(const struct sl_value *a, struct kinds *k)
{
    for (const struct sl_value *e = a->first; e != NULL; e = e->next) {
        if (e->type == SL_VALUE_OBJECT)
            k->object = true;
        else if (e->type == SL_VALUE_ARRAY)
            kinds_of(e, k); /* flattened, as Elasticsearch reads it */
        else if (e->type == SL_VALUE_BOOL)
            k->boolean = true;
        else if (e->type != SL_VALUE_NULL)
            k->other = true;
    }
}

/* The booleans of a (nested arrays too) as strings. */
static void booleans_as_strings(struct sl_value *a)
{
    for (struct sl_value *e = a->first; e != NULL; e = e->next) {
        if (e->type == SL_VALUE_BOOL)
            e->type = SL_VALUE_STRING; /* its text is "true" or "false" */
        else if (e->type == SL_VALUE_ARRAY)
            booleans_as_strings(e);
    }
}

/* v (an array) becomes the string of its JSON, in the arena. -1: out of
 * memory (or past ARRAY_JSON_MAX, which no line of the shipper
 * reaches). */
static int as_json_text(struct sl_event *ev, struct sl_value *v)
{
    struct sl_buf b;
    sl_buf_init(&b, ARRAY_JSON_MAX);
    int rc = sl_value_write_json(v, &b, NULL);
    char *s = rc == 0 ? sl_event_strdup(ev, b.ptr, b.len) : NULL;
    size_t len = b.len;
    sl_buf_release(&b);
    if (s == NULL)
        return -1;
    v->type = SL_VALUE_STRING;
    v->text = (struct sl_slice){s, len};
    v->first = v->last = NULL;
    return 0;
}

static int walk(struct sl_event *ev, struct sl_value *v, bool keep_tags);

/* An array, a member of an object under *key. */
static int fix_array(struct sl_event *ev, struct sl_value *a,
                     struct sl_slice *key)
{
    struct kinds k = {false, false, false};
    kinds_of(a, &k);
    if (k.object && (k.boolean || k.other)) {
        if (as_json_text(ev, a) < 0 ||
            (*key = proc_json_aside_key(ev, *key)).ptr == NULL)
            return -1;
        return 0;
    }
    if (k.boolean && k.other)
        booleans_as_strings(a);
    return walk(ev, a, false);
}

/* The arrays of v (an object or an array), at any depth. keep_tags: v
 * is the line merged at the top, whose "tags" merge_tags reads. */
static int walk(struct sl_event *ev, struct sl_value *v, bool keep_tags)
{
    for (struct sl_value *m = v->first; m != NULL; m = m->next) {
        if (m->type == SL_VALUE_OBJECT) {
            if (walk(ev, m, false) < 0)
                return -1;
        } else if (m->type == SL_VALUE_ARRAY && v->type == SL_VALUE_OBJECT) {
            if (keep_tags && sl_slice_eq(m->key, "tags", 4))
                continue;
            if (fix_array(ev, m, &m->key) < 0)
                return -1;
        } else if (m->type == SL_VALUE_ARRAY && walk(ev, m, false) < 0) {
            return -1;
        }
    }
    return 0;
}

int proc_json_arrays(struct sl_event *ev, struct sl_value *v, bool top)
{
    if (v->type == SL_VALUE_ARRAY) {
        struct kinds k = {false, false, false};
        kinds_of(v, &k);
        if (k.object && (k.boolean || k.other)) /* a line that is one */
            return as_json_text(ev, v);
        if (k.boolean && k.other)
            booleans_as_strings(v);
    }
    return walk(ev, v, top);
}

int proc_json_mixed_as_text(struct sl_event *ev, struct sl_value *a)
{
    struct kinds k = {false, false, false};
    kinds_of(a, &k);
    return k.object && (k.boolean || k.other) ? as_json_text(ev, a) : 0;
}
