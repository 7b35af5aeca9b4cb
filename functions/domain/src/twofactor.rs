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
pub enum TwoFactorStatus {
    /// Green tick: logs in with a passcode.
    Active,
    /// Grey tick: must set up an authenticator at next login.
    EnabledNotActivated,
    /// No tick.
    Off,
}

impl TwoFactorStatus {
    pub fn label(self) -> &'static str {
        match self {
            TwoFactorStatus::Active => "2FA active",
            TwoFactorStatus::EnabledNotActivated => "2FA enabled, not yet activated",
            TwoFactorStatus::Off => "2FA off",
        }
    }
}

impl TwoFactor {
    pub fn status(&self, account_wide: bool) -> TwoFactorStatus {
        if self.activated_at.is_some() {
            TwoFactorStatus::Active
        } else if self.enabled.is_some() || account_wide {
            TwoFactorStatus::EnabledNotActivated
        } else {
            TwoFactorStatus::Off
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
        assert_eq!(off.status(false), TwoFactorStatus::Off);
        assert_eq!(off.status(true), TwoFactorStatus::EnabledNotActivated);
        let grey = TwoFactor { enabled: enabled(), activated_at: None };
        assert_eq!(grey.status(false), TwoFactorStatus::EnabledNotActivated);
        assert_eq!(grey.status(true), TwoFactorStatus::EnabledNotActivated);
        let green = TwoFactor { enabled: enabled(), activated_at: Some(UnixTime(2)) };
        assert_eq!(green.status(false), TwoFactorStatus::Active);
        assert_eq!(green.status(true), TwoFactorStatus::Active);
    }
}
