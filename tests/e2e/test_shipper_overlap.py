#!/usr/bin/env python3
"""Two defects a user met with the real `sluice-shipper` (issue 12):
two file inputs whose globs match the same file (each file is read by the
first input that matches it, and the shipper says so once), and `status`
listing the registry's ghosts of copytruncated files as rows of their own.

usage: test_shipper_overlap.py SLUICE_SHIPPER
"""
import functools
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Shipper, case, eq,  # noqa: E402
                             failures, http_get, http_port, json_lines,
                             wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-overlap-")
scratch = functools.partial(shipper_harness.scratch, TMP)
run_once = functools.partial(shipper_harness.run_once, SHIPPER)


def status(conf):
    p = subprocess.run([SHIPPER, "-c", conf, "status"], capture_output=True,
                       env=ENV, timeout=shipper_harness.DEADLINE_S, text=True)
    eq((p.returncode, p.stderr), (0, ""), "status")
    return p.stdout.splitlines()


@case
def status_hides_the_ghost_of_a_truncated_file():
    # A file truncated while the shipper was stopped leaves a ghost in the
    # registry (its first bytes, under an inode with the top bit set, kept
    # up to 5 minutes for its copy). `status` showed it as a second row of
    # the live file's path, "rotated", with 691 B of an offset: "2 files"
    # for one file. Now: one row, and a line saying what the ghost is.
    d = scratch("ghost")
    log = os.path.join(d, "logs", "app.log")
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    with open(log, "w") as f:
        f.write("".join(f"first line {i}\n" for i in range(50)))
    eq(len(json_lines(run_once(conf)[0])), 50, "first run")
    with open(log, "w") as f:  # truncated, other first bytes
        f.write("second 1\nsecond 2\n")
    eq(len(json_lines(run_once(conf)[0])), 2, "second run")
    with open(os.path.join(d, "data", "registry.json")) as f:
        eq(f.read().count('"path"'), 2, "the registry holds the ghost")
    out = status(conf)
    eq(out[0].split(": ", 1)[1].split(",")[0], "1 file", "count")
    eq(out[1].split(": ", 1)[1],
       "and the first bytes of 1 copytruncated file, kept to recognise its "
       "copy (at most 5 minutes)", "ghost line")
    rows = [l.split() for l in out[3:]]
    eq([r[-1] for r in rows], ["done"], "rows (the path is cut to fit)")


TRACE = ["2026-12-05 10:00:00 ERROR boom",
         "java.lang.IllegalStateException: bad",
         "\tat a.B.c(B.java:1)",
         "2026-12-05 10:00:01 INFO fine"]
OVERLAP_WARNING = "is matched by inputs[0] too, which comes first in inputs"


def overlapping(d, exclude=None):
    """inputs[0] on d/logs/*.log (exclude given), inputs[1] on
    d/logs/app.log with the java preset: the config's path."""
    logs = os.path.join(d, "logs")
    first = {"type": "file", "paths": [os.path.join(logs, "*.log")]}
    if exclude:
        first["exclude"] = exclude
    return write_config(d, [first, {"type": "file",
                                    "paths": [os.path.join(logs, "app.log")],
                                    "multiline": {"preset": "java"}}])


@case
def two_inputs_on_one_file_read_it_once():
    # inputs[0] on logs/*.log and inputs[1] on logs/app.log (a multiline
    # preset): app.log was read by both, each line shipped twice under the
    # same id (and once with the preset, once without), silently. Now the
    # first input that matches reads it, the second says so once, and a
    # restart resumes it with the same input: every line exactly once.
    d = scratch("overlap")
    app, other = (os.path.join(d, "logs", n) for n in ("app.log", "b.log"))
    conf = overlapping(d)
    shipper_harness.append(app, TRACE)
    shipper_harness.append(other, ["other 1", "other 2"])
    out, err = run_once(conf)
    got = sorted(e["message"] for e in json_lines(out))
    eq(got, sorted(TRACE + ["other 1", "other 2"]), "every line once")
    eq(err.count(OVERLAP_WARNING), 1, "said once")
    eq(err.count(f"'{app}'"), 1, "with the path")
    shipper_harness.append(app, ["2026-12-05 10:00:02 INFO again"])
    out, err = run_once(conf)
    eq([e["message"] for e in json_lines(out)],
       ["2026-12-05 10:00:02 INFO again"], "after a restart: the new line")
    eq(err.count(OVERLAP_WARNING), 1, "said once a run")


@case
def an_exclude_in_the_first_input_gives_the_file_to_the_second():
    # What the warning says to do: the file goes to inputs[1], its
    # multiline preset joins the trace, nothing is said.
    d = scratch("exclude")
    app = os.path.join(d, "logs", "app.log")
    conf = overlapping(d, exclude=["app.log"])
    shipper_harness.append(app, TRACE)
    out, err = run_once(conf)
    eq([e["message"] for e in json_lines(out)],
       ["\n".join(TRACE[:3]), TRACE[3]], "joined by inputs[1]'s preset")
    eq(err.count(OVERLAP_WARNING), 0, "nothing said")


