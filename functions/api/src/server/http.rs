//! The router every function binary serves: `/api/<group>/{fn}` to the server functions, behind
//! the checks that must never be forgotten (body size, the CloudFront origin secret, Origin, client
//! address, error statuses).
//!
//! The deployed path is browser → CloudFront → HTTP API → function. CloudFront adds
//! [`ORIGIN_SECRET_HEADER`] with a secret only it and the functions know, so a request that went
//! around CloudFront (straight to the API's own URL) is refused; and CloudFront's
//! [`VIEWER_ADDRESS_HEADER`] is then the browser's address. API Gateway's `sourceIp` is CloudFront's
//! edge, and `X-Forwarded-For` is whatever the client wrote: neither is ever used.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use leptos::prelude::provide_context;

use super::Ctx;
use crate::ApiError;

/// The header CloudFront adds to every request it sends to the API (`infra/template.yaml`).
pub const ORIGIN_SECRET_HEADER: &str = "x-origin-verify";

/// CloudFront's `address:port` of the viewer, forwarded by the `/api/*` origin request policy.
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

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
        .layer(from_fn_with_state(ctx.clone(), check_origin))
        .layer(from_fn_with_state(ctx, require_cloudfront))
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

/// Only requests that came through CloudFront are served: they carry the origin secret.
async fn require_cloudfront(
    axum::extract::State(ctx): axum::extract::State<Ctx>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req.headers().get(ORIGIN_SECRET_HEADER).map(HeaderValue::as_bytes).unwrap_or_default();
    if !ctx.config.origin_secret.matches(presented) {
        tracing::warn!("refused a request that did not come through CloudFront");
        return error_response(&ApiError::forbidden(
            "This request did not come through the dashboard and was refused.",
        ));
    }
    next.run(req).await
}

/// The only place the client address is decided: CloudFront's viewer address, on a request that
/// [`require_cloudfront`] let through. "unknown" if it is missing or unreadable (a range no
/// verification link can match).
pub fn client_ip_of(req: &Request) -> ClientIp {
    let viewer = req.headers().get(VIEWER_ADDRESS_HEADER).and_then(|v| v.to_str().ok());
    ClientIp(viewer.and_then(viewer_ip).map_or_else(|| "unknown".into(), |ip| ip.to_string()))
}

/// The address in CloudFront's `address:port`: `203.0.113.7:46532`, or for IPv6 the full address
/// then the port, without brackets (`2001:db8::1:46532`).
pub fn viewer_ip(value: &str) -> Option<std::net::IpAddr> {
    let (address, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let address = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(address);
    // An IPv4 viewer may be written as IPv6 (`::ffff:a.b.c.d`): it is the IPv4 address.
    address.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_canonical())
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

/// lambda_http's log set-up: JSON lines where Lambda's logging config asks for them
/// (`AWS_LAMBDA_LOG_FORMAT`, set by the template's `LoggingConfig`), readable lines otherwise; the
/// level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else info.
pub use lambda_http::tracing::init_default_subscriber as init_tracing;

/// Runs `router` as a Lambda function (also under `cargo lambda watch`).
pub async fn run_lambda(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(router).await
}

#[cfg(test)]
mod tests {
    use super::viewer_ip;

    #[test]
    fn ipv4_viewer_addresses_lose_their_port() {
        assert_eq!(viewer_ip("203.0.113.7:46532").unwrap().to_string(), "203.0.113.7");
        assert_eq!(viewer_ip(" 127.0.0.1:1 ").unwrap().to_string(), "127.0.0.1");
    }

    #[test]
    fn ipv6_viewer_addresses_are_the_full_address_then_the_port() {
        let full = viewer_ip("2001:0db8:85a3:0000:0000:8a2e:0370:7334:46532").unwrap();
        assert_eq!(full.to_string(), "2001:db8:85a3::8a2e:370:7334");
        assert_eq!(viewer_ip("2001:db8::1:443").unwrap().to_string(), "2001:db8::1");
        assert_eq!(viewer_ip("[2001:db8::1]:443").unwrap().to_string(), "2001:db8::1");
        assert_eq!(viewer_ip("::1:80").unwrap().to_string(), "::1");
        assert_eq!(viewer_ip("::ffff:198.51.100.7:443").unwrap().to_string(), "198.51.100.7");
    }

    #[test]
    fn anything_else_is_no_address() {
        for bad in ["", "203.0.113.7", "203.0.113.7:", "203.0.113.7:99999", "evil:80", "1.2.3.4, 5.6.7.8:1"] {
            assert_eq!(viewer_ip(bad), None, "{bad}");
        }
    }
}
