//! TOTP (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, one step of clock drift either way.
//! `totp-rs` computes the codes, generates the secrets and writes the otpauth URL.
//!
//! Replay rule: [`TotpSecret::verify`] answers the time step a code matched; the store keeps the
//! last accepted step per user and writes a new one only if it is strictly later (a conditional
//! write), so a code can never be used twice, nor an older one after a newer.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::UnixTime;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: usize = 6;
/// Steps accepted either side of now: phones' clocks drift.
pub const DRIFT_STEPS: i64 = 1;

/// A TOTP shared secret of 160 bits, as RFC 4226 recommends. Never printed: `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("The code must be 6 digits.")]
    Malformed,
    #[error(
        "That code is not valid. Check that the time on your phone is set automatically, then try the newest code."
    )]
    Wrong,
    #[error("That code was already used. Wait for the next code in your authenticator app.")]
    Replayed,
}

impl TotpSecret {
    pub fn generate() -> Self {
        match Secret::generate_secret() {
            Secret::Raw(bytes) => TotpSecret(bytes),
            Secret::Encoded(_) => unreachable!("totp-rs generates raw secrets"),
        }
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        TotpSecret(bytes)
    }

    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads a base32 key as typed (spaces, case and padding do not matter).
    pub fn from_base32(key: &str) -> Option<Self> {
        let key: String =
            key.chars().filter(|c| !c.is_whitespace() && *c != '=').map(|c| c.to_ascii_uppercase()).collect();
        BASE32_NOPAD.decode(key.as_bytes()).ok().filter(|b| !b.is_empty()).map(TotpSecret)
    }

    /// RFC 4648 base32 without padding: what authenticator apps take.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The manual-entry key in groups of four, for reading aloud or typing.
    pub fn grouped_base32(&self) -> String {
        let key = self.to_base32();
        key.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `otpauth://totp/Issuer:account?secret=...&issuer=Issuer` (SHA-1, 6 digits and 30 s are the
    /// URL's defaults, so it leaves them out).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        self.totp(DIGITS, Some(issuer), account).get_url()
    }

    /// The `digits`-digit code for one time step.
    pub fn code_at_step(&self, step: i64, digits: usize) -> String {
        self.totp(digits, None, "").generate(step.max(0) as u64 * STEP_SECONDS as u64)
    }

    /// Checks `code` at `now` and answers the step it matched, which the store then accepts only
    /// if it is later than the last one used (the replay rule).
    pub fn verify(&self, code: &str, now: UnixTime) -> Result<i64, TotpError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let current = step_of(now);
        let mut matched = None;
        // Every candidate step is checked (unlike `TOTP::check`, which also does not say which
        // step matched), so the time taken does not depend on which one matched.
        for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
            let ok: bool = self.code_at_step(step, DIGITS).as_bytes().ct_eq(code.as_bytes()).into();
            if ok && matched.is_none() {
                matched = Some(step);
            }
        }
        matched.ok_or(TotpError::Wrong)
    }

    /// Our parameters for totp-rs. Unchecked: it would refuse RFC 6238's own 8-digit test key
    /// (shorter than 128 bits) and an issuer with a colon; ours are 160 bits and "MSP Dashboard".
    fn totp(&self, digits: usize, issuer: Option<&str>, account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            digits,
            0,
            STEP_SECONDS as u64,
            self.0.clone(),
            issuer.map(str::to_owned),
            account.to_owned(),
        )
    }
}

pub fn step_of(now: UnixTime) -> i64 {
    now.seconds().div_euclid(STEP_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_sha1_test_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = rfc_secret();
        for (time, expected) in vectors {
            assert_eq!(secret.code_at_step(step_of(UnixTime(time)), 8), expected, "T = {time}");
            // The 6-digit code is the same truncation modulo 10^6.
            assert_eq!(secret.code_at_step(step_of(UnixTime(time)), 6), expected[2..], "T = {time}");
        }
    }

    #[test]
    fn accepts_the_current_code_and_one_step_of_drift_either_way() {
        let secret = rfc_secret();
        let now = UnixTime(1_111_111_111);
        let step = step_of(now);
        for s in [step - 1, step, step + 1] {
            assert_eq!(secret.verify(&secret.code_at_step(s, 6), now), Ok(s));
        }
        for s in [step - 2, step + 2] {
            assert_eq!(secret.verify(&secret.code_at_step(s, 6), now), Err(TotpError::Wrong));
        }
    }

    #[test]
    fn malformed_codes_are_refused_before_any_check() {
        let secret = rfc_secret();
        for code in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(secret.verify(code, UnixTime(59)), Err(TotpError::Malformed), "{code}");
        }
        let step = step_of(UnixTime(59));
        let spaced = secret.code_at_step(step, 6);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(secret.verify(&spaced, UnixTime(59)), Ok(step));
    }

    #[test]
    fn secrets_are_160_bits_in_base32_and_never_printed() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.expose_bytes().len(), 20);
        assert_eq!(secret.to_base32().len(), 32);
        assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(rfc_secret().grouped_base32(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert_eq!(TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), Some(rfc_secret()));
        assert_eq!(TotpSecret::from_base32(&secret.to_base32()), Some(secret));
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let uri = rfc_secret().otpauth_uri("MSP Dashboard", "sam@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/MSP%20Dashboard:sam%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=MSP%20Dashboard"
        );
    }
}
