//! Bearer secrets (the session and login cookies, IP verification links): 256 random bits, given
//! to the browser once, stored only as a SHA-256 hash. The database lookup is by hash, so no
//! comparison of the secret itself happens.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct BearerToken(String);

impl BearerToken {
    /// 32 random bytes from the OS, hex-encoded for the cookie.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        BearerToken(hex::encode(bytes))
    }

    /// Accepts a token from a cookie only if it has the shape we issue.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| BearerToken(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks up.
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_unique_and_redacted() {
        let a = BearerToken::generate();
        let b = BearerToken::generate();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "BearerToken(<redacted>)");
        assert_ne!(a.hash(), a.expose());
        assert_eq!(a.hash(), BearerToken::parse(a.expose()).unwrap().hash());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(BearerToken::parse("").is_none());
        assert!(BearerToken::parse(&"g".repeat(64)).is_none());
        assert!(BearerToken::parse(&"A".repeat(64)).is_none());
        assert!(BearerToken::parse(&"a".repeat(63)).is_none());
    }
}
