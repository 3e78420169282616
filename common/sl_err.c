/* sl_err.c: setting, prefixing and naming errors. Messages that do not fit
 * in SL_ERR_MSG_MAX are cut, never overflowed. */
#include "sl_err.h"

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
