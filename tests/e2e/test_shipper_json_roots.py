#!/usr/bin/env python3
"""`sluice-shipper run --once`, stdin through the json processor to the
stdout output, on JSON logs whose keys are scalars where the index template
maps an object: "log" read from stdin (the event has no log object then),
Python logging's "process" and "thread", logrus's "file" and "func",
"event" next to a "message", "http", "source", "agent", nginx's "host";
pino's "pid" and "hostname"; objects where the template maps a leaf
("message": {...}, "log.level": {...}); OpenTelemetry's log records;
field names Elasticsearch refuses ("", "a..b"); arrays that mix objects
and scalars, or booleans and other scalars; dotted keys through a
value ("db" and "db.rows") and inside objects; Python's NaN; a line of
60,000 keys in linear time. Every event the shipper writes is checked
against conf/elasticsearch/sluice-template.json as Elasticsearch would map
it (an object never on a leaf, no value but an object, null or an array of
objects on an object, integers in long fields, no array that mixes objects
and scalars, or a boolean and other scalars), so an event the indexer
would send to the dead letters fails here, without Elasticsearch; then the
fields' places are checked.

usage: test_shipper_json_roots.py SLUICE_SHIPPER TEMPLATE [CASE...]
"""
import functools
import json
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ONLY, case, eq, failures, json_lines,  # noqa: E402
                             write_config)

SHIPPER = sys.argv[1]
with open(sys.argv[2]) as f:
    TEMPLATE = json.load(f)["template"]["mappings"]["properties"]
ONLY.update(sys.argv[3:])
TMP = shipper_harness.tmp_dir("sluice-e2e-json-roots-")
scratch = functools.partial(shipper_harness.scratch, TMP)


def fits_object(v):
    return v is None or isinstance(v, dict) or (
        isinstance(v, list) and all(fits_object(e) for e in v))


def refusals(value, props, path=""):
    """Why Elasticsearch would refuse value (an object) under props (a
    mapping's properties): the list of reasons, empty if none. Fields the
    template does not know go through its dynamic templates: any value."""
    why = []
    for key, v in value.items():
        p = f"{path}{key}"
        m = props.get(key)
        if m is None:
            continue
        items = v if isinstance(v, list) else [v]
        if "properties" in m or m.get("type") == "object":
            if not fits_object(v):
                why.append(f"{p}: {v!r} where an object is mapped")
            for e in items:
                if isinstance(e, dict):
                    why += refusals(e, m.get("properties", {}), p + ".")
            continue
        for e in items:
            if isinstance(e, (dict, list)):
                why.append(f"{p}: {e!r} on a {m.get('type')} leaf")
            elif m.get("type") == "long" and not m.get("ignore_malformed") \
                    and not isinstance(e, int):
                why.append(f"{p}: {e!r} in a long field")
    return why


def flat(v):
    for e in v:
        if isinstance(e, list):
            yield from flat(e)
        else:
            yield e


def mixed_arrays(value, path=""):
    """The arrays Elasticsearch refuses whatever the template: objects and
    scalars in one (nested arrays are one field), or a boolean among other
    scalars (a boolean field takes nothing else)."""
    why = []
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else []
    for key, v in items:
        p = f"{path}{key}"
        if isinstance(v, list):
            kinds = {"object" if isinstance(e, dict) else
                     "bool" if isinstance(e, bool) else "scalar"
                     for e in flat(v) if e is not None}
            if "object" in kinds and len(kinds) > 1 or kinds == {"bool",
                                                                 "scalar"}:
                why.append(f"{p}: {v!r} mixes {sorted(kinds)}")
        if isinstance(v, (dict, list)):
            why += mixed_arrays(v, p + ".")
    return why


def run_stdin(name, lines):
    d = scratch(name)
    conf = write_config(d, [{"type": "stdin",
                             "processors": [{"json": {}}]}])
    out, _ = shipper_harness.run_once(
        SHIPPER, conf, "".join(json.dumps(l) + "\n" for l in lines).encode())
    got = json_lines(out)
    eq(len(got), len(lines), "events")
    for e in got:
        eq(refusals(e, TEMPLATE) + mixed_arrays(e), [],
           "what Elasticsearch would refuse")
    return got


