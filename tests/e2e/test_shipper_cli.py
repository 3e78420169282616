#!/usr/bin/env python3
"""`sluice-shipper`'s command line as a user meets it, end to end with the
real binary: `check` refuses what `run` would refuse, each time with
file:line:column and exit 2, and is silent on a good file; `log.file`
and SIGHUP after logrotate moved the log; a damaged registry refused with
the command that moves it aside, and that command works; a config read
from a pipe (`-c <(...)`, `-c /dev/stdin`) or a FIFO.

usage: test_shipper_cli.py SLUICE_SHIPPER
       (SLUICE_E2E_ONLY=name,name runs only those cases)
"""
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, Shipper, append,  # noqa: E402
                             case, eq, failures, json_lines, scratch,
                             wait_for, write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-cli-")


def shipper(conf, *args, stdin=b""):
    p = subprocess.run([SHIPPER, "-c", conf, *args], capture_output=True,
                       env=ENV, timeout=DEADLINE_S, input=stdin)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def refused_with_position(conf, what):
    """check and run --once both exit 2 with one line that starts with
    conf:LINE:COL: and names what; that line."""
    said = []
    for args in (["check"], ["run", "--once"]):
        rc, _, err = shipper(conf, *args)
        eq(rc, 2, f"{args} on {what}: {err!r}")
        if not re.match(re.escape(f"sluice-shipper: {conf}:") +
                        r"\d+:\d+: ", err) or err.count("\n") != 1:
            raise AssertionError(f"{args} on {what}: {err!r}")
        said.append(err)
    eq(said[0], said[1], f"check and run on {what}")
    return said[0]


def refused_ending(conf, what, tail):
    """refused_with_position, its line ending with tail."""
    said = refused_with_position(conf, what)
    if not said.endswith(tail + "\n"):
        raise AssertionError(f"{what}: {said!r}")


@case
def check_refuses_what_run_refuses_each_with_file_line_column():
    # http.listen was read as a string only: check said nothing (exit 0)
    # and run exited 2 with a line without file:line:column. An empty
    # file had no position either.
    d = scratch(TMP, "check")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["a line"])
    inputs = [{"type": "file", "paths": [log]}]
    good = write_config(d, inputs, None,
                        {"http": {"listen": "127.0.0.1:0"}})
    eq(shipper(good, "check"), (0, "", ""), "check on a good file")
    for listen, word in (("nope", "HOST:PORT"), (":5066", "HOST:PORT"),
                         ("127.0.0.1:99999", "99999"),
                         ("0.0.0.0:5066", "loopback"),
                         ("::1:5066", "brackets")):
        conf = write_config(d, inputs, None, {"http": {"listen": listen}})
        said = refused_with_position(conf, listen)
        if "http.listen" not in said or word not in said:
            raise AssertionError(said)
    conf = write_config(d, inputs, None, {"log": {"file": ""}})
    said = refused_with_position(conf, "an empty log.file")
    if "log.file" not in said:
        raise AssertionError(said)
    with open(conf, "w") as f:
        f.write("  // nothing but a comment\n")
    said = refused_with_position(conf, "an empty file")
    if "file is empty" not in said:
        raise AssertionError(said)


def rotate_and_hup(sh, path):
    """path moved to path.1 as logrotate's create mode does, SIGHUP, and
    the daemon's next line in a new path."""
    os.rename(path, path + ".1")
    sh.proc.send_signal(signal.SIGHUP)
    wait_for("a new log file", lambda: os.path.exists(path) and
             "SIGHUP: log reopened" in open(path).read())


