#!/usr/bin/env python3
"""Rotation cases `test_shipper_run.py` and `test_shipper_inputs.py` do not
cover, each found losing lines and fixed with its case here; the real
`sluice-shipper` in a scratch directory with `output.stdout`:

- a file rotated while the shipper is stopped into a directory next to it
  that `paths` does not match (logrotate's `olddir`): finished from its
  registry offset, then the new file read;
- a log path that is a symbolic link whose target is rotated (where the
  target lives, not where the link does) while the shipper is stopped;
- a file truncated and written again, longer than what was read, between
  two reads (`>` of a shell; same first KiB): read again from 0;
- `start_at: end` with a rotation while the shipper was stopped: the new
  file at a path the registry knows is read from its start, as is a file
  truncated and written again while stopped;
- logrotate's copytruncate with `rotate 2` while stopped: the copy takes
  the name the last rotated file had (app.log.1, moved to app.log.2) and
  is known as a copy, nothing sent twice; so is a copy whose truncated
  original was then renamed to a matched name during the same stop, and a
  copy not yet found when the shipper was killed after the truncation,
  one found only two restarts after it, two copies of one file
  truncated twice before either was found, and, with compress and
  delaycompress, a copy on the inode of the rotated file compress just
  removed;
- a new file that waited for a rotated one's end at a restart (the output
  down), deleted before that end: read through its descriptor;
- the shipper killed while a copytruncate's copy is being written (held,
  its entry inside a line): no half line at the restart;
- a file seen empty, its first lines sent and not acknowledged, the
  shipper killed, the file truncated and written again: the new lines do
  not take the ids of the old ones (against a redis-server, stopped with
  SIGSTOP so that the batch stays unacknowledged).
- max_open_files 2 under 5 files written all the time: each gets a
  descriptor in turn, none starves while the writers go on, and files
  waiting for one (Redis stopped) renamed away or copytruncated lose and
  repeat no line.

usage: test_shipper_rotation_cases.py SLUICE_SHIPPER [CASE...]
"""
import functools
import gzip
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, ONLY, Redis, Shipper, append,  # noqa: E402
                             case, eq, failures, http_port, redis_output,
                             wait_for, write_config)

SHIPPER = sys.argv[1]
ONLY.update(sys.argv[2:])
TMP = shipper_harness.tmp_dir("sluice-e2e-rotation-")
scratch = functools.partial(shipper_harness.scratch, TMP)
run_once = functools.partial(shipper_harness.run_once, SHIPPER)


def messages(stdout):
    return [e["message"] for e in shipper_harness.json_lines(stdout)]


def once(conf):
    return messages(run_once(conf)[0])


@case
def a_file_rotated_into_an_olddir_while_stopped_is_finished():
    d = scratch("olddir")
    logs = os.path.join(d, "logs")
    os.makedirs(os.path.join(logs, "old"))
    log = os.path.join(logs, "app.log")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "app.log*")]}])
    append(log, ["a 1", "a 2"])
    eq(once(conf), ["a 1", "a 2"], "first run")
    append(log, ["a 3", "a 4"])  # never read before the rotation
    os.rename(log, os.path.join(logs, "old", "app.log.1"))
    append(log, ["b 1"])
    eq(once(conf), ["a 3", "a 4", "b 1"], "after the rotation")
    eq(once(conf), [], "a third run")


@case
def a_symlinked_log_whose_target_is_rotated_while_stopped_is_finished():
    d = scratch("link")
    real = os.path.join(d, "real")
    os.makedirs(real)
    link = os.path.join(d, "logs", "app.log")
    os.symlink("../real/app.log", link)
    conf = write_config(d, [{"type": "file", "paths": [link]}])
    target = os.path.join(real, "app.log")
    append(target, ["a 1", "a 2"])
    eq(once(conf), ["a 1", "a 2"], "first run")
    append(target, ["a 3"])
    os.rename(target, target + ".1")
    append(target, ["b 1", "b 2"])
    eq(once(conf), ["a 3", "b 1", "b 2"], "after the target's rotation")
    # the link dangling while stopped (the new target not there yet)
    append(target, ["b 3"])
    os.rename(target, target + ".2")
    eq(once(conf), ["b 3"], "a dangling link")


