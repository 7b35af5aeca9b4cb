//! `devkit create-table | seed | logins | totp | audit EMAIL`, run by the dev and test commands
//! against the local DynamoDB-compatible server (`AWS_ENDPOINT_URL_DYNAMODB`, table `TABLE_NAME`);
//! and `devkit reencrypt-totp-secrets`, run by an operator after rotating the TOTP key (the key
//! ring is read from Secrets Manager, `TOTP_KEYS_SECRET_ID`).

use devkit::seed;
use store::Store;

fn label(status: domain::twofactor::TwoFactorStatus) -> &'static str {
    match status {
        domain::twofactor::TwoFactorStatus::Active => "green tick: 2FA active",
        domain::twofactor::TwoFactorStatus::EnabledNotActivated => "grey tick: activates at login",
        domain::twofactor::TwoFactorStatus::Off => "no tick: 2FA off",
    }
}

#[tokio::main]
async fn main() {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "dashboard-2fa-local".to_owned());
    let store = Store::from_env(table).await;
    let result: Result<(), Box<dyn std::error::Error + Send + Sync>> = match std::env::args()
        .nth(1)
        .as_deref()
    {
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
        Some("reencrypt-totp-secrets") => {
            let vault = secrets::Secrets::from_env().await;
            match vault.read(secrets::TOTP_KEYS_SECRET_ID).await.and_then(|ring| {
                domain::crypto::Keyring::parse(&ring).map_err(|e| format!("the TOTP key ring: {e}"))
            }) {
                Ok(ring) => devkit::rotate::reencrypt(&store, &ring).await.map_err(Into::into).map(|r| {
                    println!(
                        "re-encrypted {}, already under the current key {}, changed meanwhile (left as is) {}, \
                         under a key the ring lacks {}",
                        r.reencrypted, r.already_current, r.changed_meanwhile, r.unreadable
                    );
                }),
                Err(e) => Err(e.into()),
            }
        }
        Some("audit") => match std::env::args().nth(2) {
            Some(email) => seed::audit_lines(&store, &email).await.map(|lines| {
                for line in lines {
                    println!("{line}");
                }
            }),
            None => Err("usage: devkit audit EMAIL".into()),
        },
        Some("index-users") => store.index_users().await.map(|n| println!("{n} users added to the User Accounts index")).map_err(Into::into),
        Some("age-sessions") => match std::env::args().nth(2) {
            Some(email) => seed::age_sessions(&store, &email).await.map(|n| println!("{n} sessions aged")),
            None => Err("usage: devkit age-sessions EMAIL".into()),
        },
        Some("age-email-code") => match std::env::args().nth(2) {
            Some(email) => seed::age_email_code(&store, &email).await.map(|aged| {
                println!("{}", if aged { "code aged" } else { "no code sent" })
            }),
            None => Err("usage: devkit age-email-code EMAIL".into()),
        },
        Some("logins") => {
            for user in seed::DEMO_USERS {
                let state = label(user.two_factor);
                println!("  {:<26} {:<16} {:<14} {state}", user.email, user.account, user.role.label());
            }
            println!(
                "\n  Northwind IT: 2FA required for Take Control and RBM 30 days from now (Activate Later offered)."
            );
            println!("  Contoso Support: 2FA already required for Take Control and RBM (no Activate Later).");
            println!("\n  Password for all: {}", seed::DEMO_PASSWORD);
            println!(
                "  Authenticator key of the green-tick users: {} (or run: target/debug/devkit totp)",
                seed::DEMO_TOTP_KEY
            );
            println!("  Their recovery codes: {}", seed::DEMO_RECOVERY_CODES.join(", "));
            Ok(())
        }
        Some("totp") => {
            println!("{}", seed::demo_code_now());
            Ok(())
        }
        _ => {
            Err("usage: devkit create-table | seed | logins | totp | audit EMAIL | age-sessions EMAIL | age-email-code EMAIL | index-users".into())
        }
    };
    if let Err(e) = result {
        eprintln!("devkit: {e}");
        std::process::exit(1);
    }
}
