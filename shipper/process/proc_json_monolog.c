/* proc_json_monolog.c: PHP's Monolog (its JsonFormatter: Laravel's and
 * Symfony's JSON logs) for the json processor. An exception logged with
 * a record is in its context, as Monolog normalises it:
 * {"context": {"exception": {"class": "RuntimeException", "message":
 * "boom", "code": 0, "file": "/var/www/src/Kernel.php:42", "trace":
 * [...]}}}. Its class and message go to ECS's error.type and
 * error.message, and its "file" ("path:line", where it was thrown) to
 * log.origin.file.name and .line, so Kibana counts PHP's crashes as it
 * counts the others'. The context keeps the exception as it is.
 *
 * Only when the exception's "class" is a string and the line has no
 * "error" of its own (nor "log", for the crash site). Monolog's
 * "level_name" is proc_json.c's (its log.level aliases). */
#include "process_priv.h"

static int add(struct sl_event *ev, struct sl_value *line,
               enum sl_value_type type, const char *key, struct sl_slice text)
{
    return proc_json_link_new(ev, line, type, sl_slice_from(key), text);
}

int proc_json_monolog(struct sl_event *ev, struct sl_value *line)
{
    struct sl_value *exc =
        proc_json_child(proc_json_child(line, "context"), "exception");
    struct sl_value *cls = proc_json_child(exc, "class");
    if (cls == NULL || cls->type != SL_VALUE_STRING || cls->text.len == 0 ||
        proc_json_child(line, "error") != NULL ||
        proc_json_child(line, "error.type") != NULL ||
        proc_json_child(line, "error.message") != NULL)
        return 0;
    struct sl_value *msg = proc_json_child(exc, "message"),
                    *file = proc_json_child(exc, "file");
    if (add(ev, line, SL_VALUE_STRING, "error.type", cls->text) < 0 ||
        (msg != NULL && msg->type == SL_VALUE_STRING &&
         add(ev, line, SL_VALUE_STRING, "error.message", msg->text) < 0))
        return -1;
    struct sl_slice path, no;
    if (file == NULL || file->type != SL_VALUE_STRING ||
        proc_json_child(line, "log") != NULL ||
        !proc_json_path_line(file->text, &path, &no))
        return 0;
    if (add(ev, line, SL_VALUE_STRING, "log.origin.file.name", path) < 0 ||
        add(ev, line, SL_VALUE_NUMBER, "log.origin.file.line", no) < 0)
        return -1;
    return 0;
}
