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
def a_captured_tags_object_is_kept_when_tagging():
    # [tags][x] made "tags" an object; tagging the cut line replaced it with
    # [] and lost x. It goes to "_tags", tagged, as Logstash 8.7+ does.
    p = grok(["--max-line", "3", "%{WORD:[tags][x]}"], b"abcdef\nxy\n")
    eq(events(p), [{"message": "abc", "_tags": {"x": "abc"},
                    "tags": ["_tagsparsefailure", "_truncated"]},
                   {"message": "xy", "_tags": {"x": "xy"},
                    "tags": ["_tagsparsefailure"]}])


@case
def out_of_event_memory_is_reported_and_exits_3():
    # Each step that can run out of memory says which, once, and the run
    # stops with status 3: adding "message", then (with a little more room)
    # adding a tag, and with enough room none. The limits are scanned so the
    # test does not depend on the size of an event node.
    seen = {}
    for mem in range(16, 4096, 16):
        p = subprocess.run([TOOL, "--event-memory", str(mem), "--max-line",
                            "2", "^(?<d>[0-9]+)(?<e>[0-9])$"],
                           input=b"12345\n", capture_output=True, timeout=60)
        err = p.stderr.decode()
        if p.returncode == 0:
            eq(err, "")
            seen.setdefault("ok", mem)
            break
        eq(p.returncode, 3)
        eq(err.count("\n"), 1)
        if "cannot add 'message'" in err:
            seen.setdefault("message", err)
        elif "cannot add a tag" in err:
            seen.setdefault("tag", err)
    eq(sorted(seen), ["message", "ok", "tag"])
    eq(seen["message"], "sluice-grok: line 1: cannot add 'message': out of "
       "memory (the event needs more than --event-memory 16 bytes); raise "
       "--event-memory or lower --max-line\n")
    if not seen["tag"].startswith("sluice-grok: line 1: cannot add a tag: out "
                                  "of memory (the event needs more than "
                                  "--event-memory "):
        raise AssertionError(seen["tag"])


@case
def text_after_the_pattern_name_is_ignored_as_in_logstash():
    # Logstash's own docs write %{NAGIOSLOGLINE - CURRENT HOST STATE}; it
    # used to exit 2 with "unknown pattern 'NAGIOSLOGLINE - CURRENT...'".
    p = grok(["--ecs", "disabled", "%{NAGIOSLOGLINE - CURRENT HOST STATE}"],
             b"[1427925689] CURRENT HOST STATE: dbhost;UP;HARD;1;PING OK\n")
    ev = events(p)[0]
    eq(ev.get("tags"), None)
    eq(ev["nagios_hostname"], "dbhost")


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
def stats_time_points_at_the_expensive_expression():
    # Expression 1 fails on every line after quadratic backtracking (the two
    # \w* split 500 bytes every possible way before giving up on a digit):
    # about 250 us per line. Expression 2 matches at the first byte: well
    # under 1 us. Time is sampled (one call in 64), so 1,280 lines give each
    # expression twenty samples. A gap of several hundred times leaves room
    # for a busy machine preempting a sample or two; a CI run with a 30x gap
    # (a linear pattern) once came out at 9x.
    line = b"a" * 500 + b"\n"
    p = grok(["--stats", "-e", "^\\w*\\w*\\d", "-e", "^(?<first>a)"],
             line * 1280)
    err = p.stderr.decode()
    per_line = {}
    for l in err.splitlines():
        if "expression" in l and " us per line tried" in l:
            n = int(l.split("expression ")[1].split(":")[0])
            per_line[n] = float(l.split("PCRE2, ")[1].split(" us per")[0])
    if "expression 1: 0 matches, 1280 failures" not in err or \
            "expression 2: 1280 matches, 0 failures" not in err:
        raise AssertionError(f"counters: {err!r}")
    if len(per_line) != 2 or not per_line[1] > 0.2 or \
            not per_line[1] > 10 * per_line[2]:
        raise AssertionError(f"time spent does not single out expression 1: "
                             f"{per_line} in {err!r}")


