//! An HTTP/1.1 proxy in front of a local AWS-compatible endpoint (DynamoDB Local, the local SES
//! stand-in). It names every call, so the local stack can count the calls each step makes, and it
//! answers calls with a fault on demand, so tests can check how the code copes with AWS failing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Answer = Response<Full<Bytes>>;

static REQUEST_IDS: AtomicU64 = AtomicU64::new(0);

/// A running proxy; dropping it stops listening and closes its connections.
pub struct Proxy {
    url: String,
    state: Arc<State>,
    task: AbortHandle,
}

/// How a call is answered instead of being forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 InternalServerError (DynamoDB) / InternalFailure (query protocol).
    ServerError,
    /// HTTP 400 ThrottlingException (DynamoDB) / Throttling (query protocol).
    Throttling,
    /// No answer for 60 s, so the client's own timeout decides.
    Timeout,
    /// The connection is closed without an answer.
    DropConnection,
    /// TransactWriteItems cancelled by a conflicting transaction; other calls get Throttling.
    TransactionConflict,
    /// BatchGetItem answered with every key left unprocessed (DynamoDB does so under load);
    /// other calls get Throttling.
    UnprocessedKeys,
}

enum Rule {
    Pass,
    All(Fault),
    Only(String, Fault),
    Once(String, Fault),
    After(usize, Fault),
}

struct State {
    upstream: String,
    client: reqwest::Client,
    log_calls: bool,
    calls: Mutex<Vec<String>>,
    rule: Mutex<Rule>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start(upstream: &str) -> std::io::Result<Proxy> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, false).await
    }

    /// Listens on `addr` (the binary uses this); `log_calls` prints `call <Operation>` per call to stdout, flushed.
    pub async fn bind(addr: SocketAddr, upstream: &str, log_calls: bool) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            log_calls,
            calls: Mutex::new(Vec::new()),
            rule: Mutex::new(Rule::Pass),
        });
        let task = tokio::spawn(serve(listener, state.clone())).abort_handle();
        Ok(Proxy { url, state, task })
    }

    /// The endpoint URL to give the client, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// From now on, every call gets `fault`, until `heal`.
    pub fn fail(&self, fault: Fault) {
        self.set(Rule::All(fault));
    }

    /// From now on, calls named `operation` get `fault`, until `heal`.
    pub fn fail_only(&self, operation: &str, fault: Fault) {
        self.set(Rule::Only(operation.to_owned(), fault));
    }

    /// The next call named `operation` gets `fault`; every other call passes (a passing fault).
    pub fn fail_once(&self, operation: &str, fault: Fault) {
        self.set(Rule::Once(operation.to_owned(), fault));
    }

    /// Calls pass until `passing` more calls have been forwarded, then every later call gets `fault`
    /// (an outage that starts in the middle of a request's work).
    pub fn fail_after(&self, passing: usize, fault: Fault) {
        self.set(Rule::After(passing, fault));
    }

    /// Forwards every call again.
    pub fn heal(&self) {
        self.set(Rule::Pass);
    }

    /// Names of every call received so far (faulted ones too), in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.calls.lock().unwrap().clone()
    }

    fn set(&self, rule: Rule) {
        *self.state.rule.lock().unwrap() = rule;
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    // Connections live in the set, so aborting this task (dropping the Proxy) closes them too.
    let mut connections = JoinSet::new();
    loop {
        // A failed accept (say, out of file descriptors) must not stop the proxy for good.
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        let state = state.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// How the caller expects errors to look.
#[derive(Clone, Copy, PartialEq)]
enum Protocol {
    Json,
    Query,
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Answer, BoxError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let (name, protocol) = call_name(&parts, &body);
    if state.log_calls {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "call {name}").and_then(|()| out.flush());
    }
    state.calls.lock().unwrap().push(name.clone());
    let fault = next_fault(&mut state.rule.lock().unwrap(), &name);
    match fault {
        None => Ok(forward(&state, parts, body).await.unwrap_or_else(|e| {
            respond(StatusCode::BAD_GATEWAY, "text/plain", format!("aws-proxy: upstream: {e}"))
        })),
        Some(Fault::DropConnection) => Err("fault: drop connection".into()),
        Some(Fault::Timeout) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Err("fault: timeout".into())
        }
        Some(fault) => Ok(fault_response(fault, protocol, &name, &body)),
    }
}

