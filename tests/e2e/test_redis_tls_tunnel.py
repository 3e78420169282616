#!/usr/bin/env python3
"""README's "Reaching a remote Redis", run as written: Debian's hiredis
(0.14) has no TLS, so the daemons reach a remote Redis through stunnel in
client mode on loopback. The README shows conf/stunnel/sluice-redis.conf
(the tunnel) and conf/stunnel/redis-tls.conf (the Redis side) verbatim;
this test checks that it does, and runs those two files with only the
ports and file paths changed: a redis-server with TLS only (Debian 12's
7.0 is built with TLS), certificates made here (EC P-256: a CA, Redis's
certificate for redis.example.com and 127.0.0.1), stunnel in front.

- the README's blocks are the files, byte for byte
- `sluice-shipper run --once` through the tunnel: every line in the
  stream once, read back over TLS; the registry at the file's end
- `sluice-indexer check` is silent, `status` prints the stream's length
- Redis's certificate swapped for one the CA did not sign: stunnel
  refuses it, the shipper says it cannot reach Redis and ships nothing,
  the registry does not move; the right certificate back (CONFIG SET,
  no restart): the same run ships the lines and exits 0
- a certificate the CA signed for another host: refused too (checkHost)
- `sluice-shipper run` through the README's client tunnel and a stunnel
  in server mode in front of a plain redis-server (README: "an older
  Redis can sit behind a stunnel in server mode"): Redis killed behind
  both and started again, the lines written meanwhile all arrive, the
  outage is said once, SIGTERM exits 0 with the registry at the end

The test starts its own redis-server and stunnel on free loopback ports
and stops them by pid. About 4 s.

usage: test_redis_tls_tunnel.py SLUICE_SHIPPER SLUICE_INDEXER SOURCE_DIR
"""
import atexit
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, Redis, Shipper,  # noqa: E402
                             append, case, eq, failures, free_port, wait_for)

SHIPPER, INDEXER, SRC = sys.argv[1:4]
README = os.path.join(SRC, "README.md")
TUNNEL_CONF = os.path.join(SRC, "conf", "stunnel", "sluice-redis.conf")
REDIS_CONF = os.path.join(SRC, "conf", "stunnel", "redis-tls.conf")
HOST = "redis.example.com"  # the name the certificate and checkHost carry
PASSWORD = "e2e-tunnel-secret"
KEY = "e2e:events"
ENV = dict(shipper_harness.ENV, REDIS_PASSWORD=PASSWORD)
TMP = shipper_harness.tmp_dir("sluice-e2e-tls-")  # SLUICE_E2E_TMP: kept
procs = []  # every server this test started, stopped by pid at the end


def stop_all():
    for p in reversed(procs):  # by pid, only those this test started
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


atexit.register(stop_all)


def run(*args, env=None):
    p = subprocess.run(list(args), capture_output=True, env=env,
                       timeout=DEADLINE_S)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def openssl(*args):
    rc, _, err = run("openssl", *args)
    if rc != 0:
        raise AssertionError(f"openssl {' '.join(args)}: exit {rc}: {err}")


def make_ca(name):
    key, pem = (os.path.join(TMP, f"{name}.{x}") for x in ("key", "pem"))
    openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", pem,
            "-days", "2", "-subj", f"/CN=Sluice e2e {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return pem, key


def make_cert(name, ca, host):
    """A server certificate for host and 127.0.0.1 signed by ca: (pem,
    key)."""
    key, csr, pem, ext = (os.path.join(TMP, f"{name}.{x}")
                          for x in ("key", "csr", "pem", "ext"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
            "-subj", f"/CN={host}")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{host},IP:127.0.0.1\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
            "-days", "2", "-extfile", ext, "-out", pem)
    return pem, key


def readme_block(first_line):
    """The fenced block of README.md that starts with first_line."""
    with open(README) as f:
        text = f.read()
    for m in re.finditer(r"^```[a-z]*\n(.*?)^```$", text, re.M | re.S):
        if m.group(1).startswith(first_line):
            return m.group(1)
    raise AssertionError(f"README.md has no block starting {first_line!r}")


def with_values(text, sep, values, drop=()):
    """text with the value of each key in values replaced (each key must
    be there exactly once, so a renamed key fails here, not later) and
    the lines of the keys in drop left out."""
    out, seen = [], {}
    for line in text.splitlines():
        k = line.split(sep.strip() or None, 1)[0].strip() if line else ""
        if line.startswith(("#", ";")) or k not in values and k not in drop:
            out.append(line)
        elif k in values:
            seen[k] = seen.get(k, 0) + 1
            out.append(f"{k}{sep}{values[k]}")
    eq(seen, {k: 1 for k in values}, "keys replaced")
    return "\n".join(out) + "\n"


