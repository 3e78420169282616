/* sl_log.h: the daemons' own log, one line per message.
 *
 *   text: 2025-11-21T20:56:01.123Z warn  [input:file:/var/log/app.log] msg
 *   json: {"@timestamp":"2025-11-21T20:56:01.123Z","log.level":"warn",
 *          "component":"input:file:/var/log/app.log","message":"msg"}
 *
 * Timestamps are UTC with milliseconds. Each line goes out in one write(2),
 * so lines from several threads or processes on one file never interleave.
 * Messages are cut at SL_LOG_MSG_MAX bytes. In text, control characters are
 * escaped (\n, \x1B) so a message stays one line; in JSON they are escaped as
 * JSON; in both, invalid UTF-8 becomes U+FFFD.
 *
 * Repeats are folded: a message with the same level, component and text as
 * the previous one, within SL_LOG_FOLD_MS of the first, is counted instead of
 * printed. The count comes out as "<text> (repeated N times in Ts)" when a
 * different message arrives, when a repeat comes after the window (which then
 * starts again), at sl_log_tick() after the window, or at sl_log_flush().
 *
 * Before sl_log_init(), messages of level info and above go to stderr as
 * text. All functions are thread-safe except sl_log_fatal_signal(), which is
 * async-signal-safe instead: a lock serialises lines and folding, and the
 * level is an atomic, so sl_log_enabled() (every SL_DEBUG) takes no lock
 * and sees sl_log_init()'s level soon after, never a torn one. Never pass a
 * secret to the log. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_err.h"

enum sl_log_level { SL_LOG_ERROR, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };
enum sl_log_format { SL_LOG_TEXT, SL_LOG_JSON };

#define SL_LOG_MSG_MAX 4096
#define SL_LOG_FOLD_MS 10000

/* NULL-terminated, indexed by the enums: usable with sl_config_enum(). */
extern const char *const sl_log_level_names[];
extern const char *const sl_log_format_names[];

/* Sets the minimum level and the format; flushes a pending repeat count. */
void sl_log_init(enum sl_log_level min, enum sl_log_format format);
/* Logs to fd from now on (2 at start). The caller keeps ownership of fd. */
void sl_log_set_fd(int fd);
/* Logs to a file, appending, created 0644 if absent. sl_log_reopen() opens
 * the same path again (after rotation, on SIGHUP; call it from the main
 * loop, not the handler); without a file it does nothing. sl_log_close()
 * flushes, closes a file we opened and goes back to stderr. */
SL_MUST_CHECK int sl_log_open(const char *path, struct sl_err *err);
SL_MUST_CHECK int sl_log_reopen(struct sl_err *err);
void sl_log_close(void);

bool sl_log_enabled(enum sl_log_level level);
/* component may be NULL ("[...]" is then left out). */
void sl_log(enum sl_log_level level, const char *component, const char *fmt,
            ...) __attribute__((format(printf, 3, 4)));
void sl_vlog(enum sl_log_level level, const char *component, const char *fmt,
             va_list ap) __attribute__((format(printf, 3, 0)));

/* Prints a pending repeat count if its window has ended (call about once a
 * second from the main loop), or in any case (at exit). */
void sl_log_tick(void);
/* Milliseconds until sl_log_tick() has a count to print (0: now), -1 when
 * none waits: a loop sleeps until then rather than ticking every second. */
int sl_log_tick_in_ms(void);
void sl_log_flush(void);

/* From a signal handler: writes "<time> error [signal] <msg>" (or JSON) with
 * write(2) only; no locks, no allocation, no folding. */
void sl_log_fatal_signal(const char *msg);

/* "warn" -> SL_LOG_WARN; an unknown word fails with SL_EINVAL and a message
 * listing the known ones. */
SL_MUST_CHECK int sl_log_level_parse(const char *s, enum sl_log_level *out,
                                     struct sl_err *err);
SL_MUST_CHECK int sl_log_format_parse(const char *s, enum sl_log_format *out,
                                      struct sl_err *err);

/* For tests: a clock in milliseconds since the epoch, used for timestamps
 * and the folding window. NULL restores the system clocks. */
typedef int64_t (*sl_log_clock_fn)(void);
void sl_log_set_clock(sl_log_clock_fn now_ms);

#define SL_ERROR(comp, ...) sl_log(SL_LOG_ERROR, (comp), __VA_ARGS__)
#define SL_WARN(comp, ...)  sl_log(SL_LOG_WARN, (comp), __VA_ARGS__)
#define SL_INFO(comp, ...)  sl_log(SL_LOG_INFO, (comp), __VA_ARGS__)
#define SL_DEBUG(comp, ...)                                                    \
    do {                                                                       \
        if (sl_log_enabled(SL_LOG_DEBUG))                                      \
            sl_log(SL_LOG_DEBUG, (comp), __VA_ARGS__);                         \
    } while (0)

#endif
