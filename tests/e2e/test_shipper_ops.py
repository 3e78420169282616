#!/usr/bin/env python3
"""`sluice-shipper`'s operations surface as an operator meets it, end to
end with the real binary: `status` and `/status` with 10,000 files (every
one listed, in bounded pages), the two reasons a file waits
(waiting-output, waiting-max-open), and SIGTERM when the registry cannot
be saved (exit 0, and the log says what that costs); a Redis outage
whose wording flaps (a FIN, then a RST: Redis down behind stunnel) said
once; `run --once` stopped by a signal before its end exits 1; the
output's counters against what Redis holds (stream and list mode);
SIGTERM ships what stdin gave (an open multi-line event, a last line
without its newline); a data_dir that cannot be written refused at start
(as root: a read-only tmpfs, and a directory nobody may write).

usage: test_shipper_ops.py SLUICE_SHIPPER
       (SLUICE_E2E_ONLY=name,name runs only those cases)
"""
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, Shipper, append,  # noqa: E402
                             case, eq, failures, free_port, http_get,
                             http_port, json_lines, registry_offsets,
                             scratch, wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-ops-")


def shipper_cli(conf, *args):
    p = subprocess.run([SHIPPER, "-c", conf, *args], capture_output=True,
                       env=ENV, timeout=DEADLINE_S)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def status_cmd(conf):
    return shipper_cli(conf, "status")


def daemon_rows(out):
    """The rows of status's daemon table: [(cells...)], and its line."""
    lines = out.split("\n")
    at = next(i for i, l in enumerate(lines)
              if l.startswith("files from the daemon"))
    return [l.split() for l in lines[at + 2:] if l], lines[at]


def get_json(port, target):
    head, body = http_get(port, target).split("\r\n\r\n", 1)
    if not head.startswith("HTTP/1.1 200"):
        raise AssertionError(f"GET {target}: {head!r}")
    return json.loads(body), len(body)


