/* test_indexer_config.c: indexer.json through its tables: the example in
 * conf/ loads, `{}` is a working config with the documented defaults, and
 * each kind of bad value gets its exact message; a secret never shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_sender.h"
#include "indexer_config.h"

static struct sl_config *load(const char *text)
{
    struct sl_err err = {0};
    struct sl_config *c =
        sl_config_load_buffer("indexer.json", text, strlen(text), &err);
    if (c == NULL)
        fail_msg("load failed: %s", err.msg);
    return c;
}

static void assert_fails(const char *text, const char *msg)
{
    struct sl_config *c = load(text);
    struct indexer_config ic;
    struct sl_err err = {0};
    assert_int_equal(indexer_config_read(&ic, sl_config_root(c), &err), -1);
    assert_string_equal(err.msg, msg);
    indexer_config_release(&ic);
    sl_config_free(c);
}

static void test_table_is_consistent(void **state)
{
    (void)state;
    struct sl_err err = {0};
    if (sl_config_table_verify(&indexer_config_table, &err) < 0)
        fail_msg("%s", err.msg);
}

static void test_example_file(void **state)
{
    (void)state;
    setenv("HOSTNAME", "idx-1", 1);
    setenv("ES_PASSWORD", "changeme", 1);
    struct sl_err err = {0};
    struct sl_config *c =
        sl_config_load_file(SLUICE_SOURCE_DIR "/conf/indexer.json", &err);
    if (c == NULL)
        fail_msg("%s", err.msg);
    struct indexer_config ic;
    if (indexer_config_read(&ic, sl_config_root(c), &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(ic.redis.url, "redis://127.0.0.1:6379/0");
    assert_int_equal(ic.redis.mode, SL_REDIS_STREAM);
    assert_string_equal(ic.redis.key, "sluice:events");
    assert_string_equal(ic.redis.group, "sluice");
    assert_string_equal(ic.redis.consumer, "idx-1");
    assert_string_equal(ic.redis.dead_key, "sluice:dead");
    assert_int_equal(ic.redis.read_count, 16);
    assert_int_equal(ic.redis.block_ms, 2000);
    assert_int_equal(ic.redis.claim_idle_ms, 30000);
    assert_int_equal(ic.redis.max_in_flight, 64);
    assert_int_equal(ic.redis.dead_warn, 10000);
    assert_int_equal(ic.elasticsearch.hosts.n, 1);
    assert_string_equal(ic.elasticsearch.hosts.v[0], "http://127.0.0.1:9200");
    assert_string_equal(ic.elasticsearch.index, "sluice-%{+yyyy.MM.dd}");
    assert_string_equal(ic.elasticsearch.username, "elastic");
    assert_string_equal(ic.elasticsearch.password, "changeme");
    assert_null(ic.elasticsearch.api_key);
    assert_null(ic.elasticsearch.ca_file); /* added with https:// */
    assert_string_equal(ic.kibana.url, "http://127.0.0.1:5601");
    assert_string_equal(ic.http.listen, "127.0.0.1:5067");
    assert_int_equal(ic.log.level, SL_LOG_INFO);
    assert_int_equal(ic.log.format, SL_LOG_JSON);
    indexer_config_release(&ic);
    sl_config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct sl_config *c = load("{}");
    struct indexer_config ic;
    struct sl_err err = {0};
    if (indexer_config_read(&ic, sl_config_root(c), &err) < 0)
        fail_msg("%s", err.msg);
    char host[SL_HOSTNAME_MAX];
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(ic.redis.url, "redis://127.0.0.1:6379/0");
    assert_string_equal(ic.redis.key, "sluice:events");
    assert_string_equal(ic.redis.group, "sluice");
    assert_string_equal(ic.redis.consumer, host);
    assert_string_equal(ic.redis.dead_key, "sluice:dead");
    assert_int_equal(ic.elasticsearch.hosts.n, 1);
    assert_string_equal(ic.elasticsearch.hosts.v[0], "http://127.0.0.1:9200");
    assert_string_equal(ic.elasticsearch.index, "sluice-%{+yyyy.MM.dd}");
    assert_string_equal(ic.elasticsearch.index_fallback, "unknown");
    assert_string_equal(ic.elasticsearch.template_name, "sluice");
    assert_int_equal(ic.elasticsearch.retention_days, 0);
    assert_null(ic.elasticsearch.username);
    assert_null(ic.elasticsearch.password);
    assert_null(ic.elasticsearch.ca_file);
    assert_null(ic.kibana.url);
    assert_null(ic.http.listen);
    assert_int_equal(ic.log.format, SL_LOG_TEXT);
    indexer_config_release(&ic);
    sl_config_free(c);
    /* List mode reads where Logstash's shippers write; one host as a
     * string; an api_key alone. */
    c = load("{\"redis\": {\"mode\": \"list\"}, \"elasticsearch\": "
             "{\"hosts\": \"https://es:9200\", \"api_key\": \"k\"}}");
    assert_int_equal(indexer_config_read(&ic, sl_config_root(c), &err), 0);
    assert_string_equal(ic.redis.key, "logstash");
    assert_int_equal(ic.redis.read_count, 256);
    assert_int_equal(ic.redis.max_in_flight, 8192);
    assert_int_equal(ic.elasticsearch.hosts.n, 1);
    assert_string_equal(ic.elasticsearch.hosts.v[0], "https://es:9200");
    assert_string_equal(ic.elasticsearch.api_key, "k");
    indexer_config_release(&ic);
    sl_config_free(c);
}

