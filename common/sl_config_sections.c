/* sl_config_sections.c: the tables of the sections both daemons share, and
 * the checks their Redis and URL keys have in common.
 *
 * Defaults are what a first run on one machine needs: logs at info in text
 * (a person reads them; "json" is one word away for a collector), no HTTP
 * endpoint unless asked (it opens a port). */
#include "sl_config_sections.h"
#include "sl_http_server.h"
#include "sl_redis_url.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG(m) SL_OPT_FIELD(struct sl_log_section, m)
static const struct sl_opt log_opts[] = {
    {"level", SL_OPT_ENUM, LOG(level), .def = "info",
     .words = sl_log_level_names,
     .help = "the lowest level logged; `debug` adds one line per batch"},
    {"format", SL_OPT_ENUM, LOG(format), .def = "text",
     .words = sl_log_format_names,
     .help = "one line per message on stderr, as text or as a JSON object"},
    {"file", SL_OPT_STRING, LOG(file),
     .help = "a file to log to instead of stderr, appended to; SIGHUP opens "
             "it again (logrotate's `postrotate`: `kill -HUP`)"},
    SL_OPT_END};

static int check_log(const struct sl_config_node *obj, void *out,
                     struct sl_err *err)
{
    const struct sl_log_section *l = out;
    if (l->file == NULL || l->file[0] != '\0')
        return 0;
    return sl_config_error_expected(sl_config_get(obj, "file"), err,
                                    "a file name");
}

const struct sl_config_table sl_log_section_table = {
    "log", sizeof(struct sl_log_section), log_opts, check_log};

/* The path of the file stderr appends to (`2>>file`, systemd's
 * StandardError=append:), or "" when stderr is anything else. */
static void stderr_file(char *path, size_t size)
{
    struct stat fd2, named;
    int fl = fcntl(2, F_GETFL);
    ssize_t n = readlink("/proc/self/fd/2", path, size - 1);
    path[n > 0 ? n : 0] = '\0';
    if (n <= 0 || (size_t)n >= size - 1 || fl < 0 || !(fl & O_APPEND) ||
        fstat(2, &fd2) < 0 || !S_ISREG(fd2.st_mode) || stat(path, &named) < 0 ||
        named.st_dev != fd2.st_dev || named.st_ino != fd2.st_ino)
        path[0] = '\0';
}

int sl_log_section_apply(const struct sl_log_section *s,
                         const struct sl_config_node *section,
                         struct sl_err *err)
{
    sl_log_init(s->level, s->format);
    if (s->file != NULL && sl_log_open(s->file, err) < 0) {
        if (err == NULL)
            return -1;
        char why[SL_ERR_MSG_MAX];
        const struct sl_config_node *n = sl_config_get(section, "file");
        snprintf(why, sizeof why, "%s", err->msg);
        if (n != NULL) /* where: the daemon runs without a look at check */
            return sl_config_error(n, err,
                                   "%.380s; create its directory, writable "
                                   "by the daemon's user, or leave log.file "
                                   "out to log to stderr",
                                   why);
        return sl_err_set(err, err->status,
                          "log.file: %.380s; create its directory, writable "
                          "by the daemon's user, or leave log.file out to "
                          "log to stderr",
                          why);
    }
    if (s->file != NULL)
        return 0;
    /* stderr appended to a file: that file by its name, so that SIGHUP
     * after logrotate moved it opens the new one (the log went on into
     * the moved file until a restart) */
    char path[4096];
    struct sl_err ignored;
    stderr_file(path, sizeof path);
    if (path[0] != '\0' && sl_log_open(path, &ignored) < 0)
        SL_DEBUG("log", "%s", ignored.msg);
    return 0;
}

#define HTTP(m) SL_OPT_FIELD(struct sl_http_section, m)
static const struct sl_opt http_opts[] = {
    {"listen", SL_OPT_STRING, HTTP(listen), .flags = SL_OPT_REQUIRED,
     .help = "address of `/metrics` (Prometheus) and `/status` (JSON), "
             "such as `\"127.0.0.1:5066\"`; loopback only; without an `http` "
             "section there is no endpoint"},
    SL_OPT_END};

/* The address is checked as the daemon will bind it (loopback only), so
 * `check` refuses what `run` would. */
static int check_http(const struct sl_config_node *obj, void *out,
                      struct sl_err *err)
{
    const struct sl_http_section *h = out;
    struct sl_err e = {0};
    if (obj != NULL && h->listen != NULL &&
        sl_http_server_check_address(h->listen, false, &e) < 0)
        return sl_config_error(sl_config_get(obj, "listen"), err, "%s", e.msg);
    return 0;
}

const struct sl_config_table sl_http_section_table = {
    "http", sizeof(struct sl_http_section), http_opts, check_http};

const char *const sl_redis_mode_names[] = {"stream", "list", NULL};

const char *sl_redis_default_key(enum sl_redis_mode mode)
{
    return mode == SL_REDIS_LIST ? SL_REDIS_LIST_KEY : SL_REDIS_STREAM_KEY;
}

int sl_config_hostname(char *buf, size_t size, struct sl_err *err)
{
    if (gethostname(buf, size) < 0)
        return sl_err_set(err, SL_EIO, "cannot get the machine's name: %s",
                          sl_strerror(errno));
    buf[size - 1] = '\0'; /* POSIX leaves a cut name unterminated */
    return 0;
}

static int check_one_url(const struct sl_config_node *n,
                         const char *const schemes[], const char *example,
                         struct sl_err *err)
{
    const char *s;
    if (sl_config_string(n, NULL, NULL, &s, err) < 0)
        return -1;
    char list[160];
    size_t o = 0;
    for (size_t i = 0; schemes[i] != NULL; i++) {
        size_t sl = strlen(schemes[i]);
        if (strncmp(s, schemes[i], sl) == 0) {
            /* a host must follow, and no blank (curl refuses both, at
             * every request) */
            if (s[sl] != '\0' && strchr("/:?#@", s[sl]) == NULL &&
                strpbrk(s, " \t\r\n") == NULL)
                return 0;
            return sl_config_error_expected(
                n, err,
                "a URL with a host name after \"%s\" and no blanks "
                "(such as \"%s\")",
                schemes[i], example);
        }
        int w = snprintf(list + o, sizeof list - o, "%s\"%s\"",
                         i == 0 ? "" : " or ", schemes[i]);
        o += w > 0 && (size_t)w < sizeof list - o ? (size_t)w : 0;
    }
    return sl_config_error_expected(
        n, err, "a URL starting with %s (such as \"%s\")", list, example);
}

int sl_config_check_url(const struct sl_config_node *n,
                        const char *const schemes[], const char *example,
                        struct sl_err *err)
{
    if (sl_config_type(n) != SL_CONFIG_ARRAY)
        return n == NULL ? 0 : check_one_url(n, schemes, example, err);
    for (size_t i = 0; i < sl_config_len(n); i++)
        if (check_one_url(sl_config_at(n, i), schemes, example, err) < 0)
            return -1;
    return 0;
}

int sl_config_check_redis_url(const struct sl_config_node *n,
                              struct sl_err *err)
{
    const char *s;
    if (n == NULL)
        return 0;
    if (sl_config_string(n, NULL, NULL, &s, err) < 0)
        return -1;
    struct sl_redis_url url;
    struct sl_err why;
    if (sl_redis_url_parse(s, &url, &why) == 0)
        return 0;
    return sl_config_error(n, err, "%s", why.msg);
}
