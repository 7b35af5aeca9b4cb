//! What an administrator may do to a colleague's 2FA from User Accounts, and what follows.
//!
//! | action        | allowed when                               | lowers security | ends sessions |
//! |---------------|--------------------------------------------|-----------------|---------------|
//! | Enable 2FA    | account-wide 2FA off                       | no              | no            |
//! | Disable 2FA   | account-wide 2FA off, and 2FA not off      | yes             | yes           |
//! | Reset 2FA     | an authenticator is set up (active)        | yes             | yes           |
//! | Pause IP ver. | 2FA active, not paused                     | yes             | no            |
//! | Resume IP ver.| paused                                     | no              | no            |
//!
//! With account-wide 2FA on, every user must use 2FA, so per-user Enable/Disable has no meaning
//! and is refused; Reset (lost phone) stays available.

use serde::{Deserialize, Serialize};

use crate::audit::AuditAction;
use crate::twofactor::TwoFactorStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminAction {
    EnableTwoFactor,
    DisableTwoFactor,
    ResetTwoFactor,
    PauseIpVerification,
    ResumeIpVerification,
}

/// The target user as the rules need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub status: TwoFactorStatus,
    /// Their own (per-user) choice, independent of the account-wide switch.
    pub enabled_for_user: bool,
    pub ip_verification_paused: bool,
}

impl AdminAction {
    pub fn label(self) -> &'static str {
        match self {
            AdminAction::EnableTwoFactor => "Enable 2FA",
            AdminAction::DisableTwoFactor => "Disable 2FA",
            AdminAction::ResetTwoFactor => "Reset 2FA",
            AdminAction::PauseIpVerification => "Pause IP verification",
            AdminAction::ResumeIpVerification => "Resume IP verification",
        }
    }

    /// What happened, as a statement (the subject of the email to the user).
    pub fn done(self) -> &'static str {
        match self {
            AdminAction::EnableTwoFactor => "Two-factor authentication was enabled",
            AdminAction::DisableTwoFactor => "Two-factor authentication was disabled",
            AdminAction::ResetTwoFactor => "Two-factor authentication was reset",
            AdminAction::PauseIpVerification => "IP address verification was paused",
            AdminAction::ResumeIpVerification => "IP address verification was resumed",
        }
    }

    /// The audit event the action writes.
    pub fn audit_action(self) -> AuditAction {
        match self {
            AdminAction::EnableTwoFactor => AuditAction::EnabledByAdmin,
            AdminAction::DisableTwoFactor => AuditAction::DisabledByAdmin,
            AdminAction::ResetTwoFactor => AuditAction::ResetByAdmin,
            AdminAction::PauseIpVerification => AuditAction::IpVerificationPaused,
            AdminAction::ResumeIpVerification => AuditAction::IpVerificationResumed,
        }
    }

    /// Whether the menu shows the item at all: Pause only for active 2FA, Resume only while
    /// paused; the 2FA items always show (disabled with a reason when not possible).
    pub fn offered(self, target: Target) -> bool {
        match self {
            AdminAction::PauseIpVerification => {
                target.status == TwoFactorStatus::Active && !target.ip_verification_paused
            }
            AdminAction::ResumeIpVerification => target.ip_verification_paused,
            _ => true,
        }
    }

    /// Asks for confirmation first.
    pub fn lowers_security(self) -> bool {
        matches!(
            self,
            AdminAction::DisableTwoFactor | AdminAction::ResetTwoFactor | AdminAction::PauseIpVerification
        )
    }

    /// Whether an administrator may do this to their own login: nothing that lowers security (one
    /// stolen administrator session must not be able to strip its own 2FA).
    pub fn allowed_on_self(self) -> bool {
        !self.lowers_security()
    }

    /// `Ok` when allowed; otherwise why not, in words for the administrator.
    pub fn check(self, target: Target, account_wide: bool) -> Result<(), &'static str> {
        match self {
            AdminAction::EnableTwoFactor | AdminAction::DisableTwoFactor if account_wide => Err(
                "Two-factor authentication is on for the whole account (General Settings), so it cannot be changed per user.",
            ),
            AdminAction::EnableTwoFactor
                if target.enabled_for_user || target.status == TwoFactorStatus::Active =>
            {
                Err("Two-factor authentication is already enabled for this user.")
            }
            AdminAction::DisableTwoFactor if target.status == TwoFactorStatus::Off => {
                Err("Two-factor authentication is already off for this user.")
            }
            AdminAction::ResetTwoFactor if target.status != TwoFactorStatus::Active => {
                Err("This user has no authenticator app set up, so there is nothing to reset.")
            }
            AdminAction::PauseIpVerification if target.status != TwoFactorStatus::Active => {
                Err("IP verification can be paused only for users whose 2FA is active.")
            }
            AdminAction::PauseIpVerification if target.ip_verification_paused => {
                Err("IP verification is already paused for this user.")
            }
            AdminAction::ResumeIpVerification if !target.ip_verification_paused => {
                Err("IP verification is not paused for this user.")
            }
            _ => Ok(()),
        }
    }
}

