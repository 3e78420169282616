#!/usr/bin/env python3
"""adversarial_patterns.py: each library pattern's worst cost on hostile lines.

    bench/adversarial_patterns.py --sluice-grok PATH [--top N] [options]

For every pattern name in both flavours (sluice-grok --list and
--ecs disabled --list) it makes a few dozen lines built to make a regex
backtrack, writes them to one file per pattern, and runs
`sluice-grok --stats '%{NAME}' FILE` once on that file (phase 1). A pattern
whose file took longer than --flag-ms, or that tagged a line _groktimeout,
or whose run was killed at --timeout, is then measured line by line
(phase 2): each line alone, once, or --runs times (median) when it took
between 1 and 100 ms. A _groktimeout line is run again with a match limit
1000 times higher, to tell the match limit from the 1 MiB JIT stack. The
report is the worst time per line for each pattern, sorted, with the line
that caused it, how the time grows from the smallest size to the largest
(k in time ~ length^k; about 1 is linear, 2 quadratic), and the patterns
that hit _groktimeout.

The lines, made for each size in --sizes (default 10 KiB and 64 KiB):
  run:C     one piece repeated: "1", "1.", ":", " ", "a ", "a";
  rep<i>    a line that matches the pattern, minus its last byte, repeated:
            every literal the pattern looks for occurs many times, and the
            match fails at the very end. The matching ("base") lines are real
            ones from tests/grok/cases when there are some, else random walks
            through the pattern's own expanded regex (--explain), checked
            with Python's re;
  half<i>   the first half of a base line, repeated;
  seps<i>   a base line with its captured text removed, so only the
            pattern's literal separators are left, repeated;
  blow:gN   a base line with capture gN blown up to the line size (its own
            text repeated) and the last byte cut;
  pre:gN    the part of a base line before capture gN, repeated: many places
            where a match could start, and none where it can end;
  loop<i>.j a generated base line with one iteration of its j-th repeated
            group repeated up to the line size.
The run, rep, half, blow and loop lines are made once more at --probe size
(default 128 KiB), only to look for _groktimeout.

Times are sluice-grok's own --stats wall time (reading, matching, writing
JSON to /dev/null), so process start-up is not counted; the JSON writer adds
about 0.1 ms to a 64 KiB line. --jobs 2 runs two patterns at once: on a
machine that is not shared that is quicker, but the times are noisier.

Options:
  --flavour ecs-v1|legacy|both   (default both)
  --pattern NAME                 only this pattern (repeatable)
  --timeout S                    per sluice-grok run (default 20); a killed run
                                 is reported, not retried at larger sizes
  --runs R                       phase 2 runs of a slow line, median
                                 (default 3)
  --jobs J                       patterns measured at once (default 1)
  --flag-ms MS                   phase 1 file time that triggers phase 2
                                 (default 20)
  --sizes A,B,...                line sizes in bytes (default 10240,65536)
  --probe BYTES                  size of the _groktimeout probe lines, 0 for
                                 none (default 131072)
  --cases DIR                    where the real lines come from
                                 (default tests/grok/cases)
  --json FILE                    also write every measurement as JSON
  --save-lines DIR               keep the generated files (DIR/<flavour>/NAME)
SLUICE_PATTERNS_DIR is passed on to sluice-grok, so an older copy of the
pattern library can be measured with the same binary.

Python 3.11 or later (it reads regexes with the re module's parser), stdlib
only. Exit status 0 even when it finds slow patterns: it measures, it does
not judge.
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

try:
    import re._parser as sre_parse  # Python 3.11+
    import re._constants as sre_c
except ImportError:  # pragma: no cover
    sys.exit("adversarial_patterns.py: needs Python 3.11 or later")

FLAVOURS = {"ecs-v1": ["--ecs", "v1"], "legacy": ["--ecs", "disabled"]}
RUN_CHARS = ["1", "1.", ":", " ", "a ", "a"]
WALKS = 60          # random walks tried per pattern to find a matching line
MAX_BLOW = 12       # captures blown up per pattern
MAX_LOOPS = 4       # repeated groups grown per base line
SLOW_MS = 1.0       # phase 2: a line slower than this is run --runs times
LIMITS = {"match": "match limit", "stack": "JIT stack",
          "killed": "match limit; over 2 s without it", "error": "error"}

STATS_LINES = re.compile(
    r"sluice-grok: (\d+) lines, (\d+) matched \([^)]*\), (\d+) "
    r"_grokparsefailure, (\d+) _groktimeout")
STATS_TIME = re.compile(r"sluice-grok: ([0-9.]+) s, ([0-9.]+) lines/s")


# --- reading sluice-grok -----------------------------------------------------

def tool_run(tool, args, timeout):
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          timeout=timeout)


def list_patterns(tool, flavour):
    proc = tool_run(tool, FLAVOURS[flavour] + ["--list"], 60)
    if proc.returncode != 0:
        sys.exit(f"adversarial_patterns.py: {tool} --list failed: "
                 f"{proc.stderr.strip()}")
    return proc.stdout.split()


def explain_all(tool, flavour, names):
    """{name: expanded PCRE2 regex}, from --explain runs of up to 64
    expressions (sluice-grok's limit for -e)."""
    out = {}
    for i in range(0, len(names), 64):
        args = FLAVOURS[flavour] + ["--explain"]
        for n in names[i:i + 64]:
            args += ["-e", "%{" + n + "}"]
        proc = tool_run(tool, args, 120)
        if proc.returncode != 0:
            print(f"warning: --explain failed: {proc.stderr.strip()}",
                  file=sys.stderr)
        cur = None
        for line in proc.stdout.splitlines():
            m = re.match(r"expression \d+: %\{(\w+)\}$", line)
            if m:
                cur = m.group(1)
            elif line.startswith("regex: ") and cur:
                out[cur] = line[len("regex: "):]
                cur = None
    return out


def parse_stats(stderr):
    """(lines, matched, failed, timeouts, seconds) or None."""
    m1 = STATS_LINES.search(stderr)
    m2 = STATS_TIME.search(stderr)
    if not m1 or not m2:
        return None
    lines, matched, failed, timeouts = (int(x) for x in m1.groups())
    secs, lps = float(m2.group(1)), float(m2.group(2))
    # "%.3f s" has 1 ms steps; lines/s carries more digits for short runs.
    if secs < 0.1 and lps > 0:
        secs = lines / lps
    return lines, matched, failed, timeouts, secs


def run_file(tool, flavour, name, path, timeout, out_path=None, extra=()):
    """Runs sluice-grok --stats on a file (events to out_path, or
    /dev/null); returns a dict."""
    args = FLAVOURS[flavour] + [*extra, "--stats", "%{" + name + "}", path]
    t0 = time.monotonic()
    out = open(out_path, "wb") if out_path else subprocess.DEVNULL
    try:
        proc = subprocess.run([tool, *args], stdout=out,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"killed": True, "secs": time.monotonic() - t0}
    finally:
        if out_path:
            out.close()
    st = parse_stats(proc.stderr)
    if proc.returncode != 0 or st is None:
        return {"error": proc.stderr.strip() or f"exit {proc.returncode}"}
    lines, matched, failed, timeouts, secs = st
    return {"killed": False, "lines": lines, "matched": matched,
            "failed": failed, "timeouts": timeouts, "secs": secs}


def timed_out_lines(out_path):
    """Indexes of the events tagged _groktimeout. A quote inside the
    message is written as \\", so '"_groktimeout"' can only be the tag."""
    with open(out_path, "rb") as f:
        return [i for i, ev in enumerate(f) if b'"_groktimeout"' in ev]


# --- making a line that matches, from the regex ----------------------------

def to_python(regex):
    """The expanded PCRE2 regex in the syntax of Python's re (3.11)."""
    r = re.sub(r"\(\?<(g\d+)>", r"(?P<\1>", regex)
    return r.replace(r"\z", r"\Z")


POOL = ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "._-:/ =,@")


