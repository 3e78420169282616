/* sl_redis_url.h: where a Redis server is and how to log in, from a URL.
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
 *   unix://[[USER]:PASSWORD@]/PATH[?db=DB]        (also redis+unix://)
 *
 * HOST is a name, an IPv4 address or an IPv6 address in brackets
 * ([::1]); PORT defaults to 6379, DB to 0. USER and PASSWORD are
 * percent-decoded (%40 for '@'); the userinfo ends at the LAST '@', so a
 * password with an unencoded '@', '/' or '#' still parses. ":PASSWORD@"
 * logs in as the default user (AUTH PASSWORD), "USER:PASSWORD@" as an ACL
 * user (AUTH USER PASSWORD). An empty password without a user (":@",
 * what "${REDIS_PASSWORD}" gives when the variable is empty) means no
 * AUTH at all.
 *
 * Refused, each with a message saying what to write instead: "rediss://"
 * (hiredis 0.14 has no TLS), userinfo without ':' (redis-cli reads
 * "secret@" as a password, other clients as a user name: we do not
 * guess), a user with an empty password, a query string on redis://, a
 * port outside 1..65535, a DB that is not a number below 1000000000.
 *
 * The password never appears in a message: `shown` is the URL with the
 * password replaced by "***" (and the whole userinfo when it has no ':'),
 * control characters replaced by '?'; every error message quotes that. */
#ifndef SL_REDIS_URL_H
#define SL_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

#define SL_REDIS_DEFAULT_PORT 6379
#define SL_REDIS_HOST_MAX     256 /* a DNS name is at most 253 bytes */
#define SL_REDIS_PATH_MAX     108 /* sizeof sun_path, NUL included */
#define SL_REDIS_USER_MAX     128 /* decoded, NUL included */
#define SL_REDIS_PASSWORD_MAX 512 /* decoded, NUL included */
#define SL_REDIS_SHOWN_MAX    512 /* cut with "..." beyond */

struct sl_redis_url {
    bool unix_socket;
    /* TCP: a name, an IPv4 address, or an IPv6 address without brackets;
     * unix: the socket's path. */
    char host[SL_REDIS_HOST_MAX];
    uint16_t port; /* TCP only */
    int db;
    char user[SL_REDIS_USER_MAX];         /* "": the default user */
    char password[SL_REDIS_PASSWORD_MAX]; /* "": no AUTH */
    char shown[SL_REDIS_SHOWN_MAX];       /* safe to log */
};

/* Fills *out (which holds the password: do not log it, show out->shown).
 * Fails with SL_EINVAL and a message quoting the shown URL. */
SL_MUST_CHECK int sl_redis_url_parse(const char *url, struct sl_redis_url *out,
                                     struct sl_err *err);

/* Writes url with its password hidden into buf[0..size) (as `shown`
 * above), whether or not the URL parses; returns buf. */
const char *sl_redis_url_redact(const char *url, char *buf, size_t size);

#endif
