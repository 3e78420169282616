#!/usr/bin/env python3
"""`sluice-indexer status` against a real redis-server the test starts
itself (with a password, which must never show), and Elasticsearch: a stub
answering as Elasticsearch 9's integration build does (405 to GET /), or a
real server whose base URL is in the named variable (tests/run exports
them). An integration test never skips: a missing redis-server or variable
fails it.

usage: test_indexer_status.py SLUICE_INDEXER stub|VARIABLE
"""
import atexit
import base64
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

INDEXER, ES = sys.argv[1:3]
PASSWORD = "pw-Secret9"
ES_PASSWORD = "es-Secret7"
failures = []
tmp = tempfile.TemporaryDirectory(prefix="sluice-status-")
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
       "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
       "REDIS_PASSWORD": PASSWORD, "ES_PASSWORD": ES_PASSWORD}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of our own, and a minimal RESP client for setup."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--requirepass", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        atexit.register(self.proc.kill)  # whatever ends the test
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.02)  # polling with a deadline, not a sync sleep
        self.file = self.sock.makefile("rb")
        self("AUTH", PASSWORD)

    def __call__(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in b"+:":
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2].decode()
        return [self.read() for _ in range(int(rest))]

    def stop(self):
        self.sock.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


class EsStub(http.server.BaseHTTPRequestHandler):
    seen_auth = []

    def do_GET(self):
        EsStub.seen_auth.append(self.headers.get("Authorization"))
        if self.path == "/_cluster/health":
            body = json.dumps({"cluster_name": "x", "status": "yellow",
                               "number_of_nodes": 1,
                               "unassigned_shards": 5}).encode()
            self.send_response(200)
        elif self.path.startswith("/_cat/indices/sluice-*?format=json&"):
            body = json.dumps([{"index": "sluice-2026.01.01",
                                "status": "open"},
                               {"index": "sluice-2026.01.02",
                                "status": "close"}]).encode()
            self.send_response(200)
        elif self.path == "/sluice-*/_count":
            body = b'{"count": 42, "_shards": {}}'
            self.send_response(200)
        else:
            body = b'{"error":"Incorrect HTTP method"}'
            self.send_response(405)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


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


def match(pattern, text):
    if not re.fullmatch(pattern, text, re.S):
        raise AssertionError(f"\n   got: {text!r}\n  want: /{pattern}/")


def config(name, redis, hosts):
    path = os.path.join(tmp.name, name)
    with open(path, "w") as f:
        json.dump({"redis": redis,
                   "elasticsearch": {"hosts": hosts, "username": "elastic",
                                     "password": "${ES_PASSWORD}"}}, f)
    return path


