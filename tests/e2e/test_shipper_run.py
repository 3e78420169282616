#!/usr/bin/env python3
"""`sluice-shipper run` and `run --once` end to end, driving the real binary
in a scratch directory: stdout output on the sample Apache log with grok and
date (exact events, the same on a second run), stdin with multiline, a
redis-server this test starts on a free port (every line in the stream
once, nothing again on a second run, only what was appended on a third),
kill -9 in the middle of a large file (every line there after a restart,
duplicates only with identical ids), a rename rotation while running,
SIGTERM (exit 0, registry saved), and bad configs (exit 2).

usage: test_shipper_run.py SLUICE_SHIPPER CONF_DIR
"""
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, Redis, Shipper,  # noqa: E402
                             case, eq, failures, http_get, http_port,
                             redis_output, wait_for, write_config)

SHIPPER, CONF = sys.argv[1:3]
SAMPLE = os.path.join(CONF, "samples", "apache_access.log")
APP_SAMPLE = os.path.join(CONF, "samples", "app.log")
TMP = shipper_harness.tmp_dir("sluice-e2e-")
scratch = functools.partial(shipper_harness.scratch, TMP)
run_once = functools.partial(shipper_harness.run_once, SHIPPER)


APACHE = [{"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}},
          {"date": {"field": "timestamp",
                    "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}}]


# --- stdout ----------------------------------------------------------------

@case
def once_to_stdout_gives_every_apache_line_as_an_event():
    d = scratch("stdout")
    log = os.path.join(d, "logs", "access.log")
    with open(SAMPLE, "rb") as f:
        data = f.read()
    with open(log, "wb") as f:
        f.write(data)
    lines = data.decode().splitlines()
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "processors": APACHE,
                             "fields": {"service.name": "shop"}}],
                        {"stdout": {}})
    out, _ = run_once(conf)
    events = [json.loads(l) for l in out.splitlines()]
    eq(len(events), len(lines), "event count")
    eq([e["message"] for e in events], lines)
    offsets, off = [], 0
    for l in lines:
        offsets.append(off)
        off += len(l.encode()) + 1
    eq([e["log"]["offset"] for e in events], offsets)
    eq(events[1], {
        "@timestamp": "2026-11-23T08:00:07.000Z", "message": lines[1],
        "host": {"name": "e2e-host"},
        "agent": {"type": "sluice-shipper", "version": "0.1.0"},
        "log": {"file": {"path": log}, "offset": offsets[1]},
        "service": {"name": "shop"},
        "source": {"address": "192.0.2.44"}, "user": {"name": "alice"},
        "timestamp": "23/Nov/2026:09:00:07 +0100",
        "http": {"request": {"method": "GET"}, "version": "1.1",
                 "response": {"status_code": 200, "body": {"bytes": 2577}}},
        "url": {"original": "/admin"},
        "user_agent": {"original": "Googlebot/2.1 "
                                   "(+http://www.google.com/bot.html)"}})
    eq([e.get("tags") for e in events if "tags" in e], [], "tags")
    # the registry holds the whole file: a second run ships nothing
    out2, _ = run_once(conf)
    eq(out2, "", "second run")
    # a fresh data_dir ships the same events, byte for byte
    os.rename(os.path.join(d, "data"), os.path.join(d, "data.old"))
    out3, _ = run_once(conf)
    eq(out3, out, "a run from scratch")


@case
def the_time_read_of_a_file_not_written_since_is_the_same_on_a_replay():
    d = scratch("mtime")
    log = os.path.join(d, "logs", "old.log")
    with open(log, "w") as f:
        f.write("no date here\nnor here\n")
    os.utime(log, (1795420861, 1795420861))  # 2026-11-23T08:01:01Z
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        {"stdout": {}})
    out, _ = run_once(conf)
    eq([json.loads(l)["@timestamp"] for l in out.splitlines()],
       ["2026-11-23T08:01:01.000Z"] * 2)
    os.rename(os.path.join(d, "data"), os.path.join(d, "data.old"))
    out2, _ = run_once(conf)  # a replay: the same events, the same index
    eq(out2, out)


@case
def two_inputs_each_with_its_fields_and_format():
    d = scratch("two")
    a = os.path.join(d, "logs", "a.log")
    b = os.path.join(d, "logs", "b.json")
    with open(a, "w") as f:
        f.write("".join(f"a{i}\n" for i in range(300)))
    with open(b, "w") as f:
        f.write("".join('{"log":"b%d\\n","stream":"stderr","time":'
                        '"2026-12-04T17:00:%02d.5Z"}\n' % (i, i % 60)
                        for i in range(300)))
    conf = write_config(d, [
        {"type": "file", "paths": [a], "fields": {"service.name": "a"}},
        {"type": "file", "paths": [b], "format": "docker",
         "fields": {"service": {"name": "b"}}}], {"stdout": {}})
    out, _ = run_once(conf)
    got = [json.loads(l) for l in out.splitlines()]
    by = {"a": [], "b": []}
    for e in got:
        by[e["service"]["name"]].append(e)
    eq([e["message"] for e in by["a"]], [f"a{i}" for i in range(300)])
    eq([e["message"] for e in by["b"]], [f"b{i}" for i in range(300)])
    eq({e["log"]["file"]["path"] for e in by["b"]}, {b})
    eq(by["b"][61]["@timestamp"], "2026-12-04T17:00:01.500Z")
    eq({e.get("stream") for e in by["b"]}, {"stderr"})


