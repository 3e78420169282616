#!/usr/bin/env python3
"""`sluice-shipper run` at scale, through the real binary with
`output.stdout` to a file: many files in many directories written at once
with a low `max_open_files`, then some renamed, some copytruncated, some
deleted (every line once, the log files' descriptors never above the limit
in /proc/PID/fd, files closed for inactivity opened again when they grow,
deleted files' descriptors released); and new files found by the rescan
alone when inotify is off or its watch limit is reached (said once).

SLUICE_E2E_SCALE_FILES sets the number of files (default 2,000; the
issue's 10,000 takes about a minute).

usage: test_shipper_scale.py SLUICE_SHIPPER [CASE...]
"""
import functools
import json
import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, ONLY, FdWatch, Shipper, case,  # noqa: E402
                             eq, failures, wait_for, write_config)

SHIPPER = sys.argv[1]
ONLY.update(sys.argv[2:])
TMP = shipper_harness.tmp_dir("sluice-e2e-scale-")
scratch = functools.partial(shipper_harness.scratch, TMP)
N = int(os.environ.get("SLUICE_E2E_SCALE_FILES", "2000"))


def put(path, lines, mode="a"):
    with open(path, mode) as f:
        f.write("".join(l + "\n" for l in lines))


def copytruncate(p, i, want):
    """A line, then p copied to p.1 and truncated, then a line: both in
    want."""
    put(p, [f"{i} before copy"])
    want.append(f"{i} before copy")
    shutil.copyfile(p, p + ".1")
    with open(p, "r+") as f:
        f.truncate(0)
    put(p, [f"{i} after truncate"])
    want.append(f"{i} after truncate")


def by_file(events):
    """{message: count} of every event."""
    got = {}
    for e in events:
        got[e["message"]] = got.get(e["message"], 0) + 1
    return got


def check_once(got, want):
    counts = by_file(got)
    twice = [m for m, c in counts.items() if c > 1]
    missing = [m for m in want if m not in counts]
    extra = [m for m in counts if m not in want]
    eq((len(missing), missing[:3]), (0, []), "lines missing")
    eq((len(twice), twice[:3]), (0, []), "lines twice")
    eq((len(extra), extra[:3]), (0, []), "lines never written")


@case
def many_files_rotated_and_deleted_under_a_low_open_files_limit():
    d = scratch("many")
    logs = os.path.join(d, "logs")
    rnd = random.Random(11)
    paths = [os.path.join(logs, f"d{i % 97:02d}", f"s{i % 7}", f"f{i}.log")
             for i in range(N)]
    for p in paths:
        os.makedirs(os.path.dirname(p), exist_ok=True)
    limit = 64
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "**", "*.log*")],
                             "max_open_files": limit,
                             "close_inactive": "300ms",
                             "rotate_wait": "300ms",
                             "scan_interval": "500ms"}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    fdmax = FdWatch(sh, logs + "/")
    want = []
    try:
        # every file written at once, while the daemon runs
        for i, p in enumerate(paths):
            lines = [f"{i} first {k}" for k in range(3)]
            put(p, lines)
            want += lines
        sh.wait_events(len(want), "the first lines")
        # then: a tenth renamed and a new file created, a fifth
        # copytruncated (400 of 2,000: more than the 256 copies' originals
        # the input once remembered), a tenth deleted; more lines in a
        # tenth of the rest, later in another tenth
        order = list(range(N))
        rnd.shuffle(order)
        k = N // 10
        renamed, copied = order[:k], order[k:3 * k]
        deleted, grown, late = (order[3 * k:4 * k], order[4 * k:5 * k],
                                order[5 * k:6 * k])
        for i in renamed:
            p = paths[i]
            put(p, [f"{i} before rename"])
            want.append(f"{i} before rename")
            os.rename(p, p + ".1")
            put(p, [f"{i} after rename"], "w")
            want.append(f"{i} after rename")
        for i in copied:
            copytruncate(paths[i], i, want)
        for i in deleted:
            os.unlink(paths[i])
        for i in grown:
            put(paths[i], [f"{i} grown"])
            want.append(f"{i} grown")
        got = sh.wait_events(len(want), "the lines after the rotations")
        sh.alive()
        # quiet: every file closed, the deleted ones too
        wait_for("every log file closed", lambda: not [
            f for f in sh.fds() if f.startswith(logs + "/") or
            f.endswith("(deleted)")], deadline_s=120)
        # closed for inactivity, opened again when they grow
        for i in late:
            put(paths[i], [f"{i} late"])
            want.append(f"{i} late")
        got = sh.wait_events(len(want), "the late lines")
    finally:
        fdmax.stop()
        got = sh.stop()
    check_once(got, want)
    print(f"     {N} files: at most {fdmax.max_logs} log files open "
          f"(limit {limit}), {len(got)} events")
    if fdmax.max_logs > limit:
        raise AssertionError(f"{fdmax.max_logs} log files open at once, "
                             f"over max_open_files {limit}")


