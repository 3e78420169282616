/* sl_batch.c: the stream entry format (sl_batch.h): a writer that frames
 * events as lines of "TS ID JSON" and compresses the batch, and a reader
 * that checks an entry field by field and line by line and hands out its
 * events without copying them.
 *
 * Invariants of the writer: raw holds `committed` bytes of complete lines
 * (each ending in "\n") and, between begin and commit/rollback, the open
 * event's prefix (from `committed` to `json_at`) and JSON after them;
 * `count` is the number of those lines. Once sealed, the argv arrays point
 * at host, the number texts and either raw or packed, and nothing may
 * change until reset.
 *
 * The reader trusts nothing in an entry: `raw` is checked against the limit
 * before the buffer grows, decompression writes into exactly `raw` bytes
 * (LZ4_decompress_safe, ZSTD_decompressDCtx, both bounded by the output
 * size), and every line's prefix and the line count are checked on the
 * decompressed bytes, so the iteration afterwards cannot fail: it reads
 * where the check found each line's JSON and newline (an array of 8 bytes
 * an event, grown to the largest batch and kept: no allocation per event,
 * none per batch once warm), and only parses the time again; when that
 * array cannot be had it splits each line again. It deliberately does not
 * parse the JSON of the events: Elasticsearch does, and rejects a bad one
 * per event.
 *
 * lz4 uses the block format, not the frame format: `raw` already carries the
 * size the block format lacks, and the frame adds a header and checksum per
 * batch for nothing Redis does not already guarantee. zstd frames carry a
 * checksum (4 bytes per batch) so a corrupt payload is named as such. */
#include "sl_batch.h"

#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <zstd.h>

#include "sl_batch_columnar.h"
#include "sl_text.h"

/* The field order of an entry, as written. */
enum field { F_V, F_HOST, F_COUNT, F_CODEC, F_RAW, F_EVENTS };

static const char *const field_names[SL_BATCH_NFIELDS] = {
    "v", "host", "count", "codec", "raw", "events"};

static const char *const codec_names[] = {"none", "lz4", "zstd", "columnar"};

#define CODEC_VALID "expected none, lz4, zstd or columnar"

const char *sl_codec_name(enum sl_codec codec)
{
    if ((unsigned)codec < sizeof codec_names / sizeof codec_names[0])
        return codec_names[codec];
    return "unknown";
}

static int codec_from_bytes(const char *p, size_t len, enum sl_codec *codec)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (strlen(codec_names[i]) == len &&
            memcmp(codec_names[i], p, len) == 0) {
            *codec = (enum sl_codec)i;
            return 0;
        }
    }
    return -1;
}

#define QUOTE_SIZE 192
/* The shortest line: "0 a b\n" (time, id, JSON of one byte each). */
#define LINE_MIN 6

int sl_codec_from_name(const char *name, enum sl_codec *codec,
                       struct sl_err *err)
{
    char q[QUOTE_SIZE];
    if (codec_from_bytes(name, strlen(name), codec) == 0)
        return 0;
    return sl_err_set(err, SL_EINVAL, "unknown codec %s; " CODEC_VALID,
                      sl_text_quote(q, sizeof q, name, strlen(name), '"'));
}

/* ---- writer -------------------------------------------------------- */

/* The writer's and the reader's limit on a payload. */
static int check_max_raw(size_t max_raw, struct sl_err *err)
{
    if (max_raw == 0 || max_raw > SL_BATCH_RAW_MAX)
        return sl_err_set(err, SL_EINVAL,
                          "batch size limit of %zu bytes is out of range; "
                          "expected 1 to %zu",
                          max_raw, SL_BATCH_RAW_MAX);
    return 0;
}

struct sl_batch_writer {
    char *host;
    size_t host_len;
    enum sl_codec codec;
    int level;
    ZSTD_CCtx *zc;               /* only while the codec is zstd */
    struct sl_columnar_enc *enc; /* made for the first columnar batch */
#ifndef NDEBUG
    struct sl_columnar_dec *check; /* the seal's check of a columnar entry */
#endif
    struct sl_buf raw;    /* the payload; max is max_raw */
    struct sl_buf packed; /* the compressed payload */
    size_t committed;     /* bytes of complete lines in raw */
    size_t json_at;       /* where the open event's JSON starts */
    size_t count;
    bool open;   /* between begin and commit/rollback */
    bool sealed; /* argv is valid */
    char count_text[24];
    char raw_text[24];
    int64_t last_ts; /* the time of the last event begun, and its text */
    char ts_text[24];
    size_t ts_len;
    const char *argv[SL_BATCH_ARGC];
    size_t argvlen[SL_BATCH_ARGC];
};

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* Checks the level for the codec and, for zstd, makes the one context the
 * writer keeps (ZSTD_compress2 resets the session, so a batch never needs a
 * fresh one). */
static int configure_codec(struct sl_batch_writer *w, enum sl_codec codec,
                           int level, struct sl_err *err)
{
    switch (codec) {
    case SL_CODEC_NONE:
        break;
    case SL_CODEC_LZ4:
    case SL_CODEC_COLUMNAR:
        if (level == 0)
            level = 1;
        if (level < 1 || level > 65537)
            return sl_err_set(err, SL_EINVAL,
                              "lz4 level %d is out of range; expected 1 to "
                              "65537 (the acceleration: higher is faster "
                              "and compresses less)",
                              level);
        if (codec == SL_CODEC_COLUMNAR && w->enc == NULL &&
            (w->enc = sl_columnar_enc_new(err)) == NULL)
            return -1;
        break;
    case SL_CODEC_ZSTD:
        if (level == 0)
            level = ZSTD_CLEVEL_DEFAULT;
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
            return sl_err_set(err, SL_EINVAL,
                              "zstd level %d is out of range; expected %d to "
                              "%d (3 is the default)",
                              level, ZSTD_minCLevel(), ZSTD_maxCLevel());
        if (w->zc == NULL && (w->zc = ZSTD_createCCtx()) == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for zstd");
        if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel,
                                                level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1)))
            return sl_err_set(err, SL_EINVAL, "zstd refused level %d", level);
        break;
    default:
        return sl_err_set(err, SL_EINVAL, "unknown codec %d; " CODEC_VALID,
                          (int)codec);
    }
    if (codec != SL_CODEC_ZSTD && w->zc != NULL) {
        ZSTD_freeCCtx(w->zc);
        w->zc = NULL;
    }
    w->codec = codec;
    w->level = level;
    return 0;
}

