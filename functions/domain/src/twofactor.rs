//! A user's two-factor state and the tick the dashboard shows for it, derived in one place.
//!
//! A user's own record has two independent facts: whether 2FA was *enabled* for them (by an
//! administrator, or by themselves via "Activate Now"), and whether it is *activated* (an
//! authenticator confirmed with a valid code). The account-wide switch enables it for everyone
//! without touching the per-user choice, so turning the switch off restores each user's own choice.

use serde::{Deserialize, Serialize};

use crate::UnixTime;

/// Who enabled 2FA for a user, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enabled {
    pub by_user_id: String,
    pub at: UnixTime,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwoFactor {
    pub enabled: Option<Enabled>,
    pub activated_at: Option<UnixTime>,
}

/// The 2FA column: green tick, grey tick, no tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Green tick: logs in with a passcode.
    Active,
    /// Grey tick: must set up an authenticator at next login.
    EnabledNotActivated,
    /// No tick.
    Off,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "2FA active",
            Status::EnabledNotActivated => "2FA enabled, not yet activated",
            Status::Off => "2FA off",
        }
    }
}

impl TwoFactor {
    pub fn status(&self, account_wide: bool) -> Status {
        if self.activated_at.is_some() {
            Status::Active
        } else if self.enabled.is_some() || account_wide {
            Status::EnabledNotActivated
        } else {
            Status::Off
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> Option<Enabled> {
        Some(Enabled { by_user_id: "admin".into(), at: UnixTime(1) })
    }

    #[test]
    fn ticks_follow_enabled_activated_and_the_account_switch() {
        let off = TwoFactor::default();
        assert_eq!(off.status(false), Status::Off);
        assert_eq!(off.status(true), Status::EnabledNotActivated);
        let grey = TwoFactor { enabled: enabled(), activated_at: None };
        assert_eq!(grey.status(false), Status::EnabledNotActivated);
        assert_eq!(grey.status(true), Status::EnabledNotActivated);
        let green = TwoFactor { enabled: enabled(), activated_at: Some(UnixTime(2)) };
        assert_eq!(green.status(false), Status::Active);
        assert_eq!(green.status(true), Status::Active);
    }
}
