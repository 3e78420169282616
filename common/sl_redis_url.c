/* sl_redis_url.c: see sl_redis_url.h.
 *
 * The shown form is built first, from the raw string, so that every error
 * below can quote it whatever is wrong with the URL; nothing after that
 * ever formats the raw URL or the userinfo into a message. */
#include "sl_redis_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ascii.h"
#include "sl_text.h"

#define FORM_TCP  "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"
#define FORM_UNIX "unix://[[USER]:PASSWORD@]/PATH[?db=DB]"
#define DB_MAX    999999999

/* Appends s[0..n) to buf at *o, control bytes as '?', cut with "...". */
static void put(char *buf, size_t size, size_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (*o + 4 >= size) {
            memcpy(buf + size - 4, "...", 4);
            *o = size - 1;
            return;
        }
        unsigned char c = (unsigned char)s[i];
        buf[(*o)++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    buf[*o] = '\0';
}

const char *sl_redis_url_redact(const char *url, char *buf, size_t size)
{
    size_t o = 0;
    if (size < 8) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    buf[0] = '\0';
    const char *sep = strstr(url, "://");
    const char *start = sep != NULL ? sep + 3 : url;
    const char *at = strrchr(start, '@');
    if (at == NULL) {
        put(buf, size, &o, url, strlen(url));
        return buf;
    }
    put(buf, size, &o, url, (size_t)(start - url));
    const char *colon = memchr(start, ':', (size_t)(at - start));
    if (colon != NULL) {
        put(buf, size, &o, start, (size_t)(colon - start));
        put(buf, size, &o, ":***", 4);
    } else {
        put(buf, size, &o, "***", 3);
    }
    put(buf, size, &o, at, strlen(at));
    return buf;
}

/* Percent-decodes s[0..n) into out[0..size). Never quotes the input: it
 * may be a password. */
static int decode(const char *s, size_t n, char *out, size_t size,
                  const char *what, const struct sl_redis_url *u,
                  struct sl_err *err)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? sl_ascii_hex_value(s[i + 1]) : -1;
            int lo = hi >= 0 ? sl_ascii_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return sl_err_set(err, SL_EINVAL,
                                  "redis url '%s': the %s has a '%%' not "
                                  "followed by two hex digits; write %%25 for "
                                  "a '%%'",
                                  u->shown, what);
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return sl_err_set(err, SL_EINVAL,
                                  "redis url '%s': the %s holds a NUL byte "
                                  "(%%00), which Redis cannot take",
                                  u->shown, what);
            i += 2;
        }
        if (o + 1 >= size)
            return sl_err_set(err, SL_EINVAL,
                              "redis url '%s': the %s is longer than %zu "
                              "bytes",
                              u->shown, what, size - 1);
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int parse_userinfo(const char *s, size_t n, struct sl_redis_url *u,
                          struct sl_err *err)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': the part before '@' has no ':'; "
                          "write :PASSWORD@ for the default user or "
                          "USER:PASSWORD@ for an ACL user",
                          u->shown);
    size_t ulen = (size_t)(colon - s);
    if (decode(s, ulen, u->user, sizeof u->user, "user", u, err) < 0 ||
        decode(colon + 1, n - ulen - 1, u->password, sizeof u->password,
               "password", u, err) < 0)
        return -1;
    char q[64];
    if (u->user[0] != '\0' && u->password[0] == '\0')
        return sl_err_set(
            err, SL_EINVAL,
            "redis url '%s': user %s has an empty password; "
            "write USER:PASSWORD@ (is the variable that holds "
            "it set?)",
            u->shown,
            sl_text_quote(q, sizeof q, u->user, strlen(u->user), '\''));
    return 0;
}

/* Digits only, at most 9 of them (so no overflow), value in [lo, hi]. */
static int number(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sl_ascii_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_db(const char *s, size_t n, struct sl_redis_url *u,
                    struct sl_err *err)
{
    long v = 0;
    char q[64];
    if (n > 0 && number(s, n, 0, DB_MAX, &v) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': database %s is not a number from "
                          "0 to %d",
                          u->shown, sl_text_quote(q, sizeof q, s, n, '\''),
                          DB_MAX);
    u->db = (int)v;
    return 0;
}

static bool name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sl_ascii_alpha(s[i]) && !sl_ascii_digit(s[i]) && s[i] != '-' &&
            s[i] != '.' && s[i] != '_')
            return false;
    return n > 0;
}

