#!/usr/bin/env python3
"""`sluice-shipper run` when Redis misbehaves, end to end: the real daemon
against redis-server processes this test starts itself. Each case says
what it proves; each checks exactly what arrived (the stream's entries
decoded, format 2 of common/sl_batch.h, or the list's elements) against
what was written.

- Redis killed -9 while lines are written at a steady rate, restarted on
  the same port from its append-only file (`appendfsync always`: what it
  acknowledged survives, so a missing line is the shipper's fault):
  nothing lost, a line twice only with the same id and content, memory
  flat, the outage logged in a few lines and counted once.
  SLUICE_E2E_OUTAGE_S sets the outage (default 4 s; the issue's 20 s:
  SLUICE_E2E_OUTAGE_S=20).
- Redis at maxmemory with noeviction: reading stops, said once, counted;
  maxmemory raised: every line once.
- output.redis.max_pending and max_pending_bytes hold; consuming resumes.
- a wrong password: said with what to fix, never the password; fixed on the
  server: every line once.
- list mode read back as Logstash's redis input with the json codec would.
- kill -9 of the shipper three times while files rotate: nothing lost,
  only lines at or after the registry's offset at a kill sent again, with
  the same id.
- SIGTERM with Redis down: exit 0 within the grace period, the registry
  holds only what Redis acknowledged.
- the registry's disk full: the daemon keeps shipping, says so once, saves
  once there is room again.

usage: test_shipper_redis_failures.py SLUICE_SHIPPER
       (SLUICE_E2E_ONLY=name,name runs only those cases)
"""
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (DEADLINE_S, ENV, Redis, Shipper,  # noqa: E402
                             append, at_least_once_same_ids, case, eq,
                             exactly_once, failures, free_port, http_port,
                             redis_output, registry_offsets, scratch,
                             wait_for, write_config)

SHIPPER = sys.argv[1]
OUTAGE_S = float(os.environ.get("SLUICE_E2E_OUTAGE_S", "4"))
KEY = "e2e:events"
ASAN = b"libasan" in subprocess.run(["ldd", SHIPPER],
                                    capture_output=True).stdout
TMP = shipper_harness.tmp_dir("sluice-e2e-redis-")  # SLUICE_E2E_TMP: kept
run_once = functools.partial(shipper_harness.run_once, SHIPPER)


def lines_matching(text, *words):
    return [l for l in text.splitlines() if all(w in l for w in words)]


class Writer(threading.Thread):
    """Appends `per_tick` lines of about `width` bytes to path every 20 ms
    until stopped; .lines is what it wrote."""

    def __init__(self, path, per_tick, width):
        super().__init__(daemon=True)
        self.path, self.per_tick, self.width = path, per_tick, width
        self.lines = []
        self.halt = threading.Event()

    def run(self):
        pad = "p" * self.width
        with open(self.path, "a") as f:
            while not self.halt.is_set():
                n = len(self.lines)
                batch = [f"w{n + i} {pad}" for i in range(self.per_tick)]
                f.write("".join(l + "\n" for l in batch))
                f.flush()
                self.lines.extend(batch)
                self.halt.wait(0.02)

    def stop(self):
        self.halt.set()
        self.join()
        return self.lines


# --- Redis goes away and comes back ----------------------------------------

