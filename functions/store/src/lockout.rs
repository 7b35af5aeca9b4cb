//! Failed-login counters (rules in `domain::lockout`). Each failure is one conditional update, so
//! concurrent failures are all counted.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use domain::lockout::{Counter, Policy, Source, pair_source};
use domain::secret::sha256_hex;
use domain::{Email, UnixTime};

use serde::{Deserialize, Serialize};

use crate::client::{
    Item, Store, StoreError, build_error, conditional, from_item, item_key, keyed_item, lost_condition, n,
};
use crate::db::Db;
use crate::keys::{EXPIRES_AT, LOCKOUT_SK, PK, lockout_email_pk, lockout_pair_pk};
use crate::operation::Operation;
use crate::users::ClaimItem;

/// Which counter: the email from one kind of source, or the email from one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterKey(String);

impl CounterKey {
    /// Keyed by a hash so the table does not collect typed emails of people without accounts.
    pub fn email(email: &Email, source: Source) -> Self {
        CounterKey(lockout_email_pk(&sha256_hex(email.as_str()), source == Source::Known))
    }

    /// The email from the source `client_ip` belongs to (`domain::lockout::pair_source`).
    pub fn pair(email: &Email, client_ip: &str) -> Self {
        CounterKey(lockout_pair_pk(&sha256_hex(email.as_str()), &pair_source(client_ip)))
    }
}

pub(crate) fn key(counter: &CounterKey) -> Item {
    item_key(counter.0.clone(), LOCKOUT_SK)
}

/// A counter's item as stored (the key aside).
#[derive(Serialize, Deserialize)]
struct CounterItem {
    failures: u32,
    window_start: UnixTime,
    last_failure: UnixTime,
    /// Only written: the policy decides it, and the table's TTL reads it.
    #[serde(skip_deserializing)]
    expires_at: Option<UnixTime>,
}

impl CounterItem {
    fn counter(self) -> Counter {
        Counter { failures: self.failures, window_start: self.window_start, last_failure: self.last_failure }
    }
}

fn counter_item(key: &CounterKey, policy: &Policy, c: &Counter) -> Result<Item, StoreError> {
    let record = CounterItem {
        failures: c.failures,
        window_start: c.window_start,
        last_failure: c.last_failure,
        expires_at: Some(policy.expires_at(c)),
    };
    keyed_item(self::key(key), &record)
}

fn counter_from_item(item: Item) -> Result<Counter, StoreError> {
    from_item::<CounterItem>(item).map(CounterItem::counter)
}

/// The stored counter of each of `keys` among `items` read (`None` where there is none).
fn counters_among(items: &[Item], keys: &[CounterKey]) -> Result<Vec<Option<Counter>>, StoreError> {
    keys.iter()
        .map(|k| {
            items
                .iter()
                .find(|item| item.get(PK) == Some(&AttributeValue::S(k.0.clone())))
                .map(|item| counter_from_item(item.clone()))
                .transpose()
        })
        .collect()
}

/// The lockout's part in the write that ends an attempt well (a login's next step or its
/// session, a step-up): the write is refused while any of the attempt's counters is locked, so a
/// right password or code checked while parallel guesses locked the login gets no further; and
/// when the whole login succeeded, the same write clears the counters.
#[derive(Clone, Debug)]
pub struct Settle {
    pub counters: Vec<(CounterKey, Policy)>,
    pub clear: bool,
    pub now: UnixTime,
}

impl Settle {
    /// Nothing to check or clear.
    pub fn none(now: UnixTime) -> Self {
        Settle { counters: Vec::new(), clear: false, now }
    }

