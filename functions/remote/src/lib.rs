//! The `remote` function: devices and the Take Control / RBM gate (`/api/remote/...`).

use axum::Router;

/// The function's whole HTTP surface, served by Lambda in production and directly in tests, with
/// a context that reaches only what the function declares.
pub fn router(ctx: api::server::Ctx) -> Router {
    api::remote::register();
    api::server::http::router("remote", ctx.restricted_to(api::server::remote::ACCESS))
}
