//! The handle through which one store operation reaches DynamoDB ([`crate::Store::op`]). It hands
//! out the SDK's own request builders, after checking (in debug builds) that the operation
//! declares the action: release builds pay nothing, and no call is added.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};

use serde::de::DeserializeOwned;

use crate::client::{Item, StoreError, from_item};
use crate::operation::{Action, Operation};

/// One operation's way to DynamoDB. Cheap to copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Db<'a> {
    client: &'a Client,
    table: &'a str,
    operation: Operation,
}

impl<'a> Db<'a> {
    pub(crate) fn new(client: &'a Client, table: &'a str, operation: Operation) -> Self {
        Db { client, table, operation }
    }

    /// The client, for a call of `action`.
    fn client_for(&self, action: Action) -> &'a Client {
        debug_assert!(
            self.operation.actions().contains(&action),
            "the store operation {:?} does not declare {action}",
            self.operation
        );
        self.client
    }

    pub(crate) fn get_item(&self) -> GetItemFluentBuilder {
        self.client_for(Action::GetItem).get_item()
    }

    pub(crate) fn put_item(&self) -> PutItemFluentBuilder {
        self.client_for(Action::PutItem).put_item()
    }

    pub(crate) fn update_item(&self) -> UpdateItemFluentBuilder {
        self.client_for(Action::UpdateItem).update_item()
    }

    pub(crate) fn delete_item(&self) -> DeleteItemFluentBuilder {
        self.client_for(Action::DeleteItem).delete_item()
    }

    /// A query of the table itself.
    pub(crate) fn query(&self) -> QueryFluentBuilder {
        self.client_for(Action::Query).query()
    }

    /// A query of one of the table's indexes.
    pub(crate) fn query_index(&self, index: &str) -> QueryFluentBuilder {
        debug_assert!(
            self.operation.indexes().contains(&index),
            "the store operation {:?} does not declare the index {index}",
            self.operation
        );
        self.query().index_name(index)
    }

    pub(crate) fn scan(&self) -> ScanFluentBuilder {
        self.client_for(Action::Scan).scan()
    }

    pub(crate) fn transact_write_items(&self) -> Transaction {
        Transaction {
            operation: self.operation,
            call: self.client_for(Action::TransactWriteItems).transact_write_items(),
        }
    }

    /// The record stored at `key`, read strongly consistent (`None`: there is none).
    pub(crate) async fn read_record<T: DeserializeOwned>(&self, key: Item) -> Result<Option<T>, StoreError> {
        let out =
            self.get_item().table_name(self.table).set_key(Some(key)).consistent_read(true).send().await?;
        out.item.map(from_item).transpose()
    }

    /// An update of the item at `key`, to complete with what it sets and its condition.
    pub(crate) fn update(&self, key: Item) -> UpdateItemFluentBuilder {
        self.update_item().table_name(self.table).set_key(Some(key))
    }

    /// The same with what it sets (`expression`), the `condition` it needs, and the `values` of
    /// their placeholders.
    pub(crate) fn update_where(
        &self,
        key: Item,
        expression: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> UpdateItemFluentBuilder {
        let update = self.update(key).update_expression(expression).condition_expression(condition);
        values
            .into_iter()
            .fold(update, |update, (name, value)| update.expression_attribute_values(name, value))
    }

    /// Deletes the item at `key`, if there is one.
    pub(crate) async fn delete(&self, key: Item) -> Result<(), StoreError> {
        self.delete_item().table_name(self.table).set_key(Some(key)).send().await?;
        Ok(())
    }

    /// Reads `keys` strongly consistent in one `BatchGetItem`, asking again for any keys DynamoDB
    /// left unprocessed (it does so under load), a few times with a growing pause.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let client = self.client_for(Action::BatchGetItem);
        let mut items = Vec::with_capacity(keys.len());
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Dynamo(e.to_string()))?,
        );
        for round in 0..4u32 {
            let Some(request) = pending.take() else { break };
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << round)).await;
            }
            let out = client.batch_get_item().request_items(self.table, request).send().await?;
            items.extend(out.responses.and_then(|mut r| r.remove(self.table)).unwrap_or_default());
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(self.table));
        }
        match pending {
            None => Ok(items),
            Some(_) => Err(StoreError::Unavailable("BatchGetItem kept leaving keys unprocessed".into())),
        }
    }
}