def in_class(ch, items):
    """Whether ch is in a parsed character class."""
    neg = False
    hit = False
    o = ord(ch)
    for op, av in items:
        if op is sre_c.NEGATE:
            neg = True
        elif op is sre_c.LITERAL:
            hit |= o == av
        elif op is sre_c.RANGE:
            hit |= av[0] <= o <= av[1]
        elif op is sre_c.CATEGORY:
            hit |= category(ch, av)
    return hit != neg


def category(ch, cat):
    """Whether ch is in \\d \\s \\w or their negations (ASCII)."""
    name = str(cat)
    base = (ch.isdigit() if "DIGIT" in name else
            ch in " \t\n\r\f\v" if "SPACE" in name else
            (ch.isalnum() or ch == "_") if "WORD" in name else False)
    return not base if "_NOT_" in name else base


class Walker:
    """Writes one string the parsed regex could match, choosing at random
    at each alternative and repeat; records where each group landed.
    Look-arounds and anchors are ignored, so the result is checked after."""

    def __init__(self, rng):
        self.rng = rng
        self.out = []
        self.pos = 0
        self.groups = {}
        self.loops = []     # (start, end) of one iteration of a group repeat

    def emit(self, s):
        self.out.append(s)
        self.pos += len(s)

    def pick(self, items):
        alnum = [c for c in POOL[:62] if in_class(c, items)]
        if alnum and self.rng.random() < 0.9:
            return self.rng.choice(alnum)
        other = [c for c in POOL if in_class(c, items)]
        return self.rng.choice(other) if other else "x"

    def walk(self, sub):
        for op, av in sub:
            if op is sre_c.LITERAL:
                self.emit(chr(av))
            elif op is sre_c.NOT_LITERAL:
                self.emit("x" if av != ord("x") else "y")
            elif op is sre_c.ANY:
                self.emit(self.rng.choice(POOL[:26]))
            elif op is sre_c.IN:
                self.emit(self.pick(av))
            elif op is sre_c.BRANCH:
                self.walk(self.rng.choice(av[1]))
            elif op is sre_c.SUBPATTERN:
                start = self.pos
                self.walk(av[3])
                if av[0]:
                    self.groups[av[0]] = (start, self.pos)
            elif op is sre_c.ATOMIC_GROUP:
                self.walk(av)
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT,
                        sre_c.POSSESSIVE_REPEAT):
                lo, hi, p = av
                n = lo + self.rng.choice((0, 0, 1, 1, 2, 3))
                if hi is not sre_c.MAXREPEAT:
                    n = min(n, hi)
                # a repeated group (not one character class): write one
                # iteration at least and remember it, for the loop lines
                loop = (op is not sre_c.POSSESSIVE_REPEAT and
                        (hi is sre_c.MAXREPEAT or hi > 64) and
                        (len(p) > 1 or p[0][0] not in (
                            sre_c.IN, sre_c.LITERAL, sre_c.ANY,
                            sre_c.NOT_LITERAL)))
                if loop:
                    n = max(n, 1)
                for i in range(n):
                    start = self.pos
                    self.walk(p)
                    if loop and i == 0 and self.pos > start:
                        self.loops.append((start, self.pos))
            elif op is sre_c.GROUPREF:
                a, b = self.groups.get(av, (0, 0))
                self.emit("".join(self.out)[a:b])
            elif op is sre_c.GROUPREF_EXISTS:
                self.walk(av[1] if av[0] in self.groups or not av[2]
                          else av[2])
            # AT, ASSERT, ASSERT_NOT: nothing to write

    def text(self):
        return "".join(self.out)


