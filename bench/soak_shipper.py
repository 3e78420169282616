#!/usr/bin/env python3
"""soak_shipper.py: `sluice-shipper run` alone under steady load for a few
minutes, to see that its memory, its descriptors and its registry stay
flat and that /metrics says what Redis received (no Elasticsearch: soak.sh
is the whole pipeline's, for an hour).

    bench/soak_shipper.py [--minutes 3] [--rate 2000] [--rotate 5]
                          [--files 20] [--sample 10]

A writer appends --rate lines a second, spread over --files files
(logs/fK/app.log), and every --rotate seconds rotates one of them, by
turns renamed and copytruncated (copied to app.log.1, then truncated:
between two writes, so nothing falls in copytruncate's gap), the last
app.log.1 deleted first, as logrotate's `rotate 1` does. `paths` is
logs/*/app.log*, so each rotated file is finished from app.log.1. The
release daemon (build/release/bin/sluice-shipper, or SLUICE_SHIPPER)
ships into a redis-server of its own (stream mode, codec none), whose
entries the script reads and deletes as it goes (as an indexer would).

Every --sample seconds: the daemon's RSS, its descriptors
(/proc/PID/fd), the registry's entries (registry.json as saved), the
files on disk, the lines written, the events in Redis and
sluice_shipper_events_total. At the end: every line written arrived
exactly once (by its text), and the /metrics counters equal what Redis
received (events, batches). Exit 1 on a mismatch or growth past the
first sample's RSS + 2 MiB, or of the descriptors not held by a file on
disk past the first sample's + 4.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from shipper_harness import (ENV, Redis, Shipper, free_port,  # noqa: E402
                             metric_sum, redis_output, wait_for,
                             write_config)


class Writer:
    def __init__(self, logs, files, rate, rotate_s):
        self.paths = []
        for k in range(files):
            os.makedirs(os.path.join(logs, f"f{k}"))
            self.paths.append(os.path.join(logs, f"f{k}", "app.log"))
        self.rate, self.rotate_s = rate, rotate_s
        self.written = 0
        self.rotations = {"rename": 0, "copytruncate": 0}
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)

    def _rotate(self, n):
        p = self.paths[n % len(self.paths)]
        if not os.path.exists(p):
            return
        if os.path.exists(p + ".1"):
            os.unlink(p + ".1")
        if n % 2 == 0:
            os.rename(p, p + ".1")
            self.rotations["rename"] += 1
        else:
            shutil.copyfile(p, p + ".1")
            with open(p, "r+") as f:
                f.truncate(0)
            self.rotations["copytruncate"] += 1

    def _run(self):
        t0 = time.monotonic()
        nrot = 0
        while not self.stopping:
            now = time.monotonic()
            due = int((now - t0) * self.rate)
            by = {}
            while self.written < due:
                i = self.written
                by.setdefault(self.paths[i % len(self.paths)], []).append(
                    f"{i:09d} soak line {'x' * 60}\n")
                self.written += 1
            for p, lines in by.items():
                with open(p, "a") as f:
                    f.write("".join(lines))
            if now - t0 >= (nrot + 1) * self.rotate_s:
                self._rotate(nrot)
                nrot += 1
            time.sleep(0.01)


def proc(pid):
    with open(f"/proc/{pid}/status") as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    return (int(st["VmRSS"].split()[0]) / 1024,
            len(os.listdir(f"/proc/{pid}/fd")))


def registry_entries(path):
    try:
        with open(path) as f:
            return len(json.load(f)["entries"])
    except (OSError, ValueError, KeyError):
        return -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--rotate", type=float, default=5)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--sample", type=float, default=10)
    args = ap.parse_args()
    shipper = os.environ.get(
        "SLUICE_SHIPPER", os.path.join(ROOT, "build/release/bin/sluice-shipper"))
    d = tempfile.mkdtemp(prefix="sluice-soak-shipper-")
    logs = os.path.join(d, "logs")
    r = Redis()
    r.start()
    port = free_port()
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*", "app.log*")]}],
                        redis_output(r), {"http": {"listen": f"127.0.0.1:{port}"}})
    w = Writer(logs, args.files, args.rate, args.rotate)
    for p in w.paths:
        open(p, "w").close()
    sh = Shipper(shipper, ENV, conf, d, port=port)
    got, batches, ok = {}, 0, True
    reg = os.path.join(d, "data", "registry.json")

    def drain():
        nonlocal batches
        for _, evs in r.entries("e2e:events", delete=True):
            batches += 1
            for _, _, e in evs:
                got[e["message"]] = got.get(e["message"], 0) + 1

    print(f"{'s':>5} {'rss MiB':>8} {'fds':>4} {'registry':>8} "
          f"{'on disk':>7} {'written':>9} {'in redis':>9} {'events':>9}")
    w.t.start()
    t0 = time.monotonic()
    first = None
    try:
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(args.sample)
            drain()
            rss, fds = proc(sh.pid)
            disk = sum(len(fs) for _, _, fs in os.walk(logs))
            ev = metric_sum(sh.metrics(), "sluice_shipper_events_total")
            print(f"{time.monotonic() - t0:5.0f} {rss:8.1f} {fds:4d} "
                  f"{registry_entries(reg):8d} {disk:7d} {w.written:9d} "
                  f"{sum(got.values()):9d} {ev:9.0f}", flush=True)
            # each file open (a rotated app.log.1 is matched: a live file,
            # closed after close_inactive), and the daemon's own
            if first is None:
                first = (rss, fds - disk)
            elif rss > first[0] + 2 or fds - disk > first[1] + 4:
                ok = False
        w.stopping = True
        w.t.join()
        wait_for("every line in Redis", lambda: drain() or
                 sum(got.values()) >= w.written, deadline_s=60)
        m = sh.metrics()
        rss, fds = proc(sh.pid)
    finally:
        w.stopping = True
        sh.stop()
        r.kill()
    twice = sum(1 for c in got.values() if c > 1)
    for m in [m for m, c in got.items() if c > 1][:5]:
        print(f"twice: {m[:30]}")
    missing = w.written - len(got)
    print(f"written {w.written}, in Redis {sum(got.values())} "
          f"({twice} twice, {missing} missing), rotations {w.rotations}")
    checks = {
        "sluice_shipper_events_total": (metric_sum(
            m, "sluice_shipper_events_total"), sum(got.values())),
        "sluice_output_events_total": (metric_sum(
            m, "sluice_output_events_total"), sum(got.values())),
        "sluice_output_batches_total": (metric_sum(
            m, "sluice_output_batches_total"), batches),
        "sluice_shipper_lines_total": (metric_sum(
            m, "sluice_shipper_lines_total"), w.written),
    }
    for name, (have, want) in checks.items():
        print(f"{name} {have:.0f}, Redis/writer {want}")
        ok = ok and have == want
    print(f"end: rss {rss:.1f} MiB, {fds} descriptors, registry "
          f"{registry_entries(reg)} entries")
    ok = ok and twice == 0 and missing == 0
    shutil.rmtree(d, ignore_errors=True)
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
