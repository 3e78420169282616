#!/usr/bin/env python3
"""`sluice-shipper run` and `run --once` on real-world inputs, end to end,
driving the real binary in a scratch directory with `output.stdout` (to
a file, or to a pipe read late for backpressure): a 50 MB line (cut at 1 MiB, tagged, memory
bounded), binary garbage (valid JSON, nothing lost), 1,000 files under a
`**` glob (each line once, the descriptor limit held, inactive files
closed and reopened), files that begin alike, memory with many files,
`max_line_bytes`, a line written in pieces, docker and CRI files with
partial lines, the python and java multiline presets with the traceback
processor, a traceback at the end of a file flushed by the timeout, paths
that are a directory, a FIFO or unreadable (logged once, retried), a file
deleted while being read (its descriptor released), symlinks, `start_at:
end` and `exclude`, JSON logs of common libraries behind a byte order
mark, Python errors whose message spans lines, syslog with grok's
`overwrite`.

test_shipper_run.py covers what is not here (grok and date, Redis batches,
kill -9, rotations, SIGTERM, bad configs).

usage: test_shipper_inputs.py SLUICE_SHIPPER [CASE...]
"""
import functools
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, ONLY, Shipper,  # noqa: E402
                             FdWatch, append, case, eq, failures,
                             free_port, json_lines, wait_for, write_config)

SHIPPER = sys.argv[1]
ONLY.update(sys.argv[2:])
TMP = shipper_harness.tmp_dir("sluice-e2e-inputs-")
scratch = functools.partial(shipper_harness.scratch, TMP)
MIB = 1 << 20
NOBODY = 65534
# where RSS is measured: under ASan, freed memory waits in a quarantine
# (256 MiB) before it is used again; a small one, so that RSS says what the
# shipper keeps (the variable means nothing to other builds)
MEASURED = dict(ENV, ASAN_OPTIONS=(ENV["ASAN_OPTIONS"] +
                                   ":quarantine_size_mb=1").lstrip(":"))


def run_once(conf, status=0, stdin=None):
    """run --once: its events and its stderr."""
    out, err = shipper_harness.run_once(SHIPPER, conf, stdin, status)
    return json_lines(out), err


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def messages(events):
    return [e["message"] for e in events]


def offsets_of(lines, start=0):
    """log.offset of each line of lines (bytes, each + b"\\n")."""
    offs = []
    for l in lines:
        offs.append(start)
        start += len(l) + 1
    return offs


def docker_lines(text, stream, time_, split=16384):
    """What Docker's json-file driver writes for one line of a container:
    16 KiB parts, only the last with its \\n."""
    parts = [text[i:i + split] for i in range(0, len(text), split)] or [""]
    parts[-1] += "\n"
    return "".join(json.dumps({"log": p, "stream": stream, "time": time_})
                   + "\n" for p in parts)


# --- framing: long lines, garbage ------------------------------------------

