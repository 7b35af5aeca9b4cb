//! Per-user 2FA: enabling, the activation flow's enrollment item, activation, recovery codes.
//!
//! The enrollment item (`ACCOUNT#<a>` / `ENROLL#<user>`) holds the email code and the pending
//! authenticator secret. Nothing on the user item changes until a valid code from the app
//! confirms the secret, so an unconfirmed secret can never lock anyone out.
//!
//! An enrollment is bound to the session or waiting login that proved it ([`Binding`]) and ends
//! with it: another login (someone else who has the password, say) finds no validated email and
//! no pending secret, and starts again from the email step.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use domain::UnixTime;
use domain::email_code::SentCode;
use domain::twofactor::TwoFactorStatus;
use serde::Deserialize;

use crate::audit::AuditEvent;
use crate::client::{
    Item, Store, StoreError, build_error, conditional, done_unless_failed, item_key, n, outcome, s,
};
use crate::db::Db;
use crate::keys::{EXPIRES_AT, account_pk, enroll_sk, user_sk};
use crate::listing::{self, Column};
use crate::operation::Operation;
use crate::sessions::Session;
use crate::users::User;

/// What activating 2FA writes.
pub struct Activation<'a> {
    /// The encrypted secret the user's app confirmed (the enrollment's pending secret).
    pub pending_secret: &'a str,
    /// The time step of the confirming code: only later steps are accepted next.
    pub step: i64,
    pub recovery_hashes: Vec<String>,
    /// The activation's audit event; its time is the activation's.
    pub audit: &'a AuditEvent,
}

/// The login an activation completes: its challenge is consumed and its session starts.
pub struct FinishLogin<'a> {
    pub challenge_hash: &'a str,
    pub session_hash: &'a str,
    pub session: &'a Session,
    pub audit: &'a AuditEvent,
}

impl FinishLogin<'_> {
    fn consume_challenge(&self, table: &str) -> Result<Delete, StoreError> {
        Delete::builder()
            .table_name(table)
            .set_key(Some(crate::challenges::challenge_key(self.challenge_hash)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_error)
    }
}

/// The longest an unfinished activation is kept, even for a session that lasts longer.
const ENROLLMENT_TTL_SECONDS: i64 = 24 * 60 * 60;

/// The session or waiting login an enrollment belongs to: the hash of its token, and when it ends.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub token_hash: &'a str,
    pub expires_at: UnixTime,
}

impl Binding<'_> {
    fn enrollment_expires_at(&self, now: UnixTime) -> UnixTime {
        self.expires_at.min(now.plus_seconds(ENROLLMENT_TTL_SECONDS))
    }
}

/// An enrollment's item as stored (the key aside); written only by updates. No `Debug`: it holds
/// a sealed secret.
#[derive(Deserialize)]
struct EnrollmentItem {
    expires_at: Option<UnixTime>,
    /// The hash of the session or login token it belongs to ([`Binding`]).
    bound_to: Option<String>,
    code_hash: Option<String>,
    sent_at: Option<UnixTime>,
    #[serde(default)]
    tries: u32,
    email_verified_at: Option<UnixTime>,
    pending_secret: Option<String>,
    #[serde(default)]
    sends: u32,
}

impl EnrollmentItem {
    /// Not expired at `now`, and of `binding`'s session or login.
    fn belongs_to(&self, binding: Binding<'_>, now: UnixTime) -> bool {
        self.expires_at.is_some_and(|exp| now < exp) && self.bound_to.as_deref() == Some(binding.token_hash)
    }

