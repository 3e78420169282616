/* proc_json_loguru.c: loguru's serialized JSON (Python's loguru,
 * logger.add(sink, serialize=True)) for the json processor. Each line is
 * {"text": the line as formatted, the traceback after it, "record":
 * {"message", "level": {"name", "no", "icon"}, "name" (the module's
 * logger), "file": {"name", "path"}, "line", "function", "process":
 * {"id", "name"}, "thread": {"id", "name"}, "time": {"repr",
 * "timestamp"}, "exception": {"type", "value", "traceback"} or null,
 * "extra", "elapsed", "module"}}: the message is not at the top, so the
 * event's message was the whole line and it had no level.
 *
 * The record's fields go where the line's own keys would (proc_json.c):
 * message, log.level, log.logger, log.origin.file.name / .file.line /
 * .function, process.pid / .name, process.thread.id / .name, error.type
 * and error.message (an exception's type and value), and @timestamp from
 * time.timestamp (seconds since the epoch; the line has no @timestamp);
 * they leave the record, whose other members (extra, elapsed, module, a
 * level's icon and number) stay under "record". The text goes to
 * error.stack_trace when the record has an exception (the traceback processor
 * reads it there and keeps the traceback), else to event.original (the line as
 * written).
 *
 * A line is loguru's when it has exactly two members, a string "text"
 * and an object "record" whose "message" is a string and "level" an
 * object: no other logger writes that. A field of the record that is not
 * of its type stays in the record. */
#include <string.h>

#include "process_priv.h"
#include "sl_ascii.h"
#include "sl_date.h"

/* A field of the record (a path of at most two keys) and its ECS name. */
struct move {
    const char *key, *sub, *ecs;
    enum sl_value_type type;
};

static const struct move moves[] = {
    {"message", NULL, "message", SL_VALUE_STRING},
    {"level", "name", "log.level", SL_VALUE_STRING},
    {"name", NULL, "log.logger", SL_VALUE_STRING},
    {"file", "path", "log.origin.file.name", SL_VALUE_STRING},
    {"line", NULL, "log.origin.file.line", SL_VALUE_NUMBER},
    {"function", NULL, "log.origin.function", SL_VALUE_STRING},
    {"process", "id", "process.pid", SL_VALUE_NUMBER},
    {"process", "name", "process.name", SL_VALUE_STRING},
    {"thread", "id", "process.thread.id", SL_VALUE_NUMBER},
    {"thread", "name", "process.thread.name", SL_VALUE_STRING},
    {"exception", "type", "error.type", SL_VALUE_STRING},
    {"exception", "value", "error.message", SL_VALUE_STRING},
};
#define NMOVES (sizeof moves / sizeof moves[0])

/* "1733389200.123456", seconds: its milliseconds, false if it is no such
 * number (or past year 9999). */
static bool epoch_ms(struct sl_slice t, int64_t *ms)
{
    size_t i = 0;
    int64_t v = 0;
    for (; i < t.len && sl_ascii_digit(t.ptr[i]); i++) {
        if (i >= 12)
            return false;
        v = v * 10 + (t.ptr[i] - '0');
    }
    if (i == 0 || (i < t.len && t.ptr[i] != '.'))
        return false;
    int64_t frac = 0;
    size_t d = 0;
    for (i++; i < t.len; i++, d++) {
        if (!sl_ascii_digit(t.ptr[i]))
            return false;
        if (d < 3)
            frac = frac * 10 + (t.ptr[i] - '0');
    }
    for (; d < 3; d++)
        frac *= 10;
    *ms = v * 1000 + frac;
    return true;
}

static int timestamp(struct sl_event *ev, struct sl_value *line,
                     struct sl_value *record)
{
    struct sl_value *t =
        proc_json_child(proc_json_child(record, "time"), "timestamp");
    int64_t ms;
    if (t == NULL || t->type != SL_VALUE_NUMBER || !epoch_ms(t->text, &ms))
        return 0;
    char *iso = sl_arena_alloc(ev->arena, SL_DATE_ISO8601_SIZE);
    if (iso == NULL)
        return -1;
    if (sl_date_format_iso8601_ms(ms, iso) < 0)
        return 0;
    proc_json_unlink_key(record, SL_SLICE_LIT("time"));
    return proc_json_link_new(ev, line, SL_VALUE_STRING,
                              SL_SLICE_LIT("@timestamp"),
                              (struct sl_slice){iso, SL_DATE_ISO8601_SIZE - 1});
}

static bool loguru_line(struct sl_value *line, struct sl_value **text,
                        struct sl_value **record)
{
    struct sl_value *a = line->first, *b = a != NULL ? a->next : NULL;
    if (b == NULL || b->next != NULL)
        return false;
    *text = proc_json_child(line, "text");
    *record = proc_json_child(line, "record");
    struct sl_value *m = proc_json_child(*record, "message");
    struct sl_value *l = proc_json_child(*record, "level");
    return *text != NULL && (*text)->type == SL_VALUE_STRING &&
           *record != NULL && (*record)->type == SL_VALUE_OBJECT && m != NULL &&
           m->type == SL_VALUE_STRING && l != NULL &&
           l->type == SL_VALUE_OBJECT;
}

int proc_json_loguru(struct sl_event *ev, struct sl_value *line)
{
    struct sl_value *text, *record;
    if (!loguru_line(line, &text, &record))
        return 0;
    struct sl_value *exc = proc_json_child(record, "exception");
    text->key = exc != NULL && exc->type == SL_VALUE_OBJECT
                    ? SL_SLICE_LIT("error.stack_trace")
                    : SL_SLICE_LIT("event.original");
    text->key_plain = true;
    if (timestamp(ev, line, record) < 0)
        return -1;
    for (size_t i = 0; i < NMOVES; i++) {
        const struct move *mv = &moves[i];
        struct sl_value *top = proc_json_child(record, mv->key);
        struct sl_value *v =
            mv->sub != NULL ? proc_json_child(top, mv->sub) : top;
        if (v == NULL || v->type != mv->type)
            continue;
        if (proc_json_link_new(ev, line, mv->type, sl_slice_from(mv->ecs),
                               v->text) < 0)
            return -1;
        proc_json_unlink_key(mv->sub != NULL ? top : record, v->key);
    }
    /* the objects the moves emptied (process, thread); a level's icon
     * and number, a file's short name stay */
    static const char *const spent[] = {"level", "file", "process", "thread",
                                        "exception"};
    for (size_t i = 0; i < sizeof spent / sizeof spent[0]; i++) {
        struct sl_value *o = proc_json_child(record, spent[i]);
        if (o != NULL && o->type == SL_VALUE_OBJECT && o->first == NULL)
            proc_json_unlink_key(record, o->key);
    }
    return 0;
}
