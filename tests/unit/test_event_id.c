/* test_event_id.c: both event ids are the documented algorithms, forever.
 *
 * SipHash-2-4-128 against the reference's vectors; an id of each algorithm
 * against M (M2) built by hand from the header's description; fixed lists
 * of ids that must never change (they live in Redis and Elasticsearch: a
 * change makes every replay a duplicate); unambiguous fields; and a
 * source's ids: one per position, sharing their first characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl_event_id.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Key 00..0f, message 00..(len-1): the reference's vectors_sip128. */
static void siphash128_reference_vectors(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        const char *want;
    } v[] = {
        {0, "a3817f04ba25a8e66df67214c7550293"},
        {1, "da87c1d86b99af44347659119b22fc45"},
        {7, "a1f1ebbed8dbc153c0b84aa61ff08239"},
        {8, "3b62a9ba6258f5610f83e264f31497b4"},
        {15, "5493e99933b0a8117e08ec0f97cfc3d9"},
        {16, "6ee2a4ca67b054bbfd3315bf85230577"},
        {63, "5150d1772f50834a503e069a973fbd7c"},
    };
    uint8_t key[16], msg[64], out[16];
    char got[33];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sl_siphash128(key, msg, v[i].len, out);
        hex(out, 16, got);
        assert_string_equal(got, v[i].want);
    }
}

/* M for host "web-01", key 01..08, pos 1, byte by byte as the header
 * writes it; its hash in base64url (checked with Python's base64) is the
 * id. */
static void id_is_the_documented_algorithm(void **state)
{
    (void)state;
    static const uint8_t m[40] = {
        6, 0, 0, 0, 0, 0, 0, 0, 'w', 'e', 'b', '-', '0', '1', 0, 0, 8, 0, 0, 0,
        0, 0, 0, 0, 1, 2, 3, 4, 5,   6,   7,   8,   1,   0,   0, 0, 0, 0, 0, 0};
    uint8_t h[16];
    char got[33], id[SL_EVENT_ID_LEN + 1];
    sl_siphash128((const uint8_t *)"sluice-event-id1", m, sizeof m, h);
    hex(h, 16, got);
    assert_string_equal(got, "7f8144117e7a0f3508f1c37a5150d3e2");
    sl_event_id("web-01", 6, "\x01\x02\x03\x04\x05\x06\x07\x08", 8, 1, id);
    assert_string_equal(id, "f4FEEX56DzUI8cN6UVDT4g");
}

/* These exact ids of both algorithms, forever: sl_event_id's, and
 * sl_event_id_make's on the source of the same host and key. */
static void pinned_ids(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        size_t host_len;
        const char *key;
        size_t key_len;
        uint64_t pos;
        const char *want, *want_source;
    } v[] = {
        {"web-01", 6, "\x01\x02\x03\x04\x05\x06\x07\x08", 8, 0,
         "u5eyVdF8ej-arHKGN-65yQ", "DYMgmcqCrOnYegAAAAAAAA"},
        {"web-01", 6, "\x01\x02\x03\x04\x05\x06\x07\x08", 8, 1,
         "f4FEEX56DzUI8cN6UVDT4g", "DYMgmcqCrOnYegAAAAAAAQ"},
        {"web-01", 6, "\x01\x02\x03\x04\x05\x06\x07\x08", 8, 239,
         "kQCJZDbdOQuQ6AUNT9rfBQ", "DYMgmcqCrOnYegAAAAAA7w"},
        {"a", 1, "bc", 2, 0, "EdVjQlh5iEdEISP3SUr-HQ",
         "g0k7Wn3-k10RyAAAAAAAAA"},
        {"ab", 2, "c", 1, 0, "zxc5IQYQN9EjI8HGnDK_RQ",
         "ecPEy1g0LowFFQAAAAAAAA"},
        {"", 0, "", 0, 0, "_t1H5w8cJkzoTnxfC7NF0g", "yiPun2DrKu64-wAAAAAAAA"},
        {"", 0, "", 0, UINT64_MAX, "ducVxK_51yek-bufVCc1QA",
         "yiPun2DrKu5HBP_______w"},
    };
    char id[SL_EVENT_ID_LEN + 1];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sl_event_id(v[i].host, v[i].host_len, v[i].key, v[i].key_len, v[i].pos,
                    id);
        assert_string_equal(id, v[i].want);
        struct sl_event_id_source src;
        sl_event_id_source_init(&src, v[i].host, v[i].host_len, v[i].key,
                                v[i].key_len);
        sl_event_id_make(&src, v[i].pos, id);
        assert_string_equal(id, v[i].want_source);
    }
}

/* The padding is not content: "a" and "a\0" differ, so do the same bytes
 * split differently between host and key, and every length around a block
 * boundary. 18 x 18 host/key lengths x 3 positions: no two ids equal. */