@case
def redis_killed_then_restarted_loses_nothing_and_memory_stays_flat():
    d = scratch(TMP, "outage")
    r = Redis(aof=os.path.join(d, "redis"))
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        open(log, "w").close()
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_events=500,
                                         batch_age="50ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        # about 1.2 MB/s: 40 lines of 600 bytes every 20 ms
        w = Writer(log, 40, 600)
        w.start()
        wait_for("events shipped", lambda: sh.metric(
            "sluice_output_events_total") >= 2000)
        rss_before = sh.memory_kib()[0]
        # stopped first, so batches are in flight when it dies: they are
        # lost with the connection and sent again (retries)
        r.proc.send_signal(signal.SIGSTOP)
        wait_for("a batch in flight", lambda: sh.metric(
            "sluice_output_outbox_batches") >= 1)
        r.kill()
        t_down = time.monotonic()
        rss_during = rss_before
        read_at_kill = None
        while time.monotonic() - t_down < OUTAGE_S:
            rss_during = max(rss_during, sh.memory_kib()[0])
            if read_at_kill is None and time.monotonic() - t_down > 1:
                read_at_kill = sh.total("sluice_input_bytes_read_total")
            time.sleep(0.1)
        read_late = sh.total("sluice_input_bytes_read_total")
        written_down = sum(len(l) + 1 for l in w.lines)
        r.start()
        t_up = time.monotonic()
        time.sleep(0.5)  # lines written after Redis is back too
        want = w.stop()
        wait_for("every line shipped", lambda: sh.metric(
            "sluice_output_events_total") >= len(want))
        caught_up = time.monotonic() - t_up
        rss_after, hwm = sh.memory_kib()
        m = sh.metrics()
        eq(sh.term(), 0, "exit after SIGTERM")
        got = r.events(KEY)
        dups = at_least_once_same_ids(got, want, "after the outage")
        # a duplicate is a batch Redis wrote whose reply was lost in the
        # kill: at most max_in_flight (4) batches of 500
        if dups > 4 * 500:
            raise AssertionError(f"{dups} lines twice")
        # the files are the buffer: nothing read while Redis was down
        eq(read_late, read_at_kill, "bytes read while Redis was down")
        # after: the catch-up's batches (the outbox bounds them); under
        # ASan, freed memory sits in its quarantine: only "during" holds
        if rss_during - rss_before > 2048 or \
                (rss_after - rss_before > 8192 and not ASAN):
            raise AssertionError(f"RSS {rss_before} KiB before, "
                                 f"{rss_during} during, {rss_after} after")
        eq(m.get("sluice_output_disconnects_total"), 1.0, "disconnects")
        if not m.get("sluice_output_retries_total", 0) >= 1:
            raise AssertionError(f"retries: {m}")
        text = sh.text()
        url = f"127.0.0.1:{r.port}"
        said = [l for l in lines_matching(text, url)
                if " warn " in l or " error " in l]
        # the loss and the first refused attempt; not each attempt
        if len(said) != 2 or "connection lost" not in said[0] or \
                "Connection refused" not in said[1]:
            raise AssertionError(f"the outage took {len(said)} lines:\n"
                                 + "\n".join(said))
        back = lines_matching(text, url, "ready again after")
        eq(len(back), 1, f"the end of the outage said; log:\n{text}")
        said += back
        print(f"     outage {OUTAGE_S:.0f} s: {len(want)} lines, "
              f"{written_down >> 10} KiB written, {dups} twice; RSS "
              f"{rss_before} KiB before, {rss_during} during, {rss_after} "
              f"after (peak {hwm}); caught up {caught_up:.1f} s after the "
              f"restart; retries {m.get('sluice_output_retries_total')}, "
              f"disconnects {m.get('sluice_output_disconnects_total')}; "
              f"log:\n       " + "\n       ".join(said), flush=True)
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def sigterm_with_redis_down_exits_in_the_grace_period_saving_acked_only():
    d = scratch(TMP, "termdown")
    r = Redis(aof=os.path.join(d, "redis"))
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        a = [f"a {i}" for i in range(100)]
        append(log, a)
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        reg = os.path.join(d, "data", "registry.json")
        acked = os.path.getsize(log)
        wait_for("the registry saved", lambda: registry_offsets(reg).get(
            os.stat(log).st_ino) == acked)
        r.proc.send_signal(signal.SIGSTOP)  # reads nothing from now on
        b = [f"b {i}" for i in range(100)]
        append(log, b)
        wait_for("b read", lambda: sh.metric(
            "sluice_shipper_lines_total") == 200)
        time.sleep(0.1)  # the batch is sealed after 20 ms and written
        r.kill()  # killed while stopped: it never saw the batch
        t0 = time.monotonic()
        rc = sh.term(timeout=30)
        took = time.monotonic() - t0
        eq(rc, 0, f"exit after SIGTERM; log: {sh.text()}")
        if took > 10 + 1.5:
            raise AssertionError(f"stopped after {took:.1f} s")
        eq(registry_offsets(reg).get(os.stat(log).st_ino), acked,
           "the registry: only what Redis acknowledged")
        r.start()
        run_once(conf)
        exactly_once(r.events(KEY), a + b, "after the restart")
    finally:
        if sh:
            sh.kill()
        r.kill()


# --- Redis refuses ---------------------------------------------------------

