//! The gate in front of Take Control and Remote Background Management sessions.
//!
//! ```text
//!   2FA active ───────────────────────────────────────────────▶ start
//!   otherwise, account-wide 2FA on, or enforcement date reached ─▶ activation required (no deferral)
//!   otherwise, the user chose "Activate Later" ─────────────────▶ start, deferral recorded
//!   otherwise ──────────────────────────────────────────────────▶ prompt: Activate Now / Activate Later
//! ```
//!
//! With account-wide 2FA on, every login must use 2FA, so a session without it is a leftover from
//! before the switch: it gets no deferral.

use serde::{Deserialize, Serialize};

use crate::UnixTime;
use crate::twofactor::TwoFactorStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteKind {
    TakeControl,
    RemoteBackgroundManagement,
}

impl RemoteKind {
    pub fn label(self) -> &'static str {
        match self {
            RemoteKind::TakeControl => "Take Control",
            RemoteKind::RemoteBackgroundManagement => "Remote Background Management",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RemoteKind::TakeControl => "take_control",
            RemoteKind::RemoteBackgroundManagement => "rbm",
        }
    }
}

/// The account's rules for remote sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemotePolicy {
    /// General Settings: 2FA required for every login.
    pub account_wide_2fa: bool,
    /// General Settings: from this time, 2FA is required for Take Control and RBM.
    pub required_from: Option<UnixTime>,
}

/// The earliest and latest enforcement dates General Settings accepts (2000-01-01 and
/// 2200-01-01): anything outside is a typo, not a plan.
const ENFORCEMENT_DATES: std::ops::Range<i64> = 946_684_800..7_258_118_400;

/// An enforcement date as General Settings sets it: a day, from 00:00 UTC (the dashboard says
/// "from <day> (00:00 UTC)" and "until the end of <day before>"), between 2000 and 2200. `None`
/// for anything else, which did not come from the date field.
pub fn enforcement_date(seconds: i64) -> Option<UnixTime> {
    (ENFORCEMENT_DATES.contains(&seconds) && seconds % 86_400 == 0).then_some(UnixTime(seconds))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Start,
    /// Start, and record that the user chose "Activate Later".
    StartDeferred,
    /// Show the prompt. `deferral_until`: the enforcement date, if one is set.
    Prompt {
        deferral_until: Option<UnixTime>,
    },
    /// 2FA must be activated first; "Activate Later" is not offered (and refused if claimed).
    ActivationRequired,
}

/// What the dashboard tells a user about 2FA for Take Control and RBM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    /// The user's 2FA is active: nothing to tell.
    Met,
    /// No enforcement date: 2FA is recommended.
    Recommended,
    /// Required from this time (00:00 UTC of the day General Settings chose).
    RequiredFrom(UnixTime),
    /// Required now: the date has passed, or account-wide 2FA is on.
    Required,
}

impl RemotePolicy {
    /// What a user whose 2FA is `status` is told at `now`.
    pub fn requirement(&self, status: TwoFactorStatus, now: UnixTime) -> Requirement {
        match self.required_from {
            _ if status == TwoFactorStatus::Active => Requirement::Met,
            _ if self.enforced(now) => Requirement::Required,
            Some(from) => Requirement::RequiredFrom(from),
            None => Requirement::Recommended,
        }
    }

    fn enforced(&self, now: UnixTime) -> bool {
        self.account_wide_2fa || self.required_from.is_some_and(|from| now >= from)
    }

