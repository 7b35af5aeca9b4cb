//! User Accounts, General Settings, audit log. Every call: a signed-in administrator, acting
//! only on their own account.

use domain::UnixTime;
use domain::admin::{AccountPolicy, AdminAction, Target};
use domain::audit::AuditAction;
use domain::remote::enforcement_date;
use domain::session::{self, StepUp};
use domain::twofactor::TwoFactorStatus;
use store::{Account, Column, Operation, PageKey, Session, User, UserListing};

use super::request::{self, ctx, store_failure};
use super::shared::status_of;
use super::{Access, Ctx, audit, now};
use crate::ApiError;
use crate::accounts::{
    AuditPage, AuditRow, Info, MenuItem, PAGE_SIZE, PageCursor, Settings, SortBy, UserPage, UserRow,
};

/// The `accounts` function's reach: the grid and its Info section, an administrator's changes
/// (each written with its audit event), General Settings, the audit log, and the emails telling
/// users about changes to their login.
pub const ACCESS: Access = Access {
    store_operations: &[
        request::STORE_OPERATIONS,
        &[
            Operation::ListUsersPage,
            Operation::GetUser,
            Operation::ApplyAdminAction,
            Operation::SaveSettings,
            Operation::AuditPage,
            Operation::Names,
        ],
    ],
    sends_mail: true,
};

const ACTIONS: [AdminAction; 5] = [
    AdminAction::EnableTwoFactor,
    AdminAction::DisableTwoFactor,
    AdminAction::ResetTwoFactor,
    AdminAction::PauseIpVerification,
    AdminAction::ResumeIpVerification,
];

/// The signed-in administrator, their session and their account.
struct Admin {
    token_hash: String,
    session: Session,
    user: User,
    account: Account,
}

impl Admin {
    fn has_2fa(&self) -> bool {
        status_of(&self.user, Some(&self.account)) == TwoFactorStatus::Active
    }

    /// An action that lowers security needs a recent proof of identity in this session
    /// (`domain::session`); without one, the dialog asks for it and sends the action again.
    fn require_step_up(&self, now: UnixTime) -> Result<(), ApiError> {
        match session::step_up_needed(self.session.reauth, self.has_2fa(), now) {
            None => Ok(()),
            Some(StepUp::Passcode) => Err(ApiError::StepUpRequired {
                message: "To confirm, enter the current code from your authenticator app.".into(),
                passcode: true,
            }),
            Some(StepUp::Password) => Err(ApiError::StepUpRequired {
                message: "To confirm, enter your password.".into(),
                passcode: false,
            }),
        }
    }

    /// How the audit log and the user's email name the administrator; one without 2FA is named
    /// as such.
    fn described(&self) -> String {
        if self.has_2fa() {
            self.user.name.clone()
        } else {
            format!("{} (an administrator without two-factor authentication)", self.user.name)
        }
    }
}

/// The signed-in administrator and their account; everyone else is refused.
async fn require_admin(ctx: &Ctx) -> Result<Admin, ApiError> {
    let request::SignedIn { token_hash, session, user, account } = request::require_signed_in(ctx).await?;
    if !user.role.can_manage_users() {
        return Err(ApiError::forbidden("Only administrators can manage user accounts and settings."));
    }
    let account = account.ok_or_else(|| ApiError::forbidden("Your account could not be found."))?;
    Ok(Admin { token_hash, session, user, account })
}

const NOT_ON_YOURSELF: &str =
    "You cannot lower the security of your own login. Ask another administrator to do this.";

fn listed_status(user: &UserListing, account: &Account) -> TwoFactorStatus {
    user.two_factor.status(account.two_factor_required)
}

fn target_of(user: &UserListing, account: &Account) -> Target {
    Target {
        status: listed_status(user, account),
        enabled_for_user: user.two_factor.enabled.is_some(),
        ip_verification_paused: user.ip_verification_paused,
    }
}

