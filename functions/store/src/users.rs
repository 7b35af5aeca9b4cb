use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use domain::admin::Counts;
use domain::twofactor::{Enabled, TwoFactor, TwoFactorStatus};
use domain::{Email, Role, UnixTime};

use crate::client::{
    Item, Store, StoreError, conditional, get_opt_n, get_opt_s, get_s, lost_condition, n, s,
};
use crate::db::Db;
use crate::keys::{
    ACCOUNT_SK, EMAIL_SK, GSI1_PK, GSI1_SK, GSI2_PK, PK, SK, USER_GSI1_SK, USER_PREFIX, account_pk, email_pk,
    user_sk, users_pk,
};
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
    Item::from([(PK.to_owned(), s(email_pk(email))), (SK.to_owned(), s(EMAIL_SK))])
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
        db.update_item()
            .table_name(&self.table)
            .key(PK, s(account_pk(account_id)))
            .key(SK, s(ACCOUNT_SK))
            .condition_expression("attribute_exists(pk)")
    }

    pub async fn create_account(&self, name: &str) -> Result<Account, StoreError> {
        let db = self.op(Operation::CreateAccount)?;
        let id = uuid::Uuid::new_v4().to_string();
        db.put_item()
            .table_name(&self.table)
            .item(PK, s(account_pk(&id)))
            .item(SK, s(ACCOUNT_SK))
            .item("account_id", s(&id))
            .item("name", s(name))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(Account {
            id,
            name: name.to_owned(),
            two_factor_required: false,
            remote_2fa_required_from: None,
            ip_verification: true,
            settings_version: 0,
            session_epoch: 0,
            user_counts: Counts::default(),
        })
    }

    pub async fn get_account(&self, account_id: &str) -> Result<Option<Account>, StoreError> {
        let db = self.op(Operation::GetAccount)?;
        let out = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(account_pk(account_id)))
            .key(SK, s(ACCOUNT_SK))
            .send()
            .await?;
        out.item.as_ref().map(account_from_item).transpose()
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
        for item in &items {
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
            .update_item()
            .table_name(&self.table)
            .key(PK, s(account_pk(account_id)))
            .key(SK, s(user_sk(user_id)))
            .update_expression("ADD ip_ranges :range")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":range", AttributeValue::Ss(vec![range.to_owned()]))
            .send()
            .await;
        conditional(result)?;
        Ok(())
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
        conditional(result)?;
        Ok(())
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
            .iter()
            .take(limit)
            .map(|item| {
                let listing = listing_from_item(item)?;
                let key =
                    PageKey { sort_value: get_s(item, column.attribute())?, user_id: listing.id.clone() };
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
            let user = user_from_item(&item?)?;
            let status = user.two_factor.status(false);
            let values = listing::sort_values(&user.name, &user.email, user.role, status, user.last_login);
            let mut update = db
                .update_item()
                .table_name(&self.table)
                .key(PK, s(account_pk(&user.account_id)))
                .key(SK, s(user_sk(&user.id)))
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
            statuses.push(two_factor_from_item(&item?).status(false));
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
        let key =
            |sk: String| Item::from([(PK.to_owned(), s(account_pk(account_id))), (SK.to_owned(), s(sk))]);
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
            let sk = get_s(&item, SK)?;
            match devices.iter().find(|id| crate::keys::device_sk(id) == sk) {
                Some(device) => device_names.push((device.clone(), get_s(&item, "name")?)),
                None => user_names.push((get_s(&item, "user_id")?, get_s(&item, "name")?)),
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
        conditional(update.send().await)?;
        Ok(())
    }

    /// Creates a user and claims their email in one transaction: a second user with the same
    /// email fails with `Conflict` and nothing is written.
    pub async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let db = self.op(Operation::CreateUser)?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut item = listing::new_user_attributes(&new.account_id, &new.name, &new.email, new.role);
        item.extend([
            (PK.to_owned(), s(account_pk(&new.account_id))),
            (SK.to_owned(), s(user_sk(&id))),
            (GSI1_PK.to_owned(), s(email_pk(&new.email))),
            (GSI1_SK.to_owned(), s(USER_GSI1_SK)),
        ]);
        let user = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .item("user_id", s(&id))
            .item("account_id", s(&new.account_id))
            .item("email", s(new.email.as_str()))
            .item("name", s(&new.name))
            .item("role", s(new.role.code()))
            .item("password_hash", s(&new.password_hash))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let claim = Put::builder()
            .table_name(&self.table)
            .item(PK, s(email_pk(&new.email)))
            .item(SK, s(EMAIL_SK))
            .item("user_id", s(&id))
            .item("account_id", s(&new.account_id))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let result = db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(user).build())
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .transact_items(listing::count_move(&self.table, &new.account_id, None, TwoFactorStatus::Off)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(User {
                id,
                account_id: new.account_id,
                email: new.email,
                name: new.name,
                role: new.role,
                password_hash: new.password_hash,
                last_login: None,
                two_factor: TwoFactor::default(),
                totp_secret: None,
                totp_last_step: None,
                recovery_codes_left: 0,
                ip_verification_paused: false,
                verified_ranges: Vec::new(),
                session_epoch: 0,
            }),
            Err(err) if lost_condition(&err) => Err(StoreError::Conflict),
            Err(err) => Err(err.into()),
        }
    }

    /// The login lookup, strongly consistent: the email's claim item names the user, whose item
    /// is read by key (the email index may lag behind a change). An email without an account
    /// reads a key that does not exist, so both cost the same two reads.
    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let db = self.op(Operation::FindUserByEmail)?;
        let claim = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(email_pk(email)))
            .key(SK, s(EMAIL_SK))
            .consistent_read(true)
            .send()
            .await?
            .item;
        let (account_id, user_id) = match &claim {
            Some(claim) => (get_s(claim, "account_id")?, get_s(claim, "user_id")?),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let user = self.get_user(&account_id, &user_id).await?;
        Ok(user.filter(|_| claim.is_some()))
    }

    /// A user by key, strongly consistent (every check of a session's user reads the latest).
    pub async fn get_user(&self, account_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
        let db = self.op(Operation::GetUser)?;
        let out = db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(account_pk(account_id)))
            .key(SK, s(user_sk(user_id)))
            .consistent_read(true)
            .send()
            .await?;
        out.item.as_ref().map(user_from_item).transpose()
    }
}

