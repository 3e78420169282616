#!/usr/bin/env python3
"""gen_corpora.py: seeded corpora other than Apache's, to compare the
output codecs on (bench/bench_codecs.sh, bench/RESULTS.md "columnar as the
default").

  bench/gen_corpora.py --kind json|python|syslog|plain --out FILE
      [--lines N] [--seed S]

  json    JSON application logs of several loggers' shapes mixed (a
          structlog-like, a pino-like, a logrus-like, a Java ECS-like and
          an nginx access log in JSON), nested objects, arrays, trace ids,
          some lines with extra keys: many distinct event shapes
  python  Python logging (asctime - logger - level - message) with a
          traceback after one line in 12 (chained now and then)
  syslog  RFC 3164 lines (%{SYSLOGLINE}): sshd, cron, kernel, systemd,
          postfix, sudo, dhclient
  plain   free text lines with no structure (message only)

N counts lines written (a traceback's lines included).
"""
import argparse
import json
import random

WORDS = ("request user order cache retry timeout upstream session token "
         "payment invoice queue worker job shard replica index batch "
         "stream socket client server config update delete create fetch "
         "commit rollback lock unlock flush sync").split()
LOGGERS = ("app.api app.db app.cache worker.jobs billing.invoice "
           "auth.session search.index mail.sender").split()
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR")
HOSTS = ["web-%02d" % i for i in range(1, 13)]
PATHS = ["/api/v1/orders", "/api/v1/users/%d", "/api/v2/search",
         "/health", "/static/app.%s.js", "/api/v1/invoices/%d/pdf",
         "/login", "/api/v1/cart"]
UAS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
       "curl/8.4.0", "python-requests/2.31.0", "Go-http-client/1.1",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1"]


def hexid(r, n):
    return "%0*x" % (n, r.getrandbits(4 * n))


def sentence(r, lo=3, hi=9):
    return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))