@case
def redis_at_maxmemory_holds_the_shipper_and_nothing_is_lost():
    d = scratch(TMP, "oom")
    r = Redis()
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        first = [f"first {i}" for i in range(1000)]
        append(log, first)
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_events=200,
                                         batch_age="20ms", max_in_flight=2),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        wait_for("first lines", lambda: sh.metric(
            "sluice_output_events_total") == 1000)
        r.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
        r.cmd("CONFIG", "SET", "maxmemory", "1")
        more = [f"more {i} " + "m" * 80 for i in range(30000)]
        append(log, more)
        oom = 'sluice_output_error_replies_total{reason="oom"}'
        wait_for("an OOM reply", lambda: sh.metric(oom) >= 1)
        # the shipper stops reading: what it read stays put, far from the
        # end of the file
        time.sleep(0.5)
        read = sh.metric("sluice_shipper_lines_total")
        wait_for("reading held", lambda: sh.metric(
            "sluice_output_retries_total") >= 3)
        eq(sh.metric("sluice_shipper_lines_total"), read, "lines read")
        # read: at most the outbox (2 batches), the batch being filled and
        # the chunk being framed
        if read - 1000 > 4 * 200 + 1000:
            raise AssertionError(f"{read - 1000} lines read while held")
        eq(sh.metric("sluice_output_holds_total"), 1.0, "holds")
        eq(r.cmd("XLEN", KEY), 5, "entries")
        r.cmd("CONFIG", "SET", "maxmemory", "0")
        wait_for("every line", lambda: sh.metric(
            "sluice_output_events_total") == 31000)
        eq(sh.term(), 0, "exit")
        # an OOM reply writes nothing: not even the allowed duplicates
        exactly_once(r.events(KEY), first + more, "after maxmemory")
        text = sh.text()
        eq(len(lines_matching(text, "OOM", "maxmemory")), 1,
           f"the OOM said once; log:\n{text}")
        eq(len(lines_matching(text, "accepts batches again")), 1,
           f"the end of it said once; log:\n{text}")
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def max_pending_entries_and_bytes_hold_and_consuming_resumes():
    for limit in ({"max_pending": 3}, {"max_pending": 0,
                                        "max_pending_bytes": "48KiB"}):
        d = scratch(TMP, "pending" + str(len(limit)))
        r = Redis()
        sh = None
        try:
            log = os.path.join(d, "logs", "app.log")
            want = [f"p {i} " + "q" * 100 for i in range(1500)]
            append(log, want)
            port = http_port()
            conf = write_config(d, [{"type": "file", "paths": [log]}],
                                redis_output(r, batch_events=100,
                                             batch_age="20ms",
                                             max_in_flight=2, **limit),
                                {"http": {"listen": f"127.0.0.1:{port}"}})
            sh = Shipper(SHIPPER, ENV, conf, d, port)
            wait_for("a hold", lambda: sh.metric(
                "sluice_output_pending_holds_total") >= 1)
            time.sleep(0.3)
            held = r.cmd("XLEN", KEY)
            mem = r.cmd("MEMORY", "USAGE", KEY)
            read = sh.metric("sluice_shipper_lines_total")
            # past the limit by at most the batches in flight (2)
            if "max_pending_bytes" in limit:
                entry = mem / held
                if mem > 48 * 1024 + 2 * entry:
                    raise AssertionError(f"{mem} bytes in {held} entries")
            elif not 3 <= held <= 5:
                raise AssertionError(f"{held} entries")
            if read >= 1500:
                raise AssertionError("read to the end while held")
            got, most = [], 0
            end = time.monotonic() + DEADLINE_S
            while len(got) < 1500 and time.monotonic() < end:
                most = max(most, r.cmd("XLEN", KEY))
                got += r.events(KEY, delete=True)
                time.sleep(0.05)
            exactly_once(got, want, f"with {limit}")
            if "max_pending_bytes" not in limit and most > 5:
                raise AssertionError(f"{most} entries pending")
            text = sh.text()
            eq(sh.term(), 0, "exit")
            said = lines_matching(text, "at its limit")
            if not said or "max_pending" not in said[0]:
                raise AssertionError(f"log:\n{text}")
        finally:
            if sh:
                sh.kill()
            r.kill()


@case
def a_wrong_password_is_said_plainly_never_logged_and_loses_nothing():
    d = scratch(TMP, "password")
    r = Redis(password="the-right-one")
    sh = None
    secret = "s3cret-Wr0ng-77"
    try:
        log = os.path.join(d, "logs", "app.log")
        want = [f"pw {i}" for i in range(3000)]
        append(log, want)
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, password=secret,
                                         batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        wait_for("the refusal said", lambda: lines_matching(
            sh.text(), "WRONGPASS"))
        time.sleep(1)  # a few attempts more
        eq(sh.metric("sluice_shipper_lines_total"), 0.0, "lines read")
        r.cmd("CONFIG", "SET", "requirepass", secret)
        wait_for("every line", lambda: sh.metric(
            "sluice_output_events_total") == 3000)
        status = sh.metrics()
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), want, "once the password is right")
        text = sh.text()
        if secret in text or secret in json.dumps(status):
            raise AssertionError(f"the password in the log:\n{text}")
        said = lines_matching(text, "WRONGPASS")
        if len(said) != 1 or "output.redis.url" not in said[0]:
            raise AssertionError("the refusal:\n" + "\n".join(said))
    finally:
        if sh:
            sh.kill()
        r.kill()


# --- list mode -------------------------------------------------------------

