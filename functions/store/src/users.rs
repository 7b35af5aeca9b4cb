use aws_sdk_dynamodb::types::AttributeValue;
use domain::admin::Counts;
use domain::twofactor::{Enabled, TwoFactor, TwoFactorStatus};
use domain::{Email, Role, UnixTime};
use serde::{Deserialize, Serialize};

use crate::client::{
    Item, Store, StoreError, conditional, existing, from_item, item_key, keyed_item, lost_conditions_at, n, s,
};
use crate::db::Db;
use crate::keys::{ACCOUNT_SK, EMAIL_SK, GSI2_PK, SK, USER_PREFIX, account_pk, email_pk, user_sk, users_pk};
use crate::listing::{self, Column, PageKey};
use crate::operation::Operation;

#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// The account-wide switch: every user must log in with 2FA.
    pub two_factor_required: bool,
    /// From this time 2FA is required for Take Control and RBM.
    pub remote_2fa_required_from: Option<UnixTime>,
    /// General Settings: verify logins from new IP ranges (on unless turned off).
    pub ip_verification: bool,
    /// Counts saves of General Settings (0: never saved), so concurrent saves cannot mix.
    pub settings_version: i64,
    /// Moves on when account-wide 2FA is switched on (`domain::session`).
    pub session_epoch: i64,
    /// The users per 2FA status, as stored (User Accounts' Info section).
    pub user_counts: Counts,
}

#[derive(Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub account_id: String,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub last_login: Option<UnixTime>,
    pub two_factor: TwoFactor,
    /// The authenticator secret, encrypted (`domain::crypto`); set only once activated.
    pub totp_secret: Option<String>,
    /// The last time step whose code was accepted: only later steps are accepted next.
    pub totp_last_step: Option<i64>,
    pub recovery_codes_left: usize,
    /// An administrator paused IP address verification for this user (applies only while their
    /// 2FA is active).
    pub ip_verification_paused: bool,
    /// IP ranges (`/24`, `/64`) this user verified by email.
    pub verified_ranges: Vec<String>,
    /// Moves on when an administrator disables or resets the user's 2FA (`domain::session`).
    pub session_epoch: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("two_factor", &self.two_factor)
            .field("password_hash", &"<redacted>")
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A user as User Accounts lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct UserListing {
    pub id: String,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub last_login: Option<UnixTime>,
    pub two_factor: TwoFactor,
    pub ip_verification_paused: bool,
}

impl From<&User> for UserListing {
    fn from(u: &User) -> Self {
        UserListing {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            last_login: u.last_login,
            two_factor: u.two_factor.clone(),
            ip_verification_paused: u.ip_verification_paused,
        }
    }
}

/// What [`UserListing`] reads of a user item.
const LISTING_PROJECTION: &str =
    "user_id, email, #name, #role, last_login, tf_enabled_by, tf_enabled_at, tf_activated_at, ip_paused";

pub struct NewUser {
    pub account_id: String,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// The key of an email's claim item (which names its user).
pub(crate) fn claim_key(email: &Email) -> Item {
    item_key(email_pk(email), EMAIL_SK)
}

impl Store {
    /// A query of an account's items whose sort key starts with `prefix` (its users, its devices).
    pub(crate) fn query_account(
        &self,
        db: Db<'_>,
        account_id: &str,
        prefix: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        db.query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(account_pk(account_id)))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// An update of an existing account's item, to complete with what it sets.
    fn update_account(
        &self,
        db: Db<'_>,
        account_id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        db.update(account_key(account_id)).condition_expression("attribute_exists(pk)")
    }

