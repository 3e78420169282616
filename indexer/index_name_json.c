/* index_name_json.c: finds the few fields an index pattern names in an
 * event's JSON, with yajl's event parser, and stops once they are found.
 *
 * Each open container keeps a bit mask of the paths whose segments so far
 * match the keys that lead to it; a key narrows the mask of its container
 * to the paths whose next segment it is, and the value after it either
 * completes a path (a scalar), opens the next level (an object) or ends
 * the search below it (an array: paths do not index arrays). So the cost
 * is one pass over the bytes up to the last field found, whatever the
 * event holds, and memory is a mask per level.
 *
 * yajl allocates its handle, lexer and stacks per parse (it has no reset);
 * those come from a pool inside the struct, so a lookup calls malloc only
 * for an event past the pool (deep nesting, long escaped strings). */
#include "index_name_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

/* Every pool block starts with its size, so realloc knows what to copy. */
#define HDR 16

static bool in_pool(const struct index_name_json *j, const void *p)
{
    const unsigned char *b = p;
    return b >= j->pool && b < j->pool + sizeof j->pool;
}

static void *pool_malloc(void *ctx, size_t sz)
{
    struct index_name_json *j = ctx;
    size_t need = HDR + ((sz + 15) & ~(size_t)15);
    if (sz <= sizeof j->pool && need <= sizeof j->pool - j->used) {
        unsigned char *b = j->pool + j->used;
        j->used += need;
        memcpy(b, &sz, sizeof sz);
        return b + HDR;
    }
    return malloc(sz);
}

static void pool_free(void *ctx, void *p)
{
    if (p != NULL && !in_pool(ctx, p))
        free(p);
}

static void *pool_realloc(void *ctx, void *p, size_t sz)
{
    if (p == NULL)
        return pool_malloc(ctx, sz);
    if (!in_pool(ctx, p))
        return realloc(p, sz);
    size_t old;
    memcpy(&old, (unsigned char *)p - HDR, sizeof old);
    void *n = pool_malloc(ctx, sz);
    if (n != NULL)
        memcpy(n, p, old < sz ? old : sz);
    return n;
}

void index_name_value_add(struct index_name_value *v, const char *s, size_t len)
{
    for (size_t i = 0; i < len && v->len < sizeof v->text; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-'))
            c = '_';
        v->text[v->len++] = (char)c;
    }
}

/* The value after a key: the paths it completes get it. Returns 0 to stop
 * the parse once every path is done. */
static int scalar(struct index_name_json *j, const char *s, size_t len)
{
    unsigned seg = j->depth - 1;
    for (unsigned f = 0; f < j->npaths; f++) {
        if (!(j->pending & (1u << f)) || j->paths[f].nseg != seg + 1)
            continue;
        j->found |= 1u << f;
        index_name_value_add(&j->vals[f], s, len);
    }
    j->pending = 0;
    return j->found != (1u << j->npaths) - 1;
}

static int on_null(void *ctx)
{
    return scalar(ctx, NULL, 0);
}

static int on_bool(void *ctx, int b)
{
    return b ? scalar(ctx, "true", 4) : scalar(ctx, "false", 5);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, s, len);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, (const char *)s, len);
}

/* An object or array opens. Its mask: every path at the root object;
 * below, the paths the key before it named and that go deeper (none in an
 * array: paths do not index arrays). A path the key ended found a
 * container, which is no value for a name: done, missing. */
static int open_level(struct index_name_json *j, bool object)
{
    unsigned all = (1u << j->npaths) - 1, m = 0;
    if (j->depth == 0)
        m = object ? all : 0;
    for (unsigned f = 0; j->depth > 0 && f < j->npaths; f++) {
        if (!(j->pending & (1u << f)))
            continue;
        if (j->paths[f].nseg == j->depth)
            j->found |= 1u << f;
        else if (object)
            m |= 1u << f;
    }
    j->pending = 0;
    /* Deeper than any path: m is 0 there, nothing to keep. */
    if (j->depth < sizeof j->mask / sizeof j->mask[0])
        j->mask[j->depth] = m;
    j->depth++;
    return j->found != all;
}

static int on_start_map(void *ctx)
{
    return open_level(ctx, true);
}

static int on_start_array(void *ctx)
{
    return open_level(ctx, false);
}

static int on_end(void *ctx)
{
    struct index_name_json *j = ctx;
    j->depth--;
    j->pending = 0;
    return 1;
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    struct index_name_json *j = ctx;
    unsigned seg = j->depth - 1, m = 0;
    if (seg < sizeof j->mask / sizeof j->mask[0])
        m = j->mask[seg] & ~j->found;
    j->pending = 0;
    for (unsigned f = 0; m != 0 && f < j->npaths; f++)
        if ((m & (1u << f)) && j->paths[f].nseg > seg &&
            sl_slice_eq(j->paths[f].seg[seg], (const char *)key, len))
            j->pending |= 1u << f;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_bool, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,  on_end, on_start_array, on_end};

void index_name_json_lookup(struct index_name_json *j, const char *json,
                            size_t len)
{
    yajl_alloc_funcs af = {pool_malloc, pool_realloc, pool_free, j};
    for (unsigned f = 0; f < j->npaths; f++)
        j->vals[f].len = 0;
    j->found = j->pending = j->depth = 0;
    j->used = 0;
    yajl_handle h = yajl_alloc(&callbacks, &af, j);
    if (h == NULL)
        return;
    /* Values are sanitised to ASCII anyway; the event was written by
     * sl_json, which only writes valid UTF-8. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    if (yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok)
        SL_IGNORE_RESULT(yajl_complete_parse(h)); /* found is what counts */
    yajl_free(h);
}
