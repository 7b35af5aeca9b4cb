//! `aws-proxy --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT2`: forwards every call and
//! prints `call <Operation>` per call, so the local stack can count the calls each step makes.

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: aws-proxy --listen 127.0.0.1:PORT --upstream http://127.0.0.1:PORT2";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (mut listen, mut upstream) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next(),
            "--upstream" => upstream = args.next(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("aws-proxy: unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(listen), Some(upstream)) = (listen, upstream) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let addr: SocketAddr = match listen.parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("aws-proxy: bad --listen {listen:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let proxy = match aws_proxy::Proxy::bind(addr, &upstream, true).await {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("aws-proxy: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("aws-proxy: {} -> {upstream}", proxy.url());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
