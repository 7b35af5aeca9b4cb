//! Login (password, then passcode or activation), the signed-in user, logout, devices.

use domain::ipcheck::{self, IpDecision};
use domain::lockout::Source;
use domain::password::{MAX_PASSWORD_LEN, verify_password};
use domain::secret::SessionToken;
use domain::session::{Reauth, StepUp};
use domain::time::format_utc;
use domain::totp::{TotpError, TotpSecret};
use domain::twofactor::Status;
use domain::{Email, Role, UnixTime, recovery};
use store::{
    Account, AuditEvent, Challenge, Display, FinishError, IpLink, Proof, Purpose, Settle, SpentPasscode, User,
};

use super::lockout::{Counters, locked_out};
use super::request::{self, ctx, store_failure};
use super::shared::{me_from, status_of};
use super::{Ctx, audit, now};
use crate::ApiError;
use crate::auth::{LoginOutcome, Me, PasscodeAccepted, RemoteRequirement, TwoFactorStatus};

const WRONG_CREDENTIALS: &str = "The email address or password is incorrect.";
/// Failed logins with an email that has no account are kept this long (for looking into abuse),
/// not for ever.
const UNKNOWN_EMAIL_AUDIT_SECONDS: i64 = 30 * 24 * 60 * 60;

/// Where a failed login with an email that has no account is audited: no account can read it,
/// and a spray of many emails spreads over 256 partitions (`-00` … `-ff`) instead of one.
fn unknown_account(email: &Email) -> String {
    format!("-{}", &domain::secret::sha256_hex(email.as_str())[..2])
}
/// Wrong passcodes allowed for one login before it must start again with the password.
pub const MAX_PASSCODE_FAILURES: u32 = 5;

fn login_expired() -> ApiError {
    ApiError::unauthenticated("Your login has expired or was already completed. Please log in again.")
}

/// Where the lockout counts an attempt at `user` from `ip` (`domain::lockout`): an email without
/// an account always counts as an unknown source.
fn source_of(ctx: &Ctx, user: Option<&User>, ip: &str) -> Result<Source, ApiError> {
    let Some(user) = user else { return Ok(Source::Unknown) };
    let known_device = request::known_device(ctx.config.totp_keys()?, &user.id);
    Ok(Source::of(&user.verified_ranges, ip, known_device))
}

/// Tells the user that failures from unknown places locked their email (best effort).
async fn mail_lockout(ctx: &Ctx, name: &str, email: &str, until: UnixTime) {
    let mail = mail::Email::logins_from_new_places_locked(name, &format_utc(until));
    if let Err(e) = ctx.mailer.send(email, &mail).await {
        tracing::error!(error = %e, "could not send the lockout notice");
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
        (_, user) => {
            // Counted after the check, and answered only once counted: parallel guesses counted
            // beyond the limit are refused, whatever their password.
            let counted = counters.count(&ctx, now).await?;
            let lock = counters.lock_after(&counted, now);
            if counters.beyond_limit(&counted) {
                return Err(counters.refused(&counted, now));
            }
            // The same writes whether or not the email has an account, so timing tells nothing.
            let (account_id, user_id, detail, keep_until) = match &user {
                Some(u) => (u.account_id.clone(), Some(u.id.clone()), "wrong password", None),
                None => (
                    unknown_account(&email),
                    None,
                    "unknown email",
                    Some(now.plus_seconds(UNKNOWN_EMAIL_AUDIT_SECONDS)),
                ),
            };
            let mut event = AuditEvent {
                account_id,
                actor_user_id: user_id.clone(),
                subject_user_id: user_id,
                action: "login.failure".into(),
                client_ip: ip.clone(),
                at: now,
                detail: detail.into(),
                device_id: None,
                keep_until,
            };
            audit::write(&ctx, &event).await;
            if lock.is_some() {
                event.action = "login.lockout".into();
                event.detail = "too many failed attempts".into();
                audit::write(&ctx, &event).await;
            }
            if let (Some(user), Some(until), true) = (&user, lock, counters.tripped_unknown_sources(&counted))
            {
                mail_lockout(&ctx, &user.name, user.email.as_str(), until).await;
            }
            tracing::info!(%ip, locked = lock.is_some(), "login failed");
            return Err(lock.map(locked_out).unwrap_or_else(|| ApiError::unauthenticated(WRONG_CREDENTIALS)));
        }
    };

    // IP address verification comes after the password and before the 2FA step.
    let ip_setting_on = account.as_ref().is_none_or(|a| a.ip_verification);
    let status = status_of(&user, account.as_ref());
    let decision =
        ipcheck::decide(ip_setting_on, status, user.ip_verification_paused, &user.verified_ranges, &ip);
    if decision == IpDecision::VerifyByEmail {
        return start_ip_verification(&ctx, &user, account.as_ref(), &ip, now, &counters).await;
    }
    let next = next_step(&ctx, &user, account.as_ref(), &counters, source, &ip, now).await?;
    // Audited once the login went on (not before its write, whose refusal must look like a
    // wrong password's).
    if decision == IpDecision::SkippedPaused {
        audit::record(&ctx, None, &user, "ip_verification.skipped_paused", &ip, "paused by an administrator")
            .await;
    }
    Ok(next)
}

