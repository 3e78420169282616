/* multiline_preset.c: which lines of a Python or Java log belong to the
 * record above them.
 *
 * A single regex cannot do it: the line that ends a Python traceback
 * ("ValueError: bad") and the line that opens a Logback stack trace
 * ("java.lang.IllegalStateException: boom") both start at column 0, like a
 * new record. What decides is context, so each preset is a small state
 * machine over the event being built (enum ml_state).
 *
 * python (CPython's traceback module, 3.x):
 *   - a blank line is held: kept if a continuation follows (the blank lines
 *     around "During handling ..."), dropped otherwise (a trailing blank)
 *   - an indented line joins (frames, code, carets "    ^^^", "  [Previous
 *     line repeated N more times]", 3.11 exception groups "  + ...", "  | ");
 *     so does loguru's "> File ..." (the frame that caught the exception)
 *   - "Traceback (most recent call last):" joins, except right after a
 *     finished traceback with no chain message between: that is a new one;
 *     so is a SyntaxError's frame ("  File "x.py", line 2", no function)
 *     there, which CPython prints with no header when a program cannot
 *     start
 *   - "Stack (most recent call last):" (logging's stack_info) joins; so
 *     do faulthandler's "Current thread 0x... (most recent call first):"
 *     and "Thread 0x... (most recent call first):" under its "Fatal
 *     Python error: ..." (a crash in C code), and its "Extension
 *     modules: ..." line after the frames
 *   - "During handling of the above exception, another exception occurred:"
 *     and "The above exception was the direct cause of the following
 *     exception:" join
 *   - a column-0 exception line (`Name`, `pkg.mod.Name: message`) joins only
 *     right after frames (state TB); anywhere else it is a record, but for
 *     one right after a record (state RECORD) whose name is qualified or
 *     ends in "Error" or "Exception": it may be a cause printed with no
 *     traceback of its own (`raise X from Y()`, multiprocessing's and
 *     concurrent.futures' RemoteTraceback, whose message is the worker's
 *     traceback in triple quotes). It is held, with the lines after it
 *     that may be its message (indented, a "Traceback" header, an
 *     exception line, blank), until a chain message joins them all to the
 *     record; anything else releases them as records (the same trade-off
 *     as java's holding, below). A `"""` line joins them at once: what
 *     follows, up to the closing `"""`, is the remote traceback (however
 *     long; a line that opens like the record, with a digit or '[', ends
 *     it if the quotes are never closed)
 *   - under a record, in a log whose records open with a digit or '[',
 *     the context lines of asyncio's exception handler join it ("future:
 *     <Task finished ...>", "handle: <Handle ...>"): its traceback follows
 *     them
 *   - after the exception line, in a log whose records open with a digit (a
 *     timestamp) or '[' (the event's first byte), the column-0 lines that
 *     the common libraries put in a message join it: PostgreSQL's
 *     "DETAIL:  ...", "HINT:  ..." (psycopg2, asyncpg), SQLAlchemy's
 *     "[SQL: ...]", "[parameters: ...]" and "(Background on this error
 *     at: ...)", and pydantic's field names alone on a line ("qty",
 *     "items.0.price")
 *   - anything else starts an event.
 *   Not joined: other column-0 lines of a multi-line message (a "\n" in
 *   an exception's text, add_note() notes) and any in a log whose records
 *   start with a letter ("ERROR:root:..."): they look exactly like a line
 *   of another writer (a print() with no timestamp) or a record; deciding
 *   them would need a record format, which the pattern mode can
 *   express.
 *
 * java (Throwable.printStackTrace, Logback, Log4j 2):
 *   - a blank line is held as in python
 *   - "\tat ..." and "\t... N more" / "\t... N common frames omitted" join;
 *     so does any other indented line ("\tSuppressed: ...", "\t\tat ...")
 *   - "Caused by: ..." joins, and "Wrapped by: ..." (the root cause
 *     first, Logback's and Log4j 2's %rEx)
 *   - java.util.logging's two-line records ("Dec 05, 2026 3:37:38 AM
 *     com.example.App main", then "SEVERE: message"): the level line joins
 *     its header
 *   - `Exception in thread "main" x.Y: msg` starts an event (an uncaught
 *     exception on stderr has no record line above it)
 *   - after a record line, a column-0 `qualified.ClassName` or
 *     `qualified.ClassName: message` (or a name ending in "Error" or
 *     "Exception": Node.js's "TypeError: x" under a logger's record
 *     line, a class of Java's default package) is held, with the
 *     column-0 lines after it (a multi-line message), until a frame or
 *     "Caused by:" arrives: then they all join. Anything else
 *     (MULTILINE_HOLD_MAX lines, the timeout, the end of input) releases
 *     them as records. Likewise column-0 lines after a "Caused by:" head
 *     wait for its first frame. In a log whose records open with a digit
 *     or '[', a line that opens as the record did is the next record: the
 *     held lines join the event above it (an exception with no frames,
 *     as the JVM throws once it has thrown one often, with its message;
 *     "db.primary: UP" under "health report follows"), and after a
 *     "Caused by:" with no frames it starts at once.
 *   A second class-name line while lines are held releases them (they were
 *   not a message: "com.x.Svc: started", then the real exception).
 *   The trade-off of holding: a record that looks like a class name
 *   ("com.x.Svc: started") is emitted up to MULTILINE_HOLD_MAX lines later
 *   than it could be, or at the timeout; records between it and a stack
 *   frame would join it only if no other exception line came between, which
 *   a logger never writes. A multi-line message with a line shaped like
 *   `a.b: text` is split there. Waiting after "Caused by" costs the same.
 *   - after frames, Node.js's "}" that closes an Error's properties
 *     ("{\n  code: 'ECONNREFUSED'\n}") and the "Node.js v18.19.0" line
 *     that ends an uncaught exception's output join
 *   - Spring Boot's failure report ("APPLICATION FAILED TO START" between
 *     two rules of asterisks, then "Description:" and "Action:"), which
 *     LoggingFailureAnalysisReporter logs under a record with an empty
 *     message: from the first rule, under a record of a log whose records
 *     open with a digit or '[', every line joins up to one that opens as
 *     the record did
 *   Not joined: a column-0 class line after a finished trace (a second
 *   printStackTrace with no record of its own) starts its own event.
 *
 * go (a program's crash on stderr, as the runtime prints it):
 *   - "panic: ...", "fatal error: ..." and a signal's "SIGQUIT: quit"
 *     start an event; in it, the lines the runtime writes join:
 *     "[signal ...]", "goroutine N [running]:", each frame's function line
 *     ("main.(*S).f(0x0)") and its tab-indented file and line, "created
 *     by ...", "...additional frames elided...", "exit status 2", a cgo
 *     crash's "runtime stack:", a signal's "PC=0x...", "signal arrived
 *     during cgo execution" and its registers ("rax    0xca"), blank
 *     lines between them (held as in python), a nested panic's
 *     tab-indented "panic: ..."
 *   - under a record, "goroutine N [running]:" joins and the lines above
 *     join after it (net/http's "http: panic serving ...", a logged
 *     debug.Stack()); so does a function name alone on its line with
 *     its tab-indented file line (zap's stacktrace: "main.handle", then
 *     "\t/app/main.go:12"): the name is held until that line comes
 *   - elsewhere an indented line joins the record above it, and anything
 *     else starts a record.
 *
 * All read a line without the terminal colour codes at its start and end
 * (sl_ansi.h): "\x1b[1mValueError: x\x1b[0m" is an exception line, and an
 * event's first byte is its record's first byte after them. */
