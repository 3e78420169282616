#!/usr/bin/env python3
"""`sluice-shipper run --once` with the stdout output on real-world logs, as
a user who reads the README tries a config: stack traces whose exception
follows the record's text on its line (Node.js through winston, a Java
logger's message then the exception) through the java preset and the
traceback processor; Logback's root-cause-first traces ("Wrapped by:");
@timestamp renamed to event.created before a date processor; Tomcat's
stack traces, indented by a tab; Python causes printed without a
traceback (multiprocessing's RemoteTraceback, `raise X from Y()`); a
Node.js stack trace under its record; JSON logs with the traceback in a
field of its own (exc_info, exception, err.stack); .NET frames; docker
and CRI lines after NUL padding; loguru's tracebacks; java.util.logging's
two-line records; a SyntaxError at start-up, which has no header;
asyncio's "Task exception was never retrieved"; an exception class
defined in a function ("f.<locals>.E"); Serilog's compact JSON, zap's
caller, logstash-logback-encoder's and ECS loggers' fields, .NET's and
Log4j 2's JSON layouts; a stdin input with stdin closed; a container's
stderr traceback between its stdout lines; Node.js errors with their
properties in braces; Go's recovered panics (net/http) and zap's
stacktraces (console and JSON), logrus's pkg/errors stacks, zerolog's
and structlog's frames as JSON arrays; the Go runtime's crashes on a signal; faulthandler's
"Fatal Python error"; and, through the daemon, the last partial line of a stopped
container.

test_shipper_inputs.py has the presets on column-0 tracebacks, docker and
CRI files, framing and bad input; test_shipper_run.py grok and date.

usage: test_shipper_formats.py SLUICE_SHIPPER [CASE...]
"""
import datetime
import functools
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ONLY, case, eq, failures, json_lines,  # noqa: E402
                             write_config)

SHIPPER = sys.argv[1]
ONLY.update(sys.argv[2:])
TMP = shipper_harness.tmp_dir("sluice-e2e-formats-")
scratch = functools.partial(shipper_harness.scratch, TMP)


def run_once(conf, status=0, stdin=None):
    """run --once: its events and its stderr."""
    out, err = shipper_harness.run_once(SHIPPER, conf, stdin, status)
    return json_lines(out), err


def errors_of(events):
    """(error, log.origin, tags) of each event."""
    return [(e.get("error"), e["log"].get("origin"), e.get("tags"))
            for e in events]


def preset_events(name, text, preset):
    """text in a file, read with the multiline preset and the traceback
    processor: the events, and text's lines."""
    d = scratch(name)
    path = os.path.join(d, "logs", "app.log")
    with open(path, "w") as f:
        f.write(text)
    conf = write_config(d, [{"type": "file", "paths": [path],
                             "multiline": {"preset": preset},
                             "processors": [{"traceback": {}}]}])
    got, _ = run_once(conf)
    return got, text.splitlines()


def trace_then_record(name, text, type_, message, origin):
    """text: a record with a stack trace on its 3 lines below, then a
    record; read with the java preset, these are two events, the first
    with that error and origin."""
    got, lines = preset_events(name, text, "java")
    eq([e["message"] for e in got], ["\n".join(lines[:4]), lines[4]],
       "events")
    eq(errors_of(got)[0], ({"type": type_, "message": message,
                            "stack_trace": "\n".join(lines[1:4])},
                           origin, None), "error")


# What `console.log(\`${time} error: ${err.stack}\`)` (winston's default
# printf format) and a Java logger that puts the exception in its message
# write: the exception is not at the start of a line.
NODE_AND_JAVA = """\
2026-12-05T10:00:00.000Z error: TypeError: Cannot read properties of null (reading 'x')
    at f (/srv/app/handler.js:1:20)
    at Object.<anonymous> (/srv/app/handler.js:2:7)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
2026-12-05T10:00:01.000Z info: next request
2026-12-05 10:00:02,000 ERROR [http-nio-8080-exec-1] c.e.Ctl - request failed: java.lang.NumberFormatException: For input string: "abc"
\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)
\tat com.example.Ctl.get(Ctl.java:22)
2026-12-05 10:00:03,000 INFO  [main] c.e.App - done
"""


@case
def exceptions_after_the_record_text_get_their_error_fields():
    got, lines = preset_events("inline-exceptions", NODE_AND_JAVA, "java")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:4]), lines[4], "\n".join(lines[5:8]), lines[8]],
       "events")
    node_stack = NODE_AND_JAVA[NODE_AND_JAVA.index("TypeError"):
                               NODE_AND_JAVA.index("\n2026-12-05T10:00:01")]
    java_stack = "\n".join(lines[5:8])
    java_stack = java_stack[java_stack.index("java.lang."):]
    eq(errors_of(got), [
        ({"type": "TypeError",
          "message": "Cannot read properties of null (reading 'x')",
          "stack_trace": node_stack},
         {"file": {"name": "/srv/app/handler.js", "line": 1},
          "function": "f"}, None),
        (None, None, None),
        ({"type": "java.lang.NumberFormatException",
          "message": 'For input string: "abc"', "stack_trace": java_stack},
         {"file": {"name": "NumberFormatException.java", "line": 67},
          "function": "java.lang.NumberFormatException.forInputString"},
         None),
        (None, None, None)], "errors")


# Logback's (and Log4j 2's) %rEx: the root cause first, then its wrappers.
ROOT_CAUSE_FIRST = """\
2026-12-05 10:00:00,000 ERROR [main] c.e.App - order 17 failed
java.net.SocketException: Connection reset
\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:323)
\tat com.example.Db.query(Db.java:40)
Wrapped by: java.sql.SQLException: query failed
on two lines
\tat com.example.Db.query(Db.java:44)
\t... 1 common frames omitted
Wrapped by: com.example.OrderException: order 17
\tat com.example.Orders.load(Orders.java:12)
\t... 2 common frames omitted
2026-12-05 10:00:01,000 INFO  [main] c.e.App - next
"""


@case
def a_root_cause_first_stack_trace_is_one_event():
    got, lines = preset_events("root-cause-first", ROOT_CAUSE_FIRST, "java")
    eq([e["message"] for e in got], ["\n".join(lines[:-1]), lines[-1]],
       "events")
    eq(errors_of(got)[0], (
        {"type": "java.net.SocketException", "message": "Connection reset",
         "stack_trace": "\n".join(lines[1:-1])},
        {"file": {"name": "NioSocketImpl.java", "line": 323},
         "function": "sun.nio.ch.NioSocketImpl.implRead"}, None), "error")


