/* proc_traceback.c: the traceback processor: ECS error.* and log.origin.*
 * from a Python traceback or a Java stack trace in one multi-line event
 * (the multiline presets make those events), so Kibana can count crash
 * sites by error.type and log.origin.file.name + line.
 *
 *   {"traceback": {}}                   on "message", else a JSON log's
 *                                       exc_info, exception, stack_trace,
 *                                       err.stack, stack, @x, Exception,
 *                                       error.stack_trace, stacktrace,
 *                                       errorVerbose or error.message
 *   {"traceback": {"field": "error.stack_trace"}}
 *
 * Sets error.type, error.message, error.stack_trace, log.origin.file.name,
 * log.origin.file.line (a number) and log.origin.function, as slices of
 * the field's bytes (nothing copied). An event with no traceback is left
 * alone; one whose traceback has no exception line is tagged
 * _tracebackparsefailure, but for a part of a record that a limit cut
 * (tagged _truncated or _multiline_continued): a multiline limit splits a
 * long traceback into parts, and the part with the exception line (a
 * Python traceback's last, a Java trace's first) is read. The parsing rules are
 * in proc_traceback.h. Lines are walked once or twice; nothing is allocated. */
#include <stdlib.h>
#include <string.h>

#include "event_base.h"
#include "proc_traceback.h"
#include "proc_traceback_frames.h"
#include "process_priv.h"
#include "sl_ansi.h"
#include "sl_ascii.h"

/* ---- lines -------------------------------------------------------------- */

/* The line at p (without "\n" or "\r\n", nor the terminal colour codes
 * at its start and end: sl_ansi.h), and where the next one starts. */
static struct sl_slice line_at(const char *p, const char *end,
                               const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    *next = nl ? nl + 1 : end;
    if (stop > p && stop[-1] == '\r')
        stop--;
    return sl_ansi_plain(p, (size_t)(stop - p));
}

static bool starts(struct sl_slice l, const char *lit)
{
    size_t n = strlen(lit);
    return l.len >= n && memcmp(l.ptr, lit, n) == 0;
}

static bool indented(struct sl_slice l)
{
    return l.len > 0 && (l.ptr[0] == ' ' || l.ptr[0] == '\t');
}

static struct sl_slice trim_left(struct sl_slice l)
{
    while (l.len > 0 && (l.ptr[0] == ' ' || l.ptr[0] == '\t')) {
        l.ptr++;
        l.len--;
    }
    return l;
}

static struct sl_slice tail(struct sl_slice l, size_t from)
{
    return from >= l.len ? (struct sl_slice){l.ptr + l.len, 0}
                         : (struct sl_slice){l.ptr + from, l.len - from};
}

/* The text from p to the end, without trailing newlines and spaces. */
static struct sl_slice to_end(const char *p, const char *end)
{
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
                       end[-1] == '\t'))
        end--;
    return (struct sl_slice){p, (size_t)(end - p)};
}

static bool ident_char(char c)
{
    return sl_ascii_alpha(c) || sl_ascii_digit(c) || c == '_' || c == '$';
}

/* A dotted name ("app.errors.PaymentError", "java.lang.X$Y", Python's
 * "f.<locals>.E" for a class defined in a function) at the start of l: its
 * length, and how many dots it has; 0 if l does not start with one. */
static size_t dotted_name(struct sl_slice l, size_t *dots)
{
    size_t i = 0;
    *dots = 0;
    for (;;) {
        if (i >= l.len ||
            !(sl_ascii_alpha(l.ptr[i]) || l.ptr[i] == '_' || l.ptr[i] == '$'))
            return 0;
        while (i < l.len && ident_char(l.ptr[i]))
            i++;
        if (starts(tail(l, i), ".<locals>.")) {
            (*dots)++;
            i += 9;
        }
        if (i + 1 < l.len && l.ptr[i] == '.' &&
            (sl_ascii_alpha(l.ptr[i + 1]) || l.ptr[i + 1] == '_' ||
             l.ptr[i + 1] == '$')) {
            (*dots)++;
            i++;
            continue;
        }
        return i;
    }
}

/* Which names a line must start with to be an exception line. */
enum tb_name {
    TB_ANY,      /* Python: any name */
    TB_DOTTED,   /* Java, Node at column 0: dotted, or named like an error */
    TB_ERRORISH, /* within a line: "...Error", "...Exception", "...Throwable" */
};

