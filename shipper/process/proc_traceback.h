/* proc_traceback.h: finding the error in a multi-line event that holds a
 * Python traceback or a Java (or Node.js) stack trace, for the traceback
 * processor and its fuzz target. A pure function on bytes: no allocation,
 * every result a slice of the input.
 *
 * Python: the last "Traceback (most recent call last):" block is the
 * exception that propagated (earlier ones are its context or cause); its
 * exception line ("KeyError: 17", "app.errors.PaymentError: gateway ...")
 * is the first line after the block's frames that starts at column 0, its
 * message running to the end of the event (an exception's text may span
 * lines; in an exception group, its first line only), and the innermost
 * frame is the block's last `File "...", line N, in f` (loguru marks one
 * "> File"). The stack trace starts at the first header, or at a cause
 * printed with no traceback above it ("ValueError: y", a RemoteTraceback,
 * then a chain message). A SyntaxError that stopped a program from
 * starting has a frame and no header: it is read from that frame; so is
 * the last part of a traceback a multiline limit split (frames from its
 * first line, then the exception line, no header).
 *
 * Java: the exception at the top is the line above the first "\tat ..."
 * frame, indented less than it, that starts with a class name
 * ("java.lang.IllegalStateException: order 17 ...", also after `Exception
 * in thread "main" `; Tomcat's OneLineFormatter indents it a tab), the
 * message running to that frame; the innermost frame is that first frame,
 * where the exception was thrown. "Caused by:" blocks stay in the stack
 * trace only. Node.js traces ("TypeError: x" then "    at f
 * (/app/x.js:10:5)") and .NET's ("   at N.C.M(Int32 id) in /src/C.cs:line
 * 42") read the same way. When no line above the frame starts with a class
 * name, the exception may follow the record's text on its line (winston's
 * "2026-... error: TypeError: x", "... - failed: java.io.IOException: x"):
 * then it is the first name there, after a space, that ends in "Error",
 * "Exception" or "Throwable" and is followed by ':' or the line's end.
 *
 * Go: a panic ("panic: runtime error: ...", the runtime's "fatal error:
 * ...") is error.type "panic" or "fatal error" with the rest of its line
 * as the message; the crash site is the crashed goroutine's first frame
 * outside the runtime (each frame is a function line, then its
 * "\t/path/file.go:42 +0x1c").
 * A Go stack with no goroutine header (zap's stacktrace, pkg/errors'
 * "%+v"): lang TB_GO_STACK, no type, the message the text above its first
 * frame (a function line at column 0, then "\t/path/file.go:42"), the
 * stack trace from that frame, the crash site that frame. */
#ifndef PROC_TRACEBACK_H
#define PROC_TRACEBACK_H

#include <stdbool.h>

#include "sl_err.h"
#include "sl_slice.h"

enum tb_lang { TB_NONE, TB_PYTHON, TB_JAVA, TB_GO, TB_GO_STACK };

struct tb_result {
    enum tb_lang lang;
    struct sl_slice type;     /* error.type */
    struct sl_slice message;  /* error.message; may be empty */
    struct sl_slice stack;    /* error.stack_trace: header to the end */
    struct sl_slice file;     /* log.origin.file.name; empty: unknown */
    struct sl_slice line;     /* log.origin.file.line, digits; empty: none */
    struct sl_slice function; /* log.origin.function; empty: unknown */
};

/* 1: a traceback was found and *r is set. 0: none in s (an ordinary log
 * line). -1: a traceback's start is there but not its exception (a cut
 * event); r->lang says which kind. */
SL_MUST_CHECK int tb_parse(const char *s, size_t len, struct tb_result *r);
/* Where no trace is: an exception without frames, as the JVM throws one
 * in place of one it has thrown often (OmitStackTraceInFastThrow) or a
 * Throwable that fills in none, on s's first line or under its record
 * line, as the java preset joins it: a dotted name like an error's at
 * column 0 ("java.lang.NullPointerException", "java.lang.OutOfMemoryError:
 * Java heap space"), its message up to a "Caused by: " or the end. 1 and
 * *r (no crash site: no frame names one), or 0. */
SL_MUST_CHECK int tb_parse_frameless(const char *s, size_t len,
                                     struct tb_result *r);

#endif