def ts(r, i):
    s = 1733400000 + i // 40
    ms = r.randint(0, 999)
    h, m, sec = (s // 3600) % 24, (s // 60) % 60, s % 60
    return "2024-12-05T%02d:%02d:%02d.%03dZ" % (h, m, sec, ms)


def path(r):
    p = r.choice(PATHS)
    if "%d" in p:
        return p % r.randint(1, 99999)
    if "%s" in p:
        return p % hexid(r, 8)
    return p


def json_line(r, i):
    k = r.randrange(5)
    if k == 0:  # structlog-like
        d = {"timestamp": ts(r, i), "level": r.choice(LEVELS).lower(),
             "logger": r.choice(LOGGERS), "event": sentence(r),
             "request_id": hexid(r, 32)}
        if r.random() < 0.5:
            d["user"] = {"id": r.randint(1, 50000),
                         "roles": r.sample(["admin", "dev", "ops", "viewer"],
                                           r.randint(1, 3))}
    elif k == 1:  # pino-like
        d = {"level": r.choice((20, 30, 30, 40, 50)),
             "time": 1733400000000 + i * 25, "pid": r.randint(100, 9999),
             "hostname": r.choice(HOSTS), "msg": sentence(r),
             "req": {"id": r.randint(1, 10 ** 6), "method":
                     r.choice(("GET", "POST", "PUT")), "url": path(r)}}
        if r.random() < 0.4:
            d["res"] = {"statusCode": r.choice((200, 201, 404, 500)),
                        "responseTime": round(r.random() * 300, 3)}
    elif k == 2:  # logrus-like
        d = {"time": ts(r, i), "level": r.choice(LEVELS).lower(),
             "msg": sentence(r), "component": r.choice(LOGGERS),
             "trace_id": hexid(r, 32), "span_id": hexid(r, 16)}
        if r.random() < 0.3:
            d["error"] = "%s: %s" % (r.choice(WORDS), sentence(r, 2, 5))
    elif k == 3:  # Java ECS-like
        d = {"@timestamp": ts(r, i), "log.level": r.choice(LEVELS),
             "message": sentence(r, 4, 12),
             "ecs.version": "1.2.0",
             "service.name": r.choice(("orders", "billing", "search")),
             "event.dataset": "app.log",
             "process.thread.name": "http-nio-8080-exec-%d" % r.randint(1, 40),
             "log.logger": "com.example.%s.%sService" % (
                 r.choice(WORDS), r.choice(WORDS).capitalize()),
             "trace.id": hexid(r, 32), "transaction.id": hexid(r, 16)}
        if r.random() < 0.2:
            d["labels"] = {"tenant": "t%d" % r.randint(1, 200),
                           "region": r.choice(("eu-west-1", "us-east-1"))}
    else:  # nginx access log in JSON
        d = {"time_local": ts(r, i), "remote_addr": "10.%d.%d.%d" % (
                 r.randint(0, 255), r.randint(0, 255), r.randint(1, 254)),
             "request_method": r.choice(("GET", "GET", "POST")),
             "request_uri": path(r), "status": r.choice((200, 200, 304, 404)),
             "body_bytes_sent": r.randint(0, 90000),
             "request_time": round(r.random(), 3),
             "http_user_agent": r.choice(UAS),
             "upstream": [r.choice(HOSTS) + ":8080"
                          for _ in range(r.randint(1, 2))]}
    # extra keys on some lines: shapes that differ line to line
    for _ in range(r.choice((0, 0, 0, 1, 2))):
        key = r.choice(("attempt", "duration_ms", "shard", "cache_hit",
                        "tags", "ctx", "queue", "bytes"))
        if key == "tags":
            d[key] = r.sample(WORDS, r.randint(1, 4))
        elif key == "ctx":
            d[key] = {"a": r.randint(0, 9), "b": {"c": r.choice(WORDS)}}
        elif key == "cache_hit":
            d[key] = r.random() < 0.5
        elif key == "queue":
            d[key] = r.choice(WORDS)
        else:
            d[key] = r.randint(0, 100000)
    return json.dumps(d, separators=(",", ":"))


def traceback(r):
    out = ["Traceback (most recent call last):"]
    for _ in range(r.randint(2, 6)):
        mod = r.choice(WORDS)
        out.append('  File "/srv/app/%s/%s.py", line %d, in %s' % (
            r.choice(WORDS), mod, r.randint(1, 900),
            r.choice(WORDS) + "_" + r.choice(WORDS)))
        out.append("    %s = %s(%s)" % (r.choice(WORDS), r.choice(WORDS),
                                        r.choice(WORDS)))
    exc = r.choice(("ValueError", "KeyError", "TimeoutError",
                    "ConnectionResetError", "app.errors.PaymentError"))
    out.append("%s: %s" % (exc, sentence(r, 2, 6)))
    return out


def python_lines(r, n):
    i = 0
    while i < n:
        lv = r.choice(LEVELS)
        t = ts(r, i).replace("T", " ").replace("Z", "").replace(".", ",")
        yield "%s - %s - %s - %s" % (t, r.choice(LOGGERS), lv, sentence(r))
        i += 1
        if lv == "ERROR" and r.random() < 0.5:
            tb = traceback(r)
            if r.random() < 0.2:
                tb += ["", "During handling of the above exception, "
                       "another exception occurred:", ""] + traceback(r)
            for t in tb:
                yield t
                i += 1


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def syslog_line(r, i):
    s = i // 20
    stamp = "Dec %2d %02d:%02d:%02d" % (1 + (s // 86400) % 28,
                                        (s // 3600) % 24, (s // 60) % 60,
                                        s % 60)
    host = r.choice(HOSTS)
    k = r.randrange(7)
    ip = "192.168.%d.%d" % (r.randint(0, 255), r.randint(1, 254))
    if k == 0:
        prog, msg = "sshd[%d]" % r.randint(300, 60000), r.choice((
            "Accepted publickey for deploy from %s port %d ssh2: ED25519 "
            "SHA256:%s" % (ip, r.randint(1024, 65535), hexid(r, 20)),
            "Failed password for invalid user %s from %s port %d ssh2" % (
                r.choice(WORDS), ip, r.randint(1024, 65535)),
            "pam_unix(sshd:session): session closed for user root"))
    elif k == 1:
        prog, msg = "CRON[%d]" % r.randint(300, 60000), \
            "(root) CMD (/usr/local/bin/%s --%s)" % (r.choice(WORDS),
                                                     r.choice(WORDS))
    elif k == 2:
        prog, msg = "kernel", "[%d.%06d] %s: %s" % (
            r.randint(1, 99999), r.randint(0, 999999),
            r.choice(("eth0", "EXT4-fs (sda1)", "usb 1-1", "audit")),
            sentence(r, 3, 8))
    elif k == 3:
        prog, msg = "systemd[1]", "%s %s.service - %s." % (
            r.choice(("Started", "Stopping", "Reloading")), r.choice(WORDS),
            sentence(r, 2, 5))
    elif k == 4:
        prog, msg = "postfix/smtpd[%d]" % r.randint(300, 60000), \
            "%s: client=unknown[%s], sasl_method=PLAIN, sasl_username=%s" % (
                hexid(r, 10).upper(), ip, r.choice(WORDS))
    elif k == 5:
        prog, msg = "sudo", "    %s : TTY=pts/%d ; PWD=/home/%s ; USER=root ;"\
            " COMMAND=/usr/bin/%s" % (r.choice(WORDS), r.randint(0, 9),
                                      r.choice(WORDS), r.choice(WORDS))
    else:
        prog, msg = "dhclient[%d]" % r.randint(300, 60000), \
            "DHCPACK of %s from %s" % (ip, ip)
    return "%s %s %s: %s" % (stamp, host, prog, msg)


def plain_line(r, i):
    k = r.randrange(4)
    if k == 0:
        return sentence(r, 4, 16)
    if k == 1:
        return "[%s] %s id=%s took %dms" % (r.choice(LEVELS), sentence(r),
                                            hexid(r, 12), r.randint(0, 5000))
    if k == 2:
        return "%s %s %s" % (ts(r, i), r.choice(HOSTS), sentence(r, 2, 10))
    return "worker %d: processed %d items from %s in %.3fs" % (
        r.randint(1, 64), r.randint(0, 10000), r.choice(WORDS), r.random())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", required=True,
                    choices=("json", "python", "syslog", "plain"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=20261205)
    a = ap.parse_args()
    r = random.Random(a.seed)
    with open(a.out, "w") as f:
        if a.kind == "python":
            for line in python_lines(r, a.lines):
                f.write(line + "\n")
            return
        make = {"json": json_line, "syslog": syslog_line,
                "plain": plain_line}[a.kind]
        for i in range(a.lines):
            f.write(make(r, i) + "\n")


if __name__ == "__main__":
    main()
