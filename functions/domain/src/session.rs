//! When a signed-in session still counts, and when it may lower security.
//!
//! Revocation: each user and each account carries a session epoch. A session remembers both
//! epochs from its login; it ends the moment either moved on.
//!
//! ```text
//!   Disable / Reset 2FA of the user ──▶ user epoch + 1 ──▶ every session of the user ends
//!   account-wide 2FA switched on ─────▶ account epoch + 1 ─▶ every session that did not log in
//!                                                            with 2FA ends (those that did
//!                                                            already meet the new rule)
//! ```
//!
//! The epochs are written in the same conditional write as the change, and compared against the
//! user and account items each call already reads, so nothing is ever "almost revoked".
//!
//! Step-up ("sudo mode"): an action that lowers security needs a proof of identity from the last
//! [`STEP_UP_SECONDS`] in this session — the passcode if the user has active 2FA, the password if
//! not. Logging in is such a proof; so is the step-up dialog. Ten minutes cover a short burst of
//! administration without letting an unattended, unlocked screen do it an hour later.

use crate::UnixTime;

/// How long a proof of identity lets a session lower security.
pub const STEP_UP_SECONDS: i64 = 10 * 60;

/// What a session remembers of its login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epochs {
    pub user: i64,
    pub account: i64,
}

/// Why a session no longer counts, for the message that sends the user back to the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Its time was up.
    Expired,
    /// An administrator disabled or reset the user's 2FA (the user's epoch moved on).
    TwoFactorChanged,
    /// Account-wide 2FA was switched on and this login did not use 2FA.
    TwoFactorRequired,
}

/// Whether a session made at `at_login` (logged in with 2FA or not) still counts now that the
/// user's and account's epochs are `now`.
pub fn still_valid(at_login: Epochs, two_factor_login: bool, now: Epochs) -> bool {
    why_ended(at_login, two_factor_login, now).is_none()
}

/// Why such a session ended, if it did.
pub fn why_ended(at_login: Epochs, two_factor_login: bool, now: Epochs) -> Option<Ended> {
    if at_login.user != now.user {
        Some(Ended::TwoFactorChanged)
    } else if !two_factor_login && at_login.account != now.account {
        Some(Ended::TwoFactorRequired)
    } else {
        None
    }
}

/// The last proof of identity in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reauth {
    pub at: UnixTime,
    /// The proof included the second factor (a passcode, a recovery code, or activation).
    pub two_factor: bool,
}

/// What the step-up dialog must ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepUp {
    Passcode,
    Password,
}

impl StepUp {
    /// A user with active 2FA proves themselves with it; one without, with their password.
    pub fn for_user(two_factor_active: bool) -> StepUp {
        if two_factor_active { StepUp::Passcode } else { StepUp::Password }
    }
}

/// `None` when `last` lets the session lower security at `now`; otherwise what to ask for.
pub fn step_up_needed(last: Reauth, two_factor_active: bool, now: UnixTime) -> Option<StepUp> {
    let recent = now.seconds() - last.at.seconds() <= STEP_UP_SECONDS && now >= last.at;
    let strong_enough = last.two_factor || !two_factor_active;
    (!(recent && strong_enough)).then_some(StepUp::for_user(two_factor_active))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime(1_800_000_000);

    #[test]
    fn a_user_epoch_change_ends_every_session_of_the_user() {
        let login = Epochs { user: 3, account: 1 };
        assert!(still_valid(login, true, login));
        assert!(!still_valid(login, true, Epochs { user: 4, account: 1 }));
        assert!(!still_valid(login, false, Epochs { user: 4, account: 1 }));
    }

    #[test]
    fn an_account_epoch_change_ends_only_sessions_without_2fa() {
        let login = Epochs { user: 0, account: 0 };
        let switched_on = Epochs { user: 0, account: 1 };
        assert!(!still_valid(login, false, switched_on));
        assert!(still_valid(login, true, switched_on));
    }

    #[test]
    fn a_proof_lasts_ten_minutes() {
        let proof = Reauth { at: T0, two_factor: true };
        assert_eq!(step_up_needed(proof, true, T0.plus_seconds(600)), None);
        assert_eq!(step_up_needed(proof, true, T0.plus_seconds(601)), Some(StepUp::Passcode));
        // A clock that went backwards proves nothing.
        assert_eq!(step_up_needed(proof, true, T0.plus_seconds(-1)), Some(StepUp::Passcode));
    }

    #[test]
    fn a_password_is_not_enough_for_a_user_with_active_2fa() {
        let password_only = Reauth { at: T0, two_factor: false };
        assert_eq!(step_up_needed(password_only, true, T0), Some(StepUp::Passcode));
        assert_eq!(step_up_needed(password_only, false, T0), None);
        assert_eq!(step_up_needed(password_only, false, T0.plus_seconds(601)), Some(StepUp::Password));
    }
}
