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

server_functions! {
    prefix = "/api/enroll";

    /// Where the activation flow stands.
    "status" => EnrollmentStatus:
        fn enrollment_status() -> EnrollmentView = crate::server::enroll::status;

    /// Sends a 6-digit code to the login email (at most once a minute).
    "send-code" => SendEmailCode: fn send_email_code() -> EnrollmentView = crate::server::enroll::send_code;

    /// Checks the emailed code; the address is then validated.
    "verify-email" => VerifyEmailCode:
        fn verify_email_code(code: String) -> EnrollmentView = crate::server::enroll::verify_email;

    /// A new secret for the authenticator app (kept pending until confirmed).
    "authenticator" => BeginAuthenticator:
        fn begin_authenticator() -> AuthenticatorSetup = crate::server::enroll::begin_authenticator;

    /// Confirms the app with a code from it; 2FA becomes active and the user is logged in.
    "activate" => ConfirmAuthenticator:
        fn confirm_authenticator(code: String) -> Activated = crate::server::enroll::confirm_authenticator;

    /// Replaces the recovery codes with a new set (the old ones stop working), for a current
    /// passcode from the authenticator app.
    "recovery-codes" => RegenerateRecoveryCodes:
        fn regenerate_recovery_codes(code: String) -> Vec<String> = crate::server::enroll::regenerate_recovery_codes;
}
