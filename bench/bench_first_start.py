#!/usr/bin/env python3
"""bench_first_start.py: `sluice-shipper run --once` to stdout over many
small files, first start (no registry: every file new) and a second start
over the same files with the first run's registry (nothing new).

    bench/bench_first_start.py [--files N] [--runs R] [--dir DIR]
                               [--no-build] [--keep]

N files (20,000) in one directory under DIR (a tmpfs, /dev/shm by
default), one glob: of every 20, one is empty, one holds the same line as
every other such file (per-job logs that begin alike: each is a file of
its own and must be read), the others one line each of their own (lengths
vary with the number: many fingerprints shorter than others). Each run:
wall seconds, user and sys CPU-s, peak RSS (/usr/bin/time), and a check
that every non-empty file's line was printed exactly once (the events'
log.file.path). Runs alternate between binaries when SLUICE_SHIPPER names
several, separated by ':' (before:after), and the medians are printed.
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_lib import build_shipper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAME = "2026-12-05T20:00:00Z job started\n"


def make_files(logs, n):
    os.makedirs(logs)
    want = set()
    for i in range(n):
        path = os.path.join(logs, f"job{i}.log")
        with open(path, "w") as f:
            if i % 20 == 0:
                continue
            f.write(SAME if i % 20 == 1 else
                    f"2026-12-05T20:00:00Z job {i} done\n")
        want.add(path)
    return want


def check(out, want):
    got = collections.Counter()
    with open(out) as f:
        for line in f:
            got[json.loads(line)["log"]["file"]["path"]] += 1
    twice = [p for p, c in got.items() if c != 1]
    missing = want - set(got)
    extra = set(got) - want
    if twice or missing or extra:
        sys.exit(f"wrong events: {len(missing)} files missing (e.g. "
                 f"{sorted(missing)[:3]}), {len(twice)} more than once, "
                 f"{len(extra)} not expected")
    return sum(got.values())


def once(shipper, conf, out):
    t0 = time.monotonic()
    with open(out, "w") as o:
        r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", shipper, "-c",
                            conf, "run", "--once"], stdout=o,
                           stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"run --once failed: {r.stderr[-2000:]}")
    u, s, m = r.stderr.strip().splitlines()[-1].split()
    return {"wall": wall, "user": float(u), "sys": float(s), "rss": int(m)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (printed)")
    args = ap.parse_args()
    os.chdir(ROOT)
    if not args.no_build:
        build_shipper(ROOT)
    shippers = os.environ.get("SLUICE_SHIPPER", os.path.join(
        ROOT, "build/release/bin/sluice-shipper")).split(":")
    work = tempfile.mkdtemp(prefix="bench_first_start.", dir=args.dir)
    try:
        logs = os.path.join(work, "logs")
        want = make_files(logs, args.files)
        # files written in the second before the start may be copies made
        # as it started (find_original): these were written long before
        time.sleep(1.5)
        print(f"{args.files} files ({len(want)} not empty, "
              f"{sum(1 for i in range(args.files) if i % 20 == 1)} "
              f"holding the same line) in {logs}")
        data = os.path.join(work, "data")
        conf = os.path.join(work, "shipper.json")
        with open(conf, "w") as f:
            json.dump({"host": {"name": "bench-first-start"},
                       "data_dir": data,
                       "inputs": [{"type": "file",
                                   "paths": [os.path.join(logs, "*.log")]}],
                       "output": {"stdout": {}}}, f)
        out = os.path.join(work, "out.json")
        rows = {(s, case): [] for s in shippers
                for case in ("first", "restart")}
        for run in range(args.runs):
            for s in shippers:
                shutil.rmtree(data, ignore_errors=True)
                r = once(s, conf, out)
                r["events"] = check(out, want)
                rows[(s, "first")].append(r)
                r = once(s, conf, out)
                if os.path.getsize(out) != 0:
                    sys.exit("the second start shipped events again")
                rows[(s, "restart")].append(r)
                print(f"run {run} {s}: first {rows[(s, 'first')][-1]}, "
                      f"restart {r}", flush=True)
        for (s, case), rs in rows.items():
            cols = []
            for k in ("wall", "user", "sys"):
                vs = [r[k] for r in rs]
                cols.append(f"{k} {statistics.median(vs):.2f}s "
                            f"({min(vs):.2f}-{max(vs):.2f})")
            rss = statistics.median(r["rss"] for r in rs) / 1024
            cols.append(f"peak RSS {rss:.1f} MiB")
            print(f"{s} {case:8} " + ", ".join(cols))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
