"""The local DynamoDB: moto's server, with requests handled one at a time.

DynamoDB applies each conditional write and each transaction atomically. moto checks conditions
and writes in separate Python steps on request threads, so two racing transactions can both pass
their conditions. Serialising requests restores DynamoDB's guarantee, which the concurrency tests
(one code, one use) depend on. Requests are fast in memory, so one at a time costs nothing here.

usage: dynamodb.py --port P
"""

import argparse
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class OneAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        # One line per DynamoDB call, so benchmarks can count the calls a step makes.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            print(f"dynamodb-call {target.split('.')[-1]}", flush=True)
        with self.lock:
            # Produce the whole body inside the lock: the write happens while it is generated.
            return list(self.app(environ, start_response))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
