/* sl_event.c: the event tree (see header for ownership).
 *
 * Lookups scan members linearly: events have tens of fields and objects a
 * handful of members, where a scan beats hashing. A caller adding many
 * paths (grok) scans the root once per first segment, and not at all for a
 * name sl_event_root_keys shows is not there (sl_event_add_under).
 * Writing is a recursive walk bounded by the depth a field path or parsed
 * JSON can have; a value marked rendered is copied from its JSON instead,
 * once a walk of pointer compares (no bytes written, none escaped) has
 * found it as it was rendered. */
#include "sl_event.h"

#include <stdlib.h>
#include <string.h>

#include "sl_copy.h"
#include "sl_json.h"

void sl_event_init(struct sl_event *ev, struct sl_arena *arena)
{
    memset(ev, 0, sizeof *ev);
    ev->arena = arena;
    ev->root.type = SL_VALUE_OBJECT;
}

void sl_event_reset(struct sl_event *ev)
{
    ev->root.first = NULL;
    ev->root.last = NULL;
}

static bool same_key(struct sl_slice a, struct sl_slice b)
{
    /* Paths compiled together share their segments' bytes (grok interns
     * them), so equal keys are often the same pointer. */
    /* The last byte too before memcmp: keys of one length often share
     * their first ("host", "http"). */
    return a.len == b.len &&
           (a.ptr == b.ptr || (a.len > 0 && a.ptr[0] == b.ptr[0] &&
                               a.ptr[a.len - 1] == b.ptr[a.len - 1] &&
                               memcmp(a.ptr, b.ptr, a.len) == 0));
}

static struct sl_value *find_member(const struct sl_value *obj,
                                    struct sl_slice key)
{
    for (struct sl_value *v = obj->first; v != NULL; v = v->next)
        if (same_key(v->key, key))
            return v;
    return NULL;
}

static inline struct sl_value *append_child(struct sl_event *ev,
                                            struct sl_value *parent,
                                            struct sl_slice key, bool key_plain)
{
    struct sl_value *v = sl_arena_alloc(ev->arena, sizeof *v);
    if (v == NULL)
        return NULL;
    *v = (struct sl_value){.key = key, .key_plain = key_plain};
    if (parent->last != NULL)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
    return v;
}

static struct sl_value *append_element(struct sl_event *ev,
                                       struct sl_value *array)
{
    return append_child(ev, array, (struct sl_slice){NULL, 0}, true);
}

struct sl_value *sl_event_get(const struct sl_event *ev,
                              const struct sl_fieldpath *path)
{
    const struct sl_value *v = &ev->root;
    for (unsigned i = 0; i < path->nseg; i++) {
        if (v->type != SL_VALUE_OBJECT)
            return NULL;
        v = find_member(v, path->seg[i]);
        if (v == NULL)
            return NULL;
    }
    return (struct sl_value *)v;
}

static int add_tag(struct sl_event *ev, const char *tag);

/* Walks path's segments from i on, down from v, making what is missing
 * (as null, made an object when a segment goes through it). first stands
 * for seg[0]. fresh: v was just made, so it has no members to look for. */
static inline struct sl_value *descend(struct sl_event *ev, struct sl_value *v,
                                       const struct sl_fieldpath *path,
                                       unsigned i, struct sl_slice first,
                                       bool fresh, struct sl_err *err)
{
    for (; i < path->nseg; i++) {
        struct sl_slice seg = i == 0 ? first : path->seg[i];
        if (v->type == SL_VALUE_NULL) {
            v->type = SL_VALUE_OBJECT;
        } else if (v->type != SL_VALUE_OBJECT) {
            struct sl_slice up = i == 1 ? first : path->seg[i - 1];
            sl_err_set(err, SL_EINVAL,
                       "field '%.*s' holds a value, not an object, so '%s' "
                       "cannot be set",
                       (int)up.len, up.ptr, path->text);
            return NULL;
        }
        struct sl_value *child = fresh ? NULL : find_member(v, seg);
        if (child == NULL) {
            child = append_child(ev, v, seg, path->plain >> i & 1u);
            fresh = true;
        }
        if (child == NULL) {
            sl_err_set(err, SL_ENOMEM, "out of memory building an event");
            return NULL;
        }
        v = child;
    }
    return v;
}

static inline bool into_tags(const struct sl_fieldpath *path)
{
    return path->nseg > 1 && path->seg[0].len == 4 &&
           memcmp(path->seg[0].ptr, "tags", 4) == 0;
}

