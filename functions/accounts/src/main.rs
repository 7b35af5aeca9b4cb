#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::server::http::init_tracing();
    // Clients are built once per Lambda instance and reused across invocations.
    let ctx = api::server::Ctx::from_env(api::server::TotpKeys::NotNeeded).await?;
    api::server::http::run_lambda(accounts::router(ctx)).await
}
