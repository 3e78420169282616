/* event_base.c: the fields every event has (see the header).
 *
 * The input's `fields` are read once into a flat list of (path, type,
 * text): a nested object becomes the dotted path of its leaves, an array
 * one entry per element (added with Logstash's rule, so it stays an
 * array). Every path is then tried once on an event with all the base
 * fields, so a path that runs through a value ("host.name.x", or "a" and
 * "a.b" both) is a config error at setup, never a failure per event.
 *
 * Per event: a reset, the base fields copied into the arena-backed tree
 * from a template made at setup (one allocation and one copy for their
 * eleven nodes, then linked: no lookups, the tree is empty and their
 * paths known), two short texts formatted into the same allocation (the
 * time, the offset), the input's fields put, the id (the source's hash,
 * kept, and the offset: no hash per event). */
#include "event_base.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_date.h"
#include "sl_json.h"

#define FIELDS_MAX     256 /* entries of an input's `fields`, leaves */
#define FIELD_PATH_MAX 512

struct field {
    struct sl_fieldpath path;
    enum sl_value_type type;
    char *text;
    size_t len;
    bool element;                      /* of an array: added, not put */
    const struct sl_config_node *node; /* for messages at setup only */
};

/* The base fields' nodes in the template, and in each event's copy of it:
 * the root's members @timestamp, message, host, agent, then log for a
 * file, then stream for a container's line (copied to just after the
 * nodes used). */
enum {
    N_TIMESTAMP,
    N_MESSAGE,
    N_HOST,
    N_HOST_NAME,
    N_AGENT,
    N_AGENT_TYPE,
    N_AGENT_VERSION,
    N_NO_FILE, /* the nodes of an event without a file: those above */
    N_LOG = N_NO_FILE,
    N_FILE,
    N_FILE_PATH,
    N_OFFSET,
    N_WITH_FILE, /* ... with a file */
    N_STREAM = N_WITH_FILE,
    N_ALL
};

struct event_base {
    char host[EVENT_BASE_HOST_MAX + 1];
    size_t host_len;
    struct sl_fieldpath host_name, agent_type, agent_version, file_path, offset;
    struct field *fields;
    size_t nfields;
    /* The base fields as the setters would make them (keys, types, the
     * texts every event shares), copied into each event and linked there:
     * appending and setting them one by one was 8% of the shipper's
     * instructions. Linked too, for host and agent's JSON. */
    struct sl_value tmpl[N_ALL];
    /* host and agent's JSON: every event has them alike, and writing them
     * from here instead of walking and escaping them was 4% of the
     * shipper's time (sl_event.h, sl_value_json). Their shapes are the
     * template's nodes. */
    struct sl_buf shape_json;
    struct sl_value_json rendered[2];
    size_t nrendered;
};

static const char *const stream_names[] = {NULL, "stdout", "stderr"};
static const struct sl_slice timestamp_key = {"@timestamp", 10};
static const struct sl_slice message_key = {"message", 7};
static const struct sl_slice stream_key = {"stream", 6};

/* ---- the input's fields ----------------------------------------------- */

static int add_field(struct event_base *b, const struct sl_config_node *n,
                     const char *path, bool element, struct sl_err *err);