/* The slot for path's last segment, created (as null) when absent. A path
 * into "tags" ([tags][x]) goes to [_tags][x] instead, and the event is
 * tagged _tagsparsefailure: "tags" holds strings only (see
 * sl_event_add_tag). */
static struct sl_value *slot_for(struct sl_event *ev,
                                 const struct sl_fieldpath *path,
                                 struct sl_err *err)
{
    struct sl_slice first = path->nseg > 0 ? path->seg[0] : SL_SLICE_LIT("");
    if (into_tags(path)) {
        if (add_tag(ev, SL_TAG_TAGSPARSEFAILURE) < 0) {
            sl_err_set(err, SL_ENOMEM, "out of memory building an event");
            return NULL;
        }
        first = SL_SLICE_LIT("_tags");
    }
    return descend(ev, &ev->root, path, 0, first, false, err);
}

static void set_scalar(struct sl_value *v, enum sl_value_type type,
                       const char *text, size_t len)
{
    v->type = type;
    v->text.ptr = text;
    v->text.len = len;
    v->first = v->last = NULL;
}

/* Turns v into an array whose one element is its old value (a scalar, or an
 * object or array with its members); on failure (out of memory) v is left as
 * it was. */
static int promote_to_array(struct sl_event *ev, struct sl_value *v)
{
    struct sl_value *old = sl_arena_alloc(ev->arena, sizeof *old);
    if (old == NULL)
        return -1;
    *old = (struct sl_value){.type = v->type,
                             .text = v->text,
                             .first = v->first,
                             .last = v->last,
                             .key_plain = true};
    v->type = SL_VALUE_ARRAY;
    v->first = v->last = old;
    return 0;
}

int sl_event_put(struct sl_event *ev, const struct sl_fieldpath *path,
                 enum sl_value_type type, const char *text, size_t len,
                 struct sl_err *err)
{
    struct sl_value *v = slot_for(ev, path, err);
    if (v == NULL)
        return -1;
    set_scalar(v, type, text, len);
    return 0;
}

