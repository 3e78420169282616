#!/usr/bin/env python3
"""copytruncate's copies through the real `sluice-shipper run`: a file
shorter than the fingerprint (1 KiB) copied and truncated while the copy's
name matches `paths` too, each way the copy may first be seen (empty,
complete before the truncation, complete after it), holding lines not read
yet or ending before where the original was read; and a copy found at its
first bytes, which is not read before the registry holds its key, nor read
again from 0 when the shipper is killed then (its entry made empty); a
copy written over an older copy in place (cp keeps the inode), longer
than it or as long; and a traceback (multiline `python`, Redis output)
being read when copytruncate empties its file, its rest in the copy:
one event, whole, under its head's id in the original, also with a kill
-9 after the rotation; with the copy not matched, the head once, alone;
a line half read (no newline yet) when copytruncate empties a file whose
copy is not matched: its bytes dropped and said, never an event (plain,
docker, inside a traceback);
and, under max_open_files 1, a copy made over an older one then a kill
-9 before the truncation: the restart opens the copy first, and must
not read it from 0 under a new key.

usage: test_shipper_copies.py SLUICE_SHIPPER
"""
import base64
import functools
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, append,  # noqa: E402
                             case, eq, failures, http_port, redis_output,
                             wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-copies-")
scratch = functools.partial(shipper_harness.scratch, TMP)
run_once = functools.partial(shipper_harness.run_once, SHIPPER)


