/* test_shipper_config.c: shipper.json through its tables: the example in
 * conf/ loads, `{}`-like files get the documented defaults, and each kind
 * of bad value gets its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "output.h"
#include "shipper_config.h"

static struct sl_config *load(const char *text)
{
    struct sl_err err = {0};
    struct sl_config *c =
        sl_config_load_buffer("shipper.json", text, strlen(text), &err);
    if (c == NULL)
        fail_msg("load failed: %s", err.msg);
    return c;
}

static void assert_fails(const char *text, const char *msg)
{
    struct sl_config *c = load(text);
    struct shipper_config sc;
    struct sl_err err = {0};
    assert_int_equal(shipper_config_read(&sc, sl_config_root(c), &err), -1);
    assert_string_equal(err.msg, msg);
    shipper_config_release(&sc);
    sl_config_free(c);
}

static void test_table_is_consistent(void **state)
{
    (void)state;
    struct sl_err err = {0};
    if (sl_config_table_verify(&shipper_config_table, &err) < 0)
        fail_msg("%s", err.msg);
}

static void test_example_file(void **state)
{
    (void)state;
    setenv("REDIS_PASSWORD", "pw", 1);
    struct sl_err err = {0};
    struct sl_config *c =
        sl_config_load_file(SLUICE_SOURCE_DIR "/conf/shipper.json", &err);
    if (c == NULL)
        fail_msg("%s", err.msg);
    struct shipper_config sc;
    if (shipper_config_read(&sc, sl_config_root(c), &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(sc.host.name, "web-1");
    assert_string_equal(sc.data_dir, "/var/lib/sluice-shipper");
    assert_int_equal(sl_config_len(sc.inputs), 1);
    assert_true(sc.output.has_redis);
    assert_null(sc.output.stdout_node);
    assert_string_equal(sc.output.redis.url, "redis://:pw@127.0.0.1:6379/0");
    assert_int_equal(sc.output.redis.mode, SL_REDIS_STREAM);
    assert_string_equal(sc.output.redis.key, "sluice:events");
    /* its one input has grok: auto chooses columnar */
    assert_int_equal(sc.output.redis.codec, SL_CODEC_COLUMNAR);
    assert_true(sc.output.redis.codec_auto);
    assert_string_equal(sc.http.listen, "127.0.0.1:5066");
    assert_int_equal(sc.log.level, SL_LOG_INFO);
    assert_int_equal(sc.log.format, SL_LOG_TEXT);
    shipper_config_release(&sc);
    sl_config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct sl_config *c = load("{\"inputs\": [{\"type\": \"stdin\"}],"
                               " \"output\": {\"redis\": {}}}");
    struct shipper_config sc;
    struct sl_err err = {0};
    if (shipper_config_read(&sc, sl_config_root(c), &err) < 0)
        fail_msg("%s", err.msg);
    char host[SL_HOSTNAME_MAX];
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(sc.host.name, host);
    assert_string_equal(sc.data_dir, "/var/lib/sluice-shipper");
    assert_string_equal(sc.output.redis.url, "redis://127.0.0.1:6379/0");
    assert_int_equal(sc.output.redis.mode, SL_REDIS_STREAM);
    assert_string_equal(sc.output.redis.key, "sluice:events");
    assert_int_equal(sc.output.redis.batch_events, 2000);
    assert_int_equal(sc.output.redis.batch_bytes, 2 << 20);
    assert_int_equal(sc.output.redis.batch_age_ms, 1000);
    /* auto, and stdin has no grok */
    assert_int_equal(sc.output.redis.codec, SL_CODEC_LZ4);
    assert_true(sc.output.redis.codec_auto);
    assert_int_equal(sc.output.redis.codec_no_grok, 0);
    assert_int_equal(sc.output.redis.max_in_flight, 4);
    assert_int_equal(sc.output.redis.command_timeout_ms, 10000);
    assert_int_equal(sc.output.redis.max_pending, 2000);
    assert_int_equal(sc.output.redis.max_pending_bytes, 0);
    struct output_config oc;
    output_config_from(&oc, &sc);
    assert_int_equal(oc.kind, OUTPUT_REDIS_STREAM);
    assert_string_equal(oc.url, "redis://127.0.0.1:6379/0");
    assert_string_equal(oc.key, "sluice:events");
    assert_string_equal(oc.host, host);
    assert_int_equal(oc.batch_events, 2000);
    assert_int_equal(oc.max_pending, 2000);
    assert_null(sc.http.listen);
    assert_int_equal(sc.log.level, SL_LOG_INFO);
    assert_int_equal(sc.log.format, SL_LOG_TEXT);
    shipper_config_release(&sc);
    sl_config_free(c);
    /* List mode writes where Logstash's redis input reads. */
    c = load("{\"inputs\": [{}], \"output\": {\"redis\": {\"mode\": "
             "\"list\"}}}");
    assert_int_equal(shipper_config_read(&sc, sl_config_root(c), &err), 0);
    assert_int_equal(sc.output.redis.mode, SL_REDIS_LIST);
    assert_string_equal(sc.output.redis.key, "logstash");
    assert_int_equal(sc.output.redis.max_pending, 1000000);
    shipper_config_release(&sc);
    sl_config_free(c);
    /* Every output key, and an explicit 0 that is not the default */
    c = load("{\"inputs\": [{}], \"output\": {\"redis\": {\"mode\": "
             "\"list\", \"batch_events\": 10, \"batch_bytes\": \"64KiB\", "
             "\"batch_age\": \"250ms\", \"codec\": \"zstd\", "
             "\"max_in_flight\": 2, \"command_timeout\": \"3s\", "
             "\"max_pending\": 0, \"max_pending_bytes\": \"1GiB\"}}}");
    assert_int_equal(shipper_config_read(&sc, sl_config_root(c), &err), 0);
    output_config_from(&oc, &sc);
    assert_int_equal(oc.kind, OUTPUT_REDIS_LIST);
    assert_int_equal(oc.batch_events, 10);
    assert_int_equal(oc.batch_bytes, 65536);
    assert_int_equal(oc.batch_age_ms, 250);
    assert_int_equal(oc.codec, SL_CODEC_ZSTD);
    assert_int_equal(oc.max_in_flight, 2);
    assert_int_equal(oc.command_timeout_ms, 3000);
    assert_int_equal(oc.max_pending, 0);
    assert_int_equal(oc.max_pending_bytes, 1LL << 30);
    shipper_config_release(&sc);
    sl_config_free(c);
    c = load("{\"inputs\": [{}], \"output\": {\"stdout\": {}}}");
    assert_int_equal(shipper_config_read(&sc, sl_config_root(c), &err), 0);
    assert_false(sc.output.has_redis);
    assert_non_null(sc.output.stdout_node);
    output_config_from(&oc, &sc);
    assert_int_equal(oc.kind, OUTPUT_STDOUT);
    assert_int_equal(oc.fd, 1);
    shipper_config_release(&sc);
    sl_config_free(c);
}

