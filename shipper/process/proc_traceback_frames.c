/* proc_traceback_frames.c: the stacks JSON loggers write as arrays of
 * objects, as the text their language prints, so the traceback processor
 * reads them as it reads a stack in a string:
 *
 *   zerolog's pkgerrors marshaler ("stack"):
 *     [{"func": "connect", "line": "42", "source": "db.go"}, ...]
 *     -> "connect\n\tdb.go:42\n..." (a Go stack with no header)
 *   structlog's dict_tracebacks ("exception"), the raised exception
 *   first, then its causes:
 *     [{"exc_type": "ValueError", "exc_value": "bad", "is_cause": false,
 *       "frames": [{"filename": "/app/x.py", "lineno": 3, "name": "f"}]}]
 *     -> "Traceback (most recent call last):\n  File \"/app/x.py\", line
 *        3, in f\nValueError: bad", the causes first as Python prints them.
 *
 * The text is written in the event's arena; anything else is no stack. */
#include <string.h>

#include "proc_traceback_frames.h"
#include "sl_buf.h"

/* Past this much text a rendered stack is cut (Elasticsearch keeps at most
 * 32 KiB of a keyword; the events' own limits bound the input). */
#define FRAMES_MAX_TEXT (1u << 20)

/* The text of obj's member key (a string or a number); empty if none. */
static struct sl_slice member(const struct sl_value *obj, const char *key)
{
    size_t n = strlen(key);
    for (const struct sl_value *m = obj->first; m != NULL; m = m->next)
        if (sl_slice_eq(m->key, key, n) &&
            (m->type == SL_VALUE_STRING || m->type == SL_VALUE_NUMBER))
            return m->text;
    return (struct sl_slice){0};
}

static const struct sl_value *member_value(const struct sl_value *obj,
                                           const char *key)
{
    size_t n = strlen(key);
    for (const struct sl_value *m = obj->first; m != NULL; m = m->next)
        if (sl_slice_eq(m->key, key, n))
            return m;
    return NULL;
}

static int put(struct sl_buf *b, struct sl_slice s, struct sl_err *err)
{
    return sl_buf_append(b, s.ptr, s.len, err);
}

/* zerolog's frames: every element an object with a "func". */
static int render_go(struct sl_buf *b, const struct sl_value *v,
                     struct sl_err *err)
{
    for (const struct sl_value *f = v->first; f != NULL; f = f->next) {
        struct sl_slice fn = member(f, "func"), src = member(f, "source"),
                        line = member(f, "line");
        if (fn.len == 0 || src.len == 0)
            return 1;
        if (put(b, fn, err) < 0 || sl_buf_append_str(b, "\n\t", err) < 0 ||
            put(b, src, err) < 0 || sl_buf_append_char(b, ':', err) < 0 ||
            put(b, line, err) < 0 || sl_buf_append_char(b, '\n', err) < 0)
            return -1;
    }
    return 0;
}

/* One exception of structlog's list: its frames and its line. */
static int render_py_one(struct sl_buf *b, const struct sl_value *e,
                         struct sl_err *err)
{
    struct sl_slice type = member(e, "exc_type"),
                    value = member(e, "exc_value");
    const struct sl_value *frames = member_value(e, "frames");
    if (type.len == 0)
        return 1;
    if (sl_buf_append_str(b, "Traceback (most recent call last):\n", err) < 0)
        return -1;
    for (const struct sl_value *f =
             frames && frames->type == SL_VALUE_ARRAY ? frames->first : NULL;
         f != NULL; f = f->next) {
        if (f->type != SL_VALUE_OBJECT)
            return 1;
        struct sl_slice file = member(f, "filename"),
                        line = member(f, "lineno"), name = member(f, "name");
        if (sl_buf_append_str(b, "  File \"", err) < 0 ||
            put(b, file, err) < 0 ||
            sl_buf_append_str(b, "\", line ", err) < 0 ||
            put(b, line, err) < 0 || sl_buf_append_str(b, ", in ", err) < 0 ||
            put(b, name, err) < 0 || sl_buf_append_char(b, '\n', err) < 0)
            return -1;
    }
    if (put(b, type, err) < 0)
        return -1;
    if (value.len > 0 &&
        (sl_buf_append_str(b, ": ", err) < 0 || put(b, value, err) < 0))
        return -1;
    return sl_buf_append_char(b, '\n', err);
}

/* structlog's list, the last (innermost cause) first, each joined to the
 * next by the line Python prints: "direct cause" when it is a __cause__
 * (its "is_cause"), else "During handling". */
static int render_py(struct sl_buf *b, const struct sl_value *v,
                     struct sl_err *err)
{
    const struct sl_value *all[64];
    size_t n = 0;
    for (const struct sl_value *e = v->first; e != NULL && n < 64; e = e->next)
        all[n++] = e;
    while (n-- > 0) {
        int rc = render_py_one(b, all[n], err);
        if (rc != 0)
            return rc;
        if (n == 0)
            break;
        const struct sl_value *cause = member_value(all[n], "is_cause");
        bool direct = cause != NULL && cause->type == SL_VALUE_BOOL &&
                      sl_slice_eq(cause->text, "true", 4);
        if (sl_buf_append_str(
                b,
                direct ? "\nThe above exception was the direct cause of the "
                         "following exception:\n\n"
                       : "\nDuring handling of the above exception, another "
                         "exception occurred:\n\n",
                err) < 0)
            return -1;
    }
    return 0;
}

bool tb_frames_text(struct sl_event *ev, const struct sl_value *v,
                    struct sl_slice *out)
{
    if (v == NULL || v->type != SL_VALUE_ARRAY || v->first == NULL)
        return false;
    for (const struct sl_value *e = v->first; e != NULL; e = e->next)
        if (e->type != SL_VALUE_OBJECT)
            return false;
    bool go = member(v->first, "func").len > 0;
    if (!go && member(v->first, "exc_type").len == 0)
        return false;
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, FRAMES_MAX_TEXT);
    int rc = go ? render_go(&b, v, &err) : render_py(&b, v, &err);
    char *text = rc == 0 ? sl_event_strdup(ev, b.ptr, b.len) : NULL;
    *out = (struct sl_slice){text, text ? b.len : 0};
    sl_buf_release(&b);
    return text != NULL;
}
