//! Cold start of each function's host release binary: from spawning the process until it first
//! asks the Lambda runtime API for an event (`GET /2018-06-01/runtime/invocation/next`), which
//! is when Lambda's init phase ends. A tiny local server stands in for the runtime API. The time
//! includes everything `main` does first: the AWS configuration, the secrets read from the local
//! Secrets Manager (moto, over loopback: faster than the real one), the clients, the router.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

pub const FUNCTIONS: [&str; 4] = ["auth", "enrollment", "remote", "accounts"];
const FIRST_EVENT_REQUEST: &str = "GET /2018-06-01/runtime/invocation/next";

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"))
}

/// The median of `runs` cold starts of `function`, in milliseconds.
pub fn median_ms(function: &str, runs: usize) -> Result<f64, Error> {
    let binary = target_dir().join("release").join(function);
    if !binary.exists() {
        return Err(format!("{} is missing: cargo build --release -p {function}", binary.display()).into());
    }
    let mut times = (0..runs).map(|_| one_start(&binary, function)).collect::<Result<Vec<_>, _>>()?;
    times.sort();
    Ok(times[times.len() / 2].as_secs_f64() * 1000.0)
}

/// One start of `binary`, with the environment the stack gives the functions (this process runs
/// inside `devstack/stack.py run`, so table name, origin, sender, secret ids and endpoints are
/// inherited) plus what Lambda sets.
fn one_start(binary: &Path, function: &str) -> Result<Duration, Error> {
    let runtime_api = TcpListener::bind("127.0.0.1:0")?;
    let address = runtime_api.local_addr()?;
    let (asked, first_request) = mpsc::channel();
    std::thread::spawn(move || {
        // Holds the connection open without answering until the function is stopped.
        let Ok((stream, _)) = runtime_api.accept() else { return };
        let mut line = String::new();
        let _ = BufReader::new(&stream).read_line(&mut line);
        let _ = asked.send((Instant::now(), line));
    });
    let log = std::fs::File::create(target_dir().join("bench").join(format!("cold-{function}.log")))?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let answer = first_request.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let (at, line) = answer.map_err(|_| {
        format!("{function} never asked for an event within 30 s; see target/bench/cold-{function}.log")
    })?;
    if !line.starts_with(FIRST_EVENT_REQUEST) {
        return Err(format!("{function} first asked the runtime API for {line:?}").into());
    }
    Ok(at - started)
}