@case
def renaming_timestamp_keeps_the_read_time_beside_the_parsed_one():
    # Logstash's idiom: keep when the line was read (event.created) before
    # the date processor replaces @timestamp with the line's own time
    d = scratch("rename-timestamp")
    path = os.path.join(d, "logs", "access.log")
    with open(path, "w") as f:
        f.write('192.0.2.1 - - [05/Dec/2026:10:00:00 +0100] "GET / HTTP/1.1" '
                '200 12 "-" "curl/8.0"\n')
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"rename": {"fields": [{"from": "@timestamp",
                                "to": "event.created"}]}},
        {"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}},
        {"date": {"field": "timestamp",
                  "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}},
        {"add_tags": {"tags": ["dated"], "when": {
            "regexp": {"@timestamp": "^2026-12-05T09:00:00"}}}}]}])
    t0 = time.time()
    out, _ = shipper_harness.run_once(SHIPPER, conf)
    got = json_lines(out)
    eq(list(got[0])[0], "@timestamp", "first key")
    eq((got[0]["@timestamp"], got[0]["tags"]),
       ("2026-12-05T09:00:00.000Z", ["dated"]), "the line's time")
    created = got[0].get("event", {}).get("created")
    if not isinstance(created, str) or not created.endswith("Z"):
        raise AssertionError(f"event.created: {created!r}")
    read = datetime.datetime.fromisoformat(created[:-1] + "+00:00")
    if abs(read.timestamp() - t0) > 60:
        raise AssertionError(f"event.created {created} is not the read time")


# Tomcat's catalina log (JULI's OneLineFormatter): the stack trace indented
# by a tab, its frames by two.
CATALINA = """\
05-Dec-2026 10:00:00.000 SEVERE [main] org.apache.catalina.startup.Catalina.start The required Server component failed to start so Tomcat is unable to start.
\torg.apache.catalina.LifecycleException: Protocol handler initialization failed
\t\tat org.apache.catalina.connector.Connector.initInternal(Connector.java:1050)
\t\tat org.apache.catalina.util.LifecycleBase.init(LifecycleBase.java:136)
\tCaused by: java.net.BindException: Address already in use
\t\tat java.base/sun.nio.ch.Net.bind0(Native Method)
\t\t... 12 more
05-Dec-2026 10:00:01.000 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds
"""


@case
def tomcat_indented_stack_traces_get_their_error_fields():
    got, lines = preset_events("catalina", CATALINA, "java")
    eq([e["message"] for e in got], ["\n".join(lines[:-1]), lines[-1]],
       "events")
    eq(errors_of(got), [
        ({"type": "org.apache.catalina.LifecycleException",
          "message": "Protocol handler initialization failed",
          "stack_trace": "\n".join(lines[1:-1]).lstrip("\t")},
         {"file": {"name": "Connector.java", "line": 1050},
          "function": "org.apache.catalina.connector.Connector.initInternal"},
         None),
        (None, None, None)], "errors")


# What Python 3.11 logs for logging.exception() after a multiprocessing
# pool's worker failed (the worker's traceback is the message of a cause
# printed with no traceback of its own), and after `raise RuntimeError(...)
# from ValueError(...)`.
REMOTE = '''\
2026-12-05 03:22:36,531 ERROR pool failed
multiprocessing.pool.RemoteTraceback:\x20
"""
Traceback (most recent call last):
  File "/usr/lib/python3.11/multiprocessing/pool.py", line 125, in worker
    result = (True, func(*args, **kwds))
                    ^^^^^^^^^^^^^^^^^^^
  File "/srv/app/jobs.py", line 3, in f
    def f(x): return 1/0
                     ~^~
ZeroDivisionError: division by zero
"""

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/app/jobs.py", line 6, in <module>
    try: p.map(f, [1])
         ^^^^^^^^^^^^^
  File "/usr/lib/python3.11/multiprocessing/pool.py", line 774, in get
    raise self._value
ZeroDivisionError: division by zero
2026-12-05 03:23:53,033 ERROR startup failed
ValueError: port must be a number

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/app/main.py", line 4, in <module>
RuntimeError: config unusable
2026-12-05 03:23:54,000 INFO next
'''



@case
def a_cause_printed_without_its_traceback_stays_with_its_record():
    got, lines = preset_events("remote-traceback", REMOTE, "python")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:22]), "\n".join(lines[22:30]), lines[30]],
       "events")
    eq(errors_of(got), [
        ({"type": "ZeroDivisionError", "message": "division by zero",
          "stack_trace": "\n".join(lines[1:22])},
         {"file": {"name": "/usr/lib/python3.11/multiprocessing/pool.py",
                   "line": 774}, "function": "get"}, None),
        ({"type": "RuntimeError", "message": "config unusable",
          "stack_trace": "\n".join(lines[23:30])},
         {"file": {"name": "/srv/app/main.py", "line": 4},
          "function": "<module>"}, None),
        (None, None, None)], "errors")


# A Node.js service whose logger writes the record, then err.stack on the
# lines below it (console.error(err), pino-pretty, winston's errors()).
NODE = """\
2026-12-05T10:00:00.000Z ERROR request failed
TypeError: Cannot read properties of undefined (reading 'id')
    at handler (/app/src/h.js:10:5)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
2026-12-05T10:00:01.000Z INFO next
"""


@case
def a_node_stack_trace_under_its_record_is_one_event():
    trace_then_record("node", NODE, "TypeError",
                      "Cannot read properties of undefined (reading 'id')",
                      {"file": {"name": "/app/src/h.js", "line": 10},
                       "function": "handler"})


@case
def json_logs_with_a_traceback_in_a_field_of_their_own():
    # python-json-logger's exc_info, structlog's exception, pino's err.stack:
    # {"traceback": {}} finds them when message holds none
    d = scratch("json-tracebacks")
    path = os.path.join(d, "logs", "app.log")
    py_tb = ('Traceback (most recent call last):\n'
             '  File "/srv/app/jobs.py", line 11, in run\n'
             '    return 1 / 0\n'
             'ZeroDivisionError: division by zero')
    node_tb = ("TypeError: x is undefined\n"
               "    at handler (/app/h.js:3:9)\n    at next (/app/r.js:1:1)")
    records = [
        {"asctime": "2026-12-05 03:16:41,841", "levelname": "ERROR",
         "message": "job failed", "exc_info": py_tb},
        {"event": "job failed", "level": "error", "exception": py_tb},
        {"level": 50, "msg": "request failed",
         "err": {"type": "TypeError", "message": "x is undefined",
                 "stack": node_tb}},
        {"levelname": "INFO", "message": "plain"}]
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"json": {}}, {"traceback": {}}]}])
    got, _ = run_once(conf)
    py_error = ({"type": "ZeroDivisionError", "message": "division by zero",
                 "stack_trace": py_tb},
                {"file": {"name": "/srv/app/jobs.py", "line": 11},
                 "function": "run"}, None)
    eq(errors_of(got), [
        py_error, py_error,
        ({"type": "TypeError", "message": "x is undefined",
          "stack_trace": node_tb},
         {"file": {"name": "/app/h.js", "line": 3}, "function": "handler"},
         None),
        (None, None, None)], "errors")
    eq([e["message"] for e in got],
       ["job failed", "job failed", "request failed", "plain"], "messages")


