"""What the shipper's end-to-end tests share: redis-server processes the
test starts itself (on a free loopback port, restartable on the same port,
with AOF or without, with a password or without), RESP over a socket,
the batch format (common/sl_batch.h, format 2) decoded back into events,
the daemon run in the background with its log in a file, its /metrics,
and its memory from /proc.

Every wait polls with a deadline; nothing sleeps as synchronisation.
"""
import json
import os
import random
import signal
import socket
import subprocess
import time

DEADLINE_S = 60  # any wait, at most


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
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free port in 20000-32000")


class Redis:
    """A redis-server of this test on a loopback port, and RESP over a
    socket. aof: a directory, the server then writes an append-only file
    there with `appendfsync always` (DESIGN.md guarantee 3), so a restart
    on the same port keeps every entry it acknowledged. password: the
    server's requirepass; the admin connection authenticates with it."""

    def __init__(self, aof=None, password=None, port=None):
        self.port = port or free_port()
        self.aof = aof
        self.password = password
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


def write_config(d, inputs, output, extra=None):
    cfg = {"host": {"name": "e2e-host"}, "data_dir": os.path.join(d, "data"),
           "inputs": inputs, "output": output,
           "log": {"level": "info"}}
    cfg.update(extra or {})
    path = os.path.join(d, "shipper.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


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


class Shipper:
    """`sluice-shipper run` in the background, its stderr in d/shipper.log
    (appended to across restarts), /metrics on port when given."""

    def __init__(self, binary, env, conf, d, port=None, preexec_fn=None):
        self.log_path = os.path.join(d, "shipper.log")
        self.port = port
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary, "-c", conf, "run"], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.log, preexec_fn=preexec_fn)
        self.pid = self.proc.pid
        if port:
            wait_for("the shipper's /metrics", self.metrics)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def metrics(self):
        """{name: value} from /metrics (labels kept in the name), or None
        while it cannot be reached."""
        if self.proc.poll() is not None:
            raise AssertionError(f"the shipper exited with "
                                 f"{self.proc.returncode}; log:\n"
                                 f"{self.text()}")
        try:
            body = http_get(self.port, "/metrics").split("\r\n\r\n", 1)[1]
        except (OSError, IndexError):
            return None
        m = {}
        for l in body.splitlines():
            if l and not l.startswith("#"):
                name, v = l.rsplit(" ", 1)
                m[name] = float(v)
        return m

    def metric(self, name):
        """One series, by its name with its labels; 0 when absent."""
        m = wait_for("/metrics", self.metrics)
        return m.get(name, 0)

    def total(self, name):
        """The sum of a family's series, whatever their labels."""
        m = wait_for("/metrics", self.metrics)
        return sum(v for k, v in m.items()
                   if k == name or k.startswith(name + "{"))

    def memory_kib(self):
        """(VmRSS, VmHWM) in KiB, from /proc/PID/status."""
        with open(f"/proc/{self.pid}/status") as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        return (int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0]))

    def term(self, timeout=DEADLINE_S):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.log.close()
        return rc

    def kill(self):
        """kill -9, by pid; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not self.log.closed:
            self.log.close()


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
