#!/usr/bin/env python3
"""The daemons' command lines as a user meets them: --help, --version,
usage errors, `check` on every example config and on each kind of bad one,
secrets never shown, and `sluice-shipper status` on a registry written by
the registry module. Drives the real binaries.

usage: test_cli.py SLUICE_SHIPPER SLUICE_INDEXER WRITE_REGISTRY CONF_DIR
"""
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

SHIPPER, INDEXER, WRITE_REGISTRY, CONF = sys.argv[1:5]
failures = []
tmp = tempfile.TemporaryDirectory(prefix="sluice-cli-")
TMP = tmp.name
# The examples' ${VAR}s, and nothing else of the caller's environment that
# a config could pick up by accident.
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
       "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
EXAMPLE_ENV = dict(ENV, REDIS_PASSWORD="redis-secret-1",
                   ES_PASSWORD="es-secret-2", HOSTNAME="idx-test")


def run(prog, args, env=ENV, status=0):
    p = subprocess.run([prog, *args], capture_output=True, env=env,
                       timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    if p.returncode != status:
        raise AssertionError(f"{os.path.basename(prog)} {' '.join(args)}: "
                             f"exit {p.returncode}, wanted {status}; "
                             f"stdout: {out!r} stderr: {err!r}")
    return out, err


def case(fn):
    try:
        fn()
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def eq(got, want):
    if got != want:
        raise AssertionError(f"\n   got: {got!r}\n  want: {want!r}")


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- usage ---------------------------------------------------------------

@case
def help_names_every_command_and_the_default_config():
    out, err = run(SHIPPER, ["--help"])
    for word in ("run [--once]", "check", "status",
                 "(default: /etc/sluice/shipper.json)"):
        assert word in out, f"{word!r} not in {out!r}"
    eq(err, "")
    out, _ = run(INDEXER, ["-h"])
    for word in ("run [--once]", "check", "status", "setup", "dlq list",
                 "dlq replay", "(default: /etc/sluice/indexer.json)"):
        assert word in out, f"{word!r} not in {out!r}"


@case
def version_is_one_line():
    out, _ = run(SHIPPER, ["--version"])
    assert re.fullmatch(r"sluice-shipper \d+\.\d+\.\d+\n", out), out
    out, _ = run(INDEXER, ["-V"])
    assert re.fullmatch(r"sluice-indexer \d+\.\d+\.\d+\n", out), out


@case
def usage_errors_exit_2_and_say_what_to_type():
    _, err = run(SHIPPER, ["stauts"], status=2)
    eq(err, "sluice-shipper: unknown command 'stauts' (did you mean "
            "'status'?); see 'sluice-shipper --help'\n")
    _, err = run(INDEXER, ["dlq"], status=2)
    eq(err, "sluice-indexer: 'dlq' needs one of 'list' or 'replay'; see "
            "'sluice-indexer --help'\n")
    _, err = run(INDEXER, ["check", "--once"], status=2)
    eq(err, "sluice-indexer: option '--once' does not go with 'check'; see "
            "'sluice-indexer --help'\n")
    _, err = run(SHIPPER, ["-c"], status=2)
    eq(err, "sluice-shipper: option '-c' needs a file name; see "
            "'sluice-shipper --help'\n")


@case
def run_without_its_config_says_which_and_exits_2():
    _, err = run(SHIPPER, ["run", "--once"], status=2)
    eq(err, "sluice-shipper: cannot open '/etc/sluice/shipper.json': No such "
            "file or directory; -c FILE reads another config\n")


@case
def indexer_commands_refuse_a_bad_config_with_2():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "indexer.json")
        with open(bad, "w") as f:
            f.write('{"redis": {"mode": "stram"}}\n')
        for args in (["run"], ["run", "--once"], ["setup"], ["dlq", "list"],
                     ["dlq", "replay"]):
            out, err = run(INDEXER, ["-c", bad, *args], status=2)
            eq(out, "")
            eq(err.startswith("sluice-indexer: " + bad + ":1:"), True)


# --- check ---------------------------------------------------------------

