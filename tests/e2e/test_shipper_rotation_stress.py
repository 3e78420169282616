#!/usr/bin/env python3
"""Rotation under stress, seeded: the real `sluice-shipper run` against a
redis-server this test starts (stream mode, batches decoded as
sl_batch.h's format 2), while this test writes numbered lines into
logs/app.log and, in an order a fixed seed draws, rotates it every way,
kills the shipper with -9 or stops it with SIGTERM, rotates while it is
down, and starts it again:

- rename (to a name `paths` matches, or into logs/old/, logrotate's
  `olddir`), the writer adding lines to the renamed file before it opens
  the new one;
- copytruncate, the copy's name matched (app.log.N) or not (old/copy.N:
  what was not read before the truncation may be lost, README guarantee
  5's limit), the copy made as cp makes it (created empty, then written);
- a truncation in place, written again at once (what was not read before
  it may be lost: nothing holds it any more);
- delete while the file is open, lines added to it after (read while it is
  open: with a long close_inactive and descriptors to spare);
- a rotated file read to its end compressed (app.log.N.gz, excluded) or
  deleted, so its inode may go to the next new file (ext4 reuses them);
- every one of those while the shipper is stopped, but delete.

Then: every line not in a loss README names arrived; a line that arrived
twice has one id and one content, and arrived again only after a kill -9
and only if it lies at or after its file's offset in the registry as it
was at that kill (DESIGN.md guarantee 3); no id for two lines.

The configuration varies with the seed too: close_inactive short (files
closed and reopened as they grow) or long, max_open_files 2 or 64, batch
sizes. SLUICE_ROTATION_SEEDS=1,2,3,4,5,6 (default) and
SLUICE_ROTATION_STEPS=80 (default) choose the runs (about 4 s a seed); a
failure prints the seed and the steps taken (with the line number each
began at), so that it replays; SLUICE_ROTATION_DEBUG=1 puts the shipper's
log at debug; SLUICE_ROTATION_PACED sets the share of rotations that wait
for the shipper to have read the file first (default 0.8).

`make test` runs seeds 1,2,3 (tests/e2e/CMakeLists.txt); the default set
and any others run with -DSLUICE_STRESS_TESTS=ON (ctest -L stress) or
scripts/rotation-suite. In the debug tree on 2026-12-05, after the three
fixes below: seeds 1-40 passed 40 of 40 (before them 40 of 40), 1-20 with
SLUICE_ROTATION_SETTLE=0 20 of 20 (before 19), 21-120 with it 98 of 100
(before 91, 8 of the 9 with other ids); under ASan 1-20 passed 20 of 20.
Found by it and fixed, each with a case in test_shipper_rotation_cases.py
or tests/unit/test_in_file.c: a copy read again from 0 under a new key,
every line of it sent twice with other ids, when a truncated file's ghost
(what knows its copy) did not reach the restart: dropped from the
registry by the restart before the copy was decided (then a save and a
kill), kept one per inode (copytruncate, a few lines, copytruncate: the
second over the first), or not made at all by the first scan for an entry
at offset 0 (sent, nothing acknowledged).
Then, in wave 7 (2026-12-05), found by it with SLUICE_ROTATION_SETTLE=0
on seeds 1-220 and fixed, each with its case: a stop a few ms after a
copytruncate whose copy `paths` matches sent the lines acknowledged after
the truncation was seen again from the copy (same ids: the acks named the
original, whose entry had a new key, and moved neither the copy's entry
nor the ghost's; seeds 62 and 70); a copy of a file closed while it
waited for a descriptor, copytruncated and deleted, read whole under a
new key (seed 61); a copy of a file resumed at offset 0 after a kill read
whole under a new key (seed 2 under ASan). The test's own model too: a
delete with lines written after it, a few ms after a restart, before the
new shipper had opened the file (seeds 121 and 201: nothing can read
those lines; the step now waits for a line read first). After them, in
the debug tree: seeds 1-220 with SLUICE_ROTATION_SETTLE=0 passed 219 of
220 (seed 62 once: a copy read under a new key during a run, not seen in
8 replays: open), 1-120 with the default settle 120 of 120; under ASan
1-20 with SLUICE_ROTATION_SETTLE=0 20 of 20.
In wave 9 (2026-12-05), with a new file deleted while a restart drained
a rotated one, a copy written over an older copy in place, a kill while a
copy is written and a held copy whose original left its path fixed (each
with its case elsewhere; the last is a way to seed 62's symptom, a copy
read under a new key, not seen again to confirm): in the debug tree,
seeds 1-150 with SLUICE_ROTATION_SETTLE=0 passed 150 of 150 on the last
of them, 1-220 220 of 220 and 1-120 with SLUICE_ROTATION_PACED=0 too 120
of 120 on the first three; under ASan 1-20 with SLUICE_ROTATION_SETTLE=0
20 of 20.
In wave 10 (2026-12-05), after the copytruncate hand-over of a file's
framing state to its copy (in_file_carry.c): in the debug tree seeds 1-150
passed 150 of 150, 1-110 with SLUICE_ROTATION_SETTLE=0 110 of 110; under
ASan 1-24 with it 24 of 24 (load 5-12). After that wave's two fixes (a
copytruncated file deleted under max_open_files 1-2): debug 1-40 40 of
40, 1-30 with settle 0 30 of 30; ASan 1-20 with settle 0 20 of 20.
Multiline through copytruncate is test_shipper_copytrunc_tracebacks.py's.
SLUICE_ROTATION_SETTLE (default 0.5 s) keeps a stop that long after a
copytruncate whose copy `paths` matches; 0 lets a stop come at once.

Other configurations (wave 15, 2026-12-05; each off by default, so
`make test`'s seeds run as before):
- SLUICE_ROTATION_MULTILINE=1: the python preset (timeout 200 ms), one
  record in five a traceback of 1-4 frames; an event is the record, its
  place its first line's offset;
- SLUICE_ROTATION_FORMAT=docker or cri: each line (each of a record's
  lines) framed as the json-file driver or a CRI runtime writes it;
- SLUICE_ROTATION_NAMES=kubelet: `paths` *.log, rotation by rename only,
  to N.log.<time> beside it (out of `paths`), older ones compressed to
  .gz beside them; kubelet-link: the same under pods/pN/0.log, read
  through containers/pN.log symbolic links (/var/log/containers);
- SLUICE_ROTATION_FILES=N: N logs written and rotated at random, and now
  and then all of them at once (200: a burst; SLUICE_ROTATION_WAIT_S,
  default 20 s, 120 s past 20 files: under max_open_files 2 each rotated
  file holds a descriptor for its rotate_wait, in turn);
- SLUICE_ROTATION_MAX_OPEN=1,2,3 and SLUICE_ROTATION_INACTIVE=50ms,5m:
  the values drawn from, instead of 2 or 64 and 150ms or 5m;
- SLUICE_ROTATION_INOTIFY=0: polling only (poll_interval 100 ms);
- SLUICE_ROTATION_EXCLUDE=0: no `exclude`: the retired files' .gz, which
  `paths` (app.log*) matches, are not read all the same;
- SLUICE_ROTATION_OUTAGES=W: Redis (with its AOF) killed, with the weight
  W among the steps, steps taken while it is down (a SIGTERM then waits
  out its grace), half the time first a rotation whose file is deleted
  while the shipper holds it unread (it must read it to its end once
  Redis is back), then started again: a line may come twice only as
  after a kill -9 (the batch Redis took as it died).
The registry is read after each kill: it must always parse (a kill -9
during a save never leaves it half-written). SLUICE_ROTATION_SHOW_STEPS=1
prints the steps of a seed that passed too.
In wave 15 (2026-12-05), about 800 seeded runs of these in the debug
tree (1-70 of each, most configurations) found and fixed, each with its
case in tests/unit/test_in_file.c: a line written to a renamed or deleted
file more than a tick after the rotation lost when the file had been idle
longer than rotate_wait (docker+kubelet seed 16, multiline seed 8); a
restart's copy (copytruncate while stopped) read whole again under a new
key when its original was renamed between the first scan and its open
(multiline, settle 0, paced 0, seed 48); under max_open_files 2, the one
descriptor held for good by a deleted successor waiting for its
predecessor (no exclude, outages, seed 52) or by a file back at a matched
path at its end (200 files, seed 44); and .gz files read as lines when
`paths` matched them and no `exclude` did. Open, not this area's (the
copytruncate hand-over, in_file_carry.c): a partial line the shipper had
read (a 64 KiB read ending mid-line) when copytruncate emptied its file
with the copy not matched is emitted as an event, half a line (in docker
format half a JSON line, as its message): SLUICE_ROTATION_INOTIFY=0
SLUICE_ROTATION_MULTILINE=1 SLUICE_ROTATION_FORMAT=docker, seeds 35, 60.
Open too: one traceback missing, twice, not replayed (kubelet-link docker
3 files seed 13; kubelet cri outages 0.5 seed 209, its file rotated while
stopped). The driver writes each batch of records in one write(), so no
record is left half-written by a kill; but a read can see a write half
done, ending at a page boundary between two of a record's lines, and the
multiline.timeout then cuts the record in two if the rest is not read in
200 ms. One way it was not: a rotated file put back on the ready list at
each tick (for a writer's last lines) said nothing of bytes unread when
it grew, so with the output full (an outage) the timeout ran on; fixed
(test_rotated_growth_told_unread), not shown to be the cause. A hunt on
2026-12-05 (debug and ASan, settle/paced 0 and default) did not reproduce
it: seed 209 x28 (27 ASan), seed 13 x22, cri outages seeds 200-232 and
260-310, kubelet-link seeds 1-32 and 60-97: all passed.

usage: test_shipper_rotation_stress.py SLUICE_SHIPPER
"""
import gzip
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shipper_harness  # noqa: E402
from shipper_harness import (ENV, Redis, Shipper, case, eq,  # noqa: E402
                             failures, redis_output, wait_for,
                             write_config)