/// General Settings as the rules need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountPolicy {
    pub account_wide_2fa: bool,
    /// From this time 2FA is required for Take Control and RBM.
    pub remote_2fa_required_from: Option<crate::UnixTime>,
    pub ip_verification: bool,
}

impl AccountPolicy {
    /// Whether going from `self` to `after` asks less of anyone (and so needs a step-up): a switch
    /// turned off, or 2FA for Take Control and RBM required later than before or not at all.
    pub fn lowered_by(&self, after: &AccountPolicy) -> bool {
        let later = match (self.remote_2fa_required_from, after.remote_2fa_required_from) {
            (Some(_), None) => true,
            (Some(was), Some(now)) => now > was,
            (None, _) => false,
        };
        (self.account_wide_2fa && !after.account_wide_2fa)
            || (self.ip_verification && !after.ip_verification)
            || later
    }
}

/// Counts for the Info section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub active: usize,
    pub enabled_not_activated: usize,
    pub off: usize,
}

impl Counts {
    pub fn of(statuses: impl IntoIterator<Item = TwoFactorStatus>) -> Self {
        statuses.into_iter().fold(Counts::default(), |mut c, s| {
            match s {
                TwoFactorStatus::Active => c.active += 1,
                TwoFactorStatus::EnabledNotActivated => c.enabled_not_activated += 1,
                TwoFactorStatus::Off => c.off += 1,
            }
            c
        })
    }

    /// As User Accounts shows them: with account-wide 2FA on, users who have not enabled it are
    /// enabled too (grey ticks).
    pub fn listed(self, account_wide: bool) -> Self {
        if !account_wide {
            return self;
        }
        Counts { enabled_not_activated: self.enabled_not_activated + self.off, off: 0, ..self }
    }

