/* redis_server.h: redis-server processes that a test starts, reconfigures,
 * kills and restarts itself (on a free loopback port), for the tests that
 * need more than the shared SLUICE_TEST_REDIS_URL server gives: a server
 * stopped mid-run, a password set, maxmemory reached.
 *
 * The child dies with the test (PR_SET_PDEATHSIG), its stdout goes to
 * /dev/null, and redis-server is found on PATH. Nothing here asserts: each
 * function returns -1 (with a reason in why) so setups and tests alike can
 * fail the way they need. */
#ifndef TEST_REDIS_SERVER_H
#define TEST_REDIS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* A free TCP port on 127.0.0.1, or -1. */
int redis_server_free_port(void);

/* A plain blocking connection (5 s timeouts), after AUTH password when
 * password is not NULL. NULL or a context with err set on failure. */
redisContext *redis_server_connect(int port, const char *password);

/* Starts redis-server with argv (NULL-terminated, argv[0] ignored: the
 * binary is found on PATH) and waits up to wait_ms for PING on port. 0
 * with *pid set; -1 with why filled and nothing left running. */
int redis_server_spawn(const char *const *argv, int port, const char *password,
                       int wait_ms, pid_t *pid, char *why, size_t whylen);

/* Sends sig and reaps the process; *pid becomes 0. 0 or less: nothing. */
void redis_server_stop(pid_t *pid, int sig);

#endif
