#!/usr/bin/env python3
"""demo_report.py: the demo's two looks at Elasticsearch (scripts/demo).

  demo_report.py wait --pids P,P,P --timeout S
      polls until every event of the sample logs is searchable: the count
      per host.name equals what the files the shippers tail hold (lines;
      records for the Python log, whose tracebacks join the line above).
      Fails with what is missing and why it may be when S seconds pass or
      one of the daemons (pids) exits.
  demo_report.py summary [--seconds S]
      prints what a person glances at on a dashboard, read back from
      Elasticsearch with aggregations, and how to go on.

Both read SLUICE_DEMO_DIR, SLUICE_DEMO_ES_URL, SLUICE_DEMO_INDEX and the
other SLUICE_DEMO_* variables scripts/demo exports. Python 3 stdlib only.
"""
import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

ENV = os.environ
DIR = ENV.get("SLUICE_DEMO_DIR", "build/demo")
ES = ENV.get("SLUICE_DEMO_ES_URL", "http://127.0.0.1:9200").rstrip("/")
INDEX = ENV.get("SLUICE_DEMO_INDEX", "sluice") + "-*"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
UTF8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
# An error, as the Kibana dashboards count one (conf/kibana, written by
# tests/kibana/kibana_objects.py): a traceback was found, or the log said
# error or worse, in any logger's spelling.
sys.path.insert(0, os.path.join(ROOT, "tests", "kibana"))
from kibana_objects import ERROR_LEVELS  # noqa: E402
IS_ERROR = {"bool": {"should": [{"exists": {"field": "error.type"}},
                                {"terms": {"log.level": list(ERROR_LEVELS)}}],
                     "minimum_should_match": 1}}
BAR_WIDTH = 28


def es(path, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        ES + path, data=data, method=method or ("POST" if data else "GET"),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def search(body):
    return es(f"/{INDEX}/_search", body)


# ---- what the shippers were given --------------------------------------

def expected():
    """{host: {file name: events}} from the copies the shippers tail."""
    want = {}
    logs = os.path.join(DIR, "logs")
    for host in sorted(os.listdir(logs)):
        for name in sorted(os.listdir(os.path.join(logs, host))):
            with open(os.path.join(logs, host, name), encoding="utf-8",
                      errors="replace") as f:
                lines = f.read().splitlines()
            if name == "app.log":  # python preset: one event per record
                n = sum(1 for l in lines if RECORD_START.match(l))
            else:
                n = len(lines)
            want.setdefault(host, {})[name] = n
    return want


def counts_per_host():
    es(f"/{INDEX}/_refresh", method="POST")
    r = search({"size": 0, "track_total_hits": True, "aggs": {
        "h": {"terms": {"field": "host.name", "size": 50}}}})
    if "aggregations" not in r:  # no index yet
        return {}
    return {b["key"]: b["doc_count"]
            for b in r["aggregations"]["h"]["buckets"]}


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def metric(port_var, name):
    """Sum of a counter at a daemon's /metrics, or None."""
    port = ENV.get(port_var)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=2) as r:
            text = r.read().decode()
    except (OSError, ValueError):
        return None
    vals = [float(l.split()[-1]) for l in text.splitlines()
            if l.startswith(name) and not l.startswith("#")]
    return int(sum(vals)) if vals else None