    fn into_enrollment(self) -> Enrollment {
        let sent_code = match (self.code_hash, self.sent_at) {
            (Some(code_hash), Some(sent_at)) => Some(SentCode { code_hash, sent_at, tries: self.tries }),
            _ => None,
        };
        Enrollment {
            sent_code,
            email_verified_at: self.email_verified_at,
            pending_secret: self.pending_secret,
            codes_sent: self.sends,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enrollment {
    pub sent_code: Option<SentCode>,
    pub email_verified_at: Option<UnixTime>,
    /// Encrypted secret shown to the user, not yet confirmed.
    pub pending_secret: Option<String>,
    /// Email codes sent in this activation.
    pub codes_sent: u32,
}

/// The key of `user`'s enrollment item (the activation in progress).
pub fn enroll_key(user: &User) -> Item {
    item_key(account_pk(&user.account_id), enroll_sk(&user.id))
}

pub(crate) fn user_key(user: &User) -> Item {
    item_key(account_pk(&user.account_id), user_sk(&user.id))
}

impl Store {
    /// The user item's part in an activation: the confirmed secret, its step and the recovery codes
    /// are stored, 2FA becomes active, and (`logs_in`) the login is noted.
    fn activation_update(
        &self,
        user: &User,
        activation: Activation<'_>,
        logs_in: bool,
    ) -> Result<Update, StoreError> {
        let Activation { pending_secret, step, recovery_hashes, audit } = activation;
        let now = audit.at;
        let mut set = String::from(
            "SET totp_secret = :secret, totp_last_step = :step, tf_activated_at = :now, recovery = :codes, \
             tf_enabled_by = if_not_exists(tf_enabled_by, :me), tf_enabled_at = if_not_exists(tf_enabled_at, :now)",
        );
        set += ", #status = :status";
        if logs_in {
            set += ", last_login = :now, #last = :last";
        }
        // From the status seen (enabled, or off for a self-service setup), which the counts
        // move from.
        let seen = match user.two_factor.status(false) {
            TwoFactorStatus::Off => "attribute_not_exists(tf_enabled_at)",
            _ => "attribute_exists(tf_enabled_at)",
        };
        let activate = self
            .transact_update(user_key(user))
            .update_expression(set)
            .condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists(tf_activated_at) AND {seen}"
            ))
            .expression_attribute_names("#status", Column::TwoFactor.attribute())
            .expression_attribute_values(
                ":status",
                listing::status_value(TwoFactorStatus::Active, &user.email),
            )
            .expression_attribute_values(":secret", s(pending_secret))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":now", n(now.seconds()))
            .expression_attribute_values(":codes", AttributeValue::Ss(recovery_hashes))
            .expression_attribute_values(":me", s(&user.id));
        let activate = match logs_in {
            true => activate
                .expression_attribute_names("#last", Column::LastLogin.attribute())
                .expression_attribute_values(":last", listing::login_value(Some(now), &user.email)),
            false => activate,
        };
        activate.build().map_err(build_error)
    }
}

/// What [`Store::save_email_code`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum CodeSave {
    Saved,
    /// A code went out within the cooldown, or the most were sent in this activation: nothing
    /// written.
    Throttled,
}

/// What [`Store::count_email_code_try`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum CodeTry {
    Counted,
    /// The code's tries are used up, or it was replaced meanwhile.
    NoTriesLeft,
}

/// What [`Store::mark_email_verified`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum CodeUse {
    Verified,
    /// Another request spent the code first.
    AlreadyUsed,
}

/// What [`Store::set_pending_secret`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum PendingSecretSave {
    Saved,
    /// The binding's activation has no validated email (or has expired): nothing written.
    EmailNotValidated,
}

/// What [`Store::activate_two_factor`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum Activate {
    Activated,
    /// 2FA was activated meanwhile, the pending secret changed or the login was used up: nothing
    /// written.
    SetupChanged,
}

/// What [`Store::replace_recovery_codes`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum RecoveryCodesReplace {
    Replaced,
    /// The passcode's time step was not later than the last one used (or the secret changed):
    /// nothing written.
    PasscodeAlreadyUsed,
}

