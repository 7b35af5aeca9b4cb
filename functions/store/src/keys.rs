//! The table's key layout in one place: the attribute names (shared with `infra/template.yaml`,
//! checked by the infra tests) and how every item's keys are spelled (the table in `lib.rs` says
//! what each item holds).

use domain::{Email, UnixTime};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// A user's sessions, for the development tools (`devkit age-sessions`); the functions never
/// read this index.
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// An account's users, the partition of User Accounts' indexes (`listing`).
pub const GSI2_PK: &str = "gsi2pk";
pub const EXPIRES_AT: &str = "expires_at";

/// Sort keys of the items that are alone in their partition, or one of a kind in it.
pub const ACCOUNT_SK: &str = "ACCOUNT";
pub const SESSION_SK: &str = "SESSION";
pub const CHALLENGE_SK: &str = "CHALLENGE";
pub const IP_LINK_SK: &str = "IPLINK";
pub const EMAIL_SK: &str = "EMAIL";
pub const LOCKOUT_SK: &str = "LOCKOUT";

/// Prefixes that queries and scans select by.
pub const ACCOUNT_PREFIX: &str = "ACCOUNT#";
pub const USER_PREFIX: &str = "USER#";
pub const DEVICE_PREFIX: &str = "DEVICE#";
pub const ENROLL_PREFIX: &str = "ENROLL#";

pub fn account_pk(account_id: &str) -> String {
    format!("{ACCOUNT_PREFIX}{account_id}")
}

pub fn user_sk(user_id: &str) -> String {
    format!("{USER_PREFIX}{user_id}")
}

pub fn device_sk(device_id: &str) -> String {
    format!("{DEVICE_PREFIX}{device_id}")
}

/// A user's activation in progress.
pub fn enroll_sk(user_id: &str) -> String {
    format!("{ENROLL_PREFIX}{user_id}")
}

/// A remote session's record, in start order.
pub fn remote_sk(started_at: UnixTime, id: &str) -> String {
    format!("REMOTE#{:012}#{id}", started_at.seconds())
}

/// An account's audit events (read by time, newest first).
pub fn audit_pk(account_id: &str) -> String {
    format!("{ACCOUNT_PREFIX}{account_id}#AUDIT")
}

/// The claim that makes an email unique.
pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{}", email.as_str())
}

/// Sessions, login challenges and IP links are found by the hash of their bearer token.
pub fn session_pk(token_hash: &str) -> String {
    format!("SESSION#{token_hash}")
}

/// A user's sessions (GSI1).
pub fn sessions_of(user_id: &str) -> String {
    format!("SESSIONS#{user_id}")
}

pub fn challenge_pk(token_hash: &str) -> String {
    format!("CHALLENGE#{token_hash}")
}

pub fn ip_link_pk(token_hash: &str) -> String {
    format!("IPLINK#{token_hash}")
}

/// Where an account's users are listed (the partition of every grid index).
pub fn users_pk(account_id: &str) -> String {
    format!("USERS#{account_id}")
}

/// A lockout counter of an email (hashed: the table keeps no typed email of people without
/// accounts), apart for failures from known sources.
pub fn lockout_email_pk(email_hash: &str, known: bool) -> String {
    if known { format!("LOCKOUT#{email_hash}#KNOWN") } else { format!("LOCKOUT#{email_hash}") }
}

/// A lockout counter of an email from one source.
pub fn lockout_pair_pk(email_hash: &str, source: &str) -> String {
    format!("LOCKOUT#{email_hash}#IP#{source}")
}
