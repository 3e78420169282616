#!/usr/bin/env bash
# bench_latency.sh: how long a log line takes from being written to a file
# to being searchable in Elasticsearch, through the whole pipeline with
# default settings: sluice-shipper (run) -> Redis stream -> sluice-indexer
# (run) -> Elasticsearch 8.
#
#   bench/bench_latency.sh [--rate LINES_PER_S] [--seconds S] [--no-build]
#
# Two rounds, each with its own indices: the index template as shipped
# (refresh_interval 5s) and the same template with refresh_interval 1s.
# A writer appends numbered lines at a steady rate and records when each
# was written; a poller asks `_count` every 10 ms and records when the
# count first passed each line's number. One file, one shipper and one
# indexer keep the lines nearly in order, so "count > i" is read as "line i
# is searchable"; a bulk request that overtakes an earlier one can make a
# line look searchable up to one flush (1 s) early, never late. Prints
# p50, p90, p99 and max per round.
#
# Redis and Elasticsearch (SLUICE_SEARCH_LEAN=0: full JIT) are started
# through tests/lib/services.sh and stopped at exit; export
# SLUICE_TEST_REDIS_URL / SLUICE_TEST_ES_URL to use servers already running.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RATE=200
SECONDS_=60
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: $0 [--rate N] [--seconds S] [--no-build]" >&2; exit 2 ;;
    esac
done
. bench/pipeline_lib.sh
bench_pipeline_up

python3 - "$ROOT" "$RATE" "$SECONDS_" <<'PY'
import os, signal, sys, tempfile, threading, time

root, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sys.path.insert(0, os.path.join(root, "bench"))
from bench_lib import drop_pipeline, es_call, start_pipeline  # noqa: E402

es = os.environ["SLUICE_TEST_ES_URL"]


def call(method, path, body=None):
    return es_call(es, method, path, body)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def round_(refresh):
    tmp = tempfile.mkdtemp(prefix="sluice-latency-")
    prefix = f"sluicelat-{refresh}-{os.getpid()}"
    log = os.path.join(tmp, "app.log")
    open(log, "w").close()
    procs = start_pipeline(root, tmp, "lat", prefix, [{"paths": [log]}], 5,
                           None if refresh == "template" else refresh)
    time.sleep(1)
    n = int(rate * seconds)
    written, seen, done = [0.0] * n, [None] * n, threading.Event()

    def poll():
        upto = 0
        while upto < n and not done.is_set():
            r = call("GET", f"/{prefix}-*/_count")
            now = time.monotonic()
            c = min(r.get("count", 0) if isinstance(r, dict) else 0, n)
            for i in range(upto, c):
                seen[i] = now
            upto = max(upto, c)
            time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    t0 = time.monotonic()
    with open(log, "ab", buffering=0) as f:
        for i in range(n):
            time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            written[i] = time.monotonic()
            f.write(b"%s latency probe seq=%d\n" %
                    (time.strftime("%H:%M:%S").encode(), i))
    poller.join(timeout=60)
    done.set()
    for p in procs.values():
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    lat = [(s - w) * 1000 for s, w in zip(seen, written) if s is not None]
    lost = n - len(lat)
    drop_pipeline(es, prefix)
    label = "template (5s)" if refresh == "template" else refresh
    print(f"refresh {label:>13}: {n} lines at {rate}/s, "
          f"p50 {pct(lat, 50):.0f} ms, p90 {pct(lat, 90):.0f} ms, "
          f"p99 {pct(lat, 99):.0f} ms, max {max(lat):.0f} ms"
          + (f", {lost} NOT SEEN" if lost else ""), flush=True)


round_("template")
round_("1s")
PY
