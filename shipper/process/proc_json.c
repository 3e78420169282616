/* proc_json.c: the json processor: a line that is a JSON object (a JSON
 * log from structlog, logback's encoders, pino, bunyan, zap, an
 * OpenTelemetry exporter) merges into the event, or goes under a target.
 *
 *   {"json": {}}                         "message" merged at the top
 *   {"json": {"field": "message", "target": "app", "max_depth": 32,
 *             "ecs_keys": true}}
 *
 * Parsing: libyajl's callback parser builds the values straight into the
 * event's arena; yajl's own memory comes from the arena too (its free is a
 * no-op), so a line costs no malloc. Strings are copied (yajl hands out
 * unescaped bytes in its own buffer); invalid UTF-8 is kept and replaced
 * when written (DESIGN.md). A key Elasticsearch refuses as a field name
 * (empty, or an empty or blank segment between dots: "", "a..b",
 * "example.com.") gets "_" for each such segment ("_", "a._.b",
 * "example.com._"). A line that does not parse is tried once more with
 * Python's NaN, Infinity and -Infinity (json.dumps's, no JSON) as null.
 * Nesting deeper than max_depth fails the parse.
 * Anything that does not parse (or, without a target, is not an object)
 * leaves the event as it was, tagged _jsonparsefailure.
 *
 * Merging at the top level follows Logstash's json filter: a key of the
 * line overwrites the event's ("message" then holds the log's message, not
 * the line). Dotted keys nest ("log.level": "info" from ecs-logging becomes
 * log.level), at any depth ({"log.origin": {"file.name": "a.go"}} of
 * ecszap, OpenTelemetry's attributes; with a target too), as
 * Elasticsearch would read them, so conditions and rename see them. "tags" (a
 * string or strings) are added to the event's tags (anything else in it,
 * the whole value goes to "_tags" with _tagsparsefailure, Logstash's
 * rule); arrays Elasticsearch refuses (objects and scalars mixed) become
 * their JSON text under "_<key>" (proc_json_arrays.c);
 * "@timestamp" is read by the chain (process.h).
 *
 * ECS keys (ecs_keys, on by default, merging at the top only): well-known
 * keys of JSON logs go to their ECS fields, so the events of one request
 * can be found together across services in Kibana:
 *   trace.id    trace_id traceId traceid TraceId traceID TraceID
 *               otelTraceID dd.trace_id @tr (Serilog)
 *   span.id     span_id spanId spanid SpanId spanID SpanID otelSpanID
 *               dd.span_id @sp; "0x" before the hex digits (OpenTelemetry
 *               Python's console exporters) is dropped
 *   log.level   level_name (PHP's Monolog: its "level" is a number, 400
 *               for ERROR) level severity severity_text severityText
 *               SeverityText levelname (Python logging's JSON formatters)
 *               loglevel log_level LogLevel (.NET) Level lvl @l @level
 *               (HashiCorp's hclog: Vault, Consul, Nomad); pino's and bunyan's
 *               numeric levels (10 ... 60) become trace, debug, info, warn,
 *               error, fatal; a Serilog compact line ("@t") with no "@l"
 *               is "Information"
 *   message     msg (pino, bunyan, zap), event (structlog), body (OTLP;
 *               {"stringValue": s} too), Body (OpenTelemetry Go's
 *               stdoutlog: {"Type": "String", "Value": s} too),
 *               Message (.NET), @message (hclog), when the line has no
 *               "message" of its own; Serilog's compact JSON (CLEF):
 *               "@m", else "@mt" rendered with the line's properties,
 *               as Serilog renders it (CompactJsonFormatter writes the
 *               template only; the template goes to
 *               labels.MessageTemplate: proc_json_clef.c)
 *   log.logger  logger_name (logstash-logback-encoder), logger
 *               (structlog), loggerName (Log4j 2's JsonLayout), Category
 *               (.NET's JSON console formatter), @module (hclog)
 *   error.message  error, err as a string (zap's zap.Error, logrus's
 *               WithError, slog): ECS's error is an object, so the index
 *               template refuses a string there
 *   service.name   service (Datadog's convention), otelServiceName
 *   user.name   user          url.original   url    (strings: objects too
 *               in the template)   user_agent.original   user_agent (Envoy's
 *               access log)
 *   process.pid    process (Python logging's %(process)d), pid (pino,
 *               bunyan): numbers only
 *   process.name   processName       process.thread.name   threadName,
 *               thread_name (logstash-logback-encoder), thread as a
 *               string (Log4j 2's JsonLayout; a number is the id, below)
 *   process.thread.id   thread (Python logging's ident): a number only
 *   log.origin.function   func (logrus's ReportCaller)
 *   log.origin.file.name and .line   file or caller, when it is
 *               "path:line" (logrus's ReportCaller: "main.go:42", zap's
 *               caller "app/main.go:42", hclog's @caller); slog's
 *               "source" object (function, file, line: slog_source)
 *   message     also Rust tracing's "fields": {"message": ...}
 *               (tracing_message)
 * The journal's JSON (journalctl -o json: MESSAGE, PRIORITY,
 * _SYSTEMD_UNIT, ...) goes to Filebeat's journald names and ECS's
 * (proc_json_journald.c); loguru's serialized lines ("text" and
 * "record") to ECS's (proc_json_loguru.c); a Monolog line's exception
 * (context.exception) to error.* and log.origin.* (proc_json_monolog.c).
 * The first key of a group that the line has wins (strings and numbers
 * only: an "error" or "event" object is ECS's own); the ECS name itself,
 * dotted or nested, if the line has it, wins over all. pino's and
 * bunyan's "hostname" stays as it is: host.name is the shipper's (set
 * for every event, what the dashboards and /status group by), and a
 * container's hostname there would split one machine's events.
 *
 * A line's value that is no object never lands where the index template
 * maps an object (proc_json_object_paths, the 137 objects of
 * conf/elasticsearch/sluice-template.json, checked against it by
 * test_process), at the top level or nested: it goes to "_<key>" in its
 * object instead ("host": "$host" of an nginx JSON log becomes "_host",
 * "log": "text" read from stdin "_log", "event": "login" next to a
 * "message" "_event", {"log": {"origin": "a.go:1"}} log._origin, a
 * dotted "log.file": "x" log._file), as Logstash puts a "tags" or
 * "@timestamp" that cannot be read; Elasticsearch would refuse the
 * event, and the indexer send it to the dead letters. null, and arrays
 * of objects and nulls, are taken there and stay. "source" goes to
 * "_source_": "_source" is Elasticsearch's own. A top-level key that is
 * one of Elasticsearch's metadata fields ("_id", "_index", "_routing",
 * ... meta_key) gets a "_" after it ("_id_"): Elasticsearch refuses a
 * document that holds one (MongoDB documents logged whole have "_id").
 * Nor does any value
 * replace an object the event has at the top level (the shipper's host,
 * log and agent, an input's fields). The reverse likewise: an object (or
 * an array holding one) where the template maps a leaf
 * (proc_json_leaf_paths: "message": {...} of a logger that logs a dict,
 * "log.level": {...}, "host": {"name": {...}}) goes to "_<key>"
 * ("_message", "log._level"), and "message" keeps the line.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "process_priv.h"
#include "sl_ascii.h"
#include "sl_json.h"

#define JSON_DEPTH_MAX 64

struct json_opts {
    const struct sl_config_node *when;
    const char *field;
    const char *target;
    long long max_depth;
    bool ecs_keys;
};

#define J(m) SL_OPT_FIELD(struct json_opts, m)
static const struct sl_opt json_opts[] = {
    PROC_WHEN_OPT(struct json_opts),
    {"field", SL_OPT_STRING, J(field), .def = "message",
     .help = "the field that holds the JSON text"},
    {"target", SL_OPT_STRING, J(target), .doc_default = "the top level",
     .help = "put the parsed value under this field instead of merging it"},
    {"max_depth", SL_OPT_INT, J(max_depth), .def = "32", .min = 1,
     .max = JSON_DEPTH_MAX,
     .help = "deepest nesting of objects and arrays accepted"},
    {"ecs_keys", SL_OPT_BOOL, J(ecs_keys), .def = "true",
     .help = "move well-known keys (trace_id, spanId, level, msg, ...) to "
             "their ECS fields"},
    SL_OPT_END};
static const struct sl_config_table json_table = {
    "json", sizeof(struct json_opts), json_opts, NULL};

struct json_proc {
    struct sl_fieldpath field, target;
    bool has_target, ecs_keys;
    unsigned max_depth;
    struct sl_arena *arena; /* the event's, while parsing */
};