def fields(e, *keys):
    return {k: e.get(k) for k in keys}


@case
def scalars_at_the_templates_objects_go_aside():
    got = run_stdin("aside", [
        {"log": "text from a container", "level": "info"},
        {"message": "m", "event": "login", "http": "GET /", "source": "db",
         "agent": "curl/8.5", "file": "upload.csv", "process": "worker"},
        {"host": "shop.example.com", "message": "n", "user_agent": None,
         "client": [{"address": "10.0.0.1"}], "dns": [1, 2]},
        {"log": {"origin": "main.go:42"}, "http": {"request": "GET /"},
         "log.file": "f"},
    ])
    eq(fields(got[0], "_log", "log"),
       {"_log": "text from a container", "log": {"level": "info"}}, "log")
    eq(fields(got[1], "message", "_event", "_http", "_source_", "_agent",
              "_file", "_process"),
       {"message": "m", "_event": "login", "_http": "GET /",
        "_source_": "db", "_agent": "curl/8.5", "_file": "upload.csv",
        "_process": "worker"}, "event, http, source, agent, file, process")
    eq(got[1]["agent"]["type"], "sluice-shipper", "the shipper's agent")
    eq(fields(got[2], "_host", "user_agent", "client", "_dns"),
       {"_host": "shop.example.com", "user_agent": None,
        "client": [{"address": "10.0.0.1"}], "_dns": [1, 2]}, "host")
    eq(got[2]["host"]["name"], "e2e-host", "the shipper's host.name")
    eq((got[3]["log"], got[3]["http"]),
       ({"_origin": "main.go:42", "_file": "f"}, {"_request": "GET /"}),
       "nested")


@case
def python_logging_logrus_and_pino_fields_go_to_ecs():
    got = run_stdin("ecs", [
        {"asctime": "2026-12-05 04:30:00,000", "levelname": "ERROR",
         "name": "app", "message": "charge failed", "process": 1234,
         "processName": "MainProcess", "thread": 140245,
         "threadName": "MainThread"},
        {"file": "/src/app/main.go:42", "func": "main.handler",
         "level": "warning", "msg": "slow request",
         "time": "2026-12-05T04:30:01Z"},
        {"level": 30, "time": 1796445001000, "pid": 7,
         "hostname": "c0ffee", "msg": "listening"},
    ])
    eq(got[0]["process"], {"pid": 1234, "name": "MainProcess",
                           "thread": {"id": 140245, "name": "MainThread"}},
       "python-json-logger")
    eq(got[0]["log"]["level"], "ERROR", "levelname")
    eq(got[1]["log"].get("origin"),
       {"file": {"name": "/src/app/main.go", "line": 42},
        "function": "main.handler"}, "logrus's ReportCaller")
    eq((got[1]["message"], got[1]["log"]["level"]),
       ("slow request", "warning"), "logrus")
    eq((got[2]["process"], got[2]["hostname"], got[2]["host"]["name"],
        got[2]["log"]["level"]),
       ({"pid": 7}, "c0ffee", "e2e-host", "info"), "pino")



@case
def objects_at_the_templates_leaves_go_aside():
    """winston's logger.info({message: {...}}), a level object, an object
    at host.name or error.message: Elasticsearch refuses an object on a
    keyword or text leaf, so the event went to the dead letters."""
    got = run_stdin("leaves", [
        {"level": "info", "message": {"user": "bob", "action": "login"}},
        {"log.level": {"name": "warn", "value": 40}, "msg": "slow"},
        {"message": "m", "host": {"name": {"short": "web-1"}},
         "error": {"message": {"code": 7}, "type": "E"},
         "stream": [{"fd": 1}], "trace": {"id": ["a", "b"]}},
    ])
    eq((got[0]["_message"], got[0]["message"], got[0]["log"]["level"]),
       ({"user": "bob", "action": "login"},
        '{"level": "info", "message": {"user": "bob", "action": "login"}}',
        "info"), "message object")
    eq((got[1]["log"], got[1]["message"]),
       ({"_level": {"name": "warn", "value": 40}}, "slow"), "level object")
    eq((got[2]["host"], got[2]["error"], got[2]["_stream"],
        got[2]["trace"]),
       ({"name": "e2e-host", "_name": {"short": "web-1"}},
        {"_message": {"code": 7}, "type": "E"}, [{"fd": 1}],
        {"id": ["a", "b"]}), "nested")