/* A scalar's JSON type and text (copied). */
static int scalar(const struct sl_config_node *n, struct field *f,
                  struct sl_err *err)
{
    char num[40];
    const char *s = num;
    switch (sl_config_type(n)) {
    case SL_CONFIG_STRING:
        if (sl_config_string(n, NULL, NULL, &s, err) < 0)
            return -1;
        f->type = SL_VALUE_STRING;
        break;
    case SL_CONFIG_BOOL: {
        bool v;
        if (sl_config_bool(n, NULL, false, &v, err) < 0)
            return -1;
        s = v ? "true" : "false";
        f->type = SL_VALUE_BOOL;
        break;
    }
    case SL_CONFIG_INT: {
        long long v;
        if (sl_config_int(n, NULL, 0, LLONG_MIN, LLONG_MAX, &v, err) < 0)
            return -1;
        snprintf(num, sizeof num, "%lld", v);
        f->type = SL_VALUE_NUMBER;
        break;
    }
    case SL_CONFIG_DOUBLE: {
        double v;
        if (sl_config_double(n, NULL, 0, -DBL_MAX, DBL_MAX, &v, err) < 0)
            return -1;
        sl_json_format_double(v, num, sizeof num);
        f->type = SL_VALUE_NUMBER;
        break;
    }
    default:
        return sl_config_error_expected(n, err,
                                        "a string, number, boolean, object "
                                        "or array");
    }
    f->len = strlen(s);
    f->text = malloc(f->len + 1);
    if (f->text == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory reading fields");
    memcpy(f->text, s, f->len + 1);
    return 0;
}

static int add_leaf(struct event_base *b, const struct sl_config_node *n,
                    const char *path, bool element, struct sl_err *err)
{
    if (b->nfields == FIELDS_MAX)
        return sl_config_error(n, err, "more than %d fields; use fewer",
                               FIELDS_MAX);
    struct field *f = &b->fields[b->nfields];
    memset(f, 0, sizeof *f);
    struct sl_err perr;
    if (sl_fieldpath_parse(&f->path, path, strlen(path), &perr) < 0)
        return sl_config_error(n, err, "'%s' is not a field name: %s", path,
                               perr.msg);
    f->element = element;
    f->node = n;
    b->nfields++; /* from here event_base_free releases it */
    struct sl_slice first = f->path.seg[0];
    if (sl_slice_eq(first, "tags", 4))
        return sl_config_error(n, err,
                               "'%s' is the shipper's own; tags come from "
                               "the processors",
                               path);
    if (f->path.nseg == 1 && sl_slice_eq(first, "message", 7))
        return sl_config_error(n, err,
                               "'message' is the line read: a field of that "
                               "name would replace every line, which is then "
                               "lost; name it otherwise (labels.message...)");
    if (sl_slice_eq(first, "@timestamp", 10))
        return sl_config_error(n, err,
                               "'%s' is the shipper's own; set it with a "
                               "date processor",
                               path);
    return scalar(n, f, err);
}

/* A member or element: an object recurses with its key appended. */
static int add_field(struct event_base *b, const struct sl_config_node *n,
                     const char *path, bool element, struct sl_err *err)
{
    enum sl_config_type t = sl_config_type(n);
    if (t == SL_CONFIG_ARRAY && !element) {
        for (size_t i = 0; i < sl_config_len(n); i++)
            if (add_field(b, sl_config_at(n, i), path, true, err) < 0)
                return -1;
        return 0;
    }
    if (t != SL_CONFIG_OBJECT)
        return add_leaf(b, n, path, element, err);
    if (element)
        return sl_config_error_expected(n, err,
                                        "a string, number or boolean in an "
                                        "array");
    for (size_t i = 0; i < sl_config_len(n); i++) {
        const struct sl_config_node *m = sl_config_at(n, i);
        char sub[FIELD_PATH_MAX];
        int w = snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "",
                         sl_config_key(m));
        if (w < 0 || (size_t)w >= sizeof sub)
            return sl_config_error(m, err, "field name longer than %d bytes",
                                   FIELD_PATH_MAX - 1);
        if (add_field(b, m, sub, false, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------ */

static int parse_path(struct sl_fieldpath *p, const char *s)
{
    return sl_fieldpath_parse(p, s, strlen(s), NULL);
}

static int put_base(const struct event_base *b, const struct event_source *src,
                    const struct event_base_record *r, int64_t read_ms,
                    struct sl_event *ev, int64_t *ts, struct sl_err *err);
static int put_fields(const struct event_base *b, struct sl_event *ev, size_t n,
                      struct sl_err *err);

/* Puts every base field and then the fields one more at a time, so the
 * first field whose path runs through a value is named at setup. */
static int try_fields(const struct event_base *b, struct sl_err *err)
{
    struct sl_arena *a = sl_arena_new(4096);
    if (a == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    struct event_source src;
    event_source_file(&src, b, 1, "/x");
    struct event_base_record r = {
        SL_SLICE_LIT("x"), 0, 0, CONTAINER_LOG_STREAM_STDOUT, true, true, true};
    struct sl_event ev;
    int64_t ts;
    int rc = 0;
    sl_event_init(&ev, a);
    for (size_t n = 1; rc == 0 && n <= b->nfields; n++) {
        struct sl_err e2;
        sl_event_reset(&ev);
        sl_arena_reset(a);
        if (put_base(b, &src, &r, 0, &ev, &ts, err) < 0) {
            rc = -1;
        } else if (put_fields(b, &ev, n, &e2) < 0) {
            const struct field *f = &b->fields[n - 1];
            rc = e2.status == SL_ENOMEM
                     ? sl_err_set(err, SL_ENOMEM, "out of memory")
                     : sl_config_error(f->node, err, "%s", e2.msg);
        }
    }
    sl_arena_free(a);
    return rc;
}

static const char agent_version_text[] = SLUICE_VERSION;

static void node(struct sl_value *v, struct sl_slice key, bool key_plain,
                 enum sl_value_type type, const char *text, size_t len)
{
    *v = (struct sl_value){.key = key, .key_plain = key_plain, .type = type};
    v->text = (struct sl_slice){text, len};
}

/* seg of path as a node's key, written plain if it is plain there. */
static void path_node(struct sl_value *v, const struct sl_fieldpath *path,
                      unsigned seg, enum sl_value_type type, const char *text,
                      size_t len)
{
    node(v, path->seg[seg], path->plain >> seg & 1u, type, text, len);
}

/* Links the base fields' nodes v (a copy of the template: N_WITH_FILE
 * nodes with a file, else N_NO_FILE), then stream (or none) after them as
 * the root's last member; returns the root's last member. */
static struct sl_value *link_base(struct sl_value *v, bool file,
                                  struct sl_value *stream)
{
    v[N_TIMESTAMP].next = &v[N_MESSAGE];
    v[N_MESSAGE].next = &v[N_HOST];
    v[N_HOST].first = v[N_HOST].last = &v[N_HOST_NAME];
    v[N_HOST].next = &v[N_AGENT];
    v[N_AGENT].first = &v[N_AGENT_TYPE];
    v[N_AGENT].last = v[N_AGENT_TYPE].next = &v[N_AGENT_VERSION];
    struct sl_value *last = &v[N_AGENT];
    if (file) {
        last = last->next = &v[N_LOG];
        v[N_LOG].first = &v[N_FILE];
        v[N_LOG].last = v[N_FILE].next = &v[N_OFFSET];
        v[N_FILE].first = v[N_FILE].last = &v[N_FILE_PATH];
    }
    last->next = stream;
    return stream != NULL ? stream : last;
}

/* The template of the base fields, and host and agent's JSON into
 * b->rendered. */
static int make_template(struct event_base *b, struct sl_err *err)
{
    struct sl_value *t = b->tmpl;
    node(&t[N_TIMESTAMP], timestamp_key, true, SL_VALUE_STRING, NULL, 0);
    node(&t[N_MESSAGE], message_key, true, SL_VALUE_STRING, NULL, 0);
    path_node(&t[N_HOST], &b->host_name, 0, SL_VALUE_OBJECT, NULL, 0);
    path_node(&t[N_HOST_NAME], &b->host_name, 1, SL_VALUE_STRING, b->host,
              b->host_len);
    path_node(&t[N_AGENT], &b->agent_type, 0, SL_VALUE_OBJECT, NULL, 0);
    path_node(&t[N_AGENT_TYPE], &b->agent_type, 1, SL_VALUE_STRING,
              EVENT_BASE_AGENT_TYPE, sizeof EVENT_BASE_AGENT_TYPE - 1);
    path_node(&t[N_AGENT_VERSION], &b->agent_version, 1, SL_VALUE_STRING,
              agent_version_text, sizeof agent_version_text - 1);
    path_node(&t[N_LOG], &b->file_path, 0, SL_VALUE_OBJECT, NULL, 0);
    path_node(&t[N_FILE], &b->file_path, 1, SL_VALUE_OBJECT, NULL, 0);
    path_node(&t[N_FILE_PATH], &b->file_path, 2, SL_VALUE_STRING, NULL, 0);
    path_node(&t[N_OFFSET], &b->offset, 1, SL_VALUE_NUMBER, NULL, 0);
    node(&t[N_STREAM], stream_key, true, SL_VALUE_STRING, NULL, 0);
    link_base(t, true, NULL);
    t[N_HOST].rendered = 1;
    t[N_AGENT].rendered = 2;

    sl_buf_init(&b->shape_json, 8 * EVENT_BASE_HOST_MAX + 256);
    if (sl_value_write_json(&t[N_HOST], &b->shape_json, err) < 0)
        goto nomem;
    size_t host_len = b->shape_json.len;
    if (sl_value_write_json(&t[N_AGENT], &b->shape_json, err) < 0)
        goto nomem;
    b->rendered[0] =
        (struct sl_value_json){&t[N_HOST], b->shape_json.ptr, host_len};
    b->rendered[1] =
        (struct sl_value_json){&t[N_AGENT], b->shape_json.ptr + host_len,
                               b->shape_json.len - host_len};
    b->nrendered = 2;
    return 0;
nomem:
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

struct event_base *event_base_new(const char *host,
                                  const struct sl_config_node *fields,
                                  struct sl_err *err)
{
    struct event_base *b = calloc(1, sizeof *b);
    if (b == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        return NULL;
    }
    b->host_len = strlen(host);
    if (b->host_len > EVENT_BASE_HOST_MAX)
        b->host_len = EVENT_BASE_HOST_MAX;
    memcpy(b->host, host, b->host_len);
    if (parse_path(&b->host_name, "host.name") < 0 ||
        parse_path(&b->agent_type, "agent.type") < 0 ||
        parse_path(&b->agent_version, "agent.version") < 0 ||
        parse_path(&b->file_path, "log.file.path") < 0 ||
        parse_path(&b->offset, "log.offset") < 0) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto fail;
    }
    if (make_template(b, err) < 0)
        goto fail;
    if (fields != NULL) {
        b->fields = calloc(FIELDS_MAX, sizeof *b->fields);
        if (b->fields == NULL) {
            sl_err_set(err, SL_ENOMEM, "out of memory");
            goto fail;
        }
        if (sl_config_type(fields) != SL_CONFIG_OBJECT) {
            sl_config_error_expected(fields, err, "an object");
            goto fail;
        }
        if (add_field(b, fields, "", false, err) < 0 || try_fields(b, err) < 0)
            goto fail;
    }
    return b;
fail:
    event_base_free(b);
    return NULL;
}

void event_base_free(struct event_base *b)
{
    if (b == NULL)
        return;
    sl_fieldpath_release(&b->host_name);
    sl_fieldpath_release(&b->agent_type);
    sl_fieldpath_release(&b->agent_version);
    sl_fieldpath_release(&b->file_path);
    sl_fieldpath_release(&b->offset);
    for (size_t i = 0; i < b->nfields; i++) {
        sl_fieldpath_release(&b->fields[i].path);
        free(b->fields[i].text);
    }
    free(b->fields);
    sl_buf_release(&b->shape_json);
    free(b);
}

/* ---- sources ---------------------------------------------------------- */

static void le64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

void event_source_file(struct event_source *src, const struct event_base *b,
                       uint64_t key, const char *path)
{
    uint8_t k[8];
    le64(k, key);
    sl_event_id_source_init(&src->id, b->host, b->host_len, k, sizeof k);
    src->path = path;
    src->path_len = strlen(path);
}

void event_source_stdin(struct event_source *src, const struct event_base *b,
                        int64_t start_ms)
{
    uint8_t k[13] = {'s', 't', 'd', 'i', 'n'};
    le64(k + 5, (uint64_t)start_ms);
    sl_event_id_source_init(&src->id, b->host, b->host_len, k, sizeof k);
    src->path = NULL;
    src->path_len = 0;
}

/* ---- per event -------------------------------------------------------- */

static int put_fields(const struct event_base *b, struct sl_event *ev, size_t n,
                      struct sl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct field *f = &b->fields[i];
        int rc =
            f->element
                ? sl_event_add(ev, &f->path, f->type, f->text, f->len, err)
                : sl_event_put(ev, &f->path, f->type, f->text, f->len, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* v in decimal at out (room for 20 digits); the length. snprintf cost
 * a third of a build; a digit at a time from the end, 1.2% of the
 * shipper's instructions: now its length first, then two digits a step. */
static size_t u64_text(char *out, uint64_t v)
{
    static const uint64_t pow10[20] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                       1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                       1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    static const char pairs[] = "00010203040506070809101112131415161718192021"
                                "22232425262728293031323334353637383940414243"
                                "44454647484950515253545556575859606162636465"
                                "66676869707172737475767778798081828384858687"
                                "888990919293949596979899";
    size_t n = 1;
    while (n < 20 && v >= pow10[n])
        n++;
    char *o = out + n;
    for (; v >= 100; v /= 100) {
        o -= 2;
        memcpy(o, pairs + 2 * (v % 100), 2);
    }
    if (v >= 10)
        memcpy(o - 2, pairs + 2 * v, 2);
    else
        o[-1] = (char)('0' + v);
    return n;
}

/* Length of s without a UTF-8 character the cut split: a line cut at its
 * limit keeps only whole characters, so the message is never longer than
 * the limit once its invalid tail would have become U+FFFD (3 bytes for 1). */
static size_t without_split_char(const char *s, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = (unsigned char)s[len - back];
        if (c < 0x80)
            return len;  /* ASCII: nothing split */
        if (c >= 0xC0) { /* the lead byte of the last character */
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            return need > back ? len - back : len;
        }
    }
    return len; /* continuation bytes only: not UTF-8 the cut could split */
}

/* The fields before the input's: time, message, host, agent, file,
 * stream, copied from the template and linked (the tree and keys the
 * setters would make: each put looked its path up member by member, and
 * the lookups of eight fields were 5% of the shipper's time; appending
 * and setting its eleven nodes one by one, 8% of its instructions). ev is
 * empty. @timestamp and the batch time: the record's, else the time read. */
static int put_base(const struct event_base *b, const struct event_source *src,
                    const struct event_base_record *r, int64_t read_ms,
                    struct sl_event *ev, int64_t *ts, struct sl_err *err)
{
    bool file = src->path != NULL;
    bool stream = r->stream != CONTAINER_LOG_STREAM_NONE;
    size_t n = file ? N_WITH_FILE : N_NO_FILE;
    size_t nodes = (n + stream) * sizeof(struct sl_value);
    struct sl_value *v =
        sl_arena_alloc(ev->arena, nodes + SL_DATE_ISO8601_SIZE + 24);
    if (v == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory building an event");
    char *time = (char *)v + nodes, *num = time + SL_DATE_ISO8601_SIZE;
    *ts = r->time_ms != CONTAINER_LOG_NO_TIME ? r->time_ms : read_ms;
    if (sl_date_format_iso8601_ms(*ts, time) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "event time %" PRId64 " ms is outside years 1 to "
                          "9999",
                          *ts);
    memcpy(v, b->tmpl, n * sizeof *v);
    struct sl_value *sv = NULL;
    if (stream) {
        sv = &v[n];
        *sv = b->tmpl[N_STREAM];
        sv->text = (struct sl_slice){stream_names[r->stream], 6};
    }
    ev->root.first = v;
    ev->root.last = link_base(v, file, sv);
    sl_event_set_rendered(ev, b->rendered, b->nrendered);
    v[N_TIMESTAMP].text = (struct sl_slice){time, SL_DATE_ISO8601_SIZE - 1};
    v[N_MESSAGE].text.ptr = r->message.ptr;
    v[N_MESSAGE].text.len =
        r->truncated ? without_split_char(r->message.ptr, r->message.len)
                     : r->message.len;
    if (file) {
        v[N_FILE_PATH].text = (struct sl_slice){src->path, src->path_len};
        v[N_OFFSET].text = (struct sl_slice){num, u64_text(num, r->offset)};
    }
    return 0;
}

int event_base_build(const struct event_base *b, const struct event_source *src,
                     const struct event_base_record *r, int64_t read_ms,
                     struct sl_event *ev, struct event_meta *meta,
                     struct sl_err *err)
{
    sl_event_reset(ev);
    if (put_base(b, src, r, read_ms, ev, &meta->ts_ms, err) < 0 ||
        put_fields(b, ev, b->nfields, err) < 0)
        return -1;
    if ((r->invalid &&
         sl_event_add_tag(ev, CONTAINER_LOG_TAG_PARSEFAILURE, err) < 0) ||
        (r->truncated && sl_event_add_tag(ev, SL_TAG_TRUNCATED, err) < 0) ||
        (r->continued &&
         sl_event_add_tag(ev, MULTILINE_TAG_CONTINUED, err) < 0))
        return -1;
    sl_event_id_make(&src->id, r->offset, meta->id);
    return 0;
}
