use std::time::Duration;

use aws_proxy::{Fault, Proxy};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode};

const TARGET: &str = "DynamoDB_20120810.";

/// An upstream that echoes the body and tells what it saw in `x-echo-*` headers;
/// `x-want-status` picks the answer's status.
async fn echo_upstream() -> String {
    async fn echo(req: Request) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let status = parts.headers.get("x-want-status").map_or(200, |v| v.to_str().unwrap().parse().unwrap());
        let mut answer = Response::new(Body::from(body));
        *answer.status_mut() = StatusCode::from_u16(status).unwrap();
        let headers = answer.headers_mut();
        headers.insert("x-echo-method", parts.method.as_str().parse().unwrap());
        headers.insert("x-echo-uri", parts.uri.to_string().parse().unwrap());
        let custom = parts.headers.get("x-custom").cloned().unwrap_or(HeaderValue::from_static("-"));
        headers.insert("x-echo-custom", custom);
        answer
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(echo);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn setup() -> (Proxy, reqwest::Client) {
    let proxy = Proxy::start(&echo_upstream().await).await.unwrap();
    (proxy, reqwest::Client::builder().no_proxy().build().unwrap())
}

async fn dynamo(proxy: &Proxy, client: &reqwest::Client, op: &str, body: &str) -> reqwest::Response {
    client
        .post(format!("{}/", proxy.url()))
        .header("x-amz-target", format!("{TARGET}{op}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn ses(proxy: &Proxy, client: &reqwest::Client, action: &str) -> reqwest::Response {
    client
        .post(format!("{}/", proxy.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("Action={action}&Version=2010-12-01&Source=a%40example.com"))
        .send()
        .await
        .unwrap()
}

async fn json(answer: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn forwards_method_path_headers_body_and_status() {
    let (proxy, client) = setup().await;
    let answer = client
        .put(format!("{}/some/path?q=1&r=two", proxy.url()))
        .header("x-custom", "abc")
        .header("x-want-status", "201")
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.headers()["x-echo-method"], "PUT");
    assert_eq!(answer.headers()["x-echo-uri"], "/some/path?q=1&r=two");
    assert_eq!(answer.headers()["x-echo-custom"], "abc");
    assert_eq!(answer.text().await.unwrap(), "hello upstream");
    assert_eq!(proxy.calls(), ["PUT /some/path"]);
}

#[tokio::test]
async fn names_calls_of_both_protocols() {
    let (proxy, client) = setup().await;
    assert_eq!(dynamo(&proxy, &client, "TransactWriteItems", "{}").await.status(), 200);
    assert!(ses(&proxy, &client, "SendEmail").await.text().await.unwrap().starts_with("Action=SendEmail&"));
    client.get(format!("{}/health", proxy.url())).send().await.unwrap();
    assert_eq!(proxy.calls(), ["TransactWriteItems", "SendEmail", "GET /health"]);
}

#[tokio::test]
async fn fail_only_hits_the_named_operation_until_heal() {
    let (proxy, client) = setup().await;
    proxy.fail_only("GetItem", Fault::Throttling);
    let answer = dynamo(&proxy, &client, "GetItem", "{}").await;
    assert_eq!(answer.status(), 400);
    let body = json(answer).await;
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ThrottlingException");
    assert_eq!(dynamo(&proxy, &client, "PutItem", "{}").await.status(), 200);
    proxy.heal();
    assert_eq!(dynamo(&proxy, &client, "GetItem", "{}").await.status(), 200);
    assert_eq!(proxy.calls(), ["GetItem", "PutItem", "GetItem"]);
}

#[tokio::test]
async fn fail_after_lets_calls_pass_then_faults_until_heal() {
    let (proxy, client) = setup().await;
    proxy.fail_after(2, Fault::ServerError);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(dynamo(&proxy, &client, "Query", "{}").await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 500, 500]);
    let body = json(dynamo(&proxy, &client, "Query", "{}").await).await;
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#InternalServerError");
    proxy.heal();
    assert_eq!(dynamo(&proxy, &client, "Query", "{}").await.status(), 200);
    assert_eq!(proxy.calls().len(), 6);
}

#[tokio::test]
async fn fail_once_hits_only_the_next_call_of_that_name() {
    let (proxy, client) = setup().await;
    proxy.fail_once("PutItem", Fault::Throttling);
    let mut statuses = Vec::new();
    for op in ["Query", "PutItem", "PutItem"] {
        statuses.push(dynamo(&proxy, &client, op, "{}").await.status().as_u16());
    }
    assert_eq!(statuses, [200, 400, 200]);
}

#[tokio::test]
async fn unprocessed_keys_hands_back_every_requested_key() {
    let (proxy, client) = setup().await;
    proxy.fail_only("BatchGetItem", Fault::UnprocessedKeys);
    let request = r#"{"RequestItems":{"t":{"Keys":[{"pk":{"S":"a"}}],"ConsistentRead":true}}}"#;
    let answer = dynamo(&proxy, &client, "BatchGetItem", request).await;
    assert_eq!(answer.status(), 200);
    let body = json(answer).await;
    assert_eq!(body["UnprocessedKeys"]["t"]["Keys"][0]["pk"]["S"], "a");
    assert_eq!(body["Responses"], serde_json::json!({}));
}

#[tokio::test]
async fn query_protocol_faults_are_xml() {
    let (proxy, client) = setup().await;
    proxy.fail(Fault::Throttling);
    let answer = ses(&proxy, &client, "SendEmail").await;
    assert_eq!(answer.status(), 400);
    let xml = answer.text().await.unwrap();
    assert!(xml.starts_with("<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">"), "{xml}");
    assert!(xml.contains("<Type>Sender</Type><Code>Throttling</Code>"), "{xml}");
    assert!(xml.contains("<Message>Maximum sending rate exceeded.</Message>"), "{xml}");
    proxy.fail(Fault::ServerError);
    let answer = ses(&proxy, &client, "SendEmail").await;
    assert_eq!(answer.status(), 500);
    let xml = answer.text().await.unwrap();
    assert!(xml.contains("<Type>Receiver</Type><Code>InternalFailure</Code>"), "{xml}");
}

#[tokio::test]
async fn drop_connection_gives_the_client_an_error() {
    let (proxy, client) = setup().await;
    proxy.fail(Fault::DropConnection);
    let err = client.post(format!("{}/", proxy.url())).header("x-amz-target", "X.GetItem").send().await;
    let err = err.expect_err("the connection should have been dropped");
    assert!(!err.is_timeout(), "{err:?}");
    proxy.heal();
    assert_eq!(dynamo(&proxy, &client, "GetItem", "{}").await.status(), 200);
}

#[tokio::test]
async fn transaction_conflict_gives_one_reason_per_item() {
    let (proxy, client) = setup().await;
    proxy.fail(Fault::TransactionConflict);
    let request = r#"{"TransactItems":[{"Put":{}},{"Update":{}},{"ConditionCheck":{}}]}"#;
    let answer = dynamo(&proxy, &client, "TransactWriteItems", request).await;
    assert_eq!(answer.status(), 400);
    let body = json(answer).await;
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
    assert!(body["Message"].as_str().unwrap().ends_with("[TransactionConflict, None, None]"), "{body}");
    let reasons = body["CancellationReasons"].as_array().unwrap();
    let codes: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["TransactionConflict", "None", "None"]);
    assert_eq!(reasons[0]["Message"], "Transaction is ongoing for the item");
    // Any other operation sees throttling.
    let body = json(dynamo(&proxy, &client, "PutItem", "{}").await).await;
    assert_eq!(body["__type"], "com.amazonaws.dynamodb.v20120810#ThrottlingException");
}

#[tokio::test]
async fn timeout_leaves_the_decision_to_the_client() {
    let (proxy, _) = setup().await;
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(200)).build().unwrap();
    proxy.fail(Fault::Timeout);
    let err = client.post(format!("{}/", proxy.url())).header("x-amz-target", "X.GetItem").send().await;
    assert!(err.expect_err("should time out").is_timeout());
    assert_eq!(proxy.calls(), ["GetItem"]);
}

#[tokio::test]
async fn dropping_the_proxy_stops_listening() {
    let (proxy, client) = setup().await;
    let url = proxy.url().to_owned();
    drop(proxy);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client.get(&url).send().await.is_err());
}