/// A `TransactWriteItems` call being built, as the SDK builds it; sending it checks (in debug
/// builds) that the operation declares the kind of each item (a put, an update, a delete or a
/// condition check).
pub(crate) struct Transaction {
    operation: Operation,
    call: TransactWriteItemsFluentBuilder,
}

impl Transaction {
    pub(crate) fn transact_items(self, item: TransactWriteItem) -> Self {
        Transaction { call: self.call.transact_items(item), ..self }
    }

    pub(crate) fn set_transact_items(self, items: Option<Vec<TransactWriteItem>>) -> Self {
        Transaction { call: self.call.set_transact_items(items), ..self }
    }

    pub(crate) async fn send(
        self,
    ) -> Result<TransactWriteItemsOutput, SdkError<TransactWriteItemsError, HttpResponse>> {
        if cfg!(debug_assertions) {
            for kind in self.call.get_transact_items().iter().flatten().flat_map(kinds) {
                assert!(
                    self.operation.actions().contains(&kind),
                    "the store operation {:?} does not declare {kind} in its transaction",
                    self.operation
                );
            }
        }
        self.call.send().await
    }
}

/// What a transaction item does, as the action IAM checks for it.
fn kinds(item: &TransactWriteItem) -> impl Iterator<Item = Action> {
    [
        item.put().map(|_| Action::PutItem),
        item.update().map(|_| Action::UpdateItem),
        item.delete().map(|_| Action::DeleteItem),
        item.condition_check().map(|_| Action::ConditionCheckItem),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::{ConditionCheck, Put};

    use super::*;
    use crate::Store;

    fn store() -> Store {
        let config = aws_sdk_dynamodb::Config::builder().behavior_version_latest().build();
        Store::new(Client::from_conf(config), "table")
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "GetUser does not declare PutItem")]
    fn a_call_the_operation_does_not_declare_panics() {
        let store = store();
        let _ = store.op(Operation::GetUser).unwrap().put_item();
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "ListAudit does not declare the index gsi2")]
    fn an_index_the_operation_does_not_declare_panics() {
        let store = store();
        let _ = store.op(Operation::ListAudit).unwrap().query_index("gsi2");
    }

    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "ApplyAdminAction does not declare ConditionCheckItem in its transaction")]
    async fn a_transaction_item_of_a_kind_the_operation_does_not_declare_panics() {
        let store = store();
        let db = store.op(Operation::ApplyAdminAction).unwrap();
        let key =
            Item::from([("pk".to_owned(), crate::client::s("x")), ("sk".to_owned(), crate::client::s("x"))]);
        let put = Put::builder().table_name("table").set_item(Some(key.clone())).build().unwrap();
        let check = ConditionCheck::builder()
            .table_name("table")
            .set_key(Some(key))
            .condition_expression("attribute_exists(pk)")
            .build()
            .unwrap();
        let _ = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .send()
            .await;
    }

    #[test]
    fn a_store_given_to_a_function_runs_what_the_function_declares() {
        let store = store().restricted_to(&[&[Operation::GetUser], &[Operation::RecordAudit]]);
        assert!(store.op(Operation::GetUser).is_ok() && store.op(Operation::RecordAudit).is_ok());
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "this function does not declare the store operation PutDevice")]
    fn a_store_given_to_a_function_refuses_what_the_function_does_not_declare() {
        let _ = store().restricted_to(&[&[Operation::GetUser]]).op(Operation::PutDevice);
    }

    #[cfg(not(debug_assertions))]
    #[test]
    fn a_store_given_to_a_function_refuses_what_the_function_does_not_declare() {
        let refused = store().restricted_to(&[&[Operation::GetUser]]).op(Operation::PutDevice).unwrap_err();
        assert_eq!(refused, StoreError::AccessDenied(Operation::PutDevice));
    }
}
