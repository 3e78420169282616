#!/usr/bin/env python3
"""A multiline event that multiline.timeout completed, then continued,
through a kill -9 of the shipper (issue 12: "never lose or invent a line
... not through a kill -9"), with a redis-server this test starts (no
Elasticsearch: the stream is read back).

A Python traceback's writer pauses after its first lines for longer than
the timeout: the shipper ships the head alone (event E1, its id from its
first line's offset). Redis is stopped (SIGSTOP) once the batch carrying
E1 is in its socket, so the shipper never hears the ack and its registry
still says E1's first line; the shipper is killed with -9, the rest of
the traceback written, Redis continued (it takes E1) and the shipper
started again. It reads from E1's first line again; before the registry
kept the cut, it joined the whole traceback into one event under E1's id,
which Elasticsearch (create, the id as _id) refuses as a duplicate of E1:
the rest was lost. Now the restart cuts where the first run did.

Cases:
- timeout_cut_through_kill9: every event the run without a kill makes
  (the same offsets and messages), E1 again with its id and its bytes,
  and never an id with two contents.
- timeout_cut_without_kill: the same writes, no kill: each event once
  (E1 the head alone, the rest after it), and the registry holds no cut
  once the rest is acknowledged.
- timeout_cut_through_kill9_and_copytruncate: as timeout_cut_through_kill9,
  and while the shipper is down the rest is written and the log
  copytruncated (the copy matched by `paths`): the copy is read again from
  the head under the original's key and cut where the original was.
- once_flush_cut_through_kill9: `run --once` completes the open head at
  its end (a flush: the same kind of cut); its batch reaches Redis through
  a proxy that passes no reply once an XADD went by, so the shipper never
  hears the ack; kill -9, the rest written, a second `run --once`: the
  events of two runs without a kill, the head twice under one id.
- docker_partial_cut_through_kill9, cri_partial_cut_through_kill9: a
  container's split line (Docker's "log" without its "\n", CRI's P)
  whose rest did not come in the 5 s wait, shipped alone, its batch left
  unanswered in Redis, kill -9, the rest written, restart: the part again
  under its id, alone, the rest its own event (before the registry kept
  such cuts, the restart joined them under the part's id).
- cri_partial_cut_in_a_traceback_through_kill9: the same part as a
  traceback's last line so far (multiline python, timeout 30 s): the cut
  ends the traceback's event there in both runs.

usage: test_shipper_crash_cut.py SLUICE_SHIPPER
"""
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, case, eq,  # noqa: E402
                             http_port, redis_output, wait_for,
                             write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-cut-")
scratch = functools.partial(shipper_harness.scratch, TMP)

# the lines carry their time (grok + date), so an event sent twice has the
# same bytes both times (without a date, the time read is when it was read)
PROCESSORS = [{"grok": {"patterns": [r"^%{TIMESTAMP_ISO8601:timestamp} "]}},
              {"date": {"field": "timestamp",
                        "formats": ["yyyy-MM-dd HH:mm:ss"]}},
              {"remove": {"fields": ["timestamp"]}}]