/* "Type: message" or "Type" alone: the type and message. */
static bool exception_line(struct sl_slice l, enum tb_name want,
                           struct tb_result *r)
{
    size_t dots, n = dotted_name(l, &dots);
    if (n == 0)
        return false;
    struct sl_slice name = {l.ptr, n};
    bool errorish = (n >= 5 && memcmp(l.ptr + n - 5, "Error", 5) == 0) ||
                    (n >= 9 && memcmp(l.ptr + n - 9, "Exception", 9) == 0) ||
                    (n >= 9 && memcmp(l.ptr + n - 9, "Throwable", 9) == 0);
    if ((want == TB_DOTTED && dots == 0 && !errorish) ||
        (want == TB_ERRORISH && !errorish))
        return false;
    if (n < l.len && l.ptr[n] != ':')
        return false;
    r->type = name;
    r->message = trim_left(tail(l, n + 1));
    return true;
}

/* ---- Python ------------------------------------------------------------- */

#define PY_HEADER "Traceback (most recent call last):"

/* `  File "/srv/app/repo.py", line 88, in load` */
static void python_frame(struct sl_slice l, struct tb_result *r)
{
    l = trim_left(l);
    if (starts(l, "> ")) /* loguru's mark on the frame that caught it */
        l = tail(l, 2);
    if (!starts(l, "File \""))
        return;
    l = tail(l, 6);
    const char *q = memchr(l.ptr, '"', l.len);
    if (q == NULL)
        return;
    struct sl_slice file = {l.ptr, (size_t)(q - l.ptr)};
    l = tail(l, file.len + 1);
    if (!starts(l, ", line "))
        return;
    l = tail(l, 7);
    size_t d = 0;
    while (d < l.len && sl_ascii_digit(l.ptr[d]))
        d++;
    if (d == 0)
        return;
    r->file = file;
    r->line = (struct sl_slice){l.ptr, d};
    l = tail(l, d);
    r->function = starts(l, ", in ")  ? tail(l, 5)
                  : starts(l, " in ") ? tail(l, 4) /* faulthandler's */
                                      : (struct sl_slice){0};
}

/* A line of a traceback, with an exception group's margin taken off:
 * "  | " (and "  + " on a group's header) puts the block at that column;
 * col -1 for plain lines. */
struct pyline {
    struct sl_slice content;
    long col;
};

static struct pyline py_line(struct sl_slice l)
{
    size_t i = 0;
    while (i < l.len && (l.ptr[i] == ' ' || l.ptr[i] == '\t'))
        i++;
    if (i == l.len || (l.ptr[i] != '|' && l.ptr[i] != '+'))
        return (struct pyline){l, -1};
    struct sl_slice c = tail(l, i + 1);
    if (c.len > 0 && c.ptr[0] == ' ')
        c = tail(c, 1);
    return (struct pyline){c, (long)i};
}

static bool py_header(struct sl_slice content)
{
    struct sl_slice t = trim_left(content);
    return starts(t, PY_HEADER) || starts(t, "Exception Group " PY_HEADER);
}

/* Where the lines after an exception line stop being its message: at
 * "Stack (most recent call last):", which logging writes after the
 * traceback for stack_info=True, else at the end. */
static const char *message_end(const char *p, const char *end)
{
    for (const char *next; p < end; p = next)
        if (starts(line_at(p, end, &next), "Stack (most recent call last):"))
            return p;
    return end;
}

/* Where a Python stack trace starts when its first block is a cause
 * printed with no traceback ("ValueError: y"; multiprocessing's
 * "multiprocessing.pool.RemoteTraceback: ", whose message holds the
 * worker's traceback), then a chain message: at that cause, the last
 * line above the first header that is an exception line with a qualified
 * or error-like name (not the record above it, "app.jobs: failed"), if a
 * chain message follows. first otherwise. */
static const char *python_cause(const char *s, const char *end,
                                const char *first)
{
    const char *p = s, *next, *cause = NULL;
    for (; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        struct tb_result t;
        if (p < first && exception_line(l, TB_DOTTED, &t))
            cause = p;
        if (starts(l, "The above exception was the direct cause") ||
            starts(l, "During handling of the above exception"))
            return cause != NULL ? cause : first;
    }
    return first;
}

/* A SyntaxError that stopped a program from starting: CPython prints its
 * frame with no "Traceback" header above it:
 *   File "/app/main.py", line 2
 *     def f(:
 *           ^
 * SyntaxError: invalid syntax
 * The frame's line, when a line of the SyntaxError family (SyntaxError,
 * IndentationError, TabError) follows it at column 0; else NULL. */
static const char *syntax_error(const char *s, const char *end)
{
    const char *frame = NULL, *next;
    for (const char *p = s; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (indented(l) && starts(trim_left(l), "File \"")) {
            if (frame == NULL)
                frame = p;
        } else if (frame != NULL && !indented(l) && l.len > 0) {
            return starts(l, "SyntaxError") || starts(l, "IndentationError") ||
                           starts(l, "TabError")
                       ? frame
                       : NULL;
        }
    }
    return NULL;
}

/* The rest of a traceback a multiline limit split off (the event flagged
 * continued): frames and their code, indented, from its first line on,
 * then the exception line at column 0, no header above. Its start when s
 * is one (a `File "` frame among the indented lines), else NULL. */
