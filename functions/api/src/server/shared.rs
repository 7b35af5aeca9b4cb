//! What several functions need about a user: their 2FA status, how the dashboard shows them, and
//! clearing their login counters. Kept apart so each function's code (and so its IAM policy)
//! includes only what it uses.

use domain::Email;
use domain::twofactor::Status;
use store::{Account, CounterKey, User};

use super::Ctx;
use crate::auth::{Me, TwoFactorStatus};

/// After a whole login succeeds its attempts stop counting. Best effort: a failure here only
/// leaves them counted until their window ends.
pub async fn clear_login_counters(ctx: &Ctx, email: &Email, ip: &str) {
    for key in counter_keys(email, ip) {
        if let Err(err) = ctx.store.clear_counter(&key).await {
            tracing::warn!(error = %err, "could not clear login counters");
        }
    }
}

pub fn counter_keys(email: &Email, ip: &str) -> [CounterKey; 2] {
    [CounterKey::pair(email, ip), CounterKey::email(email)]
}

pub fn status_of(user: &User, account: Option<&Account>) -> Status {
    user.two_factor.status(account.is_some_and(|a| a.two_factor_required))
}

pub fn wire_status(status: Status) -> TwoFactorStatus {
    match status {
        Status::Active => TwoFactorStatus::Active,
        Status::EnabledNotActivated => TwoFactorStatus::EnabledNotActivated,
        Status::Off => TwoFactorStatus::Off,
    }
}

pub fn me_from(user: &User, account: Option<&Account>) -> Me {
    Me {
        name: user.name.clone(),
        email: user.email.to_string(),
        role: user.role.label().to_owned(),
        account_name: account.map(|a| a.name.clone()).unwrap_or_default(),
        two_factor: wire_status(status_of(user, account)),
        is_administrator: user.role.can_manage_users(),
    }
}
