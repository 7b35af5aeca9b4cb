//! IP address verification: a login from a new range waits until the emailed link is opened.

use domain::audit::AuditAction;
use domain::ipcheck::{self};
use domain::lockout::Source;
use domain::login;
use domain::secret::BearerToken;
use domain::{Email, UnixTime};
use store::{Account, Challenge, IpLink, Purpose, User};

use crate::ApiError;
use crate::auth::LoginOutcome;
use crate::server::lockout::Counters;
use crate::server::request::{self, ctx, store_failure};
use crate::server::shared::status_of;
use crate::server::{Ctx, audit, now};

use super::login::{new_challenge, next_step};
use super::{Attempt, login_expired};

/// A link that verifies `range` for the user's login from `login_ip`, waiting as `challenge_hash`.
pub(super) fn new_ip_link(c: &Challenge, challenge_hash: &str, now: UnixTime) -> (BearerToken, IpLink) {
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
    (BearerToken::generate(), link)
}

/// Holds the login and emails a single-use link that verifies the range it comes from. The
/// waiting login and its link are written together, and withdrawn together if the email cannot
/// be sent.
pub(super) async fn start_ip_verification(
    attempt: &Attempt<'_>,
    user: &User,
    account: Option<&Account>,
) -> Result<LoginOutcome, ApiError> {
    let Attempt { ctx, ip, now, counters } = *attempt;
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
    audit::record(ctx, None, user, AuditAction::IpLinkSent, ip, &format!("link sent for {range}")).await;
    Ok(LoginOutcome::IpVerificationRequired { email: user.email.to_string() })
}

/// Emails the link for `token` to a login from `login_ip`.
pub(super) async fn mail_ip_link(
    ctx: &Ctx,
    name: &str,
    email: &str,
    token: &BearerToken,
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
            return Ok(LoginOutcome::ActivationRequired { email: challenge.greeting.email });
        }
        // Still waiting: one read per poll.
        Purpose::IpVerification if !challenge.verified => {
            return Ok(LoginOutcome::IpVerificationRequired { email: challenge.greeting.email });
        }
        Purpose::IpVerification => {}
    }
    let (user, account) = request::user_of(&ctx, &challenge, login_expired).await?;
    let verified = challenge.range.as_ref().is_some_and(|r| user.verified_ranges.contains(r));
    if !verified {
        return Ok(LoginOutcome::IpVerificationRequired { email: user.email.to_string() });
    }
    // The range is verified now: a known source.
    let email = Email::parse(&challenge.greeting.email).map_err(|_| login_expired())?;
    let counters = Counters::new(&email, &ip, Source::Known);
    let step = login::second_step(status_of(&user, account.as_ref()));
    let attempt = Attempt { ctx: &ctx, ip: &ip, now, counters: &counters };
    let next = next_step(&attempt, step, &user, account.as_ref()).await?;
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
    let (hash, challenge) =
        request::waiting_challenge(&ctx, Purpose::IpVerification, now, login_expired).await?;
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
        Ok(store::LinkResend::Sent) => {}
        Ok(store::LinkResend::Throttled) if challenge.links_sent + 1 >= ipcheck::MAX_LINK_SENDS => {
            return Err(too_many());
        }
        Ok(store::LinkResend::Throttled) => {
            return Err(ApiError::bad_request("An email was just sent. You can send another in a minute."));
        }
        Err(e) => return Err(store_failure(e)),
    }
    let greeting = &challenge.greeting;
    if let Err(err) =
        mail_ip_link(&ctx, &greeting.name, &greeting.email, &link_token, &challenge.client_ip).await
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
        AuditAction::IpLinkSent,
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
    let token = BearerToken::parse(token.trim()).ok_or_else(invalid)?;
    let verified = |link: &IpLink| {
        let detail =
            format!("{} verified (login from {}, link opened from {ip})", link.range, link.client_ip);
        audit::event(&link.account_id, &link.user_id, &link.user_id, AuditAction::IpVerified, &ip, &detail)
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
            ctx.mailer.send_notice(user.email.as_str(), &mail, "new location").await;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "could not read the user to send the new-location notice"),
    }
    Ok(link.range)
}