#include "multiline_preset.h"

#include <string.h>

#include "sl_ansi.h"
#include "sl_ascii.h"

#define LIT(s) (s), sizeof(s) - 1

static bool starts(const char *s, size_t n, const char *p, size_t pn)
{
    return n >= pn && memcmp(s, p, pn) == 0;
}

static bool has(const char *s, size_t n, const char *p, size_t pn)
{
    for (size_t i = 0; i + pn <= n; i++)
        if (memcmp(s + i, p, pn) == 0)
            return true;
    return false;
}

static bool same(const char *s, size_t n, const char *p, size_t pn)
{
    return n == pn && memcmp(s, p, pn) == 0;
}

static bool indented(const char *s, size_t n)
{
    return n > 0 && (s[0] == ' ' || s[0] == '\t');
}

/* Bytes of leading spaces and tabs. */
static size_t indent_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static bool ident_start(char c, bool dollar)
{
    return sl_ascii_alpha(c) || c == '_' || (dollar && c == '$');
}

static bool ident_char(char c, bool dollar)
{
    return ident_start(c, dollar) || sl_ascii_digit(c);
}

/* `Name`, `a.b.Name`, each followed by the end of the line or ": " (or a
 * bare ":"), as Python and Java print an exception. min_dots: 1 for Java's
 * qualified class names. "ERROR:root:msg" (logging's default format) is not
 * one: its colon is not followed by a space. Python names a class defined
 * in a function "f.<locals>.E". */
