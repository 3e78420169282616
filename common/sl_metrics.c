/* sl_metrics.c: see sl_metrics.h.
 *
 * Each child is its own allocation, so the pointer handed to the hot path
 * never moves when a family grows; the family keeps an array of child
 * pointers. A child's label set is escaped once, at creation, into the
 * exact bytes "{a=\"x\",b=\"y\"}" that the Prometheus rendering needs, so a
 * render is one pass of appends. Lookups (get-or-create of a child, the
 * duplicate-name check) are linear: they run at setup over tens of entries.
 *
 * Not done here: histograms and summaries (nothing needs them yet), and
 * timestamps on samples (Prometheus stamps a scrape itself). */
#include "sl_metrics.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_file.h"
#include "sl_json.h"

struct child {
    union {
        struct sl_counter counter;
        struct sl_gauge gauge;
    } v;
    char **values; /* raw label values, one per label name of the family */
    char *labels;  /* escaped "{...}", or "" without labels */
};

struct sl_metric_family {
    enum sl_metric_type type;
    char *name;
    char *help;
    char *label_names[SL_METRICS_MAX_LABELS];
    size_t nlabels;
    struct child **children;
    size_t nchildren, cap;
};

struct collector {
    sl_metrics_collect_fn fn;
    void *ctx;
};

struct sl_metrics {
    struct sl_metric_family **fams;
    size_t nfams, cap;
    struct collector collectors[SL_METRICS_MAX_COLLECTORS];
    size_t ncollectors;
    struct sl_gauge *rss, *rss_peak; /* set by sl_metrics_add_process */
    /* Held while a render runs the collectors and refreshes the process
     * gauges: the one writer of those gauges is "the render in progress",
     * whichever thread runs it. Not held while formatting, which only
     * reads. */
    pthread_mutex_t collect_lock;
};

