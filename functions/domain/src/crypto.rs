//! Encryption at rest for TOTP secrets: AES-256-GCM with keys from configuration.
//!
//! A ciphertext is `<key id>:<nonce hex>:<ciphertext hex>`. The keyring has one current key that
//! encrypts, and older keys that still decrypt, so a key can be rotated without locking anyone
//! out: add the new key first in the list, keep the old one after it, and re-encrypt at leisure.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

#[derive(Clone)]
pub struct Keyring {
    /// First is current.
    keys: Vec<(String, Key<Aes256Gcm>)>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "Keyring(ids = {ids:?}, keys = <redacted>)")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the key configuration must be `id:64 hex digits[,id:...]`")]
    BadKeyConfig,
    #[error("the key id {0} is given twice")]
    DuplicateKeyId(String),
    #[error("the ciphertext is malformed")]
    Malformed,
    #[error("no key with id {0}")]
    UnknownKey(String),
    #[error("decryption failed")]
    Decrypt,
}

impl Keyring {
    /// Parses `id:hex[,id:hex...]` (the first key is current). Ids are short names like `k2026`.
    pub fn parse(config: &str) -> Result<Self, CryptoError> {
        let keys = config
            .split(',')
            .map(|entry| {
                let (id, hex_key) = entry.trim().split_once(':').ok_or(CryptoError::BadKeyConfig)?;
                let bytes = hex::decode(hex_key).map_err(|_| CryptoError::BadKeyConfig)?;
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) || bytes.len() != 32 {
                    return Err(CryptoError::BadKeyConfig);
                }
                Ok((id.to_owned(), *Key::<Aes256Gcm>::from_slice(&bytes)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(CryptoError::BadKeyConfig);
        }
        // Each stored secret names its key: two keys with one id would make that name ambiguous.
        if let Some((id, _)) = keys.iter().enumerate().find_map(|(i, (id, _))| {
            keys[..i].iter().any(|(earlier, _)| earlier == id).then_some((id.clone(), ()))
        }) {
            return Err(CryptoError::DuplicateKeyId(id));
        }
        Ok(Keyring { keys })
    }

    /// Whether `stored` is sealed under the current key and bound to its owner (nothing left to
    /// re-encrypt).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(BOUND)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.keys[0].0)
    }

    /// `stored`, opened with whichever key sealed it and sealed again under the current key.
    pub fn reseal(&self, stored: &str, owner: &str) -> Result<String, CryptoError> {
        Ok(self.seal(&self.open(stored, owner)?, owner))
    }

    /// Encrypts `plaintext` under the current key, bound to `owner` (the user id) and the key id
    /// as associated data: a ciphertext copied to another user's item does not open there.
    pub fn seal(&self, plaintext: &[u8], owner: &str) -> String {
        let (id, key) = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(owner, id);
        let ciphertext = Aes256Gcm::new(key)
            .encrypt(&nonce, Payload { msg: plaintext, aad: aad.as_bytes() })
            .expect("AES-GCM encryption of a short secret cannot fail");
        format!("{BOUND}{id}:{}:{}", hex::encode(nonce), hex::encode(ciphertext))
    }

    /// Decrypts what [`Keyring::seal`] sealed for `owner`. A secret sealed before secrets were bound
    /// to their owner (no `v2:`) still opens, until `devkit reencrypt-totp-secrets` reseals it.
    pub fn open(&self, stored: &str, owner: &str) -> Result<Vec<u8>, CryptoError> {
        let (bound, rest) = match stored.strip_prefix(BOUND) {
            Some(rest) => (true, rest),
            None => (false, stored),
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(id), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let nonce = hex::decode(nonce).map_err(|_| CryptoError::Malformed)?;
        let ct = hex::decode(ct).map_err(|_| CryptoError::Malformed)?;
        if nonce.len() != 12 {
            return Err(CryptoError::Malformed);
        }
        let (_, key) = self
            .keys
            .iter()
            .find(|(kid, _)| kid == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let aad = if bound { associated_data(owner, id) } else { String::new() };
        Aes256Gcm::new(key)
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
            .map_err(|_| CryptoError::Decrypt)
    }
}

impl Keyring {
    /// A keyed hash of `data` under the current key, `<key id>:<HMAC-SHA256 hex>`: what is stored
    /// for a value that only has to be recognised (recovery codes), so that a table dump alone
    /// cannot be searched for it.
    pub fn mac(&self, data: &[u8]) -> String {
        let (id, key) = &self.keys[0];
        format!("{id}:{}", hex::encode(mac_under(key, data)))
    }

    /// The keyed hash of `data` under every key of the ring, current first: a value stored before
    /// a rotation is still recognised.
    pub fn macs(&self, data: &[u8]) -> Vec<String> {
        self.keys.iter().map(|(id, key)| format!("{id}:{}", hex::encode(mac_under(key, data)))).collect()
    }

    /// Whether `presented` is the keyed hash of `data` under a key of the ring, compared in
    /// constant time.
    pub fn verify_mac(&self, data: &[u8], presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.macs(data)
            .iter()
            .fold(false, |found, mac| found | bool::from(mac.as_bytes().ct_eq(presented.as_bytes())))
    }
}

/// HMAC-SHA256 with a key derived from the encryption key, so that one key never serves both.
fn mac_under(key: &Key<Aes256Gcm>, data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut derive = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_slice()).expect("any key length");
    derive.update(b"dashboard-2fa keyed hash v1");
    let mac_key = derive.finalize().into_bytes();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&mac_key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Marks a ciphertext bound to its owner and key id.
const BOUND: &str = "v2:";

fn associated_data(owner: &str, key_id: &str) -> String {
    format!("{owner}|{key_id}")
}

#[cfg(test)]
mod mac_tests {
    use super::*;

    #[test]
    fn a_keyed_hash_is_recognised_under_any_key_of_the_ring_and_nothing_else() {
        let old =
            Keyring::parse("old:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap();
        let mac = old.mac(b"data");
        let rotated = Keyring::parse(
            "new:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100,old:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        )
        .unwrap();
        assert!(rotated.verify_mac(b"data", &mac));
        assert!(!rotated.verify_mac(b"other", &mac));
        assert!(!rotated.verify_mac(b"data", &mac[..mac.len() - 1]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "k2:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

    /// How secrets were sealed before they were bound to their owner.
    fn legacy_seal(ring: &Keyring, plaintext: &[u8]) -> String {
        let (id, key) = &ring.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = Aes256Gcm::new(key).encrypt(&nonce, plaintext).unwrap();
        format!("{id}:{}:{}", hex::encode(nonce), hex::encode(ciphertext))
    }

    #[test]
    fn a_key_id_given_twice_is_refused() {
        let twice = format!("{K1},{}", K2.replace("k2:", "k1:"));
        assert_eq!(Keyring::parse(&twice).unwrap_err(), CryptoError::DuplicateKeyId("k1".into()));
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let ring = Keyring::parse(K1).unwrap();
        let sealed = ring.seal(b"super secret", "alice");
        assert!(sealed.starts_with("v2:k1:"));
        assert!(!sealed.contains(&hex::encode(b"super secret")));
        assert_eq!(ring.open(&sealed, "alice").unwrap(), b"super secret");
        // A fresh nonce every time.
        assert_ne!(ring.seal(b"x", "alice"), ring.seal(b"x", "alice"));
    }

    #[test]
    fn a_secret_copied_to_another_user_does_not_open() {
        let ring = Keyring::parse(K1).unwrap();
        let alices = ring.seal(b"alice's secret", "alice");
        assert_eq!(ring.open(&alices, "bob"), Err(CryptoError::Decrypt));
        // Nor under another key id claimed for it.
        let relabelled = alices.replacen("v2:k1:", "v2:k2:", 1);
        let both = Keyring::parse(&format!("{K1},{}", K2)).unwrap();
        assert!(both.open(&relabelled, "alice").is_err());
    }

    #[test]
    fn resealing_moves_a_secret_to_the_current_key_bound_to_its_owner() {
        let old = Keyring::parse(K1).unwrap();
        let rotated = Keyring::parse(&format!("{K2},{K1}")).unwrap();
        for sealed in [old.seal(b"s", "alice"), legacy_seal(&old, b"s")] {
            assert!(!rotated.is_current(&sealed));
            let resealed = rotated.reseal(&sealed, "alice").unwrap();
            assert!(rotated.is_current(&resealed) && resealed.starts_with("v2:k2:"));
            assert_eq!(rotated.open(&resealed, "alice").unwrap(), b"s");
            assert_eq!(
                Keyring::parse(K2).unwrap().reseal(&sealed, "alice"),
                Err(CryptoError::UnknownKey("k1".into()))
            );
        }
        // A legacy secret under the current key still needs binding.
        let legacy_current = legacy_seal(&rotated, b"s");
        assert!(!rotated.is_current(&legacy_current));
        assert_eq!(rotated.open(&legacy_current, "anyone").unwrap(), b"s");
    }

    #[test]
    fn rotation_opens_old_and_seals_with_new() {
        let old = Keyring::parse(K1).unwrap();
        let sealed_old = old.seal(b"secret", "alice");
        let rotated = Keyring::parse(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.open(&sealed_old, "alice").unwrap(), b"secret");
        assert!(rotated.seal(b"secret", "alice").starts_with("v2:k2:"));
        let only_new = Keyring::parse(K2).unwrap();
        assert_eq!(only_new.open(&sealed_old, "alice"), Err(CryptoError::UnknownKey("k1".into())));
    }

    #[test]
    fn keyed_hashes_depend_on_the_key_and_survive_a_rotation() {
        let old = Keyring::parse(K1).unwrap();
        let rotated = Keyring::parse(&format!("{K2},{K1}")).unwrap();
        let stored = old.mac(b"CODE");
        assert!(stored.starts_with("k1:") && stored.len() == 3 + 64);
        assert_ne!(rotated.mac(b"CODE"), stored);
        assert_eq!(rotated.macs(b"CODE"), [rotated.mac(b"CODE"), stored]);
        assert_ne!(old.mac(b"CODE"), old.mac(b"CODF"));
    }

    #[test]
    fn tampering_and_bad_config_are_refused() {
        let ring = Keyring::parse(K1).unwrap();
        let mut sealed = ring.seal(b"secret", "alice");
        let last = sealed.pop().unwrap();
        sealed.push(if last == '0' { '1' } else { '0' });
        assert_eq!(ring.open(&sealed, "alice"), Err(CryptoError::Decrypt));
        assert_eq!(ring.open("nonsense", "alice"), Err(CryptoError::Malformed));
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("k1:abcd").is_err());
        assert!(
            Keyring::parse("k 1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").is_err()
        );
        assert!(!format!("{ring:?}").contains("0001"));
    }
}
