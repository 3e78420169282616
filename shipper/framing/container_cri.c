/* container_cri.c: one line of the Kubernetes CRI log format.
 *
 *   TIME " " STREAM " " TAGS [" " TEXT]
 *   2026-12-04T17:00:32.123456789Z stdout F GET / 200
 *
 * as the kubelet's runtimes write it (containerd: Go's RFC3339Nano in the
 * host's zone; CRI-O: nine digits always). TAGS is ':'-separated; "P"
 * marks a part of a split line (containerd splits at 16 KiB), "F" the last
 * or only part; other tags may come (the format reserves them) and are
 * ignored, as Filebeat ignores them. TEXT is everything after the third
 * space, kept as it is; an empty line is written "... F " or "... F".
 *
 * Stricter than Filebeat on purpose: tags must be capital letters and ':',
 * so a line of the format before tags existed (TIME STREAM TEXT,
 * Kubernetes before 1.10) is rarely taken for one whose first word is its
 * tags (it is, when that word is "A" or "I"). */
#include "container_parse.h"

#include <string.h>

#include "sl_rfc3339.h"

/* 0 when tags[0..n) is capital letters separated by ':' (*partial: one
 * is "P"), else -1. */
static int tags(const char *t, size_t n, bool *partial)
{
    *partial = false;
    size_t word = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || t[i] == ':') {
            if (word == 0)
                return -1;
            if (word == 1 && t[i - 1] == 'P')
                *partial = true;
            word = 0;
        } else if (t[i] >= 'A' && t[i] <= 'Z') {
            word++;
        } else {
            return -1;
        }
    }
    return 0;
}

int container_parse_cri(const char *line, size_t len,
                        struct container_part *part)
{
    const char *end = line + len;
    const char *sp1 = memchr(line, ' ', len);
    if (sp1 == NULL ||
        sl_rfc3339_parse_ms(line, (size_t)(sp1 - line), &part->time_ms) < 0)
        return -1;
    const char *stream = sp1 + 1;
    const char *sp2 = memchr(stream, ' ', (size_t)(end - stream));
    if (sp2 == NULL)
        return -1;
    if (sp2 - stream == 6 && memcmp(stream, "stdout", 6) == 0)
        part->stream = CONTAINER_LOG_STREAM_STDOUT;
    else if (sp2 - stream == 6 && memcmp(stream, "stderr", 6) == 0)
        part->stream = CONTAINER_LOG_STREAM_STDERR;
    else
        return -1;
    const char *tag = sp2 + 1;
    const char *sp3 = memchr(tag, ' ', (size_t)(end - tag));
    const char *tag_end = sp3 != NULL ? sp3 : end;
    if (tags(tag, (size_t)(tag_end - tag), &part->partial) < 0)
        return -1;
    part->text.ptr = sp3 != NULL ? sp3 + 1 : end;
    part->text.len = (size_t)(end - part->text.ptr);
    part->escaped = false;
    return 0;
}