static const char *type_name(enum sl_metric_type t)
{
    return t == SL_METRIC_COUNTER ? "counter" : "gauge";
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

struct sl_metrics *sl_metrics_new(void)
{
    struct sl_metrics *m = calloc(1, sizeof(struct sl_metrics));
    if (m != NULL && pthread_mutex_init(&m->collect_lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void free_child(struct child *c, size_t nvalues)
{
    if (c == NULL)
        return;
    if (c->values != NULL)
        for (size_t i = 0; i < nvalues; i++)
            free(c->values[i]);
    free(c->values);
    free(c->labels);
    free(c);
}

static void free_family(struct sl_metric_family *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nchildren; i++)
        free_child(f->children[i], f->nlabels);
    free(f->children);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->label_names[i]);
    free(f->name);
    free(f->help);
    free(f);
}

void sl_metrics_free(struct sl_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nfams; i++)
        free_family(m->fams[i]);
    free(m->fams);
    pthread_mutex_destroy(&m->collect_lock);
    free(m);
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* 0 if s matches [a-zA-Z_][a-zA-Z0-9_]*; else -1 with a reason naming it. */
static int check_name(const char *what, const char *s, struct sl_err *err)
{
    if (s == NULL || s[0] == '\0')
        return sl_err_set(err, SL_EINVAL, "%s name is empty", what);
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (i == 0 ? is_name_start(s[i]) : is_name_char(s[i]))
            continue;
        return sl_err_set(err, SL_EINVAL,
                          "%s name '%s' has '%c' at offset %zu; use only "
                          "letters, digits and '_', not starting with a digit",
                          what, s, s[i], i);
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static int check_family(const struct sl_metrics *m, enum sl_metric_type type,
                        const char *name, const char *const *labels,
                        struct sl_err *err)
{
    if (check_name("metric", name, err) < 0)
        return -1;
    if (type == SL_METRIC_COUNTER && !ends_with(name, "_total"))
        return sl_err_set(err, SL_EINVAL,
                          "counter name '%s' does not end in '_total'; "
                          "Prometheus names counters that way",
                          name);
    if (type == SL_METRIC_GAUGE && ends_with(name, "_total"))
        return sl_err_set(err, SL_EINVAL,
                          "gauge name '%s' ends in '_total', which Prometheus "
                          "keeps for counters; drop the suffix",
                          name);
    for (size_t i = 0; i < m->nfams; i++)
        if (strcmp(m->fams[i]->name, name) == 0)
            return sl_err_set(err, SL_EINVAL,
                              "metric '%s' is already registered", name);
    for (size_t i = 0; labels != NULL && labels[i] != NULL; i++) {
        if (i == SL_METRICS_MAX_LABELS)
            return sl_err_set(err, SL_EINVAL,
                              "metric '%s' has more than %d label names", name,
                              SL_METRICS_MAX_LABELS);
        if (check_name("label", labels[i], err) < 0)
            return -1;
        if (labels[i][0] == '_' && labels[i][1] == '_')
            return sl_err_set(err, SL_EINVAL,
                              "label name '%s' starts with '__', which "
                              "Prometheus reserves for itself",
                              labels[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[j], labels[i]) == 0)
                return sl_err_set(err, SL_EINVAL,
                                  "metric '%s' has label '%s' twice", name,
                                  labels[i]);
    }
    return 0;
}

/* Makes room for one more pointer in *arr (n used of *cap); the caller's
 * array is replaced only when the realloc succeeds. */
static int grow_ptrs(void **arr, size_t n, size_t *cap, struct sl_err *err)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * sizeof(void *));
    if (p == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory registering metrics");
    *arr = p;
    *cap = ncap;
    return 0;
}

struct sl_metric_family *sl_metrics_family(struct sl_metrics *m,
                                           enum sl_metric_type type,
                                           const char *name, const char *help,
                                           const char *const *labels,
                                           struct sl_err *err)
{
    if (check_family(m, type, name, labels, err) < 0)
        return NULL;
    struct sl_metric_family *f = calloc(1, sizeof *f);
    if (f == NULL)
        goto fail;
    f->type = type;
    f->name = dup_str(name);
    f->help = dup_str(help != NULL ? help : "");
    if (f->name == NULL || f->help == NULL)
        goto fail;
    for (; labels != NULL && labels[f->nlabels] != NULL; f->nlabels++)
        if ((f->label_names[f->nlabels] = dup_str(labels[f->nlabels])) == NULL)
            goto fail;
    void *arr = m->fams;
    if (grow_ptrs(&arr, m->nfams, &m->cap, err) < 0) {
        free_family(f);
        return NULL;
    }
    m->fams = arr;
    m->fams[m->nfams++] = f;
    return f;
fail:
    free_family(f);
    sl_err_set(err, SL_ENOMEM, "out of memory registering metric '%s'", name);
    return NULL;
}

/* Appends s as a Prometheus label value (inside the quotes): backslash,
 * double quote and newline escaped; invalid UTF-8 becomes U+FFFD, since
 * the format is UTF-8. */
static int escape_label_value(struct sl_buf *b, const char *s,
                              struct sl_err *err)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        int rc;
        size_t n = 1;
        if (p[i] == '\\')
            rc = sl_buf_append(b, "\\\\", 2, err);
        else if (p[i] == '"')
            rc = sl_buf_append(b, "\\\"", 2, err);
        else if (p[i] == '\n')
            rc = sl_buf_append(b, "\\n", 2, err);
        else if (p[i] < 0x80)
            rc = sl_buf_append_char(b, (char)p[i], err);
        else if ((n = sl_utf8_seq_len(p + i, len - i)) > 0)
            rc = sl_buf_append(b, p + i, n, err);
        else {
            n = 1;
            rc = sl_buf_append(b, "\xEF\xBF\xBD", 3, err);
        }
        if (rc < 0)
            return -1;
        i += n;
    }
    return 0;
}

