#!/usr/bin/env python3
"""`sluice-shipper run --once` when Redis does not take its batches: it
waited for ever, so a cron job or a CI step piled up or hung. Now, after
output.redis.command_timeout with no batch accepted, it exits 1 with one
line (which Redis, what it answered or why it could not be reached, what
to check), the registry saved with only what
Redis acknowledged; a second run once the fault is repaired ships every
line exactly once. Each failure kind against a redis-server this test
starts: Redis down, a wrong password, SELECT of a db out of range, an ACL
user without XADD (stream) and without RPUSH (list), a read-only
replica, OOM at maxmemory with noeviction (after some batches went in),
stopped (SIGSTOP) at the start and after a first batch (given up on one
command_timeout after the batch it left unanswered, not two), writes
paused.
Redis answering but over max_pending is progress: `--once` waits for its
consumers past the budget and ends 0. The daemon (`run`) never gives up.

usage: test_shipper_once_gives_up.py SLUICE_SHIPPER
       (SLUICE_E2E_ONLY=name,name runs only those cases)
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, Redis, Shipper,  # noqa: E402
                             append, case, eq, exactly_once, failures,
                             free_port, registry_offsets,
                             scratch, wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-once-")
KEY = "e2e:events"
BUDGET_S = 2  # output.redis.command_timeout of every case
SLACK_S = 3   # start, the last turn, the final save, a loaded machine
# what the line says Redis did
LET_IN = "has not let the shipper in"
REFUSED = "has refused every batch"
NO_ANSWER = "has not answered the shipper's connection"
LATE = "has answered no batch in time"


def lines_of(name, n, width=0):
    return [f"{name} {i} " + "x" * width for i in range(n)]


def one_log(name, lines):
    d = scratch(TMP, name)
    log = os.path.join(d, "logs", "app.log")
    append(log, lines)
    return d, log


def config(d, log, url, **more):
    out = {"redis": {"url": url, "key": KEY, "codec": "none",
                     "command_timeout": f"{BUDGET_S}s", **more}}
    return write_config(d, [{"type": "file", "paths": [log]}], out)


def run_once(conf):
    """(exit status, seconds, stderr) of `run --once`."""
    t0 = time.monotonic()
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       capture_output=True, env=ENV, timeout=DEADLINE_S,
                       stdin=subprocess.DEVNULL)
    return p.returncode, time.monotonic() - t0, p.stderr.decode()


def gives_up(conf, shown, did, budget_s=BUDGET_S):
    """run --once ends with exit 1 within budget_s (not before the
    budget) and its one line: the Redis and what it did; (its stderr,
    that line)."""
    rc, secs, err = run_once(conf)
    eq(rc, 1, f"exit; stderr:\n{err}")
    if not BUDGET_S <= secs < budget_s + SLACK_S:
        raise AssertionError(f"gave up after {secs:.1f} s, the budget is "
                             f"{BUDGET_S} s; stderr:\n{err}")
    said = [l for l in err.splitlines() if "--once gives up" in l]
    want = (f"[shipper] --once gives up: {shown}, key 'e2e:events': for ",
            " s (output.redis.command_timeout) it " + did + " (",
            "; nothing is lost: the registry holds only what Redis "
            "acknowledged (", "then run again")
    if len(said) != 1 or " error " not in said[0] or \
            any(w not in said[0] for w in want):
        raise AssertionError(f"no one line {want!r}; stderr:\n{err}")
    return err, said[0]


def registry_at(d, log, want):
    offs = registry_offsets(os.path.join(d, "data", "registry.json"))
    eq(offs.get(os.stat(log).st_ino, 0), want, "registry offset")


def stream_events(r):
    return r.events(KEY)


def list_events(r):
    """The list's events as exactly_once takes them (the offset as id)."""
    return [(e["log"]["offset"], 0, e) for e in
            (json.loads(x) for x in r.cmd("LRANGE", KEY, 0, -1))]


def broken_then_repaired(name, url, did, said, repair, shown=None,
                         fixed_url=None, budget_s=BUDGET_S,
                         events=stream_events, **more):
    """300 lines; run --once against url gives up (the line says did and
    said: Redis's own words, or why the connection failed) and moves no
    offset; repair() (the Redis the lines go to) and a run against
    fixed_url ships every line exactly once."""
    lines = lines_of(name, 300)
    d, log = one_log(name, lines)
    err, line = gives_up(config(d, log, url, **more), shown or url, did,
                         budget_s)
    if said not in line:
        raise AssertionError(f"no {said!r} in the last line:\n{err}")
    registry_at(d, log, 0)
    r = repair()
    rc, _, err = run_once(config(d, log, fixed_url or url, **more))
    eq(rc, 0, f"the run after the repair; stderr:\n{err}")
    exactly_once(events(r), lines, "after the repair")


@case
def redis_down():
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    servers = []
    try:
        broken_then_repaired(
            "down", url, LET_IN, f"cannot connect to 127.0.0.1:{port}",
            lambda: servers.append(Redis(port=port)) or servers[0])
    finally:
        for r in servers:
            r.kill()


