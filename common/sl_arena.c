/* sl_arena.c: blocks chained newest first. Allocation bumps a pointer in the
 * newest block (inline, in the header); a request that does not fit starts a
 * new block (the rest of the old one is wasted: at most one request's worth
 * per block). */
#include "sl_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sl_arena_block {
    struct sl_arena_block *next;
    size_t size; /* usable bytes after the header */
    alignas(max_align_t) unsigned char data[];
};

#define ALIGN_UP(n) (((n) + SL_ARENA_ALIGN - 1) & ~(SL_ARENA_ALIGN - 1))

struct sl_arena *sl_arena_new(size_t block_size)
{
    struct sl_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->block_size = block_size < 256 ? 256 : block_size;
    return a;
}

static void free_blocks(struct sl_arena_block *b)
{
    while (b != NULL) {
        struct sl_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void sl_arena_free(struct sl_arena *a)
{
    if (a == NULL)
        return;
    free_blocks(a->head);
    free(a);
}

static struct sl_arena_block *add_block(struct sl_arena *a, size_t n)
{
    size_t size = n > a->block_size ? n : a->block_size;
    struct sl_arena_block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->next = a->head;
    a->head = b;
    a->next = b->data;
    a->end = b->data + size;
    a->footprint += sizeof *b + size;
    return b;
}

void *sl_arena_alloc_block(struct sl_arena *a, size_t n)
{
    size_t need = ALIGN_UP(n ? n : 1);
    if (need < n || add_block(a, need) == NULL)
        return NULL;
    void *p = a->next;
    a->next += need;
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
    char *p = sl_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void sl_arena_reset(struct sl_arena *a)
{
    /* Keep one block of the usual size (the oldest such), free the rest. */
    struct sl_arena_block *keep = NULL, *b = a->head;
    while (b != NULL) {
        struct sl_arena_block *next = b->next;
        if (keep == NULL && b->size == a->block_size) {
            keep = b;
        } else {
            a->footprint -= sizeof *b + b->size;
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->next = a->end = NULL;
    if (keep != NULL) {
        keep->next = NULL;
        a->next = keep->data;
        a->end = keep->data + keep->size;
    }
}

size_t sl_arena_footprint(const struct sl_arena *a)
{
    return a->footprint;
}
