//! What several functions need about a user: their 2FA status and how the dashboard shows them.

use domain::UnixTime;
use domain::remote::RemotePolicy;
use domain::totp::TotpSecret;
use domain::twofactor::TwoFactorStatus;
use store::{Account, User};

use super::Ctx;
use crate::ApiError;
use crate::auth::Me;

/// Opens a user's sealed TOTP secret (a failure is a key or data problem, never the user's).
pub fn open_totp_secret(ctx: &Ctx, sealed: &str, user_id: &str) -> Result<TotpSecret, ApiError> {
    ctx.config.totp_keys()?.open(sealed, user_id).map(TotpSecret::from_bytes).map_err(|err| {
        tracing::error!(error = %err, "cannot decrypt a TOTP secret");
        ApiError::internal()
    })
}

pub fn status_of(user: &User, account: Option<&Account>) -> TwoFactorStatus {
    user.two_factor.status(account.is_some_and(|a| a.two_factor_required))
}

/// The account's rules for Take Control and RBM (none without an account).
pub fn remote_policy(account: Option<&Account>) -> RemotePolicy {
    RemotePolicy {
        account_wide_2fa: account.is_some_and(|a| a.two_factor_required),
        required_from: account.and_then(|a| a.remote_2fa_required_from),
    }
}

pub fn me_from(user: &User, account: Option<&Account>, now: UnixTime) -> Me {
    let status = status_of(user, account);
    Me {
        name: user.name.clone(),
        email: user.email.to_string(),
        role: user.role.label().to_owned(),
        account_name: account.map(|a| a.name.clone()).unwrap_or_default(),
        two_factor: status,
        is_administrator: user.role.can_manage_users(),
        remote_2fa: remote_policy(account).requirement(status, now),
    }
}