def long_line(n):
    """n bytes whose cut at any point is checkable: a letter per KiB."""
    block = bytes(range(ord("a"), ord("z") + 1)) * 40  # 1040 bytes
    return (block * (n // len(block) + 1))[:n]


@case
def a_50_mb_line_is_cut_at_1_mib_tagged_and_memory_stays_bounded():
    d = scratch("long")
    log = os.path.join(d, "logs", "app.log")
    big = long_line(50 * MIB)
    before = [b"before 1", b"before 2", big, b"after 1"]
    with open(log, "wb") as f:
        f.write(b"\n".join(before[:2]) + b"\n")
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    sh = Shipper(SHIPPER, MEASURED, conf, d)
    try:
        sh.wait_events(2)
        base = sh.status("VmHWM")  # the daemon's peak before any long line
        with open(log, "ab") as f:  # a 50 MB line in one piece
            f.write(b"\n".join(before[2:]) + b"\n")
        sh.wait_events(4)
        more = [b"mid 1", big, b"mid 2"]
        with open(log, "ab") as f:  # and one the reader sees a MiB at a time
            f.write(b"mid 1\n")
            f.flush()
            for i in range(0, len(big), MIB):
                f.write(big[i:i + MIB])
                f.flush()
            f.write(b"\nmid 2\n")
        got = sh.wait_events(7)
        hwm = sh.status("VmHWM")
        sh.alive()
    finally:
        got = sh.stop()
    lines = before + more
    eq(len(got), 7, "events")
    cut = big[:MIB].decode()
    eq([(len(e["message"]), e.get("tags")) for e in got],
       [(len(l), None) if l is not big else (MIB, ["_truncated"])
        for l in lines], "lengths and tags")
    eq([e["message"] for e in got],
       [l.decode() if l is not big else cut for l in lines], "messages")
    eq([e["log"]["offset"] for e in got], offsets_of(lines), "offsets")
    print(f"     peak RSS {base} kB before two 50 MB lines, {hwm} kB after")
    # the line (1 MiB), the event built from it (1 MiB), its JSON in a
    # batch and the batch written: a few MiB, nowhere near 50
    if hwm - base > 12 * 1024:
        raise AssertionError(f"VmHWM {base} kB -> {hwm} kB")


@case
def max_line_bytes_sets_the_limit():
    d = scratch("max-line")
    log = os.path.join(d, "logs", "app.log")
    lines = [b"a" * 4096, b"b" * 4097 + b"\r", b"c" * 4096 + b"\r", b"d"]
    with open(log, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    dock = os.path.join(d, "logs", "c-json.log")
    with open(dock, "w") as f:
        f.write(docker_lines("e" * 20000, "stdout", "2026-12-04T17:00:00Z"))
        f.write(docker_lines("f" * 4096, "stdout", "2026-12-04T17:00:01Z"))
    conf = write_config(d, [
        {"type": "file", "paths": [log], "max_line_bytes": "4KiB"},
        {"type": "file", "paths": [dock], "format": "docker",
         "max_line_bytes": "4KiB"}])
    got, _ = run_once(conf)
    eq([(e["message"][:1], len(e["message"]), e.get("tags")) for e in got],
       [("a", 4096, None), ("b", 4096, ["_truncated"]), ("c", 4096, None),
        ("d", 1, None), ("e", 4096, ["_truncated"]), ("f", 4096, None)])
    # stdin, above the default
    conf = write_config(d, [{"type": "stdin", "max_line_bytes": "2MiB"}])
    got, _ = run_once(conf, stdin=b"g" * (3 * MIB) + b"\nh\n")
    eq([(len(e["message"]), e.get("tags")) for e in got],
       [(2 * MIB, ["_truncated"]), (1, None)], "stdin")
    # a cut never splits a UTF-8 character into invalid JSON: 2048 bytes
    # of two-byte characters are 1024 of them (an input without a type
    # is a file input)
    utf8 = os.path.join(d, "logs", "utf8.log")
    with open(utf8, "wb") as f:
        f.write(b"x" * 5000 + b"\r\nshort\n" + "\u00e9".encode() * 1500
                + b"\n")
    conf = write_config(d, [{"paths": [utf8], "max_line_bytes": "2KiB"}])
    got, _ = run_once(conf)
    eq([(e["message"], e.get("tags")) for e in got],
       [("x" * 2048, ["_truncated"]), ("short", None),
        ("\u00e9" * 1024, ["_truncated"])], "UTF-8")


@case
def a_line_written_in_pieces_waits_for_its_newline_across_close_inactive():
    d = scratch("pieces")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one"])
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "close_inactive": "200ms"}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(1)
        with open(log, "a") as f:
            f.write("two, wri")
        wait_for("the file closed", lambda: log not in sh.fds())
        time.sleep(1.2)  # a batch of stdout is written after 1 s at most
        eq(messages(sh.events()), ["one"], "half a line shipped")
        with open(log, "a") as f:
            f.write("tten in pieces\r\nthree\n")
        got = sh.wait_events(3)
        sh.alive()
    finally:
        got = sh.stop()
    eq([(e["message"], e["log"]["offset"]) for e in got],
       [("one", 0), ("two, written in pieces", 4), ("three", 28)])
    # run --once ends without half a line, and the next run has it whole
    with open(log, "a") as f:
        f.write("four, wri")
    got, _ = run_once(conf)
    eq(messages(got), [], "half a line shipped by --once")
    with open(log, "a") as f:
        f.write("tten later\n")
    got, _ = run_once(conf)
    eq([(e["message"], e["log"]["offset"]) for e in got],
       [("four, written later", 34)], "the next run")

def replaced(b):
    """What the JSON writer makes of bytes: each valid UTF-8 sequence kept,
    each byte that starts none a U+FFFD."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xC2 <= c <= 0xDF else \
            3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
        try:
            out.append(b[i:i + n].decode("utf-8") if n else "\ufffd")
            i += n if n else 1
        except UnicodeDecodeError:
            out.append("\ufffd")
            i += 1
    return "".join(out)


@case
def binary_garbage_gives_valid_json_and_loses_nothing():
    d = scratch("garbage")
    log = os.path.join(d, "logs", "bin.log")
    rnd = random.Random(1205)
    records = []
    # half the records of any byte, half of the bytes that need care
    care = (b"\x00\r\x01\x1b\"\\\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
            b"\xff\xfe\xc0\xed\xa0\xf4\x90abc \t")
    table = bytes(care[rnd.randrange(len(care))] for _ in range(256))
    for i in range(2000):
        rec = rnd.randbytes(rnd.choice([1, 2, 5, 40, 300, 5000]))
        if i % 2:
            rec = rec.translate(table)
        rec = rec.replace(b"\n", b"\r")
        if i % 3 == 0:
            rec += b"\r"  # a \r\n line
        records.append(b"x" + rec)  # no empty line: each is an event
    data = b"\n".join(records) + b"\n"
    with open(log, "wb") as f:
        f.write(data)
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    got, _ = run_once(conf)
    eq(len(got), len(records), "one event per record")
    want = [replaced(r[:-1] if r.endswith(b"\r") else r) for r in records]
    for i, (e, w) in enumerate(zip(got, want)):
        eq(e["message"], w, f"record {i} ({records[i][:40]!r}...)")
    eq([e["log"]["offset"] for e in got], offsets_of(records), "offsets")
    eq([e for e in got if "tags" in e], [], "tags")
    # the same bytes written in odd pieces while the daemon runs
    d2 = scratch("garbage-run")
    log2 = os.path.join(d2, "logs", "bin.log")
    open(log2, "wb").close()
    sh = Shipper(SHIPPER, ENV,
                 write_config(d2, [{"type": "file", "paths": [log2]}]), d2)
    try:
        with open(log2, "ab") as f:
            at = 0
            while at < len(data):
                n = rnd.choice([1, 7, 4096, 65537])
                f.write(data[at:at + n])
                f.flush()
                at += n
        got2 = sh.wait_events(len(records))
        sh.alive()
    finally:
        got2 = sh.stop()
    eq(messages(got2), want, "while running")


# --- many files ----------------------------------------------------------

@case
def a_thousand_files_under_a_glob_each_line_once_within_the_fd_limit():
    d = scratch("many")
    logs = os.path.join(d, "logs")
    rnd = random.Random(12)
    files = {}  # path -> lines written
    for i in range(1000):
        p = os.path.join(logs, f"a{i // 100}", f"b{i // 10 % 10}",
                         f"f{i % 10}.log")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        files[p] = [f"{i} start {j}" for j in range(3)]
        with open(p, "w") as f:
            f.write("".join(l + "\n" for l in files[p]))
    # not matched: another suffix, and an excluded directory
    with open(os.path.join(logs, "a0", "notes.txt"), "w") as f:
        f.write("not a log\n")
    os.makedirs(os.path.join(logs, "skip", "deep"))
    with open(os.path.join(logs, "skip", "deep", "x.log"), "w") as f:
        f.write("excluded\n")
    limit = 50
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "**", "*.log")],
                             "exclude": [os.path.join(logs, "skip", "**")],
                             "max_open_files": limit,
                             "close_inactive": "600ms",
                             "scan_interval": "500ms"}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    watch = FdWatch(sh, logs + "/")
    try:
        total = lambda: sum(len(v) for v in files.values())
        sh.wait_events(total(), "the first lines")
        base = len([f for f in sh.fds() if not f.startswith(logs + "/")])
        # lines appended to random files, and new files in new directories
        for r in range(20):
            for p in rnd.sample(sorted(files), 50):
                n = len(files[p])
                files[p] += [f"{p[-12:]} more {n + k}" for k in range(2)]
                with open(p, "a") as f:
                    f.write("".join(l + "\n" for l in files[p][n:]))
            p = os.path.join(logs, "new", f"n{r}", f"g{r}.log")
            os.makedirs(os.path.dirname(p))
            files[p] = [f"new {r} {k}" for k in range(5)]
            with open(p, "w") as f:
                f.write("".join(l + "\n" for l in files[p]))
        got = sh.wait_events(total(), "every line")
        sh.alive()
        # all quiet: every file is closed after close_inactive
        wait_for("the files closed", lambda: not any(
            f.startswith(logs + "/") for f in sh.fds()))
        # and opened again when it grows
        grow = sorted(files)[::97]
        for p in grow:
            files[p].append(f"{p[-12:]} late")
            with open(p, "a") as f:
                f.write(files[p][-1] + "\n")
        got = sh.wait_events(total(), "the late lines")
        watch.stop()
        got = sh.stop()
    finally:
        watch.stop()
        sh.stop()
    by = {}
    for e in got:
        by.setdefault(e["log"]["file"]["path"], []).append(e["message"])
    eq(sorted(by), sorted(files), "the files shipped")
    bad = [p for p in files if by[p] != files[p]]
    eq(bad[:3], [], "files whose lines are not each once in order")
    eq(len(got), total(), "events")
    print(f"     descriptors: at most {watch.max_logs} of log files "
          f"(limit {limit}), {watch.max_all} in all ({base} others)")
    # in all: the limit, the daemon's own (stdio, inotify, signalfd...) and
    # the directories a scan holds open while it walks logs/a*/b*/
    if watch.max_logs > limit or watch.max_all > limit + base + 4:
        raise AssertionError(f"{watch.max_logs} log files open, "
                             f"{watch.max_all} descriptors in all")


@case
def memory_does_not_grow_with_the_files_read():
    # 400 files of 100 KB read in 64 KiB chunks: a file's framing keeps
    # no chunk once its lines are out (it kept 128 KiB: 400 files, 50 MiB)
    d = scratch("many-rss")
    logs = os.path.join(d, "logs")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log")],
                             "max_open_files": 20}])
    sh = Shipper(SHIPPER, MEASURED, conf, d)
    try:
        append(os.path.join(logs, "first.log"), ["first"])
        sh.wait_events(1)
        base = sh.status("VmHWM")
        for i in range(400):
            with open(os.path.join(logs, f"f{i:03d}.log"), "w") as f:
                f.write("".join(f"{i:03d} {j:04d} {'x' * 990}\n"
                                for j in range(100)))
        got = sh.wait_events(1 + 400 * 100)
        hwm = sh.status("VmHWM")
        sh.alive()
    finally:
        got = sh.stop()
    eq(len(got), 1 + 400 * 100, "events")
    print(f"     peak RSS {base} kB, {hwm} kB after 400 files of 100 KB")
    if hwm - base > 24 * 1024:
        raise AssertionError(f"VmHWM {base} kB -> {hwm} kB")


@case
def files_that_begin_alike_are_each_read_whole():
    # replicas of one job, or JVMs with the same flags, write the same
    # first KiB (a banner, a GC log header): each file is its own, not a
    # copy of another (copytruncate), even beyond max_open_files
    d = scratch("alike")
    logs = os.path.join(d, "logs")
    banner = "".join(f"starting: option {k} = default\n" for k in range(60))
    for i in range(300):
        with open(os.path.join(logs, f"job{i:03d}.log"), "w") as f:
            f.write(banner + f"job {i} done\n")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log")],
                             "max_open_files": 20, "rotate_wait": "200ms"}])
    got, _ = run_once(conf)
    by = {}
    for e in got:
        by.setdefault(e["log"]["file"]["path"], []).append(e["message"])
    eq(len(by), 300, "files")
    want = banner.splitlines()
    eq([p for p, m in by.items() if m[:-1] != want or len(m) != 61][:3], [],
       "files not read whole")
    # while running: a new file that begins as a live one does
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        new = os.path.join(logs, "job300.log")
        with open(new, "w") as f:
            f.write(banner + "job 300 done\n")
        got = sh.wait_events(61)
        sh.alive()
    finally:
        got = sh.stop()
    eq(messages(got), want + ["job 300 done"], "a new file")

# --- container logs ----------------------------------------------------------

@case
def docker_json_file_logs_with_split_lines():
    d = scratch("docker")
    log = os.path.join(d, "logs", "c0ffee-json.log")
    long_text = "".join(chr(ord("A") + i % 26) for i in range(40000))
    want = [
        ("GET /health 200", "stdout", "2026-12-04T17:00:01.123456789Z"),
        ("warn: slow \"db\" \u00e9\u20ac\t\u001b[0m", "stderr",
         "2026-12-04T17:00:02.5Z"),
        (long_text, "stdout", "2026-12-04T17:00:03.000000001Z"),
        ("", "stdout", "2026-12-04T17:00:04Z"),
        ("x" * 16384, "stderr", "2026-12-04T17:00:05.999Z"),
        ("last", "stdout", "2026-12-04T17:00:06.1Z"),
    ]
    with open(log, "w") as f:
        for text, stream, t in want:
            f.write(docker_lines(text, stream, t))
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "format": "docker"}])
    got, _ = run_once(conf)
    ts = ["2026-12-04T17:00:01.123Z", "2026-12-04T17:00:02.500Z",
          "2026-12-04T17:00:03.000Z", "2026-12-04T17:00:04.000Z",
          "2026-12-04T17:00:05.999Z", "2026-12-04T17:00:06.100Z"]
    eq([(e["@timestamp"], e.get("stream"), e["message"], e.get("tags"))
        for e in got],
       [(t, s, m, None) for (m, s, _), t in zip(want, ts)], "events")
    offs = [0]
    for text, stream, t in want[:-1]:
        offs.append(offs[-1] + len(docker_lines(text, stream, t).encode()))
    eq([e["log"]["offset"] for e in got], offs, "offsets")
    # while running: the parts of a split line come one at a time, and the
    # line is shipped once its last part is there
    d = scratch("docker-run")
    log = os.path.join(d, "logs", "c0ffee-json.log")
    open(log, "w").close()
    sh = Shipper(SHIPPER, ENV, write_config(d, [{"type": "file",
                                                 "paths": [log],
                                                 "format": "docker"}]), d)
    try:
        parts = docker_lines(long_text, "stderr",
                             "2026-12-04T17:01:00Z").splitlines(True)
        with open(log, "a") as f:
            f.write(docker_lines("one", "stdout", "2026-12-04T17:00:59Z"))
            f.flush()
            sh.wait_events(1)
            for p in parts[:-1]:
                f.write(p)
                f.flush()
            time.sleep(0.3)  # what would be shipped early is there by now
            eq(len(sh.events()), 1, "a split line shipped before its end")
            f.write(parts[-1])
        got = sh.wait_events(2)
    finally:
        got = sh.stop()
    eq([(e["message"], e["stream"], e["@timestamp"]) for e in got],
       [("one", "stdout", "2026-12-04T17:00:59.000Z"),
        (long_text, "stderr", "2026-12-04T17:01:00.000Z")], "while running")


@case
def cri_logs_with_partial_lines_and_zoned_times():
    d = scratch("cri")
    log = os.path.join(d, "logs", "pod_ns_c-1.log")
    long_text = "".join(chr(ord("a") + i % 26) for i in range(50000))
    lines = ["2026-12-04T18:00:01.123456789+01:00 stdout F started",
             "2026-12-04T17:00:02.2Z stderr F E1204 oops: \u00e9 \t tab"]
    for i in range(0, len(long_text), 16384):
        tag = "F" if i + 16384 >= len(long_text) else "P"
        lines.append(f"2026-12-04T17:00:03.{i // 16384}Z stdout {tag} "
                     + long_text[i:i + 16384])
    lines += ["2026-12-04T17:00:04Z stdout F ",
              "2026-12-04T17:00:05.5-02:30 stderr F with CRLF\r"]
    with open(log, "w") as f:
        f.write("\n".join(lines) + "\n")
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "format": "cri"}])
    got, _ = run_once(conf)
    eq([(e["@timestamp"], e.get("stream"), e["message"], e.get("tags"))
        for e in got],
       [("2026-12-04T17:00:01.123Z", "stdout", "started", None),
        ("2026-12-04T17:00:02.200Z", "stderr", "E1204 oops: \u00e9 \t tab",
         None),
        ("2026-12-04T17:00:03.000Z", "stdout", long_text, None),
        ("2026-12-04T17:00:04.000Z", "stdout", "", None),
        ("2026-12-04T19:30:05.500Z", "stderr", "with CRLF", None)])


# --- multiline presets and the traceback processor ---------------------------

PY_RECORDS = [
    ["2026-12-04 17:00:00,001 INFO app.main: starting worker 3"],
    ["2026-12-04 17:00:01,250 ERROR app.orders: payment failed for order 17",
     "Traceback (most recent call last):",
     '  File "/srv/app/orders.py", line 88, in charge',
     "    resp = gateway.charge(order.total)",
     '  File "/srv/app/gateway.py", line 41, in charge',
     '    raise GatewayTimeout("no answer in 30 s")',
     "app.gateway.GatewayTimeout: no answer in 30 s"],
    ["2026-12-04 17:00:02,000 INFO app.main: next"],
    ["2026-12-04 17:00:03,500 ERROR app.sync: sync failed",
     "Traceback (most recent call last):",
     '  File "/srv/app/sync.py", line 12, in load',
     "    return cache[key]",
     "           ~~~~~^^^^^",
     "KeyError: 'user:42'",
     "",
     "During handling of the above exception, another exception occurred:",
     "",
     "Traceback (most recent call last):",
     '  File "/srv/app/sync.py", line 30, in run',
     "    data = load(key)",
     "           ^^^^^^^^^",
     '  File "/srv/app/sync.py", line 14, in load',
     "    return fetch(key)",
     '  File "/srv/lib/http.py", line 205, in fetch',
     '    raise ConnectionError(f"refused: {url}")',
     "ConnectionError: refused: http://10.0.0.5:8080/users/42"],
    ["2026-12-04 17:00:04,000 WARNING app.main: retrying in 5 s"],
    ["2026-12-04 17:00:05,000 ERROR app.cfg: cannot start",
     "Traceback (most recent call last):",
     '  File "/srv/app/cfg.py", line 5, in port',
     "    return int(v)",
     "ValueError: invalid literal for int() with base 10: 'abc'",
     "",
     "The above exception was the direct cause of the following exception:",
     "",
     "Traceback (most recent call last):",
     '  File "/srv/app/main.py", line 9, in <module>',
     "    main()",
     '  File "/srv/app/cfg.py", line 7, in port',
     '    raise ConfigError("bad port") from e',
     "app.cfg.ConfigError: bad port"],
]
# error.type, error.message, log.origin: file, line, function; the stack
# trace is the record from its first "Traceback" line
PY_ERRORS = {
    1: ("app.gateway.GatewayTimeout", "no answer in 30 s",
        "/srv/app/gateway.py", 41, "charge"),
    3: ("ConnectionError", "refused: http://10.0.0.5:8080/users/42",
        "/srv/lib/http.py", 205, "fetch"),
    5: ("app.cfg.ConfigError", "bad port", "/srv/app/cfg.py", 7, "port"),
}

JAVA_RECORDS = [
    ["2026-12-04 17:00:00.001  INFO 4242 --- [           main] "
     "c.e.shop.Application : Started Application in 3.2 seconds"],
    ["2026-12-04 17:00:01.500 ERROR 4242 --- [nio-8080-exec-3] "
     "o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() threw "
     "exception",
     "java.lang.IllegalStateException: order 17 has no lines",
     "\tat com.example.shop.OrderService.total(OrderService.java:88)",
     "\tat com.example.shop.OrderController.checkout("
     "OrderController.java:41)",
     "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
     "Caused by: java.sql.SQLException: connection refused",
     "\tat org.postgresql.Driver.connect(Driver.java:285)",
     "\tat com.example.shop.OrderRepository.load(OrderRepository.java:30)",
     "\t... 12 more"],
    ["2026-12-04 17:00:02.000  WARN 4242 --- [      scheduler] "
     "c.e.shop.Cache : evicting 3 entries"],
    ["2026-12-04 17:00:03.250 ERROR 4242 --- [      scheduler] "
     "c.e.shop.Sync : sync failed",
     "org.springframework.web.client.ResourceAccessException: I/O error on "
     "GET request for \"http://10.0.0.5/users\": Connection refused",
     "\tat org.springframework.web.client.RestTemplate.doExecute("
     "RestTemplate.java:791)",
     "\tat com.example.shop.Sync$Job.run(Sync.java:57)",
     "\tSuppressed: java.lang.RuntimeException: close failed",
     "\t\tat com.example.shop.Sync.close(Sync.java:80)",
     "\t\t... 3 common frames omitted",
     "Caused by: java.net.ConnectException: Connection refused",
     "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)",
     "\t... 12 more"],
    ["2026-12-04 17:00:04.000  INFO 4242 --- [           main] "
     "c.e.shop.Application : healthy"],
]
JAVA_ERRORS = {
    1: ("java.lang.IllegalStateException", "order 17 has no lines",
        "OrderService.java", 88, "com.example.shop.OrderService.total"),
    3: ("org.springframework.web.client.ResourceAccessException",
        'I/O error on GET request for "http://10.0.0.5/users": Connection '
        "refused", "RestTemplate.java", 791,
        "org.springframework.web.client.RestTemplate.doExecute"),
}


def check_tracebacks(got, records, errors, stack_from, offsets=None):
    eq(messages(got), ["\n".join(r) for r in records], "one event a record")
    eq([e["log"]["offset"] for e in got],
       offsets or offsets_of([m.encode() for m in messages(got)]), "offsets")
    for i, e in enumerate(got):
        if i not in errors:
            eq(("error" in e, "origin" in e["log"]), (False, False), f"{i}")
            continue
        typ, msg, file, line, fn = errors[i]
        stack = "\n".join(records[i][stack_from:])
        eq(e["error"], {"type": typ, "message": msg, "stack_trace": stack},
           f"error of event {i}")
        eq(e["log"]["origin"], {"file": {"name": file, "line": line},
                                "function": fn}, f"origin of event {i}")


def text_of(records):
    return "".join(l + "\n" for r in records for l in r)


@case
def python_and_java_logs_joined_by_the_presets_with_their_errors():
    d = scratch("presets")
    py = os.path.join(d, "logs", "app.log")
    java = os.path.join(d, "logs", "shop.log")
    with open(py, "w") as f:
        f.write(text_of(PY_RECORDS))
    with open(java, "w") as f:
        f.write(text_of(JAVA_RECORDS))
    tb = [{"traceback": {}}]
    conf = write_config(d, [
        {"type": "file", "paths": [py], "multiline": {"preset": "python"},
         "processors": tb},
        {"type": "file", "paths": [java], "multiline": {"preset": "java"},
         "processors": tb}])
    got, _ = run_once(conf)
    by = {py: [], java: []}
    for e in got:
        by[e["log"]["file"]["path"]].append(e)
    check_tracebacks(by[py], PY_RECORDS, PY_ERRORS, 1)
    check_tracebacks(by[java], JAVA_RECORDS, JAVA_ERRORS, 1)
    # the same Python app in a container: docker's lines, then the preset
    dock = os.path.join(d, "logs", "py-json.log")
    times, offs = [], []
    with open(dock, "w") as f:
        for i, r in enumerate(PY_RECORDS):
            times.append(f"2026-12-04T17:00:{i:02d}.{i:03d}Z")
            offs.append(f.tell())
            for l in r:
                f.write(docker_lines(l, "stderr", times[-1]))
    conf2 = write_config(d, [
        {"type": "file", "paths": [dock], "format": "docker",
         "multiline": {"preset": "python"}, "processors": tb}])
    got, _ = run_once(conf2)
    check_tracebacks(got, PY_RECORDS, PY_ERRORS, 1, offs)
    eq([(e["@timestamp"], e["stream"]) for e in got],
       [(t, "stderr") for t in times], "time and stream")
    # `check` takes a preset alone, and refuses the pattern mode's keys
    p = subprocess.run([SHIPPER, "-c", conf, "check"], capture_output=True,
                       env=ENV, timeout=DEADLINE_S)
    eq((p.returncode, p.stdout, p.stderr), (0, b"", b""), "check")
    for preset, key, value in (("python", "negate", False),
                               ("java", "match", "after")):
        conf = write_config(d, [{"type": "file", "paths": [py], "multiline": {
            "preset": preset, key: value}}])
        p = subprocess.run([SHIPPER, "-c", conf, "check"], capture_output=True,
                           env=ENV, timeout=DEADLINE_S)
        with open(conf) as f:
            col = f.read().index(json.dumps(value)) + 1
        eq((p.returncode, p.stderr.decode()), (2, f"sluice-shipper: {conf}:1:"
           f"{col}: "
           f"inputs[0].multiline.{key}: '{key}' goes with 'pattern', not with "
           "'preset'; remove it\n"), f"check with {key}")
    # on stdin: the same events, without a file or an offset
    conf = write_config(d, [{"type": "stdin", "multiline": {
        "preset": "python"}, "processors": tb}])
    got, _ = run_once(conf, stdin=text_of(PY_RECORDS).encode())
    eq([(e["message"], e.get("error"), e.get("log")) for e in got],
       [(e["message"], e.get("error"), {k: v for k, v in e["log"].items()
                                         if k not in ("file", "offset")}
         or None) for e in by[py]], "on stdin")
    p = subprocess.run([SHIPPER, "-c", conf, "check"], capture_output=True,
                       env=ENV, timeout=DEADLINE_S)
    eq((p.returncode, p.stdout, p.stderr), (0, b"", b""), "check on stdin")


@case
def a_traceback_at_the_end_of_a_file_is_flushed_by_the_timeout():
    d = scratch("ml-timeout")
    py = os.path.join(d, "logs", "app.log")
    with open(py, "w") as f:
        f.write(text_of(PY_RECORDS[:1]))
    conf = write_config(d, [
        {"type": "file", "paths": [py],
         "multiline": {"preset": "python", "timeout": "300ms"},
         "close_inactive": "50ms",
         "processors": [{"traceback": {}}]}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(1)
        t0 = time.monotonic()
        with open(py, "a") as f:  # the writer stops after the traceback
            f.write(text_of(PY_RECORDS[1:4]))
        got = sh.wait_events(4, "the last traceback")
        took = time.monotonic() - t0
        sh.alive()
    finally:
        got = sh.stop()
    check_tracebacks(got, PY_RECORDS[:4], PY_ERRORS, 1)
    if took < 0.3:
        raise AssertionError(f"flushed after {took:.2f} s, before the timeout")
    # run --once ends with it: no line follows it in this file either
    d = scratch("ml-once")
    java = os.path.join(d, "logs", "shop.log")
    with open(java, "w") as f:
        f.write(text_of(JAVA_RECORDS[:2]))
    conf = write_config(d, [
        {"type": "file", "paths": [java], "multiline": {"preset": "java"},
         "processors": [{"traceback": {}}]}])
    got, _ = run_once(conf)
    check_tracebacks(got, JAVA_RECORDS[:2], JAVA_ERRORS, 1)


# --- paths that are not readable files ---------------------------------------

def warnings_about(err, path):
    return [l for l in err.splitlines() if f"[{path}]" in l]


def tree_for_nobody(d):
    """d/logs, readable by nobody up from TMP, and d/data, nobody's."""
    logs = os.path.join(d, "logs")
    for p in (TMP, d, logs):
        os.chmod(p, 0o755)
    os.makedirs(os.path.join(d, "data"))
    os.chown(os.path.join(d, "data"), NOBODY, NOBODY)
    return logs


@case
def a_directory_a_fifo_and_an_unreadable_file_are_logged_once_and_retried():
    # as nobody: root reads a file of mode 000 anyway
    d = scratch("badpaths")
    logs = tree_for_nobody(d)
    dir_, fifo, secret, ok = (os.path.join(logs, n) for n in (
        "dir.log", "fifo.log", "secret.log", "ok.log"))
    os.mkdir(dir_)
    os.mkfifo(fifo)
    for p, text in ((secret, "secret 1\n"), (ok, "ok 1\n")):
        with open(p, "w") as f:
            f.write(text)
    os.chmod(secret, 0)
    locked = os.path.join(logs, "locked")  # as /var/log/nginx: root:adm 0750
    os.mkdir(locked)
    append(os.path.join(locked, "a.log"), ["locked 1"])
    os.chmod(locked, 0o750)
    conf = write_config(d, [{"type": "file", "paths": [
        dir_, fifo, secret, ok, os.path.join(locked, "*.log")],
        "scan_interval": "50ms"}])
    os.chmod(conf, 0o644)
    sh = Shipper(SHIPPER, ENV, conf, d, preexec_fn=as_nobody)
    try:
        sh.wait_events(1)
        eq(sh.status("Uid"), NOBODY, "the shipper's user")
        time.sleep(0.5)  # ten scans: each one tries every path again
        sh.alive()
        err = sh.text()
        eq([l.split("  ", 1)[1] for p in (dir_, fifo, secret, locked)
            for l in warnings_about(err, p)],
           [f"[{dir_}] is a directory, not a file; name its files in "
            "`paths` (a glob such as DIR/*.log); tried again at every scan",
            f"[{fifo}] is not a regular file (a FIFO, socket or device); the "
            "file input reads regular files only (for a pipe, use the stdin "
            "input); tried again at every scan",
            f"[{secret}] cannot read: Permission denied; give the shipper's "
            "user read access (on Debian, the group adm); tried again at "
            "every scan",
            f"[{locked}] cannot read: Permission denied; give the shipper's "
            "user read access (on Debian, the group adm); tried again at "
            "every scan"], "one warning each")
        # each put right: read at the next scan
        os.rmdir(dir_)
        os.unlink(fifo)
        for p in (dir_, fifo):
            with open(p, "w") as f:
                f.write(os.path.basename(p) + " 1\n")
        os.chmod(secret, 0o644)
        os.chmod(locked, 0o755)
        with open(ok, "a") as f:
            f.write("ok 2\n")
        got = sh.wait_events(6)
        sh.alive()
    finally:
        got = sh.stop()
    eq(sorted(messages(got)), ["dir.log 1", "fifo.log 1", "locked 1",
                               "ok 1", "ok 2", "secret 1"])
    eq(sum(len(warnings_about(sh.text(), p))
           for p in (dir_, fifo, secret, locked)),
       4, "no warning after they were put right")


@case
def run_once_ends_with_an_unreadable_file_and_reads_it_once_put_right():
    # as nobody: a root-only log in the glob made run --once open it, be
    # refused and rescan at every idle turn, for ever, a core at 100%
    d = scratch("once_unreadable")
    logs = tree_for_nobody(d)
    secret, ok = (os.path.join(logs, n) for n in ("secret.log", "ok.log"))
    append(secret, ["secret 1"])
    append(ok, ["ok 1", "ok 2"])
    os.chmod(secret, 0o600)
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log")]}])
    os.chmod(conf, 0o644)

    def once():
        p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                           capture_output=True, env=ENV, timeout=DEADLINE_S,
                           preexec_fn=as_nobody)
        eq(p.returncode, 0, f"exit status; stderr: {p.stderr.decode()!r}")
        return json_lines(p.stdout), p.stderr.decode()
    got, err = once()
    eq(sorted(messages(got)), ["ok 1", "ok 2"], "the readable file's lines")
    eq(len(warnings_about(err, secret)), 1, "the refused file said once")
    os.chmod(secret, 0o644)  # put right: the next run reads it, once
    got, _ = once()
    eq(messages(got), ["secret 1"], "the file put right")


# --- a file deleted while it is read -----------------------------------------

def deleted_fds(sh, path):
    return [f for f in sh.fds() if f == path + " (deleted)"]


def big_file(path, n):
    lines = [b"%06d " % i + b"x" * (1000 - 8) for i in range(n)]
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return lines


@case
def a_file_deleted_while_read_is_read_to_its_end_then_released():
    d = scratch("deleted")
    log = os.path.join(d, "logs", "big.log")
    lines = big_file(log, 20000)  # 20 MB: far more than the outbox holds
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "rotate_wait": "200ms"}])
    # stdout not read: reading stops
    sh = Shipper(SHIPPER, ENV, conf, d, pipe=True)
    try:
        wait_for("the first read", lambda: log in sh.fds())
        os.unlink(log)
        wait_for("the delete seen", lambda: "deleted; reading it to its end"
                 in sh.text())
        eq(len(deleted_fds(sh, log)), 1, "still open while not drained")
        sh.read_pipe()
        got = sh.wait_events(len(lines))
        wait_for("the descriptor released", lambda: not deleted_fds(sh, log))
        sh.alive()
    finally:
        got = sh.stop()
    eq(len(got), len(lines), "events")
    eq(messages(got) == [l.decode() for l in lines], True, "every line")