/// `user`'s row as `admin_id` sees it.
fn row(user: &UserListing, account: &Account, admin_id: &str) -> UserRow {
    let target = target_of(user, account);
    let menu = ACTIONS
        .iter()
        .filter(|&&a| a.offered(target))
        .map(|&action| {
            let unavailable = match action.check(target, account.two_factor_required) {
                Err(why) => Some(why),
                Ok(()) if user.id == admin_id && !action.allowed_on_self() => Some(NOT_ON_YOURSELF),
                Ok(()) => None,
            };
            MenuItem {
                action,
                unavailable_because: unavailable.map(str::to_owned),
                confirm: action.lowers_security(),
            }
        })
        .collect();
    UserRow {
        id: user.id.clone(),
        name: user.name.clone(),
        email: user.email.to_string(),
        role: user.role.label().to_owned(),
        two_factor: target.status,
        // A pause applies only while 2FA is active.
        ip_verification_paused: target.ip_verification_paused && target.status == TwoFactorStatus::Active,
        last_login: user.last_login.map(UnixTime::seconds),
        menu,
    }
}

fn column(sort: SortBy) -> Column {
    match sort {
        SortBy::Name => Column::Name,
        SortBy::Email => Column::Email,
        SortBy::Role => Column::Role,
        SortBy::TwoFactor => Column::TwoFactor,
        SortBy::LastLogin => Column::LastLogin,
    }
}

/// A page of the grid in two DynamoDB calls (the session with the administrator and account,
/// which carries the counts; one query of the column's index).
pub async fn list_users(
    sort: SortBy,
    descending: bool,
    at: Option<PageCursor>,
) -> Result<UserPage, ApiError> {
    let ctx = ctx();
    let Admin { account, user: admin, .. } = require_admin(&ctx).await?;
    if at
        .as_ref()
        .is_some_and(|c| c.sort_value.is_empty() || c.sort_value.len() > 1024 || c.user_id.len() > 64)
    {
        return Err(ApiError::bad_request("That page of the list does not exist. Reload the list."));
    }
    let counts = account.user_counts.listed(account.two_factor_required);
    let (total, pages) = (counts.total(), counts.total().div_ceil(PAGE_SIZE).max(1));
    let backwards = at.as_ref().is_some_and(|c| c.backwards);
    let start = at.as_ref().map(|c| PageKey { sort_value: c.sort_value.clone(), user_id: c.user_id.clone() });
    let (listed, more) = ctx
        .store
        .list_users_page(&account.id, column(sort), descending, start.as_ref(), backwards, PAGE_SIZE)
        .await
        .map_err(store_failure)?;
    // Going back, no more rows before these means this is the first page.
    let page = match &at {
        Some(c) if c.backwards && !more => 0,
        Some(c) => c.page.min(pages - 1),
        None => 0,
    };
    let cursor = |key: &PageKey, backwards: bool, page: usize| PageCursor {
        sort_value: key.sort_value.clone(),
        user_id: key.user_id.clone(),
        backwards,
        page,
    };
    let (first, last) = (listed.first().map(|(_, k)| k), listed.last().map(|(_, k)| k));
    let has_next = if backwards { !listed.is_empty() } else { more };
    let has_previous = if backwards { more } else { page > 0 };
    Ok(UserPage {
        rows: listed.iter().map(|(u, _)| row(u, &account, &admin.id)).collect(),
        page,
        pages,
        total,
        info: Info {
            account_wide: account.two_factor_required,
            ip_verification: account.ip_verification,
            active: counts.active,
            enabled_not_activated: counts.enabled_not_activated,
            off: counts.off,
        },
        next: last.filter(|_| has_next).map(|k| cursor(k, false, page + 1)),
        previous: first.filter(|_| has_previous).map(|k| cursor(k, true, page.saturating_sub(1))),
    })
}

