//! The rules of Dashboard 2FA, free of I/O.
//!
//! Nothing here knows about HTTP, DynamoDB or the clock: callers pass the current time in, so every
//! rule is tested with fixed times.

pub mod email;
pub mod lockout;
pub mod password;
pub mod role;
pub mod secret;
pub mod time;

pub use email::Email;
pub use role::Role;
pub use time::UnixTime;
