//! The activation flow: email validation, authenticator setup, recovery codes.

use domain::audit::AuditAction;
use domain::email_code::{self, CodeError, SentCode};
use domain::lockout::Source;
use domain::totp::TotpSecret;
use domain::{UnixTime, recovery};
use store::{Account, Activation, Binding, Enrollment, FinishLogin, Operation, Purpose, User};

use super::lockout::Counters;
use super::request::{self, ctx, require_user, store_failure};
use super::shared::{me_from, open_totp_secret};
use super::{Access, Ctx, audit, now};
use crate::ApiError;
use crate::enroll::{Activated, AuthenticatorSetup, EnrollmentView};

/// The `enrollment` function's reach: the activation in progress, the activation itself, new
/// recovery codes, and their emails (the code, the notices).
pub const ACCESS: Access = Access {
    store_operations: &[
        request::STORE_OPERATIONS,
        audit::STORE_OPERATIONS,
        &[
            Operation::GetChallenge,
            Operation::GetEnrollment,
            Operation::SaveEmailCode,
            Operation::WithdrawEmailCode,
            Operation::CountEmailCodeTry,
            Operation::MarkEmailVerified,
            Operation::SetPendingSecret,
            Operation::ActivateTwoFactor,
            // An activation that ends a login clears the login's counters.
            Operation::ClearCounter,
            Operation::ReplaceRecoveryCodes,
        ],
    ],
    sends_mail: true,
};

/// Shown by authenticator apps above the code.
pub const ISSUER: &str = mail::PRODUCT;

/// Who is activating: a signed-in user, or a login waiting for activation; with their account,
/// and the session or login their activation is bound to.
struct Enroller {
    user: User,
    account: Option<Account>,
    /// The hash of the session's or waiting login's token, and when it ends.
    token_hash: String,
    expires_at: UnixTime,
    /// A waiting login, which the activation ends (otherwise a signed-in user is activating).
    ends_login: bool,
    /// Where the login comes from, as the lockout sees it (for a waiting login).
    source: Source,
}

impl Enroller {
    fn user(&self) -> &User {
        &self.user
    }

    fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    fn binding(&self) -> Binding<'_> {
        Binding { token_hash: &self.token_hash, expires_at: self.expires_at }
    }
}

fn expired() -> ApiError {
    ApiError::unauthenticated("Your login has expired. Please log in again.")
}

async fn enroller(ctx: &Ctx) -> Result<Enroller, ApiError> {
    let enroller = match request::require_signed_in(ctx).await {
        Ok(signed_in) => Enroller {
            user: signed_in.user,
            account: signed_in.account,
            token_hash: signed_in.token_hash,
            expires_at: signed_in.session.expires_at,
            ends_login: false,
            source: Source::Known,
        },
        Err(ApiError::Unauthenticated { .. }) => {
            let (token_hash, challenge) =
                request::waiting_challenge(ctx, Purpose::Activation, now(), expired).await?;
            let (user, account) = request::user_of(ctx, &challenge, expired).await?;
            Enroller {
                user,
                account,
                token_hash,
                expires_at: challenge.expires_at,
                ends_login: true,
                source: challenge.source,
            }
        }
        Err(other) => return Err(other),
    };
    if enroller.user.two_factor.activated_at.is_some() {
        return Err(ApiError::bad_request("Two-factor authentication is already active for your login."));
    }
    Ok(enroller)
}

fn view(user: &User, enrollment: &Enrollment, now: UnixTime) -> EnrollmentView {
    EnrollmentView {
        email: user.email.to_string(),
        code_sent: enrollment.sent_code.is_some() || enrollment.email_verified_at.is_some(),
        email_verified: enrollment.email_verified_at.is_some(),
        resend_after: email_code::resend_blocked_until(enrollment.sent_code.as_ref(), now)
            .map(UnixTime::seconds),
    }
}

pub async fn status() -> Result<EnrollmentView, ApiError> {
    let ctx = ctx();
    let enroller = enroller(&ctx).await?;
    let enrollment =
        ctx.store.get_enrollment(enroller.user(), enroller.binding(), now()).await.map_err(store_failure)?;
    Ok(view(enroller.user(), &enrollment, now()))
}

fn wait_message(until: UnixTime, now: UnixTime) -> ApiError {
    ApiError::bad_request(format!(
        "A code was just sent. You can send another in {} seconds.",
        (until.seconds() - now.seconds()).max(1)
    ))
}

