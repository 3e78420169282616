#!/usr/bin/env python3
"""`make demo`'s script keeps working: scripts/demo run twice, cheaply, on
the Redis and Elasticsearch tests/run started (SLUICE_TEST_REDIS_URL,
SLUICE_TEST_ES_URL), with an index prefix and a stream of its own and the
binaries of this build tree. Checks that the summary it prints gives each
host exactly the events the samples hold and the access log's exact count
per status code, that a crash site and a trace across both hosts are
shown, that a second run starts afresh (its counts are the same, the first
run's daemons are gone), and that `scripts/demo stop` stops exactly the
processes the demo recorded.

usage: test_demo.py SOURCE_DIR BIN_DIR
"""
import collections
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import eq, es_drop, es_json, need  # noqa: E402

SRC, BIN = sys.argv[1:3]
SAMPLES = os.path.join(SRC, "conf", "samples")
DEMO = os.path.join(SRC, "scripts", "demo")
failures = []


REDIS = need("SLUICE_TEST_REDIS_URL")
ES = need("SLUICE_TEST_ES_URL").rstrip("/")
PREFIX = f"sluicedemotest-{os.getpid()}"
KEY = f"sluicedemotest:{os.getpid()}"
tmp = tempfile.TemporaryDirectory(prefix="sluice-demo-test-")
ENV = dict(os.environ, SLUICE_DEMO_DIR=tmp.name, SLUICE_DEMO_BIN=BIN,
           SLUICE_DEMO_INDEX=PREFIX, SLUICE_DEMO_KEY=KEY,
           SLUICE_DEMO_TIMEOUT="90")


es = functools.partial(es_json, ES)


# ---- what the samples hold, counted here, not by the demo ---------------

def lines(name):
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return f.read().splitlines()


def expected_hosts():
    app = [l for l in lines("app.log") if re.match(r"\d{4}-\d\d-\d\d ", l)]
    return {"web-1": len(lines("apache_access.log")) +
            len(lines("gateway.json.log")),
            "app-1": len(app) + len(lines("services.json.log"))}


def expected_statuses():
    codes = collections.Counter()
    for l in lines("apache_access.log"):
        m = re.search(r'" (\d{3}) (\d+|-) "', l)
        codes[m.group(1)] += 1
    return dict(codes)


# ---- the printed summary -------------------------------------------------

def section(out, title):
    """The lines under the heading that starts with title."""
    got, on = [], False
    for l in out.splitlines():
        if l.startswith(title):
            on = True
        elif on and not l.startswith("  "):
            break
        elif on:
            got.append(l)
    if not got:
        raise AssertionError(f"no section {title!r} in:\n{out}")
    return got


def dashboard_errors_per_5m():
    """The Application errors dashboard's query (conf/kibana), run per 5
    minutes: {"HH:MM": errors}."""
    with open(os.path.join(SRC, "conf", "kibana", "sluice.ndjson")) as f:
        q = next(json.loads(l)["attributes"]["state"]["query"]["query"]
                 for l in f if '"sluice-errors-over-time"' in l)
    q = re.sub(r"\s*:\s*", ":", q)
    q = re.sub(r"\bor\b", "OR", q)
    r = es("POST", f"/{PREFIX}-*/_search", {
        "size": 0, "aggs": {"t": {"date_histogram": {
            "field": "@timestamp", "fixed_interval": "5m"}, "aggs": {
            "e": {"filter": {"query_string": {"query": q}}}}}}})
    return {b["key_as_string"][11:16]: b["e"]["doc_count"]
            for b in r["aggregations"]["t"]["buckets"]}


def template_refresh():
    with open(os.path.join(SRC, "conf", "elasticsearch",
                           "sluice-template.json"), encoding="utf-8") as f:
        return json.load(f)["template"]["settings"]["index"][
            "refresh_interval"]


