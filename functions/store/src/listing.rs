//! The User Accounts grid, a page in one query whatever the account's size:
//! - one index per column the grid sorts by, all partitioned by the account (`gsi2pk`), each
//!   sorted by its column and then the email, and projected to what the grid shows;
//! - the account's count of users per 2FA status, kept on the account item by the same
//!   transaction that creates a user or changes a status, so the Info section reads no user.
//!
//! A column's sort value is written wherever what it sorts by changes: all five when a user is
//! created, the 2FA one with each status change, the last-login one with each login.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::admin::Counts;
use domain::twofactor::TwoFactorStatus;
use domain::{Email, Role, UnixTime};

use serde::{Deserialize, Serialize};

use crate::client::{Item, StoreError, build_error, n, s};
use crate::keys::{GSI2_PK, PK, SK, account_pk, user_sk, users_pk};

/// A column of the grid, with its index and the attribute that index sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    Email,
    Role,
    TwoFactor,
    LastLogin,
}

impl Column {
    pub const ALL: [Column; 5] =
        [Column::Name, Column::Email, Column::Role, Column::TwoFactor, Column::LastLogin];

    pub fn index(self) -> &'static str {
        match self {
            Column::Name => "gsi2",
            Column::Email => "gsi3",
            Column::Role => "gsi4",
            Column::TwoFactor => "gsi5",
            Column::LastLogin => "gsi6",
        }
    }

    /// The attribute the column's index sorts by.
    pub fn attribute(self) -> &'static str {
        match self {
            Column::Name => "gsi2sk",
            Column::Email => "gsi3sk",
            Column::Role => "gsi4sk",
            Column::TwoFactor => "gsi5sk",
            Column::LastLogin => "gsi6sk",
        }
    }
}

/// Between a column's value and the email that breaks ties: below every printable character, so
/// "Sam" sorts before "Sam Smith" as the column alone would.
const THEN: char = '\u{1}';

/// Ties on every column are broken by the email.
pub(crate) fn name_value(name: &str, email: &Email) -> AttributeValue {
    s(format!("{}{THEN}{}", name.to_lowercase(), email.as_str()))
}

pub(crate) fn email_value(email: &Email) -> AttributeValue {
    s(email.as_str())
}

pub(crate) fn role_value(role: Role, email: &Email) -> AttributeValue {
    s(format!("{}{THEN}{}", role.label(), email.as_str()))
}

/// Green ticks first, then grey, then none (as stored: account-wide 2FA shows "off" users with a
/// grey tick, and they sort after those enabled one by one).
pub(crate) fn status_value(status: TwoFactorStatus, email: &Email) -> AttributeValue {
    let rank = match status {
        TwoFactorStatus::Active => 0,
        TwoFactorStatus::EnabledNotActivated => 1,
        TwoFactorStatus::Off => 2,
    };
    s(format!("{rank}{THEN}{}", email.as_str()))
}

/// Never logged in sorts first, then oldest to newest.
pub(crate) fn login_value(last_login: Option<UnixTime>, email: &Email) -> AttributeValue {
    s(format!("{:012}{THEN}{}", last_login.map_or(0, |t| t.seconds().max(0)), email.as_str()))
}

/// Each column's sort value for a user.
pub(crate) fn sort_values(
    name: &str,
    email: &Email,
    role: Role,
    status: TwoFactorStatus,
    last_login: Option<UnixTime>,
) -> [(Column, AttributeValue); 5] {
    [
        (Column::Name, name_value(name, email)),
        (Column::Email, email_value(email)),
        (Column::Role, role_value(role, email)),
        (Column::TwoFactor, status_value(status, email)),
        (Column::LastLogin, login_value(last_login, email)),
    ]
}

/// Every attribute a user item is listed by, for a new user (2FA off, never logged in).
pub(crate) fn new_user_attributes(account_id: &str, name: &str, email: &Email, role: Role) -> Item {
    let mut item = Item::from([(GSI2_PK.to_owned(), s(users_pk(account_id)))]);
    for (column, value) in sort_values(name, email, role, TwoFactorStatus::Off, None) {
        item.insert(column.attribute().to_owned(), value);
    }
    item
}

fn count_attribute(status: TwoFactorStatus) -> &'static str {
    match status {
        TwoFactorStatus::Active => "users_active",
        TwoFactorStatus::EnabledNotActivated => "users_enabled",
        TwoFactorStatus::Off => "users_off",
    }
}

/// An account's users per 2FA status, as stored on its item (by [`count_attribute`]'s names).
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct CountsItem {
    #[serde(default)]
    users_active: i64,
    #[serde(default)]
    users_enabled: i64,
    #[serde(default)]
    users_off: i64,
}

impl CountsItem {
    pub(crate) fn counts(&self) -> Counts {
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        Counts {
            active: count(self.users_active),
            enabled_not_activated: count(self.users_enabled),
            off: count(self.users_off),
        }
    }
}

/// The transaction item that moves one user of `account_id` from the status `from` (none: a new
/// user) to `to` in the account's counts.
pub(crate) fn count_move(
    table: &str,
    account_id: &str,
    from: Option<TwoFactorStatus>,
    to: TwoFactorStatus,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(crate::users::account_key(account_id)))
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#to", count_attribute(to))
        .expression_attribute_values(":one", n(1));
    let update = match from {
        Some(from) if from == to => return Err(StoreError::Dynamo("a status move to itself".into())),
        Some(from) => update
            .update_expression("ADD #to :one, #from :minus_one")
            .expression_attribute_names("#from", count_attribute(from))
            .expression_attribute_values(":minus_one", n(-1)),
        None => update.update_expression("ADD #to :one"),
    };
    Ok(TransactWriteItem::builder().update(update.build().map_err(build_error)?).build())
}

/// Where a page starts: just after (or, going back, just before) this user in the column's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageKey {
    pub sort_value: String,
    pub user_id: String,
}

/// The key DynamoDB continues a query of `column`'s index from, for a user of `account_id`.
pub(crate) fn start_key(account_id: &str, column: Column, at: &PageKey) -> Item {
    Item::from([
        (PK.to_owned(), s(account_pk(account_id))),
        (SK.to_owned(), s(user_sk(&at.user_id))),
        (GSI2_PK.to_owned(), s(users_pk(account_id))),
        (column.attribute().to_owned(), s(&at.sort_value)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(e: &str) -> Email {
        Email::parse(e).unwrap()
    }

    fn text(v: AttributeValue) -> String {
        v.as_s().unwrap().clone()
    }

    #[test]
    fn sort_values_order_as_the_grid_does() {
        let (a, b) = (email("a@x.example"), email("b@x.example"));
        assert!(text(name_value("alex", &b)) < text(name_value("Bea", &a)), "case is ignored");
        assert!(text(name_value("Sam", &a)) < text(name_value("sam", &b)), "ties by email");
        assert!(text(name_value("Sam", &b)) < text(name_value("Sam Smith", &a)), "a prefix first");
        assert!(
            text(status_value(TwoFactorStatus::Active, &b))
                < text(status_value(TwoFactorStatus::EnabledNotActivated, &a))
        );
        assert!(
            text(status_value(TwoFactorStatus::EnabledNotActivated, &b))
                < text(status_value(TwoFactorStatus::Off, &a))
        );
        let (day1, day2) = (Some(UnixTime(86_400)), Some(UnixTime(1_800_000_000)));
        assert!(text(login_value(None, &b)) < text(login_value(day1, &a)), "never logged in first");
        assert!(text(login_value(day1, &b)) < text(login_value(day2, &a)), "numbers, not digits");
    }
}
