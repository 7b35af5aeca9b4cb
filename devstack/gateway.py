"""The local stand-in for API Gateway + CloudFront: one port that serves the built app and sends
/api/<group>/... to the function that the template routes it to (under `cargo lambda watch`).

usage: gateway.py --port P --lambda-port L --dist app/dist
"""

import argparse
import http.client
import mimetypes
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from routes import routes

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
MAX_BODY = 1024 * 1024


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    table: list = []
    lambda_port = 9000
    dist = Path("app/dist")

    def log_message(self, fmt, *args):
        sys.stderr.write("gateway: " + (fmt % args) + "\n")

    def _send(self, status, body: bytes, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _api(self):
        path = self.path.split("?", 1)[0]
        for method, prefix, binary in self.table:
            if path.startswith(prefix) and method in ("ANY", self.command):
                return self._forward(binary)
        self._send(404, b'{"kind":"BadRequest","message":"There is no such API call."}',
                   [("Content-Type", "application/json")])

    def _forward(self, binary):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b'{"kind":"BadRequest","message":"The request is too large."}',
                       [("Content-Type", "application/json")])
            return
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection("127.0.0.1", self.lambda_port, timeout=600)
        try:
            conn.request(self.command, f"/lambda-url/{binary}{self.path}", body=body, headers=headers)
            res = conn.getresponse()
            data = res.read()
        except OSError as err:
            self._send(502, f'{{"kind":"Internal","message":"The {binary} function is not running ({err})."}}'.encode(),
                       [("Content-Type", "application/json")])
            return
        finally:
            conn.close()
        out = [(k, v) for k, v in res.getheaders() if k.lower() not in HOP_BY_HOP]
        self._send(res.status, data, out)

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
    args = ap.parse_args()
    Gateway.table = routes()
    Gateway.lambda_port = args.lambda_port
    Gateway.dist = args.dist
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Gateway)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
