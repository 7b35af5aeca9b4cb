//! Logging in and being signed in, one module per flow: the password step (`login`), the
//! wait for an emailed IP verification link (`ipverify`), the passcode step (`passcode`), and
//! the signed-in session (`session`: who is signed in, logout, step-up).

mod ipverify;
mod login;
mod passcode;
mod session;

pub use ipverify::{login_status, resend_ip_link, verify_ip};
pub use login::login;
pub use passcode::submit_passcode;
pub use session::{logout, me, step_up};

use domain::UnixTime;
use domain::lockout::Source;
use domain::time::format_utc;
use store::{Operation, User};

use crate::ApiError;
use crate::server::lockout::Counters;
use crate::server::request;
use crate::server::{Access, Ctx, audit, lockout};

/// The `auth` function's reach: the whole login, its counters, the session, and the emails of
/// the login (IP verification links, locks, a used recovery code).
pub const ACCESS: Access = Access {
    store_operations: &[
        request::STORE_OPERATIONS,
        audit::STORE_OPERATIONS,
        lockout::STORE_OPERATIONS,
        &[
            // The password step (`login`).
            Operation::FindLogin,
            Operation::CreateChallenge,
            Operation::SignIn,
            // The wait for an IP verification link (`ipverify`).
            Operation::CreateIpChallenge,
            Operation::DeleteIpChallenge,
            Operation::SendAnotherIpLink,
            Operation::WithdrawIpLink,
            Operation::UseIpLink,
            // The passcode step (`passcode`).
            Operation::GetChallenge,
            Operation::GetUser,
            Operation::CountChallengeFailure,
            Operation::DeleteChallenge,
            Operation::FinishSecondFactor,
            // Step-up (`session`).
            Operation::RecordReauth,
        ],
    ],
    sends_mail: true,
};

/// A login attempt being answered: from where, when, and the lockout counters it counts on
/// (every write that moves the login on settles them).
pub(super) struct Attempt<'a> {
    pub ctx: &'a Ctx,
    pub ip: &'a str,
    pub now: UnixTime,
    pub counters: &'a Counters,
}

pub(super) fn login_expired() -> ApiError {
    ApiError::unauthenticated("Your login has expired or was already completed. Please log in again.")
}

/// Where the lockout counts an attempt at `user` from `ip` (`domain::lockout`): an email without
/// an account always counts as an unknown source.
pub(super) fn source_of(ctx: &Ctx, user: Option<&User>, ip: &str) -> Result<Source, ApiError> {
    let Some(user) = user else { return Ok(Source::Unknown) };
    let known_device = request::known_device(ctx.config.totp_keys()?, &user.id);
    Ok(Source::of(&user.verified_ranges, ip, known_device))
}

/// Tells the user that failures from unknown places locked their email (best effort).
pub(super) async fn mail_lockout(ctx: &Ctx, name: &str, email: &str, until: UnixTime) {
    let mail = mail::Email::logins_from_new_places_locked(name, &format_utc(until));
    ctx.mailer.send_notice(email, &mail, "lockout").await;
}
