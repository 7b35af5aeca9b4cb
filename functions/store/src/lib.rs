//! The DynamoDB repository. One table; every check-then-write is one conditional write or one
//! transaction. Item layout (pk / sk):
//!
//! | item            | pk                               | sk                  | notes                          |
//! |-----------------|----------------------------------|---------------------|--------------------------------|
//! | account         | `ACCOUNT#<account>`              | `ACCOUNT`           | name, settings, user counts    |
//! | user            | `ACCOUNT#<account>`              | `USER#<user>`       | GSI2–6: `USERS#<account>` / a column (`listing`) |
//! | email claim     | `EMAIL#<email>`                  | `EMAIL`             | makes emails unique            |
//! | device          | `ACCOUNT#<account>`              | `DEVICE#<device>`   |                                |
//! | remote session  | `ACCOUNT#<account>`              | `REMOTE#<time>#<id>`| Take Control / RBM record      |
//! | enrollment      | `ACCOUNT#<account>`              | `ENROLL#<user>`     | email code, pending secret     |
//! | session         | `SESSION#<sha256(token)>`        | `SESSION`           | `expires_at`, TTL; GSI1: `SESSIONS#<user>` / the pk |
//! | login challenge | `CHALLENGE#<sha256(token)>`      | `CHALLENGE`         | `expires_at`, TTL              |
//! | IP link         | `IPLINK#<sha256(token)>`         | `IPLINK`            | `expires_at`, single use       |
//! | login counter   | `LOCKOUT#<sha256(email)>[#IP#…]` | `LOCKOUT`           | `expires_at`, TTL              |
//! | audit event     | `ACCOUNT#<account>#AUDIT`        | `<time>#<id>`       |                                |
//!
//! `expires_at` (epoch seconds) is the table's TTL attribute; the code checks expiry itself because
//! TTL deletion can lag by days. The keys are spelled in one place, `keys`.
//!
//! Each method that reads or writes the table is one [`Operation`]: it declares the DynamoDB
//! actions and indexes it needs (`operation`) and makes its calls through its own handle, which
//! holds it to them. Only the development tools and tests reach the raw client (`raw-client`).

mod admin;
mod audit;
mod challenges;
mod client;
mod db;
mod devices;
mod iplinks;
pub mod keys;
mod listing;
mod lockout;
mod operation;
mod outcome;
mod remote;
mod rotation;
mod sessions;
mod twofactor;
mod users;

pub use admin::{AdminChange, Settings};
pub use audit::AuditEvent;
pub use challenges::{Challenge, FinishError, Greeting, LinkResend, Proof, Purpose, SecondStep};
pub use client::{Store, StoreError};
pub use devices::Device;
pub use iplinks::IpLink;
pub use listing::{Column, PageKey};
pub use lockout::{CounterKey, Settle};
pub use operation::{Action, Operation};
pub use remote::{RemoteSession, StartError};
pub use rotation::{Reseal, SealedSecret};
pub use sessions::{ReauthRecord, Session, SessionHint, SpentPasscode};
pub use twofactor::{
    Activate, Activation, Binding, CodeSave, CodeTry, CodeUse, Enrollment, FinishLogin, PendingSecretSave,
    RecoveryCodesReplace, enroll_key,
};
pub use users::{Account, NewUser, User, UserListing};
