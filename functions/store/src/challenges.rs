//! Login challenges: a login that passed the password step and waits for a passcode or for 2FA
//! activation. Stored under the hash of a random token held in an HttpOnly cookie.
//!
//! The passcode step must cost at most two DynamoDB calls, so the challenge carries a copy of what
//! it needs from the user (the encrypted secret); the replay check itself is always against the
//! user item, in the same transaction that starts the session.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use domain::UnixTime;

use crate::audit::{AuditEvent, audit_item};
use crate::client::{
    Item, Store, StoreError, build_error, conditional, done_unless_failed, get_n, get_opt_n, get_opt_s,
    get_s, lost_condition, n, s,
};
use crate::iplinks::{IpLink, ip_link_item, ip_link_key};
use crate::keys::{CHALLENGE_SK, EXPIRES_AT, PK, SK, account_pk, challenge_pk, user_sk};
use crate::listing::{Column, login_value};
use crate::operation::Operation;
use crate::outcome::cancellation_reasons;
use crate::sessions::{Session, session_item};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// 2FA is active: the next step is a passcode or recovery code.
    Passcode,
    /// 2FA is enabled but not activated: the next step is the activation flow.
    Activation,
    /// The login comes from an unverified IP range: it waits for the emailed link.
    IpVerification,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Passcode => "passcode",
            Purpose::Activation => "activation",
            Purpose::IpVerification => "ip",
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct Challenge {
    pub user_id: String,
    pub account_id: String,
    pub purpose: Purpose,
    pub client_ip: String,
    pub expires_at: UnixTime,
    pub failures: u32,
    /// Copy of the user's encrypted TOTP secret (passcode challenges).
    pub totp_secret: Option<String>,
    /// What the dashboard shows once logged in, copied so the passcode step needs no more reads.
    pub greeting: Greeting,
    /// IP verification: the range the login came from.
    pub range: Option<String>,
    /// IP verification: the hash of the one link that can end the wait (earlier ones are revoked).
    pub link: Option<String>,
    /// IP verification: how many links were emailed for this login.
    pub links_sent: u32,
    /// The user's and account's session epochs when the password was checked: the session this
    /// login starts carries them, so a Disable or Reset meanwhile ends it at once.
    pub epochs: domain::session::Epochs,
    /// IP verification: its link was opened, the range is verified.
    pub verified: bool,
    /// Whether the login comes from a source the user is known at (`domain::lockout`): wrong
    /// passcodes count on that kind's counter.
    pub source: domain::lockout::Source,
}

/// The user and account as the dashboard greets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Greeting {
    pub name: String,
    pub email: String,
    pub role_code: String,
    pub account_name: String,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("user_id", &self.user_id)
            .field("purpose", &self.purpose)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

/// What proves the second factor.
#[derive(Clone, Copy, Debug)]
pub enum Proof<'a> {
    /// A TOTP code matched `step` for the challenge's copy of the encrypted secret.
    Passcode { step: i64, sealed_secret: &'a str },
    /// Every form a recovery code may be stored in (`domain::recovery::stored_forms`).
    RecoveryCode { hashes: &'a [String] },
}

/// Why finishing a second factor lost.
#[derive(Debug, PartialEq, Eq)]
pub enum FinishError {
    /// The step was not newer than the stored one, the code is not (any more) in the set, the
    /// secret changed, or the challenge was already used.
    Replayed,
    /// A lockout counter is locked.
    Locked,
    Store(StoreError),
}

/// IP-verification challenges live as long as their link.
const IP_CHALLENGE_TTL: i64 = domain::ipcheck::LINK_VALID_SECONDS;

pub(crate) fn challenge_key(token_hash: &str) -> crate::client::Item {
    crate::client::Item::from([
        (PK.to_owned(), s(challenge_pk(token_hash))),
        (SK.to_owned(), s(CHALLENGE_SK)),
    ])
}

fn challenge_item(token_hash: &str, c: &Challenge) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), s(challenge_pk(token_hash))),
        (SK.to_owned(), s(CHALLENGE_SK)),
        ("user_id".to_owned(), s(&c.user_id)),
        ("account_id".to_owned(), s(&c.account_id)),
        ("purpose".to_owned(), s(c.purpose.code())),
        ("client_ip".to_owned(), s(&c.client_ip)),
        ("failures".to_owned(), n(i64::from(c.failures))),
        ("name".to_owned(), s(&c.greeting.name)),
        ("email".to_owned(), s(&c.greeting.email)),
        ("role".to_owned(), s(&c.greeting.role_code)),
        ("account_name".to_owned(), s(&c.greeting.account_name)),
        (EXPIRES_AT.to_owned(), n(c.expires_at.seconds())),
        ("user_epoch".to_owned(), n(c.epochs.user)),
        ("account_epoch".to_owned(), n(c.epochs.account)),
        ("known_source".to_owned(), AttributeValue::Bool(c.source == domain::lockout::Source::Known)),
    ]);
    if let Some(secret) = &c.totp_secret {
        item.insert("totp_secret".to_owned(), s(secret));
    }
    if let Some(range) = &c.range {
        item.insert("range".to_owned(), s(range));
        item.insert("last_sent".to_owned(), n(c.expires_at.seconds() - IP_CHALLENGE_TTL));
        item.insert("links_sent".to_owned(), n(i64::from(c.links_sent)));
    }
    if let Some(link) = &c.link {
        item.insert("link".to_owned(), s(link));
    }
    item
}