def base_lines(name, regex, real_lines):
    """Up to two (line, {group: (a, b)}, [loop spans]) that match: real
    lines first, then generated ones. Group spans come from Python's re; a
    generated line that Python cannot check is used as written. Loop spans
    (one iteration of each repeated group) are known for generated lines
    only."""
    py = to_python(regex)
    try:
        parsed = sre_parse.parse(py, re.S | re.M | re.A)
    except Exception:
        parsed = None
    try:
        cre = re.compile(py, re.S | re.M | re.A)
    except Exception:
        cre = None
    bases = []
    seen = set()

    def spans(m):
        return {g: m.span(g) for g in m.re.groupindex if m.span(g)[0] >= 0}

    for line in real_lines:
        if cre is not None:
            m = cre.search(line)
            if m:
                bases.append((line, spans(m), []))
                seen.add(line)
        elif line not in seen:
            bases.append((line, {}, []))
            seen.add(line)
        if len(bases) >= 1:
            break
    if parsed is None:
        return bases
    rng = random.Random(zlib.crc32(name.encode()))
    fallback = None
    for _ in range(WALKS):
        if len(bases) >= 2:
            break
        w = Walker(rng)
        try:
            w.walk(parsed.data)
        except RecursionError:
            continue
        line = w.text()
        if not line.strip() or "\n" in line or line in seen:
            continue
        idx = {v: k for k, v in parsed.state.groupdict.items()}
        wspans = {idx[g]: s for g, s in w.groups.items() if g in idx}
        if cre is None:
            fallback = fallback or (line, wspans, w.loops)
            continue
        m = cre.search(line)
        if m:
            bases.append((line, spans(m), w.loops))
            seen.add(line)
    if not bases and fallback:
        bases.append(fallback)
    return bases


