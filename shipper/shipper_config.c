/* shipper_config.c: the tables of shipper.json, and the rules between keys
 * that a table cannot state (exactly one output, a key that depends on the
 * mode, the machine's name as host.name).
 *
 * Defaults: Redis on the local machine in stream mode, the registry in
 * /var/lib/sluice-shipper as packaged daemons keep their state, host.name
 * from the machine. What cannot have a sensible default is required: what
 * to read (inputs) and where to send it (output). */
#include "shipper_config.h"

#include <limits.h>
#include <string.h>

#include "sl_batch.h"

static int check_host(const struct sl_config_node *obj, void *out,
                      struct sl_err *err)
{
    struct shipper_host_config *h = out;
    if (h->name == NULL) {
        if (sl_config_hostname(h->hostname, sizeof h->hostname, err) < 0)
            return -1;
        h->name = h->hostname;
    }
    if (h->name[0] == '\0')
        return sl_config_error_expected(sl_config_get(obj, "name"), err,
                                        "a name that is not empty");
    return 0;
}

#define HOST(m) SL_OPT_FIELD(struct shipper_host_config, m)
static const struct sl_opt host_opts[] = {
    {"name", SL_OPT_STRING, HOST(name),
     .doc_default = "the machine's name (`hostname`)",
     .help = "`host.name` of every event, and part of each event's id"},
    SL_OPT_END};

static const struct sl_config_table host_table = {
    "host", sizeof(struct shipper_host_config), host_opts, check_host};

static int check_redis(const struct sl_config_node *obj, void *out,
                       struct sl_err *err)
{
    struct shipper_redis_output *r = out;
    if (r->key == NULL)
        r->key = sl_redis_default_key(r->mode);
    if (!r->has_max_pending)
        r->max_pending = r->mode == SL_REDIS_LIST ? SHIPPER_MAX_PENDING_LIST
                                                  : SHIPPER_MAX_PENDING_STREAM;
    if (r->key[0] == '\0')
        return sl_config_error_expected(sl_config_get(obj, "key"), err,
                                        "a key that is not empty");
    return sl_config_check_redis_url(sl_config_get(obj, "url"), err);
}

/* enum sl_codec's names in its order, then "auto" */
static const char *const codec_names[] = {"none",     "lz4",  "zstd",
                                          "columnar", "auto", NULL};
_Static_assert(SL_CODEC_COLUMNAR == 3 && SHIPPER_CODEC_AUTO == 4,
               "codec_names follows enum sl_codec, then auto");