/* ---- yajl's memory, from the arena -------------------------------------- */

/* Each block remembers its size, for realloc. */
struct hdr {
    size_t size;
    max_align_t align;
};

static void *arena_malloc(void *ctx, size_t sz)
{
    struct json_proc *jp = ctx;
    struct hdr *h = sl_arena_alloc(jp->arena, sizeof *h + sz);
    if (h == NULL)
        return NULL;
    h->size = sz;
    return h + 1;
}

static void *arena_realloc(void *ctx, void *p, size_t sz)
{
    if (p == NULL)
        return arena_malloc(ctx, sz);
    struct hdr *h = (struct hdr *)p - 1;
    if (sz <= h->size)
        return p;
    void *q = arena_malloc(ctx, sz);
    if (q != NULL)
        memcpy(q, p, h->size);
    return q;
}

static void arena_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p; /* the arena is reset with the batch */
}

/* ---- building values ---------------------------------------------------- */

/* Members of one object checked for a repeated key: a line that repeats
 * one ({"a":1,"a":2}) keeps the last, as Logstash's parser does, since
 * Elasticsearch refuses a document with a duplicate field. Past this many
 * members the check (a walk of the members) is skipped, so an object of
 * 100,000 keys costs no 10^10 compares; the rare duplicate there goes to
 * the dead letters with Elasticsearch's reason. */
#define DEDUP_MAX 256

struct build {
    struct sl_event *ev;
    struct sl_value *stack[JSON_DEPTH_MAX + 1];
    unsigned members[JSON_DEPTH_MAX + 1]; /* of each open object */
    unsigned depth, max_depth;
    struct sl_value *root;
    struct sl_slice key;
};

void proc_json_unlink_key(struct sl_value *obj, struct sl_slice key)
{
    struct sl_value *prev = NULL, *m = obj->first;
    for (; m != NULL; prev = m, m = m->next) {
        if (m->key.len != key.len ||
            (key.len > 0 && memcmp(m->key.ptr, key.ptr, key.len) != 0))
            continue;
        if (prev != NULL)
            prev->next = m->next;
        else
            obj->first = m->next;
        if (obj->last == m)
            obj->last = prev;
        return;
    }
}

static struct sl_value *value_new(struct build *b, enum sl_value_type t)
{
    struct sl_value *v = sl_arena_alloc(b->ev->arena, sizeof *v);
    if (v == NULL)
        return NULL;
    *v = (struct sl_value){.type = t, .key_plain = true};
    if (b->depth == 0) {
        if (b->root != NULL)
            return NULL; /* yajl allows one value only; be sure */
        b->root = v;
        return v;
    }
    struct sl_value *parent = b->stack[b->depth - 1];
    if (parent->type == SL_VALUE_OBJECT) {
        v->key = b->key;
        v->key_plain =
            sl_json_plain_prefix(b->key.ptr, b->key.len) == b->key.len;
        if (b->members[b->depth - 1]++ < DEDUP_MAX)
            proc_json_unlink_key(parent, b->key);
    }
    if (parent->last != NULL)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
    return v;
}

static const char *copy(struct build *b, const unsigned char *s, size_t len)
{
    char *p = sl_arena_alloc(b->ev->arena, len ? len : 1);
    if (p != NULL && len > 0)
        memcpy(p, s, len);
    return p;
}

static int scalar(struct build *b, enum sl_value_type t, const char *s,
                  size_t len)
{
    struct sl_value *v = value_new(b, t);
    if (v == NULL)
        return 0;
    v->text = (struct sl_slice){s, len};
    return 1;
}

static int on_null(void *ctx)
{
    return scalar(ctx, SL_VALUE_NULL, "null", 4);
}

static int on_bool(void *ctx, int val)
{
    return scalar(ctx, SL_VALUE_BOOL, val ? "true" : "false", val ? 4 : 5);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    const char *p = copy(ctx, (const unsigned char *)s, len);
    return p != NULL && scalar(ctx, SL_VALUE_NUMBER, p, len);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    const char *p = copy(ctx, s, len);
    return p != NULL && scalar(ctx, SL_VALUE_STRING, p, len);
}

static int open_container(struct build *b, enum sl_value_type t)
{
    if (b->depth >= b->max_depth)
        return 0;
    struct sl_value *v = value_new(b, t);
    if (v == NULL)
        return 0;
    b->members[b->depth] = 0;
    b->stack[b->depth++] = v;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, SL_VALUE_OBJECT);
}

