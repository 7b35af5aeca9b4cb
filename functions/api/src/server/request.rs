//! What a server function body needs from its request: the shared context, the client address,
//! the session cookie, and the signed-in user.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use cookie::{Cookie, SameSite};
use domain::UnixTime;
use domain::crypto::Keyring;
use domain::secret::BearerToken;
use domain::session::{self as sessions, Epochs, Reauth};
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use store::{Account, Challenge, Operation, Purpose, Session, SessionHint, StoreError, User};

use super::http::ClientIp;
use super::{Ctx, now};
use crate::ApiError;

/// What the session checks here run (every function that has signed-in users runs them all).
/// The waiting-login helpers (`waiting_challenge`, `user_of`) need `GetChallenge` and
/// `GetUserAndAccount` too: the functions that use them declare those.
pub const STORE_OPERATIONS: &[Operation] = &[
    Operation::GetSession,
    Operation::GetSessionWithUser,
    Operation::GetUserAndAccount,
    Operation::DeleteSession,
];

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

/// The login waiting for its next step (from the login cookie), if it waits for `purpose`: its
/// token's hash (the challenge's key) and the challenge. `expired` says why not otherwise.
pub async fn waiting_challenge(
    ctx: &Ctx,
    purpose: Purpose,
    now: UnixTime,
    expired: fn() -> ApiError,
) -> Result<(String, Challenge), ApiError> {
    let hash = login_token().ok_or_else(expired)?.hash();
    let challenge = ctx
        .store
        .get_challenge(&hash, now)
        .await
        .map_err(store_failure)?
        .filter(|c| c.purpose == purpose)
        .ok_or_else(expired)?;
    Ok((hash, challenge))
}

/// The user a waiting login is for, with their account (`expired` if the user is gone).
pub async fn user_of(
    ctx: &Ctx,
    challenge: &Challenge,
    expired: fn() -> ApiError,
) -> Result<(User, Option<Account>), ApiError> {
    let (user, account) = ctx
        .store
        .get_user_and_account(&challenge.account_id, &challenge.user_id)
        .await
        .map_err(store_failure)?;
    Ok((user.ok_or_else(expired)?, account))
}

fn cookie_value(name: &str) -> Option<String> {
    let parts = parts()?;
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn cookie(name: &str) -> Option<BearerToken> {
    cookie_value(name).and_then(|value| BearerToken::parse(&value))
}

/// Marks a browser that completed a login of a user: the lockout counts its failures apart from
/// those of unknown places (`domain::lockout`). It proves nothing on its own: the password and
/// the second factor are asked for as always.
pub const DEVICE_COOKIE: &str = "__Host-device";

/// Half a year, under the 400 days browsers allow.
const DEVICE_COOKIE_SECONDS: i64 = 180 * 24 * 60 * 60;

fn device_cookie_data(user_id: &str, nonce: &str) -> Vec<u8> {
    format!("device cookie|{user_id}|{nonce}").into_bytes()
}

/// Gives this browser the device cookie of `user_id`: a random nonce and its keyed hash.
pub fn set_device_cookie(keys: &Keyring, user_id: &str) {
    let nonce = BearerToken::generate().expose()[..32].to_owned();
    let mac = keys.mac(&device_cookie_data(user_id, &nonce));
    set_cookie(DEVICE_COOKIE, format!("{nonce}.{mac}"), DEVICE_COOKIE_SECONDS);
}

/// Whether this browser holds a valid device cookie of `user_id`.
pub fn known_device(keys: &Keyring, user_id: &str) -> bool {
    let Some(value) = cookie_value(DEVICE_COOKIE) else { return false };
    let Some((nonce, mac)) = value.split_once('.') else { return false };
    nonce.len() == 32 && keys.verify_mac(&device_cookie_data(user_id, nonce), mac)
}

/// The session cookie holds the token, then the account and user the session belongs to
/// (hex, after dots), so that one read finds the session with both: `token.account.user`.
pub fn session_token() -> Option<BearerToken> {
    let value = cookie_value(SESSION_COOKIE)?;
    BearerToken::parse(value.split('.').next()?)
}

/// The account and user the session cookie names, if it names them (cookies set before the
/// hint existed do not).
fn session_hint() -> Option<SessionHint> {
    let value = cookie_value(SESSION_COOKIE)?;
    let mut parts =
        value.split('.').skip(1).map(|p| hex::decode(p).ok().and_then(|b| String::from_utf8(b).ok()));
    match (parts.next(), parts.next(), parts.next()) {
        // Ids are short; anything longer is no key the store would take.
        (Some(Some(account_id)), Some(Some(user_id)), None)
            if account_id.len() <= 64 && user_id.len() <= 64 =>
        {
            Some(SessionHint { account_id, user_id })
        }
        _ => None,
    }
}

/// The token of the login waiting for its second step.
pub fn login_token() -> Option<BearerToken> {
    cookie(LOGIN_COOKIE)
}

pub fn set_login_cookie(token: &BearerToken, max_age_seconds: i64) {
    set_cookie(LOGIN_COOKIE, token.expose().to_owned(), max_age_seconds);
}

pub fn clear_login_cookie() {
    set_cookie(LOGIN_COOKIE, String::new(), 0);
}

/// Every cookie of ours: host-only (`__Host-` names), sent over HTTPS only, never to scripts, and
/// never on requests from other sites.
fn set_cookie(name: &'static str, value: String, max_age_seconds: i64) {
    let cookie = Cookie::build((name, value))
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict);
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        expect_context::<ResponseOptions>().append_header(header::SET_COOKIE, value);
    }
}