@case
def a_file_truncated_and_written_longer_between_reads_is_read_from_0():
    d = scratch("rewrite")
    log = os.path.join(d, "logs", "app.log")
    header = "# a header longer than the fingerprint " + "h" * 1100
    first = [header] + [f"a {i}" for i in range(5)]
    append(log, first)
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(first))
        second = [header] + [f"b {i}" for i in range(40)]
        with open(log, "w") as f:  # O_TRUNC, then one write
            f.write("".join(l + "\n" for l in second))
        want = first + second
        wait_for("the new content", lambda: len(sh.events()) >= len(want)
                 or sh.alive(), deadline_s=10)
    finally:
        got = [e["message"] for e in sh.stop()]
    eq(got, want, "both contents, whole")


@case
def start_at_end_reads_files_that_replaced_known_ones_while_stopped():
    d = scratch("start-end")
    logs = os.path.join(d, "logs")
    log = os.path.join(logs, "app.log")
    other = os.path.join(logs, "other.log")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log")],
                             "start_at": "end"}])
    append(log, ["before 1"])
    append(other, ["before 2"])
    eq(once(conf), [], "first run: start_at end")
    append(log, ["a 1"])
    append(other, ["o 1"])
    eq(sorted(once(conf)), ["a 1", "o 1"], "appended")
    # while stopped: app.log renamed and created again (the rotated name
    # not matched), other.log truncated and written again
    append(log, ["a 2"])
    os.rename(log, log + ".1")
    append(log, ["new 1", "new 2"])
    with open(other, "w") as f:
        f.write("o2 1\n")
    eq(sorted(once(conf)), ["a 2", "new 1", "new 2", "o2 1"],
       "after rotations while stopped")
    # a file the shipper never knew, found at a restart: start_at holds
    append(os.path.join(logs, "third.log"), ["t 1"])
    eq(once(conf), [], "a new file at a restart")


def app_log(name):
    """A scratch directory's logs/app.log, and a config whose paths match
    app.log*."""
    d = scratch(name)
    logs = os.path.join(d, "logs")
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "app.log*")]}])
    return os.path.join(logs, "app.log"), conf


def copytruncate(log):
    """log copied to log.1 (over a file there: cp keeps its inode), then
    truncated."""
    with open(log) as src, open(log + ".1", "w") as dst:
        dst.write(src.read())
    os.truncate(log, 0)


@case
def logrotate_copytruncate_rotate_2_while_stopped_sends_nothing_twice():
    # the copy takes app.log.1, whose file moved to app.log.2: the copy is
    # the successor of a known file and was decided before the original's
    # truncation was seen (read whole under a new key: new ids)
    log, conf = app_log("copytruncate-chain")
    append(log, ["a 1", "a 2"])
    eq(once(conf), ["a 1", "a 2"], "first run")
    copytruncate(log)
    append(log, ["b 1", "b 2"])
    eq(once(conf), ["b 1", "b 2"], "after a first rotation")
    append(log, ["b 3"])
    os.rename(log + ".1", log + ".2")
    copytruncate(log)
    append(log, ["c 1"])
    eq(sorted(once(conf)), ["b 3", "c 1"], "after a second rotation")


@case
def copytruncate_then_rename_while_stopped_sends_nothing_twice():
    # two rotations during one stop: app.log copied to app.log.1 (over a
    # file read before: cp keeps its inode, which the registry knows) and
    # truncated, then the truncated file renamed to app.log.2 (a matched
    # name) and a new app.log made; the copy is known by its first bytes
    log, conf = app_log("copytruncate-rename")
    append(log, [f"a {i} " + "x" * 60 for i in range(30)])  # > 1 KiB
    append(log + ".1", [f"o {i}" for i in range(10)])  # a file read before
    eq(len(once(conf)), 40, "first run")
    append(log, ["a 30"])
    copytruncate(log)
    os.rename(log, log + ".2")
    append(log, ["b 1"])
    eq(sorted(once(conf)), ["a 30", "b 1"], "after two rotations")


def registry_keys(d):
    try:
        with open(os.path.join(d, "data", "registry.json")) as f:
            return {e["ino"]: e["key"] for e in json.load(f)["entries"]}
    except (OSError, ValueError):
        return {}


@case
def a_kill_after_a_truncation_before_the_copy_is_found_sends_nothing_twice():
    # the copy is found by a scan only (no inotify, scans an hour apart),
    # the truncation by the poll of the open file: killed in between, the
    # restart has the original's old entry no more, yet knows the copy
    d = scratch("copytruncate-kill")
    logs = os.path.join(d, "logs")
    log = os.path.join(logs, "app.log")
    slow = {"type": "file", "paths": [os.path.join(logs, "app.log*")],
            "inotify": False, "scan_interval": "1h", "poll_interval": "20ms"}
    conf = write_config(d, [slow])
    want = [f"a {i} " + "x" * 40 for i in range(40)]
    append(log, want)
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(want))
        ino = os.stat(log).st_ino
        key = wait_for("the entry saved", lambda: registry_keys(d).get(ino))
        copytruncate(log)
        wait_for("the truncation's new entry saved",
                 lambda: registry_keys(d).get(ino, key) != key)
        sh.kill()
        first = [e["message"] for e in sh.events()]
    finally:
        sh.kill()
    append(log, ["b 1"])
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "app.log*")]}])
    eq(sorted(first + once(conf)), sorted(want + ["b 1"]), "every line once")