/* The codec a config gets: auto -> (codec, index of the first input
 * without grok, or the number of inputs); an explicit one as given. */
static void expect_codec(const char *inputs, const char *codec, int want,
                         bool is_auto, size_t no_grok)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"inputs\": %s, \"output\": {\"redis\": {%s}}}", inputs, codec);
    struct sl_config *c = load(json);
    struct shipper_config sc;
    struct sl_err err = {0};
    if (shipper_config_read(&sc, sl_config_root(c), &err) < 0)
        fail_msg("%s: %s", json, err.msg);
    struct output_config oc;
    output_config_from(&oc, &sc);
    if ((int)oc.codec != want || sc.output.redis.codec_auto != is_auto ||
        (is_auto && sc.output.redis.codec_no_grok != no_grok))
        fail_msg("%s: codec %d auto %d no_grok %zu", json, (int)oc.codec,
                 sc.output.redis.codec_auto, sc.output.redis.codec_no_grok);
    shipper_config_release(&sc);
    sl_config_free(c);
}

static void test_codec_auto(void **state)
{
    (void)state;
    const char *grok = "{\"grok\": {\"patterns\": [\"%{WORD:w}\"]}}";
    const char *date = "{\"date\": {\"field\": \"t\"}}";
    const char *json = "{\"json\": {}}";
    char a[512], b[512], ab[1100];
    /* grok anywhere in the list, under a `when` or not, in every input */
    snprintf(a, sizeof a, "{\"processors\": [%s, %s]}", grok, date);
    snprintf(b, sizeof b,
             "{\"type\": \"stdin\", \"processors\": [%s, "
             "{\"grok\": {\"patterns\": [\"%%{WORD:w}\"], \"when\": "
             "{\"has_fields\": [\"message\"]}}}]}",
             json);
    snprintf(ab, sizeof ab, "[%s, %s]", a, b);
    expect_codec(ab, "", SL_CODEC_COLUMNAR, true, 2);
    expect_codec(ab, "\"codec\": \"auto\"", SL_CODEC_COLUMNAR, true, 2);
    /* one input without grok: lz4, naming it */
    snprintf(b, sizeof b, "{\"processors\": [%s, %s]}", json, date);
    snprintf(ab, sizeof ab, "[%s, %s]", a, b);
    expect_codec(ab, "", SL_CODEC_LZ4, true, 1);
    expect_codec("[{}]", "", SL_CODEC_LZ4, true, 0);
    expect_codec("[{\"processors\": []}]", "", SL_CODEC_LZ4, true, 0);
    /* an explicit codec is kept, grok or not */
    snprintf(ab, sizeof ab, "[%s]", a);
    expect_codec(ab, "\"codec\": \"lz4\"", SL_CODEC_LZ4, false, 0);
    expect_codec(ab, "\"codec\": \"none\"", SL_CODEC_NONE, false, 0);
    expect_codec("[{}]", "\"codec\": \"columnar\"", SL_CODEC_COLUMNAR, false,
                 0);
    expect_codec("[{}]", "\"codec\": \"zstd\"", SL_CODEC_ZSTD, false, 0);
}

