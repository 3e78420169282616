/* test_in_file.c: the file input on real files in a scratch directory,
 * driven by a small loop like the daemon's (poll on its fds, process, read
 * with a budget, ack at once as if Redis had answered).
 *
 * Every test asserts the exact bytes each file gave, in order, and that no
 * byte came twice: the harness checks that each chunk starts where the
 * file's previous one ended, and keeps one record per source (src), in the
 * order the sources appeared. Time is the real monotonic clock plus a skew
 * a test may advance (rotate_wait, close_inactive, delete_timeout pass
 * without sleeping); waiting is polling with a deadline. Tests that depend
 * on inotify's timing run twice: with inotify, and with it off (the rescan
 * and polling paths). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "in_file.h"
#include "in_file_priv.h"
#include "line_reader.h"
#include "registry.h"
#include "sl_buf.h"
#include "sl_config.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "status_files.h"

/* ---- the harness -------------------------------------------------------- */

#define MAX_SRC 2100

struct got {
    char first_path[512]; /* path at its first chunk */
    uint64_t key;
    uint64_t start, next; /* first offset, next expected */
    struct sl_buf data;
    bool done;
    bool truncated;                /* its DONE said the file was truncated */
    uint64_t first_seq, last_seq;  /* of its first and last data chunks */
    const struct in_file_src *src; /* whose user it was made as */
};