@case
def opentelemetry_log_records_give_message_and_ids():
    """OpenTelemetry's exporters as they print a log record: Go's
    stdoutlog ("Body": {"Type": "String", "Value": ...}, "TraceID"),
    Python's console exporter ("0x" before the ids), OTLP JSON
    ("body": {"stringValue": ...}). Before: the whole line as message,
    and Python's ids did not match the other services' trace.id."""
    tid, sid = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    got = run_stdin("otel", [
        {"Timestamp": "2026-12-05T06:00:00.123456789Z", "Severity": 9,
         "SeverityText": "INFO",
         "Body": {"Type": "String", "Value": "hello from go"},
         "TraceID": tid, "SpanID": sid, "TraceFlags": "01"},
        {"body": "hello from python", "severity_text": "WARN",
         "timestamp": "2026-12-05T06:00:01.000000Z",
         "trace_id": "0x" + tid, "span_id": "0x" + sid, "trace_flags": 1},
        {"timeUnixNano": "1796450402000000000", "severityText": "ERROR",
         "body": {"stringValue": "hello from otlp"}, "traceId": tid,
         "spanId": sid},
        {"body": {"kvlistValue": {"values": []}}, "message": "kept"},
    ])
    eq([(e["message"], e.get("log", {}).get("level"),
         e.get("trace", {}).get("id"), e.get("span", {}).get("id"))
        for e in got],
       [("hello from go", "INFO", tid, sid),
        ("hello from python", "WARN", tid, sid),
        ("hello from otlp", "ERROR", tid, sid),
        ("kept", None, None, None)], "message, level, ids")
    eq(got[3]["body"], {"kvlistValue": {"values": []}}, "another body")



def bad_names(value, path=""):
    """The field names in value Elasticsearch refuses whatever the
    template: empty, or an empty or blank segment between dots."""
    why = []
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else []
    for k, v in items:
        if isinstance(value, dict) and any(
                not seg.strip() for seg in k.split(".")):
            why.append(f"{path}{k!r}")
        why += bad_names(v, f"{path}{k}.")
    return why


@case
def field_names_elasticsearch_refuses_are_renamed():
    """An empty key (a Go map or a Python dict logged whole), a host name
    with its final dot as a key ("example.com."), "a..b": Elasticsearch
    refuses the event ("field name cannot be an empty string", "object
    field starting or ending with a [.]"), which went to the dead
    letters."""
    got = run_stdin("names", [
        {"msg": "counts", "": 1, "hits": {"example.com.": 3, "a..b": 4}},
        {"msg": "blank", ".x": 5, " ": 2, "ok.name": 6},
    ])
    eq([bad_names(e) for e in got], [[], []], "names refused")
    eq((got[0]["_"], got[0]["hits"], got[0]["message"]),
       (1, {"example": {"com": {"_": 3}}, "a": {"_": {"b": 4}}}, "counts"),
       "renamed")
    eq((got[1]["_"], got[1]["ok"]), ({"x": 5}, {"name": 6}), "top level")
    eq(got[1]["__"], 2, "a blank key where an object is")