/* Whether Elasticsearch refuses k as a field name: empty, or with an
 * empty or blank segment between its dots ("", " ", "a..b", ".a",
 * "a."). */
static bool bad_name(const unsigned char *k, size_t len)
{
    bool blank = true;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || k[i] == '.') {
            if (blank)
                return true;
            blank = true;
        } else if (!sl_ascii_space((char)k[i])) {
            blank = false;
        }
    }
    return false;
}

/* k with each empty or blank segment written "_" ("" "_", "a..b" "a._.b",
 * "example.com." "example.com._"), in the arena: at most 2 * len + 1
 * bytes; *n its length. */
static const char *good_name(struct build *b, const unsigned char *k,
                             size_t len, size_t *n)
{
    char *out = sl_arena_alloc(b->ev->arena, 2 * len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && k[i] != '.')
            continue;
        if (bad_name(k + start, i - start)) {
            out[o++] = '_';
        } else {
            memcpy(out + o, k + start, i - start);
            o += i - start;
        }
        if (i < len)
            out[o++] = '.';
        start = i + 1;
    }
    *n = o;
    return out;
}

/* A key Elasticsearch would refuse (the whole event with it) is renamed
 * as good_name says. */
static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    struct build *b = ctx;
    const char *p =
        bad_name(s, len) ? good_name(b, s, len, &len) : copy(b, s, len);
    b->key = (struct sl_slice){p, len};
    return p != NULL;
}

static int on_end(void *ctx)
{
    struct build *b = ctx;
    b->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, SL_VALUE_ARRAY);
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number, /* the text as written: no precision lost */
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end};

/* The value of s[0..len), or NULL if it is not one JSON value. */
static struct sl_value *parse(struct json_proc *jp, struct sl_event *ev,
                              struct sl_slice s)
{
    yajl_alloc_funcs afs = {arena_malloc, arena_realloc, arena_free, jp};
    struct build *b = sl_arena_alloc(ev->arena, sizeof *b);
    if (b == NULL)
        return NULL;
    b->ev = ev;
    b->depth = 0;
    b->max_depth = jp->max_depth;
    b->root = NULL;
    b->key = (struct sl_slice){"", 0};
    jp->arena = ev->arena;
    yajl_handle h = yajl_alloc(&callbacks, &afs, b);
    if (h == NULL)
        return NULL;
    SL_IGNORE_RESULT(yajl_config(h, yajl_dont_validate_strings, 1));
    bool ok =
        yajl_parse(h, (const unsigned char *)s.ptr, s.len) == yajl_status_ok &&
        yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    return ok ? b->root : NULL;
}

/* The length of Python's NaN, Infinity or -Infinity at s[i], ended by a
 * delimiter; 0 when none is there. */
static size_t nonfinite_at(struct sl_slice s, size_t i)
{
    static const char *const words[] = {"NaN", "Infinity", "-Infinity"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t len = strlen(words[w]), end = i + len;
        if (end > s.len || memcmp(s.ptr + i, words[w], len) != 0)
            continue;
        if (end == s.len || s.ptr[end] == ',' || s.ptr[end] == '}' ||
            s.ptr[end] == ']' || sl_ascii_space(s.ptr[end]))
            return len;
    }
    return 0;
}

/* Python's json.dumps (python-json-logger, structlog) writes a float that
 * is not finite as NaN, Infinity or -Infinity, which is no JSON: the line
 * with those values (after ':', ',' or '[', outside strings) written null
 * (Elasticsearch takes no NaN either), in the arena; {NULL, 0} when it has
 * none, or out of memory. */
static struct sl_slice python_nonfinite(struct sl_event *ev, struct sl_slice s)
{
    char *out = NULL;
    size_t o = 0, done = 0;
    bool in_str = false;
    char prev = '\0'; /* the last byte outside strings that is no space */
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        size_t n;
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        if (sl_ascii_space(c))
            continue;
        if ((prev != ':' && prev != ',' && prev != '[') ||
            (n = nonfinite_at(s, i)) == 0) {
            prev = c;
            continue;
        }
        if (out == NULL &&
            (out = sl_arena_alloc(ev->arena, s.len + s.len / 3 + 1)) == NULL)
            return (struct sl_slice){NULL, 0};
        memcpy(out + o, s.ptr + done, i - done);
        o += i - done;
        memcpy(out + o, "null", 4);
        o += 4;
        done = i + n;
        i = done - 1;
        prev = 'l';
    }
    if (out == NULL)
        return (struct sl_slice){NULL, 0};
    memcpy(out + o, s.ptr + done, s.len - done);
    return (struct sl_slice){out, o + s.len - done};
}

/* ---- ECS keys ----------------------------------------------------------- */

struct alias {
    const char *ecs;
    const char *const keys[15];
    bool number; /* numbers only (a "process" string is no pid) */
};

static const struct alias aliases[] = {
    {"trace.id",
     {"trace_id", "traceId", "traceid", "TraceId", "traceID", "TraceID",
      "otelTraceID", "dd.trace_id", "@tr", NULL},
     false},
    {"span.id",
     {"span_id", "spanId", "spanid", "SpanId", "spanID", "SpanID", "otelSpanID",
      "dd.span_id", "@sp", NULL},
     false},
    {"log.level",
     {"level_name", "level", "severity", "severity_text", "severityText",
      "SeverityText", "levelname", "loglevel", "log_level", "LogLevel", "Level",
      "lvl", "@l", "@level", NULL},
     false},
    {"message",
     {"msg", "event", "body", "Body", "Message", "@m", "@mt", "@message", NULL},
     false},
    {"log.logger",
     {"logger_name", "logger", "loggerName", "Category", "@module", NULL},
     false},
    {"error.message", {"error", "err", NULL}, false},
    {"service.name", {"service", "otelServiceName", NULL}, false},
    {"user.name", {"user", NULL}, false},
    {"url.original", {"url", NULL}, false},
    {"user_agent.original", {"user_agent", NULL}, false},
    {"process.pid", {"process", "pid", NULL}, true},
    {"process.name", {"processName", NULL}, false},
    {"process.thread.id", {"thread", NULL}, true},
    {"process.thread.name",
     {"threadName", "thread_name", "thread", NULL},
     false},
    {"log.origin.function", {"func", NULL}, false},
};

/* Called for every key of every group on every line: the first byte is
 * compared before memcmp is. key is not empty. */