# An ASP.NET Core service (Serilog's default template): .NET frames put the
# file after the parameters, as " in FILE:line N".
DOTNET = """\
2026-12-05 10:00:02.000 +00:00 [ERR] Cache lookup failed
System.ArgumentNullException: Value cannot be null. (Parameter 'key')
   at MyApp.Cache.Get(String key) in /src/MyApp/Cache.cs:line 7
   at MyApp.Program.Main(String[] args) in /src/MyApp/Program.cs:line 12
2026-12-05 10:00:03.000 +00:00 [INF] next
"""


@case
def dotnet_stack_traces_name_the_file_not_the_parameters():
    trace_then_record("dotnet", DOTNET, "System.ArgumentNullException",
                      "Value cannot be null. (Parameter 'key')",
                      {"file": {"name": "/src/MyApp/Cache.cs", "line": 7},
                       "function": "MyApp.Cache.Get"})


@case
def container_lines_after_nul_padding_are_read_as_the_format():
    # a host that lost power: the log's unwritten end reads as zeros, and
    # the runtime writes on after them
    d = scratch("nul-padding")
    docker = os.path.join(d, "logs", "docker.log")
    cri = os.path.join(d, "logs", "cri.log")
    with open(docker, "wb") as f:
        f.write(b'{"log":"before\\n","stream":"stdout",'
                b'"time":"2026-12-05T10:00:00Z"}\n' + b"\0" * 4096 +
                b'{"log":"after\\n","stream":"stderr",'
                b'"time":"2026-12-05T10:00:01Z"}\n')
    with open(cri, "wb") as f:
        f.write(b"2026-12-05T10:00:00Z stdout F before\n" + b"\0" * 4096 +
                b"2026-12-05T10:00:01Z stderr F after\n")
    conf = write_config(d, [
        {"type": "file", "paths": [docker], "format": "docker"},
        {"type": "file", "paths": [cri], "format": "cri"}])
    got, _ = run_once(conf)
    for path in (docker, cri):
        eq([(e["message"], e["stream"], e["@timestamp"], e.get("tags"))
            for e in got if e["log"]["file"]["path"] == path],
           [("before", "stdout", "2026-12-05T10:00:00.000Z", None),
            ("after", "stderr", "2026-12-05T10:00:01.000Z", None)], path)


# loguru 0.7's exception() in a file (backtrace and diagnose on, its
# defaults): "> File" marks the frame that caught the exception, blank
# lines part the blocks, "└" lines show the values.
LOGURU = """\
2026-12-05 03:33:43.517 | ERROR    | __main__:<module>:11 - failed
Traceback (most recent call last):

> File "/srv/app/jobs.py", line 9, in <module>
    g(1)
    \u2514 <function g at 0x7f51d7ed2ac0>

  File "/srv/app/jobs.py", line 5, in f
    return 1 / x
               \u2514 0

ZeroDivisionError: division by zero
2026-12-05 03:33:43.542 | ERROR    | __main__:<module>:19 - chained
Traceback (most recent call last):

  File "/srv/app/jobs.py", line 15, in <module>
    {}['k']

KeyError: 'k'


The above exception was the direct cause of the following exception:


Traceback (most recent call last):

> File "/srv/app/jobs.py", line 17, in <module>
    raise ValueError('bad') from e

ValueError: bad
2026-12-05 03:33:43.543 | INFO     | __main__:<module>:20 - end
"""


@case
def loguru_tracebacks_are_one_event_with_their_error():
    got, lines = preset_events("loguru", LOGURU, "python")
    eq([e["message"] for e in got],
       ["\n".join(lines[:12]), "\n".join(lines[12:30]), lines[30]],
       "events")
    eq(errors_of(got), [
        ({"type": "ZeroDivisionError", "message": "division by zero",
          "stack_trace": "\n".join(lines[1:12])},
         {"file": {"name": "/srv/app/jobs.py", "line": 5}, "function": "f"},
         None),
        ({"type": "ValueError", "message": "bad",
          "stack_trace": "\n".join(lines[13:30])},
         {"file": {"name": "/srv/app/jobs.py", "line": 17},
          "function": "<module>"}, None),
        (None, None, None)], "errors")


# java.util.logging's SimpleFormatter (the JDK's default): a record is two
# lines, a blank line after a stack trace.
JUL = """\
Dec 05, 2026 3:37:38 AM com.example.App main
INFO: starting
Dec 05, 2026 3:37:38 AM com.example.App main
SEVERE: parse failed
java.lang.NumberFormatException: For input string: "x"
\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)
\tat com.example.App.main(App.java:8)

Dec 05, 2026 3:37:39 AM com.example.App main
WARNING: low disk
"""


@case
def java_util_logging_records_are_one_event_each():
    got, lines = preset_events("jul", JUL, "java")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:2]), "\n".join(lines[2:7]),
        "\n".join(lines[8:10])], "events")
    eq(errors_of(got)[1][0]["type"], "java.lang.NumberFormatException",
       "error.type")


# A Python service that cannot start, restarted by its supervisor: CPython
# prints a SyntaxError with no "Traceback" header, once per start.
CRASH_LOOP = """\
  File "/srv/app/main.py", line 2
    def f(:
          ^
SyntaxError: invalid syntax
  File "/srv/app/main.py", line 2
    def f(:
          ^
SyntaxError: invalid syntax
"""


@case
def a_syntax_error_crash_loop_is_one_event_per_start():
    got, lines = preset_events("crash-loop", CRASH_LOOP, "python")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:4]), "\n".join(lines[4:8])], "events")
    eq(errors_of(got), [
        ({"type": "SyntaxError", "message": "invalid syntax",
          "stack_trace": "\n".join(lines[0:4])},
         {"file": {"name": "/srv/app/main.py", "line": 2}}, None)] * 2,
       "errors")