/// After the password (and any IP verification): logged in, or on to the passcode or activation.
/// The write of the outcome settles the lockout `counters`.
async fn next_step(
    ctx: &Ctx,
    user: &User,
    account: Option<&Account>,
    counters: &Counters,
    source: Source,
    ip: &str,
    now: UnixTime,
) -> Result<LoginOutcome, ApiError> {
    match status_of(user, account) {
        Status::Off => {
            let epochs = request::epochs_of(user, account);
            let (token, session) = request::new_session(&user.account_id, &user.id, epochs, false);
            let event =
                audit::event(&user.account_id, &user.id, &user.id, "login.success", ip, "password (2FA off)");
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
        Status::Active => {
            start_challenge(ctx, user, account, Purpose::Passcode, source, ip, now, None, counters).await?;
            Ok(LoginOutcome::PasscodeRequired)
        }
        Status::EnabledNotActivated => {
            let event = audit::event(
                &user.account_id,
                &user.id,
                &user.id,
                "login.activation_required",
                ip,
                "2FA enabled, not activated",
            );
            start_challenge(ctx, user, account, Purpose::Activation, source, ip, now, Some(&event), counters)
                .await?;
            Ok(LoginOutcome::ActivationRequired { email: user.email.to_string() })
        }
    }
}

/// Starts the waiting login (with its audit event), refused if the `counters` are locked.
#[allow(clippy::too_many_arguments)]
async fn start_challenge(
    ctx: &Ctx,
    user: &User,
    account: Option<&Account>,
    purpose: Purpose,
    source: Source,
    ip: &str,
    now: UnixTime,
    audit: Option<&AuditEvent>,
    counters: &Counters,
) -> Result<(), ApiError> {
    let (token, mut challenge) = new_challenge(user, account, purpose, ip, now, None);
    challenge.source = source;
    let settle = counters.settle(now, false);
    if let Err(err) = ctx.store.create_challenge(&token.hash(), &challenge, audit, &settle).await {
        return Err(counters.outcome_failed(ctx, now, err).await);
    }
    request::set_login_cookie(&token, request::LOGIN_CHALLENGE_TTL_SECONDS);
    Ok(())
}

fn new_challenge(
    user: &User,
    account: Option<&Account>,
    purpose: Purpose,
    ip: &str,
    now: UnixTime,
    range: Option<String>,
) -> (SessionToken, Challenge) {
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
        display: Display {
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
    (SessionToken::generate(), challenge)
}

/// A link that verifies `range` for the user's login from `login_ip`, waiting as `challenge_hash`.
fn new_ip_link(c: &Challenge, challenge_hash: &str, now: UnixTime) -> (SessionToken, IpLink) {
    let (account_id, user_id, range, login_ip) =
        (&c.account_id, &c.user_id, c.range.as_deref().unwrap_or_default(), &c.client_ip);
    let link = IpLink {
        account_id: account_id.to_owned(),
        user_id: user_id.to_owned(),
        range: range.to_owned(),
        client_ip: login_ip.to_owned(),
        expires_at: ipcheck::link_expires_at(now),
        challenge: challenge_hash.to_owned(),
    };
    (SessionToken::generate(), link)
}

/// Holds the login and emails a single-use link that verifies the range it comes from. The
/// waiting login and its link are written together, and withdrawn together if the email cannot
/// be sent.
async fn start_ip_verification(
    ctx: &Ctx,
    user: &User,
    account: Option<&Account>,
    ip: &str,
    now: UnixTime,
    counters: &Counters,
) -> Result<LoginOutcome, ApiError> {
    // An address that cannot be read gets a range no link can match.
    let range = ipcheck::range_of(ip).unwrap_or_else(|| format!("unknown:{ip}"));
    let (challenge_token, mut challenge) =
        new_challenge(user, account, Purpose::IpVerification, ip, now, Some(range.clone()));
    let challenge_hash = challenge_token.hash();
    let (link_token, link) = new_ip_link(&challenge, &challenge_hash, now);
    let link_hash = link_token.hash();
    (challenge.link, challenge.links_sent) = (Some(link_hash.clone()), 1);
    let settle = counters.settle(now, false);
    if let Err(err) =
        ctx.store.create_ip_challenge(&challenge_hash, &challenge, &link_hash, &link, &settle).await
    {
        return Err(counters.outcome_failed(ctx, now, err).await);
    }
    if let Err(err) = mail_ip_link(ctx, &user.name, user.email.as_str(), &link_token, ip).await {
        // Nothing to wait for: the login starts again from the password.
        if let Err(e) = ctx.store.delete_ip_challenge(&challenge_hash, &link_hash).await {
            tracing::error!(error = %e, "could not withdraw an unsent IP verification");
        }
        return Err(err);
    }
    request::set_login_cookie(&challenge_token, ipcheck::LINK_VALID_SECONDS);
    audit::record(ctx, None, user, "ip_verification.sent", ip, &format!("link sent for {range}")).await;
    Ok(LoginOutcome::IpVerificationRequired { email: user.email.to_string() })
}

/// Emails the link for `token` to a login from `login_ip`.
async fn mail_ip_link(
    ctx: &Ctx,
    name: &str,
    email: &str,
    token: &SessionToken,
    login_ip: &str,
) -> Result<(), ApiError> {
    let url = format!("{}/?verify-ip={}", ctx.config.app_origin, token.expose());
    let mail = mail::Email::ip_verification_link(name, &url, login_ip, ipcheck::LINK_VALID_SECONDS / 3600);
    ctx.mailer.send(email, &mail).await.map_err(request::mail_failure)
}

/// The waiting login: still waiting for its link, or (once the range is verified) its next step.
pub async fn login_status() -> Result<LoginOutcome, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let token = request::login_token().ok_or_else(login_expired)?;
    let challenge = ctx
        .store
        .get_challenge(&token.hash(), now)
        .await
        .map_err(store_failure)?
        .ok_or_else(login_expired)?;
    match challenge.purpose {
        Purpose::Passcode => return Ok(LoginOutcome::PasscodeRequired),
        Purpose::Activation => {
            return Ok(LoginOutcome::ActivationRequired { email: challenge.display.email });
        }
        // Still waiting: one read per poll.
        Purpose::IpVerification if !challenge.verified => {
            return Ok(LoginOutcome::IpVerificationRequired { email: challenge.display.email });
        }
        Purpose::IpVerification => {}
    }
    let (user, account) = ctx
        .store
        .get_user_and_account(&challenge.account_id, &challenge.user_id)
        .await
        .map_err(store_failure)?;
    let user = user.ok_or_else(login_expired)?;
    let verified = challenge.range.as_ref().is_some_and(|r| user.verified_ranges.contains(r));
    if !verified {
        return Ok(LoginOutcome::IpVerificationRequired { email: user.email.to_string() });
    }
    // The range is verified now: a known source.
    let email = Email::parse(&challenge.display.email).map_err(|_| login_expired())?;
    let counters = Counters::new(&email, &ip, Source::Known);
    let next = next_step(&ctx, &user, account.as_ref(), &counters, Source::Known, &ip, now).await?;
    // The wait is over. Only after the next step exists, so an outage cannot strand the login;
    // a challenge left behind ends with its expiry.
    if let Err(err) = ctx.store.delete_challenge(&token.hash()).await {
        tracing::warn!(error = %err, "could not delete a verified IP challenge");
    }
    Ok(next)
}

/// Another link for the waiting login: after a minute, at most `MAX_LINK_SENDS` in all, and
/// only the newest works. The email names the address of the login it is for.
pub async fn resend_ip_link() -> Result<(), ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let token = request::login_token().ok_or_else(login_expired)?;
    let hash = token.hash();
    let challenge = ctx
        .store
        .get_challenge(&hash, now)
        .await
        .map_err(store_failure)?
        .filter(|c| c.purpose == Purpose::IpVerification)
        .ok_or_else(login_expired)?;
    let too_many =
        || ApiError::bad_request("Too many emails were sent for this login. Log in again to get a new link.");
    if challenge.links_sent >= ipcheck::MAX_LINK_SENDS {
        return Err(too_many());
    }
    let range = challenge.range.clone().unwrap_or_default();
    let (link_token, link) = new_ip_link(&challenge, &hash, now);
    let cutoff = now.plus_seconds(-ipcheck::RESEND_COOLDOWN_SECONDS);
    let sent = ctx
        .store
        .send_another_ip_link(&hash, &link_token.hash(), &link, now, cutoff, ipcheck::MAX_LINK_SENDS)
        .await;
    match sent {
        Ok(()) => {}
        Err(store::StoreError::Conflict) if challenge.links_sent + 1 >= ipcheck::MAX_LINK_SENDS => {
            return Err(too_many());
        }
        Err(store::StoreError::Conflict) => {
            return Err(ApiError::bad_request("An email was just sent. You can send another in a minute."));
        }
        Err(e) => return Err(store_failure(e)),
    }
    let display = &challenge.display;
    if let Err(err) =
        mail_ip_link(&ctx, &display.name, &display.email, &link_token, &challenge.client_ip).await
    {
        // Nothing went out: the link is withdrawn and the user may try again at once.
        let earlier = challenge.link.as_deref();
        ctx.store
            .withdraw_ip_link(&hash, &link_token.hash(), earlier, cutoff)
            .await
            .map_err(store_failure)?;
        return Err(err);
    }
    let event = audit::event(
        &challenge.account_id,
        &challenge.user_id,
        &challenge.user_id,
        "ip_verification.sent",
        &ip,
        &format!("link sent again for {range} (login from {})", challenge.client_ip),
    );
    audit::write(&ctx, &event).await;
    Ok(())
}

