#!/usr/bin/env python3
"""The whole pipeline (sluice-shipper -> Redis -> sluice-indexer ->
Elasticsearch) when a server in it misbehaves, as a user meets it; each
case found a defect and fails on the code before its fix.

- An index that is closed: its events go to the dead letters, and the
  log said only `index_closed_exception "closed"`, naming neither the
  index nor what to do; it now names the index, how to open it and that
  `dlq replay` then indexes them (checked: they all arrive, once).
- Redis restarted without persistence: the stream and its group are
  gone. An indexer running then said "group sluice is gone; making it
  again", not that what the stream held unread is lost; it now says so
  (README: Redis restarts). The case also pins down what README says is
  lost: exactly the lines shipped into the stream that no indexer had
  read; everything before and after is indexed once, and both daemons
  go on. It now also warns once at start that its Redis keeps no
  append-only file, and what that loses (not with one that keeps it).
- JSON logs with a key named as a metadata field of Elasticsearch
  ("_id" of a MongoDB document, "_index", "_source"): each such event
  went to the dead letters; the json processor now writes "_id_".
- Two indexers in one group, one killed with -9 for good while it holds
  entries: the other claims them, every event once (passed at once).

A redis-server of this test's own on a free port (restarted by the
test); Elasticsearch from tests/run (SLUICE_TEST_ES_URL), with this
test's index prefix, dropped at the end.

usage: test_pipeline_faults.py BIN_DIR
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, Redis, Shipper, append,  # noqa: E402
                             case, eq, es_drop, es_json, es_request,
                             failures, http_port, need, run_once,
                             tmp_dir, wait_for)

INDEXER, SHIPPER = (os.path.join(sys.argv[1], f"sluice-{d}")
                    for d in ("indexer", "shipper"))
ES = need("SLUICE_TEST_ES_URL").rstrip("/")
# a fixed day, so the index is known and the same on every run
DAY = "2026.03.14"
PREFIX, TMP = f"sluicefaults-{os.getpid()}", tmp_dir("sluice-faults-")
redis = Redis()


def line(i):
    return f"14/Mar/2026:12:00:00 +0000 line {i}"


def shipper_config(name, port=None, **output):
    """TMP/name/shipper.json: TMP/name/logs/*.log, a date processor (the
    index is the line's day), to this test's Redis at stream name."""
    d = os.path.join(TMP, name)
    os.makedirs(os.path.join(d, "logs"))
    conf = {"host": {"name": "web-1"}, "data_dir": os.path.join(d, "data"),
            "inputs": [{"type": "file",
                        "paths": [os.path.join(d, "logs", "*.log")],
                        "processors": [
                            {"grok": {"patterns": [
                                "^%{HTTPDATE:ts} %{GREEDYDATA:rest}$"]}},
                            {"date": {"field": "ts", "formats": [
                                "dd/MMM/yyyy:HH:mm:ss Z"]}}]}],
            "output": {"redis": {"url": f"redis://127.0.0.1:{redis.port}/0",
                                 "key": name, "batch_age": "20ms",
                                 **output}}}
    if port:
        conf["http"] = {"listen": f"127.0.0.1:{port}"}
    path = os.path.join(d, "shipper.json")
    with open(path, "w") as f:
        json.dump(conf, f)
    return path, os.path.join(d, "logs", "app.log"), d


def indexer_config(name):
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump({"redis": {"url": f"redis://127.0.0.1:{redis.port}/0",
                             "key": name, "dead_key": name + ":dead",
                             "consumer": "c1", "block": "200ms"},
                   "elasticsearch": {"hosts": [ES],
                                     "index": f"{PREFIX}-{name}-%{{+yyyy.MM.dd}}",
                                     "flush_age": "20ms",
                                     "retry_max": "500ms"}}, f)
    return path


class Indexer:
    """`sluice-indexer run` in the background, its log in TMP/NAME.log
    (appended to across restarts)."""

    def __init__(self, conf, name):
        self.log = os.path.join(TMP, name + ".log")
        with open(self.log, "ab") as out:
            self.p = subprocess.Popen([INDEXER, "-c", conf, "run"], env=ENV,
                                      stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=out)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        """SIGTERM; fails unless it exits 0 within 30 s (killed if not)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        eq(self.p.returncode, 0, f"indexer exit; log: {self.text()}")


def messages(name):
    """The line numbers indexed in name's indices, sorted (a number twice
    if it is there twice)."""
    es_request(ES, "POST", f"/{PREFIX}-{name}-*/_refresh")
    status, got = es_request(ES, "POST", f"/{PREFIX}-{name}-*/_search",
                             {"size": 1000, "_source": ["message"]})
    if status != 200:  # none yet, or a shard just opened
        return []
    return sorted(int(h["_source"]["message"].rsplit(" ", 1)[1])
                  for h in got["hits"]["hits"])


