#!/usr/bin/env python3
"""An existing fleet of Logstash 7 shippers kept, sluice-indexer in place
of the central Logstash (README, "Moving from Filebeat or Logstash"):
events as Logstash writes them without ECS compatibility (7.x's default)
pushed to a Redis list (tests/run's, SLUICE_TEST_REDIS_URL), read by
`sluice-indexer run --once` in list mode into Elasticsearch (tests/run's,
SLUICE_TEST_ES_URL), with the index template of conf/.

Logstash's file, syslog and tcp inputs set "host" to a string, and the
legacy COMBINEDAPACHELOG captures "agent" as one; the template maps both
as objects. Checks: every event is indexed (none a dead letter), once;
"host" is host.name (what the dashboards group by: "Errors by host"); the
user agent is kept, as "_agent"; events already in ECS shape (Filebeat's,
Logstash 8's) are indexed as they are; the dead letters an older indexer
wrote for such events are indexed by `dlq replay`. And the indexer's list
of the template's objects is the template's.

usage: test_pipeline_logstash.py SOURCE_DIR BIN_DIR
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline_harness import SRC, TEMPLATE, Pipeline, run, write  # noqa: E402
from shipper_harness import case, eq  # noqa: E402

BIN = sys.argv[2]
P = Pipeline("logstash", priority=1170)
es, search, redis = P.es, P.search, P.redis


def apache(i, host):
    """Logstash 7's file input and the legacy COMBINEDAPACHELOG."""
    line = (f'192.0.2.{i % 250} - - [23/Nov/2026:09:{i // 60 % 60:02d}:'
            f'{i % 60:02d} +0100] "GET /p/{i} HTTP/1.1" 200 {100 + i} "-" '
            '"Mozilla/5.0 (X11; Linux x86_64)"')
    return {"@timestamp": f"2026-11-23T08:{i // 60 % 60:02d}:{i % 60:02d}"
            ".000Z", "@version": "1", "host": host,
            "path": "/var/log/apache2/access.log", "message": line,
            "clientip": f"192.0.2.{i % 250}", "ident": "-", "auth": "-",
            "timestamp": line.split("[")[1].split("]")[0], "verb": "GET",
            "request": f"/p/{i}", "httpversion": "1.1", "response": "200",
            "bytes": str(100 + i), "referrer": '"-"',
            "agent": '"Mozilla/5.0 (X11; Linux x86_64)"'}


def syslog(i):
    """Logstash 7's syslog input: host is the peer's address."""
    return {"@timestamp": f"2026-11-23T08:00:{i % 60:02d}.000Z",
            "@version": "1", "host": "10.0.0.5", "priority": 13,
            "facility": 1, "severity": 5, "program": "sshd",
            "logsource": "gw-1", "message": f"session {i} opened",
            "tags": ["syslog"]}


def app_error(i):
    """Logstash 7's file input with a multiline codec: a traceback."""
    return {"@timestamp": f"2026-11-23T08:01:{i % 60:02d}.000Z",
            "@version": "1", "host": "app-1", "path": "/srv/app.log",
            "tags": ["multiline"], "level": "ERROR",
            "message": f"order {i} failed\nTraceback (most recent call "
            "last):\n  File \"/srv/a.py\", line 3, in f\nKeyError: 'x'"}


def ecs(i):
    """Filebeat's (or Logstash 8's) events: ECS already."""
    return {"@timestamp": f"2026-11-23T08:02:{i % 60:02d}.000Z",
            "host": {"name": "beat-1"}, "agent": {"type": "filebeat"},
            "log": {"file": {"path": "/var/log/b.log"}, "offset": i},
            "message": f"beat {i}"}


EVENTS = ([apache(i, "web-1") for i in range(40)] +
          [apache(i, "web-2") for i in range(40, 60)] +
          [syslog(i) for i in range(15)] + [app_error(i) for i in range(5)] +
          [ecs(i) for i in range(10)])
WANT_HOSTS = {"web-1": 40, "web-2": 20, "10.0.0.5": 15, "app-1": 5,
              "beat-1": 10}