SHIPPER = sys.argv[1]
TMP = shipper_harness.tmp_dir("sluice-e2e-rotstress-")
KEY = "e2e:events"
SEEDS = [int(s) for s in
         os.environ.get("SLUICE_ROTATION_SEEDS", "1,2,3,4,5,6").split(",")
         if s]
STEPS = int(os.environ.get("SLUICE_ROTATION_STEPS", "80"))
# an entry Redis took from a shipper killed a moment before may be
# processed after the TIME that dates the kill
KILL_SLACK_MS = 50
DEBUG = os.environ.get("SLUICE_ROTATION_DEBUG") == "1"  # the shipper's log
# the share of rotations while running that wait until the shipper read
# the file (as a daily logrotate finds it); the others come at once, even
# a few in the same millisecond
PACED = float(os.environ.get("SLUICE_ROTATION_PACED", "0.8"))
# how long a stop waits after a copytruncate (the docstring says why)
COPY_SETTLE_S = float(os.environ.get("SLUICE_ROTATION_SETTLE", "0.5"))
# what the defaults do not vary (each off or as before by default; the
# docstring's "Other configurations" says what each does)
FILES = int(os.environ.get("SLUICE_ROTATION_FILES", "1"))
FORMAT = os.environ.get("SLUICE_ROTATION_FORMAT", "lines")
NAMES = os.environ.get("SLUICE_ROTATION_NAMES", "logrotate")
MULTILINE = os.environ.get("SLUICE_ROTATION_MULTILINE") == "1"
MAX_OPEN = [int(v) for v in
            os.environ.get("SLUICE_ROTATION_MAX_OPEN", "").split(",") if v]