def one_file(name, lines, output=None):
    """A scratch dir with logs/app.log holding lines, a config reading it
    with http on: (d, log, port, conf)."""
    d = scratch(TMP, name)
    log = os.path.join(d, "logs", "app.log")
    append(log, lines)
    port = http_port()
    conf = write_config(d, [{"type": "file", "paths": [log]}], output,
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    return d, log, port, conf


@case
def status_lists_every_one_of_10000_files():
    # /status sent 768 KiB of rows at most: with 10,000 files of 65-byte
    # paths `status` showed 5,427 of them and "(and 4573 more not shown)";
    # an operator could not see the rest at all. Now /status comes in
    # pages (files_next), each bounded, and `status` follows them.
    d = scratch(TMP, "many")
    logs = os.path.join(d, "logs")
    n = 10000
    # some names with what a query must escape, around page boundaries
    names = [f"service-{i:05d}-with-a-longer-name.log" if i % 997
             else f"service-{i:05d} %&#+?=\u00e9.log" for i in range(n)]
    for name in names:
        with open(os.path.join(logs, name), "w") as f:
            f.write("a line\n")
    port = http_port()
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log")]}],
                        None, {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port=port)
    try:
        sh.wait_events(n)
        # the pages, as a client follows them
        seen, target, pages = [], "/status", 0
        while target is not None:
            body, size = get_json(port, target)
            eq(body["files_known"], n, "files_known")
            if size > 600 << 10:
                raise AssertionError(f"a page of {size} bytes")
            seen += [r["path"] for r in body["files"]]
            target = body.get("files_next")
            pages += 1
        eq(sorted(seen), seen, "rows sorted by path across pages")
        eq(seen, [os.path.join(logs, x) for x in names], "every file once")
        if pages < 2:
            raise AssertionError(f"{pages} page for 10,000 files")
        # a bad cursor is refused, not read as "from the start"
        if not http_get(port, "/status?after=%zz").startswith(
                "HTTP/1.1 500"):
            raise AssertionError("a bad after= answered")
        rc, out, err = status_cmd(conf)
        eq((rc, err), (0, ""), "status")
        rows, line = daemon_rows(out)
        eq(line.endswith(f"newer than the registry: {n}"), True, line)
        eq(len(rows), n, "rows")
        eq(len({r[0] for r in rows}), n, "distinct rows")
        sh.stop()
    finally:
        sh.kill()


@case
def waiting_files_say_why_they_wait():
    # Redis down since the start: every file said "waiting", the same word
    # as for files waiting for one of max_open_files descriptors; the
    # operator could not tell "fix Redis" from "raise max_open_files".
    d = scratch(TMP, "waiting")
    logs = os.path.join(d, "logs")
    for i in range(3):
        append(os.path.join(logs, f"w{i}.log"), ["a line"])
    port = http_port()
    dead = free_port()
    conf = write_config(
        d, [{"type": "file", "paths": [os.path.join(logs, "*.log")]}],
        {"redis": {"url": f"redis://127.0.0.1:{dead}"}},
        {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port=port)
    try:
        def states():
            body, _ = get_json(port, "/status")
            got = sorted(r["state"] for r in body["files"])
            return got if len(got) == 3 else None
        wait_for("3 files in /status", states)
        eq(states(), ["waiting-output"] * 3, "states with Redis down")
        body, _ = get_json(port, "/status")
        eq(body.get("output_full"), True, "/status output_full")
        rc, out, _ = status_cmd(conf)
        rows, _ = daemon_rows(out)
        eq([r[-1] for r in rows], ["waiting-output"] * 3, "status")
        if f"daemon at 127.0.0.1:{port}: reading waits: the output has no " \
                "room" not in out:
            raise AssertionError(out)
        eq(sh.term(), 0, "exit")
    finally:
        sh.kill()


@case
def sigterm_with_a_registry_that_cannot_be_saved():
    # A registry that cannot be saved at the stop made SIGTERM exit 1 with
    # the bare error ("cannot write …registry.json.tmp: Is a directory"),
    # against the documented "save the registry and exit 0", and without
    # saying what it costs. Now: exit 0, and the log says the events since
    # the last save are shipped again at the next start, with their ids.
    d, log, port, conf = one_file("nosave", ["one", "two"])
    reg = os.path.join(d, "data", "registry.json")
    sh = Shipper(SHIPPER, ENV, conf, d, port=port)
    try:
        sh.wait_events(2)
        def saved():
            return list(registry_offsets(reg).values()) == [8]
        wait_for("the registry at 8", saved)
        os.mkdir(reg + ".tmp")  # every save from now on fails
        append(log, ["three"])
        sh.wait_events(3)
        eq(sh.term(), 0, "exit after SIGTERM")
        text = sh.text()
        if "not saved at the stop" not in text or \
                "shipped again at the next start" not in text:
            raise AssertionError(f"the log: {text!r}")
        os.rmdir(reg + ".tmp")
        before = sh.events()
        sh2 = Shipper(SHIPPER, ENV, conf, d, port=port)
        try:
            again = sh2.wait_events(1)
            sh2.stop()
        finally:
            sh2.kill()
        eq([e["message"] for e in before], ["one", "two", "three"], "run 1")
        eq(again, [before[2]], "the line since the last save, shipped "
           "again at the restart, the same event (its id too)")
    finally:
        sh.kill()


@case
def a_second_sigterm_ends_the_grace_period():
    # Redis refusing writes (a read-only replica): SIGTERM gives the batches
    # in flight 10 s; a second SIGTERM (or Ctrl-C) was ignored, so an
    # operator who knew Redis would not come back had to wait them out or
    # kill -9. Now the second one stops at once, still saving the registry:
    # the batches not acknowledged are read again at the next start.
    r = shipper_harness.Redis(args=["--replicaof", "127.0.0.1",
                                    str(free_port())])
    try:
        d, _, port, conf = one_file("second", ["one", "two"],
                                    shipper_harness.redis_output(r))
        sh = Shipper(SHIPPER, ENV, conf, d, port=port)
        try:
            wait_for("a refused batch", lambda: sh.metric(
                'sluice_output_error_replies_total{reason="readonly"}') > 0)
            sh.proc.send_signal(signal.SIGTERM)
            wait_for("the grace period", lambda: "batches in flight get"
                     in sh.text())
            t0 = time.monotonic()
            eq(sh.term(timeout=5), 0, "exit after the second SIGTERM")
            if time.monotonic() - t0 > 3:
                raise AssertionError("the second SIGTERM waited")
            if "SIGTERM again: stopping now" not in sh.text():
                raise AssertionError(f"the log: {sh.text()!r}")
        finally:
            sh.kill()
        reg = os.path.join(d, "data", "registry.json")
        eq(list(registry_offsets(reg).values()), [0], "nothing acknowledged")
    finally:
        r.kill()


def beside_a_daemon(name):
    """A daemon on one file with its line shipped, and a second config on
    the same file and data_dir: (dir, daemon, the second's config)."""
    d, log, port, conf = one_file(name, ["one"])
    sh = Shipper(SHIPPER, ENV, conf, d, port=port)
    try:
        sh.wait_events(1)
    except BaseException:
        sh.kill()
        raise
    other = write_config(scratch(TMP, name + "-other"),
                         [{"type": "file", "paths": [log]}], None,
                         {"data_dir": os.path.join(d, "data")})
    return d, sh, other


@case
def a_second_shipper_on_the_same_data_dir_is_refused():
    # `run --once` to try a config on a host where the daemon runs with
    # the same data_dir: both read every file, so Redis got each line
    # twice, and each process saved its own offsets over the other's
    # registry. Now the second is refused, naming the first's pid.
    d, sh, other = beside_a_daemon("twice")
    try:
        p = subprocess.run([SHIPPER, "-c", other, "run", "--once"],
                           capture_output=True, env=ENV, timeout=DEADLINE_S)
        err = p.stderr.decode()
        eq((p.returncode, p.stdout), (1, b""), f"the second: {err!r}")
        want = (f"data_dir '{d}/data' is in use by another sluice-shipper "
                f"(pid {sh.pid}): stop it, or give this one its own data_dir")
        if want not in err:
            raise AssertionError(f"the second's log: {err!r}")
        sh.alive()
        eq(sh.stop(), [sh.got[0]], "the first shipped its line once")
        out, _ = shipper_harness.run_once(SHIPPER, other)
        eq(out, "", "after the first stopped: nothing new, no refusal")
    finally:
        sh.kill()


@case
def a_shipper_started_as_the_last_one_dies_is_not_refused():
    # A supervisor or a script that starts the shipper again at once after
    # a kill -9 (or a stop) met the dying process's lock for the moment
    # the kernel took to end it, and the new shipper exited 1 "in use".
    # It now waits up to 3 s for a holder on its way out.
    _, sh, other = beside_a_daemon("again")
    try:
        p = subprocess.Popen([SHIPPER, "-c", other, "run", "--once"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ENV)
        # not a synchronisation: the second must reach the held lock
        # (its start takes milliseconds) before the first dies
        time.sleep(0.5)
        sh.kill()
        out, err = p.communicate(timeout=DEADLINE_S)
        eq(p.returncode, 0, f"the second: {err.decode()!r}")
        if "in use by another" in err.decode():
            raise AssertionError(f"the second's log: {err.decode()!r}")
    finally:
        sh.kill()


@case
def max_open_files_above_the_descriptor_limit():
    # max_open_files (512 by default, per input) above the process's
    # descriptor limit (ulimit -n; systemd's soft LimitNOFILE is 1024):
    # 400 files under a limit of 128 gave 282 warnings "cannot read: Too
    # many open files", one per file, the registry could not be saved
    # (no descriptor for its temporary file) and `run --once` exited 1
    # with nothing shipped. Now the shipper raises its soft limit to the
    # hard one when that is enough, and else lowers max_open_files to
    # what fits, saying so once.
    d = scratch(TMP, "nofile")
    logs = os.path.join(d, "logs")
    want = []
    for i in range(400):
        append(os.path.join(logs, f"f{i:03d}.log"), [f"file {i}"])
        want.append(f"file {i}")
    for soft, hard, most, word in ((128, 128, 100000, "lowered"),
                                   (128, 4096, 1000, "raised")):
        conf = write_config(d, [{"type": "file",
                                 "paths": [os.path.join(logs, "*.log")],
                                 "max_open_files": most}])
        shutil.rmtree(os.path.join(d, "data"), ignore_errors=True)
        p = subprocess.run(
            [SHIPPER, "-c", conf, "run", "--once"], capture_output=True,
            env=ENV, timeout=DEADLINE_S,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                  (soft, hard)))
        err = p.stderr.decode()
        eq(p.returncode, 0, f"exit with ulimit -n {soft} (hard {hard}); "
           f"log: {err[-600:]!r}")
        eq(sorted(e["message"] for e in json_lines(p.stdout)), sorted(want),
           "every file's line")
        if "Too many open files" in err:
            raise AssertionError(f"EMFILE: {err[-600:]!r}")
        said = [l for l in err.splitlines() if "RLIMIT_NOFILE" in l]
        eq(len(said), 1, f"said once: {err[-600:]!r}")
        if word not in said[0]:
            raise AssertionError(said[0])


@case
def a_data_dir_that_is_a_file_or_a_registry_that_is_a_directory():
    # run said "cannot open <data_dir>/lock: Not a directory; a second
    # shipper on this data_dir would not be refused" then "cannot open
    # registry ...: Not a directory", status "cannot open the registry
    # ...": neither said the data_dir was the matter, nor what to do
    d, log, _, _ = one_file("notdir", ["one"])
    data = os.path.join(d, "data")
    with open(data, "w") as f:
        f.write("not a directory\n")
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       capture_output=True, env=ENV, timeout=DEADLINE_S)
    err = p.stderr.decode()
    eq((p.returncode, p.stdout), (1, b""), f"run: {err!r}")
    want = (f"data_dir '{data}' is not a directory; set data_dir to a "
            "directory the shipper may write (its registry is kept there), "
            "or move the file away")
    eq([l.split("] ", 1)[1] for l in err.splitlines() if " error " in l],
       [want], "run's log")
    eq(status_cmd(conf), (1, "", f"sluice-shipper: data_dir '{data}' is not "
       "a directory; set data_dir to the shipper's (its registry is kept "
       "there)\n"), "status")
    os.unlink(data)
    reg = os.path.join(data, "registry.json")
    os.makedirs(reg)
    eq(status_cmd(conf), (1, "", "sluice-shipper: cannot read the registry "
       f"'{reg}': Is a directory; move it aside: mv {reg} {reg}.damaged "
       "(every file is then new to the shipper)\n"), "status")


@case
def a_registry_damaged_each_way_is_refused_with_where_and_what():
    # not JSON said yajl's own "lexical error: invalid char in json
    # text.;"; each way now: where, what, and the command to move it aside
    d, log, _, _ = one_file("damaged", ["one"])
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    rc, _, err = shipper_cli(conf, "run", "--once")
    eq(rc, 0, f"first run: {err!r}")
    reg = os.path.join(d, "data", "registry.json")
    with open(reg) as f:
        good = f.read()
    tail = (f"; the registry is damaged: fix it, or move it aside to start "
            f"over: mv {reg} {reg}.damaged (every file is then new to the "
            "shipper: read from its start, or its end with start_at "
            "\"end\")\n")
    for text, where in (("", "1:1: the file is empty"),
                        ("hello\n", "1:1: not JSON (invalid char in json "
                         "text)"),
                        ('{"foo": 1}', '1:2: unknown key "foo"'),
                        ("[]", "1:1: found an array, expected an object"),
                        (good[:len(good) // 2],
                         "the file ends early (truncated?)")):
        with open(reg, "w") as f:
            f.write(text)
        rc, out, err = status_cmd(conf)
        eq((rc, out), (1, ""), f"status on {text[:20]!r}: {err!r}")
        if not err.startswith(f"sluice-shipper: {reg}:") or \
                not err.endswith(tail) or where.split(": ", 1)[-1] not in err:
            raise AssertionError(f"{text[:20]!r}: {err!r}")
        if where[0].isdigit() and f"{reg}:{where}" not in err:
            raise AssertionError(f"{text[:20]!r}: {err!r}")
        rc, out, err = shipper_cli(conf, "run", "--once")
        eq((rc, out), (1, ""), f"run on {text[:20]!r}: {err!r}")
        if tail.strip() not in err:
            raise AssertionError(f"run on {text[:20]!r}: {err!r}")


class FlappingServer(threading.Thread):
    """A port that takes each connection and ends it, one time with a
    FIN (read: "the server closed the connection"), the next with a RST
    ("Connection reset by peer"): what the shipper meets behind stunnel
    while the Redis past the tunnel is down, each attempt ending either
    way as the tunnel's timing goes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return  # closed: the case is over
            if self.accepted % 2:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            else:
                c.recv(4096)  # the login, then a FIN
            c.close()
            self.accepted += 1


@case
def an_outage_whose_reason_flaps_is_said_once():
    # Redis stopped behind stunnel: each attempt ended either "the server
    # closed the connection" or "Connection reset by peer", and every
    # change of wording was a new warning (3 in 33 s, for one outage)
    srv = FlappingServer()
    d, log, port, _ = one_file("flap", ["one"])
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        {"redis": {"url": f"redis://127.0.0.1:{srv.port}/0"}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        wait_for("5 attempts", lambda: srv.accepted >= 5)
        said = [l for l in sh.text().splitlines()
                if f"127.0.0.1:{srv.port}" in l and
                (" warn " in l or " error " in l)]
        eq(len(said), 1, "warnings for one outage:\n" + "\n".join(said))
        eq(sh.metric("sluice_output_disconnects_total"), 1.0, "disconnects")
        eq(sh.stop(), [], "events")
    finally:
        sh.kill()
        srv.sock.close()


@case
def run_once_stopped_by_a_signal_before_its_end_exits_1():
    # `run --once` with Redis away, stopped with SIGTERM or Ctrl-C: it
    # exited 0, as when every line was shipped, so `run --once && mv
    # app.log archive/` moved away lines never shipped
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        d, log, _, _ = one_file(f"once-{name}", ["one", "two"])
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            {"redis": {"url": f"redis://127.0.0.1:"
                                              f"{free_port()}/0"}})
        err_path = os.path.join(d, "stderr")
        with open(err_path, "wb") as err:
            p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"],
                                 env=ENV, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err)
        try:
            def text():
                with open(err_path, "rb") as f:
                    return f.read().decode(errors="replace")
            wait_for("Redis said unreachable",
                     lambda: "retrying with backoff" in text())
            p.send_signal(sig)
            eq(p.wait(timeout=DEADLINE_S), 1, f"exit; log:\n{text()}")
            want = (f"--once: {name} stopped it before every line was "
                    "shipped; the next run ships the rest (exit 1)")
            if want not in text():
                raise AssertionError(f"no {want!r} in:\n{text()}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    # a run that ends by itself is still 0 (and a daemon's SIGTERM too)
    d, log, _, conf = one_file("once-done", ["one"])
    eq(shipper_cli(conf, "run", "--once")[0], 0, "run --once to its end")


@case
def redis_down_at_the_start_says_what_to_do_and_is_counted():
    # said "cannot connect to 127.0.0.1:P: Connection refused; retrying
    # with backoff (at most 5000 ms)": what failed, not what to do
    redis_port = free_port()
    d, log, port, _ = one_file("down-at-start", ["one", "two"])
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        {"redis": {"url": f"redis://127.0.0.1:{redis_port}"
                                          "/0"}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        want = (f"redis://127.0.0.1:{redis_port}/0: cannot connect to "
                f"127.0.0.1:{redis_port}: Connection refused; retrying "
                "with backoff (at most 5000 ms); nothing is lost "
                "meanwhile: check that Redis runs there and that "
                "output.redis.url names it")
        wait_for("Redis said unreachable", lambda: want in sh.text())
        eq(sh.metric("sluice_output_disconnects_total"), 1.0, "disconnects")
        rc, out, err = status_cmd(conf)
        rows, _ = daemon_rows(out)
        eq((rc, [r[-1] for r in rows]), (0, ["waiting-output"]),
           f"status: {out}{err}")
        eq(sh.stop(), [], "events")
    finally:
        sh.kill()


@case
def a_data_dir_whose_parents_are_missing_is_created():
    # README: "the directory created when missing"; with its parent
    # missing too (/var/lib/sluice/shipper on a fresh host) run said
    # "cannot create data_dir ...: No such file or directory"
    d, log, _, _ = one_file("nested", ["one", "two"])
    data = os.path.join(d, "state", "sluice", "shipper")
    conf = write_config(d, [{"type": "file", "paths": [log]}], None,
                        {"data_dir": data})
    rc, out, err = shipper_cli(conf, "run", "--once")
    eq(rc, 0, f"run --once: {err!r}")
    eq([e["message"] for e in json_lines(out)], ["one", "two"], "events")
    eq(list(registry_offsets(os.path.join(data, "registry.json")).values()),
       [os.path.getsize(log)], "registry offset")
    eq(oct(os.stat(os.path.join(d, "state")).st_mode & 0o777), "0o750",
       "a parent's mode")


@case
def output_counters_reconcile_with_what_redis_holds():
    # list mode counted in sluice_output_bytes_total each event's batch
    # line ("TS ID JSON\n", 38 bytes more an event) where Redis got the
    # JSON alone: 1,428,196 bytes counted for 1,238,196 pushed
    r = shipper_harness.Redis()
    try:
        for mode, codec in (("stream", "none"), ("stream", "lz4"),
                            ("stream", "columnar"), ("list", "none")):
            key = f"e2e:{mode}:{codec}"
            lines = [f"{mode} line {i} " + "y" * (i % 50)
                     for i in range(3000)]
            d, log, port, _ = one_file(f"reconcile-{mode}-{codec}", lines)
            out = shipper_harness.redis_output(r, key=key, mode=mode,
                                               batch_events=700)
            if mode == "stream":
                out["redis"]["codec"] = codec
            else:
                del out["redis"]["codec"]
            conf = write_config(d, [{"type": "file", "paths": [log]}], out,
                                {"http": {"listen": f"127.0.0.1:{port}"}})
            sh = Shipper(SHIPPER, ENV, conf, d, port)
            try:
                wait_for("every event", lambda: sh.metric(
                    "sluice_output_events_total") == len(lines))
                m = sh.metrics()
                if mode == "stream":
                    got = r.cmd("XRANGE", key, "-", "+")
                    fields = [dict(zip(f[::2], f[1::2])) for _, f in got]
                    held = (sum(int(f[b"count"]) for f in fields), len(got),
                            sum(len(f[b"events"]) for f in fields))
                else:
                    got = r.cmd("LRANGE", key, 0, -1)
                    held = (len(got), 5, sum(len(x) for x in got))
                eq((m["sluice_output_events_total"],
                    m["sluice_output_batches_total"],
                    m["sluice_output_bytes_total"]), held,
                   f"{mode} {codec}: events, batches, bytes")
                eq((m["sluice_shipper_lines_total"],
                    m["sluice_shipper_events_total"],
                    m['sluice_input_bytes_read_total{input="inputs[0]"}']),
                   (len(lines), len(lines), os.path.getsize(log)),
                   f"{mode} {codec}: lines, events, bytes read")
                sh.stop()
            finally:
                sh.kill()
    finally:
        r.kill()


@case
def sigterm_ships_what_was_read_from_stdin():
    # a pipe cannot be read again: the event the multiline joiner held
    # (a traceback waiting for its next line) and the last line without
    # its newline were dropped at SIGTERM, silently, though Redis (here
    # stdout) was there to take them
    d = scratch(TMP, "stdin-term")
    port = http_port()
    conf = write_config(d, [{"type": "stdin", "multiline": {
        "preset": "python", "timeout": "1h"}}], None,
        {"http": {"listen": f"127.0.0.1:{port}"}})
    r, w = os.pipe()
    with open(os.path.join(d, "stdout"), "wb") as out, \
            open(os.path.join(d, "shipper.log"), "wb") as log:
        p = subprocess.Popen([SHIPPER, "-c", conf, "run"], env=ENV, stdin=r,
                             stdout=out, stderr=log)
    os.close(r)
    try:
        os.write(w, b"first\nTraceback (most recent call last):\n"
                    b'  File "x.py", line 1, in <module>\nKeyError: 1\n'
                    b"the last, without its newline")
        def lines():
            try:
                body = http_get(port, "/metrics").split("\r\n\r\n", 1)[1]
            except OSError:
                return None  # not listening yet
            return shipper_harness.metric_sum(
                shipper_harness.parse_metrics(body),
                "sluice_shipper_lines_total")
        wait_for("4 lines read", lambda: p.poll() is None and lines() == 4)
        p.send_signal(signal.SIGTERM)
        eq(p.wait(timeout=DEADLINE_S), 0, "exit")
        with open(os.path.join(d, "stdout"), "rb") as f:
            got = [e["message"] for e in json_lines(f.read())]
        eq(got, ["first\nTraceback (most recent call last):\n  File "
                 '"x.py", line 1, in <module>\nKeyError: 1',
                 "the last, without its newline"], "events")
    finally:
        os.close(w)
        if p.poll() is None:
            p.kill()
            p.wait()


def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


@case
def a_data_dir_that_cannot_be_written_is_refused_at_start():
    # A data_dir on a read-only file system (or not writable by the
    # shipper's user): `run` warned about the lock, then logged "registry
    # not saved ... saved again every 1 s until it works" and shipped
    # nothing of the files new to the registry, for ever; `run --once`
    # read everything, then exited 1 on the save. Both now refuse to
    # start (exit 1) with one line saying why and what to do. As root:
    # it mounts a read-only tmpfs.
    d, log, _, _ = one_file("rodata", ["one"])
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=755",
                        "tmpfs", ro], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"cannot mount a tmpfs on {ro} (this case "
                             f"runs as root): {p.stderr}")
    try:
        os.mkdir(os.path.join(ro, "data"))
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        for data in (os.path.join(ro, "data"), os.path.join(ro, "new")):
            conf = write_config(d, [{"type": "file", "paths": [log]}],
                                None, {"data_dir": data})
            want = (f"data_dir '{data}' is on a read-only file system, and "
                    "the registry is saved there; remount it read-write, or "
                    "set data_dir to a directory the shipper may write")
            for cmd in (["run", "--once"], ["run"]):
                p = subprocess.run([SHIPPER, "-c", conf, *cmd],
                                   capture_output=True, env=ENV,
                                   timeout=DEADLINE_S)
                err = p.stderr.decode()
                eq((p.returncode, p.stdout), (1, b""), f"{cmd}: {err!r}")
                eq([l.split("] ", 1)[1] for l in err.splitlines()
                    if " error " in l or " warn " in l], [want],
                   f"{cmd}: {err!r}")
    finally:
        subprocess.run(["umount", ro])
    # not writable by the user the shipper runs as
    data = os.path.join(d, "rootdir")
    os.mkdir(data, 0o755)
    for up in (TMP, d):  # nobody reaches the config (tmp dirs are 0700)
        os.chmod(up, 0o755)
    conf = write_config(d, [{"type": "file", "paths": [log]}], None,
                        {"data_dir": data})
    os.chmod(conf, 0o644)
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       capture_output=True, env=ENV, timeout=DEADLINE_S,
                       preexec_fn=as_nobody)
    err = p.stderr.decode()
    eq((p.returncode, p.stdout), (1, b""), err)
    eq([l.split("] ", 1)[1] for l in err.splitlines() if " error " in l],
       [f"data_dir '{data}' is not writable by the shipper's user (uid "
        "65534), and the registry is saved there; give that user write "
        "access to it (chown), or set data_dir to a directory it may "
        "write"], err)


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
