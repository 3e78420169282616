#!/usr/bin/env python3
"""The whole pipeline's promise (README, Guarantees), checked at random:
sluice-shipper -> Redis (append-only file on) -> sluice-indexer ->
Elasticsearch, while an application writes numbered lines and Python
tracebacks (multiline preset) into a log that is rotated (rename and
create, copytruncate) and the shipper and the indexer are killed with -9
at random moments, several times each, Redis is killed with -9 and
started again from its append-only file, and Elasticsearch (with
--kill-es) is killed and started again once. At the end each line or
traceback written is one document, whole (a traceback never split in
two, never half of it plus all of it), `_count` equals what was
written, and both daemons' /metrics agree with what arrived.

Cases:
- random_chaos: the above, for SLUICE_CHAOS_SECONDS (default 20); the
  schedule comes from SLUICE_CHAOS_SEED (default: random), printed at
  the start and on failure, so a failing run is replayed with it.
- traceback_through_kill9: a traceback half written when the shipper is
  killed with -9 (after it read that half); the rest written while it
  is down: one event, whole.
- java_trace_through_copytruncate: a Java stack trace written, then the
  file copied and truncated before the shipper completed the event
  (multiline timeout not reached), the shipper killed with -9 and
  started again: one event, whole, not one from the copy too.
- timeout_cut_traceback_through_kill9: a traceback whose first half
  multiline.timeout shipped alone, the shipper killed with -9 before its
  registry saved that, the rest written meanwhile: the restart cuts
  where the first run did (the cut was in the registry before the half
  was sent), so the half and the rest are each indexed, every line.

The test starts its own redis-server (port on loopback, killed by pid)
and uses tests/run's Elasticsearch: SLUICE_TEST_ES_URL, or with
--kill-es the restartable node (SLUICE_TEST_ES_RESTART_URL).

usage: test_chaos_pipeline.py SLUICE_SHIPPER SLUICE_INDEXER CONF_DIR [--kill-es]
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, case, eq, es_drop, es_request,  # noqa: E402
                             failures, free_port, parse_metrics, metric_sum,
                             tmp_dir)
from pipeline_harness import Daemon, redis_cli  # noqa: E402

SHIPPER, INDEXER, CONF = sys.argv[1:4]
KILL_ES = sys.argv[4:5] == ["--kill-es"]
ES_VAR = "SLUICE_TEST_ES_RESTART_URL" if KILL_ES else "SLUICE_TEST_ES_URL"
ES = shipper_harness.need(ES_VAR).rstrip("/")
ES_RESTART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "lib", "es_restart.sh")
SECONDS = float(os.environ.get("SLUICE_CHAOS_SECONDS", "20"))
RATE = int(os.environ.get("SLUICE_CHAOS_RATE", "600"))
SEED = int(os.environ.get("SLUICE_CHAOS_SEED") or random.randrange(1 << 31))
DEADLINE_S = 120
PREFIX = f"sluicechaos-{os.getpid()}"
TMP = tmp_dir("sluice-chaos-")


def log(msg):
    print(f"# {time.strftime('%H:%M:%S')} {msg}", flush=True)


def wait_for(what, fn, timeout=DEADLINE_S, every_s=0.05):
    return shipper_harness.wait_for(what, fn, timeout, every_s)


def es(method, path, body=None):
    return es_request(ES, method, path, body)


class Proc(Daemon):
    """A process of this test (pipeline_harness.Daemon) with its
    /metrics on port."""

    def __init__(self, name, argv, port=None):
        super().__init__(name, argv, TMP)
        self.port = port

    def metrics(self):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                return parse_metrics(r.read().decode())
        except OSError:
            return None

    def metric(self, name):
        m = self.metrics()
        return None if m is None else int(metric_sum(m, name))


class Stack:
    """Redis (append-only file, fsync always), the shipper (a file input
    with a multiline preset, /metrics) and the indexer (/metrics) of one
    case, in TMP/NAME; Elasticsearch indices PREFIX-NAME-*."""

    def __init__(self, name, preset, multiline_timeout="1s"):
        self.name, self.dir = name, os.path.join(TMP, name)
        self.logs = os.path.join(self.dir, "logs")
        os.makedirs(self.logs)
        self.index = f"{PREFIX}-{name}"
        rdir = os.path.join(self.dir, "redis")
        os.makedirs(rdir)
        self.rport = free_port()
        self.redis = Proc(name + "-redis", [
            "redis-server", "--port", str(self.rport), "--bind",
            "127.0.0.1", "--dir", rdir, "--save", "", "--appendonly", "yes",
            "--appendfsync", "always"])
        url = f"redis://127.0.0.1:{self.rport}/0"
        self.key = f"{PREFIX}:{name}"
        sport, iport = free_port(), free_port()
        sconf = self.write("shipper.json", {
            "host": {"name": "chaos-host"},
            "data_dir": os.path.join(self.dir, "data"),
            "inputs": [{"type": "file",
                        "paths": [os.path.join(self.logs, "app.log*")],
                        "scan_interval": "200ms", "rotate_wait": "2s",
                        "multiline": {"preset": preset,
                                      "timeout": multiline_timeout}}],
            "output": {"redis": {"url": url, "key": self.key,
                                 "batch_age": "50ms"}},
            "http": {"listen": f"127.0.0.1:{sport}"}})
        with open(os.path.join(CONF, "elasticsearch",
                               "sluice-template.json")) as f:
            t = json.load(f)
        t["index_patterns"] = [self.index + "-*"]
        t["priority"] = t.get("priority", 0) + 11
        template = self.write("template.json", t)
        iconf = self.write("indexer.json", {
            "redis": {"url": url, "key": self.key, "group": "chaos",
                      "consumer": "chaos-idx", "claim_idle": "2s",
                      "dead_key": self.key + ":dead", "block": "200ms"},
            "elasticsearch": {"hosts": [ES],
                              "index": self.index + "-%{+yyyy.MM.dd}",
                              "template_name": self.index,
                              "flush_age": "100ms"},
            "http": {"listen": f"127.0.0.1:{iport}"}})
        self.redis.start()
        wait_for("redis-server", self.redis_up, 10)
        p = subprocess.run([INDEXER, "-c", iconf, "setup"],
                           capture_output=True, timeout=60,
                           env=dict(ENV, SLUICE_TEMPLATE_FILE=template))
        assert p.returncode == 0, f"setup: {p.stderr.decode()}"
        self.shipper = Proc(name + "-shipper",
                            [SHIPPER, "-c", sconf, "run"], sport)
        self.indexer = Proc(name + "-indexer",
                            [INDEXER, "-c", iconf, "run"], iport)
        self.shipper.start()
        self.indexer.start()
        self.app = os.path.join(self.logs, "app.log")

    def write(self, name, obj):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def redis_up(self):
        return redis_cli(self.rport, "ping") == "PONG"

    def restart_redis(self):
        self.redis.kill9()
        self.redis.start()
        wait_for("redis-server again", self.redis_up, 20)

    def count(self):
        es("POST", f"/{self.index}-*/_refresh")
        st, body = es("GET", f"/{self.index}-*/_count")
        return body["count"] if st == 200 else -1

    def messages(self):
        """Every document's message, in one scroll."""
        es("POST", f"/{self.index}-*/_refresh")
        st, body = es("POST", f"/{self.index}-*/_search?scroll=1m",
                      {"size": 5000, "_source": ["message"],
                       "sort": ["_doc"]})
        assert st == 200, body
        got = []
        while body["hits"]["hits"]:
            got += [h["_source"]["message"] for h in body["hits"]["hits"]]
            st, body = es("POST", "/_search/scroll",
                          {"scroll": "1m", "scroll_id": body["_scroll_id"]})
            assert st == 200, body
        es("DELETE", "/_search/scroll", {"scroll_id": body["_scroll_id"]})
        return got

    def caught_up(self, want):
        """Waits until Elasticsearch holds want documents (or no progress
        for 45 s); the count."""
        last = [-2, time.monotonic()]

        def done():
            n = self.count()
            if n != last[0]:
                last[:] = [n, time.monotonic()]
            return n >= want or time.monotonic() - last[1] > 45
        wait_for(f"{want} documents", done, 240)
        return self.count()

    def check_once(self, want, splits_allowed=False):
        """want: {seq: message}. Each exactly once, whole; _count equal;
        no dead letter; nothing pending in Redis. splits_allowed: a
        traceback being read when copytruncate emptied its file may be
        two documents, its head and the rest (README: what is not
        guaranteed), each once, nothing lost."""
        got = self.caught_up(len(want))
        msgs = self.messages()
        seen = {}
        bad = []
        for m in msgs:
            try:
                s = int(m.split("seq=")[1].split()[0])
            except (IndexError, ValueError):
                bad.append(m)
                continue
            seen.setdefault(s, []).append(m)
        missing = sorted(set(want) - set(seen))
        twice = sorted(s for s, v in seen.items() if len(v) > 1)
        wrong = sorted(s for s, v in seen.items()
                       if s in want and v[0] != want[s])
        extra = sorted(set(seen) - set(want))
        split = []
        for s in list(wrong) if splits_allowed else []:
            rest = want[s][len(seen[s][0]) + 1:]
            if want[s].startswith(seen[s][0] + "\n") and rest in bad:
                wrong.remove(s)
                bad.remove(rest)
                split.append(s)
        dead = redis_cli(self.rport, "XLEN", self.key + ":dead")
        log(f"{self.name}: {got} documents for {len(want)} events: "
            f"{len(missing)} missing, {len(twice)} twice, {len(wrong)} not "
            f"whole, {len(bad)} without a seq, {dead} dead letters, "
            f"{len(split)} split in two, nothing lost {split[:5]}")
        if wrong:
            s = wrong[0]
            log(f"seq {s} as indexed: {seen[s][0]!r}\n  written: {want[s]!r}")
        if bad:
            log(f"a document without seq: {bad[0]!r}")
        eq((missing[:10], twice[:10], wrong[:10], bad[:3], extra[:10]),
           ([], [], [], [], []),
           "events (missing, twice, not whole, no seq, not written)")
        eq(got, len(want) + len(split), "_count")
        eq(dead, "0", "dead letters")
        pending = redis_cli(self.rport, "XPENDING", self.key, "chaos")
        eq(pending.split()[:1], ["0"], "entries pending in Redis")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        """A case's end: each process's output shown if it failed, then
        every process killed."""
        if kind is not None:
            self.dump()
        self.close()

    def close(self):
        for d in (self.shipper, self.indexer, self.redis):
            if d.alive():
                d.p.kill()
                d.p.wait()

    def dump(self):
        for d in (self.shipper, self.indexer, self.redis):
            print(f"--- {d.name}'s output (last 3000 bytes) ---\n"
                  f"{d.output()[-3000:]}", flush=True)


