#!/usr/bin/env python3
"""The whole pipeline through crashes and rotations: lines are written at a
steady rate into a log file that is rotated every way (rename and create,
copytruncate with the copy matched by `paths`, rename with a delay before
the new file appears) while the shipper, the indexer and Redis (AOF,
appendfsync always) are each killed with -9 in turn and started again. At
the end Elasticsearch holds exactly one document per line written: none
lost, none twice.

The test starts its own redis-server (it kills it) and uses the
Elasticsearch tests/run provides (SLUICE_TEST_ES_URL), with indices and an
index template of its own.

With --kill-es, Elasticsearch (tests/run's es_restart node) is killed with
-9 too, mid-run, and started again with its data.

usage: test_pipeline_crash.py SLUICE_SHIPPER SLUICE_INDEXER CONF_DIR [--kill-es]
  SLUICE_CRASH_SECONDS  how long lines are written (default 24)
  SLUICE_CRASH_RATE     lines per second (default 1500)
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, es_drop, es_request,  # noqa: E402
                             free_port)
from pipeline_harness import Daemon, redis_cli  # noqa: E402

SHIPPER, INDEXER, CONF = sys.argv[1:4]
# --kill-es: Elasticsearch is killed with -9 too, and started again: the
# node tests/run starts for that (es_restart, label "restart")
KILL_ES = sys.argv[4:5] == ["--kill-es"]
ES_VAR = "SLUICE_TEST_ES_RESTART_URL" if KILL_ES else "SLUICE_TEST_ES_URL"
ES = os.environ.get(ES_VAR, "").rstrip("/")
if not ES:
    sys.exit(f"test_pipeline_crash: {ES_VAR} is not set: run it through "
             "tests/run (or make test), which starts Elasticsearch")
ES_RESTART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "lib", "es_restart.sh")
SECONDS = float(os.environ.get("SLUICE_CRASH_SECONDS", "24"))
RATE = int(os.environ.get("SLUICE_CRASH_RATE", "1500"))
DEADLINE_S = 150  # any wait for the pipeline to catch up, at most
PREFIX = f"sluicecrash-{os.getpid()}"
tmp = tempfile.TemporaryDirectory(prefix="sluice-crash-")
TMP = tmp.name


def log(msg):
    print(f"# {time.strftime('%H:%M:%S')} {msg}", flush=True)


def wait_for(what, fn, timeout=DEADLINE_S):
    return shipper_harness.wait_for(what, fn, timeout, 0.05)


es = functools.partial(es_request, ES)


# --- processes -----------------------------------------------------------

class Proc(Daemon):
    """A daemon of this test: started, killed with -9, started again."""

    def __init__(self, name, argv):
        super().__init__(name, argv, TMP)

    def kill9(self):
        super().kill9()
        log(f"killed {self.name} with -9")


# --- the application that writes the log ---------------------------------

class Writer(threading.Thread):
    """Writes numbered lines at RATE a second into logs/app.log through an
    open descriptor, as an application does; rotate() renames or copies
    the file, and the writer reopens its path when told, as an application
    does on SIGHUP (or, for copytruncate, never needs to)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.n, self.lock = path, 0, threading.Lock()
        self.f = open(path, "ab", buffering=0)
        self.stop_at = None

    def run(self):
        t0 = time.monotonic()
        while self.stop_at is None or time.monotonic() < self.stop_at:
            due = int((time.monotonic() - t0) * RATE)
            with self.lock:
                chunk = b"".join(
                    b"%s seq=%08d level=info user=u%d path=/api/v1/items/%d "
                    b"took=%dms\n" % (time.strftime("%H:%M:%S").encode(), i,
                                      i % 97, i % 1009, i % 300)
                    for i in range(self.n, due))
                if chunk:
                    self.f.write(chunk)
                    self.n = due
            time.sleep(0.01)

    def reopen(self):
        with self.lock:
            self.f.close()
            self.f = open(self.path, "ab", buffering=0)

    def rename(self, to, delay=0.0):
        """logrotate's create: the file renamed; the application writes on
        into the renamed file until it reopens its path, DELAY later."""
        os.rename(self.path, to)
        time.sleep(delay)
        self.reopen()

    def copytruncate(self, to):
        """logrotate's copytruncate. The writer is held during the copy and
        the truncate: a line written between them is lost by copytruncate
        itself (README, Guarantees), not by the shipper."""
        with self.lock:
            shutil.copyfile(self.path, to)
            os.truncate(self.path, 0)


