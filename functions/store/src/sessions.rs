use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::session::{Epochs, Reauth};
use domain::{Email, UnixTime};
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::client::{Item, Store, StoreError, build_error, from_item, item_key, keyed_item, n, s};
use crate::keys::{ACCOUNT_SK, SESSION_SK, SK, account_pk, session_pk, sessions_of, user_sk};
use crate::listing::{Column, login_value};
use crate::operation::Operation;
use crate::users::{Account, User};

/// A signed-in browser. Stored under the SHA-256 of its token; the token itself is never stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user_id: String,
    pub account_id: String,
    pub expires_at: UnixTime,
    /// Logged in with 2FA. A Disable or Reset moves the user's epoch on, which ends the session,
    /// so this stays true for the session's life and the remote-session gate only has to check
    /// the epoch.
    pub two_factor: bool,
    /// The user's and account's session epochs at login (`domain::session`).
    pub epochs: Epochs,
    /// The last proof of identity: the login, or a later step-up.
    pub reauth: Reauth,
}

/// What [`Store::record_reauth`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum ReauthRecord {
    Recorded,
    /// Its passcode's time step was used already (or the session is gone): nothing written.
    NotRecorded,
}

/// A passcode used for a step-up: the time step `step` of the secret `sealed_secret`.
pub struct SpentPasscode<'a> {
    pub user: &'a crate::User,
    pub sealed_secret: &'a str,
    pub step: i64,
}

pub(crate) fn session_key(token_hash: &str) -> Item {
    item_key(session_pk(token_hash), SESSION_SK)
}

/// A session's item as stored (the key aside). Items written before step-ups and epochs read as
/// epoch 0 and no step-up.
#[derive(Serialize, Deserialize)]
struct SessionItem {
    user_id: String,
    account_id: String,
    expires_at: UnixTime,
    #[serde(default)]
    two_factor: bool,
    #[serde(default)]
    user_epoch: i64,
    #[serde(default)]
    account_epoch: i64,
    #[serde(default)]
    reauth_at: i64,
    #[serde(default)]
    reauth_2fa: bool,
    /// Indexed by user, so a user's sessions can be found (devkit `age-sessions`).
    #[serde(skip_deserializing)]
    gsi1pk: String,
    #[serde(skip_deserializing)]
    gsi1sk: String,
}

impl SessionItem {
    fn into_session(self) -> Session {
        Session {
            user_id: self.user_id,
            account_id: self.account_id,
            expires_at: self.expires_at,
            two_factor: self.two_factor,
            epochs: Epochs { user: self.user_epoch, account: self.account_epoch },
            reauth: Reauth { at: UnixTime(self.reauth_at), two_factor: self.reauth_2fa },
        }
    }
}

pub(crate) fn session_item(token_hash: &str, session: &Session) -> Result<Item, StoreError> {
    let record = SessionItem {
        user_id: session.user_id.clone(),
        account_id: session.account_id.clone(),
        expires_at: session.expires_at,
        two_factor: session.two_factor,
        user_epoch: session.epochs.user,
        account_epoch: session.epochs.account,
        reauth_at: session.reauth.at.seconds(),
        reauth_2fa: session.reauth.two_factor,
        gsi1pk: sessions_of(&session.user_id),
        gsi1sk: session_pk(token_hash),
    };
    keyed_item(session_key(token_hash), &record)
}

fn session_from_item(item: Item) -> Result<Session, StoreError> {
    from_item::<SessionItem>(item).map(SessionItem::into_session)
}

impl Store {
    /// The writes that complete a login: its session starts, the user's last login is noted, and
    /// the login is audited.
    pub(crate) fn sign_in_items(
        &self,
        session_hash: &str,
        session: &Session,
        email: &Email,
        audit: &AuditEvent,
    ) -> Result<[TransactWriteItem; 3], StoreError> {
        let note = self
            .transact_update(item_key(account_pk(&session.account_id), user_sk(&session.user_id)))
            .update_expression("SET last_login = :now, #last = :last")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#last", Column::LastLogin.attribute())
            .expression_attribute_values(":now", n(audit.at.seconds()))
            .expression_attribute_values(":last", login_value(Some(audit.at), email))
            .build()
            .map_err(build_error)?;
        Ok([
            self.put_new(session_item(session_hash, session)?)?,
            TransactWriteItem::builder().update(note).build(),
            self.audit_put(audit)?,
        ])
    }
}

