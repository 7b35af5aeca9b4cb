//! What administrators change: a user's 2FA or IP-verification pause (User Accounts) and the
//! account's settings (General Settings). Each change is one transaction with its audit event,
//! and applies only from the state the administrator saw: when two administrators act at once,
//! each change that lands is a real change and is audited, and the other is told the row moved
//! on (`ChangedMeanwhile`) with nothing written.

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::UnixTime;
use domain::admin::AdminAction;
use domain::twofactor::TwoFactorStatus;

use crate::audit::AuditEvent;
use crate::client::{Store, StoreError, build_error, n, outcome, s};
use crate::db::Db;
use crate::listing::{self, Column};
use crate::operation::Operation;
use crate::twofactor::user_key;
use crate::users::{Account, User, account_key};

/// What an administrator's change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum AdminChange {
    Applied,
    /// The user or the settings changed since the administrator read them: nothing written.
    ChangedMeanwhile,
}

/// The account's General Settings, as saved together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub two_factor_required: bool,
    pub remote_2fa_required_from: Option<UnixTime>,
    pub ip_verification: bool,
}

impl Store {
    /// `action` on `user` by the administrator `by`, with `audit`, in one transaction.
    pub async fn apply_admin_action(
        &self,
        user: &User,
        action: AdminAction,
        by: &str,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> Result<AdminChange, StoreError> {
        let db = self.op(Operation::ApplyAdminAction)?;
        let change = self.transact_update(user_key(user));
        let from = user.two_factor.status(false);
        let (change, to) = action_update(change, action, from, by, now);
        // A status change moves the user in the grid's 2FA order and in the account's counts
        // (from the status seen, which the condition pins: otherwise nothing is written).
        let (change, also) = match to {
            None => (change, Vec::new()),
            Some(to) if from == to => return Ok(AdminChange::ChangedMeanwhile),
            Some(to) => (
                change
                    .expression_attribute_names("#status", Column::TwoFactor.attribute())
                    .expression_attribute_values(":status", listing::status_value(to, &user.email)),
                vec![listing::count_move(&self.table, &user.account_id, Some(from), to)?],
            ),
        };
        self.change_with_audit(db, change.build().map_err(build_error)?, audit, also).await
    }

    /// Saves General Settings over `seen` (what the administrator read, with its version), with
    /// `audit`. `ChangedMeanwhile` if they changed since. Switching account-wide 2FA on ends every
    /// session that did not log in with 2FA, except `saver_session` (the hash of the saving
    /// administrator's session token), which moves to the new epoch in the same transaction: they
    /// made the change, and set up 2FA at their next login.
    pub async fn save_settings(
        &self,
        seen: &Account,
        settings: &Settings,
        audit: &AuditEvent,
        saver_session: &str,
    ) -> Result<AdminChange, StoreError> {
        let db = self.op(Operation::SaveSettings)?;
        let mut set =
            vec!["two_factor_required = :wide", "ip_verification = :ip", "settings_version = :next"];
        let mut remove = "";
        let change = self
            .transact_update(account_key(&seen.id))
            .expression_attribute_values(":wide", AttributeValue::Bool(settings.two_factor_required))
            .expression_attribute_values(":ip", AttributeValue::Bool(settings.ip_verification))
            .expression_attribute_values(":next", n(seen.settings_version + 1));
        let change = match settings.remote_2fa_required_from {
            Some(from) => {
                set.push("remote_2fa_required_from = :from");
                change.expression_attribute_values(":from", n(from.seconds()))
            }
            None => {
                remove = " REMOVE remote_2fa_required_from";
                change
            }
        };
        let change = if seen.settings_version == 0 {
            change.condition_expression("attribute_exists(pk) AND attribute_not_exists(settings_version)")
        } else {
            change
                .condition_expression("settings_version = :seen")
                .expression_attribute_values(":seen", n(seen.settings_version))
        };
        // Switching account-wide 2FA on ends, in the same write, every session that did not log
        // in with 2FA.
        let switched_on = settings.two_factor_required && !seen.two_factor_required;
        let (change, add) = if switched_on {
            (change.expression_attribute_values(":one", n(1)), " ADD session_epoch :one")
        } else {
            (change, "")
        };
        let change = change.update_expression(format!("SET {}{remove}{add}", set.join(", ")));
        let mut also = Vec::new();
        if switched_on {
            // The version condition above makes `seen`'s epoch the one being moved on.
            let keep = self
                .transact_update(crate::sessions::session_key(saver_session))
                .update_expression("SET account_epoch = :epoch")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":epoch", n(seen.session_epoch + 1))
                .build()
                .map_err(build_error)?;
            also.push(TransactWriteItem::builder().update(keep).build());
        }
        self.change_with_audit(db, change.build().map_err(build_error)?, audit, also).await
    }

