use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use domain::UnixTime;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{Item, Store, StoreError, build_error, conditional, get_n, get_s, n, s};
use crate::keys::{EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, PK, SK};
use crate::users::{account_pk, user_sk};

/// A signed-in browser. Stored under the SHA-256 of its token; the token itself is never stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user_id: String,
    pub account_id: String,
    pub expires_at: UnixTime,
    /// Logged in with 2FA. Sessions are revoked whenever a user's 2FA is lowered or reset, so
    /// this stays true for the session's life and lets the remote-session gate skip reading the
    /// user.
    pub two_factor: bool,
}

fn session_pk(token_hash: &str) -> String {
    format!("SESSION#{token_hash}")
}

pub(crate) fn session_item(token_hash: &str, session: &Session) -> Item {
    Item::from([
        (PK.to_owned(), s(session_pk(token_hash))),
        (SK.to_owned(), s("SESSION")),
        ("user_id".to_owned(), s(&session.user_id)),
        ("account_id".to_owned(), s(&session.account_id)),
        (EXPIRES_AT.to_owned(), n(session.expires_at.seconds())),
        ("two_factor".to_owned(), AttributeValue::Bool(session.two_factor)),
        // Indexed by user, so all of a user's sessions can be ended at once.
        (GSI1_PK.to_owned(), s(format!("SESSIONS#{}", session.user_id))),
        (GSI1_SK.to_owned(), s(session_pk(token_hash))),
    ])
}

/// The writes that complete a login: its session starts, the user's last login is noted, and the
/// login is audited.
pub(crate) fn sign_in_items(
    table: &str,
    session_hash: &str,
    session: &Session,
    audit: &AuditEvent,
) -> Result<[TransactWriteItem; 3], StoreError> {
    let start = Put::builder()
        .table_name(table)
        .set_item(Some(session_item(session_hash, session)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(build_error)?;
    let note = Update::builder()
        .table_name(table)
        .key(PK, s(account_pk(&session.account_id)))
        .key(SK, s(user_sk(&session.user_id)))
        .update_expression("SET last_login = :now")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":now", n(audit.at.seconds()))
        .build()
        .map_err(build_error)?;
    let record =
        Put::builder().table_name(table).set_item(Some(audit_item(audit))).build().map_err(build_error)?;
    Ok([
        TransactWriteItem::builder().put(start).build(),
        TransactWriteItem::builder().update(note).build(),
        TransactWriteItem::builder().put(record).build(),
    ])
}

impl Store {
    /// Completes a login in one transaction ([`sign_in_items`]): all of it or, in an outage,
    /// none of it.
    pub async fn sign_in(
        &self,
        session_hash: &str,
        session: &Session,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let items = sign_in_items(&self.table, session_hash, session, audit)?;
        conditional(self.client.transact_write_items().set_transact_items(Some(items.into())).send().await)?;
        Ok(())
    }

    pub async fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(token_hash, session)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// The session for a token hash, if it exists and has not expired at `now`.
    pub async fn get_session(&self, token_hash: &str, now: UnixTime) -> Result<Option<Session>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(session_pk(token_hash)))
            .key(SK, s("SESSION"))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let session = Session {
            user_id: get_s(&item, "user_id")?,
            account_id: get_s(&item, "account_id")?,
            expires_at: UnixTime(get_n(&item, EXPIRES_AT)?),
            two_factor: matches!(item.get("two_factor"), Some(AttributeValue::Bool(true))),
        };
        Ok((now < session.expires_at).then_some(session))
    }

    /// Ends every session of a user (after their 2FA is lowered or reset). Returns how many.
    pub async fn revoke_sessions(&self, user_id: &str) -> Result<usize, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", s(format!("SESSIONS#{user_id}")))
            .into_paginator()
            .items()
            .send();
        let mut count = 0;
        while let Some(item) = pages.next().await {
            let item = item?;
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(PK, s(get_s(&item, PK)?))
                .key(SK, s(get_s(&item, SK)?))
                .send()
                .await?;
            count += 1;
        }
        Ok(count)
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(session_pk(token_hash)))
            .key(SK, s("SESSION"))
            .send()
            .await?;
        Ok(())
    }
}