static void test_hosts(void **state)
{
    (void)state;
    assert_fails("{\"elasticsearch\": {\"hosts\": []}}",
                 "indexer.json:1:29: elasticsearch.hosts: found 0 elements, "
                 "expected a list of strings (at least 1)");
    assert_fails("{\"elasticsearch\": {\"hosts\": [\"http://a:9200\", "
                 "\"a:9200\"]}}",
                 "indexer.json:1:47: elasticsearch.hosts[1]: found a string "
                 "\"a:9200\", expected a URL starting with \"http://\" or "
                 "\"https://\" (such as \"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"hosts\": \"es:9200\"}}",
                 "indexer.json:1:29: elasticsearch.hosts: found a string "
                 "\"es:9200\", expected a URL starting with \"http://\" or "
                 "\"https://\" (such as \"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"host\": [\"http://a:9200\"]}}",
                 "indexer.json:1:20: elasticsearch: unknown key 'host' (did "
                 "you mean 'hosts'?)");
}

static void test_credentials(void **state)
{
    (void)state;
    setenv("ES_PASSWORD", "changeme", 1);
    assert_fails("{\"elasticsearch\": {\"password\": \"${ES_PASSWORD}\"}}",
                 "indexer.json:1:32: elasticsearch.password: found password "
                 "without username, expected both or neither");
    assert_fails("{\"elasticsearch\": {\"username\": \"elastic\"}}",
                 "indexer.json:1:32: elasticsearch.username: found username "
                 "without password, expected both or neither");
    assert_fails("{\"elasticsearch\": {\"api_key\": \"k\", \"username\": "
                 "\"u\", \"password\": \"p\"}}",
                 "indexer.json:1:31: elasticsearch.api_key: found both "
                 "api_key and username/password, expected one way to log "
                 "in");
    /* A secret of the wrong type: its type, never its value. */
    assert_fails("{\"elasticsearch\": {\"username\": \"u\", \"password\": "
                 "123456}}",
                 "indexer.json:1:49: elasticsearch.password: found an "
                 "integer, expected a string");
}

/* The bulk sender's keys: defaults, a file's values, the one rule between
 * them, and es_sender_config_from. */