static const char *headless(const char *s, const char *end)
{
    const char *next;
    bool frame = false;
    for (const char *p = s; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (l.len == 0)
            continue;
        if (!indented(l)) {
            struct tb_result t;
            return frame && exception_line(l, TB_ANY, &t) ? s : NULL;
        }
        frame |= starts(trim_left(l), "File \"");
    }
    return NULL;
}

/* The block that propagated: the last header of the outermost level (a
 * plain traceback, or an exception group's own, not its members'). */
static int parse_python(const char *s, const char *end, struct tb_result *r)
{
    const char *first = NULL, *body = NULL, *p = s, *next;
    long col = 0;
    for (; p < end; p = next) {
        struct pyline pl = py_line(line_at(p, end, &next));
        if (!py_header(pl.content))
            continue;
        if (first == NULL)
            first = p;
        if (body == NULL || pl.col <= col) {
            body = next;
            col = pl.col;
        }
    }
    if (first == NULL && (first = syntax_error(s, end)) != NULL)
        body = first, col = -1;
    if (first == NULL && (first = headless(s, end)) != NULL)
        body = first, col = -1;
    if (first == NULL)
        return 0;
    r->lang = TB_PYTHON;
    r->stack = to_end(python_cause(s, end, first), end);
    for (p = body; p < end; p = next) {
        struct pyline pl = py_line(line_at(p, end, &next));
        if (pl.col != col)
            continue;
        if (indented(pl.content) || starts(pl.content, "> File \"")) {
            python_frame(pl.content, r);
            continue;
        }
        if (pl.content.len == 0)
            continue;
        if (!exception_line(pl.content, TB_ANY, r))
            return -1;
        /* "Type: message" runs to the end of the event: str() of psycopg2's
         * errors ("DETAIL: ..."), pydantic's ValidationError and any
         * exception made with "\n" in it has more lines, up to logging's
         * stack_info block if one follows. A group's lines carry its
         * margin, so there it is the first line only. */
        if (col < 0 && pl.content.len > r->type.len) {
            r->message = to_end(r->message.ptr, message_end(next, end));
            while (r->message.len > 0 &&
                   (r->message.ptr[0] == '\r' || r->message.ptr[0] == '\n'))
                r->message = tail(r->message, 1);
        }
        return 1;
    }
    return -1;
}

/* CPython's faulthandler, a crash in C code (a segfault, an abort):
 * "Fatal Python error: Segmentation fault", then "Current thread 0x...
 * (most recent call first):" and that thread's frames, the newest first
 * (`  File "/app/x.py", line 12 in crash`). error.type "Fatal Python
 * error", error.message the rest of its line, the crash site the current
 * thread's first frame. */
static int parse_pyfatal(const char *s, const char *end, struct tb_result *r)
{
    const char *p = s, *next = s;
    for (; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (starts(l, "Fatal Python error: ")) {
            r->lang = TB_PYTHON;
            r->type = (struct sl_slice){l.ptr, 18};
            r->message = tail(l, 20);
            r->stack = to_end(l.ptr, end);
            break;
        }
    }
    if (p >= end)
        return 0;
    bool current = false;
    for (p = next; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (starts(l, "Current thread 0x")) {
            current = true;
        } else if (current && indented(l)) {
            python_frame(l, r);
            break;
        }
    }
    return 1;
}

/* ---- Java (and Node.js) ------------------------------------------------- */

/* What follows a .NET frame's parameters: " in /src/Svc.cs:line 42".
 * true with the file and line set. */
static bool dotnet_frame(struct sl_slice after, struct tb_result *r)
{
    if (!starts(after, " in "))
        return false;
    after = tail(after, 4);
    const char *p = after.ptr, *end = after.ptr + after.len, *at = NULL;
    for (; p + 6 <= end; p++)
        if (memcmp(p, ":line ", 6) == 0)
            at = p;
    if (at == NULL)
        return false;
    r->file = (struct sl_slice){after.ptr, (size_t)(at - after.ptr)};
    size_t d = 0;
    while (at + 6 + d < end && sl_ascii_digit(at[6 + d]))
        d++;
    r->line = (struct sl_slice){at + 6, d};
    return true;
}

/* "\tat pkg.Class.method(File.java:88)", "at java.base/x.Y.z(Native
 * Method)", "    at f (/app/x.js:10:5)", .NET's "   at N.C.M(Int32 id) in
 * /src/C.cs:line 42": the function, file and line. */
