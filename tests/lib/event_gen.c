/* event_gen.c: see event_gen.h. */
#include "event_gen.h"

#include <stdbool.h>
#include <string.h>

#include "sl_json.h"

static unsigned next(struct event_gen *g)
{
    return g->p < g->end ? *g->p++ : 0;
}

/* Bytes that need care, and some that do not. */
static const unsigned char alphabet[] = {
    'a',  'b',  ' ',  '/',  '1',  '.',  '"',  '\\', '\n', '\t', 1,
    0,    0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
    0xff, 0xc0, 'G',  'E',  'T',  '-',  ':',  'z',  '[',  ']'};

/* The ASCII ones: a message of them may be stored as a template. */
static const unsigned char ascii[] = {'a',  'b',  ' ',  '/', '1', '.',  '"',
                                      '\\', '\n', '\t', 1,   0,   0x7f, 'G',
                                      'E',  'T',  '-',  ':', 'z', '[',  ']'};

static char *bytes(struct event_gen *g, size_t n, bool only_ascii)
{
    char *s = sl_arena_alloc(g->arena, n + 1);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned c = next(g);
        s[i] = (char)(c >= 128     ? 'a' + c % 26
                      : only_ascii ? ascii[c % sizeof ascii]
                                   : alphabet[c % sizeof alphabet]);
    }
    s[n] = '\0';
    return s;
}

static const char *const keys[] = {
    "a",        "b",
    "message",  "@metadata",
    "tags",     "k\"q",
    "ke\\y",    "\x01",
    "\xff\xfe", "",
    "host",     "clientip",
    "request",  "a_rather_long_key_name_that_goes_on"};
static const char *const numbers[] = {"0",     "-1",  "3.5",
                                      "1e300", "200", "12345678901234567890"};

static struct sl_value *member(struct event_gen *g, struct sl_event *ev,
                               struct sl_value *obj)
{
    if (obj->type == SL_VALUE_ARRAY)
        return sl_event_append(ev, obj, (struct sl_slice){NULL, 0}, true);
    const char *k = keys[next(g) % (sizeof keys / sizeof keys[0])];
    struct sl_slice key = sl_slice_from(k);
    return sl_event_append(ev, obj, key,
                           sl_json_plain_prefix(k, key.len) == key.len);
}

static int fill(struct event_gen *g, struct sl_event *ev, struct sl_value *obj,
                struct sl_slice msg, int depth);

/* One value at v: a scalar, a span of the message, or a container. */
static int value(struct event_gen *g, struct sl_event *ev, struct sl_value *v,
                 struct sl_slice msg, int depth)
{
    unsigned t = next(g) % 10;
    if (t == 0) {
        sl_value_set(v, SL_VALUE_NULL, NULL, 0);
    } else if (t == 1) {
        bool yes = next(g) & 1;
        sl_value_set(v, SL_VALUE_BOOL, yes ? "true" : "false", yes ? 4 : 5);
    } else if (t == 2) {
        const char *n = numbers[next(g) % (sizeof numbers / sizeof numbers[0])];
        sl_value_set(v, SL_VALUE_NUMBER, n, strlen(n));
    } else if ((t == 3 || t == 4 || t == 5) && msg.len > 0) {
        size_t off = next(g) % msg.len, n = next(g) % (msg.len - off + 1);
        /* a number must be one: a run of 1s of the message, or a string */
        if (t == 5)
            for (n = 0; off + n < msg.len && msg.ptr[off + n] == '1'; n++)
                ;
        sl_value_set(v, t == 5 && n > 0 ? SL_VALUE_NUMBER : SL_VALUE_STRING,
                     msg.ptr + off, n);
    } else if ((t == 6 || t == 7) && depth < 3) {
        sl_value_set(v, SL_VALUE_OBJECT, NULL, 0);
        v->type = t == 6 ? SL_VALUE_OBJECT : SL_VALUE_ARRAY;
        return fill(g, ev, v, msg, depth + 1);
    } else {
        size_t n = next(g) % 24;
        if (next(g) == 255)
            n = 5000;
        char *s = bytes(g, n, false);
        if (s == NULL)
            return -1;
        sl_value_set(v, SL_VALUE_STRING, s, n);
    }
    return 0;
}

static int fill(struct event_gen *g, struct sl_event *ev, struct sl_value *obj,
                struct sl_slice msg, int depth)
{
    size_t n = next(g) % 6;
    if (next(g) == 7)
        n = 70 + next(g) % 40; /* past the columns */
    for (size_t i = 0; i < n; i++) {
        struct sl_value *v = member(g, ev, obj);
        if (v == NULL || value(g, ev, v, msg, depth) < 0)
            return -1;
    }
    return 0;
}