    /// One transaction item per counter: a condition check, or a delete under the same condition.
    pub(crate) fn items(&self, table: &str) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = Vec::with_capacity(self.counters.len());
        for (counter, policy) in &self.counters {
            // The same key and condition on either kind of item.
            macro_rules! unless_locked {
                ($builder:expr) => {
                    $builder
                        .table_name(table)
                        .set_key(Some(key(counter)))
                        .condition_expression(
                            "attribute_not_exists(pk) OR failures < :max OR last_failure <= :cutoff",
                        )
                        .expression_attribute_values(":max", n(i64::from(policy.max_failures)))
                        .expression_attribute_values(":cutoff", n(self.now.seconds() - policy.lock_seconds))
                        .build()
                        .map_err(build_error)?
                };
            }
            let item = TransactWriteItem::builder();
            items.push(if self.clear {
                item.delete(unless_locked!(Delete::builder())).build()
            } else {
                item.condition_check(unless_locked!(ConditionCheck::builder())).build()
            });
        }
        Ok(items)
    }
}

impl Store {
    /// Sends `items` and the settling of the counters as one transaction: `Locked` when a counter
    /// is locked, `None` when a condition of `items` was not met (either way nothing is written).
    pub(crate) async fn write_settling(
        &self,
        db: Db<'_>,
        mut items: Vec<TransactWriteItem>,
        settle: &Settle,
    ) -> Result<Option<()>, StoreError> {
        let own = items.len();
        items.extend(settle.items(&self.table)?);
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        if crate::client::lost_conditions_at(&result).iter().any(|&i| i >= own) {
            return Err(StoreError::Locked);
        }
        Ok(conditional(result)?.map(|_| ()))
    }

    /// The same for `items` that only create new items or change existing ones: `NotFound` when
    /// one of their conditions was not met.
    pub(crate) async fn write_settling_all(
        &self,
        db: Db<'_>,
        items: Vec<TransactWriteItem>,
        settle: &Settle,
    ) -> Result<(), StoreError> {
        self.write_settling(db, items, settle).await?.ok_or(StoreError::NotFound)
    }
}

impl Store {
    /// Reads several counters in one call; missing ones are `None`.
    pub async fn load_counters(&self, keys: &[CounterKey]) -> Result<Vec<Option<Counter>>, StoreError> {
        let db = self.op(Operation::LoadCounters)?;
        let items = db.batch_get(keys.iter().map(key).collect()).await?;
        counters_among(&items, keys)
    }

    /// The login's first read, in one call: whose the email is (its claim item: account and user
    /// id, `None` when the email has no account) and the `counters` as stored.
    pub async fn find_login(
        &self,
        email: &Email,
        counters: &[CounterKey],
    ) -> Result<(Option<(String, String)>, Vec<Option<Counter>>), StoreError> {
        let db = self.op(Operation::FindLogin)?;
        let claim_key = crate::users::claim_key(email);
        let mut keys = vec![claim_key.clone()];
        keys.extend(counters.iter().map(key));
        let items = db.batch_get(keys).await?;
        let claim = items.iter().find(|i| i.get(PK) == claim_key.get(PK)).cloned();
        let claim = claim.map(from_item::<ClaimItem>).transpose()?;
        let stored = counters_among(&items, counters)?;
        Ok((claim.map(|c| (c.account_id, c.user_id)), stored))
    }