fn consequence(action: AdminAction) -> &'static str {
    match action {
        AdminAction::EnableTwoFactor => {
            "At your next login you will set up two-factor authentication with an authenticator app."
        }
        AdminAction::DisableTwoFactor => {
            "You now log in with your password only. You were logged out everywhere."
        }
        AdminAction::ResetTwoFactor => {
            "Your authenticator app and recovery codes no longer work. At your next login you will set up two-factor authentication again. You were logged out everywhere."
        }
        AdminAction::PauseIpVerification => {
            "When you log in with two-factor authentication, logins from new places are no longer held for email verification."
        }
        AdminAction::ResumeIpVerification => "Logins from new places are verified by email again.",
    }
}

pub async fn act_on_user(user_id: String, action: AdminAction) -> Result<UserRow, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let now = now();
    let admin = require_admin(&ctx).await?;
    let account = &admin.account;
    if user_id.is_empty() || user_id.len() > 64 {
        return Err(ApiError::bad_request("Choose a user."));
    }
    // Looked up under the administrator's own account: a user of another account is not found.
    let not_found = || ApiError::NotFound { message: "There is no such user in your account.".into() };
    let user =
        ctx.store.get_user(&account.id, &user_id).await.map_err(store_failure)?.ok_or_else(not_found)?;
    action
        .check(target_of(&UserListing::from(&user), account), account.two_factor_required)
        .map_err(ApiError::bad_request)?;
    if user.id == admin.user.id && !action.allowed_on_self() {
        return Err(ApiError::forbidden(NOT_ON_YOURSELF));
    }
    if action.lowers_security() {
        admin.require_step_up(now)?;
    }

    let by = admin.described();
    let event = audit::event(
        &user.account_id,
        &admin.user.id,
        &user.id,
        action.audit_action(),
        &ip,
        &format!("{} by {by}", action.label()),
    );
    // Disable and Reset move the user's session epoch on in this same write: every session of
    // the user has ended once it succeeds.
    match ctx.store.apply_admin_action(&user, action, &admin.user.id, now, &event).await {
        Ok(store::AdminChange::Applied) => {}
        Ok(store::AdminChange::ChangedMeanwhile) => {
            return Err(ApiError::bad_request("This user changed in the meantime. Refresh and try again."));
        }
        Err(e) => return Err(store_failure(e)),
    }
    // The user's ended sessions stay until presented, which deletes them and tells the user why
    // they ended, or until the table's TTL.
    let mail = mail::Email::changed_by_administrator(&user.name, action.done(), &by, consequence(action));
    ctx.mailer.send_notice(user.email.as_str(), &mail, "changed by an administrator").await;
    let updated = ctx.store.get_user(&account.id, &user.id).await.map_err(|e| match store_failure(e) {
        ApiError::Unavailable { .. } => ApiError::Unavailable {
            message:
                "The change was saved, but the list could not be refreshed. Reload User Accounts in a moment."
                    .into(),
        },
        other => other,
    })?;
    Ok(row(&UserListing::from(&updated.ok_or_else(not_found)?), account, &admin.user.id))
}

fn settings_of(account: &Account) -> Settings {
    Settings {
        account_wide_2fa: account.two_factor_required,
        remote_2fa_required_from: account.remote_2fa_required_from.map(UnixTime::seconds),
        ip_verification: account.ip_verification,
    }
}

pub async fn get_settings() -> Result<Settings, ApiError> {
    let ctx = ctx();
    Ok(settings_of(&require_admin(&ctx).await?.account))
}

pub async fn save_settings(settings: Settings) -> Result<Settings, ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let admin = require_admin(&ctx).await?;
    let account = &admin.account;
    let invalid_date = || ApiError::bad_request("Choose a valid date for the 2FA requirement.");
    let required_from = settings
        .remote_2fa_required_from
        .map(|s| enforcement_date(s).ok_or_else(invalid_date))
        .transpose()?;
    let wanted = store::Settings {
        two_factor_required: settings.account_wide_2fa,
        remote_2fa_required_from: required_from,
        ip_verification: settings.ip_verification,
    };
    let before = settings_of(account);
    let changes = setting_changes(&before, &settings);
    if !changes.is_empty() {
        if policy_of(&before).lowered_by(&policy_of(&settings)) {
            admin.require_step_up(now())?;
        }
        let changes = format!("{changes} (by {})", admin.described());
        let mut event = audit::event(
            &account.id,
            &admin.user.id,
            &admin.user.id,
            AuditAction::SettingsChanged,
            &ip,
            &changes,
        );
        event.subject_user_id = None;
        match ctx.store.save_settings(account, &wanted, &event, &admin.token_hash).await {
            Ok(store::AdminChange::Applied) => {}
            Ok(store::AdminChange::ChangedMeanwhile) => {
                return Err(ApiError::bad_request(
                    "Another administrator changed these settings in the meantime. Review them and save again.",
                ));
            }
            Err(e) => return Err(store_failure(e)),
        }
    }
    Ok(settings)
}

