//! The email-validation code sent before authenticator setup.
//!
//! 6 digits, valid 15 minutes, 5 tries each, a new one at most once a minute and at most 5 in one
//! activation (which lasts a day). That caps guessing at 25 tries a day, one chance in 40,000;
//! 15 minutes is long enough for slow mail; the minute between sends and the cap stop the button
//! from being used to flood a mailbox.

use rand::Rng;
use subtle::ConstantTimeEq;

use crate::UnixTime;
use crate::secret::sha256_hex;

pub const VALID_SECONDS: i64 = 15 * 60;
pub const MAX_TRIES: u32 = 5;
pub const RESEND_COOLDOWN_SECONDS: i64 = 60;
pub const MAX_SENDS: u32 = 5;

/// What the store keeps about the code last sent to a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentCode {
    pub code_hash: String,
    pub sent_at: UnixTime,
    pub tries: u32,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("Enter the 6-digit code from the email.")]
    Malformed,
    #[error("That code is not right. Check the latest email and try again.")]
    Wrong,
    #[error("That code has expired. Send a new code.")]
    Expired,
    #[error("Too many wrong codes. Send a new code.")]
    TooManyTries,
    #[error("No code has been sent yet. Send a code first.")]
    NoneSent,
}

pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// Bound to the user, so a hash copied to another user's item matches nothing.
pub fn hash(user_id: &str, code: &str) -> String {
    sha256_hex(&format!("{user_id}:{code}"))
}

/// When the next code may be sent, if not yet.
pub fn resend_blocked_until(last: Option<&SentCode>, now: UnixTime) -> Option<UnixTime> {
    let until = last?.sent_at.plus_seconds(RESEND_COOLDOWN_SECONDS);
    (now < until).then_some(until)
}

/// Checks a typed code. The caller counts the try (conditionally) whatever the answer.
pub fn check(user_id: &str, typed: &str, sent: Option<&SentCode>, now: UnixTime) -> Result<(), CodeError> {
    let typed = typed.trim();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Malformed);
    }
    let sent = sent.ok_or(CodeError::NoneSent)?;
    if now >= sent.sent_at.plus_seconds(VALID_SECONDS) {
        return Err(CodeError::Expired);
    }
    if sent.tries >= MAX_TRIES {
        return Err(CodeError::TooManyTries);
    }
    let ok: bool = hash(user_id, typed).as_bytes().ct_eq(sent.code_hash.as_bytes()).into();
    if ok { Ok(()) } else { Err(CodeError::Wrong) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime(1_800_000_000);

    fn sent(code: &str) -> SentCode {
        SentCode { code_hash: hash("u1", code), sent_at: T0, tries: 0 }
    }

    #[test]
    fn the_right_code_within_time_passes() {
        assert_eq!(check("u1", " 123456 ", Some(&sent("123456")), T0.plus_seconds(60)), Ok(()));
    }

    #[test]
    fn wrong_expired_exhausted_and_foreign_codes_fail() {
        let s = sent("123456");
        assert_eq!(check("u1", "654321", Some(&s), T0), Err(CodeError::Wrong));
        assert_eq!(check("u1", "123456", Some(&s), T0.plus_seconds(VALID_SECONDS)), Err(CodeError::Expired));
        let tired = SentCode { tries: MAX_TRIES, ..s.clone() };
        assert_eq!(check("u1", "123456", Some(&tired), T0), Err(CodeError::TooManyTries));
        assert_eq!(check("u2", "123456", Some(&s), T0), Err(CodeError::Wrong));
        assert_eq!(check("u1", "12345", Some(&s), T0), Err(CodeError::Malformed));
        assert_eq!(check("u1", "123456", None, T0), Err(CodeError::NoneSent));
    }

    #[test]
    fn resending_waits_a_minute() {
        let s = sent("123456");
        assert_eq!(resend_blocked_until(Some(&s), T0.plus_seconds(59)), Some(T0.plus_seconds(60)));
        assert_eq!(resend_blocked_until(Some(&s), T0.plus_seconds(60)), None);
        assert_eq!(resend_blocked_until(None, T0), None);
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..50 {
            let c = generate();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