pub async fn verify_ip(token: String) -> Result<String, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let invalid = || {
        ApiError::bad_request(
            "This link is not valid, was already used, or has expired. Log in again to get a new one.",
        )
    };
    let token = SessionToken::parse(token.trim()).ok_or_else(invalid)?;
    let verified = |link: &IpLink| {
        let detail =
            format!("{} verified (login from {}, link opened from {ip})", link.range, link.client_ip);
        audit::event(&link.account_id, &link.user_id, &link.user_id, "ip_verification.verified", &ip, &detail)
    };
    let link = ctx
        .store
        .use_ip_link(&token.hash(), now(), verified)
        .await
        .map_err(store_failure)?
        .ok_or_else(invalid)?;
    // The range is trusted: telling the user is best effort.
    match ctx.store.get_user(&link.account_id, &link.user_id).await {
        Ok(Some(user)) => {
            let mail = mail::Email::new_location_verified(&user.name, &link.range);
            if let Err(e) = ctx.mailer.send(user.email.as_str(), &mail).await {
                tracing::error!(error = %e, "could not send the new-location notice");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not read the user to send the new-location notice"),
    }
    Ok(link.range)
}

fn me_from_challenge(c: &Challenge) -> Me {
    Me {
        name: c.display.name.clone(),
        email: c.display.email.clone(),
        role: Role::from_code(&c.display.role_code).map(Role::label).unwrap_or_default().to_owned(),
        account_name: c.display.account_name.clone(),
        two_factor: TwoFactorStatus::Active,
        is_administrator: Role::from_code(&c.display.role_code).is_some_and(Role::can_manage_users),
        // Shown only to users without active 2FA, which this one has.
        remote_2fa: RemoteRequirement::Recommended,
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
    let email = Email::parse(&challenge.display.email).map_err(|_| login_expired())?;
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
        Proof::Passcode { .. } => ("login.success", "password and passcode"),
        Proof::RecoveryCode { .. } => ("login.recovery_code", "password and a recovery code"),
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
        let mail = mail::Email::recovery_code_used(&challenge.display.name, left);
        if let Err(e) = ctx.mailer.send(&challenge.display.email, &mail).await {
            tracing::error!(error = %e, "could not send the recovery-code notice");
        }
    }
    tracing::info!(user = %challenge.user_id, %ip, "login with a second factor succeeded");
    Ok(PasscodeAccepted { me: me_from_challenge(&challenge), recovery_codes_left })
}

/// Counts a wrong (or replayed) code on the challenge and on the lockout counters, audits it, and
/// says what the user should do.
async fn second_factor_failed(
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
        mail_lockout(ctx, &c.display.name, &c.display.email, until).await;
    }
    let detail = match err {
        TotpError::Replayed => "passcode already used",
        _ => "wrong passcode or recovery code",
    };
    let event = audit::event(&c.account_id, &c.user_id, &c.user_id, "login.passcode_failure", ip, detail);
    audit::write(ctx, &event).await;
    if let Some(until) = lock {
        let event = audit::event(
            &c.account_id,
            &c.user_id,
            &c.user_id,
            "login.lockout",
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
    let method = StepUp::for_user(status_of(&user, account.as_ref()) == Status::Active);
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
        audit: audit::event(&user.account_id, &user.id, &user.id, "session.step_up", &ip, ""),
    };
    let proven = match method {
        StepUp::Password => {
            let stored = user.password_hash.clone();
            let right = tokio::task::spawn_blocking(move || verify_password(&secret, Some(&stored)))
                .await
                .unwrap_or(false);
            right && step_up.record(&ctx, Reauth { at: now, two_factor: false }, None).await?
        }
        StepUp::Passcode => {
            let sealed = user.totp_secret.as_deref().ok_or_else(ApiError::internal)?;
            let totp =
                ctx.config.totp_keys()?.open(sealed, &user.id).map(TotpSecret::from_bytes).map_err(|e| {
                    tracing::error!(error = %e, "cannot decrypt a TOTP secret");
                    ApiError::internal()
                })?;
            match totp.verify(&secret, now) {
                Ok(step) => {
                    let spent = SpentPasscode { user: &user, sealed_secret: sealed, step };
                    step_up.record(&ctx, Reauth { at: now, two_factor: true }, Some(spent)).await?
                }
                Err(_) => false,
            }
        }
    };
    if proven {
        return Ok(());
    }
    let counted = counters.count(&ctx, now).await?;
    if counters.beyond_limit(&counted) {
        return Err(counters.refused(&counted, now));
    }
    let detail = match method {
        StepUp::Password => "wrong password",
        StepUp::Passcode => "wrong or already used passcode",
    };
    audit::record(&ctx, None, &user, "session.step_up_failure", &ip, detail).await;
    if let Some(until) = counters.lock_after(&counted, now) {
        if counters.tripped_unknown_sources(&counted) {
            mail_lockout(&ctx, &user.name, user.email.as_str(), until).await;
        }
        return Err(locked_out(until));
    }
    Err(ApiError::bad_request(match method {
        StepUp::Password => "That password is not correct.",
        StepUp::Passcode => "That code is not valid. Enter the current code from your authenticator app.",
    }))
}

/// What a proven step-up writes: the note on the session, its audit event, and the lockout's
/// check.
struct StepUpWrite<'a> {
    counters: &'a Counters,
    token_hash: &'a str,
    settle: Settle,
    audit: AuditEvent,
}

impl StepUpWrite<'_> {
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
            Ok(()) => Ok(true),
            Err(store::StoreError::Conflict) => Ok(false),
            Err(e) => Err(self.counters.outcome_failed(ctx, reauth.at, e).await),
        }
    }
}