def daemon(name):
    """`run` with /status, inputs[0] on logs/*.log and inputs[1] on
    logs/app.log*, scanning and rotating fast: (Shipper, logs, app)."""
    d = scratch(name)
    logs = os.path.join(d, "logs")
    app = os.path.join(logs, "app.log")
    port = http_port()
    fast = {"type": "file", "rotate_wait": "200ms", "scan_interval": "200ms"}
    conf = write_config(
        d, [dict(fast, paths=[os.path.join(logs, "*.log")]),
            dict(fast, paths=[app + "*"])],
        None, {"http": {"listen": f"127.0.0.1:{port}"}})
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    sh.conf, sh.dir = conf, d  # to start it again
    return sh, logs, app


def two_scans(sh):
    """Waits for two more scans of inputs[1]: what it would take, it did."""
    scans = 'sluice_shipper_scans_total{input="inputs[1]"}'
    after = sh.metric(scans) + 2
    wait_for("two scans of inputs[1]", lambda: sh.metric(scans) >= after)


@case
def a_renamed_file_two_inputs_match_is_drained_once():
    # The daemon, inputs[0] on logs/*.log and inputs[1] on logs/app.log*:
    # app.log renamed to app.log.1 (which only inputs[1] matches) while
    # inputs[0] still drains it, then a new app.log. inputs[1] read
    # app.log.1 again, from its acknowledged offset, once inputs[0] had
    # drained it: a line appended after the rename came out twice. Now
    # a file an input drained is not another input's (it is over), and
    # /status lists each file once.
    sh, logs, app = daemon("rename")
    try:
        want = [f"one {i}" for i in range(100)]
        shipper_harness.append(app, want)
        sh.wait_events(100)
        os.rename(app, app + ".1")
        shipper_harness.append(app + ".1", ["one late"])
        shipper_harness.append(app, ["two 0", "two 1"])
        want += ["one late", "two 0", "two 1"]
        sh.wait_events(len(want))

        def paths():
            body = http_get(sh.port, "/status").split("\r\n\r\n", 1)[1]
            return sorted(f["path"] for f in json.loads(body)["files"])
        wait_for("/status: app.log.1 drained", lambda: paths() == [app])
        two_scans(sh)
        eq(paths(), [app], "/status: inputs[1] did not take app.log.1")
        got = [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(sorted(got), sorted(want), "every line once")
    eq(sh.text().count("is matched by inputs[0] too"), 1, "said once")


def fifty_read_one_not(sh, app):
    """50 lines into app, read; then one more, "late", maybe not read yet
    when the test rotates: the lines written."""
    want = [f"line {i} " + "x" * 40 for i in range(50)]
    shipper_harness.append(app, want)
    sh.wait_events(50)
    shipper_harness.append(app, ["late"])
    return want + ["late"]


@case
def a_copy_only_the_second_input_matches_is_known_as_a_copy():
    # inputs[0] on logs/*.log reads app.log; copytruncate makes app.log.1,
    # which only inputs[1] (logs/app.log*) matches. inputs[1] did not know
    # it as a copy (the original's ghost was inputs[0]'s): it read its 51
    # lines from the start under a new key, 50 of them again, with other
    # ids (duplicates in Elasticsearch). Now the other inputs' ghosts count:
    # it is read from where app.log was, the one line written since. (The
    # copy shows up after the truncation was seen, so the test does not
    # depend on which input looks first; the next case finds it first.)
    sh, logs, app = daemon("copy")
    try:
        want = fifty_read_one_not(sh, app)
        tmp = os.path.join(logs, "copy.tmp")  # matched by neither input
        shutil.copyfile(app, tmp)
        open(app, "w").close()
        shipper_harness.append(app, ["new"])
        want += ["new"]
        wait_for("the truncated file's new line",
                 lambda: "new" in [e["message"] for e in sh.events()])
        os.rename(tmp, app + ".1")  # the copy, seen after the truncation
        sh.wait_events(len(want))
        two_scans(sh)
        got = [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(sorted(got), sorted(want), "every line once")


@case
def a_copy_the_second_input_finds_first_is_held_for_the_first():
    # The same two inputs; the copy, app.log.1 (only inputs[1] matches
    # it), is made as cp makes it and found by inputs[1] while app.log,
    # inputs[0]'s, is not truncated yet. inputs[1] looked only among its
    # own files for an original: it read the copy from its start under a
    # key of its own, the 50 lines inputs[0] had sent again with other
    # ids (duplicates in Elasticsearch). Now it knows the other inputs'
    # files too: the copy is held until app.log is truncated, then read
    # from where app.log was (the one line written since), nothing twice,
    # across a restart too.
    sh, logs, app = daemon("copy-first")
    try:
        want = fifty_read_one_not(sh, app)
        shutil.copyfile(app, app + ".1")

        def found():
            body = http_get(sh.port, "/status").split("\r\n\r\n", 1)[1]
            return [f["state"] for f in json.loads(body)["files"]
                    if f["path"] == app + ".1"]
        wait_for("inputs[1] found app.log.1", found, every_s=0.01)
        open(app, "w").close()
        shipper_harness.append(app, ["new"])
        want += ["new"]
        sh.wait_events(len(want))
        two_scans(sh)
        got = [e["message"] for e in sh.stop()]
        sh = Shipper(SHIPPER, ENV, sh.conf, sh.dir, sh.port)
        two_scans(sh)
        got += [e["message"] for e in sh.stop()]
    finally:
        sh.kill()
    eq(sorted(got), sorted(want), "every line once")


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