static bool exception_line(const char *s, size_t n, bool java, int min_dots)
{
    size_t i = 0;
    int dots = 0;
    for (;;) {
        if (i >= n || !ident_start(s[i], java))
            return false;
        while (i < n && ident_char(s[i], java))
            i++;
        if (!java && starts(s + i, n - i, LIT(".<locals>"))) {
            dots++;
            i += 9;
        }
        if (i < n && s[i] == '.') {
            dots++;
            i++;
            continue;
        }
        break;
    }
    if (dots < min_dots)
        return false;
    return i == n || (s[i] == ':' && (i + 1 == n || s[i + 1] == ' '));
}

/* Of an exception line: its name (up to ':') ends in "Error" or
 * "Exception". */
static bool error_name(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t len = colon ? (size_t)(colon - s) : n;
    return (len >= 5 && memcmp(s + len - 5, "Error", 5) == 0) ||
           (len >= 9 && memcmp(s + len - 9, "Exception", 9) == 0);
}

static struct ml_verdict verdict(enum ml_dec d, enum ml_state st)
{
    return (struct ml_verdict){d, st, false};
}

/* A blank line: held while an event is open, else dropped. */
static struct ml_verdict blank(struct ml_view v)
{
    return v.open ? verdict(ML_HOLD, v.st) : verdict(ML_DROP, ML_ST_NONE);
}

/* A line that joins the open event, or starts one in state st. */
static struct ml_verdict join(struct ml_view v, enum ml_state st)
{
    return verdict(v.open ? ML_CONT : ML_START, st);
}

/* "DETAIL:  ", "HINT:  ", "LINE 1: ": capitals (a number after), ": ". */
static bool pg_tag(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    if (i < 2)
        return false;
    if (i + 1 < n && s[i] == ' ' && sl_ascii_digit(s[i + 1]))
        for (i++; i < n && sl_ascii_digit(s[i]); i++)
            ;
    return i + 1 < n && s[i] == ':' && s[i + 1] == ' ';
}

/* "[SQL: ...", "[parameters: ...": '[', lower-case words, ": ". */
static bool sa_tag(const char *s, size_t n)
{
    size_t i = 1;
    if (n < 2 || s[0] != '[')
        return false;
    while (i < n &&
           ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
            s[i] == ' ' || s[i] == '_'))
        i++;
    return i > 1 && i + 1 < n && s[i] == ':' && s[i + 1] == ' ';
}

