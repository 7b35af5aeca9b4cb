use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use domain::{Email, UnixTime};

use domain::session::{Epochs, Reauth};

use crate::audit::{AuditEvent, audit_item};
use crate::client::{Item, Store, StoreError, build_error, get_n, get_opt_n, get_s, n, s};
use crate::keys::{
    ACCOUNT_SK, EXPIRES_AT, GSI1_PK, GSI1_SK, PK, SESSION_SK, SK, account_pk, session_pk, sessions_of,
    user_sk,
};
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

/// A passcode used for a step-up: the time step `step` of the secret `sealed_secret`.
pub struct SpentPasscode<'a> {
    pub user: &'a crate::User,
    pub sealed_secret: &'a str,
    pub step: i64,
}

pub(crate) fn session_key(token_hash: &str) -> Item {
    Item::from([(PK.to_owned(), s(session_pk(token_hash))), (SK.to_owned(), s(SESSION_SK))])
}

pub(crate) fn session_item(token_hash: &str, session: &Session) -> Item {
    Item::from([
        (PK.to_owned(), s(session_pk(token_hash))),
        (SK.to_owned(), s(SESSION_SK)),
        ("user_id".to_owned(), s(&session.user_id)),
        ("account_id".to_owned(), s(&session.account_id)),
        (EXPIRES_AT.to_owned(), n(session.expires_at.seconds())),
        ("two_factor".to_owned(), AttributeValue::Bool(session.two_factor)),
        ("user_epoch".to_owned(), n(session.epochs.user)),
        ("account_epoch".to_owned(), n(session.epochs.account)),
        ("reauth_at".to_owned(), n(session.reauth.at.seconds())),
        ("reauth_2fa".to_owned(), AttributeValue::Bool(session.reauth.two_factor)),
        // Indexed by user, so a user's sessions can be found (devkit `age-sessions`).
        (GSI1_PK.to_owned(), s(sessions_of(&session.user_id))),
        (GSI1_SK.to_owned(), s(session_pk(token_hash))),
    ])
}

/// The writes that complete a login: its session starts, the user's last login is noted, and the
/// login is audited.
pub(crate) fn sign_in_items(
    table: &str,
    session_hash: &str,
    session: &Session,
    email: &Email,
    audit: &AuditEvent,
) -> Result<[TransactWriteItem; 3], StoreError> {
    let start = Put::builder()
        .table_name(table)
        .set_item(Some(session_item(session_hash, session)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(build_error)?;
    let note = Update::builder()
        .table_name(table)
        .key(PK, s(account_pk(&session.account_id)))
        .key(SK, s(user_sk(&session.user_id)))
        .update_expression("SET last_login = :now, #last = :last")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#last", Column::LastLogin.attribute())
        .expression_attribute_values(":now", n(audit.at.seconds()))
        .expression_attribute_values(":last", login_value(Some(audit.at), email))
        .build()
        .map_err(build_error)?;
    let record =
        Put::builder().table_name(table).set_item(Some(audit_item(audit))).build().map_err(build_error)?;
    Ok([
        TransactWriteItem::builder().put(start).build(),
        TransactWriteItem::builder().update(note).build(),
        TransactWriteItem::builder().put(record).build(),
    ])
}

impl Store {
    /// Completes a login in one transaction ([`sign_in_items`]), settling its lockout counters:
    /// all of it or, in an outage, none of it.
    pub async fn sign_in(
        &self,
        session_hash: &str,
        session: &Session,
        email: &Email,
        audit: &AuditEvent,
        settle: &crate::Settle,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SignIn)?;
        let items = sign_in_items(&self.table, session_hash, session, email, audit)?;
        self.write_settling(db, items.into(), settle).await
    }

    pub async fn create_session(&self, token_hash: &str, session: &Session) -> Result<(), StoreError> {
        let db = self.op(Operation::CreateSession)?;
        db.put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(token_hash, session)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// The session for a token hash, if it exists: expired or not (its `expires_at` says; the
    /// caller tells the user why it ended).
    pub async fn get_session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let db = self.op(Operation::GetSession)?;
        let out = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(session_pk(token_hash)))
            .key(SK, s(SESSION_SK))
            .consistent_read(true)
            .send()
            .await?;
        out.item.map(|item| session_from_item(&item)).transpose()
    }

    /// A session with the user and account it names, in one read: the ids come from the
    /// cookie's hint ([`SessionHint`]), so the caller checks that the session names the same.
    pub async fn get_session_with_user(
        &self,
        token_hash: &str,
        hint: &SessionHint,
    ) -> Result<(Option<Session>, Option<User>, Option<Account>), StoreError> {
        let db = self.op(Operation::GetSessionWithUser)?;
        let session_key =
            Item::from([(PK.to_owned(), s(session_pk(token_hash))), (SK.to_owned(), s(SESSION_SK))]);
        let mut keys = crate::users::user_and_account_keys(&hint.account_id, &hint.user_id);
        keys.push(session_key);
        let items = db.batch_get(keys).await?;
        let (mut session, mut user, mut account) = (None, None, None);
        for item in &items {
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
    /// (`Conflict` otherwise, nothing written). Audited in the same transaction; `Locked` when the
    /// step-up's counters are.
    pub async fn record_reauth(
        &self,
        token_hash: &str,
        reauth: Reauth,
        passcode: Option<SpentPasscode<'_>>,
        audit: &AuditEvent,
        settle: &crate::Settle,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::RecordReauth)?;
        let note = Update::builder()
            .table_name(&self.table)
            .key(PK, s(session_pk(token_hash)))
            .key(SK, s(SESSION_SK))
            .update_expression("SET reauth_at = :at, reauth_2fa = :tf")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", n(reauth.at.seconds()))
            .expression_attribute_values(":tf", AttributeValue::Bool(reauth.two_factor))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(note).build()];
        if let Some(SpentPasscode { user, sealed_secret, step }) = passcode {
            let spend = Update::builder()
                .table_name(&self.table)
                .set_key(Some(crate::twofactor::user_key(user)))
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
        let record = Put::builder().table_name(&self.table).set_item(Some(audit_item(audit)));
        items.push(TransactWriteItem::builder().put(record.build().map_err(build_error)?).build());
        self.write_settling(db, items, settle).await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::DeleteSession)?;
        db.delete_item()
            .table_name(&self.table)
            .key(PK, s(session_pk(token_hash)))
            .key(SK, s(SESSION_SK))
            .send()
            .await?;
        Ok(())
    }
}

fn session_from_item(item: &Item) -> Result<Session, StoreError> {
    Ok(Session {
        user_id: get_s(item, "user_id")?,
        account_id: get_s(item, "account_id")?,
        expires_at: UnixTime(get_n(item, EXPIRES_AT)?),
        two_factor: matches!(item.get("two_factor"), Some(AttributeValue::Bool(true))),
        epochs: Epochs {
            user: get_opt_n(item, "user_epoch").unwrap_or(0),
            account: get_opt_n(item, "account_epoch").unwrap_or(0),
        },
        reauth: Reauth {
            at: UnixTime(get_opt_n(item, "reauth_at").unwrap_or(0)),
            two_factor: matches!(item.get("reauth_2fa"), Some(AttributeValue::Bool(true))),
        },
    })
}

/// Which user and account a session cookie says it belongs to, so the session and both can be
/// read at once. Only a hint: the session item decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionHint {
    pub account_id: String,
    pub user_id: String,
}
