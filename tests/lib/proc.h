/* proc.h: what the tests that drive a daemon binary share (the indexer's
 * test_indexer_run.c and test_indexer_failures.c): a child process with
 * its output in files, waited on with a deadline; its files read back and
 * checked; its HTTP endpoint asked; an integer asked of Redis.
 *
 * A child dies with the test (PR_SET_PDEATHSIG). The readers fail the
 * test (cmocka) when the file cannot be read; the others return what
 * they say. */
#ifndef TEST_PROC_H
#define TEST_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* Runs argv (argv[0] found on PATH) with stdout into out and stderr into
 * err (created or truncated) and the environment pairs of env ({NAME,
 * VALUE, ..., NULL}; NULL: none) set; its pid. */
pid_t proc_spawn(const char *const argv[], const char *out, const char *err,
                 const char *const env[]);

/* Waits for pid up to ms: its exit status (128 + the signal when one
 * ended it), or -1 when it ran past ms (it is then killed with SIGKILL). */
int proc_wait(pid_t pid, int64_t ms);

/* The file's text, NUL-terminated (the caller frees it). */
char *proc_slurp(const char *path);

/* Fails the test, showing the file's last 3,000 bytes, unless the file
 * holds want. */
void proc_assert_contains(const char *path, const char *want);

/* GET http://ADDR/PATH (5 s at most): the body of a 200 (the caller frees
 * it), else NULL. */
char *proc_http_get(const char *addr, const char *path);

/* Starts redis-server (on PATH) on 127.0.0.1:port, nothing saved, and
 * waits up to 10 s for its PING: 0 with *pid set; -1, the reason printed. */
int proc_redis_start(int port, pid_t *pid);

/* A blocking connection to 127.0.0.1:port (5 s timeouts); fails the test
 * when there is none. */
redisContext *proc_redis(int port);

/* XADD key * with a sealed batch's fields (sl_batch_writer_seal's fv and
 * fl); fails the test unless Redis answers with the entry's id. */
void proc_redis_xadd_batch(redisContext *c, const char *key,
                           const char *const *fv, const size_t *fl);

/* CMD KEY [ARG] asked of the redis-server on 127.0.0.1:port: an integer
 * answer, or the first element of an array's (XPENDING's summary); -1
 * for anything else. */
long long proc_redis_int(int port, const char *cmd, const char *key,
                         const char *arg);

#endif
