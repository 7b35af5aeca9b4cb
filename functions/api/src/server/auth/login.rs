//! The password step: counts failures, then leads to the dashboard, the passcode, activation or
//! the wait for an IP verification link.

use domain::audit::AuditAction;
use domain::ipcheck::{self, IpDecision};
use domain::lockout::Source;
use domain::login::{self, NextStep};
use domain::password::{MAX_PASSWORD_LEN, verify_password};
use domain::secret::BearerToken;
use domain::{Email, UnixTime};
use store::{Account, AuditEvent, Challenge, Greeting, Purpose, User};

use crate::ApiError;
use crate::auth::LoginOutcome;
use crate::server::lockout::{Counters, locked_out};
use crate::server::request::{self, ctx, store_failure};
use crate::server::shared::{me_from, status_of};
use crate::server::{audit, now};

use super::ipverify::start_ip_verification;
use super::{Attempt, mail_lockout, source_of};

const WRONG_CREDENTIALS: &str = "The email address or password is incorrect.";
/// Failed logins with an email that has no account are kept this long (for looking into abuse),
/// not for ever.
const UNKNOWN_EMAIL_AUDIT_SECONDS: i64 = 30 * 24 * 60 * 60;

/// Where a failed login with an email that has no account is audited: no account can read it,
/// and a spray of many emails spreads over 256 partitions (`-00` … `-ff`) instead of one.
fn unknown_account(email: &Email) -> String {
    format!("-{}", &domain::secret::sha256_hex(email.as_str())[..2])
}

pub async fn login(email: String, password: String) -> Result<LoginOutcome, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let email = checked_input(&email, &password)?;

    // Three DynamoDB calls when the password is right: whose the email is and the counters (one
    // read); the user and account (one read); the outcome, refused if a counter got locked
    // meanwhile (one transaction).
    let (claim, read) =
        ctx.store.find_login(&email, &Counters::lookup_keys(&email, &ip)).await.map_err(store_failure)?;
    // An email without an account reads keys that do not exist, so both cost the same.
    let (account_id, user_id) = claim.clone().unwrap_or_else(|| ("-".into(), "-".into()));
    let (user, account) =
        ctx.store.get_user_and_account(&account_id, &user_id).await.map_err(store_failure)?;
    let user = user.filter(|_| claim.is_some());
    let source = source_of(&ctx, user.as_ref(), &ip)?;
    let counters = Counters::from_lookup(&email, &ip, source, &read);
    let attempt = Attempt { ctx: &ctx, ip: &ip, now, counters: &counters };
    if let Some(until) = counters.read_lock(now) {
        return Err(locked_out(until));
    }

    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    // argon2id takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .unwrap_or(false);

    let user = match (verified, user) {
        // A right password is no failure; the next step's write is refused if parallel guesses
        // locked the login meanwhile.
        (true, Some(user)) => user,
        (_, user) => return Err(attempt.wrong_password(&email, user.as_ref()).await),
    };

    // IP address verification comes after the password and before the 2FA step.
    let ip_setting_on = account.as_ref().is_none_or(|a| a.ip_verification);
    let status = status_of(&user, account.as_ref());
    let decision =
        ipcheck::decide(ip_setting_on, status, user.ip_verification_paused, &user.verified_ranges, &ip);
    let step = login::after_password(decision, status);
    if step == NextStep::VerifyIp {
        return start_ip_verification(&attempt, &user, account.as_ref()).await;
    }
    let next = next_step(&attempt, step, &user, account.as_ref()).await?;
    // Audited once the login went on (not before its write, whose refusal must look like a
    // wrong password's).
    if decision == IpDecision::SkippedPaused {
        audit::record(
            &ctx,
            None,
            &user,
            AuditAction::IpVerificationSkipped,
            &ip,
            "paused by an administrator",
        )
        .await;
    }
    Ok(next)
}

/// The email, parsed, once the password looks like one.
fn checked_input(email: &str, password: &str) -> Result<Email, ApiError> {
    let email = Email::parse(email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if password.is_empty() {
        return Err(ApiError::bad_request("Enter your password."));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::bad_request("That password is too long."));
    }
    Ok(email)
}