# asyncio's exception handler (Python 3.11): a task's exception nobody
# retrieved, its context on the line under the record.
ASYNCIO = """\
2026-12-05 03:47:59,626 ERROR asyncio: Task exception was never retrieved
future: <Task finished name='Task-2' coro=<f() done, defined at /srv/app/jobs.py:3> exception=ValueError('boom')>
Traceback (most recent call last):
  File "/srv/app/jobs.py", line 3, in f
    async def f(): raise ValueError("boom")
                   ^^^^^^^^^^^^^^^^^^^^^^^^
ValueError: boom
2026-12-05 03:47:59,632 ERROR app: after
"""


@case
def an_asyncio_task_exception_is_one_event_with_its_record():
    got, lines = preset_events("asyncio", ASYNCIO, "python")
    eq([e["message"] for e in got], ["\n".join(lines[:7]), lines[7]],
       "events")
    eq(errors_of(got)[0], (
        {"type": "ValueError", "message": "boom",
         "stack_trace": "\n".join(lines[2:7])},
        {"file": {"name": "/srv/app/jobs.py", "line": 3}, "function": "f"},
        None), "error")


@case
def an_exception_class_defined_in_a_function_is_named_whole():
    text = ("2026-12-05 03:50:29,854 ERROR failed\n"
            "Traceback (most recent call last):\n"
            '  File "/srv/app/retry.py", line 6, in call\n'
            "make.<locals>.RetryError: gave up after 3 tries\n"
            "2026-12-05 03:50:29,855 ERROR after\n")
    got, lines = preset_events("locals", text, "python")
    eq([e["message"] for e in got], ["\n".join(lines[:4]), lines[4]],
       "events")
    eq(errors_of(got)[0][0]["type"], "make.<locals>.RetryError", "type")


@case
def a_stopped_containers_last_partial_line_is_shipped():
    """A container that stops in the middle of a line: Docker writes its
    last "log" without "\n", a CRI runtime a "P" part with no "F" after
    it. No part follows, ever; the daemon waited for one forever, and
    the line never reached Redis (run --once, which ends the input,
    printed it)."""
    d = scratch("stopped-partial")
    docker = os.path.join(d, "logs", "docker.log")
    cri = os.path.join(d, "logs", "cri.log")
    with open(docker, "w") as f:
        f.write(json.dumps({"log": "starting\n", "stream": "stdout",
                            "time": "2026-12-05T06:00:00Z"}) + "\n")
        f.write(json.dumps({"log": "Progress: 42%", "stream": "stdout",
                            "time": "2026-12-05T06:00:01Z"}) + "\n")
    with open(cri, "w") as f:
        f.write("2026-12-05T06:00:00.000000000Z stderr F starting\n"
                "2026-12-05T06:00:01.000000000Z stderr P Enter password: \n")
    conf = write_config(d, [
        {"type": "file", "paths": [docker], "format": "docker"},
        {"type": "file", "paths": [cri], "format": "cri",
         "multiline": {"pattern": "^ ", "timeout": "100ms"}}])
    sh = shipper_harness.Shipper(SHIPPER, shipper_harness.ENV, conf, d)
    try:
        sh.wait_events(4, "the partial lines, once their rest is not coming")
        got = sorted((e["log"]["file"]["path"], e["log"]["offset"],
                      e["message"], e["stream"]) for e in sh.events())
        eq(got, [(cri, 0, "starting", "stderr"),
                 (cri, 49, "Enter password: ", "stderr"),
                 (docker, 0, "starting", "stdout"),
                 (docker, 74, "Progress: 42%", "stdout")], "events")
        with open(docker, "a") as f:  # the container started again
            f.write(json.dumps({"log": "restarted\n", "stream": "stdout",
                                "time": "2026-12-05T06:05:00Z"}) + "\n")
        sh.wait_events(5)
        eq(sh.events()[4]["message"], "restarted", "a new event")
    finally:
        sh.stop()


@case
def serilog_zap_logback_and_ecs_json_logs_fill_their_ecs_fields():
    """JSON logs as the libraries print them, through {"json": {}} and
    {"traceback": {}}: Serilog's CompactJsonFormatter writes "@mt" (no
    "@m": the message is the template rendered, the template kept in
    labels.MessageTemplate; before, the message was the template),
    leaves "@l" out for Information and puts the exception in "@x"; zap's "caller"; logstash-logback-encoder's "logger_name" and
    "thread_name"; an ECS logger's "error.stack_trace". Before: the whole
    JSON line as message, no log.level, no error fields, the crash site
    not found."""
    d = scratch("json-libraries")
    path = os.path.join(d, "logs", "app.log")
    dotnet_tb = ("System.InvalidOperationException: Sequence contains no "
                 "elements\n   at MyApp.Orders.First() in "
                 "/src/MyApp/Orders.cs:line 31\n   at MyApp.Program.Main()")
    java_tb = ("java.lang.IllegalStateException: pool closed\n"
               "\tat com.example.Pool.get(Pool.java:88)\n"
               "\tat com.example.App.main(App.java:12)")
    records = [
        {"@t": "2026-12-05T06:00:00.1234567Z", "@mt": "Order {Id} placed",
         "Id": 42},
        {"@t": "2026-12-05T06:00:01.0000000Z", "@mt": "Order {Id} failed",
         "@l": "Error", "@x": dotnet_tb, "Id": 43},
        {"level": "warn", "ts": 1796450402.5, "caller": "api/server.go:118",
         "msg": "slow request", "latency": 2.5},
        {"@timestamp": "2026-12-05T06:00:03.000+00:00", "@version": "1",
         "message": "pool failed", "logger_name": "com.example.Pool",
         "thread_name": "http-nio-8080-exec-3", "level": "ERROR",
         "level_value": 40000},
        {"@timestamp": "2026-12-05T06:00:04.000Z", "log.level": "error",
         "message": "pool failed", "ecs.version": "1.2.0",
         "log.logger": "com.example.Pool",
         "error.type": "java.lang.IllegalStateException",
         "error.message": "pool closed", "error.stack_trace": java_tb}]
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"json": {}}, {"traceback": {}}]}])
    got, _ = run_once(conf)
    eq([(e["message"], e["log"].get("level"), e["log"].get("logger"))
        for e in got],
       [("Order 42 placed", "Information", None),
        ("Order 43 failed", "Error", None),
        ("slow request", "warn", None),
        ("pool failed", "ERROR", "com.example.Pool"),
        ("pool failed", "error", "com.example.Pool")], "message, level")
    java_error = ({"type": "java.lang.IllegalStateException",
                   "message": "pool closed", "stack_trace": java_tb},
                  {"file": {"name": "Pool.java", "line": 88},
                   "function": "com.example.Pool.get"}, None)
    eq(errors_of(got), [
        (None, None, None),
        ({"type": "System.InvalidOperationException",
          "message": "Sequence contains no elements",
          "stack_trace": dotnet_tb},
         {"file": {"name": "/src/MyApp/Orders.cs", "line": 31},
          "function": "MyApp.Orders.First"}, None),
        (None, {"file": {"name": "api/server.go", "line": 118}}, None),
        (None, None, None),
        java_error], "errors")
    eq(got[3]["process"], {"thread": {"name": "http-nio-8080-exec-3"}},
       "thread_name")
    eq([got[0]["labels"], got[1]["labels"]],
       [{"MessageTemplate": "Order {Id} placed"},
        {"MessageTemplate": "Order {Id} failed"}], "the templates")


