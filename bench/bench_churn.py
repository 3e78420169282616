#!/usr/bin/env python3
"""bench_churn.py: `sluice-shipper run` while files keep appearing and
disappearing, to see that its memory, descriptors and registry follow the
files on disk and do not grow with the files it has ever seen (DESIGN.md:
memory stays flat over a long run).

    bench/bench_churn.py [--minutes 4] [--new 50] [--life 20] [--quiet 5]
                         [--dirs 20] [--sample 15] [--poll]

A writer creates --new files a second (logs/dK/fN.log, K = N mod --dirs,
one `**` glob), appends a line to each live file every second for --life
seconds, then leaves it --quiet seconds (read to its end by then) and
deletes it: about new x (life + quiet) files on disk at once (1,250), more
than the 512 descriptors of max_open_files, every file new to the shipper
once. The release daemon (build/release/bin/sluice-shipper, or
SLUICE_SHIPPER) ships into a redis-server of its own (stream mode, codec
none), whose entries the script reads and deletes as it goes (as an
indexer would). --poll: `"inotify": false`.

Every --sample seconds: the daemon's RSS (VmRSS) and its peak (VmHWM), its
descriptors (/proc/PID/fd), the registry's entries (registry.json as
saved), the files on disk, the files ever made, the lines written and in
Redis. At the end: every line written arrived exactly once, and exit 1 if
the RSS of the last sample passed the first one taken after a minute by
more than 2 MiB, or the registry holds more entries beyond the files on
disk than the ghosts may be (256 and one a file, and the files made within
two scans).
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from shipper_harness import (ENV, Redis, Shipper, free_port,  # noqa: E402
                             metric_sum, redis_output, wait_for,
                             write_config)
from soak_shipper import proc, registry_entries  # noqa: E402


class Churn:
    def __init__(self, logs, args):
        self.logs, self.a = logs, args
        for k in range(args.dirs):
            os.makedirs(os.path.join(logs, f"d{k}"))
        self.live = []  # [path, born, lines]
        self.made = self.written = 0
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)

    def _new(self, now):
        n = self.made
        p = os.path.join(self.logs, f"d{n % self.a.dirs}", f"f{n}.log")
        self.made += 1
        self.live.append([p, now, 0])

    def _run(self):
        t0 = time.monotonic()
        last_write = t0
        while not self.stopping:
            now = time.monotonic()
            while self.made < int((now - t0) * self.a.new):
                self._new(now)
            writing = now - last_write >= 1.0
            if writing:
                last_write = now
            keep = []
            for f in self.live:
                p, born, k = f
                age = now - born
                if age >= self.a.life + self.a.quiet:
                    os.unlink(p)
                    continue
                if k == 0 or (writing and age < self.a.life):
                    with open(p, "a") as fh:
                        fh.write(f"{p} line {k} {'x' * 40}\n")
                    f[2] += 1
                    self.written += 1
                keep.append(f)
            self.live = keep
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=4)
    ap.add_argument("--new", type=int, default=50)
    ap.add_argument("--life", type=float, default=20)
    ap.add_argument("--quiet", type=float, default=5)
    ap.add_argument("--dirs", type=int, default=20)
    ap.add_argument("--sample", type=float, default=15)
    ap.add_argument("--poll", action="store_true")
    args = ap.parse_args()
    shipper = os.environ.get(
        "SLUICE_SHIPPER", os.path.join(ROOT, "build/release/bin/sluice-shipper"))
    d = tempfile.mkdtemp(prefix="sluice-churn-")
    logs = os.path.join(d, "logs")
    r = Redis()
    port = free_port()
    conf = write_config(d, [{"type": "file", "inotify": not args.poll,
                             "paths": [os.path.join(logs, "**", "*.log")]}],
                        redis_output(r), {"http": {"listen": f"127.0.0.1:{port}"}})
    w = Churn(logs, args)
    sh = Shipper(shipper, ENV, conf, d, port=port)
    got, ok = {}, True
    reg = os.path.join(d, "data", "registry.json")

    def drain():
        for _, evs in r.entries("e2e:events", delete=True):
            for _, _, e in evs:
                got[e["message"]] = got.get(e["message"], 0) + 1

    def hwm():
        with open(f"/proc/{sh.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0

    print(f"{'s':>5} {'rss MiB':>8} {'peak':>6} {'fds':>4} {'registry':>8} "
          f"{'on disk':>7} {'made':>7} {'written':>8} {'in redis':>8}")
    w.t.start()
    t0 = time.monotonic()
    base, last, worst_reg, room = None, None, 0, 0
    try:
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(args.sample)
            drain()
            rss, fds = proc(sh.pid)
            disk = sum(len(fs) for _, _, fs in os.walk(logs))
            ents = registry_entries(reg)
            s = time.monotonic() - t0
            print(f"{s:5.0f} {rss:8.1f} {hwm():6.1f} {fds:4d} {ents:8d} "
                  f"{disk:7d} {w.made:7d} {w.written:8d} "
                  f"{sum(got.values()):8d}", flush=True)
            if s >= 60:
                base = rss if base is None else base
                last = rss
                worst_reg = max(worst_reg, ents - disk)
                # the ghosts of files gone while closed (in_file_rotate.c:
                # IN_FILE_GHOSTS_MAX and one a file, kept 5 minutes), and
                # the files made since the last scan
                room = max(room, disk + 256 + 2 * args.new * 10)
        w.stopping = True
        w.t.join()
        wait_for("every line in Redis", lambda: drain() or
                 sum(got.values()) >= w.written, deadline_s=120)
        m = sh.metrics()
    finally:
        w.stopping = True
        sh.stop()
        r.kill()
    twice = sum(1 for c in got.values() if c > 1)
    missing = w.written - len(got)
    print(f"made {w.made} files, written {w.written} lines, in Redis "
          f"{sum(got.values())} ({twice} twice, {missing} missing); "
          f"sluice_shipper_lines_total "
          f"{metric_sum(m, 'sluice_shipper_lines_total'):.0f}")
    grew = base is not None and last > base + 2
    print(f"rss after 1 min {base} MiB, at the end {last} MiB; registry at "
          f"most {worst_reg} entries more than the files on disk")
    ok = twice == 0 and missing == 0 and not grew and worst_reg <= room
    shutil.rmtree(d, ignore_errors=True)
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