struct sl_batch_writer *sl_batch_writer_new(const char *host,
                                            enum sl_codec codec, int level,
                                            size_t max_raw, struct sl_err *err)
{
    if (check_max_raw(max_raw, err) < 0)
        return NULL;
    struct sl_batch_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        goto nomem;
    w->host_len = strlen(host);
    w->host = malloc(w->host_len + 1);
    if (w->host == NULL)
        goto nomem;
    memcpy(w->host, host, w->host_len + 1);
    sl_buf_init(&w->raw, max_raw);
    /* Room for the worst of the codecs, so set_codec never resizes (a
     * maximum only: the buffer grows as batches need). */
    size_t flat = SL_COLUMNAR_MAX(max_raw) < LZ4_MAX_INPUT_SIZE
                      ? SL_COLUMNAR_MAX(max_raw)
                      : LZ4_MAX_INPUT_SIZE;
    sl_buf_init(&w->packed,
                max_size(max_size((size_t)LZ4_COMPRESSBOUND((int)max_raw),
                                  ZSTD_COMPRESSBOUND(max_raw)),
                         (size_t)LZ4_COMPRESSBOUND((int)flat) + 16));
    if (configure_codec(w, codec, level, err) < 0)
        goto fail;
    return w;
nomem:
    sl_err_set(err, SL_ENOMEM, "out of memory for a batch writer");
fail:
    sl_batch_writer_free(w);
    return NULL;
}

void sl_batch_writer_free(struct sl_batch_writer *w)
{
    if (w == NULL)
        return;
    ZSTD_freeCCtx(w->zc);
    sl_columnar_enc_free(w->enc);
#ifndef NDEBUG
    sl_columnar_dec_free(w->check);
#endif
    sl_buf_release(&w->raw);
    sl_buf_release(&w->packed);
    free(w->host);
    free(w);
}

int sl_batch_writer_set_codec(struct sl_batch_writer *w, enum sl_codec codec,
                              int level, struct sl_err *err)
{
    if (w->count > 0 || w->open || w->sealed)
        return sl_err_set(err, SL_EINVAL,
                          "cannot change the codec of a batch that holds "
                          "events; reset it first");
    return configure_codec(w, codec, level, err);
}

/* SL_ELIMIT for an event whose line (id, time, JSON: len bytes) the batch
 * cannot take; says whether a flush helps. The event has been rolled
 * back. */
static int event_does_not_fit(const struct sl_batch_writer *w, size_t len,
                              struct sl_err *err)
{
    return sl_err_set(err, SL_ELIMIT,
                      "event of %zu bytes with its id and time does not fit "
                      "in the batch (%zu of %zu bytes used)%s",
                      len, w->committed, w->raw.max,
                      w->count ? "; flush the batch and add it again"
                               : "; it is larger than a whole batch");
}

/* The characters of an id: safe in JSON strings and URLs as they are. A
 * bit test: the check runs on every event's id, and the comparisons were
 * 3% of the shipper's time. Low word: '-' and 0-9; high word (c - 64):
 * A-Z, '_' and a-z. */
static bool id_char(unsigned char c)
{
    static const uint64_t set[2] = {(1ull << 45) | (0x3ffull << 48),
                                    (0x3ffffffull << 1) | (1ull << 31) |
                                        (0x3ffffffull << 33)};
    return c < 128 && (set[c >> 6] >> (c & 63) & 1u);
}

#define ID_VALID "expected 1 to 64 characters of A-Z a-z 0-9 - _"
_Static_assert(SL_BATCH_ID_MAX == 64, "the messages say 64");
#define TS_VALID "expected -62135596800000 to 253402300799999 (years 1 to 9999)"

#ifdef __SSE2__
#include <emmintrin.h>

/* 0xffff when each of the 16 bytes at p is an id character. The signed
 * compares are exact: every bound is below 0x80, and a byte >= 0x80 is
 * negative, below them all. */
static unsigned sse2_id_chars(const char *p)
{
    __m128i v = _mm_loadu_si128((const void *)p);
#define IN(lo, hi)                                                             \
    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((lo)-1)),                    \
                  _mm_cmplt_epi8(v, _mm_set1_epi8((hi) + 1)))
    __m128i ok = _mm_or_si128(
        _mm_or_si128(IN('0', '9'), IN('A', 'Z')),
        _mm_or_si128(IN('a', 'z'),
                     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('_')))));
#undef IN
    return (unsigned)_mm_movemask_epi8(ok);
}
#endif

/* Whether id[0..len) (1 to SL_BATCH_ID_MAX bytes) is all id characters.
 * 16 at a time where there are 16 (the last 16 overlapping what was
 * checked): the shipper's ids are 22 bytes, and the byte loop was 1% of
 * its instructions. */
