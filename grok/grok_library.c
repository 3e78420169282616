/* grok_library.c: the table of named patterns and the pattern-file reader.
 *
 * Definitions live in an array in definition order (for listing) with an
 * open-addressing hash index on the name (for expansion, which looks names up
 * once per reference). A redefinition replaces the regex in place: the later
 * definition wins, as Logstash lets --patterns-dir override built-ins. The
 * table never shrinks; libraries are built once at start-up. */
#include "grok_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_file.h"
#include "sl_suggest.h"

struct grok_library *grok_library_new(void)
{
    return calloc(1, sizeof(struct grok_library));
}

void grok_library_free(struct grok_library *lib)
{
    if (lib == NULL)
        return;
    for (size_t i = 0; i < lib->ndefs; i++) {
        free(lib->defs[i].name);
        free(lib->defs[i].regex);
        free(lib->defs[i].origin);
    }
    free(lib->defs);
    free(lib->index);
    free(lib);
}

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Slot of name in the index: where it is, or the empty slot to use. */
static size_t index_slot(const struct grok_library *lib, const char *name,
                         size_t n)
{
    size_t mask = lib->index_cap - 1;
    size_t i = hash_name(name, n) & mask;
    while (lib->index[i] != 0) {
        const char *other = lib->defs[lib->index[i] - 1].name;
        if (strncmp(other, name, n) == 0 && other[n] == '\0')
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static int grow_index(struct grok_library *lib)
{
    size_t cap = lib->index_cap ? lib->index_cap * 2 : 256;
    uint32_t *old = lib->index;
    size_t oldcap = lib->index_cap;
    lib->index = calloc(cap, sizeof *lib->index);
    if (lib->index == NULL) {
        lib->index = old;
        return -1;
    }
    lib->index_cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i] == 0)
            continue;
        const char *name = lib->defs[old[i] - 1].name;
        lib->index[index_slot(lib, name, strlen(name))] = old[i];
    }
    free(old);
    return 0;
}

const struct grok_def *grok_library_find(const struct grok_library *lib,
                                         const char *name, size_t n)
{
    if (lib->index_cap == 0)
        return NULL;
    uint32_t at = lib->index[index_slot(lib, name, n)];
    return at ? &lib->defs[at - 1] : NULL;
}

const char *grok_library_closest(const struct grok_library *lib,
                                 const char *name, size_t n)
{
    size_t limit = n >= 6 ? 2 : n >= 3 ? 1 : 0;
    const char *best = NULL;
    size_t best_d = limit + 1;
    if (n > SL_SUGGEST_MAX)
        return NULL;
    for (size_t i = 0; i < lib->ndefs; i++) {
        const char *cand = lib->defs[i].name;
        size_t m = strlen(cand);
        if ((m > n ? m - n : n - m) >= best_d) /* too far by length */
            continue;
        size_t d = sl_edit_distance(name, n, cand, m);
        if (d < best_d || (d == best_d && best && strcmp(cand, best) < 0)) {
            best = cand;
            best_d = d;
        }
    }
    return best;
}

const char *grok_library_lookup(const struct grok_library *lib,
                                const char *name)
{
    const struct grok_def *d = grok_library_find(lib, name, strlen(name));
    return d ? d->regex : NULL;
}

