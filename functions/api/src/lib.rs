//! The dashboard's API: Leptos server functions and their wire types.
//!
//! The app compiles this crate without features and gets client stubs that POST JSON to
//! `/api/<group>/<name>`; the Lambda functions compile it with `ssr` and get the bodies, which live
//! in [`server`]. Endpoints are named explicitly so routes are stable and match `infra/`.

/// Declares a group's server functions and its `register()`. Each is a client stub in the app and,
/// in the functions (`ssr`), a call into [`server`]; `register()` serves the group in its own
/// binary. `Name` is the type Leptos derives from `name` (in CamelCase).
macro_rules! server_functions {
    (prefix = $prefix:literal; $(
        $(#[$doc:meta])*
        $endpoint:literal => $Name:ident: fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $body:path;
    )*) => {
        $(
            $(#[$doc])*
            #[server(prefix = $prefix, endpoint = $endpoint, input = Json)]
            pub async fn $name($($arg: $ty),*) -> Result<$out, ApiError> {
                $body($($arg),*).await
            }
        )*

        /// Registers this group's server functions with the router of the binary that serves them.
        #[cfg(feature = "ssr")]
        pub fn register() {
            $(leptos::server_fn::axum::register_explicit::<$Name>();)*
        }
    };
}

pub mod accounts;
pub mod auth;
pub mod enroll;
pub mod error;
pub mod remote;

#[cfg(feature = "ssr")]
pub mod server;

pub use error::ApiError;