# --- what the application writes ----------------------------------------

def plain(seq):
    return (f"2026-12-05 09:00:00,000 seq={seq} level=info user=u{seq % 97}"
            f" path=/api/v1/items/{seq % 1009} took={seq % 300}ms")


def traceback(seq):
    """A Python traceback event: its first line and the rest."""
    head = (f"2026-12-05 09:00:00,000 seq={seq} level=error "
            f"unhandled error in request {seq}\n"
            f"Traceback (most recent call last):\n"
            f'  File "/srv/app/handlers.py", line {seq % 500}, in handle\n'
            f"    return self.dispatch(request)\n")
    rest = (f'  File "/srv/app/db.py", line 88, in dispatch\n'
            f"    raise ValueError(f'bad item {{item}}')\n"
            f"ValueError: bad item {seq}\n")
    return head, rest


def java_trace(seq):
    head = (f"2026-12-05 09:00:00,000 seq={seq} ERROR [main] "
            f"com.example.Api - request failed\n"
            f"java.lang.IllegalStateException: item {seq} is locked\n"
            f"\tat com.example.Store.lock(Store.java:41)\n"
            f"\tat com.example.Api.handle(Api.java:118)\n")
    rest = (f"Caused by: java.io.IOException: timeout\n"
            f"\tat com.example.Net.read(Net.java:7)\n"
            f"\t... 2 more\n")
    return head, rest


