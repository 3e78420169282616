/* indexer_config.c: the tables of indexer.json, and the rules between keys
 * that a table cannot state (a key that depends on the mode, the machine's
 * name as the consumer, one way to log in to Elasticsearch).
 *
 * Defaults make `{}` a working config on one machine: Redis and
 * Elasticsearch on localhost, the shipper's default stream, daily indices.
 * The consumer defaults to the machine's name, which stays the same across
 * restarts, so an indexer that comes back finds its own pending entries. */
#include "indexer_config.h"

#include "index_name.h"

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
    /* Letters written to the key read would be read back, refused as not
     * a batch and written again, without end. */
    if (strcmp(r->dead_key, r->key) == 0) {
        const struct sl_config_node *at = sl_config_get(obj, "dead_key");
        return sl_config_error(at != NULL ? at : sl_config_get(obj, "key"), err,
                               "found \"%s\" for both key and dead_key, "
                               "expected two keys: dead letters written to "
                               "the key read would be read again",
                               r->key);
    }
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
     .help = "entries (stream) or elements (list) asked for per read, at "
             "most: a stream read asks for the entries that hold about the "
             "events the bulk side has room for"},
    {"block", SL_OPT_DURATION, REDIS(block_ms), .def = "2s", .min = 1,
     .max = 60000,
     .help = "how long one read waits on Redis for new entries before it "
             "asks again"},
    /* 30 s: a live indexer touches what it holds every claim_idle / 4,
     * so only a dead one's entries get this old; 2 min left a killed
     * indexer's events out of Elasticsearch for 2 to 3 minutes */
    {"claim_idle", SL_OPT_DURATION, REDIS(claim_idle_ms), .def = "30s",
     .min = 1000, .max = 86400000,
     .help = "stream mode: entries another consumer left unacknowledged "
             "this long are taken over (its indexer is taken for dead; a "
             "live one keeps what it holds, however long Elasticsearch "
             "takes)"},
    {"forget_idle", SL_OPT_DURATION, REDIS(forget_idle_ms), .def = "1h",
     .min = 1000, .max = 2592000000LL,
     .help = "stream mode: consumers of the group that hold no entry and "
             "have not read for this long (an indexer gone, or started again "
             "under another name) are removed from it, and the log says so; "
             "one that holds entries is kept until they are claimed"},
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

/* The index pattern compiles (index_name.h), with its fallback; with
 * retention on, its names say their dates and share a prefix, so the
 * indices to delete can be listed and told apart from others. */
static int check_index(const struct sl_config_node *obj,
                       const struct indexer_es_config *es, struct sl_err *err)
{
    struct sl_err e = {0};
    if (index_name_check_fallback(es->index_fallback, &e) < 0)
        return sl_config_error(sl_config_get(obj, "index_fallback"), err, "%s",
                               e.msg);
    struct index_name *in = index_name_new(es->index, es->index_fallback, &e);
    if (in == NULL)
        return sl_config_error(sl_config_get(obj, "index"), err,
                               "%s; see the README's \"Index names\"", e.msg);
    bool dated = index_name_dated(in);
    size_t prefix = index_name_prefix(in).len;
    index_name_free(in);
    if (es->retention_days == 0 || (dated && prefix > 0))
        return 0;
    return sl_config_error(
        sl_config_get(obj, "retention_days"), err,
        "retention needs an index pattern that starts with text and has a "
        "full date, such as \"sluice-%%{+yyyy.MM.dd}\"; \"%s\" has %s",
        es->index, prefix == 0 ? "no text first" : "no full date");
}

/* The port of a host URL that sl_config_check_url() took, when it has
 * one, is 1 to 65535 (curl refused "http://es:99999" or "http://es:92OO"
 * at every request, so `check` passed and `run` retried for ever). */