static void java_frame(struct sl_slice l, struct tb_result *r)
{
    l = tail(trim_left(l), 3); /* "at " */
    const char *open = memchr(l.ptr, '(', l.len);
    struct sl_slice fn = {l.ptr, open ? (size_t)(open - l.ptr) : 0};
    while (fn.len > 0 && fn.ptr[fn.len - 1] == ' ')
        fn.len--;
    const char *slash = fn.len ? memchr(fn.ptr, '/', fn.len) : NULL;
    while (slash != NULL) { /* module and class loader: "java.base/" */
        fn = tail(fn, (size_t)(slash - fn.ptr) + 1);
        slash = fn.len ? memchr(fn.ptr, '/', fn.len) : NULL;
    }
    r->function = fn;
    struct sl_slice in = open ? tail(l, (size_t)(open - l.ptr) + 1) : l;
    const char *close = in.len ? memchr(in.ptr, ')', in.len) : NULL;
    if (close != NULL) {
        in.len = (size_t)(close - in.ptr);
        if (dotnet_frame(tail(l, (size_t)(close - l.ptr) + 1), r))
            return;
    }
    /* file[:line[:column]]: digits after the last one or two colons */
    size_t n = in.len, colons = 0, cut[2] = {0, 0};
    while (n > 0 && colons < 2) {
        size_t d = n;
        while (d > 0 && sl_ascii_digit(in.ptr[d - 1]))
            d--;
        if (d == n || d == 0 || in.ptr[d - 1] != ':')
            break;
        cut[colons++] = d - 1;
        n = d - 1;
    }
    if (colons == 0) {
        /* "Native Method", "Unknown Source"; .NET's parameters */
        bool none = starts(in, "Native Method") || starts(in, "Unknown") ||
                    memchr(in.ptr, ' ', in.len) != NULL;
        r->file = none ? (struct sl_slice){0} : in;
        r->line = (struct sl_slice){0};
        return;
    }
    size_t fend = cut[colons - 1], lstart = fend + 1;
    size_t lend = colons == 2 ? cut[0] : in.len;
    r->file = (struct sl_slice){in.ptr, fend};
    r->line = (struct sl_slice){in.ptr + lstart, lend - lstart};
}

static bool is_frame(struct sl_slice l)
{
    return indented(l) && starts(trim_left(l), "at ");
}

/* No line above the first frame starts with the exception: a logger put
 * it after the record's text ("... ERROR c.e.Ctl - failed: java.lang.
 * NumberFormatException: For input string", winston's "error: TypeError:
 * x" from err.stack). The last column-0 line above the frame that has,
 * after a space, a name like an error's followed by ':' or the end of the
 * line: its first such name. Where it starts, NULL if none. */
static const char *exception_within(const char *s, const char *frame,
                                    struct tb_result *r)
{
    const char *best = NULL, *next;
    for (const char *p = s; p < frame; p = next) {
        struct sl_slice l = line_at(p, frame, &next);
        if (indented(l))
            continue;
        for (size_t i = 1; i < l.len; i++) {
            struct tb_result t = *r;
            if (l.ptr[i - 1] == ' ' &&
                exception_line(tail(l, i), TB_ERRORISH, &t)) {
                best = l.ptr + i;
                r->type = t.type;
                r->message = t.message;
                break;
            }
        }
    }
    return best;
}

/* .NET's inner exceptions (Exception.ToString()): " ---> Inner: message"
 * lines under the head, then the innermost one's frames, each set closed
 * by "--- End of inner exception stack trace ---", the head's own frames
 * last. Where the head's message ends: at the first inner head. */
static const char *dotnet_inner_head(const char *p, const char *end)
{
    const char *next;
    for (; p < end; p = next)
        if (starts(line_at(p, end, &next), " ---> "))
            return p;
    return end;
}

/* The head's first frame: the one after the last "--- End of inner
 * exception stack trace ---" (fl, the trace's first frame, if none). */
static struct sl_slice dotnet_head_frame(const char *p, const char *end,
                                         struct sl_slice fl)
{
    static const char mark[] = "--- End of inner exception stack trace ---";
    const char *next;
    bool after = false;
    for (; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (sl_slice_eq(trim_left(l), mark, sizeof mark - 1))
            after = true;
        else if (after && is_frame(l))
            fl = l, after = false;
    }
    return fl;
}

