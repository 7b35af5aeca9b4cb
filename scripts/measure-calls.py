"""Counts the DynamoDB calls of the budgeted steps against a running local stack (run through
`devstack/stack.py run --`, which sets BASE_URL; the functions reach DynamoDB Local through a
proxy that logs every call in .devstack/dynamodb-calls.log). Prints one line per step."""

import http.client
import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / ".devstack" / "dynamodb-calls.log"
BASE = urllib.parse.urlparse(os.environ["BASE_URL"])
cookies: dict[str, str] = {}


def call(path: str, body: dict) -> dict:
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port)
    headers = {"Origin": os.environ["BASE_URL"], "Content-Type": "application/json"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request("POST", path, json.dumps(body), headers)
    res = conn.getresponse()
    for k, v in res.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            value = rest.split(";")[0]
            if value:
                cookies[name] = value
            else:
                cookies.pop(name, None)
    return json.loads(res.read() or b"null")


def logged_calls() -> list[str]:
    return [l.split()[1] for l in LOG.read_text().splitlines() if l.startswith("call ")]


def calls_during(step) -> list[str]:
    time.sleep(0.3)
    before = len(logged_calls())
    result = step()
    time.sleep(0.3)
    lines = logged_calls()
    return result, lines[before:]


def totp() -> str:
    out = subprocess.run([str(ROOT / "target/debug/devkit"), "totp"], capture_output=True, text=True)
    return out.stdout.strip()


_, login = calls_during(lambda: call("/api/auth/login", {"email": "kim@northwind.example", "password": "Demo-Passw0rd!"}))
print(f"password step (2FA user):     {len(login)} calls: {', '.join(login)}")
# The seeded step is 0, so the current code is newer.
reply, passcode = calls_during(lambda: call("/api/auth/passcode", {"code": totp()}))
assert "me" in reply, reply
print(f"passcode step:                {len(passcode)} calls: {', '.join(passcode)}")
reply, remote = calls_during(lambda: call("/api/remote/start", {"device_id": "dev-001", "kind": "TakeControl", "defer": False}))
assert "Started" in reply, reply
print(f"remote start, 2FA active:     {len(remote)} calls: {', '.join(remote)}")
cookies.clear()
call("/api/auth/login", {"email": "tech@northwind.example", "password": "Demo-Passw0rd!"})
reply, prompt = calls_during(lambda: call("/api/remote/start", {"device_id": "dev-001", "kind": "TakeControl", "defer": False}))
print(f"remote start, prompt (no 2FA): {len(prompt)} calls: {', '.join(prompt)}")
