//! Login, the signed-in user, logout, devices.

use domain::lockout::{self, Counter};
use domain::password::{verify_password, MAX_PASSWORD_LEN};
use domain::time::format_utc;
use domain::{Email, UnixTime};
use store::{AuditEvent, CounterKey, User};

use super::request::{self, ctx, internal, require_user};
use super::{now, Ctx};
use crate::auth::{DeviceView, LoginOutcome, Me};
use crate::ApiError;

const WRONG_CREDENTIALS: &str = "The email address or password is incorrect.";

fn locked_out(until: UnixTime) -> ApiError {
    ApiError::LockedOut {
        message: format!(
            "Too many failed login attempts. For your security, logging in is locked until {}.",
            format_utc(until)
        ),
        until: until.seconds(),
    }
}

/// The later of the two counters' locks, if either is locked.
fn lock_of(pair: Option<&Counter>, by_email: Option<&Counter>, now: UnixTime) -> Option<UnixTime> {
    let pair = pair.and_then(|c| lockout::PAIR.locked_until(c, now));
    let by_email = by_email.and_then(|c| lockout::EMAIL.locked_until(c, now));
    pair.max(by_email)
}

async fn audit(ctx: &Ctx, user: &User, action: &str, ip: &str, detail: &str) {
    let event = AuditEvent {
        account_id: user.account_id.clone(),
        actor_user_id: Some(user.id.clone()),
        subject_user_id: Some(user.id.clone()),
        action: action.to_owned(),
        client_ip: ip.to_owned(),
        at: now(),
        detail: detail.to_owned(),
    };
    // An audit write that fails must not hide from operators, but must not fail the login either.
    if let Err(err) = ctx.store.record_audit(&event).await {
        tracing::error!(error = %err, action, "audit write failed");
    }
}

pub async fn login(email: String, password: String) -> Result<LoginOutcome, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let email = Email::parse(&email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if password.is_empty() {
        return Err(ApiError::bad_request("Enter your password."));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request("That password is too long."));
    }

    let keys = [CounterKey::pair(&email, &ip), CounterKey::email(&email)];
    let counters = ctx.store.load_counters(&keys).await.map_err(internal)?;
    if let Some(until) = lock_of(counters[0].as_ref(), counters[1].as_ref(), now) {
        return Err(locked_out(until));
    }

    let user = ctx.store.find_user_by_email(&email).await.map_err(internal)?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    // argon2id takes tens of milliseconds of CPU: keep it off the async workers.
    let verified =
        tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
            .await
            .unwrap_or(false);

    let user = match (verified, user) {
        (true, Some(user)) => user,
        (_, user) => {
            let pair = ctx.store.record_failure(&keys[0], &lockout::PAIR, now).await.map_err(internal)?;
            let by_email =
                ctx.store.record_failure(&keys[1], &lockout::EMAIL, now).await.map_err(internal)?;
            let lock = lock_of(Some(&pair), Some(&by_email), now);
            if let Some(user) = &user {
                audit(&ctx, user, "login.failure", &ip, "wrong password").await;
                if lock.is_some() {
                    audit(&ctx, user, "login.lockout", &ip, "too many failed attempts").await;
                }
            }
            tracing::info!(%ip, locked = lock.is_some(), "login failed");
            return Err(lock.map(locked_out).unwrap_or_else(|| ApiError::unauthenticated(WRONG_CREDENTIALS)));
        }
    };

    for key in &keys {
        ctx.store.clear_counter(key).await.map_err(internal)?;
    }
    request::start_session(&ctx, &user).await?;
    ctx.store.record_login(&user, now).await.map_err(internal)?;
    audit(&ctx, &user, "login.success", &ip, "password").await;
    tracing::info!(user = %user.id, %ip, "login succeeded");
    Ok(LoginOutcome::SignedIn(me_of(&ctx, &user).await?))
}

async fn me_of(ctx: &Ctx, user: &User) -> Result<Me, ApiError> {
    let account = ctx.store.get_account(&user.account_id).await.map_err(internal)?;
    Ok(Me {
        name: user.name.clone(),
        email: user.email.to_string(),
        role: user.role.label().to_owned(),
        account_name: account.map(|a| a.name).unwrap_or_default(),
    })
}

pub async fn me() -> Result<Option<Me>, ApiError> {
    let ctx = ctx();
    match require_user(&ctx).await {
        Ok(user) => Ok(Some(me_of(&ctx, &user).await?)),
        Err(ApiError::Unauthenticated { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

pub async fn logout() -> Result<(), ApiError> {
    let ctx = ctx();
    if let Some(token) = request::session_token() {
        ctx.store.delete_session(&token.hash()).await.map_err(internal)?;
    }
    request::clear_session_cookie();
    Ok(())
}

pub async fn devices() -> Result<Vec<DeviceView>, ApiError> {
    let ctx = ctx();
    let user = require_user(&ctx).await?;
    let devices = ctx.store.list_devices(&user.account_id).await.map_err(internal)?;
    Ok(devices
        .into_iter()
        .map(|d| DeviceView { id: d.id, name: d.name, customer: d.customer, os: d.os })
        .collect())
}
