#!/usr/bin/env python3
"""The whole pipeline with several hosts: three sluice-shipper daemons with
distinct host names (an Apache log, a Python log with tracebacks, a JSON
log), one Redis stream (tests/run's, SLUICE_TEST_REDIS_URL), two
sluice-indexer daemons in one consumer group, and Elasticsearch (tests/run's,
SLUICE_TEST_ES_URL), with an index prefix, stream and group of this test.
Half of each file is there before the shippers start, the rest is appended
while they run.

Checks, once every event is searchable: the count per host.name is exactly
what each host's file holds; no id appears twice (across the daily
indices too); both indexers did part of the work; every daemon's /metrics
agrees with what arrived (each shipper's events and batches; the indexers'
entries, events, acknowledgements and indexed events add up to the
shippers'; no duplicate, no dead letter); Redis holds nothing afterwards
(acknowledged entries are deleted, none pending); SIGTERM stops every
daemon with status 0.

usage: test_pipeline_multihost.py SOURCE_DIR BIN_DIR
"""
import functools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, eq, es_drop, es_json,  # noqa: E402
                             metric_sum, need, parse_metrics)

SRC, BIN = sys.argv[1:3]
SAMPLES = os.path.join(SRC, "conf", "samples")
DEADLINE_S = 120
REDIS = need("SLUICE_TEST_REDIS_URL")
ES = need("SLUICE_TEST_ES_URL").rstrip("/")
PID = os.getpid()
PREFIX = f"sluicemultihost-{PID}"
KEY = f"sluicemultihost:{PID}"
DEAD = KEY + ":dead"
GROUP = "multihost"
tmp = tempfile.TemporaryDirectory(prefix="sluice-multihost-")
TMP = tmp.name
es = functools.partial(es_json, ES)


def redis(*args):
    p = subprocess.run(["redis-cli", "-u", REDIS, *args], capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"redis-cli {args}: {p.stderr}")
    return p.stdout.strip()


def free_ports(n):
    """n free loopback ports from 20000-32000, below Linux's ephemeral
    range, so no outgoing connection takes one before a daemon binds it."""
    socks, ports = [], []
    while len(ports) < n:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", random.randint(20000, 32000)))
        except OSError:
            s.close()
            continue
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_for(what, fn, procs=()):
    end = time.monotonic() + DEADLINE_S
    last = None
    while time.monotonic() < end:
        for name, p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{name} exited with {p.returncode} "
                                     f"while waiting for {what}; its log: "
                                     f"{tail(name)}")
        last = fn()
        if last is True:
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {DEADLINE_S} s waiting for "
                         f"{what}; last: {last}")


def tail(name):
    try:
        with open(os.path.join(TMP, name + ".log")) as f:
            return "".join(f.readlines()[-8:])
    except OSError:
        return "(none)"


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as r:
        return parse_metrics(r.read().decode())


def metric(m, name):
    """A counter, summed over its labels."""
    return int(metric_sum(m, name))


# ---- the three hosts' logs -----------------------------------------------

def read(name):
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return f.read()


def json_lines(n):
    out = []
    for i in range(n):
        out.append(json.dumps({
            "time": f"2026-11-23T08:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            "level": ["info", "warn", "error"][i % 3],
            "msg": f"event {i}", "trace_id": f"{i // 5:032x}",
            "service.name": ["checkout", "payments", "inventory"][i % 3]}))
    return "\n".join(out) + "\n"


