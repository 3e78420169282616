"""bench_lib.py: what the Python benchmarks share (a free loopback port, a
redis-cli call; imported by bench_idle.py and bench_restart.py, which run
from this directory) and the whole pipeline bench_latency.sh and soak.sh
start (their Python, with bench/ on its path)."""
import os
import subprocess
import sys

# the e2e tests' harness has the free port and Elasticsearch's JSON calls
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
from shipper_harness import es_drop, es_request, free_port  # noqa: E402,F401


def build_shipper(root):
    """Builds build/release's sluice-shipper (Release) in root."""
    subprocess.run(["cmake", "-S", ".", "-B", "build/release", "-G",
                    "Ninja", "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL, cwd=root)
    subprocess.run(["cmake", "--build", "build/release", "--target",
                    "sluice-shipper"], check=True, stdout=subprocess.DEVNULL,
                   cwd=root)


def redis_cli(port, *args):
    """redis-cli's answer to args from the server on port, stripped."""
    return subprocess.run(["redis-cli", "-p", str(port), *args],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


# ---- the whole pipeline: bench_latency.sh and soak.sh ---------------------

def es_call(es, method, path, body=None):
    """Elasticsearch's JSON answer to method path (body as JSON), errors
    included (their JSON too)."""
    return es_request(es, method, path, body)[1]


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
    es_drop(es, prefix)
