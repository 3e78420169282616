/* sluice_grok.c: the sluice-grok tool, a grok debugger for the terminal.
 *
 *   sluice-grok [options] PATTERN [FILE...]
 *
 * Reads lines from the files (or stdin; a gzip file decompressed) and prints
 * one JSON object per line, in order: {"message": line, ...captures...},
 * tagged _grokparsefailure when no expression matches, _groktimeout when
 * the match limit stopped it, and _truncated when the line was longer than
 * --max-line. Exit status: 0 when
 * all input was read (lines that do not match are not errors), 1 on an I/O
 * error, 2 on a usage or pattern error, 3 when memory ran out (at start, or
 * building an event: past --event-memory or from the system). Every failure
 * prints one line to stderr.
 *
 * With -z (--null-data) the input is NUL-separated records instead of
 * lines, so a multi-line event (a Rails request, a stack trace) can be fed
 * whole (line_reader_new_records() frames them). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grok.h"
#include "line_reader.h"
#include "sl_arena.h"
#include "sl_buf.h"
#include "sl_event.h"
#include "tool_input.h"

#define MAX_EXPRS 64
#define MAX_DIRS  64

enum { EXIT_IO = 1, EXIT_USAGE = 2, EXIT_NOMEM = 3 };

struct options {
    const char *ecs;
    const char *dirs[MAX_DIRS];
    size_t ndirs;
    const char *defines[MAX_DIRS];
    size_t ndefines;
    const char *exprs[MAX_EXPRS];
    size_t nexprs;
    char **files;
    int nfiles;
    size_t max_line;
    size_t event_memory; /* cap on one event's arena; 0: none */
    bool explain, stats, list, compile_all;
    bool null_data; /* -z: records end at NUL, not at newline */
    struct grok_options grok;
};

struct run {
    struct grok *g;
    struct sl_arena *arena;
    struct sl_event ev;
    struct sl_buf out;
    const char *unit; /* "line", or "record" with -z */
    size_t event_memory;
    uint64_t lines, bytes, matched, failed, timeouts, truncated;
    bool nomem;       /* the run stopped because memory ran out */
    bool read_failed; /* an input could not be read: the next one may be */
};

static void usage(FILE *f)
{
    fputs(
        "usage: sluice-grok [options] PATTERN [FILE...]\n"
        "Matches each line of FILEs (or stdin) with a grok PATTERN and prints\n"
        "one JSON event per line.\n\n"
        "  --ecs v1|disabled       pattern flavour: ECS field names (default) "
        "or\n"
        "                          Logstash's legacy names\n"
        "  --patterns-dir DIR      load pattern files from DIR (a file works "
        "too);\n"
        "                          they override built-ins; repeatable\n"
        "  -D, --define 'NAME RE'  define a pattern inline; repeatable\n"
        "  -e, --expr PATTERN      an expression to try, in order (first "
        "match\n"
        "                          wins); repeatable, replaces PATTERN\n"
        "  --explain               print the expanded regex and captures, "
        "exit\n"
        "  --stats                 print match rate and speed to stderr at the "
        "end\n"
        "  -z, --null-data         input records end at NUL bytes, not at "
        "newlines,\n"
        "                          so one record can be a multi-line event; "
        "one\n"
        "                          trailing newline before each NUL (or the "
        "end)\n"
        "                          is dropped; output stays one JSON line per "
        "record\n"
        "  --max-line BYTES        cut longer lines (records with -z), tag "
        "_truncated\n"
        "                          (default 1048576)\n"
        "  --match-limit N         PCRE2 match limit (default 1000000)\n"
        "  --event-memory BYTES    most memory one event may use (default: "
        "no cap);\n"
        "                          past it sluice-grok stops with status 3\n"
        "  --bytes | --utf         match bytes (default: a bad UTF-8 byte is\n"
        "                          matched like any other) or UTF-8 "
        "characters\n"
        "                          (invalid sequences then match nothing)\n"
        "  --list                  print the names of all known patterns, "
        "exit\n"
        "  --compile-all           compile every known pattern, report "
        "errors\n"
        "  -V, --version           print the version and exit\n",
        f);
}

