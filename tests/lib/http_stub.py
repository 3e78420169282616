#!/usr/bin/env python3
"""http_stub.py: a small HTTP server that answers from a routes file and
records every request, for tests of Sluice's HTTP clients (setup's template
and Kibana import) without a real server.

    http_stub.py ROUTES RECORD [TLS_DIR]

ROUTES is a JSON object {"METHOD /path?query": [status, body], ...}, read
again on every request, so a test changes the answers by rewriting it; a
request with no route gets 404 and {"error":"no route"}. Each request is
appended to RECORD as one JSON line:
    {"method", "path", "headers": {lower-case name: value},
     "body_b64", "parts": [{"name", "filename", "content_type",
                            "data_b64"}] or null,
     "multipart_error": null or why the multipart body is malformed}
The multipart body is checked strictly (RFC 7578 framing: CRLF, the
boundary of the Content-Type header, a closing delimiter, each part with a
Content-Disposition: form-data; name=...). Prints the port on stdout once
listening, then serves until stdin closes or it is killed. With TLS_DIR it
serves HTTPS, its certificate (for 127.0.0.1 and localhost) signed by the
CA that tls_stub.py's make_certs writes there as ca.pem.
"""
import base64
import http.server
import json
import re
import sys
import threading


def parse_multipart(ctype, body):
    m = re.match(r'multipart/form-data;\s*boundary=("?)([^";]+)\1\s*$', ctype)
    if not m:
        return None, "Content-Type %r is not multipart/form-data with a boundary" % ctype
    delim = b"--" + m.group(2).encode()
    if not body.startswith(delim + b"\r\n"):
        return None, "the body does not start with the boundary line"
    end = b"\r\n" + delim + b"--\r\n"
    if not body.endswith(end):
        return None, "the body does not end with the closing delimiter and CRLF"
    inner = body[len(delim) + 2:len(body) - len(end)]
    parts = []
    for chunk in inner.split(b"\r\n" + delim + b"\r\n"):
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            return None, "a part has no blank line after its headers"
        headers = {}
        for line in head.split(b"\r\n"):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                return None, "bad part header line %r" % line
            headers[name.strip().lower()] = value.strip()
        disp = headers.get("content-disposition", "")
        dm = re.match(r'form-data; name="([^"]*)"(?:; filename="([^"]*)")?$', disp)
        if not dm:
            return None, "bad Content-Disposition %r" % disp
        parts.append({"name": dm.group(1), "filename": dm.group(2),
                      "content_type": headers.get("content-type"),
                      "data_b64": base64.b64encode(data).decode()})
    return parts, None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body_b64": base64.b64encode(body).decode(),
               "parts": None, "multipart_error": None}
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            rec["parts"], rec["multipart_error"] = parse_multipart(ctype, body)
        with open(self.server.record, "a") as f:
            f.write(json.dumps(rec) + "\n")
        with open(self.server.routes) as f:
            routes = json.load(f)
        status, answer = routes.get("%s %s" % (self.command, self.path),
                                    [404, {"error": "no route"}])
        out = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.routes, server.record = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        import os
        import ssl
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import tls_stub
        tls_stub.make_certs(sys.argv[3])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(sys.argv[3], "server.pem"),
                            os.path.join(sys.argv[3], "server.key"))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write("%d\n" % server.server_address[1])  # one write
    sys.stdout.flush()
    sys.stdin.read()


if __name__ == "__main__":
    main()
