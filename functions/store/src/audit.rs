use domain::UnixTime;

use crate::client::{n, s, Store, StoreError};
use crate::keys::{PK, SK};

/// One security event: who did what to whom, when, from where. Never holds a secret.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub account_id: String,
    pub actor_user_id: Option<String>,
    pub subject_user_id: Option<String>,
    /// Stable event name, e.g. `login.success`.
    pub action: String,
    pub client_ip: String,
    pub at: UnixTime,
    /// Human-readable detail without secrets.
    pub detail: String,
}

impl Store {
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let id = uuid::Uuid::new_v4();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(format!("ACCOUNT#{}#AUDIT", event.account_id)))
            // Zero-padded time first so the sort key orders events by time.
            .item(SK, s(format!("{:012}#{id}", event.at.seconds())))
            .item("action", s(&event.action))
            .item("client_ip", s(&event.client_ip))
            .item("at", n(event.at.seconds()))
            .item("detail", s(&event.detail));
        if let Some(actor) = &event.actor_user_id {
            put = put.item("actor_user_id", s(actor));
        }
        if let Some(subject) = &event.subject_user_id {
            put = put.item("subject_user_id", s(subject));
        }
        put.send().await?;
        Ok(())
    }
}