static void fields_are_unambiguous(void **state)
{
    (void)state;
    static char ids[18 * 18 * 3][SL_EVENT_ID_LEN + 1];
    const char zeros[17] = {0};
    size_t n = 0;
    for (size_t h = 0; h < 18; h++)
        for (size_t k = 0; k < 18; k++)
            for (uint64_t pos = 0; pos < 3; pos++)
                sl_event_id(zeros, h, zeros, k, pos, ids[n++]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                fail_msg("ids %zu and %zu are both %s", i, j, ids[i]);
    char a[SL_EVENT_ID_LEN + 1], b[SL_EVENT_ID_LEN + 1];
    sl_event_id("a", 1, "", 0, 0, a);
    sl_event_id("a\0", 2, "", 0, 0, b);
    assert_string_not_equal(a, b);
    sl_event_id("ab", 2, "", 0, 0, a);
    sl_event_id("a", 1, "b", 1, 0, b);
    assert_string_not_equal(a, b);
}

/* base64url of 16 bytes, bit by bit: the header's description, not the
 * library's grouping. */
static void b64url_ref(const uint8_t *b, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
                            "yz0123456789-_";
    for (int c = 0; c < SL_EVENT_ID_LEN; c++) {
        unsigned v = 0;
        for (int k = 0; k < 6; k++) {
            int bit = c * 6 + k;
            v = v << 1 |
                (bit < 128 ? (unsigned)(b[bit / 8] >> (7 - bit % 8)) & 1u : 0u);
        }
        out[c] = a[v];
    }
    out[SL_EVENT_ID_LEN] = '\0';
}

/* M2 for host "web-01", key 01..08, hashed under "sluice-event-id2"; B
 * from S and pos as the header writes it, at positions that use each part
 * of B (the low 48 bits, the high 16 bits XORed into S). */
static void source_id_is_the_documented_algorithm(void **state)
{
    (void)state;
    static const uint8_t m2[32] = {6,   0,   0,   0, 0, 0, 0, 0, 'w', 'e', 'b',
                                   '-', '0', '1', 0, 0, 8, 0, 0, 0,   0,   0,
                                   0,   0,   1,   2, 3, 4, 5, 6, 7,   8};
    static const uint64_t pos[] = {0,
                                   1,
                                   239,
                                   0x123456789abcULL,
                                   (uint64_t)1 << 48,
                                   0xfedcba9876543210ULL,
                                   UINT64_MAX};
    uint8_t s[16], b[16];
    char want[SL_EVENT_ID_LEN + 1], got[SL_EVENT_ID_LEN + 1];
    sl_siphash128((const uint8_t *)"sluice-event-id2", m2, sizeof m2, s);
    struct sl_event_id_source src;
    sl_event_id_source_init(&src, "web-01", 6,
                            "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        memcpy(b, s, 10);
        b[8] ^= (uint8_t)(pos[i] >> 56);
        b[9] ^= (uint8_t)(pos[i] >> 48);
        for (int k = 0; k < 6; k++)
            b[10 + k] = (uint8_t)(pos[i] >> (40 - 8 * k));
        b64url_ref(b, want);
        sl_event_id_make(&src, pos[i], got);
        assert_string_equal(got, want);
    }
}

/* One source, many positions: one id each (around 2^48 too, where the
 * high bits go into the hash's bytes), 22 base64url characters ending on
 * one with 4 zero bits; neighbours share their first 16 characters; the
 * same position of another source, or of algorithm 1, is another id. */
static void source_ids_one_per_position(void **state)
{
    (void)state;
    enum { N = 4000 };
    static char ids[N][SL_EVENT_ID_LEN + 1];
    const char host[] = "a-rather-long-host-name.example.com";
    const char key[] = "file key of any length";
    struct sl_event_id_source src, other;
    sl_event_id_source_init(&src, host, strlen(host), key, strlen(key));
    sl_event_id_source_init(&other, host, strlen(host), key, strlen(key) - 1);
    for (size_t i = 0; i < N; i++) {
        uint64_t pos =
            i < N / 2 ? i * 977 : ((uint64_t)1 << 48) + (i - N / 2) * 977 - N;
        sl_event_id_make(&src, pos, ids[i]);
        assert_int_equal(strlen(ids[i]), SL_EVENT_ID_LEN);
        assert_int_equal(strspn(ids[i],
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                "opqrstuvwxyz0123456789-_"),
                         SL_EVENT_ID_LEN);
        assert_non_null(strchr("AQgw", ids[i][SL_EVENT_ID_LEN - 1]));
        char b[SL_EVENT_ID_LEN + 1];
        sl_event_id_make(&other, pos, b);
        assert_string_not_equal(ids[i], b);
        sl_event_id(host, strlen(host), key, strlen(key), pos, b);
        assert_string_not_equal(ids[i], b);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                fail_msg("positions %zu and %zu share the id %s", i, j, ids[i]);
    for (size_t i = 1; i < 64; i++)
        assert_memory_equal(ids[i], ids[0], 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(siphash128_reference_vectors),
        cmocka_unit_test(id_is_the_documented_algorithm),
        cmocka_unit_test(pinned_ids),
        cmocka_unit_test(fields_are_unambiguous),
        cmocka_unit_test(source_id_is_the_documented_algorithm),
        cmocka_unit_test(source_ids_one_per_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