struct h {
    char dir[64];
    char p[512];
    struct registry *reg;
    struct in_file *in;
    struct in_file_config cfg;
    const char *paths[4];
    const char *excl[4];
    char pathbuf[4][512];
    struct sl_metrics *m;
    struct in_file_metrics fm;
    int64_t skew;
    struct got got[MAX_SRC];
    size_t ngot;
    size_t budget;
    size_t max_reads; /* chunks a turn takes at most; 0: all there are */
    uint64_t seq;     /* data chunks so far */
    int max_fds;      /* descriptors seen at most (when counting) */
    bool count_fds;
    int logfd; /* the log, captured */
    char logpath[128];
    /* acks held back (defer_acks): Redis took the batches, its answers
     * come later (late_acks) */
    bool defer_acks;
    struct {
        struct file_identity id;
        uint64_t key, offset;
    } pend[64];
    size_t npend;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_of(struct h *h)
{
    return mono_ms() + h->skew;
}

static const char *at(struct h *h, const char *name)
{
    snprintf(h->p, sizeof h->p, "%s/%s", h->dir, name);
    return h->p;
}

static void put(struct h *h, const char *name, const char *text, bool append)
{
    int fd = open(at(h, name),
                  O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void mv(struct h *h, const char *from, const char *to)
{
    char a[512];
    snprintf(a, sizeof a, "%s", at(h, from));
    assert_int_equal(rename(a, at(h, to)), 0);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the DIR's own */
}

static int setup(void **state)
{
    struct h *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -1;
    snprintf(h->dir, sizeof h->dir, "/tmp/sluice-test-in-file.XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    snprintf(h->logpath, sizeof h->logpath, "%s.log", h->dir);
    h->logfd = open(h->logpath, O_RDWR | O_CREAT | O_TRUNC, 0644);
    sl_log_set_fd(h->logfd);
    sl_log_init(SL_LOG_INFO, SL_LOG_TEXT);
    struct registry_config rc;
    registry_config_init(&rc);
    struct sl_err err;
    h->reg = registry_new(&rc, &err);
    h->m = sl_metrics_new();
    assert_int_equal(in_file_metrics_register(&h->fm, h->m, &err), 0);
    h->budget = 1 << 20;
    *state = h;
    return 0;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[1024];
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(p, 0755);
            rm_tree(p);
        } else {
            unlink(p);
        }
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct h *h = *state;
    in_file_free(h->in);
    registry_free(h->reg);
    sl_metrics_free(h->m);
    for (size_t i = 0; i < h->ngot; i++)
        sl_buf_release(&h->got[i].data);
    rm_tree(h->dir);
    sl_log_set_fd(2);
    close(h->logfd);
    unlink(h->logpath);
    free(h);
    return 0;
}

/* The config: short intervals; paths relative to the scratch dir. */
static void config(struct h *h, bool inotify, const char *p0, const char *p1)
{
    const char *ps[2] = {p0, p1};
    size_t n = 0;
    for (size_t i = 0; i < 2; i++) {
        if (ps[i] == NULL)
            continue;
        char dir[64];
        memcpy(dir, h->dir, sizeof dir);
        snprintf(h->pathbuf[n], sizeof h->pathbuf[n], "%s/%s", dir, ps[i]);
        h->paths[n] = h->pathbuf[n];
        n++;
    }
    in_file_config_defaults(&h->cfg, h->paths, n);
    h->cfg.inotify = inotify;
    h->cfg.scan_interval_ms = 50;
    h->cfg.poll_interval_ms = 20;
    h->cfg.rotate_wait_ms = 200;
}

static void start(struct h *h)
{
    struct sl_err err = {0};
    in_file_free(h->in);
    h->in = in_file_new(&h->cfg, h->reg, "t", &h->fm, &err);
    if (h->in == NULL)
        fail_msg("in_file_new: %s", err.msg);
}

static struct got *got_of(struct h *h, struct in_file_src *src)
{
    if (src->user != NULL)
        return src->user;
    assert_true(h->ngot < MAX_SRC);
    struct got *g = &h->got[h->ngot++];
    snprintf(g->first_path, sizeof g->first_path, "%s", src->path);
    g->key = src->key;
    sl_buf_init(&g->data, (size_t)1 << 28);
    src->user = g;
    g->src = src;
    return g;
}

/* Whether src's state (a got not done) was taken by its copy
 * (in_file_carry.c): src->user was set, and is NULL now. */
static bool carried(const struct h *h, const struct in_file_src *src)
{
    if (src->user != NULL)
        return false;
    for (size_t i = 0; i < h->ngot; i++)
        if (h->got[i].src == src && !h->got[i].done)
            return true;
    return false;
}

/* One turn of the loop. Returns the bytes and notices it took. */
static size_t turn(struct h *h, int wait_ms)
{
    struct pollfd pfd[2];
    size_t n = in_file_fill_pollfds(h->in, pfd, 2);
    int t = in_file_timeout_ms(h->in, now_of(h));
    if (t > wait_ms)
        t = wait_ms;
    if (poll(pfd, n, t) < 0)
        fail_msg("poll: %s", sl_strerror(errno));
    in_file_process(h->in, pfd, n, now_of(h));
    size_t took = 0;
    struct in_file_chunk c;
    struct sl_err err = {0};
    int rc;
    while ((h->max_reads == 0 || took < h->max_reads) &&
           (rc = in_file_read(h->in, h->budget, now_of(h), &c, &err)) == 1) {
        if (c.kind == IN_FILE_DONE && carried(h, c.src)) {
            took++; /* its state goes on in its copy: nothing to end */
            continue;
        }
        struct got *g = got_of(h, c.src);
        assert_false(g->done);
        took++;
        if (h->count_fds) {
            int fds = count_fds();
            if (fds > h->max_fds)
                h->max_fds = fds;
        }
        if (c.kind == IN_FILE_DONE) {
            g->done = true;
            g->truncated = c.truncated;
            continue;
        }
        if (g->data.len == 0 && g->next == 0) {
            g->start = c.offset;
        } else if (c.offset != g->next) {
            fail_msg("%s: chunk at %llu, expected %llu", g->first_path,
                     (unsigned long long)c.offset, (unsigned long long)g->next);
        }
        assert_true(c.len >= 1 && c.len <= h->budget);
        g->next = c.offset + c.len;
        assert_int_equal(sl_buf_append(&g->data, c.data, c.len, &err), 0);
        if (g->first_seq == 0)
            g->first_seq = h->seq + 1;
        g->last_seq = ++h->seq;
        if (h->defer_acks) {
            assert_true(h->npend < 64);
            h->pend[h->npend].id = c.id;
            h->pend[h->npend].key = c.src->key;
            h->pend[h->npend++].offset = g->next;
            continue;
        }
        /* Redis took it: ack at once */
        int a = registry_ack(h->reg, &c.id, c.src->key, NULL, g->next,
                             time(NULL), &err);
        if (a < 0)
            fail_msg("registry_ack: %s", err.msg);
    }
    if (rc < 0)
        fail_msg("in_file_read: %s", err.msg);
    return took;
}

static char *log_text(struct h *h);

static void dump(struct h *h)
{
    for (size_t i = 0; i < h->ngot; i++)
        print_message("got %zu: %s key %llx start %llu len %zu done %d\n", i,
                      h->got[i].first_path, (unsigned long long)h->got[i].key,
                      (unsigned long long)h->got[i].start, h->got[i].data.len,
                      h->got[i].done);
    print_message("log:\n%s\n", log_text(h));
}

/* Turns until cond holds (deadline 10 s). */
#define PUMP_UNTIL(h, cond)                                                    \
    do {                                                                       \
        int64_t deadline_ = mono_ms() + 10000;                                 \
        while (!(cond)) {                                                      \
            if (mono_ms() > deadline_) {                                       \
                dump(h);                                                       \
                fail_msg("timed out waiting for %s", #cond);                   \
            }                                                                  \
            turn((h), 5);                                                      \
        }                                                                      \
    } while (0)

/* Turns with rescans for a while and asserts nothing more comes. */
static void quiet(struct h *h)
{
    /* a truncated file's DONE waits for its copy (in_file_carry.c) */
    PUMP_UNTIL(h, h->in->parked.n == 0);
    int64_t end = mono_ms() + 150;
    size_t total = 0;
    while (mono_ms() < end) {
        in_file_rescan(h->in);
        total += turn(h, 5);
    }
    assert_int_equal(total, 0);
}

static size_t total_bytes(struct h *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->ngot; i++)
        n += h->got[i].data.len;
    return n;
}

static struct got *got_path(struct h *h, const char *name, size_t nth)
{
    char full[512];
    snprintf(full, sizeof full, "%s/%s", h->dir, name);
    for (size_t i = 0; i < h->ngot; i++)
        if (strcmp(h->got[i].first_path, full) == 0 && nth-- == 0)
            return &h->got[i];
    fail_msg("no source for %s", full);
    return NULL;
}

/* Every byte of a came before any byte of b. */
static void assert_before(const struct got *a, const struct got *b)
{
    if (!(a->last_seq < b->first_seq))
        fail_msg("%s (chunks %llu..%llu) not before %s (from %llu)",
                 a->first_path, (unsigned long long)a->first_seq,
                 (unsigned long long)a->last_seq, b->first_path,
                 (unsigned long long)b->first_seq);
}

static void assert_got(struct h *h, const char *name, size_t nth,
                       uint64_t start, const char *text)
{
    struct got *g = got_path(h, name, nth);
    assert_int_equal(g->start, start);
    assert_int_equal(g->data.len, strlen(text));
    assert_memory_equal(g->data.ptr, text, strlen(text));
}

static char *log_text(struct h *h)
{
    static char buf[65536];
    ssize_t n = pread(h->logfd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static size_t count_in(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static uint64_t rotations(struct h *h, enum rot_kind k)
{
    return sl_counter_get(h->in->m_rot[k]);
}

/* ---- reading ------------------------------------------------------------ */

static void basic(struct h *h, bool inotify)
{
    put(h, "a.log", "a1\na2\n", false);
    put(h, "b.log", "b1\n", false);
    put(h, "c.txt", "not me\n", false);
    config(h, inotify, "*.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 9);
    put(h, "a.log", "a3\n", true);
    put(h, "b.log", "b2 no newline", true);
    PUMP_UNTIL(h, total_bytes(h) == 25);
    put(h, "new.log", "n1\n", false); /* created while running */
    PUMP_UNTIL(h, total_bytes(h) == 28);
    quiet(h);
    struct in_file_stats fs;
    in_file_stats(h->in, &fs);
    assert_true(fs.idle);
    assert_int_equal(fs.files, 3);
    assert_int_equal(fs.ready + fs.waiting, 0);
    put(h, "b.log", "b3\n", true);
    in_file_rescan(h->in);
    in_file_stats(h->in, &fs);
    assert_false(fs.idle); /* a scan is due */
    PUMP_UNTIL(h, total_bytes(h) == 31);
    in_file_stats(h->in, &fs);
    assert_true(fs.idle);
    assert_int_equal(h->ngot, 3);
    assert_got(h, "a.log", 0, 0, "a1\na2\na3\n");
    assert_got(h, "b.log", 0, 0, "b1\nb2 no newlineb3\n");
    assert_got(h, "new.log", 0, 0, "n1\n");
    /* each file has its entry, its key, its acked offset */
    struct stat st;
    assert_int_equal(stat(at(h, "a.log"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_non_null(e);
    assert_int_equal(e->offset, 9);
    assert_true(e->key == got_path(h, "a.log", 0)->key);
    assert_true(got_path(h, "a.log", 0)->key != got_path(h, "b.log", 0)->key);
    assert_int_equal(sl_counter_get(h->in->m_bytes), 31);
    assert_int_equal(sl_counter_get(h->in->m_seen), 3);
    assert_false(h->got[0].done);
}

static void test_basic(void **state)
{
    basic(*state, true);
}

static void test_basic_polling(void **state)
{
    basic(*state, false);
}

static void free_reader(void *user)
{
    line_reader_free(user);
}

/* The contract with the framing, as the daemon will wire it: a line_reader
 * per file (in src->user), fed each chunk; at DONE, the unterminated last
 * line comes out (line_reader_finish) and the reader is freed. A rotated
 * file's last line without a newline is an event; a live file's waits. */
static void test_framing_contract(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "one\ntwo", false);
    config(h, true, "app.log", NULL);
    start(h);
    in_file_set_user_free(h->in, free_reader);
    char lines[8][64];
    uint64_t offs[8];
    size_t nlines = 0;
    struct sl_err err;
    int64_t deadline = mono_ms() + 10000;
    bool renamed = false;
    while (nlines < 3 && mono_ms() < deadline) {
        if (nlines == 1 && !renamed) {
            mv(h, "app.log", "app.log.1");
            put(h, "app.log", "new\npartial", false);
            renamed = true;
            h->skew += 1000;
        }
        struct pollfd pfd[1];
        size_t n = in_file_fill_pollfds(h->in, pfd, 1);
        assert_true(poll(pfd, n, 5) >= 0);
        in_file_process(h->in, pfd, n, now_of(h));
        struct in_file_chunk c;
        while (in_file_read(h->in, 4096, now_of(h), &c, &err) == 1) {
            struct line_reader *lr = c.src->user;
            if (lr == NULL) {
                lr = c.src->user = line_reader_new(1024);
                assert_non_null(lr);
            }
            struct sl_slice line;
            bool cut;
            if (c.kind == IN_FILE_DATA) {
                assert_int_equal(line_reader_feed(lr, c.data, c.len, &err), 0);
                while (line_reader_next(lr, &line, &cut) == 1) {
                    snprintf(lines[nlines], 64, "%.*s", (int)line.len,
                             line.ptr);
                    offs[nlines++] = line_reader_line_offset(lr);
                }
            } else if (line_reader_finish(lr, &line, &cut) == 1) {
                snprintf(lines[nlines], 64, "%.*s", (int)line.len, line.ptr);
                offs[nlines++] = line_reader_line_offset(lr);
            } /* the reader is freed by user_free at the next call */
        }
        h->skew += 100;
    }
    /* per file in order; the old file's unterminated "two" comes at its
     * DONE, after rotate_wait, so the new file's first line may be first */
    assert_int_equal(nlines, 3);
    assert_string_equal(lines[0], "one");
    assert_int_equal(offs[0], 0);
    size_t two = strcmp(lines[1], "two") == 0 ? 1 : 2;
    assert_string_equal(lines[two], "two"); /* without its newline */
    assert_int_equal(offs[two], 4);
    assert_string_equal(lines[3 - two], "new");
    assert_int_equal(offs[3 - two], 0);
    /* "partial" waits for its newline: app.log is still live */
    struct in_file_chunk c;
    int64_t end = mono_ms() + 100;
    while (mono_ms() < end) {
        in_file_process(h->in, NULL, 0, now_of(h));
        assert_int_equal(in_file_read(h->in, 4096, now_of(h), &c, &err), 0);
    }
    /* the live file's reader is freed by in_file_free (teardown) */
}

/* A small budget: chunks of at most budget bytes, files take turns. */
static void test_budget_round_robin(void **state)
{
    struct h *h = *state;
    put(h, "a.log", "aaaaaaaaaa", false);
    put(h, "b.log", "bbbbbbbbbb", false);
    config(h, true, "*.log", NULL);
    start(h);
    h->budget = 3;
    in_file_process(h->in, NULL, 0, now_of(h));
    struct in_file_chunk c;
    struct sl_err err;
    char order[16] = {0};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(in_file_read(h->in, 3, now_of(h), &c, &err), 1);
        assert_int_equal(c.len, 3);
        order[i] = c.data[0];
    }
    /* round-robin: never two turns of one file in a row while both wait */
    for (int i = 1; i < 6; i++)
        assert_true(order[i] != order[i - 1]);
}

static void test_start_at_end(void **state)
{
    struct h *h = *state;
    put(h, "old.log", "before the start\n", false);
    config(h, true, "*.log", NULL);
    h->cfg.start_at = IN_FILE_START_END;
    start(h);
    turn(h, 5);
    put(h, "old.log", "after\n", true);
    put(h, "later.log", "created later: from its start\n", false);
    PUMP_UNTIL(h, total_bytes(h) == 6 + 30);
    quiet(h);
    assert_got(h, "old.log", 0, 17, "after\n");
    assert_got(h, "later.log", 0, 0, "created later: from its start\n");
}

static void test_globs_and_exclude(void **state)
{
    struct h *h = *state;
    mkdir(at(h, "a"), 0755);
    mkdir(at(h, "a/b"), 0755);
    mkdir(at(h, "a/b/c"), 0755);
    mkdir(at(h, "a/skip"), 0755);
    put(h, "top.log", "top\n", false);
    put(h, "a/x.log", "x\n", false);
    put(h, "a/b/c/y.log", "y\n", false);
    put(h, "a/b/z.log.gz", "gz\n", false);
    put(h, "a/b/.hidden.log", "hidden\n", false);
    put(h, "a/skip/s.log", "skipped\n", false);
    put(h, "a/b/c/w.txt", "txt\n", false);
    config(h, true, "**/*.log", NULL);
    char ex[512];
    snprintf(ex, sizeof ex, "%s/a/skip/**", h->dir);
    h->excl[0] = "*.gz";
    h->excl[1] = ex;
    h->cfg.exclude.v = h->excl;
    h->cfg.exclude.n = 2;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 8);
    /* a directory created later is found (inotify on the parent) */
    mkdir(at(h, "a/b/new"), 0755);
    put(h, "a/b/new/n.log", "n\n", false);
    PUMP_UNTIL(h, total_bytes(h) == 10);
    quiet(h);
    assert_int_equal(h->ngot, 4);
    assert_got(h, "top.log", 0, 0, "top\n");
    assert_got(h, "a/x.log", 0, 0, "x\n");
    assert_got(h, "a/b/c/y.log", 0, 0, "y\n");
    assert_got(h, "a/b/new/n.log", 0, 0, "n\n");
    /* the whole-path matcher the registry's entries go through */
    char p[512];
    snprintf(p, sizeof p, "%s/a/b/c/y.log", h->dir);
    assert_true(in_file_path_matches(h->in, p));
    snprintf(p, sizeof p, "%s/a/skip/s.log", h->dir);
    assert_false(in_file_path_matches(h->in, p));
    snprintf(p, sizeof p, "%s/a/b/z.log.gz", h->dir);
    assert_false(in_file_path_matches(h->in, p));
    snprintf(p, sizeof p, "%s/a/b/.hidden.log", h->dir);
    assert_false(in_file_path_matches(h->in, p));
}

/* paths app.log* with no exclude: logrotate's compressed app.log.2.gz and
 * kubelet's 0.log.<time>.gz beside the logs are not read (their bytes read
 * as lines were garbage events), whether there at the start or made later
 * (gzip creates the .gz, then deletes the file it compressed). */
static void test_compressed_names_not_read(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "live\n", false);
    put(h, "app.log.1", "rotated\n", false);
    put(h, "app.log.2.gz", "\x1f\x8b\x08 not text\n", false);
    put(h, "app.log.3.bz2", "BZh9 not text\n", false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 13);
    put(h, "app.log.1.gz", "\x1f\x8b\x08 compressed later\n", false);
    unlink(at(h, "app.log.1"));
    put(h, "app.log.20261205-215700.zst", "(\xb5/\xfd zstd\n", false);
    put(h, "app.log", "more\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 18);
    quiet(h);
    assert_int_equal(total_bytes(h), 18);
    assert_got(h, "app.log", 0, 0, "live\nmore\n");
    assert_got(h, "app.log.1", 0, 0, "rotated\n");
    assert_int_equal(count_in(log_text(h), "compressed (by its name)"), 1);
    char p[512];
    snprintf(p, sizeof p, "%s/app.log.2.gz", h->dir);
    assert_false(in_file_path_matches(h->in, p));
    snprintf(p, sizeof p, "%s/app.log.2", h->dir);
    assert_true(in_file_path_matches(h->in, p));
}

static void test_symlinks(void **state)
{
    struct h *h = *state;
    mkdir(at(h, "real"), 0755);
    mkdir(at(h, "logs"), 0755);
    put(h, "real/target.data", "through the link\n", false);
    char target[512];
    snprintf(target, sizeof target, "%s", at(h, "real/target.data"));
    assert_int_equal(symlink(target, at(h, "logs/app.log")), 0);
    /* a second link to the same file: read once */
    assert_int_equal(symlink(target, at(h, "logs/again.log")), 0);
    config(h, true, "logs/*.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 17);
    put(h, "real/target.data", "more\n", true); /* its dir is watched too */
    PUMP_UNTIL(h, total_bytes(h) == 22);
    quiet(h);
    assert_int_equal(h->ngot, 1);
    assert_string_equal(h->got[0].data.ptr, "through the link\nmore\n");
}

/* A directory, a FIFO, a path through a file: logged once each, retried,
 * and the good file is read. Root reads through chmod 000, so the
 * permission case is a path whose component is a file (ENOTDIR). */
static void test_bad_paths(void **state)
{
    struct h *h = *state;
    mkdir(at(h, "dir.log"), 0755);
    assert_int_equal(mkfifo(at(h, "fifo.log"), 0644), 0);
    put(h, "plain", "a file\n", false);
    put(h, "good.log", "good\n", false);
    config(h, true, "dir.log", "fifo.log");
    /* a third and a fourth path */
    char dir[64];
    memcpy(dir, h->dir, sizeof dir);
    snprintf(h->pathbuf[2], sizeof h->pathbuf[2], "%s/plain/x.log", dir);
    snprintf(h->pathbuf[3], sizeof h->pathbuf[3], "%s/*.log", dir);
    h->paths[2] = h->pathbuf[2];
    h->paths[3] = h->pathbuf[3];
    h->cfg.paths.n = 4;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    for (int i = 0; i < 5; i++) {
        in_file_rescan(h->in);
        turn(h, 5);
    }
    quiet(h);
    assert_got(h, "good.log", 0, 0, "good\n");
    const char *log = log_text(h);
    assert_int_equal(count_in(log, "is a directory, not a file"), 1);
    assert_int_equal(count_in(log, "is not a regular file (a FIFO"), 1);
    assert_int_equal(count_in(log, "a component of the path is not a "
                                   "directory"),
                     1);
    char want[700];
    snprintf(want, sizeof want, "[%s/plain/x.log] cannot read", h->dir);
    assert_non_null(strstr(log, want));
    assert_int_equal(sl_counter_get(h->in->m_errors), 3);
    /* fixed: the directory becomes a file and is read */
    assert_int_equal(rmdir(at(h, "dir.log")), 0);
    put(h, "dir.log", "now a file\n", false);
    PUMP_UNTIL(h, total_bytes(h) == 16);
    assert_got(h, "dir.log", 0, 0, "now a file\n");
}

/* ---- rotation while running --------------------------------------------- */

/* rename-and-create, the renamed name not matched: the old file is read to
 * its end (bytes written after the rename too), then DONE; the new file's
 * bytes come after all of the old one's. */
static void rename_create(struct h *h, bool inotify)
{
    put(h, "app.log", "one\n", false);
    config(h, inotify, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    put(h, "app.log", "two\n", true);
    h->budget = 2; /* slow reads: the rotation comes mid-file */
    turn(h, 0);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "new\n", false);
    put(h, "app.log.1", "late writer\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 8 + 12 + 4);
    /* the old file is done once idle for rotate_wait */
    h->skew += 1000;
    PUMP_UNTIL(h, got_path(h, "app.log", 0)->done);
    assert_false(got_path(h, "app.log", 0)->truncated); /* whole: its end */
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_got(h, "app.log", 0, 0, "one\ntwo\nlate writer\n");
    assert_got(h, "app.log", 1, 0, "new\n");
    assert_before(got_path(h, "app.log", 0), got_path(h, "app.log", 1));
    assert_false(got_path(h, "app.log", 1)->done);
    assert_true(h->got[0].key != h->got[1].key);
    assert_int_equal(rotations(h, ROT_RENAME), 1);
    assert_int_equal(h->in->open, 1);
}

/* Rename-and-create (or delete-and-create) where the new file begins with
 * the old one's first line, a banner its program writes at each start:
 * found while the old one is drained, it begins as that one and is held
 * as its possible copy; the old one then ends whole (renamed or deleted,
 * not truncated), so the new one is no copy: read from 0 under a key of
 * its own. Before, it was let go as a copy at the old one's offset, past
 * its end: its lines up to then lost. */
static void rotated_whole_then_created_alike(struct h *h, bool delete)
{
    const char *old = "=== starting ===\nold 1\nold 2\n";
    put(h, "app.log", old, false);
    config(h, true, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == strlen(old));
    if (delete)
        assert_int_equal(unlink(at(h, "app.log")), 0);
    else
        mv(h, "app.log", "app.log.1");
    put(h, "app.log", "=== starting ===\n", false);
    for (int i = 0; i < 20; i++)
        turn(h, 5);
    put(h, "app.log", "new 1\n", true);
    h->skew += 1000; /* rotate_wait: the old one is done */
    PUMP_UNTIL(h, got_path(h, "app.log", 0)->done);
    h->skew += 1000;
    PUMP_UNTIL(h, total_bytes(h) == strlen(old) + 23);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_got(h, "app.log", 1, 0, "=== starting ===\nnew 1\n");
    assert_true(h->got[0].key != h->got[1].key);
    assert_int_equal(count_in(log_text(h), "not truncated"), 0);
}

static void test_renamed_whole_then_created_alike(void **state)
{
    rotated_whole_then_created_alike(*state, false);
}

static void test_deleted_whole_then_created_alike(void **state)
{
    rotated_whole_then_created_alike(*state, true);
}

static void test_rename_create(void **state)
{
    rename_create(*state, true);
}

static void test_rename_create_polling(void **state)
{
    rename_create(*state, false);
}

/* A writer idle for longer than rotate_wait, its file renamed out of
 * `paths` (or deleted), writes its last line there 150 ms after the
 * rotation (before it reopens its log): read, as rotate_wait (200 ms)
 * runs from the rotation; from the last byte, the file was done at the
 * first tick after the rotation and the line lost. */
static void written_after_idle_rotation(struct h *h, bool deleted)
{
    put(h, "app.log", "one\n", false);
    int fd = open(at(h, "app.log"), O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    config(h, true, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    h->skew += 1000; /* idle for 5 times rotate_wait */
    turn(h, 0);
    if (deleted)
        assert_int_equal(unlink(at(h, "app.log")), 0);
    else
        mv(h, "app.log", "app.log.1");
    PUMP_UNTIL(h, rotations(h, deleted ? ROT_DELETE : ROT_RENAME) == 1);
    h->skew += 150;
    turn(h, 0);
    assert_int_equal(write(fd, "late\n", 5), 5);
    close(fd);
    PUMP_UNTIL(h, total_bytes(h) == 9);
    h->skew += 1000;
    PUMP_UNTIL(h, got_path(h, "app.log", 0)->done);
    assert_got(h, "app.log", 0, 0, "one\nlate\n");
    assert_int_equal(h->in->open, 0);
}

static void test_written_after_idle_rename(void **state)
{
    written_after_idle_rotation(*state, false);
}

static void test_written_after_idle_delete(void **state)
{
    written_after_idle_rotation(*state, true);
}

/* app.log*: the renamed file stays matched, keeps its key, and is read to
 * its end before the new app.log. */
static void test_rename_create_matched(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "one\n", false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    put(h, "app.log", "two two two\n", true);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "new\n", false);
    h->budget = 4;
    in_file_rescan(h->in);
    PUMP_UNTIL(h, total_bytes(h) == 20);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_got(h, "app.log", 0, 0, "one\ntwo two two\n");
    assert_got(h, "app.log", 1, 0, "new\n");
    assert_before(got_path(h, "app.log", 0), got_path(h, "app.log", 1));
    /* the old file's entry follows its name */
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_string_equal(e->path, at(h, "app.log.1"));
    assert_true(e->key == h->got[0].key);
    assert_int_equal(e->offset, 16);
}

/* copytruncate, the copy matched: the lines between the last read and the
 * truncation are read from the copy, under the original's key, from where
 * the original was; nothing twice. */
static void copytruncate(struct h *h, bool inotify)
{
    put(h, "app.log", "first lines, read before the rotation\n", false);
    config(h, inotify, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 38);
    /* written, not read yet, then copied and truncated */
    put(h, "app.log", "between\n", true);
    put(h, "app.log.1", "first lines, read before the rotation\nbetween\n",
        false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", "after\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 38 + 8 + 6);
    quiet(h);
    /* the copy's bytes go on in the original's state, from where it was
     * read to (in_file_carry.c): a line or an event open at the
     * truncation is finished from the copy */
    assert_got(h, "app.log", 0, 0,
               "first lines, read before the rotation\nbetween\n");
    assert_false(got_path(h, "app.log", 0)->done); /* the copy is live */
    assert_int_equal(h->ngot, 2);
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_true(e->key == got_path(h, "app.log", 0)->key);
    assert_got(h, "app.log", 1, 0, "after\n");
    assert_true(got_path(h, "app.log", 1)->key !=
                got_path(h, "app.log", 0)->key);
    assert_int_equal(rotations(h, ROT_TRUNCATE), 1);
    assert_int_equal(rotations(h, ROT_COPYTRUNCATE), 1);
}

static void test_copytruncate(void **state)
{
    copytruncate(*state, true);
}

static void test_copytruncate_polling(void **state)
{
    copytruncate(*state, false);
}

/* The copy found before the truncation: a live file's full fingerprint
 * names it a copy; it is held (no descriptor) while the original goes on,
 * and read past where the original ended once it is truncated: here the
 * original gave every line itself, so the copy gives nothing. */
static void test_copytruncate_copy_first(void **state)
{
    struct h *h = *state;
    char big[2048], full[4096];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    put(h, "app.log", big, false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 2047);
    put(h, "app.log", "unread\n", true);
    snprintf(full, sizeof full, "%sunread\n", big);
    put(h, "app.log.1", full, false);
    in_file_rescan(h->in);
    in_file_process(h->in, NULL, 0, now_of(h));
    /* one read: the copy is identified (held), then app.log gives its line */
    struct in_file_chunk c;
    struct sl_err err;
    assert_int_equal(in_file_read(h->in, 4096, now_of(h), &c, &err), 1);
    assert_int_equal(c.offset, 2047);
    assert_int_equal(c.len, 7);
    assert_memory_equal(c.data, "unread\n", 7);
    assert_int_equal(h->in->open, 1);
    assert_int_equal(
        registry_ack(h->reg, &c.id, c.src->key, NULL, 2054, time(NULL), &err),
        1);
    uint64_t key = c.src->key;
    struct got *g0 = c.src->user; /* the chunk read by hand, to the harness */
    assert_int_equal(sl_buf_append(&g0->data, c.data, c.len, &err), 0);
    g0->next = 2054;
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", "after\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 2054 + 6);
    quiet(h);
    assert_int_equal(h->ngot, 2); /* app.log's old src, the new one */
    assert_false(g0->done);       /* carried to the copy (in_file_carry.c) */
    assert_got(h, "app.log", 1, 0, "after\n");
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_true(e->key == key);
    assert_non_null(strstr(log_text(h), "held until the original is "
                                        "truncated or gone"));
    /* the copy grows (someone appends to it): read past 2054 */
    put(h, "app.log.1", "appended to the copy\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 2054 + 6 + 21);
    assert_int_equal(g0->data.len, 2054 + 21);
    assert_memory_equal(g0->data.ptr + 2054, "appended to the copy\n", 21);
    assert_true(g0->key == key);
}

/* a.log, a banner of more than the fingerprint then a_end, read whole;
 * then b.log, the banner then b_end, read whole as a file of its own (its
 * start 0, its own key): what two files that begin alike come to. */
static void two_files_alike(struct h *h, const char *a_end, const char *b_end)
{
    char banner[2048], a[4096], b[4096];
    memset(banner, 'x', sizeof banner - 2);
    banner[sizeof banner - 2] = '\n';
    banner[sizeof banner - 1] = '\0';
    snprintf(a, sizeof a, "%s%s", banner, a_end);
    snprintf(b, sizeof b, "%s%s", banner, b_end);
    put(h, "a.log", a, false);
    config(h, true, "*.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == strlen(a));
    put(h, "b.log", b, false);
    PUMP_UNTIL(h, total_bytes(h) == strlen(a) + strlen(b));
    struct got *ga = got_path(h, "a.log", 0), *gb = got_path(h, "b.log", 0);
    assert_int_equal(gb->start, 0);
    assert_memory_equal(gb->data.ptr, b, strlen(b));
    assert_true(gb->key != ga->key);
}

/* Two files that begin alike (a banner of more than the fingerprint), the
 * second found while the first is live and shorter than what was read of
 * the first (so it may be a copy still being written): it looks like a
 * copy and is held, but the first is never truncated; once the second has
 * not changed for rotate_wait it is read whole, as a file of its own,
 * under its own key. */
static void test_files_that_begin_alike(void **state)
{
    struct h *h = *state;
    int64_t t0 = mono_ms();
    two_files_alike(h, "a line longer than b's\n", "b\n");
    assert_true(mono_ms() - t0 >= 200); /* held for rotate_wait */
    struct got *gb = got_path(h, "b.log", 0);
    struct stat st;
    assert_int_equal(stat(at(h, "b.log"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_true(e->key == gb->key);
    assert_int_equal(e->offset, 2049);
    assert_non_null(strstr(log_text(h), "not a copy of it (copytruncate); "
                                        "reading it as a file of its own "
                                        "from offset 0"));
    quiet(h);
    assert_int_equal(h->ngot, 2);
}

/* The same, the second as long as what was read of the first: the bytes
 * before where the first was read (its tail) differ, so it is no copy and
 * is read at once, whole, under its own key; nothing is held. */
static void test_files_that_begin_alike_told_apart_at_once(void **state)
{
    struct h *h = *state;
    two_files_alike(h, "a\n", "b\n");
    assert_null(strstr(log_text(h), "held until"));
    assert_null(strstr(log_text(h), "not a copy"));
    /* a true copy of a.log, as long: held as a copy */
    char a[4096];
    int fd = open(at(h, "a.log"), O_RDONLY);
    assert_int_equal(read(fd, a, sizeof a), 2049);
    close(fd);
    a[2049] = '\0';
    put(h, "a-copy.log", a, false);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, strstr(log_text(h), "held until the original is "
                                      "truncated or gone") != NULL);
    assert_int_equal(total_bytes(h), 2 * 2049);
}

/* app.log read and closed (no inotify, the next scan far off), its copy
 * found and held, then app.log truncated. */
static void held_copy_of_a_closed_file(struct h *h)
{
    char big[2048];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    put(h, "app.log", big, false);
    config(h, false, "app.log*", NULL);
    h->cfg.scan_interval_ms = 60000;
    h->cfg.close_inactive_ms = 20;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 2047 && h->in->open == 0);
    put(h, "app.log.1", big, false); /* the copy */
    in_file_rescan(h->in);
    turn(h, 5); /* found, held */
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
}

/* rotate_wait three times over; then app.log gave "after" (a file of its
 * own), the copy nothing, and it was never taken for no copy. */
static void copy_let_go_at_its_end(struct h *h)
{
    int64_t end = mono_ms() + 3 * 200;
    while (mono_ms() < end)
        turn(h, 5);
    assert_int_equal(total_bytes(h), 2047 + 6);
    assert_got(h, "app.log", 1, 0, "after\n");
    for (size_t i = 0; i < h->ngot; i++)
        assert_true(strstr(h->got[i].first_path, "app.log.1") == NULL ||
                    h->got[i].data.len == 0);
    assert_null(strstr(log_text(h), "not a copy"));
}

/* copytruncate where the input hears of the truncation only late (no
 * inotify, the original closed, the next scan far off): the copy, held
 * past rotate_wait, is not taken for a file of its own while its original
 * was truncated; the original is opened, seen truncated, and the copy read
 * past it (here: nothing more). */
static void test_copytruncate_seen_late(void **state)
{
    struct h *h = *state;
    held_copy_of_a_closed_file(h);
    put(h, "app.log", "after\n", true);
    copy_let_go_at_its_end(h);
}

/* The same, the truncated original then renamed away and a new app.log
 * made before the input looked: the held copy's timer found another file
 * at its original's path and took the copy for a file of its own, read
 * from 0 under a new key (every line twice, other ids). Now a scan is
 * asked for, which finds the original gone, and lets the copy go where
 * the original was read (nothing more here). */
static void test_copytruncate_then_renamed_seen_late(void **state)
{
    struct h *h = *state;
    held_copy_of_a_closed_file(h);
    mv(h, "app.log", "rotated"); /* a name paths does not match */
    put(h, "app.log", "after\n", false);
    copy_let_go_at_its_end(h);
}

/* copytruncate, the copy not matched: the lines in between are lost, and a
 * warning says so. */
static void test_copytruncate_unmatched(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    put(h, "app.log", "lost\n", true);
    put(h, "app.log-old", "read\nlost\n", false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", "after\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 11);
    quiet(h);
    assert_got(h, "app.log", 0, 0, "read\n");
    assert_got(h, "app.log", 1, 0, "after\n");
    /* shrank, or already written again when looked at */
    const char *log = log_text(h);
    assert_true(strstr(log, "file shrank from 5 to") != NULL ||
                strstr(log, "the file's first bytes changed") != NULL);
    assert_non_null(strstr(log, "lines written after offset 5 before the "
                                "truncation are read from the copy if its "
                                "name matches `paths`, else they are lost"));
}

/* A plain truncation: DONE for the old bytes, the new ones from 0. */
static void test_truncated(void **state)
{
    struct h *h = *state;
    put(h, "t.log", "0123456789\n", false);
    config(h, true, "t.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 11);
    assert_int_equal(truncate(at(h, "t.log"), 0), 0);
    put(h, "t.log", "ab\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 14);
    quiet(h);
    assert_got(h, "t.log", 0, 0, "0123456789\n");
    assert_true(got_path(h, "t.log", 0)->done);
    assert_true(got_path(h, "t.log", 0)->truncated); /* a half line drops */
    assert_got(h, "t.log", 1, 0, "ab\n");
}

/* Truncated and written again with the same first KiB (a banner), seen
 * only by its size: the new bytes are read from 0, not from the old
 * offset (the old bytes' ghost is not this file's). */
static void test_truncated_same_start(void **state)
{
    struct h *h = *state;
    char banner[1101], text[1200];
    memset(banner, '=', 1099);
    banner[1099] = '\n';
    banner[1100] = '\0';
    snprintf(text, sizeof text, "%sold lines\n", banner);
    put(h, "t.log", text, false);
    config(h, true, "t.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1110);
    snprintf(text, sizeof text, "%snew\n", banner);
    put(h, "t.log", text, false); /* O_TRUNC, then 1104 bytes */
    PUMP_UNTIL(h, total_bytes(h) == 1110 + 1104);
    quiet(h);
    assert_got(h, "t.log", 1, 0, text);
}

/* Deleted while read: drained through the open descriptor, then DONE and
 * released. */
static void delete_while_read(struct h *h, bool inotify)
{
    char text[5000];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = '\0';
    put(h, "d.log", text, false);
    config(h, inotify, "d.log", NULL);
    start(h);
    h->budget = 100;
    turn(h, 0);
    assert_int_equal(unlink(at(h, "d.log")), 0);
    PUMP_UNTIL(h, total_bytes(h) == sizeof text - 1);
    h->skew += 1000;
    PUMP_UNTIL(h, h->got[0].done);
    assert_int_equal(h->got[0].data.len, sizeof text - 1);
    assert_memory_equal(h->got[0].data.ptr, text, sizeof text - 1);
    assert_int_equal(h->in->open, 0);
    assert_int_equal(rotations(h, ROT_DELETE), 1);
}

static void test_delete_while_read(void **state)
{
    delete_while_read(*state, true);
}

static void test_delete_while_read_polling(void **state)
{
    delete_while_read(*state, false);
}

/* A deleted file nobody has room to read is released at delete_timeout. */
static void test_delete_timeout(void **state)
{
    struct h *h = *state;
    put(h, "d.log", "first\n", false);
    config(h, true, "d.log", NULL);
    h->cfg.delete_timeout_ms = 60000;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 6);
    put(h, "d.log", "never read\n", true);
    assert_int_equal(unlink(at(h, "d.log")), 0);
    /* the caller has no room: process only */
    int64_t deadline = mono_ms() + 5000;
    while (rotations(h, ROT_DELETE) == 0 && mono_ms() < deadline) {
        in_file_rescan(h->in);
        in_file_process(h->in, NULL, 0, now_of(h));
    }
    assert_int_equal(h->in->open, 1);
    /* backpressure: nothing was read without being asked */
    assert_int_equal(sl_counter_get(h->in->m_bytes), 6);
    h->skew += 60000;
    in_file_process(h->in, NULL, 0, now_of(h));
    in_file_process(h->in, NULL, 0, now_of(h) + 1000);
    h->skew += 1000;
    assert_int_equal(h->in->open, 0);
    PUMP_UNTIL(h, h->got[0].done);
    assert_got(h, "d.log", 0, 0, "first\n");
    assert_non_null(strstr(log_text(h), "releasing it at offset 6 of 17"));
}

/* Inode reuse while running: a closed file deleted, a new one created on
 * its inode between two scans: read from 0 under a new key. */
static void test_inode_reuse(void **state)
{
    struct h *h = *state;
    put(h, "r.log", "the old file's bytes\n", false);
    config(h, false, "r.log", NULL);
    h->cfg.scan_interval_ms = 3600000;
    h->cfg.close_inactive_ms = 100;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 21);
    h->skew += 1000;
    PUMP_UNTIL(h, h->in->open == 0); /* closed as inactive */
    struct stat st;
    assert_int_equal(stat(at(h, "r.log"), &st), 0);
    ino_t old = st.st_ino;
    char other[512];
    snprintf(other, sizeof other, "%s", at(h, "other"));
    assert_int_equal(unlink(at(h, "r.log")), 0);
    bool reused = false;
    for (int i = 0; i < 2000 && !reused; i++) {
        put(h, "r.log", "new\n", false);
        assert_int_equal(stat(at(h, "r.log"), &st), 0);
        reused = st.st_ino == old;
        if (!reused)
            assert_int_equal(rename(at(h, "r.log"), other), 0);
    }
    if (!reused) {
        /* another process (ctest -j2) may take the freed inode first; the
         * reuse while stopped is constructed in test_stopped_inode_reuse */
        print_message("the inode was not reused in 2000 files: the running "
                      "case was not seen\n");
        return;
    }
    in_file_rescan(h->in);
    PUMP_UNTIL(h, total_bytes(h) == 25);
    quiet(h);
    assert_got(h, "r.log", 0, 0, "the old file's bytes\n");
    assert_true(got_path(h, "r.log", 0)->done);
    assert_got(h, "r.log", 1, 0, "new\n");
    assert_true(h->got[0].key != h->got[1].key);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_true(e->key == h->got[1].key);
    assert_int_equal(e->offset, 4);
}

/* Leaves no descriptor free (RLIMIT_NOFILE at the highest one in use, the
 * holes below filled); fds_back() undoes it. */
static int no_fd_left(struct rlimit *old, int *fds)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
    int top = 0, nfds = 0, fd;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && strtol(de->d_name, NULL, 10) > top)
            top = (int)strtol(de->d_name, NULL, 10);
    closedir(d);
    struct rlimit low = *old;
    low.rlim_cur = (rlim_t)top + 1;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nfds < 256 && (fd = dup(0)) >= 0)
        fds[nfds++] = fd;
    return nfds;
}

static void fds_back(const struct rlimit *old, const int *fds, int nfds)
{
    assert_int_equal(setrlimit(RLIMIT_NOFILE, old), 0);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}

/* A scan that cannot read a directory (here: no descriptor left) proves
 * nothing: its files are not taken for rotated away. */
static void test_scan_without_descriptors(void **state)
{
    struct h *h = *state;
    mkdir(at(h, "d"), 0755);
    put(h, "d/a.log", "one\n", false);
    config(h, false, "d/*.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    h->skew += 10000; /* closed: close_inactive is 5 min... */
    in_file_rec_close(h->in, h->in->recs[0]); /* ... so close it now */
    struct rlimit old;
    int fds[256];
    int nfds = no_fd_left(&old, fds);
    in_file_rescan(h->in);
    in_file_process(h->in, NULL, 0, now_of(h));
    fds_back(&old, fds, nfds);
    assert_int_equal(h->in->nrecs, 1);
    assert_int_equal(h->in->recs[0]->state, REC_LIVE);
    assert_int_equal(rotations(h, ROT_RENAME) + rotations(h, ROT_DELETE), 0);
    assert_non_null(strstr(log_text(h), "cannot read: Too many open files"));
    put(h, "d/a.log", "two\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 8);
    quiet(h);
    assert_int_equal(h->ngot, 1);
    assert_got(h, "d/a.log", 0, 0, "one\ntwo\n");
    assert_false(h->got[0].done);
}

/* No inotify (here: no descriptor left for it): said once in the log, and
 * the input works by polling. */
static void test_no_inotify(void **state)
{
    struct h *h = *state;
    put(h, "p.log", "one\n", false);
    config(h, true, "p.log", NULL);
    struct rlimit old;
    int fds[256];
    int nfds = no_fd_left(&old, fds);
    start(h);
    fds_back(&old, fds, nfds);
    struct pollfd pfd[1];
    assert_int_equal(in_file_fill_pollfds(h->in, pfd, 1), 0);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    put(h, "p.log", "two\n", true); /* found by polling */
    PUMP_UNTIL(h, total_bytes(h) == 8);
    assert_got(h, "p.log", 0, 0, "one\ntwo\n");
    const char *log = log_text(h);
    assert_int_equal(count_in(log, "cannot watch for changes with inotify: "
                                   "Too many open files; new files are "
                                   "found by the scan every 50 ms and open "
                                   "files read every 20 ms"),
                     1);
    struct in_file_stats st;
    in_file_stats(h->in, &st);
    assert_false(st.inotify);
}

/* The loop's side: a scan at once after start, then the rescan's
 * deadline (no file: the timers have none, so no tick); an event's scan
 * waits for the gap after the last. */
static void test_timeouts(void **state)
{
    struct h *h = *state;
    config(h, true, "*.log", NULL);
    h->cfg.scan_interval_ms = 10000;
    h->cfg.poll_interval_ms = 10000;
    h->cfg.close_inactive_ms = 3600000;
    h->cfg.rotate_wait_ms = 3600000;
    start(h);
    int64_t t = 1000000;
    assert_int_equal(in_file_timeout_ms(h->in, t), 0);
    struct pollfd pfd[2];
    assert_int_equal(in_file_fill_pollfds(h->in, pfd, 2), 1);
    assert_int_equal(pfd[0].events, POLLIN);
    in_file_process(h->in, pfd, 0, t);
    /* the rescan (10 s): nothing else is due */
    assert_int_equal(in_file_timeout_ms(h->in, t), 10000);
    h->in->scan_due = true; /* as an inotify event does: 100 ms after */
    assert_int_equal(in_file_timeout_ms(h->in, t + 30), 70);
    in_file_process(h->in, pfd, 0, t + 30);
    assert_true(h->in->scan_due); /* not yet */
    in_file_process(h->in, pfd, 0, t + 100);
    assert_false(h->in->scan_due);
    assert_int_equal(in_file_timeout_ms(h->in, t + 100), 10000);
    in_file_process(h->in, pfd, 0, t + 1000);
    assert_int_equal(in_file_timeout_ms(h->in, t + 1000), 9100);
    in_file_rescan(h->in);
    assert_int_equal(in_file_timeout_ms(h->in, t + 1000), 0);
    struct in_file_stats st;
    in_file_stats(h->in, &st);
    assert_true(st.inotify);
    assert_int_equal(st.files, 0);
}

/* Renamed while closed (inactive): found again by its inode in its
 * directory, read to its end through a free descriptor, then DONE; the new
 * file at the path after it. */
static void test_renamed_while_closed(void **state)
{
    struct h *h = *state;
    put(h, "c.log", "one\n", false);
    config(h, false, "c.log", NULL);
    h->cfg.scan_interval_ms = 3600000;
    h->cfg.close_inactive_ms = 100;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    h->skew += 1000;
    PUMP_UNTIL(h, h->in->open == 0);
    put(h, "c.log", "written while closed\n", true);
    mv(h, "c.log", "c.log.1");
    put(h, "c.log", "new\n", false);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, total_bytes(h) == 4 + 21 + 4);
    h->skew += 1000;
    PUMP_UNTIL(h, h->got[0].done);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_got(h, "c.log", 0, 0, "one\nwritten while closed\n");
    assert_got(h, "c.log", 1, 0, "new\n");
    assert_before(got_path(h, "c.log", 0), got_path(h, "c.log", 1));
    assert_int_equal(rotations(h, ROT_RENAME), 1);
}

/* Inactive files are closed and opened again when they grow. */
static void test_close_inactive(void **state)
{
    struct h *h = *state;
    put(h, "i.log", "one\n", false);
    config(h, true, "i.log", NULL);
    h->cfg.close_inactive_ms = 100;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    assert_int_equal(h->in->open, 1);
    assert_true(sl_gauge_get(h->in->m_open) == 1.0);
    h->skew += 1000;
    PUMP_UNTIL(h, h->in->open == 0);
    assert_true(sl_gauge_get(h->in->m_open) == 0.0);
    put(h, "i.log", "two\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 8);
    quiet(h);
    assert_int_equal(h->ngot, 1);
    assert_got(h, "i.log", 0, 0, "one\ntwo\n");
    assert_false(h->got[0].done);
}

/* 1,000 files under a limit of 50 descriptors: every byte read, once, and
 * never more than 50 descriptors of files held. */
static void many_files(struct h *h, size_t nfiles, long long limit)
{
    mkdir(at(h, "many"), 0755);
    char name[64], text[128];
    size_t want = 0;
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(name, sizeof name, "many/f%04zu.log", i);
        int n = snprintf(text, sizeof text,
                         "file %zu line 1\nfile %zu line 2\n", i, i);
        put(h, name, text, false);
        want += (size_t)n;
    }
    config(h, true, "many/*.log", NULL);
    h->cfg.max_open_files = limit;
    int base = count_fds();
    start(h);
    h->count_fds = true;
    h->max_fds = 0;
    PUMP_UNTIL(h, total_bytes(h) == want);
    quiet(h);
    assert_int_equal(h->ngot, nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(name, sizeof name, "many/f%04zu.log", i);
        snprintf(text, sizeof text, "file %zu line 1\nfile %zu line 2\n", i, i);
        assert_got(h, name, 0, 0, text);
    }
    /* the input's descriptors: files, plus inotify */
    assert_true(h->max_fds - base <= limit + 1);
    assert_true(h->in->open <= (size_t)limit);
    assert_int_equal(registry_count(h->reg), nfiles);
}

static void test_1000_files_limit(void **state)
{
    many_files(*state, 1000, 50);
}

/* A new file's first bytes are read a few times however many files are
 * known: whether it is a copy of one looks each known fingerprint length
 * up in the hashes of its first bytes (in_file_fps.c). Before, each known
 * file with a shorter fingerprint than the new one cost a read of the new
 * one's first bytes: 600 one-line files of 7 to 26 bytes under 16
 * descriptors (each found after others were read) read first bytes or
 * tails some 45,000 times, a first start over 20,000 files took 17 s. */
static void test_new_files_read_a_few_times(void **state)
{
    struct h *h = *state;
    enum { N = 600 };
    mkdir(at(h, "n"), 0755);
    char name[64], text[64];
    size_t want = 0;
    for (size_t i = 0; i < N; i++) {
        snprintf(name, sizeof name, "n/f%04zu.log", i);
        want += (size_t)snprintf(text, sizeof text, "line %0*zu\n",
                                 (int)(1 + i % 20), i);
        put(h, name, text, false);
    }
    config(h, true, "n/*.log", NULL);
    h->cfg.max_open_files = 16;
    start(h);
    uint64_t before = file_identity_reads();
    PUMP_UNTIL(h, total_bytes(h) == want);
    uint64_t reads = file_identity_reads() - before;
    print_message("%llu reads of first bytes or tails for %d new files\n",
                  (unsigned long long)reads, N);
    assert_true(reads <= 4 * N);
    quiet(h);
    assert_int_equal(h->ngot, N);
}

/* Files that begin alike share a chain of the fingerprint table
 * (in_file_fps.c), and one leaves it without a walk of the others:
 * deleting 20,000 per-job logs that begin with one banner walked the
 * chain for each, quadratic (4.1 CPU-s after the delete, a third of it
 * in in_file_fps_remove; 0.18 s for 5,000). Each record here is on pages
 * of its own, and all but the one leaving and its two neighbours are
 * made unreadable: a walk from the chain's head faults. */
static void test_fps_remove_walks_no_chain(void **state)
{
    (void)state;
    enum { N = 8, LEN = 100 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t step = (sizeof(struct rec) + page - 1) / page * page;
    int zero = open("/dev/zero", O_RDWR); /* MAP_ANONYMOUS is not POSIX */
    assert_true(zero >= 0);
    char *mem =
        mmap(NULL, step * N, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
    close(zero);
    assert_true(mem != MAP_FAILED);
    struct in_file *in = calloc(1, sizeof *in);
    assert_non_null(in);
    in->fp_bytes = FILE_IDENTITY_DEFAULT_BYTES;
    struct rec *r[N];
    for (size_t i = 0; i < N; i++) {
        r[i] = (struct rec *)(void *)(mem + i * step);
        r[i]->identified = true;
        r[i]->state = REC_LIVE;
        r[i]->slot = (uint32_t)i;
        r[i]->id.fp_len = LEN;
        r[i]->id.fp = 0x5eed;
        assert_int_equal(in_file_fps_update(in, r[i]), 0);
    }
    /* the chain is r[7] ... r[0]: r[2] leaves it between r[3] and r[1] */
    for (size_t i = 0; i < N; i++)
        if (i < 1 || i > 3)
            assert_int_equal(mprotect(mem + i * step, step, PROT_NONE), 0);
    in_file_fps_remove(in, r[2]);
    assert_int_equal(mprotect(mem, step * N, PROT_READ | PROT_WRITE), 0);
    uint64_t pre[LEN + 1] = {0};
    pre[LEN] = 0x5eed;
    assert_int_equal(in_file_fps_match(in, LEN, pre, false), 0);
    assert_int_equal(in->fps.nfound, N - 1);
    for (size_t i = 0; i < in->fps.nfound; i++)
        assert_true(in->fps.found[i] != r[2]);
    for (size_t i = 0; i < N; i++) /* the rest, oldest first */
        in_file_fps_remove(in, r[i]);
    assert_int_equal(in->fps.n, 0);
    assert_int_equal(in_file_fps_match(in, LEN, pre, false), 0);
    assert_int_equal(in->fps.nfound, 0);
    in_file_fps_free(in);
    free(in);
    munmap(mem, step * N);
}

/* Files with the same bytes, all written before the input started
 * (per-job logs that begin with the same line), are files of their own,
 * each read from 0 at once. A copytruncate's copy holds bytes this process
 * read before the copy was written, and it read none of these then. Before,
 * each one found after another like it was read was held for rotate_wait
 * as that one's copy ("a copy of a file read before"), and read from that
 * one's offset, its lines lost, if that one was deleted meanwhile. */
static void test_same_bytes_before_the_start_not_copies(void **state)
{
    struct h *h = *state;
    enum { N = 200 };
    mkdir(at(h, "j"), 0755);
    char name[64];
    const char *line = "2026-12-05 job started\n";
    for (size_t i = 0; i < N + 20; i++) {
        snprintf(name, sizeof name, "j/job%04zu.log", i);
        put(h, name, i < N ? line : "", false); /* and 20 empty ones */
    }
    config(h, true, "j/*.log", NULL);
    h->cfg.max_open_files = 8;
    h->cfg.rotate_wait_ms = 60000; /* a held file would wait past the test */
    start(h);
    h->in->started_ns += 2000000000; /* the files are 2 s older */
    PUMP_UNTIL(h, total_bytes(h) == N * strlen(line));
    quiet(h);
    for (size_t i = 0; i < N; i++) {
        snprintf(name, sizeof name, "j/job%04zu.log", i);
        assert_got(h, name, 0, 0, line);
    }
    assert_int_equal(h->ngot, N);
    for (size_t i = 0; i < h->ngot; i++) /* each its own key: its own ids */
        for (size_t k = 0; k < i; k++)
            assert_true(h->got[k].key != h->got[i].key);
    assert_int_equal(count_in(log_text(h), "a copy of"), 0);
    assert_int_equal(registry_count(h->reg), N + 20);
}

/* Files that come after the limit was reached by files read to their end
 * (idle, close_inactive far off): the one idle longest gives its slot, so
 * the new ones are read at once; a closed one is reopened as it grows. */
static void test_limit_reached_by_idle_files(void **state)
{
    struct h *h = *state;
    put(h, "a.log", "a1\n", false);
    put(h, "b.log", "b1\n", false);
    config(h, true, "*.log", NULL);
    h->cfg.max_open_files = 2;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 6);
    /* one of the 2 slots is kept for a look at a closed file's first
     * bytes, so the descriptors never pass the limit */
    assert_int_equal(h->in->open, 1);
    put(h, "c.log", "c1\n", false);
    put(h, "d.log", "d1\n", false);
    PUMP_UNTIL(h, total_bytes(h) == 12);
    assert_int_equal(h->in->open, 1);
    put(h, "a.log", "a2\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 15);
    assert_got(h, "a.log", 0, 0, "a1\na2\n");
    assert_got(h, "c.log", 0, 0, "c1\n");
    assert_got(h, "d.log", 0, 0, "d1\n");
    assert_true(h->in->open <= 2);
    quiet(h);
}

/* ---- rotation while stopped --------------------------------------------- */

/* Stops (frees the input, saves and loads the registry). */
static void stop(struct h *h)
{
    in_file_free(h->in);
    h->in = NULL;
    struct sl_err err;
    char reg[512];
    snprintf(reg, sizeof reg, "%s.reg", h->dir);
    assert_int_equal(registry_save(h->reg, reg, &err), REGISTRY_SAVED);
    registry_free(h->reg);
    struct registry_config rc;
    registry_config_init(&rc);
    h->reg = registry_load(reg, &rc, NULL, &err);
    assert_non_null(h->reg);
    unlink(reg);
    for (size_t i = 0; i < h->ngot; i++)
        sl_buf_release(&h->got[i].data);
    memset(h->got, 0, sizeof h->got);
    h->ngot = 0;
}

static void test_stopped_resume(void **state)
{
    struct h *h = *state;
    put(h, "s.log", "before\n", false);
    config(h, true, "s.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 7);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "s.log", "while stopped\n", true);
    h->cfg.start_at = IN_FILE_START_END; /* known files resume anyway */
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 14);
    quiet(h);
    assert_got(h, "s.log", 0, 7, "while stopped\n");
    assert_true(h->got[0].key == key);
}

/* rename-and-create while stopped, the rotated name not matched: found by
 * its inode, finished from its offset, then the new file. */
static void test_stopped_rename(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "app.log", "unread\n", true);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "new\n", false);
    start(h);
    h->budget = 2;
    PUMP_UNTIL(h, total_bytes(h) == 11);
    h->skew += 1000;
    PUMP_UNTIL(h, h->got[0].done);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    /* the rotated file first, under its key, from its offset */
    assert_got(h, "app.log.1", 0, 5, "unread\n");
    assert_true(h->got[0].key == key);
    assert_got(h, "app.log", 0, 0, "new\n");
    assert_before(got_path(h, "app.log.1", 0), got_path(h, "app.log", 0));
}

/* rename-and-create while stopped, the rotated name matched (app.log*):
 * the rotated file resumes at its offset and is finished before the new
 * app.log gives a byte. */
static void test_stopped_rename_matched(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "app.log", "unread unread unread\n", true);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "new\n", false);
    start(h);
    h->budget = 3;
    PUMP_UNTIL(h, total_bytes(h) == 25);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_string_equal(h->got[0].first_path, at(h, "app.log.1"));
    assert_got(h, "app.log.1", 0, 5, "unread unread unread\n");
    assert_true(h->got[0].key == key);
    assert_got(h, "app.log", 0, 0, "new\n");
    assert_before(got_path(h, "app.log.1", 0), got_path(h, "app.log", 0));
}

/* Deleted while stopped: its entry finds nothing, a new file at the path
 * is read from 0. */
static void test_stopped_delete(void **state)
{
    struct h *h = *state;
    put(h, "d.log", "old\n", false);
    config(h, true, "d.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    uint64_t key = h->got[0].key;
    stop(h);
    assert_int_equal(unlink(at(h, "d.log")), 0);
    put(h, "keep", "holds the old inode\n", false); /* no reuse */
    put(h, "d.log", "fresh\n", false);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 6);
    quiet(h);
    assert_int_equal(h->ngot, 1);
    assert_got(h, "d.log", 0, 0, "fresh\n");
    assert_true(h->got[0].key != key);
}

/* copytruncate while stopped, the copy matched. */
static void test_stopped_copytruncate(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "app.log.1", "read\nunread\n", false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", "after\n", true);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 13);
    quiet(h);
    assert_got(h, "app.log.1", 0, 5, "unread\n");
    assert_true(got_path(h, "app.log.1", 0)->key == key);
    assert_got(h, "app.log", 0, 0, "after\n");
    assert_true(got_path(h, "app.log", 0)->key != key);
}

/* copytruncate while stopped (the copy in old/, logrotate's olddir), then,
 * a moment after the restart, the emptied original renamed away and a
 * new file made in its place, after the first scan and before the
 * original's first open (logrotate again, under a writer): the original,
 * its path another file's now, is followed by its inode at once, and the
 * copy waits for it, then is read from where the original was, under its
 * key. It was read whole again under a new key (the original left the
 * wait list until the next scan, the copy decided without it): the stress
 * driver's multiline seed 48, 494 lines twice with other ids. */
static void test_stopped_copytruncate_original_renamed_at_start(void **state)
{
    struct h *h = *state;
    mkdir(at(h, "old"), 0755);
    put(h, "app.log", "first line, read\n", false);
    config(h, false, "app.log*", "old/app.log*");
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 17);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "old/app.log.1", "first line, read\nunread\n", false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    start(h);
    in_file_process(h->in, NULL, 0, now_of(h)); /* the first scan */
    mv(h, "app.log", "app.log.2");
    put(h, "app.log", "new\n", false);
    PUMP_UNTIL(h, total_bytes(h) >= 11);
    for (int64_t end = mono_ms() + 300; mono_ms() < end;) {
        in_file_rescan(h->in);
        turn(h, 5);
    }
    if (total_bytes(h) != 11)
        dump(h);
    assert_int_equal(total_bytes(h), 11);
    assert_got(h, "old/app.log.1", 0, 17, "unread\n");
    assert_true(got_path(h, "old/app.log.1", 0)->key == key);
    assert_got(h, "app.log", 0, 0, "new\n");
}

/* max_open_files 2 (one descriptor to read with): a restart drains a file
 * rotated while stopped, the new file at its path waits for its end,
 * opened and kept for it; deleted before the rotated one got a descriptor
 * (kubelet, or logrotate again, while the output held reading), the new
 * one held the only descriptor while it waited for its predecessor, which
 * waited for that descriptor: nothing was read again (the stress driver's
 * seed 52 with Redis outages, 20 s without a line). A successor rotated
 * away with its descriptor is read at once, before its predecessor. */
static void test_stopped_rotation_successor_deleted_under_limit(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log*", NULL);
    h->cfg.max_open_files = 2;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    stop(h);
    put(h, "app.log", "unread\n", true);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "new file\n", false);
    start(h);
    /* the first scan, then one that sees the delete, nothing read in
     * between (the output holds reading) */
    in_file_process(h->in, NULL, 0, now_of(h));
    assert_int_equal(unlink(at(h, "app.log")), 0);
    in_file_rescan(h->in);
    in_file_process(h->in, NULL, 0, now_of(h));
    PUMP_UNTIL(h, total_bytes(h) == 7 + 9);
    h->skew += 1000;
    quiet(h);
    assert_got(h, "app.log.1", 0, 5, "unread\n");
    assert_got(h, "app.log", 0, 0, "new file\n");
    assert_true(got_path(h, "app.log", 0)->done); /* released */
    assert_int_equal(h->in->open, 1);             /* app.log.1, live */
}

/* max_open_files 2: a file renamed while closed to a name `paths` does
 * not match (drained there), then to one it matches (live again), was left
 * open at its end off the idle list: it held the one descriptor to read
 * with until close_inactive (5 min), and no other file was read (the
 * stress driver's 200 files, seed 44: 40 s without a line). */
static void test_back_at_a_matched_path_gives_its_slot(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "one\n", false);
    config(h, true, "app.log", "app.log.1");
    h->cfg.max_open_files = 2;
    h->cfg.close_inactive_ms = 10;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    h->skew += 100;
    PUMP_UNTIL(h, h->in->open == 0); /* closed, inactive */
    h->in->cfg.close_inactive_ms = 300000;
    mv(h, "app.log", "app.tmp");
    put(h, "app.tmp", "two\n", true);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, total_bytes(h) == 8); /* renamed away while closed */
    mv(h, "app.tmp", "app.log.1");
    in_file_rescan(h->in);
    turn(h, 5); /* back at a matched path */
    put(h, "app.log", "new\n", false);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, total_bytes(h) == 12);
    assert_got(h, "app.log", 1, 0, "new\n");
}

/* Deleted while stopped, and an entry whose inode holds another file now
 * (inode reuse while stopped, constructed): read from 0, a new key. */
static void test_stopped_inode_reuse(void **state)
{
    struct h *h = *state;
    put(h, "n.log", "a new file on an old inode\n", false);
    struct stat st;
    assert_int_equal(stat(at(h, "n.log"), &st), 0);
    struct file_identity old = {
        .dev = st.st_dev, .ino = st.st_ino, .fp = 0x1234, .fp_len = 26};
    struct sl_err err;
    assert_int_equal(
        registry_add(h->reg, &old, 77, at(h, "n.log"), 26, 1, &err), 0);
    config(h, true, "n.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 27);
    quiet(h);
    assert_got(h, "n.log", 0, 0, "a new file on an old inode\n");
    assert_true(h->got[0].key != 77);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_true(e->key == h->got[0].key);
    assert_int_equal(e->offset, 27);
}

/* The registry entry that keeps the ghost of the bytes under key (its
 * inode has the top bit set), or NULL. */
static const struct registry_entry *ghost_entry(struct h *h, uint64_t key)
{
    size_t cur = 0;
    const struct registry_entry *e;
    while ((e = registry_next(h->reg, &cur)) != NULL)
        if ((e->id.ino >> 63) != 0 && e->key == key)
            return e;
    return NULL;
}

/* A line of n bytes of c, with its newline, into buf (n + 2 bytes). */
static const char *line_of(char *buf, char c, size_t n)
{
    memset(buf, c, n - 1);
    buf[n - 1] = '\n';
    buf[n] = '\0';
    return buf;
}

/* copytruncate while stopped, the copy out of `paths`' sight (app.old)
 * until a restart after the one that saw the truncation: the ghost, kept
 * in the registry under its inode with the top bit set, still knows it
 * (nothing read twice, the original's key). A ghost kept longer ago than
 * IN_FILE_GHOST_MS (its entry's `seen`) is forgotten at the start
 * instead, and the copy is then a file of its own. */
static void ghost_across_restarts(struct h *h, bool expired)
{
    char big[1100];
    put(h, "app.log", line_of(big, 'x', 1099), false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1099);
    uint64_t key = h->got[0].key;
    stop(h);
    put(h, "app.old", big, false); /* the copy, not matched */
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    start(h); /* the truncation seen: the ghost kept */
    quiet(h);
    stop(h);
    const struct registry_entry *e = ghost_entry(h, key);
    assert_non_null(e);
    if (expired) { /* kept 301 s ago */
        struct file_identity id = e->id;
        uint64_t off = e->offset;
        char path[512];
        snprintf(path, sizeof path, "%s", e->path);
        registry_forget(h->reg, id.dev, id.ino);
        struct sl_err err;
        assert_int_equal(
            registry_add(h->reg, &id, key, path, off, time(NULL) - 301, &err),
            0);
    }
    start(h); /* a restart: the copy not in sight yet */
    quiet(h);
    stop(h);
    assert_true((ghost_entry(h, key) == NULL) == expired);
    mv(h, "app.old", "app.log.1");
    put(h, "app.log", "after\n", true);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == (expired ? 1099 : 0) + 6);
    quiet(h);
    assert_got(h, "app.log", 0, 0, "after\n");
    if (expired)
        assert_got(h, "app.log.1", 0, 0, big);
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_non_null(e);
    assert_int_equal(e->offset, 1099);
    assert_true((e->key == key) == !expired);
    assert_null(ghost_entry(h, key));
}

static void test_stopped_ghost_kept_across_restarts(void **state)
{
    ghost_across_restarts(*state, false);
}

static void test_stopped_ghost_expired(void **state)
{
    ghost_across_restarts(*state, true);
}

/* One file copytruncated twice, each copy out of `paths`' sight until
 * both truncations were seen (two restarts): each truncation's ghost
 * keeps its own registry entry (one per inode kept only the second, and
 * the first copy was read again from 0 under a new key). */
static void test_stopped_two_ghosts_of_one_file(void **state)
{
    struct h *h = *state;
    char a[1100], b[1200];
    put(h, "app.log", line_of(a, 'a', 1099), false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1099);
    uint64_t key_a = h->got[0].key;
    stop(h);
    put(h, "app.old1", a, false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", line_of(b, 'b', 1199), true);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1199);
    uint64_t key_b = h->got[0].key;
    stop(h);
    put(h, "app.old2", b, false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    start(h);
    quiet(h);
    stop(h);
    assert_non_null(ghost_entry(h, key_a));
    assert_non_null(ghost_entry(h, key_b));
    mv(h, "app.old1", "app.log.1");
    mv(h, "app.old2", "app.log.2");
    put(h, "app.log", "after\n", true);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 6);
    quiet(h);
    assert_int_equal(h->ngot, 1);
    assert_got(h, "app.log", 0, 0, "after\n");
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    assert_true(registry_get(h->reg, st.st_dev, st.st_ino)->key == key_a);
    assert_int_equal(stat(at(h, "app.log.2"), &st), 0);
    assert_true(registry_get(h->reg, st.st_dev, st.st_ino)->key == key_b);
}

/* A file read and sent, nothing of it acknowledged (its entry at offset
 * 0), then while stopped copied over a file read before (cp keeps that
 * one's inode, so the copy is settled first, at its entry's path),
 * truncated and renamed: its ghost, at offset 0, exists before the copy
 * is decided, which is read from 0 under the original's key (the lines
 * sent again keep their ids). */
static void test_stopped_unacked_copy_over_a_known_file(void **state)
{
    struct h *h = *state;
    put(h, "app.log.1", "an old rotated file\n", false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 20);
    stop(h);
    char big[1100];
    put(h, "app.log", line_of(big, 'x', 1099), false);
    int fd = open(at(h, "app.log"), O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct file_identity id;
    struct sl_err err;
    assert_int_equal(
        file_identity_compute(fd, FILE_IDENTITY_DEFAULT_BYTES, &id, &err), 0);
    close(fd);
    assert_int_equal(
        registry_add(h->reg, &id, 77, at(h, "app.log"), 0, time(NULL), &err),
        0);
    put(h, "app.log.1", big, false); /* over the old file: its inode */
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    mv(h, "app.log", "app.log.2");
    put(h, "app.log", "new\n", false);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1099 + 4);
    quiet(h);
    assert_got(h, "app.log.1", 0, 0, big);
    assert_true(got_path(h, "app.log.1", 0)->key == 77);
    assert_got(h, "app.log", 0, 0, "new\n");
}

/* ---- the config --------------------------------------------------------- */

static void test_config(void **state)
{
    (void)state;
    struct sl_err err = {0};
    assert_int_equal(sl_config_table_verify(&in_file_config_table, &err), 0);
    const char *text =
        "{\"type\":\"file\",\"paths\":[\"/var/log/*.log\",\"/x/**/y\"],"
        "\"exclude\":\"*.gz\",\"start_at\":\"end\",\"format\":\"lines\","
        "\"multiline\":{\"preset\":\"python\"},\"processors\":[],"
        "\"fields\":{},\"scan_interval\":\"2s\",\"close_inactive\":\"1m\","
        "\"max_open_files\":10,\"inotify\":false}";
    struct sl_config *c =
        sl_config_load_buffer("shipper.json", text, strlen(text), &err);
    assert_non_null(c);
    struct in_file_config cfg;
    assert_int_equal(in_file_config_read(&cfg, sl_config_root(c), &err), 0);
    assert_int_equal(cfg.paths.n, 2);
    assert_string_equal(cfg.paths.v[1], "/x/**/y");
    assert_int_equal(cfg.exclude.n, 1);
    assert_int_equal(cfg.start_at, IN_FILE_START_END);
    assert_int_equal(cfg.scan_interval_ms, 2000);
    assert_int_equal(cfg.close_inactive_ms, 60000);
    assert_int_equal(cfg.rotate_wait_ms, 5000);
    assert_int_equal(cfg.max_open_files, 10);
    assert_int_equal(cfg.read_size, 65536);
    assert_false(cfg.inotify);
    assert_non_null(cfg.multiline);
    in_file_config_release(&cfg);
    sl_config_free(c);
    const char *bad = "{\"type\":\"file\",\"paths\":[\"/a\"],\"strat_at\":1}";
    c = sl_config_load_buffer("shipper.json", bad, strlen(bad), &err);
    assert_int_equal(in_file_config_read(&cfg, sl_config_root(c), &err), -1);
    assert_non_null(strstr(err.msg, "unknown key 'strat_at' (did you mean "
                                    "'start_at'?)"));
    sl_config_free(c);
    const char *empty = "{\"type\":\"file\",\"paths\":[\"/a\",\n\"\"]}";
    c = sl_config_load_buffer("shipper.json", empty, strlen(empty), &err);
    assert_int_equal(in_file_config_read(&cfg, sl_config_root(c), &err), -1);
    assert_string_equal(err.msg, "shipper.json:2:1: paths[1]: found a string "
                                 "\"\", expected a glob that is not empty");
    sl_config_free(c);
    const char *none = "{\"type\":\"file\",\"paths\":[]}";
    c = sl_config_load_buffer("shipper.json", none, strlen(none), &err);
    assert_int_equal(in_file_config_read(&cfg, sl_config_root(c), &err), -1);
    sl_config_free(c);
}

/* A new file is not read before a save put its key on disk
 * (in_file_set_keys_saved), though its entry is made at once. */
static void test_keys_saved_first(void **state)
{
    struct h *h = *state;
    put(h, "k.log", "old\n", false);
    config(h, true, "k.log", NULL);
    start(h);
    in_file_set_keys_saved(h->in, registry_keys_added(h->reg));
    PUMP_UNTIL(h, registry_count(h->reg) == 1);
    int64_t end = mono_ms() + 150;
    while (mono_ms() < end)
        turn(h, 5);
    assert_int_equal(total_bytes(h), 0);
    assert_int_equal(registry_keys_added(h->reg), 1);
    in_file_set_keys_saved(h->in, 1);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    /* a file known from before needs no save */
    put(h, "k.log", "more\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 9);
    assert_int_equal(registry_keys_added(h->reg), 1);
}

/* A file seen empty: its first bytes wait for a save of their
 * fingerprint, as a new key does (an empty fingerprint matches every
 * file: after a kill, a file written again would resume under this key,
 * its lines taking the ids of lines sent before). */
static void test_empty_file_fp_saved_first(void **state)
{
    struct h *h = *state;
    put(h, "e.log", "", false);
    config(h, true, "e.log", NULL);
    start(h);
    in_file_set_keys_saved(h->in, registry_keys_added(h->reg));
    PUMP_UNTIL(h, registry_count(h->reg) == 1);
    in_file_set_keys_saved(h->in, registry_keys_added(h->reg));
    put(h, "e.log", "first\n", true);
    PUMP_UNTIL(h, registry_keys_added(h->reg) == 2);
    int64_t end = mono_ms() + 150;
    while (mono_ms() < end)
        turn(h, 5);
    assert_int_equal(total_bytes(h), 0);
    struct stat st;
    assert_int_equal(stat(at(h, "e.log"), &st), 0);
    assert_int_equal(
        registry_get(h->reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino)
            ->id.fp_len,
        6);
    in_file_set_keys_saved(h->in, 2);
    PUMP_UNTIL(h, total_bytes(h) == 6);
    /* a fingerprint of some bytes: growth needs no save */
    put(h, "e.log", "second\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 13);
    assert_int_equal(registry_keys_added(h->reg), 2);
}

/* app.log renamed away while read (the output holds: one chunk a turn),
 * the new app.log waits for it and gets its entry from the scan that
 * found it; returns with the second renamed away too, never read. */
static void waiting_renamed_away(struct h *h)
{
    put(h, "app.log", "first\n", false);
    config(h, true, "app.log", NULL);
    start(h);
    h->budget = 2;
    h->max_reads = 1;
    PUMP_UNTIL(h, total_bytes(h) == 2);
    mv(h, "app.log", "app.log.1");
    put(h, "app.log", "second\n", false);
    in_file_rescan(h->in);
    turn(h, 5);
    assert_int_equal(total_bytes(h), 4);
    struct stat st;
    assert_int_equal(stat(at(h, "app.log"), &st), 0);
    const struct registry_entry *e =
        registry_get(h->reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    assert_non_null(e);
    assert_int_equal(e->offset, 0);
    mv(h, "app.log", "app.log.2");
}

/* Then a third app.log: each read once, the second after the first. The
 * second waited with its descriptor (a file renamed while open keeps the
 * name it was found at). */
static void test_waiting_renamed_away(void **state)
{
    struct h *h = *state;
    waiting_renamed_away(h);
    put(h, "app.log", "third\n", false);
    in_file_rescan(h->in);
    h->max_reads = 0;
    h->skew += 1000;
    PUMP_UNTIL(h, total_bytes(h) == 6 + 7 + 6);
    h->skew += 1000;
    PUMP_UNTIL(h, got_path(h, "app.log", 0)->done &&
                      got_path(h, "app.log", 1)->done);
    quiet(h);
    assert_int_equal(h->ngot, 3);
    assert_got(h, "app.log", 0, 0, "first\n");
    assert_got(h, "app.log", 1, 0, "second\n");
    assert_got(h, "app.log", 2, 0, "third\n");
    assert_before(got_path(h, "app.log", 0), got_path(h, "app.log", 1));
    assert_int_equal(count_in(log_text(h), "not read"), 0);
}

/* Or stopped there: the restart finds the second by its inode from its
 * entry (under app.log) and reads it from 0, after the rest of the first. */
static void test_waiting_renamed_away_then_stopped(void **state)
{
    struct h *h = *state;
    waiting_renamed_away(h);
    stop(h);
    start(h);
    h->max_reads = 0;
    h->skew += 1000;
    PUMP_UNTIL(h, total_bytes(h) == 2 + 7);
    quiet(h);
    assert_int_equal(h->ngot, 2);
    assert_got(h, "app.log.1", 0, 4, "t\n");
    assert_got(h, "app.log.2", 0, 0, "second\n");
}

/* ---- status rows (in_file_next_row, status_files_render) ---------------- */

/* One row of /status as status_files_render writes it. */
static void status_row(struct h *h, char *buf, size_t size, const char *name,
                       const char *state, const char *acked, const char *read,
                       const char *fsize, const char *last)
{
    snprintf(buf, size,
             "{\"path\":\"%s/%s\",\"state\":\"%s\",\"acked\":%s,\"read\":%s,"
             "\"size\":%s,\"last_read\":%s}",
             h->dir, name, state, acked, read, fsize, last);
}

/* a.log read past what Redis acknowledged, b.log at its end, c.log new
 * with its key not saved yet, dir.log a directory the glob matched: each
 * a row, sorted by path, with the offsets the input holds; a body that
 * would pass max_bytes stops before the row and counts the rest. */
static void test_status_rows(void **state)
{
    struct h *h = *state;
    struct sl_err err = {0};
    put(h, "a.log", "one\ntwo\n", false);
    put(h, "b.log", "x\n", false);
    assert_int_equal(mkdir(at(h, "dir.log"), 0755), 0);
    config(h, true, "*.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 10);
    in_file_set_keys_saved(h->in, registry_keys_added(h->reg));
    put(h, "c.log", "new\n", false);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, registry_count(h->reg) == 3);
    /* a's new bytes read once, not acknowledged (Redis has not answered) */
    put(h, "a.log", "three\n", true);
    in_file_rescan(h->in);
    struct in_file_chunk c = {0};
    int64_t deadline = mono_ms() + 10000;
    for (int rc = 0; rc == 0;) {
        assert_true(mono_ms() < deadline);
        in_file_process(h->in, NULL, 0, now_of(h));
        rc = in_file_read(h->in, 1 << 20, now_of(h), &c, &err);
        assert_true(rc >= 0);
    }
    assert_true(c.kind == IN_FILE_DATA && c.offset == 8 && c.len == 6);
    for (size_t i = 0; i < h->in->nrecs; i++)
        h->in->recs[i]->last_data = 5000;
    char a[512], b[512], cc[512], d[512], want[4096];
    status_row(h, a, sizeof a, "a.log", "reading", "8", "14", "14",
               "1700000000");
    status_row(h, b, sizeof b, "b.log", "idle", "2", "2", "2", "1700000000");
    status_row(h, cc, sizeof cc, "c.log", "waiting-key", "0", "0", "4",
               "1700000000");
    snprintf(d, sizeof d,
             "{\"path\":\"%s/dir.log\",\"state\":\"skipped\",\"reason\":"
             "\"a directory\",\"acked\":null,\"read\":null,\"size\":null,"
             "\"last_read\":null}",
             h->dir);
    struct sl_buf body = SL_BUF_INIT(1 << 20);
    struct in_file *ins[2] = {NULL, h->in}; /* a stdin input: NULL */
    assert_int_equal(status_files_render(NULL, ins, 2, 8000, 1700000003000,
                                         STATUS_FILES_MAX_BYTES, &body, &err),
                     0);
    snprintf(want, sizeof want,
             "{\"files\":[%s,%s,%s,%s],\"files_known\":4,"
             "\"files_omitted\":0}",
             a, b, cc, d);
    assert_string_equal(body.ptr, want);
    /* bounded: a and b fit in max_bytes, c would pass it */
    sl_buf_reset(&body);
    assert_int_equal(status_files_render(NULL, ins, 2, 8000, 1700000003000,
                                         strlen(a) + 1 + strlen(b) + 1, &body,
                                         &err),
                     0);
    snprintf(want, sizeof want,
             "{\"files\":[%s,%s],\"files_known\":4,\"files_omitted\":2,"
             "\"files_next\":\"/status?after=%s/b.log\"}",
             a, b, h->dir);
    assert_string_equal(body.ptr, want);
    /* the next page: the rows after b.log, and no files_next at the end */
    char after[600];
    snprintf(after, sizeof after, "%s/b.log", h->dir);
    struct status_files_page pg = {.after = after,
                                   .max_bytes = STATUS_FILES_MAX_BYTES,
                                   .mono_now = 8000,
                                   .wall_now_ms = 1700000003000};
    sl_buf_reset(&body);
    assert_int_equal(status_files_render_page(NULL, ins, 2, &pg, &body, &err),
                     0);
    snprintf(want, sizeof want,
             "{\"files\":[%s,%s],\"files_known\":4,\"files_omitted\":2}", cc,
             d);
    assert_string_equal(body.ptr, want);
    sl_buf_release(&body);
}

/* The counters stay as they were, the files added after them. */
static void test_status_rows_after_metrics(void **state)
{
    struct h *h = *state;
    struct sl_err err = {0};
    put(h, "a.log", "one\n", false);
    config(h, true, "a.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    struct sl_buf m = SL_BUF_INIT(1 << 20), body = SL_BUF_INIT(1 << 20);
    assert_int_equal(sl_metrics_render_json(h->m, &m, &err), 0);
    assert_int_equal(status_files_render(h->m, &h->in, 1, mono_ms(),
                                         1700000000000, STATUS_FILES_MAX_BYTES,
                                         &body, &err),
                     0);
    assert_true(m.len > 2 && body.len > m.len);
    assert_memory_equal(body.ptr, m.ptr, m.len - 1);
    char want[600];
    snprintf(want, sizeof want, ",\"files\":[{\"path\":\"%s/a.log\"", h->dir);
    assert_memory_equal(body.ptr + m.len - 1, want, strlen(want));
    assert_non_null(strstr(body.ptr, "\"files_known\":1,\"files_omitted\":0}"));
    sl_buf_release(&m);
    sl_buf_release(&body);
}

/* What in_file_set_user_unread says of a.log's user: u, the file has
 * bytes not read (grew, or waits for a descriptor); c, a read caught up
 * with its end. */
static char unread_said[64];
static size_t n_unread_said;

static void on_unread(void *user, bool unread, int64_t now)
{
    (void)user;
    assert_true(unread || now > 0);
    if (n_unread_said + 1 < sizeof unread_said)
        unread_said[n_unread_said++] = unread ? 'u' : 'c';
    unread_said[n_unread_said] = '\0';
}

/* a.log ("one\n") watched, its user told of unread bytes (on_unread);
 * rotate_wait_ms 0: the harness's. */
static void start_told_unread(struct h *h, int64_t rotate_wait_ms)
{
    n_unread_said = 0;
    unread_said[0] = '\0';
    put(h, "a.log", "one\n", false);
    config(h, true, "a.log", NULL);
    if (rotate_wait_ms > 0)
        h->cfg.rotate_wait_ms = rotate_wait_ms;
    start(h);
    in_file_set_user_unread(h->in, on_unread);
}

/* A turn with no room in the output: events and ticks, nothing read. */
static void events_only(struct h *h, int wait_ms)
{
    struct pollfd pfd[2];
    size_t n = in_file_fill_pollfds(h->in, pfd, 2);
    assert_true(poll(pfd, n, wait_ms) >= 0);
    in_file_process(h->in, pfd, n, now_of(h));
}

/* The caller's user is told when its file grew and was not read yet, and
 * when a read caught up with its end (its multiline.timeout counts from
 * then, not while the shipper reads nothing: backpressure); a rotated
 * file looked at again every tick for a writer's last bytes says
 * nothing. */
static void test_user_told_unread(void **state)
{
    struct h *h = *state;
    start_told_unread(h, 0);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    PUMP_UNTIL(h, n_unread_said > 0);
    assert_string_equal(unread_said, "c"); /* read to its end */
    put(h, "a.log", "two\n", true);
    /* no room: the loop processes events and does not read */
    int64_t end = mono_ms() + 5000;
    while (n_unread_said < 2 && mono_ms() < end) {
        events_only(h, 10);
    }
    assert_string_equal(unread_said, "cu");
    PUMP_UNTIL(h, total_bytes(h) == 8 && n_unread_said == 3);
    assert_string_equal(unread_said, "cuc");
    /* rotated: read to its end once (u, c), then looked at again every
     * tick (c each time, never u) */
    mv(h, "a.log", "a.log.1");
    end = mono_ms() + 150;
    while (mono_ms() < end)
        turn(h, 5);
    assert_true(count_in(unread_said + 3, "u") <= 1);
    assert_true(count_in(unread_said + 3, "c") >= 3);
    assert_int_equal(unread_said[n_unread_said - 1], 'c');
}

/* A rotated file at its end is put back on the ready list at every tick
 * (for a writer's last bytes) with nothing said; when it then grows and
 * the loop reads nothing (backpressure), its user is told all the same:
 * else its multiline.timeout ran on over bytes on disk and not read, and
 * cut an event whose rest the writer had written (a traceback written in
 * one write() and read half-done, at a page boundary between two of its
 * lines, would ship as two events: a possible cause, not reproduced, of
 * the stress driver's missing traceback, kubelet names, outages). */
static void test_rotated_growth_told_unread(void **state)
{
    struct h *h = *state;
    start_told_unread(h, 2000); /* a tick every 500 ms */
    PUMP_UNTIL(h, total_bytes(h) == 4 && n_unread_said > 0);
    mv(h, "a.log", "a.log.1");
    PUMP_UNTIL(h, rotations(h, ROT_RENAME) == 1 && h->in->nrecs == 1 &&
                      h->in->recs[0]->at_eof);
    assert_int_equal(unread_said[n_unread_said - 1], 'c');
    /* no room from here on: events and ticks processed, nothing read; a
     * tick puts it back on the ready list */
    int64_t end = mono_ms() + 1500;
    while (!h->in->recs[0]->ready && mono_ms() < end) {
        events_only(h, 5);
    }
    assert_true(h->in->recs[0]->ready);
    size_t was = n_unread_said;
    put(h, "a.log.1", "two\n", true);
    end = mono_ms() + 1000;
    while (count_in(unread_said + was, "u") == 0 && mono_ms() < end) {
        events_only(h, 10);
    }
    assert_int_equal(count_in(unread_said + was, "u"), 1);
    PUMP_UNTIL(h, total_bytes(h) == 8);
}

/* A file waiting to be opened says why: waiting-max-open while every one
 * of max_open_files descriptors holds a file with bytes left, and
 * waiting-output when the output has no room (then nothing is read). */
static void test_status_waiting_reasons(void **state)
{
    struct h *h = *state;
    struct sl_err err = {0};
    put(h, "a.log", "aaaaaaaa\n", false);
    put(h, "b.log", "bbbbbbbb\n", false);
    config(h, true, "*.log", NULL);
    h->cfg.max_open_files = 1;
    start(h);
    struct in_file_chunk c = {0};
    int64_t deadline = mono_ms() + 10000;
    for (int rc = 0; rc == 0;) { /* one byte of the first: it has more */
        assert_true(mono_ms() < deadline);
        in_file_process(h->in, NULL, 0, now_of(h));
        rc = in_file_read(h->in, 1, now_of(h), &c, &err);
        assert_true(rc >= 0);
    }
    assert_int_equal(h->in->open, 1);
    struct status_files_page pg = {.max_bytes = STATUS_FILES_MAX_BYTES,
                                   .mono_now = 8000,
                                   .wall_now_ms = 1700000003000};
    struct sl_buf body = SL_BUF_INIT(1 << 20);
    for (int full = 0; full < 2; full++) {
        pg.output_full = full;
        sl_buf_reset(&body);
        assert_int_equal(
            status_files_render_page(NULL, &h->in, 1, &pg, &body, &err), 0);
        assert_non_null(strstr(body.ptr, "\"state\":\"reading\""));
        assert_non_null(strstr(body.ptr, full ? "\"state\":\"waiting-output\""
                                              : "\"state\":\"waiting-max-"
                                                "open\""));
        assert_null(strstr(body.ptr, "\"waiting\""));
        if (full)
            assert_memory_equal(body.ptr, "{\"output_full\":true,\"files\":[",
                                29);
        else
            assert_null(strstr(body.ptr, "output_full"));
    }
    sl_buf_release(&body);
}

/* The "after" of a /status query, decoded: other parameters ignored, a
 * bad escape, a NUL or a path too long refused. */
static void test_status_query_after(void **state)
{
    (void)state;
    char out[16];
    static const char q[] = "x=1&after=%2Fa%20b%25+&y";
    assert_int_equal(status_files_query_after(q, strlen(q), out, sizeof out),
                     1);
    assert_string_equal(out, "/a b%+");
    assert_int_equal(status_files_query_after("x=1", 3, out, sizeof out), 0);
    assert_int_equal(status_files_query_after("", 0, out, sizeof out), 0);
    assert_int_equal(status_files_query_after("after=", 6, out, sizeof out), 1);
    assert_string_equal(out, "");
    assert_int_equal(status_files_query_after("after=%zz", 9, out, sizeof out),
                     -1);
    assert_int_equal(status_files_query_after("after=%2", 8, out, sizeof out),
                     -1);
    assert_int_equal(status_files_query_after("after=%00", 9, out, sizeof out),
                     -1);
    assert_int_equal(
        status_files_query_after("after=0123456789abcdef", 22, out, sizeof out),
        -1);
}

/* Two inputs, one file: the second input (paths: app.log) leaves the file
 * to the first (paths: *.log), which comes first: it reads nothing, lists
 * no row, and says so once, however many scans. */
static void test_two_inputs_one_file(void **state)
{
    struct h *h = *state;
    struct sl_err err = {0};
    config(h, true, "*.log", NULL);
    put(h, "app.log", "a\n", false);
    put(h, "other.log", "b\n", false);
    start(h);
    struct in_file_config c2 = h->cfg;
    char p2[512];
    snprintf(p2, sizeof p2, "%s/app.log", h->dir);
    const char *v2[1] = {p2};
    c2.paths.v = v2;
    c2.paths.n = 1;
    struct in_file *in2 = in_file_new(&c2, h->reg, "second", NULL, &err);
    assert_non_null(in2);
    struct in_file *all[2] = {h->in, in2};
    assert_int_equal(in_file_set_peers(h->in, all, 2, 0, &err), 0);
    assert_int_equal(in_file_set_peers(in2, all, 2, 1, &err), 0);
    PUMP_UNTIL(h, total_bytes(h) == 4);
    for (int i = 0; i < 3; i++) {
        struct in_file_chunk c;
        in_file_rescan(in2);
        in_file_process(in2, NULL, 0, now_of(h));
        assert_int_equal(in_file_read(in2, 4096, now_of(h), &c, &err), 0);
    }
    size_t cur = 0;
    struct in_file_row row;
    assert_false(in_file_next_row(in2, &cur, &row));
    const char *log = log_text(h);
    const char *w = strstr(log, "is matched by t too, which comes first");
    assert_non_null(w);
    assert_null(strstr(w + 1, "is matched by t too"));
    in_file_free(in2);
}

/* The acks held back come now, and later ones at once again. */
static void ack_late(struct h *h)
{
    struct sl_err err = {0};
    for (size_t i = 0; i < h->npend; i++)
        if (registry_ack(h->reg, &h->pend[i].id, h->pend[i].key, NULL,
                         h->pend[i].offset, time(NULL), &err) < 0)
            fail_msg("registry_ack: %s", err.msg);
    h->npend = 0;
    h->defer_acks = false;
}

enum late { LATE_HELD, LATE_BEFORE_COPY, LATE_AFTER_COPY };

/* copytruncate while the acks of the original's last lines are in flight:
 * they name the original, whose entry has a new key once the truncation
 * is seen (or, while a copy found first is held, only the original's
 * entry). They must still move the entry the copy reads from (its own,
 * or the ghost's that makes it), else a restart (a SIGTERM, here the
 * registry saved and loaded) reads those lines again from the copy. The
 * copy found before the truncation (held), after it with the acks before
 * it, or after it with the acks after. */
/* app.log: a line read and acknowledged, then one read whose ack is held
 * back (33 bytes in all). */
static void read_one_ack_late(struct h *h)
{
    put(h, "app.log", "acked at once\n", false); /* 14 bytes */
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 14);
    h->defer_acks = true;
    put(h, "app.log", "read, its ack late\n", true); /* 19: 33 */
    PUMP_UNTIL(h, total_bytes(h) == 33);
}

static void acks_after_copytruncate(struct h *h, enum late when)
{
    read_one_ack_late(h);
    uint64_t key = h->got[0].key;
    const char *both = "acked at once\nread, its ack late\n";
    if (when == LATE_HELD) {
        put(h, "app.log.1", both, false);
        PUMP_UNTIL(h, count_in(log_text(h), "held until") == 1);
        ack_late(h);
        assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    } else {
        put(h, "copying", both, false); /* not matched yet */
        assert_int_equal(truncate(at(h, "app.log"), 0), 0);
        PUMP_UNTIL(h, rotations(h, ROT_TRUNCATE) == 1);
        if (when == LATE_BEFORE_COPY)
            ack_late(h);
        mv(h, "copying", "app.log.1");
    }
    PUMP_UNTIL(h, rotations(h, ROT_COPYTRUNCATE) == 1);
    if (when == LATE_AFTER_COPY)
        ack_late(h);
    quiet(h);
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_non_null(e);
    assert_true(e->key == key);
    assert_int_equal(e->offset, 33);
    stop(h); /* forgets what came */
    start(h);
    quiet(h); /* nothing read again */
    assert_int_equal(h->ngot, 0);
}

static void test_copytruncate_acks_while_held(void **state)
{
    acks_after_copytruncate(*state, LATE_HELD);
}

static void test_copytruncate_acks_before_copy(void **state)
{
    acks_after_copytruncate(*state, LATE_BEFORE_COPY);
}

static void test_copytruncate_acks_after_copy(void **state)
{
    acks_after_copytruncate(*state, LATE_AFTER_COPY);
}

/* The copy found while cp still writes it, ending in the middle of a
 * line, and the original's acks come: its entry moves to an ack's offset
 * only where the copy already has those bytes. Moved to its end (the
 * middle of a line), a kill before the truncation left the restart
 * reading the rest of that line as a line of its own, under an id no
 * line had. */
static void test_copytruncate_acks_while_copy_written(void **state)
{
    struct h *h = *state;
    read_one_ack_late(h);
    put(h, "app.log.1", "acked at once\nread,", false); /* 19 so far */
    PUMP_UNTIL(h, count_in(log_text(h), "held until") == 1);
    ack_late(h);
    struct stat st;
    assert_int_equal(stat(at(h, "app.log.1"), &st), 0);
    assert_int_equal(registry_get(h->reg, st.st_dev, st.st_ino)->offset, 14);
    stop(h); /* a kill: the copy still held */
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    quiet(h);
    assert_got(h, "app.log.1", 0, 14, "read,");
}

/* A registry entry of a file that was empty when seen (an empty
 * fingerprint: nothing was sent under its key, its offset is 0), then,
 * while stopped: the same file written (e.log), and a new file on the
 * inode of such an entry (n.log, constructed as inode reuse: the old
 * file deleted, the inode given to the next file). Both are read from 0,
 * every byte once, under keys of their own (no bytes were sent under
 * the old ones, so no id can collide), and leave no ghost (an empty
 * fingerprint would take any file for a copy). */
static void test_stopped_empty_entry(void **state)
{
    struct h *h = *state;
    put(h, "e.log", "", false);
    config(h, true, "*.log", NULL);
    start(h);
    PUMP_UNTIL(h, registry_count(h->reg) == 1);
    struct stat st;
    assert_int_equal(stat(at(h, "e.log"), &st), 0);
    const struct registry_entry *e = registry_get(h->reg, st.st_dev, st.st_ino);
    assert_int_equal(e->id.fp_len, 0);
    uint64_t old_key = e->key;
    stop(h);
    put(h, "e.log", "the same file, written while stopped\n", true);
    put(h, "n.log", "a new file on an old inode\n", false);
    struct stat sn;
    assert_int_equal(stat(at(h, "n.log"), &sn), 0);
    struct file_identity empty = {.dev = sn.st_dev, .ino = sn.st_ino};
    struct sl_err err;
    assert_int_equal(
        registry_add(h->reg, &empty, 77, at(h, "n.log"), 0, 1, &err), 0);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 37 + 27);
    quiet(h);
    assert_got(h, "e.log", 0, 0, "the same file, written while stopped\n");
    assert_got(h, "n.log", 0, 0, "a new file on an old inode\n");
    assert_true(got_path(h, "e.log", 0)->key != old_key);
    assert_true(got_path(h, "n.log", 0)->key != 77);
    assert_int_equal(registry_get(h->reg, st.st_dev, st.st_ino)->offset, 37);
    assert_int_equal(registry_get(h->reg, sn.st_dev, sn.st_ino)->offset, 27);
    assert_int_equal(registry_count(h->reg), 2); /* no ghost */
}

/* app.log closed (idle), then copytruncated and deleted before a scan
 * saw it (or waiting for a descriptor after a restart: stress seed 61),
 * the copy found after: it was read whole under a new key (a file gone
 * while closed left no ghost), every line sent twice with other ids. Now
 * it is read from where app.log was acknowledged, under its key. */
static void delete_while_closed(struct h *h, bool restart)
{
    put(h, "app.log", "read before it was closed\n", false); /* 26 */
    config(h, true, "app.log*", NULL);
    h->cfg.close_inactive_ms = 100;
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 26);
    uint64_t key = h->got[0].key;
    h->skew += 1000;
    PUMP_UNTIL(h, h->in->open == 0);
    put(h, "app.log", "then written\n", true); /* 13: 39 */
    put(h, "copying", "read before it was closed\nthen written\n", false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    assert_int_equal(unlink(at(h, "app.log")), 0);
    in_file_rescan(h->in);
    PUMP_UNTIL(h, h->in->nrecs == 0);
    size_t before = total_bytes(h);
    if (restart) { /* the ghost made again from the entry */
        stop(h);
        start(h);
        before = 0;
    }
    mv(h, "copying", "app.log.1");
    PUMP_UNTIL(h, total_bytes(h) == before + 13);
    quiet(h);
    assert_got(h, "app.log.1", 0, 26, "then written\n");
    assert_true(got_path(h, "app.log.1", 0)->key == key);
    stop(h);
    start(h);
    quiet(h);
    assert_int_equal(h->ngot, 0);
}

static void test_copytruncate_then_delete_while_closed(void **state)
{
    delete_while_closed(*state, false);
}

static void test_copytruncate_then_delete_while_closed_restart(void **state)
{
    delete_while_closed(*state, true);
}

/* Lines sent, their acks not saved, a kill; while stopped app.log is
 * copied (not truncated yet). At the restart app.log resumes at its
 * entry's offset, 0, under its key, and the copy begins as it: it was
 * taken for a file of its own (a live file at offset 0 was no original),
 * read from 0 under a new key, the lines sent before the kill sent again
 * with other ids. Now it is held as a copy of a file that has an entry
 * from before the restart, and goes with it at the truncation. */
static void test_copy_of_a_file_resumed_at_0(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "sent, never acknowledged\n", false); /* 25 */
    config(h, true, "app.log*", NULL);
    start(h);
    h->defer_acks = true;
    PUMP_UNTIL(h, total_bytes(h) == 25);
    uint64_t key = h->got[0].key;
    stop(h); /* the key on disk, offset 0: a kill */
    h->defer_acks = false;
    h->npend = 0;
    put(h, "app.log.1", "sent, never acknowledged\n", false);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 25);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    put(h, "app.log", "after\n", true);
    PUMP_UNTIL(h, total_bytes(h) == 31);
    quiet(h);
    assert_got(h, "app.log", 0, 0, "sent, never acknowledged\n");
    assert_true(got_path(h, "app.log", 0)->key == key);
    assert_got(h, "app.log", 1, 0, "after\n");
    for (size_t i = 0; i < h->ngot; i++)
        if (strstr(h->got[i].first_path, "app.log.1") != NULL)
            assert_int_equal(h->got[i].data.len, 0);
}

/* Reads at time t until nothing comes; the bytes. */
static size_t read_all_at(struct h *h, int64_t t)
{
    struct in_file_chunk c;
    struct sl_err err = {0};
    size_t n = 0;
    int rc;
    while ((rc = in_file_read(h->in, 4096, t, &c, &err)) == 1)
        n += c.kind == IN_FILE_DATA ? c.len : 0;
    if (rc < 0)
        fail_msg("in_file_read: %s", err.msg);
    return n;
}

/* One file of one line, the rescan every 10 s, polls every second,
 * close_inactive 5 s. */
static void start_at_rest(struct h *h, bool inotify, const char *name)
{
    put(h, name, "one\n", false);
    config(h, inotify, name, NULL);
    h->cfg.scan_interval_ms = 10000;
    h->cfg.poll_interval_ms = 1000;
    h->cfg.close_inactive_ms = 5000;
    h->cfg.rotate_wait_ms = 3600000;
    start(h);
}

/* At rest the input's timeout is a real deadline, not a tick: after a
 * read the timers look within a tick, then wait for the idle file's
 * close_inactive (to the ms), then only for the rescan. Polling, open
 * files are looked at every poll_interval, and one that kept its size is
 * not read (a fstat, no pread): it stays off the ready list. */
static void test_timers_at_rest(void **state)
{
    struct h *h = *state;
    start_at_rest(h, true, "r.log");
    int64_t t = 1000000;
    struct pollfd pfd[2];
    in_file_process(h->in, pfd, 0, t);
    assert_int_equal(read_all_at(h, t), 4);
    assert_int_equal(in_file_timeout_ms(h->in, t), 1000);
    in_file_process(h->in, pfd, 0, t + 1000);
    assert_int_equal(h->in->open, 1);
    assert_int_equal(in_file_timeout_ms(h->in, t + 1000), 4000);
    in_file_process(h->in, pfd, 0, t + 4999);
    assert_int_equal(h->in->open, 1);
    in_file_process(h->in, pfd, 0, t + 5000);
    assert_int_equal(h->in->open, 0);
    assert_int_equal(in_file_timeout_ms(h->in, t + 5000), 5000);

    /* polling: the poll's deadline while a file is open */
    start_at_rest(h, false, "p.log");
    in_file_process(h->in, pfd, 0, t);
    assert_int_equal(read_all_at(h, t), 4);
    in_file_process(h->in, pfd, 0, t + 1000);
    assert_int_equal(h->in->ready.n, 0); /* unchanged: not read */
    assert_int_equal(in_file_timeout_ms(h->in, t + 1000), 1000);
    put(h, "p.log", "two\n", true);
    in_file_process(h->in, pfd, 0, t + 2000);
    assert_int_equal(h->in->ready.n, 1); /* grown: read */
    assert_int_equal(read_all_at(h, t + 2000), 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* The truncation seen before the copy exists (its DONE parked), then the
 * copy, matched to the original's ghost: the copy takes the original's
 * state and goes on where it was read to (in_file_carry.c), the state not
 * ended; the original's DONE ends nothing. */
static void test_copytruncate_carried_after_truncation(void **state)
{
    struct h *h = *state;
    char head[1200], full[1300];
    memset(head, 'h', sizeof head - 2);
    head[sizeof head - 2] = '\n';
    head[sizeof head - 1] = '\0';
    put(h, "app.log", head, false);
    config(h, true, "app.log*", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 1199);
    struct got *g0 = got_path(h, "app.log", 0);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    PUMP_UNTIL(h, h->in->parked.n == 1);
    assert_false(g0->done);
    snprintf(full, sizeof full, "%srest\n", head);
    put(h, "app.log.1", full, false);
    PUMP_UNTIL(h, total_bytes(h) == 1199 + 5);
    quiet(h);
    assert_int_equal(h->ngot, 1); /* the copy went on in app.log's */
    assert_false(g0->done);
    assert_int_equal(g0->data.len, 1204);
    assert_memory_equal(g0->data.ptr + 1199, "rest\n", 5);
    assert_int_equal(rotations(h, ROT_COPYTRUNCATE), 1);
}

/* A copy paths do not match: the parked DONE comes once a scan found
 * every file (no copy), and ends the original's state. */
static void test_copytruncate_unmatched_state_ended(void **state)
{
    struct h *h = *state;
    put(h, "app.log", "read\n", false);
    config(h, true, "app.log", NULL);
    start(h);
    PUMP_UNTIL(h, total_bytes(h) == 5);
    put(h, "app.log-old", "read\nlost\n", false);
    assert_int_equal(truncate(at(h, "app.log"), 0), 0);
    PUMP_UNTIL(h, got_path(h, "app.log", 0)->done);
    assert_true(got_path(h, "app.log", 0)->truncated);
    assert_int_equal(h->in->parked.n, 0);
    quiet(h);
    assert_got(h, "app.log", 0, 0, "read\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_basic),
        T(test_basic_polling),
        T(test_framing_contract),
        T(test_budget_round_robin),
        T(test_start_at_end),
        T(test_globs_and_exclude),
        T(test_compressed_names_not_read),
        T(test_symlinks),
        T(test_bad_paths),
        T(test_rename_create),
        T(test_rename_create_polling),
        T(test_written_after_idle_rename),
        T(test_written_after_idle_delete),
        T(test_rename_create_matched),
        T(test_copytruncate),
        T(test_copytruncate_polling),
        T(test_copytruncate_copy_first),
        T(test_copytruncate_unmatched),
        T(test_files_that_begin_alike),
        T(test_files_that_begin_alike_told_apart_at_once),
        T(test_copytruncate_seen_late),
        T(test_limit_reached_by_idle_files),
        T(test_truncated),
        T(test_truncated_same_start),
        T(test_delete_while_read),
        T(test_delete_while_read_polling),
        T(test_delete_timeout),
        T(test_inode_reuse),
        T(test_no_inotify),
        T(test_scan_without_descriptors),
        T(test_timeouts),
        T(test_close_inactive),
        T(test_renamed_while_closed),
        T(test_1000_files_limit),
        T(test_new_files_read_a_few_times),
        T(test_fps_remove_walks_no_chain),
        T(test_renamed_whole_then_created_alike),
        T(test_deleted_whole_then_created_alike),
        T(test_same_bytes_before_the_start_not_copies),
        T(test_stopped_resume),
        T(test_stopped_rename),
        T(test_stopped_rename_matched),
        T(test_stopped_delete),
        T(test_stopped_copytruncate),
        T(test_stopped_copytruncate_original_renamed_at_start),
        T(test_stopped_rotation_successor_deleted_under_limit),
        T(test_back_at_a_matched_path_gives_its_slot),
        T(test_stopped_inode_reuse),
        T(test_stopped_ghost_kept_across_restarts),
        T(test_stopped_ghost_expired),
        T(test_stopped_two_ghosts_of_one_file),
        T(test_stopped_unacked_copy_over_a_known_file),
        cmocka_unit_test(test_config),
        T(test_keys_saved_first),
        T(test_empty_file_fp_saved_first),
        T(test_waiting_renamed_away),
        T(test_waiting_renamed_away_then_stopped),
        T(test_status_rows),
        T(test_status_rows_after_metrics),
        T(test_status_waiting_reasons),
        T(test_user_told_unread),
        T(test_rotated_growth_told_unread),
        T(test_status_query_after),
        T(test_two_inputs_one_file),
        T(test_copytruncate_acks_while_held),
        T(test_copytruncate_acks_before_copy),
        T(test_copytruncate_acks_after_copy),
        T(test_copytruncate_acks_while_copy_written),
        T(test_stopped_empty_entry),
        T(test_copytruncate_then_delete_while_closed),
        T(test_copytruncate_then_delete_while_closed_restart),
        T(test_copy_of_a_file_resumed_at_0),
        T(test_timers_at_rest),
        T(test_copytruncate_then_renamed_seen_late),
        T(test_copytruncate_carried_after_truncation),
        T(test_copytruncate_unmatched_state_ended),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
