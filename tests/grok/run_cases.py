#!/usr/bin/env python3
"""Runs grok pattern cases against the real sluice-grok binary.

A case file is JSON lines (blank lines and lines starting with '#' are
skipped). Each case:

  {"pattern": "%{HTTPD_COMBINEDLOG}",      grok expression given to sluice-grok
   "line": "127.0.0.1 - - [...] ...",       the log line
   "expect": {...} | null,                  captures, or null = must not match
   "input": "...\\r\\n",                    optional raw bytes fed instead of line+"\\n"
   "patterns_dir": "dir",                   optional, relative to the case file
   "note": "why this case exists"}          optional

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
            cases.append(case)
    return cases


def flavour_of(path):
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    if "legacy" in parts:
        return "disabled"
    if "ecs-v1" in parts:
        return "v1"
    sys.exit(f"{path}: case files live under cases/ecs-v1/ or cases/legacy/")


def run_group(tool, flavour, pattern, pdir, cases):
    cmd = [tool, "--ecs", flavour]
    if pdir:
        cmd += ["--patterns-dir", pdir]
    cmd.append(pattern)
    data = b"".join(
        (c["input"] if "input" in c else c["line"] + "\n").encode("utf-8", "surrogateescape")
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
    total, failures = 0, []
    for path in sorted(files):
        flavour = flavour_of(path)
        groups = {}
        for case in load_cases(path):
            pdir = case.get("patterns_dir")
            if pdir:
                pdir = os.path.join(os.path.dirname(path), pdir)
            groups.setdefault((case["pattern"], pdir), []).append(case)
            total += 1
        for (pattern, pdir), cases in groups.items():
            failures += run_group(tool, flavour, pattern, pdir, cases)
    for f in failures:
        print("FAIL " + f)
    print(f"{total - len(failures)} of {total} grok cases passed")
    if total == 0:
        sys.exit("no grok cases found")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
