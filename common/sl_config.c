/* sl_config.c: reading a config file into a tree of nodes with positions.
 *
 * libyajl's callback parser does the JSON (comments allowed); we build the
 * tree. yajl_tree would be shorter but forgets where values were. Positions
 * come from yajl_get_bytes_consumed(), which inside a callback is the offset
 * just after the current token as long as the whole buffer goes to one
 * yajl_parse() call (so it does; the file is read whole, at most 16 MiB).
 * The token's start is the previous token's end moved over white space,
 * comments and at most one ',' or ':'. Offsets only grow, so line and column
 * are both counted incrementally, and the whole parse stays linear even when
 * the file is one long line.
 *
 * Numbers come through yajl's raw number callback so that an integer too big
 * for long long is an error with a position, not yajl's bare "integer
 * overflow". Duplicate keys are found when their object closes, by sorting a
 * copy of the members, so a hostile file with many keys costs n log n.
 *
 * This file does not substitute ${VAR} (sl_config_subst.c) nor read values
 * (sl_config_get.c). */
#include "sl_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "sl_arena.h"
#include "sl_config_priv.h"
#include "sl_file.h"

struct parser {
    struct sl_config *cfg;
    const char *buf;
    size_t len;
    yajl_handle h;
    bool finishing;   /* inside yajl_complete_parse: offsets are not ours */
    size_t prev_end;  /* offset just after the last token we saw */
    size_t lc_off;    /* the position cursor: offset lc_off */
    unsigned lc_line; /* is on line lc_line */
    unsigned lc_col;  /* at column lc_col */
    struct sl_config_node *cur; /* innermost open container */
    int depth;
    const char *key; /* pending key, in the arena */
    size_t key_len;
    unsigned key_line, key_col;
    struct sl_err *err;
    bool failed; /* a callback set err */
};