    /// Counts one failure and returns the counter after it.
    pub async fn record_failure(
        &self,
        counter: &CounterKey,
        policy: &Policy,
        now: UnixTime,
    ) -> Result<Counter, StoreError> {
        let db = self.op(Operation::RecordFailure)?;
        let cutoff = policy.window_cutoff(now);
        // A few rounds at most: each lost race means another failure was counted in between.
        for _ in 0..5 {
            // Within the window: add one.
            let added = db
                .update(key(counter))
                .update_expression("ADD failures :one SET last_failure = :now, #exp = :exp")
                .condition_expression("window_start > :cutoff")
                .expression_attribute_names("#exp", EXPIRES_AT)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.seconds()))
                .expression_attribute_values(":cutoff", n(cutoff.seconds()))
                .expression_attribute_values(
                    ":exp",
                    n(now.seconds() + policy.window_seconds + policy.lock_seconds),
                )
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                .send()
                .await;
            match added {
                Ok(out) => {
                    return counter_from_item(out.attributes.unwrap_or_default());
                }
                Err(err) if !lost_condition(&err) => {
                    return Err(err.into());
                }
                Err(_) => {}
            }
            // No counter, or its window is over: start a new one, unless someone just did.
            let fresh = policy.record_failure(None, now);
            let started = db
                .put_item()
                .table_name(&self.table)
                .set_item(Some(counter_item(counter, policy, &fresh)?))
                .condition_expression("attribute_not_exists(pk) OR window_start <= :cutoff")
                .expression_attribute_values(":cutoff", n(cutoff.seconds()))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(fresh),
                Err(err) if !lost_condition(&err) => {
                    return Err(err.into());
                }
                Err(_) => {}
            }
        }
        Err(StoreError::Unavailable("a login counter kept changing".into()))
    }

    /// Counts one attempt on each of `tallies` (a counter, its policy, and its value as read just
    /// before): one transaction that writes the next values, conditioned on the read ones. If any
    /// changed meanwhile (another attempt was counted), each is counted on its own instead
    /// ([`Store::record_failure`]), so the count stays exact under any concurrency.
    pub async fn count_attempt(
        &self,
        tallies: &[(CounterKey, Policy, Option<Counter>)],
        now: UnixTime,
    ) -> Result<Vec<Counter>, StoreError> {
        let db = self.op(Operation::CountAttempt)?;
        let next: Vec<Counter> =
            tallies.iter().map(|(_, p, read)| p.record_failure(read.as_ref(), now)).collect();
        let mut items = Vec::with_capacity(tallies.len());
        for ((key, policy, read), next) in tallies.iter().zip(&next) {
            let put = Put::builder().table_name(&self.table).set_item(Some(counter_item(key, policy, next)?));
            let put = match read {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(c) => put
                    .condition_expression("failures = :f AND window_start = :w AND last_failure = :l")
                    .expression_attribute_values(":f", n(i64::from(c.failures)))
                    .expression_attribute_values(":w", n(c.window_start.seconds()))
                    .expression_attribute_values(":l", n(c.last_failure.seconds())),
            };
            items.push(TransactWriteItem::builder().put(put.build().map_err(build_error)?).build());
        }
        match conditional(db.transact_write_items().set_transact_items(Some(items)).send().await)? {
            Some(_) => Ok(next),
            None => {
                let mut counted = Vec::with_capacity(tallies.len());
                for (key, policy, _) in tallies {
                    counted.push(self.record_failure(key, policy, now).await?);
                }
                Ok(counted)
            }
        }
    }

    pub async fn clear_counter(&self, counter: &CounterKey) -> Result<(), StoreError> {
        let db = self.op(Operation::ClearCounter)?;
        db.delete(key(counter)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{s, stored};
    use crate::keys::{PK, SK};

    #[test]
    fn a_counter_is_stored_with_its_expiry_and_read_back() {
        let counter = Counter { failures: 3, window_start: UnixTime(100), last_failure: UnixTime(160) };
        let policy = domain::lockout::PAIR;
        let item = counter_item(&CounterKey("LOCKOUT#e".into()), &policy, &counter).unwrap();
        let expected = stored(&[
            (PK, s("LOCKOUT#e")),
            (SK, s("LOCKOUT")),
            ("failures", n(3)),
            ("window_start", n(100)),
            ("last_failure", n(160)),
            (EXPIRES_AT, n(policy.expires_at(&counter).seconds())),
        ]);
        assert_eq!(item, expected);
        assert_eq!(counter_from_item(item).unwrap(), counter);
    }

    #[test]
    fn a_negative_count_is_malformed() {
        let item = stored(&[("failures", n(-1)), ("window_start", n(1)), ("last_failure", n(1))]);
        assert!(matches!(counter_from_item(item), Err(StoreError::Malformed(_))));
    }
}
