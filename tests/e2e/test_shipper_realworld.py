#!/usr/bin/env python3
"""`sluice-shipper run --once` with the stdout output on logs as servers
and applications write them, with the configs the README gives, each
event's fields checked: a traceback whose exception line has no newline
yet when --once ends (the event waits for it, whole, to the next run)
or while the line grows past the daemon's multiline timeout (it waits
for it too), and one left unfinished (the event goes out without it a
timeout after its last bytes);
Spring Boot's "APPLICATION FAILED TO START" report and Java exceptions
without frames (OmitStackTraceInFastThrow) through the java preset.

test_shipper_formats.py has the stack-trace formats, test_shipper_run.py
grok and date, tests/grok/cases the patterns line by line.

usage: test_shipper_realworld.py SLUICE_SHIPPER [CASE...]
"""
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import case, eq, failures, json_lines  # noqa: E402
from shipper_harness import write_config  # noqa: E402

SHIPPER = sys.argv[1]
shipper_harness.ONLY.update(sys.argv[2:])
scratch = functools.partial(shipper_harness.scratch,
                            shipper_harness.tmp_dir("sluice-e2e-realworld-"))


def events_of_once(conf):
    """The events `run --once` prints (it must exit 0)."""
    return json_lines(shipper_harness.run_once(SHIPPER, conf)[0])


def log_file(name, text):
    """scratch dir name's logs/app.log holding text; (dir, path)."""
    d = scratch(name)
    path = os.path.join(d, "logs", "app.log")
    with open(path, "w") as f:
        f.write(text)
    return d, path


def preset_input(name, text, preset, **multiline):
    """text in a log file read with the preset (and multiline's other
    keys) and the traceback processor: (dir, path, config)."""
    d, path = log_file(name, text)
    return d, path, write_config(d, [{
        "type": "file", "paths": [path],
        "multiline": dict(preset=preset, **multiline),
        "processors": [{"traceback": {}}]}])


RECORD = "2026-12-05 10:00:00,000 INFO [app] started\n"
TRACE = """\
2026-12-05 10:00:01,000 ERROR [app.worker] fetch failed
Traceback (most recent call last):
  File "/srv/app/worker.py", line 42, in run
    r = fetch(url)
  File "/srv/app/net.py", line 7, in fetch
    raise ConnectionError("refused")
requests.exceptions.ConnectionError: refused"""


@case
def a_traceback_whose_last_line_is_unfinished_waits_for_it():
    # A writer between two write()s, or one whose buffer was flushed
    # mid-line, when --once reads the file: the exception line has no
    # newline yet. The event went out without it (no error.type, tagged
    # _tracebackparsefailure), and the next run shipped the exception
    # line as an event of its own.
    _, path, conf = preset_input("unfinished-trace", RECORD + TRACE,
                                 "python")
    got = events_of_once(conf)
    eq([e["message"] for e in got], [RECORD[:-1]], "first run")
    with open(path, "a") as f:
        f.write("\n2026-12-05 10:00:02,000 INFO [app] next\n")
    got = events_of_once(conf)
    eq([e["message"] for e in got],
       [TRACE, "2026-12-05 10:00:02,000 INFO [app] next"], "second run")
    eq(got[0]["log"]["offset"], len(RECORD), "offset")
    eq((got[0].get("error", {}).get("type"), got[0]["log"].get("origin"),
        got[0].get("tags")),
       ("requests.exceptions.ConnectionError",
        {"file": {"name": "/srv/app/net.py", "line": 7},
         "function": "fetch"}, None), "error")


@case
def the_daemon_waits_for_a_tracebacks_unfinished_line_while_it_grows():
    # A program whose stdout goes to the file is block-buffered: a block
    # ends anywhere in a line, and the rest comes with the next block. The
    # multiline timeout counts from the unfinished line's last bytes: it
    # flushed the event without its exception line, which then became an
    # event of its own.
    head, tail = TRACE[:-7], TRACE[-7:]  # "...ConnectionError: " | "refused"
    d, path, conf = preset_input("unfinished-trace-daemon", RECORD + head,
                                 "python", timeout="1500ms")
    sh = shipper_harness.Shipper(SHIPPER, shipper_harness.ENV, conf, d)
    try:
        for ch in tail:  # 2.8 s of a line growing, nearly two timeouts
            time.sleep(0.4)
            with open(path, "a") as f:
                f.write(ch)
        eq([e["message"] for e in sh.events()], [RECORD[:-1]],
           "while the exception line is being written")
        with open(path, "a") as f:
            f.write("\n")
        got = sh.wait_events(2, "the traceback, a timeout after its line")
        eq([e["message"] for e in got], [RECORD[:-1], TRACE], "events")
        eq(got[1].get("error", {}).get("type"),
           "requests.exceptions.ConnectionError", "error.type")
    finally:
        sh.stop()


