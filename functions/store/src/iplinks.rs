//! Emailed IP-verification links: `IPLINK#<sha256(token)>`, single use, valid two hours.

use aws_sdk_dynamodb::types::ReturnValue;
use domain::UnixTime;

use crate::client::{Store, StoreError, get_n, get_s, lost_condition, n, s};
use crate::keys::{EXPIRES_AT, PK, SK};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpLink {
    pub account_id: String,
    pub user_id: String,
    /// The range of the address that logged in: what opening the link verifies.
    pub range: String,
    pub client_ip: String,
    pub expires_at: UnixTime,
}

fn link_pk(token_hash: &str) -> String {
    format!("IPLINK#{token_hash}")
}

impl Store {
    pub async fn create_ip_link(&self, token_hash: &str, link: &IpLink) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(link_pk(token_hash)))
            .item(SK, s("IPLINK"))
            .item("account_id", s(&link.account_id))
            .item("user_id", s(&link.user_id))
            .item("range", s(&link.range))
            .item("client_ip", s(&link.client_ip))
            .item(EXPIRES_AT, n(link.expires_at.seconds()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// Uses a link: deleted in the same call, so it works once. `None`: unknown, used or expired.
    pub async fn take_ip_link(&self, token_hash: &str, now: UnixTime) -> Result<Option<IpLink>, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(link_pk(token_hash)))
            .key(SK, s("IPLINK"))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let item = match result {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err) if lost_condition(&err) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let link = IpLink {
            account_id: get_s(&item, "account_id")?,
            user_id: get_s(&item, "user_id")?,
            range: get_s(&item, "range")?,
            client_ip: get_s(&item, "client_ip")?,
            expires_at: UnixTime(get_n(&item, EXPIRES_AT)?),
        };
        Ok(domain::ipcheck::link_valid(link.expires_at, now).then_some(link))
    }
}
