//! What a server function body needs from its request: the shared context, the client address,
//! the session cookie, and the signed-in user.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use domain::secret::SessionToken;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use store::{Session, StoreError, User};

use super::http::ClientIp;
use super::{Ctx, now};
use crate::ApiError;

/// `__Host-` makes the browser insist on Secure, Path=/ and no Domain.
pub const SESSION_COOKIE: &str = "__Host-session";

/// A working day; after that the technician logs in again.
pub const SESSION_TTL_SECONDS: i64 = 8 * 60 * 60;

/// The login waiting for its second step (passcode or activation).
pub const LOGIN_COOKIE: &str = "__Host-login";

/// Time to find the phone, or to read the email and set up the app.
pub const LOGIN_CHALLENGE_TTL_SECONDS: i64 = 30 * 60;

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

/// Logs the detail (never secrets: store errors carry no item values) and tells the user little:
/// "try again" while DynamoDB is out of reach, "something went wrong" for anything else.
pub fn store_failure(err: StoreError) -> ApiError {
    tracing::error!(error = %err, "store call failed");
    match err {
        StoreError::Unavailable(_) => ApiError::unavailable(),
        _ => ApiError::internal(),
    }
}

/// An email could not be handed to SES. The caller has withdrawn what it carried (a code, a link),
/// so the user is told to send it again rather than wait for it.
pub fn mail_failure(err: mail::MailError) -> ApiError {
    tracing::error!(error = %err, "could not send an email");
    ApiError::Unavailable { message: "The email could not be sent. Please try again in a minute.".into() }
}

fn cookie(name: &str) -> Option<SessionToken> {
    let parts = parts()?;
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .and_then(|(_, value)| SessionToken::parse(value))
}

pub fn session_token() -> Option<SessionToken> {
    cookie(SESSION_COOKIE)
}

/// The token of the login waiting for its second step.
pub fn login_token() -> Option<SessionToken> {
    cookie(LOGIN_COOKIE)
}

pub fn set_login_cookie(token: &SessionToken, max_age_seconds: i64) {
    set_cookie(&format!(
        "{LOGIN_COOKIE}={}; Path=/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=Strict",
        token.expose()
    ));
}

pub fn clear_login_cookie() {
    set_cookie(&format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"));
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

/// `two_factor`: the login used 2FA (a passcode, a recovery code, or activation).
pub fn new_session(account_id: &str, user_id: &str, two_factor: bool) -> (SessionToken, Session) {
    let session = Session {
        user_id: user_id.to_owned(),
        account_id: account_id.to_owned(),
        expires_at: now().plus_seconds(SESSION_TTL_SECONDS),
        two_factor,
    };
    (SessionToken::generate(), session)
}

pub fn not_signed_in() -> ApiError {
    ApiError::unauthenticated("Your session has ended. Please log in again.")
}

/// The session from the cookie (and its token's hash); `Unauthenticated` when there is none or
/// it has ended.
pub async fn require_session(ctx: &Ctx) -> Result<(String, Session), ApiError> {
    let token = session_token().ok_or_else(not_signed_in)?;
    let hash = token.hash();
    let session =
        ctx.store.get_session(&hash, now()).await.map_err(store_failure)?.ok_or_else(not_signed_in)?;
    Ok((hash, session))
}

/// The signed-in user, from the session cookie; `Unauthenticated` otherwise.
pub async fn require_user(ctx: &Ctx) -> Result<User, ApiError> {
    let (_, session) = require_session(ctx).await?;
    ctx.store
        .get_user(&session.account_id, &session.user_id)
        .await
        .map_err(store_failure)?
        .ok_or_else(not_signed_in)
}
