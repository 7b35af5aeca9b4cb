//! `devkit create-table` and `devkit seed`, run by the dev and test commands against the local
//! DynamoDB-compatible server (`AWS_ENDPOINT_URL_DYNAMODB`, table `TABLE_NAME`).

use store::Store;

#[tokio::main]
async fn main() {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "dashboard-2fa-local".to_owned());
    let store = Store::from_env(table).await;
    let result = match std::env::args().nth(1).as_deref() {
        Some("create-table") => match std::fs::read_to_string(devkit::template_path()) {
            Ok(template) => devkit::table::create_table(&store, &template).await,
            Err(e) => Err(e.into()),
        },
        Some("seed") => devkit::seed::seed_demo(&store).await,
        Some("logins") => {
            for user in devkit::seed::DEMO_USERS {
                println!("  {:<28} {:<14} password: {}", user.email, user.role.label(), devkit::seed::DEMO_PASSWORD);
            }
            Ok(())
        }
        _ => Err("usage: devkit create-table | seed | logins".into()),
    };
    if let Err(e) = result {
        eprintln!("devkit: {e}");
        std::process::exit(1);
    }
}
