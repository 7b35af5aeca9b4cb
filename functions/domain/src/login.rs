//! The login sequence, decided in one place. After the right password:
//!
//! ```text
//!   range not verified, IP verification on, no pause in effect ─▶ wait for the emailed link
//!   otherwise, by the user's 2FA status:
//!     active ──────────────────▶ passcode (or recovery code), at most MAX_PASSCODE_FAILURES wrong
//!     enabled, not activated ──▶ activation (email code, then authenticator)
//!     off ─────────────────────▶ signed in
//! ```
//!
//! Opening the emailed link leads to the same 2FA step, from a range now verified.

use crate::ipcheck::IpDecision;
use crate::twofactor::TwoFactorStatus;

/// Wrong passcodes one login may send before it must start again with the password: a guesser
/// gets 5 tries in a million per password entry, the lockout counts each entry too.
pub const MAX_PASSCODE_FAILURES: u32 = 5;

/// Where a login goes after its password was right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Wait until the link emailed for this new range is opened.
    VerifyIp,
    Passcode,
    Activation,
    SignedIn,
}

/// The step after the right password, from the IP check's decision and the user's 2FA status.
pub fn after_password(ip: IpDecision, status: TwoFactorStatus) -> NextStep {
    if ip == IpDecision::VerifyByEmail {
        return NextStep::VerifyIp;
    }
    second_step(status)
}

/// The step after the password and any IP verification: the 2FA step, or none.
pub fn second_step(status: TwoFactorStatus) -> NextStep {
    match status {
        TwoFactorStatus::Active => NextStep::Passcode,
        TwoFactorStatus::EnabledNotActivated => NextStep::Activation,
        TwoFactorStatus::Off => NextStep::SignedIn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_range_waits_for_its_link_whatever_the_2fa_status() {
        for status in [TwoFactorStatus::Active, TwoFactorStatus::EnabledNotActivated, TwoFactorStatus::Off] {
            assert_eq!(after_password(IpDecision::VerifyByEmail, status), NextStep::VerifyIp);
        }
    }

    #[test]
    fn otherwise_the_2fa_status_decides() {
        for ip in [IpDecision::Trusted, IpDecision::SkippedPaused] {
            assert_eq!(after_password(ip, TwoFactorStatus::Active), NextStep::Passcode);
            assert_eq!(after_password(ip, TwoFactorStatus::EnabledNotActivated), NextStep::Activation);
            assert_eq!(after_password(ip, TwoFactorStatus::Off), NextStep::SignedIn);
        }
    }
}
