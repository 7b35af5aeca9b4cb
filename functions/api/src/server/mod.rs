//! Server-side bodies of the server functions, and the HTTP plumbing every function binary shares.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod enroll;
pub mod http;
pub mod remote;
pub mod request;
pub mod shared;

use domain::UnixTime;
use domain::crypto::Keyring;
use mail::Mailer;
use store::Store;

/// Read once at start-up from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// `scheme://host[:port]` of the dashboard; POSTs from any other Origin are refused.
    pub app_origin: String,
    /// `From:` of every email, e.g. `Dashboard <no-reply@example.com>`.
    pub sender_address: String,
    /// Keys that encrypt TOTP secrets (`domain::crypto::Keyring` format). `Debug` is redacted.
    pub totp_keys: Keyring,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("environment variable {name} must be set"))
        };
        let totp_keys = Keyring::parse(&var("TOTP_KEYS")?).map_err(|e| format!("TOTP_KEYS: {e}"))?;
        Ok(Config {
            table_name: var("TABLE_NAME")?,
            app_origin: var("APP_ORIGIN")?,
            sender_address: var("SENDER_ADDRESS")?,
            totp_keys,
        })
    }
}

/// What every server function can reach: built once per process and shared.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub store: Store,
    pub mailer: Mailer,
    pub config: Config,
}

impl Ctx {
    pub async fn from_env() -> Result<Self, String> {
        let config = Config::from_env()?;
        let store = Store::from_env(config.table_name.clone()).await;
        let mailer = Mailer::from_env(config.sender_address.clone()).await;
        Ok(Ctx { store, mailer, config })
    }
}

/// The one place the server reads the clock.
pub fn now() -> UnixTime {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    UnixTime(since_epoch.as_secs() as i64)
}