def count(name):
    es_request(ES, "POST", f"/{PREFIX}-{name}-*/_refresh")
    status, got = es_request(ES, "GET", f"/{PREFIX}-{name}-*/_count")
    return got["count"] if status == 200 else 0


def ids(name):
    """Every document's line number, in name's indices: a scroll (more
    than a search's 10,000, on one snapshot: the order of _doc moves when
    segments merge between two plain searches)."""
    got = es_json(ES, "POST", f"/{PREFIX}-{name}-*/_search?scroll=1m",
                  {"size": 5000, "_source": ["message"], "sort": ["_doc"]})
    lines = []
    while got["hits"]["hits"]:
        lines += [h["_source"]["message"].split(" ")[-2]
                  for h in got["hits"]["hits"]]
        got = es_json(ES, "POST", "/_search/scroll",
                      {"scroll": "1m", "scroll_id": got["_scroll_id"]})
    es_request(ES, "DELETE", "/_search/scroll",
               {"scroll_id": got["_scroll_id"]})
    return lines


def stream_events(key):
    """Events in the entries of the stream key."""
    return sum(int(dict(zip(f[::2], f[1::2]))[b"count"])
               for _, f in redis.cmd("XRANGE", key, "-", "+") or [])


@case
def closed_index_says_which_and_how():
    """An index closed while events for it arrive: they go to the dead
    letters; the log names the index, how to open it and `dlq replay`;
    once it is open, `dlq replay` indexes them, each once."""
    name = "closed"
    sconf, log, _ = shipper_config(name)
    iconf = indexer_config(name)
    index = f"{PREFIX}-{name}-{DAY}"
    append(log, [line(i) for i in range(50)])
    run_once(SHIPPER, sconf)
    ix = Indexer(iconf, name)
    try:
        wait_for("50 indexed", lambda: len(messages(name)) == 50)
        es_json(ES, "POST", f"/{index}/_close")
        append(log, [line(i) for i in range(50, 80)])
        run_once(SHIPPER, sconf)
        wait_for("30 dead letters",
                 lambda: redis.cmd("XLEN", name + ":dead") == 30 and
                 redis.cmd("XLEN", name) == 0)
    finally:
        ix.stop()
    text = ix.text()
    want = (f'30 of 30 events refused: index "{index}" is closed '
            f"(index_closed_exception); to the dead-letter stream: open it "
            f"(POST /{index}/_open), then run `sluice-indexer dlq replay`")
    assert want in text, text
    es_json(ES, "POST", f"/{index}/_open")
    es_json(ES, "GET", f"/_cluster/health/{index}?wait_for_status=yellow"
            "&timeout=30s")
    p = subprocess.run([INDEXER, "-c", iconf, "dlq", "replay"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    eq(p.returncode, 0, f"dlq replay: {p.stdout} {p.stderr}")
    wait_for("80 indexed", lambda: len(messages(name)) >= 80)
    eq(messages(name), list(range(80)), "every line once")
    eq(redis.cmd("XLEN", name + ":dead"), 0, "dead letters left")


@case
def redis_restarted_without_persistence():
    """Redis (no AOF, no snapshot) restarted twice under a running
    shipper. First with the indexer running, the stream read: nothing is
    lost, and the indexer says the stream is gone and what that loses.
    Then with the indexer stopped and 100 lines in the stream: those are
    lost (README: Redis restarts), everything else is indexed once, and
    both daemons go on."""
    name = "norestore"
    port = http_port()
    sconf, log, d = shipper_config(name, port)
    iconf = indexer_config(name)
    append(log, [line(i) for i in range(100)])
    sh = Shipper(SHIPPER, ENV, sconf, d, port)
    ix = Indexer(iconf, name)
    try:
        wait_for("100 indexed", lambda: len(messages(name)) == 100)
        redis.kill()
        redis.start()
        wait_for("the indexer's warning",
                 lambda: "Redis lost the stream" in ix.text())
        append(log, [line(i) for i in range(100, 200)])
        wait_for("200 indexed", lambda: len(messages(name)) == 200)
        ix.stop()
        append(log, [line(i) for i in range(200, 300)])
        # in the stream, and the shipper has Redis's answer: else it
        # sends them again after the restart, rightly
        wait_for("100 events in the stream, acknowledged",
                 lambda: stream_events(name) == 100 and
                 sh.total("sluice_output_events_total") >= 300)
        redis.kill()
        redis.start()
        append(log, [line(i) for i in range(300, 400)])
        ix = Indexer(iconf, name)
        wait_for("300 indexed", lambda: len(messages(name)) >= 300)
        wait_for("the stream read and acknowledged",
                 lambda: redis.cmd("XLEN", name) == 0)
    finally:
        try:
            sh.stop()
        finally:
            ix.stop()
    want = ("group sluice of norestore is gone: Redis lost the stream "
            "(restarted without persistence, or the key was deleted); the "
            "entries no indexer had read are lost with it")
    assert want in ix.text(), ix.text()
    # said at start, once, however often Redis comes back
    eq(ix.text().count("keeps no append-only file (INFO persistence: "
                        "aof_enabled:0): if Redis crashes, or stops without "
                        "saving, the entries of norestore that no indexer "
                        "has read are lost"), 2, "warnings (two starts)")
    got, want = messages(name), list(range(200)) + list(range(300, 400))
    eq((sorted(set(want) - set(got)), sorted(set(got) - set(want)),
        len(got) - len(set(got))), ([], [], 0),
       "lines indexed: all but those in the stream at the second restart "
       "(missing, not wanted, twice)")


@case
def two_indexers_one_killed_for_good():
    """Two indexers in one group share a stream of 20,000 events (80
    entries, each indexer holding at most 4); one is killed with -9 while
    it holds entries (its bulk requests on the wire) and never comes
    back: the other takes its entries over (XAUTOCLAIM, once idle
    claim_idle) and every event is in Elasticsearch once. No defect
    found: this pins it down."""
    name = "claimed"
    sconf, log, _ = shipper_config(name, batch_events=250)
    append(log, [line(i) + " " + "x" * 200 for i in range(20000)])
    run_once(SHIPPER, sconf)
    confs = []
    for c in ("a", "b"):
        path = indexer_config(name)
        with open(path) as f:
            conf = json.load(f)
        # 80 entries, at most 4 held by each: both get some
        conf["redis"].update(consumer=c, claim_idle="1s", max_in_flight=4,
                             read_count=2)
        conf["elasticsearch"]["flush_count"] = 500
        path = os.path.join(TMP, f"{name}-{c}.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        confs.append(path)
    a, b = Indexer(confs[0], name + "-a"), Indexer(confs[1], name + "-b")

    def held_by_a():
        try:
            got = redis.cmd("XPENDING", name, "sluice")
        except AssertionError:  # NOGROUP: not made yet
            return False
        return dict(got[3] or []).get(b"a", b"0") != b"0"
    try:
        wait_for("a holds entries", held_by_a)
        a.p.kill()
        a.p.wait()
        wait_for("20,000 indexed", lambda: count(name) >= 20000)
        wait_for("the stream read and acknowledged",
                 lambda: redis.cmd("XLEN", name) == 0)
    finally:
        if a.p.poll() is None:  # the case failed before the kill
            a.p.kill()
            a.p.wait()
        b.stop()
    assert "claimed " in b.text(), b.text()
    eq(count(name), 20000, "documents")
    eq(len(set(ids(name))), 20000, "distinct ids")

@case
def redis_with_aof_is_not_warned_of():
    """The same indexer on a Redis with an append-only file: no warning
    (it says at debug that it checked)."""
    r = Redis(aof=os.path.join(TMP, "aof"))
    path = os.path.join(TMP, "aof.json")
    with open(path, "w") as f:
        json.dump({"redis": {"url": f"redis://127.0.0.1:{r.port}/0",
                             "key": "aof", "block": "200ms"},
                   "elasticsearch": {"hosts": [ES]},
                   "log": {"level": "debug"}}, f)
    ix = Indexer(path, "aof")
    try:
        wait_for("the check", lambda: "keeps an append-only file" in ix.text())
    finally:
        ix.stop()
        r.kill()
    assert "keeps no append-only file" not in ix.text(), ix.text()

# The top-level keys Elasticsearch 8.15 refuses in a document (checked:
# "... is a metadata field and cannot be added inside a document"), and
# _doc_count, which it reads as an aggregation count.
META = ["_id", "_index", "_source", "_routing", "_ignored", "_ignored_source",
        "_seq_no", "_primary_term", "_version", "_field_names", "_doc_count",
        "_tier", "_nested_path", "_data_stream_timestamp"]


@case
def json_logs_with_metadata_keys_are_indexed():
    """JSON logs whose lines have a key named as one of Elasticsearch's
    metadata fields ("_id" of a MongoDB document logged whole, "_index",
    "_source", ...): each such event went to the dead letters
    (document_parsing_exception); the key now gets a "_" after it, and
    every event is indexed. A nested "_id" stays as it is."""
    name = "metajson"
    sconf, log, _ = shipper_config(name)
    with open(sconf) as f:
        conf = json.load(f)
    conf["inputs"][0]["processors"] = [{"json": {}}]
    with open(sconf, "w") as f:
        json.dump(conf, f)
    lines = [json.dumps({k: f"v{i}", "message": f"with {k}",
                         "@timestamp": "2026-03-14T12:00:00Z",
                         "doc": {"_id": i}})
             for i, k in enumerate(META)]
    append(log, lines)
    run_once(SHIPPER, sconf)
    p = subprocess.run([INDEXER, "-c", indexer_config(name), "run", "--once"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    eq(p.returncode, 0, f"indexer: {p.stderr}")
    eq(redis.cmd("XLEN", name + ":dead"), 0, f"dead letters: {p.stderr}")
    es_request(ES, "POST", f"/{PREFIX}-{name}-*/_refresh")
    got = es_json(ES, "POST", f"/{PREFIX}-{name}-*/_search",
                  {"size": 100})["hits"]["hits"]
    docs = {h["_source"]["message"]: h["_source"] for h in got}
    eq(sorted(docs), sorted(f"with {k}" for k in META), "events indexed")
    for i, k in enumerate(META):
        d = docs[f"with {k}"]
        eq((k in d, d.get(k + "_"), d["doc"]), (False, f"v{i}", {"_id": i}),
           f"the event with {k}")

def main():
    try:
        pass  # the cases ran at import
    finally:
        redis.kill()
        es_drop(ES, PREFIX)
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        return 1
    return 0


sys.exit(main())