size_t sl_config_skip_space(const char *b, size_t len, size_t i)
{
    while (i < len) {
        char c = b[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
            c == '\f') {
            i++;
        } else if (c == '/' && i + 1 < len && b[i + 1] == '/') {
            while (i < len && b[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < len && b[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < len; j++) {
                if (b[j] == '*' && b[j + 1] == '/') {
                    end = b + j + 2;
                    break;
                }
            }
            if (end == NULL)
                return i; /* unterminated: yajl reports it */
            i = (size_t)(end - b);
        } else {
            break;
        }
    }
    return i;
}

static size_t token_start(const struct parser *p)
{
    size_t i = sl_config_skip_space(p->buf, p->len, p->prev_end);
    if (i < p->len && (p->buf[i] == ',' || p->buf[i] == ':'))
        i = sl_config_skip_space(p->buf, p->len, i + 1);
    return i;
}

static void token_done(struct parser *p)
{
    p->prev_end = p->finishing ? p->len : yajl_get_bytes_consumed(p->h);
}

/* Line and column of offset off; columns count UTF-8 characters. The cursor
 * only moves forward, one byte at a time, keeping the column as it goes: a
 * column counted again from the line's start for each token made a long
 * one-line file quadratic (320 KB took seconds). cfg->position_work counts
 * the bytes the cursor walks, so a test can see that it stays linear. */
static void line_col(struct parser *p, size_t off, unsigned *line,
                     unsigned *col)
{
    if (off > p->len)
        off = p->len;
    if (off < p->lc_off) { /* never happens: offsets only grow */
        p->lc_off = 0;
        p->lc_line = p->lc_col = 1;
    }
    p->cfg->position_work += off - p->lc_off;
    for (; p->lc_off < off; p->lc_off++) {
        unsigned char c = (unsigned char)p->buf[p->lc_off];
        if (c == '\n') {
            p->lc_line++;
            p->lc_col = 1;
        } else if ((c & 0xC0) != 0x80) {
            p->lc_col++;
        }
    }
    *line = p->lc_line;
    *col = p->lc_col;
}

static int fail(struct parser *p, const struct sl_config_node *n, bool at_key,
                enum sl_status st, const char *what)
{
    sl_config_error_at(n, at_key, st, p->err, "%s", what);
    p->failed = true;
    return 0;
}

static const char *type_article(enum sl_config_type t)
{
    static const char *const names[] = {"null",     "a boolean", "an integer",
                                        "a number", "a string",  "an array",
                                        "an object"};
    return names[t];
}

/* Attaches a new node at the current token to the open container. */
static struct sl_config_node *add_node(struct parser *p,
                                       enum sl_config_type type)
{
    struct sl_config_node *n = sl_arena_calloc(p->cfg->arena, sizeof *n);
    if (n == NULL) {
        sl_err_set(p->err, SL_ENOMEM, "%s: out of memory", p->cfg->name);
        p->failed = true;
        return NULL;
    }
    n->type = type;
    n->file = p->cfg->name;
    line_col(p, token_start(p), &n->line, &n->col);
    struct sl_config_node *parent = p->cur;
    if (parent == NULL) {
        p->cfg->root = n;
        if (type != SL_CONFIG_OBJECT) {
            char what[64];
            snprintf(what, sizeof what,
                     "found %s, expected an object at the top level",
                     type_article(type));
            fail(p, n, false, SL_EINVAL, what);
            return NULL;
        }
        return n;
    }
    n->parent = parent;
    if (parent->type == SL_CONFIG_OBJECT) {
        n->key = p->key;
        n->key_len = p->key_len;
        n->key_line = p->key_line;
        n->key_col = p->key_col;
    }
    n->index = parent->u.kids.n++;
    if (parent->u.kids.last != NULL)
        parent->u.kids.last->next = n;
    else
        parent->u.kids.first = n;
    parent->u.kids.last = n;
    return n;
}

static int on_null(void *ctx)
{
    struct parser *p = ctx;
    struct sl_config_node *n = add_node(p, SL_CONFIG_NULL);
    token_done(p);
    return n != NULL;
}

static int on_bool(void *ctx, int b)
{
    struct parser *p = ctx;
    struct sl_config_node *n = add_node(p, SL_CONFIG_BOOL);
    if (n != NULL)
        n->u.b = b != 0;
    token_done(p);
    return n != NULL;
}

static int on_number(void *ctx, const char *s, size_t len)
{
    struct parser *p = ctx;
    bool is_int = true; /* s is not NUL-terminated */
    for (size_t i = 0; i < len && is_int; i++)
        is_int = s[i] != '.' && s[i] != 'e' && s[i] != 'E';
    struct sl_config_node *n =
        add_node(p, is_int ? SL_CONFIG_INT : SL_CONFIG_DOUBLE);
    token_done(p);
    if (n == NULL)
        return 0;
    char *text = sl_arena_strndup(p->cfg->arena, s, len);
    if (text == NULL)
        return fail(p, n, false, SL_ENOMEM, "out of memory");
    n->number = text;
    errno = 0;
    if (is_int)
        n->u.i = strtoll(text, NULL, 10);
    else
        n->u.d = strtod(text, NULL);
    if (errno == ERANGE) {
        char what[200];
        snprintf(what, sizeof what, "number %.40s%s is out of range%s", text,
                 len > 40 ? "..." : "",
                 is_int ? " (integers go from -9223372036854775808 to "
                          "9223372036854775807)"
                        : "");
        return fail(p, n, false, SL_EINVAL, what);
    }
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct parser *p = ctx;
    struct sl_config_node *n = add_node(p, SL_CONFIG_STRING);
    token_done(p);
    if (n == NULL)
        return 0;
    n->u.str.s = sl_arena_strndup(p->cfg->arena, (const char *)s, len);
    n->u.str.len = len;
    if (n->u.str.s == NULL)
        return fail(p, n, false, SL_ENOMEM, "out of memory");
    return 1;
}

static int on_key(void *ctx, const unsigned char *s, size_t len)
{
    struct parser *p = ctx;
    line_col(p, token_start(p), &p->key_line, &p->key_col);
    token_done(p);
    p->key = sl_arena_strndup(p->cfg->arena, (const char *)s, len);
    p->key_len = len;
    if (p->key == NULL)
        return fail(p, p->cur, false, SL_ENOMEM, "out of memory");
    return 1;
}

static int open_container(struct parser *p, enum sl_config_type type)
{
    struct sl_config_node *n = add_node(p, type);
    token_done(p);
    if (n == NULL)
        return 0;
    if (p->depth >= SL_CONFIG_MAX_DEPTH) {
        char what[64];
        snprintf(what, sizeof what, "nested deeper than %d levels",
                 SL_CONFIG_MAX_DEPTH);
        return fail(p, n, false, SL_ELIMIT, what);
    }
    p->depth++;
    p->cur = n;
    return 1;
}

static int cmp_members(const void *a, const void *b)
{
    const struct sl_config_node *x = *(const struct sl_config_node *const *)a;
    const struct sl_config_node *y = *(const struct sl_config_node *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_key(const struct sl_config_node *x,
                     const struct sl_config_node *y)
{
    return x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0;
}

/* Reports the earliest second occurrence of any key in obj. */
static int check_duplicates(struct parser *p, const struct sl_config_node *obj)
{
    size_t n = obj->u.kids.n;
    if (n < 2)
        return 1;
    struct sl_config_node **v = malloc(n * sizeof *v);
    if (v == NULL)
        return fail(p, obj, false, SL_ENOMEM, "out of memory");
    memcpy(v, obj->u.kids.items, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_members);
    const struct sl_config_node *dup = NULL, *first = NULL;
    size_t g = 0; /* start of the current group of equal keys */
    for (size_t i = 1; i < n; i++) {
        if (!same_key(v[g], v[i])) {
            g = i;
        } else if (i == g + 1 && (dup == NULL || v[i]->index < dup->index)) {
            dup = v[i];
            first = v[g];
        }
    }
    free(v);
    if (dup == NULL)
        return 1;
    char key[200], what[300];
    sl_text_quote(key, sizeof key, dup->key, dup->key_len, '\'');
    snprintf(what, sizeof what, "duplicate key %s (first at %u:%u)", key,
             first->key_line, first->key_col);
    sl_config_error_at(dup, true, SL_EPARSE, p->err, "%s", what);
    p->failed = true;
    return 0;
}

static int close_container(struct parser *p)
{
    struct sl_config_node *n = p->cur;
    token_done(p);
    size_t count = n->u.kids.n;
    if (count > 0) {
        n->u.kids.items =
            sl_arena_alloc(p->cfg->arena, count * sizeof *n->u.kids.items);
        if (n->u.kids.items == NULL)
            return fail(p, n, false, SL_ENOMEM, "out of memory");
        size_t i = 0;
        for (struct sl_config_node *k = n->u.kids.first; k; k = k->next)
            n->u.kids.items[i++] = k;
    }
    p->cur = (struct sl_config_node *)n->parent;
    p->depth--;
    if (n->type == SL_CONFIG_OBJECT)
        return check_duplicates(p, n);
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, SL_CONFIG_OBJECT);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, SL_CONFIG_ARRAY);
}

static int on_end(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,  on_end, on_start_array, on_end,
};

/* yajl's messages, said the way the rest of Sluice speaks. */
static const struct {
    const char *yajl;
    const char *ours;
} reasons[] = {
    {"premature EOF", "unexpected end of file"},
    {"trailing garbage", "unexpected text after the top-level object"},
    {"invalid object key (must be a string)", "expected a key in quotes"},
    {"object key and value must be separated by a colon (':')",
     "expected ':' after the key"},
    {"after key and value, inside map, I expect ',' or '}'",
     "expected ',' or '}' after a value in an object"},
    {"after array element, I expect ',' or ']'",
     "expected ',' or ']' after an element of an array"},
    {"unallowed token at this point in JSON text", "unexpected token"},
    {"invalid char in json text.", "invalid character"},
    {"invalid string in json text.",
     "expected a value (an object, array, string, number, true, false or "
     "null)"},
    {"invalid bytes in UTF8 string.", "invalid UTF-8 in a string"},
};

/* Turns yajl's "parse error: ...\n" into one clean lower-case phrase. */
static void clean_reason(const char *msg, char *out, size_t size)
{
    static const char *const prefixes[] = {"parse error: ", "lexical error: "};
    for (size_t i = 0; i < 2; i++)
        if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0)
            msg += strlen(prefixes[i]);
    size_t len = strcspn(msg, "\n");
    while (len > 0 && (msg[len - 1] == ' ' || msg[len - 1] == '.'))
        len--;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        const char *y = reasons[i].yajl;
        if (strncmp(msg, y, len) == 0 && strlen(y) >= len &&
            (y[len] == '\0' || strcmp(y + len, ".") == 0)) {
            snprintf(out, size, "%s", reasons[i].ours);
            return;
        }
    }
    snprintf(out, size, "%.*s", (int)len, msg);
}

