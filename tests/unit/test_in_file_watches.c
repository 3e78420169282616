/* test_in_file_watches.c: the index of an input's inotify watches
 * (shipper/input/in_file_watches.c): every watch found by name and by
 * descriptor after thousands of adds and removals in random order (the
 * backward-shift deletion moves entries that probed past a freed slot),
 * none found once removed, and the tables grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "in_file_priv.h"

#define N 5000

static void name_of(char *buf, size_t size, int k)
{
    snprintf(buf, size, "/var/log/tree/d%d/e%d", k % 97, k);
}

/* Every k in [0, N) with live[k] is found both ways, the others not. */
static void check_all(struct in_file *in, const bool *live)
{
    size_t n = 0;
    for (int k = 0; k < N; k++) {
        char dir[64];
        name_of(dir, sizeof dir, k);
        struct watch *a = in_file_watch_by_dir(in, dir);
        struct watch *b = in_file_watch_by_wd(in, k + 1);
        if (!live[k]) {
            assert_null(a);
            assert_null(b);
            continue;
        }
        n++;
        assert_non_null(a);
        assert_ptr_equal(a, b);
        assert_int_equal(a->wd, k + 1);
        assert_string_equal(a->dir, dir);
    }
    assert_int_equal(in->nwatches, n);
}

static void test_found_by_name_and_descriptor_through_removals(void **state)
{
    (void)state;
    struct in_file in;
    memset(&in, 0, sizeof in);
    static bool live[N];
    memset(live, 0, sizeof live);
    assert_null(in_file_watch_by_dir(&in, "/var/log"));
    assert_null(in_file_watch_by_wd(&in, 1));
    srand(7);
    for (int k = 0; k < N; k++) {
        char dir[64];
        name_of(dir, sizeof dir, k);
        assert_int_equal(in_file_watch_add(&in, k + 1, dir), 0);
        live[k] = true;
    }
    check_all(&in, live);
    assert_true(in.watch_slots >= 2 * N);
    for (int round = 0; round < 3; round++) {
        /* remove about half, in random order, then add some back */
        for (int i = 0; i < N; i++) {
            int k = rand() % N;
            if (!live[k])
                continue;
            struct watch *w = in_file_watch_by_wd(&in, k + 1);
            assert_non_null(w);
            in_file_watch_remove(&in, w);
            live[k] = false;
        }
        check_all(&in, live);
        for (int k = 0; k < N; k += 3) {
            char dir[64];
            name_of(dir, sizeof dir, k);
            if (live[k])
                continue;
            assert_int_equal(in_file_watch_add(&in, k + 1, dir), 0);
            live[k] = true;
        }
        check_all(&in, live);
    }
    while (in.nwatches > 0)
        in_file_watch_remove(&in, &in.watches[in.nwatches / 2]);
    memset(live, 0, sizeof live);
    check_all(&in, live);
    in_file_watches_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_by_name_and_descriptor_through_removals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
