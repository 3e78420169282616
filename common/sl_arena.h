/* sl_arena.h: a bump allocator for things that share one lifetime.
 *
 * Events borrow, batches own: everything an event points to lives in its
 * batch's arena, which is reset (not freed) when the batch is done, so the
 * hot path allocates nothing per event once the arena has grown to the size
 * of a batch. Memory comes in blocks; a reset keeps one block of the usual
 * size and frees every other, so one huge batch does not pin memory for ever.
 * Allocations are aligned for any scalar type.
 *
 * Checks: in builds without NDEBUG (Debug, Asan) every call asserts the
 * arena's invariants (next <= end, next aligned). Under AddressSanitizer the
 * unused part of every block is poisoned: an allocation of n bytes makes
 * exactly those n bytes addressable, so writing past n, or touching memory
 * of a reset arena, is reported where it happens. In plain Debug builds a
 * reset fills the kept block with 0xA5, so stale pointers read garbage that
 * shows. Release builds do none of this. */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <assert.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_ARENA_ASAN 1
#endif
#endif

#ifdef SL_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define SL_ARENA_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define SL_ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SL_ARENA_POISON(p, n)   ((void)(p), (void)(n))
#define SL_ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct sl_arena_block;

/* Visible only for the inline fast path of sl_arena_alloc: use the
 * functions. [next, end) is what is left of the newest block; both point at
 * a static empty block when the arena holds none, never at NULL, so end - next
 * is always defined. Invariant: next <= end, next aligned to SL_ARENA_ALIGN. */
struct sl_arena {
    unsigned char *next, *end;
    struct sl_arena_block *head; /* newest first */
    size_t block_size;
    size_t footprint;
    size_t limit; /* most footprint may reach; 0: none */
};

#define SL_ARENA_ALIGN alignof(max_align_t)

/* block_size: the usual block (at least 256); larger requests get a block of
 * their own. */
struct sl_arena *sl_arena_new(size_t block_size);
void sl_arena_free(struct sl_arena *a); /* NULL is fine */
/* The slow path of sl_arena_alloc: n == 0, huge n, or a new block. */
void *sl_arena_alloc_block(struct sl_arena *a, size_t n);

/* NULL when out of memory or when n is beyond what a block can hold (near
 * PTRDIFF_MAX): sizes never wrap. The memory is not zeroed. n == 0 gives a
 * distinct pointer, as n == 1 does. Inline: an event allocates tens of nodes,
 * and the common case is a pointer bump. */
static inline void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    assert(a->next <= a->end);
    assert(((uintptr_t)a->next & (SL_ARENA_ALIGN - 1)) == 0);
    size_t need = (n + SL_ARENA_ALIGN - 1) & ~(size_t)(SL_ARENA_ALIGN - 1);
    /* need - 1 < left: fits, and n is neither 0 nor so large that rounding
     * wrapped to 0 (both make need - 1 SIZE_MAX); the slow path sorts those
     * out. */
    if (need - 1 < (size_t)(a->end - a->next)) {
        void *p = a->next;
        a->next += need;
        SL_ARENA_UNPOISON(p, n);
        return p;
    }
    return sl_arena_alloc_block(a, n);
}
void *sl_arena_calloc(struct sl_arena *a, size_t n);
/* Copies n bytes and adds a NUL (NULL when n + 1 would not fit a size_t). */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Forgets every allocation. Keeps the newest block of the usual size, if
 * there is one (a block made for one large request is always freed), and
 * frees the rest; the arena then allocates from the kept block from its
 * start. */
void sl_arena_reset(struct sl_arena *a);
/* A point to come back to: sl_arena_rewind() forgets every allocation made
 * after sl_arena_mark() (and frees the blocks they took), so a step that
 * fails half way (a JSON line that turns out invalid) gives its memory
 * back for what follows (the tag saying it failed). Marks nest; a rewind
 * past a later mark makes that mark invalid, as does a reset. */
struct sl_arena_mark {
    struct sl_arena_block *head;
    unsigned char *next;
};

static inline struct sl_arena_mark sl_arena_mark(const struct sl_arena *a)
{
    struct sl_arena_mark m = {a->head, a->next};
    return m;
}
void sl_arena_rewind(struct sl_arena *a, struct sl_arena_mark m);
/* Caps the footprint: an allocation that would need a block taking the
 * footprint past max_footprint fails as out of memory does (0: no cap, the
 * default). Bounds what one event can hold. */
void sl_arena_set_limit(struct sl_arena *a, size_t max_footprint);
/* Bytes held from the system (blocks and their headers), for memory
 * reports. */
size_t sl_arena_footprint(const struct sl_arena *a);

#endif
