//! Per-user 2FA: enabling, the activation flow's enrollment item, activation, recovery codes.
//!
//! The enrollment item (`ACCOUNT#<a>` / `ENROLL#<user>`) holds the email code and the pending
//! authenticator secret. Nothing on the user item changes until a valid code from the app
//! confirms the secret, so an unconfirmed secret can never lock anyone out.
//!
//! An enrollment is bound to the session or waiting login that proved it ([`Binding`]) and ends
//! with it: another login (someone else who has the password, say) finds no validated email and
//! no pending secret, and starts again from the email step.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use domain::UnixTime;
use domain::email_code::SentCode;
use domain::twofactor::TwoFactorStatus;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{
    Item, Store, StoreError, build_error, conditional, done_unless_failed, get_opt_n, get_opt_s, n, s,
};
use crate::keys::{EXPIRES_AT, PK, SK, account_pk, enroll_sk, user_sk};
use crate::listing::{self, Column};
use crate::operation::Operation;
use crate::sessions::{Session, sign_in_items};
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
    Item::from([(PK.to_owned(), s(account_pk(&user.account_id))), (SK.to_owned(), s(enroll_sk(&user.id)))])
}

pub(crate) fn user_key(user: &User) -> Item {
    Item::from([(PK.to_owned(), s(account_pk(&user.account_id))), (SK.to_owned(), s(user_sk(&user.id)))])
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
        let enable = Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_key(user)))
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
        match conditional(result) {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
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
        let out = db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(enroll_key(user)))
            .consistent_read(true)
            .send()
            .await?;
        let ours = |i: &Item| {
            get_opt_n(i, EXPIRES_AT).is_some_and(|exp| now.seconds() < exp)
                && get_opt_s(i, "bound_to").as_deref() == Some(binding.token_hash)
        };
        let Some(item) = out.item.filter(ours) else {
            return Ok(Enrollment::default());
        };
        let sent_code = match (get_opt_s(&item, "code_hash"), get_opt_n(&item, "sent_at")) {
            (Some(code_hash), Some(sent_at)) => Some(SentCode {
                code_hash,
                sent_at: UnixTime(sent_at),
                tries: get_opt_n(&item, "tries").unwrap_or(0) as u32,
            }),
            _ => None,
        };
        Ok(Enrollment {
            sent_code,
            email_verified_at: get_opt_n(&item, "email_verified_at").map(UnixTime),
            pending_secret: get_opt_s(&item, "pending_secret"),
            codes_sent: get_opt_n(&item, "sends").unwrap_or(0) as u32,
        })
    }

    /// Stores a newly sent code, unless one was sent after `cooldown_cutoff` or `max_sends` were
    /// sent in this activation (then `Conflict`). An activation that expired or belongs to another
    /// session or login is replaced by a fresh one.
    pub async fn save_email_code(
        &self,
        user: &User,
        binding: Binding<'_>,
        code_hash: &str,
        now: UnixTime,
        cooldown_cutoff: UnixTime,
        max_sends: u32,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SaveEmailCode)?;
        let update = || {
            db.update_item()
                .table_name(&self.table)
                .set_key(Some(enroll_key(user)))
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
        match conditional(fresh) {
            Err(StoreError::Conflict) => {}
            other => return other.map(|_| ()),
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
        conditional(next)?;
        Ok(())
    }

    /// The email carrying the code with hash `code_hash` could not be sent: the code stops being
    /// valid, and the send neither counts nor holds back the next one.
    pub async fn withdraw_email_code(&self, user: &User, code_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::WithdrawEmailCode)?;
        let result = db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(enroll_key(user)))
            .update_expression("SET sent_at = :long_ago ADD sends :minus_one REMOVE code_hash")
            .condition_expression("code_hash = :h")
            .expression_attribute_values(":long_ago", n(0))
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":h", s(code_hash))
            .send()
            .await;
        // Already replaced or used: then nothing of it is left to withdraw.
        done_unless_failed(result)
    }

    /// Counts one try of the code with hash `code_hash`, only while fewer than `max` were made.
    /// `Conflict` means the tries are used up or the code was replaced meanwhile.
    pub async fn count_email_code_try(
        &self,
        user: &User,
        code_hash: &str,
        max: u32,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::CountEmailCodeTry)?;
        conditional(
            db.update_item()
                .table_name(&self.table)
                .set_key(Some(enroll_key(user)))
                .update_expression("ADD tries :one")
                .condition_expression("code_hash = :h AND tries < :max")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":h", s(code_hash))
                .expression_attribute_values(":max", n(i64::from(max)))
                .send()
                .await,
        )?;
        Ok(())
    }

    /// The email is proven; the code is spent (it cannot be used again).
    pub async fn mark_email_verified(
        &self,
        user: &User,
        code_hash: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::MarkEmailVerified)?;
        conditional(
            db.update_item()
                .table_name(&self.table)
                .set_key(Some(enroll_key(user)))
                .update_expression("SET email_verified_at = :now REMOVE code_hash")
                .condition_expression("code_hash = :h")
                .expression_attribute_values(":now", n(now.seconds()))
                .expression_attribute_values(":h", s(code_hash))
                .send()
                .await,
        )?;
        Ok(())
    }

    /// Keeps the secret just shown to the user until a code from their app confirms it; only in
    /// an activation of `binding` whose email was validated (`Conflict` otherwise).
    pub async fn set_pending_secret(
        &self,
        user: &User,
        binding: Binding<'_>,
        encrypted: &str,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SetPendingSecret)?;
        conditional(
            db.update_item()
                .table_name(&self.table)
                .set_key(Some(enroll_key(user)))
                .update_expression("SET pending_secret = :secret")
                .condition_expression("attribute_exists(email_verified_at) AND bound_to = :b AND #exp > :now")
                .expression_attribute_names("#exp", EXPIRES_AT)
                .expression_attribute_values(":b", s(binding.token_hash))
                .expression_attribute_values(":now", n(now.seconds()))
                .expression_attribute_values(":secret", s(encrypted))
                .send()
                .await,
        )?;
        Ok(())
    }

    /// Activates 2FA in one transaction: the confirmed secret, the step of the confirming code,
    /// the recovery code hashes; the enrollment item is consumed; the activation is audited; and
    /// when it ends a login, that login's challenge is consumed and its session starts. `Conflict`
    /// if 2FA was activated meanwhile, the pending secret changed or the login was used up.
    pub async fn activate_two_factor(
        &self,
        user: &User,
        activation: Activation<'_>,
        login: Option<FinishLogin<'_>>,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::ActivateTwoFactor)?;
        let Activation { pending_secret, step, recovery_hashes, audit } = activation;
        let now = audit.at;
        let mut set = String::from(
            "SET totp_secret = :secret, totp_last_step = :step, tf_activated_at = :now, recovery = :codes, \
             tf_enabled_by = if_not_exists(tf_enabled_by, :me), tf_enabled_at = if_not_exists(tf_enabled_at, :now)",
        );
        set += ", #status = :status";
        if login.is_some() {
            set += ", last_login = :now, #last = :last";
        }
        // From the status seen (enabled, or off for a self-service setup), which the counts
        // move from.
        let from = user.two_factor.status(false);
        let seen = match from {
            TwoFactorStatus::Off => "attribute_not_exists(tf_enabled_at)",
            _ => "attribute_exists(tf_enabled_at)",
        };
        let activate = Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_key(user)))
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
        let activate = match login {
            Some(_) => activate
                .expression_attribute_names("#last", Column::LastLogin.attribute())
                .expression_attribute_values(":last", listing::login_value(Some(now), &user.email)),
            None => activate,
        };
        let activate = activate.build().map_err(build_error)?;
        let consume = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(enroll_key(user)))
            .condition_expression("pending_secret = :secret")
            .expression_attribute_values(":secret", s(pending_secret))
            .build()
            .map_err(build_error)?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(audit)))
            .build()
            .map_err(build_error)?;
        let mut items = vec![
            TransactWriteItem::builder().update(activate).build(),
            TransactWriteItem::builder().delete(consume).build(),
            TransactWriteItem::builder().put(record).build(),
            listing::count_move(&self.table, &user.account_id, Some(from), TwoFactorStatus::Active)?,
        ];
        if let Some(login) = login {
            items.push(TransactWriteItem::builder().delete(login.consume_challenge(&self.table)?).build());
            let [start, _, record] =
                sign_in_items(&self.table, login.session_hash, login.session, &user.email, login.audit)?;
            items.extend([start, record]);
        }
        conditional(db.transact_write_items().set_transact_items(Some(items)).send().await)?;
        Ok(())
    }

    /// Replaces the whole set of recovery codes (the old ones stop working), proven by a passcode
    /// of time step `step` for the secret `sealed_secret`: only a step later than the last one
    /// used, and it becomes the last one used (`Conflict` otherwise, nothing written).
    pub async fn replace_recovery_codes(
        &self,
        user: &User,
        hashes: Vec<String>,
        sealed_secret: &str,
        step: i64,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::ReplaceRecoveryCodes)?;
        conditional(
            db.update_item()
                .table_name(&self.table)
                .set_key(Some(user_key(user)))
                .update_expression("SET recovery = :codes, totp_last_step = :step")
                .condition_expression(
                    "attribute_exists(tf_activated_at) AND totp_secret = :secret \
                     AND (attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
                )
                .expression_attribute_values(":codes", AttributeValue::Ss(hashes))
                .expression_attribute_values(":secret", s(sealed_secret))
                .expression_attribute_values(":step", n(step))
                .send()
                .await,
        )?;
        Ok(())
    }
}
