/* multiline_preset.h: the python, java and go presets as decision functions,
 * internal to framing/. Each looks at one line and at the joiner's state and
 * says what to do with the line; multiline.c does it. Pure functions of
 * their arguments, so the rules are testable one line at a time. */
#ifndef MULTILINE_PRESET_H
#define MULTILINE_PRESET_H

#include <stdbool.h>
#include <stddef.h>

/* Where the event being built is. NONE: no event open. */
enum ml_state {
    ML_ST_NONE = 0,
    ML_ST_RECORD, /* a log record (and lines indented under it) */
    ML_ST_TB,     /* python: inside "Traceback ...:" and its frames */
    ML_ST_EXC,    /* python: after the exception line that ends a traceback */
    ML_ST_CHAIN,  /* python: after "During handling ..." / "The above ..." */
    ML_ST_STACK,  /* python: in "Stack (most recent call last):" frames */
    ML_ST_QUOTE,  /* python: in a cause's message in triple quotes */
    ML_ST_TRACE,  /* java: after a "\tat" or "\t... N more" line */
    ML_ST_CAUSE,  /* java: after an exception head, before its first frame */
    ML_ST_REPORT, /* java: in Spring Boot's failure report, under a record */
    ML_ST_PANIC   /* go: in a panic and its goroutines' stacks */
};

enum ml_dec {
    ML_CONT,  /* joins the open event (held lines first) */
    ML_START, /* starts a new event (held lines are decided again first) */
    ML_HOLD,  /* undecided until a later line: held back */
    ML_AFTER, /* the held lines join the open event; the line starts one */
    ML_DROP   /* a blank line with no event open */
};

struct ml_view {
    bool open;        /* an event is being built */
    enum ml_state st; /* its state (ML_ST_NONE when !open) */
    bool holding;     /* lines are held back */
    bool hold_head;   /* java: the held lines start with an exception line */
    char lead;        /* the first byte of the event ('\0': none) */
    size_t lines;     /* lines joined in the event so far */
    const char *text; /* the event so far (its first line when lines is 1) */
    size_t text_len;
};

struct ml_verdict {
    enum ml_dec dec;
    enum ml_state st; /* the event's state once the line joins or starts it */
    bool head;        /* ML_HOLD: the line is an exception head */
};

struct ml_verdict multiline_python_decide(struct ml_view v, const char *s,
                                          size_t n);
struct ml_verdict multiline_java_decide(struct ml_view v, const char *s,
                                        size_t n);
struct ml_verdict multiline_go_decide(struct ml_view v, const char *s,
                                      size_t n);

#endif
