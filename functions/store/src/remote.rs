//! Remote sessions (Take Control / RBM) as records: `ACCOUNT#<a>` / `REMOTE#<time>#<id>`.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use domain::UnixTime;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{Store, StoreError, conditional, n, s};
use crate::keys::{PK, SK};
use crate::users::account_pk;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSession {
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    pub device_id: String,
    /// `domain::remote::SessionKind::code`.
    pub kind: String,
    pub started_at: UnixTime,
    /// Started after the user chose "Activate Later".
    pub deferred: bool,
}

impl Store {
    /// Records a session in one transaction with its audit events, only if the device belongs to
    /// the session's account (its key is under that account). `Conflict`: no such device there.
    pub async fn start_remote_session(
        &self,
        session: &RemoteSession,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Dynamo(e.to_string());
        let device_is_ours = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PK, s(account_pk(&session.account_id)))
            .key(SK, s(format!("DEVICE#{}", session.device_id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build)?;
        let record = Put::builder()
            .table_name(&self.table)
            .item(PK, s(account_pk(&session.account_id)))
            .item(SK, s(format!("REMOTE#{:012}#{}", session.started_at.seconds(), session.id)))
            .item("session_id", s(&session.id))
            .item("user_id", s(&session.user_id))
            .item("device_id", s(&session.device_id))
            .item("kind", s(&session.kind))
            .item("started_at", n(session.started_at.seconds()))
            .item("deferred", AttributeValue::Bool(session.deferred))
            .build()
            .map_err(build)?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(device_is_ours).build())
            .transact_items(TransactWriteItem::builder().put(record).build());
        for event in audit {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(audit_item(event)))
                .build()
                .map_err(build)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        conditional(tx.send().await)?;
        Ok(())
    }
}