pub async fn send_code() -> Result<EnrollmentView, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let enroller = enroller(&ctx).await?;
    let user = enroller.user();
    let code = email_code::generate();
    let code_hash = email_code::hash(&user.id, &code);
    let cutoff = now.plus_seconds(-email_code::RESEND_COOLDOWN_SECONDS);
    match ctx
        .store
        .save_email_code(user, enroller.binding(), &code_hash, now, cutoff, email_code::MAX_SENDS)
        .await
    {
        Ok(store::CodeSave::Saved) => {}
        Ok(store::CodeSave::Throttled) => {
            let enrollment =
                ctx.store.get_enrollment(user, enroller.binding(), now).await.map_err(store_failure)?;
            if enrollment.codes_sent >= email_code::MAX_SENDS {
                return Err(ApiError::bad_request(
                    "Too many codes were sent. Try again tomorrow, or ask a colleague with access to User Accounts for help.",
                ));
            }
            let until = email_code::resend_blocked_until(enrollment.sent_code.as_ref(), now)
                .unwrap_or(now.plus_seconds(email_code::RESEND_COOLDOWN_SECONDS));
            return Err(wait_message(until, now));
        }
        Err(e) => return Err(store_failure(e)),
    }
    let email = mail::Email::verification_code(&user.name, &code, email_code::VALID_SECONDS / 60);
    if let Err(err) = ctx.mailer.send(user.email.as_str(), &email).await {
        ctx.store.withdraw_email_code(user, &code_hash).await.map_err(store_failure)?;
        return Err(request::mail_failure(err));
    }
    audit::record(&ctx, None, user, AuditAction::EmailCodeSent, &ip, "email validation code sent").await;
    // What was just written, without reading it back: the email has gone, so an outage now must
    // not turn into an error.
    let sent = SentCode { code_hash, sent_at: now, tries: 0 };
    let enrollment = Enrollment { sent_code: Some(sent), ..Enrollment::default() };
    Ok(view(user, &enrollment, now))
}

pub async fn verify_email(code: String) -> Result<EnrollmentView, ApiError> {
    let ctx = ctx();
    let now = now();
    let enroller = enroller(&ctx).await?;
    let user = enroller.user();
    let enrollment = ctx.store.get_enrollment(user, enroller.binding(), now).await.map_err(store_failure)?;
    if enrollment.email_verified_at.is_some() {
        // The code was spent (perhaps by a second click): one code, one use.
        return Err(ApiError::bad_request(
            "Your email address is already validated. Continue with the authenticator app.",
        ));
    }
    let sent = enrollment.sent_code.as_ref();
    // Shape, presence and expiry first: those cost no try.
    if let Err(
        err @ (CodeError::Malformed | CodeError::NoneSent | CodeError::Expired | CodeError::TooManyTries),
    ) = email_code::check(&user.id, &code, sent, now)
    {
        return Err(ApiError::bad_request(err.to_string()));
    }
    let sent = sent.ok_or_else(|| ApiError::bad_request(CodeError::NoneSent.to_string()))?;
    // Every try is counted before it is judged, with a condition, so parallel tries cannot
    // exceed the limit.
    match ctx.store.count_email_code_try(user, &sent.code_hash, email_code::MAX_TRIES).await {
        Ok(store::CodeTry::Counted) => {}
        Ok(store::CodeTry::NoTriesLeft) => {
            return Err(ApiError::bad_request(CodeError::TooManyTries.to_string()));
        }
        Err(e) => return Err(store_failure(e)),
    }
    if let Err(err) = email_code::check(&user.id, &code, Some(sent), now) {
        return Err(ApiError::bad_request(err.to_string()));
    }
    match ctx.store.mark_email_verified(user, &sent.code_hash, now).await {
        Ok(store::CodeUse::Verified) => {}
        // Another request spent this code first: one code, one use.
        Ok(store::CodeUse::AlreadyUsed) => return Err(ApiError::bad_request("That code was already used.")),
        Err(e) => return Err(store_failure(e)),
    }
    // What was just written, without reading it back (an outage now must not hide the success).
    Ok(view(user, &Enrollment { email_verified_at: Some(now), ..enrollment }, now))
}

fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| {
        tracing::error!(error = %e, "QR code");
        ApiError::internal()
    })?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

