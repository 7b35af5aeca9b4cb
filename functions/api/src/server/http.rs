//! The router every function binary serves: `/api/<group>/{fn}` to the server functions, behind
//! the checks that must never be forgotten (body size, Origin, client address, error statuses).

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use leptos::prelude::provide_context;

use super::Ctx;
use crate::ApiError;

/// Largest request body accepted; every call's arguments fit in a fraction of it.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The client's address as API Gateway saw it, put in the request's extensions by [`router`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

/// Serves the server functions under `/api/{group}/` with `ctx` in their context.
pub fn router(group: &str, ctx: Ctx) -> Router {
    let handler_ctx = ctx.clone();
    let handler = move |req: Request| {
        let ctx = handler_ctx.clone();
        async move {
            leptos_axum::handle_server_fns_with_context(move || provide_context(ctx.clone()), req)
                .await
                .into_response()
        }
    };
    Router::new()
        .route(&format!("/api/{group}/{{*fn_name}}"), post(handler))
        .fallback(|| async { error_response(&ApiError::bad_request("There is no such API call.")) })
        .layer(from_fn(status_from_error))
        .layer(from_fn(record_client_ip))
        .layer(from_fn_with_state(ctx, check_origin))
        .layer(from_fn(limit_body))
}

pub fn error_response(err: &ApiError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(err).unwrap_or_else(|_| "{}".into());
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Mark it the way server_fn marks its errors, so the client stub decodes it as an ApiError.
    res.headers_mut().insert("serverfnerror", HeaderValue::from_static("1"));
    res
}

/// Refuses oversized bodies before anything reads them.
async fn limit_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return error_response(&ApiError::bad_request("The request is too large."));
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, body)).await
}

/// State-changing calls must come from the dashboard's own origin (CSRF defence in depth with
/// SameSite=Strict cookies). Every server function is a POST, so every call is checked.
async fn check_origin(
    axum::extract::State(ctx): axum::extract::State<Ctx>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET {
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin != Some(ctx.config.app_origin.as_str()) {
            tracing::warn!(origin = ?origin, "refused a call from another origin");
            return error_response(&ApiError::forbidden(
                "This request did not come from the dashboard and was refused.",
            ));
        }
    }
    next.run(req).await
}

/// The only place the client address is read: API Gateway's request context (the local gateway
/// fills it from the connection's peer), or the socket's peer when served directly. Headers such
/// as X-Forwarded-For are never trusted.
pub fn client_ip_of(req: &Request) -> ClientIp {
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
        req.extensions().get::<lambda_http::request::RequestContext>()
    {
        if let Some(ip) = &context.http.source_ip {
            return ClientIp(ip.clone());
        }
    }
    if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        return ClientIp(addr.ip().to_string());
    }
    ClientIp("unknown".into())
}

async fn record_client_ip(mut req: Request, next: Next) -> Response {
    let ip = client_ip_of(&req);
    req.extensions_mut().insert(ip);
    next.run(req).await
}

/// server_fn answers every error with 500; the error's own variant says what it really is.
async fn status_from_error(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status()).unwrap_or(parts.status);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// JSON logs where `LOG_FORMAT=json` (the template sets it for Lambda), readable lines otherwise.
/// `RUST_LOG` sets the level.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().without_time().init();
    } else {
        builder.init();
    }
}

/// Runs `router` as a Lambda function (also under `cargo lambda watch`).
pub async fn run_lambda(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(router).await
}
