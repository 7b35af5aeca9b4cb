//! The two lockout counters of one attempt (rules in `domain::lockout`): the email from this
//! source, and the email from this kind of source.

use domain::lockout::{self, Counter, Policy, Source};
use domain::time::format_utc;
use domain::{Email, UnixTime};
use store::CounterKey;

use super::Ctx;
use super::request::store_failure;
use crate::ApiError;

pub fn locked_out(until: UnixTime) -> ApiError {
    ApiError::LockedOut {
        message: format!(
            "Too many failed login attempts. For your security, logging in is locked until {}.",
            format_utc(until)
        ),
        until: until.seconds(),
    }
}

/// The counters an attempt at `email` from `ip`, a source of kind `source`, counts on.
#[derive(Clone, Debug)]
pub struct Counters {
    keys: [CounterKey; 2],
    policies: [Policy; 2],
    source: Source,
}

/// The counters after one more attempt was counted.
#[derive(Clone, Copy, Debug)]
pub struct Counted([Counter; 2]);

impl Counters {
    pub fn new(email: &Email, ip: &str, source: Source) -> Self {
        Counters {
            keys: [CounterKey::pair(email, ip), CounterKey::email(email, source)],
            policies: [lockout::PAIR, source.email_policy()],
            source,
        }
    }

    /// Each counter with its policy (a finished login clears them in its transaction).
    pub fn with_policies(&self) -> [(CounterKey, Policy); 2] {
        [(self.keys[0].clone(), self.policies[0]), (self.keys[1].clone(), self.policies[1])]
    }

    /// The later lock of the two, if either is locked at `now`.
    fn lock_of(&self, counters: [Option<&Counter>; 2], now: UnixTime) -> Option<UnixTime> {
        let locks = self.policies.iter().zip(counters).map(|(p, c)| c.and_then(|c| p.locked_until(c, now)));
        locks.flatten().max()
    }

    /// Until when this attempt is refused unchecked, if it is.
    pub async fn locked_until(&self, ctx: &Ctx, now: UnixTime) -> Result<Option<UnixTime>, ApiError> {
        let stored = ctx.store.load_counters(&self.keys).await.map_err(store_failure)?;
        Ok(self.lock_of([stored[0].as_ref(), stored[1].as_ref()], now))
    }

    /// Counts one attempt on both counters.
    pub async fn count(&self, ctx: &Ctx, now: UnixTime) -> Result<Counted, ApiError> {
        let pair = ctx.store.record_failure(&self.keys[0], &self.policies[0], now).await;
        let by_email = ctx.store.record_failure(&self.keys[1], &self.policies[1], now).await;
        Ok(Counted([pair.map_err(store_failure)?, by_email.map_err(store_failure)?]))
    }

    /// The lock `counted` put on, if any.
    pub fn lock_after(&self, counted: &Counted, now: UnixTime) -> Option<UnixTime> {
        self.lock_of([Some(&counted.0[0]), Some(&counted.0[1])], now)
    }

    /// Whether `counted` went past a limit (an attempt counted in parallel beyond it is refused
    /// unchecked).
    pub fn beyond_limit(&self, counted: &Counted) -> bool {
        self.policies.iter().zip(&counted.0).any(|(p, c)| c.failures > p.max_failures)
    }

    /// Whether `counted` is the failure that locked every unknown source out of this email.
    pub fn tripped_unknown_sources(&self, counted: &Counted) -> bool {
        self.source == Source::Unknown && self.policies[1].tripped_by(&counted.0[1])
    }

    /// Takes back an attempt that turned out right.
    pub async fn take_back(&self, ctx: &Ctx, counted: &Counted) -> Result<(), ApiError> {
        for (key, counter) in self.keys.iter().zip(&counted.0) {
            ctx.store.uncount_failure(key, counter).await.map_err(store_failure)?;
        }
        Ok(())
    }

    /// After a whole login succeeds its attempts stop counting. Best effort: a failure here only
    /// leaves them counted until their window ends.
    pub async fn clear(&self, ctx: &Ctx) {
        for key in &self.keys {
            if let Err(err) = ctx.store.clear_counter(key).await {
                tracing::warn!(error = %err, "could not clear login counters");
            }
        }
    }
}