static bool id_chars(const char *id, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    if (len >= 16) {
        for (; i + 16 <= len; i += 16)
            if (sse2_id_chars(id + i) != 0xffffu)
                return false;
        return i == len || sse2_id_chars(id + len - 16) == 0xffffu;
    }
#endif
    while (i < len && id_char((unsigned char)id[i]))
        i++;
    return i == len;
}

bool sl_batch_id_ok(const char *id, size_t len)
{
    return len > 0 && len <= SL_BATCH_ID_MAX && id_chars(id, len);
}

static int check_id(const char *id, size_t len, struct sl_err *err)
{
    char q[QUOTE_SIZE];
    if (len == 0 || len > SL_BATCH_ID_MAX || !id_chars(id, len))
        return sl_err_set(err, SL_EINVAL,
                          "refusing an event id of %zu bytes, %s: " ID_VALID,
                          len, sl_text_quote(q, sizeof q, id, len, '"'));
    return 0;
}

size_t sl_batch_format_ts(char *out, int64_t ts)
{
    char digits[20];
    size_t n = 0, len = 0;
    uint64_t v = ts < 0 ? 0 - (uint64_t)ts : (uint64_t)ts;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (ts < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = digits[--n];
    return len;
}

/* ts_ms in decimal in w->ts_text; its length. Events in a row often share
 * their time (a second's lines). */
static size_t ts_text(struct sl_batch_writer *w, int64_t ts_ms)
{
    if (w->ts_len == 0 || ts_ms != w->last_ts) {
        w->ts_len = sl_batch_format_ts(w->ts_text, ts_ms);
        w->last_ts = ts_ms;
    }
    return w->ts_len;
}

/* What begin checks of an event before the batch changes: the batch is
 * open, the id and the time are as the format says. */
static int check_event(const struct sl_batch_writer *w, const char *id,
                       size_t id_len, int64_t ts_ms, struct sl_err *err)
{
    if (w->sealed)
        return sl_err_set(err, SL_EINVAL,
                          "the batch is sealed; reset it after Redis "
                          "accepted it");
    if (check_id(id, id_len, err) < 0)
        return -1;
    if (ts_ms < SL_BATCH_TS_MIN || ts_ms > SL_BATCH_TS_MAX)
        return sl_err_set(err, SL_EINVAL,
                          "refusing an event time of %lld ms: " TS_VALID,
                          (long long)ts_ms);
    return 0;
}

/* begin, whatever the codec. */
static struct sl_buf *begin_line(struct sl_batch_writer *w, const char *id,
                                 size_t id_len, int64_t ts_ms,
                                 struct sl_err *err)
{
    char prefix[SL_BATCH_ID_MAX + 24];
    assert(w->raw.len == w->committed || w->open);
    sl_batch_writer_rollback(w); /* an event begun twice starts over */
    if (check_event(w, id, id_len, ts_ms, err) < 0)
        return NULL;
    size_t n = ts_text(w, ts_ms);
    memcpy(prefix, w->ts_text, n);
    prefix[n++] = ' ';
    memcpy(prefix + n, id, id_len);
    n += id_len;
    prefix[n++] = ' ';
    if (sl_buf_append(&w->raw, prefix, n, NULL) < 0) {
        sl_batch_writer_rollback(w);
        event_does_not_fit(w, n, err);
        return NULL;
    }
    w->json_at = w->raw.len;
    w->open = true;
    return &w->raw;
}

struct sl_buf *sl_batch_writer_begin(struct sl_batch_writer *w, const char *id,
                                     size_t id_len, int64_t ts_ms,
                                     struct sl_err *err)
{
    if (w->codec == SL_CODEC_COLUMNAR) {
        sl_err_set(err, SL_EINVAL,
                   "codec columnar takes events, not JSON text "
                   "(sl_batch_writer_add_event)");
        return NULL;
    }
    return begin_line(w, id, id_len, ts_ms, err);
}

void sl_batch_writer_rollback(struct sl_batch_writer *w)
{
    /* not open: nothing to forget (a columnar batch, outside debug
     * builds, has committed bytes it never wrote) */
    if (w->sealed || !w->open)
        return;
    w->raw.len = w->committed;
    if (w->raw.cap > 0)
        w->raw.ptr[w->raw.len] = '\0';
    w->open = false;
}

/* checked: look for a newline (else only assert there is none). */
static int commit(struct sl_batch_writer *w, bool checked, struct sl_err *err)
{
    if (!w->open || w->sealed)
        return sl_err_set(err, SL_EINVAL,
                          "no event to commit; call sl_batch_writer_begin");
    size_t len = w->raw.len - w->json_at;
    const char *ev = w->raw.ptr + w->json_at;
    if (len == 0) {
        sl_batch_writer_rollback(w);
        return sl_err_set(err, SL_EINVAL, "refusing an empty event");
    }
    assert(checked || memchr(ev, '\n', len) == NULL);
    const char *nl = checked ? memchr(ev, '\n', len) : NULL;
    if (nl != NULL) {
        size_t at = (size_t)(nl - ev);
        sl_batch_writer_rollback(w);
        return sl_err_set(err, SL_EINVAL,
                          "refusing an event with a newline at byte %zu of "
                          "%zu: it would split the event in two; escape it "
                          "as \\n in the JSON",
                          at, len);
    }
    if (sl_buf_append_char(&w->raw, '\n', NULL) < 0) {
        size_t line = w->raw.len - w->committed;
        sl_batch_writer_rollback(w);
        return event_does_not_fit(w, line, err);
    }
    w->committed = w->raw.len;
    w->count++;
    w->open = false;
    return 0;
}

int sl_batch_writer_commit(struct sl_batch_writer *w, struct sl_err *err)
{
    return commit(w, true, err);
}

int sl_batch_writer_commit_json(struct sl_batch_writer *w, struct sl_err *err)
{
    return commit(w, false, err);
}

int sl_batch_writer_add(struct sl_batch_writer *w, const char *id,
                        size_t id_len, int64_t ts_ms, const char *json,
                        size_t len, struct sl_err *err)
{
    struct sl_buf *b = sl_batch_writer_begin(w, id, id_len, ts_ms, err);
    if (b == NULL)
        return -1;
    if (sl_buf_append(b, json, len, NULL) < 0) {
        size_t line = w->raw.len - w->committed + len;
        sl_batch_writer_rollback(w);
        return event_does_not_fit(w, line, err);
    }
    return sl_batch_writer_commit(w, err);
}

/* Debug builds: the event's line in raw as codec none has it, for the
 * seal's check; nothing in release builds. */
static int mirror_line(struct sl_batch_writer *w, const char *id, size_t id_len,
                       int64_t ts_ms, const struct sl_event *ev,
                       size_t json_len, struct sl_err *err)
{
#ifndef NDEBUG
    struct sl_buf *b = begin_line(w, id, id_len, ts_ms, err);
    if (b == NULL)
        return -1;
    size_t at = b->len;
    if (sl_event_write_json(ev, b, err) < 0) {
        sl_batch_writer_rollback(w);
        return -1;
    }
    assert(b->len - at == json_len);
    return sl_batch_writer_commit_json(w, err);
#else
    (void)w, (void)id, (void)id_len, (void)ts_ms, (void)ev, (void)json_len,
        (void)err;
    return 0;
#endif
}

int sl_batch_writer_add_event(struct sl_batch_writer *w, const char *id,
                              size_t id_len, int64_t ts_ms,
                              const struct sl_event *ev, struct sl_err *err)
{
    if (w->codec != SL_CODEC_COLUMNAR) {
        struct sl_buf *b = begin_line(w, id, id_len, ts_ms, err);
        if (b == NULL)
            return -1;
        if (sl_event_write_json(ev, b, err) < 0) {
            sl_batch_writer_rollback(w);
            return -1;
        }
        return sl_batch_writer_commit_json(w, err);
    }
    sl_batch_writer_rollback(w);
    size_t json_len;
    if (check_event(w, id, id_len, ts_ms, err) < 0 ||
        sl_columnar_enc_prepare(w->enc, ev, &json_len, err) < 0)
        return -1;
    size_t line = ts_text(w, ts_ms) + id_len + json_len + 3;
    if (line > w->raw.max - w->committed)
        return event_does_not_fit(w, line, err);
    size_t before = w->committed;
    if (mirror_line(w, id, id_len, ts_ms, ev, json_len, err) < 0)
        return -1;
    if (sl_columnar_enc_append(w->enc, id, id_len, ts_ms, err) < 0) {
#ifndef NDEBUG
        w->raw.len = w->committed = before; /* the mirrored line */
        w->raw.ptr[before] = '\0';
        w->count--;
#endif
        return -1;
    }
#ifdef NDEBUG
    w->committed = before + line;
    w->count++;
#endif
    assert(w->committed == before + line);
    return 0;
}

size_t sl_batch_writer_count(const struct sl_batch_writer *w)
{
    return w->count;
}

size_t sl_batch_writer_bytes(const struct sl_batch_writer *w)
{
    return w->committed;
}

/* Debug builds: the columnar entry in packed decodes to the lines in raw
 * (sl_batch_writer_add_event mirrors them there), so every test that
 * ships events checks the codec on them. */
static int check_columnar(struct sl_batch_writer *w, struct sl_err *err)
{
#ifndef NDEBUG
    if (w->check == NULL && (w->check = sl_columnar_dec_new(err)) == NULL)
        return -1;
    char *out = malloc(w->committed + 1);
    if (out == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    struct sl_err e = {0};
    bool checked;
    if (sl_columnar_decode(w->check, w->packed.ptr, w->packed.len, w->count,
                           out, w->committed, NULL, &checked, &e) < 0) {
        fprintf(stderr, "columnar check: %s\n", e.msg);
        abort();
    }
    if (memcmp(out, w->raw.ptr, w->committed) != 0) {
        fprintf(stderr, "columnar check: the entry does not decode to its "
                        "lines\n");
        abort();
    }
    free(out);
#else
    (void)w, (void)err;
#endif
    return 0;
}

/* Compresses raw into packed; the payload's bytes come back in *p, *n. */
static int compress_payload(struct sl_batch_writer *w, const char **p,
                            size_t *n, struct sl_err *err)
{
    const char *src = w->raw.ptr;
    size_t len = w->committed;
    if (w->codec == SL_CODEC_COLUMNAR) {
        if (sl_columnar_enc_seal(w->enc, len, w->level, &w->packed, err) < 0 ||
            check_columnar(w, err) < 0)
            return -1;
        *p = w->packed.ptr;
        *n = w->packed.len;
        return 0;
    }
    if (w->codec == SL_CODEC_NONE) {
        *p = src;
        *n = len;
        return 0;
    }
    size_t bound = w->codec == SL_CODEC_LZ4
                       ? (size_t)LZ4_compressBound((int)len)
                       : ZSTD_compressBound(len);
    sl_buf_reset(&w->packed);
    if (sl_buf_reserve(&w->packed, bound, err) < 0)
        return -1;
    size_t out;
    if (w->codec == SL_CODEC_LZ4) {
        int r = LZ4_compress_fast(src, w->packed.ptr, (int)len, (int)bound,
                                  w->level);
        if (r <= 0)
            return sl_err_set(err, SL_EIO,
                              "lz4 failed to compress a batch of %zu bytes",
                              len);
        out = (size_t)r;
    } else {
        out = ZSTD_compress2(w->zc, w->packed.ptr, bound, src, len);
        if (ZSTD_isError(out))
            return sl_err_set(err, SL_EIO,
                              "zstd failed to compress a batch of %zu "
                              "bytes: %s",
                              len, ZSTD_getErrorName(out));
    }
    w->packed.len = out;
    *p = w->packed.ptr;
    *n = out;
    return 0;
}

int sl_batch_writer_seal(struct sl_batch_writer *w, const char ***argv,
                         const size_t **argvlen, struct sl_err *err)
{
    if (!w->sealed) {
        if (w->open)
            return sl_err_set(err, SL_EINVAL,
                              "an event is still open; commit or roll it "
                              "back before sealing the batch");
        if (w->count == 0)
            return sl_err_set(err, SL_EINVAL,
                              "nothing to seal: the batch is empty; flush "
                              "only a batch that holds events");
        const char *payload = NULL;
        size_t plen = 0;
        if (compress_payload(w, &payload, &plen, err) < 0)
            return -1;
        snprintf(w->count_text, sizeof w->count_text, "%zu", w->count);
        snprintf(w->raw_text, sizeof w->raw_text, "%zu", w->committed);
        const char *values[SL_BATCH_NFIELDS] = {
            "2",         w->host, w->count_text, codec_names[w->codec],
            w->raw_text, payload};
        size_t lens[SL_BATCH_NFIELDS] = {1,
                                         w->host_len,
                                         strlen(w->count_text),
                                         strlen(codec_names[w->codec]),
                                         strlen(w->raw_text),
                                         plen};
        for (int i = 0; i < SL_BATCH_NFIELDS; i++) {
            w->argv[2 * i] = field_names[i];
            w->argvlen[2 * i] = strlen(field_names[i]);
            w->argv[2 * i + 1] = values[i];
            w->argvlen[2 * i + 1] = lens[i];
        }
        w->sealed = true;
    }
    *argv = w->argv;
    *argvlen = w->argvlen;
    return 0;
}

void sl_batch_writer_reset(struct sl_batch_writer *w)
{
    if (w->enc != NULL)
        sl_columnar_enc_reset(w->enc);
    sl_buf_reset(&w->raw);
    sl_buf_reset(&w->packed);
    w->committed = 0;
    w->count = 0;
    w->open = false;
    w->sealed = false;
}

/* ---- reader -------------------------------------------------------- */

struct sl_batch_reader {
    size_t max_raw;
    struct sl_buf out;          /* decompressed payloads; max is max_raw */
    ZSTD_DCtx *zd;              /* made on the first zstd entry, then kept */
    struct sl_columnar_dec *cd; /* made on the first columnar entry */
    /* the entry decoded last */
    struct sl_slice host;
    size_t count;
    enum sl_codec codec;
    const char *payload;
    size_t payload_len;
    size_t pos; /* iteration */
    /* between decode_header and decode_payload: the payload as stored */
    const char *src;
    size_t src_len, raw;
    bool header_ok;
    /* where check_lines (or the columnar decoder, as it wrote them)
     * found each line's JSON and newline, so the iteration splits nothing
     * again; NULL (memory refused): it does */
    struct sl_columnar_line *at;
    size_t at_cap;
    bool have_at; /* at[0..count) holds the decoded entry's lines */
    /* the columnar decoder proved the lines well formed and filled at */
    bool lines_checked;
    size_t next; /* iteration: the index of the next event */
};

struct sl_batch_reader *sl_batch_reader_new(size_t max_raw, struct sl_err *err)
{
    if (max_raw == 0)
        max_raw = SL_BATCH_RAW_DEFAULT;
    if (check_max_raw(max_raw, err) < 0)
        return NULL;
    struct sl_batch_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory for a batch reader");
        return NULL;
    }
    r->max_raw = max_raw;
    sl_buf_init(&r->out, max_raw);
    return r;
}

void sl_batch_reader_free(struct sl_batch_reader *r)
{
    if (r == NULL)
        return;
    ZSTD_freeDCtx(r->zd);
    sl_columnar_dec_free(r->cd);
    sl_buf_release(&r->out);
    free(r->at);
    free(r);
}

static void forget_entry(struct sl_batch_reader *r)
{
    r->host.ptr = "";
    r->host.len = 0;
    r->count = 0;
    r->codec = SL_CODEC_NONE;
    r->payload = NULL;
    r->payload_len = 0;
    r->pos = 0;
    r->src = NULL;
    r->src_len = 0;
    r->raw = 0;
    r->header_ok = false;
    r->have_at = false;
    r->next = 0;
}

/* Plain decimal digits, nothing else; saturates at SIZE_MAX (every caller
 * compares the result with a limit, which then says what is wrong). */
static int parse_size(const char *p, size_t len, size_t *out)
{
    size_t v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Finds the known fields among argc interleaved names and values: val[f]
 * is the value's index, or argc when the field is absent. */
static int find_fields(size_t argc, const char *const *argv,
                       const size_t *argvlen, size_t *val, struct sl_err *err)
{
    if (argc % 2 != 0)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry has %zu elements, not name-value "
                          "pairs; it was not written by sluice-shipper",
                          argc);
    for (int f = 0; f < SL_BATCH_NFIELDS; f++)
        val[f] = argc;
    for (size_t i = 0; i < argc; i += 2) {
        for (int f = 0; f < SL_BATCH_NFIELDS; f++) {
            size_t n = strlen(field_names[f]);
            if (argvlen[i] != n || memcmp(argv[i], field_names[f], n) != 0)
                continue;
            if (val[f] != argc)
                return sl_err_set(err, SL_EPARSE,
                                  "stream entry has the field '%s' twice; "
                                  "it was not written by sluice-shipper",
                                  field_names[f]);
            val[f] = i + 1;
        }
    }
    return 0;
}

static int check_version(const char *p, size_t len, struct sl_err *err)
{
    char q[QUOTE_SIZE];
    size_t v;
    if (len == 1 && p[0] == '2')
        return 0;
    if (parse_size(p, len, &v) == 0 && v > SL_BATCH_VERSION)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry format version %.*s%s is newer than "
                          "this sluice-indexer understands (%d); upgrade "
                          "sluice-indexer",
                          (int)(len > 20 ? 20 : len), p, len > 20 ? "..." : "",
                          SL_BATCH_VERSION);
    if (len == 1 && p[0] == '1')
        return sl_err_set(err, SL_EPARSE,
                          "stream entry format version 1 (events without "
                          "ids) is not read by this sluice-indexer, which "
                          "reads format %d; upgrade sluice-shipper",
                          SL_BATCH_VERSION);
    return sl_err_set(err, SL_EPARSE,
                      "stream entry field 'v': found %s, expected format "
                      "version %d; it was not written by sluice-shipper",
                      sl_text_quote(q, sizeof q, p, len, '"'),
                      SL_BATCH_VERSION);
}

