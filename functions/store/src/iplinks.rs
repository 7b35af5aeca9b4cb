//! Emailed IP-verification links: `IPLINK#<sha256(token)>`, single use, valid two hours.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use domain::UnixTime;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{Item, Store, StoreError, get_n, get_s, lost_condition, n, s};
use crate::keys::{EXPIRES_AT, IP_LINK_SK, PK, SK, account_pk, ip_link_pk, user_sk};
use crate::operation::Operation;

#[derive(Clone, Debug, PartialEq, Eq)]
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
    Item::from([(PK.to_owned(), s(ip_link_pk(token_hash))), (SK.to_owned(), s(IP_LINK_SK))])
}

pub(crate) fn ip_link_item(token_hash: &str, link: &IpLink) -> Item {
    let mut item = ip_link_key(token_hash);
    item.extend([
        ("account_id".to_owned(), s(&link.account_id)),
        ("user_id".to_owned(), s(&link.user_id)),
        ("range".to_owned(), s(&link.range)),
        ("client_ip".to_owned(), s(&link.client_ip)),
        (EXPIRES_AT.to_owned(), n(link.expires_at.seconds())),
        ("challenge".to_owned(), s(&link.challenge)),
    ]);
    item
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
        let out = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(ip_link_pk(token_hash)))
            .key(SK, s(IP_LINK_SK))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else { return Ok(None) };
        let link = IpLink {
            account_id: get_s(&item, "account_id")?,
            user_id: get_s(&item, "user_id")?,
            range: get_s(&item, "range")?,
            client_ip: get_s(&item, "client_ip")?,
            expires_at: UnixTime(get_n(&item, EXPIRES_AT)?),
            challenge: get_s(&item, "challenge")?,
        };
        if !domain::ipcheck::link_valid(link.expires_at, now) {
            return Ok(None);
        }
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Dynamo(e.to_string());
        let spend = Delete::builder()
            .table_name(&self.table)
            .key(PK, s(ip_link_pk(token_hash)))
            .key(SK, s(IP_LINK_SK))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build)?;
        let trust = Update::builder()
            .table_name(&self.table)
            .key(PK, s(account_pk(&link.account_id)))
            .key(SK, s(user_sk(&link.user_id)))
            .update_expression("ADD ip_ranges :range")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":range", AttributeValue::Ss(vec![link.range.clone()]))
            .build()
            .map_err(build)?;
        // Only the newest link of a login still waiting works (a resend revokes the earlier ones);
        // the waiting login is marked verified, so its polls need read nothing else.
        let newest = Update::builder()
            .table_name(&self.table)
            .set_key(Some(crate::challenges::challenge_key(&link.challenge)))
            .update_expression("SET verified = :yes")
            .condition_expression("link = :link")
            .expression_attribute_values(":link", s(token_hash))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .build()
            .map_err(build)?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(&audit(&link))))
            .build()
            .map_err(build)?;
        let result = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(spend).build())
            .transact_items(TransactWriteItem::builder().update(trust).build())
            .transact_items(TransactWriteItem::builder().put(record).build())
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
