#!/usr/bin/env python3
"""bench_restart.py: how long `sluice-shipper run` takes to start again
with a registry of 100,000 entries (issue 12's benchmark: "the restart time
with 100,000 registry entries").

    bench/bench_restart.py [--files N] [--runs R] [--dir DIR] [--no-build]
                           [--no-tails]

N files (100,000) of one line each in 100 directories under DIR (a tmpfs,
/dev/shm by default: the cost measured is the daemon's, not the disk's), a
registry.json of N entries written as shipper/registry_file.c reads it
(each file's real device, inode and FNV-1a fingerprint, read to its end;
with --real, made by a first `run --once` of the daemon instead, which
takes minutes at 100,000 new files), kept aside, and a redis-server of its
own (stream mode, default output settings). Then each case R times (3),
from a copy of that registry; "lines read" (sluice_shipper_lines_total)
shows that every entry matched its file (1: only the line appended):

  unchanged  every file still there: `run`, exec to the "started" log line,
             and exec to the first event of a line appended (after
             "started") to one of the files being in the stream: the first
             scan of N files is done and the daemon is shipping
  once       `run --once` with nothing new: exec to exit
  gone       every file deleted: `run`, exec to "started" and to the first
             event of a new file created after "started"; then the
             registry's entries are counted in registry.json as saved
             (expiry: an entry not seen for 7 days is dropped), for
             --gone-wait seconds (default 15)
  gone-old   as gone, but every entry's "seen" set 8 days back (the files
             went away a week ago): the saved registry must shrink to the
             one new file; the time from exec to the save that does it
             (not counted if it did not within --gone-wait seconds)

Each run: wall seconds, CPU-s (user + sys: /proc/PID/stat when the event
arrived; /usr/bin/time for --once), peak RSS (VmHWM of the process, read just before it
is stopped; /usr/bin/time for --once), and the medians.
SLUICE_SHIPPER names another binary (before/after).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from bench_lib import build_shipper, free_port, redis_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTTP_PORT = 0


def make_files(logs, n):
    for i in range(n):
        d = os.path.join(logs, f"d{i % 100:02d}")
        if i < 100:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.log"), "w") as f:
            f.write(f"2026-12-04T20:00:00Z file {i} first line\n")


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def make_registry(logs, reg, tails=True):
    """registry.json as shipper/registry_file.c reads it: every file read to
    its end, its identity (device, inode, FNV-1a 64 of its first 1024
    bytes) as file_identity.c computes it, a random event-id key, and
    (tails) the tail a shipper saves since it has them: the FNV-1a 64 of
    the up to 1024 bytes before the offset. Without tails, the format a
    shipper before them wrote (and reads)."""
    now = int(time.time())
    os.makedirs(os.path.dirname(reg), exist_ok=True)
    rows = []
    for d in sorted(os.listdir(logs)):
        for name in sorted(os.listdir(os.path.join(logs, d))):
            path = os.path.join(logs, d, name)
            st = os.stat(path)
            with open(path, "rb") as f:
                data = f.read()
            head = data[:1024]
            tail = ""
            if tails and data:
                t = data[-1024:]
                tail = (f',"tail":"{fnv1a(t):016x}","tail_len":{len(t)},'
                        f'"tail_at":{len(data)}')
            rows.append(
                f'{{"dev":{st.st_dev},"ino":{st.st_ino},'
                f'"fp":"{fnv1a(head):016x}","fp_len":{len(head)}{tail},'
                f'"key":"{os.urandom(8).hex()}","offset":{st.st_size},'
                f'"seen":{now},"path":{json.dumps(path)}}}')
    with open(reg, "w") as f:
        f.write('{"version":1,"entries":[\n' + ",\n".join(rows) + "\n]}\n")


def lines_total(port):
    import urllib.request
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        return sum(float(line.rpartition(" ")[2])
                   for line in r.read().decode().splitlines()
                   if line.startswith("sluice_shipper_lines_total"))


def write_conf(path, work, data, port):
    conf = {
        "host": {"name": "bench-restart"},
        "data_dir": data,
        "inputs": [{"type": "file",
                    "paths": [os.path.join(work, "logs", "**", "*.log")]}],
        "output": {"redis": {"url": f"redis://127.0.0.1:{port}/0"}},
        "log": {"level": "info"},
        "http": {"listen": f"127.0.0.1:{HTTP_PORT}"},
    }
    with open(path, "w") as f:
        json.dump(conf, f)


def entries(reg):
    with open(reg) as f:
        return sum(1 for line in f if '"key"' in line)


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_for(cond, what, deadline_s=120, soft=False):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if cond():
            return time.monotonic()
        time.sleep(0.005)
    if soft:
        return None
    sys.exit(f"timed out waiting for {what}")


def once_run(shipper, conf):
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", shipper, "-c", conf,
                        "run", "--once"], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"run --once failed: {r.stderr}")
    u, s, m = r.stderr.strip().splitlines()[-1].split()
    return wall, float(u) + float(s), int(m)


def daemon_run(shipper, conf, logpath, port, append, reg=None,
               shrink_to=None, gone_wait=0):
    """exec to "started", to the appended event, and (reg) the registry's
    entries afterwards. Returns a dict."""
    before = int(redis_cli(port, "xlen", "sluice:events") or 0)
    log = open(logpath, "w")
    t0 = time.monotonic()
    p = subprocess.Popen([shipper, "-c", conf, "run"], stderr=log,
                         stdout=subprocess.DEVNULL)
    out = {}
    try:
        def started():
            if p.poll() is not None:
                sys.exit(f"the shipper exited; see {logpath}")
            with open(logpath) as f:
                return re.search(r"started", f.read()) is not None
        out["started"] = wait_for(started, "started") - t0
        append()
        out["event"] = wait_for(
            lambda: int(redis_cli(port, "xlen", "sluice:events")) > before,
            "the appended event") - t0
        out["cpu"] = cpu_s(p.pid)
        if shrink_to is not None:
            t = wait_for(lambda: entries(reg) <= shrink_to,
                         "the registry to shrink", gone_wait, soft=True)
            if t is not None:
                out["shrunk"] = t - t0
        elif reg is not None:
            time.sleep(gone_wait)
        if reg is not None:
            out["entries"] = entries(reg)
        out["lines"] = lines_total(HTTP_PORT)
        out["rss"] = hwm_kib(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        log.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--gone-wait", type=float, default=15)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--no-tails", action="store_true",
                    help="entries without tails (a shipper before them "
                    "refuses a registry that has them)")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    global HTTP_PORT
    HTTP_PORT = free_port()
    os.chdir(ROOT)
    if not args.no_build:
        build_shipper(ROOT)
    shipper = os.environ.get("SLUICE_SHIPPER", os.path.join(
        ROOT, "build/release/bin/sluice-shipper"))
    work = tempfile.mkdtemp(prefix="bench_restart.", dir=args.dir)
    redis = None
    try:
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: subprocess.run(
            ["redis-cli", "-p", str(port), "ping"],
            capture_output=True).returncode == 0, "redis", 10)
        logs = os.path.join(work, "logs")
        t = time.monotonic()
        make_files(logs, args.files)
        print(f"{args.files} files made in {time.monotonic() - t:.1f}s")
        data = os.path.join(work, "data")
        conf = os.path.join(work, "shipper.json")
        write_conf(conf, work, data, port)
        reg = os.path.join(data, "registry.json")
        t = time.monotonic()
        if args.real:
            wall, cpu, rss = once_run(shipper, conf)
            print(f"first run --once (every file new): {wall:.2f}s, "
                  f"{cpu:.2f} CPU-s, peak RSS {rss / 1024:.1f} MiB")
        else:
            make_registry(logs, reg, tails=not args.no_tails)
            print(f"registry generated in {time.monotonic() - t:.1f}s")
        kept = os.path.join(work, "registry.kept")
        shutil.copy(reg, kept)
        print(f"registry {entries(reg)} entries, "
              f"{os.path.getsize(reg) / 1e6:.1f} MB")
        # the same registry with every "seen" 8 days back
        old = os.path.join(work, "registry.old")
        back = int(time.time()) - 8 * 24 * 3600
        with open(kept) as f, open(old, "w") as g:
            for line in f:
                g.write(re.sub(r'"seen":\d+', f'"seen":{back}', line))
        rows = {k: [] for k in ("unchanged", "once", "gone", "gone-old")}
        victim = os.path.join(logs, "d00", "f0.log")
        with open(victim) as f:
            victim_text = f.read()
        for run in range(args.runs):
            shutil.copy(kept, reg)
            with open(victim, "w") as f:  # the same inode, as registered
                f.write(victim_text)

            def append_line():
                with open(victim, "a") as f:
                    f.write("2026-12-04T20:00:01Z appended after start\n")
            rows["unchanged"].append(daemon_run(
                shipper, conf, os.path.join(work, "unchanged.log"), port,
                append_line))
            shutil.copy(kept, reg)
            w, c, r = once_run(shipper, conf)
            rows["once"].append({"exit": w, "cpu": c, "rss": r})
        shutil.rmtree(logs)
        os.makedirs(os.path.join(logs, "new"))
        for run in range(args.runs):
            for case, src in (("gone", kept), ("gone-old", old)):
                shutil.copy(src, reg)
                newf = os.path.join(logs, "new", f"{case}-{run}.log")

                def create_file():
                    with open(newf, "w") as f:
                        f.write("2026-12-04T20:00:01Z a new file\n")
                rows[case].append(daemon_run(
                    shipper, conf, os.path.join(work, f"{case}.log"), port,
                    create_file, reg=reg,
                    shrink_to=1 if case == "gone-old" else None,
                    gone_wait=args.gone_wait))
                os.unlink(newf)
        for case, rs in rows.items():
            cols = []
            for k in ("started", "event", "exit", "cpu", "shrunk", "entries",
                      "lines", "rss"):
                vs = [r[k] for r in rs if k in r]
                if not vs:
                    continue
                med = statistics.median(vs)
                if k == "rss":
                    cols.append(f"peak RSS {med / 1024:.1f} MiB")
                elif k == "entries":
                    cols.append(f"registry {med:.0f} entries after")
                elif k == "cpu":
                    cols.append(f"CPU {med:.2f}s ({min(vs):.2f}-"
                                f"{max(vs):.2f})")
                elif k == "lines":
                    cols.append(f"lines read {max(vs):.0f}")
                else:
                    cols.append(f"{k} {med:.3f}s ({min(vs):.3f}-"
                                f"{max(vs):.3f})")
            print(f"{case:10} " + ", ".join(cols))
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
