//! Remote sessions (Take Control / RBM) as records: `ACCOUNT#<a>` / `REMOTE#<time>#<id>`.

use aws_sdk_dynamodb::types::builders::ConditionCheckBuilder;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use domain::UnixTime;
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::client::{
    Item, Store, StoreError, build_error, conditional, item_key, keyed_item, lost_conditions_at, n,
};
use crate::keys::{account_pk, device_sk, remote_sk, user_sk};
use crate::operation::Operation;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSession {
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    pub device_id: String,
    /// `domain::remote::RemoteKind::code`.
    pub kind: String,
    pub started_at: UnixTime,
    /// Started after the user chose "Activate Later".
    pub deferred: bool,
}

/// Why a remote session was not recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum StartError {
    /// The device is not in the session's account.
    NoSuchDevice,
    /// The user's session epoch moved on: the dashboard session has ended.
    SessionEnded,
    Store(StoreError),
}

impl Store {
    /// Records a session in one transaction with its audit events, only if the device belongs to
    /// the session's account (its key is under that account) and, when `user_epoch` is given,
    /// only while the user's session epoch is still that one (the gate's revocation check, at no
    /// extra call).
    pub async fn start_remote_session(
        &self,
        session: &RemoteSession,
        user_epoch: Option<i64>,
        audit: &[AuditEvent],
    ) -> Result<(), StartError> {
        let db = self.op(Operation::StartRemoteSession).map_err(StartError::Store)?;
        let items = self.remote_start_items(session, user_epoch, audit).map_err(StartError::Store)?;
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        // Item 0 is the device check, item 2 the epoch check.
        let lost = lost_conditions_at(&result);
        match conditional(result) {
            Ok(Some(_)) => Ok(()),
            Ok(None) if lost.contains(&2) => Err(StartError::SessionEnded),
            Ok(None) => Err(StartError::NoSuchDevice),
            Err(e) => Err(StartError::Store(e)),
        }
    }

    /// The writes of [`Store::start_remote_session`], in the order its answer reads them.
    fn remote_start_items(
        &self,
        session: &RemoteSession,
        user_epoch: Option<i64>,
        audit: &[AuditEvent],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let account = account_pk(&session.account_id);
        let device_is_ours =
            self.check(item_key(account.clone(), device_sk(&session.device_id)), "attribute_exists(pk)");
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(keyed_item(
                item_key(account.clone(), remote_sk(session.started_at, &session.id)),
                &RemoteItem::of(session),
            )?))
            .build()
            .map_err(build_error)?;
        let mut items = vec![check_item(device_is_ours)?, TransactWriteItem::builder().put(record).build()];
        if let Some(epoch) = user_epoch {
            // Epochs only grow, so an epoch of 0 may still be stored as no attribute at all.
            let condition = if epoch == 0 {
                "attribute_exists(pk) AND (attribute_not_exists(session_epoch) OR session_epoch = :epoch)"
            } else {
                "session_epoch = :epoch"
            };
            let session_counts = self
                .check(item_key(account, user_sk(&session.user_id)), condition)
                .expression_attribute_values(":epoch", n(epoch));
            items.push(check_item(session_counts)?);
        }
        for event in audit {
            items.push(self.audit_put(event)?);
        }
        Ok(items)
    }

    /// A check that the item at `key` meets `condition`, to complete with its values.
    fn check(&self, key: Item, condition: &str) -> ConditionCheckBuilder {
        ConditionCheck::builder().table_name(&self.table).set_key(Some(key)).condition_expression(condition)
    }
}

/// A condition check as a transaction item.
fn check_item(check: ConditionCheckBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder().condition_check(check.build().map_err(build_error)?).build())
}

/// A remote session's item as stored (the key aside: the account and start are in it).
#[derive(Serialize)]
struct RemoteItem<'a> {
    session_id: &'a str,
    user_id: &'a str,
    device_id: &'a str,
    kind: &'a str,
    started_at: UnixTime,
    deferred: bool,
}

impl<'a> RemoteItem<'a> {
    fn of(session: &'a RemoteSession) -> Self {
        RemoteItem {
            session_id: &session.id,
            user_id: &session.user_id,
            device_id: &session.device_id,
            kind: &session.kind,
            started_at: session.started_at,
            deferred: session.deferred,
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::client::{s, stored};

    #[test]
    fn a_remote_session_is_stored_under_its_account_and_start() {
        let session = RemoteSession {
            id: "r1".into(),
            account_id: "a1".into(),
            user_id: "u1".into(),
            device_id: "d1".into(),
            kind: "take_control".into(),
            started_at: UnixTime(60),
            deferred: true,
        };
        let item = keyed_item(Item::new(), &RemoteItem::of(&session)).unwrap();
        let expected = stored(&[
            ("session_id", s("r1")),
            ("user_id", s("u1")),
            ("device_id", s("d1")),
            ("kind", s("take_control")),
            ("started_at", n(60)),
            ("deferred", AttributeValue::Bool(true)),
        ]);
        assert_eq!(item, expected);
    }
}
