/* test_metrics.c: what a Prometheus scrape and /status show: exact text for
 * counters, gauges and labelled counters, escaping of help and label
 * values, JSON that a real parser (libyajl) accepts with the right values,
 * the naming rules with the message a developer sees, and plausible numbers
 * for the process's own memory and start time. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "sl_metrics.h"

static char *render_prom(struct sl_metrics *m)
{
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    struct sl_err err = {0};
    assert_int_equal(sl_metrics_render_prometheus(m, &b, &err), 0);
    return sl_buf_take(&b);
}

static char *render_json(struct sl_metrics *m)
{
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    struct sl_err err = {0};
    assert_int_equal(sl_metrics_render_json(m, &b, &err), 0);
    return sl_buf_take(&b);
}

static void counters_and_gauges_render_exactly(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_metrics *m = sl_metrics_new();
    struct sl_counter *lines = sl_metrics_counter(
        m, "sluice_lines_read_total", "Lines read from inputs.", &err);
    struct sl_gauge *lag =
        sl_metrics_gauge(m, "sluice_lag_seconds", "Age of the oldest.", &err);
    struct sl_gauge *pending =
        sl_metrics_gauge(m, "sluice_pending", "Pending entries.", &err);
    assert_non_null(lines);
    assert_non_null(lag);
    assert_non_null(pending);
    for (int i = 0; i < 41; i++)
        sl_counter_inc(lines);
    sl_counter_add(lines, UINT64_MAX - 41); /* the full 64-bit range */
    sl_gauge_set(lag, 0.25);
    sl_gauge_set(pending, -3);
    char *text = render_prom(m);
    assert_string_equal(text, "# HELP sluice_lines_read_total Lines read from "
                              "inputs.\n"
                              "# TYPE sluice_lines_read_total counter\n"
                              "sluice_lines_read_total 18446744073709551615\n"
                              "# HELP sluice_lag_seconds Age of the oldest.\n"
                              "# TYPE sluice_lag_seconds gauge\n"
                              "sluice_lag_seconds 0.25\n"
                              "# HELP sluice_pending Pending entries.\n"
                              "# TYPE sluice_pending gauge\n"
                              "sluice_pending -3\n");
    free(text);
    sl_metrics_free(m);
}

static void gauge_values_print_short_and_exact(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},           {1e15, "1000000000000000"},
        {0.1, "0.1"},       {1.0 / 3, "0.3333333333333333"},
        {1e300, "1e+300"},  {0.1 + 0.2, "0.30000000000000004"},
        {INFINITY, "+Inf"}, {-INFINITY, "-Inf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sl_metrics *m = sl_metrics_new();
        sl_gauge_set(sl_metrics_gauge(m, "g", "h", NULL), cases[i].v);
        char *text = render_prom(m);
        char want[128];
        snprintf(want, sizeof want, "# HELP g h\n# TYPE g gauge\ng %s\n",
                 cases[i].want);
        assert_string_equal(text, want);
        free(text);
        sl_metrics_free(m);
    }
}

static void labelled_counter_has_one_line_per_child(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_metrics *m = sl_metrics_new();
    static const char *const labels[] = {"pattern", NULL};
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_COUNTER, "sluice_grok_failures_total",
                          "Lines no grok pattern matched.", labels, &err);
    assert_non_null(f);
    struct sl_counter *a =
        sl_family_counter(f, (const char *const[]){"APACHE", NULL}, &err);
    struct sl_counter *b =
        sl_family_counter(f, (const char *const[]){"SYSLOG", NULL}, &err);
    assert_non_null(a);
    assert_non_null(b);
    /* the same values give the same child: setup code may ask twice */
    assert_ptr_equal(
        sl_family_counter(f, (const char *const[]){"APACHE", NULL}, &err), a);
    sl_counter_add(a, 7);
    sl_counter_inc(b);
    char *text = render_prom(m);
    assert_string_equal(
        text, "# HELP sluice_grok_failures_total Lines no grok pattern "
              "matched.\n"
              "# TYPE sluice_grok_failures_total counter\n"
              "sluice_grok_failures_total{pattern=\"APACHE\"} 7\n"
              "sluice_grok_failures_total{pattern=\"SYSLOG\"} 1\n");
    free(text);

    /* two labels, in the order they were declared */
    static const char *const two[] = {"output", "code", NULL};
    f = sl_metrics_family(m, SL_METRIC_GAUGE, "sluice_x", "x", two, &err);
    sl_gauge_set(
        sl_family_gauge(f, (const char *const[]){"es", "429", NULL}, &err), 2);
    text = render_prom(m);
    assert_non_null(strstr(text, "\nsluice_x{output=\"es\",code=\"429\"} 2\n"));
    free(text);
    sl_metrics_free(m);
}

