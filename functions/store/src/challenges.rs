//! Login challenges: a login that passed the password step and waits for a passcode or for 2FA
//! activation. Stored under the hash of a random token held in an HttpOnly cookie.
//!
//! The passcode step must cost at most two DynamoDB calls, so the challenge carries a copy of what
//! it needs from the user (the encrypted secret); the replay check itself is always against the
//! user item, in the same transaction that starts the session.

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use domain::UnixTime;
use domain::lockout::Source;
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::client::{
    Item, Store, StoreError, build_error, conditional, done_unless_failed, from_item, item_key, keyed_item,
    lost_condition, lost_conditions_at, n, outcome, s,
};
use crate::iplinks::{IpLink, ip_link_item, ip_link_key};
use crate::keys::{CHALLENGE_SK, account_pk, challenge_pk, user_sk};
use crate::listing::{Column, login_value};
use crate::operation::Operation;
use crate::sessions::{Session, session_item};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// 2FA is active: the next step is a passcode or recovery code.
    Passcode,
    /// 2FA is enabled but not activated: the next step is the activation flow.
    Activation,
    /// The login comes from an unverified IP range: it waits for the emailed link.
    #[serde(rename = "ip")]
    IpVerification,
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

/// The user and account as the dashboard greets them (stored as they are on the challenge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    pub name: String,
    pub email: String,
    #[serde(rename = "role")]
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

/// What finishing a login's second step writes ([`Store::finish_second_factor`]).
pub struct SecondStep<'a> {
    /// The waiting login, by the hash of its token.
    pub challenge_hash: &'a str,
    pub challenge: &'a Challenge,
    pub proof: Proof<'a>,
    /// The waiting login is used up at this many wrong codes.
    pub max_failures: u32,
    pub settle: &'a crate::Settle,
    /// The session the login starts, by the hash of its token.
    pub session_hash: &'a str,
    pub session: &'a Session,
    pub audit: &'a AuditEvent,
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

/// What [`Store::send_another_ip_link`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a refused write changed nothing: answer it"]
pub enum LinkResend {
    Sent,
    /// A link went out within the cooldown, or the most were sent already: nothing written.
    Throttled,
}

/// A challenge's failures, as an update returns them.
#[derive(Deserialize)]
struct Failures {
    failures: u32,
}

/// IP-verification challenges live as long as their link.
const IP_CHALLENGE_TTL: i64 = domain::ipcheck::LINK_VALID_SECONDS;

pub(crate) fn challenge_key(token_hash: &str) -> Item {
    item_key(challenge_pk(token_hash), CHALLENGE_SK)
}

/// A challenge's item as stored (the key aside). No `Debug`: it holds a sealed secret.
#[derive(Serialize, Deserialize)]
struct ChallengeItem {
    user_id: String,
    account_id: String,
    purpose: Purpose,
    client_ip: String,
    expires_at: UnixTime,
    #[serde(default)]
    failures: u32,
    #[serde(flatten)]
    greeting: Greeting,
    #[serde(default)]
    user_epoch: i64,
    #[serde(default)]
    account_epoch: i64,
    #[serde(default)]
    known_source: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    totp_secret: Option<String>,
    /// IP verification: the range, when the last link went out, how many went out, the newest.
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    last_sent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    links_sent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// Set when its link is opened.
    #[serde(default, skip_serializing)]
    verified: bool,
}

impl ChallengeItem {
    fn of(c: &Challenge) -> Self {
        let waits_for_link = c.range.is_some();
        ChallengeItem {
            user_id: c.user_id.clone(),
            account_id: c.account_id.clone(),
            purpose: c.purpose,
            client_ip: c.client_ip.clone(),
            expires_at: c.expires_at,
            failures: c.failures,
            greeting: c.greeting.clone(),
            user_epoch: c.epochs.user,
            account_epoch: c.epochs.account,
            known_source: c.source == Source::Known,
            totp_secret: c.totp_secret.clone(),
            range: c.range.clone(),
            last_sent: waits_for_link.then(|| c.expires_at.seconds() - IP_CHALLENGE_TTL),
            links_sent: waits_for_link.then_some(c.links_sent),
            link: c.link.clone(),
            verified: false,
        }
    }

    fn into_challenge(self) -> Challenge {
        Challenge {
            user_id: self.user_id,
            account_id: self.account_id,
            purpose: self.purpose,
            client_ip: self.client_ip,
            expires_at: self.expires_at,
            failures: self.failures,
            totp_secret: self.totp_secret,
            greeting: self.greeting,
            range: self.range,
            link: self.link,
            links_sent: self.links_sent.unwrap_or(0),
            epochs: domain::session::Epochs { user: self.user_epoch, account: self.account_epoch },
            verified: self.verified,
            source: if self.known_source { Source::Known } else { Source::Unknown },
        }
    }
}

