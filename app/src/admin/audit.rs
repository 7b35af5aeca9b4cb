//! The audit log: every security event in words, filtered by user and event.

use api::accounts::{AuditAction, AuditPage, AuditRow, SortBy, UserRow};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::format_time;

/// The log's filters, the events shown and where the older ones start.
#[derive(Clone, Copy)]
struct Audit {
    users: RwSignal<Vec<UserRow>>,
    user_filter: RwSignal<String>,
    action_filter: RwSignal<String>,
    rows: RwSignal<Vec<AuditRow>>,
    next: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
}

impl Audit {
    fn new() -> Self {
        Audit {
            users: RwSignal::new(Vec::new()),
            user_filter: RwSignal::new(String::new()),
            action_filter: RwSignal::new(String::new()),
            rows: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    /// The newest events that pass the filters, or (`more`) the next older ones.
    fn load(self, more: bool) {
        let cursor = if more { self.next.get_untracked() } else { None };
        let (user, action) = (self.user_filter.get_untracked(), self.action_filter.get_untracked());
        spawn_local(async move {
            match call(api::accounts::AuditLog { user_id: Some(user), action: Some(action), cursor }).await {
                Ok(AuditPage { rows: page, next }) => {
                    self.rows.update(|r| {
                        if !more {
                            r.clear();
                        }
                        r.extend(page);
                    });
                    self.next.set(next);
                }
                Err(e) => self.error.set(Some(e.to_string())),
            }
        });
    }

    /// Every user of the account, page by page, for the user filter.
    fn load_users(self) {
        spawn_local(async move {
            let mut all = Vec::new();
            let mut at = None;
            while let Ok(p) =
                call(api::accounts::ListUsers { sort: SortBy::Name, descending: false, at }).await
            {
                all.extend(p.rows);
                match p.next {
                    Some(next) => at = Some(next),
                    None => break,
                }
            }
            self.users.set(all);
        });
    }

    /// A filter's choice: the log starts again from the newest event.
    fn filter_by(self, filter: RwSignal<String>, ev: leptos::ev::Event) {
        filter.set(event_target_value(&ev));
        self.load(false);
    }
}

#[component]
pub(super) fn AuditLog() -> impl IntoView {
    let audit = Audit::new();
    audit.load(false);
    audit.load_users();
    // `<Show>` spelled out (its generic children code is large): the button stays the same
    // element while there are older events, so it keeps focus after a click.
    let has_older = Memo::new(move |_| audit.next.get().is_some());
    view! {
        {filters(audit)}
        {move || audit.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <table class="grid" aria-label="Audit log">
            <thead><tr><th>"When"</th><th>"Event"</th><th>"By"</th><th>"About"</th><th>"IP address"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {move || audit.rows.get().into_iter().map(|r| view! {
                    <tr data-testid="audit-row">
                        <td>{format_time(r.at)}</td><td title=r.action.clone() data-code=r.action>{r.label}</td><td>{r.actor}</td>
                        <td>{r.subject}</td><td>{r.client_ip}</td><td>{r.detail}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {move || has_older.get().then(|| view! {
            <button type="button" on:click=move |_| audit.load(true)>"Show older events"</button>
        })}
    }
}

fn filters(audit: Audit) -> impl IntoView {
    view! {
        <div class="row filters">
            <label>"User "
                <select on:change=move |ev| audit.filter_by(audit.user_filter, ev)>
                    <option value="">"Everyone"</option>
                    {move || audit.users.get().into_iter().map(|u| view! { <option value=u.id.clone()>{u.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Event "
                <select on:change=move |ev| audit.filter_by(audit.action_filter, ev)>
                    <option value="">"All events"</option>
                    {AuditAction::ALL.iter().map(|a| view! { <option value=a.code()>{a.label()}</option> }).collect_view()}
                </select>
            </label>
        </div>
    }
}
