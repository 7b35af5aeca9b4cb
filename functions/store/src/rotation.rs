//! Re-encrypting stored TOTP secrets under a new key: every sealed secret, and a conditional write
//! per item so a secret that changed meanwhile (a reset, a new activation) is left alone.

use serde::Deserialize;

use crate::client::{Item, Store, StoreError, from_item, item_key, outcome, s};
use crate::keys::{ACCOUNT_PREFIX, ENROLL_PREFIX};
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

/// What [`Store::sealed_secrets`] reads of a user or enrollment item (in `SEALED_ATTRIBUTES`'
/// order). No `Debug`: it holds sealed secrets.
#[derive(Deserialize)]
struct SealedItem {
    pk: String,
    sk: String,
    user_id: Option<String>,
    totp_secret: Option<String>,
    pending_secret: Option<String>,
}

/// What [`Store::reseal`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum Reseal {
    Resealed,
    /// The secret changed since it was read (a reset, a new activation): left alone.
    ChangedMeanwhile,
}

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
            let sealed: SealedItem = from_item(item?)?;
            // A user item names its user; an enrollment item is `ENROLL#<user>`.
            let owner = match (sealed.sk.strip_prefix(ENROLL_PREFIX), sealed.user_id) {
                (Some(user_id), _) => user_id.to_owned(),
                (None, Some(user_id)) => user_id,
                (None, None) => return Err(StoreError::Malformed("a sealed secret's owner".into())),
            };
            let key = item_key(sealed.pk, sealed.sk);
            let values = [sealed.totp_secret, sealed.pending_secret];
            for (attribute, value) in SEALED_ATTRIBUTES.into_iter().zip(values) {
                if let Some(value) = value {
                    found.push(SealedSecret { key: key.clone(), attribute, value, owner: owner.clone() });
                }
            }
        }
        Ok(found)
    }

    /// Replaces one secret with `resealed`, unless it changed since it was read.
    pub async fn reseal(&self, secret: &SealedSecret, resealed: &str) -> Result<Reseal, StoreError> {
        let db = self.op(Operation::Reseal)?;
        let result = db
            .update(secret.key.clone())
            .update_expression("SET #attr = :new")
            .condition_expression("#attr = :old")
            .expression_attribute_names("#attr", secret.attribute)
            .expression_attribute_values(":new", s(resealed))
            .expression_attribute_values(":old", s(&secret.value))
            .send()
            .await;
        outcome(result, Reseal::Resealed, Reseal::ChangedMeanwhile)
    }
}
