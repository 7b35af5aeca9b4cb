//! `/api/remote/...`: the account's devices, and starting Take Control / Remote Background
//! Management sessions behind the 2FA gate.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ApiError;
pub use domain::remote::RemoteKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    pub id: String,
    pub name: String,
    pub customer: String,
    pub os: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedSession {
    pub session_id: String,
    pub device_id: String,
    pub kind: RemoteKind,
    /// Epoch seconds.
    pub started_at: i64,
}

/// The server's answer to "start a session".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteStart {
    Started(StartedSession),
    /// Show the prompt. `deferral_allowed`: offer "Activate Later"; `deferral_until`: the date
    /// from which 2FA will be required (epoch seconds), if set.
    ActivationRequired {
        deferral_allowed: bool,
        deferral_until: Option<i64>,
    },
}

#[server(prefix = "/api/remote", endpoint = "devices", input = Json)]
pub async fn devices() -> Result<Vec<DeviceView>, ApiError> {
    crate::server::remote::devices().await
}

/// Starts a session on a device, or answers that 2FA activation comes first. `defer`: the user
/// chose "Activate Later" in the prompt (refused once 2FA is required).
#[server(prefix = "/api/remote", endpoint = "start", input = Json)]
pub async fn start_session(
    device_id: String,
    kind: RemoteKind,
    defer: bool,
) -> Result<RemoteStart, ApiError> {
    crate::server::remote::start(device_id, kind, defer).await
}

/// "Activate Now": 2FA is enabled for the user and they are logged out, so the next login runs the
/// activation flow.
#[server(prefix = "/api/remote", endpoint = "activate-now", input = Json)]
pub async fn activate_now() -> Result<(), ApiError> {
    crate::server::remote::activate_now().await
}

#[cfg(feature = "ssr")]
pub fn register() {
    use leptos::server_fn::axum::register_explicit;
    register_explicit::<Devices>();
    register_explicit::<StartSession>();
    register_explicit::<ActivateNow>();
}