fn policy_of(s: &Settings) -> AccountPolicy {
    AccountPolicy {
        account_wide_2fa: s.account_wide_2fa,
        remote_2fa_required_from: s.remote_2fa_required_from.map(UnixTime),
        ip_verification: s.ip_verification,
    }
}

/// What a save changes, in words for the audit log; empty when nothing changes.
fn setting_changes(before: &Settings, after: &Settings) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let mut changes = Vec::new();
    if before.account_wide_2fa != after.account_wide_2fa {
        changes.push(format!("account-wide 2FA {}", on_off(after.account_wide_2fa)));
    }
    if before.remote_2fa_required_from != after.remote_2fa_required_from {
        changes.push(match after.remote_2fa_required_from {
            Some(t) => {
                format!(
                    "2FA required for Take Control and RBM from {}",
                    domain::time::format_utc(UnixTime(t))
                )
            }
            None => "no date for requiring 2FA for Take Control and RBM".to_owned(),
        });
    }
    if before.ip_verification != after.ip_verification {
        changes.push(format!("IP address verification {}", on_off(after.ip_verification)));
    }
    changes.join("; ")
}

pub async fn audit_log(
    user_id: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
) -> Result<AuditPage, ApiError> {
    let ctx = ctx();
    let Admin { account, .. } = require_admin(&ctx).await?;
    let too_long = |v: &Option<String>| v.as_ref().is_some_and(|s| s.len() > 200);
    if too_long(&user_id) || too_long(&action) || too_long(&cursor) {
        return Err(ApiError::bad_request("The filter is too long."));
    }
    let empty_to_none = |v: Option<String>| v.filter(|s| !s.is_empty());
    let (user_id, action) = (empty_to_none(user_id), empty_to_none(action));
    let (events, next) = ctx
        .store
        .audit_page(&account.id, user_id.as_deref(), action.as_deref(), cursor.as_deref(), 50)
        .await
        .map_err(store_failure)?;
    // The names of the people and devices on this page, in one read (not one per row, not the
    // whole account).
    let ids = |of: &dyn Fn(&store::AuditEvent) -> Vec<Option<String>>| {
        let mut ids: Vec<String> = events.iter().flat_map(of).flatten().collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let users = ids(&|e| vec![e.actor_user_id.clone(), e.subject_user_id.clone()]);
    let devices = ids(&|e| vec![e.device_id.clone()]);
    let (user_names, device_names) =
        ctx.store.names(&account.id, &users, &devices).await.map_err(store_failure)?;
    let name = |names: &[(String, String)], id: &Option<String>| match id {
        Some(id) => names.iter().find(|(u, _)| u == id).map(|(_, n)| n.clone()).unwrap_or_else(|| id.clone()),
        None => String::new(),
    };
    let rows = events
        .iter()
        .map(|e| AuditRow {
            at: e.at.seconds(),
            action: e.action.clone(),
            label: AuditAction::from_code(&e.action)
                .map_or_else(|| e.action.clone(), |a| a.label().to_owned()),
            actor: name(&user_names, &e.actor_user_id),
            subject: name(&user_names, &e.subject_user_id),
            client_ip: e.client_ip.clone(),
            detail: e.detail.replace("{device}", &name(&device_names, &e.device_id)),
        })
        .collect();
    Ok(AuditPage { rows, next })
}