pub async fn begin_authenticator() -> Result<AuthenticatorSetup, ApiError> {
    let ctx = ctx();
    let enroller = enroller(&ctx).await?;
    let user = enroller.user();
    let secret = TotpSecret::generate();
    let sealed = ctx.config.totp_keys()?.seal(secret.expose_bytes(), &user.id);
    match ctx.store.set_pending_secret(user, enroller.binding(), &sealed, now()).await {
        Ok(store::PendingSecretSave::Saved) => {}
        Ok(store::PendingSecretSave::EmailNotValidated) => {
            return Err(ApiError::bad_request("Validate your email address first."));
        }
        Err(e) => return Err(store_failure(e)),
    }
    let uri = secret.otpauth_uri(ISSUER, user.email.as_str());
    Ok(AuthenticatorSetup { qr_svg: qr_svg(&uri)?, otpauth_uri: uri, manual_key: secret.grouped_base32() })
}

pub async fn confirm_authenticator(code: String) -> Result<Activated, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let enroller = enroller(&ctx).await?;
    let user = enroller.user();
    let enrollment = ctx.store.get_enrollment(user, enroller.binding(), now).await.map_err(store_failure)?;
    let sealed = enrollment
        .pending_secret
        .ok_or_else(|| ApiError::bad_request("Set up your authenticator app first."))?;
    let step = open_totp_secret(&ctx, &sealed, &user.id)?
        .verify(&code, now)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;

    let keys = ctx.config.totp_keys()?;
    let codes = recovery::generate();
    let event = |action, detail| audit::event(&user.account_id, &user.id, &user.id, action, &ip, detail);
    let activated = event(AuditAction::Activated, "authenticator app confirmed");
    let activation = Activation {
        pending_secret: &sealed,
        step,
        recovery_hashes: codes.iter().filter_map(|c| recovery::hash(keys, c)).collect(),
        audit: &activated,
    };
    // A waiting login ends in the same transaction, logged in with 2FA.
    let epochs = request::epochs_of(user, enroller.account());
    let (session_token, session) = request::new_session(&user.account_id, &user.id, epochs, true);
    let session_hash = session_token.hash();
    let signed_in = event(AuditAction::LoginSuccess, "password and 2FA activation");
    let login = enroller.ends_login.then(|| FinishLogin {
        challenge_hash: &enroller.token_hash,
        session_hash: &session_hash,
        session: &session,
        audit: &signed_in,
    });
    match ctx.store.activate_two_factor(user, activation, login).await {
        Ok(store::Activate::Activated) => {}
        Ok(store::Activate::SetupChanged) => {
            return Err(ApiError::bad_request(
                "The setup changed in another window. Scan the newest QR code and try again.",
            ));
        }
        Err(e) => return Err(store_failure(e)),
    }
    if enroller.ends_login {
        request::set_session_cookie(&session_token, &session);
        request::set_device_cookie(keys, &user.id);
        request::clear_login_cookie();
        Counters::new(&user.email, &ip, enroller.source).clear(&ctx).await;
    }
    let mail = mail::Email::two_factor_activated(&user.name);
    ctx.mailer.send_notice(user.email.as_str(), &mail, "2FA activated").await;
    let mut user = user.clone();
    user.two_factor.activated_at = Some(now);
    Ok(Activated { me: me_from(&user, enroller.account(), now), recovery_codes: codes })
}

/// A new set of recovery codes, for a current passcode from the authenticator app (a stolen
/// session alone cannot replace them); the user is emailed.
pub async fn regenerate_recovery_codes(code: String) -> Result<Vec<String>, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let user = require_user(&ctx).await?;
    let (Some(_), Some(sealed)) = (user.two_factor.activated_at, user.totp_secret.as_deref()) else {
        return Err(ApiError::bad_request("Recovery codes come with active two-factor authentication."));
    };
    let keys = ctx.config.totp_keys()?;
    let step = open_totp_secret(&ctx, sealed, &user.id)?
        .verify(&code, now)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let codes = recovery::generate();
    let hashes = codes.iter().filter_map(|c| recovery::hash(keys, c)).collect();
    match ctx.store.replace_recovery_codes(&user, hashes, sealed, step).await {
        Ok(store::RecoveryCodesReplace::Replaced) => {}
        Ok(store::RecoveryCodesReplace::PasscodeAlreadyUsed) => {
            return Err(ApiError::bad_request(
                "That code was already used. Wait for the next code in your app.",
            ));
        }
        Err(e) => return Err(store_failure(e)),
    }
    audit::record(
        &ctx,
        None,
        &user,
        AuditAction::RecoveryCodesRegenerated,
        &ip,
        "new set of 10, confirmed with a passcode",
    )
    .await;
    let mail = mail::Email::recovery_codes_replaced(&user.name);
    ctx.mailer.send_notice(user.email.as_str(), &mail, "recovery codes replaced").await;
    Ok(codes)
}
