#!/usr/bin/env python3
"""test_setup_import.py: `sluice-indexer setup` with kibana.url, the real
binary against tests/lib/http_stub.py standing for Elasticsearch and
Kibana, sends the shipped conf/kibana objects as Kibana's saved-objects
import wants them: POST /api/saved_objects/_import?overwrite=true, header
kbn-xsrf, the Elasticsearch credentials, a well-formed multipart/form-data
body of one part "file" named sluice.ndjson holding the file's bytes
exactly. tests/unit/test_setup.c covers the same request built from
synthetic files, each failure's message and OpenSearch; this test is the
shipped objects through the command a user runs.

usage: test_setup_import.py SLUICE_INDEXER HTTP_STUB TEMPLATE KIBANA_DIR
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

INDEXER, STUB, TEMPLATE, KIBANA = sys.argv[1:5]
PASSWORD = "kb-secret-7"
failures = []


def case(fn):
    try:
        fn()
        print("ok   " + fn.__name__)
    except AssertionError as e:
        failures.append(fn.__name__)
        print("FAIL %s: %s" % (fn.__name__, e))
    return fn


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s\n   got: %r\n  want: %r" % (what, got, want))


class Stub:
    def __init__(self, tmp, tls=False):
        self.routes = os.path.join(tmp, "routes.json")
        self.record = os.path.join(tmp, "record.jsonl")
        self.set_routes({})
        args = [sys.executable, STUB, self.routes, self.record]
        if tls:
            self.certs = os.path.join(tmp, "certs")
            os.mkdir(self.certs)
            args.append(self.certs)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()  # the port, once listening
        if not line.strip().isdigit():
            raise SystemExit("http_stub.py did not start: %r" % line)
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http",
                                           int(line))

    def set_routes(self, routes):
        with open(self.routes, "w") as f:
            json.dump(routes, f)
        open(self.record, "w").close()

    def requests(self):
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def setup(stub, tmp, kibana_url, **es):
    cfg = os.path.join(tmp, "indexer.json")
    with open(cfg, "w") as f:
        json.dump({"elasticsearch": dict({"hosts": [stub.url],
                                          "username": "elastic",
                                          "password": "${ES_PASSWORD}"},
                                         **es),
                   "kibana": {"url": kibana_url}}, f)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
           "ES_PASSWORD": PASSWORD, "SLUICE_TEMPLATE_FILE": TEMPLATE,
           "SLUICE_KIBANA_DIR": KIBANA}
    p = subprocess.run([INDEXER, "-c", cfg, "setup"], capture_output=True,
                       text=True, env=env, timeout=60)
    if PASSWORD in p.stdout + p.stderr:
        raise AssertionError("the password is in the output")
    return p


def shipped_files():
    return sorted(n for n in os.listdir(KIBANA) if n.endswith(".ndjson"))


@case
def setup_imports_the_shipped_objects_as_kibana_wants_them():
    with tempfile.TemporaryDirectory(prefix="sluice-kbimport-") as tmp:
        stub = Stub(tmp)
        try:
            stub.set_routes({
                "GET /": [200, {"version": {"number": "8.15.0"}}],
                "GET /_index_template/sluice": [404, {}],
                "PUT /_index_template/sluice": [200, {"acknowledged": True}],
                "POST /api/saved_objects/_import?overwrite=true":
                    [200, {"success": True, "successCount": 14}]})
            # a trailing slash on kibana.url makes no "//" in the path
            p = setup(stub, tmp, stub.url + "/")
            reqs = stub.requests()
        finally:
            stub.stop()
    eq(p.returncode, 0, "exit status; stderr: " + p.stderr)
    eq(p.stdout, "Elasticsearch 8.15.0: index template 'sluice' version 3: "
       "installed\nkibana: %d files, 14 objects imported\n" %
       len(shipped_files()))
    imports = [r for r in reqs if r["path"].startswith("/api/")]
    eq(len(imports), len(shipped_files()), "import requests")
    auth = "Basic " + base64.b64encode(
        ("elastic:" + PASSWORD).encode()).decode()
    for r, name in zip(imports, shipped_files()):
        eq((r["method"], r["path"]),
           ("POST", "/api/saved_objects/_import?overwrite=true"))
        h = r["headers"]
        eq(h.get("kbn-xsrf"), "true", "kbn-xsrf")
        eq(h.get("authorization"), auth, "credentials")
        eq("expect" in h, False, "Expect header")
        eq(h.get("content-type", "").startswith(
            "multipart/form-data; boundary="), True, h.get("content-type"))
        eq(r["multipart_error"], None, "multipart body")
        eq(len(r["parts"]), 1, "parts")
        part = r["parts"][0]
        eq((part["name"], part["filename"], part["content_type"]),
           ("file", name, "application/ndjson"))
        with open(os.path.join(KIBANA, name), "rb") as f:
            want = f.read()
        eq(base64.b64decode(part["data_b64"]) == want, True,
           "the part holds %s byte for byte" % name)
        eq(int(h.get("content-length", -1)),
           len(base64.b64decode(r["body_b64"])), "Content-Length")


@case
def a_kibana_space_in_the_url_is_where_the_objects_go():
    with tempfile.TemporaryDirectory(prefix="sluice-kbimport-") as tmp:
        stub = Stub(tmp)
        try:
            stub.set_routes({
                "GET /": [200, {"version": {"number": "8.15.0"}}],
                "GET /_index_template/sluice": [200, {"index_templates": [
                    {"name": "sluice", "index_template": {"version": 3}}]}],
                "POST /s/ops/api/saved_objects/_import?overwrite=true":
                    [200, {"success": True, "successCount": 14}]})
            p = setup(stub, tmp, stub.url + "/s/ops")
            reqs = stub.requests()
        finally:
            stub.stop()
    eq((p.returncode, p.stdout.splitlines()[-1:]),
       (0, ["kibana: 1 files, 14 objects imported"]), p.stderr)
    eq(reqs[-1]["path"], "/s/ops/api/saved_objects/_import?overwrite=true")


@case
def kibana_refusing_an_object_fails_setup_with_its_reason():
    with tempfile.TemporaryDirectory(prefix="sluice-kbimport-") as tmp:
        stub = Stub(tmp)
        try:
            stub.set_routes({
                "GET /": [200, {"version": {"number": "8.15.0"}}],
                "GET /_index_template/sluice": [200, {"index_templates": [
                    {"name": "sluice", "index_template": {"version": 3}}]}],
                "POST /api/saved_objects/_import?overwrite=true": [200, {
                    "success": False, "successCount": 13, "errors": [
                        {"id": "sluice-web-access", "type": "dashboard",
                         "error": {"type": "missing_references"}}]}]})
            p = setup(stub, tmp, stub.url)
        finally:
            stub.stop()
    eq(p.returncode, 1, "exit status")
    eq(p.stderr.splitlines()[-1],
       "sluice-indexer: setup: importing '%s/sluice.ndjson' into Kibana: "
       "1 objects failed; the first, dashboard 'sluice-web-access': "
       "missing_references" % KIBANA)


@case
def over_https_setup_checks_certificates_unless_tls_verify_is_false():
    # tls_verify false was ignored by setup (admin_http): a self-signed
    # node that `run` reached was refused by `setup`
    routes = {"GET /": [200, {"version": {"number": "8.15.0"}}],
              "GET /_index_template/sluice": [200, {"index_templates": [
                  {"name": "sluice", "index_template": {"version": 3}}]}],
              "POST /api/saved_objects/_import?overwrite=true":
                  [200, {"success": True, "successCount": 14}]}
    with tempfile.TemporaryDirectory(prefix="sluice-kbimport-") as tmp:
        stub = Stub(tmp, tls=True)
        try:
            stub.set_routes(routes)
            p = setup(stub, tmp, stub.url)
            eq(p.returncode, 1, "exit status without the CA")
            if "TLS failed" not in p.stderr or \
                    "set elasticsearch.ca_file" not in p.stderr:
                raise AssertionError(p.stderr)
            eq(stub.requests(), [], "requests without the CA")
            p = setup(stub, tmp, stub.url,
                      ca_file=os.path.join(stub.certs, "ca.pem"))
            eq((p.returncode, p.stdout.splitlines()[-1]),
               (0, "kibana: 1 files, 14 objects imported"), p.stderr)
            stub.set_routes(routes)
            p = setup(stub, tmp, stub.url, tls_verify=False)
            eq((p.returncode, p.stdout.splitlines()[-1:]),
               (0, ["kibana: 1 files, 14 objects imported"]), p.stderr)
            eq([r["method"] + " " + r["path"] for r in stub.requests()],
               ["GET /", "GET /_index_template/sluice",
                "POST /api/saved_objects/_import?overwrite=true"])
        finally:
            stub.stop()


@case
def setup_force_replaces_a_newer_template():
    # the warning (and README's Troubleshooting) say `setup --force`
    # replaces a template a newer Sluice installed: the command line takes it
    with tempfile.TemporaryDirectory(prefix="sluice-force-") as tmp:
        stub = Stub(tmp)
        cfg = os.path.join(tmp, "indexer.json")
        with open(cfg, "w") as f:
            json.dump({"elasticsearch": {"hosts": [stub.url]}}, f)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
               "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
               "SLUICE_TEMPLATE_FILE": TEMPLATE}
        routes = {"GET /": [200, {"version": {"number": "8.15.0"}}],
                  "GET /_index_template/sluice": [200, {"index_templates": [
                      {"name": "sluice", "index_template": {"version": 99}}]}],
                  "PUT /_index_template/sluice": [200, {"acknowledged": True}]}
        try:
            said = []
            for args in (["setup"], ["setup", "--force"]):
                stub.set_routes(routes)
                p = subprocess.run([INDEXER, "-c", cfg] + args,
                                   capture_output=True, text=True, env=env,
                                   timeout=60)
                eq(p.returncode, 0, "exit status; stderr: " + p.stderr)
                said.append((p.stdout.splitlines()[0],
                             [r["method"] for r in stub.requests()]))
        finally:
            stub.stop()
    eq(said, [("Elasticsearch 8.15.0: index template 'sluice' version 3: "
               "a newer version is installed: kept", ["GET", "GET"]),
              ("Elasticsearch 8.15.0: index template 'sluice' version 3: "
               "replaced", ["GET", "GET", "PUT"])])


print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
