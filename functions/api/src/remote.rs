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

server_functions! {
    prefix = "/api/remote";

    /// The account's devices.
    "devices" => Devices: fn devices() -> Vec<DeviceView> = crate::server::remote::devices;

    /// Starts a session on a device, or answers that 2FA activation comes first. `defer`: the user
    /// chose "Activate Later" in the prompt (refused once 2FA is required).
    "start" => StartSession:
        fn start_session(device_id: String, kind: RemoteKind, defer: bool) -> RemoteStart = crate::server::remote::start;

    /// "Activate Now": 2FA is enabled for the user and they are logged out, so the next login runs
    /// the activation flow.
    "activate-now" => ActivateNow: fn activate_now() -> () = crate::server::remote::activate_now;
}