/* HOST[:PORT] from s[0..n); IPv6 in brackets. */
static int parse_hostport(const char *s, size_t n, struct sl_redis_url *u,
                          struct sl_err *err)
{
    const char *h = s, *rest;
    size_t hlen;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (rb == NULL)
            return sl_err_set(err, SL_EINVAL,
                              "redis url '%s': '[' without ']'; write an "
                              "IPv6 address as [::1]",
                              u->shown);
        h = s + 1;
        hlen = (size_t)(rb - h);
        rest = rb + 1;
    } else {
        rest = memchr(s, ':', n);
        if (rest == NULL)
            rest = s + n;
        else if (memchr(rest + 1, ':', n - (size_t)(rest - s) - 1) != NULL)
            return sl_err_set(err, SL_EINVAL,
                              "redis url '%s': write an IPv6 address in "
                              "brackets, as in redis://[::1]:6379",
                              u->shown);
        hlen = (size_t)(rest - s);
    }
    size_t rlen = n - (size_t)(rest - s);
    if (hlen == 0)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': no host; expected %s", u->shown,
                          FORM_TCP);
    if (hlen >= sizeof u->host)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': host name longer than %zu bytes",
                          u->shown, sizeof u->host - 1);
    memcpy(u->host, h, hlen);
    u->host[hlen] = '\0';
    struct in6_addr a6;
    char q[64];
    if (h != s ? inet_pton(AF_INET6, u->host, &a6) != 1 : !name_ok(h, hlen))
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': %s is not a host name or %s",
                          u->shown, sl_text_quote(q, sizeof q, h, hlen, '\''),
                          h != s ? "IPv6 address"
                                 : "IPv4 address (write "
                                   "IPv6 in brackets)");
    long port = SL_REDIS_DEFAULT_PORT;
    if (rlen > 0 && rest[0] != ':')
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': expected ':PORT' or '/DB' after "
                          "the host",
                          u->shown);
    if (rlen > 0 && number(rest + 1, rlen - 1, 1, 65535, &port) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': port %s is not a number from 1 to "
                          "65535",
                          u->shown,
                          sl_text_quote(q, sizeof q, rest + 1, rlen - 1, '\''));
    u->port = (uint16_t)port;
    return 0;
}

static int parse_tcp(const char *s, struct sl_redis_url *u, struct sl_err *err)
{
    size_t n = strcspn(s, "/?#");
    if (parse_hostport(s, n, u, err) < 0)
        return -1;
    s += n;
    if (*s == '?' || *s == '#' || (*s == '/' && strpbrk(s, "?#") != NULL))
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': query strings and fragments are "
                          "not supported; expected %s",
                          u->shown, FORM_TCP);
    if (*s == '/')
        return parse_db(s + 1, strlen(s + 1), u, err);
    return 0;
}

static int parse_unix(const char *s, struct sl_redis_url *u, struct sl_err *err)
{
    size_t n = strcspn(s, "?");
    if (n == 0 || s[0] != '/')
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': expected an absolute socket path, "
                          "as in %s",
                          u->shown, FORM_UNIX);
    if (n >= SL_REDIS_PATH_MAX)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': socket path longer than %d bytes",
                          u->shown, SL_REDIS_PATH_MAX - 1);
    memcpy(u->host, s, n);
    u->host[n] = '\0';
    s += n;
    if (*s == '\0')
        return 0;
    if (strncmp(s, "?db=", 4) != 0)
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': the only query parameter is "
                          "?db=DB",
                          u->shown);
    return parse_db(s + 4, strlen(s + 4), u, err);
}

int sl_redis_url_parse(const char *url, struct sl_redis_url *out,
                       struct sl_err *err)
{
    memset(out, 0, sizeof *out);
    sl_redis_url_redact(url, out->shown, sizeof out->shown);
    const char *rest;
    if (strncmp(url, "redis://", 8) == 0) {
        rest = url + 8;
    } else if (strncmp(url, "unix://", 7) == 0) {
        rest = url + 7;
        out->unix_socket = true;
    } else if (strncmp(url, "redis+unix://", 13) == 0) {
        rest = url + 13;
        out->unix_socket = true;
    } else if (strncmp(url, "rediss://", 9) == 0) {
        return sl_err_set(err, SL_EINVAL,
                          "redis url '%s': TLS (rediss://) is not supported "
                          "(hiredis 0.14 has none); use redis:// through a "
                          "TLS tunnel such as stunnel",
                          out->shown);
    } else {
        return sl_err_set(err, SL_EINVAL, "redis url '%s': expected %s or %s",
                          out->shown, FORM_TCP, FORM_UNIX);
    }
    const char *at = strrchr(rest, '@');
    if (at != NULL) {
        if (parse_userinfo(rest, (size_t)(at - rest), out, err) < 0)
            goto fail;
        rest = at + 1;
    }
    if ((out->unix_socket ? parse_unix(rest, out, err)
                          : parse_tcp(rest, out, err)) < 0)
        goto fail;
    return 0;
fail:
    memset(out->password, 0, sizeof out->password);
    return -1;
}
