//! The `enrollment` function: 2FA activation (`/api/enroll/...`).

use axum::Router;

/// The function's whole HTTP surface, served by Lambda in production and directly in tests, with
/// a context that reaches only what the function declares.
pub fn router(ctx: api::server::Ctx) -> Router {
    api::enroll::register();
    api::server::http::router("enroll", ctx.restricted_to(api::server::enroll::ACCESS))
}
