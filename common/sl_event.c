/* sl_event.c: the event tree (see header for ownership).
 *
 * Lookups scan members linearly: events have tens of fields and objects a
 * handful of members, where a scan beats hashing. Writing is a recursive walk
 * bounded by the depth a field path or parsed JSON can have. */
#include "sl_event.h"

#include <string.h>

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

static struct sl_value *find_member(const struct sl_value *obj,
                                    struct sl_slice key)
{
    for (struct sl_value *v = obj->first; v != NULL; v = v->next)
        if (v->key.len == key.len && memcmp(v->key.ptr, key.ptr, key.len) == 0)
            return v;
    return NULL;
}

static struct sl_value *
append_child(struct sl_event *ev, struct sl_value *parent, struct sl_slice key)
{
    struct sl_value *v = sl_arena_calloc(ev->arena, sizeof *v);
    if (v == NULL)
        return NULL;
    v->key = key;
    if (parent->last != NULL)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
    return v;
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

/* The slot for path's last segment, created (as null) when absent. */
static struct sl_value *slot_for(struct sl_event *ev,
                                 const struct sl_fieldpath *path,
                                 struct sl_err *err)
{
    struct sl_value *v = &ev->root;
    for (unsigned i = 0; i < path->nseg; i++) {
        if (v->type == SL_VALUE_NULL) {
            v->type = SL_VALUE_OBJECT;
        } else if (v->type != SL_VALUE_OBJECT) {
            sl_err_set(err, SL_EINVAL,
                       "field '%.*s' holds a value, not an object, so '%s' "
                       "cannot be set",
                       (int)path->seg[i - 1].len, path->seg[i - 1].ptr,
                       path->text);
            return NULL;
        }
        struct sl_value *child = find_member(v, path->seg[i]);
        if (child == NULL)
            child = append_child(ev, v, path->seg[i]);
        if (child == NULL) {
            sl_err_set(err, SL_ENOMEM, "out of memory building an event");
            return NULL;
        }
        v = child;
    }
    return v;
}

static void set_scalar(struct sl_value *v, enum sl_value_type type,
                       const char *text, size_t len)
{
    v->type = type;
    v->text.ptr = text;
    v->text.len = len;
    v->first = v->last = NULL;
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

int sl_event_add(struct sl_event *ev, const struct sl_fieldpath *path,
                 enum sl_value_type type, const char *text, size_t len,
                 struct sl_err *err)
{
    struct sl_value *v = slot_for(ev, path, err);
    if (v == NULL)
        return -1;
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
        struct sl_value *old = sl_arena_calloc(ev->arena, sizeof *old);
        if (old == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory");
        set_scalar(old, v->type, v->text.ptr, v->text.len);
        v->type = SL_VALUE_ARRAY;
        v->first = v->last = old;
    }
    struct sl_value *elem = append_child(ev, v, (struct sl_slice){NULL, 0});
    if (elem == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    set_scalar(elem, type, text, len);
    return 0;
}

int sl_event_put_top(struct sl_event *ev, const char *key,
                     enum sl_value_type type, const char *text, size_t len,
                     struct sl_err *err)
{
    struct sl_slice k = sl_slice_from(key);
    struct sl_value *v = find_member(&ev->root, k);
    if (v == NULL)
        v = append_child(ev, &ev->root, k);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    set_scalar(v, type, text, len);
    return 0;
}

int sl_event_add_tag(struct sl_event *ev, const char *tag, struct sl_err *err)
{
    if (sl_event_has_tag(ev, tag))
        return 0;
    struct sl_slice k = SL_SLICE_LIT("tags");
    struct sl_value *tags = find_member(&ev->root, k);
    if (tags == NULL)
        tags = append_child(ev, &ev->root, k);
    if (tags == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    if (tags->type != SL_VALUE_ARRAY) {
        /* A "tags" string captured from the line: keep it as an element. */
        struct sl_value old = *tags;
        tags->type = SL_VALUE_ARRAY;
        tags->first = tags->last = NULL;
        if (old.type == SL_VALUE_STRING) {
            struct sl_value *e = append_child(ev, tags, (struct sl_slice){0});
            if (e == NULL)
                return sl_err_set(err, SL_ENOMEM, "out of memory");
            set_scalar(e, SL_VALUE_STRING, old.text.ptr, old.text.len);
        }
    }
    struct sl_value *e = append_child(ev, tags, (struct sl_slice){NULL, 0});
    if (e == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    set_scalar(e, SL_VALUE_STRING, tag, strlen(tag));
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

char *sl_event_strdup(struct sl_event *ev, const char *s, size_t len)
{
    return sl_arena_strndup(ev->arena, s, len);
}

static int write_value(const struct sl_value *v, struct sl_buf *out,
                       struct sl_err *err);

/* Members or elements of v; at the root, @metadata is skipped. */
static int write_children(const struct sl_value *v, struct sl_buf *out,
                          bool root, struct sl_err *err)
{
    bool object = v->type == SL_VALUE_OBJECT;
    bool first = true;
    if (sl_buf_append_char(out, object ? '{' : '[', err) < 0)
        return -1;
    for (const struct sl_value *c = v->first; c != NULL; c = c->next) {
        if (root && sl_slice_eq(c->key, "@metadata", 9))
            continue;
        if (!first && sl_buf_append_char(out, ',', err) < 0)
            return -1;
        first = false;
        if (object) {
            if (sl_json_write_string(out, c->key.ptr, c->key.len, err) < 0 ||
                sl_buf_append_char(out, ':', err) < 0)
                return -1;
        }
        if (write_value(c, out, err) < 0)
            return -1;
    }
    return sl_buf_append_char(out, object ? '}' : ']', err);
}

static int write_value(const struct sl_value *v, struct sl_buf *out,
                       struct sl_err *err)
{
    switch (v->type) {
    case SL_VALUE_NULL:
        return sl_buf_append(out, "null", 4, err);
    case SL_VALUE_BOOL:
    case SL_VALUE_NUMBER:
        return sl_buf_append(out, v->text.ptr, v->text.len, err);
    case SL_VALUE_STRING:
        return sl_json_write_string(out, v->text.ptr, v->text.len, err);
    case SL_VALUE_OBJECT:
    case SL_VALUE_ARRAY:
        return write_children(v, out, false, err);
    }
    return sl_err_set(err, SL_EINVAL, "corrupt event value");
}

int sl_event_write_json(const struct sl_event *ev, struct sl_buf *out,
                        struct sl_err *err)
{
    return write_children(&ev->root, out, true, err);
}
