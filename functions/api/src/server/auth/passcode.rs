//! The second step for users with active 2FA: a passcode or a recovery code.

use domain::audit::AuditAction;
use domain::login::MAX_PASSCODE_FAILURES;
use domain::totp::{TotpError, TotpSecret};
use domain::{Email, Role, UnixTime, recovery};
use store::{Challenge, FinishError, Proof, Purpose};

use crate::ApiError;
use crate::auth::{Me, PasscodeAccepted, Requirement, TwoFactorStatus};
use crate::server::lockout::{Counters, locked_out};
use crate::server::request::{self, ctx, store_failure};
use crate::server::{Ctx, audit, now};

use super::{login_expired, mail_lockout};

pub(super) fn me_from_challenge(c: &Challenge) -> Me {
    Me {
        name: c.greeting.name.clone(),
        email: c.greeting.email.clone(),
        role: Role::from_code(&c.greeting.role_code).map(Role::label).unwrap_or_default().to_owned(),
        account_name: c.greeting.account_name.clone(),
        two_factor: TwoFactorStatus::Active,
        is_administrator: Role::from_code(&c.greeting.role_code).is_some_and(Role::can_manage_users),
        // Shown only to users without active 2FA, which this one has.
        remote_2fa: Requirement::Recommended,
    }
}

/// The second step for users with active 2FA: a passcode or a recovery code. A passcode costs
/// two DynamoDB calls on success: read the challenge, then one transaction (accept the step,
/// consume the challenge, clear the failure counters unless locked, start the session, audit).
pub async fn submit_passcode(code: String) -> Result<PasscodeAccepted, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    if code.len() > 64 {
        return Err(ApiError::bad_request("Enter the 6-digit code from your authenticator app."));
    }
    let token = request::login_token().ok_or_else(login_expired)?;
    let challenge_hash = token.hash();
    let challenge = ctx
        .store
        .get_challenge(&challenge_hash, now)
        .await
        .map_err(store_failure)?
        .filter(|c| c.purpose == Purpose::Passcode)
        .ok_or_else(login_expired)?;
    let sealed = challenge.totp_secret.clone().ok_or_else(login_expired)?;
    let email = Email::parse(&challenge.greeting.email).map_err(|_| login_expired())?;
    let counters = Counters::new(&email, &ip, challenge.source);

    let recovery_forms = recovery::stored_forms(ctx.config.totp_keys()?, &code);
    let proof = match &recovery_forms {
        Some(hashes) => Proof::RecoveryCode { hashes },
        None => {
            let secret = ctx
                .config
                .totp_keys()?
                .open(&sealed, &challenge.user_id)
                .map(TotpSecret::from_bytes)
                .map_err(|err| {
                    tracing::error!(error = %err, "cannot decrypt a TOTP secret");
                    ApiError::internal()
                })?;
            match secret.verify(&code, now) {
                Ok(step) => Proof::Passcode { step, sealed_secret: &sealed },
                Err(TotpError::Malformed) => {
                    return Err(ApiError::bad_request(
                        "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
                    ));
                }
                Err(err) => {
                    return Err(second_factor_failed(
                        &ctx,
                        &challenge_hash,
                        &challenge,
                        &counters,
                        &ip,
                        now,
                        err,
                    )
                    .await);
                }
            }
        }
    };

    // How many recovery codes remain, read before the code is spent: afterwards an outage must
    // not turn a finished login into an error.
    let recovery_codes_left = match proof {
        Proof::Passcode { .. } => None,
        Proof::RecoveryCode { .. } => {
            let user =
                ctx.store.get_user(&challenge.account_id, &challenge.user_id).await.map_err(store_failure)?;
            Some(user.map_or(0, |u| u.recovery_codes_left.saturating_sub(1)))
        }
    };
    let (session_token, session) =
        request::new_session(&challenge.account_id, &challenge.user_id, challenge.epochs, true);
    let (action, detail) = match proof {
        Proof::Passcode { .. } => (AuditAction::LoginSuccess, "password and passcode"),
        Proof::RecoveryCode { .. } => (AuditAction::RecoveryCodeLogin, "password and a recovery code"),
    };
    let event =
        audit::event(&challenge.account_id, &challenge.user_id, &challenge.user_id, action, &ip, detail);
    let settle = counters.settle(now, true);
    let finished = ctx
        .store
        .finish_second_factor(
            &challenge_hash,
            &challenge,
            proof,
            MAX_PASSCODE_FAILURES,
            &settle,
            &session_token.hash(),
            &session,
            &event,
        )
        .await;
    match finished {
        Ok(()) => {}
        Err(FinishError::Replayed) => {
            let err = match proof {
                Proof::Passcode { .. } => TotpError::Replayed,
                Proof::RecoveryCode { .. } => TotpError::Wrong,
            };
            let failure =
                second_factor_failed(&ctx, &challenge_hash, &challenge, &counters, &ip, now, err).await;
            return Err(match (proof, failure) {
                (Proof::RecoveryCode { .. }, ApiError::Unauthenticated { .. }) => ApiError::unauthenticated(
                    "That recovery code is not valid or was already used. Each code works once.",
                ),
                (_, failure) => failure,
            });
        }
        Err(FinishError::Locked) => {
            request::clear_login_cookie();
            return Err(counters.refuse_raced(&ctx, now).await);
        }
        Err(FinishError::Store(err)) => return Err(store_failure(err)),
    }
    // The transaction also cleared the login's failure counters.
    request::set_session_cookie(&session_token, &session);
    request::set_device_cookie(ctx.config.totp_keys()?, &challenge.user_id);
    request::clear_login_cookie();
    if let (Proof::RecoveryCode { .. }, Some(left)) = (proof, recovery_codes_left) {
        let mail = mail::Email::recovery_code_used(&challenge.greeting.name, left);
        if let Err(e) = ctx.mailer.send(&challenge.greeting.email, &mail).await {
            tracing::error!(error = %e, "could not send the recovery-code notice");
        }
    }
    tracing::info!(user = %challenge.user_id, %ip, "login with a second factor succeeded");
    Ok(PasscodeAccepted { me: me_from_challenge(&challenge), recovery_codes_left })
}