    pub async fn create_account(&self, name: &str) -> Result<Account, StoreError> {
        let db = self.op(Operation::CreateAccount)?;
        let id = uuid::Uuid::new_v4().to_string();
        let account = AccountItem::new(&id, name);
        db.put_item()
            .table_name(&self.table)
            .set_item(Some(keyed_item(account_key(&id), &account)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(account.into_account())
    }

    pub async fn get_account(&self, account_id: &str) -> Result<Option<Account>, StoreError> {
        let db = self.op(Operation::GetAccount)?;
        let out = db.get_item().table_name(&self.table).set_key(Some(account_key(account_id))).send().await?;
        out.item.map(account_from_item).transpose()
    }

    /// The user and their account in one call (the remote-session gate's slow path).
    pub async fn get_user_and_account(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<(Option<User>, Option<Account>), StoreError> {
        let db = self.op(Operation::GetUserAndAccount)?;
        let items = db.batch_get(user_and_account_keys(account_id, user_id)).await?;
        let (mut user, mut account) = (None, None);
        for item in items {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk == ACCOUNT_SK => account = Some(account_from_item(item)?),
                Some(_) => user = Some(user_from_item(item)?),
                None => {}
            }
        }
        Ok((user, account))
    }

    /// Trusts an IP range for a user from now on.
    pub async fn add_verified_range(
        &self,
        account_id: &str,
        user_id: &str,
        range: &str,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::AddVerifiedRange)?;
        let result = db
            .update(item_key(account_pk(account_id), user_sk(user_id)))
            .update_expression("ADD ip_ranges :range")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":range", AttributeValue::Ss(vec![range.to_owned()]))
            .send()
            .await;
        existing(result)
    }

    /// General Settings: IP address verification on or off.
    pub async fn set_ip_verification(&self, account_id: &str, on: bool) -> Result<(), StoreError> {
        let db = self.op(Operation::SetIpVerification)?;
        let result = self
            .update_account(db, account_id)
            .update_expression("SET ip_verification = :on")
            .expression_attribute_values(":on", AttributeValue::Bool(on))
            .send()
            .await;
        existing(result)
    }