/* Where yajl stopped: the offending token, found from the last good one. */
static size_t error_offset(const struct parser *p, size_t consumed,
                           bool lexical)
{
    if (p->finishing || consumed > p->len)
        return p->len;
    size_t i = sl_config_skip_space(p->buf, p->len, p->prev_end);
    if (i < p->len && (p->buf[i] == ',' || p->buf[i] == ':') &&
        consumed > i + 1)
        i = sl_config_skip_space(p->buf, p->len, i + 1);
    if (lexical && i < p->len && p->buf[i] == '"' && consumed > i + 1)
        i = consumed - 1; /* the bad byte inside the string */
    return i;
}

static void syntax_error(struct parser *p)
{
    unsigned char *msg = yajl_get_error(p->h, 0, NULL, 0);
    const char *m = msg != NULL ? (const char *)msg : "syntax error";
    char reason[160], found[32] = "";
    clean_reason(m, reason, sizeof reason);
    size_t off = error_offset(p, yajl_get_bytes_consumed(p->h),
                              strncmp(m, "lexical", 7) == 0);
    struct sl_config_syntax s = {.buf = p->buf,
                                 .len = p->len,
                                 .last = p->prev_end,
                                 .off = off,
                                 .at_end = p->finishing ||
                                           strstr(m, "premature EOF") != NULL,
                                 .yajl = m,
                                 .open = p->cur};
    struct sl_config_explained e;
    bool explained = sl_config_syntax_explain(&s, &e);
    if (msg != NULL)
        yajl_free_error(p->h, msg);
    unsigned line, col;
    if (explained) {
        line_col(p, e.at, &line, &col);
        sl_err_set(p->err, SL_EPARSE, "%s:%u:%u: %s", p->cfg->name, line, col,
                   e.reason);
        return;
    }
    if (off < p->len) {
        unsigned char c = (unsigned char)p->buf[off];
        if (c > ' ' && c < 0x7F)
            snprintf(found, sizeof found, ", found '%c'", c);
        else
            snprintf(found, sizeof found, ", found byte 0x%02X", c);
    }
    line_col(p, off, &line, &col);
    sl_err_set(p->err, SL_EPARSE, "%s:%u:%u: %s%s", p->cfg->name, line, col,
               reason, found);
}