static void help_and_label_values_are_escaped(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_metrics *m = sl_metrics_new();
    static const char *const labels[] = {"pattern", NULL};
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_COUNTER, "c_total",
                          "a \\ back\nslash \"q\"", labels, &err);
    sl_counter_inc(sl_family_counter(
        f, (const char *const[]){"%{A:\"x\"}\\d\nz\xff", NULL}, &err));
    char *text = render_prom(m);
    /* help: backslash and newline only; label value: also the quote;
     * an invalid UTF-8 byte becomes U+FFFD (the format is UTF-8) */
    assert_string_equal(text,
                        "# HELP c_total a \\\\ back\\nslash \"q\"\n"
                        "# TYPE c_total counter\n"
                        "c_total{pattern=\"%{A:\\\"x\\\"}\\\\d\\nz\xEF\xBF\xBD"
                        "\"} 1\n");
    free(text);
    sl_metrics_free(m);
}

static void json_status_parses_with_the_values(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_metrics *m = sl_metrics_new();
    static const char *const labels[] = {"pattern", NULL};
    /* a family without a child is left out of the JSON */
    assert_non_null(sl_metrics_family(m, SL_METRIC_COUNTER, "empty_total", "e",
                                      NULL, &err));
    sl_counter_add(
        sl_metrics_counter(m, "sluice_events_shipped_total", "e", &err), 12);
    sl_gauge_set(sl_metrics_gauge(m, "sluice_lag_seconds", "l", &err), 1.5);
    sl_gauge_set(sl_metrics_gauge(m, "sluice_nan", "n", &err), NAN);
    struct sl_metric_family *f = sl_metrics_family(
        m, SL_METRIC_COUNTER, "sluice_grok_failures_total", "g", labels, &err);
    sl_counter_add(
        sl_family_counter(f, (const char *const[]){"A\"\n", NULL}, &err), 3);
    char *text = render_json(m);
    assert_string_equal(text, "{\"sluice_events_shipped_total\":12,"
                              "\"sluice_lag_seconds\":1.5,"
                              "\"sluice_nan\":null,"
                              "\"sluice_grok_failures_total\":[{\"labels\":{"
                              "\"pattern\":\"A\\\"\\n\"},\"value\":3}]}");
    char errbuf[256];
    yajl_val root = yajl_tree_parse(text, errbuf, sizeof errbuf);
    assert_non_null(root);
    const char *path[] = {"sluice_events_shipped_total", NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    assert_non_null(v);
    assert_int_equal(YAJL_GET_INTEGER(v), 12);
    yajl_tree_free(root);
    free(text);
    sl_metrics_free(m);
}

static void expect_reg_error(struct sl_metrics *m, enum sl_metric_type t,
                             const char *name, const char *const *labels,
                             const char *want)
{
    struct sl_err err = {0};
    assert_null(sl_metrics_family(m, t, name, "h", labels, &err));
    assert_int_equal(err.status, SL_EINVAL);
    assert_string_equal(err.msg, want);
}

static void bad_names_are_refused_with_the_rule(void **state)
{
    (void)state;
    struct sl_metrics *m = sl_metrics_new();
    struct sl_err err = {0};
    assert_non_null(sl_metrics_counter(m, "ok_total", "h", &err));
    expect_reg_error(m, SL_METRIC_COUNTER, "ok_total", NULL,
                     "metric 'ok_total' is already registered");
    expect_reg_error(m, SL_METRIC_COUNTER, "lines read_total", NULL,
                     "metric name 'lines read_total' has ' ' at offset 5; use "
                     "only letters, digits and '_', not starting with a digit");
    expect_reg_error(m, SL_METRIC_GAUGE, "9lives", NULL,
                     "metric name '9lives' has '9' at offset 0; use only "
                     "letters, digits and '_', not starting with a digit");
    expect_reg_error(m, SL_METRIC_GAUGE, "a:b", NULL,
                     "metric name 'a:b' has ':' at offset 1; use only "
                     "letters, digits and '_', not starting with a digit");
    expect_reg_error(m, SL_METRIC_GAUGE, "", NULL, "metric name is empty");
    expect_reg_error(m, SL_METRIC_COUNTER, "sluice_lines_read", NULL,
                     "counter name 'sluice_lines_read' does not end in "
                     "'_total'; Prometheus names counters that way");
    expect_reg_error(m, SL_METRIC_GAUGE, "sluice_lag_total", NULL,
                     "gauge name 'sluice_lag_total' ends in '_total', which "
                     "Prometheus keeps for counters; drop the suffix");
    expect_reg_error(m, SL_METRIC_COUNTER, "x_total",
                     (const char *const[]){"__name__", NULL},
                     "label name '__name__' starts with '__', which "
                     "Prometheus reserves for itself");
    expect_reg_error(m, SL_METRIC_COUNTER, "x_total",
                     (const char *const[]){"pattern-name", NULL},
                     "label name 'pattern-name' has '-' at offset 7; use "
                     "only letters, digits and '_', not starting with a "
                     "digit");
    expect_reg_error(m, SL_METRIC_COUNTER, "x_total",
                     (const char *const[]){"a", "a", NULL},
                     "metric 'x_total' has label 'a' twice");
    expect_reg_error(m, SL_METRIC_COUNTER, "x_total",
                     (const char *const[]){"a", "b", "c", "d", "e", NULL},
                     "metric 'x_total' has more than 4 label names");

    /* a child needs one value per label, and the family's type */
    struct sl_metric_family *f =
        sl_metrics_family(m, SL_METRIC_COUNTER, "y_total", "h",
                          (const char *const[]){"a", "b", NULL}, &err);
    assert_null(sl_family_counter(f, (const char *const[]){"1", NULL}, &err));
    assert_string_equal(err.msg,
                        "metric 'y_total' needs a value for label 'b'");
    assert_null(sl_family_gauge(f, (const char *const[]){"1", "2"}, &err));
    assert_string_equal(err.msg, "metric 'y_total' is a counter, not a gauge");
    /* nothing half-registered shows up */
    char *text = render_prom(m);
    assert_string_equal(text, "# HELP ok_total h\n# TYPE ok_total counter\n"
                              "ok_total 0\n"
                              "# HELP y_total h\n# TYPE y_total counter\n");
    free(text);
    sl_metrics_free(m);
}

static int collected;
static void collect_lag(void *ctx)
{
    sl_gauge_set(ctx, 42);
    collected++;
}

static void collectors_run_before_each_render(void **state)
{
    (void)state;
    struct sl_metrics *m = sl_metrics_new();
    struct sl_gauge *g = sl_metrics_gauge(m, "stream_length", "h", NULL);
    assert_int_equal(sl_metrics_add_collector(m, collect_lag, g, NULL), 0);
    collected = 0;
    char *text = render_prom(m);
    assert_string_equal(text, "# HELP stream_length h\n"
                              "# TYPE stream_length gauge\n"
                              "stream_length 42\n");
    free(text);
    free(render_json(m));
    assert_int_equal(collected, 2);
    sl_metrics_free(m);
}

/* ---- renders on several threads ------------------------------------- */

#define RENDER_THREADS 4
#define RENDERS        300

struct counting {
    struct sl_gauge *renders; /* + 1 per collector call: load, then store */
    atomic_int inside, overlaps;
};

/* A collector that notices a second call while one runs, and adds to its
 * gauge with the one-writer sl_gauge_add: two at once would lose adds. */
static void count_render(void *ctx)
{
    struct counting *c = ctx;
    if (atomic_fetch_add(&c->inside, 1) != 0)
        atomic_fetch_add(&c->overlaps, 1);
    double v = sl_gauge_get(c->renders);
    sched_yield(); /* widen the window a second render would hit */
    sl_gauge_set(c->renders, v + 1);
    atomic_fetch_sub(&c->inside, 1);
}

static struct sl_metrics *shared_m;

static void *render_many(void *arg)
{
    (void)arg;
    struct sl_buf b = SL_BUF_INIT(1 << 20);
    for (int i = 0; i < RENDERS; i++) {
        sl_buf_reset(&b);
        if ((i % 2 ? sl_metrics_render_json(shared_m, &b, NULL)
                   : sl_metrics_render_prometheus(shared_m, &b, NULL)) < 0)
            abort();
    }
    sl_buf_release(&b);
    return NULL;
}

/* The header's contract: any thread may render; the collectors (and the
 * process gauges) are run by one render at a time, so a collector's gauge
 * counts every render. */
static void renders_on_several_threads_take_turns_to_collect(void **state)
{
    (void)state;
    struct counting c = {0};
    shared_m = sl_metrics_new();
    assert_non_null(shared_m);
    c.renders = sl_metrics_gauge(shared_m, "renders", "h", NULL);
    assert_non_null(c.renders);
    assert_int_equal(sl_metrics_add_process(shared_m, NULL), 0);
    assert_int_equal(sl_metrics_add_collector(shared_m, count_render, &c, NULL),
                     0);
    pthread_t t[RENDER_THREADS];
    for (int i = 0; i < RENDER_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, render_many, NULL), 0);
    for (int i = 0; i < RENDER_THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&c.overlaps), 0);
    assert_true(sl_gauge_get(c.renders) == RENDER_THREADS * RENDERS);
    sl_metrics_free(shared_m);
}

