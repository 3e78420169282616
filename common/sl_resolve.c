/* sl_resolve.c: see sl_resolve.h.
 *
 * The job is shared by the loop and the thread, with a count of owners
 * (2 at start): each side closes its own end of the socket pair and drops
 * its count; the last one frees the job. The thread publishes the answer
 * with a release store of `done` before it writes the wake-up byte; the
 * loop reads `done` with an acquire load, so it sees the whole answer. */
#include "sl_resolve.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sl_resolve {
    atomic_int owners;
    atomic_int done;
    int fds[2]; /* [0] the loop's, [1] the thread's */
    char host[256];
    char port[8];
    int gai; /* getaddrinfo's answer, 0 on success */
    int sys_errno;
    size_t n;
    struct sl_resolve_addr addrs[SL_RESOLVE_MAX_ADDRS];
};

static void release(struct sl_resolve *r)
{
    if (atomic_fetch_sub_explicit(&r->owners, 1, memory_order_acq_rel) == 1)
        free(r);
}

static void *lookup(void *arg)
{
    struct sl_resolve *r = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    r->gai = getaddrinfo(r->host, r->port, &hints, &res);
    r->sys_errno = errno;
    for (struct addrinfo *ai = res; r->gai == 0 && ai != NULL;
         ai = ai->ai_next) {
        if (r->n == SL_RESOLVE_MAX_ADDRS ||
            ai->ai_addrlen > sizeof r->addrs[0].ss)
            break;
        memcpy(&r->addrs[r->n].ss, ai->ai_addr, ai->ai_addrlen);
        r->addrs[r->n].len = ai->ai_addrlen;
        r->n++;
    }
    if (res != NULL)
        freeaddrinfo(res);
    atomic_store_explicit(&r->done, 1, memory_order_release);
    /* The loop may have gone: MSG_NOSIGNAL, and the error is of no use. */
    ssize_t w = send(r->fds[1], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    close(r->fds[1]);
    release(r);
    return NULL;
}

struct sl_resolve *sl_resolve_start(const char *host, uint16_t port,
                                    struct sl_err *err)
{
    struct sl_resolve *r = calloc(1, sizeof *r);
    if (r == NULL) {
        sl_err_set(err, SL_ENOMEM, "resolving '%s': out of memory", host);
        return NULL;
    }
    snprintf(r->host, sizeof r->host, "%s", host);
    snprintf(r->port, sizeof r->port, "%u", (unsigned)port);
    atomic_init(&r->owners, 2);
    atomic_init(&r->done, 0);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   r->fds) < 0) {
        sl_err_set(err, SL_EIO, "resolving '%s': socketpair: %s", host,
                   sl_strerror(errno));
        free(r);
        return NULL;
    }
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&tid, &attr, lookup, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        sl_err_set(err, SL_EIO, "resolving '%s': cannot start a thread: %s",
                   host, sl_strerror(e));
        close(r->fds[0]);
        close(r->fds[1]);
        free(r);
        return NULL;
    }
    return r;
}

int sl_resolve_fd(const struct sl_resolve *r)
{
    return r->fds[0];
}

int sl_resolve_result(struct sl_resolve *r, struct sl_resolve_addr *out,
                      size_t max, size_t *n, struct sl_err *err)
{
    if (!atomic_load_explicit(&r->done, memory_order_acquire))
        return 0;
    if (r->gai != 0 || r->n == 0) {
        const char *why = r->gai == 0            ? "no address"
                          : r->gai == EAI_SYSTEM ? sl_strerror(r->sys_errno)
                                                 : gai_strerror(r->gai);
        return sl_err_set(err, SL_EIO, "cannot resolve '%s': %s", r->host, why);
    }
    *n = r->n < max ? r->n : max;
    memcpy(out, r->addrs, *n * sizeof *out);
    return 1;
}

void sl_resolve_free(struct sl_resolve *r)
{
    if (r == NULL)
        return;
    close(r->fds[0]);
    release(r);
}