static int parse(struct parser *p)
{
    p->h = yajl_alloc(&callbacks, NULL, p);
    if (p->h == NULL)
        return sl_err_set(p->err, SL_ENOMEM, "%s: out of memory", p->cfg->name);
    yajl_config(p->h, yajl_allow_comments, 1);
    yajl_status st = yajl_parse(p->h, (const unsigned char *)p->buf, p->len);
    if (st == yajl_status_ok) {
        p->finishing = true;
        st = yajl_complete_parse(p->h);
    }
    if (st != yajl_status_ok && !p->failed)
        syntax_error(p);
    yajl_free(p->h);
    return st == yajl_status_ok ? 0 : -1;
}

/* A byte order mark at the start: UTF-8's is skipped (editors on Windows
 * write one; RFC 8259 lets a parser ignore it), and lines and columns then
 * count from after it, as the editor shows them; UTF-16's is refused in
 * plain words, not as a byte 0xFF. 0, or -1 with err. */
static int byte_order_mark(const char *name, const char **buf, size_t *len,
                           struct sl_err *err)
{
    const unsigned char *b = (const unsigned char *)*buf;
    if (*len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        *buf += 3;
        *len -= 3;
    } else if (*len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) ||
                             (b[0] == 0xFE && b[1] == 0xFF))) {
        return sl_err_set(err, SL_EPARSE,
                          "%s:1:1: the file is in UTF-16 (it starts with the "
                          "bytes 0x%02X 0x%02X); save it as UTF-8",
                          name, b[0], b[1]);
    }
    return 0;
}