#define REDIS(m) SL_OPT_FIELD(struct shipper_redis_output, m)
static const struct sl_opt redis_opts[] = {
    {"url", SL_OPT_STRING, REDIS(url), .def = SL_REDIS_URL_DEFAULT,
     .help = SL_REDIS_URL_HELP},
    {"mode", SL_OPT_ENUM, REDIS(mode), .def = "stream",
     .words = sl_redis_mode_names,
     .help = "`stream`: batches in a Redis stream, for sluice-indexer; "
             "`list`: one event per element, for Logstash's redis input"},
    {"key", SL_OPT_STRING, REDIS(key), .doc_default = SL_REDIS_KEY_DOC,
     .help = "the stream or list written to"},
    {"batch_events", SL_OPT_INT, REDIS(batch_events), .def = "2000", .min = 1,
     .max = 1000000,
     .help = "events per batch: a stream entry, or a list's RPUSH commands; "
             "Redis's CPU goes with the number of entries"},
    {"batch_bytes", SL_OPT_SIZE, REDIS(batch_bytes), .def = "2MiB", .min = 1024,
     .max = 512LL << 20,
     .help = "a batch is sent once its events' JSON reaches this size"},
    {"batch_age", SL_OPT_DURATION, REDIS(batch_age_ms), .def = "1s", .min = 1,
     .max = 600000,
     .help = "a batch is sent at the latest this long after its first "
             "event: the most an event waits in the shipper"},
    {"codec", SL_OPT_ENUM, REDIS(codec), .def = "auto", .words = codec_names,
     .help = "stream mode: how batches are compressed. `auto` (the "
             "default) is columnar when every input has a grok processor "
             "(anywhere in its list, with a `when` or without) and lz4 "
             "otherwise, chosen once at start and said in the log. lz4 costs "
             "the shipper 0.4 to 0.8 CPU-s per million events and Redis under "
             "0.1; zstd (level 1) takes 25 to 40% less Redis memory for 30% "
             "more shipper CPU; columnar (the JSON lines as columns, grok's "
             "captures out of the message, then lz4) takes half of lz4's "
             "Redis memory and 0.25 to 0.3 CPU-s less shipper CPU per million "
             "Apache events, and no more indexer CPU to decode; on lines grok "
             "does not cut (JSON logs, tracebacks, plain text) it costs the "
             "shipper 2 to 8% more than lz4 and the indexer up to 57% more to "
             "decode, for 1 to 15% less Redis memory. An indexer older than "
             "the shipper cannot read columnar: upgrade the indexers first "
             "(bench/RESULTS.md)"},
    {"max_in_flight", SL_OPT_INT, REDIS(max_in_flight), .def = "4", .min = 1,
     .max = 64,
     .help = "batches sent and not yet acknowledged; more stops reading: the "
             "shipper's memory is about this many compressed batches"},
    {"command_timeout", SL_OPT_DURATION, REDIS(command_timeout_ms),
     .def = "10s", .min = 100, .max = 600000,
     .help = "a batch Redis has not answered by then is sent again on a new "
             "connection; `run --once` gives up (exit 1) after this long "
             "with Redis unreachable or refusing every batch"},
    {"max_pending", SL_OPT_INT, REDIS(max_pending), .min = 0, .max = LLONG_MAX,
     .present = SL_OPT_PRESENT(struct shipper_redis_output, has_max_pending),
     .doc_default = "`2000` (stream), `1000000` (list)",
     .help = "stop reading while the key holds this many entries (stream, "
             "XLEN) or events (list, LLEN) not yet consumed; 0: no limit"},
    {"max_pending_bytes", SL_OPT_SIZE, REDIS(max_pending_bytes), .def = "0",
     .min = 0, .max = LLONG_MAX,
     .help = "stop reading while the key uses this much Redis memory (MEMORY "
             "USAGE, sampled); 0: not checked"},
    SL_OPT_END};

static const struct sl_config_table redis_table = {
    "output.redis", sizeof(struct shipper_redis_output), redis_opts,
    check_redis};

static int check_output(const struct sl_config_node *obj, void *out,
                        struct sl_err *err)
{
    static const char *const none[] = {NULL};
    struct shipper_output_config *o = out;
    const struct sl_config_node *s = o->stdout_node;
    if (!o->has_redis && s == NULL)
        return sl_config_error(obj, err,
                               "found no output, expected one of "
                               "'redis' or 'stdout'");
    if (o->has_redis && s != NULL)
        return sl_config_error(obj, err,
                               "found both 'redis' and 'stdout', "
                               "expected one of them");
    if (s != NULL && (sl_config_object(s, NULL, &s, err) < 0 ||
                      sl_config_check_keys(s, none, err) < 0))
        return -1;
    return 0;
}

#define OUTPUT(m) SL_OPT_FIELD(struct shipper_output_config, m)
static const struct sl_opt output_opts[] = {
    {"redis", SL_OPT_OBJECT, OUTPUT(redis), .sub = &redis_table,
     .present = SL_OPT_PRESENT(struct shipper_output_config, has_redis),
     .help = "send batches to Redis"},
    {"stdout", SL_OPT_RAW, OUTPUT(stdout_node), .doc_type = "an object",
     .help = "`{}`: write events as JSON lines to stdout, to try a config "
             "without Redis"},
    SL_OPT_END};

