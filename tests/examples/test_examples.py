#!/usr/bin/env python3
"""test_examples.py: every config of conf/examples/ is accepted by `check`
of its daemon, silently, with the ${VAR}s it names set (and their values
never shown); conf/examples/README.md names each file; and each shipper
example, with its output swapped for stdout and its paths for a small
sample of the logs it is written for (tests/examples/samples/), produces
the fields the Kibana dashboards (conf/kibana) use.

usage: test_examples.py SLUICE_SHIPPER SLUICE_INDEXER CONF_DIR SAMPLES_DIR
"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

SHIPPER, INDEXER, CONF, SAMPLES = sys.argv[1:5]
EXAMPLES = os.path.join(CONF, "examples")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kibana"))
import check_kibana_objects as ck  # noqa: E402

BOARDS = ck.fields_by_dashboard(
    os.path.join(CONF, "elasticsearch", "sluice-template.json"),
    os.path.join(CONF, "kibana"))
failures = []
TMP = tempfile.TemporaryDirectory(prefix="sluice-examples-")
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
       "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}


def case(fn):
    try:
        fn()
        print("ok   " + fn.__name__)
    except (AssertionError, OSError, ValueError, KeyError) as e:
        failures.append(fn.__name__)
        print("FAIL %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    return fn


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s\n   got: %r\n  want: %r" % (what, got, want))


def strip_comments(text):
    """JSON of a config with // and /* */ comments (outside strings)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return json.loads("".join(out))


def examples():
    return sorted(n for n in os.listdir(EXAMPLES) if n.endswith(".json"))


def env_for(path):
    """ENV plus each ${VAR} without a default the file names."""
    with open(path) as f:
        names = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", f.read())
    return dict(ENV, **{n: "secret-%s-9" % n.lower() for n in names})


def get(event, path):
    for k in path.split("."):
        if not isinstance(event, dict) or k not in event:
            return None
        event = event[k]
    return event


def with_ca_here(name):
    """The example itself, or, when it names a CA file that is not on this
    machine (`check` refuses it for https:// nodes, as `run` does), a copy
    in TMP naming an empty file of TMP instead."""
    path = os.path.join(EXAMPLES, name)
    with open(path) as f:
        text = f.read()
    m = re.search(r'"ca_file": "([^"$]+)"', text)
    if m is None or os.path.exists(m.group(1)):
        return path
    ca = os.path.join(TMP.name, "ca.pem")
    open(ca, "w").close()
    copy = os.path.join(TMP.name, name)
    with open(copy, "w") as f:
        f.write(text.replace(m.group(0), '"ca_file": "%s"' % ca))
    return copy


@case
def every_example_passes_check_silently():
    eq(len(examples()) >= 8, True, "examples")
    for name in examples():
        prog = SHIPPER if name.startswith("shipper-") else INDEXER
        eq(name.startswith(("shipper-", "indexer-")), True, name)
        env = env_for(os.path.join(EXAMPLES, name))
        p = subprocess.run([prog, "-c", with_ca_here(name),
                            "check"], capture_output=True, text=True,
                           env=env, timeout=60)
        eq((p.returncode, p.stdout, p.stderr), (0, "", ""), name)


@case
def a_missing_variable_is_refused_so_check_reads_them():
    path = os.path.join(EXAMPLES, "indexer-tls.json")
    env = env_for(path)
    del env["ES_PASSWORD"]
    p = subprocess.run([INDEXER, "-c", path, "check"], capture_output=True,
                       text=True, env=env, timeout=60)
    eq(p.returncode, 2, p.stderr)
    if "ES_PASSWORD" not in p.stderr or "secret-" in p.stderr:
        raise AssertionError(p.stderr)


@case
def the_readme_names_every_example():
    with open(os.path.join(EXAMPLES, "README.md")) as f:
        readme = f.read()
    named = set(re.findall(r"`((?:shipper|indexer)-[a-z0-9-]+\.json)`",
                           readme))
    eq(sorted(named), examples(), "files named in README.md")