/* A field path alone on the line, as pydantic names a failed field. */
static bool field_path(const char *s, size_t n)
{
    if (!ident_start(s[0], false))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!ident_char(s[i], false) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* The context asyncio's exception handler puts under its message ("Task
 * exception was never retrieved", "Exception in callback ..."), a line a
 * key, each value a repr: "future: <Task finished ...>", "handle:
 * <Handle ...>", "source_traceback: Object created at ...". */
static bool asyncio_context(const char *s, size_t n)
{
    static const char *const keys[] = {
        "future: <",    "task: <",
        "handle: <",    "protocol: <",
        "transport: <", "socket: <",
        "asyncgen: <",  "source_traceback: Object created at"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (starts(s, n, keys[i], strlen(keys[i])))
            return true;
    return false;
}

/* After an exception line (see the top): s[0..n), n > 0, goes on its
 * message. lead: the event's first byte. */
static bool message_line(char lead, const char *s, size_t n)
{
    if (!sl_ascii_digit(lead) && lead != '[')
        return false;
    return pg_tag(s, n) || sa_tag(s, n) || field_path(s, n) ||
           starts(s, n, LIT("(Background on this error at: "));
}

static bool chain_message(const char *s, size_t n)
{
    return same(s, n,
                LIT("During handling of the above exception, another "
                    "exception occurred:")) ||
           same(s, n,
                LIT("The above exception was the direct cause of the "
                    "following exception:"));
}

/* An exception line that may be the cause of what follows, printed with
 * no traceback of its own: a qualified name ("multiprocessing.pool.
 * RemoteTraceback: ") or one like an error's ("ValueError: bad"). */
static bool cause_line(const char *s, size_t n)
{
    return exception_line(s, n, false, 1) ||
           (exception_line(s, n, false, 0) && error_name(s, n));
}

/* Lines after a held cause line (hold_head): held while they may be its
 * message (a remote traceback in triple quotes, as multiprocessing and
 * concurrent.futures put it); a chain message joins them all. */
static struct ml_verdict python_held(struct ml_view v, const char *s, size_t n)
{
    if (chain_message(s, n))
        return verdict(ML_CONT, ML_ST_CHAIN);
    if (same(s, n, LIT("\"\"\"")))
        return verdict(ML_CONT, ML_ST_QUOTE);
    if (indented(s, n) ||
        same(s, n, LIT("Traceback (most recent call last):")) ||
        exception_line(s, n, false, 0))
        return verdict(ML_HOLD, v.st);
    return verdict(ML_START, ML_ST_RECORD);
}

/* A line that opens like the event's record: with a digit (a date) under
 * a record that did, with '[' under one that did. */
static bool opens_like_record(struct ml_view v, const char *s)
{
    return (sl_ascii_digit(v.lead) && sl_ascii_digit(s[0])) ||
           (v.lead == '[' && s[0] == '[');
}

/* A line in a cause's message in triple quotes: it joins, up to the
 * closing quotes (then the message is over: state EXC) or a line that
 * opens like the event's record (the quotes were never closed). */
static struct ml_verdict python_quoted(struct ml_view v, const char *s,
                                       size_t n)
{
    if (same(s, n, LIT("\"\"\"")))
        return verdict(ML_CONT, ML_ST_EXC);
    if (opens_like_record(v, s))
        return verdict(ML_START, ML_ST_RECORD);
    return verdict(ML_CONT, ML_ST_QUOTE);
}

/* faulthandler's "Current thread 0x00007f3a2c5f7740 (most recent call
 * first):" (and "Thread 0x...: " for the others) */
static bool fault_thread(const char *s, size_t n)
{
    static const char tail_[] = " (most recent call first):";
    size_t t = sizeof tail_ - 1;
    return (starts(s, n, LIT("Current thread 0x")) ||
            starts(s, n, LIT("Thread 0x"))) &&
           n > t && memcmp(s + n - t, tail_, t) == 0;
}

struct ml_verdict multiline_python_decide(struct ml_view v, const char *s,
                                          size_t n)
{
    struct sl_slice plain = sl_ansi_plain(s, n); /* a coloured line's text */
    s = plain.ptr;
    n = plain.len;
    if (n == 0)
        return blank(v);
    if (v.holding && v.hold_head)
        return python_held(v, s, n);
    if (v.st == ML_ST_QUOTE)
        return python_quoted(v, s, n);
    /* loguru marks the frame that caught the exception: "> File ..." */
    bool marked = starts(s, n, LIT("> File \""));
    if (indented(s, n) || marked) {
        size_t i = marked ? 2 : indent_len(s, n);
        bool frame = starts(s + i, n - i, LIT("File \""));
        /* A SyntaxError's frame ("File ..., line 2", no function) after an
         * exception line: the program failed to start again (a crash loop;
         * CPython prints no "Traceback" header above it). */
        if (frame && v.st == ML_ST_EXC && !has(s, n, LIT(", in ")))
            return verdict(ML_START, ML_ST_TB);
        enum ml_state st = v.open ? v.st : ML_ST_RECORD;
        bool tb = frame && st != ML_ST_EXC && st != ML_ST_STACK;
        return join(v, tb ? ML_ST_TB : st);
    }
    if (same(s, n, LIT("Traceback (most recent call last):")))
        return v.st == ML_ST_EXC ? verdict(ML_START, ML_ST_TB)
                                 : join(v, ML_ST_TB);
    /* logging's stack_info=True: frames with no exception line after them */
    if (same(s, n, LIT("Stack (most recent call last):")))
        return join(v, ML_ST_STACK);
    /* faulthandler, under "Fatal Python error: ...": each thread's frames,
     * newest first, then the extension modules loaded */
    if (v.open && fault_thread(s, n))
        return verdict(ML_CONT, ML_ST_STACK);
    if (v.open && v.st == ML_ST_STACK &&
        starts(s, n, LIT("Extension modules: ")))
        return verdict(ML_CONT, ML_ST_STACK);
    if (chain_message(s, n))
        return join(v, v.open ? ML_ST_CHAIN : ML_ST_RECORD);
    if (v.st == ML_ST_TB && exception_line(s, n, false, 0))
        return verdict(ML_CONT, ML_ST_EXC);
    if (v.st == ML_ST_EXC && message_line(v.lead, s, n))
        return verdict(ML_CONT, ML_ST_EXC);
    if (v.open && v.st == ML_ST_RECORD &&
        (sl_ascii_digit(v.lead) || v.lead == '[') && asyncio_context(s, n))
        return verdict(ML_CONT, ML_ST_RECORD);
    if (v.open && v.st == ML_ST_RECORD && cause_line(s, n)) {
        struct ml_verdict h = verdict(ML_HOLD, v.st);
        h.head = true;
        return h;
    }
    return verdict(ML_START, ML_ST_RECORD);
}

/* An exception's first line in a java log: a qualified class name, or a
 * name that ends in "Error" or "Exception" (Node.js's "TypeError: x", a
 * class in Java's default package). */
static bool java_head(const char *s, size_t n)
{
    return exception_line(s, n, true, 1) ||
           (exception_line(s, n, true, 0) && error_name(s, n));
}

static bool java_frame(const char *s, size_t n)
{
    size_t i = indent_len(s, n);
    return i > 0 && (starts(s + i, n - i, LIT("at ")) ||
                     starts(s + i, n - i, LIT("...")));
}

/* java.util.logging's SimpleFormatter writes a record on two lines:
 * "Dec 05, 2026 3:37:38 AM com.example.App main", then "SEVERE: message".
 * The first: a month, a day, ", ", a year. */
static bool jul_header(const char *s, size_t n)
{
    size_t i = 3;
    if (n < 14 || !(s[0] >= 'A' && s[0] <= 'Z') || !sl_ascii_alpha(s[1]) ||
        !sl_ascii_alpha(s[2]) || s[i++] != ' ')
        return false;
    size_t d = i;
    while (i < n && i - d < 2 && sl_ascii_digit(s[i]))
        i++;
    if (i == d || i + 7 > n || s[i] != ',' || s[i + 1] != ' ')
        return false;
    for (i += 2, d = i; i < d + 4; i++)
        if (!sl_ascii_digit(s[i]))
            return false;
    return s[i] == ' ';
}

/* The second line: its level (JUL's names, in English), then ": ". */
static bool jul_level(const char *s, size_t n)
{
    static const char *const levels[] = {
        "SEVERE: ", "WARNING: ", "INFO: ",  "CONFIG: ",
        "FINE: ",   "FINER: ",   "FINEST: "};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (starts(s, n, levels[i], strlen(levels[i])))
            return true;
    return false;
}

/* A rule of asterisks alone on its line ("***************************"):
 * how Spring Boot's failure report opens ("APPLICATION FAILED TO START"
 * between two rules, then "Description:" and "Action:" and their text). */
static bool asterisk_rule(const char *s, size_t n)
{
    if (n < 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '*')
            return false;
    return true;
}

struct ml_verdict multiline_java_decide(struct ml_view v, const char *s,
                                        size_t n)
{
    struct sl_slice plain = sl_ansi_plain(s, n);
    s = plain.ptr;
    n = plain.len;
    if (n == 0)
        return blank(v);
    /* Spring Boot's LoggingFailureAnalysisReporter logs its report under a
     * record with an empty message, at column 0: from its first rule, every
     * line joins up to one that opens like the record (a log whose records
     * open with a date or '['; elsewhere a record cannot be told) */
    if (v.open && v.st == ML_ST_REPORT)
        return opens_like_record(v, s) ? verdict(ML_START, ML_ST_RECORD)
                                       : verdict(ML_CONT, ML_ST_REPORT);
    if (v.open && v.st == ML_ST_RECORD && !(v.holding && v.hold_head) &&
        (sl_ascii_digit(v.lead) || v.lead == '[') && asterisk_rule(s, n))
        return verdict(ML_CONT, ML_ST_REPORT);
    if (v.open && v.st == ML_ST_RECORD && v.lines == 1 && !v.holding &&
        jul_level(s, n) && jul_header(v.text, v.text_len))
        return verdict(ML_CONT, ML_ST_RECORD);
    if (indented(s, n)) {
        if (java_frame(s, n))
            return join(v, ML_ST_TRACE);
        if (v.holding && v.hold_head)
            return verdict(ML_HOLD, v.st); /* an indented message line */
        size_t i = indent_len(s, n);
        if (starts(s + i, n - i, LIT("Suppressed: ")))
            return join(v, ML_ST_CAUSE);
        return join(v, v.open ? v.st : ML_ST_RECORD);
    }
    /* Node.js: an Error's properties, in braces after its frames, end
     * with a "}" at column 0; an uncaught one's trace ends with the
     * version, after a blank ("Node.js v18.19.0") */
    if (v.open && v.st == ML_ST_TRACE &&
        (same(s, n, LIT("}")) || starts(s, n, LIT("Node.js v"))))
        return verdict(ML_CONT, ML_ST_TRACE);
    /* "Wrapped by: ": Logback's and Log4j 2's root-cause-first %rEx */
    if (starts(s, n, LIT("Caused by: ")) || starts(s, n, LIT("Wrapped by: ")))
        return join(v, ML_ST_CAUSE);
    if (starts(s, n, LIT("Exception in thread \"")))
        return verdict(ML_START, ML_ST_CAUSE);
    if (v.open && (v.hold_head || v.st == ML_ST_CAUSE)) {
        /* a line that opens as the record did (a log whose records open
         * with a date or '['): the next record. What is held joins the
         * event above it: an exception with no frames (what the JVM
         * throws in their place once it has thrown one often,
         * OmitStackTraceInFastThrow; a Throwable that fills in none) and
         * the lines of its message */
        if (opens_like_record(v, s))
            return verdict(v.holding ? ML_AFTER : ML_START, ML_ST_RECORD);
        /* a second exception line: what was held was not its message */
        if (v.holding && java_head(s, n))
            return verdict(ML_START, ML_ST_RECORD);
        return verdict(ML_HOLD, v.st); /* a message line, or a record */
    }
    if (v.st == ML_ST_RECORD && java_head(s, n)) {
        struct ml_verdict h = verdict(ML_HOLD, v.st);
        h.head = true;
        return h;
    }
    return verdict(ML_START, ML_ST_RECORD);
}

/* A frame's function line in a goroutine's stack: "main.main()",
 * "main.(*S).f(0x0, {0x5c1e20, 0xc000010000})", "panic({0x4b8e40?, ...})":
 * no space before its first '(', and a ')' at its end. */
static bool go_function_line(const char *s, size_t n)
{
    const char *open = memchr(s, '(', n);
    return open != NULL && open > s && s[n - 1] == ')' &&
           memchr(s, ' ', (size_t)(open - s)) == NULL;
}

/* A frame's function alone on its line, as zap's stacktrace writes it
 * ("main.(*Server).handle", "net/http.HandlerFunc.ServeHTTP"): no space,
 * a '.', and not a digit or '[' first (a record's date). */
static bool go_frame_name(const char *s, size_t n)
{
    return !sl_ascii_digit(s[0]) && s[0] != '[' && memchr(s, ' ', n) == NULL &&
           memchr(s, '.', n) != NULL;
}

/* The runtime's head for a signal it dies of (GOTRACEBACK=crash, a
 * SIGQUIT's goroutine dump): "SIGQUIT: quit", "SIGSEGV: segmentation
 * violation": "SIG", capitals, ": ". */
static bool go_signal_head(const char *s, size_t n)
{
    size_t i = 3;
    if (!starts(s, n, LIT("SIG")))
        return false;
    while (i < n && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    return i > 3 && i + 1 < n && s[i] == ':' && s[i + 1] == ' ';
}

/* A register in the runtime's dump after a signal: "rax    0xca",
 * "rflags 0x246": a lower-case name, blanks, a hex number. */
static bool go_register(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (sl_ascii_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z')))
        i++;
    size_t name = i;
    while (i < n && s[i] == ' ')
        i++;
    if (name == 0 || i == name || !starts(s + i, n - i, LIT("0x")))
        return false;
    for (i += 2; i < n; i++)
        if (sl_ascii_hex_value(s[i]) < 0)
            return false;
    return true;
}

struct ml_verdict multiline_go_decide(struct ml_view v, const char *s, size_t n)
{
    struct sl_slice plain = sl_ansi_plain(s, n);
    s = plain.ptr;
    n = plain.len;
    if (n == 0)
        return blank(v);
    if (starts(s, n, LIT("panic: ")) || starts(s, n, LIT("fatal error: ")) ||
        go_signal_head(s, n))
        return verdict(ML_START, ML_ST_PANIC);
    /* a held function name: its file line joins them, anything else
     * releases it as a record */
    if (v.holding && v.hold_head)
        return indented(s, n) ? verdict(ML_CONT, v.st)
                              : verdict(ML_START, ML_ST_RECORD);
    /* a stack under a record: net/http's "http: panic serving ...",
     * debug.Stack() logged */
    if (v.open && starts(s, n, LIT("goroutine ")) && s[n - 1] == ':')
        return verdict(ML_CONT, ML_ST_PANIC);
    if (v.open && v.st == ML_ST_RECORD && go_frame_name(s, n)) {
        struct ml_verdict h = verdict(ML_HOLD, v.st);
        h.head = true;
        return h;
    }
    if (v.open && v.st == ML_ST_PANIC &&
        (indented(s, n) || starts(s, n, LIT("goroutine ")) ||
         starts(s, n, LIT("[signal ")) || starts(s, n, LIT("created by ")) ||
         starts(s, n, LIT("exit status ")) ||
         starts(s, n, LIT("...additional frames elided...")) ||
         same(s, n, LIT("runtime stack:")) || starts(s, n, LIT("PC=0x")) ||
         starts(s, n, LIT("signal arrived during ")) || go_register(s, n) ||
         go_function_line(s, n)))
        return verdict(ML_CONT, ML_ST_PANIC);
    if (indented(s, n))
        return join(v, v.open ? v.st : ML_ST_RECORD);
    return verdict(ML_START, ML_ST_RECORD);
}
