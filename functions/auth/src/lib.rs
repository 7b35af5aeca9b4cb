//! The `auth` function: login, session, logout (`/api/auth/...`).

use axum::Router;

/// The function's whole HTTP surface, served by Lambda in production and directly in tests, with
/// a context that reaches only what the function declares.
pub fn router(ctx: api::server::Ctx) -> Router {
    api::auth::register();
    api::server::http::router("auth", ctx.restricted_to(api::server::auth::ACCESS))
}
