#!/usr/bin/env python3
"""Checks the built-in pattern library of both flavours.

1. Every pattern in the library compiles (sluice-grok --compile-all).
2. Every name listed in names/<family>.txt (Logstash's names for that family,
   and ours for families of our own) is defined in both flavours.

usage: check_library.py SLUICE_GROK NAMES_DIR
"""
import os
import subprocess
import sys


def run(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True,
                          timeout=300)


def main():
    tool, names_dir = sys.argv[1], sys.argv[2]
    failures = []
    for flavour in ("v1", "disabled"):
        proc = run(tool, "--ecs", flavour, "--compile-all")
        if proc.returncode != 0:
            failures.append(f"--ecs {flavour}: not every pattern compiles:\n"
                            + proc.stderr.strip())
        listed = run(tool, "--ecs", flavour, "--list")
        if listed.returncode != 0:
            failures.append(f"--ecs {flavour} --list failed: {listed.stderr}")
            continue
        defined = set(listed.stdout.split())
        checked = 0
        for fname in sorted(os.listdir(names_dir)):
            if not fname.endswith(".txt"):
                continue
            with open(os.path.join(names_dir, fname)) as f:
                wanted = [l.strip() for l in f
                          if l.strip() and not l.startswith("#")]
            missing = [n for n in wanted if n not in defined]
            checked += len(wanted)
            if missing:
                failures.append(f"--ecs {flavour}: {fname[:-4]} lacks "
                                + ", ".join(missing))
        print(f"--ecs {flavour}: {len(defined)} patterns defined, "
              f"{checked} required names checked")
        if checked == 0:
            failures.append("no required names found in " + names_dir)
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