@case
def list_mode_reads_back_as_logstash_json_codec_would():
    d = scratch(TMP, "list")
    r = Redis()
    try:
        log = os.path.join(d, "logs", "app.log")
        want = [f"list {i} \u00e9" for i in range(1234)]
        append(log, want)
        conf = write_config(d, [{"type": "file", "paths": [log],
                                 "fields": {"service.name": "shop"}}],
                            redis_output(r, mode="list", key="logstash",
                                         batch_events=600))
        run_once(conf)
        eq(r.cmd("TYPE", "logstash"), "list", "the key's type")
        els = r.cmd("LRANGE", "logstash", 0, -1)
        eq(len(els), len(want), "elements")
        offset = 0
        for i, el in enumerate(els):
            # Logstash's json codec: one JSON object per element
            ev = json.loads(el.decode("utf-8"))
            eq(type(ev), dict, "an object")
            eq(ev["message"], want[i], "message")
            eq(ev["host"], {"name": "e2e-host"}, "host")
            eq(ev["agent"]["type"], "sluice-shipper", "agent.type")
            eq(ev["log"], {"file": {"path": log}, "offset": offset}, "log")
            eq(ev["service"], {"name": "shop"}, "fields")
            ts = ev["@timestamp"]
            if not (len(ts) == 24 and ts[10] == "T" and ts.endswith("Z")):
                raise AssertionError(f"@timestamp {ts!r}")
            offset += len(want[i].encode()) + 1
        run_once(conf)
        eq(r.cmd("LLEN", "logstash"), len(want), "a second run adds nothing")
    finally:
        r.kill()


# --- the shipper killed ----------------------------------------------------

@case
def kill_9_three_times_while_files_rotate_resends_only_after_the_registry():
    d = scratch(TMP, "kills")
    r = Redis()
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        where = {}  # line -> (inode, offset)
        written = []

        def write(n, tag):
            size = os.path.getsize(log) if os.path.exists(log) else 0
            lines = [f"{tag} {i} " + "k" * (i % 50) for i in range(n)]
            append(log, lines)
            ino = os.stat(log).st_ino
            for l in lines:
                where[l] = (ino, size)
                size += len(l) + 1
            written.extend(lines)

        got = []
        kills = []  # (Redis time of the kill in ms, registry at the kill)
        # renamed to names paths does not match, while running (app.log.rK:
        # the new app.log may not even be opened before it goes in its
        # turn) and while stopped (app.log.sK): found again by inode
        inputs = [{"type": "file", "paths": [log], "rotate_wait": "1s"}]
        conf = write_config(d, inputs, redis_output(
            r, batch_events=1000, max_pending=4, batch_age="20ms"))
        reg = os.path.join(d, "data", "registry.json")
        write(20000, "r0")
        for k in range(3):
            sh = Shipper(SHIPPER, ENV, conf, d)
            wait_for("4 batches", lambda: r.cmd("XLEN", KEY) >= 4)
            got += r.events(KEY, delete=True)
            if k > 0:  # rotated by renaming while the shipper runs
                os.rename(log, f"{log}.r{k}")
                write(3000, f"r{k}new")
            wait_for("4 batches", lambda: r.cmd("XLEN", KEY) >= 4)
            got += r.events(KEY, delete=True)
            time.sleep(0.05 * k)
            sh.kill()
            sec, usec = r.cmd("TIME")
            kills.append((int(sec) * 1000 + int(usec) // 1000,
                          registry_offsets(reg)))
            # more lines, and a rotation while the shipper is stopped
            write(5000, f"r{k}more")
            os.rename(log, f"{log}.s{k}")
            write(2000, f"r{k}stopped")
        conf = write_config(d, inputs, redis_output(
            r, batch_events=1000, max_pending=0))
        run_once(conf)
        entries = r.entries(KEY)
        got = [(int(eid.split(b"-")[0]), e) for eid, evs in entries
               for e in evs] + [(None, e) for e in got]
        events = [e for _, e in got]
        dups = at_least_once_same_ids(events, written, "after 3 kills",
                                      renamed=True)
        # a line sent before a kill and again after it lies at or after
        # its file's offset in the registry at that kill
        first_sent = {}
        for ms, (_, _, e) in got:
            first_sent.setdefault(e["message"], []).append(ms)
        bad = []
        for line, times in first_sent.items():
            if len(times) < 2:
                continue
            ino, off = where[line]
            for kill_ms, offs in kills:
                before = any(t is None or t <= kill_ms for t in times)
                after = any(t is not None and t > kill_ms for t in times)
                if before and after and off < offs.get(ino, 0):
                    bad.append((line[:20], off, offs.get(ino)))
        eq(bad[:3], [], "sent again though the registry had passed it")
        print(f"     {len(written)} lines, {dups} sent twice", flush=True)
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def a_file_renamed_before_it_was_opened_while_held_is_read_all_the_same():
    # the output holds (max_pending): app.log is renamed while being read,
    # the new app.log waits for it, unopened, and is renamed in its turn
    # before the shipper gets to it; then a third. Every line, once.
    d = scratch(TMP, "waiting")
    r = Redis()
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        want = [f"g0 {i}" for i in range(3000)]
        append(log, want)
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log],
                                 "rotate_wait": "200ms"}],
                            redis_output(r, batch_events=500, max_pending=2,
                                         max_in_flight=1, batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        wait_for("a hold", lambda: sh.metric(
            "sluice_output_pending_holds_total") >= 1)
        for g in (1, 2):
            os.rename(log, f"{log}.{g}")
            lines = [f"g{g} {i}" for i in range(500)]
            append(log, lines)
            want += lines
            wait_for(f"app.log number {g + 1} found", lambda: sh.total(
                "sluice_input_files_total") >= g + 1)
        got = []
        end = time.monotonic() + DEADLINE_S
        while len(got) < len(want) and time.monotonic() < end:
            got += r.events(KEY, delete=True)
            time.sleep(0.05)
        text = sh.text()
        eq(sh.term(), 0, "exit")
        if "not read" in text:
            raise AssertionError(f"log:\n{text}")
        exactly_once(got, want, "three generations")
    finally:
        if sh:
            sh.kill()
        r.kill()


# --- the registry's disk ---------------------------------------------------

def small_disk(d):
    """d/data on a tmpfs of 256 KiB (unmount it in a finally)."""
    data = os.path.join(d, "data")
    os.makedirs(data)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                        data], capture_output=True)
    if p.returncode != 0:
        raise AssertionError(f"cannot mount a small tmpfs on {data}: "
                             f"{p.stderr.decode()}")
    return data


