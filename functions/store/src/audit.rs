use domain::UnixTime;

use crate::client::{Item, Store, StoreError, get_n, get_opt_s, get_s, n, s};
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

pub(crate) fn audit_item(event: &AuditEvent) -> Item {
    let id = uuid::Uuid::new_v4();
    let mut item = Item::from([
        (PK.to_owned(), s(format!("ACCOUNT#{}#AUDIT", event.account_id))),
        // Zero-padded time first so the sort key orders events by time.
        (SK.to_owned(), s(format!("{:012}#{id}", event.at.seconds()))),
        ("action".to_owned(), s(&event.action)),
        ("client_ip".to_owned(), s(&event.client_ip)),
        ("at".to_owned(), n(event.at.seconds())),
        ("detail".to_owned(), s(&event.detail)),
    ]);
    if let Some(actor) = &event.actor_user_id {
        item.insert("actor_user_id".to_owned(), s(actor));
    }
    if let Some(subject) = &event.subject_user_id {
        item.insert("subject_user_id".to_owned(), s(subject));
    }
    item
}

impl Store {
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(audit_item(event))).send().await?;
        Ok(())
    }

    /// The account's audit events, newest first (at most `limit`).
    pub async fn list_audit(&self, account_id: &str, limit: i32) -> Result<Vec<AuditEvent>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("ACCOUNT#{account_id}#AUDIT")))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                Ok(AuditEvent {
                    account_id: account_id.to_owned(),
                    actor_user_id: get_opt_s(item, "actor_user_id"),
                    subject_user_id: get_opt_s(item, "subject_user_id"),
                    action: get_s(item, "action")?,
                    client_ip: get_s(item, "client_ip")?,
                    at: UnixTime(get_n(item, "at")?),
                    detail: get_s(item, "detail")?,
                })
            })
            .collect()
    }
}