@case
def a_deleted_file_the_output_has_no_room_for_is_released_after_a_timeout():
    d = scratch("deleted-timeout")
    log = os.path.join(d, "logs", "big.log")
    lines = big_file(log, 20000)
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "delete_timeout": "300ms"}])
    sh = Shipper(SHIPPER, ENV, conf, d, pipe=True)
    try:
        wait_for("the first read", lambda: log in sh.fds())
        os.unlink(log)
        wait_for("the release", lambda: "releasing it at offset"
                 in sh.text())
        wait_for("the descriptor released", lambda: not deleted_fds(sh, log))
        warn = [l for l in sh.text().splitlines() if "releasing" in l][0]
        at = int(warn.split("releasing it at offset ")[1].split()[0])
        eq(warn.split("  ", 1)[1],
           f"[{log}] deleted and not read to its end after delete_timeout; "
           f"releasing it at offset {at} of {len(lines) * 1000}: the rest is "
           "lost (the output had no room)", "the warning")
        sh.read_pipe()
        full, part = divmod(at, 1000)
        sh.wait_events(full + (part > 0), "what was read")
        sh.alive()
    finally:
        got = sh.stop()
    # what was read is shipped: the lines before offset `at`, the last one
    # maybe cut where the read stopped
    full, part = divmod(at, 1000)
    want = [l.decode() for l in lines[:full]]
    if part:
        want.append(lines[full][:part].decode())
    m = messages(got)
    first = next((i for i, (a, b) in enumerate(zip(m, want)) if a != b),
                 min(len(m), len(want)))
    eq((len(got), first), (len(want), len(want)), "events, the first wrong")
    eq(m == want, True, "the lines read")


