#!/usr/bin/env python3
"""sluice-indexer as an operator drives it, with a redis-server of this
test and no Elasticsearch (each node named is a closed port, or none is
asked): each case found a defect, and fails on the code before its fix.

- elasticsearch.ca_file naming no file, with an https:// node: `check`,
  `run`, `setup` and `dlq replay` refused the config (exit 2, the file
  and why), but `status` showed each node as "no answer: error setting
  certificate file" and exited 0, and `dlq list` said nothing; with
  every node http:// `check` warned and `status` did not. Every
  subcommand now reads the config alike: the same line, the same exit.
- The sweep of idle consumers (redis.forget_idle) under a Redis ACL
  user: README did not say what the indexer needs of Redis; now it does,
  and an indexer with just that user reads, indexes (into a stub node of
  this test), writes a dead letter, acknowledges and removes the idle
  consumers. A user without XGROUP DELCONSUMER got "removing idle
  consumers ...: ERR The user executing the script can't run this command
  or subcommand" at every sweep, naming no command; it is now said once,
  naming the command refused and what to allow, and the indexer goes on.
- `run --once` with a Redis user that may not use redis.key (an ACL
  of another key): "XGROUP CREATE ...: NOPERM ...; is the key a
  stream?" every few seconds, for ever: Redis answered, so --once never
  gave up, and a cron job's runs piled up. It now gives up after
  elasticsearch.request_timeout, as with Redis down (exit 1), saying
  Redis refused and what to allow.
- http.listen on a port another process holds: the indexer said
  "metrics address ... is in use" without the key (the shipper names
  http.listen); now both do, and exit 1.
- `dlq list` and `dlq replay` on a redis.url whose database Redis
  refuses (SELECT 99 of 16): "SELECT: ERR DB index is out of range" and
  nothing on what to do; `dlq replay` also printed "0 dead letters in
  sluice:dead: 0 indexed ..." on stdout, a count it never read. Now the
  line says to check redis.url, and stdout stays empty (exit 1).
- `status` with a Redis ACL user that may not run XINFO GROUPS (or
  TIME, or TYPE): "stream sluice:events does not exist yet (nothing
  shipped)" for a stream that holds entries, exit 0; without TIME, no
  report at all, "check the user, password and database". Now the parts
  it could not read say "unknown", one line says what to allow, exit 1;
  TIME is not needed (this host's clock stands in).

usage: test_indexer_ops.py BIN_DIR
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, BulkNode, Redis, case, eq,  # noqa: E402
                             failures, free_port, tmp_dir, wait_for)

BIN = sys.argv[1]
INDEXER = os.path.join(BIN, "sluice-indexer")
SHIPPER = os.path.join(BIN, "sluice-shipper")
TMP = tmp_dir("sluice-idxops-")
redis = Redis()
COMMANDS = (["check"], ["status"], ["dlq", "list"], ["run", "--once"],
            ["setup"], ["dlq", "replay"])


def config(name, redis_section=None, es_section=None, url=None):
    """Writes TMP/name.json: this test's Redis (or url), and an
    Elasticsearch node on a closed port unless es_section says."""
    r = {"url": url or f"redis://127.0.0.1:{redis.port}/0",
         "block": "200ms", "consumer": "c1", **(redis_section or {})}
    es = {"hosts": [f"http://127.0.0.1:{free_port()}"],
          "request_timeout": "1s", **(es_section or {})}
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump({"redis": r, "elasticsearch": es}, f)
    return path


def indexer(conf, *cmd, timeout=30):
    return subprocess.run([INDEXER, "-c", conf, *cmd], capture_output=True,
                          text=True, env=ENV, timeout=timeout)


@case
def every_subcommand_judges_a_missing_ca_file_alike():
    missing = os.path.join(TMP, "no-such-ca.pem")
    tls = config("ca-tls", es_section={
        "hosts": [f"https://127.0.0.1:{free_port()}"], "ca_file": missing})
    said = (f"sluice-indexer: {tls}:1:")
    why = (f'elasticsearch.ca_file: cannot read "{missing}": No such file or '
           "directory; expected the PEM file of the CA that signed the "
           "nodes' certificates\n")
    for cmd in COMMANDS:
        p = indexer(tls, *cmd)
        eq((p.returncode, p.stdout), (2, ""), f"{cmd}: {p.stderr}")
        assert p.stderr.startswith(said) and p.stderr.endswith(why), \
            f"{cmd}: {p.stderr}"
        eq(p.stderr.count("\n"), 1, f"{cmd}: one line")
    # every node http://: the file is not used; a warning, and on
    plain = config("ca-plain", es_section={"ca_file": missing})
    warning = ("it is not used while every URL is http://: copy the CA "
               "there before switching to https://, or remove ca_file\n")
    for cmd in (["check"], ["status"], ["dlq", "list"]):
        p = indexer(plain, *cmd)
        eq(p.returncode, 0, f"{cmd}: {p.stderr}")
        first = p.stderr.split("\n")[0] + "\n"
        assert first.startswith(f"sluice-indexer: warning: {plain}:1:") \
            and first.endswith(warning), f"{cmd}: {p.stderr}"
    p = indexer(plain, "status")
    assert p.stdout.startswith(f"redis redis://127.0.0.1:{redis.port}/0: "
                               "stream sluice:events, group sluice\n"), \
        p.stdout


class StubNode(BulkNode):
    """An Elasticsearch node that answers each _bulk at once: every
    event created, but those whose line holds "bad-line", refused with a
    mapping error. `events` counts the documents it took."""

    def __init__(self):
        self.events, self.refused = 0, 0
        super().__init__()

    def take(self, meta, doc):
        if "bad-line" in doc:
            self.refused += 1
            return 400, {"type": "mapper_parsing_exception",
                         "reason": "failed to parse"}
        self.events += 1
        return 201, None


def readme_acl():
    """The rules of README's `ACL SETUSER sluice-indexer` block (stream
    mode), after the password: what the test's user gets, so README and
    the test cannot part."""
    readme = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "README.md")
    text = open(readme).read()
    m = re.search(r"```\nACL SETUSER sluice-indexer on >PASSWORD (.*?)```",
                  text, re.S)
    assert m, "README has no ACL SETUSER sluice-indexer block"
    return " ".join(m.group(1).split())


README_ACL = readme_acl()


def acl_user(name, rules):
    redis.cmd("ACL", "SETUSER", name, "reset", "on", ">pw-" + name,
              *rules.split())
    return f"redis://{name}:pw-{name}@127.0.0.1:{redis.port}/0"


def ship_lines(key, lines):
    """lines shipped by sluice-shipper (as Redis's default user) into the
    stream key, in batches of 50."""
    logs = os.path.join(TMP, key.replace(":", "-"))
    os.makedirs(logs)
    with open(os.path.join(logs, "app.log"), "w") as f:
        f.writelines(line + "\n" for line in lines)
    ship = os.path.join(logs, "shipper.json")
    with open(ship, "w") as f:
        json.dump({"host": {"name": "web-1"}, "data_dir": logs + "/data",
                   "inputs": [{"paths": [logs + "/*.log"]}],
                   "output": {"redis": {
                       "url": f"redis://127.0.0.1:{redis.port}/0",
                       "key": key, "batch_events": 50}}}, f)
    p = subprocess.run([SHIPPER, "-c", ship, "run", "--once"],
                       capture_output=True, text=True, env=ENV, timeout=60)
    eq(p.returncode, 0, f"shipper: {p.stderr}")


def consumers(key):
    return sorted(dict(zip(c[0::2], c[1::2]))[b"name"].decode()
                  for c in redis.cmd("XINFO", "CONSUMERS", key, "sluice"))


def run_indexer(conf, log):
    with open(log, "w") as f:
        return subprocess.Popen([INDEXER, "-c", conf, "run"], stderr=f,
                                stdout=subprocess.DEVNULL, env=ENV)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        eq(p.wait(timeout=20), 0, "the indexer's exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@case
def readme_acl_user_indexes_and_removes_idle_consumers():
    key = "sluice:acl"
    ship_lines(key, [f"acl line {i}" for i in range(199)] + ["bad-line"])
    redis.cmd("XGROUP", "CREATE", key, "sluice", "0")
    redis.cmd("XGROUP", "CREATECONSUMER", key, "sluice", "gone-1")
    redis.cmd("XGROUP", "CREATECONSUMER", key, "sluice", "gone-2")
    node = StubNode()
    conf = config("acl", {"key": key, "dead_key": "sluice:acl:dead",
                          "forget_idle": "1s"}, {"hosts": [node.url]},
                  url=acl_user("sluice-indexer", README_ACL))
    log = os.path.join(TMP, "acl.log")
    p = run_indexer(conf, log)
    try:
        wait_for("every event indexed or refused",
                 lambda: (node.events, node.refused) == (199, 1))
        wait_for("every entry acknowledged and deleted",
                 lambda: redis.cmd("XLEN", key) == 0)
        wait_for("the idle consumers removed",
                 lambda: consumers(key) == ["c1"])
    finally:
        stop(p)
        node.close()
    said = open(log).read()
    eq(redis.cmd("XLEN", "sluice:acl:dead"), 1, f"dead letters: {said}")
    assert re.search(r'removed 2 consumers of group sluice on sluice:acl '
                     r'that held nothing and were idle 1 s or more '
                     r'\(redis.forget_idle\): "gone-[12]" \(idle \d+ s\), '
                     r'"gone-[12]"', said), said
    for word in ("NOPERM", "not removed", "allow it"):
        assert word not in said, said


@case
def sweep_refused_by_acl_says_what_to_allow_once_and_goes_on():
    key = "sluice:acl2"
    ship_lines(key, [f"acl2 line {i}" for i in range(100)])
    redis.cmd("XGROUP", "CREATE", key, "sluice", "0")
    redis.cmd("XGROUP", "CREATECONSUMER", key, "sluice", "gone-3")
    node = StubNode()
    conf = config("acl2", {"key": key, "dead_key": "sluice:acl2:dead",
                           "forget_idle": "1s"}, {"hosts": [node.url]},
                  url=acl_user("no-delconsumer",
                               README_ACL.replace("+xgroup|delconsumer",
                                                  "")))
    log = os.path.join(TMP, "acl2.log")
    p = run_indexer(conf, log)
    try:
        wait_for("every event indexed", lambda: node.events == 100)
        wait_for("the sweep refused", lambda: "not removed" in open(log).read())
        # sweeps are due every 500 ms: the next ones would have said it
        # again by the time 100 more lines are shipped and indexed
        t0 = time.monotonic()
        ship_lines(key + ":more", ["x"])  # another key: its own shipper
        redis.cmd("XADD", key, "*", "v", "2")  # not a batch: dead letter
        wait_for("the indexer going on (a dead letter)",
                 lambda: redis.cmd("XLEN", "sluice:acl2:dead") == 1)
        wait_for("two sweep periods", lambda: time.monotonic() - t0 > 1.2,
                 every_s=0.1)
        assert p.poll() is None, open(log).read()
    finally:
        stop(p)
        node.close()
    said = open(log).read()
    want = ("idle consumers of group sluice on sluice:acl2 are not removed: "
            "EVAL: NOPERM XGROUP DELCONSUMER refused: ERR The user executing "
            "the script can't run this command or subcommand; give the "
            "indexer's Redis user +eval +set +exists +xinfo|consumers "
            "+xgroup|delconsumer and the keys {sluice:acl2}:alive:* (README: "
            "a Redis ACL user), or remove them by hand (XGROUP DELCONSUMER); "
            "the indexer goes on without")
    eq(said.count(want), 1, said)
    eq(said.count("not removed"), 1, said)
    eq(consumers(key), ["c1", "gone-3"], "consumers kept")


@case
def once_gives_up_when_redis_refuses_the_key():
    conf = config("acl3", {"key": "other:events"},
                  url=acl_user("only-sluice", README_ACL))
    t0 = time.monotonic()
    p = indexer(conf, "run", "--once", timeout=60)
    took = time.monotonic() - t0
    eq(p.returncode, 1, p.stderr)
    assert took < 10, f"{took:.1f} s: {p.stderr}"
    assert ("XGROUP CREATE other:events sluice: NOPERM this user has no "
            "permissions to access one of the keys used as arguments; "
            "redis.url's user may not do it: give it the keys and commands "
            "README lists (a Redis ACL user)") in p.stderr, p.stderr
    assert re.search(
        r"--once gives up: redis://only-sluice:\*\*\*@127.0.0.1:\d+/0 has "
        r"refused what the indexer asks for \d+\.\d s \(elasticsearch."
        r"request_timeout; the error above says why\); nothing is lost: "
        r"what was read and not acknowledged stays pending in Redis; give "
        r"redis.url's user the keys and commands README lists \(a Redis ACL "
        r"user\), or fix redis.key, then run again", p.stderr), p.stderr


@case
def http_port_in_use_names_the_key():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        path = config("busy")
        with open(path) as f:
            c = json.load(f)
        c["http"] = {"listen": f"127.0.0.1:{port}"}
        with open(path, "w") as f:
            json.dump(c, f)
        for cmd in (["run"], ["run", "--once"]):
            p = indexer(path, *cmd)
            eq((p.returncode, p.stdout), (1, ""), f"{cmd}: {p.stderr}")
            errors = [l.split("] ", 1)[1] for l in p.stderr.splitlines()
                      if " error " in l]
            eq(errors, [f"http.listen: metrics address 127.0.0.1:{port} is "
                        "in use; pick another port or stop the other "
                        f"process (ss -ltnp 'sport = :{port}' shows it)"],
               f"{cmd}: {p.stderr}")


@case
def dlq_on_a_database_redis_refuses_says_what_to_check():
    url = f"redis://127.0.0.1:{redis.port}/99"
    conf = config("db99", url=url)
    for cmd in (["dlq", "list"], ["dlq", "replay"]):
        p = indexer(conf, *cmd)
        eq((p.returncode, p.stdout, p.stderr),
           (1, "", f"sluice-indexer: {' '.join(cmd)}: redis {url}: SELECT: "
            "ERR DB index is out of range; check the user, password and "
            "database in redis.url\n"), f"{cmd}")


@case
def status_says_what_the_acl_user_may_not_read():
    key = "sluice:acl-status"
    redis.cmd("XADD", key, "*", "v", "2")
    redis.cmd("XGROUP", "CREATE", key, "sluice", "0")
    for rules, status in ((README_ACL, 1),
                          (README_ACL + " +xinfo|groups +type", 0)):
        user = f"status-{status}"
        url = acl_user(user, rules)
        p = indexer(config("st" + user, {"key": key}, url=url), "status")
        shown = url.replace(f":pw-{user}@", ":***@")
        head = (f"redis {shown}: stream {key}, group sluice\n"
                "  length        1 entry\n")
        assert p.stdout.startswith(head), p.stdout
        eq(p.returncode, status, p.stderr)
        if status == 1:
            eq(p.stdout.split("\n")[2], "  groups        unknown", p.stdout)
            eq(p.stderr, "sluice-indexer: status: Redis refused commands of "
               "this report to redis.url's user (NOPERM), so parts of it "
               "are unknown or missing; allow it +type +xinfo|groups "
               "(README: a Redis ACL user)\n", "stderr")
        else:
            eq(p.stdout.split("\n")[2:4],
               ["  pending       0", "  unread        1, oldest 0s ago"],
               p.stdout)
            eq(p.stderr, "", "stderr")


redis.kill()
sys.exit(1 if failures else 0)
