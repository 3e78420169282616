#!/usr/bin/env python3
"""bench_idle.py: what `sluice-shipper run` costs while nothing happens
(issue 12's benchmark: "idle cost, CPU per hour with 1,000 quiet files").

    bench/bench_idle.py [--minutes M] [--files N] [--dirs D] [--lines L]
                        [--only inotify|poll] [--settle S] [--no-build]
                        [--multiline PRESET] [--multiline-pattern RE]

N files (1,000) of L lines (20) in D directories two levels deep
(logs/dK/sub/app-J.log), matched by one `**` glob, are read to their ends by
the release daemon into a redis-server of its own (stream mode, default
output settings, no persistence), with an `http` endpoint for /metrics.
Once every line is in the stream (sluice_shipper_lines_total) and S seconds
more have passed (20: the first saves, a scan_interval), the window of M
minutes (5) starts; at its end the daemon is stopped. Twice: with inotify
(the default) and with `"inotify": false` (polling every poll_interval, 1s).
--multiline python|java gives the input that multiline preset (each file's
last event waits for its timeout, then nothing waits for the clock);
--multiline-pattern RE the pattern mode instead, with negate (a line that
does not match RE joins the one above; the lines start with a timestamp,
so `^%{TIMESTAMP_ISO8601} ` makes an event of each).

Over the window, from /proc (every thread of the daemon summed):
    cpu       utime + stime (/proc/PID/stat, clock ticks), CPU-s per hour
    sched     run time from /proc/PID/task/*/schedstat (ns), CPU-s per hour
    wakeups   voluntary context switches a second (each is a sleep in
              poll(2) or a blocking call that ended)
    rss       VmRSS at the end, MiB
    saves     registry.json replaced (its inode changed), sampled each 0.2 s
    redis     the server's used_cpu_user + used_cpu_sys delta, CPU-s per hour
    metrics   every sluice_* counter that moved during the window
SLUICE_SHIPPER names another binary (before/after).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_lib import build_shipper, free_port, redis_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def redis_cpu(port):
    s = 0.0
    for line in redis_cli(port, "info", "cpu").splitlines():
        if line.startswith(("used_cpu_user:", "used_cpu_sys:")):
            s += float(line.split(":")[1])
    return s


def proc_sample(pid):
    """(cpu seconds by ticks, sched ns, voluntary switches, rss KiB)"""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read().rsplit(")", 1)[1].split()
    cpu = (int(st[11]) + int(st[12])) / TICK  # utime, stime: fields 14, 15
    sched = vol = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                sched += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended between listdir and open
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return cpu, sched, vol, rss


def metrics(port):
    out = {}
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("sluice_"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
    return out


def make_files(logs, files, dirs, lines):
    for i in range(files):
        d = os.path.join(logs, f"d{i % dirs}", "sub")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"app-{i}.log"), "w") as f:
            for k in range(lines):
                f.write(f"2026-12-04T20:00:{k % 60:02d}Z file {i} line {k} "
                        f"GET /index.html 200 512\n")


def run_mode(args, shipper, work, redis_port, inotify):
    name = "inotify" if inotify else "poll"
    data = os.path.join(work, f"data-{name}")
    http_port = free_port()
    conf = {
        "host": {"name": "bench-idle"},
        "data_dir": data,
        "inputs": [{"type": "file",
                    "paths": [os.path.join(work, "logs", "**", "*.log")],
                    "inotify": inotify}],
        "output": {"redis": {"url": f"redis://127.0.0.1:{redis_port}/0"}},
        "http": {"listen": f"127.0.0.1:{http_port}"},
        "log": {"level": "info"},
    }
    if args.multiline:
        conf["inputs"][0]["multiline"] = {"preset": args.multiline}
    elif args.multiline_pattern:
        conf["inputs"][0]["multiline"] = {"pattern": args.multiline_pattern,
                                          "negate": True}
    cpath = os.path.join(work, f"{name}.json")
    with open(cpath, "w") as f:
        json.dump(conf, f)
    redis_cli(redis_port, "del", "sluice:events")
    log = open(os.path.join(work, f"{name}.log"), "w")
    p = subprocess.Popen([shipper, "-c", cpath, "run"], stderr=log,
                         stdout=subprocess.DEVNULL)
    want = args.files * args.lines
    t0 = time.monotonic()
    try:
        while True:
            if p.poll() is not None:
                sys.exit(f"{name}: the shipper exited ({p.returncode}); "
                         f"see {log.name}")
            try:
                m = metrics(http_port)
                if sum(v for k, v in m.items() if k.startswith(
                        "sluice_shipper_lines_total")) >= want:
                    break
            except OSError:
                pass
            if time.monotonic() - t0 > 300:
                sys.exit(f"{name}: not every line read after 300 s")
            time.sleep(0.2)
        read_s = time.monotonic() - t0
        time.sleep(args.settle)
        reg = os.path.join(data, "registry.json")
        m0 = metrics(http_port)
        r0 = redis_cpu(redis_port)
        s0 = proc_sample(p.pid)
        w0 = time.monotonic()
        saves, ino = 0, os.stat(reg).st_ino
        end = w0 + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(0.2)
            i = os.stat(reg).st_ino
            if i != ino:
                saves, ino = saves + 1, i
        s1 = proc_sample(p.pid)
        w1 = time.monotonic()
        r1 = redis_cpu(redis_port)
        m1 = metrics(http_port)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        log.close()
    win = w1 - w0
    per_h = 3600 / win
    moved = {k: m1[k] - m0.get(k, 0) for k in m1
             if k.endswith("_total") and m1[k] != m0.get(k, 0)}
    return {
        "mode": name, "read_s": read_s, "window_s": win,
        "cpu_s_per_h": (s1[0] - s0[0]) * per_h,
        "sched_s_per_h": (s1[1] - s0[1]) / 1e9 * per_h,
        "wakeups_per_s": (s1[2] - s0[2]) / win,
        "rss_mib": s1[3] / 1024, "saves": saves,
        "redis_s_per_h": (r1 - r0) * per_h,
        "files_open": sum(v for k, v in m1.items()
                          if k.startswith("sluice_input_files_open")),
        "moved": moved,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--dirs", type=int, default=10)
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--settle", type=float, default=20)
    ap.add_argument("--only", choices=["inotify", "poll"])
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--multiline", choices=["python", "java"])
    ap.add_argument("--multiline-pattern", metavar="RE")
    args = ap.parse_args()
    os.chdir(ROOT)
    if not args.no_build:
        build_shipper(ROOT)
    shipper = os.environ.get("SLUICE_SHIPPER",
                             os.path.join(ROOT, "build/release/bin/sluice-shipper"))
    work = tempfile.mkdtemp(prefix="bench_idle.")
    redis = None
    try:
        make_files(os.path.join(work, "logs"), args.files, args.dirs,
                   args.lines)
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                redis_cli(port, "ping")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.05)
        modes = [True, False]
        if args.only:
            modes = [args.only == "inotify"]
        print(f"{args.files} files x {args.lines} lines in {args.dirs} "
              f"directories, window {args.minutes:g} min"
              + (f", multiline {args.multiline}" if args.multiline else "")
              + (f", multiline pattern {args.multiline_pattern!r}"
                 if args.multiline_pattern else ""))
        for inotify in modes:
            r = run_mode(args, shipper, work, port, inotify)
            print(f"{r['mode']:8} read {r['read_s']:.1f}s  window "
                  f"{r['window_s']:.0f}s  cpu {r['cpu_s_per_h']:.2f} "
                  f"CPU-s/h (sched {r['sched_s_per_h']:.2f})  wakeups "
                  f"{r['wakeups_per_s']:.2f}/s  rss {r['rss_mib']:.1f} MiB  "
                  f"saves {r['saves']}  files_open {r['files_open']:g}  "
                  f"redis {r['redis_s_per_h']:.2f} CPU-s/h")
            for k, v in sorted(r["moved"].items()):
                print(f"           moved: {k} +{v:g}")
            sys.stdout.flush()
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