@case
def every_example_config_passes_silently():
    for prog, name in ((SHIPPER, "shipper.json"), (INDEXER, "indexer.json")):
        out, err = run(prog, ["-c", os.path.join(CONF, name), "check"],
                       env=EXAMPLE_ENV)
        eq((out, err), ("", ""))
    # --config=FILE and the option after the command mean the same.
    out, err = run(SHIPPER, ["check", "--config=" +
                             os.path.join(CONF, "shipper.json")],
                   env=EXAMPLE_ENV)
    eq((out, err), ("", ""))


@case
def a_missing_config_names_the_path_and_the_option():
    _, err = run(SHIPPER, ["check"], status=2)
    eq(err, "sluice-shipper: cannot open '/etc/sluice/shipper.json': No such "
            "file or directory; -c FILE reads another config\n")
    path = os.path.join(TMP, "nope.json")
    _, err = run(INDEXER, ["-c", path, "check"], status=2)
    eq(err, f"sluice-indexer: cannot open '{path}': No such file or "
            f"directory; -c FILE reads another config\n")


OUT = '"output": {"stdout": {}}'
BAD_SHIPPER = [
    ('{"inputs": [{"type": "filez", "paths": ["/x"]}], ' + OUT + '}',
     '1:22: inputs[0].type: found a string "filez", expected one of "file", '
     '"stdin" (did you mean "file"?)'),
    ('{"inputs": [{"type": "file"}], ' + OUT + '}',
     "1:13: inputs[0]: missing required key 'paths'"),
    ('{"inputs": [{"type": "file",\n  "paths": []}], ' + OUT + '}',
     "2:12: inputs[0].paths: found an array, expected at least one path"),
    ('{"inputs": [{"type": "file", "paths": [""]}], ' + OUT + '}',
     '1:40: inputs[0].paths[0]: found a string "", expected a file name or '
     'glob'),
    ('{"inputs": [{"type": "file", "paths": [1]}], ' + OUT + '}',
     "1:40: inputs[0].paths[0]: found an integer 1, expected a string"),
    ('{"inputs": [3], ' + OUT + '}',
     "1:13: inputs[0]: found an integer 3, expected an object"),
    ('{"inputs": [], ' + OUT + '}',
     "1:12: inputs: found an array, expected at least one input"),
    ('{"inputs": [{"type": "stdin"}]}',
     "1:1: missing required key 'output'"),
    ('{"inputs": [{"type": "stdin"}], ' + OUT + ', "dat_dir": "x"}',
     "1:59: unknown key 'dat_dir' (did you mean 'data_dir'?)"),
    ('{"inputs": [{"type": "stdin"}] ' + OUT + '}',
     "1:32: expected ',' or '}' after a value in an object, found '\"'"),
    ('// comment\n{"inputs": [{"type": "stdin"}], "output": {"redis": '
     '{"mode": "lst"}}}',
     '2:62: output.redis.mode: found a string "lst", expected one of '
     '"stream", "list" (did you mean "list"?)'),
]


@case
def each_bad_shipper_config_gives_its_message_and_exit_2():
    for i, (text, msg) in enumerate(BAD_SHIPPER):
        path = write(f"bad-shipper-{i}.json", text)
        out, err = run(SHIPPER, ["-c", path, "check"], status=2)
        eq((out, err), ("", f"sluice-shipper: {path}:{msg}\n"))


@case
def good_inputs_pass():
    path = write("good-inputs.json", '{"inputs": [{"type": "stdin"}, '
                 '{"type": "file", "paths": "/var/log/*.log"}], ' + OUT + '}')
    eq(run(SHIPPER, ["-c", path, "check"]), ("", ""))
    # without "type", an input reads files (the reference's default)
    path = write("no-type.json", '{"inputs": [{"paths": "/var/log/*.log"}], '
                 + OUT + '}')
    eq(run(SHIPPER, ["-c", path, "check"]), ("", ""))
    path = write("no-type-no-paths.json", '{"inputs": [{}], ' + OUT + '}')
    eq(run(SHIPPER, ["-c", path, "check"], status=2),
       ("", f"sluice-shipper: {path}:1:13: inputs[0]: missing required key "
            "'paths'\n"))


