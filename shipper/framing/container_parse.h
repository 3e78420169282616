/* container_parse.h: one physical line of a container log file, parsed.
 * Internal to container_log.c (and its tests and fuzz target): the
 * line-by-line half, with no state; container_log.c joins the parts. */
#ifndef CONTAINER_PARSE_H
#define CONTAINER_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container_log.h"
#include "sl_err.h"
#include "sl_slice.h"

struct container_part {
    /* docker: the raw `log` value between its quotes, still escaped, its
     * final "\n" (escaped) left out; cri: the text */
    struct sl_slice text;
    bool escaped; /* text holds JSON escapes (docker) */
    bool partial; /* more parts follow: no "\n" (docker), tag P (cri) */
    enum container_log_stream stream;
    int64_t time_ms;
};

/* 0 and *part, or -1: the line is not the format. */
SL_MUST_CHECK int container_parse_docker(const char *line, size_t len,
                                         struct container_part *part);
SL_MUST_CHECK int container_parse_cri(const char *line, size_t len,
                                      struct container_part *part);

/* Appends the JSON string body s[0..len) (escapes checked by the parse),
 * unescaped, to dst[0..room): \uXXXX as UTF-8, a surrogate pair as one
 * character, a lone surrogate as U+FFFD. Never writes past room and never
 * cuts inside one escape's bytes; *cut says whether all did not fit.
 * Returns the bytes written. */
size_t container_unescape(const char *s, size_t len, char *dst, size_t room,
                          bool *cut);

#endif