    /// One page of an account's users in `column`'s order (one query, eventually consistent:
    /// the grid may lag a change by a second): the `limit` users after `start` (before it, going
    /// `backwards`), each with the key a next page starts from, and whether more follow in that
    /// direction.
    pub async fn list_users_page(
        &self,
        account_id: &str,
        column: Column,
        descending: bool,
        start: Option<&PageKey>,
        backwards: bool,
        limit: usize,
    ) -> Result<(Vec<(UserListing, PageKey)>, bool), StoreError> {
        let db = self.op(Operation::ListUsersPage)?;
        let out = db
            .query_index(column.index())
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI2_PK)
            .expression_attribute_values(":pk", s(users_pk(account_id)))
            .scan_index_forward(descending == backwards)
            .set_exclusive_start_key(start.map(|at| listing::start_key(account_id, column, at)))
            // One more than asked tells whether another page follows.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .projection_expression(format!("{LISTING_PROJECTION}, #sort"))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#role", "role")
            .expression_attribute_names("#sort", column.attribute())
            .send()
            .await?;
        let items = out.items.unwrap_or_default();
        let more = items.len() > limit;
        let mut rows = items
            .into_iter()
            .take(limit)
            .map(|mut item| {
                let sort_value = item.remove(column.attribute());
                let listing = from_item::<ListingItem>(item)?.into_listing()?;
                let sort_value = sort_value.and_then(|v| v.as_s().ok().cloned());
                let sort_value = sort_value.ok_or_else(|| StoreError::Malformed("user sort value".into()))?;
                let key = PageKey { sort_value, user_id: listing.id.clone() };
                Ok((listing, key))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if backwards {
            rows.reverse();
        }
        Ok((rows, more))
    }

    /// Gives users stored before the grid's indexes existed their sort values, and recounts their
    /// accounts (a one-off after deploying the indexes: `devkit index-users`); returns how many
    /// users it indexed. Running it again changes nothing. The email column's value is the
    /// marker (only creation writes it; logins and status changes write theirs, which are kept).
    pub async fn index_users(&self) -> Result<usize, StoreError> {
        let db = self.op(Operation::IndexUsers)?;
        let mut pages = db
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(sk, :user) AND attribute_not_exists(#marker)")
            .expression_attribute_names("#marker", Column::Email.attribute())
            .expression_attribute_values(":user", s(USER_PREFIX))
            .into_paginator()
            .items()
            .send();
        let mut accounts = std::collections::BTreeSet::new();
        let mut count = 0;
        while let Some(item) = pages.next().await {
            let user = user_from_item(item?)?;
            let status = user.two_factor.status(false);
            let values = listing::sort_values(&user.name, &user.email, user.role, status, user.last_login);
            let mut update = db
                .update(item_key(account_pk(&user.account_id), user_sk(&user.id)))
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#gsi2pk", GSI2_PK)
                .expression_attribute_values(":pk", s(users_pk(&user.account_id)));
            let mut set = vec!["#gsi2pk = :pk".to_owned()];
            for (i, (column, value)) in values.into_iter().enumerate() {
                // A 2FA status or login written since by the new code is newer than this scan.
                let kept_if_newer = matches!(column, Column::TwoFactor | Column::LastLogin);
                set.push(if kept_if_newer {
                    format!("#c{i} = if_not_exists(#c{i}, :c{i})")
                } else {
                    format!("#c{i} = :c{i}")
                });
                update = update
                    .expression_attribute_names(format!("#c{i}"), column.attribute())
                    .expression_attribute_values(format!(":c{i}"), value);
            }
            let result = update.update_expression(format!("SET {}", set.join(", "))).send().await;
            crate::client::done_unless_failed(result)?;
            accounts.insert(user.account_id);
            count += 1;
        }
        for account_id in accounts {
            self.recount_users(db, &account_id).await?;
        }
        Ok(count)
    }

    /// Sets an account's counts per 2FA status from its users as they are now.
    /// Read from the table itself, strongly consistent: the indexes may not show the users just
    /// indexed yet.
    async fn recount_users(&self, db: Db<'_>, account_id: &str) -> Result<(), StoreError> {
        let mut pages = self
            .query_account(db, account_id, USER_PREFIX)
            .consistent_read(true)
            .projection_expression("tf_enabled_by, tf_enabled_at, tf_activated_at")
            .into_paginator()
            .items()
            .send();
        let mut statuses = Vec::new();
        while let Some(item) = pages.next().await {
            statuses.push(from_item::<TwoFactorItem>(item?)?.two_factor().status(false));
        }
        let counts = Counts::of(statuses);
        let count = |n: usize| self::n(i64::try_from(n).unwrap_or(i64::MAX));
        self.update_account(db, account_id)
            .update_expression("SET users_active = :a, users_enabled = :e, users_off = :o")
            .expression_attribute_values(":a", count(counts.active))
            .expression_attribute_values(":e", count(counts.enabled_not_activated))
            .expression_attribute_values(":o", count(counts.off))
            .send()
            .await?;
        Ok(())
    }

    /// The names of the users `users` and devices `devices` of an account, as `(id, name)`
    /// pairs, in one call (missing ones are left out).
    pub async fn names(
        &self,
        account_id: &str,
        users: &[String],
        devices: &[String],
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), StoreError> {
        let db = self.op(Operation::Names)?;
        let key = |sk: String| item_key(account_pk(account_id), sk);
        let keys: Vec<Item> = users
            .iter()
            .map(|id| key(user_sk(id)))
            .chain(devices.iter().map(|id| key(crate::keys::device_sk(id))))
            .collect();
        if keys.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (mut user_names, mut device_names) = (Vec::new(), Vec::new());
        let mut items = Vec::with_capacity(keys.len());
        // A BatchGetItem takes at most 100 keys.
        for chunk in keys.chunks(100) {
            items.extend(db.batch_get(chunk.to_vec()).await?);
        }
        for item in items {
            let named = from_item::<NamedItem>(item)?;
            match devices.iter().find(|id| crate::keys::device_sk(id) == named.sk) {
                Some(device) => device_names.push((device.clone(), named.name)),
                None => {
                    let user_id = named.user_id.ok_or_else(|| StoreError::Malformed("user id".into()))?;
                    user_names.push((user_id, named.name));
                }
            }
        }
        Ok((user_names, device_names))
    }

    /// General Settings: the account-wide switch and the remote-session enforcement date.
    pub async fn set_account_policy(
        &self,
        account_id: &str,
        two_factor_required: bool,
        remote_2fa_required_from: Option<UnixTime>,
    ) -> Result<(), StoreError> {
        let db = self.op(Operation::SetAccountPolicy)?;
        let mut update = self
            .update_account(db, account_id)
            .expression_attribute_values(":wide", AttributeValue::Bool(two_factor_required));
        update = match remote_2fa_required_from {
            Some(from) => update
                .update_expression("SET two_factor_required = :wide, remote_2fa_required_from = :from")
                .expression_attribute_values(":from", n(from.seconds())),
            None => {
                update.update_expression("SET two_factor_required = :wide REMOVE remote_2fa_required_from")
            }
        };
        existing(update.send().await)
    }

    /// Creates a user and claims their email in one transaction: a second user with the same
    /// email fails with `EmailTaken`, an account that does not exist with `NotFound`, and nothing
    /// is written.
    pub async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let db = self.op(Operation::CreateUser)?;
        let id = uuid::Uuid::new_v4().to_string();
        let user = UserItem::new(&id, &new);
        let mut item = keyed_item(item_key(account_pk(&new.account_id), user_sk(&id)), &user)?;
        item.extend(listing::new_user_attributes(&new.account_id, &new.name, &new.email, new.role));
        let claim = ClaimItem { account_id: new.account_id.clone(), user_id: id };
        let items = vec![
            self.put_new(item)?,
            self.put_new(keyed_item(claim_key(&new.email), &claim)?)?,
            listing::count_move(&self.table, &new.account_id, None, TwoFactorStatus::Off)?,
        ];
        let result = db.transact_write_items().set_transact_items(Some(items)).send().await;
        // Item 1 is the email's claim.
        let email_taken = lost_conditions_at(&result).contains(&1);
        match conditional(result)? {
            Some(_) => user.into_user(),
            None if email_taken => Err(StoreError::EmailTaken),
            None => Err(StoreError::NotFound),
        }
    }

    /// The login lookup, strongly consistent: the email's claim item names the user, whose item
    /// is read by key (an index could lag behind a change). An email without an account
    /// reads a key that does not exist, so both cost the same two reads.
    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let db = self.op(Operation::FindUserByEmail)?;
        let claim = db.read_record::<ClaimItem>(claim_key(email)).await?;
        let (account_id, user_id) = match &claim {
            Some(claim) => (claim.account_id.as_str(), claim.user_id.as_str()),
            None => ("-", "-"),
        };
        let user = self.get_user(account_id, user_id).await?;
        Ok(user.filter(|_| claim.is_some()))
    }