def fill(data):
    """Fills the disk under data; the file to delete for room."""
    filler = os.path.join(data, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.close(fd)
    return filler


@case
def a_new_file_is_not_shipped_before_its_key_is_on_disk():
    # its key makes its events' ids: shipped, then the shipper killed
    # before the registry held the key, its lines would come again after
    # the restart under a new key, with other ids (duplicates in
    # Elasticsearch). A full disk holds the registry back for good.
    d = scratch(TMP, "keyfirst")
    data = small_disk(d)
    r = Redis()
    sh = None
    try:
        filler = fill(data)
        log = os.path.join(d, "logs", "app.log")
        want = [f"k {i}" for i in range(100)]
        append(log, want)
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        wait_for("two failed saves", lambda: sh.metric(
            "sluice_registry_save_failures_total") >= 2)
        sh.kill()
        os.unlink(filler)
        run_once(conf)
        got = r.events(KEY)
        at_least_once_same_ids(got, want, "after the kill")
        exactly_once(got, want, "nothing sent before the key was saved")
    finally:
        if sh:
            sh.kill()
        r.kill()
        subprocess.run(["umount", data])


@case
def a_full_disk_under_the_registry_is_said_once_and_saved_when_room_is_back():
    d = scratch(TMP, "fulldisk")
    data = small_disk(d)
    r = Redis()
    sh = None
    try:
        log = os.path.join(d, "logs", "app.log")
        append(log, [f"a {i}" for i in range(100)])
        port = http_port()
        conf = write_config(d, [{"type": "file", "paths": [log]}],
                            redis_output(r, batch_age="20ms"),
                            {"http": {"listen": f"127.0.0.1:{port}"}})
        sh = Shipper(SHIPPER, ENV, conf, d, port)
        reg = os.path.join(data, "registry.json")
        ino = os.stat(log).st_ino
        size_a = os.path.getsize(log)
        wait_for("the registry saved", lambda: registry_offsets(reg).get(
            ino) == size_a)
        filler = fill(data)
        append(log, [f"b {i}" for i in range(100)])
        wait_for("b shipped", lambda: sh.metric(
            "sluice_output_events_total") == 200)
        wait_for("the full disk said", lambda: lines_matching(
            sh.text(), "registry", "No space left"))
        time.sleep(2.5)  # saves are tried about every second
        eq(registry_offsets(reg).get(ino), size_a, "the registry as it was")
        append(log, [f"c {i}" for i in range(100)])
        wait_for("c shipped", lambda: sh.metric(
            "sluice_output_events_total") == 300)
        time.sleep(1.5)
        said = [l for l in lines_matching(sh.text(), "registry")
                if "No space left" in l or "repeated" in l]
        if len(said) != 1 or "saved again every 1 s" not in said[0]:
            raise AssertionError("the full disk said:\n" + "\n".join(said))
        failed = sh.metric("sluice_registry_save_failures_total")
        if failed < 2:
            raise AssertionError(f"{failed} failed saves counted")
        os.unlink(filler)  # room again: saved without a new line
        wait_for("the registry saved again", lambda: registry_offsets(
            reg).get(ino) == os.path.getsize(log), deadline_s=10)
        eq(os.path.exists(reg + ".tmp"), False, "the temporary file left")
        eq(len(lines_matching(sh.text(), "registry", "saved again after")),
           1, "the end of it said")
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), [f"{x} {i}" for x in "abc"
                                     for i in range(100)], "shipped")
    finally:
        if sh:
            sh.kill()
        r.kill()
        subprocess.run(["umount", data])