static struct child *new_child(const struct sl_metric_family *f,
                               const char *const *values, struct sl_err *err)
{
    struct sl_buf lb = SL_BUF_INIT(1 << 16);
    struct child *c = calloc(1, sizeof *c);
    if (c == NULL ||
        (c->values = calloc(f->nlabels + 1, sizeof(char *))) == NULL)
        goto nomem;
    for (size_t i = 0; i < f->nlabels; i++)
        if ((c->values[i] = dup_str(values[i])) == NULL)
            goto nomem;
    for (size_t i = 0; i < f->nlabels; i++) {
        if (sl_buf_append_char(&lb, i == 0 ? '{' : ',', err) < 0 ||
            sl_buf_printf(&lb, err, "%s=\"", f->label_names[i]) < 0 ||
            escape_label_value(&lb, values[i], err) < 0 ||
            sl_buf_append_char(&lb, '"', err) < 0)
            goto fail;
    }
    if (f->nlabels > 0 && sl_buf_append_char(&lb, '}', err) < 0)
        goto fail;
    if ((c->labels = sl_buf_take(&lb)) == NULL)
        goto nomem;
    return c;
nomem:
    sl_err_set(err, SL_ENOMEM, "out of memory registering metric '%s'",
               f->name);
fail:
    sl_buf_release(&lb);
    free_child(c, f->nlabels);
    return NULL;
}

static struct child *get_child(struct sl_metric_family *f,
                               enum sl_metric_type type,
                               const char *const *values, struct sl_err *err)
{
    if (f->type != type) {
        sl_err_set(err, SL_EINVAL, "metric '%s' is a %s, not a %s", f->name,
                   type_name(f->type), type_name(type));
        return NULL;
    }
    for (size_t i = 0; i < f->nlabels; i++)
        if (values == NULL || values[i] == NULL) {
            sl_err_set(err, SL_EINVAL,
                       "metric '%s' needs a value for label '%s'", f->name,
                       f->label_names[i]);
            return NULL;
        }
    for (size_t k = 0; k < f->nchildren; k++) {
        size_t i = 0;
        while (i < f->nlabels &&
               strcmp(f->children[k]->values[i], values[i]) == 0)
            i++;
        if (i == f->nlabels)
            return f->children[k];
    }
    void *arr = f->children;
    if (grow_ptrs(&arr, f->nchildren, &f->cap, err) < 0)
        return NULL;
    f->children = arr;
    struct child *c = new_child(f, values, err);
    if (c != NULL)
        f->children[f->nchildren++] = c;
    return c;
}

struct sl_counter *sl_family_counter(struct sl_metric_family *f,
                                     const char *const *values,
                                     struct sl_err *err)
{
    struct child *c = get_child(f, SL_METRIC_COUNTER, values, err);
    return c != NULL ? &c->v.counter : NULL;
}

struct sl_gauge *sl_family_gauge(struct sl_metric_family *f,
                                 const char *const *values, struct sl_err *err)
{
    struct child *c = get_child(f, SL_METRIC_GAUGE, values, err);
    return c != NULL ? &c->v.gauge : NULL;
}

struct sl_counter *sl_metrics_counter(struct sl_metrics *m, const char *name,
                                      const char *help, struct sl_err *err)
{
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_COUNTER, name, help, NULL, err);
    return f != NULL ? sl_family_counter(f, NULL, err) : NULL;
}

struct sl_gauge *sl_metrics_gauge(struct sl_metrics *m, const char *name,
                                  const char *help, struct sl_err *err)
{
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_GAUGE, name, help, NULL, err);
    return f != NULL ? sl_family_gauge(f, NULL, err) : NULL;
}

int sl_metrics_add_collector(struct sl_metrics *m, sl_metrics_collect_fn fn,
                             void *ctx, struct sl_err *err)
{
    if (m->ncollectors == SL_METRICS_MAX_COLLECTORS)
        return sl_err_set(err, SL_ELIMIT, "more than %d metric collectors",
                          SL_METRICS_MAX_COLLECTORS);
    m->collectors[m->ncollectors].fn = fn;
    m->collectors[m->ncollectors].ctx = ctx;
    m->ncollectors++;
    return 0;
}

/* Reads a small /proc file into buf (NUL-terminated, cut at size - 1);
 * -1 if it cannot. No allocation: this runs at every render. */
static ssize_t read_proc(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t len = sl_file_read_full(fd, buf, size - 1);
    close(fd);
    buf[len < 0 ? 0 : len] = '\0';
    return len;
}

