#!/usr/bin/env python3
"""multiline.timeout measures a writer's pause, not the shipper's: while
a file has bytes the shipper has not read (Redis stopped: the output has
no room, "the files are the buffer"; the file waits for a descriptor
under max_open_files; the shipper itself stopped), the open event of
that file does not time out, and the timeout counts from the time a read
finds the file's end again. Before, a Python traceback whose head was
read when reading stopped went out as two events (the head, and the
rest tagged `_multiline_continued`) although it was whole in the file,
which users saw at each Redis outage. With a redis-server this test
starts (SIGSTOP for the outage) and the python preset with a 1-2 s
timeout:

- a_traceback_across_a_chunk_through_an_outage: a file of tracebacks
  written at once; its first read (read_size 1 KiB) ends at a line end
  inside a traceback just as the events before it fill a batch
  (batch_events) that Redis, stopped, does not take (max_in_flight 1):
  reading stops there for 3 s, three times the timeout. Then Redis goes
  on: every event is the one `run --once` makes of the file, whole, none
  tagged continued, every line once.
- a_traceback_written_during_an_outage_under_max_open_files_1: two files,
  one descriptor; a traceback's head is read from a.log, Redis stopped,
  b.log's lines fill a batch and take the descriptor with bytes left,
  then the traceback's rest is written to a.log, which waits (for the
  descriptor and for room) for 4 s: one event, whole.
- a_traceback_written_while_the_shipper_is_stopped: the head read, the
  shipper stopped (SIGSTOP), the rest written, 3 s, SIGCONT: one event.
- a_writer_pause_still_cuts: a head, a pause of 2 s (timeout 1 s), the
  rest: the head alone after about the timeout, the rest an event of its
  own (what the timeout is for).

usage: test_shipper_held_timeout.py SLUICE_SHIPPER
"""
import functools
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, case, eq,  # noqa: E402
                             http_port, json_lines, redis_output,
                             run_once, wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-held-")
scratch = functools.partial(shipper_harness.scratch, TMP)
KEY = "e2e:events"
CONTINUED = "_multiline_continued"


def record(n, what="INFO request served"):
    return f"2026-12-05 10:{n // 60 % 60:02d}:{n % 60:02d} {what} {n}\n"


def traceback(n):
    """A record with a Python traceback under it: one event (7 lines)."""
    return (record(n, "ERROR request failed") +
            "Traceback (most recent call last):\n"
            '  File "app.py", line 12, in handle\n'
            "    reply = backend.call(req)\n"
            '  File "backend.py", line 40, in call\n'
            "    raise TimeoutError(req)\n"
            f"TimeoutError: req {n}\n")


def input_for(paths, timeout="1s", **more):
    i = {"type": "file", "paths": paths,
         "multiline": {"preset": "python", "timeout": timeout}}
    i.update(more)
    return i


def reference(d, inputs):
    """The messages `run --once` (stdout, no Redis) makes of the files as
    they are now, per file path, in order: the events as they are in the
    files, whole."""
    os.makedirs(os.path.join(d, "once"), exist_ok=True)
    conf = write_config(os.path.join(d, "once"), inputs,
                        extra={"data_dir": os.path.join(d, "once-data")})
    out, _ = run_once(SHIPPER, conf)
    return by_path(json_lines(out))


def by_path(evs):
    got = {}
    for e in evs:
        got.setdefault(e["log"]["file"]["path"], []).append(e["message"])
    return got


def check(evs, want, what):
    """evs (Redis's events) are want's (per path), none continued; a
    failure names the events that are not want's first."""
    cont = [e["message"] for e in evs if CONTINUED in e.get("tags", [])]
    eq(cont, [], f"{what}: events tagged {CONTINUED}")
    got = by_path(evs)
    for path in sorted(set(got) | set(want)):
        g, w = got.get(path, []), want.get(path, [])
        eq([m for m in g if m not in w], [],
           f"{what}: {os.path.basename(path)}: events not whole (cut)")
        eq(g, w, f"{what}: {os.path.basename(path)}: the events")


def shipped_whole(d, r, inputs):
    """Once Redis holds as many events as `run --once` makes of the files
    now, they are those events (check)."""
    want = reference(d, inputs)
    n_want = sum(len(v) for v in want.values())
    wait_for(f"{n_want} events in Redis",
             lambda: len(r.events(KEY)) >= n_want)
    check([e for _, _, e in r.events(KEY)], want, "after the outage")


def lines_read(sh):
    return sh.metric("sluice_shipper_lines_total") or 0


def stopped(r, fn):
    """fn() with Redis stopped (SIGSTOP), continued after, even when fn
    fails."""
    r.proc.send_signal(signal.SIGSTOP)
    try:
        fn()
    finally:
        r.proc.send_signal(signal.SIGCONT)


def stop_all(sh, r):
    if sh:
        sh.stop()
    r.kill()