static int parse_java(const char *s, const char *end, struct tb_result *r)
{
    const char *p = s, *next, *frame = NULL;
    struct sl_slice fl = {0};
    for (; p < end && frame == NULL; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (is_frame(l))
            frame = p, fl = l;
    }
    if (frame == NULL)
        return 0;
    r->lang = TB_JAVA;
    /* The nearest line above the frame, indented less than it (at column
     * 0; Tomcat's OneLineFormatter indents a whole trace by a tab), that
     * names a class. */
    size_t indent = fl.len - trim_left(fl).len;
    const char *best = NULL;
    for (p = s; p < frame; p = next) {
        struct sl_slice l = line_at(p, frame, &next);
        if (l.len - trim_left(l).len >= indent)
            continue;
        const char *at = (l = trim_left(l)).ptr;
        if (starts(l, "Exception in thread \"")) {
            const char *q = memchr(l.ptr + 21, '"', l.len - 21);
            if (q != NULL && (size_t)(q - l.ptr) + 2 <= l.len)
                l = tail(l, (size_t)(q - l.ptr) + 2);
        }
        struct tb_result t = *r;
        if (exception_line(l, TB_DOTTED, &t)) {
            best = at;
            r->type = t.type;
            r->message = t.message;
        }
    }
    if (best == NULL)
        best = exception_within(s, frame, r);
    if (best == NULL)
        return -1;
    /* The message runs to the frame (a message may span lines), or to
     * .NET's first inner exception. */
    r->message =
        to_end(r->message.ptr, dotnet_inner_head(r->message.ptr, frame));
    r->stack = to_end(best, end);
    java_frame(dotnet_head_frame(frame, end, fl), r);
    return 1;
}

int tb_parse_frameless(const char *s, size_t len, struct tb_result *r)
{
    memset(r, 0, sizeof *r);
    const char *p = s, *next, *end = s + len;
    for (int i = 0; i < 2 && p < end; i++, p = next) {
        struct sl_slice l = line_at(p, end, &next);
        size_t dots;
        struct tb_result t = *r;
        if (indented(l) || !exception_line(l, TB_ERRORISH, &t) ||
            (dotted_name(l, &dots), dots == 0))
            continue;
        /* a message on its line goes on to a "Caused by: " or the end */
        const char *stop = t.message.ptr + t.message.len, *after;
        while (t.message.len > 0 && stop < end &&
               !starts(line_at(stop, end, &after), "Caused by: "))
            stop = after;
        r->lang = TB_JAVA;
        r->type = t.type;
        r->message = to_end(t.message.ptr, stop);
        if (r->message.len > 0)
            r->message = sl_ansi_plain(r->message.ptr, r->message.len);
        r->stack = to_end(l.ptr, end);
        return 1;
    }
    return 0;
}

/* ---- Go ----------------------------------------------------------------- */

/* "main.(*Server).handle(0x0, {...})": the function, up to the '(' of its
 * arguments, the first one not after a '.' (a method's receiver is). */
static struct sl_slice go_function(struct sl_slice l)
{
    for (size_t i = 1; i < l.len; i++)
        if (l.ptr[i] == '(' && l.ptr[i - 1] != '.')
            return (struct sl_slice){l.ptr, i};
    return (struct sl_slice){0};
}

/* "\t/app/server.go:42 +0x1c": the file and the line. */
static bool go_location(struct sl_slice l, struct tb_result *r)
{
    if (!indented(l))
        return false;
    l = trim_left(l);
    const char *sp = memchr(l.ptr, ' ', l.len);
    size_t n = sp ? (size_t)(sp - l.ptr) : l.len, d = n;
    while (d > 0 && sl_ascii_digit(l.ptr[d - 1]))
        d--;
    if (d == n || d < 2 || l.ptr[d - 1] != ':')
        return false;
    r->file = (struct sl_slice){l.ptr, d - 1};
    r->line = (struct sl_slice){l.ptr + d, n - d};
    return true;
}

/* net/http's recovered panic, logged under the record's date:
 * "2026/12/05 10:00:02 http: panic serving 10.0.0.1:5555: boom" (x/net's
 * HTTP/2 server: "http2: panic serving ..."), then the goroutine's stack.
 * error.type "panic", error.message the value after the client's
 * address; *head: where the stack trace starts. */
static bool go_http_panic(struct sl_slice l, struct tb_result *r,
                          const char **head)
{
    static const char mark[] = "panic serving ";
    size_t m = sizeof mark - 1;
    for (size_t i = 6; i + m <= l.len; i++) {
        if (memcmp(l.ptr + i, mark, m) != 0)
            continue;
        size_t h;
        if (memcmp(l.ptr + i - 6, "http: ", 6) == 0)
            h = i - 6;
        else if (i >= 7 && memcmp(l.ptr + i - 7, "http2: ", 7) == 0)
            h = i - 7;
        else
            continue;
        struct sl_slice rest = tail(l, i + m);
        for (size_t j = 0; j + 1 < rest.len; j++) {
            if (rest.ptr[j] == ':' && rest.ptr[j + 1] == ' ') {
                *head = l.ptr + h;
                r->type = (struct sl_slice){l.ptr + i, 5};
                r->message = tail(rest, j + 2);
                return true;
            }
        }
        return false;
    }
    return false;
}

/* A signal the runtime dies of, "SIGQUIT: quit" (the goroutine dump
 * kill -QUIT asks for) or "SIGSEGV: segmentation violation"
 * (GOTRACEBACK=crash), with the runtime's "PC=0x..." on the next line:
 * error.type the signal's name, error.message its text. */
