/* proc_event.c: the event operations processors need that sl_event.h does
 * not offer: taking a value out (remove, rename), putting a whole value
 * (an object with its members) at a path (rename), reading a field's text.
 *
 * They work on the tree sl_event.h exposes (members are a singly linked list
 * with a last pointer); nothing is copied: a detached value keeps its
 * members, and a graft makes the slot share them. Memory of a detached value
 * stays in the arena until the owner resets it. */
#include <string.h>

#include "process_priv.h"

static bool same(struct sl_slice a, struct sl_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

struct sl_value *proc_event_detach(struct sl_event *ev,
                                   const struct sl_fieldpath *path)
{
    struct sl_value *parent = &ev->root;
    if (path->nseg == 0)
        return NULL;
    for (unsigned i = 0; i + 1 < path->nseg; i++) {
        struct sl_value *v = parent->first;
        while (v != NULL && !same(v->key, path->seg[i]))
            v = v->next;
        if (v == NULL || v->type != SL_VALUE_OBJECT)
            return NULL;
        parent = v;
    }
    struct sl_value *prev = NULL, *v = parent->first;
    while (v != NULL && !same(v->key, path->seg[path->nseg - 1])) {
        prev = v;
        v = v->next;
    }
    if (v == NULL)
        return NULL;
    if (prev != NULL)
        prev->next = v->next;
    else
        parent->first = v->next;
    if (parent->last == v)
        parent->last = prev;
    v->next = NULL;
    return v;
}

int proc_event_graft(struct sl_event *ev, const struct sl_fieldpath *path,
                     const struct sl_value *v, struct sl_err *err)
{
    /* sl_event_put makes the slot (and the objects on the way); then the
     * slot takes v's content. */
    if (sl_event_put(ev, path, SL_VALUE_STRING, "", 0, err) < 0)
        return -1;
    struct sl_value *slot = sl_event_get(ev, path);
    if (slot == NULL) /* [tags][x] went to [_tags][x]: already reported */
        return 0;
    slot->type = v->type;
    slot->text = v->text;
    slot->first = v->first;
    slot->last = v->last;
    return 0;
}

bool proc_event_text(const struct sl_event *ev, const struct sl_fieldpath *path,
                     struct sl_slice *out)
{
    return proc_value_text(sl_event_get(ev, path), out);
}

bool proc_value_text(const struct sl_value *v, struct sl_slice *out)
{
    if (v == NULL || (v->type != SL_VALUE_STRING &&
                      v->type != SL_VALUE_NUMBER && v->type != SL_VALUE_BOOL))
        return false;
    *out = v->text;
    return true;
}

void proc_event_tag(struct sl_event *ev, const char *tag)
{
    struct sl_err err;
    /* Out of memory: the event goes on untagged; the processor's failure
     * counter still says it failed. */
    SL_IGNORE_RESULT(sl_event_add_tag(ev, tag, &err));
}

int proc_fieldpath(struct sl_fieldpath *p, const struct sl_config_node *n,
                   const char *text, struct sl_err *err)
{
    struct sl_err e;
    if (sl_fieldpath_parse(p, text, strlen(text), &e) < 0)
        return sl_config_error(n, err, "%s", e.msg); /* it quotes text */
    return 0;
}