/* Reads count, codec and raw, in that order of blame: raw is checked
 * against the limit here, before anything grows. */
static int read_header(struct sl_batch_reader *r, const char *const *argv,
                       const size_t *argvlen, const size_t *val, size_t *raw,
                       struct sl_err *err)
{
    char q[QUOTE_SIZE];
    const char *p = argv[val[F_COUNT]];
    size_t n = argvlen[val[F_COUNT]];
    if (parse_size(p, n, &r->count) < 0 || r->count == 0)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'count': found %s, expected a "
                          "decimal number of events, at least 1",
                          sl_text_quote(q, sizeof q, p, n, '"'));
    p = argv[val[F_CODEC]];
    n = argvlen[val[F_CODEC]];
    if (codec_from_bytes(p, n, &r->codec) < 0)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'codec': found %s, " CODEC_VALID
                          "; upgrade sluice-indexer if the shipper is newer",
                          sl_text_quote(q, sizeof q, p, n, '"'));
    p = argv[val[F_RAW]];
    n = argvlen[val[F_RAW]];
    if (parse_size(p, n, raw) < 0)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'raw': found %s, expected the "
                          "decimal byte length of the payload",
                          sl_text_quote(q, sizeof q, p, n, '"'));
    if (*raw > r->max_raw)
        return sl_err_set(err, SL_ELIMIT,
                          "stream entry field 'raw': a payload of %.*s%s "
                          "bytes is above this reader's limit of %zu bytes; "
                          "raise the indexer's limit or make the shipper's "
                          "batches smaller",
                          (int)(n > 20 ? 20 : n), p, n > 20 ? "..." : "",
                          r->max_raw);
    return 0;
}

