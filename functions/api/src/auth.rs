//! `/api/auth/...`: login (password, then passcode), the signed-in user, logout.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ApiError;

/// The 2FA column's three states (green tick, grey tick, no tick).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TwoFactorStatus {
    Active,
    EnabledNotActivated,
    Off,
}

/// The signed-in user as the dashboard shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub email: String,
    pub role: String,
    pub account_name: String,
    pub two_factor: TwoFactorStatus,
    /// May open User Accounts, General Settings and the audit log.
    pub is_administrator: bool,
}

/// What the password step leads to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginOutcome {
    /// Logged in; the session cookie is set.
    SignedIn(Me),
    /// 2FA is active: enter a passcode from the authenticator app or a recovery code.
    PasscodeRequired,
    /// 2FA is enabled but not activated: the activation flow comes next.
    ActivationRequired { email: String },
}

/// A successful passcode step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasscodeAccepted {
    pub me: Me,
    /// Set when a recovery code was used: how many are left.
    pub recovery_codes_left: Option<usize>,
}

/// Email and password. Wrong password and unknown email give the same answer in the same time.
#[server(prefix = "/api/auth", endpoint = "login", input = Json)]
pub async fn login(email: String, password: String) -> Result<LoginOutcome, ApiError> {
    crate::server::auth::login(email, password).await
}

/// The second step for users with active 2FA: a 6-digit passcode or a recovery code.
#[server(prefix = "/api/auth", endpoint = "passcode", input = Json)]
pub async fn submit_passcode(code: String) -> Result<PasscodeAccepted, ApiError> {
    crate::server::auth::submit_passcode(code).await
}

/// The signed-in user, or `None` when this browser has no valid session.
#[server(prefix = "/api/auth", endpoint = "me", input = Json)]
pub async fn current_user() -> Result<Option<Me>, ApiError> {
    crate::server::auth::me().await
}

/// Ends the session (server side too) and clears the cookie.
#[server(prefix = "/api/auth", endpoint = "logout", input = Json)]
pub async fn logout() -> Result<(), ApiError> {
    crate::server::auth::logout().await
}

/// Registers this group's server functions with the router of the binary that serves them.
#[cfg(feature = "ssr")]
pub fn register() {
    use leptos::server_fn::axum::register_explicit;
    register_explicit::<Login>();
    register_explicit::<SubmitPasscode>();
    register_explicit::<CurrentUser>();
    register_explicit::<Logout>();
}
