//! Remote sessions (Take Control / RBM) as records: `ACCOUNT#<a>` / `REMOTE#<time>#<id>`.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use domain::UnixTime;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{Store, StoreError, conditional, lost_conditions_at, n, s};
use crate::keys::{PK, SK, account_pk, remote_sk};
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
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| StartError::Store(StoreError::Dynamo(e.to_string()));
        let device_is_ours = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PK, s(account_pk(&session.account_id)))
            .key(SK, s(crate::keys::device_sk(&session.device_id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build)?;
        let record = Put::builder()
            .table_name(&self.table)
            .item(PK, s(account_pk(&session.account_id)))
            .item(SK, s(remote_sk(session.started_at, &session.id)))
            .item("session_id", s(&session.id))
            .item("user_id", s(&session.user_id))
            .item("device_id", s(&session.device_id))
            .item("kind", s(&session.kind))
            .item("started_at", n(session.started_at.seconds()))
            .item("deferred", AttributeValue::Bool(session.deferred))
            .build()
            .map_err(build)?;
        let mut tx = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(device_is_ours).build())
            .transact_items(TransactWriteItem::builder().put(record).build());
        if let Some(epoch) = user_epoch {
            // Epochs only grow, so an epoch of 0 may still be stored as no attribute at all.
            let condition = if epoch == 0 {
                "attribute_exists(pk) AND (attribute_not_exists(session_epoch) OR session_epoch = :epoch)"
            } else {
                "session_epoch = :epoch"
            };
            let session_counts = ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, s(account_pk(&session.account_id)))
                .key(SK, s(crate::keys::user_sk(&session.user_id)))
                .condition_expression(condition)
                .expression_attribute_values(":epoch", n(epoch))
                .build()
                .map_err(build)?;
            tx = tx.transact_items(TransactWriteItem::builder().condition_check(session_counts).build());
        }
        for event in audit {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(audit_item(event)))
                .build()
                .map_err(build)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        let result = tx.send().await;
        // Item 0 is the device check, item 2 the epoch check.
        let lost = lost_conditions_at(&result);
        match conditional(result) {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict) if lost.contains(&2) => Err(StartError::SessionEnded),
            Err(StoreError::Conflict) => Err(StartError::NoSuchDevice),
            Err(e) => Err(StartError::Store(e)),
        }
    }
}