static bool go_signal(struct sl_slice l, const char *next, const char *end,
                      struct tb_result *r)
{
    size_t i = 3;
    if (!starts(l, "SIG"))
        return false;
    while (i < l.len && l.ptr[i] >= 'A' && l.ptr[i] <= 'Z')
        i++;
    if (i == 3 || i + 1 >= l.len || l.ptr[i] != ':' || l.ptr[i + 1] != ' ' ||
        !starts(line_at(next, end, &next), "PC=0x"))
        return false;
    r->type = (struct sl_slice){l.ptr, i};
    r->message = tail(l, i + 2);
    return true;
}

/* A Go program's crash on stderr: "panic: <value>" (or the runtime's
 * "fatal error: <text>"), then "goroutine 1 [running]:" and two lines a
 * frame, the function, then its file and line, tab-indented. error.type is
 * "panic" (or "fatal error": a panic's value has no type in the text),
 * error.message the rest of the line; the crash site is the first frame
 * of the first goroutine that is not the runtime's own (panic(),
 * runtime.*), below its last panic() (above it: the deferred calls that
 * recovered it or panicked again). Or a signal's head (go_signal), or
 * net/http's recovered panic on the event's first line (go_http_panic). */
static int parse_go(const char *s, const char *end, struct tb_result *r)
{
    const char *p = s, *next, *head = NULL;
    for (; p < end && head == NULL; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        if (starts(l, "panic: ") || starts(l, "fatal error: ")) {
            head = l.ptr;
            size_t n = l.ptr[0] == 'p' ? 5 : 11;
            r->type = (struct sl_slice){l.ptr, n};
            r->message = tail(l, n + 2);
        } else if (go_signal(l, next, end, r)) {
            head = l.ptr;
        } else if (p == s) {
            go_http_panic(l, r, &head);
        }
    }
    if (head == NULL)
        return 0;
    r->lang = TB_GO;
    r->stack = to_end(head, end);
    bool in_goroutine = false, found = false;
    struct sl_slice fn = {0};
    for (; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next);
        struct tb_result at = {0};
        if (starts(l, "goroutine ")) {
            if (in_goroutine)
                break; /* the first goroutine is the one that crashed */
            in_goroutine = true;
        } else if (in_goroutine && !indented(l)) {
            fn = go_function(l);
            /* the frames above a panic() are the deferred calls that
             * recovered (net/http's) or panicked again: the crash site
             * is below the last one */
            found = found && !starts(fn, "panic");
        } else if (in_goroutine && fn.len > 0 && !found &&
                   !starts(fn, "panic") && !starts(fn, "runtime.") &&
                   go_location(l, &at)) {
            found = true;
            r->file = at.file;
            r->line = at.line;
            r->function = fn;
        }
    }
    if (!found)
        r->file = r->line = r->function = (struct sl_slice){0};
    return 1;
}

/* A function line of a Go stack with no goroutine header (zap's
 * stacktrace, github.com/pkg/errors' "%+v"): "main.(*Server).handle",
 * "net/http.HandlerFunc.ServeHTTP", or with its arguments as the runtime
 * prints them; pkg/errors' "%n" (zerolog's "func") without its package:
 * "connect", "(*Server).handle". The function, a name with no blank in
 * it; empty if l is none. */
static struct sl_slice go_bare_function(struct sl_slice l)
{
    struct sl_slice fn = go_function(l);
    if (fn.len == 0)
        fn = l;
    else if (l.ptr[l.len - 1] != ')')
        return (struct sl_slice){0};
    if (fn.len == 0 ||
        !(sl_ascii_alpha(fn.ptr[0]) || fn.ptr[0] == '_' || fn.ptr[0] == '(') ||
        memchr(fn.ptr, ' ', fn.len) != NULL ||
        memchr(fn.ptr, '\t', fn.len) != NULL)
        return (struct sl_slice){0};
    return fn;
}

/* A Go stack with no goroutine header above it: from its first frame (a
 * function line at column 0, then "\t/path/file.go:42"), what zap writes
 * under "stacktrace" and github.com/pkg/errors' "%+v" under the error's
 * message (its wrapped messages between the frames). No type (the text
 * names none); error.message the text above the first frame; the crash
 * site the first frame, where zap's caller logged and where pkg/errors
 * made the error; the stack trace from the first frame. A "goroutine N
 * [...]:" line above it makes it a dump with no head, not read. */