static bool reserve_at(struct sl_batch_reader *r);

/* Points r->payload at the uncompressed payload of exactly raw bytes: at
 * dst when given (raw bytes of the caller's), else in place (codec none) or
 * in r->out. */
static int unpack(struct sl_batch_reader *r, const char *src, size_t len,
                  size_t raw, char *dst, struct sl_err *err)
{
    const char *name = codec_names[r->codec];
    if (r->codec == SL_CODEC_NONE) {
        if (len != raw)
            return sl_err_set(err, SL_EPARSE,
                              "stream entry field 'raw' says %zu bytes but "
                              "the payload (codec none) has %zu; the entry "
                              "is corrupt",
                              raw, len);
        if (dst != NULL && len > 0)
            src = memcpy(dst, src, len);
        r->payload = src;
        r->payload_len = len;
        return 0;
    }
    if (dst == NULL) {
        sl_buf_reset(&r->out);
        if (sl_buf_reserve(&r->out, raw, err) < 0)
            return -1;
        dst = r->out.ptr;
    }
    size_t got;
    if (r->codec == SL_CODEC_COLUMNAR) {
        if (r->cd == NULL && (r->cd = sl_columnar_dec_new(err)) == NULL)
            return -1;
        /* the decoder writes the lines: it checks them as it goes, and
         * says where they are, so check_lines need not walk them again */
        r->payload_len = raw;
        bool at = reserve_at(r), checked = false;
        if (sl_columnar_decode(r->cd, src, len, r->count, dst, raw,
                               at ? r->at : NULL, &checked, err) < 0)
            return -1;
        r->lines_checked = at && checked;
        got = raw;
    } else if (r->codec == SL_CODEC_LZ4) {
        int n = len > INT_MAX
                    ? -1
                    : LZ4_decompress_safe(src, dst, (int)len, (int)raw);
        if (n < 0)
            return sl_err_set(err, SL_EPARSE,
                              "stream entry field 'events': lz4 payload of "
                              "%zu bytes does not decompress into the %zu "
                              "bytes 'raw' gives; the entry is corrupt",
                              len, raw);
        got = (size_t)n;
    } else {
        if (r->zd == NULL && (r->zd = ZSTD_createDCtx()) == NULL)
            return sl_err_set(err, SL_ENOMEM, "out of memory for zstd");
        got = ZSTD_decompressDCtx(r->zd, dst, raw, src, len);
        if (ZSTD_isError(got))
            return sl_err_set(err, SL_EPARSE,
                              "stream entry field 'events': zstd payload of "
                              "%zu bytes does not decompress into the %zu "
                              "bytes 'raw' gives (%s); the entry is corrupt",
                              len, raw, ZSTD_getErrorName(got));
    }
    if (got != raw)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'raw' says %zu bytes but the "
                          "%s payload decompresses to %zu; the entry is "
                          "corrupt",
                          raw, name, got);
    if (dst == r->out.ptr)
        r->out.len = got;
    r->payload = dst;
    r->payload_len = got;
    return 0;
}