# --- adversarial lines -------------------------------------------------------

def repeat_to(piece, size):
    """piece repeated and cut to exactly size characters."""
    if not piece:
        piece = "a"
    return (piece * (size // len(piece) + 1))[:size]


def make_lines(bases, sizes, probe):
    """[(kind, size, line)]: the hostile lines of one pattern (see the
    docstring at the top for the kinds)."""
    out = []

    def add(kind, size, line):
        if line and "\n" not in line and "\r" not in line:
            out.append((kind, size, line))

    for size in sizes + ([probe] if probe else []):
        timing = size != probe
        for c in RUN_CHARS:
            add(f"run:{c!r}", size, repeat_to(c, size))
        for i, (line, spans, loops) in enumerate(bases):
            cut = line[:-1] if len(line) > 1 else line
            add(f"rep{i}", size, repeat_to(cut + " ", size))
            if len(line) > 3:
                add(f"half{i}", size, repeat_to(line[:len(line) // 2], size))
            for j, (a, b) in enumerate(loops[:MAX_LOOPS]):
                add(f"loop{i}.{j}", size, line[:a] + repeat_to(
                    line[a:b], max(size - len(line), 16)) + line[b:])
            if timing:
                keep = []
                last = 0
                for a, b in sorted(spans.values()):
                    if a >= last:
                        keep.append(line[last:a])
                        last = b
                keep.append(line[last:])
                seps = "".join(keep)
                if seps.strip():
                    add(f"seps{i}", size, repeat_to(seps[:-1] + " ", size))
            if i > 0:
                continue
            done = set()
            starts = set()
            for g, (a, b) in sorted(spans.items(),
                                    key=lambda kv: int(kv[0][1:])):
                if (a, b) in done or len(done) >= MAX_BLOW:
                    continue
                done.add((a, b))
                fill = repeat_to(line[a:b] or "a", max(size - len(line), 16))
                add(f"blow:{g}", size, line[:a] + fill + line[b:-1])
                if timing and a > 0 and a not in starts:
                    starts.add(a)
                    add(f"pre:{g}", size, repeat_to(line[:a], size))
    return out


# --- measuring ---------------------------------------------------------------

def write_file(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line)
            f.write("\n")


def measure_line(tool, flavour, name, line, workdir, runs, timeout):
    """(ms, killed?) for one line run alone. One run is enough for a line
    under SLOW_MS (with one line, --stats' lines/s gives its time to a few
    microseconds) or over 100 ms (where noise is small beside the time). The
    lines in between get the median of `runs` runs."""
    path = os.path.join(workdir, "one.log")
    write_file(path, [line])
    samples = []
    for _ in range(runs):
        r = run_file(tool, flavour, name, path, timeout)
        if r.get("killed"):
            return None, True
        if "error" in r:
            raise RuntimeError(r["error"])
        samples.append(r["secs"])
        if r["secs"] * 1e3 < SLOW_MS or r["secs"] > 0.1:
            break
    return statistics.median(samples) * 1e3, False


def which_limit(tool, flavour, name, line, workdir, timeout):
    """Why a line was tagged _groktimeout: "match" if it goes away with a
    match limit 1000 times higher, "stack" if not (the JIT stack, which
    is fixed at 1 MiB), "killed" if the higher limit made it run past the
    timeout or 2 s, whichever is less."""
    path = os.path.join(workdir, "limit.log")
    write_file(path, [line])
    r = run_file(tool, flavour, name, path, min(timeout, 2.0),
                 extra=("--match-limit", "1000000000"))
    if r.get("killed"):
        return "killed"
    if "error" in r:
        return "error"
    return "stack" if r["timeouts"] else "match"


def phase2(tool, flavour, name, lines, timeouts, sizes, workdir, args):
    """Per-line costs of one pattern, for the lines of the timing sizes.
    Lines go from small to large. A kind of line whose smaller one already
    took over 2 s is not run at a larger size (it would only be killed),
    and a _groktimeout line whose smaller one still ran over 2 s with the
    higher match limit is given the same cause without running it."""
    res = []
    slow_kinds = set()
    slow_limit = set()
    order = sorted(range(len(lines)), key=lambda i: lines[i][1])
    for i in order:
        kind, size, line = lines[i]
        r = {"kind": kind, "size": size, "ms": None, "timeout": i in timeouts,
             "killed": False, "skipped": False}
        res.append(r)
        if r["timeout"] and kind in slow_limit:
            r["limit"] = "killed"
        elif r["timeout"]:
            r["limit"] = which_limit(tool, flavour, name, line, workdir,
                                     args.timeout)
            if r["limit"] == "killed":
                slow_limit.add(kind)
        if size not in sizes:
            continue
        if kind in slow_kinds:
            r["skipped"] = True
            continue
        r["ms"], r["killed"] = measure_line(tool, flavour, name, line,
                                            workdir, args.runs, args.timeout)
        if r["killed"] or r["ms"] > 2000:
            slow_kinds.add(kind)
    return res


def summarise(entry, sizes):
    """Worst ms per size, the line kind behind it, and its growth."""
    per = entry.get("lines") or []
    worst = {}
    for s in sizes:
        cands = [r for r in per if r["size"] == s and not r["skipped"]
                 and (r["ms"] is not None or r["killed"])]
        killed = [r for r in cands if r["killed"]]
        if killed:
            worst[s] = (math.inf, killed[0]["kind"])
        elif cands:
            r = max(cands, key=lambda r: r["ms"])
            worst[s] = (r["ms"], r["kind"])
    # Growth of the line behind the worst time at the largest size, from the
    # smallest size to the largest: k in time ~ length^k. Lines under 0.5 ms
    # at the largest size are left out (timer noise).
    growth = None
    if len(sizes) >= 2 and sizes[-1] in worst:
        small, big = sizes[0], sizes[-1]
        kind = worst[big][1]
        d = {r["size"]: r for r in per if r["kind"] == kind}
        a, b = d.get(small), d.get(big)
        if a and b and a["ms"] and (b["killed"] or b["skipped"]):
            growth = math.inf
        elif a and b and a["ms"] and b["ms"] and b["ms"] > 0.5:
            growth = math.log(b["ms"] / a["ms"]) / math.log(big / small)
    entry["worst"] = {str(s): v for s, v in worst.items()}
    entry["growth"] = growth
    return entry


def fmt_ms(v):
    if v is None:
        return "-"
    if v == math.inf:
        return "killed"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice-grok", required=True, dest="tool")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--flavour", choices=["ecs-v1", "legacy", "both"],
                    default="both")
    ap.add_argument("--pattern", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--flag-ms", type=float, default=20.0)
    ap.add_argument("--sizes", default="10240,65536")
    ap.add_argument("--probe", type=int, default=131072)
    ap.add_argument("--cases",
                    default=os.path.join(os.path.dirname(
                        os.path.abspath(__file__)), "..", "tests", "grok",
                        "cases"))
    ap.add_argument("--json")
    ap.add_argument("--save-lines")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    flavours = (["ecs-v1", "legacy"] if args.flavour == "both"
                else [args.flavour])
    t_start = time.monotonic()
    tasks = []
    for flavour in flavours:
        names = list_patterns(args.tool, flavour)
        if args.pattern:
            names = [n for n in names if n in args.pattern]
        regexes = explain_all(args.tool, flavour, names)
        real = read_cases(os.path.join(args.cases, flavour))
        tasks += [(flavour, n, regexes, real) for n in names]
    with tempfile.TemporaryDirectory(prefix="sluice-adv-") as workdir:
        def task(i):
            flavour, name, regexes, real = tasks[i]
            d = os.path.join(workdir, str(i))
            os.mkdir(d)
            return one_pattern(args, flavour, name, regexes, real, sizes, d)

        # Each task runs its own sluice-grok processes; threads only wait.
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(task, range(len(tasks))))
    elapsed = time.monotonic() - t_start
    report(results, sizes, args, elapsed)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "elapsed_s": elapsed,
                       "results": results}, f, indent=1,
                      default=lambda o: None)


def read_cases(folder):
    """{pattern name: [real lines that must match it]} from the case files
    whose expression is exactly %{NAME} (one-line records only)."""
    out = {}
    if not os.path.isdir(folder):
        return out
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".jsonl"):
            continue
        with open(os.path.join(folder, fn), encoding="utf-8") as f:
            for raw in f:
                if not raw.strip() or raw.startswith("#"):
                    continue
                c = json.loads(raw)
                m = re.fullmatch(r"%\{(\w+)\}", c.get("pattern", ""))
                if (m and c.get("expect") is not None and "input" not in c
                        and "\n" not in c["line"]):
                    out.setdefault(m.group(1), []).append(c["line"])
    return out


def one_pattern(args, flavour, name, regexes, real, sizes, workdir):
    """Phase 1 for one pattern, then phase 2 if it looks slow."""
    t0 = time.monotonic()
    entry = {"flavour": flavour, "name": name}
    regex = regexes.get(name)
    bases = base_lines(name, regex, real.get(name, [])) if regex else []
    entry["base"] = [b[0] for b in bases]
    lines = make_lines(bases, sizes, args.probe)
    folder = workdir
    if args.save_lines:
        folder = os.path.join(args.save_lines, flavour)
        os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    write_file(path, [ln for _, _, ln in lines])
    out_path = os.path.join(workdir, "events.json")
    p1 = run_file(args.tool, flavour, name, path, args.timeout, out_path)
    if "error" in p1:
        entry["error"] = p1["error"]
        return entry
    entry["phase1"] = p1
    entry["nlines"] = len(lines)
    entry["bytes"] = sum(len(ln) + 1 for _, _, ln in lines)
    timeouts = set(timed_out_lines(out_path)) if p1.get("timeouts") else set()
    if p1["killed"] or timeouts or p1["secs"] * 1e3 > args.flag_ms:
        entry["lines"] = phase2(args.tool, flavour, name, lines, timeouts,
                                sizes, workdir, args)
        summarise(entry, sizes)
    entry["elapsed_s"] = time.monotonic() - t0
    return entry


def report(results, sizes, args, elapsed):
    def key(e):
        w = e.get("worst")
        if w:
            return max(v[0] for v in w.values())
        p1 = e.get("phase1") or {}
        return p1.get("secs", 0) * 1e3 / max(e.get("nlines", 1), 1)

    errors = [e for e in results if "error" in e]
    ok = [e for e in results if "error" not in e]
    ok.sort(key=key, reverse=True)
    n2 = sum(1 for e in ok if "lines" in e)
    print(f"{len(ok)} patterns measured in {elapsed:.0f} s; {n2} measured "
          f"line by line (phase 1 file over {args.flag_ms:g} ms, a "
          f"_groktimeout, or killed at {args.timeout:g} s)")
    nobase = [f"{e['flavour']}:{e['name']}" for e in ok if not e["base"]]
    if nobase:
        print(f"{len(nobase)} patterns with no matching base line (only the "
              f"run:C lines): {' '.join(nobase)}")
    hdr = " ".join(f"{'ms@' + str(s // 1024) + 'K':>9}" for s in sizes)
    print(f"\nworst time per line, top {args.top} (ms; k: time ~ length^k "
          "from the smallest size to the largest, 1 linear, 2 quadratic)")
    print(f"{'flavour':8} {'pattern':42} {hdr} {'k':>5}  worst line")
    for e in ok[:args.top]:
        w = e.get("worst")
        if w:
            cells = " ".join(f"{fmt_ms(w.get(str(s), (None,))[0]):>9}"
                             for s in sizes)
            kinds = sorted({v[1] for v in w.values()})
            g = e["growth"]
            gs = "-" if g is None else ("inf" if g == math.inf else
                                        f"{g:.1f}")
            print(f"{e['flavour']:8} {e['name']:42} {cells} {gs:>5}  "
                  f"{','.join(kinds)}")
        else:
            avg = key(e)
            print(f"{e['flavour']:8} {e['name']:42} {'(phase 1 only: '}"
                  f"{e['phase1']['secs'] * 1e3:.1f} ms for {e['nlines']} "
                  f"lines, {avg:.3f} ms avg)")
    print("\n_groktimeout or killed (line@size, cause)")
    any_to = False
    for e in ok:
        p1 = e["phase1"]
        if not (p1.get("killed") or p1.get("timeouts")):
            continue
        any_to = True
        bad = [f"{r['kind']}@{r['size'] // 1024}K"
               + (f" ({LIMITS[r['limit']]})" if r.get("limit") else "")
               + (" (killed)" if r["killed"] else "")
               for r in e.get("lines", []) if r["timeout"] or r["killed"]]
        what = (f"killed after {args.timeout:g} s" if p1.get("killed")
                else f"{p1['timeouts']} of {p1['lines']} lines")
        print(f"{e['flavour']:8} {e['name']:42} {what}: {' '.join(bad)}")
    if not any_to:
        print("(none)")
    for e in errors:
        print(f"error: {e['flavour']}:{e['name']}: {e['error']}")


if __name__ == "__main__":
    main()