impl Store {
    /// Completes a login in one transaction ([`Store::sign_in_items`]), settling its lockout
    /// counters: all of it or, in an outage, none of it.
    pub async fn sign_in(
        &self,
        session_hash: &str,
        session: &Session,
        email: &Email,
        audit: &AuditEvent,
        settle: &crate::Settle,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SignIn)?;
        let items = self.sign_in_items(session_hash, session, email, audit)?;
        self.write_settling_all(db, items.into(), settle).await
    }

    pub async fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        let db = self.op(Operation::CreateSession)?;
        db.put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(token_hash, session)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// The session for a token hash, if it exists: expired or not (its `expires_at` says; the
    /// caller tells the user why it ended).
    pub async fn get_session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let db = self.op(Operation::GetSession)?;
        let stored = db.read_record::<SessionItem>(session_key(token_hash)).await?;
        Ok(stored.map(SessionItem::into_session))
    }

    /// A session with the user and account it names, in one read: the ids come from the
    /// cookie's hint ([`SessionHint`]), so the caller checks that the session names the same.
    pub async fn get_session_with_user(
        &self,
        token_hash: &str,
        hint: &SessionHint,
    ) -> Result<(Option<Session>, Option<User>, Option<Account>), StoreError> {
        let db = self.op(Operation::GetSessionWithUser)?;
        let mut keys = crate::users::user_and_account_keys(&hint.account_id, &hint.user_id);
        keys.push(session_key(token_hash));
        let items = db.batch_get(keys).await?;
        let (mut session, mut user, mut account) = (None, None, None);
        for item in items {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk == SESSION_SK => session = Some(session_from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == ACCOUNT_SK => {
                    account = Some(crate::users::account_from_item(item)?)
                }
                Some(_) => user = Some(crate::users::user_from_item(item)?),
                None => {}
            }
        }
        Ok((session, user, account))
    }

    /// Records a step-up on a session that still exists. One proven by a passcode also spends
    /// its time step, in the same transaction: only a step later than the last one used
    /// (`PasscodeAlreadyUsed` otherwise, nothing written). Audited in the same transaction;
    /// `Locked` when the step-up's counters are.
    pub async fn record_reauth(
        &self,
        token_hash: &str,
        reauth: Reauth,
        passcode: Option<SpentPasscode<'_>>,
        audit: &AuditEvent,
        settle: &crate::Settle,
    ) -> Result<ReauthRecord, StoreError> {
        let db = self.op(Operation::RecordReauth)?;
        let note = self
            .transact_update(session_key(token_hash))
            .update_expression("SET reauth_at = :at, reauth_2fa = :tf")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(reauth.at.seconds()))
            .expression_attribute_values(":tf", AttributeValue::Bool(reauth.two_factor))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(note).build()];
        if let Some(SpentPasscode { user, sealed_secret, step }) = passcode {
            let spend = self.transact_update(crate::twofactor::user_key(user))
                .update_expression("SET totp_last_step = :step")
                .condition_expression(
                    "totp_secret = :secret AND (attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
                )
                .expression_attribute_values(":secret", s(sealed_secret))
                .expression_attribute_values(":step", n(step))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().update(spend).build());
        }
        items.push(self.audit_put(audit)?);
        let written = self.write_settling(db, items, settle).await?;
        Ok(if written.is_some() { ReauthRecord::Recorded } else { ReauthRecord::NotRecorded })
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::DeleteSession)?;
        db.delete(session_key(token_hash)).await
    }
}

/// Which user and account a session cookie says it belongs to, so the session and both can be
/// read at once. Only a hint: the session item decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionHint {
    pub account_id: String,
    pub user_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::stored;
    use crate::keys::{EXPIRES_AT, GSI1_PK, GSI1_SK, PK};

    fn session() -> Session {
        Session {
            user_id: "u1".into(),
            account_id: "a1".into(),
            expires_at: UnixTime(1_000),
            two_factor: true,
            epochs: Epochs { user: 2, account: 3 },
            reauth: Reauth { at: UnixTime(900), two_factor: false },
        }
    }

    #[test]
    fn a_session_is_stored_by_its_attributes_and_read_back() {
        let item = session_item("h", &session()).unwrap();
        let expected = stored(&[
            (PK, s("SESSION#h")),
            (SK, s("SESSION")),
            ("user_id", s("u1")),
            ("account_id", s("a1")),
            (EXPIRES_AT, n(1_000)),
            ("two_factor", AttributeValue::Bool(true)),
            ("user_epoch", n(2)),
            ("account_epoch", n(3)),
            ("reauth_at", n(900)),
            ("reauth_2fa", AttributeValue::Bool(false)),
            (GSI1_PK, s("SESSIONS#u1")),
            (GSI1_SK, s("SESSION#h")),
        ]);
        assert_eq!(item, expected);
        assert_eq!(session_from_item(item).unwrap(), session());
    }

    #[test]
    fn a_session_from_before_epochs_and_step_ups_reads_as_zero() {
        let item = stored(&[("user_id", s("u1")), ("account_id", s("a1")), (EXPIRES_AT, n(5))]);
        let read = session_from_item(item).unwrap();
        assert_eq!(
            (read.epochs, read.reauth.at, read.two_factor),
            (Epochs { user: 0, account: 0 }, UnixTime(0), false)
        );
    }
}
