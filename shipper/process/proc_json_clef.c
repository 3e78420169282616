/* proc_json_clef.c: Serilog's compact JSON (CLEF, Serilog.Formatting.
 * Compact) for the json processor: the message rendered from the message
 * template, as Serilog renders it.
 *
 * CompactJsonFormatter writes the template ("@mt": "Order {Id} placed by
 * {User}") and the properties beside it ("Id": 42, "User": "ann"), not the
 * message (RenderedCompactJsonFormatter writes "@m"). The message is the
 * template with each {Name} replaced by its property, as Serilog's
 * MessageTemplate.Render writes it: a string in double quotes (a '"' in it
 * as \"), or as it is with the ":l" format; a number as written; true and
 * false as .NET writes them, True and False; null; an array as "[a, b]";
 * an object ({@Obj}, captured as a structure) as "Type { A: 1, B: "x" }",
 * Type from its "$type" member when there is one. {$Val} (stringified) is
 * a string already. A token with a format ({Elapsed:0.00}) takes its text
 * from "@r", which holds, in order, the rendering of each token with a
 * format (Serilog wrote it with .NET's formatting); without "@r" the
 * value is rendered as it is. An alignment (",8", ",-8") pads the value
 * with spaces. "{{" and "}}" are braces; a token with no property of its
 * name, or that is no token (an unclosed or empty brace, a bad name), is
 * kept as it is written. A template of more than TOKENS_MAX tokens, or
 * whose message passes RENDER_MAX, is the message as it is.
 *
 * JsonFormatter (Serilog.Formatting.Json) writes the same as
 * "MessageTemplate", the properties in "Properties", the message as
 * "RenderedMessage" (renderMessage: true), beside "Timestamp" and "Level"
 * (json_formatter): rendered the same way, but for its formats
 * ("Renderings"), which are not read: such a value is rendered as it is.
 *
 * The template goes to labels.MessageTemplate, where Elastic's Serilog
 * formatter (Elastic.CommonSchema.Serilog) puts it, so Kibana can count
 * the events of one template; "@m", when the line has it, is the message
 * itself. A line with its own "message" keeps it. */
#include <string.h>

#include "process_priv.h"
#include "sl_ascii.h"
#include "sl_buf.h"

#define RENDER_MAX ((size_t)1 << 20) /* a longer message keeps the template */
/* Tokens a template may have looked up (each walks the line's members); a
 * template of more keeps itself, as one too long to render: 170,000
 * "{zz}" among 50,000 members took seconds of CPU per line. */
#define TOKENS_MAX 200

static struct sl_value *member(struct sl_value *obj, const char *key,
                               size_t len)
{
    return proc_json_member(obj, (struct sl_slice){key, len});
}

/* Each append's result, or-ed: one failure (the buffer's max) and the
 * rendering is given up. */
struct out {
    struct sl_buf b;
    int bad;
};