# --- symlinks, start_at, exclude ---------------------------------------------


@case
def symlinks_are_followed_and_a_file_behind_two_paths_is_read_once():
    d = scratch("symlink")
    logs = os.path.join(d, "logs")
    other = os.path.join(d, "elsewhere")
    os.makedirs(os.path.join(logs, "real"))
    os.makedirs(other)
    real = os.path.join(logs, "real", "app.log")
    link = os.path.join(logs, "app-link.log")
    os.symlink("real/app.log", link)
    # a Kubernetes-style link to a file in a directory no glob names
    k8s = os.path.join(logs, "pod_c.log")
    os.symlink(os.path.join(other, "0.log"), k8s)
    append(real, ["real 1", "real 2"])
    append(os.path.join(other, "0.log"), ["pod 0 a"])
    conf = write_config(d, [{"type": "file",
                             "paths": [link, real,
                                       os.path.join(logs, "*.log")],
                             "rotate_wait": "100ms"}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(3)
        # written through each name, while running
        append(real, ["real 3"])
        append(link, ["real 4"])
        append(os.path.join(other, "0.log"), ["pod 0 b"])
        sh.wait_events(6)
        # the container restarts: the link names a new file
        append(os.path.join(other, "1.log"), ["pod 1 a"])
        os.symlink(os.path.join(other, "1.log"), k8s + ".new")
        os.rename(k8s + ".new", k8s)
        append(os.path.join(other, "0.log"), ["pod 0 c"])  # its last words
        got = sh.wait_events(8)
        sh.alive()
    finally:
        got = sh.stop()
    by = {}
    for e in got:
        by.setdefault(e["message"].split()[0], []).append(
            (e["message"], e["log"]["file"]["path"]))
    eq(by["real"], [(f"real {i}", link) for i in range(1, 5)],
       "the file behind two names (the first name found)")
    eq([m for m, _ in by["pod"]], ["pod 0 a", "pod 0 b", "pod 0 c", "pod 1 a"],
       "the file behind the link, then the one it names now")
    eq({p for _, p in by["pod"]}, {k8s})


@case
def start_at_end_reads_only_what_is_written_after_the_start():
    d = scratch("start-end")
    logs = os.path.join(d, "logs")
    old = os.path.join(logs, "old.log")
    append(old, ["before 1", "before 2"])
    inputs = [{"type": "file", "paths": [os.path.join(logs, "*.log")],
               "start_at": "end"}]
    port = free_port()
    conf = write_config(d, inputs,
                        extra={"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        # the first scan found the file: what is written now is after it
        wait_for("the first scan", lambda: sh.metric(
            'sluice_input_files_total{input="inputs[0]"}') == 1)
        append(old, ["after 1"])
        append(os.path.join(logs, "new.log"), ["new 1"])  # created later
        got = sh.wait_events(2)
        sh.alive()
    finally:
        got = sh.stop()
    eq(sorted(messages(got)), ["after 1", "new 1"], "first run")
    eq([e["log"]["offset"] for e in got if e["message"] == "after 1"],
       [len("before 1\nbefore 2\n")], "offset")
    # written while stopped: known files resume where they were
    append(old, ["stopped 1"])
    got, _ = run_once(conf)
    eq(messages(got), ["stopped 1"], "after a restart")


@case
def exclude_globs_by_name_and_by_path():
    d = scratch("exclude")
    logs = os.path.join(d, "logs")
    names = ["app.log", "app.log.1", "app.log.2.gz", "web/access.log",
             "web/archive/2025/access.log", "web/.hidden.log", "db/x.log.gz"]
    for n in names:
        os.makedirs(os.path.dirname(os.path.join(logs, n)), exist_ok=True)
        append(os.path.join(logs, n), [n])
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "**", "*.log*")],
                             "exclude": ["*.gz", "*.[0-9]",
                                         os.path.join(logs, "**", "archive",
                                                      "**")]}])
    got, _ = run_once(conf)
    eq(sorted(messages(got)), ["app.log", "web/access.log"])

