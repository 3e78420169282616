/* sl_log.c: formatting, folding and writing the daemons' log lines.
 *
 * A line is built in a buffer and written with one write(2): no stdio, so no
 * buffer to lose in a crash and nothing to interleave. The pieces that build
 * a line (timestamp, escaping) use neither locks, malloc nor stdio, so the
 * fatal-signal path can share them; the timestamp comes from
 * sl_date_format_iso8601_ms() (arithmetic on days) rather than gmtime_r,
 * which is not async-signal-safe.
 *
 * Folding keeps only the last message (level, component, text) and a count:
 * a log storm of one message costs a comparison per call and one line per
 * window. It deliberately does not fold alternating messages (A B A B); that
 * would need a table and hides the order of events.
 *
 * Everything below the minimum level returns before formatting. */
#include "sl_log.h"

#include "sl_date.h"
#include "sl_file.h"
#include "sl_json.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COMP_MAX     256
#define LOG_LINE_MAX (SL_LOG_MSG_MAX * 6 + 2 * COMP_MAX * 6 + 256)
#define TAIL_ROOM    8 /* kept free for the end of the line: "\"}\n" */
#define FATAL_LINE   1024

const char *const sl_log_level_names[] = {"error", "warn", "info", "debug",
                                          NULL};
const char *const sl_log_format_names[] = {"text", "json", NULL};

/* min, format and fd are atomics: sl_log_enabled() reads min on every
 * SL_DEBUG without the lock, and the fatal-signal path reads format and fd,
 * where it may take no lock. Writers hold the lock as well, so a change is
 * ordered with the lines around it. Relaxed loads: a thread may log one
 * more line at the old level, never read a torn value. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "lock-free int atomics: the signal path reads them");

static struct {
    pthread_mutex_t lock;
    atomic_int min;    /* enum sl_log_level */
    atomic_int format; /* enum sl_log_format */
    atomic_int fd;
    bool own_fd;
    char *path;
    sl_log_clock_fn clock;
    /* The last message printed, for folding repeats of it. */
    bool have_last;
    enum sl_log_level last_level;
    char last_comp[COMP_MAX];
    char last_msg[SL_LOG_MSG_MAX];
    size_t last_len;
    int64_t first_ms, last_ms; /* first print, latest repeat (monotonic) */
    int64_t last_wall_ms;      /* latest repeat, for the summary's time */
    unsigned long repeats;
} g = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .min = SL_LOG_INFO,
    .format = SL_LOG_TEXT,
    .fd = 2,
};

struct line {
    char *buf;
    size_t len, cap;
    bool full; /* a piece did not fit: drop the rest, not just that piece */
};

static int64_t clock_ms(clockid_t id)
{
    if (g.clock != NULL)
        return g.clock();
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends all of s or nothing, keeping TAIL_ROOM unless tail is set. */
static void put(struct line *l, const char *s, size_t n, bool tail)
{
    size_t reserve = tail ? 0 : TAIL_ROOM;
    if ((l->full && !tail) || l->len + reserve > l->cap ||
        n > l->cap - l->len - reserve) {
        l->full = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    put(l, s, strlen(s), false);
}

/* 2025-11-21T20:56:01.123Z (a clock before 1970 shows as 1970). */
static void put_timestamp(struct line *l, int64_t ms)
{
    char iso[SL_DATE_ISO8601_SIZE];
    if (sl_date_format_iso8601_ms(ms < 0 ? 0 : ms, iso) < 0)
        put_str(l, "9999-12-31T23:59:59.999Z"); /* a clock past year 9999 */
    else
        put(l, iso, SL_DATE_ISO8601_SIZE - 1, false);
}

static void put_control(struct line *l, unsigned char c, bool json)
{
    static const char hex[] = "0123456789abcdef";
    char e[7] = "\\";
    size_t n = 2;
    switch (c) {
    case '\n':
        e[1] = 'n';
        break;
    case '\r':
        e[1] = 'r';
        break;
    case '\t':
        e[1] = 't';
        break;
    default:
        if (json) {
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        } else {
            e[1] = 'x';
            e[2] = hex[c >> 4];
            e[3] = hex[c & 15];
            n = 4;
        }
    }
    put(l, e, n, false);
}

/* Text: control characters escaped. JSON: a JSON string body. Both: invalid
 * UTF-8 replaced by U+FFFD, one per bad byte. */
static void put_escaped(struct line *l, const char *s, size_t n, bool json)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x20 || c == 0x7F) {
            put_control(l, c, json);
            i++;
        } else if (json && (c == '"' || c == '\\')) {
            char e[2] = {'\\', (char)c};
            put(l, e, 2, false);
            i++;
        } else if (c < 0x80) {
            put(l, s + i, 1, false);
            i++;
        } else {
            size_t k = sl_utf8_seq_len(u + i, n - i);
            put(l, k ? s + i : "\xEF\xBF\xBD", k ? k : 3, false);
            i += k ? k : 1;
        }
    }
}

