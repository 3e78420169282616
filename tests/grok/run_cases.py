#!/usr/bin/env python3
"""Runs grok pattern cases against the real sluice-grok binary.

A case file is JSON lines (blank lines and lines starting with '#' are
skipped). Each case:

  {"pattern": "%{HTTPD_COMBINEDLOG}",      grok expression given to sluice-grok
   "line": "127.0.0.1 - - [...] ...",       the log line (or multi-line event)
   "expect": {...} | null,                  captures, or null = must not match
   "input": "...\\r\\n",                    optional raw bytes fed instead of line+"\\n"
   "patterns_dir": "dir",                   optional, relative to the case file
   "note": "why this case exists"}          optional

A case whose "line" holds a newline is a multi-line event, as a shipper's
multiline stage makes one: it runs through sluice-grok -z (NUL-separated
records) and is fed as line+"\\0", or as its "input", which must then end
with its only NUL ("a\\r\\nb\\r\\n\\0"). "null_data": true sends a
one-line case the same way.

The flavour comes from the folder the file is in: cases/ecs-v1/ runs with
--ecs v1, cases/legacy/ with --ecs disabled. A matching line must print
exactly {"message": line, **expect}; a line that does not match must print
{"message": line, "tags": ["_grokparsefailure"]}. Comparison is exact and
type-strict (1 and 1.0 and "1" differ).

usage: run_cases.py SLUICE_GROK CASE_FILE_OR_DIR...
"""
import json
import os
import subprocess
import sys


def strict_equal(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    return a == b


def load_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            try:
                case = json.loads(text)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{lineno}: case is not valid JSON: {e}")
            for key in ("pattern", "line", "expect"):
                if key not in case:
                    sys.exit(f"{path}:{lineno}: case lacks '{key}'")
            case["where"] = f"{path}:{lineno}"
            check_framing(case)
            cases.append(case)
    return cases


def check_framing(case):
    """Decides how the case is fed (lines or -z records) and refuses a case
    that would run into its neighbours in the batch."""
    multi = "\n" in case["line"]
    case["null_data"] = case.get("null_data", multi)
    if multi and not case["null_data"]:
        sys.exit(f"{case['where']}: a line with a newline needs -z; "
                 f"drop \"null_data\": false")
    if case["null_data"]:
        if "\0" in case["line"]:
            sys.exit(f"{case['where']}: a -z record cannot hold a NUL")
        if "input" not in case and case["line"].endswith("\n"):
            sys.exit(f"{case['where']}: -z drops a record's last newline; "
                     f"end the line without it, or give the bytes as input")
        raw = case.get("input", case["line"] + "\0")
        if raw.count("\0") != 1 or not raw.endswith("\0"):
            sys.exit(f"{case['where']}: a -z case's input must end with its "
                     f"only NUL")


def flavour_of(path):
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    if "legacy" in parts:
        return "disabled"
    if "ecs-v1" in parts:
        return "v1"
    sys.exit(f"{path}: case files live under cases/ecs-v1/ or cases/legacy/")


def run_group(tool, flavour, pattern, pdir, null_data, cases):
    cmd = [tool, "--ecs", flavour]
    if pdir:
        cmd += ["--patterns-dir", pdir]
    if null_data:
        cmd.append("-z")
    cmd.append(pattern)
    end = "\0" if null_data else "\n"
    data = b"".join(
        (c["input"] if "input" in c else c["line"] + end).encode("utf-8", "surrogateescape")
        for c in cases)
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=120)
    # A run that fails as a whole fails every case in it.
    if proc.returncode != 0:
        return [f"{c['where']}: sluice-grok exited {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace').strip()}" for c in cases]
    out = proc.stdout.decode("utf-8").splitlines()
    if len(out) != len(cases):
        return [f"{c['where']}: expected {len(cases)} output lines, got {len(out)}"
                for c in cases]
    failures = []
    for case, text in zip(cases, out):
        got = json.loads(text)
        if case["expect"] is None:
            want = {"message": case["line"], "tags": ["_grokparsefailure"]}
        else:
            want = {"message": case["line"]}
            want.update(case["expect"])
        if not strict_equal(got, want):
            failures.append(f"{case['where']}: pattern {pattern}\n"
                            f"   line: {case['line']!r}\n"
                            f"   want: {json.dumps(want, sort_keys=True)}\n"
                            f"    got: {json.dumps(got, sort_keys=True)}")
    return failures


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tool = sys.argv[1]
    files = []
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            for root, _, names in os.walk(arg):
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".jsonl")]
        else:
            files.append(arg)
    total, records, failures = 0, 0, []
    for path in sorted(files):
        flavour = flavour_of(path)
        groups = {}
        for case in load_cases(path):
            pdir = case.get("patterns_dir")
            if pdir:
                pdir = os.path.join(os.path.dirname(path), pdir)
            key = (case["pattern"], pdir, case["null_data"])
            groups.setdefault(key, []).append(case)
            total += 1
            records += case["null_data"]
        for (pattern, pdir, null_data), cases in groups.items():
            failures += run_group(tool, flavour, pattern, pdir, null_data,
                                  cases)
    for f in failures:
        print("FAIL " + f)
    print(f"{total - len(failures)} of {total} grok cases passed "
          f"({records} of them multi-line records, run with -z)")
    if total == 0:
        sys.exit("no grok cases found")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