    /// `change` with its `audit` event and any `also` items, in one transaction.
    async fn change_with_audit(
        &self,
        db: Db<'_>,
        change: Update,
        audit: &AuditEvent,
        also: Vec<TransactWriteItem>,
    ) -> Result<AdminChange, StoreError> {
        let mut items = vec![TransactWriteItem::builder().update(change).build(), self.audit_put(audit)?];
        items.extend(also);
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        outcome(result, AdminChange::Applied, AdminChange::ChangedMeanwhile)
    }
}

/// The condition that the user's 2FA status is exactly `status`, the one the administrator saw
/// (so the account's counts move from it).
fn status_seen(status: TwoFactorStatus) -> &'static str {
    match status {
        TwoFactorStatus::Active => "attribute_exists(tf_activated_at)",
        TwoFactorStatus::EnabledNotActivated => {
            "attribute_exists(tf_enabled_at) AND attribute_not_exists(tf_activated_at)"
        }
        TwoFactorStatus::Off => "attribute_exists(pk) AND attribute_not_exists(tf_enabled_at)",
    }
}

/// `action`'s change of the user item, on the condition of the state it starts from, and the
/// 2FA status it leads to (`None`: it changes no status). `from` is the status seen.
fn action_update(
    change: UpdateBuilder,
    action: AdminAction,
    from: TwoFactorStatus,
    by: &str,
    now: UnixTime,
) -> (UpdateBuilder, Option<TwoFactorStatus>) {
    let seen = status_seen(from);
    match action {
        AdminAction::EnableTwoFactor => (
            change
                .update_expression("SET tf_enabled_by = :by, tf_enabled_at = :now, #status = :status")
                .condition_expression(format!("attribute_not_exists(tf_enabled_at) AND {seen}"))
                .expression_attribute_values(":by", s(by))
                .expression_attribute_values(":now", n(now.seconds())),
            Some(TwoFactorStatus::EnabledNotActivated),
        ),
        // Their own choice, the authenticator, the recovery codes and any pause are cleared;
        // the epoch moving on ends every session of the user in the same write.
        AdminAction::DisableTwoFactor => (
            change
                .update_expression(
                    "SET #status = :status \
                     REMOVE tf_enabled_by, tf_enabled_at, tf_activated_at, totp_secret, totp_last_step, recovery, ip_paused \
                     ADD session_epoch :one",
                )
                .condition_expression(format!("attribute_exists(tf_enabled_at) AND {seen}"))
                .expression_attribute_values(":one", n(1)),
            Some(TwoFactorStatus::Off),
        ),
        // Lost phone: 2FA stays enabled, so the user activates again at their next login.
        AdminAction::ResetTwoFactor => (
            change
                .update_expression(
                    "SET tf_enabled_by = if_not_exists(tf_enabled_by, :by), tf_enabled_at = if_not_exists(tf_enabled_at, :now), \
                     #status = :status \
                     REMOVE tf_activated_at, totp_secret, totp_last_step, recovery, ip_paused ADD session_epoch :one",
                )
                .condition_expression(format!("attribute_exists(tf_activated_at) AND {seen}"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":by", s(by))
                .expression_attribute_values(":now", n(now.seconds())),
            Some(TwoFactorStatus::EnabledNotActivated),
        ),
        // Only while 2FA is active.
        AdminAction::PauseIpVerification => (
            change
                .update_expression("SET ip_paused = :yes")
                .condition_expression("attribute_exists(tf_activated_at) AND attribute_not_exists(ip_paused)")
                .expression_attribute_values(":yes", AttributeValue::Bool(true)),
            None,
        ),
        AdminAction::ResumeIpVerification => {
            (change.update_expression("REMOVE ip_paused").condition_expression("attribute_exists(ip_paused)"), None)
        }
    }
}
