#!/usr/bin/env python3
"""What the Kibana dashboards show, on real-world logs through the whole
pipeline: an Apache access log (%{HTTPD_COMBINEDLOG}), a Python
application's log with tracebacks (the python preset and the traceback
processor), and the JSON logs of services written by common loggers, each
with its own spelling of an error's level (Python's ERROR and CRITICAL,
log4j's FATAL, java.util.logging's SEVERE, .NET's Error and Critical,
Serilog's Fatal, zap's and logrus's panic, syslog's err, crit, alert and
emerg, Monolog's and Google Cloud's EMERGENCY), go through
`sluice-shipper run --once`, Redis (tests/run's, SLUICE_TEST_REDIS_URL)
and `sluice-indexer run --once` into Elasticsearch (tests/run's,
SLUICE_TEST_ES_URL), with an index prefix, template and stream of this
test.

Checks: every event is indexed and none is a dead letter; every field a
panel of conf/kibana/sluice.ndjson reads is in the indices, aggregatable,
and gives that panel data when its query and aggregation run on
Elasticsearch (the KQL of the panels turned into query_string); the
"Application errors" panels count exactly the events that are errors,
whatever logger wrote them, and no event that is not.

usage: test_pipeline_kibana.py SOURCE_DIR BIN_DIR
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline_harness import Pipeline, run, write  # noqa: E402
from shipper_harness import case, eq  # noqa: E402

SRC, BIN = sys.argv[1:3]
P = Pipeline("kibana", priority=1160)
es = P.es

# The levels of "error or worse" as loggers write them, and levels that
# are not errors (some spelled like the others but for case).
ERROR_LEVELS = ["ERROR", "error", "Error", "err", "CRITICAL", "Critical",
                "crit", "FATAL", "fatal", "Fatal", "SEVERE", "panic",
                "dpanic", "alert", "ALERT", "emerg", "EMERGENCY"]
OTHER_LEVELS = ["INFO", "info", "Information", "WARN", "Warning", "warn",
                "DEBUG", "Debug", "trace", "Verbose", "notice", "FINE"]


def read(name):
    with open(os.path.join(SRC, "conf", "samples", name),
              encoding="utf-8") as f:
        return f.read()


def json_log():
    """One line a level, each key as its logger names it."""
    keys = ["level", "LogLevel", "severity", "@l", "levelname", "log.level"]
    out = []
    for i, lvl in enumerate(ERROR_LEVELS + OTHER_LEVELS):
        out.append(json.dumps({
            "time": f"2026-11-23T08:10:{i:02d}.000Z", keys[i % len(keys)]:
            lvl, "msg": f"event {i} at {lvl}",
            "service": ["checkout", "payments", "inventory"][i % 3]}))
    return "\n".join(out) + "\n"


APACHE = read("apache_access.log")
APP = read("app.log")
JSONL = json_log()
# app.log's records: a line that starts with a date, and the traceback
# lines below it
APP_RECORDS = re.findall(r"^\d{4}-\d\d-\d\d [\d:,]+ - \S+ - (\w+) - .*"
                         r"((?:\n(?!\d{4}-\d\d-\d\d ).*)*)", APP, re.M)
# app.log: a record is an error if it has a traceback or says ERROR or
# CRITICAL; the JSON log: the ERROR_LEVELS lines
# (a chained traceback, "During handling of the above exception", is part
# of its record's)
TRACEBACKS = sum(1 for _, rest in APP_RECORDS if "Traceback" in rest)
APP_ERRORS = sum(1 for level, rest in APP_RECORDS
                 if level in ("ERROR", "CRITICAL") or "Traceback" in rest)
FILES = {
    "access.log": (APACHE, APACHE.count("\n"), {
        "processors": [
            {"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}},
            {"date": {"field": "timestamp",
                      "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}},
            {"remove": {"fields": ["timestamp"]}}],
        "fields": {"service.name": "shop-web"}}),
    "app.log": (APP, len(APP_RECORDS), {
        "multiline": {"preset": "python", "timeout": "100ms"},
        "processors": [
            {"traceback": {}},
            {"grok": {"patterns": [
                "^%{PYTHON_ASCTIME:timestamp} - %{PYTHON_LOGGER:[log][logger]}"
                " - %{PYTHON_LOGLEVEL:[log][level]} - "]}},
            {"date": {"field": "timestamp",
                      "formats": ["yyyy-MM-dd HH:mm:ss,SSS"]}},
            {"remove": {"fields": ["timestamp"]}}],
        "fields": {"service.name": "shop"}}),
    "services.json.log": (JSONL, JSONL.count("\n"), {
        "processors": [
            {"json": {}},
            {"date": {"field": "time", "formats": ["ISO8601"]}},
            {"remove": {"fields": ["time"]}}]}),
}
TOTAL = sum(v[1] for v in FILES.values())
ERRORS = APP_ERRORS + len(ERROR_LEVELS)


def ship_and_index():
    inputs = []
    for name, (text, _, settings) in FILES.items():
        path = P.path(os.path.join("logs", name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        inputs.append(dict({"type": "file", "paths": [path]}, **settings))
    shipper = write(P.path("shipper.json"), {
        "host": {"name": "kibana-host"}, "data_dir": P.path("data"),
        "inputs": inputs,
        "output": {"redis": {"url": P.redis_url, "key": P.key,
                             "batch_age": "20ms"}}})
    indexer = write(P.path("indexer.json"), {
        "redis": {"url": P.redis_url, "key": P.key, "group": "kibana",
                  "consumer": "k1", "dead_key": P.dead, "block": "50ms"},
        "elasticsearch": P.elasticsearch()})
    P.setup(os.path.join(BIN, "sluice-indexer"), indexer)
    run([os.path.join(BIN, "sluice-shipper"), "-c", shipper, "run", "--once"])
    run([os.path.join(BIN, "sluice-indexer"), "-c", indexer, "run", "--once"])
    P.refresh()


# ---- the saved objects, read as Kibana would run them ----------------------

def lenses():
    with open(os.path.join(SRC, "conf", "kibana", "sluice.ndjson")) as f:
        objs = [json.loads(l) for l in f if l.strip()]
    return [o for o in objs if o["type"] == "lens"]


def kql(q):
    """The few KQL forms the panels use (f : v, f : (a or b), f : *,
    f >= n, and, or) as Lucene query_string syntax."""
    if not q.strip():
        return {"match_all": {}}
    q = re.sub(r"([\w.@]+)\s*(>=|<=|<|>)\s*", r"\1:\2", q)
    q = re.sub(r"\s*:\s*", ":", q)
    q = re.sub(r"\bor\b", "OR", re.sub(r"\band\b", "AND", q))
    return {"query_string": {"query": q}}


def columns(lens):
    layers = lens["attributes"]["state"]["datasourceStates"][
        "indexpattern"]["layers"]
    for layer in layers.values():
        yield from layer["columns"].values()


def search(query, aggs=None):
    body = {"size": 0, "track_total_hits": True, "query": query}
    if aggs:
        body["aggs"] = aggs
    return P.search(body)


# ---- the cases ----------------------------------------------------------------

@case
def every_event_indexed():
    ship_and_index()
    eq(search({"match_all": {}})["hits"]["total"]["value"], TOTAL,
       "documents")
    eq(search({"exists": {"field": "error.type"}})["hits"]["total"]["value"],
       TRACEBACKS, "events with error.type (one a record with a traceback)")
    eq(P.redis("XLEN", P.dead), "0", "dead letters")


@case
def every_panel_has_data():
    caps = es("GET", f"/{P.prefix}-*/_field_caps?fields=*")["fields"]
    empty = []
    for lens in lenses():
        title = lens["attributes"]["title"]
        query = kql(lens["attributes"]["state"]["query"]["query"])
        for col in columns(lens):
            field, op = col.get("sourceField"), col["operationType"]
            if op == "filters":
                for flt in col["params"]["filters"]:
                    q = {"bool": {"filter": [query, kql(flt["input"]["query"])]}}
                    if search(q)["hits"]["total"]["value"] == 0:
                        empty.append(f"{title}: filter {flt['label']}")
                continue
            if field in (None, "Records"):
                continue
            if field not in caps:
                empty.append(f"{title}: {field} is in no index")
                continue
            if not all(c.get("aggregatable") for c in caps[field].values()):
                empty.append(f"{title}: {field} is not aggregatable: "
                             f"{caps[field]}")
                continue
            agg = {"sum": {"field": field}} if op == "sum" else \
                {"date_histogram": {"field": field,
                                    "fixed_interval": "1h"}} \
                if op == "date_histogram" else {"terms": {"field": field}}
            r = search(query, {"a": agg})["aggregations"]["a"]
            if not r.get("buckets") and not r.get("value"):
                empty.append(f"{title}: {op} of {field} is empty")
    eq(empty, [], "panels without data")


@case
def error_panels_count_every_error():
    got_n = {}
    for lens in lenses():
        q = lens["attributes"]["state"]["query"]["query"]
        if "error" in q:
            got_n[lens["attributes"]["title"]] = \
                search(kql(q))["hits"]["total"]["value"]
    if not got_n:
        raise AssertionError("no panel has a query on errors")
    # which levels the panels miss, for the message
    missed = []
    for lvl in ERROR_LEVELS:
        r = search({"bool": {"filter": [kql(q),
                                         {"term": {"log.level": lvl}}]}})
        if r["hits"]["total"]["value"] == 0:
            missed.append(lvl)
    eq(missed, [], "error levels the error panels do not count")
    eq(got_n, {t: ERRORS for t in got_n}, "errors per error panel")


def hex_id(i, n):
    """An OpenTelemetry-style id of n hex digits, letters in it."""
    return ("4bf92f3577b34da6a3ce929d0e0e4736" + f"{i:02x}")[-n:]


@case
def trace_ids_searchable_whatever_came_first():
    """One request's events across services, as Discover's trace.id
    filter finds them: a Go service logging Datadog's ids as numbers
    (zap.Uint64("dd.trace_id", ...)), first in the day's index, and the
    others with hex ids; each id finds its events (dynamic mapping made
    trace.id a long from the first number, and the hex ids were dropped)."""
    lines = [{"time": "2026-11-24T08:00:00.000Z", "msg": "go first",
              "dd.trace_id": 1234567890123, "dd.span_id": 42}]
    for i in range(4):
        lines.append({"time": f"2026-11-24T08:00:0{i + 1}.000Z",
                      "msg": f"python {i}", "trace_id": hex_id(i, 32),
                      "span_id": hex_id(i, 16)})
    lines.append({"time": "2026-11-24T08:00:09.000Z", "msg": "go again",
                  "dd.trace_id": 1234567890123})
    path = P.path(os.path.join("logs", "traces.json.log"))
    with open(path, "w") as f:
        f.write("".join(json.dumps(l) + "\n" for l in lines))
    shipper = write(P.path("shipper-traces.json"), {
        "host": {"name": "kibana-host"}, "data_dir": P.path("data-traces"),
        "inputs": [{"type": "file", "paths": [path], "processors": [
            {"json": {}}, {"date": {"field": "time", "formats": ["ISO8601"]}}]}],
        "output": {"redis": {"url": P.redis_url, "key": P.key,
                             "batch_age": "20ms"}}})
    run([os.path.join(BIN, "sluice-shipper"), "-c", shipper, "run", "--once"])
    run([os.path.join(BIN, "sluice-indexer"), "-c", P.path("indexer.json"),
         "run", "--once"])
    P.refresh()
    found = {}
    for tid in ["1234567890123"] + [hex_id(i, 32) for i in range(4)]:
        r = search({"term": {"trace.id": tid}})
        if r["_shards"]["failed"]:
            raise AssertionError(f"trace.id {tid}: {r['_shards']}")
        found[tid] = r["hits"]["total"]["value"]
    eq(found, dict({"1234567890123": 2}, **{hex_id(i, 32): 1
                                            for i in range(4)}),
       "events per trace.id")
    r = search({"term": {"span.id": hex_id(3, 16)}})
    eq(r["hits"]["total"]["value"], 1, "events of a span.id")


def main():
    try:
        every_event_indexed
        every_panel_has_data
        error_panels_count_every_error
        trace_ids_searchable_whatever_came_first
    finally:
        rc = P.finish()
    return rc


if __name__ == "__main__":
    sys.exit(main())
