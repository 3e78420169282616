/* sl_err.h: the one error type of Sluice.
 *
 * Functions that can fail return int (0 ok / -1 error) or a pointer (NULL on
 * error) and take `struct sl_err *err` last. The message is one line in git's
 * grammar: lower case, no full stop, what failed first, then what to do.
 * Low-level parsers set a short reason; callers add context with
 * sl_err_prefix() as the error travels up. err may be NULL: the error is then
 * only reported through the return value. */
#ifndef SL_ERR_H
#define SL_ERR_H

enum sl_status {
    SL_OK = 0,
    SL_EINVAL,  /* bad argument or configuration */
    SL_ENOMEM,  /* allocation failed */
    SL_EIO,     /* a system call on a file or socket failed */
    SL_EPARSE,  /* outside input does not parse */
    SL_ELIMIT,  /* a configured or built-in limit was reached */
    SL_EREMOTE, /* a remote server answered with an error */
    SL_ERETRY   /* transient: try again later */
};

#define SL_ERR_MSG_MAX 512

/* On every function of a public module API that returns an int status
 * (0 / -1, or 1 / 0 for "got one"): ignoring the result is a compile error
 * under -Werror, because an ignored failure is an event lost silently.
 * The rare caller whose failure truly has nowhere to go (a log line that
 * cannot be written) wraps the call in SL_IGNORE_RESULT, with a comment
 * saying why; gcc does not take a plain (void) cast for this attribute. */
#define SL_MUST_CHECK          __attribute__((warn_unused_result))
#define SL_IGNORE_RESULT(call) ((void)!(call))

struct sl_err {
    enum sl_status status;
    char msg[SL_ERR_MSG_MAX];
};

/* Sets err and returns -1, so callers can write: return sl_err_set(...); */
int sl_err_set(struct sl_err *err, enum sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the message already in err. */
void sl_err_prefix(struct sl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to SL_OK with an empty message. */
void sl_err_clear(struct sl_err *err);

/* A word for the status ("parse error", "out of memory", ...). */
const char *sl_status_str(enum sl_status st);

/* The text for an errno value ("No such file or directory"): strerror
 * without its shared static buffer, which another thread may overwrite
 * while a message is being formatted. The text lives in a buffer of the
 * calling thread, valid until that thread's next call: use one per message
 * (two in one printf would print the second twice). Never fails; errno is
 * left as it was. scripts/check-source bans strerror for this. */
const char *sl_strerror(int errnum);

#endif