static int parse_go_bare(const char *s, const char *end, struct tb_result *r)
{
    const char *next, *after;
    for (const char *p = s; p < end; p = next) {
        struct sl_slice l = line_at(p, end, &next), fn;
        struct tb_result at = {0};
        if (starts(l, "goroutine "))
            return 0; /* a goroutine's dump: parse_go's, with a head */
        if (indented(l) || (fn = go_bare_function(l)).len == 0 ||
            !go_location(line_at(next, end, &after), &at) || at.file.len < 4 ||
            memcmp(at.file.ptr + at.file.len - 3, ".go", 3) != 0)
            continue;
        r->lang = TB_GO_STACK;
        r->message = to_end(s, p);
        r->stack = to_end(p, end);
        r->function = fn;
        r->file = at.file;
        r->line = at.line;
        return 1;
    }
    return 0;
}

int tb_parse(const char *s, size_t len, struct tb_result *r)
{
    memset(r, 0, sizeof *r);
    if (len == 0)
        return 0;
    int rc = parse_pyfatal(s, s + len, r);
    if (rc == 0) {
        memset(r, 0, sizeof *r);
        rc = parse_python(s, s + len, r);
    }
    if (rc == 0) {
        memset(r, 0, sizeof *r);
        rc = parse_java(s, s + len, r);
    }
    if (rc == 0) {
        memset(r, 0, sizeof *r);
        rc = parse_go(s, s + len, r);
    }
    if (rc == 0) {
        memset(r, 0, sizeof *r);
        rc = parse_go_bare(s, s + len, r);
    }
    if (rc == 1 && r->message.len > 0) /* a coloured line's reset code */
        r->message = sl_ansi_plain(r->message.ptr, r->message.len);
    return rc;
}

/* ---- the processor ------------------------------------------------------ */

enum { F_TYPE, F_MESSAGE, F_STACK, F_FILE, F_LINE, F_FUNCTION, NFIELDS };
static const char *const field_names[NFIELDS] = {
    "error.type",           "error.message",        "error.stack_trace",
    "log.origin.file.name", "log.origin.file.line", "log.origin.function"};

struct tb_opts {
    const struct sl_config_node *when;
    const char *field;
};

#define T(m) SL_OPT_FIELD(struct tb_opts, m)
static const struct sl_opt tb_opts[] = {
    PROC_WHEN_OPT(struct tb_opts),
    {"field", SL_OPT_STRING, T(field), .def = "message",
     .help = "the field that holds the multi-line event; when not given, "
             "a JSON log's exc_info, exception, stack_trace, err.stack, "
             "stack, @x, Exception, error.stack_trace, stacktrace, "
             "errorVerbose or error.message is read if message holds no "
             "traceback"},
    SL_OPT_END};
static const struct sl_config_table tb_table = {
    "traceback", sizeof(struct tb_opts), tb_opts, NULL};

/* Where JSON logs keep a traceback, looked at (in this order) when the
 * processor has no "field" and "message" holds none: Python's
 * python-json-logger ("exc_info"), structlog ("exception"),
 * logstash-logback-encoder ("stack_trace"), pino and bunyan ("err.stack"),
 * winston's format.errors() ("stack"; logrus's and zerolog's with
 * pkg/errors), Serilog's compact JSON ("@x"), .NET's JSON console and
 * Serilog's JsonFormatter ("Exception"), the ECS loggers
 * ("error.stack_trace": they set error.type and error.message, not the crash
 * site), zap ("stacktrace", where it logged; "errorVerbose", the "%+v" of
 * an error with a pkg/errors stack), and such a "%+v" under logrus's
 * "error", which the json processor put in error.message (last).
 * zerolog's "stack" and structlog's "exception" as arrays of objects are
 * read as the text their language prints (proc_traceback_frames.c). */
static const char *const json_fields[] = {
    "exc_info",   "exception",    "stack_trace",  "err.stack",
    "stack",      "@x",           "Exception",    "error.stack_trace",
    "stacktrace", "errorVerbose", "error.message"};
#define NJSON (sizeof json_fields / sizeof json_fields[0])

struct tb_proc {
    struct sl_fieldpath field;
    struct sl_fieldpath out[NFIELDS];
    bool fallback; /* no "field": json_fields too */
    bool field_is_message, field_is_error_message;
    struct sl_fieldpath json[NJSON];
};

static void tb_fini(struct proc *p)
{
    struct tb_proc *tp = p->state;
    if (tp == NULL)
        return;
    sl_fieldpath_release(&tp->field);
    for (int i = 0; i < NFIELDS; i++)
        sl_fieldpath_release(&tp->out[i]);
    for (size_t i = 0; i < NJSON; i++)
        sl_fieldpath_release(&tp->json[i]);
    free(tp);
}

