/* fuzz_container_log.c: arbitrary bytes cut into lines by line_reader (fed
 * in chunks) and joined by container_log as docker, cri or lines. Byte 0
 * picks the format and the chunk size, byte 1 max_bytes.
 *
 * The same input goes to two consumers: an eager one that pulls after
 * every push, and a lazy one that pulls only when a push is refused. Both
 * must get the same records. Checks the module's promises: records come in
 * stream order without overlap, between offsets of the stream; every line
 * pushed is a part of exactly one record; no text exceeds max_bytes; an
 * invalid record's text is its raw line (without a byte order mark at
 * offset 0); done_offset never goes back,
 * never passes the record peeked, and is the end of the input after the
 * flush; only the record that flush completed carries a cut, its end.
 *
 * And the docker parser against libyajl: a line it takes, if valid UTF-8,
 * is JSON for yajl too, whose `log` (when the key is there once) decodes
 * to the same bytes as container_unescape's, up to a first NUL (yajl's
 * tree gives C strings) and unless a surrogate escape is in it (yajl
 * decodes a lone one its own way). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "container_log.h"
#include "container_parse.h"
#include "line_reader.h"
#include "sl_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    struct container_log_record r;
    size_t pos; /* its text in run.texts */
};

struct run {
    const uint8_t *stream;
    size_t size, max_bytes;
    bool lazy;
    struct rec *rec;
    char *texts;
    size_t n, texts_len;
    size_t known; /* lazy: the records the eager run got */
    uint64_t parts, done;
};

static void check_done(struct container_log *cl, struct run *r)
{
    uint64_t d = container_log_done_offset(cl);
    if (d < r->done)
        abort();
    r->done = d;
}

static void check_record(struct run *r, const struct container_log_record *c)
{
    if (c->text.ptr == NULL || c->text.len > r->max_bytes || c->parts == 0 ||
        c->end <= c->offset || c->end > r->size || c->offset < r->done ||
        (c->cut != 0 && c->cut != c->end))
        abort();
    if (r->n > 0 && c->offset < r->rec[r->n - 1].r.end)
        abort();
    /* the raw line, but for a byte order mark opening the stream */
    size_t raw = c->offset;
    if (raw == 0 && r->size >= 3 && memcmp(r->stream, "\xEF\xBB\xBF", 3) == 0)
        raw = 3;
    if (c->invalid &&
        (c->parts != 1 || c->time_ms != CONTAINER_LOG_NO_TIME ||
         c->stream != CONTAINER_LOG_STREAM_NONE || raw + c->text.len > c->end ||
         memcmp(r->stream + raw, c->text.ptr, c->text.len) != 0))
        abort();
}

static bool pull_one(struct container_log *cl, struct run *r)
{
    struct container_log_record c;
    check_done(cl, r);
    if (!container_log_peek(cl, &c))
        return false;
    check_done(cl, r);
    check_record(r, &c);
    struct rec *x = &r->rec[r->n];
    if (r->lazy) {
        const struct container_log_record *e = &x->r;
        if (r->n >= r->known || e->offset != c.offset || e->end != c.end ||
            e->time_ms != c.time_ms || e->stream != c.stream ||
            e->parts != c.parts || e->truncated != c.truncated ||
            e->invalid != c.invalid || e->cut != c.cut ||
            e->text.len != c.text.len ||
            memcmp(r->texts + x->pos, c.text.ptr, c.text.len) != 0)
            abort();
    } else {
        x->r = c;
        x->pos = r->texts_len;
        memcpy(r->texts + r->texts_len, c.text.ptr, c.text.len);
        r->texts_len += c.text.len;
    }
    r->n++;
    container_log_pop(cl);
    check_done(cl, r);
    return true;
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = sl_utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static bool has_surrogate(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++)
        if (s[i] == '\\' && s[i + 1] == 'u' && (s[i + 2] | 0x20) == 'd')
            return true;
    return false;
}