/* The whole line, ending in a newline. suffix is appended to the message. */
static void build(struct line *l, int64_t wall_ms, enum sl_log_level level,
                  const char *comp, const char *msg, size_t len,
                  const char *suffix)
{
    static const char *const padded[] = {"error", "warn ", "info ", "debug"};
    bool json =
        atomic_load_explicit(&g.format, memory_order_relaxed) == SL_LOG_JSON;
    if (json) {
        put_str(l, "{\"@timestamp\":\"");
        put_timestamp(l, wall_ms);
        put_str(l, "\",\"log.level\":\"");
        put_str(l, sl_log_level_names[level]);
        if (comp != NULL && comp[0] != '\0') {
            put_str(l, "\",\"component\":\"");
            put_escaped(l, comp, strlen(comp), true);
        }
        put_str(l, "\",\"message\":\"");
    } else {
        put_timestamp(l, wall_ms);
        put_str(l, " ");
        put_str(l, padded[level]);
        put_str(l, " ");
        if (comp != NULL && comp[0] != '\0') {
            put_str(l, "[");
            put_escaped(l, comp, strlen(comp), false);
            put_str(l, "] ");
        }
    }
    put_escaped(l, msg, len, json);
    put_escaped(l, suffix, strlen(suffix), json);
    if (json)
        put(l, "\"}", 2, true);
    put(l, "\n", 1, true);
}

/* Callers hold g.lock. The line buffer is static for its size (~30 KiB). */
static void emit(int64_t wall_ms, enum sl_log_level level, const char *comp,
                 const char *msg, size_t len, const char *suffix)
{
    static char buf[LOG_LINE_MAX];
    struct line l = {buf, 0, sizeof buf, false};
    build(&l, wall_ms, level, comp, msg, len, suffix);
    /* a log line that cannot be written has nowhere to be reported */
    SL_IGNORE_RESULT(sl_file_write_all(
        atomic_load_explicit(&g.fd, memory_order_relaxed), l.buf, l.len));
}

/* Prints "<last> (repeated N times in Ts)" if anything was folded. */
static void flush_repeats(void)
{
    if (g.repeats == 0)
        return;
    int64_t secs = (g.last_ms - g.first_ms + 999) / 1000;
    char suffix[64];
    snprintf(suffix, sizeof suffix, " (repeated %lu time%s in %llds)",
             g.repeats, g.repeats == 1 ? "" : "s",
             (long long)(secs < 1 ? 1 : secs));
    emit(g.last_wall_ms, g.last_level, g.last_comp, g.last_msg, g.last_len,
         suffix);
    g.repeats = 0;
}

static bool same_as_last(enum sl_log_level level, const char *comp,
                         const char *msg, size_t len)
{
    return g.have_last && g.last_level == level && g.last_len == len &&
           strcmp(g.last_comp, comp) == 0 && memcmp(g.last_msg, msg, len) == 0;
}

static void remember(enum sl_log_level level, const char *comp, const char *msg,
                     size_t len, int64_t now)
{
    size_t cl = strlen(comp);
    g.have_last = cl < COMP_MAX; /* longer ones are never folded */
    if (!g.have_last)
        return;
    memcpy(g.last_comp, comp, cl + 1);
    memcpy(g.last_msg, msg, len);
    g.last_level = level;
    g.last_len = len;
    g.first_ms = g.last_ms = now;
    g.repeats = 0;
}

bool sl_log_enabled(enum sl_log_level level)
{
    return (int)level <= atomic_load_explicit(&g.min, memory_order_relaxed);
}

void sl_vlog(enum sl_log_level level, const char *component, const char *fmt,
             va_list ap)
{
    if (!sl_log_enabled(level))
        return;
    char msg[SL_LOG_MSG_MAX];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = n < 0                    ? 0
                 : (size_t)n < sizeof msg ? (size_t)n
                                          : sizeof msg - 1;
    const char *comp = component != NULL ? component : "";
    pthread_mutex_lock(&g.lock);
    int64_t now = clock_ms(CLOCK_MONOTONIC);
    int64_t wall = clock_ms(CLOCK_REALTIME);
    if (same_as_last(level, comp, msg, len) &&
        now - g.first_ms < SL_LOG_FOLD_MS) {
        g.repeats++;
        g.last_ms = now;
        g.last_wall_ms = wall;
    } else {
        flush_repeats();
        emit(wall, level, comp, msg, len, "");
        remember(level, comp, msg, len, now);
    }
    pthread_mutex_unlock(&g.lock);
}