static int tb_init(struct proc *p, const struct sl_config_node *cfg,
                   const struct proc_env *env, struct sl_err *err)
{
    (void)env;
    struct tb_opts o;
    if (sl_config_table_fill(&tb_table, cfg, &o, err) < 0)
        return -1;
    struct tb_proc *tp = calloc(1, sizeof *tp);
    if (tp == NULL)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    p->state = tp;
    if (proc_fieldpath(&tp->field, cfg, o.field, err) < 0)
        goto fail;
    for (int i = 0; i < NFIELDS; i++)
        if (proc_fieldpath(&tp->out[i], cfg, field_names[i], err) < 0)
            goto fail;
    tp->fallback = sl_config_get(cfg, "field") == NULL;
    tp->field_is_message = strcmp(o.field, "message") == 0;
    tp->field_is_error_message = strcmp(o.field, "error.message") == 0;
    for (size_t i = 0; tp->fallback && i < NJSON; i++)
        if (proc_fieldpath(&tp->json[i], cfg, json_fields[i], err) < 0)
            goto fail;
    return 0;
fail:
    tb_fini(p);
    p->state = NULL;
    return -1;
}

/* A Go stack with no header: in the event's message (zap's console
 * encoder, a "%+v" after a record's text) the text above the stack is the
 * record, no error message; in a field of its own (zap's stacktrace, a
 * "%+v" under logrus's error) the stack trace is the whole field, and the
 * text above the stack the error's message, unless the event has one from
 * elsewhere (zap's and logrus's "error" string). */
static void go_stack_fields(const struct sl_event *ev, const struct tb_proc *tp,
                            const struct sl_fieldpath *from, struct sl_slice s,
                            struct tb_result *r)
{
    if (from == &tp->field && tp->field_is_message) {
        r->message = (struct sl_slice){0};
        return;
    }
    r->stack = to_end(s.ptr, s.ptr + s.len);
    bool own = from == &tp->json[NJSON - 1] ||
               (from == &tp->field && tp->field_is_error_message);
    if (!own && sl_event_get(ev, &tp->out[F_MESSAGE]) != NULL)
        r->message = (struct sl_slice){0};
}

static enum proc_result tb_run(struct proc *p, const struct proc_ctx *cx)
{
    struct tb_proc *tp = p->state;
    struct sl_slice s;
    struct tb_result r;
    struct sl_err err;
    int rc = 0;
    const struct sl_fieldpath *from = &tp->field;
    if (proc_event_text(cx->ev, from, &s) ||
        tb_frames_text(cx->ev, sl_event_get(cx->ev, from), &s))
        rc = tb_parse(s.ptr, s.len, &r);
    for (size_t i = 0; rc == 0 && tp->fallback && i < NJSON; i++)
        if (proc_event_text(cx->ev, from = &tp->json[i], &s) ||
            tb_frames_text(cx->ev, sl_event_get(cx->ev, from), &s))
            rc = tb_parse(s.ptr, s.len, &r);
    /* last, where no field holds a trace: an exception without frames */
    if (rc == 0 && proc_event_text(cx->ev, from = &tp->field, &s))
        rc = tb_parse_frameless(s.ptr, s.len, &r);
    if (rc == 0)
        return PROC_OK;
    if (r.lang == TB_GO_STACK)
        go_stack_fields(cx->ev, tp, from, s, &r);
    /* a part of a record a multiline limit split: the head of a Python
     * traceback (its exception line is in a later part, which is read),
     * Java's frames after their head (the head named the exception; a
     * "Caused by:" in a later part is no second crash to count); the
     * parts are tagged already */
    bool continued = sl_event_has_tag(cx->ev, MULTILINE_TAG_CONTINUED);
    if ((rc < 0 && (continued || sl_event_has_tag(cx->ev, SL_TAG_TRUNCATED))) ||
        (rc == 1 && continued && r.lang == TB_JAVA))
        return PROC_OK;
    if (rc < 0) {
        proc_event_tag(cx->ev, PROC_TAG_TRACEBACKPARSEFAILURE);
        return PROC_FAILED;
    }
    /* A line number as JSON writes it: no leading zeros; past 9 digits it
     * is no line number (and would not fit the index's integer). */
    while (r.line.len > 1 && r.line.ptr[0] == '0')
        r.line = (struct sl_slice){r.line.ptr + 1, r.line.len - 1};
    if (r.line.len > 9)
        r.line.len = 0;
    const struct sl_slice v[NFIELDS] = {r.type, r.message, r.stack,
                                        r.file, r.line,    r.function};
    int bad = 0;
    for (int i = 0; i < NFIELDS; i++)
        if (v[i].len > 0)
            bad |= sl_event_put(cx->ev, &tp->out[i],
                                i == F_LINE ? SL_VALUE_NUMBER : SL_VALUE_STRING,
                                v[i].ptr, v[i].len, &err);
    if (bad) {
        proc_event_tag(cx->ev, PROC_TAG_TRACEBACKPARSEFAILURE);
        return PROC_FAILED;
    }
    return PROC_OK;
}

const struct proc_ops proc_traceback_ops = {.name = "traceback",
                                            .table = &tb_table,
                                            .init = tb_init,
                                            .run = tb_run,
                                            .fini = tb_fini};
