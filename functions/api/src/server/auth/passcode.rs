//! The second step for users with active 2FA: a passcode or a recovery code.

use domain::audit::AuditAction;
use domain::login::MAX_PASSCODE_FAILURES;
use domain::totp::TotpError;
use domain::{Email, Role, UnixTime, recovery};
use store::{Challenge, FinishError, Proof, Purpose};

use crate::ApiError;
use crate::auth::{Me, PasscodeAccepted, Requirement, TwoFactorStatus};
use crate::server::lockout::{Counters, locked_out};
use crate::server::request::{self, ctx, store_failure};
use crate::server::shared::open_totp_secret;
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
        remote_2fa: Requirement::Met,
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
    let waiting = waiting_login(&ctx, &ip, now).await?;
    let Waiting { challenge_hash, challenge, sealed, counters, .. } = &waiting;
    let recovery_forms = recovery::stored_forms(ctx.config.totp_keys()?, &code);
    let proof = match &recovery_forms {
        Some(hashes) => Proof::RecoveryCode { hashes },
        None => match open_totp_secret(&ctx, sealed, &challenge.user_id)?.verify(&code, now) {
            Ok(step) => Proof::Passcode { step, sealed_secret: sealed },
            Err(TotpError::Malformed) => {
                return Err(ApiError::bad_request(
                    "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
                ));
            }
            Err(err) => return Err(waiting.failed(&ctx, err).await),
        },
    };

    let recovery_codes_left = recovery_codes_left(&ctx, challenge, proof).await?;
    let (session_token, session) =
        request::new_session(&challenge.account_id, &challenge.user_id, challenge.epochs, true);
    let event = signed_in_event(challenge, proof, &ip);
    let settle = counters.settle(now, true);
    let finished = ctx
        .store
        .finish_second_factor(store::SecondStep {
            challenge_hash,
            challenge,
            proof,
            max_failures: MAX_PASSCODE_FAILURES,
            settle: &settle,
            session_hash: &session_token.hash(),
            session: &session,
            audit: &event,
        })
        .await;
    if let Err(err) = finished {
        return Err(waiting.refused(&ctx, proof, err).await);
    }
    // The transaction also cleared the login's failure counters.
    request::set_session_cookie(&session_token, &session);
    request::set_device_cookie(ctx.config.totp_keys()?, &challenge.user_id);
    request::clear_login_cookie();
    if let (Proof::RecoveryCode { .. }, Some(left)) = (proof, recovery_codes_left) {
        let mail = mail::Email::recovery_code_used(&challenge.greeting.name, left);
        ctx.mailer.send_notice(&challenge.greeting.email, &mail, "recovery code used").await;
    }
    tracing::info!(user = %challenge.user_id, %ip, "login with a second factor succeeded");
    Ok(PasscodeAccepted { me: me_from_challenge(challenge), recovery_codes_left })
}

/// How many recovery codes remain after this one, read before the code is spent: afterwards an
/// outage must not turn a finished login into an error. `None` for a passcode.
async fn recovery_codes_left(
    ctx: &Ctx,
    challenge: &Challenge,
    proof: Proof<'_>,
) -> Result<Option<usize>, ApiError> {
    match proof {
        Proof::Passcode { .. } => Ok(None),
        Proof::RecoveryCode { .. } => {
            let user =
                ctx.store.get_user(&challenge.account_id, &challenge.user_id).await.map_err(store_failure)?;
            Ok(Some(user.map_or(0, |u| u.recovery_codes_left.saturating_sub(1))))
        }
    }
}

/// The audit event of a login finished with `proof`.
fn signed_in_event(challenge: &Challenge, proof: Proof<'_>, ip: &str) -> store::AuditEvent {
    let (action, detail) = match proof {
        Proof::Passcode { .. } => (AuditAction::LoginSuccess, "password and passcode"),
        Proof::RecoveryCode { .. } => (AuditAction::RecoveryCodeLogin, "password and a recovery code"),
    };
    audit::event(&challenge.account_id, &challenge.user_id, &challenge.user_id, action, ip, detail)
}

/// The login waiting for its passcode (from the login cookie), with the lockout's counters, and
/// this attempt's address and time.
struct Waiting {
    challenge_hash: String,
    challenge: Challenge,
    sealed: String,
    counters: Counters,
    ip: String,
    now: UnixTime,
}

async fn waiting_login(ctx: &Ctx, ip: &str, now: UnixTime) -> Result<Waiting, ApiError> {
    let (challenge_hash, challenge) =
        request::waiting_challenge(ctx, Purpose::Passcode, now, login_expired).await?;
    let sealed = challenge.totp_secret.clone().ok_or_else(login_expired)?;
    let email = Email::parse(&challenge.greeting.email).map_err(|_| login_expired())?;
    let counters = Counters::new(&email, ip, challenge.source);
    Ok(Waiting { challenge_hash, challenge, sealed, counters, ip: ip.to_owned(), now })
}

impl Waiting {
    /// The answer when the step's write was refused: a code already used counts as a wrong one, and
    /// a lock set meanwhile refuses the login as the lockout would have.
    async fn refused(&self, ctx: &Ctx, proof: Proof<'_>, err: FinishError) -> ApiError {
        match err {
            FinishError::Replayed => {
                let totp_err = match proof {
                    Proof::Passcode { .. } => TotpError::Replayed,
                    Proof::RecoveryCode { .. } => TotpError::Wrong,
                };
                let failure = self.failed(ctx, totp_err).await;
                match (proof, failure) {
                    (Proof::RecoveryCode { .. }, ApiError::Unauthenticated { .. }) => {
                        ApiError::unauthenticated(
                            "That recovery code is not valid or was already used. Each code works once.",
                        )
                    }
                    (_, failure) => failure,
                }
            }
            FinishError::Locked => {
                request::clear_login_cookie();
                self.counters.refuse_raced(ctx, self.now).await
            }
            FinishError::Store(err) => store_failure(err),
        }
    }

    /// Counts a wrong (or replayed) code on the challenge and on the lockout counters, audits it, and
    /// says what the user should do.
    async fn failed(&self, ctx: &Ctx, err: TotpError) -> ApiError {
        let Waiting { challenge_hash, challenge: c, counters, ip, now, .. } = self;
        let (ip, now) = (ip.as_str(), *now);
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
        let event = |action, detail| audit::event(&c.account_id, &c.user_id, &c.user_id, action, ip, detail);
        audit::write(ctx, &event(AuditAction::PasscodeFailure, detail)).await;
        if let Some(until) = lock {
            audit::write(ctx, &event(AuditAction::LoginLockout, "too many wrong passcodes")).await;
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
}