static void put(struct out *o, const char *s, size_t n)
{
    o->bad |= sl_buf_append(&o->b, s, n, NULL);
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A value as Serilog renders a property (see the top). */
static void render(struct out *o, const struct sl_value *v, bool literal)
{
    switch (v->type) {
    case SL_VALUE_STRING:
        if (literal) {
            put(o, v->text.ptr, v->text.len);
            break;
        }
        put(o, "\"", 1);
        for (size_t i = 0, from = 0; i <= v->text.len; i++)
            if (i == v->text.len || v->text.ptr[i] == '"') {
                put(o, v->text.ptr + from, i - from);
                if (i < v->text.len)
                    put(o, "\\\"", 2);
                from = i + 1;
            }
        put(o, "\"", 1);
        break;
    case SL_VALUE_BOOL:
        put_str(o, v->text.len == 4 ? "True" : "False");
        break;
    case SL_VALUE_NULL:
        put_str(o, "null");
        break;
    case SL_VALUE_NUMBER:
        put(o, v->text.ptr, v->text.len);
        break;
    case SL_VALUE_ARRAY:
        put(o, "[", 1);
        for (const struct sl_value *e = v->first; e != NULL; e = e->next) {
            render(o, e, false);
            if (e->next != NULL)
                put(o, ", ", 2);
        }
        put(o, "]", 1);
        break;
    case SL_VALUE_OBJECT: {
        const struct sl_value *type = member((struct sl_value *)v, "$type", 5);
        if (type != NULL && type->type == SL_VALUE_STRING) {
            put(o, type->text.ptr, type->text.len);
            put(o, " ", 1);
        }
        put(o, "{ ", 2);
        bool first = true;
        for (const struct sl_value *m = v->first; m != NULL; m = m->next) {
            if (m == type)
                continue;
            if (!first)
                put(o, ", ", 2);
            first = false;
            put(o, m->key.ptr, m->key.len);
            put(o, ": ", 2);
            render(o, m, false);
        }
        put(o, " }", 2);
        break;
    }
    }
}

/* Characters (UTF-8 lead bytes) in s[from..). */
static size_t chars(const char *s, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* A token's parts: {[@$]name[,align][:format]}. */
struct token {
    struct sl_slice name, format;
    long align;
};

/* The token in t[0..n) (between the braces): true when it is one. */
static bool token_of(const char *t, size_t n, struct token *k)
{
    size_t i = 0;
    memset(k, 0, sizeof *k);
    if (i < n && (t[i] == '@' || t[i] == '$'))
        i++;
    size_t from = i;
    while (i < n && (sl_ascii_alpha(t[i]) || sl_ascii_digit(t[i]) ||
                     t[i] == '_' || (unsigned char)t[i] >= 0x80))
        i++;
    if (i == from)
        return false;
    k->name = (struct sl_slice){t + from, i - from};
    if (i < n && t[i] == ',') {
        bool minus = ++i < n && t[i] == '-';
        size_t d = i += minus;
        for (; i < n && sl_ascii_digit(t[i]) && i - d < 4; i++)
            k->align = k->align * 10 + (t[i] - '0');
        if (i == d)
            return false;
        k->align = minus ? -k->align : k->align;
    }
    if (i < n && t[i] == ':') {
        k->format = (struct sl_slice){t + i + 1, n - i - 1};
        i = n;
    }
    return i == n;
}

/* The next rendering of "@r" for a token with a format, or NULL. */
static const struct sl_value *next_rendering(const struct sl_value **r)
{
    const struct sl_value *v = *r;
    if (v == NULL)
        return NULL;
    *r = v->next;
    return v->type == SL_VALUE_STRING ? v : NULL;
}

/* One property token, its value found: rendered, padded to its
 * alignment. */
static void render_token(struct out *o, const struct token *k,
                         const struct sl_value *v,
                         const struct sl_value *rendering)
{
    size_t at = o->b.len;
    if (rendering != NULL) { /* .NET's formatting, alignment included */
        put(o, rendering->text.ptr, rendering->text.len);
        return;
    }
    render(o, v, sl_slice_eq(k->format, "l", 1));
    long width = k->align < 0 ? -k->align : k->align;
    size_t have = o->bad ? 0 : chars(o->b.ptr, at, o->b.len);
    if (o->bad || (size_t)width <= have)
        return;
    size_t pad = (size_t)width - have;
    if (sl_buf_reserve(&o->b, pad, NULL) < 0) {
        o->bad = -1;
        return;
    }
    if (k->align > 0) { /* right-aligned: the spaces go first */
        memmove(o->b.ptr + at + pad, o->b.ptr + at, o->b.len - at);
        memset(o->b.ptr + at, ' ', pad);
    } else {
        memset(o->b.ptr + o->b.len, ' ', pad);
    }
    o->b.len += pad;
    o->b.ptr[o->b.len] = '\0'; /* sl_buf's invariant */
}

/* The template t rendered with the properties of props into o. The next
 * '}' is looked for again only once i has passed it: a template of many
 * '{' and no '}' is read once, not once per '{' (a 1 MiB one took 4 s). */
static void render_template(struct out *o, struct sl_value *props,
                            struct sl_slice t, const struct sl_value *r)
{
    size_t i = 0, tokens = 0;
    const char *next_close = NULL; /* the next '}', once looked for */
    bool looked = false;
    while (i < t.len && !o->bad) {
        char c = t.ptr[i];
        if ((c == '{' || c == '}') && i + 1 < t.len && t.ptr[i + 1] == c) {
            put(o, &c, 1); /* "{{", "}}" */
            i += 2;
            continue;
        }
        if (c == '{' &&
            (!looked || (next_close != NULL && next_close < t.ptr + i))) {
            next_close = memchr(t.ptr + i, '}', t.len - i);
            looked = true;
        }
        const char *close = c == '{' ? next_close : NULL;
        const char *open =
            close != NULL
                ? memchr(t.ptr + i + 1, '{', (size_t)(close - t.ptr) - i - 1)
                : NULL;
        struct token k;
        const struct sl_value *v = NULL;
        if (close != NULL && open == NULL &&
            token_of(t.ptr + i + 1, (size_t)(close - t.ptr) - i - 1, &k)) {
            if (++tokens > TOKENS_MAX) {
                o->bad = -1;
                return;
            }
            const struct sl_value *rendering =
                k.format.ptr != NULL ? next_rendering(&r) : NULL;
            v = member(props, k.name.ptr, k.name.len);
            if (v != NULL) {
                render_token(o, &k, v, rendering);
                i = (size_t)(close - t.ptr) + 1;
                continue;
            }
        }
        /* text up to the next brace; a brace that opens no token is text */
        size_t j = i + 1;
        while (j < t.len && t.ptr[j] != '{' && t.ptr[j] != '}')
            j++;
        if (v == NULL && close != NULL && open == NULL)
            j = (size_t)(close - t.ptr) + 1; /* no such property: as is */
        put(o, t.ptr + i, j - i);
        i = j;
    }
}

/* The template rendered with the properties of props (the line, or
 * JsonFormatter's "Properties") as the line's "message", last. -1: out
 * of memory. */
static int put_message(struct sl_event *ev, struct sl_value *line,
                       struct sl_value *props, const struct sl_value *mt)
{
    struct out o = {.bad = 0};
    const struct sl_value *r = member(line, "@r", 2);
    sl_buf_init(&o.b, RENDER_MAX);
    render_template(&o, props, mt->text,
                    r != NULL && r->type == SL_VALUE_ARRAY ? r->first : NULL);
    struct sl_slice text = mt->text; /* too long to render: as before */
    if (!o.bad) {
        char *s = sl_event_strdup(ev, o.b.len ? o.b.ptr : "", o.b.len);
        text = (struct sl_slice){s, o.b.len};
    }
    sl_buf_release(&o.b);
    if (text.ptr == NULL)
        return -1;
    return proc_json_link_new(ev, line, SL_VALUE_STRING,
                              SL_SLICE_LIT("message"), text);
}

/* Serilog's JsonFormatter (Serilog.Formatting.Json, not compact):
 * "Timestamp", "Level", "MessageTemplate", the properties in
 * "Properties", and "RenderedMessage" with renderMessage: true. The
 * template and the message, as CLEF's "@mt" and "@m"; *props the
 * properties' object. */
static void json_formatter(struct sl_value *line, struct sl_value **mt,
                           struct sl_value **m, struct sl_value **props)
{
    *mt = member(line, "MessageTemplate", 15);
    *m = member(line, "RenderedMessage", 15);
    struct sl_value *p = member(line, "Properties", 10);
    if (*mt == NULL || (*mt)->type != SL_VALUE_STRING ||
        member(line, "Timestamp", 9) == NULL) {
        *mt = *m = NULL;
        return;
    }
    if (*m != NULL && (*m)->type != SL_VALUE_STRING)
        *m = NULL;
    if (p != NULL && p->type == SL_VALUE_OBJECT)
        *props = p;
}

int proc_json_clef(struct sl_event *ev, struct sl_value *line)
{
    struct sl_value *mt = member(line, "@mt", 3);
    struct sl_value *m = member(line, "@m", 2);
    struct sl_value *props = line;
    if (mt != NULL && mt->type != SL_VALUE_STRING)
        mt = NULL;
    if (m != NULL &&
        (m->type != SL_VALUE_STRING || member(line, "@t", 2) == NULL))
        m = NULL;
    if (mt == NULL && m == NULL)
        json_formatter(line, &mt, &m, &props);
    if ((mt == NULL && m == NULL) || member(line, "message", 7) != NULL)
        return 0;
    if (m != NULL) /* rendered by Serilog */
        m->key = SL_SLICE_LIT("message");
    else if (put_message(ev, line, props, mt) < 0)
        return -1;
    struct sl_value *labels = member(line, "labels", 6);
    if (mt != NULL && member(line, "labels.MessageTemplate", 22) == NULL &&
        (labels == NULL || (labels->type == SL_VALUE_OBJECT &&
                            member(labels, "MessageTemplate", 15) == NULL)))
        mt->key = SL_SLICE_LIT("labels.MessageTemplate");
    return 0;
}
