/* fuzz_redis_url.c: the Redis URL parser on any bytes (as text up to the
 * first NUL, as it comes from a config string). Checks its promises:
 * `shown` is NUL-terminated within SL_REDIS_SHOWN_MAX, with no control
 * bytes; a parsed URL has a host, a port from 1 (TCP), a database from 0
 * to 999999999, "***" where its password was, and a user only with a
 * password; a failure leaves the password field empty; and neither
 * `shown` nor an error message holds the password as written (see
 * check_secret). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *find(const char *hay, size_t hlen, const char *needle,
                        size_t nlen)
{
    for (size_t i = 0; nlen > 0 && i + nlen <= hlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

/* Where the password is as written: between the first ':' of the
 * userinfo and the last '@' (the whole userinfo without a ':'). */
static const char *secret(const char *url, size_t *len)
{
    const char *sep = strstr(url, "://");
    const char *start = sep != NULL ? sep + 3 : url;
    const char *at = strrchr(start, '@');
    if (at == NULL)
        return NULL;
    const char *colon = memchr(start, ':', (size_t)(at - start));
    const char *pw = colon != NULL ? colon + 1 : start;
    *len = (size_t)(at - pw);
    return pw;
}

/* Whether pw stands in msg outside the copy of shown that msg quotes
 * (shown is checked on its own). A password made of the end of the host
 * and the start of the message's fixed text, which libFuzzer built once,
 * stands across that copy's end: it is not a leak. */
static bool outside_shown(const char *msg, const char *shown, const char *pw,
                          size_t plen)
{
    size_t mlen = strlen(msg), slen = strlen(shown);
    const char *at = slen > 0 ? find(msg, mlen, shown, slen) : NULL;
    if (at == NULL)
        return find(msg, mlen, pw, plen) != NULL;
    size_t before = (size_t)(at - msg), after = before + slen;
    return find(msg, before, pw, plen) != NULL ||
           find(msg + after, mlen - after, pw, plen) != NULL;
}

/* The password leaks when it shows in `shown` or the message, but not
 * when the same URL with another password of the same length (all 'Q')
 * shows it there too: then the bytes come from the rest of the URL or a
 * fixed text. Only passwords of 6 bytes or more, with a byte >= 0x80,
 * are checked: shorter ones are found anywhere by chance. */
static void check_secret(const char *url, const struct sl_redis_url *u,
                         const struct sl_err *err)
{
    size_t plen = 0;
    const char *pw = secret(url, &plen);
    bool high = false;
    for (size_t i = 0; pw != NULL && i < plen; i++)
        high = high || (unsigned char)pw[i] >= 0x80;
    if (!high || plen < 6)
        return;
    const char *msg = err->msg;
    if (find(u->shown, strlen(u->shown), pw, plen) == NULL &&
        !outside_shown(msg, u->shown, pw, plen))
        return;
    char *other = strdup(url);
    if (other == NULL)
        return;
    memset(other + (pw - url), 'Q', plen);
    struct sl_redis_url u2;
    struct sl_err err2 = {SL_OK, ""};
    SL_IGNORE_RESULT(sl_redis_url_parse(other, &u2, &err2));
    free(other);
    if (find(u->shown, strlen(u->shown), pw, plen) != NULL &&
        find(u2.shown, strlen(u2.shown), pw, plen) == NULL)
        abort();
    if (outside_shown(msg, u->shown, pw, plen) &&
        find(err2.msg, strlen(err2.msg), pw, plen) == NULL)
        abort();
}

static void check_shown(const char *shown)
{
    size_t n = strnlen(shown, SL_REDIS_SHOWN_MAX);
    if (n >= SL_REDIS_SHOWN_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)shown[i] < 0x20 || shown[i] == 0x7F)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    char *url = malloc(size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    struct sl_redis_url u;
    struct sl_err err = {SL_OK, ""};
    int rc = sl_redis_url_parse(url, &u, &err);
    check_shown(u.shown);
    check_secret(url, &u, &err);
    if (rc < 0 && (err.status != SL_EINVAL || u.password[0] != '\0'))
        abort();
    if (rc == 0) {
        if (u.host[0] == '\0' || u.db < 0 || u.db > 999999999)
            abort();
        if (!u.unix_socket && u.port == 0)
            abort();
        if (u.user[0] != '\0' && u.password[0] == '\0')
            abort();
        if (u.password[0] != '\0' && strstr(u.shown, "***@") == NULL)
            abort();
    }
    free(url);
    return 0;
}
