//! What a server function body needs from its request: the shared context, the client address,
//! the session cookie, and the signed-in user.

use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use domain::secret::SessionToken;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use store::{Session, StoreError, User};

use super::http::ClientIp;
use super::{now, Ctx};
use crate::ApiError;

/// `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-session";

/// A working day; after that the technician logs in again.
pub const SESSION_TTL_SECONDS: i64 = 8 * 60 * 60;

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

pub fn client_ip() -> String {
    parts()
        .and_then(|p| p.extensions.get::<ClientIp>().cloned())
        .map(|ip| ip.0)
        .unwrap_or_else(|| "unknown".into())
}

/// Logs the detail (never secrets: store errors carry no item values) and tells the user little.
pub fn internal(err: StoreError) -> ApiError {
    tracing::error!(error = %err, "store call failed");
    ApiError::internal()
}

pub fn session_token() -> Option<SessionToken> {
    let parts = parts()?;
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::parse(value))
}

fn set_cookie(value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        expect_context::<ResponseOptions>().append_header(header::SET_COOKIE, value);
    }
}

pub fn set_session_cookie(token: &SessionToken) {
    set_cookie(&format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={SESSION_TTL_SECONDS}; HttpOnly; Secure; SameSite=Strict",
        token.expose()
    ));
}

pub fn clear_session_cookie() {
    set_cookie(&format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"));
}

/// Starts a session for `user` and sets its cookie.
pub async fn start_session(ctx: &Ctx, user: &User) -> Result<(), ApiError> {
    let token = SessionToken::generate();
    let session = Session {
        user_id: user.id.clone(),
        account_id: user.account_id.clone(),
        expires_at: now().plus_seconds(SESSION_TTL_SECONDS),
    };
    ctx.store.create_session(&token.hash(), &session).await.map_err(internal)?;
    set_session_cookie(&token);
    Ok(())
}

pub fn not_signed_in() -> ApiError {
    ApiError::unauthenticated("Your session has ended. Please log in again.")
}

/// The signed-in user, from the session cookie; `Unauthenticated` otherwise.
pub async fn require_user(ctx: &Ctx) -> Result<User, ApiError> {
    let token = session_token().ok_or_else(not_signed_in)?;
    let session =
        ctx.store.get_session(&token.hash(), now()).await.map_err(internal)?.ok_or_else(not_signed_in)?;
    ctx.store
        .get_user(&session.account_id, &session.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_signed_in)
}