/// Counts a wrong (or replayed) code on the challenge and on the lockout counters, audits it, and
/// says what the user should do.
pub(super) async fn second_factor_failed(
    ctx: &Ctx,
    challenge_hash: &str,
    c: &Challenge,
    counters: &Counters,
    ip: &str,
    now: UnixTime,
    err: TotpError,
) -> ApiError {
    let left = match ctx.store.count_challenge_failure(challenge_hash, MAX_PASSCODE_FAILURES).await {
        Ok(left) => left,
        Err(e) => return store_failure(e),
    };
    let counted = match counters.count(ctx, now).await {
        Ok(counted) => counted,
        Err(e) => return e,
    };
    let lock = counters.lock_after(&counted, now);
    if let (Some(until), true) = (lock, counters.tripped_unknown_sources(&counted)) {
        mail_lockout(ctx, &c.greeting.name, &c.greeting.email, until).await;
    }
    let detail = match err {
        TotpError::Replayed => "passcode already used",
        _ => "wrong passcode or recovery code",
    };
    let event = audit::event(&c.account_id, &c.user_id, &c.user_id, AuditAction::PasscodeFailure, ip, detail);
    audit::write(ctx, &event).await;
    if let Some(until) = lock {
        let event = audit::event(
            &c.account_id,
            &c.user_id,
            &c.user_id,
            AuditAction::LoginLockout,
            ip,
            "too many wrong passcodes",
        );
        audit::write(ctx, &event).await;
        let _ = ctx.store.delete_challenge(challenge_hash).await;
        request::clear_login_cookie();
        return locked_out(until);
    }
    match left {
        Some(_) => ApiError::unauthenticated(err.to_string()),
        None => {
            request::clear_login_cookie();
            ApiError::unauthenticated("Too many wrong codes. Please log in again.")
        }
    }
}