impl Store {
    /// Starts a waiting login (with its audit event, if any), settling the password step's
    /// lockout counters in the same transaction.
    pub async fn create_challenge(
        &self,
        token_hash: &str,
        c: &Challenge,
        audit: Option<&AuditEvent>,
        settle: &crate::Settle,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::CreateChallenge)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(challenge_item(token_hash, c)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(event) = audit {
            let record = Put::builder()
                .table_name(&self.table)
                .set_item(Some(audit_item(event)))
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().put(record).build());
        }
        self.write_settling(db, items, settle).await
    }

    /// A login waiting for IP verification and the link that ends the wait, written together
    /// (settling the password step's lockout counters).
    pub async fn create_ip_challenge(
        &self,
        challenge_hash: &str,
        c: &Challenge,
        link_hash: &str,
        link: &IpLink,
        settle: &crate::Settle,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::CreateIpChallenge)?;
        let new = |item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(build_error)
        };
        let items = vec![new(challenge_item(challenge_hash, c))?, new(ip_link_item(link_hash, link))?];
        self.write_settling(db, items, settle).await
    }

    /// Withdraws a waiting login and its link (the email could not be sent).
    pub async fn delete_ip_challenge(&self, challenge_hash: &str, link_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::DeleteIpChallenge)?;
        let delete = |key| {
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(build_error)
        };
        let items = vec![delete(challenge_key(challenge_hash))?, delete(ip_link_key(link_hash))?];
        db.transact_write_items().set_transact_items(Some(items)).send().await?;
        Ok(())
    }

    /// The challenge, if it exists and has not expired at `now`.
    pub async fn get_challenge(
        &self,
        token_hash: &str,
        now: UnixTime,
    ) -> Result<Option<Challenge>, StoreError> {
        let db = self.op(Operation::GetChallenge)?;
        let out = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(token_hash)))
            .key(SK, s(CHALLENGE_SK))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let purpose = match get_s(&item, "purpose")?.as_str() {
            "passcode" => Purpose::Passcode,
            "activation" => Purpose::Activation,
            "ip" => Purpose::IpVerification,
            other => return Err(StoreError::Malformed(format!("challenge purpose {other}"))),
        };
        let c = Challenge {
            user_id: get_s(&item, "user_id")?,
            account_id: get_s(&item, "account_id")?,
            purpose,
            client_ip: get_s(&item, "client_ip")?,
            expires_at: UnixTime(get_n(&item, EXPIRES_AT)?),
            failures: get_opt_n(&item, "failures").unwrap_or(0) as u32,
            totp_secret: get_opt_s(&item, "totp_secret"),
            greeting: Greeting {
                name: get_s(&item, "name")?,
                email: get_s(&item, "email")?,
                role_code: get_s(&item, "role")?,
                account_name: get_s(&item, "account_name")?,
            },
            range: get_opt_s(&item, "range"),
            link: get_opt_s(&item, "link"),
            links_sent: get_opt_n(&item, "links_sent").unwrap_or(0) as u32,
            epochs: domain::session::Epochs {
                user: get_opt_n(&item, "user_epoch").unwrap_or(0),
                account: get_opt_n(&item, "account_epoch").unwrap_or(0),
            },
            verified: matches!(item.get("verified"), Some(AttributeValue::Bool(true))),
            source: match item.get("known_source") {
                Some(AttributeValue::Bool(true)) => domain::lockout::Source::Known,
                _ => domain::lockout::Source::Unknown,
            },
        };
        Ok((now < c.expires_at).then_some(c))
    }

    /// Counts one wrong code. Returns the failures so far, or `None` when the challenge is used up
    /// (it is then deleted and the user starts again with their password).
    pub async fn count_challenge_failure(
        &self,
        token_hash: &str,
        max: u32,
    ) -> Result<Option<u32>, StoreError> {
        let db = self.op(Operation::CountChallengeFailure)?;
        let out = db
            .update_item()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(token_hash)))
            .key(SK, s(CHALLENGE_SK))
            .update_expression("ADD failures :one")
            .condition_expression("attribute_exists(pk) AND failures < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(max)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(out) => {
                let failures = get_n(&out.attributes.unwrap_or_default(), "failures")? as u32;
                if failures < max {
                    return Ok(Some(failures));
                }
                self.delete_challenge(token_hash).await?;
                Ok(None)
            }
            Err(err) if lost_condition(&err) => {
                self.delete_challenge(token_hash).await?;
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Another link for a waiting login, in one transaction: the new link is stored and becomes
    /// the login's newest, the only one that works; unless one went out after `cutoff` or `max`
    /// were sent already (`Conflict`, nothing written).
    pub async fn send_another_ip_link(
        &self,
        challenge_hash: &str,
        link_hash: &str,
        link: &IpLink,
        now: UnixTime,
        cutoff: UnixTime,
        max: u32,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SendAnotherIpLink)?;
        let note = Update::builder()
            .table_name(&self.table)
            .set_key(Some(challenge_key(challenge_hash)))
            .update_expression("SET last_sent = :now, link = :link ADD links_sent :one")
            .condition_expression("attribute_exists(pk) AND last_sent <= :cutoff AND links_sent < :max")
            .expression_attribute_values(":now", n(now.seconds()))
            .expression_attribute_values(":link", s(link_hash))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cutoff", n(cutoff.seconds()))
            .expression_attribute_values(":max", n(i64::from(max)))
            .build()
            .map_err(build_error)?;
        let store = Put::builder()
            .table_name(&self.table)
            .set_item(Some(ip_link_item(link_hash, link)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().update(note).build(),
            TransactWriteItem::builder().put(store).build(),
        ];
        conditional(db.transact_write_items().set_transact_items(Some(items)).send().await)?;
        Ok(())
    }

    /// Undoes [`Store::send_another_ip_link`] when its email could not be sent: the link is
    /// deleted, the earlier link (`earlier`) works again, the send does not count, and the next
    /// may go at once (`cutoff`).
    pub async fn withdraw_ip_link(
        &self,
        challenge_hash: &str,
        link_hash: &str,
        earlier: Option<&str>,
        cutoff: UnixTime,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::WithdrawIpLink)?;
        let note = Update::builder()
            .table_name(&self.table)
            .set_key(Some(challenge_key(challenge_hash)))
            .condition_expression("link = :link")
            .expression_attribute_values(":cutoff", n(cutoff.seconds()))
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":link", s(link_hash));
        let note = match earlier {
            Some(earlier) => note
                .update_expression("SET last_sent = :cutoff, link = :earlier ADD links_sent :minus_one")
                .expression_attribute_values(":earlier", s(earlier)),
            None => note.update_expression("SET last_sent = :cutoff ADD links_sent :minus_one REMOVE link"),
        }
        .build()
        .map_err(build_error)?;
        let delete = Delete::builder().table_name(&self.table).set_key(Some(ip_link_key(link_hash))).build();
        let items = vec![
            TransactWriteItem::builder().update(note).build(),
            TransactWriteItem::builder().delete(delete.map_err(build_error)?).build(),
        ];
        // The login may have moved on meanwhile: then nothing of this link is left to withdraw.
        done_unless_failed(db.transact_write_items().set_transact_items(Some(items)).send().await)
    }

    pub async fn delete_challenge(&self, token_hash: &str) -> Result<(), StoreError> {
        let db = self.op(Operation::DeleteChallenge)?;
        db.delete_item()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(token_hash)))
            .key(SK, s(CHALLENGE_SK))
            .send()
            .await?;
        Ok(())
    }

    /// One transaction finishes a login's second step: the proof is accepted on the user item
    /// (a TOTP step later than the last one, for the same secret the challenge was issued for; or
    /// a recovery code still in the set), the challenge is consumed (while it has fewer than
    /// `max_failures`), the lockout counters are cleared unless locked (then nothing happens), the
    /// session starts and the login is audited.
    /// Two concurrent uses of one code: one wins.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_second_factor(
        &self,
        challenge_hash: &str,
        challenge: &Challenge,
        proof: Proof<'_>,
        max_failures: u32,
        settle: &crate::Settle,
        session_hash: &str,
        session: &Session,
        audit: &AuditEvent,
    ) -> Result<(), FinishError> {
        let db = self.op(Operation::FinishSecondFactor).map_err(FinishError::Store)?;
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| FinishError::Store(StoreError::Dynamo(e.to_string()));
        let now = audit.at;
        let user = Update::builder()
            .table_name(&self.table)
            .key(PK, s(account_pk(&challenge.account_id)))
            .key(SK, s(user_sk(&challenge.user_id)))
            .expression_attribute_values(":now", n(now.seconds()))
            .expression_attribute_names("#last", Column::LastLogin.attribute())
            .expression_attribute_values(":last", login_value(Some(now), &login_email(challenge)?));
        let user = match proof {
            Proof::Passcode { step, sealed_secret } => user
                .update_expression("SET totp_last_step = :step, last_login = :now, #last = :last")
                .condition_expression(
                    "attribute_exists(tf_activated_at) AND totp_secret = :secret \
                     AND (attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
                )
                .expression_attribute_values(":step", n(step))
                .expression_attribute_values(":secret", s(sealed_secret)),
            Proof::RecoveryCode { hashes } => {
                // Spent in whichever form it is stored.
                let any_form: Vec<String> =
                    (0..hashes.len()).map(|i| format!("contains(recovery, :h{i})")).collect();
                let mut user = user
                    .update_expression("DELETE recovery :code SET last_login = :now, #last = :last")
                    .condition_expression(format!(
                        "attribute_exists(tf_activated_at) AND ({})",
                        any_form.join(" OR ")
                    ))
                    .expression_attribute_values(":code", AttributeValue::Ss(hashes.to_vec()));
                for (i, hash) in hashes.iter().enumerate() {
                    user = user.expression_attribute_values(format!(":h{i}"), s(hash));
                }
                user
            }
        }
        .build()
        .map_err(build)?;
        let consume = Delete::builder()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(challenge_hash)))
            .key(SK, s(CHALLENGE_SK))
            .condition_expression("attribute_exists(pk) AND failures < :max")
            .expression_attribute_values(":max", n(i64::from(max_failures)))
            .build()
            .map_err(build)?;
        let start = Put::builder()
            .table_name(&self.table)
            .set_item(Some(session_item(session_hash, session)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build)?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(audit)))
            .build()
            .map_err(build)?;
        let mut tx = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(user).build())
            .transact_items(TransactWriteItem::builder().delete(consume).build())
            .transact_items(TransactWriteItem::builder().put(start).build())
            .transact_items(TransactWriteItem::builder().put(record).build());
        // The login's failure counters: refused if locked, cleared otherwise (the login succeeds).
        for item in settle.items(&self.table).map_err(FinishError::Store)? {
            tx = tx.transact_items(item);
        }
        match tx.send().await {
            Ok(_) => Ok(()),
            Err(err) if lost_condition(&err) => {
                // Which conditions failed: the lock checks come after the four writes.
                let locked = err.as_service_error().is_some_and(|e| {
                    cancellation_reasons(e).iter().skip(4).any(|r| *r == "ConditionalCheckFailed")
                });
                Err(if locked { FinishError::Locked } else { FinishError::Replayed })
            }
            Err(err) => Err(FinishError::Store(err.into())),
        }
    }
}

/// The email of the user a login is for, as the challenge shows it.
fn login_email(challenge: &Challenge) -> Result<domain::Email, FinishError> {
    domain::Email::parse(&challenge.greeting.email)
        .map_err(|_| FinishError::Store(StoreError::Malformed("challenge email".into())))
}