@case
def dotted_keys_through_a_value_go_aside():
    """zap's and logrus's fields as a service names them: "db" a string and
    "db.rows" a number in one line; Elasticsearch cannot map db as a value
    and an object, and refused the event. A dotted key through a leaf of
    the template ("stream.fd", "log.level.code") was an object there."""
    got = run_stdin("dotted", [
        {"msg": "query", "db": "orders", "db.rows": 5, "db.ms.p99": 3},
        {"msg": "fd", "stream.fd": 2, "log.level.code": 40},
        {"msg": "audit", "tags.kind": "audit"},
    ])
    eq((got[0]["db"], got[0]["_db"]), ("orders", {"rows": 5,
                                                  "ms": {"p99": 3}}), "db")
    eq((got[1]["_stream"], got[1]["log"]),
       ({"fd": 2}, {"_level": {"code": 40}}), "through leaves")
    eq((got[2].get("tags"), got[2]["_tags"]), (None, {"kind": "audit"}),
       "through tags")



@case
def python_nan_and_infinity_are_null():
    """python-json-logger and structlog write json.dumps's NaN, Infinity
    and -Infinity for floats that are not finite (a latency that was never
    measured): no JSON, so the line was kept whole and tagged
    _jsonparsefailure."""
    d = scratch("nan")
    conf = write_config(d, [{"type": "stdin",
                             "processors": [{"json": {}}]}])
    lines = [json.dumps({"levelname": "WARNING", "message": "p99 NaN",
                         "latency": float("nan"), "limits":
                         [float("inf"), -float("inf"), 1.5]}),
             '{"message": "kept", "x": NaNo}']
    out, _ = shipper_harness.run_once(
        SHIPPER, conf, "".join(l + "\n" for l in lines).encode())
    got = json_lines(out)
    eq(lines[0].count("NaN") + lines[0].count("Infinity"), 4, "the input")
    eq([(e["message"], e.get("latency", "absent"), e.get("limits"),
         e.get("tags")) for e in got],
       [("p99 NaN", None, [None, None, 1.5], None),
        (lines[1], "absent", None, ["_jsonparsefailure"])], "events")



@case
def dotted_keys_inside_objects_nest():
    """ecszap's "log.origin": {"file.name": ..., "file.line": ...}, and
    OpenTelemetry attributes with "http" beside "http.route": dotted keys
    below the top stayed dotted, so processors did not find
    log.origin.file.name, and Elasticsearch, which reads them as paths,
    refused an object where a sibling holds a value."""
    got = run_stdin("nested-dots", [
        {"log.level": "error", "message": "x",
         "log.origin": {"file.name": "main.go", "file.line": 12}},
        {"body": "y", "attributes": {"http": "h2", "http.route": "/orders",
                                     "db.system": "redis"}},
    ])
    eq(got[0]["log"], {"level": "error", "origin": {
        "file": {"name": "main.go", "line": 12}}}, "log.origin")
    eq(got[1]["attributes"], {"http": "h2", "_http": {"route": "/orders"},
                              "db": {"system": "redis"}}, "attributes")



@case
def a_line_of_many_keys_costs_no_quadratic_time():
    """A JSON line of 60,000 top-level keys (a dict logged whole): each
    key was looked up among all the event's members before it, 1.8 * 10^9
    compares, the shipper stalled for seconds (49 s of CPU for 80,000
    keys) while nothing else moved."""
    d = scratch("many-keys")
    conf = write_config(d, [{"type": "stdin", "max_line_bytes": "4MiB",
                             "processors": [{"json": {}}]}])
    line = {f"k{i}": i for i in range(60000)}
    line.update({"msg": "many", "a.b": 1})
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    out, _ = shipper_harness.run_once(SHIPPER, conf,
                                      (json.dumps(line) + "\n").encode())
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    got = json_lines(out)
    eq((len(got), got[0]["message"], got[0]["k59999"], got[0]["a"]),
       (1, "many", 59999, {"b": 1}), "the event")
    if cpu > 3:
        raise AssertionError(f"{cpu:.1f} CPU-s for one line of 60,000 keys")