@case
def json_logs_of_common_libraries_with_a_byte_order_mark():
    """A .NET service's JSON log opens with a UTF-8 byte order mark; Python's
    JSON formatters say levelname, zap in Kubernetes controllers writes its
    epoch time with an exponent. Each event gets its message, log.level and
    @timestamp; the mark is no part of the first line."""
    d = scratch("json-libs")
    path = os.path.join(d, "app.json")
    lines = [
        '{"Timestamp":"2026-12-05T00:00:01Z","LogLevel":"Warning",'
        '"Category":"Shop.Orders","Message":"slow","TraceId":"4bf92f35"}',
        '{"asctime":"2026-12-05 00:00:02,250","levelname":"ERROR",'
        '"message":"charge failed","otelTraceID":"0af76519","otelSpanID":"b7ad"}',
        '{"level":"info","ts":1.7964288031234567e+09,"msg":"Starting workers"}',
    ]
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + "".join(l + "\n" for l in lines).encode())
    conf = write_config(d, [{"type": "file", "paths": [path], "processors": [
        {"json": {}},
        {"date": {"when": {"has_fields": ["Timestamp"]},
                  "field": "Timestamp", "formats": ["ISO8601"]}},
        {"date": {"when": {"has_fields": ["asctime"]}, "field": "asctime",
                  "formats": ["yyyy-MM-dd HH:mm:ss,SSS"]}},
        {"date": {"when": {"has_fields": ["ts"]}, "field": "ts",
                  "formats": ["UNIX"]}}]}])
    got, _ = run_once(conf)
    eq([e.get("tags") for e in got], [None, None, None], "tags")
    eq(messages(got), ["slow", "charge failed", "Starting workers"])
    eq([e["log"].get("level") for e in got], ["Warning", "ERROR", "info"])
    eq([e["@timestamp"] for e in got],
       ["2026-12-05T00:00:01.000Z", "2026-12-05T00:00:02.250Z",
        "2026-12-05T00:00:03.123Z"])
    eq([e.get("trace", {}).get("id") for e in got],
       ["4bf92f35", "0af76519", None])
    eq([e["log"]["offset"] for e in got],
       [0] + offsets_of([l.encode() for l in lines], 3)[1:], "offsets")


