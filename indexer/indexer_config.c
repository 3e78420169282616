/* indexer_config.c: the tables of indexer.json, and the rules between keys
 * that a table cannot state (a key that depends on the mode, the machine's
 * name as the consumer, one way to log in to Elasticsearch).
 *
 * Defaults make `{}` a working config on one machine: Redis and
 * Elasticsearch on localhost, the shipper's default stream, daily indices.
 * The consumer defaults to the machine's name, which stays the same across
 * restarts, so an indexer that comes back finds its own pending entries. */
#include "indexer_config.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

static const char *const http_schemes[] = {"http://", "https://", NULL};

/* A string key that, when there, must not be "". */
static int not_empty(const struct sl_config_node *obj, const char *key,
                     const char *value, struct sl_err *err)
{
    if (value == NULL || value[0] != '\0')
        return 0;
    return sl_config_error_expected(sl_config_get(obj, key), err,
                                    "a string that is not empty");
}

static int check_redis(const struct sl_config_node *obj, void *out,
                       struct sl_err *err)
{
    struct indexer_redis_config *r = out;
    if (r->key == NULL)
        r->key = sl_redis_default_key(r->mode);
    bool stream = r->mode == SL_REDIS_STREAM;
    if (r->read_count == 0)
        r->read_count =
            stream ? INDEXER_READ_COUNT_STREAM : INDEXER_READ_COUNT_LIST;
    if (r->max_in_flight == 0)
        r->max_in_flight =
            stream ? INDEXER_IN_FLIGHT_STREAM : INDEXER_IN_FLIGHT_LIST;
    if (r->consumer == NULL) {
        if (sl_config_hostname(r->hostname, sizeof r->hostname, err) < 0)
            return -1;
        r->consumer = r->hostname;
    }
    if (not_empty(obj, "key", r->key, err) < 0 ||
        not_empty(obj, "group", r->group, err) < 0 ||
        not_empty(obj, "consumer", r->consumer, err) < 0 ||
        not_empty(obj, "dead_key", r->dead_key, err) < 0)
        return -1;
    return sl_config_check_redis_url(sl_config_get(obj, "url"), err);
}

#define REDIS(m) SL_OPT_FIELD(struct indexer_redis_config, m)
static const struct sl_opt redis_opts[] = {
    {"url", SL_OPT_STRING, REDIS(url), .def = SL_REDIS_URL_DEFAULT,
     .help = SL_REDIS_URL_HELP},
    {"mode", SL_OPT_ENUM, REDIS(mode), .def = "stream",
     .words = sl_redis_mode_names,
     .help = "`stream`: batches from sluice-shipper, read in a consumer "
             "group; `list`: one event per element, as Logstash writes them"},
    {"key", SL_OPT_STRING, REDIS(key), .doc_default = SL_REDIS_KEY_DOC,
     .help = "the stream or list read"},
    {"group", SL_OPT_STRING, REDIS(group), .def = "sluice",
     .help = "the consumer group the indexers share (stream mode)"},
    {"consumer", SL_OPT_STRING, REDIS(consumer),
     .doc_default = "the machine's name (`hostname`)",
     .help = "this indexer's name in the group, the same across restarts; "
             "give each indexer on one machine its own"},
    {"dead_key", SL_OPT_STRING, REDIS(dead_key), .def = "sluice:dead",
     .help = "the stream that keeps events Elasticsearch refused, with the "
             "reason"},
    {"read_count", SL_OPT_INT, REDIS(read_count), .min = 1, .max = 100000,
     .doc_default = "16 (stream), 256 (list)",
     .help = "entries (stream) or elements (list) asked for per read"},
    {"block", SL_OPT_DURATION, REDIS(block_ms), .def = "2s", .min = 1,
     .max = 60000,
     .help = "how long one read waits on Redis for new entries before it "
             "asks again"},
    {"claim_idle", SL_OPT_DURATION, REDIS(claim_idle_ms), .def = "2m",
     .min = 1000, .max = 86400000,
     .help = "stream mode: entries another consumer left unacknowledged "
             "this long are taken over (its indexer is taken for dead)"},
    {"max_in_flight", SL_OPT_INT, REDIS(max_in_flight), .min = 1,
     .max = 1000000, .doc_default = "64 (stream), 8192 (list)",
     .help = "entries (stream) or elements (list) read and not yet "
             "acknowledged; at this many the indexer stops reading, which "
             "bounds its memory"},
    {"dead_warn", SL_OPT_INT, REDIS(dead_warn), .def = "10000", .min = 1,
     .max = LLONG_MAX,
     .help = "a warning is logged while the dead-letter stream holds more "
             "entries than this"},
    SL_OPT_END};

