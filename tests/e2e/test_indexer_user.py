#!/usr/bin/env python3
"""sluice-indexer as a user drives it, through the real binary: what the
integration tests (tests/integration/test_indexer_*.c) do not cover.
Each case found a defect; each fails on the code before its fix.

- Logstash's list mode: an event without "@timestamp" (Logstash's redis
  output sends what its pipeline made; a codec or a filter may leave it
  out) is indexed with one, the time it was read, as Logstash's own redis
  input gives it; before, the document had no time, and Kibana's
  time-filtered views never showed it. One with "@timestamp" keeps it.
- SIGTERM while Redis is unreachable and nothing is held: the indexer
  stops at once (it waited the whole 10 s grace period for a group
  creation queued on the dead connection).
- `run --once` after an indexer died holding entries: it now claims and
  indexes them (it exited 0 at once, those events left out).
- `run --once` in list mode on a key that is not a list: it exited 0,
  "nothing left to index", having read nothing; it now goes on (saying
  why) until it has read the list.
- List mode, "@timestamp" as epoch milliseconds (a number or a string
  of digits, which Elasticsearch reads as epoch_millis): the event went to the index of
  the day it was read, not its own day; "@timestamp": null was indexed
  as null, a document without a time that Kibana never showed (Logstash
  gives it the time read).
- elasticsearch.ca_file naming no file: `run` retried every batch for
  ever ("error setting certificate file"); it now refuses the config at
  start (exit 2), saying which file and why, and so do `setup` and `dlq
  replay`; `check` passed it (exit 0), so a config `check` accepted did
  not run: `check` now refuses it too when an https:// URL would read it.
  With every URL http:// the file is not used: `check` and `run` warn and
  go on (`run` refused it, and the installed indexer.json, which names the
  CA to copy for the day the node is https://, did not run as installed).
- `run --once` while Elasticsearch is down (refusing, or accepting and
  never answering): it never ended, a cron job's runs piled up. It now
  gives up after elasticsearch.request_timeout of failures in a row,
  exit 1, saying the node, the failure and what to do, with nothing
  acknowledged that was not indexed: the next run indexes every event.
  The same with Redis unreachable: it waited for ever; it now ends, exit
  1, naming the URL and what to do.
- Consumers of the group were never removed: each indexer started under
  a new name (a container's host name) left one for ever. Those that
  hold nothing and were idle redis.forget_idle are now removed, said at
  info; one that holds entries is kept until they are claimed, and a
  live indexer is never removed.
- A list element above the 8 MiB an event may be (a 50 MB stack trace):
  dead-lettered with only "1 to the dead letters" in the log and the
  reason "over the largest an item may be (8388608, 4096, 4096)"; now a
  warning says which index and what to do, and so does the letter.

A redis-server of this test on a free port; Elasticsearch from tests/run
(SLUICE_TEST_ES_URL), with this test's index prefix, dropped at the end.

usage: test_indexer_user.py BIN_DIR
"""
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, HttpNode, Redis, case, eq,  # noqa: E402
                             es_drop, es_json, failures, free_port, need,
                             tmp_dir, wait_for)

BIN = sys.argv[1]
INDEXER = os.path.join(BIN, "sluice-indexer")
SHIPPER = os.path.join(BIN, "sluice-shipper")
ES = need("SLUICE_TEST_ES_URL").rstrip("/")
PREFIX = f"sluiceidxuser-{os.getpid()}"
TMP = tmp_dir("sluice-idxuser-")
redis = Redis()


def config(name, redis_section, es_section=None):
    """Writes TMP/name.json: redis_section's keys over this test's Redis
    and a block of 200 ms; Elasticsearch with the test's prefix."""
    r = {"url": f"redis://127.0.0.1:{redis.port}/0", "block": "200ms",
         "consumer": "c1", "dead_key": f"{name}:dead", **redis_section}
    es = {"hosts": [ES], "index": PREFIX + "-%{+yyyy.MM.dd}",
          "request_timeout": "10s", **(es_section or {})}
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump({"redis": r, "elasticsearch": es}, f)
    return path