static int parse_number(const char *opt, const char *v, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *v == '\0' || *end != '\0' || n == 0 || n > max) {
        fprintf(stderr,
                "sluice-grok: %s: found '%s', expected a number from 1 to "
                "%llu\n",
                opt, v, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* Takes the value of option argv[*i]; NULL (with a message) if missing. */
static const char *value_of(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "sluice-grok: %s needs a value; see --help\n",
                argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int add_to(const char **list, size_t *n, const char *v, const char *what)
{
    if (*n == MAX_DIRS) {
        fprintf(stderr, "sluice-grok: more than %d %s\n", MAX_DIRS, what);
        return -1;
    }
    list[(*n)++] = v;
    return 0;
}

/* One option at argv[*i]; 1 if it was one, 0 if not an option, -1 error. */
static int parse_option(struct options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    unsigned long long n;
    if (strcmp(a, "--ecs") == 0 && (v = value_of(argc, argv, i)))
        return o->ecs = v, 1;
    if (strcmp(a, "--patterns-dir") == 0 && (v = value_of(argc, argv, i)))
        return add_to(o->dirs, &o->ndirs, v, "--patterns-dir") < 0 ? -1 : 1;
    if ((!strcmp(a, "-D") || !strcmp(a, "--define")) &&
        (v = value_of(argc, argv, i)))
        return add_to(o->defines, &o->ndefines, v, "--define") < 0 ? -1 : 1;
    if ((!strcmp(a, "-e") || !strcmp(a, "--expr")) &&
        (v = value_of(argc, argv, i)))
        return add_to(o->exprs, &o->nexprs, v, "--expr") < 0 ? -1 : 1;
    if (strcmp(a, "--max-line") == 0 && (v = value_of(argc, argv, i))) {
        if (parse_number(a, v, 1ull << 30, &n) < 0)
            return -1;
        return o->max_line = (size_t)n, 1;
    }
    if (strcmp(a, "--event-memory") == 0 && (v = value_of(argc, argv, i))) {
        if (parse_number(a, v, 1ull << 40, &n) < 0)
            return -1;
        return o->event_memory = (size_t)n, 1;
    }
    if (strcmp(a, "--match-limit") == 0 && (v = value_of(argc, argv, i))) {
        if (parse_number(a, v, 4000000000ull, &n) < 0)
            return -1;
        return o->grok.match_limit = (uint32_t)n, 1;
    }
    if (!strcmp(a, "--ecs") || !strcmp(a, "--patterns-dir") ||
        !strcmp(a, "-D") || !strcmp(a, "--define") || !strcmp(a, "-e") ||
        !strcmp(a, "--expr") || !strcmp(a, "--max-line") ||
        !strcmp(a, "--match-limit") || !strcmp(a, "--event-memory"))
        return -1; /* value missing: value_of() said so */
    bool *flag = !strcmp(a, "--explain")       ? &o->explain
                 : !strcmp(a, "--stats")       ? &o->stats
                 : !strcmp(a, "--list")        ? &o->list
                 : !strcmp(a, "--compile-all") ? &o->compile_all
                 : !strcmp(a, "-z") || !strcmp(a, "--null-data") ? &o->null_data
                                                                 : NULL;
    if (flag != NULL)
        return *flag = true, 1;
    if (!strcmp(a, "--utf") || !strcmp(a, "--bytes"))
        return o->grok.utf = !strcmp(a, "--utf"), 1;
    return 0;
}

/* Options may come before, between or after PATTERN and the FILEs, as in
 * grep (sluice-grok '%{HTTPD_COMBINEDLOG}' access.log --stats); "--" ends
 * them, so a file may start with '-'. The operands are moved, in order, to
 * the front of argv + 1 (the options' values were taken already). */
static int parse_args(struct options *o, int argc, char **argv)
{
    int nops = 0;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!options || a[0] != '-' || a[1] == '\0') {
            argv[1 + nops++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            options = false;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("sluice-grok %s\n", SLUICE_VERSION);
            exit(0);
        }
        int rc = parse_option(o, argc, argv, &i);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            fprintf(stderr, "sluice-grok: unknown option '%s'; see --help\n",
                    a);
            return -1;
        }
    }
    int i = 1;
    if (o->nexprs == 0 && !o->list && !o->compile_all) {
        if (nops == 0) {
            usage(stderr);
            return -1;
        }
        o->exprs[o->nexprs++] = argv[i++];
    }
    o->files = argv + i;
    o->nfiles = nops + 1 - i;
    return 0;
}

static struct grok_library *load_library(const struct options *o,
                                         struct sl_err *err)
{
    struct grok_library *lib = grok_library_new();
    if (lib == NULL) {
        sl_err_set(err, SL_ENOMEM,
                   "out of memory at start; free memory and "
                   "run again");
        return NULL;
    }
    char builtin[GROK_DIR_MAX];
    if (grok_builtin_dir(o->ecs, builtin, sizeof builtin, err) < 0 ||
        grok_library_load_dir(lib, builtin, err) < 0)
        goto fail;
    for (size_t i = 0; i < o->ndirs; i++) {
        int fd = open(o->dirs[i], O_RDONLY | O_DIRECTORY);
        int rc;
        if (fd >= 0) {
            close(fd);
            rc = grok_library_load_dir(lib, o->dirs[i], err);
        } else {
            rc = grok_library_load_file(lib, o->dirs[i], err);
        }
        if (rc < 0)
            goto fail;
    }
    for (size_t i = 0; i < o->ndefines; i++)
        if (grok_library_load_text(lib, "--define", o->defines[i],
                                   strlen(o->defines[i]), err) < 0)
            goto fail;
    return lib;
fail:
    grok_library_free(lib);
    return NULL;
}

/* An expression that is only a pattern's name (HTTPD_COMBINEDLOG, not
 * %{HTTPD_COMBINEDLOG}) is a regex that matches that text: every line
 * would fail. Says so; the run goes on, as the regex is valid. */
static void warn_bare_names(const struct grok_library *lib,
                            const struct options *o)
{
    for (size_t i = 0; i < o->nexprs; i++) {
        const char *e = o->exprs[i];
        if (e[strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] != '\0' ||
            grok_library_lookup(lib, e) == NULL)
            continue;
        fprintf(stderr,
                "sluice-grok: warning: expression '%s' is matched as the "
                "text '%s'; to use the pattern of that name, write "
                "'%%{%s}'\n",
                e, e, e);
    }
}

/* sluice-grok access.log: the file became the PATTERN and stdin is read
 * (a terminal then seems to hang). Says so. */
static void warn_file_as_pattern(const struct options *o)
{
    struct stat st;
    if (o->nfiles != 0 || o->nexprs != 1 || stat(o->exprs[0], &st) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    fprintf(stderr,
            "sluice-grok: warning: PATTERN '%s' is a file, and stdin is read; "
            "the pattern comes first: sluice-grok PATTERN %s\n",
            o->exprs[0], o->exprs[0]);
}

static int compile_all(const struct grok_library *lib, const struct options *o)
{
    size_t n = grok_library_count(lib), bad = 0;
    for (size_t i = 0; i < n; i++) {
        char expr[256];
        snprintf(expr, sizeof expr, "%%{%s}", grok_library_name(lib, i));
        const char *e = expr;
        struct sl_err err;
        struct grok *g = grok_compile(lib, &e, 1, &o->grok, &err);
        if (g == NULL) {
            fprintf(stderr, "sluice-grok: %s\n", err.msg);
            bad++;
        }
        grok_free(g);
    }
    printf("%zu of %zu patterns compile\n", n - bad, n);
    return bad ? EXIT_USAGE : 0;
}

static void explain(const struct grok *g)
{
    static const char *const type_names[] = {"string", "int", "float"};
    for (size_t i = 0; i < grok_expr_count(g); i++) {
        printf("expression %zu: %s\nregex: %s\ncaptures:\n", i + 1,
               grok_expr_text(g, i), grok_expanded(g, i));
        for (size_t j = 0; j < grok_expr_capture_count(g, i); j++) {
            enum grok_type t;
            const char *field = grok_expr_capture(g, i, j, &t);
            printf("  g%zu  %s (%s)\n", j + 1, field, type_names[t]);
        }
    }
}

/* --explain of expressions that do not compile: what each expands to, where
 * it does, so the regex PCRE2 refused can be read (the error follows). */
static void explain_failed(const struct grok_library *lib,
                           const struct options *o)
{
    for (size_t i = 0; i < o->nexprs; i++) {
        struct sl_err err;
        char *re = grok_expand(lib, o->exprs[i], &err);
        printf("expression %zu: %s\nregex: %s\n", i + 1, o->exprs[i],
               re ? re : "(none: see the error)");
        free(re);
    }
    fflush(stdout);
}

static int flush_out(struct run *r)
{
    if (r->out.len > 0 &&
        fwrite(r->out.ptr, 1, r->out.len, stdout) != r->out.len) {
        fprintf(stderr, "sluice-grok: cannot write output: %s\n",
                sl_strerror(errno));
        return -1;
    }
    sl_buf_reset(&r->out);
    return 0;
}

/* Reports that the event for the current line could not be built (what:
 * the step that failed) and ends the run: -1. */
static int event_failed(struct run *r, const char *what,
                        const struct sl_err *err)
{
    if (err->status != SL_ENOMEM) {
        fprintf(stderr, "sluice-grok: %s %llu: cannot %s: %s\n", r->unit,
                (unsigned long long)r->lines, what, err->msg);
        return -1;
    }
    r->nomem = true;
    if (r->event_memory != 0)
        fprintf(stderr,
                "sluice-grok: %s %llu: cannot %s: out of memory (the event "
                "needs more than --event-memory %zu bytes); raise "
                "--event-memory or lower --max-line\n",
                r->unit, (unsigned long long)r->lines, what, r->event_memory);
    else
        fprintf(stderr,
                "sluice-grok: %s %llu: cannot %s: out of memory; free "
                "memory or lower --max-line\n",
                r->unit, (unsigned long long)r->lines, what);
    return -1;
}

/* The tags for how matching went; -1 (reported) if one cannot be added. */
static int add_tags(struct run *r, enum grok_result m, bool conflict,
                    bool truncated)
{
    struct sl_err err;
    const char *tags[3];
    size_t n = 0;
    if (conflict)
        tags[n++] = "_grokfieldconflict";
    if (m == GROK_TIMEOUT)
        tags[n++] = "_groktimeout";
    if (m == GROK_NOMATCH)
        tags[n++] = "_grokparsefailure";
    if (truncated)
        tags[n++] = "_truncated";
    for (size_t i = 0; i < n; i++)
        if (sl_event_add_tag(&r->ev, tags[i], &err) < 0)
            return event_failed(r, "add a tag", &err);
    return 0;
}

static int process_line(struct run *r, struct sl_slice line, bool truncated)
{
    struct sl_err err;
    bool conflict = false;
    sl_event_reset(&r->ev);
    sl_arena_reset(r->arena);
    r->lines++;
    r->bytes += line.len;
    if (sl_event_put_top(&r->ev, "message", SL_VALUE_STRING, line.ptr, line.len,
                         &err) < 0)
        return event_failed(r, "add 'message'", &err);
    enum grok_result m = grok_match(r->g, line.ptr, line.len);
    if (m == GROK_MATCH) {
        r->matched++;
        if (grok_capture_into(r->g, &r->ev, &err) < 0) {
            if (err.status == SL_ENOMEM)
                return event_failed(r, "add the captures", &err);
            conflict = true;
        }
    } else if (m == GROK_TIMEOUT) {
        r->timeouts++;
    } else {
        r->failed++;
    }
    r->truncated += truncated;
    if (add_tags(r, m, conflict, truncated) < 0)
        return -1;
    if (sl_event_write_json(&r->ev, &r->out, &err) < 0 ||
        sl_buf_append_char(&r->out, '\n', &err) < 0)
        return event_failed(r, "write the event", &err);
    return r->out.len >= 65536 ? flush_out(r) : 0;
}

/* Frames the input into lines (or -z records) and processes each. */
static int process_input(struct run *r, struct input *in,
                         const struct options *o)
{
    struct sl_err err;
    struct line_reader *lr = o->null_data ? line_reader_new_records(o->max_line)
                                          : line_reader_new(o->max_line);
    static char chunk[1 << 16];
    struct sl_slice line;
    bool trunc;
    if (lr == NULL) {
        /* only the reader itself: its buffer grows with the lines */
        fprintf(stderr, "sluice-grok: out of memory at start; free memory "
                        "and run again\n");
        r->nomem = true;
        return -1;
    }
    int rc = 0;
    ssize_t n;
    while (rc == 0 && (n = input_read(in, chunk, sizeof chunk)) != 0) {
        if (n < 0 || line_reader_feed(lr, chunk, (size_t)n, &err) < 0) {
            /* the buffer holds at most a --max-line line and a chunk */
            if (n >= 0)
                fprintf(stderr, "sluice-grok: '%s': %s; lower --max-line\n",
                        in->name, err.msg);
            r->nomem = n >= 0;
            r->read_failed = n < 0;
            rc = -1;
            break;
        }
        while (rc == 0 && line_reader_next(lr, &line, &trunc))
            rc = process_line(r, line, trunc);
    }
    if (rc == 0 && line_reader_finish(lr, &line, &trunc))
        rc = process_line(r, line, trunc);
    line_reader_free(lr);
    return rc;
}

static void print_stats(const struct run *r, double secs)
{
    double rate = r->lines ? 100.0 * (double)r->matched / (double)r->lines : 0;
    fprintf(stderr,
            "sluice-grok: %llu %ss, %llu matched (%.2f%%), %llu "
            "_grokparsefailure, %llu _groktimeout, %llu _truncated\n"
            "sluice-grok: %.3f s, %.0f %ss/s, %.1f MB/s\n",
            (unsigned long long)r->lines, r->unit,
            (unsigned long long)r->matched, rate, (unsigned long long)r->failed,
            (unsigned long long)r->timeouts, (unsigned long long)r->truncated,
            secs, secs > 0 ? (double)r->lines / secs : 0, r->unit,
            secs > 0 ? (double)r->bytes / secs / 1e6 : 0);
    for (size_t i = 0; i < grok_expr_count(r->g); i++) {
        struct grok_stats s;
        grok_expr_stats(r->g, i, &s);
        uint64_t tried = s.matches + s.failures + s.timeouts;
        fprintf(stderr,
                "sluice-grok: expression %zu: %llu matches, %llu failures, "
                "%llu timeouts, %.3f s in PCRE2, %.2f us per %s tried\n",
                i + 1, (unsigned long long)s.matches,
                (unsigned long long)s.failures, (unsigned long long)s.timeouts,
                (double)s.ns / 1e9,
                tried ? (double)s.ns / 1e3 / (double)tried : 0.0, r->unit);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_inputs(struct run *r, const struct options *o)
{
    double t0 = now_s();
    int rc = 0;
    struct input in = {.fd = 0, .name = "stdin"};
    bool unread = false; /* a file could not be opened or read */
    if (o->nfiles == 0)
        rc = process_input(r, &in, o);
    /* As cat and grep: a file that cannot be read is said, the others are
     * read, and the status says it at the end. */
    for (int i = 0; i < o->nfiles && rc == 0; i++) {
        if (input_open(&in, o->files[i]) < 0) {
            unread = true;
            continue;
        }
        rc = process_input(r, &in, o);
        input_close(&in);
        if (rc < 0 && r->read_failed) {
            unread = true;
            r->read_failed = false;
            rc = 0;
        }
    }
    if (unread)
        rc = -1;
    if (flush_out(r) < 0 || fflush(stdout) != 0)
        rc = -1;
    if (o->stats)
        print_stats(r, now_s() - t0);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o = {.ecs = "v1", .max_line = 1 << 20};
    if (parse_args(&o, argc, argv) < 0)
        return EXIT_USAGE;
    struct sl_err err;
    struct grok_library *lib = load_library(&o, &err);
    if (lib == NULL) {
        fprintf(stderr, "sluice-grok: %s\n", err.msg);
        return err.status == SL_ENOMEM ? EXIT_NOMEM : EXIT_USAGE;
    }
    int status = 0;
    if (o.list || o.compile_all) {
        for (size_t i = 0; o.list && i < grok_library_count(lib); i++)
            printf("%s\n", grok_library_name(lib, i));
        status = o.compile_all ? compile_all(lib, &o) : 0;
        grok_library_free(lib);
        return status;
    }
    struct run r = {.unit = o.null_data ? "record" : "line"};
    warn_bare_names(lib, &o);
    warn_file_as_pattern(&o);
    r.g = grok_compile(lib, o.exprs, o.nexprs, &o.grok, &err);
    if (r.g == NULL && o.explain)
        explain_failed(lib, &o);
    grok_library_free(lib);
    if (r.g == NULL) {
        fprintf(stderr, "sluice-grok: %s\n", err.msg);
        return err.status == SL_ENOMEM ? EXIT_NOMEM : EXIT_USAGE;
    }
    if (o.explain) {
        explain(r.g);
        grok_free(r.g);
        return 0;
    }
    /* Blocks of 16 KiB, smaller under a small --event-memory so the cap is
     * reached a block at a time rather than at the first one. */
    size_t block = 16384;
    if (o.event_memory != 0 && o.event_memory / 4 < block)
        block = o.event_memory / 4;
    r.arena = sl_arena_new(block);
    if (r.arena == NULL) {
        fprintf(stderr, "sluice-grok: out of memory at start; free memory "
                        "and run again\n");
        grok_free(r.g);
        return EXIT_NOMEM;
    }
    r.event_memory = o.event_memory;
    sl_arena_set_limit(r.arena, o.event_memory);
    sl_buf_init(&r.out, (size_t)256 << 20);
    sl_event_init(&r.ev, r.arena);
    status = run_inputs(&r, &o) == 0 ? 0 : r.nomem ? EXIT_NOMEM : EXIT_IO;
    sl_buf_release(&r.out);
    sl_arena_free(r.arena);
    grok_free(r.g);
    return status;
}