/* Parses "name value" out of rendered text. */
static double sample(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(text, key);
    assert_non_null(p);
    return strtod(p + strlen(key), NULL);
}

static void process_memory_and_start_time_are_plausible(void **state)
{
    (void)state;
    struct sl_err err = {0};
    struct sl_metrics *m = sl_metrics_new();
    assert_int_equal(sl_metrics_add_process(m, &err), 0);
    char *text = render_prom(m);
    double rss = sample(text, "process_resident_memory_bytes");
    double peak = sample(text, "process_resident_memory_peak_bytes");
    double start = sample(text, "process_start_time_seconds");
    free(text);
    /* a test binary (under ASan too) holds between 256 KiB and 4 GiB */
    assert_true(rss >= 256 * 1024.0 && rss < 4096.0 * 1024 * 1024);
    assert_true(peak >= rss);
    /* started within the last hour, not in the future */
    time_t now = time(NULL);
    assert_true(start <= (double)now + 1 && start > (double)now - 3600);

    /* memory is read again at each render: touch 32 MiB and see it */
    size_t big = 32u << 20;
    char *p = malloc(big);
    assert_non_null(p);
    memset(p, 1, big);
    text = render_prom(m);
    double rss2 = sample(text, "process_resident_memory_bytes");
    free(text);
    free(p);
    assert_true(rss2 >= rss + 24.0 * 1024 * 1024);
    /* process_* names are taken once, and a second try leaves the first
     * registration working */
    assert_int_equal(sl_metrics_add_process(m, &err), -1);
    assert_string_equal(err.msg, "metric 'process_resident_memory_bytes' is "
                                 "already registered");
    text = render_prom(m);
    assert_true(sample(text, "process_resident_memory_bytes") > 0);
    free(text);
    sl_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_gauges_render_exactly),
        cmocka_unit_test(gauge_values_print_short_and_exact),
        cmocka_unit_test(labelled_counter_has_one_line_per_child),
        cmocka_unit_test(help_and_label_values_are_escaped),
        cmocka_unit_test(json_status_parses_with_the_values),
        cmocka_unit_test(bad_names_are_refused_with_the_rule),
        cmocka_unit_test(collectors_run_before_each_render),
        cmocka_unit_test(process_memory_and_start_time_are_plausible),
        cmocka_unit_test(renders_on_several_threads_take_turns_to_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
