//! Emailed IP-verification links: `IPLINK#<sha256(token)>`, single use, valid two hours.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use domain::UnixTime;
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::client::{Item, Store, StoreError, item_key, keyed_item, lost_condition, s};
use crate::keys::{IP_LINK_SK, account_pk, ip_link_pk, user_sk};
use crate::operation::Operation;

/// Stored as it is (the key aside).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpLink {
    pub account_id: String,
    pub user_id: String,
    /// The range of the address that logged in: what opening the link verifies.
    pub range: String,
    pub client_ip: String,
    pub expires_at: UnixTime,
    /// The hash of the waiting login it was sent for: it works only while it is that login's
    /// newest link.
    pub challenge: String,
}

pub(crate) fn ip_link_key(token_hash: &str) -> Item {
    item_key(ip_link_pk(token_hash), IP_LINK_SK)
}

pub(crate) fn ip_link_item(token_hash: &str, link: &IpLink) -> Result<Item, StoreError> {
    keyed_item(ip_link_key(token_hash), link)
}

impl Store {
    /// Uses a link: in one transaction the link is deleted (so it works once), its range is added
    /// to the user's verified ranges and the use is audited, so an outage cannot spend a link
    /// without verifying anything. `None`: unknown, used, expired, or no longer its login's
    /// newest link.
    /// `audit` says what to record of it, in the same transaction.
    pub async fn use_ip_link(
        &self,
        token_hash: &str,
        now: UnixTime,
        audit: impl FnOnce(&IpLink) -> AuditEvent,
    ) -> Result<Option<IpLink>, StoreError> {
        let db = self.op(Operation::UseIpLink)?;
        let stored = db.read_record::<IpLink>(ip_link_key(token_hash)).await?;
        let Some(link) = stored.filter(|link| domain::ipcheck::link_valid(link.expires_at, now)) else {
            return Ok(None);
        };
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Dynamo(e.to_string());
        let spend = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(ip_link_key(token_hash)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build)?;
        let trust = self
            .transact_update(item_key(account_pk(&link.account_id), user_sk(&link.user_id)))
            .update_expression("ADD ip_ranges :range")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":range", AttributeValue::Ss(vec![link.range.clone()]))
            .build()
            .map_err(build)?;
        // Only the newest link of a login still waiting works (a resend revokes the earlier ones);
        // the waiting login is marked verified, so its polls need read nothing else.
        let newest = self
            .transact_update(crate::challenges::challenge_key(&link.challenge))
            .update_expression("SET verified = :yes")
            .condition_expression("link = :link")
            .expression_attribute_values(":link", s(token_hash))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .build()
            .map_err(build)?;
        let result = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(spend).build())
            .transact_items(TransactWriteItem::builder().update(trust).build())
            .transact_items(self.audit_put(&audit(&link))?)
            .transact_items(TransactWriteItem::builder().update(newest).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(link)),
            // Used by a concurrent request, or the user is gone.
            Err(err) if lost_condition(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{from_item, n, stored};
    use crate::keys::{EXPIRES_AT, PK, SK};

    #[test]
    fn a_link_is_stored_as_it_is_and_read_back() {
        let link = IpLink {
            account_id: "a1".into(),
            user_id: "u1".into(),
            range: "192.0.2.0/24".into(),
            client_ip: "192.0.2.1".into(),
            expires_at: UnixTime(7_200),
            challenge: "c1".into(),
        };
        let item = ip_link_item("h", &link).unwrap();
        let expected = stored(&[
            (PK, s("IPLINK#h")),
            (SK, s("IPLINK")),
            ("account_id", s("a1")),
            ("user_id", s("u1")),
            ("range", s("192.0.2.0/24")),
            ("client_ip", s("192.0.2.1")),
            (EXPIRES_AT, n(7_200)),
            ("challenge", s("c1")),
        ]);
        assert_eq!(item, expected);
        assert_eq!(from_item::<IpLink>(item).unwrap(), link);
    }
}