@case
def a_file_size_limit_makes_the_registry_save_fail_plainly_not_kill():
    # RLIMIT_FSIZE below the registry's size: write() fails with EFBIG and
    # SIGXFSZ, whose default kills the process without a word. The file's
    # key never reaches the disk, so nothing of it is shipped, and --once
    # stops with an error rather than wait
    import resource
    d = scratch(TMP, "fsize")
    log = os.path.join(d, "logs", "app.log")
    append(log, ["one", "two"])
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        {"stdout": {}})
    p = subprocess.run([SHIPPER, "-c", conf, "run", "--once"],
                       capture_output=True, env=ENV, timeout=DEADLINE_S,
                       preexec_fn=lambda: resource.setrlimit(
                           resource.RLIMIT_FSIZE, (64, 64)))
    err = p.stderr.decode()
    eq(p.returncode, 1, f"exit; stderr: {err!r}")
    eq(p.stdout.decode(), "", "events shipped without their key on disk")
    if "File too large" not in err or "cannot be saved; stopping" not in err:
        raise AssertionError(err)


# --- Redis's own trouble, and users who may do little ----------------------

def shipping(d, r, lines, **more):
    """d/logs/app.log with lines, and the daemon shipping it to r (batches
    of at most 20 ms, more: output.redis's other keys) with /metrics on:
    (the log's path, the Shipper)."""
    log = os.path.join(d, "logs", "app.log")
    append(log, lines)
    port = http_port()
    more.setdefault("batch_age", "20ms")
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        redis_output(r, **more),
                        {"http": {"listen": f"127.0.0.1:{port}"}})
    return log, Shipper(SHIPPER, ENV, conf, d, port)


@case
def an_acl_user_allowed_only_its_writes_ships_to_its_database():
    # least privilege, as the NOPERM advice words it: the key's commands
    # and SELECT, no PING, no CLIENT SETNAME. Every attempt failed on
    # "CLIENT SETNAME refused: NOPERM" and nothing was ever shipped.
    d = scratch(TMP, "acl")
    r = Redis()
    secret = "acl-Pw-31337"
    try:
        r.cmd("ACL", "SETUSER", "shipper", "on", ">" + secret, "~e2e:*",
              "+xadd", "+rpush", "+xlen", "+llen", "+select")
        for mode, key in (("stream", KEY), ("list", "e2e:list")):
            log = os.path.join(d, "logs", f"{mode}.log")
            want = [f"{mode} {i}" for i in range(300)]
            append(log, want)
            out = redis_output(r, mode=mode, key=key, batch_events=100)
            out["redis"]["url"] = (f"redis://shipper:{secret}@127.0.0.1:"
                                   f"{r.port}/2")
            conf = write_config(d, [{"type": "file", "paths": [log]}], out)
            _, err = run_once(conf)
            if secret in err or " error " in err or " warn " in err:
                raise AssertionError(f"{mode}: log:\n{err}")
            eq(r.cmd("EXISTS", key), 0, f"{mode}: the key in database 0")
            r.cmd("SELECT", 2)
            if mode == "stream":
                exactly_once(r.events(KEY), want, "stream, database 2")
            else:
                els = r.cmd("LRANGE", key, 0, -1)
                eq([json.loads(e)["message"] for e in els], want,
                   "list, database 2")
            r.cmd("SELECT", 0)
    finally:
        r.kill()


def bgsave_status(r):
    def done():
        p = r.info("persistence")
        return p["rdb_bgsave_in_progress"] == "0" and p
    return wait_for("the BGSAVE", done)["rdb_last_bgsave_status"]


@case
def redis_that_cannot_save_its_snapshot_holds_the_shipper_said_plainly():
    # Redis with `save` points and stop-writes-on-bgsave-error (its
    # defaults) whose disk is full: every write answers MISCONF, and so
    # does PING, which a new connection's login sends. The reply's 330
    # bytes were cut mid-word ("... disabled, because th"), and a shipper
    # (re)started meanwhile logged "PING answered: MISCONF ... report erro"
    # with nothing to do. Now: said once with what to do, nothing lost.
    d = scratch(TMP, "misconf")
    rdb = os.path.join(d, "rdb")
    os.makedirs(rdb)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                        rdb], capture_output=True)
    if p.returncode != 0:
        raise AssertionError(f"cannot mount a tmpfs on {rdb}: "
                             f"{p.stderr.decode()}")
    r = None
    sh = None
    try:
        r = Redis(args=["--dir", rdb, "--save", "3600 1"])
        a = [f"a {i}" for i in range(100)]
        log, sh = shipping(d, r, a)
        reg = os.path.join(d, "data", "registry.json")
        size_a = os.path.getsize(log)
        wait_for("a in the registry", lambda: registry_offsets(reg).get(
            os.stat(log).st_ino) == size_a)
        filler = fill(rdb)
        r.cmd("BGSAVE")
        eq(bgsave_status(r), "err", "the snapshot on a full disk")
        b = [f"b {i}" for i in range(100)]
        append(log, b)
        misconf = 'sluice_output_error_replies_total{reason="misconf"}'
        wait_for("a MISCONF reply", lambda: sh.metric(misconf) >= 1)
        eq(sh.metric("sluice_output_holds_total"), 1.0, "holds")
        sh.kill()
        # started again while Redis still refuses: its login's PING
        sh = Shipper(SHIPPER, ENV, os.path.join(d, "shipper.json"), d,
                     sh.port)
        wait_for("the login refused", lambda: lines_matching(
            sh.text(), "PING answered: MISCONF"))
        # counted with the replies to batches (a disconnect only, before)
        wait_for("the refused login counted", lambda: sh.metric(
            misconf) >= 1)
        os.unlink(filler)
        r.cmd("BGSAVE")
        eq(bgsave_status(r), "ok", "the snapshot with room")
        wait_for("b shipped", lambda: sh.metric(
            "sluice_output_events_total") == 100)
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), a + b, "once Redis could save")
        text = sh.text()
        said = lines_matching(text, "MISCONF")
        cut = "unable to persist to disk;"
        if len(said) != 2 or not all(cut in l and "see" in l and
                                     "disk full" in l for l in said):
            raise AssertionError("MISCONF said:\n" + "\n".join(said))
    finally:
        if sh:
            sh.kill()
        if r:
            r.kill()
        subprocess.run(["umount", rdb])


