/* fuzz_config.c: loads any bytes as a config and, when they load, walks
 * every node through every getter, fills a table of every option type from
 * every node (sl_config_table.c), and reads the root as shipper.json and as
 * indexer.json through their real tables. Findings are crashes, leaks and
 * UB, not error messages. Inputs are bounded to 64 KiB so the loader's own
 * limits (16 MiB) are not what the fuzzer spends its time on. ${VAR}
 * references meet a fixed environment, set once. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "indexer_config.h"
#include "shipper_config.h"
#include "sl_config.h"
#include "sl_config_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = {"text", "json", "path", "port", NULL};

struct item {
    const char *name;
    long long weight;
    struct sl_opt_strings tags;
};

struct all {
    bool flag, has_item;
    long long count, size, interval;
    const char *name, *secret;
    int word;
    struct sl_opt_strings list;
    struct item item;
    struct sl_opt_objects items;
    const struct sl_config_node *raw;
};

#define ITEM(m) SL_OPT_FIELD(struct item, m)
static const struct sl_opt item_opts[] = {
    {"path", SL_OPT_STRING, ITEM(name), .flags = SL_OPT_REQUIRED, .help = "h"},
    {"port", SL_OPT_INT, ITEM(weight), .def = "1", .min = 1, .max = 65535,
     .help = "h"},
    {"json", SL_OPT_STRINGS, ITEM(tags), .min = 1, .max = 4, .help = "h"},
    SL_OPT_END};
static const struct sl_config_table item_table = {"item", sizeof(struct item),
                                                  item_opts, NULL};

#define ALL(m) SL_OPT_FIELD(struct all, m)
static const struct sl_opt all_opts[] = {
    {"text", SL_OPT_BOOL, ALL(flag), .def = "true", .help = "h"},
    {"port", SL_OPT_INT, ALL(count), .def = "10", .min = 1, .max = 65535,
     .help = "h"},
    {"size", SL_OPT_SIZE, ALL(size), .def = "1MiB", .min = 1024,
     .max = 1LL << 30, .help = "h"},
    {"wait", SL_OPT_DURATION, ALL(interval), .def = "500ms", .help = "h"},
    {"path", SL_OPT_STRING, ALL(name), .def = "x", .help = "h"},
    {"key", SL_OPT_STRING, ALL(secret), .flags = SL_OPT_SECRET, .help = "h"},
    {"json", SL_OPT_ENUM, ALL(word), .def = "text", .words = words,
     .help = "h"},
    {"list", SL_OPT_STRINGS, ALL(list), .def = "a", .help = "h"},
    {"item", SL_OPT_OBJECT, ALL(item), .sub = &item_table,
     .present = SL_OPT_PRESENT(struct all, has_item), .help = "h"},
    {"items", SL_OPT_OBJECTS, ALL(items), .sub = &item_table, .max = 100,
     .help = "h"},
    {"raw", SL_OPT_RAW, ALL(raw), .help = "h"},
    SL_OPT_END};
static const struct sl_config_table all_table = {"all", sizeof(struct all),
                                                 all_opts, NULL};

static void read_root(const struct sl_config_node *root)
{
    struct sl_err err;
    struct shipper_config sc;
    struct indexer_config ic;
    SL_IGNORE_RESULT(shipper_config_read(&sc, root, &err));
    shipper_config_release(&sc);
    SL_IGNORE_RESULT(indexer_config_read(&ic, root, &err));
    indexer_config_release(&ic);
}

static void visit(const struct sl_config_node *n)
{
    struct all a;
    struct sl_err table_err;
    SL_IGNORE_RESULT(sl_config_table_fill(&all_table, n, &a, &table_err));
    sl_config_table_release(&all_table, &a);

    struct sl_err err;
    const char *s;
    long long v;
    double d;
    bool b;
    int e;
    const struct sl_config_node *sub;
    char path[256];
    sl_config_path(n, path, sizeof path);
    SL_IGNORE_RESULT(sl_config_string(n, NULL, NULL, &s, &err));
    SL_IGNORE_RESULT(sl_config_int(n, NULL, 0, 1, 65535, &v, &err));
    SL_IGNORE_RESULT(sl_config_int(n, NULL, 0, LLONG_MIN, LLONG_MAX, &v, &err));
    SL_IGNORE_RESULT(sl_config_double(n, NULL, 0, -1e9, 1e9, &d, &err));
    SL_IGNORE_RESULT(sl_config_bool(n, NULL, false, &b, &err));
    SL_IGNORE_RESULT(sl_config_duration_ms(n, NULL, 0, 0, LLONG_MAX, &v, &err));
    SL_IGNORE_RESULT(sl_config_bytes(n, NULL, 0, 1024, 1LL << 40, &v, &err));
    SL_IGNORE_RESULT(sl_config_enum(n, NULL, words, 0, &e, &err));
    SL_IGNORE_RESULT(sl_config_array(n, NULL, &sub, &err));
    SL_IGNORE_RESULT(sl_config_object(n, NULL, &sub, &err));
    SL_IGNORE_RESULT(sl_config_check_keys(n, words, &err));
    SL_IGNORE_RESULT(sl_config_int(n, "port", 0, 1, 65535, &v, &err));
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
    if (c != NULL) {
        visit(sl_config_root(c));
        read_root(sl_config_root(c));
    }
    sl_config_free(c);
    return 0;
}
