/* test_arena.c: sl_arena, the bump allocator under every event: alignment,
 * sizes that would wrap, the empty arena, what a reset keeps, (in ASan
 * builds) that unused and reset memory is poisoned, (in Debug builds) that
 * forgotten memory reads as 0xA5, and (in any build with asserts) that a
 * broken arena stops the process at its next call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_arena.h"

static bool aligned(const void *p)
{
    return ((uintptr_t)p & (SL_ARENA_ALIGN - 1)) == 0;
}

static void allocations_are_aligned_and_apart(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    assert_non_null(a);
    unsigned char *prev = NULL;
    size_t prev_n = 0;
    for (size_t n = 1; n < 300; n += 7) {
        unsigned char *p = sl_arena_alloc(a, n);
        assert_non_null(p);
        assert_true(aligned(p));
        memset(p, (int)n, n);
        if (prev != NULL)
            assert_int_equal(prev[prev_n - 1], (unsigned char)prev_n);
        prev = p;
        prev_n = n;
    }
    sl_arena_free(a);
}

/* n == 0 is a real, distinct allocation, and does not start a block each
 * time (it used to: 0 always fell to the slow path, which added a block). */
static void zero_bytes_is_a_small_allocation(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    void *p = sl_arena_alloc(a, 0);
    size_t fp = sl_arena_footprint(a);
    void *q = sl_arena_alloc(a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    assert_int_equal(sl_arena_footprint(a), fp);
    sl_arena_free(a);
}

/* Sizes whose rounding or header would wrap fail, and leave the arena as it
 * was. SIZE_MAX - 15 used to round to itself, then sizeof header + n wrapped
 * and malloc returned a tiny block that the caller overran. */
static void sizes_that_would_wrap_fail(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    assert_non_null(sl_arena_alloc(a, 8));
    size_t fp = sl_arena_footprint(a);
    const size_t huge[] = {SIZE_MAX,
                           SIZE_MAX - 1,
                           SIZE_MAX - 14,
                           SIZE_MAX - 15,
                           SIZE_MAX - 16,
                           SIZE_MAX - SL_ARENA_ALIGN - 64,
                           (size_t)PTRDIFF_MAX + 1,
                           (size_t)PTRDIFF_MAX};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        assert_null(sl_arena_alloc(a, huge[i]));
        assert_null(sl_arena_calloc(a, huge[i]));
    }
    assert_null(sl_arena_strndup(a, "x", SIZE_MAX));
    assert_null(sl_arena_strndup(a, "x", SIZE_MAX - 15));
    assert_int_equal(sl_arena_footprint(a), fp);
    char *s = sl_arena_strndup(a, "abc", 3);
    assert_string_equal(s, "abc");
    sl_arena_free(a);
}

static void a_new_arena_holds_nothing_until_used(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(1000);
    assert_int_equal(sl_arena_footprint(a), 0);
    sl_arena_reset(a);
    assert_int_equal(sl_arena_footprint(a), 0);
    char *s = sl_arena_strndup(a, "hello", 5);
    assert_string_equal(s, "hello");
    assert_true(sl_arena_footprint(a) >= 1000);
    sl_arena_free(a);
    sl_arena_free(NULL);
}

static void requests_beyond_a_block_get_their_own(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    unsigned char *small = sl_arena_alloc(a, 16);
    size_t one = sl_arena_footprint(a);
    unsigned char *big = sl_arena_calloc(a, 10000);
    assert_non_null(big);
    for (size_t i = 0; i < 10000; i++)
        assert_int_equal(big[i], 0);
    assert_true(sl_arena_footprint(a) >= one + 10000);
    small[15] = 1;
    sl_arena_free(a);
}

/* A reset keeps the newest block of the usual size and frees the others,
 * including every block made for a large request. */
