//! Failed-login lockout: it stops guessing without letting a stranger lock the owner out.
//!
//! ```text
//!            failure (window open)            failures reach the limit
//!   Clear ─────────────────────────▶ Counting ──────────────────────────▶ Locked
//!     ▲                                 │                                    │
//!     └──── window over, or success ────┘◀──── lock over (last failure + lock) ┘
//! ```
//!
//! Every attempt comes from a source, and sources are of two kinds:
//! - known: an address in a range the user verified by email, or a browser holding the signed
//!   device cookie of an earlier completed login of this user;
//! - unknown: anything else (and every attempt at an email that has no account).
//!
//! Each failed password or passcode is counted on two counters, all kept per email:
//! - the pair (`PAIR`): the email from one source, 5 failures in 15 minutes lock that source for
//!   15 minutes. A source is an IPv4 address or an IPv6 /64, since one subscriber gets a whole /64
//!   and could otherwise use a fresh address for every guess. Five is enough for typos and a
//!   forgotten caps lock; fifteen minutes makes guessing from one place useless (at most 480
//!   guesses a day): unknown sources are slowed this way one by one.
//! - the email from its kind of source: `UNKNOWN_SOURCES`, 20 failures in 15 minutes from any mix
//!   of unknown sources, lock every unknown source for 15 minutes (a spread-out attack stops) and
//!   the user is emailed once, when it trips; `KNOWN_SOURCES`, the same for the known ones.
//!
//! An attack from unknown sources therefore never locks the owner out of their verified
//! office or their own browser, however long it goes on; only a new place has to wait.
//!
//! Counters are keyed by the email as typed (normalised), whether or not an account exists, so a
//! lockout reveals nothing about which emails have accounts. Attempts that find the login locked
//! when they read the counters are refused before the password is checked, and are not counted. Because the lock lasts until the last
//! failure plus `lock`, which is never before the window ends, a lock that ends also ends the window.
//!
//! Parallel guesses stay exact: a wrong attempt is answered only once it is counted, and one
//! counted beyond a limit is refused as locked; a right one is written only while no counter is
//! locked (the check is in the same transaction), and if the lock came first it is counted and
//! refused the same way, so the answers cannot be told apart.

use crate::UnixTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u32,
    /// How long failures are counted together, from the first.
    pub window_seconds: i64,
    /// How long a lock lasts after the failure that reached the limit.
    pub lock_seconds: i64,
}

pub const PAIR: Policy = Policy { max_failures: 5, window_seconds: 15 * 60, lock_seconds: 15 * 60 };
pub const UNKNOWN_SOURCES: Policy =
    Policy { max_failures: 20, window_seconds: 15 * 60, lock_seconds: 15 * 60 };
pub const KNOWN_SOURCES: Policy = Policy { max_failures: 20, window_seconds: 15 * 60, lock_seconds: 15 * 60 };

/// Where an attempt comes from, as the lockout sees it (see the module notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Known,
    Unknown,
}

impl Source {
    /// Known when the address is in a range the user verified, or the browser holds the user's
    /// device cookie.
    pub fn of(verified_ranges: &[String], ip: &str, known_device: bool) -> Source {
        let verified = crate::ipcheck::range_of(ip).is_some_and(|r| verified_ranges.contains(&r));
        if verified || known_device { Source::Known } else { Source::Unknown }
    }

    /// The per-email counter this kind of source counts on.
    pub fn email_policy(self) -> Policy {
        match self {
            Source::Known => KNOWN_SOURCES,
            Source::Unknown => UNKNOWN_SOURCES,
        }
    }
}

/// What the pair counter is keyed by: the IPv4 address, or the IPv6 address's /64 (an IPv4
/// address written as IPv6 is that IPv4 address). Anything else is used as it is.
pub fn pair_source(ip: &str) -> String {
    use std::net::IpAddr;
    match ip.trim().parse::<IpAddr>().map(|a| a.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(_)) => crate::ipcheck::range_of(ip).unwrap_or_else(|| ip.to_owned()),
        Err(_) => ip.to_owned(),
    }
}

/// What the store keeps for one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub window_start: UnixTime,
    pub last_failure: UnixTime,
}

impl Policy {
    /// When the counter is locked at `now`, until when.
    pub fn locked_until(&self, counter: &Counter, now: UnixTime) -> Option<UnixTime> {
        let until = counter.last_failure.plus_seconds(self.lock_seconds);
        (counter.failures >= self.max_failures && now < until).then_some(until)
    }

    /// The earliest `window_start` that still counts at `now`: a stored counter with an older start
    /// is replaced by a fresh one instead of incremented.
    pub fn window_cutoff(&self, now: UnixTime) -> UnixTime {
        now.plus_seconds(-self.window_seconds)
    }

    /// The counter after one more failure at `now`.
    pub fn record_failure(&self, counter: Option<&Counter>, now: UnixTime) -> Counter {
        match counter {
            Some(c) if c.window_start > self.window_cutoff(now) => {
                Counter { failures: c.failures + 1, window_start: c.window_start, last_failure: now }
            }
            _ => Counter { failures: 1, window_start: now, last_failure: now },
        }
    }