/* What is wrong with a line, if anything. */
enum line_fault {
    LINE_OK,
    LINE_NO_TS,
    LINE_TS_SYNTAX,
    LINE_TS_RANGE,
    LINE_NO_ID,
    LINE_ID_LONG,
    LINE_ID_CHAR,
    LINE_NO_JSON
};

static const char *const line_faults[] = {
    "",
    "the line does not start with a time",
    "its time is not plain decimal milliseconds",
    "its time is out of range (" TS_VALID ")",
    "no id after its time",
    "its id is longer than 64 characters",
    "its id holds a byte other than A-Z a-z 0-9 - _",
    "no JSON after its time and id"};

/* The time at the start of s[0..len), up to the space after it; *used is
 * its length. Canonical decimal only (one text per value: no "+", no
 * leading zero, no "-0"), so the indexer never sees two spellings of one
 * time. */
static enum line_fault parse_ts(const char *s, size_t len, int64_t *ts,
                                size_t *used)
{
    size_t i = s[0] == '-', start = i;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (i - start < 17) /* 17 digits: above both limits, no overflow */
            v = v * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    size_t digits = i - start;
    if (digits == 0 || (i < len && s[i] != ' ') ||
        (digits > 1 && s[start] == '0') || (start && v == 0 && digits == 1))
        return LINE_TS_SYNTAX;
    if (start ? v > (uint64_t)-SL_BATCH_TS_MIN : v > SL_BATCH_TS_MAX)
        return LINE_TS_RANGE;
    *ts = start ? -(int64_t)v : (int64_t)v;
    *used = i;
    return LINE_OK;
}