BAD_INDEXER = [
    ('{"elasticsearch": {"hosts": ["ftp://x"]}}',
     '1:30: elasticsearch.hosts[0]: found a string "ftp://x", expected a URL '
     'starting with "http://" or "https://" (such as '
     '"http://127.0.0.1:9200")'),
    ('{"redis": {"mode": "stream", "grup": "g"}}',
     "1:30: redis: unknown key 'grup' (did you mean 'group'?)"),
    ('{"kibana": {"url": 3}}',
     "1:20: kibana.url: found an integer 3, expected a string"),
]


@case
def each_bad_indexer_config_gives_its_message_and_exit_2():
    for i, (text, msg) in enumerate(BAD_INDEXER):
        path = write(f"bad-indexer-{i}.json", text)
        out, err = run(INDEXER, ["-c", path, "check"], status=2)
        eq((out, err), ("", f"sluice-indexer: {path}:{msg}\n"))
    eq(run(INDEXER, ["-c", write("empty-indexer.json", "{}"), "check"]),
       ("", ""))


@case
def an_unset_variable_is_named():
    path = os.path.join(CONF, "shipper.json")
    env = dict(EXAMPLE_ENV)
    del env["REDIS_PASSWORD"]
    _, err = run(SHIPPER, ["-c", path, "check"], env=env, status=2)
    eq(err, f"sluice-shipper: {path}:19:23: output.redis.url: environment "
            f"variable 'REDIS_PASSWORD' is not set; set it or write "
            "${REDIS_PASSWORD:-default}\n")
    path = os.path.join(CONF, "indexer.json")
    env = dict(EXAMPLE_ENV)
    del env["ES_PASSWORD"]
    _, err = run(INDEXER, ["-c", path, "check"], env=env, status=2)
    assert "environment variable 'ES_PASSWORD' is not set" in err, err


@case
def secrets_are_never_printed():
    secret = "s3cr3t-Xy"
    env = dict(ENV, PW=secret, ESPW=secret)
    # A bad key beside a substituted password.
    path = write("secret-shipper.json",
                 '{"inputs": [{"type": "stdin"}], "output": {"redis": '
                 '{"url": "redis://:${PW}@127.0.0.1:6379/0", "mode": 1}}}')
    out, err = run(SHIPPER, ["-c", path, "check"], env=env, status=2)
    assert secret not in out + err and "mode" in err, err
    # A URL the parser refuses quotes it with the password hidden.
    path = write("secret-url.json",
                 '{"redis": {"url": "rediss://:${PW}@h:6379"}}')
    out, err = run(INDEXER, ["-c", path, "check"], env=env, status=2)
    assert secret not in out + err and "rediss://:***@h:6379" in err, err
    # A secret of the wrong type is not shown, literal or substituted.
    for i, value in enumerate(['"' + secret + '"', '"${ESPW}"']):
        path = write(f"secret-es-{i}.json",
                     '{"elasticsearch": {"username": "u", "password": ['
                     + value + ']}}')
        out, err = run(INDEXER, ["-c", path, "check"], env=env, status=2)
        assert secret not in out + err, err
        assert "elasticsearch.password: found an array" in err, err


# --- shipper status ------------------------------------------------------

def shipper_config(data_dir, listen=None):
    http = f', "http": {{"listen": "{listen}"}}' if listen else ""
    return write("status-shipper.json",
                 f'{{"data_dir": "{data_dir}", "inputs": [{{"type": "stdin"}}],'
                 f' {OUT}{http}}}')


def table(rows):
    """The layout status promises: columns two spaces apart, FILE and
    STATE left-aligned, the numbers right-aligned."""
    head = ("FILE", "OFFSET", "SIZE", "LAG", "SEEN", "STATE")
    w = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    lines = []
    for r in [head, *rows]:
        cells = [r[0].ljust(w[0])] + [r[i].rjust(w[i]) for i in range(1, 5)]
        lines.append("  ".join(cells + [r[5]]) + "\n")
    return "".join(lines)