/* The value of "Key:  123 kB" in /proc/self/status text, in bytes; 0 if
 * absent (kernel threads, or no /proc). */
static double status_kib(const char *status, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = status; p != NULL && *p != '\0';) {
        if (strncmp(p, key, k) == 0 && p[k] == ':')
            return (double)strtoull(p + k + 1, NULL, 10) * 1024.0;
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return 0;
}

static void refresh_process(struct sl_metrics *m)
{
    char status[8192];
    if (m->rss == NULL ||
        read_proc("/proc/self/status", status, sizeof status) < 0)
        return;
    sl_gauge_set(m->rss, status_kib(status, "VmRSS"));
    sl_gauge_set(m->rss_peak, status_kib(status, "VmHWM"));
}

/* btime in /proc/stat, seconds since the epoch; 0 if unknown. The file
 * grows with the CPUs (a line each), so it is read whole, up to a bound,
 * once at setup. */
#define PROC_STAT_MAX (4u << 20)

static unsigned long long boot_time(void)
{
    struct sl_buf b = SL_BUF_INIT(PROC_STAT_MAX);
    unsigned long long btime = 0;
    if (sl_file_read("/proc/stat", NULL, PROC_STAT_MAX, &b, NULL) == 0) {
        const char *p = strstr(b.ptr, "\nbtime ");
        if (p != NULL)
            btime = strtoull(p + 7, NULL, 10);
    }
    sl_buf_release(&b);
    return btime;
}

/* The process start time in seconds since the epoch: boot time (btime in
 * /proc/stat) plus the start time in clock ticks since boot (field 22 of
 * /proc/self/stat, counted after the ')' that ends the command name, which
 * may itself hold spaces). Now, if /proc says nothing. */
static double process_start_time(void)
{
    char stat[1024];
    unsigned long long ticks = 0, btime = 0;
    bool ok = false;
    if (read_proc("/proc/self/stat", stat, sizeof stat) > 0) {
        const char *p = strrchr(stat, ')');
        for (int field = 2; p != NULL && field < 22; field++)
            p = strchr(p + 1, ' ');
        if (p != NULL)
            ticks = strtoull(p + 1, NULL, 10);
        btime = boot_time();
        ok = p != NULL && btime > 0;
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (ok && hz > 0)
        return (double)btime + (double)ticks / (double)hz;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec;
}

int sl_metrics_add_process(struct sl_metrics *m, struct sl_err *err)
{
    struct sl_gauge *rss, *peak, *start;
    if ((rss = sl_metrics_gauge(m, "process_resident_memory_bytes",
                                "Resident memory size in bytes.", err)) ==
            NULL ||
        (peak = sl_metrics_gauge(m, "process_resident_memory_peak_bytes",
                                 "Peak resident memory size in bytes (VmHWM).",
                                 err)) == NULL ||
        (start = sl_metrics_gauge(
             m, "process_start_time_seconds",
             "Start time of the process since unix epoch in seconds.", err)) ==
            NULL)
        return -1;
    m->rss = rss;
    m->rss_peak = peak;
    sl_gauge_set(start, process_start_time());
    refresh_process(m);
    return 0;
}

static void collect(struct sl_metrics *m)
{
    pthread_mutex_lock(&m->collect_lock);
    for (size_t i = 0; i < m->ncollectors; i++)
        m->collectors[i].fn(m->collectors[i].ctx);
    refresh_process(m);
    pthread_mutex_unlock(&m->collect_lock);
}

/* Shortest text that reads back as v: integers (exact up to 2^53) without
 * the ".0" JSON's writer adds, else sl_json_format_double's shortest
 * round trip. Non-finite values give the Prometheus words (the JSON
 * renderer checks for them first). size >= 32. */
static void format_number(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "NaN");
    else if (isinf(v))
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        snprintf(out, size, "%.0f", v);
    else
        sl_json_format_double(v, out, size);
}

