//! TOTP (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, one step of clock drift either way.
//!
//! Replay rule: the store keeps the last accepted step per user; a code is accepted only for a
//! step strictly later than it, so a code can never be used twice, nor an older one after a newer.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::UnixTime;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now: phones' clocks drift.
pub const DRIFT_STEPS: i64 = 1;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// A TOTP shared secret. Never printed: `Debug` is redacted.
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
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        TotpSecret(bytes)
    }

    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads a base32 key as typed (spaces, case and padding do not matter).
    pub fn from_base32(key: &str) -> Option<Self> {
        let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
        for c in key.chars().filter(|c| !c.is_whitespace() && *c != '=') {
            let value = match c.to_ascii_uppercase() {
                c @ 'A'..='Z' => c as u32 - 'A' as u32,
                c @ '2'..='7' => c as u32 - '2' as u32 + 26,
                _ => return None,
            };
            buffer = (buffer << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
            }
        }
        (!out.is_empty()).then_some(TotpSecret(out))
    }

    /// RFC 4648 base32 without padding: what authenticator apps take.
    pub fn to_base32(&self) -> String {
        base32(&self.0)
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

    /// `otpauth://totp/Issuer:account?secret=...&issuer=Issuer&...`
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer_enc = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer_enc}:{}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent_encode(account),
            self.to_base32()
        )
    }

    /// The code for one time step (RFC 4226 dynamic truncation).
    pub fn code_at_step(&self, step: i64, digits: u32) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(&step.to_be_bytes());
        let hash = mac.finalize().into_bytes();
        let offset = (hash[19] & 0x0f) as usize;
        let binary =
            u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
        let code = binary % 10u32.pow(digits);
        format!("{code:0width$}", width = digits as usize)
    }

    /// Checks `code` at `now`. Returns the step it matched, which must then be stored as the last
    /// used step (conditionally: only if still later than the stored one).
    pub fn verify(&self, code: &str, now: UnixTime, last_used_step: Option<i64>) -> Result<i64, TotpError> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let current = step_of(now);
        let mut matched = None;
        // Check every candidate step, so the time taken does not depend on which one matched.
        for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
            let ok: bool = self.code_at_step(step, DIGITS).as_bytes().ct_eq(code.as_bytes()).into();
            if ok && matched.is_none() {
                matched = Some(step);
            }
        }
        let step = matched.ok_or(TotpError::Wrong)?;
        match last_used_step {
            Some(last) if step <= last => Err(TotpError::Replayed),
            _ => Ok(step),
        }
    }
}

pub fn step_of(now: UnixTime) -> i64 {
    now.seconds().div_euclid(STEP_SECONDS)
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
            assert_eq!(secret.verify(&secret.code_at_step(s, 6), now, None), Ok(s));
        }
        for s in [step - 2, step + 2] {
            assert_eq!(secret.verify(&secret.code_at_step(s, 6), now, None), Err(TotpError::Wrong));
        }
    }

    #[test]
    fn a_step_not_newer_than_the_last_used_is_refused() {
        let secret = rfc_secret();
        let now = UnixTime(1_111_111_111);
        let step = step_of(now);
        let code = secret.code_at_step(step, 6);
        assert_eq!(secret.verify(&code, now, Some(step - 1)), Ok(step));
        assert_eq!(secret.verify(&code, now, Some(step)), Err(TotpError::Replayed));
        // An older code after a newer one was used is refused too.
        let older = secret.code_at_step(step - 1, 6);
        assert_eq!(secret.verify(&older, now, Some(step)), Err(TotpError::Replayed));
        // The next step's code is still fine.
        let next = secret.code_at_step(step + 1, 6);
        assert_eq!(secret.verify(&next, now, Some(step)), Ok(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused_before_any_check() {
        let secret = rfc_secret();
        for code in ["", "12345", "1234567", "12a456", "１２３４５６"] {
            assert_eq!(secret.verify(code, UnixTime(59), None), Err(TotpError::Malformed), "{code}");
        }
        let step = step_of(UnixTime(59));
        let spaced = secret.code_at_step(step, 6);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(secret.verify(&spaced, UnixTime(59), None), Ok(step));
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
            "otpauth://totp/MSP%20Dashboard:sam@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=MSP%20Dashboard&algorithm=SHA1&digits=6&period=30"
        );
    }
}
