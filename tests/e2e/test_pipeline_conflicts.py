#!/usr/bin/env python3
"""JSON logs that do not fit the index template, through the whole
pipeline with the indexer killed with -9 mid-run: `sluice-shipper run
--once` ships a JSON log to Redis (tests/run's, SLUICE_TEST_REDIS_URL);
`sluice-indexer run` is started and killed with -9 three times while it
indexes into Elasticsearch (tests/run's, SLUICE_TEST_ES_URL), each kill
once that run has had a fifth of the events answered; `run --once` then
finishes.

The log: events whose "details" is a string (the first, so the field is
a keyword) and, one in ten, an object there; a "message" that is an
object; an unreadable "@timestamp"; a boolean field given a word; values
of 40 KB in keyword fields; deep nesting past Elasticsearch's limit.
The object in "message" is set aside by the shipper's json processor as
"_message" (message keeps the line), so it is indexed, not refused.
Checks: each good event is in Elasticsearch exactly once (counted by _id
and by content); each refused one is exactly one dead letter, with
Elasticsearch's reason, and none is both; the 40 KB values and the bad
@timestamp are indexed (ignore_above, the shipper's _@timestamp); `dlq
list` names the reasons; nothing is left pending.

usage: test_pipeline_conflicts.py SOURCE_DIR BIN_DIR
"""
import json
import os
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline_harness import Pipeline, run, write  # noqa: E402
from shipper_harness import (ENV, case, eq, free_port,  # noqa: E402
                             metric_sum, parse_metrics, wait_for)

BIN = sys.argv[2]
P = Pipeline("conflicts", priority=1180)
es, redis = P.es, P.redis
N = 6000


def deep(n):
    v = 1
    for i in range(n):
        v = {f"d{i}": v}
    return v


def event(i):
    """(the line's object, whether Elasticsearch refuses it)."""
    base = {"msg": f"event {i}", "n": i, "details": f"text {i}"}
    kind = i % 10
    if i == 0 or kind in (0, 2, 4, 6, 8):
        return base, False
    if kind == 1:
        return dict(base, details={"code": i}), True  # object on a keyword
    if kind == 3:
        # an object on text: the shipper sets it aside as "_message"
        return {"message": {"text": f"event {i}"}, "n": i}, False
    if kind == 5:
        return dict(base, **{"@timestamp": f"garbage {i}"}), False
    if kind == 7:
        return dict(base, **{"user.name": "u" * 40000,
                             "labels": {"big": "b" * 40000}}), False
    if i % 20 == 9:
        return dict(base, ok=True if i % 40 == 9 else "yes"), i % 40 != 9
    return dict(base, nest=deep(24)), True  # past index.mapping.depth.limit


EVENTS = [event(i) for i in range(N)]


def indexer_config(port):
    return write(P.path("indexer.json"), {
        "redis": {"url": P.redis_url, "key": P.key, "group": "conflicts",
                  "consumer": "c1", "dead_key": P.dead, "block": "50ms",
                  "read_count": 2},
        "elasticsearch": P.elasticsearch(flush_age="5ms", flush_count=100,
                                         max_in_flight=1),
        "http": {"listen": f"127.0.0.1:{port}"}})