class Writer(threading.Thread):
    """The application: lines at RATE a second through an open
    descriptor, one traceback in every 25 events (its two halves written
    apart, 0-20 ms between them); want holds every event written,
    message as it must be indexed (seq -> text without the last
    newline)."""

    def __init__(self, path, rng):
        super().__init__(daemon=True)
        self.path, self.rng, self.lock = path, rng, threading.Lock()
        self.f = open(path, "ab", buffering=0)
        self.want, self.n, self.stop_at = {}, 0, None

    def event(self):
        """Writes the next event (lock held by the caller)."""
        s = self.n
        self.n += 1
        if s % 25 == 7:
            head, rest = traceback(s)
            self.f.write(head.encode())
            time.sleep(self.rng.random() * 0.02)
            self.f.write(rest.encode())
            self.want[s] = (head + rest)[:-1]
        else:
            self.f.write((plain(s) + "\n").encode())
            self.want[s] = plain(s)

    def run(self):
        t0 = time.monotonic()
        done = 0
        while self.stop_at is None or time.monotonic() < self.stop_at:
            due = int((time.monotonic() - t0) * RATE)
            with self.lock:
                while done < due:
                    self.event()
                    done += 1
            time.sleep(0.01)

    def reopen(self):
        with self.lock:
            self.f.close()
            self.f = open(self.path, "ab", buffering=0)

    def rename(self, to):
        """logrotate's create: renamed; the application writes on into
        the renamed file until it reopens its path (a few ms later)."""
        os.rename(self.path, to)
        time.sleep(self.rng.random() * 0.3)
        self.reopen()

    def copytruncate(self, to):
        """logrotate's copytruncate, the writer held between the copy and
        the truncate (a line written there is lost by copytruncate
        itself: README, Guarantees)."""
        with self.lock:
            shutil.copyfile(self.path, to)
            os.truncate(self.path, 0)