static void reset_keeps_one_usual_block(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    assert_non_null(sl_arena_alloc(a, 200));
    size_t one = sl_arena_footprint(a);
    for (int i = 0; i < 5; i++)
        assert_non_null(sl_arena_alloc(a, 200)); /* a block each */
    assert_non_null(sl_arena_alloc(a, 5000));
    assert_true(sl_arena_footprint(a) > 6 * one);
    sl_arena_reset(a);
    assert_int_equal(sl_arena_footprint(a), one);
    /* The kept block serves again, without growing. */
    assert_non_null(sl_arena_alloc(a, 200));
    assert_int_equal(sl_arena_footprint(a), one);

    /* Only a large block: nothing is kept, and the arena still works. */
    sl_arena_reset(a);
    struct sl_arena *b = sl_arena_new(256);
    assert_non_null(sl_arena_alloc(b, 4096));
    sl_arena_reset(b);
    assert_int_equal(sl_arena_footprint(b), 0);
    assert_string_equal(sl_arena_strndup(b, "ok", 2), "ok");
    sl_arena_free(b);
    sl_arena_free(a);
}

/* A limit caps the footprint; a reset arena serves again under it. */
static void a_limit_caps_the_footprint(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    assert_non_null(sl_arena_alloc(a, 8));
    size_t one = sl_arena_footprint(a);
    sl_arena_set_limit(a, 2 * one);
    assert_non_null(sl_arena_alloc(a, 250)); /* a second block: at the cap */
    assert_int_equal(sl_arena_footprint(a), 2 * one);
    assert_null(sl_arena_alloc(a, 250));
    assert_null(sl_arena_alloc(a, 100000));
    assert_int_equal(sl_arena_footprint(a), 2 * one);
    sl_arena_reset(a);
    assert_non_null(sl_arena_alloc(a, 250));
    assert_non_null(sl_arena_alloc(a, 250));
    sl_arena_set_limit(a, 0);
    assert_non_null(sl_arena_alloc(a, 100000));
    sl_arena_free(a);
}

/* A rewind forgets what came after the mark and frees its blocks; the
 * next allocation lands where the first after the mark did. */
static void rewind_gives_back_what_came_after_the_mark(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    struct sl_arena_mark empty = sl_arena_mark(a);
    assert_non_null(sl_arena_alloc(a, 100));
    size_t one = sl_arena_footprint(a);
    struct sl_arena_mark m = sl_arena_mark(a);
    unsigned char *p = sl_arena_alloc(a, 16);
    for (int i = 0; i < 5; i++)
        assert_non_null(sl_arena_alloc(a, 200)); /* new blocks */
    assert_non_null(sl_arena_alloc(a, 5000));
    assert_true(sl_arena_footprint(a) > 6 * one);
    sl_arena_rewind(a, m);
    assert_int_equal(sl_arena_footprint(a), one);
    assert_ptr_equal(sl_arena_alloc(a, 16), p);
    /* A mark in a block that later ones follow, some of them freed by a
     * rewind of their own first. */
    struct sl_arena_mark mid = sl_arena_mark(a);
    assert_non_null(sl_arena_alloc(a, 200));
    struct sl_arena_mark later = sl_arena_mark(a);
    assert_non_null(sl_arena_alloc(a, 200));
    sl_arena_rewind(a, later);
    assert_non_null(sl_arena_alloc(a, 3000));
    sl_arena_rewind(a, mid);
    assert_int_equal(sl_arena_footprint(a), one);
    /* In the same block: nothing freed, the space is reused. */
    m = sl_arena_mark(a);
    unsigned char *q = sl_arena_alloc(a, 32);
    sl_arena_rewind(a, m);
    assert_ptr_equal(sl_arena_alloc(a, 8), q);
#ifdef SL_ARENA_ASAN
    assert_true(__asan_address_is_poisoned(q + 8));
#endif
    /* Back to before the first block: empty, and it works after. */
    sl_arena_rewind(a, empty);
    assert_int_equal(sl_arena_footprint(a), 0);
    assert_string_equal(sl_arena_strndup(a, "ok", 2), "ok");
    sl_arena_free(a);
}

#ifdef SL_ARENA_ASAN
/* ASan builds: exactly the n bytes asked for are addressable; the rest of
 * the block, and everything after a reset, is poisoned. */
