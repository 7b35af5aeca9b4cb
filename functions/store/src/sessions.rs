use aws_sdk_dynamodb::types::AttributeValue;
use domain::UnixTime;

use crate::client::{Item, Store, StoreError, get_n, get_s, n, s};
use crate::keys::{EXPIRES_AT, PK, SK};

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
