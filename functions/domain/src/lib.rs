//! The rules of Dashboard 2FA, free of I/O.
//!
//! Nothing here knows about HTTP, DynamoDB or the clock: callers pass the current time in, so every
//! rule is tested with fixed times.

pub mod admin;
pub mod audit;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod email;
#[cfg(feature = "crypto")]
pub mod email_code;
pub mod ipcheck;
pub mod lockout;
pub mod login;
#[cfg(feature = "crypto")]
pub mod password;
#[cfg(feature = "crypto")]
pub mod recovery;
pub mod remote;
pub mod role;
#[cfg(feature = "crypto")]
pub mod secret;
pub mod session;
pub mod time;
#[cfg(feature = "crypto")]
pub mod totp;
pub mod twofactor;

pub use email::Email;
pub use role::Role;
pub use time::UnixTime;
