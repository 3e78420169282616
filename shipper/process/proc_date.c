/* proc_date.c: the date processor, Logstash's date filter on sl_date.h.
 *
 *   {"date": {"field": "timestamp", "formats": ["dd/MMM/yyyy:HH:mm:ss Z"],
 *             "timezone": "Europe/Berlin", "target": "@timestamp"}}
 *
 * The field's text (a string, or a number for UNIX and UNIX_MS) is parsed
 * with the formats, first whole match wins. A number is read as Logstash
 * reads a numeric field: its exponent applied (1.7333605231e+09), and a
 * fraction UNIX_MS cannot take dropped. Into "@timestamp" (the
 * default) it sets the chain's time; into another target it writes the
 * ISO 8601 text. A field that is absent is no failure (Logstash: nothing to
 * do); one that does not parse tags _dateparsefailure and leaves the time
 * alone.
 *
 * Year-less formats (syslog's "MMM dd HH:mm:ss") take their year from the
 * time the event was read, not the clock: sl_date's rule, Logstash's (this
 * year, but a December date read in January is last year's and a January
 * date read in December next year's). On top of it, on purpose: a log line
 * is not from the future. A year-less date that comes out more than
 * FUTURE_MAX after the read time, or that does not exist in the guessed
 * year (Feb 29), is read again against the read time a year earlier, and
 * taken if that lands before it. So a backlog read in January gives its
 * November lines last November (Logstash: next November), and a "Jan 31"
 * read on December 1st is this year's January, not the next. FUTURE_MAX
 * leaves room for clocks a little ahead and zones up to a day apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process_priv.h"
#include "sl_date.h"

struct date_opts {
    const struct sl_config_node *when;
    const char *field;
    struct sl_opt_strings formats;
    const char *timezone;
    const char *target;
};

#define D(m) SL_OPT_FIELD(struct date_opts, m)
static const struct sl_opt date_opts[] = {
    PROC_WHEN_OPT(struct date_opts),
    {"field", SL_OPT_STRING, D(field), .def = "timestamp",
     .help = "the field that holds the date"},
    {"formats", SL_OPT_STRINGS, D(formats), .flags = SL_OPT_REQUIRED, .min = 1,
     .max = SL_DATE_FORMATS_MAX,
     .help = "Joda-Time patterns (\"dd/MMM/yyyy:HH:mm:ss Z\") or ISO8601, "
             "UNIX, UNIX_MS, TAI64N; the first that reads the whole text "
             "wins"},
    {"timezone", SL_OPT_STRING, D(timezone), .doc_default = "UTC",
     .help = "the zone of dates that carry none: \"Europe/Berlin\", "
             "\"+01:00\""},
    {"target", SL_OPT_STRING, D(target), .def = "@timestamp",
     .help = "where the date goes; another field gets the ISO 8601 text"},
    SL_OPT_END};
static const struct sl_config_table date_table = {
    "date", sizeof(struct date_opts), date_opts, NULL};

#define FUTURE_MAX (2 * 86400000LL)
#define YEAR_MS    (365 * 86400000LL)

struct date_proc {
    struct sl_date *d;
    struct sl_fieldpath field, target;
    bool to_timestamp;
    bool yearless; /* a format has no year: the year is guessed */
    bool unix_ms;  /* a format is UNIX_MS */
};

/* A Joda pattern without y or Y outside quotes; keywords carry years. */
static bool format_yearless(const char *f)
{
    static const char *const keywords[] = {"ISO8601", "UNIX", "UNIX_MS",
                                           "TAI64N"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(f, keywords[i]) == 0)
            return false;
    bool quoted = false;
    for (; *f != '\0'; f++) {
        if (*f == '\'')
            quoted = !quoted;
        else if (!quoted && (*f == 'y' || *f == 'Y'))
            return false;
    }
    return true;
}

static void date_fini(struct proc *p)
{
    struct date_proc *dp = p->state;
    if (dp == NULL)
        return;
    sl_date_free(dp->d);
    sl_fieldpath_release(&dp->field);
    sl_fieldpath_release(&dp->target);
    free(dp);
}

