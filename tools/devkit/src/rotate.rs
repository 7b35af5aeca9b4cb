//! `devkit reencrypt-totp-secrets`: after a new key was put first in the TOTP key ring, moves
//! every stored secret to it. Safe to run again (secrets already under the current key are
//! skipped) and to interrupt (each secret is one conditional write).

use domain::crypto::Keyring;
use store::{Reseal, Store, StoreError};

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub reencrypted: usize,
    pub already_current: usize,
    /// Changed by a user or an administrator while the run read it: left as it is now.
    pub changed_meanwhile: usize,
    /// Sealed under a key the ring does not hold: reported, never guessed.
    pub unreadable: usize,
}

pub async fn reencrypt(store: &Store, ring: &Keyring) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for secret in store.sealed_secrets().await? {
        if ring.is_current(&secret.value) {
            report.already_current += 1;
            continue;
        }
        let Ok(resealed) = ring.reseal(&secret.value, &secret.owner) else {
            report.unreadable += 1;
            continue;
        };
        match store.reseal(&secret, &resealed).await? {
            Reseal::Resealed => report.reencrypted += 1,
            Reseal::ChangedMeanwhile => report.changed_meanwhile += 1,
        }
    }
    Ok(report)
}