def started(args, log_name):
    log = open(os.path.join(TMP, log_name), "wb")
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT)
    log.close()
    procs.append(p)
    return p


def text_of(name):
    with open(os.path.join(TMP, name), "rb") as f:
        return f.read().decode(errors="replace")


class TlsRedis(Redis):
    """The harness's RESP client over TLS, verifying Redis's certificate
    against the CA as stunnel does. The server is the README's
    redis-tls.conf with its port, files and password changed."""

    def __init__(self, ca, cert):
        self.ca, self.cert = ca, cert
        super().__init__(password=PASSWORD)

    def start(self):
        conf = os.path.join(TMP, "redis.conf")
        with open(REDIS_CONF) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(with_values(text, " ", {
                "tls-port": self.port, "tls-cert-file": self.cert[0],
                "tls-key-file": self.cert[1], "tls-ca-cert-file": self.ca[0],
                "requirepass": PASSWORD}))
        self.proc = started(["redis-server", conf, "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir",
                             TMP], "redis.log")
        self.sock = wait_for(f"redis-server's tls-port {self.port}",
                             self._connect)
        self.buf = b""
        self.cmd("AUTH", self.password)

    def _connect(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited with "
                                 f"{self.proc.returncode}:\n"
                                 f"{text_of('redis.log')}")
        ctx = ssl.create_default_context(cafile=self.ca[0])
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 5)
        except OSError:
            return None
        return ctx.wrap_socket(s, server_hostname=HOST)

    def use_cert(self, cert):
        """Redis reloads its certificate on CONFIG SET; this connection,
        made with the old one, stays."""
        eq(self.cmd("CONFIG", "SET", "tls-cert-file", cert[0],
                    "tls-key-file", cert[1]), "OK", "CONFIG SET")