@case
def dropped_events_are_not_shipped_and_the_registry_passes_them():
    d = scratch("drop")
    log = os.path.join(d, "logs", "app.log")
    lines = ["keep 1", "debug 2", "keep 3", "debug 4", "debug 5"]
    with open(log, "w") as f:
        f.write("\n".join(lines) + "\n")
    conf = write_config(d, [{"type": "file", "paths": [log], "processors": [
        {"drop": {"when": {"contains": {"message": "debug"}}}}]}],
        {"stdout": {}})
    out, _ = run_once(conf)
    eq([json.loads(l)["message"] for l in out.splitlines()],
       ["keep 1", "keep 3"])
    # the trailing dropped lines are passed too: nothing is read again
    with open(os.path.join(d, "data", "registry.json")) as f:
        eq(json.load(f)["entries"][0]["offset"], os.path.getsize(log),
           "the registry")


@case
def once_on_stdin_joins_tracebacks_and_ends_at_eof():
    d = scratch("stdin")
    with open(APP_SAMPLE, "rb") as f:
        data = f.read()
    conf = write_config(d, [{"type": "stdin", "multiline": {
        "pattern": "^%{TIMESTAMP_ISO8601} ", "negate": True}}],
        {"stdout": {}})
    out, _ = run_once(conf, stdin=data)
    events = [json.loads(l) for l in out.splitlines()]
    # each event starts at a line with a timestamp; joined, they are the input
    starts = [l for l in data.decode().splitlines() if l[:4].isdigit()]
    eq(len(events), len(starts), "event count")
    eq("\n".join(e["message"] for e in events) + "\n", data.decode())
    eq(events[2]["message"].count("\n"), 6, "the traceback joined")
    eq(all("file" not in e.get("log", {}) for e in events), True)


@case
def an_over_long_line_is_cut_and_tagged_and_the_next_one_is_whole():
    d = scratch("long")
    data = b"a" * (3 << 20) + b"\nnext\n"
    conf = write_config(d, [{"type": "stdin"}], {"stdout": {}})
    out, _ = run_once(conf, stdin=data)
    got = [json.loads(l) for l in out.splitlines()]
    eq([(len(e["message"]), e.get("tags")) for e in got],
       [(1 << 20, ["_truncated"]), (4, None)])
    eq(got[1]["message"], "next")


@case
def an_event_too_large_for_a_batch_is_cut_and_tagged_not_dropped():
    # 4 MiB of control bytes, joined by multiline, write as 24 MiB of
    # \u0001 escapes: over the 8 MiB an event may take in a batch
    d = scratch("huge")
    data = (b"start\n" + (b"\x01" * 1000000 + b"\n") * 5 + b"start 2\n")
    ml = {"pattern": "^start", "negate": True, "match": "after",
          "max_bytes": "4MiB"}
    conf = write_config(d, [{"type": "stdin", "multiline": ml}],
                        {"stdout": {}})
    out, _ = run_once(conf, stdin=data)
    got = [json.loads(l) for l in out.splitlines()]
    # the fifth line passes max_bytes: it goes on in the next event
    eq([(len(e["message"]), e.get("tags")) for e in got],
       [(1 << 20, ["_truncated"]), (1000000, ["_multiline_continued"]),
        (7, None)])
    eq(got[0]["message"][:7], "start\n\x01")
    eq(got[2]["message"], "start 2")


@case
def cri_parts_are_joined_with_the_runtime_time_and_stream():
    d = scratch("cri")
    data = (b"2026-12-04T17:00:32.123456789Z stdout P GET /a \n"
            b"2026-12-04T17:00:32.2Z stderr F warn: slow\n"
            b"2026-12-04T17:00:32.3Z stdout F 200\n"
            b"not a cri line\n")
    conf = write_config(d, [{"type": "stdin", "format": "cri"}],
                        {"stdout": {}})
    out, _ = run_once(conf, stdin=data)
    got = [(e["@timestamp"], e.get("stream"), e["message"], e.get("tags"))
           for e in map(json.loads, out.splitlines())]
    eq(got, [("2026-12-04T17:00:32.123Z", "stdout", "GET /a ", None),
             ("2026-12-04T17:00:32.200Z", "stderr", "warn: slow", None),
             ("2026-12-04T17:00:32.300Z", "stdout", "200", None),
             (got[3][0], None, "not a cri line",
              ["_containerparsefailure"])])


# --- Redis -----------------------------------------------------------------

def apache_lines(n, start=0):
    return [f'192.0.2.{i % 250} - - [23/Nov/2026:09:{(i // 60) % 60:02d}:'
            f'{i % 60:02d} +0100] "GET /item?n={i} HTTP/1.1" 200 {i} "-" '
            f'"e2e"' for i in range(start, start + n)]