static int check_port(const struct sl_config_node *n, struct sl_err *err)
{
    const char *s = NULL;
    if (sl_config_string(n, NULL, NULL, &s, err) < 0)
        return -1;
    const char *host = strstr(s, "://") + 3;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end);
    while (at != NULL) { /* the last '@' ends the user part */
        end -= (size_t)(at + 1 - host);
        host = at + 1;
        at = memchr(host, '@', end);
    }
    const char *colon = host;
    if (*host == '[') /* an IPv6 address */
        colon = memchr(host, ']', end);
    colon =
        colon != NULL ? memchr(colon, ':', end - (size_t)(colon - host)) : NULL;
    if (colon == NULL)
        return 0;
    size_t len = end - (size_t)(colon + 1 - host);
    long port = 0;
    for (size_t i = 0; i < len && port <= 65535; i++)
        port = colon[1 + i] >= '0' && colon[1 + i] <= '9'
                   ? port * 10 + (colon[1 + i] - '0')
                   : 65536;
    if (len > 0 && port >= 1 && port <= 65535)
        return 0;
    /* the port only: the URL may hold a password */
    return sl_config_error(n, err,
                           "found the port \"%.*s\", expected a port from 1 "
                           "to 65535 (such as \"http://127.0.0.1:9200\")",
                           (int)(len < 16 ? len : 16), colon + 1);
}

static int check_hosts(const struct sl_config_node *hosts, struct sl_err *err)
{
    if (sl_config_check_url(hosts, http_schemes, "http://127.0.0.1:9200", err) <
        0)
        return -1;
    if (sl_config_type(hosts) != SL_CONFIG_ARRAY)
        return hosts == NULL ? 0 : check_port(hosts, err);
    for (size_t i = 0; i < sl_config_len(hosts); i++)
        if (check_port(sl_config_at(hosts, i), err) < 0)
            return -1;
    return 0;
}

/* Logstash's api_key is "id:api_key", as Elasticsearch's create API key
 * answers them; the header takes base64 of that ("encoded" in the same
 * answer), which never holds ':'. The first form is encoded here, so a
 * Logstash config's key works (it was sent as it is: 401 for ever). */
