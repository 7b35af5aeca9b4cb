//! Failed-login counters (rules in `domain::lockout`). Each failure is one conditional update, so
//! concurrent failures are all counted.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::lockout::{Counter, Policy, Source, pair_source};
use domain::secret::sha256_hex;
use domain::{Email, UnixTime};

use crate::client::{Item, Store, StoreError, done_unless_failed, get_n, lost_condition, n, s};
use crate::keys::{EXPIRES_AT, PK, SK};

/// Which counter: the email from one kind of source, or the email from one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterKey(String);

impl CounterKey {
    /// Keyed by a hash so the table does not collect typed emails of people without accounts.
    pub fn email(email: &Email, source: Source) -> Self {
        let hash = sha256_hex(email.as_str());
        CounterKey(match source {
            Source::Unknown => format!("LOCKOUT#{hash}"),
            Source::Known => format!("LOCKOUT#{hash}#KNOWN"),
        })
    }

    /// The email from the source `client_ip` belongs to (`domain::lockout::pair_source`).
    pub fn pair(email: &Email, client_ip: &str) -> Self {
        CounterKey(format!("LOCKOUT#{}#IP#{}", sha256_hex(email.as_str()), pair_source(client_ip)))
    }
}

pub(crate) fn key(counter: &CounterKey) -> Item {
    Item::from([(PK.to_owned(), s(&counter.0)), (SK.to_owned(), s("LOCKOUT"))])
}

fn counter_from_item(item: &Item) -> Result<Counter, StoreError> {
    Ok(Counter {
        failures: u32::try_from(get_n(item, "failures")?)
            .map_err(|_| StoreError::Malformed("failures".into()))?,
        window_start: UnixTime(get_n(item, "window_start")?),
        last_failure: UnixTime(get_n(item, "last_failure")?),
    })
}

impl Store {
    /// Reads several counters in one call; missing ones are `None`.
    pub async fn load_counters(&self, keys: &[CounterKey]) -> Result<Vec<Option<Counter>>, StoreError> {
        let items = self.batch_get(keys.iter().map(key).collect()).await?;
        keys.iter()
            .map(|k| {
                items
                    .iter()
                    .find(|item| item.get(PK) == Some(&AttributeValue::S(k.0.clone())))
                    .map(counter_from_item)
                    .transpose()
            })
            .collect()
    }

    /// Counts one failure and returns the counter after it.
    pub async fn record_failure(
        &self,
        counter: &CounterKey,
        policy: &Policy,
        now: UnixTime,
    ) -> Result<Counter, StoreError> {
        let cutoff = policy.window_cutoff(now);
        // A few rounds at most: each lost race means another failure was counted in between.
        for _ in 0..5 {
            // Within the window: add one.
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(counter)))
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
                    return counter_from_item(&out.attributes.unwrap_or_default());
                }
                Err(err) if !lost_condition(&err) => {
                    return Err(err.into());
                }
                Err(_) => {}
            }
            // No counter, or its window is over: start a new one, unless someone just did.
            let fresh = policy.record_failure(None, now);
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(key(counter)))
                .item("failures", n(i64::from(fresh.failures)))
                .item("window_start", n(fresh.window_start.seconds()))
                .item("last_failure", n(fresh.last_failure.seconds()))
                .item(EXPIRES_AT, n(policy.expires_at(&fresh).seconds()))
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

    /// Takes back one attempt counted as `counted` (a password that turned out right): only in the
    /// same window and never below zero.
    pub async fn uncount_failure(&self, key: &CounterKey, counted: &Counter) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self::key(key)))
            .update_expression("ADD failures :minus_one")
            .condition_expression("window_start = :window AND failures > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":window", n(counted.window_start.seconds()))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        // A new window began or the counter was cleared: then nothing of this attempt is left.
        done_unless_failed(result)
    }

    pub async fn clear_counter(&self, counter: &CounterKey) -> Result<(), StoreError> {
        self.client.delete_item().table_name(&self.table).set_key(Some(key(counter))).send().await?;
        Ok(())
    }
}