static void test_required(void **state)
{
    (void)state;
    assert_fails("{\"output\": {\"stdout\": {}}}",
                 "shipper.json:1:1: missing required key 'inputs'");
    assert_fails("{\"inputs\": [{}]}",
                 "shipper.json:1:1: missing required key 'output'");
    assert_fails("{\"inputs\": [], \"output\": {\"stdout\": {}}}",
                 "shipper.json:1:12: inputs: found an array, expected at "
                 "least one input");
    assert_fails("{\"inputs\": {}, \"output\": {\"stdout\": {}}}",
                 "shipper.json:1:12: inputs: found an object, expected an "
                 "array");
    assert_fails("{\"inputs\": [{}],\n \"http\": {}, \"output\": {\"stdout\": "
                 "{}}}",
                 "shipper.json:2:10: http: missing required key 'listen'");
}

static void test_output_rules(void **state)
{
    (void)state;
    assert_fails("{\"inputs\": [{}], \"output\": {}}",
                 "shipper.json:1:28: output: found no output, expected one "
                 "of 'redis' or 'stdout'");
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {},"
                 " \"stdout\": {}}}",
                 "shipper.json:1:28: output: found both 'redis' and "
                 "'stdout', expected one of them");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": {\"pretty\": "
                 "true}}}",
                 "shipper.json:1:40: output.stdout: unknown key 'pretty' "
                 "(this object takes no keys)");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": true}}",
                 "shipper.json:1:39: output.stdout: found a boolean true, "
                 "expected an object");
    assert_fails("{\"inputs\": [{}], \"output\": {\"kafka\": {}}}",
                 "shipper.json:1:29: output: unknown key 'kafka' (known "
                 "keys: 'redis', 'stdout')");
}

static void test_bad_values(void **state)
{
    (void)state;
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {\"mode\": "
                 "\"streem\"}}}",
                 "shipper.json:1:47: output.redis.mode: found a string "
                 "\"streem\", expected one of \"stream\", \"list\" (did you "
                 "mean \"stream\"?)");
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {\"url\": "
                 "\"127.0.0.1:6379\"}}}",
                 "shipper.json:1:46: output.redis.url: redis url "
                 "'127.0.0.1:6379': expected "
                 "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or "
                 "unix://[[USER]:PASSWORD@]/PATH[?db=DB]");
    /* The URL is checked whole, as the client will read it, and the
     * password (often from ${REDIS_PASSWORD}) never shows. */
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {\"url\": "
                 "\"redis://:s3cret@127.0.0.1:70000/0\"}}}",
                 "shipper.json:1:46: output.redis.url: redis url "
                 "'redis://:***@127.0.0.1:70000/0': port '70000' is not a "
                 "number from 1 to 65535");
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {\"codec\": "
                 "\"lz5\"}}}",
                 "shipper.json:1:48: output.redis.codec: found a string "
                 "\"lz5\", expected one of \"none\", \"lz4\", \"zstd\", "
                 "\"columnar\", \"auto\" (did you mean \"lz4\"?)");
    assert_fails(
        "{\"inputs\": [{}], \"output\": {\"redis\": "
        "{\"max_in_flight\": 0}}}",
        "shipper.json:1:56: output.redis.max_in_flight: found an integer 0, "
        "expected an integer from 1 to 64");
    assert_fails("{\"inputs\": [{}], \"output\": {\"redis\": {\"key\": \"\"}}}",
                 "shipper.json:1:46: output.redis.key: found a string \"\", "
                 "expected a key that is not empty");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": {}},"
                 " \"host\": {\"name\": \"\"}}",
                 "shipper.json:1:61: host.name: found a string \"\", expected "
                 "a name that is not empty");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": {}},"
                 " \"data_dirr\": \"/tmp\"}",
                 "shipper.json:1:44: unknown key 'data_dirr' (did you mean "
                 "'data_dir'?)");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": {}},"
                 " \"log\": {\"level\": \"verbose\"}}",
                 "shipper.json:1:61: log.level: found a string \"verbose\", "
                 "expected one of \"error\", \"warn\", \"info\", \"debug\"");
    assert_fails("{\"inputs\": [{}], \"output\": {\"stdout\": {}},"
                 " \"log\": {\"format\": \"jsno\"}}",
                 "shipper.json:1:62: log.format: found a string \"jsno\", "
                 "expected one of \"text\", \"json\" (did you mean "
                 "\"json\"?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_codec_auto),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_output_rules),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