struct sl_config *sl_config_load_buffer(const char *name, const char *buf,
                                        size_t len, struct sl_err *err)
{
    if (byte_order_mark(name, &buf, &len, err) < 0)
        return NULL;
    struct parser p = {
        .buf = buf, .len = len, .lc_line = 1, .lc_col = 1, .err = err};
    struct sl_config *c = calloc(1, sizeof *c);
    if (c == NULL || (c->arena = sl_arena_new(16384)) == NULL ||
        (c->name = sl_arena_strndup(c->arena, name, strlen(name))) == NULL) {
        sl_err_set(err, SL_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    p.cfg = c;
    if (len > SL_CONFIG_MAX_FILE) {
        sl_err_set(err, SL_ELIMIT, "%s: file is larger than %u MiB", name,
                   SL_CONFIG_MAX_FILE >> 20);
        goto fail;
    }
    if (sl_config_skip_space(buf, len, 0) == len) {
        /* a position too, as every other config error has one */
        sl_err_set(err, SL_EINVAL, "%s:1:1: file is empty, expected an object",
                   name);
        goto fail;
    }
    if (parse(&p) < 0 || sl_config_subst_tree(c, c->root, err) < 0)
        goto fail;
    return c;
fail:
    sl_config_free(c);
    return NULL;
}

/* Reads the whole file (sl_file: EINTR, short reads, size limit). */
/* A config from a pipe (`-c <(envsubst < shipper.tpl)`, `-c /dev/stdin`,
 * a FIFO), read to its end: sl_file_read takes regular files only. */
static int read_pipe(const char *path, struct sl_buf *b, struct sl_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_err_set(err, SL_EIO, "cannot open '%s': %s", path,
                          sl_strerror(errno));
    for (;;) {
        if (b->len == SL_CONFIG_MAX_FILE) {
            char probe;
            ssize_t n = sl_file_read_full(fd, &probe, 1);
            close(fd);
            return n == 0 ? 0
                          : sl_err_set(err, SL_ELIMIT,
                                       "'%s' is larger than %u bytes", path,
                                       SL_CONFIG_MAX_FILE);
        }
        size_t want = SL_CONFIG_MAX_FILE - b->len;
        want = want < 65536 ? want : 65536;
        if (sl_buf_reserve(b, want, err) < 0) {
            close(fd);
            return -1;
        }
        ssize_t n = sl_file_read_full(fd, b->ptr + b->len, want);
        if (n < 0) {
            int e = errno;
            close(fd);
            return sl_err_set(err, SL_EIO, "cannot read '%s': %s", path,
                              sl_strerror(e));
        }
        b->len += (size_t)n;
        b->ptr[b->len] = '\0';
        if ((size_t)n < want) {
            close(fd);
            return 0;
        }
    }
}

static char *read_file(const char *path, size_t *len, struct sl_err *err)
{
    struct sl_buf b = SL_BUF_INIT(SL_CONFIG_MAX_FILE);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)
            ? read_pipe(path, &b, err) < 0
            : sl_file_read(path, NULL, SL_CONFIG_MAX_FILE, &b, err) < 0) {
        sl_buf_release(&b);
        return NULL;
    }
    *len = b.len;
    return sl_buf_take(&b);
}

struct sl_config *sl_config_load_file(const char *path, struct sl_err *err)
{
    size_t len;
    char *buf = read_file(path, &len, err);
    if (buf == NULL)
        return NULL;
    struct sl_config *c = sl_config_load_buffer(path, buf, len, err);
    free(buf);
    return c;
}

void sl_config_free(struct sl_config *c)
{
    if (c == NULL)
        return;
    sl_arena_free(c->arena);
    free(c);
}

const struct sl_config_node *sl_config_root(const struct sl_config *c)
{
    return c != NULL ? c->root : NULL;
}