@case
def dotnet_and_log4j2_json_layouts_fill_their_ecs_fields():
    """.NET's JsonConsoleFormatter ("LogLevel", "Category", "Message",
    "Exception") and Log4j 2's JsonLayout ("loggerName", "thread" as a
    name): the logger and the thread stayed under names of their own."""
    d = scratch("json-layouts")
    path = os.path.join(d, "logs", "app.log")
    dotnet_tb = ("System.TimeoutException: The operation has timed out.\n"
                 "   at Shop.Payments.Charge() in /src/Shop/Payments.cs:"
                 "line 19")
    records = [
        {"EventId": 3, "LogLevel": "Error", "Category": "Shop.Payments",
         "Message": "charge failed", "Exception": dotnet_tb,
         "State": {"Message": "charge failed",
                   "{OriginalFormat}": "charge failed"}},
        {"instant": {"epochSecond": 1796450400, "nanoOfSecond": 0},
         "thread": "main", "level": "WARN", "loggerName": "com.example.App",
         "message": "slow", "threadId": 1, "threadPriority": 5}]
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"json": {}}, {"traceback": {}}]}])
    got, _ = run_once(conf)
    eq([(e["message"], e["log"]["level"], e["log"]["logger"],
         e.get("process")) for e in got],
       [("charge failed", "Error", "Shop.Payments", None),
        ("slow", "WARN", "com.example.App", {"thread": {"name": "main"}})],
       "message, level, logger, thread")
    eq(errors_of(got)[0], (
        {"type": "System.TimeoutException",
         "message": "The operation has timed out.",
         "stack_trace": dotnet_tb},
        {"file": {"name": "/src/Shop/Payments.cs", "line": 19},
         "function": "Shop.Payments.Charge"}, None), "error")


@case
def a_stdin_input_started_with_stdin_closed_ends():
    """`sluice-shipper run --once <&-` (a supervisor or script that closes
    the standard descriptors) with a stdin input: the daemon's first
    descriptor, its signalfd, took the number 0 and was read as stdin;
    the run never ended, and a SIGTERM was read as log data."""
    d = scratch("stdin-closed")
    conf = write_config(d, [{"type": "stdin"}])
    proc = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                          env=shipper_harness.ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=20,
                          preexec_fn=lambda: os.close(0))
    eq((proc.returncode, proc.stdout), (0, b""), "exit, events")


@case
def a_traceback_past_max_lines_ships_every_line():
    """A Python traceback of 12 lines and a Java stack trace with "Caused
    by:" and "... 12 more", each longer than multiline.max_lines (5), as
    Logstash's multiline codec does it: the event is cut at the limit and
    tagged _truncated, the rest goes on in the next events, tagged
    _multiline_continued. Before, the lines past the limit were dropped:
    the Python traceback lost its exception line, the one that says what
    failed, and the traceback processor could not name it."""
    d = scratch("max-lines")
    frames = "".join(f'  File "/app/m{i}.py", line {i}, in f{i}\n    g{i}()\n'
                     for i in range(5))
    py = ("2026-12-05 09:00:00,000 ERROR app: job failed\n"
          "Traceback (most recent call last):\n" + frames +
          "KeyError: 'order_id'\n"
          "2026-12-05 09:00:01,000 INFO app: next\n")
    java = ("2026-12-05 09:00:00.000 ERROR c.e.Svc - failed\n"
            "java.lang.IllegalStateException: pool closed\n"
            "\tat com.example.Pool.get(Pool.java:88)\n"
            "\tat com.example.App.main(App.java:12)\n"
            "Caused by: java.io.IOException: disk full\n"
            "\tat java.io.F.w(F.java:1)\n"
            "\t... 12 more\n"
            "2026-12-05 09:00:01.000 INFO c.e.Svc - next\n")
    inputs = []
    for name, text, preset in (("py.log", py, "python"),
                               ("java.log", java, "java")):
        path = os.path.join(d, "logs", name)
        with open(path, "w") as f:
            f.write(text)
        inputs.append({"type": "file", "paths": [path],
                       "multiline": {"preset": preset, "max_lines": 5},
                       "processors": [{"traceback": {}}]})
    got, _ = run_once(write_config(d, inputs))
    for name, text in (("py.log", py), ("java.log", java)):
        evs = [e for e in got if e["log"]["file"]["path"].endswith(name)]
        eq("\n".join(e["message"] for e in evs) + "\n", text,
           name + ": every line, in order")
        eq([e.get("tags") for e in evs],
           [["_truncated"], ["_truncated", "_multiline_continued"],
            ["_multiline_continued"], None] if name == "py.log" else
           [["_truncated"], ["_multiline_continued"], None],
           name + ": tags")
    py_evs = [e for e in got if e["log"]["file"]["path"].endswith("py.log")]
    eq((py_evs[2]["message"], py_evs[2]["error"]["type"],
        py_evs[2]["log"]["origin"]),
       ('  File "/app/m4.py", line 4, in f4\n    g4()\nKeyError: '
        "'order_id'", "KeyError",
        {"file": {"name": "/app/m4.py", "line": 4}, "function": "f4"}),
       "the exception line and its crash site")
    java_evs = [e for e in got if e["log"]["file"]["path"].endswith("java.log")]
    eq(java_evs[0]["error"]["type"], "java.lang.IllegalStateException",
       "the head names the exception")
    eq("error" in java_evs[1], False, "the rest: no error, no failure tag")


