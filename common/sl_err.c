/* sl_err.c: setting, prefixing and naming errors. Messages that do not fit
 * in SL_ERR_MSG_MAX are cut, never overflowed. */
#include "sl_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_err_set(struct sl_err *err, enum sl_status st, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    err->status = st;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void sl_err_prefix(struct sl_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[SL_ERR_MSG_MAX];
    char old[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Both parts may be long; the result is cut at SL_ERR_MSG_MAX. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
}

void sl_err_clear(struct sl_err *err)
{
    if (err == NULL)
        return;
    err->status = SL_OK;
    err->msg[0] = '\0';
}

const char *sl_status_str(enum sl_status st)
{
    switch (st) {
    case SL_OK:
        return "ok";
    case SL_EINVAL:
        return "invalid argument";
    case SL_ENOMEM:
        return "out of memory";
    case SL_EIO:
        return "input/output error";
    case SL_EPARSE:
        return "parse error";
    case SL_ELIMIT:
        return "limit reached";
    case SL_EREMOTE:
        return "remote error";
    case SL_ERETRY:
        return "temporary failure";
    }
    return "unknown error";
}

/* The XSI strerror_r, which glibc declares (as __xpg_strerror_r) when
 * _GNU_SOURCE is not defined, as in our build: it always copies into buf.
 * The GNU variant returns a char * instead, which would not compile here
 * (a pointer assigned to an int), so the choice cannot slip. A
 * thread-local buffer rather than a caller's buffer keeps each call site a
 * plain argument, as strerror was. 128 bytes holds every glibc text. */
const char *sl_strerror(int errnum)
{
    static _Thread_local char buf[128];
    int saved = errno;
    int rc = strerror_r(errnum, buf, sizeof buf);
    if (rc != 0)
        snprintf(buf, sizeof buf, "unknown error %d", errnum);
    errno = saved;
    return buf;
}