def run_once(conf):
    p = subprocess.run([INDEXER, "-c", conf, "run", "--once"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    eq(p.returncode, 0, f"run --once: {p.stderr}")
    return p.stderr


def search(query):
    es_json(ES, "POST", f"/{PREFIX}-*/_refresh")
    got = es_json(ES, "POST", f"/{PREFIX}-*/_search",
                  {"size": 100, "query": query, "sort": ["_doc"]})
    return [h["_source"] for h in got["hits"]["hits"]]


@case
def list_event_without_timestamp_gets_the_time_read():
    key = "logstash-notime"
    conf = config(key, {"mode": "list", "key": key})
    events = [
        {"@timestamp": "2025-11-23T02:46:00.123Z", "@version": "1",
         "message": "with a time", "host": {"name": "ls-1"}},
        {"@version": "1", "message": "without a time",
         "host": {"name": "ls-1"}},
        {"message": "a nested one is not the event's",
         "log": {"@timestamp": "2025-11-23T02:46:00Z"}},
    ]
    before = time.time()
    redis.cmd("RPUSH", key, *[json.dumps(e) for e in events])
    redis.cmd("RPUSH", key, "{ }")  # empty, and with a blank
    err = run_once(conf)
    after = time.time()
    assert "4 events read, 4 indexed" in err, err
    docs = search({"match_all": {}})
    eq(len(docs), 4, "documents")
    by_msg = {d.get("message", ""): d for d in docs}
    eq(by_msg["with a time"]["@timestamp"], "2025-11-23T02:46:00.123Z",
       "a Logstash event's own time")
    for msg in ("without a time", "a nested one is not the event's", ""):
        d = by_msg[msg]
        assert "@timestamp" in d, f"no @timestamp in {d}"
        t = time.mktime(time.strptime(d["@timestamp"][:19],
                                      "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert before - 1 <= t <= after + 1, (d, before, after)
    eq(by_msg["without a time"]["@version"], "1", "the rest kept")
    eq(by_msg["a nested one is not the event's"]["log"],
       {"@timestamp": "2025-11-23T02:46:00Z"}, "the nested one kept")
    # what a time-filtered view (Kibana's) finds: every event
    eq(len(search({"range": {"@timestamp": {"gte": "2025-01-01"}}})), 4,
       "documents with a time")
    eq(redis.cmd("LLEN", key), 0, "list drained")


@case
def sigterm_with_redis_down_stops_at_once():
    conf = config("down", {"url": f"redis://127.0.0.1:{free_port()}/0"})
    log = os.path.join(TMP, "down.log")
    with open(log, "w") as f:
        p = subprocess.Popen([INDEXER, "-c", conf, "run"], stderr=f,
                             stdout=subprocess.DEVNULL, env=ENV)
    try:
        wait_for("the indexer to find Redis down",
                 lambda: "cannot connect" in open(log).read())
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        eq(p.wait(timeout=15), 0, "exit status")
        took = time.monotonic() - t0
        # nothing read, nothing held: nothing to wait for (it took 10 s)
        assert took < 3, f"stopped after {took:.1f} s; {open(log).read()}"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@case
def once_goes_on_while_the_list_cannot_be_read():
    """`run --once` in list mode where the key holds a stream (another
    program's, or a mode mixed up): it said "nothing left to index" and
    exited 0 at once, indexing nothing. It now says why it cannot read,
    goes on trying, and ends once the key is a list it has drained."""
    key = "logstash-wrongtype"
    conf = config(key, {"mode": "list", "key": key})
    redis.cmd("XADD", key, "*", "a", "b")
    log = os.path.join(TMP, key + ".log")
    with open(log, "w") as f:
        p = subprocess.Popen([INDEXER, "-c", conf, "run", "--once"],
                             stderr=f, stdout=subprocess.DEVNULL, env=ENV)
    try:
        wait_for("the WRONGTYPE error", lambda: "WRONGTYPE" in open(log).read())
        assert p.poll() is None, f"exited {p.returncode}: {open(log).read()}"
        redis.cmd("DEL", key)
        redis.cmd("RPUSH", key, json.dumps(
            {"@timestamp": "2025-11-23T02:46:00.000Z", "message": "late"}))
        eq(p.wait(timeout=30), 0, "exit status")
        assert "1 events read, 1 indexed" in open(log).read(), open(log).read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    eq([d["message"] for d in search({"match": {"message": "late"}})],
       ["late"], "indexed")


def ship_lines(key, n, batch=100):
    """n lines shipped by sluice-shipper into the stream key, in batches
    of `batch`; returns the number of entries."""
    logs = os.path.join(TMP, key)
    os.makedirs(logs)
    with open(os.path.join(logs, "app.log"), "w") as f:
        for i in range(n):
            f.write(f"{key} line {i}\n")
    ship = os.path.join(TMP, key + "-shipper.json")
    with open(ship, "w") as f:
        json.dump({"host": {"name": "web-1"},
                   "data_dir": os.path.join(TMP, key + "-data"),
                   "inputs": [{"type": "file",
                               "paths": [os.path.join(logs, "*.log")]}],
                   "output": {"redis": {
                       "url": f"redis://127.0.0.1:{redis.port}/0",
                       "key": key, "batch_events": batch}}}, f)
    p = subprocess.run([SHIPPER, "-c", ship, "run", "--once"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    eq(p.returncode, 0, f"shipper: {p.stderr}")
    return redis.cmd("XLEN", key)


def count_lines(key):
    es_json(ES, "POST", f"/{PREFIX}-*/_refresh")
    return es_json(ES, "POST", f"/{PREFIX}-*/_count",
                   {"query": {"match_phrase": {"message": key}}})["count"]


@case
def once_claims_what_a_dead_indexer_left():
    """An indexer killed with entries read and not acknowledged (its
    consumer never comes back), then `run --once` under another consumer
    name: DESIGN.md's --once ends when the stream holds nothing
    unacknowledged, so it waits for those entries to be idle claim_idle,
    claims them (XAUTOCLAIM) and indexes them. It said "nothing left to
    index" and exited 0 at once, the dead consumer's events left out."""
    key = "stream-dead-consumer"
    ship_lines(key, 3000, batch=500)
    # the dead indexer: read everything, acknowledged nothing
    redis.cmd("XGROUP", "CREATE", key, "sluice", "0")
    redis.cmd("XREADGROUP", "GROUP", "sluice", "idx-dead", "COUNT", "100",
              "STREAMS", key, ">")
    entries = redis.cmd("XLEN", key)  # 6 batches of 500, unless cut by age
    eq(redis.cmd("XPENDING", key, "sluice")[0], entries, "pending for the dead")
    conf = config(key, {"key": key, "claim_idle": "1s"})
    t0 = time.monotonic()
    err = run_once(conf)
    eq(sum(int(n) for n in re.findall(r"claimed (\d+) entries", err)),
       entries, f"entries claimed: {err}")
    assert "3000 events read, 3000 indexed" in err, err
    assert time.monotonic() - t0 < 20, err
    eq(redis.cmd("XPENDING", key, "sluice")[0], 0, "pending after")
    eq(count_lines(key), 3000, "every event")


@case
def list_times_as_numbers_and_null():
    key = "ls-times"
    redis.cmd("RPUSH", key,
              '{"message":"epoch ms","@timestamp":1700000000123}',
              '{"message":"null time","@timestamp":null}')
    # its own index: without the template, the first maps @timestamp long
    redis.cmd("RPUSH", key + "-s",
              '{"message":"epoch string","@timestamp":"1700000000123"}')
    run_once(config(key + "-s", {"mode": "list", "key": key + "-s"},
                    {"index": PREFIX + "-s-%{+yyyy.MM.dd}"}))
    t0 = int(time.time() * 1000)
    err = run_once(config(key, {"mode": "list", "key": key}))
    assert "2 events read, 2 indexed" in err, err
    t1 = int(time.time() * 1000)
    es_json(ES, "POST", f"/{PREFIX}-*/_refresh")
    got = es_json(ES, "POST", f"/{PREFIX}-*/_search",
                  {"size": 10, "query": {"bool": {"should": [
                      {"match_phrase": {"message": "epoch ms"}},
                      {"match_phrase": {"message": "null time"}},
                      {"match_phrase": {"message": "epoch string"}}]}}})
    by = {h["_source"]["message"]: h for h in got["hits"]["hits"]}
    eq(sorted(by), ["epoch ms", "epoch string", "null time"], "documents")
    eq(by["epoch ms"]["_index"], f"{PREFIX}-2023.11.14", "epoch ms index")
    eq(by["epoch string"]["_index"], f"{PREFIX}-s-2023.11.14", "string index")
    stamp = by["null time"]["_source"]["@timestamp"]
    ms = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert t0 - 1000 <= ms.timestamp() * 1000 <= t1, (stamp, t0, t1)



@case
def ca_file_that_is_not_there_is_a_config_error():
    missing = os.path.join(TMP, "no-such-ca.pem")
    conf = config("ca", {}, {"hosts": ["https://127.0.0.1:9200"],
                             "ca_file": missing})
    for cmd in (["run", "--once"], ["setup"], ["dlq", "replay"]):
        p = subprocess.run([INDEXER, "-c", conf] + cmd, capture_output=True,
                           text=True, env=ENV, timeout=30)
        eq(p.returncode, 2, f"{cmd}: {p.stderr}")
        assert (f'elasticsearch.ca_file: cannot read "{missing}": No such '
                "file or directory") in p.stderr, p.stderr



@case
def list_element_too_large_is_said():
    key = "ls-big"
    big = ('{"@timestamp":"2026-12-05T01:00:00Z","message":"big","stack":"'
           + "z" * (9 << 20) + '"}')
    redis.cmd("RPUSH", key, '{"message":"before big"}', big,
              '{"message":"after big"}')
    err = run_once(config(key, {"mode": "list", "key": key}))
    assert "3 events read, 2 indexed" in err, err
    want = (r'an event for index "%s-2026\.12\.05" is not sent: event of '
            r"\d+ bytes, above the 8388608 bytes an event may be; cut it "
            r"where it is made" % PREFIX)
    assert re.search(want, err), err
    eq(redis.cmd("LLEN", key), 0, "list after")
    letter = redis.cmd("XRANGE", key + ":dead", "-", "+")[0][1]
    fields = dict(zip(letter[0::2], letter[1::2]))
    eq(fields[b"error.type"], b"sluice_event_too_large", "letter type")
    eq(fields[b"event"], big.encode(), "the whole event kept")


@case
def check_says_what_run_does_of_a_missing_ca_file():
    missing = os.path.join(TMP, "no-such-ca-2.pem")
    key = "ls-ca"
    tls = config(key + "-tls", {"mode": "list", "key": key},
                 {"hosts": ["https://127.0.0.1:9200"], "ca_file": missing})
    p = subprocess.run([INDEXER, "-c", tls, "check"], capture_output=True,
                       text=True, env=ENV, timeout=30)
    eq(p.returncode, 2, p.stderr)
    assert (f'elasticsearch.ca_file: cannot read "{missing}": No such '
            "file or directory") in p.stderr, p.stderr
    plain = config(key, {"mode": "list", "key": key}, {"ca_file": missing})
    p = subprocess.run([INDEXER, "-c", plain, "check"], capture_output=True,
                       text=True, env=ENV, timeout=30)
    eq((p.returncode, p.stdout), (0, ""), p.stderr)
    assert p.stderr.startswith("sluice-indexer: warning: "), p.stderr
    assert "it is not used while every URL is http://" in p.stderr, p.stderr
    redis.cmd("RPUSH", key, '{"message":"plain http with a CA named"}')
    err = run_once(plain)
    assert "1 events read, 1 indexed" in err, err
    assert "it is not used while every URL is http://" in err, err


@case
def once_gives_up_while_elasticsearch_is_down():
    import socket
    key = "stream-es-down"
    entries = ship_lines(key, 1000)
    hung = socket.socket()  # accepts connections (backlog), never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    down = f"http://127.0.0.1:{free_port()}"
    silent = f"http://127.0.0.1:{hung.getsockname()[1]}"
    try:
        for host, what in ((down, "Couldn't connect"),
                           (silent, "timed out")):
            conf = config(key, {"key": key},
                          {"hosts": [host], "request_timeout": "1s"})
            t0 = time.monotonic()
            p = subprocess.run([INDEXER, "-c", conf, "run", "--once"],
                               capture_output=True, text=True, env=ENV,
                               timeout=60)
            took = time.monotonic() - t0
            eq(p.returncode, 1, p.stderr)
            assert took < 10, f"{took:.1f} s: {p.stderr}"
            assert re.search(r"--once gives up: Elasticsearch has failed "
                             r"every request for \d\.\d s "
                             r"\(elasticsearch.request_timeout\), the last: "
                             rf"POST {host}/_bulk: [^;]*{what}", p.stderr), \
                p.stderr
            assert "the events wait in Redis for the next run" in p.stderr
            assert "0 indexed" in p.stderr, p.stderr
            # nothing acknowledged: every entry still there, pending
            eq(redis.cmd("XLEN", key), entries, f"entries after {what}")
            eq(redis.cmd("XPENDING", key, "sluice")[0], entries,
               f"pending after {what}")
    finally:
        hung.close()
    err = run_once(config(key, {"key": key}))
    assert "1000 events read, 1000 indexed" in err, err
    eq(redis.cmd("XPENDING", key, "sluice")[0], 0, "pending at the end")
    eq(count_lines(key), 1000, "every event once")


def consumers(key):
    return {dict(zip(c[0::2], c[1::2]))[b"name"].decode(): c
            for c in redis.cmd("XINFO", "CONSUMERS", key, "sluice")}


@case
def idle_consumers_that_hold_nothing_are_removed():
    key = "stream-consumers"
    entries = ship_lines(key, 300)
    redis.cmd("XGROUP", "CREATE", key, "sluice", "0")
    redis.cmd("XGROUP", "CREATECONSUMER", key, "sluice", "gone-empty")
    redis.cmd("XREADGROUP", "GROUP", "sluice", "gone-holding", "COUNT", "1",
              "STREAMS", key, ">")
    eq(sorted(consumers(key)), ["gone-empty", "gone-holding"], "before")
    procs, logs = [], []
    try:
        for name in ("c1", "c2"):
            conf = config(key + "-" + name,
                          {"key": key, "consumer": name, "claim_idle": "3s",
                           "forget_idle": "1s"})
            logs.append(os.path.join(TMP, f"{key}-{name}.log"))
            with open(logs[-1], "w") as f:
                procs.append(subprocess.Popen(
                    [INDEXER, "-c", conf, "run"], stderr=f,
                    stdout=subprocess.DEVNULL, env=ENV))
        # gone-holding is idle past forget_idle at the first sweep, but
        # keeps its entry until c1 or c2 claims it (claim_idle)
        wait_for("the idle consumers removed",
                 lambda: sorted(consumers(key)) == ["c1", "c2"])
        wait_for("every event indexed", lambda: count_lines(key) == 300)
        # the live ones stay, sweep after sweep (every second)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            eq(sorted(consumers(key)), ["c1", "c2"], "live consumers kept")
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            eq(p.wait(timeout=20), 0, "exit status")
    said = "".join(open(log).read() for log in logs)
    removed = re.findall(r'removed \d+ consumers? of group sluice on '
                         + key + r' that held nothing and were idle 1 s or '
                         r'more \(redis.forget_idle\): (.*)', said)
    names = sorted(re.findall(r'"([^"]+)" \(idle \d+ s\)', " ".join(removed)))
    eq(names, ["gone-empty", "gone-holding"], said)
    assert f"claimed 1 entries" in said, said
    eq(redis.cmd("XPENDING", key, "sluice")[0], 0, "pending at the end")
    eq(redis.cmd("XLEN", key), 0, f"entries left of {entries}")


class BusyNode(HttpNode):
    """An HTTP node in front of ES that answers every _bulk with 429 until
    `until` (monotonic s): the whole request (whole=True) or each item;
    then forwards to ES."""

    def __init__(self, whole):
        self.whole, self.until, self.busy = whole, 0.0, 0
        super().__init__(self.bulk)

    def bulk(self, path, body):
        import urllib.request
        if time.monotonic() >= self.until:
            req = urllib.request.Request(
                ES + path, data=body, method="POST",
                headers={"Content-Type": "application/x-ndjson"})
            with urllib.request.urlopen(req) as r:
                return r.status, r.read()
        self.busy += 1
        error = {"type": "es_rejected_execution_exception",
                 "reason": "rejected execution"}
        if self.whole:
            return 429, json.dumps({"error": error, "status": 429}).encode()
        item = {"create": {"status": 429, "error": error}}
        n = body.count(b"\n") // 2
        return 200, json.dumps({"errors": True,
                                "items": [item] * n}).encode()


@case
def once_goes_on_while_elasticsearch_answers_429():
    """A cluster that answers, if only 429 (the whole request, or each
    item), is not down: `run --once` keeps retrying past
    request_timeout and ends once the events are in."""
    for whole in (True, False):
        key = f"ls-busy-{int(whole)}"
        redis.cmd("RPUSH", key, *[json.dumps({"message": f"{key} {i}"})
                                  for i in range(50)])
        node = BusyNode(whole)
        try:
            node.until = time.monotonic() + 3
            conf = config(key, {"mode": "list", "key": key},
                          {"hosts": [node.url], "request_timeout": "1s",
                           "retry_max": "500ms"})
            err = run_once(conf)
        finally:
            node.close()
        assert node.busy >= 3, (node.busy, err)
        assert "gives up" not in err, err
        assert "50 events read, 50 indexed" in err, err
        eq(count_lines(key), 50, f"indexed, whole={whole}")


@case
def once_gives_up_while_redis_is_down():
    conf = config("redis-down", {"url": f"redis://127.0.0.1:{free_port()}/0"},
                  {"request_timeout": "1s"})
    t0 = time.monotonic()
    p = subprocess.run([INDEXER, "-c", conf, "run", "--once"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    took = time.monotonic() - t0
    eq(p.returncode, 1, p.stderr)
    assert took < 10, f"{took:.1f} s: {p.stderr}"
    assert re.search(r"--once gives up: redis://127.0.0.1:\d+/0 has not been "
                     r"reachable for \d\.\d s .*start redis-server or fix "
                     r"redis.url", p.stderr), p.stderr


es_drop(ES, PREFIX)
redis.kill()
sys.exit(1 if failures else 0)