void sl_log(enum sl_log_level level, const char *component, const char *fmt,
            ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vlog(level, component, fmt, ap);
    va_end(ap);
}

void sl_log_tick(void)
{
    pthread_mutex_lock(&g.lock);
    if (g.repeats > 0 &&
        clock_ms(CLOCK_MONOTONIC) - g.first_ms >= SL_LOG_FOLD_MS)
        flush_repeats();
    pthread_mutex_unlock(&g.lock);
}

int sl_log_tick_in_ms(void)
{
    pthread_mutex_lock(&g.lock);
    int64_t left = -1;
    if (g.repeats > 0) {
        left = g.first_ms + SL_LOG_FOLD_MS - clock_ms(CLOCK_MONOTONIC);
        left = left < 0 ? 0 : left;
    }
    pthread_mutex_unlock(&g.lock);
    return (int)left;
}

void sl_log_flush(void)
{
    pthread_mutex_lock(&g.lock);
    flush_repeats();
    pthread_mutex_unlock(&g.lock);
}

void sl_log_init(enum sl_log_level min, enum sl_log_format format)
{
    pthread_mutex_lock(&g.lock);
    flush_repeats();
    g.have_last = false;
    atomic_store_explicit(&g.min, (int)min, memory_order_relaxed);
    atomic_store_explicit(&g.format, (int)format, memory_order_relaxed);
    pthread_mutex_unlock(&g.lock);
}

void sl_log_set_clock(sl_log_clock_fn now_ms)
{
    pthread_mutex_lock(&g.lock);
    g.clock = now_ms;
    g.have_last = false;
    g.repeats = 0;
    pthread_mutex_unlock(&g.lock);
}

/* Callers hold g.lock. Takes ownership of fd and path. */
static void swap_fd(int fd, bool own, char *path)
{
    flush_repeats();
    if (g.own_fd)
        close(atomic_load_explicit(&g.fd, memory_order_relaxed));
    if (path != g.path)
        free(g.path);
    atomic_store_explicit(&g.fd, fd, memory_order_relaxed);
    g.own_fd = own;
    g.path = path;
}

void sl_log_set_fd(int fd)
{
    pthread_mutex_lock(&g.lock);
    swap_fd(fd, false, NULL);
    pthread_mutex_unlock(&g.lock);
}

static int open_log(const char *path, struct sl_err *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_err_set(err, SL_EIO, "cannot open log file '%s': %s", path,
                          sl_strerror(errno));
    return fd;
}

int sl_log_open(const char *path, struct sl_err *err)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    int fd = open_log(path, err);
    if (fd < 0) {
        free(copy);
        return -1;
    }
    pthread_mutex_lock(&g.lock);
    swap_fd(fd, true, copy);
    pthread_mutex_unlock(&g.lock);
    return 0;
}

int sl_log_reopen(struct sl_err *err)
{
    pthread_mutex_lock(&g.lock);
    int rc = 0;
    if (g.path != NULL) {
        int fd = open_log(g.path, err);
        if (fd < 0)
            rc = -1;
        else
            swap_fd(fd, true, g.path);
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

void sl_log_close(void)
{
    pthread_mutex_lock(&g.lock);
    swap_fd(2, false, NULL);
    g.have_last = false;
    pthread_mutex_unlock(&g.lock);
}

void sl_log_fatal_signal(const char *msg)
{
    char buf[FATAL_LINE];
    struct line l = {buf, 0, sizeof buf, false};
    build(&l, clock_ms(CLOCK_REALTIME), SL_LOG_ERROR, "signal", msg,
          strlen(msg), "");
    /* a log line that cannot be written has nowhere to be reported */
    SL_IGNORE_RESULT(sl_file_write_all(
        atomic_load_explicit(&g.fd, memory_order_relaxed), l.buf, l.len));
}

static int parse_word(const char *s, const char *const words[], int *out)
{
    for (int i = 0; words[i] != NULL; i++) {
        if (strcmp(s, words[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

int sl_log_level_parse(const char *s, enum sl_log_level *out,
                       struct sl_err *err)
{
    int i;
    if (parse_word(s, sl_log_level_names, &i) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "unknown log level '%s'; expected one of: error, "
                          "warn, info, debug",
                          s);
    *out = (enum sl_log_level)i;
    return 0;
}

int sl_log_format_parse(const char *s, enum sl_log_format *out,
                        struct sl_err *err)
{
    int i;
    if (parse_word(s, sl_log_format_names, &i) < 0)
        return sl_err_set(err, SL_EINVAL,
                          "unknown log format '%s'; expected text or json", s);
    *out = (enum sl_log_format)i;
    return 0;
}