def check_summary(out):
    # what a user is told to wait after appending a line, and README too
    wait = f"searchable within about\n{template_refresh()}:"
    if wait not in out:
        raise AssertionError(f"the summary does not say {wait!r}")
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        readme = " ".join(f.read().split())
    said = (f"is searchable within about {template_refresh()[:-1]} s "
            f"(it is in Redis 0.1 s later; the index template's "
            f"`refresh_interval` is {template_refresh()[:-1]} s")
    if said not in readme:
        raise AssertionError(f"README does not say {said!r}")
    hosts = {}
    for l in section(out, "Events per host"):
        f = l.split()
        hosts[f[0]] = int(f[1])
        if "expected" not in l or "MISSING" in l:
            raise AssertionError(f"host line: {l!r}")
    eq(hosts, expected_hosts(), "events per host")
    codes = {}
    for l in section(out, "Web requests"):
        f = l.split()
        codes[f[0]] = int(f[1])
    eq(codes, expected_statuses(), "requests per status code")
    errors = "\n".join(section(out, "Exceptions by type"))
    for want in ("ZeroDivisionError", "/srv/shop/pricing.py:41 in total",
                 "PaymentClient.java:88"):
        if want not in errors:
            raise AssertionError(f"{want!r} not in the exceptions:\n{errors}")
    # errors per 5 minutes as the dashboards count them (their query)
    per5 = {l.split()[0]: int(l.split()[-2])
            for l in section(out, "Events per 5 minutes")}
    eq(per5, dashboard_errors_per_5m(), "errors per 5 minutes")
    trace = section(out, "One request followed")
    seen = {re.search(r" ms\s+(\S+)", l).group(1) for l in trace}
    eq(seen, {"web-1", "app-1"}, "hosts in the trace")


def jobs(demo_dir):
    with open(os.path.join(demo_dir, "run-dir")) as f:
        run = f.read().strip()
    with open(os.path.join(run, "jobs")) as f:
        return run, [(int(l.split()[0]), l.split()[1]) for l in f if l.strip()]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_within(pids, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def run_demo(*args):
    p = subprocess.run([DEMO, *args], env=ENV, capture_output=True,
                       timeout=240, text=True)
    if p.returncode != 0:
        raise AssertionError(f"scripts/demo {' '.join(args)}: exit "
                             f"{p.returncode}\nstdout:\n{p.stdout}\n"
                             f"stderr:\n{p.stderr}")
    return p.stdout


def main():
    try:
        t0 = time.monotonic()
        out = run_demo()
        print(f"first run: {time.monotonic() - t0:.1f} s", flush=True)
        check_summary(out)
        run1, first = jobs(tmp.name)
        eq(sorted(n for _, n in first), ["sluice-indexer",
                                         "sluice-shipper-app-1",
                                         "sluice-shipper-web-1"],
           "what the demo started (the servers were given)")
        if not all(alive(p) for p, _ in first):
            raise AssertionError("a daemon of the first run is not running")
        # a second run starts afresh: same counts, the first run's daemons
        # stopped, its run dir gone
        out = run_demo()
        check_summary(out)
        if not gone_within([p for p, _ in first]):
            raise AssertionError("the first run's daemons outlived the second")
        eq(os.path.exists(run1), False, "the first run's run dir")
        run2, second = jobs(tmp.name)
        out = run_demo("stop")
        if not gone_within([p for p, _ in second]):
            raise AssertionError("scripts/demo stop left daemons running")
        eq(os.path.exists(run2), False, "the run dir after stop")
        eq(os.path.exists(os.path.join(tmp.name, "run-dir")), False,
           "run-dir after stop")
        # the given servers are still up
        eq(es("GET", "/_cluster/health")["status"] in ("green", "yellow"),
           True, "Elasticsearch after stop")
        print("ok   demo twice, then stop", flush=True)
    except (AssertionError, subprocess.TimeoutExpired, OSError) as e:
        failures.append("demo")
        print(f"FAIL demo: {e}", flush=True)
        subprocess.run([DEMO, "stop"], env=ENV, capture_output=True,
                       timeout=120)
    finally:
        cleanup()
    return 1 if failures else 0


def cleanup():
    es_drop(ES, PREFIX)
    subprocess.run(["redis-cli", "-u", REDIS, "DEL", KEY, KEY + ":dead"],
                   capture_output=True, timeout=30)


if __name__ == "__main__":
    sys.exit(main())