static const struct sl_config_table redis_table = {
    "redis", sizeof(struct indexer_redis_config), redis_opts, check_redis};

static int check_es(const struct sl_config_node *obj, void *out,
                    struct sl_err *err)
{
    const struct indexer_es_config *es = out;
    if (sl_config_check_url(sl_config_get(obj, "hosts"), http_schemes,
                            "http://127.0.0.1:9200", err) < 0 ||
        not_empty(obj, "index", es->index, err) < 0)
        return -1;
    if (es->api_key != NULL && (es->username != NULL || es->password != NULL))
        return sl_config_error(sl_config_get(obj, "api_key"), err,
                               "found both api_key and username/password, "
                               "expected one way to log in");
    if ((es->username == NULL) != (es->password == NULL))
        return sl_config_error(
            sl_config_get(obj, es->username ? "username" : "password"), err,
            "found %s without %s, expected both or neither",
            es->username ? "username" : "password",
            es->username ? "password" : "username");
    return 0;
}

#define ES(m) SL_OPT_FIELD(struct indexer_es_config, m)
static const struct sl_opt es_opts[] = {
    {"hosts", SL_OPT_STRINGS, ES(hosts), .def = "http://127.0.0.1:9200",
     .min = 1, .max = LLONG_MAX,
     .help = "the nodes' URLs; a node that refuses connections is set aside "
             "and the next one tried"},
    {"index", SL_OPT_STRING, ES(index), .def = "sluice-%{+yyyy.MM.dd}",
     .help = "the index written to; `%{+yyyy.MM.dd}` is the event's date"},
    {"username", SL_OPT_STRING, ES(username),
     .help = "basic authentication, with `password`"},
    {"password", SL_OPT_STRING, ES(password), .flags = SL_OPT_SECRET,
     .help = "put it in `${ES_PASSWORD}`"},
    {"api_key", SL_OPT_STRING, ES(api_key), .flags = SL_OPT_SECRET,
     .help = "instead of username and password: the base64 `id:key` that "
             "Elasticsearch returns"},
    {"ca_file", SL_OPT_STRING, ES(ca_file),
     .help = "PEM file of the CA that signed the nodes' certificates; "
             "without it, the system's CAs"},
    SL_OPT_END};

static const struct sl_config_table es_table = {
    "elasticsearch", sizeof(struct indexer_es_config), es_opts, check_es};

static int check_kibana(const struct sl_config_node *obj, void *out,
                        struct sl_err *err)
{
    (void)out;
    return sl_config_check_url(sl_config_get(obj, "url"), http_schemes,
                               "http://127.0.0.1:5601", err);
}

#define KIBANA(m) SL_OPT_FIELD(struct indexer_kibana_config, m)
static const struct sl_opt kibana_opts[] = {
    {"url", SL_OPT_STRING, KIBANA(url), .flags = SL_OPT_REQUIRED,
     .help = "where `setup` imports the data view and dashboards"},
    SL_OPT_END};

static const struct sl_config_table kibana_table = {
    "kibana", sizeof(struct indexer_kibana_config), kibana_opts, check_kibana};

#define INDEXER(m) SL_OPT_FIELD(struct indexer_config, m)
static const struct sl_opt indexer_opts[] = {
    {"redis", SL_OPT_OBJECT, INDEXER(redis), .sub = &redis_table,
     .help = "where the events wait"},
    {"elasticsearch", SL_OPT_OBJECT, INDEXER(elasticsearch), .sub = &es_table,
     .help = "where they go (OpenSearch too: same keys)"},
    {"kibana", SL_OPT_OBJECT, INDEXER(kibana), .sub = &kibana_table,
     .doc_default = "none: `setup` skips Kibana", .help = "for `setup`"},
    {"http", SL_OPT_OBJECT, INDEXER(http), .sub = &sl_http_section_table,
     .doc_default = "off", .help = "the metrics and status endpoint"},
    {"log", SL_OPT_OBJECT, INDEXER(log), .sub = &sl_log_section_table,
     .help = "the indexer's own log"},
    SL_OPT_END};

const struct sl_config_table indexer_config_table = {
    "indexer.json", sizeof(struct indexer_config), indexer_opts, NULL};

int indexer_config_read(struct indexer_config *ic,
                        const struct sl_config_node *root, struct sl_err *err)
{
    return sl_config_table_fill(&indexer_config_table, root, ic, err);
}

void indexer_config_release(struct indexer_config *ic)
{
    sl_config_table_release(&indexer_config_table, ic);
}