def start_tunnel(ca, redis_port, name="sluice-redis", text=None):
    """stunnel with the README's config (or text): ports and the CA file
    changed. Only root may change user: as another user the setuid and
    setgid lines are left out. Its config is TMP/name.conf, its log
    TMP/stunnel.log (TMP/name.log for another name). Returns the tunnel's
    port."""
    port = free_port()
    if text is None:
        with open(TUNNEL_CONF) as f:
            text = with_values(f.read(), " = ", {
                "accept": f"127.0.0.1:{port}",
                "connect": f"127.0.0.1:{redis_port}", "CAfile": ca[0]},
                () if os.geteuid() == 0 else ("setuid", "setgid"))
    else:
        text = text.format(port=port, redis_port=redis_port)
    conf = os.path.join(TMP, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(text)
    log_name = "stunnel.log" if name == "sluice-redis" else f"{name}.log"
    p = started(["stunnel", conf], log_name)

    def listening():
        if p.poll() is not None:
            raise AssertionError(f"stunnel exited with {p.returncode}:\n"
                                 f"{text_of(log_name)}")
        return "Configuration successful" in text_of(log_name)
    wait_for("stunnel's configuration loaded", listening)
    return port


def registry_offset(path):
    with open(os.path.join(TMP, "data", "registry.json")) as f:
        entries = json.load(f)["entries"]
    return {e["path"]: e["offset"] for e in entries}.get(path)


def messages(r):
    return [e["message"] for _, _, e in r.events(KEY)]


def need_tunnel():
    if r is None or tunnel_port is None:
        raise AssertionError("Redis or the tunnel did not start (above)")


def write_configs(port):
    """The shipper's and the indexer's configs: the README's URL with the
    tunnel's port. No Elasticsearch: the indexer's status says so."""
    url = f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:{port}/0"
    with open(SHIPPER_CONF, "w") as f:
        json.dump({"host": {"name": "e2e-host"},
                   "data_dir": os.path.join(TMP, "data"),
                   "inputs": [{"type": "file", "paths": [LOG]}],
                   "output": {"redis": {"url": url, "key": KEY,
                                        "codec": "none",
                                        # --once waits out the refused
                                        # certificate, not giving up
                                        "command_timeout": "60s"}}}, f)
    with open(INDEXER_CONF, "w") as f:
        json.dump({"redis": {"url": url, "key": KEY},
                   "elasticsearch": {"hosts": ["http://127.0.0.1:1"]}}, f)


# ---------------------------------------------------------------------------

CA = make_ca("ca")
ROGUE_CA = make_ca("rogue-ca")
GOOD = make_cert("redis", CA, HOST)
UNSIGNED = make_cert("redis-rogue", ROGUE_CA, HOST)
OTHER_HOST = make_cert("redis-other", CA, "other.example.com")
LOG = os.path.join(TMP, "logs", "app.log")
os.makedirs(os.path.dirname(LOG), exist_ok=True)
SHIPPER_CONF = os.path.join(TMP, "shipper.json")
INDEXER_CONF = os.path.join(TMP, "indexer.json")
r = None
tunnel_port = None
shipped = []  # every line that must be in the stream


@case
def readme_shows_the_tested_files():
    for path, first in ((TUNNEL_CONF, "; /etc/stunnel/sluice-redis.conf"),
                        (REDIS_CONF, "# redis.conf on the Redis host")):
        with open(path) as f:
            eq(readme_block(first), f.read(),
               f"README.md's block and {os.path.relpath(path, SRC)}")


@case
def shipper_ships_through_the_tunnel():
    global r, tunnel_port
    r = TlsRedis(CA, GOOD)
    tunnel_port = start_tunnel(CA, r.port)
    write_configs(tunnel_port)
    lines = [f"through the tunnel {i} " + "x" * (i % 97) for i in range(300)]
    append(LOG, lines)
    rc, _, err = run(SHIPPER, "-c", SHIPPER_CONF, "run", "--once", env=ENV)
    eq(rc, 0, f"run --once; stderr:\n{err}")
    if PASSWORD in err:
        raise AssertionError(f"the password in the log:\n{err}")
    shipped.extend(lines)
    eq(messages(r), shipped, "the stream, read back over TLS")
    eq(registry_offset(LOG), os.path.getsize(LOG), "registry offset")
    if f"Certificate accepted at depth=0: CN={HOST}" not in \
            text_of("stunnel.log"):
        raise AssertionError("stunnel did not verify Redis's certificate:\n"
                             + text_of("stunnel.log"))


@case
def indexer_check_and_status_through_the_tunnel():
    need_tunnel()
    eq(run(INDEXER, "-c", INDEXER_CONF, "check", env=ENV), (0, "", ""),
       "check")
    rc, out, err = run(INDEXER, "-c", INDEXER_CONF, "status", env=ENV)
    eq(rc, 0, f"status; stderr: {err}")
    n = r.cmd("XLEN", KEY)
    if n < 1 or not re.search(rf"^  length +{n} entr(y|ies)$", out, re.M):
        raise AssertionError(f"status does not show {n} entries:\n{out}")


def refused(what):
    """status through the tunnel fails as when Redis is away."""
    rc, out, err = run(INDEXER, "-c", INDEXER_CONF, "status", env=ENV)
    eq(rc, 1, f"status exit with {what}; stdout:\n{out}")
    want = (f"Redis at redis://:***@127.0.0.1:{tunnel_port}/0 "
            "does not answer")
    if want not in err or PASSWORD in err:
        raise AssertionError(f"status with {what} said:\n{err}")


def stunnel_rejected(since, why, cn):
    """stunnel's log, from offset since, says it rejected the certificate
    of cn, and why."""
    said = text_of("stunnel.log")[since:]
    for want in (f"CERT: {why}", f"Rejected by CERT at depth=0: CN={cn}",
                 "certificate verify failed"):
        if want not in said:
            raise AssertionError(f"stunnel's log has no {want!r}:\n{said}")


@case
def certificate_the_ca_did_not_sign_refused_nothing_lost():
    need_tunnel()
    before = r.cmd("XLEN", KEY)
    offset = registry_offset(LOG)
    r.use_cert(UNSIGNED)
    stunnel_said = len(text_of("stunnel.log"))
    lines = [f"while the tunnel refuses {i}" for i in range(50)]
    append(LOG, lines)
    log_path = os.path.join(TMP, "shipper-refused.log")
    with open(log_path, "wb") as log:
        sh = subprocess.Popen([SHIPPER, "-c", SHIPPER_CONF, "run", "--once"],
                              env=ENV, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=log)
    procs.append(sh)

    def said():
        with open(log_path, "rb") as f:
            t = f.read().decode(errors="replace")
        return t if "retrying with backoff" in t else None
    text = wait_for("the shipper to say it cannot reach Redis", said)
    url = f"redis://:***@127.0.0.1:{tunnel_port}/0"
    warn = [l for l in text.splitlines() if " warn " in l and url in l]
    if len(warn) != 1 or "[output:redis]" not in warn[0]:
        raise AssertionError(f"the shipper's log:\n{text}")
    if PASSWORD in text or " ready" in text:
        raise AssertionError(f"the shipper's log:\n{text}")
    stunnel_rejected(stunnel_said, "Pre-verification error: unable to get "
                     "local issuer certificate", HOST)
    refused("a certificate the CA did not sign")
    eq(sh.poll(), None, "run --once still waiting for Redis")
    eq(r.cmd("XLEN", KEY), before, "entries while the tunnel refuses")
    eq(registry_offset(LOG), offset, "registry offset while refused")

    r.use_cert(GOOD)  # the tunnel fixed: the same run goes on and ends
    rc = sh.wait(timeout=DEADLINE_S)
    with open(log_path, "rb") as f:
        text = f.read().decode(errors="replace")
    eq(rc, 0, f"run --once once the tunnel works; log:\n{text}")
    shipped.extend(lines)
    eq(messages(r), shipped, "the stream once the tunnel works")
    eq(registry_offset(LOG), os.path.getsize(LOG), "registry offset")


@case
def certificate_for_another_host_refused():
    need_tunnel()
    r.use_cert(OTHER_HOST)
    stunnel_said = len(text_of("stunnel.log"))
    try:
        refused("a certificate for other.example.com")
        stunnel_rejected(stunnel_said, "Subject checks failed",
                         "other.example.com")
    finally:
        r.use_cert(GOOD)


# stunnel in server mode in front of a plain redis-server, as README says
# an older Redis can sit: TLS on its accept port, plain to Redis
SERVER_TUNNEL = """foreground = yes
[redis-tls]
accept = 127.0.0.1:{port}
connect = 127.0.0.1:{redis_port}
cert = %s
key = %s
"""


@case
def daemon_through_client_and_server_tunnels_rides_out_a_redis_restart():
    # the shipper -> stunnel client (README's file) -> TLS -> stunnel
    # server -> redis-server, with `run` as the daemon: Redis killed
    # behind both tunnels and started again, the lines written meanwhile
    # all arrive, and the outage is said once (each attempt through the
    # tunnel ended with a FIN or a RST, and each change was a warning)
    plain = Redis(password=PASSWORD)
    try:
        srv_port = start_tunnel(None, plain.port, "redis-tls",
                                SERVER_TUNNEL % GOOD)
        cli_port = start_tunnel(CA, srv_port, "sluice-redis-2",
                                with_values(open(TUNNEL_CONF).read(), " = ", {
                                    "accept": "127.0.0.1:{port}",
                                    "connect": "127.0.0.1:{redis_port}",
                                    "CAfile": CA[0]},
                                    () if os.geteuid() == 0
                                    else ("setuid", "setgid")))
        d = os.path.join(TMP, "daemon")
        log = os.path.join(d, "logs", "app.log")
        os.makedirs(os.path.dirname(log))
        url = f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:{cli_port}/0"
        http = free_port()
        conf = os.path.join(d, "shipper.json")
        with open(conf, "w") as f:
            json.dump({"host": {"name": "e2e-host"},
                       "data_dir": os.path.join(d, "data"),
                       "inputs": [{"type": "file", "paths": [log]}],
                       "output": {"redis": {"url": url, "key": KEY,
                                            "codec": "none",
                                            "batch_age": "20ms"}},
                       "http": {"listen": f"127.0.0.1:{http}"}}, f)
        sh = Shipper(SHIPPER, ENV, conf, d, http)
        try:
            before = [f"before the restart {i}" for i in range(100)]
            append(log, before)
            got = lambda: [e["message"] for _, _, e in plain.events(KEY)]
            wait_for("the lines through both tunnels",
                     lambda: got() == before)
            plain.kill()
            during = [f"while Redis is down {i}" for i in range(100)]
            append(log, during)
            wait_for("3 attempts refused behind the tunnels",
                     lambda: text_of("redis-tls.log").count(
                         "Connection refused") >= 3)
            plain.start()  # no persistence: the stream starts empty
            wait_for("the lines written while Redis was down",
                     lambda: got() == during)
            text = sh.text()
            shown = f"redis://:***@127.0.0.1:{cli_port}/0"
            said = [l for l in text.splitlines()
                    if shown in l and (" warn " in l or " error " in l)]
            if len(said) != 2 or "connection lost" not in said[0] or \
                    PASSWORD in text:
                raise AssertionError("the outage said in "
                                     f"{len(said)} lines:\n{text}")
            if "ready again after" not in text:
                raise AssertionError(f"its end not said:\n{text}")
            eq(sh.term(), 0, "exit after SIGTERM")
            with open(os.path.join(d, "data", "registry.json")) as f:
                eq([e["offset"] for e in json.load(f)["entries"]],
                   [os.path.getsize(log)], "registry offset")
        finally:
            sh.kill()
    finally:
        plain.kill()


stop_all()
if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
