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
    /// Whether 2FA is required for Take Control and RBM (`Met` when the user's 2FA is active).
    pub remote_2fa: Requirement,
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

server_functions! {
    prefix = "/api/auth";

    /// Email and password. Wrong password and unknown email give the same answer in the same time.
    "login" => Login: fn login(email: String, password: String) -> LoginOutcome = crate::server::auth::login;

    /// The second step for users with active 2FA: a 6-digit passcode or a recovery code.
    "passcode" => SubmitPasscode:
        fn submit_passcode(code: String) -> PasscodeAccepted = crate::server::auth::submit_passcode;

    /// Where a login waiting for IP verification stands: still waiting, or its next step.
    "login-status" => LoginStatus: fn login_status() -> LoginOutcome = crate::server::auth::login_status;

    /// Emails the waiting login's verification link again (at most once a minute).
    "resend-ip-link" => ResendIpLink: fn resend_ip_link() -> () = crate::server::auth::resend_ip_link;

    /// Opens an emailed verification link: trusts the range of the address that logged in.
    /// Answers the verified range.
    "verify-ip" => VerifyIp: fn verify_ip(token: String) -> String = crate::server::auth::verify_ip;

    /// The signed-in user, or `None` when this browser has no valid session.
    "me" => CurrentUser: fn current_user() -> Option<Me> = crate::server::auth::me;

    /// Proves the signed-in user's identity again (the current passcode with active 2FA, the
    /// password without), so this session may lower security for the next ten minutes.
    "step-up" => StepUp: fn step_up(secret: String) -> () = crate::server::auth::step_up;

    /// Ends the session (server side too) and clears the cookie.
    "logout" => Logout: fn logout() -> () = crate::server::auth::logout;
}
