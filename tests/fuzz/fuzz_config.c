/* fuzz_config.c: loads any bytes as a config and, when they load, walks
 * every node through every getter. Findings are crashes, leaks and UB, not
 * error messages. Inputs are bounded to 64 KiB so the loader's own limits
 * (16 MiB) are not what the fuzzer spends its time on. ${VAR} references
 * meet a fixed environment, set once. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sl_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = {"text", "json", "path", "port", NULL};

static void visit(const struct sl_config_node *n)
{
    struct sl_err err;
    const char *s;
    long long v;
    double d;
    bool b;
    int e;
    const struct sl_config_node *sub;
    char path[256];
    sl_config_path(n, path, sizeof path);
    (void)sl_config_string(n, NULL, NULL, &s, &err);
    (void)sl_config_int(n, NULL, 0, 1, 65535, &v, &err);
    (void)sl_config_int(n, NULL, 0, LLONG_MIN, LLONG_MAX, &v, &err);
    (void)sl_config_double(n, NULL, 0, -1e9, 1e9, &d, &err);
    (void)sl_config_bool(n, NULL, false, &b, &err);
    (void)sl_config_duration_ms(n, NULL, 0, 0, LLONG_MAX, &v, &err);
    (void)sl_config_bytes(n, NULL, 0, 1024, 1LL << 40, &v, &err);
    (void)sl_config_enum(n, NULL, words, 0, &e, &err);
    (void)sl_config_array(n, NULL, &sub, &err);
    (void)sl_config_object(n, NULL, &sub, &err);
    (void)sl_config_check_keys(n, words, &err);
    (void)sl_config_int(n, "port", 0, 1, 65535, &v, &err);
    (void)sl_config_require(n, "path", &err);
    (void)sl_config_error_expected(n, &err, "anything");
    for (size_t i = 0; i < sl_config_len(n); i++)
        visit(sl_config_at(n, i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool env_set;
    if (!env_set) {
        setenv("FUZZ_HOST", "localhost", 1);
        setenv("FUZZ_PORT", "6379", 1);
        setenv("FUZZ_EMPTY", "", 1);
        env_set = true;
    }
    if (size > 64 * 1024)
        return 0;
    struct sl_err err;
    struct sl_config *c =
        sl_config_load_buffer("fuzz.json", (const char *)data, size, &err);
    if (c != NULL)
        visit(sl_config_root(c));
    sl_config_free(c);
    return 0;
}
