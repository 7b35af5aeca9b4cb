use aws_sdk_dynamodb::types::AttributeValue;
use domain::UnixTime;

use crate::client::{Item, Store, StoreError, get_n, get_s, n, s};
use crate::keys::{EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, PK, SK};

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

impl Store {
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
