//! The signed-in session: who it is, logout, and step-up ("sudo mode").

use domain::UnixTime;
use domain::audit::AuditAction;
use domain::password::{MAX_PASSWORD_LEN, verify_password};
use domain::session::{Reauth, StepUp};
use domain::twofactor::TwoFactorStatus;
use store::{AuditEvent, Settle, SpentPasscode, User};

use crate::ApiError;
use crate::auth::Me;
use crate::server::lockout::{Counters, locked_out};
use crate::server::request::{self, ctx, store_failure};
use crate::server::shared::{me_from, open_totp_secret, status_of};
use crate::server::{Ctx, audit, now};

use super::{mail_lockout, source_of};

pub async fn me() -> Result<Option<Me>, ApiError> {
    let ctx = ctx();
    match request::require_signed_in(&ctx).await {
        Ok(signed_in) => Ok(Some(me_from(&signed_in.user, signed_in.account.as_ref(), now()))),
        Err(ApiError::Unauthenticated { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

pub async fn logout() -> Result<(), ApiError> {
    let ctx = ctx();
    if let Some(token) = request::session_token() {
        ctx.store.delete_session(&token.hash()).await.map_err(store_failure)?;
    }
    if let Some(token) = request::login_token() {
        ctx.store.delete_challenge(&token.hash()).await.map_err(store_failure)?;
    }
    request::clear_session_cookie();
    request::clear_login_cookie();
    Ok(())
}

/// Step-up ("sudo mode"): the signed-in user proves who they are again, with the current passcode
/// if their 2FA is active and with their password if not, so that this session may lower
/// security for the next `domain::session::STEP_UP_SECONDS`. Counted by the lockout like a login.
pub async fn step_up(secret: String) -> Result<(), ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    if secret.is_empty() || secret.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request("Enter your password or the code from your authenticator app."));
    }
    let request::SignedIn { token_hash, user, account, .. } = request::require_signed_in(&ctx).await?;
    let method = StepUp::for_user(status_of(&user, account.as_ref()) == TwoFactorStatus::Active);
    let mut counters = Counters::new(&user.email, &ip, source_of(&ctx, Some(&user), &ip)?);
    if let Some(until) = counters.locked_until(&ctx, now).await? {
        return Err(locked_out(until));
    }
    // Checked first, then either noted on the session with its audit event (refused if parallel
    // guesses locked the counters meanwhile) or counted, as a login's password is.
    let step_up = StepUpWrite {
        counters: &counters,
        token_hash: &token_hash,
        settle: counters.settle(now, false),
        audit: audit::event(&user.account_id, &user.id, &user.id, AuditAction::StepUp, &ip, ""),
    };
    if step_up.proven(&ctx, &user, method, secret, now).await? {
        return Ok(());
    }
    Err(wrong_secret(&ctx, &counters, &user, method, &ip, now).await)
}

/// A wrong password or passcode, counted as a login's: refused, or locked out once beyond the limit.
async fn wrong_secret(
    ctx: &Ctx,
    counters: &Counters,
    user: &User,
    method: StepUp,
    ip: &str,
    now: UnixTime,
) -> ApiError {
    let counted = match counters.count(ctx, now).await {
        Ok(counted) => counted,
        Err(err) => return err,
    };
    if counters.beyond_limit(&counted) {
        return counters.refused(&counted, now);
    }
    let detail = match method {
        StepUp::Password => "wrong password",
        StepUp::Passcode => "wrong or already used passcode",
    };
    audit::record(ctx, None, user, AuditAction::StepUpFailure, ip, detail).await;
    if let Some(until) = counters.lock_after(&counted, now) {
        if counters.tripped_unknown_sources(&counted) {
            mail_lockout(ctx, &user.name, user.email.as_str(), until).await;
        }
        return locked_out(until);
    }
    ApiError::bad_request(match method {
        StepUp::Password => "That password is not correct.",
        StepUp::Passcode => "That code is not valid. Enter the current code from your authenticator app.",
    })
}

/// What a proven step-up writes: the note on the session, its audit event, and the lockout's
/// check.
pub(super) struct StepUpWrite<'a> {
    counters: &'a Counters,
    token_hash: &'a str,
    settle: Settle,
    audit: AuditEvent,
}

impl StepUpWrite<'_> {
    /// Checks `secret` and, when right, notes the step-up; `false` when it is wrong (or a passcode
    /// already used).
    async fn proven(
        &self,
        ctx: &Ctx,
        user: &User,
        method: StepUp,
        secret: String,
        now: UnixTime,
    ) -> Result<bool, ApiError> {
        match method {
            StepUp::Password => {
                let stored = user.password_hash.clone();
                let right = tokio::task::spawn_blocking(move || verify_password(&secret, Some(&stored)))
                    .await
                    .unwrap_or(false);
                Ok(right && self.record(ctx, Reauth { at: now, two_factor: false }, None).await?)
            }
            StepUp::Passcode => {
                let sealed = user.totp_secret.as_deref().ok_or_else(ApiError::internal)?;
                let Ok(step) = open_totp_secret(ctx, sealed, &user.id)?.verify(&secret, now) else {
                    return Ok(false);
                };
                let spent = SpentPasscode { user, sealed_secret: sealed, step };
                self.record(ctx, Reauth { at: now, two_factor: true }, Some(spent)).await
            }
        }
    }

    /// Notes the step-up; `false` when its passcode was already used.
    async fn record(
        &self,
        ctx: &Ctx,
        reauth: Reauth,
        passcode: Option<SpentPasscode<'_>>,
    ) -> Result<bool, ApiError> {
        let mut audit = self.audit.clone();
        audit.detail =
            if reauth.two_factor { "confirmed with a passcode" } else { "confirmed with the password" }
                .into();
        match ctx.store.record_reauth(self.token_hash, reauth, passcode, &audit, &self.settle).await {
            Ok(store::ReauthRecord::Recorded) => Ok(true),
            Ok(store::ReauthRecord::NotRecorded) => Ok(false),
            Err(e) => Err(self.counters.outcome_failed(ctx, reauth.at, e).await),
        }
    }
}