@case
def four_hundred_files_copytruncated_while_stopped():
    # logrotate's copytruncate over a whole directory while the shipper is
    # stopped: at restart each truncated file's first bytes are kept (its
    # ghost) until its copy is found; the input kept 256 of them, so the
    # copies of the others were read from their start: their lines twice
    d = scratch("stopped")
    logs = os.path.join(d, "logs")
    n = 400
    paths = [os.path.join(logs, f"d{i % 8}", f"f{i}.log") for i in range(n)]
    for p in paths:
        os.makedirs(os.path.dirname(p), exist_ok=True)
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "**", "*.log*")],
                             "max_open_files": 64,
                             "close_inactive": "300ms"}])
    want = []
    for i, p in enumerate(paths):
        lines = [f"{i} first {k}" for k in range(3)]
        put(p, lines)
        want += lines
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(want), "the first lines")
    finally:
        got = sh.stop()
    for i, p in enumerate(paths):
        copytruncate(p, i, want)
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(want) - len(got), "the lines after the restart")
        # and nothing more once every copy is read
        wait_for("every copy read", lambda: sum(
            1 for e in sh.events() if e["log"]["file"]["path"].endswith(
                ".1")) >= n or len(sh.events()) > len(want))
    finally:
        got2 = sh.stop()
    check_once(got + got2, want)


def limited(d, setting, value):
    """A program that runs the shipper in a user namespace of its own,
    where the inotify limit `setting` (/proc/sys/user/SETTING) is value:
    the host's limit is left alone. Its pid is the shipper's (exec)."""
    path = os.path.join(d, "limited.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f"exec unshare -Ur sh -c 'echo {value} > "
                f"/proc/sys/user/{setting} && exec \"$0\" \"$@\"' "
                f"{SHIPPER} \"$@\"\n")
    os.chmod(path, 0o755)
    return path


def found_by_scans(setting, value, said):
    d = scratch(f"{setting}-{value}")
    logs = os.path.join(d, "logs")
    dirs = [os.path.join(logs, f"d{i}") for i in range(12)]
    want = []
    for i, p in enumerate(dirs):
        os.makedirs(p)
        put(os.path.join(p, "old.log"), [f"{i} old"])
        want.append(f"{i} old")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "**", "*.log")],
                             "scan_interval": "300ms",
                             "poll_interval": "100ms"}])
    sh = Shipper(limited(d, setting, value), ENV, conf, d)
    try:
        sh.wait_events(len(want), "the first lines")
        for r in range(3):  # new files, new directories, appended lines
            for i, p in enumerate(dirs):
                put(os.path.join(p, f"new{r}.log"), [f"{i} new {r}"])
                put(os.path.join(p, "old.log"), [f"{i} more {r}"])
                want += [f"{i} new {r}", f"{i} more {r}"]
            p = os.path.join(logs, f"e{r}", "deep")
            os.makedirs(p)
            put(os.path.join(p, "x.log"), [f"e{r} x"])
            want.append(f"e{r} x")
            sh.wait_events(len(want), f"the lines of round {r}")
        scans = sh.text().count(said)
    finally:
        got = sh.stop()
    check_once(got, want)
    eq(scans, 1, f"times the log says {said!r}")


@case
def the_watch_limit_reached_new_files_found_by_the_scan_said_once():
    found_by_scans("max_inotify_watches", 3,
                   "the inotify watch limit is reached")