/* Logstash's capture rule (sl_event_add) at v, the slot of path. */
static inline int add_at(struct sl_event *ev, struct sl_value *v,
                         const struct sl_fieldpath *path,
                         enum sl_value_type type, const char *text, size_t len,
                         struct sl_err *err)
{
    if (v->type == SL_VALUE_NULL) {
        set_scalar(v, type, text, len);
        return 0;
    }
    if (v->type == SL_VALUE_OBJECT)
        return sl_err_set(err, SL_EINVAL,
                          "field '%s' holds an object; a value cannot be "
                          "added to it",
                          path->text);
    if (v->type != SL_VALUE_ARRAY) {
        /* Promote: the old scalar becomes the first element. */
        if (promote_to_array(ev, v) < 0)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    struct sl_value *elem = append_element(ev, v);
    if (elem == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    set_scalar(elem, type, text, len);
    return 0;
}

int sl_event_add(struct sl_event *ev, const struct sl_fieldpath *path,
                 enum sl_value_type type, const char *text, size_t len,
                 struct sl_err *err)
{
    struct sl_value *v = slot_for(ev, path, err);
    if (v == NULL)
        return -1;
    return add_at(ev, v, path, type, text, len, err);
}

uint64_t sl_event_root_keys(const struct sl_event *ev)
{
    uint64_t held = 0;
    for (const struct sl_value *v = ev->root.first; v != NULL; v = v->next)
        held |= sl_event_key_bit(v->key);
    return held;
}

int sl_event_add_under(struct sl_event *ev, struct sl_value **top, bool absent,
                       const struct sl_fieldpath *path, enum sl_value_type type,
                       const char *text, size_t len, struct sl_err *err)
{
    if (into_tags(path) || path->nseg == 0)
        return sl_event_add(ev, path, type, text, len, err);
    struct sl_value *v = *top;
    bool fresh = false;
    if (v == NULL) {
        v = absent ? NULL : find_member(&ev->root, path->seg[0]);
        if (v == NULL) {
            v = append_child(ev, &ev->root, path->seg[0], path->plain & 1u);
            fresh = true;
        }
        if (v == NULL)
            return sl_err_set(err, SL_ENOMEM,
                              "out of memory building an event");
        *top = v;
    }
    if (path->nseg > 1) {
        v = descend(ev, v, path, 1, path->seg[0], fresh, err);
        if (v == NULL)
            return -1;
    }
    return add_at(ev, v, path, type, text, len, err);
}

int sl_event_put_top(struct sl_event *ev, const char *key,
                     enum sl_value_type type, const char *text, size_t len,
                     struct sl_err *err)
{
    struct sl_slice k = sl_slice_from(key);
    struct sl_value *v = find_member(&ev->root, k);
    if (v == NULL)
        v = append_child(ev, &ev->root, k,
                         sl_json_plain_prefix(k.ptr, k.len) == k.len);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    set_scalar(v, type, text, len);
    return 0;
}

static int append_tag(struct sl_event *ev, struct sl_value *tags,
                      const char *tag)
{
    struct sl_value *e = append_element(ev, tags);
    if (e == NULL)
        return -1;
    set_scalar(e, SL_VALUE_STRING, tag, strlen(tag));
    return 0;
}

/* tags holds an object: move it to "_tags" (appended there if "_tags" is
 * already set), leave tags an empty array, and tag _tagsparsefailure. On
 * failure, what has moved is in "_tags" and the rest where it was. */
static int move_tags_aside(struct sl_event *ev, struct sl_value *tags)
{
    struct sl_slice k = SL_SLICE_LIT("_tags");
    struct sl_value *aside = find_member(&ev->root, k), *slot;
    if (aside == NULL) {
        slot = append_child(ev, &ev->root, k, true);
    } else {
        if (aside->type != SL_VALUE_ARRAY && promote_to_array(ev, aside) < 0)
            return -1;
        slot = append_element(ev, aside);
    }
    if (slot == NULL)
        return -1;
    slot->type = tags->type;
    slot->first = tags->first;
    slot->last = tags->last;
    tags->type = SL_VALUE_ARRAY;
    tags->first = tags->last = NULL;
    return append_tag(ev, tags, SL_TAG_TAGSPARSEFAILURE);
}

/* sl_event_add_tag without the message: -1 means out of memory. */
static int add_tag(struct sl_event *ev, const char *tag)
{
    if (sl_event_has_tag(ev, tag))
        return 0;
    struct sl_slice k = SL_SLICE_LIT("tags");
    struct sl_value *tags = find_member(&ev->root, k);
    if (tags == NULL)
        tags = append_child(ev, &ev->root, k, true);
    if (tags == NULL)
        return -1;
    int rc = 0;
    if (tags->type == SL_VALUE_NULL) {
        tags->type = SL_VALUE_ARRAY;
        tags->first = tags->last = NULL;
    } else if (tags->type == SL_VALUE_OBJECT) {
        rc = move_tags_aside(ev, tags);
    } else if (tags->type != SL_VALUE_ARRAY) {
        /* A "tags" value captured from the line: keep it as an element. */
        rc = promote_to_array(ev, tags);
    }
    return rc < 0 ? -1 : append_tag(ev, tags, tag);
}

int sl_event_add_tag(struct sl_event *ev, const char *tag, struct sl_err *err)
{
    if (add_tag(ev, tag) < 0)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    return 0;
}

bool sl_event_has_tag(const struct sl_event *ev, const char *tag)
{
    struct sl_value *tags = find_member(&ev->root, SL_SLICE_LIT("tags"));
    if (tags == NULL || tags->type != SL_VALUE_ARRAY)
        return false;
    size_t n = strlen(tag);
    for (struct sl_value *e = tags->first; e != NULL; e = e->next)
        if (e->type == SL_VALUE_STRING && sl_slice_eq(e->text, tag, n))
            return true;
    return false;
}

struct sl_value *sl_event_append(struct sl_event *ev, struct sl_value *obj,
                                 struct sl_slice key, bool key_plain)
{
    return append_child(ev, obj, key, key_plain);
}

void sl_value_set(struct sl_value *v, enum sl_value_type type, const char *text,
                  size_t len)
{
    set_scalar(v, type, text, len);
}

char *sl_event_strdup(struct sl_event *ev, const char *s, size_t len)
{
    return sl_arena_strndup(ev->arena, s, len);
}

void sl_event_set_rendered(struct sl_event *ev,
                           const struct sl_value_json *table, size_t n)
{
    ev->rendered = table;
    ev->nrendered = table != NULL ? n : 0;
}

static inline int write_value(const struct sl_event *ev,
                              const struct sl_value *v, struct sl_buf *out,
                              struct sl_event_shape *sh, struct sl_err *err);

/* Writes sep (the '{' or ',' before a member) and the plain key with its
 * quotes and colon at o; returns the end. Room: key.len + 4. */
static inline char *put_plain_key(char *o, char sep, struct sl_slice key)
{
    o[0] = sep;
    o[1] = '"';
    sl_copy_short(o + 2, key.ptr, key.len);
    o += key.len + 2;
    o[0] = '"';
    o[1] = ':';
    return o + 2;
}

/* Appends sep (the '{' or ',' before a member) and the member's key with
 * its colon; a key that needs no escaping is copied in one reservation. */
static int write_key(struct sl_buf *out, char sep,
                     const struct sl_value *member, struct sl_err *err)
{
    struct sl_slice key = member->key;
    if (!member->key_plain) {
        if (sl_buf_append_char(out, sep, err) < 0 ||
            sl_json_write_string(out, key.ptr, key.len, err) < 0)
            return -1;
        return sl_buf_append_char(out, ':', err);
    }
    if (sl_buf_reserve(out, key.len + 4, err) < 0)
        return -1;
    char *o = put_plain_key(out->ptr + out->len, sep, key);
    *o = '\0';
    out->len = (size_t)(o - out->ptr);
    return 0;
}

/* A string member with a plain key, the most common member, written in one
 * reservation (sep, key, colon, the value escaped): 1. 0: written nothing,
 * as the worst case of its escaping does not fit below the buffer's
 * maximum; the caller writes it piece by piece, which says whether it
 * fits. */
static inline int write_string_member(struct sl_buf *out, char sep,
                                      const struct sl_value *m,
                                      struct sl_err *err)
{
    size_t klen = m->key.len, len = m->text.len;
    if ((klen | len) >> 40 != 0)
        return 0;                                      /* no overflow below */
    size_t need = klen + SL_JSON_ESCAPED_MAX(len) + 6; /* sep "k":"v" */
    if (need > out->max - out->len)
        return 0;
    if (sl_buf_reserve(out, need, err) < 0)
        return -1;
    char *o = put_plain_key(out->ptr + out->len, sep, m->key);
    *o++ = '"';
    o = sl_json_escape_into(o, m->text.ptr, len);
    o[0] = '"';
    o[1] = '\0';
    out->len = (size_t)(o + 1 - out->ptr);
    return 1;
}

static bool is_metadata(struct sl_slice key)
{
    /* '@' first: "timestamp" has the length too */
    return key.len == 9 && key.ptr[0] == '@' &&
           memcmp(key.ptr, "@metadata", 9) == 0;
}

static bool same_shape(const struct sl_value *v, const struct sl_value *s);

/* v's members or elements against s's, in order. The recursion ends at
 * the shape's depth: a deeper v differs there. */
static bool same_children(const struct sl_value *v, const struct sl_value *s)
{
    const struct sl_value *a = v->first, *b = s->first;
    for (; a != NULL && b != NULL; a = a->next, b = b->next)
        if (!same_shape(a, b))
            return false;
    return a == NULL && b == NULL;
}

/* Pointers, not bytes: the shape's owner keeps its bytes unchanged. */
static bool same_shape(const struct sl_value *v, const struct sl_value *s)
{
    if (v->type != s->type || v->key.ptr != s->key.ptr ||
        v->key.len != s->key.len || v->key_plain != s->key_plain)
        return false;
    if (v->type == SL_VALUE_OBJECT || v->type == SL_VALUE_ARRAY)
        return same_children(v, s);
    return v->text.ptr == s->text.ptr && v->text.len == s->text.len;
}

/* v's JSON from the event's table when v is marked and still as it was
 * rendered (the value only: its key is not compared, nor written). */
static const struct sl_value_json *rendered_of(const struct sl_event *ev,
                                               const struct sl_value *v)
{
    if (v->rendered == 0 || v->rendered > ev->nrendered)
        return NULL;
    const struct sl_value_json *r = &ev->rendered[v->rendered - 1];
    if (v->type != r->shape->type || !same_children(v, r->shape))
        return NULL;
    return r;
}

/* A string or number member with a plain key, the most common member of
 * a shape, when sh->val has room: sep, the key and the marker in one
 * reservation (write_key and shape_slot's bytes); 1, or -1. */
static inline int shape_member(struct sl_event_shape *sh, char sep,
                               const struct sl_value *m, struct sl_err *err)
{
    struct sl_buf *out = &sh->text;
    if (sl_buf_reserve(out, m->key.len + 5, err) < 0)
        return -1;
    char *o = put_plain_key(out->ptr + out->len, sep, m->key);
    o[0] = m->type == SL_VALUE_STRING ? SL_SHAPE_STRING : SL_SHAPE_NUMBER;
    o[1] = '\0';
    out->len = (size_t)(o + 1 - out->ptr);
    sh->val[sh->nval++] = m;
    return 1;
}

/* Members or elements of v; at the root, @metadata is skipped. sh: the
 * shape is written (out is sh->text), see sl_event_write_shape. */
static int write_children(const struct sl_event *ev, const struct sl_value *v,
                          struct sl_buf *out, bool root,
                          struct sl_event_shape *sh, struct sl_err *err)
{
    bool object = v->type == SL_VALUE_OBJECT;
    char sep = object ? '{' : '[';
    for (const struct sl_value *c = v->first; c != NULL; c = c->next) {
        if (root && is_metadata(c->key))
            continue;
        /* the common members in one step: a string for the JSON, a
         * string or number for a shape */
        if (object &&
            (c->type == SL_VALUE_STRING ||
             (sh != NULL && c->type == SL_VALUE_NUMBER)) &&
            c->key_plain && c->rendered == 0) {
            int done = sh == NULL ? write_string_member(out, sep, c, err)
                       : sh->nval < sh->cap ? shape_member(sh, sep, c, err)
                                            : 0;
            if (done < 0)
                return -1;
            if (done > 0) {
                sep = ',';
                continue;
            }
        }
        int rc = object ? write_key(out, sep, c, err)
                        : sl_buf_append_char(out, sep, err);
        if (rc < 0)
            return -1;
        const struct sl_value_json *r =
            c->rendered != 0 && ev != NULL ? rendered_of(ev, c) : NULL;
        rc = r != NULL ? sl_buf_append(out, r->json, r->len, err)
                       : write_value(ev, c, out, sh, err);
        if (rc < 0)
            return -1;
        sep = ',';
    }
    if (sep != ',' && sl_buf_append_char(out, sep, err) < 0)
        return -1; /* empty: the opening bracket */
    return sl_buf_append_char(out, object ? '}' : ']', err);
}

/* A string or number of a shape: its marker, and v in sh->val. */
static inline int shape_slot(struct sl_event_shape *sh,
                             const struct sl_value *v, struct sl_err *err)
{
    if (sh->nval == sh->cap) {
        size_t cap = sh->cap > 0 ? 2 * sh->cap : 64;
        const struct sl_value **a = realloc(sh->val, cap * sizeof *a);
        if (a == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for an event");
        sh->val = a;
        sh->cap = cap;
    }
    sh->val[sh->nval++] = v;
    return sl_buf_append_char(
        &sh->text,
        v->type == SL_VALUE_STRING ? SL_SHAPE_STRING : SL_SHAPE_NUMBER, err);
}

static inline int write_value(const struct sl_event *ev,
                              const struct sl_value *v, struct sl_buf *out,
                              struct sl_event_shape *sh, struct sl_err *err)
{
    switch (v->type) {
    case SL_VALUE_NULL:
        return sl_buf_append(out, "null", 4, err);
    case SL_VALUE_BOOL:
        return sl_buf_append(out, v->text.ptr, v->text.len, err);
    case SL_VALUE_NUMBER:
        if (sh != NULL)
            return shape_slot(sh, v, err);
        return sl_buf_append(out, v->text.ptr, v->text.len, err);
    case SL_VALUE_STRING:
        if (sh != NULL)
            return shape_slot(sh, v, err);
        return sl_json_write_string(out, v->text.ptr, v->text.len, err);
    case SL_VALUE_OBJECT:
    case SL_VALUE_ARRAY:
        return write_children(ev, v, out, false, sh, err);
    }
    return sl_err_set(err, SL_EINVAL, "corrupt event value");
}

int sl_event_write_json(const struct sl_event *ev, struct sl_buf *out,
                        struct sl_err *err)
{
    return write_children(ev, &ev->root, out, true, NULL, err);
}

int sl_value_write_json(const struct sl_value *v, struct sl_buf *out,
                        struct sl_err *err)
{
    return write_value(NULL, v, out, NULL, err);
}

void sl_event_shape_init(struct sl_event_shape *sh, size_t max)
{
    memset(sh, 0, sizeof *sh);
    sl_buf_init(&sh->text, max);
}

void sl_event_shape_release(struct sl_event_shape *sh)
{
    sl_buf_release(&sh->text);
    free(sh->val);
    sh->val = NULL;
    sh->nval = sh->cap = 0;
}

int sl_event_write_shape(const struct sl_event *ev, struct sl_event_shape *sh,
                         struct sl_err *err)
{
    sl_buf_reset(&sh->text);
    sh->nval = 0;
    return write_children(ev, &ev->root, &sh->text, true, sh, err);
}