def status(path, code=0):
    p = subprocess.run([INDEXER, "-c", path, "status"], capture_output=True,
                       env=ENV, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    for secret in (PASSWORD, ES_PASSWORD):
        assert secret not in out + err, f"a password was shown: {out}{err}"
    if p.returncode != code:
        raise AssertionError(f"exit {p.returncode}, wanted {code}; "
                             f"stdout: {out!r} stderr: {err!r}")
    return out, err


redis = Redis()
url = f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:{redis.port}/0"
shown = f"redis://:***@127.0.0.1:{redis.port}/0"
if ES == "stub":
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EsStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    dead_port = free_port()
    HOSTS = [f"http://127.0.0.1:{stub.server_address[1]}",
             f"http://127.0.0.1:{dead_port}"]
else:
    if not os.environ.get(ES):
        redis.stop()
        raise SystemExit(f"{ES} is not set: tests/run sets it after starting "
                         f"the server (this test never skips)")
    HOSTS = [os.environ[ES]]


def es_part(out):
    """The Elasticsearch lines, checked; returns what precedes them."""
    head, _, es = ("\n" + out).partition("\nNODE")
    head = head[1:]
    es = "NODE" + es
    if ES == "stub":
        w = max(len(h) for h in HOSTS)
        match(rf"{'NODE'.ljust(w)}  ANSWER\n"
              rf"{re.escape(HOSTS[0].ljust(w))}  405 in \d+ ms\n"
              rf"{re.escape(HOSTS[1].ljust(w))}  no answer: [^\n]*Couldn't connect "
              rf"to server\n"
              r"cluster: yellow, 1 node, 5 unassigned shards\n"
              r"indices: 2 named sluice-\* \(1 closed: its documents not "
              r"counted\), 42 documents\n", es)
        want = "Basic " + base64.b64encode(
            f"elastic:{ES_PASSWORD}".encode()).decode()
        assert EsStub.seen_auth and set(EsStub.seen_auth) == {want}, \
            EsStub.seen_auth
    else:
        match(r"NODE\s+ANSWER\n\S+\s+\d{3} in \d+ ms\n"
              r"cluster: (green|yellow|red), \d+ nodes?, \d+ unassigned "
              r"shards?\n"
              r"indices: (none named sluice-\* yet|\d+ named sluice-\*"
              r"( \(\d+ closed: (its|their) documents not counted\))?, "
              # an index created the moment before may not count yet
              # (OpenSearch 3: 503 while its shard starts)
              r"(\d+ documents?|documents not counted \(GET _count: "
              r"\d{3}\)))\n", es)
    return head


@case
def a_stream_with_pending_unread_and_dead_letters():
    now = int(time.time() * 1000)
    for age_min in (20, 10, 5):
        redis("XADD", "sluice:events", f"{now - age_min * 60000}-0", "b", "x")
    redis("XGROUP", "CREATE", "sluice:events", "sluice", "0")
    redis("XREADGROUP", "GROUP", "sluice", "idx-1", "COUNT", "1", "STREAMS",
          "sluice:events", ">")
    for i in range(101):
        redis("XADD", "sluice:dead", "*", "n", i)
    out, err = status(config("stream.json", {"url": url, "dead_warn": 100},
                             HOSTS))
    eq(err, "")
    match(re.escape(
        f"redis {shown}: stream sluice:events, group sluice\n"
        "  length        3 entries\n"
        "  pending       1, oldest 20m ago\n"
        "  unread        2, oldest 10m ago\n"
        "  dead letters  101 in sluice:dead  WARNING: more than 100 "
        "(redis.dead_warn); see 'sluice-indexer dlq list'\n"
        "CONSUMER  PENDING  IDLE\n") + r"idx-1           1   [ 0-9]\ds\n",
        es_part(out))


@case
def a_stream_not_created_yet():
    out, _ = status(config("nostream.json", {"url": url, "key": "other",
                                             "dead_key": "other:dead"},
                           HOSTS))
    eq(es_part(out), f"redis {shown}: stream other, group sluice\n"
                     "  length        0 entries\n"
                     "  stream other does not exist yet (nothing shipped)\n"
                     "  dead letters  0 in other:dead\n")


@case
def a_group_not_created_yet():
    redis("XADD", "nogroup", "*", "b", "x")
    out, _ = status(config("nogroup.json", {"url": url, "key": "nogroup"},
                           HOSTS))
    eq(es_part(out).splitlines()[2],
       "  group sluice does not exist yet (the indexer creates it when it "
       "starts)")


@case
def a_group_that_has_everything_done():
    redis("XADD", "done", "*", "b", "x")
    redis("XGROUP", "CREATE", "done", "sluice", "0")
    entries = redis("XREADGROUP", "GROUP", "sluice", "idx-2", "STREAMS",
                    "done", ">")
    redis("XACK", "done", "sluice", entries[0][1][0][0])
    out, _ = status(config("done.json", {"url": url, "key": "done"}, HOSTS))
    eq(es_part(out).splitlines()[1:4], ["  length        1 entry",
                                        "  pending       0",
                                        "  unread        0"])


@case
def list_mode_shows_the_list_and_each_processing_list():
    redis("RPUSH", "logstash", "a", "b", "c")
    redis("RPUSH", "logstash:processing:idx-1", "d", "e")
    redis("RPUSH", "logstash:processingnot", "f")
    out, _ = status(config("list.json", {"url": url, "mode": "list",
                                         "dead_warn": 100}, HOSTS))
    eq(es_part(out), f"redis {shown}: list logstash\n"
                     "  length        3 events\n"
                     "  dead letters  101 in sluice:dead  WARNING: more "
                     "than 100 (redis.dead_warn); see 'sluice-indexer dlq "
                     "list'\n"
                     "PROCESSING LIST            LENGTH\n"
                     "logstash:processing:idx-1       2\n")


@case
def redis_down_is_exit_1_said_plainly():
    port = free_port()
    out, err = status(config("down.json",
                             {"url": f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:"
                                     f"{port}/0"}, HOSTS), code=1)
    eq(err, f"sluice-indexer: Redis at redis://:***@127.0.0.1:{port}/0 does "
            "not answer: Connection refused; is redis-server running?\n")
    eq(es_part(out), "")


@case
def an_api_key_goes_in_its_header():
    if ES != "stub":
        return
    path = os.path.join(tmp.name, "apikey.json")
    with open(path, "w") as f:
        json.dump({"redis": {"url": url},
                   "elasticsearch": {"hosts": HOSTS[:1],
                                     "api_key": "${ES_PASSWORD}"}}, f)
    EsStub.seen_auth.clear()
    out, _ = status(path)
    auth = set(EsStub.seen_auth)
    EsStub.seen_auth.clear()
    eq(auth, {"ApiKey " + ES_PASSWORD})
    assert "cluster: yellow, 1 node, 5 unassigned shards\n" in out, out


@case
def a_wrong_password_is_exit_1_without_the_password():
    wrong = f"redis://:not-{PASSWORD}@127.0.0.1:{redis.port}/0"
    _, err = status(config("wrong.json", {"url": wrong}, HOSTS), code=1)
    # Redis answered: a refusal, not "does not answer ... is it running?"
    assert f"Redis at redis://:***@127.0.0.1:{redis.port}/0 refused: " \
           "AUTH: " in err, err
    assert err.endswith("; check the user, password and database in "
                        "redis.url\n"), err



@case
def tls_verify_false_reaches_a_node_with_a_certificate_of_its_own():
    # status checked certificates whatever elasticsearch.tls_verify said
    if ES != "stub":
        return
    d = os.path.join(tmp.name, "tls")
    os.mkdir(d)
    routes = os.path.join(d, "routes.json")
    with open(routes, "w") as f:
        json.dump({"GET /": [200, {"version": {"number": "8.15.0"}}],
                   "GET /_cluster/health": [200, {
                       "status": "green", "number_of_nodes": 1,
                       "unassigned_shards": 0}]}, f)
    stub_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                           "lib", "http_stub.py")
    tls = subprocess.Popen([sys.executable, stub_py, routes,
                            os.path.join(d, "record.jsonl"), d],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        host = "https://127.0.0.1:%d" % int(tls.stdout.readline())
        for verify, answer in ((True, r"no answer: SSL certificate problem"
                                      r"[^\n]*"),
                               (False, r"200 in \d+ ms")):
            path = os.path.join(d, f"verify-{verify}.json")
            with open(path, "w") as f:
                json.dump({"redis": {"url": url},
                           "elasticsearch": {"hosts": [host],
                                             "tls_verify": verify}}, f)
            out, _ = status(path)
            es = "NODE" + out.partition("\nNODE")[2]
            match(rf"NODE\s+ANSWER\n{re.escape(host)}  {answer}\n.*", es)
    finally:
        tls.stdin.close()
        tls.wait(timeout=10)


@case
def the_dead_letter_warning_is_redis_dead_warn():
    """The 101 letters of the cases above: a warning only past the
    configured threshold (the daemon's own), not past a fixed 100."""
    def dead_line(redis_cfg):
        out, _ = status(config("warn.json", dict(redis_cfg, url=url), HOSTS))
        return [ln for ln in out.splitlines() if "dead letters" in ln]
    eq(dead_line({}), ["  dead letters  101 in sluice:dead"])
    eq(dead_line({"dead_warn": 101}), ["  dead letters  101 in sluice:dead"])
    eq(dead_line({"dead_warn": 100}),
       ["  dead letters  101 in sluice:dead  WARNING: more than 100 "
        "(redis.dead_warn); see 'sluice-indexer dlq list'"])
    eq(dead_line({"dead_warn": 1, "mode": "list"}),
       ["  dead letters  101 in sluice:dead  WARNING: more than 1 "
        "(redis.dead_warn); see 'sluice-indexer dlq list'"])


@case
def a_key_of_another_type_is_said_so():
    """A key the indexer cannot use (the mode mixed up, another program's
    key): what it holds and what to check, not "length -1 entries" and
    "does not exist yet"."""
    redis("SET", "astring", "x")
    redis("RPUSH", "alist", "x")
    out, _ = status(config("wrongtype.json", {"url": url, "key": "astring",
                                              "dead_key": "alist"}, HOSTS))
    eq(es_part(out), f"redis {shown}: stream astring, group sluice\n"
                     "  astring holds a string, not a stream: the indexer "
                     "cannot read it; check redis.key and redis.mode\n"
                     "  alist holds a list, not a stream: no dead letter can "
                     "be written there; check redis.dead_key\n")
    out, _ = status(config("wrongtype-list.json",
                           {"url": url, "key": "astring", "mode": "list",
                            "dead_key": "astring:dead"}, HOSTS))
    eq(es_part(out), f"redis {shown}: list astring\n"
                     "  astring holds a string, not a list: the indexer "
                     "cannot read it; check redis.key and redis.mode\n"
                     "  dead letters  0 in astring:dead\n")


redis.stop()
if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