@case
def inotify_unavailable_new_files_found_by_the_scan_said_once():
    found_by_scans("max_inotify_instances", 0,
                   "cannot watch for changes with inotify")


def real_entries(d):
    """The registry's entries as saved, but ghosts' (the first bytes of a
    truncated file, kept 5 minutes for its copy: their inode's top bit)."""
    try:
        with open(os.path.join(d, "data", "registry.json")) as f:
            ents = json.load(f)["entries"]
    except (OSError, ValueError):
        return None
    return sorted(e["path"] for e in ents if e["ino"] < 1 << 63)


@case
def deleted_files_leave_the_registry():
    # logrotate's `rotate 1`: app.log.1 deleted, app.log renamed to it, a
    # new app.log; and files deleted outright, open or closed. Each
    # deleted file's entry stayed for the 7-day expiry: the registry grew
    # by one a rotation (on main: 3 files on disk, 23 entries after 10
    # rotations of 2 files and 3 deletions)
    d = scratch("gone")
    logs = os.path.join(d, "logs")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log*")],
                             "rotate_wait": "100ms",
                             "close_inactive": "300ms",
                             "scan_interval": "300ms"}])
    apps = [os.path.join(logs, f"app{k}.log") for k in range(2)]
    others = [os.path.join(logs, f"other{k}.log") for k in range(3)]
    want = []
    for p in apps + others:
        put(p, [f"{p} 0"])
        want.append(f"{p} 0")
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(want))
        for r in range(5):
            for p in apps:
                if os.path.exists(p + ".1"):
                    os.unlink(p + ".1")
                os.rename(p, p + ".1")
                put(p, [f"{p} {r + 1}"])
                want.append(f"{p} {r + 1}")
            sh.wait_events(len(want))
        os.unlink(others[0])  # open
        wait_for("the others closed", lambda: not [
            f for f in sh.fds() if os.path.basename(f).startswith("other")])
        os.unlink(others[1])  # closed
        on_disk = sorted(os.path.join(logs, f) for f in os.listdir(logs))
        wait_for("a registry of the files on disk",
                 lambda: real_entries(d) == on_disk, deadline_s=10)
    finally:
        got = sh.stop()
    check_once(got, want)
    eq(real_entries(d), on_disk, "the registry's files after the stop")


@case
def files_with_the_same_line_each_read_once():
    # per-job logs that begin alike: 1,000 files holding the same line,
    # next to 1,000 of their own lines and 50 empty ones, all written
    # before the start. Each is a file of its own (another inode the
    # registry never saw), read once from 0. Each found after one like it
    # was read was held for rotate_wait as its copy ("a copy of a file
    # read before"), and read from that one's offset, its line lost, if
    # that one was deleted meanwhile
    d = scratch("same")
    job = os.path.join(d, "logs", "job{}.log").format
    # a file held as a copy would wait rotate_wait: past the deadline
    conf = write_config(d, [dict(type="file", paths=[job("*")],
                                 max_open_files=64, rotate_wait="30s")])
    same = "2026-12-05T20:00:00Z job started"
    want = {}
    for i in range(2050):
        p = job(i)
        line = same if i < 1000 else f"job {i} done" if i < 2000 else None
        put(p, [line] if line else [])
        if line:
            want[p] = line
    time.sleep(1.2)  # written a second before the start: none a copy
    out, err = shipper_harness.run_once(SHIPPER, conf)
    got = {}
    for e in shipper_harness.json_lines(out):
        got.setdefault(e["log"]["file"]["path"], []).append(
            (e["log"]["offset"], e["message"]))
    bad = [p for p in want if got.get(p) != [(0, want[p])]]
    eq((len(bad), [(p, got.get(p)) for p in bad[:3]]), (0, []),
       "files not read once from 0")
    eq(sorted(set(got) - set(want)), [], "events of files never written")
    eq([l for l in err.splitlines() if "a copy of" in l][:3], [],
       "files taken for copies")
    out, _ = shipper_harness.run_once(SHIPPER, conf)
    eq(out, "", "a second run --once")


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