# --- the test ------------------------------------------------------------

def main():
    logs = os.path.join(TMP, "logs")
    os.makedirs(logs)
    rport, mport = free_port(), free_port()
    rdir = os.path.join(TMP, "redis")
    os.makedirs(rdir)
    redis = Proc("redis", ["redis-server", "--port", str(rport),
                           "--bind", "127.0.0.1", "--dir", rdir,
                           "--save", "", "--appendonly", "yes",
                           "--appendfsync", "always"])
    redis.start()
    wait_for("redis-server", lambda: redis_cli(rport, "ping") == "PONG", 10)
    url = f"redis://127.0.0.1:{rport}/0"
    key = f"{PREFIX}:events"

    shipper_conf = os.path.join(TMP, "shipper.json")
    with open(shipper_conf, "w") as f:
        json.dump({"host": {"name": "crash-host"},
                   "data_dir": os.path.join(TMP, "shipper-data"),
                   "inputs": [{"type": "file",
                               "paths": [os.path.join(logs, "app.log*")],
                               "scan_interval": "200ms",
                               "rotate_wait": "2s",
                               "fields": {"service.name": "crash"}}],
                   "output": {"redis": {"url": url, "key": key,
                                        "batch_age": "100ms"}},
                   "http": {"listen": f"127.0.0.1:{mport}"}}, f)
    template = os.path.join(TMP, "template.json")
    with open(os.path.join(CONF, "elasticsearch", "sluice-template.json")) as f:
        t = json.load(f)
    t["index_patterns"] = [f"{PREFIX}-*"]
    t["priority"] = t.get("priority", 0) + 7
    with open(template, "w") as f:
        json.dump(t, f)
    indexer_conf = os.path.join(TMP, "indexer.json")
    with open(indexer_conf, "w") as f:
        json.dump({"redis": {"url": url, "key": key, "group": "crash",
                             "consumer": "crash-idx", "claim_idle": "2s",
                             "dead_key": f"{PREFIX}:dead", "block": "200ms"},
                   "elasticsearch": {"hosts": [ES],
                                     "index": PREFIX + "-%{+yyyy.MM.dd}",
                                     "template_name": PREFIX,
                                     "flush_age": "200ms"}}, f)
    ienv = dict(ENV, SLUICE_TEMPLATE_FILE=template)
    p = subprocess.run([INDEXER, "-c", indexer_conf, "setup"],
                       capture_output=True, env=ienv, timeout=60)
    assert p.returncode == 0, f"setup: {p.stderr.decode()}"

    shipper = Proc("shipper", [SHIPPER, "-c", shipper_conf, "run"])
    indexer = Proc("indexer", [INDEXER, "-c", indexer_conf, "run"])
    shipper.start()
    indexer.start()

    app = os.path.join(logs, "app.log")
    w = Writer(app)
    w.start()
    t0 = time.monotonic()

    def at(s):
        time.sleep(max(0.0, t0 + s * SECONDS / 24 - time.monotonic()))

    try:
        at(2)
        shipper.kill9()
        at(3)
        shipper.start()
        at(4)
        w.rename(app + ".1")                     # rename and create
        at(6)
        indexer.kill9()
        at(7)
        indexer.start()
        at(7.5)
        shipper.kill9()
        at(8)
        w.copytruncate(app + ".2")               # copy matched by paths,
        at(8.5)                                  # the shipper down: the
        shipper.start()                          # lines since its last read
                                                 # are only in the copy
        at(10)
        redis.kill9()
        at(11)
        redis.start()
        wait_for("redis-server again",
                 lambda: redis_cli(rport, "ping") == "PONG", 10)
        es_back = None
        if KILL_ES:
            subprocess.run([ES_RESTART, "kill"], check=True, timeout=30)
            log("killed Elasticsearch with -9")

            def restart_es():
                subprocess.run([ES_RESTART, "start"], check=True,
                               timeout=180, stdout=subprocess.DEVNULL)
                log("Elasticsearch is back")
            es_back = threading.Thread(target=restart_es)
            es_back.start()                      # it boots while we go on
        at(13)
        w.rename(app + ".3", delay=1.0)          # a delay before create
        at(14)
        shipper.kill9()                          # right after a rotation
        at(15)
        shipper.start()
        at(17)
        indexer.kill9()
        shipper.kill9()
        at(18)
        shipper.start()
        indexer.start()
        at(19.5)
        shipper.kill9()
        at(20)
        w.copytruncate(app + ".4")
        w.rename(app + ".5")                     # and renamed, while down
        at(21)
        redis.kill9()
        at(22)
        redis.start()
        wait_for("redis-server again",
                 lambda: redis_cli(rport, "ping") == "PONG", 10)
        shipper.start()
        w.stop_at = t0 + SECONDS
        w.join()
        if es_back is not None:
            es_back.join()
        written = w.n
        log(f"{written} lines written in {SECONDS:.0f}s; waiting for all "
            "of them in Elasticsearch")

        def count():
            es("POST", f"/{PREFIX}-*/_refresh")
            st, body = es("GET", f"/{PREFIX}-*/_count")
            return body["count"] if st == 200 else -1
        last = [0, time.monotonic()]

        def caught_up():
            n = count()
            if n != last[0]:
                last[:] = [n, time.monotonic()]
            # no progress for 45 s: stuck (a node set aside after an
            # outage is tried again within retry_max, 30 s)
            return n >= written or time.monotonic() - last[1] > 45
        wait_for("the pipeline to catch up", caught_up)
        got = count()

        # every line once: read the sequence numbers back
        seqs = []
        st, body = es("POST", f"/{PREFIX}-*/_search?scroll=1m",
                      {"size": 10000, "_source": ["message"]})
        assert st == 200, body
        while body["hits"]["hits"]:
            for h in body["hits"]["hits"]:
                m = h["_source"]["message"]
                seqs.append(int(m.split("seq=")[1].split()[0]))
            st, body = es("POST", "/_search/scroll",
                          {"scroll": "1m", "scroll_id": body["_scroll_id"]})
            assert st == 200, body
        missing = sorted(set(range(written)) - set(seqs))
        twice = len(seqs) - len(set(seqs))
        dead = redis_cli(rport, "XLEN", f"{PREFIX}:dead")
        log(f"Elasticsearch holds {got} documents for {written} lines; "
            f"{len(missing)} missing, {twice} twice, {dead} dead letters; "
            f"starts: shipper {shipper.starts}, indexer {indexer.starts}, "
            f"redis {redis.starts}")
        assert not missing, (f"{len(missing)} lines never indexed, such as "
                             f"seq {missing[:10]}")
        assert twice == 0, f"{twice} lines indexed twice"
        assert got == written, f"{got} documents for {written} lines"
        assert dead == "0", f"{dead} dead letters"
        # and the pipeline drained: Redis holds nothing unacknowledged
        pending = redis_cli(rport, "XPENDING", key, "crash").split()
        assert pending and pending[0] == "0", f"pending: {pending}"
        assert shipper.stop() == 0, "shipper: SIGTERM did not exit 0"
        assert indexer.stop() == 0, "indexer: SIGTERM did not exit 0"
    except BaseException:
        for d in (shipper, indexer, redis):
            print(f"--- {d.name}'s output (last 3000 bytes) ---\n"
                  f"{d.output()[-3000:]}", flush=True)
        raise
    finally:
        w.stop_at = 0
        for d in (shipper, indexer, redis):
            if d.alive():
                d.p.kill()
                d.p.wait()
        es_drop(ES, PREFIX)
    print("ok   whole pipeline: every line once through kill -9 of the "
          "shipper, the indexer, Redis" + (" and Elasticsearch" if KILL_ES
                                           else "") +
          ", and every kind of rotation")


if __name__ == "__main__":
    main()