    pub fn total(self) -> usize {
        self.active + self.enabled_not_activated + self.off
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdminAction::*;

    #[test]
    fn account_wide_2fa_lists_users_without_it_as_enabled() {
        let stored = Counts { active: 2, enabled_not_activated: 3, off: 4 };
        assert_eq!(stored.listed(false), stored);
        assert_eq!(stored.listed(true), Counts { active: 2, enabled_not_activated: 7, off: 0 });
        assert_eq!(stored.listed(true).total(), 9);
    }

    fn target(status: TwoFactorStatus, enabled_for_user: bool, paused: bool) -> Target {
        Target { status, enabled_for_user, ip_verification_paused: paused }
    }

    #[test]
    fn account_wide_2fa_disables_per_user_enable_and_disable_but_not_reset() {
        let active = target(TwoFactorStatus::Active, true, false);
        let off = target(TwoFactorStatus::EnabledNotActivated, false, false);
        assert!(EnableTwoFactor.check(off, true).is_err());
        assert!(DisableTwoFactor.check(active, true).is_err());
        assert_eq!(ResetTwoFactor.check(active, true), Ok(()));
        assert_eq!(PauseIpVerification.check(active, true), Ok(()));
    }

    #[test]
    fn per_user_rules_without_the_switch() {
        let off = target(TwoFactorStatus::Off, false, false);
        let grey = target(TwoFactorStatus::EnabledNotActivated, true, false);
        let green = target(TwoFactorStatus::Active, true, false);
        let paused = target(TwoFactorStatus::Active, true, true);
        assert_eq!(EnableTwoFactor.check(off, false), Ok(()));
        assert!(EnableTwoFactor.check(grey, false).is_err());
        assert!(EnableTwoFactor.check(green, false).is_err());
        assert!(DisableTwoFactor.check(off, false).is_err());
        assert_eq!(DisableTwoFactor.check(grey, false), Ok(()));
        assert_eq!(DisableTwoFactor.check(green, false), Ok(()));
        assert!(ResetTwoFactor.check(grey, false).is_err());
        assert_eq!(ResetTwoFactor.check(green, false), Ok(()));
        assert!(PauseIpVerification.check(grey, false).is_err());
        assert_eq!(PauseIpVerification.check(green, false), Ok(()));
        assert!(PauseIpVerification.check(paused, false).is_err());
        assert_eq!(ResumeIpVerification.check(paused, false), Ok(()));
        assert!(ResumeIpVerification.check(green, false).is_err());
    }

    #[test]
    fn ip_items_are_offered_only_where_they_apply() {
        assert!(!PauseIpVerification.offered(target(TwoFactorStatus::EnabledNotActivated, true, false)));
        assert!(PauseIpVerification.offered(target(TwoFactorStatus::Active, true, false)));
        assert!(ResumeIpVerification.offered(target(TwoFactorStatus::Off, false, true)));
        assert!(!ResumeIpVerification.offered(target(TwoFactorStatus::Active, true, false)));
        assert!(DisableTwoFactor.offered(target(TwoFactorStatus::Off, false, false)));
    }

    #[test]
    fn lowering_actions_confirm_and_the_2fa_ones_end_sessions() {
        assert!(DisableTwoFactor.lowers_security());
        assert!(ResetTwoFactor.lowers_security());
        assert!(PauseIpVerification.lowers_security());
        assert!(!EnableTwoFactor.lowers_security() && !ResumeIpVerification.lowers_security());
    }

    #[test]
    fn only_what_raises_security_may_be_done_to_oneself() {
        assert!(EnableTwoFactor.allowed_on_self() && ResumeIpVerification.allowed_on_self());
        assert!(!DisableTwoFactor.allowed_on_self());
        assert!(!ResetTwoFactor.allowed_on_self() && !PauseIpVerification.allowed_on_self());
    }

    #[test]
    fn settings_that_ask_less_of_anyone_lower_security() {
        use crate::UnixTime;
        let on = AccountPolicy {
            account_wide_2fa: true,
            remote_2fa_required_from: Some(UnixTime(100)),
            ip_verification: true,
        };
        assert!(!on.lowered_by(&on));
        assert!(on.lowered_by(&AccountPolicy { account_wide_2fa: false, ..on }));
        assert!(on.lowered_by(&AccountPolicy { ip_verification: false, ..on }));
        assert!(on.lowered_by(&AccountPolicy { remote_2fa_required_from: None, ..on }));
        assert!(on.lowered_by(&AccountPolicy { remote_2fa_required_from: Some(UnixTime(101)), ..on }));
        assert!(!on.lowered_by(&AccountPolicy { remote_2fa_required_from: Some(UnixTime(99)), ..on }));
        let off =
            AccountPolicy { account_wide_2fa: false, remote_2fa_required_from: None, ip_verification: false };
        assert!(!off.lowered_by(&on));
    }

    #[test]
    fn the_switch_restores_per_user_choices_when_turned_off() {
        use crate::twofactor::{Enabled, TwoFactor};
        let own_choice = TwoFactor { enabled: None, activated_at: None };
        let chosen = TwoFactor {
            enabled: Some(Enabled { by_user_id: "a".into(), at: crate::UnixTime(1) }),
            activated_at: None,
        };
        // Switch on: both grey. Switch off: each back to their own choice.
        assert_eq!(
            Counts::of([own_choice.status(true), chosen.status(true)]),
            Counts { active: 0, enabled_not_activated: 2, off: 0 }
        );
        assert_eq!(
            Counts::of([own_choice.status(false), chosen.status(false)]),
            Counts { active: 0, enabled_not_activated: 1, off: 1 }
        );
    }
}