    /// A user by key, strongly consistent (every check of a session's user reads the latest).
    pub async fn get_user(&self, account_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
        let db = self.op(Operation::GetUser)?;
        let stored = db.read_record::<UserItem>(item_key(account_pk(account_id), user_sk(user_id))).await?;
        stored.map(UserItem::into_user).transpose()
    }
}

/// The keys of a user item and of its account's item.
pub(crate) fn user_and_account_keys(account_id: &str, user_id: &str) -> Vec<Item> {
    vec![item_key(account_pk(account_id), user_sk(user_id)), account_key(account_id)]
}

pub(crate) fn account_key(account_id: &str) -> Item {
    item_key(account_pk(account_id), ACCOUNT_SK)
}

/// What [`Store::names`] reads of a user or device item.
#[derive(Deserialize)]
struct NamedItem {
    sk: String,
    name: String,
    user_id: Option<String>,
}

/// An account's item as stored (the key aside). A new account stores its id and name; the rest is
/// set by updates, and reads as its default until then: 2FA not required, IP verification on,
/// never saved, no users.
#[derive(Serialize, Deserialize)]
struct AccountItem {
    account_id: String,
    name: String,
    #[serde(default, skip_serializing)]
    two_factor_required: bool,
    #[serde(skip_serializing)]
    remote_2fa_required_from: Option<i64>,
    #[serde(default = "on", skip_serializing)]
    ip_verification: bool,
    #[serde(default, skip_serializing)]
    settings_version: i64,
    #[serde(default, skip_serializing)]
    session_epoch: i64,
    #[serde(flatten, skip_serializing)]
    counts: listing::CountsItem,
}

fn on() -> bool {
    true
}

impl AccountItem {
    fn new(id: &str, name: &str) -> Self {
        AccountItem {
            account_id: id.to_owned(),
            name: name.to_owned(),
            two_factor_required: false,
            remote_2fa_required_from: None,
            ip_verification: true,
            settings_version: 0,
            session_epoch: 0,
            counts: listing::CountsItem::default(),
        }
    }