/* Checks the line p[0..len) (without its "\n") and splits it into time,
 * id and JSON. */
static enum line_fault parse_line(const char *p, size_t len,
                                  struct sl_batch_event *ev)
{
    size_t i = 0;
    if (len == 0 || p[0] == ' ')
        return LINE_NO_TS;
    enum line_fault f = parse_ts(p, len, &ev->ts_ms, &i);
    if (f != LINE_OK)
        return f;
    if (i + 1 >= len || p[i + 1] == ' ')
        return LINE_NO_ID;
    const char *id = p + i + 1;
    size_t n = len - i - 1, k = 0;
    /* The space after the id, then its characters 16 at a time: the byte
     * loop below was a tenth of the indexer's instructions. The loop still
     * runs when that fails, to find where and why. */
    const char *sp =
        memchr(id, ' ', n <= SL_BATCH_ID_MAX ? n : SL_BATCH_ID_MAX + 1);
    if (sp != NULL && sp > id && id_chars(id, (size_t)(sp - id)))
        k = (size_t)(sp - id);
    else
        while (k < n && k <= SL_BATCH_ID_MAX && id_char((unsigned char)id[k]))
            k++;
    if (k > SL_BATCH_ID_MAX)
        return LINE_ID_LONG;
    if (k == n || (id[k] == ' ' && k + 1 == n))
        return LINE_NO_JSON;
    if (k == 0 || id[k] != ' ')
        return LINE_ID_CHAR;
    ev->id.ptr = id;
    ev->id.len = k;
    ev->json.ptr = id + k + 1;
    ev->json.len = n - k - 1;
    return LINE_OK;
}

/* Every line ends in "\n", is "TS ID JSON", and there are exactly count of
 * them. Counting stops one line past count, so a forged count costs
 * nothing. */
/* Room to keep where each line is, when count is one raw can hold (each
 * line has at least LINE_MIN bytes; so memory is bounded by raw, and by the
 * limit) and offsets fit; else the iteration splits the lines again. */
static bool reserve_at(struct sl_batch_reader *r)
{
    if (r->count > r->payload_len / LINE_MIN || r->payload_len > UINT32_MAX)
        return false;
    if (r->count > r->at_cap) {
        struct sl_columnar_line *a = realloc(r->at, r->count * sizeof *a);
        if (a == NULL)
            return false;
        r->at = a;
        r->at_cap = r->count;
    }
    return true;
}

static int check_lines(struct sl_batch_reader *r, struct sl_err *err)
{
    char q[QUOTE_SIZE];
    const char *p = r->payload, *end = p + r->payload_len;
    if (r->payload_len == 0 || end[-1] != '\n')
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'events': the payload of %zu "
                          "bytes does not end with a newline (an event cut "
                          "short?); the entry is corrupt",
                          r->payload_len);
    size_t lines = 0;
    r->have_at = reserve_at(r);
    while (p < end && lines <= r->count) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct sl_batch_event ev = {.json = {p, 0}};
        enum line_fault f =
            lines < r->count ? parse_line(p, (size_t)(nl - p), &ev) : LINE_OK;
        lines++;
        if (f != LINE_OK)
            return sl_err_set(
                err, SL_EPARSE,
                "stream entry field 'events': event %zu of %zu: %s; found "
                "%s; the entry is corrupt",
                lines, r->count, line_faults[f],
                sl_text_quote(q, sizeof q, p, (size_t)(nl - p), '"'));
        if (r->have_at && lines <= r->count)
            r->at[lines - 1] = (struct sl_columnar_line){
                ev.ts_ms, (uint32_t)(ev.id.ptr - r->payload),
                (uint32_t)(ev.json.ptr - r->payload),
                (uint32_t)(nl - r->payload)};
        p = nl + 1;
    }
    if (lines != r->count || p != end)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry field 'count' says %zu events but "
                          "the payload holds %s%zu lines; the entry is "
                          "corrupt",
                          r->count, p != end ? "more than " : "", lines);
    return 0;
}