fn challenge_item(token_hash: &str, c: &Challenge) -> Result<Item, StoreError> {
    keyed_item(challenge_key(token_hash), &ChallengeItem::of(c))
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
        let mut items = vec![self.put_new(challenge_item(token_hash, c)?)?];
        if let Some(event) = audit {
            items.push(self.audit_put(event)?);
        }
        self.write_settling_all(db, items, settle).await
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
        let items = vec![
            self.put_new(challenge_item(challenge_hash, c)?)?,
            self.put_new(ip_link_item(link_hash, link)?)?,
        ];
        self.write_settling_all(db, items, settle).await
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
        let stored = db.read_record::<ChallengeItem>(challenge_key(token_hash)).await?;
        Ok(stored.map(ChallengeItem::into_challenge).filter(|c| now < c.expires_at))
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
            .update(challenge_key(token_hash))
            .update_expression("ADD failures :one")
            .condition_expression("attribute_exists(pk) AND failures < :max")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(max)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(out) => {
                let Failures { failures } = from_item(out.attributes.unwrap_or_default())?;
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
    /// were sent already (`Throttled`, nothing written).
    pub async fn send_another_ip_link(
        &self,
        challenge_hash: &str,
        link_hash: &str,
        link: &IpLink,
        now: UnixTime,
        cutoff: UnixTime,
        max: u32,
    ) -> Result<LinkResend, StoreError> {
        let db = self.op(Operation::SendAnotherIpLink)?;
        let note = self
            .transact_update(challenge_key(challenge_hash))
            .update_expression("SET last_sent = :now, link = :link ADD links_sent :one")
            .condition_expression("attribute_exists(pk) AND last_sent <= :cutoff AND links_sent < :max")
            .expression_attribute_values(":now", n(now.seconds()))
            .expression_attribute_values(":link", s(link_hash))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cutoff", n(cutoff.seconds()))
            .expression_attribute_values(":max", n(i64::from(max)))
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().update(note).build(),
            self.put_new(ip_link_item(link_hash, link)?)?,
        ];
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        outcome(result, LinkResend::Sent, LinkResend::Throttled)
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
        let note = self
            .transact_update(challenge_key(challenge_hash))
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
        db.delete(challenge_key(token_hash)).await
    }

    /// One transaction finishes a login's second step: the proof is accepted on the user item
    /// (a TOTP step later than the last one, for the same secret the challenge was issued for; or
    /// a recovery code still in the set), the challenge is consumed (while it has fewer than
    /// `max_failures`), the lockout counters are cleared unless locked (then nothing happens), the
    /// session starts and the login is audited.
    /// Two concurrent uses of one code: one wins.
    pub async fn finish_second_factor(&self, step: SecondStep<'_>) -> Result<(), FinishError> {
        let db = self.op(Operation::FinishSecondFactor).map_err(FinishError::Store)?;
        let items = self.second_step_items(&step).map_err(FinishError::Store)?;
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        // Which conditions failed: the lock checks come after the four writes.
        let locked = lost_conditions_at(&result).iter().any(|&i| i >= 4);
        match conditional(result) {
            Ok(Some(_)) => Ok(()),
            Ok(None) if locked => Err(FinishError::Locked),
            Ok(None) => Err(FinishError::Replayed),
            Err(err) => Err(FinishError::Store(err)),
        }
    }

    /// The writes of [`Store::finish_second_factor`], in the order its answer reads them.
    fn second_step_items(&self, step: &SecondStep<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let consume = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(challenge_key(step.challenge_hash)))
            .condition_expression("attribute_exists(pk) AND failures < :max")
            .expression_attribute_values(":max", n(i64::from(step.max_failures)))
            .build()
            .map_err(build_error)?;
        let mut items = vec![
            TransactWriteItem::builder().update(self.proof_accepted(step)?).build(),
            TransactWriteItem::builder().delete(consume).build(),
            self.put_new(session_item(step.session_hash, step.session)?)?,
            self.audit_put(step.audit)?,
        ];
        // The login's failure counters: refused if locked, cleared otherwise (the login succeeds).
        items.extend(step.settle.items(&self.table)?);
        Ok(items)
    }
}

