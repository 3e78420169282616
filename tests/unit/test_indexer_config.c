/* test_indexer_config.c: indexer.json through its tables: the example in
 * conf/ loads, `{}` is a working config with the documented defaults, and
 * each kind of bad value gets its exact message; a secret never shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

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
    assert_int_equal(ic.redis.claim_idle_ms, 120000);
    assert_int_equal(ic.redis.max_in_flight, 64);
    assert_int_equal(ic.redis.dead_warn, 10000);
    assert_int_equal(ic.elasticsearch.hosts.n, 1);
    assert_string_equal(ic.elasticsearch.hosts.v[0], "http://127.0.0.1:9200");
    assert_string_equal(ic.elasticsearch.index, "sluice-%{+yyyy.MM.dd}");
    assert_string_equal(ic.elasticsearch.username, "elastic");
    assert_string_equal(ic.elasticsearch.password, "changeme");
    assert_null(ic.elasticsearch.api_key);
    assert_string_equal(ic.elasticsearch.ca_file, "/etc/ssl/es-ca.pem");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_other_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