/// The keys of a user item and of its account's item.
pub(crate) fn user_and_account_keys(account_id: &str, user_id: &str) -> Vec<Item> {
    let key = |sk: String| Item::from([(PK.to_owned(), s(account_pk(account_id))), (SK.to_owned(), s(sk))]);
    vec![key(user_sk(user_id)), key("ACCOUNT".to_owned())]
}

pub(crate) fn account_from_item(item: &Item) -> Result<Account, StoreError> {
    Ok(Account {
        id: get_s(item, "account_id")?,
        name: get_s(item, "name")?,
        two_factor_required: matches!(item.get("two_factor_required"), Some(AttributeValue::Bool(true))),
        remote_2fa_required_from: get_opt_n(item, "remote_2fa_required_from").map(UnixTime),
        ip_verification: !matches!(item.get("ip_verification"), Some(AttributeValue::Bool(false))),
        settings_version: get_opt_n(item, "settings_version").unwrap_or(0),
        session_epoch: get_opt_n(item, "session_epoch").unwrap_or(0),
        user_counts: listing::counts_from_item(item),
    })
}

fn two_factor_from_item(item: &Item) -> TwoFactor {
    TwoFactor {
        enabled: match (get_opt_s(item, "tf_enabled_by"), get_opt_n(item, "tf_enabled_at")) {
            (Some(by_user_id), Some(at)) => Some(Enabled { by_user_id, at: UnixTime(at) }),
            _ => None,
        },
        activated_at: get_opt_n(item, "tf_activated_at").map(UnixTime),
    }
}

fn listing_from_item(item: &Item) -> Result<UserListing, StoreError> {
    Ok(UserListing {
        id: get_s(item, "user_id")?,
        email: Email::parse(&get_s(item, "email")?)
            .map_err(|_| StoreError::Malformed("user email".into()))?,
        name: get_s(item, "name")?,
        role: Role::from_code(&get_s(item, "role")?)
            .ok_or_else(|| StoreError::Malformed("user role".into()))?,
        last_login: get_opt_n(item, "last_login").map(UnixTime),
        two_factor: two_factor_from_item(item),
        ip_verification_paused: matches!(item.get("ip_paused"), Some(AttributeValue::Bool(true))),
    })
}

pub(crate) fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let email =
        Email::parse(&get_s(item, "email")?).map_err(|_| StoreError::Malformed("user email".into()))?;
    let role =
        Role::from_code(&get_s(item, "role")?).ok_or_else(|| StoreError::Malformed("user role".into()))?;
    Ok(User {
        id: get_s(item, "user_id")?,
        account_id: get_s(item, "account_id")?,
        email,
        name: get_s(item, "name")?,
        role,
        password_hash: get_s(item, "password_hash")?,
        last_login: get_opt_n(item, "last_login").map(UnixTime),
        two_factor: two_factor_from_item(item),
        totp_secret: get_opt_s(item, "totp_secret"),
        totp_last_step: get_opt_n(item, "totp_last_step"),
        recovery_codes_left: match item.get("recovery") {
            Some(AttributeValue::Ss(set)) => set.len(),
            _ => 0,
        },
        ip_verification_paused: matches!(item.get("ip_paused"), Some(AttributeValue::Bool(true))),
        verified_ranges: match item.get("ip_ranges") {
            Some(AttributeValue::Ss(set)) => set.clone(),
            _ => Vec::new(),
        },
        session_epoch: get_opt_n(item, "session_epoch").unwrap_or(0),
    })
}