struct sl_value *proc_json_member(struct sl_value *obj, struct sl_slice key)
{
    for (struct sl_value *m = obj->first; m != NULL; m = m->next)
        if (m->key.len == key.len &&
            (key.len == 0 || (m->key.ptr[0] == key.ptr[0] &&
                              memcmp(m->key.ptr, key.ptr, key.len) == 0)))
            return m;
    return NULL;
}

static struct sl_value *member(struct sl_value *obj, const char *key)
{
    return proc_json_member(obj, sl_slice_from(key));
}

struct sl_value *proc_json_child(struct sl_value *obj, const char *key)
{
    return obj != NULL && obj->type == SL_VALUE_OBJECT
               ? proc_json_member(obj, sl_slice_from(key))
               : NULL;
}

/* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60
 * fatal. */
static void level_name(struct sl_value *v)
{
    static const char *const names[] = {"trace", "debug", "info",
                                        "warn",  "error", "fatal"};
    if (v->type != SL_VALUE_NUMBER || v->text.len != 2 ||
        v->text.ptr[1] != '0' || v->text.ptr[0] < '1' || v->text.ptr[0] > '6')
        return;
    v->type = SL_VALUE_STRING;
    v->text = sl_slice_from(names[v->text.ptr[0] - '1']);
}

/* The line has the ECS field name, dotted ("log.level") or nested
 * ({"log": {"level": ...}}). */
static bool has_ecs(struct sl_value *obj, const char *name)
{
    if (member(obj, name) != NULL)
        return true;
    const char *dot = strchr(name, '.');
    if (dot == NULL)
        return false;
    for (struct sl_value *m = obj->first; m != NULL; m = m->next)
        if (m->type == SL_VALUE_OBJECT &&
            sl_slice_eq(m->key, name, (size_t)(dot - name)))
            return has_ecs(m, dot + 1);
    return false;
}

static void link(struct sl_value *obj, struct sl_value *v);

/* A new member of obj, last, its key plain: -1 when out of memory. */
int proc_json_link_new(struct sl_event *ev, struct sl_value *obj,
                       enum sl_value_type type, struct sl_slice key,
                       struct sl_slice text)
{
    struct sl_value *v = sl_arena_alloc(ev->arena, sizeof *v);
    if (v == NULL)
        return -1;
    *v = (struct sl_value){
        .type = type, .key = key, .key_plain = true, .text = text};
    link(obj, v);
    return 0;
}

