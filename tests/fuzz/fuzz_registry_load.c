/* fuzz_registry_load.c: arbitrary bytes as a registry file. Loading never
 * crashes or leaks, and fails only with a positioned message; whatever loads
 * is written out again, and that text loads to the same entries and writes
 * out to the same bytes (the file is a faithful record of the table). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_entries(const struct registry *a, const struct registry *b)
{
    if (registry_count(a) != registry_count(b))
        abort();
    size_t cur = 0;
    const struct registry_entry *e;
    while ((e = registry_next(a, &cur)) != NULL) {
        const struct registry_entry *f = registry_get(b, e->id.dev, e->id.ino);
        if (f == NULL || f->id.fp != e->id.fp || f->id.fp_len != e->id.fp_len ||
            f->id.tail != e->id.tail || f->id.tail_len != e->id.tail_len ||
            f->id.tail_at != e->id.tail_at || f->key != e->key ||
            f->offset != e->offset || f->seen != e->seen ||
            strcmp(f->path, e->path) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct registry_config cfg;
    registry_config_init(&cfg);
    struct sl_err err = {0};
    struct registry *r =
        registry_load_buffer("fuzz", (const char *)data, size, &cfg, &err);
    if (r == NULL) {
        /* every refusal says where: "fuzz:LINE:COL: ..." */
        if (strncmp(err.msg, "fuzz:", 5) != 0 || err.status == SL_OK)
            abort();
        return 0;
    }
    struct sl_buf one = SL_BUF_INIT((size_t)1 << 30);
    struct sl_buf two = SL_BUF_INIT((size_t)1 << 30);
    if (registry_write(r, &one, &err) < 0)
        abort();
    struct registry *back =
        registry_load_buffer("again", one.ptr, one.len, &cfg, &err);
    if (back == NULL)
        abort();
    same_entries(r, back);
    same_entries(back, r);
    if (registry_write(back, &two, &err) < 0 || one.len != two.len ||
        memcmp(one.ptr, two.ptr, one.len) != 0)
        abort();
    /* expiry keeps exactly the entries seen recently enough */
    size_t n = registry_count(back), keep = 0, cur = 0;
    const struct registry_entry *e;
    while ((e = registry_next(back, &cur)) != NULL)
        keep += e->seen >= 1000 - cfg.ttl_s;
    if (registry_expire(back, 1000) != n - keep || registry_count(back) != keep)
        abort();
    sl_buf_release(&one);
    sl_buf_release(&two);
    registry_free(back);
    registry_free(r);
    return 0;
}