@case
def a_wrong_password():
    r = Redis(password="right")
    try:
        broken_then_repaired(
            "password", f"redis://:wrong@127.0.0.1:{r.port}/0", LET_IN,
            "login refused: WRONGPASS", lambda: r,
            shown=f"redis://:***@127.0.0.1:{r.port}/0",
            fixed_url=f"redis://:right@127.0.0.1:{r.port}/0")
    finally:
        r.kill()


@case
def a_db_out_of_range():
    r = Redis()
    try:
        url = f"redis://127.0.0.1:{r.port}/"
        broken_then_repaired(
            "db", url + "99", LET_IN,
            "SELECT 99 refused: ERR DB index is out of range", lambda: r,
            fixed_url=url + "0")
    finally:
        r.kill()


def acl_user_without(mode, command, events):
    r = Redis()
    try:
        r.cmd("ACL", "SETUSER", "shipper", "on", ">pw", "~*", "+@all",
              f"-{command}")
        broken_then_repaired(
            f"acl-{mode}", f"redis://shipper:pw@127.0.0.1:{r.port}/0",
            REFUSED, "NOPERM this user has no permissions to run the "
            f"'{command}' command",
            lambda: r.cmd("ACL", "SETUSER", "shipper", f"+{command}") and r,
            shown=f"redis://shipper:***@127.0.0.1:{r.port}/0",
            events=events, mode=mode)
    finally:
        r.kill()


@case
def an_acl_user_without_xadd():
    acl_user_without("stream", "xadd", stream_events)


@case
def an_acl_user_without_rpush():
    acl_user_without("list", "rpush", list_events)


@case
def a_read_only_replica():
    d = scratch(TMP, "replica-dir")
    # the master's snapshot for its replica is written in d, not here
    master = Redis(args=["--dir", d])
    replica = Redis(args=["--dir", d, "--replicaof", "127.0.0.1",
                          str(master.port)])
    try:
        broken_then_repaired(
            "replica", f"redis://127.0.0.1:{replica.port}/0", REFUSED,
            "READONLY You can't write against a read only replica",
            lambda: replica.cmd("REPLICAOF", "NO", "ONE") and replica)
    finally:
        replica.kill()
        master.kill()


@case
def a_stopped_redis():
    # kill -STOP: the connection is taken by the kernel, nothing answers
    r = Redis()
    try:
        r.proc.send_signal(signal.SIGSTOP)
        broken_then_repaired(
            "stopped", f"redis://127.0.0.1:{r.port}/0", NO_ANSWER, "",
            lambda: r.proc.send_signal(signal.SIGCONT) or r)
    finally:
        r.kill()


@case
def writes_paused():
    # CLIENT PAUSE WRITE: connected, PING and XLEN answered, XADD never;
    # seen when the batch's command_timeout is spent, and given up then
    r = Redis()
    try:
        r.cmd("CLIENT", "PAUSE", 60000, "WRITE")
        broken_then_repaired(
            "paused", f"redis://127.0.0.1:{r.port}/0", LATE,
            "the last connection ended: a command got no reply by its "
            "deadline", lambda: r.cmd("CLIENT", "UNPAUSE") and r)
    finally:
        r.kill()


