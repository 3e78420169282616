#!/usr/bin/env python3
"""The sluice-grok command line as a user meets it: output, tags, options,
error messages and exit statuses. Drives the real binary.

usage: test_tool.py SLUICE_GROK
"""
import json
import os
import subprocess
import sys
import tempfile

TOOL = sys.argv[1]
failures = []


def grok(args, data=b"", expect_status=0):
    proc = subprocess.run([TOOL, *args], input=data, capture_output=True,
                          timeout=60)
    if proc.returncode != expect_status:
        raise AssertionError(f"exit {proc.returncode}, wanted {expect_status}; "
                             f"stderr: {proc.stderr.decode(errors='replace')}")
    return proc


def events(proc):
    return [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines()]


def case(fn):
    try:
        fn()
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def eq(got, want):
    if got != want:
        raise AssertionError(f"\n   got: {got!r}\n  want: {want!r}")


@case
def one_event_per_line_in_order_with_failure_tag():
    p = grok(["-D", "NUM [0-9]+", "^%{NUM:n:int}$"], b"1\nx\n22\n")
    eq(events(p), [{"message": "1", "n": 1},
                   {"message": "x", "tags": ["_grokparsefailure"]},
                   {"message": "22", "n": 22}])


@case
def crlf_is_stripped_and_last_line_without_newline_counts():
    p = grok(["(?<w>\\w+)$"], b"ab\r\ncd")
    eq(events(p), [{"message": "ab", "w": "ab"}, {"message": "cd", "w": "cd"}])


@case
def invalid_utf8_and_nul_still_give_valid_json():
    p = grok(["(?<all>.+)"], b"a\xff\x00b\xc3\xa9\n")
    ev = events(p)[0]
    eq(ev["message"], "a\ufffd\x00b\u00e9")
    eq(ev["all"], ev["message"])


@case
def long_lines_are_cut_and_tagged():
    data = b"x" * 10 + b"\n" + b"y" * 11 + b"\nz\n"
    p = grok(["--max-line", "10", "^(?<v>[xyz]+)$"], data)
    eq(events(p), [{"message": "x" * 10, "v": "x" * 10},
                   {"message": "y" * 10, "v": "y" * 10, "tags": ["_truncated"]},
                   {"message": "z", "v": "z"}])


@case
def expressions_are_tried_in_order():
    p = grok(["-e", "^(?<num>[0-9]+)$", "-e", "^(?<word>\\w+)$",
              "-e", "(?<any>.)"], b"12\nab\n-\n")
    eq(events(p), [{"message": "12", "num": "12"},
                   {"message": "ab", "word": "ab"},
                   {"message": "-", "any": "-"}])


@case
def user_patterns_override_builtins():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "mine"), "w") as f:
            f.write("# my patterns\nWORD [a-z]{2}\nTWO %{WORD:a}%{WORD:b}\n")
        p = grok(["--patterns-dir", d, "^%{TWO}"], b"abcd\n")
        eq(events(p), [{"message": "abcd", "a": "ab", "b": "cd"}])
        p = grok(["--patterns-dir", os.path.join(d, "mine"), "^%{WORD:w}"],
                 b"xyz\n")
        eq(events(p), [{"message": "xyz", "w": "xy"}])


@case
def flavours_name_fields_differently():
    line = b'127.0.0.1 - - [10/Oct/2023:13:55:36 -0700] "GET /a HTTP/1.1" 200 512\n'
    v1 = events(grok(["--ecs", "v1", "%{HTTPD_COMMONLOG}"], line))[0]
    legacy = events(grok(["--ecs", "disabled", "%{HTTPD_COMMONLOG}"], line))[0]
    eq(v1["source"]["address"], "127.0.0.1")
    eq(v1["http"]["response"]["status_code"], 200)
    eq(legacy["clientip"], "127.0.0.1")
    eq(legacy["response"], "200")


@case
def runaway_pattern_times_out_and_the_next_line_goes_on():
    p = grok(["--match-limit", "5000", "^(\\w+\\s?)*$"],
             b"a" * 40 + b"!\nok\n")
    eq(events(p), [{"message": "a" * 40 + "!", "tags": ["_groktimeout"]},
                   {"message": "ok"}])


@case
def explain_prints_the_expanded_regex():
    p = grok(["-D", "NUM [0-9]+", "--explain", "%{NUM:n:int}\\h(?<w>x)"])
    eq(p.stdout.decode(),
       "expression 1: %{NUM:n:int}\\h(?<w>x)\n"
       "regex: (?<g1>[0-9]+)[0-9a-fA-F](?<g2>x)\n"
       "captures:\n"
       "  g1  n (int)\n"
       "  g2  w (string)\n")


@case
def stats_report_match_rate_and_speed():
    p = grok(["--stats", "^(?<d>[0-9])$"], b"1\n2\nx\ny\n")
    err = p.stderr.decode()
    for want in ("4 lines, 2 matched (50.00%)", "2 _grokparsefailure",
                 "lines/s", "MB/s", "expression 1: 2 matches, 2 failures"):
        if want not in err:
            raise AssertionError(f"{want!r} not in {err!r}")


@case
def unknown_pattern_is_a_clear_error():
    p = grok(["%{NOSUCH:x}"], expect_status=2)
    eq(p.stderr.decode().strip(),
       "sluice-grok: grok: expression '%{NOSUCH:x}': at %{NOSUCH:x}: unknown "
       "pattern 'NOSUCH'; add --patterns-dir or check the spelling")


@case
def usage_errors_exit_2():
    eq(grok([], expect_status=2).stderr.decode().splitlines()[0],
       "usage: sluice-grok [options] PATTERN [FILE...]")
    eq(grok(["--frobnicate", "x"], expect_status=2).stderr.decode().strip(),
       "sluice-grok: unknown option '--frobnicate'; see --help")
    eq(grok(["--ecs", "v2", "x"], expect_status=2).stderr.decode().strip(),
       "sluice-grok: unknown ECS compatibility 'v2'; expected v1 or disabled")
    eq(grok(["--max-line", "0", "x"], expect_status=2).stderr.decode().strip(),
       "sluice-grok: --max-line: found '0', expected a number from 1 to "
       "1073741824")
    eq(grok(["--patterns-dir"], expect_status=2).stderr.decode().strip(),
       "sluice-grok: --patterns-dir needs a value; see --help")


@case
def missing_input_file_exits_1():
    p = grok(["x", "/nonexistent/log"], expect_status=1)
    eq(p.stderr.decode().strip(),
       "sluice-grok: cannot open '/nonexistent/log': No such file or directory")


@case
def reads_files_in_order():
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a.log"), os.path.join(d, "b.log")
        open(a, "w").write("1\n2\n")
        open(b, "w").write("3\n")
        p = grok(["^(?<n>\\d)$", a, b])
        eq([e["n"] for e in events(p)], ["1", "2", "3"])


print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