@case
def python_errors_with_messages_over_several_lines_and_syslog_overwrite():
    """A Python log joined on its timestamps, and the same log by the python
    preset: psycopg2's DETAIL line is part of error.message; a syslog line's
    text replaces message with overwrite."""
    d = scratch("py-detail")
    app = os.path.join(d, "app.log")
    preset = os.path.join(d, "preset.log")
    for path, ms in ((app, 500), (preset, 501)):  # not alike: not copies
        append(path, [
            f"2026-12-05 00:00:01,{ms} ERROR app.db: insert failed",
            "Traceback (most recent call last):",
            '  File "/srv/app/db.py", line 88, in insert',
            "    cur.execute(sql, params)",
            "psycopg2.errors.UniqueViolation: duplicate key value violates "
            'unique constraint "users_email_key"',
            "DETAIL:  Key (email)=(a@example.com) already exists.",
            "",
            "2026-12-05 00:00:02,000 INFO app: next"])
    sys_log = os.path.join(d, "syslog")
    append(sys_log, ["Dec  4 23:59:59 web-1 sshd[123]: Accepted publickey "
                     "for root from 2001:db8::5 port 51234 ssh2"])
    conf = write_config(d, [
        {"type": "file", "paths": [app],
         "multiline": {"pattern": "^%{TIMESTAMP_ISO8601} ", "negate": True},
         "processors": [{"traceback": {}}]},
        {"type": "file", "paths": [preset], "multiline": {"preset": "python"},
         "processors": [{"traceback": {}}]},
        {"type": "file", "paths": [sys_log], "processors": [
            {"grok": {"patterns": ["%{SYSLOGLINE}"],
                      "overwrite": ["message"]}}]}])
    got, _ = run_once(conf)
    by_path = {}
    for e in got:
        by_path.setdefault(e["log"]["file"]["path"], []).append(e)
    for path in (app, preset):
        errors = [e.get("error") for e in by_path[path]]
        eq(len(errors), 2, path)
        eq(errors[1], None, "the record after")
        eq(errors[0]["type"], "psycopg2.errors.UniqueViolation")
        eq(errors[0]["message"],
           'duplicate key value violates unique constraint "users_email_key"'
           "\nDETAIL:  Key (email)=(a@example.com) already exists.")
    eq([e["message"] for e in by_path[sys_log]],
       ["Accepted publickey for root from 2001:db8::5 port 51234 ssh2"])
    eq(by_path[sys_log][0]["process"], {"name": "sshd", "pid": 123})