    fn into_account(self) -> Account {
        Account {
            id: self.account_id,
            name: self.name,
            two_factor_required: self.two_factor_required,
            remote_2fa_required_from: self.remote_2fa_required_from.map(UnixTime),
            ip_verification: self.ip_verification,
            settings_version: self.settings_version,
            session_epoch: self.session_epoch,
            user_counts: self.counts.counts(),
        }
    }
}

pub(crate) fn account_from_item(item: Item) -> Result<Account, StoreError> {
    from_item::<AccountItem>(item).map(AccountItem::into_account)
}

/// An email's claim item: whose the email is.
#[derive(Serialize, Deserialize)]
pub(crate) struct ClaimItem {
    pub(crate) account_id: String,
    pub(crate) user_id: String,
}

/// A user's 2FA as stored on their item.
#[derive(Default, Serialize, Deserialize)]
struct TwoFactorItem {
    tf_enabled_by: Option<String>,
    tf_enabled_at: Option<i64>,
    tf_activated_at: Option<i64>,
}

impl TwoFactorItem {
    fn two_factor(self) -> TwoFactor {
        TwoFactor {
            enabled: match (self.tf_enabled_by, self.tf_enabled_at) {
                (Some(by_user_id), Some(at)) => Some(Enabled { by_user_id, at: UnixTime(at) }),
                _ => None,
            },
            activated_at: self.tf_activated_at.map(UnixTime),
        }
    }
}

/// What User Accounts lists of a user item ([`LISTING_PROJECTION`]).
#[derive(Deserialize)]
struct ListingItem {
    user_id: String,
    email: String,
    name: String,
    role: String,
    last_login: Option<i64>,
    #[serde(flatten)]
    two_factor: TwoFactorItem,
    #[serde(default)]
    ip_paused: bool,
}

impl ListingItem {
    fn into_listing(self) -> Result<UserListing, StoreError> {
        Ok(UserListing {
            id: self.user_id,
            email: stored_email(&self.email)?,
            name: self.name,
            role: stored_role(&self.role)?,
            last_login: self.last_login.map(UnixTime),
            two_factor: self.two_factor.two_factor(),
            ip_verification_paused: self.ip_paused,
        })
    }
}

/// A user's item as stored (the key and the grid's sort values aside). No `Debug`: it holds the
/// password hash, the sealed secret and the recovery code hashes.
#[derive(Serialize, Deserialize)]
struct UserItem {
    user_id: String,
    account_id: String,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    #[serde(skip_serializing)]
    last_login: Option<i64>,
    #[serde(flatten, skip_serializing)]
    two_factor: TwoFactorItem,
    #[serde(skip_serializing)]
    totp_secret: Option<String>,
    #[serde(skip_serializing)]
    totp_last_step: Option<i64>,
    /// The recovery code hashes (a string set).
    #[serde(default, skip_serializing)]
    recovery: Vec<String>,
    #[serde(default, skip_serializing)]
    ip_paused: bool,
    /// The verified IP ranges (a string set).
    #[serde(default, skip_serializing)]
    ip_ranges: Vec<String>,
    #[serde(default, skip_serializing)]
    session_epoch: i64,
}

impl UserItem {
    /// What creating `new` as `id` stores: none of 2FA, logins or ranges yet.
    fn new(id: &str, new: &NewUser) -> Self {
        UserItem {
            user_id: id.to_owned(),
            account_id: new.account_id.clone(),
            email: new.email.as_str().to_owned(),
            name: new.name.clone(),
            role: new.role.code().to_owned(),
            password_hash: new.password_hash.clone(),
            last_login: None,
            two_factor: TwoFactorItem::default(),
            totp_secret: None,
            totp_last_step: None,
            recovery: Vec::new(),
            ip_paused: false,
            ip_ranges: Vec::new(),
            session_epoch: 0,
        }
    }

    fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            email: stored_email(&self.email)?,
            role: stored_role(&self.role)?,
            id: self.user_id,
            account_id: self.account_id,
            name: self.name,
            password_hash: self.password_hash,
            last_login: self.last_login.map(UnixTime),
            two_factor: self.two_factor.two_factor(),
            totp_secret: self.totp_secret,
            totp_last_step: self.totp_last_step,
            recovery_codes_left: self.recovery.len(),
            ip_verification_paused: self.ip_paused,
            verified_ranges: self.ip_ranges,
            session_epoch: self.session_epoch,
        })
    }
}

pub(crate) fn user_from_item(item: Item) -> Result<User, StoreError> {
    from_item::<UserItem>(item)?.into_user()
}