bool proc_json_path_line(struct sl_slice t, struct sl_slice *path,
                         struct sl_slice *line)
{
    const char *s = t.ptr, *colon = NULL;
    for (size_t i = t.len; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    size_t ndig = colon == NULL ? 0 : t.len - (size_t)(colon - s) - 1;
    if (colon == NULL || colon == s || ndig == 0 || ndig > 9 ||
        (ndig > 1 && colon[1] == '0'))
        return false;
    for (size_t i = 1; i <= ndig; i++)
        if (colon[i] < '0' || colon[i] > '9')
            return false;
    *path = (struct sl_slice){s, (size_t)(colon - s)};
    *line = (struct sl_slice){colon + 1, ndig};
    return true;
}

/* logrus's ReportCaller: "file": "main.go:42" (zap: "caller") becomes
 * log.origin.file.name "main.go" and log.origin.file.line 42. Only a
 * string ending in ":" and a line number (no leading zero, at most 9
 * digits) is read so: another "file" (an upload's name) is no caller. */
static int origin_file(struct sl_event *ev, struct sl_value *obj)
{
    struct sl_value *m = member(obj, "file");
    if (m == NULL || m->type != SL_VALUE_STRING)
        m = member(obj, "caller");
    if (m == NULL || m->type != SL_VALUE_STRING)
        m = member(obj, "@caller"); /* HashiCorp's hclog */
    struct sl_slice path, line;
    if (m == NULL || m->type != SL_VALUE_STRING ||
        has_ecs(obj, "log.origin.file.name") ||
        has_ecs(obj, "log.origin.file.line") ||
        !proc_json_path_line(m->text, &path, &line))
        return 0;
    if (proc_json_link_new(ev, obj, SL_VALUE_NUMBER,
                           SL_SLICE_LIT("log.origin.file.line"), line) < 0)
        return -1;
    m->key = SL_SLICE_LIT("log.origin.file.name");
    m->key_plain = true;
    m->text = path;
    return 0;
}

/* Rust's tracing-subscriber JSON keeps the message among the event's
 * fields: {"fields": {"message": "query failed", "error": ...}}. It
 * becomes the line's message when the line has none of its own. */
static int tracing_message(struct sl_event *ev, struct sl_value *obj)
{
    struct sl_value *f = member(obj, "fields");
    if (f == NULL || f->type != SL_VALUE_OBJECT || has_ecs(obj, "message"))
        return 0;
    struct sl_value *m = member(f, "message");
    if (m == NULL || m->type != SL_VALUE_STRING)
        return 0;
    if (proc_json_link_new(ev, obj, SL_VALUE_STRING, SL_SLICE_LIT("message"),
                           m->text) < 0)
        return -1;
    proc_json_unlink_key(f, m->key);
    return 0;
}

/* Go's log/slog with AddSource: "source": {"function": "main.main",
 * "file": "/app/main.go", "line": 21} is the code's place, not ECS's
 * source (the client): log.origin.function, .file.name and .file.line.
 * Only an object of those members, file a string and line a number. */
static int slog_source(struct sl_event *ev, struct sl_value *obj)
{
    struct sl_value *src = member(obj, "source");
    if (src == NULL || src->type != SL_VALUE_OBJECT ||
        has_ecs(obj, "log.origin"))
        return 0;
    struct sl_value *file = member(src, "file"), *line = member(src, "line");
    struct sl_value *fn = member(src, "function");
    if (file == NULL || file->type != SL_VALUE_STRING || line == NULL ||
        line->type != SL_VALUE_NUMBER)
        return 0;
    for (struct sl_value *m = src->first; m != NULL; m = m->next)
        if (m != file && m != line && (m != fn || m->type != SL_VALUE_STRING))
            return 0;
    if ((fn != NULL && proc_json_link_new(ev, obj, SL_VALUE_STRING,
                                          SL_SLICE_LIT("log.origin.function"),
                                          fn->text) < 0) ||
        proc_json_link_new(ev, obj, SL_VALUE_STRING,
                           SL_SLICE_LIT("log.origin.file.name"),
                           file->text) < 0 ||
        proc_json_link_new(ev, obj, SL_VALUE_NUMBER,
                           SL_SLICE_LIT("log.origin.file.line"),
                           line->text) < 0)
        return -1;
    proc_json_unlink_key(obj, src->key);
    return 0;
}

/* Serilog's compact JSON (CLEF) leaves "@l" out for Information, its
 * most common level: a line with "@t" and a message ("@m", "@mt", moved
 * by now) and no level gets log.level "Information". */
static int clef_level(struct sl_event *ev, struct sl_value *obj)
{
    struct sl_value *t = member(obj, "@t");
    if (t == NULL || t->type != SL_VALUE_STRING ||
        (member(obj, "@m") == NULL && member(obj, "@mt") == NULL &&
         member(obj, "message") == NULL) ||
        has_ecs(obj, "log.level"))
        return 0;
    return proc_json_link_new(ev, obj, SL_VALUE_STRING,
                              SL_SLICE_LIT("log.level"),
                              SL_SLICE_LIT("Information"));
}

/* OpenTelemetry's body as its exporters write a string one: OTLP JSON's
 * {"stringValue": "..."}, Go's stdoutlog {"Type": "String", "Value":
 * "..."}: the string itself, so it can be the message. */
static void otel_body(struct sl_value *obj)
{
    static const char *const keys[] = {"body", "Body"};
    for (size_t i = 0; i < 2; i++) {
        struct sl_value *b = member(obj, keys[i]), *v, *t;
        if (b == NULL || b->type != SL_VALUE_OBJECT || b->first == NULL)
            continue;
        if ((v = member(b, "stringValue")) == NULL) {
            v = member(b, "Value");
            t = member(b, "Type");
            if (t == NULL || t->type != SL_VALUE_STRING ||
                !sl_slice_eq(t->text, "String", 6))
                continue;
        }
        if (v == NULL || v->type != SL_VALUE_STRING)
            continue;
        b->type = SL_VALUE_STRING;
        b->text = v->text;
        b->first = b->last = NULL;
    }
}

/* OpenTelemetry Python's console exporters write ids as "0x" and the
 * hex digits: the id other services log is the digits alone. */
static void otel_id(struct sl_value *v)
{
    if (v->type != SL_VALUE_STRING || v->text.len < 3 ||
        v->text.ptr[0] != '0' || (v->text.ptr[1] | 0x20) != 'x')
        return;
    size_t n = v->text.len - 2;
    if (n != 32 && n != 16)
        return;
    for (size_t i = 2; i < v->text.len; i++) {
        char c = (char)(v->text.ptr[i] | 0x20);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return;
    }
    v->text = (struct sl_slice){v->text.ptr + 2, n};
}

static int ecs_keys(struct sl_event *ev, struct sl_value *obj)
{
    /* before the keys move: the template names the line's properties */
    if (proc_json_journald(ev, obj) < 0 || proc_json_clef(ev, obj) < 0 ||
        proc_json_loguru(ev, obj) < 0 || proc_json_monolog(ev, obj) < 0 ||
        origin_file(ev, obj) < 0 || slog_source(ev, obj) < 0)
        return -1;
    otel_body(obj);
    /* has_ecs (two walks of the line) only once a key of the group is
     * there: most lines have few of them */
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
        for (const char *const *k = aliases[a].keys; *k != NULL; k++) {
            struct sl_value *m = member(obj, *k);
            /* a string (or number) only: structlog's "event" is a string,
             * an "event" object is ECS's own */
            if (m == NULL ||
                (m->type != SL_VALUE_STRING && m->type != SL_VALUE_NUMBER) ||
                (aliases[a].number && m->type != SL_VALUE_NUMBER))
                continue;
            if (has_ecs(obj, aliases[a].ecs))
                break;
            if (strcmp(aliases[a].ecs, "log.level") == 0)
                level_name(m);
            if (a < 2) /* trace.id, span.id */
                otel_id(m);
            m->key = sl_slice_from(aliases[a].ecs);
            m->key_plain = true;
            break;
        }
    }
    if (tracing_message(ev, obj) < 0) /* after msg, event, ... moved */
        return -1;
    return clef_level(ev, obj);
}

/* ---- merging ------------------------------------------------------------ */

/* obj's member of that key, among its first DEDUP_MAX members: merging a
 * line of 80,000 top-level keys took 49 s of CPU walking the event's
 * members for each (10^9 compares); the event's own members come first,
 * and past that many a key is taken as new (a duplicate there goes to the
 * dead letters with Elasticsearch's reason, as in parse). */
static struct sl_value *find(struct sl_value *obj, struct sl_slice key)
{
    size_t n = 0;
    for (struct sl_value *m = obj->first; m != NULL && n < DEDUP_MAX;
         m = m->next, n++)
        if (m->key.len == key.len &&
            (key.len == 0 || memcmp(m->key.ptr, key.ptr, key.len) == 0))
            return m;
    return NULL;
}

static void link(struct sl_value *obj, struct sl_value *v)
{
    v->next = NULL;
    if (obj->last != NULL)
        obj->last->next = v;
    else
        obj->first = v;
    obj->last = v;
}

/* m (a member of the parsed line) into obj: added if obj lacks its key;
 * two objects merge member by member (the daemon's log.file.path survives
 * a line's "log": {"level": ...}); anything else is replaced by m's value,
 * as Logstash's merge does. */
static void merge_value(struct sl_value *obj, struct sl_value *m)
{
    struct sl_value *old = find(obj, m->key);
    if (old == NULL) {
        link(obj, m);
        return;
    }
    if (old->type == SL_VALUE_OBJECT && m->type == SL_VALUE_OBJECT) {
        struct sl_value *c = m->first, *next;
        for (; c != NULL; c = next) {
            next = c->next;
            merge_value(old, c);
        }
        return;
    }
    old->type = m->type;
    old->text = m->text;
    old->first = m->first;
    old->last = m->last;
}

/* The object a dotted key ("log.level") of root (the event's, or an
 * object of the line) goes into, made as needed, with *last its final
 * segment; root itself (and the whole key) when a segment is empty. A value
 * that is no object in the way
 * ({"db": "main", "db.rows": 5}: Elasticsearch cannot map db as both)
 * stays, and the key goes into "_<segment>" beside it ("_db": {"rows":
 * 5}), as a scalar after an object goes to "_<key>" (merge); the root and
 * the whole key when that one is no object either. */