def run_example(name, paths):
    """The example's events on `paths` (one list of globs per input), with
    its output on stdout and its registry in a scratch directory."""
    with open(os.path.join(EXAMPLES, name)) as f:
        cfg = strip_comments(f.read())
    eq(len(cfg["inputs"]), len(paths), "inputs of " + name)
    for inp, p in zip(cfg["inputs"], paths):
        inp["paths"] = [os.path.join(SAMPLES, x) for x in p]
        inp["start_at"] = "beginning"
    d = tempfile.mkdtemp(dir=TMP.name)
    cfg.update(data_dir=os.path.join(d, "data"), output={"stdout": {}},
               host={"name": "example-host"})
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.run([SHIPPER, "-c", path, "run", "--once"],
                       capture_output=True, text=True, env=env_for(path),
                       timeout=60)
    eq(p.returncode, 0, "run --once of %s: %s" % (name, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def has_fields(events, fields, what):
    for e in events:
        missing = sorted(f for f in fields if get(e, f) is None)
        if missing:
            raise AssertionError("%s: %s lacks %s" % (what, e["message"],
                                                      missing))


@case
def access_logs_give_the_web_access_dashboard_its_fields():
    evs = run_example("shipper-access-logs.json", [["access.log"]])
    eq(len(evs), 4, "events (the health check dropped)")
    has_fields(evs, BOARDS["Web access"] | {"host.name"}, "web")
    eq([get(e, "http.response.status_code") for e in evs],
       [200, 302, 404, 503])
    eq(evs[0]["@timestamp"], "2026-11-23T08:00:00.000Z")
    eq(get(evs[3], "source.address"), "203.0.113.9")
    eq(get(evs[1], "user.name"), "alice")
    eq([e.get("tags") for e in evs], [None] * 4, "tags")
    eq("timestamp" in evs[0], False, "timestamp removed")


@case
def a_python_app_gives_the_errors_dashboard_its_fields():
    evs = run_example("shipper-python-app.json", [["python-app.log"]])
    eq(len(evs), 5, "events (tracebacks joined)")
    errors = [e for e in evs if get(e, "log.level") == "ERROR"]
    eq(len(errors), 2, "errors")
    has_fields(errors, BOARDS["Application errors"], "errors")
    eq([(get(e, "error.type"), get(e, "log.origin.file.name"),
         get(e, "log.origin.file.line"), get(e, "log.origin.function"))
        for e in errors],
       [("ZeroDivisionError", "/srv/shop/pricing.py", 41, "total"),
        ("shop.payments.errors.PaymentUnavailable",
         "/srv/shop/payments/service.py", 23, "pay")])
    eq(errors[0]["@timestamp"], "2026-11-23T08:00:04.930Z")
    eq(errors[0]["message"].splitlines()[-1],
       "ZeroDivisionError: division by zero", "the whole event in message")
    eq([get(e, "log.logger") for e in evs],
       ["shop.web", "shop.orders", "shop.web", "shop.payments", "shop.cart"])
    eq({get(e, "service.name") for e in evs}, {"shop"})


@case
def json_logs_keep_their_trace_ids():
    evs = run_example("shipper-json-logs.json", [["orders.json.log"]])
    eq([get(e, "trace.id") for e in evs],
       ["4bf92f3577b34da6a3ce929d0e0e4736",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "5b8efff798038103d269b633813fc60c"])
    eq([e["message"] for e in evs],
       ["order placed", "charge failed", "request completed"])
    eq([e["@timestamp"] for e in evs],
       ["2026-11-23T08:00:01.500Z", "2026-11-23T08:00:02.118Z",
        "2026-11-23T10:00:03.000Z"])
    eq([get(e, "log.level") for e in evs], ["info", "ERROR", "info"])
    eq((get(evs[1], "error.type"), get(evs[1], "log.origin.file.name"),
        get(evs[1], "log.origin.file.line")),
       ("java.net.SocketTimeoutException", "PaymentClient.java", 54))
    eq([e.get("tags") for e in evs], [None] * 3, "tags")


@case
def container_logs_come_back_as_the_lines_written():
    evs = run_example("shipper-containers.json", [["docker-json.log"],
                                                  ["cri.log"]])
    by_service = {}
    for e in evs:
        by_service.setdefault(get(e, "service.name"), []).append(e)
    docker, cri = by_service["docker"], by_service["kubernetes"]
    eq([(e["message"], e["stream"], e["@timestamp"]) for e in docker],
       [("GET /orders 200 12ms", "stdout", "2026-11-23T08:00:01.123Z"),
        ("warning: cache cold", "stderr", "2026-11-23T08:00:02.000Z")])
    eq([e["message"].splitlines()[0] for e in cri],
       ["2026-11-23 08:00:03,000 ERROR app: failed",
        "a line the runtime split in two"])
    eq(cri[0]["@timestamp"], "2026-11-23T08:00:03.000Z")
    eq((get(cri[0], "error.type"), get(cri[0], "log.origin.file.line")),
       ("KeyError", 88))


@case
def syslog_lines_get_their_year_and_zone():
    evs = run_example("shipper-syslog.json", [["syslog"]])
    eq([(get(e, "process.name"), get(e, "process.pid"),
         get(e, "host.hostname")) for e in evs],
       [("sshd", 812, "web-1"), ("CRON", 9013, "web-1"),
        ("systemd", 1, "web-1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    for e, tail in zip(evs, ("-11-23T08:00:01.000Z", "-11-03T08:00:02.000Z")):
        # the year is the one that puts the line at most two days after
        # the time it was read (Europe/Berlin is UTC+1 in November)
        t = datetime.datetime.fromisoformat(e["@timestamp"][:-1] + "+00:00")
        eq(e["@timestamp"][4:], tail, "time and zone")
        eq(t <= now + datetime.timedelta(days=2) and
           t > now - datetime.timedelta(days=367), True, "year of " +
           e["@timestamp"])
    eq(evs[2]["@timestamp"], "2026-11-23T08:00:03.123Z")
    eq([e.get("tags") for e in evs], [None] * 3, "tags")


@case
def an_https_example_without_its_ca_here_is_refused_by_check():
    """indexer-tls.json names /etc/sluice/es-ca.pem for https:// nodes:
    `run` refuses it where that file is not, so `check` does too (it
    passed, and `run` then exited 2)."""
    name = "indexer-tls.json"
    path = os.path.join(EXAMPLES, name)
    if os.path.exists("/etc/sluice/es-ca.pem"):
        return
    p = subprocess.run([INDEXER, "-c", path, "check"], capture_output=True,
                       text=True, env=env_for(path), timeout=60)
    eq((p.returncode, p.stdout), (2, ""), p.stderr)
    want = ('sluice-indexer: %s:21:16: elasticsearch.ca_file: cannot read '
            '"/etc/sluice/es-ca.pem": No such file or directory; expected '
            "the PEM file of the CA that signed the nodes' certificates\n"
            % path)
    eq(p.stderr, want)


print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
