#!/usr/bin/env bash
# soak.sh: the whole pipeline under steady load for a long while, to see
# that memory stays flat and nothing is lost: sluice-shipper (run) tails a
# file written at --rate lines a second (renamed every 10 minutes, as
# logrotate would) -> Redis stream -> sluice-indexer (run) -> Elasticsearch 8.
# Every --sample seconds it prints each daemon's RSS and CPU so far, Redis's
# memory and the documents indexed; at the end it checks that every line
# written is indexed exactly once.
#
#   bench/soak.sh [--minutes 60] [--rate 1000] [--sample 60] [--no-build]
#
# Not a test (it runs for an hour by default); results go in RESULTS.md.
# Redis and Elasticsearch (SLUICE_SEARCH_LEAN=0: full JIT) are started
# through tests/lib/services.sh and stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MINUTES=60
RATE=1000
SAMPLE=60
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --sample) SAMPLE=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: $0 [--minutes N] [--rate N] [--sample S] [--no-build]" >&2; exit 2 ;;
    esac
done
. bench/pipeline_lib.sh
bench_pipeline_up

python3 - "$ROOT" "$MINUTES" "$RATE" "$SAMPLE" <<'PY'
import os, signal, subprocess, sys, tempfile, threading, time

root, minutes, rate, sample = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
sys.path.insert(0, os.path.join(root, "bench"))
from bench_lib import drop_pipeline, es_call, start_pipeline  # noqa: E402

es, redis = os.environ["SLUICE_TEST_ES_URL"], os.environ["SLUICE_TEST_REDIS_URL"]
rport = redis.rsplit(":", 1)[1].split("/")[0]
tick = os.sysconf("SC_CLK_TCK")


def call(method, path, body=None):
    return es_call(es, method, path, body)


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    return int(st["VmRSS"].split()[0]) / 1024, int(st["VmHWM"].split()[0]) / 1024, cpu


def redis_mem():
    out = subprocess.run(["redis-cli", "-p", rport, "info", "memory"],
                         capture_output=True, text=True).stdout
    for l in out.splitlines():
        if l.startswith("used_memory:"):
            return int(l.split(":")[1]) / 1048576
    return -1


tmp = tempfile.mkdtemp(prefix="sluice-soak-")
prefix = f"sluicesoak-{os.getpid()}"
logs = os.path.join(tmp, "logs")
os.makedirs(logs)
app = os.path.join(logs, "app.log")
procs = start_pipeline(root, tmp, "soak", prefix, [{
    "paths": [app + "*"],
    "processors": [{"grok": {"patterns": [
        "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:[log][level]} %{GREEDYDATA}"]}},
        {"date": {"field": "timestamp", "formats": ["ISO8601"]}},
        {"remove": {"fields": ["timestamp"]}}]}], 9)

written, stop = [0], threading.Event()


def writer():
    t0, n, rotated = time.monotonic(), 0, 0
    f = open(app, "ab", buffering=0)
    while not stop.is_set():
        el = time.monotonic() - t0
        if int(el // 600) > rotated:               # logrotate every 10 min
            rotated += 1
            os.rename(app, f"{app}.{rotated}")
            f.close()
            f = open(app, "ab", buffering=0)
        due = int(el * rate)
        if due > n:
            now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            f.write(b"".join(b"%s.000Z %s soak line seq=%d user=u%d took=%dms\n"
                             % (now.encode(), (b"INFO", b"WARN", b"ERROR")[i % 3], i,
                                i % 101, i % 997) for i in range(n, due)))
            n = due
            written[0] = n
        time.sleep(0.02)
    f.close()


w = threading.Thread(target=writer)
w.start()
t0 = time.monotonic()
print(f"{'min':>5} {'lines':>9} {'indexed':>9} {'shipper RSS':>12} {'(peak)':>7} "
      f"{'CPU-s':>7} {'indexer RSS':>12} {'(peak)':>7} {'CPU-s':>7} {'redis MiB':>10}",
      flush=True)
end = t0 + minutes * 60
while time.monotonic() < end:
    time.sleep(min(sample, max(0.0, end - time.monotonic())))
    s = proc_stats(procs["shipper"].pid)
    i = proc_stats(procs["indexer"].pid)
    c = call("GET", f"/{prefix}-*/_count").get("count", -1)
    print(f"{(time.monotonic() - t0) / 60:5.1f} {written[0]:9d} {c:9d} "
          f"{s[0]:9.1f} MiB {s[1]:7.1f} {s[2]:7.1f} {i[0]:9.1f} MiB {i[1]:7.1f} "
          f"{i[2]:7.1f} {redis_mem():10.1f}", flush=True)
stop.set()
w.join()
n = written[0]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    call("POST", f"/{prefix}-*/_refresh")
    c = call("GET", f"/{prefix}-*/_count").get("count", -1)
    if c >= n:
        break
    time.sleep(1)
for d in ("shipper", "indexer"):
    procs[d].send_signal(signal.SIGTERM)
    procs[d].wait(timeout=60)
print(f"end: {n} lines written, {c} documents indexed"
      + (" (all, once each: ids are the lines' own)" if c == n else " MISMATCH"),
      flush=True)
drop_pipeline(es, prefix)
sys.exit(0 if c == n else 1)
PY
