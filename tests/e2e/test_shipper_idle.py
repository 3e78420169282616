#!/usr/bin/env python3
"""The shipper at rest through the real `sluice-shipper run`: with inotify
it sleeps until a real deadline (no tick a second, no pending check of
Redis while nothing waits to be sent), and polling (`"inotify": false`)
reads a file only when it grew, each poll a fstat of each open file.

usage: test_shipper_idle.py SLUICE_SHIPPER
"""
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, case, eq,  # noqa: E402
                             failures, http_port, redis_output, wait_for,
                             write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-idle-")
scratch = functools.partial(shipper_harness.scratch, TMP)
FILES, LINES = 40, 3


def make_files(d):
    for i in range(FILES):
        with open(os.path.join(d, "logs", f"app-{i}.log"), "w") as f:
            for k in range(LINES):
                f.write(f"file {i} line {k}\n")


def voluntary_switches(pid):
    """Voluntary context switches of every thread: each one a sleep (in
    poll(2), a condition variable) that ended."""
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        n += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended in between
    return n


def read_calls(pid):
    """syscr of /proc/PID/io: read(2)-like calls so far (pread64 too)."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    raise AssertionError(f"no syscr in /proc/{pid}/io")


def at_most(sample, pid, most, window_s):
    """A predicate for wait_for: at most `most` more of sample(pid) within
    the next window_s seconds (the window is what is measured)."""
    def quiet():
        a = sample(pid)
        time.sleep(window_s)
        return sample(pid) - a <= most
    return quiet


@case
def inotify_at_rest_sleeps_until_a_deadline():
    # 40 files read into Redis, then nothing due before close_inactive (5
    # min) or the rescan (1 h): the daemon sleeps. It woke about twice a
    # second before: the loop's 1 s cap, the file input's 1 s tick and
    # an XLEN to Redis every pending_check_ms.
    d = scratch("inotify")
    make_files(d)
    r = Redis()
    port = http_port()
    conf = write_config(d, [{"type": "file", "scan_interval": "1h",
                             "paths": [os.path.join(d, "logs", "*.log")]}],
                        redis_output(r),
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        wait_for("every line in Redis", lambda: sh.total(
            "sluice_output_events_total") == FILES * LINES)
        wait_for("no wakeup in 2 s", at_most(voluntary_switches, sh.pid, 0,
                                            2.0), deadline_s=30)
        # a line written now is shipped: inotify wakes it
        with open(os.path.join(d, "logs", "app-7.log"), "a") as f:
            f.write("file 7 after the rest\n")
        wait_for("the new line in Redis", lambda: sh.total(
            "sluice_output_events_total") == FILES * LINES + 1)
        sh.stop()
    finally:
        sh.kill()
        r.kill()


@case
def polling_reads_only_files_that_grew():
    # Polling every 100 ms, 40 files open at their ends: each poll a
    # fstat of each (no read call), so the reads at rest are the loop's
    # own (its saver's pipe, at most one a turn). Before, each poll
    # read the KiB before each file's offset: 400 preads a second.
    d = scratch("poll")
    make_files(d)
    port = http_port()
    conf = write_config(d, [{"type": "file", "inotify": False,
                             "poll_interval": "100ms", "scan_interval": "1h",
                             "paths": [os.path.join(d, "logs", "*.log")]}],
                        None, {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        sh.wait_events(FILES * LINES)
        wait_for("at most 40 read calls in 1 s",
                 at_most(read_calls, sh.pid, 40, 1.0), deadline_s=30)
        with open(os.path.join(d, "logs", "app-9.log"), "a") as f:
            f.write("file 9 after the rest\n")
        got = sh.wait_events(FILES * LINES + 1)
        eq(got[-1]["message"], "file 9 after the rest", "the grown file read")
        sh.stop()
    finally:
        sh.kill()


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