@case
def a_server_that_accepts_and_never_answers_is_named_then_redis_is_used():
    # a port whose listener accepts and says nothing (a stopped Redis, or
    # not Redis at all): "no connection within 5000 ms (still logging
    # in)" said a connection was missing, where it was the answer
    import socket
    d = scratch(TMP, "silent")
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port_r = shipper_harness.free_port()
    lsock.bind(("127.0.0.1", port_r))
    lsock.listen(16)
    held = []
    taker = threading.Thread(target=lambda: held.append(lsock.accept()),
                             daemon=True)
    taker.start()
    r = None
    sh = None
    try:
        want = [f"s {i}" for i in range(100)]
        # where a Redis will be: redis_output needs its port only
        _, sh = shipping(d, types.SimpleNamespace(port=port_r), want)
        said = wait_for("the silence said", lambda: lines_matching(
            sh.text(), "no answer to the login"))
        if "is a Redis server listening there" not in said[0]:
            raise AssertionError(said[0])
        lsock.close()
        for c, _ in held:
            c.close()
        r = Redis(port=port_r)
        wait_for("every line", lambda: sh.metric(
            "sluice_output_events_total") == 100)
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), want, "once Redis answers")
    finally:
        if sh:
            sh.kill()
        if r:
            r.kill()
        lsock.close()


@case
def a_missing_password_is_said_counted_and_nothing_is_lost():
    # NOAUTH at the login: said once with what to write in the URL, and
    # counted by reason as an error reply (it showed as a disconnect only)
    d = scratch(TMP, "noauth")
    r = Redis(password="needed-pw")
    sh = None
    try:
        want = [f"na {i}" for i in range(200)]
        _, sh = shipping(d, r, want)
        noauth = 'sluice_output_error_replies_total{reason="noauth"}'
        wait_for("two refused logins", lambda: sh.metric(noauth) >= 2)
        eq(sh.metric("sluice_shipper_lines_total"), 0.0, "lines read")
        eq(sh.metric("sluice_output_disconnects_total"), 1.0, "disconnects")
        r.cmd("CONFIG", "SET", "requirepass", "")
        wait_for("every line", lambda: sh.metric(
            "sluice_output_events_total") == 200)
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), want, "once no password is needed")
        said = lines_matching(sh.text(), "NOAUTH")
        if len(said) != 1 or "write the password in output.redis.url" \
                not in said[0]:
            raise AssertionError("NOAUTH said:\n" + "\n".join(said))
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def a_list_drained_as_fast_as_logstash_reads_it_is_not_held_a_second_a_time():
    # a Logstash draining the list 125 at a time (LRANGE + LTRIM, as its
    # redis input's batch does) while the shipper passes max_pending again
    # and again: the key was asked again only every second, so about
    # max_pending events went a second whatever the consumer took, and
    # each hold and its end were logged (two lines a second, for hours)
    d = scratch(TMP, "drained")
    r = Redis()
    sh = None
    try:
        want = [f"dr {i} " + "d" * (i % 90) for i in range(4000)]
        t0 = time.monotonic()
        _, sh = shipping(d, r, want, mode="list", key="logstash",
                         batch_events=100, max_in_flight=2, max_pending=200)
        got = []
        end = time.monotonic() + DEADLINE_S
        while len(got) < len(want) and time.monotonic() < end:
            els = r.cmd("LRANGE", "logstash", 0, 124)
            if els:
                r.cmd("LTRIM", "logstash", len(els), -1)
            got += els
            if not els:
                time.sleep(0.005)
        took = time.monotonic() - t0
        holds = sh.metric("sluice_output_pending_holds_total")
        eq(sh.term(), 0, "exit")
        eq([json.loads(e)["message"] for e in got], want, "every event once")
        if holds < 5:
            raise AssertionError(f"{holds} holds: the limit never held")
        if took > 8:
            raise AssertionError(f"{took:.1f} s for {len(want)} events")
        said = lines_matching(sh.text(), "pending limit") + \
            lines_matching(sh.text(), "at its limit")
        if len(said) > 2:
            raise AssertionError(f"{holds} holds said in {len(said)} "
                                 "lines:\n" + "\n".join(said[:6]))
        print(f"     {len(want)} events in {took:.1f} s, {holds} holds",
              flush=True)
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def redis_at_maxmemory_drained_by_an_indexer_says_oom_once_not_each_time():
    # Redis at maxmemory (noeviction) with a consumer deleting what it
    # read, as sluice-indexer does: Redis refuses and accepts by turns,
    # several times a second; each refusal was an error line and each
    # acceptance an info line
    d = scratch(TMP, "oomdrained")
    r = Redis()
    sh = None
    try:
        want = [f"od {i} " + "o" * 300 for i in range(10000)]
        used = int(r.info("memory")["used_memory"])
        r.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
        r.cmd("CONFIG", "SET", "maxmemory", used + 1500000)
        _, sh = shipping(d, r, want, batch_events=200, max_pending=0)
        got = []
        end = time.monotonic() + DEADLINE_S
        while len(got) < len(want) and time.monotonic() < end:
            got += r.events(KEY, delete=True)
            time.sleep(0.2)
        holds = sh.metric("sluice_output_holds_total")
        eq(sh.term(), 0, "exit")
        exactly_once(got, want, "at maxmemory, drained")
        if holds < 3:
            raise AssertionError(f"{holds} holds: Redis never refused")
        text = sh.text()
        said = lines_matching(text, "Redis refused a batch: OOM")
        back = lines_matching(text, "accepts batches again")
        if len(said) != 1 or len(back) != 1:
            raise AssertionError(f"{holds} holds said in "
                                 f"{len(said) + len(back)} lines:\n" +
                                 "\n".join((said + back)[:6]))
    finally:
        if sh:
            sh.kill()
        r.kill()