@case
def stats_time_is_not_inflated_for_few_lines():
    # One line: its one timed call stands for itself, so the time in PCRE2
    # (about 0.4 ms of backtracking here) cannot exceed the run's wall time.
    p = grok(["--stats", "^\\w*\\d"], b"a" * 200000 + b"\n")
    err = p.stderr.decode()
    wall = float(err.split("sluice-grok: ")[2].split(" s,")[0])
    us = float(err.split("PCRE2, ")[1].split(" us per")[0])
    if not 0 < us / 1e6 <= wall + 0.0005:
        raise AssertionError(f"PCRE2 {us} us against {wall} s wall: {err!r}")


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


@case
def null_data_records_keep_inner_newlines_and_drop_one_trailing():
    p = grok(["-z", "^(?<first>\\w+)$"], b"a\nb\n\0c\n\n\0d\0")
    eq(events(p), [{"message": "a\nb", "first": "a"},
                   {"message": "c\n", "first": "c"},
                   {"message": "d", "first": "d"}])
    # Still one JSON object per output line: the newlines are escaped.
    eq(p.stdout.count(b"\n"), 3)
    eq(p.stdout.splitlines()[0], b'{"message":"a\\nb","first":"a"}')
    eq(events(grok(["--null-data", "(?<w>\\w+)"], b"x\ny\0")),
       [{"message": "x\ny", "w": "x"}])


@case
def null_data_empty_records_are_events_and_empty_input_is_none():
    p = grok(["-z", "(?<c>.)"], b"\0\n\0x\0\0")
    eq(events(p), [{"message": "", "tags": ["_grokparsefailure"]},
                   {"message": "", "tags": ["_grokparsefailure"]},
                   {"message": "x", "c": "x"},
                   {"message": "", "tags": ["_grokparsefailure"]}])
    eq(grok(["-z", "x"], b"").stdout, b"")


@case
def null_data_last_record_needs_no_nul():
    p = grok(["-z", "(?<c>.)"], b"a\0b\nc")
    eq([e["message"] for e in events(p)], ["a", "b\nc"])
    p = grok(["-z", "(?<c>.)"], b"a\0b\nc\n")
    eq([e["message"] for e in events(p)], ["a", "b\nc"])
    # Without NULs a whole file is one record, as with grep -z.
    p = grok(["-z", "(?<c>.)"], b"line 1\nline 2\nline 3\n")
    eq([e["message"] for e in events(p)], ["line 1\nline 2\nline 3"])


@case
def null_data_records_do_not_run_across_files():
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a.log"), os.path.join(d, "b.log")
        open(a, "wb").write(b"1\n2\0" + b"3\n4")
        open(b, "wb").write(b"5\n6\n")
        p = grok(["-z", "^(?<n>\\d)", a, b])
        eq([e["message"] for e in events(p)], ["1\n2", "3\n4", "5\n6"])


@case
def null_data_long_records_are_cut_and_tagged():
    # The limit counts the record without its trailing newline.
    data = (b"x" * 10 + b"\r\n\0" + b"y\n" * 5 + b"y\0" + b"z" * 9 + b"\n\n\0"
            + b"w" * 30)
    p = grok(["-z", "--max-line", "10", "^(?<v>[a-z]+)"], data)
    eq(events(p), [{"message": "x" * 10, "v": "x" * 10},
                   {"message": "y\n" * 5, "v": "y", "tags": ["_truncated"]},
                   {"message": "z" * 9 + "\n", "v": "z" * 9},
                   {"message": "w" * 10, "v": "w" * 10, "tags": ["_truncated"]}])


def split_records(data, max_line):
    """What -z must print for data: the reference for the chunked test."""
    recs = data.split(b"\0")
    if recs[-1] == b"":
        recs.pop()
    out = []
    for r in recs:
        r = r[:-2] if r.endswith(b"\r\n") else r[:-1] if r.endswith(b"\n") else r
        out.append((r[:max_line].decode(), len(r) > max_line))
    return out


