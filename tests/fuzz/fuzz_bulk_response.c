/* fuzz_bulk_response.c: the `_bulk` answer parser on bodies from anywhere,
 * fed in fragments of any size.
 *
 * Input: byte 0 seeds the fragment sizes (1 .. 64 bytes, varying), byte 1
 * gives the request's item count N (1 + byte % 64), byte 2 the HTTP status
 * (from a table of the ones that matter), the rest is the body.
 *
 * Oracles: no crash, leak or out-of-bounds read (ASan); the body parsed in
 * one piece and in fragments gives the same verdict, status and items; an
 * accepted answer has exactly N items, a 2xx status, class counts adding up
 * to N and strings within their bounds; a refused one reports no item and
 * one line of message. The corpus holds real answers of Elasticsearch 8.15
 * and 9.1 and OpenSearch 2.17 and 3.0 (tests/integration/test_bulk_real.c
 * with SLUICE_BULK_CAPTURE_DIR) and hand-made ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REASON_MAX 64
#define MAX_ITEMS  64

static const long statuses[16] = {200, 200, 200, 200, 400, 401, 403, 404,
                                  413, 429, 500, 503, 201, 0,   302, 599};

static int parse(struct bulk_response *r, const uint8_t *p, size_t len,
                 size_t n, long status, unsigned seed, struct sl_err *err)
{
    bulk_response_reset(r, n);
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 64;
            chunk = c < chunk ? c : chunk;
        }
        bulk_response_feed(r, p + off, chunk);
        off += chunk;
    }
    return bulk_response_finish(r, status, err);
}

static void check_item(const struct bulk_item *it)
{
    if ((unsigned)it->cls >= BULK_NCLASS || it->status < 0 ||
        it->status > 999 || it->id.len > 512 || it->type.len > 128 ||
        it->cause_type.len > 128 || it->reason.len > REASON_MAX ||
        it->cause_reason.len > REASON_MAX)
        abort();
    if (it->cls != bulk_classify(it->op, it->status, it->type))
        abort();
    /* every byte of every slice is readable (ASan checks) */
    volatile unsigned sum = 0;
    for (size_t i = 0; i < it->reason.len; i++)
        sum += (unsigned char)it->reason.ptr[i];
    for (size_t i = 0; i < it->id.len; i++)
        sum += (unsigned char)it->id.ptr[i];
    (void)sum;
}

/* A digest of an item (FNV-1a over its fields), to compare two parses
 * without keeping pointers into an arena the second one reuses. */
static uint64_t digest(const struct bulk_item *it)
{
    const struct sl_slice s[5] = {it->id, it->type, it->reason, it->cause_type,
                                  it->cause_reason};
    uint64_t h = 1469598103934665603u;
    h = (h ^ (uint64_t)it->cls) * 1099511628211u;
    h = (h ^ (uint64_t)it->op) * 1099511628211u;
    h = (h ^ (uint64_t)it->status) * 1099511628211u;
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < s[k].len; i++)
            h = (h ^ (unsigned char)s[k].ptr[i]) * 1099511628211u;
        h = (h ^ 0x100 ^ s[k].len) * 1099511628211u;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t whole[MAX_ITEMS];
    struct bulk_response *r;
    struct sl_err e1 = {0}, e2 = {0};
    struct bulk_item it;

    if (size < 3 || size > (1 << 16))
        return 0;
    unsigned seed = data[0] | 1u;
    size_t n = 1 + data[1] % MAX_ITEMS;
    long status = statuses[data[2] % 16];
    const uint8_t *body = data + 3;
    size_t len = size - 3;

    r = bulk_response_new(MAX_ITEMS, REASON_MAX, 1 << 16, NULL);
    if (r == NULL)
        abort();
    int rc1 = parse(r, body, len, n, status, 0, &e1);
    size_t count = bulk_response_count(r);
    if (rc1 == 0) {
        size_t sum = 0;
        for (int c = 0; c < BULK_NCLASS; c++)
            sum += bulk_response_class_count(r, (enum bulk_class)c);
        if (count != n || sum != n || status < 200 || status > 299)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!bulk_response_item(r, i, &it))
                abort();
            check_item(&it);
            whole[i] = digest(&it);
        }
        if (bulk_response_item(r, n, &it))
            abort();
    } else if (rc1 != -1 || count != 0 || e1.msg[0] == '\0' ||
               strchr(e1.msg, '\n') != NULL || bulk_response_item(r, 0, &it)) {
        abort();
    }
    /* the same body in fragments: the same answer */
    int rc2 = parse(r, body, len, n, status, seed, &e2);
    if (rc2 != rc1 || (rc1 != 0 && e2.status != e1.status))
        abort();
    if (rc1 == 0) {
        if (bulk_response_count(r) != n)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (!bulk_response_item(r, i, &it) || digest(&it) != whole[i])
                abort();
        }
    }
    bulk_response_free(r);
    return 0;
}