@case
def go_panics_and_coloured_tracebacks_are_one_event_with_their_error():
    """A Go program's crash on stderr through the go preset and the
    traceback processor: one event, error.type "panic", the crash site
    the first frame outside the runtime; before, there was no go preset
    (the java one made seven events of it) and no error fields. A Python
    traceback coloured by its logger (ANSI codes): before, the coloured
    exception line started an event of its own, and the traceback's was
    tagged _tracebackparsefailure."""
    d = scratch("go-ansi")
    go = ("2026/12/05 09:00:00 serving on :8080\n"
          "panic: runtime error: invalid memory address or nil pointer "
          "dereference\n"
          "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 "
          "pc=0x4a2b3c]\n\n"
          "goroutine 1 [running]:\n"
          "main.(*Server).handle(0x0, {0x5c1e20, 0xc000010000})\n"
          "\t/app/server.go:42 +0x1c\n"
          "main.main()\n\t/app/main.go:17 +0x85\n"
          "exit status 2\n"
          "2026/12/05 09:00:01 serving on :8080\n")
    py = ("\x1b[31m2026-12-05 09:00:00,000 ERROR\x1b[0m app: failed\n"
          "Traceback (most recent call last):\n"
          '  File "/app/a.py", line 7, in run\n'
          "    step()\n"
          "\x1b[1;31mKeyError: 'sku'\x1b[0m\n"
          "\x1b[32m2026-12-05 09:00:01,000 INFO\x1b[0m app: next\n")
    inputs = []
    for name, text, preset in (("go.log", go, "go"), ("py.log", py,
                                                       "python")):
        path = os.path.join(d, "logs", name)
        with open(path, "w") as f:
            f.write(text)
        inputs.append({"type": "file", "paths": [path],
                       "multiline": {"preset": preset},
                       "processors": [{"traceback": {}}]})
    got, _ = run_once(write_config(d, inputs))
    g = [e for e in got if e["log"]["file"]["path"].endswith("go.log")]
    lines = go.splitlines()
    eq([e["message"] for e in g],
       [lines[0], "\n".join(lines[1:-1]), lines[-1]], "go events")
    eq(errors_of(g)[1][:2], (
        {"type": "panic", "message": "runtime error: invalid memory address "
         "or nil pointer dereference", "stack_trace": "\n".join(lines[1:-1])},
        {"file": {"name": "/app/server.go", "line": 42},
         "function": "main.(*Server).handle"}), "go error")
    p = [e for e in got if e["log"]["file"]["path"].endswith("py.log")]
    eq(len(p), 2, "python events")
    eq((p[0]["error"]["type"], p[0]["error"]["message"], p[0].get("tags")),
       ("KeyError", "'sku'", None), "python error")


@case
def a_latin1_log_keeps_its_letters_with_the_charset_processor():
    """A log written in Windows-1252 (a .NET Framework program, a Java
    application on a Windows platform charset), a UTF-8 line after it:
    before, every accented letter and the euro sign were written U+FFFD,
    and nothing could read them back."""
    d = scratch("latin1")
    path = os.path.join(d, "logs", "app.log")
    with open(path, "wb") as f:
        f.write("2026-12-05 commande de Zoé : 12 €\n".encode("cp1252") +
                "2026-12-05 déjà en UTF-8\n".encode("utf-8"))
    conf = write_config(d, [{"type": "file", "paths": [path],
                             "processors": [{"charset": {}}]}])
    got, _ = run_once(conf)
    eq([e["message"] for e in got],
       ["2026-12-05 commande de Zoé : 12 €", "2026-12-05 déjà en UTF-8"],
       "messages")


@case
def a_utf16_file_is_said_once_with_what_to_do():
    """A log written in UTF-16 (PowerShell's redirection, a Windows tool):
    its lines are cut at the byte "\\n", so its events hold a NUL every
    other byte. Before, nothing said why; now the daemon says it once,
    with the command that converts the file. The events are still valid
    JSON, nothing dropped."""
    d = scratch("utf16")
    path = os.path.join(d, "logs", "app.log")
    with open(path, "wb") as f:
        f.write("2026-12-05 started\nsecond line\n".encode("utf-16"))
    got, err = run_once(write_config(d, [{"type": "file", "paths": [path]}]))
    # the NUL after the last "\\n" is a line that waits for its newline
    eq(len(got), 2, "events")
    eq(err.count("UTF-16 byte order mark"), 1, "said once")
    eq("iconv -f UTF-16 -t UTF-8" in err, True, "what to do")


@case
def a_container_traceback_on_stderr_does_not_join_a_stdout_line():
    """A Python service in a container: its access lines on stdout, an
    uncaught exception's traceback on stderr, both in one docker (and one
    CRI) file, read with the python preset. Before, the traceback's header
    joined the stdout line above it: one event with the stdout request
    line as its message's head, "stream": "stdout" and the stderr error;
    a stdout line inside the traceback took the rest of the frames. A
    record of the other stream now ends the open event."""
    d = scratch("streams")
    rows = [("stdout", "GET /health 200"),
            ("stderr", "Traceback (most recent call last):"),
            ("stderr", '  File "/app/w.py", line 9, in run'),
            ("stderr", "    step()"),
            ("stderr", "KeyError: 'sku'"),
            ("stdout", "GET /cart 200"),
            ("stderr", "Traceback (most recent call last):"),
            ("stdout", "GET /next 200"),
            ("stderr", '  File "/app/w.py", line 9, in run')]
    docker = os.path.join(d, "logs", "c-json.log")
    with open(docker, "w") as f:
        for i, (stream, text) in enumerate(rows):
            f.write(json.dumps({"log": text + "\n", "stream": stream,
                                "time": "2026-12-05T10:00:0%d.5Z" % i}) +
                    "\n")
    cri = os.path.join(d, "logs", "c.cri")
    with open(cri, "w") as f:
        for i, (stream, text) in enumerate(rows):
            f.write("2026-12-05T10:00:0%d.5Z %s F %s\n" % (i, stream, text))
    inputs = [{"type": "file", "paths": [path], "format": fmt,
               "multiline": {"preset": "python"},
               "processors": [{"traceback": {}}]}
              for path, fmt in ((docker, "docker"), (cri, "cri"))]
    got, _ = run_once(write_config(d, inputs))
    for path in (docker, cri):
        evs = [e for e in got if e["log"]["file"]["path"] == path]
        eq([(e["stream"], e["message"]) for e in evs],
           [("stdout", "GET /health 200"),
            ("stderr", "Traceback (most recent call last):\n"
             '  File "/app/w.py", line 9, in run\n    step()\n'
             "KeyError: 'sku'"),
            ("stdout", "GET /cart 200"),
            ("stderr", "Traceback (most recent call last):"),
            ("stdout", "GET /next 200"),
            ("stderr", '  File "/app/w.py", line 9, in run')],
           path + ": events")
        eq(errors_of(evs[:3]),
           [(None, None, None),
            ({"type": "KeyError", "message": "'sku'",
              "stack_trace": evs[1]["message"]},
             {"file": {"name": "/app/w.py", "line": 9}, "function": "run"},
             None), (None, None, None)], path + ": errors")


