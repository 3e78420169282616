#!/usr/bin/env python3
"""tls_stub.py: a stand-in for an Elasticsearch node with security on
(HTTPS with its own CA, basic auth or an API key), for
tests/integration/test_es_sender.c's TLS and credential cases.

Usage: tls_stub.py DIR AUTH...
  DIR   a scratch directory: ca.pem (the CA to trust), other-ca.pem (a CA
        that did not sign the server's certificate) and the server's key and
        certificate are written there with openssl
  AUTH  an Authorization header value a request may carry ("Basic ...",
        "ApiKey ..."); anything else gets Elasticsearch's 401
Prints the port on stdout once listening, then serves POST /_bulk: every
`create` is answered 201 (errors:false), so the sender reports DONE. Stops
on SIGTERM or when stdin closes.
"""
import json
import os
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=sluice test " + ca, "-keyout",
                os.path.join(d, ca + ".key"), "-out",
                os.path.join(d, ca + ".pem"))
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", os.path.join(d, "server.key"), "-out",
            os.path.join(d, "server.csr"))
    openssl("x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA",
            os.path.join(d, "ca.pem"), "-CAkey", os.path.join(d, "ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
            os.path.join(d, "server.pem"))


UNAUTHORIZED = {
    "error": {
        "root_cause": [{"type": "security_exception",
                        "reason": "unable to authenticate user"}],
        "type": "security_exception",
        "reason": "unable to authenticate user [elastic] for REST request "
                  "[/_bulk]"},
    "status": 401}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    auths = set()

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization", "") not in Handler.auths:
            self.reply(401, UNAUTHORIZED)
            return
        lines = [l for l in body.split(b"\n") if l]
        items = []
        for action in lines[0::2]:
            meta = json.loads(action)["create"]
            items.append({"create": {"_index": meta["_index"],
                                     "_id": meta["_id"], "status": 201}})
        self.reply(200, {"errors": False, "took": 1, "items": items})


def main():
    d, Handler.auths = sys.argv[1], set(sys.argv[2:])
    make_certs(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"),
                        os.path.join(d, "server.key"))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(srv.server_address[1], flush=True)
    sys.stdin.read()  # until the test closes our stdin or kills us


if __name__ == "__main__":
    main()
