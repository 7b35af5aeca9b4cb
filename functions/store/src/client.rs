use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::Db;
use crate::keys::{PK, SK};
use crate::operation::Operation;
use crate::outcome::{Failure, failure_of};

/// The repository: a DynamoDB client and the table it works on. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// Reached through an operation's handle ([`Store::op`]), or by the tools and tests through
    /// `client()` (feature `raw-client`).
    client: Client,
    pub(crate) table: String,
    /// The operations a function may run ([`Store::restricted_to`]); `None`: all of them.
    allowed: Option<&'static [&'static [Operation]]>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A new user's email belongs to another user already: nothing was written.
    #[error("the email is taken")]
    EmailTaken,
    /// The account or user a write changes does not exist (or a new item's key is taken, which a
    /// random token's never is): nothing was written.
    #[error("the item to change does not exist")]
    NotFound,
    /// The write ending a login attempt well was refused: one of its lockout counters is locked.
    #[error("a lockout counter is locked")]
    Locked,
    /// DynamoDB is out of reach for now (timed out, unreachable, throttled, a server error, or a
    /// transaction that kept meeting another), after the client's retries. Nothing the call meant
    /// to write was written; the caller can try again later.
    #[error("DynamoDB unavailable: {0}")]
    Unavailable(String),
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("DynamoDB: {0}")]
    Dynamo(String),
    /// The store was given to a function that does not declare this operation ([`Store::restricted_to`]).
    #[error("this function does not declare the store operation {0:?}")]
    AccessDenied(Operation),
}

impl<E> From<SdkError<E, HttpResponse>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        // The display chain carries the service's code and message, never item values.
        let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
        match failure_of(&err) {
            Failure::Transient => StoreError::Unavailable(detail),
            Failure::Condition | Failure::Other => StoreError::Dynamo(detail),
        }
    }
}

/// True when a single conditional write, or a transaction, lost one of its conditions.
pub(crate) fn lost_condition<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    failure_of(err) == Failure::Condition
}

/// Which items of a cancelled transaction lost their condition (by position); empty for any
/// other outcome.
pub(crate) fn lost_conditions_at<T, E>(result: &Result<T, SdkError<E, HttpResponse>>) -> Vec<usize>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Err(SdkError::ServiceError(service)) => crate::outcome::cancellation_reasons(service.err())
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == "ConditionalCheckFailed")
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    }
}

/// A conditional write that is done either way: a lost condition means the item moved on and
/// nothing is left to do (an idempotent enable, a withdrawal of what was already replaced).
pub(crate) fn done_unless_failed<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    outcome(result, (), ())
}

/// A conditional write's result: `Some` output when it was written, `None` when its condition
/// was not met (nothing was written).
pub(crate) fn conditional<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<Option<T>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if lost_condition(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// A write to an item that must exist (its condition): `NotFound` when it does not.
pub(crate) fn existing<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    outcome(result, Ok(()), Err(StoreError::NotFound))?
}

/// A conditional write's result in the operation's words: `written`, or `refused` when its
/// condition was not met.
pub(crate) fn outcome<T, E, O>(
    result: Result<T, SdkError<E, HttpResponse>>,
    written: O,
    refused: O,
) -> Result<O, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Ok(if conditional(result)?.is_some() { written } else { refused })
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into(), allowed: None }
    }

    /// Builds the client from the environment (`AWS_ENDPOINT_URL_DYNAMODB` points it at a local
    /// server), with the timeouts and retries of [`crate::outcome`]. Call once at start-up and
    /// share.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Store::connect(&aws_config::load_from_env().await, table)
    }

    /// The same, from an AWS configuration already loaded (a function loads it once).
    pub fn connect(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        let config = crate::outcome::client_settings(aws_sdk_dynamodb::config::Builder::from(sdk));
        Store::new(Client::from_conf(config.build()), table)
    }

    /// The same store reached through another endpoint (tests put a fault-injecting proxy there),
    /// with its own retry budget: the SDK shares one per partition across a process, and faults
    /// injected for one test must not use up another's retries.
    pub fn via(&self, endpoint_url: &str) -> Self {
        let partition =
            aws_sdk_dynamodb::config::retry::RetryPartition::new(format!("dynamodb via {endpoint_url}"));
        let config =
            self.client.config().to_builder().endpoint_url(endpoint_url).retry_partition(partition).build();
        Store { client: Client::from_conf(config), ..self.clone() }
    }

    /// The same store as one function may use it: an operation none of `allowed`'s lists (the
    /// function's own, and those of the helpers it uses) holds is refused with `AccessDenied`,
    /// as IAM would refuse the function a DynamoDB action its policy lacks.
    pub fn restricted_to(&self, allowed: &'static [&'static [Operation]]) -> Self {
        Store { allowed: Some(allowed), ..self.clone() }
    }

    /// The handle `operation` makes its DynamoDB calls through: the first thing each operation
    /// asks for. An operation the function does not declare panics in debug builds, so that the
    /// tests see it even where the caller only logs a failure (an audit event, a tidying delete).
    pub(crate) fn op(&self, operation: Operation) -> Result<Db<'_>, StoreError> {
        match self.allowed {
            Some(lists) if !lists.iter().any(|list| list.contains(&operation)) => {
                let denied = StoreError::AccessDenied(operation);
                if cfg!(debug_assertions) {
                    panic!("{denied}");
                }
                Err(denied)
            }
            _ => Ok(Db::new(&self.client, &self.table, operation)),
        }
    }

    /// An update of the item at `key` in a transaction, to complete with what it sets.
    pub(crate) fn transact_update(&self, key: Item) -> UpdateBuilder {
        Update::builder().table_name(&self.table).set_key(Some(key))
    }

    /// A put of a new item (one whose key is not taken), as a transaction item.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The DynamoDB client itself, past every declaration: for the development tools and tests
    /// only (the functions build the store without this feature).
    #[cfg(feature = "raw-client")]
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key of an item: its partition and sort key.
pub(crate) fn item_key(pk: String, sk: impl Into<String>) -> Item {
    Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// A record read from its item: `Malformed` when the item does not fit it.
pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item)
        .map_err(|err| StoreError::Malformed(format!("{}: {err}", record_name::<T>())))
}

/// The item that stores `record` under `key` (a whole item, as put).
pub(crate) fn keyed_item<T: Serialize>(key: Item, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record)
        .map_err(|err| StoreError::Dynamo(format!("{}: {err}", record_name::<T>())))?;
    item.extend(key);
    Ok(item)
}

/// A record type's own name, for errors.
fn record_name<T>() -> &'static str {
    let path = std::any::type_name::<T>();
    path.rsplit("::").next().unwrap_or(path)
}

/// A transaction item could not be built (a bug in the code that built it).
pub(crate) fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Dynamo(err.to_string())
}

/// An item from attribute names and values, as tests spell what is stored.
#[cfg(test)]
pub(crate) fn stored(attributes: &[(&str, AttributeValue)]) -> Item {
    attributes.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn an_item_that_does_not_fit_its_record_is_malformed() {
        let missing = from_item::<Named>(stored(&[("other", s("x"))]));
        assert!(
            matches!(missing, Err(StoreError::Malformed(m)) if m.contains("Named") && m.contains("name"))
        );
        let wrong_type = from_item::<Named>(stored(&[("name", n(1))]));
        assert!(matches!(wrong_type, Err(StoreError::Malformed(_))));
    }
}
