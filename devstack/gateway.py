"""The local stand-in for CloudFront + API Gateway: one port that serves the built app and sends
/api/<group>/... to the function that the template routes it to (under `cargo lambda watch`).

Like CloudFront, it adds the viewer's address (`CloudFront-Viewer-Address`, the connection's peer)
and the origin secret header named in the template (value: $ORIGIN_SECRET) to every API call,
overwriting any the browser sent, and the template's security response headers (CSP and the
rest) to every answer. Like API Gateway, it turns each request into an HTTP API
(payload 2.0) event whose source IP is a CloudFront edge address (as in AWS: useless as the client
address) and invokes the function through the Lambda Invoke API that `cargo lambda watch` serves.

With --test-client-ip-header NAME (browser tests only) the viewer address is taken from that
header instead, to simulate logins from other addresses; the header itself is not passed on.

usage: gateway.py --port P --lambda-port L --dist app/dist [--test-client-ip-header NAME]
"""

import argparse
import base64
import http.client
import json
import mimetypes
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from routes import origin_secret_header, routes, security_headers

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
MAX_BODY = 1024 * 1024
VIEWER_ADDRESS = "cloudfront-viewer-address"
# What API Gateway sees behind CloudFront: an edge address, the same for everyone.
CLOUDFRONT_EDGE = "130.176.0.1"


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    table: list = []
    lambda_port = 9000
    dist = Path("app/dist")
    test_ip_header: str | None = None
    secret_header = "x-origin-verify"
    secret = ""
    response_headers: list = []

    def log_message(self, fmt, *args):
        sys.stderr.write("gateway: " + (fmt % args) + "\n")

    def _send(self, status, body: bytes, headers=()):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in {name.lower() for name, _ in self.response_headers}:
                self.send_header(k, v)
        # Like the response headers policy with Override: these win over the origin's.
        for k, v in self.response_headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _api(self):
        path = self.path.split("?", 1)[0]
        for method, prefix, binary in self.table:
            if path.startswith(prefix) and method in ("ANY", self.command):
                return self._forward(binary, method, prefix)
        self._send(404, b'{"kind":"BadRequest","message":"There is no such API call."}',
                   [("Content-Type", "application/json")])

    def _viewer_address(self) -> str:
        """`address:port` as CloudFront writes it (IPv6 without brackets)."""
        if self.test_ip_header and self.headers.get(self.test_ip_header):
            return f"{self.headers[self.test_ip_header].strip()}:{self.client_address[1]}"
        return f"{self.client_address[0]}:{self.client_address[1]}"

    def _event(self, method, prefix, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        skip = {"cookie", VIEWER_ADDRESS, self.secret_header} | ({self.test_ip_header.lower()} if self.test_ip_header else set())
        headers = {}
        for k, v in self.headers.items():
            if k.lower() in skip:
                continue
            headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
        headers[VIEWER_ADDRESS] = self._viewer_address()
        headers[self.secret_header] = self.secret
        cookies = [c.strip() for c in ";".join(self.headers.get_all("Cookie") or []).split(";") if c.strip()]
        now = time.time()
        route = f"{method} {prefix}{{proxy+}}"
        return {
            "version": "2.0",
            "routeKey": route,
            "rawPath": path,
            "rawQueryString": query,
            "cookies": cookies,
            "headers": headers,
            "pathParameters": {"proxy": path[len(prefix):]},
            "requestContext": {
                "accountId": "local",
                "apiId": "local",
                "domainName": self.headers.get("Host", "localhost"),
                "domainPrefix": "local",
                "http": {
                    "method": self.command,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": CLOUDFRONT_EDGE,
                    "userAgent": self.headers.get("User-Agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route,
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }

    def _forward(self, binary, method, prefix):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b'{"kind":"BadRequest","message":"The request is too large."}',
                       [("Content-Type", "application/json")])
            return
        body = self.rfile.read(length) if length else b""
        event = json.dumps(self._event(method, prefix, body)).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.lambda_port, timeout=600)
        try:
            conn.request("POST", f"/2015-03-31/functions/{binary}/invocations", body=event,
                         headers={"Content-Type": "application/json"})
            res = conn.getresponse()
            raw = res.read()
        except OSError as err:
            self._send(502, f'{{"kind":"Internal","message":"The {binary} function is not running ({err})."}}'.encode(),
                       [("Content-Type", "application/json")])
            return
        finally:
            conn.close()
        try:
            out = json.loads(raw)
            status = int(out["statusCode"])
        except (ValueError, KeyError, TypeError):
            sys.stderr.write(f"gateway: {binary} answered {res.status}: {raw[:500]!r}\n")
            self._send(502, b'{"kind":"Internal","message":"The function failed."}',
                       [("Content-Type", "application/json")])
            return
        data = out.get("body") or ""
        data = base64.b64decode(data) if out.get("isBase64Encoded") else data.encode()
        headers = [(k, v) for k, v in (out.get("headers") or {}).items() if k.lower() not in HOP_BY_HOP]
        for k, values in (out.get("multiValueHeaders") or {}).items():
            headers += [(k, v) for v in values if k.lower() not in HOP_BY_HOP]
        headers += [("Set-Cookie", c) for c in out.get("cookies") or []]
        self._send(status, data, headers)

    def _static(self):
        rel = self.path.split("?", 1)[0].lstrip("/") or "index.html"
        file = (self.dist / rel).resolve()
        if not file.is_relative_to(self.dist.resolve()) or not file.is_file():
            file = self.dist / "index.html"  # client-side routes all load the app
        if not file.is_file():
            self._send(503, b"The app is not built yet.", [("Content-Type", "text/plain")])
            return
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".wasm":
            ctype = "application/wasm"
        self._send(200, file.read_bytes(), [("Content-Type", ctype), ("Cache-Control", "no-cache")])

    def do_GET(self):
        if self.path.startswith("/api/"):
            return self._api()
        self._static()

    do_HEAD = do_GET

    def do_POST(self):
        if self.path.startswith("/api/"):
            return self._api()
        self._send(405, b"", [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--lambda-port", type=int, required=True)
    ap.add_argument("--dist", type=Path, required=True)
    ap.add_argument("--test-client-ip-header", help="browser tests only: simulated client address")
    args = ap.parse_args()
    Gateway.test_ip_header = args.test_client_ip_header
    Gateway.secret_header = origin_secret_header().lower()
    Gateway.secret = os.environ["ORIGIN_SECRET"]
    Gateway.response_headers = security_headers()
    Gateway.table = routes()
    Gateway.lambda_port = args.lambda_port
    Gateway.dist = args.dist
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Gateway)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