def registry_inodes(d):
    try:
        with open(os.path.join(d, "data", "registry.json")) as f:
            return {e["ino"] for e in json.load(f)["entries"]}
    except (OSError, ValueError):
        return set()


@case
def a_file_rewritten_after_a_kill_does_not_reuse_the_ids_sent_before():
    d = scratch("short-fp")
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    sh = None
    try:
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        open(log, "w").close()  # seen empty: a fingerprint of 0 bytes
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        ino = os.stat(log).st_ino
        wait_for("the empty file's entry", lambda: ino in registry_inodes(d))
        old = [f"old {i:03d}" for i in range(5)]
        os.kill(r.proc.pid, signal.SIGSTOP)  # sent, never acknowledged
        try:
            append(log, old)
            wait_for("a batch sent", lambda: sh.metric(
                "sluice_output_outbox_batches") >= 1)
            sh.kill()
        finally:
            os.kill(r.proc.pid, signal.SIGCONT)
        new = [f"new {i:03d}" for i in range(5)]  # as long: same offsets
        with open(log, "w") as f:  # truncated, written again, stopped
            f.write("".join(l + "\n" for l in new))
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        got = []

        def arrived():
            got.extend(r.events("e2e:events", delete=True))
            return {e["message"] for _, _, e in got} >= set(new)
        wait_for("the new lines", arrived, deadline_s=10)
        eq(sh.term(), 0, "exit")
        got.extend(r.events("e2e:events", delete=True))
        ids = {}
        for id_, _, e in got:
            ids.setdefault(id_, set()).add(e["message"])
        eq(sorted(sorted(m) for m in ids.values() if len(m) > 1), [],
           "one id for two lines")
        eq(sorted({e["message"] for _, _, e in got}), sorted(old + new),
           "every line")
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def a_copy_found_two_restarts_after_its_truncation_sends_nothing_twice():
    # the ghost of a truncated file (what knows its copy) lives on disk
    # across more than one restart: a restart made it a ghost in memory
    # only, and one save before its copy was identified (a kill after it
    # in the stress test: copytruncate, rename, copytruncate, kill -9) sent
    # every line of the copy again, under a new key: other ids. Here the
    # copy comes to a matched name only two restarts after the truncation.
    log, conf = app_log("copytruncate-ghost-restarts")
    logs = os.path.dirname(log)
    want = [f"a {i} " + "x" * 60 for i in range(30)]  # > 1 KiB
    append(log, want)
    eq(once(conf), want, "first run")
    os.makedirs(os.path.join(logs, "hold"))
    away = os.path.join(logs, "hold", "app.log.1")  # not matched yet
    with open(log) as src, open(away, "w") as dst:
        dst.write(src.read())
    os.truncate(log, 0)
    eq(once(conf), [], "the truncation seen")
    eq(once(conf), [], "a restart")
    os.rename(away, log + ".1")
    append(log, ["b 1"])
    eq(once(conf), ["b 1"], "the copy found")


@case
def two_copytruncates_of_one_file_before_either_copy_is_found():
    # copytruncate, lines, copytruncate, each seen (a ghost each) before
    # either copy was: the ghosts were kept on disk one per inode, the
    # second over the first, and after a stop the first copy was read
    # again from 0 with other ids (the stress test's seed 49 under load)
    log, conf = app_log("copytruncate-twice")
    logs = os.path.dirname(log)
    os.makedirs(os.path.join(logs, "hold"))
    first = [f"a {i} " + "x" * 60 for i in range(30)]  # > 1 KiB
    append(log, first)
    eq(once(conf), first, "first run")
    second = [f"b {i} " + "y" * 60 for i in range(30)]
    for n, lines in ((1, first), (2, second)):
        with open(log) as src, open(os.path.join(logs, "hold", str(n)),
                                    "w") as dst:
            dst.write(src.read())
        os.truncate(log, 0)
        if n == 1:
            append(log, second)
        eq(once(conf), second if n == 1 else [], f"truncation {n} seen")
    for n in (1, 2):
        os.rename(os.path.join(logs, "hold", str(n)), f"{log}.{n}")
    append(log, ["c 1"])
    eq(once(conf), ["c 1"], "both copies found")