@case
def arrays_that_mix_objects_and_scalars_go_aside_as_text():
    """Before, Elasticsearch refused these events (the indexer sent them to
    the dead letters): an array holding an object and a scalar, at the top
    or deep, and a boolean among strings; "tags" with an object in it lost
    the object."""
    got = run_stdin("mixed-arrays", [
        {"message": "m", "tags": ["web", {"team": "pay"}],
         "items": ["sku-1", {"sku": 2, "qty": 1}],
         "req": {"params": [[1, 2], [{"id": 3}]], "ok": [{"x": [1, {"y": 2}]}]},
         "flags": [True, "maybe", None]}])
    e = got[0]
    eq((e["tags"], e["_tags"]),
       (["web", "_tagsparsefailure"], '["web",{"team":"pay"}]'), "tags")
    eq(e["_items"], '["sku-1",{"sku":2,"qty":1}]', "items")
    eq(e["req"], {"_params": '[[1,2],[{"id":3}]]',
                  "ok": [{"_x": '[1,{"y":2}]'}]}, "deep")
    eq(e["flags"], ["true", "maybe", None], "a boolean among strings")


@case
def journald_json_goes_to_filebeats_and_ecs_names():
    """`journalctl -o json` through the json processor. Before, every
    field kept the journal's name (MESSAGE, _SYSTEMD_UNIT, PRIORITY as a
    string...), message was the whole line, @timestamp the time read, and
    a MESSAGE that is no UTF-8 (an array of its bytes) stayed numbers."""
    got = run_stdin("journald", [
        {"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1796450400250000",
         "__MONOTONIC_TIMESTAMP": "99", "_BOOT_ID": "b00", "PRIORITY": "4",
         "SYSLOG_FACILITY": "3", "SYSLOG_IDENTIFIER": "sshd", "_PID": "4242",
         "_UID": "0", "_GID": "0", "_COMM": "sshd", "_EXE": "/usr/sbin/sshd",
         "_SYSTEMD_UNIT": "ssh.service", "_TRANSPORT": "syslog",
         "_HOSTNAME": "bastion", "_MACHINE_ID": "m1",
         "MESSAGE": "Invalid user admin from 203.0.113.9 port 50022"},
        {"__REALTIME_TIMESTAMP": "1796450401000000", "_TRANSPORT": "kernel",
         "PRIORITY": "2", "MESSAGE": [99, 97, 102, 233]}])
    e = got[0]
    eq((e["@timestamp"], e["message"], e["log"]["level"],
        e["log"]["syslog"], e["systemd"]["unit"], e["process"]["pid"],
        e["syslog"], e["host"]),
       ("2026-12-05T06:00:00.250Z",
        "Invalid user admin from 203.0.113.9 port 50022", "warning",
        {"priority": 4, "facility": {"code": 3}}, "ssh.service", 4242,
        {"identifier": "sshd"},
        {"name": "e2e-host", "hostname": "bastion", "id": "m1"}),
       "mapped")
    eq(e["journald"]["custom"], {"cursor": "s=1;i=2",
                                 "monotonic_timestamp": "99"}, "the rest")
    eq((got[1]["message"], got[1]["log"]["level"]),
       ("caf\ufffd", "crit"), "bytes that are no UTF-8")


@case
def serilog_compact_json_is_rendered_and_indexable():
    """Serilog's CompactJsonFormatter: before, the message was the
    template."""
    got = run_stdin("serilog", [
        {"@t": "2026-12-05T06:40:00.0000000Z",
         "@mt": "Processed {@Position} in {Elapsed:000} ms for {User}",
         "@r": ["034"], "Position": {"Latitude": 25, "Longitude": 134},
         "Elapsed": 34, "User": "ann", "Tags": ["a", {"b": 1}]}])
    eq((got[0]["message"], got[0]["labels"], got[0]["_Tags"]),
       ('Processed { Latitude: 25, Longitude: 134 } in 034 ms for "ann"',
        {"MessageTemplate":
         "Processed {@Position} in {Elapsed:000} ms for {User}"},
        '["a",{"b":1}]'), "message, template")

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
