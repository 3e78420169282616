/* sl_arena.h: a bump allocator for things that share one lifetime.
 *
 * Events borrow, batches own: everything an event points to lives in its
 * batch's arena, which is reset (not freed) when the batch is done, so the
 * hot path allocates nothing per event once the arena has grown to the size
 * of a batch. Memory comes in blocks; a reset keeps the largest blocks up to
 * the arena's retained size and frees the rest, so one huge batch does not pin
 * memory for ever. Allocations are aligned for any scalar type. */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stdalign.h>
#include <stddef.h>

struct sl_arena_block;

/* Visible only for the inline fast path of sl_arena_alloc: use the
 * functions. [next, end) is what is left of the newest block. */
struct sl_arena {
    unsigned char *next, *end;
    struct sl_arena_block *head; /* newest first */
    size_t block_size;
    size_t footprint;
};

#define SL_ARENA_ALIGN alignof(max_align_t)

/* block_size: the usual block; larger requests get a block of their own. */
struct sl_arena *sl_arena_new(size_t block_size);
void sl_arena_free(struct sl_arena *a); /* NULL is fine */
/* The slow path of sl_arena_alloc: starts a new block. */
void *sl_arena_alloc_block(struct sl_arena *a, size_t n);

/* NULL when out of memory. The memory is not zeroed. Inline: an event
 * allocates tens of nodes, and the common case is a pointer bump. */
static inline void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    size_t need = (n + SL_ARENA_ALIGN - 1) & ~(SL_ARENA_ALIGN - 1);
    if (need >= n && need > 0 && need <= (size_t)(a->end - a->next)) {
        void *p = a->next;
        a->next += need;
        return p;
    }
    return sl_arena_alloc_block(a, n);
}
void *sl_arena_calloc(struct sl_arena *a, size_t n);
/* Copies n bytes and adds a NUL. */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Forgets every allocation; keeps one block of the usual size. */
void sl_arena_reset(struct sl_arena *a);
/* Bytes held from the system, for memory reports. */
size_t sl_arena_footprint(const struct sl_arena *a);

#endif
