#!/usr/bin/env python3
"""bench_cuts.py: what multiline cuts cost the shipper (shipper/registry.h,
cuts): an event completed by multiline.timeout is recorded in the registry,
and the batch that carries it is sent only once a save put the cut on disk.

    bench/bench_cuts.py [--files F] [--rounds R] [--timeout-ms T]
                        [--dir DIR]

F files (100) with the python preset and multiline.timeout T (100 ms), a
redis-server of its own (stream mode, default output settings). R rounds
(20): one line written to each file, then nothing until every file's
event is in the stream, so each event is completed by the timeout: F cuts
a round. Reported, per round: the time from the writes to the last of
the round's events in the stream, less the timeout (the batch's age, the
save, the send); and for the run: the shipper's CPU-s (utime + stime,
/proc/PID/stat) and its registry saves (registry.json renamed into place,
counted with inotify). SLUICE_SHIPPER names another
binary (before/after); the tree's build/release/bin/sluice-shipper by
default.
"""
import argparse
import ctypes
import json
import os
import struct
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_lib import free_port, redis_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Renames(threading.Thread):
    """Counts the files renamed into a directory (IN_MOVED_TO) by name."""

    def __init__(self, path):
        super().__init__(daemon=True)
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(0)
        if self.fd < 0 or libc.inotify_add_watch(
                self.fd, path.encode(), 0x80) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.n = {}
        self.start()

    def run(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except OSError:
                return
            at = 0
            while at < len(buf):
                _, _, _, ln = struct.unpack_from("iIII", buf, at)
                name = buf[at + 16:at + 16 + ln].rstrip(b"\0").decode()
                self.n[name] = self.n.get(name, 0) + 1
                at += 16 + ln


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--timeout-ms", type=int, default=100)
    ap.add_argument("--dir", default=None)
    a = ap.parse_args()
    shipper = os.environ.get("SLUICE_SHIPPER", os.path.join(
        ROOT, "build", "release", "bin", "sluice-shipper"))
    tmp = tempfile.mkdtemp(prefix="bench-cuts-", dir=a.dir)
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly",
                              "no"], stdout=subprocess.DEVNULL)
    sh = None
    try:
        while subprocess.run(["redis-cli", "-p", str(port), "PING"],
                             capture_output=True).returncode != 0:
            time.sleep(0.01)
        logs = os.path.join(tmp, "logs")
        os.makedirs(logs)
        paths = [os.path.join(logs, f"f{i}.log") for i in range(a.files)]
        for p in paths:
            open(p, "w").close()
        conf = os.path.join(tmp, "shipper.json")
        with open(conf, "w") as f:
            json.dump({"data_dir": os.path.join(tmp, "data"),
                       "inputs": [{"type": "file",
                                   "paths": [os.path.join(logs, "*.log")],
                                   "multiline": {
                                       "preset": "python",
                                       "timeout": f"{a.timeout_ms}ms"}}],
                       "output": {"redis": {
                           "url": f"redis://127.0.0.1:{port}/0",
                           "key": "b:events"}},
                       "log": {"level": "warn"}}, f)
        sh = subprocess.Popen([shipper, "-c", conf, "run"],
                              stderr=open(os.path.join(tmp, "log"), "w"))
        data = os.path.join(tmp, "data")
        while not os.path.exists(os.path.join(data, "registry.json")):
            time.sleep(0.01)
        watch = Renames(data)
        cpu0 = cpu_s(sh.pid)
        lat = []
        for r in range(a.rounds):
            t0 = time.monotonic()
            for p in paths:
                with open(p, "a") as f:
                    f.write(f"2026-12-05 10:00:00 INFO round {r}\n")
            want = (r + 1) * a.files
            while int(redis_cli(port, "XLEN", "b:events") or 0) < 1 or \
                    count(port) < want:
                time.sleep(0.002)
            lat.append((time.monotonic() - t0) * 1000 - a.timeout_ms)
            if os.environ.get("BENCH_CUTS_VERBOSE"):
                print(f"round {r}: {lat[-1]:.1f} ms", flush=True)
        cpu = cpu_s(sh.pid) - cpu0
        time.sleep(0.2)
        saves = watch.n.get("registry.json", 0)
        print(f"{os.path.basename(shipper)} {a.files} files x {a.rounds} "
              f"rounds, timeout {a.timeout_ms} ms: after the timeout, "
              f"median {statistics.median(lat):.1f} ms (min {min(lat):.1f},"
              f" max {max(lat):.1f}); shipper {cpu:.3f} CPU-s; registry "
              f"saves {saves}")
    finally:
        for p in (sh, redis):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def count(port):
    """Events in the stream: the sum of the entries' counts."""
    out = subprocess.run(["redis-cli", "-p", str(port), "XRANGE", "b:events",
                          "-", "+"], capture_output=True).stdout.decode(
                              errors="replace").split("\n")
    n = 0
    for i, line in enumerate(out):
        if line == "count" and i + 1 < len(out):
            n += int(out[i + 1])
    return n


if __name__ == "__main__":
    sys.exit(main())
