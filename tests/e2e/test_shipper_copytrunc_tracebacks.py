#!/usr/bin/env python3
"""copytruncate while a Python traceback is being read (multiline
`python`), seeded, through the real `sluice-shipper run` against a
redis-server this test starts: what the rotation stress test (single
lines) does not make. Each seed writes records and tracebacks into
logs/app.log (and, with max_open_files 1 or 2, into a few other files
that take descriptors in turn) and, in an order the seed draws:

- copytruncates app.log with a traceback's head read and its rest
  written before the copy (in the copy: one event, whole), a few in a
  row with a traceback open across them, the copy's name matched
  (app.log.N) or not (old/copy.N), or compressed at once (app.log.N.gz,
  excluded: the copy gone before it could be read), or made under an
  unmatched name and renamed into a matched one later than a scan (the
  copy appearing late);
- deletes app.log while its truncated content is parked (its DONE held
  for a copy), and renames it away (rename-and-create);
- kills the shipper with -9 between any two of those steps (after the
  copy, after the truncation, before the rest), stops it with SIGTERM,
  and starts it again; or freezes it (SIGSTOP) while the copy is made
  and the file truncated, so it sees both at once;
with rotate_wait short (100 ms) or long (5 s), close_inactive short or
long. Then, in what Elasticsearch would keep (the first document of each
id): every line but those README names as copytruncate's loss (a copy not
matched or gone before it was read, with lines not read before the
truncation); no line in documents of two ids; no line invented; each
traceback whose rest was in a matched copy that stayed,
with no kill while it was open, one event, whole (with descriptors to
spare: under max_open_files 1-2 a deleted file in its rotate_wait holds
the one descriptor, the copy waits for it past multiline.timeout, and the
head goes alone; counted). Last, `run --once` on a
tree with a truncation parked must end, exit 0, every line once; and a
file copytruncated then deleted under max_open_files 1-2, its copy found
after the deleted file's end, must not be read again from 0.

SLUICE_CT_SEEDS=1,2,3 (default) and SLUICE_CT_STEPS=40 choose the runs;
a failure prints the seed and its steps. A line sent only inside a later
message of an id whose first message went out cut (a traceback's head
shipped alone, by multiline.timeout or at its truncated file's DONE when
the copy came after a scan, then a kill before the registry saved that)
fails too: the registry keeps such cuts and the replay makes the same
events (seeds 11, 15, 17 and 44-46 lost a traceback's rest there before
it did).

Seen in wave 10 (seed 2 under ASan, 1 run of 4): under max_open_files
1, a kill -9 between a copy and its truncation, then a restart, the copy
opened before its original (which waited for the one descriptor) and
read from 0 under a new key, its lines twice with other ids. The fixed
case, test_shipper_copies.py's
a_copy_over_an_older_copy_found_first_at_a_restart_is_no_new_file (the
copy made over an older one in place, so its inode has an entry), failed
so and passes: such a copy now waits for its original. The seed's own
sequence was not recovered; it has not been seen since.

usage: test_shipper_copytrunc_tracebacks.py SLUICE_SHIPPER
"""
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import http_get  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, case, eq,  # noqa: E402
                             failures, http_port, redis_output, run_once,
                             scratch,
                             wait_for, write_config, json_lines)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-cttb-")
KEY = "e2e:events"
SEEDS = [int(s) for s in
         os.environ.get("SLUICE_CT_SEEDS", "1,2,3").split(",") if s]
STEPS = int(os.environ.get("SLUICE_CT_STEPS", "40"))
SCAN_S = 0.25