static struct sl_value *parent_of(struct sl_event *ev, struct sl_value *root,
                                  struct sl_slice key, struct sl_slice *last)
{
    struct sl_value *obj = root;
    const char *s = key.ptr, *end = key.ptr + key.len, *dot;
    *last = key;
    if (key.len == 0 || memchr(key.ptr, '.', key.len) == NULL)
        return obj;
    for (const char *q = s; q < end; q++) /* "a..b", ".a", "a.": literal */
        if (*q == '.' && (q == s || q + 1 == end || q[1] == '.'))
            return root;
    while ((dot = memchr(s, '.', (size_t)(end - s))) != NULL) {
        struct sl_slice seg = {s, (size_t)(dot - s)};
        struct sl_value *v = find(obj, seg);
        if (v != NULL && v->type != SL_VALUE_OBJECT) {
            if ((seg = proc_json_aside_key(ev, seg)).ptr == NULL)
                return NULL;
            v = find(obj, seg);
        }
        if (v == NULL) {
            v = sl_arena_alloc(ev->arena, sizeof *v);
            if (v == NULL)
                return NULL;
            *v = (struct sl_value){
                .key = seg,
                .type = SL_VALUE_OBJECT,
                .key_plain = sl_json_plain_prefix(seg.ptr, seg.len) == seg.len};
            link(obj, v);
        } else if (v->type != SL_VALUE_OBJECT) {
            return root;
        }
        obj = v;
        s = dot + 1;
    }
    *last = (struct sl_slice){s, (size_t)(end - s)};
    return obj;
}

static void merge_tags(struct sl_event *ev, struct sl_value *tags)
{
    if (tags->type == SL_VALUE_STRING) {
        const char *t = sl_event_strdup(ev, tags->text.ptr, tags->text.len);
        if (t != NULL)
            proc_event_tag(ev, t);
        return;
    }
    if (tags->type == SL_VALUE_ARRAY) {
        bool other = false; /* numbers, objects: no tags */
        for (struct sl_value *e = tags->first; e != NULL; e = e->next) {
            if (e->type == SL_VALUE_STRING)
                merge_tags(ev, e);
            else
                other |= e->type != SL_VALUE_NULL;
        }
        /* the array goes to _tags too, as its JSON text when it mixes
         * objects and scalars (proc_json_arrays.c): nothing is lost */
        if (!other || proc_json_mixed_as_text(ev, tags) < 0)
            return;
    }
    tags->key = SL_SLICE_LIT("_tags"); /* Logstash's rename rule */
    merge_value(&ev->root, tags);
    proc_event_tag(ev, SL_TAG_TAGSPARSEFAILURE);
}

/* The paths the index template (conf/elasticsearch/sluice-template.json)
 * maps as objects, sorted (strcmp); test_process checks the list against
 * the template both ways, so the two cannot drift. */
const char *const proc_json_object_paths[] = {
    "agent",
    "apache",
    "apache.access",
    "apache.access.user",
    "apache.error",
    "apache.error.proxy",
    "apache.error.proxy.error",
    "aws",
    "aws.cloudfront",
    "aws.cloudfront.http",
    "aws.cloudfront.http.request",
    "aws.cloudfront.http.request.range",
    "aws.elb",
    "aws.elb.backend",
    "aws.elb.backend.http",
    "aws.elb.backend.http.response",
    "aws.elb.backend_processing_time",
    "aws.elb.request_processing_time",
    "aws.elb.response_processing_time",
    "aws.s3access",
    "bacula",
    "bacula.client",
    "bacula.job",
    "bacula.volume",
    "bind",
    "bind.log",
    "bind.log.question",
    "cisco",
    "cisco.asa",
    "cisco.asa.burst",
    "cisco.asa.connections",
    "cisco.asa.ipsec",
    "cisco.asa.network",
    "cisco.asa.original_ip_payload",
    "cisco.asa.original_ip_payload.destination",
    "cisco.asa.original_ip_payload.destination.user",
    "cisco.asa.original_ip_payload.network",
    "cisco.asa.original_ip_payload.source",
    "cisco.asa.original_ip_payload.source.user",
    "cisco.asa.resource",
    "cisco.asa.source",
    "client",
    "client.user",
    "destination",
    "destination.nat",
    "destination.user",
    "dns",
    "dns.question",
    "error",
    "event",
    "exim",
    "exim.log",
    "exim.log.message",
    "exim.log.recipient",
    "exim.log.sender",
    "file",
    "file.hash",
    "haproxy",
    "haproxy.connections",
    "haproxy.http",
    "haproxy.http.request",
    "haproxy.http.response",
    "host",
    "http",
    "http.request",
    "http.request.body",
    "http.response",
    "http.response.body",
    "iptables",
    "iptables.tcp",
    "java",
    "java.log",
    "java.log.origin",
    "java.log.origin.class",
    "java.log.origin.thread",
    "juniper",
    "juniper.srx",
    "log",
    "log.file",
    "log.origin",
    "log.origin.file",
    "log.syslog",
    "log.syslog.facility",
    "mongodb",
    "mongodb.profile",
    "mongodb.query",
    "nagios",
    "nagios.log",
    "netscreen",
    "netscreen.session",
    "network",
    "network.interface",
    "observer",
    "observer.egress",
    "observer.egress.interface",
    "observer.ingress",
    "observer.ingress.interface",
    "postgresql",
    "postgresql.log",
    "process",
    "process.thread",
    "rails",
    "rails.controller",
    "rails.request",
    "rails.request.duration",
    "rails.request.explain",
    "redis",
    "redis.command",
    "redis.database",
    "rule",
    "server",
    "service",
    "shorewall",
    "shorewall.firewall",
    "source",
    "source.nat",
    "source.user",
    "span",
    "squid",
    "squid.request",
    "suse",
    "suse.firewall",
    "system",
    "system.auth",
    "system.auth.pam",
    "system.cron",
    "system.syslog",
    "tls",
    "trace",
    "url",
    "user",
    "user_agent",
    "zeek",
    "zeek.connection",
    "zeek.dns",
    "zeek.files",
    "zeek.http"};
const size_t proc_json_nobject_paths =
    sizeof proc_json_object_paths / sizeof proc_json_object_paths[0];

#define PATH_BYTES 128 /* more than the template's longest path */

static int path_cmp(const void *path, const void *name)
{
    return strcmp(path, *(const char *const *)name);
}

/* path[0..len) is one of list's n paths; path has room for a NUL at
 * len. A key with a NUL in it is no path of the template. */