@case
def stopped_mid_run_gives_up_after_one_budget():
    # Redis stopped (SIGSTOP) after it took the first batch: the next one
    # is never answered. Seen when its command_timeout is spent, --once
    # counted its budget from then and gave up after twice the budget; it
    # now counts from when the batch was sent. A budget of 4 s, so that
    # twice it is past the slack.
    budget = 4
    d = scratch(TMP, "midrun")
    r = Redis()
    url = f"redis://127.0.0.1:{r.port}/0"
    conf = write_config(d, [{"type": "stdin"}], {"redis": {
        "url": url, "key": KEY, "codec": "none", "batch_age": "20ms",
        "command_timeout": f"{budget}s"}})
    p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=ENV)
    try:
        p.stdin.write(b"first\n")
        p.stdin.flush()
        wait_for("the first batch", lambda: r.cmd("XLEN", KEY) == 1)
        r.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        p.stdin.write(b"second\n")
        p.stdin.close()  # --once: ends when what it read is shipped
        rc = p.wait(timeout=DEADLINE_S)
        secs, err = time.monotonic() - t0, p.stderr.read().decode()
        eq(rc, 1, f"exit; stderr:\n{err}")
        if not budget - 0.5 <= secs < budget + SLACK_S:
            raise AssertionError(f"gave up {secs:.1f} s after the batch, "
                                 f"the budget is {budget} s:\n{err}")
        said = [l for l in err.splitlines() if "--once gives up" in l]
        want = (f"for {budget}.0 s (output.redis.command_timeout) it {LATE} "
                "(hung, paused, or slower than output.redis.command_timeout; "
                "the last connection ended: a command got no reply by its "
                "deadline")
        if len(said) != 1 or want not in said[0]:
            raise AssertionError(f"no one line with {want!r}:\n{err}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        r.kill()  # SIGKILL ends a stopped process too


@case
def oom_at_maxmemory_after_some_batches():
    # some batches go in, then Redis is full: the registry holds exactly
    # the lines of the batches Redis took
    lines = lines_of("oom", 4000, 200)
    d, log = one_log("oom", lines)
    r = Redis(args=["--maxmemory-policy", "noeviction"])
    try:
        used = int(r.info("memory")["used_memory"])
        r.cmd("CONFIG", "SET", "maxmemory", used + 300 * 1024)
        url = f"redis://127.0.0.1:{r.port}/0"
        conf = config(d, log, url, batch_events=100, max_in_flight=1)
        err, line = gives_up(conf, url, REFUSED)
        if "its last answer: \"OOM command not allowed" not in line:
            raise AssertionError(f"what Redis said, in the last line:\n{err}")
        got = r.events(KEY)
        if not 0 < len(got) < len(lines):
            raise AssertionError(f"{len(got)} of {len(lines)} events in "
                                 "Redis: wanted some, not all")
        eq([e["message"] for _, _, e in got], lines[:len(got)], "in Redis")
        registry_at(d, log, sum(len(l) + 1 for l in lines[:len(got)]))
        if f"({len(got)} events this run)" not in err:
            raise AssertionError(f"the count acknowledged:\n{err}")
        r.cmd("CONFIG", "SET", "maxmemory", 0)
        rc, _, err = run_once(conf)
        eq(rc, 0, f"the run after the repair; stderr:\n{err}")
        exactly_once(r.events(KEY), lines, "after the repair")
    finally:
        r.kill()


@case
def stdin_with_redis_down_says_its_lines_are_not_shipped():
    # a pipe is read once: the line does not say "nothing is lost"
    d = scratch(TMP, "stdin")
    url = f"redis://127.0.0.1:{free_port()}/0"
    conf = write_config(d, [{"type": "stdin"}], {"redis": {
        "url": url, "key": KEY, "command_timeout": f"{BUDGET_S}s"}})
    t0 = time.monotonic()
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       capture_output=True, env=ENV, timeout=DEADLINE_S,
                       input=b"one\ntwo\n")
    secs, err = time.monotonic() - t0, p.stderr.decode()
    eq(p.returncode, 1, f"exit; stderr:\n{err}")
    if not BUDGET_S <= secs < BUDGET_S + SLACK_S:
        raise AssertionError(f"gave up after {secs:.1f} s:\n{err}")
    want = (f"[shipper] --once gives up: {url}, key 'e2e:events': for ",
            f" s (output.redis.command_timeout) it {LET_IN} (", "); what "
            "stdin gave and Redis did not take is not shipped (a pipe is "
            "read once); Redis acknowledged 0 events this run; check that")
    if any(w not in err for w in want) or "nothing is lost:" in err:
        raise AssertionError(f"no {want!r} in:\n{err}")


@case
def max_pending_held_past_the_budget_is_progress():
    # Redis answering, the key at max_pending: --once waits for its
    # consumers however long, and ends 0
    lines = lines_of("pending", 200)
    d, log = one_log("pending", lines)
    r = Redis()
    p = None
    try:
        conf = config(d, log, f"redis://127.0.0.1:{r.port}/0",
                      batch_events=20, max_pending=2, batch_age="10ms")
        err_path = os.path.join(d, "stderr")
        with open(err_path, "wb") as err:
            p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"],
                                 env=ENV, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err)
        wait_for("the key at max_pending", lambda: r.cmd("XLEN", KEY) >= 2)
        t0 = time.monotonic()
        wait_for("the budget twice over", lambda: p.poll() is not None or
                 time.monotonic() - t0 > 2 * BUDGET_S)
        eq(p.poll(), None, "run --once held by max_pending")
        got = []
        while p.poll() is None and len(got) < len(lines):
            got += r.events(KEY, delete=True)  # a consumer, slowly
            time.sleep(0.05)
        eq(p.wait(timeout=DEADLINE_S), 0, "exit")
        got += r.events(KEY, delete=True)
        exactly_once(got, lines, "through max_pending")
        with open(err_path, "rb") as f:
            if b"gives up" in f.read():
                raise AssertionError("gave up")
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        r.kill()


@case
def the_daemon_never_gives_up():
    lines = lines_of("daemon", 50)
    d, log = one_log("daemon", lines)
    port = free_port()
    sh = Shipper(SHIPPER, ENV, config(d, log, f"redis://127.0.0.1:{port}/0"),
                 d)
    r = None
    try:
        wait_for("Redis said unreachable",
                 lambda: "retrying with backoff" in sh.text())
        t0 = time.monotonic()
        wait_for("the budget twice over", lambda: sh.proc.poll() is not
                 None or time.monotonic() - t0 > 2 * BUDGET_S)
        sh.alive()
        r = Redis(port=port)
        wait_for("every line", lambda: len(r.events(KEY)) == len(lines))
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), lines, "the daemon")
        text = sh.text()
        eq(sum("retrying with backoff" in l for l in text.splitlines()), 1,
           f"the outage said once; log:\n{text}")
        if "gives up" in text:
            raise AssertionError(f"the daemon gave up:\n{text}")
    finally:
        sh.kill()
        if r is not None:
            r.kill()


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