@case
def a_node_error_with_properties_is_one_event_with_its_closing_brace():
    """Node.js prints an Error that has properties (every system error:
    code, errno, syscall) with them in braces after its frames, the "}"
    at column 0; an uncaught one ends with the "Node.js v18.19.0" line
    after a blank. Read with the java preset, as README says for Node.js:
    before, each "}" and each "Node.js v..." was an event of its own."""
    d = scratch("node-props")
    text = ("2026-12-05T10:00:00.000Z error: db connect failed\n"
            "Error: connect ECONNREFUSED 127.0.0.1:5432\n"
            "    at TCPConnectWrap.afterConnect [as oncomplete] "
            "(node:net:1555:16) {\n"
            "  errno: -111,\n"
            "  code: 'ECONNREFUSED',\n"
            "  syscall: 'connect'\n"
            "}\n"
            "2026-12-05T10:00:01.000Z error: with cause\n"
            "Error: outer\n"
            "    at Object.<anonymous> (/app/x.js:3:9) {\n"
            "  [cause]: Error: inner\n"
            "      at Object.<anonymous> (/app/x.js:1:15)\n"
            "}\n"
            "/app/server.js:10\n"
            "    throw new Error('boom');\n"
            "    ^\n"
            "\n"
            "Error: boom\n"
            "    at Server.<anonymous> (/app/server.js:10:11)\n"
            "    at Server.emit (node:events:517:28)\n"
            "\n"
            "Node.js v18.19.0\n"
            "2026-12-05T10:00:02.000Z info: listening on 3000\n"
            "}\n")
    got, lines = preset_events("node.log", text, "java")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:7]), "\n".join(lines[7:13]),
        "\n".join(lines[13:22]), lines[22], lines[23]], "events")
    eq([(e.get("error", {}).get("type"), e.get("error", {}).get("message"))
        for e in got],
       [("Error", "connect ECONNREFUSED 127.0.0.1:5432"), ("Error", "outer"),
        ("Error", "boom"), (None, None), (None, None)], "errors")


@case
def a_go_servers_recovered_panic_and_zaps_stacktrace_are_one_event():
    """The Go stacks a service logs under a record, through the go preset
    and the traceback processor: net/http's "http: panic serving ADDR:
    VALUE" with the goroutine's stack (every handler that panics), and
    zap's console stacktrace (a function name alone on its line, then its
    file). Before, each goroutine header and each frame was an event of
    its own, and the panic had no error fields; now one event each, the
    panic's crash site the handler below panic(), not net/http's deferred
    recover above it; zap's stack, until then no error, is error.stack_trace
    from its first frame, that frame the crash site (the record no error
    message, no type invented)."""
    d = scratch("go-logged")
    text = ("2026/12/05 10:00:00 http: panic serving 10.0.0.1:5555: "
            "assignment to entry in nil map\n"
            "goroutine 33 [running]:\n"
            "net/http.(*conn).serve.func1()\n"
            "\t/usr/local/go/src/net/http/server.go:1868 +0xb9\n"
            "panic({0x6a5e40?, 0x7c1b10?})\n"
            "\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
            "main.handler({0x7c4a28?, 0xc0001a0000?}, 0x0?)\n"
            "\t/app/main.go:9 +0x25\n"
            "2026/12/05 10:00:01 serving on :8080\n"
            "2026-12-05T10:00:02.000+0100\tERROR\tserver/h.go:88\t"
            "request failed\t{\"error\": \"EOF\"}\n"
            "main.(*Server).handle\n"
            "\t/src/server/h.go:88\n"
            "net/http.HandlerFunc.ServeHTTP\n"
            "\t/usr/local/go/src/net/http/server.go:2136\n"
            "2026-12-05T10:00:03.000+0100\tINFO\tserver/main.go:12\tok\n"
            "no.space.line\n")
    got, lines = preset_events("go.log", text, "go")
    eq([e["message"] for e in got],
       ["\n".join(lines[0:8]), lines[8], "\n".join(lines[9:14]),
        lines[14], lines[15]], "events")
    eq(errors_of(got)[0],
       ({"type": "panic", "message": "assignment to entry in nil map",
         "stack_trace": "\n".join(lines[0:8])[20:]},
        {"file": {"name": "/app/main.go", "line": 9},
         "function": "main.handler"}, None), "the panic")
    eq(errors_of(got)[2],
       ({"stack_trace": "\n".join(lines[10:14])},
        {"file": {"name": "/src/server/h.go", "line": 88},
         "function": "main.(*Server).handle"}, None), "zap's console stack")
    eq([got[i].get("error") for i in (1, 3, 4)], [None] * 3, "no other error")


@case
def a_python_crash_in_c_code_is_one_event_with_its_crash_site():
    """CPython's faulthandler when a C extension crashes: "Fatal Python
    error: Segmentation fault", a blank, "Current thread 0x... (most
    recent call first):" and the frames, newest first, "line 12 in crash"
    with no comma, then the extension modules. Read with the python preset
    and the traceback processor: before, the thread's block was an event
    apart from the error line, and neither had error fields."""
    text = ("2026-12-05 10:00:00,000 INFO app: loading model\n"
            "Fatal Python error: Segmentation fault\n"
            "\n"
            "Current thread 0x00007f3a2c5f7740 (most recent call first):\n"
            '  File "/app/native.py", line 12 in crash\n'
            '  File "/app/main.py", line 3 in <module>\n'
            "\n"
            "Extension modules: numpy.core._multiarray_umath, "
            "numpy.linalg._umath_linalg (total: 2)\n"
            "2026-12-05 10:00:05,000 INFO app: restarted\n")
    got, lines = preset_events("fault.log", text, "python")
    eq([e["message"] for e in got],
       [lines[0], "\n".join(lines[1:8]), lines[8]], "events")
    eq(errors_of(got)[1],
       ({"type": "Fatal Python error", "message": "Segmentation fault",
         "stack_trace": "\n".join(lines[1:8])},
        {"file": {"name": "/app/native.py", "line": 12},
         "function": "crash"}, None), "the crash")


