use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

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