impl Store {
    /// Marks 2FA as enabled for `user` (grey tick) unless it already is. Idempotent.
    pub async fn enable_two_factor(
        &self,
        user: &User,
        by_user_id: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::EnableTwoFactor)?;
        // From off only (the condition), so the account's counts move from off.
        let enable = self
            .transact_update(user_key(user))
            .update_expression("SET tf_enabled_by = :by, tf_enabled_at = :now, #status = :status")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(tf_enabled_at)")
            .expression_attribute_names("#status", Column::TwoFactor.attribute())
            .expression_attribute_values(
                ":status",
                listing::status_value(TwoFactorStatus::EnabledNotActivated, &user.email),
            )
            .expression_attribute_values(":by", s(by_user_id))
            .expression_attribute_values(":now", n(now.seconds()))
            .build()
            .map_err(build_error)?;
        let count = listing::count_move(
            &self.table,
            &user.account_id,
            Some(TwoFactorStatus::Off),
            TwoFactorStatus::EnabledNotActivated,
        )?;
        let result = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(enable).build())
            .transact_items(count)
            .send()
            .await;
        done_unless_failed(result)
    }

    /// The user's activation in progress under `binding`; one that expired or belongs to another
    /// session or login counts as none.
    pub async fn get_enrollment(
        &self,
        user: &User,
        binding: Binding<'_>,
        now: UnixTime,
    ) -> Result<Enrollment, StoreError> {
        let db = self.op(Operation::GetEnrollment)?;
        let stored = db.read_record::<EnrollmentItem>(enroll_key(user)).await?;
        Ok(stored
            .filter(|e| e.belongs_to(binding, now))
            .map(EnrollmentItem::into_enrollment)
            .unwrap_or_default())
    }

    /// Stores a newly sent code, unless one was sent after `cooldown_cutoff` or `max_sends` were
    /// sent in this activation (then `Throttled`). An activation that expired or belongs to another
    /// session or login is replaced by a fresh one.
    pub async fn save_email_code(
        &self,
        user: &User,
        binding: Binding<'_>,
        code_hash: &str,
        now: UnixTime,
        cooldown_cutoff: UnixTime,
        max_sends: u32,
    ) -> Result<CodeSave, StoreError> {
        let db = self.op(Operation::SaveEmailCode)?;
        let update = || {
            db.update(enroll_key(user))
                .expression_attribute_names("#exp", EXPIRES_AT)
                .expression_attribute_values(":h", s(code_hash))
                .expression_attribute_values(":now", n(now.seconds()))
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":exp", n(binding.enrollment_expires_at(now).seconds()))
                .expression_attribute_values(":b", s(binding.token_hash))
        };
        let fresh = update()
            .update_expression(
                "SET code_hash = :h, sent_at = :now, tries = :zero, sends = :one, #exp = :exp, bound_to = :b \
                 REMOVE email_verified_at, pending_secret",
            )
            .condition_expression("attribute_not_exists(pk) OR #exp <= :now OR bound_to <> :b")
            .send()
            .await;
        if conditional(fresh)?.is_some() {
            return Ok(CodeSave::Saved);
        }
        let next = update()
            .update_expression(
                "SET code_hash = :h, sent_at = :now, tries = :zero, #exp = :exp ADD sends :one",
            )
            .condition_expression("bound_to = :b AND sent_at <= :cutoff AND sends < :max")
            .expression_attribute_values(":cutoff", n(cooldown_cutoff.seconds()))
            .expression_attribute_values(":max", n(i64::from(max_sends)))
            .send()
            .await;
        outcome(next, CodeSave::Saved, CodeSave::Throttled)
    }

    /// The email carrying the code with hash `code_hash` could not be sent: the code stops being
    /// valid, and the send neither counts nor holds back the next one.
    pub async fn withdraw_email_code(&self, user: &User, code_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::WithdrawEmailCode)?;
        let values = vec![(":long_ago", n(0)), (":minus_one", n(-1)), (":h", s(code_hash))];
        let result = update_enrollment(
            db,
            user,
            "SET sent_at = :long_ago ADD sends :minus_one REMOVE code_hash",
            "code_hash = :h",
            values,
        )
        .await;
        // Already replaced or used: then nothing of it is left to withdraw.
        done_unless_failed(result)
    }

    /// Counts one try of the code with hash `code_hash`, only while fewer than `max` were made.
    pub async fn count_email_code_try(
        &self,
        user: &User,
        code_hash: &str,
        max: u32,
    ) -> Result<CodeTry, StoreError> {
        let db = self.op(Operation::CountEmailCodeTry)?;
        let values = vec![(":one", n(1)), (":h", s(code_hash)), (":max", n(i64::from(max)))];
        let result =
            update_enrollment(db, user, "ADD tries :one", "code_hash = :h AND tries < :max", values).await;
        outcome(result, CodeTry::Counted, CodeTry::NoTriesLeft)
    }

    /// The email is proven; the code is spent (it cannot be used again).
    pub async fn mark_email_verified(
        &self,
        user: &User,
        code_hash: &str,
        now: UnixTime,
    ) -> Result<CodeUse, StoreError> {
        let db = self.op(Operation::MarkEmailVerified)?;
        let values = vec![(":now", n(now.seconds())), (":h", s(code_hash))];
        let result = update_enrollment(
            db,
            user,
            "SET email_verified_at = :now REMOVE code_hash",
            "code_hash = :h",
            values,
        )
        .await;
        outcome(result, CodeUse::Verified, CodeUse::AlreadyUsed)
    }

    /// Keeps the secret just shown to the user until a code from their app confirms it; only in
    /// an activation of `binding` whose email was validated (`EmailNotValidated` otherwise).
    pub async fn set_pending_secret(
        &self,
        user: &User,
        binding: Binding<'_>,
        encrypted: &str,
        now: UnixTime,
    ) -> Result<PendingSecretSave, StoreError> {
        let db = self.op(Operation::SetPendingSecret)?;
        let values =
            vec![(":b", s(binding.token_hash)), (":now", n(now.seconds())), (":secret", s(encrypted))];
        let result = db
            .update_where(
                enroll_key(user),
                "SET pending_secret = :secret",
                "attribute_exists(email_verified_at) AND bound_to = :b AND #exp > :now",
                values,
            )
            .expression_attribute_names("#exp", EXPIRES_AT)
            .send()
            .await;
        outcome(result, PendingSecretSave::Saved, PendingSecretSave::EmailNotValidated)
    }

    /// Activates 2FA in one transaction: the confirmed secret, the step of the confirming code,
    /// the recovery code hashes; the enrollment item is consumed; the activation is audited; and
    /// when it ends a login, that login's challenge is consumed and its session starts.
    /// `SetupChanged` if 2FA was activated meanwhile, the pending secret changed or the login was
    /// used up.
    pub async fn activate_two_factor(
        &self,
        user: &User,
        activation: Activation<'_>,
        login: Option<FinishLogin<'_>>,
    ) -> Result<Activate, StoreError> {
        let db = self.op(Operation::ActivateTwoFactor)?;
        let (pending_secret, audit) = (activation.pending_secret, activation.audit);
        let from = user.two_factor.status(false);
        let activate = self.activation_update(user, activation, login.is_some())?;
        let consume = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(enroll_key(user)))
            .condition_expression("pending_secret = :secret")
            .expression_attribute_values(":secret", s(pending_secret))
            .build()
            .map_err(build_error)?;
        let mut items = vec![
            TransactWriteItem::builder().update(activate).build(),
            TransactWriteItem::builder().delete(consume).build(),
            self.audit_put(audit)?,
            listing::count_move(&self.table, &user.account_id, Some(from), TwoFactorStatus::Active)?,
        ];
        if let Some(login) = login {
            items.push(TransactWriteItem::builder().delete(login.consume_challenge(&self.table)?).build());
            let [start, _, record] =
                self.sign_in_items(login.session_hash, login.session, &user.email, login.audit)?;
            items.extend([start, record]);
        }
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        outcome(result, Activate::Activated, Activate::SetupChanged)
    }

    /// Replaces the whole set of recovery codes (the old ones stop working), proven by a passcode
    /// of time step `step` for the secret `sealed_secret`: only a step later than the last one
    /// used, and it becomes the last one used (`PasscodeAlreadyUsed` otherwise, nothing written).
    pub async fn replace_recovery_codes(
        &self,
        user: &User,
        hashes: Vec<String>,
        sealed_secret: &str,
        step: i64,
    ) -> Result<RecoveryCodesReplace, StoreError> {
        let db = self.op(Operation::ReplaceRecoveryCodes)?;
        let result = db
            .update(user_key(user))
            .update_expression("SET recovery = :codes, totp_last_step = :step")
            .condition_expression(
                "attribute_exists(tf_activated_at) AND totp_secret = :secret \
                 AND (attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
            )
            .expression_attribute_values(":codes", AttributeValue::Ss(hashes))
            .expression_attribute_values(":secret", s(sealed_secret))
            .expression_attribute_values(":step", n(step))
            .send()
            .await;
        outcome(result, RecoveryCodesReplace::Replaced, RecoveryCodesReplace::PasscodeAlreadyUsed)
    }
}