@case
def status_shows_each_file_with_offset_size_lag_and_state():
    data = os.path.join(TMP, "data")
    logs = os.path.join(TMP, "logs")
    os.makedirs(data)
    os.makedirs(logs)
    sizes = {"a.log": 1000, "b.log": 2048, "c.log": 300, "d.log": 300,
             "e.log": 1000}
    offsets = {"a.log": 400, "b.log": 2048, "c.log": 300, "d.log": 300,
               "e.log": 500}
    for name, size in sizes.items():
        with open(os.path.join(logs, name), "wb") as f:
            f.write(bytes([65 + len(name) % 7]) * (size - 1) + b"\n")
    reg = os.path.join(data, "registry.json")
    seen = int(time.time()) - 120
    args = [reg, str(seen)]
    for name in sizes:
        args += [os.path.join(logs, name), str(offsets[name])]
    subprocess.run([WRITE_REGISTRY, *args], check=True, env=ENV)
    hour_ago = time.time() - 3600
    os.utime(reg, (hour_ago, hour_ago))
    os.remove(os.path.join(logs, "c.log"))                      # deleted
    os.rename(os.path.join(logs, "d.log"), os.path.join(logs, "d.log.1"))
    write(os.path.join(logs, "d.log"), "new\n")                 # rotated
    os.truncate(os.path.join(logs, "e.log"), 100)               # truncated

    out, err = run(SHIPPER, ["-c", shipper_config(data), "status"])
    p = lambda n: os.path.join(logs, n)
    eq(err, "")
    eq(out, f"registry {reg}: 5 files, saved 1h ago\n" + table([
        (p("a.log"), "400 B", "1000 B", "600 B", "2m", "reading"),
        (p("b.log"), "2.0 KiB", "2.0 KiB", "0 B", "2m", "done"),
        (p("c.log"), "300 B", "-", "-", "2m", "gone"),
        (p("d.log"), "300 B", "-", "-", "2m", "rotated"),
        (p("e.log"), "500 B", "100 B", "-", "2m", "truncated"),
    ]))
    # Reading never touches the daemon's files, a save's .tmp included.
    write(os.path.join(data, "registry.json.tmp"), "half a save")
    run(SHIPPER, ["-c", shipper_config(data), "status"])
    assert os.path.exists(os.path.join(data, "registry.json.tmp"))


@case
def status_without_a_registry_says_so():
    data = os.path.join(TMP, "empty-data")
    out, err = run(SHIPPER, ["-c", shipper_config(data), "status"])
    eq((out, err), (f"registry {data}/registry.json: none yet (the shipper "
                    "has not acknowledged anything)\n", ""))


@case
def a_damaged_registry_is_an_error_not_an_empty_table():
    data = os.path.join(TMP, "bad-data")
    os.makedirs(data)
    write(os.path.join(data, "registry.json"), '{"version":1,"entries":[')
    out, err = run(SHIPPER, ["-c", shipper_config(data), "status"], status=1)
    eq(out, "")
    assert err.startswith(f"sluice-shipper: {data}/registry.json:"), err


class StatusHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    code = 200

    def do_GET(self):
        ok = self.path == "/status"
        self.send_response(self.code if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body) if ok else 0))
        self.end_headers()
        if ok:
            self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_from_stub(data_name):
    """`status` with http.listen on a stub answering StatusHandler.body:
    its stdout and the address."""
    server = http.server.HTTPServer(("127.0.0.1", 0), StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listen = f"127.0.0.1:{server.server_address[1]}"
    data = os.path.join(TMP, data_name)
    try:
        out, _ = run(SHIPPER, ["-c", shipper_config(data, listen), "status"])
    finally:
        server.shutdown()
    return out, listen


@case
def status_summarises_the_daemons_status_endpoint():
    StatusHandler.body = json.dumps({
        "process_resident_memory_bytes": 4 << 20,
        "process_resident_memory_peak_bytes": 5 << 20,
        "process_start_time_seconds": int(time.time()) - 7300,
        "sluice_lines_read_total": 1234,
        "sluice_batches_total": [{"labels": {"o": "a"}, "value": 2},
                                 {"labels": {"o": "b"}, "value": 3}],
        "sluice_outbox_batches": 7}).encode()
    out, listen = status_from_stub("empty-data")
    lines = out.splitlines()[1:]
    eq(lines, [f"daemon at {listen}: up 2h, memory 4.0 MiB (peak 5.0 MiB)",
               f"  {'sluice_lines_read_total':<40} 1234",
               f"  {'sluice_batches_total':<40} 5"])


@case
def status_says_what_a_daemon_answered_that_is_not_200():
    StatusHandler.code = 500
    server = http.server.HTTPServer(("127.0.0.1", 0), StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listen = f"127.0.0.1:{server.server_address[1]}"
    data = os.path.join(TMP, "empty-data")
    try:
        out, _ = run(SHIPPER, ["-c", shipper_config(data, listen), "status"])
    finally:
        server.shutdown()
        StatusHandler.code = 200
    eq(out.splitlines()[1:], [f"daemon at {listen}: bad answer ({listen} "
                              "answered 500 to GET /status)"])


@case
def status_says_plainly_when_the_daemon_does_not_answer():
    listen = f"127.0.0.1:{free_port()}"
    data = os.path.join(TMP, "empty-data")
    out, err = run(SHIPPER, ["-c", shipper_config(data, listen), "status"])
    eq(out.splitlines()[1:],
       [f"daemon at {listen}: no answer (cannot connect to {listen}: "
        "Connection refused); is sluice-shipper running?"])
    eq(err, "")


@case
def status_escapes_control_characters_in_file_names():
    data = os.path.join(TMP, "odd-data")
    logs = os.path.join(TMP, "o")  # short: no path is cut
    os.makedirs(data)
    os.makedirs(logs)
    names = ["new\nline.log", "tab\there.log", "esc\x1b[2J.log",
             "back\\slash.log", "caf\u00e9.log"]
    args = [os.path.join(data, "registry.json"), str(int(time.time()) - 120)]
    for name in names:
        with open(os.path.join(logs, name), "w") as f:
            f.write("one line\n")
        args += [os.path.join(logs, name), "9"]
    subprocess.run([WRITE_REGISTRY, *args], check=True, env=ENV)
    out, err = run(SHIPPER, ["-c", shipper_config(data), "status"])
    eq(err, "")
    shown = {"new\nline.log": "new\\nline.log",
             "tab\there.log": "tab\\there.log",
             "esc\x1b[2J.log": "esc\\x1b[2J.log",
             "back\\slash.log": "back\\\\slash.log",
             "caf\u00e9.log": "caf\u00e9.log"}
    rows = out.splitlines()[2:]
    eq(len(rows), len(names))  # one row each: no raw newline
    eq([r.split("  ")[0].rstrip()[len(logs) + 1:] for r in rows],
       [shown[n] for n in sorted(names, key=lambda n: n.encode())])
    eq([c for c in "\t\x1b" if c in out], [])


@case
def readme_config_errors_are_what_check_prints():
    # README's "Configuration" examples: a misspelt required key is named
    # with its hint (not "missing required key"), a size that is not one,
    # an unset ${VAR}; and setup takes --force, which its warning names.
    for name, text, msg in [
            ("pathh", '{"inputs": [{\n    "pathh": ["/x"]}], ' + OUT + '}',
             "2:5: inputs[0]: unknown key 'pathh' (did you mean 'paths'?)"),
            ("lots", '{"inputs": [{"paths": ["/x"], "max_line_bytes": '
             '"lots"}], ' + OUT + '}',
             '1:49: inputs[0].max_line_bytes: found a string "lots", '
             'expected a size from 1KiB to 4MiB (such as "512KiB", "1MiB", '
             '"10MB" or a number of bytes)'),
            ("unset", '{"inputs": [{"paths": ["/x"]}], "output": {"redis": '
             '{"url": "redis://:${SLUICE_T_UNSET}@h:1/0"}}}',
             "1:61: output.redis.url: environment variable 'SLUICE_T_UNSET' "
             "is not set; set it or write ${SLUICE_T_UNSET:-default}")]:
        path = write(f"{name}.json", text)
        eq(run(SHIPPER, ["-c", path, "check"], status=2),
           ("", f"sluice-shipper: {path}:{msg}\n"))
    path = write("force.json", '{"elasticsearch": {"hosts": '
                 '["http://127.0.0.1:1"]}}')
    _, err = run(INDEXER, ["-c", path, "setup", "--force"], status=1)
    assert "cannot connect" in err, err
    _, err = run(INDEXER, ["-c", path, "status", "--force"], status=2)
    eq(err, "sluice-indexer: option '--force' does not go with 'status'; "
            "see 'sluice-indexer --help'\n")


@case
def status_shows_every_counter_of_the_daemon():
    # the shipper registers 20 counters; lines and events come last, and
    # README's status example shows sluice_shipper_lines_total
    counters = {f"sluice_c{i:02d}_total": i for i in range(20)}
    counters["sluice_shipper_lines_total"] = 2412018
    StatusHandler.body = json.dumps(counters).encode()
    out, _ = status_from_stub("empty-data-2")
    lines = out.splitlines()[2:]
    eq(len(lines), 21)
    eq(lines[-1], f"  {'sluice_shipper_lines_total':<40} 2412018")


@case
def status_shows_the_daemons_files_instead_of_the_registrys():
    now = int(time.time())
    StatusHandler.body = json.dumps({
        "process_resident_memory_bytes": 4 << 20,
        "process_resident_memory_peak_bytes": 5 << 20,
        "process_start_time_seconds": now - 60,
        "sluice_lines_read_total": 3,
        "files": [
            {"path": "/l/app.log", "state": "reading", "acked": 1000,
             "read": 3072, "size": 4096, "last_read": now - 7200},
            {"path": "/l/new.log", "state": "waiting", "acked": None,
             "read": None, "size": 10, "last_read": None},
            {"path": "/l/x.log", "state": "error",
             "reason": "permission denied", "acked": None, "read": None,
             "size": None, "last_read": None},
            {"path": "/l/odd.log", "state": "idle", "acked": -1,
             "read": "12", "size": 1.5, "last_read": 2 ** 70},
            {"state": "no path: skipped"}, 7],
        "files_known": 9, "files_omitted": 3,
        "files_next": "/status?after=%2Fl%2Fx.log"}).encode()
    server = http.server.HTTPServer(("127.0.0.1", 0), StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listen = f"127.0.0.1:{server.server_address[1]}"
    data = os.path.join(TMP, "daemon-rows-data")
    os.makedirs(data)
    reg = os.path.join(data, "registry.json")
    write(os.path.join(data, "a.log"), "x" * 99 + "\n")
    subprocess.run([WRITE_REGISTRY, reg, str(now),
                    os.path.join(data, "a.log"), "100"], check=True, env=ENV)
    os.utime(reg, (now - 3600, now - 3600))
    try:
        out, err = run(SHIPPER, ["-c", shipper_config(data, listen),
                                 "status"])
    finally:
        server.shutdown()
    eq(err, "")
    head = ("FILE", "ACKED", "READ", "SIZE", "LAG", "LAST READ", "STATE")
    rows = [head,
            ("/l/app.log", "1000 B", "3.0 KiB", "4.0 KiB", "3.0 KiB", "2h",
             "reading"),
            ("/l/new.log", "-", "-", "10 B", "-", "-", "waiting"),
            ("/l/x.log", "-", "-", "-", "-", "-", "error: permission denied"),
            ("/l/odd.log", "-", "-", "-", "-", "-", "idle")]
    w = [max(len(r[i]) for r in rows) for i in range(7)]
    want = "".join("  ".join([r[0].ljust(w[0])] +
                             [r[i].rjust(w[i]) for i in range(1, 6)] +
                             [r[6]]) + "\n" for r in rows)
    eq(out, f"registry {reg}: 1 file, saved 1h ago\n"
            f"daemon at {listen}: up 1m, memory 4.0 MiB (peak 5.0 MiB)\n"
            f"  {'sluice_lines_read_total':<40} 3\n"
            f"files from the daemon at {listen}, newer than the registry: "
            f"4 (and 5 more not shown: {listen} answered 404 to GET "
            "/status?after=%2Fl%2Fx.log)\n" + want)
    StatusHandler.body = b""


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
