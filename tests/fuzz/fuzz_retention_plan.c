/* fuzz_retention_plan.c: an index listing (the answer of _cat/indices)
 * from the input, read by retention_plan for a daily, a weekly and a
 * field pattern. Byte 0 picks the pattern and the days kept (1 + byte 1);
 * the rest, NUL-terminated in a copy, is the listing (at most 64 KiB).
 * Every name planned for deletion must read back with the pattern, start
 * with its prefix, be an index name the pattern could write, and be older
 * than the days kept; a listing refused must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retention.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1796904000000LL /* 2026-12-10T12:00:00Z */
#define DAY    86400000LL

static const char *const patterns[] = {"sluice-%{+yyyy.MM.dd}", "w-%{+xxxx.ww}",
                                       "s-%{[service][name]}-%{+yyyy.MM.dd}",
                                       "m-%{+yyyy.MMM}"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    struct index_name *in = index_name_new(patterns[data[0] % 4], NULL, NULL);
    if (in == NULL)
        abort();
    long long days = 1 + data[1];
    char *body = malloc(size - 1);
    if (body == NULL)
        abort();
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0';
    struct retention_plan p = {0};
    struct sl_err err = {0};
    if (retention_plan(in, days, NOW_MS, body, size - 2, &p, &err) < 0) {
        if (err.msg[0] == '\0' || p.n != 0)
            abort();
    }
    struct sl_slice prefix = index_name_prefix(in);
    for (size_t i = 0; i < p.n; i++) {
        const char *name = p.v[i].name;
        int64_t last;
        if (strncmp(name, prefix.ptr, prefix.len) != 0 ||
            index_name_parse(in, name, strlen(name), &last) != 1 ||
            last != p.v[i].last_day || NOW_MS / DAY - last <= days)
            abort();
        if (i > 0 && strcmp(p.v[i - 1].name, name) > 0)
            abort();
    }
    retention_plan_release(&p);
    free(body);
    index_name_free(in);
    return 0;
}
