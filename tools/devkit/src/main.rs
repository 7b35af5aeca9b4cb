//! `devkit create-table | seed | logins | totp | audit EMAIL | age-sessions EMAIL |
//! age-email-code EMAIL | index-users`, run by the dev and test commands against the local
//! DynamoDB-compatible server (`AWS_ENDPOINT_URL_DYNAMODB`, table `TABLE_NAME`); and
//! `devkit reencrypt-totp-secrets`, run by an operator after rotating the TOTP key (the key ring is
//! read from Secrets Manager, `TOTP_KEYS_SECRET_ID`).

use devkit::seed;
use domain::crypto::Keyring;
use store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: devkit create-table | seed | logins | totp | audit EMAIL | age-sessions EMAIL \
                     | age-email-code EMAIL | index-users | reencrypt-totp-secrets";

#[tokio::main]
async fn main() {
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "dashboard-2fa-local".to_owned());
    let store = Store::from_env(table).await;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&store, &args).await {
        eprintln!("devkit: {e}");
        std::process::exit(1);
    }
}

/// Runs the subcommand `args[0]`, with the email `args[1]` where it takes one.
async fn run(store: &Store, args: &[String]) -> Result<(), Error> {
    let command = args.first().map(String::as_str);
    let email = || args.get(1).map(String::as_str).ok_or_else(|| format!("usage: devkit {} EMAIL", args[0]));
    match command {
        Some("create-table") => create_table(store).await,
        Some("seed") => seed::seed_demo(store, &keys_from_env()?).await,
        Some("reencrypt-totp-secrets") => reencrypt_totp_secrets(store).await,
        Some("audit") => print_audit(store, email()?).await,
        Some("index-users") => index_users(store).await,
        Some("age-sessions") => age_sessions(store, email()?).await,
        Some("age-email-code") => age_email_code(store, email()?).await,
        Some("logins") => {
            print_logins();
            Ok(())
        }
        Some("totp") => {
            println!("{}", seed::demo_code_now());
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

async fn create_table(store: &Store) -> Result<(), Error> {
    let template = std::fs::read_to_string(devkit::template_path())?;
    devkit::table::create_table(store, &template).await
}

/// The local key ring, `TOTP_KEYS`, that the seeded secrets are sealed with.
fn keys_from_env() -> Result<Keyring, Error> {
    let keys = std::env::var("TOTP_KEYS").map_err(|_| "TOTP_KEYS is not set")?;
    Ok(Keyring::parse(&keys).map_err(|e| e.to_string())?)
}

async fn reencrypt_totp_secrets(store: &Store) -> Result<(), Error> {
    let vault = secrets::Secrets::from_env().await;
    let ring = vault.read(secrets::TOTP_KEYS_SECRET_ID).await?;
    let ring = Keyring::parse(&ring).map_err(|e| format!("the TOTP key ring: {e}"))?;
    let r = devkit::rotate::reencrypt(store, &ring).await?;
    println!(
        "re-encrypted {}, already under the current key {}, changed meanwhile (left as is) {}, \
         under a key the ring lacks {}",
        r.reencrypted, r.already_current, r.changed_meanwhile, r.unreadable
    );
    Ok(())
}

async fn print_audit(store: &Store, email: &str) -> Result<(), Error> {
    for line in seed::audit_lines(store, email).await? {
        println!("{line}");
    }
    Ok(())
}

async fn index_users(store: &Store) -> Result<(), Error> {
    let added = store.index_users().await?;
    println!("{added} users added to the User Accounts index");
    Ok(())
}

async fn age_sessions(store: &Store, email: &str) -> Result<(), Error> {
    let aged = devkit::age::age_sessions(store, email).await?;
    println!("{aged} sessions aged");
    Ok(())
}

async fn age_email_code(store: &Store, email: &str) -> Result<(), Error> {
    let aged = devkit::age::age_email_code(store, email).await?;
    println!("{}", if aged { "code aged" } else { "no code sent" });
    Ok(())
}

fn label(status: domain::twofactor::TwoFactorStatus) -> &'static str {
    match status {
        domain::twofactor::TwoFactorStatus::Active => "green tick: 2FA active",
        domain::twofactor::TwoFactorStatus::EnabledNotActivated => "grey tick: activates at login",
        domain::twofactor::TwoFactorStatus::Off => "no tick: 2FA off",
    }
}

/// The demo users, the two accounts' policies and the shared credentials.
fn print_logins() {
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
}