fn stored_email(email: &str) -> Result<Email, StoreError> {
    Email::parse(email).map_err(|_| StoreError::Malformed("user email".into()))
}

fn stored_role(code: &str) -> Result<Role, StoreError> {
    Role::from_code(code).ok_or_else(|| StoreError::Malformed("user role".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::stored;

    fn new_user() -> NewUser {
        NewUser {
            account_id: "a1".into(),
            email: Email::parse("sam@x.example").unwrap(),
            name: "Sam".into(),
            role: Role::from_code("admin").unwrap(),
            password_hash: "hash".into(),
        }
    }

    #[test]
    fn a_new_user_stores_who_they_are_and_nothing_of_2fa() {
        let item = keyed_item(Item::new(), &UserItem::new("u1", &new_user())).unwrap();
        let expected = stored(&[
            ("user_id", s("u1")),
            ("account_id", s("a1")),
            ("email", s("sam@x.example")),
            ("name", s("Sam")),
            ("role", s("admin")),
            ("password_hash", s("hash")),
        ]);
        assert_eq!(item, expected);
    }

    #[test]
    fn a_user_reads_their_2fa_ranges_and_recovery_codes() {
        let mut item = keyed_item(Item::new(), &UserItem::new("u1", &new_user())).unwrap();
        item.extend(stored(&[
            ("tf_enabled_by", s("admin")),
            ("tf_enabled_at", n(10)),
            ("tf_activated_at", n(20)),
            ("totp_secret", s("sealed")),
            ("totp_last_step", n(7)),
            ("recovery", AttributeValue::Ss(vec!["h1".into(), "h2".into()])),
            ("ip_ranges", AttributeValue::Ss(vec!["192.0.2.0/24".into()])),
            ("ip_paused", AttributeValue::Bool(true)),
            ("last_login", n(30)),
            ("session_epoch", n(4)),
        ]));
        let user = user_from_item(item).unwrap();
        let enabled = Some(Enabled { by_user_id: "admin".into(), at: UnixTime(10) });
        assert_eq!(user.two_factor, TwoFactor { enabled, activated_at: Some(UnixTime(20)) });
        assert_eq!((user.totp_secret.as_deref(), user.totp_last_step), (Some("sealed"), Some(7)));
        assert_eq!((user.recovery_codes_left, user.verified_ranges.len()), (2, 1));
        assert_eq!(
            (user.ip_verification_paused, user.last_login, user.session_epoch),
            (true, Some(UnixTime(30)), 4)
        );
    }

    #[test]
    fn a_user_with_a_bad_email_or_role_is_malformed() {
        for (name, value) in [("email", "not an email"), ("role", "nobody")] {
            let mut item = keyed_item(Item::new(), &UserItem::new("u1", &new_user())).unwrap();
            item.insert(name.into(), s(value));
            assert!(matches!(user_from_item(item), Err(StoreError::Malformed(_))), "{name}");
        }
    }

    #[test]
    fn a_new_account_stores_its_name_and_reads_the_defaults() {
        let item = keyed_item(Item::new(), &AccountItem::new("a1", "Acme")).unwrap();
        assert_eq!(item, stored(&[("account_id", s("a1")), ("name", s("Acme"))]));
        let account = account_from_item(item).unwrap();
        assert!(account.ip_verification && !account.two_factor_required);
        assert_eq!((account.settings_version, account.user_counts), (0, Counts::default()));
    }

    #[test]
    fn an_account_reads_its_settings_and_counts() {
        let item = stored(&[
            ("account_id", s("a1")),
            ("name", s("Acme")),
            ("two_factor_required", AttributeValue::Bool(true)),
            ("remote_2fa_required_from", n(86_400)),
            ("ip_verification", AttributeValue::Bool(false)),
            ("settings_version", n(2)),
            ("users_active", n(1)),
            ("users_enabled", n(2)),
            ("users_off", n(3)),
        ]);
        let account = account_from_item(item).unwrap();
        assert!(account.two_factor_required && !account.ip_verification);
        assert_eq!(account.remote_2fa_required_from, Some(UnixTime(86_400)));
        assert_eq!(account.user_counts, Counts { active: 1, enabled_not_activated: 2, off: 3 });
    }
}