static const struct sl_config_table output_table = {
    "output", sizeof(struct shipper_output_config), output_opts, check_output};

static int check_shipper(const struct sl_config_node *obj, void *out,
                         struct sl_err *err)
{
    const struct shipper_config *sc = out;
    const struct sl_config_node *in = sc->inputs;
    if (sl_config_array(in, NULL, &in, err) < 0)
        return -1;
    if (sc->data_dir[0] == '\0')
        return sl_config_error_expected(sl_config_get(obj, "data_dir"), err,
                                        "a directory");
    if (sc->data_dir[0] == '~')
        return sl_config_error_expected(
            sl_config_get(obj, "data_dir"), err,
            "a directory without '~' (a shell's, not expanded here): write "
            "${HOME}%.200s, or the whole path",
            sc->data_dir + 1);
    if (in != NULL && sl_config_len(in) == 0)
        return sl_config_error_expected(in, err, "at least one input");
    return 0;
}

#define SHIPPER(m) SL_OPT_FIELD(struct shipper_config, m)
static const struct sl_opt shipper_opts[] = {
    {"host", SL_OPT_OBJECT, SHIPPER(host), .sub = &host_table,
     .help = "the machine the events come from"},
    {"data_dir", SL_OPT_STRING, SHIPPER(data_dir),
     .def = "/var/lib/sluice-shipper",
     .help = "where the registry (how far each file was read) is kept"},
    {"inputs", SL_OPT_RAW, SHIPPER(inputs), .flags = SL_OPT_REQUIRED,
     .doc_type = "a list of objects",
     .help = "what to read: files or stdin, one object each; their keys "
             "come with the inputs"},
    {"output", SL_OPT_OBJECT, SHIPPER(output), .sub = &output_table,
     .flags = SL_OPT_REQUIRED,
     .help = "where events go: exactly one of `redis` and `stdout`"},
    {"http", SL_OPT_OBJECT, SHIPPER(http), .sub = &sl_http_section_table,
     .doc_default = "off", .help = "the metrics and status endpoint"},
    {"log", SL_OPT_OBJECT, SHIPPER(log), .sub = &sl_log_section_table,
     .help = "the shipper's own log"},
    SL_OPT_END};

const struct sl_config_table shipper_config_table = {
    "shipper.json", sizeof(struct shipper_config), shipper_opts, check_shipper};

bool shipper_input_has_grok(const struct sl_config_node *input)
{
    const struct sl_config_node *procs = sl_config_get(input, "processors");
    for (size_t i = 0; i < sl_config_len(procs); i++)
        if (sl_config_get(sl_config_at(procs, i), "grok") != NULL)
            return true;
    return false;
}

/* "auto": columnar pays where grok cut the message into captures (half of
 * lz4's Redis memory, 15% less shipper CPU on Apache lines) and costs a
 * little more than lz4 elsewhere, so it is chosen when every input has a
 * grok. A grok under a `when` counts: it is written for the lines it runs
 * on, which are the input's lines a user means to parse. */
static void resolve_codec(struct shipper_config *sc)
{
    struct shipper_redis_output *r = &sc->output.redis;
    size_t n = sl_config_len(sc->inputs), i = 0;
    if (r->codec != SHIPPER_CODEC_AUTO)
        return;
    while (i < n && shipper_input_has_grok(sl_config_at(sc->inputs, i)))
        i++;
    r->codec_auto = true;
    r->codec_no_grok = i;
    r->codec = i == n ? SL_CODEC_COLUMNAR : SL_CODEC_LZ4;
}

int shipper_config_read(struct shipper_config *sc,
                        const struct sl_config_node *root, struct sl_err *err)
{
    if (sl_config_table_fill(&shipper_config_table, root, sc, err) < 0)
        return -1;
    resolve_codec(sc);
    return 0;
}

void shipper_config_release(struct shipper_config *sc)
{
    sl_config_table_release(&shipper_config_table, sc);
}