@case
def null_data_records_across_read_chunks_match_a_reference():
    # Files are read 64 KiB at a time, so records of these sizes start, end
    # and get cut on both sides of chunk boundaries.
    import random
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "records")
        for max_line in (1, 10, 5000, 70000, 200000):
            parts = []
            for _ in range(25):
                n = rnd.choice([0, 1, max_line - 1, max_line, max_line + 1,
                                max_line + 2, max_line + 3,
                                rnd.randint(0, 150000)])
                body = (b"ab\r\nba\n" * (n // 7 + 1))[:n]
                body += rnd.choice([b"", b"", b"\n", b"\r\n"])
                parts.append(body)
            data = b"\0".join(parts) + rnd.choice([b"", b"\0"])
            with open(path, "wb") as f:
                f.write(data)
            p = grok(["-z", "--max-line", str(max_line), "(?<c>.)", path])
            got = [(e["message"], "_truncated" in e.get("tags", []))
                   for e in events(p)]
            want = split_records(data, max_line)
            if got != want:
                raise AssertionError(f"--max-line {max_line}: {len(got)} "
                                     f"records, wanted {len(want)}; first "
                                     f"difference at " + str(next(
                                         (i for i, (g, w) in enumerate(
                                             zip(got, want)) if g != w),
                                         min(len(got), len(want)))))


@case
def null_data_keeps_crlf_inside_a_record():
    # Only the trailing "\r\n" is dropped; a pattern meets the "\r" of
    # every inner line, as Logstash does with a multiline codec's event.
    p = grok(["-z", "^(?<first>[^\r\n]*)\r?\n(?<second>[^\r\n]*)"],
             b"GET /a HTTP/1.1\r\nHost: example.com\r\n\0")
    eq(events(p), [{"message": "GET /a HTTP/1.1\r\nHost: example.com",
                    "first": "GET /a HTTP/1.1", "second": "Host: example.com"}])
    p = grok(["-z", "(?<w>\\w+)$"], b"ab\r\ncd\r\n\0")
    eq(events(p), [{"message": "ab\r\ncd", "w": "cd"}])


@case
def null_data_stats_count_records():
    p = grok(["-z", "--stats", "--max-line", "4", "^(?<d>[0-9])"],
             b"1\nx\0y\ny\0" + b"2" * 9 + b"\0")
    eq([e["message"] for e in events(p)], ["1\nx", "y\ny", "2222"])
    err = p.stderr.decode()
    for want in ("3 records, 2 matched (66.67%)", "1 _grokparsefailure",
                 "1 _truncated", "records/s", "MB/s",
                 "expression 1: 2 matches, 1 failures"):
        if want not in err:
            raise AssertionError(f"{want!r} not in {err!r}")


@case
def null_data_help_and_exit_statuses():
    out = grok(["--help"]).stdout.decode()
    if "-z, --null-data" not in out:
        raise AssertionError(f"-z missing from --help: {out!r}")
    eq(grok(["-z"], expect_status=2).stderr.decode().splitlines()[0],
       "usage: sluice-grok [options] PATTERN [FILE...]")
    eq(grok(["-z", "x", "/nonexistent/log"], expect_status=1).stderr.decode()
       .strip(),
       "sluice-grok: cannot open '/nonexistent/log': No such file or directory")


def access_line(path="/", prefix=b""):
    """One Apache combined line (with prefix before it, a vhost_combined
    "host:port " for example), newline included."""
    return (prefix + b'203.0.113.9 - - [21/Nov/2025:00:00:00 +0000] "GET '
            + path.encode() + b' HTTP/1.1" 200 5 "-" "-"\n')


@case
def options_after_the_pattern_and_the_files_are_options():
    # sluice-grok '%{HTTPD_COMBINEDLOG}' access.log --stats, as grep and the
    # shipper take them; "--" ends the options, so a file may start with '-'
    line = access_line()
    with tempfile.TemporaryDirectory() as d:
        log, dash = os.path.join(d, "access.log"), os.path.join(d, "-x.log")
        open(log, "wb").write(line)
        open(dash, "wb").write(b"7\n")
        p = grok(["%{HTTPD_COMBINEDLOG}", log, "--stats"])
        eq(events(p)[0]["url"], {"original": "/"})
        if "1 matched (100.00%)" not in p.stderr.decode():
            raise AssertionError(f"no --stats: {p.stderr.decode()!r}")
        p = grok(["%{HTTPD_COMMONLOG}", "--ecs", "disabled", log])
        eq(events(p)[0]["clientip"], "203.0.113.9")
        p = grok(["%{HTTPD_COMBINEDLOG}", "--explain"])
        if not p.stdout.decode().startswith("expression 1: "):
            raise AssertionError(f"no --explain: {p.stdout.decode()!r}")
        p = subprocess.run([os.path.abspath(TOOL), "^%{INT:n:int}$", "--",
                            "-x.log"], capture_output=True, cwd=d, timeout=60)
        eq((p.returncode, events(p)), (0, [{"message": "7", "n": 7}]))
        eq(grok(["x", log, "--frobnicate"], expect_status=2).stderr.decode()
           .strip(), "sluice-grok: unknown option '--frobnicate'; see --help")


@case
def a_misspelt_pattern_name_gets_the_known_one_suggested():
    for typo in ("%{HTTPD_COMBINEDLOGG}", "%{httpd_combinedlog}"):
        eq(grok([typo], expect_status=2).stderr.decode().strip(),
           f"sluice-grok: grok: expression '{typo}': at {typo}: unknown "
           f"pattern '{typo[2:-1]}' (did you mean 'HTTPD_COMBINEDLOG'?); add "
           "--patterns-dir or check the spelling")


@case
def a_patterns_file_saved_with_a_byte_order_mark_loads():
    # Windows editors (Notepad) start a UTF-8 file with EF BB BF, and CRLF
    with tempfile.TemporaryDirectory() as d:
        pat = os.path.join(d, "vhost")
        open(pat, "wb").write(b"\xef\xbb\xbfVHOST %{IPORHOST:[url][domain]}:"
                              b"%{POSINT:[url][port]:int}\r\n"
                              b"VHOSTLOG %{VHOST} %{HTTPD_COMBINEDLOG}\r\n")
        line = access_line(prefix=b"www.example.com:443 ")
        for where in (pat, d):
            p = grok(["--patterns-dir", where, "%{VHOSTLOG}"], line)
            e = events(p)[0]
            eq((e["url"], e["source"]),
               ({"domain": "www.example.com", "port": 443, "original": "/"},
                {"address": "203.0.113.9"}))


@case
def a_bare_pattern_name_is_matched_as_text_and_said_so():
    # HTTPD_COMBINEDLOG without %{...}: a valid regex that fails every line
    p = grok(["HTTPD_COMBINEDLOG"], access_line())
    eq(events(p)[0]["tags"], ["_grokparsefailure"])
    eq(p.stderr.decode().strip(),
       "sluice-grok: warning: expression 'HTTPD_COMBINEDLOG' is matched as "
       "the text 'HTTPD_COMBINEDLOG'; to use the pattern of that name, write "
       "'%{HTTPD_COMBINEDLOG}'")
    eq(grok(["-e", "ERRORS", "-e", "%{WORD}"], b"x\n").stderr, b"")


@case
def explain_shows_the_regex_of_an_expression_that_does_not_compile():
    # the regex PCRE2 refused is what one needs to see; the error follows
    p = grok(["--explain", "-D", "NUM [0-9]+", "-e", "%{NUM:n} (x",
              "-e", "%{NOPE}"], expect_status=2)
    eq(p.stdout.decode(),
       "expression 1: %{NUM:n} (x\nregex: (?<g1>[0-9]+) (x\n"
       "expression 2: %{NOPE}\nregex: (none: see the error)\n")
    eq(p.stderr.decode(),
       "sluice-grok: grok: expression '%{NUM:n} (x': invalid regex: missing "
       "closing parenthesis at its end: the '(' at offset 9, at '(x', is not "
       "closed; a literal ( ) [ ] { } * + ? | or \\ needs a backslash before "
       "it\n")


@case
def rotated_gzip_files_are_read_as_their_text():
    # sluice-grok '%{HTTPD_COMBINEDLOG}' /var/log/apache2/access.log*: the
    # glob takes logrotate's access.log.2.gz too
    import gzip
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "access.log")
        packed = os.path.join(d, "access.log.2.gz")
        bad = os.path.join(d, "access.log.3.gz")
        open(plain, "wb").write(access_line("/1"))
        with gzip.open(packed, "wb") as f:
            f.write(access_line("/2") + access_line("/3"))
        p = grok(["%{HTTPD_COMBINEDLOG}", plain, packed])
        eq([e["url"]["original"] for e in events(p)], ["/1", "/2", "/3"])
        p = grok(["-z", "(?<n>[0-9]+) HTTP", packed])
        eq([e["n"] for e in events(p)], ["2"])
        # cut short (its trailer lost): the lines are read, then a clear error
        # and exit 1
        open(bad, "wb").write(open(packed, "rb").read()[:-8])
        p = grok(["%{HTTPD_COMBINEDLOG}", bad], expect_status=1)
        eq((p.stderr.decode(), [e["url"]["original"] for e in events(p)]),
           (f"sluice-grok: cannot read '{bad}' (gzip): unexpected end of "
            "file\n", ["/2", "/3"]))


@case
def compile_all_reports_broken_patterns_as_pattern_errors():
    # README: 2 on a pattern error, each failure one line naming the tool
    with tempfile.TemporaryDirectory() as d:
        pat = os.path.join(d, "mine")
        open(pat, "w").write("BROKEN (abc\nMYLOG %{HTTPDAT:ts}\n")
        p = grok(["--compile-all", "--patterns-dir", pat], expect_status=2)
        eq(p.stderr.decode().splitlines(),
           [f"sluice-grok: grok: pattern 'BROKEN' ({pat}:1): invalid regex: "
            "missing closing parenthesis at offset 4 of its expansion '(abc'",
            f"sluice-grok: grok: pattern 'MYLOG' ({pat}:2): at %{{HTTPDAT:ts}}"
            ": unknown pattern 'HTTPDAT' (did you mean 'HTTPDATE'?); add "
            "--patterns-dir or check the spelling"])
        if not p.stdout.decode().endswith(" patterns compile\n"):
            raise AssertionError(p.stdout.decode())


@case
def a_file_that_cannot_be_read_does_not_stop_the_others():
    # as cat and grep: say so, read the rest, exit 1 at the end
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a.log"), os.path.join(d, "b.log")
        cut = os.path.join(d, "c.log.gz")
        open(a, "w").write("1\n")
        open(b, "w").write("3\n")
        open(cut, "wb").write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
        gone = os.path.join(d, "gone.log")
        p = grok(["^(?<n>\\d)$", a, gone, cut, b], expect_status=1)
        eq([e["n"] for e in events(p)], ["1", "3"])
        eq(p.stderr.decode().splitlines(),
           [f"sluice-grok: cannot open '{gone}': No such file or directory",
            f"sluice-grok: cannot read '{cut}' (gzip): unexpected end of "
            "file"])


@case
def a_file_given_where_the_pattern_goes_is_said():
    # sluice-grok access.log: the file is taken as PATTERN, stdin is read
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "access.log")
        open(log, "wb").write(access_line())
        p = grok([log], b"x\n")
        eq(events(p), [{"message": "x", "tags": ["_grokparsefailure"]}])
        eq(p.stderr.decode().strip(),
           f"sluice-grok: warning: PATTERN '{log}' is a file, and stdin is "
           f"read; the pattern comes first: sluice-grok PATTERN {log}")
        eq(grok(["%{WORD}", log]).stderr, b"")


@case
def xz_and_bzip2_files_are_refused_with_what_to_do():
    # logrotate's compresscmd may be xz or bzip2: not read as lines of bytes
    import bz2
    import lzma
    with tempfile.TemporaryDirectory() as d:
        xz, bz = os.path.join(d, "access.log.2.xz"), os.path.join(d, "a.bz2")
        plain = os.path.join(d, "access.log")
        open(xz, "wb").write(lzma.compress(access_line()))
        open(bz, "wb").write(bz2.compress(access_line()))
        open(plain, "wb").write(access_line("/1"))
        p = grok(["%{HTTPD_COMBINEDLOG}", xz, bz, plain], expect_status=1)
        eq([e["url"]["original"] for e in events(p)], ["/1"])
        eq(p.stderr.decode().splitlines(),
           [f"sluice-grok: cannot read '{xz}': it is xz-compressed; "
            f"decompress it first: xzcat '{xz}' | sluice-grok PATTERN",
            f"sluice-grok: cannot read '{bz}': it is bzip2-compressed; "
            f"decompress it first: bzcat '{bz}' | sluice-grok PATTERN"])


print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