/// Updates `user`'s enrollment item with `expression` if `condition` holds, `values` filling
/// their placeholders.
async fn update_enrollment(
    db: Db<'_>,
    user: &User,
    expression: &str,
    condition: &str,
    values: Vec<(&str, AttributeValue)>,
) -> Result<UpdateItemOutput, SdkError<UpdateItemError, HttpResponse>> {
    db.update_where(enroll_key(user), expression, condition, values).send().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{from_item, stored};

    fn binding() -> Binding<'static> {
        Binding { token_hash: "session-hash", expires_at: UnixTime(10_000) }
    }

    fn enrollment_item(bound_to: &str, expires_at: i64) -> Item {
        stored(&[
            (EXPIRES_AT, n(expires_at)),
            ("bound_to", s(bound_to)),
            ("code_hash", s("code")),
            ("sent_at", n(100)),
            ("tries", n(2)),
            ("sends", n(3)),
            ("pending_secret", s("sealed")),
        ])
    }

    #[test]
    fn an_enrollment_of_the_binding_reads_its_code_sends_and_secret() {
        let stored = from_item::<EnrollmentItem>(enrollment_item("session-hash", 500)).unwrap();
        assert!(stored.belongs_to(binding(), UnixTime(400)));
        let enrollment = stored.into_enrollment();
        let sent = SentCode { code_hash: "code".into(), sent_at: UnixTime(100), tries: 2 };
        assert_eq!(enrollment.sent_code, Some(sent));
        assert_eq!((enrollment.codes_sent, enrollment.pending_secret.as_deref()), (3, Some("sealed")));
    }

    #[test]
    fn an_expired_enrollment_or_another_bindings_counts_as_none() {
        let expired = from_item::<EnrollmentItem>(enrollment_item("session-hash", 500)).unwrap();
        assert!(!expired.belongs_to(binding(), UnixTime(500)));
        let other = from_item::<EnrollmentItem>(enrollment_item("other-hash", 500)).unwrap();
        assert!(!other.belongs_to(binding(), UnixTime(400)));
    }
}