APACHE = read("apache_access.log") * 4
APP = read("app.log") * 2
JSONL = json_lines(1500)
HOSTS = {
    # host: (file, text, events, input settings)
    "host-a": ("access.log", APACHE, APACHE.count("\n"), {
        "processors": [
            {"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}},
            {"date": {"field": "timestamp",
                      "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}}]}),
    "host-b": ("app.log", APP,
               len(re.findall(r"^\d{4}-\d\d-\d\d ", APP, re.M)), {
        "multiline": {"preset": "python", "timeout": "200ms"},
        "processors": [{"traceback": {}}]}),
    "host-c": ("app.json.log", JSONL, JSONL.count("\n"), {
        "processors": [
            {"json": {}},
            {"date": {"field": "time", "formats": ["ISO8601"]}}]}),
}


def pieces(text, n):
    """text cut in n pieces of about the same size, each cut at a line that
    starts a record (a date, an address or "{"), so that however late a
    piece comes, the Python log's tracebacks are joined as in the whole
    file (a record is never left waiting for its continuation lines)."""
    lines = text.splitlines(keepends=True)
    cuts = [0]
    for k in range(1, n):
        at = max(cuts[-1], len(lines) * k // n)
        while at < len(lines) and not re.match(r"[\d{]", lines[at]):
            at += 1
        cuts.append(at)
    cuts.append(len(lines))
    return ["".join(lines[a:b]) for a, b in zip(cuts, cuts[1:])]


# ---- the daemons ---------------------------------------------------------

def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def shipper_config(host, port):
    d = os.path.join(TMP, host)
    os.makedirs(os.path.join(d, "logs"))
    name, _, _, settings = HOSTS[host]
    inp = {"type": "file", "paths": [os.path.join(d, "logs", name)]}
    inp.update(settings)
    return write(os.path.join(d, "shipper.json"), {
        "host": {"name": host}, "data_dir": os.path.join(d, "data"),
        "inputs": [inp],
        "output": {"redis": {"url": REDIS, "key": KEY,
                             "batch_events": 100, "batch_age": "50ms"}},
        "http": {"listen": f"127.0.0.1:{port}"}, "log": {"level": "info"}})


def indexer_config(name, port):
    return write(os.path.join(TMP, name + ".json"), {
        "redis": {"url": REDIS, "key": KEY, "group": GROUP,
                  "consumer": name, "dead_key": DEAD, "read_count": 1,
                  "max_in_flight": 2, "block": "100ms"},
        "elasticsearch": {"hosts": [ES], "index": PREFIX + "-%{+yyyy.MM.dd}",
                          "template_name": PREFIX, "flush_age": "20ms"},
        "http": {"listen": f"127.0.0.1:{port}"}, "log": {"level": "info"}})


def spawn(name, argv):
    log = open(os.path.join(TMP, name + ".log"), "w")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, env=ENV)


def template_file():
    with open(os.path.join(SRC, "conf", "elasticsearch",
                           "sluice-template.json")) as f:
        t = json.load(f)
    t["index_patterns"] = [PREFIX + "-*"]
    t["priority"] = 1150  # templates of one priority may not overlap
    return write(os.path.join(TMP, "template.json"), t)


# ---- the test --------------------------------------------------------------

def counts_per_host():
    es("POST", f"/{PREFIX}-*/_refresh")
    r = es("POST", f"/{PREFIX}-*/_search", {
        "size": 0, "aggs": {"h": {"terms": {"field": "host.name"}}}})
    if r is None or "aggregations" not in r:
        return {}
    return {b["key"]: b["doc_count"]
            for b in r["aggregations"]["h"]["buckets"]}


def all_ids():
    ids = []
    r = es("POST", f"/{PREFIX}-*/_search?scroll=1m", {
        "size": 5000, "_source": False, "sort": ["_doc"]})
    while r and r["hits"]["hits"]:
        ids += [h["_id"] for h in r["hits"]["hits"]]
        r = es("POST", "/_search/scroll",
               {"scroll": "1m", "scroll_id": r["_scroll_id"]})
    if r and "_scroll_id" in r:
        es("DELETE", "/_search/scroll", {"scroll_id": r["_scroll_id"]})
    return ids


def run(procs, ports):
    want = {h: v[2] for h, v in HOSTS.items()}
    total = sum(want.values())
    t0 = time.monotonic()
    wait_for(f"{total} events searchable, {want} per host",
             lambda: counts_per_host() == want or counts_per_host(), procs)
    print(f"all {total} events searchable in "
          f"{time.monotonic() - t0:.1f} s", flush=True)
    ids = all_ids()
    eq(len(ids), total, "documents")
    eq(len(set(ids)), total, "distinct ids")

    # every daemon's counters reconciled with what arrived; a daemon may
    # count a reply a moment after the next one acted on it, so each is
    # polled until it holds, up to the deadline
    def shippers_settled():
        got = {h: [metric(metrics(ports[h]), n)
                   for n in ("sluice_shipper_events_total",
                             "sluice_output_events_total")] for h in HOSTS}
        return True if got == {h: [want[h]] * 2 for h in HOSTS} else got
    wait_for("the shippers' events and output counters", shippers_settled,
             procs)
    ship = {h: metrics(ports[h]) for h in HOSTS}
    batches = sum(metric(ship[h], "sluice_output_batches_total")
                  for h in HOSTS)

    def indexers_settled():
        m = [metrics(ports[i]) for i in ("idx-1", "idx-2")]
        acked = sum(metric(x, "sluice_input_acked_total") for x in m)
        return True if acked == batches else f"acked {acked} of {batches}"
    wait_for("the indexers' acknowledgements", indexers_settled, procs)
    idx = [metrics(ports[i]) for i in ("idx-1", "idx-2")]
    for name, want_n in (("sluice_input_entries_total", batches),
                         ("sluice_input_acked_total", batches),
                         ("sluice_input_events_total", total),
                         ('sluice_es_events_total{outcome="done"}', total)):
        eq(sum(metric(x, name) for x in idx), want_n, f"indexers: {name}")
    for name in ('sluice_es_events_total{outcome="duplicate"}',
                 'sluice_es_events_total{outcome="dead"}',
                 "sluice_dead_letters_written_total",
                 "sluice_input_claimed_total",
                 "sluice_input_malformed_total"):
        eq([metric(x, name) for x in idx], [0, 0], f"indexers: {name}")
    shares = [metric(x, "sluice_input_entries_total") for x in idx]
    if min(shares) == 0:
        raise AssertionError(f"one indexer did all the work: {shares} "
                             f"entries of {batches}")
    print(f"entries per indexer: {shares} of {batches}", flush=True)

    # Redis: acknowledged entries are deleted, nothing pending
    eq(redis("XLEN", KEY), "0", "stream length")
    eq(redis("XPENDING", KEY, GROUP).splitlines()[0], "0", "pending")
    eq(redis("EXISTS", DEAD), "0", "dead letters")


def main():
    names = list(HOSTS) + ["idx-1", "idx-2"]
    ports = dict(zip(names, free_ports(len(names))))
    procs = []
    rc = 1
    try:
        env = dict(ENV, SLUICE_TEMPLATE_FILE=template_file())
        setup = subprocess.run(
            [os.path.join(BIN, "sluice-indexer"), "-c",
             indexer_config("idx-1", ports["idx-1"]), "setup"],
            capture_output=True, text=True, env=env, timeout=60)
        eq(setup.returncode, 0, f"setup: {setup.stderr}")
        for i in ("idx-1", "idx-2"):
            procs.append((i, spawn(i, [os.path.join(BIN, "sluice-indexer"),
                                       "-c", indexer_config(i, ports[i]),
                                       "run"])))
        # both indexers reading before the first entry exists, so that
        # each takes a share however slowly one of them starts
        def indexers_up():
            try:
                up = [metric(metrics(ports[i]), "sluice_indexer_redis_up")
                      for i in ("idx-1", "idx-2")]
            except OSError as e:
                return str(e)
            return True if up == [1, 1] else f"redis_up {up}"
        wait_for("both indexers connected to Redis", indexers_up, procs)
        parts = {}
        for h, (name, text, _, _) in HOSTS.items():
            conf = shipper_config(h, ports[h])
            parts[h] = pieces(text, 6)
            with open(os.path.join(TMP, h, "logs", name), "w") as f:
                f.write("".join(parts[h][:2]))
            procs.append((h, spawn(h, [os.path.join(BIN, "sluice-shipper"),
                                       "-c", conf, "run"])))
        # the other two thirds while the shippers run, a piece at a time
        for part in range(2, 6):
            for h, (name, _, _, _) in HOSTS.items():
                with open(os.path.join(TMP, h, "logs", name), "a") as f:
                    f.write(parts[h][part])
            time.sleep(0.05)  # pacing the writer, not synchronisation
        run(procs, ports)
        for name, p in procs:
            p.send_signal(signal.SIGTERM)
        for name, p in procs:
            eq(p.wait(timeout=30), 0, f"{name}'s exit status after SIGTERM")
        print("ok   three shippers, two indexers: exact counts, no "
              "duplicate, metrics reconciled", flush=True)
        rc = 0
    except (AssertionError, OSError, subprocess.TimeoutExpired) as e:
        print(f"FAIL multihost: {e}", flush=True)
        for name, _ in procs:
            print(f"--- {name}.log\n{tail(name)}", flush=True)
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        cleanup()
    return rc


def cleanup():
    es_drop(ES, PREFIX)
    redis("DEL", KEY, DEAD)


if __name__ == "__main__":
    sys.exit(main())