void event_gen_init(struct event_gen *g, struct sl_arena *arena)
{
    memset(g, 0, sizeof *g);
    g->arena = arena;
    sl_buf_init(&g->rendered_json, 1 << 16);
    /* {"name":"web-1","n":2}, as the shipper renders its host */
    static struct sl_value name, num;
    name = (struct sl_value){.key = SL_SLICE_LIT("name"),
                             .type = SL_VALUE_STRING,
                             .key_plain = true,
                             .text = SL_SLICE_LIT("web-1")};
    num = (struct sl_value){.key = SL_SLICE_LIT("n"),
                            .type = SL_VALUE_NUMBER,
                            .key_plain = true,
                            .text = SL_SLICE_LIT("2")};
    name.next = &num;
    g->shape = (struct sl_value){
        .type = SL_VALUE_OBJECT, .first = &name, .last = &num};
    if (sl_value_write_json(&g->shape, &g->rendered_json, NULL) == 0)
        g->rendered = (struct sl_value_json){&g->shape, g->rendered_json.ptr,
                                             g->rendered_json.len};
}

void event_gen_release(struct event_gen *g)
{
    sl_buf_release(&g->rendered_json);
}

void event_gen_feed(struct event_gen *g, const uint8_t *p, size_t n)
{
    g->p = p;
    g->end = p + n;
}

/* The rendered value as the shipper adds it; changed now and then after,
 * so the writer walks it instead. */
static int put_rendered(struct event_gen *g, struct sl_event *ev)
{
    struct sl_value *v =
        sl_event_append(ev, &ev->root, SL_SLICE_LIT("host"), true);
    if (v == NULL)
        return -1;
    /* its own nodes, with the shape's keys and texts (the writer compares
     * pointers) */
    v->type = SL_VALUE_OBJECT;
    v->rendered = 1;
    for (const struct sl_value *s = g->shape.first; s != NULL; s = s->next) {
        struct sl_value *c = sl_event_append(ev, v, s->key, s->key_plain);
        if (c == NULL)
            return -1;
        sl_value_set(c, s->type, s->text.ptr, s->text.len);
    }
    if (next(g) % 4 == 0) {
        struct sl_value *x =
            sl_event_append(ev, v, SL_SLICE_LIT("extra"), true);
        if (x == NULL)
            return -1;
        sl_value_set(x, SL_VALUE_STRING, "\"x\"", 3);
    }
    return 0;
}

/* Captures that cover most of the message, as grok's of a log line do:
 * spans of 1 to 8 bytes with 0 to 2 bytes between them (a run of 1s as a
 * number, now and then). */
static int tile(struct event_gen *g, struct sl_event *ev, struct sl_slice msg)
{
    for (size_t off = next(g) % 3; off < msg.len;) {
        size_t n = 1 + next(g) % 8;
        if (n > msg.len - off)
            n = msg.len - off;
        bool ones = next(g) % 4 == 0;
        for (size_t i = 0; ones && i < n; i++)
            ones = msg.ptr[off + i] == '1';
        struct sl_value *v = member(g, ev, &ev->root);
        if (v == NULL)
            return -1;
        sl_value_set(v, ones ? SL_VALUE_NUMBER : SL_VALUE_STRING, msg.ptr + off,
                     n);
        off += n + next(g) % 3;
    }
    return 0;
}

int event_gen_build(struct event_gen *g, struct sl_event *ev)
{
    sl_event_reset(ev);
    sl_event_set_rendered(ev, &g->rendered, g->rendered.json != NULL);
    struct sl_slice msg = {NULL, 0};
    unsigned m = next(g) % 4;
    bool tiled = false;
    if (m != 0) {
        size_t n = next(g) % 80;
        tiled = next(g) % 2 == 0;
        char *s = bytes(g, n, tiled);
        struct sl_value *v =
            sl_event_append(ev, &ev->root, SL_SLICE_LIT("message"), true);
        if (s == NULL || v == NULL)
            return -1;
        msg = (struct sl_slice){s, n};
        if (m == 3)
            sl_value_set(v, SL_VALUE_NUMBER, "42", 2); /* not a string */
        else
            sl_value_set(v, SL_VALUE_STRING, s, n);
    }
    if (next(g) % 3 == 0 && put_rendered(g, ev) < 0)
        return -1;
    if (fill(g, ev, &ev->root, msg, 0) < 0 || (tiled && tile(g, ev, msg) < 0))
        return -1;
    if (m == 2 && msg.len > 1) {
        /* a capture overwrote the message: spans of the old one are not
         * all inside it */
        size_t off = next(g) % msg.len;
        sl_value_set(ev->root.first, SL_VALUE_STRING, msg.ptr + off,
                     next(g) % (msg.len - off + 1));
    }
    return 0;
}
