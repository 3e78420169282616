#!/usr/bin/env python3
"""sluice-indexer as an operator drives it, with a redis-server of this
test and no Elasticsearch (each node named is a closed port, or none is
asked): each case found a defect, and fails on the code before its fix.

- elasticsearch.ca_file naming no file, with an https:// node: `check`,
  `run`, `setup` and `dlq replay` refused the config (exit 2, the file
  and why), but `status` showed each node as "no answer: error setting
  certificate file" and exited 0, and `dlq list` said nothing; with
  every node http:// `check` warned and `status` did not. Every
  subcommand now reads the config alike: the same line, the same exit.

usage: test_indexer_ops.py BIN_DIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shipper_harness import (ENV, Redis, case, eq, failures,  # noqa: E402
                             free_port, tmp_dir)

BIN = sys.argv[1]
INDEXER = os.path.join(BIN, "sluice-indexer")
TMP = tmp_dir("sluice-idxops-")
redis = Redis()
COMMANDS = (["check"], ["status"], ["dlq", "list"], ["run", "--once"],
            ["setup"], ["dlq", "replay"])


def config(name, redis_section=None, es_section=None, url=None):
    """Writes TMP/name.json: this test's Redis (or url), and an
    Elasticsearch node on a closed port unless es_section says."""
    r = {"url": url or f"redis://127.0.0.1:{redis.port}/0",
         "block": "200ms", "consumer": "c1", **(redis_section or {})}
    es = {"hosts": [f"http://127.0.0.1:{free_port()}"],
          "request_timeout": "1s", **(es_section or {})}
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump({"redis": r, "elasticsearch": es}, f)
    return path


def indexer(conf, *cmd, timeout=30):
    return subprocess.run([INDEXER, "-c", conf, *cmd], capture_output=True,
                          text=True, env=ENV, timeout=timeout)


@case
def every_subcommand_judges_a_missing_ca_file_alike():
    missing = os.path.join(TMP, "no-such-ca.pem")
    tls = config("ca-tls", es_section={
        "hosts": [f"https://127.0.0.1:{free_port()}"], "ca_file": missing})
    said = (f"sluice-indexer: {tls}:1:")
    why = (f'elasticsearch.ca_file: cannot read "{missing}": No such file or '
           "directory; expected the PEM file of the CA that signed the "
           "nodes' certificates\n")
    for cmd in COMMANDS:
        p = indexer(tls, *cmd)
        eq((p.returncode, p.stdout), (2, ""), f"{cmd}: {p.stderr}")
        assert p.stderr.startswith(said) and p.stderr.endswith(why), \
            f"{cmd}: {p.stderr}"
        eq(p.stderr.count("\n"), 1, f"{cmd}: one line")
    # every node http://: the file is not used; a warning, and on
    plain = config("ca-plain", es_section={"ca_file": missing})
    warning = ("it is not used while every URL is http://: copy the CA "
               "there before switching to https://, or remove ca_file\n")
    for cmd in (["check"], ["status"], ["dlq", "list"]):
        p = indexer(plain, *cmd)
        eq(p.returncode, 0, f"{cmd}: {p.stderr}")
        first = p.stderr.split("\n")[0] + "\n"
        assert first.startswith(f"sluice-indexer: warning: {plain}:1:") \
            and first.endswith(warning), f"{cmd}: {p.stderr}"
    p = indexer(plain, "status")
    assert p.stdout.startswith(f"redis redis://127.0.0.1:{redis.port}/0: "
                               "stream sluice:events, group sluice\n"), \
        p.stdout


redis.kill()
sys.exit(1 if failures else 0)