/* The docker parser against yajl (see the top). */
static void check_docker_line(const char *line, size_t len)
{
    struct container_part p;
    if (container_parse_docker(line, len, &p) < 0 || !valid_utf8(line, len) ||
        memchr(line, 0, len))
        return;
    char *z = malloc(len + 1), err[128];
    if (z == NULL)
        abort();
    memcpy(z, line, len);
    z[len] = '\0';
    yajl_val root = yajl_tree_parse(z, err, sizeof err);
    if (root == NULL || !YAJL_IS_OBJECT(root))
        abort();
    const char *v = NULL;
    size_t logs = 0;
    for (size_t i = 0; i < root->u.object.len; i++)
        if (strcmp(root->u.object.keys[i], "log") == 0 && logs++ == 0)
            v = YAJL_GET_STRING(root->u.object.values[i]);
    if (logs == 1 && v != NULL && !has_surrogate(p.text.ptr, p.text.len)) {
        char *out = malloc(p.text.len + 1);
        bool cut;
        if (out == NULL)
            abort();
        size_t n =
            container_unescape(p.text.ptr, p.text.len, out, p.text.len, &cut);
        size_t vn = strlen(v);
        const char *nul = memchr(out, 0, n);
        size_t m = nul ? (size_t)(nul - out) : n;
        /* yajl's value keeps the final "\n" that the part leaves out */
        if (cut || vn < m || memcmp(out, v, m) != 0 ||
            (nul == NULL &&
             (vn - m > 2 || (vn > m && v[m] != '\r' && v[m] != '\n'))))
            abort();
        free(out);
    }
    yajl_tree_free(root);
    free(z);
}

static void push(struct container_log *cl, struct run *r,
                 const struct line_reader *lr, struct sl_slice l, bool cut,
                 enum container_log_format fmt)
{
    struct multiline_line line = {l.ptr, l.len, line_reader_line_offset(lr),
                                  line_reader_line_end(lr), cut};
    if (fmt == CONTAINER_LOG_DOCKER && !r->lazy)
        check_docker_line(l.ptr, l.len);
    r->parts++;
    uint64_t lines = container_log_stats(cl)->lines;
    /* refused: nothing taken; pull (a line left to place may give no
     * record), and once peek said none, the push is taken */
    bool none = false;
    while (!container_log_push(cl, &line)) {
        if (container_log_stats(cl)->lines != lines || none)
            abort();
        none = !pull_one(cl, r);
    }
    if (!r->lazy)
        while (pull_one(cl, r))
            ;
}

static void run_once(const uint8_t *data, struct run *r)
{
    static const enum container_log_format fmts[] = {
        CONTAINER_LOG_DOCKER, CONTAINER_LOG_CRI, CONTAINER_LOG_LINES};
    static const size_t bytes[] = {1, 7, 40, 1 << 20};
    enum container_log_format fmt = fmts[(data[0] & 3) % 3];
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    r->max_bytes = bytes[data[1] & 3];
    struct container_log *cl = container_log_new(fmt, r->max_bytes, NULL);
    /* a small line limit too, so lines come cut */
    size_t limit = data[1] & 4 ? 64 : container_log_line_limit(fmt, 1 << 20);
    struct line_reader *lr = line_reader_new(limit);
    if (cl == NULL || lr == NULL)
        abort();
    struct sl_slice l;
    bool cut;
    uint64_t pushed = 0;
    for (size_t pos = 0; pos < r->size; pos += chunk) {
        size_t n = r->size - pos < chunk ? r->size - pos : chunk;
        if (line_reader_feed(lr, (const char *)r->stream + pos, n, NULL) < 0)
            abort();
        while (line_reader_next(lr, &l, &cut)) {
            push(cl, r, lr, l, cut, fmt);
            pushed++;
        }
    }
    if (line_reader_finish(lr, &l, &cut)) {
        push(cl, r, lr, l, cut, fmt);
        pushed++;
    }
    container_log_flush(cl);
    while (pull_one(cl, r))
        ;
    const struct container_log_stats *st = container_log_stats(cl);
    uint64_t parts = 0;
    for (size_t i = 0; i < r->n; i++) {
        parts += r->rec[i].r.parts;
        if (r->rec[i].r.cut != 0 && i + 1 != r->n)
            abort(); /* only the flush at the end cuts */
    }
    if (st->lines != pushed || parts != pushed || st->records != r->n ||
        (pushed > 0 && container_log_done_offset(cl) != r->size))
        abort();
    line_reader_free(lr);
    container_log_free(cl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 << 16)
        return 0;
    struct rec *rec = malloc((size + 1) * sizeof *rec);
    char *texts = malloc(size + 1);
    if (rec == NULL || texts == NULL)
        abort();
    struct run eager = {
        .stream = data + 2, .size = size - 2, .rec = rec, .texts = texts};
    run_once(data, &eager);
    struct run lazy = {.stream = data + 2,
                       .size = size - 2,
                       .lazy = true,
                       .rec = rec,
                       .texts = texts,
                       .known = eager.n};
    run_once(data, &lazy);
    if (lazy.n != eager.n)
        abort();
    free(texts);
    free(rec);
    return 0;
}