@case
def a_go_crash_on_a_signal_is_one_event():
    """The Go runtime's other crash outputs, through the go preset and the
    traceback processor: a crash in C code ("fatal error: unexpected
    signal", then "runtime stack:" and the runtime's frames before the
    goroutines), and the goroutine dump a SIGQUIT asks for ("SIGQUIT:
    quit", "PC=0x...", the goroutines, the registers with
    GOTRACEBACK=crash). Before, "runtime stack:", "PC=..." and each
    register were events of their own."""
    text = ("2026/12/05 10:00:00 serving\n"
            "fatal error: unexpected signal during runtime execution\n"
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 "
            "pc=0x7f1c2b3a4d5e]\n"
            "\n"
            "runtime stack:\n"
            "runtime.throw({0x4b2c3e?, 0x0?})\n"
            "\t/usr/local/go/src/runtime/panic.go:1077 +0x5c\n"
            "\n"
            "goroutine 1 [syscall]:\n"
            "main.crash()\n"
            "\t/app/main.go:12 +0x17\n"
            "2026/12/05 10:00:01 restarted\n"
            "SIGQUIT: quit\n"
            "PC=0x46b3c1 m=0 sigcode=0\n"
            "signal arrived during cgo execution\n"
            "\n"
            "goroutine 0 [idle]:\n"
            "runtime.futex(0x5c2e28, 0x80, 0x0)\n"
            "\t/usr/local/go/src/runtime/sys_linux_amd64.s:557 +0x21\n"
            "\n"
            "rax    0xca\n"
            "rflags 0x246\n"
            "2026/12/05 10:00:02 restarted\n")
    got, lines = preset_events("go-signal.log", text, "go")
    eq([e["message"] for e in got],
       [lines[0], "\n".join(lines[1:11]), lines[11],
        "\n".join(lines[12:22]), lines[22]], "events")
    eq(errors_of(got)[1][:2],
       ({"type": "fatal error",
         "message": "unexpected signal during runtime execution",
         "stack_trace": "\n".join(lines[1:11])},
        {"file": {"name": "/app/main.go", "line": 12},
         "function": "main.crash"}), "the crash in C code")
    eq(errors_of(got)[3],
       ({"type": "SIGQUIT", "message": "quit",
         "stack_trace": "\n".join(lines[12:22])}, None, None),
       "the SIGQUIT dump")

def json_log_events(name, records):
    """records as a JSON log's lines, read with {"json": {}} and
    {"traceback": {}}: the events."""
    d = scratch(name)
    path = os.path.join(d, "logs", "app.log")
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"json": {}}, {"traceback": {}}]}])
    return run_once(conf)[0]


@case
def go_loggers_json_stacks_get_their_error_fields():
    """Go loggers' JSON lines with a stack, through {"json": {}} and
    {"traceback": {}}: zap's production encoder ("stacktrace": a Go stack
    with no goroutine header, the first frame where zap's caller logged),
    logrus with a github.com/pkg/errors "%+v" under "error" (its first
    message, then frames, then the wrapping message and its frames) and
    under "stack" next to the error's string. Before: no error.stack_trace,
    no crash site; "stacktrace" was not read even when named as the
    processor's field."""
    zap_st = ("main.(*Server).handle\n\t/app/server/handler.go:42\n"
              "net/http.HandlerFunc.ServeHTTP\n"
              "\t/usr/local/go/src/net/http/server.go:2136\n"
              "main.main\n\t/app/main.go:20")
    pkg = ("dial failed\nmain.connect\n\t/app/db.go:42\nmain.main\n"
           "\t/app/main.go:20\nruntime.goexit\n"
           "\t/usr/local/go/src/runtime/asm_amd64.s:1598\n"
           "connecting to orders\nmain.main\n\t/app/main.go:21")
    records = [
        {"level": "error", "ts": 1733400000.123,
         "caller": "server/handler.go:42", "msg": "request failed",
         "error": "dial tcp 10.0.0.5:5432: connect: connection refused",
         "stacktrace": zap_st},
        {"error": pkg, "level": "error", "msg": "startup failed",
         "time": "2026-12-05T10:00:00Z"},
        {"error": "connecting to orders: dial failed", "level": "error",
         "msg": "startup failed", "stack": pkg},
        {"level": "info", "ts": 1733400001.5, "caller": "main.go:30",
         "msg": "serving"}]
    got = json_log_events("go-json-stacks", records)
    db = {"file": {"name": "/app/db.go", "line": 42},
          "function": "main.connect"}
    eq(errors_of(got), [
        ({"message": "dial tcp 10.0.0.5:5432: connect: connection refused",
          "stack_trace": zap_st},
         {"file": {"name": "/app/server/handler.go", "line": 42},
          "function": "main.(*Server).handle"}, None),
        ({"message": "dial failed", "stack_trace": pkg}, db, None),
        ({"message": "connecting to orders: dial failed",
          "stack_trace": pkg}, db, None),
        (None, {"file": {"name": "main.go", "line": 30}}, None)], "errors")
    eq([e["message"] for e in got],
       ["request failed", "startup failed", "startup failed", "serving"],
       "messages")


@case
def zerolog_and_structlog_frames_as_json_arrays_get_their_error_fields():
    """Stacks logged as JSON arrays, through {"json": {}} and
    {"traceback": {}}: zerolog's pkgerrors marshaler ("stack": func, line,
    source) and structlog's dict_tracebacks ("exception": the raised
    exception, then its cause). Before: no error.stack_trace, no crash
    site, no error.type for structlog."""
    frames = [{"func": "(*DB).connect", "line": "42", "source": "db.go"},
              {"func": "main", "line": "20", "source": "main.go"}]
    exc = [{"exc_type": "RuntimeError", "exc_value": "job failed",
            "syntax_error": None, "is_cause": False,
            "frames": [{"filename": "/app/jobs.py", "lineno": 20,
                        "name": "run", "line": "", "locals": None}]},
           {"exc_type": "KeyError", "exc_value": "'user'",
            "syntax_error": None, "is_cause": True,
            "frames": [{"filename": "/app/db.py", "lineno": 5,
                        "name": "get", "line": "", "locals": None}]}]
    records = [
        {"level": "error", "stack": frames, "error": "dial failed",
         "time": "2026-12-05T10:00:00Z", "message": "startup failed"},
        {"event": "job failed", "level": "error",
         "timestamp": "2026-12-05T10:00:01Z", "exception": exc}]
    got = json_log_events("json-frame-arrays", records)
    py = ('Traceback (most recent call last):\n  File "/app/db.py", line 5, '
          "in get\nKeyError: 'user'\n\nThe above exception was the direct "
          "cause of the following exception:\n\nTraceback (most recent call "
          'last):\n  File "/app/jobs.py", line 20, in run\n'
          "RuntimeError: job failed")
    eq(errors_of(got), [
        ({"message": "dial failed",
          "stack_trace": "(*DB).connect\n\tdb.go:42\nmain\n\tmain.go:20"},
         {"file": {"name": "db.go", "line": 42},
          "function": "(*DB).connect"}, None),
        ({"type": "RuntimeError", "message": "job failed", "stack_trace": py},
         {"file": {"name": "/app/jobs.py", "line": 20}, "function": "run"},
         None)], "errors")


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