@case
def copytruncate_delaycompress_while_stopped_sends_nothing_twice():
    # logrotate's copytruncate with compress and delaycompress while the
    # shipper is stopped: app.log.1 renamed to app.log.2, compressed
    # (app.log.2 unlinked), then the copy made as app.log.1 on the inode
    # just freed (ext4 gives it back at once), whose registry entry is
    # the old app.log.1's, at the same path. Decided before app.log's
    # truncation was seen (the directory order), the copy was read whole
    # under a new key: each line sent again with other ids (found by hand
    # with the real logrotate, 2,860 lines with two ids). Now a file on an
    # inode whose entry is another file's is asked again at its first read.
    d = scratch("copytruncate-delaycompress")
    log = os.path.join(d, "logs", "app.log")
    conf = write_config(d, [{"type": "file", "paths": [log + "*"],
                             "exclude": ["*.gz"]}])
    append(log, [f"a {i} " + "x" * 60 for i in range(30)])
    eq(len(once(conf)), 30, "first run")
    copytruncate(log)
    append(log, [f"b {i} " + "y" * 60 for i in range(30)])
    eq(len(once(conf)), 30, "after a first rotation")
    append(log, ["b late"])
    os.rename(log + ".1", log + ".2")
    with open(log + ".2", "rb") as f, gzip.open(log + ".2.gz", "wb") as gz:
        gz.write(f.read())
    os.unlink(log + ".2")
    copytruncate(log)
    append(log, ["c 1"])
    eq(sorted(once(conf)), ["b late", "c 1"], "after a second rotation")


@case
def a_new_file_deleted_before_a_restart_drained_the_rotated_one_is_read():
    # rotated while stopped (app.log renamed to app.log.1, a new app.log
    # written), then the shipper started with Redis down: the new file
    # waits for the rotated one's end, which the output holds back, and
    # was held without a descriptor; deleted meanwhile (logrotate again,
    # compress), its lines were lost (10 of 10). Now it is opened at the
    # scan that finds it, and read through its descriptor after the
    # rotated file.
    d = scratch("restart-new-deleted")
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    try:
        conf = write_config(d, [{"type": "file", "paths": [log + "*"],
                                 "exclude": ["*.gz"]}],
                            redis_output(r, batch_age="20ms"))
        a = [f"a {i}" for i in range(20)]
        append(log, a)
        sh = Shipper(SHIPPER, ENV, conf, d)
        got = []

        def arrived(want):
            got.extend(r.events("e2e:events", delete=True))
            sh.alive()
            return {e["message"] for _, _, e in got} >= set(want)
        wait_for("the first lines", lambda: arrived(a))
        eq(sh.term(), 0, "exit after SIGTERM")
        a2 = [f"a2 {i}" for i in range(200)]
        append(log, a2)
        os.rename(log, log + ".1")
        b = [f"b {i}" for i in range(10)]
        append(log, b)
        ino = os.stat(log).st_ino
        r.kill()
        sh = Shipper(SHIPPER, ENV, conf, d)
        wait_for("the new file's entry",
                 lambda: ino in registry_inodes(d) or sh.alive())
        os.unlink(log)
        r.start()
        try:
            wait_for("every line", lambda: arrived(a + a2 + b), deadline_s=10)
        finally:
            eq(sh.term(), 0, "exit after SIGTERM")
        got.extend(r.events("e2e:events", delete=True))
        shipper_harness.exactly_once(got, a + a2 + b, "after the restart")
    finally:
        r.kill()


@case
def a_kill_while_a_copy_is_written_invents_no_half_line():
    # copytruncate: the copy seen while cp was still writing it (1,500 of
    # its 4,000 bytes, ending inside a line) is held as the copy of the
    # live app.log, its registry entry where the original was
    # acknowledged but no further than its bytes then: the middle of a
    # line. Killed there, the copy finished and app.log truncated while
    # stopped, the restart resumed the copy at that entry and sent the
    # rest of that line as a line of its own. Now the entry is just past
    # the copy's last newline: lines read again, with their ids.
    log, conf = app_log("copy-written-kill")
    d = os.path.dirname(os.path.dirname(log))
    want = [f"a {i:02d} " + "x" * 40 for i in range(80)]  # 4,000 bytes
    append(log, want)
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        sh.wait_events(len(want))
        with open(log, "rb") as f:
            data = f.read()
        with open(log + ".1", "wb") as f:
            f.write(data[:1500])  # inside line 30
        ino = os.stat(log + ".1").st_ino
        wait_for("the copy held", lambda: "held until the original" in
                 sh.text() and ino in registry_inodes(d))
        sh.kill()
        first = [e["message"] for e in sh.events()]
    finally:
        sh.kill()
    with open(log + ".1", "ab") as f:
        f.write(data[1500:])
    os.truncate(log, 0)
    append(log, ["b 1"])
    got = first + once(conf)
    eq(sorted(set(got) - set(want + ["b 1"])), [], "lines invented")
    eq(sorted(set(got)), sorted(want + ["b 1"]), "every line")