@case
def once_to_redis_ships_each_line_once_and_then_only_new_ones():
    r = Redis()
    try:
        d = scratch("redis")
        log = os.path.join(d, "logs", "access.log")
        lines = apache_lines(5000)
        with open(log, "w") as f:
            f.write("\n".join(lines) + "\n")
        conf = write_config(d, [{"type": "file", "paths": [log],
                                 "processors": APACHE}],
                            redis_output(r, batch_events=700))
        run_once(conf)
        got = r.events("e2e:events")
        eq([e["message"] for _, _, e in got], lines, "first run")
        eq(len({i for i, _, _ in got}), len(lines), "distinct ids")
        eq(all(len(i) == 22 for i, _, _ in got), True, "id length")
        # the batch time is @timestamp (the date processor's)
        eq(got[61][1], 1795420861000, "batch time")
        eq(got[61][2]["@timestamp"], "2026-11-23T08:01:01.000Z")
        eq(r.cmd("XLEN", "e2e:events"), 8, "batches of 700")
        run_once(conf)
        eq(r.cmd("XLEN", "e2e:events"), 8, "a second run ships nothing")
        more = apache_lines(7, 5000)
        size = os.path.getsize(log)
        with open(log, "a") as f:
            f.write("\n".join(more) + "\n")
        run_once(conf)
        got2 = r.events("e2e:events")
        eq([e["message"] for _, _, e in got2[len(lines):]], more, "appended")
        eq(len(got2), len(lines) + len(more))
        offs = [size + sum(len(m) + 1 for m in more[:i]) for i in range(7)]
        eq([e["log"]["offset"] for _, _, e in got2[len(lines):]], offs,
           "offsets of the appended lines")
        with open(os.path.join(d, "data", "registry.json")) as f:
            eq(json.load(f)["entries"][0]["offset"], os.path.getsize(log),
               "the registry after the third run")
    finally:
        r.stop()


@case
def a_full_outbox_stops_the_framing_anywhere_and_it_resumes_in_order():
    # one batch in flight of 7 events: the drain stops in the middle of
    # chunks and of multiline events again and again
    r = Redis()
    try:
        d = scratch("outbox")
        log = os.path.join(d, "logs", "trace.log")
        events = []
        for i in range(3000):
            events.append("\n".join([f"x{i} head"] +
                                     [f"  cont {i}.{j}" for j in range(i % 4)]))
        text = "\n".join(events) + "\n"
        with open(log, "w") as f:
            f.write(text)
        conf = write_config(d, [{"type": "file", "paths": [log],
                                 "multiline": {"pattern": "^x",
                                               "negate": True}}],
                            redis_output(r, batch_events=7, max_in_flight=1))
        run_once(conf)
        got = r.events("e2e:events")
        eq([e["message"] for _, _, e in got], events, "events in order")
        offs, off = [], 0
        for e in events:
            offs.append(off)
            off += len(e.encode()) + 1
        eq([e["log"]["offset"] for _, _, e in got], offs, "offsets")
        eq(r.cmd("XLEN", "e2e:events"), (3000 + 6) // 7, "batches")
        with open(os.path.join(d, "data", "registry.json")) as f:
            eq(json.load(f)["entries"][0]["offset"], len(text.encode()),
               "the registry")
    finally:
        r.stop()


@case
def kill_9_mid_stream_then_restart_loses_nothing():
    r = Redis()
    try:
        d = scratch("kill9")
        log = os.path.join(d, "logs", "big.log")
        lines = [f"line {i} " + "x" * (i % 97) for i in range(200000)]
        with open(log, "w") as f:
            f.write("\n".join(lines) + "\n")
        inputs = [{"type": "file", "paths": [log]}]
        # max_pending holds the shipper after 5 batches: killed mid-stream
        conf = write_config(d, inputs, redis_output(
            r, batch_events=1000, max_pending=5))
        sh = Shipper(SHIPPER, ENV, conf, d)
        wait_for("5 batches", lambda: r.cmd("XLEN", "e2e:events") >= 5)
        time.sleep(0.3)  # acks and a registry save may land, or not
        sh.kill()
        first = r.events("e2e:events")
        if not 0 < len(first) < len(lines):
            raise AssertionError(f"{len(first)} events before the kill")
        conf = write_config(d, inputs, redis_output(r, batch_events=1000))
        run_once(conf)
        got = r.events("e2e:events")
        ids = {}
        for id_, _, e in got:
            ids.setdefault(e["log"]["offset"], set()).add(id_)
        msgs = {e["log"]["offset"]: e["message"] for _, _, e in got}
        eq(len(msgs), len(lines), "every line")
        eq(sorted(msgs.values()) == sorted(lines), True, "the lines")
        eq([o for o, s in ids.items() if len(s) != 1], [],
           "offsets with two ids")
    finally:
        r.stop()


@case
def rename_rotation_while_running_and_sigterm_saves_the_registry():
    r = Redis()
    try:
        d = scratch("rotate")
        log = os.path.join(d, "logs", "app.log")
        with open(log, "w") as f:
            f.write("".join(f"old {i}\n" for i in range(100)))
        conf = write_config(d, [{"type": "file", "paths": [log],
                                 "rotate_wait": "200ms"}],
                            redis_output(r, batch_age="50ms"))
        sh = Shipper(SHIPPER, ENV, conf, d)
        count = lambda: len(r.events("e2e:events"))
        wait_for("100 events", lambda: count() == 100)
        with open(log, "a") as f:
            f.write("".join(f"old {i}\n" for i in range(100, 150)))
        os.rename(log, log + ".1")
        with open(log, "w") as f:
            f.write("".join(f"new {i}\n" for i in range(30)))
        wait_for("180 events", lambda: count() >= 180)
        time.sleep(0.3)
        msgs = [e["message"] for _, _, e in r.events("e2e:events")]
        want = [f"old {i}" for i in range(150)] + [f"new {i}" for i in
                                                   range(30)]
        eq(msgs, want, "every line once, the old file first")
        eq(sh.term(), 0, f"exit after SIGTERM; stderr: {sh.text()!r}")
        with open(os.path.join(d, "data", "registry.json")) as f:
            reg = json.load(f)
        offs = {e["ino"]: e["offset"] for e in reg["entries"]}
        eq(offs.get(os.stat(log).st_ino), os.path.getsize(log),
           "registry of the new file")
        eq(offs.get(os.stat(log + ".1").st_ino),
           os.path.getsize(log + ".1"), "registry of the rotated file")
    finally:
        r.stop()


@case
def rename_to_a_matched_name_then_the_new_file_is_read_too():
    # app.log* matches the rotated name: the renamed file is a live file
    # that no timer ends, and the new app.log used to wait for it forever
    # (nothing after a logrotate was shipped until a restart)
    d = scratch("rotate-matched")
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write("".join(f"old {i}\n" for i in range(100)))
    conf = write_config(d, [{"type": "file", "paths": [log + "*"]}],
                        {"stdout": {}})
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        def shipped():
            return [e["message"] for e in sh.events()]
        wait_for("100 events", lambda: len(shipped()) == 100)
        os.rename(log, log + ".1")
        with open(log, "w") as f:
            f.write("".join(f"new {i}\n" for i in range(30)))
        wait_for("130 events", lambda: len(shipped()) >= 130)
        eq(shipped(), [f"old {i}" for i in range(100)] +
           [f"new {i}" for i in range(30)], "every line once")
    finally:
        sh.term()


@case
def sigterm_with_redis_frozen_exits_after_the_grace_period_losing_nothing():
    r = Redis()
    try:
        d = scratch("frozen")
        log = os.path.join(d, "logs", "app.log")
        with open(log, "w") as f:
            f.write("".join(f"a {i}\n" for i in range(10)))
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_age="20ms"))
        sh = Shipper(SHIPPER, ENV, conf, d)
        wait_for("10 events", lambda: len(r.events("e2e:events")) == 10)
        time.sleep(1.5)  # a registry save after the acks
        r.proc.send_signal(signal.SIGSTOP)  # Redis answers nothing now
        with open(log, "a") as f:
            f.write("".join(f"b {i}\n" for i in range(10)))
        time.sleep(0.5)  # read and sent, never acknowledged
        t0 = time.monotonic()
        rc = sh.term()
        took = time.monotonic() - t0
        err = sh.text()
        eq(rc, 0, f"exit; stderr: {err!r}")
        if not 9 <= took <= 20 or "not acknowledged" not in err:
            raise AssertionError(f"{took:.1f} s; stderr: {err!r}")
        r.proc.send_signal(signal.SIGCONT)
        run_once(conf)
        got = r.events("e2e:events")
        want = [f"a {i}" for i in range(10)] + [f"b {i}" for i in range(10)]
        # the frozen batch may have been written: then twice, same ids
        eq(sorted({e["message"] for _, _, e in got}), sorted(want),
           "every line")
        ids = {}
        for id_, _, e in got:
            ids.setdefault(e["log"]["offset"], set()).add(id_)
        eq([o for o, v in ids.items() if len(v) != 1], [], "two ids")
    finally:
        r.proc.send_signal(signal.SIGCONT)
        r.stop()


