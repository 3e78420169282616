"""What the whole-pipeline tests on tests/run's servers share
(test_pipeline_kibana.py, test_pipeline_logstash.py,
test_pipeline_conflicts.py): the Redis and Elasticsearch of tests/run
(SLUICE_TEST_REDIS_URL, SLUICE_TEST_ES_URL), names of the test's own (an
index prefix, its template, a stream or list and its dead letters), the
index template of conf/ for that prefix, the daemons run to the end, and
everything of the test's removed from the servers afterwards.

    p = Pipeline("kibana", priority=1160)   # sluicekibana-PID-*, ...
    p.setup(indexer_conf)                   # the template, for PREFIX-*
    p.run([...]); p.search({...}); p.redis("XLEN", p.dead)
    sys.exit(p.finish())                    # cleanup, 1 if a case failed

The tests that run their own Redis and daemons and kill them
(test_pipeline_crash.py, test_chaos_pipeline.py) share Daemon and
redis_cli.
"""
import functools
import json
import os
import signal
import subprocess

from shipper_harness import ENV, es_drop, es_json, failures, need, tmp_dir

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(SRC, "conf", "elasticsearch", "sluice-template.json")


def write(path, obj):
    """obj as JSON in path; the path."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def run(argv, env=ENV):
    """argv run to its end; its exit status must be 0."""
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {p.returncode}: "
                             f"{p.stderr[-2000:]}")
    return p


def redis_cli(port, *args):
    """redis-cli against 127.0.0.1:port; its answer, stripped."""
    p = subprocess.run(["redis-cli", "-p", str(port), *args],
                       capture_output=True, timeout=10)
    return p.stdout.decode().strip()


class Daemon:
    """A process of a test: started, killed with -9 by pid, started
    again; its output appended to LOG_DIR/NAME.log."""

    def __init__(self, name, argv, log_dir):
        self.name, self.argv, self.log_dir = name, argv, log_dir
        self.p, self.starts, self.kills = None, 0, 0

    def start(self):
        self.starts += 1
        with open(os.path.join(self.log_dir, f"{self.name}.log"), "ab") as out:
            self.p = subprocess.Popen(self.argv, stdout=out, stderr=out,
                                      env=ENV, stdin=subprocess.DEVNULL)

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=10)
        self.kills += 1

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self):
        """SIGTERM; its exit status (killed after 20 s)."""
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode if self.p else None

    def output(self):
        with open(os.path.join(self.log_dir, f"{self.name}.log"), "rb") as f:
            return f.read().decode(errors="replace")


class Pipeline:
    def __init__(self, name, priority):
        pid = os.getpid()
        self.redis_url = need("SLUICE_TEST_REDIS_URL")
        self.es_url = need("SLUICE_TEST_ES_URL").rstrip("/")
        self.prefix = f"sluice{name}-{pid}"
        self.key = f"sluice{name}:{pid}"
        self.dead = self.key + ":dead"
        # templates of one priority may not overlap: one each test
        self.priority = priority
        self.tmp = tmp_dir(f"sluice-{name}-")
        self.es = functools.partial(es_json, self.es_url)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def redis(self, *args):
        p = subprocess.run(["redis-cli", "-u", self.redis_url, *args],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError(f"redis-cli {args}: {p.stderr}")
        return p.stdout.strip()

    def setup(self, indexer, conf):
        """`sluice-indexer -c conf setup` with conf/'s template made for
        PREFIX-*."""
        with open(TEMPLATE) as f:
            t = json.load(f)
        t["index_patterns"] = [self.prefix + "-*"]
        t["priority"] = self.priority
        template = write(self.path("template.json"), t)
        run([indexer, "-c", conf, "setup"],
            dict(ENV, SLUICE_TEMPLATE_FILE=template))

    def elasticsearch(self, **more):
        """The indexer's elasticsearch section for this test's indices."""
        return dict({"hosts": [self.es_url],
                     "index": self.prefix + "-%{+yyyy.MM.dd}",
                     "template_name": self.prefix, "flush_age": "20ms"},
                    **more)

    def search(self, body):
        return self.es("POST", f"/{self.prefix}-*/_search", body)

    def refresh(self):
        self.es("POST", f"/{self.prefix}-*/_refresh")

    def finish(self):
        """Removes the test's indices, template and keys (the dead
        letters' seen keys too); 1 when a case failed, else 0."""
        es_drop(self.es_url, self.prefix)
        seen = self.redis("--scan", "--pattern",
                          "{" + self.dead + "}*").split()
        self.redis("DEL", self.key, self.dead, *seen)
        if failures:
            print(f"FAILED: {', '.join(failures)}", flush=True)
            return 1
        return 0
