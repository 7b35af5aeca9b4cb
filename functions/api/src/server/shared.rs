//! What several functions need about a user: their 2FA status and how the dashboard shows them.

use domain::UnixTime;
use domain::remote::RemotePolicy;
use domain::twofactor::TwoFactorStatus;
use store::{Account, User};

use crate::auth::Me;

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
    Me {
        name: user.name.clone(),
        email: user.email.to_string(),
        role: user.role.label().to_owned(),
        account_name: account.map(|a| a.name.clone()).unwrap_or_default(),
        two_factor: status_of(user, account),
        is_administrator: user.role.can_manage_users(),
        remote_2fa: remote_policy(account).requirement(now),
    }
}
