/* sl_event_id.c: SipHash-2-4-128 and the event ids built on it
 * (sl_event_id.h has the exact algorithms).
 *
 * Written from the SipHash paper's description (Aumasson and Bernstein,
 * "SipHash: a fast short-input PRF", 2012) and the 128-bit output variant
 * of its reference: v1 ^= 0xee at setup, v2 ^= 0xee before the first
 * finalisation, v1 ^= 0xdd before the second. Bytes are read as
 * little-endian words one byte at a time, so the result is the same on
 * every platform, aligned or not.
 *
 * The hash is a small absorber (state, a partial block, the length) so the
 * id can absorb the length-prefixed fields piece by piece without building
 * M in a buffer: no allocation, no limit on host or key length. */
#include "sl_event_id.h"

#include <assert.h>
#include <string.h>

struct sip {
    uint64_t v[4];
    uint64_t len;    /* bytes absorbed */
    uint8_t tail[8]; /* the partial block: len % 8 bytes */
};

static const uint8_t id_key[16] = "sluice-event-id1";
static const uint8_t source_key[16] = "sluice-event-id2";

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void rounds(uint64_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        v[0] += v[1];
        v[1] = rotl(v[1], 13);
        v[1] ^= v[0];
        v[0] = rotl(v[0], 32);
        v[2] += v[3];
        v[3] = rotl(v[3], 16);
        v[3] ^= v[2];
        v[0] += v[3];
        v[3] = rotl(v[3], 21);
        v[3] ^= v[0];
        v[2] += v[1];
        v[1] = rotl(v[1], 17);
        v[1] ^= v[2];
        v[2] = rotl(v[2], 32);
    }
}

static void compress_block(uint64_t *v, uint64_t m)
{
    v[3] ^= m;
    rounds(v, 2);
    v[0] ^= m;
}

static void sip_init(struct sip *s, const uint8_t key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v[0] = k0 ^ 0x736f6d6570736575ULL;        /* "somepseu" */
    s->v[1] = k1 ^ 0x646f72616e646f6dULL ^ 0xee; /* "dorandom", 128-bit */
    s->v[2] = k0 ^ 0x6c7967656e657261ULL;        /* "lygenera" */
    s->v[3] = k1 ^ 0x7465646279746573ULL;        /* "tedbytes" */
    s->len = 0;
}

static void sip_absorb(struct sip *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t have = (size_t)(s->len % 8);
    s->len += n;
    if (have > 0) {
        size_t take = 8 - have < n ? 8 - have : n;
        memcpy(s->tail + have, p, take);
        p += take;
        n -= take;
        if (have + take < 8)
            return;
        compress_block(s->v, load_le64(s->tail));
    }
    for (; n >= 8; p += 8, n -= 8)
        compress_block(s->v, load_le64(p));
    if (n > 0)
        memcpy(s->tail, p, n);
}

static void sip_absorb_le64(struct sip *s, uint64_t x)
{
    uint8_t b[8];
    store_le64(b, x);
    sip_absorb(s, b, sizeof b);
}

/* The last block (the remaining bytes and the length's low byte), then the
 * two finalisations of the 128-bit variant. */
static void sip_final(const struct sip *s, uint8_t out[16])
{
    uint64_t v[4] = {s->v[0], s->v[1], s->v[2], s->v[3]};
    uint64_t b = s->len << 56;
    for (size_t i = 0; i < (size_t)(s->len % 8); i++)
        b |= (uint64_t)s->tail[i] << (8 * i);
    compress_block(v, b);
    v[2] ^= 0xee;
    rounds(v, 4);
    store_le64(out, v[0] ^ v[1] ^ v[2] ^ v[3]);
    v[1] ^= 0xdd;
    rounds(v, 4);
    store_le64(out + 8, v[0] ^ v[1] ^ v[2] ^ v[3]);
}

void sl_siphash128(const uint8_t key[16], const void *msg, size_t len,
                   uint8_t out[16])
{
    struct sip s;
    sip_init(&s, key);
    sip_absorb(&s, msg, len);
    sip_final(&s, out);
}

/* A length-prefixed field, zero-padded to whole blocks. */
static void absorb_field(struct sip *s, const void *p, size_t n)
{
    static const uint8_t zeros[8];
    sip_absorb_le64(s, (uint64_t)n);
    sip_absorb(s, p, n);
    if (n % 8 != 0)
        sip_absorb(s, zeros, 8 - n % 8);
}

/* M or M2 up to the position: the length-prefixed host and key. */
static void absorb_source(struct sip *s, const char *host, size_t host_len,
                          const void *key, size_t key_len)
{
    absorb_field(s, host, host_len);
    absorb_field(s, key, key_len);
    assert(s->len % 8 == 0);
}

static void encode_id(const uint8_t h[16], char *out);

void sl_event_id_source_init(struct sl_event_id_source *src, const char *host,
                             size_t host_len, const void *key, size_t key_len)
{
    struct sip s;
    uint8_t h[16];
    char id[SL_EVENT_ID_LEN + 1];
    sip_init(&s, source_key);
    absorb_source(&s, host, host_len, key, key_len);
    sip_final(&s, h);
    memcpy(src->s, h, sizeof src->s);
    encode_id(h, id); /* its first 10 characters are S[0..8)'s alone */
    memcpy(src->head, id, sizeof src->head);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789-_";

/* 16 bytes as 22 base64url characters: five groups of three bytes, then
 * one byte as two characters (its low 4 bits padded with zeros). */
static void encode_id(const uint8_t h[16], char *out)
{
    char *o = out;
    for (int i = 0; i < 15; i += 3) {
        uint32_t g = (uint32_t)h[i] << 16 | (uint32_t)h[i + 1] << 8 | h[i + 2];
        *o++ = b64url[g >> 18 & 63];
        *o++ = b64url[g >> 12 & 63];
        *o++ = b64url[g >> 6 & 63];
        *o++ = b64url[g & 63];
    }
    *o++ = b64url[h[15] >> 2];
    *o++ = b64url[(h[15] & 3) << 4];
    *o = '\0';
    assert(o - out == SL_EVENT_ID_LEN);
}

void sl_event_id_make(const struct sl_event_id_source *src, uint64_t pos,
                      char out[SL_EVENT_ID_LEN + 1])
{
    /* No hash per event: the source's bytes, then the position big-endian,
     * so the ids of one file share their first characters. The first 10
     * characters are the source's (B[0..8) is S[0..8)); the rest is the
     * last 4 bits of B[7] and B[8..16) as one big-endian word, S[8..10)
     * XOR the position's top 16 bits, then its low 48: 6 bits at a time,
     * where encode_id was 1.4% of the shipper's instructions. */
    uint64_t lo = ((uint64_t)src->s[8] << 56 | (uint64_t)src->s[9] << 48) ^ pos;
    memcpy(out, src->head, sizeof src->head);
    out[10] = b64url[(src->s[7] & 15u) << 2 | (unsigned)(lo >> 62)];
    for (int i = 0; i < 10; i++)
        out[11 + i] = b64url[lo >> (56 - 6 * i) & 63];
    out[21] = b64url[(lo & 3) << 4];
    out[22] = '\0';
}

void sl_event_id(const char *host, size_t host_len, const void *key,
                 size_t key_len, uint64_t pos, char out[SL_EVENT_ID_LEN + 1])
{
    struct sip s;
    uint8_t h[16];
    sip_init(&s, id_key);
    absorb_source(&s, host, host_len, key, key_len);
    sip_absorb_le64(&s, pos);
    sip_final(&s, h);
    encode_id(h, out);
}
