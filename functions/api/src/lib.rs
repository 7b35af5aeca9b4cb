//! The dashboard's API: Leptos server functions and their wire types.
//!
//! The app compiles this crate without features and gets client stubs that POST JSON to
//! `/api/<group>/<name>`; the Lambda functions compile it with `ssr` and get the bodies, which live
//! in [`server`]. Endpoints are named explicitly so routes are stable and match `infra/`.

pub mod accounts;
pub mod auth;
pub mod enroll;
pub mod error;
pub mod remote;

#[cfg(feature = "ssr")]
pub mod server;

pub use error::ApiError;