@case
def paths_that_match_no_file_are_said_once():
    # a typo in paths ("apache" for "apache2"), or an exclude that leaves
    # nothing: the shipper read nothing, said nothing, and run --once
    # exited 0 as if every file had been read
    d = scratch("unmatched")
    logs = os.path.join(d, "logs")
    append(os.path.join(logs, "app.log"), ["one"])
    typo = os.path.join(d, "log", "*.log")
    for inp, tail in (({"paths": [typo]}, ""),
                      ({"paths": [os.path.join(logs, "*.log")],
                        "exclude": ["app*"]}, " (after exclude)")):
        inp["type"] = "file"
        conf = write_config(d, [{"type": "stdin"}, inp])
        got, err = run_once(conf, stdin=b"")
        eq(got, [], "events")
        said = [l.split("  ", 1)[1] for l in err.splitlines()
                if " warn " in l or " error " in l]
        eq(said, [f"[input:file:inputs[1]] no file matches paths "
                  f"[\"{inp['paths'][0]}\"]{tail}; a file that appears there "
                  "later is read from its start; if none is meant to, fix "
                  "paths"], "the warning")
    conf = write_config(d, [{"type": "file", "paths": [
        typo, os.path.join(logs, "*.log")]}])
    got, err = run_once(conf)
    eq((messages(got), [l for l in err.splitlines() if " warn " in l]),
       (["one"], []), "one of two globs matches: no warning")
    # a file another input reads: the overlap's warning, not this one
    conf = write_config(d, [{"type": "file", "paths": [os.path.join(
        logs, "*.log")]}, {"type": "file", "paths": [os.path.join(
            logs, "app.log")]}])
    got, err = run_once(conf)
    said = [l for l in err.splitlines() if " warn " in l]
    eq((messages(got), len(said), "is matched by inputs[0] too" in said[0]),
       ([], 1, True), f"an overlap: {said}")