def cmd_wait(args):
    want = {h: sum(f.values()) for h, f in expected().items()}
    total = sum(want.values())
    pids = [int(p) for p in args.pids.split(",") if p]
    print(f"demo: waiting until all {total} events are searchable "
          f"(at most {args.timeout} s)", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    got, why = {}, ""
    while True:
        try:
            got = counts_per_host()
            why = ""
        except urllib.error.HTTPError as e:
            if e.code != 404:  # 404: no index yet
                why = f"Elasticsearch answered {e.code} to a count"
        except OSError as e:
            why = f"Elasticsearch did not answer a count: {e}"
        if got == want:
            print(f"demo: all {total} events searchable after "
                  f"{time.monotonic() - t0:.1f} s", file=sys.stderr)
            return 0
        dead = [p for p in pids if not alive(p)]
        if dead or time.monotonic() - t0 > args.timeout:
            break
        time.sleep(0.5)
    print("demo: error: " + (
        f"a daemon exited (pid {', '.join(map(str, dead))})" if dead else
        f"not every event was searchable within {args.timeout} s"),
        file=sys.stderr)
    for h in sorted(set(want) | set(got)):
        print(f"  {h:<8} {got.get(h, 0):>6} of {want.get(h, 0)} expected",
              file=sys.stderr)
    if why:
        print(f"  last count: {why}", file=sys.stderr)
    dead_letters = metric("SLUICE_DEMO_INDEXER_HTTP_PORT",
                          "sluice_dead_letters_written_total")
    if dead_letters:
        print(f"  the indexer wrote {dead_letters} dead letters: "
              f"sluice-indexer -c conf/demo/indexer.json dlq list says why",
              file=sys.stderr)
    for name in ("indexer", "shipper-web-1", "shipper-app-1"):
        path = os.path.join(DIR, "out", name + ".log")
        try:
            with open(path) as f:
                tail = f.read().splitlines()[-5:]
        except OSError:
            continue
        print(f"  --- last lines of {path}", file=sys.stderr)
        for l in tail:
            print("  " + l, file=sys.stderr)
    return 1


# ---- the summary -------------------------------------------------------

def bar(n, top):
    if top <= 0 or n <= 0:
        return ""
    eighths = max(1, round(BAR_WIDTH * 8 * n / top))
    if not UTF8:
        return "#" * max(1, round(eighths / 8))
    return "\u2588" * (eighths // 8) + (
        "" if eighths % 8 == 0 else chr(0x2590 - eighths % 8))


def heading(title):
    print()
    print(title)


def rows(items, label_width=22, extra=None):
    """items: [(label, count)]; extra(label) -> text after the bar."""
    top = max((c for _, c in items), default=0)
    for label, c in items:
        text = f"  {str(label)[:label_width]:<{label_width}} {c:>5} " \
               f"{bar(c, top):<{BAR_WIDTH}}"
        if extra:
            text += "  " + extra(label)
        print(text.rstrip())


def terms(field, size=10, query=None, **sub):
    body = {"size": 0, "aggs": {"t": {"terms": {"field": field,
                                                "size": size}}}}
    if sub:
        body["aggs"]["t"]["aggs"] = sub
    if query:
        body["query"] = query
    return search(body)["aggregations"]["t"]["buckets"]


WEB = {"term": {"service.name": "shop-web"}}


def section_hosts(want):
    heading("Events per host (expected: what the sample files hold)")
    buckets = terms("host.name", 50, services={
        "terms": {"field": "service.name", "size": 10}})
    top = max((b["doc_count"] for b in buckets), default=0)
    for b in buckets:
        h, n = b["key"], b["doc_count"]
        w = sum(want.get(h, {}).values())
        ok = ("\u2713" if UTF8 else "ok") if n == w else "MISSING"
        svc = ", ".join(f'{s["key"]} {s["doc_count"]}'
                        for s in b["services"]["buckets"])
        print(f"  {h:<8} {n:>5} {bar(n, top):<{BAR_WIDTH}} "
              f"expected {w:>4} {ok}   {svc}")


def section_timeline():
    r = search({"size": 0, "aggs": {"t": {"date_histogram": {
        "field": "@timestamp", "fixed_interval": "5m"}, "aggs": {
        "err": {"filter": IS_ERROR}}}}})
    b = r["aggregations"]["t"]["buckets"]
    if not b:
        return
    heading("Events per 5 minutes (UTC), and the errors among them")
    errors = {x["key_as_string"][11:16]: x["err"]["doc_count"] for x in b}
    rows([(x["key_as_string"][11:16], x["doc_count"]) for x in b],
         label_width=5, extra=lambda k: f"{errors[k]:>2} errors")


def section_web():
    heading("Web requests (web-1, Apache access log) per status code")
    rows([(b["key"], b["doc_count"]) for b in terms(
        "http.response.status_code", 20, WEB)])
    heading("Top paths")
    rows([(b["key"], b["doc_count"]) for b in terms(
        "url.original", 8, WEB)], label_width=30)
    heading("Top client addresses (requests; bytes served; 4xx/5xx)")
    buckets = terms("source.address", 8, WEB, bytes={
        "sum": {"field": "http.response.body.bytes"}}, bad={
        "range": {"field": "http.response.status_code",
                  "ranges": [{"from": 400}]}})
    info = {b["key"]: (int(b["bytes"]["value"]),
                       b["bad"]["buckets"][0]["doc_count"]) for b in buckets}
    rows([(b["key"], b["doc_count"]) for b in buckets], label_width=16,
         extra=lambda k: f"{info[k][0] / 1e6:6.2f} MB  "
                         f"{info[k][1]:>3} errors")


def section_errors():
    buckets = terms("error.type", 15, None, where={"top_hits": {
        "size": 1, "_source": ["log.origin", "service.name", "host.name"]}},
        sites={"terms": {"field": "log.origin.file.name", "size": 3}})
    if not buckets:
        return
    heading("Exceptions by type, with their crash site "
            "(innermost frame of the traceback or stack trace)")
    where = {}
    for b in buckets:
        src = b["where"]["hits"]["hits"][0]["_source"]
        o = src.get("log", {}).get("origin", {})
        f = o.get("file", {})
        site = (f'{f["name"]}:{f.get("line", "?")}'
                + (f' in {o["function"]}' if o.get("function") else "")
                if f.get("name") else "(no stack trace in the event)")
        if len(b["sites"]["buckets"]) > 1:
            site += f' (and {len(b["sites"]["buckets"]) - 1} other sites)'
        where[b["key"]] = (f'{src.get("service", {}).get("name", "?")}@'
                           f'{src.get("host", {}).get("name", "?")}  {site}')
    rows([(b["key"], b["doc_count"]) for b in buckets], label_width=40,
         extra=lambda k: where[k])


def pick_trace():
    """The trace that crosses the most hosts and services, with an error
    if one does: the request a person would follow."""
    buckets = terms("trace.id", 200, None,
                    hosts={"cardinality": {"field": "host.name"}},
                    services={"cardinality": {"field": "service.name"}},
                    errors={"filter": {"exists": {"field": "error.type"}}})
    if not buckets:
        return None, 0
    best = max(buckets, key=lambda b: (
        b["hosts"]["value"], b["errors"]["doc_count"] > 0,
        b["services"]["value"], b["doc_count"], b["key"]))
    return best["key"], len(buckets)


def section_trace():
    trace, ntraces = pick_trace()
    if trace is None:
        return
    hits = search({"size": 100, "query": {"term": {"trace.id": trace}},
                   "sort": [{"@timestamp": "asc"}, {"log.offset": "asc"}],
                   "_source": ["@timestamp", "host.name", "service.name",
                               "log.level", "message", "error.type",
                               "http.response.status_code",
                               "http.request.method",
                               "url.path"]})["hits"]["hits"]
    heading(f"One request followed across services by its trace.id "
            f"({ntraces} traces in all): {trace}")
    t0 = None
    from datetime import datetime
    for h in hits:
        s = h["_source"]
        t = datetime.fromisoformat(s["@timestamp"].replace("Z", "+00:00"))
        t0 = t0 or t
        ms = int((t - t0).total_seconds() * 1000)
        msg = s.get("message", "")
        if isinstance(msg, list):
            msg = msg[0]
        msg = msg.splitlines()[0] if msg else ""
        if s.get("url", {}).get("path"):
            msg += f' {s.get("http", {}).get("request", {}).get("method", "")}' \
                   f' {s["url"]["path"]}'
        if s.get("http", {}).get("response", {}).get("status_code"):
            msg += f' -> {s["http"]["response"]["status_code"]}'
        if s.get("error", {}).get("type"):
            msg += f' [{s["error"]["type"]}]'
        print(f"  +{ms:>5} ms  {s['host']['name']:<6} "
              f"{s.get('service', {}).get('name', '?'):<14} "
              f"{str(s.get('log', {}).get('level', '')).lower():<6} "
              f"{msg[:90]}")


def cmd_summary(args):
    want = expected()
    total = es(f"/{INDEX}/_count")["count"]
    indices = sorted(es(f"/_cat/indices/{INDEX}?format=json&h=index",
                        method="GET"), key=lambda i: i["index"])
    r = search({"size": 0, "aggs": {
        "lo": {"min": {"field": "@timestamp"}},
        "hi": {"max": {"field": "@timestamp"}}}})["aggregations"]
    version = ENV.get("SLUICE_DEMO_ES_VERSION", "")
    title = f"Sluice demo: {total} events from {len(want)} hosts"
    if args.seconds:
        title += f", all searchable {args.seconds} s after `make demo` began"
    print(title)
    print("=" * len(title))
    print(f"Elasticsearch {version} at {ES}, "
          f"index {', '.join(i['index'] for i in indices)}")
    print(f"events dated {r['lo']['value_as_string'][:16]} to "
          f"{r['hi']['value_as_string'][:16]} UTC")
    section_hosts(want)
    section_timeline()
    section_web()
    section_errors()
    section_trace()
    print_next_steps(r["lo"]["value_as_string"][:10])
    return 0


def refresh_interval():
    """The refresh_interval of the template the demo installed: how long
    an appended line may wait to be searchable (Elasticsearch's 1s when the
    template sets none)."""
    path = ENV.get("SLUICE_TEMPLATE_FILE") or os.path.join(
        ROOT, "conf", "elasticsearch", "sluice-template.json")
    with open(path, encoding="utf-8") as f:
        t = json.load(f)
    return t["template"]["settings"]["index"].get("refresh_interval", "1s")


def print_next_steps(day):
    rel = os.path.relpath(DIR, os.getcwd())
    if rel.startswith(".."):
        rel = DIR
    e = ENV.get
    print(f"""
Everything is still running, tailing the copies of the samples in
{rel}/logs/ (append a line to one and it is searchable within about
{refresh_interval()}: the index template's refresh_interval).
  configs      conf/demo/shipper-web-1.json, conf/demo/shipper-app-1.json,
               conf/demo/indexer.json (commented)
  own logs     {rel}/out/ (each daemon's), and the URLs in {rel}/env
  Redis        {e("SLUICE_DEMO_REDIS_URL")}, stream {e("SLUICE_DEMO_KEY")}
  Elasticsearch {ES}  (curl '{ES}/{INDEX}/_search?q=error.type:KeyError&pretty')
  metrics      http://127.0.0.1:{e("SLUICE_DEMO_WEB1_HTTP_PORT")}/metrics (web-1), \
:{e("SLUICE_DEMO_APP1_HTTP_PORT")} (app-1), \
:{e("SLUICE_DEMO_INDEXER_HTTP_PORT")} (indexer)
  status       . {rel}/env; build/release/bin/sluice-indexer -c conf/demo/indexer.json status
Kibana 8: start it with elasticsearch.hosts: ["{ES}"], uncomment
"kibana" in conf/demo/indexer.json and run
  . {rel}/env; build/release/bin/sluice-indexer -c conf/demo/indexer.json setup
which imports the {INDEX} data view and the dashboards; the events are
dated {day} (set the time picker there).
Stop everything: make demo-stop   (a new `make demo` also starts afresh)""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--pids", default="")
    w.add_argument("--timeout", type=float, default=120)
    s = sub.add_parser("summary")
    s.add_argument("--seconds", default="")
    args = ap.parse_args()
    try:
        return cmd_wait(args) if args.cmd == "wait" else cmd_summary(args)
    except (OSError, KeyError, ValueError) as e:
        print(f"demo: error: reading back from Elasticsearch at {ES}: {e}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