def daemon(d, inputs, r, **out):
    port = http_port()
    conf = write_config(d, inputs, redis_output(r, **out),
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    return Shipper(SHIPPER, ENV, conf, d, port=port)


@case
def a_traceback_across_a_chunk_through_an_outage():
    d = scratch("chunk")
    log = os.path.join(d, "logs", "app.log")
    start = record(0, "INFO start")
    with open(log, "w") as f:
        f.write(start)
    # the bytes after start: events, then a filler record padded so that
    # the first 1 KiB read ends just after traceback T's third line
    body, n, nev = "", 1, 0
    while len(body) < 600:
        body += traceback(n) if n % 2 else record(n)
        n += 1
        nev += 1
    t = traceback(n)
    head = "".join(t.splitlines(keepends=True)[:3])
    pad = 1024 - len(body) - len(head) - len(record(n + 1, "INFO pad "))
    assert pad > 0, pad
    body += record(n + 1, "INFO pad " + "x" * pad)
    nev += 1
    assert len(body) + len(head) == 1024
    body += t
    for k in range(n + 2, n + 60):
        body += traceback(k) if k % 3 else record(k)
    inp = input_for([log], read_size="1KiB")
    r = Redis()
    sh = None
    try:
        # the events before T fill one batch: sealed, sent to a stopped
        # Redis, it leaves no room (max_in_flight 1) while T is open
        sh = daemon(d, [inp], r, batch_events=nev, batch_age="50ms",
                    max_in_flight=1)
        wait_for("the first line in Redis", lambda: len(r.events(KEY)) == 1)

        def outage():
            with open(log, "a") as f:
                f.write(body)
            wait_for("the first KiB read", lambda: lines_read(sh) >=
                     1 + (body[:1024]).count("\n"))
            time.sleep(3)  # three timeouts with T's rest unread
            eq(lines_read(sh), 1 + body[:1024].count("\n"),
               "lines read during the outage (reading stopped there)")
        stopped(r, outage)
        shipped_whole(d, r, [inp])
    finally:
        stop_all(sh, r)


@case
def a_traceback_written_during_an_outage_under_max_open_files_1():
    d = scratch("maxopen")
    a = os.path.join(d, "logs", "a.log")
    b = os.path.join(d, "logs", "b.log")
    for p in (a, b):  # not alike: a file that begins as another may be
        with open(p, "w") as f:  # its copy (held for rotate_wait)
            f.write(record(0, "INFO start " + os.path.basename(p)))
    inp = input_for([os.path.join(d, "logs", "*.log")], timeout="2s",
                    max_open_files=1, read_size="1KiB")
    r = Redis()
    sh = None
    try:
        sh = daemon(d, [inp], r, batch_events=5, batch_age="50ms",
                    max_in_flight=1)
        wait_for("both first lines in Redis", lambda: len(r.events(KEY)) == 2)
        t = traceback(1)
        cut = t.splitlines(keepends=True)
        with open(a, "a") as f:
            f.write("".join(cut[:3]))
        wait_for("the head read", lambda: lines_read(sh) == 5)

        def outage():
            # b's records: 5 events fill a batch Redis does not take;
            # b keeps the one descriptor with bytes left to read
            with open(b, "a") as f:
                f.write("".join(record(k) for k in range(2, 80)))
            wait_for("b read until no room", lambda: lines_read(sh) > 10)
            with open(a, "a") as f:
                f.write("".join(cut[3:]))
                f.write("".join(traceback(k) for k in range(100, 110)))
            time.sleep(4)  # a waits: for the descriptor, and for room
        stopped(r, outage)
        shipped_whole(d, r, [inp])
    finally:
        stop_all(sh, r)


def head_then_rest(name, pause):
    """A traceback's head written and read, pause(sh), then its rest and
    a record: (the Redis events' messages, the reference) ."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write(record(0, "INFO start"))
    inp = input_for([log])
    r = Redis()
    sh = None
    try:
        sh = daemon(d, [inp], r, batch_age="20ms")
        wait_for("the first line in Redis", lambda: len(r.events(KEY)) == 1)
        cut = traceback(1).splitlines(keepends=True)
        with open(log, "a") as f:
            f.write("".join(cut[:3]))
        wait_for("the head read", lambda: lines_read(sh) == 4)
        pause(sh, log, "".join(cut[3:]) + record(2))
        want = reference(d, [inp])
        wait_for("the last record in Redis", lambda: any(
            e["message"] == record(2).rstrip("\n")
            for _, _, e in r.events(KEY)))
        return r.events(KEY), want
    finally:
        stop_all(sh, r)


@case
def a_traceback_written_while_the_shipper_is_stopped():
    def pause(sh, log, rest):
        os.kill(sh.pid, signal.SIGSTOP)
        try:
            with open(log, "a") as f:
                f.write(rest)
            time.sleep(3)
        finally:
            os.kill(sh.pid, signal.SIGCONT)
    evs, want = head_then_rest("stall", pause)
    check([e for _, _, e in evs], want, "after the stop")


@case
def a_writer_pause_still_cuts():
    def pause(sh, log, rest):
        t0 = time.monotonic()
        wait_for("the head cut by the timeout", lambda: sh.metric(
            "sluice_shipper_events_total") == 2)
        took = time.monotonic() - t0
        if took > 2.5:
            raise AssertionError(f"the head cut after {took:.1f} s, not "
                                 "about the 1 s timeout")
        time.sleep(1)
        with open(log, "a") as f:
            f.write(rest)
    evs, _ = head_then_rest("pause", pause)
    msgs = [(e["message"], CONTINUED in e.get("tags", [])) for _, _, e in evs]
    cut = traceback(1).splitlines()
    eq(msgs, [(record(0, "INFO start").rstrip("\n"), False),
              ("\n".join(cut[:3]), False),
              ("\n".join(cut[3:]), False),
              (record(2).rstrip("\n"), False)], "the events")


if __name__ == "__main__":
    sys.exit(shipper_harness.exit_code())