@case
def a_glob_over_20000_directories_scans_in_linear_time():
    # each scan asked, for every directory it walked, whether inotify
    # watched it already, in a list searched from its start: 21,000
    # directories under a `**` cost 1.1 CPU-s a scan (2.9 s for
    # run --once with nothing new), every scan_interval for a daemon
    import resource
    d = scratch("bigtree")
    tree = os.path.join(d, "tree")
    want = []
    for a in range(20):
        for b in range(50):
            for c in range(20):
                sub = os.path.join(tree, f"a{a}", f"b{b}", f"c{c}")
                os.makedirs(sub)
                if c == 0 and b % 10 == 0:
                    append(os.path.join(sub, "app.log"), [f"{a} {b}"])
                    want.append(f"{a} {b}")
    conf = write_config(d, [{"type": "file", "paths": [
        os.path.join(tree, "**", "app.log")]}])
    for run in ("first", "again"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        got, err = run_once(conf)
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
        eq(sorted(messages(got)), sorted(want) if run == "first" else [],
           f"events, {run}")
        scans = int(err.split(" directory scans)")[0].rsplit("(", 1)[1])
        print(f"     {run} run: {cpu:.2f} user CPU-s, {scans} scans of "
              "21,021 directories")
        if cpu > 1.0:
            raise AssertionError(f"{run} run: {cpu:.2f} CPU-s")


@case
def a_socket_a_device_and_a_symlink_loop_are_said_once_with_what_to_do():
    # the loop said "cannot read: Too many levels of symbolic links",
    # which names no cause a user would look for, nor what to do
    import socket
    d = scratch("oddpaths")
    logs = os.path.join(d, "logs")
    append(os.path.join(logs, "ok.log"), ["ok 1"])
    sock_path, dev, loop1, loop2 = (os.path.join(logs, n) for n in (
        "sock.log", "dev.log", "loop1.log", "loop2.log"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(sock_path)
    os.symlink("/dev/null", dev)
    os.symlink(loop2, loop1)
    os.symlink(loop1, loop2)
    try:
        conf = write_config(d, [{"type": "file", "paths": [
            os.path.join(logs, "*.log")]}])
        got, err = run_once(conf)
    finally:
        sock.close()
    eq(messages(got), ["ok 1"], "events")
    other = ("is not a regular file (a FIFO, socket or device); the file "
             "input reads regular files only (for a pipe, use the stdin "
             "input); tried again at every scan")
    looped = ("cannot read: a loop of symbolic links (or too many in a row); "
              "point the link at the log file, or remove it; tried again at "
              "every scan")
    eq(sorted(l.split("  ", 1)[1] for l in err.splitlines()
              if " warn " in l),
       sorted([f"[{dev}] {other}", f"[{loop1}] {looped}",
               f"[{loop2}] {looped}", f"[{sock_path}] {other}"]),
       "one warning each")


@case
def copytruncate_under_a_writer_without_append_loses_no_line():
    # the writer keeps its offset past the truncation, so the file reads
    # as zeros (a hole) up to its next line: those zeros were one line cut
    # at 1 MiB and tagged (6 MB of \u0000 as JSON), and the first line
    # after them, the rest of that "line", was skipped: lost
    d = scratch("holes")
    log = os.path.join(d, "logs", "app.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o644)  # no O_APPEND
    try:
        before = [f"before {i:05d} " + "x" * 100 for i in range(12000)]
        os.write(fd, "".join(l + "\n" for l in before).encode())
        size = os.fstat(fd).st_size
        sh = Shipper(SHIPPER, ENV, write_config(d, [{
            "type": "file", "paths": [log], "scan_interval": "50ms",
            "poll_interval": "50ms"}]), d)
        try:
            sh.wait_events(len(before))
            os.truncate(log, 0)  # logrotate's copytruncate, copy aside
            wait_for("the truncation seen", lambda: sh.alive() or
                     "offset 0" in sh.text())
            after = [f"after {i}" for i in range(3)]
            for l in after:
                os.write(fd, (l + "\n").encode())
            # in file order: zeros made an event, it would come first
            got = sh.wait_events(len(before) + len(after))
            sh.alive()
        finally:
            got = sh.stop()
    finally:
        os.close(fd)
    eq(messages(got), before + after, "every line once, no zeros")
    eq([e["log"]["offset"] for e in got[len(before):]],
       offsets_of(after, size), "offsets after the hole")
    said = [l.split("  ", 1)[1] for l in sh.text().splitlines()
            if "NUL bytes" in l]
    eq(said, [f"[input:file:{log}] skipped {size} NUL bytes before offset "
              f"{size}: a hole, as a file truncated while its writer kept "
              "its offset reads (copytruncate, and a writer not in append "
              "mode: open its log with O_APPEND, or rotate by renaming); "
              "the lines after it are read"], "said once")


@case
def the_shippers_own_stdout_under_paths_is_not_read():
    # `run > out.log` with the stdout output, out.log matched by paths:
    # each event came back as a new line a second later, quoted once more,
    # for ever (one line grew to 1 MiB in 20 generations)
    d = scratch("ownout")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one"])
    sh = Shipper(SHIPPER, ENV, write_config(d, [{
        "type": "file", "paths": [log, os.path.join(d, "std*")],
        "scan_interval": "50ms"}]), d)
    try:
        sh.wait_events(1)
        said = (f"[{sh.out_path}] is the shipper's own output (stdout): not "
                "read (each event would come back as a new line, for ever); "
                "keep it out of `paths` (an `exclude`, or write it "
                "elsewhere)")
        wait_for("the warning", lambda: sh.alive() or said in sh.text())
        append(log, ["two"])
        sh.wait_events(2)
    finally:
        got = sh.stop()
    eq(messages(got), ["one", "two"], "events")
    eq(sh.text().count(said), 1, "said once")


@case
def a_data_dir_under_paths_is_not_read():
    # data_dir inside what paths match (`**` over the logs' directory):
    # each registry save made a new registry.json, read as a new file,
    # each entry of it an event, each event's file a new entry: 900 events
    # in 4 s from one line, and growing. A log kept in data_dir itself is
    # read as any other (tests and scripts put both in one directory).
    d = scratch("owndir")
    logs = os.path.join(d, "logs")
    append(os.path.join(logs, "app.log"), ["one"])
    state = os.path.join(logs, "state")
    os.makedirs(state)
    append(os.path.join(state, "beside.log"), ["beside"])
    sh = Shipper(SHIPPER, ENV, write_config(d, [{
        "type": "file", "paths": [os.path.join(logs, "**", "*")],
        "scan_interval": "50ms"}], None, {"data_dir": state}), d)
    try:
        sh.wait_events(2)
        said = (f"[{state}/registry.json] is the shipper's own file in its "
                "data_dir: not read (its registry would come back as "
                "events, for ever); keep data_dir out of `paths`")
        wait_for("the warning", lambda: sh.alive() or said in sh.text())
        append(os.path.join(logs, "app.log"), ["two"])
        sh.wait_events(3)
    finally:
        got = sh.stop()
    eq(sorted(messages(got)), ["beside", "one", "two"], "events")
    eq(sh.text().count(said), 1, "said once")


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