static void unused_and_reset_memory_is_poisoned(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    unsigned char *p = sl_arena_alloc(a, 5);
    assert_false(__asan_address_is_poisoned(p + 4));
    assert_true(__asan_address_is_poisoned(p + 5));
    assert_true(__asan_address_is_poisoned(p + 100));
    unsigned char *q = sl_arena_alloc(a, 0);
    assert_false(__asan_address_is_poisoned(q - 16));
    unsigned char *big = sl_arena_alloc(a, 1000);
    assert_false(__asan_address_is_poisoned(big + 999));
    assert_true(__asan_address_is_poisoned(big + 1000));
    sl_arena_reset(a);
    assert_true(__asan_address_is_poisoned(p));
    unsigned char *r = sl_arena_alloc(a, 3);
    assert_ptr_equal(r, p);
    assert_false(__asan_address_is_poisoned(r + 2));
    assert_true(__asan_address_is_poisoned(r + 3));
    sl_arena_free(a);
}
#endif

#if !defined(NDEBUG) && !defined(SL_ARENA_ASAN)
/* Debug builds (ASan poisons instead): what a reset or a rewind forgets
 * reads as 0xA5, so a stale pointer into the kept block shows garbage. */
static void forgotten_memory_reads_as_a5(void **state)
{
    (void)state;
    struct sl_arena *a = sl_arena_new(256);
    unsigned char *p = (unsigned char *)sl_arena_strndup(a, "stale", 5);
    assert_non_null(p);
    sl_arena_reset(a);
    for (int i = 0; i < 6; i++)
        assert_int_equal(p[i], 0xA5);
    struct sl_arena_mark m = sl_arena_mark(a);
    unsigned char *q = (unsigned char *)sl_arena_strndup(a, "again", 5);
    assert_ptr_equal(q, p);
    sl_arena_rewind(a, m);
    for (int i = 0; i < 6; i++)
        assert_int_equal(q[i], 0xA5);
    sl_arena_free(a);
}
#endif

enum arena_misuse { NEXT_PAST_END, NEXT_MISALIGNED, MARK_OF_A_RESET_ARENA };

/* In a child: breaks the arena as a caller might, then calls it again. */
static void arena_misuse(enum arena_misuse m)
{
    struct sl_arena *a = sl_arena_new(256);
    if (a == NULL || sl_arena_alloc(a, 16) == NULL)
        _exit(2);
    switch (m) {
    case NEXT_PAST_END: /* the public fields written by hand */
        a->next = a->end + SL_ARENA_ALIGN;
        (void)sl_arena_alloc(a, 8);
        break;
    case NEXT_MISALIGNED:
        a->next += 1;
        (void)sl_arena_alloc(a, 8);
        break;
    case MARK_OF_A_RESET_ARENA: {      /* its block was freed by the reset */
        (void)sl_arena_alloc(a, 1000); /* a block of its own */
        struct sl_arena_mark big = sl_arena_mark(a);
        sl_arena_reset(a);
        sl_arena_rewind(a, big);
        break;
    }
    }
    _exit(0); /* not stopped: the check is missing */
}

/* Each misuse, in a child process, dies of SIGABRT at the next call
 * (an assert); Release builds define NDEBUG and have no checks to see. */
static void misuse_stops_at_the_next_call(void **state)
{
    (void)state;
    const enum arena_misuse all[] = {NEXT_PAST_END, NEXT_MISALIGNED,
                                     MARK_OF_A_RESET_ARENA};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            arena_misuse(all[i]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
        (void)status;
#else
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
            fail_msg("arena misuse %zu was not stopped (status %d)", i, status);
#endif
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocations_are_aligned_and_apart),
        cmocka_unit_test(zero_bytes_is_a_small_allocation),
        cmocka_unit_test(sizes_that_would_wrap_fail),
        cmocka_unit_test(a_new_arena_holds_nothing_until_used),
        cmocka_unit_test(requests_beyond_a_block_get_their_own),
        cmocka_unit_test(reset_keeps_one_usual_block),
        cmocka_unit_test(a_limit_caps_the_footprint),
        cmocka_unit_test(rewind_gives_back_what_came_after_the_mark),
#ifdef SL_ARENA_ASAN
        cmocka_unit_test(unused_and_reset_memory_is_poisoned),
#endif
#if !defined(NDEBUG) && !defined(SL_ARENA_ASAN)
        cmocka_unit_test(forgotten_memory_reads_as_a5),
#endif
        cmocka_unit_test(misuse_stops_at_the_next_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