@case
def logstash_legacy_events_indexed():
    conf = write(P.path("indexer.json"), {
        "redis": {"url": P.redis_url, "mode": "list", "key": P.key,
                  "dead_key": P.dead, "block": "50ms"},
        "elasticsearch": P.elasticsearch()})
    P.setup(os.path.join(BIN, "sluice-indexer"), conf)
    for i in range(0, len(EVENTS), 50):
        redis("RPUSH", P.key, *[json.dumps(e) for e in EVENTS[i:i + 50]])
    p = run([os.path.join(BIN, "sluice-indexer"), "-c", conf, "run",
             "--once"])
    P.refresh()
    dead = redis("XLEN", P.dead)
    if dead != "0":
        letters = run([os.path.join(BIN, "sluice-indexer"), "-c", conf, "dlq",
                       "list"]).stdout
        raise AssertionError(f"{dead} of {len(EVENTS)} events are dead "
                             f"letters:\n{letters}\n{p.stderr[-1500:]}")
    r = search({"size": 0, "track_total_hits": True,
                "aggs": {"h": {"terms": {"field": "host.name"}}}})
    eq(r["hits"]["total"]["value"], len(EVENTS), "documents")
    eq({b["key"]: b["doc_count"] for b in r["aggregations"]["h"]["buckets"]},
       WANT_HOSTS, "documents per host.name")
    doc = search({"size": 1, "query": {"term": {"request": "/p/7"}}})
    src = doc["hits"]["hits"][0]["_source"]
    eq([src.get("host"), src.get("_agent"), src.get("agent")],
       [{"name": "web-1"}, '"Mozilla/5.0 (X11; Linux x86_64)"', None],
       "a Logstash 7 event's host and agent")
    doc = search({"size": 1, "query": {"term": {"log.offset": 3}}})
    eq(doc["hits"]["hits"][0]["_source"], ecs(3), "a Filebeat event")
    eq(redis("LLEN", P.key), "0", "the list after --once")


@case
def object_keys_are_the_templates():
    with open(TEMPLATE) as f:
        props = json.load(f)["template"]["mappings"]["properties"]
    want = sorted(k for k, v in props.items() if "properties" in v)
    with open(os.path.join(SRC, "indexer", "input", "list_event.c")) as f:
        src = f.read()
    m = re.search(r"list_event_object_keys\[\] = \{(.*?)\};", src, re.S)
    got = re.findall(r'"([^"]+)"', m.group(1)) if m else []
    eq(got, want, "list_event_object_keys (indexer/input/list_event.c): "
       "the template's top-level objects")


@case
def older_letters_replayed():
    """Letters an indexer before the fix wrote for Logstash 7's events
    (the element as read: "host" a string, one without "@timestamp"):
    `dlq replay` sends them as the list input now does, so they are
    indexed, with host.name and the letter's time, and leave the stream."""
    conf = P.path("indexer.json")
    ts = 1795420800000  # 2026-11-23T08:00:00Z
    events = [apache(1000 + i, "web-9") for i in range(3)]
    del events[2]["@timestamp"]
    for i, e in enumerate(events):
        redis("XADD", P.dead, "*", "v", "1", "error.type",
              "document_parsing_exception", "error.reason",
              "object mapping for [host] tried to parse field [host] as "
              "object, but found a concrete value", "status", "400",
              "index", f"{P.prefix}-2026.11.23", "id", f"oldletter{i:013d}",
              "ts", str(ts + i), "source", f"list {P.key}", "host", "",
              "event", json.dumps(e))
    p = run([os.path.join(BIN, "sluice-indexer"), "-c", conf, "dlq",
             "replay"])
    if not p.stdout.startswith(f"3 dead letters in {P.dead}: 3 indexed"):
        raise AssertionError(f"dlq replay: {p.stdout}{p.stderr[-1500:]}")
    P.refresh()
    r = search({"size": 10, "query": {"term": {"host.name": "web-9"}}})
    eq(sorted((h["_id"], h["_source"]["@timestamp"],
               h["_source"].get("_agent")) for h in r["hits"]["hits"]),
       [(f"oldletter{i:013d}", t, '"Mozilla/5.0 (X11; Linux x86_64)"')
        for i, t in enumerate(["2026-11-23T08:16:40.000Z",
                               "2026-11-23T08:16:41.000Z",
                               "2026-11-23T08:00:00.002Z"])],
       "replayed letters: id, @timestamp, _agent")
    eq(redis("XLEN", P.dead), "0", "dead letters after the replay")


def main():
    try:
        logstash_legacy_events_indexed
        object_keys_are_the_templates
        older_letters_replayed
    finally:
        rc = P.finish()
    return rc


if __name__ == "__main__":
    sys.exit(main())
