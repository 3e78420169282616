/* in_file_watches.c: the directories an input's inotify watches, found by
 * name (a scan, before it asks the kernel for a watch) and by watch
 * descriptor (each event), in constant time (in_file_priv.h).
 *
 * A scan looks at every directory `paths` reaches and asks for each
 * whether it is watched already; a list searched from its start made each
 * scan quadratic in the directories: 21,000 under a `**` took 1.1 CPU-s
 * per scan (strcmp 65% of the time), every scan_interval, with nothing new.
 * Two open-addressing tables (linear probing) hold each watch's index + 1
 * (0: empty): one hashed by the directory's name, one by its descriptor.
 * A watch the kernel dropped (IN_IGNORED) leaves by the last one taking its
 * place, and its slots by backward-shift deletion, so no tombstones pile
 * up however many directories come and go. */
#include "in_file_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_dir(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static size_t hash_wd(int wd)
{
    uint64_t h = (uint64_t)(unsigned)wd * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32);
}

static size_t hash_of(const struct watch *w, bool by_dir)
{
    return by_dir ? hash_dir(w->dir) : hash_wd(w->wd);
}

/* The slot of table that holds index + 1 of watch i, or of an empty one. */
static size_t slot_of(const struct in_file *in, const uint32_t *table,
                      bool by_dir, size_t i)
{
    size_t mask = in->watch_slots - 1;
    size_t s = hash_of(&in->watches[i], by_dir) & mask;
    while (table[s] != 0 && table[s] != i + 1)
        s = (s + 1) & mask;
    return s;
}

static void put(struct in_file *in, uint32_t *table, bool by_dir, size_t i)
{
    table[slot_of(in, table, by_dir, i)] = (uint32_t)(i + 1);
}

/* Empties slot s, moving back the entries after it that probed past it. */
static void take_out(struct in_file *in, uint32_t *table, bool by_dir, size_t s)
{
    size_t mask = in->watch_slots - 1;
    table[s] = 0;
    for (size_t j = (s + 1) & mask; table[j] != 0; j = (j + 1) & mask) {
        size_t home = hash_of(&in->watches[table[j] - 1], by_dir) & mask;
        /* j's entry may move to s if its home is not in (s, j] */
        if ((j > s && (home <= s || home > j)) ||
            (j < s && home <= s && home > j)) {
            table[s] = table[j];
            table[j] = 0;
            s = j;
        }
    }
}

static int rehash(struct in_file *in, size_t slots)
{
    uint32_t *d = calloc(slots, sizeof *d), *w = calloc(slots, sizeof *w);
    if (d == NULL || w == NULL) {
        free(d);
        free(w);
        return -1;
    }
    free(in->watch_by_dir);
    free(in->watch_by_wd);
    in->watch_by_dir = d;
    in->watch_by_wd = w;
    in->watch_slots = slots;
    for (size_t i = 0; i < in->nwatches; i++) {
        put(in, d, true, i);
        put(in, w, false, i);
    }
    return 0;
}

struct watch *in_file_watch_by_dir(struct in_file *in, const char *dir)
{
    if (in->watch_slots == 0)
        return NULL;
    size_t mask = in->watch_slots - 1;
    for (size_t s = hash_dir(dir) & mask; in->watch_by_dir[s] != 0;
         s = (s + 1) & mask) {
        struct watch *w = &in->watches[in->watch_by_dir[s] - 1];
        if (strcmp(w->dir, dir) == 0)
            return w;
    }
    return NULL;
}

struct watch *in_file_watch_by_wd(struct in_file *in, int wd)
{
    if (in->watch_slots == 0)
        return NULL;
    size_t mask = in->watch_slots - 1;
    for (size_t s = hash_wd(wd) & mask; in->watch_by_wd[s] != 0;
         s = (s + 1) & mask) {
        struct watch *w = &in->watches[in->watch_by_wd[s] - 1];
        if (w->wd == wd)
            return w;
    }
    return NULL;
}

int in_file_watch_add(struct in_file *in, int wd, const char *dir)
{
    if (in->nwatches == in->capwatches) {
        size_t ncap = in->capwatches ? in->capwatches * 2 : 16;
        struct watch *nw = realloc(in->watches, ncap * sizeof *nw);
        if (nw == NULL)
            return -1;
        in->watches = nw;
        in->capwatches = ncap;
    }
    /* at most half full: probes stay short */
    if ((in->nwatches + 1) * 2 > in->watch_slots &&
        rehash(in, in->watch_slots ? in->watch_slots * 2 : 32) < 0)
        return -1;
    size_t n = strlen(dir);
    char *d = malloc(n + 1);
    if (d == NULL)
        return -1;
    memcpy(d, dir, n + 1);
    size_t i = in->nwatches++;
    in->watches[i] = (struct watch){wd, d};
    put(in, in->watch_by_dir, true, i);
    put(in, in->watch_by_wd, false, i);
    return 0;
}

void in_file_watch_remove(struct in_file *in, struct watch *w)
{
    size_t i = (size_t)(w - in->watches), last = in->nwatches - 1;
    take_out(in, in->watch_by_dir, true,
             slot_of(in, in->watch_by_dir, true, i));
    take_out(in, in->watch_by_wd, false,
             slot_of(in, in->watch_by_wd, false, i));
    free(w->dir);
    if (i != last) { /* the last one takes i's place, and its slots say i */
        size_t sd = slot_of(in, in->watch_by_dir, true, last);
        size_t sw = slot_of(in, in->watch_by_wd, false, last);
        in->watches[i] = in->watches[last];
        in->watch_by_dir[sd] = (uint32_t)(i + 1);
        in->watch_by_wd[sw] = (uint32_t)(i + 1);
    }
    in->nwatches--;
}

void in_file_watches_free(struct in_file *in)
{
    for (size_t i = 0; i < in->nwatches; i++)
        free(in->watches[i].dir);
    free(in->watches);
    free(in->watch_by_dir);
    free(in->watch_by_wd);
}
