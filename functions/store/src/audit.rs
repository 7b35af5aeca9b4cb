use aws_sdk_dynamodb::types::AttributeValue;
use domain::UnixTime;

use crate::client::{Item, Store, StoreError, get_n, get_opt_n, get_opt_s, get_s, n, s};
use crate::keys::{EXPIRES_AT, PK, SK, audit_pk};
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

pub(crate) fn audit_item(event: &AuditEvent) -> Item {
    let id = uuid::Uuid::new_v4();
    // Events in the same second keep their order: the write time in nanoseconds breaks ties.
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let mut item = Item::from([
        (PK.to_owned(), s(audit_pk(&event.account_id))),
        // Zero-padded time first so the sort key orders events by time.
        (SK.to_owned(), s(format!("{:012}#{nanos:020}#{id}", event.at.seconds()))),
        ("action".to_owned(), s(&event.action)),
        ("client_ip".to_owned(), s(&event.client_ip)),
        ("at".to_owned(), n(event.at.seconds())),
        ("detail".to_owned(), s(&event.detail)),
    ]);
    if let Some(until) = event.keep_until {
        item.insert(EXPIRES_AT.to_owned(), n(until.seconds()));
    }
    if let Some(actor) = &event.actor_user_id {
        item.insert("actor_user_id".to_owned(), s(actor));
    }
    if let Some(subject) = &event.subject_user_id {
        item.insert("subject_user_id".to_owned(), s(subject));
    }
    if let Some(device) = &event.device_id {
        item.insert("device_id".to_owned(), s(device));
    }
    item
}

impl Store {
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let db = self.op(Operation::RecordAudit)?;
        db.put_item().table_name(&self.table).set_item(Some(audit_item(event))).send().await?;
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
                events.push(event_from_item(account_id, &item)?);
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
        out.items.unwrap_or_default().iter().map(|item| event_from_item(account_id, item)).collect()
    }
}

fn event_from_item(account_id: &str, item: &Item) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        account_id: account_id.to_owned(),
        actor_user_id: get_opt_s(item, "actor_user_id"),
        subject_user_id: get_opt_s(item, "subject_user_id"),
        action: get_s(item, "action")?,
        client_ip: get_s(item, "client_ip")?,
        at: UnixTime(get_n(item, "at")?),
        detail: get_s(item, "detail")?,
        device_id: get_opt_s(item, "device_id"),
        keep_until: get_opt_n(item, EXPIRES_AT).map(UnixTime),
    })
}