def indexed(port):
    """Events the running indexer has had answered (indexed or refused)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=5) as r:
            m = parse_metrics(r.read().decode())
    except OSError:
        return 0
    return int(metric_sum(m, "sluice_es_events_total"))


def all_docs():
    """{_id: the event's "n"} of every document, by scroll."""
    got = {}
    r = es("POST", f"/{P.prefix}-*/_search?scroll=1m", {
        "size": 2000, "_source": ["n"], "sort": ["_doc"]})
    while r and r["hits"]["hits"]:
        for h in r["hits"]["hits"]:
            if h["_id"] in got:
                raise AssertionError(f"_id {h['_id']} twice")
            got[h["_id"]] = h["_source"].get("n")
        r = es("POST", "/_search/scroll",
               {"scroll": "1m", "scroll_id": r["_scroll_id"]})
    if r and "_scroll_id" in r:
        es("DELETE", "/_search/scroll", {"scroll_id": r["_scroll_id"]})
    return got


def dead_letters():
    """The "n" of each dead letter's event, and their reasons."""
    ns, reasons = [], set()
    lines = redis("XRANGE", P.dead, "-", "+").splitlines()
    for k, v in zip(lines, lines[1:]):
        if k == "event":
            ns.append(json.loads(v)["n"])
        elif k == "error.type":
            reasons.add(v)
    return ns, reasons


@case
def conflicts_through_kill_9():
    log = P.path("app.json.log")
    with open(log, "w") as f:
        for e, _ in EVENTS:
            f.write(json.dumps(e) + "\n")
    shipper = write(P.path("shipper.json"), {
        "host": {"name": "conflicts"}, "data_dir": P.path("data"),
        "inputs": [{"type": "file", "paths": [log],
                    "processors": [{"json": {}}]}],
        "output": {"redis": {"url": P.redis_url, "key": P.key,
                             "batch_events": 200,
                             "max_pending": 0}}})
    port = free_port()
    conf = indexer_config(port)
    P.setup(os.path.join(BIN, "sluice-indexer"), conf)
    run([os.path.join(BIN, "sluice-shipper"), "-c", shipper, "run",
         "--once"])
    done = 0
    for k in range(1, 4):
        p = subprocess.Popen([os.path.join(BIN, "sluice-indexer"), "-c", conf,
                              "run"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV)
        try:
            wait_for(f"the indexer's part {k}",
                     lambda: p.poll() is not None or
                     indexed(port) >= N // 5)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        done = max(done, k)
    p = run([os.path.join(BIN, "sluice-indexer"), "-c", conf, "run",
             "--once"])
    P.refresh()
    docs = all_docs()
    good = sorted(i for i, (_, bad) in enumerate(EVENTS) if not bad)
    eq(len(docs), len(good), "documents (by _id)")
    eq(sorted(docs.values()), good, "documents (by content: each n once)")
    ns, reasons = dead_letters()
    refused = sorted(i for i, (_, bad) in enumerate(EVENTS) if bad)
    eq(sorted(ns), refused, "dead letters (each refused event once)")
    eq(reasons, {"document_parsing_exception"}, "dead letters' reasons")
    big = P.search({"size": 1,
                    "query": {"term": {"n": 7}}})["hits"]["hits"][0]
    eq([len(big["_source"].get("user", {}).get("name", "")),
        sorted(big.get("_ignored", []))],
       [40000, ["labels.big", "user.name"]], "a 40 KB keyword")
    bad_ts = P.search({"size": 1,
                       "query": {"term": {"n": 5}}})["hits"]["hits"][0]
    eq([bad_ts["_source"].get("_@timestamp"), bad_ts["_source"]["tags"]],
       ["garbage 5", ["_timestampparsefailure"]], "an unreadable @timestamp")
    aside = P.search({"size": 1,
                      "query": {"term": {"n": 3}}})["hits"]["hits"][0]
    eq([aside["_source"].get("_message"),
        json.loads(aside["_source"]["message"])],
       [{"text": "event 3"}, {"message": {"text": "event 3"}, "n": 3}],
       "an object where the template maps message: aside, the line kept")
    listing = run([os.path.join(BIN, "sluice-indexer"), "-c", conf, "dlq",
                   "list"]).stdout
    for why in ("failed to parse field [details]", "Limit of mapping depth"):
        if why not in listing:
            raise AssertionError(f"dlq list does not say {why!r}:\n{listing}")
    eq(redis("XPENDING", P.key, "conflicts").splitlines()[0], "0", "pending")
    print(f"     {len(good)} indexed, {len(refused)} dead letters, "
          f"{done} kills", flush=True)


def main():
    try:
        conflicts_through_kill_9
    finally:
        rc = P.finish()
    return rc


if __name__ == "__main__":
    sys.exit(main())