/* Everything but the payload: the fields, the version, count, codec and
 * raw; keeps where the payload is for unpack. */
static int decode_fields(struct sl_batch_reader *r, size_t argc,
                         const char *const *argv, const size_t *argvlen,
                         struct sl_err *err)
{
    size_t val[SL_BATCH_NFIELDS];
    forget_entry(r);
    if (find_fields(argc, argv, argvlen, val, err) < 0)
        return -1;
    /* The version first: a newer entry may lack the fields of this one. */
    if (val[F_V] == argc)
        return sl_err_set(err, SL_EPARSE,
                          "stream entry has no field 'v' (format version); "
                          "it was not written by sluice-shipper");
    if (check_version(argv[val[F_V]], argvlen[val[F_V]], err) < 0)
        return -1;
    for (int f = F_HOST; f < SL_BATCH_NFIELDS; f++) {
        if (val[f] == argc)
            return sl_err_set(err, SL_EPARSE,
                              "stream entry has no field '%s'; it was not "
                              "written by sluice-shipper",
                              field_names[f]);
    }
    if (read_header(r, argv, argvlen, val, &r->raw, err) < 0) {
        forget_entry(r);
        return -1;
    }
    r->src = argv[val[F_EVENTS]];
    r->src_len = argvlen[val[F_EVENTS]];
    r->host.ptr = argv[val[F_HOST]];
    r->host.len = argvlen[val[F_HOST]];
    r->header_ok = true;
    return 0;
}

/* The payload (into dst, or the reader's own place) and its lines. */
static int decode_lines(struct sl_batch_reader *r, char *dst,
                        struct sl_err *err)
{
    r->lines_checked = false;
    if (unpack(r, r->src, r->src_len, r->raw, dst, err) < 0 ||
        (!r->lines_checked && check_lines(r, err) < 0)) {
        forget_entry(r);
        return -1;
    }
    if (r->lines_checked)
        r->have_at = true;
    r->header_ok = false;
    return 0;
}

int sl_batch_reader_decode(struct sl_batch_reader *r, size_t argc,
                           const char *const *argv, const size_t *argvlen,
                           struct sl_err *err)
{
    if (decode_fields(r, argc, argv, argvlen, err) < 0)
        return -1;
    return decode_lines(r, NULL, err);
}

int sl_batch_reader_decode_header(struct sl_batch_reader *r, size_t argc,
                                  const char *const *argv,
                                  const size_t *argvlen, size_t *raw,
                                  struct sl_err *err)
{
    if (decode_fields(r, argc, argv, argvlen, err) < 0)
        return -1;
    /* A count the payload cannot hold would make the caller allocate for
     * it: the lines are checked now, which fails (each line has at least
     * LINE_MIN bytes) with the message decode gives. */
    if (r->count > r->raw / LINE_MIN) {
        if (decode_lines(r, NULL, err) == 0) {
            forget_entry(r);
            return sl_err_set(err, SL_EPARSE, "stream entry: bad count");
        }
        return -1;
    }
    *raw = r->raw;
    return 0;
}

int sl_batch_reader_decode_payload(struct sl_batch_reader *r, char *dst,
                                   struct sl_err *err)
{
    if (!r->header_ok) {
        forget_entry(r);
        return sl_err_set(err, SL_EINVAL,
                          "batch reader: decode_payload without a header "
                          "decoded first");
    }
    return decode_lines(r, dst, err);
}

/* The line at p, which check_lines found well formed: no checks left to
 * make, so the walk costs a digit loop and two memchr. */
static const char *split_line(const char *p, const char *end,
                              struct sl_batch_event *ev)
{
    bool neg = p[0] == '-';
    uint64_t v = 0;
    for (p += neg; *p != ' '; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    ev->ts_ms = neg ? -(int64_t)v : (int64_t)v;
    const char *id = p + 1;
    const char *sp = memchr(id, ' ', (size_t)(end - id));
    assert(sp != NULL); /* check_lines saw it */
    const char *nl = memchr(sp + 1, '\n', (size_t)(end - sp - 1));
    assert(nl != NULL);
    ev->id.ptr = id;
    ev->id.len = (size_t)(sp - id);
    ev->json.ptr = sp + 1;
    ev->json.len = (size_t)(nl - sp - 1);
    return nl + 1;
}

int sl_batch_reader_next(struct sl_batch_reader *r, struct sl_batch_event *ev)
{
    if (r->pos >= r->payload_len)
        return 0;
    if (r->have_at) {
        const struct sl_columnar_line *a = &r->at[r->next++];
        ev->ts_ms = a->ts_ms;
        ev->id.ptr = r->payload + a->id;
        ev->id.len = a->json - 1 - a->id;
        ev->json.ptr = r->payload + a->json;
        ev->json.len = a->nl - a->json;
        r->pos = (size_t)a->nl + 1;
        return 1;
    }
    const char *end = r->payload + r->payload_len;
    const char *next = split_line(r->payload + r->pos, end, ev);
    r->pos = (size_t)(next - r->payload);
    return 1;
}

void sl_batch_reader_rewind(struct sl_batch_reader *r)
{
    r->pos = 0;
    r->next = 0;
}

size_t sl_batch_reader_count(const struct sl_batch_reader *r)
{
    return r->count;
}

struct sl_slice sl_batch_reader_host(const struct sl_batch_reader *r)
{
    return r->host;
}

enum sl_codec sl_batch_reader_codec(const struct sl_batch_reader *r)
{
    return r->codec;
}
