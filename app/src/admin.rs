//! Administrators: User Accounts (grid, context menu, Info section), General Settings, audit log.
//! The server decides what is allowed; the menu shows its answer, disabled items with the reason.

use api::ApiError;
use api::accounts::{
    AUDIT_EVENTS, AuditPage, MenuItem, PageCursor, Settings, SortBy, UserAction, UserPage, UserRow,
};
use api::auth::TwoFactorStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{date_input_value, format_time, parse_date};
use crate::{focus_first, keep_tab_inside, popup_anchor};

/// A step-up asked for by the server: what to ask for, and what was typed.
#[derive(Clone, Copy)]
struct StepUp {
    /// `Some((message, passcode))` once the server asked for a re-authentication.
    asked: RwSignal<Option<(String, bool)>>,
    typed: RwSignal<String>,
}

impl StepUp {
    fn new() -> Self {
        StepUp { asked: RwSignal::new(None), typed: RwSignal::new(String::new()) }
    }

    fn reset(self) {
        self.asked.set(None);
        self.typed.set(String::new());
    }

    /// Sends the step-up first if one was asked for, then `action`. When the server asks for a
    /// step-up, keeps the question and answers `Ok(None)`: the caller leaves its form open.
    async fn run<T, F>(self, action: impl FnOnce() -> F) -> Result<Option<T>, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        if self.asked.get_untracked().is_some() {
            call(api::auth::StepUp { secret: self.typed.get_untracked() }).await?;
            self.typed.set(String::new());
        }
        match action().await {
            Ok(value) => {
                self.reset();
                Ok(Some(value))
            }
            Err(ApiError::StepUpRequired { message, passcode }) => {
                self.asked.set(Some((message, passcode)));
                focus_first("#step-up");
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }
}

/// The password or passcode field of a step-up, shown once the server asked for one.
#[component]
fn StepUpField(step_up: StepUp) -> impl IntoView {
    move || {
        step_up.asked.get().map(|(message, passcode)| {
            let (kind, mode, complete) = if passcode {
                ("text", "numeric", "one-time-code")
            } else {
                ("password", "text", "current-password")
            };
            view! {
                <label for="step-up">{message}</label>
                <input id="step-up" type=kind inputmode=mode autocomplete=complete required
                    prop:value=move || step_up.typed.get()
                    on:input=move |ev| step_up.typed.set(event_target_value(&ev)) />
            }
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminView {
    UserAccounts,
    GeneralSettings,
    AuditLog,
}

/// A context menu open for one user, at a screen position.
#[derive(Clone, Debug, PartialEq)]
struct OpenMenu {
    row: UserRow,
    x: i32,
    y: i32,
}

#[component]
pub fn AdminDialog(view: AdminView, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let title = match view {
        AdminView::UserAccounts => "User Accounts",
        AdminView::GeneralSettings => "General Settings",
        AdminView::AuditLog => "Audit log",
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close();
        }
        keep_tab_inside(&ev);
    };
    // The dialog takes the keyboard at once, so Escape closes it and Tab stays inside.
    focus_first("#admin-dialog .dialog-head button");
    view! {
        <div class="backdrop">
            <div class="dialog wide-dialog" id="admin-dialog" role="dialog" aria-modal="true" aria-labelledby="admin-title" on:keydown=on_key>
                <div class="dialog-head">
                    <h2 id="admin-title">{title}</h2>
                    <button type="button" aria-label="Close" on:click=move |_| on_close()>"✕"</button>
                </div>
                {match view {
                    AdminView::UserAccounts => view! { <UserAccounts /> }.into_any(),
                    AdminView::GeneralSettings => view! { <GeneralSettings /> }.into_any(),
                    AdminView::AuditLog => view! { <AuditLog /> }.into_any(),
                }}
            </div>
        </div>
    }
}

fn tick(status: TwoFactorStatus) -> AnyView {
    match status {
        TwoFactorStatus::Active => {
            view! { <span class="tick green" role="img" aria-label="2FA active" title="2FA active">"✔"</span> }.into_any()
        }
        TwoFactorStatus::EnabledNotActivated => view! {
            <span class="tick grey" role="img" aria-label="2FA enabled, not yet activated" title="2FA enabled, not yet activated">"✔"</span>
        }
        .into_any(),
        TwoFactorStatus::Off => view! { <span class="tick none" role="img" aria-label="2FA off" title="2FA off">"–"</span> }.into_any(),
    }
}

#[component]
fn UserAccounts() -> impl IntoView {
    let sort = RwSignal::new(SortBy::Name);
    let descending = RwSignal::new(false);
    let at = RwSignal::new(None::<PageCursor>);
    let page = RwSignal::new(None::<UserPage>);
    let error = RwSignal::new(None::<String>);
    let menu = RwSignal::new(None::<OpenMenu>);
    let confirm = RwSignal::new(None::<(UserRow, UserAction)>);
    let confirm_error = RwSignal::new(None::<String>);
    let step_up = StepUp::new();
    // The row to give the keyboard back to once the grid is drawn again (after an action).
    let refocus = RwSignal::new(None::<String>);

    let reload = move || {
        spawn_local(async move {
            match call(api::accounts::ListUsers {
                sort: sort.get_untracked(),
                descending: descending.get_untracked(),
                at: at.get_untracked(),
            })
            .await
            {
                Ok(p) => {
                    page.set(Some(p));
                    // The dialog may have closed meanwhile: nothing to focus then.
                    if let Some(email) = refocus.try_get_untracked().flatten() {
                        refocus.set(None);
                        focus_row(&email);
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    reload();
    // Closing the confirmation, like the menu, gives the keyboard back to the user's row (so
    // Escape then closes the dialog).
    let close_confirm = move || {
        if let Some((row, _)) = confirm.try_get_untracked().flatten() {
            confirm.set(None);
            focus_row(&row.email);
        }
        confirm_error.set(None);
        step_up.reset();
    };
    // One action at a time: a double click changes the user once.
    let busy = RwSignal::new(false);
    let run = move |row: UserRow, action: UserAction| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        menu.set(None);
        refocus.set(Some(row.email.clone()));
        error.set(None);
        confirm_error.set(None);
        spawn_local(async move {
            let id = row.id.clone();
            let result = step_up.run(|| call(api::accounts::ActOnUser { user_id: id, action })).await;
            busy.set(false);
            match result {
                // The confirmation now asks for a password or passcode.
                Ok(None) => {}
                Err(e)
                    if matches!(e, ApiError::BadRequest { .. } | ApiError::LockedOut { .. })
                        && confirm.try_get_untracked().flatten().is_some() =>
                {
                    confirm_error.set(Some(e.to_string()));
                }
                Ok(Some(updated)) => {
                    close_confirm();
                    // Update the grid at once, then refresh the counts.
                    page.update(|p| {
                        if let Some(p) = p {
                            if let Some(r) = p.rows.iter_mut().find(|r| r.id == updated.id) {
                                *r = updated;
                            }
                        }
                    });
                    reload();
                }
                Err(e) => {
                    refocus.set(None);
                    close_confirm();
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    let choose = move |row: UserRow, item: MenuItem| {
        if item.unavailable_because.is_some() {
            return;
        }
        if item.confirm {
            menu.set(None);
            confirm.set(Some((row, item.action)));
            // The safe choice has the focus: Enter does not lower anyone's security by accident.
            focus_first(".confirm button.safe");
        } else {
            run(row, item.action);
        }
    };
    let sort_by = move |by: SortBy| {
        if sort.get_untracked() == by {
            descending.update(|d| *d = !*d);
        } else {
            sort.set(by);
            descending.set(false);
        }
        at.set(None);
        reload();
    };
    let header = move |label: &'static str, by: SortBy| {
        let aria = move || match (sort.get() == by, descending.get()) {
            (true, false) => "ascending",
            (true, true) => "descending",
            _ => "none",
        };
        view! {
            <th aria-sort=aria><button type="button" class="sort" on:click=move |_| sort_by(by)>{label}</button></th>
        }
    };

    // Open menus take keyboard focus on their first available item (as does the confirmation, in
    // `choose`), and Escape closes the menu (or the confirmation) before it closes the dialog.
    let open_menu = move |open: OpenMenu| {
        menu.set(Some(open));
        focus_first(".context-menu [role=menuitem]:not(.disabled)");
    };
    // Closing the menu gives the keyboard back to its row.
    let close_menu = move || {
        if let Some(open) = menu.get_untracked() {
            menu.set(None);
            focus_row(&open.row.email);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && (menu.get_untracked().is_some() || confirm.get_untracked().is_some()) {
            ev.stop_propagation();
            close_menu();
            close_confirm();
        }
    };
    view! {
        <div on:keydown=on_key>
        <p class="legend">
            "2FA column: " {tick(TwoFactorStatus::Active)} " active · " {tick(TwoFactorStatus::EnabledNotActivated)}
            " enabled, not yet activated · " {tick(TwoFactorStatus::Off)} " off. Right-click a user (or press Shift+F10) for actions."
        </p>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <table class="grid" aria-label="Users">
            <thead>
                <tr>
                    {header("Name", SortBy::Name)}
                    {header("Email", SortBy::Email)}
                    {header("Role", SortBy::Role)}
                    {header("2FA", SortBy::TwoFactor)}
                    <th>"IP verification"</th>
                    {header("Last login", SortBy::LastLogin)}
                    <th><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody aria-busy=move || page.get().is_none().to_string()>
                {move || page.get().is_none().then(|| view! { <tr><td colspan="7" class="muted">"Loading users…"</td></tr> })}
                {move || page.get().map(|p| { let ip_on = p.info.ip_verification; p.rows.into_iter().map(move |row| {
                    let (r1, r2, r3) = (row.clone(), row.clone(), row.clone());
                    let open_at = move |x: i32, y: i32, r: UserRow| open_menu(OpenMenu { row: r, x, y });
                    view! {
                        <tr tabindex="0" data-testid="user-row" data-email=row.email.clone()
                            on:contextmenu=move |ev| { ev.prevent_default(); open_at(ev.client_x(), ev.client_y(), r1.clone()); }
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                if ev.key() == "ContextMenu" || (ev.shift_key() && ev.key() == "F10") {
                                    ev.prevent_default();
                                    // At the row, as a right-click there would open it.
                                    let at = event_target::<web_sys::Element>(&ev).get_bounding_client_rect();
                                    open_at(at.left() as i32 + 40, at.bottom() as i32, r2.clone());
                                }
                            }>
                            <td>{row.name.clone()}</td>
                            <td>{row.email.clone()}</td>
                            <td>{row.role.clone()}</td>
                            <td data-testid="two-factor">{tick(row.two_factor)}</td>
                            <td data-testid="ip-verification">{ip_column(ip_on, row.ip_verification_paused)}</td>
                            <td>{row.last_login.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                            <td>
                                <button type="button" class="row-menu" aria-haspopup="menu"
                                    aria-label=format!("Actions for {}", row.name)
                                    on:click=move |ev| open_at(ev.client_x(), ev.client_y(), r3.clone())>"⋮"</button>
                            </td>
                        </tr>
                    }
                }).collect_view() })}
            </tbody>
        </table>
        {move || page.get().map(|p| {
            let (previous, next) = (p.previous.clone(), p.next.clone());
            let (first, last) = (previous.is_none(), next.is_none());
            view! {
            <div class="row pager">
                <button type="button" disabled=first on:click=move |_| { at.set(previous.clone()); reload(); }>"Previous"</button>
                <span>{format!("Page {} of {} · {} users", p.page + 1, p.pages, p.total)}</span>
                <button type="button" disabled=last on:click=move |_| { at.set(next.clone()); reload(); }>"Next"</button>
            </div>
            <section class="info" aria-label="Info" data-testid="info">
                <h3>"Info"</h3>
                <p>{if p.info.account_wide {
                    "Two-factor authentication is on for the whole account: every user must log in with 2FA."
                } else {
                    "Two-factor authentication is set per user."
                }}</p>
                <p>{if p.info.ip_verification {
                    "IP address verification is on for the account."
                } else {
                    "IP address verification is off for the whole account (General Settings)."
                }}</p>
                <p>{format!(
                    "2FA active: {} · Enabled, not yet activated: {} · Off: {}",
                    p.info.active, p.info.enabled_not_activated, p.info.off
                )}</p>
            </section>
        }
        })}
        {move || menu.get().map(|open| {
            let row = open.row.clone();
            let [left, right, top, bottom] = popup_anchor(open.x, open.y);
            view! {
                <div class="menu-backdrop" on:click=move |_| close_menu()></div>
                <ul class="context-menu" role="menu" aria-label=format!("Actions for {}", row.name)
                    style:left=left style:right=right style:top=top style:bottom=bottom
                    on:keydown=move_in_menu>
                    {row.menu.clone().into_iter().map(|item| {
                        let (r, i) = (row.clone(), item.clone());
                        let disabled = item.unavailable_because.is_some();
                        view! {
                            <li role="none">
                                <button type="button" role="menuitem" aria-disabled=disabled.to_string()
                                    class:disabled=disabled title=item.unavailable_because.clone().unwrap_or_default()
                                    on:click=move |_| choose(r.clone(), i.clone())>
                                    {item.action.label()}
                                </button>
                                {item.unavailable_because.clone().map(|why| view! { <small class="why">{why}</small> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
        })}
        {move || confirm.get().map(|(row, action)| {
            let r = row.clone();
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                run(r.clone(), action);
            };
            view! {
                <div class="backdrop confirm-backdrop">
                <form class="dialog confirm" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
                    on:submit=submit on:keydown=move |ev| keep_tab_inside(&ev)>
                    <h3 id="confirm-title">{format!("{} for {}?", action.label(), row.name)}</h3>
                    <p>"This lowers the security of their login. They will be told by email, and the change is written to the audit log."</p>
                    <StepUpField step_up />
                    {move || confirm_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <div class="row">
                        <button type="submit" class="primary" disabled=move || busy.get()>{action.label()}</button>
                        <button type="button" class="safe" on:click=move |_| close_confirm()>"Cancel"</button>
                    </div>
                </form>
                </div>
            }
        })}
        </div>
    }
}

#[component]
fn GeneralSettings() -> impl IntoView {
    let account_wide = RwSignal::new(false);
    let date = RwSignal::new(String::new());
    let ip_verification = RwSignal::new(true);
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let step_up = StepUp::new();
    // The form appears once the current settings are in, so nothing typed is overwritten.
    let loaded = RwSignal::new(false);
    // Account-wide 2FA as saved, to warn before it is switched on.
    let saved_wide = RwSignal::new(false);
    let show = move |s: Settings| {
        loaded.set(true);
        account_wide.set(s.account_wide_2fa);
        saved_wide.set(s.account_wide_2fa);
        date.set(s.remote_2fa_required_from.map(date_input_value).unwrap_or_default());
        ip_verification.set(s.ip_verification);
    };
    spawn_local(async move {
        match call(api::accounts::GetSettings {}).await {
            Ok(s) => show(s),
            Err(e) => error.set(Some(e.to_string())),
        }
    });
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        status.set(None);
        let raw = date.get_untracked();
        let from = if raw.is_empty() { None } else { parse_date(&raw) };
        if !raw.is_empty() && from.is_none() {
            error.set(Some("Choose a valid date.".into()));
            return;
        }
        let settings = Settings {
            account_wide_2fa: account_wide.get_untracked(),
            remote_2fa_required_from: from,
            ip_verification: ip_verification.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            let result = step_up.run(|| call(api::accounts::SaveSettings { settings })).await;
            busy.set(false);
            match result {
                Ok(Some(s)) => {
                    show(s);
                    status.set(Some("Settings saved.".into()));
                }
                // The form now asks for a password or passcode before it saves.
                Ok(None) => {}
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // `<Show>` spelled out (its generic children code is large): the form is built once the
    // settings are in, not again when they are saved.
    let ready = Memo::new(move |_| loaded.get());
    view! {
        {move || if ready.get() {
            view! {
                <form class="settings" on:submit=save>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || account_wide.get()
                            on:change=move |ev| account_wide.set(event_target_checked(&ev)) />
                        " Two-factor authentication for every user (account-wide)"
                    </label>
                    {move || (account_wide.get() && !saved_wide.get()).then(|| view! {
                        <p class="warning" role="note">"When you save, every other user who has not activated 2FA is logged out, and everyone who has not, you included, must set it up at their next login."</p>
                    })}
                    <label for="enforce-date">"2FA required for Take Control and Remote Background Management from (00:00 UTC on that day)"</label>
                    <input id="enforce-date" type="date"
                        prop:value=move || date.get()
                        on:input=move |ev| date.set(event_target_value(&ev)) />
                    <label class="check">
                        <input type="checkbox" prop:checked=move || ip_verification.get()
                            on:change=move |ev| ip_verification.set(event_target_checked(&ev)) />
                        " IP address verification"
                    </label>
                    <StepUpField step_up />
                    <div class="row"><button class="primary" type="submit" disabled=move || busy.get()>"Save settings"</button></div>
                    {move || status.get().map(|s| view! { <p role="status">{s}</p> })}
                </form>
            }
            .into_any()
        } else {
            view! { <p class="muted">"Loading…"</p> }.into_any()
        }}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let users = RwSignal::new(Vec::<UserRow>::new());
    let user_filter = RwSignal::new(String::new());
    let action_filter = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::new());
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let load = move |more: bool| {
        let cursor = if more { next.get_untracked() } else { None };
        let (user, action) = (user_filter.get_untracked(), action_filter.get_untracked());
        spawn_local(async move {
            match call(api::accounts::AuditLog { user_id: Some(user), action: Some(action), cursor }).await {
                Ok(AuditPage { rows: page, next: n }) => {
                    rows.update(|r| {
                        if !more {
                            r.clear();
                        }
                        r.extend(page);
                    });
                    next.set(n);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    load(false);
    // `<Show>` spelled out (its generic children code is large): the button stays the same
    // element while there are older events, so it keeps focus after a click.
    let has_older = Memo::new(move |_| next.get().is_some());
    spawn_local(async move {
        let mut all = Vec::new();
        let mut at = None;
        while let Ok(p) = call(api::accounts::ListUsers { sort: SortBy::Name, descending: false, at }).await {
            all.extend(p.rows);
            match p.next {
                Some(next) => at = Some(next),
                None => break,
            }
        }
        users.set(all);
    });
    view! {
        <div class="row filters">
            <label>"User "
                <select on:change=move |ev| { user_filter.set(event_target_value(&ev)); load(false); }>
                    <option value="">"Everyone"</option>
                    {move || users.get().into_iter().map(|u| view! { <option value=u.id.clone()>{u.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Event "
                <select on:change=move |ev| { action_filter.set(event_target_value(&ev)); load(false); }>
                    <option value="">"All events"</option>
                    {AUDIT_EVENTS.iter().map(|(code, label)| view! { <option value=*code>{*label}</option> }).collect_view()}
                </select>
            </label>
        </div>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <table class="grid" aria-label="Audit log">
            <thead><tr><th>"When"</th><th>"Event"</th><th>"By"</th><th>"About"</th><th>"IP address"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {move || rows.get().into_iter().map(|r| view! {
                    <tr data-testid="audit-row">
                        <td>{format_time(r.at)}</td><td title=r.action.clone() data-code=r.action>{r.label}</td><td>{r.actor}</td>
                        <td>{r.subject}</td><td>{r.client_ip}</td><td>{r.detail}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {move || has_older.get().then(|| view! {
            <button type="button" on:click=move |_| load(true)>"Show older events"</button>
        })}
    }
}

/// The IP verification column: a user's pause counts only while the account verifies at all.
fn ip_column(account_on: bool, paused: bool) -> &'static str {
    match (account_on, paused) {
        (false, _) => "Off (account)",
        (true, true) => "Paused",
        (true, false) => "On",
    }
}

/// Gives the keyboard to the grid row of `email`, once the grid is rendered again.
fn focus_row(email: &str) {
    focus_first(&format!("tr[data-email=\"{email}\"]"));
}

/// Arrow keys, Home and End move through a menu's items, as in a desktop menu.
fn move_in_menu(ev: leptos::ev::KeyboardEvent) {
    let (items, at) = crate::focus_ring(&ev, "[role=menuitem]");
    let last = items.len().saturating_sub(1);
    let next = match (ev.key().as_str(), at) {
        ("ArrowDown", Some(i)) => (i + 1).min(last),
        ("ArrowUp", Some(i)) => i.saturating_sub(1),
        ("ArrowDown", None) | ("Home", _) => 0,
        ("ArrowUp", None) | ("End", _) => last,
        _ => return,
    };
    ev.prevent_default();
    if let Some(item) = items.get(next) {
        let _ = item.focus();
    }
}