@case
def a_full_disk_at_the_start_says_new_files_wait_for_it():
    # no room for the registry when the shipper starts: a new file waits
    # for its key on disk (its events' ids), so nothing is shipped; the log
    # said "shipping goes on", which was not so. Room again: all of it.
    d = scratch(TMP, "fullstart")
    data = small_disk(d)
    r = Redis()
    sh = None
    try:
        filler = fill(data)
        want = [f"fs {i}" for i in range(100)]
        _, sh = shipping(d, r, want)
        said = wait_for("the full disk said", lambda: lines_matching(
            sh.text(), "registry not saved"))
        if "files new to it wait until it is saved" not in said[0] or \
                "shipping goes on" in said[0]:
            raise AssertionError(said[0])
        eq(sh.metric("sluice_output_events_total"), 0.0, "events shipped")
        os.unlink(filler)
        wait_for("every line", lambda: sh.metric(
            "sluice_output_events_total") == 100, deadline_s=10)
        eq(sh.term(), 0, "exit")
        exactly_once(r.events(KEY), want, "once the key is on disk")
        eq(len(lines_matching(sh.text(), "registry not saved")), 1,
           "the full disk said once")
    finally:
        if sh:
            sh.kill()
        r.kill()
        subprocess.run(["umount", data])


def cpu_s(pid):
    """user + system CPU seconds of a live process (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@case
def run_once_with_redis_down_waits_idle_then_ships_every_line():
    # `run --once` (a batch job, cron) started while Redis is down: it
    # waits with backoff, then ships every line once and exits 0. It spun
    # before: 0.9 of a core for as long as Redis was away (poll with a
    # zero timeout, asking whether a file not yet opened was at its end).
    d = scratch(TMP, "oncedown")
    port = free_port()
    log = os.path.join(d, "logs", "app.log")
    want = [f"od {i}" for i in range(200)]
    append(log, want)
    conf = write_config(d, [{"type": "file", "paths": [log]}],
                        {"redis": {"url": f"redis://127.0.0.1:{port}/0",
                                   "key": KEY, "codec": "none"}})
    with open(os.path.join(d, "once.log"), "wb") as err:
        p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"], env=ENV,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
    r = None
    try:
        time.sleep(2)  # the outage measured, not a synchronisation
        used = cpu_s(p.pid)
        # ASan's own start costs a few tenths; a spin costs 1.5 s and more
        if used > 0.8:
            raise AssertionError(f"{used:.2f} CPU-s in 2 s with Redis down")
        eq(p.poll(), None, "still waiting for Redis")
        r = Redis(port=port)
        eq(p.wait(timeout=DEADLINE_S), 0, "exit once Redis is back")
        exactly_once(r.events(KEY), want, "after the outage")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if r:
            r.kill()


if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