@case
def a_line_left_unfinished_does_not_hold_the_event_before_it():
    # A job that printed a prompt or a progress line and hangs, or a
    # writer killed in the middle of a line: the traceback before it (its
    # last words) goes out a timeout after the line's last bytes, without
    # them; the unfinished line is never sent half.
    abandoned = "progress: 10%..."
    d, path, conf = preset_input("abandoned-line", RECORD + TRACE + "\n" +
                                 abandoned, "python", timeout="1s")
    sh = shipper_harness.Shipper(SHIPPER, shipper_harness.ENV, conf, d)
    try:
        got = sh.wait_events(2, "the traceback, a timeout after the line")
        eq([e["message"] for e in got], [RECORD[:-1], TRACE], "events")
        eq(got[1].get("error", {}).get("type"),
           "requests.exceptions.ConnectionError", "error.type")
        time.sleep(1.5)
        eq(len(sh.events()), 2, "the unfinished line is not sent")
    finally:
        sh.stop()
    # --once over the same file once it has rested a timeout: the same
    d2, _ = log_file("abandoned-line-once", RECORD + TRACE + "\n" + abandoned)
    old = time.time() - 10
    os.utime(os.path.join(d2, "logs", "app.log"), (old, old))
    conf2 = write_config(d2, [{
        "type": "file", "paths": [os.path.join(d2, "logs", "app.log")],
        "multiline": {"preset": "python", "timeout": "1s"},
        "processors": [{"traceback": {}}]}])
    eq([e["message"] for e in events_of_once(conf2)], [RECORD[:-1], TRACE],
       "--once, the line unchanged for 10 s")


SPRING = """\
2026-12-05T10:00:00.000Z  INFO 1 --- [           main] o.s.b.w.e.tomcat.TomcatWebServer         : Tomcat initialized with port 8080 (http)
2026-12-05T10:00:01.000Z ERROR 1 --- [           main] o.s.b.d.LoggingFailureAnalysisReporter   : \n\
\n\
***************************
APPLICATION FAILED TO START
***************************

Description:

Web server failed to start. Port 8080 was already in use.

Action:

Identify and stop the process that's listening on port 8080 or configure this application to listen on another port.

2026-12-05T10:00:02.000Z  WARN 1 --- [           main] o.s.b.SpringApplication                  : shutting down
"""


@case
def spring_boots_failure_report_is_one_event_with_its_record():
    # Any Spring Boot application that cannot start (a port in use, a
    # bean missing) logs this report. Through the java preset each of its
    # lines was an event of its own, "Action:" one, its text another.
    conf = preset_input("spring-failure", SPRING, "java")[2]
    lines = SPRING.split("\n")
    eq([e["message"] for e in events_of_once(conf)],
       [lines[0], "\n".join(lines[1:14]), lines[15]], "events")


FAST_THROW = """\
2026-12-05 10:00:00,000 ERROR [exec-1] c.e.Orders - lookup failed
java.lang.NullPointerException
2026-12-05 10:00:00,100 ERROR [exec-2] c.e.Export - export failed
java.lang.OutOfMemoryError: Java heap space
2026-12-05 10:00:01,000 INFO  [main] c.e.App - still up
"""


@case
def a_java_exception_without_frames_is_one_event_with_its_record():
    # A JVM that has thrown an exception often throws it without its
    # stack trace (OmitStackTraceInFastThrow, on by default): the logger
    # prints the exception's line and no frame. It came out as an event of
    # its own, with no error.type, and its record had no error either.
    conf = preset_input("fast-throw", FAST_THROW, "java")[2]
    got = events_of_once(conf)
    lines = FAST_THROW.split("\n")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:2]), "\n".join(lines[2:4]), lines[4]], "events")
    eq([e.get("error") for e in got],
       [{"type": "java.lang.NullPointerException",
         "stack_trace": "java.lang.NullPointerException"},
        {"type": "java.lang.OutOfMemoryError", "message": "Java heap space",
         "stack_trace": "java.lang.OutOfMemoryError: Java heap space"},
        None], "errors")


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