INACTIVE = [v for v in
            os.environ.get("SLUICE_ROTATION_INACTIVE", "").split(",") if v]
NO_EXCLUDE = os.environ.get("SLUICE_ROTATION_EXCLUDE") == "0"
INOTIFY_OFF = os.environ.get("SLUICE_ROTATION_INOTIFY") == "0"
OUTAGES = float(os.environ.get("SLUICE_ROTATION_OUTAGES", "0"))
# 200 files rotated under max_open_files 2 take each its rotate_wait in
# turn: 30 s
WAIT_S = float(os.environ.get("SLUICE_ROTATION_WAIT_S",
                              "20" if FILES <= 20 else "120"))


class Stress:
    def __init__(self, seed):
        shipper_harness.seeded_run(self, TMP, seed)
        self.reg = os.path.join(self.d, "data", "registry.json")
        # with outages, Redis keeps what it acknowledged across its kill
        self.redis = Redis(aof=os.path.join(self.d, "aof") if OUTAGES
                           else None)
        self.redis_up = True
        self.log_at = 0  # the log's length when the shipper was started
        self.long_inactive = self.rnd.random() < 0.5
        self.max_open = self.rnd.choice([2, 64])
        if MAX_OPEN:
            self.max_open = self.rnd.choice(MAX_OPEN)
        inactive = "5m" if self.long_inactive else "150ms"
        if INACTIVE:
            inactive = self.rnd.choice(INACTIVE)
            self.long_inactive = inactive in ("5m", "1h")
        # kubelet's names: N.log renamed to N.log.<time>, which `paths`
        # (*.log) does not match, older ones compressed beside it
        pattern = "*.log" if NAMES.startswith("kubelet") else (
            "app.log*" if FILES == 1 else "*.log*")
        if NAMES == "kubelet-link":  # /var/log/containers/*.log
            pattern = "containers/*.log"
        inputs = [{"type": "file",
                   "paths": [os.path.join(self.logs, pattern)],
                   "exclude": ["*.gz"], "rotate_wait": "300ms",
                   "scan_interval": "500ms",
                   "close_inactive": inactive,
                   "max_open_files": self.max_open}]
        if FORMAT != "lines":
            inputs[0]["format"] = FORMAT
        if NO_EXCLUDE:  # the .gz files: never read, as if excluded
            del inputs[0]["exclude"]
        if INOTIFY_OFF:  # polling only, as on a network file system
            inputs[0].update(inotify=False, poll_interval="100ms")
        if MULTILINE:
            inputs[0]["multiline"] = {"preset": "python",
                                      "timeout": "200ms"}
        self.conf = write_config(self.d, inputs, redis_output(
            self.redis, batch_events=self.rnd.choice([20, 300]),
            batch_age="20ms"), {"log": {"level": "debug"}} if DEBUG else None)
        self.place = {}  # line -> [(ino, gen, offset)]
        self.written = []
        self.maybe_lost = set()
        self.gen = {}  # ino -> generation (truncations, inode reuse)
        self.cur = []  # the lines of app.log's current generation
        self.rotated = []  # rotated files still on disk: [path, lines]
        self.got = []  # (Redis ms, (id, ts, event))
        self.arrived = set()
        self.kills = []  # (Redis ms, {ino: offset}, {ino: gen})
        self.steps = []
        self.n = 0
        self.seq = 0
        self.sh = None
        self.f = None
        self.copied_at = 0.0
        self.procs = 0  # shipper processes started
        self.opened = {}  # ino -> the shipper process that read from it
        self.unlinked = []  # the lines of held files unlinked since
        # each log's writer: its path, file and current generation's lines
        # (self.log, self.f, self.cur hold the one a step works on)
        self.slots = []
        for k in range(FILES):
            self.log = self.log if k == 0 else os.path.join(
                self.logs, f"f{k}.log")
            if NAMES == "kubelet-link":
                # containers/p<k>.log -> pods/p<k>/0.log, which kubelet
                # renames to 0.log.<time> beside it
                self.log = os.path.join(self.logs, "pods", f"p{k}", "0.log")
                os.makedirs(os.path.dirname(self.log))
                link = os.path.join(self.logs, "containers", f"p{k}.log")
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(self.log, link)
            self.open_new()
            self.slots.append({"log": self.log, "f": self.f, "cur": []})
        self.slot = FILES - 1

    def use(self, k):
        """Makes log k the one self.log, self.f and self.cur name."""
        self.slots[self.slot] = {"log": self.log, "f": self.f,
                                 "cur": self.cur}
        self.slot = k
        self.log, self.f, self.cur = (self.slots[k][x]
                                      for x in ("log", "f", "cur"))

    # --- the writer --------------------------------------------------------

    def open_new(self):
        self.f = open(self.log, "ab", buffering=0)
        ino = os.fstat(self.f.fileno()).st_ino
        self.gen[ino] = self.gen.get(ino, -1) + 1  # a reused inode: anew
        self.opened.pop(ino, None)
        self.cur = []

    def write(self, n, f=None, into=None, tail=None):
        f = f or self.f
        st = os.fstat(f.fileno())
        off, ino = st.st_size, st.st_ino
        lines = []
        raw = []
        for _ in range(n):
            line = f"s{self.seed} {self.n} " + (
                tail if tail is not None else "x" * self.rnd.randint(0, 90))
            if MULTILINE and tail is None and self.rnd.random() < 0.2:
                line += self.traceback()
            self.n += 1
            self.place[line] = [(ino, self.gen[ino], off)]
            data = self.framed(line)
            off += len(data)
            raw.append(data)
            lines.append(line)
        f.write(b"".join(raw))
        self.written += lines
        (self.cur if into is None else into).extend(lines)

    def traceback(self):
        """A Python traceback's lines after a record's first line, as
        the logging module writes them (the python preset joins them)."""
        frames = "".join(f'\n  File "/srv/app/m{k}.py", line {k * 7}, in '
                         f'f{k}\n    g{k}(x)'
                         for k in range(self.rnd.randint(1, 4)))
        return (f"\nTraceback (most recent call last):{frames}\n"
                f"ValueError: bad value {self.n}")

    def framed(self, line):
        """The bytes of line (an event: lines joined by \\n) in FORMAT."""
        if FORMAT == "lines":
            return (line + "\n").encode()
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        t += f".{self.n:09d}Z"
        if FORMAT == "docker":
            return "".join(json.dumps({"log": part + "\n",
                                       "stream": "stdout", "time": t}) + "\n"
                           for part in line.split("\n")).encode()
        return "".join(f"{t} stdout F {part}\n"
                       for part in line.split("\n")).encode()

    # --- what arrived -------------------------------------------------------

    def drain(self):
        if not self.redis_up:
            return
        for eid, evs in self.redis.entries(KEY, delete=True):
            ms = int(eid.split(b"-")[0])
            for e in evs:
                self.got.append((ms, e))
                self.arrived.add(e[2]["message"])
                for ino, _, _ in self.place.get(e[2]["message"], []):
                    self.opened[ino] = self.procs  # it read that file

    def all_arrived(self, lines):
        shipper_harness.wait_arrived(
            self, lines, f"{len(lines)} lines to arrive", deadline_s=WAIT_S,
            say=lambda miss: f"the first: {miss[0][:24]!r} at "
            f"{self.place[miss[0]]}, the last: {miss[-1][:24]!r} at "
            f"{self.place[miss[-1]]}")

    # --- the shipper --------------------------------------------------------

    def start(self):
        log = os.path.join(self.d, "shipper.log")
        self.log_at = os.path.getsize(log) if os.path.exists(log) else 0
        self.start_n = self.n  # lines from here on: read by this process
        self.procs += 1
        self.sh = Shipper(SHIPPER, ENV, self.conf, self.d)

    def registry(self):
        # never half-written, even when a kill -9 comes during a save
        try:
            with open(self.reg) as f:
                text = f.read()
        except FileNotFoundError:
            return {}
        try:
            return {e["ino"]: e["offset"] for e in json.loads(text)["entries"]}
        except ValueError as e:
            raise AssertionError(f"registry.json cannot be read: {e}: "
                                 f"{text[:200]!r}") from None

    def kill(self):
        self.sh.kill()
        self.sh = None
        if self.redis_up:
            sec, usec = self.redis.cmd("TIME")
            ms = int(sec) * 1000 + int(usec) // 1000
        else:
            ms = int(time.time() * 1000)
        self.kills.append((ms, self.registry(), dict(self.gen)))
        self.unlinked_gone()

    def unlinked_gone(self):
        """The shipper stopped: a deleted file it held unread is gone with
        its descriptor (by SIGTERM too, when Redis was down)."""
        self.drain()
        for lines in self.unlinked:
            self.maybe_lost.update(l for l in lines if l not in self.arrived)
        self.unlinked = []

    def term(self):
        # a SIGTERM that comes before the shipper has set up its signal
        # handling (ASan's start takes 50-100 ms) ends it by the default
        # action, -15, with nothing read: a graceful stop is what this
        # step tests, so it waits for the start first (the log is one file
        # across restarts: this process's "started" is after where the log
        # ended when it was started; a count of them went wrong when a kill
        # came before one logged it)
        wait_for("the shipper started", lambda: "[shipper] started" in
                 self.sh.text()[self.log_at:])
        eq(self.sh.term(), 0, "exit status after SIGTERM")
        self.sh = None
        self.unlinked_gone()

    # --- rotations ----------------------------------------------------------

    def held_open(self):
        """Whether max_open_files leaves every file its descriptor (200
        files under 64: those not read for a while are closed for the
        others, and a file deleted then is out of reach)."""
        return self.max_open >= 64 and FILES <= 8

    def rotated_name(self, matched):
        self.seq += 1
        base = os.path.basename(self.log)
        if NAMES.startswith("kubelet"):  # 0.log.20261205-215700
            return os.path.join(os.path.dirname(self.log), base +
                                time.strftime(".%Y%m%d-%H%M%S", time.gmtime())
                                + f"{self.seq:03d}")
        if matched:
            return os.path.join(self.logs, f"{base}.{self.seq}")
        return os.path.join(self.logs, "old", f"{base}.{self.seq}")

    def rename(self):
        # out of `paths`' sight, a file is found again by its inode: one
        # the shipper has never seen (it was down, or not yet looking) is
        # out of reach, for any shipper
        # (a line of it arrived: its entry was on disk before)
        known = any(l in self.arrived for l in self.cur)
        to = self.rotated_name(self.rnd.random() < 0.7 or not known)
        unseen = NAMES.startswith("kubelet") and not known and self.cur
        if unseen and self.sh is not None and self.redis_up:
            self.all_arrived(self.cur[:1])  # as kubelet finds it: read
            unseen = False
        os.rename(self.log, to)
        old, lines = self.f, self.cur
        late = self.rnd.choice([0, 0, 3, 20])
        if NAMES.startswith("kubelet") and not known and not self.cur:
            late = 0  # into a file no one may have seen
        if unseen:  # never seen, out of `paths`: out of reach
            self.maybe_lost.update(l for l in self.cur
                                   if l not in self.arrived)
        if late:  # the writer's last lines, into the renamed file
            self.write(late, old, lines)
            if unseen:
                self.maybe_lost.update(lines[-late:])
        ino = os.fstat(old.fileno()).st_ino
        old.close()
        # held: this shipper process read from the file, and closes it
        # neither for inactivity nor for the descriptor limit
        held = (self.sh is not None and self.long_inactive and
                self.held_open() and self.opened.get(ino) == self.procs)
        self.rotated.append([to, lines] + ([self.procs] if held else []))
        self.open_new()
        return f"rename to {os.path.relpath(to, self.logs)} (+{late})"

    def copytruncate(self):
        matched = self.rnd.random() < 0.75
        self.seq += 1
        base = os.path.basename(self.log)
        if NAMES.startswith("kubelet"):
            matched = False
        to = os.path.join(self.logs, f"{base}.{self.seq}" if matched
                          else f"old/copy.{self.seq}")
        shipper_harness.copy_as_cp(self.log, to)
        ino_copy = os.stat(to).st_ino
        if matched and self.sh is not None:
            self.copied_at = time.monotonic()
        self.gen[ino_copy] = self.gen.get(ino_copy, -1) + 1
        os.truncate(self.log, 0)
        ino = os.fstat(self.f.fileno()).st_ino
        self.gen[ino] += 1
        self.drain()
        for l in self.cur:
            if matched:
                _, _, off = self.place[l][0]
                self.place[l].append((ino_copy, self.gen[ino_copy], off))
            elif l not in self.arrived:  # read before it, or lost
                self.maybe_lost.add(l)
        self.rotated.append([to, self.cur])
        self.cur = []
        return f"copytruncate to {os.path.relpath(to, self.logs)}"

    def truncate(self):
        self.drain()
        os.truncate(self.log, 0)
        self.gen[os.fstat(self.f.fileno()).st_ino] += 1
        self.maybe_lost.update(l for l in self.cur if l not in self.arrived)
        self.cur = []
        n = self.rnd.randint(1, 60)
        self.write(n)  # at once: longer than before, or not
        return f"truncate, +{n}"

    def delete(self):
        self.all_arrived(self.cur)
        # read while open: the descriptor is held if no limit closed it
        late = self.rnd.randint(1, 30)
        if not (self.long_inactive and self.held_open() and self.cur):
            late = 0  # the shipper may have closed it, or never opened it
        if late and not any(int(l.split()[1]) >= self.start_n
                            for l in self.cur):
            # started since it last read the file, it may not have opened
            # it yet: what is written to a file no one holds open after
            # its unlink is out of any reader's reach (seed 121: a delete
            # a few ms after a restart); a line read now says it holds it
            self.write(1, tail="probe")  # draws nothing: the seed's steps
            self.all_arrived(self.cur[-1:])
        os.unlink(self.log)
        if late:
            self.write(late)
            self.all_arrived(self.cur)
        self.f.close()
        self.open_new()
        return f"delete (+{late} after)"

    def retire(self):
        """A rotated file read to its end: compressed or deleted."""
        done = [r for r in self.rotated
                if all(l in self.arrived or l in self.maybe_lost
                       for l in r[1])]
        if not done:
            return "retire: none read to its end"
        path = self.rnd.choice(done)[0]
        self.rotated = [r for r in self.rotated if r[0] != path]
        if self.rnd.random() < 0.5:
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as gz:
                gz.write(src.read())
        os.unlink(path)
        return f"retire {os.path.relpath(path, self.logs)}"

    # --- the run ------------------------------------------------------------

    def step(self, running):
        self.drain()
        n0 = self.n
        if FILES > 1:
            self.use(self.rnd.randrange(FILES))
        up = self.redis_up
        ops = [("write", 6), ("rename", 2), ("copytruncate", 2),
               ("truncate", 0.5), ("retire", 1)]
        if NAMES.startswith("kubelet"):  # kubelet renames, and only renames
            ops = [(o, w if o in ("write", "rename", "retire") else 0)
                   for o, w in ops]
        if running:
            # a SIGTERM with Redis down waits out its 10 s grace: rare
            ops += [("delete", 0.7 if up else 0), ("kill", 1.2),
                    ("term", 0.4 if up else 0.05), ("pause", 1)]
            if OUTAGES:
                ops += [("outage", OUTAGES if up else 0), ("unlink", 0.5)]
        if FILES > 1:
            ops += [("all", 0.5)]
        op = self.rnd.choices([o for o, _ in ops], [w for _, w in ops])[0]
        if op == "write":
            n = self.rnd.randint(1, 250)
            self.write(n)
            what = f"write {n}"
        elif op == "pause":
            time.sleep(self.rnd.random() * 0.3)
            what = "pause"
        elif op in ("kill", "term"):
            time.sleep(self.rnd.random() * 0.1)
            # a stop soon after a copytruncate comes at times within the
            # open defects above (SLUICE_ROTATION_SETTLE=0: at once)
            wait = self.copied_at + COPY_SETTLE_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            getattr(self, op)()
            down = [self.step(False) for _ in range(self.rnd.randint(0, 3))]
            self.start()
            what = f"{op}, then while stopped: {down}"
        elif op == "outage":
            what = self.outage()
        elif op == "all":
            how = self.rnd.choice(["rename"] if NAMES.startswith("kubelet")
                                  else ["rename", "copytruncate"])
            for k in range(FILES):
                self.use(k)
                getattr(self, how)()
            what = f"{how} of all {FILES} at once"
        else:
            if (running and up and op not in ("retire", "unlink") and
                    self.rnd.random() < PACED):
                # as logrotate runs: the shipper has read what is there
                self.all_arrived([l for l in self.cur
                                  if l not in self.maybe_lost])
            what = getattr(self, op)()
        if FILES > 1:
            what = f"{os.path.basename(self.log)}: {what}"
        if running:
            self.steps.append(time.strftime("%H:%M:%S", time.gmtime()) +
                              f".{int(time.time() * 1000) % 1000:03d} " +
                              f"[{n0}] {what}")
        return what

    def outage(self):
        """Redis killed (its AOF keeps what it acknowledged), steps while
        it is down, then started again on its port: the shipper stops
        reading (the files are the buffer) and sends again only what
        Redis had not answered (a replay the check allows as after a
        kill of the shipper)."""
        self.drain()
        sec, usec = self.redis.cmd("TIME")
        self.kills.append((int(sec) * 1000 + int(usec) // 1000,
                           self.registry(), dict(self.gen)))
        self.redis.kill()
        self.redis_up = False
        down = []
        if self.rnd.random() < 0.5:  # a rotation and its file deleted
            n = self.rnd.randint(1, 250)
            self.write(n)
            down += [f"write {n}", self.rename(), self.unlink()]
        down += [self.step(True) for _ in range(self.rnd.randint(1, 4))]
        time.sleep(self.rnd.random() * 1.5)
        self.redis.start()
        self.redis_up = True
        return f"redis down, then: {down}"

    def unlink(self):
        """A rotated file the shipper holds open deleted before it read
        it to its end: the descriptor must be kept until it is drained
        (delete_timeout is 5 minutes)."""
        held = [r for r in self.rotated if len(r) > 2 and r[2] == self.procs
                and not all(l in self.arrived for l in r[1])]
        if not held:
            return "unlink: none held and unread"
        r = self.rnd.choice(held)
        self.rotated.remove(r)
        os.unlink(r[0])
        self.unlinked.append(r[1])
        return f"unlink {os.path.relpath(r[0], self.logs)}, held unread"

    def run(self):
        for k in range(FILES):
            self.use(k)
            self.write(50 if FILES == 1 else self.rnd.randint(1, 20))
        self.start()
        for _ in range(STEPS):
            self.step(True)
        self.write(10)
        self.all_arrived([l for l in self.written
                          if l not in self.maybe_lost])
        self.term()
        self.drain()
        self.check()

    def check(self):
        by_msg = {}
        ids = {}
        for ms, (id_, _, e) in self.got:
            e = json.loads(json.dumps(e))
            e["log"]["file"].pop("path")  # a renamed file's new name
            e.pop("@timestamp")  # the time read, later on a replay
            by_msg.setdefault(e["message"], []).append(
                (ms, id_, json.dumps(e, sort_keys=True)))
            ids.setdefault(id_, set()).add(e["message"])
        missing = [l for l in self.written
                   if l not in by_msg and l not in self.maybe_lost]
        eq(missing[:3], [], f"lines missing ({len(missing)})")
        eq([m[:80] for m in sorted(set(by_msg) - set(self.written))][:3], [],
           "lines invented")
        eq([(i, [(m[:24], self.place.get(m)) for m in s])
            for i, s in ids.items() if len(s) > 1][:3], [],
           "one id for two lines")
        bad = []
        dups = 0
        for line, copies in by_msg.items():
            if len({(i, c) for _, i, c in copies}) != 1:
                bad.append((line[:24], "another id or content",
                            self.place[line], copies))
                continue
            times = sorted(ms for ms, _, _ in copies)
            dups += len(times) - 1
            for a, b in zip(times, times[1:]):
                if not self.replay_allowed(line, a, b):
                    bad.append((line[:24], a, b, self.place[line],
                                [(ms, i) for ms, i, _ in copies],
                                [(k, o.get(p[0]), g.get(p[0]))
                                 for k, o, g in self.kills
                                 for p in self.place[line][:1]]))
        eq(bad[:3], [], f"lines sent twice wrongly ({len(bad)})")
        return dups

    def replay_allowed(self, line, t1, t2):
        """A second sending at t2 of a line first sent at t1: after a kill
        between them, of a line at or after the registry's offset then."""
        for kill_ms, offs, gens in self.kills:
            if not t1 <= kill_ms + KILL_SLACK_MS < t2 + KILL_SLACK_MS:
                continue
            if any(offs.get(ino) is None or gens.get(ino) != gen or
                   off >= offs[ino] for ino, gen, off in self.place[line]):
                return True
        return False


def one_seed(seed):
    s = Stress(seed)
    t0 = time.monotonic()
    try:
        s.run()
        twice = len(s.got) - len({e["message"] for _, (_, _, e) in s.got})
        print(f"     seed {seed}: {len(s.written)} lines, "
              f"{len(s.maybe_lost)} in README's losses, {twice}"
              f" sent twice, {len(s.kills)} kills, "
              f"{time.monotonic() - t0:.1f} s", flush=True)
        if os.environ.get("SLUICE_ROTATION_SHOW_STEPS") == "1":
            print("\n".join(s.steps))
    except BaseException:
        print(f"     seed {seed} failed after steps: {s.steps}", flush=True)
        if s.sh is not None:
            print(s.sh.text()[-4000:])
        raise
    finally:
        if s.sh is not None:
            s.sh.kill()
        s.use(0)
        for slot in s.slots:
            slot["f"].close()
        s.redis.kill()


for _seed in SEEDS:
    def _run(seed=_seed):
        one_seed(seed)
    _run.__name__ = f"rotations_kills_and_restarts_seed_{_seed}"
    case(_run)

if failures:
    print(f"{len(failures)} failed: {', '.join(failures)}")
    sys.exit(1)