def file_states(port):
    """{path: state} of /status's rows (the first page)."""
    try:
        body = shipper_harness.http_get(port, "/status").split(
            "\r\n\r\n", 1)[1]
        return {f["path"]: f["state"] for f in json.loads(body)["files"]}
    except (OSError, IndexError, ValueError, KeyError):
        return {}


@case
def files_waiting_for_a_descriptor_are_read_and_rotated_without_loss():
    # max_open_files 2 with 5 files written all the time: a file that
    # waits for a descriptor gets one in turn (a file at its end gives its
    # slot up when others wait), so none starves while the writers go on;
    # and waiting files (Redis stopped: reading stops, 3 of the 5 wait)
    # renamed away (found again by its inode) or copytruncated (its copy
    # matched) lose no line and repeat none.
    d = scratch("max-open-files-busy")
    logs = os.path.join(d, "logs")
    r = Redis()
    port = http_port()
    conf = write_config(d, [{"type": "file",
                             "paths": [os.path.join(logs, "*.log*")],
                             "max_open_files": 2}],
                        redis_output(r, batch_age="20ms", batch_events=50,
                                     max_in_flight=1),
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    names = "abcde"
    paths = {n: os.path.join(logs, f"{n}.log") for n in names}
    files = {n: open(paths[n], "ab", buffering=0) for n in names}
    written = {n: [] for n in names}
    lock = threading.Lock()
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            with lock:
                for n in names:
                    line = f"{n} {i:05d} " + "w" * 60
                    files[n].write((line + "\n").encode())
                    written[n].append((time.monotonic(), line))
            i += 1
            time.sleep(0.005)

    got = set()
    twice = []

    def shipped_by(t):
        """Every line written before t has come (Redis read as it goes)."""
        for _, _, e in r.events("e2e:events", delete=True):
            m = e["message"]
            (twice if m in got else []).append(m)
            got.add(m)
        with lock:
            return all(l in got for n in names for at, l in written[n]
                       if at < t)

    sh = Shipper(SHIPPER, ENV, conf, d, port)
    t = threading.Thread(target=writer, daemon=True)
    rotated = []
    try:
        t.start()
        t0 = time.monotonic() + 0.5
        wait_for("the first lines of every file", lambda: shipped_by(t0),
                 deadline_s=20)
        os.kill(r.proc.pid, signal.SIGSTOP)  # reading stops: files wait
        try:
            def waiting():
                st = file_states(port)  # waiting-output, waiting...
                w = [n for n in names
                     if st.get(paths[n], "").startswith("waiting")]
                return w if len(w) >= 2 else None
            w = wait_for("two files waiting", waiting, deadline_s=20)
            with lock:
                for n, how in zip(w, ("rename", "copytruncate")):
                    p = paths[n]
                    rotated.append((n, how))
                    if how == "rename":  # not matched: found by inode
                        os.rename(p, os.path.join(logs, f"{n}-rotated"))
                        files[n].close()
                        files[n] = open(p, "ab", buffering=0)
                    else:
                        with open(p, "rb") as src, \
                                open(p + ".1", "wb") as dst:
                            dst.write(src.read())
                        os.truncate(p, 0)
        finally:
            os.kill(r.proc.pid, signal.SIGCONT)
        # none starves: while the writers go on, every file's lines come
        t1 = time.monotonic() + 0.5
        wait_for("every file's lines, the writers going on",
                 lambda: shipped_by(t1), deadline_s=30)
        stop.set()
        t.join()
        wait_for("every line", lambda: shipped_by(time.monotonic()),
                 deadline_s=30)
        eq(sh.term(), 0, "exit")
        shipped_by(0)
    finally:
        stop.set()
        sh.kill()
        r.kill()
        for f in files.values():
            f.close()
    print(f"     rotated while waiting: {rotated}")
    want = {l for n in names for _, l in written[n]}
    eq(twice[:5], [], "lines shipped twice")
    eq(sorted(got ^ want)[:5], [], "every line")

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
