/* proc.c: see proc.h. One copy of what test_indexer_run.c and
 * test_indexer_failures.c each carried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "es_http.h"
#include "redis_server.h"
#include "sl_batch.h"
#include "sl_clock.h"
#include "sl_file.h"

#define SLURP_MAX (16u << 20)

pid_t proc_spawn(const char *const argv[], const char *out, const char *err,
                 const char *const env[])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    for (size_t i = 0; env != NULL && env[i] != NULL; i += 2)
        setenv(env[i], env[i + 1], 1);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int proc_wait(pid_t pid, int64_t ms)
{
    int64_t end = sl_clock_mono_ms() + ms;
    int st;
    while (sl_clock_mono_ms() < end) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        poll(NULL, 0, 20); /* a retry interval, bounded by `end` */
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

char *proc_slurp(const char *path)
{
    struct sl_buf b;
    struct sl_err err;
    sl_buf_init(&b, SLURP_MAX);
    if (sl_file_read(path, NULL, SLURP_MAX, &b, &err) < 0)
        fail_msg("%s", err.msg);
    return (char *)b.ptr; /* NUL-terminated */
}

void proc_assert_contains(const char *path, const char *want)
{
    char *s = proc_slurp(path);
    size_t len = strlen(s);
    if (strstr(s, want) == NULL)
        fail_msg("%s does not say \"%s\"; it ends with:\n%s", path, want,
                 s + (len > 3000 ? len - 3000 : 0));
    free(s);
}

char *proc_http_get(const char *addr, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    struct es_http h = {0};
    h.curl = curl_easy_init();
    h.url = "";
    h.timeout = 5;
    long st = es_http_request(&h, "GET", url, NULL, NULL);
    char *body = st == 200 ? strdup(es_http_body(&h)) : NULL;
    es_http_free(&h);
    return body;
}

int proc_redis_start(int port, pid_t *pid)
{
    char p[16], why[256];
    snprintf(p, sizeof p, "%d", port);
    const char *argv[] = {"redis-server", "--port", p,  "--bind",
                          "127.0.0.1",    "--save", "", "--appendonly",
                          "no",           NULL};
    if (redis_server_spawn(argv, port, NULL, 10000, pid, why, sizeof why) == 0)
        return 0;
    print_error("%s\n", why);
    return -1;
}

redisContext *proc_redis(int port)
{
    redisContext *c = redis_server_connect(port, NULL);
    if (c == NULL || c->err)
        fail_msg("redis on port %d: %s", port, c ? c->errstr : "no memory");
    return c;
}

void proc_redis_xadd_batch(redisContext *c, const char *key,
                           const char *const *fv, const size_t *fl)
{
    const char *argv[3 + SL_BATCH_ARGC] = {"XADD", key, "*"};
    size_t lens[3 + SL_BATCH_ARGC] = {4, strlen(key), 1};
    for (int i = 0; i < SL_BATCH_ARGC; i++) {
        argv[3 + i] = fv[i];
        lens[3 + i] = fl[i];
    }
    redisReply *r = redisCommandArgv(c, 3 + SL_BATCH_ARGC, argv, lens);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        fail_msg("XADD %s: %s", key,
                 r == NULL                      ? c->errstr
                 : r->type == REDIS_REPLY_ERROR ? r->str
                                                : "not an entry id");
    freeReplyObject(r);
}

long long proc_redis_int(int port, const char *cmd, const char *key,
                         const char *arg)
{
    redisContext *c = redis_server_connect(port, NULL);
    redisReply *r = NULL;
    if (c != NULL && c->err == 0)
        r = arg ? redisCommand(c, "%s %s %s", cmd, key, arg)
                : redisCommand(c, "%s %s", cmd, key);
    long long v = -1;
    if (r != NULL && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             r->element[0]->type == REDIS_REPLY_INTEGER)
        v = r->element[0]->integer; /* XPENDING's summary */
    freeReplyObject(r);
    redisFree(c);
    return v;
}
