/* sl_arena.c: blocks chained newest first. Allocation bumps a pointer in the
 * newest block (inline, in the header); a request that does not fit starts a
 * new block (the rest of the old one is wasted: at most one request's worth
 * per block).
 *
 * Sizes are checked before any arithmetic: a request larger than MAX_REQUEST
 * fails, so rounding it up and adding the block header cannot wrap, and every
 * block stays small enough for end - next to be a valid ptrdiff_t. */
#include "sl_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sl_arena_block {
    struct sl_arena_block *next;
    size_t size; /* usable bytes after the header */
    alignas(max_align_t) unsigned char data[];
};

#define ALIGN_UP(n) (((n) + SL_ARENA_ALIGN - 1) & ~(size_t)(SL_ARENA_ALIGN - 1))
#define MAX_REQUEST                                                            \
    ((size_t)PTRDIFF_MAX - sizeof(struct sl_arena_block) - SL_ARENA_ALIGN)

/* Where next and end point while the arena has no block: a real object, so
 * end - next is 0 by the rules of C (NULL - NULL is not). Never written. */
static alignas(max_align_t) unsigned char no_block[SL_ARENA_ALIGN];

static void check(const struct sl_arena *a)
{
    assert(a->next <= a->end);
    assert(((uintptr_t)a->next & (SL_ARENA_ALIGN - 1)) == 0);
    assert(a->head != NULL ||
           (a->next == no_block && a->end == no_block && a->footprint == 0));
    assert(a->head == NULL || (a->next >= a->head->data &&
                               a->end == a->head->data + a->head->size));
    (void)a;
}

static void set_empty(struct sl_arena *a)
{
    a->next = a->end = no_block;
}

struct sl_arena *sl_arena_new(size_t block_size)
{
    struct sl_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    if (block_size > MAX_REQUEST)
        block_size = MAX_REQUEST;
    a->block_size = block_size < 256 ? 256 : ALIGN_UP(block_size);
    set_empty(a);
    return a;
}

static void free_block(struct sl_arena_block *b)
{
    /* Hand the allocator back memory it did not poison itself. */
    SL_ARENA_UNPOISON(b->data, b->size);
    free(b);
}

void sl_arena_free(struct sl_arena *a)
{
    if (a == NULL)
        return;
    check(a);
    struct sl_arena_block *b = a->head;
    while (b != NULL) {
        struct sl_arena_block *next = b->next;
        free_block(b);
        b = next;
    }
    free(a);
}

/* need: aligned, at most MAX_REQUEST, so the sum below cannot wrap. */
static struct sl_arena_block *add_block(struct sl_arena *a, size_t need)
{
    size_t size = need > a->block_size ? need : a->block_size;
    if (a->limit != 0 &&
        (a->footprint > a->limit ||
         sizeof(struct sl_arena_block) + size > a->limit - a->footprint))
        return NULL;
    struct sl_arena_block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->next = a->head;
    a->head = b;
    a->next = b->data;
    a->end = b->data + size;
    a->footprint += sizeof *b + size;
    SL_ARENA_POISON(b->data, size);
    return b;
}

void *sl_arena_alloc_block(struct sl_arena *a, size_t n)
{
    check(a);
    if (n > MAX_REQUEST)
        return NULL;
    size_t need = ALIGN_UP(n ? n : 1);
    if (need > (size_t)(a->end - a->next) && add_block(a, need) == NULL)
        return NULL;
    void *p = a->next;
    a->next += need;
    SL_ARENA_UNPOISON(p, n);
    return p;
}

void *sl_arena_calloc(struct sl_arena *a, size_t n)
{
    void *p = sl_arena_alloc(a, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = sl_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Debug builds: make what a stale pointer reads obvious (ASan builds report
 * the read instead, through the poisoning). */
static void forget(struct sl_arena_block *b)
{
#if !defined(NDEBUG) && !defined(SL_ARENA_ASAN)
    memset(b->data, 0xA5, b->size);
#endif
    SL_ARENA_POISON(b->data, b->size);
}

void sl_arena_rewind(struct sl_arena *a, struct sl_arena_mark m)
{
    check(a);
    while (a->head != m.head) {
        struct sl_arena_block *b = a->head;
        assert(b != NULL); /* m is from this arena, before its last reset */
        a->head = b->next;
        a->footprint -= sizeof *b + b->size;
        free_block(b);
    }
    if (a->head == NULL) {
        set_empty(a);
        return;
    }
    a->end = a->head->data + a->head->size;
    assert(m.next >= a->head->data && m.next <= a->end);
    a->next = m.next;
#if !defined(NDEBUG) && !defined(SL_ARENA_ASAN)
    memset(a->next, 0xA5, (size_t)(a->end - a->next));
#endif
    SL_ARENA_POISON(a->next, (size_t)(a->end - a->next));
    check(a);
}

void sl_arena_reset(struct sl_arena *a)
{
    check(a);
    /* Blocks are newest first, so this keeps the newest block of the usual
     * size: the one most likely still in cache. Blocks made for one large
     * request are bigger than block_size and never kept. */
    struct sl_arena_block *keep = NULL, *b = a->head;
    while (b != NULL) {
        struct sl_arena_block *next = b->next;
        if (keep == NULL && b->size == a->block_size) {
            keep = b;
        } else {
            a->footprint -= sizeof *b + b->size;
            free_block(b);
        }
        b = next;
    }
    a->head = keep;
    set_empty(a);
    if (keep != NULL) {
        keep->next = NULL;
        forget(keep);
        a->next = keep->data;
        a->end = keep->data + keep->size;
    }
    check(a);
}

void sl_arena_set_limit(struct sl_arena *a, size_t max_footprint)
{
    a->limit = max_footprint;
}

size_t sl_arena_footprint(const struct sl_arena *a)
{
    return a->footprint;
}