static int encode_api_key(const struct sl_config_node *obj,
                          struct indexer_es_config *es, struct sl_err *err)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = (const unsigned char *)es->api_key;
    size_t n = in != NULL ? strlen(es->api_key) : 0, o = 0;
    if (in == NULL || strchr(es->api_key, ':') == NULL)
        return 0;
    if ((n + 2) / 3 * 4 >= sizeof es->api_key_buf)
        return sl_config_error(sl_config_get(obj, "api_key"), err,
                               "found an \"id:api_key\" of %zu bytes, "
                               "expected at most %zu",
                               n, (sizeof es->api_key_buf - 1) / 4 * 3);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        es->api_key_buf[o++] = b64[v >> 18 & 63];
        es->api_key_buf[o++] = b64[v >> 12 & 63];
        es->api_key_buf[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        es->api_key_buf[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    es->api_key_buf[o] = '\0';
    es->api_key = es->api_key_buf;
    return 0;
}

static int check_es(const struct sl_config_node *obj, void *out,
                    struct sl_err *err)
{
    struct indexer_es_config *es = out;
    if (check_hosts(sl_config_get(obj, "hosts"), err) < 0 ||
        not_empty(obj, "index", es->index, err) < 0 ||
        not_empty(obj, "template_name", es->template_name, err) < 0 ||
        check_index(obj, es, err) < 0)
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
    if (encode_api_key(obj, es, err) < 0)
        return -1;
    if (es->retry_max_ms < es->retry_min_ms)
        return sl_config_error(sl_config_get(obj, "retry_max") != NULL
                                   ? sl_config_get(obj, "retry_max")
                                   : sl_config_get(obj, "retry_min"),
                               err,
                               "found retry_max %lld ms below retry_min %lld "
                               "ms, expected retry_max at least retry_min",
                               es->retry_max_ms, es->retry_min_ms);
    return 0;
}

#define ES(m) SL_OPT_FIELD(struct indexer_es_config, m)
static const struct sl_opt es_opts[] = {
    {"hosts", SL_OPT_STRINGS, ES(hosts), .def = "http://127.0.0.1:9200",
     .min = 1, .max = LLONG_MAX,
     .help = "the nodes' URLs; a node that refuses connections is set aside "
             "(tried again within 5 s) and the next one tried"},
    {"index", SL_OPT_STRING, ES(index), .def = "sluice-%{+yyyy.MM.dd}",
     .help = "the index written to; `%{+yyyy.MM.dd}` is the event's date "
             "(UTC), `%{[service][name]}` an event field (see Index names)"},
    {"index_fallback", SL_OPT_STRING, ES(index_fallback), .def = "unknown",
     .help = "what a `%{field}` of `index` becomes when the event lacks it "
             "(or it is empty, null, an object or an array)"},
    {"template_name", SL_OPT_STRING, ES(template_name), .def = "sluice",
     .help = "`setup` installs the index template as "
             "`_index_template/<this>`"},
    {"retention_days", SL_OPT_INT, ES(retention_days), .def = "0", .min = 0,
     .max = 36500,
     .help = "0: off; else the daily (weekly, monthly) indices of `index` "
             "whose last day is more than this many UTC days ago are deleted; "
             "no other index is touched"},
    {"retention_interval", SL_OPT_DURATION, ES(retention_interval_ms),
     .def = "1h", .min = 1000, .max = 86400000,
     .help = "with retention on, `run` deletes old indices this often, the "
             "first time a minute after it starts (or after this, if "
             "shorter)"},
    {"username", SL_OPT_STRING, ES(username),
     .help = "basic authentication, with `password`"},
    {"password", SL_OPT_STRING, ES(password), .flags = SL_OPT_SECRET,
     .help = "put it in `${ES_PASSWORD}`"},
    {"api_key", SL_OPT_STRING, ES(api_key), .flags = SL_OPT_SECRET,
     .help = "instead of username and password: the `encoded` (base64) "
             "key that Elasticsearch returns, or its `id:api_key` as "
             "Logstash takes it"},
    {"ca_file", SL_OPT_STRING, ES(ca_file),
     .help = "PEM file of the CA that signed the nodes' certificates; "
             "without it, the system's CAs"},
    {"tls_verify", SL_OPT_BOOL, ES(tls_verify), .def = "true",
     .help = "check the nodes' certificates and host names; `false` is for "
             "tests only"},
    {"flush_bytes", SL_OPT_SIZE, ES(flush_bytes), .def = "5MiB", .min = 1024,
     .max = 1LL << 30,
     .help = "a bulk request is sent once its body reaches this size; keep "
             "it well under the nodes' http.max_content_length (100mb)"},
    {"flush_count", SL_OPT_INT, ES(flush_count), .def = "5000", .min = 1,
     .max = 1 << 20,
     .help = "a bulk request is also sent once it holds this many events"},
    {"flush_age", SL_OPT_DURATION, ES(flush_age_ms), .def = "1s", .min = 1,
     .max = 3600000,
     .help = "a bulk request is also sent once its first event has waited "
             "this long; at once when Redis has nothing more and no request "
             "is in flight"},
    {"max_in_flight", SL_OPT_INT, ES(max_in_flight), .def = "3", .min = 1,
     .max = 64,
     .help = "bulk requests on the wire at once; when all are busy the "
             "indexer stops pulling from Redis; each one more costs about "
             "4 MiB at the default flush sizes (the entries its events come "
             "from; the request points into them): raise it for clusters "
             "of several nodes"},
    {"request_timeout", SL_OPT_DURATION, ES(request_timeout_ms), .def = "60s",
     .min = 1000, .max = 3600000,
     .help =
         "the indexer's own limit on one request, after which it is sent "
         "again (the node is asked to answer within half of it); `run "
         "--once` gives up after this long of failed requests in a row, or of "
         "Redis unreachable or refusing to start the reads"},
    {"retry_min", SL_OPT_DURATION, ES(retry_min_ms), .def = "100ms", .min = 1,
     .max = 3600000,
     .help = "first backoff before events refused with 429, 5xx or a block "
             "are sent again; doubles with each failure, with jitter"},
    {"retry_max", SL_OPT_DURATION, ES(retry_max_ms), .def = "30s", .min = 1,
     .max = 3600000, .help = "the longest backoff"},
    {"gzip", SL_OPT_BOOL, ES(gzip), .def = "false",
     .help = "gzip request bodies: for slow links; costs the indexer about "
             "2-5 CPU-s per million events"},
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
     .help = "where `setup` imports the data view and dashboards, such as "
             "`http://127.0.0.1:5601`; add `/s/<space>` for a Kibana "
             "space"},
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