static bool listed(const char *const *list, size_t n, char *path, size_t len)
{
    path[len] = '\0';
    return bsearch(path, list, n, sizeof list[0], path_cmp) != NULL &&
           memchr(path, '\0', len) == NULL;
}

static bool object_path(char *path, size_t len)
{
    return listed(proc_json_object_paths, proc_json_nobject_paths, path, len);
}

/* A leaf of the template, but "@timestamp" and "tags": the chain and
 * merge_tags have their own rules for those. */
static bool leaf_path(char *path, size_t len)
{
    return listed(proc_json_leaf_paths, proc_json_nleaf_paths, path, len) &&
           strcmp(path, "@timestamp") != 0 && strcmp(path, "tags") != 0;
}

/* What Elasticsearch takes at a field mapped as an object: an object,
 * null, or an array of those. */
static bool fits_object(const struct sl_value *v)
{
    if (v->type == SL_VALUE_OBJECT || v->type == SL_VALUE_NULL)
        return true;
    if (v->type != SL_VALUE_ARRAY)
        return false;
    for (const struct sl_value *e = v->first; e != NULL; e = e->next)
        if (!fits_object(e))
            return false;
    return true;
}

/* What Elasticsearch takes at a field mapped as a leaf: a scalar, null,
 * or an array of those (nested arrays are flattened). */
static bool fits_leaf(const struct sl_value *v)
{
    if (v->type == SL_VALUE_OBJECT)
        return false;
    for (const struct sl_value *e = v->type == SL_VALUE_ARRAY ? v->first : NULL;
         e != NULL; e = e->next)
        if (!fits_leaf(e))
            return false;
    return true;
}

/* The key with "_" before its last segment ("log" "_log", "log.origin"
 * "log._origin"), in the event's arena; NULL when out of memory. "source"
 * becomes "_source_": "_source" is Elasticsearch's own. */
struct sl_slice proc_json_aside_key(struct sl_event *ev, struct sl_slice key)
{
    size_t at = key.len;
    while (at > 0 && key.ptr[at - 1] != '.')
        at--;
    bool source = sl_slice_eq(key, "source", 6);
    size_t len = key.len + 1 + (source ? 1 : 0);
    char *k = sl_arena_alloc(ev->arena, len);
    if (k == NULL)
        return (struct sl_slice){NULL, 0};
    if (at > 0)
        memcpy(k, key.ptr, at);
    k[at] = '_';
    if (key.len > at)
        memcpy(k + at + 1, key.ptr + at, key.len - at);
    if (source)
        k[len - 1] = '_';
    return (struct sl_slice){k, len};
}

/* A dotted key m whose path (path[0..len)) runs through a leaf of the
 * template ("stream.x", "log.level.x"): "_" before that segment
 * ("_stream.x", "log._level.x"), as an object there goes aside. 1 when
 * renamed, 0 not, -1 out of memory. */
static int through_leaf(struct sl_event *ev, struct sl_value *m, char *path,
                        size_t len)
{
    size_t from = len - m->key.len; /* the key's first byte in path */
    for (size_t i = from; i < len; i++) {
        if (path[i] != '.')
            continue;
        /* "tags" too: "tags.x" is no tag, and would make tags an object */
        bool leaf =
            listed(proc_json_leaf_paths, proc_json_nleaf_paths, path, i);
        path[i] = '.'; /* listed ended the path there */
        if (!leaf)
            continue;
        size_t seg = i;
        while (seg > from && path[seg - 1] != '.')
            seg--;
        size_t at = seg - from;
        char *k = sl_arena_alloc(ev->arena, m->key.len + 1);
        if (k == NULL)
            return -1;
        memcpy(k, m->key.ptr, at);
        k[at] = '_';
        memcpy(k + at + 1, m->key.ptr + at, m->key.len - at);
        m->key = (struct sl_slice){k, m->key.len + 1};
        return 1;
    }
    return 0;
}

/* The members of obj (the line, or an object of it at path[0..plen)) that
 * are no object where the template maps one, or hold an object where it
 * maps a leaf, go aside (proc_json_aside_key); objects
 * the template maps are walked in turn, and only those: under any other
 * the template maps nothing. Dotted keys are paths as they are. */
static int set_aside(struct sl_event *ev, struct sl_value *obj, char *path,
                     size_t plen)
{
    for (struct sl_value *m = obj->first; m != NULL; m = m->next) {
        size_t len = plen + (plen > 0) + m->key.len;
        if (len >= PATH_BYTES)
            continue;
        if (plen > 0)
            path[plen] = '.';
        if (m->key.len > 0)
            memcpy(path + len - m->key.len, m->key.ptr, m->key.len);
        int r = memchr(m->key.ptr, '.', m->key.len) != NULL
                    ? through_leaf(ev, m, path, len)
                    : 0;
        if (r != 0) {
            if (r < 0)
                return -1;
            continue;
        }
        if (!object_path(path, len)) {
            if (!fits_leaf(m) && leaf_path(path, len) &&
                (m->key = proc_json_aside_key(ev, m->key)).ptr == NULL)
                return -1;
            continue;
        }
        if (!fits_object(m)) {
            if ((m->key = proc_json_aside_key(ev, m->key)).ptr == NULL)
                return -1;
            continue;
        }
        if (m->type == SL_VALUE_OBJECT && set_aside(ev, m, path, len) < 0)
            return -1;
        for (struct sl_value *e = m->type == SL_VALUE_ARRAY ? m->first : NULL;
             e != NULL; e = e->next)
            if (e->type == SL_VALUE_OBJECT && set_aside(ev, e, path, len) < 0)
                return -1;
    }
    return 0;
}

/* True for the names Elasticsearch (8, 9) and OpenSearch keep for their
 * metadata fields, which a document may not hold at its top level
 * ("... is a metadata field and cannot be added inside a document"). */
static bool meta_key(struct sl_slice key)
{
    static const char *const names[] = {
        "_id",          "_index",
        "_source",      "_routing",
        "_ignored",     "_ignored_source",
        "_seq_no",      "_primary_term",
        "_version",     "_field_names",
        "_doc_count",   "_tier",
        "_nested_path", "_data_stream_timestamp",
        "_tsid",        "_ts_routing_hash"};
    if (key.len < 3 || key.ptr[0] != '_')
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (sl_slice_eq(key, names[i], strlen(names[i])))
            return true;
    return false;
}

