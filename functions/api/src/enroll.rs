//! `/api/enroll/...`: activating 2FA — validate the email address, set up the authenticator app,
//! receive recovery codes. Reached from the login (2FA enabled, not activated) or by a signed-in
//! user who turns 2FA on for themselves.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::auth::Me;

/// Where the activation flow stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentView {
    pub email: String,
    pub code_sent: bool,
    pub email_verified: bool,
    /// Epoch seconds before which another code cannot be sent.
    pub resend_after: Option<i64>,
}

/// What the authenticator app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    pub otpauth_uri: String,
    /// The base32 key in groups of four, for typing.
    pub manual_key: String,
    /// The otpauth URI as an SVG QR code.
    pub qr_svg: String,
}

/// 2FA is active; the recovery codes are shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activated {
    pub me: Me,
    pub recovery_codes: Vec<String>,
}

#[server(prefix = "/api/enroll", endpoint = "status", input = Json)]
pub async fn enrollment_status() -> Result<EnrollmentView, ApiError> {
    crate::server::enroll::status().await
}

/// Sends a 6-digit code to the login email (at most once a minute).
#[server(prefix = "/api/enroll", endpoint = "send-code", input = Json)]
pub async fn send_email_code() -> Result<EnrollmentView, ApiError> {
    crate::server::enroll::send_code().await
}

#[server(prefix = "/api/enroll", endpoint = "verify-email", input = Json)]
pub async fn verify_email_code(code: String) -> Result<EnrollmentView, ApiError> {
    crate::server::enroll::verify_email(code).await
}

/// A new secret for the authenticator app (kept pending until confirmed).
#[server(prefix = "/api/enroll", endpoint = "authenticator", input = Json)]
pub async fn begin_authenticator() -> Result<AuthenticatorSetup, ApiError> {
    crate::server::enroll::begin_authenticator().await
}

/// Confirms the app with a code from it; 2FA becomes active and the user is logged in.
#[server(prefix = "/api/enroll", endpoint = "activate", input = Json)]
pub async fn confirm_authenticator(code: String) -> Result<Activated, ApiError> {
    crate::server::enroll::confirm_authenticator(code).await
}

/// Replaces the recovery codes with a new set (the old ones stop working), for a current
/// passcode from the authenticator app.
#[server(prefix = "/api/enroll", endpoint = "recovery-codes", input = Json)]
pub async fn regenerate_recovery_codes(code: String) -> Result<Vec<String>, ApiError> {
    crate::server::enroll::regenerate_recovery_codes(code).await
}

#[cfg(feature = "ssr")]
pub fn register() {
    use leptos::server_fn::axum::register_explicit;
    register_explicit::<EnrollmentStatus>();
    register_explicit::<SendEmailCode>();
    register_explicit::<VerifyEmailCode>();
    register_explicit::<BeginAuthenticator>();
    register_explicit::<ConfirmAuthenticator>();
    register_explicit::<RegenerateRecoveryCodes>();
}