    /// `defer`: the request says the user chose "Activate Later".
    pub fn decide(&self, status: TwoFactorStatus, now: UnixTime, defer: bool) -> Decision {
        if status == TwoFactorStatus::Active {
            Decision::Start
        } else if self.enforced(now) {
            Decision::ActivationRequired
        } else if defer {
            Decision::StartDeferred
        } else {
            Decision::Prompt { deferral_until: self.required_from }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twofactor::TwoFactorStatus::{Active, EnabledNotActivated, Off};

    const NOW: UnixTime = UnixTime(1_800_000_000);
    const TOMORROW: UnixTime = UnixTime(1_800_000_000 + 86_400);
    const PAST: UnixTime = UnixTime(1_800_000_000 - 1);

    fn policy(account_wide_2fa: bool, required_from: Option<UnixTime>) -> RemotePolicy {
        RemotePolicy { account_wide_2fa, required_from }
    }

    #[test]
    fn an_enforcement_date_is_a_day_from_midnight_between_2000_and_2200() {
        assert_eq!(enforcement_date(1_798_675_200), Some(UnixTime(1_798_675_200))); // 2027-01-01
        assert_eq!(enforcement_date(946_684_800), Some(UnixTime(946_684_800))); // 2000-01-01
        assert_eq!(enforcement_date(1_798_675_200 + 3_600), None); // a time of day
        assert_eq!(enforcement_date(946_684_800 - 86_400), None); // 1999
        assert_eq!(enforcement_date(7_258_118_400), None); // 2200
        assert_eq!(enforcement_date(-86_400), None);
    }

    #[test]
    fn requirement_follows_the_date_and_the_account_wide_switch() {
        assert_eq!(policy(false, None).requirement(Off, NOW), Requirement::Recommended);
        assert_eq!(policy(false, Some(TOMORROW)).requirement(Off, NOW), Requirement::RequiredFrom(TOMORROW));
        assert_eq!(policy(false, Some(NOW)).requirement(Off, NOW), Requirement::Required);
        assert_eq!(policy(false, Some(PAST)).requirement(Off, NOW), Requirement::Required);
        assert_eq!(policy(true, None).requirement(Off, NOW), Requirement::Required);
        assert_eq!(policy(true, Some(TOMORROW)).requirement(Off, NOW), Requirement::Required);
        assert_eq!(policy(true, Some(TOMORROW)).requirement(Active, NOW), Requirement::Met);
        assert_eq!(policy(false, None).requirement(EnabledNotActivated, NOW), Requirement::Recommended);
    }

    fn assert_decides(status: TwoFactorStatus, cases: &[(bool, Option<UnixTime>, bool, Decision)]) {
        for &(wide, from, defer, expected) in cases {
            assert_eq!(
                policy(wide, from).decide(status, NOW, defer),
                expected,
                "{status:?}, account-wide {wide}, from {from:?}, defer {defer}"
            );
        }
    }

    #[test]
    fn active_2fa_always_starts() {
        let cases = [
            // (account-wide, enforcement date, defer claimed) -> decision
            (false, None, false, Decision::Start),
            (false, None, true, Decision::Start),
            (true, Some(PAST), false, Decision::Start),
            (false, Some(NOW), true, Decision::Start),
        ];
        assert_decides(TwoFactorStatus::Active, &cases);
    }

    #[test]
    fn without_active_2fa_the_date_and_the_switch_decide() {
        use Decision::*;
        let cases = [
            // (account-wide, enforcement date, defer claimed) -> decision
            (false, None, false, Prompt { deferral_until: None }),
            (false, None, true, StartDeferred),
            (false, Some(TOMORROW), false, Prompt { deferral_until: Some(TOMORROW) }),
            (false, Some(TOMORROW), true, StartDeferred),
            (false, Some(NOW), false, ActivationRequired),
            (false, Some(PAST), false, ActivationRequired),
            (false, Some(PAST), true, ActivationRequired),
            (true, None, false, ActivationRequired),
            (true, None, true, ActivationRequired),
            (true, Some(TOMORROW), true, ActivationRequired),
        ];
        // Enabled but not activated (grey tick) is no different from off.
        for status in [TwoFactorStatus::Off, TwoFactorStatus::EnabledNotActivated] {
            assert_decides(status, &cases);
        }
    }

    #[test]
    fn kinds_have_the_products_names() {
        assert_eq!(RemoteKind::TakeControl.label(), "Take Control");
        assert_eq!(RemoteKind::RemoteBackgroundManagement.label(), "Remote Background Management");
    }
}
