use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use domain::UnixTime;
use serde::{Deserialize, Serialize};

use crate::client::{Item, Store, StoreError, build_error, from_item, item_key, keyed_item, s};
use crate::keys::{PK, SK, audit_pk};
use crate::operation::Operation;

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
    /// Human-readable detail without secrets; `{device}` stands for the device's name.
    pub detail: String,
    /// The device the event is about, named in `detail` as the dashboard names it when read.
    pub device_id: Option<String>,
    /// The table's TTL removes the event after this; `None`: kept.
    pub keep_until: Option<UnixTime>,
}

/// An audit event's item as stored (the key aside; the account is in the key).
#[derive(Serialize, Deserialize)]
struct AuditItem {
    action: String,
    client_ip: String,
    at: i64,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
}

impl AuditItem {
    fn of(event: &AuditEvent) -> Self {
        AuditItem {
            action: event.action.clone(),
            client_ip: event.client_ip.clone(),
            at: event.at.seconds(),
            detail: event.detail.clone(),
            expires_at: event.keep_until.map(UnixTime::seconds),
            actor_user_id: event.actor_user_id.clone(),
            subject_user_id: event.subject_user_id.clone(),
            device_id: event.device_id.clone(),
        }
    }

    fn into_event(self, account_id: &str) -> AuditEvent {
        AuditEvent {
            account_id: account_id.to_owned(),
            actor_user_id: self.actor_user_id,
            subject_user_id: self.subject_user_id,
            action: self.action,
            client_ip: self.client_ip,
            at: UnixTime(self.at),
            detail: self.detail,
            device_id: self.device_id,
            keep_until: self.expires_at.map(UnixTime),
        }
    }
}

pub(crate) fn audit_item(event: &AuditEvent) -> Result<Item, StoreError> {
    let id = uuid::Uuid::new_v4();
    // Events in the same second keep their order: the write time in nanoseconds breaks ties.
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    // Zero-padded time first so the sort key orders events by time.
    let sk = format!("{:012}#{nanos:020}#{id}", event.at.seconds());
    keyed_item(item_key(audit_pk(&event.account_id), sk), &AuditItem::of(event))
}

impl Store {
    /// The transaction item that records `event` with the change it is about.
    pub(crate) fn audit_put(&self, event: &AuditEvent) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(event)?))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl Store {
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let db = self.op(Operation::RecordAudit)?;
        db.put_item().table_name(&self.table).set_item(Some(audit_item(event)?)).send().await?;
        Ok(())
    }

    /// One page of the account's audit events, newest first, optionally only those about (or by)
    /// one user and of one action. `cursor` continues from a previous page's `next`.
    pub async fn audit_page(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        action: Option<&str>,
        cursor: Option<&str>,
        page_size: usize,
    ) -> Result<(Vec<AuditEvent>, Option<String>), StoreError> {
        let db = self.op(Operation::AuditPage)?;
        let pk = audit_pk(account_id);
        let mut events = Vec::new();
        let mut start = cursor.map(str::to_owned);
        loop {
            let mut query = db
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .scan_index_forward(false)
                .limit((page_size - events.len()) as i32);
            let mut filters = Vec::new();
            if let Some(user) = user_id {
                filters.push("(subject_user_id = :user OR actor_user_id = :user)");
                query = query.expression_attribute_values(":user", s(user));
            }
            if let Some(action) = action {
                filters.push("#action = :action");
                query = query
                    .expression_attribute_names("#action", "action")
                    .expression_attribute_values(":action", s(action));
            }
            if !filters.is_empty() {
                query = query.filter_expression(filters.join(" AND "));
            }
            if let Some(sk) = &start {
                query = query.exclusive_start_key(PK, s(&pk)).exclusive_start_key(SK, s(sk));
            }
            let out = query.send().await?;
            for item in out.items.unwrap_or_default() {
                events.push(from_item::<AuditItem>(item)?.into_event(account_id));
            }
            start = match out.last_evaluated_key.and_then(|k| k.get(SK).cloned()) {
                Some(AttributeValue::S(sk)) => Some(sk),
                _ => None,
            };
            if start.is_none() || events.len() >= page_size {
                return Ok((events, start));
            }
        }
    }

    /// The account's audit events, newest first (at most `limit`).
    pub async fn list_audit(&self, account_id: &str, limit: i32) -> Result<Vec<AuditEvent>, StoreError> {
        let db = self.op(Operation::ListAudit)?;
        let out = db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(audit_pk(account_id)))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await?;
        let events = out.items.unwrap_or_default().into_iter().map(from_item::<AuditItem>);
        events.map(|event| Ok(event?.into_event(account_id))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{n, stored};
    use crate::keys::EXPIRES_AT;

    #[test]
    fn an_event_is_stored_under_its_account_and_time_and_read_back() {
        let event = AuditEvent {
            account_id: "a1".into(),
            actor_user_id: Some("u1".into()),
            subject_user_id: None,
            action: "login.success".into(),
            client_ip: "192.0.2.1".into(),
            at: UnixTime(1_700_000_000),
            detail: "password".into(),
            device_id: None,
            keep_until: Some(UnixTime(1_800_000_000)),
        };
        let mut item = audit_item(&event).unwrap();
        assert_eq!(item.remove(PK), Some(s("ACCOUNT#a1#AUDIT")));
        let sk = item.remove(SK).and_then(|sk| sk.as_s().ok().cloned()).unwrap();
        assert!(sk.starts_with("001700000000#"), "{sk}");
        let expected = stored(&[
            ("action", s("login.success")),
            ("client_ip", s("192.0.2.1")),
            ("at", n(1_700_000_000)),
            ("detail", s("password")),
            (EXPIRES_AT, n(1_800_000_000)),
            ("actor_user_id", s("u1")),
        ]);
        assert_eq!(item, expected);
        assert_eq!(from_item::<AuditItem>(item).unwrap().into_event("a1"), event);
    }
}
