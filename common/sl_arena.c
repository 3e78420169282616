/* sl_arena.c: blocks chained newest first. Allocation bumps a pointer in the
 * newest block; a request that does not fit starts a new block (the rest of
 * the old one is wasted: at most one request's worth per block). */
#include "sl_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct sl_arena {
    struct block *head;
    size_t block_size;
    size_t footprint;
};

#define ALIGN_UP(n)                                                            \
    (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

struct sl_arena *sl_arena_new(size_t block_size)
{
    struct sl_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->block_size = block_size < 256 ? 256 : block_size;
    return a;
}

static void free_blocks(struct block *b)
{
    while (b != NULL) {
        struct block *next = b->next;
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

static struct block *add_block(struct sl_arena *a, size_t n)
{
    size_t size = n > a->block_size ? n : a->block_size;
    struct block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->footprint += sizeof *b + size;
    return b;
}

void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    size_t need = ALIGN_UP(n ? n : 1);
    if (need < n)
        return NULL;
    struct block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        b = add_block(a, need);
        if (b == NULL)
            return NULL;
    }
    void *p = b->data + b->used;
    b->used += need;
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
    struct block *keep = NULL, *b = a->head;
    while (b != NULL) {
        struct block *next = b->next;
        if (keep == NULL && b->size == a->block_size) {
            keep = b;
        } else {
            a->footprint -= sizeof *b + b->size;
            free(b);
        }
        b = next;
    }
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

size_t sl_arena_footprint(const struct sl_arena *a)
{
    return a->footprint;
}
