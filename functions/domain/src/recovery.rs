//! Recovery codes: 10 single-use codes shown once at activation, stored only as keyed hashes
//! (HMAC-SHA256 under the TOTP key ring, whose keys live in Secrets Manager): a dump of the table
//! alone cannot be searched for codes. Each has 59 random bits (12 characters from a 31-letter
//! alphabet without look-alikes). Sets stored before codes were keyed (plain SHA-256) still work
//! until they are regenerated.

use rand::Rng;

use crate::crypto::Keyring;
use crate::secret::sha256_hex;

pub const COUNT: usize = 10;
const LEN: usize = 12;
/// No 0/O, 1/I/L: codes are read off paper.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// New codes, in three groups of four for reading off paper, e.g. `H7KQ-2MWP-9RTX`.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

/// What a typed code is compared as: case, dashes and spaces do not matter.
pub fn normalise(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_uppercase();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// Whether the input has the shape of a recovery code rather than a 6-digit passcode.
pub fn looks_like_recovery_code(input: &str) -> bool {
    normalise(input).is_some()
}

/// How a new code is stored: its keyed hash under the ring's current key.
pub fn hash(ring: &Keyring, code: &str) -> Option<String> {
    normalise(code).map(|c| ring.mac(c.as_bytes()))
}

/// Every form a typed code may be stored in: keyed under each key of the ring, and the plain
/// SHA-256 of sets stored before codes were keyed.
pub fn stored_forms(ring: &Keyring, code: &str) -> Option<Vec<String>> {
    let code = normalise(code)?;
    let mut forms = ring.macs(code.as_bytes());
    forms.push(sha256_hex(&code));
    Some(forms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_well_formed_codes() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14);
            assert!(looks_like_recovery_code(code));
        }
    }

    const RING: &str = "k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn typing_variations_hash_the_same() {
        let ring = Keyring::parse(RING).unwrap();
        let code = &generate()[0];
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(hash(&ring, code), hash(&ring, &sloppy));
        assert!(hash(&ring, "123456").is_none());
        assert!(!looks_like_recovery_code("123456"));
        assert!(hash(&ring, "OOOO-OOOO-OOOO").is_none());
    }

    #[test]
    fn stored_codes_are_keyed_and_older_plain_hashes_are_still_recognised() {
        let ring = Keyring::parse(RING).unwrap();
        let code = &generate()[0];
        let plain = sha256_hex(&normalise(code).unwrap());
        let stored = hash(&ring, code).unwrap();
        assert_ne!(stored, plain, "not the unkeyed hash");
        assert_eq!(stored_forms(&ring, code).unwrap(), [stored, plain]);
    }
}