static int date_init(struct proc *p, const struct sl_config_node *cfg,
                     const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct date_opts o;
    struct sl_err e;
    int rc = -1;
    if (sl_config_table_fill(&date_table, cfg, &o, err) < 0)
        return -1;
    struct date_proc *dp = calloc(1, sizeof *dp);
    if (dp == NULL) {
        sl_err_set(err, SL_ENOMEM, "out of memory");
        goto done;
    }
    p->state = dp;
    if (proc_fieldpath(&dp->field, sl_config_get(cfg, "field"), o.field, err) <
            0 ||
        proc_fieldpath(&dp->target, sl_config_get(cfg, "target"), o.target,
                       err) < 0)
        goto done;
    dp->to_timestamp = strcmp(o.target, "@timestamp") == 0 ||
                       strcmp(o.target, "[@timestamp]") == 0;
    for (size_t i = 0; i < o.formats.n; i++) {
        dp->yearless |= format_yearless(o.formats.v[i]);
        dp->unix_ms |= strcmp(o.formats.v[i], "UNIX_MS") == 0;
    }
    dp->d = sl_date_compile(o.formats.v, o.formats.n, o.timezone, &e);
    if (dp->d == NULL) {
        /* Which key: a zone's error names the zone, a format's the format. */
        const char *key = o.timezone != NULL && strstr(e.msg, "zone") &&
                                  !strstr(e.msg, "date format")
                              ? "timezone"
                              : "formats";
        sl_config_error(sl_config_get(cfg, key), err, "%s", e.msg);
        goto done;
    }
    rc = 0;
done:
    sl_config_table_release(&date_table, &o);
    if (rc < 0) {
        date_fini(p);
        p->state = NULL;
    }
    return rc;
}

/* The date of text, a guessed year never in the future (see the top). */
static int parse(struct date_proc *dp, struct sl_slice text, int64_t now,
                 int64_t *ms)
{
    int rc = sl_date_parse_at(dp->d, text.ptr, text.len, now, ms);
    if (!dp->yearless || (rc == 0 && *ms <= now + FUTURE_MAX))
        return rc;
    int64_t back;
    if (sl_date_parse_at(dp->d, text.ptr, text.len, now - YEAR_MS, &back) ==
            0 &&
        back <= now + FUTURE_MAX) {
        *ms = back;
        return 0;
    }
    return rc;
}

/* A JSON number, read as Logstash reads a numeric field: an exponent is
 * no format's (zap in Kubernetes controllers writes "ts":1.7333605231e+09,
 * UNIX then), and UNIX_MS drops a fraction. buf: NUMBER_TEXT_MAX bytes. */
#define NUMBER_TEXT_MAX 64

static int parse_number(struct date_proc *dp, struct sl_slice text, int64_t now,
                        char *buf, int64_t *ms)
{
    if (text.len < NUMBER_TEXT_MAX &&
        (memchr(text.ptr, 'e', text.len) || memchr(text.ptr, 'E', text.len))) {
        memcpy(buf, text.ptr, text.len);
        buf[text.len] = '\0';
        double d = strtod(buf, NULL);
        if (!(d > -1e17 && d < 1e17)) /* NaN too; past the dates anyway */
            return -1;
        int n = snprintf(buf, NUMBER_TEXT_MAX, "%.9f", d);
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
        text = (struct sl_slice){buf, (size_t)n};
    }
    if (parse(dp, text, now, ms) == 0)
        return 0;
    const char *dot = dp->unix_ms ? memchr(text.ptr, '.', text.len) : NULL;
    return dot != NULL &&
                   parse(dp,
                         (struct sl_slice){text.ptr, (size_t)(dot - text.ptr)},
                         now, ms) == 0
               ? 0
               : -1;
}

static enum proc_result date_run(struct proc *p, const struct proc_ctx *cx)
{
    struct date_proc *dp = p->state;
    const struct sl_value *v = sl_event_get(cx->ev, &dp->field);
    struct sl_err err;
    char num[NUMBER_TEXT_MAX];
    int64_t ms;
    if (v == NULL)
        return PROC_OK;
    int rc = v->type == SL_VALUE_STRING ? parse(dp, v->text, cx->now_ms, &ms)
             : v->type == SL_VALUE_NUMBER
                 ? parse_number(dp, v->text, cx->now_ms, num, &ms)
                 : -1;
    if (rc < 0) {
        proc_event_tag(cx->ev, PROC_TAG_DATEPARSEFAILURE);
        return PROC_FAILED;
    }
    if (dp->to_timestamp) {
        *cx->ts_ms = ms;
        return PROC_OK;
    }
    char iso[SL_DATE_ISO8601_SIZE];
    char *s;
    if (sl_date_format_iso8601_ms(ms, iso) < 0 ||
        (s = sl_event_strdup(cx->ev, iso, SL_DATE_ISO8601_SIZE - 1)) == NULL ||
        sl_event_put(cx->ev, &dp->target, SL_VALUE_STRING, s,
                     SL_DATE_ISO8601_SIZE - 1, &err) < 0) {
        proc_event_tag(cx->ev, PROC_TAG_DATEPARSEFAILURE);
        return PROC_FAILED;
    }
    return PROC_OK;
}

const struct proc_ops proc_date_ops = {.name = "date",
                                       .table = &date_table,
                                       .init = date_init,
                                       .run = date_run,
                                       .fini = date_fini};