/* key with a "_" after it, in the event's arena; NULL when out of memory. */
static struct sl_slice meta_aside(struct sl_event *ev, struct sl_slice key)
{
    char *k = sl_arena_alloc(ev->arena, key.len + 1);
    if (k == NULL)
        return (struct sl_slice){NULL, 0};
    memcpy(k, key.ptr, key.len);
    k[key.len] = '_';
    return (struct sl_slice){k, key.len + 1};
}

/* m, a member of the line, into root by its key (a dotted one nests:
 * parent_of); a value that is no object does not replace an object there
 * but goes to "_<key>" (with top_only, at root's own level only: below,
 * the event's objects merge as Logstash's merge does). -1 out of
 * memory. */
static int place(struct sl_event *ev, struct sl_value *root, struct sl_value *m,
                 bool top_only)
{
    struct sl_slice last;
    struct sl_value *parent = parent_of(ev, root, m->key, &last);
    if (parent == NULL)
        return -1;
    m->key = last;
    if (parent == &ev->root && meta_key(last) &&
        (m->key = meta_aside(ev, last)).ptr == NULL)
        return -1;
    if ((!top_only || parent == root) && m->type != SL_VALUE_OBJECT) {
        struct sl_value *old = find(parent, last);
        if (old != NULL && old->type == SL_VALUE_OBJECT &&
            (m->key = proc_json_aside_key(ev, last)).ptr == NULL)
            return -1;
    }
    m->key_plain = sl_json_plain_prefix(m->key.ptr, m->key.len) == m->key.len;
    merge_value(parent, m);
    return 0;
}

/* The dotted keys of v's objects below the top ({"log.origin":
 * {"file.name": "a.go"}}, a target's object with top false) nest as the
 * top's do in merge, so the event has the shape Elasticsearch reads (and
 * processors find log.origin.file.name); a value in the way sends the key
 * under "_<segment>" (parent_of), and a value that is no object does not
 * replace an object the dotted keys made: it goes to "_<key>". Objects
 * without a dotted key are left as they are. */
static int nest_below(struct sl_event *ev, struct sl_value *v, bool top)
{
    bool dotted = false;
    for (struct sl_value *m = v->first; m != NULL; m = m->next) {
        if ((m->type == SL_VALUE_OBJECT || m->type == SL_VALUE_ARRAY) &&
            nest_below(ev, m, false) < 0)
            return -1;
        dotted |= v->type == SL_VALUE_OBJECT &&
                  memchr(m->key.ptr, '.', m->key.len) != NULL;
    }
    if (top || !dotted)
        return 0;
    struct sl_value *m = v->first, *next;
    v->first = v->last = NULL;
    for (; m != NULL; m = next) {
        next = m->next;
        if (place(ev, v, m, false) < 0)
            return -1;
    }
    return 0;
}

/* The parsed object into the event, key by key; dotted keys nest. */
static int merge(struct sl_event *ev, struct sl_value *obj)
{
    char path[PATH_BYTES];
    if (set_aside(ev, obj, path, 0) < 0)
        return -1;
    struct sl_value *m = obj->first, *next;
    for (; m != NULL; m = next) {
        next = m->next;
        if (sl_slice_eq(m->key, "tags", 4)) {
            merge_tags(ev, m);
            continue;
        }
        if (place(ev, &ev->root, m, true) < 0)
            return -1; /* out of memory */
    }
    return 0;
}

/* ---- the processor ------------------------------------------------------ */

static void json_fini(struct proc *p)
{
    struct json_proc *jp = p->state;
    if (jp == NULL)
        return;
    sl_fieldpath_release(&jp->field);
    sl_fieldpath_release(&jp->target);
    free(jp);
}

static int json_init(struct proc *p, const struct sl_config_node *cfg,
                     const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct json_opts o;
    if (sl_config_table_fill(&json_table, cfg, &o, err) < 0)
        return -1;
    struct json_proc *jp = calloc(1, sizeof *jp);
    if (jp == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    p->state = jp;
    jp->max_depth = (unsigned)o.max_depth;
    jp->ecs_keys = o.ecs_keys;
    jp->has_target = o.target != NULL;
    if (proc_fieldpath(&jp->field, sl_config_get(cfg, "field"), o.field, err) <
            0 ||
        (jp->has_target &&
         proc_fieldpath(&jp->target, sl_config_get(cfg, "target"), o.target,
                        err) < 0)) {
        json_fini(p);
        p->state = NULL;
        return -1;
    }
    return 0;
}

static enum proc_result json_run(struct proc *p, const struct proc_ctx *cx)
{
    struct json_proc *jp = p->state;
    const struct sl_value *src = sl_event_get(cx->ev, &jp->field);
    struct sl_err err;
    if (src == NULL)
        return PROC_OK;
    /* A line that fails gives back what its parse took, so the tag fits
     * even when the parse ran into the arena's cap. */
    struct sl_arena_mark mark = sl_arena_mark(cx->ev->arena);
    struct sl_value *v =
        src->type == SL_VALUE_STRING ? parse(jp, cx->ev, src->text) : NULL;
    if (v == NULL && src->type == SL_VALUE_STRING) {
        sl_arena_rewind(cx->ev->arena, mark);
        struct sl_slice fixed = python_nonfinite(cx->ev, src->text);
        v = fixed.ptr != NULL ? parse(jp, cx->ev, fixed) : NULL;
    }
    if (v == NULL || (!jp->has_target && v->type != SL_VALUE_OBJECT)) {
        sl_arena_rewind(cx->ev->arena, mark);
        proc_event_tag(cx->ev, PROC_TAG_JSONPARSEFAILURE);
        return PROC_FAILED;
    }
    int rc;
    if (proc_json_arrays(cx->ev, v, !jp->has_target) < 0 ||
        nest_below(cx->ev, v, !jp->has_target) < 0) {
        rc = -1;
    } else if (jp->has_target) {
        rc = proc_event_graft(cx->ev, &jp->target, v, &err);
    } else {
        rc = jp->ecs_keys ? ecs_keys(cx->ev, v) : 0;
        if (rc == 0)
            rc = merge(cx->ev, v);
    }
    if (rc < 0) {
        proc_event_tag(cx->ev, PROC_TAG_JSONPARSEFAILURE);
        return PROC_FAILED;
    }
    return PROC_OK;
}

const struct proc_ops proc_json_ops = {.name = "json",
                                       .table = &json_table,
                                       .init = json_init,
                                       .run = json_run,
                                       .fini = json_fini,
                                       .may_put_timestamp = true};
