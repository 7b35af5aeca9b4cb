//! Re-encrypting stored TOTP secrets under a new key: every sealed secret, and a conditional write
//! per item so a secret that changed meanwhile (a reset, a new activation) is left alone.

use crate::client::{Item, Store, StoreError, conditional, get_s, s};
use crate::keys::{ACCOUNT_PREFIX, ENROLL_PREFIX, PK, SK};
use crate::operation::Operation;

/// One stored TOTP secret: an active one on a user item, or a pending one in an enrollment.
#[derive(Clone)]
pub struct SealedSecret {
    key: Item,
    attribute: &'static str,
    pub value: String,
    /// The user it belongs to (what it is bound to).
    pub owner: String,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret").field("attribute", &self.attribute).finish_non_exhaustive()
    }
}

const SEALED_ATTRIBUTES: [&str; 2] = ["totp_secret", "pending_secret"];

impl Store {
    /// Every TOTP secret stored on account items (users and enrollments). Login challenges hold
    /// copies for at most 30 minutes and are left to expire.
    pub async fn sealed_secrets(&self) -> Result<Vec<SealedSecret>, StoreError> {
        let db = self.op(Operation::SealedSecrets)?;
        let mut pages = db.scan()
            .table_name(&self.table)
            .filter_expression(
                "begins_with(pk, :account) AND (attribute_exists(totp_secret) OR attribute_exists(pending_secret))",
            )
            .expression_attribute_values(":account", s(ACCOUNT_PREFIX))
            .into_paginator()
            .items()
            .send();
        let mut found = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item?;
            let sk = get_s(&item, SK)?;
            // A user item names its user; an enrollment item is `ENROLL#<user>`.
            let owner = match sk.strip_prefix(ENROLL_PREFIX) {
                Some(user_id) => user_id.to_owned(),
                None => get_s(&item, "user_id")?,
            };
            let key = Item::from([(PK.to_owned(), s(get_s(&item, PK)?)), (SK.to_owned(), s(sk))]);
            for attribute in SEALED_ATTRIBUTES {
                if let Ok(value) = get_s(&item, attribute) {
                    found.push(SealedSecret { key: key.clone(), attribute, value, owner: owner.clone() });
                }
            }
        }
        Ok(found)
    }

    /// Replaces one secret with `resealed`, unless it changed since it was read (`Conflict`).
    pub async fn reseal(&self, secret: &SealedSecret, resealed: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::Reseal)?;
        let result = db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(secret.key.clone()))
            .update_expression("SET #attr = :new")
            .condition_expression("#attr = :old")
            .expression_attribute_names("#attr", secret.attribute)
            .expression_attribute_values(":new", s(resealed))
            .expression_attribute_values(":old", s(&secret.value))
            .send()
            .await;
        conditional(result)?;
        Ok(())
    }
}
