#!/usr/bin/env python3
"""output.redis.codec "auto", the default, end to end: sluice-shipper
writes columnar entries when every input has a grok processor and lz4
entries otherwise, says which in its log and why, and sluice-indexer
reads both back (each entry carries its codec) into the same documents
the shipper prints to stdout for the same lines.

Each case ships its files with `run --once` into a stream of this test's
redis-server, checks every entry's `codec`, then runs `sluice-indexer
run --once` into a stub Elasticsearch node of this test that records
each document, and compares them, by file and offset, with the events of
the same config's `stdout` output (about 3 s).

usage: test_shipper_codec_auto.py BIN_DIR
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, BulkNode, Redis, case, eq,  # noqa: E402
                             failures, json_lines, run_once, scratch,
                             tmp_dir, write_config)

BIN = sys.argv[1]
SHIPPER = os.path.join(BIN, "sluice-shipper")
INDEXER = os.path.join(BIN, "sluice-indexer")
TMP = tmp_dir("sluice-codec-auto-")
redis = Redis()

GROK = {"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}}
DATE = {"date": {"field": "timestamp",
                 "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}}


def apache_lines(n, seed):
    """n Apache combined lines, and one grok does not match."""
    rnd = random.Random(seed)
    paths = ["/", "/cart", "/account/orders/%d", "/static/app-%d.js",
             "/search?q=caf%%C3%%A9&page=%d"]
    agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "curl/8.5.0",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"]
    out = []
    for i in range(n):
        path = rnd.choice(paths)
        if "%d" in path:
            path = path % rnd.randrange(100000)
        out.append(
            f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{i % 250 + 1} - "
            f"{rnd.choice(['-', 'alice'])} [05/Dec/2026:10:{i // 60 % 60:02}:"
            f"{i % 60:02} +0100] \"{rnd.choice(['GET', 'POST'])} {path} "
            f"HTTP/1.1\" {rnd.choice([200, 200, 304, 404, 500])} "
            f"{rnd.randrange(100000)} \"{rnd.choice(['-', 'https://a.example/'])}"
            f"\" \"{rnd.choice(agents)}\"")
    out.insert(n // 2, "not an access log line: grok leaves it whole")
    return out


def json_log_lines(n):
    return [json.dumps({"level": "info", "msg": f"request {i} done",
                        "trace_id": f"{i:032x}", "ms": i % 97})
            for i in range(n)]


class Recorder(BulkNode):
    """An Elasticsearch node that creates every document at once and
    keeps them in `docs`."""

    def __init__(self):
        self.docs = []
        super().__init__()

    def take(self, meta, doc):
        self.docs.append(json.loads(doc))
        return 201, None


def by_place(events):
    """{(file, offset): event}; each place once."""
    got = {}
    for e in events:
        place = (e["log"]["file"]["path"], e["log"]["offset"])
        assert place not in got, f"{place} twice"
        got[place] = e
    return got


def ship_and_index(name, files, inputs, want_codec, want_said):
    """Writes files ({name: lines}) into a scratch dir's logs/, ships
    them with inputs(logs dir) and no codec set, checks the entries'
    codec and the log line, indexes them, and compares the documents
    with the stdout output's events."""
    d = scratch(TMP, name)
    logs = os.path.join(d, "logs")
    for f, lines in files.items():
        with open(os.path.join(logs, f), "w") as out:
            out.writelines(l + "\n" for l in lines)
    key = f"auto:{name}"
    conf = write_config(d, inputs(logs), {"redis": {
        "url": f"redis://127.0.0.1:{redis.port}/0", "key": key,
        "batch_events": 100}})
    _, said = run_once(SHIPPER, conf)
    assert want_said in said, said
    codecs = [dict(zip(f[0::2], f[1::2]))[b"codec"].decode()
              for _, f in redis.cmd("XRANGE", key, "-", "+")]
    assert len(codecs) >= 2, f"{len(codecs)} entries"
    eq(set(codecs), {want_codec}, "the entries' codec")
    # the same lines to stdout: what the indexer must send
    conf = write_config(d, inputs(logs), None,
                        {"data_dir": os.path.join(d, "data-stdout")})
    out, _ = run_once(SHIPPER, conf)
    want = by_place(json_lines(out))
    eq(len(want), sum(len(l) for l in files.values()), "events on stdout")
    node = Recorder()
    try:
        iconf = os.path.join(d, "indexer.json")
        with open(iconf, "w") as f:
            json.dump({"redis": {"url": f"redis://127.0.0.1:{redis.port}/0",
                                 "key": key, "block": "200ms",
                                 "consumer": "c1"},
                       "elasticsearch": {"hosts": [node.url],
                                         "request_timeout": "5s"}}, f)
        p = subprocess.run([INDEXER, "-c", iconf, "run", "--once"],
                           capture_output=True, text=True, env=ENV,
                           timeout=60)
        eq(p.returncode, 0, f"indexer: {p.stderr}")
    finally:
        node.close()
    got = by_place(node.docs)
    eq(sorted(got), sorted(want), "the documents' places")
    for place, doc in got.items():
        eq(doc, want[place], f"the document of {place}")


@case
def every_input_with_grok_gets_columnar():
    # grok under a `when` counts too: the second input's lines are the
    # ones it is written for
    when = {"grok": {**GROK["grok"],
                     "when": {"regexp": {"message": "^[0-9]"}}}}
    ship_and_index(
        "grok", {"access.log": apache_lines(300, 1),
                 "other.log": apache_lines(150, 2)},
        lambda logs: [
            {"paths": [logs + "/access.log"], "processors": [GROK, DATE]},
            {"paths": [logs + "/other.log"],
             "processors": [{"add_tags": {"tags": ["other"]}}, when, DATE]}],
        "columnar",
        "codec auto: columnar, as every input has a grok processor")


@case
def an_input_without_grok_gets_lz4():
    ship_and_index(
        "mixed", {"access.log": apache_lines(300, 3),
                  "app.json": json_log_lines(200)},
        lambda logs: [
            {"paths": [logs + "/access.log"], "processors": [GROK, DATE]},
            {"paths": [logs + "/app.json"], "processors": [{"json": {}}]}],
        "lz4", "codec auto: lz4, as inputs[1] has no grok processor")


redis.kill()
sys.exit(1 if failures else 0)