impl Attempt<'_> {
    /// A wrong password, or an email without an account: counted, audited (the same writes either
    /// way, so timing tells nothing), and answered only once counted, "locked" beyond the limit.
    async fn wrong_password(&self, email: &Email, user: Option<&User>) -> ApiError {
        let Attempt { ctx, ip, now, counters } = *self;
        // Parallel guesses counted beyond the limit are refused, whatever their password.
        let counted = match counters.count(ctx, now).await {
            Ok(counted) => counted,
            Err(err) => return err,
        };
        let lock = counters.lock_after(&counted, now);
        if counters.beyond_limit(&counted) {
            return counters.refused(&counted, now);
        }
        let (account_id, user_id, detail, keep_until) = match user {
            Some(u) => (u.account_id.clone(), Some(u.id.clone()), "wrong password", None),
            None => (
                unknown_account(email),
                None,
                "unknown email",
                Some(now.plus_seconds(UNKNOWN_EMAIL_AUDIT_SECONDS)),
            ),
        };
        let mut event = AuditEvent {
            account_id,
            actor_user_id: user_id.clone(),
            subject_user_id: user_id,
            action: AuditAction::LoginFailure.code().into(),
            client_ip: ip.to_owned(),
            at: now,
            detail: detail.into(),
            device_id: None,
            keep_until,
        };
        audit::write(ctx, &event).await;
        if lock.is_some() {
            event.action = AuditAction::LoginLockout.code().into();
            event.detail = "too many failed attempts".into();
            audit::write(ctx, &event).await;
        }
        if let (Some(user), Some(until), true) = (user, lock, counters.tripped_unknown_sources(&counted)) {
            mail_lockout(ctx, &user.name, user.email.as_str(), until).await;
        }
        tracing::info!(%ip, locked = lock.is_some(), "login failed");
        lock.map(locked_out).unwrap_or_else(|| ApiError::unauthenticated(WRONG_CREDENTIALS))
    }

    /// Starts the waiting login (with its audit event), refused if the counters are locked.
    pub(super) async fn start_challenge(
        &self,
        user: &User,
        account: Option<&Account>,
        purpose: Purpose,
        audit: Option<&AuditEvent>,
    ) -> Result<(), ApiError> {
        let Attempt { ctx, ip, now, counters } = *self;
        let (token, mut challenge) = new_challenge(user, account, purpose, ip, now, None);
        challenge.source = counters.source();
        let settle = counters.settle(now, false);
        if let Err(err) = ctx.store.create_challenge(&token.hash(), &challenge, audit, &settle).await {
            return Err(counters.outcome_failed(ctx, now, err).await);
        }
        request::set_login_cookie(&token, request::LOGIN_CHALLENGE_TTL_SECONDS);
        Ok(())
    }
}

/// Takes the login to `step` (`domain::login`): signs in, or starts the passcode or activation
/// challenge, in a write that settles the attempt's lockout counters.
pub(super) async fn next_step(
    attempt: &Attempt<'_>,
    step: NextStep,
    user: &User,
    account: Option<&Account>,
) -> Result<LoginOutcome, ApiError> {
    let Attempt { ctx, ip, now, counters } = *attempt;
    match step {
        NextStep::SignedIn => {
            let epochs = request::epochs_of(user, account);
            let (token, session) = request::new_session(&user.account_id, &user.id, epochs, false);
            let event = audit::event(
                &user.account_id,
                &user.id,
                &user.id,
                AuditAction::LoginSuccess,
                ip,
                "password (2FA off)",
            );
            if let Err(err) = ctx
                .store
                .sign_in(&token.hash(), &session, &user.email, &event, &counters.settle(now, true))
                .await
            {
                return Err(counters.outcome_failed(ctx, now, err).await);
            }
            request::set_session_cookie(&token, &session);
            request::set_device_cookie(ctx.config.totp_keys()?, &user.id);
            request::clear_login_cookie();
            tracing::info!(user = %user.id, %ip, "login succeeded");
            Ok(LoginOutcome::SignedIn(me_from(user, account, now)))
        }
        // The failure counters are cleared only when the whole login succeeds, so that knowing
        // the password does not reset the count of wrong passcodes.
        NextStep::Passcode => {
            attempt.start_challenge(user, account, Purpose::Passcode, None).await?;
            Ok(LoginOutcome::PasscodeRequired)
        }
        NextStep::Activation => {
            let event = audit::event(
                &user.account_id,
                &user.id,
                &user.id,
                AuditAction::ActivationRequired,
                ip,
                "2FA enabled, not activated",
            );
            attempt.start_challenge(user, account, Purpose::Activation, Some(&event)).await?;
            Ok(LoginOutcome::ActivationRequired { email: user.email.to_string() })
        }
        NextStep::VerifyIp => start_ip_verification(attempt, user, account).await,
    }
}

pub(super) fn new_challenge(
    user: &User,
    account: Option<&Account>,
    purpose: Purpose,
    ip: &str,
    now: UnixTime,
    range: Option<String>,
) -> (BearerToken, Challenge) {
    let ttl = if purpose == Purpose::IpVerification {
        ipcheck::LINK_VALID_SECONDS
    } else {
        request::LOGIN_CHALLENGE_TTL_SECONDS
    };
    let challenge = Challenge {
        user_id: user.id.clone(),
        account_id: user.account_id.clone(),
        purpose,
        client_ip: ip.to_owned(),
        expires_at: now.plus_seconds(ttl),
        failures: 0,
        totp_secret: user.totp_secret.clone(),
        greeting: Greeting {
            name: user.name.clone(),
            email: user.email.to_string(),
            role_code: user.role.code().to_owned(),
            account_name: account.map(|a| a.name.clone()).unwrap_or_default(),
        },
        range,
        link: None,
        links_sent: 0,
        epochs: request::epochs_of(user, account),
        // An IP verification is a login from an unknown place, and once verified a known one.
        source: Source::Unknown,
        verified: false,
    };
    (BearerToken::generate(), challenge)
}