pub fn set_session_cookie(token: &BearerToken, session: &Session) {
    let (account, user) = (hex::encode(&session.account_id), hex::encode(&session.user_id));
    set_cookie(SESSION_COOKIE, format!("{}.{account}.{user}", token.expose()), SESSION_TTL_SECONDS);
}

pub fn clear_session_cookie() {
    set_cookie(SESSION_COOKIE, String::new(), 0);
}

/// A session for a login that just proved itself; `two_factor`: with 2FA (a passcode, a
/// recovery code, or activation). `epochs`: the user's and account's at the login.
pub fn new_session(
    account_id: &str,
    user_id: &str,
    epochs: Epochs,
    two_factor: bool,
) -> (BearerToken, Session) {
    let now = now();
    let session = Session {
        user_id: user_id.to_owned(),
        account_id: account_id.to_owned(),
        expires_at: now.plus_seconds(SESSION_TTL_SECONDS),
        two_factor,
        epochs,
        reauth: Reauth { at: now, two_factor },
    };
    (BearerToken::generate(), session)
}

/// The session epochs of a user and their account as stored now.
pub fn epochs_of(user: &User, account: Option<&Account>) -> Epochs {
    Epochs { user: user.session_epoch, account: account.map_or(0, |a| a.session_epoch) }
}

pub fn not_signed_in() -> ApiError {
    ApiError::unauthenticated("Your session has ended. Please log in again.")
}

/// The answer for a session that ended, saying why.
pub fn session_ended(why: sessions::Ended) -> ApiError {
    ApiError::unauthenticated(match why {
        sessions::Ended::Expired => "Your session has ended: sessions last 8 hours. Please log in again.",
        sessions::Ended::TwoFactorChanged => {
            "Your session has ended: an administrator changed the two-factor authentication of your login. Please log in again."
        }
        sessions::Ended::TwoFactorRequired => {
            "Your session has ended: two-factor authentication is now required for everyone in your account. Please log in again to set it up."
        }
    })
}

/// The session from the cookie (and its token's hash) as stored, not yet checked against the
/// user's epochs (the remote-session gate checks them in its write); `Unauthenticated` when there
/// is none or it has expired.
pub async fn stored_session(ctx: &Ctx) -> Result<(String, Session), ApiError> {
    let token = session_token().ok_or_else(not_signed_in)?;
    let hash = token.hash();
    let session = ctx.store.get_session(&hash).await.map_err(store_failure)?.ok_or_else(not_signed_in)?;
    if now() >= session.expires_at {
        return Err(session_ended(sessions::Ended::Expired));
    }
    Ok((hash, session))
}

/// A session that still counts, with its user and account as they are now.
pub struct SignedIn {
    pub token_hash: String,
    pub session: Session,
    pub user: User,
    pub account: Option<Account>,
}

/// The signed-in user: the session from the cookie, checked against the user's and account's
/// session epochs (one DynamoDB call; two for a cookie without the hint). `Unauthenticated` when
/// it has ended for any reason.
pub async fn require_signed_in(ctx: &Ctx) -> Result<SignedIn, ApiError> {
    let Some(hint) = session_hint() else {
        let (token_hash, session) = stored_session(ctx).await?;
        return check_session(ctx, token_hash, session).await;
    };
    let token_hash = session_token().ok_or_else(not_signed_in)?.hash();
    let (session, user, account) =
        ctx.store.get_session_with_user(&token_hash, &hint).await.map_err(store_failure)?;
    let session = session.ok_or_else(not_signed_in)?;
    if now() >= session.expires_at {
        return Err(session_ended(sessions::Ended::Expired));
    }
    // The hint only chose what to read: the session decides whose it is.
    if session.account_id != hint.account_id || session.user_id != hint.user_id {
        return Err(not_signed_in());
    }
    checked(ctx, token_hash, session, user, account).await
}

/// A stored session checked against its user's and account's epochs (one DynamoDB call).
pub async fn check_session(ctx: &Ctx, token_hash: String, session: Session) -> Result<SignedIn, ApiError> {
    let (user, account) =
        ctx.store.get_user_and_account(&session.account_id, &session.user_id).await.map_err(store_failure)?;
    checked(ctx, token_hash, session, user, account).await
}

/// A session that still counts against its user's and account's epochs.
async fn checked(
    ctx: &Ctx,
    token_hash: String,
    session: Session,
    user: Option<User>,
    account: Option<Account>,
) -> Result<SignedIn, ApiError> {
    let user = user.ok_or_else(not_signed_in)?;
    if let Some(why) =
        sessions::why_ended(session.epochs, session.two_factor, epochs_of(&user, account.as_ref()))
    {
        // Ended by a Disable, a Reset or the account-wide switch. Deleting it is only tidying.
        if let Err(err) = ctx.store.delete_session(&token_hash).await {
            tracing::warn!(error = %err, "could not delete an ended session");
        }
        return Err(session_ended(why));
    }
    Ok(SignedIn { token_hash, session, user, account })
}

/// The signed-in user, from the session cookie; `Unauthenticated` otherwise.
pub async fn require_user(ctx: &Ctx) -> Result<User, ApiError> {
    Ok(require_signed_in(ctx).await?.user)
}
