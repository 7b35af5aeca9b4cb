//! The security events the audit log records: each has a stable code (what the table stores and
//! an export shows) and the words the log reads in.

use serde::{Deserialize, Serialize};

macro_rules! audit_actions {
    ($($variant:ident => $code:literal, $label:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            /// Every event, in the order the log's filter lists them.
            pub const ALL: &[AuditAction] = &[$(AuditAction::$variant,)*];

            /// The stored code, e.g. `login.success`.
            pub fn code(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $code,)*
                }
            }

            /// How the audit log names the event.
            pub fn label(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $label,)*
                }
            }
        }
    };
}

audit_actions! {
    LoginSuccess => "login.success", "Logged in";
    LoginFailure => "login.failure", "Login failed";
    LoginLockout => "login.lockout", "Login locked after failed attempts";
    PasscodeFailure => "login.passcode_failure", "Wrong passcode at login";
    RecoveryCodeLogin => "login.recovery_code", "Logged in with a recovery code";
    ActivationRequired => "login.activation_required", "Login sent to 2FA activation";
    Activated => "2fa.activated", "2FA activated";
    ActivateNow => "2fa.activate_now", "Chose Activate Now";
    EmailCodeSent => "2fa.email_code_sent", "Email verification code sent";
    RecoveryCodesRegenerated => "2fa.recovery_codes_regenerated", "Recovery codes replaced";
    EnabledByAdmin => "2fa.enabled_by_admin", "2FA enabled by an administrator";
    DisabledByAdmin => "2fa.disabled_by_admin", "2FA disabled by an administrator";
    ResetByAdmin => "2fa.reset_by_admin", "2FA reset by an administrator";
    IpLinkSent => "ip_verification.sent", "IP verification link sent";
    IpVerified => "ip_verification.verified", "New location verified";
    IpVerificationPaused => "ip_verification.paused", "IP verification paused";
    IpVerificationResumed => "ip_verification.resumed", "IP verification resumed";
    IpVerificationSkipped => "ip_verification.skipped_paused", "IP verification skipped (paused)";
    RemoteStarted => "remote.started", "Remote session started";
    RemoteDeferred => "remote.deferred", "Chose Activate Later";
    RemoteRefused => "remote.refused", "Remote session refused";
    SettingsChanged => "settings.changed", "General Settings changed";
    StepUp => "session.step_up", "Identity confirmed again";
    StepUpFailure => "session.step_up_failure", "Identity confirmation failed";
}

impl AuditAction {
    /// The event a stored code names (`None` for a code no version of the dashboard wrote).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_read_back() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(action.code()), Some(*action));
            assert!(!action.label().is_empty());
        }
        let mut codes: Vec<_> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::from_code("root.login"), None);
    }
}