/// What the rule says for a call named `name` (and what is left of the rule after it).
fn next_fault(rule: &mut Rule, name: &str) -> Option<Fault> {
    match rule {
        Rule::Pass => None,
        Rule::Once(operation, fault) if *operation == name => {
            let fault = *fault;
            *rule = Rule::Pass;
            Some(fault)
        }
        Rule::Once(..) => None,
        Rule::All(fault) => Some(*fault),
        Rule::Only(operation, fault) => (*operation == name).then_some(*fault),
        Rule::After(0, fault) => Some(*fault),
        Rule::After(passing, _) => {
            *passing -= 1;
            None
        }
    }
}

fn call_name(parts: &Parts, body: &[u8]) -> (String, Protocol) {
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let operation = target.rsplit_once('.').map_or(target, |(_, op)| op);
        return (operation.to_owned(), Protocol::Json);
    }
    let form = [parts.uri.query().unwrap_or_default(), std::str::from_utf8(body).unwrap_or_default()];
    let action = form.iter().flat_map(|f| f.split('&')).find_map(|pair| pair.strip_prefix("Action="));
    match action {
        Some(action) => (action.to_owned(), Protocol::Query),
        None => (format!("{} {}", parts.method, parts.uri.path()), Protocol::Json),
    }
}

/// Connection-level headers that must not travel through a proxy, plus those the client recomputes.
fn skipped(name: &HeaderName) -> bool {
    const SKIP: [&str; 10] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    ];
    SKIP.contains(&name.as_str())
}

async fn forward(state: &State, parts: Parts, body: Bytes) -> reqwest::Result<Answer> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !skipped(name) && name != hyper::header::HOST {
            headers.append(name, value.clone());
        }
    }
    let answer = state
        .client
        .request(parts.method, format!("{}{path}", state.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await?;
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let body = answer.bytes().await?;
    let names: Vec<HeaderName> = headers.keys().filter(|n| skipped(n)).cloned().collect();
    for name in names {
        headers.remove(name);
    }
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The answer AWS itself gives for `fault`, in the caller's protocol.
fn fault_response(fault: Fault, protocol: Protocol, name: &str, body: &[u8]) -> Answer {
    if fault == Fault::UnprocessedKeys && name == "BatchGetItem" {
        let requested = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("RequestItems").cloned())
            .unwrap_or_default();
        let json = serde_json::json!({ "Responses": {}, "UnprocessedKeys": requested });
        return respond(StatusCode::OK, "application/x-amz-json-1.0", json.to_string());
    }
    let status = match fault {
        Fault::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    if protocol == Protocol::Query {
        let (kind, code, message) = match fault {
            Fault::ServerError => ("Receiver", "InternalFailure", "An internal error occurred."),
            _ => ("Sender", "Throttling", "Maximum sending rate exceeded."),
        };
        let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
        let xml = format!(
            "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\"><Error><Type>{kind}</Type>\
             <Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>00000000-0000-0000-0000-{id:012}</RequestId></ErrorResponse>"
        );
        return respond(status, "text/xml", xml);
    }
    let (code, message) = match fault {
        Fault::ServerError => ("InternalServerError", "Internal server error"),
        _ => ("ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    };
    let prefix = "com.amazonaws.dynamodb.v20120810#";
    let mut json = serde_json::json!({ "__type": format!("{prefix}{code}"), "message": message });
    if fault == Fault::TransactionConflict && name == "TransactWriteItems" {
        let items = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| Some(v.get("TransactItems")?.as_array()?.len()))
            .unwrap_or(0);
        let mut codes = vec!["TransactionConflict"];
        codes.resize(items.max(1), "None");
        let mut reasons = vec![
            serde_json::json!({ "Code": "TransactionConflict", "Message": "Transaction is ongoing for the item" }),
        ];
        reasons.resize(codes.len(), serde_json::json!({ "Code": "None" }));
        json = serde_json::json!({
            "__type": format!("{prefix}TransactionCanceledException"),
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
            "CancellationReasons": reasons,
        });
    }
    respond(status, "application/x-amz-json-1.0", json.to_string())
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    response
}
