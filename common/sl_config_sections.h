/* sl_config_sections.h: the config sections both daemons have ("log",
 * "http"), and what their own sections share: the Redis modes and keys, the
 * machine's name as a default, and URL checks. The keys are DESIGN.md's
 * fixed names; their reference is generated into the README. */
#ifndef SL_CONFIG_SECTIONS_H
#define SL_CONFIG_SECTIONS_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_config_table.h"
#include "sl_err.h"
#include "sl_log.h"

/* "log": {"level": "info", "format": "text", "file": "/var/log/x.log"} */
struct sl_log_section {
    enum sl_log_level level;   /* default info */
    enum sl_log_format format; /* default text */
    const char *file;          /* NULL: stderr */
};
extern const struct sl_config_table sl_log_section_table;

/* The daemon's log as the section says: sl_log_init, then the file opened
 * when one is named (sl_log_reopen() opens it again on SIGHUP). -1 when
 * the file cannot be opened, the message at log.file's place in the
 * config (FILE:L:C) when section is the "log" node it was read from
 * (NULL: without); the log is then stderr. Without a file: when stderr
 * appends to a regular file (`2>>shipper.log`), that file is opened by
 * its name, so SIGHUP reopens it too. */
SL_MUST_CHECK int sl_log_section_apply(const struct sl_log_section *s,
                                       const struct sl_config_node *section,
                                       struct sl_err *err);

/* "http": {"listen": "127.0.0.1:5066"}; /metrics and /status. */
struct sl_http_section {
    const char *listen; /* NULL: the endpoint is off */
};
extern const struct sl_config_table sl_http_section_table;

/* Redis: a stream of batches (XADD, consumer groups) or a Logstash-style
 * list of events (RPUSH). */
enum sl_redis_mode { SL_REDIS_STREAM, SL_REDIS_LIST };
extern const char *const sl_redis_mode_names[]; /* "stream", "list", NULL */
#define SL_REDIS_URL_DEFAULT "redis://127.0.0.1:6379/0"
#define SL_REDIS_STREAM_KEY  "sluice:events"
#define SL_REDIS_LIST_KEY    "logstash" /* Logstash's redis input default */
#define SL_REDIS_KEY_DOC     "`\"sluice:events\"` (stream), `\"logstash\"` (list)"

/* The key a mode uses when the config names none. */
const char *sl_redis_default_key(enum sl_redis_mode mode);

#define SL_HOSTNAME_MAX 256

/* The machine's name (gethostname), for defaults such as host.name. */
SL_MUST_CHECK int sl_config_hostname(char *buf, size_t size,
                                     struct sl_err *err);

/* Fails unless n (a string node, or an array of them; NULL is fine) starts
 * with one of schemes (NULL-terminated, "redis://"): "found a string
 * \"http://x\", expected a URL starting with \"redis://\" (such as
 * \"redis://127.0.0.1:6379/0\")". */
SL_MUST_CHECK int sl_config_check_url(const struct sl_config_node *n,
                                      const char *const schemes[],
                                      const char *example, struct sl_err *err);

/* Fails unless n (a string node; NULL is fine) is a Redis URL the client
 * can connect with (sl_redis_url.h): "FILE:L:C: output.redis.url: ..."
 * followed by the parser's reason, which never shows the password. */
SL_MUST_CHECK int sl_config_check_redis_url(const struct sl_config_node *n,
                                            struct sl_err *err);

/* The help text of every Redis url key. */
#define SL_REDIS_URL_HELP                                                      \
    "`redis://[[user]:password@]host[:port][/db]` or "                         \
    "`unix:///path/redis.sock?db=N`; put the password in `${REDIS_PASSWORD}`"

#endif
