/* redis_server.c: see redis_server.h. One copy of what the Redis
 * integration tests each carried: the free port, the admin connection, the
 * fork and exec, the wait for PING. */
#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int redis_server_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
             getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    close(fd);
    return ok ? ntohs(a.sin_port) : -1;
}

redisContext *redis_server_connect(int port, const char *password)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c != NULL && c->err == 0) {
        redisSetTimeout(c, tv);
        if (password != NULL)
            freeReplyObject(redisCommand(c, "AUTH %s", password));
    }
    return c;
}

static bool answers_ping(int port, const char *password)
{
    redisContext *c = redis_server_connect(port, password);
    redisReply *r = c != NULL && c->err == 0 ? redisCommand(c, "PING") : NULL;
    bool up = r != NULL && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    redisFree(c);
    return up;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int redis_server_spawn(const char *const *argv, int port, const char *password,
                       int wait_ms, pid_t *pid, char *why, size_t whylen)
{
    *pid = fork();
    if (*pid < 0) {
        snprintf(why, whylen, "cannot fork to start redis-server");
        return -1;
    }
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execvp("redis-server", (char **)argv);
        _exit(127);
    }
    long long end = now_ms() + wait_ms;
    while (now_ms() < end) {
        if (answers_ping(port, password))
            return 0;
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            snprintf(why, whylen,
                     "redis-server on port %d exited at start (is it on "
                     "PATH? scripts/setup installs it)",
                     port);
            return -1;
        }
        poll(NULL, 0, 20); /* a retry interval, bounded by `end` */
    }
    redis_server_stop(pid, SIGKILL);
    snprintf(why, whylen,
             "redis-server on port %d did not answer PING in %d ms", port,
             wait_ms);
    return -1;
}

void redis_server_stop(pid_t *pid, int sig)
{
    if (*pid <= 0)
        return;
    kill(*pid, sig);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}
