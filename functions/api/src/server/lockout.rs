//! The two lockout counters of one attempt (rules in `domain::lockout`): the email from this
//! source, and the email from this kind of source.

use domain::lockout::{self, Counter, Policy, Source};
use domain::time::format_utc;
use domain::{Email, UnixTime};
use store::{CounterKey, Operation, Settle, StoreError};

use super::Ctx;
use super::request::store_failure;
use crate::ApiError;

/// What reading, counting and clearing the counters here runs.
pub const STORE_OPERATIONS: &[Operation] =
    &[Operation::LoadCounters, Operation::CountAttempt, Operation::RecordFailure, Operation::ClearCounter];

pub fn locked_out(until: UnixTime) -> ApiError {
    ApiError::LockedOut {
        message: format!(
            "Too many failed login attempts. For your security, logging in is locked until {}.",
            format_utc(until)
        ),
        until: until.seconds(),
    }
}

/// The counters an attempt at `email` from `ip`, a source of kind `source`, counts on, with their
/// values as last read.
#[derive(Clone, Debug)]
pub struct Counters {
    keys: [CounterKey; 2],
    policies: [Policy; 2],
    source: Source,
    stored: Option<[Option<Counter>; 2]>,
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
            stored: None,
        }
    }

    /// The kind of place the attempt comes from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Every counter a login of `email` from `ip` may count on, whatever its kind of source, so
    /// the login reads them before it knows the kind: the pair, the known, the unknown.
    pub fn lookup_keys(email: &Email, ip: &str) -> [CounterKey; 3] {
        [
            CounterKey::pair(email, ip),
            CounterKey::email(email, Source::Known),
            CounterKey::email(email, Source::Unknown),
        ]
    }

    /// The counters for `source`, with the values read for [`Counters::lookup_keys`].
    pub fn from_lookup(email: &Email, ip: &str, source: Source, read: &[Option<Counter>]) -> Self {
        let by_email = match source {
            Source::Known => read.get(1),
            Source::Unknown => read.get(2),
        };
        Counters {
            stored: Some([read.first().copied().flatten(), by_email.copied().flatten()]),
            ..Counters::new(email, ip, source)
        }
    }

    /// The lock the counters as read put on, if any.
    pub fn read_lock(&self, now: UnixTime) -> Option<UnixTime> {
        let stored = self.stored.as_ref()?;
        self.lock_of([stored[0].as_ref(), stored[1].as_ref()], now)
    }

    /// What the write of a good outcome carries: refused while a counter is locked, and with
    /// `clear` the counters are cleared (a whole login succeeded; knowing only the password does
    /// not reset the count of wrong passcodes).
    pub fn settle(&self, now: UnixTime, clear: bool) -> Settle {
        let counters = self.keys.iter().cloned().zip(self.policies).collect();
        Settle { counters, clear, now }
    }

    /// The later lock of the two, if either is locked at `now`.
    fn lock_of(&self, counters: [Option<&Counter>; 2], now: UnixTime) -> Option<UnixTime> {
        let locks = self.policies.iter().zip(counters).map(|(p, c)| c.and_then(|c| p.locked_until(c, now)));
        locks.flatten().max()
    }

    /// Reads the counters; until when this attempt is refused unchecked, if it is.
    pub async fn locked_until(&mut self, ctx: &Ctx, now: UnixTime) -> Result<Option<UnixTime>, ApiError> {
        let stored = ctx.store.load_counters(&self.keys).await.map_err(store_failure)?;
        self.stored = Some([stored[0], stored[1]]);
        Ok(self.read_lock(now))
    }

    /// Counts one attempt on both counters: from the values read, one transaction; otherwise (or
    /// if they changed meanwhile) each on its own.
    pub async fn count(&self, ctx: &Ctx, now: UnixTime) -> Result<Counted, ApiError> {
        let counted = match &self.stored {
            Some(stored) => {
                let tallies: Vec<_> =
                    (0..2).map(|i| (self.keys[i].clone(), self.policies[i], stored[i])).collect();
                ctx.store.count_attempt(&tallies, now).await.map_err(store_failure)?
            }
            None => {
                let pair = ctx.store.record_failure(&self.keys[0], &self.policies[0], now).await;
                let by_email = ctx.store.record_failure(&self.keys[1], &self.policies[1], now).await;
                vec![pair.map_err(store_failure)?, by_email.map_err(store_failure)?]
            }
        };
        Ok(Counted([counted[0], counted[1]]))
    }

    /// The lock `counted` put on, if any.
    pub fn lock_after(&self, counted: &Counted, now: UnixTime) -> Option<UnixTime> {
        self.lock_of([Some(&counted.0[0]), Some(&counted.0[1])], now)
    }

    /// Whether `counted` went beyond a limit: the attempt came while the login was already
    /// locked (by parallel guesses), so it is refused like one that read the lock, whatever its
    /// password or code.
    pub fn beyond_limit(&self, counted: &Counted) -> bool {
        self.policies.iter().zip(&counted.0).any(|(p, c)| c.failures > p.max_failures)
    }

    /// The answer to an attempt whose good outcome was refused because a counter got locked
    /// while it was checked: counted like a wrong one, and with the same DynamoDB calls as a
    /// wrong one that raced the lock (its counting transaction fails on the moved counters, then
    /// each counter is counted on its own), so neither the answer nor its timing tells them apart.
    pub async fn refuse_raced(&self, ctx: &Ctx, now: UnixTime) -> ApiError {
        let unread = Counters { stored: None, ..self.clone() };
        match unread.count(ctx, now).await {
            Ok(counted) => self.refused(&counted, now),
            Err(e) => e,
        }
    }

    /// The answer to an attempt `counted` into a lock.
    pub fn refused(&self, counted: &Counted, now: UnixTime) -> ApiError {
        locked_out(self.lock_after(counted, now).unwrap_or(now.plus_seconds(lockout::PAIR.lock_seconds)))
    }

    /// The answer when the write of a good outcome failed: a counter locked meanwhile is
    /// [`Counters::refuse_raced`], anything else a store failure.
    pub async fn outcome_failed(&self, ctx: &Ctx, now: UnixTime, err: StoreError) -> ApiError {
        match err {
            StoreError::Locked => self.refuse_raced(ctx, now).await,
            other => store_failure(other),
        }
    }

    /// Whether `counted` is the failure that locked every unknown source out of this email.
    pub fn tripped_unknown_sources(&self, counted: &Counted) -> bool {
        self.source == Source::Unknown && self.policies[1].tripped_by(&counted.0[1])
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