START = "2026-12-05 10:00:00 INFO start"
HEAD = ("2026-12-05 10:00:01 ERROR request failed\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 12, in handle\n')
REST = ('    reply = backend.call(req)\n'
        '  File "backend.py", line 40, in call\n'
        "    raise TimeoutError(req)\n"
        "TimeoutError: req 17\n")
NEXT = "2026-12-05 10:00:09 INFO next"


def redis_unread(port):
    """Bytes waiting in the receive queues of redis-server's connections
    on port (/proc/net/tcp): a stopped server's unread commands."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "01" and int(local.split(":")[1], 16) == port:
                n += int(queues.split(":")[1], 16)
    return n


def events(r):
    """(id, json text, event) of the stream, in order."""
    return [(i, json.dumps(e, sort_keys=True), e)
            for i, _, e in r.events("e2e:events")]


def start(name, suffix):
    """A scratch directory, a redis-server and a shipper reading app.log
    (paths: its name + suffix) with the python preset and a 1 s timeout:
    (the directory, the log's path, the Redis, the config, the shipper)."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    port = http_port()
    conf = write_config(
        d, [{"type": "file", "paths": [log + suffix],
             "multiline": {"preset": "python", "timeout": "1s"},
             "processors": PROCESSORS}],
        redis_output(r), {"http": {"listen": f"127.0.0.1:{port}"}})
    return d, log, r, conf, Shipper(SHIPPER, ENV, conf, d, port=port)


def cut_head(f, r, sh, kill):
    """START shipped, then HEAD written to f and cut by the timeout (E1);
    with kill, Redis is stopped before the cut and the shipper killed with
    -9 once E1's batch is in Redis's socket, unanswered."""
    f.write((START + "\n").encode())
    wait_for("the first line in Redis", lambda: len(events(r)) == 1)
    f.write(HEAD.encode())
    wait_for("the head read", lambda: sh.metric(
        "sluice_shipper_lines_total") == 4)
    if kill:
        r.proc.send_signal(signal.SIGSTOP)
    # the timeout (1 s) cuts the head: E1, handed to the output
    wait_for("the head cut by the timeout", lambda: sh.metric(
        "sluice_shipper_events_total") == 2)
    if kill:
        wait_for("E1's batch in Redis's socket",
                 lambda: redis_unread(r.port) > 0)
        sh.kill()


def run(name, kill):
    """The writes, with the pause that cuts the traceback and, with kill,
    the shipper killed with -9 while Redis holds E1's batch unanswered:
    (the stream's events, the registry's text at the end)."""
    d, log, r, conf, sh = start(name, "")
    port = sh.port
    try:
        with open(log, "ab", buffering=0) as f:
            cut_head(f, r, sh, kill)
            f.write((REST + NEXT + "\n").encode())
            if kill:
                r.proc.send_signal(signal.SIGCONT)
                sh = Shipper(SHIPPER, ENV, conf, d, port=port)
        wait_for("the last line in Redis", lambda: any(
            e["message"] == NEXT for _, _, e in events(r)))
        eq(sh.stop(), [], "stdout")
        with open(os.path.join(d, "data", "registry.json")) as f:
            return events(r), f.read()
    finally:
        sh.kill()
        r.kill()


def check_ids(got):
    """Each id one content (the same bytes each time it was sent), each
    (offset, message) one id."""
    by_id, by_event = {}, {}
    for i, text, e in got:
        by_id.setdefault(i, set()).add(text)
        by_event.setdefault((e["log"]["offset"], e["message"]), set()).add(i)
    eq([sorted(t) for t in by_id.values() if len(t) > 1], [],
       "an id sent with two contents")
    eq([k for k, v in by_event.items() if len(v) > 1], [],
       "an event sent with two ids")


def shape(got):
    """The events as (offset, message), each once, in offset order."""
    return sorted({(e["log"]["offset"], e["message"]) for _, _, e in got})


@case
def timeout_cut_without_kill():
    got, reg = run("nokill", kill=False)
    check_ids(got)
    eq(len(got), len(shape(got)), "each event once")
    msgs = [e["message"] for _, _, e in got]
    eq(msgs[:2], [START, HEAD[:-1]], "the first line, then the head alone")
    eq("".join(m + "\n" for m in msgs[2:]), REST + NEXT + "\n",
       "the rest after the head, then the next line")
    eq('"cuts"' in reg, False, "a cut left in the registry: " + reg)


@case
def timeout_cut_through_kill9():
    want, _ = run("reference", kill=False)
    got, _ = run("kill9", kill=True)
    check_ids(got)
    eq(shape(got), shape(want), "the events of the run without a kill")
    e1 = [i for i, _, e in got if e["message"] == HEAD[:-1]]
    eq(len(e1) >= 1 and len(set(e1)) == 1, True, f"E1's ids: {e1}")


class ReplyCut(threading.Thread):
    """A proxy on a loopback port to Redis's: it passes the client's
    bytes, and Redis's replies until the client has sent an XADD, none
    after (so Redis runs the XADD and its ack never comes back)."""

    def __init__(self, redis_port):
        super().__init__(daemon=True)
        self.redis_port = redis_port
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.pump, args=(c,), daemon=True).start()

    def pump(self, c):
        s = socket.create_connection(("127.0.0.1", self.redis_port))
        cut = False
        try:
            while True:
                ready, _, _ = select.select([c, s], [], [])
                if c in ready:
                    data = c.recv(1 << 16)
                    if not data:
                        return
                    cut = cut or b"XADD" in data
                    s.sendall(data)
                if s in ready:
                    data = s.recv(1 << 16)
                    if not data:
                        return
                    if not cut:
                        c.sendall(data)
        except OSError:
            return
        finally:
            c.close()
            s.close()

    def close(self):
        self.lsock.close()


@case
def timeout_cut_through_kill9_and_copytruncate():
    d, log, r, conf, sh = start("copytruncate", "*")
    port = sh.port
    try:
        with open(log, "ab", buffering=0) as f:
            cut_head(f, r, sh, True)
            f.write(REST.encode())
            shutil.copyfile(log, log + ".1")
            os.truncate(log, 0)
            f.write((NEXT + "\n").encode())
        r.proc.send_signal(signal.SIGCONT)
        sh = Shipper(SHIPPER, ENV, conf, d, port=port)
        wait_for("the last line in Redis", lambda: any(
            e["message"] == NEXT for _, _, e in events(r)))
        # the rest as its own event, or (the loss) inside the head's
        wait_for("the rest in Redis", lambda: any(
            e["log"]["offset"] == len(START) + 1 + len(HEAD) or
            (e["log"]["offset"] == len(START) + 1 and
             e["message"] != HEAD[:-1]) for _, _, e in events(r)))
        eq(sh.stop(), [], "stdout")
        got = events(r)
    finally:
        sh.kill()
        r.kill()
    # the copy's events name the copy: the same bytes but the path
    for _, _, e in got:
        e["log"]["file"].pop("path")
    check_ids([(i, json.dumps(e, sort_keys=True), e) for i, _, e in got])
    eq(shape(got), sorted([(0, START), (len(START) + 1, HEAD[:-1]),
                           (len(START) + 1 + len(HEAD), REST[:-1]),
                           (0, NEXT)]),
       "the events of the original, the copy and the new file")


def once_runs(name, kill):
    """Two `run --once` over the file, the rest appended between them;
    with kill, the first talks to Redis through ReplyCut and is killed
    with -9 once its batch is in the stream."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    inputs = [{"type": "file", "paths": [log],
               "multiline": {"preset": "python", "timeout": "1s"},
               "processors": PROCESSORS}]
    proxy = ReplyCut(r.port) if kill else None
    try:
        with open(log, "ab", buffering=0) as f:
            f.write((START + "\n" + HEAD).encode())
            if kill:
                out = redis_output(r)
                out["redis"]["url"] = f"redis://127.0.0.1:{proxy.port}/0"
                conf = write_config(d, inputs, out)
                p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"],
                                     env=ENV, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                try:
                    wait_for("the batch in Redis", lambda: events(r))
                finally:
                    p.kill()
                    p.wait()
                eq(p.returncode, -signal.SIGKILL, "killed, not ended")
            else:
                shipper_harness.run_once(SHIPPER, write_config(
                    d, inputs, redis_output(r)))
            f.write((REST + NEXT + "\n").encode())
        shipper_harness.run_once(SHIPPER, write_config(d, inputs,
                                                       redis_output(r)))
        return events(r)
    finally:
        if proxy is not None:
            proxy.close()
        r.kill()


@case
def once_flush_cut_through_kill9():
    want = once_runs("once-reference", kill=False)
    check_ids(want)
    eq(len(want), len(shape(want)), "each event once")
    eq([e["message"] for _, _, e in want][:2], [START, HEAD[:-1]],
       "the first line, then the head alone")
    got = once_runs("once-kill9", kill=True)
    check_ids(got)
    eq(shape(got), shape(want), "the events of two runs without a kill")
    e1 = [i for i, _, e in got if e["message"] == HEAD[:-1]]
    eq(len(e1) == 2 and len(set(e1)) == 1, True, f"E1's ids: {e1}")


# ---- a container's split line cut by the wait for its rest --------------
#
# Docker's json-file driver and the CRI runtimes write a long line in
# parts (Docker: a "log" without its "\n"; CRI: tag P); a part whose rest
# has not come for 5 s is completed as it is (a stopped container's last
# line), a cut of the same kind as multiline.timeout's: a restart that
# reads the part again, its rest written since, joined them into one
# event under the part's id, Elasticsearch kept the part it had (create)
# and refused the whole: the rest lost.


def container_line(fmt, second, text, partial=False):
    """One line of a container log file (fmt: docker or cri), its time
    fixed so an event sent twice has the same bytes."""
    t = f"2026-12-05T10:00:{second:02d}.000000000Z"
    if fmt == "docker":
        return json.dumps({"log": text + ("" if partial else "\n"),
                           "stream": "stdout", "time": t}) + "\n"
    return f"{t} stdout {'P' if partial else 'F'} {text}\n"


def partial_cut_through_kill9(name, fmt, multiline=None):
    """app.log (format fmt) gets the first line (shipped), then `before`
    (with multiline: a traceback's first lines) and a part of a split
    line; Redis is stopped, the part cut by the wait for its rest (5 s),
    its batch left in Redis's socket, the shipper killed with -9; the
    rest of the line and the lines after it are written, Redis continued,
    the shipper started again: (the stream's events, the texts written in
    order, the message the part's event must have)."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    port = http_port()
    inp = {"type": "file", "paths": [log], "format": fmt}
    if multiline:
        inp["multiline"] = multiline
    conf = write_config(d, [inp], redis_output(r),
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    first = "2026-12-05 10:00:00 INFO start"
    before = HEAD.splitlines() if multiline else []
    part, rest = "    reply = backend.ca", "ll(req)"
    after = REST.splitlines()[1:] + [NEXT] if multiline else [NEXT]
    # with multiline, NEXT's event ends at the next record (the stop
    # leaves an open event to the next start)
    last = [container_line(fmt, 4, "2026-12-05 10:00:10 INFO last")] \
        if multiline else []
    sh = Shipper(SHIPPER, ENV, conf, d, port=port)
    try:
        with open(log, "ab", buffering=0) as f:
            f.write(container_line(fmt, 0, first).encode())
            if multiline:  # the first event ends at the next record
                f.write(container_line(fmt, 1, before[0]).encode())
            wait_for("the first line in Redis", lambda: any(
                e["message"] == first for _, _, e in events(r)))
            f.write("".join(container_line(fmt, 1, t)
                            for t in before[1:]).encode())
            f.write(container_line(fmt, 2, part, partial=True).encode())
            wait_for("the part read", lambda: sh.metric(
                "sluice_shipper_lines_total") == 2 + len(before))
            r.proc.send_signal(signal.SIGSTOP)
            wait_for("the part cut by the wait for its rest", lambda:
                     sh.metric("sluice_shipper_events_total") == 2)
            wait_for("the part's batch in Redis's socket",
                     lambda: redis_unread(r.port) > 0)
            sh.kill()
            f.write("".join([container_line(fmt, 3, t)
                             for t in [rest] + after] + last).encode())
        r.proc.send_signal(signal.SIGCONT)
        sh = Shipper(SHIPPER, ENV, conf, d, port=port)
        wait_for("the last line in Redis", lambda: any(
            e["message"] == NEXT for _, _, e in events(r)))
        eq(sh.stop(), [], "stdout")
        got = events(r)
    finally:
        sh.kill()
        r.kill()
    return got, [first] + before + [part, rest] + after, \
        "\n".join(before + [part])


def check_partial_cut(got, texts, cut):
    check_ids(got)
    msgs = {e["message"] for _, _, e in got}
    eq(cut in msgs, True, f"the part's event {cut!r} in {sorted(msgs)!r}")
    lines = [l for m in msgs for l in m.split("\n")]
    eq(sorted(lines), sorted(texts), "each line once, in distinct events")


@case
def docker_partial_cut_through_kill9():
    check_partial_cut(*partial_cut_through_kill9("docker-part", "docker"))


@case
def cri_partial_cut_through_kill9():
    check_partial_cut(*partial_cut_through_kill9("cri-part", "cri"))


@case
def cri_partial_cut_in_a_traceback_through_kill9():
    """With multiline (its timeout longer than the wait): the part cut
    ends the traceback's event there too, in both runs."""
    check_partial_cut(*partial_cut_through_kill9(
        "cri-part-ml", "cri", {"preset": "python", "timeout": "30s"}))


if __name__ == "__main__":
    sys.exit(shipper_harness.exit_code())