static void format_value(const struct sl_metric_family *f,
                         const struct child *c, bool json, char *out,
                         size_t size)
{
    if (f->type == SL_METRIC_COUNTER) {
        snprintf(out, size, "%" PRIu64, sl_counter_get(&c->v.counter));
        return;
    }
    double v = sl_gauge_get(&c->v.gauge);
    if (json && !isfinite(v))
        snprintf(out, size, "null");
    else
        format_number(v, out, size);
}

/* Appends help with backslash and newline escaped, as 0.0.4 asks. */
static int escape_help(struct sl_buf *b, const char *s, struct sl_err *err)
{
    for (; *s != '\0'; s++) {
        int rc = *s == '\\'   ? sl_buf_append(b, "\\\\", 2, err)
                 : *s == '\n' ? sl_buf_append(b, "\\n", 2, err)
                              : sl_buf_append_char(b, *s, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Appends the strings of a NULL-terminated list; plain appends, because a
 * render is mostly these and vsnprintf costs several times more. */
static int append_all(struct sl_buf *b, struct sl_err *err, const char **s)
{
    for (; *s != NULL; s++)
        if (sl_buf_append_str(b, *s, err) < 0)
            return -1;
    return 0;
}

int sl_metrics_render_prometheus(struct sl_metrics *m, struct sl_buf *b,
                                 struct sl_err *err)
{
    char num[64];
    collect(m);
    for (size_t i = 0; i < m->nfams; i++) {
        const struct sl_metric_family *f = m->fams[i];
        const char *help[] = {"# HELP ", f->name, " ", NULL};
        const char *type[] = {"\n# TYPE ",        f->name, " ",
                              type_name(f->type), "\n",    NULL};
        if (append_all(b, err, help) < 0 || escape_help(b, f->help, err) < 0 ||
            append_all(b, err, type) < 0)
            return -1;
        for (size_t k = 0; k < f->nchildren; k++) {
            format_value(f, f->children[k], false, num, sizeof num);
            const char *sample[] = {
                f->name, f->children[k]->labels, " ", num, "\n", NULL};
            if (append_all(b, err, sample) < 0)
                return -1;
        }
    }
    return 0;
}

static int json_child(struct sl_buf *b, const struct sl_metric_family *f,
                      const struct child *c, struct sl_err *err)
{
    char num[64];
    format_value(f, c, true, num, sizeof num);
    if (f->nlabels == 0)
        return sl_buf_append_str(b, num, err);
    if (sl_buf_append_str(b, "{\"labels\":{", err) < 0)
        return -1;
    for (size_t i = 0; i < f->nlabels; i++) {
        const char *name = f->label_names[i], *val = c->values[i];
        if ((i > 0 && sl_buf_append_char(b, ',', err) < 0) ||
            sl_json_write_string(b, name, strlen(name), err) < 0 ||
            sl_buf_append_char(b, ':', err) < 0 ||
            sl_json_write_string(b, val, strlen(val), err) < 0)
            return -1;
    }
    return sl_buf_printf(b, err, "},\"value\":%s}", num);
}

int sl_metrics_render_json(struct sl_metrics *m, struct sl_buf *b,
                           struct sl_err *err)
{
    bool first = true;
    collect(m);
    if (sl_buf_append_char(b, '{', err) < 0)
        return -1;
    for (size_t i = 0; i < m->nfams; i++) {
        const struct sl_metric_family *f = m->fams[i];
        if (f->nlabels == 0 && f->nchildren == 0)
            continue; /* registered, but no child to show yet */
        if ((!first && sl_buf_append_char(b, ',', err) < 0) ||
            sl_buf_printf(b, err, "\"%s\":", f->name) < 0 ||
            (f->nlabels > 0 && sl_buf_append_char(b, '[', err) < 0))
            return -1;
        for (size_t k = 0; k < f->nchildren; k++)
            if ((k > 0 && sl_buf_append_char(b, ',', err) < 0) ||
                json_child(b, f, f->children[k], err) < 0)
                return -1;
        if (f->nlabels > 0 && sl_buf_append_char(b, ']', err) < 0)
            return -1;
        first = false;
    }
    return sl_buf_append_char(b, '}', err);
}