impl Store {
    /// The user item's part in finishing a second step: the proof is spent, the login noted.
    fn proof_accepted(&self, step: &SecondStep<'_>) -> Result<Update, StoreError> {
        let (challenge, now) = (step.challenge, step.audit.at);
        let user = self
            .transact_update(item_key(account_pk(&challenge.account_id), user_sk(&challenge.user_id)))
            .expression_attribute_values(":now", n(now.seconds()))
            .expression_attribute_names("#last", Column::LastLogin.attribute())
            .expression_attribute_values(":last", login_value(Some(now), &login_email(challenge)?));
        match step.proof {
            Proof::Passcode { step, sealed_secret } => user
                .update_expression("SET totp_last_step = :step, last_login = :now, #last = :last")
                .condition_expression(
                    "attribute_exists(tf_activated_at) AND totp_secret = :secret \
                     AND (attribute_not_exists(totp_last_step) OR totp_last_step < :step)",
                )
                .expression_attribute_values(":step", n(step))
                .expression_attribute_values(":secret", s(sealed_secret)),
            Proof::RecoveryCode { hashes } => recovery_code_spent(user, hashes),
        }
        .build()
        .map_err(build_error)
    }
}

/// A recovery code is spent in whichever of its forms (`hashes`) it is stored, while one is.
fn recovery_code_spent(user: UpdateBuilder, hashes: &[String]) -> UpdateBuilder {
    let any_form: Vec<String> = (0..hashes.len()).map(|i| format!("contains(recovery, :h{i})")).collect();
    let mut user = user
        .update_expression("DELETE recovery :code SET last_login = :now, #last = :last")
        .condition_expression(format!("attribute_exists(tf_activated_at) AND ({})", any_form.join(" OR ")))
        .expression_attribute_values(":code", AttributeValue::Ss(hashes.to_vec()));
    for (i, hash) in hashes.iter().enumerate() {
        user = user.expression_attribute_values(format!(":h{i}"), s(hash));
    }
    user
}

/// The email of the user a login is for, as the challenge shows it.
fn login_email(challenge: &Challenge) -> Result<domain::Email, StoreError> {
    domain::Email::parse(&challenge.greeting.email)
        .map_err(|_| StoreError::Malformed("challenge email".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::stored;
    use crate::keys::{EXPIRES_AT, PK, SK};

    fn waiting_for_link() -> Challenge {
        Challenge {
            user_id: "u1".into(),
            account_id: "a1".into(),
            purpose: Purpose::IpVerification,
            client_ip: "192.0.2.1".into(),
            expires_at: UnixTime(10_000),
            failures: 0,
            totp_secret: None,
            greeting: Greeting {
                name: "Sam".into(),
                email: "sam@x.example".into(),
                role_code: "admin".into(),
                account_name: "Acme".into(),
            },
            range: Some("192.0.2.0/24".into()),
            link: Some("l1".into()),
            links_sent: 1,
            epochs: domain::session::Epochs { user: 1, account: 0 },
            verified: false,
            source: Source::Known,
        }
    }

    #[test]
    fn a_challenge_is_stored_by_its_attributes_and_read_back() {
        let item = challenge_item("h", &waiting_for_link()).unwrap();
        assert_eq!((item.get(PK), item.get(SK)), (Some(&s("CHALLENGE#h")), Some(&s("CHALLENGE"))));
        let mut expected = challenge_key("h");
        expected.extend(stored(&[
            ("user_id", s("u1")),
            ("account_id", s("a1")),
            ("purpose", s("ip")),
            ("client_ip", s("192.0.2.1")),
            ("failures", n(0)),
            ("name", s("Sam")),
            ("email", s("sam@x.example")),
            ("role", s("admin")),
            ("account_name", s("Acme")),
            (EXPIRES_AT, n(10_000)),
            ("user_epoch", n(1)),
            ("account_epoch", n(0)),
            ("known_source", AttributeValue::Bool(true)),
            ("range", s("192.0.2.0/24")),
            ("last_sent", n(10_000 - IP_CHALLENGE_TTL)),
            ("links_sent", n(1)),
            ("link", s("l1")),
        ]));
        assert_eq!(item, expected);
        let read = from_item::<ChallengeItem>(item).unwrap().into_challenge();
        assert_eq!(read, waiting_for_link());
    }

    #[test]
    fn a_passcode_challenge_keeps_its_secret_and_no_link_attributes() {
        let c = Challenge {
            purpose: Purpose::Passcode,
            totp_secret: Some("sealed".into()),
            range: None,
            link: None,
            links_sent: 0,
            ..waiting_for_link()
        };
        let item = challenge_item("h", &c).unwrap();
        assert_eq!(item.get("purpose"), Some(&s("passcode")));
        assert_eq!(item.get("totp_secret"), Some(&s("sealed")));
        assert!(
            ["range", "last_sent", "links_sent", "link", "verified"].iter().all(|a| !item.contains_key(*a))
        );
        assert_eq!(from_item::<ChallengeItem>(item).unwrap().into_challenge(), c);
    }

    #[test]
    fn an_unknown_purpose_is_malformed() {
        let mut item = challenge_item("h", &waiting_for_link()).unwrap();
        item.insert("purpose".into(), s("other"));
        assert!(matches!(from_item::<ChallengeItem>(item), Err(StoreError::Malformed(_))));
    }
}