class Run:
    def __init__(self, seed):
        shipper_harness.seeded_run(self, TMP, seed)
        self.redis = Redis()
        self.max_open = self.rnd.choice([1, 2, 64])
        self.others = [os.path.join(self.logs, f"app.log.side{i}")
                       for i in range(self.rnd.choice([0, 3]))]
        # the side files match app.log* but are never rotated
        # multiline.timeout above this writer's own pauses between a head
        # and its rest (its waits for the shipper, slow under ASan): a
        # head shipped alone by it is README's timeout cut, not what this
        # test looks for. The copy's hand-over (a scan, its key saved)
        # holds the timeout: a_traceback_straddling_a_copytruncate_with_
        # a_1s_timeout
        inputs = [{"type": "file",
                   "paths": [os.path.join(self.logs, "app.log*")],
                   "exclude": ["*.gz"],
                   "rotate_wait": self.rnd.choice(["100ms", "5s"]),
                   "scan_interval": f"{int(SCAN_S * 1000)}ms",
                   "close_inactive": self.rnd.choice(["150ms", "5m"]),
                   "max_open_files": self.max_open,
                   "multiline": {"preset": "python", "timeout": "2500ms"}}]
        self.port = http_port()
        self.conf = write_config(
            self.d, inputs,
            redis_output(self.redis, batch_events=self.rnd.choice([5, 300]),
                         batch_age="20ms"),
            {"log": {"level": "debug"},
             "http": {"listen": f"127.0.0.1:{self.port}"}})
        self.n = 0
        self.written = []  # every line
        self.maybe_lost = set()
        self.whole = []  # tracebacks (lists of lines) that must be one event
        self.tbs = 0
        self.open_tb = None  # [lines, guaranteed] of a traceback open
        self.cur = []  # the lines of app.log's current content
        self.got = []
        self.arrived = set()
        self.seq = 0
        self.steps = []
        self.sh = None
        self.f = open(self.log, "ab", buffering=0)
        for p in self.others:
            open(p, "ab").close()

    # --- the writer ---------------------------------------------------------

    def stamp(self):
        self.n += 1
        return f"2026-12-05 10:{self.n // 60 % 60:02d}:{self.n % 60:02d},000"

    def put(self, lines, path=None):
        data = "".join(l + "\n" for l in lines).encode()
        if path is None:
            self.f.write(data)
            self.cur += lines
        else:
            with open(path, "ab") as f:
                f.write(data)
        self.written += lines

    def record(self, path=None):
        self.put([f"{self.stamp()} INFO s{self.seed} rec {self.n} "
                  + "x" * self.rnd.randint(0, 60)], path)

    def head(self):
        """A traceback's head: its record line and first frame."""
        k = self.n + 1
        lines = [f"{self.stamp()} ERROR s{self.seed} tb {k} unhandled",
                 "Traceback (most recent call last):",
                 f'  File "/srv/app/h{k}.py", line {k}, in handle',
                 f"    return self.dispatch_{k}(request)"]
        self.put(lines)
        self.open_tb = [lines, True]
        self.tbs += 1

    def rest(self):
        k = self.n
        lines = [f'  File "/srv/app/db{k}.py", line 88, in dispatch',
                 f"    raise ValueError('bad item {k}')",
                 f"ValueError: bad item {k}"]
        self.put(lines)
        tb, guaranteed = self.open_tb
        tb += lines
        if guaranteed:
            self.whole.append(tb)
        self.open_tb = None

    # --- what arrived -------------------------------------------------------

    def drain(self):
        for eid, _, e in self.redis.events(KEY, delete=True):
            self.got.append((eid, e["message"]))
            self.arrived.update(e["message"].split("\n"))

    def wait_arrived(self, lines, what):
        shipper_harness.wait_arrived(self, lines, what,
                                     lambda miss: repr(miss[:3]))

    # --- the shipper --------------------------------------------------------

    def start(self):
        self.sh = Shipper(SHIPPER, ENV, self.conf, self.d, self.port)

    def kill(self):
        self.sh.kill()
        self.sh = None
        if self.open_tb is not None:
            self.open_tb[1] = False  # a replay may join it otherwise

    def term(self):
        eq(self.sh.term(), 0, "exit status after SIGTERM")
        self.sh = None
        if self.open_tb is not None:
            self.open_tb[1] = False

    def head_read(self, before):
        """Waits until the shipper read the open traceback's head: its
        lines counter at least `before` + 4 (`before`: read when the lines
        before the head had all arrived)."""
        wait_for("the head read", lambda: self.sh.total(
            "sluice_shipper_lines_total") >= before + 4, deadline_s=20)

    def settled(self):
        """Every line but the open traceback's arrived: this process's
        lines counter then."""
        tb = set(self.open_tb[0]) if self.open_tb else set()
        self.wait_arrived([l for l in self.written
                           if l not in self.maybe_lost and l not in tb],
                          "the lines so far")
        return self.sh.total("sluice_shipper_lines_total")

    # --- rotations ----------------------------------------------------------

    def shift(self):
        self.seq += 1
        return os.path.join(self.logs, f"app.log.{self.seq}")

    def copy_to(self, to):
        shipper_harness.copy_as_cp(self.log, to)

    def not_read_lost(self):
        """What app.log holds that did not arrive may be lost (README:
        copytruncate's limit)."""
        self.drain()
        self.maybe_lost.update(l for l in self.cur if l not in self.arrived)
        if self.open_tb is not None:
            self.open_tb[1] = False

    def copytruncate(self, how):
        kill_at = self.rnd.choice([None, None, None, "copied", "truncated"])
        if self.sh is None:
            kill_at = None
        # the shipper stopped (SIGSTOP) while the copy is made and the
        # file truncated: it sees both at once, the truncation maybe first
        frozen = self.sh is not None and kill_at is None and \
            self.rnd.random() < 0.3
        if frozen:
            os.kill(self.sh.pid, signal.SIGSTOP)
        if how == "matched":
            to = self.shift()
        elif how == "gz":
            to = self.shift()
        else:
            self.seq += 1
            to = os.path.join(self.logs, "old", f"copy.{self.seq}")
        self.copy_to(to)
        if how != "matched":  # its head may go alone: no copy to go on in
            cur = set(self.cur) - {"Traceback (most recent call last):"}
            self.whole = [tb for tb in self.whole if not cur & set(tb)]
        if self.open_tb is not None:  # its rest into the emptied file:
            self.open_tb[1] = False  # README's not-guaranteed split
        if kill_at == "copied":
            self.kill()
        os.truncate(self.log, 0)
        if kill_at == "truncated":
            self.kill()
        if how == "gz":
            with open(to, "rb") as src, gzip.open(to + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.unlink(to)
            self.not_read_lost()
        elif how == "unmatched":
            self.not_read_lost()
        elif how == "late":
            if frozen:
                os.kill(self.sh.pid, signal.SIGCONT)
                frozen = False
            if self.sh is not None:
                time.sleep(SCAN_S * 2.5)  # a scan or two find no copy
            os.rename(to, self.shift())
            to = None
            if self.open_tb is not None:
                self.open_tb[1] = False  # its head may go alone: no copy
        self.cur = []
        if frozen:
            os.kill(self.sh.pid, signal.SIGCONT)
        if kill_at is not None:
            self.start()
        return f"copytruncate {how}" + (f", kill -9 {kill_at}"
                                        if kill_at else "")

    def delete_parked(self):
        """copytruncate (matched), then app.log deleted and made anew at
        once, while the truncated content may be parked."""
        to = self.shift()
        self.copy_to(to)
        os.truncate(self.log, 0)
        self.cur = []
        self.record()  # into the emptied file, deleted next
        last = self.cur[:]
        os.unlink(self.log)
        self.f.close()
        self.f = open(self.log, "ab", buffering=0)
        self.cur = []
        # written to a file unlinked before the shipper opened it again
        # (max_open_files, close_inactive): out of any reader's reach
        self.drain()
        self.maybe_lost.update(l for l in last if l not in self.arrived)
        return "copytruncate, then delete"

    def rename(self):
        to = self.shift()
        os.rename(self.log, to)
        self.f.close()
        self.f = open(self.log, "ab", buffering=0)
        self.cur = []
        return "rename"

    # --- the run ------------------------------------------------------------

    def step(self):
        x = self.rnd.random()
        if self.sh is None:
            self.start()
        if x < 0.25:
            if self.open_tb is not None:
                self.rest()
            for _ in range(self.rnd.randint(1, 10)):
                self.record()
            for p in self.others:
                self.record(p)
            return "records"
        if x < 0.55:
            # a traceback's head, read, then copytruncates with it open
            if self.open_tb is None:
                paced = self.rnd.random() < 0.8
                before = self.settled() if paced else 0
                self.head()
                if paced:
                    self.head_read(before)
            hows = ["matched"] * 6 + ["unmatched", "gz", "late"]
            did = []
            for _ in range(self.rnd.choice([1, 1, 2, 3])):
                if self.rnd.random() < 0.8 and self.open_tb is not None:
                    self.rest()  # its rest before the copy: in it
                did.append(self.copytruncate(self.rnd.choice(hows)))
                if self.open_tb is None and self.rnd.random() < 0.5:
                    self.head()
            return "; ".join(did)
        if x < 0.65:
            if self.open_tb is not None:
                self.rest()
            return self.delete_parked()
        if x < 0.75:
            if self.open_tb is not None:
                self.rest()
            return self.rename()
        if x < 0.85:
            self.kill()
            return "kill -9"
        if x < 0.9:
            self.term()
            return "SIGTERM"
        if self.open_tb is not None:
            self.rest()
        time.sleep(self.rnd.choice([0, 0.1, 0.4]))
        return "rest"

    def run(self):
        self.start()
        try:
            for i in range(STEPS):
                at = self.n
                self.steps.append(f"{i}@{at}: {self.step()}")
            if self.open_tb is not None:
                self.rest()
            if self.sh is None:
                self.start()
            self.record()
            want = [l for l in self.written if l not in self.maybe_lost]
            self.wait_arrived(want, f"{len(want)} lines")
            self.term()
            self.drain()
        except Exception:
            print(f"     seed {self.seed} steps:\n       " +
                  "\n       ".join(self.steps), flush=True)
            raise
        finally:
            if self.sh is not None:
                self.sh.kill()
            self.redis.kill()
            self.f.close()
        self.check()

    def check(self):
        """Elasticsearch keeps the first document of an id (op_type
        create): what it would hold is checked, the first message of each
        id; a later one differing (a replay after a kill joining what went
        out in parts: README's not-guaranteed timeout cut) is counted."""
        written = set(self.written)
        kept = {}
        for eid, msg in self.got:
            kept.setdefault(eid, msg)
        by_line = {}
        for eid, msg in kept.items():
            for l in msg.split("\n"):
                if l == "Traceback (most recent call last):":
                    continue  # in every traceback
                by_line.setdefault(l, set()).add(eid)
        bad = []
        inv = [l for l in by_line if l not in written]
        if inv:
            bad.append(f"{len(inv)} lines invented: {inv[:3]!r}")
        sent = {l for _, m in self.got for l in m.split("\n")}
        miss = [l for l in self.written if l not in self.maybe_lost and
                l not in by_line and
                l != "Traceback (most recent call last):"]
        # lines sent only in a later message of an id whose first one went
        # out cut (a head shipped alone at the multiline timeout or at its
        # file's DONE, no copy in time) and replayed whole after a kill:
        # the registry's cuts make the replay cut there too
        cut = [l for l in miss if l in sent]
        if miss:
            bad.append(f"{len(miss)} lines not in the first document of "
                       f"any id ({len(cut)} sent in a later one): "
                       f"{miss[:3]!r}")
        twice = [(l, sorted(i)) for l, i in by_line.items() if len(i) > 1]
        if twice:
            bad.append(f"{len(twice)} lines in documents of two ids: "
                       f"{twice[:3]!r}")
        later = sum(1 for eid, msg in self.got if msg != kept[eid])
        msgs = set(kept.values())
        split = [tb for tb in self.whole if "\n".join(tb) not in msgs]
        # max_open_files 1-2 hold one descriptor for files: a deleted file
        # keeps it through rotate_wait, the copy waits for it, and the
        # head goes out alone at multiline.timeout (counted, not failed)
        if split and self.max_open > 2:
            bad.append(f"{len(split)} of {len(self.whole)} tracebacks "
                       f"split: {split[0]!r} as " + repr(
                           [(i, m) for i, m in self.got
                            if any(l in m.split("\n") for l in split[0][2:])]))
        print(f"     seed {self.seed}: {len(self.written)} lines, "
              f"{len(self.maybe_lost)} in README's losses, "
              f"{self.tbs} tracebacks, {len(self.whole)} whole, max_open "
              f"{self.max_open}, {len(split)} split, {later} later "
              f"messages of an id differing, {len(cut)} lines only in those",
              flush=True)
        if cut:
            print(f"     seed {self.seed}: cut and replayed: {cut[:3]!r}",
                  flush=True)
        if bad:
            print(f"     seed {self.seed} steps:\n       " +
                  "\n       ".join(self.steps), flush=True)
            raise AssertionError("; ".join(bad))


def tb_lines(k):
    return [f"2026-12-05 11:00:{k:02d},000 ERROR once tb {k} unhandled",
            "Traceback (most recent call last):",
            f'  File "/srv/app/h{k}.py", line {k}, in handle',
            f"    return self.dispatch_{k}(request)",
            f'  File "/srv/app/db{k}.py", line 88, in dispatch',
            f"    raise ValueError('bad item {k}')",
            f"ValueError: bad item {k}"]


def once_with_a_parked_truncation(copy, rotate_wait, empty=False):
    """`run --once` to stdout, a pipe not read yet, so the run cannot end
    (logs/big.log fills it), reads app.log to a traceback's head; then the
    rest is written, app.log copied (`copy`: its name, or None) and
    truncated, and the pipe read. The run must end (exit 0) with every
    line once: the traceback whole when the copy is matched, its head
    alone else. empty: an empty file `paths` matches is there too."""
    d = scratch(TMP, f"once-{copy}-{rotate_wait}-{empty}")
    log = os.path.join(d, "logs", "app.log")
    port = http_port()
    conf = write_config(
        d, [{"type": "file", "paths": [log + "*"], "exclude": ["*.gz"],
             "rotate_wait": rotate_wait, "scan_interval": "10s",
             "multiline": {"preset": "python", "timeout": "30s"}},
            {"type": "file", "paths": [os.path.join(d, "logs", "big.log")]}],
        {"stdout": {}}, {"http": {"listen": f"127.0.0.1:{port}"}})
    tb = tb_lines(1)
    first = [f"2026-12-05 11:00:00,000 INFO once rec {i}" for i in range(20)]
    with open(log, "w") as f:
        f.write("".join(l + "\n" for l in first + tb[:4]))
    size = os.path.getsize(log)
    if empty:
        open(log + ".empty", "w").close()
    big = [f"2026-12-05 11:00:00,000 INFO big {i} " + "y" * 200
           for i in range(3000)]  # 650 KB: more than the pipe holds
    with open(os.path.join(d, "logs", "big.log"), "w") as f:
        f.write("".join(l + "\n" for l in big))
    p = subprocess.Popen([SHIPPER, "-c", conf, "run", "--once"], env=ENV,
                         stdout=subprocess.PIPE,
                         stderr=open(os.path.join(d, "shipper.log"), "ab"))
    out = []
    try:
        def head_read():
            if p.poll() is not None:
                raise AssertionError(f"run --once exited: {p.returncode}")
            try:
                page = http_get(port, "/status").split("\r\n\r\n", 1)[1]
            except (OSError, IndexError):
                return False
            return any(f'"path":"{log}"' in row and f'"read":{size},' in row
                       for row in page.split("},{"))
        wait_for("the head read", head_read)
        with open(log, "a") as f:
            f.write("".join(l + "\n" for l in tb[4:]))
        if copy is not None:
            shutil.copyfile(log, os.path.join(d, "logs", copy))
        os.truncate(log, 0)
        t0 = time.monotonic()
        data, _ = p.communicate(timeout=40)
        took = time.monotonic() - t0
        eq(p.returncode, 0, "run --once's exit status")
        out = [e["message"] for e in json_lines(data)]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    matched = copy is not None and not copy.endswith(".gz")
    want = first + big + ["\n".join(tb if matched else tb[:4])]
    eq(sorted(out), sorted(want), "every event once")
    if took > 15:
        raise AssertionError(f"run --once took {took:.1f} s to end")


@case
def run_once_with_a_truncation_parked_and_its_copy_matched():
    once_with_a_parked_truncation("app.log.1", "5s")


@case
def run_once_with_a_truncation_parked_and_its_copy_not_matched():
    once_with_a_parked_truncation("copy.1.gz", "5s")


@case
def run_once_with_a_truncation_parked_no_copy_long_rotate_wait():
    once_with_a_parked_truncation(None, "1h")


@case
def run_once_with_a_truncation_parked_an_empty_file_long_rotate_wait():
    once_with_a_parked_truncation(None, "1h", empty=True)


def status_row(port, path):
    """The /status row of path (a dict), or None."""
    try:
        page = http_get(port, "/status").split("\r\n\r\n", 1)[1]
    except (OSError, IndexError):
        return None
    for f in json.loads(page).get("files", []):
        if f.get("path") == path:
            return f
    return None


def copytruncated_then_deleted(max_open):
    """app.log read, then (the shipper frozen) copied to app.log.1,
    truncated, a line added, deleted and made anew: under max_open_files
    1-2 the deleted file keeps the one descriptor through rotate_wait and
    the copy is found after its end. The copy must go on where app.log was
    read (its 20 lines once), not be read from 0 under a new key, and the
    line written into the emptied file before the delete read from it."""
    d = scratch(TMP, f"ct-deleted-{max_open}")
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    port = http_port()
    conf = write_config(
        d, [{"type": "file", "paths": [log + "*"], "rotate_wait": "300ms",
             "max_open_files": max_open}],
        redis_output(r, batch_age="5ms"),
        {"http": {"listen": f"127.0.0.1:{port}"}})
    lines = [f"line {i} " + "x" * 40 for i in range(20)]
    with open(log, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    got = []
    try:
        def arrived(line):
            got.extend(e["message"] for _, _, e in r.events(KEY, delete=True))
            return line in got
        wait_for("app.log read", lambda: arrived(lines[-1]))
        os.kill(sh.pid, signal.SIGSTOP)
        try:
            shutil.copyfile(log, log + ".1")
            os.truncate(log, 0)
            with open(log, "a") as f:
                f.write("after the truncation\n")
            os.unlink(log)
            with open(log, "w") as f:
                f.write("new 1\n")
        finally:
            os.kill(sh.pid, signal.SIGCONT)
        size = os.path.getsize(log + ".1")
        wait_for("app.log.1 acknowledged to its end", lambda: (
            status_row(port, log + ".1") or {}).get("acked") == size)
        wait_for("the new app.log", lambda: arrived("new 1"))
        eq(sh.term(), 0, "exit status")
        arrived("")
    finally:
        sh.kill()
        r.kill()
    eq(sorted(l for l in got if l in lines), sorted(lines),
       "app.log's lines once")
    eq(got.count("after the truncation"), 1,
       "the line written between the truncation and the delete")


@case
def copytruncate_then_delete_with_one_descriptor():
    copytruncated_then_deleted(1)


@case
def copytruncate_then_delete_with_two_descriptors():
    copytruncated_then_deleted(2)


@case
def a_traceback_straddling_a_copytruncate_with_a_1s_timeout():
    """multiline.timeout 1 s; app.log read to a traceback's head; the
    shipper frozen while its rest is written, app.log copied to app.log.1
    and truncated, then run on while its registry cannot be saved (a
    directory where registry.json.tmp goes) for 2.5 s: the copy's key is
    not on disk, so the copy is not read (a kill -9 would read it again
    under another key), for longer than the timeout. The traceback must
    come out whole, one event under its head's id: the hand-over holds
    the timeout (before, the head went alone at the timeout and the rest
    from the copy as a second event). The same split, shorter, when a
    save or a scan takes longer than what was left of the timeout."""
    d = scratch(TMP, "straddle-1s")
    log = os.path.join(d, "logs", "app.log")
    r = Redis()
    port = http_port()
    conf = write_config(
        d, [{"type": "file", "paths": [log + "*"],
             "scan_interval": f"{int(SCAN_S * 1000)}ms",
             "multiline": {"preset": "python", "timeout": "1s"}}],
        redis_output(r, batch_age="20ms"),
        {"http": {"listen": f"127.0.0.1:{port}"}})
    first = "2026-12-05 11:00:00,000 INFO straddle start"
    tb = tb_lines(30)
    after = "2026-12-05 11:00:40,000 INFO straddle after"
    with open(log, "w") as f:
        f.write(first + "\n")
    sh = Shipper(SHIPPER, ENV, conf, d, port)
    got = []
    tmp = os.path.join(d, "data", "registry.json.tmp")

    def arrived(line):
        got.extend(e["message"] for _, _, e in r.events(KEY, delete=True))
        return any(line in m.split("\n") for m in got)
    try:
        wait_for("the first line in Redis", lambda: arrived(first))
        with open(log, "a") as f:
            f.write("".join(l + "\n" for l in tb[:4]))
        wait_for("the head read", lambda: sh.total(
            "sluice_shipper_lines_total") == 5)
        os.mkdir(tmp)  # saves fail from now on
        os.kill(sh.pid, signal.SIGSTOP)
        try:
            with open(log, "a") as f:
                f.write("".join(l + "\n" for l in tb[4:]))
            shutil.copyfile(log, log + ".1")
            os.truncate(log, 0)
            with open(log, "a") as f:
                f.write(after + "\n")
        finally:
            os.kill(sh.pid, signal.SIGCONT)
        time.sleep(2.5)
        os.rmdir(tmp)
        wait_for("the traceback's last line in Redis",
                 lambda: arrived(tb[-1]))
        eq(sh.term(), 0, "exit status after SIGTERM")
        arrived("")
    finally:
        sh.kill()
        r.kill()
    with open(os.path.join(d, "shipper.log")) as f:
        said = f.read()
    eq("files new to it wait until it is saved" in said, True,
       "the failed saves said (the copy waited for its key)")
    eq([m for m in got if any(l in m.split("\n") for l in tb)],
       ["\n".join(tb)], "the traceback, one event, whole")


def seed_case(s):
    def fn():
        Run(s).run()
    fn.__name__ = f"copytruncate_tracebacks_seed_{s}"
    return fn


for s in SEEDS:
    case(seed_case(s))

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
