use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

/// The repository: a DynamoDB client and the table it works on. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost: the item changed or already exists.
    #[error("conflicting write")]
    Conflict,
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("DynamoDB: {0}")]
    Dynamo(String),
}

impl<E: std::error::Error + 'static, R: std::fmt::Debug> From<aws_sdk_dynamodb::error::SdkError<E, R>>
    for StoreError
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        // The display chain carries the service's code and message, never item values.
        StoreError::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string())
    }
}

/// True when a single conditional write lost its condition.
pub(crate) fn lost_condition<R>(err: &aws_sdk_dynamodb::error::SdkError<impl ConditionError, R>) -> bool {
    err.as_service_error().is_some_and(ConditionError::is_condition_failure)
}

/// A conditional write's result, with a lost condition as `Conflict`.
pub(crate) fn conditional<T, E, R>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<T, StoreError>
where
    E: ConditionError + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(value) => Ok(value),
        Err(err) if lost_condition(&err) => Err(StoreError::Conflict),
        Err(err) => Err(err.into()),
    }
}

pub(crate) trait ConditionError {
    fn is_condition_failure(&self) -> bool;
}

macro_rules! condition_error {
    ($($ty:ty => $check:ident),* $(,)?) => {
        $(impl ConditionError for $ty {
            fn is_condition_failure(&self) -> bool {
                self.$check()
            }
        })*
    };
}

condition_error! {
    aws_sdk_dynamodb::operation::put_item::PutItemError => is_conditional_check_failed_exception,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError => is_conditional_check_failed_exception,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError => is_conditional_check_failed_exception,
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError => is_transaction_canceled_exception,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Store { client, table: table.into() }
    }

    /// Builds the client from the environment (`AWS_ENDPOINT_URL_DYNAMODB` points it at a local
    /// server). Call once at start-up and share.
    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::load_from_env().await;
        Store::new(Client::new(&config), table)
    }

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

pub(crate) fn get_s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Malformed(format!("missing string attribute {name}"))),
    }
}

pub(crate) fn get_opt_s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

pub(crate) fn get_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => {
            v.parse().map_err(|_| StoreError::Malformed(format!("bad number in {name}")))
        }
        _ => Err(StoreError::Malformed(format!("missing number attribute {name}"))),
    }
}

pub(crate) fn get_opt_n(item: &Item, name: &str) -> Option<i64> {
    get_n(item, name).ok()
}
