//! User Accounts: the grid with its 2FA column, the context menu, the confirmation that asks
//! first, and the Info section.

use api::ApiError;
use api::accounts::{AdminAction, MenuItem, PageCursor, SortBy, UserPage, UserRow};
use api::auth::TwoFactorStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::format_time;
use crate::{focus_first, keep_tab_inside, popup_anchor};

use super::{StepUp, StepUpField};

/// A context menu open for one user, at a screen position.
#[derive(Clone, Debug, PartialEq)]
struct OpenMenu {
    row: UserRow,
    x: i32,
    y: i32,
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

/// The grid's state, shared by its parts: signals only, so it is `Copy` and every handler holds
/// it whole.
#[derive(Clone, Copy)]
struct Grid {
    sort: RwSignal<SortBy>,
    descending: RwSignal<bool>,
    at: RwSignal<Option<PageCursor>>,
    page: RwSignal<Option<UserPage>>,
    error: RwSignal<Option<String>>,
    menu: RwSignal<Option<OpenMenu>>,
    confirm: RwSignal<Option<(UserRow, AdminAction)>>,
    confirm_error: RwSignal<Option<String>>,
    step_up: StepUp,
    /// The row to give the keyboard back to once the grid is drawn again (after an action).
    refocus: RwSignal<Option<String>>,
    /// One action at a time: a double click changes the user once.
    busy: RwSignal<bool>,
}

impl Grid {
    fn new() -> Self {
        Grid {
            sort: RwSignal::new(SortBy::Name),
            descending: RwSignal::new(false),
            at: RwSignal::new(None),
            page: RwSignal::new(None),
            error: RwSignal::new(None),
            menu: RwSignal::new(None),
            confirm: RwSignal::new(None),
            confirm_error: RwSignal::new(None),
            step_up: StepUp::new(),
            refocus: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    fn reload(self) {
        spawn_local(async move {
            let asked = api::accounts::ListUsers {
                sort: self.sort.get_untracked(),
                descending: self.descending.get_untracked(),
                at: self.at.get_untracked(),
            };
            match call(asked).await {
                Ok(p) => {
                    self.page.set(Some(p));
                    // The dialog may have closed meanwhile: nothing to focus then.
                    if let Some(email) = self.refocus.try_get_untracked().flatten() {
                        self.refocus.set(None);
                        focus_row(&email);
                    }
                }
                Err(e) => self.error.set(Some(e.to_string())),
            }
        })
    }

    fn sort_by(self, by: SortBy) {
        if self.sort.get_untracked() == by {
            self.descending.update(|d| *d = !*d);
        } else {
            self.sort.set(by);
            self.descending.set(false);
        }
        self.at.set(None);
        self.reload();
    }

    /// Open menus take keyboard focus on their first available item (as does the confirmation,
    /// in `choose`), and Escape closes the menu (or the confirmation) before it closes the dialog.
    fn open_menu(self, open: OpenMenu) {
        self.menu.set(Some(open));
        focus_first(".context-menu [role=menuitem]:not(.disabled)");
    }

    /// Closing the menu gives the keyboard back to its row.
    fn close_menu(self) {
        if let Some(open) = self.menu.get_untracked() {
            self.menu.set(None);
            focus_row(&open.row.email);
        }
    }

    /// Closing the confirmation, like the menu, gives the keyboard back to the user's row (so
    /// Escape then closes the dialog).
    fn close_confirm(self) {
        if let Some((row, _)) = self.confirm.try_get_untracked().flatten() {
            self.confirm.set(None);
            focus_row(&row.email);
        }
        self.confirm_error.set(None);
        self.step_up.reset();
    }

    fn choose(self, row: UserRow, item: MenuItem) {
        if item.unavailable_because.is_some() {
            return;
        }
        if item.confirm {
            self.menu.set(None);
            self.confirm.set(Some((row, item.action)));
            // The safe choice has the focus: Enter does not lower anyone's security by accident.
            focus_first(".confirm button.safe");
        } else {
            self.run(row, item.action);
        }
    }

    fn run(self, row: UserRow, action: AdminAction) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.menu.set(None);
        self.refocus.set(Some(row.email.clone()));
        self.error.set(None);
        self.confirm_error.set(None);
        spawn_local(async move {
            let id = row.id.clone();
            let result = self.step_up.run(|| call(api::accounts::ActOnUser { user_id: id, action })).await;
            self.busy.set(false);
            match result {
                // The confirmation now asks for a password or passcode.
                Ok(None) => {}
                Err(e)
                    if matches!(e, ApiError::BadRequest { .. } | ApiError::LockedOut { .. })
                        && self.confirm.try_get_untracked().flatten().is_some() =>
                {
                    self.confirm_error.set(Some(e.to_string()));
                }
                Ok(Some(updated)) => {
                    self.close_confirm();
                    // Update the grid at once, then refresh the counts.
                    self.page.update(|p| {
                        if let Some(r) =
                            p.as_mut().and_then(|p| p.rows.iter_mut().find(|r| r.id == updated.id))
                        {
                            *r = updated;
                        }
                    });
                    self.reload();
                }
                Err(e) => {
                    self.refocus.set(None);
                    self.close_confirm();
                    self.error.set(Some(e.to_string()));
                }
            }
        });
    }
}

#[component]
pub(super) fn UserAccounts() -> impl IntoView {
    let grid = Grid::new();
    grid.reload();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let open = grid.menu.get_untracked().is_some() || grid.confirm.get_untracked().is_some();
        if ev.key() == "Escape" && open {
            ev.stop_propagation();
            grid.close_menu();
            grid.close_confirm();
        }
    };
    let header = move |label: &'static str, by: SortBy| {
        let aria = move || match (grid.sort.get() == by, grid.descending.get()) {
            (true, false) => "ascending",
            (true, true) => "descending",
            _ => "none",
        };
        view! {
            <th aria-sort=aria><button type="button" class="sort" on:click=move |_| grid.sort_by(by)>{label}</button></th>
        }
    };
    view! {
        <div on:keydown=on_key>
        <p class="legend">
            "2FA column: " {tick(TwoFactorStatus::Active)} " active · " {tick(TwoFactorStatus::EnabledNotActivated)}
            " enabled, not yet activated · " {tick(TwoFactorStatus::Off)} " off. Right-click a user (or press Shift+F10) for actions."
        </p>
        {move || grid.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
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
            <tbody aria-busy=move || grid.page.get().is_none().to_string()>
                {move || grid.page.get().is_none().then(|| view! { <tr><td colspan="7" class="muted">"Loading users…"</td></tr> })}
                {move || grid.page.get().map(|p| {
                    let ip_on = p.info.ip_verification;
                    p.rows.into_iter().map(move |row| user_row(grid, row, ip_on)).collect_view()
                })}
            </tbody>
        </table>
        {move || grid.page.get().map(|p| pager_and_info(grid, p))}
        {move || grid.menu.get().map(|open| context_menu(grid, open))}
        {move || grid.confirm.get().map(|(row, action)| confirmation(grid, row, action))}
        </div>
    }
}

/// One user's row: right-click, Shift+F10 or the ⋮ button open its menu.
fn user_row(grid: Grid, row: UserRow, ip_on: bool) -> impl IntoView {
    let (r1, r2, r3) = (row.clone(), row.clone(), row.clone());
    let open_at = move |x: i32, y: i32, r: UserRow| grid.open_menu(OpenMenu { row: r, x, y });
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
}

/// The pager and the Info section: account-wide settings and the users per 2FA state.
fn pager_and_info(grid: Grid, p: UserPage) -> impl IntoView {
    let (previous, next) = (p.previous.clone(), p.next.clone());
    let (first, last) = (previous.is_none(), next.is_none());
    // One handler for both buttons: the WASM holds its code once.
    let go = move |at: Option<PageCursor>| {
        move |_| {
            grid.at.set(at.clone());
            grid.reload();
        }
    };
    view! {
        <div class="row pager">
            <button type="button" disabled=first on:click=go(previous)>"Previous"</button>
            <span>{format!("Page {} of {} · {} users", p.page + 1, p.pages, p.total)}</span>
            <button type="button" disabled=last on:click=go(next)>"Next"</button>
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
}

/// The context menu of one user, kept inside the window; unavailable items say why.
fn context_menu(grid: Grid, open: OpenMenu) -> impl IntoView {
    let row = open.row.clone();
    let [left, right, top, bottom] = popup_anchor(open.x, open.y);
    view! {
        <div class="menu-backdrop" on:click=move |_| grid.close_menu()></div>
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
                            on:click=move |_| grid.choose(r.clone(), i.clone())>
                            {item.action.label()}
                        </button>
                        {item.unavailable_because.clone().map(|why| view! { <small class="why">{why}</small> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The modal confirmation of an action that lowers security, asking for a step-up if needed.
fn confirmation(grid: Grid, row: UserRow, action: AdminAction) -> impl IntoView {
    let r = row.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        grid.run(r.clone(), action);
    };
    let step_up = grid.step_up;
    view! {
        <div class="backdrop confirm-backdrop">
        <form class="dialog confirm" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
            on:submit=submit on:keydown=move |ev| keep_tab_inside(&ev)>
            <h3 id="confirm-title">{format!("{} for {}?", action.label(), row.name)}</h3>
            <p>"This lowers the security of their login. They will be told by email, and the change is written to the audit log."</p>
            <StepUpField step_up />
            {move || grid.confirm_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="row">
                <button type="submit" class="primary" disabled=move || grid.busy.get()>{action.label()}</button>
                <button type="button" class="safe" on:click=move |_| grid.close_confirm()>"Cancel"</button>
            </div>
        </form>
        </div>
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
