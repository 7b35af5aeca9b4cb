//! IP address verification at login.
//!
//! ```text
//!   account setting off ─────────────────────────────▶ trusted
//!   address in a range the user verified ────────────▶ trusted
//!   paused by an administrator, and 2FA active ───────▶ skipped (audited)
//!   otherwise ───────────────────────────────────────▶ email a link; the login waits for it
//! ```
//!
//! A range is the address's /24 (IPv4) or /64 (IPv6): what one office or home connection
//! usually keeps, so users are not asked again every time their provider renumbers them. A link is
//! valid for two hours and works once. A pause applies only while the user's 2FA is active, so
//! disabling or resetting their 2FA ends it at once.

use std::net::IpAddr;

use crate::UnixTime;
use crate::twofactor::TwoFactorStatus;

/// How long an emailed verification link works.
pub const LINK_VALID_SECONDS: i64 = 2 * 60 * 60;
/// Time between two emails for one waiting login.
pub const RESEND_COOLDOWN_SECONDS: i64 = 60;

/// Links emailed for one waiting login, the first included: enough for a slow inbox, too few to
/// flood one. Beyond it the user logs in again.
pub const MAX_LINK_SENDS: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpDecision {
    Trusted,
    /// Not verified, but the user's IP verification is paused and they log in with 2FA.
    SkippedPaused,
    VerifyByEmail,
}

/// The range an address belongs to, or `None` if it is not an address.
pub fn range_of(ip: &str) -> Option<String> {
    // An IPv4 address written as IPv6 (`::ffff:198.51.100.7`) is that IPv4 address.
    match ip.trim().parse::<IpAddr>().ok()?.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            Some(format!("{prefix}/64"))
        }
    }
}

/// When a link sent at `sent` stops working.
pub fn link_expires_at(sent: UnixTime) -> UnixTime {
    sent.plus_seconds(LINK_VALID_SECONDS)
}

/// A link works strictly before its expiry (the store's TTL clean-up may come days later).
pub fn link_valid(expires_at: UnixTime, now: UnixTime) -> bool {
    now < expires_at
}

pub fn decide(
    account_setting_on: bool,
    status: TwoFactorStatus,
    paused: bool,
    verified_ranges: &[String],
    ip: &str,
) -> IpDecision {
    if !account_setting_on {
        return IpDecision::Trusted;
    }
    match range_of(ip) {
        Some(range) if verified_ranges.contains(&range) => IpDecision::Trusted,
        _ if paused && status == TwoFactorStatus::Active => IpDecision::SkippedPaused,
        _ => IpDecision::VerifyByEmail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_ranged_as_ipv4() {
        assert_eq!(range_of("::ffff:198.51.100.7").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(range_of("::ffff:c633:6407").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(range_of("2001:db8:1:2::5").as_deref(), Some("2001:db8:1:2::/64"));
    }

    #[test]
    fn ranges_are_slash_24_and_slash_64() {
        assert_eq!(range_of("203.0.113.77").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(range_of("2001:db8:1:2:aaaa::1").as_deref(), Some("2001:db8:1:2::/64"));
        // An IPv4 address written as IPv6 is that IPv4 address, not the zero /64.
        assert_eq!(range_of("::ffff:203.0.113.1").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(range_of("unknown"), None);
        assert_eq!(range_of(""), None);
    }

    #[test]
    fn verified_ranges_are_trusted_and_new_ones_need_email() {
        let known = vec!["203.0.113.0/24".to_owned(), "2001:db8:1:2::/64".to_owned()];
        assert_eq!(decide(true, TwoFactorStatus::Off, false, &known, "203.0.113.200"), IpDecision::Trusted);
        assert_eq!(
            decide(true, TwoFactorStatus::Off, false, &known, "2001:db8:1:2::99"),
            IpDecision::Trusted
        );
        assert_eq!(
            decide(true, TwoFactorStatus::Off, false, &known, "203.0.114.1"),
            IpDecision::VerifyByEmail
        );
        assert_eq!(
            decide(true, TwoFactorStatus::Active, false, &known, "2001:db8:1:3::1"),
            IpDecision::VerifyByEmail
        );
        assert_eq!(decide(true, TwoFactorStatus::Off, false, &known, "not an ip"), IpDecision::VerifyByEmail);
    }

    #[test]
    fn a_pause_applies_only_with_active_2fa() {
        assert_eq!(
            decide(true, TwoFactorStatus::Active, true, &[], "198.51.100.1"),
            IpDecision::SkippedPaused
        );
        assert_eq!(
            decide(true, TwoFactorStatus::EnabledNotActivated, true, &[], "198.51.100.1"),
            IpDecision::VerifyByEmail
        );
        assert_eq!(decide(true, TwoFactorStatus::Off, true, &[], "198.51.100.1"), IpDecision::VerifyByEmail);
    }

    #[test]
    fn links_work_for_two_hours() {
        let sent = UnixTime(1_800_000_000);
        let expires = link_expires_at(sent);
        assert!(link_valid(expires, sent.plus_seconds(7_199)));
        assert!(!link_valid(expires, sent.plus_seconds(7_200)));
    }

    #[test]
    fn the_account_setting_turns_it_off() {
        assert_eq!(decide(false, TwoFactorStatus::Off, false, &[], "198.51.100.1"), IpDecision::Trusted);
    }
}