def shipper_read(st, nbytes):
    """True once the shipper read app.log up to offset nbytes (its
    /status row's "read")."""
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{st.shipper.port}/status", timeout=5) as r:
            rows = json.loads(r.read())["files"]
    except OSError:
        return False
    return any(f["path"] == st.app and (f.get("read") or 0) >= nbytes
               for f in rows)


ACTIONS = ["shipper", "shipper", "indexer", "both", "rename",
           "copytruncate", "midtb", "down-rename", "down-copytruncate",
           "redis-and-shipper"]


def schedule(rng):
    """The run's actions from the seed alone: (pause before it in s,
    action, how long the daemons stay down in s); Redis once, and
    Elasticsearch once with --kill-es, at random places among them."""
    steps, t = [], 0.0
    while t < SECONDS:
        pause = rng.uniform(0.2, 1.2)
        steps.append((pause, rng.choice(ACTIONS), rng.uniform(0.0, 0.8)))
        t += pause
    n = len(steps)
    steps.insert(rng.randrange(n // 4, 3 * n // 4), (0.5, "redis", 0.0))
    if KILL_ES:
        steps.insert(rng.randrange(n // 5, n // 2), (0.5, "es", 0.0))
    return steps


def half_traceback_kill9(st, w):
    """A traceback's first half written, the shipper killed with -9 once
    it read it, the rest written while it is down."""
    with w.lock:
        s = w.n
        w.n += 1
        head, rest = traceback(s)
        w.f.write(head.encode())
        size = os.fstat(w.f.fileno()).st_size
        w.want[s] = (head + rest)[:-1]
        try:
            wait_for("the half read", lambda: shipper_read(st, size), 5)
        except AssertionError:
            # not read in 5 s (a backlog): the multiline timeout may have
            # shipped the half alone by the time it is, rightly
            w.f.write(rest.encode())
            return False
        st.shipper.kill9()
        w.f.write(rest.encode())
    st.shipper.start()
    return True


def counters(st):
    """Events the shipper read and shipped, the indexer read and indexed
    (their /metrics, this life of each)."""
    return (st.shipper.metric("sluice_shipper_events_total"),
            st.shipper.metric("sluice_output_events_total"),
            st.indexer.metric("sluice_input_events_total"),
            st.indexer.metric('sluice_es_events_total{outcome="done"}'))


@case
def random_chaos():
    rng = random.Random(SEED)
    log(f"seed {SEED} (SLUICE_CHAOS_SEED={SEED} replays this schedule), "
        f"{SECONDS:.0f} s at {RATE} lines/s")
    steps = schedule(rng)
    # 3 s: far more than a kill takes after the half is read (the
    # machine may be loaded), so no timeout cuts a traceback here
    st = Stack("chaos", "python", multiline_timeout="3s")
    w = Writer(st.app, random.Random(SEED + 1))
    es_back = None
    try:
        w.start()
        t0 = time.monotonic()
        rot = 0
        done = []
        for pause, what, down in steps:
            time.sleep(pause)
            if what == "redis":
                st.restart_redis()
            elif what == "redis-and-shipper":
                # both down; the shipper back first, with Redis still down
                st.redis.kill9()
                st.shipper.kill9()
                st.shipper.start()
                time.sleep(down)
                st.redis.start()
                wait_for("redis-server again", st.redis_up, 20)
            elif what == "es":
                subprocess.run([ES_RESTART, "kill"], check=True, timeout=30)

                def back():
                    subprocess.run([ES_RESTART, "start"], check=True,
                                   timeout=180, stdout=subprocess.DEVNULL)
                es_back = threading.Thread(target=back)
                es_back.start()
            elif what in ("shipper", "indexer", "both"):
                if what in ("shipper", "both"):
                    st.shipper.kill9()
                if what in ("indexer", "both"):
                    st.indexer.kill9()
                time.sleep(down)
                if not st.shipper.alive():
                    st.shipper.start()
                if not st.indexer.alive():
                    st.indexer.start()
            elif what == "midtb":
                if not half_traceback_kill9(st, w):
                    what = "midtb(not read in time)"
            else:
                # logrotate's names: app.log.N to .N+1, then app.log to .1
                rot += 1
                for i in range(rot - 1, 0, -1):
                    os.rename(f"{st.app}.{i}", f"{st.app}.{i + 1}")
                to = f"{st.app}.1"
                if what.startswith("down-"):
                    st.shipper.kill9()
                w.rename(to) if what.endswith("rename") else \
                    w.copytruncate(to)
                if what.startswith("down-"):
                    time.sleep(down)
                    st.shipper.start()
            done.append(f"{what}@{time.monotonic() - t0:.1f}")
        w.stop_at = 0
        w.join()
        if es_back is not None:
            es_back.join()
        for d in (st.shipper, st.indexer):
            if not d.alive():
                d.start()
        log(f"{w.n} events written; done: {' '.join(done)}")
        st.check_once(w.want)
        # the last lives of both daemons, reconciled on a quiet tail: a
        # batch of events more, each counted once by each
        before = counters(st)
        tail = 200
        with w.lock:
            for _ in range(tail):
                w.event()
        st.check_once(w.want)
        after = counters(st)
        eq([a - b for a, b in zip(after, before)], [tail] * 4,
           "metrics' growth over the tail (shipper read, shipped; "
           "indexer read, indexed)")
        eq(after[0], after[1], "shipper: events read == events shipped")
        eq(st.indexer.metric('sluice_es_events_total{outcome="dead"}'), 0,
           "indexer: dead events")
        eq(st.indexer.metric("sluice_dead_letters_written_total"), 0,
           "indexer: dead letters")
        eq(st.shipper.metric("sluice_shipper_events_dropped_total"), 0,
           "shipper: events dropped")
        eq((st.shipper.stop(), st.indexer.stop()), (0, 0),
           "exit status on SIGTERM (shipper, indexer)")
        log(f"seed {SEED}: shipper killed {st.shipper.kills}x, indexer "
            f"{st.indexer.kills}x, redis {st.redis.kills}x")
    except BaseException:
        print(f"# seed {SEED}: replay with SLUICE_CHAOS_SEED={SEED}",
              flush=True)
        st.dump()
        raise
    finally:
        w.stop_at = 0
        if es_back is not None:
            es_back.join()
        st.close()


@case
def traceback_through_kill9():
    """Half a traceback read, the shipper killed with -9, the rest
    written while it is down: one event, whole. Three times in a row."""
    with Stack("tb", "python", multiline_timeout="1s") as st:
        want = {}
        with open(st.app, "ab", buffering=0) as f:
            for s in range(3):
                f.write((plain(100 + s) + "\n").encode())
                want[100 + s] = plain(100 + s)
                head, rest = traceback(s)
                f.write(head.encode())
                size = os.fstat(f.fileno()).st_size
                wait_for("the half read", lambda: shipper_read(st, size), 30)
                st.shipper.kill9()
                f.write(rest.encode())
                want[s] = (head + rest)[:-1]
                st.shipper.start()
            f.write((plain(200) + "\n").encode())
            want[200] = plain(200)
        st.check_once(want)


@case
def java_trace_through_copytruncate():
    """A Java trace written; before the shipper completed the event (its
    multiline timeout, 3 s, not reached) the file is copied to app.log.1
    and truncated, the shipper killed with -9 and started again, more
    written: each event once, whole (the trace not from the copy too)."""
    with Stack("java", "java", multiline_timeout="3s") as st:
        want = {}
        with open(st.app, "ab", buffering=0) as f:
            f.write((plain(0) + "\n").encode())
            want[0] = plain(0)
            head, rest = java_trace(1)
            f.write((head + rest).encode())
            want[1] = (head + rest)[:-1]
            size = os.fstat(f.fileno()).st_size
            wait_for("the trace read", lambda: shipper_read(st, size), 30)
            shutil.copyfile(st.app, st.app + ".1")
            os.truncate(st.app, 0)
            st.shipper.kill9()
            st.shipper.start()
            head, rest = java_trace(2)
            f.write((plain(3) + "\n" + head + rest + plain(4) + "\n")
                    .encode())
            want[2] = (head + rest)[:-1]
            want[3] = plain(3)
            want[4] = plain(4)
        st.check_once(want)


@case
def timeout_cut_traceback_through_kill9():
    """A traceback cut by multiline.timeout (its first half shipped
    alone), the shipper killed with -9 before its registry saved that
    (here: Redis stopped until the shipper is dead, so the half is in the
    stream and the shipper never heard it; without that, any kill within
    the registry's save interval, 1 s), the rest written before it starts
    again: it reads from the half's offset again and cuts where the
    first run did (the registry kept the cut), so Elasticsearch has the
    half (sent twice under its id: a 409) and the rest, every line (it
    joined the whole under the half's id, and lost the rest, before the
    registry kept cuts)."""
    with Stack("cut", "python", multiline_timeout="1s") as st:
        with open(st.app, "ab", buffering=0) as f:
            f.write((plain(0) + "\n").encode())
            st.caught_up(1)
            head, rest = traceback(1)
            f.write(head.encode())
            size = os.fstat(f.fileno()).st_size
            wait_for("the half read", lambda: shipper_read(st, size), 30)
            out = st.shipper.metric("sluice_output_events_total")
            st.redis.p.send_signal(signal.SIGSTOP)
            wait_for("the half cut by the timeout",
                     lambda: st.shipper.metric(
                         "sluice_shipper_events_total") == out + 1, 10)
            time.sleep(0.2)  # its batch written to Redis's socket
            st.shipper.kill9()
            st.redis.p.send_signal(signal.SIGCONT)
            f.write((rest + plain(2) + "\n").encode())
            st.shipper.start()
        # the half and then the rest as events of their own: every line
        # in exactly one document, the half one of them
        want = (plain(0) + "\n" + head + rest + plain(2)).splitlines()

        def indexed():
            lines = [ln for m in st.messages() for ln in m.split("\n")]
            return all(ln in lines for ln in want) and lines
        lines = wait_for("every line indexed", indexed, 60, 0.5)
        eq(sorted(lines), sorted(want), "each line in one document")
        eq(st.messages().count(head[:-1]), 1, "the half, a document")


def main():
    es_drop(ES, PREFIX)
    if failures:
        print(f"FAILED: {', '.join(failures)} (seed {SEED})", flush=True)
        return 1
    return 0


sys.exit(main())