# --- the daemon on stdin, its endpoint ----------------------------------------

@case
def daemon_on_stdin_serves_metrics_and_stops_on_sigterm():
    d = scratch("http")
    port = http_port()
    conf = write_config(d, [{"type": "stdin"}], {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    p = subprocess.Popen([SHIPPER, "-c", conf, "run"], env=ENV,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(b"one\ntwo\nthree\n")
    p.stdin.flush()

    def shipped():
        try:
            m = http_get(port, "/metrics")
        except OSError:
            return None
        return "\nsluice_shipper_events_total 3\n" in m and m
    m = wait_for("3 events counted", shipped)
    if "sluice_shipper_lines_total 3\n" not in m:
        raise AssertionError(m)
    st = http_get(port, "/status")
    body = json.loads(st.split("\r\n\r\n", 1)[1])
    eq(body["sluice_shipper_events_total"], 3, "/status")
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=DEADLINE_S)
    eq(p.returncode, 0, f"exit after SIGTERM; stderr: {err.decode()!r}")
    eq([json.loads(l)["message"] for l in out.decode().splitlines()],
       ["one", "two", "three"])


@case
def copytruncate_while_running_ships_each_line_once():
    r = Redis()
    try:
        d = scratch("copytruncate")
        log = os.path.join(d, "logs", "app.log")
        with open(log, "w") as f:
            f.write("".join(f"before {i}\n" for i in range(50)))
        conf = write_config(d, [{"type": "file", "paths": [log + "*"]}],
                            redis_output(r, batch_age="20ms"))
        sh = Shipper(SHIPPER, ENV, conf, d)
        count = lambda: len(r.events("e2e:events"))
        wait_for("50 events", lambda: count() == 50)
        with open(log, "a") as f:  # written just before the rotation
            f.write("".join(f"before {i}\n" for i in range(50, 60)))
        with open(log, "rb") as src, open(log + ".1", "wb") as dst:
            dst.write(src.read())
        with open(log, "r+") as f:
            f.truncate(0)
        with open(log, "a") as f:
            f.write("".join(f"after {i}\n" for i in range(20)))
        wait_for("80 events", lambda: count() >= 80)
        time.sleep(0.5)
        eq(sh.term(), 0, f"exit; stderr: {sh.text()!r}")
        msgs = [e["message"] for _, _, e in r.events("e2e:events")]
        eq(sorted(msgs), sorted([f"before {i}" for i in range(60)] +
                                [f"after {i}" for i in range(20)]),
           "each line once")
    finally:
        r.stop()


# --- bad configs -----------------------------------------------------------

@case
def bad_configs_exit_2_with_file_line_column():
    d = scratch("bad")
    cases = [
        ({"type": "file", "paths": ["/x"],
          "processors": [{"grk": {}}]}, "unknown"),
        ({"type": "file", "paths": ["/x"],
          "multiline": {"preset": "python", "pattern": "x"}}, "exactly one"),
        ({"type": "file", "paths": ["/x"], "start_at": "middle"}, "start_at"),
        ({"type": "stdin", "format": "xml"}, "format"),
    ]
    for inp, word in cases:
        conf = write_config(d, [inp], {"stdout": {}})
        for args in (["run", "--once"], ["check"]):
            p = subprocess.run([SHIPPER, "-c", conf, *args],
                               capture_output=True, env=ENV, timeout=60)
            err = p.stderr.decode()
            eq(p.returncode, 2, f"{args} on {inp}: {err!r}")
            if not err.startswith(f"sluice-shipper: {conf}:") or \
                    word not in err:
                raise AssertionError(f"message: {err!r}")


@case
def data_dir_that_cannot_be_created_says_so():
    d = scratch("datadir")
    with open(os.path.join(d, "file"), "w"):
        pass
    conf = write_config(d, [{"type": "stdin"}], {"stdout": {}},
                        {"data_dir": os.path.join(d, "file", "data")})
    _, err = run_once(conf, stdin=b"", status=1)
    if "cannot create data_dir" not in err:
        raise AssertionError(err)
    # a damaged registry is refused, and left as it is
    os.makedirs(os.path.join(d, "data"))
    reg = os.path.join(d, "data", "registry.json")
    with open(reg, "w") as f:
        f.write('{"version":1,"entries":[\n')
    conf = write_config(d, [{"type": "stdin"}], {"stdout": {}})
    _, err = run_once(conf, stdin=b"x\n", status=1)
    if f"{reg}:2:1:" not in err or "damaged" not in err:
        raise AssertionError(err)
    with open(reg) as f:
        eq(f.read(), '{"version":1,"entries":[\n', "the registry kept")


@case
def run_once_drops_the_entries_of_files_gone_for_a_week_and_keeps_the_rest():
    d = scratch("expiry")
    with open(os.path.join(d, "logs", "here.log"), "w") as f:
        f.write("here\n")
    conf = write_config(d, [{"type": "file", "paths": [
        os.path.join(d, "logs", "*.log")]}], {"stdout": {}})
    out, _ = run_once(conf)
    eq(len(out.splitlines()), 1, "the first run reads the file")
    reg = os.path.join(d, "data", "registry.json")
    with open(reg) as f:
        text = f.read()
    # every entry last seen 8 days ago (the ttl is 7), and one more of a
    # file that is not there
    week = int(time.time()) - 8 * 24 * 3600
    parts = text.split('"seen":')
    text = parts[0] + "".join(f'"seen":{week}' + p[p.index(","):]
                              for p in parts[1:])
    gone = ('{"dev":1,"ino":2,"fp":"00000000000000ff","fp_len":4,'
            '"key":"00000000000000aa","offset":4,"seen":%d,'
            '"path":"/nonexistent/gone.log"}' % week)
    eq(text.count('"entries":[\n'), 1, text)
    text = text.replace('"entries":[\n', '"entries":[\n' + gone + ",\n")
    with open(reg, "w") as f:
        f.write(text)
    out, _ = run_once(conf)
    eq(out, "", "the file still there is not read again")
    with open(reg) as f:
        text = f.read()
    eq(("gone.log" in text, "here.log" in text), (False, True), text)


HEADER = "".join(f"# header line {i:03d} of a report template\n"
                 for i in range(40))  # 1,600 bytes: more than the first KiB


def begin_with_header(name, paths_suffix, lines):
    """A scratch dir, its app.log (HEADER then lines), a config of paths
    app.log + paths_suffix to stdout, and a first run --once that ships
    all of it. Returns (log path, config)."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write(HEADER + "".join(l + "\n" for l in lines))
    conf = write_config(d, [{"type": "file", "paths": [log + paths_suffix]}],
                        {"stdout": {}})
    out, _ = run_once(conf)
    eq([json.loads(l)["message"] for l in out.splitlines()],
       HEADER.splitlines() + lines, "the first run")
    return log, conf


@case
def a_file_replaced_while_stopped_by_one_beginning_alike_is_read_whole():
    # the same first KiB (a header), other lines after it, on the same
    # inode (rewritten in place while the shipper was stopped): the first
    # bytes alone cannot tell them apart; the bytes before the offset can
    log, conf = begin_with_header("replaced", "",
                                  [f"old line {i}" for i in range(30)])
    header = HEADER
    ino = os.stat(log).st_ino
    new = [f"new line {i} of the replacement" for i in range(60)]
    with open(log, "w") as f:  # O_TRUNC: the same inode
        f.write(header + "".join(l + "\n" for l in new))
    eq(os.stat(log).st_ino, ino, "rewritten in place")
    out, err = run_once(conf)
    got = [json.loads(l)["message"] for l in out.splitlines()]
    eq(got, header.splitlines() + new, "every line of the new file, once")
    eq(err.count("not the file the registry knew at this inode"), 1, err)
    eq(" info " in [l for l in err.splitlines()
                    if "registry knew" in l][0], True, err)
    # an unchanged file resumes exactly where it was
    more = [f"appended {i}" for i in range(3)]
    with open(log, "a") as f:
        f.write("".join(l + "\n" for l in more))
    out, err = run_once(conf)
    eq([json.loads(l)["message"] for l in out.splitlines()], more,
       "only the appended lines")
    eq("registry knew" in err, False, err)
    out, _ = run_once(conf)
    eq(out, "", "nothing new, nothing shipped")
    data = os.path.join(os.path.dirname(os.path.dirname(log)), "data")
    with open(os.path.join(data, "registry.json")) as f:
        # the file's entry (the old file's ghost, for a copy of it, stays
        # a while beside it, under another inode)
        e = [e for e in json.load(f)["entries"] if e["ino"] == ino][0]
    eq((e["offset"], e["tail_at"], e["tail_len"]),
       (os.path.getsize(log), os.path.getsize(log), 1024), "the tail saved")


def metric_of(port, name, label=""):
    """The counter name of the daemon on port, summed over its series (those
    whose labels hold `label`), or None while it does not answer or has no
    such series."""
    try:
        m = http_get(port, "/metrics")
    except OSError:
        return None
    v = [int(float(l.rpartition(" ")[2])) for l in m.splitlines()
         if (l.startswith(name + "{") or l.startswith(name + " "))
         and label in l]
    return sum(v) if v else None


def scans_of(port):
    return metric_of(port, "sluice_shipper_scans_total")


@case
def a_file_read_steadily_asks_for_no_rescan():
    # a file the input knows whose metadata changes as it is written (a
    # writer that also touches it, as monitoring scripts and some loggers
    # do; chmod, a hard link, an xattr do the same): each change is an
    # inotify IN_ATTRIB, no reason to walk the directories again (97d2040;
    # an atime moved by a read raises no inotify event on Linux); the
    # periodic scan is an hour away
    d = scratch("steady")
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write("line 0\n")
    port = http_port()
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "scan_interval": "1h"}],
                        {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    out = open(os.path.join(d, "out.json"), "w")
    p = subprocess.Popen([SHIPPER, "-c", conf, "run"], env=ENV, stdout=out,
                         stderr=subprocess.PIPE)
    try:
        def lines():  # read and framed (the output's batch age is 1 s)
            return metric_of(port, "sluice_shipper_lines_total")
        wait_for("the first line", lambda: lines() == 1)
        first = wait_for("the first scan counted", lambda: scans_of(port))
        with open(log, "a") as f:
            for i in range(1, 61):
                f.write(f"line {i}\n")
                f.flush()
                os.utime(log)
                wait_for(f"line {i} read", lambda: lines() == i + 1)
                time.sleep(0.02)  # not a wait for anything: a steady writer
        eq(scans_of(port), first, "scans after 60 lines read one by one")
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=DEADLINE_S)
        out.close()
    eq(p.returncode, 0, err.decode())
    with open(os.path.join(d, "out.json")) as f:
        eq(len(f.read().splitlines()), 61, "every line shipped")


@case
def run_once_over_many_files_scans_a_bounded_number_of_times():
    # the end is confirmed by one rescan once every file is read, not by a
    # walk at every quiet turn (33d7332); 2,000 files in 20 directories
    d = scratch("many-once")
    for i in range(2000):
        sub = os.path.join(d, "logs", f"d{i % 20:02d}")
        if i < 20:
            os.makedirs(sub)
        with open(os.path.join(sub, f"f{i}.log"), "w") as f:
            f.write(f"file {i}\n")
    conf = write_config(d, [{"type": "file", "paths": [
        os.path.join(d, "logs", "**", "*.log")]}], {"stdout": {}})
    out, err = run_once(conf)
    eq(len(out.splitlines()), 2000, "every line")
    import re
    m = re.search(r"every input read to its end \((\d+) directory scans\)",
                  err)
    if m is None:
        raise AssertionError(err)
    if not 2 <= int(m.group(1)) <= 3:
        raise AssertionError(f"{m.group(1)} scans: {err}")


@case
def copytruncate_while_stopped_of_a_file_that_begins_alike():
    # copytruncate while the shipper is stopped, and the truncated file
    # written again from the same header past the old offset: the copy
    # (its name matches too) gives the lines written since the last read,
    # the new file is read whole, nothing twice
    log, conf = begin_with_header("copytruncate-stopped", "*",
                                  [f"first {i}" for i in range(20)])
    header = HEADER
    since = [f"since the last read {i}" for i in range(5)]
    with open(log, "a") as f:
        f.write("".join(l + "\n" for l in since))
    with open(log, "rb") as f, open(log + ".1", "wb") as g:
        g.write(f.read())  # the copy
    new = [f"after the truncation, line {i}" for i in range(40)]
    with open(log, "w") as f:  # truncated, then written again
        f.write(header + "".join(l + "\n" for l in new))
    out, err = run_once(conf)
    got = [json.loads(l) for l in out.splitlines()]
    by_file = {}
    for e in got:
        by_file.setdefault(e["log"]["file"]["path"], []).append(e["message"])
    eq(by_file.get(log + ".1"), since, "from the copy: the lines since")
    eq(by_file.get(log), header.splitlines() + new, "the new file, whole")
    eq(len(got), len(since) + 40 + len(new), err)


def copytruncates_of(port):
    """The copytruncate rotations the daemon on port counted (0 before the
    first), or None while it does not answer."""
    if metric_of(port, "sluice_shipper_lines_total") is None:
        return None
    return metric_of(port, "sluice_input_rotations_total",
                     'kind="copytruncate"') or 0


@case
def copytruncate_copies_made_empty_or_ending_early_ship_nothing_twice():
    # logrotate's copytruncate while the application writes: the copier
    # creates the copy empty (seen so, before its bytes), and the writer
    # goes on while it copies, so the original is read past where the copy
    # ends before it is truncated. Each copy is recognised by its first
    # bytes: it gives only what was not read yet (here nothing), never its
    # lines again from 0. The three ways it was first seen: empty; complete
    # before the truncation (held while the original lives); complete after
    # it (matched to the truncated original's bytes).
    d = scratch("copytruncate-race")
    log = os.path.join(d, "logs", "app.log")
    port = http_port()
    conf = write_config(d, [{"type": "file", "paths": [log + "*"]}],
                        {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    out = open(os.path.join(d, "out.json"), "w")
    errf = os.path.join(d, "stderr.txt")
    p = subprocess.Popen([SHIPPER, "-c", conf, "run"], env=ENV, stdout=out,
                         stderr=open(errf, "w"))
    written = []

    def said(text):
        with open(errf) as f:
            return f.read().count(text)

    def write(tag, n):
        lines = [f"{tag} line {i:05d}" for i in range(n)]
        with open(log, "a") as f:
            f.write("".join(l + "\n" for l in lines))
        written.extend(lines)

    def lines():
        return metric_of(port, "sluice_shipper_lines_total")

    held = "where the original is (held until the original is truncated"

    def rotate(k, how):
        for j in range(k, 0, -1):  # .1 -> .2 ...
            if os.path.exists(f"{log}.{j}"):
                os.rename(f"{log}.{j}", f"{log}.{j + 1}")
        with open(log, "rb") as f:
            copy = f.read()[:-200]  # the writer went on during the copy
        scans = scans_of(port)
        holds = said(held)
        if how == "empty":
            open(log + ".1", "wb").close()
            wait_for("the empty copy seen", lambda: scans_of(port) > scans)
        tmp = os.path.join(d, "copy.tmp")  # not matched by paths
        if how == "after":
            os.truncate(log, 0)
        with open(tmp if how != "empty" else log + ".1", "ab") as f:
            f.write(copy)
        if how != "empty":
            os.rename(tmp, log + ".1")
        if how == "before":
            wait_for("the copy held", lambda: said(held) > holds)
        if how != "after":
            os.truncate(log, 0)

    try:
        wait_for("the daemon", lambda: lines() == 0)
        for k, how in enumerate(["empty", "before", "after", "empty"], 1):
            write(f"cycle {k}", 2000)
            wait_for(f"cycle {k} read", lambda: lines() >= len(written))
            eq(lines(), len(written), f"lines read by cycle {k} ({how})")
            ct = copytruncates_of(port)
            rotate(k, how)
            wait_for(f"copy {k} recognised ({how})",
                     lambda: copytruncates_of(port) > ct or
                     lines() > len(written))
        write("last", 10)
        wait_for("all read", lambda: lines() >= len(written))
        time.sleep(0.5)  # not a wait for anything: lines read twice show
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=DEADLINE_S)
        out.close()
    with open(errf) as f:
        err = f.read()
    eq(p.returncode, 0, err)
    with open(os.path.join(d, "out.json")) as f:
        got = [json.loads(l)["message"] for l in f]
    eq(len(got) - len(set(got)), 0, "lines shipped twice")
    eq(sorted(got), sorted(written), "every line once")
    # a copy shorter than its original was read is no truncated file
    eq(said(".1] file shrank"), 0, "copies taken for truncated files")


@case
def logrotate_under_a_writer_loses_and_repeats_nothing():
    # the real logrotate (-f), three rotations of each kind while a thread
    # writes: every line written outside a logrotate run is shipped once;
    # a line written while copytruncate ran may be in neither file (the
    # tool's own window between copy and truncate), never twice
    lr = shutil.which("logrotate", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if lr is None:
        raise AssertionError("logrotate not found: run scripts/setup "
                             "(Debian package logrotate)")
    kinds = {"create": "create\ncompress\ndelaycompress",
             "copytruncate": "copytruncate\ncompress\ndelaycompress"}
    for kind, opts in kinds.items():
        d = scratch(f"logrotate-{kind}")
        log = os.path.join(d, "logs", "app.log")
        open(log, "w").close()
        with open(os.path.join(d, "lr.conf"), "w") as f:
            f.write(f"{log} {{\nrotate 9\nmissingok\n{opts}\n}}\n")
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log + "*"],
                                 "exclude": ["*.gz"]}],
                            {"stdout": {}},
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        out = open(os.path.join(d, "out.json"), "w")
        p = subprocess.Popen([SHIPPER, "-c", conf, "run"], env=ENV,
                             stdout=out, stderr=subprocess.PIPE)
        n, stop, windows = [0], threading.Event(), []

        def writer():
            while not stop.is_set():
                with open(log, "a") as f:
                    for _ in range(20):
                        f.write(f"{kind} line {n[0]:07d}\n")
                        n[0] += 1
                time.sleep(0.002)

        t = threading.Thread(target=writer)
        try:
            wait_for("the daemon", lambda: metric_of(
                port, "sluice_shipper_lines_total") == 0)
            t.start()
            for _ in range(3):
                time.sleep(0.4)  # not a wait for anything: lines to rotate
                first = n[0]
                r = subprocess.run([lr, "-f", "-s", os.path.join(d, "st"),
                                    os.path.join(d, "lr.conf")],
                                   capture_output=True, text=True)
                windows.append((first, n[0]))
                eq(r.returncode, 0, f"logrotate: {r.stderr}")
            time.sleep(0.3)
            stop.set()
            t.join()
            wait_for("every line read", lambda: metric_of(
                port, "sluice_shipper_lines_total") >= n[0] - sum(
                    b - a for a, b in windows))
            time.sleep(0.5)  # not a wait for anything: repeats would show
        finally:
            stop.set()
            if t.is_alive():
                t.join()
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=DEADLINE_S)
            out.close()
        eq(p.returncode, 0, err.decode())
        with open(os.path.join(d, "out.json")) as f:
            got = [json.loads(l)["message"] for l in f]
        seen = set(got)
        eq(len(got) - len(seen), 0, f"{kind}: lines shipped twice")
        in_window = lambda i: any(a <= i < b for a, b in windows)
        missing = [i for i in range(n[0])
                   if f"{kind} line {i:07d}" not in seen]
        eq([i for i in missing if not in_window(i)], [],
           f"{kind}: lines missing outside logrotate's runs")
        if kind == "create":
            eq(missing, [], "create: lines missing")


def shipper_status(conf):
    """`sluice-shipper status` on conf: its stdout; fails unless exit 0."""
    p = subprocess.run([SHIPPER, "-c", conf, "status"], capture_output=True,
                       env=ENV, timeout=DEADLINE_S)
    eq((p.returncode, p.stderr.decode()), (0, ""), "status")
    return p.stdout.decode()


@case
def status_shows_the_daemons_files_while_redis_is_down_from_the_start():
    """The registry has nothing (Redis never took a line), yet `status`
    against the running daemon lists the file with its size and state;
    once Redis is up, its acknowledged offset."""
    d = scratch("status-redis-down")
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write("one\ntwo\n")
    port, redis_port = http_port(), shipper_harness.free_port()
    listen = f"127.0.0.1:{port}"
    conf = write_config(
        d, [{"type": "file", "paths": [os.path.join(d, "logs", "*.log")]}],
        {"redis": {"url": f"redis://127.0.0.1:{redis_port}/0",
                   "key": "e2e:events"}},
        {"http": {"listen": listen}})
    s = Shipper(SHIPPER, ENV, conf, d, port=port)
    r = None
    try:
        body = json.loads(http_get(port, "/status").split("\r\n\r\n", 1)[1])
        eq(body["sluice_shipper_events_total"], 0, "/status keeps its counters")
        eq((body["files"], body["files_known"], body["files_omitted"]),
           ([{"path": log, "state": "waiting-output", "acked": None,
              "read": None, "size": 8, "last_read": None}], 1, 0),
           "/status files")
        lines = shipper_status(conf).splitlines()
        eq(lines[0], f"registry {d}/data/registry.json: none yet (the "
                     "shipper has not acknowledged anything)")
        at = lines.index(f"files from the daemon at {listen}, newer than the "
                         "registry: 1")
        eq(lines[at + 1].split(), ["FILE", "ACKED", "READ", "SIZE", "LAG",
                                   "LAST", "READ", "STATE"])
        # the path is cut in its middle to 48 columns, its end kept
        cut = lambda row: [row[0][-13:], *row[1:]]
        eq([cut(l.split()) for l in lines[at + 2:]],
           [["/logs/app.log", "-", "-", "8", "B", "-", "-", "waiting-output"]])
        r = Redis(port=redis_port)
        row = lambda: cut(shipper_status(conf).splitlines()[-1].split())
        wait_for("app.log acknowledged", lambda: row()[1:3] == ["8", "B"])
        got = row()
        eq(got, ["/logs/app.log"] + ["8", "B"] * 3 + ["0", "B", got[-2],
                                                      "idle"])
    finally:
        s.stop()
        if r is not None:
            r.kill()


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