static void test_sender_keys(void **state)
{
    (void)state;
    struct sl_config *c = load("{}");
    struct indexer_config ic;
    struct es_sender_config sc;
    struct sl_err err = {0};

    assert_int_equal(indexer_config_read(&ic, sl_config_root(c), &err), 0);
    assert_true(ic.elasticsearch.tls_verify);
    assert_false(ic.elasticsearch.gzip);
    assert_int_equal(ic.elasticsearch.flush_bytes, 5 << 20);
    assert_int_equal(ic.elasticsearch.flush_count, 5000);
    assert_int_equal(ic.elasticsearch.flush_age_ms, 1000);
    assert_int_equal(ic.elasticsearch.max_in_flight, 3);
    assert_int_equal(ic.elasticsearch.request_timeout_ms, 60000);
    assert_int_equal(ic.elasticsearch.retry_min_ms, 100);
    assert_int_equal(ic.elasticsearch.retry_max_ms, 30000);
    indexer_config_release(&ic);
    sl_config_free(c);

    c = load("{\"elasticsearch\": {\"hosts\": [\"https://a:9200\", "
             "\"https://b:9200\"], \"flush_bytes\": \"1MiB\", "
             "\"flush_count\": 10, \"flush_age\": \"250ms\", "
             "\"max_in_flight\": 8, \"request_timeout\": \"5s\", "
             "\"retry_min\": \"1s\", \"retry_max\": \"2s\", \"gzip\": true, "
             "\"tls_verify\": false, \"ca_file\": \"/ca.pem\"}}");
    assert_int_equal(indexer_config_read(&ic, sl_config_root(c), &err), 0);
    es_sender_config_from(&sc, &ic.elasticsearch);
    assert_int_equal(sc.nhosts, 2);
    assert_string_equal(sc.hosts[1], "https://b:9200");
    assert_int_equal(sc.flush_bytes, 1 << 20);
    assert_int_equal(sc.flush_count, 10);
    assert_int_equal(sc.flush_age_ms, 250);
    assert_int_equal(sc.max_in_flight, 8);
    assert_int_equal(sc.request_timeout_ms, 5000);
    assert_int_equal(sc.retry_min_ms, 1000);
    assert_int_equal(sc.retry_max_ms, 2000);
    assert_true(sc.gzip);
    assert_false(sc.tls_verify);
    assert_string_equal(sc.ca_file, "/ca.pem");
    assert_null(sc.on_outcome);
    indexer_config_release(&ic);
    sl_config_free(c);

    assert_fails("{\"elasticsearch\": {\"retry_min\": \"1m\"}}",
                 "indexer.json:1:33: elasticsearch.retry_min: found "
                 "retry_max 30000 ms below retry_min 60000 ms, expected "
                 "retry_max at least retry_min");
    assert_fails("{\"elasticsearch\": {\"max_in_flight\": 65}}",
                 "indexer.json:1:37: elasticsearch.max_in_flight: found an "
                 "integer 65, expected an integer from 1 to 64");
}

/* The index pattern is compiled when the config is read, so its errors
 * come with their place; retention needs names it can read back. */
