//! The `accounts` function: User Accounts, General Settings, audit log (`/api/accounts/...`).

use axum::Router;

/// The function's whole HTTP surface, served by Lambda in production and directly in tests, with
/// a context that reaches only what the function declares.
pub fn router(ctx: api::server::Ctx) -> Router {
    api::accounts::register();
    api::server::http::router("accounts", ctx.restricted_to(api::server::accounts::ACCESS))
}
