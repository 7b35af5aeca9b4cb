//! The dashboard's secrets live in Secrets Manager, never in the template or a function's
//! environment (readable by anyone with `lambda:GetFunctionConfiguration`). A function is given
//! only the secret's id (`*_SECRET_ID`) and reads the value once, at cold start; a new value takes
//! effect as new execution environments start. Locally `AWS_ENDPOINT_URL_SECRETS_MANAGER` points
//! the same code at a local Secrets Manager.

use aws_sdk_secretsmanager::Client;
use call_budget::SECRETS_MANAGER;

/// The environment variable naming the secret with the TOTP key ring
/// (`id:64hex[,id:64hex…]`, current key first).
pub const TOTP_KEYS_SECRET_ID: &str = "TOTP_KEYS_SECRET_ID";

/// The environment variable naming the secret CloudFront adds to every API request.
pub const ORIGIN_SECRET_ID: &str = "ORIGIN_SECRET_ID";

/// Reads secrets by the ids in environment variables.
#[derive(Clone, Debug)]
pub struct Secrets {
    client: Client,
}

impl Secrets {
    /// Built from the environment, like the other AWS clients.
    pub async fn from_env() -> Self {
        Secrets::connect(&aws_config::load_from_env().await)
    }

    /// The same, from an AWS configuration already loaded (a function loads it once), with the
    /// time budget of `call_budget::SECRETS_MANAGER`.
    pub fn connect(sdk: &aws_config::SdkConfig) -> Self {
        let config = aws_sdk_secretsmanager::config::Builder::from(sdk)
            .timeout_config(SECRETS_MANAGER.timeouts())
            .retry_config(SECRETS_MANAGER.retries())
            .build();
        Secrets { client: Client::from_conf(config) }
    }

    /// The value of the secret whose id is in the environment variable `id_var`. The error names
    /// the variable and the secret, never the value.
    pub async fn read(&self, id_var: &str) -> Result<String, String> {
        let id = std::env::var(id_var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("environment variable {id_var} must name a secret"))?;
        let out = self.client.get_secret_value().secret_id(&id).send().await.map_err(|e| {
            format!(
                "{id_var}: cannot read secret {id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
        out.secret_string.ok_or_else(|| format!("{id_var}: secret {id} has no string value"))
    }
}
