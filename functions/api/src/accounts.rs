//! `/api/accounts/...`: User Accounts, General Settings and the audit log (administrators only).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::auth::TwoFactorStatus;
pub use domain::admin::AdminAction;
pub use domain::audit::AuditAction;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    Name,
    Email,
    Role,
    TwoFactor,
    LastLogin,
}

/// One menu item for one user: offered, and if not available, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub action: AdminAction,
    pub unavailable_because: Option<String>,
    /// Ask "are you sure?" first.
    pub confirm: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub two_factor: TwoFactorStatus,
    pub ip_verification_paused: bool,
    /// Epoch seconds.
    pub last_login: Option<i64>,
    pub menu: Vec<MenuItem>,
}

/// The Info section at the bottom of the dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    pub account_wide: bool,
    /// General Settings: IP address verification for the whole account.
    pub ip_verification: bool,
    pub active: usize,
    pub enabled_not_activated: usize,
    pub off: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// Which page this is (from 0), of `pages`.
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub info: Info,
    /// Pass back for the next page; `None` on the last.
    pub next: Option<PageCursor>,
    /// Pass back for the previous page; `None` on the first.
    pub previous: Option<PageCursor>,
}

/// Where a page of the grid starts: next to a row, in the order it was sorted by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    pub sort_value: String,
    pub user_id: String,
    /// The rows before it, not after.
    pub backwards: bool,
    /// The page it leads to.
    pub page: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub account_wide_2fa: bool,
    /// Epoch seconds from which 2FA is required for Take Control and RBM.
    pub remote_2fa_required_from: Option<i64>,
    pub ip_verification: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: i64,
    /// The event's code (see [`AuditAction::code`]).
    pub action: String,
    /// How the log names it.
    pub label: String,
    pub actor: String,
    pub subject: String,
    pub client_ip: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass back to get the next (older) page.
    pub next: Option<String>,
}

/// Users per page in the grid.
pub const PAGE_SIZE: usize = 25;

server_functions! {
    prefix = "/api/accounts";

    /// A page of the grid: the first in `sort` order, or the one `at` leads to.
    "users" => ListUsers: fn list_users(sort: SortBy, descending: bool, at: Option<PageCursor>) -> UserPage =
        crate::server::accounts::list_users;

    /// One context-menu action on a colleague; answers the updated row.
    "user-action" => ActOnUser:
        fn act_on_user(user_id: String, action: AdminAction) -> UserRow = crate::server::accounts::act_on_user;

    /// The account's General Settings.
    "settings" => GetSettings: fn get_settings() -> Settings = crate::server::accounts::get_settings;

    /// Saves General Settings (lowering security needs a recent step-up); answers what is saved.
    "save-settings" => SaveSettings:
        fn save_settings(settings: Settings) -> Settings = crate::server::accounts::save_settings;

    /// Newest first; `user_id` and `action` filter; `cursor` continues from `next`.
    "audit" => AuditLog:
        fn audit_log(user_id: Option<String>, action: Option<String>, cursor: Option<String>) -> AuditPage =
            crate::server::accounts::audit_log;
}