def daemon(d, log):
    """`run` on d/logs/LOG* to stdout, with /metrics: (Shipper, conf)."""
    port = http_port()
    conf = write_config(d, [{"type": "file", "paths": [log + "*"]}],
                        {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    return Shipper(SHIPPER, ENV, conf, d, port), conf


def said(sh, text):
    return sh.text().count(text)


def mkdir(path):
    """True once path is a new directory (False while a file is there: a
    registry save in progress)."""
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        return False


def registry_offset(path, log):
    """The offset the registry at path holds for the file log is now, or
    None."""
    try:
        with open(path) as f:
            entries = json.load(f)["entries"]
        ino = os.stat(log).st_ino
    except (OSError, ValueError):
        return None
    return next((e["offset"] for e in entries if e["ino"] == ino), None)


@case
def a_short_file_copytruncated_ships_nothing_twice_and_loses_nothing():
    # a quiet log of a few hundred bytes (under the 1 KiB fingerprint),
    # copytruncated with its copy matching `paths`: the copy is the file
    # already read, so it gives only the lines the original had not given
    # yet (two here, written to the copy alone, after the truncation: the
    # shipper cannot tell), or nothing when it ends before where the
    # original was read (the writer went on while it was copied). Each
    # way the copy is first
    # seen: empty (the copier creates it so), complete before the
    # truncation (held while the original lives), complete after it
    # (matched to the truncated original's bytes; not when it ends early:
    # those bytes are gone, and the copy cannot be told from a new file).
    d = scratch("short-copies")
    log = os.path.join(d, "logs", "app.log")
    sh, conf = daemon(d, log)
    written = []
    reg = os.path.join(d, "data", "registry.json")
    held = "(held until the original is truncated"

    def lines():
        return sh.total("sluice_shipper_lines_total")

    def copies():
        return sum(v for k, v in wait_for("/metrics", sh.metrics).items()
                   if k.startswith("sluice_input_rotations_total{")
                   and 'kind="copytruncate"' in k)

    def rotate(k, how, early):
        for j in range(k, 0, -1):  # .1 -> .2 ...
            if os.path.exists(f"{log}.{j}"):
                os.rename(f"{log}.{j}", f"{log}.{j + 1}")
        with open(log, "rb") as f:
            copy = f.read()
        if early:  # its last line was read from the original
            copy = copy[:copy.rstrip(b"\n").rfind(b"\n") + 1]
        elif how == "after":  # lines written before the truncation, not
            # read yet (a copy seen before it is never longer than the
            # original: held, it would be taken for a file of its own)
            unread = [f"cycle {k} unread {i} " + "u" * 30 for i in range(2)]
            copy += "".join(l + "\n" for l in unread).encode()
            written.extend(unread)
        holds = said(sh, held)
        if how == "empty":
            scans = sh.total("sluice_shipper_scans_total")
            open(log + ".1", "wb").close()
            wait_for("the empty copy seen", lambda: sh.total(
                "sluice_shipper_scans_total") > scans)
            with open(log + ".1", "ab") as f:
                f.write(copy)
            if early:  # seen after the truncation, it could not be told
                wait_for("the copy held", lambda: said(sh, held) > holds,
                         deadline_s=10)
            os.truncate(log, 0)
            return
        if how == "after":
            os.truncate(log, 0)
        tmp = os.path.join(d, "copy.tmp")  # not matched by paths
        with open(tmp, "wb") as f:
            f.write(copy)
        os.rename(tmp, log + ".1")
        if how == "before":
            wait_for("the copy held", lambda: said(sh, held) > holds,
                     deadline_s=10)
            os.truncate(log, 0)

    cycles = [("before", False), ("empty", False), ("after", False),
              ("before", True), ("empty", True)]
    try:
        for k, (how, early) in enumerate(cycles, 1):
            new = [f"cycle {k} line {i} " + "x" * 30 for i in range(8)]
            with open(log, "a") as f:
                f.write("".join(l + "\n" for l in new))
            written.extend(new)
            wait_for(f"cycle {k} read", lambda: lines() >= len(written))
            wait_for(f"cycle {k} acknowledged", lambda: registry_offset(
                reg, log) == os.path.getsize(log))
            ct = copies()
            rotate(k, how, early)
            wait_for(f"copy {k} let go ({how}, early {early})",
                     lambda: copies() > ct)
            wait_for(f"cycle {k}: the copy's lines",
                     lambda: lines() >= len(written))
        with open(log, "a") as f:
            f.write("last\n")
        written.append("last")
        wait_for("all read", lambda: lines() >= len(written))
        time.sleep(0.5)  # not a wait for anything: lines read twice show
        got = [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(len(got) - len(set(got)), 0, "lines shipped twice")
    eq(sorted(got), sorted(written), "every line once")
    eq(said(sh, "reading it as a file of its own"), 0,
       "copies taken for files")
    out, err = run_once(conf)
    eq(out, "", f"shipped again after a restart; stderr: {err}")


@case
def a_copy_found_at_its_first_bytes_waits_for_its_key_on_disk():
    # a copy created empty (its own key, saved) whose first bytes show it
    # is the copy of a truncated file takes that file's key and offset:
    # its lines carry the ids they would have had in the original. Read
    # before that entry is on disk, then killed, the restart would not know
    # the copy by that key. A directory where the registry's temporary file
    # goes makes every save fail, for as long as the test wants; then the
    # shipper is killed in that window and run again with saves working.
    d = scratch("copy-key-first")
    log = os.path.join(d, "logs", "app.log")
    reg = os.path.join(d, "data", "registry.json")
    read = [f"read {i} " + "r" * 60 for i in range(20)]  # over 1 KiB
    unread = [f"unread {i}" for i in range(3)]
    with open(log, "w") as f:
        f.write("".join(l + "\n" for l in read))
    sh, conf = daemon(d, log)
    metric = sh.total
    try:
        wait_for("the file acknowledged", lambda: registry_offset(
            reg, log) == os.path.getsize(log))
        open(log + ".1", "w").close()  # the copier creates the copy empty
        wait_for("the empty copy's key on disk",
                 lambda: registry_offset(reg, log + ".1") == 0)
        wait_for("saves made to fail", lambda: mkdir(reg + ".tmp"))
        failed = metric("sluice_registry_save_failures_total")
        os.truncate(log, 0)
        wait_for("the truncation seen", lambda: said(sh, "file shrank") == 1)
        wait_for("a failed save", lambda: metric(
            "sluice_registry_save_failures_total") > failed)
        with open(log + ".1", "a") as f:  # the copy's bytes
            f.write("".join(l + "\n" for l in read + unread))
        wait_for("the copy recognised", lambda: said(
            sh, "a copy of a file read before") == 1)
        failed = metric("sluice_registry_save_failures_total")
        wait_for("two more failed saves", lambda: metric(
            "sluice_registry_save_failures_total") >= failed + 2)
        eq(metric("sluice_shipper_lines_total"), len(read),
           "lines read from the copy before its key was on disk")
    finally:
        sh.kill()
    os.rmdir(reg + ".tmp")
    out, err = run_once(conf)
    got = [e["message"] for e in sh.events()]
    got += [json.loads(l)["message"] for l in out.splitlines()]
    eq(sorted(got), sorted(read + unread), f"every line once; {err}")


@case
def a_file_beginning_as_a_short_live_one_is_read_while_it_grows():
    # a short live file (a header only) and a new file beginning with the
    # same header, then rows: the new file begins as the short one, so it
    # may be its copy and is held; a copy is never longer than its
    # original (which only grows until it is truncated), so once it is,
    # it is read as a file of its own at once, not held while it grows
    d = scratch("begins-alike-short")
    log = os.path.join(d, "logs", "app.log")
    with open(log, "w") as f:
        f.write("ts,level,message\n")
    sh, conf = daemon(d, log)
    try:
        wait_for("the header read", lambda: sh.total(
            "sluice_shipper_lines_total") == 1)
        other = log + "-worker-2"
        rows = []
        with open(other, "w") as f:
            f.write("ts,level,message\n")

        def grow():  # a row every 50 ms, as a busy writer would
            rows.append(f"{len(rows)},info,row {len(rows)}")
            with open(other, "a") as f:
                f.write(rows[-1] + "\n")
            time.sleep(0.05)
            return any(e["message"] == rows[0] for e in sh.events())
        wait_for("its first row shipped while it grows", grow, deadline_s=20)
        got = [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(sorted(got), sorted(["ts,level,message"] * 2 + rows), "every line once")


@case
def a_copy_written_over_an_older_copy_in_place_ships_each_line_once():
    # cp app.log app.log.1 where app.log.1 is the copy of the rotation
    # before (cp keeps its inode: truncated, then written), then app.log
    # truncated, the shipper stopped (SIGSTOP) meanwhile so that it sees
    # only the end. The old copy was read to its end, its offset set (not
    # read to: nothing new in it) and no tail there: a longer new copy was
    # read past that offset under the old copy's key, lines twice with
    # other ids (the soak at 2,000 lines/s); one as long as the old copy,
    # with a line app.log had not given yet, looked unchanged, and that
    # line was lost until a scan (an hour here) or for good when the copy
    # was written over again before it.
    d = scratch("copy-over-copy")
    log = os.path.join(d, "logs", "app.log")
    port = http_port()
    conf = write_config(d, [{"type": "file", "paths": [log + "*"],
                             "scan_interval": "1h"}], {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    written = []

    def write(k, n):  # n lines of 70 bytes
        new = [f"c{k} {i:03d} ".ljust(69, "x") for i in range(n)]
        with open(log, "a") as f:
            f.write("".join(l + "\n" for l in new))
        written.extend(new)

    def read_all(what):
        wait_for(what, lambda: sh.total("sluice_shipper_lines_total") >=
                 len(written), deadline_s=10)

    def copies():
        return sum(v for k, v in wait_for("/metrics", sh.metrics).items()
                   if k.startswith("sluice_input_rotations_total{")
                   and 'kind="copytruncate"' in k)

    def rotate(k, unread=0):
        ct = copies()
        os.kill(sh.pid, signal.SIGSTOP)
        try:
            write(f"{k}u", unread)  # in the copy only
            with open(log, "rb") as src, open(log + ".1", "wb") as dst:
                dst.write(src.read())
            os.truncate(log, 0)
        finally:
            os.kill(sh.pid, signal.SIGCONT)
        wait_for(f"copy {k} known", lambda: copies() > ct, deadline_s=10)
        read_all(f"copy {k}'s lines")

    try:
        write(1, 30)  # 2,100 bytes
        read_all("the first lines")
        rotate(1)  # app.log.1 made
        write(2, 40)  # 2,800 bytes
        read_all("the second lines")
        rotate(2)  # over app.log.1, longer
        write(3, 39)
        read_all("the third lines")
        rotate(3, unread=1)  # over app.log.1, as long, one line unread
        write(4, 2)
        read_all("the last lines")
        got = [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(len(got) - len(set(got)), 0, "lines shipped twice")
    eq(sorted(got), sorted(written), "every line once")
    out, err = run_once(conf)
    eq(out, "", f"shipped again after a restart; stderr: {err}")



# --- a traceback being read when copytruncate empties its file ----------

def traceback(k):
    """A Python traceback: its head (read before the rotation) and the
    rest."""
    head = (f"2026-12-05 09:00:0{k},000 ERROR tb {k} unhandled\n"
            f"Traceback (most recent call last):\n"
            f'  File "/srv/app/handlers.py", line {k}, in handle\n'
            f"    return self.dispatch(request)\n")
    rest = (f'  File "/srv/app/db.py", line 88, in dispatch\n'
            f"    raise ValueError('bad item')\n"
            f"ValueError: bad item {k}\n")
    return head, rest


def id_parts(id_):
    """An event id (sl_event_id.h, algorithm 2): (its source's 8 bytes,
    the offset of its first line)."""
    b = base64.urlsafe_b64decode(id_ + "==")
    return b[:8], int.from_bytes(b[10:16], "big")


def traceback_through_copytruncate(name, rest_after, kill, matched=True):
    """Cycles of: a line, a traceback's head written and read (multiline
    `python`), the shipper stopped (SIGSTOP), then logrotate's
    copytruncate (app.log.N to .N+1, cp app.log app.log.1, truncate) with
    the traceback's rest written before the copy (in the copy) or after
    the truncation (in the emptied app.log), the shipper killed with -9
    and started again when kill, else let go on. Each traceback one event,
    whole, under the id of its head in app.log (the original's key, the
    head's offset); every line once (by id, for a replay after a kill).
    Not matched (`paths` app.log alone): the rest in the copy is lost
    (copytruncate's limit, README), the head shipped once, alone."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    sh = None
    try:
        port = http_port()
        conf = write_config(
            d, [{"type": "file", "paths": [log + ("*" if matched else "")],
                 "multiline": {"preset": "python", "timeout": "2s"}}],
            redis_output(r, batch_age="20ms"),
            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        want, heads = [], {}
        got = []

        def arrived(n):
            got.extend(r.events("e2e:events", delete=True))
            return len({m for _, _, m in msgs()}) >= n

        def msgs():
            return [(i, e.get("log", {}).get("offset"), e["message"])
                    for i, _, e in got]
        for k in range(1, 4):
            line = f"2026-12-05 09:00:0{k},000 INFO before tb {k}"
            head, rest = traceback(k)
            lines = sh.total("sluice_shipper_lines_total")
            with open(log, "ab") as f:
                f.write((line + "\n").encode())
                heads[k] = (f.tell(), line)
                f.write(head.encode())
            wait_for("the head read", lambda: sh.total(
                "sluice_shipper_lines_total") >= lines + 5)
            os.kill(sh.pid, signal.SIGSTOP)
            try:
                for j in range(k - 1, 0, -1):
                    os.rename(f"{log}.{j}", f"{log}.{j + 1}")
                if not rest_after:
                    with open(log, "ab") as f:
                        f.write(rest.encode())
                with open(log, "rb") as src, open(log + ".1", "wb") as dst:
                    dst.write(src.read())
                os.truncate(log, 0)
                if rest_after:
                    with open(log, "ab") as f:
                        f.write(rest.encode())
                if kill:
                    sh.kill()
            finally:
                if not kill:
                    os.kill(sh.pid, signal.SIGCONT)
            if kill:
                sh = Shipper(SHIPPER, ENV, conf, d, port)
            want += [line, (head + rest if matched else head)[:-1]]
            wait_for(f"traceback {k}", lambda: arrived(len(want)),
                     deadline_s=20)
        last = "2026-12-05 09:00:09,000 INFO the end"
        append(log, [last])
        want.append(last)
        wait_for("the last line", lambda: arrived(len(want)), deadline_s=20)
        eq(sh.term(), 0, "exit")
        got.extend(r.events("e2e:events", delete=True))
    finally:
        if sh:
            sh.kill()
        r.kill()
    by_id = {}
    for id_, _, m in msgs():
        by_id.setdefault(id_, set()).add(m)
    eq(sorted(sorted(m) for m in by_id.values() if len(m) > 1), [],
       "one id for two messages")
    eq(sorted(m for ms in by_id.values() for m in ms), sorted(want),
       "every event once, each traceback whole")
    ids = {m: i for i, _, m in msgs()}
    for k, (offset, line) in heads.items():
        tb = (traceback(k)[0] + (traceback(k)[1] if matched else ""))[:-1]
        eq(id_parts(ids[tb]), (id_parts(ids[line])[0], offset),
           f"traceback {k}'s id: app.log's key, its head's offset")


@case
def a_traceback_read_at_a_copytruncate_with_its_rest_in_the_copy():
    traceback_through_copytruncate("tb-rest-in-copy", False, False)


@case
def a_traceback_read_at_a_copytruncate_then_a_kill():
    traceback_through_copytruncate("tb-rest-in-copy-kill", False, True)


@case
def a_traceback_read_at_a_copytruncate_whose_copy_is_not_matched():
    traceback_through_copytruncate("tb-copy-unmatched", False, False,
                                   matched=False)


def a_traceback_cut_by_copytruncate_with_its_rest_in_the_emptied_file():
    """KNOWN DEFECT, run only when SLUICE_E2E_ONLY names it (it fails):
    the head written and read, the copy made and the file truncated, then
    the rest written into the emptied app.log: the head is finished from
    the copy, which ends there, and the rest is read from app.log under its
    new key: two events (README: what is not guaranteed)."""
    traceback_through_copytruncate("tb-rest-after", True, False)


@case
def a_copy_over_an_older_copy_found_first_at_a_restart_is_no_new_file():
    # max_open_files 1, the copy's path listed first (so found first; in a
    # glob, readdir's order decides): app.log copytruncated to app.log.1,
    # lines written into the emptied app.log and acknowledged, then cp
    # app.log app.log.1 again (over the older copy, in place: its inode
    # and its registry entry stay) and the shipper killed -9 before the
    # truncation. The restart opened app.log.1 first, its entry another
    # file's, while app.log waited for the one descriptor: no original
    # known, so it was read from 0 under a new key, each of its lines sent
    # again with another id (the copytruncate tracebacks test, seed 2).
    d = scratch("copy-first-at-restart")
    log = os.path.join(d, "logs", "app.log")
    reg = os.path.join(d, "data", "registry.json")
    r = Redis()
    sh = None
    got, written = [], []
    try:
        port = http_port()
        conf = write_config(
            d, [{"type": "file", "paths": [log + ".1", log],
                 "max_open_files": 1}],
            redis_output(r, batch_age="20ms"),
            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)

        def write(k, n):
            new = [f"2026-12-05 09:00:00,000 INFO c{k} {i:02d}"
                   for i in range(n)]
            append(log, new)
            written.extend(new)

        def arrived():
            got.extend(r.events("e2e:events", delete=True))
            return len({e["message"] for _, _, e in got}) >= len(written)

        def copytruncate_stopped(truncate):
            os.kill(sh.pid, signal.SIGSTOP)
            with open(log, "rb") as src, open(log + ".1", "wb") as dst:
                dst.write(src.read())
            if truncate:
                os.truncate(log, 0)
            os.kill(sh.pid, signal.SIGCONT)

        write(1, 8)
        wait_for("the first lines", arrived, deadline_s=20)
        copytruncate_stopped(True)
        write(2, 6)  # into the emptied app.log: under 1 KiB
        wait_for("the second lines", arrived, deadline_s=20)
        wait_for("app.log acknowledged", lambda: registry_offset(
            reg, log) == os.path.getsize(log), deadline_s=20)
        wait_for("app.log.1 acknowledged", lambda: registry_offset(
            reg, log + ".1") == os.path.getsize(log + ".1"), deadline_s=20)
        os.kill(sh.pid, signal.SIGSTOP)
        with open(log, "rb") as src, open(log + ".1", "wb") as dst:
            dst.write(src.read())
        sh.kill()
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        os.truncate(log, 0)
        write(3, 3)
        wait_for("the last lines", arrived, deadline_s=20)
        eq(sh.term(), 0, "exit")
        got.extend(r.events("e2e:events", delete=True))
    finally:
        for proc in (sh, r):
            if proc:
                proc.kill()  # by pid; a no-op once exited
    ids = {}
    for i, _, e in got:
        ids.setdefault(e["message"], set()).add(i)
    eq(sorted(m for m, s in ids.items() if len(s) > 1), [],
       "lines sent under two ids")
    eq(sorted(ids), sorted(written), "every line once")


def half_line_at_copytruncate(name, fmt, multiline=None):
    """`paths` app.log alone (its copy in old/ is not read): a line read
    whole, then a line's first bytes read without their newline when
    copytruncate empties the file (cp to old/copy.1, truncate), then a
    line into the emptied app.log. The half line's rest is in the copy:
    its bytes are dropped (copytruncate's limit, README), said once with
    the file and the count; it never ships as an event of its own (in
    docker format: half a JSON line; with multiline, the open event's
    complete lines ship without it). Before the fix it shipped."""
    d = scratch(name)
    log = os.path.join(d, "logs", "app.log")
    old = os.path.join(d, "logs", "old")
    os.mkdir(old)
    port = http_port()
    inp = {"type": "file", "paths": [log], "format": fmt}
    if multiline:
        inp["multiline"] = {"preset": multiline, "timeout": "1s"}
    conf = write_config(d, [inp], {"stdout": {}},
                        {"http": {"listen": f"127.0.0.1:{port}"}})

    def rec(text):
        if fmt == "docker":
            return json.dumps({"log": text + "\n", "stream": "stdout",
                               "time": "2026-12-05T09:00:00.000000000Z"})
        return text
    first = (["2026-12-05 09:00:01,000 ERROR tb unhandled",
              "Traceback (most recent call last):",
              '  File "/srv/app/db.py", line 88, in dispatch']
             if multiline else ["line one"])
    half = rec("ValueError: bad item" if multiline else "line two i")
    half = half[:len(half) // 2 + 4]
    last = ("2026-12-05 09:00:02,000 INFO line three" if multiline
            else "line three")
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    try:
        append(log, [rec(l) for l in first])
        if multiline:  # the open event waits: its lines read
            wait_for("the head read", lambda: sh.total(
                "sluice_shipper_lines_total") >= len(first))
        else:
            sh.wait_events(1)
        with open(log, "a") as f:
            f.write(half)
        time.sleep(0.6)  # read, its newline not written yet
        with open(log, "rb") as src, \
                open(os.path.join(old, "copy.1"), "wb") as dst:
            dst.write(src.read() + b"d 2\n")
        os.truncate(log, 0)
        append(log, [rec(last)])
        wait_for("the last line", lambda: any(
            e["message"] == last for e in sh.events()), deadline_s=10)
        time.sleep(0.5)
        got = [e["message"] for e in sh.events()]
        eq(got, ["\n".join(first), last], "events")
        eq(said(sh, "bytes of an unfinished line"), 1, "said once")
        eq(said(sh, f"dropped {len(half)} bytes of an unfinished line"), 1,
           "the count said")
        eq(sh.total("sluice_shipper_half_lines_dropped_total"), 1,
           "counted")
    finally:
        sh.kill()


@case
def a_half_line_at_a_copytruncate_whose_copy_is_not_matched_is_dropped():
    half_line_at_copytruncate("half-line", "lines")


@case
def a_half_docker_line_at_an_unmatched_copytruncate_is_dropped():
    half_line_at_copytruncate("half-docker", "docker")


@case
def a_traceback_with_a_half_line_at_an_unmatched_copytruncate():
    half_line_at_copytruncate("half-traceback", "lines", "python")


if "a_traceback_cut_by_copytruncate_with_its_rest_in_the_emptied_file" in \
        shipper_harness.ONLY:
    case(a_traceback_cut_by_copytruncate_with_its_rest_in_the_emptied_file)

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
