//! `devkit create-table | seed | logins | totp`, run by the dev and test commands against the
//! local DynamoDB-compatible server (`AWS_ENDPOINT_URL_DYNAMODB`, table `TABLE_NAME`).

use devkit::seed;
use store::Store;

fn label(status: domain::twofactor::Status) -> &'static str {
    match status {
        domain::twofactor::Status::Active => "green tick: 2FA active",
        domain::twofactor::Status::EnabledNotActivated => "grey tick: activates at login",
        domain::twofactor::Status::Off => "no tick: 2FA off",
    }
}

#[tokio::main]
async fn main() {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "dashboard-2fa-local".to_owned());
    let store = Store::from_env(table).await;
    let result: Result<(), Box<dyn std::error::Error + Send + Sync>> =
        match std::env::args().nth(1).as_deref() {
            Some("create-table") => match std::fs::read_to_string(devkit::template_path()) {
                Ok(template) => devkit::table::create_table(&store, &template).await,
                Err(e) => Err(e.into()),
            },
            Some("seed") => match std::env::var("TOTP_KEYS")
                .map_err(|_| "TOTP_KEYS is not set".into())
                .and_then(|k| domain::crypto::Keyring::parse(&k).map_err(|e| e.to_string()))
            {
                Ok(keys) => seed::seed_demo(&store, &keys).await,
                Err(e) => Err(e.into()),
            },
            Some("logins") => {
                for user in seed::DEMO_USERS {
                    println!(
                        "  {:<26} {:<14} {}",
                        user.email,
                        user.role.label(),
                        label(user.two_factor)
                    );
                }
                println!("\n  Password for all: {}", seed::DEMO_PASSWORD);
                println!(
                    "  Sam's authenticator key: {} (or run: target/debug/devkit totp)",
                    seed::DEMO_TOTP_KEY
                );
                println!(
                    "  Sam's recovery codes: {}",
                    seed::DEMO_RECOVERY_CODES.join(", ")
                );
                Ok(())
            }
            Some("totp") => {
                println!("{}", seed::demo_code_now());
                Ok(())
            }
            _ => Err("usage: devkit create-table | seed | logins | totp".into()),
        };
    if let Err(e) = result {
        eprintln!("devkit: {e}");
        std::process::exit(1);
    }
}