static bool valid_name(const char *name)
{
    if (*name == '\0')
        return false;
    for (const char *p = name; *p; p++)
        if (!(*p == '_' || (*p >= '0' && *p <= '9') ||
              (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
    return true;
}

int grok_library_add(struct grok_library *lib, const char *name,
                     const char *regex, const char *origin, unsigned line,
                     struct sl_err *err)
{
    if (!valid_name(name))
        return sl_err_set(err, SL_EINVAL,
                          "%s:%u: pattern name '%s' may only hold letters, "
                          "digits and '_'",
                          origin, line, name);
    if ((lib->ndefs + 1) * 2 > lib->index_cap && grow_index(lib) < 0)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    char *re = strdup(regex), *org = strdup(origin);
    if (re == NULL || org == NULL)
        goto nomem;
    size_t slot = index_slot(lib, name, strlen(name));
    if (lib->index[slot] != 0) {
        struct grok_def *d = &lib->defs[lib->index[slot] - 1];
        free(d->regex);
        free(d->origin);
        d->regex = re;
        d->origin = org;
        d->line = line;
        return 0;
    }
    if (lib->ndefs == lib->cap) {
        size_t cap = lib->cap ? lib->cap * 2 : 128;
        struct grok_def *defs = realloc(lib->defs, cap * sizeof *defs);
        if (defs == NULL)
            goto nomem;
        lib->defs = defs;
        lib->cap = cap;
    }
    struct grok_def *d = &lib->defs[lib->ndefs];
    d->name = strdup(name);
    if (d->name == NULL)
        goto nomem;
    d->regex = re;
    d->origin = org;
    d->line = line;
    lib->ndefs++;
    lib->index[slot] = (uint32_t)lib->ndefs;
    return 0;
nomem:
    free(re);
    free(org);
    return sl_err_set(err, SL_ENOMEM, "out of memory");
}

/* One line of a pattern file: "NAME regex". Leading/trailing blanks and a
 * trailing \r are ignored; the regex is the rest of the line after the
 * blanks that follow the name. */
static int load_line(struct grok_library *lib, const char *origin,
                     unsigned lineno, char *line, size_t len,
                     struct sl_err *err)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
        len--;
    line[len] = '\0';
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return 0;
    size_t name_start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    size_t name_end = i;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return sl_err_set(err, SL_EPARSE,
                          "%s:%u: pattern '%.*s' has no regex; a line is "
                          "NAME followed by a space and the regex",
                          origin, lineno, (int)(name_end - name_start),
                          line + name_start);
    line[name_end] = '\0';
    return grok_library_add(lib, line + name_start, line + i, origin, lineno,
                            err);
}

int grok_library_load_text(struct grok_library *lib, const char *origin,
                           const char *text, size_t len, struct sl_err *err)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    unsigned lineno = 0;
    int rc = 0;
    size_t start = 0;
    while (start <= len && rc == 0) {
        char *nl = memchr(copy + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - copy) : len;
        lineno++;
        if (memchr(copy + start, '\0', end - start) != NULL)
            rc = sl_err_set(err, SL_EPARSE,
                            "%s:%u: NUL byte in a pattern definition", origin,
                            lineno);
        else
            rc = load_line(lib, origin, lineno, copy + start, end - start, err);
        if (nl == NULL)
            break;
        start = end + 1;
    }
    free(copy);
    return rc;
}

#define PATTERN_FILE_MAX (8u << 20)

int grok_library_load_file(struct grok_library *lib, const char *path,
                           struct sl_err *err)
{
    struct sl_buf b = SL_BUF_INIT(PATTERN_FILE_MAX);
    int rc = sl_file_read(path, "pattern file", PATTERN_FILE_MAX, &b, err);
    /* A UTF-8 byte order mark (Windows editors write one) is not text. */
    bool bom = b.len >= 3 && memcmp(b.ptr, "\xef\xbb\xbf", 3) == 0;
    if (rc == 0)
        rc = grok_library_load_text(lib, path, bom ? b.ptr + 3 : b.ptr,
                                    bom ? b.len - 3 : b.len, err);
    sl_buf_release(&b);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int grok_library_load_dir(struct grok_library *lib, const char *dir,
                          struct sl_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return sl_err_set(err, SL_EIO,
                          "cannot open patterns directory '%s': %s", dir,
                          sl_strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL) {
                rc = sl_err_set(err, SL_ENOMEM, "out of memory");
                break;
            }
            names = p;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL)
            rc = sl_err_set(err, SL_ENOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            rc = grok_library_load_file(lib, path, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

size_t grok_library_count(const struct grok_library *lib)
{
    return lib->ndefs;
}

const char *grok_library_name(const struct grok_library *lib, size_t i)
{
    return i < lib->ndefs ? lib->defs[i].name : NULL;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PREFIX/share/sluice/patterns for the PREFIX this program is installed
 * in, when it runs as PREFIX/bin/NAME (read from /proc/self/exe): a tree
 * installed with DESTDIR, or moved, finds its own patterns without flags.
 * An empty string when the program is not in a bin/ folder (a build tree's
 * build/TYPE/bin has no share/ beside it, so that costs one stat). */
static void exe_patterns_root(char *buf, size_t size)
{
    static const char bin[] = "/bin", rel[] = "/share/sluice/patterns";
    const size_t nbin = sizeof bin - 1;
    buf[0] = '\0';
    if (size <= sizeof rel)
        return;
    ssize_t n = readlink("/proc/self/exe", buf, size - sizeof rel);
    if (n <= 0 || (size_t)n >= size - sizeof rel) {
        buf[0] = '\0';
        return;
    }
    buf[n] = '\0';
    /* buf is PREFIX/bin/NAME: the last '/' ends PREFIX/bin */
    char *name = strrchr(buf, '/');
    size_t dir_len = name != NULL ? (size_t)(name - buf) : 0;
    if (dir_len < nbin || memcmp(buf + dir_len - nbin, bin, nbin) != 0) {
        buf[0] = '\0';
        return;
    }
    memcpy(buf + dir_len - nbin, rel, sizeof rel);
}

int grok_builtin_dir(const char *ecs_flavour, char *buf, size_t size,
                     struct sl_err *err)
{
    const char *sub;
    if (size > 0)
        buf[0] = '\0';
    if (strcmp(ecs_flavour, "v1") == 0)
        sub = "ecs-v1";
    else if (strcmp(ecs_flavour, "disabled") == 0)
        sub = "legacy";
    else
        return sl_err_set(err, SL_EINVAL,
                          "unknown ECS compatibility '%s'; expected v1 or "
                          "disabled",
                          ecs_flavour);
    char exe_root[GROK_DIR_MAX];
    exe_patterns_root(exe_root, sizeof exe_root);
    const char *roots[] = {getenv("SLUICE_PATTERNS_DIR"), exe_root,
                           SLUICE_PATTERNS_INSTALL_DIR,
                           SLUICE_PATTERNS_SOURCE_DIR};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (roots[i] == NULL || roots[i][0] == '\0')
            continue;
        int n = snprintf(buf, size, "%s/%s", roots[i], sub);
        if (n < 0 || (size_t)n >= size) {
            if (size > 0)
                buf[0] = '\0';
            return sl_err_set(err, SL_ELIMIT,
                              "built-in patterns directory under '%.200s' is "
                              "longer than %zu bytes; use a shorter path",
                              roots[i], size > 0 ? size - 1 : 0);
        }
        if (is_dir(buf))
            return 0;
    }
    if (size > 0)
        buf[0] = '\0';
    return sl_err_set(err, SL_EIO,
                      "built-in patterns '%s' not found under "
                      "$SLUICE_PATTERNS_DIR, %s or %s; set "
                      "SLUICE_PATTERNS_DIR to the folder holding ecs-v1/ and "
                      "legacy/",
                      sub, SLUICE_PATTERNS_INSTALL_DIR,
                      SLUICE_PATTERNS_SOURCE_DIR);
}
