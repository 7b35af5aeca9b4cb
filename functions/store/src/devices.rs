use crate::client::{Item, Store, StoreError, get_s, s};
use crate::keys::{DEVICE_PREFIX, PK, SK, account_pk, device_sk};
use crate::operation::Operation;

/// A managed device a technician can connect to.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub customer: String,
    pub os: String,
}

impl Store {
    pub async fn put_device(&self, device: &Device) -> Result<(), StoreError> {
        let db = self.op(Operation::PutDevice)?;
        db.put_item()
            .table_name(&self.table)
            .item(PK, s(account_pk(&device.account_id)))
            .item(SK, s(device_sk(&device.id)))
            .item("device_id", s(&device.id))
            .item("account_id", s(&device.account_id))
            .item("name", s(&device.name))
            .item("customer", s(&device.customer))
            .item("os", s(&device.os))
            .send()
            .await?;
        Ok(())
    }

    /// Every device of one account, in name order. One query per page of 1 MB.
    pub async fn list_devices(&self, account_id: &str) -> Result<Vec<Device>, StoreError> {
        let db = self.op(Operation::ListDevices)?;
        let mut devices = Vec::new();
        let mut pages = self.query_account(db, account_id, DEVICE_PREFIX).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            devices.push(device_from_item(&item?)?);
        }
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devices)
    }
}

fn device_from_item(item: &Item) -> Result<Device, StoreError> {
    Ok(Device {
        id: get_s(item, "device_id")?,
        account_id: get_s(item, "account_id")?,
        name: get_s(item, "name")?,
        customer: get_s(item, "customer")?,
        os: get_s(item, "os")?,
    })
}
