"""What the end-to-end tests share: the cases of a test file run one
after the other (`@case`, SLUICE_E2E_ONLY), a scratch directory,
redis-server processes the test starts itself (on a free loopback port,
restartable on the same port, with AOF or without, with a password or
without), RESP over a socket, the batch format (common/sl_batch.h, format
2) decoded back into events, the shipper's config, `run --once`, the
daemon run in the background with its stdout and its log in files, its
/metrics, its descriptors and its memory from /proc; for the whole
pipeline's tests, the servers tests/run provides and Elasticsearch's
JSON API.

Every wait polls with a deadline; nothing sleeps as synchronisation.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

DEADLINE_S = 60  # any wait, at most
# what the daemons run with: no variable of the caller's but these
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
       "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
failures = []  # the names of the cases that failed, in order
# SLUICE_E2E_ONLY=name,name runs only those cases (a file may add names)
ONLY = {n for n in os.environ.get("SLUICE_E2E_ONLY", "").split(",") if n}
_tmp_dirs = []  # kept until the test exits, then removed


def case(fn):
    """A decorator that runs the case fn at once (unless ONLY names
    others) and says ok or FAIL with its time; a case that fails is in
    `failures` and does not stop the others."""
    if ONLY and fn.__name__ not in ONLY:
        return fn
    t0 = time.monotonic()
    try:
        fn()
        print(f"ok   {fn.__name__} ({time.monotonic() - t0:.1f} s)",
              flush=True)
    except Exception as e:  # noqa: BLE001 (one case's error, the others run)
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}", flush=True)
    return fn


def exit_code():
    """What a test file exits with once its cases ran: 1, saying which
    failed, or 0."""
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        return 1
    return 0


def tmp_dir(prefix):
    """A scratch directory for a test file, removed when it exits; or
    SLUICE_E2E_TMP, kept (to look at after a failure)."""
    keep = os.environ.get("SLUICE_E2E_TMP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        return keep
    _tmp_dirs.append(tempfile.TemporaryDirectory(prefix=prefix))
    return _tmp_dirs[-1].name


def need(var):
    """The value of a variable tests/run sets (a server's URL); exit 1
    with a FAIL line when it is not set."""
    v = os.environ.get(var)
    if not v:
        print(f"FAIL {var} is not set: run this test through tests/run "
              f"(or set it to a running server)")
        sys.exit(1)
    return v


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}\n   got: {got!r}\n  want: {want!r}")


def wait_for(what, fn, deadline_s=DEADLINE_S, every_s=0.02):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(every_s)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


def free_port():
    """A free loopback port for a server or the daemon's endpoint, from
    20000-32000: below the kernel's ephemeral range, where other tests'
    bind(0) picks theirs (one of those, given back, could be taken
    twice)."""
    rnd = random.Random()
    for _ in range(100):
        port = rnd.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise AssertionError("no free port in 20000-32000")


class Redis:
    """A redis-server of this test on a loopback port, and RESP over a
    socket. aof: a directory, the server then writes an append-only file
    there with `appendfsync always` (DESIGN.md guarantee 3), so a restart
    on the same port keeps every entry it acknowledged. password: the
    server's requirepass; the admin connection authenticates with it.
    args: more of redis-server's options, after the others."""

    def __init__(self, aof=None, password=None, port=None, args=()):
        self.port = port or free_port()
        self.aof = aof
        self.password = password
        self.args = list(args)
        self.proc = None
        self.sock = None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind",
                "127.0.0.1", "--save", ""]
        if self.aof:
            os.makedirs(self.aof, exist_ok=True)
            args += ["--dir", self.aof, "--appendonly", "yes",
                     "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.args
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.sock = wait_for(f"redis-server on port {self.port}",
                             self._connect)
        self.buf = b""
        if self.password:
            self.cmd("AUTH", self.password)
        # loaded (AOF replayed) once it answers a command that needs the data
        wait_for("redis loaded", self._loaded)

    def _loaded(self):
        try:
            self.cmd("DBSIZE")
            return True
        except AssertionError as e:
            if "LOADING" in str(e):
                return False
            raise

    def _connect(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"redis-server on port {self.port} exited "
                                 f"with {self.proc.returncode}")
        try:
            return socket.create_connection(("127.0.0.1", self.port), 5)
        except OSError:
            return None

    def kill(self):
        """kill -9 of this server, by its pid."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # a stopped server too, without running it
        if self.proc is not None:
            self.proc.wait()

    stop = kill

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise AssertionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise AssertionError(f"redis error: {rest.decode()}")
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise AssertionError("redis closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise AssertionError(f"bad reply {line!r}")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()

    def info(self, section):
        text = self.cmd("INFO", section).decode()
        return dict(l.split(":", 1) for l in text.split("\r\n")
                    if ":" in l and not l.startswith("#"))

    def entries(self, key, delete=False):
        """[(entry id, [(event id, ts, event)])] of the stream, in order;
        each entry checked against the batch format (sl_batch.h, v 2)."""
        got = []
        for eid, fields in self.cmd("XRANGE", key, "-", "+"):
            f = dict(zip(fields[::2], fields[1::2]))
            eq(f[b"v"], b"2", "batch format")
            eq(f[b"codec"], b"none", "codec")
            lines = f[b"events"].decode().split("\n")
            eq(lines[-1], "", "the payload ends with a newline")
            lines.pop()
            eq(len(lines), int(f[b"count"]), "count")
            evs = []
            for l in lines:
                ts, id_, js = l.split(" ", 2)
                evs.append((id_, int(ts), json.loads(js)))
            got.append((eid, evs))
            if delete:
                self.cmd("XDEL", key, eid)
        return got

    def events(self, key, delete=False):
        """(event id, ts, event) of every batch in the stream, in order."""
        return [e for _, evs in self.entries(key, delete) for e in evs]


def redis_output(r, password=None, **more):
    auth = f":{password}@" if password else ""
    o = {"url": f"redis://{auth}127.0.0.1:{r.port}/0", "key": "e2e:events",
         "codec": "none"}
    o.update(more)
    return {"redis": o}


def scratch(tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "logs"))
    return d


def write_config(d, inputs, output=None, extra=None):
    """d/shipper.json: inputs, output (stdout when None) and extra's
    sections; data_dir is d/data."""
    cfg = {"host": {"name": "e2e-host"}, "data_dir": os.path.join(d, "data"),
           "inputs": inputs, "output": output or {"stdout": {}},
           "log": {"level": "info"}}
    cfg.update(extra or {})
    path = os.path.join(d, "shipper.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def append(path, lines):
    with open(path, "a") as f:
        f.write("".join(l + "\n" for l in lines))


def json_lines(data):
    """The events of stdout (bytes or text): JSON lines (str.splitlines
    would also split at the U+2028 or \\x1c a message may hold)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return [json.loads(l) for l in data.split("\n") if l]


def run_once(binary, conf, stdin=None, status=0, env=ENV):
    """`sluice-shipper -c conf run --once`, stdin given (bytes) or not:
    (stdout, stderr) as text; fails unless it exits with status."""
    p = subprocess.run([binary, "-c", conf, "run", "--once"],
                       capture_output=True, env=env, timeout=DEADLINE_S,
                       input=stdin)
    if p.returncode != status:
        raise AssertionError(f"run --once: exit {p.returncode}, wanted "
                             f"{status}; stderr: {p.stderr.decode()!r}")
    return p.stdout.decode(), p.stderr.decode()


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data.decode()
            data += chunk


def http_port():
    with socket.socket() as s:  # a free port, given back for the daemon
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def es_request(base, method, path, body=None):
    """Elasticsearch's answer at base (its URL) to method path, body sent
    as JSON: (HTTP status, the answer parsed)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def es_json(base, method, path, body=None):
    """The answer parsed, or None for a 404; another error fails."""
    status, answer = es_request(base, method, path, body)
    if status == 404:
        return None
    if status >= 300:
        raise AssertionError(f"{method} {path}: {status} {answer}")
    return answer


def es_drop(base, prefix):
    """Deletes the indices prefix-* (by name: Elasticsearch refuses
    wildcard deletes by default) and the index template prefix; what
    fails is left."""
    status, names = es_request(base, "GET", f"/_cat/indices/{prefix}-*"
                               "?format=json&h=index")
    for n in (names if status == 200 else []):
        es_request(base, "DELETE", "/" + n["index"])
    es_request(base, "DELETE", f"/_index_template/{prefix}")


def parse_metrics(text):
    """{name: value} of a /metrics body (labels kept in the name)."""
    m = {}
    for l in text.splitlines():
        if l and not l.startswith("#"):
            name, v = l.rsplit(" ", 1)
            m[name] = float(v)
    return m


def metric_sum(m, name):
    """The sum of a family's series in m, whatever their labels."""
    return sum(v for k, v in m.items()
               if k == name or k.startswith(name + "{"))


class Shipper:
    """`sluice-shipper run` in the background: its stdout in d/stdout (or
    a pipe nobody reads until read_pipe()), its stderr in d/shipper.log
    (appended to across restarts), /metrics on port when given."""

    def __init__(self, binary, env, conf, d, port=None, preexec_fn=None,
                 pipe=False):
        self.log_path = os.path.join(d, "shipper.log")
        self.out_path = os.path.join(d, "stdout")
        self.port = port
        with open(self.out_path, "wb") as out, \
                open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "-c", conf, "run"], env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipe else out, stderr=log,
                preexec_fn=preexec_fn)
        self.pid = self.proc.pid
        self.got = []  # the events of stdout read so far
        self.at = 0  # where in d/stdout
        self.reader = None
        if port:
            wait_for("the shipper's /metrics", self.metrics)

    def read_pipe(self):
        """From now on, what the daemon writes to its stdout pipe goes to
        the stdout file, as if it had written there."""
        def copy():
            with open(self.out_path, "ab", buffering=0) as out:
                while True:
                    data = self.proc.stdout.read1(1 << 20)
                    if not data:
                        return
                    out.write(data)
        self.reader = threading.Thread(target=copy, daemon=True)
        self.reader.start()

    def events(self):
        """Every event written to stdout so far (complete lines only)."""
        with open(self.out_path, "rb") as f:
            f.seek(self.at)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.got += json_lines(data[:end])
        self.at += end
        return self.got

    def wait_events(self, n, what=None):
        wait_for(what or f"{n} events", lambda: len(self.events()) >= n)
        return self.got

    def text(self):
        """Its log (stderr)."""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"the shipper exited with "
                                 f"{self.proc.returncode}; log:\n"
                                 f"{self.text()}")

    def metrics(self):
        """{name: value} from /metrics (labels kept in the name), or None
        while it cannot be reached."""
        self.alive()
        try:
            body = http_get(self.port, "/metrics").split("\r\n\r\n", 1)[1]
        except (OSError, IndexError):
            return None
        return parse_metrics(body)

    def metric(self, name):
        """One series, by its name with its labels; 0 when absent."""
        m = wait_for("/metrics", self.metrics)
        return m.get(name, 0)

    def total(self, name):
        """The sum of a family's series, whatever their labels."""
        return metric_sum(wait_for("/metrics", self.metrics), name)

    def fds(self):
        """Where each descriptor of the daemon points."""
        d = f"/proc/{self.pid}/fd"
        got = []
        for n in os.listdir(d):
            try:
                got.append(os.readlink(os.path.join(d, n)))
            except OSError:
                pass  # closed in between
        return got

    def status(self, key):
        """A number of /proc/PID/status: kB, or the real uid."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"no {key} in /proc/{self.pid}/status")

    def memory_kib(self):
        """(VmRSS, VmHWM) in KiB, from /proc/PID/status."""
        return (self.status("VmRSS"), self.status("VmHWM"))

    def term(self, timeout=DEADLINE_S):
        """SIGTERM; its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self):
        """SIGTERM unless it exited; fails unless it exits with 0 within
        DEADLINE_S. Every event it wrote; safe to call twice."""
        if self.proc.poll() is None:
            try:
                self.term()
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("no exit after SIGTERM")
        if self.reader is not None:
            self.reader.join()
        if self.proc.returncode != 0:
            raise AssertionError(f"exit {self.proc.returncode}; "
                                 f"log: {self.text()!r}")
        return self.events()

    def kill(self):
        """kill -9, by pid; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def exactly_once(got, want, what):
    """got: (id, ts, event) as read back; want: the messages written, each
    distinct. Every message once, ids distinct."""
    msgs = [e["message"] for _, _, e in got]
    if len(msgs) != len(want) or sorted(msgs) != sorted(want):
        missing = sorted(set(want) - set(msgs))[:5]
        extra = len(msgs) - len(set(msgs))
        raise AssertionError(f"{what}: {len(msgs)} events for {len(want)} "
                             f"lines; missing (first 5): {missing}; "
                             f"duplicates: {extra}")
    eq(len({i for i, _, _ in got}), len(got), f"{what}: distinct ids")


def at_least_once_same_ids(got, want, what, renamed=False):
    """Every message at least once; a message sent twice has one id and
    one content (the replay of DESIGN.md guarantee 3). renamed: the file
    may have been renamed and written to between the two sendings, so
    log.file.path is its new name and the time read (the file's mtime when
    it is older than the read: pipeline.c) may be later; the id, the
    offset and every other field stay. Returns the number of
    duplicates."""
    seen = {}
    for id_, ts, e in got:
        if renamed:
            e = json.loads(json.dumps(e))
            e["log"]["file"].pop("path")
            e.pop("@timestamp")
            ts = None
        seen.setdefault(e["message"], set()).add(
            (id_, ts, json.dumps(e, sort_keys=True)))
    missing = [m for m in want if m not in seen]
    if missing:
        raise AssertionError(f"{what}: {len(missing)} of {len(want)} lines "
                             f"missing, the first: {missing[:3]}")
    eq(len(seen), len(want), f"{what}: events not written")
    differ = [sorted(s) for m, s in seen.items() if len(s) != 1]
    eq(differ[:2], [], f"{what}: sent twice with another id or content")
    ids = {}
    for id_, _, e in got:
        ids.setdefault(id_, set()).add(e["message"])
    eq([i for i, s in ids.items() if len(s) != 1][:3], [],
       f"{what}: one id for two lines")
    return len(got) - len(want)


def registry_offsets(path):
    """{inode: offset} of the registry at path ({} while there is none, or
    while it cannot be read)."""
    try:
        with open(path) as f:
            return {e["ino"]: e["offset"] for e in json.load(f)["entries"]}
    except (OSError, ValueError):
        return {}


class FdWatch:
    """Samples the daemon's descriptors every few ms in a thread: the most
    held at once, of all and of the files (not directories) under a
    directory."""

    def __init__(self, sh, under):
        self.sh, self.under = sh, under
        self.max_all = self.max_logs = 0
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopping:
            try:
                fds = self.sh.fds()
            except OSError:
                return  # exited
            self.max_all = max(self.max_all, len(fds))
            # a scan's walk holds directories open too: those are not
            # files the limit is about
            logs = sum(1 for f in fds if f.startswith(self.under) and
                       not os.path.isdir(f))
            self.max_logs = max(self.max_logs, logs)
            time.sleep(0.005)

    def stop(self):
        self.stopping = True
        self.t.join()


class HttpNode:
    """An HTTP server of the test's on a loopback port, in a thread, that
    answers each POST with answer(path, body) -> (status, bytes of JSON):
    a stand-in for an Elasticsearch node. .url, and close() when done."""

    def __init__(self, answer):
        import http.server

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, out = answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class BulkNode(HttpNode):
    """An Elasticsearch node that answers each _bulk at once: each
    document is given to take(meta, doc) (its "create" action, its source
    line), which returns (status, error or None) for its item."""

    def __init__(self):
        super().__init__(self._bulk)

    def take(self, meta, doc):
        return 201, None

    def _bulk(self, path, body):
        lines = body.decode().splitlines()
        items = []
        for action, doc in zip(lines[0::2], lines[1::2]):
            meta = json.loads(action)["create"]
            status, error = self.take(meta, doc)
            item = {"_index": meta["_index"], "_id": meta["_id"],
                    "status": status}
            if error is not None:
                item["error"] = error
            items.append({"create": item})
        errors = any(i["create"]["status"] != 201 for i in items)
        return 200, json.dumps({"took": 1, "errors": errors,
                                "items": items}).encode()


def seeded_run(obj, tmp, seed):
    """A seeded run's common state on obj: seed, rnd (random.Random(seed)),
    d (tmp/seedN, with logs/ and logs/old/), logs, log (logs/app.log)."""
    obj.seed = seed
    obj.rnd = random.Random(seed)
    obj.d = scratch(tmp, f"seed{seed}")
    obj.logs = os.path.join(obj.d, "logs")
    os.makedirs(os.path.join(obj.logs, "old"))
    obj.log = os.path.join(obj.logs, "app.log")


def copy_as_cp(src_path, dst_path):
    """src_path copied to dst_path as cp does: created empty, then written
    in pieces of 4 KiB."""
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        while True:
            chunk = src.read(4096)
            if not chunk:
                break
            dst.write(chunk)


def wait_arrived(run, lines, what, say=repr, deadline_s=20):
    """Waits up to deadline_s (20 s) until every one of lines is in
    run.arrived, which run.drain() fills (run.sh, when not None, must
    stay alive); else fails naming how many are missing and, by say(missing
    lines), which."""
    def done():
        run.drain()
        if run.sh is not None:
            run.sh.alive()
        return all(l in run.arrived for l in lines)
    try:
        wait_for(what, done, deadline_s=deadline_s, every_s=0.03)
    except AssertionError:
        miss = [l for l in lines if l not in run.arrived]
        raise AssertionError(f"{len(miss)} of {len(lines)} lines did not "
                             f"arrive in {deadline_s:g} s: {say(miss)}") \
            from None
