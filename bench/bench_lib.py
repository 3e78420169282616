"""bench_lib.py: what the Python benchmarks share (a free loopback port, a
redis-cli call; imported by bench_idle.py and bench_restart.py, which run
from this directory) and the whole pipeline bench_latency.sh and soak.sh
start (their Python, with bench/ on its path)."""
import random
import socket
import subprocess
import sys


def free_port():
    """A port on 127.0.0.1 in 20000-32000 that nothing listens on now."""
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    sys.exit("no free port")


def redis_cli(port, *args):
    """redis-cli's answer to args from the server on port, stripped."""
    return subprocess.run(["redis-cli", "-p", str(port), *args],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


# ---- the whole pipeline: bench_latency.sh and soak.sh ---------------------

def es_call(es, method, path, body=None, timeout=10):
    """Elasticsearch's JSON answer to method path (body as JSON), errors
    included (their JSON too)."""
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request(
        es + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"null")


def start_pipeline(root, tmp, name, prefix, inputs, priority, refresh=None):
    """sluice-indexer and sluice-shipper `run` (build/release) in tmp, on
    the servers SLUICE_TEST_REDIS_URL and SLUICE_TEST_ES_URL name, both
    called `name` (host, consumer): the shipper's inputs to the stream
    PREFIX:events, the indexer into
    PREFIX-yyyy.MM.dd under the shipped template (its priority raised by
    `priority`, its refresh_interval set to `refresh` if given), set up
    first. Their logs are tmp/indexer.log and tmp/shipper.log. Returns
    {"indexer": Popen, "shipper": Popen}."""
    import json
    import os
    es = os.environ["SLUICE_TEST_ES_URL"]
    redis = os.environ["SLUICE_TEST_REDIS_URL"]
    bin_ = os.path.join(root, "build", "release", "bin")
    with open(os.path.join(root, "conf/elasticsearch/sluice-template.json")) as f:
        t = json.load(f)
    t["index_patterns"] = [prefix + "-*"]
    t["priority"] = t.get("priority", 0) + priority
    if refresh is not None:
        t["template"]["settings"]["index"]["refresh_interval"] = refresh
    tfile = os.path.join(tmp, "template.json")
    with open(tfile, "w") as f:
        json.dump(t, f)
    key = prefix + ":events"
    conf = {"shipper": {"host": {"name": name},
                        "data_dir": os.path.join(tmp, "data"),
                        "inputs": inputs,
                        "output": {"redis": {"url": redis, "key": key}}},
            "indexer": {"redis": {"url": redis, "key": key,
                                  "consumer": name},
                        "elasticsearch": {
                            "hosts": [es], "template_name": prefix,
                            "index": prefix + "-%{+yyyy.MM.dd}"}}}
    for d, c in conf.items():
        with open(os.path.join(tmp, f"{d}.json"), "w") as f:
            json.dump(c, f)
    env = dict(os.environ, SLUICE_TEMPLATE_FILE=tfile)
    subprocess.run([f"{bin_}/sluice-indexer", "-c", f"{tmp}/indexer.json",
                    "setup"], check=True, env=env, capture_output=True)
    return {d: subprocess.Popen([f"{bin_}/sluice-{d}", "-c",
                                 f"{tmp}/{d}.json", "run"],
                                stderr=open(f"{tmp}/{d}.log", "w"))
            for d in ("indexer", "shipper")}


def drop_pipeline(es, prefix):
    """Deletes the indices PREFIX-* and the template start_pipeline made."""
    for x in es_call(es, "GET", f"/_cat/indices/{prefix}-*?format=json&h=index"):
        es_call(es, "DELETE", "/" + x["index"])
    es_call(es, "DELETE", f"/_index_template/{prefix}")