@case
def sighup_reopens_the_log_file_that_logrotate_moved():
    d = scratch(TMP, "sighup")
    log = os.path.join(d, "logs", "app.log")
    own = os.path.join(d, "shipper-own.log")
    append(log, [f"a {i}" for i in range(10)])
    conf = write_config(d, [{"type": "file", "paths": [log]}], None,
                        {"log": {"level": "info", "file": own}})
    sh = Shipper(SHIPPER, ENV, conf, d)
    try:
        wait_for("10 events", lambda: sh.alive() or len(sh.events()) >= 10)
        wait_for("the log file", lambda: os.path.exists(own) and
                 "started" in open(own).read())
        rotate_and_hup(sh, own)
        append(log, [f"b {i}" for i in range(10)])
        sh.wait_events(20)
        got = sh.stop()
        eq([e["message"] for e in got],
           [f"{x} {i}" for x in "ab" for i in range(10)], "events")
        with open(own) as f:
            new = f.read()
        with open(own + ".1") as f:
            old = f.read()
        if "stopped" not in new or "stopped" in old or "SIGHUP" in old:
            raise AssertionError(f"rotated:\n{old}\nnew:\n{new}")
        eq(sh.text(), "", "stderr, with log.file set")
    finally:
        sh.kill()
    # a log file that cannot be opened: said on stderr, exit 1
    conf = write_config(d, [{"type": "file", "paths": [log]}], None,
                        {"log": {"file": os.path.join(d, "no", "x.log")}})
    rc, _, err = shipper(conf, "run", "--once")
    eq(rc, 1, f"run with log.file in a missing directory: {err!r}")
    # it said neither the key nor what to do; then not where
    want = (f"log.file: cannot open log file '{d}/no/x.log': No such file "
            "or directory; create its directory, writable by the daemon's "
            "user, or leave log.file out to log to stderr")
    col = open(conf).read().index(f'"{d}/no/x.log"') + 1
    eq(err, f"sluice-shipper: {conf}:1:{col}: {want}\n", "run's message")


