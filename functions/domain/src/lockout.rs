//! Failed-login lockout.
//!
//! ```text
//!            failure (window open)            failures reach the limit
//!   Clear ─────────────────────────▶ Counting ──────────────────────────▶ Locked
//!     ▲                                 │                                    │
//!     └──── window over, or success ────┘◀──── lock over (last failure + lock) ┘
//! ```
//!
//! Two counters are kept for every login attempt that fails:
//! - per email + client address (`PAIR`): 5 failures in 15 minutes lock that pair for 15 minutes.
//!   Five is enough for typos and a forgotten caps lock, and 15 minutes makes online guessing
//!   useless (at most 480 guesses a day from one address).
//! - per email (`EMAIL`): 20 failures in 15 minutes, from any mix of addresses, lock the email for
//!   15 minutes, which stops a guessing attack spread over many addresses while a user who typed
//!   wrong a few times from the office is not affected.
//!
//! Counters are keyed by the email as typed (normalised), whether or not an account exists, so a
//! lockout reveals nothing about which emails have accounts. Attempts while locked are refused
//! before the password is checked, and are not counted. Because the lock lasts until the last
//! failure plus `lock`, which is never before the window ends, a lock that ends also ends the window.

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
pub const EMAIL: Policy = Policy { max_failures: 20, window_seconds: 15 * 60, lock_seconds: 15 * 60 };

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
    fn the_email_counter_needs_twenty() {
        let times: Vec<i64> = (0..19).collect();
        let c = fail_times(&EMAIL, &times).unwrap();
        assert_eq!(EMAIL.locked_until(&c, T0.plus_seconds(20)), None);
        let c = EMAIL.record_failure(Some(&c), T0.plus_seconds(20));
        assert_eq!(EMAIL.locked_until(&c, T0.plus_seconds(21)), Some(T0.plus_seconds(920)));
    }

    #[test]
    fn a_counter_is_kept_until_both_window_and_lock_are_over() {
        let c = fail_times(&PAIR, &[0, 100, 200, 300, 400]).unwrap();
        assert_eq!(PAIR.expires_at(&c), T0.plus_seconds(1300));
        let c = fail_times(&PAIR, &[0]).unwrap();
        assert_eq!(PAIR.expires_at(&c), T0.plus_seconds(900));
    }
}
