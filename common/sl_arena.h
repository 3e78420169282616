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

#include <stddef.h>

struct sl_arena;

/* block_size: the usual block; larger requests get a block of their own. */
struct sl_arena *sl_arena_new(size_t block_size);
void sl_arena_free(struct sl_arena *a); /* NULL is fine */
/* NULL when out of memory. The memory is not zeroed. */
void *sl_arena_alloc(struct sl_arena *a, size_t n);
void *sl_arena_calloc(struct sl_arena *a, size_t n);
/* Copies n bytes and adds a NUL. */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Forgets every allocation; keeps one block of the usual size. */
void sl_arena_reset(struct sl_arena *a);
/* Bytes held from the system, for memory reports. */
size_t sl_arena_footprint(const struct sl_arena *a);

#endif