@case
def a_damaged_registry_says_how_to_move_it_aside_and_that_works():
    d = scratch(TMP, "damaged")
    log = os.path.join(d, "logs", "app.log")
    want = [f"r {i}" for i in range(50)]
    append(log, want)
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "start_at": "beginning"}], None)
    rc, out, _ = shipper(conf, "run", "--once")
    eq(rc, 0, "the first run")
    reg = os.path.join(d, "data", "registry.json")
    with open(reg) as f:
        text = f.read()
    with open(reg, "w") as f:  # a crash of the disk, not of the shipper
        f.write(text[:len(text) // 2])
    for args in (["run", "--once"], ["status"]):
        rc, out, err = shipper(conf, *args)
        eq((rc, out), (1, ""), f"{args} with a damaged registry: {err!r}")
        m = re.search(r": mv (\S+) (\S+) \(every file is then new", err)
        if m is None or "damaged" not in err or not \
                err.startswith(f"sluice-shipper: {reg}:") and \
                f"] {reg}:" not in err:
            raise AssertionError(f"{args}: {err!r}")
    eq(m.group(1), reg, "the file the command moves")
    subprocess.run(["mv", m.group(1), m.group(2)], check=True)
    rc, out, err = shipper(conf, "run", "--once")
    eq(rc, 0, f"run after the move: {err!r}")
    eq([e["message"] for e in json_lines(out)], want, "every line again")
    with open(reg) as f:
        eq(len(json.load(f)["entries"]), 1, "a new registry")
    with open(m.group(2)) as f:
        eq(f.read(), text[:len(text) // 2], "the damaged file kept")


@case
def sighup_reopens_the_file_stderr_appends_to_once_logrotate_moved_it():
    # no log.file, stderr appended to a file (`2>>shipper.log`, as the
    # harness and many init scripts start it): the log went on into the
    # moved file for good, SIGHUP changed nothing
    d = scratch(TMP, "stderr")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one"])
    conf = write_config(d, [{"type": "file", "paths": [log]}], None)
    sh = Shipper(SHIPPER, ENV, conf, d)  # stderr: d/shipper.log, "ab"
    try:
        wait_for("started", lambda: sh.alive() or "started" in sh.text())
        rotate_and_hup(sh, sh.log_path)
        sh.stop()
        with open(sh.log_path + ".1") as f:
            old = f.read()
        if "started" not in old or "SIGHUP" in old or "stopped" in old:
            raise AssertionError(f"the moved log:\n{old}")
        if "stopped" not in sh.text():
            raise AssertionError(f"the new log:\n{sh.text()}")
    finally:
        sh.kill()


@case
def a_config_saved_with_a_byte_order_mark():
    # Notepad and PowerShell write a byte order mark first: a good config
    # saved so was refused with "1:1: invalid character, found byte
    # 0xEF", and a UTF-16 one with "found byte 0xFF", which says nothing
    # to whoever cannot see the mark. UTF-8's mark is skipped now (lines
    # and columns count as the editor shows them), UTF-16 is named.
    d = scratch(TMP, "bom")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one"])
    good = write_config(d, [{"type": "file", "paths": [log]}], None)
    with open(good, "rb") as f:
        text = f.read()
    with open(good, "wb") as f:
        f.write(b"\xef\xbb\xbf" + text)
    eq(shipper(good, "check"), (0, "", ""), "check on a good file with BOM")
    rc, out, _ = shipper(good, "run", "--once")
    eq((rc, [e["message"] for e in json_lines(out)]), (0, ["one"]), "run")
    with open(good, "wb") as f:
        f.write(b"\xef\xbb\xbf{\"oops\": 1}")
    said = refused_with_position(good, "an unknown key after a BOM")
    if f"{good}:1:2: " not in said:
        raise AssertionError(said)
    with open(good, "wb") as f:
        f.write("{}".encode("utf-16"))
    said = refused_with_position(good, "UTF-16")
    eq(said, f"sluice-shipper: {good}:1:1: the file is in UTF-16 (it starts "
       "with the bytes 0xFF 0xFE); save it as UTF-8\n", "UTF-16")


@case
def hand_written_json_mistakes_point_at_the_mistake_and_say_what_to_write():
    # a regex's \d written as it is was "'\\' occurs before a character
    # which it may not", a comma after the last member was "expected a key
    # in quotes" at the '}' on the line below, and a file cut short was
    # "unexpected end of file": none said what to write, or where
    d = scratch(TMP, "syntax")
    conf = os.path.join(d, "shipper.json")
    log = os.path.join(d, "app.log")
    head = ('{\n  "data_dir": "%s",\n  "output": {"stdout": {}},\n'
            '  "inputs": [{"type": "file", "paths": ["%s"],\n' % (d, log))
    cases = (
        ('    "multiline": {"pattern": "^\\d{4}-"}}]\n}\n', "5:32: '\\d' is "
         "not an escape JSON knows; write '\\\\d' (in JSON a backslash is "
         "written twice: a regular expression's \\d is \"\\\\d\")"),
        ('    "start_at": "end",\n  }]\n}\n', "5:22: a ',' after the last "
         "member of an object; remove it (JSON allows no comma before '}')"),
        ('    "start_at": "end}]\n}\n', "5:17: the string that starts here is "
         "not closed on its line; end it with '\"' (a line break inside a "
         "string is written \\n)"),
        ('    "start_at": "end"}\n', "6:1: the file ends inside the array "
         "that starts at 4:13; a ']' is missing (or the file was cut "
         "short)"),
    )
    for tail, want in cases:
        with open(conf, "w") as f:
            f.write(head + tail)
        said = refused_with_position(conf, tail)
        eq(said, f"sluice-shipper: {conf}:{want}\n", tail)


@case
def a_multiline_pattern_with_an_unknown_grok_name_says_what_to_do():
    # said "inputs[0].multiline: multiline: grok: ...; add --patterns-dir
    # or check the spelling": sluice-grok's flag, which the shipper has
    # no key for, at the multiline object rather than its pattern
    d = scratch(TMP, "mlname")
    log = os.path.join(d, "app.log")
    conf = write_config(d, [{"type": "file", "paths": [log], "multiline":
                             {"pattern": "^%{TIMESTAMP_ISO8061} "}}])
    said = refused_with_position(conf, "an unknown name in a multiline "
                                 "pattern")
    with open(conf) as f:
        text = f.read()
    at = text.index('"^%{TIME')
    eq(said, f"sluice-shipper: {conf}:1:{at + 1}: inputs[0].multiline."
       "pattern: grok: expression '^%{TIMESTAMP_ISO8061} ': at "
       "%{TIMESTAMP_ISO8061}: unknown pattern 'TIMESTAMP_ISO8061' (did you "
       "mean 'TIMESTAMP_ISO8601'?); check the spelling (a multiline pattern "
       "knows the built-in patterns: "
       "sluice-grok --list shows them)\n", "the message")


@case
def a_glob_of_a_directory_and_a_second_stdin_input_are_refused():
    # "paths": ["/var/log/app/"] matched nothing, for ever, without a word
    # (check exit 0, run read nothing); two stdin inputs were accepted and
    # the second never read a line
    d = scratch(TMP, "globdir")
    logs = os.path.join(d, "logs") + "/"
    append(os.path.join(logs, "app.log"), ["one"])
    conf = write_config(d, [{"type": "file", "paths": [logs]}])
    refused_ending(conf, "a path ending in /",
                   "expected a glob of files, not a directory: name its "
                   f"files, such as {logs}*.log")
    conf = write_config(d, [{"type": "stdin"}, {"type": "file", "paths":
                            [logs + "*.log"]}, {"type": "stdin"}])
    refused_ending(conf, "two stdin inputs",
                   "inputs[2].type: inputs[0] reads stdin already, and "
                   "stdin is read by one input only; keep one (a "
                   "processor's `when` can treat its lines apart)")


@case
def a_field_named_message_in_fields_is_refused():
    # "fields": {"message": ...} replaced the line of every event: each
    # line read was shipped as that value, the line itself lost
    d = scratch(TMP, "fieldmsg")
    log = os.path.join(d, "app.log")
    append(log, ["the line"])
    conf = write_config(d, [{"type": "file", "paths": [log],
                             "fields": {"message": "shop"}}])
    refused_ending(conf, "fields.message",
                   " inputs[0].fields.message: 'message' is the line "
                   "read: a field of that name would replace every "
                   "line, which is then lost; name it otherwise "
                   "(labels.message...)")


@case
def a_tilde_in_paths_or_data_dir_is_refused_with_home():
    # "~/logs/*.log" is the shell's: here it named a directory "~" under
    # the working directory, which matched nothing, silently; data_dir
    # "~/sluice" made one there
    d = scratch(TMP, "tilde")
    conf = write_config(d, [{"type": "file", "paths": ["~/logs/*.log"]}])
    refused_ending(conf, "~ in paths",
                   "inputs[0].paths[0]: found a string \"~/logs/*.log"
                   "\", expected a path without '~' (a shell's, not "
                   "expanded here): write ${HOME}/logs/*.log, or the "
                   "whole path")
    conf = write_config(d, [{"type": "stdin"}], None,
                        {"data_dir": "~/sluice"})
    refused_ending(conf, "~ in data_dir",
                   "data_dir: found a string \"~/sluice\", expected a "
                   "directory without '~' (a shell's, not expanded "
                   "here): write ${HOME}/sluice, or the whole path")
    eq(os.path.exists(os.path.join(os.getcwd(), "~")), False, "no ~ made")


@case
def http_listen_in_use_names_the_key():
    # run said "[shipper] metrics address 127.0.0.1:N is in use; ...",
    # without the key to change
    import socket
    d = scratch(TMP, "inuse")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        conf = write_config(d, [{"type": "stdin"}], None,
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        eq(shipper(conf, "check"), (0, "", ""), "check: a good config")
        rc, out, err = shipper(conf, "run", "--once")
    finally:
        busy.close()
    eq((rc, out), (1, ""), f"run: {err!r}")
    said = [l.split("] ", 1)[1] for l in err.splitlines() if " error " in l]
    eq(said, [f"http.listen: metrics address 127.0.0.1:{port} is in use; "
              "pick another port or stop the other process (ss -ltnp "
              f"'sport = :{port}' shows it)"], "the error")


@case
def a_word_in_the_wrong_case_or_a_preset_name_alone_says_what_to_write():
    # "INFO", "STDIN", "Docker": "expected one of ..." with no suggestion
    # (case counted as distance); "multiline": "python" was "found a
    # string, expected an object"
    d = scratch(TMP, "case")
    for inp, extra, tail in (
            ({"type": "STDIN"}, {}, 'inputs[0].type: found a string '
             '"STDIN", expected one of "file", "stdin" (did you mean '
             '"stdin"?)'),
            ({"type": "stdin"}, {"log": {"level": "INFO"}}, 'log.level: '
             'found a string "INFO", expected one of "error", "warn", '
             '"info", "debug" (did you mean "info"?)'),
            ({"type": "stdin", "multiline": "python"}, {}, 'inputs[0].'
             'multiline: found a string "python", expected an object: write '
             '{"preset": "python"}')):
        conf = write_config(d, [inp], None, extra)
        refused_ending(conf, tail, tail)


def run_closed(conf, fd, timeout=DEADLINE_S):
    """run --once with descriptor fd closed (`>&-`, `<&-`): rc, stderr."""
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       stdout=subprocess.DEVNULL if fd != 1 else None,
                       stderr=subprocess.PIPE, env=ENV, timeout=timeout,
                       preexec_fn=lambda: os.close(fd))
    return p.returncode, p.stderr.decode()


@case
def started_with_stdout_or_stdin_closed():
    # `>&-`: the first files the shipper opened took fd 1, and the events
    # went to whichever it was ("cannot write to fd 1: Invalid argument"
    # when a signalfd took it; the data_dir lock is opened for writing);
    # `<&-` with a stdin input: run --once read a descriptor of its own as
    # stdin and never ended
    d = scratch(TMP, "closed")
    log = os.path.join(d, "app.log")
    append(log, ["one"])
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    rc, err = run_closed(conf, 1)
    eq((rc, [l.split("] ", 1)[1] for l in err.splitlines()
             if " error " in l]),
       (1, ["stdout is closed, and output.stdout writes the events there; "
            "start the shipper with stdout open (a file, a pipe), or use "
            "output.redis"]), f"stdout closed: {err!r}")
    conf = write_config(d, [{"type": "stdin"}])
    rc, err = run_closed(conf, 0, timeout=10)
    eq((rc, [l.split("] ", 1)[1] for l in err.splitlines()
             if " warn " in l or " error " in l]),
       (0, ["stdin is closed: the stdin input reads nothing; start the "
            "shipper with stdin open (a pipe, a file)"]), "stdin closed")


@case
def an_exclude_ending_in_a_slash_is_refused_with_what_to_write():
    # "exclude": ["/var/log/old/"] excluded nothing (no file's path ends
    # in '/'): the directory's files were read, check said nothing
    d = scratch(TMP, "exclude")
    logs = os.path.join(d, "logs")
    os.makedirs(os.path.join(logs, "old"), exist_ok=True)
    append(os.path.join(logs, "old", "b.log"), ["old"])
    for x, tail in ((logs + "/old/", f"write {logs}/old/** for every file "
                     "under it"),
                    ("old/", "write **/old/** for every file under it")):
        conf = write_config(d, [{"type": "file", "paths": [
            os.path.join(logs, "**", "*.log")], "exclude": ["*.gz", x]}])
        refused_ending(conf, x, "expected a glob of files (one ending in "
                       f"'/' excludes nothing): {tail}")


@case
def a_path_with_a_space_at_its_end_is_refused():
    # "/var/log/*.log " (pasted with its space) matched nothing, silently
    d = scratch(TMP, "space")
    conf = write_config(d, [{"type": "file", "paths": ["/var/log/*.log "]}])
    refused_ending(conf, "a trailing space",
                   'inputs[0].paths[0]: found a string "/var/log/*.log ", '
                   "expected a path without white space at its start or end "
                   "(a copy and paste?); remove it")


@case
def a_config_read_from_a_pipe():
    # `sluice-shipper -c <(envsubst < shipper.tpl) check`, or -c
    # /dev/stdin: "cannot read '/dev/fd/63': not a regular file"
    d = scratch(TMP, "pipe")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one", "two"])
    conf = write_config(d, [{"type": "file", "paths": [log]}])
    with open(conf, "rb") as f:
        text = f.read()
    eq(shipper("/dev/stdin", "check", stdin=text), (0, "", ""), "check")
    rc, out, err = shipper("/dev/stdin", "run", "--once", stdin=text)
    eq((rc, [e["message"] for e in json_lines(out)]), (0, ["one", "two"]),
       f"run --once: {err!r}")
    rc, out, err = shipper("/dev/stdin", "check",
                           stdin=b'{"inputs": [{"paths": "/x"}], "output": '
                                 b'{"stdout": {}}, "data_dir": 1}')
    eq((rc, out, err), (2, "", "sluice-shipper: /dev/stdin:1:69: data_dir: "
                        "found an integer 1, expected a string\n"),
       "a bad one")
    fifo = os.path.join(d, "fifo.json")
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", 'cat "$1" > "$2"', "sh", conf,
                               fifo])
    eq(shipper(fifo, "check"), (0, "", ""), "check of a FIFO")
    writer.wait(timeout=DEADLINE_S)


@case
def the_config_option_written_as_getopt_allows():
    # -cFILE, as getopt takes it (and every tool built on it), said
    # "unknown option '-cshipper.json'"
    d = scratch(TMP, "getopt")
    conf = write_config(d, [{"type": "stdin"}])
    for args in ([f"-c{conf}", "check"], ["check", f"-c{conf}"],
                 [f"--config={conf}", "check"], ["-c", conf, "check"]):
        p = subprocess.run([SHIPPER, *args], capture_output=True, env=ENV,
                           timeout=DEADLINE_S)
        eq((p.returncode, p.stdout, p.stderr), (0, b"", b""), str(args))


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