    /// Whether the failure that made `counter` is the one that locked it (exactly one does).
    pub fn tripped_by(&self, counter: &Counter) -> bool {
        counter.failures == self.max_failures
    }

    /// How long the stored counter is worth keeping (for the table's TTL clean-up).
    pub fn expires_at(&self, counter: &Counter) -> UnixTime {
        counter
            .window_start
            .plus_seconds(self.window_seconds)
            .max(counter.last_failure.plus_seconds(self.lock_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime(1_800_000_000);

    fn fail_times(policy: &Policy, times: &[i64]) -> Option<Counter> {
        times.iter().fold(None, |c, t| Some(policy.record_failure(c.as_ref(), T0.plus_seconds(*t))))
    }

    #[test]
    fn four_failures_do_not_lock_the_fifth_does() {
        let c = fail_times(&PAIR, &[0, 10, 20, 30]).unwrap();
        assert_eq!(PAIR.locked_until(&c, T0.plus_seconds(31)), None);
        let c = PAIR.record_failure(Some(&c), T0.plus_seconds(40));
        assert_eq!(c.failures, 5);
        assert_eq!(PAIR.locked_until(&c, T0.plus_seconds(41)), Some(T0.plus_seconds(40 + 900)));
    }

    #[test]
    fn a_lock_ends_at_last_failure_plus_lock_time() {
        let c = fail_times(&PAIR, &[0, 1, 2, 3, 4]).unwrap();
        assert!(PAIR.locked_until(&c, T0.plus_seconds(903)).is_some());
        assert_eq!(PAIR.locked_until(&c, T0.plus_seconds(904)), None);
    }

    #[test]
    fn failures_spread_beyond_the_window_start_again() {
        let c = fail_times(&PAIR, &[0, 300, 600, 899]).unwrap();
        assert_eq!(c.failures, 4);
        // 900 s after the first failure the window is over: counting restarts at one.
        let c = PAIR.record_failure(Some(&c), T0.plus_seconds(900));
        assert_eq!(c.failures, 1);
        assert_eq!(c.window_start, T0.plus_seconds(900));
        assert_eq!(PAIR.locked_until(&c, T0.plus_seconds(901)), None);
    }

    #[test]
    fn the_email_counters_need_twenty_and_trip_once() {
        for policy in [UNKNOWN_SOURCES, KNOWN_SOURCES] {
            let times: Vec<i64> = (0..19).collect();
            let c = fail_times(&policy, &times).unwrap();
            assert_eq!(policy.locked_until(&c, T0.plus_seconds(20)), None);
            assert!(!policy.tripped_by(&c));
            let c = policy.record_failure(Some(&c), T0.plus_seconds(20));
            assert_eq!(policy.locked_until(&c, T0.plus_seconds(21)), Some(T0.plus_seconds(920)));
            assert!(policy.tripped_by(&c));
            assert!(!policy.tripped_by(&policy.record_failure(Some(&c), T0.plus_seconds(21))));
        }
    }

    #[test]
    fn a_verified_range_or_the_device_cookie_makes_a_source_known() {
        let ranges = vec!["198.51.100.0/24".to_owned(), "2001:db8:1:2::/64".to_owned()];
        assert_eq!(Source::of(&ranges, "198.51.100.7", false), Source::Known);
        assert_eq!(Source::of(&ranges, "::ffff:198.51.100.7", false), Source::Known);
        assert_eq!(Source::of(&ranges, "2001:db8:1:2::99", false), Source::Known);
        assert_eq!(Source::of(&ranges, "203.0.113.9", false), Source::Unknown);
        assert_eq!(Source::of(&ranges, "203.0.113.9", true), Source::Known);
        assert_eq!(Source::Unknown.email_policy(), UNKNOWN_SOURCES);
    }

    #[test]
    fn the_pair_counter_keys_an_ipv6_subscriber_by_its_64() {
        assert_eq!(pair_source("2001:db8:1:2::1"), pair_source("2001:db8:1:2:ffff::9"));
        assert_ne!(pair_source("2001:db8:1:2::1"), pair_source("2001:db8:1:3::1"));
        assert_eq!(pair_source("198.51.100.7"), "198.51.100.7");
        assert_eq!(pair_source("::ffff:198.51.100.7"), "198.51.100.7");
        assert_ne!(pair_source("198.51.100.7"), pair_source("198.51.100.8"));
    }

    #[test]
    fn a_counter_is_kept_until_both_window_and_lock_are_over() {
        let c = fail_times(&PAIR, &[0, 100, 200, 300, 400]).unwrap();
        assert_eq!(PAIR.expires_at(&c), T0.plus_seconds(1300));
        let c = fail_times(&PAIR, &[0]).unwrap();
        assert_eq!(PAIR.expires_at(&c), T0.plus_seconds(900));
    }
}
