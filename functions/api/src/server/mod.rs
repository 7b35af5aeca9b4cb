//! Server-side bodies of the server functions, and the HTTP plumbing every function binary shares.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod enroll;
pub mod http;
pub mod lockout;
pub mod remote;
pub mod request;
pub mod shared;

use domain::UnixTime;
use domain::crypto::Keyring;
use mail::Mailer;
use store::{Operation, Store};

/// Read once at start-up from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    /// `scheme://host[:port]` of the dashboard; POSTs from any other Origin are refused.
    pub app_origin: String,
    /// `From:` of every email, e.g. `Dashboard <no-reply@example.com>`.
    pub sender_address: String,
    /// Keys that encrypt TOTP secrets; only the functions that encrypt or decrypt them have it.
    /// `Debug` is redacted.
    pub totp_keys: Option<Keyring>,
    /// What CloudFront sends in [`http::ORIGIN_SECRET_HEADER`].
    pub origin_secret: OriginSecret,
}

/// The secret CloudFront adds to every request it forwards to the API, so that requests sent
/// around it are refused. Compared in constant time; `Debug` is redacted.
#[derive(Clone)]
pub struct OriginSecret(String);

impl OriginSecret {
    /// At least 32 characters: it is a password that never has to be typed.
    pub fn new(value: impl Into<String>) -> Result<Self, String> {
        let value = value.into();
        if value.len() < 32 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be at least 32 printable characters".into());
        }
        Ok(OriginSecret(value))
    }

    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented).into()
    }

    /// The value itself, for whoever plays CloudFront (tests and the local gateway).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginSecret(<redacted>)")
    }
}

/// Whether a function encrypts or decrypts TOTP secrets, and so reads the key ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpKeys {
    Needed,
    NotNeeded,
}

impl Config {
    /// Plain settings from the environment; the origin secret and (if `totp_keys` says so) the
    /// TOTP key ring from Secrets Manager, by the ids in `ORIGIN_SECRET_ID` / `TOTP_KEYS_SECRET_ID`.
    pub async fn load(vault: &secrets::Secrets, totp_keys: TotpKeys) -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("environment variable {name} must be set"))
        };
        let origin_secret = OriginSecret::new(vault.read(secrets::ORIGIN_SECRET_ID).await?)
            .map_err(|e| format!("the origin secret {e}"))?;
        let totp_keys = match totp_keys {
            TotpKeys::Needed => {
                let ring = vault.read(secrets::TOTP_KEYS_SECRET_ID).await?;
                Some(Keyring::parse(&ring).map_err(|e| format!("the TOTP key ring: {e}"))?)
            }
            TotpKeys::NotNeeded => None,
        };
        Ok(Config {
            table_name: var("TABLE_NAME")?,
            app_origin: var("APP_ORIGIN")?,
            sender_address: var("SENDER_ADDRESS")?,
            totp_keys,
            origin_secret,
        })
    }

    /// The key ring, in a function that has it.
    pub fn totp_keys(&self) -> Result<&Keyring, crate::ApiError> {
        self.totp_keys.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without the TOTP key ring");
            crate::ApiError::internal()
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
    /// Everything a function needs, from one load of the AWS configuration at cold start.
    pub async fn from_env(totp_keys: TotpKeys) -> Result<Self, String> {
        let sdk = aws_config::load_from_env().await;
        let config = Config::load(&secrets::Secrets::connect(&sdk), totp_keys).await?;
        let store = Store::connect(&sdk, config.table_name.clone());
        let mailer = Mailer::connect(&sdk, config.sender_address.clone());
        Ok(Ctx { store, mailer, config })
    }
}

/// What one function's code reaches: the store operations it runs (its handlers' own, and those
/// of the shared helpers it uses), and whether it sends mail. The function's store and mailer
/// refuse anything else ([`Ctx::restricted_to`]), and its IAM policy in the template allows exactly this.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    pub store_operations: &'static [&'static [Operation]],
    pub sends_mail: bool,
}

impl Ctx {
    /// This context as the function declaring `access` may use it.
    pub fn restricted_to(self, access: Access) -> Ctx {
        let mailer = if access.sends_mail { self.mailer } else { self.mailer.refusing() };
        Ctx { store: self.store.restricted_to(access.store_operations), mailer, config: self.config }
    }
}

/// The one place the server reads the clock.
pub fn now() -> UnixTime {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    UnixTime(since_epoch.as_secs() as i64)
}
