use serde::{Deserialize, Serialize};

use crate::client::{Store, StoreError, from_item, item_key, keyed_item};
use crate::keys::{DEVICE_PREFIX, account_pk, device_sk};
use crate::operation::Operation;

/// A managed device a technician can connect to; stored as it is (the key aside).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    #[serde(rename = "device_id")]
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub customer: String,
    pub os: String,
}

impl Store {
    pub async fn put_device(&self, device: &Device) -> Result<(), StoreError> {
        let db = self.op(Operation::PutDevice)?;
        let key = item_key(account_pk(&device.account_id), device_sk(&device.id));
        db.put_item().table_name(&self.table).set_item(Some(keyed_item(key, device)?)).send().await?;
        Ok(())
    }

    /// Every device of one account, in name order. One query per page of 1 MB.
    pub async fn list_devices(&self, account_id: &str) -> Result<Vec<Device>, StoreError> {
        let db = self.op(Operation::ListDevices)?;
        let mut devices = Vec::new();
        let mut pages = self.query_account(db, account_id, DEVICE_PREFIX).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            devices.push(from_item::<Device>(item?)?);
        }
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{s, stored};

    #[test]
    fn a_device_is_stored_as_it_is_and_read_back() {
        let device = Device {
            id: "d1".into(),
            account_id: "a1".into(),
            name: "Reception PC".into(),
            customer: "Acme".into(),
            os: "Windows 11".into(),
        };
        let item = keyed_item(crate::client::Item::new(), &device).unwrap();
        assert_eq!(from_item::<Device>(item.clone()).unwrap(), device);
        let attributes = [("device_id", "d1"), ("account_id", "a1"), ("name", "Reception PC")];
        let more = [("customer", "Acme"), ("os", "Windows 11")];
        let expected: Vec<_> = attributes.into_iter().chain(more).map(|(a, v)| (a, s(v))).collect();
        assert_eq!(item, stored(&expected));
    }
}
