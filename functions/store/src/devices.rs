use serde::{Deserialize, Serialize};

use crate::client::{Store, StoreError, from_item, item_key, keyed_item};
use crate::keys::{DEVICE_PREFIX, account_pk, device_sk};

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
        let key = item_key(account_pk(&device.account_id), device_sk(&device.id));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keyed_item(key, device)?))
            .send()
            .await?;
        Ok(())
    }

    /// Every device of one account, in name order. One query per page of 1 MB.
    pub async fn list_devices(&self, account_id: &str) -> Result<Vec<Device>, StoreError> {
        let mut devices = Vec::new();
        let mut pages = self.query_account(account_id, DEVICE_PREFIX).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            devices.push(from_item::<Device>(item?)?);
        }
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devices)
    }
}
