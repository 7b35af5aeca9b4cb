//! `/api/auth/...`: login (password, then passcode), the signed-in user, logout.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ApiError;
pub use domain::remote::Requirement;
pub use domain::twofactor::TwoFactorStatus;

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
    /// Whether 2FA is required for Take Control and RBM, told to users without active 2FA (`None`
    /// when it is active: nothing to tell).
    pub remote_2fa: Option<Requirement>,
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
    /// The login comes from a new place: it waits until the link emailed to `email` is opened.
    IpVerificationRequired { email: String },
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

/// Where a login waiting for IP verification stands: still waiting, or its next step.
#[server(prefix = "/api/auth", endpoint = "login-status", input = Json)]
pub async fn login_status() -> Result<LoginOutcome, ApiError> {
    crate::server::auth::login_status().await
}

/// Emails the waiting login's verification link again (at most once a minute).
#[server(prefix = "/api/auth", endpoint = "resend-ip-link", input = Json)]
pub async fn resend_ip_link() -> Result<(), ApiError> {
    crate::server::auth::resend_ip_link().await
}

/// Opens an emailed verification link: trusts the range of the address that logged in. Answers
/// the verified range.
#[server(prefix = "/api/auth", endpoint = "verify-ip", input = Json)]
pub async fn verify_ip(token: String) -> Result<String, ApiError> {
    crate::server::auth::verify_ip(token).await
}

/// The signed-in user, or `None` when this browser has no valid session.
#[server(prefix = "/api/auth", endpoint = "me", input = Json)]
pub async fn current_user() -> Result<Option<Me>, ApiError> {
    crate::server::auth::me().await
}

/// Proves the signed-in user's identity again (the current passcode with active 2FA, the
/// password without), so this session may lower security for the next ten minutes.
#[server(prefix = "/api/auth", endpoint = "step-up", input = Json)]
pub async fn step_up(secret: String) -> Result<(), ApiError> {
    crate::server::auth::step_up(secret).await
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
    register_explicit::<LoginStatus>();
    register_explicit::<ResendIpLink>();
    register_explicit::<VerifyIp>();
    register_explicit::<CurrentUser>();
    register_explicit::<Logout>();
    register_explicit::<StepUp>();
}