static void test_index_pattern(void **state)
{
    (void)state;
    assert_fails("{\"elasticsearch\": {\"index\": \"Logs-%{+yyyy}\"}}",
                 "indexer.json:1:29: elasticsearch.index: 'L' at byte 1 of "
                 "the pattern: index names are lower case; see the README's "
                 "\"Index names\"");
    assert_fails("{\"elasticsearch\": {\"index_fallback\": \"N/A\"}}",
                 "indexer.json:1:38: elasticsearch.index_fallback: fallback "
                 "\"N/A\": expected a-z 0-9 . _ - only, not starting with . _ "
                 "-");
    assert_fails("{\"elasticsearch\": {\"index\": \"logs-%{+HH}\", "
                 "\"retention_days\": 7}}",
                 "indexer.json:1:62: elasticsearch.retention_days: retention "
                 "needs an index pattern that starts with text and has a full "
                 "date, such as \"sluice-%{+yyyy.MM.dd}\"; \"logs-%{+HH}\" "
                 "has no full date");
    assert_fails("{\"elasticsearch\": {\"index\": \"%{a}-%{+yyyy.MM.dd}\", "
                 "\"retention_days\": 7}}",
                 "indexer.json:1:70: elasticsearch.retention_days: retention "
                 "needs an index pattern that starts with text and has a full "
                 "date, such as \"sluice-%{+yyyy.MM.dd}\"; "
                 "\"%{a}-%{+yyyy.MM.dd}\" has no text first");
    assert_fails("{\"elasticsearch\": {\"retention_days\": -1}}",
                 "indexer.json:1:38: elasticsearch.retention_days: found an "
                 "integer -1, expected an integer from 0 to 36500");
    assert_fails("{\"elasticsearch\": {\"template_name\": \"\"}}",
                 "indexer.json:1:37: elasticsearch.template_name: found a "
                 "string \"\", expected a string that is not empty");
    struct sl_config *c =
        load("{\"elasticsearch\": {\"index\": \"s-%{[service][name]}-%{+xxxx."
             "ww}\", \"index_fallback\": \"none\", \"retention_days\": 30, "
             "\"template_name\": \"mine\"}}");
    struct indexer_config ic;
    struct sl_err err = {0};
    if (indexer_config_read(&ic, sl_config_root(c), &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(ic.elasticsearch.index_fallback, "none");
    assert_string_equal(ic.elasticsearch.template_name, "mine");
    assert_int_equal(ic.elasticsearch.retention_days, 30);
    indexer_config_release(&ic);
    sl_config_free(c);
}

static void test_other_sections(void **state)
{
    (void)state;
    assert_fails("{\"kibana\": {}}",
                 "indexer.json:1:12: kibana: missing required key 'url'");
    assert_fails("{\"kibana\": {\"url\": \"localhost:5601\"}}",
                 "indexer.json:1:20: kibana.url: found a string "
                 "\"localhost:5601\", expected a URL starting with "
                 "\"http://\" or \"https://\" (such as "
                 "\"http://127.0.0.1:5601\")");
    assert_fails("{\"redis\": {\"read_count\": 0}}",
                 "indexer.json:1:26: redis.read_count: found an integer 0, "
                 "expected an integer from 1 to 100000");
    assert_fails("{\"redis\": {\"claim_idle\": \"500ms\"}}",
                 "indexer.json:1:26: redis.claim_idle: found a string "
                 "\"500ms\", expected a duration from 1s to 1d (such as "
                 "\"250ms\", \"5s\", \"2m\", \"1h\" or a number of seconds)");
    assert_fails("{\"redis\": {\"group\": \"\"}}",
                 "indexer.json:1:21: redis.group: found a string \"\", "
                 "expected a string that is not empty");
    assert_fails("{\"redis\": {\"url\": \"redis:/x\"}}",
                 "indexer.json:1:19: redis.url: redis url 'redis:/x': "
                 "expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
                 "unix://[[USER]:PASSWORD@]/PATH[?db=DB]");
    assert_fails("{\"redis\": {\"url\": \"rediss://u:pw@es:6380\"}}",
                 "indexer.json:1:19: redis.url: redis url "
                 "'rediss://u:***@es:6380': TLS (rediss://) is not supported "
                 "(hiredis 0.14 has none); use redis:// through a TLS tunnel "
                 "such as stunnel");
}

/* What `run` would refuse or loop on, `check` refuses: the dead letters
 * in the key read (each would be read back as a bad entry and written
 * again, without end: 147,804 letters in 5 s before this check), and an
 * http.listen the endpoint cannot bind (run exited 1, check said 0). */
static void test_refused_before_run(void **state)
{
    (void)state;
    assert_fails("{\"redis\": {\"dead_key\": \"sluice:events\"}}",
                 "indexer.json:1:24: redis.dead_key: found \"sluice:events\" "
                 "for both key and dead_key, expected two keys: dead letters "
                 "written to the key read would be read again");
    assert_fails("{\"redis\": {\"mode\": \"list\", \"key\": \"sluice:dead\"}}",
                 "indexer.json:1:35: redis.key: found \"sluice:dead\" for "
                 "both key and dead_key, expected two keys: dead letters "
                 "written to the key read would be read again");
    assert_fails(
        "{\"elasticsearch\": {\"hosts\": [\"http://\"]}}",
        "indexer.json:1:30: elasticsearch.hosts[0]: found a string "
        "\"http://\", expected a URL with a host name after "
        "\"http://\" and no blanks (such as \"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"hosts\": \"https://es 1:9200\"}}",
                 "indexer.json:1:29: elasticsearch.hosts: found a string "
                 "\"https://es 1:9200\", expected a URL with a host name "
                 "after \"https://\" and no blanks (such as "
                 "\"http://127.0.0.1:9200\")");
    assert_fails(
        "{\"kibana\": {\"url\": \"http://:5601\"}}",
        "indexer.json:1:20: kibana.url: found a string "
        "\"http://:5601\", expected a URL with a host name after "
        "\"http://\" and no blanks (such as \"http://127.0.0.1:5601\")");
    assert_fails("{\"http\": {\"listen\": \"5067\"}}",
                 "indexer.json:1:21: http.listen: metrics address '5067' is "
                 "not HOST:PORT; write 127.0.0.1:9600, [::1]:9600 or "
                 "localhost:9600");
    assert_fails("{\"http\": {\"listen\": \"0.0.0.0:5067\"}}",
                 "indexer.json:1:21: http.listen: metrics address "
                 "'0.0.0.0:5067' is not a loopback address, and the counters "
                 "are not meant to be public; listen on 127.0.0.1, [::1] or "
                 "localhost");
    assert_fails("{\"http\": {\"listen\": \"127.0.0.1:65536\"}}",
                 "indexer.json:1:21: http.listen: metrics address "
                 "'127.0.0.1:65536': port '65536' is not a number from 0 to "
                 "65535");
}

/* A host's port is 1 to 65535: curl refused "http://es:99999" at each
 * request, so `check` passed and `run` retried every batch for ever. The
 * message shows the port only (the URL may hold a password). */
static void test_host_ports(void **state)
{
    (void)state;
    assert_fails("{\"elasticsearch\": {\"hosts\": [\"http://es:99999\"]}}",
                 "indexer.json:1:30: elasticsearch.hosts[0]: found the port "
                 "\"99999\", expected a port from 1 to 65535 (such as "
                 "\"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"hosts\": [\"http://a:9200\", "
                 "\"https://u:s3cret@es:92OO/\"]}}",
                 "indexer.json:1:47: elasticsearch.hosts[1]: found the port "
                 "\"92OO\", expected a port from 1 to 65535 (such as "
                 "\"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"hosts\": \"http://[::1]:0\"}}",
                 "indexer.json:1:29: elasticsearch.hosts: found the port "
                 "\"0\", expected a port from 1 to 65535 (such as "
                 "\"http://127.0.0.1:9200\")");
    assert_fails("{\"elasticsearch\": {\"hosts\": [\"http://es:\"]}}",
                 "indexer.json:1:30: elasticsearch.hosts[0]: found the port "
                 "\"\", expected a port from 1 to 65535 (such as "
                 "\"http://127.0.0.1:9200\")");
    const char *good[] = {"http://es", "https://es:443/prefix?x=1",
                          "http://u:p@es:9200", "http://[::1]:65535",
                          "http://[fe80::1]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        snprintf(text, sizeof text,
                 "{\"elasticsearch\": {\"hosts\": [\"%s\"]}}", good[i]);
        struct sl_config *c = load(text);
        struct indexer_config ic;
        struct sl_err err = {0};
        if (indexer_config_read(&ic, sl_config_root(c), &err) < 0)
            fail_msg("%s: %s", good[i], err.msg);
        indexer_config_release(&ic);
        sl_config_free(c);
    }
}

/* An api_key as Logstash's elasticsearch output takes it, "id:api_key",
 * is sent as Elasticsearch needs it, base64 (the example of its create
 * API key docs); the encoded form and any other string as they are. It
 * was sent as it was: 401 at every request. */
static void test_api_key_as_logstash_takes_it(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw",
         "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
        {"VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
         "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="},
        {"a:b", "YTpi"},
        {"ab:c", "YWI6Yw=="},
        {"ab:cd", "YWI6Y2Q="}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"elasticsearch\": {\"api_key\": \"%s\"}}", cases[i][0]);
        struct sl_config *c = load(text);
        struct indexer_config ic;
        struct sl_err err = {0};
        assert_int_equal(indexer_config_read(&ic, sl_config_root(c), &err), 0);
        assert_string_equal(ic.elasticsearch.api_key, cases[i][1]);
        struct es_sender_config sc;
        es_sender_config_from(&sc, &ic.elasticsearch);
        assert_string_equal(sc.api_key, cases[i][1]);
        indexer_config_release(&ic);
        sl_config_free(c);
    }
    char text[1200];
    snprintf(text, sizeof text,
             "{\"elasticsearch\": {\"api_key\": \"i:%0800d\"}}", 0);
    assert_fails(text, "indexer.json:1:31: elasticsearch.api_key: found an "
                       "\"id:api_key\" of 802 bytes, expected at most 765");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_sender_keys),
        cmocka_unit_test(test_index_pattern),
        cmocka_unit_test(test_other_sections),
        cmocka_unit_test(test_refused_before_run),
        cmocka_unit_test(test_host_ports),
        cmocka_unit_test(test_api_key_as_logstash_takes_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
